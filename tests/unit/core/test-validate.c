/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Table-driven tests of App Runner's naming rules and value ranges in
 * daemon/core/validate.c. Every rejected value must come back with -EINVAL
 * and a message that names the value, because that message reaches the
 * user unchanged as an InvalidRequest error. */

#include "core-test.h"
#include "core/validate.h"

#define DIGEST "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* Returns a string of n copies of c, which the caller frees. */
static char *repeat(char c, size_t n) {
        char *s = malloc(n + 1);

        ASSERT(s);
        memset(s, c, n);
        s[n] = '\0';
        return s;
}

/* Checks a validation result: 0 and no message when valid, -EINVAL and a
 * message containing message_part (when not NULL) otherwise. */
static void check_result(const char *case_label, int r, char *error, bool valid, const char *message_part) {
        if (valid) {
                if (r != 0)
                        fprintf(stderr, "%s: unexpected error: %s\n", case_label, strna(error));
                ASSERT_INT_EQ(r, 0);
                ASSERT(!error);
                return;
        }
        if (r != -EINVAL)
                fprintf(stderr, "%s: expected -EINVAL\n", case_label);
        ASSERT_INT_EQ(r, -EINVAL);
        ASSERT(error);
        if (message_part)
                ASSERT_CONTAINS(error, message_part);
}

static void test_service_name(void) {
        _cleanup_free_ char *len3 = repeat('a', 3), *len4 = repeat('a', 4), *len40 = repeat('a', 40),
                            *len41 = repeat('a', 41);
        const struct {
                const char *name;
                bool valid;
        } cases[] = {
                {len3, false},
                {len4, true},
                {len40, true},
                {len41, false},
                {"my-service_1", true},
                {"0service", true},
                {"Service-", true},
                {"-service", false},
                {"_service", false},
                {"my service", false},
                {"my.service", false},
                {"my/service", false},
                {"caf\xc3\xa9-service", false}, /* UTF-8 e with acute accent */
                {"serv\xff", false},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *error = NULL;
                int r = validate_service_name(cases[i].name, &error);
                check_result(cases[i].name, r, error, cases[i].valid, cases[i].name);
        }

        {
                _cleanup_free_ char *error = NULL;
                ASSERT_INT_EQ(validate_service_name("", &error), -EINVAL);
                ASSERT_CONTAINS(error, "ServiceName");
        }
        {
                _cleanup_free_ char *error = NULL;
                ASSERT_INT_EQ(validate_service_name(NULL, &error), -EINVAL);
                ASSERT(error);
        }
        /* A NULL ret_error is allowed. */
        ASSERT_INT_EQ(validate_service_name("ab", NULL), -EINVAL);
}

static void test_resource_name(void) {
        _cleanup_free_ char *len32 = repeat('b', 32), *len33 = repeat('b', 33);
        const struct {
                const char *name;
                bool valid;
        } cases[] = {
                {"abc", false}, {"abcd", true},   {len32, true},
                {len33, false}, {"-abcd", false}, {"high-concurrency_2", true},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *error = NULL;
                int r = validate_resource_name("ConnectionName", cases[i].name, &error);
                check_result(cases[i].name, r, error, cases[i].valid, cases[i].name);
                if (!cases[i].valid)
                        ASSERT_CONTAINS(error, "ConnectionName");
        }
}

static void test_cpu(void) {
        const struct {
                const char *text;
                unsigned units; /* 0: invalid */
        } cases[] = {
                {"256", 256},       {"512", 512},      {"1024", 1024},   {"2048", 2048},   {"4096", 4096},
                {"0.25 vCPU", 256}, {"0.5 vCPU", 512}, {"1 vCPU", 1024}, {"2 vCPU", 2048}, {"4 vCPU", 4096},
                {"128", 0},         {"1000", 0},       {"8192", 0},      {"3 vCPU", 0},    {"8 vCPU", 0},
                {"1vCPU", 0},       {"1 vcpu", 0},     {"1 VCPU", 0},    {"0.25", 0},      {" 1024", 0},
                {"1024 ", 0},       {"1024\n", 0},     {"+1024", 0},     {"", 0},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *error = NULL;
                unsigned units = 12345;
                int r = parse_cpu(cases[i].text, &units, &error);

                check_result(cases[i].text, r, error, cases[i].units != 0, cases[i].text);
                if (cases[i].units != 0)
                        ASSERT_INT_EQ(units, cases[i].units);
                else
                        ASSERT_INT_EQ(units, 12345); /* not written on failure */
        }

        {
                _cleanup_free_ char *error = NULL;
                unsigned units;
                ASSERT_INT_EQ(parse_cpu(NULL, &units, &error), -EINVAL);
                ASSERT_CONTAINS(error, "Cpu");
        }
}

static void test_memory(void) {
        const struct {
                const char *text;
                unsigned mb; /* 0: invalid */
        } cases[] = {
                {"512", 512},   {"1024", 1024},   {"2048", 2048},   {"3072", 3072},   {"4096", 4096},
                {"6144", 6144}, {"8192", 8192},   {"10240", 10240}, {"12288", 12288}, {"0.5 GB", 512},
                {"1 GB", 1024}, {"2 GB", 2048},   {"3 GB", 3072},   {"4 GB", 4096},   {"6 GB", 6144},
                {"8 GB", 8192}, {"10 GB", 10240}, {"12 GB", 12288}, {"256", 0},       {"5120", 0},
                {"16384", 0},   {"5 GB", 0},      {"16 GB", 0},     {"2GB", 0},       {"2 gb", 0},
                {"2 GiB", 0},   {"2048 MB", 0},   {"0", 0},         {"", 0},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *error = NULL;
                unsigned mb = 12345;
                int r = parse_memory(cases[i].text, &mb, &error);

                check_result(cases[i].text, r, error, cases[i].mb != 0, cases[i].text);
                if (cases[i].mb != 0)
                        ASSERT_INT_EQ(mb, cases[i].mb);
                else
                        ASSERT_INT_EQ(mb, 12345);
        }
}

/* Every combination of the valid Cpu and Memory values. Only App Runner's
 * supported pairs pass. */
static void test_cpu_memory(void) {
        static const unsigned cpus[] = {256, 512, 1024, 2048, 4096};
        static const unsigned memories[] = {512, 1024, 2048, 3072, 4096, 6144, 8192, 10240, 12288};
        static const struct {
                unsigned cpu, memory;
        } allowed[] = {
                {256, 512},   {256, 1024},  {512, 1024},  {1024, 2048},  {1024, 3072},  {1024, 4096},
                {2048, 4096}, {2048, 6144}, {4096, 8192}, {4096, 10240}, {4096, 12288},
        };
        unsigned n_allowed = 0;

        for (size_t i = 0; i < ELEMENTSOF(cpus); i++)
                for (size_t j = 0; j < ELEMENTSOF(memories); j++) {
                        _cleanup_free_ char *error = NULL, *case_label = NULL, *memory_text = NULL;
                        bool valid = false;
                        int r;

                        for (size_t k = 0; k < ELEMENTSOF(allowed); k++)
                                if (allowed[k].cpu == cpus[i] && allowed[k].memory == memories[j])
                                        valid = true;
                        n_allowed += valid;

                        ASSERT(asprintf(&case_label, "Cpu %u Memory %u", cpus[i], memories[j]) > 0);
                        ASSERT(asprintf(&memory_text, "%u", memories[j]) > 0);
                        r = validate_cpu_memory(cpus[i], memories[j], &error);
                        check_result(case_label, r, error, valid, memory_text);
                }
        ASSERT_INT_EQ(n_allowed, ELEMENTSOF(allowed));

        {
                _cleanup_free_ char *error = NULL;
                ASSERT_INT_EQ(validate_cpu_memory(1024, 1024, &error), -EINVAL);
                ASSERT_CONTAINS(error, "1024");
                ASSERT_CONTAINS(error, "2 GB, 3 GB or 4 GB");
        }
        {
                _cleanup_free_ char *error = NULL;
                ASSERT_INT_EQ(validate_cpu_memory(1000, 2048, &error), -EINVAL);
                ASSERT_CONTAINS(error, "1000");
        }
        {
                _cleanup_free_ char *error = NULL;
                ASSERT_INT_EQ(validate_cpu_memory(0, 0, &error), -EINVAL);
                ASSERT(error);
        }
}

static void test_port(void) {
        const struct {
                const char *port;
                bool valid;
        } cases[] = {
                {"1", true},
                {"80", true},
                {"8080", true},
                {"65535", true},
                {"0", false},
                {"65536", false},
                {"99999999999999999999", false},
                {"-1", false},
                {"+80", false},
                {" 80", false},
                {"80 ", false},
                {"80a", false},
                {"0x50", false},
                {"8.0", false},
                {"", false},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *error = NULL;
                int r = validate_port(cases[i].port, &error);
                check_result(cases[i].port, r, error, cases[i].valid, cases[i].port);
        }

        {
                _cleanup_free_ char *error = NULL;
                ASSERT_INT_EQ(validate_port(NULL, &error), -EINVAL);
                ASSERT_CONTAINS(error, "Port");
        }
}

static void test_environment_name(void) {
        _cleanup_free_ char *len256 = repeat('E', 256), *len257 = repeat('E', 257);
        const struct {
                const char *name;
                bool valid;
                const char *message_part; /* part of the message, NULL for none */
        } cases[] = {
                {"PORT", true, NULL},
                {"a", true, NULL},
                {"MY_VAR_2", true, NULL},
                {"AWS_REGION", true, NULL},
                {"APPRUNNER", true, NULL},
                {len256, true, NULL},
                {len257, false, "EEEE"},
                {"AWSAPPRUNNER", false, "AWSAPPRUNNER"},
                {"AWSAPPRUNNER_PORT", false, "AWSAPPRUNNER_PORT"},
                {"A=B", false, "A=B"},
                {"A B", false, "A B"},
                {"A\tB", false, "A\tB"},
                {"A\nB", false, "A\nB"},
                {"", false, "RuntimeEnvironmentVariables"},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *error = NULL;
                int r = validate_environment_name(cases[i].name, &error);
                check_result(cases[i].name, r, error, cases[i].valid, cases[i].message_part);
        }

        {
                _cleanup_free_ char *error = NULL;
                ASSERT_INT_EQ(validate_environment_name("AWSAPPRUNNER_X", &error), -EINVAL);
                ASSERT_CONTAINS(error, "reserved");
        }
}

static void test_health_value(void) {
        static const char *const fields[] = {"Interval", "Timeout", "HealthyThreshold",
                                             "UnhealthyThreshold"};

        for (size_t f = 0; f < ELEMENTSOF(fields); f++)
                for (unsigned v = 0; v <= 25; v++) {
                        _cleanup_free_ char *error = NULL, *message_part = NULL;
                        bool valid = v >= 1 && v <= 20;
                        int r = validate_health_value(fields[f], v, &error);

                        ASSERT(asprintf(&message_part, "%s %u", fields[f], v) > 0);
                        check_result(message_part, r, error, valid, message_part);
                }

        {
                _cleanup_free_ char *error = NULL;
                ASSERT_INT_EQ(validate_health_value("Interval", UINT32_MAX, &error), -EINVAL);
                ASSERT_CONTAINS(error, "4294967295");
        }
}

static void test_health_path(void) {
        _cleanup_free_ char *long_path = repeat('p', 1025);
        const struct {
                const char *path;
                bool valid;
        } cases[] = {
                {"/", true},          {"/healthz", true},    {"/a/b?c=d", true}, {"healthz", false},
                {"/health z", false}, {"/health\tz", false}, {"", false},
        };

        long_path[0] = '/';
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *error = NULL;
                int r = validate_health_path(cases[i].path, &error);
                check_result(cases[i].path, r, error, cases[i].valid, cases[i].path);
        }

        {
                _cleanup_free_ char *error = NULL;
                ASSERT_INT_EQ(validate_health_path(long_path, &error), -EINVAL);
                ASSERT_CONTAINS(error, "1024");
        }
        {
                _cleanup_free_ char *error = NULL;
                long_path[1024] = '\0';
                ASSERT_INT_EQ(validate_health_path(long_path, &error), 0);
                ASSERT(!error);
        }
}

static void test_auto_scaling(void) {
        const struct {
                unsigned max_concurrency, min_size, max_size;
                bool valid;
                const char *message_part;
        } cases[] = {
                {1, 1, 1, true, NULL},
                {100, 1, 25, true, NULL},
                {200, 25, 25, true, NULL},
                {0, 1, 1, false, "MaxConcurrency 0"},
                {201, 1, 1, false, "MaxConcurrency 201"},
                {100, 0, 1, false, "MinSize 0"},
                {100, 26, 26, false, "MinSize 26"},
                {100, 1, 0, false, "MaxSize 0"},
                {100, 1, 26, false, "MaxSize 26"},
                {100, 5, 4, false, "MinSize 5"},
                {100, 25, 1, false, "MaxSize 1"},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *error = NULL, *case_label = NULL;
                int r;

                ASSERT(asprintf(&case_label, "MaxConcurrency %u MinSize %u MaxSize %u",
                                cases[i].max_concurrency, cases[i].min_size, cases[i].max_size) > 0);
                r = validate_auto_scaling(cases[i].max_concurrency, cases[i].min_size, cases[i].max_size,
                                          &error);
                check_result(case_label, r, error, cases[i].valid, cases[i].message_part);
        }
}

static void test_repository_type(void) {
        static const char *const good[] = {"OCI_LAYOUT", "REGISTRY", "ECR", "ECR_PUBLIC"};
        static const char *const bad[] = {"ecr", "DOCKER", "ECR ", ""};

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                _cleanup_free_ char *error = NULL;
                int r = validate_image_repository_type(good[i], &error);
                check_result(good[i], r, error, true, NULL);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *error = NULL;
                int r = validate_image_repository_type(bad[i], &error);
                check_result(bad[i], r, error, false, bad[i]);
        }
}

static void test_image_identifier(void) {
        _cleanup_free_ char *too_long = repeat('a', 1025);
        const struct {
                const char *identifier;
                const char *type;         /* explicit ImageRepositoryType, NULL to derive it */
                const char *expected;     /* derived or checked type, NULL when invalid */
                const char *message_part; /* part of the message when invalid */
        } cases[] = {
                /* OCI image layouts */
                {"oci:/srv/images/hello:latest", NULL, "OCI_LAYOUT", NULL},
                {"oci:/srv/images/hello:v1.2_rc-3", NULL, "OCI_LAYOUT", NULL},
                {"oci:/srv/images/hello@" DIGEST, NULL, "OCI_LAYOUT", NULL},
                {"oci:/srv/images/hello", NULL, "OCI_LAYOUT", NULL},
                {"oci:/srv/images/hello:latest", "OCI_LAYOUT", "OCI_LAYOUT", NULL},
                {"oci:srv/images/hello:latest", NULL, NULL, "oci:srv/images/hello:latest"},
                {"oci:/srv/../etc:latest", NULL, NULL, "oci:/srv/../etc:latest"},
                {"oci:/srv/./images:latest", NULL, NULL, "oci:/srv/./images:latest"},
                {"oci:/srv/images/hello:", NULL, NULL, "oci:/srv/images/hello:"},
                {"oci:/srv/images/hello@sha256:0123", NULL, NULL, "oci:/srv/images/hello@sha256:0123"},
                {"oci:/srv/images/hello:latest", "REGISTRY", NULL, "OCI_LAYOUT"},

                /* Registry references */
                {"nginx", NULL, "REGISTRY", NULL},
                {"nginx:1.25", NULL, "REGISTRY", NULL},
                {"library/nginx:latest", NULL, "REGISTRY", NULL},
                {"localhost:5000/hello:v1", NULL, "REGISTRY", NULL},
                {"registry.example.com:5000/team/app@" DIGEST, NULL, "REGISTRY", NULL},
                {"registry.example.com/team/app:v1@" DIGEST, NULL, "REGISTRY", NULL},
                {"Registry.Example.com/team/my_app__x:v1", NULL, "REGISTRY", NULL},
                {"123456789012.dkr.ecr.us-east-1.amazonaws.com/app:latest", "ECR", "ECR", NULL},
                {"123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app@" DIGEST, NULL, "REGISTRY", NULL},
                {"public.ecr.aws/nginx/nginx:latest", "ECR_PUBLIC", "ECR_PUBLIC", NULL},
                {"localhost:5000/hello:v1", "REGISTRY", "REGISTRY", NULL},

                /* Bad references */
                {"nginx :latest", NULL, NULL, "nginx :latest"},
                {"ng inx", NULL, NULL, "ng inx"},
                {"registry.example.com/MyApp:latest", NULL, NULL, "registry.example.com/MyApp:latest"},
                {"Nginx", NULL, NULL, "Nginx"},
                {"nginx:", NULL, NULL, "nginx:"},
                {":latest", NULL, NULL, ":latest"},
                {"/nginx", NULL, NULL, "/nginx"},
                {"nginx/", NULL, NULL, "nginx/"},
                {"-host.example/app", NULL, NULL, "-host.example/app"},
                {"host:port/app", NULL, NULL, "host:port/app"},
                {"nginx@sha256:0123", NULL, NULL, "nginx@sha256:0123"},
                {"nginx@sha256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF", NULL, NULL,
                 "nginx@sha256:0123456789ABCDEF"},
                {"nginx@md5:0123456789abcdef0123456789abcdef", NULL, NULL, "nginx@md5"},
                {"nginx:latest", "OCI_LAYOUT", NULL, "nginx:latest"},
                {"nginx:latest", "DOCKER_HUB", NULL, "DOCKER_HUB"},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *error = NULL, *type = NULL;
                int r = validate_image_identifier(cases[i].identifier, cases[i].type, &type, &error);

                check_result(cases[i].identifier, r, error, cases[i].expected != NULL,
                             cases[i].message_part);
                if (cases[i].expected)
                        ASSERT_STR_EQ(type, cases[i].expected);
                else
                        ASSERT(!type);
        }

        {
                _cleanup_free_ char *error = NULL;
                ASSERT_INT_EQ(validate_image_identifier("", NULL, NULL, &error), -EINVAL);
                ASSERT_CONTAINS(error, "ImageIdentifier is missing");
        }
        {
                _cleanup_free_ char *error = NULL;
                ASSERT_INT_EQ(validate_image_identifier(NULL, NULL, NULL, &error), -EINVAL);
                ASSERT_CONTAINS(error, "ImageIdentifier is missing");
        }
        {
                _cleanup_free_ char *error = NULL;
                ASSERT_INT_EQ(validate_image_identifier(too_long, NULL, NULL, &error), -EINVAL);
                ASSERT_CONTAINS(error, "1024");
        }
        {
                /* Both sides of a type mismatch are named. */
                _cleanup_free_ char *error = NULL;
                ASSERT_INT_EQ(validate_image_identifier("oci:/srv/hello:v1", "ECR", NULL, &error), -EINVAL);
                ASSERT_CONTAINS(error, "ECR");
                ASSERT_CONTAINS(error, "oci:/srv/hello:v1");
        }
}

static ServiceSpec valid_spec(void) {
        ServiceSpec s;

        ASSERT_INT_EQ(service_spec_init_defaults(&s), 0);
        s.image_identifier = strdup("oci:/srv/images/hello:latest");
        ASSERT(s.image_identifier);
        return s;
}

static void test_spec_defaults(void) {
        ServiceSpec s = valid_spec();
        _cleanup_free_ char *error = NULL;

        ASSERT_INT_EQ(s.cpu, 1024);
        ASSERT_INT_EQ(s.memory, 2048);
        ASSERT_STR_EQ(s.port, "8080");
        ASSERT_STR_EQ(s.health_path, "/");
        ASSERT_INT_EQ(s.health_protocol, HEALTH_CHECK_TCP);
        ASSERT_INT_EQ(s.health_interval, 5);
        ASSERT_INT_EQ(s.health_timeout, 2);
        ASSERT_INT_EQ(s.healthy_threshold, 1);
        ASSERT_INT_EQ(s.unhealthy_threshold, 5);
        ASSERT_INT_EQ(s.request_timeout, 120);
        ASSERT_INT_EQ(service_spec_validate(&s, &error), 0);
        ASSERT(!error);
        service_spec_done(&s);
}

/* Each case breaks one field of an otherwise valid spec. */
static void test_spec_rejects(void) {
        enum {
                BAD_IMAGE,
                BAD_PORT,
                BAD_ENVIRONMENT,
                EMPTY_START_COMMAND,
                BAD_PAIR,
                BAD_PROTOCOL,
                BAD_PATH,
                BAD_INTERVAL,
                BAD_TIMEOUT,
                BAD_HEALTHY,
                BAD_UNHEALTHY,
                BAD_REQUEST_TIMEOUT,
                _BAD_MAX,
        };
        static const char *const message_part[_BAD_MAX] = {
                [BAD_IMAGE] = "nginx :x",
                [BAD_PORT] = "70000",
                [BAD_ENVIRONMENT] = "AWSAPPRUNNER_X",
                [EMPTY_START_COMMAND] = "StartCommand",
                [BAD_PAIR] = "(512 MB)",
                [BAD_PROTOCOL] = "Protocol",
                [BAD_PATH] = "health",
                [BAD_INTERVAL] = "Interval 0",
                [BAD_TIMEOUT] = "Timeout 21",
                [BAD_HEALTHY] = "HealthyThreshold 0",
                [BAD_UNHEALTHY] = "UnhealthyThreshold 21",
                [BAD_REQUEST_TIMEOUT] = "RequestTimeout 3601",
        };

        for (int k = 0; k < _BAD_MAX; k++) {
                ServiceSpec s = valid_spec();
                _cleanup_free_ char *error = NULL;

                switch (k) {
                case BAD_IMAGE:
                        ASSERT_INT_EQ(free_and_strdup(&s.image_identifier, "nginx :x"), 0);
                        break;
                case BAD_PORT:
                        ASSERT_INT_EQ(free_and_strdup(&s.port, "70000"), 0);
                        break;
                case BAD_ENVIRONMENT:
                        s.environment = calloc(3, sizeof(char *));
                        ASSERT(s.environment);
                        s.environment[0] = strdup("GOOD=1");
                        s.environment[1] = strdup("AWSAPPRUNNER_X=1");
                        ASSERT(s.environment[0] && s.environment[1]);
                        break;
                case EMPTY_START_COMMAND:
                        ASSERT_INT_EQ(free_and_strdup(&s.start_command, ""), 0);
                        break;
                case BAD_PAIR:
                        s.memory = 512;
                        break;
                case BAD_PROTOCOL:
                        s.health_protocol = _HEALTH_CHECK_PROTOCOL_MAX;
                        break;
                case BAD_PATH:
                        ASSERT_INT_EQ(free_and_strdup(&s.health_path, "health"), 0);
                        break;
                case BAD_INTERVAL:
                        s.health_interval = 0;
                        break;
                case BAD_TIMEOUT:
                        s.health_timeout = 21;
                        break;
                case BAD_HEALTHY:
                        s.healthy_threshold = 0;
                        break;
                case BAD_UNHEALTHY:
                        s.unhealthy_threshold = 21;
                        break;
                case BAD_REQUEST_TIMEOUT:
                        s.request_timeout = 3601;
                        break;
                }

                ASSERT_INT_EQ(service_spec_validate(&s, &error), -EINVAL);
                ASSERT_CONTAINS(error, message_part[k]);
                service_spec_done(&s);
        }
}

int main(void) {
        test_service_name();
        test_resource_name();
        test_cpu();
        test_memory();
        test_cpu_memory();
        test_port();
        test_environment_name();
        test_health_value();
        test_health_path();
        test_auto_scaling();
        test_repository_type();
        test_image_identifier();
        test_spec_defaults();
        test_spec_rejects();
        return EXIT_SUCCESS;
}
