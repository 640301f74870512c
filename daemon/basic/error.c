/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>

#include "error.h"

int error_set(char **ret_error, int r, const char *format, ...) {
        va_list ap;
        char *s;

        if (!ret_error || *ret_error)
                return r;

        va_start(ap, format);
        if (vasprintf(&s, format, ap) < 0)
                s = NULL;
        va_end(ap);

        *ret_error = s;
        return r;
}
