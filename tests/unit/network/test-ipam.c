/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests of the persisted IPv4 allocator: uniqueness, idempotence,
 * round-robin reuse, wraparound, exhaustion, persistence and rejection of
 * corrupt state files. Runs in a temporary directory, no network access. */

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "network/ipam.h"

#define CHECK(expr)                                                                              \
        do {                                                                                     \
                if (!(expr)) {                                                                   \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #expr); \
                        exit(EXIT_FAILURE);                                                      \
                }                                                                                \
        } while (0)

#define CHECK_ADDR(addr, text) CHECK(streq(addr_str(addr), text))

static char tmpdir[] = "/tmp/test-ipam.XXXXXX";

static const char *addr_str(struct in_addr a) {
        static char buf[INET_ADDRSTRLEN];
        return inet_ntop(AF_INET, &a, buf, sizeof(buf));
}

static struct in_addr addr(const char *s) {
        struct in_addr a;
        CHECK(inet_pton(AF_INET, s, &a) == 1);
        return a;
}

static char *state_path(const char *name) {
        char *p;
        CHECK(asprintf(&p, "%s/%s", tmpdir, name) > 0);
        return p;
}

static void write_text(const char *path, const char *text) {
        FILE *f = fopen(path, "we");
        CHECK(f);
        CHECK(fputs(text, f) >= 0);
        CHECK(fclose(f) == 0);
}

static char *read_text(const char *path) {
        char *buf = calloc(1, 65536);
        FILE *f = fopen(path, "re");
        CHECK(buf);
        CHECK(f);
        (void)fread(buf, 1, 65535, f);
        fclose(f);
        return buf;
}

/* Counts directory entries whose name starts with prefix. */
static unsigned count_files(const char *prefix) {
        DIR *d = opendir(tmpdir);
        struct dirent *de;
        unsigned n = 0;

        CHECK(d);
        while ((de = readdir(d)))
                if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
                        n++;
        closedir(d);
        return n;
}

static void test_open_rejects_bad_subnet(void) {
        _cleanup_free_ char *path = state_path("bad-subnet.json");
        Ipam *ipam = NULL;

        CHECK(ipam_open(path, addr("10.88.0.1"), 16, &ipam) == -EINVAL);
        CHECK(ipam_open(path, addr("10.88.0.0"), 31, &ipam) == -EINVAL);
        CHECK(ipam_open(path, addr("10.0.0.0"), 7, &ipam) == -EINVAL);
        CHECK(!ipam);
        CHECK(access(path, F_OK) < 0);
}

static void test_allocate_is_unique_and_idempotent(void) {
        _cleanup_free_ char *path = state_path("unique.json");
        _cleanup_ipam_ Ipam *ipam = NULL;
        struct in_addr a, b, c, again;

        CHECK(ipam_open(path, addr("10.88.0.0"), 16, &ipam) == 0);
        CHECK_ADDR(ipam_gateway(ipam), "10.88.0.1");
        CHECK(ipam_prefix(ipam) == 16);

        /* Opening does not create the file, the first change does. */
        CHECK(access(path, F_OK) < 0);

        CHECK(ipam_allocate(ipam, "aaaaaaaaaaaa", &a) == 1);
        CHECK(ipam_allocate(ipam, "bbbbbbbbbbbb", &b) == 1);
        CHECK(ipam_allocate(ipam, "cccccccccccc", &c) == 1);
        CHECK_ADDR(a, "10.88.0.2");
        CHECK_ADDR(b, "10.88.0.3");
        CHECK_ADDR(c, "10.88.0.4");
        CHECK(access(path, F_OK) == 0);

        CHECK(ipam_allocate(ipam, "bbbbbbbbbbbb", &again) == 0);
        CHECK(again.s_addr == b.s_addr);
        CHECK(ipam_lookup(ipam, "cccccccccccc", &again) == 0);
        CHECK(again.s_addr == c.s_addr);
        CHECK(ipam_lookup(ipam, "dddddddddddd", &again) == -ENOENT);
        CHECK(ipam_allocate(ipam, "", &again) == -EINVAL);

        /* No temporary files are left next to the state file. */
        CHECK(count_files("unique.json.tmp") == 0);
}

static void test_release_is_not_reused_until_wraparound(void) {
        _cleanup_free_ char *path = state_path("roundrobin.json");
        _cleanup_ipam_ Ipam *ipam = NULL;
        struct in_addr a;

        /* A /29 has hosts .2 to .6 after the network (.0), gateway (.1) and
         * broadcast (.7) addresses. */
        CHECK(ipam_open(path, addr("192.168.5.0"), 29, &ipam) == 0);

        CHECK(ipam_allocate(ipam, "one", &a) == 1);
        CHECK_ADDR(a, "192.168.5.2");
        CHECK(ipam_allocate(ipam, "two", &a) == 1);
        CHECK_ADDR(a, "192.168.5.3");

        CHECK(ipam_release(ipam, "one") == 1);
        CHECK(ipam_release(ipam, "one") == 0);
        CHECK(ipam_lookup(ipam, "one", &a) == -ENOENT);

        /* .2 is free again but the cursor is past it. */
        CHECK(ipam_allocate(ipam, "three", &a) == 1);
        CHECK_ADDR(a, "192.168.5.4");
        CHECK(ipam_allocate(ipam, "four", &a) == 1);
        CHECK_ADDR(a, "192.168.5.5");
        CHECK(ipam_allocate(ipam, "five", &a) == 1);
        CHECK_ADDR(a, "192.168.5.6");

        /* The cursor wraps around to the start and finds .2 free. */
        CHECK(ipam_allocate(ipam, "six", &a) == 1);
        CHECK_ADDR(a, "192.168.5.2");

        /* Every host address is now taken. */
        CHECK(ipam_allocate(ipam, "seven", &a) == -ENOSPC);
        CHECK(ipam_lookup(ipam, "seven", &a) == -ENOENT);

        /* Releasing one frees exactly that one, wherever the cursor is. */
        CHECK(ipam_release(ipam, "four") == 1);
        CHECK(ipam_allocate(ipam, "seven", &a) == 1);
        CHECK_ADDR(a, "192.168.5.5");
        CHECK(ipam_allocate(ipam, "eight", &a) == -ENOSPC);
}

static void test_smallest_subnet(void) {
        _cleanup_free_ char *path = state_path("slash30.json");
        _cleanup_ipam_ Ipam *ipam = NULL;
        struct in_addr a;

        CHECK(ipam_open(path, addr("10.1.2.4"), 30, &ipam) == 0);
        CHECK_ADDR(ipam_gateway(ipam), "10.1.2.5");
        CHECK(ipam_allocate(ipam, "only", &a) == 1);
        CHECK_ADDR(a, "10.1.2.6");
        CHECK(ipam_allocate(ipam, "other", &a) == -ENOSPC);
}

static void test_state_survives_reopen(void) {
        _cleanup_free_ char *path = state_path("persist.json");
        _cleanup_strv_free_ char **owners = NULL;
        Ipam *ipam = NULL;
        struct in_addr a;

        CHECK(ipam_open(path, addr("10.88.0.0"), 16, &ipam) == 0);
        CHECK(ipam_allocate(ipam, "0123456789ab", &a) == 1);
        CHECK(ipam_allocate(ipam, "ba9876543210", &a) == 1);
        CHECK(ipam_allocate(ipam, "ffffffffffff", &a) == 1);
        CHECK(ipam_release(ipam, "0123456789ab") == 1);
        ipam = ipam_free(ipam);

        CHECK(ipam_open(path, addr("10.88.0.0"), 16, &ipam) == 0);
        CHECK(ipam_lookup(ipam, "0123456789ab", &a) == -ENOENT);
        CHECK(ipam_lookup(ipam, "ba9876543210", &a) == 0);
        CHECK_ADDR(a, "10.88.0.3");
        CHECK(ipam_lookup(ipam, "ffffffffffff", &a) == 0);
        CHECK_ADDR(a, "10.88.0.4");

        /* The cursor is persisted too: the next address is .5, not the
         * released .2. */
        CHECK(ipam_allocate(ipam, "new", &a) == 1);
        CHECK_ADDR(a, "10.88.0.5");

        CHECK(ipam_owners(ipam, &owners) == 0);
        CHECK(owners[0]);
        CHECK(streq(owners[0], "ba9876543210"));
        CHECK(owners[1]);
        CHECK(streq(owners[1], "ffffffffffff"));
        CHECK(owners[2]);
        CHECK(streq(owners[2], "new"));
        CHECK(!owners[3]);
        ipam = ipam_free(ipam);

        /* The same file under another subnet is rejected, not reset. */
        CHECK(ipam_open(path, addr("10.89.0.0"), 16, &ipam) == -EADDRNOTAVAIL);
        CHECK(ipam_open(path, addr("10.88.0.0"), 17, &ipam) == -EADDRNOTAVAIL);
}

static void test_owner_with_special_characters(void) {
        _cleanup_free_ char *path = state_path("escape.json");
        Ipam *ipam = NULL;
        struct in_addr a;
        const char *owner = "quote\" slash/ back\\ newline\n";

        CHECK(ipam_open(path, addr("10.88.0.0"), 24, &ipam) == 0);
        CHECK(ipam_allocate(ipam, owner, &a) == 1);
        ipam = ipam_free(ipam);

        CHECK(ipam_open(path, addr("10.88.0.0"), 24, &ipam) == 0);
        CHECK(ipam_lookup(ipam, owner, &a) == 0);
        CHECK_ADDR(a, "10.88.0.2");
        ipam = ipam_free(ipam);
}

static const struct {
        const char *name;
        const char *text;
} corrupt_cases[] = {
        {"empty", ""},
        {"truncated", "{ \"version\": 1, \"subnet\": \"10.88.0.0/16\", \"next\": \"10.88"},
        {"trailing-garbage", "{ \"version\": 1, \"subnet\": \"10.88.0.0/16\", \"next\": \"10.88.0.2\", "
                             "\"allocations\": {} } xyz"},
        {"not-an-object", "[1, 2, 3]"},
        {"wrong-version", "{ \"version\": 2, \"subnet\": \"10.88.0.0/16\", \"next\": \"10.88.0.2\", "
                          "\"allocations\": {} }"},
        {"missing-next", "{ \"version\": 1, \"subnet\": \"10.88.0.0/16\", \"allocations\": {} }"},
        {"next-is-gateway", "{ \"version\": 1, \"subnet\": \"10.88.0.0/16\", \"next\": \"10.88.0.1\", "
                            "\"allocations\": {} }"},
        {"missing-allocations", "{ \"version\": 1, \"subnet\": \"10.88.0.0/16\", \"next\": \"10.88.0.2\" }"},
        {"address-outside-subnet",
         "{ \"version\": 1, \"subnet\": \"10.88.0.0/16\", \"next\": \"10.88.0.2\", "
         "\"allocations\": { \"a\": \"10.99.0.2\" } }"},
        {"address-is-broadcast", "{ \"version\": 1, \"subnet\": \"10.88.0.0/16\", \"next\": \"10.88.0.2\", "
                                 "\"allocations\": { \"a\": \"10.88.255.255\" } }"},
        {"address-not-a-string", "{ \"version\": 1, \"subnet\": \"10.88.0.0/16\", \"next\": \"10.88.0.2\", "
                                 "\"allocations\": { \"a\": 7 } }"},
        {"address-owned-twice", "{ \"version\": 1, \"subnet\": \"10.88.0.0/16\", \"next\": \"10.88.0.2\", "
                                "\"allocations\": { \"a\": \"10.88.0.9\", \"b\": \"10.88.0.9\" } }"},
        {"empty-owner", "{ \"version\": 1, \"subnet\": \"10.88.0.0/16\", \"next\": \"10.88.0.2\", "
                        "\"allocations\": { \"\": \"10.88.0.9\" } }"},
};

static void test_corrupt_file_is_rejected(void) {
        for (size_t i = 0; i < ELEMENTSOF(corrupt_cases); i++) {
                _cleanup_free_ char *path = state_path(corrupt_cases[i].name);
                _cleanup_free_ char *after = NULL, *moved = NULL;
                Ipam *ipam = NULL;
                int r;

                write_text(path, corrupt_cases[i].text);
                r = ipam_open(path, addr("10.88.0.0"), 16, &ipam);
                if (r != -EBADMSG)
                        fprintf(stderr, "case %s: ipam_open() returned %d\n", corrupt_cases[i].name, r);
                CHECK(r == -EBADMSG);
                CHECK(!ipam);

                /* The file is left exactly as it was. */
                after = read_text(path);
                CHECK(streq(after, corrupt_cases[i].text));

                /* Moving it aside lets a fresh allocator start. */
                CHECK(ipam_move_aside(path, &moved) == 0);
                CHECK(access(path, F_OK) < 0);
                CHECK(access(moved, F_OK) == 0);
                CHECK(strncmp(moved, path, strlen(path)) == 0);
                CHECK(ipam_open(path, addr("10.88.0.0"), 16, &ipam) == 0);
                ipam = ipam_free(ipam);
        }
}

static void test_valid_file_written_by_hand(void) {
        _cleanup_free_ char *path = state_path("by-hand.json");
        _cleanup_ipam_ Ipam *ipam = NULL;
        struct in_addr a;

        write_text(path, "{ \"version\": 1, \"subnet\": \"10.88.0.0/16\", \"next\": \"10.88.255.254\", "
                         "\"allocations\": { \"x\": \"10.88.0.2\" } }");
        CHECK(ipam_open(path, addr("10.88.0.0"), 16, &ipam) == 0);

        /* .254 is the last host, then the cursor wraps and skips the taken .2. */
        CHECK(ipam_allocate(ipam, "y", &a) == 1);
        CHECK_ADDR(a, "10.88.255.254");
        CHECK(ipam_allocate(ipam, "z", &a) == 1);
        CHECK_ADDR(a, "10.88.0.3");
}

static void test_failed_write_changes_nothing(void) {
        _cleanup_free_ char *dir = state_path("readonly");
        _cleanup_free_ char *path = NULL;
        _cleanup_ipam_ Ipam *ipam = NULL;
        struct in_addr a;

        CHECK(asprintf(&path, "%s/state.json", dir) > 0);
        CHECK(mkdir(dir, 0755) == 0);
        CHECK(ipam_open(path, addr("10.88.0.0"), 24, &ipam) == 0);
        CHECK(ipam_allocate(ipam, "kept", &a) == 1);

        /* Replace the directory by a file so that no temporary file can be
         * created in it; this works as root, unlike removing permissions. */
        CHECK(unlink(path) == 0);
        CHECK(rmdir(dir) == 0);
        write_text(dir, "");

        CHECK(ipam_allocate(ipam, "lost", &a) < 0);
        CHECK(ipam_lookup(ipam, "lost", &a) == -ENOENT);
        CHECK(ipam_release(ipam, "kept") < 0);
        CHECK(ipam_lookup(ipam, "kept", &a) == 0);
        CHECK_ADDR(a, "10.88.0.2");

        /* With the directory back, the cursor is where it was: the failed
         * allocation did not advance it. */
        CHECK(unlink(dir) == 0);
        CHECK(mkdir(dir, 0755) == 0);
        CHECK(ipam_allocate(ipam, "next", &a) == 1);
        CHECK_ADDR(a, "10.88.0.3");
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        return remove(path) < 0 ? -errno : 0;
}

static void remove_tmpdir(void) {
        CHECK(nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0);
}

int main(void) {
        CHECK(mkdtemp(tmpdir));

        test_open_rejects_bad_subnet();
        test_allocate_is_unique_and_idempotent();
        test_release_is_not_reused_until_wraparound();
        test_smallest_subnet();
        test_state_survives_reopen();
        test_owner_with_special_characters();
        test_corrupt_file_is_rejected();
        test_valid_file_written_by_hand();
        test_failed_write_changes_nothing();

        remove_tmpdir();
        return EXIT_SUCCESS;
}
