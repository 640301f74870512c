/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Exit statuses and error messages of apprunnerctl, chosen to match the
 * AWS CLI v2: 252 for a command line it cannot use, 254 for an error the
 * service returned, 255 for anything else. */

#include <systemd/sd-bus.h>

enum {
        EXIT_USAGE = 252,
        EXIT_SERVICE_ERROR = 254,
        EXIT_OTHER_FAILURE = 255,
};

/* Returns App Runner's operation name for a subcommand:
 * "create-service" -> "CreateService". malloc'ed, NULL on allocation
 * failure. */
char *operation_name_from_verb(const char *verb);

/* Returns App Runner's exception name for an org.apprunner1.Error.* name
 * ("org.apprunner1.Error.InvalidRequest" -> "InvalidRequestException"),
 * malloc'ed, or NULL when name is not one of apprunnerd's errors. */
char *exception_name_from_bus_error(const char *name);

/* Builds the message apprunnerctl prints on stderr for a failed method
 * call, and returns in *ret_status the exit status that goes with it.
 * operation is App Runner's operation name. Returns a malloc'ed string,
 * or NULL on allocation failure. */
char *bus_error_message(const char *operation, const sd_bus_error *error, int *ret_status);

/* Builds the message for a failure to connect to the bus; r is the
 * negative errno of sd_bus_start() or sd_bus_open_system(). */
char *bus_connect_error_message(const char *address, int r);
