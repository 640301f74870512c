/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "log.h"
#include "process.h"
#include "secrets.h"
#include "store.h"

#define SYSTEMD_CREDS "/usr/bin/systemd-creds"

static int open_secrets_dir(const char *state_dir, char **ret_path) {
        _cleanup_free_ char *path = NULL;
        int fd;

        if (asprintf(&path, "%s/secrets", state_dir) < 0)
                return -ENOMEM;
        if (mkdir(path, 0700) < 0 && errno != EEXIST)
                return -errno;
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (ret_path)
                *ret_path = TAKE_PTR(path);
        return fd;
}

int secret_store(const char *state_dir, const char *id, const char *secret) {
        _cleanup_free_ char *name = NULL, *errors = NULL, *encrypted = NULL, *creds_name = NULL;
        _cleanup_close_ int dir_fd = -1;
        int r;

        dir_fd = open_secrets_dir(state_dir, NULL);
        if (dir_fd < 0)
                return dir_fd;

        /* systemd-creds writes the credential as Base64 text to stdout. The file
         * is written here with the same atomic rename as state documents, so a
         * crash leaves either no file or a whole one. */
        if (access(SYSTEMD_CREDS, X_OK) == 0) {
                if (asprintf(&creds_name, "--name=%s", id) < 0)
                        return -ENOMEM;
                char *argv[] = {(char *)SYSTEMD_CREDS, (char *)"encrypt", creds_name,
                                (char *)"-",           (char *)"-",       NULL};
                r = process_run(argv, secret, strlen(secret), &encrypted, &errors);
                if (r == 0 && encrypted && encrypted[0] != '\0') {
                        if (asprintf(&name, "%s.cred", id) < 0)
                                return -ENOMEM;
                        return store_write_file_atomic(dir_fd, name, encrypted, strlen(encrypted), 0600);
                }
                log_info("systemd-creds could not encrypt the secret of connection %s (%s); storing it in a "
                         "root-only file instead.",
                         id,
                         r < 0   ? strerror(-r)
                         : r > 0 ? strempty(errors)
                                 : "empty output");
        }

        if (asprintf(&name, "%s.secret", id) < 0)
                return -ENOMEM;
        return store_write_file_atomic(dir_fd, name, secret, strlen(secret), 0600);
}

int secret_load(const char *state_dir, const char *id, char **ret_secret) {
        _cleanup_free_ char *dir = NULL, *cred = NULL, *plain = NULL, *name = NULL, *errors = NULL;
        _cleanup_close_ int dir_fd = -1;
        char *output = NULL;
        int r;

        dir_fd = open_secrets_dir(state_dir, &dir);
        if (dir_fd < 0)
                return dir_fd;

        if (asprintf(&cred, "%s/%s.cred", dir, id) < 0 || asprintf(&plain, "%s/%s.secret", dir, id) < 0 ||
            asprintf(&name, "--name=%s", id) < 0)
                return -ENOMEM;

        if (access(cred, F_OK) == 0) {
                char *argv[] = {(char *)SYSTEMD_CREDS, (char *)"decrypt", name, cred, (char *)"-", NULL};
                r = process_run(argv, NULL, 0, &output, &errors);
                if (r != 0) {
                        free(output);
                        return log_error_errno(r < 0 ? r : -EBADMSG, "Failed to decrypt %s: %s", cred,
                                               strempty(errors));
                }
                *ret_secret = output;
                return 0;
        }

        _cleanup_close_ int fd = open(plain, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (st.st_size > 65536)
                return -EFBIG;
        output = calloc(1, (size_t)st.st_size + 1);
        if (!output)
                return -ENOMEM;
        if (read(fd, output, (size_t)st.st_size) != st.st_size) {
                free(output);
                return -EIO;
        }
        *ret_secret = output;
        return 0;
}

int secret_remove(const char *state_dir, const char *id) {
        _cleanup_close_ int dir_fd = -1;
        char name[256];

        dir_fd = open_secrets_dir(state_dir, NULL);
        if (dir_fd < 0)
                return dir_fd;
        snprintf(name, sizeof(name), "%s.cred", id);
        (void)unlinkat(dir_fd, name, 0);
        snprintf(name, sizeof(name), "%s.secret", id);
        (void)unlinkat(dir_fd, name, 0);
        return 0;
}

int secret_prune(const char *state_dir, bool (*keep)(const char *id, void *userdata), void *userdata) {
        _cleanup_close_ int dir_fd = -1;
        _cleanup_free_ char *dir = NULL;
        struct dirent *de;
        DIR *d;
        int removed = 0;

        dir_fd = open_secrets_dir(state_dir, &dir);
        if (dir_fd < 0)
                return dir_fd;
        d = fdopendir(dir_fd);
        if (!d)
                return -errno;
        /* The DIR now owns the file descriptor. */
        dir_fd = -1;

        while ((de = readdir(d))) {
                const char *name = de->d_name, *dot;
                _cleanup_free_ char *id = NULL;

                if (streq(name, ".") || streq(name, ".."))
                        continue;
                if (strncmp(name, ".#", 2) != 0) {
                        dot = strrchr(name, '.');
                        if (!dot || (!streq(dot, ".cred") && !streq(dot, ".secret")))
                                continue;
                        id = strndup(name, (size_t)(dot - name));
                        if (!id) {
                                closedir(d);
                                return -ENOMEM;
                        }
                        if (keep(id, userdata))
                                continue;
                }
                if (unlinkat(dirfd(d), name, 0) < 0) {
                        log_warning("Failed to remove %s/%s: %s", dir, name, strerror(errno));
                        continue;
                }
                if (id)
                        log_info("Removed %s/%s because no stored connection refers to it.", dir, name);
                else
                        log_info("Removed %s/%s, left by an interrupted write.", dir, name);
                removed++;
        }
        closedir(d);
        return removed;
}
