/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <grp.h>

#include "bus-util.h"
#include "log.h"

int bus_reply_api_error(sd_bus_error *error, const ApiError *e) {
        static const char *const names[] = {
                [API_ERROR_NONE] = BUS_ERROR_INTERNAL,
                [API_ERROR_INVALID_REQUEST] = BUS_ERROR_INVALID_REQUEST,
                [API_ERROR_INVALID_STATE] = BUS_ERROR_INVALID_STATE,
                [API_ERROR_RESOURCE_NOT_FOUND] = BUS_ERROR_RESOURCE_NOT_FOUND,
                [API_ERROR_SERVICE_QUOTA_EXCEEDED] = BUS_ERROR_SERVICE_QUOTA_EXCEEDED,
                [API_ERROR_INTERNAL] = BUS_ERROR_INTERNAL,
        };

        return sd_bus_error_set(error, names[e->kind], e->message ?: "Internal error.");
}

static int group_apprunner(gid_t *ret) {
        struct group *g = getgrnam("apprunner");
        if (!g)
                return -ENOENT;
        *ret = g->gr_gid;
        return 0;
}

int bus_check_write_access(sd_bus_message *message, sd_bus_error *error) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        const gid_t *gids = NULL;
        uid_t euid;
        gid_t gid, group;
        int r, n;

        r = sd_bus_query_sender_creds(message,
                                      SD_BUS_CREDS_EUID | SD_BUS_CREDS_EGID |
                                              SD_BUS_CREDS_SUPPLEMENTARY_GIDS | SD_BUS_CREDS_AUGMENT,
                                      &creds);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to read the caller's credentials: %s",
                                               strerror(-r));

        r = sd_bus_creds_get_euid(creds, &euid);
        if (r >= 0 && euid == 0)
                return 0;

        if (group_apprunner(&group) >= 0) {
                if (sd_bus_creds_get_egid(creds, &gid) >= 0 && gid == group)
                        return 0;
                n = sd_bus_creds_get_supplementary_gids(creds, &gids);
                for (int i = 0; i < n; i++)
                        if (gids[i] == group)
                                return 0;
        }

        return sd_bus_error_set(
                error, SD_BUS_ERROR_ACCESS_DENIED,
                "Changing apprunnerd's resources requires root or membership in group apprunner.");
}

int bus_read_variant_unsigned(sd_bus_message *message, const char *key, uint64_t max, uint64_t *ret,
                              sd_bus_error *error) {
        const char *contents;
        char type;
        int r;

        r = sd_bus_message_peek_type(message, &type, &contents);
        if (r < 0)
                return r;

        union {
                uint8_t y;
                uint16_t q;
                int16_t n;
                uint32_t u;
                int32_t i;
                uint64_t t;
                int64_t x;
        } v;
        int64_t value;

        switch (type) {
        case 'y':
                r = sd_bus_message_read_basic(message, type, &v.y);
                value = v.y;
                break;
        case 'q':
                r = sd_bus_message_read_basic(message, type, &v.q);
                value = v.q;
                break;
        case 'n':
                r = sd_bus_message_read_basic(message, type, &v.n);
                value = v.n;
                break;
        case 'u':
                r = sd_bus_message_read_basic(message, type, &v.u);
                value = v.u;
                break;
        case 'i':
                r = sd_bus_message_read_basic(message, type, &v.i);
                value = v.i;
                break;
        case 't':
                r = sd_bus_message_read_basic(message, type, &v.t);
                value = v.t > INT64_MAX ? -1 : (int64_t)v.t;
                break;
        case 'x':
                r = sd_bus_message_read_basic(message, type, &v.x);
                value = v.x;
                break;
        default:
                return sd_bus_error_setf(
                        error, BUS_ERROR_INVALID_REQUEST,
                        "Option %s has D-Bus type '%c'; expected an integer type such as 'u'.", key, type);
        }
        if (r < 0)
                return r;
        if (value < 0 || (uint64_t)value > max)
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_REQUEST,
                                         "Option %s=%" PRIi64 " is out of range: expected 0 to %" PRIu64 ".",
                                         key, value, max);
        *ret = (uint64_t)value;
        return 0;
}

int bus_read_variant_string(sd_bus_message *message, const char *key, const char **ret,
                            sd_bus_error *error) {
        const char *contents;
        char type;
        int r;

        r = sd_bus_message_peek_type(message, &type, &contents);
        if (r < 0)
                return r;
        if (type != 's')
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_REQUEST,
                                         "Option %s has D-Bus type '%c'; expected a string ('s').", key,
                                         type);
        return sd_bus_message_read_basic(message, 's', ret);
}

int bus_read_variant_bool(sd_bus_message *message, const char *key, bool *ret, sd_bus_error *error) {
        const char *contents;
        char type;
        int b, r;

        r = sd_bus_message_peek_type(message, &type, &contents);
        if (r < 0)
                return r;
        if (type != 'b')
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_REQUEST,
                                         "Option %s has D-Bus type '%c'; expected a boolean ('b').", key,
                                         type);
        r = sd_bus_message_read_basic(message, 'b', &b);
        if (r < 0)
                return r;
        *ret = b;
        return 0;
}

int bus_read_options(sd_bus_message *message, bus_option_func_t func, void *userdata, const char *allowed,
                     sd_bus_error *error) {
        int r;

        r = sd_bus_message_enter_container(message, 'a', "{sv}");
        if (r < 0)
                return r;

        while ((r = sd_bus_message_enter_container(message, 'e', "sv")) > 0) {
                const char *key, *contents;

                r = sd_bus_message_read(message, "s", &key);
                if (r < 0)
                        return r;
                r = sd_bus_message_peek_type(message, NULL, &contents);
                if (r < 0)
                        return r;
                r = sd_bus_message_enter_container(message, 'v', contents);
                if (r < 0)
                        return r;

                r = func(message, key, userdata, error);
                if (r < 0)
                        return r;
                if (r == 0)
                        return sd_bus_error_setf(error, BUS_ERROR_INVALID_REQUEST, "Unknown option '%s': %s",
                                                 key, allowed);

                r = sd_bus_message_exit_container(message);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(message);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(message);
}

int bus_parse_page(const char *next_token, uint32_t max_results, uint32_t limit, size_t total,
                   size_t *ret_start, size_t *ret_count, sd_bus_error *error) {
        size_t start = 0;

        if (max_results == 0)
                max_results = limit;
        if (max_results > limit)
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_REQUEST,
                                         "MaxResults %u is out of range: expected 1 to %u.", max_results,
                                         limit);

        if (next_token && *next_token) {
                char *end;
                unsigned long v;

                errno = 0;
                v = strtoul(next_token, &end, 10);
                if (errno != 0 || *end != '\0' || next_token[0] < '0' || next_token[0] > '9' || v > total)
                        return sd_bus_error_setf(
                                error, BUS_ERROR_INVALID_REQUEST,
                                "NextToken '%s' is invalid: pass the NextToken of the previous "
                                "reply.",
                                next_token);
                start = v;
        }

        *ret_start = start;
        *ret_count = MIN((size_t)max_results, total - start);
        return 0;
}
