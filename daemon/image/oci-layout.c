/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "digest.h"
#include "fs-util.h"
#include "macro.h"
#include "oci-json.h"
#include "oci-layout.h"

_printf_(2, 3) static int set_error(char **ret_error, const char *format, ...) {
        va_list ap;
        char *s = NULL;

        va_start(ap, format);
        if (vasprintf(&s, format, ap) < 0)
                s = NULL;
        va_end(ap);

        free(*ret_error);
        *ret_error = s;
        return -EBADMSG;
}

static bool tag_is_valid(const char *tag) {
        /* The distribution spec's tag grammar: [A-Za-z0-9_][A-Za-z0-9._-]{0,127}. */
        size_t n = strlen(tag);

        if (n == 0 || n > 128 || tag[0] == '.' || tag[0] == '-')
                return false;
        return strspn(tag, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

int oci_layout_reference_parse(const char *identifier, char **ret_path, char **ret_tag, char **ret_digest) {
        _cleanup_free_ char *path = NULL, *tag = NULL, *digest = NULL;
        const char *rest, *at, *slash, *colon;

        if (strncmp(identifier, "oci:", 4) != 0)
                return -EINVAL;
        rest = identifier + 4;
        if (rest[0] != '/')
                return -EINVAL;

        at = strstr(rest, "@sha256:");
        if (at) {
                if (!digest_is_valid(at + 1))
                        return -EINVAL;
                path = strndup(rest, (size_t)(at - rest));
                digest = strdup(at + 1);
                if (!path || !digest)
                        return -ENOMEM;
        } else {
                slash = strrchr(rest, '/');
                colon = strrchr(rest, ':');
                if (colon && colon > slash) {
                        if (!tag_is_valid(colon + 1))
                                return -EINVAL;
                        path = strndup(rest, (size_t)(colon - rest));
                        tag = strdup(colon + 1);
                        if (!path || !tag)
                                return -ENOMEM;
                } else {
                        path = strdup(rest);
                        if (!path)
                                return -ENOMEM;
                }
        }

        if (path[0] == 0 || strlen(path) >= 4096)
                return -EINVAL;

        *ret_path = TAKE_PTR(path);
        *ret_tag = TAKE_PTR(tag);
        *ret_digest = TAKE_PTR(digest);
        return 0;
}

int oci_layout_open(const char *path, int *ret_fd, char **ret_error) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *data = NULL;
        struct json_object *o, *version;
        int r;

        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                r = -errno;
                set_error(ret_error, "OCI layout directory %s cannot be opened: %s", path, strerror(errno));
                return r;
        }

        r = read_full_file(fd, "oci-layout", 4096, &data, NULL);
        if (r < 0) {
                set_error(ret_error, "%s is not an OCI layout: oci-layout cannot be read: %s", path,
                          strerror(-r));
                return r;
        }

        o = json_tokener_parse(data);
        if (!o || !json_object_object_get_ex(o, "imageLayoutVersion", &version) ||
            !json_object_is_type(version, json_type_string) ||
            strncmp(json_object_get_string(version), "1.", 2) != 0) {
                json_object_put(o);
                return set_error(ret_error, "%s/oci-layout does not declare imageLayoutVersion 1.x", path);
        }
        json_object_put(o);

        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int blob_path(const char *digest, char **ret) {
        if (!digest_is_valid(digest))
                return -EINVAL;
        return asprintf(ret, "blobs/sha256/%s", digest_hex(digest)) < 0 ? -ENOMEM : 0;
}

int oci_layout_open_blob(int layout_fd, const char *digest) {
        _cleanup_free_ char *path = NULL;
        int r, fd;

        r = blob_path(digest, &path);
        if (r < 0)
                return r;
        fd = openat(layout_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        return fd < 0 ? -errno : fd;
}

int oci_layout_read_blob(int layout_fd, const char *digest, uint64_t expected_size, char **ret,
                         size_t *ret_size, char **ret_error) {
        _cleanup_free_ char *path = NULL, *data = NULL;
        char actual[DIGEST_STRING_SIZE];
        size_t size;
        int r;

        r = blob_path(digest, &path);
        if (r < 0)
                return r;

        r = read_full_file(layout_fd, path, OCI_MAX_JSON_SIZE, &data, &size);
        if (r == -ENOENT) {
                (void)set_error(ret_error, "blob %s is missing from the layout", digest);
                return -ENOENT;
        }
        if (r == -EFBIG)
                return set_error(ret_error, "blob %s is larger than %u bytes", digest, OCI_MAX_JSON_SIZE);
        if (r < 0) {
                (void)set_error(ret_error, "blob %s cannot be read: %s", digest, strerror(-r));
                return r;
        }

        if (expected_size != UINT64_MAX && size != expected_size)
                return set_error(ret_error, "blob %s has %zu bytes, its descriptor says %" PRIu64, digest,
                                 size, expected_size);

        r = digest_buffer(data, size, actual);
        if (r < 0)
                return r;
        if (!streq(actual, digest))
                return set_error(ret_error, "digest mismatch: blob %s has content with digest %s", digest,
                                 actual);

        *ret = TAKE_PTR(data);
        *ret_size = size;
        return 0;
}

/* Continues oci_layout_resolve() from a document already read and verified
 * (an index or manifest with digest). */
static int resolve_document(int layout_fd, const char *digest, char *data, size_t size,
                            char **ret_manifest_digest, char **ret_manifest, size_t *ret_manifest_size,
                            char **ret_error) {
        _cleanup_(oci_index_freep) OciIndex *index = NULL;
        _cleanup_free_ char *media_type = NULL, *clause = NULL, *manifest = NULL, *manifest_digest = NULL;
        const OciDescriptor *d;
        OciMediaKind kind;
        size_t manifest_size;
        int r;

        r = oci_document_media_type(data, size, &media_type, &kind);
        if (r < 0)
                return set_error(ret_error, "document %s is not valid JSON", digest);

        if (kind != OCI_MEDIA_INDEX) {
                if (kind != OCI_MEDIA_MANIFEST)
                        return set_error(ret_error, "media type %s of %s is not supported",
                                         strna(media_type), digest);

                manifest_digest = strdup(digest);
                manifest = malloc(size + 1);
                if (!manifest_digest || !manifest)
                        return -ENOMEM;
                memcpy(manifest, data, size);
                manifest[size] = 0;
                manifest_size = size;
        } else {
                r = oci_index_parse(data, size, &index, &clause);
                if (r < 0)
                        return set_error(ret_error, "image index %s is invalid: %s", digest, strna(clause));

                d = oci_index_find_host_platform(index);
                if (!d)
                        return set_error(ret_error, "image index %s has no manifest for linux/%s", digest,
                                         oci_host_architecture());

                r = oci_layout_read_blob(layout_fd, d->digest, d->size, &manifest, &manifest_size,
                                         ret_error);
                if (r < 0)
                        return r;
                manifest_digest = strdup(d->digest);
                if (!manifest_digest)
                        return -ENOMEM;
        }

        *ret_manifest_digest = TAKE_PTR(manifest_digest);
        *ret_manifest = TAKE_PTR(manifest);
        *ret_manifest_size = manifest_size;
        return 0;
}

int oci_layout_resolve(int layout_fd, const char *tag, const char *digest, char **ret_manifest_digest,
                       char **ret_manifest, size_t *ret_manifest_size, char **ret_error) {
        _cleanup_(oci_index_freep) OciIndex *index = NULL;
        _cleanup_free_ char *index_data = NULL, *clause = NULL, *data = NULL;
        const OciDescriptor *d = NULL;
        uint64_t expected_size = UINT64_MAX;
        size_t size;
        int r;

        r = read_full_file(layout_fd, "index.json", OCI_MAX_JSON_SIZE, &index_data, &size);
        if (r < 0) {
                (void)set_error(ret_error, "index.json cannot be read: %s", strerror(-r));
                return r;
        }

        r = oci_index_parse(index_data, size, &index, &clause);
        if (r < 0)
                return set_error(ret_error, "index.json is invalid: %s", strna(clause));

        if (tag) {
                d = oci_index_find_tag(index, tag);
                if (!d) {
                        (void)set_error(ret_error, "tag %s not found in index.json", tag);
                        return -ENOENT;
                }
        } else if (digest) {
                /* Any blob of the layout can be named by digest, listed or not. */
                for (size_t i = 0; i < index->n_manifests; i++)
                        if (streq(index->manifests[i].digest, digest))
                                d = &index->manifests[i];
        } else {
                if (index->n_manifests != 1)
                        return set_error(ret_error,
                                         "no tag given and index.json lists %zu images, expected 1",
                                         index->n_manifests);
                d = &index->manifests[0];
        }

        if (d) {
                digest = d->digest;
                expected_size = d->size;
                if (oci_media_kind(d->media_type) != OCI_MEDIA_INDEX &&
                    oci_media_kind(d->media_type) != OCI_MEDIA_MANIFEST)
                        return set_error(ret_error, "media type %s of %s is not supported", d->media_type,
                                         digest);
        }

        r = oci_layout_read_blob(layout_fd, digest, expected_size, &data, &size, ret_error);
        if (r < 0)
                return r;

        return resolve_document(layout_fd, digest, data, size, ret_manifest_digest, ret_manifest,
                                ret_manifest_size, ret_error);
}
