/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control socket: a Unix stream listener on loop 0, clients with input and output buffers,
 * newline framing and the JSON-RPC 2.0 envelope. The methods are in rpc_methods.c.
 *
 * A client is freed only from deferred work (never inside a watch callback, where epoll may
 * still hold an event for it): closing it unlinks it from the client list, stops its watch and
 * moves it to the dead list.
 */
#include "target/rpc.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/list.h"
#include "base/log.h"

#define RPC_READ_CHUNK 65536
#define RPC_OUT_HIGH (8u << 20) /* stop reading requests while this much output waits */

struct rpc_client {
	struct tt_list node;   /* in rpc.clients, then rpc.dead */
	struct tt_watch watch;
	int fd;
	char *in;              /* received bytes not yet handled */
	size_t in_len, in_cap;
	char *out;             /* responses not yet sent */
	size_t out_len, out_off, out_cap;
	bool eof;              /* the peer shut down its side: close once the output is sent */
	bool closing;          /* protocol error: close once the output is sent */
	bool dead;
	unsigned id;           /* for logs */
};

static struct {
	struct tt_loop *loop;
	int fd;
	struct tt_watch watch;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	bool listening;
	struct tt_list clients;
	struct tt_list dead;
	struct tt_work reap;
	struct tt_work shutdown;
	void (*shutdown_cb)(void);
	unsigned next_id;
} rpc = { .fd = -1 };

/* --- JSON-RPC envelope ----------------------------------------------------------------------- */

static json_t *make_error(json_t *id, int code, const char *message, int errnum, json_t *more)
{
	json_t *err = json_pack("{si ss}", "code", code, "message", message);
	json_t *data = more;

	if (errnum > 0) {
		const char *name = strerrorname_np(errnum);

		if (!data)
			data = json_object();
		json_object_set_new(data, "errno", json_string(name ? name : "?"));
		json_object_set_new(data, "errnum", json_integer(errnum));
	}
	if (data)
		json_object_set_new(err, "data", data);
	return json_pack("{ss so sO}", "jsonrpc", "2.0", "error", err, "id", id ? id : json_null());
}

static const char *const request_keys[] = { "jsonrpc", "method", "params", "id", NULL };

static json_t *handle_one(json_t *req)
{
	struct tt_rpc_error e = { 0 };
	json_t *id, *params, *result = NULL, *jv, *meth;
	tt_rpc_method_fn fn;
	const char *key;
	json_t *val;
	bool notification;
	int rc;

	if (!json_is_object(req))
		return make_error(NULL, TT_RPC_INVALID_REQUEST,
				  "invalid request: expected a JSON object", 0, NULL);
	id = json_object_get(req, "id");
	notification = id == NULL;
	if (id && !json_is_string(id) && !json_is_integer(id) && !json_is_null(id))
		return make_error(NULL, TT_RPC_INVALID_REQUEST,
				  "invalid request: \"id\" must be a string, an integer or null", 0, NULL);
	json_object_foreach(req, key, val) {
		bool known = false;

		for (const char *const *k = request_keys; *k; k++)
			known |= strcmp(key, *k) == 0;
		if (!known) {
			snprintf(e.message, sizeof(e.message),
				 "invalid request: unknown member \"%s\"", key);
			return make_error(id, TT_RPC_INVALID_REQUEST, e.message, 0, NULL);
		}
	}
	jv = json_object_get(req, "jsonrpc");
	if (!json_is_string(jv) || strcmp(json_string_value(jv), "2.0") != 0)
		return make_error(id, TT_RPC_INVALID_REQUEST,
				  "invalid request: \"jsonrpc\" must be \"2.0\"", 0, NULL);
	meth = json_object_get(req, "method");
	if (!json_is_string(meth))
		return make_error(id, TT_RPC_INVALID_REQUEST,
				  "invalid request: \"method\" must be a string", 0, NULL);
	params = json_object_get(req, "params");
	if (params && json_is_null(params))
		params = NULL;
	if (params && !json_is_object(params)) {
		if (notification)
			return NULL;
		return make_error(id, TT_RPC_INVALID_PARAMS,
				  "invalid params: \"params\" must be an object (params by name)", 0, NULL);
	}
	fn = tt_rpc_method_find(json_string_value(meth));
	if (!fn) {
		if (notification)
			return NULL;
		snprintf(e.message, sizeof(e.message), "method not found: \"%s\"",
			 json_string_value(meth));
		return make_error(id, TT_RPC_METHOD_NOT_FOUND, e.message, 0, NULL);
	}
	if (!params)
		params = json_object();
	else
		json_incref(params);
	tt_debug("rpc", "call %s", json_string_value(meth));
	rc = fn(params, &result, &e);
	json_decref(params);
	if (rc) {
		if (!e.code)
			e.code = TT_RPC_FAILED;
		if (!e.message[0])
			snprintf(e.message, sizeof(e.message), "%s", strerror(-rc));
		if (e.code == TT_RPC_FAILED && !e.errnum)
			e.errnum = -rc;
		tt_info("rpc", "%s: %s", json_string_value(meth), e.message);
		if (notification) {
			json_decref(e.data);
			return NULL;
		}
		return make_error(id, e.code, e.message, e.code == TT_RPC_FAILED ? e.errnum : 0,
				  json_is_object(e.data) ? e.data : NULL);
	}
	if (notification) {
		json_decref(result);
		return NULL;
	}
	return json_pack("{ss so sO}", "jsonrpc", "2.0", "result", result ? result : json_null(),
			 "id", id);
}

json_t *tt_rpc_handle(json_t *request)
{
	json_t *responses, *elem;
	size_t i;

	if (!json_is_array(request))
		return handle_one(request);
	if (json_array_size(request) == 0)
		return make_error(NULL, TT_RPC_INVALID_REQUEST, "invalid request: empty batch", 0, NULL);
	responses = json_array();
	json_array_foreach(request, i, elem) {
		json_t *r = handle_one(elem);

		if (r)
			json_array_append_new(responses, r);
	}
	if (json_array_size(responses) == 0) {
		json_decref(responses);
		return NULL;
	}
	return responses;
}

/* --- clients --------------------------------------------------------------------------------- */

static void reap_clients(struct tt_work *w)
{
	struct tt_list *n;

	(void)w;
	while ((n = tt_list_pop(&rpc.dead))) {
		struct rpc_client *c = tt_list_entry(n, struct rpc_client, node);

		free(c->in);
		free(c->out);
		free(c);
	}
}

static void client_close(struct rpc_client *c)
{
	if (c->dead)
		return;
	tt_debug("rpc", "client %u closed", c->id);
	if (c->closing) {
		/* unread input would make the close a reset, which may cost the peer our last
		 * answer: discard what is queued (bounded) */
		char scratch[16384];

		for (int i = 0; i < 512; i++)
			if (recv(c->fd, scratch, sizeof(scratch), MSG_DONTWAIT) <= 0)
				break;
	}
	tt_watch_del(&c->watch);
	close(c->fd);
	c->fd = -1;
	c->dead = true;
	tt_list_del(&c->node);
	tt_list_add_tail(&rpc.dead, &c->node);
	tt_work_queue(&rpc.reap);
}

static int out_append(struct rpc_client *c, const char *data, size_t len)
{
	if (c->out_off && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_len + len > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		char *p;

		while (cap < c->out_len + len)
			cap *= 2;
		p = realloc(c->out, cap);
		if (!p)
			return -ENOMEM;
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, data, len);
	c->out_len += len;
	return 0;
}

static void send_json(struct rpc_client *c, json_t *resp)
{
	char *s = json_dumps(resp, JSON_COMPACT | JSON_REAL_PRECISION(12));

	if (!s || out_append(c, s, strlen(s)) || out_append(c, "\n", 1)) {
		tt_warn("rpc", "client %u: out of memory for a response; closing", c->id);
		c->closing = true;
	}
	free(s);
}

/* Decodes and answers one request of @len bytes (no newline). */
static void handle_line(struct rpc_client *c, const char *line, size_t len)
{
	json_error_t jerr;
	json_t *req, *resp;
	size_t i;

	for (i = 0; i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'); i++)
		;
	if (i == len)
		return; /* empty line */
	req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!req) {
		char msg[256];

		snprintf(msg, sizeof(msg), "parse error: %s (column %d)", jerr.text, jerr.column);
		resp = make_error(NULL, TT_RPC_PARSE_ERROR, msg, 0, NULL);
	} else {
		resp = tt_rpc_handle(req);
		json_decref(req);
	}
	if (resp) {
		send_json(c, resp);
		json_decref(resp);
	}
}

/* Handles every complete line in the input buffer; returns false when the client is to close. */
static bool handle_input(struct rpc_client *c)
{
	size_t start = 0;

	while (start < c->in_len && !c->closing) {
		char *nl = memchr(c->in + start, '\n', c->in_len - start);
		size_t len;

		if (!nl)
			break;
		len = (size_t)(nl - (c->in + start));
		if (len > TT_RPC_REQUEST_MAX) {
			start = c->in_len;
			goto too_large;
		}
		handle_line(c, c->in + start, len);
		start += len + 1;
	}
	memmove(c->in, c->in + start, c->in_len - start);
	c->in_len -= start;
	if (c->in_len > TT_RPC_REQUEST_MAX)
		goto too_large;
	if (c->eof && c->in_len) {
		/* a last request without newline */
		handle_line(c, c->in, c->in_len);
		c->in_len = 0;
	}
	return true;
too_large: {
		char msg[128];
		json_t *resp;

		snprintf(msg, sizeof(msg), "invalid request: longer than %u bytes; closing",
			 TT_RPC_REQUEST_MAX);
		resp = make_error(NULL, TT_RPC_INVALID_REQUEST, msg, 0, NULL);
		send_json(c, resp);
		json_decref(resp);
		tt_warn("rpc", "client %u: request longer than %u bytes; closing", c->id,
			TT_RPC_REQUEST_MAX);
		c->in_len = 0;
		c->closing = true;
		shutdown(c->fd, SHUT_RD); /* a peer still writing gets EPIPE, not a stall */
		return false;
	}
}

/* Returns 0, or -errno when the connection is broken. */
static int client_flush(struct rpc_client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -errno;
		}
		c->out_off += (size_t)n;
	}
	c->out_off = c->out_len = 0;
	return 0;
}

static int client_read(struct rpc_client *c)
{
	for (;;) {
		ssize_t n;

		if (c->out_len - c->out_off > RPC_OUT_HIGH || c->closing)
			return 0; /* let the peer read its answers first */
		if (c->in_cap - c->in_len < RPC_READ_CHUNK) {
			size_t cap = c->in_cap ? c->in_cap * 2 : RPC_READ_CHUNK * 2;
			char *p = realloc(c->in, cap);

			if (!p)
				return -ENOMEM;
			c->in = p;
			c->in_cap = cap;
		}
		n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -errno;
		}
		if (n == 0)
			c->eof = true;
		c->in_len += (size_t)n;
		if (!handle_input(c) || c->eof)
			return 0;
	}
}

static void client_update_events(struct rpc_client *c)
{
	uint32_t ev = 0;

	if (!c->eof && !c->closing && c->out_len - c->out_off <= RPC_OUT_HIGH)
		ev |= EPOLLIN;
	if (c->out_off < c->out_len)
		ev |= EPOLLOUT;
	tt_watch_mod(&c->watch, ev);
}

static void client_ready(struct tt_watch *w, uint32_t events)
{
	struct rpc_client *c = tt_container_of(w, struct rpc_client, watch);
	int rc = 0;

	if (c->dead)
		return;
	if (events & EPOLLIN || ((events & (EPOLLHUP | EPOLLRDHUP)) && !c->eof)) {
		rc = client_read(c);
	}
	if (!rc)
		rc = client_flush(c);
	if (rc || (events & EPOLLERR) ||
	    ((c->eof || c->closing) && c->out_off == c->out_len)) {
		if (rc && rc != -EPIPE && rc != -ECONNRESET)
			tt_info("rpc", "client %u: %s", c->id, strerror(-rc));
		client_close(c);
		return;
	}
	client_update_events(c);
}

/* Only root and the daemon's own user may use the control socket (besides its mode 0600, in
 * case the file's mode or owner was changed after it was made). */
static bool peer_allowed(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		tt_log_ratelimited(TT_LOG_WARN, "rpc", "%s: SO_PEERCRED: %s: client refused", rpc.path,
				   strerror(errno));
		return false;
	}
	if (cred.uid == 0 || cred.uid == geteuid())
		return true;
	tt_log_ratelimited(TT_LOG_WARN, "rpc", "%s: client refused: uid %u (pid %d) is neither root "
			   "nor the daemon's user", rpc.path, (unsigned)cred.uid, (int)cred.pid);
	return false;
}

static void listener_ready(struct tt_watch *w, uint32_t events)
{
	(void)w;
	(void)events;
	for (;;) {
		struct rpc_client *c;
		int fd = accept4(rpc.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				tt_warn("rpc", "accept on %s: %s", rpc.path, strerror(errno));
			return;
		}
		if (!peer_allowed(fd)) {
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			tt_warn("rpc", "out of memory for a client of %s", rpc.path);
			return;
		}
		c->fd = fd;
		c->id = ++rpc.next_id;
		tt_list_init(&c->node);
		if (tt_watch_add(rpc.loop, &c->watch, fd, EPOLLIN | EPOLLRDHUP, client_ready) < 0) {
			close(fd);
			free(c);
			continue;
		}
		tt_list_add_tail(&rpc.clients, &c->node);
		tt_debug("rpc", "client %u connected", c->id);
	}
}

/* --- socket ---------------------------------------------------------------------------------- */

static void run_shutdown(struct tt_work *w)
{
	(void)w;
	tt_notice("rpc", "shutdown requested on the control socket");
	if (rpc.shutdown_cb)
		rpc.shutdown_cb();
}

void tt_rpc_request_shutdown(void)
{
	if (rpc.listening)
		tt_work_queue(&rpc.shutdown);
	else if (rpc.shutdown_cb)
		rpc.shutdown_cb();
}

void tt_rpc_set_shutdown_cb(void (*cb)(void))
{
	rpc.shutdown_cb = cb;
}

const char *tt_rpc_socket_path(void)
{
	return rpc.listening ? rpc.path : NULL;
}

/* True when a daemon answers on @sun. */
static bool socket_alive(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool alive;

	if (fd < 0)
		return false;
	alive = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	return alive;
}

int tt_rpc_start(struct tt_loop *loop, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, rc;

	if (rpc.listening) {
		snprintf(err, errlen, "control socket already listening on %s", rpc.path);
		return -EALREADY;
	}
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "control socket path \"%s\" is too long (at most %zu bytes)",
			 path, sizeof(sun.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a socket", path);
			return -EEXIST;
		}
		if (socket_alive(&sun)) {
			snprintf(err, errlen, "%s: another daemon is listening there", path);
			return -EADDRINUSE;
		}
		unlink(path); /* stale, from a daemon that died */
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "socket: %s", strerror(-rc));
		return rc;
	}
	/* owner-only from the moment it exists: the socket's mode is given before bind creates the
	 * file (Linux creates it with the socket inode's mode, less the umask), never fixed after */
	if (fchmod(fd, 0600) < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		rc = -errno;
		snprintf(err, errlen, "bind %s: %s", path, strerror(-rc));
		close(fd);
		return rc;
	}
	if (listen(fd, 64) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		close(fd);
		unlink(path);
		return rc;
	}
	rpc.loop = loop;
	rpc.fd = fd;
	snprintf(rpc.path, sizeof(rpc.path), "%s", path);
	tt_list_init(&rpc.clients);
	tt_list_init(&rpc.dead);
	tt_work_init(&rpc.reap, loop, reap_clients);
	tt_work_init(&rpc.shutdown, loop, run_shutdown);
	rc = tt_watch_add(loop, &rpc.watch, fd, EPOLLIN, listener_ready);
	if (rc < 0) {
		snprintf(err, errlen, "%s: cannot watch the socket: %s", path, strerror(-rc));
		close(fd);
		unlink(path);
		rpc.fd = -1;
		return rc;
	}
	rpc.listening = true;
	tt_notice("rpc", "control socket listening on %s", path);
	return 0;
}

void tt_rpc_stop(void)
{
	struct tt_list *n, *tmp;

	if (!rpc.listening)
		return;
	tt_watch_del(&rpc.watch);
	close(rpc.fd);
	rpc.fd = -1;
	unlink(rpc.path);
	tt_list_for_each_safe(n, tmp, &rpc.clients) {
		struct rpc_client *c = tt_list_entry(n, struct rpc_client, node);

		client_flush(c); /* best effort: the reply to "shutdown" */
		client_close(c);
	}
	tt_work_cancel(&rpc.reap);
	tt_work_cancel(&rpc.shutdown);
	reap_clients(NULL);
	rpc.listening = false;
	rpc.loop = NULL;
}
