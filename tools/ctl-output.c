/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-output.h"
#include "macro.h"

static const char *scalar_json(json_object *value) {
        return json_object_to_json_string_ext(value,
                                              JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

static void indent(FILE *f, unsigned level) {
        for (unsigned i = 0; i < level; i++)
                fputs("    ", f);
}

static void json_print_value(FILE *f, json_object *value, unsigned level) {
        bool first = true;

        switch (json_object_get_type(value)) {
        case json_type_object:
                if (json_object_object_length(value) == 0) {
                        fputs("{}", f);
                        return;
                }
                fputs("{\n", f);
                json_object_object_foreach(value, key, member) {
                        if (!first)
                                fputs(",\n", f);
                        first = false;
                        indent(f, level + 1);
                        /* A key is a JSON string, escaped the same way as values. */
                        json_object *k = json_object_new_string(key);
                        fprintf(f, "%s: ", scalar_json(k));
                        json_object_put(k);
                        json_print_value(f, member, level + 1);
                }
                fputc('\n', f);
                indent(f, level);
                fputc('}', f);
                return;

        case json_type_array: {
                size_t n = json_object_array_length(value);
                if (n == 0) {
                        fputs("[]", f);
                        return;
                }
                fputs("[\n", f);
                for (size_t i = 0; i < n; i++) {
                        if (i > 0)
                                fputs(",\n", f);
                        indent(f, level + 1);
                        json_print_value(f, json_object_array_get_idx(value, i), level + 1);
                }
                fputc('\n', f);
                indent(f, level);
                fputc(']', f);
                return;
        }

        default:
                fputs(scalar_json(value), f);
                return;
        }
}

void json_print(FILE *f, json_object *value) {
        json_print_value(f, value, 0);
        fputc('\n', f);
}

static bool is_scalar(json_object *value) {
        return !json_object_is_type(value, json_type_object) && !json_object_is_type(value, json_type_array);
}

static void print_identifier(FILE *f, const char *identifier) {
        for (const char *c = identifier; *c; c++)
                fputc(toupper((unsigned char)*c), f);
}

static void text_print_value(FILE *f, json_object *value, const char *identifier);

static void text_print_object(FILE *f, json_object *object, const char *identifier) {
        bool any = false;

        json_object_object_foreach(object, key, member) {
                (void)key;
                if (!is_scalar(member))
                        continue;
                if (!any && identifier) {
                        print_identifier(f, identifier);
                        fputc('\t', f);
                } else if (any)
                        fputc('\t', f);
                fputs(json_object_get_string(member), f);
                any = true;
        }
        if (any)
                fputc('\n', f);

        json_object_object_foreach(object, child_key, child) {
                if (!is_scalar(child))
                        text_print_value(f, child, child_key);
        }
}

static void text_print_value(FILE *f, json_object *value, const char *identifier) {
        if (json_object_is_type(value, json_type_object)) {
                text_print_object(f, value, identifier);
                return;
        }

        if (json_object_is_type(value, json_type_array)) {
                size_t n = json_object_array_length(value);
                bool scalars = false;

                for (size_t i = 0; i < n; i++) {
                        json_object *item = json_object_array_get_idx(value, i);
                        if (is_scalar(item)) {
                                if (!scalars && identifier) {
                                        print_identifier(f, identifier);
                                        fputc('\t', f);
                                } else if (scalars)
                                        fputc('\t', f);
                                fputs(json_object_get_string(item), f);
                                scalars = true;
                        }
                }
                if (scalars)
                        fputc('\n', f);
                for (size_t i = 0; i < n; i++) {
                        json_object *item = json_object_array_get_idx(value, i);
                        if (!is_scalar(item))
                                text_print_value(f, item, identifier);
                }
                return;
        }

        fprintf(f, "%s\n", json_object_get_string(value));
}

void text_print(FILE *f, json_object *value) {
        text_print_value(f, value, NULL);
}
