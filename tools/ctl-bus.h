/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The D-Bus side of apprunnerctl: conversion between sd-bus messages and
 * JSON values, in both directions. */

#include <json-c/json.h>
#include <systemd/sd-bus.h>

#define APPRUNNER_BUS_NAME          "org.apprunner1"
#define APPRUNNER_MANAGER_PATH      "/org/apprunner1"
#define APPRUNNER_MANAGER_INTERFACE "org.apprunner1.Manager"

/* Reads the next complete value of m, of any D-Bus type, into JSON.
 * Strings, object paths and signatures become strings, integers integers
 * and booleans booleans. A variant becomes its content. An array of
 * dictionary entries becomes an object with the keys as strings, and
 * other arrays and structs become lists. Returns 1 and the value, 0 at
 * the end of the current container, or a negative errno. */
int bus_message_read_json(sd_bus_message *m, json_object **ret);

/* Appends options as an a{sv} dictionary: a JSON string is sent as "s", an
 * integer as "u", a boolean as "b" and an object of strings as "a{ss}".
 * Returns 0, -EINVAL for a value of another type or an integer out of the
 * range of "u", or the error of sd-bus. */
int bus_append_options(sd_bus_message *m, json_object *options);

/* Calls org.freedesktop.DBus.Properties.GetAll(interface) on path and
 * returns the properties as a JSON object. On failure a method error is
 * stored in error, as sd_bus_call() does. */
int bus_get_all_properties(sd_bus *bus, const char *path, const char *interface, sd_bus_error *error,
                           json_object **ret);
