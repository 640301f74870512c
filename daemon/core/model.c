/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <time.h>

#include "model.h"

#define DEFINE_STRING_TABLE(name, type, max, invalid, ...)          \
        static const char *const name##_table[max] = {__VA_ARGS__}; \
        const char *name##_to_string(type v) {                      \
                if ((int)v < 0 || (int)v >= (int)(max))             \
                        return NULL;                                \
                return name##_table[v];                             \
        }                                                           \
        type name##_from_string(const char *s) {                    \
                if (!s)                                             \
                        return invalid;                             \
                for (int i = 0; i < (int)(max); i++)                \
                        if (streq(name##_table[i], s))              \
                                return (type)i;                     \
                return invalid;                                     \
        }

DEFINE_STRING_TABLE(service_status, ServiceStatus, _SERVICE_STATUS_MAX, _SERVICE_STATUS_INVALID,
                    [SERVICE_OPERATION_IN_PROGRESS] = "OPERATION_IN_PROGRESS", [SERVICE_RUNNING] = "RUNNING",
                    [SERVICE_PAUSED] = "PAUSED", [SERVICE_CREATE_FAILED] = "CREATE_FAILED",
                    [SERVICE_DELETE_FAILED] = "DELETE_FAILED", [SERVICE_DELETED] = "DELETED");

DEFINE_STRING_TABLE(
        operation_type, OperationType, _OPERATION_TYPE_MAX, _OPERATION_TYPE_INVALID,
        [OPERATION_CREATE_SERVICE] = "CREATE_SERVICE", [OPERATION_START_DEPLOYMENT] = "START_DEPLOYMENT",
        [OPERATION_UPDATE_SERVICE] = "UPDATE_SERVICE", [OPERATION_PAUSE_SERVICE] = "PAUSE_SERVICE",
        [OPERATION_RESUME_SERVICE] = "RESUME_SERVICE", [OPERATION_DELETE_SERVICE] = "DELETE_SERVICE");

DEFINE_STRING_TABLE(
        operation_status, OperationStatus, _OPERATION_STATUS_MAX,
        _OPERATION_STATUS_INVALID, [OPERATION_PENDING] = "PENDING", [OPERATION_IN_PROGRESS] = "IN_PROGRESS",
        [OPERATION_FAILED] = "FAILED", [OPERATION_SUCCEEDED] = "SUCCEEDED",
        [OPERATION_ROLLBACK_IN_PROGRESS] = "ROLLBACK_IN_PROGRESS",
        [OPERATION_ROLLBACK_FAILED] = "ROLLBACK_FAILED",
        [OPERATION_ROLLBACK_SUCCEEDED] = "ROLLBACK_SUCCEEDED");

DEFINE_STRING_TABLE(
        health_check_protocol, HealthCheckProtocol, _HEALTH_CHECK_PROTOCOL_MAX,
        _HEALTH_CHECK_PROTOCOL_INVALID, [HEALTH_CHECK_TCP] = "TCP", [HEALTH_CHECK_HTTP] = "HTTP");

DEFINE_STRING_TABLE(
        instance_state, InstanceState, _INSTANCE_STATE_MAX, _INSTANCE_STATE_INVALID,
        [INSTANCE_STARTING] = "starting", [INSTANCE_HEALTHY] = "healthy", [INSTANCE_UNHEALTHY] = "unhealthy",
        [INSTANCE_DRAINING] = "draining", [INSTANCE_STOPPING] = "stopping", [INSTANCE_FAILED] = "failed");

bool operation_status_is_final(OperationStatus s) {
        return s == OPERATION_FAILED || s == OPERATION_SUCCEEDED || s == OPERATION_ROLLBACK_FAILED ||
               s == OPERATION_ROLLBACK_SUCCEEDED;
}

void service_spec_done(ServiceSpec *s) {
        if (!s)
                return;
        free(s->image_identifier);
        free(s->image_repository_type);
        free(s->port);
        free(s->start_command);
        strv_free(s->environment);
        free(s->connection_arn);
        free(s->health_path);
        free(s->auto_scaling_configuration_arn);
        *s = (ServiceSpec){};
}

ServiceSpec *service_spec_free(ServiceSpec *s) {
        service_spec_done(s);
        free(s);
        return NULL;
}

static int strdup_or_null(const char *from, char **to) {
        *to = NULL;
        return free_and_strdup(to, from);
}

int service_spec_copy(const ServiceSpec *from, ServiceSpec *to) {
        ServiceSpec n = *from;
        size_t k = 0;

        n.image_identifier = n.image_repository_type = n.port = n.start_command = NULL;
        n.connection_arn = n.health_path = n.auto_scaling_configuration_arn = NULL;
        n.environment = NULL;

        if (strdup_or_null(from->image_identifier, &n.image_identifier) < 0 ||
            strdup_or_null(from->image_repository_type, &n.image_repository_type) < 0 ||
            strdup_or_null(from->port, &n.port) < 0 ||
            strdup_or_null(from->start_command, &n.start_command) < 0 ||
            strdup_or_null(from->connection_arn, &n.connection_arn) < 0 ||
            strdup_or_null(from->health_path, &n.health_path) < 0 ||
            strdup_or_null(from->auto_scaling_configuration_arn, &n.auto_scaling_configuration_arn) < 0)
                goto fail;

        if (from->environment) {
                while (from->environment[k])
                        k++;
                n.environment = calloc(k + 1, sizeof(char *));
                if (!n.environment)
                        goto fail;
                for (size_t i = 0; i < k; i++) {
                        n.environment[i] = strdup(from->environment[i]);
                        if (!n.environment[i])
                                goto fail;
                }
        }

        *to = n;
        return 0;

fail:
        service_spec_done(&n);
        return -ENOMEM;
}

Instance *instance_free(Instance *i) {
        if (!i)
                return NULL;
        free(i->id);
        free(i->unit);
        free(i->image_digest);
        free(i);
        return NULL;
}

Service *service_free(Service *s) {
        if (!s)
                return NULL;
        while (s->instances) {
                Instance *next = s->instances->next;
                instance_free(s->instances);
                s->instances = next;
        }
        free(s->id);
        free(s->name);
        free(s->arn);
        free(s->url_id);
        service_spec_done(&s->spec);
        free(s->image_digest);
        free(s->image_source_digest);
        free(s->previous_image_digest);
        free(s->operation_id);
        free(s);
        return NULL;
}

Operation *operation_free(Operation *o) {
        if (!o)
                return NULL;
        free(o->id);
        free(o->target_arn);
        free(o->service_id);
        free(o->status_message);
        service_spec_free(o->spec);
        free(o);
        return NULL;
}

AutoScalingConfiguration *auto_scaling_configuration_free(AutoScalingConfiguration *c) {
        if (!c)
                return NULL;
        free(c->id);
        free(c->arn);
        free(c->name);
        free(c);
        return NULL;
}

Connection *connection_free(Connection *c) {
        if (!c)
                return NULL;
        free(c->id);
        free(c->arn);
        free(c->name);
        free(c->provider_type);
        free(c->username);
        free(c);
        return NULL;
}

usec_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (usec_t)ts.tv_sec * 1000000ULL + (usec_t)ts.tv_nsec / 1000ULL;
}
