/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Request documents of apprunnerctl.
 *
 * Every subcommand has a RequestShape: the fields of App Runner's request
 * document for that call (CreateService, UpdateService, ...), each with its
 * command-line option. A request is built as one JSON document: first the
 * --cli-input-json document, then each explicit option replaces the member
 * of the same name. request_flatten() then checks the document against the
 * shape and flattens the nested structures into the leaf-name dictionary
 * that org.apprunner1.Manager takes as its a{sv} options. */

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>

typedef enum FieldType {
        FIELD_STRING,     /* D-Bus "s"; a JSON integer is taken as its decimal string */
        FIELD_UINT32,     /* D-Bus "u" */
        FIELD_BOOLEAN,    /* D-Bus "b" */
        FIELD_STRING_MAP, /* D-Bus "a{ss}" */
        FIELD_STRUCTURE,  /* nested structure whose leaves are flattened */
        FIELD_LIST,       /* a JSON list; used only by fields that are dropped */
} FieldType;

typedef enum FieldUse {
        FIELD_OPTION,   /* a leaf goes into the a{sv} options under its own name */
        FIELD_ARGUMENT, /* a positional argument of the D-Bus method */
        FIELD_CLIENT,   /* read by apprunnerctl itself, never sent */
        FIELD_DROPPED,  /* an App Runner field apprunnerd does not implement: dropped with a note */
        FIELD_REJECTED, /* an App Runner field apprunnerd cannot honour: the request fails */
} FieldUse;

typedef struct Field {
        const char *name; /* App Runner's member name, e.g. "ServiceName" */
        FieldType type;
        FieldUse use;
        const struct Field *members; /* FIELD_STRUCTURE: members, ended by a NULL name */
        const char *option;          /* top-level fields: command-line option, or NULL */
        const char *metavar;         /* placeholder of the option's value in --help */
        const char *help;            /* what the option sets, and its unit */
        bool required;
} Field;

typedef struct RequestShape {
        const char *verb;      /* subcommand, e.g. "create-service" */
        const char *operation; /* App Runner's operation name, e.g. "CreateService" */
        const char *summary;   /* one line for --help */
        const Field *fields;   /* top-level members, ended by a NULL name */
} RequestShape;

extern const RequestShape request_shapes[];

const RequestShape *request_shape_find(const char *verb);
const Field *field_find(const Field *fields, const char *name);

/* Converts the value of a command-line option to the JSON value of its
 * field: strings as they are, integers parsed strictly, structures, maps
 * and lists as JSON text or file://PATH. Returns 0, or -EINVAL with a
 * message naming the option and value in *ret_error. */
int request_option_value(const Field *field, const char *value, json_object **ret_value, char **ret_error);

/* Parses a JSON argument: JSON text, or file://PATH naming a file that
 * contains it. The parse is strict (no trailing commas or comments).
 * Returns 0, or a negative errno with a message in *ret_error. */
int json_argument_parse(const char *option, const char *argument, json_object **ret, char **ret_error);

/* Checks document against fields and returns in *ret_options the
 * flattened a{sv} dictionary: leaf name -> JSON string, integer (sent as
 * "u"), boolean or object of strings (sent as "a{ss}"). Fields that are
 * dropped write one note each to notes (when not NULL). Returns 0, or
 * -EINVAL with a message in the AWS CLI's words in *ret_error: an unknown
 * member, a wrong type, a value out of range, a missing required field or
 * a rejected field. */
int request_flatten(const RequestShape *shape, json_object *document, FILE *notes, json_object **ret_options,
                    char **ret_error);
