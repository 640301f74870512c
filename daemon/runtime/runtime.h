/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Invocations of the OCI runtime (crun). */

#include <stdbool.h>

/* crun's default state directory when it runs as root. */
#define RUNTIME_STATE_DIR "/run/crun"

/* Returns a new NULL-terminated argument vector
 *         crun --cgroup-manager=disabled run [--no-new-keyring] --bundle DIR ID
 * or NULL when out of memory. --cgroup-manager=disabled keeps the
 * container in the cgroup of the process that runs crun, the instance's
 * unit. Pass no_new_keyring inside containers whose seccomp filter blocks
 * keyctl(2), such as systemd-nspawn's; see runtime_in_container(). */
char **runtime_argv(const char *crun_path, const char *bundle_dir, const char *container_id,
                    bool no_new_keyring);

/* Runs "crun --cgroup-manager=disabled delete -f ID", which kills the
 * container's processes and removes its state under RUNTIME_STATE_DIR.
 * Returns 0 also when no such container exists, -EIO when crun fails
 * and leaves the state behind. */
int runtime_delete(const char *crun_path, const char *container_id);

/* Returns true when this process runs inside a container manager's
 * container: systemd's /run/systemd/container exists or $container is
 * set, as systemd-nspawn and other managers do. */
bool runtime_in_container(void);
