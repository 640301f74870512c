/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "digest.h"
#include "fs-util.h"
#include "image-store.h"
#include "log.h"
#include "macro.h"
#include "oci-json.h"
#include "oci-layout.h"
#include "registry.h"
#include "unpack.h"

#define DEFAULT_SKOPEO "/usr/bin/skopeo"

struct ImageStore {
        pthread_mutex_t lock;
        char *root;
        int root_fd;
        char **insecure_registries;
        uint64_t max_layer_size;
        uint64_t max_layer_entries;
        char *skopeo;
};

typedef enum ImageSourceType {
        IMAGE_SOURCE_OCI_LAYOUT,
        IMAGE_SOURCE_REGISTRY,
        _IMAGE_SOURCE_INVALID = -EINVAL,
} ImageSourceType;

static ImageSourceType image_source_type_from_string(const char *s) {
        if (streq_ptr(s, "OCI_LAYOUT"))
                return IMAGE_SOURCE_OCI_LAYOUT;
        /* ECR and ECR Public are registries that skopeo reaches like any other. */
        if (streq_ptr(s, "REGISTRY") || streq_ptr(s, "ECR") || streq_ptr(s, "ECR_PUBLIC"))
                return IMAGE_SOURCE_REGISTRY;
        return _IMAGE_SOURCE_INVALID;
}

/* Stores "Image <identifier>: <clause>." in *ret_error and returns error. */
_printf_(4, 5) static int image_error(char **ret_error, int error, const char *identifier,
                                      const char *format, ...) {
        _cleanup_free_ char *clause = NULL;
        va_list ap;
        char *s;

        va_start(ap, format);
        if (vasprintf(&clause, format, ap) < 0)
                clause = NULL;
        va_end(ap);

        if (ret_error) {
                if (asprintf(&s, "Image %s: %s.", identifier, strna(clause)) < 0)
                        s = NULL;
                free(*ret_error);
                *ret_error = s;
        }
        return error;
}

static int strv_copy(char *const *l, char ***ret) {
        size_t n = 0;
        char **copy;

        for (char *const *i = l; i && *i; i++)
                n++;
        copy = calloc(n + 1, sizeof(char *));
        if (!copy)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                copy[i] = strdup(l[i]);
                if (!copy[i]) {
                        strv_free(copy);
                        return -ENOMEM;
                }
        }
        *ret = copy;
        return 0;
}

static bool strv_contains(char *const *l, const char *s) {
        for (char *const *i = l; i && *i; i++)
                if (streq(*i, s))
                        return true;
        return false;
}

/* Removes every entry of the store subdirectory dir for which keep() is
 * false. Returns the number removed. */
static int clean_directory(ImageStore *s, const char *dir, bool (*keep)(const char *name, void *userdata),
                           void *userdata) {
        _cleanup_free_ char *path = NULL;
        DIR *d;
        struct dirent *de;
        int n = 0;

        if (asprintf(&path, "%s/%s", s->root, dir) < 0)
                return -ENOMEM;
        d = opendir(path);
        if (!d)
                return -errno;

        while ((de = readdir(d))) {
                _cleanup_free_ char *entry = NULL;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (keep && keep(de->d_name, userdata))
                        continue;
                if (asprintf(&entry, "%s/%s", path, de->d_name) < 0) {
                        closedir(d);
                        return -ENOMEM;
                }
                int r = rm_rf(entry);
                if (r < 0)
                        log_debug_errno(r, "Failed to remove %s from the image store: %m", entry);
                else
                        n++;
        }
        closedir(d);
        return n;
}

static bool is_not_temporary(const char *name, void *userdata) {
        return !strstr(name, ".tmp-");
}

ImageStore *image_store_free(ImageStore *s) {
        if (!s)
                return NULL;
        pthread_mutex_destroy(&s->lock);
        free(s->root);
        if (s->root_fd >= 0)
                close(s->root_fd);
        strv_free(s->insecure_registries);
        free(s->skopeo);
        free(s);
        return NULL;
}

int image_store_open(const ImageStoreOptions *o, ImageStore **ret) {
        _cleanup_(image_store_freep) ImageStore *s = NULL;
        static const char *const subdirs[] = {"blobs/sha256", "layers/sha256", "refs/sha256", "tmp"};
        int r;

        if (!o->root || o->root[0] != '/')
                return -EINVAL;

        s = calloc(1, sizeof(ImageStore));
        if (!s)
                return -ENOMEM;
        s->root_fd = -1;
        pthread_mutex_init(&s->lock, NULL);
        s->max_layer_size = o->max_layer_size;
        s->max_layer_entries = o->max_layer_entries;

        s->root = strdup(o->root);
        s->skopeo = strdup(o->skopeo ?: DEFAULT_SKOPEO);
        if (!s->root || !s->skopeo)
                return -ENOMEM;
        r = strv_copy(o->insecure_registries, &s->insecure_registries);
        if (r < 0)
                return r;

        for (size_t i = 0; i < ELEMENTSOF(subdirs); i++) {
                _cleanup_free_ char *p = NULL;

                if (asprintf(&p, "%s/%s", s->root, subdirs[i]) < 0)
                        return -ENOMEM;
                r = mkdir_p(p);
                if (r < 0)
                        return r;
        }

        s->root_fd = open(s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->root_fd < 0)
                return -errno;

        /* Leftovers of a pull that a crash interrupted. */
        (void)clean_directory(s, "tmp", NULL, NULL);
        (void)clean_directory(s, "blobs/sha256", is_not_temporary, NULL);
        (void)clean_directory(s, "layers/sha256", is_not_temporary, NULL);

        *ret = TAKE_PTR(s);
        return 0;
}

static int make_work_dir(ImageStore *s, char **ret) {
        char *p;

        if (asprintf(&p, "%s/tmp/pull-XXXXXX", s->root) < 0)
                return -ENOMEM;
        if (!mkdtemp(p)) {
                int r = -errno;
                free(p);
                return r;
        }
        *ret = p;
        return 0;
}

static void work_dir_removep(char **p) {
        if (*p) {
                (void)rm_rf(*p);
                free(*p);
        }
}

static bool blob_exists(ImageStore *s, const char *digest) {
        char path[sizeof("blobs/sha256/") + SHA256_HEX_LENGTH];

        snprintf(path, sizeof(path), "blobs/sha256/%s", digest_hex(digest));
        return faccessat(s->root_fd, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

static int layer_dir_path(ImageStore *s, const char *diff_id, char **ret) {
        return asprintf(ret, "%s/layers/sha256/%s", s->root, digest_hex(diff_id)) < 0 ? -ENOMEM : 0;
}

/* Stores a blob whose content the caller has verified. */
static int store_blob_buffer(ImageStore *s, const char *digest, const void *data, size_t size) {
        char path[sizeof("blobs/sha256/") + SHA256_HEX_LENGTH];

        if (blob_exists(s, digest))
                return 0;
        snprintf(path, sizeof(path), "blobs/sha256/%s", digest_hex(digest));
        return write_file_atomic(s->root_fd, path, data, size);
}

/* Copies a blob from a layout into the store, verifying size and digest. */
static int store_blob_from_layout(ImageStore *s, int layout_fd, const OciDescriptor *d) {
        _cleanup_free_ char *tmp = NULL, *final = NULL;
        _cleanup_close_ int src = -1, dst = -1;
        int r;

        if (blob_exists(s, d->digest))
                return 0;

        src = oci_layout_open_blob(layout_fd, d->digest);
        if (src < 0)
                return src;

        if (asprintf(&tmp, "%s/blobs/sha256/.%s.tmp-XXXXXX", s->root, digest_hex(d->digest)) < 0 ||
            asprintf(&final, "%s/blobs/sha256/%s", s->root, digest_hex(d->digest)) < 0)
                return -ENOMEM;
        dst = mkostemp(tmp, O_CLOEXEC);
        if (dst < 0)
                return -errno;

        r = copy_verified(src, dst, d->digest, d->size, UINT64_MAX);
        if (r >= 0 && (fchmod(dst, 0644) < 0 || fsync(dst) < 0 || rename(tmp, final) < 0))
                r = -errno;
        if (r < 0)
                (void)unlink(tmp);
        return r;
}

static int write_ref(ImageStore *s, const char *reference, const char *manifest_digest,
                     const char *config_digest) {
        char path[sizeof("refs/sha256/.json") + SHA256_HEX_LENGTH];
        json_object *o;
        const char *text;
        int r;

        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "reference", json_object_new_string(reference));
        json_object_object_add(o, "manifestDigest", json_object_new_string(manifest_digest));
        json_object_object_add(o, "configDigest", json_object_new_string(config_digest));

        text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY);
        snprintf(path, sizeof(path), "refs/sha256/%s.json", digest_hex(manifest_digest));
        r = text ? write_file_atomic(s->root_fd, path, text, strlen(text)) : -ENOMEM;
        json_object_put(o);
        return r;
}

static int read_ref(ImageStore *s, const char *manifest_digest, char **ret_reference) {
        char path[sizeof("refs/sha256/.json") + SHA256_HEX_LENGTH];
        _cleanup_free_ char *data = NULL;
        json_object *o, *v;
        int r;

        snprintf(path, sizeof(path), "refs/sha256/%s.json", digest_hex(manifest_digest));
        r = read_full_file(s->root_fd, path, 64 * 1024, &data, NULL);
        if (r < 0)
                return r;

        o = json_tokener_parse(data);
        if (!o || !json_object_object_get_ex(o, "reference", &v) ||
            !json_object_is_type(v, json_type_string)) {
                json_object_put(o);
                return -EBADMSG;
        }
        *ret_reference = strdup(json_object_get_string(v));
        json_object_put(o);
        return *ret_reference ? 0 : -ENOMEM;
}

/* Reads and verifies the manifest and configuration of an image whose
 * blobs are in the layout (or in the store: its root is laid out like one). */
static int read_manifest_and_config(int layout_fd, const char *manifest_digest, const char *manifest,
                                    size_t size, OciManifest **ret_manifest, OciImageConfig **ret_config,
                                    char **ret_config_data, size_t *ret_config_size, char **ret_clause) {
        _cleanup_(oci_manifest_freep) OciManifest *m = NULL;
        _cleanup_(oci_image_config_freep) OciImageConfig *c = NULL;
        _cleanup_free_ char *clause = NULL, *config_data = NULL;
        size_t config_size;
        int r;

        r = oci_manifest_parse(manifest, size, &m, &clause);
        if (r < 0)
                goto fail;

        r = oci_layout_read_blob(layout_fd, m->config.digest, m->config.size, &config_data, &config_size,
                                 &clause);
        if (r < 0) {
                char *s = NULL;
                if (asprintf(&s, "image configuration: %s", strna(clause)) >= 0) {
                        free(clause);
                        clause = s;
                }
                goto fail;
        }

        r = oci_image_config_parse(config_data, config_size, &c, &clause);
        if (r < 0)
                goto fail;

        if (!streq(c->os, "linux") || !streq(c->architecture, oci_host_architecture())) {
                free(clause);
                r = asprintf(&clause, "image is for %s/%s, this host runs linux/%s", c->os, c->architecture,
                             oci_host_architecture()) < 0
                            ? -ENOMEM
                            : -EBADMSG;
                goto fail;
        }
        if (c->n_diff_ids != m->n_layers) {
                free(clause);
                r = asprintf(&clause, "manifest %s lists %zu layers, its configuration %zu diff_ids",
                             manifest_digest, m->n_layers, c->n_diff_ids) < 0
                            ? -ENOMEM
                            : -EBADMSG;
                goto fail;
        }

        *ret_manifest = TAKE_PTR(m);
        *ret_config = TAKE_PTR(c);
        if (ret_config_data) {
                *ret_config_data = TAKE_PTR(config_data);
                *ret_config_size = config_size;
        }
        return 0;

fail:
        *ret_clause = TAKE_PTR(clause);
        return r;
}

static int build_resolved_image(ImageStore *s, const char *reference, const char *manifest_digest,
                                const char *config_digest, OciImageConfig *c, ResolvedImage **ret) {
        _cleanup_(resolved_image_freep) ResolvedImage *image = NULL;
        int r;

        image = calloc(1, sizeof(ResolvedImage));
        if (!image)
                return -ENOMEM;

        image->reference = strdup(reference);
        image->manifest_digest = strdup(manifest_digest);
        image->config_digest = strdup(config_digest);
        image->layer_dirs = calloc(c->n_diff_ids + 1, sizeof(char *));
        if (!image->reference || !image->manifest_digest || !image->config_digest || !image->layer_dirs)
                return -ENOMEM;

        for (size_t i = 0; i < c->n_diff_ids; i++) {
                r = layer_dir_path(s, c->diff_ids[i], &image->layer_dirs[i]);
                if (r < 0)
                        return r;
        }

        /* The ImageConfig moves over; c keeps empty fields. */
        image->config = c->config;
        c->config = (ImageConfig){};

        *ret = TAKE_PTR(image);
        return 0;
}

static int unpack_layer(ImageStore *s, const char *identifier, int layout_fd, const OciDescriptor *layer,
                        const char *diff_id, char **ret_error) {
        _cleanup_free_ char *dir = NULL, *blob = NULL, *unpack_error = NULL;
        _cleanup_close_ int fd = -1;
        struct stat st;
        int r;

        r = layer_dir_path(s, diff_id, &dir);
        if (r < 0)
                return r;
        if (lstat(dir, &st) == 0) {
                log_debug("Layer %s of %s is already unpacked.", diff_id, identifier);
                return 0;
        }

        r = store_blob_from_layout(s, layout_fd, layer);
        if (r == -ENOENT)
                return image_error(ret_error, r, identifier, "layer blob %s is missing from the layout",
                                   layer->digest);
        if (r == -EBADMSG)
                return image_error(
                        ret_error, r, identifier,
                        "digest mismatch: layer blob %s does not match its digest or size %" PRIu64,
                        layer->digest, layer->size);
        if (r < 0)
                return image_error(ret_error, r, identifier, "layer blob %s cannot be stored: %s",
                                   layer->digest, strerror(-r));

        if (asprintf(&blob, "%s/blobs/sha256/%s", s->root, digest_hex(layer->digest)) < 0)
                return -ENOMEM;
        fd = open(blob, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return image_error(ret_error, -errno, identifier, "layer blob %s cannot be opened: %s",
                                   layer->digest, strerror(errno));

        UnpackLimits limits = {
                .max_size = s->max_layer_size,
                .max_entries = s->max_layer_entries,
                .diff_id = diff_id,
        };
        r = layer_unpack(fd, dir, &limits, &unpack_error);
        if (r == -EEXIST)
                return 0;
        if (r < 0) {
                /* Drop the blob so that a later pull fetches it again. */
                (void)unlink(blob);

                /* The unpacker's sentence becomes a clause of ours. */
                if (unpack_error) {
                        size_t n = strlen(unpack_error);
                        if (n > 0 && unpack_error[n - 1] == '.')
                                unpack_error[n - 1] = 0;
                        if (unpack_error[0] >= 'A' && unpack_error[0] <= 'Z')
                                unpack_error[0] = (char)(unpack_error[0] - 'A' + 'a');
                }
                return image_error(ret_error, r, identifier, "layer %s was rejected: %s", layer->digest,
                                   unpack_error ?: strerror(-r));
        }

        log_debug("Unpacked layer %s of %s into %s.", diff_id, identifier, dir);
        return 0;
}

/* Imports the image named by tag or digest from an OCI layout. */
static int import_layout(ImageStore *s, const char *identifier, int layout_fd, const char *tag,
                         const char *digest, ResolvedImage **ret, char **ret_error) {
        _cleanup_(oci_manifest_freep) OciManifest *m = NULL;
        _cleanup_(oci_image_config_freep) OciImageConfig *c = NULL;
        _cleanup_free_ char *manifest_digest = NULL, *manifest = NULL, *config_data = NULL, *clause = NULL;
        size_t manifest_size, config_size;
        int r;

        r = oci_layout_resolve(layout_fd, tag, digest, &manifest_digest, &manifest, &manifest_size, &clause);
        if (r < 0)
                return image_error(ret_error, r, identifier, "%s", strna(clause));

        r = read_manifest_and_config(layout_fd, manifest_digest, manifest, manifest_size, &m, &c,
                                     &config_data, &config_size, &clause);
        if (r < 0)
                return image_error(ret_error, r, identifier, "%s", strna(clause));

        r = store_blob_buffer(s, manifest_digest, manifest, manifest_size);
        if (r >= 0)
                r = store_blob_buffer(s, m->config.digest, config_data, config_size);
        if (r < 0)
                return image_error(ret_error, r, identifier, "the manifest cannot be stored: %s",
                                   strerror(-r));

        for (size_t i = 0; i < m->n_layers; i++) {
                r = unpack_layer(s, identifier, layout_fd, &m->layers[i], c->diff_ids[i], ret_error);
                if (r < 0)
                        return r;
        }

        r = write_ref(s, identifier, manifest_digest, m->config.digest);
        if (r < 0)
                return image_error(ret_error, r, identifier, "the image reference cannot be stored: %s",
                                   strerror(-r));

        r = build_resolved_image(s, identifier, manifest_digest, m->config.digest, c, ret);
        if (r < 0)
                return image_error(ret_error, r, identifier, "%s", strerror(-r));
        return 0;
}

static int pull_oci_layout(ImageStore *s, const char *identifier, ResolvedImage **ret,
                           char **ret_manifest_digest, char **ret_error) {
        _cleanup_free_ char *path = NULL, *tag = NULL, *digest = NULL, *clause = NULL;
        _cleanup_free_ char *manifest_digest = NULL, *manifest = NULL;
        _cleanup_close_ int layout_fd = -1;
        size_t size;
        int r;

        r = oci_layout_reference_parse(identifier, &path, &tag, &digest);
        if (r < 0)
                return image_error(
                        ret_error, r, identifier,
                        "the identifier is not of the form oci:/path[:tag] or oci:/path@sha256:<hex>");

        r = oci_layout_open(path, &layout_fd, &clause);
        if (r < 0)
                return image_error(ret_error, r, identifier, "%s", strna(clause));

        if (ret) {
                r = import_layout(s, identifier, layout_fd, tag, digest, ret, ret_error);
                if (r < 0)
                        return r;
                /* A layout is read as it is, so both digests are the same. */
                (*ret)->source_digest = strdup((*ret)->manifest_digest);
                if (!(*ret)->source_digest) {
                        *ret = resolved_image_free(*ret);
                        return -ENOMEM;
                }
                return 0;
        }

        r = oci_layout_resolve(layout_fd, tag, digest, &manifest_digest, &manifest, &size, &clause);
        if (r < 0)
                return image_error(ret_error, r, identifier, "%s", strna(clause));
        *ret_manifest_digest = TAKE_PTR(manifest_digest);
        return 0;
}

static int pull_registry(ImageStore *s, const char *identifier, const RegistryCredentials *creds,
                         ResolvedImage **ret, char **ret_manifest_digest, char **ret_error) {
        _cleanup_(registry_reference_done) RegistryReference ref = {};
        _cleanup_(work_dir_removep) char *work_dir = NULL;
        _cleanup_free_ char *layout = NULL, *clause = NULL, *source_digest = NULL;
        _cleanup_close_ int layout_fd = -1;
        int r;

        r = registry_reference_parse(identifier, &ref);
        if (r < 0)
                return image_error(ret_error, r, identifier,
                                   "the identifier is not of the form host[:port]/repository[:tag] or "
                                   "host[:port]/repository@sha256:<hex>");

        r = make_work_dir(s, &work_dir);
        if (r < 0)
                return image_error(ret_error, r, identifier, "a work directory cannot be created: %s",
                                   strerror(-r));

        SkopeoContext c = {
                .skopeo = s->skopeo,
                .work_dir = work_dir,
                .insecure = strv_contains(s->insecure_registries, ref.host),
                .credentials = creds,
        };

        r = registry_resolve_digest(&c, &ref, &source_digest, &clause);
        if (r < 0)
                return image_error(ret_error, r, identifier, "%s", strna(clause));
        if (!ret) {
                *ret_manifest_digest = TAKE_PTR(source_digest);
                return 0;
        }

        /* The copy names the manifest that was just resolved, so a tag that
         * moves in between cannot mix two versions. skopeo converts Docker
         * schema 2 images to OCI media types when writing the layout, so
         * their manifest_digest differs from the registry's digest, which
         * is kept as source_digest. OCI images keep their digest. */
        free(ref.digest);
        ref.digest = strdup(source_digest);
        if (!ref.digest)
                return -ENOMEM;
        r = registry_copy_to_layout(&c, &ref, &layout, &clause);
        if (r < 0)
                return image_error(ret_error, r, identifier, "%s", strna(clause));

        r = oci_layout_open(layout, &layout_fd, &clause);
        if (r < 0)
                return image_error(ret_error, r, identifier, "%s", strna(clause));

        r = import_layout(s, identifier, layout_fd, "image", NULL, ret, ret_error);
        if (r < 0)
                return r;
        (*ret)->source_digest = TAKE_PTR(source_digest);
        return 0;
}

static int pull_or_resolve(ImageStore *s, const char *identifier, const char *repository_type,
                           const RegistryCredentials *creds, ResolvedImage **ret, char **ret_manifest_digest,
                           char **ret_error) {
        if (!identifier)
                return -EINVAL;

        switch (image_source_type_from_string(repository_type)) {
        case IMAGE_SOURCE_OCI_LAYOUT:
                return pull_oci_layout(s, identifier, ret, ret_manifest_digest, ret_error);
        case IMAGE_SOURCE_REGISTRY:
                return pull_registry(s, identifier, creds, ret, ret_manifest_digest, ret_error);
        default:
                return image_error(
                        ret_error, -EINVAL, identifier,
                        "repository type %s is not supported, expected OCI_LAYOUT, REGISTRY, ECR or "
                        "ECR_PUBLIC",
                        strna(repository_type));
        }
}

int image_store_pull(ImageStore *s, const char *identifier, const char *repository_type,
                     const RegistryCredentials *creds, ResolvedImage **ret, char **ret_error) {
        int r;

        pthread_mutex_lock(&s->lock);
        r = pull_or_resolve(s, identifier, repository_type, creds, ret, NULL, ret_error);
        pthread_mutex_unlock(&s->lock);
        return r;
}

int image_store_resolve_digest(ImageStore *s, const char *identifier, const char *repository_type,
                               const RegistryCredentials *creds, char **ret_manifest_digest,
                               char **ret_error) {
        _cleanup_free_ char *digest = NULL;
        int r;

        /* No lock: resolving reads only the source and a private work
         * directory, so it need not wait for a running pull. */
        r = pull_or_resolve(s, identifier, repository_type, creds, NULL, &digest, ret_error);
        if (r < 0)
                return r;
        *ret_manifest_digest = TAKE_PTR(digest);
        return 0;
}

static int load_locked(ImageStore *s, const char *manifest_digest, ResolvedImage **ret, char **ret_error) {
        _cleanup_(oci_manifest_freep) OciManifest *m = NULL;
        _cleanup_(oci_image_config_freep) OciImageConfig *c = NULL;
        _cleanup_free_ char *reference = NULL, *manifest = NULL, *clause = NULL;
        size_t size;
        int r;

        if (!digest_is_valid(manifest_digest))
                return image_error(ret_error, -EINVAL, strna(manifest_digest),
                                   "not a sha256 manifest digest");

        r = read_ref(s, manifest_digest, &reference);
        if (r == -ENOENT)
                return image_error(ret_error, r, manifest_digest,
                                   "the manifest was never pulled into the store");
        if (r < 0)
                return image_error(ret_error, r, manifest_digest, "the image reference cannot be read: %s",
                                   strerror(-r));

        r = oci_layout_read_blob(s->root_fd, manifest_digest, UINT64_MAX, &manifest, &size, &clause);
        if (r >= 0)
                r = read_manifest_and_config(s->root_fd, manifest_digest, manifest, size, &m, &c, NULL, NULL,
                                             &clause);
        if (r < 0)
                return image_error(ret_error, r, reference, "the stored image is damaged: %s",
                                   strna(clause));

        for (size_t i = 0; i < c->n_diff_ids; i++) {
                _cleanup_free_ char *dir = NULL;
                struct stat st;

                r = layer_dir_path(s, c->diff_ids[i], &dir);
                if (r < 0)
                        return r;
                if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
                        return image_error(ret_error, -ENOENT, reference,
                                           "layer %s is missing from the store", c->diff_ids[i]);
        }

        return build_resolved_image(s, reference, manifest_digest, m->config.digest, c, ret);
}

int image_store_load(ImageStore *s, const char *manifest_digest, ResolvedImage **ret, char **ret_error) {
        int r;

        pthread_mutex_lock(&s->lock);
        r = load_locked(s, manifest_digest, ret, ret_error);
        pthread_mutex_unlock(&s->lock);
        return r;
}

typedef struct LiveSet {
        char **blobs;  /* hex digests */
        char **layers; /* hex diff_ids */
        size_t n_blobs, n_layers;
} LiveSet;

static int live_add(char ***l, size_t *n, const char *digest) {
        char **grown = realloc(*l, (*n + 2) * sizeof(char *));
        if (!grown)
                return -ENOMEM;
        *l = grown;
        grown[*n] = strdup(digest_hex(digest));
        if (!grown[*n])
                return -ENOMEM;
        grown[++*n] = NULL;
        return 0;
}

static bool live_contains_blob(const char *name, void *userdata) {
        return strv_contains(((LiveSet *)userdata)->blobs, name);
}

static bool live_contains_layer(const char *name, void *userdata) {
        return strv_contains(((LiveSet *)userdata)->layers, name);
}

/* Adds the blobs and layers of one kept manifest to the live set. */
static int live_add_manifest(ImageStore *s, LiveSet *live, const char *manifest_digest) {
        _cleanup_(oci_manifest_freep) OciManifest *m = NULL;
        _cleanup_(oci_image_config_freep) OciImageConfig *c = NULL;
        _cleanup_free_ char *manifest = NULL, *clause = NULL;
        size_t size;
        int r;

        r = oci_layout_read_blob(s->root_fd, manifest_digest, UINT64_MAX, &manifest, &size, &clause);
        if (r >= 0)
                r = read_manifest_and_config(s->root_fd, manifest_digest, manifest, size, &m, &c, NULL, NULL,
                                             &clause);
        if (r < 0) {
                log_debug("Image store: manifest %s is damaged, collecting its data: %s", manifest_digest,
                          strna(clause));
                return 0;
        }

        r = live_add(&live->blobs, &live->n_blobs, manifest_digest);
        if (r >= 0)
                r = live_add(&live->blobs, &live->n_blobs, m->config.digest);
        for (size_t i = 0; r >= 0 && i < m->n_layers; i++) {
                r = live_add(&live->blobs, &live->n_blobs, m->layers[i].digest);
                if (r >= 0)
                        r = live_add(&live->layers, &live->n_layers, c->diff_ids[i]);
        }
        return r;
}

static int gc_locked(ImageStore *s, char *const *keep) {
        _cleanup_free_ char *refs_path = NULL;
        LiveSet live = {};
        struct dirent *de;
        DIR *d;
        int r = 0, removed = 0;

        if (asprintf(&refs_path, "%s/refs/sha256", s->root) < 0)
                return -ENOMEM;
        d = opendir(refs_path);
        if (!d)
                return -errno;

        while ((de = readdir(d))) {
                char digest[DIGEST_STRING_SIZE];
                const char *dot = strrchr(de->d_name, '.');

                if (!dot || !streq(dot, ".json") || (size_t)(dot - de->d_name) != SHA256_HEX_LENGTH)
                        continue;
                snprintf(digest, sizeof(digest), SHA256_PREFIX "%.*s", SHA256_HEX_LENGTH, de->d_name);
                if (!digest_is_valid(digest))
                        continue;

                if (!strv_contains(keep, digest)) {
                        if (unlinkat(dirfd(d), de->d_name, 0) < 0)
                                log_debug_errno(-errno, "Failed to remove image reference %s: %m",
                                                de->d_name);
                        continue;
                }

                r = live_add_manifest(s, &live, digest);
                if (r < 0)
                        break;
        }
        closedir(d);

        if (r >= 0) {
                r = clean_directory(s, "blobs/sha256", live_contains_blob, &live);
                if (r >= 0) {
                        removed += r;
                        r = clean_directory(s, "layers/sha256", live_contains_layer, &live);
                        if (r >= 0)
                                removed += r;
                }
        }

        strv_free(live.blobs);
        strv_free(live.layers);
        return r < 0 ? r : removed;
}

int image_store_gc(ImageStore *s, char *const *keep_manifest_digests) {
        int r;

        pthread_mutex_lock(&s->lock);
        r = gc_locked(s, keep_manifest_digests);
        pthread_mutex_unlock(&s->lock);
        return r;
}
