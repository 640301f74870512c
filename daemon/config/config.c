/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Parsing of apprunnerd.conf and its drop-ins.
 *
 * Every key is described once, in config_items[]: its section, the field of
 * Config it sets, the parser that checks and stores a value, the formatter
 * that writes it back and the allowed range. Error messages, config_dump()
 * and therefore the shipped apprunnerd.conf (the unit test compares the two)
 * all follow that table, so a new key is added in one place.
 *
 * inih splits the files into sections and key=value pairs. It reads them
 * through config_read_line(), which hands it one physical line at a time
 * with the indentation removed. That keeps inih's line numbers equal to the
 * file's, disables its indented continuation lines, and lets us reject a
 * line longer than inih's buffer instead of having it split in two. */

#include <arpa/inet.h>
#include <dirent.h>
#include <ini.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "config/config.h"
#include "log.h"
#include "macro.h"

#define CONFIG_MAIN_FILE   "apprunnerd.conf"
#define CONFIG_DROPIN_DIR  "apprunnerd.conf.d"
#define WHITESPACE         " \t\r\n"
#define HOST_NAME_MAX_LEN  253
#define SERVICE_ID_LEN     10
#define ESCAPE_BUFFER_SIZE 512

typedef struct ConfigItem ConfigItem;

/* Checks a value and stores it in *c. Returns 0, -EINVAL if the value is
 * malformed, -ERANGE if it is well-formed but outside [min, max], or
 * -ENOMEM. *c is unchanged on failure. */
typedef int (*ConfigParser)(const ConfigItem *item, const char *value, Config *c);

/* Writes the item's value from *c to f, in a form its parser accepts. */
typedef void (*ConfigFormatter)(const ConfigItem *item, const Config *c, FILE *f);

struct ConfigItem {
        const char *section;
        const char *key;
        ConfigParser parse;
        ConfigFormatter format;
        size_t offset;                /* of the field in Config */
        size_t size;                  /* of the field, for integers */
        uint64_t min, max;            /* for integers, sizes and the subnet prefix */
        bool (*valid)(const char *s); /* for strings */
        const char *expected;         /* what is allowed; NULL: made from min and max */
};

/* Where a key was last set: the file, the line, and the order of the
 * assignment among all assignments read (0: not set in any file). */
typedef struct ConfigLocation {
        const char *path;
        unsigned line;
        unsigned seq;
} ConfigLocation;

static void *config_field(const ConfigItem *i, Config *c) {
        return (uint8_t *)c + i->offset;
}

static const void *config_field_const(const ConfigItem *i, const Config *c) {
        return (const uint8_t *)c + i->offset;
}

/* ---- values ---- */

/* Parses n decimal digits. Returns -EINVAL for anything else (no sign, no
 * spaces) and -ERANGE if the number does not fit in 64 bits. */
static int parse_digits(const char *s, size_t n, uint64_t *ret) {
        uint64_t v = 0;
        bool overflow = false;

        if (n == 0)
                return -EINVAL;
        for (size_t k = 0; k < n; k++) {
                unsigned d;

                if (s[k] < '0' || s[k] > '9')
                        return -EINVAL;
                d = s[k] - '0';
                if (v > (UINT64_MAX - d) / 10)
                        overflow = true;
                else
                        v = v * 10 + d;
        }
        if (overflow)
                return -ERANGE;
        *ret = v;
        return 0;
}

static uint64_t config_get_uint(const ConfigItem *i, const Config *c) {
        const void *p = config_field_const(i, c);

        switch (i->size) {
        case sizeof(uint16_t):
                return *(const uint16_t *)p;
        case sizeof(uint32_t):
                return *(const uint32_t *)p;
        default:
                return *(const uint64_t *)p;
        }
}

static void config_set_uint(const ConfigItem *i, Config *c, uint64_t v) {
        void *p = config_field(i, c);

        switch (i->size) {
        case sizeof(uint16_t):
                *(uint16_t *)p = (uint16_t)v;
                break;
        case sizeof(uint32_t):
                *(uint32_t *)p = (uint32_t)v;
                break;
        default:
                *(uint64_t *)p = v;
        }
}

static int config_parse_integer(const ConfigItem *i, const char *value, Config *c) {
        uint64_t v;
        int r;

        r = parse_digits(value, strlen(value), &v);
        if (r < 0)
                return r;
        if (v < i->min || v > i->max)
                return -ERANGE;
        config_set_uint(i, c, v);
        return 0;
}

static void config_format_integer(const ConfigItem *i, const Config *c, FILE *f) {
        fprintf(f, "%" PRIu64, config_get_uint(i, c));
}

static const struct {
        char suffix;
        unsigned shift;
} size_suffixes[] = {
        {'G', 30},
        {'M', 20},
        {'K', 10},
};

/* Parses bytes with an optional K, M or G suffix (powers of 1024). */
static int parse_size(const char *s, uint64_t *ret) {
        size_t n = strspn(s, "0123456789");
        unsigned shift = 0;
        uint64_t v;
        int r;

        if (s[n] != '\0') {
                if (s[n + 1] != '\0')
                        return -EINVAL;
                for (size_t k = 0; k < ELEMENTSOF(size_suffixes); k++)
                        if (s[n] == size_suffixes[k].suffix)
                                shift = size_suffixes[k].shift;
                if (shift == 0)
                        return -EINVAL;
        }
        r = parse_digits(s, n, &v);
        if (r < 0)
                return r;
        if (v > UINT64_MAX >> shift)
                return -ERANGE;
        *ret = v << shift;
        return 0;
}

/* Formats a size with the largest suffix that represents it exactly. */
static const char *format_size(uint64_t v, char buf[static 32]) {
        for (size_t k = 0; k < ELEMENTSOF(size_suffixes); k++) {
                uint64_t unit = UINT64_C(1) << size_suffixes[k].shift;

                if (v != 0 && v % unit == 0) {
                        snprintf(buf, 32, "%" PRIu64 "%c", v / unit, size_suffixes[k].suffix);
                        return buf;
                }
        }
        snprintf(buf, 32, "%" PRIu64, v);
        return buf;
}

static int config_parse_size(const ConfigItem *i, const char *value, Config *c) {
        uint64_t v;
        int r;

        r = parse_size(value, &v);
        if (r < 0)
                return r;
        if (v < i->min || v > i->max)
                return -ERANGE;
        config_set_uint(i, c, v);
        return 0;
}

static void config_format_size(const ConfigItem *i, const Config *c, FILE *f) {
        char buf[32];

        fputs(format_size(config_get_uint(i, c), buf), f);
}

static int config_parse_bool(const ConfigItem *i, const char *value, Config *c) {
        static const char *const yes[] = {"yes", "true", "on", "1"};
        static const char *const no[] = {"no", "false", "off", "0"};
        bool *b = config_field(i, c);

        for (size_t k = 0; k < ELEMENTSOF(yes); k++) {
                if (streq(value, yes[k])) {
                        *b = true;
                        return 0;
                }
                if (streq(value, no[k])) {
                        *b = false;
                        return 0;
                }
        }
        return -EINVAL;
}

static void config_format_bool(const ConfigItem *i, const Config *c, FILE *f) {
        fputs(*(const bool *)config_field_const(i, c) ? "yes" : "no", f);
}

static int config_parse_string(const ConfigItem *i, const char *value, Config *c) {
        if (!i->valid(value))
                return -EINVAL;
        return free_and_strdup(config_field(i, c), value);
}

static void config_format_string(const ConfigItem *i, const Config *c, FILE *f) {
        fputs(strempty(*(char *const *)config_field_const(i, c)), f);
}

static bool is_lower(char ch) {
        return ch >= 'a' && ch <= 'z';
}

static bool is_digit(char ch) {
        return ch >= '0' && ch <= '9';
}

/* Checks that s matches [a-z]{2,}(-[a-z]+)*-[0-9]+ and fits in one DNS label
 * of the service URL. */
static bool region_is_valid(const char *s) {
        const char *p = s;

        if (strlen(s) > 63)
                return false;
        while (is_lower(*p))
                p++;
        if (p - s < 2)
                return false;
        for (;;) {
                const char *word;

                if (*p != '-')
                        return false;
                word = ++p;
                if (is_digit(*p)) {
                        while (is_digit(*p))
                                p++;
                        return *p == '\0';
                }
                while (is_lower(*p))
                        p++;
                if (p == word)
                        return false;
        }
}

static bool account_id_is_valid(const char *s) {
        return strlen(s) == 12 && strspn(s, "0123456789") == 12;
}

/* Checks the n bytes at s as a host name: dot-separated labels of 1 to 63
 * letters, digits and dashes, no dash at either end of a label, at most 253
 * characters in total, no trailing dot. */
static bool dns_name_is_valid_full(const char *s, size_t n, bool allow_upper) {
        size_t label = 0;

        if (n == 0 || n > HOST_NAME_MAX_LEN)
                return false;
        for (size_t k = 0; k <= n; k++) {
                char ch = k < n ? s[k] : '.';

                if (ch == '.') {
                        if (label == 0 || label > 63 || s[k - 1] == '-')
                                return false;
                        label = 0;
                } else if (is_lower(ch) || is_digit(ch) || (allow_upper && ch >= 'A' && ch <= 'Z') ||
                           (ch == '-' && label > 0))
                        label++;
                else
                        return false;
        }
        return true;
}

/* Checks DomainSuffix: a host name in lowercase, so that every service URL
 * has one spelling. */
static bool domain_suffix_is_valid(const char *s) {
        return dns_name_is_valid_full(s, strlen(s), false);
}

/* Checks a network interface name by the kernel's rules (1 to 15 bytes, not
 * "." or "..", no '/', ':' or whitespace). It also requires printable ASCII,
 * and rejects all-digit names because tools read those as interface indexes. */
static bool ifname_is_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > 15 || streq(s, ".") || streq(s, ".."))
                return false;
        if (strspn(s, "0123456789") == n)
                return false;
        for (const char *p = s; *p; p++)
                if (*p <= ' ' || *p >= 0x7f || *p == '/' || *p == ':')
                        return false;
        return true;
}

static bool address_is_valid(const char *s) {
        unsigned char buf[sizeof(struct in6_addr)];

        return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static bool absolute_path_is_valid(const char *s) {
        if (s[0] != '/' || strlen(s) >= PATH_MAX)
                return false;
        for (const char *p = s; *p; p++)
                if ((unsigned char)*p < ' ' || *p == 0x7f)
                        return false;
        return true;
}

static bool port_is_valid(const char *s, size_t n) {
        uint64_t port;

        return parse_digits(s, n, &port) >= 0 && port >= 1 && port <= 65535;
}

/* Checks the n bytes at s as host[:port], where host is a host name, an IPv4
 * address or an IPv6 address in brackets. */
static bool registry_is_valid(const char *s, size_t n) {
        const char *colon;
        size_t host_len;

        if (s[0] == '[') {
                const char *end = memchr(s, ']', n);
                char buf[INET6_ADDRSTRLEN];
                struct in6_addr a;

                if (!end || (size_t)(end - s - 1) >= sizeof(buf))
                        return false;
                memcpy(buf, s + 1, end - s - 1);
                buf[end - s - 1] = '\0';
                if (inet_pton(AF_INET6, buf, &a) != 1)
                        return false;
                colon = end + 1;
                if (colon == s + n)
                        return true;
                return *colon == ':' && port_is_valid(colon + 1, s + n - colon - 1);
        }

        colon = memchr(s, ':', n);
        host_len = colon ? (size_t)(colon - s) : n;
        if (!dns_name_is_valid_full(s, host_len, true))
                return false;
        return !colon || port_is_valid(colon + 1, n - host_len - 1);
}

static int config_parse_registries(const ConfigItem *i, const char *value, Config *c) {
        _cleanup_strv_free_ char **l = NULL;
        char ***field = config_field(i, c);
        size_t n = 0;

        for (const char *p = value + strspn(value, WHITESPACE); *p; p += strspn(p, WHITESPACE)) {
                size_t len = strcspn(p, WHITESPACE);
                char **grown;

                if (!registry_is_valid(p, len))
                        return -EINVAL;
                grown = reallocarray(l, n + 2, sizeof(char *));
                if (!grown)
                        return -ENOMEM;
                l = grown;
                l[n] = strndup(p, len);
                if (!l[n])
                        return -ENOMEM;
                l[++n] = NULL;
                p += len;
        }

        strv_free(*field);
        *field = TAKE_PTR(l);
        return 0;
}

static void config_format_registries(const ConfigItem *i, const Config *c, FILE *f) {
        char **l = *(char **const *)config_field_const(i, c);

        STRV_FOREACH (s, l)
                fprintf(f, "%s%s", s == l ? "" : " ", *s);
}

/* Parses an IPv4 network "a.b.c.d/prefix" into both Config.subnet and
 * Config.subnet_prefix. */
static int config_parse_subnet(const ConfigItem *i, const char *value, Config *c) {
        const char *slash = strchr(value, '/');
        char buf[INET_ADDRSTRLEN];
        struct in_addr a;
        uint64_t prefix;
        uint32_t mask;

        if (!slash || (size_t)(slash - value) >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, value, slash - value);
        buf[slash - value] = '\0';
        if (inet_pton(AF_INET, buf, &a) != 1)
                return -EINVAL;
        if (parse_digits(slash + 1, strlen(slash + 1), &prefix) < 0)
                return -EINVAL;
        if (prefix < i->min || prefix > i->max)
                return -ERANGE;

        mask = prefix == 0 ? 0 : htonl(UINT32_MAX << (32 - prefix));
        if ((a.s_addr & ~mask) != 0)
                return -EINVAL;

        c->subnet = a;
        c->subnet_prefix = (unsigned)prefix;
        return 0;
}

static void config_format_subnet(const ConfigItem *i, const Config *c, FILE *f) {
        char buf[INET_ADDRSTRLEN];

        fprintf(f, "%s/%u", inet_ntop(AF_INET, &c->subnet, buf, sizeof(buf)), c->subnet_prefix);
}

/* ---- the table ---- */

#define FIELD(f) .offset = offsetof(Config, f), .size = sizeof(((Config *)NULL)->f)
#define INTEGER(s, k, f, lo, hi) \
        { s, k, config_parse_integer, config_format_integer, FIELD(f), .min = (lo), .max = (hi) }
#define STRING(s, k, f, v, e) \
        { s, k, config_parse_string, config_format_string, FIELD(f), .valid = (v), .expected = (e) }

static const ConfigItem config_items[] = {
        STRING("Account", "Region", region, region_is_valid,
               "a region name such as us-east-1: lowercase words joined by dashes, ending in a number, "
               "at most 63 characters"),
        STRING("Account", "AccountId", account_id, account_id_is_valid, "exactly 12 digits"),

        INTEGER("Quotas", "Services", max_services, 1, 1000),
        INTEGER("Quotas", "Connections", max_connections, 1, 1000),
        INTEGER("Quotas", "AutoScalingConfigurations", max_auto_scaling_configurations, 1, 1000),

        INTEGER("AutoScaling", "MaxConcurrency", default_max_concurrency, 1, 200),
        INTEGER("AutoScaling", "MinSize", default_min_size, 1, 25),
        INTEGER("AutoScaling", "MaxSize", default_max_size, 1, 25),
        INTEGER("AutoScaling", "ScaleIntervalSec", scale_interval_sec, 1, 300),
        INTEGER("AutoScaling", "ScaleInDelaySec", scale_in_delay_sec, 0, 3600),

        STRING("Network", "Bridge", bridge, ifname_is_valid,
               "a network interface name of 1 to 15 printable ASCII characters without '/', ':' or spaces, "
               "not all digits"),
        {"Network", "Subnet", config_parse_subnet, config_format_subnet, FIELD(subnet), .min = 8, .max = 28,
         .expected =
                 "an IPv4 network in CIDR notation with a prefix length between 8 and 28 and all host bits "
                 "zero, such as 10.88.0.0/16"},
        {"Network", "Outbound", config_parse_bool, config_format_bool, FIELD(outbound),
         .expected = "a boolean: yes, no, true, false, on, off, 1 or 0"},

        STRING("Ingress", "ListenAddress", listen_address, address_is_valid,
               "an IPv4 or IPv6 address such as 127.0.0.1"),
        INTEGER("Ingress", "ListenPort", listen_port, 1, 65535),
        STRING("Ingress", "DomainSuffix", domain_suffix, domain_suffix_is_valid,
               "a DNS domain name in lowercase, such as apprunner.localhost"),
        INTEGER("Ingress", "QueueTimeoutSec", queue_timeout_sec, 1, 3600),
        INTEGER("Ingress", "RequestTimeoutSec", request_timeout_sec, 1, 3600),
        INTEGER("Ingress", "MetricsPort", metrics_port, 0, 65535),

        {"Images", "InsecureRegistries", config_parse_registries, config_format_registries,
         FIELD(insecure_registries),
         .expected = "a space-separated list of registries as host or host:port, such as localhost:5000 "
                     "[::1]:5000, or nothing"},
        {"Images", "MaxLayerSize", config_parse_size, config_format_size, FIELD(max_layer_size),
         .min = UINT64_C(1) << 20, .max = UINT64_C(1024) << 30},
        INTEGER("Images", "MaxLayerEntries", max_layer_entries, 1, 100000000),
        INTEGER("Images", "AutoDeploymentIntervalSec", auto_deployment_interval_sec, 10, 86400),

        STRING("Instances", "Runtime", runtime, absolute_path_is_valid, "an absolute path"),
        STRING("Instances", "SeccompProfile", seccomp_profile, absolute_path_is_valid, "an absolute path"),
        INTEGER("Instances", "TasksMax", tasks_max, 16, 65535),
        INTEGER("Instances", "StartTimeoutSec", start_timeout_sec, 10, 3600),
};

_Static_assert(sizeof(unsigned) == sizeof(uint32_t), "config_set_uint() stores unsigned as uint32_t");

static const ConfigItem *config_item_find(const char *section, const char *key) {
        for (size_t k = 0; k < ELEMENTSOF(config_items); k++)
                if ((!section || streq(config_items[k].section, section)) && streq(config_items[k].key, key))
                        return config_items + k;
        return NULL;
}

static bool config_section_is_known(const char *name, size_t n) {
        for (size_t k = 0; k < ELEMENTSOF(config_items); k++)
                if (strlen(config_items[k].section) == n && strncmp(config_items[k].section, name, n) == 0)
                        return true;
        return false;
}

/* Writes "[Account], [Quotas], ..." (section == NULL) or the keys of one
 * section as "Services, Connections, ..." to buf. */
static const char *config_list_names(const char *section, char *buf, size_t size) {
        const char *previous = NULL;
        size_t used = 0;

        buf[0] = '\0';
        for (size_t k = 0; k < ELEMENTSOF(config_items) && used < size; k++) {
                const ConfigItem *i = config_items + k;

                if (section ? !streq(i->section, section) : streq_ptr(previous, i->section))
                        continue;
                used += snprintf(buf + used, size - used, section ? "%s%s" : "%s[%s]", used > 0 ? ", " : "",
                                 section ? i->key : i->section);
                previous = i->section;
        }
        return buf;
}

/* Writes what an item accepts to buf, for error messages. */
static const char *config_item_expected(const ConfigItem *i, char *buf, size_t size) {
        char lo[32], hi[32];

        if (i->expected)
                snprintf(buf, size, "%s", i->expected);
        else if (i->parse == config_parse_size)
                snprintf(buf, size,
                         "a size between %s and %s: a number of bytes, optionally followed by K, M or G "
                         "(powers of 1024)",
                         format_size(i->min, lo), format_size(i->max, hi));
        else
                snprintf(buf, size, "an integer between %" PRIu64 " and %" PRIu64, i->min, i->max);
        return buf;
}

/* Copies the first len bytes of s to buf for an error message, with bytes
 * other than printable ASCII as \xNN and "..." at the end if they do not
 * fit. */
static const char *escape(const char *s, size_t len, char *buf, size_t size) {
        size_t n = 0;

        for (size_t k = 0; k < len; k++) {
                unsigned char ch = s[k];

                if (n + 8 >= size) {
                        strcpy(buf + n, "...");
                        return buf;
                }
                if (ch == '\\')
                        n += sprintf(buf + n, "\\\\");
                else if (ch >= ' ' && ch < 0x7f)
                        buf[n++] = ch;
                else
                        n += sprintf(buf + n, "\\x%02x", ch);
        }
        buf[n] = '\0';
        return buf;
}

#define ESCAPE_N(s, len) escape((s), (len), (char[ESCAPE_BUFFER_SIZE]){0}, ESCAPE_BUFFER_SIZE)
#define ESCAPE(s)        ESCAPE_N((s), strlen(s))

/* ---- reading files ---- */

typedef struct ParseContext {
        Config *config;

        /* The file being read. */
        const char *path;
        FILE *file;
        char *line; /* the last line read, from getline() */
        size_t line_allocated;
        unsigned line_number;
        int read_errno;

        /* The first error: a malloc'ed "path:line: ..." message and its line,
         * or r = -ENOMEM. */
        char *error;
        unsigned error_line;
        int r;

        unsigned seq;
        ConfigLocation locations[ELEMENTSOF(config_items)];
} ParseContext;

static void parse_context_done(ParseContext *ctx) {
        free(ctx->line);
        free(ctx->error);
}

static bool parse_context_failed(const ParseContext *ctx) {
        return ctx->error || ctx->r < 0;
}

/* Records the first error, as "path:line: message" (or just the message if
 * path is NULL). Returns 0, what an inih handler returns on failure. */
_printf_(4, 5) static int parse_context_fail_at(ParseContext *ctx, const char *path, unsigned line,
                                                const char *format, ...) {
        _cleanup_free_ char *message = NULL;
        va_list ap;
        int k;

        if (parse_context_failed(ctx))
                return 0;

        va_start(ap, format);
        k = vasprintf(&message, format, ap);
        va_end(ap);
        if (k < 0) {
                ctx->r = -ENOMEM;
                return 0;
        }

        if (!path)
                ctx->error = TAKE_PTR(message);
        else if (asprintf(&ctx->error, "%s:%u: %s", path, line, message) < 0) {
                ctx->error = NULL;
                ctx->r = -ENOMEM;
                return 0;
        }
        ctx->error_line = line;
        return 0;
}

#define parse_context_fail(ctx, ...) parse_context_fail_at(ctx, (ctx)->path, (ctx)->line_number, __VA_ARGS__)

/* Checks a "[Section]" line before inih parses it, because inih accepts any
 * name and calls no handler for a section without keys. */
static bool config_check_section_line(ParseContext *ctx, const char *s) {
        const char *end = strchr(s, ']');
        char names[ESCAPE_BUFFER_SIZE];
        const char *rest;

        if (!end)
                return true; /* inih reports the syntax error */

        rest = end + 1 + strspn(end + 1, WHITESPACE);
        if (*rest != '\0' && *rest != '#' && *rest != ';') {
                parse_context_fail(ctx, "%s: unexpected text after the section header.", ESCAPE(s));
                return false;
        }
        if (!config_section_is_known(s + 1, end - s - 1)) {
                parse_context_fail(ctx, "[%s]: unknown section, expected one of %s.",
                                   ESCAPE_N(s + 1, end - s - 1),
                                   config_list_names(NULL, names, sizeof(names)));
                return false;
        }
        return true;
}

/* The ini_reader for ini_parse_stream(): copies the next line of ctx->file
 * into buf (size bytes), without indentation or trailing whitespace and with
 * a newline. Returns NULL at the end of the file, after an error (recorded in
 * ctx), or once a handler failed. */
static char *config_read_line(char *buf, int size, void *userdata) {
        ParseContext *ctx = userdata;
        char *s, *e;
        ssize_t n;

        if (parse_context_failed(ctx))
                return NULL;

        errno = 0;
        n = getline(&ctx->line, &ctx->line_allocated, ctx->file);
        if (n < 0) {
                if (ferror(ctx->file) || errno == ENOMEM)
                        ctx->read_errno = errno > 0 ? errno : EIO;
                return NULL;
        }
        ctx->line_number++;

        if (memchr(ctx->line, '\0', n)) {
                parse_context_fail(ctx, "line contains a NUL byte.");
                return NULL;
        }

        s = ctx->line;
        if (ctx->line_number == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
                s += 3; /* UTF-8 byte order mark */
        s += strspn(s, WHITESPACE);
        for (e = s + strlen(s); e > s && strchr(WHITESPACE, e[-1]); e--)
                ;
        *e = '\0';

        if (*s == '#' || *s == ';')
                s[1] = '\0'; /* A comment may be longer than buf, and inih ignores its text. */
        else if (size < 2 || (size_t)(e - s) > (size_t)size - 2) {
                parse_context_fail(ctx, "line too long, expected at most %d characters without indentation.",
                                   size - 2);
                return NULL;
        } else if (*s == '[' && !config_check_section_line(ctx, s))
                return NULL;

        snprintf(buf, size, "%s\n", s);
        return buf;
}

/* The ini_handler: sets one key. Returns 1 on success, 0 on error. */
static int config_handle_assignment(void *userdata, const char *section, const char *key,
                                    const char *value) {
        ParseContext *ctx = userdata;
        char expected[ESCAPE_BUFFER_SIZE];
        const ConfigItem *i;
        int r;

        if (!key)
                return 1; /* new section, from an inih built with INI_CALL_HANDLER_ON_NEW_SECTION */
        if (parse_context_failed(ctx))
                return 0;
        if (!value)
                /* An inih built with INI_ALLOW_NO_VALUE: the syntax error of other builds. */
                return parse_context_fail(ctx, "%s: missing '=', expected a Key=value assignment.",
                                          ESCAPE(key));
        if (section[0] == '\0')
                return parse_context_fail(
                        ctx,
                        "%s=%s: assignment outside of any section, expected a section header such as "
                        "[Quotas] above it.",
                        ESCAPE(key), ESCAPE(value));

        i = config_item_find(section, key);
        if (!i) {
                const ConfigItem *elsewhere = config_item_find(NULL, key);

                if (elsewhere)
                        return parse_context_fail(
                                ctx, "[%s] %s=%s: unknown key in this section, %s= belongs in [%s].",
                                section, ESCAPE(key), ESCAPE(value), elsewhere->key, elsewhere->section);
                return parse_context_fail(ctx, "[%s] %s=%s: unknown key, expected one of %s.", section,
                                          ESCAPE(key), ESCAPE(value),
                                          config_list_names(section, expected, sizeof(expected)));
        }

        r = i->parse(i, value, ctx->config);
        if (r == -ENOMEM) {
                ctx->r = r;
                return 0;
        }
        if (r < 0)
                return parse_context_fail(ctx, "[%s] %s=%s: %s, expected %s.", section, key, ESCAPE(value),
                                          r == -ERANGE ? "value out of range" : "invalid value",
                                          config_item_expected(i, expected, sizeof(expected)));

        ctx->locations[i - config_items] = (ConfigLocation){
                .path = ctx->path,
                .line = ctx->line_number,
                .seq = ++ctx->seq,
        };
        return 1;
}

/* Parses one open file into ctx->config. Returns 0, or a negative errno with
 * the message in ctx->error. */
static int config_parse_file(ParseContext *ctx, const char *path, FILE *f) {
        int k;

        log_debug("Reading %s.", path);

        ctx->path = path;
        ctx->file = f;
        ctx->line_number = 0;

        k = ini_parse_stream(config_read_line, ctx, config_handle_assignment, ctx);
        if (ctx->r < 0)
                return ctx->r;
        if (ctx->read_errno != 0) {
                int r = -ctx->read_errno;

                free(ctx->error);
                ctx->error = NULL;
                parse_context_fail_at(ctx, NULL, 0, "%s: failed to read: %s.", path, strerror(-r));
                return r;
        }
        if (k == -2)
                return -ENOMEM;

        /* inih returns only the line of its first error, and our errors carry a message. Report
         * whichever comes first. */
        if (k > 0 && (!ctx->error || (unsigned)k < ctx->error_line)) {
                free(ctx->error);
                ctx->error = NULL;
                parse_context_fail_at(
                        ctx, path, k,
                        "syntax error, expected a [Section] header, a Key=value assignment or a "
                        "comment.");
        }
        if (ctx->r < 0)
                return ctx->r;
        return ctx->error ? -EINVAL : 0;
}

static void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

static int compare_strings(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends path to the NULL-terminated *l of *n entries, taking it. */
static int strv_consume(char ***l, size_t *n, char *path) {
        char **grown;

        if (!path)
                return -ENOMEM;
        grown = reallocarray(*l, *n + 2, sizeof(char *));
        if (!grown) {
                free(path);
                return -ENOMEM;
        }
        *l = grown;
        (*l)[(*n)++] = path;
        (*l)[*n] = NULL;
        return 0;
}

/* Returns in *ret the main file, then the regular files "*.conf" of the
 * drop-in directory sorted by name with strcmp(). Hidden files, other file
 * types and dangling symlinks are skipped, a missing directory is empty.
 * The main file is listed whether it exists or not. */
static int config_list_files(ParseContext *ctx, const char *root, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *dir = NULL, *main_path = NULL;
        _cleanup_(closedirp) DIR *d = NULL;
        size_t n = 0;
        int r;

        if (asprintf(&main_path, "%s/%s", root, CONFIG_MAIN_FILE) < 0)
                return -ENOMEM;
        r = strv_consume(&l, &n, TAKE_PTR(main_path));
        if (r < 0)
                return r;

        if (asprintf(&dir, "%s/%s", root, CONFIG_DROPIN_DIR) < 0)
                return -ENOMEM;
        d = opendir(dir);
        if (!d) {
                if (errno != ENOENT) {
                        r = -errno;
                        parse_context_fail_at(ctx, NULL, 0, "%s: failed to open directory: %s.", dir,
                                              strerror(-r));
                        return r;
                }
                *ret = TAKE_PTR(l);
                return 0;
        }

        for (;;) {
                _cleanup_free_ char *path = NULL;
                struct dirent *de;
                struct stat st;
                size_t len;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno == 0)
                                break;
                        r = -errno;
                        parse_context_fail_at(ctx, NULL, 0, "%s: failed to read directory: %s.", dir,
                                              strerror(-r));
                        return r;
                }

                len = strlen(de->d_name);
                if (de->d_name[0] == '.' || len < 5 || !streq(de->d_name + len - 5, ".conf"))
                        continue;
                if (asprintf(&path, "%s/%s", dir, de->d_name) < 0)
                        return -ENOMEM;
                if (stat(path, &st) < 0) {
                        if (errno == ENOENT)
                                continue;
                        r = -errno;
                        parse_context_fail_at(ctx, NULL, 0, "%s: failed to stat: %s.", path, strerror(-r));
                        return r;
                }
                if (!S_ISREG(st.st_mode)) {
                        log_debug("Skipping %s, not a regular file.", path);
                        continue;
                }

                r = strv_consume(&l, &n, TAKE_PTR(path));
                if (r < 0)
                        return r;
        }

        qsort(l + 1, n - 1, sizeof(char *), compare_strings);
        *ret = TAKE_PTR(l);
        return 0;
}

/* ---- checks across keys ---- */

static char *config_item_format(const ConfigItem *i, const Config *c) {
        char *s = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&s, &n);

        if (!f)
                return NULL;
        i->format(i, c, f);
        if (fclose(f) != 0) {
                free(s);
                return NULL;
        }
        return s;
}

/* Records an error about two keys that conflict, at the one of the two set
 * last, naming the other one and where it was set. */
static int config_fail_pair(ParseContext *ctx, const ConfigItem *a, const ConfigItem *b,
                            const char *reason) {
        const ConfigLocation *la = ctx->locations + (a - config_items),
                             *lb = ctx->locations + (b - config_items);
        _cleanup_free_ char *blamed_value = NULL, *other_value = NULL, *other_at = NULL;
        const ConfigItem *blamed = a, *other = b;
        const ConfigLocation *where = la, *other_where = lb;

        if (lb->seq > la->seq) {
                blamed = b;
                other = a;
                where = lb;
                other_where = la;
        }

        blamed_value = config_item_format(blamed, ctx->config);
        other_value = config_item_format(other, ctx->config);
        if (!blamed_value || !other_value)
                return ctx->r = -ENOMEM;
        if (!other_where->path)
                other_at = strdup("not set in any file");
        else if (asprintf(&other_at, "set at %s:%u", other_where->path, other_where->line) < 0)
                other_at = NULL;
        if (!other_at)
                return ctx->r = -ENOMEM;

        parse_context_fail_at(ctx, where->path, where->line,
                              "[%s] %s=%s: invalid value, %s ([%s] %s=%s is %s).", blamed->section,
                              blamed->key, ESCAPE(blamed_value), reason, other->section, other->key,
                              ESCAPE(other_value), other_at);
        return ctx->r < 0 ? ctx->r : -EINVAL;
}

/* Checks the rules that involve more than one key, once all files are read. */
static int config_check_consistency(ParseContext *ctx) {
        const Config *c = ctx->config;

        if (c->default_min_size > c->default_max_size)
                return config_fail_pair(ctx, config_item_find("AutoScaling", "MinSize"),
                                        config_item_find("AutoScaling", "MaxSize"),
                                        "MinSize must not be greater than MaxSize");

        /* Service URLs are <service id>.<Region>.<DomainSuffix>. */
        if (SERVICE_ID_LEN + 1 + strlen(c->region) + 1 + strlen(c->domain_suffix) > HOST_NAME_MAX_LEN)
                return config_fail_pair(ctx, config_item_find("Ingress", "DomainSuffix"),
                                        config_item_find("Account", "Region"),
                                        "service host names <id>.<Region>.<DomainSuffix> would be longer "
                                        "than 253 characters");
        return 0;
}

/* ---- the API ---- */

int config_init_defaults(Config *c) {
        *c = (Config){
                .max_services = 10,
                .max_connections = 10,
                .max_auto_scaling_configurations = 10,
                .default_max_concurrency = 100,
                .default_min_size = 1,
                .default_max_size = 25,
                .scale_interval_sec = 10,
                .scale_in_delay_sec = 60,
                .subnet.s_addr = htonl(UINT32_C(0x0a580000)), /* 10.88.0.0 */
                .subnet_prefix = 16,
                .outbound = true,
                .listen_port = 80,
                .queue_timeout_sec = 30,
                .request_timeout_sec = 120,
                .metrics_port = 9101,
                .max_layer_size = UINT64_C(4) << 30,
                .max_layer_entries = 1000000,
                .auto_deployment_interval_sec = 300,
                .tasks_max = 1024,
                .start_timeout_sec = 300,
        };

        if (free_and_strdup(&c->region, "local-1") < 0 ||
            free_and_strdup(&c->account_id, "000000000000") < 0 ||
            free_and_strdup(&c->bridge, "apprunner0") < 0 ||
            free_and_strdup(&c->listen_address, "127.0.0.1") < 0 ||
            free_and_strdup(&c->domain_suffix, "apprunner.localhost") < 0 ||
            free_and_strdup(&c->runtime, "/usr/bin/crun") < 0 ||
            free_and_strdup(&c->seccomp_profile, PKGDATADIR "/seccomp.json") < 0) {
                config_done(c);
                return -ENOMEM;
        }
        return 0;
}

int config_load(Config *c, const char *root, char **ret_error) {
        _cleanup_(parse_context_done) ParseContext ctx = {.config = c};
        _cleanup_strv_free_ char **paths = NULL;
        int r;

        if (!root)
                root = SYSCONFDIR "/apprunner";

        r = config_list_files(&ctx, root, &paths);
        if (r < 0)
                goto fail;

        STRV_FOREACH (p, paths) {
                _cleanup_fclose_ FILE *f = fopen(*p, "re");

                if (!f) {
                        if (errno == ENOENT) {
                                log_debug("%s does not exist, skipping.", *p);
                                continue;
                        }
                        r = -errno;
                        parse_context_fail_at(&ctx, NULL, 0, "%s: failed to open: %s.", *p, strerror(-r));
                        goto fail;
                }

                r = config_parse_file(&ctx, *p, f);
                if (r < 0)
                        goto fail;
        }

        r = config_check_consistency(&ctx);
        if (r < 0)
                goto fail;
        return 0;

fail:
        if (ret_error)
                *ret_error = r == -ENOMEM ? NULL : TAKE_PTR(ctx.error);
        return r;
}

int config_dump(const Config *c, FILE *f) {
        const char *section = NULL;

        for (size_t k = 0; k < ELEMENTSOF(config_items); k++) {
                const ConfigItem *i = config_items + k;

                if (!streq_ptr(section, i->section)) {
                        fprintf(f, "%s[%s]\n", section ? "\n" : "", i->section);
                        section = i->section;
                }
                fprintf(f, "%s=", i->key);
                i->format(i, c, f);
                fputc('\n', f);
        }

        if (fflush(f) != 0 || ferror(f))
                return errno > 0 ? -errno : -EIO;
        return 0;
}

void config_done(Config *c) {
        if (!c)
                return;

        free(c->region);
        free(c->account_id);
        free(c->bridge);
        free(c->listen_address);
        free(c->domain_suffix);
        strv_free(c->insecure_registries);
        free(c->runtime);
        free(c->seccomp_profile);
        *c = (Config){};
}
