/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Assertions and temporary directories shared by the unit tests of
 * daemon/core/. The assertions work with NDEBUG too, print both values and
 * the location, and abort, so a failure under the sanitizers keeps its
 * stack trace. */

#include <ftw.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"

#define ASSERT(expr)                                                                                       \
        do {                                                                                               \
                if (!(expr)) {                                                                             \
                        fprintf(stderr, "%s:%d: %s: assertion failed: %s\n", __FILE__, __LINE__, __func__, \
                                #expr);                                                                    \
                        abort();                                                                           \
                }                                                                                          \
        } while (0)

#define ASSERT_INT_EQ(a, b)                                                                          \
        do {                                                                                         \
                intmax_t _a_ = (intmax_t)(a), _b_ = (intmax_t)(b);                                   \
                if (_a_ != _b_) {                                                                    \
                        fprintf(stderr, "%s:%d: %s: expected %s == %s, got %jd and %jd\n", __FILE__, \
                                __LINE__, __func__, #a, #b, _a_, _b_);                               \
                        abort();                                                                     \
                }                                                                                    \
        } while (0)

#define ASSERT_STR_EQ(a, b)                                                                                \
        do {                                                                                               \
                const char *_a_ = (a), *_b_ = (b);                                                         \
                if (!streq_ptr(_a_, _b_)) {                                                                \
                        fprintf(stderr, "%s:%d: %s: expected %s == %s, got \"%s\" and \"%s\"\n", __FILE__, \
                                __LINE__, __func__, #a, #b, strna(_a_), strna(_b_));                       \
                        abort();                                                                           \
                }                                                                                          \
        } while (0)

/* Checks that a message contains a substring, for error messages that must
 * name the offending value. */
#define ASSERT_CONTAINS(haystack, needle)                                                           \
        do {                                                                                        \
                const char *_h_ = (haystack), *_n_ = (needle);                                      \
                if (!_h_ || !strstr(_h_, _n_)) {                                                    \
                        fprintf(stderr, "%s:%d: %s: expected \"%s\" in %s, got \"%s\"\n", __FILE__, \
                                __LINE__, __func__, _n_, #haystack, strna(_h_));                    \
                        abort();                                                                    \
                }                                                                                   \
        } while (0)

static inline int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        return remove(path);
}

/* Creates a directory /tmp/<prefix>.XXXXXX and returns its path. */
static inline char *test_tmpdir(const char *prefix) {
        char *path;

        ASSERT(asprintf(&path, "/tmp/%s.XXXXXX", prefix) > 0);
        ASSERT(mkdtemp(path));
        return path;
}

/* Removes a directory tree made by test_tmpdir() and frees its path. */
static inline void test_tmpdir_remove(char *path) {
        if (!path)
                return;
        ASSERT(nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0);
        free(path);
}
