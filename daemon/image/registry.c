/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/wait.h>

#include "digest.h"
#include "fs-util.h"
#include "macro.h"
#include "oci-json.h"
#include "registry.h"

#define SKOPEO_OUTPUT_MAX (OCI_MAX_JSON_SIZE + 1024)

_printf_(2, 3) static int set_error(char **ret_error, const char *format, ...) {
        va_list ap;
        char *s = NULL;

        va_start(ap, format);
        if (vasprintf(&s, format, ap) < 0)
                s = NULL;
        va_end(ap);

        free(*ret_error);
        *ret_error = s;
        return -EIO;
}

void registry_reference_done(RegistryReference *r) {
        free(r->host);
        free(r->repository);
        free(r->tag);
        free(r->digest);
        *r = (RegistryReference){};
}

static bool repository_is_valid(const char *s) {
        /* Lowercase path components as in the distribution spec's grammar,
         * which also keeps the reference free of ':', '@' and whitespace. */
        size_t n = strlen(s);

        if (n == 0 || n > 255 || s[0] == '/' || s[n - 1] == '/' || strstr(s, "//"))
                return false;
        return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-/") == n;
}

static bool host_is_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > 255)
                return false;
        if (strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-:[]") != n)
                return false;
        return strchr(s, '.') || strchr(s, ':') || streq(s, "localhost");
}

static bool tag_is_valid(const char *tag) {
        size_t n = strlen(tag);

        if (n == 0 || n > 128 || tag[0] == '.' || tag[0] == '-')
                return false;
        return strspn(tag, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

int registry_reference_parse(const char *identifier, RegistryReference *ret) {
        _cleanup_(registry_reference_done) RegistryReference r = {};
        const char *slash, *at, *colon, *name_end;

        slash = strchr(identifier, '/');
        if (!slash)
                return -EINVAL;

        r.host = strndup(identifier, (size_t)(slash - identifier));
        if (!r.host)
                return -ENOMEM;
        if (!host_is_valid(r.host))
                return -EINVAL;

        at = strchr(slash + 1, '@');
        if (at) {
                if (!digest_is_valid(at + 1))
                        return -EINVAL;
                r.digest = strdup(at + 1);
                name_end = at;
        } else {
                colon = strrchr(slash + 1, ':');
                r.tag = strdup(colon ? colon + 1 : "latest");
                name_end = colon ?: slash + 1 + strlen(slash + 1);
                if (r.tag && !tag_is_valid(r.tag))
                        return -EINVAL;
        }
        if (!r.digest && !r.tag)
                return -ENOMEM;

        r.repository = strndup(slash + 1, (size_t)(name_end - slash - 1));
        if (!r.repository)
                return -ENOMEM;
        if (!repository_is_valid(r.repository))
                return -EINVAL;

        *ret = r;
        r = (RegistryReference){};
        return 0;
}

static int reference_to_docker_uri(const RegistryReference *ref, char **ret) {
        int n = ref->digest ? asprintf(ret, "docker://%s/%s@%s", ref->host, ref->repository, ref->digest)
                            : asprintf(ret, "docker://%s/%s:%s", ref->host, ref->repository, ref->tag);
        return n < 0 ? -ENOMEM : 0;
}

/* Writes the containers-auth.json(5) file skopeo reads with --authfile:
 * {"auths": {"<host>": {"auth": base64("user:password")}}}, or no entry
 * without credentials. */
static int write_authfile(const SkopeoContext *c, const char *host, char **ret_path) {
        _cleanup_free_ char *path = NULL, *plain = NULL, *encoded = NULL;
        _cleanup_close_ int fd = -1;
        json_object *root = NULL, *auths = NULL, *entry;
        const char *text;
        size_t length;
        int r = 0;

        if (asprintf(&path, "%s/auth.json", c->work_dir) < 0)
                return -ENOMEM;

        root = json_object_new_object();
        auths = json_object_new_object();
        if (!root || !auths) {
                json_object_put(root);
                json_object_put(auths);
                return -ENOMEM;
        }
        json_object_object_add(root, "auths", auths);

        if (c->credentials && c->credentials->username) {
                if (asprintf(&plain, "%s:%s", c->credentials->username, strempty(c->credentials->password)) <
                    0) {
                        r = -ENOMEM;
                        goto finish;
                }
                length = strlen(plain);
                encoded = malloc(4 * ((length + 2) / 3) + 1);
                if (!encoded) {
                        r = -ENOMEM;
                        goto finish;
                }
                EVP_EncodeBlock((unsigned char *)encoded, (const unsigned char *)plain, (int)length);

                entry = json_object_new_object();
                if (!entry) {
                        r = -ENOMEM;
                        goto finish;
                }
                json_object_object_add(entry, "auth", json_object_new_string(encoded));
                json_object_object_add(auths, host, entry);
        }

        /* A second call in the same work directory replaces the file. */
        if (unlink(path) < 0 && errno != ENOENT) {
                r = -errno;
                goto finish;
        }
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
                r = -errno;
                goto finish;
        }

        text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN);
        length = strlen(text);
        if (write(fd, text, length) != (ssize_t)length)
                r = errno > 0 ? -errno : -EIO;

        /* Clear the serialized secret before json-c frees it. */
        explicit_bzero((char *)text, length);

finish:
        if (plain)
                explicit_bzero(plain, strlen(plain));
        if (encoded)
                explicit_bzero(encoded, strlen(encoded));
        json_object_put(root);
        if (r < 0)
                return r;

        *ret_path = TAKE_PTR(path);
        return 0;
}

/* Extracts the message of skopeo's last stderr line, which is logrus text
 * like: time="..." level=fatal msg="reading manifest ...: unauthorized". */
static char *last_error_line(char *output) {
        char *line = NULL, *msg, *end;

        for (char *s = strtok(output, "\n"); s; s = strtok(NULL, "\n"))
                if (strspn(s, " \t\r") != strlen(s))
                        line = s;
        if (!line)
                return strdup("no error output");

        msg = strstr(line, "msg=\"");
        if (msg) {
                msg += 5;
                end = strrchr(msg, '"');
                if (end && end > msg) {
                        /* logrus escapes quotes inside the message as \". */
                        char *text = strndup(msg, (size_t)(end - msg)), *o = text;
                        if (!text)
                                return NULL;
                        for (const char *i = text; *i; i++)
                                if (!(i[0] == '\\' && i[1] == '"'))
                                        *o++ = *i;
                        *o = 0;
                        return text;
                }
        }
        return strdup(line);
}

/* Bounds on one skopeo command, so that a registry that stops responding
 * fails the operation ("context deadline exceeded") instead of holding it
 * forever. A copy moves whole layers, so it gets much longer. */
#define SKOPEO_INSPECT_TIMEOUT "2m"
#define SKOPEO_COPY_TIMEOUT    "30m"

/* Runs skopeo with argv (argv[0] is ignored) and --command-timeout=timeout. On success returns its stdout
 * when ret_stdout is set; on failure returns -EIO with the message of its
 * last stderr line in *ret_error_line. */
static int skopeo_run(const SkopeoContext *c, const char *timeout, char **argv, char **ret_stdout,
                      size_t *ret_size, char **ret_error_line) {
        _cleanup_free_ char *stdout_path = NULL, *stderr_path = NULL, *home = NULL, *tmpdir = NULL;
        _cleanup_free_ char *timeout_arg = NULL;
        _cleanup_free_ char **full_argv = NULL;
        size_t n;
        _cleanup_free_ char *output = NULL;
        _cleanup_close_ int out_fd = -1, err_fd = -1;
        size_t size;
        int status, r;
        pid_t pid;

        if (asprintf(&stdout_path, "%s/skopeo.out", c->work_dir) < 0 ||
            asprintf(&stderr_path, "%s/skopeo.err", c->work_dir) < 0 ||
            asprintf(&home, "HOME=%s", c->work_dir) < 0 || asprintf(&tmpdir, "TMPDIR=%s", c->work_dir) < 0)
                return -ENOMEM;

        out_fd = open(stdout_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        err_fd = open(stderr_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (out_fd < 0 || err_fd < 0)
                return -errno;

        char *envp[] = {
                (char *)"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                home,
                tmpdir,
                (char *)"LANG=C.UTF-8",
                NULL,
        };
        /* The global option goes before the command. argv[0] is NULL. */
        n = 1;
        while (argv[n])
                n++;
        full_argv = calloc(n + 2, sizeof(char *));
        if (!full_argv || asprintf(&timeout_arg, "--command-timeout=%s", timeout) < 0)
                return -ENOMEM;
        full_argv[0] = (char *)c->skopeo;
        full_argv[1] = timeout_arg;
        for (size_t k = 1; k < n; k++)
                full_argv[k + 1] = argv[k];

        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0 ||
                    dup2(err_fd, STDERR_FILENO) < 0)
                        _exit(126);
                execve(c->skopeo, full_argv, envp);
                dprintf(STDERR_FILENO, "cannot execute %s: %s\n", c->skopeo, strerror(errno));
                _exit(127);
        }

        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;

        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                r = read_full_file(AT_FDCWD, stderr_path, SKOPEO_OUTPUT_MAX, &output, NULL);
                *ret_error_line =
                        r < 0 ? strdup("its error output cannot be read") : last_error_line(output);
                return -EIO;
        }

        if (ret_stdout) {
                r = read_full_file(AT_FDCWD, stdout_path, SKOPEO_OUTPUT_MAX, &output, &size);
                if (r < 0)
                        return r;
                *ret_stdout = TAKE_PTR(output);
                *ret_size = size;
        }
        return 0;
}

int registry_copy_to_layout(const SkopeoContext *c, const RegistryReference *ref, char **ret_layout_dir,
                            char **ret_error) {
        _cleanup_free_ char *authfile = NULL, *authfile_arg = NULL, *source = NULL, *layout = NULL;
        _cleanup_free_ char *destination = NULL, *error_line = NULL;
        int r;

        r = write_authfile(c, ref->host, &authfile);
        if (r < 0) {
                (void)set_error(ret_error, "the registry credentials cannot be written: %s", strerror(-r));
                return r;
        }

        if (asprintf(&authfile_arg, "--src-authfile=%s", authfile) < 0 ||
            asprintf(&layout, "%s/layout", c->work_dir) < 0 ||
            asprintf(&destination, "oci:%s:image", layout) < 0)
                return -ENOMEM;
        r = reference_to_docker_uri(ref, &source);
        if (r < 0)
                return r;

        char *argv[] = {
                NULL,
                (char *)"copy",
                (char *)"--quiet",
                authfile_arg,
                (char *)(c->insecure ? "--src-tls-verify=false" : "--src-tls-verify=true"),
                source,
                destination,
                NULL,
        };

        r = skopeo_run(c, SKOPEO_COPY_TIMEOUT, argv, NULL, NULL, &error_line);
        if (r < 0) {
                (void)set_error(ret_error, "skopeo copy failed: %s", strna(error_line));
                return r;
        }

        *ret_layout_dir = TAKE_PTR(layout);
        return 0;
}

int registry_resolve_digest(const SkopeoContext *c, const RegistryReference *ref, char **ret_digest,
                            char **ret_error) {
        _cleanup_free_ char *authfile = NULL, *authfile_arg = NULL, *source = NULL, *error_line = NULL;
        _cleanup_free_ char *raw = NULL, *media_type = NULL, *clause = NULL, *digest = NULL;
        _cleanup_(oci_index_freep) OciIndex *index = NULL;
        char raw_digest[DIGEST_STRING_SIZE];
        OciMediaKind kind;
        size_t size;
        int r;

        r = write_authfile(c, ref->host, &authfile);
        if (r < 0) {
                (void)set_error(ret_error, "the registry credentials cannot be written: %s", strerror(-r));
                return r;
        }

        if (asprintf(&authfile_arg, "--authfile=%s", authfile) < 0)
                return -ENOMEM;
        r = reference_to_docker_uri(ref, &source);
        if (r < 0)
                return r;

        char *argv[] = {
                NULL,
                (char *)"inspect",
                (char *)"--raw",
                authfile_arg,
                (char *)(c->insecure ? "--tls-verify=false" : "--tls-verify=true"),
                source,
                NULL,
        };

        r = skopeo_run(c, SKOPEO_INSPECT_TIMEOUT, argv, &raw, &size, &error_line);
        if (r < 0) {
                (void)set_error(ret_error, "skopeo inspect failed: %s", strna(error_line));
                return r;
        }

        r = digest_buffer(raw, size, raw_digest);
        if (r < 0)
                return r;
        if (ref->digest && !streq(raw_digest, ref->digest))
                return set_error(ret_error,
                                 "digest mismatch: the registry returned a manifest with digest %s",
                                 raw_digest);

        r = oci_document_media_type(raw, size, &media_type, &kind);
        if (r < 0)
                return set_error(ret_error, "the registry returned a manifest that is not valid JSON");

        if (kind == OCI_MEDIA_INDEX) {
                r = oci_index_parse(raw, size, &index, &clause);
                if (r < 0)
                        return set_error(ret_error, "image index %s is invalid: %s", raw_digest,
                                         strna(clause));

                const OciDescriptor *d = oci_index_find_host_platform(index);
                if (!d)
                        return set_error(ret_error, "image index %s has no manifest for linux/%s",
                                         raw_digest, oci_host_architecture());
                digest = strdup(d->digest);
        } else if (kind == OCI_MEDIA_MANIFEST)
                digest = strdup(raw_digest);
        else
                return set_error(ret_error, "the registry returned unsupported media type %s",
                                 strna(media_type));
        if (!digest)
                return -ENOMEM;

        *ret_digest = TAKE_PTR(digest);
        return 0;
}
