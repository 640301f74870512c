/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "log.h"
#include "network-util.h"
#include "nft.h"

extern char **environ;

/* Upper limit on nft's diagnostics kept for the error sentence. */
#define NFT_OUTPUT_MAX 4096

static int write_all(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += k;
                n -= (size_t)k;
        }
        return 0;
}

static void destroy_file_actions(posix_spawn_file_actions_t *fa) {
        posix_spawn_file_actions_destroy(fa);
}

static void destroy_spawnattr(posix_spawnattr_t *attr) {
        posix_spawnattr_destroy(attr);
}

int nft_run_script(const char *script, char **ret_error) {
        _cleanup_close_ int script_fd = -1, output_read = -1, output_write = -1;
        _cleanup_(destroy_file_actions) posix_spawn_file_actions_t fa;
        _cleanup_(destroy_spawnattr) posix_spawnattr_t attr;
        char *const argv[] = {(char *)"nft", (char *)"-f", (char *)"-", NULL};
        char output[NFT_OUTPUT_MAX + 1];
        size_t n_output = 0;
        sigset_t empty, all;
        int pipe_fds[2], status, r;
        pid_t pid;

        /* The script goes through a memfd on stdin rather than a pipe, so a
         * large script cannot block the writer and nft exiting early cannot
         * raise SIGPIPE in the daemon. */
        script_fd = memfd_create("nft-script", MFD_CLOEXEC);
        if (script_fd < 0)
                return -errno;
        r = write_all(script_fd, script, strlen(script));
        if (r < 0)
                return r;
        if (lseek(script_fd, 0, SEEK_SET) < 0)
                return -errno;

        if (pipe2(pipe_fds, O_CLOEXEC) < 0)
                return -errno;
        output_read = pipe_fds[0];
        output_write = pipe_fds[1];

        posix_spawn_file_actions_init(&fa);
        posix_spawnattr_init(&attr);
        if (posix_spawn_file_actions_adddup2(&fa, script_fd, STDIN_FILENO) != 0 ||
            posix_spawn_file_actions_adddup2(&fa, output_write, STDOUT_FILENO) != 0 ||
            posix_spawn_file_actions_adddup2(&fa, output_write, STDERR_FILENO) != 0)
                return -ENOMEM;

        /* The daemon blocks signals for sd-event, so nft starts with an empty
         * signal mask and default handlers instead of inheriting them. */
        sigemptyset(&empty);
        sigfillset(&all);
        if (posix_spawnattr_setsigmask(&attr, &empty) != 0 ||
            posix_spawnattr_setsigdefault(&attr, &all) != 0 ||
            posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF) != 0)
                return -EINVAL;

        r = posix_spawnp(&pid, "nft", &fa, &attr, argv, environ);
        if (r == ENOENT)
                return error_set(ret_error, -ENOENT,
                                 "nft not found in PATH; install the nftables package to enable outbound "
                                 "traffic from instances.");
        if (r != 0)
                return error_set(ret_error, -r, "Failed to start nft: %s", strerror(r));

        /* Only nft holds the write end now, so read() sees EOF when it exits. */
        close(TAKE_FD(output_write));

        for (;;) {
                ssize_t k = read(output_read, output + n_output, NFT_OUTPUT_MAX - n_output);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                n_output += (size_t)k;
                if (n_output == NFT_OUTPUT_MAX) {
                        /* Drain the rest so nft does not block on a full pipe. */
                        char discard[512];
                        while (read(output_read, discard, sizeof(discard)) > 0)
                                ;
                        break;
                }
        }
        output[n_output] = 0;
        while (n_output > 0 && (output[n_output - 1] == '\n' || output[n_output - 1] == ' '))
                output[--n_output] = 0;

        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;

        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                log_debug("nft failed: %s", output);
                return error_set(ret_error, -EIO, "nft failed to apply the ruleset: %s",
                                 n_output > 0 ? output : "no output");
        }
        return 0;
}
