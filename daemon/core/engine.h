/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The operations engine is the only code that changes a service's Status.
 *
 * Every mutating request becomes an Operation. engine_start() checks that
 * no other operation is in progress (InvalidState otherwise). It persists
 * the operation IN_PROGRESS and the service OPERATION_IN_PROGRESS and
 * returns, and the deployer's work starts later from the event loop. When the deployer calls
 * engine_operation_finished(), the engine sets the final statuses:
 *
 *   operation          SUCCEEDED          failed
 *   CREATE_SERVICE     RUNNING            CREATE_FAILED
 *   START_DEPLOYMENT   RUNNING            RUNNING (old version serves)
 *   UPDATE_SERVICE     RUNNING            RUNNING (old settings kept)
 *   PAUSE_SERVICE      PAUSED             RUNNING
 *   RESUME_SERVICE     RUNNING            PAUSED
 *   DELETE_SERVICE     DELETED (removed)  DELETE_FAILED
 *
 * At start, operations found IN_PROGRESS are run again (the deployer's
 * steps are idempotent), except deployments and updates, which end FAILED
 * with a message saying the daemon restarted, after the deployer removed
 * the new version's instances. */

#include "manager.h"

int engine_start(Manager *m, Service *s, OperationType type, ServiceSpec *spec, Operation **ret,
                 ApiError *e);

/* Ends an operation with status SUCCEEDED, FAILED, ROLLBACK_SUCCEEDED or
 * ROLLBACK_FAILED. message states why it did not succeed (NULL on success). */
void engine_operation_finished(Manager *m, Operation *op, OperationStatus status, const char *message);

/* Resumes or fails operations left IN_PROGRESS by a previous run, and
 * reconciles the other services. */
int engine_resume(Manager *m);
