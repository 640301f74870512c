/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Tests of the ingress driver against a real HAProxy (2.6 on Debian 12)
 * and real HTTP backends (busybox httpd), all on 127.0.0.1 with ports
 * picked by the kernel. Each test starts its own HAProxy in master-worker
 * mode, the way apprunner-ingress.service runs it. */

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "ingress/haproxy-cli.h"
#include "ingress/ingress.h"
#include "macro.h"

#define HAPROXY "/usr/sbin/haproxy"
#define BUSYBOX "/usr/bin/busybox"

#define check(expr)                                                                              \
        do {                                                                                     \
                if (!(expr)) {                                                                   \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #expr); \
                        exit(EXIT_FAILURE);                                                      \
                }                                                                                \
        } while (0)

#define check_ok(r, error)                                                                     \
        do {                                                                                   \
                int _r = (r);                                                                  \
                if (_r < 0) {                                                                  \
                        fprintf(stderr, "%s:%d: %s failed: %s (%s)\n", __FILE__, __LINE__, #r, \
                                strerror(-_r), strna(error));                                  \
                        exit(EXIT_FAILURE);                                                    \
                }                                                                              \
        } while (0)

static char workdir[] = "/tmp/test-ingress-XXXXXX";
static pid_t children[32];
static size_t n_children;
static uint16_t backend_port[2];
static uint16_t slow_port;

static void stop_child(pid_t pid) {
        if (pid <= 0)
                return;
        (void)kill(pid, SIGTERM);
        (void)waitpid(pid, NULL, 0);
        for (size_t k = 0; k < n_children; k++)
                if (children[k] == pid)
                        children[k] = 0;
}

static void cleanup(void) {
        char cmd[128];

        for (size_t k = 0; k < n_children; k++)
                stop_child(children[k]);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", workdir);
        if (system(cmd) != 0)
                fprintf(stderr, "Failed to remove %s\n", workdir);
}

static pid_t spawn(char *const argv[]) {
        pid_t pid = fork();

        check(pid >= 0);
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR);
                dup2(null, STDIN_FILENO);
                if (!getenv("TEST_INGRESS_VERBOSE")) {
                        dup2(null, STDOUT_FILENO);
                        dup2(null, STDERR_FILENO);
                }
                execv(argv[0], argv);
                _exit(127);
        }
        check(n_children < ELEMENTSOF(children));
        children[n_children++] = pid;
        return pid;
}

static uint16_t pick_port(void) {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof(sa);
        int fd = socket(AF_INET, SOCK_STREAM, 0);

        check(fd >= 0);
        check(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
        check(getsockname(fd, (struct sockaddr *)&sa, &len) == 0);
        close(fd);
        return ntohs(sa.sin_port);
}

static void sleep_ms(unsigned ms) {
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
}

static bool port_open(uint16_t port) {
        struct sockaddr_in sa = {
                .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        _cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM, 0);

        return fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
}

static void wait_port(uint16_t port) {
        for (int k = 0; k < 200; k++) {
                if (port_open(port))
                        return;
                sleep_ms(25);
        }
        fprintf(stderr, "Nothing listens on 127.0.0.1:%u after 5 s.\n", port);
        exit(EXIT_FAILURE);
}

static void write_file(const char *path, const char *content, mode_t mode) {
        FILE *f = fopen(path, "we");

        check(f);
        check(fputs(content, f) >= 0);
        check(fclose(f) == 0);
        check(chmod(path, mode) == 0);
}

/* Starts busybox httpd serving a page that names the backend, and a CGI
 * script that sleeps for a second. */
static uint16_t start_backend(const char *name) {
        char dir[256], path[512], port_arg[64];
        uint16_t port = pick_port();

        snprintf(dir, sizeof(dir), "%s/www-%s", workdir, name);
        check(mkdir(dir, 0755) == 0);
        snprintf(path, sizeof(path), "%s/cgi-bin", dir);
        check(mkdir(path, 0755) == 0);
        snprintf(path, sizeof(path), "%s/index.html", dir);
        char body[64];
        snprintf(body, sizeof(body), "backend %s\n", name);
        write_file(path, body, 0644);
        snprintf(path, sizeof(path), "%s/cgi-bin/slow", dir);
        write_file(path, "#!/bin/sh\nsleep 1\nprintf 'Content-Type: text/plain\\r\\n\\r\\nslow\\n'\n", 0755);

        snprintf(port_arg, sizeof(port_arg), "127.0.0.1:%u", port);
        spawn((char *const[]){(char *)BUSYBOX, (char *)"httpd", (char *)"-f", (char *)"-p", port_arg,
                              (char *)"-h", dir, NULL});
        wait_port(port);
        return port;
}

typedef struct Fixture {
        char run_dir[256];
        uint16_t port;
        pid_t master;
        Ingress *ingress;
} Fixture;

static void start_haproxy(Fixture *f) {
        char master_sock[300], config[300], admin[300];

        snprintf(master_sock, sizeof(master_sock), "%s/master.sock", f->run_dir);
        snprintf(config, sizeof(config), "%s/haproxy.cfg", f->run_dir);
        snprintf(admin, sizeof(admin), "%s/admin.sock", f->run_dir);
        f->master = spawn((char *const[]){(char *)HAPROXY, (char *)"-W", (char *)"-S", master_sock,
                                          (char *)"-f", config, NULL});

        for (int k = 0; k < 200; k++) {
                _cleanup_free_ char *out = NULL;

                if (haproxy_cli_command(admin, "show info", &out) >= 0 && strstr(out, "Pid: "))
                        return;
                sleep_ms(25);
        }
        fprintf(stderr, "HAProxy did not open %s within 5 s.\n", admin);
        exit(EXIT_FAILURE);
}

static void stop_haproxy(Fixture *f) {
        stop_child(f->master);
        f->master = 0;
}

static Ingress *new_ingress(Fixture *f, uint16_t metrics_port) {
        IngressOptions o = {
                .run_dir = f->run_dir,
                .listen_address = "127.0.0.1",
                .listen_port = f->port,
                .queue_timeout_sec = 30,
                .request_timeout_sec = 30,
                .metrics_port = metrics_port,
        };
        Ingress *i = NULL;

        check_ok(ingress_new(&o, &i), NULL);
        return i;
}

/* Writes the configuration for routes, starts HAProxy with it and
 * attaches the driver. */
static void fixture_start(Fixture *f, const char *name, const IngressRoute *routes, size_t n,
                          uint16_t metrics_port) {
        _cleanup_free_ char *error = NULL;

        snprintf(f->run_dir, sizeof(f->run_dir), "%s/%s", workdir, name);
        f->port = pick_port();
        f->ingress = new_ingress(f, metrics_port);
        check_ok(ingress_set_routes(f->ingress, routes, n, &error), error);
        start_haproxy(f);
        check_ok(ingress_resync(f->ingress, &error), error);
}

static void fixture_stop(Fixture *f) {
        stop_haproxy(f);
        f->ingress = ingress_free(f->ingress);
}

static char *admin_command(Fixture *f, const char *command) {
        char admin[300];
        char *out = NULL;

        snprintf(admin, sizeof(admin), "%s/admin.sock", f->run_dir);
        check(haproxy_cli_command(admin, command, &out) >= 0);
        return out;
}

static long worker_pid(Fixture *f) {
        _cleanup_free_ char *out = admin_command(f, "show info");
        const char *p = strstr(out, "\nPid: ");

        check(p);
        return strtol(p + strlen("\nPid: "), NULL, 10);
}

static struct in_addr loopback(void) {
        return (struct in_addr){.s_addr = htonl(INADDR_LOOPBACK)};
}

typedef struct Response {
        long status;
        char body[512];
        size_t len;
        bool failed;
} Response;

static size_t collect_body(char *data, size_t size, size_t n, void *userdata) {
        Response *r = userdata;
        size_t k = MIN(size * n, sizeof(r->body) - 1 - r->len);

        memcpy(r->body + r->len, data, k);
        r->len += k;
        r->body[r->len] = '\0';
        return size * n;
}

/* Sends GET path with the given Host header on a new connection. */
static Response http_get(uint16_t port, const char *host, const char *path) {
        Response r = {};
        char url[256], header[300];
        struct curl_slist *headers = NULL;
        CURL *c = curl_easy_init();

        check(c);
        snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
        snprintf(header, sizeof(header), "Host: %s", host);
        headers = curl_slist_append(headers, header);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
        curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        if (curl_easy_perform(c) != CURLE_OK)
                r.failed = true;
        else
                curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
        curl_slist_free_all(headers);
        curl_easy_cleanup(c);
        return r;
}

static void expect_page(uint16_t port, const char *host, long status, const char *body_part) {
        Response r = http_get(port, host, "/");

        if (r.failed || r.status != status || !strstr(r.body, body_part)) {
                fprintf(stderr, "GET http://%s/ on port %u: expected %ld with \"%s\", got %s%ld \"%s\"\n",
                        host, port, status, body_part, r.failed ? "transfer failure " : "", r.status,
                        r.body);
                exit(EXIT_FAILURE);
        }
}

static const IngressRoute two_routes[] = {
        {.service_id = "aaaaaaaaaa",
         .host = "aaaaaaaaaa.us-east-1.apprunner.localhost",
         .max_concurrency = 100},
        {.service_id = "bbbbbbbbbb",
         .host = "bbbbbbbbbb.us-east-1.apprunner.localhost",
         .max_concurrency = 100},
};
#define HOST_A "aaaaaaaaaa.us-east-1.apprunner.localhost"
#define HOST_B "bbbbbbbbbb.us-east-1.apprunner.localhost"

static void add_two_servers(Fixture *f) {
        _cleanup_free_ char *error = NULL;

        check_ok(ingress_server_add(f->ingress, "aaaaaaaaaa", "i1", loopback(), backend_port[0], &error),
                 error);
        check_ok(ingress_server_add(f->ingress, "bbbbbbbbbb", "i1", loopback(), backend_port[1], &error),
                 error);
}

static void test_routes_by_host(void) {
        Fixture f = {};

        fixture_start(&f, "routes", two_routes, ELEMENTSOF(two_routes), 0);
        add_two_servers(&f);

        expect_page(f.port, HOST_A, 200, "backend a");
        expect_page(f.port, HOST_B, 200, "backend b");
        /* Case and a :port suffix do not matter. */
        expect_page(f.port, "AAAAAAAAAA.us-east-1.apprunner.localhost:8080", 200, "backend a");
        expect_page(f.port, "unknown.us-east-1.apprunner.localhost", 404, "No service");
        expect_page(f.port, "127.0.0.1", 404, "No service");

        fixture_stop(&f);
}

static void test_paused_route(void) {
        _cleanup_free_ char *error = NULL;
        IngressRoute routes[2] = {two_routes[0], two_routes[1]};
        Fixture f = {};
        long pid;

        fixture_start(&f, "paused", routes, 2, 0);
        add_two_servers(&f);
        pid = worker_pid(&f);

        routes[1].state = ROUTE_PAUSED;
        check_ok(ingress_set_routes(f.ingress, routes, 2, &error), error);
        expect_page(f.port, HOST_B, 503, "paused");
        expect_page(f.port, HOST_A, 200, "backend a");

        routes[1].state = ROUTE_RUNNING;
        check_ok(ingress_set_routes(f.ingress, routes, 2, &error), error);
        expect_page(f.port, HOST_B, 200, "backend b");

        /* Pausing and resuming are map updates, not reloads. */
        check(worker_pid(&f) == pid);

        fixture_stop(&f);
}

static void test_servers_without_reload(void) {
        _cleanup_free_ char *error = NULL;
        Fixture f = {};
        unsigned sessions = 99;
        long pid;

        fixture_start(&f, "servers", two_routes, 2, 0);
        pid = worker_pid(&f);

        /* No server yet: HAProxy returns 503 itself. */
        expect_page(f.port, HOST_A, 503, "");

        check_ok(ingress_server_add(f.ingress, "aaaaaaaaaa", "i1", loopback(), backend_port[0], &error),
                 error);
        expect_page(f.port, HOST_A, 200, "backend a");
        check(ingress_server_add(f.ingress, "aaaaaaaaaa", "i1", loopback(), backend_port[0], NULL) ==
              -EEXIST);
        check(ingress_server_add(f.ingress, "nosuchsvc0", "i1", loopback(), backend_port[0], NULL) ==
              -ENOENT);

        check_ok(ingress_server_add(f.ingress, "aaaaaaaaaa", "i2", loopback(), backend_port[1], &error),
                 error);
        {
                _cleanup_free_ char *state = admin_command(&f, "show servers state svc_aaaaaaaaaa");
                check(strstr(state, " i1 "));
                check(strstr(state, " i2 "));
        }

        check_ok(ingress_server_drain(f.ingress, "aaaaaaaaaa", "i1"), NULL);
        check_ok(ingress_server_sessions(f.ingress, "aaaaaaaaaa", "i1", &sessions), NULL);
        check(sessions == 0);
        /* A drained server gets no new requests, so i2 serves all of them. */
        for (int k = 0; k < 5; k++)
                expect_page(f.port, HOST_A, 200, "backend b");

        check_ok(ingress_server_remove(f.ingress, "aaaaaaaaaa", "i1"), NULL);
        check(ingress_server_sessions(f.ingress, "aaaaaaaaaa", "i1", &sessions) == -ENOENT);
        check_ok(ingress_server_remove(f.ingress, "aaaaaaaaaa", "i2"), NULL);
        expect_page(f.port, HOST_A, 503, "");
        {
                _cleanup_free_ char *state = admin_command(&f, "show servers state svc_aaaaaaaaaa");
                check(!strstr(state, " i1 "));
                check(!strstr(state, " i2 "));
        }

        check(worker_pid(&f) == pid);
        fixture_stop(&f);
}

typedef struct Loop {
        uint16_t port;
        volatile bool stop;
        unsigned ok, failed;
} Loop;

static void *request_loop(void *userdata) {
        Loop *l = userdata;

        while (!l->stop) {
                Response r = http_get(l->port, HOST_A, "/");

                if (!r.failed && r.status == 200 && strstr(r.body, "backend a"))
                        l->ok++;
                else {
                        fprintf(stderr, "Request during reload failed: %s%ld\n", r.failed ? "transfer " : "",
                                r.status);
                        l->failed++;
                }
        }
        return NULL;
}

static void test_route_change_reloads_without_errors(void) {
        _cleanup_free_ char *error = NULL;
        IngressRoute routes[3] = {
                two_routes[0],
                two_routes[1],
                {.service_id = "cccccccccc",
                 .host = "cccccccccc.us-east-1.apprunner.localhost",
                 .max_concurrency = 10},
        };
        Fixture f = {};
        Loop loop = {};
        pthread_t threads[4];
        long pid;

        fixture_start(&f, "reload", routes, 2, 0);
        add_two_servers(&f);
        loop.port = f.port;

        for (size_t k = 0; k < ELEMENTSOF(threads); k++)
                check(pthread_create(&threads[k], NULL, request_loop, &loop) == 0);

        /* Alternate between two and three routes: each change adds or
         * removes a backend and therefore reloads. */
        for (int round = 0; round < 6; round++) {
                pid = worker_pid(&f);
                sleep_ms(200);
                check_ok(ingress_set_routes(f.ingress, routes, round % 2 == 0 ? 3 : 2, &error), error);
                check(worker_pid(&f) != pid);
        }
        sleep_ms(200);

        loop.stop = true;
        for (size_t k = 0; k < ELEMENTSOF(threads); k++)
                pthread_join(threads[k], NULL);

        printf("route change: %u requests across 6 reloads, %u failed\n", loop.ok + loop.failed,
               loop.failed);
        check(loop.ok > 0);
        check(loop.failed == 0);

        /* Runtime-added servers survive the reloads. */
        expect_page(f.port, HOST_B, 200, "backend b");
        fixture_stop(&f);
}

typedef struct SlowRequest {
        uint16_t port;
        Response response;
} SlowRequest;

static void *slow_request(void *userdata) {
        SlowRequest *s = userdata;

        s->response = http_get(s->port, HOST_A, "/cgi-bin/slow");
        return NULL;
}

static unsigned stat_field(const char *csv, const char *row_prefix, const char *column) {
        /* Finds column's index in the header, then the row. */
        const char *header = csv + 2;
        const char *row = strstr(csv, row_prefix);
        size_t index = 0;

        check(row);
        for (const char *p = header; *p && *p != '\n';) {
                size_t len = strcspn(p, ",\n");
                if (len == strlen(column) && strncmp(p, column, len) == 0)
                        break;
                index++;
                p += len + (p[len] == ',');
        }
        for (size_t k = 0; k < index; k++) {
                row = strchr(row, ',');
                check(row);
                row++;
        }
        return (unsigned)strtoul(row, NULL, 10);
}

static void test_max_concurrency_queues(void) {
        IngressRoute route = two_routes[0];
        SlowRequest requests[20];
        pthread_t threads[20];
        Fixture f = {};
        unsigned max_queued = 0;
        struct timespec start, end;
        double elapsed;

        route.max_concurrency = 2;
        fixture_start(&f, "queue", &route, 1, 0);
        {
                _cleanup_free_ char *error = NULL;
                check_ok(ingress_server_add(f.ingress, "aaaaaaaaaa", "i1", loopback(), slow_port, &error),
                         error);
        }

        clock_gettime(CLOCK_MONOTONIC, &start);
        for (size_t k = 0; k < ELEMENTSOF(threads); k++) {
                requests[k] = (SlowRequest){.port = f.port};
                check(pthread_create(&threads[k], NULL, slow_request, &requests[k]) == 0);
        }

        /* Watch the queue through the driver while the requests run. */
        for (int k = 0; k < 20; k++) {
                IngressStats *stats = NULL;
                size_t n = 0;

                sleep_ms(250);
                check_ok(ingress_stats(f.ingress, &stats, &n), NULL);
                check(n == 1);
                check(stats[0].current <= 2);
                max_queued = MAX(max_queued, stats[0].queued);
                ingress_stats_free(stats, n);
        }

        for (size_t k = 0; k < ELEMENTSOF(threads); k++)
                pthread_join(threads[k], NULL);
        clock_gettime(CLOCK_MONOTONIC, &end);
        elapsed = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;

        for (size_t k = 0; k < ELEMENTSOF(requests); k++) {
                check(!requests[k].response.failed);
                check(requests[k].response.status == 200);
        }

        /* Requests wait in the backend's queue, not in a server's. */
        _cleanup_free_ char *stat = admin_command(&f, "show stat svc_aaaaaaaaaa 6 -1");
        unsigned qmax = stat_field(stat, "svc_aaaaaaaaaa,BACKEND,", "qmax");
        unsigned smax = stat_field(stat, "svc_aaaaaaaaaa,i1,", "smax");

        printf("max concurrency 2: 20 requests of 1 s took %.1f s, queue peak %u (driver saw %u), "
               "server sessions peak %u\n",
               elapsed, qmax, max_queued, smax);
        check(smax <= 2);
        check(qmax >= 15);
        check(max_queued > 0);
        /* 20 requests, 2 at a time, 1 s each. */
        check(elapsed >= 9.5);

        IngressStats *stats = NULL;
        size_t n = 0;
        check_ok(ingress_stats(f.ingress, &stats, &n), NULL);
        check(streq(stats[0].service_id, "aaaaaaaaaa"));
        check(stats[0].requests == 20);
        check(stats[0].http_2xx == 20);
        check(stats[0].avg_response_ms >= 900);
        ingress_stats_free(stats, n);

        fixture_stop(&f);
}

static void test_resync_after_driver_restart(void) {
        _cleanup_free_ char *error = NULL;
        Fixture f = {};
        long pid;

        fixture_start(&f, "driver-restart", two_routes, 2, 0);
        add_two_servers(&f);
        check_ok(ingress_server_add(f.ingress, "aaaaaaaaaa", "i2", loopback(), backend_port[0], &error),
                 error);
        pid = worker_pid(&f);

        /* While the driver is gone, HAProxy loses server i2 and gains a
         * server that is not in the desired state. */
        f.ingress = ingress_free(f.ingress);
        free(admin_command(&f, "set server svc_aaaaaaaaaa/i2 state maint"));
        free(admin_command(&f, "del server svc_aaaaaaaaaa/i2"));
        free(admin_command(&f, "add server svc_bbbbbbbbbb/stray 127.0.0.1:9 maxconn 1"));
        free(admin_command(&f, "set maxconn server svc_bbbbbbbbbb/i1 7"));

        /* The new driver gets the desired state, then repairs HAProxy. */
        f.ingress = new_ingress(&f, 0);
        check_ok(ingress_set_routes(f.ingress, two_routes, 2, &error), error);
        add_two_servers(&f);
        check_ok(ingress_server_add(f.ingress, "aaaaaaaaaa", "i2", loopback(), backend_port[0], &error),
                 error);
        check_ok(ingress_resync(f.ingress, &error), error);

        _cleanup_free_ char *a = admin_command(&f, "show servers state svc_aaaaaaaaaa");
        _cleanup_free_ char *b = admin_command(&f, "show stat svc_bbbbbbbbbb 4 -1");
        check(strstr(a, " i1 "));
        check(strstr(a, " i2 "));
        check(!strstr(b, "stray"));
        check(stat_field(b, "svc_bbbbbbbbbb,i1,", "slim") == 100);
        check(worker_pid(&f) == pid);
        expect_page(f.port, HOST_A, 200, "backend a");
        expect_page(f.port, HOST_B, 200, "backend b");

        fixture_stop(&f);
}

static void copy_file(const char *from, const char *to) {
        char buf[65536];
        FILE *in = fopen(from, "re"), *out;
        size_t n;

        check(in);
        out = fopen(to, "we");
        check(out);
        while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
                check(fwrite(buf, 1, n, out) == n);
        fclose(in);
        check(fclose(out) == 0);
}

static void test_resync_after_haproxy_restart(void) {
        _cleanup_free_ char *error = NULL;
        char config[300], stale[300], map[300], stale_map[300];
        Fixture f = {};
        long pid;

        /* Start with only route a and keep that configuration. */
        fixture_start(&f, "haproxy-restart", two_routes, 1, 0);
        snprintf(config, sizeof(config), "%s/haproxy.cfg", f.run_dir);
        snprintf(stale, sizeof(stale), "%s/stale.cfg", f.run_dir);
        snprintf(map, sizeof(map), "%s/hosts.map", f.run_dir);
        snprintf(stale_map, sizeof(stale_map), "%s/stale.map", f.run_dir);
        copy_file(config, stale);
        copy_file(map, stale_map);

        check_ok(ingress_set_routes(f.ingress, two_routes, 2, &error), error);
        add_two_servers(&f);
        expect_page(f.port, HOST_B, 200, "backend b");

        /* HAProxy restarts with the old files, without route b and without
         * any server. */
        stop_haproxy(&f);
        copy_file(stale, config);
        copy_file(stale_map, map);
        start_haproxy(&f);
        expect_page(f.port, HOST_B, 404, "No service");
        expect_page(f.port, HOST_A, 503, "");
        pid = worker_pid(&f);

        check_ok(ingress_resync(f.ingress, &error), error);
        check(worker_pid(&f) != pid);
        expect_page(f.port, HOST_A, 200, "backend a");
        expect_page(f.port, HOST_B, 200, "backend b");

        /* A second resync finds nothing to do and does not reload. */
        pid = worker_pid(&f);
        check_ok(ingress_resync(f.ingress, &error), error);
        check(worker_pid(&f) == pid);

        fixture_stop(&f);
}

static void test_invalid_routes(void) {
        Fixture f = {};
        IngressRoute dup_host[2] = {two_routes[0], two_routes[1]};
        IngressRoute bad[] = {
                {.service_id = "a b", .host = "x.example", .max_concurrency = 1},
                {.service_id = "abc", .host = "x.example;y", .max_concurrency = 1},
                {.service_id = "abc", .host = "x.example", .max_concurrency = 0},
                {.service_id = NULL, .host = "x.example", .max_concurrency = 1},
        };

        snprintf(f.run_dir, sizeof(f.run_dir), "%s/invalid", workdir);
        f.port = pick_port();
        f.ingress = new_ingress(&f, 0);

        for (size_t k = 0; k < ELEMENTSOF(bad); k++) {
                _cleanup_free_ char *error = NULL;

                check(ingress_set_routes(f.ingress, &bad[k], 1, &error) == -EINVAL);
                check(error);
        }

        dup_host[1].host = "AAAAAAAAAA.us-east-1.apprunner.localhost";
        check(ingress_set_routes(f.ingress, dup_host, 2, NULL) == -EINVAL);

        _cleanup_free_ char *error = NULL;
        check(ingress_server_add(f.ingress, "aaaaaaaaaa", "bad name", loopback(), 80, &error) == -EINVAL);
        f.ingress = ingress_free(f.ingress);
}

static void test_metrics(void) {
        uint16_t metrics_port = pick_port();
        Fixture f = {};
        Response r;
        int available;

        fixture_start(&f, "metrics", two_routes, 2, metrics_port);
        add_two_servers(&f);
        expect_page(f.port, HOST_A, 200, "backend a");

        available = ingress_metrics_available(f.ingress);
        check(available >= 0);
        r = http_get(metrics_port, "localhost", "/metrics");
        check(!r.failed);
        if (available) {
                check(r.status == 200);
                check(strstr(r.body, "haproxy_"));
        } else {
                printf("metrics: HAProxy lacks prometheus-exporter, frontend answers %ld\n", r.status);
                check(r.status == 503);
        }
        r = http_get(metrics_port, "localhost", "/other");
        check(r.status == 404);

        fixture_stop(&f);
}

static const struct {
        const char *name;
        void (*run)(void);
} tests[] = {
        {"invalid routes", test_invalid_routes},
        {"routes by host", test_routes_by_host},
        {"paused route", test_paused_route},
        {"servers without reload", test_servers_without_reload},
        {"route change reloads without errors", test_route_change_reloads_without_errors},
        {"max concurrency queues", test_max_concurrency_queues},
        {"resync after driver restart", test_resync_after_driver_restart},
        {"resync after haproxy restart", test_resync_after_haproxy_restart},
        {"metrics", test_metrics},
};

/* Writes the driver's configuration for one running route with one server
 * into run_dir without starting HAProxy. bench-ingress.sh uses it. */
static int write_bench_config(const char *run_dir, const char *listen_port, const char *backend) {
        _cleanup_free_ char *error = NULL;
        IngressRoute route = two_routes[0];
        Fixture f = {};

        snprintf(f.run_dir, sizeof(f.run_dir), "%s", run_dir);
        f.port = (uint16_t)strtoul(listen_port, NULL, 10);
        f.ingress = new_ingress(&f, 0);
        route.max_concurrency = 100;
        check_ok(ingress_set_routes(f.ingress, &route, 1, &error), error);
        check_ok(ingress_server_add(f.ingress, route.service_id, "i1", loopback(),
                                    (uint16_t)strtoul(backend, NULL, 10), &error),
                 error);
        printf("%s\n", route.host);
        ingress_free(f.ingress);
        return EXIT_SUCCESS;
}

int main(int argc, char **argv) {
        const char *only = argc > 1 ? argv[1] : NULL;

        if (argc == 5 && streq(argv[1], "--write-bench-config"))
                return write_bench_config(argv[2], argv[3], argv[4]);

        if (access(HAPROXY, X_OK) < 0 || access(BUSYBOX, X_OK) < 0) {
                printf("%s or %s is missing, skipping.\n", HAPROXY, BUSYBOX);
                return 77;
        }

        signal(SIGPIPE, SIG_IGN);
        check(mkdtemp(workdir));
        check(chmod(workdir, 0755) == 0);
        atexit(cleanup);
        check(curl_global_init(CURL_GLOBAL_DEFAULT) == 0);

        backend_port[0] = start_backend("a");
        backend_port[1] = start_backend("b");
        slow_port = backend_port[0];

        for (size_t k = 0; k < ELEMENTSOF(tests); k++) {
                if (only && !strstr(tests[k].name, only))
                        continue;
                printf("== %s\n", tests[k].name);
                fflush(stdout);
                tests[k].run();
        }

        curl_global_cleanup();
        return EXIT_SUCCESS;
}
