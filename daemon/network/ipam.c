/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "ipam.h"
#include "log.h"

#define IPAM_STATE_VERSION 1
/* A state file larger than this is rejected as corrupt. A /8 fully
 * allocated with 64-character owners stays below it. */
#define IPAM_STATE_MAX_BYTES (64u * 1024u * 1024u)

typedef struct Allocation {
        char *owner;
        uint32_t offset; /* host offset within the subnet */
} Allocation;

struct Ipam {
        char *state_path;
        uint32_t network; /* host byte order */
        unsigned prefix;
        uint32_t size; /* number of addresses in the subnet, 2^(32-prefix) */
        uint32_t next; /* offset where the next search starts */
        uint8_t *used; /* bitmap of allocated offsets, size bits */
        /* NOTE: owners are searched linearly, which suits the few hundred
         * instances one host runs. */
        Allocation *allocations;
        size_t n_allocations;
        size_t n_allocated;
};

static uint32_t first_host(void) {
        return 2;
}

static uint32_t last_host(const Ipam *ipam) {
        return ipam->size - 2;
}

static bool offset_is_host(const Ipam *ipam, uint32_t offset) {
        return offset >= first_host() && offset <= last_host(ipam);
}

static bool bit_get(const Ipam *ipam, uint32_t offset) {
        return ipam->used[offset / 8] & (1u << (offset % 8));
}

static void bit_set(Ipam *ipam, uint32_t offset, bool value) {
        if (value)
                ipam->used[offset / 8] |= (uint8_t)(1u << (offset % 8));
        else
                ipam->used[offset / 8] &= (uint8_t) ~(1u << (offset % 8));
}

static struct in_addr offset_to_addr(const Ipam *ipam, uint32_t offset) {
        return (struct in_addr){.s_addr = htonl(ipam->network + offset)};
}

/* Parses a dotted-quad address inside the subnet into its host offset. */
static int addr_to_offset(const Ipam *ipam, const char *s, uint32_t *ret) {
        struct in_addr a;
        uint32_t h;

        if (inet_pton(AF_INET, s, &a) != 1)
                return -EINVAL;
        h = ntohl(a.s_addr);
        if ((h & ~(ipam->size - 1)) != ipam->network)
                return -ERANGE;
        *ret = h - ipam->network;
        return 0;
}

static Allocation *find_owner(const Ipam *ipam, const char *owner) {
        for (size_t i = 0; i < ipam->n_allocations; i++)
                if (streq(ipam->allocations[i].owner, owner))
                        return &ipam->allocations[i];
        return NULL;
}

static int append_allocation(Ipam *ipam, const char *owner, uint32_t offset) {
        _cleanup_free_ char *copy = NULL;

        copy = strdup(owner);
        if (!copy)
                return -ENOMEM;

        if (ipam->n_allocations == ipam->n_allocated) {
                size_t n = MAX(ipam->n_allocated * 2, (size_t)16);
                Allocation *a = reallocarray(ipam->allocations, n, sizeof(Allocation));
                if (!a)
                        return -ENOMEM;
                ipam->allocations = a;
                ipam->n_allocated = n;
        }

        ipam->allocations[ipam->n_allocations++] = (Allocation){.owner = TAKE_PTR(copy), .offset = offset};
        bit_set(ipam, offset, true);
        return 0;
}

/* Removes allocations[i] by moving the last entry into its slot. */
static void remove_allocation(Ipam *ipam, size_t i) {
        bit_set(ipam, ipam->allocations[i].offset, false);
        free(ipam->allocations[i].owner);
        ipam->allocations[i] = ipam->allocations[--ipam->n_allocations];
}

static int compare_allocation_offset(const void *a, const void *b) {
        const Allocation *x = a, *y = b;
        return (x->offset > y->offset) - (x->offset < y->offset);
}

static int format_subnet(const Ipam *ipam, char *buf, size_t size) {
        char a[INET_ADDRSTRLEN];
        struct in_addr n = offset_to_addr(ipam, 0);

        if (!inet_ntop(AF_INET, &n, a, sizeof(a)))
                return -errno;
        snprintf(buf, size, "%s/%u", a, ipam->prefix);
        return 0;
}

static int write_all(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += k;
                n -= (size_t)k;
        }
        return 0;
}

/* Replaces path with content: temporary file in the same directory, fsync,
 * rename over path, fsync of the directory. A crash leaves either the old or
 * the new file, plus at most a stray temporary file. */
static int write_file_atomic(const char *path, const char *content) {
        _cleanup_free_ char *tmp = NULL, *dir_copy = NULL;
        _cleanup_close_ int fd = -1, dir_fd = -1;
        int r;

        if (asprintf(&tmp, "%s.tmpXXXXXX", path) < 0)
                return -ENOMEM;
        dir_copy = strdup(path);
        if (!dir_copy)
                return -ENOMEM;

        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;

        r = write_all(fd, content, strlen(content));
        if (r >= 0 && fchmod(fd, 0644) < 0)
                r = -errno;
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                (void)unlink(tmp);
                return r;
        }

        dir_fd = open(dirname(dir_copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                return -errno;
        if (fsync(dir_fd) < 0)
                return -errno;
        return 0;
}

/* Adds key = value to obj. json-c takes ownership of value even on failure. */
static int json_add(struct json_object *obj, const char *key, struct json_object *value) {
        if (!value)
                return -ENOMEM;
        if (json_object_object_add(obj, key, value) < 0)
                return -ENOMEM;
        return 0;
}

static int json_add_address(struct json_object *obj, const char *key, struct in_addr addr) {
        char a[INET_ADDRSTRLEN];

        if (!inet_ntop(AF_INET, &addr, a, sizeof(a)))
                return -errno;
        return json_add(obj, key, json_object_new_string(a));
}

static int ipam_save(Ipam *ipam) {
        struct json_object *root = NULL, *allocations = NULL;
        char subnet[INET_ADDRSTRLEN + 4];
        const char *text;
        int r;

        r = format_subnet(ipam, subnet, sizeof(subnet));
        if (r < 0)
                return r;

        /* Sorting by address keeps the file stable and easy to read. */
        qsort(ipam->allocations, ipam->n_allocations, sizeof(Allocation), compare_allocation_offset);

        root = json_object_new_object();
        if (!root)
                return -ENOMEM;

        r = json_add(root, "version", json_object_new_int(IPAM_STATE_VERSION));
        if (r < 0)
                goto finish;
        r = json_add(root, "subnet", json_object_new_string(subnet));
        if (r < 0)
                goto finish;
        r = json_add_address(root, "next", offset_to_addr(ipam, ipam->next));
        if (r < 0)
                goto finish;

        allocations = json_object_new_object();
        r = json_add(root, "allocations", allocations);
        if (r < 0)
                goto finish;

        for (size_t i = 0; i < ipam->n_allocations; i++) {
                r = json_add_address(allocations, ipam->allocations[i].owner,
                                     offset_to_addr(ipam, ipam->allocations[i].offset));
                if (r < 0)
                        goto finish;
        }

        text = json_object_to_json_string_ext(root,
                                              JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!text) {
                r = -ENOMEM;
                goto finish;
        }

        r = write_file_atomic(ipam->state_path, text);
        if (r < 0)
                log_debug_errno(r, "Failed to write address allocator state %s: %m", ipam->state_path);

finish:
        json_object_put(root);
        return r;
}

static int read_file(const char *path, char **ret, size_t *ret_size) {
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *buf = NULL;
        size_t n = 0, allocated = 0;

        f = fopen(path, "re");
        if (!f)
                return -errno;

        for (;;) {
                if (allocated - n < 4096) {
                        if (allocated >= IPAM_STATE_MAX_BYTES)
                                return -EFBIG;
                        allocated = MAX(allocated * 2, (size_t)8192);
                        char *p = realloc(buf, allocated + 1);
                        if (!p)
                                return -ENOMEM;
                        buf = p;
                }
                size_t k = fread(buf + n, 1, allocated - n, f);
                n += k;
                if (k == 0) {
                        if (ferror(f))
                                return -EIO;
                        break;
                }
        }

        buf[n] = 0;
        *ret = TAKE_PTR(buf);
        *ret_size = n;
        return 0;
}

/* Fills ipam from the JSON text of a state file. Returns -EBADMSG for any
 * structural problem, -EADDRNOTAVAIL for a different subnet. */
static int ipam_parse(Ipam *ipam, const char *text, size_t size) {
        struct json_tokener *tok = NULL;
        struct json_object *root = NULL, *v;
        char subnet[INET_ADDRSTRLEN + 4];
        int r = -EBADMSG;

        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        root = json_tokener_parse_ex(tok, text, (int)size);
        if (!root || json_tokener_get_error(tok) != json_tokener_success ||
            json_tokener_get_parse_end(tok) != size) {
                log_debug("%s: not valid JSON.", ipam->state_path);
                goto finish;
        }

        if (!json_object_is_type(root, json_type_object)) {
                log_debug("%s: top level is not a JSON object.", ipam->state_path);
                goto finish;
        }

        if (!json_object_object_get_ex(root, "version", &v) || !json_object_is_type(v, json_type_int) ||
            json_object_get_int(v) != IPAM_STATE_VERSION) {
                log_debug("%s: missing or unsupported \"version\".", ipam->state_path);
                goto finish;
        }

        if (!json_object_object_get_ex(root, "subnet", &v) || !json_object_is_type(v, json_type_string)) {
                log_debug("%s: missing \"subnet\".", ipam->state_path);
                goto finish;
        }
        r = format_subnet(ipam, subnet, sizeof(subnet));
        if (r < 0)
                goto finish;
        if (!streq(json_object_get_string(v), subnet)) {
                log_debug("%s: records subnet %s, but the configured subnet is %s.", ipam->state_path,
                          json_object_get_string(v), subnet);
                r = -EADDRNOTAVAIL;
                goto finish;
        }
        r = -EBADMSG;

        if (!json_object_object_get_ex(root, "next", &v) || !json_object_is_type(v, json_type_string) ||
            addr_to_offset(ipam, json_object_get_string(v), &ipam->next) < 0 ||
            !offset_is_host(ipam, ipam->next)) {
                log_debug("%s: missing or invalid \"next\".", ipam->state_path);
                goto finish;
        }

        if (!json_object_object_get_ex(root, "allocations", &v) ||
            !json_object_is_type(v, json_type_object)) {
                log_debug("%s: missing \"allocations\".", ipam->state_path);
                goto finish;
        }

        json_object_object_foreach(v, owner, address) {
                uint32_t offset;

                if (!json_object_is_type(address, json_type_string) || owner[0] == 0 ||
                    addr_to_offset(ipam, json_object_get_string(address), &offset) < 0 ||
                    !offset_is_host(ipam, offset)) {
                        log_debug("%s: invalid allocation for \"%s\".", ipam->state_path, owner);
                        r = -EBADMSG;
                        goto finish;
                }
                if (bit_get(ipam, offset)) {
                        log_debug("%s: address %s is allocated twice.", ipam->state_path,
                                  json_object_get_string(address));
                        r = -EBADMSG;
                        goto finish;
                }
                /* json-c keeps the last value of a duplicated key, so an owner
                 * appears at most once here. */
                r = append_allocation(ipam, owner, offset);
                if (r < 0)
                        goto finish;
        }
        r = 0;

finish:
        json_object_put(root);
        json_tokener_free(tok);
        return r;
}

int ipam_open(const char *state_path, struct in_addr subnet, unsigned prefix, Ipam **ret) {
        _cleanup_ipam_ Ipam *ipam = NULL;
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        if (!state_path || !ret)
                return -EINVAL;
        if (prefix < 8 || prefix > 30)
                return -EINVAL;

        ipam = calloc(1, sizeof(Ipam));
        if (!ipam)
                return -ENOMEM;

        ipam->prefix = prefix;
        ipam->size = UINT32_C(1) << (32 - prefix);
        ipam->network = ntohl(subnet.s_addr);
        if (ipam->network & (ipam->size - 1))
                return -EINVAL;
        ipam->next = first_host();

        ipam->state_path = strdup(state_path);
        ipam->used = calloc(ipam->size / 8 + 1, 1);
        if (!ipam->state_path || !ipam->used)
                return -ENOMEM;

        r = read_file(state_path, &text, &size);
        if (r == -ENOENT) {
                *ret = TAKE_PTR(ipam);
                return 0;
        }
        if (r == -EFBIG)
                return log_debug_errno(-EBADMSG, "%s: larger than %u bytes.", state_path,
                                       IPAM_STATE_MAX_BYTES);
        if (r < 0)
                return log_debug_errno(r, "Failed to read %s: %m", state_path);

        r = ipam_parse(ipam, text, size);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(ipam);
        return 0;
}

Ipam *ipam_free(Ipam *ipam) {
        if (!ipam)
                return NULL;
        for (size_t i = 0; i < ipam->n_allocations; i++)
                free(ipam->allocations[i].owner);
        free(ipam->allocations);
        free(ipam->used);
        free(ipam->state_path);
        free(ipam);
        return NULL;
}

int ipam_allocate(Ipam *ipam, const char *owner, struct in_addr *ret) {
        const Allocation *existing;
        uint32_t n_hosts, offset, saved_next;
        int r;

        if (!ipam || !owner || owner[0] == 0)
                return -EINVAL;

        existing = find_owner(ipam, owner);
        if (existing) {
                if (ret)
                        *ret = offset_to_addr(ipam, existing->offset);
                return 0;
        }

        /* Walk once around the host range starting at the cursor. */
        n_hosts = last_host(ipam) - first_host() + 1;
        offset = ipam->next;
        for (uint32_t i = 0;; i++) {
                if (i == n_hosts)
                        return -ENOSPC;
                if (!bit_get(ipam, offset))
                        break;
                offset = offset == last_host(ipam) ? first_host() : offset + 1;
        }

        r = append_allocation(ipam, owner, offset);
        if (r < 0)
                return r;
        saved_next = ipam->next;
        ipam->next = offset == last_host(ipam) ? first_host() : offset + 1;

        r = ipam_save(ipam);
        if (r < 0) {
                ipam->next = saved_next;
                for (size_t i = 0; i < ipam->n_allocations; i++)
                        if (streq(ipam->allocations[i].owner, owner)) {
                                remove_allocation(ipam, i);
                                break;
                        }
                return r;
        }

        if (ret)
                *ret = offset_to_addr(ipam, offset);
        return 1;
}

int ipam_release(Ipam *ipam, const char *owner) {
        uint32_t saved_offset;
        int r;

        if (!ipam || !owner)
                return -EINVAL;

        for (size_t i = 0; i < ipam->n_allocations; i++) {
                if (!streq(ipam->allocations[i].owner, owner))
                        continue;

                saved_offset = ipam->allocations[i].offset;
                remove_allocation(ipam, i);

                r = ipam_save(ipam);
                if (r < 0) {
                        int k = append_allocation(ipam, owner, saved_offset);
                        /* Re-adding cannot fail for lack of space because the
                         * array shrank by one, only strdup() can fail. */
                        return k < 0 ? k : r;
                }
                return 1;
        }

        return 0;
}

int ipam_lookup(const Ipam *ipam, const char *owner, struct in_addr *ret) {
        const Allocation *a;

        if (!ipam || !owner)
                return -EINVAL;

        a = find_owner(ipam, owner);
        if (!a)
                return -ENOENT;
        if (ret)
                *ret = offset_to_addr(ipam, a->offset);
        return 0;
}

static int compare_strings(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int ipam_owners(const Ipam *ipam, char ***ret_owners) {
        _cleanup_strv_free_ char **owners = NULL;

        if (!ipam || !ret_owners)
                return -EINVAL;

        owners = calloc(ipam->n_allocations + 1, sizeof(char *));
        if (!owners)
                return -ENOMEM;
        for (size_t i = 0; i < ipam->n_allocations; i++) {
                owners[i] = strdup(ipam->allocations[i].owner);
                if (!owners[i])
                        return -ENOMEM;
        }
        qsort(owners, ipam->n_allocations, sizeof(char *), compare_strings);

        *ret_owners = TAKE_PTR(owners);
        return 0;
}

struct in_addr ipam_gateway(const Ipam *ipam) {
        return offset_to_addr(ipam, 1);
}

unsigned ipam_prefix(const Ipam *ipam) {
        return ipam->prefix;
}

int ipam_move_aside(const char *state_path, char **ret_new_path) {
        _cleanup_free_ char *new_path = NULL;
        char stamp[32];
        struct tm tm;
        time_t now = time(NULL);

        if (!state_path)
                return -EINVAL;
        if (!gmtime_r(&now, &tm) || strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm) == 0)
                return -EINVAL;
        if (asprintf(&new_path, "%s.corrupt-%s", state_path, stamp) < 0)
                return -ENOMEM;

        /* RENAME_NOREPLACE keeps an earlier copy moved aside in the same
         * second. */
        if (renameat2(AT_FDCWD, state_path, AT_FDCWD, new_path, RENAME_NOREPLACE) < 0)
                return -errno;

        if (ret_new_path)
                *ret_new_path = TAKE_PTR(new_path);
        return 0;
}
