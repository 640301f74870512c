/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The root file system of one instance: an overlayfs mount whose lower
 * layers are the image's unpacked layer directories, shared read-only
 * between instances, and whose upper layer is private to the instance.
 * Layers may contain overlayfs whiteouts (character devices 0:0) and
 * "trusted.overlay.opaque" extended attributes, as the image unpacker
 * writes them.
 *
 *         instance_dir/upper   the instance's writes
 *         instance_dir/work    overlayfs's work directory
 *         instance_dir/rootfs  the merged tree, the container's root */

/* Creates instance_dir (if missing) and its upper, work and rootfs
 * directories, and mounts the overlay on instance_dir/rootfs. layer_dirs
 * is NULL-terminated and lists absolute paths bottom layer first, as in
 * ResolvedImage. Returns 0 and the merged directory's path in
 * *ret_merged, or a negative errno and a sentence in *ret_error. */
int rootfs_mount(char *const *layer_dirs, const char *instance_dir, char **ret_merged, char **ret_error);

/* Unmounts instance_dir/rootfs (detaching it lazily when it is busy) and
 * removes the upper, work and rootfs directories, then instance_dir if
 * that leaves it empty. Returns 0 when they are already gone. Never
 * follows a mount point or symbolic link while removing. */
int rootfs_umount(const char *instance_dir);
