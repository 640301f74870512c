/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests of daemon/core/serialize.c: every resource survives a round trip
 * through JSON text with all fields, and a document with a missing
 * required field or a value out of range is rejected with -EBADMSG. */

#include <arpa/inet.h>

#include "core-test.h"
#include "core/serialize.h"
#include "core/validate.h"

#define SERVICE_ID   "0123456789abcdef0123456789abcdef"
#define OPERATION_ID "6f1c2b7e-4a5d-4e8f-9a0b-1c2d3e4f5a6b"
#define DIGEST       "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define DIGEST_OLD   "sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define SCALING_ARN                                                                 \
        "arn:aws:apprunner:us-east-1:000000000000:autoscalingconfiguration/high/3/" \
        "89abcdef0123456789abcdef01234567"

static void json_object_putp(json_object **o) {
        json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_object_putp)

static char *xstrdup(const char *s) {
        char *t = strdup(s);
        ASSERT(t);
        return t;
}

/* Serializes to text and parses it again, so that the round trip covers
 * what the store writes to disk and not only the in-memory tree. */
static json_object *through_text(json_object *doc) {
        const char *text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY);
        json_object *parsed;

        ASSERT(text);
        parsed = json_tokener_parse(text);
        ASSERT(parsed);
        return parsed;
}

static void full_spec(ServiceSpec *s) {
        *s = (ServiceSpec){
                .image_identifier = xstrdup("registry.example.com:5000/team/app:v2"),
                .image_repository_type = xstrdup("REGISTRY"),
                .port = xstrdup("3000"),
                .start_command = xstrdup("/app/server --listen 0.0.0.0:3000"),
                .auto_deployments_enabled = true,
                .connection_arn = xstrdup("arn:aws:apprunner:us-east-1:000000000000:connection/registry/"
                                          "fedcba9876543210fedcba9876543210"),
                .cpu = 2048,
                .memory = 6144,
                .health_protocol = HEALTH_CHECK_HTTP,
                .health_path = xstrdup("/healthz?deep=1"),
                .health_interval = 10,
                .health_timeout = 4,
                .healthy_threshold = 3,
                .unhealthy_threshold = 7,
                .auto_scaling_configuration_arn = xstrdup(SCALING_ARN),
                .request_timeout = 300,
        };
        s->environment = calloc(4, sizeof(char *));
        ASSERT(s->environment);
        s->environment[0] = xstrdup("GREETING=hello world");
        s->environment[1] = xstrdup("DATABASE_URL=postgres://db/x?a=b");
        s->environment[2] = xstrdup("EMPTY=");
}

static void assert_spec_equal(const ServiceSpec *a, const ServiceSpec *b) {
        size_t n = 0;

        ASSERT_STR_EQ(a->image_identifier, b->image_identifier);
        ASSERT_STR_EQ(a->image_repository_type, b->image_repository_type);
        ASSERT_STR_EQ(a->port, b->port);
        ASSERT_STR_EQ(a->start_command, b->start_command);
        ASSERT_INT_EQ(a->auto_deployments_enabled, b->auto_deployments_enabled);
        ASSERT_STR_EQ(a->connection_arn, b->connection_arn);
        ASSERT_INT_EQ(a->cpu, b->cpu);
        ASSERT_INT_EQ(a->memory, b->memory);
        ASSERT_INT_EQ(a->health_protocol, b->health_protocol);
        ASSERT_STR_EQ(a->health_path, b->health_path);
        ASSERT_INT_EQ(a->health_interval, b->health_interval);
        ASSERT_INT_EQ(a->health_timeout, b->health_timeout);
        ASSERT_INT_EQ(a->healthy_threshold, b->healthy_threshold);
        ASSERT_INT_EQ(a->unhealthy_threshold, b->unhealthy_threshold);
        ASSERT_STR_EQ(a->auto_scaling_configuration_arn, b->auto_scaling_configuration_arn);
        ASSERT_INT_EQ(a->request_timeout, b->request_timeout);

        /* An empty environment may come back as NULL or as an empty list. */
        STRV_FOREACH (e, a->environment) {
                ASSERT(b->environment);
                ASSERT_STR_EQ(*e, b->environment[n]);
                n++;
        }
        ASSERT(!b->environment || !b->environment[n]);
}

static Instance *new_instance(const char *id, const char *address, uint16_t port, unsigned generation) {
        Instance *i = calloc(1, sizeof(Instance));

        ASSERT(i);
        i->id = xstrdup(id);
        ASSERT(asprintf(&i->unit, "apprunner-my\\x2dservice@%s.service", id) > 0);
        i->image_digest = xstrdup(DIGEST);
        ASSERT_INT_EQ(inet_pton(AF_INET, address, &i->address), 1);
        i->port = port;
        i->generation = generation;
        i->state = INSTANCE_HEALTHY;
        return i;
}

static Service *full_service(void) {
        Service *s = calloc(1, sizeof(Service));

        ASSERT(s);
        s->id = xstrdup(SERVICE_ID);
        s->name = xstrdup("my-service");
        s->arn = xstrdup("arn:aws:apprunner:us-east-1:000000000000:service/my-service/" SERVICE_ID);
        s->url_id = xstrdup("abcde12345");
        s->status = SERVICE_OPERATION_IN_PROGRESS;
        s->created_at = 1700000000000001;
        s->updated_at = 1700000000000002;
        s->deleted_at = 0;
        full_spec(&s->spec);
        s->image_digest = xstrdup(DIGEST);
        s->image_source_digest = xstrdup(DIGEST_OLD);
        s->previous_image_digest = xstrdup(DIGEST_OLD);
        s->operation_id = xstrdup(OPERATION_ID);
        s->generation = 4;
        s->instances = new_instance("0123456789ab", "10.88.0.2", 3000, 4);
        s->instances->service = s;
        s->instances->next = new_instance("ba9876543210", "10.88.255.254", 65535, 3);
        s->instances->next->service = s;
        return s;
}

static void assert_instance_equal(const Instance *a, const Instance *b) {
        ASSERT_STR_EQ(a->id, b->id);
        ASSERT_STR_EQ(a->unit, b->unit);
        ASSERT_STR_EQ(a->image_digest, b->image_digest);
        ASSERT_INT_EQ(a->address.s_addr, b->address.s_addr);
        ASSERT_INT_EQ(a->port, b->port);
        ASSERT_INT_EQ(a->generation, b->generation);
}

static void assert_service_equal(const Service *a, const Service *b) {
        const Instance *x, *y;

        ASSERT_STR_EQ(a->id, b->id);
        ASSERT_STR_EQ(a->name, b->name);
        ASSERT_STR_EQ(a->arn, b->arn);
        ASSERT_STR_EQ(a->url_id, b->url_id);
        ASSERT_INT_EQ(a->status, b->status);
        ASSERT(a->created_at == b->created_at);
        ASSERT(a->updated_at == b->updated_at);
        ASSERT(a->deleted_at == b->deleted_at);
        ASSERT_STR_EQ(a->image_digest, b->image_digest);
        ASSERT_STR_EQ(a->image_source_digest, b->image_source_digest);
        ASSERT_STR_EQ(a->previous_image_digest, b->previous_image_digest);
        ASSERT_STR_EQ(a->operation_id, b->operation_id);
        ASSERT_INT_EQ(a->generation, b->generation);
        assert_spec_equal(&a->spec, &b->spec);

        /* Instances keep their order and point back to their service. */
        for (x = a->instances, y = b->instances; x && y; x = x->next, y = y->next) {
                assert_instance_equal(x, y);
                ASSERT(y->service == b);
        }
        ASSERT(!x);
        ASSERT(!y);
}

static Service *service_round_trip(const Service *s) {
        _cleanup_json_ json_object *doc = NULL, *parsed = NULL;
        Service *copy = NULL;

        ASSERT_INT_EQ(service_to_json(s, &doc), 0);
        parsed = through_text(doc);
        ASSERT_INT_EQ(service_from_json(parsed, &copy), 0);
        ASSERT(copy);
        return copy;
}

static void test_service_round_trip(void) {
        Service *s = full_service(), *copy;

        copy = service_round_trip(s);
        assert_service_equal(s, copy);
        service_free(copy);

        /* Optional fields left unset stay unset. */
        s->status = SERVICE_RUNNING;
        ASSERT_INT_EQ(free_and_strdup(&s->previous_image_digest, NULL), 0);
        ASSERT_INT_EQ(free_and_strdup(&s->operation_id, NULL), 0);
        ASSERT_INT_EQ(free_and_strdup(&s->spec.start_command, NULL), 0);
        ASSERT_INT_EQ(free_and_strdup(&s->spec.connection_arn, NULL), 0);
        s->spec.environment = strv_free(s->spec.environment);
        s->spec.auto_deployments_enabled = false;
        s->spec.health_protocol = HEALTH_CHECK_TCP;
        while (s->instances) {
                Instance *next = s->instances->next;
                instance_free(s->instances);
                s->instances = next;
        }
        copy = service_round_trip(s);
        assert_service_equal(s, copy);
        ASSERT(!copy->operation_id);
        ASSERT(!copy->spec.start_command);
        ASSERT(!copy->instances);
        service_free(copy);

        /* Every status survives. */
        for (ServiceStatus st = 0; st < _SERVICE_STATUS_MAX; st++) {
                s->status = st;
                copy = service_round_trip(s);
                ASSERT_INT_EQ(copy->status, st);
                service_free(copy);
        }
        service_free(s);
}

static void test_spec_round_trip(void) {
        ServiceSpec s, copy = {};
        _cleanup_json_ json_object *doc = NULL, *parsed = NULL;

        full_spec(&s);
        ASSERT_INT_EQ(service_spec_to_json(&s, &doc), 0);
        parsed = through_text(doc);
        ASSERT_INT_EQ(service_spec_from_json(parsed, &copy), 0);
        assert_spec_equal(&s, &copy);
        service_spec_done(&copy);
        service_spec_done(&s);
}

static Operation *full_operation(bool with_spec) {
        Operation *o = calloc(1, sizeof(Operation));

        ASSERT(o);
        o->id = xstrdup(OPERATION_ID);
        o->type = with_spec ? OPERATION_UPDATE_SERVICE : OPERATION_PAUSE_SERVICE;
        o->status = with_spec ? OPERATION_IN_PROGRESS : OPERATION_FAILED;
        o->target_arn = xstrdup("arn:aws:apprunner:us-east-1:000000000000:service/my-service/" SERVICE_ID);
        o->service_id = xstrdup(SERVICE_ID);
        o->started_at = 1700000000000001;
        o->ended_at = with_spec ? 0 : 1700000000000005;
        o->updated_at = 1700000000000003;
        o->status_message =
                with_spec ? NULL : xstrdup("Instance failed its health check: \"GET /\" timed out.");
        if (with_spec) {
                o->spec = calloc(1, sizeof(ServiceSpec));
                ASSERT(o->spec);
                full_spec(o->spec);
        }
        return o;
}

static void test_operation_round_trip(void) {
        for (int with_spec = 0; with_spec <= 1; with_spec++) {
                Operation *o = full_operation(with_spec), *copy = NULL;
                _cleanup_json_ json_object *doc = NULL, *parsed = NULL;

                ASSERT_INT_EQ(operation_to_json(o, &doc), 0);
                parsed = through_text(doc);
                ASSERT_INT_EQ(operation_from_json(parsed, &copy), 0);

                ASSERT_STR_EQ(copy->id, o->id);
                ASSERT_INT_EQ(copy->type, o->type);
                ASSERT_INT_EQ(copy->status, o->status);
                ASSERT_STR_EQ(copy->target_arn, o->target_arn);
                ASSERT_STR_EQ(copy->service_id, o->service_id);
                ASSERT(copy->started_at == o->started_at);
                ASSERT(copy->ended_at == o->ended_at);
                ASSERT(copy->updated_at == o->updated_at);
                ASSERT_STR_EQ(copy->status_message, o->status_message);
                if (with_spec) {
                        ASSERT(copy->spec);
                        assert_spec_equal(o->spec, copy->spec);
                } else
                        ASSERT(!copy->spec);

                operation_free(copy);
                operation_free(o);
        }

        /* Every type and status survives. */
        for (OperationType t = 0; t < _OPERATION_TYPE_MAX; t++)
                for (OperationStatus st = 0; st < _OPERATION_STATUS_MAX; st++) {
                        Operation *o = full_operation(false), *copy = NULL;
                        _cleanup_json_ json_object *doc = NULL;

                        o->type = t;
                        o->status = st;
                        ASSERT_INT_EQ(operation_to_json(o, &doc), 0);
                        ASSERT_INT_EQ(operation_from_json(doc, &copy), 0);
                        ASSERT_INT_EQ(copy->type, t);
                        ASSERT_INT_EQ(copy->status, st);
                        operation_free(copy);
                        operation_free(o);
                }
}

static AutoScalingConfiguration *full_auto_scaling(void) {
        AutoScalingConfiguration *c = calloc(1, sizeof(AutoScalingConfiguration));

        ASSERT(c);
        c->id = xstrdup("89abcdef0123456789abcdef01234567");
        c->arn = xstrdup(SCALING_ARN);
        c->name = xstrdup("high");
        c->revision = 3;
        c->active = true;
        c->max_concurrency = 200;
        c->min_size = 2;
        c->max_size = 25;
        c->created_at = 1700000000000001;
        c->deleted_at = 0;
        c->is_default = true;
        return c;
}

static void test_auto_scaling_round_trip(void) {
        for (int variant = 0; variant < 2; variant++) {
                AutoScalingConfiguration *c = full_auto_scaling(), *copy = NULL;
                _cleanup_json_ json_object *doc = NULL, *parsed = NULL;

                if (variant == 1) {
                        /* A deleted revision. */
                        c->active = false;
                        c->is_default = false;
                        c->deleted_at = 1700000000000009;
                        c->min_size = 1;
                        c->max_size = 1;
                        c->max_concurrency = 1;
                }
                ASSERT_INT_EQ(auto_scaling_configuration_to_json(c, &doc), 0);
                parsed = through_text(doc);
                ASSERT_INT_EQ(auto_scaling_configuration_from_json(parsed, &copy), 0);

                ASSERT_STR_EQ(copy->id, c->id);
                ASSERT_STR_EQ(copy->arn, c->arn);
                ASSERT_STR_EQ(copy->name, c->name);
                ASSERT_INT_EQ(copy->revision, c->revision);
                ASSERT_INT_EQ(copy->active, c->active);
                ASSERT_INT_EQ(copy->max_concurrency, c->max_concurrency);
                ASSERT_INT_EQ(copy->min_size, c->min_size);
                ASSERT_INT_EQ(copy->max_size, c->max_size);
                ASSERT(copy->created_at == c->created_at);
                ASSERT(copy->deleted_at == c->deleted_at);
                ASSERT_INT_EQ(copy->is_default, c->is_default);

                auto_scaling_configuration_free(copy);
                auto_scaling_configuration_free(c);
        }
}

static Connection *full_connection(void) {
        Connection *c = calloc(1, sizeof(Connection));

        ASSERT(c);
        c->id = xstrdup("fedcba9876543210fedcba9876543210");
        c->arn = xstrdup("arn:aws:apprunner:us-east-1:000000000000:connection/registry/"
                         "fedcba9876543210fedcba9876543210");
        c->name = xstrdup("registry");
        c->provider_type = xstrdup("REGISTRY");
        c->username = xstrdup("robot$ci");
        c->created_at = 1700000000000001;
        return c;
}

static void test_connection_round_trip(void) {
        Connection *c = full_connection(), *copy = NULL;
        _cleanup_json_ json_object *doc = NULL, *parsed = NULL;

        ASSERT_INT_EQ(connection_to_json(c, &doc), 0);
        parsed = through_text(doc);
        ASSERT_INT_EQ(connection_from_json(parsed, &copy), 0);
        ASSERT_STR_EQ(copy->id, c->id);
        ASSERT_STR_EQ(copy->arn, c->arn);
        ASSERT_STR_EQ(copy->name, c->name);
        ASSERT_STR_EQ(copy->provider_type, c->provider_type);
        ASSERT_STR_EQ(copy->username, c->username);
        ASSERT(copy->created_at == c->created_at);
        /* The secret is not part of the document. */
        ASSERT(!json_object_object_get_ex(doc, "Password", NULL));

        connection_free(copy);
        connection_free(c);
}

/* Rejection tests. A case names a field by a path of object keys and
 * array indexes ("Spec/Cpu", "Instances/0/Port") and the JSON text that
 * replaces it, or NULL to remove the field. */

typedef enum Kind {
        KIND_SERVICE,
        KIND_OPERATION,
        KIND_AUTO_SCALING,
        KIND_CONNECTION,
} Kind;

typedef struct BadCase {
        Kind kind;
        const char *path;
        const char *value; /* JSON text, NULL to remove the field */
} BadCase;

static json_object *valid_doc(Kind kind) {
        json_object *doc = NULL;

        switch (kind) {
        case KIND_SERVICE: {
                Service *s = full_service();
                ASSERT_INT_EQ(service_to_json(s, &doc), 0);
                service_free(s);
                break;
        }
        case KIND_OPERATION: {
                Operation *o = full_operation(true);
                ASSERT_INT_EQ(operation_to_json(o, &doc), 0);
                operation_free(o);
                break;
        }
        case KIND_AUTO_SCALING: {
                AutoScalingConfiguration *c = full_auto_scaling();
                ASSERT_INT_EQ(auto_scaling_configuration_to_json(c, &doc), 0);
                auto_scaling_configuration_free(c);
                break;
        }
        case KIND_CONNECTION: {
                Connection *c = full_connection();
                ASSERT_INT_EQ(connection_to_json(c, &doc), 0);
                connection_free(c);
                break;
        }
        }
        ASSERT(doc);
        return doc;
}

/* Parses the document of a kind, frees the result and returns the
 * *_from_json() result. */
static int parse_doc(Kind kind, json_object *doc) {
        int r;

        switch (kind) {
        case KIND_SERVICE: {
                Service *s = NULL;
                r = service_from_json(doc, &s);
                service_free(s);
                return r;
        }
        case KIND_OPERATION: {
                Operation *o = NULL;
                r = operation_from_json(doc, &o);
                operation_free(o);
                return r;
        }
        case KIND_AUTO_SCALING: {
                AutoScalingConfiguration *c = NULL;
                r = auto_scaling_configuration_from_json(doc, &c);
                auto_scaling_configuration_free(c);
                return r;
        }
        case KIND_CONNECTION: {
                Connection *c = NULL;
                r = connection_from_json(doc, &c);
                connection_free(c);
                return r;
        }
        }
        return -EINVAL;
}

/* Replaces (or removes) the field at path inside doc. */
static void set_field(json_object *doc, const char *path, const char *value) {
        _cleanup_free_ char *copy = xstrdup(path);
        char *key, *next, *saveptr = NULL;
        json_object *parent = doc;

        key = strtok_r(copy, "/", &saveptr);
        while ((next = strtok_r(NULL, "/", &saveptr))) {
                json_object *child;
                if (json_object_is_type(parent, json_type_array))
                        child = json_object_array_get_idx(parent, (size_t)atoi(key));
                else
                        ASSERT(json_object_object_get_ex(parent, key, &child));
                ASSERT(child);
                parent = child;
                key = next;
        }

        ASSERT(json_object_is_type(parent, json_type_object));
        if (!value) {
                ASSERT(json_object_object_get_ex(parent, key, NULL));
                json_object_object_del(parent, key);
        } else if (streq(value, "null")) {
                /* json-c represents a JSON null as a NULL object. */
                ASSERT_INT_EQ(json_object_object_add(parent, key, NULL), 0);
        } else {
                json_object *v = json_tokener_parse(value);
                ASSERT(v);
                ASSERT_INT_EQ(json_object_object_add(parent, key, v), 0);
        }
}

static const char *const kind_names[] = {"service", "operation", "auto scaling", "connection"};

static void test_rejects(void) {
        static const BadCase cases[] = {
                /* Service: required fields */
                {KIND_SERVICE, "ServiceId", NULL},
                {KIND_SERVICE, "ServiceName", NULL},
                {KIND_SERVICE, "ServiceArn", NULL},
                {KIND_SERVICE, "UrlLabel", NULL},
                {KIND_SERVICE, "Status", NULL},
                {KIND_SERVICE, "CreatedAt", NULL},
                {KIND_SERVICE, "Spec", NULL},
                {KIND_SERVICE, "Spec/ImageIdentifier", NULL},
                {KIND_SERVICE, "Spec/ImageRepositoryType", NULL},
                {KIND_SERVICE, "Spec/Port", NULL},
                {KIND_SERVICE, "Spec/Cpu", NULL},
                {KIND_SERVICE, "Spec/Memory", NULL},
                {KIND_SERVICE, "Spec/Protocol", NULL},
                {KIND_SERVICE, "Spec/Path", NULL},
                {KIND_SERVICE, "Spec/Interval", NULL},
                {KIND_SERVICE, "Spec/Timeout", NULL},
                {KIND_SERVICE, "Spec/HealthyThreshold", NULL},
                {KIND_SERVICE, "Spec/UnhealthyThreshold", NULL},
                {KIND_SERVICE, "Instances/0/InstanceId", NULL},
                {KIND_SERVICE, "Instances/0/Unit", NULL},
                {KIND_SERVICE, "Instances/0/Address", NULL},
                {KIND_SERVICE, "Instances/1/Port", NULL},

                /* Service: bad values */
                {KIND_SERVICE, "ServiceId", "\"0123\""},
                {KIND_SERVICE, "ServiceId", "\"0123456789ABCDEF0123456789ABCDEF\""},
                {KIND_SERVICE, "ServiceName", "\"abc\""},
                {KIND_SERVICE, "ServiceName", "\"-service\""},
                {KIND_SERVICE, "ServiceName", "42"},
                {KIND_SERVICE, "Status", "\"STOPPED\""},
                {KIND_SERVICE, "Status", "\"running\""},
                {KIND_SERVICE, "CreatedAt", "-1"},
                {KIND_SERVICE, "CreatedAt", "\"1700000000\""},
                {KIND_SERVICE, "CreatedAt", "1.5"},
                {KIND_SERVICE, "Generation", "-1"},
                {KIND_SERVICE, "Generation", "4294967296"},
                {KIND_SERVICE, "Spec", "[]"},
                {KIND_SERVICE, "Spec/Cpu", "300"},
                {KIND_SERVICE, "Spec/Cpu", "4294968320"}, /* 2^32 + 1024 */
                {KIND_SERVICE, "Spec/Memory", "512"},     /* not allowed with Cpu 2048 */
                {KIND_SERVICE, "Spec/Memory", "-6144"},
                {KIND_SERVICE, "Spec/Port", "\"0\""},
                {KIND_SERVICE, "Spec/Port", "\"65536\""},
                {KIND_SERVICE, "Spec/Port", "8080"},
                {KIND_SERVICE, "Spec/Protocol", "\"UDP\""},
                {KIND_SERVICE, "Spec/Path", "\"healthz\""},
                {KIND_SERVICE, "Spec/Interval", "0"},
                {KIND_SERVICE, "Spec/Interval", "21"},
                {KIND_SERVICE, "Spec/Timeout", "0"},
                {KIND_SERVICE, "Spec/Timeout", "21"},
                {KIND_SERVICE, "Spec/HealthyThreshold", "21"},
                {KIND_SERVICE, "Spec/UnhealthyThreshold", "0"},
                {KIND_SERVICE, "Spec/RequestTimeout", "0"},
                {KIND_SERVICE, "Spec/RequestTimeout", "3601"},
                {KIND_SERVICE, "Spec/ImageIdentifier", "\"Bad Image\""},
                {KIND_SERVICE, "Spec/ImageRepositoryType", "\"OCI_LAYOUT\""},
                {KIND_SERVICE, "Spec/RuntimeEnvironmentVariables", "[]"},
                {KIND_SERVICE, "Spec/RuntimeEnvironmentVariables", "{ \"PORT\": 1 }"},
                {KIND_SERVICE, "Spec/RuntimeEnvironmentVariables", "{ \"AWSAPPRUNNER_X\": \"1\" }"},
                {KIND_SERVICE, "Spec/AutoDeploymentsEnabled", "\"yes\""},
                {KIND_SERVICE, "Spec/StartCommand", "\"\""},
                {KIND_SERVICE, "Instances", "{}"},
                {KIND_SERVICE, "Instances/0/InstanceId", "\"0123\""},
                {KIND_SERVICE, "Instances/0/Address", "\"10.88.0.256\""},
                {KIND_SERVICE, "Instances/0/Address", "\"fd00::1\""},
                {KIND_SERVICE, "Instances/0/Port", "65536"},
                {KIND_SERVICE, "Instances/0/Port", "-1"},

                /* Operation */
                {KIND_OPERATION, "Id", NULL},
                {KIND_OPERATION, "Type", NULL},
                {KIND_OPERATION, "Status", NULL},
                {KIND_OPERATION, "TargetArn", NULL},
                {KIND_OPERATION, "ServiceId", NULL},
                {KIND_OPERATION, "StartedAt", NULL},
                {KIND_OPERATION, "Id", "\"not-a-uuid\""},
                {KIND_OPERATION, "Type", "\"REBOOT_SERVICE\""},
                {KIND_OPERATION, "Status", "\"DONE\""},
                {KIND_OPERATION, "StartedAt", "-5"},
                {KIND_OPERATION, "Spec/Cpu", "100"},
                {KIND_OPERATION, "Spec/Port", NULL},
                {KIND_OPERATION, "Spec", "\"spec\""},

                /* AutoScalingConfiguration */
                {KIND_AUTO_SCALING, "Id", NULL},
                {KIND_AUTO_SCALING, "AutoScalingConfigurationArn", NULL},
                {KIND_AUTO_SCALING, "AutoScalingConfigurationName", NULL},
                {KIND_AUTO_SCALING, "AutoScalingConfigurationRevision", NULL},
                {KIND_AUTO_SCALING, "Status", NULL},
                {KIND_AUTO_SCALING, "MaxConcurrency", NULL},
                {KIND_AUTO_SCALING, "MinSize", NULL},
                {KIND_AUTO_SCALING, "MaxSize", NULL},
                {KIND_AUTO_SCALING, "CreatedAt", NULL},
                {KIND_AUTO_SCALING, "Id", "\"xyz\""},
                {KIND_AUTO_SCALING, "AutoScalingConfigurationRevision", "0"},
                {KIND_AUTO_SCALING, "Status", "\"DELETED\""},
                {KIND_AUTO_SCALING, "MaxConcurrency", "0"},
                {KIND_AUTO_SCALING, "MaxConcurrency", "201"},
                {KIND_AUTO_SCALING, "MinSize", "0"},
                {KIND_AUTO_SCALING, "MinSize", "26"},
                {KIND_AUTO_SCALING, "MaxSize", "0"},
                {KIND_AUTO_SCALING, "MaxSize", "26"},
                {KIND_AUTO_SCALING, "MaxSize", "1"}, /* below MinSize 2 */
                {KIND_AUTO_SCALING, "IsDefault", "1"},

                /* Connection */
                {KIND_CONNECTION, "Id", NULL},
                {KIND_CONNECTION, "ConnectionArn", NULL},
                {KIND_CONNECTION, "ConnectionName", NULL},
                {KIND_CONNECTION, "ProviderType", NULL},
                {KIND_CONNECTION, "CreatedAt", NULL},
                {KIND_CONNECTION, "Id", "\"fedcba9876543210\""},
                {KIND_CONNECTION, "Username", "[]"},
        };

        /* The unchanged documents parse, so each failure below comes from
         * its one change. */
        for (Kind k = KIND_SERVICE; k <= KIND_CONNECTION; k++) {
                _cleanup_json_ json_object *doc = valid_doc(k);
                ASSERT_INT_EQ(parse_doc(k, doc), 0);
        }

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_json_ json_object *doc = valid_doc(cases[i].kind);
                int r;

                set_field(doc, cases[i].path, cases[i].value);
                r = parse_doc(cases[i].kind, doc);
                if (r != -EBADMSG)
                        fprintf(stderr, "%s document with %s = %s: expected -EBADMSG\n",
                                kind_names[cases[i].kind], cases[i].path, cases[i].value ?: "(removed)");
                ASSERT_INT_EQ(r, -EBADMSG);
        }

        /* Documents that are not objects. */
        for (Kind k = KIND_SERVICE; k <= KIND_CONNECTION; k++) {
                static const char *const texts[] = {"[]", "\"service\"", "42", "true"};
                for (size_t i = 0; i < ELEMENTSOF(texts); i++) {
                        _cleanup_json_ json_object *doc = json_tokener_parse(texts[i]);
                        ASSERT(doc);
                        ASSERT_INT_EQ(parse_doc(k, doc), -EBADMSG);
                }
                /* A JSON null is a NULL object in json-c. */
                ASSERT_INT_EQ(parse_doc(k, NULL), -EBADMSG);
        }
}

/* Optional fields may be missing, and a null string means unset. */
static void test_optional_fields(void) {
        static const BadCase cases[] = {
                {KIND_SERVICE, "UpdatedAt", NULL},
                {KIND_SERVICE, "DeletedAt", NULL},
                {KIND_SERVICE, "ImageDigest", NULL},
                {KIND_SERVICE, "OperationId", "null"},
                {KIND_SERVICE, "Generation", NULL},
                {KIND_SERVICE, "Instances", NULL},
                {KIND_SERVICE, "Spec/StartCommand", NULL},
                {KIND_SERVICE, "Spec/RuntimeEnvironmentVariables", NULL},
                {KIND_SERVICE, "Spec/ConnectionArn", "null"},
                {KIND_SERVICE, "Spec/AutoScalingConfigurationArn", NULL},
                {KIND_SERVICE, "Spec/RequestTimeout", NULL},
                {KIND_SERVICE, "Instances/0/ImageDigest", NULL},
                {KIND_SERVICE, "Instances/0/Generation", NULL},
                {KIND_OPERATION, "Spec", NULL},
                {KIND_OPERATION, "StatusMessage", "null"},
                {KIND_AUTO_SCALING, "IsDefault", NULL},
                {KIND_AUTO_SCALING, "DeletedAt", NULL},
                {KIND_CONNECTION, "Username", NULL},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_json_ json_object *doc = valid_doc(cases[i].kind);
                int r;

                set_field(doc, cases[i].path, cases[i].value);
                r = parse_doc(cases[i].kind, doc);
                if (r != 0)
                        fprintf(stderr, "%s document with %s = %s: expected success\n",
                                kind_names[cases[i].kind], cases[i].path, cases[i].value ?: "(removed)");
                ASSERT_INT_EQ(r, 0);
        }

        /* A missing RequestTimeout takes the default. */
        {
                _cleanup_json_ json_object *doc = valid_doc(KIND_SERVICE);
                Service *s = NULL;

                set_field(doc, "Spec/RequestTimeout", NULL);
                ASSERT_INT_EQ(service_from_json(doc, &s), 0);
                ASSERT_INT_EQ(s->spec.request_timeout, REQUEST_TIMEOUT_DEFAULT);
                service_free(s);
        }
}

int main(void) {
        test_spec_round_trip();
        test_service_round_trip();
        test_operation_round_trip();
        test_auto_scaling_round_trip();
        test_connection_round_trip();
        test_rejects();
        test_optional_fields();
        return EXIT_SUCCESS;
}
