/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Mount strategies of rootfs_mount(), exposed for the unit tests. */

typedef enum RootfsMountMethod {
        /* Try each of the following in turn. */
        ROOTFS_MOUNT_AUTO,
        /* fsopen()/fsconfig() with one "lowerdir+" per layer (Linux 6.8 and
         * later); no limit on the number of layers but the kernel's. */
        ROOTFS_MOUNT_FSCONFIG,
        /* mount(2) with one option string, which the kernel limits to one
         * page. */
        ROOTFS_MOUNT_LEGACY,
        /* mount(2) in a child process that changes into the layers' common
         * parent directory first, so lowerdir contains relative paths. */
        ROOTFS_MOUNT_LEGACY_RELATIVE,
} RootfsMountMethod;

int rootfs_mount_with(char *const *layer_dirs, const char *instance_dir, RootfsMountMethod method,
                      char **ret_merged, char **ret_error);
