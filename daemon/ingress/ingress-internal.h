/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Types and helpers shared by the files of the ingress driver. */

#include <stdbool.h>

#include "ingress.h"
#include "macro.h"

#define INGRESS_NOT_FOUND_BACKEND "be_not_found"
#define INGRESS_PAUSED_BACKEND    "be_paused"
#define INGRESS_STRUCTURE_ENV     "APPRUNNER_INGRESS_STRUCTURE"

typedef struct IngressServer {
        char *name;
        struct in_addr addr;
        uint16_t port;
        bool draining;
} IngressServer;

typedef struct IngressBackend {
        char *service_id;
        char *host; /* lowercase */
        RouteState state;
        unsigned max_concurrency;
        unsigned request_timeout_sec; /* resolved, never 0 */
        IngressServer *servers;
        size_t n_servers;
} IngressBackend;

struct Ingress {
        char *run_dir;
        char *listen_address;
        uint16_t listen_port;
        bool inherited_listener;
        uint16_t metrics_port;
        unsigned queue_timeout_sec;
        unsigned request_timeout_sec;
        char *haproxy_path;

        char *config_path;
        char *map_path;
        char *admin_socket;
        char *master_socket;

        IngressBackend *backends;
        size_t n_backends;

        bool attached;
        int prometheus; /* -1 until `haproxy -vv` was run */
};

/* Stores a formatted message in *ret_error (if ret_error is not NULL and
 * *ret_error is still NULL) and returns error. */
int ingress_error(char **ret_error, int error, const char *format, ...) _printf_(3, 4);

IngressBackend *ingress_find_backend(Ingress *i, const char *service_id);
IngressServer *ingress_backend_find_server(IngressBackend *b, const char *server);
void ingress_backend_done(IngressBackend *b);

/* haproxy-config.c */
int ingress_render_config(Ingress *i, bool with_servers, char **ret);
int ingress_structure_hash(Ingress *i, char **ret);
int ingress_render_map(Ingress *i, char **ret);
const char *ingress_map_value(const IngressBackend *b);

/* ingress-runtime.c */
int ingress_runtime(Ingress *i, const char *command, const char *const *ok_replies, char **ret_error);
int ingress_runtime_add_server(Ingress *i, const IngressBackend *b, const IngressServer *s,
                               char **ret_error);
int ingress_runtime_remove_server(Ingress *i, const char *service_id, const char *server, char **ret_error);
int ingress_reload(Ingress *i, char **ret_error);

/* ingress-resync.c */
int ingress_apply(Ingress *i, char **ret_error);

/* ingress-stats.c: parse `show stat` CSV into rows of named columns. */
typedef struct StatTable {
        char **columns;
        size_t n_columns;
        char ***rows; /* each row has n_columns strings */
        size_t n_rows;
} StatTable;

int stat_table_parse(const char *csv, StatTable *ret);
void stat_table_done(StatTable *t);
const char *stat_table_get(const StatTable *t, size_t row, const char *column);
