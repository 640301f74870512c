/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "digest.h"
#include "macro.h"

bool digest_is_valid(const char *digest) {
        if (!digest || strncmp(digest, SHA256_PREFIX, strlen(SHA256_PREFIX)) != 0)
                return false;

        const char *hex = digest_hex(digest);
        if (strlen(hex) != SHA256_HEX_LENGTH)
                return false;

        for (const char *p = hex; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
                        return false;
        return true;
}

int sha256_context_new(EVP_MD_CTX **ret) {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        if (!ctx)
                return -ENOMEM;

        if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
                EVP_MD_CTX_free(ctx);
                return -EIO;
        }

        *ret = ctx;
        return 0;
}

int sha256_context_finish(EVP_MD_CTX *ctx, char ret[static DIGEST_STRING_SIZE]) {
        static const char hexchars[] = "0123456789abcdef";
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned md_length = 0;

        if (EVP_DigestFinal_ex(ctx, md, &md_length) != 1 || md_length * 2 != SHA256_HEX_LENGTH)
                return -EIO;

        char *p = stpcpy(ret, SHA256_PREFIX);
        for (unsigned i = 0; i < md_length; i++) {
                *p++ = hexchars[md[i] >> 4];
                *p++ = hexchars[md[i] & 0xf];
        }
        *p = 0;
        return 0;
}

int digest_buffer(const void *data, size_t size, char ret[static DIGEST_STRING_SIZE]) {
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = NULL;
        int r;

        r = sha256_context_new(&ctx);
        if (r < 0)
                return r;
        if (EVP_DigestUpdate(ctx, data, size) != 1)
                return -EIO;
        return sha256_context_finish(ctx, ret);
}

static int write_all(int fd, const void *data, size_t size) {
        const char *p = data;

        while (size > 0) {
                ssize_t n = write(fd, p, size);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                size -= (size_t)n;
        }
        return 0;
}

int copy_verified(int src_fd, int dst_fd, const char *expected_digest, uint64_t expected_size,
                  uint64_t max_size) {
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = NULL;
        char actual[DIGEST_STRING_SIZE];
        uint64_t total = 0;
        char buffer[64 * 1024];
        int r;

        r = sha256_context_new(&ctx);
        if (r < 0)
                return r;

        for (;;) {
                ssize_t n = read(src_fd, buffer, sizeof(buffer));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;

                total += (uint64_t)n;
                if (total > max_size)
                        return -EFBIG;
                if (expected_size != UINT64_MAX && total > expected_size)
                        return -EBADMSG;

                if (EVP_DigestUpdate(ctx, buffer, (size_t)n) != 1)
                        return -EIO;
                if (dst_fd >= 0) {
                        r = write_all(dst_fd, buffer, (size_t)n);
                        if (r < 0)
                                return r;
                }
        }

        if (expected_size != UINT64_MAX && total != expected_size)
                return -EBADMSG;

        r = sha256_context_finish(ctx, actual);
        if (r < 0)
                return r;
        if (!streq(actual, expected_digest))
                return -EBADMSG;
        return 0;
}
