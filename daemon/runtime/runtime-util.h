/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Helpers private to daemon/runtime/. */

#include <json-c/json.h>
#include <stdbool.h>

#include "error.h"
#include "macro.h"

static inline void json_object_putp(json_object **p) {
        if (*p)
                json_object_put(*p);
}
#define _cleanup_json_ _cleanup_(json_object_putp)

/* Opens path inside the directory tree root as if root were "/": symbolic
 * links and ".." cannot leave root (openat2() with RESOLVE_IN_ROOT). Returns
 * a file descriptor or a negative errno. */
int open_in_root(const char *root, const char *path, int flags);
