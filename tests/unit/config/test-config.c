/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Tests of config_load(): each case writes its files to a new temporary
 * directory and loads it as the configuration root. */

#include <arpa/inet.h>
#include <ftw.h>
#include <sys/stat.h>

#include "config/config.h"
#include "macro.h"

#define ASSERT_TRUE(expr)                                                                            \
        do {                                                                                         \
                if (!(expr)) {                                                                       \
                        fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #expr); \
                        abort();                                                                     \
                }                                                                                    \
        } while (0)

#define ASSERT_EQ(a, b)                                                                                   \
        do {                                                                                              \
                long long _a = (a), _b = (b);                                                             \
                if (_a != _b) {                                                                           \
                        fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a, \
                                #b, _a, _b);                                                              \
                        abort();                                                                          \
                }                                                                                         \
        } while (0)

#define ASSERT_STREQ(a, b)                                                                           \
        do {                                                                                         \
                const char *_a = (a), *_b = (b);                                                     \
                if (!streq_ptr(_a, _b)) {                                                            \
                        fprintf(stderr, "%s:%d: %s == %s failed:\n  got:      %s\n  expected: %s\n", \
                                __FILE__, __LINE__, #a, #b, strna(_a), strna(_b));                   \
                        abort();                                                                     \
                }                                                                                    \
        } while (0)

#define MAIN         "apprunnerd.conf"
#define DROPIN(name) "apprunnerd.conf.d/" name

/* ---- helpers ---- */

static char *make_root(void) {
        char *root = strdup("/tmp/test-config-XXXXXX");

        ASSERT_TRUE(root);
        ASSERT_TRUE(mkdtemp(root));
        return root;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

static void remove_root(char **root) {
        if (*root)
                ASSERT_EQ(nftw(*root, remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
        free(*root);
}

#define _cleanup_root_ _cleanup_(remove_root)

/* Writes n bytes to root/name, creating the drop-in directory for a name
 * in it. */
static void write_file_n(const char *root, const char *name, const char *content, size_t n) {
        _cleanup_free_ char *path = NULL, *dir = NULL;
        _cleanup_fclose_ FILE *f = NULL;

        if (strncmp(name, DROPIN(""), strlen(DROPIN(""))) == 0) {
                ASSERT_TRUE(asprintf(&dir, "%s/" DROPIN(""), root) >= 0);
                ASSERT_TRUE(mkdir(dir, 0755) == 0 || errno == EEXIST);
        }
        ASSERT_TRUE(asprintf(&path, "%s/%s", root, name) >= 0);
        f = fopen(path, "we");
        ASSERT_TRUE(f);
        ASSERT_EQ(fwrite(content, 1, n, f), n);
        ASSERT_EQ(fflush(f), 0);
}

static void write_file(const char *root, const char *name, const char *content) {
        write_file_n(root, name, content, strlen(content));
}

static char *read_file(const char *path) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        char *s = NULL;
        size_t n = 0;

        ASSERT_TRUE(f);
        ASSERT_TRUE(getdelim(&s, &n, '\0', f) >= 0);
        return s;
}

static char *dump(const Config *c) {
        char *s = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&s, &n);

        ASSERT_TRUE(f);
        ASSERT_EQ(config_dump(c, f), 0);
        ASSERT_EQ(fclose(f), 0);
        return s;
}

static char *dump_defaults(void) {
        Config c;
        char *s;

        ASSERT_EQ(config_init_defaults(&c), 0);
        s = dump(&c);
        config_done(&c);
        return s;
}

/* Returns s with every "{root}" replaced by root. */
static char *expand_root(const char *s, const char *root) {
        char *out = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&out, &n);

        ASSERT_TRUE(f);
        for (const char *p; (p = strstr(s, "{root}")); s = p + strlen("{root}"))
                fprintf(f, "%.*s%s", (int)(p - s), s, root);
        fputs(s, f);
        ASSERT_EQ(fclose(f), 0);
        return out;
}

/* ---- good values ---- */

typedef struct GoodCase {
        const char *content;  /* of the main file */
        const char *expected; /* lines that config_dump() must print, each with its newline */
} GoodCase;

static const GoodCase good_cases[] = {
        {"[Account]\nRegion=us-east-1\n", "Region=us-east-1\n"},
        {"[Account]\nRegion=ap-southeast-2\n", "Region=ap-southeast-2\n"},
        {"[Account]\nRegion=us-gov-west-1\n", "Region=us-gov-west-1\n"},
        {"[Account]\nRegion=local-10\n", "Region=local-10\n"},
        {"[Account]\nAccountId=123456789012\n", "AccountId=123456789012\n"},
        {"[Quotas]\nServices=1\n", "Services=1\n"},
        {"[Quotas]\nServices=1000\n", "Services=1000\n"},
        {"[Quotas]\nServices=0042\n", "Services=42\n"},
        {"[Quotas]\nConnections=7\n", "Connections=7\n"},
        {"[Quotas]\nAutoScalingConfigurations=1000\n", "AutoScalingConfigurations=1000\n"},
        {"[AutoScaling]\nMaxConcurrency=200\n", "MaxConcurrency=200\n"},
        {"[AutoScaling]\nMinSize=25\nMaxSize=25\n", "MinSize=25\nMaxSize=25\n"},
        {"[AutoScaling]\nMinSize=3\nMaxSize=3\n", "MinSize=3\nMaxSize=3\n"},
        {"[Network]\nBridge=br-apps\n", "Bridge=br-apps\n"},
        {"[Network]\nBridge=abcdefghijklmno\n", "Bridge=abcdefghijklmno\n"},
        {"[Network]\nSubnet=172.16.0.0/12\n", "Subnet=172.16.0.0/12\n"},
        {"[Network]\nSubnet=192.168.10.16/28\n", "Subnet=192.168.10.16/28\n"},
        {"[Network]\nSubnet=10.0.0.0/8\n", "Subnet=10.0.0.0/8\n"},
        {"[Network]\nOutbound=no\n", "Outbound=no\n"},
        {"[Network]\nOutbound=false\n", "Outbound=no\n"},
        {"[Network]\nOutbound=off\n", "Outbound=no\n"},
        {"[Network]\nOutbound=0\n", "Outbound=no\n"},
        {"[Network]\nOutbound=no\nOutbound=yes\n", "Outbound=yes\n"},
        {"[Network]\nOutbound=no\nOutbound=true\n", "Outbound=yes\n"},
        {"[Network]\nOutbound=no\nOutbound=on\n", "Outbound=yes\n"},
        {"[Network]\nOutbound=no\nOutbound=1\n", "Outbound=yes\n"},
        {"[Ingress]\nListenAddress=0.0.0.0\n", "ListenAddress=0.0.0.0\n"},
        {"[Ingress]\nListenAddress=::1\n", "ListenAddress=::1\n"},
        {"[Ingress]\nListenAddress=::\n", "ListenAddress=::\n"},
        {"[Ingress]\nListenPort=1\n", "ListenPort=1\n"},
        {"[Ingress]\nListenPort=65535\n", "ListenPort=65535\n"},
        {"[Ingress]\nDomainSuffix=example.com\n", "DomainSuffix=example.com\n"},
        {"[Ingress]\nDomainSuffix=localhost\n", "DomainSuffix=localhost\n"},
        {"[Ingress]\nDomainSuffix=a-b.x1.example\n", "DomainSuffix=a-b.x1.example\n"},
        {"[Ingress]\nQueueTimeoutSec=1\n", "QueueTimeoutSec=1\n"},
        {"[Ingress]\nQueueTimeoutSec=3600\n", "QueueTimeoutSec=3600\n"},
        {"[Ingress]\nRequestTimeoutSec=3600\n", "RequestTimeoutSec=3600\n"},
        {"[Ingress]\nMetricsPort=0\n", "MetricsPort=0\n"},
        {"[Ingress]\nMetricsPort=65535\n", "MetricsPort=65535\n"},
        {"[Images]\nInsecureRegistries=localhost:5000\n", "InsecureRegistries=localhost:5000\n"},
        {"[Images]\nInsecureRegistries= a.example\t b.example:80  [::1]:5000 10.0.0.1 [fd00::1] \n",
         "InsecureRegistries=a.example b.example:80 [::1]:5000 10.0.0.1 [fd00::1]\n"},
        {"[Images]\nInsecureRegistries=a.example\nInsecureRegistries=\n", "InsecureRegistries=\n"},
        {"[Images]\nMaxLayerSize=1M\n", "MaxLayerSize=1M\n"},
        {"[Images]\nMaxLayerSize=2048M\n", "MaxLayerSize=2G\n"},
        {"[Images]\nMaxLayerSize=1536M\n", "MaxLayerSize=1536M\n"},
        {"[Images]\nMaxLayerSize=1073741824\n", "MaxLayerSize=1G\n"},
        {"[Images]\nMaxLayerSize=1048577\n", "MaxLayerSize=1048577\n"},
        {"[Images]\nMaxLayerSize=4194304K\n", "MaxLayerSize=4G\n"},
        {"[Images]\nMaxLayerSize=1024G\n", "MaxLayerSize=1024G\n"},
        {"[Images]\nMaxLayerEntries=1\n", "MaxLayerEntries=1\n"},
        {"[Images]\nMaxLayerEntries=100000000\n", "MaxLayerEntries=100000000\n"},
        {"[AutoScaling]\nScaleIntervalSec=1\n", "ScaleIntervalSec=1\n"},
        {"[AutoScaling]\nScaleInDelaySec=0\n", "ScaleInDelaySec=0\n"},
        {"[Images]\nAutoDeploymentIntervalSec=10\n", "AutoDeploymentIntervalSec=10\n"},
        {"[Images]\nAutoDeploymentIntervalSec=86400\n", "AutoDeploymentIntervalSec=86400\n"},
        {"[Instances]\nRuntime=/usr/local/bin/crun\n", "Runtime=/usr/local/bin/crun\n"},
        {"[Instances]\nSeccompProfile=/etc/apprunner/seccomp.json\n",
         "SeccompProfile=/etc/apprunner/seccomp.json\n"},
        {"[Instances]\nTasksMax=16\n", "TasksMax=16\n"},
        {"[Instances]\nTasksMax=65535\n", "TasksMax=65535\n"},
        {"[Instances]\nStartTimeoutSec=10\n", "StartTimeoutSec=10\n"},
        {"[Instances]\nStartTimeoutSec=3600\n", "StartTimeoutSec=3600\n"},

        /* Syntax that inih accepts. */
        {"  [Quotas]  \n    Services  =  5   \n", "Services=5\n"},
        {"[Quotas]\nServices=5 ; a comment\n", "Services=5\n"},
        {"[Quotas] ; a comment\nServices=5\n", "Services=5\n"},
        {"[Quotas]\r\nServices=5\r\n", "Services=5\n"},
        {"\xEF\xBB\xBF[Quotas]\nServices=5\n", "Services=5\n"},
        {"# comment\n; comment\n\n[Quotas]\n  # indented comment\nServices=5", "Services=5\n"},
        {"[Quotas]\nServices=5\nServices=6\n", "Services=6\n"},
        {"[Quotas]\n[Network]\n[Quotas]\nServices=5\n", "Services=5\n"},
};

static void test_load_good_values(void) {
        for (size_t k = 0; k < ELEMENTSOF(good_cases); k++) {
                const GoodCase *t = good_cases + k;
                _cleanup_root_ char *root = make_root();
                _cleanup_free_ char *error = NULL, *text = NULL;
                Config c;

                write_file(root, MAIN, t->content);
                ASSERT_EQ(config_init_defaults(&c), 0);
                ASSERT_EQ(config_load(&c, root, &error), 0);
                ASSERT_STREQ(error, NULL);
                text = dump(&c);
                if (!strstr(text, t->expected)) {
                        fprintf(stderr, "case %zu: expected\n%s\nin\n%s\n", k, t->expected, text);
                        ASSERT_TRUE(strstr(text, t->expected));
                }
                config_done(&c);
        }
}

static void test_load_values_in_struct(void) {
        _cleanup_root_ char *root = make_root();
        _cleanup_free_ char *error = NULL;
        Config c;

        write_file(root, MAIN,
                   "[Network]\nSubnet=172.16.0.0/12\nOutbound=no\n"
                   "[Ingress]\nListenPort=8080\nMetricsPort=0\n"
                   "[Images]\nMaxLayerSize=3G\nInsecureRegistries=a.example [::1]:5000\n");
        ASSERT_EQ(config_init_defaults(&c), 0);
        ASSERT_EQ(config_load(&c, root, &error), 0);
        ASSERT_EQ(c.subnet.s_addr, htonl(0xac100000));
        ASSERT_EQ(c.subnet_prefix, 12);
        ASSERT_EQ(c.outbound, false);
        ASSERT_EQ(c.listen_port, 8080);
        ASSERT_EQ(c.metrics_port, 0);
        ASSERT_EQ(c.max_layer_size, UINT64_C(3) << 30);
        ASSERT_TRUE(c.insecure_registries);
        ASSERT_STREQ(c.insecure_registries[0], "a.example");
        ASSERT_STREQ(c.insecure_registries[1], "[::1]:5000");
        ASSERT_STREQ(c.insecure_registries[2], NULL);
        config_done(&c);
}

static void test_defaults_values_in_struct(void) {
        Config c;

        ASSERT_EQ(config_init_defaults(&c), 0);
        ASSERT_STREQ(c.region, "local-1");
        ASSERT_STREQ(c.account_id, "000000000000");
        ASSERT_EQ(c.max_services, 10);
        ASSERT_EQ(c.max_connections, 10);
        ASSERT_EQ(c.max_auto_scaling_configurations, 10);
        ASSERT_EQ(c.default_max_concurrency, 100);
        ASSERT_EQ(c.default_min_size, 1);
        ASSERT_EQ(c.default_max_size, 25);
        ASSERT_STREQ(c.bridge, "apprunner0");
        ASSERT_EQ(c.subnet.s_addr, htonl(0x0a580000));
        ASSERT_EQ(c.subnet_prefix, 16);
        ASSERT_EQ(c.outbound, true);
        ASSERT_STREQ(c.listen_address, "127.0.0.1");
        ASSERT_EQ(c.listen_port, 80);
        ASSERT_STREQ(c.domain_suffix, "apprunner.localhost");
        ASSERT_EQ(c.queue_timeout_sec, 30);
        ASSERT_EQ(c.request_timeout_sec, 120);
        ASSERT_EQ(c.metrics_port, 9101);
        ASSERT_TRUE(!c.insecure_registries);
        ASSERT_EQ(c.max_layer_size, UINT64_C(4) << 30);
        ASSERT_EQ(c.max_layer_entries, 1000000);
        ASSERT_EQ(c.auto_deployment_interval_sec, 300);
        ASSERT_STREQ(c.runtime, "/usr/bin/crun");
        ASSERT_STREQ(c.seccomp_profile, PKGDATADIR "/seccomp.json");
        ASSERT_EQ(c.tasks_max, 1024);
        ASSERT_EQ(c.start_timeout_sec, 300);
        config_done(&c);
}

/* ---- files and their order ---- */

static void test_load_no_files(void) {
        _cleanup_root_ char *root = make_root();
        _cleanup_free_ char *missing = NULL, *text = NULL, *defaults = dump_defaults();
        Config c;

        ASSERT_EQ(config_init_defaults(&c), 0);
        ASSERT_EQ(config_load(&c, root, NULL), 0);
        text = dump(&c);
        ASSERT_STREQ(text, defaults);
        config_done(&c);

        ASSERT_TRUE(asprintf(&missing, "%s/missing", root) >= 0);
        ASSERT_EQ(config_init_defaults(&c), 0);
        ASSERT_EQ(config_load(&c, missing, NULL), 0);
        free(text);
        text = dump(&c);
        ASSERT_STREQ(text, defaults);
        config_done(&c);
}

static void test_load_override_order(void) {
        _cleanup_root_ char *root = make_root();
        _cleanup_free_ char *error = NULL, *dir = NULL, *link = NULL;
        Config c;

        write_file(root, MAIN, "[Quotas]\nServices=2\nConnections=2\nAutoScalingConfigurations=7\n");
        write_file(root, DROPIN("10-a.conf"), "[Quotas]\nServices=3\n");
        write_file(root, DROPIN("20-b.conf"), "[Quotas]\nServices=4\nConnections=5\n");
        /* strcmp() order: "9-c.conf" comes after "20-b.conf". */
        write_file(root, DROPIN("9-c.conf"), "[Quotas]\nConnections=6\n");
        /* Not drop-ins: other suffixes, hidden files, directories, dangling symlinks. */
        write_file(root, DROPIN("README"), "not a config file\n");
        write_file(root, DROPIN("30-d.conf.disabled"), "[Quotas]\nServices=99\n");
        write_file(root, DROPIN(".40-e.conf"), "[Quotas]\nServices=99\n");
        ASSERT_TRUE(asprintf(&dir, "%s/" DROPIN("50-f.conf"), root) >= 0);
        ASSERT_EQ(mkdir(dir, 0755), 0);
        ASSERT_TRUE(asprintf(&link, "%s/" DROPIN("60-g.conf"), root) >= 0);
        ASSERT_EQ(symlink("/nonexistent/apprunnerd.conf", link), 0);

        ASSERT_EQ(config_init_defaults(&c), 0);
        ASSERT_EQ(config_load(&c, root, &error), 0);
        ASSERT_EQ(c.max_services, 4);
        ASSERT_EQ(c.max_connections, 6);
        ASSERT_EQ(c.max_auto_scaling_configurations, 7);
        config_done(&c);
}

static void test_load_dropin_symlink(void) {
        _cleanup_root_ char *root = make_root();
        _cleanup_free_ char *target = NULL, *link = NULL;
        Config c;

        write_file(root, "elsewhere", "[Quotas]\nServices=8\n");
        write_file(root, DROPIN("00-empty.conf"), "");
        ASSERT_TRUE(asprintf(&target, "%s/elsewhere", root) >= 0);
        ASSERT_TRUE(asprintf(&link, "%s/" DROPIN("10-link.conf"), root) >= 0);
        ASSERT_EQ(symlink(target, link), 0);

        ASSERT_EQ(config_init_defaults(&c), 0);
        ASSERT_EQ(config_load(&c, root, NULL), 0);
        ASSERT_EQ(c.max_services, 8);
        config_done(&c);
}

static void test_load_dropins_without_main(void) {
        _cleanup_root_ char *root = make_root();
        Config c;

        write_file(root, DROPIN("10-a.conf"), "[Account]\nRegion=eu-west-3\n");
        ASSERT_EQ(config_init_defaults(&c), 0);
        ASSERT_EQ(config_load(&c, root, NULL), 0);
        ASSERT_STREQ(c.region, "eu-west-3");
        config_done(&c);
}

/* ---- bad values ---- */

typedef struct BadCase {
        const char *file;
        const char *content;
        unsigned line;       /* of the error */
        const char *message; /* after "root/file:line: ", with {root} for the root */
} BadCase;

#define INT_1_1000 "expected an integer between 1 and 1000."
#define REGION_EXPECTED                                                                                    \
        "expected a region name such as us-east-1: lowercase words joined by dashes, ending in a number, " \
        "at "                                                                                              \
        "most 63 characters."
#define BRIDGE_EXPECTED                                                                                \
        "expected a network interface name of 1 to 15 printable ASCII characters without '/', ':' or " \
        "spaces, not all digits."
#define SUBNET_EXPECTED                                                                                 \
        "expected an IPv4 network in CIDR notation with a prefix length between 8 and 28 and all host " \
        "bits "                                                                                         \
        "zero, such as 10.88.0.0/16."
#define DOMAIN_EXPECTED "expected a DNS domain name in lowercase, such as apprunner.localhost."
#define REGISTRIES_EXPECTED                                                                           \
        "expected a space-separated list of registries as host or host:port, such as localhost:5000 " \
        "[::1]:5000, or nothing."
#define SIZE_EXPECTED                                                                                \
        "expected a size between 1M and 1024G: a number of bytes, optionally followed by K, M or G " \
        "(powers "                                                                                   \
        "of 1024)."
#define SECTIONS     "[Account], [Quotas], [AutoScaling], [Network], [Ingress], [Images], [Instances]"
#define SYNTAX_ERROR "syntax error, expected a [Section] header, a Key=value assignment or a comment."

static const BadCase bad_cases[] = {
        /* Integers. */
        {MAIN, "[Quotas]\nServices=abc\n", 2, "[Quotas] Services=abc: invalid value, " INT_1_1000},
        {MAIN, "[Quotas]\nServices=5x\n", 2, "[Quotas] Services=5x: invalid value, " INT_1_1000},
        {MAIN, "[Quotas]\nServices=-5\n", 2, "[Quotas] Services=-5: invalid value, " INT_1_1000},
        {MAIN, "[Quotas]\nServices=+5\n", 2, "[Quotas] Services=+5: invalid value, " INT_1_1000},
        {MAIN, "[Quotas]\nServices=0x10\n", 2, "[Quotas] Services=0x10: invalid value, " INT_1_1000},
        {MAIN, "[Quotas]\nServices=5 5\n", 2, "[Quotas] Services=5 5: invalid value, " INT_1_1000},
        {MAIN, "[Quotas]\nServices=\n", 2, "[Quotas] Services=: invalid value, " INT_1_1000},
        {MAIN, "[Quotas]\nServices=0\n", 2, "[Quotas] Services=0: value out of range, " INT_1_1000},
        {MAIN, "[Quotas]\nServices=1001\n", 2, "[Quotas] Services=1001: value out of range, " INT_1_1000},
        {MAIN, "[Quotas]\nServices=99999999999999999999999\n", 2,
         "[Quotas] Services=99999999999999999999999: value out of range, " INT_1_1000},
        {MAIN, "[Quotas]\nConnections=1001\n", 2,
         "[Quotas] Connections=1001: value out of range, " INT_1_1000},
        {MAIN, "[Quotas]\nAutoScalingConfigurations=0\n", 2,
         "[Quotas] AutoScalingConfigurations=0: value out of range, " INT_1_1000},
        {MAIN, "[AutoScaling]\nMaxConcurrency=201\n", 2,
         "[AutoScaling] MaxConcurrency=201: value out of range, expected an integer between 1 and 200."},
        {MAIN, "[AutoScaling]\nMinSize=0\n", 2,
         "[AutoScaling] MinSize=0: value out of range, expected an integer between 1 and 25."},
        {MAIN, "[AutoScaling]\nMaxSize=26\n", 2,
         "[AutoScaling] MaxSize=26: value out of range, expected an integer between 1 and 25."},
        {MAIN, "[Ingress]\nListenPort=0\n", 2,
         "[Ingress] ListenPort=0: value out of range, expected an integer between 1 and 65535."},
        {MAIN, "[Ingress]\nListenPort=65536\n", 2,
         "[Ingress] ListenPort=65536: value out of range, expected an integer between 1 and 65535."},
        {MAIN, "[Ingress]\nQueueTimeoutSec=3601\n", 2,
         "[Ingress] QueueTimeoutSec=3601: value out of range, expected an integer between 1 and 3600."},
        {MAIN, "[Ingress]\nRequestTimeoutSec=0\n", 2,
         "[Ingress] RequestTimeoutSec=0: value out of range, expected an integer between 1 and 3600."},
        {MAIN, "[Ingress]\nMetricsPort=65536\n", 2,
         "[Ingress] MetricsPort=65536: value out of range, expected an integer between 0 and 65535."},
        {MAIN, "[Images]\nMaxLayerEntries=0\n", 2,
         "[Images] MaxLayerEntries=0: value out of range, expected an integer between 1 and 100000000."},
        {MAIN, "[Images]\nMaxLayerEntries=100000001\n", 2,
         "[Images] MaxLayerEntries=100000001: value out of range, expected an integer between 1 and "
         "100000000."},
        {MAIN, "[AutoScaling]\nScaleIntervalSec=0\n", 2,
         "[AutoScaling] ScaleIntervalSec=0: value out of range, expected an integer between 1 and 300."},
        {MAIN, "[AutoScaling]\nScaleInDelaySec=3601\n", 2,
         "[AutoScaling] ScaleInDelaySec=3601: value out of range, expected an integer between 0 and 3600."},
        {MAIN, "[Images]\nAutoDeploymentIntervalSec=9\n", 2,
         "[Images] AutoDeploymentIntervalSec=9: value out of range, expected an integer between 10 and "
         "86400."},
        {MAIN, "[Images]\nAutoDeploymentIntervalSec=86401\n", 2,
         "[Images] AutoDeploymentIntervalSec=86401: value out of range, expected an integer between 10 and "
         "86400."},
        {MAIN, "[Instances]\nTasksMax=15\n", 2,
         "[Instances] TasksMax=15: value out of range, expected an integer between 16 and 65535."},
        {MAIN, "[Instances]\nTasksMax=65536\n", 2,
         "[Instances] TasksMax=65536: value out of range, expected an integer between 16 and 65535."},
        {MAIN, "[Instances]\nStartTimeoutSec=9\n", 2,
         "[Instances] StartTimeoutSec=9: value out of range, expected an integer between 10 and 3600."},
        {MAIN, "[Instances]\nStartTimeoutSec=3601\n", 2,
         "[Instances] StartTimeoutSec=3601: value out of range, expected an integer between 10 and 3600."},

        /* Sizes. */
        {MAIN, "[Images]\nMaxLayerSize=4GB\n", 2,
         "[Images] MaxLayerSize=4GB: invalid value, " SIZE_EXPECTED},
        {MAIN, "[Images]\nMaxLayerSize=4g\n", 2, "[Images] MaxLayerSize=4g: invalid value, " SIZE_EXPECTED},
        {MAIN, "[Images]\nMaxLayerSize=4 G\n", 2,
         "[Images] MaxLayerSize=4 G: invalid value, " SIZE_EXPECTED},
        {MAIN, "[Images]\nMaxLayerSize=G\n", 2, "[Images] MaxLayerSize=G: invalid value, " SIZE_EXPECTED},
        {MAIN, "[Images]\nMaxLayerSize=1.5G\n", 2,
         "[Images] MaxLayerSize=1.5G: invalid value, " SIZE_EXPECTED},
        {MAIN, "[Images]\nMaxLayerSize=4T\n", 2, "[Images] MaxLayerSize=4T: invalid value, " SIZE_EXPECTED},
        {MAIN, "[Images]\nMaxLayerSize=1023K\n", 2,
         "[Images] MaxLayerSize=1023K: value out of range, " SIZE_EXPECTED},
        {MAIN, "[Images]\nMaxLayerSize=1025G\n", 2,
         "[Images] MaxLayerSize=1025G: value out of range, " SIZE_EXPECTED},
        {MAIN, "[Images]\nMaxLayerSize=17179869184G\n", 2,
         "[Images] MaxLayerSize=17179869184G: value out of range, " SIZE_EXPECTED},

        /* Booleans. */
        {MAIN, "[Network]\nOutbound=Yes\n", 2,
         "[Network] Outbound=Yes: invalid value, expected a boolean: yes, no, true, false, on, off, 1 or "
         "0."},
        {MAIN, "[Network]\nOutbound=2\n", 2,
         "[Network] Outbound=2: invalid value, expected a boolean: yes, no, true, false, on, off, 1 or 0."},
        {MAIN, "[Network]\nOutbound=\n", 2,
         "[Network] Outbound=: invalid value, expected a boolean: yes, no, true, false, on, off, 1 or 0."},

        /* Strings. */
        {MAIN, "[Account]\nRegion=us-east\n", 2,
         "[Account] Region=us-east: invalid value, " REGION_EXPECTED},
        {MAIN, "[Account]\nRegion=US-east-1\n", 2,
         "[Account] Region=US-east-1: invalid value, " REGION_EXPECTED},
        {MAIN, "[Account]\nRegion=u-east-1\n", 2,
         "[Account] Region=u-east-1: invalid value, " REGION_EXPECTED},
        {MAIN, "[Account]\nRegion=us--east-1\n", 2,
         "[Account] Region=us--east-1: invalid value, " REGION_EXPECTED},
        {MAIN, "[Account]\nRegion=us-east-1a\n", 2,
         "[Account] Region=us-east-1a: invalid value, " REGION_EXPECTED},
        {MAIN, "[Account]\nRegion=us-east-\n", 2,
         "[Account] Region=us-east-: invalid value, " REGION_EXPECTED},
        {MAIN, "[Account]\nRegion=1\n", 2, "[Account] Region=1: invalid value, " REGION_EXPECTED},
        {MAIN, "[Account]\nRegion=\n", 2, "[Account] Region=: invalid value, " REGION_EXPECTED},
        {MAIN, "[Account]\nRegion=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-1\n", 2,
         "[Account] Region=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-1: invalid "
         "value, " REGION_EXPECTED},
        {MAIN,
         "[Account]\nRegion=us\x01"
         "east-1\n",
         2, "[Account] Region=us\\x01east-1: invalid value, " REGION_EXPECTED},
        {MAIN, "[Account]\nAccountId=12345678901\n", 2,
         "[Account] AccountId=12345678901: invalid value, expected exactly 12 digits."},
        {MAIN, "[Account]\nAccountId=1234567890123\n", 2,
         "[Account] AccountId=1234567890123: invalid value, expected exactly 12 digits."},
        {MAIN, "[Account]\nAccountId=12345678901a\n", 2,
         "[Account] AccountId=12345678901a: invalid value, expected exactly 12 digits."},
        {MAIN, "[Network]\nBridge=abcdefghijklmnop\n", 2,
         "[Network] Bridge=abcdefghijklmnop: invalid value, " BRIDGE_EXPECTED},
        {MAIN, "[Network]\nBridge=br/0\n", 2, "[Network] Bridge=br/0: invalid value, " BRIDGE_EXPECTED},
        {MAIN, "[Network]\nBridge=br:0\n", 2, "[Network] Bridge=br:0: invalid value, " BRIDGE_EXPECTED},
        {MAIN, "[Network]\nBridge=br 0\n", 2, "[Network] Bridge=br 0: invalid value, " BRIDGE_EXPECTED},
        {MAIN, "[Network]\nBridge=123\n", 2, "[Network] Bridge=123: invalid value, " BRIDGE_EXPECTED},
        {MAIN, "[Network]\nBridge=..\n", 2, "[Network] Bridge=..: invalid value, " BRIDGE_EXPECTED},
        {MAIN, "[Network]\nBridge=\n", 2, "[Network] Bridge=: invalid value, " BRIDGE_EXPECTED},
        {MAIN, "[Ingress]\nListenAddress=localhost\n", 2,
         "[Ingress] ListenAddress=localhost: invalid value, expected an IPv4 or IPv6 address such as "
         "127.0.0.1."},
        {MAIN, "[Ingress]\nListenAddress=127.0.0.1:80\n", 2,
         "[Ingress] ListenAddress=127.0.0.1:80: invalid value, expected an IPv4 or IPv6 address such as "
         "127.0.0.1."},
        {MAIN, "[Ingress]\nListenAddress=256.0.0.1\n", 2,
         "[Ingress] ListenAddress=256.0.0.1: invalid value, expected an IPv4 or IPv6 address such as "
         "127.0.0.1."},
        {MAIN, "[Ingress]\nDomainSuffix=Example.com\n", 2,
         "[Ingress] DomainSuffix=Example.com: invalid value, " DOMAIN_EXPECTED},
        {MAIN, "[Ingress]\nDomainSuffix=-a.example\n", 2,
         "[Ingress] DomainSuffix=-a.example: invalid value, " DOMAIN_EXPECTED},
        {MAIN, "[Ingress]\nDomainSuffix=a-.example\n", 2,
         "[Ingress] DomainSuffix=a-.example: invalid value, " DOMAIN_EXPECTED},
        {MAIN, "[Ingress]\nDomainSuffix=a..example\n", 2,
         "[Ingress] DomainSuffix=a..example: invalid value, " DOMAIN_EXPECTED},
        {MAIN, "[Ingress]\nDomainSuffix=a.example.\n", 2,
         "[Ingress] DomainSuffix=a.example.: invalid value, " DOMAIN_EXPECTED},
        {MAIN, "[Ingress]\nDomainSuffix=a_b.example\n", 2,
         "[Ingress] DomainSuffix=a_b.example: invalid value, " DOMAIN_EXPECTED},
        {MAIN, "[Ingress]\nDomainSuffix=\n", 2, "[Ingress] DomainSuffix=: invalid value, " DOMAIN_EXPECTED},
        {MAIN,
         "[Ingress]\nDomainSuffix=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
         "example\n",
         2,
         "[Ingress] DomainSuffix=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example: "
         "invalid "
         "value, " DOMAIN_EXPECTED},
        {MAIN, "[Images]\nInsecureRegistries=http://a.example\n", 2,
         "[Images] InsecureRegistries=http://a.example: invalid value, " REGISTRIES_EXPECTED},
        {MAIN, "[Images]\nInsecureRegistries=a.example:0\n", 2,
         "[Images] InsecureRegistries=a.example:0: invalid value, " REGISTRIES_EXPECTED},
        {MAIN, "[Images]\nInsecureRegistries=a.example:65536\n", 2,
         "[Images] InsecureRegistries=a.example:65536: invalid value, " REGISTRIES_EXPECTED},
        {MAIN, "[Images]\nInsecureRegistries=a.example:\n", 2,
         "[Images] InsecureRegistries=a.example:: invalid value, " REGISTRIES_EXPECTED},
        {MAIN, "[Images]\nInsecureRegistries=good.example [::1\n", 2,
         "[Images] InsecureRegistries=good.example [::1: invalid value, " REGISTRIES_EXPECTED},
        {MAIN, "[Images]\nInsecureRegistries=::1:5000\n", 2,
         "[Images] InsecureRegistries=::1:5000: invalid value, " REGISTRIES_EXPECTED},
        {MAIN, "[Images]\nInsecureRegistries=[::1]5000\n", 2,
         "[Images] InsecureRegistries=[::1]5000: invalid value, " REGISTRIES_EXPECTED},
        {MAIN, "[Instances]\nRuntime=crun\n", 2,
         "[Instances] Runtime=crun: invalid value, expected an absolute path."},
        {MAIN, "[Instances]\nRuntime=\n", 2,
         "[Instances] Runtime=: invalid value, expected an absolute path."},
        {MAIN, "[Instances]\nSeccompProfile=seccomp.json\n", 2,
         "[Instances] SeccompProfile=seccomp.json: invalid value, expected an absolute path."},

        /* Subnets. */
        {MAIN, "[Network]\nSubnet=10.88.0.0\n", 2,
         "[Network] Subnet=10.88.0.0: invalid value, " SUBNET_EXPECTED},
        {MAIN, "[Network]\nSubnet=10.88.0.0/\n", 2,
         "[Network] Subnet=10.88.0.0/: invalid value, " SUBNET_EXPECTED},
        {MAIN, "[Network]\nSubnet=10.88.0.0/16x\n", 2,
         "[Network] Subnet=10.88.0.0/16x: invalid value, " SUBNET_EXPECTED},
        {MAIN, "[Network]\nSubnet=10.88.0/16\n", 2,
         "[Network] Subnet=10.88.0/16: invalid value, " SUBNET_EXPECTED},
        {MAIN, "[Network]\nSubnet=10.88.0.256/24\n", 2,
         "[Network] Subnet=10.88.0.256/24: invalid value, " SUBNET_EXPECTED},
        {MAIN, "[Network]\nSubnet=fd00::/64\n", 2,
         "[Network] Subnet=fd00::/64: invalid value, " SUBNET_EXPECTED},
        {MAIN, "[Network]\nSubnet=10.88.0.1/16\n", 2,
         "[Network] Subnet=10.88.0.1/16: invalid value, " SUBNET_EXPECTED},
        {MAIN, "[Network]\nSubnet=10.0.0.0/7\n", 2,
         "[Network] Subnet=10.0.0.0/7: value out of range, " SUBNET_EXPECTED},
        {MAIN, "[Network]\nSubnet=10.88.0.0/29\n", 2,
         "[Network] Subnet=10.88.0.0/29: value out of range, " SUBNET_EXPECTED},
        {MAIN, "[Network]\nSubnet=10.88.0.0/33\n", 2,
         "[Network] Subnet=10.88.0.0/33: value out of range, " SUBNET_EXPECTED},

        /* Sections and keys. */
        {MAIN, "[Quota]\nServices=5\n", 1, "[Quota]: unknown section, expected one of " SECTIONS "."},
        {MAIN, "[quotas]\n", 1, "[quotas]: unknown section, expected one of " SECTIONS "."},
        {MAIN, "[Quota] ; comment\n", 1, "[Quota]: unknown section, expected one of " SECTIONS "."},
        {MAIN, "[Quo\tta\xff]\n", 1, "[Quo\\x09ta\\xff]: unknown section, expected one of " SECTIONS "."},
        {MAIN, "[Quotas]\n[]\n", 2, "[]: unknown section, expected one of " SECTIONS "."},
        {MAIN, "[Quotas] Services=5\n", 1, "[Quotas] Services=5: unexpected text after the section header."},
        {MAIN, "[Quotas]\nservices=5\n", 2,
         "[Quotas] services=5: unknown key, expected one of Services, Connections, "
         "AutoScalingConfigurations."},
        {MAIN, "[Quotas]\nFoo=bar\n", 2,
         "[Quotas] Foo=bar: unknown key, expected one of Services, Connections, AutoScalingConfigurations."},
        {MAIN, "[Quotas]\nRegion=us-east-1\n", 2,
         "[Quotas] Region=us-east-1: unknown key in this section, Region= belongs in [Account]."},
        {MAIN, "Services=5\n", 1,
         "Services=5: assignment outside of any section, expected a section header such as [Quotas] above "
         "it."},

        /* Syntax errors found by inih. */
        {MAIN, "# comment\n[Quotas]\nServices 5\n", 3, SYNTAX_ERROR},
        {MAIN, "[Quotas\nServices=5\n", 1, SYNTAX_ERROR},
        {MAIN, "[Quotas]\n=5\n", 2,
         "[Quotas] =5: unknown key, expected one of Services, Connections, "
         "AutoScalingConfigurations."},
        /* No continuation lines: an indented line is a line of its own. */
        {MAIN, "[Quotas]\nServices=5\n  6\n", 3, SYNTAX_ERROR},
        /* The error on the earliest line is reported, whether inih or config.c finds it. */
        {MAIN, "[Quotas]\nServices\nServices=abc\n", 2, SYNTAX_ERROR},
        {MAIN, "[Quotas]\nServices=abc\nServices\n", 2, "[Quotas] Services=abc: invalid value, " INT_1_1000},

        /* Errors in drop-ins name the drop-in. */
        {DROPIN("50-x.conf"), "\n[Quotas]\nServices=abc\n", 3,
         "[Quotas] Services=abc: invalid value, " INT_1_1000},
        {DROPIN("50-x.conf"), "[Nope]\n", 1, "[Nope]: unknown section, expected one of " SECTIONS "."},

        /* Checks across keys. */
        {MAIN, "[AutoScaling]\nMinSize=10\nMaxSize=5\n", 3,
         "[AutoScaling] MaxSize=5: invalid value, MinSize must not be greater than MaxSize ([AutoScaling] "
         "MinSize=10 is set at {root}/apprunnerd.conf:2)."},
        {MAIN, "[AutoScaling]\nMaxSize=5\nMinSize=10\n", 3,
         "[AutoScaling] MinSize=10: invalid value, MinSize must not be greater than MaxSize ([AutoScaling] "
         "MaxSize=5 is set at {root}/apprunnerd.conf:2)."},
};

static void test_load_bad_values(void) {
        for (size_t k = 0; k < ELEMENTSOF(bad_cases); k++) {
                const BadCase *t = bad_cases + k;
                _cleanup_root_ char *root = make_root();
                _cleanup_free_ char *error = NULL, *message = NULL, *expected = NULL;
                Config c;

                write_file(root, t->file, t->content);
                message = expand_root(t->message, root);
                ASSERT_TRUE(asprintf(&expected, "%s/%s:%u: %s", root, t->file, t->line, message) >= 0);

                ASSERT_EQ(config_init_defaults(&c), 0);
                ASSERT_EQ(config_load(&c, root, &error), -EINVAL);
                ASSERT_STREQ(error, expected);
                config_done(&c);
        }
}

static void test_load_bad_value_without_ret_error(void) {
        _cleanup_root_ char *root = make_root();
        Config c;

        write_file(root, MAIN, "[Quotas]\nServices=abc\n");
        ASSERT_EQ(config_init_defaults(&c), 0);
        ASSERT_EQ(config_load(&c, root, NULL), -EINVAL);
        config_done(&c);
}

static void test_load_min_size_across_files(void) {
        _cleanup_root_ char *root = make_root();
        _cleanup_free_ char *error = NULL, *expected = NULL;
        Config c;

        write_file(root, MAIN, "[AutoScaling]\nMinSize=10\n");
        write_file(root, DROPIN("10-a.conf"), "# smaller\n[AutoScaling]\nMaxSize=5\n");
        ASSERT_TRUE(asprintf(&expected,
                             "%1$s/apprunnerd.conf.d/10-a.conf:3: [AutoScaling] MaxSize=5: invalid value, "
                             "MinSize "
                             "must not be greater than MaxSize ([AutoScaling] MinSize=10 is set at "
                             "%1$s/apprunnerd.conf:2).",
                             root) >= 0);
        ASSERT_EQ(config_init_defaults(&c), 0);
        ASSERT_EQ(config_load(&c, root, &error), -EINVAL);
        ASSERT_STREQ(error, expected);
        config_done(&c);

        /* A later file that restores the order makes it valid again. */
        write_file(root, DROPIN("20-b.conf"), "[AutoScaling]\nMinSize=2\n");
        ASSERT_EQ(config_init_defaults(&c), 0);
        ASSERT_EQ(config_load(&c, root, NULL), 0);
        ASSERT_EQ(c.default_min_size, 2);
        ASSERT_EQ(c.default_max_size, 5);
        config_done(&c);
}

static void test_load_min_size_not_from_files(void) {
        _cleanup_root_ char *root = make_root();
        _cleanup_free_ char *error = NULL, *expected = NULL;
        Config c;

        write_file(root, MAIN, "[AutoScaling]\nMaxSize=5\n");
        ASSERT_TRUE(
                asprintf(&expected,
                         "%s/apprunnerd.conf:2: [AutoScaling] MaxSize=5: invalid value, MinSize must not be "
                         "greater than MaxSize ([AutoScaling] MinSize=20 is not set in any file).",
                         root) >= 0);
        ASSERT_EQ(config_init_defaults(&c), 0);
        c.default_min_size = 20;
        ASSERT_EQ(config_load(&c, root, &error), -EINVAL);
        ASSERT_STREQ(error, expected);
        config_done(&c);
}

static void test_load_host_name_too_long(void) {
        _cleanup_root_ char *root = make_root();
        _cleanup_free_ char *error = NULL, *expected = NULL, *content = NULL;
        const char *region = "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghi-1"; /* 63 */
        const char *label = "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefg";      /* 59 */
        Config c;

        /* <10-character id>.<63>.<3 * 59 + 3 + 3 = 183> is 258 characters. */
        ASSERT_EQ(strlen(region), 63);
        ASSERT_EQ(strlen(label), 59);
        ASSERT_TRUE(asprintf(&content,
                             "[Ingress]\nDomainSuffix=%1$s.%1$s.%1$s.abc\n[Account]\nRegion=%2$s\n", label,
                             region) >= 0);
        write_file(root, MAIN, content);
        ASSERT_TRUE(
                asprintf(&expected,
                         "%1$s/apprunnerd.conf:4: [Account] Region=%2$s: invalid value, service host names "
                         "<id>.<Region>.<DomainSuffix> would be longer than 253 characters ([Ingress] "
                         "DomainSuffix=%3$s.%3$s.%3$s.abc is set at %1$s/apprunnerd.conf:2).",
                         root, region, label) >= 0);
        ASSERT_EQ(config_init_defaults(&c), 0);
        ASSERT_EQ(config_load(&c, root, &error), -EINVAL);
        ASSERT_STREQ(error, expected);
        config_done(&c);
}

static void test_load_nul_byte(void) {
        _cleanup_root_ char *root = make_root();
        _cleanup_free_ char *error = NULL, *expected = NULL;
        static const char content[] = "[Quotas]\nServices=5\0\n";
        Config c;

        write_file_n(root, MAIN, content, sizeof(content) - 1);
        ASSERT_TRUE(asprintf(&expected, "%s/apprunnerd.conf:2: line contains a NUL byte.", root) >= 0);
        ASSERT_EQ(config_init_defaults(&c), 0);
        ASSERT_EQ(config_load(&c, root, &error), -EINVAL);
        ASSERT_STREQ(error, expected);
        config_done(&c);
}

static void test_load_long_lines(void) {
        _cleanup_root_ char *root = make_root();
        _cleanup_free_ char *error = NULL, *prefix = NULL, *content = NULL;
        char long_text[4001];
        Config c;

        memset(long_text, 'a', sizeof(long_text) - 1);
        long_text[sizeof(long_text) - 1] = '\0';

        /* A comment longer than inih's line buffer is accepted. */
        ASSERT_TRUE(asprintf(&content, "#%s\n;%s\n[Quotas]\nServices=5\n", long_text, long_text) >= 0);
        write_file(root, MAIN, content);
        ASSERT_EQ(config_init_defaults(&c), 0);
        ASSERT_EQ(config_load(&c, root, &error), 0);
        ASSERT_EQ(c.max_services, 5);
        config_done(&c);

        /* A long assignment is rejected, not split into two lines. */
        free(content);
        ASSERT_TRUE(asprintf(&content, "[Images]\nInsecureRegistries=%s\n", long_text) >= 0);
        write_file(root, MAIN, content);
        ASSERT_TRUE(asprintf(&prefix, "%s/apprunnerd.conf:2: line too long, expected at most ", root) >= 0);
        ASSERT_EQ(config_init_defaults(&c), 0);
        ASSERT_EQ(config_load(&c, root, &error), -EINVAL);
        ASSERT_TRUE(error);
        ASSERT_EQ(strncmp(error, prefix, strlen(prefix)), 0);
        ASSERT_TRUE(strstr(error, " characters without indentation."));
        config_done(&c);
}

static void test_load_unreadable(void) {
        _cleanup_root_ char *root = make_root();
        _cleanup_free_ char *error = NULL, *path = NULL, *expected = NULL;
        Config c;

        /* The main file is a directory. */
        ASSERT_TRUE(asprintf(&path, "%s/apprunnerd.conf", root) >= 0);
        ASSERT_EQ(mkdir(path, 0755), 0);
        ASSERT_TRUE(asprintf(&expected, "%s: failed to read: %s.", path, strerror(EISDIR)) >= 0);
        ASSERT_EQ(config_init_defaults(&c), 0);
        ASSERT_EQ(config_load(&c, root, &error), -EISDIR);
        ASSERT_STREQ(error, expected);
        config_done(&c);
        ASSERT_EQ(rmdir(path), 0);

        /* The drop-in directory is a file. */
        write_file(root, "apprunnerd.conf.d", "");
        free(path);
        ASSERT_TRUE(asprintf(&path, "%s/apprunnerd.conf.d", root) >= 0);
        free(expected);
        ASSERT_TRUE(asprintf(&expected, "%s: failed to open directory: %s.", path, strerror(ENOTDIR)) >= 0);
        free(error);
        error = NULL;
        ASSERT_EQ(config_init_defaults(&c), 0);
        ASSERT_EQ(config_load(&c, root, &error), -ENOTDIR);
        ASSERT_STREQ(error, expected);
        config_done(&c);
}

/* ---- the shipped file and config_dump() ---- */

/* Returns the shipped file reduced to what config_dump() prints: section
 * headers and the commented-out "#Key=value" lines without their '#'. */
static char *shipped_file_skeleton(const char *text) {
        char *out = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&out, &n);
        bool first = true;

        ASSERT_TRUE(f);
        for (const char *line = text; *line;) {
                size_t len = strcspn(line, "\n");

                if (line[0] == '[') {
                        fprintf(f, "%s%.*s\n", first ? "" : "\n", (int)len, line);
                        first = false;
                } else if (line[0] == '#' && line[1] >= 'A' && line[1] <= 'Z' && memchr(line, '=', len))
                        fprintf(f, "%.*s\n", (int)len - 1, line + 1);
                line += len + (line[len] == '\n');
        }
        ASSERT_EQ(fclose(f), 0);
        return out;
}

/* Returns the shipped file with its "#Key=value" lines uncommented. */
static char *shipped_file_uncommented(const char *text) {
        char *out = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&out, &n);

        ASSERT_TRUE(f);
        for (const char *line = text; *line;) {
                size_t len = strcspn(line, "\n");
                bool setting = line[0] == '#' && line[1] >= 'A' && line[1] <= 'Z' && memchr(line, '=', len);

                fprintf(f, "%.*s\n", (int)len - setting, line + setting);
                line += len + (line[len] == '\n');
        }
        ASSERT_EQ(fclose(f), 0);
        return out;
}

static void test_shipped_file_lists_defaults(void) {
        _cleanup_free_ char *text = read_file(SHIPPED_CONFIG_FILE), *skeleton = NULL;
        _cleanup_free_ char *defaults = dump_defaults();

        skeleton = shipped_file_skeleton(text);
        ASSERT_STREQ(skeleton, defaults);
}

static void test_shipped_file_parses_to_defaults(void) {
        _cleanup_free_ char *text = read_file(SHIPPED_CONFIG_FILE), *defaults = dump_defaults();

        for (int uncomment = 0; uncomment <= 1; uncomment++) {
                _cleanup_root_ char *root = make_root();
                _cleanup_free_ char *error = NULL, *content = NULL, *loaded = NULL;
                Config c;

                content = uncomment ? shipped_file_uncommented(text) : strdup(text);
                ASSERT_TRUE(content);
                write_file(root, MAIN, content);
                ASSERT_EQ(config_init_defaults(&c), 0);
                ASSERT_EQ(config_load(&c, root, &error), 0);
                ASSERT_STREQ(error, NULL);
                loaded = dump(&c);
                ASSERT_STREQ(loaded, defaults);
                config_done(&c);
        }
}

static void test_dump_round_trip(void) {
        _cleanup_root_ char *root = make_root();
        _cleanup_free_ char *first = NULL, *second = NULL;
        Config c;

        write_file(root, MAIN,
                   "[Account]\nRegion=eu-central-1\nAccountId=111122223333\n"
                   "[AutoScaling]\nMinSize=2\nMaxSize=4\n"
                   "[Network]\nSubnet=192.168.0.0/24\nOutbound=off\n"
                   "[Ingress]\nListenAddress=::\nMetricsPort=0\n"
                   "[Images]\nInsecureRegistries=a.example:5000 [::1]\nMaxLayerSize=1536M\n");
        ASSERT_EQ(config_init_defaults(&c), 0);
        ASSERT_EQ(config_load(&c, root, NULL), 0);
        first = dump(&c);
        config_done(&c);

        write_file(root, MAIN, first);
        ASSERT_EQ(config_init_defaults(&c), 0);
        ASSERT_EQ(config_load(&c, root, NULL), 0);
        second = dump(&c);
        ASSERT_STREQ(second, first);
        config_done(&c);
}

static void test_done_twice(void) {
        Config c;

        ASSERT_EQ(config_init_defaults(&c), 0);
        config_done(&c);
        ASSERT_TRUE(!c.region);
        config_done(&c);
        config_done(NULL);
}

int main(void) {
        static const struct {
                const char *name;
                void (*run)(void);
        } tests[] = {
#define TEST(f) {#f, f}
                TEST(test_defaults_values_in_struct),
                TEST(test_load_good_values),
                TEST(test_load_values_in_struct),
                TEST(test_load_no_files),
                TEST(test_load_override_order),
                TEST(test_load_dropin_symlink),
                TEST(test_load_dropins_without_main),
                TEST(test_load_bad_values),
                TEST(test_load_bad_value_without_ret_error),
                TEST(test_load_min_size_across_files),
                TEST(test_load_min_size_not_from_files),
                TEST(test_load_host_name_too_long),
                TEST(test_load_nul_byte),
                TEST(test_load_long_lines),
                TEST(test_load_unreadable),
                TEST(test_shipped_file_lists_defaults),
                TEST(test_shipped_file_parses_to_defaults),
                TEST(test_dump_round_trip),
                TEST(test_done_twice),
#undef TEST
        };

        for (size_t k = 0; k < ELEMENTSOF(tests); k++) {
                tests[k].run();
                printf("ok %zu %s\n", k + 1, tests[k].name);
        }
        return 0;
}
