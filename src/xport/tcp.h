/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The iSCSI-over-TCP transport, shared between its files:
 *
 *   tcp_listen.c  listening sockets, accept, hand-off of new connections to their loops
 *   tcp_data.c    Data-In PDUs cut from a task's buffer, R2Ts for its write data
 *   tcp_conn.c    the ops table, the connection's lifecycle, keepalive options
 *   tcp_rx.c      the receive parser (staging buffer, PDUs handed to the core)
 *   tcp_tx.c      the send queue (digests at queue time, batched sendmsg)
 *
 * After the hand-off, everything about a connection happens on conn->loop.
 */
#ifndef TT_XPORT_TCP_H
#define TT_XPORT_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/list.h"
#include "base/loop.h"
#include "iscsi/pdu.h"
#include "xport/listener.h"
#include "xport/xport.h"

#define TT_TCP_LISTEN_BACKLOG 1024
#define TT_TCP_RX_BUF_LEN (64u * 1024)       /* staging buffer per connection */
#define TT_TCP_RX_BUDGET_PDUS 64             /* per wakeup, then yield to the other connections */
#define TT_TCP_RX_BUDGET_BYTES (4u << 20)
#define TT_TCP_TX_BUDGET_CALLS 16            /* sendmsg calls per flush, then yield */

/*
 * Lifecycle of the transport's side of a connection; tt_tcp_conn_set_state() is the only writer.
 *
 *   ACCEPTED -> RUNNING -> DOWN -> CLOSED -> (released)
 *       |                   ^
 *       +-------------------+
 *
 *   ACCEPTED  allocated by the listener's loop, on its way to conn->loop (no watch yet)
 *   RUNNING   conn_start done: the socket is watched on conn->loop
 *   DOWN      shut down (by the core, an error or the peer): shutdown(2) done, watch removed,
 *             queued PDUs freed; tt_conn_xport_closed() is queued as deferred work
 *   CLOSED    tt_conn_xport_closed() reported; the core calls release when its last
 *             reference goes (the fd is closed there)
 */
enum tt_tcp_conn_state {
	TT_TCP_CONN_ACCEPTED,
	TT_TCP_CONN_RUNNING,
	TT_TCP_CONN_DOWN,
	TT_TCP_CONN_CLOSED,
	TT_TCP_CONN_STATE_COUNT,
};

/* Where the receive parser is in the current PDU. */
enum tt_tcp_rx_state {
	TT_TCP_RX_BHS,      /* 48 bytes into pdu->raw */
	TT_TCP_RX_AHS,      /* ahs_len * 4 bytes into pdu->ahs */
	TT_TCP_RX_HDIG,     /* header digest, when negotiated */
	TT_TCP_RX_HEADER,   /* the core validates the header and places the data segment */
	TT_TCP_RX_DATA,     /* DataSegmentLength bytes into pdu->data (or discarded) */
	TT_TCP_RX_PAD,      /* 0 to 3 bytes up to a multiple of 4 */
	TT_TCP_RX_DDIG,     /* data digest, when negotiated and the segment is not empty */
	TT_TCP_RX_DELIVER,  /* the core takes the PDU */
	TT_TCP_RX_STOPPED,  /* header digest error: nothing more is read */
};

/*
 * pdu->xmit_done carries, in its two top bits, the digests chosen when the PDU was queued (the
 * settings may change while it waits: the last login response goes out without digests even
 * though it is queued just before the new settings apply). The low bits count the bytes
 * written; a PDU is at most 48 + 1020 + 4 + 2^24 + 3 + 4 bytes long.
 */
#define TT_TCP_TX_HDIG (1u << 31)
#define TT_TCP_TX_DDIG (1u << 30)
#define TT_TCP_TX_DONE_MASK (TT_TCP_TX_DDIG - 1)

/*
 * A TCP connection. Memory: allocated by the listener, freed by release (after the core's
 * connection has gone). The transport's own reference on the core's connection is taken when
 * the core accepts it; it is dropped by core->closed(), reported from closed_work.
 */
struct tt_tcp_conn {
	struct tt_xconn conn;         /* first: the core's view */
	int fd;
	struct tt_watch watch;
	enum tt_tcp_conn_state state;
	int err;                      /* first error seen (0: orderly close or core shutdown) */
	struct tt_work closed_work;   /* reports tt_conn_xport_closed() */

	/* digests in force (apply_params); each PDU latches them when it starts */
	bool hdig, ddig;
	struct tt_xport_params params; /* in force since the end of login */

	/* receive */
	enum tt_tcp_rx_state rx_st;
	uint8_t *rbuf;                /* staging buffer: bytes [rpos, rend) not parsed yet */
	uint32_t rpos, rend;
	struct tt_pdu *rx_pdu;        /* the PDU being received (ours until tt_conn_rx_pdu) */
	uint32_t rx_done;             /* bytes of the current section received */
	uint32_t rx_dlen;             /* DataSegmentLength of rx_pdu */
	bool rx_hdig, rx_ddig;        /* digests of rx_pdu */
	uint32_t rx_crc;              /* running data digest */
	uint8_t rx_digest[4];
	struct tt_work rx_work;       /* resumes parsing after a yield */

	/* send */
	struct tt_list txq;           /* struct tt_pdu.node, in wire order; the head may be partly written */
	struct tt_work tx_work;       /* flush, once per loop pass */
	bool tx_blocked;              /* the socket is full: waiting for EPOLLOUT */
};

static inline struct tt_tcp_conn *tt_tcp_conn_of(struct tt_xconn *conn)
{
	return tt_container_of(conn, struct tt_tcp_conn, conn);
}

/* tcp_listen.c */
int tt_tcp_listen(struct tt_listener *l);
void tt_tcp_unlisten(struct tt_listener *l);

/* tcp_conn.c */
/* A connection for @fd that will run on @loop; NULL when out of memory (the caller closes @fd).
 * Freed by ops->release, or by tt_tcp_conn_free() when it never reached its loop. */
struct tt_tcp_conn *tt_tcp_conn_alloc(int fd, struct tt_loop *loop);
void tt_tcp_conn_free(struct tt_tcp_conn *tc);
int tt_tcp_conn_set_state(struct tt_tcp_conn *tc, enum tt_tcp_conn_state to);
const char *tt_tcp_conn_state_name(enum tt_tcp_conn_state s);
/* Takes the connection down (once; later calls only keep the first error). @why (NULL: already
 * logged, or an orderly close) is logged with @err. */
void tt_tcp_conn_down(struct tt_tcp_conn *tc, int err, const char *why);
/* Recomputes the epoll events from the receive and send states. */
void tt_tcp_conn_update_events(struct tt_tcp_conn *tc);

/* tcp_rx.c */
void tt_tcp_rx_init(struct tt_tcp_conn *tc, struct tt_loop *loop);
/* Reads and parses what the socket has, within the per-wakeup budget. */
void tt_tcp_rx_run(struct tt_tcp_conn *tc);
/* Drops the PDU being received. */
void tt_tcp_rx_drop(struct tt_tcp_conn *tc);

/* tcp_data.c */
int tt_tcp_queue_data_in(struct tt_xconn *conn, struct tt_xtask *t);
int tt_tcp_get_data_out(struct tt_xconn *conn, struct tt_xtask *t);

/* tcp_tx.c */
void tt_tcp_tx_init(struct tt_tcp_conn *tc, struct tt_loop *loop);
int tt_tcp_queue_pdu(struct tt_xconn *conn, struct tt_pdu *pdu);
/* Writes as much of the send queue as the socket takes. */
void tt_tcp_tx_flush(struct tt_tcp_conn *tc);
/* Frees every queued PDU without sending it. */
void tt_tcp_tx_drop(struct tt_tcp_conn *tc);

#endif
