/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ctl-bus.h"
#include "macro.h"

static int read_basic(sd_bus_message *m, char type, json_object **ret) {
        union {
                uint8_t u8;
                int16_t s16;
                uint16_t u16;
                int32_t s32;
                uint32_t u32;
                int64_t s64;
                uint64_t u64;
                double d;
                int b;
                const char *s;
        } v;
        json_object *j = NULL;
        int r;

        r = sd_bus_message_read_basic(m, type, &v);
        if (r < 0)
                return r;

        switch (type) {
        case SD_BUS_TYPE_STRING:
        case SD_BUS_TYPE_OBJECT_PATH:
        case SD_BUS_TYPE_SIGNATURE:
                j = json_object_new_string(v.s);
                break;
        case SD_BUS_TYPE_BOOLEAN:
                j = json_object_new_boolean(v.b);
                break;
        case SD_BUS_TYPE_BYTE:
                j = json_object_new_int(v.u8);
                break;
        case SD_BUS_TYPE_INT16:
                j = json_object_new_int(v.s16);
                break;
        case SD_BUS_TYPE_UINT16:
                j = json_object_new_int(v.u16);
                break;
        case SD_BUS_TYPE_INT32:
        case SD_BUS_TYPE_UNIX_FD:
                j = json_object_new_int(v.s32);
                break;
        case SD_BUS_TYPE_UINT32:
                j = json_object_new_int64(v.u32);
                break;
        case SD_BUS_TYPE_INT64:
                j = json_object_new_int64(v.s64);
                break;
        case SD_BUS_TYPE_UINT64:
                j = json_object_new_uint64(v.u64);
                break;
        case SD_BUS_TYPE_DOUBLE:
                j = json_object_new_double(v.d);
                break;
        default:
                return -EBADMSG;
        }

        if (!j)
                return -ENOMEM;
        *ret = j;
        return 1;
}

static int read_dictionary(sd_bus_message *m, const char *contents, json_object **ret) {
        /* contents is "{kv}"; the entry's own signature drops the braces. */
        _cleanup_free_ char *entry = strndup(contents + 1, strlen(contents) - 2);
        json_object *object = NULL;
        int r;

        if (!entry)
                return -ENOMEM;

        r = sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, contents);
        if (r < 0)
                return r;

        object = json_object_new_object();
        if (!object)
                return -ENOMEM;

        for (;;) {
                json_object *key = NULL, *value = NULL;

                r = sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY, entry);
                if (r < 0)
                        goto fail;
                if (r == 0)
                        break;

                r = bus_message_read_json(m, &key);
                if (r >= 0)
                        r = bus_message_read_json(m, &value);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                if (r < 0) {
                        json_object_put(key);
                        json_object_put(value);
                        goto fail;
                }

                json_object_object_add(object, json_object_get_string(key), value);
                json_object_put(key);
        }

        r = sd_bus_message_exit_container(m);
        if (r < 0)
                goto fail;

        *ret = object;
        return 1;

fail:
        json_object_put(object);
        return r;
}

static int read_list(sd_bus_message *m, char type, const char *contents, json_object **ret) {
        json_object *list = NULL;
        int r;

        r = sd_bus_message_enter_container(m, type, contents);
        if (r < 0)
                return r;

        list = json_object_new_array();
        if (!list)
                return -ENOMEM;

        for (;;) {
                json_object *item = NULL;

                r = bus_message_read_json(m, &item);
                if (r < 0)
                        goto fail;
                if (r == 0)
                        break;
                if (json_object_array_add(list, item) < 0) {
                        json_object_put(item);
                        r = -ENOMEM;
                        goto fail;
                }
        }

        r = sd_bus_message_exit_container(m);
        if (r < 0)
                goto fail;

        *ret = list;
        return 1;

fail:
        json_object_put(list);
        return r;
}

int bus_message_read_json(sd_bus_message *m, json_object **ret) {
        const char *contents = NULL;
        char type;
        int r;

        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r <= 0)
                return r;

        switch (type) {
        case SD_BUS_TYPE_VARIANT:
                r = sd_bus_message_enter_container(m, type, contents);
                if (r < 0)
                        return r;
                r = bus_message_read_json(m, ret);
                if (r < 0)
                        return r;
                if (r == 0)
                        return -EBADMSG;
                r = sd_bus_message_exit_container(m);
                return r < 0 ? r : 1;

        case SD_BUS_TYPE_ARRAY:
                if (contents[0] == SD_BUS_TYPE_DICT_ENTRY_BEGIN)
                        return read_dictionary(m, contents, ret);
                return read_list(m, type, contents, ret);

        case SD_BUS_TYPE_STRUCT:
                return read_list(m, type, contents, ret);

        default:
                return read_basic(m, type, ret);
        }
}

static int append_option(sd_bus_message *m, const char *key, json_object *value) {
        int r;

        r = sd_bus_message_open_container(m, SD_BUS_TYPE_DICT_ENTRY, "sv");
        if (r < 0)
                return r;
        r = sd_bus_message_append_basic(m, SD_BUS_TYPE_STRING, key);
        if (r < 0)
                return r;

        switch (json_object_get_type(value)) {
        case json_type_string:
                r = sd_bus_message_append(m, "v", "s", json_object_get_string(value));
                break;

        case json_type_int: {
                int64_t n = json_object_get_int64(value);
                if (n < 0 || n > UINT32_MAX)
                        return -EINVAL;
                r = sd_bus_message_append(m, "v", "u", (uint32_t)n);
                break;
        }

        case json_type_boolean:
                r = sd_bus_message_append(m, "v", "b", json_object_get_boolean(value));
                break;

        case json_type_object:
                r = sd_bus_message_open_container(m, SD_BUS_TYPE_VARIANT, "a{ss}");
                if (r < 0)
                        return r;
                r = sd_bus_message_open_container(m, SD_BUS_TYPE_ARRAY, "{ss}");
                if (r < 0)
                        return r;
                json_object_object_foreach(value, name, item) {
                        if (!json_object_is_type(item, json_type_string))
                                return -EINVAL;
                        r = sd_bus_message_append(m, "{ss}", name, json_object_get_string(item));
                        if (r < 0)
                                return r;
                }
                r = sd_bus_message_close_container(m);
                if (r < 0)
                        return r;
                r = sd_bus_message_close_container(m);
                break;

        default:
                return -EINVAL;
        }
        if (r < 0)
                return r;

        return sd_bus_message_close_container(m);
}

int bus_append_options(sd_bus_message *m, json_object *options) {
        int r;

        r = sd_bus_message_open_container(m, SD_BUS_TYPE_ARRAY, "{sv}");
        if (r < 0)
                return r;

        if (options) {
                json_object_object_foreach(options, key, value) {
                        r = append_option(m, key, value);
                        if (r < 0)
                                return r;
                }
        }

        return sd_bus_message_close_container(m);
}

int bus_get_all_properties(sd_bus *bus, const char *path, const char *interface, sd_bus_error *error,
                           json_object **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        json_object *props = NULL;
        int r;

        r = sd_bus_call_method(bus, APPRUNNER_BUS_NAME, path, "org.freedesktop.DBus.Properties", "GetAll",
                               error, &reply, "s", interface);
        if (r < 0)
                return r;

        r = bus_message_read_json(reply, &props);
        if (r < 0)
                return r;
        if (r == 0 || !json_object_is_type(props, json_type_object)) {
                json_object_put(props);
                return -EBADMSG;
        }

        *ret = props;
        return 0;
}
