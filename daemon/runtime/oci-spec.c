/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <sys/stat.h>
#include <wordexp.h>

#include "log.h"
#include "oci-spec.h"
#include "runtime-util.h"

/* Capabilities of the container's processes: Docker's default set without
 * NET_RAW (raw sockets allow packet spoofing on the bridge), MKNOD,
 * AUDIT_WRITE and SETFCAP, none of which a web service needs. A process
 * that runs as a non-root user loses them at execve(), because the
 * configuration sets no inheritable or ambient capabilities. */
static const char *const default_capabilities[] = {
        "CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FOWNER",           "CAP_FSETID",     "CAP_KILL",
        "CAP_SETGID", "CAP_SETUID",       "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_SETPCAP",
};

/* Paths under /proc and /sys that expose host information or kernel
 * interfaces; crun hides them behind an empty read-only mount. */
static const char *const masked_paths[] = {
        "/proc/acpi",
        "/proc/asound",
        "/proc/kcore",
        "/proc/keys",
        "/proc/latency_stats",
        "/proc/timer_list",
        "/proc/timer_stats",
        "/proc/sched_debug",
        "/proc/scsi",
        "/sys/firmware",
        "/sys/devices/virtual/powercap",
};

static const char *const readonly_paths[] = {
        "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

/* ---- JSON helpers ------------------------------------------------------ */

/* Adds value under key and takes ownership of value in every case; a NULL
 * value means an earlier allocation failed. */
static int json_add(json_object *o, const char *key, json_object *value) {
        if (!value)
                return -ENOMEM;
        if (json_object_object_add(o, key, value) < 0) {
                json_object_put(value);
                return -ENOMEM;
        }
        return 0;
}

static int json_append(json_object *array, json_object *value) {
        if (!value)
                return -ENOMEM;
        if (json_object_array_add(array, value) < 0) {
                json_object_put(value);
                return -ENOMEM;
        }
        return 0;
}

static json_object *json_string_array(const char *const *l, size_t n) {
        _cleanup_json_ json_object *a = json_object_new_array();

        if (!a)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (json_append(a, json_object_new_string(l[i])) < 0)
                        return NULL;
        return TAKE_PTR(a);
}

static size_t strv_length(char *const *l) {
        size_t n = 0;

        while (l && l[n])
                n++;
        return n;
}

/* ---- strv helpers ------------------------------------------------------ */

static int strv_push(char ***l, size_t *n, const char *s) {
        char **t;
        char *c;

        c = strdup(s);
        if (!c)
                return -ENOMEM;

        t = realloc(*l, sizeof(char *) * (*n + 2));
        if (!t) {
                free(c);
                return -ENOMEM;
        }
        t[(*n)++] = c;
        t[*n] = NULL;
        *l = t;
        return 0;
}

/* ---- validation -------------------------------------------------------- */

static bool instance_id_is_valid(const char *id) {
        if (!id || strlen(id) != 12)
                return false;
        for (const char *p = id; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
                        return false;
        return true;
}

static int check_spec(const InstanceSpec *s, char **ret_error) {
        if (!instance_id_is_valid(s->instance_id))
                return error_set(ret_error, -EINVAL,
                                 "Invalid instance id \"%s\": expected 12 lowercase hex digits.",
                                 strna(s->instance_id));
        if (!s->hostname || !*s->hostname)
                return error_set(ret_error, -EINVAL, "Instance %s has no hostname.", s->instance_id);
        if (!s->rootfs || s->rootfs[0] != '/')
                return error_set(ret_error, -EINVAL, "Instance %s: rootfs \"%s\" is not an absolute path.",
                                 s->instance_id, strna(s->rootfs));
        if (!s->netns_path || s->netns_path[0] != '/')
                return error_set(ret_error, -EINVAL,
                                 "Instance %s: network namespace path \"%s\" is not an absolute path.",
                                 s->instance_id, strna(s->netns_path));
        if (!s->image)
                return error_set(ret_error, -EINVAL, "Instance %s has no image configuration.",
                                 s->instance_id);
        if (!s->seccomp)
                return error_set(ret_error, -EINVAL, "Instance %s has no seccomp profile.", s->instance_id);
        return 0;
}

/* ---- process.args ------------------------------------------------------ */

static bool rootfs_has_shell(const char *rootfs) {
        _cleanup_close_ int fd = -1;
        struct stat st;

        fd = open_in_root(rootfs, "/bin/sh", O_PATH);
        if (fd < 0)
                return false;
        if (fstat(fd, &st) < 0)
                return false;
        return S_ISREG(st.st_mode) && (st.st_mode & 0111);
}

/* Splits a StartCommand into words for an image without a shell.
 * wordexp(3) runs in the daemon, so variable, tilde and pathname
 * expansion would read the daemon's environment and the host's file
 * system; commands that contain those characters are rejected. */
static int split_command(const char *command, char ***ret, char **ret_error) {
        _cleanup_strv_free_ char **words = NULL;
        wordexp_t we;
        size_t n = 0;
        int r;

        /* NOTE: this also rejects these characters inside quotes, where
         * wordexp() would keep them literally. */
        for (const char *p = command; *p; p++)
                if (strchr("$`*?[~", *p))
                        return error_set(
                                ret_error, -EINVAL,
                                "StartCommand \"%s\" uses the shell expansion character '%c', but the "
                                "image has no /bin/sh to run it. Remove the character or add a shell "
                                "to the image.",
                                command, *p);

        r = wordexp(command, &we, WRDE_NOCMD | WRDE_UNDEF);
        switch (r) {
        case 0:
                break;
        case WRDE_BADCHAR:
                return error_set(ret_error, -EINVAL,
                                 "StartCommand \"%s\" contains a shell operator (one of |&;<>(){} or a "
                                 "newline), but the image has no /bin/sh to run it.",
                                 command);
        case WRDE_SYNTAX:
                return error_set(ret_error, -EINVAL, "StartCommand \"%s\" has unbalanced quotes.", command);
        case WRDE_NOSPACE:
                wordfree(&we);
                return -ENOMEM;
        default:
                return error_set(ret_error, -EINVAL, "StartCommand \"%s\" cannot be split into words.",
                                 command);
        }

        for (size_t i = 0; i < we.we_wordc; i++) {
                r = strv_push(&words, &n, we.we_wordv[i]);
                if (r < 0) {
                        wordfree(&we);
                        return r;
                }
        }
        wordfree(&we);

        if (n == 0)
                return error_set(ret_error, -EINVAL, "StartCommand \"%s\" contains no words.", command);

        *ret = TAKE_PTR(words);
        return 0;
}

static int build_args(const InstanceSpec *s, json_object **ret, char **ret_error) {
        _cleanup_strv_free_ char **words = NULL;
        _cleanup_json_ json_object *args = NULL;
        const ImageConfig *image = s->image;
        int r;

        if (s->start_command && s->start_command[strspn(s->start_command, " \t\n")] != '\0') {
                if (rootfs_has_shell(s->rootfs)) {
                        const char *sh[] = {"/bin/sh", "-c", s->start_command};

                        args = json_string_array(sh, ELEMENTSOF(sh));
                        if (!args)
                                return -ENOMEM;
                } else {
                        r = split_command(s->start_command, &words, ret_error);
                        if (r < 0)
                                return r;

                        args = json_string_array((const char *const *)words, strv_length(words));
                        if (!args)
                                return -ENOMEM;
                }

                *ret = TAKE_PTR(args);
                return 0;
        }

        if (strv_length(image->entrypoint) + strv_length(image->cmd) == 0)
                return error_set(ret_error, -EINVAL,
                                 "The image defines neither Entrypoint nor Cmd, and the service sets no "
                                 "StartCommand. Set StartCommand in the image repository configuration.");

        args = json_object_new_array();
        if (!args)
                return -ENOMEM;
        STRV_FOREACH (w, image->entrypoint)
                if (json_append(args, json_object_new_string(*w)) < 0)
                        return -ENOMEM;
        STRV_FOREACH (w, image->cmd)
                if (json_append(args, json_object_new_string(*w)) < 0)
                        return -ENOMEM;

        *ret = TAKE_PTR(args);
        return 0;
}

/* ---- process.env ------------------------------------------------------- */

/* Sets "KEY=VALUE" in l, replacing an entry with the same KEY in place so
 * that the order of first appearance is kept. */
static int env_set(char ***l, size_t *n, const char *assignment) {
        size_t key_length = strcspn(assignment, "=");

        for (size_t i = 0; i < *n; i++)
                if (strncmp((*l)[i], assignment, key_length + 1) == 0) {
                        char *c = strdup(assignment);

                        if (!c)
                                return -ENOMEM;
                        free((*l)[i]);
                        (*l)[i] = c;
                        return 0;
                }

        return strv_push(l, n, assignment);
}

static int env_merge(char ***l, size_t *n, char *const *add, const char *source, char **ret_error) {
        int r;

        STRV_FOREACH (e, (char **)add) {
                const char *eq = strchr(*e, '=');

                if (!eq || eq == *e)
                        return error_set(
                                ret_error, -EINVAL,
                                "Invalid environment variable \"%s\" in the %s: expected NAME=VALUE.", *e,
                                source);

                r = env_set(l, n, *e);
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool env_has(char *const *l, const char *key) {
        size_t k = strlen(key);

        STRV_FOREACH (e, (char **)l)
                if (strncmp(*e, key, k) == 0 && (*e)[k] == '=')
                        return true;
        return false;
}

static int build_env(const InstanceSpec *s, json_object **ret, char **ret_error) {
        _cleanup_strv_free_ char **env = NULL;
        char port[sizeof("PORT=65535")];
        size_t n = 0;
        int r;

        if (!env_has(s->image->env, "PATH") && !env_has(s->env, "PATH")) {
                r = strv_push(&env, &n, OCI_DEFAULT_PATH);
                if (r < 0)
                        return r;
        }

        r = env_merge(&env, &n, s->image->env, "image configuration", ret_error);
        if (r < 0)
                return r;

        /* App Runner sets PORT to the service's port; the service's own
         * variables come last and may replace it. */
        snprintf(port, sizeof(port), "PORT=%" PRIu16, s->port);
        r = env_set(&env, &n, port);
        if (r < 0)
                return r;

        r = env_merge(&env, &n, s->env, "service's RuntimeEnvironmentVariables", ret_error);
        if (r < 0)
                return r;

        *ret = json_string_array((const char *const *)env, n);
        return *ret ? 0 : -ENOMEM;
}

/* ---- process.user ------------------------------------------------------ */

typedef struct ResolvedUser {
        uid_t uid;
        gid_t gid;
        gid_t *additional_gids;
        size_t n_additional_gids;
} ResolvedUser;

static bool parse_id(const char *s, uint32_t *ret) {
        char *end;
        unsigned long v;

        if (!s || !*s || s[strspn(s, "0123456789")] != '\0')
                return false;

        errno = 0;
        v = strtoul(s, &end, 10);
        /* (uid_t) -1 means "no change" to setresuid() and is not an id. */
        if (errno != 0 || v >= UINT32_MAX)
                return false;

        *ret = (uint32_t)v;
        return true;
}

static FILE *open_rootfs_file(const char *rootfs, const char *path) {
        int fd;
        FILE *f;

        fd = open_in_root(rootfs, path, O_RDONLY);
        if (fd < 0)
                return NULL;

        f = fdopen(fd, "re");
        if (!f)
                close(fd);
        return f;
}

/* Finds a user by name, or by uid when name is NULL, in the rootfs's
 * /etc/passwd. Returns 1 and fills the outputs when found, 0 when not. */
static int find_passwd_entry(const char *rootfs, const char *name, uid_t uid, char **ret_name,
                             uid_t *ret_uid, gid_t *ret_gid) {
        _cleanup_fclose_ FILE *f = NULL;
        struct passwd pw, *result;
        char buffer[4096];

        f = open_rootfs_file(rootfs, "/etc/passwd");
        if (!f)
                return 0;

        while (fgetpwent_r(f, &pw, buffer, sizeof(buffer), &result) == 0) {
                if (name ? !streq(pw.pw_name, name) : pw.pw_uid != uid)
                        continue;

                *ret_name = strdup(pw.pw_name);
                if (!*ret_name)
                        return -ENOMEM;
                *ret_uid = pw.pw_uid;
                *ret_gid = pw.pw_gid;
                return 1;
        }
        return 0;
}

static int find_group_entry(const char *rootfs, const char *name, gid_t *ret_gid) {
        _cleanup_fclose_ FILE *f = NULL;
        struct group gr, *result;
        char buffer[16384];

        f = open_rootfs_file(rootfs, "/etc/group");
        if (!f)
                return 0;

        while (fgetgrent_r(f, &gr, buffer, sizeof(buffer), &result) == 0)
                if (streq(gr.gr_name, name)) {
                        *ret_gid = gr.gr_gid;
                        return 1;
                }
        return 0;
}

/* Collects the groups of the rootfs's /etc/group that list user as a
 * member, except primary_gid, as initgroups(3) would. */
static int find_additional_groups(const char *rootfs, const char *user, gid_t primary_gid, ResolvedUser *u) {
        _cleanup_fclose_ FILE *f = NULL;
        struct group gr, *result;
        char buffer[16384];

        f = open_rootfs_file(rootfs, "/etc/group");
        if (!f)
                return 0;

        while (fgetgrent_r(f, &gr, buffer, sizeof(buffer), &result) == 0) {
                gid_t *t;

                if (gr.gr_gid == primary_gid)
                        continue;

                bool member = false;
                for (char **m = gr.gr_mem; m && *m; m++)
                        if (streq(*m, user)) {
                                member = true;
                                break;
                        }
                if (!member)
                        continue;

                t = realloc(u->additional_gids, sizeof(gid_t) * (u->n_additional_gids + 1));
                if (!t)
                        return -ENOMEM;
                t[u->n_additional_gids++] = gr.gr_gid;
                u->additional_gids = t;
        }
        return 0;
}

static int resolve_user(const InstanceSpec *s, ResolvedUser *ret, char **ret_error) {
        _cleanup_free_ char *user_part = NULL, *passwd_name = NULL;
        ResolvedUser u = {.uid = 0, .gid = 0};
        const char *spec = s->image->user, *group_part;
        uint32_t id;
        int r;

        if (!spec || !*spec) {
                *ret = u;
                return 0;
        }

        group_part = strchr(spec, ':');
        user_part = group_part ? strndup(spec, (size_t)(group_part - spec)) : strdup(spec);
        if (!user_part)
                return -ENOMEM;
        if (group_part)
                group_part++;

        if (parse_id(user_part, &id)) {
                /* A numeric uid need not exist in /etc/passwd; its primary
                 * group then is 0, as with Docker. */
                r = find_passwd_entry(s->rootfs, NULL, id, &passwd_name, &u.uid, &u.gid);
                if (r < 0)
                        return r;
                u.uid = id;
        } else {
                r = find_passwd_entry(s->rootfs, user_part, 0, &passwd_name, &u.uid, &u.gid);
                if (r < 0)
                        return r;
                if (r == 0)
                        return error_set(ret_error, -EINVAL,
                                         "User \"%s\" of the image configuration is not in the image's "
                                         "/etc/passwd. Use a numeric uid or add the user to the image.",
                                         user_part);
        }

        if (group_part) {
                if (parse_id(group_part, &id))
                        u.gid = id;
                else {
                        r = find_group_entry(s->rootfs, group_part, &u.gid);
                        if (r < 0)
                                return r;
                        if (r == 0)
                                return error_set(
                                        ret_error, -EINVAL,
                                        "Group \"%s\" of the image configuration is not in the image's "
                                        "/etc/group. Use a numeric gid or add the group to the image.",
                                        group_part);
                }
        }

        if (passwd_name) {
                r = find_additional_groups(s->rootfs, passwd_name, u.gid, &u);
                if (r < 0) {
                        free(u.additional_gids);
                        return r;
                }
        }

        *ret = u;
        return 0;
}

static int build_user(const InstanceSpec *s, json_object **ret, char **ret_error) {
        _cleanup_json_ json_object *user = NULL, *gids = NULL;
        ResolvedUser u;
        int r;

        r = resolve_user(s, &u, ret_error);
        if (r < 0)
                return r;

        user = json_object_new_object();
        if (!user)
                goto oom;
        if (json_add(user, "uid", json_object_new_int64(u.uid)) < 0 ||
            json_add(user, "gid", json_object_new_int64(u.gid)) < 0)
                goto oom;

        if (u.n_additional_gids > 0) {
                gids = json_object_new_array();
                if (!gids)
                        goto oom;
                for (size_t i = 0; i < u.n_additional_gids; i++)
                        if (json_append(gids, json_object_new_int64(u.additional_gids[i])) < 0)
                                goto oom;
                if (json_add(user, "additionalGids", TAKE_PTR(gids)) < 0)
                        goto oom;
        }

        free(u.additional_gids);
        *ret = TAKE_PTR(user);
        return 0;

oom:
        free(u.additional_gids);
        return -ENOMEM;
}

/* ---- the whole document ------------------------------------------------ */

static json_object *build_capabilities(void) {
        _cleanup_json_ json_object *caps = json_object_new_object();
        const char *const sets[] = {"bounding", "effective", "permitted"};

        if (!caps)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(sets); i++)
                if (json_add(caps, sets[i],
                             json_string_array(default_capabilities, ELEMENTSOF(default_capabilities))) < 0)
                        return NULL;
        return TAKE_PTR(caps);
}

static json_object *build_rlimits(uint64_t nofile_limit) {
        _cleanup_json_ json_object *rlimits = json_object_new_array(), *nofile = json_object_new_object();

        if (!rlimits || !nofile)
                return NULL;
        if (json_add(nofile, "type", json_object_new_string("RLIMIT_NOFILE")) < 0 ||
            json_add(nofile, "soft", json_object_new_uint64(nofile_limit)) < 0 ||
            json_add(nofile, "hard", json_object_new_uint64(nofile_limit)) < 0 ||
            json_append(rlimits, TAKE_PTR(nofile)) < 0)
                return NULL;
        return TAKE_PTR(rlimits);
}

static int build_process(const InstanceSpec *s, json_object **ret, char **ret_error) {
        _cleanup_json_ json_object *process = NULL, *args = NULL, *env = NULL, *user = NULL;
        const char *cwd = s->image->working_dir;
        int r;

        r = build_args(s, &args, ret_error);
        if (r < 0)
                return r;

        r = build_env(s, &env, ret_error);
        if (r < 0)
                return r;

        r = build_user(s, &user, ret_error);
        if (r < 0)
                return r;

        if (!cwd || !*cwd)
                cwd = "/";
        if (cwd[0] != '/')
                return error_set(ret_error, -EINVAL,
                                 "WorkingDir \"%s\" of the image configuration is not an absolute path.",
                                 cwd);

        process = json_object_new_object();
        if (!process)
                return -ENOMEM;
        if (json_add(process, "terminal", json_object_new_boolean(false)) < 0 ||
            json_add(process, "user", TAKE_PTR(user)) < 0 || json_add(process, "args", TAKE_PTR(args)) < 0 ||
            json_add(process, "env", TAKE_PTR(env)) < 0 ||
            json_add(process, "cwd", json_object_new_string(cwd)) < 0 ||
            json_add(process, "capabilities", build_capabilities()) < 0 ||
            json_add(process, "rlimits", build_rlimits(s->nofile_limit ?: OCI_DEFAULT_NOFILE_LIMIT)) < 0 ||
            json_add(process, "noNewPrivileges", json_object_new_boolean(true)) < 0)
                return -ENOMEM;

        *ret = TAKE_PTR(process);
        return 0;
}

static int add_mount(json_object *mounts, const char *destination, const char *type, const char *source,
                     const char *const *options, size_t n_options) {
        _cleanup_json_ json_object *m = json_object_new_object();

        if (!m)
                return -ENOMEM;
        if (json_add(m, "destination", json_object_new_string(destination)) < 0 ||
            json_add(m, "type", json_object_new_string(type)) < 0 ||
            json_add(m, "source", json_object_new_string(source)) < 0 ||
            json_add(m, "options", json_string_array(options, n_options)) < 0)
                return -ENOMEM;
        return json_append(mounts, TAKE_PTR(m));
}

/* /tmp is not a mount: it lives in the instance's writable overlay layer.
 * NOTE: /etc/resolv.conf and /etc/hosts are not bind-mounted here; the
 * image's own files apply. */
static json_object *build_mounts(void) {
        static const char *const proc_options[] = {"nosuid", "noexec", "nodev"};
        static const char *const dev_options[] = {"nosuid", "strictatime", "mode=755", "size=65536k"};
        static const char *const pts_options[] = {"nosuid", "noexec", "newinstance", "ptmxmode=0666",
                                                  "mode=0620"};
        static const char *const shm_options[] = {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"};
        static const char *const mqueue_options[] = {"nosuid", "noexec", "nodev"};
        static const char *const sys_options[] = {"nosuid", "noexec", "nodev", "ro"};
        _cleanup_json_ json_object *mounts = json_object_new_array();

        if (!mounts)
                return NULL;
        if (add_mount(mounts, "/proc", "proc", "proc", proc_options, ELEMENTSOF(proc_options)) < 0 ||
            add_mount(mounts, "/dev", "tmpfs", "tmpfs", dev_options, ELEMENTSOF(dev_options)) < 0 ||
            add_mount(mounts, "/dev/pts", "devpts", "devpts", pts_options, ELEMENTSOF(pts_options)) < 0 ||
            add_mount(mounts, "/dev/shm", "tmpfs", "shm", shm_options, ELEMENTSOF(shm_options)) < 0 ||
            add_mount(mounts, "/dev/mqueue", "mqueue", "mqueue", mqueue_options,
                      ELEMENTSOF(mqueue_options)) < 0 ||
            add_mount(mounts, "/sys", "sysfs", "sysfs", sys_options, ELEMENTSOF(sys_options)) < 0)
                return NULL;
        return TAKE_PTR(mounts);
}

static int add_namespace(json_object *namespaces, const char *type, const char *path) {
        _cleanup_json_ json_object *ns = json_object_new_object();

        if (!ns)
                return -ENOMEM;
        if (json_add(ns, "type", json_object_new_string(type)) < 0)
                return -ENOMEM;
        if (path && json_add(ns, "path", json_object_new_string(path)) < 0)
                return -ENOMEM;
        return json_append(namespaces, TAKE_PTR(ns));
}

/* No "cgroup" namespace, no "cgroupsPath" and no "resources": crun runs
 * with --cgroup-manager=disabled inside the instance's unit, whose cgroup
 * and limits the container keeps. */
static int build_linux(const InstanceSpec *s, json_object **ret) {
        _cleanup_json_ json_object *linux_obj = NULL, *namespaces = NULL, *seccomp = NULL;

        namespaces = json_object_new_array();
        if (!namespaces)
                return -ENOMEM;
        if (add_namespace(namespaces, "pid", NULL) < 0 || add_namespace(namespaces, "ipc", NULL) < 0 ||
            add_namespace(namespaces, "uts", NULL) < 0 || add_namespace(namespaces, "mount", NULL) < 0 ||
            add_namespace(namespaces, "network", s->netns_path) < 0)
                return -ENOMEM;

        /* json-c takes a non-const source, but json_object_deep_copy() only
         * reads it. */
        if (json_object_deep_copy((json_object *)s->seccomp, &seccomp, NULL) < 0)
                return -ENOMEM;

        linux_obj = json_object_new_object();
        if (!linux_obj)
                return -ENOMEM;
        if (json_add(linux_obj, "namespaces", TAKE_PTR(namespaces)) < 0 ||
            json_add(linux_obj, "maskedPaths", json_string_array(masked_paths, ELEMENTSOF(masked_paths))) <
                    0 ||
            json_add(linux_obj, "readonlyPaths",
                     json_string_array(readonly_paths, ELEMENTSOF(readonly_paths))) < 0 ||
            json_add(linux_obj, "seccomp", TAKE_PTR(seccomp)) < 0)
                return -ENOMEM;

        *ret = TAKE_PTR(linux_obj);
        return 0;
}

int oci_spec_build(const InstanceSpec *s, json_object **ret, char **ret_error) {
        _cleanup_json_ json_object *spec = NULL, *process = NULL, *root = NULL, *linux_obj = NULL;
        int r;

        r = check_spec(s, ret_error);
        if (r < 0)
                return r;

        r = build_process(s, &process, ret_error);
        if (r < 0)
                return r;

        r = build_linux(s, &linux_obj);
        if (r < 0)
                return r;

        root = json_object_new_object();
        if (!root)
                return -ENOMEM;
        if (json_add(root, "path", json_object_new_string(s->rootfs)) < 0 ||
            json_add(root, "readonly", json_object_new_boolean(false)) < 0)
                return -ENOMEM;

        spec = json_object_new_object();
        if (!spec)
                return -ENOMEM;
        /* 1.0.2 is the first version with seccomp's defaultErrnoRet. */
        if (json_add(spec, "ociVersion", json_object_new_string("1.0.2")) < 0 ||
            json_add(spec, "process", TAKE_PTR(process)) < 0 || json_add(spec, "root", TAKE_PTR(root)) < 0 ||
            json_add(spec, "hostname", json_object_new_string(s->hostname)) < 0 ||
            json_add(spec, "mounts", build_mounts()) < 0 || json_add(spec, "linux", TAKE_PTR(linux_obj)) < 0)
                return -ENOMEM;

        *ret = TAKE_PTR(spec);
        return 0;
}

int oci_bundle_write(const InstanceSpec *s, const char *bundle_dir, char **ret_error) {
        _cleanup_json_ json_object *spec = NULL;
        _cleanup_free_ char *temp_path = NULL, *final_path = NULL;
        _cleanup_close_ int fd = -1;
        int r;

        r = oci_spec_build(s, &spec, ret_error);
        if (r < 0)
                return r;

        if (asprintf(&final_path, "%s/config.json", bundle_dir) < 0 ||
            asprintf(&temp_path, "%s/.config.json.XXXXXX", bundle_dir) < 0)
                return -ENOMEM;

        /* mkostemp() creates the file with mode 0600. */
        fd = mkostemp(temp_path, O_CLOEXEC);
        if (fd < 0)
                return error_set(ret_error, -errno, "Failed to create a file in bundle directory %s: %s.",
                                 bundle_dir, strerror(errno));

        if (json_object_to_fd(fd, spec, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE) < 0) {
                r = -EIO;
                goto fail;
        }
        if (fsync(fd) < 0) {
                r = -errno;
                goto fail;
        }
        if (rename(temp_path, final_path) < 0) {
                r = -errno;
                goto fail;
        }

        log_debug("Wrote %s for instance %s.", final_path, s->instance_id);
        return 0;

fail:
        (void)unlink(temp_path);
        return error_set(ret_error, r, "Failed to write %s: %s.", final_path, strerror(-r));
}
