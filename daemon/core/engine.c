/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "deployer.h"
#include "engine.h"
#include "ids.h"
#include "log.h"

/* Returns whether a service in 'status' accepts an operation of 'type'. */
static bool operation_allowed(OperationType type, ServiceStatus status) {
        switch (type) {
        case OPERATION_CREATE_SERVICE:
                return status == SERVICE_OPERATION_IN_PROGRESS;
        case OPERATION_START_DEPLOYMENT:
        case OPERATION_UPDATE_SERVICE:
        case OPERATION_PAUSE_SERVICE:
                return status == SERVICE_RUNNING;
        case OPERATION_RESUME_SERVICE:
                return status == SERVICE_PAUSED;
        case OPERATION_DELETE_SERVICE:
                return status != SERVICE_OPERATION_IN_PROGRESS && status != SERVICE_DELETED;
        default:
                return false;
        }
}

static const char *allowed_text(OperationType type) {
        switch (type) {
        case OPERATION_RESUME_SERVICE:
                return "PAUSED";
        case OPERATION_DELETE_SERVICE:
                return "RUNNING, PAUSED, CREATE_FAILED or DELETE_FAILED";
        default:
                return "RUNNING";
        }
}

static int append_operation(Manager *m, Operation *op) {
        Operation **a = reallocarray(m->operations, m->n_operations + 1, sizeof(Operation *));
        if (!a)
                return -ENOMEM;
        a[m->n_operations++] = op;
        m->operations = a;
        return 0;
}

static int on_run(sd_event_source *source, void *userdata);

static int schedule_run(Manager *m, Operation *op) {
        /* The deferred call carries the operation id, not the pointer, and
         * looks the operation up again when it runs. The source owns the
         * id and frees it when it is destroyed, which also happens when the
         * manager is freed before the call ran. */
        sd_event_source *source = NULL;
        char *id = strdup(op->id);
        int r;

        if (!id)
                return -ENOMEM;
        r = sd_event_add_defer(m->event, &source, on_run, id);
        if (r < 0) {
                free(id);
                return r;
        }
        r = sd_event_source_set_destroy_callback(source, free);
        if (r < 0) {
                sd_event_source_disable_unref(source);
                free(id);
                return r;
        }
        r = sd_event_source_set_floating(source, true);
        sd_event_source_unref(source);
        return r < 0 ? r : 0;
}

/* The manager is passed through a file-scope pointer because sd-event
 * passes one userdata pointer, which carries the operation id. apprunnerd
 * has exactly one Manager. */
static Manager *engine_manager;

static int on_run(sd_event_source *source, void *userdata) {
        const char *id = userdata; /* freed with the source, after this returns */
        Manager *m = engine_manager;
        Operation *op;
        Service *s;
        int r;

        sd_event_source_unref(source);

        op = manager_find_operation(m, id);
        if (!op || op->status != OPERATION_IN_PROGRESS)
                return 0;
        s = manager_find_service_by_id(m, op->service_id);
        if (!s) {
                engine_operation_finished(m, op, OPERATION_FAILED, "The service no longer exists.");
                return 0;
        }

        log_ids(LOG_INFO, s->id, NULL, op->id, "Starting %s of service %s.",
                operation_type_to_string(op->type), s->name);
        r = m->deployer->run(m, s, op);
        if (r < 0 && op->status == OPERATION_IN_PROGRESS) {
                _cleanup_free_ char *message = NULL;
                if (asprintf(&message, "Failed to start the operation: %s.", strerror(-r)) < 0)
                        message = NULL;
                engine_operation_finished(m, op, OPERATION_FAILED, message);
        }
        return 0;
}

int engine_start(Manager *m, Service *s, OperationType type, ServiceSpec *spec, Operation **ret,
                 ApiError *e) {
        Operation *op;
        ServiceStatus old_status = s->status;
        int r;

        engine_manager = m;

        if (s->operation_id)
                return api_error_set(e, -EBUSY, API_ERROR_INVALID_STATE,
                                     "Service %s has operation %s in progress; wait until it ends.", s->name,
                                     s->operation_id);
        if (!operation_allowed(type, s->status))
                return api_error_set(e, -EBUSY, API_ERROR_INVALID_STATE,
                                     "Service %s is %s; %s needs a service that is %s.", s->name,
                                     service_status_to_string(s->status), operation_type_to_string(type),
                                     allowed_text(type));

        op = calloc(1, sizeof(Operation));
        if (!op)
                return api_error_set(e, -ENOMEM, API_ERROR_INTERNAL, "Out of memory.");
        op->type = type;
        op->status = OPERATION_IN_PROGRESS;
        op->started_at = op->updated_at = now_usec();
        op->target_arn = strdup(s->arn);
        op->service_id = strdup(s->id);
        if (!op->target_arn || !op->service_id || id_new_uuid(&op->id) < 0) {
                operation_free(op);
                return api_error_set(e, -ENOMEM, API_ERROR_INTERNAL, "Out of memory.");
        }

        /* The operation is written before the service refers to it, so that
         * after a crash the service never names an operation that does not
         * exist. */
        r = manager_save_operation(m, op);
        if (r < 0) {
                operation_free(op);
                return api_error_set(e, r, API_ERROR_INTERNAL, "Failed to store the operation: %s",
                                     strerror(-r));
        }
        r = append_operation(m, op);
        if (r < 0) {
                (void)store_remove(m->store, STORE_OPERATIONS, op->id);
                operation_free(op);
                return api_error_set(e, r, API_ERROR_INTERNAL, "Out of memory.");
        }

        s->operation_id = strdup(op->id);
        s->status = SERVICE_OPERATION_IN_PROGRESS;
        s->updated_at = now_usec();
        r = s->operation_id ? manager_save_service(m, s) : -ENOMEM;
        if (r < 0) {
                free(s->operation_id);
                s->operation_id = NULL;
                s->status = old_status;
                m->n_operations--;
                (void)store_remove(m->store, STORE_OPERATIONS, op->id);
                operation_free(op);
                return api_error_set(e, r, API_ERROR_INTERNAL, "Failed to store the service: %s",
                                     strerror(-r));
        }

        /* The spec is stored with the operation only after everything else
         * succeeded, so a failed request leaves the caller's spec alone. */
        if (spec) {
                op->spec = spec;
                r = manager_save_operation(m, op);
                if (r < 0)
                        log_ids_errno(
                                LOG_WARNING, r, s->id, NULL, op->id,
                                "Failed to store the new settings with the operation, a restart now fails "
                                "it: %m");
        }

        r = schedule_run(m, op);
        if (r < 0) {
                engine_operation_finished(m, op, OPERATION_FAILED, "Failed to schedule the operation.");
                *ret = op;
                return 0;
        }

        {
                _cleanup_free_ char *path = NULL;
                if (operation_object_path(op, &path) >= 0)
                        manager_emit_added(m, path);
        }
        *ret = op;
        return 0;
}

static ServiceStatus final_service_status(OperationType type, bool succeeded, ServiceStatus current) {
        switch (type) {
        case OPERATION_CREATE_SERVICE:
                return succeeded ? SERVICE_RUNNING : SERVICE_CREATE_FAILED;
        case OPERATION_START_DEPLOYMENT:
        case OPERATION_UPDATE_SERVICE:
                return SERVICE_RUNNING;
        case OPERATION_PAUSE_SERVICE:
                return succeeded ? SERVICE_PAUSED : SERVICE_RUNNING;
        case OPERATION_RESUME_SERVICE:
                return succeeded ? SERVICE_RUNNING : SERVICE_PAUSED;
        case OPERATION_DELETE_SERVICE:
                return succeeded ? SERVICE_DELETED : SERVICE_DELETE_FAILED;
        default:
                return current;
        }
}

static void remove_service(Manager *m, Service *s) {
        _cleanup_free_ char *path = NULL;

        (void)store_remove(m->store, STORE_SERVICES, s->id);
        if (service_object_path(s, &path) >= 0)
                manager_emit_removed(m, path);

        for (size_t i = 0; i < m->n_services; i++)
                if (m->services[i] == s) {
                        memmove(m->services + i, m->services + i + 1,
                                (m->n_services - i - 1) * sizeof(Service *));
                        m->n_services--;
                        break;
                }
        service_free(s);
}

void engine_operation_finished(Manager *m, Operation *op, OperationStatus status, const char *message) {
        Service *s = manager_find_service_by_id(m, op->service_id);
        bool succeeded = status == OPERATION_SUCCEEDED;
        int r;

        op->status = status;
        op->ended_at = op->updated_at = now_usec();
        if (message)
                (void)free_and_strdup(&op->status_message, message);

        if (s) {
                if (succeeded && op->type == OPERATION_UPDATE_SERVICE && op->spec) {
                        service_spec_done(&s->spec);
                        s->spec = *op->spec;
                        *op->spec = (ServiceSpec){};
                }
                s->status = final_service_status(op->type, succeeded, s->status);
                s->updated_at = op->ended_at;
                if (s->status == SERVICE_DELETED)
                        s->deleted_at = op->ended_at;
                free(s->operation_id);
                s->operation_id = NULL;
        }

        /* The new settings are no longer needed once the operation ended. */
        op->spec = service_spec_free(op->spec);

        /* The operation is final on disk before the service leaves
         * OPERATION_IN_PROGRESS, mirroring engine_start(). */
        r = manager_save_operation(m, op);
        if (r < 0)
                log_ids_errno(LOG_ERR, r, op->service_id, NULL, op->id, "Failed to store operation %s: %m",
                              op->id);

        if (!s)
                return;

        if (succeeded)
                log_ids(LOG_INFO, s->id, NULL, op->id, "%s of service %s succeeded, service is %s.",
                        operation_type_to_string(op->type), s->name, service_status_to_string(s->status));
        else
                log_ids(LOG_ERR, s->id, NULL, op->id, "%s of service %s ended %s, service is %s: %s",
                        operation_type_to_string(op->type), s->name, operation_status_to_string(status),
                        service_status_to_string(s->status), strna(message));

        if (s->status == SERVICE_DELETED) {
                remove_service(m, s);
                return;
        }

        r = manager_save_service(m, s);
        if (r < 0)
                log_ids_errno(LOG_ERR, r, s->id, NULL, op->id, "Failed to store service %s: %m", s->name);
}

int engine_resume(Manager *m) {
        engine_manager = m;

        /* Operations in progress whose service vanished (a crash between
         * removing the service and finishing the operation) are failed. */
        for (size_t i = 0; i < m->n_operations; i++) {
                Operation *op = m->operations[i];
                Service *s;

                if (operation_status_is_final(op->status))
                        continue;

                s = manager_find_service_by_id(m, op->service_id);
                if (!s || !streq_ptr(s->operation_id, op->id)) {
                        if (op->type == OPERATION_DELETE_SERVICE && !s)
                                engine_operation_finished(m, op, OPERATION_SUCCEEDED, NULL);
                        else
                                engine_operation_finished(m, op, OPERATION_FAILED,
                                                          "apprunnerd stopped before the operation was "
                                                          "recorded on its service.");
                        continue;
                }

                if (op->type == OPERATION_START_DEPLOYMENT || op->type == OPERATION_UPDATE_SERVICE) {
                        /* The deployer's reconcile step removes instances of a
                         * version that never took traffic. */
                        engine_operation_finished(m, op, OPERATION_FAILED,
                                                  "apprunnerd restarted during the deployment; the previous "
                                                  "version keeps serving. Start the deployment again.");
                        continue;
                }

                op->status = OPERATION_IN_PROGRESS;
                log_ids(LOG_NOTICE, s->id, NULL, op->id,
                        "Resuming %s of service %s, which was in progress when apprunnerd stopped.",
                        operation_type_to_string(op->type), s->name);
                if (schedule_run(m, op) < 0)
                        engine_operation_finished(m, op, OPERATION_FAILED,
                                                  "Failed to schedule the operation.");
        }

        for (size_t i = 0; i < m->n_services; i++) {
                Service *s = m->services[i];
                int r;

                if (s->operation_id || !m->deployer->reconcile)
                        continue;
                r = m->deployer->reconcile(m, s);
                if (r < 0)
                        log_ids_errno(LOG_ERR, r, s->id, NULL, NULL, "Failed to reconcile service %s: %m",
                                      s->name);
        }
        return 0;
}
