/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <assert.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include "runtime/oci-spec.h"
#include "runtime/runtime-util.h"

static int failures;

#define CHECK(cond)                                                                              \
        do {                                                                                     \
                if (!(cond)) {                                                                   \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
                        failures++;                                                              \
                }                                                                                \
        } while (0)

#define CHECK_CASE(c, cond)                                                                           \
        do {                                                                                          \
                if (!(cond)) {                                                                        \
                        fprintf(stderr, "%s:%d: case \"%s\": check failed: %s\n", __FILE__, __LINE__, \
                                (c)->name, #cond);                                                    \
                        failures++;                                                                   \
                }                                                                                     \
        } while (0)

static char rootfs_with_shell[] = "/tmp/test-oci-spec-XXXXXX";
static char rootfs_without_shell[] = "/tmp/test-oci-spec-XXXXXX";

static void write_file(const char *dir, const char *path, const char *content, mode_t mode) {
        char full[PATH_MAX];
        int fd;

        snprintf(full, sizeof(full), "%s/%s", dir, path);
        fd = open(full, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        assert(fd >= 0);
        assert(write(fd, content, strlen(content)) == (ssize_t)strlen(content));
        close(fd);
}

static void make_dir(const char *dir, const char *path) {
        char full[PATH_MAX];

        snprintf(full, sizeof(full), "%s/%s", dir, path);
        assert(mkdir(full, 0755) == 0);
}

/* Two fake image roots: one with an executable /bin/sh and a passwd and
 * group file, one without a shell whose /etc/passwd is a symbolic link
 * that points outside the rootfs. */
static void make_rootfs(void) {
        char link_path[PATH_MAX];

        assert(mkdtemp(rootfs_with_shell));
        make_dir(rootfs_with_shell, "bin");
        make_dir(rootfs_with_shell, "etc");
        write_file(rootfs_with_shell, "bin/sh", "#!shell\n", 0755);
        write_file(rootfs_with_shell, "etc/passwd",
                   "root:x:0:0:root:/root:/bin/sh\n"
                   "app:x:1000:1000:App:/home/app:/bin/sh\n",
                   0644);
        write_file(rootfs_with_shell, "etc/group",
                   "root:x:0:\n"
                   "staff:x:50:\n"
                   "app:x:1000:\n"
                   "audio:x:29:app\n"
                   "video:x:44:root,app\n",
                   0644);

        assert(mkdtemp(rootfs_without_shell));
        make_dir(rootfs_without_shell, "etc");
        snprintf(link_path, sizeof(link_path), "%s/etc/passwd", rootfs_without_shell);
        assert(symlink("../../../../../../../../etc/passwd", link_path) == 0);
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        return type == FTW_DP ? rmdir(path) : unlink(path);
}

static void remove_rootfs(void) {
        assert(nftw(rootfs_with_shell, remove_entry, 8, FTW_DEPTH | FTW_PHYS) == 0);
        assert(nftw(rootfs_without_shell, remove_entry, 8, FTW_DEPTH | FTW_PHYS) == 0);
        CHECK(access(rootfs_with_shell, F_OK) < 0 && errno == ENOENT);
        CHECK(access(rootfs_without_shell, F_OK) < 0 && errno == ENOENT);
}

static json_object *seccomp_profile(void) {
        json_object *p = json_tokener_parse("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[]}");
        assert(p);
        return p;
}

/* Looks up a dotted path of object keys, such as "process.user.uid". */
static json_object *get_path(json_object *o, const char *path) {
        _cleanup_free_ char *copy = strdup(path);
        char *saveptr = NULL;

        assert(copy);
        for (char *key = strtok_r(copy, ".", &saveptr); key; key = strtok_r(NULL, ".", &saveptr))
                if (!json_object_object_get_ex(o, key, &o))
                        return NULL;
        return o;
}

static bool string_array_equals(json_object *a, const char *const *expected) {
        size_t n = 0;

        while (expected[n])
                n++;
        if (!a || !json_object_is_type(a, json_type_array) || json_object_array_length(a) != n)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!streq(json_object_get_string(json_object_array_get_idx(a, i)), expected[i]))
                        return false;
        return true;
}

static bool string_array_contains(json_object *a, const char *s) {
        if (!a)
                return false;
        for (size_t i = 0; i < json_object_array_length(a); i++)
                if (streq(json_object_get_string(json_object_array_get_idx(a, i)), s))
                        return true;
        return false;
}

static void print_array(const char *what, json_object *a) {
        fprintf(stderr, "  %s: %s\n", what, a ? json_object_to_json_string(a) : "(missing)");
}

#define STRV(...)   ((char *[]){__VA_ARGS__, NULL})
#define EXPECT(...) ((const char *const[]){__VA_ARGS__, NULL})

typedef struct SpecCase {
        const char *name;
        bool shell; /* use the rootfs with /bin/sh */
        const char *start_command;
        char **entrypoint, **cmd, **image_env, **service_env;
        const char *user, *working_dir;
        uint16_t port;
        int expected_r;
        const char *const *expected_args; /* NULL: not checked */
        const char *const *expected_env;  /* NULL: not checked */
        long expected_uid, expected_gid;  /* -1: not checked */
        const char *const *expected_additional_gids;
        const char *expected_error; /* substring, for expected_r < 0 */
} SpecCase;

static const SpecCase cases[] = {
        {.name = "start command with shell",
         .shell = true,
         .start_command = "node server.js --port $PORT",
         .entrypoint = STRV("/ignored"),
         .port = 8080,
         .expected_args = EXPECT("/bin/sh", "-c", "node server.js --port $PORT"),
         .expected_uid = -1},
        {.name = "start command without shell",
         .start_command = "python3 -m http.server '8 0' \"a b\"",
         .port = 8080,
         .expected_args = EXPECT("python3", "-m", "http.server", "8 0", "a b"),
         .expected_uid = -1},
        {.name = "start command expansion without shell",
         .start_command = "$HOME/app",
         .port = 8080,
         .expected_r = -EINVAL,
         .expected_error = "'$'"},
        {.name = "start command glob without shell",
         .start_command = "cat /etc/*",
         .port = 8080,
         .expected_r = -EINVAL,
         .expected_error = "'*'"},
        {.name = "start command operator without shell",
         .start_command = "a | b",
         .port = 8080,
         .expected_r = -EINVAL,
         .expected_error = "shell operator"},
        {.name = "start command unbalanced quote",
         .start_command = "a 'b",
         .port = 8080,
         .expected_r = -EINVAL,
         .expected_error = "unbalanced quotes"},
        {.name = "blank start command uses image",
         .shell = true,
         .start_command = "  ",
         .cmd = STRV("/app"),
         .port = 8080,
         .expected_args = EXPECT("/app"),
         .expected_uid = -1},
        {.name = "entrypoint and cmd",
         .shell = true,
         .entrypoint = STRV("/app", "serve"),
         .cmd = STRV("--verbose"),
         .port = 8080,
         .expected_args = EXPECT("/app", "serve", "--verbose"),
         .expected_uid = -1},
        {.name = "cmd only",
         .shell = true,
         .cmd = STRV("/app"),
         .port = 8080,
         .expected_args = EXPECT("/app"),
         .expected_uid = -1},
        {.name = "no command",
         .shell = true,
         .port = 8080,
         .expected_r = -EINVAL,
         .expected_error = "neither Entrypoint nor Cmd"},
        {.name = "env override order",
         .shell = true,
         .cmd = STRV("/app"),
         .image_env = STRV("PATH=/opt/bin", "FOO=image", "PORT=1", "KEEP=1"),
         .service_env = STRV("FOO=service", "BAR=b"),
         .port = 8080,
         .expected_env = EXPECT("PATH=/opt/bin", "FOO=service", "PORT=8080", "KEEP=1", "BAR=b"),
         .expected_uid = -1},
        {.name = "service overrides PORT",
         .shell = true,
         .cmd = STRV("/app"),
         .service_env = STRV("PORT=9000"),
         .port = 8080,
         .expected_env = EXPECT(OCI_DEFAULT_PATH, "PORT=9000"),
         .expected_uid = -1},
        {.name = "service sets PATH",
         .shell = true,
         .cmd = STRV("/app"),
         .service_env = STRV("PATH=/svc"),
         .port = 80,
         .expected_env = EXPECT("PORT=80", "PATH=/svc"),
         .expected_uid = -1},
        {.name = "default PATH",
         .shell = true,
         .cmd = STRV("/app"),
         .image_env = STRV("A=1"),
         .port = 3000,
         .expected_env = EXPECT(OCI_DEFAULT_PATH, "A=1", "PORT=3000"),
         .expected_uid = -1},
        {.name = "invalid service env",
         .shell = true,
         .cmd = STRV("/app"),
         .service_env = STRV("=x"),
         .port = 8080,
         .expected_r = -EINVAL,
         .expected_error = "\"=x\""},
        {.name = "invalid image env",
         .shell = true,
         .cmd = STRV("/app"),
         .image_env = STRV("NOEQUALS"),
         .port = 8080,
         .expected_r = -EINVAL,
         .expected_error = "\"NOEQUALS\""},
        {.name = "no user is root",
         .shell = true,
         .cmd = STRV("/app"),
         .port = 8080,
         .expected_uid = 0,
         .expected_gid = 0},
        {.name = "user name",
         .shell = true,
         .cmd = STRV("/app"),
         .user = "app",
         .port = 8080,
         .expected_uid = 1000,
         .expected_gid = 1000,
         .expected_additional_gids = EXPECT("29", "44")},
        {.name = "numeric uid in passwd",
         .shell = true,
         .cmd = STRV("/app"),
         .user = "1000",
         .port = 8080,
         .expected_uid = 1000,
         .expected_gid = 1000},
        {.name = "numeric uid not in passwd",
         .shell = true,
         .cmd = STRV("/app"),
         .user = "1234",
         .port = 8080,
         .expected_uid = 1234,
         .expected_gid = 0},
        {.name = "numeric uid and gid",
         .user = "1234:5678",
         .cmd = STRV("/app"),
         .port = 8080,
         .expected_uid = 1234,
         .expected_gid = 5678},
        {.name = "user and group names",
         .shell = true,
         .cmd = STRV("/app"),
         .user = "app:staff",
         .port = 8080,
         .expected_uid = 1000,
         .expected_gid = 50},
        {.name = "unknown user",
         .shell = true,
         .cmd = STRV("/app"),
         .user = "nobody-here",
         .port = 8080,
         .expected_r = -EINVAL,
         .expected_error = "\"nobody-here\""},
        {.name = "unknown group",
         .shell = true,
         .cmd = STRV("/app"),
         .user = "app:nogroup",
         .port = 8080,
         .expected_r = -EINVAL,
         .expected_error = "\"nogroup\""},
        /* The host's /etc/passwd has root; the symbolic link must not
         * reach it. */
        {.name = "passwd link stays in rootfs",
         .cmd = STRV("/app"),
         .user = "root",
         .port = 8080,
         .expected_r = -EINVAL,
         .expected_error = "\"root\""},
        {.name = "working dir",
         .shell = true,
         .cmd = STRV("/app"),
         .working_dir = "/srv",
         .port = 8080,
         .expected_uid = -1},
        {.name = "relative working dir",
         .shell = true,
         .cmd = STRV("/app"),
         .working_dir = "srv",
         .port = 8080,
         .expected_r = -EINVAL,
         .expected_error = "\"srv\""},
};

static void run_case(const SpecCase *c, json_object *seccomp) {
        ImageConfig image = {
                .entrypoint = c->entrypoint,
                .cmd = c->cmd,
                .env = c->image_env,
                .working_dir = (char *)c->working_dir,
                .user = (char *)c->user,
        };
        InstanceSpec s = {
                .instance_id = "0123456789ab",
                .hostname = "test-host",
                .rootfs = c->shell ? rootfs_with_shell : rootfs_without_shell,
                .netns_path = "/run/netns/apprunner-0123456789ab",
                .image = &image,
                .start_command = c->start_command,
                .port = c->port,
                .env = c->service_env,
                .seccomp = seccomp,
        };
        _cleanup_json_ json_object *spec = NULL;
        _cleanup_free_ char *error = NULL;
        int r;

        r = oci_spec_build(&s, &spec, &error);
        if (r != c->expected_r)
                fprintf(stderr, "case \"%s\": r=%d (%s), expected %d\n", c->name, r, strna(error),
                        c->expected_r);
        CHECK_CASE(c, r == c->expected_r);

        if (c->expected_r < 0) {
                CHECK_CASE(c, !spec);
                if (!error || !strstr(error, c->expected_error))
                        fprintf(stderr, "case \"%s\": error \"%s\" lacks \"%s\"\n", c->name, strna(error),
                                c->expected_error);
                CHECK_CASE(c, error && strstr(error, c->expected_error));
                return;
        }
        if (r < 0)
                return;

        CHECK_CASE(c, !error);

        if (c->expected_args && !string_array_equals(get_path(spec, "process.args"), c->expected_args)) {
                print_array("args", get_path(spec, "process.args"));
                CHECK_CASE(c, false);
        }
        if (c->expected_env && !string_array_equals(get_path(spec, "process.env"), c->expected_env)) {
                print_array("env", get_path(spec, "process.env"));
                CHECK_CASE(c, false);
        }
        if (c->expected_uid >= 0) {
                CHECK_CASE(c, json_object_get_int64(get_path(spec, "process.user.uid")) == c->expected_uid);
                CHECK_CASE(c, json_object_get_int64(get_path(spec, "process.user.gid")) == c->expected_gid);
        }
        if (c->expected_additional_gids) {
                json_object *gids = get_path(spec, "process.user.additionalGids");
                size_t n = 0;

                while (c->expected_additional_gids[n])
                        n++;
                CHECK_CASE(c, gids && json_object_array_length(gids) == n);
                for (size_t i = 0; gids && i < n && i < json_object_array_length(gids); i++)
                        CHECK_CASE(c, streq(json_object_get_string(json_object_array_get_idx(gids, i)),
                                            c->expected_additional_gids[i]));
        }
        CHECK_CASE(c, streq(json_object_get_string(get_path(spec, "process.cwd")),
                            c->working_dir ? c->working_dir : "/"));
}

static bool has_namespace(json_object *namespaces, const char *type, const char **ret_path) {
        for (size_t i = 0; i < json_object_array_length(namespaces); i++) {
                json_object *ns = json_object_array_get_idx(namespaces, i), *path;

                if (!streq(json_object_get_string(get_path(ns, "type")), type))
                        continue;
                if (ret_path)
                        *ret_path = json_object_object_get_ex(ns, "path", &path)
                                            ? json_object_get_string(path)
                                            : NULL;
                return true;
        }
        return false;
}

static json_object *find_mount(json_object *mounts, const char *destination) {
        for (size_t i = 0; i < json_object_array_length(mounts); i++) {
                json_object *m = json_object_array_get_idx(mounts, i);

                if (streq(json_object_get_string(get_path(m, "destination")), destination))
                        return m;
        }
        return NULL;
}

static void test_document_shape(json_object *seccomp) {
        ImageConfig image = {.cmd = STRV("/app")};
        InstanceSpec s = {
                .instance_id = "0123456789ab",
                .hostname = "shape-host",
                .rootfs = rootfs_with_shell,
                .netns_path = "/run/netns/apprunner-0123456789ab",
                .image = &image,
                .port = 8080,
                .seccomp = seccomp,
        };
        _cleanup_json_ json_object *spec = NULL;
        json_object *namespaces, *mounts, *sys, *rlimit;
        const char *netns = NULL;

        assert(oci_spec_build(&s, &spec, NULL) == 0);

        CHECK(streq(json_object_get_string(get_path(spec, "ociVersion")), "1.0.2"));
        CHECK(streq(json_object_get_string(get_path(spec, "hostname")), "shape-host"));
        CHECK(streq(json_object_get_string(get_path(spec, "root.path")), rootfs_with_shell));
        CHECK(json_object_get_boolean(get_path(spec, "root.readonly")) == false);
        CHECK(get_path(spec, "process.terminal") &&
              !json_object_get_boolean(get_path(spec, "process.terminal")));
        CHECK(json_object_get_boolean(get_path(spec, "process.noNewPrivileges")));

        /* Capabilities: bounding, effective and permitted only. */
        CHECK(get_path(spec, "process.capabilities.bounding"));
        CHECK(get_path(spec, "process.capabilities.effective"));
        CHECK(get_path(spec, "process.capabilities.permitted"));
        CHECK(!get_path(spec, "process.capabilities.ambient"));
        CHECK(!get_path(spec, "process.capabilities.inheritable"));
        CHECK(string_array_contains(get_path(spec, "process.capabilities.bounding"),
                                    "CAP_NET_BIND_SERVICE"));
        CHECK(!string_array_contains(get_path(spec, "process.capabilities.bounding"), "CAP_NET_RAW"));
        CHECK(!string_array_contains(get_path(spec, "process.capabilities.bounding"), "CAP_SYS_ADMIN"));
        CHECK(!string_array_contains(get_path(spec, "process.capabilities.bounding"), "CAP_MKNOD"));

        rlimit = json_object_array_get_idx(get_path(spec, "process.rlimits"), 0);
        CHECK(rlimit && streq(json_object_get_string(get_path(rlimit, "type")), "RLIMIT_NOFILE"));

        /* No cgroup configuration at all. */
        CHECK(get_path(spec, "linux"));
        CHECK(!get_path(spec, "linux.resources"));
        CHECK(!get_path(spec, "linux.cgroupsPath"));

        namespaces = get_path(spec, "linux.namespaces");
        CHECK(namespaces && json_object_array_length(namespaces) == 5);
        CHECK(has_namespace(namespaces, "pid", NULL));
        CHECK(has_namespace(namespaces, "ipc", NULL));
        CHECK(has_namespace(namespaces, "uts", NULL));
        CHECK(has_namespace(namespaces, "mount", NULL));
        CHECK(has_namespace(namespaces, "network", &netns));
        CHECK(netns && streq(netns, "/run/netns/apprunner-0123456789ab"));
        CHECK(!has_namespace(namespaces, "cgroup", NULL));
        CHECK(!has_namespace(namespaces, "user", NULL));

        CHECK(string_array_contains(get_path(spec, "linux.maskedPaths"), "/proc/kcore"));
        CHECK(string_array_contains(get_path(spec, "linux.maskedPaths"), "/proc/keys"));
        CHECK(string_array_contains(get_path(spec, "linux.maskedPaths"), "/sys/firmware"));
        CHECK(string_array_contains(get_path(spec, "linux.readonlyPaths"), "/proc/sys"));
        CHECK(string_array_contains(get_path(spec, "linux.readonlyPaths"), "/proc/sysrq-trigger"));

        CHECK(streq(json_object_get_string(get_path(spec, "linux.seccomp.defaultAction")),
                    "SCMP_ACT_ERRNO"));
        /* A deep copy, not the caller's object. */
        CHECK(get_path(spec, "linux.seccomp") != seccomp);

        mounts = get_path(spec, "mounts");
        CHECK(find_mount(mounts, "/proc"));
        CHECK(find_mount(mounts, "/dev"));
        CHECK(find_mount(mounts, "/dev/pts"));
        CHECK(find_mount(mounts, "/dev/shm"));
        CHECK(find_mount(mounts, "/dev/mqueue"));
        CHECK(!find_mount(mounts, "/tmp"));
        CHECK(!find_mount(mounts, "/sys/fs/cgroup"));
        sys = find_mount(mounts, "/sys");
        CHECK(sys && string_array_contains(get_path(sys, "options"), "ro"));
}

static void test_invalid_instance(json_object *seccomp) {
        ImageConfig image = {.cmd = STRV("/app")};
        InstanceSpec s = {
                .instance_id = "0123456789AB",
                .hostname = "h",
                .rootfs = rootfs_with_shell,
                .netns_path = "/run/netns/x",
                .image = &image,
                .seccomp = seccomp,
        };
        _cleanup_json_ json_object *spec = NULL;
        _cleanup_free_ char *error = NULL, *error2 = NULL;

        CHECK(oci_spec_build(&s, &spec, &error) == -EINVAL);
        CHECK(error && strstr(error, "0123456789AB"));

        s.instance_id = "0123456789ab";
        s.rootfs = "relative/rootfs";
        CHECK(oci_spec_build(&s, &spec, &error2) == -EINVAL);
        CHECK(error2 && strstr(error2, "relative/rootfs"));
        CHECK(!spec);
}

static void test_bundle_write(json_object *seccomp) {
        char bundle[] = "/tmp/test-oci-bundle-XXXXXX", path[PATH_MAX];
        ImageConfig image = {.cmd = STRV("/app"), .env = STRV("SECRET=1")};
        InstanceSpec s = {
                .instance_id = "0123456789ab",
                .hostname = "h",
                .rootfs = rootfs_with_shell,
                .netns_path = "/run/netns/x",
                .image = &image,
                .port = 8080,
                .seccomp = seccomp,
        };
        _cleanup_json_ json_object *written = NULL;
        struct stat st;

        assert(mkdtemp(bundle));
        CHECK(oci_bundle_write(&s, bundle, NULL) == 0);
        /* A second write replaces the file. */
        CHECK(oci_bundle_write(&s, bundle, NULL) == 0);

        snprintf(path, sizeof(path), "%s/config.json", bundle);
        CHECK(stat(path, &st) == 0);
        CHECK((st.st_mode & 07777) == 0600);

        written = json_object_from_file(path);
        CHECK(written);
        CHECK(written && streq(json_object_get_string(get_path(written, "hostname")), "h"));

        /* Only config.json is left: no temporary files. */
        CHECK(unlink(path) == 0);
        CHECK(rmdir(bundle) == 0);
}

int main(void) {
        _cleanup_json_ json_object *seccomp = seccomp_profile();

        make_rootfs();

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                run_case(&cases[i], seccomp);
        test_document_shape(seccomp);
        test_invalid_instance(seccomp);
        test_bundle_write(seccomp);

        remove_rootfs();

        if (failures > 0) {
                fprintf(stderr, "%d checks failed\n", failures);
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}
