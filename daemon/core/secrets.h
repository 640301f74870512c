/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* Connection secrets under <state dir>/secrets/. Where systemd-creds(1)
 * works, a secret is stored encrypted with the host's credential key as
 * <id>.cred; otherwise it is a root-only (0600) plain file <id>.secret.
 * Secrets are never logged. */

int secret_store(const char *state_dir, const char *id, const char *secret);
int secret_load(const char *state_dir, const char *id, char **ret_secret);
int secret_remove(const char *state_dir, const char *id);

/* Removes the files in secrets/ that keep() refuses (called with each
 * secret's connection id), and temporary files left by an interrupted
 * write. Returns the number of files removed or a negative errno. */
int secret_prune(const char *state_dir, bool (*keep)(const char *id, void *userdata), void *userdata);
