/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Identifiers in App Runner's forms: 32 lowercase hex characters for
 * services, auto scaling configurations and connections, UUIDs for
 * operations, 10 lowercase alphanumerics for the first label of a service
 * URL, 12 hex characters for instances. All come from the kernel's random
 * pool through sd_id128_randomize(). */

#include <stdbool.h>

int id_new_hex32(char **ret);
int id_new_uuid(char **ret);
int id_new_url_label(char **ret);
int id_new_instance(char **ret);

bool id_is_hex(const char *s, size_t length);
bool id_is_uuid(const char *s);
