/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests of the state store in daemon/core/store.c: round trips, removal,
 * corrupt documents moved to <root>/corrupt/, leftover temporary files, and
 * a crash test that SIGKILLs a writer at random instants and checks that
 * every document is still complete afterwards.
 *
 * The crash test kills a process, so it checks atomicity against process
 * death only. Power loss also depends on the fsync() calls of
 * store_write_file_atomic(), which no unit test can check. */

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "core-test.h"
#include "core/store.h"

static void json_object_putp(json_object **o) {
        json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_object_putp)

/* Documents seen by one store_load() call. */
typedef struct Loaded {
        char *ids[64];
        json_object *docs[64];
        size_t n;
} Loaded;

static void loaded_done(Loaded *l) {
        for (size_t i = 0; i < l->n; i++) {
                free(l->ids[i]);
                json_object_put(l->docs[i]);
        }
        *l = (Loaded){};
}

static json_object *loaded_find(Loaded *l, const char *id) {
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->ids[i], id))
                        return l->docs[i];
        return NULL;
}

/* Accepts a document only when it carries a string field "Name", the way
 * the *_from_json functions reject a document without a required field. */
static int collect(StoreKind kind, const char *id, json_object *doc, void *userdata) {
        Loaded *l = userdata;
        json_object *name;

        if (!json_object_object_get_ex(doc, "Name", &name) || !json_object_is_type(name, json_type_string))
                return -EBADMSG;
        ASSERT(l->n < ELEMENTSOF(l->ids));
        l->ids[l->n] = strdup(id);
        ASSERT(l->ids[l->n]);
        l->docs[l->n] = json_object_get(doc);
        l->n++;
        return 0;
}

static json_object *make_doc(const char *name, int64_t value) {
        json_object *o = json_object_new_object();

        ASSERT(o);
        ASSERT(json_object_object_add(o, "Name", json_object_new_string(name)) == 0);
        ASSERT(json_object_object_add(o, "Value", json_object_new_int64(value)) == 0);
        return o;
}

static char *path_join(const char *a, const char *b) {
        char *p;

        ASSERT(asprintf(&p, "%s/%s", a, b) > 0);
        return p;
}

static void write_text(const char *path, const char *text) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        size_t n = strlen(text);

        ASSERT(fd >= 0);
        ASSERT(write(fd, text, n) == (ssize_t)n);
}

static bool exists(const char *path) {
        return access(path, F_OK) == 0;
}

/* Counts the entries of a directory whose names start with prefix. */
static unsigned count_entries(const char *dir, const char *prefix) {
        DIR *d = opendir(dir);
        struct dirent *de;
        unsigned n = 0;

        if (!d)
                return 0;
        while ((de = readdir(d)))
                if (strncmp(de->d_name, prefix, strlen(prefix)) == 0 && !streq(de->d_name, ".") &&
                    !streq(de->d_name, ".."))
                        n++;
        closedir(d);
        return n;
}

static void test_store_open_layout(void) {
        char *root = test_tmpdir("test-store");
        _cleanup_free_ char *sub = path_join(root, "state");
        static const char *const dirs[] = {"services", "operations", "auto-scaling-configurations",
                                           "connections"};
        Store *s = NULL;

        /* store_open() creates the root itself, but not its parents. */
        ASSERT_INT_EQ(store_open(sub, &s), 0);
        ASSERT_STR_EQ(store_root(s), sub);
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                _cleanup_free_ char *p = path_join(sub, dirs[i]);
                struct stat st;

                ASSERT_INT_EQ(stat(p, &st), 0);
                ASSERT(S_ISDIR(st.st_mode));
                ASSERT_INT_EQ(st.st_mode & 0777, 0700);
        }
        s = store_free(s);

        /* Opening an existing store works too. */
        ASSERT_INT_EQ(store_open(sub, &s), 0);
        store_free(s);

        {
                _cleanup_free_ char *missing = path_join(root, "no/such/parent");
                ASSERT_INT_EQ(store_open(missing, &s), -ENOENT);
        }
        test_tmpdir_remove(root);
}

static void test_store_round_trip(void) {
        char *root = test_tmpdir("test-store");
        _cleanup_free_ char *file = path_join(root, "services/0123abcd.json");
        _cleanup_json_ json_object *doc = make_doc("first", 1), *doc2 = make_doc("second", 2);
        Loaded l = {};
        Store *s = NULL;
        struct stat st;

        ASSERT_INT_EQ(store_open(root, &s), 0);
        ASSERT_INT_EQ(store_write(s, STORE_SERVICES, "0123abcd", doc), 0);
        ASSERT_INT_EQ(stat(file, &st), 0);
        ASSERT_INT_EQ(st.st_mode & 0777, 0600);

        ASSERT_INT_EQ(store_load(s, STORE_SERVICES, collect, &l), 0);
        ASSERT_INT_EQ(l.n, 1);
        ASSERT_STR_EQ(l.ids[0], "0123abcd");
        ASSERT(json_object_equal(l.docs[0], doc));
        loaded_done(&l);

        /* Other kinds are separate directories. */
        ASSERT_INT_EQ(store_load(s, STORE_OPERATIONS, collect, &l), 0);
        ASSERT_INT_EQ(l.n, 0);

        /* A second write replaces the document. */
        ASSERT_INT_EQ(store_write(s, STORE_SERVICES, "0123abcd", doc2), 0);
        ASSERT_INT_EQ(store_load(s, STORE_SERVICES, collect, &l), 0);
        ASSERT_INT_EQ(l.n, 1);
        ASSERT(json_object_equal(l.docs[0], doc2));
        loaded_done(&l);

        /* No temporary file stays behind after successful writes. */
        {
                _cleanup_free_ char *dir = path_join(root, "services");
                ASSERT_INT_EQ(count_entries(dir, ".#"), 0);
                ASSERT_INT_EQ(count_entries(dir, ""), 1);
        }

        /* Reopening the store reads the same document. */
        s = store_free(s);
        ASSERT_INT_EQ(store_open(root, &s), 0);
        ASSERT_INT_EQ(store_load(s, STORE_SERVICES, collect, &l), 0);
        ASSERT_INT_EQ(l.n, 1);
        ASSERT(json_object_equal(l.docs[0], doc2));
        loaded_done(&l);

        store_free(s);
        test_tmpdir_remove(root);
}

static void test_store_load_order(void) {
        static const char *const ids[] = {"cc", "aa", "bb", "ab"};
        static const char *const sorted[] = {"aa", "ab", "bb", "cc"};
        char *root = test_tmpdir("test-store");
        Loaded l = {};
        Store *s = NULL;

        ASSERT_INT_EQ(store_open(root, &s), 0);
        for (size_t i = 0; i < ELEMENTSOF(ids); i++) {
                _cleanup_json_ json_object *doc = make_doc(ids[i], (int64_t)i);
                ASSERT_INT_EQ(store_write(s, STORE_CONNECTIONS, ids[i], doc), 0);
        }
        ASSERT_INT_EQ(store_load(s, STORE_CONNECTIONS, collect, &l), 0);
        ASSERT_INT_EQ(l.n, ELEMENTSOF(sorted));
        for (size_t i = 0; i < ELEMENTSOF(sorted); i++)
                ASSERT_STR_EQ(l.ids[i], sorted[i]);
        loaded_done(&l);

        store_free(s);
        test_tmpdir_remove(root);
}

static void test_store_remove(void) {
        char *root = test_tmpdir("test-store");
        _cleanup_free_ char *file = path_join(root, "operations/op1.json");
        _cleanup_json_ json_object *doc = make_doc("op", 1);
        Loaded l = {};
        Store *s = NULL;

        ASSERT_INT_EQ(store_open(root, &s), 0);
        ASSERT_INT_EQ(store_write(s, STORE_OPERATIONS, "op1", doc), 0);
        ASSERT(exists(file));
        ASSERT_INT_EQ(store_remove(s, STORE_OPERATIONS, "op1"), 0);
        ASSERT(!exists(file));
        ASSERT_INT_EQ(store_load(s, STORE_OPERATIONS, collect, &l), 0);
        ASSERT_INT_EQ(l.n, 0);

        /* Removing a document that does not exist succeeds. */
        ASSERT_INT_EQ(store_remove(s, STORE_OPERATIONS, "op1"), 0);
        ASSERT_INT_EQ(store_remove(s, STORE_OPERATIONS, "never-written"), 0);

        store_free(s);
        test_tmpdir_remove(root);
}

/* Corrupt documents: each is moved to <root>/corrupt/<kind>-<file>.<usec>,
 * counted in store_load()'s result, and never passed on as loaded. */
static void test_store_corrupt(void) {
        static const struct {
                const char *file;
                const char *text;
        } corrupt[] = {
                {"truncated.json", "{ \"Name\": \"trunc"},
                {"unterminated.json", "{ \"Name\": \"x\", \"Value\": 1"},
                {"missing-field.json", "{ \"Value\": 1 }"},
                {"wrong-type.json", "{ \"Name\": 5 }"},
                {"not-an-object.json", "[ \"Name\" ]"},
                {"garbage.json", "\x01\x02\xff"},
        };
        char *root = test_tmpdir("test-store");
        _cleanup_free_ char *dir = path_join(root, "services"), *corrupt_dir = path_join(root, "corrupt");
        _cleanup_json_ json_object *good = make_doc("good", 7);
        Loaded l = {};
        Store *s = NULL;

        ASSERT_INT_EQ(store_open(root, &s), 0);
        ASSERT_INT_EQ(store_write(s, STORE_SERVICES, "good", good), 0);
        for (size_t i = 0; i < ELEMENTSOF(corrupt); i++) {
                _cleanup_free_ char *p = path_join(dir, corrupt[i].file);
                write_text(p, corrupt[i].text);
        }

        ASSERT_INT_EQ(store_load(s, STORE_SERVICES, collect, &l), (int)ELEMENTSOF(corrupt));
        ASSERT_INT_EQ(l.n, 1);
        ASSERT_STR_EQ(l.ids[0], "good");
        ASSERT(json_object_equal(l.docs[0], good));
        loaded_done(&l);

        /* Every corrupt file left the kind's directory and sits, with its
         * content unchanged, in corrupt/. */
        ASSERT_INT_EQ(count_entries(dir, ""), 1);
        ASSERT_INT_EQ(count_entries(corrupt_dir, ""), ELEMENTSOF(corrupt));
        for (size_t i = 0; i < ELEMENTSOF(corrupt); i++) {
                _cleanup_free_ char *original = path_join(dir, corrupt[i].file), *prefix = NULL;
                DIR *d;
                struct dirent *de;
                bool found = false;

                ASSERT(!exists(original));
                ASSERT(asprintf(&prefix, "services-%s.", corrupt[i].file) > 0);
                ASSERT_INT_EQ(count_entries(corrupt_dir, prefix), 1);

                d = opendir(corrupt_dir);
                ASSERT(d);
                while ((de = readdir(d))) {
                        _cleanup_free_ char *moved = NULL;
                        char buf[256] = {};
                        _cleanup_close_ int fd = -1;

                        if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
                                continue;
                        moved = path_join(corrupt_dir, de->d_name);
                        fd = open(moved, O_RDONLY | O_CLOEXEC);
                        ASSERT(fd >= 0);
                        ASSERT(read(fd, buf, sizeof(buf) - 1) == (ssize_t)strlen(corrupt[i].text));
                        ASSERT_STR_EQ(buf, corrupt[i].text);
                        found = true;
                }
                closedir(d);
                ASSERT(found);
        }

        /* A second load finds only the good document. */
        ASSERT_INT_EQ(store_load(s, STORE_SERVICES, collect, &l), 0);
        ASSERT_INT_EQ(l.n, 1);
        loaded_done(&l);

        /* A second corrupt file of the same name gets its own name in
         * corrupt/, so the first one is kept. */
        {
                _cleanup_free_ char *p = path_join(dir, "truncated.json");
                write_text(p, "{");
                ASSERT_INT_EQ(store_load(s, STORE_SERVICES, collect, &l), 1);
                ASSERT_INT_EQ(l.n, 1);
                loaded_done(&l);
                ASSERT_INT_EQ(count_entries(corrupt_dir, "services-truncated.json."), 2);
        }

        store_free(s);
        test_tmpdir_remove(root);
}

static void test_store_leftovers(void) {
        char *root = test_tmpdir("test-store");
        _cleanup_free_ char *dir = path_join(root, "connections");
        _cleanup_free_ char *temp = path_join(dir, ".#c1.json.4242.0"), *hidden = path_join(dir, ".keep"),
                            *other = path_join(dir, "README"), *backup = path_join(dir, "c1.json.bak");
        _cleanup_json_ json_object *doc = make_doc("c1", 1);
        Loaded l = {};
        Store *s = NULL;

        ASSERT_INT_EQ(store_open(root, &s), 0);
        ASSERT_INT_EQ(store_write(s, STORE_CONNECTIONS, "c1", doc), 0);
        write_text(temp, "{ \"Name\": \"half-writ");
        write_text(hidden, "not a document");
        write_text(other, "not a document");
        write_text(backup, "not a document");

        ASSERT_INT_EQ(store_load(s, STORE_CONNECTIONS, collect, &l), 0);
        ASSERT_INT_EQ(l.n, 1);
        ASSERT_STR_EQ(l.ids[0], "c1");
        loaded_done(&l);

        /* The temporary file of an interrupted write is removed, but files
         * that are not documents are left alone. */
        ASSERT(!exists(temp));
        ASSERT(exists(hidden));
        ASSERT(exists(other));
        ASSERT(exists(backup));
        ASSERT_INT_EQ(count_entries(root, "corrupt"), 0);

        store_free(s);
        test_tmpdir_remove(root);
}

static void test_store_write_file_atomic(void) {
        char *root = test_tmpdir("test-store");
        _cleanup_free_ char *file = path_join(root, "secret");
        _cleanup_close_ int dir_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        char buf[64] = {};
        struct stat st;

        ASSERT(dir_fd >= 0);
        ASSERT_INT_EQ(store_write_file_atomic(dir_fd, "secret", "one", 3, 0600), 0);
        ASSERT_INT_EQ(store_write_file_atomic(dir_fd, "secret", "two!", 4, 0640), 0);
        ASSERT_INT_EQ(stat(file, &st), 0);
        ASSERT_INT_EQ(st.st_size, 4);
        {
                _cleanup_close_ int fd = open(file, O_RDONLY | O_CLOEXEC);
                ASSERT(fd >= 0);
                ASSERT_INT_EQ(read(fd, buf, sizeof(buf)), 4);
                ASSERT_STR_EQ(buf, "two!");
        }
        ASSERT_INT_EQ(count_entries(root, ".#"), 0);
        ASSERT_INT_EQ(count_entries(root, ""), 1);

        /* A name too long for a temporary name next to it is rejected. */
        {
                char name[300];
                memset(name, 'n', sizeof(name) - 1);
                name[sizeof(name) - 1] = '\0';
                ASSERT_INT_EQ(store_write_file_atomic(dir_fd, name, "x", 1, 0600), -ENAMETOOLONG);
        }
        test_tmpdir_remove(root);
}

/* The crash test. Each document carries a counter and fields derived from
 * it, padded past one page, so that a torn document (old and new bytes
 * mixed, or cut short) fails the consistency check. */

#define CRASH_DOCUMENTS 8
#define CRASH_ROUNDS    200
#define CRASH_PADDING   6000

static void crash_id(unsigned i, char ret[static 16]) {
        snprintf(ret, 16, "doc%u", i);
}

static json_object *crash_doc(const char *id, uint64_t counter) {
        char check[64], *padding;
        json_object *o;

        padding = malloc(CRASH_PADDING + 1);
        ASSERT(padding);
        for (size_t k = 0; k < CRASH_PADDING; k++)
                padding[k] = (char)('a' + (counter + k) % 26);
        padding[CRASH_PADDING] = '\0';
        snprintf(check, sizeof(check), "%s/%" PRIu64 "/%" PRIu64, id, counter, counter * 2654435761u);

        o = make_doc(id, (int64_t)counter);
        ASSERT(json_object_object_add(o, "Padding", json_object_new_string(padding)) == 0);
        ASSERT(json_object_object_add(o, "Check", json_object_new_string(check)) == 0);
        free(padding);
        return o;
}

/* Returns the document's counter after checking that every field matches
 * it. Aborts on a torn or foreign document. */
static uint64_t crash_check(const char *id, json_object *doc) {
        json_object *value;
        uint64_t counter;
        _cleanup_json_ json_object *expected = NULL;

        ASSERT(json_object_object_get_ex(doc, "Value", &value));
        ASSERT(json_object_is_type(value, json_type_int));
        counter = (uint64_t)json_object_get_int64(value);
        expected = crash_doc(id, counter);
        ASSERT(json_object_equal(doc, expected));
        return counter;
}

/* Rewrites every document in a loop until killed. Counters start at
 * 'first' so that each round writes values no earlier round wrote. */
_noreturn_ static void crash_writer(Store *s, uint64_t first) {
        for (uint64_t counter = first;; counter++)
                for (unsigned i = 0; i < CRASH_DOCUMENTS; i++) {
                        char id[16];
                        json_object *doc;

                        crash_id(i, id);
                        doc = crash_doc(id, counter);
                        if (store_write(s, STORE_SERVICES, id, doc) < 0)
                                _exit(EXIT_FAILURE);
                        json_object_put(doc);
                }
}

static void test_store_crash(void) {
        char *root = test_tmpdir("test-store-crash");
        _cleanup_free_ char *dir = path_join(root, "services");
        uint64_t last[CRASH_DOCUMENTS] = {};
        unsigned rounds_with_progress = 0;
        Store *s = NULL;

        srand((unsigned)time(NULL));
        ASSERT_INT_EQ(store_open(root, &s), 0);
        for (unsigned i = 0; i < CRASH_DOCUMENTS; i++) {
                char id[16];
                _cleanup_json_ json_object *doc = NULL;

                crash_id(i, id);
                doc = crash_doc(id, 0);
                ASSERT_INT_EQ(store_write(s, STORE_SERVICES, id, doc), 0);
        }

        for (unsigned round = 1; round <= CRASH_ROUNDS; round++) {
                Loaded l = {};
                bool progress = false;
                int status;
                pid_t pid;

                pid = fork();
                ASSERT(pid >= 0);
                if (pid == 0)
                        crash_writer(s, (uint64_t)round * 1000000u);

                /* 0 to 20 ms, so that kills land at different points of
                 * the write loop, some before the first write ends. */
                usleep((useconds_t)(rand() % 20000));
                ASSERT_INT_EQ(kill(pid, SIGKILL), 0);
                ASSERT_INT_EQ(waitpid(pid, &status, 0), pid);
                ASSERT(WIFSIGNALED(status));
                ASSERT_INT_EQ(WTERMSIG(status), SIGKILL);

                ASSERT_INT_EQ(store_load(s, STORE_SERVICES, collect, &l), 0);
                ASSERT_INT_EQ(l.n, CRASH_DOCUMENTS);
                for (unsigned i = 0; i < CRASH_DOCUMENTS; i++) {
                        char id[16];
                        json_object *doc;
                        uint64_t counter;

                        crash_id(i, id);
                        doc = loaded_find(&l, id);
                        ASSERT(doc);
                        counter = crash_check(id, doc);
                        /* A document is the last complete version: never
                         * older than what the previous round saw. */
                        ASSERT(counter >= last[i]);
                        if (counter > last[i])
                                progress = true;
                        last[i] = counter;
                }
                loaded_done(&l);

                /* store_load() removed the temporary file of the write the
                 * kill interrupted. */
                ASSERT_INT_EQ(count_entries(dir, ".#"), 0);
                ASSERT_INT_EQ(count_entries(dir, ""), CRASH_DOCUMENTS);
                rounds_with_progress += progress;
        }

        ASSERT_INT_EQ(count_entries(root, "corrupt"), 0);
        /* The test means something only if the writer completed a write
         * before the kill in at least a quarter of the rounds. */
        fprintf(stderr, "crash test: %u of %u rounds changed a document\n", rounds_with_progress,
                CRASH_ROUNDS);
        ASSERT(rounds_with_progress >= CRASH_ROUNDS / 4);

        store_free(s);
        test_tmpdir_remove(root);
}

int main(void) {
        test_store_open_layout();
        test_store_round_trip();
        test_store_load_order();
        test_store_remove();
        test_store_corrupt();
        test_store_leftovers();
        test_store_write_file_atomic();
        test_store_crash();
        return EXIT_SUCCESS;
}
