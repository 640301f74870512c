/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A deployer for the engine's unit tests. It starts nothing: run() arms a
 * timer of TEST_DEPLOYER_DELAY_USEC on the manager's event loop, and when
 * it fires the operation ends with SUCCEEDED, or with FAILED when the
 * image identifier of the spec being deployed contains "fail". It is
 * compiled into the tests only, never into apprunnerd. */

#include "core/deployer.h"

#define TEST_DEPLOYER_DELAY_USEC (20 * 1000)

/* Counts of the requests the test deployer received since init(). */
typedef struct TestDeployerStats {
        unsigned runs[_OPERATION_TYPE_MAX];
        unsigned reconciles;
        unsigned pending; /* run() calls whose timer has not fired yet */
} TestDeployerStats;

extern const Deployer test_deployer;

/* Returns the statistics of the test deployer that init() attached to m. */
const TestDeployerStats *test_deployer_stats(Manager *m);
