/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Tests of layer_unpack() with layers written by libarchive at test time:
 * hostile layers must be rejected with the entry named and leave nothing
 * behind, and good layers in every compression must give the expected tree,
 * including overlayfs whiteouts. Needs root (mount namespace, mknod,
 * trusted.* xattrs). */

#include <archive.h>
#include <archive_entry.h>
#include <assert.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "image/digest.h"
#include "image/fs-util.h"
#include "macro.h"
#include "image/unpack.h"

typedef struct TestEntry {
        const char *name;
        mode_t type; /* AE_IFREG, AE_IFDIR, ...; 0 for a hardlink */
        const char *data;
        size_t data_size; /* bytes of data (zeros when data is NULL) */
        const char *link; /* symlink target, or hardlink target when type is 0 */
        dev_t rdev;
        const char *xattr_name;
} TestEntry;

static char *base_dir;

static void write_layer(const char *path, int filter, const TestEntry *entries, size_t n) {
        struct archive *a = archive_write_new();
        static char zeros[64 * 1024];

        assert(a);
        assert(archive_write_set_format_pax_restricted(a) == ARCHIVE_OK);
        if (filter == ARCHIVE_FILTER_GZIP)
                assert(archive_write_add_filter_gzip(a) == ARCHIVE_OK);
        else if (filter == ARCHIVE_FILTER_ZSTD)
                assert(archive_write_add_filter_zstd(a) == ARCHIVE_OK);
        assert(archive_write_open_filename(a, path) == ARCHIVE_OK);

        for (size_t i = 0; i < n; i++) {
                struct archive_entry *e = archive_entry_new();
                const TestEntry *t = &entries[i];

                archive_entry_set_pathname(e, t->name);
                archive_entry_set_mtime(e, 1000000, 0);
                archive_entry_set_uid(e, 1000);
                archive_entry_set_gid(e, 1000);
                if (t->type == 0) {
                        archive_entry_set_filetype(e, AE_IFREG);
                        archive_entry_set_perm(e, 0644);
                        archive_entry_set_hardlink(e, t->link);
                        archive_entry_set_size(e, 0);
                } else {
                        archive_entry_set_filetype(e, t->type);
                        archive_entry_set_perm(e, t->type == AE_IFDIR ? 0755 : 0644);
                        if (t->type == AE_IFLNK)
                                archive_entry_set_symlink(e, t->link);
                        if (t->type == AE_IFCHR || t->type == AE_IFBLK)
                                archive_entry_set_rdev(e, t->rdev);
                        archive_entry_set_size(e, t->type == AE_IFREG ? (la_int64_t)t->data_size : 0);
                }
                if (t->xattr_name)
                        archive_entry_xattr_add_entry(e, t->xattr_name, "v", 1);

                assert(archive_write_header(a, e) == ARCHIVE_OK);
                if (t->type == AE_IFREG) {
                        size_t left = t->data_size;
                        while (left > 0) {
                                size_t chunk = MIN(left, sizeof(zeros));
                                const void *p = t->data ? t->data + (t->data_size - left) : zeros;
                                assert(archive_write_data(a, p, chunk) == (la_ssize_t)chunk);
                                left -= chunk;
                        }
                }
                archive_entry_free(e);
        }

        assert(archive_write_close(a) == ARCHIVE_OK);
        archive_write_free(a);
}

/* Counts the names in base_dir, which holds only the layer files and the
 * unpack targets of the current case. */
static size_t count_dir_entries(const char *dir, const char *skip) {
        DIR *d = opendir(dir);
        struct dirent *de;
        size_t n = 0;

        assert(d);
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..") && !streq_ptr(de->d_name, skip))
                        n++;
        closedir(d);
        return n;
}

static int unpack_file(const char *layer, const char *target, const UnpackLimits *limits, char **ret_error) {
        _cleanup_close_ int fd = open(layer, O_RDONLY | O_CLOEXEC);
        assert(fd >= 0);
        return layer_unpack(fd, target, limits, ret_error);
}

typedef struct RejectCase {
        const char *title;
        TestEntry entries[24];
        size_t n_entries;
        UnpackLimits limits;
        const char *expected_entry; /* must appear in the error sentence */
        const char *expected_reason;
} RejectCase;

static void test_reject_case(const RejectCase *t) {
        _cleanup_free_ char *layer = NULL, *target = NULL, *error = NULL;
        struct stat st;
        int r;

        printf("reject: %s\n", t->title);
        assert(asprintf(&layer, "%s/layer.tar", base_dir) >= 0);
        assert(asprintf(&target, "%s/target", base_dir) >= 0);
        write_layer(layer, ARCHIVE_FILTER_GZIP, t->entries, t->n_entries);

        r = unpack_file(layer, target, &t->limits, &error);
        printf("   -> %d %s\n", r, strna(error));
        assert(r < 0);
        assert(error);
        assert(strstr(error, t->expected_entry));
        assert(strstr(error, t->expected_reason));

        /* Nothing left: no target, no temporary directory, nothing on the host. */
        assert(lstat(target, &st) < 0 && errno == ENOENT);
        assert(count_dir_entries(base_dir, "layer.tar") == 0);
        assert(lstat("/etc/apprunner-unpack-test-x", &st) < 0 && errno == ENOENT);
        assert(unlink(layer) == 0);
}

static void test_rejects(void) {
        const RejectCase cases[] = {
                {
                        .title = "parent traversal",
                        .entries = {{"ok", AE_IFREG, "ok", 2}, {"../x", AE_IFREG, "bad", 3}},
                        .n_entries = 2,
                        .expected_entry = "\"../x\"",
                        .expected_reason = "\"..\"",
                },
                {
                        .title = "traversal inside a path",
                        .entries = {{"a/../../x", AE_IFREG, "bad", 3}},
                        .n_entries = 1,
                        .expected_entry = "\"a/../../x\"",
                        .expected_reason = "\"..\"",
                },
                {
                        .title = "absolute path",
                        .entries = {{"/etc/apprunner-unpack-test-x", AE_IFREG, "bad", 3}},
                        .n_entries = 1,
                        .expected_entry = "\"/etc/apprunner-unpack-test-x\"",
                        .expected_reason = "absolute",
                },
                {
                        .title = "write through an escaping symlink",
                        .entries = {{"evil", AE_IFLNK, .link = "/etc"},
                                    {"evil/apprunner-unpack-test-x", AE_IFREG, "bad", 3}},
                        .n_entries = 2,
                        .expected_entry = "\"evil/apprunner-unpack-test-x\"",
                        .expected_reason = "symlink \"evil\"",
                },
                {
                        .title = "write through a relative symlink",
                        .entries = {{"dir", AE_IFDIR},
                                    {"dir/up", AE_IFLNK, .link = "../.."},
                                    {"dir/up/x", AE_IFREG, "bad", 3}},
                        .n_entries = 3,
                        .expected_entry = "\"dir/up/x\"",
                        .expected_reason = "symlink \"dir/up\"",
                },
                {
                        .title = "hardlink to /etc/passwd",
                        .entries = {{"passwd", 0, .link = "/etc/passwd"}},
                        .n_entries = 1,
                        .expected_entry = "\"passwd\"",
                        .expected_reason = "outside the layer or missing",
                },
                {
                        .title = "hardlink through ..",
                        .entries = {{"passwd", 0, .link = "../../../../etc/passwd"}},
                        .n_entries = 1,
                        .expected_entry = "\"passwd\"",
                        .expected_reason = "outside the layer or missing",
                },
                {
                        .title = "hardlink to a missing file",
                        .entries = {{"link", 0, .link = "missing"}},
                        .n_entries = 1,
                        .expected_entry = "\"link\"",
                        .expected_reason = "outside the layer or missing",
                },
                {
                        .title = "character device",
                        .entries = {{"dev/null", AE_IFCHR, .rdev = makedev(1, 3)}},
                        .n_entries = 1,
                        .expected_entry = "\"dev/null\"",
                        .expected_reason = "device nodes",
                },
                {
                        .title = "block device",
                        .entries = {{"sda", AE_IFBLK, .rdev = makedev(8, 0)}},
                        .n_entries = 1,
                        .expected_entry = "\"sda\"",
                        .expected_reason = "device nodes",
                },
                {
                        .title = "FIFO",
                        .entries = {{"fifo", AE_IFIFO}},
                        .n_entries = 1,
                        .expected_entry = "\"fifo\"",
                        .expected_reason = "FIFOs",
                },
                {
                        .title = "size bomb",
                        .entries = {{"small", AE_IFREG, "x", 1}, {"bomb", AE_IFREG, NULL, 4u << 20}},
                        .n_entries = 2,
                        .limits = {.max_size = 1u << 20},
                        .expected_entry = "\"bomb\"",
                        .expected_reason = "maximum of 1048576 bytes",
                },
                {
                        .title = "too many entries",
                        .entries = {{"d", AE_IFDIR},
                                    {"d/1", AE_IFREG, "1", 1},
                                    {"d/2", AE_IFREG, "2", 1},
                                    {"d/3", AE_IFREG, "3", 1},
                                    {"d/4", AE_IFREG, "4", 1}},
                        .n_entries = 5,
                        .limits = {.max_entries = 4},
                        .expected_entry = "\"d/4\"",
                        .expected_reason = "more than 4 entries",
                },
                {
                        .title = "whiteout without a name",
                        .entries = {{"a/.wh..", AE_IFREG, "", 0}},
                        .n_entries = 1,
                        .expected_entry = "\"a/.wh..\"",
                        .expected_reason = "names no file",
                },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                test_reject_case(&cases[i]);
}

static const TestEntry good_entries[] = {
        {"./", AE_IFDIR},
        {"./bin", AE_IFDIR},
        {"./bin/busybox", AE_IFREG, "#!busybox\n", 10, .xattr_name = "user.apprunner"},
        {"./bin/sh", AE_IFLNK, .link = "/bin/busybox"},
        {"./bin/ls", 0, .link = "./bin/busybox"},
        {"./etc/hostname", AE_IFREG, "host\n", 5, .xattr_name = "trusted.overlay.redirect"},
        {"./etc/.wh.passwd", AE_IFREG, "", 0},
        {"./var/lib/.wh..wh..opq", AE_IFREG, "", 0},
        {"./var/lib/keep", AE_IFREG, "k", 1},
};

static void check_good_tree(const char *target) {
        char buffer[64];
        struct stat st, st2;
        ssize_t n;

        assert(chdir(target) == 0);

        assert(lstat("bin/busybox", &st) == 0);
        assert(S_ISREG(st.st_mode));
        assert(st.st_size == 10);
        assert(st.st_uid == 1000);
        assert((st.st_mode & 07777) == 0644);
        assert(lgetxattr("bin/busybox", "user.apprunner", buffer, sizeof(buffer)) == 1);

        assert(lstat("bin/ls", &st2) == 0);
        assert(st2.st_ino == st.st_ino);

        n = readlink("bin/sh", buffer, sizeof(buffer) - 1);
        assert(n == (ssize_t)strlen("/bin/busybox"));
        buffer[n] = 0;
        assert(streq(buffer, "/bin/busybox"));

        /* trusted.* xattrs from the archive are dropped. */
        assert(lgetxattr("etc/hostname", "trusted.overlay.redirect", buffer, sizeof(buffer)) < 0);

        assert(lstat("etc/passwd", &st) == 0);
        assert(S_ISCHR(st.st_mode));
        assert(st.st_rdev == makedev(0, 0));
        assert(lstat("etc/.wh.passwd", &st) < 0 && errno == ENOENT);

        n = lgetxattr("var/lib", "trusted.overlay.opaque", buffer, sizeof(buffer));
        assert(n == 1 && buffer[0] == 'y');
        assert(lstat("var/lib/.wh..wh..opq", &st) < 0 && errno == ENOENT);
        assert(lstat("var/lib/keep", &st) == 0);

        assert(lstat(".", &st) == 0);
        assert((st.st_mode & 07777) == 0755);
        assert(chdir("/") == 0);
}

static void test_good_layers(void) {
        const int filters[] = {ARCHIVE_FILTER_NONE, ARCHIVE_FILTER_GZIP, ARCHIVE_FILTER_ZSTD};
        _cleanup_free_ char *plain = NULL, *layer = NULL, *target = NULL, *data = NULL;
        char diff_id[DIGEST_STRING_SIZE];
        size_t size;

        assert(asprintf(&plain, "%s/plain.tar", base_dir) >= 0);
        assert(asprintf(&layer, "%s/layer", base_dir) >= 0);
        assert(asprintf(&target, "%s/target", base_dir) >= 0);

        write_layer(plain, ARCHIVE_FILTER_NONE, good_entries, ELEMENTSOF(good_entries));
        assert(read_full_file(AT_FDCWD, plain, 1 << 20, &data, &size) == 0);
        assert(digest_buffer(data, size, diff_id) == 0);

        for (size_t i = 0; i < ELEMENTSOF(filters); i++) {
                _cleanup_free_ char *error = NULL;
                UnpackLimits limits = {.max_size = 1 << 20, .max_entries = 100, .diff_id = diff_id};

                printf("good layer, filter %d\n", filters[i]);
                write_layer(layer, filters[i], good_entries, ELEMENTSOF(good_entries));
                assert(unpack_file(layer, target, &limits, &error) == 0);
                assert(!error);
                check_good_tree(target);

                /* An existing target is never overwritten. */
                assert(unpack_file(layer, target, &limits, &error) == -EEXIST);

                assert(rm_rf(target) == 0);
                assert(unlink(layer) == 0);
        }

        assert(unlink(plain) == 0);
        assert(count_dir_entries(base_dir, NULL) == 0);
}

static void test_diff_id_mismatch(void) {
        _cleanup_free_ char *layer = NULL, *target = NULL, *error = NULL;
        UnpackLimits limits = {
                .diff_id = "sha256:0000000000000000000000000000000000000000000000000000000000000000",
        };

        assert(asprintf(&layer, "%s/layer", base_dir) >= 0);
        assert(asprintf(&target, "%s/target", base_dir) >= 0);
        write_layer(layer, ARCHIVE_FILTER_ZSTD, good_entries, ELEMENTSOF(good_entries));

        assert(unpack_file(layer, target, &limits, &error) == -EBADMSG);
        printf("diff_id mismatch -> %s\n", error);
        assert(strstr(error, "diff_id mismatch"));
        assert(unlink(layer) == 0);
        assert(count_dir_entries(base_dir, NULL) == 0);
}

static void test_not_a_tar(void) {
        _cleanup_free_ char *layer = NULL, *target = NULL, *error = NULL;
        _cleanup_close_ int fd = -1;
        UnpackLimits limits = {};

        assert(asprintf(&layer, "%s/layer", base_dir) >= 0);
        assert(asprintf(&target, "%s/target", base_dir) >= 0);
        fd = open(layer, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        assert(fd >= 0);
        assert(write(fd, "not a tar archive, just text\n", 29) == 29);

        assert(unpack_file(layer, target, &limits, &error) < 0);
        printf("not a tar -> %s\n", error);
        assert(error);
        assert(unlink(layer) == 0);
        assert(count_dir_entries(base_dir, NULL) == 0);
}

int main(void) {
        char template[] = "/tmp/test-unpack-XXXXXX";

        if (geteuid() != 0) {
                printf("skipping: needs root\n");
                return 77;
        }

        base_dir = mkdtemp(template);
        assert(base_dir);

        test_rejects();
        test_good_layers();
        test_diff_id_mismatch();
        test_not_a_tar();

        assert(rmdir(base_dir) == 0);
        return 0;
}
