/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdarg.h>
#include <stdio.h>

#include "health.h"
#include "macro.h"

static const char *const protocol_names[_HEALTH_PROTOCOL_MAX] = {
        [HEALTH_PROTOCOL_TCP] = "TCP",
        [HEALTH_PROTOCOL_HTTP] = "HTTP",
};

static const char *const state_names[_HEALTH_STATE_MAX] = {
        [HEALTH_UNKNOWN] = "unknown",
        [HEALTH_HEALTHY] = "healthy",
        [HEALTH_UNHEALTHY] = "unhealthy",
};

const char *health_protocol_to_string(HealthProtocol p) {
        if (p < 0 || p >= _HEALTH_PROTOCOL_MAX)
                return NULL;
        return protocol_names[p];
}

HealthProtocol health_protocol_from_string(const char *s) {
        if (!s)
                return _HEALTH_PROTOCOL_INVALID;
        for (size_t i = 0; i < ELEMENTSOF(protocol_names); i++)
                if (streq(s, protocol_names[i]))
                        return (HealthProtocol)i;
        return _HEALTH_PROTOCOL_INVALID;
}

const char *health_state_to_string(HealthState s) {
        if ((int)s < 0 || s >= _HEALTH_STATE_MAX)
                return NULL;
        return state_names[s];
}

static int reject(char **ret_error, const char *format, ...) _printf_(2, 3);
static int reject(char **ret_error, const char *format, ...) {
        va_list ap;

        if (ret_error) {
                char *message = NULL;

                va_start(ap, format);
                if (vasprintf(&message, format, ap) < 0)
                        message = NULL;
                va_end(ap);
                *ret_error = message;
        }
        return -EINVAL;
}

static int validate_range(const char *field, unsigned value, unsigned min, unsigned max, char **ret_error) {
        if (value < min || value > max)
                return reject(ret_error,
                              "Invalid HealthCheckConfiguration.%s %u: expected an integer from %u to %u.",
                              field, value, min, max);
        return 0;
}

/* Accepts a path that starts with '/' and contains only printable ASCII without spaces, because
 * it is sent verbatim in the request line. A query string ("/health?full=1") is allowed. */
static int validate_path(const char *path, char **ret_error) {
        size_t n;

        if (!path)
                return 0;

        n = strlen(path);
        if (n == 0 || path[0] != '/')
                return reject(ret_error,
                              "Invalid HealthCheckConfiguration.Path \"%.64s\": it must start with '/'.",
                              path);
        if (n > HEALTH_PATH_MAX)
                return reject(ret_error,
                              "Invalid HealthCheckConfiguration.Path: %zu bytes long, the maximum is %u.", n,
                              HEALTH_PATH_MAX);
        for (size_t i = 0; i < n; i++)
                if (path[i] <= ' ' || path[i] >= 0x7f)
                        return reject(
                                ret_error,
                                "Invalid HealthCheckConfiguration.Path: byte 0x%02x at offset %zu is not "
                                "printable ASCII; percent-encode spaces and other characters.",
                                (unsigned char)path[i], i);
        return 0;
}

int health_settings_validate(const HealthSettings *s, char **ret_error) {
        int r;

        if (!health_protocol_to_string(s->protocol))
                return reject(ret_error,
                              "Invalid HealthCheckConfiguration.Protocol %i: expected TCP or HTTP.",
                              (int)s->protocol);

        r = validate_path(s->path, ret_error);
        if (r < 0)
                return r;
        r = validate_range("Interval", s->interval_sec, HEALTH_INTERVAL_SEC_MIN, HEALTH_INTERVAL_SEC_MAX,
                           ret_error);
        if (r < 0)
                return r;
        r = validate_range("Timeout", s->timeout_sec, HEALTH_TIMEOUT_SEC_MIN, HEALTH_TIMEOUT_SEC_MAX,
                           ret_error);
        if (r < 0)
                return r;
        r = validate_range("HealthyThreshold", s->healthy_threshold, HEALTH_THRESHOLD_MIN,
                           HEALTH_THRESHOLD_MAX, ret_error);
        if (r < 0)
                return r;
        return validate_range("UnhealthyThreshold", s->unhealthy_threshold, HEALTH_THRESHOLD_MIN,
                              HEALTH_THRESHOLD_MAX, ret_error);
}
