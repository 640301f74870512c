/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* apprunnerctl: the command-line client of apprunnerd, shaped like
 * "aws apprunner" of the AWS CLI v2. Each subcommand builds App Runner's
 * request document (ctl-request.c), calls org.apprunner1.Manager on the
 * system bus, and prints App Runner's response document (ctl-response.c).
 *
 * The helpers in this file return an exit status: 0 on success, or one of
 * EXIT_USAGE, EXIT_SERVICE_ERROR and EXIT_OTHER_FAILURE after the error
 * has been printed on stderr. */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <systemd/sd-bus.h>

#include "ctl-bus.h"
#include "ctl-error.h"
#include "ctl-output.h"
#include "ctl-request.h"
#include "ctl-response.h"
#include "macro.h"

#define SERVICE_INTERFACE                    "org.apprunner1.Service"
#define OPERATION_INTERFACE                  "org.apprunner1.Operation"
#define AUTO_SCALING_CONFIGURATION_INTERFACE "org.apprunner1.AutoScalingConfiguration"
#define CONNECTION_INTERFACE                 "org.apprunner1.Connection"

#define WAIT_TIMEOUT_DEFAULT_SEC 600
#define WAIT_DELAY_DEFAULT_SEC   2
/* Bounds a listing that fetches all pages, in case a daemon keeps
 * returning a NextToken. */
#define LIST_PAGES_MAX 1000

typedef struct Context {
        const RequestShape *shape;
        json_object *document; /* the request document, options applied */
        json_object *options;  /* the a{sv} options flattened from document */
        sd_bus *bus;
} Context;

static const char *arg_bus_address = NULL;
static const char *arg_verb = NULL; /* for the --help hint of usage errors */
static OutputFormat arg_output = OUTPUT_JSON;

static void context_done(Context *c) {
        json_object_put(c->document);
        json_object_put(c->options);
        sd_bus_flush_close_unref(c->bus);
}

/* Reading the request document. The document has passed request_flatten(),
 * so members have their field's JSON type. */

static const char *document_string(Context *c, const char *name) {
        json_object *v = NULL;

        if (!json_object_object_get_ex(c->document, name, &v) || !json_object_is_type(v, json_type_string))
                return "";
        return json_object_get_string(v);
}

static bool document_has(Context *c, const char *name) {
        json_object *v = NULL;

        return json_object_object_get_ex(c->document, name, &v) && !json_object_is_type(v, json_type_null);
}

static uint32_t document_uint32(Context *c, const char *name, uint32_t default_value) {
        json_object *v = NULL;

        if (!json_object_object_get_ex(c->document, name, &v) || !json_object_is_type(v, json_type_int))
                return default_value;
        return (uint32_t)json_object_get_int64(v);
}

/* Returns the boolean member 'name' of the request, or 'fallback' when it
 * is not given: App Runner's default for that member. */
static bool document_boolean_default(Context *c, const char *name, bool fallback) {
        json_object *v = NULL;

        if (!json_object_object_get_ex(c->document, name, &v))
                return fallback;
        return json_object_get_boolean(v);
}

static bool document_boolean(Context *c, const char *name) {
        return document_boolean_default(c, name, false);
}

/* Calling the daemon. */

static int print_bus_error(Context *c, const sd_bus_error *error, int r) {
        int status = EXIT_OTHER_FAILURE;

        if (!sd_bus_error_is_set(error)) {
                fprintf(stderr, "Failed to call the %s operation: %s\n", c->shape->operation, strerror(-r));
                return EXIT_OTHER_FAILURE;
        }

        _cleanup_free_ char *message = bus_error_message(c->shape->operation, error, &status);
        fprintf(stderr, "%s\n", message ?: "Out of memory.");
        return status;
}

static int new_manager_call(Context *c, const char *method, sd_bus_message **ret) {
        int r = sd_bus_message_new_method_call(c->bus, ret, APPRUNNER_BUS_NAME, APPRUNNER_MANAGER_PATH,
                                               APPRUNNER_MANAGER_INTERFACE, method);
        if (r < 0) {
                fprintf(stderr, "Failed to create the %s call: %s\n", method, strerror(-r));
                return EXIT_OTHER_FAILURE;
        }
        return 0;
}

static int append_failed(Context *c, int r) {
        if (r == -EINVAL) {
                fprintf(stderr,
                        "Invalid parameter for the %s operation: a string is not valid UTF-8 or a value "
                        "is out of range.\n",
                        c->shape->operation);
                return EXIT_USAGE;
        }
        fprintf(stderr, "Failed to build the %s call: %s\n", c->shape->operation, strerror(-r));
        return EXIT_OTHER_FAILURE;
}

static int call(Context *c, sd_bus_message *m, sd_bus_message **ret_reply) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;

        /* NOTE: 120 s in place of sd-bus's default of 25 s is a margin for a daemon that persists a request
         * before it replies, not a measured figure. */
        int r = sd_bus_call(c->bus, m, 120 * 1000000ULL, &error, ret_reply);
        if (r < 0)
                return print_bus_error(c, &error, r);
        return 0;
}

static int read_reply(Context *c, sd_bus_message *reply, const char *types, ...) {
        va_list ap;

        va_start(ap, types);
        int r = sd_bus_message_readv(reply, types, ap);
        va_end(ap);
        if (r < 0) {
                fprintf(stderr, "Failed to parse the reply of the %s operation: %s\n", c->shape->operation,
                        strerror(-r));
                return EXIT_OTHER_FAILURE;
        }
        return 0;
}

static int get_properties(Context *c, const char *path, const char *interface, json_object **ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;

        int r = bus_get_all_properties(c->bus, path, interface, &error, ret);
        if (r < 0)
                return print_bus_error(c, &error, r);
        return 0;
}

/* Fetches the object at path and converts it with convert into App
 * Runner's shape. */
static int get_object(Context *c, const char *path, const char *interface,
                      json_object *(*convert)(json_object *props), json_object **ret) {
        json_object *props = NULL;
        int status;

        status = get_properties(c, path, interface, &props);
        if (status != 0)
                return status;

        *ret = convert(props);
        json_object_put(props);
        if (!*ret) {
                fprintf(stderr, "Out of memory.\n");
                return EXIT_OTHER_FAILURE;
        }
        return 0;
}

static int print_response(json_object *response) {
        if (arg_output == OUTPUT_TEXT)
                text_print(stdout, response);
        else
                json_print(stdout, response);
        json_object_put(response);

        if (fflush(stdout) != 0) {
                fprintf(stderr, "Failed to write the output: %m\n");
                return EXIT_OTHER_FAILURE;
        }
        return 0;
}

/* Prints {key: object} for the object at path. */
static int print_object(Context *c, const char *key, const char *path, const char *interface,
                        json_object *(*convert)(json_object *props), const char *operation_id) {
        json_object *object = NULL, *response;
        int status;

        status = get_object(c, path, interface, convert, &object);
        if (status != 0)
                return status;

        response = json_object_new_object();
        json_object_object_add(response, key, object);
        if (operation_id)
                json_object_object_add(response, "OperationId", json_object_new_string(operation_id));
        return print_response(response);
}

/* Calls a Manager method whose arguments are the given strings and whose
 * reply starts with an object path, and prints that object. */
static int call_and_print_object(Context *c, const char *method, const char *argument, const char *key,
                                 const char *interface, json_object *(*convert)(json_object *props)) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        const char *path;
        int status, r;

        status = new_manager_call(c, method, &m);
        if (status != 0)
                return status;
        r = sd_bus_message_append(m, "s", argument);
        if (r < 0)
                return append_failed(c, r);
        status = call(c, m, &reply);
        if (status != 0)
                return status;
        status = read_reply(c, reply, "o", &path);
        if (status != 0)
                return status;

        return print_object(c, key, path, interface, convert, NULL);
}

/* Services. */

static int verb_create_service(Context *c) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        const char *path, *operation_id;
        int status, r;

        status = new_manager_call(c, "CreateService", &m);
        if (status != 0)
                return status;
        r = sd_bus_message_append(m, "s", document_string(c, "ServiceName"));
        if (r >= 0)
                r = bus_append_options(m, c->options);
        if (r < 0)
                return append_failed(c, r);

        status = call(c, m, &reply);
        if (status != 0)
                return status;
        status = read_reply(c, reply, "os", &path, &operation_id);
        if (status != 0)
                return status;

        return print_object(c, "Service", path, SERVICE_INTERFACE, service_from_properties, operation_id);
}

static int verb_update_service(Context *c) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        const char *path, *operation_id;
        int status, r;

        status = new_manager_call(c, "UpdateService", &m);
        if (status != 0)
                return status;
        r = sd_bus_message_append(m, "s", document_string(c, "ServiceArn"));
        if (r >= 0)
                r = bus_append_options(m, c->options);
        if (r < 0)
                return append_failed(c, r);

        status = call(c, m, &reply);
        if (status != 0)
                return status;
        status = read_reply(c, reply, "os", &path, &operation_id);
        if (status != 0)
                return status;

        return print_object(c, "Service", path, SERVICE_INTERFACE, service_from_properties, operation_id);
}

/* DeleteService, PauseService and ResumeService: (s service) -> (o, s). */
static int service_operation(Context *c, const char *method) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        const char *path, *operation_id;
        int status, r;

        status = new_manager_call(c, method, &m);
        if (status != 0)
                return status;
        r = sd_bus_message_append(m, "s", document_string(c, "ServiceArn"));
        if (r < 0)
                return append_failed(c, r);

        status = call(c, m, &reply);
        if (status != 0)
                return status;
        status = read_reply(c, reply, "os", &path, &operation_id);
        if (status != 0)
                return status;

        return print_object(c, "Service", path, SERVICE_INTERFACE, service_from_properties, operation_id);
}

static int get_service_path(Context *c, const char *service, char **ret_path);

static int verb_delete_service(Context *c) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *before_path = NULL;
        json_object *before = NULL, *props = NULL, *service, *response;
        const char *path, *operation_id;
        int status, r;

        /* A deletion with nothing to stop can finish, and remove the object,
         * before the object is read after the call. The service is read
         * first, so that the output can describe it in that case. */
        status = get_service_path(c, document_string(c, "ServiceArn"), &before_path);
        if (status != 0)
                return status;
        status = get_object(c, before_path, SERVICE_INTERFACE, service_from_properties, &before);
        if (status != 0)
                return status;

        status = new_manager_call(c, "DeleteService", &m);
        if (status == 0) {
                r = sd_bus_message_append(m, "s", document_string(c, "ServiceArn"));
                status = r < 0 ? append_failed(c, r) : call(c, m, &reply);
        }
        if (status == 0)
                status = read_reply(c, reply, "os", &path, &operation_id);
        if (status != 0) {
                json_object_put(before);
                return status;
        }

        r = bus_get_all_properties(c->bus, path, SERVICE_INTERFACE, &error, &props);
        if (r >= 0) {
                json_object_put(before);
                service = service_from_properties(props);
                json_object_put(props);
                if (!service) {
                        fprintf(stderr, "Out of memory.\n");
                        return EXIT_OTHER_FAILURE;
                }
        } else if (sd_bus_error_has_name(&error, SD_BUS_ERROR_UNKNOWN_OBJECT)) {
                service = before;
                json_object_object_add(service, "Status", json_object_new_string("DELETED"));
        } else {
                json_object_put(before);
                return print_bus_error(c, &error, r);
        }

        response = json_object_new_object();
        json_object_object_add(response, "Service", service);
        json_object_object_add(response, "OperationId", json_object_new_string(operation_id));
        return print_response(response);
}

static int verb_pause_service(Context *c) {
        return service_operation(c, "PauseService");
}

static int verb_resume_service(Context *c) {
        return service_operation(c, "ResumeService");
}

static int get_service_path(Context *c, const char *service, char **ret_path) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        const char *path;
        int status, r;

        status = new_manager_call(c, "GetService", &m);
        if (status != 0)
                return status;
        r = sd_bus_message_append(m, "s", service);
        if (r < 0)
                return append_failed(c, r);
        status = call(c, m, &reply);
        if (status != 0)
                return status;
        status = read_reply(c, reply, "o", &path);
        if (status != 0)
                return status;

        *ret_path = strdup(path);
        if (!*ret_path) {
                fprintf(stderr, "Out of memory.\n");
                return EXIT_OTHER_FAILURE;
        }
        return 0;
}

static int verb_describe_service(Context *c) {
        _cleanup_free_ char *path = NULL;
        int status;

        status = get_service_path(c, document_string(c, "ServiceArn"), &path);
        if (status != 0)
                return status;
        return print_object(c, "Service", path, SERVICE_INTERFACE, service_from_properties, NULL);
}

static int verb_start_deployment(Context *c) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        const char *operation_id;
        int status, r;

        status = new_manager_call(c, "StartDeployment", &m);
        if (status != 0)
                return status;
        r = sd_bus_message_append(m, "s", document_string(c, "ServiceArn"));
        if (r < 0)
                return append_failed(c, r);
        status = call(c, m, &reply);
        if (status != 0)
                return status;
        status = read_reply(c, reply, "s", &operation_id);
        if (status != 0)
                return status;

        json_object *response = json_object_new_object();
        json_object_object_add(response, "OperationId", json_object_new_string(operation_id));
        return print_response(response);
}

static int verb_check_for_image_update(Context *c) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_free_ char *path = NULL;
        const char *operation_id;
        json_object *response;
        int status, r;

        status = get_service_path(c, document_string(c, "ServiceArn"), &path);
        if (status != 0)
                return status;
        r = sd_bus_message_new_method_call(c->bus, &m, APPRUNNER_BUS_NAME, path, SERVICE_INTERFACE,
                                           "CheckForImageUpdate");
        if (r < 0) {
                fprintf(stderr, "Failed to create the CheckForImageUpdate call: %s\n", strerror(-r));
                return EXIT_OTHER_FAILURE;
        }
        status = call(c, m, &reply);
        if (status != 0)
                return status;
        status = read_reply(c, reply, "s", &operation_id);
        if (status != 0)
                return status;

        /* An unchanged image starts no operation: the output has no OperationId. */
        response = json_object_new_object();
        json_object_object_add(response, "ImageChanged", json_object_new_boolean(operation_id[0] != '\0'));
        if (operation_id[0] != '\0')
                json_object_object_add(response, "OperationId", json_object_new_string(operation_id));
        return print_response(response);
}

static int verb_list_instances(Context *c) {
        _cleanup_free_ char *path = NULL;
        json_object *props = NULL, *instances = NULL, *response;
        int status;

        status = get_service_path(c, document_string(c, "ServiceArn"), &path);
        if (status != 0)
                return status;
        status = get_properties(c, path, SERVICE_INTERFACE, &props);
        if (status != 0)
                return status;

        (void)json_object_object_get_ex(props, "Instances", &instances);
        response = json_object_new_object();
        json_object_object_add(response, "Instances", instances_from_property(instances));
        json_object_put(props);
        return print_response(response);
}

/* Listings. Like the AWS CLI, a listing fetches every page and prints
 * one list, unless --max-results or --next-token is given: then it prints
 * that one page and its NextToken. */

typedef int (*AppendListArguments)(Context *c, sd_bus_message *m);

static int list_pages(Context *c, const char *method, AppendListArguments append_arguments,
                      const char *list_key, SummaryKind kind) {
        bool one_page = document_has(c, "MaxResults") || document_has(c, "NextToken");
        _cleanup_free_ char *token = strdup(document_string(c, "NextToken"));
        json_object *list = json_object_new_array(), *response;
        int status = 0;

        if (!token || !list) {
                json_object_put(list);
                fprintf(stderr, "Out of memory.\n");
                return EXIT_OTHER_FAILURE;
        }

        for (unsigned page = 0; page < LIST_PAGES_MAX; page++) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
                json_object *rows = NULL, *summaries;
                const char *next_token;
                int r;

                status = new_manager_call(c, method, &m);
                if (status != 0)
                        break;
                r = append_arguments ? append_arguments(c, m) : 0;
                if (r >= 0)
                        r = sd_bus_message_append(m, "us", document_uint32(c, "MaxResults", 0), token);
                if (r < 0) {
                        status = append_failed(c, r);
                        break;
                }

                status = call(c, m, &reply);
                if (status != 0)
                        break;
                r = bus_message_read_json(reply, &rows);
                if (r <= 0) {
                        fprintf(stderr, "Failed to parse the reply of the %s operation: %s\n",
                                c->shape->operation, strerror(r < 0 ? -r : EBADMSG));
                        status = EXIT_OTHER_FAILURE;
                        break;
                }
                summaries = summary_list_from_rows(kind, rows);
                json_object_put(rows);
                for (size_t i = 0; summaries && i < json_object_array_length(summaries); i++)
                        json_object_array_add(list,
                                              json_object_get(json_object_array_get_idx(summaries, i)));
                json_object_put(summaries);

                status = read_reply(c, reply, "s", &next_token);
                if (status != 0)
                        break;
                r = free_and_strdup(&token, next_token);
                if (r < 0) {
                        fprintf(stderr, "Out of memory.\n");
                        status = EXIT_OTHER_FAILURE;
                        break;
                }
                if (one_page || token[0] == '\0')
                        break;
        }
        if (status != 0) {
                json_object_put(list);
                return status;
        }

        response = json_object_new_object();
        json_object_object_add(response, list_key, list);
        if (token[0] != '\0')
                json_object_object_add(response, "NextToken", json_object_new_string(token));
        return print_response(response);
}

static int verb_list_services(Context *c) {
        return list_pages(c, "ListServices", NULL, "ServiceSummaryList", SUMMARY_SERVICE);
}

static int append_service_argument(Context *c, sd_bus_message *m) {
        return sd_bus_message_append(m, "s", document_string(c, "ServiceArn"));
}

static int verb_list_operations(Context *c) {
        return list_pages(c, "ListOperations", append_service_argument, "OperationSummaryList",
                          SUMMARY_OPERATION);
}

/* Operations. */

static int get_operation_path(Context *c, const char *operation_id, char **ret_path) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        const char *path;
        int status, r;

        status = new_manager_call(c, "GetOperation", &m);
        if (status != 0)
                return status;
        r = sd_bus_message_append(m, "s", operation_id);
        if (r < 0)
                return append_failed(c, r);
        status = call(c, m, &reply);
        if (status != 0)
                return status;
        status = read_reply(c, reply, "o", &path);
        if (status != 0)
                return status;

        *ret_path = strdup(path);
        if (!*ret_path) {
                fprintf(stderr, "Out of memory.\n");
                return EXIT_OTHER_FAILURE;
        }
        return 0;
}

static int verb_describe_operation(Context *c) {
        _cleanup_free_ char *path = NULL;
        int status;

        status = get_operation_path(c, document_string(c, "OperationId"), &path);
        if (status != 0)
                return status;
        return print_object(c, "Operation", path, OPERATION_INTERFACE, operation_from_properties, NULL);
}

/* Auto scaling configurations. */

static int verb_create_auto_scaling_configuration(Context *c) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        const char *path;
        int status, r;

        status = new_manager_call(c, "CreateAutoScalingConfiguration", &m);
        if (status != 0)
                return status;
        r = sd_bus_message_append(m, "s", document_string(c, "AutoScalingConfigurationName"));
        if (r >= 0)
                r = bus_append_options(m, c->options);
        if (r < 0)
                return append_failed(c, r);
        status = call(c, m, &reply);
        if (status != 0)
                return status;
        status = read_reply(c, reply, "o", &path);
        if (status != 0)
                return status;

        return print_object(c, "AutoScalingConfiguration", path, AUTO_SCALING_CONFIGURATION_INTERFACE,
                            auto_scaling_configuration_from_properties, NULL);
}

static int verb_describe_auto_scaling_configuration(Context *c) {
        return call_and_print_object(c, "GetAutoScalingConfiguration",
                                     document_string(c, "AutoScalingConfigurationArn"),
                                     "AutoScalingConfiguration", AUTO_SCALING_CONFIGURATION_INTERFACE,
                                     auto_scaling_configuration_from_properties);
}

static int verb_update_default_auto_scaling_configuration(Context *c) {
        return call_and_print_object(c, "UpdateDefaultAutoScalingConfiguration",
                                     document_string(c, "AutoScalingConfigurationArn"),
                                     "AutoScalingConfiguration", AUTO_SCALING_CONFIGURATION_INTERFACE,
                                     auto_scaling_configuration_from_properties);
}

static int verb_delete_auto_scaling_configuration(Context *c) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        const char *path;
        int status, r;

        status = new_manager_call(c, "DeleteAutoScalingConfiguration", &m);
        if (status != 0)
                return status;
        r = sd_bus_message_append(m, "sb", document_string(c, "AutoScalingConfigurationArn"),
                                  (int)document_boolean(c, "DeleteAllRevisions"));
        if (r < 0)
                return append_failed(c, r);
        status = call(c, m, &reply);
        if (status != 0)
                return status;
        status = read_reply(c, reply, "o", &path);
        if (status != 0)
                return status;

        return print_object(c, "AutoScalingConfiguration", path, AUTO_SCALING_CONFIGURATION_INTERFACE,
                            auto_scaling_configuration_from_properties, NULL);
}

static int append_auto_scaling_configuration_filter(Context *c, sd_bus_message *m) {
        return sd_bus_message_append(m, "sb", document_string(c, "AutoScalingConfigurationName"),
                                     (int)document_boolean_default(c, "LatestOnly", true));
}

static int verb_list_auto_scaling_configurations(Context *c) {
        return list_pages(c, "ListAutoScalingConfigurations", append_auto_scaling_configuration_filter,
                          "AutoScalingConfigurationSummaryList", SUMMARY_AUTO_SCALING_CONFIGURATION);
}

/* Connections. */

static int read_password(json_object *options) {
        _cleanup_free_ char *line = NULL;
        size_t size = 0;
        ssize_t n;

        n = getdelim(&line, &size, '\0', stdin);
        if (n < 0) {
                fprintf(stderr, "Failed to read the password from standard input: %s\n",
                        feof(stdin) ? "no input" : strerror(errno));
                return EXIT_USAGE;
        }
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                line[--n] = '\0';
        if (n == 0) {
                fprintf(stderr,
                        "Invalid value for --password-stdin: standard input contains an empty password.\n");
                return EXIT_USAGE;
        }

        json_object_object_add(options, "Password", json_object_new_string(line));
        explicit_bzero(line, (size_t)n);
        return 0;
}

static int verb_create_connection(Context *c) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        const char *path;
        int status, r;

        if (document_boolean(c, "PasswordStdin")) {
                status = read_password(c->options);
                if (status != 0)
                        return status;
        }

        status = new_manager_call(c, "CreateConnection", &m);
        if (status != 0)
                return status;
        r = sd_bus_message_append(m, "ss", document_string(c, "ConnectionName"),
                                  document_string(c, "ProviderType"));
        if (r >= 0)
                r = bus_append_options(m, c->options);
        if (r < 0)
                return append_failed(c, r);
        status = call(c, m, &reply);
        if (status != 0)
                return status;
        status = read_reply(c, reply, "o", &path);
        if (status != 0)
                return status;

        return print_object(c, "Connection", path, CONNECTION_INTERFACE, connection_from_properties, NULL);
}

static int append_connection_filter(Context *c, sd_bus_message *m) {
        return sd_bus_message_append(m, "s", document_string(c, "ConnectionName"));
}

static int verb_list_connections(Context *c) {
        return list_pages(c, "ListConnections", append_connection_filter, "ConnectionSummaryList",
                          SUMMARY_CONNECTION);
}

static int verb_delete_connection(Context *c) {
        return call_and_print_object(c, "DeleteConnection", document_string(c, "ConnectionArn"),
                                     "Connection", CONNECTION_INTERFACE, connection_from_properties);
}

/* Waiters. A waiter watches PropertiesChanged of the object and also
 * checks every --delay seconds, so it notices a change as soon as it is signalled and still
 * works when a signal is lost. */

static uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

typedef enum WaitState {
        WAIT_PENDING,
        WAIT_SUCCESS,
        WAIT_FAILURE,
} WaitState;

static const char *props_string(json_object *props, const char *name) {
        json_object *v = NULL;

        if (!json_object_object_get_ex(props, name, &v) || !json_object_is_type(v, json_type_string))
                return "";
        return json_object_get_string(v);
}

static bool string_in(const char *s, const char *const *list) {
        for (; *list; list++)
                if (streq(s, *list))
                        return true;
        return false;
}

/* Returns the StatusMessage of a service's newest operation, or NULL. */
static char *latest_operation_message(Context *c, const char *service) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        json_object *rows = NULL, *props = NULL;
        char *message = NULL;

        if (sd_bus_call_method(c->bus, APPRUNNER_BUS_NAME, APPRUNNER_MANAGER_PATH,
                               APPRUNNER_MANAGER_INTERFACE, "ListOperations", NULL, &reply, "sus", service,
                               1, "") < 0)
                return NULL;
        if (bus_message_read_json(reply, &rows) <= 0)
                return NULL;

        json_object *first = json_object_array_get_idx(rows, 0);
        json_object *id = first ? json_object_array_get_idx(first, 0) : NULL;
        if (id) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *get_reply = NULL;
                const char *p;

                if (sd_bus_call_method(c->bus, APPRUNNER_BUS_NAME, APPRUNNER_MANAGER_PATH,
                                       APPRUNNER_MANAGER_INTERFACE, "GetOperation", NULL, &get_reply, "s",
                                       json_object_get_string(id)) >= 0 &&
                    sd_bus_message_read(get_reply, "o", &p) >= 0 &&
                    bus_get_all_properties(c->bus, p, OPERATION_INTERFACE, NULL, &props) >= 0) {
                        const char *text = props_string(props, "StatusMessage");
                        if (text[0] != '\0')
                                message = strdup(text);
                        json_object_put(props);
                }
        }
        json_object_put(rows);
        return message;
}

static WaitState check_service_running(Context *c, json_object *props) {
        static const char *const failed[] = {"CREATE_FAILED", "DELETE_FAILED", "DELETED", "PAUSED", NULL};
        const char *status = props_string(props, "Status");

        if (streq(status, "RUNNING"))
                return WAIT_SUCCESS;
        if (!string_in(status, failed))
                return WAIT_PENDING;

        _cleanup_free_ char *reason = latest_operation_message(c, props_string(props, "ServiceArn"));
        fprintf(stderr, "Waiter ServiceRunning failed: service %s has status %s%s%s\n",
                props_string(props, "ServiceName"), status, reason ? ": " : ".", strempty(reason));
        return WAIT_FAILURE;
}

static WaitState check_operation_complete(Context *c, json_object *props) {
        static const char *const failed[] = {"FAILED", "ROLLBACK_SUCCEEDED", "ROLLBACK_FAILED", NULL};
        const char *status = props_string(props, "Status");
        const char *message = props_string(props, "StatusMessage");

        if (streq(status, "SUCCEEDED"))
                return WAIT_SUCCESS;
        if (!string_in(status, failed))
                return WAIT_PENDING;

        fprintf(stderr, "Waiter OperationComplete failed: operation %s (%s) ended with status %s%s%s\n",
                props_string(props, "Id"), props_string(props, "Type"), status, message[0] ? ": " : ".",
                message);
        return WAIT_FAILURE;
}

static int wait_for(Context *c, const char *path, const char *interface,
                    WaitState (*check)(Context *c, json_object *props)) {
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        uint64_t timeout = document_uint32(c, "Timeout", WAIT_TIMEOUT_DEFAULT_SEC) * 1000000ULL;
        uint64_t delay = MAX(document_uint32(c, "Delay", WAIT_DELAY_DEFAULT_SEC), 1U) * 1000000ULL;
        uint64_t deadline = now_usec() + timeout;
        int r;

        r = sd_bus_match_signal(c->bus, &slot, APPRUNNER_BUS_NAME, path, "org.freedesktop.DBus.Properties",
                                "PropertiesChanged", NULL, NULL);
        if (r < 0)
                fprintf(stderr,
                        "Note: cannot watch %s for changes (%s), checking every %" PRIu64 " s instead.\n",
                        path, strerror(-r), delay / 1000000);

        for (;;) {
                json_object *props = NULL;
                int status = get_properties(c, path, interface, &props);
                if (status != 0)
                        return status;

                WaitState state = check(c, props);
                json_object_put(props);
                if (state == WAIT_SUCCESS)
                        return 0;
                if (state == WAIT_FAILURE)
                        return EXIT_OTHER_FAILURE;

                uint64_t now = now_usec();
                if (now >= deadline) {
                        fprintf(stderr, "Waiter %s failed: timed out after %" PRIu64 " s.\n",
                                c->shape->operation, timeout / 1000000);
                        return EXIT_OTHER_FAILURE;
                }

                /* Signals that arrived during the check count as a change. */
                bool changed = false;
                while ((r = sd_bus_process(c->bus, NULL)) > 0)
                        changed = true;
                if (r < 0) {
                        fprintf(stderr, "Failed to read from the bus: %s\n", strerror(-r));
                        return EXIT_OTHER_FAILURE;
                }
                if (changed)
                        continue;

                r = sd_bus_wait(c->bus, MIN(delay, deadline - now));
                if (r < 0 && r != -EINTR) {
                        fprintf(stderr, "Failed to wait on the bus: %s\n", strerror(-r));
                        return EXIT_OTHER_FAILURE;
                }
        }
}

static int verb_wait_service_running(Context *c) {
        _cleanup_free_ char *path = NULL;
        int status;

        status = get_service_path(c, document_string(c, "ServiceArn"), &path);
        if (status != 0)
                return status;
        return wait_for(c, path, SERVICE_INTERFACE, check_service_running);
}

static int verb_wait_operation_complete(Context *c) {
        _cleanup_free_ char *path = NULL;
        int status;

        status = get_operation_path(c, document_string(c, "OperationId"), &path);
        if (status != 0)
                return status;
        return wait_for(c, path, OPERATION_INTERFACE, check_operation_complete);
}

static const struct {
        const char *verb;
        int (*run)(Context *c);
} verbs[] = {
        {"create-service", verb_create_service},
        {"describe-service", verb_describe_service},
        {"list-services", verb_list_services},
        {"update-service", verb_update_service},
        {"delete-service", verb_delete_service},
        {"pause-service", verb_pause_service},
        {"resume-service", verb_resume_service},
        {"start-deployment", verb_start_deployment},
        {"list-operations", verb_list_operations},
        {"describe-operation", verb_describe_operation},
        {"check-for-image-update", verb_check_for_image_update},
        {"list-instances", verb_list_instances},
        {"create-auto-scaling-configuration", verb_create_auto_scaling_configuration},
        {"describe-auto-scaling-configuration", verb_describe_auto_scaling_configuration},
        {"list-auto-scaling-configurations", verb_list_auto_scaling_configurations},
        {"delete-auto-scaling-configuration", verb_delete_auto_scaling_configuration},
        {"update-default-auto-scaling-configuration", verb_update_default_auto_scaling_configuration},
        {"create-connection", verb_create_connection},
        {"list-connections", verb_list_connections},
        {"delete-connection", verb_delete_connection},
        {"wait service-running", verb_wait_service_running},
        {"wait operation-complete", verb_wait_operation_complete},
};

/* Command line. */

enum {
        OPT_CLI_INPUT_JSON = 0x100,
        OPT_OUTPUT,
        OPT_BUS_ADDRESS,
        OPT_VERSION,
        OPT_NO_CLI_PAGER,
        /* Each top-level field i gets OPT_FIELD + 2i, and OPT_FIELD + 2i + 1 for its --no- form. */
        OPT_FIELD = 0x200,
};

static const struct option global_options[] = {
        {"output", required_argument, NULL, OPT_OUTPUT},
        {"bus-address", required_argument, NULL, OPT_BUS_ADDRESS},
        {"no-cli-pager", no_argument, NULL, OPT_NO_CLI_PAGER},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, OPT_VERSION},
};

static void print_wrapped(const char *text, unsigned column, unsigned width) {
        unsigned position = column;
        const char *word = text;

        printf("%*s", (int)column, "");
        while (*word) {
                size_t length = strcspn(word, " ");
                if (position > column && position + 1 + length > width) {
                        printf("\n%*s", (int)column, "");
                        position = column;
                } else if (position > column) {
                        putchar(' ');
                        position++;
                }
                printf("%.*s", (int)length, word);
                position += (unsigned)length;
                word += length;
                word += strspn(word, " ");
        }
        putchar('\n');
}

static void print_option_help(const char *option, const char *metavar, const char *help) {
        printf("  %s%s%s\n", option, metavar ? " " : "", strempty(metavar));
        print_wrapped(help, 8, 100);
}

static void help_global_options(void) {
        print_option_help("--output FORMAT", NULL,
                          "output format: json (the default, as the AWS CLI prints it) "
                          "or text (tab-separated)");
        print_option_help("--bus-address ADDRESS", NULL,
                          "D-Bus address to connect to instead of the system bus; the environment variable "
                          "APPRUNNER_BUS_ADDRESS sets it too");
        print_option_help("-h, --help", NULL, "show this help");
}

static void help_verb(const RequestShape *shape) {
        printf("Usage: apprunnerctl %s [OPTIONS]\n\n", shape->verb);
        print_wrapped(shape->summary, 0, 100);
        printf("\nOptions:\n");

        for (const Field *f = shape->fields; f->name; f++) {
                _cleanup_free_ char *help = NULL;

                if (!f->option)
                        continue;
                if (asprintf(&help, "%s (%s%s)", f->help, f->name, f->required ? ", required" : "") < 0)
                        return;
                if (f->type == FIELD_BOOLEAN) {
                        _cleanup_free_ char *both = NULL;
                        if (asprintf(&both, "%s | --no-%s", f->option, f->option + 2) < 0)
                                return;
                        print_option_help(both, NULL, help);
                } else
                        print_option_help(f->option, f->metavar, help);
        }

        _cleanup_free_ char *input_help = NULL;
        if (asprintf(&input_help,
                     "App Runner's %s request document, as JSON or file://PATH; options given as well "
                     "replace "
                     "the members of the same name",
                     shape->operation) >= 0)
                print_option_help("--cli-input-json", "JSON", input_help);
        help_global_options();
}

static void help(void) {
        printf("Usage: apprunnerctl [OPTIONS] COMMAND [COMMAND OPTIONS]\n\n"
               "Manage the App Runner-style web services of apprunnerd. Commands and options follow\n"
               "\"aws apprunner\" of the AWS CLI v2; responses print in App Runner's JSON shapes.\n\n"
               "Commands:\n");
        for (const RequestShape *s = request_shapes; s->verb; s++) {
                printf("  %s\n", s->verb);
                print_wrapped(s->summary, 8, 100);
        }
        printf("\nOptions:\n");
        help_global_options();
        print_option_help("--version", NULL, "show the version");
        printf("\n\"apprunnerctl COMMAND --help\" lists the options of a command.\n"
               "Exit status: 0 on success, 252 for an invalid command line, 254 for an error returned by\n"
               "apprunnerd, 255 for any other failure.\n");
}

static int parse_global_option(int c, const char *value) {
        switch (c) {
        case OPT_OUTPUT:
                if (streq(value, "json"))
                        arg_output = OUTPUT_JSON;
                else if (streq(value, "text"))
                        arg_output = OUTPUT_TEXT;
                else {
                        fprintf(stderr, "Invalid value for --output: \"%s\": expected json or text%s.\n",
                                value, streq(value, "table") ? " (apprunnerctl has no table output)" : "");
                        return EXIT_USAGE;
                }
                return 0;
        case OPT_BUS_ADDRESS:
                arg_bus_address = value;
                return 0;
        case OPT_NO_CLI_PAGER:
                /* apprunnerctl never pipes into a pager; accepted for scripts written for the AWS CLI. */
                return 0;
        }
        return -1;
}

static int usage_error(const char *format, ...) _printf_(1, 2);
static int usage_error(const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        vfprintf(stderr, format, ap);
        va_end(ap);
        fprintf(stderr, "\nRun \"apprunnerctl %s%s--help\" for usage.\n", strempty(arg_verb),
                arg_verb ? " " : "");
        return EXIT_USAGE;
}

/* Parses the options of a subcommand into c->document and flattens it.
 * argv[0] is the subcommand. Returns an exit status, or -1 after printing
 * help. */
static int parse_verb_arguments(Context *c, int argc, char *argv[]) {
        size_t n_fields = 0, n = 0;
        json_object *overrides = NULL, *input = NULL;
        _cleanup_free_ struct option *options = NULL;
        _cleanup_free_ char *error = NULL;
        int opt, status = 0, r;

        for (const Field *f = c->shape->fields; f->name; f++)
                n_fields++;

        /* Each field may need two entries (its --no- form), plus --cli-input-json, the global options and
         * the terminating zero entry. */
        options = calloc(2 * n_fields + ELEMENTSOF(global_options) + 2, sizeof(struct option));
        _cleanup_strv_free_ char **names = calloc(n_fields + 1, sizeof(char *));
        if (!options || !names)
                return EXIT_OTHER_FAILURE;

        for (size_t i = 0; i < n_fields; i++) {
                const Field *f = &c->shape->fields[i];

                if (!f->option)
                        continue;
                bool flag = f->type == FIELD_BOOLEAN;
                options[n++] = (struct option){f->option + 2, flag ? no_argument : required_argument, NULL,
                                               OPT_FIELD + 2 * (int)i};
                if (flag) {
                        if (asprintf(&names[i], "no-%s", f->option + 2) < 0)
                                return EXIT_OTHER_FAILURE;
                        options[n++] =
                                (struct option){names[i], no_argument, NULL, OPT_FIELD + 2 * (int)i + 1};
                }
        }
        options[n++] = (struct option){"cli-input-json", required_argument, NULL, OPT_CLI_INPUT_JSON};
        for (size_t i = 0; i < ELEMENTSOF(global_options); i++)
                options[n++] = global_options[i];

        overrides = json_object_new_object();
        if (!overrides)
                return EXIT_OTHER_FAILURE;

        optind = 0;
        while ((opt = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                if (opt == 'h') {
                        help_verb(c->shape);
                        status = -1;
                        goto finish;
                }
                if (opt == '?') {
                        status =
                                usage_error("Invalid command line for \"apprunnerctl %s\".", c->shape->verb);
                        goto finish;
                }
                if (opt == OPT_VERSION) {
                        printf("apprunnerctl %s\n", PACKAGE_VERSION);
                        status = -1;
                        goto finish;
                }
                if (opt == OPT_CLI_INPUT_JSON) {
                        json_object_put(input);
                        input = NULL;
                        r = json_argument_parse("--cli-input-json", optarg, &input, &error);
                        if (r < 0) {
                                status = usage_error("%s", error ?: strerror(-r));
                                goto finish;
                        }
                        continue;
                }
                if (opt >= OPT_FIELD) {
                        const Field *f = &c->shape->fields[(opt - OPT_FIELD) / 2];
                        bool negated = (opt - OPT_FIELD) % 2 == 1;
                        json_object *value = NULL;

                        const char *text = optarg;
                        if (f->type == FIELD_BOOLEAN)
                                text = negated ? "false" : "true";
                        r = request_option_value(f, text, &value, &error);
                        if (r < 0) {
                                status = usage_error("%s", error ?: strerror(-r));
                                goto finish;
                        }
                        json_object_object_add(overrides, f->name, value);
                        continue;
                }
                status = parse_global_option(opt, optarg);
                if (status != 0)
                        goto finish;
        }

        if (optind < argc) {
                status = usage_error("Unknown options: %s", argv[optind]);
                goto finish;
        }

        if (!input)
                input = json_object_new_object();
        if (!json_object_is_type(input, json_type_object)) {
                status = usage_error(
                        "Invalid value for --cli-input-json: expected a JSON object with the members "
                        "of App Runner's %s request.",
                        c->shape->operation);
                goto finish;
        }
        json_object_object_foreach(overrides, key, value)
                json_object_object_add(input, key, json_object_get(value));

        r = request_flatten(c->shape, input, stderr, &c->options, &error);
        if (r < 0) {
                status = usage_error("%s", error ?: strerror(-r));
                goto finish;
        }
        c->document = TAKE_PTR(input);

finish:
        json_object_put(input);
        json_object_put(overrides);
        return status;
}

static int connect_bus(Context *c) {
        const char *address = arg_bus_address ?: getenv("APPRUNNER_BUS_ADDRESS");
        int r;

        if (address && address[0] != '\0') {
                r = sd_bus_new(&c->bus);
                if (r >= 0)
                        r = sd_bus_set_address(c->bus, address);
                if (r >= 0)
                        r = sd_bus_set_bus_client(c->bus, 1);
                if (r >= 0)
                        r = sd_bus_start(c->bus);
        } else {
                address = NULL;
                r = sd_bus_open_system(&c->bus);
        }
        if (r < 0) {
                _cleanup_free_ char *message = bus_connect_error_message(address, r);
                fprintf(stderr, "%s\n", message ?: "Out of memory.");
                return EXIT_OTHER_FAILURE;
        }
        return 0;
}

int main(int argc, char *argv[]) {
        _cleanup_free_ char *verb = NULL;
        Context c = {};
        int opt, status;

        static const struct option leading_options[] = {
                {"output", required_argument, NULL, OPT_OUTPUT},
                {"bus-address", required_argument, NULL, OPT_BUS_ADDRESS},
                {"no-cli-pager", no_argument, NULL, OPT_NO_CLI_PAGER},
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, OPT_VERSION},
                {},
        };

        /* Options before the subcommand; "+" stops at the first non-option. */
        while ((opt = getopt_long(argc, argv, "+h", leading_options, NULL)) >= 0) {
                if (opt == 'h') {
                        help();
                        return 0;
                }
                if (opt == OPT_VERSION) {
                        printf("apprunnerctl %s\n", PACKAGE_VERSION);
                        return 0;
                }
                if (opt == '?')
                        return usage_error("Invalid command line.");
                status = parse_global_option(opt, optarg);
                if (status != 0)
                        return status;
        }

        if (optind >= argc)
                return usage_error("Missing command.");

        int verb_index = optind;
        if (streq(argv[verb_index], "help")) {
                help();
                return 0;
        }
        if (streq(argv[verb_index], "wait")) {
                if (verb_index + 1 >= argc || argv[verb_index + 1][0] == '-')
                        return usage_error("Missing waiter name after \"wait\": service-running or "
                                           "operation-complete.");
                verb_index++;
                if (asprintf(&verb, "wait %s", argv[verb_index]) < 0)
                        return EXIT_OTHER_FAILURE;
        } else
                verb = strdup(argv[verb_index]);
        if (!verb)
                return EXIT_OTHER_FAILURE;

        c.shape = request_shape_find(verb);
        if (!c.shape)
                return usage_error("Invalid command \"%s\".", verb);
        arg_verb = verb;

        status = parse_verb_arguments(&c, argc - verb_index, argv + verb_index);
        if (status != 0) {
                context_done(&c);
                return status < 0 ? 0 : status;
        }

        status = connect_bus(&c);
        if (status == 0) {
                status = EXIT_OTHER_FAILURE;
                for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                        if (streq(verbs[i].verb, verb)) {
                                status = verbs[i].run(&c);
                                break;
                        }
        }

        context_done(&c);
        return status;
}
