/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "macro.h"

/* Stores a formatted message in *ret_error and returns r, so a function
 * can fail with
 *         return error_set(ret_error, -EINVAL, "Port %s is invalid.", port);
 * The first message wins: when *ret_error is already set (by a callee,
 * whose message is the more specific one) or ret_error is NULL, nothing is
 * stored. On allocation failure *ret_error stays NULL. */
int error_set(char **ret_error, int r, const char *format, ...) _printf_(3, 4);
