/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "test-deployer.h"
#include "core/engine.h"

/* One run() call waiting for its timer. The operation is looked up by id
 * when the timer fires, like the engine does, because the manager owns the
 * Operation. */
typedef struct Pending {
        Manager *manager;
        char *operation_id;
        sd_event_source *timer;
        struct Pending *next;
} Pending;

typedef struct TestDeployer {
        TestDeployerStats stats;
        Pending *pending;
} TestDeployer;

static Pending *pending_free(Pending *p) {
        if (!p)
                return NULL;
        sd_event_source_disable_unref(p->timer);
        free(p->operation_id);
        free(p);
        return NULL;
}

static void pending_unlink(TestDeployer *d, Pending *p) {
        for (Pending **i = &d->pending; *i; i = &(*i)->next)
                if (*i == p) {
                        *i = p->next;
                        d->stats.pending--;
                        return;
                }
}

/* Returns a digest derived from the image identifier, so that two images
 * get different digests and one image always gets the same. */
static char *fake_digest(const char *image) {
        uint64_t h = 14695981039346656037ull; /* FNV-1a */
        char *digest;

        for (const char *p = image; *p; p++) {
                h ^= (unsigned char)*p;
                h *= 1099511628211ull;
        }
        if (asprintf(&digest, "sha256:%016llx%016llx%016llx%016llx", (unsigned long long)h,
                     (unsigned long long)~h, (unsigned long long)h, (unsigned long long)~h) < 0)
                return NULL;
        return digest;
}

static bool deploys_image(OperationType type) {
        return type == OPERATION_CREATE_SERVICE || type == OPERATION_START_DEPLOYMENT ||
               type == OPERATION_UPDATE_SERVICE || type == OPERATION_RESUME_SERVICE;
}

static int on_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        Pending *p = userdata;
        Manager *m = p->manager;
        TestDeployer *d = m->deployer_data;
        Operation *op;
        Service *s;

        pending_unlink(d, p);
        op = manager_find_operation(m, p->operation_id);
        p = pending_free(p);
        if (!op || op->status != OPERATION_IN_PROGRESS)
                return 0;

        s = manager_find_service_by_id(m, op->service_id);
        if (!s) {
                engine_operation_finished(m, op, OPERATION_FAILED, "The test deployer found no service.");
                return 0;
        }

        if (deploys_image(op->type)) {
                const char *image = (op->spec ?: &s->spec)->image_identifier;
                char *digest;

                if (strstr(image, "fail")) {
                        _cleanup_free_ char *message = NULL;
                        if (asprintf(&message, "Image %s failed to start (test deployer).", image) < 0)
                                message = NULL;
                        engine_operation_finished(m, op, OPERATION_FAILED, message);
                        return 0;
                }

                digest = fake_digest(image);
                if (!digest) {
                        engine_operation_finished(m, op, OPERATION_FAILED, "Out of memory.");
                        return 0;
                }
                free(s->image_digest);
                s->image_digest = digest;
        }
        engine_operation_finished(m, op, OPERATION_SUCCEEDED, NULL);
        return 0;
}

static int test_deployer_init(Manager *m) {
        TestDeployer *d = calloc(1, sizeof(TestDeployer));

        if (!d)
                return -ENOMEM;
        m->deployer_data = d;
        return 0;
}

static void test_deployer_done(Manager *m) {
        TestDeployer *d = m->deployer_data;

        if (!d)
                return;
        while (d->pending) {
                Pending *next = d->pending->next;
                pending_free(d->pending);
                d->pending = next;
        }
        free(d);
        m->deployer_data = NULL;
}

static int test_deployer_run(Manager *m, Service *s, Operation *op) {
        TestDeployer *d = m->deployer_data;
        Pending *p;
        int r;

        d->stats.runs[op->type]++;

        p = calloc(1, sizeof(Pending));
        if (!p)
                return -ENOMEM;
        p->manager = m;
        p->operation_id = strdup(op->id);
        if (!p->operation_id) {
                free(p);
                return -ENOMEM;
        }
        r = sd_event_add_time_relative(m->event, &p->timer, CLOCK_MONOTONIC, TEST_DEPLOYER_DELAY_USEC, 0,
                                       on_timer, p);
        if (r < 0) {
                pending_free(p);
                return r;
        }
        p->next = d->pending;
        d->pending = p;
        d->stats.pending++;
        return 0;
}

static int test_deployer_reconcile(Manager *m, Service *s) {
        TestDeployer *d = m->deployer_data;

        d->stats.reconciles++;
        return 0;
}

const Deployer test_deployer = {
        .name = "test",
        .init = test_deployer_init,
        .done = test_deployer_done,
        .run = test_deployer_run,
        .reconcile = test_deployer_reconcile,
};

const TestDeployerStats *test_deployer_stats(Manager *m) {
        TestDeployer *d = m->deployer_data;
        return &d->stats;
}
