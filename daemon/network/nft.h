/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Runs the nft(8) command-line tool. This is the one place where
 * daemon/network/ starts another program: libnl speaks rtnetlink but not
 * the nf_tables netlink protocol, and nft is the tool Debian ships to
 * program nf_tables. */

/* Feeds script to "nft -f -" and waits for it. Returns 0 if nft exited with
 * status 0, -ENOENT if nft is not installed, -EIO if it failed (its
 * diagnostics then go to *ret_error if ret_error is not NULL), or another
 * negative errno if it could not be started. */
int nft_run_script(const char *script, char **ret_error);
