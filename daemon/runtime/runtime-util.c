/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <sys/syscall.h>

#include "runtime-util.h"

int open_in_root(const char *root, const char *path, int flags) {
        _cleanup_close_ int root_fd = -1;
        struct open_how how = {
                .flags = (uint64_t)(flags | O_CLOEXEC),
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        int fd;

        root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return -errno;

        /* glibc 2.36 has no openat2() wrapper. */
        fd = (int)syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
        if (fd < 0)
                return -errno;

        return fd;
}
