/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Helpers shared by bridge.c and netns.c: libnl error conversion, cleanup
 * functions for libnl objects, interface name checks, and the netlink steps
 * both run: look up a link, set its address, MAC and IFF_UP. Not a public
 * interface of daemon/network/. */

#include <net/if.h>
#include <netinet/in.h>
#include <netlink/addr.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
#include <stdbool.h>

#include "error.h"
#include "macro.h"

static inline void nl_socket_freep(struct nl_sock **p) {
        if (*p)
                nl_socket_free(*p);
}
static inline void rtnl_link_putp(struct rtnl_link **p) {
        if (*p)
                rtnl_link_put(*p);
}
static inline void rtnl_addr_putp(struct rtnl_addr **p) {
        if (*p)
                rtnl_addr_put(*p);
}
static inline void rtnl_route_putp(struct rtnl_route **p) {
        if (*p)
                rtnl_route_put(*p);
}
static inline void nl_addr_putp(struct nl_addr **p) {
        if (*p)
                nl_addr_put(*p);
}
static inline void nl_cache_putp(struct nl_cache **p) {
        if (*p)
                nl_cache_put(*p);
}

/* Converts a negative libnl error code (-NLE_*) to a negative errno. libnl
 * has already folded kernel errnos into its own codes, so the mapping is
 * approximate: codes without an errno counterpart become -EIO. */
int errno_from_nl(int nl_error);

/* Allocates a NETLINK_ROUTE socket connected in the calling thread's network
 * namespace. */
int route_socket_open(struct nl_sock **ret);

/* Returns true if name can be a network interface name: 1..15 bytes, no '/',
 * ':' or whitespace, and neither "." nor "..". */
bool ifname_is_valid(const char *name);

/* Builds an nl_addr of family AF_INET for a/prefix. */
int nl_addr_from_in_addr(struct in_addr a, unsigned prefix, struct nl_addr **ret);

/* Looks up link name. Returns 1 and the link (release with
 * rtnl_link_put()), 0 if there is none, or a negative errno. */
int link_get(struct nl_sock *sk, const char *name, struct rtnl_link **ret);

/* Makes address/prefix the only IPv4 address of interface ifindex (named
 * name in messages), with the subnet's broadcast address. Other IPv4
 * addresses are removed, so a changed subnet leaves no stale address. */
int address_ensure(struct nl_sock *sk, int ifindex, struct in_addr address, unsigned prefix,
                   const char *name, char **ret_error);

/* Sets IFF_UP on link unless it is already up. */
int link_set_up(struct nl_sock *sk, struct rtnl_link *link, const char *name, char **ret_error);

/* Builds the MAC address 0a:58:<a as four bytes> (locally administered,
 * unicast). Deriving an interface's MAC from its IPv4 address keeps
 * neighbour caches right when an interface is recreated or an address is
 * reused, because the IP-to-MAC mapping they hold stays true. */
int mac_from_in_addr(struct in_addr a, struct nl_addr **ret);

/* Sets link's MAC address to mac_from_in_addr(a) unless it already is. */
int link_mac_ensure(struct nl_sock *sk, struct rtnl_link *link, struct in_addr a, const char *name,
                    char **ret_error);
