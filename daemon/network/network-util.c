/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <netlink/errno.h>
#include <arpa/inet.h>
#include <stdarg.h>

#include "network-util.h"

int errno_from_nl(int nl_error) {
        static const int map[] = {
                [NLE_INTR] = EINTR,           [NLE_BAD_SOCK] = EBADF,
                [NLE_AGAIN] = EAGAIN,         [NLE_NOMEM] = ENOMEM,
                [NLE_EXIST] = EEXIST,         [NLE_INVAL] = EINVAL,
                [NLE_RANGE] = ERANGE,         [NLE_MSGSIZE] = EMSGSIZE,
                [NLE_OPNOTSUPP] = EOPNOTSUPP, [NLE_AF_NOSUPPORT] = EAFNOSUPPORT,
                [NLE_OBJ_NOTFOUND] = ENOENT,  [NLE_NOADDR] = EADDRNOTAVAIL,
                [NLE_BUSY] = EBUSY,           [NLE_PROTO_MISMATCH] = EPROTONOSUPPORT,
                [NLE_NOACCESS] = EACCES,      [NLE_PERM] = EPERM,
                [NLE_NODEV] = ENODEV,
        };
        int e = nl_error < 0 ? -nl_error : nl_error;

        if (e == 0)
                return 0;
        if ((size_t)e < ELEMENTSOF(map) && map[e] != 0)
                return -map[e];
        return -EIO;
}

int route_socket_open(struct nl_sock **ret) {
        struct nl_sock *sk;
        int r;

        sk = nl_socket_alloc();
        if (!sk)
                return -ENOMEM;

        r = nl_connect(sk, NETLINK_ROUTE);
        if (r < 0) {
                nl_socket_free(sk);
                return errno_from_nl(r);
        }

        *ret = sk;
        return 0;
}

bool ifname_is_valid(const char *name) {
        size_t n;

        if (!name)
                return false;
        n = strlen(name);
        if (n == 0 || n >= IFNAMSIZ)
                return false;
        if (streq(name, ".") || streq(name, ".."))
                return false;
        for (const char *p = name; *p; p++)
                if (*p == '/' || *p == ':' || isspace((unsigned char)*p) || !isprint((unsigned char)*p))
                        return false;
        return true;
}

int nl_addr_from_in_addr(struct in_addr a, unsigned prefix, struct nl_addr **ret) {
        struct nl_addr *addr;

        addr = nl_addr_build(AF_INET, &a, sizeof(a));
        if (!addr)
                return -ENOMEM;
        nl_addr_set_prefixlen(addr, (int)prefix);

        *ret = addr;
        return 0;
}

/* Removes every IPv4 address on ifindex other than keep, so a changed
 * subnet in the configuration does not leave the old gateway behind. */
static int addresses_flush_except(struct nl_sock *sk, int ifindex, struct nl_addr *keep, const char *name,
                                  char **ret_error) {
        _cleanup_(nl_cache_putp) struct nl_cache *cache = NULL;
        int r;

        r = rtnl_addr_alloc_cache(sk, &cache);
        if (r < 0)
                return error_set(ret_error, errno_from_nl(r), "Failed to list addresses of %s: %s", name,
                                 nl_geterror(r));

        for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
                struct rtnl_addr *a = (struct rtnl_addr *)o;

                if (rtnl_addr_get_ifindex(a) != ifindex || rtnl_addr_get_family(a) != AF_INET)
                        continue;
                /* nl_addr_cmp() compares the prefix length too. */
                if (nl_addr_cmp(rtnl_addr_get_local(a), keep) == 0)
                        continue;

                r = rtnl_addr_delete(sk, a, 0);
                if (r < 0 && r != -NLE_NOADDR && r != -NLE_OBJ_NOTFOUND)
                        return error_set(ret_error, errno_from_nl(r),
                                         "Failed to remove an old address from %s: %s", name,
                                         nl_geterror(r));
        }
        return 0;
}

int address_ensure(struct nl_sock *sk, int ifindex, struct in_addr address, unsigned prefix,
                   const char *name, char **ret_error) {
        _cleanup_(rtnl_addr_putp) struct rtnl_addr *a = NULL;
        _cleanup_(nl_addr_putp) struct nl_addr *local = NULL, *broadcast = NULL;
        struct in_addr bcast;
        int r;

        r = nl_addr_from_in_addr(address, prefix, &local);
        if (r < 0)
                return r;

        r = addresses_flush_except(sk, ifindex, local, name, ret_error);
        if (r < 0)
                return r;

        bcast.s_addr = address.s_addr | htonl(UINT32_MAX >> prefix);
        r = nl_addr_from_in_addr(bcast, 32, &broadcast);
        if (r < 0)
                return r;

        a = rtnl_addr_alloc();
        if (!a)
                return -ENOMEM;
        rtnl_addr_set_ifindex(a, ifindex);
        rtnl_addr_set_family(a, AF_INET);
        r = rtnl_addr_set_local(a, local);
        if (r >= 0)
                r = rtnl_addr_set_broadcast(a, broadcast);
        if (r < 0)
                return errno_from_nl(r);

        /* NLM_F_REPLACE makes adding an address that is already there a
         * success rather than EEXIST. */
        r = rtnl_addr_add(sk, a, NLM_F_REPLACE);
        if (r < 0)
                return error_set(ret_error, errno_from_nl(r), "Failed to add address to %s: %s", name,
                                 nl_geterror(r));
        return 0;
}

int link_set_up(struct nl_sock *sk, struct rtnl_link *link, const char *name, char **ret_error) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *change = NULL;
        int r;

        if (rtnl_link_get_flags(link) & IFF_UP)
                return 0;

        change = rtnl_link_alloc();
        if (!change)
                return -ENOMEM;
        rtnl_link_set_flags(change, IFF_UP);

        r = rtnl_link_change(sk, link, change, 0);
        if (r < 0)
                return error_set(ret_error, errno_from_nl(r), "Failed to bring up %s: %s", name,
                                 nl_geterror(r));
        return 0;
}

/* Looks up link name. Returns 1 and the link, 0 if there is none, or a
 * negative errno. */
int link_get(struct nl_sock *sk, const char *name, struct rtnl_link **ret) {
        struct rtnl_link *link = NULL;
        int r;

        r = rtnl_link_get_kernel(sk, 0, name, &link);
        if (r == -NLE_OBJ_NOTFOUND || r == -NLE_NODEV)
                return 0;
        if (r < 0)
                return errno_from_nl(r);

        *ret = link;
        return 1;
}

int mac_from_in_addr(struct in_addr a, struct nl_addr **ret) {
        uint8_t mac[6] = {0x0a, 0x58};
        struct nl_addr *addr;

        memcpy(mac + 2, &a.s_addr, 4);
        addr = nl_addr_build(AF_LLC, mac, sizeof(mac));
        if (!addr)
                return -ENOMEM;

        *ret = addr;
        return 0;
}

int link_mac_ensure(struct nl_sock *sk, struct rtnl_link *link, struct in_addr a, const char *name,
                    char **ret_error) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *change = NULL;
        _cleanup_(nl_addr_putp) struct nl_addr *mac = NULL;
        struct nl_addr *current;
        int r;

        r = mac_from_in_addr(a, &mac);
        if (r < 0)
                return r;

        current = rtnl_link_get_addr(link);
        if (current && nl_addr_cmp(current, mac) == 0)
                return 0;

        change = rtnl_link_alloc();
        if (!change)
                return -ENOMEM;
        rtnl_link_set_addr(change, mac);

        r = rtnl_link_change(sk, link, change, 0);
        if (r < 0)
                return error_set(ret_error, errno_from_nl(r), "Failed to set the MAC address of %s: %s",
                                 name, nl_geterror(r));
        return 0;
}
