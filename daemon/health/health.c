/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Scheduling and state of one health check.
 *
 * Each check owns a one-shot interval timer. It fires first at creation time, starts a probe, and
 * is re-armed when the probe ends, for Interval seconds after that probe started, or for at once if
 * the probe took longer. Probes therefore never overlap, and their start times are Interval apart
 * as long as Timeout < Interval. Before the first state change, a failed probe that does not count
 * is retried HEALTH_STARTUP_RETRY_USEC after it started.
 *
 * The user's callback may free the check. health_check_free() finds 'in_callback' set and only sets
 * 'free_requested'; health_check_probe_done() releases the check after the callback returns. */

#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "health-internal.h"
#include "log.h"
#include "macro.h"

const char *health_errno_to_reason(int error, char *buf, size_t size) {
        const char *text = strerrordesc_np(abs(error));

        if (text)
                snprintf(buf, size, "%s", text);
        else
                snprintf(buf, size, "error %i", abs(error));

        /* glibc capitalizes its messages, and reasons read as clauses: "connection refused". */
        if (buf[0] && isupper((unsigned char)buf[0]) && !isupper((unsigned char)buf[1]))
                buf[0] = (char)tolower((unsigned char)buf[0]);
        return buf;
}

const char *health_check_format_timeout(HealthCheck *hc, char *buf, size_t size) {
        snprintf(buf, size, "timed out after %u s", hc->settings.timeout_sec);
        return buf;
}

static void health_check_cancel_probe(HealthCheck *hc) {
        if (hc->settings.protocol == HEALTH_PROTOCOL_HTTP)
                health_http_probe_cancel(hc);
        else
                health_tcp_probe_cancel(hc);
        hc->probe_running = false;
}

static int on_interval(sd_event_source *source, uint64_t usec, void *userdata) {
        HealthCheck *hc = userdata;
        int r;

        r = sd_event_now(hc->event, CLOCK_MONOTONIC, &hc->probe_start_usec);
        if (r < 0)
                hc->probe_start_usec = usec;
        hc->probe_running = true;

        log_debug("Health check %s: probe started.", hc->description);
        if (hc->settings.protocol == HEALTH_PROTOCOL_HTTP)
                health_http_probe_start(hc);
        else
                health_tcp_probe_start(hc);
        return 0;
}

static void health_check_schedule_next(HealthCheck *hc, uint64_t delay_usec) {
        uint64_t next = hc->probe_start_usec + delay_usec;
        int r;

        r = sd_event_source_set_time(hc->interval_source, next);
        if (r >= 0)
                r = sd_event_source_set_enabled(hc->interval_source, SD_EVENT_ONESHOT);
        if (r < 0)
                /* NOTE: both calls fail only on invalid arguments or a dead event loop, and then the
                 * check stays in its current state without further probes. */
                log_debug_errno(r, "Health check %s: failed to schedule the next probe: %m",
                                hc->description);
}

void health_check_probe_done(HealthCheck *hc, const char *failure) {
        uint64_t interval_usec = hc->settings.interval_sec * USEC_PER_SEC;
        HealthState new_state = hc->state;

        hc->probe_running = false;

        if (failure) {
                if (free_and_strdup(&hc->last_reason, failure) < 0)
                        log_debug("Health check %s: out of memory, keeping the previous failure reason.",
                                  hc->description);

                /* Until the first state change, a failed probe is retried soon, but failures count
                 * at most once per Interval: an instance is found healthy shortly after its app
                 * listens, and found unhealthy no sooner than with one probe per Interval. */
                if (hc->state == HEALTH_UNKNOWN && hc->n_failures_in_row > 0 &&
                    hc->probe_start_usec < hc->counted_failure_start_usec + interval_usec) {
                        log_debug(
                                "Health check %s: probe failed before the first state change, retrying: %s",
                                hc->description, failure);
                        health_check_schedule_next(hc, MIN(HEALTH_STARTUP_RETRY_USEC, interval_usec));
                        return;
                }
                hc->counted_failure_start_usec = hc->probe_start_usec;
                hc->n_passes_in_row = 0;
                if (hc->n_failures_in_row < UINT_MAX)
                        hc->n_failures_in_row++;
                if (hc->n_failures_in_row >= hc->settings.unhealthy_threshold)
                        new_state = HEALTH_UNHEALTHY;
                log_debug("Health check %s: probe failed (%u in a row): %s", hc->description,
                          hc->n_failures_in_row, failure);
        } else {
                hc->n_failures_in_row = 0;
                if (hc->n_passes_in_row < UINT_MAX)
                        hc->n_passes_in_row++;
                if (hc->n_passes_in_row >= hc->settings.healthy_threshold)
                        new_state = HEALTH_HEALTHY;
                log_debug("Health check %s: probe passed (%u in a row).", hc->description,
                          hc->n_passes_in_row);
        }

        if (failure && new_state == HEALTH_UNKNOWN)
                health_check_schedule_next(hc, MIN(HEALTH_STARTUP_RETRY_USEC, interval_usec));
        else
                health_check_schedule_next(hc, interval_usec);

        if (new_state == hc->state)
                return;

        log_debug("Health check %s: %s -> %s.", hc->description, health_state_to_string(hc->state),
                  health_state_to_string(new_state));
        hc->state = new_state;
        if (!hc->callback)
                return;

        hc->in_callback = true;
        hc->callback(hc, new_state, hc->last_reason, hc->userdata);
        hc->in_callback = false;

        if (hc->free_requested)
                health_check_free(hc);
}

HealthCheck *health_check_free(HealthCheck *hc) {
        if (!hc)
                return NULL;

        if (hc->in_callback) {
                hc->free_requested = true;
                return NULL;
        }

        health_check_cancel_probe(hc);
        sd_event_source_disable_unref(hc->interval_source);
        health_http_release(hc);
        sd_event_unref(hc->event);
        free(hc->last_reason);
        free(hc->description);
        free(hc->path);
        free(hc);
        return NULL;
}

int health_check_new(sd_event *e, const HealthSettings *s, struct in_addr address, uint16_t port,
                     health_callback_t cb, void *userdata, HealthCheck **ret) {
        _cleanup_(health_check_freep) HealthCheck *hc = NULL;
        char address_text[INET_ADDRSTRLEN];
        int r;

        if (!e || !s || !ret)
                return -EINVAL;
        r = health_settings_validate(s, NULL);
        if (r < 0)
                return r;

        hc = calloc(1, sizeof(*hc));
        if (!hc)
                return -ENOMEM;
        hc->event = sd_event_ref(e);
        hc->tcp_fd = -1;
        hc->settings = *s;
        hc->address = address;
        hc->port = port;
        hc->callback = cb;
        hc->userdata = userdata;
        hc->state = HEALTH_UNKNOWN;

        hc->path = strdup(s->path ?: HEALTH_PATH_DEFAULT);
        if (!hc->path)
                return -ENOMEM;
        hc->settings.path = hc->path;

        if (!inet_ntop(AF_INET, &address, address_text, sizeof(address_text)))
                return -errno;
        if (asprintf(&hc->description, "%s %s:%u%s", health_protocol_to_string(s->protocol), address_text,
                     port, s->protocol == HEALTH_PROTOCOL_HTTP ? hc->path : "") < 0) {
                hc->description = NULL;
                return -ENOMEM;
        }

        if (s->protocol == HEALTH_PROTOCOL_HTTP) {
                r = health_http_setup(hc);
                if (r < 0)
                        return r;
        }

        /* Time 0 has passed already, so the first probe starts on the next loop iteration. */
        r = sd_event_add_time(e, &hc->interval_source, CLOCK_MONOTONIC, 0, USEC_PER_MSEC, on_interval, hc);
        if (r < 0)
                return r;
        (void)sd_event_source_set_description(hc->interval_source, "health-interval");

        *ret = TAKE_PTR(hc);
        return 0;
}

HealthState health_check_state(HealthCheck *hc) {
        return hc ? hc->state : HEALTH_UNKNOWN;
}

const char *health_check_last_reason(HealthCheck *hc) {
        return hc ? hc->last_reason : NULL;
}
