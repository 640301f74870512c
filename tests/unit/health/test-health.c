/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Health checks against real servers on 127.0.0.1: a small HTTP responder and plain listening
 * sockets that run on the test's own sd-event loop, and busybox httpd when it is installed. */

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "health/health-internal.h"
#include "health/health.h"
#include "macro.h"

#define ASSERT_TRUE(expr)                                                                                  \
        do {                                                                                               \
                if (!(expr)) {                                                                             \
                        fprintf(stderr, "%s:%d: %s: assertion failed: %s\n", __FILE__, __LINE__, __func__, \
                                #expr);                                                                    \
                        abort();                                                                           \
                }                                                                                          \
        } while (0)
#define ASSERT_STREQ(a, b)                                                                          \
        do {                                                                                        \
                const char *_a_ = (a), *_b_ = (b);                                                  \
                if (!streq_ptr(_a_, _b_)) {                                                         \
                        fprintf(stderr, "%s:%d: %s: expected %s == \"%s\", got \"%s\"\n", __FILE__, \
                                __LINE__, __func__, #a, strna(_b_), strna(_a_));                    \
                        abort();                                                                    \
                }                                                                                   \
        } while (0)

static double now_sec(void) {
        struct timespec ts;

        ASSERT_TRUE(clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- Servers ---------------------------------------------------------------------------------- */

#define MAX_CONNECTIONS 256

typedef struct Server Server;

typedef struct Connection {
        Server *server;
        int fd;
        sd_event_source *source;
        char request[2048];
        size_t length;
} Connection;

/* A listening socket on 127.0.0.1. With 'silent' set it accepts and then never reads or responds;
 * otherwise it reads one request header block and replies with 'status' and no body. */
struct Server {
        sd_event *event;
        int fd;
        uint16_t port;
        sd_event_source *source;
        int status;
        bool silent;
        unsigned n_accepted;
        char last_request[2048];
        Connection *connections[MAX_CONNECTIONS];
};

static void connection_close(Connection *c) {
        for (size_t i = 0; i < MAX_CONNECTIONS; i++)
                if (c->server->connections[i] == c)
                        c->server->connections[i] = NULL;
        sd_event_source_disable_unref(c->source);
        close(c->fd);
        free(c);
}

static int on_connection_readable(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        Connection *c = userdata;
        char response[128];
        ssize_t n;

        n = read(fd, c->request + c->length, sizeof(c->request) - 1 - c->length);
        if (n <= 0) {
                connection_close(c);
                return 0;
        }
        c->length += (size_t)n;
        c->request[c->length] = '\0';
        if (!strstr(c->request, "\r\n\r\n"))
                return 0;

        snprintf(c->server->last_request, sizeof(c->server->last_request), "%s", c->request);
        snprintf(
                response, sizeof(response),
                "HTTP/1.1 %d Test\r\nContent-Length: 0\r\nLocation: /elsewhere\r\nConnection: close\r\n\r\n",
                c->server->status);
        ASSERT_TRUE(write(fd, response, strlen(response)) == (ssize_t)strlen(response));
        connection_close(c);
        return 0;
}

static int on_server_accept(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        Server *s = userdata;
        Connection *c;
        int cfd;
        size_t i;

        cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0)
                return 0;
        s->n_accepted++;

        for (i = 0; i < MAX_CONNECTIONS && s->connections[i]; i++)
                ;
        ASSERT_TRUE(i < MAX_CONNECTIONS);
        c = calloc(1, sizeof(*c));
        ASSERT_TRUE(c);
        c->server = s;
        c->fd = cfd;
        s->connections[i] = c;
        if (!s->silent)
                ASSERT_TRUE(sd_event_add_io(s->event, &c->source, cfd, EPOLLIN, on_connection_readable, c) >=
                            0);
        return 0;
}

static int listen_loopback(int backlog, uint16_t *ret_port) {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t length = sizeof(sa);
        int fd;

        fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        ASSERT_TRUE(fd >= 0);
        ASSERT_TRUE(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
        ASSERT_TRUE(getsockname(fd, (struct sockaddr *)&sa, &length) == 0);
        if (backlog >= 0)
                ASSERT_TRUE(listen(fd, backlog) == 0);
        *ret_port = ntohs(sa.sin_port);
        return fd;
}

static Server *server_new(sd_event *e, int status, bool silent) {
        Server *s = calloc(1, sizeof(*s));

        ASSERT_TRUE(s);
        s->event = e;
        s->status = status;
        s->silent = silent;
        s->fd = listen_loopback(SOMAXCONN, &s->port);
        ASSERT_TRUE(sd_event_add_io(e, &s->source, s->fd, EPOLLIN, on_server_accept, s) >= 0);
        return s;
}

static void server_free(Server *s) {
        for (size_t i = 0; i < MAX_CONNECTIONS; i++)
                if (s->connections[i])
                        connection_close(s->connections[i]);
        sd_event_source_disable_unref(s->source);
        close(s->fd);
        free(s);
}

/* A port with nothing listening: bound to reserve it, never listened on, so connects are refused. */
static int closed_port(uint16_t *ret_port) {
        return listen_loopback(-1, ret_port);
}

/* A listener whose accept queue is full, so the kernel drops further SYNs and connect() hangs. */
typedef struct StuckListener {
        int fd;
        uint16_t port;
        int fillers[4];
} StuckListener;

static void stuck_listener_open(StuckListener *l) {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

        /* On Linux, backlog 0 still queues one connection. */
        l->fd = listen_loopback(0, &l->port);
        sa.sin_port = htons(l->port);
        for (size_t i = 0; i < ELEMENTSOF(l->fillers); i++) {
                l->fillers[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
                ASSERT_TRUE(l->fillers[i] >= 0);
                (void)connect(l->fillers[i], (struct sockaddr *)&sa, sizeof(sa));
        }
}

static void stuck_listener_close(StuckListener *l) {
        for (size_t i = 0; i < ELEMENTSOF(l->fillers); i++)
                close(l->fillers[i]);
        close(l->fd);
}

/* ---- Recording callbacks ---------------------------------------------------------------------- */

#define MAX_EVENTS 8

typedef struct Recorder {
        HealthCheck *hc;
        unsigned n_events;
        HealthState states[MAX_EVENTS];
        char reasons[MAX_EVENTS][256];
        double times[MAX_EVENTS];
        unsigned n_accepted_at[MAX_EVENTS];
        Server *server;     /* if set, its accept count is recorded with each event */
        bool free_on_event; /* free the check from inside the callback */
} Recorder;

static void on_health(HealthCheck *hc, HealthState state, const char *reason, void *userdata) {
        Recorder *r = userdata;

        ASSERT_TRUE(hc == r->hc);
        ASSERT_TRUE(health_check_state(hc) == state);
        ASSERT_TRUE(health_check_last_reason(hc) == reason);
        if (r->n_events < MAX_EVENTS) {
                r->states[r->n_events] = state;
                snprintf(r->reasons[r->n_events], sizeof(r->reasons[0]), "%s", strna(reason));
                r->times[r->n_events] = now_sec();
                r->n_accepted_at[r->n_events] = r->server ? r->server->n_accepted : 0;
        }
        r->n_events++;

        if (r->free_on_event) {
                ASSERT_TRUE(health_check_free(hc) == NULL);
                /* The release is deferred, so the check is still readable until we return. */
                ASSERT_TRUE(health_check_state(hc) == state);
                r->hc = NULL;
        }
}

/* Runs the loop until '*counter' reaches 'target' or 'max_sec' pass. */
static void run_until(sd_event *e, const unsigned *counter, unsigned target, double max_sec) {
        double deadline = now_sec() + max_sec;

        while ((!counter || *counter < target) && now_sec() < deadline)
                ASSERT_TRUE(sd_event_run(e, 50 * USEC_PER_MSEC) >= 0);
}

static HealthSettings fast_settings(HealthProtocol protocol, const char *path) {
        HealthSettings s = HEALTH_SETTINGS_DEFAULT;

        s.protocol = protocol;
        s.path = path;
        s.interval_sec = 1;
        s.timeout_sec = 1;
        s.healthy_threshold = 1;
        s.unhealthy_threshold = 1;
        return s;
}

static struct in_addr loopback(void) {
        return (struct in_addr){.s_addr = htonl(INADDR_LOOPBACK)};
}

/* ---- Tests ------------------------------------------------------------------------------------ */

static void test_settings_validate(void) {
        static const struct {
                HealthSettings settings;
                const char *error_part; /* NULL if valid */
        } cases[] = {
                {{HEALTH_PROTOCOL_TCP, NULL, 5, 2, 1, 5}, NULL},
                {{HEALTH_PROTOCOL_HTTP, "/health?full=1", 1, 1, 1, 1}, NULL},
                {{HEALTH_PROTOCOL_HTTP, "/", 20, 20, 20, 20}, NULL},
                {{HEALTH_PROTOCOL_HTTP, "health", 5, 2, 1, 5}, "must start with '/'"},
                {{HEALTH_PROTOCOL_HTTP, "", 5, 2, 1, 5}, "must start with '/'"},
                {{HEALTH_PROTOCOL_HTTP, "/a b", 5, 2, 1, 5}, "byte 0x20 at offset 2"},
                {{HEALTH_PROTOCOL_HTTP, "/\r\nX: y", 5, 2, 1, 5}, "byte 0x0d at offset 1"},
                {{HEALTH_PROTOCOL_TCP, NULL, 0, 2, 1, 5}, "Interval 0"},
                {{HEALTH_PROTOCOL_TCP, NULL, 21, 2, 1, 5}, "Interval 21"},
                {{HEALTH_PROTOCOL_TCP, NULL, 5, 0, 1, 5}, "Timeout 0"},
                {{HEALTH_PROTOCOL_TCP, NULL, 5, 21, 1, 5}, "Timeout 21"},
                {{HEALTH_PROTOCOL_TCP, NULL, 5, 2, 0, 5}, "HealthyThreshold 0"},
                {{HEALTH_PROTOCOL_TCP, NULL, 5, 2, 1, 21}, "UnhealthyThreshold 21"},
                {{(HealthProtocol)7, NULL, 5, 2, 1, 5}, "Protocol 7"},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *error = NULL;
                int r = health_settings_validate(&cases[i].settings, &error);

                if (!cases[i].error_part) {
                        ASSERT_TRUE(r == 0);
                        ASSERT_TRUE(!error);
                } else {
                        ASSERT_TRUE(r == -EINVAL);
                        ASSERT_TRUE(error);
                        if (!strstr(error, cases[i].error_part)) {
                                fprintf(stderr, "case %zu: \"%s\" lacks \"%s\"\n", i, error,
                                        cases[i].error_part);
                                abort();
                        }
                }
        }

        ASSERT_TRUE(health_protocol_from_string("HTTP") == HEALTH_PROTOCOL_HTTP);
        ASSERT_TRUE(health_protocol_from_string("TCP") == HEALTH_PROTOCOL_TCP);
        ASSERT_TRUE(health_protocol_from_string("http") == _HEALTH_PROTOCOL_INVALID);
        ASSERT_STREQ(health_state_to_string(HEALTH_UNHEALTHY), "unhealthy");
}

static void test_new_rejects_invalid(sd_event *e) {
        HealthSettings s = fast_settings(HEALTH_PROTOCOL_TCP, NULL);
        HealthCheck *hc = NULL;

        s.interval_sec = 0;
        ASSERT_TRUE(health_check_new(e, &s, loopback(), 80, on_health, NULL, &hc) == -EINVAL);
        ASSERT_TRUE(!hc);
}

static void test_tcp_pass(sd_event *e) {
        Server *server = server_new(e, 200, false);
        HealthSettings s = fast_settings(HEALTH_PROTOCOL_TCP, NULL);
        Recorder rec = {};
        double start = now_sec();

        ASSERT_TRUE(health_check_new(e, &s, loopback(), server->port, on_health, &rec, &rec.hc) >= 0);
        ASSERT_TRUE(health_check_state(rec.hc) == HEALTH_UNKNOWN);
        run_until(e, &rec.n_events, 1, 3);

        ASSERT_TRUE(rec.n_events == 1);
        ASSERT_TRUE(rec.states[0] == HEALTH_HEALTHY);
        ASSERT_STREQ(rec.reasons[0], "n/a");
        /* The first probe runs at once, not after one Interval. */
        ASSERT_TRUE(rec.times[0] - start < 0.5);

        health_check_free(rec.hc);
        server_free(server);
}

static void test_tcp_refused(sd_event *e) {
        uint16_t port;
        int fd = closed_port(&port);
        HealthSettings s = fast_settings(HEALTH_PROTOCOL_TCP, NULL);
        Recorder rec = {};
        double start = now_sec();

        s.unhealthy_threshold = 3;
        ASSERT_TRUE(health_check_new(e, &s, loopback(), port, on_health, &rec, &rec.hc) >= 0);
        run_until(e, &rec.n_events, 1, 5);

        ASSERT_TRUE(rec.n_events == 1);
        ASSERT_TRUE(rec.states[0] == HEALTH_UNHEALTHY);
        ASSERT_STREQ(rec.reasons[0], "connection refused");
        /* Three probes at 0, 1 and 2 s. */
        ASSERT_TRUE(rec.times[0] - start > 1.9);
        ASSERT_TRUE(rec.times[0] - start < 2.6);

        health_check_free(rec.hc);
        close(fd);
}

static void test_tcp_late_listener(sd_event *e) {
        uint16_t port;
        int fd = closed_port(&port);
        HealthSettings s = fast_settings(HEALTH_PROTOCOL_TCP, NULL);
        Recorder rec = {};
        double start = now_sec();

        /* The app listens 0.6 s after the check starts, well within one Interval. */
        s.interval_sec = 5;
        s.unhealthy_threshold = 2;
        ASSERT_TRUE(health_check_new(e, &s, loopback(), port, on_health, &rec, &rec.hc) >= 0);
        run_until(e, NULL, 0, 0.6);
        ASSERT_TRUE(rec.n_events == 0);
        ASSERT_TRUE(listen(fd, 8) == 0);
        run_until(e, &rec.n_events, 1, 6);

        ASSERT_TRUE(rec.n_events == 1);
        ASSERT_TRUE(rec.states[0] == HEALTH_HEALTHY);
        /* Retried every 250 ms, not after the 5 s Interval. The bound leaves
         * room for a loaded machine. */
        ASSERT_TRUE(rec.times[0] - start < 2.5);

        health_check_free(rec.hc);
        close(fd);
}

static void test_tcp_timeout(sd_event *e) {
        StuckListener l;
        HealthSettings s = fast_settings(HEALTH_PROTOCOL_TCP, NULL);
        Recorder rec = {};
        double start;

        stuck_listener_open(&l);
        s.interval_sec = 5;
        start = now_sec();
        ASSERT_TRUE(health_check_new(e, &s, loopback(), l.port, on_health, &rec, &rec.hc) >= 0);
        run_until(e, &rec.n_events, 1, 4);

        ASSERT_TRUE(rec.n_events == 1);
        ASSERT_TRUE(rec.states[0] == HEALTH_UNHEALTHY);
        ASSERT_STREQ(rec.reasons[0], "timed out after 1 s");
        ASSERT_TRUE(rec.times[0] - start >= 0.99);
        ASSERT_TRUE(rec.times[0] - start < 1.3);

        health_check_free(rec.hc);
        stuck_listener_close(&l);
}

static void test_http_pass(sd_event *e) {
        Server *server = server_new(e, 200, false);
        HealthSettings s = fast_settings(HEALTH_PROTOCOL_HTTP, "/health?probe=1");
        Recorder rec = {};
        char host[64];

        ASSERT_TRUE(health_check_new(e, &s, loopback(), server->port, on_health, &rec, &rec.hc) >= 0);
        run_until(e, &rec.n_events, 1, 3);

        ASSERT_TRUE(rec.n_events == 1);
        ASSERT_TRUE(rec.states[0] == HEALTH_HEALTHY);
        ASSERT_TRUE(strstr(server->last_request, "GET /health?probe=1 HTTP/1.1\r\n") ==
                    server->last_request);
        snprintf(host, sizeof(host), "\r\nHost: 127.0.0.1:%u\r\n", server->port);
        ASSERT_TRUE(strstr(server->last_request, host));
        ASSERT_TRUE(strstr(server->last_request, "\r\nUser-Agent: apprunnerd-health/1\r\n"));

        health_check_free(rec.hc);
        server_free(server);
}

static void test_http_status(sd_event *e, int status, HealthState expected, const char *expected_reason) {
        Server *server = server_new(e, status, false);
        HealthSettings s = fast_settings(HEALTH_PROTOCOL_HTTP, NULL);
        Recorder rec = {};

        ASSERT_TRUE(health_check_new(e, &s, loopback(), server->port, on_health, &rec, &rec.hc) >= 0);
        run_until(e, &rec.n_events, 1, 3);

        ASSERT_TRUE(rec.n_events == 1);
        ASSERT_TRUE(rec.states[0] == expected);
        ASSERT_STREQ(rec.reasons[0], expected_reason);
        /* A redirect is not followed: one request only. */
        ASSERT_TRUE(server->n_accepted == 1);

        health_check_free(rec.hc);
        server_free(server);
}

static void test_http_refused(sd_event *e) {
        uint16_t port;
        int fd = closed_port(&port);
        HealthSettings s = fast_settings(HEALTH_PROTOCOL_HTTP, NULL);
        Recorder rec = {};

        ASSERT_TRUE(health_check_new(e, &s, loopback(), port, on_health, &rec, &rec.hc) >= 0);
        run_until(e, &rec.n_events, 1, 3);

        ASSERT_TRUE(rec.n_events == 1);
        ASSERT_TRUE(rec.states[0] == HEALTH_UNHEALTHY);
        ASSERT_STREQ(rec.reasons[0], "connection refused");

        health_check_free(rec.hc);
        close(fd);
}

static void test_http_timeout(sd_event *e) {
        Server *server = server_new(e, 200, true);
        HealthSettings s = fast_settings(HEALTH_PROTOCOL_HTTP, NULL);
        Recorder rec = {};
        double start;

        s.interval_sec = 5;
        start = now_sec();
        ASSERT_TRUE(health_check_new(e, &s, loopback(), server->port, on_health, &rec, &rec.hc) >= 0);
        run_until(e, &rec.n_events, 1, 4);

        ASSERT_TRUE(rec.n_events == 1);
        ASSERT_TRUE(rec.states[0] == HEALTH_UNHEALTHY);
        ASSERT_STREQ(rec.reasons[0], "timed out after 1 s");
        ASSERT_TRUE(server->n_accepted == 1);
        ASSERT_TRUE(rec.times[0] - start >= 0.99);
        ASSERT_TRUE(rec.times[0] - start < 1.3);

        health_check_free(rec.hc);
        server_free(server);
}

static void test_healthy_threshold(sd_event *e) {
        Server *server = server_new(e, 204, false);
        HealthSettings s = fast_settings(HEALTH_PROTOCOL_HTTP, NULL);
        Recorder rec = {.server = server};
        double start = now_sec();

        s.healthy_threshold = 3;
        ASSERT_TRUE(health_check_new(e, &s, loopback(), server->port, on_health, &rec, &rec.hc) >= 0);
        run_until(e, &rec.n_events, 1, 5);

        ASSERT_TRUE(rec.n_events == 1);
        ASSERT_TRUE(rec.states[0] == HEALTH_HEALTHY);
        ASSERT_TRUE(rec.n_accepted_at[0] == 3);
        ASSERT_TRUE(rec.times[0] - start > 1.9);
        ASSERT_TRUE(rec.times[0] - start < 2.6);

        health_check_free(rec.hc);
        server_free(server);
}

static void test_transitions(sd_event *e) {
        Server *server = server_new(e, 200, false);
        HealthSettings s = fast_settings(HEALTH_PROTOCOL_HTTP, NULL);
        Recorder rec = {.server = server};

        s.unhealthy_threshold = 2;
        ASSERT_TRUE(health_check_new(e, &s, loopback(), server->port, on_health, &rec, &rec.hc) >= 0);
        run_until(e, &rec.n_events, 1, 3);
        ASSERT_TRUE(rec.n_events == 1);
        ASSERT_TRUE(rec.states[0] == HEALTH_HEALTHY);

        server->status = 503;
        run_until(e, &rec.n_events, 2, 4);
        ASSERT_TRUE(rec.n_events == 2);
        ASSERT_TRUE(rec.states[1] == HEALTH_UNHEALTHY);
        ASSERT_STREQ(rec.reasons[1], "HTTP status 503");
        ASSERT_TRUE(rec.n_accepted_at[1] == rec.n_accepted_at[0] + 2);

        server->status = 200;
        run_until(e, &rec.n_events, 3, 3);
        ASSERT_TRUE(rec.n_events == 3);
        ASSERT_TRUE(rec.states[2] == HEALTH_HEALTHY);
        ASSERT_TRUE(rec.n_accepted_at[2] == rec.n_accepted_at[1] + 1);
        /* The last failure is still reported after recovery. */
        ASSERT_STREQ(rec.reasons[2], "HTTP status 503");

        health_check_free(rec.hc);
        server_free(server);
}

static void test_free_in_callback(sd_event *e, HealthProtocol protocol) {
        Server *server = server_new(e, 500, false);
        HealthSettings s = fast_settings(protocol, NULL);
        Recorder rec = {.free_on_event = true, .server = server};
        unsigned n_accepted;

        ASSERT_TRUE(health_check_new(e, &s, loopback(), server->port, on_health, &rec, &rec.hc) >= 0);
        run_until(e, &rec.n_events, 1, 3);
        ASSERT_TRUE(rec.n_events == 1);
        ASSERT_TRUE(!rec.hc);

        /* No further probes and no further callbacks. */
        n_accepted = server->n_accepted;
        run_until(e, NULL, 0, 1.5);
        ASSERT_TRUE(rec.n_events == 1);
        ASSERT_TRUE(server->n_accepted == n_accepted);

        server_free(server);
}

static void test_free_mid_probe(sd_event *e) {
        Server *silent = server_new(e, 200, true);
        StuckListener l;
        HealthSettings http = fast_settings(HEALTH_PROTOCOL_HTTP, NULL);
        HealthSettings tcp = fast_settings(HEALTH_PROTOCOL_TCP, NULL);
        Recorder rec_http = {}, rec_tcp = {};

        stuck_listener_open(&l);
        ASSERT_TRUE(health_check_new(e, &http, loopback(), silent->port, on_health, &rec_http,
                                     &rec_http.hc) >= 0);
        ASSERT_TRUE(health_check_new(e, &tcp, loopback(), l.port, on_health, &rec_tcp, &rec_tcp.hc) >= 0);

        /* Both probes are in flight: the request is sent and the SYN is unanswered. */
        run_until(e, &silent->n_accepted, 1, 0.3);
        ASSERT_TRUE(silent->n_accepted == 1);
        ASSERT_TRUE(rec_http.hc->probe_running);
        ASSERT_TRUE(rec_tcp.hc->probe_running);

        rec_http.hc = health_check_free(rec_http.hc);
        rec_tcp.hc = health_check_free(rec_tcp.hc);
        run_until(e, NULL, 0, 1.5);
        ASSERT_TRUE(rec_http.n_events == 0);
        ASSERT_TRUE(rec_tcp.n_events == 0);

        stuck_listener_close(&l);
        server_free(silent);
}

#define N_CONCURRENT 50

static void test_concurrent(sd_event *e) {
        Server *server = server_new(e, 200, false);
        HealthSettings http = fast_settings(HEALTH_PROTOCOL_HTTP, NULL);
        HealthSettings tcp = fast_settings(HEALTH_PROTOCOL_TCP, NULL);
        Recorder recs[N_CONCURRENT] = {};
        HealthCurl *shared = NULL;
        unsigned n_healthy = 0;
        double start = now_sec();

        for (size_t i = 0; i < N_CONCURRENT; i++) {
                const HealthSettings *s = i % 2 ? &tcp : &http;
                ASSERT_TRUE(health_check_new(e, s, loopback(), server->port, on_health, &recs[i],
                                             &recs[i].hc) >= 0);
                if (s == &http) {
                        ASSERT_TRUE(recs[i].hc->curl);
                        ASSERT_TRUE(!shared || recs[i].hc->curl == shared);
                        shared = recs[i].hc->curl;
                }
        }

        /* All checks get their first probe at once, so all are healthy well within one Interval. */
        while (n_healthy < N_CONCURRENT && now_sec() - start < 3) {
                ASSERT_TRUE(sd_event_run(e, 50 * USEC_PER_MSEC) >= 0);
                n_healthy = 0;
                for (size_t i = 0; i < N_CONCURRENT; i++)
                        n_healthy += recs[i].n_events == 1 && recs[i].states[0] == HEALTH_HEALTHY;
        }
        ASSERT_TRUE(n_healthy == N_CONCURRENT);
        ASSERT_TRUE(now_sec() - start < 1.0);

        /* Another round of probes changes nothing. */
        run_until(e, NULL, 0, 1.2);
        ASSERT_TRUE(server->n_accepted >= 2 * N_CONCURRENT);
        for (size_t i = 0; i < N_CONCURRENT; i++) {
                ASSERT_TRUE(recs[i].n_events == 1);
                health_check_free(recs[i].hc);
        }
        server_free(server);
}

/* busybox httpd as an independent HTTP server: an existing file passes, a missing one is a 404. */
static void test_busybox_httpd(sd_event *e) {
        static const char *const candidates[] = {"/bin/busybox", "/usr/bin/busybox"};
        const char *busybox = NULL;
        char dir[] = "/tmp/test-health-XXXXXX", file[64], listen_arg[32];
        HealthSettings s = fast_settings(HEALTH_PROTOCOL_HTTP, "/ok.txt");
        Recorder rec_ok = {}, rec_missing = {};
        uint16_t port;
        pid_t pid;
        FILE *f;
        int fd, status;

        for (size_t i = 0; i < ELEMENTSOF(candidates); i++)
                if (access(candidates[i], X_OK) == 0)
                        busybox = candidates[i];
        if (!busybox) {
                fprintf(stderr, "busybox not found, skipping %s\n", __func__);
                return;
        }

        ASSERT_TRUE(mkdtemp(dir));
        snprintf(file, sizeof(file), "%s/ok.txt", dir);
        f = fopen(file, "we");
        ASSERT_TRUE(f);
        fputs("ok\n", f);
        ASSERT_TRUE(fclose(f) == 0);

        /* Reserve a free port and release it just before busybox binds it. */
        fd = closed_port(&port);
        close(fd);
        snprintf(listen_arg, sizeof(listen_arg), "127.0.0.1:%u", port);

        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                execl(busybox, "busybox", "httpd", "-f", "-p", listen_arg, "-h", dir, (char *)NULL);
                _exit(127);
        }

        /* Refused until busybox listens, then healthy. */
        s.unhealthy_threshold = 20;
        ASSERT_TRUE(health_check_new(e, &s, loopback(), port, on_health, &rec_ok, &rec_ok.hc) >= 0);
        run_until(e, &rec_ok.n_events, 1, 5);
        ASSERT_TRUE(rec_ok.n_events == 1);
        ASSERT_TRUE(rec_ok.states[0] == HEALTH_HEALTHY);

        s.path = "/missing";
        s.unhealthy_threshold = 1;
        ASSERT_TRUE(health_check_new(e, &s, loopback(), port, on_health, &rec_missing, &rec_missing.hc) >=
                    0);
        run_until(e, &rec_missing.n_events, 1, 3);
        ASSERT_TRUE(rec_missing.n_events == 1);
        ASSERT_TRUE(rec_missing.states[0] == HEALTH_UNHEALTHY);
        ASSERT_STREQ(rec_missing.reasons[0], "HTTP status 404");

        health_check_free(rec_ok.hc);
        health_check_free(rec_missing.hc);
        ASSERT_TRUE(kill(pid, SIGTERM) == 0);
        ASSERT_TRUE(waitpid(pid, &status, 0) == pid);
        ASSERT_TRUE(unlink(file) == 0);
        ASSERT_TRUE(rmdir(dir) == 0);
}

#define RUN(call)                                                                 \
        do {                                                                      \
                double _start_ = now_sec();                                       \
                call;                                                             \
                fprintf(stderr, "ok %-60s %.2f s\n", #call, now_sec() - _start_); \
        } while (0)

int main(void) {
        sd_event *e = NULL;

        /* Proxies from the environment must not matter; the checks disable them. */
        setenv("http_proxy", "http://127.0.0.1:9/", 1);
        signal(SIGPIPE, SIG_IGN);
        ASSERT_TRUE(sd_event_new(&e) >= 0);

        RUN(test_settings_validate());
        RUN(test_new_rejects_invalid(e));
        RUN(test_tcp_pass(e));
        RUN(test_tcp_refused(e));
        RUN(test_tcp_late_listener(e));
        RUN(test_tcp_timeout(e));
        RUN(test_http_pass(e));
        RUN(test_http_status(e, 500, HEALTH_UNHEALTHY, "HTTP status 500"));
        RUN(test_http_status(e, 302, HEALTH_HEALTHY, "n/a"));
        RUN(test_http_status(e, 404, HEALTH_UNHEALTHY, "HTTP status 404"));
        RUN(test_http_refused(e));
        RUN(test_http_timeout(e));
        RUN(test_healthy_threshold(e));
        RUN(test_transitions(e));
        RUN(test_free_in_callback(e, HEALTH_PROTOCOL_TCP));
        RUN(test_free_in_callback(e, HEALTH_PROTOCOL_HTTP));
        RUN(test_free_mid_probe(e));
        RUN(test_concurrent(e));
        RUN(test_busybox_httpd(e));

        sd_event_unref(e);
        return 0;
}
