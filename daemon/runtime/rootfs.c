/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <fcntl.h>
#include <ftw.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "log.h"
#include "rootfs-internal.h"
#include "rootfs.h"
#include "runtime-util.h"

static size_t strv_length(char *const *l) {
        size_t n = 0;

        while (l && l[n])
                n++;
        return n;
}

/* overlayfs separates lower directories with ':' and options with ',', and
 * escapes both with '\'. Image store paths do not contain them, so they are
 * rejected rather than escaped. */
static int check_layer_dirs(char *const *layer_dirs, char **ret_error) {
        if (strv_length(layer_dirs) == 0)
                return error_set(ret_error, -EINVAL, "The image has no layers to mount.");

        for (size_t i = 0; layer_dirs[i]; i++) {
                const char *d = layer_dirs[i];

                if (d[0] != '/')
                        return error_set(ret_error, -EINVAL,
                                         "Layer directory \"%s\" is not an absolute path.", d);
                if (strpbrk(d, ":,\\"))
                        return error_set(ret_error, -EINVAL,
                                         "Layer directory \"%s\" contains ':', ',' or '\\', which overlayfs "
                                         "options cannot hold.",
                                         d);
        }
        return 0;
}

static int mkdir_ok_if_exists(const char *path, mode_t mode) {
        if (mkdir(path, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

/* Appends the kernel's messages about a failed fsconfig() call, which
 * overlayfs writes to the file system context ("e overlay: ..."). */
static void read_fs_context_messages(int fs_fd, char *buffer, size_t size) {
        size_t used = 0;

        buffer[0] = '\0';
        for (;;) {
                char line[512];
                ssize_t n;

                n = read(fs_fd, line, sizeof(line) - 1);
                if (n <= 0)
                        break;
                line[n] = '\0';
                used += (size_t)snprintf(buffer + used, size - MIN(used, size), "%s%s", used > 0 ? "; " : "",
                                         line);
                if (used >= size)
                        break;
        }
}

/* Returns -EOPNOTSUPP when the kernel has no "lowerdir+" parameter (before
 * Linux 6.8) or rejects the overlay with EINVAL, so the caller can fall
 * back to mount(2). */
static int mount_fsconfig(char *const *layer_dirs, const char *upper, const char *work, const char *merged,
                          char **ret_error) {
        _cleanup_close_ int fs_fd = -1, mount_fd = -1;
        char messages[1024];
        size_t n = strv_length(layer_dirs);

        fs_fd = fsopen("overlay", FSOPEN_CLOEXEC);
        if (fs_fd < 0)
                return errno == ENOSYS ? -EOPNOTSUPP : -errno;

        /* overlayfs wants the top layer first. */
        for (size_t i = n; i > 0; i--)
                if (fsconfig(fs_fd, FSCONFIG_SET_STRING, "lowerdir+", layer_dirs[i - 1], 0) < 0) {
                        int r = -errno;

                        if (i == n && r == -EINVAL)
                                return -EOPNOTSUPP;
                        read_fs_context_messages(fs_fd, messages, sizeof(messages));
                        return error_set(ret_error, r, "Failed to add layer %s to the overlay: %s (%s).",
                                         layer_dirs[i - 1], strerror(-r), messages);
                }

        if (fsconfig(fs_fd, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0 ||
            fsconfig(fs_fd, FSCONFIG_SET_STRING, "workdir", work, 0) < 0 ||
            fsconfig(fs_fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
                int r = -errno;

                /* Before Linux 6.5 overlayfs has no fs_context of its own: the
                 * kernel accepts every parameter above as a legacy mount option
                 * and only the create step rejects "lowerdir+" with EINVAL. The
                 * fallback mount(2) then reports any other invalid option. */
                if (r == -EINVAL) {
                        log_debug("overlayfs rejected the new mount API for %s, falling back to mount(2).",
                                  merged);
                        return -EOPNOTSUPP;
                }

                read_fs_context_messages(fs_fd, messages, sizeof(messages));
                return error_set(ret_error, r, "Failed to create the overlay for %s: %s (%s).", merged,
                                 strerror(-r), messages);
        }

        mount_fd = fsmount(fs_fd, FSMOUNT_CLOEXEC, 0);
        if (mount_fd < 0)
                return error_set(ret_error, -errno, "Failed to create the overlay mount for %s: %s.", merged,
                                 strerror(errno));

        if (move_mount(mount_fd, "", AT_FDCWD, merged, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return error_set(ret_error, -errno, "Failed to attach the overlay at %s: %s.", merged,
                                 strerror(errno));

        return 0;
}

/* Builds "lowerdir=TOP:...:BOTTOM,upperdir=U,workdir=W". With a non-NULL
 * parent, lower directories are written relative to it. */
static char *build_legacy_options(char *const *layer_dirs, const char *parent, const char *upper,
                                  const char *work) {
        size_t n = strv_length(layer_dirs), skip = parent ? strlen(parent) + 1 : 0, size;
        char *options, *p;

        size = strlen("lowerdir=,upperdir=,workdir=") + strlen(upper) + strlen(work) + 1;
        for (size_t i = 0; i < n; i++)
                size += strlen(layer_dirs[i]) + 1;

        options = malloc(size);
        if (!options)
                return NULL;

        p = stpcpy(options, "lowerdir=");
        for (size_t i = n; i > 0; i--) {
                p = stpcpy(p, layer_dirs[i - 1] + skip);
                if (i > 1)
                        *p++ = ':';
        }
        sprintf(p, ",upperdir=%s,workdir=%s", upper, work);
        return options;
}

/* Returns the longest directory that contains every layer directory, or
 * NULL when that is "/" (relative paths would not be shorter). */
static char *common_parent(char *const *layer_dirs) {
        size_t length = strlen(layer_dirs[0]);
        char *parent;

        for (size_t i = 1; layer_dirs[i]; i++) {
                size_t j = 0;

                while (j < length && layer_dirs[i][j] == layer_dirs[0][j])
                        j++;
                length = j;
        }

        /* Cut back to a whole path component that is a proper parent of
         * every layer. */
        for (;;) {
                bool whole = true;

                for (size_t i = 0; layer_dirs[i]; i++)
                        if (layer_dirs[i][length] != '/')
                                whole = false;
                if (whole || length == 0)
                        break;
                length--;
        }

        if (length == 0)
                return NULL;

        parent = strndup(layer_dirs[0], length);
        return parent;
}

/* mount(2) in a child process that first changes into parent, because
 * changing the working directory of a multi-threaded daemon would affect
 * every thread. The child calls only async-signal-safe functions. */
static int mount_in_directory(const char *parent, const char *options, const char *merged) {
        pid_t pid;
        int status;

        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                if (chdir(parent) < 0)
                        _exit(errno);
                if (mount("overlay", merged, "overlay", 0, options) < 0)
                        _exit(errno);
                _exit(0);
        }

        if (waitpid(pid, &status, 0) < 0)
                return -errno;
        if (!WIFEXITED(status))
                return -EIO;
        return -WEXITSTATUS(status);
}

static int mount_legacy(char *const *layer_dirs, const char *upper, const char *work, const char *merged,
                        bool relative, char **ret_error) {
        _cleanup_free_ char *options = NULL, *parent = NULL;
        long page_size = sysconf(_SC_PAGESIZE);
        int r;

        if (relative) {
                parent = common_parent(layer_dirs);
                if (!parent)
                        return error_set(
                                ret_error, -E2BIG,
                                "The %zu layer directories of the image share no parent directory, and "
                                "their overlay options exceed the kernel's limit of %ld bytes.",
                                strv_length(layer_dirs), page_size - 1);
        }

        options = build_legacy_options(layer_dirs, parent, upper, work);
        if (!options)
                return -ENOMEM;

        /* mount(2) copies at most one page of options, including the
         * terminating NUL. */
        if ((long)strlen(options) >= page_size)
                return error_set(
                        ret_error, -E2BIG,
                        "The overlay options for %zu layers are %zu bytes long, more than the kernel's "
                        "limit of %ld bytes.",
                        strv_length(layer_dirs), strlen(options), page_size - 1);

        if (parent)
                r = mount_in_directory(parent, options, merged);
        else
                r = mount("overlay", merged, "overlay", 0, options) < 0 ? -errno : 0;
        if (r < 0)
                return error_set(ret_error, r, "Failed to mount the overlay at %s: %s.", merged,
                                 strerror(-r));

        return 0;
}

static bool method_allows(RootfsMountMethod method, RootfsMountMethod m) {
        return method == ROOTFS_MOUNT_AUTO || method == m;
}

int rootfs_mount_with(char *const *layer_dirs, const char *instance_dir, RootfsMountMethod method,
                      char **ret_merged, char **ret_error) {
        _cleanup_free_ char *upper = NULL, *work = NULL, *merged = NULL;
        int r;

        r = check_layer_dirs(layer_dirs, ret_error);
        if (r < 0)
                return r;

        if (instance_dir[0] != '/')
                return error_set(ret_error, -EINVAL, "Instance directory \"%s\" is not an absolute path.",
                                 instance_dir);

        if (asprintf(&upper, "%s/upper", instance_dir) < 0 || asprintf(&work, "%s/work", instance_dir) < 0 ||
            asprintf(&merged, "%s/rootfs", instance_dir) < 0)
                return -ENOMEM;

        /* upper's mode becomes the mode of the container's "/". */
        const char *dirs[] = {instance_dir, upper, work, merged};
        const mode_t modes[] = {0700, 0755, 0700, 0755};
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                r = mkdir_ok_if_exists(dirs[i], modes[i]);
                if (r < 0)
                        return error_set(ret_error, r, "Failed to create directory %s: %s.", dirs[i],
                                         strerror(-r));
        }

        r = -EOPNOTSUPP;
        if (method_allows(method, ROOTFS_MOUNT_FSCONFIG)) {
                r = mount_fsconfig(layer_dirs, upper, work, merged, ret_error);
                if (r == -EOPNOTSUPP && method == ROOTFS_MOUNT_FSCONFIG)
                        return error_set(ret_error, r,
                                         "The kernel does not support the overlayfs parameter lowerdir+.");
        }
        if (r == -EOPNOTSUPP && method_allows(method, ROOTFS_MOUNT_LEGACY)) {
                r = mount_legacy(layer_dirs, upper, work, merged, false, ret_error);
                if (r == -E2BIG && method == ROOTFS_MOUNT_AUTO)
                        r = -EOPNOTSUPP;
        }
        if (r == -EOPNOTSUPP && method_allows(method, ROOTFS_MOUNT_LEGACY_RELATIVE))
                r = mount_legacy(layer_dirs, upper, work, merged, true, ret_error);
        if (r < 0)
                return r;

        log_debug("Mounted overlay of %zu layers at %s.", strv_length(layer_dirs), merged);
        *ret_merged = TAKE_PTR(merged);
        return 0;
}

int rootfs_mount(char *const *layer_dirs, const char *instance_dir, char **ret_merged, char **ret_error) {
        return rootfs_mount_with(layer_dirs, instance_dir, ROOTFS_MOUNT_AUTO, ret_merged, ret_error);
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        if (type == FTW_DP)
                return rmdir(path) < 0 ? -1 : 0;
        return unlink(path) < 0 ? -1 : 0;
}

/* Removes a directory tree without crossing into other file systems
 * (FTW_MOUNT) or following symbolic links (FTW_PHYS). */
static int remove_tree(const char *path) {
        struct stat st;

        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : -errno;

        if (nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0)
                return -errno;
        return 0;
}

int rootfs_umount(const char *instance_dir) {
        _cleanup_free_ char *upper = NULL, *work = NULL, *merged = NULL;
        int r;

        if (asprintf(&upper, "%s/upper", instance_dir) < 0 || asprintf(&work, "%s/work", instance_dir) < 0 ||
            asprintf(&merged, "%s/rootfs", instance_dir) < 0)
                return -ENOMEM;

        if (umount2(merged, UMOUNT_NOFOLLOW) < 0) {
                if (errno == EBUSY) {
                        log_debug("Overlay at %s is busy, detaching it.", merged);
                        if (umount2(merged, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
                                return -errno;
                } else if (errno != EINVAL && errno != ENOENT)
                        /* EINVAL: not a mount point, so already unmounted. */
                        return -errno;
        }

        /* The merged directory is removed with rmdir() only: if it were
         * still a mount, a recursive removal would delete the shared
         * layers' contents through it. */
        if (rmdir(merged) < 0 && errno != ENOENT)
                return -errno;

        r = remove_tree(upper);
        if (r < 0)
                return r;
        r = remove_tree(work);
        if (r < 0)
                return r;

        if (rmdir(instance_dir) < 0 && errno != ENOENT && errno != ENOTEMPTY)
                return -errno;

        return 0;
}
