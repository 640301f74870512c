/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The container seccomp profile, in the shape of the OCI runtime
 * specification's "linux.seccomp" object. */

#include <json-c/json.h>

/* Installed path of the default profile. */
#define SECCOMP_PROFILE_DEFAULT_PATH PKGDATADIR "/seccomp.json"

/* Reads the profile at path and validates it with libseccomp: every action,
 * comparison operator and architecture name must be known, every syscall
 * name must resolve for the host's architecture, and the rules must compile
 * into a BPF filter. On success stores the parsed object in *ret (the
 * caller owns one reference). On failure returns a negative errno and
 * stores a sentence naming the file and the bad entry in *ret_error;
 * -EINVAL means the profile is invalid. */
int seccomp_profile_load(const char *path, json_object **ret, char **ret_error);

/* Validates an already parsed profile; what is the file name used in error
 * sentences. Returns 0, or a negative errno with *ret_error set. */
int seccomp_profile_validate(json_object *profile, const char *what, char **ret_error);
