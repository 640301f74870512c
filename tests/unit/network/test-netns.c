/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests of the bridge and the per-instance network namespaces against the
 * real kernel, through real netlink, nft and iproute2.
 *
 * The test re-executes itself in a new network namespace and a new mount
 * namespace with private propagation, with tmpfs mounted on /run and on
 * /run/netns, so every link, address, route, nftables table and namespace
 * mount it makes disappears with the process and none reaches the host.
 * Needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN); exits 77 (skipped) without. */

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>

#include "network/bridge.h"
#include "network/ipam.h"
#include "network/netns.h"

#define CHECK(expr)                                                                              \
        do {                                                                                     \
                if (!(expr)) {                                                                   \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #expr); \
                        exit(EXIT_FAILURE);                                                      \
                }                                                                                \
        } while (0)

#define ENV_SANDBOXED "APPRUNNER_TEST_NETNS_ORIGINAL"
#define EXIT_SKIP     77
#define BRIDGE        "apprunner0"
#define TCP_PORT      8080

static const char *const instance_ids[] = {"0123456789ab", "abcdef012345", "00000000000f"};

static char *mfree(char *p) {
        free(p);
        return NULL;
}

static struct in_addr addr(const char *s) {
        struct in_addr a;
        CHECK(inet_pton(AF_INET, s, &a) == 1);
        return a;
}

static const char *addr_str(struct in_addr a, char buf[static INET_ADDRSTRLEN]) {
        return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

/* Runs a shell command and returns its exit status, or -1 if it did not
 * exit normally. */
static int run(const char *format, ...) _printf_(1, 2);
static int run(const char *format, ...) {
        _cleanup_free_ char *command = NULL;
        va_list ap;
        int status;

        va_start(ap, format);
        CHECK(vasprintf(&command, format, ap) >= 0);
        va_end(ap);

        status = system(command);
        CHECK(status != -1);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Runs a shell command and returns its standard output. */
static char *output_of(const char *format, ...) _printf_(1, 2);
static char *output_of(const char *format, ...) {
        _cleanup_free_ char *command = NULL;
        char *buf;
        size_t n;
        FILE *f;
        va_list ap;

        va_start(ap, format);
        CHECK(vasprintf(&command, format, ap) >= 0);
        va_end(ap);

        buf = calloc(1, 65536);
        CHECK(buf);
        f = popen(command, "re");
        CHECK(f);
        n = fread(buf, 1, 65535, f);
        buf[n] = 0;
        pclose(f);
        return buf;
}

static bool file_contains(const char *path, const char *needle) {
        _cleanup_free_ char *text = output_of("cat %s", path);
        return strstr(text, needle) != NULL;
}

static bool link_exists(const char *name) {
        return if_nametoindex(name) > 0;
}

static char *netns_file(const char *id) {
        char *p;
        CHECK(asprintf(&p, INSTANCE_NETNS_DIR "/" INSTANCE_NETNS_PREFIX "%s", id) > 0);
        return p;
}

static char *veth_host(const char *id) {
        char *p;
        CHECK(asprintf(&p, INSTANCE_VETH_PREFIX "%s", id) > 0);
        return p;
}

/* Checks that nothing of instance id is left: no host veth, no namespace
 * file, no mount. */
static void check_instance_gone(const char *id) {
        _cleanup_free_ char *path = netns_file(id), *veth = veth_host(id);

        CHECK(!link_exists(veth));
        CHECK(access(path, F_OK) < 0);
        CHECK(errno == ENOENT);
        CHECK(!file_contains("/proc/self/mountinfo", path));
}

/* Sockets in an instance namespace, made by a thread that joins it. */

typedef struct SocketRequest {
        const char *id;
        int type; /* 'L': listening TCP socket on TCP_PORT, 'C': TCP socket to connect from */
        int fd;
} SocketRequest;

static void *socket_in_netns_thread(void *p) {
        SocketRequest *req = p;
        _cleanup_free_ char *path = netns_file(req->id);
        _cleanup_close_ int netns_fd = -1;
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(TCP_PORT)};
        int one = 1;

        netns_fd = open(path, O_RDONLY | O_CLOEXEC);
        CHECK(netns_fd >= 0);
        CHECK(setns(netns_fd, CLONE_NEWNET) == 0);

        req->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        CHECK(req->fd >= 0);
        if (req->type == 'L') {
                CHECK(setsockopt(req->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0);
                CHECK(bind(req->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
                CHECK(listen(req->fd, 4) == 0);
        }
        return NULL;
}

static int socket_in_netns(const char *id, int type) {
        SocketRequest req = {.id = id, .type = type, .fd = -1};
        pthread_t t;

        CHECK(pthread_create(&t, NULL, socket_in_netns_thread, &req) == 0);
        CHECK(pthread_join(t, NULL) == 0);
        return req.fd;
}

/* Connects client_fd (any namespace) to listen_fd's port at address and
 * sends one message across. */
static void check_tcp(int client_fd, int listen_fd, struct in_addr address) {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(TCP_PORT), .sin_addr = address};
        struct timeval timeout = {.tv_sec = 5};
        _cleanup_close_ int conn = -1;
        char buf[8] = {};

        CHECK(setsockopt(client_fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout)) == 0);
        CHECK(setsockopt(listen_fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) == 0);
        CHECK(connect(client_fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);

        conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        CHECK(conn >= 0);
        CHECK(send(client_fd, "ping", 4, MSG_NOSIGNAL) == 4);
        CHECK(setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) == 0);
        CHECK(recv(conn, buf, 4, MSG_WAITALL) == 4);
        CHECK(streq(buf, "ping"));
}

static void check_host_reaches_instance(const char *id, struct in_addr address) {
        _cleanup_close_ int listen_fd = socket_in_netns(id, 'L');
        _cleanup_close_ int client_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        char a[INET_ADDRSTRLEN];

        CHECK(run("busybox ping -c 1 -W 3 %s >/dev/null", addr_str(address, a)) == 0);
        CHECK(client_fd >= 0);
        check_tcp(client_fd, listen_fd, address);
}

/* The tests. */

static void test_bridge_ensure(void) {
        _cleanup_free_ char *error = NULL, *addresses = NULL, *ruleset = NULL;

        CHECK(bridge_ensure("bad/name", addr("10.88.0.1"), 16, false, &error) == -EINVAL);
        CHECK(error);
        CHECK(strstr(error, "bad/name"));
        error = mfree(error);
        CHECK(bridge_ensure("lo", addr("10.88.0.1"), 16, false, &error) == -EEXIST);
        CHECK(error);
        error = mfree(error);

        /* A first subnet, then the configured one: the old gateway address
         * must be gone afterwards. */
        CHECK(bridge_ensure(BRIDGE, addr("10.77.0.1"), 24, false, &error) == 0);
        CHECK(!error);
        CHECK(bridge_ensure(BRIDGE, addr("10.88.0.1"), 16, true, &error) == 0);
        CHECK(!error);
        CHECK(bridge_ensure(BRIDGE, addr("10.88.0.1"), 16, true, &error) == 0);
        CHECK(!error);

        addresses = output_of("ip -4 -o addr show dev " BRIDGE);
        CHECK(strstr(addresses, "inet 10.88.0.1/16 brd 10.88.255.255"));
        CHECK(!strstr(addresses, "10.77.0.1"));
        CHECK(run("ip -o link show " BRIDGE " | grep -q 'state UP\\|,UP'") == 0);
        CHECK(run("ip -d -o link show " BRIDGE " | grep -q ' bridge '") == 0);
        CHECK(file_contains("/proc/sys/net/ipv4/ip_forward", "1"));

        ruleset = output_of("nft list table ip " BRIDGE_NFT_TABLE);
        CHECK(strstr(ruleset, "type nat hook postrouting priority srcnat"));
        CHECK(strstr(ruleset, "ip saddr 10.88.0.0/16 ip daddr != 10.88.0.0/16 masquerade"));

        /* Outbound off removes the table, and removing it twice is fine. */
        CHECK(bridge_ensure(BRIDGE, addr("10.88.0.1"), 16, false, &error) == 0);
        CHECK(run("nft list table ip " BRIDGE_NFT_TABLE " >/dev/null 2>&1") != 0);
        CHECK(bridge_ensure(BRIDGE, addr("10.88.0.1"), 16, false, &error) == 0);
        CHECK(bridge_ensure(BRIDGE, addr("10.88.0.1"), 16, true, &error) == 0);
}

static void test_instances(const char *state_path) {
        _cleanup_ipam_ Ipam *ipam = NULL;
        _cleanup_strv_free_ char **listed = NULL;
        _cleanup_free_ char *netns_list = NULL, *ports = NULL;
        struct in_addr addresses[ELEMENTSOF(instance_ids)];
        char a[INET_ADDRSTRLEN];

        CHECK(ipam_open(state_path, addr("10.88.0.0"), 16, &ipam) == 0);

        for (size_t i = 0; i < ELEMENTSOF(instance_ids); i++) {
                _cleanup_free_ char *path = NULL, *error = NULL, *expected = netns_file(instance_ids[i]);
                int r;

                CHECK(ipam_allocate(ipam, instance_ids[i], &addresses[i]) == 1);
                r = instance_netns_create(BRIDGE, instance_ids[i], addresses[i], ipam_prefix(ipam),
                                          ipam_gateway(ipam), &path, &error);
                if (r < 0)
                        fprintf(stderr, "instance_netns_create(%s): %s\n", instance_ids[i], strna(error));
                CHECK(r == 0);
                CHECK(path);
                CHECK(streq(path, expected));

                /* The bind mount is a network namespace, as "ip netns add" makes it. */
                struct statfs sfs;
                CHECK(statfs(path, &sfs) == 0);
                CHECK(sfs.f_type == NSFS_MAGIC);
        }

        /* "ip netns list" lists all three. */
        netns_list = output_of("ip netns list");
        for (size_t i = 0; i < ELEMENTSOF(instance_ids); i++) {
                _cleanup_free_ char *name = NULL;
                CHECK(asprintf(&name, INSTANCE_NETNS_PREFIX "%s", instance_ids[i]) > 0);
                CHECK(strstr(netns_list, name));
        }

        CHECK(instance_netns_list(&listed) == 0);
        CHECK(listed[0]);
        CHECK(streq(listed[0], "00000000000f"));
        CHECK(listed[1]);
        CHECK(streq(listed[1], "0123456789ab"));
        CHECK(listed[2]);
        CHECK(streq(listed[2], "abcdef012345"));
        CHECK(!listed[3]);

        /* All three host ends are bridge ports. */
        ports = output_of("ip -o link show master " BRIDGE);
        for (size_t i = 0; i < ELEMENTSOF(instance_ids); i++) {
                _cleanup_free_ char *veth = veth_host(instance_ids[i]);
                CHECK(strstr(ports, veth));
        }

        /* Inside: eth0 with the address, lo up, default route via gateway. */
        for (size_t i = 0; i < ELEMENTSOF(instance_ids); i++) {
                _cleanup_free_ char *inside_addr = NULL, *inside_route = NULL, *inside_lo = NULL;
                _cleanup_free_ char *expected = NULL;
                const char *ns_id = instance_ids[i];

                inside_addr = output_of("ip -n " INSTANCE_NETNS_PREFIX "%s -4 -o addr show dev eth0", ns_id);
                CHECK(asprintf(&expected, "inet %s/16", addr_str(addresses[i], a)) > 0);
                CHECK(strstr(inside_addr, expected));
                inside_route = output_of("ip -n " INSTANCE_NETNS_PREFIX "%s -4 route show default", ns_id);
                CHECK(strstr(inside_route, "default via 10.88.0.1 dev eth0"));
                inside_lo = output_of("ip -n " INSTANCE_NETNS_PREFIX "%s -o link show lo", ns_id);
                CHECK(strstr(inside_lo, "UP"));
                /* eth0 never appears in the test's own namespace. */
                CHECK(!link_exists("eth0"));
        }

        /* The host side reaches every instance by ICMP and TCP. */
        for (size_t i = 0; i < ELEMENTSOF(instance_ids); i++)
                check_host_reaches_instance(instance_ids[i], addresses[i]);

        /* One instance reaches another across the bridge. */
        {
                _cleanup_close_ int listen_fd = socket_in_netns(instance_ids[1], 'L');
                _cleanup_close_ int client_fd = socket_in_netns(instance_ids[0], 'C');
                check_tcp(client_fd, listen_fd, addresses[1]);
        }

        /* Creating again is a no-op that keeps the same veth. */
        {
                _cleanup_free_ char *path = NULL, *error = NULL, *veth = veth_host(instance_ids[0]);
                unsigned ifindex = if_nametoindex(veth);

                CHECK(ifindex > 0);
                CHECK(instance_netns_create(BRIDGE, instance_ids[0], addresses[0], 16, ipam_gateway(ipam),
                                            &path, &error) == 0);
                CHECK(if_nametoindex(veth) == ifindex);
                check_host_reaches_instance(instance_ids[0], addresses[0]);
        }

        /* A lost host veth is rebuilt. */
        {
                _cleanup_free_ char *path = NULL, *error = NULL, *veth = veth_host(instance_ids[2]);

                CHECK(run("ip link del %s", veth) == 0);
                CHECK(!link_exists(veth));
                CHECK(instance_netns_create(BRIDGE, instance_ids[2], addresses[2], 16, ipam_gateway(ipam),
                                            &path, &error) == 0);
                CHECK(link_exists(veth));
                check_host_reaches_instance(instance_ids[2], addresses[2]);
        }

        /* Destroy removes everything, and destroying again succeeds. */
        for (size_t i = 0; i < ELEMENTSOF(instance_ids); i++) {
                CHECK(instance_netns_destroy(instance_ids[i]) == 0);
                check_instance_gone(instance_ids[i]);
                CHECK(instance_netns_destroy(instance_ids[i]) == 0);
                CHECK(ipam_release(ipam, instance_ids[i]) == 1);
        }

        listed = strv_free(listed);
        CHECK(instance_netns_list(&listed) == 0);
        CHECK(!listed[0]);
        netns_list = mfree(netns_list);
        netns_list = output_of("ip netns list");
        CHECK(!strstr(netns_list, INSTANCE_NETNS_PREFIX));
}

static void test_invalid_arguments(void) {
        _cleanup_free_ char *error = NULL;
        char *path = NULL;

        CHECK(instance_netns_create(BRIDGE, "0123456789AB", addr("10.88.0.2"), 16, addr("10.88.0.1"), &path,
                                    &error) == -EINVAL);
        CHECK(error);
        CHECK(strstr(error, "0123456789AB"));
        error = mfree(error);
        CHECK(instance_netns_create(BRIDGE, "0123456789a", addr("10.88.0.2"), 16, addr("10.88.0.1"), &path,
                                    &error) == -EINVAL);
        error = mfree(error);
        CHECK(instance_netns_create(BRIDGE, "0123456789ab", addr("10.88.0.2"), 16, addr("10.99.0.1"), &path,
                                    &error) == -EINVAL);
        error = mfree(error);
        CHECK(instance_netns_create(BRIDGE, "0123456789ab", addr("10.88.255.255"), 16, addr("10.88.0.1"),
                                    &path, &error) == -EINVAL);
        error = mfree(error);
        CHECK(instance_netns_create(BRIDGE, "0123456789ab", addr("10.88.0.1"), 16, addr("10.88.0.1"), &path,
                                    &error) == -EINVAL);
        CHECK(!path);
        CHECK(instance_netns_destroy("../../etc") == -EINVAL);
        check_instance_gone("0123456789ab");
}

static void test_failure_leaves_nothing(void) {
        const char *id = "fedcba987654";
        _cleanup_free_ char *netns_list = NULL;

        /* Missing bridge: fails after the namespace was made, which must
         * be removed again. */
        {
                _cleanup_free_ char *error = NULL;
                char *path = NULL;

                CHECK(instance_netns_create("nosuchbr0", id, addr("10.88.0.9"), 16, addr("10.88.0.1"), &path,
                                            &error) == -ENODEV);
                CHECK(error);
                CHECK(strstr(error, "nosuchbr0"));
                CHECK(!path);
                check_instance_gone(id);
        }

        /* "lo" exists but cannot be a master: the kernel rejects the veth
         * request after the namespace was made. */
        {
                _cleanup_free_ char *error = NULL;
                char *path = NULL;

                CHECK(instance_netns_create("lo", id, addr("10.88.0.9"), 16, addr("10.88.0.1"), &path,
                                            &error) < 0);
                CHECK(error);
                CHECK(!path);
                check_instance_gone(id);
        }

        /* A namespace that existed before the call survives its failure,
         * because the call did not create it. */
        {
                _cleanup_free_ char *error = NULL, *path = netns_file(id);
                char *created = NULL;

                CHECK(run("ip netns add " INSTANCE_NETNS_PREFIX "%s", id) == 0);
                CHECK(instance_netns_create("lo", id, addr("10.88.0.9"), 16, addr("10.88.0.1"), &created,
                                            &error) < 0);
                CHECK(access(path, F_OK) == 0);
                CHECK(file_contains("/proc/self/mountinfo", path));

                /* And a later successful call adopts and completes it. */
                error = mfree(error);
                CHECK(instance_netns_create(BRIDGE, id, addr("10.88.0.9"), 16, addr("10.88.0.1"), &created,
                                            &error) == 0);
                check_host_reaches_instance(id, addr("10.88.0.9"));
                free(created);
                CHECK(instance_netns_destroy(id) == 0);
                check_instance_gone(id);
        }

        /* An empty file left by an interrupted create is replaced. */
        {
                _cleanup_free_ char *error = NULL, *path = netns_file(id);
                char *created = NULL;
                int fd;

                fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
                CHECK(fd >= 0);
                close(fd);
                CHECK(instance_netns_create(BRIDGE, id, addr("10.88.0.9"), 16, addr("10.88.0.1"), &created,
                                            &error) == 0);
                free(created);
                CHECK(instance_netns_destroy(id) == 0);
                check_instance_gone(id);
        }

        netns_list = output_of("ip netns list");
        CHECK(!strstr(netns_list, INSTANCE_NETNS_PREFIX));
}

static void test_no_leftovers(void) {
        _cleanup_free_ char *error = NULL, *links = NULL;

        CHECK(bridge_remove(BRIDGE, &error) == 0);
        CHECK(bridge_remove(BRIDGE, &error) == 0);
        CHECK(!link_exists(BRIDGE));
        CHECK(run("nft list table ip " BRIDGE_NFT_TABLE " >/dev/null 2>&1") != 0);

        /* Only loopback is left in the test's namespace, and no namespace
         * is mounted under /run/netns. */
        links = output_of("ip -o link show | grep -v ': lo:'");
        CHECK(links[0] == 0);
        CHECK(!file_contains("/proc/self/mountinfo", INSTANCE_NETNS_DIR "/" INSTANCE_NETNS_PREFIX));
}

/* Moves the process into new network and mount namespaces and executes it
 * again there. Exits 77 if that is not permitted. */
static void enter_sandbox(char **argv) {
        struct stat st;
        char original[64];

        CHECK(stat("/proc/self/ns/net", &st) == 0);
        snprintf(original, sizeof(original), "%llu", (unsigned long long)st.st_ino);

        if (unshare(CLONE_NEWNET | CLONE_NEWNS) < 0) {
                fprintf(stderr, "unshare(CLONE_NEWNET|CLONE_NEWNS) failed (%m), skipping: needs root.\n");
                exit(EXIT_SKIP);
        }

        /* Private propagation first, so the mounts below stay in this mount
         * namespace. */
        CHECK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0);
        /* tmpfs on /run keeps the mkdir of /run/netns out of the host's /run. */
        CHECK(mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") == 0);
        CHECK(mkdir("/run/netns", 0755) == 0);
        CHECK(mount("tmpfs", "/run/netns", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") == 0);

        CHECK(setenv(ENV_SANDBOXED, original, 1) == 0);
        execv("/proc/self/exe", argv);
        fprintf(stderr, "execv(/proc/self/exe) failed: %m\n");
        exit(EXIT_FAILURE);
}

/* Refuses to run the tests unless the process is in a network namespace
 * other than the one it started in. */
static void check_sandbox(const char *original) {
        struct stat st;
        struct statfs sfs;
        char current[64];

        CHECK(stat("/proc/self/ns/net", &st) == 0);
        snprintf(current, sizeof(current), "%llu", (unsigned long long)st.st_ino);
        CHECK(!streq(current, original));
        CHECK(statfs("/run/netns", &sfs) == 0);
        CHECK(sfs.f_type == TMPFS_MAGIC);
}

int main(int argc, char **argv) {
        const char *original = getenv(ENV_SANDBOXED);
        char state_dir[] = "/run/test-netns.XXXXXX"; /* on the private tmpfs */
        _cleanup_free_ char *state_path = NULL;

        if (!original)
                enter_sandbox(argv);
        check_sandbox(original);

        CHECK(mkdtemp(state_dir));
        CHECK(asprintf(&state_path, "%s/addresses.json", state_dir) > 0);

        CHECK(run("ip link set lo up") == 0);
        test_bridge_ensure();
        test_invalid_arguments();
        test_instances(state_path);
        test_failure_leaves_nothing();
        test_no_leftovers();

        CHECK(unlink(state_path) == 0);
        CHECK(rmdir(state_dir) == 0);
        return EXIT_SUCCESS;
}
