/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <limits.h>
#include <regex.h>

#include "error.h"
#include "validate.h"

static bool name_matches(const char *name, size_t min, size_t max) {
        size_t n;

        if (!name)
                return false;
        n = strlen(name);
        if (n < min || n > max)
                return false;
        if (!isalnum((unsigned char)name[0]) || !isascii((unsigned char)name[0]))
                return false;
        for (size_t i = 1; i < n; i++) {
                unsigned char c = name[i];
                if (!isascii(c) || !(isalnum(c) || c == '-' || c == '_'))
                        return false;
        }
        return true;
}

int validate_service_name(const char *name, char **ret_error) {
        if (!name_matches(name, SERVICE_NAME_MIN, SERVICE_NAME_MAX))
                return error_set(ret_error, -EINVAL,
                                 "ServiceName '%s' is invalid: expected %d to %d characters matching "
                                 "[A-Za-z0-9][A-Za-z0-9-_]*.",
                                 strempty(name), SERVICE_NAME_MIN, SERVICE_NAME_MAX);
        return 0;
}

int validate_resource_name(const char *field, const char *name, char **ret_error) {
        if (!name_matches(name, RESOURCE_NAME_MIN, RESOURCE_NAME_MAX))
                return error_set(ret_error, -EINVAL,
                                 "%s '%s' is invalid: expected %d to %d characters matching "
                                 "[A-Za-z0-9][A-Za-z0-9-_]*.",
                                 field, strempty(name), RESOURCE_NAME_MIN, RESOURCE_NAME_MAX);
        return 0;
}

/* App Runner's accepted spellings, in CPU units and in MB. */
static const struct {
        const char *name;
        unsigned value;
} cpu_names[] =
        {
                {"256", 256},       {"512", 512},      {"1024", 1024},   {"2048", 2048},   {"4096", 4096},
                {"0.25 vCPU", 256}, {"0.5 vCPU", 512}, {"1 vCPU", 1024}, {"2 vCPU", 2048}, {"4 vCPU", 4096},
},
  memory_names[] = {
          {"512", 512},   {"1024", 1024},   {"2048", 2048},   {"3072", 3072},   {"4096", 4096},
          {"6144", 6144}, {"8192", 8192},   {"10240", 10240}, {"12288", 12288}, {"0.5 GB", 512},
          {"1 GB", 1024}, {"2 GB", 2048},   {"3 GB", 3072},   {"4 GB", 4096},   {"6 GB", 6144},
          {"8 GB", 8192}, {"10 GB", 10240}, {"12 GB", 12288},
};

int parse_cpu(const char *s, unsigned *ret_units, char **ret_error) {
        for (size_t i = 0; s && i < ELEMENTSOF(cpu_names); i++)
                if (streq(s, cpu_names[i].name)) {
                        *ret_units = cpu_names[i].value;
                        return 0;
                }
        return error_set(ret_error, -EINVAL,
                         "Cpu '%s' is invalid: expected 256, 512, 1024, 2048 or 4096 (CPU units), "
                         "or 0.25, 0.5, 1, 2 or 4 followed by ' vCPU'.",
                         strempty(s));
}

int parse_memory(const char *s, unsigned *ret_mb, char **ret_error) {
        for (size_t i = 0; s && i < ELEMENTSOF(memory_names); i++)
                if (streq(s, memory_names[i].name)) {
                        *ret_mb = memory_names[i].value;
                        return 0;
                }
        return error_set(ret_error, -EINVAL,
                         "Memory '%s' is invalid: expected 512, 1024, 2048, 3072, 4096, 6144, 8192, 10240 "
                         "or 12288 (MB), or 0.5, 1, 2, 3, 4, 6, 8, 10 or 12 followed by ' GB'.",
                         strempty(s));
}

int validate_cpu_memory(unsigned cpu, unsigned memory, char **ret_error) {
        /* App Runner's supported configurations. */
        static const struct {
                unsigned cpu;
                unsigned memory[3];
                const char *text;
        } pairs[] = {
                {256, {512, 1024}, "0.5 GB or 1 GB"},
                {512, {1024}, "1 GB"},
                {1024, {2048, 3072, 4096}, "2 GB, 3 GB or 4 GB"},
                {2048, {4096, 6144}, "4 GB or 6 GB"},
                {4096, {8192, 10240, 12288}, "8 GB, 10 GB or 12 GB"},
        };

        for (size_t i = 0; i < ELEMENTSOF(pairs); i++) {
                if (pairs[i].cpu != cpu)
                        continue;
                for (size_t j = 0; j < ELEMENTSOF(pairs[i].memory); j++)
                        if (pairs[i].memory[j] != 0 && pairs[i].memory[j] == memory)
                                return 0;
                return error_set(ret_error, -EINVAL,
                                 "Memory %g GB (%u MB) cannot be combined with Cpu %g vCPU (%u): with %g "
                                 "vCPU, Memory must be %s.",
                                 memory / 1024.0, memory, cpu / 1024.0, cpu, cpu / 1024.0, pairs[i].text);
        }
        return error_set(ret_error, -EINVAL, "Cpu %u is invalid.", cpu);
}

static int parse_unsigned(const char *s, unsigned long max, unsigned long *ret) {
        char *end;
        unsigned long v;

        if (!s || !isdigit((unsigned char)s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno != 0 || *end != '\0' || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

int validate_port(const char *port, char **ret_error) {
        unsigned long v;

        if (parse_unsigned(port, 65535, &v) < 0 || v == 0)
                return error_set(ret_error, -EINVAL,
                                 "Port '%s' is invalid: expected an integer between 1 and 65535.",
                                 strempty(port));
        return 0;
}

int validate_environment_name(const char *name, char **ret_error) {
        if (!name || !*name || strlen(name) > 256 || strchr(name, '='))
                return error_set(
                        ret_error, -EINVAL,
                        "RuntimeEnvironmentVariables name '%s' is invalid: expected 1 to 256 characters "
                        "without '='.",
                        strempty(name));
        if (strncmp(name, "AWSAPPRUNNER", 12) == 0)
                return error_set(
                        ret_error, -EINVAL,
                        "RuntimeEnvironmentVariables name '%s' is invalid: the prefix AWSAPPRUNNER is "
                        "reserved.",
                        name);
        for (const char *p = name; *p; p++)
                if (!isprint((unsigned char)*p) || isspace((unsigned char)*p))
                        return error_set(
                                ret_error, -EINVAL,
                                "RuntimeEnvironmentVariables name '%s' is invalid: it contains a space "
                                "or a control character.",
                                name);
        return 0;
}

int validate_health_value(const char *field, unsigned value, char **ret_error) {
        if (value < HEALTH_VALUE_MIN || value > HEALTH_VALUE_MAX)
                return error_set(ret_error, -EINVAL, "%s %u is out of range: expected %d to %d.", field,
                                 value, HEALTH_VALUE_MIN, HEALTH_VALUE_MAX);
        return 0;
}

int validate_health_path(const char *path, char **ret_error) {
        if (!path || path[0] != '/' || strlen(path) > 1024)
                return error_set(
                        ret_error, -EINVAL,
                        "Path '%s' is invalid: expected an absolute HTTP path of at most 1024 characters "
                        "starting with '/'.",
                        strempty(path));
        for (const char *p = path; *p; p++)
                if (!isgraph((unsigned char)*p))
                        return error_set(ret_error, -EINVAL,
                                         "Path '%s' is invalid: it contains a space or a control character.",
                                         path);
        return 0;
}

int validate_auto_scaling(unsigned max_concurrency, unsigned min_size, unsigned max_size, char **ret_error) {
        if (max_concurrency < MAX_CONCURRENCY_MIN || max_concurrency > MAX_CONCURRENCY_MAX)
                return error_set(ret_error, -EINVAL, "MaxConcurrency %u is out of range: expected %d to %d.",
                                 max_concurrency, MAX_CONCURRENCY_MIN, MAX_CONCURRENCY_MAX);
        if (min_size < SIZE_MIN || min_size > MIN_SIZE_MAX)
                return error_set(ret_error, -EINVAL, "MinSize %u is out of range: expected %d to %d.",
                                 min_size, SIZE_MIN, MIN_SIZE_MAX);
        if (max_size < SIZE_MIN || max_size > MAX_SIZE_MAX)
                return error_set(ret_error, -EINVAL, "MaxSize %u is out of range: expected %d to %d.",
                                 max_size, SIZE_MIN, MAX_SIZE_MAX);
        if (min_size > max_size)
                return error_set(ret_error, -EINVAL, "MinSize %u is larger than MaxSize %u.", min_size,
                                 max_size);
        return 0;
}

int validate_image_repository_type(const char *type, char **ret_error) {
        static const char *const types[] = {"OCI_LAYOUT", "REGISTRY", "ECR", "ECR_PUBLIC"};

        for (size_t i = 0; type && i < ELEMENTSOF(types); i++)
                if (streq(type, types[i]))
                        return 0;
        return error_set(
                ret_error, -EINVAL,
                "ImageRepositoryType '%s' is invalid: expected OCI_LAYOUT, REGISTRY, ECR or ECR_PUBLIC.",
                strempty(type));
}

/* Docker's reference grammar without the optional parts that registries
 * resolve themselves: [host[:port]/]path[:tag][@sha256:hex]. */
#define REFERENCE_REGEX                                                                                     \
        "^(([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)(\\.([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?))*(:[0-9]+)" \
        "?/)?"                                                                                              \
        "[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*(/[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*)*"                            \
        "(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$"

/* oci:/absolute/path followed by :tag or @sha256:hex. */
#define OCI_LAYOUT_REGEX "^oci:/[^:@]*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})?$"

static bool regex_matches(const char *pattern, const char *s) {
        regex_t re;
        bool match;

        if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
                return false;
        match = regexec(&re, s, 0, NULL, 0) == 0;
        regfree(&re);
        return match;
}

int validate_image_identifier(const char *identifier, const char *type, char **ret_type, char **ret_error) {
        const char *derived;
        int r;

        if (!identifier || !*identifier)
                return error_set(ret_error, -EINVAL, "ImageIdentifier is missing.");
        if (strlen(identifier) > 1024)
                return error_set(ret_error, -EINVAL, "ImageIdentifier is longer than 1024 characters.");

        if (strncmp(identifier, "oci:", 4) == 0) {
                if (!regex_matches(OCI_LAYOUT_REGEX, identifier) || strstr(identifier, "/../") ||
                    strstr(identifier, "/./"))
                        return error_set(
                                ret_error, -EINVAL,
                                "ImageIdentifier '%s' is invalid: expected oci:/path/to/layout:tag or "
                                "oci:/path/to/layout@sha256:<64 hex digits>.",
                                identifier);
                derived = "OCI_LAYOUT";
        } else {
                if (!regex_matches(REFERENCE_REGEX, identifier))
                        return error_set(
                                ret_error, -EINVAL,
                                "ImageIdentifier '%s' is invalid: expected a registry reference such as "
                                "registry.example:5000/repo:tag or repo@sha256:<64 hex digits>, or an "
                                "OCI layout as oci:/path:tag.",
                                identifier);
                derived = "REGISTRY";
        }

        if (type) {
                r = validate_image_repository_type(type, ret_error);
                if (r < 0)
                        return r;
                if (streq(derived, "OCI_LAYOUT") != streq(type, "OCI_LAYOUT"))
                        return error_set(ret_error, -EINVAL,
                                         "ImageRepositoryType %s does not match ImageIdentifier '%s': %s.",
                                         type, identifier,
                                         streq(derived, "OCI_LAYOUT")
                                                 ? "an oci: identifier needs OCI_LAYOUT"
                                                 : "OCI_LAYOUT needs an oci:/path identifier");
        }

        if (ret_type) {
                char *t = strdup(type ?: derived);
                if (!t)
                        return -ENOMEM;
                *ret_type = t;
        }
        return 0;
}

int service_spec_init_defaults(ServiceSpec *s) {
        *s = (ServiceSpec){
                .cpu = CPU_DEFAULT,
                .memory = MEMORY_DEFAULT,
                .health_protocol = HEALTH_CHECK_TCP,
                .health_interval = HEALTH_INTERVAL_DEFAULT,
                .health_timeout = HEALTH_TIMEOUT_DEFAULT,
                .healthy_threshold = HEALTHY_THRESHOLD_DEFAULT,
                .unhealthy_threshold = UNHEALTHY_THRESHOLD_DEFAULT,
                .request_timeout = REQUEST_TIMEOUT_DEFAULT,
        };
        s->port = strdup(PORT_DEFAULT);
        s->health_path = strdup("/");
        if (!s->port || !s->health_path) {
                service_spec_done(s);
                return -ENOMEM;
        }
        return 0;
}

int service_spec_validate(const ServiceSpec *s, char **ret_error) {
        int r;

        r = validate_image_identifier(s->image_identifier, s->image_repository_type, NULL, ret_error);
        if (r < 0)
                return r;
        r = validate_port(s->port, ret_error);
        if (r < 0)
                return r;
        STRV_FOREACH (e, s->environment) {
                _cleanup_free_ char *name = strndup(*e, strcspn(*e, "="));
                if (!name)
                        return -ENOMEM;
                r = validate_environment_name(name, ret_error);
                if (r < 0)
                        return r;
        }
        if (s->start_command && (strlen(s->start_command) == 0 || strlen(s->start_command) > 51200))
                return error_set(ret_error, -EINVAL,
                                 "StartCommand is invalid: expected 1 to 51200 characters.");
        r = validate_cpu_memory(s->cpu, s->memory, ret_error);
        if (r < 0)
                return r;
        if (s->health_protocol < 0 || s->health_protocol >= _HEALTH_CHECK_PROTOCOL_MAX)
                return error_set(ret_error, -EINVAL, "Protocol is invalid: expected TCP or HTTP.");
        r = validate_health_path(s->health_path, ret_error);
        if (r < 0)
                return r;
        r = validate_health_value("Interval", s->health_interval, ret_error);
        if (r < 0)
                return r;
        r = validate_health_value("Timeout", s->health_timeout, ret_error);
        if (r < 0)
                return r;
        r = validate_health_value("HealthyThreshold", s->healthy_threshold, ret_error);
        if (r < 0)
                return r;
        r = validate_health_value("UnhealthyThreshold", s->unhealthy_threshold, ret_error);
        if (r < 0)
                return r;
        if (s->request_timeout < 1 || s->request_timeout > REQUEST_TIMEOUT_MAX)
                return error_set(ret_error, -EINVAL, "RequestTimeout %u is out of range: expected 1 to %d.",
                                 s->request_timeout, REQUEST_TIMEOUT_MAX);
        return 0;
}
