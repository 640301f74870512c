/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include "haproxy-cli.h"
#include "macro.h"

#define HAPROXY_CLI_TIMEOUT_SEC 10
#define HAPROXY_CLI_MAX_REPLY   (64U * 1024U * 1024U)

static int connect_unix(const char *socket_path) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        struct timeval tv = {.tv_sec = HAPROXY_CLI_TIMEOUT_SEC};
        _cleanup_close_ int fd = -1;

        if (strlen(socket_path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, socket_path);

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
                return -errno;
        if (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0)
                return -errno;

        return TAKE_FD(fd);
}

static int write_all(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
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

int haproxy_cli_command(const char *socket_path, const char *command, char **ret_output) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *line = NULL, *buf = NULL;
        size_t size = 0, used = 0;
        int r;

        if (!socket_path || !command || !ret_output)
                return -EINVAL;
        if (strpbrk(command, "\n;"))
                return -EINVAL;

        fd = connect_unix(socket_path);
        if (fd < 0)
                return fd;

        if (asprintf(&line, "%s\n", command) < 0)
                return -ENOMEM;
        r = write_all(fd, line, strlen(line));
        if (r < 0)
                return r;
        /* The master CLI keeps the connection open until it reads the end
         * of input, and the worker's runtime API replies to a half-closed
         * connection too. */
        if (shutdown(fd, SHUT_WR) < 0)
                return -errno;

        for (;;) {
                ssize_t k;

                if (size - used < 4096) {
                        size_t nsize = MAX(size * 2, (size_t)16384);
                        char *n;

                        if (nsize > HAPROXY_CLI_MAX_REPLY)
                                return -EMSGSIZE;
                        n = realloc(buf, nsize);
                        if (!n)
                                return -ENOMEM;
                        buf = n;
                        size = nsize;
                }

                k = recv(fd, buf + used, size - used - 1, 0);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        /* The master CLI may close with a reset after
                         * `reload`, because the master re-executes itself. */
                        if (errno == ECONNRESET)
                                break;
                        return -errno;
                }
                if (k == 0)
                        break;
                used += (size_t)k;
        }

        if (!buf) {
                buf = strdup("");
                if (!buf)
                        return -ENOMEM;
        }
        buf[used] = '\0';
        *ret_output = TAKE_PTR(buf);
        return 0;
}

static void strip_trailing_newlines(char *s) {
        size_t n = strlen(s);

        while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
                s[--n] = '\0';
}

int haproxy_cli_expect(const char *socket_path, const char *command, const char *const *ok_replies,
                       char **ret_reply) {
        _cleanup_free_ char *reply = NULL;
        bool ok;
        int r;

        r = haproxy_cli_command(socket_path, command, &reply);
        if (r < 0)
                return r;

        strip_trailing_newlines(reply);
        ok = reply[0] == '\0';
        for (const char *const *o = ok_replies; !ok && o && *o; o++)
                ok = streq(reply, *o);

        if (ret_reply)
                *ret_reply = TAKE_PTR(reply);
        return ok ? 0 : -EIO;
}
