/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Commands sent to the running HAProxy: server changes through the
 * runtime API of the current worker, reloads through the master CLI. */

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "haproxy-cli.h"
#include "ingress-internal.h"
#include "log.h"

#define RELOAD_TIMEOUT_USEC     (15ULL * 1000000ULL)
#define DEL_SERVER_TIMEOUT_USEC (5ULL * 1000000ULL)
#define POLL_INTERVAL_USEC      50000U

int ingress_error(char **ret_error, int error, const char *format, ...) {
        va_list ap;
        char *m;

        if (!ret_error || *ret_error)
                return error;

        va_start(ap, format);
        if (vasprintf(&m, format, ap) >= 0)
                *ret_error = m;
        va_end(ap);
        return error;
}

static unsigned long long now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000ULL;
}

int ingress_runtime(Ingress *i, const char *command, const char *const *ok_replies, char **ret_error) {
        _cleanup_free_ char *reply = NULL;
        int r;

        r = haproxy_cli_expect(i->admin_socket, command, ok_replies, &reply);
        if (r == -EIO)
                return ingress_error(ret_error, r, "HAProxy rejected \"%s\": %s", command, reply);
        if (r < 0)
                return ingress_error(ret_error, r, "Failed to send \"%s\" to %s: %s", command,
                                     i->admin_socket, strerror(-r));
        log_debug("HAProxy runtime API: %s", command);
        return 0;
}

int ingress_runtime_add_server(Ingress *i, const IngressBackend *b, const IngressServer *s,
                               char **ret_error) {
        static const char *const added[] = {"New server registered.", NULL};
        _cleanup_free_ char *add = NULL, *enable = NULL, *reply = NULL;
        char addr[INET_ADDRSTRLEN];
        int r;

        inet_ntop(AF_INET, &s->addr, addr, sizeof(addr));
        if (asprintf(&add, "add server svc_%s/%s %s:%u maxconn %u%s", b->service_id, s->name, addr, s->port,
                     b->max_concurrency, s->draining ? " weight 0" : "") < 0)
                return -ENOMEM;

        r = haproxy_cli_expect(i->admin_socket, add, added, &reply);
        if (r == -EIO && strstr(reply, "Already exists"))
                return ingress_error(ret_error, -EEXIST, "HAProxy already has server %s in backend svc_%s.",
                                     s->name, b->service_id);
        if (r == -EIO)
                return ingress_error(ret_error, r, "HAProxy rejected \"%s\": %s", add, reply);
        if (r < 0)
                return ingress_error(ret_error, r, "Failed to send \"%s\" to %s: %s", add, i->admin_socket,
                                     strerror(-r));

        /* Servers added at runtime start in maintenance mode. */
        if (asprintf(&enable, "enable server svc_%s/%s", b->service_id, s->name) < 0)
                return -ENOMEM;
        return ingress_runtime(i, enable, NULL, ret_error);
}

static bool is_gone(const char *reply) {
        return streq(reply, "No such server.") || streq(reply, "No such backend.") ||
               streq(reply, "Can't find backend.");
}

int ingress_runtime_remove_server(Ingress *i, const char *service_id, const char *server, char **ret_error) {
        static const char *const deleted[] = {"Server deleted.", NULL};
        _cleanup_free_ char *maint = NULL, *shutdown = NULL, *del = NULL;
        unsigned long long deadline;
        int r;

        if (asprintf(&maint, "set server svc_%s/%s state maint", service_id, server) < 0 ||
            asprintf(&shutdown, "shutdown sessions server svc_%s/%s", service_id, server) < 0 ||
            asprintf(&del, "del server svc_%s/%s", service_id, server) < 0)
                return -ENOMEM;

        for (const char *cmd = maint; cmd; cmd = cmd == maint ? shutdown : NULL) {
                _cleanup_free_ char *reply = NULL;

                r = haproxy_cli_expect(i->admin_socket, cmd, NULL, &reply);
                if (r == -EIO && is_gone(reply))
                        return 0;
                if (r == -EIO)
                        return ingress_error(ret_error, r, "HAProxy rejected \"%s\": %s", cmd, reply);
                if (r < 0)
                        return ingress_error(ret_error, r, "Failed to send \"%s\" to %s: %s", cmd,
                                             i->admin_socket, strerror(-r));
        }

        /* `del server` fails while the server still has connections, idle
         * ones included, or queued requests. Closing them is asynchronous
         * in the worker, so retry for a few seconds. */
        deadline = now_usec() + DEL_SERVER_TIMEOUT_USEC;
        for (;;) {
                _cleanup_free_ char *reply = NULL;

                r = haproxy_cli_expect(i->admin_socket, del, deleted, &reply);
                if (r >= 0 || (r == -EIO && is_gone(reply)))
                        return 0;
                if (r != -EIO)
                        return ingress_error(ret_error, r, "Failed to send \"%s\" to %s: %s", del,
                                             i->admin_socket, strerror(-r));
                if (now_usec() > deadline)
                        return ingress_error(ret_error, -EBUSY, "HAProxy rejected \"%s\": %s", del, reply);
                usleep(POLL_INTERVAL_USEC);
        }
}

typedef struct ProcInfo {
        pid_t workers[64];
        size_t n_workers;
        unsigned failed_reloads;
} ProcInfo;

/* Parses the master CLI's `show proc` output of HAProxy 2.6:
 *     #<PID>  <type>  <reloads>  <uptime>  <version>
 *     1234    master  3 [failed: 0]  ...
 *     # workers
 *     1240    worker  0  ...
 *     # old workers
 *     ...
 * Only the current workers are collected. */
static int parse_show_proc(char *text, ProcInfo *ret) {
        ProcInfo info = {};
        bool in_workers = false, have_master = false;

        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
                long pid;
                char type[32];
                const char *failed;

                if (line[0] == '#') {
                        in_workers = streq(line, "# workers");
                        continue;
                }
                if (sscanf(line, "%ld %31s", &pid, type) != 2)
                        continue;

                if (streq(type, "master")) {
                        failed = strstr(line, "[failed: ");
                        if (failed)
                                info.failed_reloads =
                                        (unsigned)strtoul(failed + strlen("[failed: "), NULL, 10);
                        have_master = true;
                } else if (in_workers && streq(type, "worker") && info.n_workers < ELEMENTSOF(info.workers))
                        info.workers[info.n_workers++] = (pid_t)pid;
        }

        if (!have_master)
                return -EBADMSG;
        *ret = info;
        return 0;
}

static int show_proc(Ingress *i, ProcInfo *ret) {
        _cleanup_free_ char *out = NULL;
        int r;

        r = haproxy_cli_command(i->master_socket, "show proc", &out);
        if (r < 0)
                return r;
        return parse_show_proc(out, ret);
}

static int admin_pid(Ingress *i, pid_t *ret) {
        _cleanup_free_ char *out = NULL;
        const char *p;
        int r;

        r = haproxy_cli_command(i->admin_socket, "show info", &out);
        if (r < 0)
                return r;
        p = strstr(out, "\nPid: ");
        if (!p)
                return -EBADMSG;
        *ret = (pid_t)strtol(p + strlen("\nPid: "), NULL, 10);
        return 0;
}

static bool pid_in(const ProcInfo *info, pid_t pid) {
        for (size_t k = 0; k < info->n_workers; k++)
                if (info->workers[k] == pid)
                        return true;
        return false;
}

/* Asks the master to reload and waits until a new worker replies on
 * admin.sock. The old worker keeps serving its open connections until they
 * end or hard-stop-after expires. Returns -EBADMSG if the master reports a
 * failed reload and -ETIMEDOUT if no new worker shows up in time. */
int ingress_reload(Ingress *i, char **ret_error) {
        _cleanup_free_ char *out = NULL;
        unsigned long long deadline;
        ProcInfo before, now;
        pid_t new_pid = 0;
        int r;

        r = show_proc(i, &before);
        if (r < 0)
                return ingress_error(ret_error, r, "Failed to query HAProxy's master CLI at %s: %s",
                                     i->master_socket, strerror(-r));

        /* The master re-executes itself on `reload` and drops the
         * connection without a reply in HAProxy 2.6. */
        r = haproxy_cli_command(i->master_socket, "reload", &out);
        if (r < 0 && r != -ECONNRESET && r != -EPIPE)
                return ingress_error(ret_error, r, "Failed to send \"reload\" to %s: %s", i->master_socket,
                                     strerror(-r));

        deadline = now_usec() + RELOAD_TIMEOUT_USEC;
        for (; now_usec() < deadline; usleep(POLL_INTERVAL_USEC)) {
                if (new_pid == 0) {
                        if (show_proc(i, &now) < 0)
                                continue; /* the master is re-executing */
                        if (now.failed_reloads > before.failed_reloads)
                                return ingress_error(
                                        ret_error, -EBADMSG,
                                        "HAProxy failed to reload %s; the previous worker keeps "
                                        "serving.",
                                        i->config_path);
                        for (size_t k = 0; k < now.n_workers && new_pid == 0; k++)
                                if (!pid_in(&before, now.workers[k]))
                                        new_pid = now.workers[k];
                        if (new_pid == 0)
                                continue;
                }

                pid_t pid;
                if (admin_pid(i, &pid) >= 0 && pid == new_pid) {
                        log_debug("HAProxy reloaded, new worker %ld.", (long)new_pid);
                        return 0;
                }
        }

        return ingress_error(ret_error, -ETIMEDOUT, "Timed out waiting for HAProxy to reload %s.",
                             i->config_path);
}
