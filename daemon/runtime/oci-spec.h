/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The OCI runtime configuration (config.json) of one instance. */

#include <json-c/json.h>
#include <stdint.h>

#include "image/image-config.h"

/* PATH for processes whose image sets none; the value Docker and
 * containerd use. */
#define OCI_DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* RLIMIT_NOFILE of the container's processes when InstanceSpec sets none.
 * The kernel's default soft limit of 1024 is too low for a web server that
 * keeps one descriptor per connection. crun sets it before it drops
 * capabilities, so raising it above the hard limit of the unit that runs
 * crun needs CAP_SYS_RESOURCE. */
#define OCI_DEFAULT_NOFILE_LIMIT UINT64_C(65536)

typedef struct InstanceSpec {
        const char *instance_id; /* 12 lowercase hex characters */
        const char *hostname;    /* per instance */
        const char *rootfs;      /* merged overlay directory, absolute */
        const char *netns_path;  /* /run/netns/apprunner-<id> */
        const ImageConfig *image;
        const char *start_command;  /* App Runner StartCommand, may be NULL */
        uint16_t port;              /* App Runner Port, exported as PORT */
        char *const *env;           /* RuntimeEnvironmentVariables as "K=V", may be NULL */
        const json_object *seccomp; /* loaded profile, see seccomp_profile_load() */
        uint64_t nofile_limit;      /* RLIMIT_NOFILE, soft and hard; 0: OCI_DEFAULT_NOFILE_LIMIT */
} InstanceSpec;

/* Builds the OCI runtime configuration of one instance.
 *
 * The process runs StartCommand when it is set (through "/bin/sh -c" when
 * the rootfs has an executable /bin/sh, otherwise split into words with
 * wordexp(3)), else the image's Entrypoint followed by Cmd. The
 * environment is the image's, then PORT, then the service's variables, a
 * later value replacing an earlier one of the same name. The user is
 * resolved in the rootfs's /etc/passwd and /etc/group, never through the
 * host's NSS.
 *
 * The configuration joins the network namespace at netns_path, creates
 * new pid, ipc, uts and mount namespaces, and requests no cgroup namespace,
 * no cgroupsPath and no linux.resources: the container stays in the cgroup
 * of the unit that runs crun, whose limits apply.
 *
 * Returns 0 and stores a new object in *ret, or a negative errno and a
 * sentence in *ret_error (-EINVAL: the image and service settings cannot
 * be combined into a runnable process; the sentence says why). */
int oci_spec_build(const InstanceSpec *s, json_object **ret, char **ret_error);

/* Builds the configuration and writes it to bundle_dir/config.json with
 * mode 0600 (it contains the environment), replacing any earlier file
 * atomically. */
int oci_bundle_write(const InstanceSpec *s, const char *bundle_dir, char **ret_error);
