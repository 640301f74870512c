/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-error.h"
#include "macro.h"

#define APPRUNNER_ERROR_PREFIX "org.apprunner1.Error."

#define PERMISSION_HINT "Run apprunnerctl as root or as a member of group \"apprunner\"."

#define NOT_RUNNING_HINT                                                                  \
        "apprunnerd is not running: no process owns the name org.apprunner1 on the bus. " \
        "Start it with \"systemctl start apprunnerd.service\"."

char *operation_name_from_verb(const char *verb) {
        char *name = malloc(strlen(verb) + 1), *p = name;
        int upper = 1;

        if (!name)
                return NULL;
        for (const char *c = verb; *c; c++) {
                if (*c == '-') {
                        upper = 1;
                        continue;
                }
                *p++ = upper ? (char)toupper((unsigned char)*c) : *c;
                upper = 0;
        }
        *p = '\0';
        return name;
}

char *exception_name_from_bus_error(const char *name) {
        char *exception = NULL;

        if (!name || strncmp(name, APPRUNNER_ERROR_PREFIX, strlen(APPRUNNER_ERROR_PREFIX)) != 0)
                return NULL;
        const char *suffix = name + strlen(APPRUNNER_ERROR_PREFIX);
        if (suffix[0] == '\0' || strchr(suffix, '.'))
                return NULL;
        if (asprintf(&exception, "%sException", suffix) < 0)
                return NULL;
        return exception;
}

char *bus_error_message(const char *operation, const sd_bus_error *error, int *ret_status) {
        _cleanup_free_ char *exception = exception_name_from_bus_error(error->name);
        const char *text = error->message ?: "";
        char *message = NULL;
        int r;

        if (exception) {
                *ret_status = EXIT_SERVICE_ERROR;
                r = asprintf(&message, "An error occurred (%s) when calling the %s operation: %s", exception,
                             operation, text);
        } else if (sd_bus_error_has_names(error, SD_BUS_ERROR_ACCESS_DENIED, SD_BUS_ERROR_AUTH_FAILED,
                                          SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED)) {
                *ret_status = EXIT_OTHER_FAILURE;
                r = asprintf(&message, "Access denied when calling the %s operation: %s\n" PERMISSION_HINT,
                             operation, text);
        } else if (sd_bus_error_has_names(error, SD_BUS_ERROR_SERVICE_UNKNOWN,
                                          SD_BUS_ERROR_NAME_HAS_NO_OWNER)) {
                *ret_status = EXIT_OTHER_FAILURE;
                r = asprintf(&message, "Could not call the %s operation. " NOT_RUNNING_HINT, operation);
        } else if (sd_bus_error_has_names(error, SD_BUS_ERROR_NO_REPLY, SD_BUS_ERROR_TIMEOUT)) {
                *ret_status = EXIT_OTHER_FAILURE;
                r = asprintf(&message, "The %s operation timed out: apprunnerd did not reply (%s).",
                             operation, text);
        } else {
                *ret_status = EXIT_OTHER_FAILURE;
                r = asprintf(&message, "Failed to call the %s operation: %s: %s", operation,
                             strna(error->name), text);
        }

        return r < 0 ? NULL : message;
}

char *bus_connect_error_message(const char *address, int r) {
        char *message = NULL;
        int k;

        if (r == -EACCES || r == -EPERM)
                k = asprintf(&message, "Failed to connect to %s: %s\n" PERMISSION_HINT,
                             address ?: "the system bus", strerror(-r));
        else if (!address && (r == -ENOENT || r == -ECONNREFUSED))
                k = asprintf(
                        &message,
                        "Failed to connect to the system bus: %s. The D-Bus system bus is not running, so "
                        "apprunnerd is not running either.",
                        strerror(-r));
        else
                k = asprintf(&message, "Failed to connect to %s: %s", address ?: "the system bus",
                             strerror(-r));

        return k < 0 ? NULL : message;
}
