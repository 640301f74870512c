/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>

#include "ids.h"
#include "serialize.h"
#include "validate.h"

static void json_object_putp(json_object **o) {
        json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_object_putp)

/* Adding to an object only fails on allocation failure; the helpers below
 * turn that into -ENOMEM. */
static int add_string(json_object *o, const char *key, const char *value) {
        json_object *v;

        if (!value)
                return 0;
        v = json_object_new_string(value);
        if (!v || json_object_object_add(o, key, v) < 0)
                return -ENOMEM;
        return 0;
}

static int add_uint(json_object *o, const char *key, uint64_t value) {
        json_object *v = json_object_new_uint64(value);
        if (!v || json_object_object_add(o, key, v) < 0)
                return -ENOMEM;
        return 0;
}

static int add_bool(json_object *o, const char *key, bool value) {
        json_object *v = json_object_new_boolean(value);
        if (!v || json_object_object_add(o, key, v) < 0)
                return -ENOMEM;
        return 0;
}

static int get_string(json_object *o, const char *key, bool required, char **ret) {
        json_object *v;
        char *s;

        if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null)) {
                if (required)
                        return -EBADMSG;
                *ret = NULL;
                return 0;
        }
        if (!json_object_is_type(v, json_type_string))
                return -EBADMSG;
        s = strdup(json_object_get_string(v));
        if (!s)
                return -ENOMEM;
        free(*ret);
        *ret = s;
        return 0;
}

static int get_uint(json_object *o, const char *key, bool required, uint64_t max, uint64_t *ret) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v)) {
                if (required)
                        return -EBADMSG;
                return 0;
        }
        if (!json_object_is_type(v, json_type_int))
                return -EBADMSG;
        errno = 0;
        uint64_t u = json_object_get_uint64(v);
        if (errno != 0 || u > max || json_object_get_int64(v) < 0)
                return -EBADMSG;
        *ret = u;
        return 0;
}

static int get_unsigned(json_object *o, const char *key, bool required, unsigned *ret) {
        uint64_t u = *ret;
        int r = get_uint(o, key, required, UINT32_MAX, &u);
        if (r < 0)
                return r;
        *ret = (unsigned)u;
        return 0;
}

static int get_bool(json_object *o, const char *key, bool *ret) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v))
                return 0;
        if (!json_object_is_type(v, json_type_boolean))
                return -EBADMSG;
        *ret = json_object_get_boolean(v);
        return 0;
}

#define TRY(expr)                   \
        do {                        \
                int _r_ = (expr);   \
                if (_r_ < 0)        \
                        return _r_; \
        } while (0)

int service_spec_to_json(const ServiceSpec *s, json_object **ret) {
        _cleanup_json_ json_object *o = json_object_new_object(), *env = json_object_new_object();

        if (!o || !env)
                return -ENOMEM;

        TRY(add_string(o, "ImageIdentifier", s->image_identifier));
        TRY(add_string(o, "ImageRepositoryType", s->image_repository_type));
        TRY(add_string(o, "Port", s->port));
        TRY(add_string(o, "StartCommand", s->start_command));
        STRV_FOREACH (e, s->environment) {
                const char *eq = strchr(*e, '=');
                _cleanup_free_ char *k = strndup(*e, eq ? (size_t)(eq - *e) : strlen(*e));
                if (!k)
                        return -ENOMEM;
                TRY(add_string(env, k, eq ? eq + 1 : ""));
        }
        if (json_object_object_add(o, "RuntimeEnvironmentVariables", json_object_get(env)) < 0)
                return -ENOMEM;
        TRY(add_bool(o, "AutoDeploymentsEnabled", s->auto_deployments_enabled));
        TRY(add_string(o, "ConnectionArn", s->connection_arn));
        TRY(add_uint(o, "Cpu", s->cpu));
        TRY(add_uint(o, "Memory", s->memory));
        TRY(add_string(o, "Protocol", health_check_protocol_to_string(s->health_protocol)));
        TRY(add_string(o, "Path", s->health_path));
        TRY(add_uint(o, "Interval", s->health_interval));
        TRY(add_uint(o, "Timeout", s->health_timeout));
        TRY(add_uint(o, "HealthyThreshold", s->healthy_threshold));
        TRY(add_uint(o, "UnhealthyThreshold", s->unhealthy_threshold));
        TRY(add_string(o, "AutoScalingConfigurationArn", s->auto_scaling_configuration_arn));
        TRY(add_uint(o, "RequestTimeout", s->request_timeout));

        *ret = TAKE_PTR(o);
        return 0;
}

static int spec_from_json_internal(json_object *doc, ServiceSpec *s) {
        _cleanup_free_ char *protocol = NULL;
        json_object *env;

        TRY(get_string(doc, "ImageIdentifier", true, &s->image_identifier));
        TRY(get_string(doc, "ImageRepositoryType", true, &s->image_repository_type));
        TRY(get_string(doc, "Port", true, &s->port));
        TRY(get_string(doc, "StartCommand", false, &s->start_command));
        if (json_object_object_get_ex(doc, "RuntimeEnvironmentVariables", &env)) {
                size_t n = 0, i = 0;

                if (!json_object_is_type(env, json_type_object))
                        return -EBADMSG;
                n = (size_t)json_object_object_length(env);
                s->environment = calloc(n + 1, sizeof(char *));
                if (!s->environment)
                        return -ENOMEM;
                json_object_object_foreach(env, key, value) {
                        if (!json_object_is_type(value, json_type_string))
                                return -EBADMSG;
                        if (asprintf(&s->environment[i], "%s=%s", key, json_object_get_string(value)) < 0) {
                                s->environment[i] = NULL;
                                return -ENOMEM;
                        }
                        i++;
                }
        }
        TRY(get_bool(doc, "AutoDeploymentsEnabled", &s->auto_deployments_enabled));
        TRY(get_string(doc, "ConnectionArn", false, &s->connection_arn));
        TRY(get_unsigned(doc, "Cpu", true, &s->cpu));
        TRY(get_unsigned(doc, "Memory", true, &s->memory));
        TRY(get_string(doc, "Protocol", true, &protocol));
        s->health_protocol = health_check_protocol_from_string(protocol);
        TRY(get_string(doc, "Path", true, &s->health_path));
        TRY(get_unsigned(doc, "Interval", true, &s->health_interval));
        TRY(get_unsigned(doc, "Timeout", true, &s->health_timeout));
        TRY(get_unsigned(doc, "HealthyThreshold", true, &s->healthy_threshold));
        TRY(get_unsigned(doc, "UnhealthyThreshold", true, &s->unhealthy_threshold));
        TRY(get_string(doc, "AutoScalingConfigurationArn", false, &s->auto_scaling_configuration_arn));
        TRY(get_unsigned(doc, "RequestTimeout", false, &s->request_timeout));

        if (service_spec_validate(s, NULL) < 0)
                return -EBADMSG;
        return 0;
}

int service_spec_from_json(json_object *doc, ServiceSpec *ret) {
        ServiceSpec s = {.request_timeout = REQUEST_TIMEOUT_DEFAULT};
        int r;

        if (!json_object_is_type(doc, json_type_object))
                return -EBADMSG;
        r = spec_from_json_internal(doc, &s);
        if (r < 0) {
                service_spec_done(&s);
                return r;
        }
        *ret = s;
        return 0;
}

static int instance_to_json(const Instance *i, json_object **ret) {
        _cleanup_json_ json_object *o = json_object_new_object();
        char address[INET_ADDRSTRLEN];

        if (!o)
                return -ENOMEM;
        inet_ntop(AF_INET, &i->address, address, sizeof(address));
        TRY(add_string(o, "InstanceId", i->id));
        TRY(add_string(o, "Unit", i->unit));
        TRY(add_string(o, "ImageDigest", i->image_digest));
        TRY(add_string(o, "Address", address));
        TRY(add_uint(o, "Port", i->port));
        TRY(add_uint(o, "Generation", i->generation));
        *ret = TAKE_PTR(o);
        return 0;
}

static int instance_from_json(json_object *doc, Instance **ret) {
        _cleanup_free_ char *address = NULL;
        Instance *i;
        uint64_t port = 0;
        int r;

        i = calloc(1, sizeof(Instance));
        if (!i)
                return -ENOMEM;
        i->state = INSTANCE_STARTING;

        r = get_string(doc, "InstanceId", true, &i->id);
        if (r >= 0)
                r = get_string(doc, "Unit", true, &i->unit);
        if (r >= 0)
                r = get_string(doc, "ImageDigest", false, &i->image_digest);
        if (r >= 0)
                r = get_string(doc, "Address", true, &address);
        if (r >= 0)
                r = get_uint(doc, "Port", true, 65535, &port);
        if (r >= 0)
                r = get_unsigned(doc, "Generation", false, &i->generation);
        if (r >= 0 && (!id_is_hex(i->id, 12) || inet_pton(AF_INET, address, &i->address) != 1))
                r = -EBADMSG;
        if (r < 0) {
                instance_free(i);
                return r;
        }
        i->port = (uint16_t)port;
        *ret = i;
        return 0;
}

int service_to_json(const Service *s, json_object **ret) {
        _cleanup_json_ json_object *o = json_object_new_object(), *spec = NULL, *instances = NULL;

        if (!o)
                return -ENOMEM;
        TRY(add_string(o, "ServiceId", s->id));
        TRY(add_string(o, "ServiceName", s->name));
        TRY(add_string(o, "ServiceArn", s->arn));
        TRY(add_string(o, "UrlLabel", s->url_id));
        TRY(add_string(o, "Status", service_status_to_string(s->status)));
        TRY(add_uint(o, "CreatedAt", s->created_at));
        TRY(add_uint(o, "UpdatedAt", s->updated_at));
        TRY(add_uint(o, "DeletedAt", s->deleted_at));
        TRY(add_string(o, "ImageDigest", s->image_digest));
        TRY(add_string(o, "ImageSourceDigest", s->image_source_digest));
        TRY(add_string(o, "PreviousImageDigest", s->previous_image_digest));
        TRY(add_string(o, "OperationId", s->operation_id));
        TRY(add_uint(o, "Generation", s->generation));

        TRY(service_spec_to_json(&s->spec, &spec));
        if (json_object_object_add(o, "Spec", TAKE_PTR(spec)) < 0)
                return -ENOMEM;

        instances = json_object_new_array();
        if (!instances)
                return -ENOMEM;
        for (Instance *i = s->instances; i; i = i->next) {
                json_object *io;
                TRY(instance_to_json(i, &io));
                if (json_object_array_add(instances, io) < 0) {
                        json_object_put(io);
                        return -ENOMEM;
                }
        }
        if (json_object_object_add(o, "Instances", TAKE_PTR(instances)) < 0)
                return -ENOMEM;

        *ret = TAKE_PTR(o);
        return 0;
}

static int service_from_json_internal(json_object *doc, Service *s) {
        _cleanup_free_ char *status = NULL;
        json_object *spec, *instances;
        Instance **tail = &s->instances;

        TRY(get_string(doc, "ServiceId", true, &s->id));
        TRY(get_string(doc, "ServiceName", true, &s->name));
        TRY(get_string(doc, "ServiceArn", true, &s->arn));
        TRY(get_string(doc, "UrlLabel", true, &s->url_id));
        TRY(get_string(doc, "Status", true, &status));
        s->status = service_status_from_string(status);
        if (s->status < 0)
                return -EBADMSG;
        TRY(get_uint(doc, "CreatedAt", true, UINT64_MAX, &s->created_at));
        TRY(get_uint(doc, "UpdatedAt", false, UINT64_MAX, &s->updated_at));
        TRY(get_uint(doc, "DeletedAt", false, UINT64_MAX, &s->deleted_at));
        TRY(get_string(doc, "ImageDigest", false, &s->image_digest));
        TRY(get_string(doc, "ImageSourceDigest", false, &s->image_source_digest));
        TRY(get_string(doc, "PreviousImageDigest", false, &s->previous_image_digest));
        TRY(get_string(doc, "OperationId", false, &s->operation_id));
        TRY(get_unsigned(doc, "Generation", false, &s->generation));

        if (!json_object_object_get_ex(doc, "Spec", &spec))
                return -EBADMSG;
        TRY(service_spec_from_json(spec, &s->spec));

        if (json_object_object_get_ex(doc, "Instances", &instances)) {
                if (!json_object_is_type(instances, json_type_array))
                        return -EBADMSG;
                for (size_t k = 0; k < json_object_array_length(instances); k++) {
                        Instance *i;
                        TRY(instance_from_json(json_object_array_get_idx(instances, k), &i));
                        i->service = s;
                        *tail = i;
                        tail = &i->next;
                }
        }

        if (!id_is_hex(s->id, 32) || validate_service_name(s->name, NULL) < 0)
                return -EBADMSG;
        return 0;
}

int service_from_json(json_object *doc, Service **ret) {
        Service *s;
        int r;

        if (!json_object_is_type(doc, json_type_object))
                return -EBADMSG;
        s = calloc(1, sizeof(Service));
        if (!s)
                return -ENOMEM;
        r = service_from_json_internal(doc, s);
        if (r < 0) {
                service_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

int operation_to_json(const Operation *op, json_object **ret) {
        _cleanup_json_ json_object *o = json_object_new_object(), *spec = NULL;

        if (!o)
                return -ENOMEM;
        TRY(add_string(o, "Id", op->id));
        TRY(add_string(o, "Type", operation_type_to_string(op->type)));
        TRY(add_string(o, "Status", operation_status_to_string(op->status)));
        TRY(add_string(o, "TargetArn", op->target_arn));
        TRY(add_string(o, "ServiceId", op->service_id));
        TRY(add_uint(o, "StartedAt", op->started_at));
        TRY(add_uint(o, "EndedAt", op->ended_at));
        TRY(add_uint(o, "UpdatedAt", op->updated_at));
        TRY(add_string(o, "StatusMessage", op->status_message));
        if (op->spec) {
                TRY(service_spec_to_json(op->spec, &spec));
                if (json_object_object_add(o, "Spec", TAKE_PTR(spec)) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(o);
        return 0;
}

static int operation_from_json_internal(json_object *doc, Operation *op) {
        _cleanup_free_ char *type = NULL, *status = NULL;
        json_object *spec;

        TRY(get_string(doc, "Id", true, &op->id));
        TRY(get_string(doc, "Type", true, &type));
        TRY(get_string(doc, "Status", true, &status));
        TRY(get_string(doc, "TargetArn", true, &op->target_arn));
        TRY(get_string(doc, "ServiceId", true, &op->service_id));
        TRY(get_uint(doc, "StartedAt", true, UINT64_MAX, &op->started_at));
        TRY(get_uint(doc, "EndedAt", false, UINT64_MAX, &op->ended_at));
        TRY(get_uint(doc, "UpdatedAt", false, UINT64_MAX, &op->updated_at));
        TRY(get_string(doc, "StatusMessage", false, &op->status_message));
        op->type = operation_type_from_string(type);
        op->status = operation_status_from_string(status);
        if (op->type < 0 || op->status < 0 || !id_is_uuid(op->id))
                return -EBADMSG;
        if (json_object_object_get_ex(doc, "Spec", &spec)) {
                op->spec = calloc(1, sizeof(ServiceSpec));
                if (!op->spec)
                        return -ENOMEM;
                TRY(service_spec_from_json(spec, op->spec));
        }
        return 0;
}

int operation_from_json(json_object *doc, Operation **ret) {
        Operation *op;
        int r;

        if (!json_object_is_type(doc, json_type_object))
                return -EBADMSG;
        op = calloc(1, sizeof(Operation));
        if (!op)
                return -ENOMEM;
        r = operation_from_json_internal(doc, op);
        if (r < 0) {
                operation_free(op);
                return r;
        }
        *ret = op;
        return 0;
}

int auto_scaling_configuration_to_json(const AutoScalingConfiguration *c, json_object **ret) {
        _cleanup_json_ json_object *o = json_object_new_object();

        if (!o)
                return -ENOMEM;
        TRY(add_string(o, "Id", c->id));
        TRY(add_string(o, "AutoScalingConfigurationArn", c->arn));
        TRY(add_string(o, "AutoScalingConfigurationName", c->name));
        TRY(add_uint(o, "AutoScalingConfigurationRevision", c->revision));
        TRY(add_string(o, "Status", c->active ? "ACTIVE" : "INACTIVE"));
        TRY(add_uint(o, "MaxConcurrency", c->max_concurrency));
        TRY(add_uint(o, "MinSize", c->min_size));
        TRY(add_uint(o, "MaxSize", c->max_size));
        TRY(add_uint(o, "CreatedAt", c->created_at));
        TRY(add_uint(o, "DeletedAt", c->deleted_at));
        TRY(add_bool(o, "IsDefault", c->is_default));
        *ret = TAKE_PTR(o);
        return 0;
}

static int auto_scaling_from_json_internal(json_object *doc, AutoScalingConfiguration *c) {
        _cleanup_free_ char *status = NULL;

        TRY(get_string(doc, "Id", true, &c->id));
        TRY(get_string(doc, "AutoScalingConfigurationArn", true, &c->arn));
        TRY(get_string(doc, "AutoScalingConfigurationName", true, &c->name));
        TRY(get_unsigned(doc, "AutoScalingConfigurationRevision", true, &c->revision));
        TRY(get_string(doc, "Status", true, &status));
        TRY(get_unsigned(doc, "MaxConcurrency", true, &c->max_concurrency));
        TRY(get_unsigned(doc, "MinSize", true, &c->min_size));
        TRY(get_unsigned(doc, "MaxSize", true, &c->max_size));
        TRY(get_uint(doc, "CreatedAt", true, UINT64_MAX, &c->created_at));
        TRY(get_uint(doc, "DeletedAt", false, UINT64_MAX, &c->deleted_at));
        TRY(get_bool(doc, "IsDefault", &c->is_default));
        if (!streq(status, "ACTIVE") && !streq(status, "INACTIVE"))
                return -EBADMSG;
        c->active = streq(status, "ACTIVE");
        if (!id_is_hex(c->id, 32) || c->revision < 1 ||
            validate_auto_scaling(c->max_concurrency, c->min_size, c->max_size, NULL) < 0)
                return -EBADMSG;
        return 0;
}

int auto_scaling_configuration_from_json(json_object *doc, AutoScalingConfiguration **ret) {
        AutoScalingConfiguration *c;
        int r;

        if (!json_object_is_type(doc, json_type_object))
                return -EBADMSG;
        c = calloc(1, sizeof(AutoScalingConfiguration));
        if (!c)
                return -ENOMEM;
        r = auto_scaling_from_json_internal(doc, c);
        if (r < 0) {
                auto_scaling_configuration_free(c);
                return r;
        }
        *ret = c;
        return 0;
}

int connection_to_json(const Connection *c, json_object **ret) {
        _cleanup_json_ json_object *o = json_object_new_object();

        if (!o)
                return -ENOMEM;
        TRY(add_string(o, "Id", c->id));
        TRY(add_string(o, "ConnectionArn", c->arn));
        TRY(add_string(o, "ConnectionName", c->name));
        TRY(add_string(o, "ProviderType", c->provider_type));
        TRY(add_string(o, "Username", c->username));
        TRY(add_uint(o, "CreatedAt", c->created_at));
        *ret = TAKE_PTR(o);
        return 0;
}

static int connection_from_json_internal(json_object *doc, Connection *c) {
        TRY(get_string(doc, "Id", true, &c->id));
        TRY(get_string(doc, "ConnectionArn", true, &c->arn));
        TRY(get_string(doc, "ConnectionName", true, &c->name));
        TRY(get_string(doc, "ProviderType", true, &c->provider_type));
        TRY(get_string(doc, "Username", false, &c->username));
        TRY(get_uint(doc, "CreatedAt", true, UINT64_MAX, &c->created_at));
        if (!id_is_hex(c->id, 32))
                return -EBADMSG;
        return 0;
}

int connection_from_json(json_object *doc, Connection **ret) {
        Connection *c;
        int r;

        if (!json_object_is_type(doc, json_type_object))
                return -EBADMSG;
        c = calloc(1, sizeof(Connection));
        if (!c)
                return -ENOMEM;
        r = connection_from_json_internal(doc, c);
        if (r < 0) {
                connection_free(c);
                return r;
        }
        *ret = c;
        return 0;
}
