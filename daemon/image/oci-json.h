/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Parsers for the JSON documents of the OCI image specification (v1.0):
 * image index, image manifest and image configuration. Docker's schema 2
 * manifest list and manifest are accepted too, because they carry the same
 * fields under other media types. Input is untrusted: every parser checks
 * types and digests, and error texts name the offending field. */

#include <stddef.h>
#include <stdint.h>

#include "image-config.h"

#define OCI_MAX_JSON_SIZE (4U * 1024U * 1024U)

typedef enum OciMediaKind {
        OCI_MEDIA_UNKNOWN,
        OCI_MEDIA_INDEX,
        OCI_MEDIA_MANIFEST,
        OCI_MEDIA_CONFIG,
        OCI_MEDIA_LAYER, /* tar, tar+gzip or tar+zstd; libarchive detects which */
} OciMediaKind;

OciMediaKind oci_media_kind(const char *media_type);

typedef struct OciDescriptor {
        char *media_type;
        char *digest; /* valid "sha256:<hex>" */
        uint64_t size;
        char *ref_name; /* annotation org.opencontainers.image.ref.name, may be NULL */
        char *os;       /* platform fields, each may be NULL */
        char *architecture;
        char *variant;
} OciDescriptor;

typedef struct OciIndex {
        OciDescriptor *manifests;
        size_t n_manifests;
} OciIndex;

typedef struct OciManifest {
        char *media_type; /* may be NULL: the field is optional in OCI manifests */
        OciDescriptor config;
        OciDescriptor *layers;
        size_t n_layers;
} OciManifest;

typedef struct OciImageConfig {
        ImageConfig config;
        char *os;
        char *architecture;
        char *variant;   /* may be NULL */
        char **diff_ids; /* rootfs.diff_ids, bottom layer first */
        size_t n_diff_ids;
} OciImageConfig;

/* Each parser reads size bytes (no NUL needed) and on failure stores a
 * lowercase clause without a final period in *ret_error, for the caller to
 * place into a sentence naming the image. */
int oci_index_parse(const void *data, size_t size, OciIndex **ret, char **ret_error);
int oci_manifest_parse(const void *data, size_t size, OciManifest **ret, char **ret_error);
int oci_image_config_parse(const void *data, size_t size, OciImageConfig **ret, char **ret_error);

/* Stores the "mediaType" field of a manifest or index document (NULL when
 * absent) and its kind. The field is optional in OCI documents, so without
 * it a "manifests" array marks an index and "config" plus "layers" mark a
 * manifest. */
int oci_document_media_type(const void *data, size_t size, char **ret_media_type, OciMediaKind *ret_kind);

OciIndex *oci_index_free(OciIndex *i);
OciManifest *oci_manifest_free(OciManifest *m);
OciImageConfig *oci_image_config_free(OciImageConfig *c);

static inline void oci_index_freep(OciIndex **i) {
        oci_index_free(*i);
}
static inline void oci_manifest_freep(OciManifest **m) {
        oci_manifest_free(*m);
}
static inline void oci_image_config_freep(OciImageConfig **c) {
        oci_image_config_free(*c);
}

/* Returns the entry whose ref.name annotation equals tag, or NULL. */
const OciDescriptor *oci_index_find_tag(const OciIndex *index, const char *tag);

/* Returns the manifest entry of index for linux on the host's architecture
 * (see oci_host_architecture()), or NULL. */
const OciDescriptor *oci_index_find_host_platform(const OciIndex *index);

/* Returns the host's architecture and variant in Go's naming ("amd64",
 * "arm64", "arm" with variant "v7"), which OCI platforms use. */
const char *oci_host_architecture(void);
const char *oci_host_variant(void);
