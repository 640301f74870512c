/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests of the operations engine and the manager's resource operations
 * (daemon/core/engine.c, daemon/core/manager.c), driven through a real
 * Manager, its state store in a temporary directory and its sd-event loop.
 * The deployer is the test deployer of test-deployer.c, and no bus is
 * connected, so the manager's signal emission does nothing.
 *
 * Connection secrets go through systemd-creds(1) when it is installed, and
 * systemd-creds creates its host key in /var/lib/systemd. Run as root, the
 * test therefore enters a private mount namespace and runs the connection
 * tests twice. First a directory of its own is bound over /var/lib/systemd,
 * and systemd-creds encrypts. Then a tmpfs is mounted there, systemd-creds
 * rejects a key on tmpfs, and secrets.c falls back to a root-only file. */

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>

#include "core-test.h"
#include "core/engine.h"
#include "core/validate.h"
#include "test-deployer.h"

#define IMAGE      "oci:/srv/images/hello:latest"
#define IMAGE_V2   "oci:/srv/images/hello:v2"
#define IMAGE_FAIL "oci:/srv/images/fail:latest"

/* Whether the test runs in its own mount namespace, see the comment at the
 * top. */
static bool private_mounts = false;

static bool file_exists(const char *dir, const char *kind, const char *id) {
        _cleanup_free_ char *path = NULL;

        ASSERT(asprintf(&path, "%s/%s/%s.json", dir, kind, id) > 0);
        return access(path, F_OK) == 0;
}

/* Creates a manager on state_dir the way apprunnerd starts: load the
 * state, attach the deployer, resume what was in progress. */
static Manager *manager_start(const char *state_dir, unsigned max_services) {
        _cleanup_free_ char *runtime_dir = NULL;
        Manager *m = NULL;

        ASSERT(asprintf(&runtime_dir, "%s/run", state_dir) > 0);
        ASSERT_INT_EQ(manager_new(state_dir, runtime_dir, &m), 0);
        if (max_services > 0)
                m->config.max_services = max_services;
        ASSERT_INT_EQ(manager_load(m), 0);
        ASSERT(m->store);
        m->deployer = &test_deployer;
        ASSERT_INT_EQ(test_deployer.init(m), 0);
        ASSERT_INT_EQ(engine_resume(m), 0);
        return m;
}

static bool operation_is_final(Manager *m, const char *operation_id) {
        Operation *op = manager_find_operation(m, operation_id);

        ASSERT(op);
        return operation_status_is_final(op->status);
}

/* Runs the event loop until the operation has ended. Aborts after 5 s,
 * 250 times the test deployer's delay. */
static void run_until_final(Manager *m, const char *operation_id) {
        for (unsigned i = 0; i < 500; i++) {
                if (operation_is_final(m, operation_id))
                        return;
                ASSERT(sd_event_run(m->event, 10 * 1000) >= 0);
        }
        fprintf(stderr, "operation %s did not end within 5 s\n", operation_id);
        abort();
}

/* Runs the event loop until the deployer's run() was called for the
 * operation, so its timer is armed but has not fired. */
static void run_until_deploying(Manager *m, const char *operation_id) {
        for (unsigned i = 0; i < 100; i++) {
                if (test_deployer_stats(m)->pending > 0)
                        break;
                ASSERT(sd_event_run(m->event, 0) >= 0);
        }
        ASSERT_INT_EQ(test_deployer_stats(m)->pending, 1);
        ASSERT(!operation_is_final(m, operation_id));
}

/* Returns a valid spec for image, with the repository type derived from
 * the identifier as the bus layer does. */
static ServiceSpec make_spec(const char *image) {
        ServiceSpec s;

        ASSERT_INT_EQ(service_spec_init_defaults(&s), 0);
        s.image_identifier = strdup(image);
        ASSERT(s.image_identifier);
        ASSERT_INT_EQ(validate_image_identifier(image, NULL, &s.image_repository_type, NULL), 0);
        return s;
}

static Service *create_service(Manager *m, const char *name, const char *image, Operation **ret_operation) {
        _cleanup_(api_error_done) ApiError e = {};
        ServiceSpec spec = make_spec(image);
        Service *s = NULL;
        Operation *op = NULL;
        int r;

        r = manager_create_service(m, name, &spec, &s, &op, &e);
        if (r < 0)
                fprintf(stderr, "CreateService %s failed: %s\n", name, strna(e.message));
        ASSERT_INT_EQ(r, 0);
        ASSERT(s);
        ASSERT(op);
        service_spec_done(&spec);
        if (ret_operation)
                *ret_operation = op;
        return s;
}

/* Creates a service and runs the loop until it is RUNNING. */
static Service *create_running_service(Manager *m, const char *name) {
        Operation *op;
        Service *s = create_service(m, name, IMAGE, &op);

        run_until_final(m, op->id);
        ASSERT_INT_EQ(s->status, SERVICE_RUNNING);
        return s;
}

static Operation *start_action(Manager *m, Service *s, OperationType type) {
        _cleanup_(api_error_done) ApiError e = {};
        Operation *op = NULL;
        int r;

        r = manager_service_action(m, s, type, &op, &e);
        if (r < 0)
                fprintf(stderr, "%s failed: %s\n", operation_type_to_string(type), strna(e.message));
        ASSERT_INT_EQ(r, 0);
        ASSERT(op);
        ASSERT_INT_EQ(op->type, type);
        return op;
}

/* Checks a refused request: its errno, its error kind and a part of its
 * message. */
static void assert_api_error(int r, const ApiError *e, int expected_r, ApiErrorKind expected_kind,
                             const char *message_part) {
        ASSERT_INT_EQ(r, expected_r);
        ASSERT_INT_EQ(e->kind, expected_kind);
        ASSERT_CONTAINS(e->message, message_part);
}

static void test_create_service(void) {
        char *dir = test_tmpdir("test-engine");
        Manager *m = manager_start(dir, 0);
        _cleanup_(api_error_done) ApiError e = {};
        _cleanup_free_ char *arn_prefix = NULL, *service_id = NULL, *operation_id = NULL;
        ServiceSpec spec = make_spec(IMAGE);
        AutoScalingConfiguration *def = manager_default_auto_scaling(m);
        Service *s = NULL;
        Operation *op = NULL;

        ASSERT_INT_EQ(manager_create_service(m, "hello-world", &spec, &s, &op, &e), 0);
        ASSERT_INT_EQ(e.kind, API_ERROR_NONE);

        /* The request returns at once, with the work still to do. */
        ASSERT_INT_EQ(s->status, SERVICE_OPERATION_IN_PROGRESS);
        ASSERT_INT_EQ(op->type, OPERATION_CREATE_SERVICE);
        ASSERT_INT_EQ(op->status, OPERATION_IN_PROGRESS);
        ASSERT_STR_EQ(s->operation_id, op->id);
        ASSERT_STR_EQ(op->service_id, s->id);
        ASSERT_STR_EQ(op->target_arn, s->arn);
        ASSERT_INT_EQ(test_deployer_stats(m)->runs[OPERATION_CREATE_SERVICE], 0);

        /* The manager took the spec and resolved the default auto scaling
         * configuration to its revision ARN. */
        ASSERT(!spec.image_identifier);
        ASSERT_STR_EQ(s->spec.image_identifier, IMAGE);
        ASSERT_STR_EQ(s->spec.image_repository_type, "OCI_LAYOUT");
        ASSERT(def);
        ASSERT_STR_EQ(s->spec.auto_scaling_configuration_arn, def->arn);

        ASSERT_STR_EQ(s->name, "hello-world");
        ASSERT(asprintf(&arn_prefix, "arn:aws:apprunner:%s:%s:service/hello-world/", m->config.region,
                        m->config.account_id) > 0);
        ASSERT(strncmp(s->arn, arn_prefix, strlen(arn_prefix)) == 0);
        ASSERT_STR_EQ(s->arn + strlen(arn_prefix), s->id);
        ASSERT_INT_EQ(strlen(s->id), 32);
        ASSERT_INT_EQ(strlen(s->url_id), 10);
        ASSERT(manager_find_service(m, "hello-world") == s);
        ASSERT(manager_find_service(m, s->arn) == s);
        ASSERT(manager_find_service(m, s->id) == s);

        /* Both documents are on disk before the request returns. */
        ASSERT(file_exists(dir, "services", s->id));
        ASSERT(file_exists(dir, "operations", op->id));

        run_until_final(m, op->id);
        ASSERT_INT_EQ(op->status, OPERATION_SUCCEEDED);
        ASSERT(!op->status_message);
        ASSERT(op->ended_at >= op->started_at);
        ASSERT_INT_EQ(s->status, SERVICE_RUNNING);
        ASSERT(!s->operation_id);
        ASSERT(s->image_digest);
        ASSERT(strncmp(s->image_digest, "sha256:", 7) == 0);
        ASSERT_INT_EQ(test_deployer_stats(m)->runs[OPERATION_CREATE_SERVICE], 1);
        ASSERT_INT_EQ(manager_count_active_services(m), 1);

        /* The final statuses are persisted. */
        service_id = strdup(s->id);
        operation_id = strdup(op->id);
        ASSERT(service_id && operation_id);
        manager_free(m);
        m = manager_start(dir, 0);
        s = manager_find_service_by_id(m, service_id);
        op = manager_find_operation(m, operation_id);
        ASSERT(s);
        ASSERT(op);
        ASSERT_INT_EQ(s->status, SERVICE_RUNNING);
        ASSERT_INT_EQ(op->status, OPERATION_SUCCEEDED);
        ASSERT(s->image_digest);
        ASSERT_INT_EQ(test_deployer_stats(m)->reconciles, 1);

        service_spec_done(&spec);
        manager_free(m);
        test_tmpdir_remove(dir);
}

static void test_busy_service(void) {
        static const OperationType types[] = {OPERATION_START_DEPLOYMENT, OPERATION_PAUSE_SERVICE,
                                              OPERATION_RESUME_SERVICE, OPERATION_DELETE_SERVICE};
        char *dir = test_tmpdir("test-engine");
        Manager *m = manager_start(dir, 0);
        Operation *op;
        Service *s = create_service(m, "busy-service", IMAGE, &op);

        for (size_t i = 0; i < ELEMENTSOF(types); i++) {
                _cleanup_(api_error_done) ApiError e = {};
                Operation *other = NULL;
                int r = manager_service_action(m, s, types[i], &other, &e);

                assert_api_error(r, &e, -EBUSY, API_ERROR_INVALID_STATE, op->id);
                ASSERT(!other);
        }
        {
                _cleanup_(api_error_done) ApiError e = {};
                ServiceSpec spec = make_spec(IMAGE_V2);
                Operation *other = NULL;
                int r = manager_update_service(m, s, &spec, &other, &e);

                assert_api_error(r, &e, -EBUSY, API_ERROR_INVALID_STATE, "busy-service");
                ASSERT(!other);
                service_spec_done(&spec);
        }

        /* The refused requests left no operation behind. */
        ASSERT_INT_EQ(m->n_operations, 1);
        ASSERT_STR_EQ(s->operation_id, op->id);

        run_until_final(m, op->id);
        ASSERT_INT_EQ(s->status, SERVICE_RUNNING);
        op = start_action(m, s, OPERATION_PAUSE_SERVICE);
        run_until_final(m, op->id);
        ASSERT_INT_EQ(s->status, SERVICE_PAUSED);

        manager_free(m);
        test_tmpdir_remove(dir);
}

static void test_create_failure(void) {
        char *dir = test_tmpdir("test-engine");
        Manager *m = manager_start(dir, 0);
        _cleanup_(api_error_done) ApiError e = {};
        _cleanup_free_ char *service_id = NULL;
        Operation *op, *other = NULL;
        Service *s = create_service(m, "failing-service", IMAGE_FAIL, &op);
        int r;

        run_until_final(m, op->id);
        ASSERT_INT_EQ(op->status, OPERATION_FAILED);
        ASSERT_CONTAINS(op->status_message, IMAGE_FAIL);
        ASSERT_INT_EQ(s->status, SERVICE_CREATE_FAILED);
        ASSERT(!s->operation_id);
        ASSERT(!s->image_digest);

        /* A service that failed to start can only be deleted. */
        r = manager_service_action(m, s, OPERATION_PAUSE_SERVICE, &other, &e);
        assert_api_error(r, &e, -EBUSY, API_ERROR_INVALID_STATE, "CREATE_FAILED");
        api_error_done(&e);
        r = manager_service_action(m, s, OPERATION_START_DEPLOYMENT, &other, &e);
        assert_api_error(r, &e, -EBUSY, API_ERROR_INVALID_STATE, "CREATE_FAILED");

        service_id = strdup(s->id);
        ASSERT(service_id);
        op = start_action(m, s, OPERATION_DELETE_SERVICE);
        run_until_final(m, op->id);
        ASSERT_INT_EQ(op->status, OPERATION_SUCCEEDED);
        ASSERT(!manager_find_service_by_id(m, service_id));

        manager_free(m);
        test_tmpdir_remove(dir);
}

static void test_pause_resume(void) {
        char *dir = test_tmpdir("test-engine");
        Manager *m = manager_start(dir, 0);
        Service *s = create_running_service(m, "pause-resume");
        _cleanup_(api_error_done) ApiError e = {};
        Operation *op, *other = NULL;
        int r;

        op = start_action(m, s, OPERATION_PAUSE_SERVICE);
        ASSERT_INT_EQ(s->status, SERVICE_OPERATION_IN_PROGRESS);
        run_until_final(m, op->id);
        ASSERT_INT_EQ(op->status, OPERATION_SUCCEEDED);
        ASSERT_INT_EQ(s->status, SERVICE_PAUSED);

        /* A paused service can be resumed or deleted, nothing else. */
        r = manager_service_action(m, s, OPERATION_PAUSE_SERVICE, &other, &e);
        assert_api_error(r, &e, -EBUSY, API_ERROR_INVALID_STATE, "PAUSED");
        api_error_done(&e);
        r = manager_service_action(m, s, OPERATION_START_DEPLOYMENT, &other, &e);
        assert_api_error(r, &e, -EBUSY, API_ERROR_INVALID_STATE, "PAUSED");
        api_error_done(&e);

        op = start_action(m, s, OPERATION_RESUME_SERVICE);
        run_until_final(m, op->id);
        ASSERT_INT_EQ(op->status, OPERATION_SUCCEEDED);
        ASSERT_INT_EQ(s->status, SERVICE_RUNNING);

        r = manager_service_action(m, s, OPERATION_RESUME_SERVICE, &other, &e);
        assert_api_error(r, &e, -EBUSY, API_ERROR_INVALID_STATE, "RUNNING");
        ASSERT(!other);
        ASSERT_INT_EQ(test_deployer_stats(m)->runs[OPERATION_PAUSE_SERVICE], 1);
        ASSERT_INT_EQ(test_deployer_stats(m)->runs[OPERATION_RESUME_SERVICE], 1);

        manager_free(m);
        test_tmpdir_remove(dir);
}

static void test_start_deployment(void) {
        char *dir = test_tmpdir("test-engine");
        Manager *m = manager_start(dir, 0);
        Service *s = create_running_service(m, "redeploy");
        Operation *op;

        op = start_action(m, s, OPERATION_START_DEPLOYMENT);
        ASSERT(!op->spec);
        run_until_final(m, op->id);
        ASSERT_INT_EQ(op->status, OPERATION_SUCCEEDED);
        ASSERT_INT_EQ(s->status, SERVICE_RUNNING);
        ASSERT_INT_EQ(test_deployer_stats(m)->runs[OPERATION_START_DEPLOYMENT], 1);

        manager_free(m);
        test_tmpdir_remove(dir);
}

static void test_update_service(void) {
        char *dir = test_tmpdir("test-engine");
        Manager *m = manager_start(dir, 0);
        Service *s = create_running_service(m, "update-me");
        _cleanup_free_ char *old_digest = strdup(s->image_digest), *new_digest = NULL;
        _cleanup_(api_error_done) ApiError e = {};
        ServiceSpec spec = make_spec(IMAGE_V2);
        Operation *op = NULL;

        ASSERT(old_digest);
        spec.cpu = 2048;
        spec.memory = 4096;
        ASSERT_INT_EQ(manager_update_service(m, s, &spec, &op, &e), 0);
        ASSERT_INT_EQ(op->type, OPERATION_UPDATE_SERVICE);

        /* The new settings wait in the operation until it succeeds. */
        ASSERT(op->spec);
        ASSERT_STR_EQ(op->spec->image_identifier, IMAGE_V2);
        ASSERT_STR_EQ(s->spec.image_identifier, IMAGE);
        ASSERT_INT_EQ(s->spec.cpu, 1024);
        run_until_deploying(m, op->id);
        ASSERT_STR_EQ(s->spec.image_identifier, IMAGE);

        run_until_final(m, op->id);
        ASSERT_INT_EQ(op->status, OPERATION_SUCCEEDED);
        ASSERT_INT_EQ(s->status, SERVICE_RUNNING);
        ASSERT_STR_EQ(s->spec.image_identifier, IMAGE_V2);
        ASSERT_INT_EQ(s->spec.cpu, 2048);
        ASSERT_INT_EQ(s->spec.memory, 4096);
        ASSERT(!streq(s->image_digest, old_digest));
        ASSERT(!op->spec);
        new_digest = strdup(s->image_digest);
        ASSERT(new_digest);
        service_spec_done(&spec);

        /* A failed update keeps the old settings and version. */
        spec = make_spec(IMAGE_FAIL);
        spec.cpu = 4096;
        spec.memory = 8192;
        ASSERT_INT_EQ(manager_update_service(m, s, &spec, &op, &e), 0);
        run_until_final(m, op->id);
        ASSERT_INT_EQ(op->status, OPERATION_FAILED);
        ASSERT_CONTAINS(op->status_message, IMAGE_FAIL);
        ASSERT_INT_EQ(s->status, SERVICE_RUNNING);
        ASSERT_STR_EQ(s->spec.image_identifier, IMAGE_V2);
        ASSERT_INT_EQ(s->spec.cpu, 2048);
        ASSERT_STR_EQ(s->image_digest, new_digest);
        service_spec_done(&spec);

        /* An invalid spec is refused before any operation starts. */
        spec = make_spec(IMAGE_V2);
        spec.cpu = 256;
        spec.memory = 4096;
        op = NULL;
        assert_api_error(manager_update_service(m, s, &spec, &op, &e), &e, -EINVAL,
                         API_ERROR_INVALID_REQUEST, "4096");
        ASSERT(!op);
        ASSERT(!s->operation_id);
        service_spec_done(&spec);

        manager_free(m);
        test_tmpdir_remove(dir);
}

static void test_delete_service(void) {
        char *dir = test_tmpdir("test-engine");
        Manager *m = manager_start(dir, 0);
        Service *s = create_running_service(m, "delete-me");
        _cleanup_free_ char *service_id = strdup(s->id), *operation_id = NULL;
        Operation *op;

        ASSERT(service_id);
        op = start_action(m, s, OPERATION_DELETE_SERVICE);
        operation_id = strdup(op->id);
        ASSERT(operation_id);
        ASSERT(file_exists(dir, "services", service_id));

        run_until_final(m, operation_id);
        ASSERT_INT_EQ(op->status, OPERATION_SUCCEEDED);
        ASSERT(!manager_find_service_by_id(m, service_id));
        ASSERT(!manager_find_service(m, "delete-me"));
        ASSERT(!file_exists(dir, "services", service_id));
        ASSERT(file_exists(dir, "operations", operation_id));
        ASSERT_INT_EQ(manager_count_active_services(m), 0);
        ASSERT_INT_EQ(m->n_services, 0);

        /* The name is free again, and the deletion survives a restart. */
        s = create_running_service(m, "delete-me");
        ASSERT(!streq(s->id, service_id));
        manager_free(m);
        m = manager_start(dir, 0);
        ASSERT_INT_EQ(m->n_services, 1);
        ASSERT(!manager_find_service_by_id(m, service_id));
        op = manager_find_operation(m, operation_id);
        ASSERT(op);
        ASSERT_INT_EQ(op->status, OPERATION_SUCCEEDED);

        manager_free(m);
        test_tmpdir_remove(dir);
}

static void test_service_quota(void) {
        char *dir = test_tmpdir("test-engine");
        Manager *m = manager_start(dir, 2);
        _cleanup_(api_error_done) ApiError e = {};
        ServiceSpec spec = make_spec(IMAGE);
        Service *s = NULL, *first;
        Operation *op = NULL;

        first = create_running_service(m, "quota-one");
        create_service(m, "quota-two", IMAGE, NULL);

        assert_api_error(manager_create_service(m, "quota-three", &spec, &s, &op, &e), &e, -EDQUOT,
                         API_ERROR_SERVICE_QUOTA_EXCEEDED, "2");
        ASSERT(!s);
        ASSERT(!op);
        ASSERT_INT_EQ(m->n_services, 2);
        ASSERT(!manager_find_service(m, "quota-three"));

        /* Deleting a service frees its place. */
        op = start_action(m, first, OPERATION_DELETE_SERVICE);
        run_until_final(m, op->id);
        create_service(m, "quota-three", IMAGE, NULL);

        service_spec_done(&spec);
        manager_free(m);
        test_tmpdir_remove(dir);
}

static void test_create_rejects(void) {
        char *dir = test_tmpdir("test-engine");
        Manager *m = manager_start(dir, 0);
        Service *s = NULL;
        Operation *op = NULL;

        create_service(m, "dup-name", IMAGE, NULL);

        {
                _cleanup_(api_error_done) ApiError e = {};
                ServiceSpec spec = make_spec(IMAGE);
                assert_api_error(manager_create_service(m, "dup-name", &spec, &s, &op, &e), &e, -EEXIST,
                                 API_ERROR_INVALID_REQUEST, "dup-name");
                service_spec_done(&spec);
        }
        {
                _cleanup_(api_error_done) ApiError e = {};
                ServiceSpec spec = make_spec(IMAGE);
                assert_api_error(manager_create_service(m, "-bad-name", &spec, &s, &op, &e), &e, -EINVAL,
                                 API_ERROR_INVALID_REQUEST, "-bad-name");
                service_spec_done(&spec);
        }
        {
                _cleanup_(api_error_done) ApiError e = {};
                ServiceSpec spec = make_spec(IMAGE);
                spec.memory = 12288;
                assert_api_error(manager_create_service(m, "bad-memory", &spec, &s, &op, &e), &e, -EINVAL,
                                 API_ERROR_INVALID_REQUEST, "12288");
                service_spec_done(&spec);
        }
        {
                _cleanup_(api_error_done) ApiError e = {};
                ServiceSpec spec = make_spec(IMAGE);
                spec.auto_scaling_configuration_arn = strdup("arn:aws:apprunner:us-east-1:000000000000:"
                                                             "autoscalingconfiguration/missing-config");
                ASSERT(spec.auto_scaling_configuration_arn);
                assert_api_error(manager_create_service(m, "bad-scaling", &spec, &s, &op, &e), &e, -ENOENT,
                                 API_ERROR_INVALID_REQUEST, "missing-config");
                service_spec_done(&spec);
        }
        {
                _cleanup_(api_error_done) ApiError e = {};
                ServiceSpec spec = make_spec(IMAGE);
                spec.connection_arn = strdup("arn:aws:apprunner:us-east-1:000000000000:connection/none/x");
                ASSERT(spec.connection_arn);
                assert_api_error(manager_create_service(m, "bad-connection", &spec, &s, &op, &e), &e,
                                 -ENOENT, API_ERROR_INVALID_REQUEST, "connection/none/x");
                service_spec_done(&spec);
        }

        /* Nothing of the refused requests was kept. */
        ASSERT(!s);
        ASSERT(!op);
        ASSERT_INT_EQ(m->n_services, 1);
        ASSERT_INT_EQ(m->n_operations, 1);

        manager_free(m);
        test_tmpdir_remove(dir);
}

static AutoScalingConfiguration *create_auto_scaling(Manager *m, const char *name,
                                                     unsigned max_concurrency) {
        _cleanup_(api_error_done) ApiError e = {};
        AutoScalingConfiguration *c = NULL;
        int r;

        r = manager_create_auto_scaling(m, name, max_concurrency, 1, 5, &c, &e);
        if (r < 0)
                fprintf(stderr, "CreateAutoScalingConfiguration %s failed: %s\n", name, strna(e.message));
        ASSERT_INT_EQ(r, 0);
        ASSERT(c);
        return c;
}

static char *name_arn(Manager *m, const char *name) {
        char *arn;

        ASSERT(asprintf(&arn, "arn:aws:apprunner:%s:%s:autoscalingconfiguration/%s", m->config.region,
                        m->config.account_id, name) > 0);
        return arn;
}

static void test_default_auto_scaling(void) {
        char *dir = test_tmpdir("test-engine");
        Manager *m = manager_start(dir, 0);
        AutoScalingConfiguration *c = manager_default_auto_scaling(m), *deleted = NULL;
        _cleanup_(api_error_done) ApiError e = {};
        _cleanup_free_ char *arn = NULL;
        size_t n = 0;

        ASSERT(c);
        ASSERT_STR_EQ(c->name, "DefaultConfiguration");
        ASSERT_INT_EQ(c->revision, 1);
        ASSERT(c->active);
        ASSERT(c->is_default);
        ASSERT_INT_EQ(c->max_concurrency, m->config.default_max_concurrency);
        ASSERT_INT_EQ(c->min_size, m->config.default_min_size);
        ASSERT_INT_EQ(c->max_size, m->config.default_max_size);
        ASSERT(file_exists(dir, "auto-scaling-configurations", c->id));
        arn = strdup(c->arn);
        ASSERT(arn);

        assert_api_error(manager_delete_auto_scaling(m, arn, false, &deleted, &e), &e, -EPERM,
                         API_ERROR_INVALID_REQUEST, "DefaultConfiguration");
        api_error_done(&e);
        assert_api_error(manager_delete_auto_scaling(m, arn, true, &deleted, &e), &e, -EPERM,
                         API_ERROR_INVALID_REQUEST, "DefaultConfiguration");
        ASSERT(!deleted);
        ASSERT(c->active);

        /* A restart loads it instead of creating another one. */
        manager_free(m);
        m = manager_start(dir, 0);
        for (size_t i = 0; i < m->n_auto_scaling; i++)
                if (streq(m->auto_scaling[i]->name, "DefaultConfiguration"))
                        n++;
        ASSERT_INT_EQ(n, 1);
        c = manager_default_auto_scaling(m);
        ASSERT(c);
        ASSERT_STR_EQ(c->arn, arn);

        manager_free(m);
        test_tmpdir_remove(dir);
}

static void test_auto_scaling_revisions(void) {
        char *dir = test_tmpdir("test-engine");
        Manager *m = manager_start(dir, 0);
        _cleanup_free_ char *arn = name_arn(m, "high-traffic");
        _cleanup_(api_error_done) ApiError e = {};
        AutoScalingConfiguration *c = NULL, *revisions[AUTO_SCALING_REVISIONS_MAX] = {}, *deleted = NULL;

        for (unsigned i = 0; i < AUTO_SCALING_REVISIONS_MAX; i++) {
                _cleanup_free_ char *suffix = NULL;

                revisions[i] = create_auto_scaling(m, "high-traffic", 10 + i);
                ASSERT_INT_EQ(revisions[i]->revision, i + 1);
                ASSERT(revisions[i]->active);
                ASSERT(!revisions[i]->is_default);
                ASSERT(asprintf(&suffix, "autoscalingconfiguration/high-traffic/%u/%s", i + 1,
                                revisions[i]->id) > 0);
                ASSERT(strstr(revisions[i]->arn, suffix));
                ASSERT(manager_latest_auto_scaling(m, "high-traffic") == revisions[i]);
                ASSERT(manager_find_auto_scaling(m, arn) == revisions[i]);
                ASSERT(manager_find_auto_scaling(m, revisions[i]->arn) == revisions[i]);
        }

        /* The 11th active revision of a name exceeds the quota. */
        assert_api_error(manager_create_auto_scaling(m, "high-traffic", 50, 1, 5, &c, &e), &e, -EDQUOT,
                         API_ERROR_SERVICE_QUOTA_EXCEEDED, "high-traffic");
        ASSERT(!c);
        api_error_done(&e);

        /* Deleting a revision makes room, and revision numbers are never
         * reused. */
        ASSERT_INT_EQ(manager_delete_auto_scaling(m, revisions[4]->arn, false, &deleted, &e), 0);
        ASSERT(deleted == revisions[4]);
        ASSERT(!revisions[4]->active);
        ASSERT(revisions[4]->deleted_at > 0);
        c = create_auto_scaling(m, "high-traffic", 60);
        ASSERT_INT_EQ(c->revision, 11);

        manager_free(m);
        test_tmpdir_remove(dir);
}

static void test_auto_scaling_names_quota(void) {
        char *dir = test_tmpdir("test-engine");
        Manager *m = manager_start(dir, 0);
        _cleanup_(api_error_done) ApiError e = {};
        AutoScalingConfiguration *c = NULL, *deleted = NULL;

        m->config.max_auto_scaling_configurations = 3;
        create_auto_scaling(m, "name-one", 10);
        create_auto_scaling(m, "name-two", 10);
        create_auto_scaling(m, "name-three", 10);

        assert_api_error(manager_create_auto_scaling(m, "name-four", 10, 1, 5, &c, &e), &e, -EDQUOT,
                         API_ERROR_SERVICE_QUOTA_EXCEEDED, "3");
        ASSERT(!c);
        api_error_done(&e);

        /* New revisions of existing names and of DefaultConfiguration do
         * not count against the names quota. */
        c = create_auto_scaling(m, "name-two", 20);
        ASSERT_INT_EQ(c->revision, 2);
        c = create_auto_scaling(m, "DefaultConfiguration", 20);
        ASSERT_INT_EQ(c->revision, 2);

        /* Deleting every revision of a name frees it. */
        ASSERT_INT_EQ(manager_delete_auto_scaling(m, manager_latest_auto_scaling(m, "name-two")->arn, true,
                                                  &deleted, &e),
                      0);
        ASSERT(!manager_latest_auto_scaling(m, "name-two"));
        c = create_auto_scaling(m, "name-four", 10);
        ASSERT_INT_EQ(c->revision, 1);

        /* Invalid names and values are refused. */
        c = NULL;
        assert_api_error(manager_create_auto_scaling(m, "abc", 10, 1, 5, &c, &e), &e, -EINVAL,
                         API_ERROR_INVALID_REQUEST, "abc");
        api_error_done(&e);
        assert_api_error(manager_create_auto_scaling(m, "name-one", 201, 1, 5, &c, &e), &e, -EINVAL,
                         API_ERROR_INVALID_REQUEST, "201");
        api_error_done(&e);
        assert_api_error(manager_create_auto_scaling(m, "name-one", 10, 6, 5, &c, &e), &e, -EINVAL,
                         API_ERROR_INVALID_REQUEST, "MinSize 6");
        ASSERT(!c);

        manager_free(m);
        test_tmpdir_remove(dir);
}

static void test_auto_scaling_delete(void) {
        char *dir = test_tmpdir("test-engine");
        Manager *m = manager_start(dir, 0);
        _cleanup_free_ char *arn = name_arn(m, "delete-test"), *r2_id = NULL;
        _cleanup_(api_error_done) ApiError e = {};
        AutoScalingConfiguration *r1, *r2, *r3, *r4, *deleted = NULL;

        r1 = create_auto_scaling(m, "delete-test", 10);
        r2 = create_auto_scaling(m, "delete-test", 20);
        r3 = create_auto_scaling(m, "delete-test", 30);
        r4 = create_auto_scaling(m, "delete-test", 40);

        /* The name ARN deletes the latest revision only. */
        ASSERT_INT_EQ(manager_delete_auto_scaling(m, arn, false, &deleted, &e), 0);
        ASSERT(deleted == r4);
        ASSERT(!r4->active);
        ASSERT(r3->active);
        ASSERT(manager_latest_auto_scaling(m, "delete-test") == r3);

        /* A revision ARN deletes that revision. */
        ASSERT_INT_EQ(manager_delete_auto_scaling(m, r2->arn, false, &deleted, &e), 0);
        ASSERT(deleted == r2);
        ASSERT(!r2->active);
        ASSERT(r1->active);
        ASSERT(r3->active);
        assert_api_error(manager_delete_auto_scaling(m, r2->arn, false, &deleted, &e), &e, -ENOENT,
                         API_ERROR_RESOURCE_NOT_FOUND, r2->arn);
        api_error_done(&e);

        /* All revisions of the name go at once. */
        ASSERT_INT_EQ(manager_delete_auto_scaling(m, r1->arn, true, &deleted, &e), 0);
        ASSERT(!r1->active);
        ASSERT(!r3->active);
        ASSERT(!manager_latest_auto_scaling(m, "delete-test"));
        ASSERT(!manager_find_auto_scaling(m, arn));
        assert_api_error(manager_delete_auto_scaling(m, arn, false, &deleted, &e), &e, -ENOENT,
                         API_ERROR_RESOURCE_NOT_FOUND, "delete-test");
        api_error_done(&e);
        assert_api_error(manager_delete_auto_scaling(m, "arn:aws:apprunner:nowhere", false, &deleted, &e),
                         &e, -ENOENT, API_ERROR_RESOURCE_NOT_FOUND, "arn:aws:apprunner:nowhere");

        /* Deleted revisions stay on disk as INACTIVE. */
        r2_id = strdup(r2->id);
        ASSERT(r2_id);
        manager_free(m);
        m = manager_start(dir, 0);
        r2 = manager_find_auto_scaling_by_id(m, r2_id);
        ASSERT(r2);
        ASSERT(!r2->active);
        ASSERT(r2->deleted_at > 0);
        ASSERT(!manager_latest_auto_scaling(m, "delete-test"));

        manager_free(m);
        test_tmpdir_remove(dir);
}

static void test_auto_scaling_in_use(void) {
        char *dir = test_tmpdir("test-engine");
        Manager *m = manager_start(dir, 0);
        _cleanup_free_ char *arn = name_arn(m, "busy-config");
        _cleanup_(api_error_done) ApiError e = {};
        AutoScalingConfiguration *c = create_auto_scaling(m, "busy-config", 10), *deleted = NULL;
        ServiceSpec spec = make_spec(IMAGE);
        Service *s = NULL;
        Operation *op = NULL;

        /* A name ARN in a spec is resolved to the latest revision. */
        spec.auto_scaling_configuration_arn = strdup(arn);
        ASSERT(spec.auto_scaling_configuration_arn);
        ASSERT_INT_EQ(manager_create_service(m, "scaled-service", &spec, &s, &op, &e), 0);
        ASSERT_STR_EQ(s->spec.auto_scaling_configuration_arn, c->arn);
        ASSERT(manager_service_auto_scaling(m, s) == c);
        ASSERT(manager_auto_scaling_in_use(m, c));
        run_until_final(m, op->id);

        assert_api_error(manager_delete_auto_scaling(m, c->arn, false, &deleted, &e), &e, -EBUSY,
                         API_ERROR_INVALID_STATE, c->arn);
        api_error_done(&e);
        assert_api_error(manager_delete_auto_scaling(m, arn, true, &deleted, &e), &e, -EBUSY,
                         API_ERROR_INVALID_STATE, c->arn);
        api_error_done(&e);
        ASSERT(c->active);

        /* Once the service is gone the configuration can be deleted. */
        op = start_action(m, s, OPERATION_DELETE_SERVICE);
        run_until_final(m, op->id);
        ASSERT(!manager_auto_scaling_in_use(m, c));
        ASSERT_INT_EQ(manager_delete_auto_scaling(m, c->arn, false, &deleted, &e), 0);
        ASSERT(!c->active);

        service_spec_done(&spec);
        manager_free(m);
        test_tmpdir_remove(dir);
}

static void test_update_default(void) {
        char *dir = test_tmpdir("test-engine");
        Manager *m = manager_start(dir, 0);
        _cleanup_(api_error_done) ApiError e = {};
        _cleanup_free_ char *custom_id = NULL;
        AutoScalingConfiguration *builtin = manager_default_auto_scaling(m), *custom, *result = NULL;
        Operation *op;
        Service *s;

        custom = create_auto_scaling(m, "custom-default", 42);
        ASSERT_INT_EQ(manager_set_default_auto_scaling(m, custom->arn, &result, &e), 0);
        ASSERT(result == custom);
        ASSERT(custom->is_default);
        ASSERT(!builtin->is_default);
        ASSERT(manager_default_auto_scaling(m) == custom);

        /* Setting the current default again changes nothing. */
        ASSERT_INT_EQ(manager_set_default_auto_scaling(m, custom->arn, &result, &e), 0);
        ASSERT(manager_default_auto_scaling(m) == custom);

        /* New services get the new default. */
        s = create_service(m, "default-user", IMAGE, &op);
        ASSERT_STR_EQ(s->spec.auto_scaling_configuration_arn, custom->arn);
        run_until_final(m, op->id);

        /* The default cannot be deleted, even when unused. */
        op = start_action(m, s, OPERATION_DELETE_SERVICE);
        run_until_final(m, op->id);
        assert_api_error(manager_delete_auto_scaling(m, custom->arn, false, &result, &e), &e, -EBUSY,
                         API_ERROR_INVALID_STATE, "default");
        api_error_done(&e);

        assert_api_error(manager_set_default_auto_scaling(m, "arn:aws:apprunner:nowhere", &result, &e), &e,
                         -ENOENT, API_ERROR_RESOURCE_NOT_FOUND, "arn:aws:apprunner:nowhere");
        api_error_done(&e);

        /* The choice survives a restart. */
        custom_id = strdup(custom->id);
        ASSERT(custom_id);
        manager_free(m);
        m = manager_start(dir, 0);
        custom = manager_find_auto_scaling_by_id(m, custom_id);
        ASSERT(custom);
        ASSERT(manager_default_auto_scaling(m) == custom);
        builtin = manager_latest_auto_scaling(m, "DefaultConfiguration");
        ASSERT(builtin);
        ASSERT(!builtin->is_default);

        /* Back to the built-in default, after which the custom one can go. */
        ASSERT_INT_EQ(manager_set_default_auto_scaling(m, builtin->arn, &result, &e), 0);
        ASSERT(builtin->is_default);
        ASSERT(!custom->is_default);
        ASSERT_INT_EQ(manager_delete_auto_scaling(m, custom->arn, false, &result, &e), 0);

        manager_free(m);
        test_tmpdir_remove(dir);
}

/* Returns whether the secret of connection id is stored with the suffix
 * ".cred" (encrypted by systemd-creds) or ".secret" (plain file). */
static bool secret_exists(const char *dir, const char *id, const char *suffix) {
        _cleanup_free_ char *path = NULL;

        ASSERT(asprintf(&path, "%s/secrets/%s%s", dir, id, suffix) > 0);
        return access(path, F_OK) == 0;
}

/* Tests connections. secret_suffix is the expected file suffix of stored
 * secrets (".cred" or ".secret"), or NULL when either may be used. */
static void test_connections(const char *secret_suffix) {
        char *dir;
        Manager *m;
        _cleanup_(api_error_done) ApiError e = {};
        _cleanup_free_ char *secret = NULL, *first_id = NULL;
        Connection *first, *second, *c = NULL;
        ServiceSpec spec;
        Service *s = NULL;
        Operation *op = NULL;

        dir = test_tmpdir("test-engine");
        m = manager_start(dir, 0);
        m->config.max_connections = 2;

        ASSERT_INT_EQ(
                manager_create_connection(m, "registry-one", "REGISTRY", "robot", "s3cret", &first, &e), 0);
        ASSERT_STR_EQ(first->name, "registry-one");
        ASSERT_STR_EQ(first->username, "robot");
        ASSERT(!first->deleted);
        ASSERT(strstr(first->arn, ":connection/registry-one/"));
        ASSERT(file_exists(dir, "connections", first->id));
        ASSERT_INT_EQ(manager_connection_secret(m, first, &secret), 0);
        ASSERT_STR_EQ(secret, "s3cret");
        if (secret_suffix)
                ASSERT(secret_exists(dir, first->id, secret_suffix));
        else
                ASSERT(secret_exists(dir, first->id, ".cred") || secret_exists(dir, first->id, ".secret"));

        assert_api_error(manager_create_connection(m, "registry-one", "REGISTRY", "robot", "x", &c, &e), &e,
                         -EEXIST, API_ERROR_INVALID_REQUEST, "registry-one");
        api_error_done(&e);
        assert_api_error(manager_create_connection(m, "github-one", "GITHUB", "robot", "x", &c, &e), &e,
                         -EINVAL, API_ERROR_INVALID_REQUEST, "GITHUB");
        api_error_done(&e);
        assert_api_error(manager_create_connection(m, "no-password", "REGISTRY", "robot", "", &c, &e), &e,
                         -EINVAL, API_ERROR_INVALID_REQUEST, "Password");
        api_error_done(&e);

        ASSERT_INT_EQ(manager_create_connection(m, "registry-two", "REGISTRY", "robot", "x", &second, &e),
                      0);
        assert_api_error(manager_create_connection(m, "registry-three", "REGISTRY", "robot", "x", &c, &e),
                         &e, -EDQUOT, API_ERROR_SERVICE_QUOTA_EXCEEDED, "2");
        api_error_done(&e);
        ASSERT(!c);

        /* A connection used by a service cannot be deleted. */
        spec = make_spec("localhost:5000/hello:v1");
        spec.connection_arn = strdup(first->arn);
        ASSERT(spec.connection_arn);
        ASSERT_INT_EQ(manager_create_service(m, "private-image", &spec, &s, &op, &e), 0);
        service_spec_done(&spec);
        ASSERT(manager_connection_in_use(m, first));
        run_until_final(m, op->id);
        assert_api_error(manager_delete_connection(m, first->arn, &c, &e), &e, -EBUSY,
                         API_ERROR_INVALID_STATE, first->arn);
        api_error_done(&e);
        ASSERT(!first->deleted);

        /* An unused one can, once. Its place in the quota is free again. */
        ASSERT_INT_EQ(manager_delete_connection(m, second->arn, &c, &e), 0);
        ASSERT(c == second);
        ASSERT(second->deleted);
        ASSERT(!file_exists(dir, "connections", second->id));
        ASSERT(!secret_exists(dir, second->id, ".cred"));
        ASSERT(!secret_exists(dir, second->id, ".secret"));
        assert_api_error(manager_delete_connection(m, second->arn, &c, &e), &e, -ENOENT,
                         API_ERROR_RESOURCE_NOT_FOUND, second->arn);
        api_error_done(&e);
        ASSERT_INT_EQ(manager_create_connection(m, "registry-three", "REGISTRY", "robot", "x", &c, &e), 0);

        /* The secret survives a restart. Files in secrets/ that no connection
         * refers to (a crash between the secret and the document) and
         * temporary files of an interrupted write are removed at load. */
        first_id = strdup(first->id);
        ASSERT(first_id);
        manager_free(m);
        {
                static const char *const strays[] = {"0123456789abcdef0123456789abcdef.secret",
                                                     "fedcba9876543210fedcba9876543210.cred",
                                                     ".#0123456789abcdef0123456789abcdef.cred.1.0"};
                for (size_t i = 0; i < ELEMENTSOF(strays); i++) {
                        _cleanup_free_ char *path = NULL;
                        _cleanup_close_ int fd = -1;

                        ASSERT(asprintf(&path, "%s/secrets/%s", dir, strays[i]) > 0);
                        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                        ASSERT(fd >= 0);
                }
        }
        m = manager_start(dir, 0);
        ASSERT(!secret_exists(dir, "0123456789abcdef0123456789abcdef", ".secret"));
        ASSERT(!secret_exists(dir, "fedcba9876543210fedcba9876543210", ".cred"));
        ASSERT(!secret_exists(dir, ".#0123456789abcdef0123456789abcdef", ".cred.1.0"));
        ASSERT(secret_exists(dir, first_id, ".cred") || secret_exists(dir, first_id, ".secret"));
        first = manager_find_connection_by_id(m, first_id);
        ASSERT(first);
        erase_and_free(TAKE_PTR(secret));
        ASSERT_INT_EQ(manager_connection_secret(m, first, &secret), 0);
        ASSERT_STR_EQ(secret, "s3cret");

        manager_free(m);
        test_tmpdir_remove(dir);
}

/* Frees the manager while an operation of 'type' is in progress on a
 * RUNNING service (PAUSED for RESUME_SERVICE), then starts a new one on the
 * same state and returns it. The ids of the service and the operation are
 * returned in *ret_service_id and *ret_operation_id. */
static Manager *restart_during(const char *dir, OperationType type, char **ret_service_id,
                               char **ret_operation_id) {
        Manager *m = manager_start(dir, 0);
        Service *s = create_running_service(m, "restart-me");
        Operation *op;

        if (type == OPERATION_RESUME_SERVICE) {
                op = start_action(m, s, OPERATION_PAUSE_SERVICE);
                run_until_final(m, op->id);
        }
        if (type == OPERATION_UPDATE_SERVICE) {
                _cleanup_(api_error_done) ApiError e = {};
                ServiceSpec spec = make_spec(IMAGE_V2);
                ASSERT_INT_EQ(manager_update_service(m, s, &spec, &op, &e), 0);
                service_spec_done(&spec);
        } else
                op = start_action(m, s, type);

        run_until_deploying(m, op->id);
        *ret_service_id = strdup(s->id);
        *ret_operation_id = strdup(op->id);
        ASSERT(*ret_service_id && *ret_operation_id);
        manager_free(m);

        /* The state on disk records the operation as still in progress. */
        {
                _cleanup_free_ char *runtime_dir = NULL;
                ASSERT(asprintf(&runtime_dir, "%s/run", dir) > 0);
                ASSERT_INT_EQ(manager_new(dir, runtime_dir, &m), 0);
                ASSERT_INT_EQ(manager_load(m), 0);
                s = manager_find_service_by_id(m, *ret_service_id);
                op = manager_find_operation(m, *ret_operation_id);
                ASSERT(s);
                ASSERT(op);
                ASSERT_INT_EQ(s->status, SERVICE_OPERATION_IN_PROGRESS);
                ASSERT_STR_EQ(s->operation_id, op->id);
                ASSERT_INT_EQ(op->status, OPERATION_IN_PROGRESS);
                m->deployer = &test_deployer;
                ASSERT_INT_EQ(test_deployer.init(m), 0);
                ASSERT_INT_EQ(engine_resume(m), 0);
        }
        return m;
}

static void test_restart_resumes_create(void) {
        char *dir = test_tmpdir("test-engine");
        Manager *m = manager_start(dir, 0);
        _cleanup_free_ char *service_id = NULL, *operation_id = NULL;
        Operation *op;
        Service *s = create_service(m, "restart-create", IMAGE, &op);

        run_until_deploying(m, op->id);
        service_id = strdup(s->id);
        operation_id = strdup(op->id);
        ASSERT(service_id && operation_id);
        manager_free(m);

        m = manager_start(dir, 0);
        s = manager_find_service_by_id(m, service_id);
        ASSERT(s);
        ASSERT_INT_EQ(s->status, SERVICE_OPERATION_IN_PROGRESS);
        run_until_final(m, operation_id);
        op = manager_find_operation(m, operation_id);
        ASSERT_INT_EQ(op->status, OPERATION_SUCCEEDED);
        ASSERT_INT_EQ(s->status, SERVICE_RUNNING);
        ASSERT(!s->operation_id);
        ASSERT_INT_EQ(test_deployer_stats(m)->runs[OPERATION_CREATE_SERVICE], 1);

        manager_free(m);
        test_tmpdir_remove(dir);
}

static void test_restart_fails_deployment(void) {
        static const OperationType types[] = {OPERATION_START_DEPLOYMENT, OPERATION_UPDATE_SERVICE};

        for (size_t i = 0; i < ELEMENTSOF(types); i++) {
                char *dir = test_tmpdir("test-engine");
                _cleanup_free_ char *service_id = NULL, *operation_id = NULL;
                Manager *m = restart_during(dir, types[i], &service_id, &operation_id);
                Service *s = manager_find_service_by_id(m, service_id);
                Operation *op = manager_find_operation(m, operation_id);

                /* The operation failed during engine_resume(), without a
                 * new run, and the service serves its previous version. */
                ASSERT(s);
                ASSERT(op);
                ASSERT_INT_EQ(op->status, OPERATION_FAILED);
                ASSERT_CONTAINS(op->status_message, "restart");
                ASSERT_INT_EQ(s->status, SERVICE_RUNNING);
                ASSERT(!s->operation_id);
                ASSERT_STR_EQ(s->spec.image_identifier, IMAGE);
                ASSERT_INT_EQ(test_deployer_stats(m)->runs[types[i]], 0);
                ASSERT_INT_EQ(test_deployer_stats(m)->reconciles, 1);
                ASSERT(!op->spec);

                manager_free(m);
                test_tmpdir_remove(dir);
        }
}

static void test_restart_resumes_others(void) {
        static const struct {
                OperationType type;
                ServiceStatus status; /* _SERVICE_STATUS_INVALID: the service is gone */
        } cases[] = {
                {OPERATION_PAUSE_SERVICE, SERVICE_PAUSED},
                {OPERATION_RESUME_SERVICE, SERVICE_RUNNING},
                {OPERATION_DELETE_SERVICE, _SERVICE_STATUS_INVALID},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char *dir = test_tmpdir("test-engine");
                _cleanup_free_ char *service_id = NULL, *operation_id = NULL;
                Manager *m = restart_during(dir, cases[i].type, &service_id, &operation_id);
                Service *s;

                run_until_final(m, operation_id);
                ASSERT_INT_EQ(manager_find_operation(m, operation_id)->status, OPERATION_SUCCEEDED);
                ASSERT_INT_EQ(test_deployer_stats(m)->runs[cases[i].type], 1);
                s = manager_find_service_by_id(m, service_id);
                if (cases[i].status == _SERVICE_STATUS_INVALID) {
                        ASSERT(!s);
                        ASSERT(!file_exists(dir, "services", service_id));
                } else {
                        ASSERT(s);
                        ASSERT_INT_EQ(s->status, cases[i].status);
                }

                manager_free(m);
                test_tmpdir_remove(dir);
        }
}

/* Enters a private mount namespace when running as root, see the comment
 * at the top. */
static void enter_private_mounts(void) {
        if (geteuid() != 0)
                return;
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                fprintf(stderr, "Failed to enter a private mount namespace: %m\n");
                return;
        }
        private_mounts = true;
}

/* Runs the connection tests with each place for systemd-creds' host key.
 * Without a private mount namespace they run only when not root, because
 * then systemd-creds cannot create a key on the host. */
static void test_connections_all(void) {
        char *key_dir;

        if (!private_mounts) {
                if (geteuid() == 0) {
                        fprintf(stderr, "Skipping the connection tests: no private mount namespace.\n");
                        return;
                }
                test_connections(NULL);
                return;
        }

        key_dir = test_tmpdir("test-engine-creds");
        ASSERT_INT_EQ(mount(key_dir, "/var/lib/systemd", NULL, MS_BIND, NULL), 0);
        test_connections(access("/usr/bin/systemd-creds", X_OK) == 0 ? ".cred" : ".secret");
        ASSERT_INT_EQ(umount2("/var/lib/systemd", 0), 0);
        test_tmpdir_remove(key_dir);

        ASSERT_INT_EQ(mount("tmpfs", "/var/lib/systemd", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"), 0);
        test_connections(".secret");
        ASSERT_INT_EQ(umount2("/var/lib/systemd", 0), 0);
}

int main(void) {
        enter_private_mounts();

        test_create_service();
        test_busy_service();
        test_create_failure();
        test_pause_resume();
        test_start_deployment();
        test_update_service();
        test_delete_service();
        test_service_quota();
        test_create_rejects();
        test_default_auto_scaling();
        test_auto_scaling_revisions();
        test_auto_scaling_names_quota();
        test_auto_scaling_delete();
        test_auto_scaling_in_use();
        test_update_default();
        test_connections_all();
        test_restart_resumes_create();
        test_restart_fails_deployment();
        test_restart_resumes_others();
        return EXIT_SUCCESS;
}
