/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the runtime needs from an image: the fields of the OCI image
 * configuration's "config" object, and where its unpacked layers are. */

#include <stdint.h>

typedef struct ImageConfig {
        char **entrypoint; /* NULL-terminated, may be NULL */
        char **cmd;        /* NULL-terminated, may be NULL */
        char **env;        /* "KEY=VALUE" strings, may be NULL */
        char *working_dir; /* may be NULL */
        char *user;        /* "uid[:gid]" or a name, may be NULL */
} ImageConfig;

typedef struct ResolvedImage {
        char *reference;       /* the ImageIdentifier as the user gave it */
        char *manifest_digest; /* "sha256:..." of the platform manifest */
        /* Digest of that manifest at the source, as image_store_resolve_digest()
         * returns it. It differs from manifest_digest when skopeo converted a
         * Docker image to OCI media types. NULL when unknown (image_store_load). */
        char *source_digest;
        char *config_digest;
        char **layer_dirs; /* unpacked layer directories, bottom layer first */
        ImageConfig config;
} ResolvedImage;

void image_config_done(ImageConfig *c);
ResolvedImage *resolved_image_free(ResolvedImage *i);
