/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Registry access through skopeo. skopeo runs with a private HOME and
 * TMPDIR and always with an explicit authfile, so credentials of the
 * calling user or of root never leak into a pull. Credentials are written
 * to a 0600 file and never appear on a command line or in a log. */

#include <stdbool.h>
#include <stddef.h>

#include "image-store.h"

typedef struct RegistryReference {
        char *host; /* "host[:port]" */
        char *repository;
        char *tag;    /* NULL when digest is set */
        char *digest; /* NULL when tag is set */
} RegistryReference;

void registry_reference_done(RegistryReference *r);

/* Parses "host[:port]/repository[:tag|@sha256:...]"; the tag defaults to
 * "latest". The host must contain a '.' or a ':' or be "localhost", so a
 * Docker Hub short name is not mistaken for a host. */
int registry_reference_parse(const char *identifier, RegistryReference *ret);

typedef struct SkopeoContext {
        const char *skopeo;                     /* path of the skopeo binary */
        const char *work_dir;                   /* private 0700 directory, removed by the caller */
        bool insecure;                          /* plain HTTP and unverified TLS allowed */
        const RegistryCredentials *credentials; /* may be NULL */
} SkopeoContext;

/* Copies the image for the host platform into an OCI layout at
 * <work_dir>/layout with tag "image". */
int registry_copy_to_layout(const SkopeoContext *c, const RegistryReference *ref, char **ret_layout_dir,
                            char **ret_error);

/* Returns the registry's digest of the image manifest for the host
 * platform, descending through an image index. */
int registry_resolve_digest(const SkopeoContext *c, const RegistryReference *ref, char **ret_digest,
                            char **ret_error);
