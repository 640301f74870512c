/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The interface between the operations engine and the code that runs
 * services. The engine decides statuses, and a deployer does the work of an
 * operation. The deployer reports how the operation ended through
 * engine_operation_finished(), exactly once per run() call, from the event
 * loop (possibly before run() returns). apprunnerd uses the image deployer (deployer-image.c); unit
 * tests compile a deployer of their own. */

#include <stdbool.h>

#include "manager.h"

struct Deployer {
        const char *name;

        /* Called once after the state is loaded. */
        int (*init)(Manager *m);
        void (*done)(Manager *m);

        /* Performs op on s:
         *   CREATE_SERVICE, RESUME_SERVICE: start MinSize healthy instances of
         *     s->spec, put them behind the ingress.
         *   START_DEPLOYMENT, UPDATE_SERVICE: deploy op->spec (or s->spec
         *     when NULL) blue/green; on failure the old instances keep
         *     serving.
         *   PAUSE_SERVICE: stop the instances, keep the version.
         *   DELETE_SERVICE: remove every unit, mount, namespace, address.
         * On success the deployer sets s->image_digest to the version that
         * serves. */
        int (*run)(Manager *m, Service *s, Operation *op);

        /* Called at start for each service without an operation in
         * progress: adopt running instances, start missing ones. */
        int (*reconcile)(Manager *m, Service *s);
        /* Called once after every service was reconciled. May be NULL. */
        void (*resumed)(Manager *m);

        /* Resolves the image behind the service's tag and returns whether
         * its digest differs from the deployed one. */
        int (*image_changed)(Manager *m, Service *s, bool *ret_changed, char **ret_error);
        /* Stores the current ingress figures in each service's stats. May be
         * NULL. */
        int (*refresh_stats)(Manager *m);
};

extern const Deployer image_deployer;
