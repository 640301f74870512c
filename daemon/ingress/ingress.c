/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Desired state of the ingress and the calls that change it. The
 * invariant: after every successful call, haproxy.cfg and hosts.map on
 * disk describe the whole desired state (routes and servers), so a
 * restarted or reloaded HAProxy starts out correct. When the driver is
 * attached, the running HAProxy matches it too. */

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ingress-internal.h"
#include "log.h"

#define NAME_MAX_LEN 64
#define HOST_MAX_LEN 253

static bool valid_name(const char *s, const char *extra) {
        size_t n = 0;

        if (!s || !*s)
                return false;
        for (const char *p = s; *p; p++, n++)
                if (!isalnum((unsigned char)*p) && !strchr(extra, *p))
                        return false;
        return n <= NAME_MAX_LEN;
}

static bool valid_service_id(const char *s) {
        return valid_name(s, "_-");
}

static bool valid_server_name(const char *s) {
        return valid_name(s, "_.-");
}

static bool valid_host(const char *s) {
        size_t n;

        if (!s)
                return false;
        n = strlen(s);
        if (n == 0 || n > HOST_MAX_LEN || s[0] == '.' || s[0] == '-')
                return false;
        for (const char *p = s; *p; p++)
                if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-')
                        return false;
        return true;
}

/* Paths end up in the configuration and in runtime API commands, which
 * split at whitespace and ';'. */
static bool valid_path(const char *s) {
        if (!s || s[0] != '/')
                return false;
        for (const char *p = s; *p; p++)
                if (!isalnum((unsigned char)*p) && !strchr("/_.-", *p))
                        return false;
        return true;
}

IngressBackend *ingress_find_backend(Ingress *i, const char *service_id) {
        for (size_t k = 0; k < i->n_backends; k++)
                if (streq(i->backends[k].service_id, service_id))
                        return &i->backends[k];
        return NULL;
}

IngressServer *ingress_backend_find_server(IngressBackend *b, const char *server) {
        for (size_t k = 0; k < b->n_servers; k++)
                if (streq(b->servers[k].name, server))
                        return &b->servers[k];
        return NULL;
}

void ingress_backend_done(IngressBackend *b) {
        free(b->service_id);
        free(b->host);
        for (size_t k = 0; k < b->n_servers; k++)
                free(b->servers[k].name);
        free(b->servers);
        *b = (IngressBackend){};
}

static void backends_free(IngressBackend *b, size_t n) {
        for (size_t k = 0; k < n; k++)
                ingress_backend_done(&b[k]);
        free(b);
}

int ingress_new(const IngressOptions *o, Ingress **ret) {
        _cleanup_(ingress_freep) Ingress *i = NULL;
        struct in_addr a;

        if (!o || !ret)
                return -EINVAL;
        if (!valid_path(o->run_dir) || strlen(o->run_dir) > 80)
                return -EINVAL;
        if (!o->listen_address || inet_pton(AF_INET, o->listen_address, &a) != 1)
                return -EINVAL;
        if (o->listen_port == 0 || o->request_timeout_sec == 0 || o->queue_timeout_sec == 0)
                return -EINVAL;
        if (o->haproxy_path && !valid_path(o->haproxy_path))
                return -EINVAL;

        i = calloc(1, sizeof(Ingress));
        if (!i)
                return -ENOMEM;
        i->prometheus = -1;
        i->listen_port = o->listen_port;
        i->inherited_listener = o->inherited_listener;
        i->metrics_port = o->metrics_port;
        i->queue_timeout_sec = o->queue_timeout_sec;
        i->request_timeout_sec = o->request_timeout_sec;

        i->run_dir = strdup(o->run_dir);
        i->listen_address = strdup(o->listen_address);
        i->haproxy_path = strdup(o->haproxy_path ?: "/usr/sbin/haproxy");
        if (!i->run_dir || !i->listen_address || !i->haproxy_path)
                return -ENOMEM;
        if (asprintf(&i->config_path, "%s/haproxy.cfg", o->run_dir) < 0 ||
            asprintf(&i->map_path, "%s/hosts.map", o->run_dir) < 0 ||
            asprintf(&i->admin_socket, "%s/admin.sock", o->run_dir) < 0 ||
            asprintf(&i->master_socket, "%s/master.sock", o->run_dir) < 0)
                return -ENOMEM;

        *ret = TAKE_PTR(i);
        return 0;
}

Ingress *ingress_free(Ingress *i) {
        if (!i)
                return NULL;
        backends_free(i->backends, i->n_backends);
        free(i->run_dir);
        free(i->listen_address);
        free(i->haproxy_path);
        free(i->config_path);
        free(i->map_path);
        free(i->admin_socket);
        free(i->master_socket);
        free(i);
        return NULL;
}

static int validate_routes(Ingress *i, const IngressRoute *routes, size_t n, char **ret_error) {
        for (size_t k = 0; k < n; k++) {
                const IngressRoute *r = &routes[k];

                if (!valid_service_id(r->service_id))
                        return ingress_error(ret_error, -EINVAL, "Invalid service id \"%s\".",
                                             strna(r->service_id));
                if (!valid_host(r->host))
                        return ingress_error(ret_error, -EINVAL, "Invalid host \"%s\" for service %s.",
                                             strna(r->host), r->service_id);
                if (r->max_concurrency == 0)
                        return ingress_error(ret_error, -EINVAL,
                                             "MaxConcurrency of service %s must be at least 1.",
                                             r->service_id);
                if (r->state != ROUTE_RUNNING && r->state != ROUTE_PAUSED)
                        return ingress_error(ret_error, -EINVAL, "Invalid route state %d for service %s.",
                                             (int)r->state, r->service_id);

                for (size_t j = 0; j < k; j++) {
                        if (streq(routes[j].service_id, r->service_id))
                                return ingress_error(ret_error, -EINVAL, "Service %s is listed twice.",
                                                     r->service_id);
                        if (strcasecmp(routes[j].host, r->host) == 0)
                                return ingress_error(ret_error, -EINVAL,
                                                     "Host %s is used by services %s and %s.", r->host,
                                                     routes[j].service_id, r->service_id);
                }
        }
        return 0;
}

/* Builds the new backend array. Servers move from the old backend of the
 * same service, so on success the old array keeps only empty server
 * lists. On failure nothing has moved. */
static int build_backends(Ingress *i, const IngressRoute *routes, size_t n, IngressBackend **ret) {
        IngressBackend *nb;

        nb = calloc(MAX(n, (size_t)1), sizeof(IngressBackend));
        if (!nb)
                return -ENOMEM;

        for (size_t k = 0; k < n; k++) {
                nb[k].service_id = strdup(routes[k].service_id);
                nb[k].host = strdup(routes[k].host);
                if (!nb[k].service_id || !nb[k].host) {
                        backends_free(nb, n);
                        return -ENOMEM;
                }
                for (char *p = nb[k].host; *p; p++)
                        *p = (char)tolower((unsigned char)*p);
                nb[k].state = routes[k].state;
                nb[k].max_concurrency = routes[k].max_concurrency;
                nb[k].request_timeout_sec = routes[k].request_timeout_sec ?: i->request_timeout_sec;
        }

        for (size_t k = 0; k < n; k++) {
                IngressBackend *old = ingress_find_backend(i, nb[k].service_id);

                if (!old)
                        continue;
                nb[k].servers = TAKE_PTR(old->servers);
                nb[k].n_servers = old->n_servers;
                old->n_servers = 0;
        }

        *ret = nb;
        return 0;
}

int ingress_set_routes(Ingress *i, const IngressRoute *routes, size_t n, char **ret_error) {
        IngressBackend *old, *nb = NULL;
        size_t n_old;
        int r;

        if (!i || (n > 0 && !routes))
                return -EINVAL;

        r = validate_routes(i, routes, n, ret_error);
        if (r < 0)
                return r;

        r = build_backends(i, routes, n, &nb);
        if (r < 0)
                return r;

        old = i->backends;
        n_old = i->n_backends;
        i->backends = nb;
        i->n_backends = n;

        r = ingress_write_config(i, ret_error);
        if (r < 0) {
                /* Move the servers back and restore the previous routes. */
                for (size_t k = 0; k < n; k++) {
                        IngressBackend *b = NULL;

                        for (size_t j = 0; j < n_old && !b; j++)
                                if (streq(old[j].service_id, nb[k].service_id))
                                        b = &old[j];
                        if (!b)
                                continue;
                        b->servers = TAKE_PTR(nb[k].servers);
                        b->n_servers = nb[k].n_servers;
                        nb[k].n_servers = 0;
                }
                backends_free(nb, n);
                i->backends = old;
                i->n_backends = n_old;
                return r;
        }

        backends_free(old, n_old);

        if (!i->attached)
                return 0;
        return ingress_apply(i, ret_error);
}

int ingress_server_add(Ingress *i, const char *service_id, const char *server, struct in_addr addr,
                       uint16_t port, char **ret_error) {
        IngressBackend *b;
        IngressServer *s, *ns;
        int r;

        if (!i || !service_id || port == 0)
                return -EINVAL;
        if (!valid_server_name(server))
                return ingress_error(ret_error, -EINVAL, "Invalid server name \"%s\".", strna(server));

        b = ingress_find_backend(i, service_id);
        if (!b)
                return ingress_error(ret_error, -ENOENT, "No route for service %s.", service_id);
        if (ingress_backend_find_server(b, server))
                return ingress_error(ret_error, -EEXIST, "Service %s already has server %s.", service_id,
                                     server);

        ns = realloc(b->servers, (b->n_servers + 1) * sizeof(IngressServer));
        if (!ns)
                return -ENOMEM;
        b->servers = ns;
        s = &b->servers[b->n_servers];
        *s = (IngressServer){.name = strdup(server), .addr = addr, .port = port};
        if (!s->name)
                return -ENOMEM;

        if (i->attached) {
                r = ingress_runtime_add_server(i, b, s, ret_error);
                if (r < 0) {
                        free(s->name);
                        return r;
                }
        }
        b->n_servers++;

        return ingress_write_config(i, ret_error);
}

int ingress_server_drain(Ingress *i, const char *service_id, const char *server) {
        _cleanup_free_ char *cmd = NULL;
        IngressBackend *b;
        IngressServer *s;
        int r;

        if (!i || !service_id || !server)
                return -EINVAL;
        b = ingress_find_backend(i, service_id);
        if (!b)
                return -ENOENT;
        s = ingress_backend_find_server(b, server);
        if (!s)
                return -ENOENT;

        if (i->attached) {
                if (asprintf(&cmd, "set server svc_%s/%s state drain", service_id, server) < 0)
                        return -ENOMEM;
                r = ingress_runtime(i, cmd, NULL, NULL);
                if (r < 0)
                        return r;
        }
        s->draining = true;

        /* A draining server is written with weight 0, which HAProxy treats
         * as draining after a reload. */
        return ingress_write_config(i, NULL);
}

int ingress_server_remove(Ingress *i, const char *service_id, const char *server) {
        IngressBackend *b;
        IngressServer *s;
        int r;

        if (!i || !service_id || !server)
                return -EINVAL;
        b = ingress_find_backend(i, service_id);
        if (!b)
                return -ENOENT;
        s = ingress_backend_find_server(b, server);
        if (!s)
                return -ENOENT;

        if (i->attached) {
                r = ingress_runtime_remove_server(i, service_id, server, NULL);
                if (r < 0)
                        return r;
        }

        free(s->name);
        memmove(s, s + 1, (size_t)(b->servers + b->n_servers - (s + 1)) * sizeof(IngressServer));
        b->n_servers--;

        return ingress_write_config(i, NULL);
}
