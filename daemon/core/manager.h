/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The manager keeps every resource in memory, owns the event loop, the bus
 * connection and the state store, and implements the resource operations
 * that the D-Bus layer exposes. Functions that can fail because of the
 * caller's request return a negative errno and an ApiError describing it;
 * the bus layer maps ApiError to App Runner's error names. */

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "config/config.h"
#include "model.h"
#include "store.h"

typedef enum ApiErrorKind {
        API_ERROR_NONE,
        API_ERROR_INVALID_REQUEST,
        API_ERROR_INVALID_STATE,
        API_ERROR_RESOURCE_NOT_FOUND,
        API_ERROR_SERVICE_QUOTA_EXCEEDED,
        API_ERROR_INTERNAL,
} ApiErrorKind;

typedef struct ApiError {
        ApiErrorKind kind;
        char *message;
} ApiError;

void api_error_done(ApiError *e);
/* Fills *e and returns r (a negative errno); the kind decides the D-Bus
 * error name. */
int api_error_set(ApiError *e, int r, ApiErrorKind kind, const char *format, ...) _printf_(4, 5);

typedef struct Deployer Deployer;

typedef struct Manager {
        sd_event *event;
        sd_bus *bus;
        Config config;
        Store *store;
        char *state_dir;   /* /var/lib/apprunner */
        char *runtime_dir; /* /run/apprunner */

        Service **services; /* in creation order */
        size_t n_services;
        Operation **operations;
        size_t n_operations;
        AutoScalingConfiguration **auto_scaling;
        size_t n_auto_scaling;
        Connection **connections;
        size_t n_connections;

        const Deployer *deployer;
        void *deployer_data;

        uint64_t stats_refreshed_usec; /* CLOCK_MONOTONIC of the last refresh, 0 = never */
} Manager;

int manager_new(const char *state_dir, const char *runtime_dir, Manager **ret);
Manager *manager_free(Manager *m);

/* Loads every document of the state store and creates the built-in
 * DefaultConfiguration when it is missing. Operations left in progress are
 * handled afterwards by engine_resume(). */
int manager_load(Manager *m);

/* Persist a resource and emit PropertiesChanged for its object. */
int manager_save_service(Manager *m, Service *s);
int manager_save_operation(Manager *m, Operation *o);
int manager_save_auto_scaling(Manager *m, AutoScalingConfiguration *c);
int manager_save_connection(Manager *m, Connection *c);

/* Refreshes every service's ingress figures (Service.stats) through the
 * deployer unless the last successful refresh is younger than
 * STATS_MAX_AGE_USEC, so that reading all the figures of one service costs
 * one query to HAProxy. Returns 0, or a negative errno when the figures
 * cannot be read. */
#define STATS_MAX_AGE_USEC (1000 * 1000ULL)
int manager_refresh_stats(Manager *m);

/* Lookups; a service may be given by ARN, id or name. */
Service *manager_find_service(Manager *m, const char *key);
Service *manager_find_service_by_id(Manager *m, const char *id);
Operation *manager_find_operation(Manager *m, const char *id);
AutoScalingConfiguration *manager_find_auto_scaling_by_id(Manager *m, const char *id);
/* Accepts a revision ARN or an ARN ending in the name (the latest active
 * revision). */
AutoScalingConfiguration *manager_find_auto_scaling(Manager *m, const char *arn);
/* Returns a hint for a "not found" message when key is not an ARN (for
 * example a bare name), or "" when it is. */
const char *manager_auto_scaling_arn_hint(const char *key);
AutoScalingConfiguration *manager_default_auto_scaling(Manager *m);
AutoScalingConfiguration *manager_latest_auto_scaling(Manager *m, const char *name);
bool manager_auto_scaling_in_use(Manager *m, const AutoScalingConfiguration *c);
Connection *manager_find_connection(Manager *m, const char *arn);
Connection *manager_find_connection_by_id(Manager *m, const char *id);
bool manager_connection_in_use(Manager *m, const Connection *c);
size_t manager_count_active_services(Manager *m);

/* The ServiceUrl: <label>.<region>.<DomainSuffix>[:port]. */
int manager_service_url(Manager *m, const Service *s, char **ret);
/* The auto scaling revision a service uses. */
AutoScalingConfiguration *manager_service_auto_scaling(Manager *m, const Service *s);

/* Resource operations behind the D-Bus methods. */
int manager_create_service(Manager *m, const char *name, ServiceSpec *spec, Service **ret_service,
                           Operation **ret_operation, ApiError *e);
int manager_update_service(Manager *m, Service *s, ServiceSpec *spec, Operation **ret_operation,
                           ApiError *e);
int manager_service_action(Manager *m, Service *s, OperationType type, Operation **ret_operation,
                           ApiError *e);

int manager_create_auto_scaling(Manager *m, const char *name, unsigned max_concurrency, unsigned min_size,
                                unsigned max_size, AutoScalingConfiguration **ret, ApiError *e);
int manager_delete_auto_scaling(Manager *m, const char *arn, bool all_revisions,
                                AutoScalingConfiguration **ret, ApiError *e);
int manager_set_default_auto_scaling(Manager *m, const char *arn, AutoScalingConfiguration **ret,
                                     ApiError *e);

int manager_create_connection(Manager *m, const char *name, const char *provider_type, const char *username,
                              const char *password, Connection **ret, ApiError *e);
int manager_delete_connection(Manager *m, const char *arn, Connection **ret, ApiError *e);
/* Reads the secret of a connection; the caller frees it with
 * erase_and_free(). */
int manager_connection_secret(Manager *m, const Connection *c, char **ret_password);

/* Object paths. */
int service_object_path(const Service *s, char **ret);
int operation_object_path(const Operation *o, char **ret);
int auto_scaling_object_path(const AutoScalingConfiguration *c, char **ret);
int connection_object_path(const Connection *c, char **ret);

/* Hooks the bus layer sets so that core code can announce changes
 * without depending on sd-bus vtables. */
void manager_emit_changed(Manager *m, const char *path, const char *interface);
void manager_emit_added(Manager *m, const char *path);
void manager_emit_removed(Manager *m, const char *path);

void erase_and_free(char *s);
