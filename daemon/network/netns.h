/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Per-instance network namespaces.
 *
 * Instance <id> (12 lowercase hex characters) gets:
 *  - the named network namespace "apprunner-<id>", a bind mount of the
 *    namespace's nsfs file on /run/netns/apprunner-<id>, made the way
 *    "ip netns add" makes it (/run/netns is a shared mount point), so
 *    "ip netns" lists and enters it;
 *  - a veth pair: "ar<id>" in the caller's namespace, attached to the bridge
 *    and up, and "eth0" inside the instance namespace. eth0 carries the
 *    instance address, is up and has the default route via the gateway.
 *    Loopback in the namespace is up too.
 *
 * The namespace-side netlink work runs in a short-lived thread that joins
 * the instance namespace with setns() and then exits, so the calling
 * thread never changes namespace, not even temporarily.
 *
 * The path is passed to crun as the network namespace of the container
 * (linux.namespaces[].path in the OCI config).
 *
 * NOTE: the calls block on netlink round trips and a thread start, and two
 * calls for the same instance id must not run concurrently. */

#include <netinet/in.h>
#include <stdbool.h>

#define INSTANCE_NETNS_DIR    "/run/netns"
#define INSTANCE_NETNS_PREFIX "apprunner-"
#define INSTANCE_VETH_PREFIX  "ar"

/* Returns true if id is 12 lowercase hex characters. */
bool instance_id_is_valid(const char *id);

/* Creates (or completes) instance_id's namespace and veth pair as described
 * above and returns the namespace path. Calling it again for an instance
 * that is set up returns success without disturbing it. A partial setup
 * left by a crash is completed or rebuilt. On failure everything this call
 * created is removed again, and what existed before is left in place.
 * address/prefix and gateway must lie in one subnet.
 * Returns 0, or a negative errno with a sentence in *ret_error (if not
 * NULL), e.g. -EINVAL for a bad argument, -ENODEV if the bridge does not
 * exist. */
int instance_netns_create(const char *bridge, const char *instance_id, struct in_addr address,
                          unsigned prefix, struct in_addr gateway, char **ret_netns_path, char **ret_error);

/* Deletes the host-side veth (which also removes eth0) and unmounts and
 * unlinks the namespace file. Returns 0, also when they are already gone.
 * Processes still inside the namespace keep it alive, unnamed, until they
 * exit, so stop the instance first. */
int instance_netns_destroy(const char *instance_id);

/* Returns the sorted ids of all namespaces named apprunner-<id> in
 * /run/netns (free with strv_free()); an empty array if there are none. */
int instance_netns_list(char ***ret_instance_ids);
