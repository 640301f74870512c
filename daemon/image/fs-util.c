/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fs-util.h"
#include "macro.h"

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        if (type == FTW_DP || type == FTW_D)
                return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
        return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

int rm_rf(const char *path) {
        struct stat st;

        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : -errno;

        if (!S_ISDIR(st.st_mode))
                return unlink(path) < 0 ? -errno : 0;

        /* Directories without write or search permission (mode 0000 from a
         * layer) are no obstacle: the store runs as root. */
        if (nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0)
                return errno > 0 ? -errno : -EIO;
        return 0;
}

int mkdir_p(const char *path) {
        _cleanup_free_ char *p = strdup(path);
        if (!p)
                return -ENOMEM;

        for (char *s = p + 1;; s++) {
                if (*s != '/' && *s != 0)
                        continue;

                char saved = *s;
                *s = 0;
                if (mkdir(p, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *s = saved;
                if (saved == 0)
                        break;
        }
        return 0;
}

int read_full_file(int dir_fd, const char *path, size_t max_size, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buffer = NULL;
        struct stat st;
        size_t size = 0;

        fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if ((uint64_t)st.st_size > max_size)
                return -EFBIG;

        buffer = malloc((size_t)st.st_size + 1);
        if (!buffer)
                return -ENOMEM;

        while (size < (size_t)st.st_size) {
                ssize_t n = read(fd, buffer + size, (size_t)st.st_size - size);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                size += (size_t)n;
        }
        buffer[size] = 0;

        *ret = TAKE_PTR(buffer);
        if (ret_size)
                *ret_size = size;
        return 0;
}

int write_file_atomic(int dir_fd, const char *path, const void *data, size_t size) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -1;
        const char *p = data;

        if (asprintf(&tmp, "%s.tmp-%d", path, (int)getpid()) < 0)
                return -ENOMEM;

        fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return -errno;

        while (size > 0) {
                ssize_t n = write(fd, p, size);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        int r = -errno;
                        (void)unlinkat(dir_fd, tmp, 0);
                        return r;
                }
                p += n;
                size -= (size_t)n;
        }

        if (fsync(fd) < 0 || renameat(dir_fd, tmp, dir_fd, path) < 0) {
                int r = -errno;
                (void)unlinkat(dir_fd, tmp, 0);
                return r;
        }
        return 0;
}
