/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Health checks of one instance, with App Runner's HealthCheckConfiguration semantics.
 *
 * A check probes an IPv4 address and port every Interval seconds, starting with one probe as soon
 * as the event loop runs. Until the first state change, a failed probe is retried every
 * HEALTH_STARTUP_RETRY_USEC, but failures count at most once per Interval. An app that starts
 * listening late is therefore found healthy within a fraction of a second, and a dead one is
 * found unhealthy no sooner than without the retries. A TCP probe passes when a non-blocking connect(2)
 * completes within Timeout. An HTTP probe sends "GET <Path>" with libcurl and passes when a 2xx or
 * 3xx status line arrives within Timeout; redirects are not followed. Passes and failures in a row
 * are counted against HealthyThreshold and UnhealthyThreshold, and the callback runs on every
 * state change.
 *
 * All checks on one sd_event share one libcurl multi handle. Nothing here blocks or starts a
 * thread, and the module logs at debug level only. */

#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <systemd/sd-event.h>

typedef enum HealthProtocol {
        HEALTH_PROTOCOL_TCP,
        HEALTH_PROTOCOL_HTTP,
        _HEALTH_PROTOCOL_MAX,
        _HEALTH_PROTOCOL_INVALID = -EINVAL,
} HealthProtocol;

/* App Runner's HealthCheckConfiguration. All durations are in seconds. */
typedef struct HealthSettings {
        HealthProtocol protocol;
        const char *path; /* HTTP only; NULL means "/" */
        unsigned interval_sec, timeout_sec, healthy_threshold, unhealthy_threshold;
} HealthSettings;

/* Limits and defaults from App Runner's HealthCheckConfiguration. */
#define HEALTH_INTERVAL_SEC_MIN            1U
#define HEALTH_INTERVAL_SEC_MAX            20U
#define HEALTH_INTERVAL_SEC_DEFAULT        5U
#define HEALTH_TIMEOUT_SEC_MIN             1U
#define HEALTH_TIMEOUT_SEC_MAX             20U
#define HEALTH_TIMEOUT_SEC_DEFAULT         2U
#define HEALTH_THRESHOLD_MIN               1U
#define HEALTH_THRESHOLD_MAX               20U
#define HEALTH_HEALTHY_THRESHOLD_DEFAULT   1U
#define HEALTH_UNHEALTHY_THRESHOLD_DEFAULT 5U
#define HEALTH_PATH_DEFAULT                "/"
/* Delay of a retried probe before the first state change, in microseconds. */
#define HEALTH_STARTUP_RETRY_USEC (250 * 1000ULL)
/* Maximum length of Path in bytes, chosen here because App Runner documents none. It keeps the
 * request line well below the 8 KiB default limits of nginx (large_client_header_buffers) and
 * Apache httpd (LimitRequestLine 8190). */
#define HEALTH_PATH_MAX 1024U

#define HEALTH_SETTINGS_DEFAULT                                            \
        ((HealthSettings){                                                 \
                .protocol = HEALTH_PROTOCOL_TCP,                           \
                .path = HEALTH_PATH_DEFAULT,                               \
                .interval_sec = HEALTH_INTERVAL_SEC_DEFAULT,               \
                .timeout_sec = HEALTH_TIMEOUT_SEC_DEFAULT,                 \
                .healthy_threshold = HEALTH_HEALTHY_THRESHOLD_DEFAULT,     \
                .unhealthy_threshold = HEALTH_UNHEALTHY_THRESHOLD_DEFAULT, \
        })

typedef enum HealthState {
        HEALTH_UNKNOWN,
        HEALTH_HEALTHY,
        HEALTH_UNHEALTHY,
        _HEALTH_STATE_MAX,
} HealthState;

typedef struct HealthCheck HealthCheck;

/* Called on every state transition: UNKNOWN->HEALTHY after healthy_threshold passes in a row,
 * UNKNOWN->UNHEALTHY after unhealthy_threshold failures in a row, and HEALTHY<->UNHEALTHY likewise.
 * 'reason' describes the most recent failed probe ("connection refused", "HTTP status 500",
 * "timed out after 2 s"), or is NULL if no probe has failed yet. It is valid until the callback
 * returns. The callback may call health_check_free() on 'hc' or on any other check. */
typedef void (*health_callback_t)(HealthCheck *hc, HealthState state, const char *reason, void *userdata);

/* "TCP"/"HTTP", the spelling of App Runner's API. */
const char *health_protocol_to_string(HealthProtocol p);
HealthProtocol health_protocol_from_string(const char *s);
/* "unknown", "healthy", "unhealthy". */
const char *health_state_to_string(HealthState s);

/* Checks every field against App Runner's limits. Returns 0, or -EINVAL and, if ret_error is not
 * NULL, a malloc'ed sentence that names the field, the value and the valid range. */
int health_settings_validate(const HealthSettings *s, char **ret_error);

/* Creates a check of address:port (address in network byte order, port in host byte order) and
 * schedules its first probe on 'e' at once. The settings are copied. Returns 0, -EINVAL if the
 * settings are invalid, or another negative errno. */
int health_check_new(sd_event *e, const HealthSettings *s, struct in_addr address, uint16_t port,
                     health_callback_t cb, void *userdata, HealthCheck **ret);

/* Stops the check, cancels a probe in flight and releases everything it holds; the callback is not
 * called again. Inside the check's own callback the release is deferred until the callback
 * returns. Accepts NULL and returns NULL. */
HealthCheck *health_check_free(HealthCheck *hc);

static inline void health_check_freep(HealthCheck **hc) {
        health_check_free(*hc);
}

HealthState health_check_state(HealthCheck *hc);

/* Returns the reason of the most recent failed probe, or NULL if no probe has failed. The string
 * stays valid until the next probe completes or the check is freed. */
const char *health_check_last_reason(HealthCheck *hc);
