/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A small client of org.freedesktop.systemd1 for the units apprunnerd
 * creates: one transient slice per service, one transient service unit per
 * instance. Calls are synchronous; each is one quick round trip. */

#include <stdint.h>
#include <systemd/sd-bus.h>

/* Escapes a string as systemd-escape(1) does for unit name components. */
int unit_name_escape(const char *s, char **ret);
/* apprunner-<escaped name>.slice */
int service_slice_name(const char *service_name, char **ret);
/* apprunner-<escaped name>@<instance id>.service */
int instance_unit_name(const char *service_name, const char *instance_id, char **ret);

typedef struct InstanceUnit {
        const char *name;
        const char *slice;
        const char *description;
        char *const *argv;
        uint64_t memory_max;        /* bytes */
        uint64_t cpu_quota_per_sec; /* microseconds of CPU time per second */
        uint64_t tasks_max;
        uint64_t stop_timeout_usec; /* TimeoutStopUSec=: SIGTERM to SIGKILL */
        const char *service_id;
        const char *service_name;
        const char *instance_id;
} InstanceUnit;

int systemd_start_slice(sd_bus *bus, const char *slice, const char *description, sd_bus_error *error);
int systemd_start_instance(sd_bus *bus, const InstanceUnit *u, sd_bus_error *error);
/* Stops a unit; a unit that does not exist counts as stopped. */
int systemd_stop_unit(sd_bus *bus, const char *name, sd_bus_error *error);
int systemd_start_unit(sd_bus *bus, const char *name, sd_bus_error *error);
/* Queues a restart job for the unit; a stopped unit is started. */
int systemd_restart_unit(sd_bus *bus, const char *name, sd_bus_error *error);
/* Reloads systemd's unit files (daemon-reload) and returns when it is done. */
int systemd_reload(sd_bus *bus, sd_bus_error *error);
/* Returns the ActiveState of a unit, "inactive" when it is not loaded. */
int systemd_unit_active_state(sd_bus *bus, const char *name, char **ret);
/* Subscribes to unit signals so that PropertiesChanged arrives. */
int systemd_subscribe(sd_bus *bus);
