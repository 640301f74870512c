/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Client of HAProxy's line-based command sockets: the runtime API of a
 * worker (`stats socket`) and the master CLI of a master-worker process.
 * Both close the connection after one command in non-interactive mode. */

/* Sends one command line to the unix socket at socket_path and stores the
 * whole reply, up to the point where HAProxy closes the connection, in
 * *ret_output. The command must not contain a newline or ';', because
 * HAProxy treats both as command separators. Waits at most 10 s for each
 * read or write. Returns 0, -EINVAL for a rejected command, or the negative
 * errno of socket(), connect() or I/O (-ENOENT or -ECONNREFUSED when no
 * HAProxy listens, -EAGAIN on a timeout). */
int haproxy_cli_command(const char *socket_path, const char *command, char **ret_output);

/* Like haproxy_cli_command(), but treats any non-empty reply except the
 * ones listed in ok_replies (exact lines, NULL-terminated list) as a
 * failure: returns -EIO and stores the reply, without its trailing
 * newlines, in *ret_reply when ret_reply is not NULL. Commands such as
 * `enable server` or `set map` reply with nothing on success. */
int haproxy_cli_expect(const char *socket_path, const char *command, const char *const *ok_replies,
                       char **ret_reply);
