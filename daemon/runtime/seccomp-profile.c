/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The profile is validated in two passes. The first pass checks the JSON
 * shape field by field, so an error names the entry ("syscalls[2].names[4]")
 * instead of failing somewhere in crun at container start. The second pass
 * builds the filter with libseccomp (seccomp_init(), seccomp_arch_add(),
 * seccomp_rule_add_array()) and exports it as BPF, which proves that
 * libseccomp accepts every rule. */

#include <ctype.h>
#include <fcntl.h>
#include <inttypes.h>
#include <seccomp.h>

#include "log.h"
#include "runtime-util.h"
#include "seccomp-profile.h"

typedef struct NamedValue {
        const char *name;
        uint32_t value;
} NamedValue;

/* Actions of the OCI runtime specification's seccomp object. The ERRNO and
 * TRACE values here carry no data; the data comes from errnoRet. */
static const NamedValue seccomp_actions[] = {
        {"SCMP_ACT_KILL", SCMP_ACT_KILL},
        {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS},
        {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD},
        {"SCMP_ACT_TRAP", SCMP_ACT_TRAP},
        {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0)},
        {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0)},
        {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW},
        {"SCMP_ACT_LOG", SCMP_ACT_LOG},
        {"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY},
};

static const NamedValue seccomp_operators[] = {
        {"SCMP_CMP_NE", SCMP_CMP_NE},
        {"SCMP_CMP_LT", SCMP_CMP_LT},
        {"SCMP_CMP_LE", SCMP_CMP_LE},
        {"SCMP_CMP_EQ", SCMP_CMP_EQ},
        {"SCMP_CMP_GE", SCMP_CMP_GE},
        {"SCMP_CMP_GT", SCMP_CMP_GT},
        {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

static const char *const seccomp_flags[] = {
        "SECCOMP_FILTER_FLAG_TSYNC",
        "SECCOMP_FILTER_FLAG_LOG",
        "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};

static const char *const profile_keys[] = {
        "defaultAction", "defaultErrnoRet",  "architectures", "flags",
        "listenerPath",  "listenerMetadata", "syscalls",
};

static const char *const rule_keys[] = {"names", "action", "errnoRet", "args"};
static const char *const arg_keys[] = {"index", "value", "valueTwo", "op"};

static int lookup_named_value(const NamedValue *table, size_t n, const char *name, uint32_t *ret) {
        for (size_t i = 0; i < n; i++)
                if (streq(table[i].name, name)) {
                        *ret = table[i].value;
                        return 0;
                }
        return -ENOENT;
}

static bool string_in_list(const char *const *list, size_t n, const char *s) {
        for (size_t i = 0; i < n; i++)
                if (streq(list[i], s))
                        return true;
        return false;
}

/* Rejects keys the OCI specification does not define, which catches typos
 * such as "errnoret". */
static int check_keys(json_object *o, const char *const *keys, size_t n, const char *what, const char *where,
                      char **ret_error) {
        json_object_object_foreach(o, key, value) {
                (void)value;
                if (!string_in_list(keys, n, key))
                        return error_set(ret_error, -EINVAL,
                                         "Seccomp profile %s: %s has unknown key \"%s\".", what, where, key);
        }
        return 0;
}

/* Resolves "SCMP_ARCH_X86_64" to libseccomp's token: libseccomp names
 * architectures in lower case without the prefix ("x86_64"). */
static uint32_t resolve_arch(const char *name) {
        char lower[64];
        size_t i;

        if (strncmp(name, "SCMP_ARCH_", 10) != 0)
                return 0;
        name += 10;

        for (i = 0; name[i] && i < sizeof(lower) - 1; i++)
                lower[i] = (char)tolower((unsigned char)name[i]);
        if (name[i])
                return 0;
        lower[i] = '\0';

        return seccomp_arch_resolve_name(lower);
}

static int get_uint64(json_object *o, uint64_t *ret) {
        if (!json_object_is_type(o, json_type_int))
                return -EINVAL;
        /* json-c stores values above INT64_MAX unsigned, and clamps them to
         * INT64_MAX in json_object_get_int64(), so a negative result is a
         * negative number in the file. */
        if (json_object_get_int64(o) < 0)
                return -EINVAL;
        *ret = json_object_get_uint64(o);
        return 0;
}

/* Reads an action with its errno or trace value ("errnoRet", or
 * "defaultErrnoRet" for the default action). OCI's default for a missing
 * errno is EPERM. */
static int parse_action(json_object *parent, const char *action_key, const char *errno_key, const char *what,
                        const char *where, uint32_t *ret, char **ret_error) {
        json_object *action_obj, *errno_obj;
        uint64_t errno_value = EPERM;
        uint32_t action;

        if (!json_object_object_get_ex(parent, action_key, &action_obj) ||
            !json_object_is_type(action_obj, json_type_string))
                return error_set(ret_error, -EINVAL, "Seccomp profile %s: %s.%s is missing or not a string.",
                                 what, where, action_key);

        if (lookup_named_value(seccomp_actions, ELEMENTSOF(seccomp_actions),
                               json_object_get_string(action_obj), &action) < 0)
                return error_set(ret_error, -EINVAL, "Seccomp profile %s: %s.%s has unknown action \"%s\".",
                                 what, where, action_key, json_object_get_string(action_obj));

        if (json_object_object_get_ex(parent, errno_key, &errno_obj)) {
                if (get_uint64(errno_obj, &errno_value) < 0 || errno_value > 0xffff)
                        return error_set(ret_error, -EINVAL,
                                         "Seccomp profile %s: %s.%s must be an integer between 0 and 65535.",
                                         what, where, errno_key);
                if (action != SCMP_ACT_ERRNO(0) && action != SCMP_ACT_TRACE(0))
                        return error_set(ret_error, -EINVAL,
                                         "Seccomp profile %s: %s.%s is only valid with SCMP_ACT_ERRNO or "
                                         "SCMP_ACT_TRACE.",
                                         what, where, errno_key);
        }

        if (action == SCMP_ACT_ERRNO(0))
                action = SCMP_ACT_ERRNO((uint32_t)errno_value);
        else if (action == SCMP_ACT_TRACE(0))
                action = SCMP_ACT_TRACE((uint32_t)errno_value);

        *ret = action;
        return 0;
}

static int parse_arg(json_object *arg, const char *what, const char *where, struct scmp_arg_cmp *ret,
                     char **ret_error) {
        json_object *index_obj, *value_obj, *value_two_obj, *op_obj;
        uint64_t index, value, value_two = 0;
        uint32_t op;
        int r;

        if (!json_object_is_type(arg, json_type_object))
                return error_set(ret_error, -EINVAL, "Seccomp profile %s: %s is not an object.", what,
                                 where);

        r = check_keys(arg, arg_keys, ELEMENTSOF(arg_keys), what, where, ret_error);
        if (r < 0)
                return r;

        if (!json_object_object_get_ex(arg, "index", &index_obj) || get_uint64(index_obj, &index) < 0 ||
            index > 5)
                return error_set(ret_error, -EINVAL,
                                 "Seccomp profile %s: %s.index must be an integer between 0 and 5.", what,
                                 where);

        if (!json_object_object_get_ex(arg, "value", &value_obj) || get_uint64(value_obj, &value) < 0)
                return error_set(ret_error, -EINVAL,
                                 "Seccomp profile %s: %s.value is missing or not an unsigned integer.", what,
                                 where);

        if (json_object_object_get_ex(arg, "valueTwo", &value_two_obj) &&
            get_uint64(value_two_obj, &value_two) < 0)
                return error_set(ret_error, -EINVAL,
                                 "Seccomp profile %s: %s.valueTwo is not an unsigned integer.", what, where);

        if (!json_object_object_get_ex(arg, "op", &op_obj) || !json_object_is_type(op_obj, json_type_string))
                return error_set(ret_error, -EINVAL, "Seccomp profile %s: %s.op is missing or not a string.",
                                 what, where);
        if (lookup_named_value(seccomp_operators, ELEMENTSOF(seccomp_operators),
                               json_object_get_string(op_obj), &op) < 0)
                return error_set(ret_error, -EINVAL,
                                 "Seccomp profile %s: %s.op has unknown operator \"%s\".", what, where,
                                 json_object_get_string(op_obj));

        *ret = (struct scmp_arg_cmp){
                .arg = (unsigned)index,
                .op = (enum scmp_compare)op,
                .datum_a = value,
                .datum_b = value_two,
        };
        return 0;
}

static int add_architectures(scmp_filter_ctx ctx, json_object *profile, const char *what, char **ret_error) {
        json_object *archs;
        size_t n;

        if (!json_object_object_get_ex(profile, "architectures", &archs))
                return 0;
        if (!json_object_is_type(archs, json_type_array))
                return error_set(ret_error, -EINVAL, "Seccomp profile %s: architectures is not an array.",
                                 what);

        n = json_object_array_length(archs);
        for (size_t i = 0; i < n; i++) {
                json_object *a = json_object_array_get_idx(archs, i);
                uint32_t token;
                int r;

                token = json_object_is_type(a, json_type_string) ? resolve_arch(json_object_get_string(a))
                                                                 : 0;
                if (token == 0)
                        return error_set(
                                ret_error, -EINVAL,
                                "Seccomp profile %s: architectures[%zu] is not a known architecture "
                                "name such as \"SCMP_ARCH_X86_64\".",
                                what, i);

                r = seccomp_arch_add(ctx, token);
                if (r < 0 && r != -EEXIST)
                        return error_set(
                                ret_error, r,
                                "Seccomp profile %s: libseccomp rejected architectures[%zu] \"%s\": %s.",
                                what, i, json_object_get_string(a), strerror(-r));
        }
        return 0;
}

static int check_flags(json_object *profile, const char *what, char **ret_error) {
        json_object *flags;
        size_t n;

        if (!json_object_object_get_ex(profile, "flags", &flags))
                return 0;
        if (!json_object_is_type(flags, json_type_array))
                return error_set(ret_error, -EINVAL, "Seccomp profile %s: flags is not an array.", what);

        n = json_object_array_length(flags);
        for (size_t i = 0; i < n; i++) {
                json_object *f = json_object_array_get_idx(flags, i);

                if (!json_object_is_type(f, json_type_string) ||
                    !string_in_list(seccomp_flags, ELEMENTSOF(seccomp_flags), json_object_get_string(f)))
                        return error_set(ret_error, -EINVAL,
                                         "Seccomp profile %s: flags[%zu] is not a known flag.", what, i);
        }
        return 0;
}

static int add_rule(scmp_filter_ctx ctx, json_object *rule, size_t rule_index, uint32_t default_action,
                    const char *what, char **ret_error) {
        struct scmp_arg_cmp args[6];
        json_object *names, *args_obj;
        char where[48], arg_where[80];
        unsigned n_args = 0;
        uint32_t action;
        size_t n_names;
        int r;

        snprintf(where, sizeof(where), "syscalls[%zu]", rule_index);

        if (!json_object_is_type(rule, json_type_object))
                return error_set(ret_error, -EINVAL, "Seccomp profile %s: %s is not an object.", what,
                                 where);

        r = check_keys(rule, rule_keys, ELEMENTSOF(rule_keys), what, where, ret_error);
        if (r < 0)
                return r;

        r = parse_action(rule, "action", "errnoRet", what, where, &action, ret_error);
        if (r < 0)
                return r;

        if (json_object_object_get_ex(rule, "args", &args_obj)) {
                size_t n;

                if (!json_object_is_type(args_obj, json_type_array))
                        return error_set(ret_error, -EINVAL, "Seccomp profile %s: %s.args is not an array.",
                                         what, where);

                n = json_object_array_length(args_obj);
                if (n > ELEMENTSOF(args))
                        return error_set(
                                ret_error, -EINVAL,
                                "Seccomp profile %s: %s.args has %zu entries, at most 6 are allowed.", what,
                                where, n);

                for (size_t i = 0; i < n; i++) {
                        snprintf(arg_where, sizeof(arg_where), "%s.args[%zu]", where, i);
                        r = parse_arg(json_object_array_get_idx(args_obj, i), what, arg_where, &args[i],
                                      ret_error);
                        if (r < 0)
                                return r;
                }
                n_args = (unsigned)n;
        }

        if (!json_object_object_get_ex(rule, "names", &names) ||
            !json_object_is_type(names, json_type_array) || json_object_array_length(names) == 0)
                return error_set(ret_error, -EINVAL, "Seccomp profile %s: %s.names is missing or empty.",
                                 what, where);

        n_names = json_object_array_length(names);
        for (size_t i = 0; i < n_names; i++) {
                json_object *name_obj = json_object_array_get_idx(names, i);
                const char *name;
                int nr;

                if (!json_object_is_type(name_obj, json_type_string))
                        return error_set(ret_error, -EINVAL,
                                         "Seccomp profile %s: %s.names[%zu] is not a string.", what, where,
                                         i);
                name = json_object_get_string(name_obj);

                /* Names of syscalls that exist on other architectures only
                 * (such as "_llseek" on x86_64) resolve to negative
                 * pseudo-syscall numbers, which libseccomp accepts. */
                nr = seccomp_syscall_resolve_name(name);
                if (nr == __NR_SCMP_ERROR)
                        return error_set(
                                ret_error, -EINVAL,
                                "Seccomp profile %s: %s.names[%zu] \"%s\" is not a system call known "
                                "to libseccomp %u.%u.%u.",
                                what, where, i, name, seccomp_version()->major, seccomp_version()->minor,
                                seccomp_version()->micro);

                /* libseccomp rejects a rule whose action equals the default
                 * action with -EACCES, and such a rule changes nothing. */
                if (action == default_action)
                        continue;

                r = seccomp_rule_add_array(ctx, action, nr, n_args, args);
                if (r < 0)
                        return error_set(
                                ret_error, r,
                                "Seccomp profile %s: libseccomp rejected the rule for %s.names[%zu] "
                                "\"%s\": %s.",
                                what, where, i, name, strerror(-r));
        }

        return 0;
}

static void seccomp_releasep(scmp_filter_ctx *ctx) {
        if (*ctx)
                seccomp_release(*ctx);
}

int seccomp_profile_validate(json_object *profile, const char *what, char **ret_error) {
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        _cleanup_close_ int null_fd = -1;
        json_object *syscalls;
        uint32_t default_action;
        size_t n;
        int r;

        if (!json_object_is_type(profile, json_type_object))
                return error_set(ret_error, -EINVAL, "Seccomp profile %s: the top level is not an object.",
                                 what);

        r = check_keys(profile, profile_keys, ELEMENTSOF(profile_keys), what, "the top level", ret_error);
        if (r < 0)
                return r;

        r = parse_action(profile, "defaultAction", "defaultErrnoRet", what, "the top level", &default_action,
                         ret_error);
        if (r < 0)
                return r;

        r = check_flags(profile, what, ret_error);
        if (r < 0)
                return r;

        ctx = seccomp_init(default_action);
        if (!ctx)
                return error_set(ret_error, -ENOMEM, "Seccomp profile %s: seccomp_init() failed.", what);

        r = add_architectures(ctx, profile, what, ret_error);
        if (r < 0)
                return r;

        if (json_object_object_get_ex(profile, "syscalls", &syscalls)) {
                if (!json_object_is_type(syscalls, json_type_array))
                        return error_set(ret_error, -EINVAL, "Seccomp profile %s: syscalls is not an array.",
                                         what);

                n = json_object_array_length(syscalls);
                for (size_t i = 0; i < n; i++) {
                        r = add_rule(ctx, json_object_array_get_idx(syscalls, i), i, default_action, what,
                                     ret_error);
                        if (r < 0)
                                return r;
                }
        }

        /* Generating the BPF program runs libseccomp's whole compiler
         * without loading the filter into this process. */
        null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null_fd < 0)
                return error_set(ret_error, -errno, "Failed to open /dev/null: %s.", strerror(errno));

        r = seccomp_export_bpf(ctx, null_fd);
        if (r < 0)
                return error_set(ret_error, r,
                                 "Seccomp profile %s: libseccomp failed to generate the filter: %s.", what,
                                 strerror(-r));

        return 0;
}

int seccomp_profile_load(const char *path, json_object **ret, char **ret_error) {
        _cleanup_json_ json_object *profile = NULL;
        _cleanup_close_ int fd = -1;
        int r;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return error_set(ret_error, -errno, "Failed to open seccomp profile %s: %s.", path,
                                 strerror(errno));

        profile = json_object_from_fd(fd);
        if (!profile) {
                _cleanup_free_ char *reason = strdup(json_util_get_last_err() ?: "invalid JSON");

                /* json-c ends its messages with a newline. */
                if (reason)
                        reason[strcspn(reason, "\n")] = '\0';
                return error_set(ret_error, -EINVAL, "Seccomp profile %s is not valid JSON: %s.", path,
                                 strempty(reason));
        }

        r = seccomp_profile_validate(profile, path, ret_error);
        if (r < 0)
                return r;

        log_debug("Loaded seccomp profile %s.", path);
        *ret = TAKE_PTR(profile);
        return 0;
}
