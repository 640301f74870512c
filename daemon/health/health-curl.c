/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>

#include "health-curl.h"
#include "log.h"
#include "macro.h"

/* One socket that curl asked us to watch, stored in curl with curl_multi_assign(). */
typedef struct CurlSocket CurlSocket;
struct CurlSocket {
        HealthCurl *context;
        sd_event_source *source;
        curl_socket_t fd;
        CurlSocket *prev, *next;
};

struct HealthCurl {
        unsigned n_ref;
        sd_event *event;
        CURLM *multi;
        sd_event_source *timer;
        CurlSocket *sockets;
        HealthCurl *prev, *next;
};

/* Contexts of all event loops in this process. sd_event objects belong to one thread each, and this
 * module runs no threads of its own, so the list needs no lock as long as all checks run on one
 * thread. NOTE: checks on several threads at once would race on this list. */
static HealthCurl *contexts = NULL;

static HealthCurl *health_curl_ref(HealthCurl *c) {
        c->n_ref++;
        return c;
}

static void health_curl_unrefp(HealthCurl **c) {
        health_curl_unref(*c);
}

static CurlSocket *curl_socket_free(CurlSocket *s) {
        if (!s)
                return NULL;

        if (s->prev)
                s->prev->next = s->next;
        else
                s->context->sockets = s->next;
        if (s->next)
                s->next->prev = s->prev;

        sd_event_source_disable_unref(s->source);
        free(s);
        return NULL;
}

static void health_curl_dispatch_done(HealthCurl *c) {
        CURLMsg *msg;
        int n_left;

        while ((msg = curl_multi_info_read(c->multi, &n_left))) {
                HealthCurlTransfer *t = NULL;
                CURL *easy;
                CURLcode result;

                if (msg->msg != CURLMSG_DONE)
                        continue;

                /* 'msg' is invalid once any handle is removed, so copy what is needed first. */
                easy = msg->easy_handle;
                result = msg->data.result;

                (void)curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
                (void)curl_multi_remove_handle(c->multi, easy);
                if (!t)
                        continue;

                t->added = false;
                t->done(result, t->userdata);
        }
}

static int on_curl_io(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        CurlSocket *s = userdata;
        /* Transfers finishing here may drop the last outside reference to the context. */
        _cleanup_(health_curl_unrefp) HealthCurl *c = health_curl_ref(s->context);
        int mask = 0, n_running;

        if (revents & (EPOLLIN | EPOLLHUP))
                mask |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                mask |= CURL_CSELECT_OUT;
        if (revents & EPOLLERR)
                mask |= CURL_CSELECT_ERR;

        /* 's' may be freed inside this call, when curl closes the socket. */
        (void)curl_multi_socket_action(c->multi, fd, mask, &n_running);
        health_curl_dispatch_done(c);
        return 0;
}

static int on_curl_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        _cleanup_(health_curl_unrefp) HealthCurl *c = health_curl_ref(userdata);
        int n_running;

        (void)curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &n_running);
        health_curl_dispatch_done(c);
        return 0;
}

/* CURLMOPT_SOCKETFUNCTION: mirrors the events curl waits for on 'fd' in an sd-event I/O source. */
static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userdata, void *socketp) {
        HealthCurl *c = userdata;
        CurlSocket *s = socketp;
        uint32_t events = 0;
        int r;

        if (what == CURL_POLL_REMOVE) {
                curl_socket_free(s);
                return 0;
        }

        if (what & CURL_POLL_IN)
                events |= EPOLLIN;
        if (what & CURL_POLL_OUT)
                events |= EPOLLOUT;

        if (s) {
                r = sd_event_source_set_io_events(s->source, events);
                if (r >= 0)
                        r = sd_event_source_set_enabled(s->source, events ? SD_EVENT_ON : SD_EVENT_OFF);
                if (r < 0) {
                        log_debug_errno(r, "Failed to update watch of curl socket %i: %m", fd);
                        return -1;
                }
                return 0;
        }

        /* curl reports CURL_POLL_REMOVE before it closes a socket, so no source should exist for
         * this descriptor number. If one does, its socket was closed and the number reused, and
         * the stale source must go before the new socket can be watched. */
        for (CurlSocket *i = c->sockets; i; i = i->next)
                if (i->fd == fd) {
                        curl_socket_free(i);
                        break;
                }

        s = calloc(1, sizeof(*s));
        if (!s)
                return -1;
        s->context = c;
        s->fd = fd;

        r = sd_event_add_io(c->event, &s->source, fd, events, on_curl_io, s);
        if (r < 0) {
                log_debug_errno(r, "Failed to watch curl socket %i: %m", fd);
                free(s);
                return -1;
        }
        (void)sd_event_source_set_description(s->source, "health-curl-io");
        if (events == 0)
                (void)sd_event_source_set_enabled(s->source, SD_EVENT_OFF);

        s->next = c->sockets;
        if (c->sockets)
                c->sockets->prev = s;
        c->sockets = s;

        if (curl_multi_assign(c->multi, fd, s) != CURLM_OK) {
                curl_socket_free(s);
                return -1;
        }
        return 0;
}

/* CURLMOPT_TIMERFUNCTION: curl requests a call to curl_multi_socket_action(CURL_SOCKET_TIMEOUT) after
 * 'timeout_ms', or never if it is -1. The call must not happen from inside this callback, so even
 * a timeout of 0 goes through the event loop. */
static int on_curl_timer_change(CURLM *multi, long timeout_ms, void *userdata) {
        HealthCurl *c = userdata;
        uint64_t usec;
        int r;

        if (timeout_ms < 0) {
                if (c->timer)
                        (void)sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
                return 0;
        }

        usec = (uint64_t)timeout_ms * 1000U;
        if (c->timer) {
                r = sd_event_source_set_time_relative(c->timer, usec);
                if (r >= 0)
                        r = sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
        } else {
                r = sd_event_add_time_relative(c->event, &c->timer, CLOCK_MONOTONIC, usec, 1000,
                                               on_curl_timer, c);
                if (r >= 0)
                        (void)sd_event_source_set_description(c->timer, "health-curl-timer");
        }
        if (r < 0) {
                log_debug_errno(r, "Failed to arm curl timer: %m");
                return -1;
        }
        return 0;
}

static HealthCurl *health_curl_free(HealthCurl *c) {
        if (c->prev)
                c->prev->next = c->next;
        else
                contexts = c->next;
        if (c->next)
                c->next->prev = c->prev;

        /* curl_multi_cleanup() may still call the socket and timer callbacks, so the sources go
         * after it. */
        if (c->multi)
                curl_multi_cleanup(c->multi);
        while (c->sockets)
                curl_socket_free(c->sockets);
        sd_event_source_disable_unref(c->timer);
        curl_global_cleanup();
        sd_event_unref(c->event);
        free(c);
        return NULL;
}

HealthCurl *health_curl_unref(HealthCurl *c) {
        if (!c)
                return NULL;
        if (--c->n_ref > 0)
                return NULL;
        return health_curl_free(c);
}

int health_curl_acquire(sd_event *e, HealthCurl **ret) {
        HealthCurl *c;

        for (c = contexts; c; c = c->next)
                if (c->event == e) {
                        *ret = health_curl_ref(c);
                        return 0;
                }

        /* curl_global_init() counts its calls, and health_curl_free() pairs each one with
         * curl_global_cleanup(). */
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return -EIO;

        c = calloc(1, sizeof(*c));
        if (!c) {
                curl_global_cleanup();
                return -ENOMEM;
        }
        c->n_ref = 1;
        c->event = sd_event_ref(e);
        c->next = contexts;
        if (contexts)
                contexts->prev = c;
        contexts = c;

        c->multi = curl_multi_init();
        if (!c->multi || curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket) != CURLM_OK ||
            curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c) != CURLM_OK ||
            curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer_change) != CURLM_OK ||
            curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c) != CURLM_OK) {
                health_curl_free(c);
                return -ENOMEM;
        }

        *ret = c;
        return 0;
}

int health_curl_start(HealthCurl *c, HealthCurlTransfer *t) {
        if (t->added)
                return -EBUSY;
        if (curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t) != CURLE_OK)
                return -EINVAL;
        if (curl_multi_add_handle(c->multi, t->easy) != CURLM_OK)
                return -ENOMEM;
        t->added = true;
        return 0;
}

void health_curl_cancel(HealthCurl *c, HealthCurlTransfer *t) {
        if (!t->added)
                return;
        (void)curl_multi_remove_handle(c->multi, t->easy);
        t->added = false;
}
