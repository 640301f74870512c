/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* Runs argv[0] (an absolute path) with argv, feeding 'input' (may be NULL)
 * to its stdin and collecting its stdout into *ret_output and its stderr
 * into *ret_errors (either may be NULL to discard). Waits for it. Returns
 * its exit status (0..255), or a negative errno when it could not be run
 * or was killed by a signal. The child gets no other file descriptors and
 * an environment with only PATH and LANG=C. */
int process_run(char *const argv[], const char *input, size_t input_size, char **ret_output,
                char **ret_errors);
