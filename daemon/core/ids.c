/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <systemd/sd-id128.h>

#include "ids.h"
#include "macro.h"

static int random_hex(size_t length, char **ret) {
        sd_id128_t a, b;
        char buf[65];
        int r;

        r = sd_id128_randomize(&a);
        if (r < 0)
                return r;
        r = sd_id128_randomize(&b);
        if (r < 0)
                return r;
        for (size_t i = 0; i < 16; i++) {
                snprintf(buf + 2 * i, 3, "%02x", a.bytes[i]);
                snprintf(buf + 32 + 2 * i, 3, "%02x", b.bytes[i]);
        }
        buf[MIN(length, sizeof(buf) - 1)] = '\0';

        *ret = strdup(buf);
        return *ret ? 0 : -ENOMEM;
}

int id_new_hex32(char **ret) {
        return random_hex(32, ret);
}

int id_new_instance(char **ret) {
        return random_hex(12, ret);
}

int id_new_uuid(char **ret) {
        sd_id128_t id;
        char *s;
        int r;

        r = sd_id128_randomize(&id);
        if (r < 0)
                return r;
        if (asprintf(&s, SD_ID128_UUID_FORMAT_STR, SD_ID128_FORMAT_VAL(id)) < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int id_new_url_label(char **ret) {
        static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
        sd_id128_t id;
        char buf[11];
        int r;

        r = sd_id128_randomize(&id);
        if (r < 0)
                return r;
        for (size_t i = 0; i < 10; i++)
                buf[i] = alphabet[id.bytes[i] % (sizeof(alphabet) - 1)];
        buf[10] = '\0';
        *ret = strdup(buf);
        return *ret ? 0 : -ENOMEM;
}

bool id_is_hex(const char *s, size_t length) {
        if (!s || strlen(s) != length)
                return false;
        for (size_t i = 0; i < length; i++)
                if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
                        return false;
        return true;
}

bool id_is_uuid(const char *s) {
        sd_id128_t id;

        return s && strlen(s) == 36 && sd_id128_from_string(s, &id) >= 0;
}
