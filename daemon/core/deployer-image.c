/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The image deployer runs services from container images.
 *
 * A deployment (CREATE_SERVICE, RESUME_SERVICE, START_DEPLOYMENT,
 * UPDATE_SERVICE) goes through these steps, all on the event loop except
 * the image pull, which runs in a worker thread:
 *
 *   1. resolve the image: pull it into the image store (or load the
 *      version already there for RESUME_SERVICE);
 *   2. start MinSize instances of a new generation: address, network
 *      namespace, overlay root, OCI bundle, transient unit;
 *   3. wait until every new instance passes its health check (or fail at
 *      the first instance that fails, or after StartTimeoutSec);
 *   4. add the new instances to the ingress, drain the old generation,
 *      stop and clean it up, and make the new generation the service's.
 *
 * A failure in 1-3 removes the new generation and leaves the old one
 * serving. Instances outside a deployment are watched: one whose unit
 * stops or that fails UnhealthyThreshold checks in a row is replaced. */

#include <arpa/inet.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "deployer.h"
#include "engine.h"
#include "error.h"
#include "health/health.h"
#include "ids.h"
#include "image/image-store.h"
#include "ingress/ingress.h"
#include "log.h"
#include "network/bridge.h"
#include "network/ipam.h"
#include "network/netns.h"
#include "runtime/oci-spec.h"
#include "runtime/rootfs.h"
#include "runtime/runtime.h"
#include "runtime/seccomp-profile.h"
#include "systemd-client.h"
#include "time-util.h"

#define DRAIN_POLL_USEC (200 * 1000ULL)
/* How often a stopping instance's unit is checked for its end. */
#define STOP_POLL_USEC (100 * 1000ULL)
/* Grace period between SIGTERM and SIGKILL when an instance stops. An
 * image's process often runs as PID 1 of its PID namespace without a
 * SIGTERM handler, and the kernel does not deliver SIGTERM to such a
 * process, so this is how long stopping such an instance takes. */
#define INSTANCE_STOP_TIMEOUT_USEC (3 * USEC_PER_SEC)

typedef struct DeployerState {
        ImageStore *images;
        Ipam *ipam;
        Ingress *ingress;
        json_object *seccomp;
        struct in_addr gateway;
        bool ingress_started;
        sd_bus_slot *unit_signals;
        sd_event_source *reap_timer;
        sd_event_source *scale_timer;
} DeployerState;

typedef struct InstanceRuntime {
        HealthCheck *health;
        bool in_ingress;
} InstanceRuntime;

typedef struct Deployment {
        Manager *manager;
        char *service_id;
        char *operation_id;
        OperationType type;
        ServiceSpec spec; /* copy of the settings being deployed */
        unsigned generation;
        unsigned wanted;
        ResolvedImage *image;
        char *error;

        /* image pull */
        pthread_t thread;
        bool thread_started;
        int event_fd;
        sd_event_source *event_source;
        RegistryCredentials credentials;
        char *username, *password;

        sd_event_source *timer;
        unsigned drain_polls;

        /* Set when the operation's result is known but it waits for the
         * service's stopping instances to be removed (see the reaper). */
        bool end_pending;
        bool stop_slice; /* stop the service's slice at the end (delete, or nothing left) */
        OperationStatus end_status;
        char *end_message;
} Deployment;

static DeployerState *state(Manager *m) {
        return m->deployer_data;
}

/* Helpers */

static void instance_runtime_free(Instance *i) {
        InstanceRuntime *rt = i->runtime;
        if (!rt)
                return;
        health_check_free(rt->health);
        free(rt);
        i->runtime = NULL;
}

static int instance_dir(Manager *m, const Instance *i, char **ret) {
        return asprintf(ret, "%s/instances/%s", m->state_dir, i->id) < 0 ? -ENOMEM : 0;
}

static void container_id(const Instance *i, char buf[static 32]) {
        snprintf(buf, 32, "apprunner-%s", i->id);
}

/* RLIMIT_NOFILE of an instance: OCI_DEFAULT_NOFILE_LIMIT, or less when the
 * hard limit that systemd gives services is lower, as inside a container
 * manager's container. crun fails to start a container whose limit it
 * cannot set, and apprunnerd runs under the same default limits as the
 * instances' units. */
static uint64_t instance_nofile_limit(void) {
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_max == RLIM_INFINITY ||
            rl.rlim_max >= OCI_DEFAULT_NOFILE_LIMIT)
                return OCI_DEFAULT_NOFILE_LIMIT;
        return rl.rlim_max;
}

static AutoScalingConfiguration *auto_scaling_of_spec(Manager *m, const ServiceSpec *spec) {
        AutoScalingConfiguration *c = manager_find_auto_scaling(m, spec->auto_scaling_configuration_arn);
        return c ?: manager_default_auto_scaling(m);
}

static int update_routes(Manager *m) {
        DeployerState *st = state(m);
        _cleanup_free_ IngressRoute *routes = NULL;
        _cleanup_free_ char **hosts = NULL;
        _cleanup_free_ char *error = NULL;
        size_t n = 0;
        int r;

        routes = calloc(m->n_services + 1, sizeof(IngressRoute));
        hosts = calloc(m->n_services + 1, sizeof(char *));
        if (!routes || !hosts)
                return -ENOMEM;

        for (size_t k = 0; k < m->n_services; k++) {
                Service *s = m->services[k];
                AutoScalingConfiguration *c = manager_service_auto_scaling(m, s);
                char *host;

                if (s->status == SERVICE_CREATE_FAILED || s->status == SERVICE_DELETED)
                        continue;
                if (asprintf(&host, "%s.%s.%s", s->url_id, m->config.region, m->config.domain_suffix) < 0)
                        goto oom;
                hosts[n] = host;
                routes[n] = (IngressRoute){
                        .service_id = s->id,
                        .host = host,
                        .state = s->status == SERVICE_PAUSED ? ROUTE_PAUSED : ROUTE_RUNNING,
                        .max_concurrency = c ? c->max_concurrency : 100,
                        .request_timeout_sec = s->spec.request_timeout,
                };
                n++;
        }

        r = ingress_set_routes(st->ingress, routes, n, &error);
        for (size_t k = 0; k < n; k++)
                free(hosts[k]);
        if (r < 0)
                return log_error_errno(r, "Failed to update the ingress routes: %s", strna(error));
        return 0;

oom:
        for (size_t k = 0; k < n; k++)
                free(hosts[k]);
        return -ENOMEM;
}

/* Takes an instance out of the ingress and requests that systemd stop its unit,
 * without waiting. */
static void instance_stop_begin(Manager *m, Service *s, Instance *i) {
        instance_runtime_free(i);
        i->state = INSTANCE_STOPPING;
        i->stop_requested_usec = now_monotonic_usec();
        (void)ingress_server_remove(state(m)->ingress, s->id, i->id);

        if (m->bus) {
                sd_bus_error e = SD_BUS_ERROR_NULL;
                int r = systemd_stop_unit(m->bus, i->unit, &e);
                if (r < 0)
                        log_ids(LOG_WARNING, s->id, i->id, NULL, "Failed to stop %s: %s", i->unit,
                                e.message ?: strerror(-r));
                sd_bus_error_free(&e);
        }
}

/* Returns whether the unit of a STOPPING instance has ended, or has had
 * INSTANCE_STOP_TIMEOUT_USEC and 2 s more, after which systemd has killed
 * what was left. */
static bool instance_stopped(Manager *m, const Instance *i) {
        _cleanup_free_ char *active = NULL;

        if (!m->bus || systemd_unit_active_state(m->bus, i->unit, &active) < 0 ||
            streq(active, "inactive") || streq(active, "failed"))
                return true;
        return now_monotonic_usec() >=
               i->stop_requested_usec + INSTANCE_STOP_TIMEOUT_USEC + 2 * USEC_PER_SEC;
}

/* Removes the container state, the overlay root, the network namespace and
 * the address of an instance whose unit has stopped. */
static void instance_cleanup(Manager *m, Service *s, Instance *i) {
        DeployerState *st = state(m);
        _cleanup_free_ char *dir = NULL;
        char cid[32];

        container_id(i, cid);
        (void)runtime_delete(m->config.runtime, cid);
        if (instance_dir(m, i, &dir) >= 0) {
                _cleanup_free_ char *config = NULL;

                (void)rootfs_umount(dir);
                /* The OCI bundle's config.json is the last file in it. */
                if (asprintf(&config, "%s/config.json", dir) >= 0)
                        (void)unlink(config);
                if (rmdir(dir) < 0 && errno != ENOENT)
                        log_ids(LOG_WARNING, s->id, i->id, NULL, "Failed to remove %s: %s", dir,
                                strerror(errno));
        }
        (void)instance_netns_destroy(i->id);
        (void)ipam_release(st->ipam, i->id);
        log_ids(LOG_INFO, s->id, i->id, NULL, "Removed instance %s of service %s.", i->id, s->name);
}

/* Stops an instance's unit, waits for it and removes everything it used.
 * This blocks the event loop for up to INSTANCE_STOP_TIMEOUT_USEC, so only
 * start-up and a failed start use it. Everything else calls
 * instance_stop_begin() and lets the reaper remove the instance. */
static void instance_destroy(Manager *m, Service *s, Instance *i) {
        instance_stop_begin(m, s, i);
        while (!instance_stopped(m, i))
                usleep(STOP_POLL_USEC);
        instance_cleanup(m, s, i);
}

static void service_remove_instance(Service *s, Instance *i) {
        for (Instance **p = &s->instances; *p; p = &(*p)->next)
                if (*p == i) {
                        *p = i->next;
                        break;
                }
        instance_free(i);
}

static bool service_has_stopping(const Service *s) {
        for (const Instance *i = s->instances; i; i = i->next)
                if (i->state == INSTANCE_STOPPING)
                        return true;
        return false;
}

static void reap_schedule(Manager *m);

/* Requests the stop of the instances of one generation (or all of them).
 * They stay in the service as STOPPING until the reaper removes them. */
static void stop_generation(Manager *m, Service *s, unsigned generation, bool all) {
        for (Instance *i = s->instances; i; i = i->next)
                if ((all || i->generation == generation) && i->state != INSTANCE_STOPPING)
                        instance_stop_begin(m, s, i);
        reap_schedule(m);
}

/* Deployment bookkeeping */

static Deployment *deployment_free(Deployment *d) {
        if (!d)
                return NULL;
        if (d->thread_started)
                pthread_join(d->thread, NULL);
        sd_event_source_disable_unref(d->event_source);
        sd_event_source_disable_unref(d->timer);
        if (d->event_fd >= 0)
                close(d->event_fd);
        resolved_image_free(d->image);
        service_spec_done(&d->spec);
        free(d->service_id);
        free(d->operation_id);
        free(d->error);
        free(d->username);
        erase_and_free(d->password);
        free(d->end_message);
        free(d);
        return NULL;
}

static void deployment_finish(Deployment *d, OperationStatus status, const char *message) {
        Manager *m = d->manager;
        Service *s = manager_find_service_by_id(m, d->service_id);
        Operation *op = manager_find_operation(m, d->operation_id);

        if (s && s->deployment == d)
                s->deployment = NULL;
        if (op)
                engine_operation_finished(m, op, status, message);
        deployment_free(d);
}

static int update_routes(Manager *m);

/* Ends the operation now that the service has no stopping instance. */
static void deployment_complete(Deployment *d, Service *s) {
        Manager *m = d->manager;
        _cleanup_free_ char *message = TAKE_PTR(d->end_message);

        if (d->stop_slice && !s->instances && m->bus) {
                _cleanup_free_ char *slice = NULL;
                if (service_slice_name(s->name, &slice) >= 0)
                        (void)systemd_stop_unit(m->bus, slice, NULL);
        }
        (void)manager_save_service(m, s);
        /* This may free the service (DELETE_SERVICE). */
        deployment_finish(d, d->end_status, message);
        (void)update_routes(m);
}

/* Records how the operation ends, and ends it once the service's stopping
 * instances are removed, so that a finished operation leaves no unit,
 * mount, namespace or address of them behind. */
static void deployment_end(Deployment *d, Service *s, OperationStatus status, const char *message) {
        d->end_pending = true;
        d->end_status = status;
        if (free_and_strdup(&d->end_message, message) < 0)
                d->end_message = NULL;
        if (d->timer)
                (void)sd_event_source_set_enabled(d->timer, SD_EVENT_OFF);

        if (service_has_stopping(s)) {
                (void)manager_save_service(d->manager, s);
                reap_schedule(d->manager);
                return;
        }
        deployment_complete(d, s);
}

static void deployment_fail(Deployment *d, Service *s, const char *reason) {
        bool had_old = s->generation > 0 && d->type != OPERATION_CREATE_SERVICE &&
                       d->type != OPERATION_RESUME_SERVICE;

        /* Only the first failure of a deployment counts. */
        if (d->end_pending)
                return;
        stop_generation(d->manager, s, d->generation, false);
        /* A service that failed to start keeps no slice behind. */
        d->stop_slice = true;
        deployment_end(d, s, had_old ? OPERATION_ROLLBACK_SUCCEEDED : OPERATION_FAILED, reason);
}

/* Removes the instances whose stop has ended, and ends the operations that
 * waited for them. Runs every STOP_POLL_USEC while an instance is stopping. */
static int on_reap_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        bool again = false, ended = true;

        for (size_t k = 0; k < m->n_services; k++) {
                Service *s = m->services[k];
                bool removed = false;

                for (Instance *i = s->instances, *next; i; i = next) {
                        next = i->next;
                        if (i->state != INSTANCE_STOPPING)
                                continue;
                        if (!instance_stopped(m, i)) {
                                again = true;
                                continue;
                        }
                        instance_cleanup(m, s, i);
                        service_remove_instance(s, i);
                        removed = true;
                }
                if (removed)
                        (void)manager_save_service(m, s);
        }

        /* Ending an operation can remove its service from m->services, so
         * the scan starts again after each one. */
        while (ended) {
                ended = false;
                for (size_t k = 0; k < m->n_services; k++) {
                        Service *s = m->services[k];
                        Deployment *d = s->deployment;

                        if (d && d->end_pending && !service_has_stopping(s)) {
                                deployment_complete(d, s);
                                ended = true;
                                break;
                        }
                }
        }

        if (again)
                reap_schedule(m);
        return 0;
}

static void reap_schedule(Manager *m) {
        DeployerState *st = state(m);
        int r;

        if (!m->event)
                return;
        if (st->reap_timer) {
                r = sd_event_source_set_time_relative(st->reap_timer, STOP_POLL_USEC);
                if (r >= 0)
                        r = sd_event_source_set_enabled(st->reap_timer, SD_EVENT_ONESHOT);
        } else
                r = sd_event_add_time_relative(m->event, &st->reap_timer, CLOCK_MONOTONIC, STOP_POLL_USEC, 0,
                                               on_reap_timer, m);
        if (r < 0)
                log_warning_errno(r, "Failed to arm the timer that removes stopped instances: %m");
}

/* Instances */

static void on_health(HealthCheck *hc, HealthState hs, const char *reason, void *userdata);

static int instance_start(Manager *m, Service *s, const ServiceSpec *spec, const ResolvedImage *image,
                          unsigned generation, Instance **ret, char **ret_error) {
        DeployerState *st = state(m);
        _cleanup_free_ char *dir = NULL, *merged = NULL, *netns = NULL, *slice = NULL, *description = NULL;
        _cleanup_strv_free_ char **argv = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        Instance *i;
        char cid[32];
        int r;

        i = calloc(1, sizeof(Instance));
        if (!i)
                return -ENOMEM;
        i->service = s;
        i->generation = generation;
        i->state = INSTANCE_STARTING;
        i->port = (uint16_t)atoi(spec->port);
        r = id_new_instance(&i->id);
        if (r >= 0)
                r = instance_unit_name(s->name, i->id, &i->unit);
        if (r >= 0 && !(i->image_digest = strdup(image->manifest_digest)))
                r = -ENOMEM;
        if (r < 0)
                goto fail;

        r = ipam_allocate(st->ipam, i->id, &i->address);
        if (r < 0) {
                error_set(ret_error, r, "No free instance address in the configured subnet: %s.",
                          strerror(-r));
                goto fail;
        }

        r = instance_netns_create(m->config.bridge, i->id, i->address, m->config.subnet_prefix, st->gateway,
                                  &netns, ret_error);
        if (r < 0)
                goto fail;

        r = instance_dir(m, i, &dir);
        if (r < 0)
                goto fail;
        (void)mkdir(dir, 0700);
        r = rootfs_mount(image->layer_dirs, dir, &merged, ret_error);
        if (r < 0)
                goto fail;

        InstanceSpec is = {
                .instance_id = i->id,
                .hostname = i->id,
                .rootfs = merged,
                .netns_path = netns,
                .image = &image->config,
                .start_command = spec->start_command,
                .port = i->port,
                .env = spec->environment,
                .seccomp = st->seccomp,
                .nofile_limit = instance_nofile_limit(),
        };
        r = oci_bundle_write(&is, dir, ret_error);
        if (r < 0)
                goto fail;

        container_id(i, cid);
        argv = runtime_argv(m->config.runtime, dir, cid, runtime_in_container());
        if (!argv) {
                r = -ENOMEM;
                goto fail;
        }

        r = service_slice_name(s->name, &slice);
        if (r >= 0 && asprintf(&description, "apprunner service %s, instance %s", s->name, i->id) < 0)
                r = -ENOMEM;
        if (r < 0)
                goto fail;

        InstanceUnit u = {
                .name = i->unit,
                .slice = slice,
                .description = description,
                .argv = argv,
                .memory_max = (uint64_t)spec->memory * 1024 * 1024,
                .cpu_quota_per_sec = (uint64_t)spec->cpu * 1000000 / 1024,
                .tasks_max = m->config.tasks_max,
                .service_id = s->id,
                .service_name = s->name,
                .instance_id = i->id,
                .stop_timeout_usec = INSTANCE_STOP_TIMEOUT_USEC,
        };
        r = systemd_start_instance(m->bus, &u, &e);
        if (r < 0) {
                error_set(ret_error, r, "Failed to start unit %s: %s", i->unit, e.message ?: strerror(-r));
                sd_bus_error_free(&e);
                goto fail;
        }

        InstanceRuntime *rt = calloc(1, sizeof(InstanceRuntime));
        if (!rt) {
                r = -ENOMEM;
                goto fail_started;
        }
        i->runtime = rt;
        HealthSettings hs = {
                .protocol = spec->health_protocol == HEALTH_CHECK_HTTP ? HEALTH_PROTOCOL_HTTP
                                                                       : HEALTH_PROTOCOL_TCP,
                .path = spec->health_path,
                .interval_sec = spec->health_interval,
                .timeout_sec = spec->health_timeout,
                .healthy_threshold = spec->healthy_threshold,
                .unhealthy_threshold = spec->unhealthy_threshold,
        };
        r = health_check_new(m->event, &hs, i->address, i->port, on_health, i, &rt->health);
        if (r < 0)
                goto fail_started;

        /* Append, so that the instance list keeps start order. */
        Instance **tail = &s->instances;
        while (*tail)
                tail = &(*tail)->next;
        *tail = i;

        {
                char address[INET_ADDRSTRLEN];
                inet_ntop(AF_INET, &i->address, address, sizeof(address));
                log_ids(LOG_INFO, s->id, i->id, s->operation_id,
                        "Started instance %s of service %s as %s at %s:%u.", i->id, s->name, i->unit,
                        address, i->port);
        }
        *ret = i;
        return 0;

fail_started:
fail:
        if (i->unit)
                instance_destroy(m, s, i);
        instance_free(i);
        return r;
}

static void deployment_switch_traffic(Deployment *d, Service *s);

static unsigned count_state(Service *s, unsigned generation, InstanceState st) {
        unsigned n = 0;
        for (Instance *i = s->instances; i; i = i->next)
                if (i->generation == generation && i->state == st)
                        n++;
        return n;
}

static int replace_instance(Manager *m, Service *s, Instance *i, const char *reason);

static void on_health(HealthCheck *hc, HealthState hs, const char *reason, void *userdata) {
        Instance *i = userdata;
        Service *s = i->service;
        /* Services carry their Manager in userdata for callbacks like this. */
        Manager *m = s->userdata;
        Deployment *d = s->deployment;

        if (hs == HEALTH_HEALTHY) {
                i->state = INSTANCE_HEALTHY;
                log_ids(LOG_INFO, s->id, i->id, s->operation_id, "Instance %s of service %s is healthy.",
                        i->id, s->name);
                if (d && i->generation == d->generation) {
                        if (count_state(s, d->generation, INSTANCE_HEALTHY) >= d->wanted)
                                deployment_switch_traffic(d, s);
                        return;
                }
                if (i->generation == s->generation && s->status != SERVICE_PAUSED) {
                        InstanceRuntime *rt = i->runtime;
                        if (!rt->in_ingress && ingress_server_add(state(m)->ingress, s->id, i->id,
                                                                  i->address, i->port, NULL) >= 0)
                                rt->in_ingress = true;
                }
                return;
        }

        if (hs != HEALTH_UNHEALTHY)
                return;

        i->state = INSTANCE_UNHEALTHY;
        log_ids(LOG_WARNING, s->id, i->id, s->operation_id,
                "Instance %s of service %s failed its health check: %s", i->id, s->name, strna(reason));

        if (d && i->generation == d->generation) {
                _cleanup_free_ char *message = NULL;
                if (asprintf(&message, "Health check failed for instance %s on port %u: %s.", i->id, i->port,
                             strna(reason)) < 0)
                        message = NULL;
                deployment_fail(d, s, message ?: "Health check failed.");
                return;
        }
        if (i->generation == s->generation)
                (void)replace_instance(m, s, i, reason);
}

/* Starts one more instance of the version that serves (generation
 * s->generation). It joins the ingress once it passes its health check. */
static int start_serving_instance(Manager *m, Service *s) {
        _cleanup_(resolved_image_freep) ResolvedImage *image = NULL;
        _cleanup_free_ char *error = NULL;
        Instance *n;
        int r;

        r = image_store_load(state(m)->images, s->image_digest, &image, &error);
        if (r < 0)
                return log_ids_errno(LOG_ERR, r, s->id, NULL, NULL, "Failed to load image %s: %s",
                                     s->image_digest, strna(error));
        r = instance_start(m, s, &s->spec, image, s->generation, &n, &error);
        if (r < 0)
                log_ids_errno(LOG_ERR, r, s->id, NULL, NULL, "Failed to start an instance of service %s: %s",
                              s->name, strna(error));
        (void)manager_save_service(m, s);
        return r;
}

static int replace_instance(Manager *m, Service *s, Instance *i, const char *reason) {
        log_ids(LOG_NOTICE, s->id, i->id, NULL, "Replacing instance %s of service %s: %s", i->id, s->name,
                strna(reason));
        /* The reaper removes it once its unit has stopped. */
        instance_stop_begin(m, s, i);
        reap_schedule(m);

        if (s->status != SERVICE_RUNNING || !s->image_digest || i->generation != s->generation)
                return 0;
        return start_serving_instance(m, s);
}

/* Autoscaler */

/* Gives a RUNNING service enough instances for its concurrent and queued
 * requests at MaxConcurrency each, within MinSize and MaxSize. Instances
 * start at once. When fewer would do for ScaleInDelaySec, the newest
 * healthy one is drained and then stopped, one per ScaleInDelaySec. */
static void scale_service(Manager *m, Service *s, uint64_t now_usec) {
        DeployerState *st = state(m);
        AutoScalingConfiguration *c = manager_service_auto_scaling(m, s);
        uint64_t delay_usec = (uint64_t)m->config.scale_in_delay_sec * USEC_PER_SEC;
        unsigned serving = 0, healthy = 0, needed, load;
        Instance *newest = NULL;

        if (!c || s->status != SERVICE_RUNNING || s->operation_id || s->deployment || !s->image_digest) {
                s->scale_in_since_usec = 0;
                return;
        }

        /* Drained instances are stopped once their requests have ended, or
         * after the service's request timeout. */
        for (Instance *i = s->instances; i; i = i->next) {
                unsigned sessions = 0;

                if (i->generation != s->generation || i->state != INSTANCE_DRAINING)
                        continue;
                if (ingress_server_sessions(st->ingress, s->id, i->id, &sessions) >= 0 && sessions > 0 &&
                    now_usec < i->stop_requested_usec + (uint64_t)s->spec.request_timeout * USEC_PER_SEC)
                        continue;
                instance_stop_begin(m, s, i);
                reap_schedule(m);
        }

        for (Instance *i = s->instances; i; i = i->next) {
                if (i->generation != s->generation)
                        continue;
                if (i->state == INSTANCE_STARTING || i->state == INSTANCE_HEALTHY ||
                    i->state == INSTANCE_UNHEALTHY)
                        serving++;
                if (i->state == INSTANCE_HEALTHY) {
                        healthy++;
                        newest = i;
                }
        }

        load = s->stats.active + s->stats.queued;
        needed = (load + c->max_concurrency - 1) / c->max_concurrency;
        needed = MAX(needed, c->min_size);
        needed = MIN(needed, c->max_size);

        if (needed > serving) {
                s->scale_in_since_usec = 0;
                log_ids(LOG_INFO, s->id, NULL, NULL,
                        "Scaling service %s out from %u to %u instances: %u concurrent and queued requests, "
                        "MaxConcurrency %u.",
                        s->name, serving, needed, load, c->max_concurrency);
                for (; serving < needed; serving++)
                        if (start_serving_instance(m, s) < 0)
                                break;
                return;
        }

        /* Only a surplus of healthy instances is drained, so at least
         * as many healthy instances as needed stay in the ingress. */
        if (needed == serving || healthy <= needed || !newest) {
                s->scale_in_since_usec = 0;
                return;
        }
        if (s->scale_in_since_usec == 0) {
                s->scale_in_since_usec = now_usec;
                return;
        }
        if (now_usec < s->scale_in_since_usec + delay_usec)
                return;

        log_ids(LOG_INFO, s->id, newest->id, NULL,
                "Scaling service %s in from %u to %u instances: %u concurrent and queued requests, "
                "MaxConcurrency %u. Draining instance %s.",
                s->name, serving, serving - 1, load, c->max_concurrency, newest->id);
        newest->state = INSTANCE_DRAINING;
        newest->stop_requested_usec = now_usec;
        (void)ingress_server_drain(st->ingress, s->id, newest->id);
        s->scale_in_since_usec = now_usec;
        (void)manager_save_service(m, s);
}

static int on_scale_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        uint64_t now_usec = now_monotonic_usec();
        int r;

        /* Without current figures nothing is scaled, in or out. */
        if (manager_refresh_stats(m) >= 0)
                for (size_t k = 0; k < m->n_services; k++)
                        scale_service(m, m->services[k], now_usec);

        r = sd_event_source_set_time_relative(source, (uint64_t)m->config.scale_interval_sec * USEC_PER_SEC);
        if (r >= 0)
                r = sd_event_source_set_enabled(source, SD_EVENT_ONESHOT);
        if (r < 0)
                log_warning_errno(r, "Failed to arm the autoscaler's timer: %m");
        return 0;
}

/* Unit signals: an instance whose unit stops outside a stop request is
 * replaced. */
static int on_unit_properties_changed(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_free_ char *unit = NULL;
        const char *interface, *path = sd_bus_message_get_path(message);
        int r;

        if (sd_bus_path_decode(path, "/org/freedesktop/systemd1/unit", &unit) <= 0)
                return 0;
        if (strncmp(unit, "apprunner-", 10) != 0)
                return 0;

        r = sd_bus_message_read(message, "s", &interface);
        if (r < 0 || !streq(interface, "org.freedesktop.systemd1.Unit"))
                return 0;

        r = sd_bus_message_enter_container(message, 'a', "{sv}");
        if (r < 0)
                return 0;
        while (sd_bus_message_enter_container(message, 'e', "sv") > 0) {
                const char *name, *active;

                if (sd_bus_message_read(message, "s", &name) < 0)
                        return 0;
                if (!streq(name, "ActiveState")) {
                        (void)sd_bus_message_skip(message, "v");
                        (void)sd_bus_message_exit_container(message);
                        continue;
                }
                if (sd_bus_message_read(message, "v", "s", &active) < 0)
                        return 0;
                if (!streq(active, "failed") && !streq(active, "inactive"))
                        return 0;

                /* systemd announces a new transient unit as inactive before
                 * its start job runs, and signals queued during a synchronous
                 * call arrive late, so act only on the unit's current state. */
                {
                        _cleanup_free_ char *now = NULL;
                        if (systemd_unit_active_state(m->bus, unit, &now) < 0 ||
                            (!streq(now, "failed") && !streq(now, "inactive")))
                                return 0;
                }

                for (size_t k = 0; k < m->n_services; k++) {
                        Service *s = m->services[k];
                        for (Instance *i = s->instances; i; i = i->next) {
                                if (!streq(i->unit, unit) || i->state == INSTANCE_STOPPING)
                                        continue;
                                if (s->deployment &&
                                    i->generation == ((Deployment *)s->deployment)->generation) {
                                        _cleanup_free_ char *msg = NULL;
                                        if (asprintf(&msg,
                                                     "Instance %s exited before it passed its health check; "
                                                     "see journalctl -u '%s'.",
                                                     i->id, i->unit) < 0)
                                                msg = NULL;
                                        deployment_fail(s->deployment, s, msg ?: "Instance exited.");
                                } else
                                        (void)replace_instance(m, s, i, "its unit stopped");
                                return 0;
                        }
                }
                return 0;
        }
        return 0;
}

/* Deployment steps */

static int on_drain_timer(sd_event_source *source, uint64_t usec, void *userdata);

static void deployment_switch_traffic(Deployment *d, Service *s) {
        Manager *m = d->manager;
        DeployerState *st = state(m);
        _cleanup_free_ char *error = NULL;
        int r;

        /* The route must exist before servers can join it. */
        s->status = SERVICE_RUNNING;
        r = update_routes(m);
        s->status = SERVICE_OPERATION_IN_PROGRESS;
        if (r < 0) {
                deployment_fail(d, s, "Failed to update the ingress.");
                return;
        }

        for (Instance *i = s->instances; i; i = i->next) {
                InstanceRuntime *rt = i->runtime;
                if (i->generation != d->generation || !rt || rt->in_ingress)
                        continue;
                r = ingress_server_add(st->ingress, s->id, i->id, i->address, i->port, &error);
                if (r < 0) {
                        _cleanup_free_ char *msg = NULL;
                        if (asprintf(&msg, "Failed to add instance %s to the ingress: %s", i->id,
                                     strna(error)) < 0)
                                msg = NULL;
                        deployment_fail(d, s, msg ?: "Failed to add an instance to the ingress.");
                        return;
                }
                rt->in_ingress = true;
        }

        /* From here on the new generation serves; the old one drains. */
        for (Instance *i = s->instances; i; i = i->next)
                if (i->generation != d->generation) {
                        i->state = INSTANCE_DRAINING;
                        (void)ingress_server_drain(st->ingress, s->id, i->id);
                }

        free(s->previous_image_digest);
        s->previous_image_digest = s->image_digest;
        s->image_digest = strdup(d->image->manifest_digest);
        /* An image loaded from the store (resume) has no source digest, and
         * is the version that served before. */
        if (d->image->source_digest)
                (void)free_and_strdup(&s->image_source_digest, d->image->source_digest);
        else if (!streq_ptr(s->image_digest, s->previous_image_digest))
                (void)free_and_strdup(&s->image_source_digest, NULL);
        s->generation = d->generation;
        (void)manager_save_service(m, s);

        d->drain_polls = 0;
        r = sd_event_add_time_relative(m->event, &d->timer, CLOCK_MONOTONIC, DRAIN_POLL_USEC, 0,
                                       on_drain_timer, d);
        if (r < 0)
                on_drain_timer(NULL, 0, d);
}

/* Removes the images that no service serves, keeps for rollback or runs in
 * an instance. Does nothing while another deployment is in progress: its
 * image may be pulled but not referenced yet, and collecting it would pull
 * the layers from under its new instances. The next deployment to finish
 * collects instead. */
static void collect_images(Manager *m, Deployment *finishing) {
        _cleanup_free_ char **keep = NULL;
        size_t n = 0, size = 1;

        for (size_t k = 0; k < m->n_services; k++) {
                Service *s = m->services[k];

                if (s->deployment && s->deployment != finishing)
                        return;
                size += 2;
                for (Instance *i = s->instances; i; i = i->next)
                        size++;
        }

        keep = calloc(size, sizeof(char *));
        if (!keep)
                return;
        for (size_t k = 0; k < m->n_services; k++) {
                Service *s = m->services[k];

                if (s->image_digest)
                        keep[n++] = s->image_digest;
                if (s->previous_image_digest)
                        keep[n++] = s->previous_image_digest;
                for (Instance *i = s->instances; i; i = i->next)
                        if (i->image_digest)
                                keep[n++] = i->image_digest;
        }
        (void)image_store_gc(state(m)->images, keep);
}

static int on_drain_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        Deployment *d = userdata;
        Manager *m = d->manager;
        Service *s = manager_find_service_by_id(m, d->service_id);
        bool busy = false;

        if (!s)
                return 0;

        for (Instance *i = s->instances; i; i = i->next) {
                unsigned sessions = 0;
                if (i->generation == d->generation)
                        continue;
                if (ingress_server_sessions(state(m)->ingress, s->id, i->id, &sessions) >= 0 && sessions > 0)
                        busy = true;
        }

        /* Requests in flight get up to the request timeout to finish. */
        if (busy && ++d->drain_polls * DRAIN_POLL_USEC < (uint64_t)s->spec.request_timeout * 1000000ULL) {
                (void)sd_event_source_set_time_relative(d->timer, DRAIN_POLL_USEC);
                (void)sd_event_source_set_enabled(d->timer, SD_EVENT_ONESHOT);
                return 0;
        }

        for (Instance *i = s->instances; i; i = i->next)
                if (i->generation != d->generation && i->state != INSTANCE_STOPPING)
                        instance_stop_begin(m, s, i);

        collect_images(m, d);

        deployment_end(d, s, OPERATION_SUCCEEDED, NULL);
        return 0;
}

static int on_start_timeout(sd_event_source *source, uint64_t usec, void *userdata) {
        Deployment *d = userdata;
        Service *s = manager_find_service_by_id(d->manager, d->service_id);
        _cleanup_free_ char *msg = NULL;

        if (!s)
                return 0;
        if (asprintf(
                    &msg,
                    "Instances did not pass their health checks within %u s ([Instances] StartTimeoutSec=).",
                    d->manager->config.start_timeout_sec) < 0)
                msg = NULL;
        deployment_fail(d, s, msg ?: "Instances did not become healthy in time.");
        return 0;
}

static void deployment_start_instances(Deployment *d, Service *s) {
        Manager *m = d->manager;
        _cleanup_free_ char *slice = NULL, *description = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        r = service_slice_name(s->name, &slice);
        if (r >= 0 && asprintf(&description, "apprunner service %s", s->name) < 0)
                r = -ENOMEM;
        if (r >= 0)
                r = systemd_start_slice(m->bus, slice, description, &e);
        if (r < 0) {
                _cleanup_free_ char *msg = NULL;
                if (asprintf(&msg, "Failed to create %s: %s", strna(slice), e.message ?: strerror(-r)) < 0)
                        msg = NULL;
                sd_bus_error_free(&e);
                deployment_fail(d, s, msg ?: "Failed to create the slice.");
                return;
        }

        for (unsigned k = 0; k < d->wanted; k++) {
                _cleanup_free_ char *error = NULL, *msg = NULL;
                Instance *i;

                r = instance_start(m, s, &d->spec, d->image, d->generation, &i, &error);
                if (r < 0) {
                        if (asprintf(&msg, "Failed to start an instance: %s", error ?: strerror(-r)) < 0)
                                msg = NULL;
                        deployment_fail(d, s, msg ?: "Failed to start an instance.");
                        return;
                }
        }
        (void)manager_save_service(m, s);

        r = sd_event_add_time_relative(m->event, &d->timer, CLOCK_MONOTONIC,
                                       (uint64_t)m->config.start_timeout_sec * 1000000ULL, 0,
                                       on_start_timeout, d);
        if (r < 0)
                deployment_fail(d, s, "Failed to arm the start timer.");
}

static void *pull_thread(void *userdata) {
        Deployment *d = userdata;
        DeployerState *st = state(d->manager);
        uint64_t one = 1;

        (void)image_store_pull(st->images, d->spec.image_identifier, d->spec.image_repository_type,
                               d->username ? &d->credentials : NULL, &d->image, &d->error);
        (void)write(d->event_fd, &one, sizeof(one));
        return NULL;
}

static int on_pull_done(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        Deployment *d = userdata;
        Service *s = manager_find_service_by_id(d->manager, d->service_id);
        uint64_t v;

        (void)read(fd, &v, sizeof(v));
        pthread_join(d->thread, NULL);
        d->thread_started = false;
        d->event_source = sd_event_source_disable_unref(d->event_source);

        if (!s) {
                deployment_free(d);
                return 0;
        }
        if (!d->image) {
                _cleanup_free_ char *msg = NULL;
                /* The image store's messages start with "Image <identifier>:". */
                if (d->error && strncmp(d->error, "Image ", 6) == 0)
                        msg = strdup(d->error);
                else if (asprintf(&msg, "Failed to fetch image %s: %s", d->spec.image_identifier,
                                  d->error ?: "unknown error") < 0)
                        msg = NULL;
                deployment_fail(d, s, msg ?: "Failed to pull the image.");
                return 0;
        }
        log_ids(LOG_INFO, s->id, NULL, d->operation_id, "Image %s resolved to %s.", d->spec.image_identifier,
                d->image->manifest_digest);
        deployment_start_instances(d, s);
        return 0;
}

/* Returns a new deployment of op on s, or NULL when out of memory. */
static Deployment *deployment_new(Manager *m, Service *s, Operation *op) {
        Deployment *d = calloc(1, sizeof(Deployment));

        if (!d)
                return NULL;
        d->event_fd = -1;
        d->manager = m;
        d->type = op->type;
        d->generation = s->generation + 1;
        d->service_id = strdup(s->id);
        d->operation_id = strdup(op->id);
        if (!d->service_id || !d->operation_id)
                return deployment_free(d);
        return d;
}

static int deploy(Manager *m, Service *s, Operation *op) {
        DeployerState *st = state(m);
        AutoScalingConfiguration *c;
        Deployment *d;
        int r;

        d = deployment_new(m, s, op);
        if (!d)
                return -ENOMEM;
        r = service_spec_copy(op->spec ?: &s->spec, &d->spec);
        if (r < 0) {
                deployment_free(d);
                return r;
        }
        c = auto_scaling_of_spec(m, &d->spec);
        d->wanted = c ? c->min_size : 1;
        s->userdata = m;
        s->deployment = d;

        if (op->type == OPERATION_RESUME_SERVICE && s->image_digest) {
                _cleanup_free_ char *error = NULL;
                r = image_store_load(st->images, s->image_digest, &d->image, &error);
                if (r < 0) {
                        _cleanup_free_ char *msg = NULL;
                        if (asprintf(&msg, "Failed to load image %s from the store: %s", s->image_digest,
                                     strna(error)) < 0)
                                msg = NULL;
                        deployment_fail(d, s, msg ?: "Failed to load the image.");
                        return 0;
                }
                deployment_start_instances(d, s);
                return 0;
        }

        if (d->spec.connection_arn) {
                Connection *conn = manager_find_connection(m, d->spec.connection_arn);
                if (!conn || manager_connection_secret(m, conn, &d->password) < 0) {
                        deployment_fail(d, s, "Failed to read the credentials of the service's connection.");
                        return 0;
                }
                d->username = strdup(conn->username);
                d->credentials = (RegistryCredentials){.username = d->username, .password = d->password};
        }

        d->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (d->event_fd < 0) {
                deployment_fail(d, s, "Failed to create an eventfd.");
                return 0;
        }
        r = sd_event_add_io(m->event, &d->event_source, d->event_fd, EPOLLIN, on_pull_done, d);
        if (r < 0) {
                deployment_fail(d, s, "Failed to watch the image pull.");
                return 0;
        }
        r = pthread_create(&d->thread, NULL, pull_thread, d);
        if (r != 0) {
                deployment_fail(d, s, "Failed to start the image pull thread.");
                return 0;
        }
        d->thread_started = true;
        return 0;
}

static int run(Manager *m, Service *s, Operation *op) {
        s->userdata = m;

        switch (op->type) {
        case OPERATION_CREATE_SERVICE:
        case OPERATION_RESUME_SERVICE:
        case OPERATION_START_DEPLOYMENT:
        case OPERATION_UPDATE_SERVICE:
                return deploy(m, s, op);

        case OPERATION_PAUSE_SERVICE:
        case OPERATION_DELETE_SERVICE: {
                Deployment *d = deployment_new(m, s, op);

                if (!d)
                        return -ENOMEM;
                s->deployment = d;
                d->stop_slice = op->type == OPERATION_DELETE_SERVICE;
                stop_generation(m, s, 0, true);
                deployment_end(d, s, OPERATION_SUCCEEDED, NULL);
                return 0;
        }

        default:
                return -EOPNOTSUPP;
        }
}

/* Adopts the instances of a service after a daemon restart. */
static int reconcile(Manager *m, Service *s) {
        Instance *i, *next;
        unsigned running = 0;
        AutoScalingConfiguration *c;

        s->userdata = m;

        for (i = s->instances; i; i = next) {
                _cleanup_free_ char *active = NULL;
                next = i->next;

                if (i->generation != s->generation || s->status != SERVICE_RUNNING ||
                    systemd_unit_active_state(m->bus, i->unit, &active) < 0 ||
                    (!streq(active, "active") && !streq(active, "activating"))) {
                        instance_destroy(m, s, i);
                        service_remove_instance(s, i);
                        continue;
                }

                InstanceRuntime *rt = calloc(1, sizeof(InstanceRuntime));
                if (!rt)
                        return -ENOMEM;
                i->runtime = rt;
                i->service = s;
                HealthSettings hs = {
                        .protocol = s->spec.health_protocol == HEALTH_CHECK_HTTP ? HEALTH_PROTOCOL_HTTP
                                                                                 : HEALTH_PROTOCOL_TCP,
                        .path = s->spec.health_path,
                        .interval_sec = s->spec.health_interval,
                        .timeout_sec = s->spec.health_timeout,
                        .healthy_threshold = s->spec.healthy_threshold,
                        .unhealthy_threshold = s->spec.unhealthy_threshold,
                };
                if (health_check_new(m->event, &hs, i->address, i->port, on_health, i, &rt->health) < 0)
                        return -ENOMEM;
                /* It served before the restart; it stays in the ingress
                 * while its health check confirms it. */
                i->state = INSTANCE_HEALTHY;
                if (ingress_server_add(state(m)->ingress, s->id, i->id, i->address, i->port, NULL) >= 0)
                        rt->in_ingress = true;
                running++;
                log_ids(LOG_INFO, s->id, i->id, NULL, "Adopted running instance %s (%s).", i->id, i->unit);
        }

        c = manager_service_auto_scaling(m, s);
        if (s->status == SERVICE_RUNNING && s->image_digest && c) {
                _cleanup_(resolved_image_freep) ResolvedImage *image = NULL;
                _cleanup_free_ char *error = NULL;

                if (running < c->min_size &&
                    image_store_load(state(m)->images, s->image_digest, &image, &error) < 0)
                        log_ids(LOG_ERR, s->id, NULL, NULL, "Failed to load image %s: %s", s->image_digest,
                                strna(error));
                for (; image && running < c->min_size; running++) {
                        Instance *n;
                        _cleanup_free_ char *slice = NULL;
                        if (service_slice_name(s->name, &slice) >= 0)
                                (void)systemd_start_slice(m->bus, slice, s->name, NULL);
                        if (instance_start(m, s, &s->spec, image, s->generation, &n, &error) < 0) {
                                log_ids(LOG_ERR, s->id, NULL, NULL, "Failed to start a missing instance: %s",
                                        strna(error));
                                break;
                        }
                }
        }
        return manager_save_service(m, s);
}

static int image_changed(Manager *m, Service *s, bool *ret_changed, char **ret_error) {
        _cleanup_free_ char *digest = NULL;
        char *password = NULL;
        RegistryCredentials creds = {};
        int r;

        if (s->spec.connection_arn) {
                Connection *c = manager_find_connection(m, s->spec.connection_arn);
                if (c && manager_connection_secret(m, c, &password) >= 0)
                        creds = (RegistryCredentials){.username = c->username, .password = password};
        }
        r = image_store_resolve_digest(state(m)->images, s->spec.image_identifier,
                                       s->spec.image_repository_type, creds.username ? &creds : NULL,
                                       &digest, ret_error);
        erase_and_free(password);
        if (r < 0)
                return r;
        /* Services stored before the source digest was kept have only the
         * manifest digest, which is the same for OCI images. */
        *ret_changed = !streq_ptr(digest, s->image_source_digest ?: s->image_digest);
        return 0;
}

#define INGRESS_SOCKET_UNIT       "apprunner-ingress.socket"
#define INGRESS_SOCKET_DROPIN_DIR "/run/systemd/system/" INGRESS_SOCKET_UNIT ".d"
#define INGRESS_SOCKET_DROPIN     INGRESS_SOCKET_DROPIN_DIR "/50-apprunnerd-listen.conf"

/* Points apprunner-ingress.socket at [Ingress] ListenAddress and ListenPort
 * with a runtime drop-in. When the drop-in changes, systemd reloads its
 * units and an active socket restarts on the new address. That restarts
 * apprunner-ingress.service too, because it requires the socket. */
static int configure_ingress_socket(Manager *m) {
        _cleanup_free_ char *content = NULL, *current = NULL, *active = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        size_t size = 0;
        FILE *f;
        int r;

        if (asprintf(&content,
                     "# Written by apprunnerd from [Ingress] ListenAddress and ListenPort.\n"
                     "[Socket]\n"
                     "ListenStream=\n"
                     "ListenStream=%s:%u\n",
                     m->config.listen_address, m->config.listen_port) < 0)
                return -ENOMEM;

        f = fopen(INGRESS_SOCKET_DROPIN, "re");
        if (f) {
                (void)getdelim(&current, &size, '\0', f);
                fclose(f);
        }
        if (streq_ptr(current, content))
                return 0;

        if (mkdir(INGRESS_SOCKET_DROPIN_DIR, 0755) < 0 && errno != EEXIST)
                return log_error_errno(errno, "Failed to create %s: %m", INGRESS_SOCKET_DROPIN_DIR);
        {
                _cleanup_close_ int dir_fd =
                        open(INGRESS_SOCKET_DROPIN_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dir_fd < 0)
                        return log_error_errno(errno, "Failed to open %s: %m", INGRESS_SOCKET_DROPIN_DIR);
                r = store_write_file_atomic(dir_fd, "50-apprunnerd-listen.conf", content, strlen(content),
                                            0644);
                if (r < 0)
                        return log_error_errno(r, "Failed to write %s: %m", INGRESS_SOCKET_DROPIN);
        }
        log_info("The ingress listens on %s:%u (%s).", m->config.listen_address, m->config.listen_port,
                 INGRESS_SOCKET_DROPIN);

        r = systemd_reload(m->bus, &e);
        if (r < 0) {
                log_warning("Failed to reload systemd's units: %s", e.message ?: strerror(-r));
                sd_bus_error_free(&e);
                return r;
        }
        if (systemd_unit_active_state(m->bus, INGRESS_SOCKET_UNIT, &active) >= 0 &&
            streq(active, "active")) {
                r = systemd_restart_unit(m->bus, INGRESS_SOCKET_UNIT, &e);
                if (r < 0)
                        log_warning("Failed to restart %s: %s", INGRESS_SOCKET_UNIT,
                                    e.message ?: strerror(-r));
                sd_bus_error_free(&e);
        }
        return 0;
}

static int init(Manager *m) {
        DeployerState *st;
        _cleanup_free_ char *images = NULL, *ipam_path = NULL, *run_dir = NULL, *error = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        st = calloc(1, sizeof(DeployerState));
        if (!st)
                return -ENOMEM;
        m->deployer_data = st;

        if (asprintf(&images, "%s/images", m->state_dir) < 0 ||
            asprintf(&ipam_path, "%s/addresses.json", m->state_dir) < 0 ||
            asprintf(&run_dir, "%s/ingress", m->runtime_dir) < 0)
                return -ENOMEM;
        {
                _cleanup_free_ char *inst = NULL;
                if (asprintf(&inst, "%s/instances", m->state_dir) >= 0)
                        (void)mkdir(inst, 0700);
        }
        (void)mkdir(m->runtime_dir, 0755);
        (void)mkdir(run_dir, 0700);

        ImageStoreOptions io = {
                .root = images,
                .insecure_registries = m->config.insecure_registries,
                .max_layer_size = m->config.max_layer_size,
                .max_layer_entries = m->config.max_layer_entries,
        };
        r = image_store_open(&io, &st->images);
        if (r < 0)
                return log_error_errno(r, "Failed to open the image store %s: %m", images);

        r = seccomp_profile_load(m->config.seccomp_profile, &st->seccomp, &error);
        if (r < 0)
                return log_error_errno(r, "Failed to load the seccomp profile %s: %s",
                                       m->config.seccomp_profile, strna(error));

        st->gateway.s_addr = htonl(ntohl(m->config.subnet.s_addr) + 1);
        r = ipam_open(ipam_path, m->config.subnet, m->config.subnet_prefix, &st->ipam);
        if (r < 0)
                return log_error_errno(r, "Failed to open the address allocator %s: %m", ipam_path);

        free(error);
        error = NULL;
        r = bridge_ensure(m->config.bridge, st->gateway, m->config.subnet_prefix, m->config.outbound,
                          &error);
        if (r < 0)
                return log_error_errno(r, "Failed to set up bridge %s: %s", m->config.bridge, strna(error));

        IngressOptions o = {
                .run_dir = run_dir,
                .listen_address = m->config.listen_address,
                .listen_port = m->config.listen_port,
                .queue_timeout_sec = m->config.queue_timeout_sec,
                .request_timeout_sec = m->config.request_timeout_sec,
                .metrics_port = m->config.metrics_port,
                .inherited_listener = true,
        };
        r = ingress_new(&o, &st->ingress);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the ingress driver: %m");

        for (size_t k = 0; k < m->n_services; k++)
                m->services[k]->userdata = m;

        r = update_routes(m);
        if (r < 0)
                return r;
        free(error);
        error = NULL;
        r = ingress_write_config(st->ingress, &error);
        if (r < 0)
                return log_error_errno(r, "Failed to write the ingress configuration: %s", strna(error));

        if (m->bus) {
                r = systemd_subscribe(m->bus);
                if (r < 0)
                        log_warning_errno(r, "Failed to subscribe to systemd's unit signals: %m");
                r = sd_bus_match_signal(m->bus, &st->unit_signals, "org.freedesktop.systemd1", NULL,
                                        "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                        on_unit_properties_changed, m);
                if (r < 0)
                        return log_error_errno(r, "Failed to watch unit signals: %m");

                (void)configure_ingress_socket(m);
                r = systemd_start_unit(m->bus, "apprunner-ingress.service", &e);
                if (r < 0)
                        log_warning("Failed to start apprunner-ingress.service: %s",
                                    e.message ?: strerror(-r));
                sd_bus_error_free(&e);
        }

        return 0;
}

/* Attaches the ingress driver once reconcile() has put the adopted
 * instances back into the desired state. A resync before that would delete
 * the servers of a running HAProxy that serve after a daemon restart. */
static void resumed(Manager *m) {
        DeployerState *st = state(m);
        _cleanup_free_ char *error = NULL;
        int r = -ENOENT;

        if (!st || !st->ingress)
                return;

        if (m->event) {
                r = sd_event_add_time_relative(m->event, &st->scale_timer, CLOCK_MONOTONIC,
                                               (uint64_t)m->config.scale_interval_sec * USEC_PER_SEC, 0,
                                               on_scale_timer, m);
                if (r < 0)
                        log_warning_errno(r, "Failed to start the autoscaler: %m");
        }

        /* HAProxy may need a moment after the start job, so the resync is
         * retried for up to 5 s. */
        for (unsigned k = 0; k < 50; k++) {
                free(error);
                error = NULL;
                r = ingress_resync(st->ingress, &error);
                if (r >= 0)
                        break;
                usleep(100 * 1000);
        }
        if (r < 0)
                log_warning("The ingress is not reachable yet: %s", strna(error));
}

static void done(Manager *m) {
        DeployerState *st = state(m);

        if (!st)
                return;
        for (size_t k = 0; k < m->n_services; k++) {
                Service *s = m->services[k];
                if (s->deployment)
                        s->deployment = deployment_free(s->deployment);
                for (Instance *i = s->instances; i; i = i->next)
                        instance_runtime_free(i);
        }
        sd_event_source_disable_unref(st->reap_timer);
        sd_event_source_disable_unref(st->scale_timer);
        sd_bus_slot_unref(st->unit_signals);
        ingress_free(st->ingress);
        ipam_free(st->ipam);
        image_store_free(st->images);
        json_object_put(st->seccomp);
        free(st);
        m->deployer_data = NULL;
}

static int refresh_stats(Manager *m) {
        DeployerState *st = state(m);
        IngressStats *stats = NULL;
        size_t n = 0;
        int r;

        if (!st || !st->ingress)
                return -ENOENT;
        r = ingress_stats(st->ingress, &stats, &n);
        if (r < 0)
                return r;

        /* A service without a backend (paused, or not routed yet) has none. */
        for (size_t k = 0; k < m->n_services; k++)
                m->services[k]->stats = (ServiceStats){};
        for (size_t k = 0; k < n; k++) {
                Service *s = manager_find_service_by_id(m, stats[k].service_id);

                if (!s)
                        continue;
                s->stats = (ServiceStats){
                        .requests = stats[k].requests,
                        .responses_2xx = stats[k].http_2xx,
                        .responses_3xx = stats[k].http_3xx,
                        .responses_4xx = stats[k].http_4xx,
                        .responses_5xx = stats[k].http_5xx,
                        .active = stats[k].current,
                        .queued = stats[k].queued,
                        .average_response_ms = stats[k].avg_response_ms,
                };
        }
        ingress_stats_free(stats, n);
        return 0;
}

const Deployer image_deployer = {
        .name = "image",
        .init = init,
        .done = done,
        .run = run,
        .reconcile = reconcile,
        .resumed = resumed,
        .image_changed = image_changed,
        .refresh_stats = refresh_stats,
};
