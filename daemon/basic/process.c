/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include "process.h"
#include "macro.h"

typedef struct Buffer {
        char *data;
        size_t size;
} Buffer;

static int buffer_append(Buffer *b, const char *p, size_t n) {
        char *d = realloc(b->data, b->size + n + 1);
        if (!d)
                return -ENOMEM;
        memcpy(d + b->size, p, n);
        b->size += n;
        d[b->size] = '\0';
        b->data = d;
        return 0;
}

int process_run(char *const argv[], const char *input, size_t input_size, char **ret_output,
                char **ret_errors) {
        static char *const envp[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                     "LANG=C", NULL};
        int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
        posix_spawn_file_actions_t fa;
        Buffer bout = {}, berr = {};
        size_t written = 0;
        pid_t pid;
        int r, status;

        if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
                r = -errno;
                goto finish;
        }

        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, in[0], 0);
        posix_spawn_file_actions_adddup2(&fa, out[1], 1);
        posix_spawn_file_actions_adddup2(&fa, err[1], 2);
        r = posix_spawn(&pid, argv[0], &fa, NULL, argv, envp);
        posix_spawn_file_actions_destroy(&fa);
        if (r != 0) {
                r = -r;
                goto finish;
        }

        closep(&in[0]);
        closep(&out[1]);
        closep(&err[1]);
        in[0] = out[1] = err[1] = -1;
        if (!input || input_size == 0) {
                closep(&in[1]);
                in[1] = -1;
        } else
                (void)fcntl(in[1], F_SETFL, O_NONBLOCK);

        /* SIGPIPE from a child that exits without reading stdin must not
         * kill the daemon; MSG_NOSIGNAL does not apply to pipes. */
        signal(SIGPIPE, SIG_IGN);

        while (out[0] >= 0 || err[0] >= 0) {
                struct pollfd p[3] = {
                        {.fd = out[0], .events = POLLIN},
                        {.fd = err[0], .events = POLLIN},
                        {.fd = in[1], .events = POLLOUT},
                };
                char buf[4096];

                if (poll(p, 3, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                for (int k = 0; k < 2; k++) {
                        int *fd = k == 0 ? &out[0] : &err[0];
                        Buffer *b = k == 0 ? &bout : &berr;
                        if (*fd < 0 || !(p[k].revents & (POLLIN | POLLHUP | POLLERR)))
                                continue;
                        ssize_t n = read(*fd, buf, sizeof(buf));
                        if (n > 0) {
                                if (b->size < (16U << 20))
                                        (void)buffer_append(b, buf, (size_t)n);
                        } else if (n == 0 || errno != EINTR) {
                                closep(fd);
                                *fd = -1;
                        }
                }
                if (in[1] >= 0 && (p[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
                        ssize_t n = write(in[1], input + written, input_size - written);
                        if (n > 0)
                                written += (size_t)n;
                        if ((n < 0 && errno != EAGAIN && errno != EINTR) || written >= input_size) {
                                closep(&in[1]);
                                in[1] = -1;
                        }
                }
        }

        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR) {
                        r = -errno;
                        goto finish;
                }

        if (WIFEXITED(status))
                r = WEXITSTATUS(status);
        else
                r = -ECHILD;

        if (ret_output) {
                *ret_output = bout.data ?: strdup("");
                bout.data = NULL;
        }
        if (ret_errors) {
                *ret_errors = berr.data ?: strdup("");
                berr.data = NULL;
        }

finish:
        for (int k = 0; k < 2; k++) {
                closep(&in[k]);
                closep(&out[k]);
                closep(&err[k]);
        }
        if (bout.data)
                explicit_bzero(bout.data, bout.size);
        free(bout.data);
        free(berr.data);
        return r;
}
