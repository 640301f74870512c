/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Request documents -> a{sv} options: flattening, checks and notes. */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "ctl-request.h"
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

/* Flattens text for verb; returns the options or NULL, with the error and
 * the notes written to stderr in *ret_error and *ret_notes. */
static json_object *flatten(const char *verb, const char *text, char **ret_error, char **ret_notes) {
        const RequestShape *shape = request_shape_find(verb);
        json_object *document = parse(text), *options = NULL;
        size_t size = 0;
        FILE *notes = open_memstream(ret_notes, &size);

        *ret_error = NULL;
        int r = request_flatten(shape, document, notes, &options, ret_error);
        fclose(notes);
        json_object_put(document);
        return r < 0 ? NULL : options;
}

static void test_create_service_full_document(void) {
        _cleanup_free_ char *error = NULL, *notes = NULL;
        json_object *options =
                flatten("create-service",
                        "{\"ServiceName\": \"web\","
                        " \"SourceConfiguration\": {"
                        "   \"ImageRepository\": {"
                        "     \"ImageIdentifier\": \"docker.io/library/nginx:1.25\","
                        "     \"ImageRepositoryType\": \"REGISTRY\","
                        "     \"ImageConfiguration\": {"
                        "       \"Port\": \"8080\", \"StartCommand\": \"nginx -g daemon off;\","
                        "       \"RuntimeEnvironmentVariables\": {\"A\": \"1\", \"B\": \"two\"}}},"
                        "   \"AutoDeploymentsEnabled\": true,"
                        "   \"AuthenticationConfiguration\": {\"ConnectionArn\": \"arn:c\","
                        "                                     \"AccessRoleArn\": \"arn:role\"}},"
                        " \"InstanceConfiguration\": {\"Cpu\": \"1 vCPU\", \"Memory\": \"2 GB\","
                        "                             \"InstanceRoleArn\": \"arn:i\"},"
                        " \"HealthCheckConfiguration\": {\"Protocol\": \"HTTP\", \"Path\": \"/\","
                        "   \"Interval\": 5, \"Timeout\": 2, \"HealthyThreshold\": 1,"
                        "   \"UnhealthyThreshold\": 5},"
                        " \"AutoScalingConfigurationArn\": \"arn:asc\","
                        " \"RequestTimeout\": 30}",
                        &error, &notes);

        EXPECT_TRUE(options != NULL);
        EXPECT_STR(error ?: "", "");
        EXPECT_STR(notes, "");
        EXPECT_JSON(options, "{\"ImageIdentifier\": \"docker.io/library/nginx:1.25\","
                             " \"ImageRepositoryType\": \"REGISTRY\", \"Port\": \"8080\","
                             " \"StartCommand\": \"nginx -g daemon off;\","
                             " \"RuntimeEnvironmentVariables\": {\"A\": \"1\", \"B\": \"two\"},"
                             " \"AutoDeploymentsEnabled\": true, \"ConnectionArn\": \"arn:c\","
                             " \"AccessRoleArn\": \"arn:role\", \"Cpu\": \"1 vCPU\", \"Memory\": \"2 GB\","
                             " \"InstanceRoleArn\": \"arn:i\", \"Protocol\": \"HTTP\", \"Path\": \"/\","
                             " \"Interval\": 5, \"Timeout\": 2, \"HealthyThreshold\": 1,"
                             " \"UnhealthyThreshold\": 5, \"AutoScalingConfigurationArn\": \"arn:asc\","
                             " \"RequestTimeout\": 30}");
        json_object_put(options);
}

static void test_integer_port_becomes_string(void) {
        _cleanup_free_ char *error = NULL, *notes = NULL;
        json_object *options =
                flatten("create-service",
                        "{\"ServiceName\": \"web\", \"SourceConfiguration\": {\"ImageRepository\":"
                        " {\"ImageIdentifier\": \"x\", \"ImageConfiguration\": {\"Port\": 8080}}}}",
                        &error, &notes);

        EXPECT_JSON(options, "{\"ImageIdentifier\": \"x\", \"Port\": \"8080\"}");
        json_object_put(options);
}

static void test_dropped_fields_write_notes(void) {
        _cleanup_free_ char *error = NULL, *notes = NULL;
        json_object *options =
                flatten("create-service",
                        "{\"ServiceName\": \"web\", \"SourceConfiguration\": {\"ImageRepository\":"
                        " {\"ImageIdentifier\": \"x\"}}, \"Tags\": [{\"Key\": \"k\", \"Value\": \"v\"}],"
                        " \"EncryptionConfiguration\": {\"KmsKey\": \"k\"},"
                        " \"NetworkConfiguration\": {\"IpAddressType\": \"IPV4\"},"
                        " \"ObservabilityConfiguration\": {\"ObservabilityEnabled\": false}}",
                        &error, &notes);

        EXPECT_JSON(options, "{\"ImageIdentifier\": \"x\"}");
        EXPECT_STR(
                notes,
                "Note: parameter Tags is not implemented by apprunnerd and was ignored.\n"
                "Note: parameter EncryptionConfiguration is not implemented by apprunnerd and was ignored.\n"
                "Note: parameter NetworkConfiguration is not implemented by apprunnerd and was ignored.\n"
                "Note: parameter ObservabilityConfiguration is not implemented by apprunnerd and was "
                "ignored.\n");
        json_object_put(options);
}

static const struct {
        const char *verb;
        const char *document;
        const char *error;
} invalid_cases[] = {
        {"create-service", "{\"ServiceName\": \"web\", \"Colour\": \"blue\"}",
         "Unknown parameter in input: \"Colour\", must be one of: ServiceName, SourceConfiguration, "
         "InstanceConfiguration, HealthCheckConfiguration, AutoScalingConfigurationArn, RequestTimeout, "
         "Tags, "
         "EncryptionConfiguration, NetworkConfiguration, ObservabilityConfiguration"},
        {"create-service",
         "{\"ServiceName\": \"web\", \"SourceConfiguration\": {\"ImageRepository\": {\"ImageIdentifier\": "
         "\"x\","
         " \"ImageConfiguration\": {\"Entrypoint\": \"sh\"}}}}",
         "Unknown parameter in SourceConfiguration.ImageRepository.ImageConfiguration: \"Entrypoint\", must "
         "be "
         "one of: RuntimeEnvironmentVariables, RuntimeEnvironmentSecrets, StartCommand, Port"},
        {"create-service",
         "{\"ServiceName\": \"web\", \"SourceConfiguration\": {\"ImageRepository\": {\"ImageIdentifier\": "
         "\"x\"}},"
         " \"HealthCheckConfiguration\": {\"Interval\": \"5\"}}",
         "Invalid type for parameter HealthCheckConfiguration.Interval, value: \"5\", type: string, valid "
         "types: "
         "integer"},
        {"create-service",
         "{\"ServiceName\": \"web\", \"SourceConfiguration\": {\"ImageRepository\": {\"ImageIdentifier\": "
         "\"x\"}},"
         " \"HealthCheckConfiguration\": {\"Timeout\": -1}}",
         "Invalid range for parameter HealthCheckConfiguration.Timeout, value: -1, valid min value: 0"},
        {"create-service",
         "{\"ServiceName\": \"web\", \"SourceConfiguration\": {\"ImageRepository\": {\"ImageIdentifier\": "
         "\"x\"}},"
         " \"HealthCheckConfiguration\": {\"Timeout\": 4294967296}}",
         "Invalid range for parameter HealthCheckConfiguration.Timeout, value: 4294967296, valid max value: "
         "4294967295"},
        {"create-service",
         "{\"ServiceName\": \"web\", \"SourceConfiguration\": {\"ImageRepository\": {\"ImageIdentifier\": "
         "\"x\","
         " \"ImageConfiguration\": {\"RuntimeEnvironmentVariables\": {\"A\": 1}}}}}",
         "Invalid type for parameter SourceConfiguration.ImageRepository.ImageConfiguration."
         "RuntimeEnvironmentVariables.A, value: 1, type: integer, valid types: string"},
        {"create-service", "{\"ServiceName\": \"web\", \"SourceConfiguration\": \"nginx\"}",
         "Invalid type for parameter SourceConfiguration, value: \"nginx\", type: string, valid types: "
         "object"},
        {"create-service",
         "{\"ServiceName\": \"web\", \"SourceConfiguration\": {\"CodeRepository\": {\"RepositoryUrl\": "
         "\"u\"}}}",
         "Parameter SourceConfiguration.CodeRepository is not supported: apprunnerd runs services from "
         "container "
         "images only, so use SourceConfiguration.ImageRepository."},
        {"create-service", "{\"SourceConfiguration\": {}}",
         "Missing required parameter ServiceName (option --service-name)."},
        {"create-service", "{\"ServiceName\": \"web\"}",
         "Missing required parameter SourceConfiguration (option --source-configuration)."},
        {"update-service", "{\"InstanceConfiguration\": {\"Cpu\": \"1 vCPU\"}}",
         "Missing required parameter ServiceArn (option --service-arn)."},
        {"create-auto-scaling-configuration", "{\"AutoScalingConfigurationName\": \"a\", \"MaxSize\": true}",
         "Invalid type for parameter MaxSize, value: true, type: boolean, valid types: integer"},
        {"describe-service", "[]",
         "Invalid type for the DescribeService request: list, expected a JSON object"},
};

static void test_invalid_documents(void) {
        for (size_t i = 0; i < ELEMENTSOF(invalid_cases); i++) {
                _cleanup_free_ char *error = NULL, *notes = NULL;
                json_object *options =
                        flatten(invalid_cases[i].verb, invalid_cases[i].document, &error, &notes);

                EXPECT_TRUE(options == NULL);
                EXPECT_STR(error, invalid_cases[i].error);
                json_object_put(options);
        }
}

static void test_auto_scaling_options_are_integers(void) {
        _cleanup_free_ char *error = NULL, *notes = NULL;
        json_object *options = flatten(
                "create-auto-scaling-configuration",
                "{\"AutoScalingConfigurationName\": \"high\", \"MaxConcurrency\": 50, \"MinSize\": 2,"
                " \"MaxSize\": 4, \"Tags\": []}",
                &error, &notes);

        EXPECT_JSON(options, "{\"MaxConcurrency\": 50, \"MinSize\": 2, \"MaxSize\": 4}");
        json_object *v = NULL;
        EXPECT_TRUE(json_object_object_get_ex(options, "MinSize", &v));
        EXPECT_TRUE(json_object_is_type(v, json_type_int));
        json_object_put(options);
}

static void test_arguments_stay_out_of_options(void) {
        _cleanup_free_ char *error = NULL, *notes = NULL;
        json_object *options = flatten("list-auto-scaling-configurations",
                                       "{\"AutoScalingConfigurationName\": \"a\", \"LatestOnly\": true,"
                                       " \"MaxResults\": 5, \"NextToken\": \"t\"}",
                                       &error, &notes);

        EXPECT_JSON(options, "{}");
        json_object_put(options);
}

static void test_option_values(void) {
        const Field *max_results = field_find(request_shape_find("list-services")->fields, "MaxResults");
        const Field *latest_only =
                field_find(request_shape_find("list-auto-scaling-configurations")->fields, "LatestOnly");
        json_object *v = NULL;
        char *error = NULL;

        EXPECT_INT(request_option_value(max_results, "12", &v, &error), 0);
        EXPECT_JSON(v, "12");
        json_object_put(v);

        EXPECT_INT(request_option_value(max_results, "1x", &v, &error), -EINVAL);
        EXPECT_STR(error,
                   "Invalid value for --max-results: \"1x\": expected an integer from 0 to 4294967295");
        free(error);

        EXPECT_INT(request_option_value(max_results, "-1", &v, &error), -EINVAL);
        free(error);

        EXPECT_INT(request_option_value(latest_only, "false", &v, &error), 0);
        EXPECT_JSON(v, "false");
        json_object_put(v);
}

static void test_json_argument_from_file(void) {
        char path[] = "/tmp/test-ctl-request-XXXXXX";
        _cleanup_free_ char *argument = NULL, *missing = NULL, *expected = NULL;
        json_object *v = NULL;
        char *error = NULL;
        int fd = mkstemp(path);

        EXPECT_TRUE(fd >= 0);
        EXPECT_TRUE(write(fd, "{\"Cpu\": \"1 vCPU\"}\n", 18) == 18);
        close(fd);
        EXPECT_TRUE(asprintf(&argument, "file://%s", path) > 0);

        EXPECT_INT(json_argument_parse("--instance-configuration", argument, &v, &error), 0);
        EXPECT_JSON(v, "{\"Cpu\": \"1 vCPU\"}");
        json_object_put(v);

        /* Strict parsing: a trailing comma is an error that names the file. */
        fd = open(path, O_WRONLY | O_TRUNC);
        EXPECT_TRUE(write(fd, "{\"Cpu\": \"1 vCPU\",}", 18) == 18);
        close(fd);
        EXPECT_INT(json_argument_parse("--instance-configuration", argument, &v, &error), -EINVAL);
        EXPECT_TRUE(asprintf(&expected,
                             "Error parsing parameter '--instance-configuration': Invalid JSON in %s: "
                             "unexpected character at offset 17",
                             argument) > 0);
        EXPECT_STR(error, expected);
        free(error);
        unlink(path);

        EXPECT_INT(json_argument_parse("--cli-input-json", argument, &v, &error), -EINVAL);
        EXPECT_TRUE(asprintf(&missing,
                             "Error parsing parameter '--cli-input-json': Unable to load paramfile %s: "
                             "No such file or directory",
                             argument) > 0);
        EXPECT_STR(error, missing);
        free(error);

        EXPECT_INT(json_argument_parse("--cli-input-json", "{} {}", &v, &error), -EINVAL);
        EXPECT_STR(error,
                   "Error parsing parameter '--cli-input-json': Invalid JSON: unexpected character at "
                   "offset 3: {} {}");
        free(error);
}

int main(void) {
        test_create_service_full_document();
        test_integer_port_becomes_string();
        test_dropped_fields_write_notes();
        test_invalid_documents();
        test_auto_scaling_options_are_integers();
        test_arguments_stay_out_of_options();
        test_option_values();
        test_json_argument_from_file();
        return test_result("test-ctl-request");
}
