/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* apprunnerd's configuration: /etc/apprunner/apprunnerd.conf, then every
 * file ending in .conf in /etc/apprunner/apprunnerd.conf.d/ in lexical
 * order, each parsed with inih. A key set in a later file overrides the
 * same key from an earlier one. */

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct Config {
        /* [Account] */
        char *region;     /* Region= default "local-1" */
        char *account_id; /* AccountId= 12 digits, default "000000000000" */

        /* [Quotas] */
        unsigned max_services;                    /* Services= 1..1000, default 10 */
        unsigned max_connections;                 /* Connections= 1..1000, default 10 */
        unsigned max_auto_scaling_configurations; /* AutoScalingConfigurations= 1..1000, default 10 */

        /* [AutoScaling] defaults of DefaultConfiguration */
        unsigned default_max_concurrency; /* MaxConcurrency= 1..200, default 100 */
        unsigned default_min_size;        /* MinSize= 1..25, default 1 */
        unsigned default_max_size;        /* MaxSize= 1..25, default 25 */
        /* [AutoScaling] behaviour of the autoscaler */
        unsigned scale_interval_sec; /* ScaleIntervalSec= 1..300, default 10 */
        unsigned scale_in_delay_sec; /* ScaleInDelaySec= 0..3600, default 60 */

        /* [Network] */
        char *bridge;           /* Bridge= interface name, default "apprunner0" */
        struct in_addr subnet;  /* Subnet= IPv4 CIDR, default 10.88.0.0/16 */
        unsigned subnet_prefix; /* 8..28 */
        bool outbound;          /* Outbound= yes|no, default yes: masquerade instance traffic */

        /* [Ingress] */
        char *listen_address;         /* ListenAddress= IPv4 or IPv6 address, default "127.0.0.1" */
        uint16_t listen_port;         /* ListenPort= 1..65535, default 80 */
        char *domain_suffix;          /* DomainSuffix= default "apprunner.localhost" */
        unsigned queue_timeout_sec;   /* QueueTimeoutSec= 1..3600, default 30 */
        unsigned request_timeout_sec; /* RequestTimeoutSec= 1..3600, default 120 */
        uint16_t metrics_port;        /* MetricsPort= 0 disables, default 9101 (on 127.0.0.1) */

        /* [Images] */
        /* InsecureRegistries= space-separated host[:port] reachable over plain HTTP, NULL if none */
        char **insecure_registries;
        /* MaxLayerSize= uncompressed bytes per layer (suffixes K M G), 1M..1024G, default 4G */
        uint64_t max_layer_size;
        uint64_t max_layer_entries;            /* MaxLayerEntries= 1..100000000, default 1000000 */
        unsigned auto_deployment_interval_sec; /* AutoDeploymentIntervalSec= 10..86400, default 300 */

        /* [Instances] */
        char *runtime;         /* Runtime= path of crun, default "/usr/bin/crun" */
        char *seccomp_profile; /* SeccompProfile= default PKGDATADIR "/seccomp.json" */
        unsigned tasks_max;    /* TasksMax= 16..65535, default 1024 */
        /* StartTimeoutSec= health deadline for a new instance, 10..3600, default 300 */
        unsigned start_timeout_sec;
} Config;

/* Fills *c with the built-in defaults. Returns 0 or -ENOMEM. */
int config_init_defaults(Config *c);

/* Parses the main file and the drop-ins below 'root' (normally
 * "/etc/apprunner"; tests pass a temporary directory; NULL means
 * SYSCONFDIR "/apprunner"). A missing main file or drop-in directory is not
 * an error. *c must have been initialized with config_init_defaults().
 *
 * Returns 0 on success. On a bad line, or when the values of all files
 * together are inconsistent, returns -EINVAL and stores in *ret_error a
 * message naming file, line, section, key, the value and what is allowed.
 * On other failures (a file that cannot be read) returns a negative errno
 * and a message naming the file. ret_error may be NULL; on -ENOMEM it may
 * be set to NULL. On failure *c contains a mix of old and new values: load into
 * a fresh Config and swap it in on success if the old one must survive. */
int config_load(Config *c, const char *root, char **ret_error);

/* Writes *c to f in the format of apprunnerd.conf, every section and key in
 * the order of the shipped file, sizes with the largest exact suffix.
 * Returns 0 or a negative errno if writing failed. */
int config_dump(const Config *c, FILE *f);

/* Frees the strings of *c and zeroes it. Safe to call twice. */
void config_done(Config *c);
