/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* D-Bus errors -> the AWS CLI's messages and exit statuses. */

#include <errno.h>
#include <stdlib.h>

#include "ctl-error.h"
#include "macro.h"
#include "tools-test.h"

static const struct {
        const char *verb;
        const char *operation;
} operation_cases[] = {
        {"create-service", "CreateService"},
        {"list-auto-scaling-configurations", "ListAutoScalingConfigurations"},
        {"update-default-auto-scaling-configuration", "UpdateDefaultAutoScalingConfiguration"},
        {"wait", "Wait"},
};

static void test_operation_names(void) {
        for (size_t i = 0; i < ELEMENTSOF(operation_cases); i++) {
                _cleanup_free_ char *name = operation_name_from_verb(operation_cases[i].verb);
                EXPECT_STR(name, operation_cases[i].operation);
        }
}

static const struct {
        const char *bus_error;
        const char *exception; /* NULL: not one of apprunnerd's errors */
} exception_cases[] = {
        {"org.apprunner1.Error.InvalidRequest", "InvalidRequestException"},
        {"org.apprunner1.Error.InvalidState", "InvalidStateException"},
        {"org.apprunner1.Error.ResourceNotFound", "ResourceNotFoundException"},
        {"org.apprunner1.Error.ServiceQuotaExceeded", "ServiceQuotaExceededException"},
        {"org.apprunner1.Error.InternalServiceError", "InternalServiceErrorException"},
        {"org.apprunner1.Error.", NULL},
        {"org.apprunner1.Error.A.B", NULL},
        {"org.freedesktop.DBus.Error.AccessDenied", NULL},
        {NULL, NULL},
};

static void test_exception_names(void) {
        for (size_t i = 0; i < ELEMENTSOF(exception_cases); i++) {
                _cleanup_free_ char *name = exception_name_from_bus_error(exception_cases[i].bus_error);
                if (exception_cases[i].exception)
                        EXPECT_STR(name, exception_cases[i].exception);
                else
                        EXPECT_TRUE(name == NULL);
        }
}

static const struct {
        const char *name;
        const char *message;
        int status;
        const char *expected;
} message_cases[] = {
        {"org.apprunner1.Error.InvalidRequest", "ServiceName \"a\" is shorter than 4 characters",
         EXIT_SERVICE_ERROR,
         "An error occurred (InvalidRequestException) when calling the CreateService operation: ServiceName "
         "\"a\" is shorter than 4 characters"},
        {"org.apprunner1.Error.ServiceQuotaExceeded", "10 services exist", EXIT_SERVICE_ERROR,
         "An error occurred (ServiceQuotaExceededException) when calling the CreateService operation: 10 "
         "services exist"},
        {"org.freedesktop.DBus.Error.AccessDenied", "Rejected send message", EXIT_OTHER_FAILURE,
         "Access denied when calling the CreateService operation: Rejected send message\n"
         "Run apprunnerctl as root or as a member of group \"apprunner\"."},
        {"org.freedesktop.DBus.Error.ServiceUnknown", "The name is not activatable", EXIT_OTHER_FAILURE,
         "Could not call the CreateService operation. apprunnerd is not running: no process owns the name "
         "org.apprunner1 on the bus. Start it with \"systemctl start apprunnerd.service\"."},
        {"org.freedesktop.DBus.Error.NoReply", "Connection timed out", EXIT_OTHER_FAILURE,
         "The CreateService operation timed out: apprunnerd did not reply (Connection timed out)."},
        {"org.freedesktop.DBus.Error.UnknownMethod", "No such method", EXIT_OTHER_FAILURE,
         "Failed to call the CreateService operation: org.freedesktop.DBus.Error.UnknownMethod: No such "
         "method"},
};

static void test_bus_error_messages(void) {
        for (size_t i = 0; i < ELEMENTSOF(message_cases); i++) {
                sd_bus_error error =
                        SD_BUS_ERROR_MAKE_CONST(message_cases[i].name, message_cases[i].message);
                int status = -1;
                _cleanup_free_ char *message = bus_error_message("CreateService", &error, &status);

                EXPECT_STR(message, message_cases[i].expected);
                EXPECT_INT(status, message_cases[i].status);
        }
}

static void test_connect_error_messages(void) {
        _cleanup_free_ char *no_bus = bus_connect_error_message(NULL, -ENOENT);
        _cleanup_free_ char *denied = bus_connect_error_message(NULL, -EACCES);
        _cleanup_free_ char *address = bus_connect_error_message("unix:path=/x", -ENOENT);

        EXPECT_STR(no_bus,
                   "Failed to connect to the system bus: No such file or directory. The D-Bus system bus "
                   "is not running, so apprunnerd is not running either.");
        EXPECT_STR(denied, "Failed to connect to the system bus: Permission denied\n"
                           "Run apprunnerctl as root or as a member of group \"apprunner\".");
        EXPECT_STR(address, "Failed to connect to unix:path=/x: No such file or directory");
}

int main(void) {
        test_operation_names();
        test_exception_names();
        test_bus_error_messages();
        test_connect_error_messages();
        return test_result("test-ctl-error");
}
