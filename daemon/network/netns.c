/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <netlink/route/link/veth.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "log.h"
#include "netns.h"
#include "network-util.h"

#define INSTANCE_ID_LENGTH 12
#define INSTANCE_IFNAME    "eth0"

bool instance_id_is_valid(const char *id) {
        if (!id || strlen(id) != INSTANCE_ID_LENGTH)
                return false;
        for (const char *p = id; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
                        return false;
        return true;
}

static int netns_path(const char *id, char **ret) {
        if (asprintf(ret, INSTANCE_NETNS_DIR "/" INSTANCE_NETNS_PREFIX "%s", id) < 0)
                return -ENOMEM;
        return 0;
}

static void veth_name(const char *id, char ret[static IFNAMSIZ]) {
        snprintf(ret, IFNAMSIZ, INSTANCE_VETH_PREFIX "%s", id);
}

/* Running code inside another network namespace.
 *
 * A network namespace is a property of a thread, so a new thread can join
 * one with setns() (or create one with unshare()) without touching the
 * caller. The thread exits when the function returns, which drops its
 * namespace membership, so no path has to switch back. Sockets opened by
 * the function stay bound to the namespace they were created in. */

typedef int (*NetnsFunction)(void *userdata);

typedef struct NetnsThread {
        int netns_fd; /* namespace to join, or -1 to create a new one */
        NetnsFunction function;
        void *userdata;
        int result;
} NetnsThread;

static void *netns_thread_main(void *p) {
        NetnsThread *t = p;

        if (t->netns_fd >= 0) {
                if (setns(t->netns_fd, CLONE_NEWNET) < 0) {
                        t->result = -errno;
                        return NULL;
                }
        } else if (unshare(CLONE_NEWNET) < 0) {
                t->result = -errno;
                return NULL;
        }

        t->result = t->function(t->userdata);
        return NULL;
}

static int run_in_netns(int netns_fd, NetnsFunction function, void *userdata) {
        NetnsThread t = {.netns_fd = netns_fd, .function = function, .userdata = userdata};
        pthread_t thread;
        int r;

        r = pthread_create(&thread, NULL, netns_thread_main, &t);
        if (r != 0)
                return -r;
        r = pthread_join(thread, NULL);
        if (r != 0)
                return -r;
        return t.result;
}

/* Named namespaces, made the way iproute2's "ip netns add" makes them. */

/* Creates /run/netns and makes it a shared mount point, bind-mounting it on
 * itself first if it is not a mount point yet. A shared /run/netns lets a
 * namespace mounted later also appear in mount namespaces that were copied
 * from this one before, as iproute2 intends. */
static int netns_dir_prepare(void) {
        bool bound = false;

        if (mkdir(INSTANCE_NETNS_DIR, 0755) < 0 && errno != EEXIST)
                return -errno;

        while (mount("", INSTANCE_NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) < 0) {
                /* EINVAL means it is not a mount point yet. */
                if (errno != EINVAL || bound)
                        return -errno;
                if (mount(INSTANCE_NETNS_DIR, INSTANCE_NETNS_DIR, "none", MS_BIND | MS_REC, NULL) < 0)
                        return -errno;
                bound = true;
        }
        return 0;
}

/* Returns 1 if path has a network namespace mounted on it, 0 if it exists
 * but does not, -ENOENT if it does not exist. */
static int netns_is_mounted(const char *path) {
        struct statfs sfs;

        if (statfs(path, &sfs) < 0)
                return -errno;
        return sfs.f_type == NSFS_MAGIC;
}

static int bind_own_netns(void *userdata) {
        const char *path = userdata;

        /* /proc/thread-self, because only this thread is in the new
         * namespace; /proc/self/ns/net would name the main thread's. */
        if (mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL) < 0)
                return -errno;
        return 0;
}

static int netns_remove(const char *path) {
        if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
                return -errno;
        if (unlink(path) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

/* Makes sure path is a mounted network namespace. Sets *ret_created if this
 * call created it. */
static int netns_ensure(const char *path, bool *ret_created, char **ret_error) {
        _cleanup_close_ int fd = -1;
        int r;

        r = netns_dir_prepare();
        if (r < 0)
                return error_set(ret_error, r, "Failed to prepare %s as a shared mount point: %s",
                                 INSTANCE_NETNS_DIR, strerror(-r));

        r = netns_is_mounted(path);
        if (r > 0) {
                *ret_created = false;
                return 0;
        }
        if (r == 0) {
                /* A file without a namespace on it is left over from a create
                 * that was interrupted before the bind mount. */
                log_debug("Removing %s, which has no namespace mounted on it.", path);
                if (unlink(path) < 0 && errno != ENOENT)
                        return error_set(ret_error, -errno, "Failed to remove stale %s: %m", path);
        } else if (r != -ENOENT)
                return error_set(ret_error, r, "Failed to check %s: %s", path, strerror(-r));

        fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
        if (fd < 0)
                return error_set(ret_error, -errno, "Failed to create %s: %m", path);
        close(TAKE_FD(fd));

        r = run_in_netns(-1, bind_own_netns, (void *)path);
        if (r < 0) {
                (void)unlink(path);
                return error_set(ret_error, r, "Failed to create network namespace %s: %s", path,
                                 strerror(-r));
        }

        *ret_created = true;
        return 0;
}

/* Work inside the instance namespace, run through run_in_netns(). */

typedef struct PeerCheck {
        int host_ifindex;      /* ifindex of ar<id> in the caller's namespace, 0 if there is none */
        int host_peer_ifindex; /* ifindex that ar<id> reports for its peer */
        bool paired;           /* output: eth0 is the peer of ar<id> */
        char *error;
} PeerCheck;

/* Sets paired if eth0 exists and is the other end of ar<id>; otherwise
 * deletes an eth0 that belongs to no veth pair of ours, so a new pair can
 * take the name. */
static int peer_check_in_netns(void *userdata) {
        _cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
        _cleanup_(rtnl_link_putp) struct rtnl_link *eth0 = NULL;
        PeerCheck *c = userdata;
        int r;

        r = route_socket_open(&sk);
        if (r < 0)
                return error_set(&c->error, r,
                                 "Failed to open a netlink socket in the instance namespace: %s",
                                 strerror(-r));

        r = link_get(sk, INSTANCE_IFNAME, &eth0);
        if (r < 0)
                return error_set(&c->error, r, "Failed to look up " INSTANCE_IFNAME ": %s", strerror(-r));
        if (r == 0)
                return 0;

        if (c->host_ifindex > 0 && rtnl_link_get_link(eth0) == c->host_ifindex &&
            rtnl_link_get_ifindex(eth0) == c->host_peer_ifindex) {
                c->paired = true;
                return 0;
        }

        log_debug("Deleting " INSTANCE_IFNAME
                  " in the instance namespace, it is not paired with the host veth.");
        r = rtnl_link_delete(sk, eth0);
        if (r < 0 && r != -NLE_OBJ_NOTFOUND && r != -NLE_NODEV)
                return error_set(&c->error, errno_from_nl(r),
                                 "Failed to delete stale " INSTANCE_IFNAME ": %s", nl_geterror(r));
        return 0;
}

typedef struct InstanceAddress {
        struct in_addr address;
        unsigned prefix;
        struct in_addr gateway;
        char *error;
} InstanceAddress;

static int default_route_ensure(struct nl_sock *sk, int ifindex, struct in_addr gateway, char **ret_error) {
        _cleanup_(rtnl_route_putp) struct rtnl_route *route = NULL;
        _cleanup_(nl_addr_putp) struct nl_addr *dst = NULL, *via = NULL;
        struct rtnl_nexthop *nh;
        int r;

        r = nl_addr_from_in_addr((struct in_addr){.s_addr = INADDR_ANY}, 0, &dst);
        if (r < 0)
                return r;
        r = nl_addr_from_in_addr(gateway, 32, &via);
        if (r < 0)
                return r;

        route = rtnl_route_alloc();
        nh = rtnl_route_nh_alloc();
        if (!route || !nh) {
                if (nh)
                        rtnl_route_nh_free(nh);
                return -ENOMEM;
        }
        rtnl_route_set_family(route, AF_INET);
        rtnl_route_set_table(route, RT_TABLE_MAIN);
        rtnl_route_set_protocol(route, RTPROT_STATIC);
        rtnl_route_set_scope(route, RT_SCOPE_UNIVERSE);
        rtnl_route_set_type(route, RTN_UNICAST);
        r = rtnl_route_set_dst(route, dst);
        if (r < 0) {
                rtnl_route_nh_free(nh);
                return errno_from_nl(r);
        }
        rtnl_route_nh_set_ifindex(nh, ifindex);
        rtnl_route_nh_set_gateway(nh, via);
        rtnl_route_add_nexthop(route, nh); /* the route owns nh from here on */

        /* NLM_F_REPLACE replaces a default route that is already there,
         * e.g. one through an old gateway. */
        r = rtnl_route_add(sk, route, NLM_F_REPLACE);
        if (r < 0)
                return error_set(ret_error, errno_from_nl(r), "Failed to add the default route: %s",
                                 nl_geterror(r));
        return 0;
}

/* Brings lo up, gives eth0 its address, brings eth0 up and adds the default
 * route, in that order because the kernel accepts a route through a
 * gateway only on an interface that is up. */
static int configure_in_netns(void *userdata) {
        _cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
        _cleanup_(rtnl_link_putp) struct rtnl_link *lo = NULL, *eth0 = NULL;
        InstanceAddress *a = userdata;
        int r;

        r = route_socket_open(&sk);
        if (r < 0)
                return error_set(&a->error, r,
                                 "Failed to open a netlink socket in the instance namespace: %s",
                                 strerror(-r));

        r = link_get(sk, "lo", &lo);
        if (r == 0)
                r = -ENODEV;
        if (r < 0)
                return error_set(&a->error, r, "Failed to look up lo: %s", strerror(-r));
        r = link_set_up(sk, lo, "lo", &a->error);
        if (r < 0)
                return r;

        r = link_get(sk, INSTANCE_IFNAME, &eth0);
        if (r == 0)
                r = -ENODEV;
        if (r < 0)
                return error_set(&a->error, r, "Failed to look up " INSTANCE_IFNAME ": %s", strerror(-r));

        r = address_ensure(sk, rtnl_link_get_ifindex(eth0), a->address, a->prefix, INSTANCE_IFNAME,
                           &a->error);
        if (r < 0)
                return r;
        r = link_set_up(sk, eth0, INSTANCE_IFNAME, &a->error);
        if (r < 0)
                return r;

        return default_route_ensure(sk, rtnl_link_get_ifindex(eth0), a->gateway, &a->error);
}

/* Work in the caller's namespace. */

/* Creates the pair host_name <-> eth0 with eth0 created directly inside the
 * namespace netns_fd (IFLA_NET_NS_FD on the peer), so eth0 never exists in
 * the caller's namespace. eth0 gets the MAC derived from the instance
 * address. The host end joins the bridge and comes up in the same request,
 * and the kernel deletes the pair again if either fails. */
static int veth_create(struct nl_sock *sk, const char *host_name, int bridge_ifindex, int netns_fd,
                       struct in_addr address, char **ret_error) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL;
        _cleanup_(nl_addr_putp) struct nl_addr *mac = NULL;
        struct rtnl_link *peer;
        int r;

        r = mac_from_in_addr(address, &mac);
        if (r < 0)
                return r;

        link = rtnl_link_veth_alloc();
        if (!link)
                return -ENOMEM;
        rtnl_link_set_name(link, host_name);
        rtnl_link_set_master(link, bridge_ifindex);
        rtnl_link_set_flags(link, IFF_UP);

        peer = rtnl_link_veth_get_peer(link);
        rtnl_link_set_name(peer, INSTANCE_IFNAME);
        rtnl_link_set_ns_fd(peer, netns_fd);
        rtnl_link_set_addr(peer, mac);
        rtnl_link_put(peer);

        r = rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL);
        if (r < 0)
                return error_set(ret_error, errno_from_nl(r),
                                 "Failed to create veth pair %s/" INSTANCE_IFNAME ": %s", host_name,
                                 nl_geterror(r));
        return 0;
}

/* Attaches an existing host end to the bridge and brings it up. */
static int veth_host_ensure(struct nl_sock *sk, struct rtnl_link *host, int bridge_ifindex,
                            char **ret_error) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *change = NULL;
        int r;

        if (rtnl_link_get_master(host) == bridge_ifindex && (rtnl_link_get_flags(host) & IFF_UP))
                return 0;

        change = rtnl_link_alloc();
        if (!change)
                return -ENOMEM;
        rtnl_link_set_master(change, bridge_ifindex);
        rtnl_link_set_flags(change, IFF_UP);

        r = rtnl_link_change(sk, host, change, 0);
        if (r < 0)
                return error_set(ret_error, errno_from_nl(r), "Failed to attach %s to the bridge: %s",
                                 rtnl_link_get_name(host), nl_geterror(r));
        return 0;
}

/* Deletes veth name if it exists. Returns 0 also when it does not. */
static int veth_delete(struct nl_sock *sk, const char *name) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL;
        int r;

        r = link_get(sk, name, &link);
        if (r <= 0)
                return r;

        if (!rtnl_link_is_veth(link)) {
                log_debug("Not deleting %s, it is not a veth.", name);
                return -EEXIST;
        }

        r = rtnl_link_delete(sk, link);
        if (r < 0 && r != -NLE_OBJ_NOTFOUND && r != -NLE_NODEV)
                return errno_from_nl(r);
        return 0;
}

static bool same_subnet(struct in_addr a, struct in_addr b, unsigned prefix) {
        uint32_t mask = htonl(UINT32_MAX << (32 - prefix));
        return (a.s_addr & mask) == (b.s_addr & mask);
}

static int validate_addresses(struct in_addr address, unsigned prefix, struct in_addr gateway,
                              char **ret_error) {
        char a[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN];
        uint32_t host_bits;

        if (prefix < 8 || prefix > 30)
                return error_set(ret_error, -EINVAL, "Invalid prefix length %u, expected 8..30.", prefix);

        inet_ntop(AF_INET, &address, a, sizeof(a));
        inet_ntop(AF_INET, &gateway, g, sizeof(g));

        if (!same_subnet(address, gateway, prefix))
                return error_set(ret_error, -EINVAL, "Gateway %s is not in the subnet of %s/%u.", g, a,
                                 prefix);

        host_bits = ntohl(address.s_addr) & (UINT32_MAX >> prefix);
        if (host_bits == 0 || host_bits == (UINT32_MAX >> prefix))
                return error_set(ret_error, -EINVAL, "%s is the network or broadcast address of /%u.", a,
                                 prefix);
        if (address.s_addr == gateway.s_addr)
                return error_set(ret_error, -EINVAL, "Instance address %s is the gateway address.", a);
        return 0;
}

int instance_netns_create(const char *bridge, const char *instance_id, struct in_addr address,
                          unsigned prefix, struct in_addr gateway, char **ret_netns_path, char **ret_error) {
        _cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
        _cleanup_(rtnl_link_putp) struct rtnl_link *bridge_link = NULL, *host = NULL;
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int netns_fd = -1;
        char host_name[IFNAMSIZ];
        bool created_netns = false, created_veth = false;
        PeerCheck check = {};
        InstanceAddress config = {.address = address, .prefix = prefix, .gateway = gateway};
        int r;

        if (!instance_id_is_valid(instance_id))
                return error_set(ret_error, -EINVAL,
                                 "Invalid instance id \"%s\", expected 12 lowercase hex digits.",
                                 strempty(instance_id));
        if (!ifname_is_valid(bridge))
                return error_set(ret_error, -EINVAL, "Invalid bridge name \"%s\".", strempty(bridge));
        r = validate_addresses(address, prefix, gateway, ret_error);
        if (r < 0)
                return r;

        r = netns_path(instance_id, &path);
        if (r < 0)
                return r;
        veth_name(instance_id, host_name);

        r = route_socket_open(&sk);
        if (r < 0)
                return error_set(ret_error, r, "Failed to open a netlink socket: %s", strerror(-r));

        r = netns_ensure(path, &created_netns, ret_error);
        if (r < 0)
                return r;

        netns_fd = open(path, O_RDONLY | O_CLOEXEC);
        if (netns_fd < 0) {
                r = error_set(ret_error, -errno, "Failed to open %s: %m", path);
                goto fail;
        }

        /* The bridge is looked up only now, after the namespace exists, which
         * keeps one code path for every failure after the first change. */
        r = link_get(sk, bridge, &bridge_link);
        if (r == 0)
                r = error_set(ret_error, -ENODEV, "Bridge %s not found.", bridge);
        else if (r < 0)
                error_set(ret_error, r, "Failed to look up bridge %s: %s", bridge, strerror(-r));
        if (r <= 0)
                goto fail;

        r = link_get(sk, host_name, &host);
        if (r < 0) {
                error_set(ret_error, r, "Failed to look up %s: %s", host_name, strerror(-r));
                goto fail;
        }
        if (host) {
                if (!rtnl_link_is_veth(host)) {
                        r = error_set(ret_error, -EEXIST, "Interface %s exists and is not a veth.",
                                      host_name);
                        goto fail;
                }
                check.host_ifindex = rtnl_link_get_ifindex(host);
                check.host_peer_ifindex = rtnl_link_get_link(host);
        }

        r = run_in_netns(netns_fd, peer_check_in_netns, &check);
        if (r < 0) {
                error_set(ret_error, r, "%s", check.error ?: "Failed to enter the instance namespace.");
                goto fail;
        }

        if (check.paired) {
                r = veth_host_ensure(sk, host, rtnl_link_get_ifindex(bridge_link), ret_error);
                if (r < 0)
                        goto fail;
        } else {
                if (host) {
                        log_debug("Deleting %s, its peer is not in %s.", host_name, path);
                        r = veth_delete(sk, host_name);
                        if (r < 0) {
                                error_set(ret_error, r, "Failed to delete stale %s: %s", host_name,
                                          strerror(-r));
                                goto fail;
                        }
                }

                r = veth_create(sk, host_name, rtnl_link_get_ifindex(bridge_link), netns_fd, address,
                                ret_error);
                if (r < 0)
                        goto fail;
                created_veth = true;
        }

        r = run_in_netns(netns_fd, configure_in_netns, &config);
        if (r < 0) {
                error_set(ret_error, r, "%s", config.error ?: "Failed to enter the instance namespace.");
                goto fail;
        }

        free(check.error);
        free(config.error);
        if (ret_netns_path)
                *ret_netns_path = TAKE_PTR(path);
        return 0;

fail:
        if (created_veth)
                (void)veth_delete(sk, host_name);
        if (created_netns) {
                closep(&netns_fd);
                netns_fd = -1;
                (void)netns_remove(path);
        }
        free(check.error);
        free(config.error);
        return r;
}

int instance_netns_destroy(const char *instance_id) {
        _cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
        _cleanup_free_ char *path = NULL;
        char host_name[IFNAMSIZ];
        int r;

        if (!instance_id_is_valid(instance_id))
                return -EINVAL;

        r = netns_path(instance_id, &path);
        if (r < 0)
                return r;
        veth_name(instance_id, host_name);

        r = route_socket_open(&sk);
        if (r < 0)
                return r;

        /* Deleting one end of a veth pair deletes the other, so eth0 goes
         * away even while a process still holds the namespace open. */
        r = veth_delete(sk, host_name);
        if (r < 0)
                return log_debug_errno(r, "Failed to delete %s: %m", host_name);

        r = netns_remove(path);
        if (r < 0)
                return log_debug_errno(r, "Failed to remove %s: %m", path);
        return 0;
}

static int compare_strings(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int instance_netns_list(char ***ret_instance_ids) {
        _cleanup_strv_free_ char **ids = NULL;
        DIR *d;
        struct dirent *de;
        size_t n = 0;

        ids = calloc(1, sizeof(char *));
        if (!ids)
                return -ENOMEM;

        d = opendir(INSTANCE_NETNS_DIR);
        if (!d) {
                if (errno != ENOENT)
                        return -errno;
                *ret_instance_ids = TAKE_PTR(ids);
                return 0;
        }

        while ((errno = 0, de = readdir(d))) {
                const char *id;
                char **grown;

                if (strncmp(de->d_name, INSTANCE_NETNS_PREFIX, strlen(INSTANCE_NETNS_PREFIX)) != 0)
                        continue;
                id = de->d_name + strlen(INSTANCE_NETNS_PREFIX);
                if (!instance_id_is_valid(id))
                        continue;

                grown = reallocarray(ids, n + 2, sizeof(char *));
                if (!grown) {
                        closedir(d);
                        return -ENOMEM;
                }
                ids = grown;
                ids[n] = strdup(id);
                ids[n + 1] = NULL;
                if (!ids[n]) {
                        closedir(d);
                        return -ENOMEM;
                }
                n++;
        }
        if (errno != 0) {
                int r = -errno;
                closedir(d);
                return r;
        }
        closedir(d);

        qsort(ids, n, sizeof(char *), compare_strings);
        *ret_instance_ids = TAKE_PTR(ids);
        return 0;
}
