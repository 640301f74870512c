/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Feeds arbitrary bytes to layer_unpack() as a layer blob. Every input must
 * either unpack or be rejected with a report, and never leave anything
 * outside the target. A crash or sanitizer error in the unpacking child
 * shows up as a missing report, which this target turns into an abort.
 * Needs root, like the unpacker.
 *
 * NOTE: libFuzzer only sees the coverage of the parent process, so the
 * libarchive and path-check code that runs in the forked child does not
 * guide the mutations; seed the corpus with real layers (tar, gzip, zstd). */

#include <assert.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#include "image/fs-util.h"
#include "image/unpack.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char base[] = "/tmp/fuzz-unpack-XXXXXX";
static bool initialized;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        UnpackLimits limits = {.max_size = 16u << 20, .max_entries = 1000};
        char blob[sizeof(base) + 16], target[sizeof(base) + 16];
        char *error = NULL;
        int fd;

        if (!initialized) {
                assert(mkdtemp(base));
                initialized = true;
        }
        snprintf(blob, sizeof(blob), "%s/blob", base);
        snprintf(target, sizeof(target), "%s/target", base);

        fd = open(blob, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert(fd >= 0);
        assert(write(fd, data, size) == (ssize_t)size);
        assert(lseek(fd, 0, SEEK_SET) == 0);

        (void)layer_unpack(fd, target, &limits, &error);
        free(error);
        close(fd);

        assert(rm_rf(target) == 0);
        assert(unlink(blob) == 0);
        /* Nothing else may remain, such as a temporary directory of the unpacker. */
        assert(rmdir(base) == 0);
        assert(mkdir(base, 0700) == 0);
        return 0;
}
