/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <stdbool.h>

#include "macro.h"
#include "systemd-client.h"

#define SYSTEMD_DEST    "org.freedesktop.systemd1"
#define SYSTEMD_PATH    "/org/freedesktop/systemd1"
#define SYSTEMD_MANAGER "org.freedesktop.systemd1.Manager"

int unit_name_escape(const char *s, char **ret) {
        char *out, *p;

        out = malloc(strlen(s) * 4 + 1);
        if (!out)
                return -ENOMEM;
        p = out;
        for (const char *c = s; *c; c++) {
                unsigned char ch = (unsigned char)*c;
                if (ch == '/')
                        *p++ = '-';
                else if ((c == s && ch == '.') ||
                         !(isascii(ch) && (isalnum(ch) || ch == ':' || ch == '_' || ch == '.'))) {
                        snprintf(p, 5, "\\x%02x", ch);
                        p += 4;
                } else
                        *p++ = (char)ch;
        }
        *p = '\0';
        *ret = out;
        return 0;
}

int service_slice_name(const char *service_name, char **ret) {
        _cleanup_free_ char *e = NULL;
        int r = unit_name_escape(service_name, &e);
        if (r < 0)
                return r;
        return asprintf(ret, "apprunner-%s.slice", e) < 0 ? -ENOMEM : 0;
}

int instance_unit_name(const char *service_name, const char *instance_id, char **ret) {
        _cleanup_free_ char *e = NULL;
        int r = unit_name_escape(service_name, &e);
        if (r < 0)
                return r;
        return asprintf(ret, "apprunner-%s@%s.service", e, instance_id) < 0 ? -ENOMEM : 0;
}

static int is_unit_exists(const sd_bus_error *error) {
        return sd_bus_error_has_name(error, "org.freedesktop.systemd1.UnitExists");
}

int systemd_start_slice(sd_bus *bus, const char *slice, const char *description, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER,
                                           "StartTransientUnit");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "ss", slice, "fail");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "a(sv)", 1, "Description", "s", description);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "a(sa(sv))", 0);
        if (r < 0)
                return r;
        r = sd_bus_call(bus, m, 0, &e, NULL);
        if (r < 0 && is_unit_exists(&e)) {
                sd_bus_error_free(&e);
                return 0;
        }
        if (r < 0)
                sd_bus_error_move(error, &e);
        return r;
}

int systemd_start_instance(sd_bus *bus, const InstanceUnit *u, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *f_service = NULL, *f_instance = NULL, *f_name = NULL;
        int r;

        if (asprintf(&f_service, "APPRUNNER_SERVICE_ID=%s", u->service_id) < 0 ||
            asprintf(&f_instance, "APPRUNNER_INSTANCE_ID=%s", u->instance_id) < 0 ||
            asprintf(&f_name, "APPRUNNER_SERVICE_NAME=%s", u->service_name) < 0)
                return -ENOMEM;

        r = sd_bus_message_new_method_call(bus, &m, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER,
                                           "StartTransientUnit");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "ss", u->name, "fail");
        if (r < 0)
                return r;

        r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "(sv)(sv)(sv)(sv)(sv)(sv)(sv)(sv)(sv)(sv)(sv)", "Description", "s",
                                  u->description, "Slice", "s", u->slice, "Type", "s", "simple", "MemoryMax",
                                  "t", u->memory_max, "MemorySwapMax", "t", (uint64_t)0,
                                  "CPUQuotaPerSecUSec", "t", u->cpu_quota_per_sec, "TasksMax", "t",
                                  u->tasks_max, "KillMode", "s", "mixed", "CollectMode", "s",
                                  "inactive-or-failed", "SyslogIdentifier", "s", u->service_name,
                                  "TimeoutStopUSec", "t", u->stop_timeout_usec);
        if (r < 0)
                return r;
        /* LogExtraFields= is "aay" on the bus: each field is a byte array
         * without a terminating NUL. */
        r = sd_bus_message_open_container(m, 'r', "sv");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "s", "LogExtraFields");
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(m, 'v', "aay");
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(m, 'a', "ay");
        if (r < 0)
                return r;
        STRV_FOREACH (field, ((char *[]){f_service, f_instance, f_name, NULL})) {
                r = sd_bus_message_append_array(m, 'y', *field, strlen(*field));
                if (r < 0)
                        return r;
        }
        for (int k = 0; k < 3; k++) {
                r = sd_bus_message_close_container(m);
                if (r < 0)
                        return r;
        }

        /* ExecStart=: a(sasb), the path, argv and "ignore failure". */
        r = sd_bus_message_open_container(m, 'r', "sv");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "s", "ExecStart");
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(m, 'v', "a(sasb)");
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(m, 'a', "(sasb)");
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(m, 'r', "sasb");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "s", u->argv[0]);
        if (r < 0)
                return r;
        r = sd_bus_message_append_strv(m, (char **)u->argv);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "b", 0);
        if (r < 0)
                return r;
        for (int k = 0; k < 4; k++) {
                r = sd_bus_message_close_container(m);
                if (r < 0)
                        return r;
        }

        r = sd_bus_message_close_container(m);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "a(sa(sv))", 0);
        if (r < 0)
                return r;

        return sd_bus_call(bus, m, 0, error, NULL);
}

int systemd_stop_unit(sd_bus *bus, const char *name, sd_bus_error *error) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_call_method(bus, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER, "StopUnit", &e, NULL, "ss",
                               name, "replace");
        if (r < 0 && sd_bus_error_has_name(&e, "org.freedesktop.systemd1.NoSuchUnit")) {
                sd_bus_error_free(&e);
                return 0;
        }
        if (r < 0)
                sd_bus_error_move(error, &e);
        return r;
}

int systemd_start_unit(sd_bus *bus, const char *name, sd_bus_error *error) {
        return sd_bus_call_method(bus, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER, "StartUnit", error, NULL,
                                  "ss", name, "replace");
}

int systemd_restart_unit(sd_bus *bus, const char *name, sd_bus_error *error) {
        return sd_bus_call_method(bus, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER, "RestartUnit", error,
                                  NULL, "ss", name, "replace");
}

int systemd_reload(sd_bus *bus, sd_bus_error *error) {
        return sd_bus_call_method(bus, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER, "Reload", error, NULL,
                                  "");
}

int systemd_unit_active_state(sd_bus *bus, const char *name, char **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        const char *path;
        int r;

        r = sd_bus_call_method(bus, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER, "GetUnit", &e, &reply, "s",
                               name);
        if (r < 0) {
                bool missing = sd_bus_error_has_name(&e, "org.freedesktop.systemd1.NoSuchUnit");
                sd_bus_error_free(&e);
                if (!missing)
                        return r;
                *ret = strdup("inactive");
                return *ret ? 0 : -ENOMEM;
        }
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return r;
        return sd_bus_get_property_string(bus, SYSTEMD_DEST, path, "org.freedesktop.systemd1.Unit",
                                          "ActiveState", NULL, ret);
}

int systemd_subscribe(sd_bus *bus) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_call_method(bus, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER, "Subscribe", &e, NULL,
                               NULL);
        /* A second Subscribe from the same connection is refused; that is
         * fine. */
        sd_bus_error_free(&e);
        return r < 0 && r != -EBUSY ? r : 0;
}
