/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* OCI content digests. Only "sha256:" followed by 64 lowercase hex digits
 * is accepted, the algorithm every registry and image tool uses by default. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define SHA256_PREFIX      "sha256:"
#define SHA256_HEX_LENGTH  64
#define DIGEST_STRING_SIZE (sizeof(SHA256_PREFIX) - 1 + SHA256_HEX_LENGTH + 1)

bool digest_is_valid(const char *digest);

/* Returns the hex part of a valid digest. */
static inline const char *digest_hex(const char *digest) {
        return digest + sizeof(SHA256_PREFIX) - 1;
}

/* Creates a SHA-256 context ready for EVP_DigestUpdate(). */
int sha256_context_new(EVP_MD_CTX **ret);

/* Finishes a context into "sha256:<hex>". */
int sha256_context_finish(EVP_MD_CTX *ctx, char ret[static DIGEST_STRING_SIZE]);

int digest_buffer(const void *data, size_t size, char ret[static DIGEST_STRING_SIZE]);

/* Copies src_fd to dst_fd (dst_fd < 0 only hashes) while hashing, and
 * checks the result against expected_digest and expected_size (UINT64_MAX
 * skips the size check). Stops with -EFBIG after max_size bytes. Returns
 * -EBADMSG on a digest or size mismatch. */
int copy_verified(int src_fd, int dst_fd, const char *expected_digest, uint64_t expected_size,
                  uint64_t max_size);

static inline void EVP_MD_CTX_freep(EVP_MD_CTX **ctx) {
        EVP_MD_CTX_free(*ctx);
}
