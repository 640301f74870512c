/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netlink/route/link/bridge.h>

#include "bridge.h"
#include "log.h"
#include "network-util.h"
#include "nft.h"

#define IP_FORWARD_PATH "/proc/sys/net/ipv4/ip_forward"

/* Creates bridge name with the MAC address derived from gateway. A bridge
 * without an explicitly set MAC takes the lowest MAC of its ports and
 * changes it whenever ports come and go, which would leave instances with a
 * stale neighbour entry for the gateway. */
static int bridge_create(struct nl_sock *sk, const char *name, struct in_addr gateway, char **ret_error) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL;
        _cleanup_(nl_addr_putp) struct nl_addr *mac = NULL;
        int r;

        r = mac_from_in_addr(gateway, &mac);
        if (r < 0)
                return r;

        link = rtnl_link_bridge_alloc();
        if (!link)
                return -ENOMEM;
        rtnl_link_set_name(link, name);
        rtnl_link_set_addr(link, mac);

        r = rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL);
        if (r == -NLE_EXIST) /* created concurrently, which is fine */
                return 0;
        if (r < 0)
                return error_set(ret_error, errno_from_nl(r), "Failed to create bridge %s: %s", name,
                                 nl_geterror(r));

        log_debug("Created bridge %s.", name);
        return 0;
}

/* Writes 1 to net.ipv4.ip_forward of the calling thread's network namespace
 * unless it already reads 1, so a host that enabled forwarding itself sees
 * no write. */
static int ip_forward_enable(char **ret_error) {
        _cleanup_close_ int fd = -1;
        char value[2] = {};

        fd = open(IP_FORWARD_PATH, O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return error_set(ret_error, -errno, "Failed to open %s: %m", IP_FORWARD_PATH);
        if (read(fd, value, 1) == 1 && value[0] == '1')
                return 0;
        if (pwrite(fd, "1\n", 2, 0) != 2)
                return error_set(ret_error, -errno, "Failed to enable IPv4 forwarding in %s: %m",
                                 IP_FORWARD_PATH);

        log_debug("Enabled IPv4 forwarding.");
        return 0;
}

/* Replaces the nftables table with one that masquerades traffic from the
 * subnet to any other destination. Declaring the table, deleting it and
 * declaring it again in one "nft -f" transaction replaces whatever the
 * table contained, atomically, whether or not it existed before. */
static int masquerade_enable(struct in_addr gateway, unsigned prefix, char **ret_error) {
        _cleanup_free_ char *script = NULL;
        char network[INET_ADDRSTRLEN];
        struct in_addr n = {.s_addr = gateway.s_addr & htonl(UINT32_MAX << (32 - prefix))};

        if (!inet_ntop(AF_INET, &n, network, sizeof(network)))
                return -errno;

        if (asprintf(&script,
                     "table ip " BRIDGE_NFT_TABLE "\n"
                     "delete table ip " BRIDGE_NFT_TABLE "\n"
                     "table ip " BRIDGE_NFT_TABLE " {\n"
                     "        chain postrouting {\n"
                     "                type nat hook postrouting priority srcnat; policy accept;\n"
                     "                ip saddr %s/%u ip daddr != %s/%u masquerade\n"
                     "        }\n"
                     "}\n",
                     network, prefix, network, prefix) < 0)
                return -ENOMEM;

        /* NOTE: a forward chain policy of drop in another table (Docker
         * installs one through iptables-nft) still drops instance traffic,
         * because an accept verdict here cannot override it. */
        return nft_run_script(script, ret_error);
}

static int masquerade_disable(char **ret_error) {
        int r;

        r = nft_run_script("table ip " BRIDGE_NFT_TABLE "\n"
                           "delete table ip " BRIDGE_NFT_TABLE "\n",
                           ret_error);
        /* Without nft installed there cannot be a table that this code
         * created. */
        if (r == -ENOENT) {
                if (ret_error) {
                        free(*ret_error);
                        *ret_error = NULL;
                }
                return 0;
        }
        return r;
}

int bridge_ensure(const char *name, struct in_addr gateway, unsigned prefix, bool outbound,
                  char **ret_error) {
        _cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
        _cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL;
        const char *type;
        int r;

        if (!ifname_is_valid(name))
                return error_set(ret_error, -EINVAL, "Invalid bridge name \"%s\".", strempty(name));
        if (prefix < 8 || prefix > 30)
                return error_set(ret_error, -EINVAL, "Invalid subnet prefix length %u, expected 8..30.",
                                 prefix);

        r = route_socket_open(&sk);
        if (r < 0)
                return error_set(ret_error, r, "Failed to open a netlink socket: %s", strerror(-r));

        r = link_get(sk, name, &link);
        if (r < 0)
                return error_set(ret_error, r, "Failed to look up interface %s: %s", name, strerror(-r));
        if (r == 0) {
                r = bridge_create(sk, name, gateway, ret_error);
                if (r < 0)
                        return r;
                r = link_get(sk, name, &link);
                if (r == 0)
                        r = -ENODEV;
                if (r < 0)
                        return error_set(ret_error, r, "Failed to look up bridge %s after creating it: %s",
                                         name, strerror(-r));
        }

        type = rtnl_link_get_type(link);
        if (!type || !streq(type, "bridge"))
                return error_set(
                        ret_error, -EEXIST,
                        "Interface %s exists and is a %s device, not a bridge; choose another Bridge= "
                        "name or remove the interface.",
                        name, type ?: "plain");

        r = address_ensure(sk, rtnl_link_get_ifindex(link), gateway, prefix, name, ret_error);
        if (r < 0)
                return r;

        r = link_mac_ensure(sk, link, gateway, name, ret_error);
        if (r < 0)
                return r;

        r = link_set_up(sk, link, name, ret_error);
        if (r < 0)
                return r;

        r = ip_forward_enable(ret_error);
        if (r < 0)
                return r;

        return outbound ? masquerade_enable(gateway, prefix, ret_error) : masquerade_disable(ret_error);
}

int bridge_remove(const char *name, char **ret_error) {
        _cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
        _cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL;
        int r;

        if (!ifname_is_valid(name))
                return error_set(ret_error, -EINVAL, "Invalid bridge name \"%s\".", strempty(name));

        r = route_socket_open(&sk);
        if (r < 0)
                return error_set(ret_error, r, "Failed to open a netlink socket: %s", strerror(-r));

        r = link_get(sk, name, &link);
        if (r < 0)
                return error_set(ret_error, r, "Failed to look up interface %s: %s", name, strerror(-r));
        if (r > 0) {
                const char *type = rtnl_link_get_type(link);

                if (!type || !streq(type, "bridge"))
                        return error_set(ret_error, -EEXIST,
                                         "Interface %s is not a bridge, not removing it.", name);
                r = rtnl_link_delete(sk, link);
                if (r < 0 && r != -NLE_OBJ_NOTFOUND && r != -NLE_NODEV)
                        return error_set(ret_error, errno_from_nl(r), "Failed to delete bridge %s: %s", name,
                                         nl_geterror(r));
        }

        return masquerade_disable(ret_error);
}
