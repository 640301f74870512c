/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* One libcurl multi handle per sd_event, driven by curl_multi_socket_action(): curl's sockets become
 * sd-event I/O sources and curl's timer one sd-event time source. The context is reference counted
 * and found again by its sd_event, so all HTTP health checks on one loop share it. */

#include <curl/curl.h>
#include <stdbool.h>
#include <systemd/sd-event.h>

typedef struct HealthCurl HealthCurl;

typedef void (*health_curl_done_t)(CURLcode result, void *userdata);

/* One transfer in flight. The owner keeps it alive until the transfer is done or removed. */
typedef struct HealthCurlTransfer {
        CURL *easy;
        health_curl_done_t done;
        void *userdata;
        bool added; /* the easy handle is currently in the multi handle */
} HealthCurlTransfer;

/* Returns a new reference to the context of 'e', creating it on first use. */
int health_curl_acquire(sd_event *e, HealthCurl **ret);
HealthCurl *health_curl_unref(HealthCurl *c);

/* Adds t->easy to the multi handle. t->done runs once from the event loop when the transfer ends,
 * after the handle has been removed again; it may free the transfer and drop its reference to
 * the context. */
int health_curl_start(HealthCurl *c, HealthCurlTransfer *t);

/* Removes a transfer in flight; t->done is not called. Does nothing if the transfer is not in
 * flight. */
void health_curl_cancel(HealthCurl *c, HealthCurlTransfer *t);
