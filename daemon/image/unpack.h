/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

typedef struct UnpackLimits {
        uint64_t max_size;    /* bytes of the uncompressed tar stream; 0 means no limit */
        uint64_t max_entries; /* tar entries; 0 means no limit */
        const char *diff_id;  /* "sha256:..." the uncompressed stream must hash to; NULL skips the check */
} UnpackLimits;

/* Unpacks the layer read from blob_fd (tar, tar+gzip or tar+zstd, detected
 * from its content) into target_dir, which must not exist yet. OCI
 * whiteouts become overlayfs whiteouts (".wh.NAME" a 0:0 character device,
 * ".wh..wh..opq" the xattr trusted.overlay.opaque=y on its directory).
 *
 * The work happens in a sandboxed child process, in a temporary directory
 * next to target_dir that is renamed into place only on success. Returns 0;
 * -EBADMSG when the layer was rejected or its diff_id did not match, with a
 * sentence naming the entry and the reason in *ret_error; -EEXIST when
 * target_dir already exists; or another negative errno (with *ret_error set
 * when the child could say more). Needs root (CAP_SYS_ADMIN for the mount
 * namespace, the trusted.* xattr and mknod). */
int layer_unpack(int blob_fd, const char *target_dir, const UnpackLimits *limits, char **ret_error);
