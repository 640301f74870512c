/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The content-addressed image store. Below its root directory:
 *
 *   blobs/sha256/<hex>           manifests, configurations and compressed
 *                                layers, each verified against its digest
 *   layers/sha256/<diff_id hex>/ each layer unpacked once and shared by
 *                                every image that contains it; the daemon
 *                                stacks these as overlayfs lowerdirs
 *   refs/sha256/<hex>.json       one file per pulled image manifest
 *   tmp/                         private work directories of running pulls
 *
 * Every call blocks (the daemon runs them on a worker thread) and may be
 * made from several threads: one mutex serializes pulls, loads and garbage
 * collection. Errors meant for users come back as one sentence in
 * *ret_error naming the image reference and the cause. */

#include <stdint.h>

#include "image-config.h"

typedef struct ImageStore ImageStore;

typedef struct ImageStoreOptions {
        const char *root;
        char **insecure_registries; /* host[:port] allowed over plain HTTP, NULL-terminated, may be NULL */
        uint64_t max_layer_size;    /* uncompressed bytes per layer; 0 means no limit */
        uint64_t max_layer_entries; /* tar entries per layer; 0 means no limit */
        const char *skopeo;         /* NULL means "/usr/bin/skopeo" */
} ImageStoreOptions;

typedef struct RegistryCredentials {
        const char *username;
        const char *password;
} RegistryCredentials;

/* Creates the directory tree below o->root when missing and removes the
 * work directories that an interrupted pull left in tmp/. */
int image_store_open(const ImageStoreOptions *o, ImageStore **ret);
ImageStore *image_store_free(ImageStore *s);

/* Fetches an image, verifies every blob and unpacks the layers not yet in
 * the store. repository_type is "OCI_LAYOUT" (identifier
 * "oci:/path[:tag|@sha256:...]") or "REGISTRY", "ECR", "ECR_PUBLIC"
 * (identifier "host[:port]/repository[:tag|@sha256:...]"). creds may be
 * NULL. */
int image_store_pull(ImageStore *s, const char *identifier, const char *repository_type,
                     const RegistryCredentials *creds, ResolvedImage **ret, char **ret_error);

/* Returns the digest of the image manifest the identifier currently names,
 * for the host platform, without downloading layers. */
int image_store_resolve_digest(ImageStore *s, const char *identifier, const char *repository_type,
                               const RegistryCredentials *creds, char **ret_manifest_digest,
                               char **ret_error);

/* Returns an image pulled earlier, from the store alone (no network). Fails
 * with -ENOENT when the manifest was never pulled or was collected. */
int image_store_load(ImageStore *s, const char *manifest_digest, ResolvedImage **ret, char **ret_error);

/* Forgets every pulled manifest not in keep_manifest_digests (NULL-terminated,
 * may be NULL), then removes blobs and layers no remaining manifest uses.
 * Returns the number of removed blobs and layers. The caller must keep the
 * manifests of every running instance. */
int image_store_gc(ImageStore *s, char *const *keep_manifest_digests);

static inline void image_store_freep(ImageStore **s) {
        image_store_free(*s);
}
static inline void resolved_image_freep(ResolvedImage **i) {
        resolved_image_free(*i);
}
