/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Assertions of the apprunnerctl unit tests. Each failure prints the
 * expression and both values, and the test exits non-zero at the end. */

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

static int test_failures = 0;

#define EXPECT_TRUE(expr)                                                                         \
        do {                                                                                      \
                if (!(expr)) {                                                                    \
                        fprintf(stderr, "%s:%d: expected true: %s\n", __FILE__, __LINE__, #expr); \
                        test_failures++;                                                          \
                }                                                                                 \
        } while (0)

#define EXPECT_INT(actual, expected)                                                                       \
        do {                                                                                               \
                long long a_ = (long long)(actual), e_ = (long long)(expected);                            \
                if (a_ != e_) {                                                                            \
                        fprintf(stderr, "%s:%d: %s is %lld, expected %lld\n", __FILE__, __LINE__, #actual, \
                                a_, e_);                                                                   \
                        test_failures++;                                                                   \
                }                                                                                          \
        } while (0)

#define EXPECT_STR(actual, expected)                                                                        \
        do {                                                                                                \
                const char *a_ = (actual), *e_ = (expected);                                                \
                if (!a_ || !e_ || strcmp(a_, e_) != 0) {                                                    \
                        fprintf(stderr, "%s:%d: %s is\n  \"%s\"\nexpected\n  \"%s\"\n", __FILE__, __LINE__, \
                                #actual, a_ ? a_ : "(null)", e_ ? e_ : "(null)");                           \
                        test_failures++;                                                                    \
                }                                                                                           \
        } while (0)

/* Compares the JSON value actual with the JSON text expected. */
#define EXPECT_JSON(actual, expected)                                                                      \
        do {                                                                                               \
                json_object *e_ = json_tokener_parse(expected);                                            \
                if (!e_ || !json_object_equal((actual), e_)) {                                             \
                        fprintf(stderr, "%s:%d: %s is\n  %s\nexpected\n  %s\n", __FILE__, __LINE__,        \
                                #actual, json_object_to_json_string_ext((actual), JSON_C_TO_STRING_PLAIN), \
                                (expected));                                                               \
                        test_failures++;                                                                   \
                }                                                                                          \
                json_object_put(e_);                                                                       \
        } while (0)

static inline int test_result(const char *name) {
        if (test_failures > 0) {
                fprintf(stderr, "%s: %d check(s) failed\n", name, test_failures);
                return 1;
        }
        return 0;
}
