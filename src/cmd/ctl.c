/* SPDX-License-Identifier: BSD-3-Clause */
/* The control socket of the programs on libtether (ctl.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"
#include "tool.h"

#define CTL_CLIENTS 8
#define CTL_REQ_MAX 1024
#define CTL_CLIENT_MS 2000

struct ctl_client {
	int fd;              /* -1: free */
	size_t len;
	uint64_t deadline_ns;
	char buf[CTL_REQ_MAX];
};

struct ctl {
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const char *program;
	struct tether_dev *dev;
	struct ctl_client clients[CTL_CLIENTS];
};

int ctl_default_dir(char *buf, size_t size, int create)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int n;

	if (geteuid() == 0)
		n = snprintf(buf, size, "/run/tether");
	else if (xdg && *xdg)
		n = snprintf(buf, size, "%s/tether", xdg);
	else
		n = snprintf(buf, size, "/tmp/tether-%u", (unsigned)geteuid());
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	if (create && mkdir(buf, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int ctl_open(struct ctl **out, const char *path, const char *program, struct tether_dev *dev,
	     char *err, size_t errsize)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ctl *c;
	mode_t old;
	int rc;

	*out = NULL;
	if (path && strcmp(path, "none") == 0)
		return 0;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fd = -1;
	c->program = program;
	c->dev = dev;
	for (int i = 0; i < CTL_CLIENTS; i++)
		c->clients[i].fd = -1;
	if (path) {
		rc = snprintf(c->path, sizeof(c->path), "%s", path) >= (int)sizeof(c->path) ?
		     -ENAMETOOLONG : 0;
	} else {
		char dir[sizeof(c->path)];

		rc = ctl_default_dir(dir, sizeof(dir), 1);
		if (rc == 0 && snprintf(c->path, sizeof(c->path), "%s/%d.sock", dir,
					(int)getpid()) >= (int)sizeof(c->path))
			rc = -ENAMETOOLONG;
	}
	if (rc < 0) {
		snprintf(err, errsize, "control socket %s: %s", path ? path : "(default)",
			 strerror(-rc));
		free(c);
		return rc;
	}
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		rc = -errno;
		goto fail;
	}
	memcpy(sa.sun_path, c->path, strlen(c->path) + 1);
	/* a file left by a program that is gone: nobody answers on it */
	if (access(c->path, F_OK) == 0) {
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			rc = -EADDRINUSE;
			goto fail;
		}
		if (probe >= 0)
			close(probe);
		unlink(c->path);
	}
	old = umask(0177);
	rc = bind(c->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0 || listen(c->fd, 8) < 0) {
		rc = -errno;
		goto fail;
	}
	*out = c;
	return 0;
fail:
	snprintf(err, errsize, "control socket %s: %s", c->path, strerror(-rc));
	if (c->fd >= 0)
		close(c->fd);
	free(c);
	return rc;
}

const char *ctl_path(const struct ctl *c)
{
	return c ? c->path : "none";
}

int ctl_pollfds(struct ctl *c, struct pollfd *pfd)
{
	int n = 0;

	if (!c)
		return 0;
	pfd[n++] = (struct pollfd){ .fd = c->fd, .events = POLLIN };
	for (int i = 0; i < CTL_CLIENTS; i++)
		if (c->clients[i].fd >= 0)
			pfd[n++] = (struct pollfd){ .fd = c->clients[i].fd, .events = POLLIN };
	return n;
}

json_t *ctl_dev_json(struct tether_dev *dev)
{
	json_t *paths = json_array();
	int n = tether_path_count(dev);

	for (int i = 0; i < n; i++) {
		struct tether_path_info pi;

		if (tether_path_info(dev, i, &pi) < 0)
			continue;
		json_array_append_new(paths, json_pack("{s:s, s:s, s:s, s:i, s:I, s:I, s:I, s:I, s:i, s:I}",
			"url", pi.url, "state", pi.state, "alua", pi.alua, "tpg", (int)pi.tpg,
			"ios", (json_int_t)pi.ios, "errors", (json_int_t)pi.errors,
			"retried", (json_int_t)pi.retried, "failures", (json_int_t)pi.failures,
			"inflight", (int)pi.inflight, "last_change_ms", (json_int_t)pi.last_change_ms));
	}
	return json_pack("{s:s, s:I, s:i, s:o}", "lu_id", tether_lu_id(dev) ? tether_lu_id(dev) : "",
			 "size", (json_int_t)tether_size(dev), "block_size",
			 (int)tether_block_size(dev), "paths", paths);
}

static void client_close(struct ctl_client *cl)
{
	close(cl->fd);
	cl->fd = -1;
	cl->len = 0;
}

static void client_answer(struct ctl *c, struct ctl_client *cl)
{
	json_error_t jerr;
	json_t *req, *ans;
	const char *method = NULL;
	char *text;

	cl->buf[cl->len < CTL_REQ_MAX ? cl->len : CTL_REQ_MAX - 1] = '\0';
	req = json_loads(cl->buf, JSON_DISABLE_EOF_CHECK, &jerr);
	if (req)
		json_unpack(req, "{s?s}", "method", &method);
	if (!req) {
		ans = json_pack("{s:s}", "error", "the request is not JSON");
	} else if (!method || strcmp(method, "paths") == 0) {
		ans = ctl_dev_json(c->dev);
		json_object_set_new(ans, "pid", json_integer(getpid()));
		json_object_set_new(ans, "program", json_string(c->program));
		json_object_set_new(ans, "socket", json_string(c->path));
	} else {
		ans = json_pack("{s:s}", "error", "unknown method (known: paths)");
	}
	json_decref(req);
	text = json_dumps(ans, JSON_COMPACT);
	json_decref(ans);
	if (text) {
		size_t len = strlen(text);

		/* the answer is small: it fits the socket buffer, or the client gets a short one */
		text[len] = '\n';
		(void)!send(cl->fd, text, len + 1, MSG_NOSIGNAL | MSG_DONTWAIT); /* or it left */
		free(text);
	}
	client_close(cl);
}

static void accept_clients(struct ctl *c)
{
	for (;;) {
		int fd = accept4(c->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), i;

		if (fd < 0)
			return;
		for (i = 0; i < CTL_CLIENTS && c->clients[i].fd >= 0; i++)
			;
		if (i == CTL_CLIENTS) {
			close(fd); /* busy: the client may try again */
			continue;
		}
		c->clients[i].fd = fd;
		c->clients[i].len = 0;
		c->clients[i].deadline_ns = tool_now_ns() + CTL_CLIENT_MS * 1000000ull;
	}
}

void ctl_service(struct ctl *c, const struct pollfd *pfd, int n)
{
	uint64_t now = tool_now_ns();

	if (!c)
		return;
	for (int k = 1; k < n; k++) {
		struct ctl_client *cl = NULL;

		for (int i = 0; i < CTL_CLIENTS; i++)
			if (c->clients[i].fd == pfd[k].fd)
				cl = &c->clients[i];
		if (!cl || !pfd[k].revents)
			continue;
		for (;;) {
			ssize_t r = recv(cl->fd, cl->buf + cl->len, CTL_REQ_MAX - 1 - cl->len, 0);

			if (r > 0) {
				cl->len += (size_t)r;
				if (memchr(cl->buf, '\n', cl->len) || cl->len >= CTL_REQ_MAX - 1) {
					client_answer(c, cl);
					break;
				}
				continue;
			}
			if (r == 0)
				client_answer(c, cl); /* end of the request */
			else if (errno != EAGAIN && errno != EINTR)
				client_close(cl);
			break;
		}
	}
	for (int i = 0; i < CTL_CLIENTS; i++)
		if (c->clients[i].fd >= 0 && now > c->clients[i].deadline_ns)
			client_close(&c->clients[i]);
	if (n > 0 && pfd[0].revents)
		accept_clients(c);
}

void ctl_close(struct ctl *c)
{
	if (!c)
		return;
	for (int i = 0; i < CTL_CLIENTS; i++)
		if (c->clients[i].fd >= 0)
			client_close(&c->clients[i]);
	close(c->fd);
	unlink(c->path);
	free(c);
}
