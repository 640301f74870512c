/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* App Runner's resources as apprunnerd keeps them in memory and on disk.
 * Field names follow App Runner's API; the D-Bus layer and the state store
 * translate these structs and nothing else. */

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>

#include "macro.h"

typedef uint64_t usec_t;

typedef enum ServiceStatus {
        SERVICE_OPERATION_IN_PROGRESS,
        SERVICE_RUNNING,
        SERVICE_PAUSED,
        SERVICE_CREATE_FAILED,
        SERVICE_DELETE_FAILED,
        SERVICE_DELETED,
        _SERVICE_STATUS_MAX,
        _SERVICE_STATUS_INVALID = -1,
} ServiceStatus;

typedef enum OperationType {
        OPERATION_CREATE_SERVICE,
        OPERATION_START_DEPLOYMENT,
        OPERATION_UPDATE_SERVICE,
        OPERATION_PAUSE_SERVICE,
        OPERATION_RESUME_SERVICE,
        OPERATION_DELETE_SERVICE,
        _OPERATION_TYPE_MAX,
        _OPERATION_TYPE_INVALID = -1,
} OperationType;

typedef enum OperationStatus {
        OPERATION_PENDING,
        OPERATION_IN_PROGRESS,
        OPERATION_FAILED,
        OPERATION_SUCCEEDED,
        OPERATION_ROLLBACK_IN_PROGRESS,
        OPERATION_ROLLBACK_FAILED,
        OPERATION_ROLLBACK_SUCCEEDED,
        _OPERATION_STATUS_MAX,
        _OPERATION_STATUS_INVALID = -1,
} OperationStatus;

typedef enum HealthCheckProtocol {
        HEALTH_CHECK_TCP,
        HEALTH_CHECK_HTTP,
        _HEALTH_CHECK_PROTOCOL_MAX,
        _HEALTH_CHECK_PROTOCOL_INVALID = -1,
} HealthCheckProtocol;

/* Everything a deployment of a service depends on. UpdateService builds a
 * new spec; the deployer switches traffic to it and only then does it
 * replace the service's current spec. */
typedef struct ServiceSpec {
        /* SourceConfiguration.ImageRepository */
        char *image_identifier;
        char *image_repository_type; /* OCI_LAYOUT, REGISTRY, ECR, ECR_PUBLIC */
        char *port;                  /* App Runner keeps Port as a string */
        char *start_command;         /* NULL when unset */
        char **environment;          /* "KEY=VALUE", NULL when empty */
        bool auto_deployments_enabled;
        char *connection_arn; /* AuthenticationConfiguration.ConnectionArn, NULL when unset */

        /* InstanceConfiguration */
        unsigned cpu;    /* CPU units, 1024 = one vCPU */
        unsigned memory; /* MB */

        /* HealthCheckConfiguration */
        HealthCheckProtocol health_protocol;
        char *health_path;
        unsigned health_interval;
        unsigned health_timeout;
        unsigned healthy_threshold;
        unsigned unhealthy_threshold;

        char *auto_scaling_configuration_arn; /* revision ARN */
        unsigned request_timeout;             /* seconds at the ingress */
} ServiceSpec;

typedef enum InstanceState {
        INSTANCE_STARTING,
        INSTANCE_HEALTHY,
        INSTANCE_UNHEALTHY,
        INSTANCE_DRAINING,
        INSTANCE_STOPPING,
        INSTANCE_FAILED,
        _INSTANCE_STATE_MAX,
        _INSTANCE_STATE_INVALID = -1,
} InstanceState;

typedef struct Service Service;

/* Ingress figures of a service, refreshed from HAProxy's statistics. */
typedef struct ServiceStats {
        uint64_t requests;
        uint64_t responses_2xx;
        uint64_t responses_3xx;
        uint64_t responses_4xx;
        uint64_t responses_5xx;
        unsigned active;
        unsigned queued;
        unsigned average_response_ms;
} ServiceStats;

/* One running copy of a service's image. Persisted so that a restarted
 * daemon adopts instances instead of restarting them. */
typedef struct Instance {
        Service *service;
        char *id;            /* 12 lowercase hex characters */
        char *unit;          /* apprunner-<escaped name>@<id>.service */
        char *image_digest;  /* version this instance runs */
        unsigned generation; /* deployment generation, see Service.generation */
        struct in_addr address;
        uint16_t port;
        InstanceState state;
        uint64_t stop_requested_usec; /* CLOCK_MONOTONIC, while STOPPING; not stored */
        void *runtime;                /* owned by the deployer */
        struct Instance *next;
} Instance;

struct Service {
        char *id; /* 32 lowercase hex characters */
        char *name;
        char *arn;
        char *url_id; /* the 10-character first label of the URL */
        ServiceStatus status;
        usec_t created_at;
        usec_t updated_at;
        usec_t deleted_at;

        ServiceSpec spec;
        char *image_digest; /* manifest digest of the serving version */
        /* Digest of the serving version at its source (the registry's, which
         * differs for Docker images that skopeo converted). NULL when not known. */
        char *image_source_digest;
        char *previous_image_digest; /* kept in the image store for rollback */
        char *operation_id;          /* operation in progress, NULL when none */
        /* Incremented by every deployment that switches traffic; instances
         * of another generation than the service's are leftovers of a
         * deployment that did not finish. */
        unsigned generation;
        /* CLOCK_MONOTONIC since when the autoscaler has found more instances
         * than the service needs, 0 when not; not stored. */
        uint64_t scale_in_since_usec;

        Instance *instances;
        ServiceStats stats;

        void *deployment; /* owned by the deployer while an operation runs */
        void *userdata;
};

typedef struct Operation {
        char *id; /* UUID */
        OperationType type;
        OperationStatus status;
        char *target_arn;
        char *service_id;
        usec_t started_at;
        usec_t ended_at;
        usec_t updated_at;
        char *status_message;
        ServiceSpec *spec; /* new settings of UPDATE_SERVICE, NULL otherwise */
} Operation;

typedef struct AutoScalingConfiguration {
        char *id; /* 32 lowercase hex characters */
        char *arn;
        char *name;
        unsigned revision;
        bool active;
        unsigned max_concurrency;
        unsigned min_size;
        unsigned max_size;
        usec_t created_at;
        usec_t deleted_at;
        bool is_default;
} AutoScalingConfiguration;

typedef struct Connection {
        char *id; /* 32 lowercase hex characters */
        char *arn;
        char *name;
        char *provider_type; /* REGISTRY */
        char *username;
        bool deleted;
        usec_t created_at;
} Connection;

const char *service_status_to_string(ServiceStatus s) _pure_;
ServiceStatus service_status_from_string(const char *s) _pure_;
const char *operation_type_to_string(OperationType t) _pure_;
OperationType operation_type_from_string(const char *s) _pure_;
const char *operation_status_to_string(OperationStatus s) _pure_;
OperationStatus operation_status_from_string(const char *s) _pure_;
const char *health_check_protocol_to_string(HealthCheckProtocol p) _pure_;
HealthCheckProtocol health_check_protocol_from_string(const char *s) _pure_;
const char *instance_state_to_string(InstanceState s) _pure_;
InstanceState instance_state_from_string(const char *s) _pure_;

bool operation_status_is_final(OperationStatus s) _pure_;

void service_spec_done(ServiceSpec *s);
int service_spec_copy(const ServiceSpec *from, ServiceSpec *to);
ServiceSpec *service_spec_free(ServiceSpec *s);

Instance *instance_free(Instance *i);
Service *service_free(Service *s);
Operation *operation_free(Operation *o);
AutoScalingConfiguration *auto_scaling_configuration_free(AutoScalingConfiguration *c);
Connection *connection_free(Connection *c);

usec_t now_usec(void);
