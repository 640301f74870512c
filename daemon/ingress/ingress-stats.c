/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Counters from the runtime API's `show stat` CSV output. */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "haproxy-cli.h"
#include "ingress-internal.h"

/* `show stat` types: 2 = backends, 4 = servers. */
#define STAT_TYPE_BACKEND 2
#define STAT_TYPE_SERVER  4

static char **split_csv_line(const char *line, size_t len, size_t *ret_n) {
        char **v = NULL;
        size_t n = 0;

        for (const char *p = line, *end = line + len;;) {
                const char *comma = memchr(p, ',', (size_t)(end - p));
                const char *stop = comma ? comma : end;
                char **nv = realloc(v, (n + 2) * sizeof(char *));

                if (!nv)
                        goto fail;
                v = nv;
                v[n] = strndup(p, (size_t)(stop - p));
                if (!v[n])
                        goto fail;
                v[++n] = NULL;
                if (!comma)
                        break;
                p = comma + 1;
        }
        *ret_n = n;
        return v;

fail:
        if (v)
                v[n] = NULL;
        strv_free(v);
        return NULL;
}

void stat_table_done(StatTable *t) {
        strv_free(t->columns);
        for (size_t k = 0; k < t->n_rows; k++)
                strv_free(t->rows[k]);
        free(t->rows);
        *t = (StatTable){};
}

int stat_table_parse(const char *csv, StatTable *ret) {
        _cleanup_(stat_table_done) StatTable t = {};

        if (strncmp(csv, "# ", 2) != 0)
                return -EBADMSG;

        for (const char *line = csv + 2; *line;) {
                const char *eol = strchrnul(line, '\n');
                size_t len = (size_t)(eol - line), n;
                char **fields;

                if (len > 0) {
                        fields = split_csv_line(line, len, &n);
                        if (!fields)
                                return -ENOMEM;
                        if (!t.columns) {
                                t.columns = fields;
                                t.n_columns = n;
                        } else if (n != t.n_columns) {
                                strv_free(fields);
                                return -EBADMSG;
                        } else {
                                char ***nr = realloc(t.rows, (t.n_rows + 1) * sizeof(char **));
                                if (!nr) {
                                        strv_free(fields);
                                        return -ENOMEM;
                                }
                                t.rows = nr;
                                t.rows[t.n_rows++] = fields;
                        }
                }
                line = *eol ? eol + 1 : eol;
        }

        if (!t.columns)
                return -EBADMSG;
        *ret = t;
        t = (StatTable){};
        return 0;
}

const char *stat_table_get(const StatTable *t, size_t row, const char *column) {
        for (size_t c = 0; c < t->n_columns; c++)
                if (streq(t->columns[c], column))
                        return t->rows[row][c];
        return NULL;
}

static uint64_t get_u64(const StatTable *t, size_t row, const char *column) {
        const char *v = stat_table_get(t, row, column);
        return v && *v ? strtoull(v, NULL, 10) : 0;
}

static int show_stat(Ingress *i, const char *proxy, int type, StatTable *ret) {
        _cleanup_free_ char *cmd = NULL, *out = NULL;
        int r;

        if (asprintf(&cmd, "show stat %s %d -1", proxy, type) < 0)
                return -ENOMEM;
        r = haproxy_cli_command(i->admin_socket, cmd, &out);
        if (r < 0)
                return r;
        if (strncmp(out, "No such proxy", strlen("No such proxy")) == 0)
                return -ENOENT;
        return stat_table_parse(out, ret);
}

int ingress_server_sessions(Ingress *i, const char *service_id, const char *server, unsigned *ret_current) {
        _cleanup_(stat_table_done) StatTable t = {};
        _cleanup_free_ char *proxy = NULL;
        int r;

        if (!i || !service_id || !server || !ret_current)
                return -EINVAL;
        if (!ingress_find_backend(i, service_id))
                return -ENOENT;

        if (asprintf(&proxy, "svc_%s", service_id) < 0)
                return -ENOMEM;
        r = show_stat(i, proxy, STAT_TYPE_SERVER, &t);
        if (r < 0)
                return r;

        /* NOTE: only the current worker is counted. Requests still running
         * in a worker left behind by a reload are not visible here. */
        for (size_t k = 0; k < t.n_rows; k++)
                if (streq_ptr(stat_table_get(&t, k, "svname"), server)) {
                        *ret_current = (unsigned)(get_u64(&t, k, "scur") + get_u64(&t, k, "qcur"));
                        return 0;
                }
        return -ENOENT;
}

IngressStats *ingress_stats_free(IngressStats *s, size_t n) {
        if (!s)
                return NULL;
        for (size_t k = 0; k < n; k++)
                free(s[k].service_id);
        free(s);
        return NULL;
}

int ingress_stats(Ingress *i, IngressStats **ret, size_t *ret_n) {
        _cleanup_(stat_table_done) StatTable t = {};
        IngressStats *s;
        int r;

        if (!i || !ret || !ret_n)
                return -EINVAL;

        r = show_stat(i, "-1", STAT_TYPE_BACKEND, &t);
        if (r < 0)
                return r;

        s = calloc(MAX(i->n_backends, (size_t)1), sizeof(IngressStats));
        if (!s)
                return -ENOMEM;

        /* A route whose backend is not loaded yet gets zero counters. */
        for (size_t b = 0; b < i->n_backends; b++) {
                s[b].service_id = strdup(i->backends[b].service_id);
                if (!s[b].service_id) {
                        ingress_stats_free(s, i->n_backends);
                        return -ENOMEM;
                }

                for (size_t k = 0; k < t.n_rows; k++) {
                        const char *px = stat_table_get(&t, k, "pxname");

                        if (!px || strncmp(px, "svc_", 4) != 0 || !streq(px + 4, s[b].service_id))
                                continue;
                        s[b].requests = get_u64(&t, k, "req_tot");
                        s[b].http_2xx = get_u64(&t, k, "hrsp_2xx");
                        s[b].http_3xx = get_u64(&t, k, "hrsp_3xx");
                        s[b].http_4xx = get_u64(&t, k, "hrsp_4xx");
                        s[b].http_5xx = get_u64(&t, k, "hrsp_5xx");
                        /* A backend's scur also counts the queued requests. */
                        s[b].queued = (unsigned)get_u64(&t, k, "qcur");
                        s[b].current = (unsigned)(get_u64(&t, k, "scur") -
                                                  MIN(get_u64(&t, k, "scur"), (uint64_t)s[b].queued));
                        s[b].avg_response_ms = (unsigned)get_u64(&t, k, "rtime");
                        break;
                }
        }

        *ret = s;
        *ret_n = i->n_backends;
        return 0;
}
