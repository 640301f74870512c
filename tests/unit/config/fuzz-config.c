/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* libFuzzer target for config_load(): the input becomes the main file of a
 * temporary configuration root. Besides crashes and leaks it checks that
 * every -EINVAL comes with a message, and that a configuration that loads
 * survives config_dump() and a second config_load() unchanged.
 *
 * Built with -DFUZZ_STANDALONE (no libFuzzer), main() runs the files named
 * on the command line once each, so the seed corpus runs as a unit test. */

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char root[] = "/tmp/fuzz-config-XXXXXX";
static char path[sizeof(root) + sizeof("/apprunnerd.conf")];

static void remove_root(void) {
        (void)unlink(path);
        (void)rmdir(root);
}

static void write_main_file(const void *data, size_t size) {
        FILE *f;

        if (path[0] == '\0') {
                if (!mkdtemp(root))
                        abort();
                snprintf(path, sizeof(path), "%s/apprunnerd.conf", root);
                atexit(remove_root);
        }

        f = fopen(path, "we");
        if (!f)
                abort();
        if (fwrite(data, 1, size, f) != size)
                abort();
        if (fclose(f) != 0)
                abort();
}

/* Loads the main file into a fresh Config. Returns config_load()'s result,
 * and on success the config_dump() text in *ret_dump. */
static int load(char **ret_dump) {
        _cleanup_free_ char *error = NULL;
        Config c;
        int r;

        if (config_init_defaults(&c) < 0)
                abort();
        r = config_load(&c, root, &error);
        if (r == -EINVAL && !error)
                abort();
        if (r == 0) {
                size_t n = 0;
                FILE *f = open_memstream(ret_dump, &n);

                if (!f || config_dump(&c, f) < 0 || fclose(f) != 0)
                        abort();
        }
        config_done(&c);
        return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *first = NULL, *second = NULL;

        write_main_file(data, size);
        if (load(&first) < 0)
                return 0;

        write_main_file(first, strlen(first));
        if (load(&second) < 0)
                abort();
        if (!streq(first, second))
                abort();
        return 0;
}

#ifdef FUZZ_STANDALONE
int main(int argc, char *argv[]) {
        for (int k = 1; k < argc; k++) {
                _cleanup_fclose_ FILE *f = fopen(argv[k], "re");
                _cleanup_free_ char *data = NULL;
                long size;

                if (!f || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
                    fseek(f, 0, SEEK_SET) != 0) {
                        fprintf(stderr, "Failed to open %s: %m\n", argv[k]);
                        return EXIT_FAILURE;
                }
                data = malloc(size + 1);
                if (!data || fread(data, 1, size, f) != (size_t)size) {
                        fprintf(stderr, "Failed to read %s: %m\n", argv[k]);
                        return EXIT_FAILURE;
                }
                LLVMFuzzerTestOneInput((const uint8_t *)data, size);
                printf("ok %d %s\n", k, argv[k]);
        }
        return EXIT_SUCCESS;
}
#endif
