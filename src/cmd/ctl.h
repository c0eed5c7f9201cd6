/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket of a long-running program on libtether (tether attach, tether bench, the
 * nbdkit plugin): a unix stream socket, owner-only, in /run/tether/<pid>.sock (root) or
 * $XDG_RUNTIME_DIR/tether/<pid>.sock, or the path given. A client sends one JSON request line,
 * {"method":"paths"}, and reads one JSON answer line; the server then closes the connection.
 * The server has no thread: the program adds its fds to its own poll set (ctl_pollfds) and
 * calls ctl_service with what poll returned.
 */
#ifndef TT_CMD_CTL_H
#define TT_CMD_CTL_H

#include <jansson.h>
#include <poll.h>
#include <stddef.h>

#include "tether/tether.h"

struct ctl;

#define CTL_MAX_FDS 9 /* the listening socket and up to 8 clients */

/* The directory of the default sockets (made owner-only when missing). */
int ctl_default_dir(char *buf, size_t size, int create);
/* @path NULL: the default; "none": no socket (*out = NULL, returns 0). @program names the
 * program in answers ("bench", "attach", "nbdkit"). On failure @err says why. */
int ctl_open(struct ctl **out, const char *path, const char *program, struct tether_dev *dev,
	     char *err, size_t errsize);
const char *ctl_path(const struct ctl *c);
/* Fills up to CTL_MAX_FDS pollfds; returns how many. */
int ctl_pollfds(struct ctl *c, struct pollfd *pfd);
/* After poll(): @pfd and @n as returned by ctl_pollfds. */
void ctl_service(struct ctl *c, const struct pollfd *pfd, int n);
/* Closes the socket and removes its file. NULL is allowed. */
void ctl_close(struct ctl *c);

/* The device and its paths as JSON (also the answer of the socket). */
json_t *ctl_dev_json(struct tether_dev *dev);

#endif
