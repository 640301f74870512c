/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* D-Bus properties -> App Runner response documents, timestamps and the
 * JSON printer. */

#include <stdlib.h>
#include <time.h>

#include "ctl-output.h"
#include "ctl-response.h"
#include "macro.h"
#include "tools-test.h"

static json_object *parse(const char *text) {
        json_object *v = json_tokener_parse(text);
        if (!v) {
                fprintf(stderr, "invalid JSON in the test itself: %s\n", text);
                exit(2);
        }
        return v;
}

static const struct {
        const char *tz; /* POSIX TZ strings, so the test needs no tzdata */
        uint64_t usec;
        const char *expected;
} timestamp_cases[] = {
        {"UTC0", 1796415756123456ULL, "2026-12-04T20:22:36.123456+00:00"},
        {"UTC0", 1796415756000000ULL, "2026-12-04T20:22:36+00:00"},
        {"UTC0", 1ULL, "1970-01-01T00:00:00.000001+00:00"},
        {"IST-5:30", 1796415756123456ULL, "2026-12-05T01:52:36.123456+05:30"},
        {"EST5", 1796415756123456ULL, "2026-12-04T15:22:36.123456-05:00"},
        {"EST5", 1796415756000000ULL, "2026-12-04T15:22:36-05:00"},
};

static void test_timestamp_format(void) {
        for (size_t i = 0; i < ELEMENTSOF(timestamp_cases); i++) {
                setenv("TZ", timestamp_cases[i].tz, 1);
                tzset();
                _cleanup_free_ char *s = timestamp_format(timestamp_cases[i].usec);
                EXPECT_STR(s, timestamp_cases[i].expected);
        }
        setenv("TZ", "UTC0", 1);
        tzset();
}

static void test_service_nesting(void) {
        json_object *props = parse(
                "{\"ServiceName\": \"web\", \"ServiceId\": \"0123456789abcdef0123456789abcdef\","
                " \"ServiceArn\": \"arn:aws:apprunner:local:000000000000:service/web/0123456789abcdef\","
                " \"ServiceUrl\": \"abcdefghij.local.apprunner.localhost\", \"Status\": \"RUNNING\","
                " \"CreatedAt\": 1796415756123456, \"UpdatedAt\": 1796415757000000, \"DeletedAt\": 0,"
                " \"ImageIdentifier\": \"docker.io/library/nginx:1.25\", \"ImageRepositoryType\": "
                "\"REGISTRY\","
                " \"Port\": \"8080\", \"StartCommand\": \"\", \"RuntimeEnvironmentVariables\": {\"A\": "
                "\"1\"},"
                " \"AutoDeploymentsEnabled\": false, \"ConnectionArn\": \"\", \"Cpu\": \"1024\","
                " \"Memory\": \"2048\", \"Protocol\": \"TCP\", \"Path\": \"\", \"Interval\": 5, "
                "\"Timeout\": 2,"
                " \"HealthyThreshold\": 1, \"UnhealthyThreshold\": 5,"
                " \"AutoScalingConfigurationArn\": \"arn:asc/DefaultConfiguration/1/x\","
                " \"AutoScalingConfigurationName\": \"DefaultConfiguration\","
                " \"AutoScalingConfigurationRevision\": 1, \"RequestTimeout\": 120, \"ImageDigest\": "
                "\"sha256:a\","
                " \"OperationId\": \"\", \"Instances\": [], \"RequestCount\": 3}");
        json_object *service = service_from_properties(props);

        EXPECT_JSON(service,
                    "{\"ServiceName\": \"web\", \"ServiceId\": \"0123456789abcdef0123456789abcdef\","
                    " \"ServiceArn\": \"arn:aws:apprunner:local:000000000000:service/web/0123456789abcdef\","
                    " \"ServiceUrl\": \"abcdefghij.local.apprunner.localhost\","
                    " \"CreatedAt\": \"2026-12-04T20:22:36.123456+00:00\","
                    " \"UpdatedAt\": \"2026-12-04T20:22:37+00:00\", \"Status\": \"RUNNING\","
                    " \"SourceConfiguration\": {"
                    "   \"ImageRepository\": {\"ImageIdentifier\": \"docker.io/library/nginx:1.25\","
                    "     \"ImageConfiguration\": {\"RuntimeEnvironmentVariables\": {\"A\": \"1\"},"
                    "                              \"Port\": \"8080\"},"
                    "     \"ImageRepositoryType\": \"REGISTRY\"},"
                    "   \"AutoDeploymentsEnabled\": false},"
                    " \"InstanceConfiguration\": {\"Cpu\": \"1024\", \"Memory\": \"2048\"},"
                    " \"HealthCheckConfiguration\": {\"Protocol\": \"TCP\", \"Interval\": 5, \"Timeout\": 2,"
                    "   \"HealthyThreshold\": 1, \"UnhealthyThreshold\": 5},"
                    " \"AutoScalingConfigurationSummary\": {"
                    "   \"AutoScalingConfigurationArn\": \"arn:asc/DefaultConfiguration/1/x\","
                    "   \"AutoScalingConfigurationName\": \"DefaultConfiguration\","
                    "   \"AutoScalingConfigurationRevision\": 1}}");

        /* The members print in App Runner's order, whatever the order of the properties. */
        json_object_object_foreach(service, key, value) {
                (void)value;
                EXPECT_STR(key, "ServiceName");
                break;
        }

        json_object_put(service);
        json_object_put(props);
}

static void test_operation_with_status_message(void) {
        json_object *props =
                parse("{\"Id\": \"5c1f\", \"Type\": \"CREATE_SERVICE\", \"Status\": \"FAILED\","
                      " \"TargetArn\": \"arn:s\", \"StartedAt\": 1796415756000000, \"EndedAt\": 0,"
                      " \"UpdatedAt\": 1796415756000001, \"StatusMessage\": \"image not found\"}");
        json_object *operation = operation_from_properties(props);

        EXPECT_JSON(operation, "{\"Id\": \"5c1f\", \"Type\": \"CREATE_SERVICE\", \"Status\": \"FAILED\","
                               " \"TargetArn\": \"arn:s\", \"StartedAt\": \"2026-12-04T20:22:36+00:00\","
                               " \"UpdatedAt\": \"2026-12-04T20:22:36.000001+00:00\","
                               " \"StatusMessage\": \"image not found\"}");
        json_object_put(operation);
        json_object_put(props);
}

static void test_auto_scaling_configuration(void) {
        json_object *props = parse(
                "{\"AutoScalingConfigurationArn\": \"arn:a\", \"AutoScalingConfigurationName\": \"high\","
                " \"AutoScalingConfigurationRevision\": 2, \"Latest\": true, \"Status\": \"ACTIVE\","
                " \"MaxConcurrency\": 50, \"MinSize\": 1, \"MaxSize\": 4, \"CreatedAt\": 1796415756000000,"
                " \"DeletedAt\": 0, \"HasAssociatedService\": false, \"IsDefault\": false}");
        json_object *asc = auto_scaling_configuration_from_properties(props);

        EXPECT_JSON(
                asc,
                "{\"AutoScalingConfigurationArn\": \"arn:a\", \"AutoScalingConfigurationName\": \"high\","
                " \"AutoScalingConfigurationRevision\": 2, \"Latest\": true, \"Status\": \"ACTIVE\","
                " \"MaxConcurrency\": 50, \"MinSize\": 1, \"MaxSize\": 4,"
                " \"CreatedAt\": \"2026-12-04T20:22:36+00:00\", \"HasAssociatedService\": false,"
                " \"IsDefault\": false}");
        json_object_put(asc);
        json_object_put(props);
}

static void test_connection_hides_username(void) {
        json_object *props = parse("{\"ConnectionName\": \"hub\", \"ConnectionArn\": \"arn:c\","
                                   " \"ProviderType\": \"REGISTRY\", \"Status\": \"AVAILABLE\","
                                   " \"CreatedAt\": 1796415756000000, \"Username\": \"me\"}");
        json_object *connection = connection_from_properties(props);

        EXPECT_JSON(connection, "{\"ConnectionName\": \"hub\", \"ConnectionArn\": \"arn:c\","
                                " \"ProviderType\": \"REGISTRY\", \"Status\": \"AVAILABLE\","
                                " \"CreatedAt\": \"2026-12-04T20:22:36+00:00\"}");
        json_object_put(connection);
        json_object_put(props);
}

static void test_summaries(void) {
        json_object *rows, *list;

        rows = parse("[[\"web\", \"id1\", \"arn:s\", \"u.local\", \"RUNNING\", 1796415756000000, 0]]");
        list = summary_list_from_rows(SUMMARY_SERVICE, rows);
        EXPECT_JSON(list, "[{\"ServiceName\": \"web\", \"ServiceId\": \"id1\", \"ServiceArn\": \"arn:s\","
                          " \"ServiceUrl\": \"u.local\", \"CreatedAt\": \"2026-12-04T20:22:36+00:00\","
                          " \"Status\": \"RUNNING\"}]");
        json_object_put(list);
        json_object_put(rows);

        rows = parse("[[\"op\", \"PAUSE_SERVICE\", \"SUCCEEDED\", \"arn:s\", 1796415756000000,"
                     " 1796415757000000, 1796415757000000]]");
        list = summary_list_from_rows(SUMMARY_OPERATION, rows);
        EXPECT_JSON(list, "[{\"Id\": \"op\", \"Type\": \"PAUSE_SERVICE\", \"Status\": \"SUCCEEDED\","
                          " \"TargetArn\": \"arn:s\", \"StartedAt\": \"2026-12-04T20:22:36+00:00\","
                          " \"EndedAt\": \"2026-12-04T20:22:37+00:00\","
                          " \"UpdatedAt\": \"2026-12-04T20:22:37+00:00\"}]");
        json_object_put(list);
        json_object_put(rows);

        rows = parse("[[\"arn:a\", \"high\", 3, \"ACTIVE\", true, false, 1796415756000000],"
                     " [\"arn:d\", \"DefaultConfiguration\", 1, \"ACTIVE\", true, true, 1796415756000000]]");
        list = summary_list_from_rows(SUMMARY_AUTO_SCALING_CONFIGURATION, rows);
        EXPECT_JSON(
                list,
                "[{\"AutoScalingConfigurationArn\": \"arn:a\", \"AutoScalingConfigurationName\": \"high\","
                "  \"AutoScalingConfigurationRevision\": 3, \"Status\": \"ACTIVE\","
                "  \"CreatedAt\": \"2026-12-04T20:22:36+00:00\", \"IsDefault\": false},"
                " {\"AutoScalingConfigurationArn\": \"arn:d\","
                "  \"AutoScalingConfigurationName\": \"DefaultConfiguration\","
                "  \"AutoScalingConfigurationRevision\": 1, \"Status\": \"ACTIVE\","
                "  \"CreatedAt\": \"2026-12-04T20:22:36+00:00\", \"IsDefault\": true}]");
        json_object_put(list);
        json_object_put(rows);

        rows = parse("[[\"hub\", \"arn:c\", \"REGISTRY\", \"AVAILABLE\", 1796415756000000]]");
        list = summary_list_from_rows(SUMMARY_CONNECTION, rows);
        EXPECT_JSON(list, "[{\"ConnectionName\": \"hub\", \"ConnectionArn\": \"arn:c\","
                          " \"ProviderType\": \"REGISTRY\", \"Status\": \"AVAILABLE\","
                          " \"CreatedAt\": \"2026-12-04T20:22:36+00:00\"}]");
        json_object_put(list);
        json_object_put(rows);

        rows = parse("[]");
        list = summary_list_from_rows(SUMMARY_SERVICE, rows);
        EXPECT_JSON(list, "[]");
        json_object_put(list);
        json_object_put(rows);
}

static void test_instances(void) {
        json_object *rows =
                parse("[[\"i1\", \"apprunner-web@i1.service\", \"10.88.0.2\", 8080, \"healthy\"]]");
        json_object *list = instances_from_property(rows);

        EXPECT_JSON(list, "[{\"InstanceId\": \"i1\", \"UnitName\": \"apprunner-web@i1.service\","
                          " \"Address\": \"10.88.0.2\", \"Port\": 8080, \"State\": \"healthy\"}]");
        json_object_put(list);
        json_object_put(rows);

        list = instances_from_property(NULL);
        EXPECT_JSON(list, "[]");
        json_object_put(list);
}

static void test_json_print_matches_aws_cli(void) {
        json_object *value = parse("{\"A\": [], \"B\": {}, \"C\": \"a/b \xc3\xa9 \\\"q\\\"\","
                                   " \"D\": [1, {\"E\": true}]}");
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        json_print(f, value);
        fclose(f);
        /* The output of Python's json.dumps(value, indent=4, ensure_ascii=False). */
        EXPECT_STR(text, "{\n"
                         "    \"A\": [],\n"
                         "    \"B\": {},\n"
                         "    \"C\": \"a/b \xc3\xa9 \\\"q\\\"\",\n"
                         "    \"D\": [\n"
                         "        1,\n"
                         "        {\n"
                         "            \"E\": true\n"
                         "        }\n"
                         "    ]\n"
                         "}\n");
        json_object_put(value);
}

static void test_text_print(void) {
        json_object *value =
                parse("{\"ServiceSummaryList\": [{\"ServiceName\": \"a\", \"Status\": \"RUNNING\"},"
                      " {\"ServiceName\": \"b\", \"Status\": \"PAUSED\"}], \"NextToken\": \"t\"}");
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        text_print(f, value);
        fclose(f);
        EXPECT_STR(text, "t\nSERVICESUMMARYLIST\ta\tRUNNING\nSERVICESUMMARYLIST\tb\tPAUSED\n");
        json_object_put(value);
}

int main(void) {
        setenv("TZ", "UTC0", 1);
        tzset();

        test_timestamp_format();
        test_service_nesting();
        test_operation_with_status_message();
        test_auto_scaling_configuration();
        test_connection_hides_username();
        test_summaries();
        test_instances();
        test_json_print_matches_aws_cli();
        test_text_print();
        return test_result("test-ctl-response");
}
