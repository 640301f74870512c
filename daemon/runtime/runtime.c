/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "log.h"
#include "runtime.h"

extern char **environ;

char **runtime_argv(const char *crun_path, const char *bundle_dir, const char *container_id,
                    bool no_new_keyring) {
        const char *args[] = {
                crun_path,    "--cgroup-manager=disabled",
                "run",        no_new_keyring ? "--no-new-keyring" : NULL,
                "--bundle",   bundle_dir,
                container_id,
        };
        _cleanup_strv_free_ char **argv = NULL;
        size_t n = 0;

        argv = calloc(ELEMENTSOF(args) + 1, sizeof(char *));
        if (!argv)
                return NULL;

        for (size_t i = 0; i < ELEMENTSOF(args); i++) {
                if (!args[i])
                        continue;
                argv[n] = strdup(args[i]);
                if (!argv[n])
                        return NULL;
                n++;
        }

        return TAKE_PTR(argv);
}

static int container_state_exists(const char *container_id) {
        _cleanup_free_ char *path = NULL;

        if (asprintf(&path, RUNTIME_STATE_DIR "/%s", container_id) < 0)
                return -ENOMEM;
        if (access(path, F_OK) < 0)
                return errno == ENOENT ? 0 : -errno;
        return 1;
}

int runtime_delete(const char *crun_path, const char *container_id) {
        char *const argv[] = {
                (char *)crun_path,    (char *)"--cgroup-manager=disabled",
                (char *)"delete",     (char *)"-f",
                (char *)container_id, NULL,
        };
        posix_spawn_file_actions_t actions;
        pid_t pid;
        int r, status;

        /* crun reports a missing container as an error; checking first
         * distinguishes that from a failure to delete. */
        r = container_state_exists(container_id);
        if (r <= 0)
                return r;

        r = posix_spawn_file_actions_init(&actions);
        if (r != 0)
                return -r;
        r = posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        if (r == 0)
                r = posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
        if (r == 0)
                r = posix_spawn(&pid, crun_path, &actions, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&actions);
        if (r != 0)
                return -r;

        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;

        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;

        /* The container may have gone away between the check and crun's
         * own lookup. */
        r = container_state_exists(container_id);
        if (r <= 0)
                return r;

        log_debug("%s delete -f %s failed with status %d.", crun_path, container_id, status);
        return -EIO;
}

bool runtime_in_container(void) {
        const char *e = getenv("container");

        if (e && *e)
                return true;
        return access("/run/systemd/container", F_OK) == 0;
}
