/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Runs busybox containers with the real crun over an overlay of two layer
 * directories, in a network namespace the test creates, and checks that
 * nothing is left behind. Usage: test-run-crun PATH-OF-SECCOMP-PROFILE.
 * Exits 77 (skipped) without root, crun or /bin/busybox (busybox-static). */

#include <assert.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>

#include "runtime/oci-spec.h"
#include "runtime/rootfs.h"
#include "runtime/runtime-util.h"
#include "runtime/runtime.h"
#include "runtime/seccomp-profile.h"

#define CRUN_PATH    "/usr/bin/crun"
#define BUSYBOX_PATH "/bin/busybox"

extern char **environ;

static int failures;

#define CHECK(cond)                                                                              \
        do {                                                                                     \
                if (!(cond)) {                                                                   \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
                        failures++;                                                              \
                }                                                                                \
        } while (0)

static char test_dir[] = "/var/tmp/artest-XXXXXX";

static void path_join(char *buffer, const char *a, const char *b) {
        int n = snprintf(buffer, PATH_MAX, "%s/%s", a, b);
        assert(n > 0 && n < PATH_MAX);
}

static void make_dir(const char *dir, const char *path, mode_t mode) {
        char full[PATH_MAX];

        path_join(full, dir, path);
        assert(mkdir(full, mode) == 0);
        assert(chmod(full, mode) == 0);
}

static void write_file(const char *dir, const char *path, const char *content) {
        char full[PATH_MAX];
        int fd;

        path_join(full, dir, path);
        fd = open(full, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert(fd >= 0);
        assert(write(fd, content, strlen(content)) == (ssize_t)strlen(content));
        close(fd);
}

static void copy_file(const char *from, const char *dir, const char *path) {
        char full[PATH_MAX], buffer[65536];
        int in, out;
        ssize_t n;

        path_join(full, dir, path);
        in = open(from, O_RDONLY | O_CLOEXEC);
        assert(in >= 0);
        out = open(full, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
        assert(out >= 0);
        while ((n = read(in, buffer, sizeof(buffer))) > 0)
                assert(write(out, buffer, (size_t)n) == n);
        assert(n == 0);
        close(in);
        close(out);
}

/* Layer 1 (bottom): busybox, passwd and group, /data/{kept,gone} and
 * /opaque/old. Layer 2 (top): a whiteout that deletes /data/gone and an
 * opaque /opaque that hides /opaque/old, as the image unpacker writes
 * them. */
static void make_layers(char *layer1, char *layer2) {
        static const char *const applets[] = {"sh",      "cat",  "echo",  "hostname", "id", "ls", "grep",
                                              "unshare", "true", "sleep", "wc",       "tr", "sed"};
        char full[PATH_MAX];

        path_join(layer1, test_dir, "layer1");
        path_join(layer2, test_dir, "layer2");
        assert(mkdir(layer1, 0755) == 0);
        assert(mkdir(layer2, 0755) == 0);

        make_dir(layer1, "bin", 0755);
        copy_file(BUSYBOX_PATH, layer1, "bin/busybox");
        for (size_t i = 0; i < ELEMENTSOF(applets); i++) {
                char link[PATH_MAX];

                snprintf(link, sizeof(link), "%s/bin/%s", layer1, applets[i]);
                assert(symlink("busybox", link) == 0);
        }
        make_dir(layer1, "etc", 0755);
        write_file(layer1, "etc/passwd",
                   "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n");
        write_file(layer1, "etc/group", "root:x:0:\napp:x:1000:\nextra:x:2000:app\n");
        make_dir(layer1, "tmp", 01777);
        make_dir(layer1, "data", 0755);
        write_file(layer1, "data/kept", "kept\n");
        write_file(layer1, "data/gone", "gone\n");
        make_dir(layer1, "opaque", 0755);
        write_file(layer1, "opaque/old", "old\n");

        make_dir(layer2, "data", 0755);
        path_join(full, layer2, "data/gone");
        assert(mknod(full, S_IFCHR | 0000, makedev(0, 0)) == 0);
        make_dir(layer2, "opaque", 0755);
        path_join(full, layer2, "opaque");
        assert(setxattr(full, "trusted.overlay.opaque", "y", 1, 0) == 0);
        write_file(layer2, "opaque/new", "new\n");
}

static int run_command(const char *const argv[]) {
        pid_t pid;
        int status;

        if (posix_spawn(&pid, argv[0], NULL, NULL, (char **)argv, environ) != 0)
                return -1;
        if (waitpid(pid, &status, 0) < 0)
                return -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static double elapsed_ms(const struct timespec *a, const struct timespec *b) {
        return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

/* Runs crun in the foreground and collects the container's stdout.
 * Returns crun's exit status; *ret_first_output_ms is the time from spawn
 * to the first output byte, *ret_total_ms to crun's exit. */
static int run_container(const char *bundle, const char *id, char *output, size_t size,
                         double *ret_first_output_ms, double *ret_total_ms) {
        _cleanup_strv_free_ char **argv = runtime_argv(CRUN_PATH, bundle, id, runtime_in_container());
        posix_spawn_file_actions_t actions;
        struct timespec start, first = {0}, end;
        size_t used = 0;
        int pipe_fds[2], status;
        pid_t pid;
        ssize_t n;

        assert(argv);
        assert(pipe2(pipe_fds, O_CLOEXEC) == 0);
        assert(posix_spawn_file_actions_init(&actions) == 0);
        assert(posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO) == 0);

        clock_gettime(CLOCK_MONOTONIC, &start);
        assert(posix_spawn(&pid, argv[0], &actions, NULL, argv, environ) == 0);
        posix_spawn_file_actions_destroy(&actions);
        close(pipe_fds[1]);

        while ((n = read(pipe_fds[0], output + used, size - used - 1)) > 0) {
                if (used == 0)
                        clock_gettime(CLOCK_MONOTONIC, &first);
                used += (size_t)n;
                if (used == size - 1)
                        break;
        }
        output[used] = '\0';
        close(pipe_fds[0]);

        assert(waitpid(pid, &status, 0) == pid);
        clock_gettime(CLOCK_MONOTONIC, &end);

        if (ret_first_output_ms)
                *ret_first_output_ms = used > 0 ? elapsed_ms(&start, &first) : -1;
        if (ret_total_ms)
                *ret_total_ms = elapsed_ms(&start, &end);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static bool has_line(const char *output, const char *line) {
        size_t n = strlen(line);

        for (const char *p = output; (p = strstr(p, line)); p += n)
                if ((p == output || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
                        return true;
        return false;
}

#define CHECK_LINE(output, line)                                                                     \
        do {                                                                                         \
                if (!has_line(output, line)) {                                                       \
                        fprintf(stderr, "%s:%d: container output lacks the line \"%s\"\n", __FILE__, \
                                __LINE__, line);                                                     \
                        failures++;                                                                  \
                }                                                                                    \
        } while (0)

static bool mountinfo_mentions(const char *path) {
        _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
        char line[4096];

        assert(f);
        while (fgets(line, sizeof(line), f))
                if (strstr(line, path))
                        return true;
        return false;
}

static bool crun_state_exists(const char *id) {
        char path[PATH_MAX];

        snprintf(path, sizeof(path), RUNTIME_STATE_DIR "/%s", id);
        return access(path, F_OK) == 0;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        return type == FTW_DP ? rmdir(path) : unlink(path);
}

static const char container_script[] =
        "echo hostname=$(hostname)\n"
        "echo uid=$(id -u) gid=$(id -g)\n"
        "echo groups=$(id -G)\n"
        "echo FOO=$FOO PORT=$PORT KEEP=$KEEP\n"
        "echo cwd=$(pwd)\n"
        "echo data=$(ls /data)\n"
        "echo opaque=$(ls /opaque)\n"
        "echo netdev_lines=$(cat /proc/net/dev | wc -l)\n"
        "grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status | tr -d '\\t' | sed 's/:/=/'\n"
        "echo written > /tmp/written && echo tmp=ok\n"
        "unshare -U true 2>/dev/null && echo unshare=allowed || echo unshare=denied\n";

typedef struct Fixture {
        char layer1[PATH_MAX], layer2[PATH_MAX], instance_dir[PATH_MAX], bundle[PATH_MAX];
        char netns_name[64], netns_path[PATH_MAX], id[13];
        char *merged;
        json_object *seccomp;
} Fixture;

static void write_bundle(Fixture *f, const char *command, bool with_seccomp) {
        ImageConfig image = {
                .env = (char *[]){"FOO=image", "KEEP=1", NULL},
                .user = (char *)"app",
                .working_dir = (char *)"/data",
        };
        InstanceSpec s = {
                .instance_id = f->id,
                .hostname = "artest-host",
                .rootfs = f->merged,
                .netns_path = f->netns_path,
                .image = &image,
                .start_command = command,
                .port = 8080,
                .env = (char *[]){"FOO=service", NULL},
                .seccomp = f->seccomp,
        };
        _cleanup_free_ char *error = NULL;
        _cleanup_json_ json_object *spec = NULL;
        char path[PATH_MAX];
        json_object *linux_obj;
        struct rlimit nofile;

        /* Without CAP_SYS_RESOURCE crun cannot raise the limit above the
         * test's own hard limit. */
        assert(getrlimit(RLIMIT_NOFILE, &nofile) == 0);
        s.nofile_limit = MIN((uint64_t)nofile.rlim_max, OCI_DEFAULT_NOFILE_LIMIT);

        if (with_seccomp) {
                if (oci_bundle_write(&s, f->bundle, &error) < 0)
                        fprintf(stderr, "oci_bundle_write: %s\n", strna(error));
                return;
        }

        /* The control run: the same configuration without a seccomp
         * filter, to show that the denial comes from the profile. */
        assert(oci_spec_build(&s, &spec, &error) == 0);
        assert(json_object_object_get_ex(spec, "linux", &linux_obj));
        json_object_object_del(linux_obj, "seccomp");
        path_join(path, f->bundle, "config.json");
        assert(json_object_to_file(path, spec) == 0);
}

static void test_container_run(Fixture *f) {
        char output[8192], upper_file[PATH_MAX];
        double first_ms, total_ms;
        int status;

        write_bundle(f, container_script, true);
        status = run_container(f->bundle, f->id, output, sizeof(output), &first_ms, &total_ms);
        fprintf(stderr, "--- container output (crun exit status %d) ---\n%s---\n", status, output);
        CHECK(status == 0);

        CHECK_LINE(output, "hostname=artest-host");
        CHECK_LINE(output, "uid=1000 gid=1000");
        CHECK_LINE(output, "groups=1000 2000");
        CHECK_LINE(output, "FOO=service PORT=8080 KEEP=1");
        CHECK_LINE(output, "cwd=/data");
        CHECK_LINE(output, "data=kept");
        CHECK_LINE(output, "opaque=new");
        /* Two header lines and "lo": the test's namespace, not the host's. */
        CHECK_LINE(output, "netdev_lines=3");
        CHECK_LINE(output, "NoNewPrivs=1");
        CHECK_LINE(output, "Seccomp=2");
        CHECK_LINE(output, "tmp=ok");
        CHECK_LINE(output, "unshare=denied");

        /* /tmp is in the instance's upper layer. */
        path_join(upper_file, f->instance_dir, "upper/tmp/written");
        CHECK(access(upper_file, F_OK) == 0);

        /* crun run removes the state of a container that exited. */
        CHECK(!crun_state_exists(f->id));

        write_bundle(f, container_script, false);
        status = run_container(f->bundle, f->id, output, sizeof(output), NULL, NULL);
        CHECK(status == 0);
        /* Seccomp stays 2 when the test itself runs under a filter, as in
         * systemd-nspawn, so only the syscall's result is checked. */
        CHECK_LINE(output, "unshare=allowed");
}

static void test_start_time(Fixture *f) {
        char output[256];
        double first[5], total[5], sum_first = 0, sum_total = 0;

        write_bundle(f, "echo started", true);
        for (size_t i = 0; i < ELEMENTSOF(first); i++) {
                CHECK(run_container(f->bundle, f->id, output, sizeof(output), &first[i], &total[i]) == 0);
                CHECK_LINE(output, "started");
                sum_first += first[i];
                sum_total += total[i];
        }
        fprintf(stderr,
                "container start: spawn of crun to first output %.1f ms, to crun exit %.1f ms (mean of "
                "%zu)\n",
                sum_first / (double)ELEMENTSOF(first), sum_total / (double)ELEMENTSOF(first),
                ELEMENTSOF(first));
}

/* runtime_delete() on a running container kills it and removes its
 * state, and the "crun run" that started it returns; a second call finds
 * nothing and succeeds. */
static void test_delete_running(Fixture *f) {
        _cleanup_strv_free_ char **argv = runtime_argv(CRUN_PATH, f->bundle, f->id, runtime_in_container());
        posix_spawn_file_actions_t actions;
        char buffer[64] = {0};
        int pipe_fds[2], status;
        pid_t pid;

        write_bundle(f, "echo ready; exec sleep 600", true);

        assert(argv);
        assert(pipe2(pipe_fds, O_CLOEXEC) == 0);
        assert(posix_spawn_file_actions_init(&actions) == 0);
        assert(posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO) == 0);
        assert(posix_spawn(&pid, argv[0], &actions, NULL, argv, environ) == 0);
        posix_spawn_file_actions_destroy(&actions);
        close(pipe_fds[1]);

        /* The container writes "ready" once it runs. */
        CHECK(read(pipe_fds[0], buffer, sizeof(buffer) - 1) > 0);
        CHECK(strstr(buffer, "ready"));
        CHECK(crun_state_exists(f->id));

        CHECK(runtime_delete(CRUN_PATH, f->id) == 0);
        CHECK(!crun_state_exists(f->id));
        CHECK(runtime_delete(CRUN_PATH, f->id) == 0);

        /* crun run exits with the killed container. */
        CHECK(waitpid(pid, &status, 0) == pid);
        CHECK(!(WIFEXITED(status) && WEXITSTATUS(status) == 0));
        close(pipe_fds[0]);
}

/* crun 1.8 rejects every container, even with
 * --cgroup-manager=disabled, when /sys/fs/cgroup is a hybrid hierarchy
 * whose cgroup2 part has controllers ("cgroups in hybrid mode not
 * supported"). Such hosts run this test inside systemd-nspawn. */
static bool crun_rejects_cgroup_setup(void) {
        char buffer[256] = {0};
        int fd;
        ssize_t n;

        fd = open("/sys/fs/cgroup/unified/cgroup.controllers", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        n = read(fd, buffer, sizeof(buffer) - 1);
        close(fd);
        return n > 0 && buffer[0] != '\n';
}

int main(int argc, char *argv[]) {
        _cleanup_free_ char *error = NULL;
        char *layers[3] = {0};
        Fixture f = {0};
        int r;

        if (argc != 2) {
                fprintf(stderr, "Usage: %s SECCOMP-PROFILE\n", argv[0]);
                return EXIT_FAILURE;
        }
        if (geteuid() != 0 || access(CRUN_PATH, X_OK) < 0 || access(BUSYBOX_PATH, X_OK) < 0) {
                fprintf(stderr, "Skipped: needs root, %s and %s.\n", CRUN_PATH, BUSYBOX_PATH);
                return 77;
        }
        if (crun_rejects_cgroup_setup()) {
                fprintf(stderr, "Skipped: /sys/fs/cgroup is a hybrid hierarchy with cgroup2 controllers, "
                                "which crun rejects.\n");
                return 77;
        }

        r = seccomp_profile_load(argv[1], &f.seccomp, &error);
        if (r < 0) {
                fprintf(stderr, "%s\n", strna(error));
                return EXIT_FAILURE;
        }

        assert(mkdtemp(test_dir));
        snprintf(f.id, sizeof(f.id), "a7%010x", (unsigned)getpid());
        make_layers(f.layer1, f.layer2);
        layers[0] = f.layer1;
        layers[1] = f.layer2;

        path_join(f.instance_dir, test_dir, "instance");
        path_join(f.bundle, test_dir, "bundle");
        assert(mkdir(f.bundle, 0700) == 0);

        snprintf(f.netns_name, sizeof(f.netns_name), "artest-%s", f.id);
        snprintf(f.netns_path, sizeof(f.netns_path), "/run/netns/%s", f.netns_name);
        if (run_command((const char *[]){"/usr/bin/ip", "netns", "add", f.netns_name, NULL}) != 0 &&
            run_command((const char *[]){"/sbin/ip", "netns", "add", f.netns_name, NULL}) != 0) {
                fprintf(stderr, "ip netns add %s failed\n", f.netns_name);
                return EXIT_FAILURE;
        }

        r = rootfs_mount(layers, f.instance_dir, &f.merged, &error);
        if (r < 0)
                fprintf(stderr, "rootfs_mount: %s\n", strna(error));
        CHECK(r == 0);

        if (r == 0) {
                test_container_run(&f);
                test_start_time(&f);
                test_delete_running(&f);
        }

        /* Clean up, then check for leftovers. */
        CHECK(runtime_delete(CRUN_PATH, f.id) == 0);
        CHECK(!crun_state_exists(f.id));
        CHECK(rootfs_umount(f.instance_dir) == 0);
        CHECK(!mountinfo_mentions(test_dir));
        CHECK(access(f.instance_dir, F_OK) < 0 && errno == ENOENT);
        /* A second call finds nothing to do. */
        CHECK(rootfs_umount(f.instance_dir) == 0);

        CHECK(run_command((const char *[]){"/usr/bin/ip", "netns", "delete", f.netns_name, NULL}) == 0 ||
              run_command((const char *[]){"/sbin/ip", "netns", "delete", f.netns_name, NULL}) == 0);
        CHECK(access(f.netns_path, F_OK) < 0);

        CHECK(nftw(test_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) == 0);
        CHECK(access(test_dir, F_OK) < 0 && errno == ENOENT);

        free(f.merged);
        json_object_put(f.seccomp);

        if (failures > 0) {
                fprintf(stderr, "%d checks failed\n", failures);
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}
