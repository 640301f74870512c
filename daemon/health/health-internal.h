/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared between the scheduler (health.c) and the probes (health-tcp.c, health-http.c).
 *
 * A check runs at most one probe at a time. The scheduler starts a probe from its interval timer,
 * and the probe ends by calling health_check_probe_done() exactly once. That function updates the
 * counters, arms the timer for the next probe and then runs the user's callback. That callback may free the
 * check, so health_check_probe_done() is the last thing a probe does with 'hc'. */

#include <curl/curl.h>
#include <stdbool.h>

#include "health-curl.h"
#include "health.h"

#define USEC_PER_SEC  UINT64_C(1000000)
#define USEC_PER_MSEC UINT64_C(1000)

struct HealthCheck {
        sd_event *event;
        HealthSettings settings; /* settings.path points to 'path' */
        char *path;
        struct in_addr address;
        uint16_t port;
        char *description; /* "PROTOCOL ADDRESS:PORT", for debug logs */

        health_callback_t callback;
        void *userdata;

        HealthState state;
        unsigned n_passes_in_row, n_failures_in_row;
        char *last_reason;

        sd_event_source *interval_source;
        uint64_t probe_start_usec;           /* CLOCK_MONOTONIC */
        uint64_t counted_failure_start_usec; /* start of the last failed probe that counted */
        bool probe_running;

        /* TCP probe */
        int tcp_fd;
        sd_event_source *tcp_io_source, *tcp_timeout_source;

        /* HTTP probe */
        HealthCurl *curl;
        HealthCurlTransfer transfer;
        char *url;
        long http_status; /* final status of the probe in flight, 0 until its header block ends */
        char curl_error[CURL_ERROR_SIZE];

        bool in_callback, free_requested;
};

/* Start a probe of the check's protocol. A probe that cannot start ends at once through
 * health_check_probe_done(), so 'hc' may be freed when these return. */
void health_tcp_probe_start(HealthCheck *hc);
void health_http_probe_start(HealthCheck *hc);

/* Cancel the probe in flight, if any, without a result. */
void health_tcp_probe_cancel(HealthCheck *hc);
void health_http_probe_cancel(HealthCheck *hc);

/* Create the easy handle and URL of an HTTP check, and release them again. */
int health_http_setup(HealthCheck *hc);
void health_http_release(HealthCheck *hc);

/* Records the result of the probe in flight: 'failure' is NULL when it passed, and otherwise a
 * short description of why it failed. 'hc' may be freed when this returns. */
void health_check_probe_done(HealthCheck *hc, const char *failure);

/* Formats "timed out after N s" with the check's Timeout. */
const char *health_check_format_timeout(HealthCheck *hc, char *buf, size_t size);
/* Formats an errno value as a probe failure, such as "connection refused". */
const char *health_errno_to_reason(int error, char *buf, size_t size);
