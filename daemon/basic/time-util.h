/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <time.h>

#ifndef USEC_PER_SEC
#define USEC_PER_SEC UINT64_C(1000000)
#endif

/* Returns CLOCK_MONOTONIC in microseconds. */
static inline uint64_t now_monotonic_usec(void) {
        struct timespec ts;

        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000U;
}
