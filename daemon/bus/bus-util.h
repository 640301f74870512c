/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "core/manager.h"

#define BUS_ERROR_INVALID_REQUEST        "org.apprunner1.Error.InvalidRequest"
#define BUS_ERROR_INVALID_STATE          "org.apprunner1.Error.InvalidState"
#define BUS_ERROR_RESOURCE_NOT_FOUND     "org.apprunner1.Error.ResourceNotFound"
#define BUS_ERROR_SERVICE_QUOTA_EXCEEDED "org.apprunner1.Error.ServiceQuotaExceeded"
#define BUS_ERROR_INTERNAL               "org.apprunner1.Error.InternalServiceError"

/* Turns an ApiError into a D-Bus error reply. */
int bus_reply_api_error(sd_bus_error *error, const ApiError *e);

/* Checks that the sender of a mutating call is root or a member of group
 * "apprunner"; fills *error with org.freedesktop.DBus.Error.AccessDenied
 * otherwise. Returns 0 when allowed. */
int bus_check_write_access(sd_bus_message *message, sd_bus_error *error);

/* Reads one numeric variant (any unsigned or non-negative signed integer
 * type) into *ret. The message must be positioned inside the variant. */
int bus_read_variant_unsigned(sd_bus_message *message, const char *key, uint64_t max, uint64_t *ret,
                              sd_bus_error *error);
int bus_read_variant_string(sd_bus_message *message, const char *key, const char **ret, sd_bus_error *error);
int bus_read_variant_bool(sd_bus_message *message, const char *key, bool *ret, sd_bus_error *error);

/* Called for each entry of an a{sv} option dictionary, with the message
 * positioned inside the entry's variant. Returns 1 when the key was
 * handled, 0 when it is unknown, or a negative errno. */
typedef int (*bus_option_func_t)(sd_bus_message *message, const char *key, void *userdata,
                                 sd_bus_error *error);

/* Reads an a{sv} dictionary and calls func for every entry. An unknown key
 * fails with InvalidRequest naming the key, followed by 'allowed', a
 * sentence listing what is accepted. */
int bus_read_options(sd_bus_message *message, bus_option_func_t func, void *userdata, const char *allowed,
                     sd_bus_error *error);

/* Pagination of list methods: NextToken is the decimal index of the next
 * item, checked against the list length. max_results 0 means the maximum. */
int bus_parse_page(const char *next_token, uint32_t max_results, uint32_t limit, size_t total,
                   size_t *ret_start, size_t *ret_count, sd_bus_error *error);

/* Registers every object and interface, and requests the bus name. */
int bus_setup(Manager *m);

extern const sd_bus_vtable manager_vtable[];
extern const sd_bus_vtable service_vtable[];
extern const sd_bus_vtable operation_vtable[];
extern const sd_bus_vtable auto_scaling_vtable[];
extern const sd_bus_vtable connection_vtable[];
