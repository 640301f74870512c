/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Ingress driver: keeps the desired routing state in memory and makes the
 * HAProxy behind apprunner-ingress.service match it. HAProxy does all HTTP
 * work; this module only writes HAProxy's configuration and sends commands
 * to its runtime API (admin.sock) and master CLI (master.sock).
 *
 * Each service is a backend `svc_<service_id>`. The frontend picks the
 * backend by looking up the Host header (lowercased, without a :port
 * suffix) in the map file hosts.map, so host changes and pausing are
 * runtime map updates. Adding or removing a service, or changing a
 * request timeout, rewrites the configuration and reloads HAProxy through
 * the master CLI. Servers are added and removed at runtime. Every
 * configuration written also lists all current servers, because HAProxy
 * drops runtime-added servers on reload.
 *
 * A new driver starts detached: ingress_set_routes() and the server calls
 * only record the desired state and write the configuration, without
 * talking to HAProxy, until the first successful ingress_resync(). This
 * lets apprunnerd rebuild the desired state after a restart and then
 * repair HAProxy in one step instead of reloading on every call.
 *
 * All calls block while they talk to HAProxy: a runtime command takes
 * well under a millisecond, a reload up to 15 s in the worst case. */

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Ingress Ingress;

typedef struct IngressOptions {
        const char *run_dir; /* /run/apprunner/ingress: haproxy.cfg, hosts.map, admin.sock, master.sock */
        const char *listen_address;   /* IPv4 address of the HTTP listener, 127.0.0.1 */
        uint16_t listen_port;         /* 80 */
        unsigned queue_timeout_sec;   /* how long a request may wait for a free server slot */
        unsigned request_timeout_sec; /* default `timeout server` for routes that set 0 */
        uint16_t metrics_port;        /* 0 = off; Prometheus text at http://127.0.0.1:<port>/metrics */
        const char *haproxy_path;     /* NULL = /usr/sbin/haproxy, used for `haproxy -c` and `-vv` */
        /* The HTTP listener is a socket that HAProxy inherits as file
         * descriptor 3 from apprunner-ingress.socket, so that it stays open
         * while HAProxy restarts. The configuration then binds
         * "${INGRESS_BIND_ENV}", which apprunner-ingress.service sets to
         * fd@3, and `haproxy -c` gets listen_address:listen_port instead. */
        bool inherited_listener;
} IngressOptions;

#define INGRESS_BIND_ENV "APPRUNNER_INGRESS_BIND"

typedef enum RouteState {
        ROUTE_RUNNING,
        ROUTE_PAUSED, /* requests get HTTP 503 with a text body saying the service is paused */
} RouteState;

typedef struct IngressRoute {
        const char *service_id; /* [A-Za-z0-9_-], at most 64 characters */
        const char *host;       /* DNS name, matched case-insensitively */
        RouteState state;
        unsigned max_concurrency;     /* maxconn of each server, at least 1 */
        unsigned request_timeout_sec; /* 0 = IngressOptions.request_timeout_sec */
} IngressRoute;

typedef struct IngressStats {
        char *service_id;
        uint64_t requests, http_2xx, http_3xx, http_4xx, http_5xx;
        unsigned current;         /* requests being served by the servers */
        unsigned queued;          /* requests waiting for a free server slot */
        unsigned avg_response_ms; /* HAProxy's average over the last 1024 responses */
} IngressStats;

int ingress_new(const IngressOptions *o, Ingress **ret);
Ingress *ingress_free(Ingress *i);

static inline void ingress_freep(Ingress **i) {
        if (*i)
                ingress_free(*i);
}

/* Writes hosts.map and haproxy.cfg atomically (temporary file, rename).
 * The configuration is checked with `haproxy -c` first. On failure the old
 * file stays and *ret_error receives HAProxy's message. Does not reload. */
int ingress_write_config(Ingress *i, char **ret_error);

/* Replaces the set of routes. Servers of services that stay are kept, and
 * servers of removed services are dropped. When attached, reloads HAProxy
 * only if a backend was added or removed or a timeout changed, and
 * otherwise applies host, pause and max_concurrency changes through the
 * runtime API. Returns -EINVAL on invalid or duplicate ids or hosts. */
int ingress_set_routes(Ingress *i, const IngressRoute *routes, size_t n, char **ret_error);

/* Adds a server to the service's backend and enables it, with maxconn set
 * to the route's max_concurrency. Returns -ENOENT for an unknown service
 * and -EEXIST for a server name already in use. */
int ingress_server_add(Ingress *i, const char *service_id, const char *server, struct in_addr addr,
                       uint16_t port, char **ret_error);

/* Stops sending new requests to the server while requests in flight
 * finish. Poll ingress_server_sessions() and call ingress_server_remove()
 * when it reaches 0. */
int ingress_server_drain(Ingress *i, const char *service_id, const char *server);

/* Stores the server's open sessions plus the requests queued on it. */
int ingress_server_sessions(Ingress *i, const char *service_id, const char *server, unsigned *ret_current);

/* Puts the server into maintenance, closes its remaining sessions and
 * deletes it. Removing a server HAProxy does not know is not an error. */
int ingress_server_remove(Ingress *i, const char *service_id, const char *server);

/* Compares the running HAProxy with the desired state and repairs it:
 * reloads if backends are missing, extra or structurally different, then
 * adds, deletes and adjusts servers and host map entries at runtime.
 * Attaches a new driver. Returns -ENOENT or -ECONNREFUSED when HAProxy is
 * not running. */
int ingress_resync(Ingress *i, char **ret_error);

/* Returns per-service counters from `show stat`, one entry per route, in
 * a new array that the caller frees with ingress_stats_free(). */
int ingress_stats(Ingress *i, IngressStats **ret, size_t *ret_n);
IngressStats *ingress_stats_free(IngressStats *s, size_t n);

/* Returns 1 if the HAProxy binary lists the prometheus-exporter service
 * in `haproxy -vv`, 0 if not (the metrics frontend then returns 503), or
 * a negative errno if HAProxy could not be run. */
int ingress_metrics_available(Ingress *i);
