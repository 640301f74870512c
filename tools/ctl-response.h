/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Response documents of apprunnerctl.
 *
 * apprunnerd's objects expose App Runner's fields as flat D-Bus properties
 * (leaf names, timestamps in microseconds since the epoch). The functions
 * here take those properties, read into a JSON object by
 * bus_message_read_json(), and build App Runner's response structures:
 * nested as in the App Runner API, timestamps as the AWS CLI prints them,
 * and empty optional fields left out. */

#include <json-c/json.h>
#include <stdint.h>
#include <time.h>

/* Formats usec (microseconds since the epoch) as the AWS CLI v2 prints a
 * timestamp, which is Python's datetime.isoformat() in the local time
 * zone: "2026-12-04T20:22:36.123456+00:00", with the fraction left out
 * when it is zero. Returns a malloc'ed string, or NULL on allocation
 * failure. */
char *timestamp_format(uint64_t usec);

/* Each returns a new object in App Runner's shape, or NULL on allocation
 * failure. props is the GetAll() result of the matching interface. */
json_object *service_from_properties(json_object *props);
json_object *operation_from_properties(json_object *props);
json_object *auto_scaling_configuration_from_properties(json_object *props);
json_object *connection_from_properties(json_object *props);

/* Converts the Service object's Instances property, a(sssqs) read as a
 * list of lists, into a list of {InstanceId, UnitName, Address, Port,
 * State}. */
json_object *instances_from_property(json_object *instances);

typedef enum SummaryKind {
        SUMMARY_SERVICE,                    /* ListServices: a(ssssstt) */
        SUMMARY_OPERATION,                  /* ListOperations: a(ssssttt) */
        SUMMARY_AUTO_SCALING_CONFIGURATION, /* ListAutoScalingConfigurations: a(ssusbbt) */
        SUMMARY_CONNECTION,                 /* ListConnections: a(sssst) */
} SummaryKind;

/* Converts the rows of a List* reply, read as a list of lists, into a list
 * of App Runner summary objects. Rows shorter than the signature are
 * converted as far as they go. */
json_object *summary_list_from_rows(SummaryKind kind, json_object *rows);
