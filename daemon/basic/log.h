/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Logging for the daemon. Messages go to the journal with structured
 * fields (APPRUNNER_SERVICE_ID, APPRUNNER_INSTANCE_ID,
 * APPRUNNER_OPERATION_ID) when the process runs under systemd, and to
 * stderr otherwise. The *_errno variants append the error text and return
 * the negative errno, so callers can write
 *         return log_error_errno(r, "Failed to ...: %m");
 * where %m expands to strerror(-r). */

#include <syslog.h>

#include "macro.h"

typedef struct LogIds {
        const char *service_id;
        const char *instance_id;
        const char *operation_id;
} LogIds;

void log_set_max_level(int level);
int log_get_max_level(void);
void log_set_target_stderr(int on);

int log_internal(int level, int error, const LogIds *ids, const char *file, int line, const char *func,
                 const char *format, ...) _printf_(7, 8);

#define log_full_errno(level, error, ...) \
        log_internal(level, error, NULL, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define log_full(level, ...) ((void)log_full_errno(level, 0, __VA_ARGS__))

#define log_debug(...)   log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)    log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...)  log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...)   log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(error, ...)   log_full_errno(LOG_DEBUG, error, __VA_ARGS__)
#define log_info_errno(error, ...)    log_full_errno(LOG_INFO, error, __VA_ARGS__)
#define log_warning_errno(error, ...) log_full_errno(LOG_WARNING, error, __VA_ARGS__)
#define log_error_errno(error, ...)   log_full_errno(LOG_ERR, error, __VA_ARGS__)

/* Variants that tag the message with resource ids; any id may be NULL. */
#define log_ids_errno(level, error, svc, inst, op, ...)                                                \
        log_internal(level, error, &(const LogIds){(svc), (inst), (op)}, __FILE__, __LINE__, __func__, \
                     __VA_ARGS__)
#define log_ids(level, svc, inst, op, ...) ((void)log_ids_errno(level, 0, svc, inst, op, __VA_ARGS__))

#define log_oom() log_error_errno(-ENOMEM, "Out of memory.")
