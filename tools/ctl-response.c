/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdio.h>
#include <stdlib.h>

#include "ctl-response.h"
#include "macro.h"

typedef enum ValueKind {
        VALUE_STRING,       /* left out when "" */
        VALUE_UINT,         /* always shown */
        VALUE_UINT_NONZERO, /* left out when 0, which apprunnerd uses for "unset" */
        VALUE_BOOLEAN,      /* always shown */
        VALUE_TIMESTAMP,    /* left out when 0 */
        VALUE_STRING_MAP,   /* left out when empty */
        VALUE_STRUCTURE,    /* left out when no member is shown */
} ValueKind;

/* One member of a response structure. name is App Runner's member name,
 * which is also the D-Bus property the value is read from. row is the
 * value's position in the struct of a List* reply. */
typedef struct Layout {
        const char *name;
        ValueKind kind;
        const struct Layout *members;
        int row;
} Layout;

char *timestamp_format(uint64_t usec) {
        time_t seconds = (time_t)(usec / 1000000);
        unsigned fraction = (unsigned)(usec % 1000000);
        struct tm tm;
        char date[32], offset[32], *s = NULL;

        if (!localtime_r(&seconds, &tm))
                return NULL;
        if (strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
                return NULL;

        /* tm_gmtoff is within a day, so the parts fit in two digits. */
        int gmtoff = (int)tm.tm_gmtoff;
        char sign = gmtoff < 0 ? '-' : '+';
        gmtoff = abs(gmtoff) % 86400;
        if (gmtoff % 60 != 0)
                snprintf(offset, sizeof(offset), "%c%02d:%02d:%02d", sign, gmtoff / 3600, gmtoff / 60 % 60,
                         gmtoff % 60);
        else
                snprintf(offset, sizeof(offset), "%c%02d:%02d", sign, gmtoff / 3600, gmtoff / 60 % 60);

        int r = fraction != 0 ? asprintf(&s, "%s.%06u%s", date, fraction, offset)
                              : asprintf(&s, "%s%s", date, offset);
        return r < 0 ? NULL : s;
}

static int add_value(json_object *out, const Layout *layout, json_object *value);

static json_object *structure_from_layout(const Layout *layout, json_object *props, json_object *row) {
        json_object *out = json_object_new_object();

        if (!out)
                return NULL;

        for (const Layout *l = layout; l->name; l++) {
                json_object *value = NULL;

                if (l->kind == VALUE_STRUCTURE) {
                        json_object *child = structure_from_layout(l->members, props, row);
                        if (!child)
                                goto fail;
                        if (json_object_object_length(child) > 0)
                                json_object_object_add(out, l->name, child);
                        else
                                json_object_put(child);
                        continue;
                }

                if (row)
                        value = json_object_array_get_idx(row, (size_t)l->row);
                else
                        (void)json_object_object_get_ex(props, l->name, &value);
                if (!value)
                        continue;

                if (add_value(out, l, value) < 0)
                        goto fail;
        }
        return out;

fail:
        json_object_put(out);
        return NULL;
}

static int add_value(json_object *out, const Layout *layout, json_object *value) {
        json_object *v = NULL;

        switch (layout->kind) {
        case VALUE_STRING: {
                const char *s = json_object_get_string(value);
                if (!json_object_is_type(value, json_type_string) || s[0] == '\0')
                        return 0;
                v = json_object_new_string(s);
                break;
        }
        case VALUE_UINT:
        case VALUE_UINT_NONZERO: {
                uint64_t n = json_object_get_uint64(value);
                if (layout->kind == VALUE_UINT_NONZERO && n == 0)
                        return 0;
                v = json_object_new_uint64(n);
                break;
        }
        case VALUE_BOOLEAN:
                v = json_object_new_boolean(json_object_get_boolean(value));
                break;
        case VALUE_TIMESTAMP: {
                uint64_t usec = json_object_get_uint64(value);
                if (usec == 0)
                        return 0;
                _cleanup_free_ char *s = timestamp_format(usec);
                if (!s)
                        return -ENOMEM;
                v = json_object_new_string(s);
                break;
        }
        case VALUE_STRING_MAP:
                if (!json_object_is_type(value, json_type_object) || json_object_object_length(value) == 0)
                        return 0;
                v = json_object_get(value);
                break;
        case VALUE_STRUCTURE:
                return 0;
        }

        if (!v)
                return -ENOMEM;
        json_object_object_add(out, layout->name, v);
        return 0;
}

/* App Runner's Service structure, from org.apprunner1.Service. */
static const Layout image_configuration_layout[] = {
        {"RuntimeEnvironmentVariables", VALUE_STRING_MAP},
        {"StartCommand", VALUE_STRING},
        {"Port", VALUE_STRING},
        {},
};

static const Layout image_repository_layout[] = {
        {"ImageIdentifier", VALUE_STRING},
        {"ImageConfiguration", VALUE_STRUCTURE, image_configuration_layout},
        {"ImageRepositoryType", VALUE_STRING},
        {},
};

static const Layout authentication_configuration_layout[] = {
        {"ConnectionArn", VALUE_STRING},
        {},
};

static const Layout source_configuration_layout[] = {
        {"ImageRepository", VALUE_STRUCTURE, image_repository_layout},
        {"AutoDeploymentsEnabled", VALUE_BOOLEAN},
        {"AuthenticationConfiguration", VALUE_STRUCTURE, authentication_configuration_layout},
        {},
};

static const Layout instance_configuration_layout[] = {
        {"Cpu", VALUE_STRING},
        {"Memory", VALUE_STRING},
        {},
};

static const Layout health_check_configuration_layout[] = {
        {"Protocol", VALUE_STRING},
        {"Path", VALUE_STRING},
        {"Interval", VALUE_UINT_NONZERO},
        {"Timeout", VALUE_UINT_NONZERO},
        {"HealthyThreshold", VALUE_UINT_NONZERO},
        {"UnhealthyThreshold", VALUE_UINT_NONZERO},
        {},
};

static const Layout auto_scaling_configuration_summary_layout[] = {
        {"AutoScalingConfigurationArn", VALUE_STRING},
        {"AutoScalingConfigurationName", VALUE_STRING},
        {"AutoScalingConfigurationRevision", VALUE_UINT_NONZERO},
        {},
};

static const Layout service_layout[] = {
        {"ServiceName", VALUE_STRING},
        {"ServiceId", VALUE_STRING},
        {"ServiceArn", VALUE_STRING},
        {"ServiceUrl", VALUE_STRING},
        {"CreatedAt", VALUE_TIMESTAMP},
        {"UpdatedAt", VALUE_TIMESTAMP},
        {"DeletedAt", VALUE_TIMESTAMP},
        {"Status", VALUE_STRING},
        {"SourceConfiguration", VALUE_STRUCTURE, source_configuration_layout},
        {"InstanceConfiguration", VALUE_STRUCTURE, instance_configuration_layout},
        {"HealthCheckConfiguration", VALUE_STRUCTURE, health_check_configuration_layout},
        {"AutoScalingConfigurationSummary", VALUE_STRUCTURE, auto_scaling_configuration_summary_layout},
        {},
};

static const Layout operation_layout[] = {
        {"Id", VALUE_STRING},           {"Type", VALUE_STRING},          {"Status", VALUE_STRING},
        {"TargetArn", VALUE_STRING},    {"StartedAt", VALUE_TIMESTAMP},  {"EndedAt", VALUE_TIMESTAMP},
        {"UpdatedAt", VALUE_TIMESTAMP}, {"StatusMessage", VALUE_STRING}, {},
};

static const Layout auto_scaling_configuration_layout[] = {
        {"AutoScalingConfigurationArn", VALUE_STRING},
        {"AutoScalingConfigurationName", VALUE_STRING},
        {"AutoScalingConfigurationRevision", VALUE_UINT},
        {"Latest", VALUE_BOOLEAN},
        {"Status", VALUE_STRING},
        {"MaxConcurrency", VALUE_UINT},
        {"MinSize", VALUE_UINT},
        {"MaxSize", VALUE_UINT},
        {"CreatedAt", VALUE_TIMESTAMP},
        {"DeletedAt", VALUE_TIMESTAMP},
        {"HasAssociatedService", VALUE_BOOLEAN},
        {"IsDefault", VALUE_BOOLEAN},
        {},
};

static const Layout connection_layout[] = {
        {"ConnectionName", VALUE_STRING}, {"ConnectionArn", VALUE_STRING}, {"ProviderType", VALUE_STRING},
        {"Status", VALUE_STRING},         {"CreatedAt", VALUE_TIMESTAMP},  {},
};

/* Summaries: members in App Runner's order, each with its position in the
 * D-Bus struct of the List* reply. */
static const Layout service_summary_layout[] = {
        {"ServiceName", VALUE_STRING, NULL, 0},  {"ServiceId", VALUE_STRING, NULL, 1},
        {"ServiceArn", VALUE_STRING, NULL, 2},   {"ServiceUrl", VALUE_STRING, NULL, 3},
        {"CreatedAt", VALUE_TIMESTAMP, NULL, 5}, {"UpdatedAt", VALUE_TIMESTAMP, NULL, 6},
        {"Status", VALUE_STRING, NULL, 4},       {},
};

static const Layout operation_summary_layout[] = {
        {"Id", VALUE_STRING, NULL, 0},           {"Type", VALUE_STRING, NULL, 1},
        {"Status", VALUE_STRING, NULL, 2},       {"TargetArn", VALUE_STRING, NULL, 3},
        {"StartedAt", VALUE_TIMESTAMP, NULL, 4}, {"EndedAt", VALUE_TIMESTAMP, NULL, 5},
        {"UpdatedAt", VALUE_TIMESTAMP, NULL, 6}, {},
};

/* The reply's Latest flag (position 4) has no place in App Runner's
 * AutoScalingConfigurationSummary and is left out. */
static const Layout auto_scaling_configuration_summary_row_layout[] = {
        {"AutoScalingConfigurationArn", VALUE_STRING, NULL, 0},
        {"AutoScalingConfigurationName", VALUE_STRING, NULL, 1},
        {"AutoScalingConfigurationRevision", VALUE_UINT, NULL, 2},
        {"Status", VALUE_STRING, NULL, 3},
        {"CreatedAt", VALUE_TIMESTAMP, NULL, 6},
        {"IsDefault", VALUE_BOOLEAN, NULL, 5},
        {},
};

static const Layout connection_summary_layout[] = {
        {"ConnectionName", VALUE_STRING, NULL, 0}, {"ConnectionArn", VALUE_STRING, NULL, 1},
        {"ProviderType", VALUE_STRING, NULL, 2},   {"Status", VALUE_STRING, NULL, 3},
        {"CreatedAt", VALUE_TIMESTAMP, NULL, 4},   {},
};

static const Layout instance_row_layout[] = {
        {"InstanceId", VALUE_STRING, NULL, 0}, {"UnitName", VALUE_STRING, NULL, 1},
        {"Address", VALUE_STRING, NULL, 2},    {"Port", VALUE_UINT, NULL, 3},
        {"State", VALUE_STRING, NULL, 4},      {},
};

json_object *service_from_properties(json_object *props) {
        return structure_from_layout(service_layout, props, NULL);
}

json_object *operation_from_properties(json_object *props) {
        return structure_from_layout(operation_layout, props, NULL);
}

json_object *auto_scaling_configuration_from_properties(json_object *props) {
        return structure_from_layout(auto_scaling_configuration_layout, props, NULL);
}

json_object *connection_from_properties(json_object *props) {
        return structure_from_layout(connection_layout, props, NULL);
}

static json_object *list_from_rows(const Layout *layout, json_object *rows) {
        json_object *list = json_object_new_array();

        if (!list)
                return NULL;
        if (!json_object_is_type(rows, json_type_array))
                return list;

        for (size_t i = 0; i < json_object_array_length(rows); i++) {
                json_object *row = json_object_array_get_idx(rows, i);
                json_object *item;

                if (!json_object_is_type(row, json_type_array))
                        continue;
                item = structure_from_layout(layout, NULL, row);
                if (!item || json_object_array_add(list, item) < 0) {
                        json_object_put(item);
                        json_object_put(list);
                        return NULL;
                }
        }
        return list;
}

json_object *instances_from_property(json_object *instances) {
        return list_from_rows(instance_row_layout, instances);
}

json_object *summary_list_from_rows(SummaryKind kind, json_object *rows) {
        static const Layout *const layouts[] = {
                [SUMMARY_SERVICE] = service_summary_layout,
                [SUMMARY_OPERATION] = operation_summary_layout,
                [SUMMARY_AUTO_SCALING_CONFIGURATION] = auto_scaling_configuration_summary_row_layout,
                [SUMMARY_CONNECTION] = connection_summary_layout,
        };

        return list_from_rows(layouts[kind], rows);
}
