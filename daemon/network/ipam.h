/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Persisted IPv4 address allocator for the instance subnet.
 *
 * In a subnet of prefix length P, host offset 0 is the network address,
 * offset 1 is the gateway (assigned to the bridge) and the last offset is
 * the broadcast address, so offsets 2 .. 2^(32-P)-2 are handed out.
 *
 * Invariants:
 *  - an address belongs to at most one owner and an owner has at most one
 *    address;
 *  - allocation is round-robin from a persisted cursor, so a released
 *    address is not handed out again until every other free address has
 *    been used since, which keeps a stale peer from reaching a new instance
 *    at an old address;
 *  - every change is written to the state file before the call returns
 *    success, and if the write fails the in-memory state is rolled back.
 *
 * The state file is JSON, replaced atomically (temporary file in the same
 * directory, fsync, rename, fsync of the directory):
 *
 *     { "version": 1, "subnet": "10.88.0.0/16", "next": "10.88.0.7",
 *       "allocations": { "<owner>": "10.88.0.2", ... } }
 *
 * An Ipam object is not thread-safe, and one process at a time may own a
 * state file. */

#include <netinet/in.h>

#include "macro.h"

typedef struct Ipam Ipam;

/* Opens the allocator for subnet/prefix (prefix 8..30; host bits of subnet
 * must be zero), loading state_path if it exists. A missing file is an
 * empty allocator and is created on the first change.
 * Returns 0, or:
 *   -EINVAL   bad subnet or prefix;
 *   -EBADMSG  the file exists but is not valid allocator state (bad JSON,
 *             an address outside the subnet, an address owned twice, ...).
 *             The file is left unchanged, and ipam_move_aside() can rename
 *             it so a fresh allocator can start;
 *   -EADDRNOTAVAIL  the file records a different subnet than requested;
 *   other negative errno from reading the file. */
int ipam_open(const char *state_path, struct in_addr subnet, unsigned prefix, Ipam **ret);

Ipam *ipam_free(Ipam *ipam);
static inline void ipam_freep(Ipam **p) {
        ipam_free(*p);
}
#define _cleanup_ipam_ _cleanup_(ipam_freep)

/* Allocates an address for owner, or returns the one it already has.
 * Returns 1 if a new address was allocated and persisted, 0 if owner already
 * had one, -ENOSPC if every host address is taken, or -EINVAL for an empty
 * owner. If the state file cannot be written, returns that negative errno
 * and nothing changes. */
int ipam_allocate(Ipam *ipam, const char *owner, struct in_addr *ret);

/* Releases owner's address. Returns 1 if released and persisted, 0 if owner
 * had none, or a negative errno if the state could not be written (then
 * nothing changed). */
int ipam_release(Ipam *ipam, const char *owner);

/* Returns 0 and owner's address, or -ENOENT if owner has none. */
int ipam_lookup(const Ipam *ipam, const char *owner, struct in_addr *ret);

/* Returns a NULL-terminated, sorted array of all owners (free with
 * strv_free()), for reconciliation against running instances. */
int ipam_owners(const Ipam *ipam, char ***ret_owners);

/* The gateway address (host offset 1) that belongs on the bridge. */
struct in_addr ipam_gateway(const Ipam *ipam);

unsigned ipam_prefix(const Ipam *ipam);

/* Renames a state file that ipam_open() rejected to
 * "<state_path>.corrupt-<UTC time>" and returns the new path, so the daemon
 * can start with an empty allocator while the old file stays available for
 * inspection. */
int ipam_move_aside(const char *state_path, char **ret_new_path);
