/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* Removes path and everything below it without following symlinks or
 * crossing mount points. A missing path is not an error. */
int rm_rf(const char *path);

/* Creates path and its missing parents with mode 0755. */
int mkdir_p(const char *path);

/* Reads a whole regular file of at most max_size bytes. The buffer gets a
 * terminating NUL that *ret_size does not count. */
int read_full_file(int dir_fd, const char *path, size_t max_size, char **ret, size_t *ret_size);

/* Writes data to dir_fd/path through a temporary file and rename(), so
 * readers see the old content or the new one, never a part. */
int write_file_atomic(int dir_fd, const char *path, const void *data, size_t size);
