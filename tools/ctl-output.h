/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Printing of response documents in the formats of the AWS CLI's --output
 * option. */

#include <json-c/json.h>
#include <stdio.h>

typedef enum OutputFormat {
        OUTPUT_JSON,
        OUTPUT_TEXT,
} OutputFormat;

/* Writes value as Python's json.dumps(value, indent=4, ensure_ascii=False)
 * does, which is how the AWS CLI prints JSON, followed by a newline. */
void json_print(FILE *f, json_object *value);

/* Writes value in the tab-separated layout of the AWS CLI's text output:
 * the scalar members of each object on one line, led by the object's key
 * in upper case, with nested objects and lists on the lines after. */
void text_print(FILE *f, json_object *value);
