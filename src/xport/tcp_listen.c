/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Listening TCP sockets. A listener lives on the loop that created it (loop 0); each accepted
 * connection is given to the next loop (round robin) and handed there to the listener's core
 * (core->accepted), which decides at login which target it is for.
 *
 * The shared listener (struct tt_listener, listener.c) keeps a struct tcp_listener in
 * xport_priv while it listens.
 */
#include "xport/tcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"

#define ACCEPT_BUDGET 64        /* accepts per wakeup */
#define ACCEPT_PAUSE_MS 100     /* out of file descriptors or memory: try again later */

struct tcp_listener {
	struct tt_listener *listener;
	char name[TT_PORTAL_ADDR_MAX];   /* the portal's address, for logs */
	int fd;
	struct tt_watch watch;
	struct tt_timer pause_timer;
	bool starved;                   /* accept failed for lack of resources (logged once) */
};

static uint64_t conn_ids; /* atomic: connection ids for logs */

/* Runs on the connection's loop. */
static void tcp_conn_handoff(void *arg)
{
	struct tt_tcp_conn *tc = arg;

	if (tc->conn.core->accepted(&tc->conn) < 0)
		tt_tcp_conn_free(tc);
}

static void tcp_accepted(struct tcp_listener *l, int fd, const struct sockaddr_storage *peer)
{
	struct sockaddr_storage local;
	socklen_t llen = sizeof(local);
	char peer_str[80];
	struct tt_tcp_conn *tc;
	struct tt_loop *loop;
	int one = 1, rc;

	tt_sockaddr_format(peer, peer_str, sizeof(peer_str));
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		tt_debug("tcp", "%s: TCP_NODELAY: %s", peer_str, strerror(errno));
	if (getsockname(fd, (struct sockaddr *)&local, &llen) < 0) {
		tt_log_ratelimited(TT_LOG_WARN, "tcp", "%s: getsockname: %s", peer_str, strerror(errno));
		close(fd);
		return;
	}
	loop = tt_loops_next();
	tc = tt_tcp_conn_alloc(fd, loop);
	if (!tc) {
		tt_log_ratelimited(TT_LOG_WARN, "tcp", "%s: out of memory, connection refused", peer_str);
		close(fd);
		return;
	}
	tc->conn.ops = &tt_xport_tcp;
	tc->conn.core = l->listener->core;
	tc->conn.loop = loop;
	tc->conn.listener = l->listener;
	tt_listener_get(l->listener); /* dropped when the connection is freed */
	tc->conn.id = __atomic_add_fetch(&conn_ids, 1, __ATOMIC_RELAXED);
	snprintf(tc->conn.peer, sizeof(tc->conn.peer), "%s", peer_str);
	tt_sockaddr_format(&local, tc->conn.local, sizeof(tc->conn.local));
	tc->conn.local_addr = local;
	tc->conn.peer_addr = *peer;
	tt_debug("tcp", "conn %llu %s: accepted on %s, loop %u", (unsigned long long)tc->conn.id,
		 tc->conn.peer, tc->conn.local, tt_loop_index(loop));
	rc = tt_loop_send(loop, tcp_conn_handoff, tc);
	if (rc < 0) {
		/* it never reached its loop: the core never saw it */
		tt_log_ratelimited(TT_LOG_WARN, "tcp", "%s: cannot hand the connection over: %s", peer_str,
				   strerror(-rc));
		tt_tcp_conn_free(tc);
	}
}

static void tcp_listener_pause(struct tcp_listener *l)
{
	tt_watch_mod(&l->watch, 0);
	tt_timer_arm_ms(&l->pause_timer, ACCEPT_PAUSE_MS);
}

static void tcp_listener_ready(struct tt_watch *w, uint32_t events);

static void tcp_listener_resume(struct tt_timer *t)
{
	struct tcp_listener *l = tt_container_of(t, struct tcp_listener, pause_timer);
	int rc = tt_watch_mod(&l->watch, EPOLLIN);

	if (rc < 0) {
		tt_log_ratelimited(TT_LOG_ERR, "tcp", "%s: cannot watch the listener: %s",
				   l->name, strerror(-rc));
		tt_timer_arm_ms(&l->pause_timer, ACCEPT_PAUSE_MS);
		return;
	}
	/* try now: tells whether descriptors are available again */
	tcp_listener_ready(&l->watch, EPOLLIN);
}

static void tcp_listener_ready(struct tt_watch *w, uint32_t events)
{
	struct tcp_listener *l = tt_container_of(w, struct tcp_listener, watch);

	(void)events;
	for (int i = 0; i < ACCEPT_BUDGET; i++) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		int fd = accept4(l->fd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0) {
			tcp_accepted(l, fd, &peer);
			continue;
		}
		switch (errno) {
		case EAGAIN:
#if EWOULDBLOCK != EAGAIN
		case EWOULDBLOCK:
#endif
			/* (accept reserves a descriptor before it looks at the queue) */
			if (l->starved) {
				l->starved = false;
				tt_notice("tcp", "%s: accepting again", l->name);
			}
			return;
		case EINTR:
		case ECONNABORTED:
		/* errors of the pending connection, not of the listener (accept(2)) */
		case EPROTO:
		case ENOPROTOOPT:
		case ENETDOWN:
		case ENETUNREACH:
		case EHOSTDOWN:
		case EHOSTUNREACH:
		case ENONET:
		case EOPNOTSUPP:
		case EPERM:
			continue;
		case EMFILE:
		case ENFILE:
		case ENOBUFS:
		case ENOMEM:
			if (!l->starved)
				tt_log_ratelimited(TT_LOG_WARN, "tcp", "%s: accept: %s; retrying every %d ms",
						   l->name, strerror(errno), ACCEPT_PAUSE_MS);
			l->starved = true;
			tcp_listener_pause(l);
			return;
		default:
			tt_log_ratelimited(TT_LOG_ERR, "tcp", "%s: accept: %s", l->name,
					   strerror(errno));
			tcp_listener_pause(l);
			return;
		}
	}
}

int tt_tcp_listen(struct tt_listener *listener)
{
	const struct sockaddr_storage *addr = &listener->addr.ss;
	int family = addr->ss_family;
	struct tt_loop *loop = tt_loop_current();
	socklen_t addrlen = listener->addr.sslen;
	struct tcp_listener *l;
	int one = 1, rc;

	if (!loop)
		loop = tt_loops_get(0);
	if (!loop)
		return -EINVAL;
	if (family == AF_INET && (!addrlen || addrlen > sizeof(struct sockaddr_in)))
		addrlen = sizeof(struct sockaddr_in);
	else if (family == AF_INET6 && (!addrlen || addrlen > sizeof(struct sockaddr_in6)))
		addrlen = sizeof(struct sockaddr_in6);
	else if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;

	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->listener = listener;
	snprintf(l->name, sizeof(l->name), "%s", listener->name);
	l->watch.fd = -1;
	tt_timer_init(&l->pause_timer, loop, tcp_listener_resume);
	l->fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	if (l->fd < 0) {
		rc = -errno;
		goto fail;
	}
	if (setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) {
		rc = -errno;
		goto fail;
	}
	if (family == AF_INET6 && setsockopt(l->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) {
		rc = -errno;
		goto fail;
	}
	if (bind(l->fd, (const struct sockaddr *)addr, addrlen) < 0) {
		/* -EADDRNOTAVAIL: not on the host (yet); the caller retries */
		rc = -errno;
		goto fail;
	}
	if (listen(l->fd, TT_TCP_LISTEN_BACKLOG) < 0) {
		rc = -errno;
		goto fail;
	}
	rc = tt_watch_add(loop, &l->watch, l->fd, EPOLLIN, tcp_listener_ready);
	if (rc < 0)
		goto fail;
	tt_info("tcp", "listening on %s", l->name);
	listener->xport_priv = l;
	return 0;
fail:
	tt_debug("tcp", "%s: cannot listen: %s", l->name, strerror(-rc));
	if (l->fd >= 0)
		close(l->fd);
	free(l);
	return rc;
}

void tt_tcp_unlisten(struct tt_listener *tl)
{
	struct tcp_listener *l = tl ? tl->xport_priv : NULL;

	if (!l)
		return;
	tl->xport_priv = NULL;
	tt_watch_del(&l->watch);
	tt_timer_cancel(&l->pause_timer);
	close(l->fd);
	tt_info("tcp", "stopped listening on %s", l->name);
	free(l);
}
