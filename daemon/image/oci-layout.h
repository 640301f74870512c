/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Reading OCI image layouts (a directory with oci-layout, index.json and
 * blobs/sha256/), the form the store imports every image from: local
 * layouts directly, registry images after skopeo copied them into one.
 * Errors come back as a lowercase clause without a final period, which the
 * caller places into a sentence naming the image. */

#include <stddef.h>
#include <stdint.h>

/* Splits "oci:/path[:tag|@sha256:...]". A missing tag and digest leave both
 * NULL. Returns -EINVAL for other forms. */
int oci_layout_reference_parse(const char *identifier, char **ret_path, char **ret_tag, char **ret_digest);

/* Opens the layout directory and checks its oci-layout file. */
int oci_layout_open(const char *path, int *ret_fd, char **ret_error);

/* Reads a small blob (a manifest, an index or a configuration), checking
 * its size (UINT64_MAX skips that) and digest. */
int oci_layout_read_blob(int layout_fd, const char *digest, uint64_t expected_size, char **ret,
                         size_t *ret_size, char **ret_error);

/* Opens a blob of the layout for reading. */
int oci_layout_open_blob(int layout_fd, const char *digest);

/* Finds the image manifest for tag or digest (or the only image of the
 * index when both are NULL), descending through an image index to the
 * entry for linux on the host architecture. Returns the manifest's digest
 * and its verified content. */
int oci_layout_resolve(int layout_fd, const char *tag, const char *digest, char **ret_manifest_digest,
                       char **ret_manifest, size_t *ret_manifest_size, char **ret_error);
