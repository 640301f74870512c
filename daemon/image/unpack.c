/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Sandboxed layer unpacking.
 *
 * Layers come from registries and image layouts the daemon does not
 * control, so every archive is treated as hostile. Defences, outermost
 * first:
 *
 *  1. A forked child does the work. It enters a private mount namespace,
 *     chroots into a fresh temporary directory, sets no_new_privs and loads
 *     a libseccomp allow-list (file system calls only; mknod only for 0:0
 *     character devices; everything else fails with EPERM). Even a bug in
 *     libarchive or a decompressor can then only write below that
 *     directory.
 *  2. Before libarchive sees an entry, the child checks it: no absolute
 *     path, no ".." component, no existing symlink or non-directory among
 *     its parents, no device node, FIFO or socket, hardlinks only to a file
 *     already unpacked in this layer, the entry count and byte totals
 *     within the limits, and only user.* and security.capability xattrs.
 *  3. libarchive extracts with ARCHIVE_EXTRACT_SECURE_NODOTDOT,
 *     SECURE_SYMLINKS and SECURE_NOABSOLUTEPATHS as a second check.
 *  4. When a diff_id is given, a first pass hashes the uncompressed stream
 *     and rejects the layer before anything is extracted.
 *
 * The child reports failures through a pipe as a positive errno followed
 * by a sentence. The parent renames the temporary directory into place
 * only when the child exited 0, and removes it otherwise. */

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include "digest.h"
#include "fs-util.h"
#include "macro.h"
#include "unpack.h"

#define ERROR_TEXT_MAX       1024
#define READ_BLOCK_SIZE      (64 * 1024)
#define WHITEOUT_PREFIX      ".wh."
#define OPAQUE_WHITEOUT      ".wh..wh..opq"
#define OVERLAY_OPAQUE_XATTR "trusted.overlay.opaque"

typedef struct Child {
        int blob_fd;
        int error_fd;
        const UnpackLimits *limits;
        EVP_MD_CTX *hash; /* initialized by the parent, NULL when no diff_id is checked */
        uint64_t total_size;
        uint64_t n_entries;
} Child;

/* Sends error (positive errno) and the formatted sentence to the parent
 * and exits. Only called in the child. */
_printf_(3, 4) _noreturn_ static void child_fail(const Child *c, int error, const char *format, ...) {
        char buffer[sizeof(int) + ERROR_TEXT_MAX];
        va_list ap;
        int n;

        memcpy(buffer, &error, sizeof(int));
        va_start(ap, format);
        n = vsnprintf(buffer + sizeof(int), ERROR_TEXT_MAX, format, ap);
        va_end(ap);
        if (n < 0)
                n = 0;

        (void)!write(c->error_fd, buffer, sizeof(int) + (size_t)MIN(n, ERROR_TEXT_MAX - 1));
        _exit(EXIT_FAILURE);
}

/* Closes every descriptor except 0-2, a and b. */
static void close_all_except(int a, int b) {
        int lo = MIN(a, b), hi = MAX(a, b);

        if (lo > 3)
                (void)close_range(3, (unsigned)lo - 1, 0);
        if (hi > lo + 1)
                (void)close_range((unsigned)lo + 1, (unsigned)hi - 1, 0);
        (void)close_range((unsigned)hi + 1, UINT_MAX, 0);
}

static const char *const allowed_syscalls[] = {
        /* memory, signals, process bookkeeping (libc, libarchive, sanitizers) */
        "brk",
        "mmap",
        "munmap",
        "mremap",
        "mprotect",
        "madvise",
        "exit",
        "exit_group",
        "rt_sigaction",
        "rt_sigprocmask",
        "rt_sigreturn",
        "sigaltstack",
        "getpid",
        "gettid",
        "getuid",
        "geteuid",
        "getgid",
        "getegid",
        "clock_gettime",
        "gettimeofday",
        "futex",
        "getrandom",
        "sched_yield",
        "umask",
        "prlimit64",
        "getrlimit",
        /* descriptors */
        "read",
        "write",
        "readv",
        "writev",
        "pread64",
        "pwrite64",
        "lseek",
        "close",
        "fcntl",
        "ftruncate",
        "fallocate",
        "fsync",
        "fdatasync",
        "dup",
        "dup3",
        /* file system, relative to the chroot */
        "openat",
        "open",
        "fstat",
        "newfstatat",
        "lstat",
        "stat",
        "statx",
        "access",
        "faccessat",
        "faccessat2",
        "getdents64",
        "getcwd",
        "chdir",
        "fchdir",
        "mkdir",
        "mkdirat",
        "rmdir",
        "unlink",
        "unlinkat",
        "rename",
        "renameat",
        "renameat2",
        "symlink",
        "symlinkat",
        "link",
        "linkat",
        "readlink",
        "readlinkat",
        "chmod",
        "fchmod",
        "fchmodat",
        "chown",
        "fchown",
        "lchown",
        "fchownat",
        "utimensat",
        "utimes",
        "utime",
        "futimesat",
        "setxattr",
        "lsetxattr",
        "fsetxattr",
        "getxattr",
        "lgetxattr",
        "fgetxattr",
        "listxattr",
        "llistxattr",
        "flistxattr",
};

static int seccomp_install(void) {
        scmp_filter_ctx ctx;
        int r;

        ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
        if (!ctx)
                return -ENOMEM;

        for (size_t i = 0; i < ELEMENTSOF(allowed_syscalls); i++) {
                int nr = seccomp_syscall_resolve_name(allowed_syscalls[i]);
                if (nr == __NR_SCMP_ERROR)
                        continue; /* not on this architecture */
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
                if (r < 0)
                        goto finish;
        }

        /* Whiteouts are 0:0 character devices; no other node may be created. */
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mknodat), 2,
                             SCMP_A2(SCMP_CMP_MASKED_EQ, S_IFMT, S_IFCHR), SCMP_A3(SCMP_CMP_EQ, 0));
        if (r < 0)
                goto finish;
        if (seccomp_syscall_resolve_name("mknod") != __NR_SCMP_ERROR) {
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mknod), 2,
                                     SCMP_A1(SCMP_CMP_MASKED_EQ, S_IFMT, S_IFCHR), SCMP_A2(SCMP_CMP_EQ, 0));
                if (r < 0)
                        goto finish;
        }

        r = seccomp_load(ctx);
finish:
        seccomp_release(ctx);
        return r;
}

/* Returns why a tar path is rejected, or NULL. */
static const char *path_reject_reason(const char *path) {
        if (path[0] == '/')
                return "the path is absolute";

        for (const char *p = path; *p;) {
                size_t n = strcspn(p, "/");
                if (n == 2 && p[0] == '.' && p[1] == '.')
                        return "the path contains a \"..\" component";
                p += n;
                p += strspn(p, "/");
        }
        return NULL;
}

/* Drops "." and empty components: "./a//b/" becomes "a/b", "./" becomes "". */
static char *path_normalize(const char *path) {
        char *out = malloc(strlen(path) + 1), *o = out;
        if (!out)
                return NULL;

        for (const char *p = path; *p;) {
                size_t n = strcspn(p, "/");
                if (n > 0 && !(n == 1 && p[0] == '.')) {
                        if (o != out)
                                *o++ = '/';
                        memcpy(o, p, n);
                        o += n;
                }
                p += n;
                p += strspn(p, "/");
        }
        *o = 0;
        return out;
}

/* Checks the existing parents of a normalized path: each must be a real
 * directory, never a symlink. Returns NULL or a reason in buffer. */
static const char *parents_reject_reason(const char *path, char *buffer, size_t size) {
        _cleanup_free_ char *p = strdup(path);
        struct stat st;

        if (!p)
                return "out of memory";

        for (char *s = strchr(p, '/'); s; s = strchr(s + 1, '/')) {
                *s = 0;
                if (lstat(p, &st) < 0) {
                        if (errno == ENOENT)
                                return NULL; /* nothing deeper exists either */
                        snprintf(buffer, size, "parent \"%s\" cannot be inspected: %s", p, strerror(errno));
                        return buffer;
                }
                if (S_ISLNK(st.st_mode)) {
                        snprintf(buffer, size, "the path goes through the symlink \"%s\"", p);
                        return buffer;
                }
                if (!S_ISDIR(st.st_mode)) {
                        snprintf(buffer, size, "parent \"%s\" is not a directory", p);
                        return buffer;
                }
                *s = '/';
        }
        return NULL;
}

static int mkdir_parents(const char *path) {
        _cleanup_free_ char *p = strdup(path);
        if (!p)
                return -ENOMEM;

        for (char *s = strchr(p, '/'); s; s = strchr(s + 1, '/')) {
                *s = 0;
                if (mkdir(p, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        return 0;
}

/* Hashes and measures the uncompressed stream before anything is written. */
static void child_verify_stream(Child *c) {
        struct archive *a = archive_read_new();
        struct archive_entry *e;
        char actual[DIGEST_STRING_SIZE];
        uint64_t total = 0;
        char buffer[READ_BLOCK_SIZE];

        if (!a)
                child_fail(c, ENOMEM, "Out of memory.");
        archive_read_support_filter_gzip(a);
        archive_read_support_filter_zstd(a);
        archive_read_support_format_raw(a);

        if (archive_read_open_fd(a, c->blob_fd, READ_BLOCK_SIZE) != ARCHIVE_OK ||
            archive_read_next_header(a, &e) != ARCHIVE_OK)
                child_fail(c, EBADMSG, "Layer cannot be decompressed: %s.", strna(archive_error_string(a)));

        for (;;) {
                la_ssize_t n = archive_read_data(a, buffer, sizeof(buffer));
                if (n < 0)
                        child_fail(c, EBADMSG, "Layer cannot be decompressed: %s.",
                                   strna(archive_error_string(a)));
                if (n == 0)
                        break;

                total += (uint64_t)n;
                if (c->limits->max_size > 0 && total > c->limits->max_size)
                        child_fail(c, EFBIG,
                                   "Layer is larger than the maximum of %" PRIu64 " uncompressed bytes.",
                                   c->limits->max_size);
                if (EVP_DigestUpdate(c->hash, buffer, (size_t)n) != 1)
                        child_fail(c, EIO, "Failed to hash the layer.");
        }

        if (sha256_context_finish(c->hash, actual) < 0)
                child_fail(c, EIO, "Failed to hash the layer.");
        if (!streq(actual, c->limits->diff_id))
                child_fail(c, EBADMSG, "Layer diff_id mismatch: expected %s, the uncompressed layer has %s.",
                           c->limits->diff_id, actual);

        archive_read_free(a);
}

static bool xattr_is_allowed(const char *name) {
        /* trusted.overlay.* would let a layer steer overlayfs (redirects,
         * metacopy); security.selinux and ACLs belong to the host. */
        return strncmp(name, "user.", 5) == 0 || streq(name, "security.capability");
}

static void child_filter_xattrs(Child *c, struct archive_entry *e) {
        struct {
                char *name;
                void *value;
                size_t size;
        } kept[64];
        size_t n_kept = 0;
        const char *name;
        const void *value;
        size_t size;

        if (archive_entry_xattr_reset(e) == 0)
                return;

        while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
                if (!xattr_is_allowed(name) || n_kept >= ELEMENTSOF(kept))
                        continue;
                kept[n_kept].name = strdup(name);
                kept[n_kept].value = malloc(MAX(size, 1U));
                if (!kept[n_kept].name || !kept[n_kept].value)
                        child_fail(c, ENOMEM, "Out of memory.");
                memcpy(kept[n_kept].value, value, size);
                kept[n_kept].size = size;
                n_kept++;
        }

        archive_entry_xattr_clear(e);
        for (size_t i = 0; i < n_kept; i++) {
                archive_entry_xattr_add_entry(e, kept[i].name, kept[i].value, kept[i].size);
                free(kept[i].name);
                free(kept[i].value);
        }
}

/* Turns ".wh.NAME" and ".wh..wh..opq" into their overlayfs form. */
static void child_apply_whiteout(Child *c, const char *entry_name, const char *path) {
        const char *slash = strrchr(path, '/');
        const char *base = slash ? slash + 1 : path;
        _cleanup_free_ char *dir = slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
        _cleanup_free_ char *target = NULL;
        struct stat st;
        int r;

        if (!dir)
                child_fail(c, ENOMEM, "Out of memory.");

        r = mkdir_parents(path);
        if (r < 0)
                child_fail(c, -r, "Layer entry \"%s\": failed to create its parent directories: %s.",
                           entry_name, strerror(-r));

        if (streq(base, OPAQUE_WHITEOUT)) {
                if (lsetxattr(dir, OVERLAY_OPAQUE_XATTR, "y", 1, 0) < 0)
                        child_fail(c, errno, "Layer entry \"%s\": failed to set %s on \"%s\": %s.",
                                   entry_name, OVERLAY_OPAQUE_XATTR, dir, strerror(errno));
                return;
        }

        const char *name = base + strlen(WHITEOUT_PREFIX);
        if (name[0] == 0 || streq(name, ".") || streq(name, ".."))
                child_fail(c, EBADMSG, "Layer entry \"%s\" rejected: the whiteout names no file.",
                           entry_name);

        if (asprintf(&target, "%s/%s", dir, name) < 0)
                child_fail(c, ENOMEM, "Out of memory.");

        /* A whiteout hides a file of a lower layer. When this layer holds the
         * same name too, the layer's own file wins (OCI image spec, "Whiteouts"). */
        if (lstat(target, &st) == 0)
                return;

        if (mknod(target, S_IFCHR | 0000, makedev(0, 0)) < 0)
                child_fail(c, errno, "Layer entry \"%s\": failed to create the overlayfs whiteout: %s.",
                           entry_name, strerror(errno));
}

static void child_check_hardlink(Child *c, const char *entry_name, const char *link, char **ret_normalized) {
        _cleanup_free_ char *target = NULL;
        char reason_buffer[PATH_MAX + 64];
        struct stat st;

        if (path_reject_reason(link))
                goto reject;

        target = path_normalize(link);
        if (!target)
                child_fail(c, ENOMEM, "Out of memory.");
        if (target[0] == 0 || parents_reject_reason(target, reason_buffer, sizeof(reason_buffer)))
                goto reject;
        if (lstat(target, &st) < 0 || S_ISDIR(st.st_mode))
                goto reject;

        *ret_normalized = TAKE_PTR(target);
        return;

reject:
        child_fail(
                c, EBADMSG,
                "Layer entry \"%s\" rejected: the hardlink target \"%s\" is outside the layer or missing.",
                entry_name, link);
}

static void child_copy_data(Child *c, struct archive *a, struct archive *w, const char *entry_name) {
        for (;;) {
                const void *block;
                size_t size;
                la_int64_t offset;
                int r;

                r = archive_read_data_block(a, &block, &size, &offset);
                if (r == ARCHIVE_EOF)
                        return;
                if (r < ARCHIVE_WARN)
                        child_fail(c, EBADMSG, "Layer entry \"%s\" cannot be read: %s.", entry_name,
                                   strna(archive_error_string(a)));

                c->total_size += size;
                if (c->limits->max_size > 0 && c->total_size > c->limits->max_size)
                        child_fail(c, EFBIG,
                                   "Layer entry \"%s\" rejected: the layer exceeds the maximum of %" PRIu64
                                   " bytes.",
                                   entry_name, c->limits->max_size);

                if (archive_write_data_block(w, block, size, offset) < ARCHIVE_WARN)
                        child_fail(c, EIO, "Layer entry \"%s\" cannot be written: %s.", entry_name,
                                   strna(archive_error_string(w)));
        }
}

static void child_extract_entry(Child *c, struct archive *a, struct archive *w, struct archive_entry *e) {
        const char *entry_name = archive_entry_pathname(e);
        const char *reason, *link;
        _cleanup_free_ char *path = NULL, *link_path = NULL;
        char reason_buffer[PATH_MAX + 64];

        if (!entry_name)
                child_fail(c, EBADMSG, "Layer entry number %" PRIu64 " rejected: it has no name.",
                           c->n_entries);

        if (c->limits->max_entries > 0 && c->n_entries > c->limits->max_entries)
                child_fail(c, EFBIG,
                           "Layer entry \"%s\" rejected: the layer has more than %" PRIu64 " entries.",
                           entry_name, c->limits->max_entries);

        reason = path_reject_reason(entry_name);
        if (reason)
                child_fail(c, EBADMSG, "Layer entry \"%s\" rejected: %s.", entry_name, reason);

        path = path_normalize(entry_name);
        if (!path)
                child_fail(c, ENOMEM, "Out of memory.");
        if (path[0] == 0)
                return; /* the layer's root directory, which the parent creates */

        link = archive_entry_hardlink(e);
        switch (link ? AE_IFREG : archive_entry_filetype(e)) {
        case AE_IFREG:
        case AE_IFDIR:
        case AE_IFLNK:
                break;
        case AE_IFCHR:
        case AE_IFBLK:
                child_fail(c, EBADMSG, "Layer entry \"%s\" rejected: device nodes are not allowed.",
                           entry_name);
        case AE_IFIFO:
                child_fail(c, EBADMSG, "Layer entry \"%s\" rejected: FIFOs are not allowed.", entry_name);
        case AE_IFSOCK:
                child_fail(c, EBADMSG, "Layer entry \"%s\" rejected: sockets are not allowed.", entry_name);
        default:
                child_fail(c, EBADMSG, "Layer entry \"%s\" rejected: its file type is not supported.",
                           entry_name);
        }

        reason = parents_reject_reason(path, reason_buffer, sizeof(reason_buffer));
        if (reason)
                child_fail(c, EBADMSG, "Layer entry \"%s\" rejected: %s.", entry_name, reason);

        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        if (strncmp(base, WHITEOUT_PREFIX, strlen(WHITEOUT_PREFIX)) == 0) {
                child_apply_whiteout(c, entry_name, path);
                return;
        }

        if (link) {
                child_check_hardlink(c, entry_name, link, &link_path);
                archive_entry_set_hardlink(e, link_path);
        }

        if (archive_entry_size_is_set(e) && archive_entry_size(e) > 0) {
                uint64_t size = (uint64_t)archive_entry_size(e);
                if (c->limits->max_size > 0 &&
                    size > c->limits->max_size - MIN(c->total_size, c->limits->max_size))
                        child_fail(c, EFBIG,
                                   "Layer entry \"%s\" rejected: the layer exceeds the maximum of %" PRIu64
                                   " bytes.",
                                   entry_name, c->limits->max_size);
        }

        child_filter_xattrs(c, e);
        archive_entry_set_pathname(e, path);

        if (archive_write_header(w, e) < ARCHIVE_WARN)
                child_fail(c, EIO, "Layer entry \"%s\" cannot be written: %s.", entry_name,
                           strna(archive_error_string(w)));

        if (archive_entry_size(e) > 0)
                child_copy_data(c, a, w, entry_name);

        if (archive_write_finish_entry(w) < ARCHIVE_WARN)
                child_fail(c, EIO, "Layer entry \"%s\" cannot be written: %s.", entry_name,
                           strna(archive_error_string(w)));
}

static void child_extract(Child *c) {
        struct archive *a = archive_read_new();
        struct archive *w = archive_write_disk_new();
        struct archive_entry *e;

        if (!a || !w)
                child_fail(c, ENOMEM, "Out of memory.");

        archive_read_support_filter_gzip(a);
        archive_read_support_filter_zstd(a);
        archive_read_support_format_tar(a);

        /* Owners stay numeric: no name lookup, because the image's
         * /etc/passwd is not the host's. */
        archive_write_disk_set_options(w, ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                                  ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS |
                                                  ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER |
                                                  ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR);

        if (archive_read_open_fd(a, c->blob_fd, READ_BLOCK_SIZE) != ARCHIVE_OK)
                child_fail(c, EBADMSG, "Layer is not a tar archive: %s.", strna(archive_error_string(a)));

        for (;;) {
                int r = archive_read_next_header(a, &e);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN)
                        child_fail(c, EBADMSG,
                                   "Layer is not a valid tar archive after %" PRIu64 " entries: %s.",
                                   c->n_entries, strna(archive_error_string(a)));

                c->n_entries++;
                child_extract_entry(c, a, w, e);
        }

        /* Closing applies the deferred permissions and times of directories. */
        if (archive_write_close(w) < ARCHIVE_WARN)
                child_fail(c, EIO, "Failed to finish the layer's directories: %s.",
                           strna(archive_error_string(w)));

        archive_write_free(w);
        archive_read_free(a);
}

_noreturn_ static void child_run(Child *c, const char *tmp_dir) {
        close_all_except(c->blob_fd, c->error_fd);

        if (unshare(CLONE_NEWNS) < 0)
                child_fail(c, errno, "Failed to create a mount namespace for unpacking: %s.",
                           strerror(errno));
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                child_fail(c, errno, "Failed to make mounts private for unpacking: %s.", strerror(errno));
        if (chdir(tmp_dir) < 0 || chroot(".") < 0 || chdir("/") < 0)
                child_fail(c, errno, "Failed to chroot into %s: %s.", tmp_dir, strerror(errno));
        umask(022);

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                child_fail(c, errno, "Failed to set no_new_privs: %s.", strerror(errno));
        int r = seccomp_install();
        if (r < 0)
                child_fail(c, -r, "Failed to install the seccomp filter: %s.", strerror(-r));

        if (c->hash) {
                child_verify_stream(c);
                if (lseek(c->blob_fd, 0, SEEK_SET) < 0)
                        child_fail(c, errno, "Failed to rewind the layer: %s.", strerror(errno));
        }

        child_extract(c);
        _exit(EXIT_SUCCESS);
}

static int set_error(char **ret_error, const char *text) {
        if (!ret_error)
                return 0;
        free(*ret_error);
        *ret_error = strdup(text);
        return *ret_error ? 0 : -ENOMEM;
}

/* Reads the child's report until EOF. */
static size_t read_report(int fd, char *buffer, size_t size) {
        size_t n = 0;

        while (n < size) {
                ssize_t k = read(fd, buffer + n, size - n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                n += (size_t)k;
        }
        return n;
}

int layer_unpack(int blob_fd, const char *target_dir, const UnpackLimits *limits, char **ret_error) {
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *hash = NULL;
        _cleanup_free_ char *tmp_dir = NULL;
        _cleanup_close_ int read_fd = -1, write_fd = -1;
        char report[sizeof(int) + ERROR_TEXT_MAX];
        struct stat st;
        int pipe_fds[2], status, r;
        size_t n;
        pid_t pid;

        if (lstat(target_dir, &st) == 0)
                return -EEXIST;
        if (errno != ENOENT)
                return -errno;

        /* The hash context is set up here: the child avoids OpenSSL's global
         * state, whose locks another thread may hold at fork(). */
        if (limits->diff_id) {
                if (!digest_is_valid(limits->diff_id))
                        return -EINVAL;
                r = sha256_context_new(&hash);
                if (r < 0)
                        return r;
        }

        if (asprintf(&tmp_dir, "%s.tmp-XXXXXX", target_dir) < 0)
                return -ENOMEM;
        if (!mkdtemp(tmp_dir))
                return -errno;

        if (pipe2(pipe_fds, O_CLOEXEC) < 0) {
                r = -errno;
                goto fail;
        }
        read_fd = pipe_fds[0];
        write_fd = pipe_fds[1];

        /* NOTE: the child runs libarchive after fork() without exec(). glibc
         * keeps malloc usable there; a lock held by another thread elsewhere
         * in libc (iconv, locale) at fork() time would hang the child. */
        pid = fork();
        if (pid < 0) {
                r = -errno;
                goto fail;
        }
        if (pid == 0) {
                Child c = {
                        .blob_fd = blob_fd,
                        .error_fd = write_fd,
                        .limits = limits,
                        .hash = hash,
                };
                child_run(&c, tmp_dir);
        }

        close(write_fd);
        write_fd = -1;
        n = read_report(read_fd, report, sizeof(report) - 1);

        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR) {
                        r = -errno;
                        goto fail;
                }

        if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && n == 0) {
                if (chmod(tmp_dir, 0755) < 0) {
                        r = -errno;
                        goto fail;
                }
                if (renameat2(AT_FDCWD, tmp_dir, AT_FDCWD, target_dir, RENAME_NOREPLACE) < 0) {
                        r = errno == ENOTEMPTY ? -EEXIST : -errno;
                        goto fail;
                }
                return 0;
        }

        if (n >= sizeof(int)) {
                int error;

                memcpy(&error, report, sizeof(int));
                report[n] = 0;
                r = error > 0 ? -error : -EIO;
                (void)set_error(ret_error, report + sizeof(int));
        } else if (WIFSIGNALED(status)) {
                char text[128];

                snprintf(text, sizeof(text), "The layer unpacking process was killed by signal %d.",
                         WTERMSIG(status));
                (void)set_error(ret_error, text);
                r = -EIO;
        } else {
                (void)set_error(ret_error, "The layer unpacking process failed without a report.");
                r = -EIO;
        }

fail:
        (void)rm_rf(tmp_dir);
        return r;
}
