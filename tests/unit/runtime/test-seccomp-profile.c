/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Usage: test-seccomp-profile PATH-OF-SHIPPED-PROFILE */

#include <assert.h>
#include <fcntl.h>
#include <stdio.h>

#include "runtime/runtime-util.h"
#include "runtime/seccomp-profile.h"

static int failures;

#define CHECK(cond)                                                                              \
        do {                                                                                     \
                if (!(cond)) {                                                                   \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
                        failures++;                                                              \
                }                                                                                \
        } while (0)

static void test_shipped_profile_loads(const char *path) {
        _cleanup_json_ json_object *profile = NULL;
        _cleanup_free_ char *error = NULL;
        json_object *v;
        int r;

        r = seccomp_profile_load(path, &profile, &error);
        if (r < 0)
                fprintf(stderr, "seccomp_profile_load(%s): %s\n", path, strna(error));
        CHECK(r == 0);
        CHECK(profile);
        if (!profile)
                return;

        CHECK(json_object_object_get_ex(profile, "defaultAction", &v));
        CHECK(streq(json_object_get_string(v), "SCMP_ACT_ERRNO"));
        CHECK(json_object_object_get_ex(profile, "syscalls", &v));
        CHECK(json_object_array_length(v) > 0);
}

typedef struct InvalidCase {
        const char *name;
        const char *json;
        const char *expected_error; /* substring of the error sentence */
} InvalidCase;

static const InvalidCase invalid_cases[] = {
        {"unknown syscall name",
         "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\",\"write\",\"no_such_"
         "call\"],"
         "\"action\":\"SCMP_ACT_ALLOW\"}]}",
         "syscalls[0].names[2] \"no_such_call\""},
        {"unknown rule action",
         "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_"
         "ALLOW\"},"
         "{\"names\":[\"write\"],\"action\":\"SCMP_ACT_PERMIT\"}]}",
         "syscalls[1].action has unknown action \"SCMP_ACT_PERMIT\""},
        {"unknown default action", "{\"defaultAction\":\"SCMP_ACT_DENY\"}",
         "unknown action \"SCMP_ACT_DENY\""},
        {"missing default action", "{\"syscalls\":[]}", "defaultAction is missing"},
        {"unknown architecture",
         "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_Z80\"]}",
         "architectures[1]"},
        {"unknown operator",
         "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"personality\"],\"action\":"
         "\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":8,\"op\":\"SCMP_CMP_ABOUT\"}]}]}",
         "syscalls[0].args[0].op has unknown operator \"SCMP_CMP_ABOUT\""},
        {"argument index out of range",
         "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"personality\"],\"action\":"
         "\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":6,\"value\":8,\"op\":\"SCMP_CMP_EQ\"}]}]}",
         "syscalls[0].args[0].index"},
        {"misspelled key",
         "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"clone3\"],\"action\":"
         "\"SCMP_ACT_ERRNO\",\"errnoret\":38}]}",
         "syscalls[0] has unknown key \"errnoret\""},
        {"errno value with allow",
         "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],\"action\":"
         "\"SCMP_ACT_ALLOW\",\"errnoRet\":1}]}",
         "syscalls[0].errnoRet is only valid"},
        {"empty names",
         "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[],\"action\":\"SCMP_ACT_ALLOW\"}]"
         "}",
         "syscalls[0].names is missing or empty"},
        {"negative argument value",
         "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"personality\"],\"action\":"
         "\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":-1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
         "syscalls[0].args[0].value"},
};

static void test_invalid_profiles(void) {
        for (size_t i = 0; i < ELEMENTSOF(invalid_cases); i++) {
                const InvalidCase *c = &invalid_cases[i];
                _cleanup_json_ json_object *profile = json_tokener_parse(c->json);
                _cleanup_free_ char *error = NULL;
                int r;

                assert(profile);
                r = seccomp_profile_validate(profile, "test.json", &error);
                if (r != -EINVAL || !error || !strstr(error, c->expected_error))
                        fprintf(stderr, "case \"%s\": r=%d error=\"%s\", expected \"%s\"\n", c->name, r,
                                strna(error), c->expected_error);
                CHECK(r == -EINVAL);
                CHECK(error && strstr(error, c->expected_error));
                CHECK(error && strstr(error, "test.json"));
        }
}

static void test_valid_minimal_profile(void) {
        _cleanup_json_ json_object *profile = json_tokener_parse(
                "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":1,\"architectures\":"
                "[\"SCMP_ARCH_X86_64\"],\"syscalls\":[{\"names\":[\"read\",\"_llseek\"],\"action\":"
                "\"SCMP_ACT_ALLOW\"},{\"names\":[\"clone3\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":38}]"
                "}");
        _cleanup_free_ char *error = NULL;

        assert(profile);
        CHECK(seccomp_profile_validate(profile, "minimal.json", &error) == 0);
        CHECK(!error);
}

static void test_load_file_errors(void) {
        char path[] = "/tmp/test-seccomp-profile-XXXXXX";
        _cleanup_json_ json_object *profile = NULL;
        _cleanup_free_ char *error = NULL, *error2 = NULL;
        int fd;

        CHECK(seccomp_profile_load("/nonexistent/seccomp.json", &profile, &error) == -ENOENT);
        CHECK(error && strstr(error, "/nonexistent/seccomp.json"));
        CHECK(!profile);

        fd = mkstemp(path);
        assert(fd >= 0);
        assert(write(fd, "{\"defaultAction\": ", 18) == 18);
        close(fd);

        CHECK(seccomp_profile_load(path, &profile, &error2) == -EINVAL);
        CHECK(error2 && strstr(error2, "not valid JSON"));
        CHECK(!profile);
        CHECK(unlink(path) == 0);
}

int main(int argc, char *argv[]) {
        if (argc != 2) {
                fprintf(stderr, "Usage: %s PROFILE\n", argv[0]);
                return EXIT_FAILURE;
        }

        test_shipped_profile_loads(argv[1]);
        test_invalid_profiles();
        test_valid_minimal_profile();
        test_load_file_errors();

        if (failures > 0) {
                fprintf(stderr, "%d checks failed\n", failures);
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}
