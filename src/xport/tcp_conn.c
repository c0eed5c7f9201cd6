/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * iSCSI over TCP: the ops table and the connection's lifecycle (see tcp.h). Receiving is in
 * tcp_rx.c, sending in tcp_tx.c, listening in tcp_listen.c.
 */
#include "xport/tcp.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"

static int tcp_conn_start(struct tt_xconn *conn);
static int tcp_apply_params(struct tt_xconn *conn, const struct tt_xport_params *p);
static void tcp_shutdown(struct tt_xconn *conn);
static void tcp_release(struct tt_xconn *conn);
static int tcp_set_timeout(struct tt_xconn *conn, unsigned ms);

const struct tt_xport_ops tt_xport_tcp = {
	.name = "tcp",
	.listen = tt_tcp_listen,
	.unlisten = tt_tcp_unlisten,
	.conn_start = tcp_conn_start,
	.queue_pdu = tt_tcp_queue_pdu,
	.queue_data_in = tt_tcp_queue_data_in,
	.get_data_out = tt_tcp_get_data_out,
	.buf_alloc = tt_xport_pool_buf_alloc,
	.buf_free = tt_xport_pool_buf_free,
	.login_policy = tt_xport_keep_policy,
	.apply_params = tcp_apply_params,
	.shutdown = tcp_shutdown,
	.release = tcp_release,
	.set_timeout = tcp_set_timeout,
};

static const char *const state_names[TT_TCP_CONN_STATE_COUNT] = {
	[TT_TCP_CONN_ACCEPTED] = "accepted",
	[TT_TCP_CONN_RUNNING] = "running",
	[TT_TCP_CONN_DOWN] = "down",
	[TT_TCP_CONN_CLOSED] = "closed",
};

const char *tt_tcp_conn_state_name(enum tt_tcp_conn_state s)
{
	return (unsigned)s < TT_TCP_CONN_STATE_COUNT ? state_names[s] : "?";
}

static void tcp_conn_closed_work(struct tt_work *w)
{
	struct tt_tcp_conn *tc = tt_container_of(w, struct tt_tcp_conn, closed_work);

	tt_tcp_conn_set_state(tc, TT_TCP_CONN_CLOSED);
	/* drops the transport's reference: tc may be released from here on */
	tc->conn.core->closed(&tc->conn, tc->err);
}

struct tt_tcp_conn *tt_tcp_conn_alloc(int fd, struct tt_loop *loop)
{
	struct tt_tcp_conn *tc = calloc(1, sizeof(*tc));

	if (!tc)
		return NULL;
	tc->rbuf = malloc(TT_TCP_RX_BUF_LEN);
	if (!tc->rbuf) {
		free(tc);
		return NULL;
	}
	tc->fd = fd;
	tc->watch.fd = -1;
	tc->state = TT_TCP_CONN_ACCEPTED;
	tt_work_init(&tc->closed_work, loop, tcp_conn_closed_work);
	tt_tcp_rx_init(tc, loop);
	tt_tcp_tx_init(tc, loop);
	return tc;
}

void tt_tcp_conn_free(struct tt_tcp_conn *tc)
{
	if (tc->conn.listener)
		tt_listener_put(tc->conn.listener);
	if (tc->fd >= 0)
		close(tc->fd);
	free(tc->rbuf);
	free(tc);
}

/* Everything that stops I/O; idempotent. */
static void tcp_conn_stop_io(struct tt_tcp_conn *tc)
{
	tt_watch_del(&tc->watch);
	tt_work_cancel(&tc->rx_work);
	tt_work_cancel(&tc->tx_work);
	tc->tx_blocked = false;
	tt_tcp_rx_drop(tc);
	/* queued PDUs may hold task references: freeing them drops those */
	tt_tcp_tx_drop(tc);
}

int tt_tcp_conn_set_state(struct tt_tcp_conn *tc, enum tt_tcp_conn_state to)
{
	enum tt_tcp_conn_state from = tc->state;
	bool ok;

	switch (to) {
	case TT_TCP_CONN_RUNNING:
		ok = from == TT_TCP_CONN_ACCEPTED;
		break;
	case TT_TCP_CONN_DOWN:
		ok = from == TT_TCP_CONN_ACCEPTED || from == TT_TCP_CONN_RUNNING;
		break;
	case TT_TCP_CONN_CLOSED:
		ok = from == TT_TCP_CONN_DOWN;
		break;
	default:
		ok = false;
		break;
	}
	if (!ok) {
		tt_err("tcp", "conn %llu %s: no transition %s -> %s", (unsigned long long)tc->conn.id,
		       tc->conn.peer, tt_tcp_conn_state_name(from), tt_tcp_conn_state_name(to));
		return -EINVAL;
	}
	tc->state = to;
	tt_debug("tcp", "conn %llu %s: %s -> %s", (unsigned long long)tc->conn.id, tc->conn.peer,
		 tt_tcp_conn_state_name(from), tt_tcp_conn_state_name(to));

	switch (to) {
	case TT_TCP_CONN_DOWN:
		/* no wait for the peer: whatever the kernel holds still goes out, then FIN */
		if (shutdown(tc->fd, SHUT_RDWR) < 0 && errno != ENOTCONN)
			tt_debug("tcp", "conn %llu %s: shutdown: %s", (unsigned long long)tc->conn.id,
				 tc->conn.peer, strerror(errno));
		tcp_conn_stop_io(tc);
		/* never inline: the caller may be the core itself */
		tt_work_queue(&tc->closed_work);
		break;
	default:
		break;
	}
	return 0;
}

void tt_tcp_conn_down(struct tt_tcp_conn *tc, int err, const char *why)
{
	if (tc->state != TT_TCP_CONN_ACCEPTED && tc->state != TT_TCP_CONN_RUNNING) {
		if (tc->state == TT_TCP_CONN_DOWN && !tc->err)
			tc->err = err;
		return;
	}
	tc->err = err;
	if (why)
		tt_log_ratelimited(TT_LOG_NOTICE, "tcp", "conn %llu %s: %s: %s", (unsigned long long)tc->conn.id,
				   tc->conn.peer, why, strerror(-err));
	tt_tcp_conn_set_state(tc, TT_TCP_CONN_DOWN);
}

static int tcp_socket_error(struct tt_tcp_conn *tc)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(tc->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return -errno;
	return err ? -err : -ECONNRESET;
}

void tt_tcp_conn_update_events(struct tt_tcp_conn *tc)
{
	uint32_t events = 0;
	int rc;

	if (tc->state != TT_TCP_CONN_RUNNING)
		return;
	if (tc->rx_st != TT_TCP_RX_STOPPED)
		events |= EPOLLIN;
	if (tc->tx_blocked)
		events |= EPOLLOUT;
	rc = tt_watch_mod(&tc->watch, events);
	if (rc < 0)
		tt_tcp_conn_down(tc, rc, "epoll");
}

static void tcp_conn_ready(struct tt_watch *w, uint32_t events)
{
	struct tt_tcp_conn *tc = tt_container_of(w, struct tt_tcp_conn, watch);

	/* the watch may have been removed earlier in this batch of events */
	if (tc->state != TT_TCP_CONN_RUNNING)
		return;
	if (events & EPOLLOUT)
		tt_tcp_tx_flush(tc);
	if (tc->state != TT_TCP_CONN_RUNNING)
		return;
	if (tc->rx_st == TT_TCP_RX_STOPPED) {
		if (events & (EPOLLERR | EPOLLHUP))
			tt_tcp_conn_down(tc, tcp_socket_error(tc), "socket error");
		return;
	}
	/* after a yield, the queued work resumes reading */
	if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP)) && !tt_list_linked(&tc->rx_work.node))
		tt_tcp_rx_run(tc);
}

static int tcp_conn_start(struct tt_xconn *conn)
{
	struct tt_tcp_conn *tc = tt_tcp_conn_of(conn);
	int rc;

	if (tc->state != TT_TCP_CONN_ACCEPTED)
		return -ENOTCONN;
	rc = tt_watch_add(conn->loop, &tc->watch, tc->fd, EPOLLIN, tcp_conn_ready);
	if (rc < 0) {
		tt_err("tcp", "conn %llu %s: cannot watch the socket: %s", (unsigned long long)conn->id,
		       conn->peer, strerror(-rc));
		return rc;
	}
	tt_tcp_conn_set_state(tc, TT_TCP_CONN_RUNNING);
	if (!tt_list_empty(&tc->txq))
		tt_work_queue(&tc->tx_work);
	return 0;
}

static int tcp_apply_params(struct tt_xconn *conn, const struct tt_xport_params *p)
{
	struct tt_tcp_conn *tc = tt_tcp_conn_of(conn);

	/* from the next PDU on, both ways (a PDU already queued keeps what it was queued with) */
	tc->params = *p;
	tc->hdig = p->header_digest;
	tc->ddig = p->data_digest;
	tt_debug("tcp", "conn %llu %s: header digest %s, data digest %s", (unsigned long long)conn->id,
		 conn->peer, tc->hdig ? "CRC32C" : "None", tc->ddig ? "CRC32C" : "None");
	return 0;
}

static void tcp_shutdown(struct tt_xconn *conn)
{
	tt_tcp_conn_down(tt_tcp_conn_of(conn), 0, NULL);
}

static void tcp_release(struct tt_xconn *conn)
{
	struct tt_tcp_conn *tc = tt_tcp_conn_of(conn);

	if (tc->state != TT_TCP_CONN_CLOSED)
		tt_warn("tcp", "conn %llu %s: released while %s", (unsigned long long)conn->id, conn->peer,
			tt_tcp_conn_state_name(tc->state));
	tcp_conn_stop_io(tc);
	tt_work_cancel(&tc->closed_work);
	tt_tcp_conn_free(tc);
}

static int tcp_setsockopt_int(struct tt_tcp_conn *tc, int level, int name, const char *what, int val)
{
	int rc;

	if (setsockopt(tc->fd, level, name, &val, sizeof(val)) == 0)
		return 0;
	rc = -errno;
	tt_warn("tcp", "conn %llu %s: %s = %d: %s", (unsigned long long)tc->conn.id, tc->conn.peer, what,
		val, strerror(-rc));
	return rc;
}

/*
 * The kernel gives up on a silent peer within @ms: TCP_USER_TIMEOUT bounds unacknowledged
 * data, and keepalive probes (idle ms/3 + 2 probes ms/3 apart) find a peer that went away
 * while nothing was in flight. @ms = 0 restores the kernel's defaults.
 */
static int tcp_set_timeout(struct tt_xconn *conn, unsigned ms)
{
	struct tt_tcp_conn *tc = tt_tcp_conn_of(conn);
	unsigned secs = ms / 3000;
	int rc;

	if (ms > INT32_MAX)
		ms = INT32_MAX;
	if (secs < 1)
		secs = 1;
	if (secs > 32767) /* the kernel's MAX_TCP_KEEPIDLE / MAX_TCP_KEEPINTVL */
		secs = 32767;
	rc = tcp_setsockopt_int(tc, IPPROTO_TCP, TCP_USER_TIMEOUT, "TCP_USER_TIMEOUT", (int)ms);
	if (rc < 0)
		return rc;
	rc = tcp_setsockopt_int(tc, SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE", ms > 0);
	if (rc < 0 || ms == 0)
		return rc;
	rc = tcp_setsockopt_int(tc, IPPROTO_TCP, TCP_KEEPIDLE, "TCP_KEEPIDLE", (int)secs);
	if (rc < 0)
		return rc;
	rc = tcp_setsockopt_int(tc, IPPROTO_TCP, TCP_KEEPINTVL, "TCP_KEEPINTVL", (int)secs);
	if (rc < 0)
		return rc;
	return tcp_setsockopt_int(tc, IPPROTO_TCP, TCP_KEEPCNT, "TCP_KEEPCNT", 2);
}
