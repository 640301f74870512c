/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <sys/stat.h>

#include "deployer.h"
#include "engine.h"
#include "error.h"
#include "ids.h"
#include "log.h"
#include "manager.h"
#include "secrets.h"
#include "time-util.h"
#include "serialize.h"
#include "validate.h"

void api_error_done(ApiError *e) {
        free(e->message);
        *e = (ApiError){};
}

int api_error_set(ApiError *e, int r, ApiErrorKind kind, const char *format, ...) {
        va_list ap;
        char *s;

        va_start(ap, format);
        if (vasprintf(&s, format, ap) < 0)
                s = NULL;
        va_end(ap);

        free(e->message);
        e->message = s;
        e->kind = kind;
        return r;
}

/* Moves a message produced by a validation function into an ApiError. */
static int api_error_take(ApiError *e, int r, ApiErrorKind kind, char *message) {
        free(e->message);
        e->message = message ?: strdup("Out of memory.");
        e->kind = r == -ENOMEM ? API_ERROR_INTERNAL : kind;
        return r;
}

#define DEFINE_ARRAY_APPEND(name, type)                                  \
        static int name(type ***array, size_t *n, type *item) {          \
                type **a = reallocarray(*array, *n + 1, sizeof(type *)); \
                if (!a)                                                  \
                        return -ENOMEM;                                  \
                a[(*n)++] = item;                                        \
                *array = a;                                              \
                return 0;                                                \
        }

DEFINE_ARRAY_APPEND(append_service, Service);
DEFINE_ARRAY_APPEND(append_operation, Operation);
DEFINE_ARRAY_APPEND(append_auto_scaling, AutoScalingConfiguration);
DEFINE_ARRAY_APPEND(append_connection, Connection);

int manager_new(const char *state_dir, const char *runtime_dir, Manager **ret) {
        Manager *m;
        int r;

        m = calloc(1, sizeof(Manager));
        if (!m)
                return -ENOMEM;

        r = config_init_defaults(&m->config);
        if (r < 0)
                goto fail;

        m->state_dir = strdup(state_dir);
        m->runtime_dir = strdup(runtime_dir);
        if (!m->state_dir || !m->runtime_dir) {
                r = -ENOMEM;
                goto fail;
        }

        r = sd_event_default(&m->event);
        if (r < 0)
                goto fail;

        *ret = m;
        return 0;

fail:
        manager_free(m);
        return r;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;

        if (m->deployer && m->deployer->done)
                m->deployer->done(m);

        for (size_t i = 0; i < m->n_services; i++)
                service_free(m->services[i]);
        free(m->services);
        for (size_t i = 0; i < m->n_operations; i++)
                operation_free(m->operations[i]);
        free(m->operations);
        for (size_t i = 0; i < m->n_auto_scaling; i++)
                auto_scaling_configuration_free(m->auto_scaling[i]);
        free(m->auto_scaling);
        for (size_t i = 0; i < m->n_connections; i++)
                connection_free(m->connections[i]);
        free(m->connections);

        store_free(m->store);
        sd_bus_flush_close_unref(m->bus);
        sd_event_unref(m->event);
        config_done(&m->config);
        free(m->state_dir);
        free(m->runtime_dir);
        free(m);
        return NULL;
}

/* Object paths */

static int object_path(const char *prefix, const char *id, char **ret) {
        return sd_bus_path_encode(prefix, id, ret);
}

int service_object_path(const Service *s, char **ret) {
        return object_path("/org/apprunner1/service", s->id, ret);
}

int operation_object_path(const Operation *o, char **ret) {
        return object_path("/org/apprunner1/operation", o->id, ret);
}

int auto_scaling_object_path(const AutoScalingConfiguration *c, char **ret) {
        return object_path("/org/apprunner1/auto_scaling_configuration", c->id, ret);
}

int connection_object_path(const Connection *c, char **ret) {
        return object_path("/org/apprunner1/connection", c->id, ret);
}

void manager_emit_changed(Manager *m, const char *path, const char *interface) {
        if (!m->bus)
                return;
        (void)sd_bus_emit_properties_changed_strv(m->bus, path, interface, NULL);
}

void manager_emit_added(Manager *m, const char *path) {
        if (!m->bus)
                return;
        (void)sd_bus_emit_object_added(m->bus, path);
}

void manager_emit_removed(Manager *m, const char *path) {
        if (!m->bus)
                return;
        (void)sd_bus_emit_object_removed(m->bus, path);
}

/* Persistence */

#define DEFINE_SAVE(fname, type, to_json, kind, path_func, interface) \
        int fname(Manager *m, type *x) {                              \
                json_object *doc = NULL;                              \
                _cleanup_free_ char *path = NULL;                     \
                int r;                                                \
                                                                      \
                r = to_json(x, &doc);                                 \
                if (r < 0)                                            \
                        return r;                                     \
                r = store_write(m->store, kind, x->id, doc);          \
                json_object_put(doc);                                 \
                if (r < 0)                                            \
                        return r;                                     \
                if (path_func(x, &path) >= 0)                         \
                        manager_emit_changed(m, path, interface);     \
                return 0;                                             \
        }

DEFINE_SAVE(manager_save_service, Service, service_to_json, STORE_SERVICES, service_object_path,
            "org.apprunner1.Service");
DEFINE_SAVE(manager_save_operation, Operation, operation_to_json, STORE_OPERATIONS, operation_object_path,
            "org.apprunner1.Operation");
DEFINE_SAVE(manager_save_auto_scaling, AutoScalingConfiguration, auto_scaling_configuration_to_json,
            STORE_AUTO_SCALING_CONFIGURATIONS, auto_scaling_object_path,
            "org.apprunner1.AutoScalingConfiguration");
DEFINE_SAVE(manager_save_connection, Connection, connection_to_json, STORE_CONNECTIONS,
            connection_object_path, "org.apprunner1.Connection");

static int load_one(StoreKind kind, const char *id, json_object *doc, void *userdata) {
        Manager *m = userdata;
        int r;

        switch (kind) {
        case STORE_SERVICES: {
                Service *s;
                r = service_from_json(doc, &s);
                if (r < 0)
                        return r;
                if (!streq(s->id, id)) {
                        service_free(s);
                        return -EBADMSG;
                }
                r = append_service(&m->services, &m->n_services, s);
                if (r < 0)
                        service_free(s);
                return r;
        }
        case STORE_OPERATIONS: {
                Operation *o;
                r = operation_from_json(doc, &o);
                if (r < 0)
                        return r;
                if (!streq(o->id, id)) {
                        operation_free(o);
                        return -EBADMSG;
                }
                r = append_operation(&m->operations, &m->n_operations, o);
                if (r < 0)
                        operation_free(o);
                return r;
        }
        case STORE_AUTO_SCALING_CONFIGURATIONS: {
                AutoScalingConfiguration *c;
                r = auto_scaling_configuration_from_json(doc, &c);
                if (r < 0)
                        return r;
                if (!streq(c->id, id)) {
                        auto_scaling_configuration_free(c);
                        return -EBADMSG;
                }
                r = append_auto_scaling(&m->auto_scaling, &m->n_auto_scaling, c);
                if (r < 0)
                        auto_scaling_configuration_free(c);
                return r;
        }
        case STORE_CONNECTIONS: {
                Connection *c;
                r = connection_from_json(doc, &c);
                if (r < 0)
                        return r;
                if (!streq(c->id, id)) {
                        connection_free(c);
                        return -EBADMSG;
                }
                r = append_connection(&m->connections, &m->n_connections, c);
                if (r < 0)
                        connection_free(c);
                return r;
        }
        default:
                return -EINVAL;
        }
}

static int service_compare(const void *a, const void *b) {
        const Service *x = *(Service *const *)a, *y = *(Service *const *)b;
        if (x->created_at != y->created_at)
                return x->created_at < y->created_at ? -1 : 1;
        return strcmp(x->id, y->id);
}

static int auto_scaling_compare(const void *a, const void *b) {
        const AutoScalingConfiguration *x = *(AutoScalingConfiguration *const *)a,
                                       *y = *(AutoScalingConfiguration *const *)b;
        int c = strcmp(x->name, y->name);
        if (c != 0)
                return c;
        return x->revision < y->revision ? -1 : x->revision > y->revision;
}

static int operation_compare(const void *a, const void *b) {
        const Operation *x = *(Operation *const *)a, *y = *(Operation *const *)b;
        if (x->started_at != y->started_at)
                return x->started_at < y->started_at ? -1 : 1;
        return strcmp(x->id, y->id);
}

static int new_auto_scaling(Manager *m, const char *name, unsigned revision, unsigned max_concurrency,
                            unsigned min_size, unsigned max_size, AutoScalingConfiguration **ret) {
        AutoScalingConfiguration *c;
        int r;

        c = calloc(1, sizeof(AutoScalingConfiguration));
        if (!c)
                return -ENOMEM;
        *c = (AutoScalingConfiguration){
                .revision = revision,
                .active = true,
                .max_concurrency = max_concurrency,
                .min_size = min_size,
                .max_size = max_size,
                .created_at = now_usec(),
        };
        c->name = strdup(name);
        r = id_new_hex32(&c->id);
        if (r >= 0 && c->name &&
            asprintf(&c->arn, "arn:aws:apprunner:%s:%s:autoscalingconfiguration/%s/%u/%s", m->config.region,
                     m->config.account_id, name, revision, c->id) < 0)
                c->arn = NULL;
        if (r < 0 || !c->name || !c->arn) {
                auto_scaling_configuration_free(c);
                return r < 0 ? r : -ENOMEM;
        }

        r = manager_save_auto_scaling(m, c);
        if (r < 0) {
                auto_scaling_configuration_free(c);
                return r;
        }
        r = append_auto_scaling(&m->auto_scaling, &m->n_auto_scaling, c);
        if (r < 0) {
                (void)store_remove(m->store, STORE_AUTO_SCALING_CONFIGURATIONS, c->id);
                auto_scaling_configuration_free(c);
                return r;
        }
        *ret = c;
        return 0;
}

static bool secret_is_referenced(const char *id, void *userdata) {
        Connection *c = manager_find_connection_by_id(userdata, id);
        return c && !c->deleted;
}

int manager_load(Manager *m) {
        static const char *const kind_names[_STORE_KIND_MAX] = {
                "services", "operations", "auto scaling configurations", "connections"};
        int r;

        if (!m->store) {
                r = store_open(m->state_dir, &m->store);
                if (r < 0)
                        return r;
        }

        for (StoreKind k = 0; k < _STORE_KIND_MAX; k++) {
                r = store_load(m->store, k, load_one, m);
                if (r < 0)
                        return log_error_errno(r, "Failed to load %s: %m", kind_names[k]);
                if (r > 0)
                        log_warning("Moved %d corrupt %s document(s) to %s/corrupt/.", r, kind_names[k],
                                    m->state_dir);
        }

        /* qsort() must not get a NULL array, which an empty state has. */
        if (m->n_services > 1)
                qsort(m->services, m->n_services, sizeof(Service *), service_compare);
        if (m->n_operations > 1)
                qsort(m->operations, m->n_operations, sizeof(Operation *), operation_compare);
        if (m->n_auto_scaling > 1)
                qsort(m->auto_scaling, m->n_auto_scaling, sizeof(AutoScalingConfiguration *),
                      auto_scaling_compare);

        if (!manager_latest_auto_scaling(m, DEFAULT_AUTO_SCALING_NAME)) {
                AutoScalingConfiguration *c;
                unsigned revision = 1;

                for (size_t i = 0; i < m->n_auto_scaling; i++)
                        if (streq(m->auto_scaling[i]->name, DEFAULT_AUTO_SCALING_NAME))
                                revision = MAX(revision, m->auto_scaling[i]->revision + 1);

                r = new_auto_scaling(m, DEFAULT_AUTO_SCALING_NAME, revision,
                                     m->config.default_max_concurrency, m->config.default_min_size,
                                     m->config.default_max_size, &c);
                if (r < 0)
                        return log_error_errno(r, "Failed to create %s: %m", DEFAULT_AUTO_SCALING_NAME);
                log_info("Created %s with MaxConcurrency=%u MinSize=%u MaxSize=%u.", c->arn,
                         c->max_concurrency, c->min_size, c->max_size);
        }
        if (!manager_default_auto_scaling(m)) {
                AutoScalingConfiguration *c = manager_latest_auto_scaling(m, DEFAULT_AUTO_SCALING_NAME);
                c->is_default = true;
                r = manager_save_auto_scaling(m, c);
                if (r < 0)
                        return r;
        }

        /* A crash between storing a secret and its connection document, or
         * between removing the two, leaves a secret that nothing refers to. */
        r = secret_prune(m->state_dir, secret_is_referenced, m);
        if (r < 0)
                log_warning("Failed to remove unreferenced connection secrets: %s", strerror(-r));

        log_info("Loaded %zu services, %zu operations, %zu auto scaling configuration revisions, %zu "
                 "connections "
                 "from %s.",
                 m->n_services, m->n_operations, m->n_auto_scaling, m->n_connections, m->state_dir);
        return 0;
}

int manager_refresh_stats(Manager *m) {
        uint64_t now = now_monotonic_usec();
        int r;

        if (!m->deployer || !m->deployer->refresh_stats)
                return -EOPNOTSUPP;
        if (m->stats_refreshed_usec != 0 && now - m->stats_refreshed_usec < STATS_MAX_AGE_USEC)
                return 0;

        r = m->deployer->refresh_stats(m);
        if (r < 0)
                return log_debug_errno(r, "Failed to read the ingress figures: %m");
        m->stats_refreshed_usec = now;
        return 0;
}

/* Lookups */

Service *manager_find_service_by_id(Manager *m, const char *id) {
        for (size_t i = 0; i < m->n_services; i++)
                if (streq(m->services[i]->id, id))
                        return m->services[i];
        return NULL;
}

Service *manager_find_service(Manager *m, const char *key) {
        if (!key)
                return NULL;
        for (size_t i = 0; i < m->n_services; i++) {
                Service *s = m->services[i];
                if (streq(s->arn, key) || streq(s->id, key) || streq(s->name, key))
                        return s;
        }
        return NULL;
}

Operation *manager_find_operation(Manager *m, const char *id) {
        for (size_t i = 0; id && i < m->n_operations; i++)
                if (streq(m->operations[i]->id, id))
                        return m->operations[i];
        return NULL;
}

AutoScalingConfiguration *manager_find_auto_scaling_by_id(Manager *m, const char *id) {
        for (size_t i = 0; i < m->n_auto_scaling; i++)
                if (streq(m->auto_scaling[i]->id, id))
                        return m->auto_scaling[i];
        return NULL;
}

AutoScalingConfiguration *manager_latest_auto_scaling(Manager *m, const char *name) {
        AutoScalingConfiguration *latest = NULL;

        for (size_t i = 0; i < m->n_auto_scaling; i++) {
                AutoScalingConfiguration *c = m->auto_scaling[i];
                if (c->active && streq(c->name, name) && (!latest || c->revision > latest->revision))
                        latest = c;
        }
        return latest;
}

AutoScalingConfiguration *manager_find_auto_scaling(Manager *m, const char *arn) {
        _cleanup_free_ char *prefix = NULL;
        size_t n;

        if (!arn)
                return NULL;
        for (size_t i = 0; i < m->n_auto_scaling; i++)
                if (streq(m->auto_scaling[i]->arn, arn))
                        return m->auto_scaling[i];

        /* arn:...:autoscalingconfiguration/<name> names the latest revision. */
        if (asprintf(&prefix, "arn:aws:apprunner:%s:%s:autoscalingconfiguration/", m->config.region,
                     m->config.account_id) < 0)
                return NULL;
        n = strlen(prefix);
        if (strncmp(arn, prefix, n) != 0 || strchr(arn + n, '/'))
                return NULL;
        return manager_latest_auto_scaling(m, arn + n);
}

AutoScalingConfiguration *manager_default_auto_scaling(Manager *m) {
        for (size_t i = 0; i < m->n_auto_scaling; i++)
                if (m->auto_scaling[i]->is_default && m->auto_scaling[i]->active)
                        return m->auto_scaling[i];
        return NULL;
}

bool manager_auto_scaling_in_use(Manager *m, const AutoScalingConfiguration *c) {
        for (size_t i = 0; i < m->n_services; i++) {
                const Service *s = m->services[i];
                if (streq_ptr(s->spec.auto_scaling_configuration_arn, c->arn))
                        return true;
        }
        for (size_t i = 0; i < m->n_operations; i++) {
                const Operation *o = m->operations[i];
                if (!operation_status_is_final(o->status) && o->spec &&
                    streq_ptr(o->spec->auto_scaling_configuration_arn, c->arn))
                        return true;
        }
        return false;
}

AutoScalingConfiguration *manager_service_auto_scaling(Manager *m, const Service *s) {
        for (size_t i = 0; i < m->n_auto_scaling; i++)
                if (streq_ptr(m->auto_scaling[i]->arn, s->spec.auto_scaling_configuration_arn))
                        return m->auto_scaling[i];
        return manager_default_auto_scaling(m);
}

const char *manager_auto_scaling_arn_hint(const char *key) {
        if (key && strncmp(key, "arn:", 4) == 0)
                return "";
        return " Expected an ARN: arn:aws:apprunner:<region>:<account>:autoscalingconfiguration/<name>, "
               "optionally followed by /<revision>/<id>.";
}

Connection *manager_find_connection(Manager *m, const char *arn) {
        for (size_t i = 0; arn && i < m->n_connections; i++)
                if (streq(m->connections[i]->arn, arn))
                        return m->connections[i];
        return NULL;
}

Connection *manager_find_connection_by_id(Manager *m, const char *id) {
        for (size_t i = 0; i < m->n_connections; i++)
                if (streq(m->connections[i]->id, id))
                        return m->connections[i];
        return NULL;
}

bool manager_connection_in_use(Manager *m, const Connection *c) {
        for (size_t i = 0; i < m->n_services; i++)
                if (streq_ptr(m->services[i]->spec.connection_arn, c->arn))
                        return true;
        for (size_t i = 0; i < m->n_operations; i++) {
                const Operation *o = m->operations[i];
                if (!operation_status_is_final(o->status) && o->spec &&
                    streq_ptr(o->spec->connection_arn, c->arn))
                        return true;
        }
        return false;
}

size_t manager_count_active_services(Manager *m) {
        size_t n = 0;
        for (size_t i = 0; i < m->n_services; i++)
                if (m->services[i]->status != SERVICE_DELETED)
                        n++;
        return n;
}

int manager_service_url(Manager *m, const Service *s, char **ret) {
        int r;

        if (m->config.listen_port == 80)
                r = asprintf(ret, "%s.%s.%s", s->url_id, m->config.region, m->config.domain_suffix);
        else
                r = asprintf(ret, "%s.%s.%s:%u", s->url_id, m->config.region, m->config.domain_suffix,
                             m->config.listen_port);
        return r < 0 ? -ENOMEM : 0;
}

/* Services */

/* Checks the references of a spec and replaces a name-only auto scaling
 * ARN with the revision ARN it resolves to. */
static int resolve_spec_references(Manager *m, ServiceSpec *spec, ApiError *e) {
        AutoScalingConfiguration *c;
        char *error = NULL;
        int r;

        if (!spec->image_repository_type) {
                r = validate_image_identifier(spec->image_identifier, NULL, &spec->image_repository_type,
                                              &error);
                if (r < 0)
                        return api_error_take(e, r, API_ERROR_INVALID_REQUEST, error);
        }

        r = service_spec_validate(spec, &error);
        if (r < 0)
                return api_error_take(e, r, API_ERROR_INVALID_REQUEST, error);

        if (spec->auto_scaling_configuration_arn) {
                c = manager_find_auto_scaling(m, spec->auto_scaling_configuration_arn);
                if (!c || !c->active)
                        return api_error_set(
                                e, -ENOENT, API_ERROR_INVALID_REQUEST,
                                "AutoScalingConfigurationArn %s does not name an active auto scaling "
                                "configuration.",
                                spec->auto_scaling_configuration_arn);
        } else {
                c = manager_default_auto_scaling(m);
                if (!c)
                        return api_error_set(e, -ENOENT, API_ERROR_INTERNAL,
                                             "No default auto scaling configuration is set.");
        }
        r = free_and_strdup(&spec->auto_scaling_configuration_arn, c->arn);
        if (r < 0)
                return api_error_set(e, r, API_ERROR_INTERNAL, "Out of memory.");

        if (spec->connection_arn) {
                Connection *conn = manager_find_connection(m, spec->connection_arn);
                if (!conn || conn->deleted)
                        return api_error_set(e, -ENOENT, API_ERROR_INVALID_REQUEST,
                                             "ConnectionArn %s does not name a connection.",
                                             spec->connection_arn);
        }
        return 0;
}

int manager_create_service(Manager *m, const char *name, ServiceSpec *spec, Service **ret_service,
                           Operation **ret_operation, ApiError *e) {
        _cleanup_free_ char *path = NULL;
        char *error = NULL;
        Service *s;
        int r;

        r = validate_service_name(name, &error);
        if (r < 0)
                return api_error_take(e, r, API_ERROR_INVALID_REQUEST, error);

        for (size_t i = 0; i < m->n_services; i++)
                if (streq(m->services[i]->name, name) && m->services[i]->status != SERVICE_DELETED)
                        return api_error_set(e, -EEXIST, API_ERROR_INVALID_REQUEST,
                                             "A service named %s already exists: %s.", name,
                                             m->services[i]->arn);

        if (manager_count_active_services(m) >= m->config.max_services)
                return api_error_set(
                        e, -EDQUOT, API_ERROR_SERVICE_QUOTA_EXCEEDED,
                        "This host already has %u services, the quota set by [Quotas] Services=.",
                        m->config.max_services);

        r = resolve_spec_references(m, spec, e);
        if (r < 0)
                return r;

        s = calloc(1, sizeof(Service));
        if (!s)
                return api_error_set(e, -ENOMEM, API_ERROR_INTERNAL, "Out of memory.");
        s->status = SERVICE_OPERATION_IN_PROGRESS;
        s->created_at = s->updated_at = now_usec();
        s->spec = *spec;
        *spec = (ServiceSpec){};
        s->name = strdup(name);
        if (!s->name || id_new_hex32(&s->id) < 0 || id_new_url_label(&s->url_id) < 0 ||
            asprintf(&s->arn, "arn:aws:apprunner:%s:%s:service/%s/%s", m->config.region,
                     m->config.account_id, name, s->id) < 0) {
                s->arn = NULL;
                service_free(s);
                return api_error_set(e, -ENOMEM, API_ERROR_INTERNAL, "Out of memory.");
        }

        r = append_service(&m->services, &m->n_services, s);
        if (r < 0) {
                service_free(s);
                return api_error_set(e, r, API_ERROR_INTERNAL, "Out of memory.");
        }

        r = engine_start(m, s, OPERATION_CREATE_SERVICE, NULL, ret_operation, e);
        if (r < 0) {
                /* Nothing was persisted: drop the service again. */
                m->n_services--;
                service_free(s);
                return r;
        }

        if (service_object_path(s, &path) >= 0)
                manager_emit_added(m, path);
        log_ids(LOG_INFO, s->id, NULL, (*ret_operation)->id, "Created service %s (%s) from %s.", s->name,
                s->arn, s->spec.image_identifier);
        *ret_service = s;
        return 0;
}

int manager_update_service(Manager *m, Service *s, ServiceSpec *spec, Operation **ret_operation,
                           ApiError *e) {
        ServiceSpec *copy;
        int r;

        r = resolve_spec_references(m, spec, e);
        if (r < 0)
                return r;

        copy = calloc(1, sizeof(ServiceSpec));
        if (!copy)
                return api_error_set(e, -ENOMEM, API_ERROR_INTERNAL, "Out of memory.");
        *copy = *spec;
        *spec = (ServiceSpec){};

        r = engine_start(m, s, OPERATION_UPDATE_SERVICE, copy, ret_operation, e);
        if (r < 0) {
                service_spec_free(copy);
                return r;
        }
        return 0;
}

int manager_service_action(Manager *m, Service *s, OperationType type, Operation **ret_operation,
                           ApiError *e) {
        return engine_start(m, s, type, NULL, ret_operation, e);
}

/* Auto scaling configurations */

static size_t count_auto_scaling_names(Manager *m) {
        size_t n = 0;

        /* Each name with an active revision counts once, through its latest
         * revision. The built-in DefaultConfiguration does not count against
         * the quota. */
        for (size_t i = 0; i < m->n_auto_scaling; i++) {
                AutoScalingConfiguration *c = m->auto_scaling[i];
                if (!c->active || streq(c->name, DEFAULT_AUTO_SCALING_NAME))
                        continue;
                if (manager_latest_auto_scaling(m, c->name) == c)
                        n++;
        }
        return n;
}

int manager_create_auto_scaling(Manager *m, const char *name, unsigned max_concurrency, unsigned min_size,
                                unsigned max_size, AutoScalingConfiguration **ret, ApiError *e) {
        AutoScalingConfiguration *c, *latest;
        unsigned revision = 1, active_revisions = 0;
        char *error = NULL;
        int r;

        r = validate_resource_name("AutoScalingConfigurationName", name, &error);
        if (r < 0)
                return api_error_take(e, r, API_ERROR_INVALID_REQUEST, error);
        r = validate_auto_scaling(max_concurrency, min_size, max_size, &error);
        if (r < 0)
                return api_error_take(e, r, API_ERROR_INVALID_REQUEST, error);

        for (size_t i = 0; i < m->n_auto_scaling; i++) {
                c = m->auto_scaling[i];
                if (!streq(c->name, name))
                        continue;
                revision = MAX(revision, c->revision + 1);
                if (c->active)
                        active_revisions++;
        }

        latest = manager_latest_auto_scaling(m, name);
        if (!latest && !streq(name, DEFAULT_AUTO_SCALING_NAME) &&
            count_auto_scaling_names(m) >= m->config.max_auto_scaling_configurations)
                return api_error_set(
                        e, -EDQUOT, API_ERROR_SERVICE_QUOTA_EXCEEDED,
                        "This host already has %u auto scaling configuration names, the quota set by "
                        "[Quotas] AutoScalingConfigurations=.",
                        m->config.max_auto_scaling_configurations);
        if (active_revisions >= AUTO_SCALING_REVISIONS_MAX)
                return api_error_set(
                        e, -EDQUOT, API_ERROR_SERVICE_QUOTA_EXCEEDED,
                        "Auto scaling configuration %s already has %d active revisions, the maximum.", name,
                        AUTO_SCALING_REVISIONS_MAX);

        r = new_auto_scaling(m, name, revision, max_concurrency, min_size, max_size, &c);
        if (r < 0)
                return api_error_set(e, r, API_ERROR_INTERNAL,
                                     "Failed to store the auto scaling configuration: %s", strerror(-r));
        qsort(m->auto_scaling, m->n_auto_scaling, sizeof(AutoScalingConfiguration *), auto_scaling_compare);

        /* Latest changed on the previous revision. */
        if (latest) {
                _cleanup_free_ char *path = NULL;
                if (auto_scaling_object_path(latest, &path) >= 0)
                        manager_emit_changed(m, path, "org.apprunner1.AutoScalingConfiguration");
        }
        {
                _cleanup_free_ char *path = NULL;
                if (auto_scaling_object_path(c, &path) >= 0)
                        manager_emit_added(m, path);
        }
        log_info("Created auto scaling configuration %s.", c->arn);
        *ret = c;
        return 0;
}

static int deactivate_auto_scaling(Manager *m, AutoScalingConfiguration *c, ApiError *e) {
        int r;

        c->active = false;
        c->deleted_at = now_usec();
        r = manager_save_auto_scaling(m, c);
        if (r < 0) {
                c->active = true;
                c->deleted_at = 0;
                return api_error_set(e, r, API_ERROR_INTERNAL, "Failed to store %s: %s", c->arn,
                                     strerror(-r));
        }
        log_info("Deleted auto scaling configuration %s.", c->arn);
        return 0;
}

int manager_delete_auto_scaling(Manager *m, const char *arn, bool all_revisions,
                                AutoScalingConfiguration **ret, ApiError *e) {
        AutoScalingConfiguration *c;
        int r;

        c = manager_find_auto_scaling(m, arn);
        if (!c || !c->active)
                return api_error_set(e, -ENOENT, API_ERROR_RESOURCE_NOT_FOUND,
                                     "Auto scaling configuration %s not found.%s", strempty(arn),
                                     manager_auto_scaling_arn_hint(arn));
        if (streq(c->name, DEFAULT_AUTO_SCALING_NAME))
                return api_error_set(e, -EPERM, API_ERROR_INVALID_REQUEST,
                                     "%s is built in and cannot be deleted.", DEFAULT_AUTO_SCALING_NAME);

        /* Check every revision first, so that a refused request changes
         * nothing. */
        for (size_t i = 0; i < m->n_auto_scaling; i++) {
                AutoScalingConfiguration *x = m->auto_scaling[i];
                if (!x->active || (all_revisions ? !streq(x->name, c->name) : x != c))
                        continue;
                if (manager_auto_scaling_in_use(m, x))
                        return api_error_set(e, -EBUSY, API_ERROR_INVALID_STATE,
                                             "Auto scaling configuration %s is used by a service.", x->arn);
                if (x->is_default)
                        return api_error_set(e, -EBUSY, API_ERROR_INVALID_STATE,
                                             "Auto scaling configuration %s is the default; make another "
                                             "revision the default first.",
                                             x->arn);
        }

        for (size_t i = 0; i < m->n_auto_scaling; i++) {
                AutoScalingConfiguration *x = m->auto_scaling[i];
                if (!x->active || (all_revisions ? !streq(x->name, c->name) : x != c))
                        continue;
                r = deactivate_auto_scaling(m, x, e);
                if (r < 0)
                        return r;
        }

        /* The previous revision may now be the latest one. */
        AutoScalingConfiguration *latest = manager_latest_auto_scaling(m, c->name);
        if (latest) {
                _cleanup_free_ char *path = NULL;
                if (auto_scaling_object_path(latest, &path) >= 0)
                        manager_emit_changed(m, path, "org.apprunner1.AutoScalingConfiguration");
        }
        *ret = c;
        return 0;
}

int manager_set_default_auto_scaling(Manager *m, const char *arn, AutoScalingConfiguration **ret,
                                     ApiError *e) {
        AutoScalingConfiguration *c, *old;
        int r;

        c = manager_find_auto_scaling(m, arn);
        if (!c || !c->active)
                return api_error_set(e, -ENOENT, API_ERROR_RESOURCE_NOT_FOUND,
                                     "Auto scaling configuration %s not found.%s", strempty(arn),
                                     manager_auto_scaling_arn_hint(arn));

        old = manager_default_auto_scaling(m);
        if (old == c) {
                *ret = c;
                return 0;
        }

        /* The new default is written first: after a crash between the two
         * writes two revisions claim to be the default, and the next
         * UpdateDefault call repairs that. NOTE: manager_default_auto_scaling()
         * then returns the one sorted first. */
        c->is_default = true;
        r = manager_save_auto_scaling(m, c);
        if (r < 0) {
                c->is_default = false;
                return api_error_set(e, r, API_ERROR_INTERNAL, "Failed to store %s: %s", c->arn,
                                     strerror(-r));
        }
        if (old) {
                old->is_default = false;
                r = manager_save_auto_scaling(m, old);
                if (r < 0)
                        return api_error_set(e, r, API_ERROR_INTERNAL, "Failed to store %s: %s", old->arn,
                                             strerror(-r));
        }
        log_info("Default auto scaling configuration is now %s.", c->arn);
        *ret = c;
        return 0;
}

/* Connections */

int manager_create_connection(Manager *m, const char *name, const char *provider_type, const char *username,
                              const char *password, Connection **ret, ApiError *e) {
        _cleanup_free_ char *path = NULL;
        size_t active = 0;
        char *error = NULL;
        Connection *c;
        int r;

        r = validate_resource_name("ConnectionName", name, &error);
        if (r < 0)
                return api_error_take(e, r, API_ERROR_INVALID_REQUEST, error);
        if (!streq_ptr(provider_type, "REGISTRY"))
                return api_error_set(
                        e, -EINVAL, API_ERROR_INVALID_REQUEST,
                        "ProviderType '%s' is not supported: expected REGISTRY (GITHUB and BITBUCKET "
                        "need source code services, which apprunnerd does not run yet).",
                        strempty(provider_type));
        if (!username || !*username || !password || !*password)
                return api_error_set(e, -EINVAL, API_ERROR_INVALID_REQUEST,
                                     "A REGISTRY connection needs a non-empty Username and Password.");
        if (strlen(username) > 256 || strlen(password) > 8192)
                return api_error_set(e, -EINVAL, API_ERROR_INVALID_REQUEST,
                                     "Username must be at most 256 and Password at most 8192 characters.");

        for (size_t i = 0; i < m->n_connections; i++) {
                if (m->connections[i]->deleted)
                        continue;
                active++;
                if (streq(m->connections[i]->name, name))
                        return api_error_set(e, -EEXIST, API_ERROR_INVALID_REQUEST,
                                             "A connection named %s already exists: %s.", name,
                                             m->connections[i]->arn);
        }
        if (active >= m->config.max_connections)
                return api_error_set(e, -EDQUOT, API_ERROR_SERVICE_QUOTA_EXCEEDED,
                                     "This host already has %u connections, the quota set by [Quotas] "
                                     "Connections=.",
                                     m->config.max_connections);

        c = calloc(1, sizeof(Connection));
        if (!c)
                return api_error_set(e, -ENOMEM, API_ERROR_INTERNAL, "Out of memory.");
        c->created_at = now_usec();
        c->name = strdup(name);
        c->provider_type = strdup(provider_type);
        c->username = strdup(username);
        if (!c->name || !c->provider_type || !c->username || id_new_hex32(&c->id) < 0 ||
            asprintf(&c->arn, "arn:aws:apprunner:%s:%s:connection/%s/%s", m->config.region,
                     m->config.account_id, name, c->id) < 0) {
                c->arn = NULL;
                connection_free(c);
                return api_error_set(e, -ENOMEM, API_ERROR_INTERNAL, "Out of memory.");
        }

        /* The secret goes first, so a stored connection always has one. */
        r = secret_store(m->state_dir, c->id, password);
        if (r < 0) {
                connection_free(c);
                return api_error_set(e, r, API_ERROR_INTERNAL, "Failed to store the connection's secret: %s",
                                     strerror(-r));
        }
        r = manager_save_connection(m, c);
        if (r >= 0)
                r = append_connection(&m->connections, &m->n_connections, c);
        if (r < 0) {
                (void)store_remove(m->store, STORE_CONNECTIONS, c->id);
                (void)secret_remove(m->state_dir, c->id);
                connection_free(c);
                return api_error_set(e, r, API_ERROR_INTERNAL, "Failed to store the connection: %s",
                                     strerror(-r));
        }

        if (connection_object_path(c, &path) >= 0)
                manager_emit_added(m, path);
        log_info("Created connection %s for registry user %s.", c->arn, c->username);
        *ret = c;
        return 0;
}

int manager_delete_connection(Manager *m, const char *arn, Connection **ret, ApiError *e) {
        Connection *c;
        int r;

        c = manager_find_connection(m, arn);
        if (!c || c->deleted)
                return api_error_set(e, -ENOENT, API_ERROR_RESOURCE_NOT_FOUND, "Connection %s not found.",
                                     strempty(arn));
        if (manager_connection_in_use(m, c))
                return api_error_set(e, -EBUSY, API_ERROR_INVALID_STATE,
                                     "Connection %s is used by a service.", c->arn);

        r = store_remove(m->store, STORE_CONNECTIONS, c->id);
        if (r < 0)
                return api_error_set(e, r, API_ERROR_INTERNAL, "Failed to remove %s: %s", c->arn,
                                     strerror(-r));
        (void)secret_remove(m->state_dir, c->id);

        /* The object stays readable with Status DELETED until the daemon
         * restarts, so the reply can describe it. */
        c->deleted = true;
        {
                _cleanup_free_ char *path = NULL;
                if (connection_object_path(c, &path) >= 0)
                        manager_emit_changed(m, path, "org.apprunner1.Connection");
        }
        log_info("Deleted connection %s.", c->arn);
        *ret = c;
        return 0;
}

int manager_connection_secret(Manager *m, const Connection *c, char **ret_password) {
        return secret_load(m->state_dir, c->id, ret_password);
}

void erase_and_free(char *s) {
        if (!s)
                return;
        explicit_bzero(s, strlen(s));
        free(s);
}
