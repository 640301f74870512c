/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-request.h"
#include "macro.h"

/* App Runner's request structures, member names and nesting as in the App
 * Runner API reference (CreateService, UpdateService, ...). */

static const Field image_configuration_members[] = {
        {"RuntimeEnvironmentVariables", FIELD_STRING_MAP, FIELD_OPTION},
        /* Passed on so that apprunnerd rejects it with its own message. */
        {"RuntimeEnvironmentSecrets", FIELD_STRING_MAP, FIELD_OPTION},
        {"StartCommand", FIELD_STRING, FIELD_OPTION},
        {"Port", FIELD_STRING, FIELD_OPTION},
        {},
};

static const Field image_repository_members[] = {
        {"ImageIdentifier", FIELD_STRING, FIELD_OPTION},
        {"ImageConfiguration", FIELD_STRUCTURE, FIELD_OPTION, image_configuration_members},
        {"ImageRepositoryType", FIELD_STRING, FIELD_OPTION},
        {},
};

static const Field authentication_configuration_members[] = {
        {"ConnectionArn", FIELD_STRING, FIELD_OPTION},
        {"AccessRoleArn", FIELD_STRING, FIELD_OPTION},
        {},
};

static const Field source_configuration_members[] = {
        {"CodeRepository", FIELD_STRUCTURE, FIELD_REJECTED, NULL, NULL, NULL,
         "apprunnerd runs services from container images only, so use SourceConfiguration.ImageRepository"},
        {"ImageRepository", FIELD_STRUCTURE, FIELD_OPTION, image_repository_members},
        {"AutoDeploymentsEnabled", FIELD_BOOLEAN, FIELD_OPTION},
        {"AuthenticationConfiguration", FIELD_STRUCTURE, FIELD_OPTION, authentication_configuration_members},
        {},
};

static const Field instance_configuration_members[] = {
        {"Cpu", FIELD_STRING, FIELD_OPTION},
        {"Memory", FIELD_STRING, FIELD_OPTION},
        {"InstanceRoleArn", FIELD_STRING, FIELD_OPTION},
        {},
};

static const Field health_check_configuration_members[] = {
        {"Protocol", FIELD_STRING, FIELD_OPTION},
        {"Path", FIELD_STRING, FIELD_OPTION},
        {"Interval", FIELD_UINT32, FIELD_OPTION},
        {"Timeout", FIELD_UINT32, FIELD_OPTION},
        {"HealthyThreshold", FIELD_UINT32, FIELD_OPTION},
        {"UnhealthyThreshold", FIELD_UINT32, FIELD_OPTION},
        {},
};

#define SERVICE_ARN_FIELD                                                                 \
        {                                                                                 \
                "ServiceArn", FIELD_STRING, FIELD_ARGUMENT, NULL, "--service-arn", "ARN", \
                        "ARN of the service (its id or name is accepted too)", true       \
        }

#define SOURCE_CONFIGURATION_HELP                                                                      \
        "image to run, as JSON or file://PATH: ImageRepository {ImageIdentifier, ImageRepositoryType " \
        "(OCI_LAYOUT, REGISTRY, ECR, ECR_PUBLIC), ImageConfiguration {Port (string), StartCommand, "   \
        "RuntimeEnvironmentVariables}}, AutoDeploymentsEnabled, AuthenticationConfiguration "          \
        "{ConnectionArn}"

#define INSTANCE_CONFIGURATION_FIELD                                                                        \
        {                                                                                                   \
                "InstanceConfiguration", FIELD_STRUCTURE, FIELD_OPTION, instance_configuration_members,     \
                        "--instance-configuration", "JSON",                                                 \
                        "resources of each instance, as JSON or file://PATH: Cpu (\"1 vCPU\" or CPU units " \
                        "\"1024\"), "                                                                       \
                        "Memory (\"2 GB\" or MB \"2048\")"                                                  \
        }

#define HEALTH_CHECK_CONFIGURATION_FIELD                                                                    \
        {                                                                                                   \
                "HealthCheckConfiguration", FIELD_STRUCTURE, FIELD_OPTION,                                  \
                        health_check_configuration_members, "--health-check-configuration", "JSON",         \
                        "health check, as JSON or file://PATH: Protocol (TCP or HTTP), Path, Interval and " \
                        "Timeout in "                                                                       \
                        "seconds, HealthyThreshold and UnhealthyThreshold in consecutive checks"            \
        }

#define AUTO_SCALING_CONFIGURATION_ARN_OPTION_FIELD                                                   \
        {                                                                                             \
                "AutoScalingConfigurationArn", FIELD_STRING, FIELD_OPTION, NULL,                      \
                        "--auto-scaling-configuration-arn", "ARN",                                    \
                        "auto scaling configuration revision to use (the default configuration when " \
                        "absent)"                                                                     \
        }

#define REQUEST_TIMEOUT_FIELD                                                                       \
        {                                                                                           \
                "RequestTimeout", FIELD_UINT32, FIELD_OPTION, NULL, "--request-timeout", "SECONDS", \
                        "apprunnerd extension: timeout of one request at the ingress, in seconds"   \
        }

#define TAGS_FIELD \
        { "Tags", FIELD_LIST, FIELD_DROPPED, NULL, "--tags", "JSON", "accepted and ignored" }

#define DROPPED_STRUCTURE_FIELD(name, option) \
        { name, FIELD_STRUCTURE, FIELD_DROPPED, NULL, option, "JSON", "accepted and ignored" }

#define MAX_RESULTS_FIELD(range)                                                        \
        {                                                                               \
                "MaxResults", FIELD_UINT32, FIELD_ARGUMENT, NULL, "--max-results", "N", \
                        "maximum number of results on one page (" range                 \
                        "), and turns off fetching all pages"                           \
        }

#define NEXT_TOKEN_FIELD                                                                   \
        {                                                                                  \
                "NextToken", FIELD_STRING, FIELD_ARGUMENT, NULL, "--next-token", "TOKEN",  \
                        "NextToken of the previous page, and turns off fetching all pages" \
        }

#define AUTO_SCALING_CONFIGURATION_ARN_FIELD(text)                                 \
        {                                                                          \
                "AutoScalingConfigurationArn", FIELD_STRING, FIELD_ARGUMENT, NULL, \
                        "--auto-scaling-configuration-arn", "ARN", text, true      \
        }

#define WAITER_FIELDS                                                                          \
        {"Timeout",                                                                            \
         FIELD_UINT32,                                                                         \
         FIELD_CLIENT,                                                                         \
         NULL,                                                                                 \
         "--timeout",                                                                          \
         "SECONDS",                                                                            \
         "give up after this many seconds (default 600)"},                                     \
        {                                                                                      \
                "Delay", FIELD_UINT32, FIELD_CLIENT, NULL, "--delay", "SECONDS",               \
                        "seconds between two checks when no change signal arrives (default 2)" \
        }

static const Field create_service_fields[] = {
        {"ServiceName", FIELD_STRING, FIELD_ARGUMENT, NULL, "--service-name", "NAME",
         "name of the service, unique on this host", true},
        {"SourceConfiguration", FIELD_STRUCTURE, FIELD_OPTION, source_configuration_members,
         "--source-configuration", "JSON", SOURCE_CONFIGURATION_HELP, true},
        INSTANCE_CONFIGURATION_FIELD,
        HEALTH_CHECK_CONFIGURATION_FIELD,
        AUTO_SCALING_CONFIGURATION_ARN_OPTION_FIELD,
        REQUEST_TIMEOUT_FIELD,
        TAGS_FIELD,
        DROPPED_STRUCTURE_FIELD("EncryptionConfiguration", "--encryption-configuration"),
        DROPPED_STRUCTURE_FIELD("NetworkConfiguration", "--network-configuration"),
        DROPPED_STRUCTURE_FIELD("ObservabilityConfiguration", "--observability-configuration"),
        {},
};

static const Field update_service_fields[] = {
        SERVICE_ARN_FIELD,
        {"SourceConfiguration", FIELD_STRUCTURE, FIELD_OPTION, source_configuration_members,
         "--source-configuration", "JSON", SOURCE_CONFIGURATION_HELP},
        INSTANCE_CONFIGURATION_FIELD,
        HEALTH_CHECK_CONFIGURATION_FIELD,
        AUTO_SCALING_CONFIGURATION_ARN_OPTION_FIELD,
        REQUEST_TIMEOUT_FIELD,
        DROPPED_STRUCTURE_FIELD("NetworkConfiguration", "--network-configuration"),
        DROPPED_STRUCTURE_FIELD("ObservabilityConfiguration", "--observability-configuration"),
        {},
};

static const Field service_arn_fields[] = {
        SERVICE_ARN_FIELD,
        {},
};

static const Field list_services_fields[] = {
        MAX_RESULTS_FIELD("1..20"),
        NEXT_TOKEN_FIELD,
        {},
};

static const Field list_operations_fields[] = {
        SERVICE_ARN_FIELD,
        MAX_RESULTS_FIELD("1..20"),
        NEXT_TOKEN_FIELD,
        {},
};

static const Field describe_operation_fields[] = {
        {"OperationId", FIELD_STRING, FIELD_ARGUMENT, NULL, "--operation-id", "ID",
         "id of the operation, as returned by a mutating call or list-operations", true},
        {},
};

static const Field create_auto_scaling_configuration_fields[] = {
        {"AutoScalingConfigurationName", FIELD_STRING, FIELD_ARGUMENT, NULL,
         "--auto-scaling-configuration-name", "NAME",
         "name of the configuration; an existing name gets a new revision", true},
        {"MaxConcurrency", FIELD_UINT32, FIELD_OPTION, NULL, "--max-concurrency", "N",
         "concurrent requests one instance serves before more instances start (1..200, default 100)"},
        {"MinSize", FIELD_UINT32, FIELD_OPTION, NULL, "--min-size", "N",
         "minimum number of instances (1..25, default 1)"},
        {"MaxSize", FIELD_UINT32, FIELD_OPTION, NULL, "--max-size", "N",
         "maximum number of instances (1..25, default 25)"},
        TAGS_FIELD,
        {},
};

static const Field describe_auto_scaling_configuration_fields[] = {
        AUTO_SCALING_CONFIGURATION_ARN_FIELD(
                "ARN of the revision, or an ARN ending in the name for the latest active revision"),
        {},
};

static const Field list_auto_scaling_configurations_fields[] = {
        {"AutoScalingConfigurationName", FIELD_STRING, FIELD_ARGUMENT, NULL,
         "--auto-scaling-configuration-name", "NAME", "list only the revisions of this name"},
        {"LatestOnly", FIELD_BOOLEAN, FIELD_ARGUMENT, NULL, "--latest-only", NULL,
         "list only the latest active revision of each name; the default, as in App Runner"},
        MAX_RESULTS_FIELD("1..100"),
        NEXT_TOKEN_FIELD,
        {},
};

static const Field delete_auto_scaling_configuration_fields[] = {
        AUTO_SCALING_CONFIGURATION_ARN_FIELD("ARN of the revision to delete, or an ARN ending in the name "
                                             "for the latest active revision"),
        {"DeleteAllRevisions", FIELD_BOOLEAN, FIELD_ARGUMENT, NULL, "--delete-all-revisions", NULL,
         "delete every revision of the configuration's name"},
        {},
};

static const Field update_default_auto_scaling_configuration_fields[] = {
        AUTO_SCALING_CONFIGURATION_ARN_FIELD("ARN of the revision that services created without "
                                             "--auto-scaling-configuration-arn get"),
        {},
};

static const Field create_connection_fields[] = {
        {"ConnectionName", FIELD_STRING, FIELD_ARGUMENT, NULL, "--connection-name", "NAME",
         "name of the connection", true},
        {"ProviderType", FIELD_STRING, FIELD_ARGUMENT, NULL, "--provider-type", "TYPE",
         "REGISTRY for container registry credentials (apprunnerd rejects GITHUB and BITBUCKET)", true},
        {"Username", FIELD_STRING, FIELD_OPTION, NULL, "--username", "USER",
         "apprunnerd extension: user name of the registry credentials"},
        /* No option: a password on the command line is visible in ps(1). */
        {"Password", FIELD_STRING, FIELD_OPTION},
        {"PasswordStdin", FIELD_BOOLEAN, FIELD_CLIENT, NULL, "--password-stdin", NULL,
         "apprunnerd extension: read the registry password or token from standard input"},
        TAGS_FIELD,
        {},
};

static const Field list_connections_fields[] = {
        {"ConnectionName", FIELD_STRING, FIELD_ARGUMENT, NULL, "--connection-name", "NAME",
         "list only the connection of this name"},
        MAX_RESULTS_FIELD("1..100"),
        NEXT_TOKEN_FIELD,
        {},
};

static const Field delete_connection_fields[] = {
        {"ConnectionArn", FIELD_STRING, FIELD_ARGUMENT, NULL, "--connection-arn", "ARN",
         "ARN of the connection", true},
        {},
};

static const Field wait_service_running_fields[] = {
        SERVICE_ARN_FIELD,
        WAITER_FIELDS,
        {},
};

static const Field wait_operation_complete_fields[] = {
        {"OperationId", FIELD_STRING, FIELD_ARGUMENT, NULL, "--operation-id", "ID", "id of the operation",
         true},
        WAITER_FIELDS,
        {},
};

const RequestShape request_shapes[] = {
        {"create-service", "CreateService", "Create a service from a container image and start it.",
         create_service_fields},
        {"describe-service", "DescribeService", "Show a service.", service_arn_fields},
        {"list-services", "ListServices", "List the services on this host.", list_services_fields},
        {"update-service", "UpdateService",
         "Change a service's settings and deploy them blue/green. Structures given replace the "
         "service's structure of the same name.",
         update_service_fields},
        {"delete-service", "DeleteService", "Delete a service and stop its instances.", service_arn_fields},
        {"pause-service", "PauseService", "Stop a service's instances and keep the service and its URL.",
         service_arn_fields},
        {"resume-service", "ResumeService", "Start a paused service's instances again.", service_arn_fields},
        {"start-deployment", "StartDeployment",
         "Resolve the service's image again and deploy it blue/green.", service_arn_fields},
        {"list-operations", "ListOperations", "List a service's operations, newest first.",
         list_operations_fields},
        {"describe-operation", "DescribeOperation",
         "apprunnerd extension: show one operation, including why it failed.", describe_operation_fields},
        {"check-for-image-update", "CheckForImageUpdate",
         "apprunnerd extension: check the image tag for a new digest now and deploy it; prints the "
         "operation id, or none when the image is unchanged.",
         service_arn_fields},
        {"list-instances", "ListInstances",
         "apprunnerd extension: list a service's instances with their units, addresses and states.",
         service_arn_fields},
        {"create-auto-scaling-configuration", "CreateAutoScalingConfiguration",
         "Create an auto scaling configuration, or a new revision of an existing name.",
         create_auto_scaling_configuration_fields},
        {"describe-auto-scaling-configuration", "DescribeAutoScalingConfiguration",
         "Show one auto scaling configuration revision.", describe_auto_scaling_configuration_fields},
        {"list-auto-scaling-configurations", "ListAutoScalingConfigurations",
         "List auto scaling configuration revisions.", list_auto_scaling_configurations_fields},
        {"delete-auto-scaling-configuration", "DeleteAutoScalingConfiguration",
         "Delete an auto scaling configuration revision, or every revision of its name.",
         delete_auto_scaling_configuration_fields},
        {"update-default-auto-scaling-configuration", "UpdateDefaultAutoScalingConfiguration",
         "Make a revision the default for new services.", update_default_auto_scaling_configuration_fields},
        {"create-connection", "CreateConnection", "Store credentials of a container registry.",
         create_connection_fields},
        {"list-connections", "ListConnections", "List connections.", list_connections_fields},
        {"delete-connection", "DeleteConnection", "Delete a connection no service uses.",
         delete_connection_fields},
        {"wait service-running", "ServiceRunning",
         "Wait until a service's status is RUNNING. Exits 255 when it reaches a failed status or the "
         "timeout passes.",
         wait_service_running_fields},
        {"wait operation-complete", "OperationComplete",
         "Wait until an operation succeeds. Exits 255 when it fails or rolls back, or the timeout passes.",
         wait_operation_complete_fields},
        {},
};

const RequestShape *request_shape_find(const char *verb) {
        for (const RequestShape *s = request_shapes; s->verb; s++)
                if (streq(s->verb, verb))
                        return s;
        return NULL;
}

const Field *field_find(const Field *fields, const char *name) {
        for (const Field *f = fields; f && f->name; f++)
                if (streq(f->name, name))
                        return f;
        return NULL;
}

_printf_(2, 3) static int fail(char **ret_error, const char *format, ...) {
        va_list ap;
        char *s = NULL;

        va_start(ap, format);
        if (vasprintf(&s, format, ap) < 0)
                s = NULL;
        va_end(ap);
        if (ret_error)
                *ret_error = s;
        else
                free(s);
        return -EINVAL;
}

static int read_file(const char *path, char **ret_text) {
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *text = NULL;
        size_t size = 0;

        f = fopen(path, "re");
        if (!f)
                return -errno;

        FILE *out = open_memstream(&text, &size);
        if (!out)
                return -ENOMEM;

        char buffer[4096];
        size_t n;
        while ((n = fread(buffer, 1, sizeof(buffer), f)) > 0)
                if (fwrite(buffer, 1, n, out) != n) {
                        fclose(out);
                        return -ENOMEM;
                }
        int read_error = ferror(f);
        if (fclose(out) != 0)
                return -ENOMEM;
        if (read_error)
                return -EIO;

        *ret_text = TAKE_PTR(text);
        return 0;
}

int json_argument_parse(const char *option, const char *argument, json_object **ret, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        const char *path = NULL;
        int r;

        if (strncmp(argument, "file://", 7) == 0) {
                path = argument + 7;
                r = read_file(path, &text);
                if (r < 0)
                        return fail(ret_error,
                                    "Error parsing parameter '%s': Unable to load paramfile %s: %s", option,
                                    argument, strerror(-r));
        }
        const char *json = text ?: argument;
        size_t length = strlen(json);

        json_tokener *tokener = json_tokener_new();
        if (!tokener)
                return -ENOMEM;
        json_tokener_set_flags(tokener, JSON_TOKENER_STRICT);

        json_object *value = json_tokener_parse_ex(tokener, json, (int)MIN(length, (size_t)INT_MAX));
        enum json_tokener_error error = json_tokener_get_error(tokener);
        size_t end = json_tokener_get_parse_end(tokener);
        json_tokener_free(tokener);

        const char *what = NULL;
        if (error == json_tokener_continue)
                what = "unexpected end of input";
        else if (error != json_tokener_success)
                what = json_tokener_error_desc(error);
        else if (json[end + strspn(json + end, " \t\r\n")] != '\0')
                what = "unexpected data after the JSON value";
        if (what) {
                json_object_put(value);
                if (path)
                        return fail(ret_error,
                                    "Error parsing parameter '%s': Invalid JSON in %s: %s at offset %zu",
                                    option, argument, what, end);
                return fail(ret_error, "Error parsing parameter '%s': Invalid JSON: %s at offset %zu: %s",
                            option, what, end, argument);
        }

        *ret = value;
        return 0;
}

static int parse_uint32(const char *s, uint32_t *ret) {
        char *end = NULL;

        if (!s || s[0] < '0' || s[0] > '9')
                return -EINVAL;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno != 0 || *end != '\0' || v > UINT32_MAX)
                return -ERANGE;
        *ret = (uint32_t)v;
        return 0;
}

int request_option_value(const Field *field, const char *value, json_object **ret_value, char **ret_error) {
        json_object *v = NULL;
        uint32_t u;

        switch (field->type) {
        case FIELD_STRING:
                v = json_object_new_string(value);
                break;
        case FIELD_UINT32:
                if (parse_uint32(value, &u) < 0)
                        return fail(ret_error,
                                    "Invalid value for %s: \"%s\": expected an integer from 0 to %" PRIu32,
                                    field->option, value, UINT32_MAX);
                v = json_object_new_int64(u);
                break;
        case FIELD_BOOLEAN:
                if (!value || streq(value, "true"))
                        v = json_object_new_boolean(1);
                else if (streq(value, "false"))
                        v = json_object_new_boolean(0);
                else
                        return fail(ret_error, "Invalid value for %s: \"%s\": expected true or false",
                                    field->option, value);
                break;
        case FIELD_STRING_MAP:
        case FIELD_STRUCTURE:
        case FIELD_LIST: {
                /* A dropped field is not used, so a value in the AWS CLI's shorthand syntax (Key=a,Value=b)
                 * is kept as a string. */
                char *error = NULL;
                int r = json_argument_parse(field->option, value, &v, &error);
                if (r < 0 && field->use == FIELD_DROPPED && strncmp(value, "file://", 7) != 0) {
                        free(error);
                        v = json_object_new_string(value);
                } else if (r < 0) {
                        if (ret_error)
                                *ret_error = error;
                        else
                                free(error);
                        return r;
                }
                break;
        }
        }

        if (!v)
                return -ENOMEM;
        *ret_value = v;
        return 0;
}

static const char *json_type_label(json_object *v) {
        switch (json_object_get_type(v)) {
        case json_type_null:
                return "null";
        case json_type_boolean:
                return "boolean";
        case json_type_double:
                return "number";
        case json_type_int:
                return "integer";
        case json_type_object:
                return "object";
        case json_type_array:
                return "list";
        case json_type_string:
                return "string";
        }
        return "unknown";
}

static const char *field_type_label(FieldType type) {
        switch (type) {
        case FIELD_STRING:
                return "string";
        case FIELD_UINT32:
                return "integer";
        case FIELD_BOOLEAN:
                return "boolean";
        case FIELD_STRING_MAP:
                return "object of strings";
        case FIELD_STRUCTURE:
                return "object";
        case FIELD_LIST:
                return "list";
        }
        return "unknown";
}

static int fail_type(char **ret_error, const char *path, json_object *value, FieldType expected) {
        return fail(ret_error, "Invalid type for parameter %s, value: %s, type: %s, valid types: %s", path,
                    json_object_to_json_string_ext(value,
                                                   JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
                    json_type_label(value), field_type_label(expected));
}

/* Converts a leaf value to the JSON value that bus_append_options() sends
 * with the field's D-Bus type. */
static int convert_leaf(const Field *field, const char *path, json_object *value, json_object **ret,
                        char **ret_error) {
        json_object *v = NULL;

        switch (field->type) {
        case FIELD_STRING:
                if (json_object_is_type(value, json_type_string))
                        v = json_object_new_string(json_object_get_string(value));
                else if (json_object_is_type(value, json_type_int))
                        /* "Port": 8080 instead of "8080" is a common slip and has one meaning. */
                        v = json_object_new_string(json_object_get_string(value));
                else
                        return fail_type(ret_error, path, value, field->type);
                break;

        case FIELD_UINT32: {
                if (!json_object_is_type(value, json_type_int))
                        return fail_type(ret_error, path, value, field->type);
                errno = 0;
                int64_t n = json_object_get_int64(value);
                if (n < 0)
                        return fail(ret_error,
                                    "Invalid range for parameter %s, value: %" PRId64 ", valid min value: 0",
                                    path, n);
                if (n > UINT32_MAX || errno == EINVAL)
                        return fail(ret_error,
                                    "Invalid range for parameter %s, value: %s, valid max value: %" PRIu32,
                                    path, json_object_get_string(value), UINT32_MAX);
                v = json_object_new_int64(n);
                break;
        }

        case FIELD_BOOLEAN:
                if (!json_object_is_type(value, json_type_boolean))
                        return fail_type(ret_error, path, value, field->type);
                v = json_object_new_boolean(json_object_get_boolean(value));
                break;

        case FIELD_STRING_MAP:
                if (!json_object_is_type(value, json_type_object))
                        return fail_type(ret_error, path, value, field->type);
                v = json_object_new_object();
                if (!v)
                        return -ENOMEM;
                json_object_object_foreach(value, key, item) {
                        if (!json_object_is_type(item, json_type_string)) {
                                json_object_put(v);
                                _cleanup_free_ char *item_path = NULL;
                                if (asprintf(&item_path, "%s.%s", path, key) < 0)
                                        return -ENOMEM;
                                return fail_type(ret_error, item_path, item, FIELD_STRING);
                        }
                        json_object_object_add(v, key, json_object_new_string(json_object_get_string(item)));
                }
                break;

        case FIELD_LIST:
                if (!json_object_is_type(value, json_type_array))
                        return fail_type(ret_error, path, value, field->type);
                v = json_object_get(value);
                break;

        case FIELD_STRUCTURE:
                return fail_type(ret_error, path, value, field->type);
        }

        if (!v)
                return -ENOMEM;
        *ret = v;
        return 0;
}

static char *field_names(const Field *fields) {
        char *list = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&list, &size);

        if (!f)
                return NULL;
        for (const Field *field = fields; field->name; field++)
                fprintf(f, "%s%s", field == fields ? "" : ", ", field->name);
        if (fclose(f) != 0)
                return NULL;
        return list;
}

static int flatten_structure(const Field *fields, json_object *object, const char *path,
                             json_object *options, FILE *notes, char **ret_error) {
        int r;

        json_object_object_foreach(object, key, value) {
                const Field *field = field_find(fields, key);
                _cleanup_free_ char *member_path = NULL;

                if (!field) {
                        _cleanup_free_ char *names = field_names(fields);
                        return fail(ret_error, "Unknown parameter in %s: \"%s\", must be one of: %s",
                                    path ?: "input", key, strempty(names));
                }

                if (path ? asprintf(&member_path, "%s.%s", path, key) < 0 : !(member_path = strdup(key)))
                        return -ENOMEM;

                /* A JSON null means the member is absent. */
                if (json_object_is_type(value, json_type_null))
                        continue;

                switch (field->use) {
                case FIELD_DROPPED:
                        if (notes)
                                fprintf(notes,
                                        "Note: parameter %s is not implemented by apprunnerd and was "
                                        "ignored.\n",
                                        member_path);
                        continue;

                case FIELD_REJECTED:
                        return fail(ret_error, "Parameter %s is not supported: %s.", member_path,
                                    field->help);

                case FIELD_ARGUMENT:
                case FIELD_CLIENT:
                case FIELD_OPTION:
                        break;
                }

                if (field->type == FIELD_STRUCTURE) {
                        if (!json_object_is_type(value, json_type_object))
                                return fail_type(ret_error, member_path, value, field->type);
                        r = flatten_structure(field->members, value, member_path, options, notes, ret_error);
                        if (r < 0)
                                return r;
                        continue;
                }

                json_object *converted = NULL;
                r = convert_leaf(field, member_path, value, &converted, ret_error);
                if (r < 0)
                        return r;

                if (field->use == FIELD_OPTION)
                        json_object_object_add(options, key, converted);
                else
                        json_object_put(converted);
        }

        return 0;
}

int request_flatten(const RequestShape *shape, json_object *document, FILE *notes, json_object **ret_options,
                    char **ret_error) {
        json_object *options = NULL;
        int r;

        if (!json_object_is_type(document, json_type_object))
                return fail(ret_error, "Invalid type for the %s request: %s, expected a JSON object",
                            shape->operation, json_type_label(document));

        options = json_object_new_object();
        if (!options)
                return -ENOMEM;

        r = flatten_structure(shape->fields, document, NULL, options, notes, ret_error);
        if (r < 0) {
                json_object_put(options);
                return r;
        }

        for (const Field *field = shape->fields; field->name; field++) {
                json_object *value = NULL;

                if (!field->required)
                        continue;
                if (json_object_object_get_ex(document, field->name, &value) &&
                    !json_object_is_type(value, json_type_null))
                        continue;
                json_object_put(options);
                return fail(ret_error, "Missing required parameter %s (option %s).", field->name,
                            strna(field->option));
        }

        *ret_options = options;
        return 0;
}
