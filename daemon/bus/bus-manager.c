/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "bus-util.h"
#include "core/validate.h"
#include "log.h"

/* Applies one CreateService/UpdateService option to a spec. The message is
 * positioned inside the option's variant. Returns 1 when the key was
 * handled, 0 when it is unknown. */
static int apply_spec_option(sd_bus_message *message, const char *key, ServiceSpec *spec, bool update,
                             sd_bus_error *error) {
        const char *s;
        uint64_t u;
        bool b;
        int r;

        static const struct {
                const char *key;
                size_t offset;
        } strings[] = {
                {"ImageIdentifier", offsetof(ServiceSpec, image_identifier)},
                {"ImageRepositoryType", offsetof(ServiceSpec, image_repository_type)},
                {"Port", offsetof(ServiceSpec, port)},
                {"StartCommand", offsetof(ServiceSpec, start_command)},
                {"ConnectionArn", offsetof(ServiceSpec, connection_arn)},
                {"Path", offsetof(ServiceSpec, health_path)},
                {"AutoScalingConfigurationArn", offsetof(ServiceSpec, auto_scaling_configuration_arn)},
        };
        static const struct {
                const char *key;
                size_t offset;
        } numbers[] = {
                {"Interval", offsetof(ServiceSpec, health_interval)},
                {"Timeout", offsetof(ServiceSpec, health_timeout)},
                {"HealthyThreshold", offsetof(ServiceSpec, healthy_threshold)},
                {"UnhealthyThreshold", offsetof(ServiceSpec, unhealthy_threshold)},
                {"RequestTimeout", offsetof(ServiceSpec, request_timeout)},
        };

        for (size_t i = 0; i < ELEMENTSOF(strings); i++) {
                if (!streq(key, strings[i].key))
                        continue;
                r = bus_read_variant_string(message, key, &s, error);
                if (r < 0)
                        return r;
                /* An empty ConnectionArn or StartCommand clears the field. */
                r = free_and_strdup((char **)((uint8_t *)spec + strings[i].offset), *s ? s : NULL);
                return r < 0 ? r : 1;
        }
        for (size_t i = 0; i < ELEMENTSOF(numbers); i++) {
                if (!streq(key, numbers[i].key))
                        continue;
                r = bus_read_variant_unsigned(message, key, UINT32_MAX, &u, error);
                if (r < 0)
                        return r;
                *(unsigned *)((uint8_t *)spec + numbers[i].offset) = (unsigned)u;
                return 1;
        }

        if (streq(key, "Cpu") || streq(key, "Memory")) {
                char *text = NULL;
                unsigned v;

                r = bus_read_variant_string(message, key, &s, error);
                if (r < 0)
                        return r;
                r = streq(key, "Cpu") ? parse_cpu(s, &v, &text) : parse_memory(s, &v, &text);
                if (r < 0) {
                        sd_bus_error_set(error, BUS_ERROR_INVALID_REQUEST, text);
                        free(text);
                        return -EINVAL;
                }
                *(streq(key, "Cpu") ? &spec->cpu : &spec->memory) = v;
                return 1;
        }

        if (streq(key, "Protocol")) {
                r = bus_read_variant_string(message, key, &s, error);
                if (r < 0)
                        return r;
                HealthCheckProtocol p = health_check_protocol_from_string(s);
                if (p < 0)
                        return sd_bus_error_setf(error, BUS_ERROR_INVALID_REQUEST,
                                                 "Protocol '%s' is invalid: expected TCP or HTTP.", s);
                spec->health_protocol = p;
                return 1;
        }

        if (streq(key, "AutoDeploymentsEnabled")) {
                r = bus_read_variant_bool(message, key, &b, error);
                if (r < 0)
                        return r;
                spec->auto_deployments_enabled = b;
                return 1;
        }

        if (streq(key, "RuntimeEnvironmentVariables")) {
                _cleanup_strv_free_ char **env = NULL;
                size_t n = 0;
                const char *k, *v;

                if (!sd_bus_message_verify_type(message, 'a', "{ss}"))
                        return sd_bus_error_setf(error, BUS_ERROR_INVALID_REQUEST,
                                                 "Option %s must have D-Bus type a{ss}.", key);
                r = sd_bus_message_enter_container(message, 'a', "{ss}");
                if (r < 0)
                        return r;
                while ((r = sd_bus_message_read(message, "{ss}", &k, &v)) > 0) {
                        char *text = NULL, **a;

                        if (validate_environment_name(k, &text) < 0) {
                                sd_bus_error_set(error, BUS_ERROR_INVALID_REQUEST, text);
                                free(text);
                                return -EINVAL;
                        }
                        if (n >= 1000)
                                return sd_bus_error_setf(
                                        error, BUS_ERROR_INVALID_REQUEST,
                                        "RuntimeEnvironmentVariables has more than 1000 entries.");
                        a = reallocarray(env, n + 2, sizeof(char *));
                        if (!a)
                                return -ENOMEM;
                        env = a;
                        if (asprintf(&env[n], "%s=%s", k, v) < 0)
                                return -ENOMEM;
                        env[++n] = NULL;
                }
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(message);
                if (r < 0)
                        return r;
                strv_free(spec->environment);
                spec->environment = TAKE_PTR(env);
                return 1;
        }

        if (streq(key, "RuntimeEnvironmentSecrets"))
                return sd_bus_error_setf(
                        error, BUS_ERROR_INVALID_REQUEST,
                        "RuntimeEnvironmentSecrets is not supported: apprunnerd has no secrets "
                        "manager; pass the values as RuntimeEnvironmentVariables.");

        /* App Runner IAM roles have no meaning on one host. */
        if (streq(key, "AccessRoleArn") || streq(key, "InstanceRoleArn")) {
                r = bus_read_variant_string(message, key, &s, error);
                return r < 0 ? r : 1;
        }

        return 0;
}

typedef struct SpecOptions {
        ServiceSpec *spec;
        bool update;
} SpecOptions;

static int spec_option(sd_bus_message *message, const char *key, void *userdata, sd_bus_error *error) {
        SpecOptions *o = userdata;

        if (o->update && (streq(key, "ImageRepositoryType") || streq(key, "ServiceName")))
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_REQUEST,
                                         "Option %s cannot be changed by UpdateService.", key);
        return apply_spec_option(message, key, o->spec, o->update, error);
}

static int read_spec_options(sd_bus_message *message, ServiceSpec *spec, bool update, sd_bus_error *error) {
        SpecOptions o = {.spec = spec, .update = update};

        return bus_read_options(
                message, spec_option, &o,
                "see org.apprunner1.Manager's introspection for the accepted App Runner field "
                "names.",
                error);
}

static int reply_object_and_operation(sd_bus_message *message, const char *path, const Operation *op) {
        return sd_bus_reply_method_return(message, "os", path, op->id);
}

static Service *find_service_or_error(Manager *m, const char *key, sd_bus_error *error) {
        Service *s = manager_find_service(m, key);
        if (!s)
                sd_bus_error_setf(error, BUS_ERROR_RESOURCE_NOT_FOUND, "Service %s not found.", key);
        return s;
}

static int method_create_service(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_(api_error_done) ApiError e = {};
        _cleanup_free_ char *path = NULL;
        ServiceSpec spec;
        const char *name;
        Service *s;
        Operation *op;
        int r;

        r = bus_check_write_access(message, error);
        if (r < 0)
                return r;

        r = sd_bus_message_read(message, "s", &name);
        if (r < 0)
                return r;

        r = service_spec_init_defaults(&spec);
        if (r < 0)
                return r;
        r = read_spec_options(message, &spec, false, error);
        if (r >= 0 && !spec.image_identifier)
                r = sd_bus_error_set(error, BUS_ERROR_INVALID_REQUEST,
                                     "ImageIdentifier is missing: CreateService needs an image source.");
        if (r >= 0 && spec.image_identifier) {
                char *type = NULL, *text = NULL;
                r = validate_image_identifier(spec.image_identifier, spec.image_repository_type, &type,
                                              &text);
                if (r < 0) {
                        sd_bus_error_set(error, BUS_ERROR_INVALID_REQUEST, text);
                        free(text);
                } else {
                        free(spec.image_repository_type);
                        spec.image_repository_type = type;
                }
        }
        if (r < 0) {
                service_spec_done(&spec);
                return r;
        }

        r = manager_create_service(m, name, &spec, &s, &op, &e);
        service_spec_done(&spec);
        if (r < 0)
                return bus_reply_api_error(error, &e);

        r = service_object_path(s, &path);
        if (r < 0)
                return r;
        return reply_object_and_operation(message, path, op);
}

static int method_update_service(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_(api_error_done) ApiError e = {};
        _cleanup_free_ char *path = NULL;
        ServiceSpec spec;
        const char *key;
        Service *s;
        Operation *op;
        int r;

        r = bus_check_write_access(message, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(message, "s", &key);
        if (r < 0)
                return r;
        s = find_service_or_error(m, key, error);
        if (!s)
                return -ENOENT;

        r = service_spec_copy(&s->spec, &spec);
        if (r < 0)
                return r;
        r = read_spec_options(message, &spec, true, error);
        if (r >= 0) {
                char *text = NULL;
                r = validate_image_identifier(spec.image_identifier, spec.image_repository_type, NULL,
                                              &text);
                if (r < 0) {
                        sd_bus_error_set(error, BUS_ERROR_INVALID_REQUEST, text);
                        free(text);
                }
        }
        if (r < 0) {
                service_spec_done(&spec);
                return r;
        }

        r = manager_update_service(m, s, &spec, &op, &e);
        service_spec_done(&spec);
        if (r < 0)
                return bus_reply_api_error(error, &e);

        r = service_object_path(s, &path);
        if (r < 0)
                return r;
        return reply_object_and_operation(message, path, op);
}

static int service_action(sd_bus_message *message, Manager *m, OperationType type, bool reply_path,
                          sd_bus_error *error) {
        _cleanup_(api_error_done) ApiError e = {};
        _cleanup_free_ char *path = NULL;
        const char *key;
        Service *s;
        Operation *op;
        int r;

        r = bus_check_write_access(message, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(message, "s", &key);
        if (r < 0)
                return r;
        s = find_service_or_error(m, key, error);
        if (!s)
                return -ENOENT;

        /* The path is computed first because a DELETE_SERVICE that finishes
         * at once would free the service. */
        r = service_object_path(s, &path);
        if (r < 0)
                return r;

        r = manager_service_action(m, s, type, &op, &e);
        if (r < 0)
                return bus_reply_api_error(error, &e);

        if (!reply_path)
                return sd_bus_reply_method_return(message, "s", op->id);
        return reply_object_and_operation(message, path, op);
}

static int method_delete_service(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return service_action(message, userdata, OPERATION_DELETE_SERVICE, true, error);
}

static int method_pause_service(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return service_action(message, userdata, OPERATION_PAUSE_SERVICE, true, error);
}

static int method_resume_service(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return service_action(message, userdata, OPERATION_RESUME_SERVICE, true, error);
}

static int method_start_deployment(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return service_action(message, userdata, OPERATION_START_DEPLOYMENT, false, error);
}

static int method_get_service(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_free_ char *path = NULL;
        const char *key;
        Service *s;
        int r;

        r = sd_bus_message_read(message, "s", &key);
        if (r < 0)
                return r;
        s = find_service_or_error(m, key, error);
        if (!s)
                return -ENOENT;
        r = service_object_path(s, &path);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(message, "o", path);
}

static int method_list_services(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *next = NULL;
        Manager *m = userdata;
        const char *token;
        uint32_t max;
        size_t start, count;
        int r;

        r = sd_bus_message_read(message, "us", &max, &token);
        if (r < 0)
                return r;
        r = bus_parse_page(token, max, 20, m->n_services, &start, &count, error);
        if (r < 0)
                return r;

        r = sd_bus_message_new_method_return(message, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(ssssstt)");
        if (r < 0)
                return r;
        for (size_t i = start; i < start + count; i++) {
                Service *s = m->services[i];
                _cleanup_free_ char *url = NULL;

                r = manager_service_url(m, s, &url);
                if (r < 0)
                        return r;
                r = sd_bus_message_append(reply, "(ssssstt)", s->name, s->id, s->arn, url,
                                          service_status_to_string(s->status), s->created_at, s->updated_at);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;

        if (start + count < m->n_services && asprintf(&next, "%zu", start + count) < 0)
                return -ENOMEM;
        r = sd_bus_message_append(reply, "s", strempty(next));
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_list_operations(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *next = NULL;
        _cleanup_free_ Operation **ops = NULL;
        Manager *m = userdata;
        const char *key, *token;
        uint32_t max;
        size_t n = 0, start, count;
        Service *s;
        int r;

        r = sd_bus_message_read(message, "sus", &key, &max, &token);
        if (r < 0)
                return r;
        s = find_service_or_error(m, key, error);
        if (!s)
                return -ENOENT;

        /* Newest first, as App Runner lists them. */
        ops = calloc(m->n_operations + 1, sizeof(Operation *));
        if (!ops)
                return -ENOMEM;
        for (size_t i = m->n_operations; i > 0; i--)
                if (streq(m->operations[i - 1]->service_id, s->id))
                        ops[n++] = m->operations[i - 1];

        r = bus_parse_page(token, max, 20, n, &start, &count, error);
        if (r < 0)
                return r;

        r = sd_bus_message_new_method_return(message, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(ssssttt)");
        if (r < 0)
                return r;
        for (size_t i = start; i < start + count; i++) {
                Operation *o = ops[i];
                r = sd_bus_message_append(reply, "(ssssttt)", o->id, operation_type_to_string(o->type),
                                          operation_status_to_string(o->status), o->target_arn,
                                          o->started_at, o->ended_at, o->updated_at);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        if (start + count < n && asprintf(&next, "%zu", start + count) < 0)
                return -ENOMEM;
        r = sd_bus_message_append(reply, "s", strempty(next));
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_get_operation(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_free_ char *path = NULL;
        const char *id;
        Operation *o;
        int r;

        r = sd_bus_message_read(message, "s", &id);
        if (r < 0)
                return r;
        o = manager_find_operation(m, id);
        if (!o)
                return sd_bus_error_setf(error, BUS_ERROR_RESOURCE_NOT_FOUND, "Operation %s not found.", id);
        r = operation_object_path(o, &path);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(message, "o", path);
}

static int reply_auto_scaling_path(sd_bus_message *message, const AutoScalingConfiguration *c) {
        _cleanup_free_ char *path = NULL;
        int r;

        r = auto_scaling_object_path(c, &path);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(message, "o", path);
}

typedef struct AutoScalingLimits {
        uint64_t max_concurrency;
        uint64_t min_size;
        uint64_t max_size;
} AutoScalingLimits;

static int auto_scaling_option(sd_bus_message *message, const char *key, void *userdata,
                               sd_bus_error *error) {
        AutoScalingLimits *limits = userdata;
        uint64_t *target;

        if (streq(key, "MaxConcurrency"))
                target = &limits->max_concurrency;
        else if (streq(key, "MinSize"))
                target = &limits->min_size;
        else if (streq(key, "MaxSize"))
                target = &limits->max_size;
        else
                return 0;

        int r = bus_read_variant_unsigned(message, key, UINT32_MAX, target, error);
        return r < 0 ? r : 1;
}

static int method_create_auto_scaling(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_(api_error_done) ApiError e = {};
        AutoScalingLimits limits = {
                .max_concurrency = MAX_CONCURRENCY_DEFAULT,
                .min_size = MIN_SIZE_DEFAULT,
                .max_size = MAX_SIZE_DEFAULT,
        };
        AutoScalingConfiguration *c;
        const char *name;
        int r;

        r = bus_check_write_access(message, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(message, "s", &name);
        if (r < 0)
                return r;

        r = bus_read_options(message, auto_scaling_option, &limits,
                             "expected MaxConcurrency, MinSize or MaxSize.", error);
        if (r < 0)
                return r;

        r = manager_create_auto_scaling(m, name, (unsigned)limits.max_concurrency, (unsigned)limits.min_size,
                                        (unsigned)limits.max_size, &c, &e);
        if (r < 0)
                return bus_reply_api_error(error, &e);
        return reply_auto_scaling_path(message, c);
}

static int method_get_auto_scaling(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        AutoScalingConfiguration *c;
        const char *arn;
        int r;

        r = sd_bus_message_read(message, "s", &arn);
        if (r < 0)
                return r;
        c = manager_find_auto_scaling(m, arn);
        if (!c)
                return sd_bus_error_setf(error, BUS_ERROR_RESOURCE_NOT_FOUND,
                                         "Auto scaling configuration %s not found.%s", arn,
                                         manager_auto_scaling_arn_hint(arn));
        return reply_auto_scaling_path(message, c);
}

static int method_list_auto_scaling(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ AutoScalingConfiguration **list = NULL;
        _cleanup_free_ char *next = NULL;
        Manager *m = userdata;
        const char *filter, *token;
        int latest_only;
        uint32_t max;
        size_t n = 0, start, count;
        int r;

        r = sd_bus_message_read(message, "sbus", &filter, &latest_only, &max, &token);
        if (r < 0)
                return r;

        list = calloc(m->n_auto_scaling + 1, sizeof(AutoScalingConfiguration *));
        if (!list)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_auto_scaling; i++) {
                AutoScalingConfiguration *c = m->auto_scaling[i];

                /* As in App Runner, deleted revisions are not listed. */
                if (!c->active)
                        continue;
                if (*filter && !streq(c->name, filter))
                        continue;
                if (latest_only && manager_latest_auto_scaling(m, c->name) != c)
                        continue;
                list[n++] = c;
        }

        r = bus_parse_page(token, max, 100, n, &start, &count, error);
        if (r < 0)
                return r;

        r = sd_bus_message_new_method_return(message, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(ssusbbt)");
        if (r < 0)
                return r;
        for (size_t i = start; i < start + count; i++) {
                AutoScalingConfiguration *c = list[i];
                r = sd_bus_message_append(
                        reply, "(ssusbbt)", c->arn, c->name, c->revision, c->active ? "ACTIVE" : "INACTIVE",
                        manager_latest_auto_scaling(m, c->name) == c, c->is_default, c->created_at);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        if (start + count < n && asprintf(&next, "%zu", start + count) < 0)
                return -ENOMEM;
        r = sd_bus_message_append(reply, "s", strempty(next));
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_delete_auto_scaling(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_(api_error_done) ApiError e = {};
        AutoScalingConfiguration *c;
        const char *arn;
        int all, r;

        r = bus_check_write_access(message, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(message, "sb", &arn, &all);
        if (r < 0)
                return r;
        r = manager_delete_auto_scaling(m, arn, all, &c, &e);
        if (r < 0)
                return bus_reply_api_error(error, &e);
        return reply_auto_scaling_path(message, c);
}

static int method_update_default_auto_scaling(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_(api_error_done) ApiError e = {};
        AutoScalingConfiguration *c;
        const char *arn;
        int r;

        r = bus_check_write_access(message, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(message, "s", &arn);
        if (r < 0)
                return r;
        r = manager_set_default_auto_scaling(m, arn, &c, &e);
        if (r < 0)
                return bus_reply_api_error(error, &e);
        return reply_auto_scaling_path(message, c);
}

typedef struct ConnectionCredentials {
        const char *username;
        const char *password;
} ConnectionCredentials;

static int connection_option(sd_bus_message *message, const char *key, void *userdata, sd_bus_error *error) {
        ConnectionCredentials *credentials = userdata;
        const char **target;

        if (streq(key, "Username"))
                target = &credentials->username;
        else if (streq(key, "Password"))
                target = &credentials->password;
        else
                return 0;

        int r = bus_read_variant_string(message, key, target, error);
        return r < 0 ? r : 1;
}

static int method_create_connection(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_(api_error_done) ApiError e = {};
        _cleanup_free_ char *path = NULL;
        ConnectionCredentials credentials = {};
        const char *name, *provider;
        Connection *c;
        int r;

        r = bus_check_write_access(message, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(message, "ss", &name, &provider);
        if (r < 0)
                return r;
        r = bus_read_options(message, connection_option, &credentials, "expected Username or Password.",
                             error);
        if (r < 0)
                return r;

        r = manager_create_connection(m, name, provider, credentials.username, credentials.password, &c, &e);
        if (r < 0)
                return bus_reply_api_error(error, &e);
        r = connection_object_path(c, &path);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(message, "o", path);
}

static int method_list_connections(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ Connection **list = NULL;
        _cleanup_free_ char *next = NULL;
        Manager *m = userdata;
        const char *filter, *token;
        uint32_t max;
        size_t n = 0, start, count;
        int r;

        r = sd_bus_message_read(message, "sus", &filter, &max, &token);
        if (r < 0)
                return r;
        list = calloc(m->n_connections + 1, sizeof(Connection *));
        if (!list)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_connections; i++)
                if (!m->connections[i]->deleted && (!*filter || streq(m->connections[i]->name, filter)))
                        list[n++] = m->connections[i];

        r = bus_parse_page(token, max, 100, n, &start, &count, error);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(message, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(sssst)");
        if (r < 0)
                return r;
        for (size_t i = start; i < start + count; i++) {
                Connection *c = list[i];
                r = sd_bus_message_append(reply, "(sssst)", c->name, c->arn, c->provider_type, "AVAILABLE",
                                          c->created_at);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        if (start + count < n && asprintf(&next, "%zu", start + count) < 0)
                return -ENOMEM;
        r = sd_bus_message_append(reply, "s", strempty(next));
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_delete_connection(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_(api_error_done) ApiError e = {};
        _cleanup_free_ char *path = NULL;
        Connection *c;
        const char *arn;
        int r;

        r = bus_check_write_access(message, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(message, "s", &arn);
        if (r < 0)
                return r;
        r = manager_delete_connection(m, arn, &c, &e);
        if (r < 0)
                return bus_reply_api_error(error, &e);
        r = connection_object_path(c, &path);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(message, "o", path);
}

static int property_get_config_u(sd_bus *bus, const char *path, const char *interface, const char *property,
                                 sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        unsigned v = streq(property, "ServiceQuota")      ? m->config.max_services
                     : streq(property, "ConnectionQuota") ? m->config.max_connections
                                                          : m->config.max_auto_scaling_configurations;
        return sd_bus_message_append(reply, "u", v);
}

static int property_get_config_s(sd_bus *bus, const char *path, const char *interface, const char *property,
                                 sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *v = streq(property, "Region")      ? m->config.region
                        : streq(property, "AccountId") ? m->config.account_id
                                                       : PACKAGE_VERSION;
        return sd_bus_message_append(reply, "s", v);
}

const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("ServiceQuota", "u", property_get_config_u, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ConnectionQuota", "u", property_get_config_u, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("AutoScalingConfigurationQuota", "u", property_get_config_u, 0,
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Region", "s", property_get_config_s, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("AccountId", "s", property_get_config_s, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Version", "s", property_get_config_s, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD_WITH_ARGS("CreateService", SD_BUS_ARGS("s", service_name, "a{sv}", options),
                                SD_BUS_RESULT("o", service, "s", operation_id), method_create_service,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetService", SD_BUS_ARGS("s", service), SD_BUS_RESULT("o", object),
                                method_get_service, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListServices", SD_BUS_ARGS("u", max_results, "s", next_token),
                                SD_BUS_RESULT("a(ssssstt)", services, "s", next_token_out),
                                method_list_services, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("UpdateService", SD_BUS_ARGS("s", service, "a{sv}", options),
                                SD_BUS_RESULT("o", object, "s", operation_id), method_update_service,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DeleteService", SD_BUS_ARGS("s", service),
                                SD_BUS_RESULT("o", object, "s", operation_id), method_delete_service,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("PauseService", SD_BUS_ARGS("s", service),
                                SD_BUS_RESULT("o", object, "s", operation_id), method_pause_service,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ResumeService", SD_BUS_ARGS("s", service),
                                SD_BUS_RESULT("o", object, "s", operation_id), method_resume_service,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("StartDeployment", SD_BUS_ARGS("s", service),
                                SD_BUS_RESULT("s", operation_id), method_start_deployment,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListOperations",
                                SD_BUS_ARGS("s", service, "u", max_results, "s", next_token),
                                SD_BUS_RESULT("a(ssssttt)", operations, "s", next_token_out),
                                method_list_operations, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetOperation", SD_BUS_ARGS("s", operation_id), SD_BUS_RESULT("o", object),
                                method_get_operation, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CreateAutoScalingConfiguration", SD_BUS_ARGS("s", name, "a{sv}", options),
                                SD_BUS_RESULT("o", object), method_create_auto_scaling,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetAutoScalingConfiguration", SD_BUS_ARGS("s", arn),
                                SD_BUS_RESULT("o", object), method_get_auto_scaling,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS(
                "ListAutoScalingConfigurations",
                SD_BUS_ARGS("s", name_filter, "b", latest_only, "u", max_results, "s", next_token),
                SD_BUS_RESULT("a(ssusbbt)", configurations, "s", next_token_out), method_list_auto_scaling,
                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DeleteAutoScalingConfiguration",
                                SD_BUS_ARGS("s", arn, "b", delete_all_revisions), SD_BUS_RESULT("o", object),
                                method_delete_auto_scaling, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("UpdateDefaultAutoScalingConfiguration", SD_BUS_ARGS("s", arn),
                                SD_BUS_RESULT("o", object), method_update_default_auto_scaling,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS(
                "CreateConnection", SD_BUS_ARGS("s", name, "s", provider_type, "a{sv}", options),
                SD_BUS_RESULT("o", object), method_create_connection, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListConnections",
                                SD_BUS_ARGS("s", name_filter, "u", max_results, "s", next_token),
                                SD_BUS_RESULT("a(sssst)", connections, "s", next_token_out),
                                method_list_connections, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DeleteConnection", SD_BUS_ARGS("s", arn), SD_BUS_RESULT("o", object),
                                method_delete_connection, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};
