/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* apprunnerd's configuration: /etc/apprunner/apprunnerd.conf, then every
 * file ending in .conf in /etc/apprunner/apprunnerd.conf.d/ in lexical
 * order, each parsed with inih. A key set in a later file overrides the
 * same key from an earlier one. */

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct Config {
        /* [Account] */
        char *region;     /* Region= default "local-1" */
        char *account_id; /* AccountId= 12 digits, default "000000000000" */

        /* [Quotas] */
        unsigned max_services;                     /* Services= 1..1000, default 10 */
        unsigned max_connections;                  /* Connections= 1..1000, default 10 */
        unsigned max_auto_scaling_configurations;  /* AutoScalingConfigurations= 1..1000, default 10 */

        /* [AutoScaling] defaults of DefaultConfiguration */
        unsigned default_max_concurrency; /* MaxConcurrency= 1..200, default 100 */
        unsigned default_min_size;        /* MinSize= 1..25, default 1 */
        unsigned default_max_size;        /* MaxSize= 1..25, default 25 */

        /* [Network] */
        char *bridge;                /* Bridge= interface name, default "apprunner0" */
        struct in_addr subnet;       /* Subnet= IPv4 CIDR, default 10.88.0.0/16 */
        unsigned subnet_prefix;      /* 8..28 */
        bool outbound;               /* Outbound= yes|no, default yes: masquerade instance traffic */

        /* [Ingress] */
        char *listen_address;        /* ListenAddress= default "127.0.0.1" */
        uint16_t listen_port;        /* ListenPort= 1..65535, default 80 */
        char *domain_suffix;         /* DomainSuffix= default "apprunner.localhost" */
        unsigned queue_timeout_sec;  /* QueueTimeoutSec= 1..3600, default 30 */
        unsigned request_timeout_sec;/* RequestTimeoutSec= 1..3600, default 120 */
        uint16_t metrics_port;       /* MetricsPort= 0 disables, default 9101 (on 127.0.0.1) */

        /* [Images] */
        char **insecure_registries;  /* InsecureRegistries= space-separated host[:port] reachable over plain HTTP */
        uint64_t max_layer_size;     /* MaxLayerSize= bytes (suffixes K M G), default 4G: uncompressed bytes per layer */
        uint64_t max_layer_entries;  /* MaxLayerEntries= default 1000000 */
        unsigned auto_deployment_interval_sec; /* AutoDeploymentIntervalSec= 10..86400, default 300 */

        /* [Instances] */
        char *runtime;               /* Runtime= path of crun, default "/usr/bin/crun" */
        char *seccomp_profile;       /* SeccompProfile= default PKGDATADIR "/seccomp.json" */
        unsigned tasks_max;          /* TasksMax= 16..65535, default 1024 */
        unsigned start_timeout_sec;  /* StartTimeoutSec= health deadline for a new instance, 10..3600, default 300 */
} Config;

/* Fills *c with the built-in defaults. Returns 0 or -ENOMEM. */
int config_init_defaults(Config *c);

/* Parses the main file and the drop-ins below 'root' (normally
 * "/etc/apprunner"; tests pass a temporary directory). A missing main file
 * is not an error. On a bad line returns -EINVAL and stores in *ret_error a
 * message naming file, line, section, key, the value and what is allowed.
 * *c must have been initialized with config_init_defaults(). */
int config_load(Config *c, const char *root, char **ret_error);

void config_done(Config *c);
