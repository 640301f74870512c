/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Makes the running HAProxy match the desired state: a reload when its
 * configuration structure differs, then runtime commands for servers and
 * host map entries. ingress_set_routes() uses the same path, so a route
 * change that needs no reload sends only runtime commands. */

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "haproxy-cli.h"
#include "ingress-internal.h"
#include "log.h"

/* srv_admin_state bits of `show servers state` (HAProxy's SRV_ADMF_*). */
#define ADMIN_FORCED_MAINT 0x01U
#define ADMIN_FORCED_DRAIN 0x08U
#define ADMIN_DRAIN        0x18U

typedef struct LiveServer {
        char name[128];
        char addr[64];
        unsigned port;
        unsigned admin_state;
        unsigned weight;
        unsigned maxconn;
        bool desired;
} LiveServer;

static int runtimef(Ingress *i, char **ret_error, const char *format, ...) _printf_(3, 4);
static int runtimef(Ingress *i, char **ret_error, const char *format, ...) {
        _cleanup_free_ char *cmd = NULL;
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(&cmd, format, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        return ingress_runtime(i, cmd, NULL, ret_error);
}

/* Returns 1 if the running HAProxy lacks a desired backend, has an extra
 * svc_ backend, or loaded a configuration with another structure hash. */
static int needs_reload(Ingress *i) {
        _cleanup_free_ char *hash = NULL, *env = NULL, *backends = NULL, *expected = NULL;
        size_t n_svc = 0;
        int r;

        r = ingress_structure_hash(i, &hash);
        if (r < 0)
                return r;
        r = haproxy_cli_command(i->admin_socket, "show env " INGRESS_STRUCTURE_ENV, &env);
        if (r < 0)
                return r;
        if (asprintf(&expected, "%s=%s\n", INGRESS_STRUCTURE_ENV, hash) < 0)
                return -ENOMEM;
        if (strncmp(env, expected, strlen(expected)) != 0) {
                log_debug("HAProxy runs another configuration structure: %s", env);
                return 1;
        }

        r = haproxy_cli_command(i->admin_socket, "show backend", &backends);
        if (r < 0)
                return r;
        for (char *line = strtok(backends, "\n"); line; line = strtok(NULL, "\n")) {
                if (strncmp(line, "svc_", 4) != 0)
                        continue;
                if (!ingress_find_backend(i, line + 4))
                        return 1;
                n_svc++;
        }
        return n_svc != i->n_backends;
}

static int load_live_servers(Ingress *i, const IngressBackend *b, LiveServer **ret, size_t *ret_n) {
        _cleanup_(stat_table_done) StatTable t = {};
        _cleanup_free_ char *cmd = NULL, *state = NULL, *stat = NULL;
        _cleanup_free_ LiveServer *v = NULL;
        size_t n = 0;
        int r;

        if (asprintf(&cmd, "show servers state svc_%s", b->service_id) < 0)
                return -ENOMEM;
        r = haproxy_cli_command(i->admin_socket, cmd, &state);
        if (r < 0)
                return r;

        /* Lines after the header: be_id be_name srv_id srv_name srv_addr
         * srv_op_state srv_admin_state srv_uweight ... with srv_port as
         * the 19th field. */
        for (char *line = strtok(state, "\n"); line; line = strtok(NULL, "\n")) {
                LiveServer s = {};
                unsigned port = 0;
                int k;

                if (line[0] == '#')
                        continue;
                k = sscanf(line,
                           "%*u %*s %*u %127s %63s %*u %u %u %*u %*u %*d %*u %*u %*u %*u %*u %*u %*s %u",
                           s.name, s.addr, &s.admin_state, &s.weight, &port);
                if (k != 5)
                        continue;
                s.port = port;

                LiveServer *nv = realloc(v, (n + 1) * sizeof(LiveServer));
                if (!nv)
                        return -ENOMEM;
                v = nv;
                v[n++] = s;
        }

        free(cmd);
        cmd = NULL;
        if (asprintf(&cmd, "show stat svc_%s 4 -1", b->service_id) < 0)
                return -ENOMEM;
        r = haproxy_cli_command(i->admin_socket, cmd, &stat);
        if (r < 0)
                return r;
        if (stat_table_parse(stat, &t) >= 0)
                for (size_t row = 0; row < t.n_rows; row++) {
                        const char *name = stat_table_get(&t, row, "svname");
                        const char *slim = stat_table_get(&t, row, "slim");

                        for (size_t k = 0; k < n && name; k++)
                                if (streq(v[k].name, name))
                                        v[k].maxconn = slim && *slim ? (unsigned)strtoul(slim, NULL, 10) : 0;
                }

        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

static int sync_server(Ingress *i, const IngressBackend *b, const IngressServer *s, const LiveServer *live,
                       char **ret_error) {
        const char *svc = b->service_id;
        bool live_draining;
        int r;

        if (live->maxconn != b->max_concurrency) {
                r = runtimef(i, ret_error, "set maxconn server svc_%s/%s %u", svc, s->name,
                             b->max_concurrency);
                if (r < 0)
                        return r;
        }

        live_draining = (live->admin_state & ADMIN_DRAIN) || live->weight == 0;
        if (s->draining) {
                if ((live->admin_state & ADMIN_FORCED_MAINT) || !live_draining)
                        return runtimef(i, ret_error, "set server svc_%s/%s state drain", svc, s->name);
                return 0;
        }

        if (live->admin_state & (ADMIN_FORCED_MAINT | ADMIN_FORCED_DRAIN)) {
                r = runtimef(i, ret_error, "set server svc_%s/%s state ready", svc, s->name);
                if (r < 0)
                        return r;
        }
        if (live->weight == 0)
                return runtimef(i, ret_error, "set weight svc_%s/%s 1", svc, s->name);
        return 0;
}

static int sync_servers(Ingress *i, const IngressBackend *b, char **ret_error) {
        _cleanup_free_ LiveServer *live = NULL;
        size_t n_live = 0;
        int r;

        r = load_live_servers(i, b, &live, &n_live);
        if (r < 0)
                return ingress_error(ret_error, r, "Failed to read the servers of backend svc_%s: %s",
                                     b->service_id, strerror(-r));

        for (size_t k = 0; k < b->n_servers; k++) {
                const IngressServer *s = &b->servers[k];
                LiveServer *l = NULL;
                char addr[INET_ADDRSTRLEN];

                inet_ntop(AF_INET, &s->addr, addr, sizeof(addr));
                for (size_t j = 0; j < n_live && !l; j++)
                        if (streq(live[j].name, s->name))
                                l = &live[j];

                if (l && (!streq(l->addr, addr) || l->port != s->port)) {
                        log_debug("Server svc_%s/%s moved from %s:%u to %s:%u, replacing it.", b->service_id,
                                  s->name, l->addr, l->port, addr, s->port);
                        r = ingress_runtime_remove_server(i, b->service_id, s->name, ret_error);
                        if (r < 0)
                                return r;
                        l->desired = true;
                        l = NULL;
                }

                if (l) {
                        l->desired = true;
                        r = sync_server(i, b, s, l, ret_error);
                } else {
                        r = ingress_runtime_add_server(i, b, s, ret_error);
                        if (r >= 0 && s->draining)
                                r = runtimef(i, ret_error, "set server svc_%s/%s state drain", b->service_id,
                                             s->name);
                }
                if (r < 0)
                        return r;
        }

        for (size_t j = 0; j < n_live; j++) {
                if (live[j].desired)
                        continue;
                log_debug("Removing server svc_%s/%s, which is not in the desired state.", b->service_id,
                          live[j].name);
                r = ingress_runtime_remove_server(i, b->service_id, live[j].name, ret_error);
                if (r < 0)
                        return r;
        }
        return 0;
}

static const char *desired_map_value(const IngressBackend *b, char *buf, size_t size) {
        const char *v = ingress_map_value(b);

        if (v)
                return v;
        snprintf(buf, size, "svc_%s", b->service_id);
        return buf;
}

/* Compares `show map` with the desired host entries and fixes the
 * difference with add/set/del map. */
static int sync_map(Ingress *i, char **ret_error) {
        _cleanup_free_ char *cmd = NULL, *out = NULL;
        int r;

        if (asprintf(&cmd, "show map %s", i->map_path) < 0)
                return -ENOMEM;
        r = haproxy_cli_command(i->admin_socket, cmd, &out);
        if (r < 0)
                return ingress_error(ret_error, r, "Failed to send \"%s\": %s", cmd, strerror(-r));

        /* Each line is "<entry pointer> <key> <value>". Entries whose key
         * is a desired host are marked by clearing the key. */
        char *saveptr = NULL;
        size_t n_lines = 0;
        char *lines[4096];
        for (char *line = strtok_r(out, "\n", &saveptr); line && n_lines < ELEMENTSOF(lines);
             line = strtok_r(NULL, "\n", &saveptr))
                if (strncmp(line, "0x", 2) == 0)
                        lines[n_lines++] = line;

        for (size_t k = 0; k < i->n_backends; k++) {
                const IngressBackend *b = &i->backends[k];
                char buf[128];
                const char *want = desired_map_value(b, buf, sizeof(buf));
                bool found = false, correct = false;

                for (size_t j = 0; j < n_lines; j++) {
                        char key[256], value[128];

                        if (sscanf(lines[j], "%*s %255s %127s", key, value) != 2 || !streq(key, b->host))
                                continue;
                        found = true;
                        correct = streq(value, want);
                        lines[j][0] = '\0';
                }

                if (!found)
                        r = runtimef(i, ret_error, "add map %s %s %s", i->map_path, b->host, want);
                else if (!correct)
                        r = runtimef(i, ret_error, "set map %s %s %s", i->map_path, b->host, want);
                else
                        r = 0;
                if (r < 0)
                        return r;
        }

        for (size_t j = 0; j < n_lines; j++) {
                char key[256];

                if (lines[j][0] == '\0' || sscanf(lines[j], "%*s %255s", key) != 1)
                        continue;
                r = runtimef(i, ret_error, "del map %s %s", i->map_path, key);
                if (r < 0)
                        return r;
        }
        return 0;
}

int ingress_apply(Ingress *i, char **ret_error) {
        int r;

        r = needs_reload(i);
        if (r < 0)
                return ingress_error(ret_error, r, "Failed to query HAProxy at %s: %s", i->admin_socket,
                                     strerror(-r));
        if (r > 0) {
                /* The new worker loads every server and host from the files
                 * just written, so the runtime steps below find nothing to
                 * fix unless state changed in between. */
                r = ingress_reload(i, ret_error);
                if (r < 0)
                        return r;
        }

        for (size_t k = 0; k < i->n_backends; k++) {
                r = sync_servers(i, &i->backends[k], ret_error);
                if (r < 0)
                        return r;
        }
        return sync_map(i, ret_error);
}

int ingress_resync(Ingress *i, char **ret_error) {
        int r;

        if (!i)
                return -EINVAL;

        r = ingress_write_config(i, ret_error);
        if (r < 0)
                return r;
        r = ingress_apply(i, ret_error);
        if (r < 0)
                return r;

        i->attached = true;
        return 0;
}
