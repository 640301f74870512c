/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>

#include "digest.h"
#include "macro.h"
#include "oci-json.h"

#define JSON_MAX_DEPTH  32
#define MAX_DESCRIPTORS 4096

static const struct {
        const char *media_type;
        OciMediaKind kind;
} media_types[] = {
        {"application/vnd.oci.image.index.v1+json", OCI_MEDIA_INDEX},
        {"application/vnd.docker.distribution.manifest.list.v2+json", OCI_MEDIA_INDEX},
        {"application/vnd.oci.image.manifest.v1+json", OCI_MEDIA_MANIFEST},
        {"application/vnd.docker.distribution.manifest.v2+json", OCI_MEDIA_MANIFEST},
        {"application/vnd.oci.image.config.v1+json", OCI_MEDIA_CONFIG},
        {"application/vnd.docker.container.image.v1+json", OCI_MEDIA_CONFIG},
        {"application/vnd.oci.image.layer.v1.tar", OCI_MEDIA_LAYER},
        {"application/vnd.oci.image.layer.v1.tar+gzip", OCI_MEDIA_LAYER},
        {"application/vnd.oci.image.layer.v1.tar+zstd", OCI_MEDIA_LAYER},
        {"application/vnd.oci.image.layer.nondistributable.v1.tar", OCI_MEDIA_LAYER},
        {"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", OCI_MEDIA_LAYER},
        {"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", OCI_MEDIA_LAYER},
        {"application/vnd.docker.image.rootfs.diff.tar.gzip", OCI_MEDIA_LAYER},
        {"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", OCI_MEDIA_LAYER},
};

OciMediaKind oci_media_kind(const char *media_type) {
        if (!media_type)
                return OCI_MEDIA_UNKNOWN;
        for (size_t i = 0; i < ELEMENTSOF(media_types); i++)
                if (streq(media_types[i].media_type, media_type))
                        return media_types[i].kind;
        return OCI_MEDIA_UNKNOWN;
}

const char *oci_host_architecture(void) {
#if defined(__x86_64__)
        return "amd64";
#elif defined(__aarch64__)
        return "arm64";
#elif defined(__arm__)
        return "arm";
#elif defined(__i386__)
        return "386";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        return "ppc64le";
#elif defined(__s390x__)
        return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
        return "riscv64";
#else
#error "unknown architecture: add its Go GOARCH name here"
#endif
}

const char *oci_host_variant(void) {
#if defined(__arm__) && defined(__ARM_ARCH) && __ARM_ARCH >= 7
        return "v7";
#elif defined(__arm__)
        return "v6";
#else
        return NULL;
#endif
}

_printf_(2, 3) static int set_error(char **ret_error, const char *format, ...) {
        va_list ap;
        char *s = NULL;

        if (!ret_error)
                return -EBADMSG;

        va_start(ap, format);
        if (vasprintf(&s, format, ap) < 0)
                s = NULL;
        va_end(ap);

        free(*ret_error);
        *ret_error = s;
        return -EBADMSG;
}

static void json_object_putp(json_object **o) {
        if (*o)
                json_object_put(*o);
}

/* Parses a complete JSON document whose top level must be an object.
 * Trailing whitespace is allowed, trailing data is not. */
static int json_parse_object(const void *data, size_t size, json_object **ret, char **ret_error) {
        json_tokener *tok;
        json_object *o;
        size_t end;

        if (size > OCI_MAX_JSON_SIZE)
                return set_error(ret_error, "document is larger than %u bytes", OCI_MAX_JSON_SIZE);
        if (size == 0)
                return set_error(ret_error, "document is empty");

        tok = json_tokener_new_ex(JSON_MAX_DEPTH);
        if (!tok)
                return -ENOMEM;

        o = json_tokener_parse_ex(tok, data, (int)size);
        if (!o || json_tokener_get_error(tok) != json_tokener_success) {
                enum json_tokener_error e = json_tokener_get_error(tok);
                json_tokener_free(tok);
                json_object_put(o);
                return set_error(ret_error, "document is not valid JSON (%s)",
                                 e == json_tokener_continue ? "unexpected end of input"
                                                            : json_tokener_error_desc(e));
        }

        end = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);
        for (const char *p = (const char *)data + end; p < (const char *)data + size; p++)
                if (!strchr(" \t\r\n", *p)) {
                        json_object_put(o);
                        return set_error(ret_error, "document has data after the JSON value");
                }

        if (!json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return set_error(ret_error, "document is not a JSON object");
        }

        *ret = o;
        return 0;
}

/* Copies an optional string field. A missing or null field gives NULL. */
static int get_string(json_object *parent, const char *key, const char *what, char **ret, char **ret_error) {
        json_object *v;

        if (!json_object_object_get_ex(parent, key, &v) || json_object_is_type(v, json_type_null)) {
                *ret = NULL;
                return 0;
        }
        if (!json_object_is_type(v, json_type_string))
                return set_error(ret_error, "%s%s is not a string", what, key);

        const char *s = json_object_get_string(v);
        if ((size_t)json_object_get_string_len(v) != strlen(s))
                return set_error(ret_error, "%s%s contains a NUL byte", what, key);

        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

/* Copies an optional array of strings into a NULL-terminated list. */
static int get_strv(json_object *parent, const char *key, char ***ret, size_t *ret_n, char **ret_error) {
        _cleanup_strv_free_ char **l = NULL;
        json_object *v;
        size_t n;

        if (!json_object_object_get_ex(parent, key, &v) || json_object_is_type(v, json_type_null)) {
                *ret = NULL;
                if (ret_n)
                        *ret_n = 0;
                return 0;
        }
        if (!json_object_is_type(v, json_type_array))
                return set_error(ret_error, "%s is not an array", key);

        n = json_object_array_length(v);
        if (n > MAX_DESCRIPTORS)
                return set_error(ret_error, "%s has more than %u elements", key, MAX_DESCRIPTORS);

        l = calloc(n + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;

        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(v, i);
                if (!json_object_is_type(e, json_type_string))
                        return set_error(ret_error, "%s[%zu] is not a string", key, i);
                const char *s = json_object_get_string(e);
                if ((size_t)json_object_get_string_len(e) != strlen(s))
                        return set_error(ret_error, "%s[%zu] contains a NUL byte", key, i);
                l[i] = strdup(s);
                if (!l[i])
                        return -ENOMEM;
        }

        *ret = TAKE_PTR(l);
        if (ret_n)
                *ret_n = n;
        return 0;
}

static void oci_descriptor_done(OciDescriptor *d) {
        free(d->media_type);
        free(d->digest);
        free(d->ref_name);
        free(d->os);
        free(d->architecture);
        free(d->variant);
        *d = (OciDescriptor){};
}

static int descriptor_parse(json_object *o, const char *what, OciDescriptor *ret, char **ret_error) {
        OciDescriptor d = {};
        json_object *v, *annotations, *platform;
        int r;

        if (!json_object_is_type(o, json_type_object))
                return set_error(ret_error, "%s is not an object", what);

        r = get_string(o, "mediaType", "", &d.media_type, ret_error);
        if (r < 0)
                goto fail;
        if (!d.media_type) {
                r = set_error(ret_error, "%s has no mediaType", what);
                goto fail;
        }

        r = get_string(o, "digest", "", &d.digest, ret_error);
        if (r < 0)
                goto fail;
        if (!d.digest) {
                r = set_error(ret_error, "%s has no digest", what);
                goto fail;
        }
        if (!digest_is_valid(d.digest)) {
                r = set_error(ret_error, "%s has digest \"%s\", expected sha256:<64 lowercase hex digits>",
                              what, d.digest);
                goto fail;
        }

        if (!json_object_object_get_ex(o, "size", &v) || !json_object_is_type(v, json_type_int) ||
            json_object_get_int64(v) < 0) {
                r = set_error(ret_error, "%s has no valid size", what);
                goto fail;
        }
        d.size = (uint64_t)json_object_get_int64(v);

        if (json_object_object_get_ex(o, "annotations", &annotations) &&
            json_object_is_type(annotations, json_type_object)) {
                r = get_string(annotations, "org.opencontainers.image.ref.name", "annotation ", &d.ref_name,
                               ret_error);
                if (r < 0)
                        goto fail;
        }

        if (json_object_object_get_ex(o, "platform", &platform) &&
            json_object_is_type(platform, json_type_object)) {
                r = get_string(platform, "os", "platform ", &d.os, ret_error);
                if (r >= 0)
                        r = get_string(platform, "architecture", "platform ", &d.architecture, ret_error);
                if (r >= 0)
                        r = get_string(platform, "variant", "platform ", &d.variant, ret_error);
                if (r < 0)
                        goto fail;
        }

        *ret = d;
        return 0;

fail:
        oci_descriptor_done(&d);
        return r;
}

static int descriptor_array_parse(json_object *parent, const char *key, bool required, OciDescriptor **ret,
                                  size_t *ret_n, char **ret_error) {
        OciDescriptor *l;
        json_object *v;
        size_t n;
        int r;

        if (!json_object_object_get_ex(parent, key, &v) || json_object_is_type(v, json_type_null)) {
                if (required)
                        return set_error(ret_error, "%s is missing", key);
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        if (!json_object_is_type(v, json_type_array))
                return set_error(ret_error, "%s is not an array", key);

        n = json_object_array_length(v);
        if (n > MAX_DESCRIPTORS)
                return set_error(ret_error, "%s has more than %u entries", key, MAX_DESCRIPTORS);

        l = calloc(MAX(n, 1U), sizeof(OciDescriptor));
        if (!l)
                return -ENOMEM;

        for (size_t i = 0; i < n; i++) {
                char what[64];

                snprintf(what, sizeof(what), "%s[%zu]", key, i);
                r = descriptor_parse(json_object_array_get_idx(v, i), what, &l[i], ret_error);
                if (r < 0) {
                        for (size_t j = 0; j < i; j++)
                                oci_descriptor_done(&l[j]);
                        free(l);
                        return r;
                }
        }

        *ret = l;
        *ret_n = n;
        return 0;
}

static int check_schema_version(json_object *o, char **ret_error) {
        json_object *v;

        if (!json_object_object_get_ex(o, "schemaVersion", &v) || !json_object_is_type(v, json_type_int))
                return set_error(ret_error, "schemaVersion is missing");
        if (json_object_get_int64(v) != 2)
                return set_error(ret_error, "schemaVersion %" PRId64 " is not supported, expected 2",
                                 json_object_get_int64(v));
        return 0;
}

int oci_document_media_type(const void *data, size_t size, char **ret_media_type, OciMediaKind *ret_kind) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_free_ char *media_type = NULL;
        OciMediaKind kind;
        int r;

        r = json_parse_object(data, size, &o, NULL);
        if (r < 0)
                return r;
        r = get_string(o, "mediaType", "", &media_type, NULL);
        if (r < 0)
                return r;

        if (media_type)
                kind = oci_media_kind(media_type);
        else if (json_object_object_get_ex(o, "manifests", NULL))
                kind = OCI_MEDIA_INDEX;
        else if (json_object_object_get_ex(o, "config", NULL) &&
                 json_object_object_get_ex(o, "layers", NULL))
                kind = OCI_MEDIA_MANIFEST;
        else
                kind = OCI_MEDIA_UNKNOWN;

        *ret_media_type = TAKE_PTR(media_type);
        *ret_kind = kind;
        return 0;
}

OciIndex *oci_index_free(OciIndex *i) {
        if (!i)
                return NULL;
        for (size_t k = 0; k < i->n_manifests; k++)
                oci_descriptor_done(&i->manifests[k]);
        free(i->manifests);
        free(i);
        return NULL;
}

int oci_index_parse(const void *data, size_t size, OciIndex **ret, char **ret_error) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_(oci_index_freep) OciIndex *index = NULL;
        _cleanup_free_ char *media_type = NULL;
        int r;

        r = json_parse_object(data, size, &o, ret_error);
        if (r < 0)
                return r;

        r = check_schema_version(o, ret_error);
        if (r < 0)
                return r;

        r = get_string(o, "mediaType", "", &media_type, ret_error);
        if (r < 0)
                return r;
        if (media_type && oci_media_kind(media_type) != OCI_MEDIA_INDEX)
                return set_error(ret_error, "media type %s is not an image index", media_type);

        index = calloc(1, sizeof(OciIndex));
        if (!index)
                return -ENOMEM;

        r = descriptor_array_parse(o, "manifests", true, &index->manifests, &index->n_manifests, ret_error);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(index);
        return 0;
}

OciManifest *oci_manifest_free(OciManifest *m) {
        if (!m)
                return NULL;
        free(m->media_type);
        oci_descriptor_done(&m->config);
        for (size_t k = 0; k < m->n_layers; k++)
                oci_descriptor_done(&m->layers[k]);
        free(m->layers);
        free(m);
        return NULL;
}

int oci_manifest_parse(const void *data, size_t size, OciManifest **ret, char **ret_error) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_(oci_manifest_freep) OciManifest *m = NULL;
        json_object *config;
        int r;

        r = json_parse_object(data, size, &o, ret_error);
        if (r < 0)
                return r;

        r = check_schema_version(o, ret_error);
        if (r < 0)
                return r;

        m = calloc(1, sizeof(OciManifest));
        if (!m)
                return -ENOMEM;

        r = get_string(o, "mediaType", "", &m->media_type, ret_error);
        if (r < 0)
                return r;
        if (m->media_type && oci_media_kind(m->media_type) != OCI_MEDIA_MANIFEST)
                return set_error(ret_error, "media type %s is not an image manifest", m->media_type);

        if (!json_object_object_get_ex(o, "config", &config))
                return set_error(ret_error, "config is missing");
        r = descriptor_parse(config, "config", &m->config, ret_error);
        if (r < 0)
                return r;
        if (oci_media_kind(m->config.media_type) != OCI_MEDIA_CONFIG)
                return set_error(ret_error, "config media type %s is not supported", m->config.media_type);

        r = descriptor_array_parse(o, "layers", true, &m->layers, &m->n_layers, ret_error);
        if (r < 0)
                return r;
        for (size_t i = 0; i < m->n_layers; i++)
                if (oci_media_kind(m->layers[i].media_type) != OCI_MEDIA_LAYER)
                        return set_error(ret_error, "layer %s has unsupported media type %s",
                                         m->layers[i].digest, m->layers[i].media_type);

        *ret = TAKE_PTR(m);
        return 0;
}

OciImageConfig *oci_image_config_free(OciImageConfig *c) {
        if (!c)
                return NULL;
        image_config_done(&c->config);
        free(c->os);
        free(c->architecture);
        free(c->variant);
        strv_free(c->diff_ids);
        free(c);
        return NULL;
}

int oci_image_config_parse(const void *data, size_t size, OciImageConfig **ret, char **ret_error) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_(oci_image_config_freep) OciImageConfig *c = NULL;
        _cleanup_free_ char *rootfs_type = NULL;
        json_object *config, *rootfs;
        int r;

        r = json_parse_object(data, size, &o, ret_error);
        if (r < 0)
                return r;

        c = calloc(1, sizeof(OciImageConfig));
        if (!c)
                return -ENOMEM;

        r = get_string(o, "os", "", &c->os, ret_error);
        if (r >= 0)
                r = get_string(o, "architecture", "", &c->architecture, ret_error);
        if (r >= 0)
                r = get_string(o, "variant", "", &c->variant, ret_error);
        if (r < 0)
                return r;
        if (!c->os || !c->architecture)
                return set_error(ret_error, "image configuration has no os or architecture");

        if (json_object_object_get_ex(o, "config", &config) &&
            !json_object_is_type(config, json_type_null)) {
                if (!json_object_is_type(config, json_type_object))
                        return set_error(ret_error, "config is not an object");

                r = get_strv(config, "Entrypoint", &c->config.entrypoint, NULL, ret_error);
                if (r >= 0)
                        r = get_strv(config, "Cmd", &c->config.cmd, NULL, ret_error);
                if (r >= 0)
                        r = get_strv(config, "Env", &c->config.env, NULL, ret_error);
                if (r >= 0)
                        r = get_string(config, "WorkingDir", "config.", &c->config.working_dir, ret_error);
                if (r >= 0)
                        r = get_string(config, "User", "config.", &c->config.user, ret_error);
                if (r < 0)
                        return r;
        }

        if (!json_object_object_get_ex(o, "rootfs", &rootfs) ||
            !json_object_is_type(rootfs, json_type_object))
                return set_error(ret_error, "rootfs is missing");
        r = get_string(rootfs, "type", "rootfs.", &rootfs_type, ret_error);
        if (r < 0)
                return r;
        if (!streq_ptr(rootfs_type, "layers"))
                return set_error(ret_error, "rootfs.type is \"%s\", expected \"layers\"",
                                 strna(rootfs_type));

        r = get_strv(rootfs, "diff_ids", &c->diff_ids, &c->n_diff_ids, ret_error);
        if (r < 0)
                return r;
        for (size_t i = 0; i < c->n_diff_ids; i++)
                if (!digest_is_valid(c->diff_ids[i]))
                        return set_error(ret_error, "rootfs.diff_ids[%zu] \"%s\" is not a sha256 digest", i,
                                         c->diff_ids[i]);

        *ret = TAKE_PTR(c);
        return 0;
}

const OciDescriptor *oci_index_find_tag(const OciIndex *index, const char *tag) {
        for (size_t i = 0; i < index->n_manifests; i++)
                if (streq_ptr(index->manifests[i].ref_name, tag))
                        return &index->manifests[i];
        return NULL;
}

const OciDescriptor *oci_index_find_host_platform(const OciIndex *index) {
        const char *arch = oci_host_architecture(), *variant = oci_host_variant();
        const OciDescriptor *fallback = NULL;

        for (size_t i = 0; i < index->n_manifests; i++) {
                const OciDescriptor *d = &index->manifests[i];

                if (oci_media_kind(d->media_type) != OCI_MEDIA_MANIFEST)
                        continue;
                if (!streq_ptr(d->os, "linux") || !streq_ptr(d->architecture, arch))
                        continue;

                /* An exact variant wins; an entry without a variant is the fallback. */
                if (!variant || streq_ptr(d->variant, variant))
                        return d;
                if (!d->variant && !fallback)
                        fallback = d;
        }
        return fallback;
}
