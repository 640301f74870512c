/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Mounts overlays of many layers whose lowerdir option would exceed one
 * page, with each mount strategy. Exits 77 (skipped) when not root. */

#include <assert.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include "runtime/rootfs-internal.h"
#include "runtime/rootfs.h"
#include "runtime/runtime-util.h"

static int failures;

#define CHECK(cond)                                                                              \
        do {                                                                                     \
                if (!(cond)) {                                                                   \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
                        failures++;                                                              \
                }                                                                                \
        } while (0)

/* 50 layers of about 108 characters each, 5.4 KiB of lowerdir; relative
 * to their parent 71 characters each, 3.6 KiB. */
#define N_LAYERS 50

static char test_dir[] = "/var/tmp/artest-rootfs-XXXXXX";

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        return type == FTW_DP ? rmdir(path) : unlink(path);
}

static bool mountinfo_mentions(const char *path) {
        FILE *f = fopen("/proc/self/mountinfo", "re");
        char line[4096];
        bool found = false;

        assert(f);
        while (fgets(line, sizeof(line), f))
                if (strstr(line, path))
                        found = true;
        fclose(f);
        return found;
}

/* Each layer i holds the file "layer-i" and a file "top" whose content is
 * i, so the merged "top" shows which layer overlayfs put on top. */
static void make_layers(char **layers) {
        for (size_t i = 0; i < N_LAYERS; i++) {
                char path[PATH_MAX], content[16];
                int fd;

                assert(asprintf(&layers[i], "%s/layers/sha256-%064zx", test_dir, i) > 0);
                if (i == 0) {
                        snprintf(path, sizeof(path), "%s/layers", test_dir);
                        assert(mkdir(path, 0755) == 0);
                }
                assert(mkdir(layers[i], 0755) == 0);

                snprintf(path, sizeof(path), "%s/layer-%zu", layers[i], i);
                fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                assert(fd >= 0);
                close(fd);

                snprintf(path, sizeof(path), "%s/top", layers[i]);
                fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                assert(fd >= 0);
                snprintf(content, sizeof(content), "%zu", i);
                assert(write(fd, content, strlen(content)) == (ssize_t)strlen(content));
                close(fd);
        }
}

static void check_merged(const char *merged) {
        char path[PATH_MAX], content[16] = {0}, expected[16];
        int fd;

        snprintf(path, sizeof(path), "%s/layer-0", merged);
        CHECK(access(path, F_OK) == 0);
        snprintf(path, sizeof(path), "%s/layer-%d", merged, N_LAYERS - 1);
        CHECK(access(path, F_OK) == 0);

        snprintf(path, sizeof(path), "%s/top", merged);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        CHECK(fd >= 0);
        if (fd >= 0) {
                CHECK(read(fd, content, sizeof(content) - 1) > 0);
                close(fd);
        }
        snprintf(expected, sizeof(expected), "%d", N_LAYERS - 1);
        CHECK(streq(content, expected));
}

static void test_method(char **layers, RootfsMountMethod method, const char *name, int expected_r) {
        _cleanup_free_ char *merged = NULL, *error = NULL;
        char instance_dir[PATH_MAX];
        int r;

        snprintf(instance_dir, sizeof(instance_dir), "%s/instance-%s", test_dir, name);
        r = rootfs_mount_with(layers, instance_dir, method, &merged, &error);
        if (r != expected_r)
                fprintf(stderr, "method %s: r=%d (%s), expected %d\n", name, r, strna(error), expected_r);
        CHECK(r == expected_r);
        if (r == 0)
                check_merged(merged);
        else
                CHECK(error != NULL);

        CHECK(rootfs_umount(instance_dir) == 0);
        CHECK(!mountinfo_mentions(instance_dir));
        CHECK(access(instance_dir, F_OK) < 0 && errno == ENOENT);
}

static void test_invalid_layers(void) {
        _cleanup_free_ char *merged = NULL, *error = NULL, *error2 = NULL;
        char instance_dir[PATH_MAX];

        snprintf(instance_dir, sizeof(instance_dir), "%s/instance-invalid", test_dir);
        CHECK(rootfs_mount((char *[]){(char *)"/var/lib/a:b", NULL}, instance_dir, &merged, &error) ==
              -EINVAL);
        CHECK(error && strstr(error, "/var/lib/a:b"));
        CHECK(rootfs_mount((char *[]){NULL}, instance_dir, &merged, &error2) == -EINVAL);
        CHECK(!merged);
        CHECK(access(instance_dir, F_OK) < 0);
}

int main(void) {
        char *layers[N_LAYERS + 1] = {0};

        if (geteuid() != 0) {
                fprintf(stderr, "Skipped: needs root to mount overlayfs.\n");
                return 77;
        }

        assert(mkdtemp(test_dir));
        make_layers(layers);

        /* NOTE: ROOTFS_MOUNT_FSCONFIG needs Linux 6.8 or later. */
        test_method(layers, ROOTFS_MOUNT_FSCONFIG, "fsconfig", 0);
        test_method(layers, ROOTFS_MOUNT_LEGACY, "legacy", -E2BIG);
        test_method(layers, ROOTFS_MOUNT_LEGACY_RELATIVE, "relative", 0);
        test_method(layers, ROOTFS_MOUNT_AUTO, "auto", 0);
        test_invalid_layers();

        for (size_t i = 0; i < N_LAYERS; i++)
                free(layers[i]);
        CHECK(nftw(test_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) == 0);
        CHECK(access(test_dir, F_OK) < 0 && errno == ENOENT);

        if (failures > 0) {
                fprintf(stderr, "%d checks failed\n", failures);
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}
