/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* apprunnerctl against a mock org.apprunner1 on a private dbus-daemon.
 *
 * The mock only records what apprunnerctl sends and returns fixed
 * replies, so this test checks the CLI's translation: request documents
 * and options into D-Bus arguments with the right types, replies and
 * errors into App Runner's output and exit statuses. The real apprunnerd
 * is tested by the integration suite (tests/integration/).
 *
 * Usage: test-ctl-mock-bus PATH-OF-APPRUNNERCTL. Exits 77 (skipped) when
 * dbus-daemon is not installed. */

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "ctl-bus.h"
#include "macro.h"
#include "tools-test.h"

#define DBUS_DAEMON  "/usr/bin/dbus-daemon"
#define SERVICE_PATH "/org/apprunner1/service/s1"

static char directory[] = "/tmp/test-ctl-mock-bus-XXXXXX";

/* Mock side. */

/* Writes {"Argument": first string argument, "Options": {key: {"Type":
 * signature, "Value": value}}} of a (s, a{sv}) call to
 * <directory>/<member>.json. */
static int record_call(sd_bus_message *m, const char **ret_argument) {
        json_object *record = json_object_new_object(), *options = json_object_new_object();
        const char *argument;
        char path[256];
        int r;

        r = sd_bus_message_read(m, "s", &argument);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *key, *contents;
                json_object *value = NULL, *entry = json_object_new_object();

                r = sd_bus_message_read(m, "s", &key);
                if (r >= 0)
                        r = sd_bus_message_peek_type(m, NULL, &contents);
                if (r < 0)
                        return r;
                json_object_object_add(entry, "Type", json_object_new_string(contents));
                r = bus_message_read_json(m, &value);
                if (r < 0)
                        return r;
                json_object_object_add(entry, "Value", value);
                json_object_object_add(options, key, entry);
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;

        json_object_object_add(record, "Argument", json_object_new_string(argument));
        json_object_object_add(record, "Options", options);
        snprintf(path, sizeof(path), "%s/%s.json", directory, sd_bus_message_get_member(m));
        r = json_object_to_file(path, record);
        json_object_put(record);
        *ret_argument = argument;
        return r < 0 ? -EIO : 0;
}

static int method_create_service(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *name;
        int r = record_call(m, &name);

        if (r < 0)
                return r;
        if (streq(name, "fail-name"))
                return sd_bus_error_set(error, "org.apprunner1.Error.InvalidRequest",
                                        "ServiceName \"fail-name\" is reserved by the test");
        return sd_bus_reply_method_return(m, "os", SERVICE_PATH, "op-1");
}

static int method_create_auto_scaling_configuration(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *name;
        int r = record_call(m, &name);

        if (r < 0)
                return r;
        return sd_bus_error_set(error, "org.apprunner1.Error.ServiceQuotaExceeded",
                                "the test mock stores no configurations");
}

static int method_get_service(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *name;
        int r = sd_bus_message_read(m, "s", &name);

        if (r < 0)
                return r;
        if (!streq(name, "web"))
                return sd_bus_error_setf(error, "org.apprunner1.Error.ResourceNotFound", "No service %s",
                                         name);
        return sd_bus_reply_method_return(m, "o", SERVICE_PATH);
}

static int property_get(sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        static const struct {
                const char *name;
                const char *value;
        } strings[] = {
                {"ServiceName", "web"},
                {"ServiceId", "s1"},
                {"ServiceArn", "arn:aws:apprunner:local:000000000000:service/web/s1"},
                {"ServiceUrl", "abcdefghij.local.apprunner.localhost"},
                {"Status", "OPERATION_IN_PROGRESS"},
                {"ImageIdentifier", "docker.io/library/nginx:1.25"},
                {"ImageRepositoryType", "REGISTRY"},
                {"Port", "8080"},
                {"StartCommand", ""},
                {"ConnectionArn", ""},
                {"Cpu", "1024"},
                {"Memory", "2048"},
                {"Protocol", "TCP"},
                {"Path", ""},
        };

        for (size_t i = 0; i < ELEMENTSOF(strings); i++)
                if (streq(property, strings[i].name))
                        return sd_bus_message_append(reply, "s", strings[i].value);
        if (streq(property, "CreatedAt"))
                return sd_bus_message_append(reply, "t", (uint64_t)1796415756123456ULL);
        if (streq(property, "UpdatedAt") || streq(property, "DeletedAt"))
                return sd_bus_message_append(reply, "t", (uint64_t)0);
        if (streq(property, "AutoDeploymentsEnabled"))
                return sd_bus_message_append(reply, "b", 0);
        if (streq(property, "Interval"))
                return sd_bus_message_append(reply, "u", (uint32_t)5);
        if (streq(property, "RuntimeEnvironmentVariables"))
                return sd_bus_message_append(reply, "a{ss}", 1, "GREETING", "hello");
        if (streq(property, "Instances"))
                return sd_bus_message_append(reply, "a(sssqs)", 1, "i1", "apprunner-web@i1.service",
                                             "10.88.0.2", (uint16_t)8080, "healthy");
        return sd_bus_error_setf(error, SD_BUS_ERROR_UNKNOWN_PROPERTY, "No property %s", property);
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("CreateService", "sa{sv}", "os", method_create_service, 0),
        SD_BUS_METHOD("CreateAutoScalingConfiguration", "sa{sv}", "o",
                      method_create_auto_scaling_configuration, 0),
        SD_BUS_METHOD("GetService", "s", "o", method_get_service, 0),
        SD_BUS_VTABLE_END,
};

static const sd_bus_vtable service_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("ServiceName", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ServiceId", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ServiceArn", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ServiceUrl", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Status", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("CreatedAt", "t", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("UpdatedAt", "t", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("DeletedAt", "t", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ImageIdentifier", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ImageRepositoryType", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Port", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("StartCommand", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("RuntimeEnvironmentVariables", "a{ss}", property_get, 0,
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("AutoDeploymentsEnabled", "b", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ConnectionArn", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Cpu", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Memory", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Protocol", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Path", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Interval", "u", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Instances", "a(sssqs)", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_VTABLE_END,
};

static int connect_to(const char *address, sd_bus **ret) {
        sd_bus *bus = NULL;
        int r;

        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, address);
        if (r >= 0)
                r = sd_bus_set_bus_client(bus, 1);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r < 0) {
                sd_bus_unref(bus);
                return r;
        }
        *ret = bus;
        return 0;
}

/* Runs the mock until the parent sends SIGTERM; writes one byte to
 * ready_fd once the name is owned. */
_noreturn_ static void run_mock(const char *address, int ready_fd) {
        sd_bus *bus = NULL;
        int r;

        r = connect_to(address, &bus);
        if (r >= 0)
                r = sd_bus_add_object_vtable(bus, NULL, APPRUNNER_MANAGER_PATH, APPRUNNER_MANAGER_INTERFACE,
                                             manager_vtable, NULL);
        if (r >= 0)
                r = sd_bus_add_object_vtable(bus, NULL, SERVICE_PATH, "org.apprunner1.Service",
                                             service_vtable, NULL);
        if (r >= 0)
                r = sd_bus_request_name(bus, APPRUNNER_BUS_NAME, 0);
        if (r < 0) {
                fprintf(stderr, "mock: failed to set up: %s\n", strerror(-r));
                _exit(1);
        }
        if (write(ready_fd, "1", 1) != 1)
                _exit(1);
        close(ready_fd);

        for (;;) {
                r = sd_bus_process(bus, NULL);
                if (r < 0) {
                        fprintf(stderr, "mock: failed to process a message: %s\n", strerror(-r));
                        _exit(1);
                }
                if (r == 0)
                        (void)sd_bus_wait(bus, UINT64_MAX);
        }
}

/* Test side. */

static pid_t start_dbus_daemon(char *address, size_t size) {
        int fds[2];
        char fd_argument[32], listen_argument[300];

        if (pipe(fds) < 0)
                return -1;
        pid_t pid = fork();
        if (pid < 0)
                return -1;
        if (pid == 0) {
                close(fds[0]);
                snprintf(fd_argument, sizeof(fd_argument), "--print-address=%d", fds[1]);
                snprintf(listen_argument, sizeof(listen_argument), "--address=unix:path=%s/bus", directory);
                execl(DBUS_DAEMON, DBUS_DAEMON, "--session", "--nofork", "--nopidfile", fd_argument,
                      listen_argument, (char *)NULL);
                _exit(127);
        }
        close(fds[1]);

        ssize_t n = read(fds[0], address, size - 1);
        close(fds[0]);
        if (n <= 0)
                return -1;
        address[n] = '\0';
        address[strcspn(address, "\n")] = '\0';
        return pid;
}

static pid_t start_mock(const char *address) {
        int fds[2];
        char byte;

        if (pipe(fds) < 0)
                return -1;
        pid_t pid = fork();
        if (pid < 0)
                return -1;
        if (pid == 0) {
                close(fds[0]);
                run_mock(address, fds[1]);
        }
        close(fds[1]);
        ssize_t n = read(fds[0], &byte, 1);
        close(fds[0]);
        return n == 1 ? pid : -1;
}

static void stop(pid_t pid) {
        if (pid <= 0)
                return;
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
}

static char *read_text(const char *path) {
        char *text = NULL;
        size_t size = 0;
        FILE *f = fopen(path, "re");

        if (!f)
                return strdup("");
        if (getdelim(&text, &size, '\0', f) < 0) {
                free(text);
                text = strdup("");
        }
        fclose(f);
        return text;
}

typedef struct Run {
        int status;
        char *out;
        char *err;
} Run;

static void run_done(Run *run) {
        free(run->out);
        free(run->err);
}

/* Runs apprunnerctl with the arguments given (NULL-terminated) and
 * returns its exit status and output. */
static Run run_ctl(const char *ctl, const char *address, ...) {
        char out_path[256], err_path[256];
        const char *argv[32] = {ctl, "--bus-address", address};
        size_t n = 3;
        va_list ap;
        Run run = {.status = -1};

        va_start(ap, address);
        for (const char *a; n < ELEMENTSOF(argv) - 1 && (a = va_arg(ap, const char *));)
                argv[n++] = a;
        va_end(ap);
        argv[n] = NULL;

        snprintf(out_path, sizeof(out_path), "%s/stdout", directory);
        snprintf(err_path, sizeof(err_path), "%s/stderr", directory);

        pid_t pid = fork();
        if (pid == 0) {
                int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                if (out < 0 || err < 0 || dup2(out, STDOUT_FILENO) < 0 || dup2(err, STDERR_FILENO) < 0)
                        _exit(127);
                setenv("TZ", "UTC0", 1);
                execv(ctl, (char **)argv);
                _exit(127);
        }

        int status;
        if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status))
                run.status = WEXITSTATUS(status);
        run.out = read_text(out_path);
        run.err = read_text(err_path);
        return run;
}

static json_object *read_record(const char *member) {
        char path[256];

        snprintf(path, sizeof(path), "%s/%s.json", directory, member);
        return json_object_from_file(path);
}

static void test_create_service_sends_typed_options(const char *ctl, const char *address) {
        char request_path[256], input[300];

        snprintf(request_path, sizeof(request_path), "%s/request.json", directory);
        FILE *f = fopen(request_path, "we");
        fputs("{\"ServiceName\": \"replaced-by-option\","
              " \"SourceConfiguration\": {"
              "   \"ImageRepository\": {\"ImageIdentifier\": \"docker.io/library/nginx:1.25\","
              "     \"ImageRepositoryType\": \"REGISTRY\","
              "     \"ImageConfiguration\": {\"Port\": 8080, \"RuntimeEnvironmentVariables\": "
              "{\"GREETING\": "
              "\"hello\"}}},"
              "   \"AutoDeploymentsEnabled\": true},"
              " \"HealthCheckConfiguration\": {\"Protocol\": \"TCP\", \"Interval\": 5},"
              " \"Tags\": [{\"Key\": \"team\", \"Value\": \"web\"}]}",
              f);
        fclose(f);
        snprintf(input, sizeof(input), "file://%s", request_path);

        Run run = run_ctl(ctl, address, "create-service", "--cli-input-json", input, "--service-name", "web",
                          "--instance-configuration", "{\"Cpu\": \"1 vCPU\", \"Memory\": \"2 GB\"}", NULL);

        EXPECT_INT(run.status, 0);
        EXPECT_STR(run.err, "Note: parameter Tags is not implemented by apprunnerd and was ignored.\n");

        /* What went over the bus: the explicit --service-name wins over the document, and every leaf has
         * the D-Bus type of the Manager interface. */
        json_object *record = read_record("CreateService");
        EXPECT_TRUE(record != NULL);
        EXPECT_JSON(record,
                    "{\"Argument\": \"web\", \"Options\": {"
                    " \"ImageIdentifier\": {\"Type\": \"s\", \"Value\": \"docker.io/library/nginx:1.25\"},"
                    " \"ImageRepositoryType\": {\"Type\": \"s\", \"Value\": \"REGISTRY\"},"
                    " \"RuntimeEnvironmentVariables\": {\"Type\": \"a{ss}\", \"Value\": {\"GREETING\": "
                    "\"hello\"}},"
                    " \"Port\": {\"Type\": \"s\", \"Value\": \"8080\"},"
                    " \"AutoDeploymentsEnabled\": {\"Type\": \"b\", \"Value\": true},"
                    " \"Protocol\": {\"Type\": \"s\", \"Value\": \"TCP\"},"
                    " \"Interval\": {\"Type\": \"u\", \"Value\": 5},"
                    " \"Cpu\": {\"Type\": \"s\", \"Value\": \"1 vCPU\"},"
                    " \"Memory\": {\"Type\": \"s\", \"Value\": \"2 GB\"}}}");
        json_object_put(record);

        /* What was printed: App Runner's CreateService response. */
        EXPECT_STR(run.out,
                   "{\n"
                   "    \"Service\": {\n"
                   "        \"ServiceName\": \"web\",\n"
                   "        \"ServiceId\": \"s1\",\n"
                   "        \"ServiceArn\": \"arn:aws:apprunner:local:000000000000:service/web/s1\",\n"
                   "        \"ServiceUrl\": \"abcdefghij.local.apprunner.localhost\",\n"
                   "        \"CreatedAt\": \"2026-12-04T20:22:36.123456+00:00\",\n"
                   "        \"Status\": \"OPERATION_IN_PROGRESS\",\n"
                   "        \"SourceConfiguration\": {\n"
                   "            \"ImageRepository\": {\n"
                   "                \"ImageIdentifier\": \"docker.io/library/nginx:1.25\",\n"
                   "                \"ImageConfiguration\": {\n"
                   "                    \"RuntimeEnvironmentVariables\": {\n"
                   "                        \"GREETING\": \"hello\"\n"
                   "                    },\n"
                   "                    \"Port\": \"8080\"\n"
                   "                },\n"
                   "                \"ImageRepositoryType\": \"REGISTRY\"\n"
                   "            },\n"
                   "            \"AutoDeploymentsEnabled\": false\n"
                   "        },\n"
                   "        \"InstanceConfiguration\": {\n"
                   "            \"Cpu\": \"1024\",\n"
                   "            \"Memory\": \"2048\"\n"
                   "        },\n"
                   "        \"HealthCheckConfiguration\": {\n"
                   "            \"Protocol\": \"TCP\",\n"
                   "            \"Interval\": 5\n"
                   "        }\n"
                   "    },\n"
                   "    \"OperationId\": \"op-1\"\n"
                   "}\n");
        run_done(&run);
}

static void test_create_service_error_exit_status(const char *ctl, const char *address) {
        Run run = run_ctl(ctl, address, "create-service", "--service-name", "fail-name",
                          "--source-configuration", "{\"ImageRepository\": {\"ImageIdentifier\": \"x\"}}",
                          NULL);

        EXPECT_INT(run.status, 254);
        EXPECT_STR(run.err,
                   "An error occurred (InvalidRequestException) when calling the CreateService operation: "
                   "ServiceName \"fail-name\" is reserved by the test\n");
        EXPECT_STR(run.out, "");
        run_done(&run);
}

static void test_auto_scaling_options_are_uint32(const char *ctl, const char *address) {
        Run run = run_ctl(ctl, address, "create-auto-scaling-configuration",
                          "--auto-scaling-configuration-name", "high", "--max-concurrency", "50",
                          "--min-size", "2", "--max-size", "4", NULL);

        EXPECT_INT(run.status, 254);
        json_object *record = read_record("CreateAutoScalingConfiguration");
        EXPECT_JSON(record, "{\"Argument\": \"high\", \"Options\": {"
                            " \"MaxConcurrency\": {\"Type\": \"u\", \"Value\": 50},"
                            " \"MinSize\": {\"Type\": \"u\", \"Value\": 2},"
                            " \"MaxSize\": {\"Type\": \"u\", \"Value\": 4}}}");
        json_object_put(record);
        run_done(&run);
}

static void test_list_instances(const char *ctl, const char *address) {
        Run run = run_ctl(ctl, address, "list-instances", "--service-arn", "web", NULL);

        EXPECT_INT(run.status, 0);
        EXPECT_STR(run.out, "{\n"
                            "    \"Instances\": [\n"
                            "        {\n"
                            "            \"InstanceId\": \"i1\",\n"
                            "            \"UnitName\": \"apprunner-web@i1.service\",\n"
                            "            \"Address\": \"10.88.0.2\",\n"
                            "            \"Port\": 8080,\n"
                            "            \"State\": \"healthy\"\n"
                            "        }\n"
                            "    ]\n"
                            "}\n");
        run_done(&run);

        run = run_ctl(ctl, address, "list-instances", "--service-arn", "nope", NULL);
        EXPECT_INT(run.status, 254);
        EXPECT_STR(run.err, "An error occurred (ResourceNotFoundException) when calling the ListInstances "
                            "operation: No service nope\n");
        run_done(&run);
}

static void test_wait_times_out(const char *ctl, const char *address) {
        /* The mock's service stays OPERATION_IN_PROGRESS. */
        Run run = run_ctl(ctl, address, "wait", "service-running", "--service-arn", "web", "--timeout", "1",
                          "--delay", "1", NULL);

        EXPECT_INT(run.status, 255);
        EXPECT_STR(run.err, "Waiter ServiceRunning failed: timed out after 1 s.\n");
        EXPECT_STR(run.out, "");
        run_done(&run);
}

static void test_daemon_not_running(const char *ctl, const char *address) {
        Run run = run_ctl(ctl, address, "describe-service", "--service-arn", "web", NULL);

        EXPECT_INT(run.status, 255);
        EXPECT_STR(run.err,
                   "Could not call the DescribeService operation. apprunnerd is not running: no process "
                   "owns the name org.apprunner1 on the bus. Start it with \"systemctl start "
                   "apprunnerd.service\".\n");
        run_done(&run);
}

static void remove_directory(void) {
        static const char *const files[] = {"bus",
                                            "stdout",
                                            "stderr",
                                            "request.json",
                                            "CreateService.json",
                                            "CreateAutoScalingConfiguration.json"};
        char path[256];

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                snprintf(path, sizeof(path), "%s/%s", directory, files[i]);
                (void)unlink(path);
        }
        (void)rmdir(directory);
}

int main(int argc, char *argv[]) {
        char address[512];

        if (argc != 2) {
                fprintf(stderr, "Usage: %s PATH-OF-APPRUNNERCTL\n", argv[0]);
                return 2;
        }
        if (access(DBUS_DAEMON, X_OK) < 0) {
                fprintf(stderr, "%s is not installed, skipping.\n", DBUS_DAEMON);
                return 77;
        }
        if (!mkdtemp(directory)) {
                fprintf(stderr, "Failed to create a temporary directory: %m\n");
                return 1;
        }
        /* Bounds the test if a child hangs. meson's timeout is the second bound. */
        alarm(60);

        pid_t daemon_pid = start_dbus_daemon(address, sizeof(address));
        if (daemon_pid < 0) {
                fprintf(stderr, "Failed to start %s.\n", DBUS_DAEMON);
                remove_directory();
                return 1;
        }
        pid_t mock_pid = start_mock(address);
        EXPECT_TRUE(mock_pid > 0);

        if (mock_pid > 0) {
                test_create_service_sends_typed_options(argv[1], address);
                test_create_service_error_exit_status(argv[1], address);
                test_auto_scaling_options_are_uint32(argv[1], address);
                test_list_instances(argv[1], address);
                test_wait_times_out(argv[1], address);
                stop(mock_pid);
                test_daemon_not_running(argv[1], address);
        }

        stop(daemon_pid);
        remove_directory();
        return test_result("test-ctl-mock-bus");
}
