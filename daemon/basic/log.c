/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include "log.h"

static int max_level = LOG_INFO;
static int target = -1; /* -1: not decided yet, 0: journal, 1: stderr */

void log_set_max_level(int level) {
        max_level = level;
}

int log_get_max_level(void) {
        return max_level;
}

void log_set_target_stderr(int on) {
        target = on ? 1 : 0;
}

/* The journal is used when systemd connected stderr to it ($JOURNAL_STREAM)
 * or when the process runs as a unit ($INVOCATION_ID). */
static int use_journal(void) {
        if (target < 0)
                target = (getenv("JOURNAL_STREAM") || getenv("INVOCATION_ID")) ? 0 : 1;
        return target == 0;
}

int log_internal(int level, int error, const LogIds *ids, const char *file, int line, const char *func,
                 const char *format, ...) {
        char message[2048];
        va_list ap;
        int saved_errno = errno;

        if (error < 0)
                error = -error;

        if (level > max_level)
                return -error;

        /* %m in the format expands to the text of 'error'. */
        errno = error;
        va_start(ap, format);
        vsnprintf(message, sizeof(message), format, ap);
        va_end(ap);

        if (use_journal()) {
                char message_field[sizeof(message) + 16];
                char fields[9][320];
                struct iovec iov[10];
                size_t n = 0;

                snprintf(message_field, sizeof(message_field), "MESSAGE=%s", message);
                iov[0].iov_base = message_field;
                iov[0].iov_len = strlen(message_field);
                n++;

#define ADD_FIELD(...)                                                       \
        do {                                                                 \
                snprintf(fields[n - 1], sizeof(fields[n - 1]), __VA_ARGS__); \
                iov[n].iov_base = fields[n - 1];                             \
                iov[n].iov_len = strlen(fields[n - 1]);                      \
                n++;                                                         \
        } while (0)

                ADD_FIELD("PRIORITY=%d", level);
                ADD_FIELD("CODE_FILE=%s", file);
                ADD_FIELD("CODE_LINE=%d", line);
                ADD_FIELD("CODE_FUNC=%s", func);
                if (error > 0)
                        ADD_FIELD("ERRNO=%d", error);
                if (ids && ids->service_id)
                        ADD_FIELD("APPRUNNER_SERVICE_ID=%s", ids->service_id);
                if (ids && ids->instance_id)
                        ADD_FIELD("APPRUNNER_INSTANCE_ID=%s", ids->instance_id);
                if (ids && ids->operation_id)
                        ADD_FIELD("APPRUNNER_OPERATION_ID=%s", ids->operation_id);
#undef ADD_FIELD
                sd_journal_sendv(iov, n);
        } else
                fprintf(stderr, "%s\n", message);

        errno = saved_errno;
        return -error;
}
