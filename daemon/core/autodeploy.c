/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "autodeploy.h"
#include "deployer.h"
#include "log.h"

static int on_autodeploy_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        for (size_t k = 0; k < m->n_services; k++) {
                Service *s = m->services[k];
                _cleanup_(api_error_done) ApiError e = {};
                _cleanup_free_ char *error = NULL;
                bool changed = false;
                Operation *op;
                int r;

                if (!s->spec.auto_deployments_enabled || s->status != SERVICE_RUNNING || s->operation_id)
                        continue;

                /* NOTE: resolving a registry tag runs skopeo synchronously,
                 * so the event loop waits for each service's registry. */
                r = m->deployer->image_changed(m, s, &changed, &error);
                if (r < 0) {
                        log_ids(LOG_WARNING, s->id, NULL, NULL,
                                "Failed to check %s for a new image, retrying at the next interval: %s",
                                s->spec.image_identifier, error ?: strerror(-r));
                        continue;
                }
                if (!changed)
                        continue;

                r = manager_service_action(m, s, OPERATION_START_DEPLOYMENT, &op, &e);
                if (r < 0)
                        log_ids(LOG_WARNING, s->id, NULL, NULL,
                                "Failed to start an automatic deployment: %s", strna(e.message));
                else
                        log_ids(LOG_INFO, s->id, NULL, op->id,
                                "Image %s has a new digest; started automatic deployment %s.",
                                s->spec.image_identifier, op->id);
        }

        (void)sd_event_source_set_time_relative(source, (uint64_t)m->config.auto_deployment_interval_sec *
                                                                1000000ULL);
        (void)sd_event_source_set_enabled(source, SD_EVENT_ONESHOT);
        return 0;
}

int autodeploy_start(Manager *m) {
        if (!m->deployer->image_changed)
                return 0;
        return sd_event_add_time_relative(m->event, NULL, CLOCK_MONOTONIC,
                                          (uint64_t)m->config.auto_deployment_interval_sec * 1000000ULL, 0,
                                          on_autodeploy_timer, m);
}
