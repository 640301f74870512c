/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "manager.h"

/* Arms a timer that, every [Images] AutoDeploymentIntervalSec, resolves the
 * image tag of each RUNNING service with AutoDeploymentsEnabled and starts
 * a deployment when the digest behind the tag changed. */
int autodeploy_start(Manager *m);
