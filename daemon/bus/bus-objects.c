/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>

#include "bus-util.h"
#include "core/deployer.h"
#include "core/engine.h"
#include "log.h"

/* Object lookup: each resource kind is a fallback vtable below its prefix,
 * and the last path element is the sd_bus_path_encode()d id. */

static int find_by_path(const char *path, const char *prefix, char **ret_id) {
        int r = sd_bus_path_decode(path, prefix, ret_id);
        if (r <= 0)
                return r;
        return 1;
}

static int service_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                        sd_bus_error *error) {
        _cleanup_free_ char *id = NULL;
        Manager *m = userdata;
        Service *s;

        if (find_by_path(path, "/org/apprunner1/service", &id) <= 0)
                return 0;
        s = manager_find_service_by_id(m, id);
        if (!s)
                return 0;
        *found = s;
        return 1;
}

static int operation_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                          sd_bus_error *error) {
        _cleanup_free_ char *id = NULL;
        Operation *o;

        if (find_by_path(path, "/org/apprunner1/operation", &id) <= 0)
                return 0;
        o = manager_find_operation(userdata, id);
        if (!o)
                return 0;
        *found = o;
        return 1;
}

static int auto_scaling_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                             void **found, sd_bus_error *error) {
        _cleanup_free_ char *id = NULL;
        AutoScalingConfiguration *c;

        if (find_by_path(path, "/org/apprunner1/auto_scaling_configuration", &id) <= 0)
                return 0;
        c = manager_find_auto_scaling_by_id(userdata, id);
        if (!c)
                return 0;
        *found = c;
        return 1;
}

static int connection_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                           void **found, sd_bus_error *error) {
        _cleanup_free_ char *id = NULL;
        Connection *c;

        if (find_by_path(path, "/org/apprunner1/connection", &id) <= 0)
                return 0;
        c = manager_find_connection_by_id(userdata, id);
        if (!c)
                return 0;
        *found = c;
        return 1;
}

/* Node enumerators, so that introspection and busctl tree list objects. */
#define DEFINE_ENUMERATOR(fname, array, count, type, path_func)                        \
        static int fname(sd_bus *bus, const char *path, void *userdata, char ***nodes, \
                         sd_bus_error *error) {                                        \
                Manager *m = userdata;                                                 \
                char **l = calloc(m->count + 1, sizeof(char *));                       \
                size_t k = 0;                                                          \
                if (!l)                                                                \
                        return -ENOMEM;                                                \
                for (size_t i = 0; i < m->count; i++) {                                \
                        type *x = m->array[i];                                         \
                        if (path_func(x, &l[k]) < 0) {                                 \
                                strv_free(l);                                          \
                                return -ENOMEM;                                        \
                        }                                                              \
                        k++;                                                           \
                }                                                                      \
                *nodes = l;                                                            \
                return 1;                                                              \
        }

DEFINE_ENUMERATOR(service_enumerate, services, n_services, Service, service_object_path);
DEFINE_ENUMERATOR(operation_enumerate, operations, n_operations, Operation, operation_object_path);
DEFINE_ENUMERATOR(auto_scaling_enumerate, auto_scaling, n_auto_scaling, AutoScalingConfiguration,
                  auto_scaling_object_path);
DEFINE_ENUMERATOR(connection_enumerate, connections, n_connections, Connection, connection_object_path);

/* Generic getters for fields at an offset of the object. */

static int property_get_string_ptr(sd_bus *bus, const char *path, const char *interface,
                                   const char *property, sd_bus_message *reply, void *userdata,
                                   sd_bus_error *error) {
        char **s = userdata;
        return sd_bus_message_append(reply, "s", strempty(*s));
}

static int property_get_unsigned(sd_bus *bus, const char *path, const char *interface, const char *property,
                                 sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "u", *(unsigned *)userdata);
}

static int property_get_usec(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "t", *(uint64_t *)userdata);
}

static int property_get_bool(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "b", (int)*(bool *)userdata);
}

/* The Manager is reachable from property callbacks through the bus's
 * default userdata slot; apprunnerd has exactly one. */
static Manager *bus_manager;

/* Service */

static int service_get_status(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Service *s = userdata;
        return sd_bus_message_append(reply, "s", service_status_to_string(s->status));
}

static int service_get_url(sd_bus *bus, const char *path, const char *interface, const char *property,
                           sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *url = NULL;
        int r;

        r = manager_service_url(bus_manager, userdata, &url);
        if (r < 0)
                return r;
        return sd_bus_message_append(reply, "s", url);
}

static int service_get_spec_string(sd_bus *bus, const char *path, const char *interface,
                                   const char *property, sd_bus_message *reply, void *userdata,
                                   sd_bus_error *error) {
        Service *s = userdata;
        const ServiceSpec *spec = &s->spec;
        const char *v =
                streq(property, "ImageIdentifier")       ? spec->image_identifier
                : streq(property, "ImageRepositoryType") ? spec->image_repository_type
                : streq(property, "Port")                ? spec->port
                : streq(property, "StartCommand")        ? spec->start_command
                : streq(property, "ConnectionArn")       ? spec->connection_arn
                : streq(property, "Path")                ? spec->health_path
                : streq(property, "Protocol") ? health_check_protocol_to_string(spec->health_protocol)
                : streq(property, "AutoScalingConfigurationArn") ? spec->auto_scaling_configuration_arn
                                                                 : NULL;
        return sd_bus_message_append(reply, "s", strempty(v));
}

static int service_get_spec_unsigned(sd_bus *bus, const char *path, const char *interface,
                                     const char *property, sd_bus_message *reply, void *userdata,
                                     sd_bus_error *error) {
        Service *s = userdata;
        const ServiceSpec *spec = &s->spec;
        unsigned v = streq(property, "Interval")             ? spec->health_interval
                     : streq(property, "Timeout")            ? spec->health_timeout
                     : streq(property, "HealthyThreshold")   ? spec->healthy_threshold
                     : streq(property, "UnhealthyThreshold") ? spec->unhealthy_threshold
                                                             : spec->request_timeout;
        return sd_bus_message_append(reply, "u", v);
}

static int service_get_instance_size(sd_bus *bus, const char *path, const char *interface,
                                     const char *property, sd_bus_message *reply, void *userdata,
                                     sd_bus_error *error) {
        Service *s = userdata;
        char buf[16];

        snprintf(buf, sizeof(buf), "%u", streq(property, "Cpu") ? s->spec.cpu : s->spec.memory);
        return sd_bus_message_append(reply, "s", buf);
}

static int service_get_auto_deployments(sd_bus *bus, const char *path, const char *interface,
                                        const char *property, sd_bus_message *reply, void *userdata,
                                        sd_bus_error *error) {
        Service *s = userdata;
        return sd_bus_message_append(reply, "b", (int)s->spec.auto_deployments_enabled);
}

static int service_get_environment(sd_bus *bus, const char *path, const char *interface,
                                   const char *property, sd_bus_message *reply, void *userdata,
                                   sd_bus_error *error) {
        Service *s = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "{ss}");
        if (r < 0)
                return r;
        STRV_FOREACH (e, s->spec.environment) {
                const char *eq = strchr(*e, '=');
                _cleanup_free_ char *k = strndup(*e, eq ? (size_t)(eq - *e) : strlen(*e));
                if (!k)
                        return -ENOMEM;
                r = sd_bus_message_append(reply, "{ss}", k, eq ? eq + 1 : "");
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

static int service_get_auto_scaling(sd_bus *bus, const char *path, const char *interface,
                                    const char *property, sd_bus_message *reply, void *userdata,
                                    sd_bus_error *error) {
        AutoScalingConfiguration *c = manager_service_auto_scaling(bus_manager, userdata);

        if (streq(property, "AutoScalingConfigurationName"))
                return sd_bus_message_append(reply, "s", c ? c->name : "");
        return sd_bus_message_append(reply, "u", c ? c->revision : 0);
}

static int service_get_instances(sd_bus *bus, const char *path, const char *interface, const char *property,
                                 sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Service *s = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(sssqs)");
        if (r < 0)
                return r;
        for (Instance *i = s->instances; i; i = i->next) {
                char address[INET_ADDRSTRLEN];

                inet_ntop(AF_INET, &i->address, address, sizeof(address));
                r = sd_bus_message_append(reply, "(sssqs)", i->id, i->unit, address, i->port,
                                          instance_state_to_string(i->state));
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

static int service_get_stat_t(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const ServiceStats *st = &((Service *)userdata)->stats;

        (void)manager_refresh_stats(bus_manager);
        uint64_t v = streq(property, "RequestCount")   ? st->requests
                     : streq(property, "Responses2xx") ? st->responses_2xx
                     : streq(property, "Responses3xx") ? st->responses_3xx
                     : streq(property, "Responses4xx") ? st->responses_4xx
                                                       : st->responses_5xx;
        return sd_bus_message_append(reply, "t", v);
}

static int service_get_stat_u(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const ServiceStats *st = &((Service *)userdata)->stats;

        (void)manager_refresh_stats(bus_manager);
        unsigned v = streq(property, "ActiveRequests")   ? st->active
                     : streq(property, "QueuedRequests") ? st->queued
                                                         : st->average_response_ms;
        return sd_bus_message_append(reply, "u", v);
}

static int method_service_start_deployment(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(api_error_done) ApiError e = {};
        Service *s = userdata;
        Operation *op;
        int r;

        r = bus_check_write_access(message, error);
        if (r < 0)
                return r;
        r = manager_service_action(bus_manager, s, OPERATION_START_DEPLOYMENT, &op, &e);
        if (r < 0)
                return bus_reply_api_error(error, &e);
        return sd_bus_reply_method_return(message, "s", op->id);
}

static int method_service_check_image(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(api_error_done) ApiError e = {};
        _cleanup_free_ char *text = NULL;
        Service *s = userdata;
        Manager *m = bus_manager;
        bool changed = false;
        Operation *op;
        int r;

        r = bus_check_write_access(message, error);
        if (r < 0)
                return r;
        if (s->operation_id || s->status != SERVICE_RUNNING)
                return sd_bus_error_setf(
                        error, BUS_ERROR_INVALID_STATE,
                        "Service %s is %s; checking for a new image needs a RUNNING service "
                        "without an operation in progress.",
                        s->name, service_status_to_string(s->status));
        if (!m->deployer->image_changed)
                return sd_bus_error_set(error, BUS_ERROR_INTERNAL, "The deployer cannot check images.");

        /* NOTE: this resolves the tag synchronously (skopeo inspect for
         * registries), which blocks the bus for the duration. */
        r = m->deployer->image_changed(m, s, &changed, &text);
        if (r < 0)
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_REQUEST, "Failed to resolve %s: %s",
                                         s->spec.image_identifier, text ?: strerror(-r));
        if (!changed)
                return sd_bus_reply_method_return(message, "s", "");

        r = manager_service_action(m, s, OPERATION_START_DEPLOYMENT, &op, &e);
        if (r < 0)
                return bus_reply_api_error(error, &e);
        return sd_bus_reply_method_return(message, "s", op->id);
}

#define EC SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE

const sd_bus_vtable service_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("ServiceName", "s", property_get_string_ptr, offsetof(Service, name),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ServiceId", "s", property_get_string_ptr, offsetof(Service, id),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ServiceArn", "s", property_get_string_ptr, offsetof(Service, arn),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ServiceUrl", "s", service_get_url, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Status", "s", service_get_status, 0, EC),
        SD_BUS_PROPERTY("CreatedAt", "t", property_get_usec, offsetof(Service, created_at),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("UpdatedAt", "t", property_get_usec, offsetof(Service, updated_at), EC),
        SD_BUS_PROPERTY("DeletedAt", "t", property_get_usec, offsetof(Service, deleted_at), EC),
        SD_BUS_PROPERTY("ImageIdentifier", "s", service_get_spec_string, 0, EC),
        SD_BUS_PROPERTY("ImageRepositoryType", "s", service_get_spec_string, 0, EC),
        SD_BUS_PROPERTY("Port", "s", service_get_spec_string, 0, EC),
        SD_BUS_PROPERTY("StartCommand", "s", service_get_spec_string, 0, EC),
        SD_BUS_PROPERTY("RuntimeEnvironmentVariables", "a{ss}", service_get_environment, 0, EC),
        SD_BUS_PROPERTY("AutoDeploymentsEnabled", "b", service_get_auto_deployments, 0, EC),
        SD_BUS_PROPERTY("ConnectionArn", "s", service_get_spec_string, 0, EC),
        SD_BUS_PROPERTY("Cpu", "s", service_get_instance_size, 0, EC),
        SD_BUS_PROPERTY("Memory", "s", service_get_instance_size, 0, EC),
        SD_BUS_PROPERTY("Protocol", "s", service_get_spec_string, 0, EC),
        SD_BUS_PROPERTY("Path", "s", service_get_spec_string, 0, EC),
        SD_BUS_PROPERTY("Interval", "u", service_get_spec_unsigned, 0, EC),
        SD_BUS_PROPERTY("Timeout", "u", service_get_spec_unsigned, 0, EC),
        SD_BUS_PROPERTY("HealthyThreshold", "u", service_get_spec_unsigned, 0, EC),
        SD_BUS_PROPERTY("UnhealthyThreshold", "u", service_get_spec_unsigned, 0, EC),
        SD_BUS_PROPERTY("AutoScalingConfigurationArn", "s", service_get_spec_string, 0, EC),
        SD_BUS_PROPERTY("AutoScalingConfigurationName", "s", service_get_auto_scaling, 0, EC),
        SD_BUS_PROPERTY("AutoScalingConfigurationRevision", "u", service_get_auto_scaling, 0, EC),
        SD_BUS_PROPERTY("RequestTimeout", "u", service_get_spec_unsigned, 0, EC),
        SD_BUS_PROPERTY("ImageDigest", "s", property_get_string_ptr, offsetof(Service, image_digest), EC),
        SD_BUS_PROPERTY("OperationId", "s", property_get_string_ptr, offsetof(Service, operation_id), EC),
        SD_BUS_PROPERTY("Instances", "a(sssqs)", service_get_instances, 0, EC),
        SD_BUS_PROPERTY("RequestCount", "t", service_get_stat_t, 0, 0),
        SD_BUS_PROPERTY("Responses2xx", "t", service_get_stat_t, 0, 0),
        SD_BUS_PROPERTY("Responses3xx", "t", service_get_stat_t, 0, 0),
        SD_BUS_PROPERTY("Responses4xx", "t", service_get_stat_t, 0, 0),
        SD_BUS_PROPERTY("Responses5xx", "t", service_get_stat_t, 0, 0),
        SD_BUS_PROPERTY("ActiveRequests", "u", service_get_stat_u, 0, 0),
        SD_BUS_PROPERTY("QueuedRequests", "u", service_get_stat_u, 0, 0),
        SD_BUS_PROPERTY("AverageResponseTimeMs", "u", service_get_stat_u, 0, 0),
        SD_BUS_METHOD_WITH_ARGS("StartDeployment", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", operation_id),
                                method_service_start_deployment, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CheckForImageUpdate", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", operation_id),
                                method_service_check_image, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

/* Operation */

static int operation_get_enum(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Operation *o = userdata;
        return sd_bus_message_append(reply, "s",
                                     streq(property, "Type") ? operation_type_to_string(o->type)
                                                             : operation_status_to_string(o->status));
}

const sd_bus_vtable operation_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Id", "s", property_get_string_ptr, offsetof(Operation, id),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Type", "s", operation_get_enum, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Status", "s", operation_get_enum, 0, EC),
        SD_BUS_PROPERTY("TargetArn", "s", property_get_string_ptr, offsetof(Operation, target_arn),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("StartedAt", "t", property_get_usec, offsetof(Operation, started_at),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("EndedAt", "t", property_get_usec, offsetof(Operation, ended_at), EC),
        SD_BUS_PROPERTY("UpdatedAt", "t", property_get_usec, offsetof(Operation, updated_at), EC),
        SD_BUS_PROPERTY("StatusMessage", "s", property_get_string_ptr, offsetof(Operation, status_message),
                        EC),
        SD_BUS_VTABLE_END,
};

/* AutoScalingConfiguration */

static int auto_scaling_get_computed(sd_bus *bus, const char *path, const char *interface,
                                     const char *property, sd_bus_message *reply, void *userdata,
                                     sd_bus_error *error) {
        AutoScalingConfiguration *c = userdata;

        if (streq(property, "Status"))
                return sd_bus_message_append(reply, "s", c->active ? "ACTIVE" : "INACTIVE");
        if (streq(property, "Latest"))
                return sd_bus_message_append(reply, "b",
                                             (int)(manager_latest_auto_scaling(bus_manager, c->name) == c));
        return sd_bus_message_append(reply, "b", (int)manager_auto_scaling_in_use(bus_manager, c));
}

const sd_bus_vtable auto_scaling_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("AutoScalingConfigurationArn", "s", property_get_string_ptr,
                        offsetof(AutoScalingConfiguration, arn), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("AutoScalingConfigurationName", "s", property_get_string_ptr,
                        offsetof(AutoScalingConfiguration, name), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("AutoScalingConfigurationRevision", "u", property_get_unsigned,
                        offsetof(AutoScalingConfiguration, revision), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Latest", "b", auto_scaling_get_computed, 0, EC),
        SD_BUS_PROPERTY("Status", "s", auto_scaling_get_computed, 0, EC),
        SD_BUS_PROPERTY("MaxConcurrency", "u", property_get_unsigned,
                        offsetof(AutoScalingConfiguration, max_concurrency), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("MinSize", "u", property_get_unsigned, offsetof(AutoScalingConfiguration, min_size),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("MaxSize", "u", property_get_unsigned, offsetof(AutoScalingConfiguration, max_size),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("CreatedAt", "t", property_get_usec, offsetof(AutoScalingConfiguration, created_at),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("DeletedAt", "t", property_get_usec, offsetof(AutoScalingConfiguration, deleted_at),
                        EC),
        SD_BUS_PROPERTY("HasAssociatedService", "b", auto_scaling_get_computed, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
        SD_BUS_PROPERTY("IsDefault", "b", property_get_bool, offsetof(AutoScalingConfiguration, is_default),
                        EC),
        SD_BUS_VTABLE_END,
};

/* Connection */

static int connection_get_status(sd_bus *bus, const char *path, const char *interface, const char *property,
                                 sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Connection *c = userdata;
        return sd_bus_message_append(reply, "s", c->deleted ? "DELETED" : "AVAILABLE");
}

const sd_bus_vtable connection_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("ConnectionName", "s", property_get_string_ptr, offsetof(Connection, name),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ConnectionArn", "s", property_get_string_ptr, offsetof(Connection, arn),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ProviderType", "s", property_get_string_ptr, offsetof(Connection, provider_type),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Status", "s", connection_get_status, 0, EC),
        SD_BUS_PROPERTY("CreatedAt", "t", property_get_usec, offsetof(Connection, created_at),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Username", "s", property_get_string_ptr, offsetof(Connection, username),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_VTABLE_END,
};

int bus_setup(Manager *m) {
        static const struct {
                const char *prefix;
                const char *interface;
                const sd_bus_vtable *vtable;
                sd_bus_object_find_t find;
                sd_bus_node_enumerator_t enumerate;
        } objects[] = {
                {"/org/apprunner1/service", "org.apprunner1.Service", service_vtable, service_find,
                 service_enumerate},
                {"/org/apprunner1/operation", "org.apprunner1.Operation", operation_vtable, operation_find,
                 operation_enumerate},
                {"/org/apprunner1/auto_scaling_configuration", "org.apprunner1.AutoScalingConfiguration",
                 auto_scaling_vtable, auto_scaling_find, auto_scaling_enumerate},
                {"/org/apprunner1/connection", "org.apprunner1.Connection", connection_vtable,
                 connection_find, connection_enumerate},
        };
        int r;

        bus_manager = m;

        r = sd_bus_add_object_vtable(m->bus, NULL, "/org/apprunner1", "org.apprunner1.Manager",
                                     manager_vtable, m);
        if (r < 0)
                return log_error_errno(r, "Failed to register the Manager object: %m");

        for (size_t i = 0; i < ELEMENTSOF(objects); i++) {
                r = sd_bus_add_fallback_vtable(m->bus, NULL, objects[i].prefix, objects[i].interface,
                                               objects[i].vtable, objects[i].find, m);
                if (r < 0)
                        return log_error_errno(r, "Failed to register %s objects: %m", objects[i].interface);
                r = sd_bus_add_node_enumerator(m->bus, NULL, objects[i].prefix, objects[i].enumerate, m);
                if (r < 0)
                        return log_error_errno(r, "Failed to register the %s enumerator: %m",
                                               objects[i].interface);
        }

        r = sd_bus_add_object_manager(m->bus, NULL, "/org/apprunner1");
        if (r < 0)
                return log_error_errno(r, "Failed to add the object manager: %m");

        r = sd_bus_request_name(m->bus, "org.apprunner1", 0);
        if (r < 0)
                return log_error_errno(r, "Failed to acquire the bus name org.apprunner1: %m");

        return 0;
}
