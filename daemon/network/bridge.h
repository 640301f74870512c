/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The host bridge that connects instance network namespaces, and the
 * host-side settings instances need to reach outside the host. All calls
 * act on the calling thread's network namespace. */

#include <netinet/in.h>
#include <stdbool.h>

/* nftables table (family ip) that holds the masquerade rule. */
#define BRIDGE_NFT_TABLE "apprunner"

/* Makes sure bridge name exists, carries gateway/prefix as its only IPv4
 * address and is up, and enables IPv4 forwarding. With outbound, instance
 * traffic from the subnet to other networks is masqueraded through the
 * nftables table "apprunner"; without, that table is removed. Safe to call
 * again with the same or changed arguments.
 * Returns 0, or a negative errno with a sentence in *ret_error (if not NULL):
 *   -EINVAL  invalid name or prefix (prefix 8..30);
 *   -EEXIST  an interface of that name exists and is not a bridge;
 *   -ENOENT  outbound requested but the nft binary is not installed;
 *   -EIO     nft rejected the ruleset, or an untranslated netlink error. */
int bridge_ensure(const char *name, struct in_addr gateway, unsigned prefix, bool outbound,
                  char **ret_error);

/* Deletes bridge name and the "apprunner" nftables table. Succeeds if both
 * are already gone. IPv4 forwarding is left as it is, because other
 * software on the host may rely on it. */
int bridge_remove(const char *name, char **ret_error);
