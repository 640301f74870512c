/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* TCP probe: a non-blocking connect(2) watched for EPOLLOUT, with its own Timeout timer. The probe
 * passes once the three-way handshake completes, so it does not wait for accept(2). */

#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "health-internal.h"
#include "log.h"
#include "macro.h"

void health_tcp_probe_cancel(HealthCheck *hc) {
        hc->tcp_io_source = sd_event_source_disable_unref(hc->tcp_io_source);
        hc->tcp_timeout_source = sd_event_source_disable_unref(hc->tcp_timeout_source);
        if (hc->tcp_fd >= 0) {
                close(hc->tcp_fd);
                hc->tcp_fd = -1;
        }
}

static void tcp_probe_finish(HealthCheck *hc, const char *failure) {
        health_tcp_probe_cancel(hc);
        health_check_probe_done(hc, failure);
}

static int on_tcp_connect(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        HealthCheck *hc = userdata;
        char reason[128];
        socklen_t length = sizeof(int);
        int error = 0;

        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) < 0)
                error = errno;
        else if (error == 0 && !(revents & EPOLLOUT))
                /* EPOLLHUP or EPOLLERR without a pending socket error. */
                error = ECONNRESET;

        tcp_probe_finish(hc, error != 0 ? health_errno_to_reason(error, reason, sizeof(reason)) : NULL);
        return 0;
}

static int on_tcp_timeout(sd_event_source *source, uint64_t usec, void *userdata) {
        HealthCheck *hc = userdata;
        char reason[64];

        tcp_probe_finish(hc, health_check_format_timeout(hc, reason, sizeof(reason)));
        return 0;
}

static void tcp_probe_fail_local(HealthCheck *hc, const char *operation, int error) {
        char text[96], reason[160];

        /* NOTE: a local failure (such as running out of file descriptors) counts against the
         * instance like a refused connection does. */
        snprintf(reason, sizeof(reason), "%s failed: %s", operation,
                 health_errno_to_reason(error, text, sizeof(text)));
        tcp_probe_finish(hc, reason);
}

void health_tcp_probe_start(HealthCheck *hc) {
        _cleanup_close_ int fd = -1;
        struct sockaddr_in address = {
                .sin_family = AF_INET,
                .sin_port = htons(hc->port),
                .sin_addr = hc->address,
        };
        char reason[128];
        int r;

        fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
        if (fd < 0) {
                tcp_probe_fail_local(hc, "socket()", errno);
                return;
        }

        /* A connect that completes at once is still reported through EPOLLOUT, which is ready
         * immediately, so on_tcp_connect() handles every completed connect. */
        if (connect(fd, (const struct sockaddr *)&address, sizeof(address)) < 0 && errno != EINPROGRESS) {
                tcp_probe_finish(hc, health_errno_to_reason(errno, reason, sizeof(reason)));
                return;
        }

        r = sd_event_add_io(hc->event, &hc->tcp_io_source, fd, EPOLLOUT, on_tcp_connect, hc);
        if (r < 0) {
                tcp_probe_fail_local(hc, "sd_event_add_io()", -r);
                return;
        }
        (void)sd_event_source_set_description(hc->tcp_io_source, "health-tcp-connect");
        hc->tcp_fd = TAKE_FD(fd);

        r = sd_event_add_time(hc->event, &hc->tcp_timeout_source, CLOCK_MONOTONIC,
                              hc->probe_start_usec + hc->settings.timeout_sec * USEC_PER_SEC, USEC_PER_MSEC,
                              on_tcp_timeout, hc);
        if (r < 0) {
                tcp_probe_fail_local(hc, "sd_event_add_time()", -r);
                return;
        }
        (void)sd_event_source_set_description(hc->tcp_timeout_source, "health-tcp-timeout");
}
