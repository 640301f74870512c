/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "log.h"
#include "model.h"
#include "store.h"

static const char *const kind_dirs[_STORE_KIND_MAX] = {
        [STORE_SERVICES] = "services",
        [STORE_OPERATIONS] = "operations",
        [STORE_AUTO_SCALING_CONFIGURATIONS] = "auto-scaling-configurations",
        [STORE_CONNECTIONS] = "connections",
};

struct Store {
        char *root;
        int root_fd;
        int dir_fds[_STORE_KIND_MAX];
};

Store *store_free(Store *s) {
        if (!s)
                return NULL;
        for (int i = 0; i < _STORE_KIND_MAX; i++)
                closep(&s->dir_fds[i]);
        closep(&s->root_fd);
        free(s->root);
        free(s);
        return NULL;
}

static void store_freep(Store **s) {
        store_free(*s);
}

const char *store_root(Store *s) {
        return s->root;
}

static int open_subdir(int parent_fd, const char *name) {
        if (mkdirat(parent_fd, name, 0700) < 0 && errno != EEXIST)
                return -errno;
        int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

int store_open(const char *root, Store **ret) {
        _cleanup_(store_freep) Store *s = NULL;

        s = calloc(1, sizeof(Store));
        if (!s)
                return -ENOMEM;
        s->root_fd = -1;
        for (int i = 0; i < _STORE_KIND_MAX; i++)
                s->dir_fds[i] = -1;

        s->root = strdup(root);
        if (!s->root)
                return -ENOMEM;

        if (mkdir(root, 0755) < 0 && errno != EEXIST)
                return log_error_errno(errno, "Failed to create state directory %s: %m", root);
        s->root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->root_fd < 0)
                return log_error_errno(errno, "Failed to open state directory %s: %m", root);

        for (int i = 0; i < _STORE_KIND_MAX; i++) {
                s->dir_fds[i] = open_subdir(s->root_fd, kind_dirs[i]);
                if (s->dir_fds[i] < 0)
                        return log_error_errno(s->dir_fds[i], "Failed to open %s/%s: %m", root,
                                               kind_dirs[i]);
        }

        *ret = TAKE_PTR(s);
        return 0;
}

int store_write_file_atomic(int dir_fd, const char *name, const void *data, size_t size, mode_t mode) {
        char tmp[NAME_MAX + 1];
        _cleanup_close_ int fd = -1;
        const char *p = data;
        int r;

        static unsigned counter = 0;

        r = snprintf(tmp, sizeof(tmp), ".#%s.%d.%u", name, (int)getpid(), counter++);
        if (r < 0 || (size_t)r >= sizeof(tmp))
                return -ENAMETOOLONG;

        fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        if (fd < 0)
                return -errno;

        while (size > 0) {
                ssize_t n = write(fd, p, size);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        goto fail;
                }
                p += n;
                size -= (size_t)n;
        }

        if (fsync(fd) < 0) {
                r = -errno;
                goto fail;
        }
        if (renameat(dir_fd, tmp, dir_fd, name) < 0) {
                r = -errno;
                goto fail;
        }
        if (fsync(dir_fd) < 0)
                return -errno;
        return 0;

fail:
        (void)unlinkat(dir_fd, tmp, 0);
        return r;
}

int store_write(Store *s, StoreKind kind, const char *id, json_object *doc) {
        char name[NAME_MAX + 1];
        const char *text;
        size_t length;
        int r;

        snprintf(name, sizeof(name), "%s.json", id);
        text = json_object_to_json_string_length(
                doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE, &length);
        if (!text)
                return -ENOMEM;

        r = store_write_file_atomic(s->dir_fds[kind], name, text, length, 0600);
        if (r < 0)
                return log_error_errno(r, "Failed to write %s/%s/%s: %m", s->root, kind_dirs[kind], name);
        return 0;
}

int store_remove(Store *s, StoreKind kind, const char *id) {
        char name[NAME_MAX + 1];

        snprintf(name, sizeof(name), "%s.json", id);
        if (unlinkat(s->dir_fds[kind], name, 0) < 0 && errno != ENOENT)
                return log_error_errno(errno, "Failed to remove %s/%s/%s: %m", s->root, kind_dirs[kind],
                                       name);
        if (fsync(s->dir_fds[kind]) < 0)
                return -errno;
        return 0;
}

static void move_aside(Store *s, StoreKind kind, const char *name, const char *reason) {
        char target[NAME_MAX + 1];
        _cleanup_close_ int corrupt_fd = -1;

        corrupt_fd = open_subdir(s->root_fd, "corrupt");
        if (corrupt_fd < 0) {
                log_error_errno(corrupt_fd, "Failed to create %s/corrupt, leaving %s/%s/%s in place: %m",
                                s->root, s->root, kind_dirs[kind], name);
                return;
        }

        snprintf(target, sizeof(target), "%s-%s.%llu", kind_dirs[kind], name,
                 (unsigned long long)now_usec());
        if (renameat(s->dir_fds[kind], name, corrupt_fd, target) < 0) {
                log_error_errno(errno, "Failed to move corrupt %s/%s/%s aside: %m", s->root, kind_dirs[kind],
                                name);
                return;
        }
        (void)fsync(s->dir_fds[kind]);
        log_error("State file %s/%s/%s is corrupt (%s); moved it to %s/corrupt/%s.", s->root,
                  kind_dirs[kind], name, reason, s->root, target);
}

static int name_compare(const struct dirent **a, const struct dirent **b) {
        return strcmp((*a)->d_name, (*b)->d_name);
}

int store_load(Store *s, StoreKind kind, store_load_func_t func, void *userdata) {
        struct dirent **entries = NULL;
        int n, moved = 0, ret = 0;

        /* scandirat() wants a path relative to a directory fd. */
        n = scandirat(s->root_fd, kind_dirs[kind], &entries, NULL, name_compare);
        if (n < 0)
                return log_error_errno(errno, "Failed to read %s/%s: %m", s->root, kind_dirs[kind]);

        for (int i = 0; i < n; i++) {
                const char *name = entries[i]->d_name;
                size_t len = strlen(name);
                json_object *doc = NULL;
                _cleanup_free_ char *id = NULL;
                int r;

                if (name[0] == '.') {
                        if (strncmp(name, ".#", 2) == 0) {
                                log_info("Removing %s/%s/%s, left by an interrupted write.", s->root,
                                         kind_dirs[kind], name);
                                (void)unlinkat(s->dir_fds[kind], name, 0);
                        }
                        goto next;
                }
                if (len <= 5 || !streq(name + len - 5, ".json"))
                        goto next;

                id = strndup(name, len - 5);
                if (!id) {
                        ret = -ENOMEM;
                        goto next;
                }

                {
                        _cleanup_close_ int fd = openat(s->dir_fds[kind], name, O_RDONLY | O_CLOEXEC);
                        if (fd >= 0)
                                doc = json_object_from_fd(fd);
                }
                if (!doc) {
                        move_aside(s, kind, name, json_util_get_last_err() ?: "unreadable");
                        moved++;
                        goto next;
                }

                r = func(kind, id, doc, userdata);
                json_object_put(doc);
                if (r == -ENOMEM) {
                        ret = r;
                        goto next;
                }
                if (r < 0) {
                        move_aside(s, kind, name, "invalid content");
                        moved++;
                }
        next:
                free(entries[i]);
        }
        free(entries);
        return ret < 0 ? ret : moved;
}
