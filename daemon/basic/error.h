/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "macro.h"

/* Stores a formatted message in *ret_error (when ret_error is not NULL)
 * and returns r, so a function can fail with
 *         return error_set(ret_error, -EINVAL, "Port %s is invalid.", port);
 * On allocation failure *ret_error stays NULL and r is still returned. */
int error_set(char **ret_error, int r, const char *format, ...) _printf_(3, 4);
