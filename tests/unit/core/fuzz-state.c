/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* libFuzzer target for the state store's parsers: the input is parsed as
 * JSON and handed to every *_from_json() function. Besides crashes and
 * leaks it checks that a document that loads survives *_to_json() and a
 * second *_from_json() unchanged, which is what a daemon restart does.
 *
 * Built with -DFUZZ_STANDALONE (no libFuzzer), main() runs the files named
 * on the command line once each, so the seed corpus runs as a unit test. */

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "core/serialize.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks that serializing doc's parse result again yields an equal
 * document. The DEFINE_CHECK functions below differ only in types. */
#define DEFINE_CHECK(name, type, from_json, to_json, free_func) \
        static void name(json_object *doc) {                    \
                type *x = NULL, *y = NULL;                      \
                json_object *first = NULL, *second = NULL;      \
                                                                \
                if (from_json(doc, &x) < 0)                     \
                        return;                                 \
                if (to_json(x, &first) < 0)                     \
                        abort();                                \
                if (from_json(first, &y) < 0)                   \
                        abort();                                \
                if (to_json(y, &second) < 0)                    \
                        abort();                                \
                if (!json_object_equal(first, second))          \
                        abort();                                \
                json_object_put(first);                         \
                json_object_put(second);                        \
                free_func(x);                                   \
                free_func(y);                                   \
        }

DEFINE_CHECK(check_service, Service, service_from_json, service_to_json, service_free);
DEFINE_CHECK(check_operation, Operation, operation_from_json, operation_to_json, operation_free);
DEFINE_CHECK(check_auto_scaling, AutoScalingConfiguration, auto_scaling_configuration_from_json,
             auto_scaling_configuration_to_json, auto_scaling_configuration_free);
DEFINE_CHECK(check_connection, Connection, connection_from_json, connection_to_json, connection_free);

static void check_spec(json_object *doc) {
        ServiceSpec x = {}, y = {};
        json_object *first = NULL, *second = NULL;

        if (service_spec_from_json(doc, &x) < 0)
                return;
        if (service_spec_to_json(&x, &first) < 0 || service_spec_from_json(first, &y) < 0 ||
            service_spec_to_json(&y, &second) < 0)
                abort();
        if (!json_object_equal(first, second))
                abort();
        json_object_put(first);
        json_object_put(second);
        service_spec_done(&x);
        service_spec_done(&y);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        json_tokener *tok;
        json_object *doc;

        if (size > INT_MAX)
                return 0;

        tok = json_tokener_new();
        if (!tok)
                abort();
        doc = json_tokener_parse_ex(tok, (const char *)data, (int)size);
        if (json_tokener_get_error(tok) == json_tokener_success) {
                check_service(doc);
                check_operation(doc);
                check_auto_scaling(doc);
                check_connection(doc);
                check_spec(doc);
        }
        json_object_put(doc);
        json_tokener_free(tok);
        return 0;
}

#ifdef FUZZ_STANDALONE
int main(int argc, char *argv[]) {
        for (int i = 1; i < argc; i++) {
                _cleanup_fclose_ FILE *f = fopen(argv[i], "re");
                char buf[65536];
                size_t n;

                if (!f) {
                        fprintf(stderr, "Failed to open %s: %m\n", argv[i]);
                        return EXIT_FAILURE;
                }
                n = fread(buf, 1, sizeof(buf), f);
                if (ferror(f) || !feof(f)) {
                        fprintf(stderr, "Failed to read %s, or it is larger than %zu bytes.\n", argv[i],
                                sizeof(buf));
                        return EXIT_FAILURE;
                }
                LLVMFuzzerTestOneInput((const uint8_t *)buf, n);
        }
        return EXIT_SUCCESS;
}
#endif
