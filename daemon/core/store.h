/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The state store: one JSON document per resource under
 * <root>/<kind>/<id>.json, for example
 * /var/lib/apprunner/services/0123...cdef.json.
 *
 * Crash safety: a document is written to a temporary file in the same
 * directory, fsync'ed, renamed over the old one, and the directory is
 * fsync'ed. rename(2) replaces the name atomically, so after a crash at any
 * instant the name refers to either the complete old or the complete new
 * document. Temporary files left by a crash start with ".#" and are removed
 * at load. A document that fails to parse is moved to <root>/corrupt/ and
 * logged with its path; it is never silently dropped. */

#include <json-c/json.h>

typedef enum StoreKind {
        STORE_SERVICES,
        STORE_OPERATIONS,
        STORE_AUTO_SCALING_CONFIGURATIONS,
        STORE_CONNECTIONS,
        _STORE_KIND_MAX,
} StoreKind;

typedef struct Store Store;

int store_open(const char *root, Store **ret);
Store *store_free(Store *s);
const char *store_root(Store *s);

int store_write(Store *s, StoreKind kind, const char *id, json_object *doc);
int store_remove(Store *s, StoreKind kind, const char *id);

/* Called for each document; returning a negative errno marks the document
 * as corrupt, so it is moved aside. */
typedef int (*store_load_func_t)(StoreKind kind, const char *id, json_object *doc, void *userdata);
/* Loads every document of a kind in name order. Returns the number of
 * documents moved aside, or a negative errno when the directory cannot be
 * read. */
int store_load(Store *s, StoreKind kind, store_load_func_t func, void *userdata);

/* Writes a small file atomically with the same protocol (secrets, the
 * address allocator). */
int store_write_file_atomic(int dir_fd, const char *name, const void *data, size_t size, mode_t mode);
