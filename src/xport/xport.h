/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Transports, as seen by the iSCSI target core. The operations speak in PDUs and tasks, never in
 * bytes, so that a transport without a byte stream fits in:
 *
 *   op              TCP                                   iSER (RDMA)
 *   listen          bind + listen on a socket             rdma_cm listen on the address
 *   conn_start      read the socket                       post receive buffers ahead
 *   queue_pdu       append to the socket send queue       SEND from a registered buffer
 *   queue_data_in   Data-In PDUs cut from the task's      RDMA WRITE of the task's buffer, then
 *                   buffer (status collapsed into the     the SCSI Response as a SEND
 *                   last one when it can be)
 *   get_data_out    R2Ts for what was not sent            RDMA READ of the initiator's buffer
 *                   unsolicited; Data-Out lands in the    into the task's buffer; no R2T
 *                   task's buffer
 *   apply_params    digests, MaxRecvDataSegmentLength     resize receive buffers (iSER keys)
 *   shutdown        shutdown(2): no wait for the peer     rdma_disconnect: no wait for the CM
 *   release         close the fd, free                    free after the QP is drained
 *
 * A PDU is finished when the transport frees it with tt_pdu_free() (TCP: written to the socket or
 * dropped at shutdown; iSER: its send completion), never earlier: only then may its memory, and
 * the task buffer it points into, go. tt_pdu_free() runs the PDU's sent hook; transports do not
 * call it themselves.
 * Unimplemented ops point to tt_xport_nosupp_*(), which return -EOPNOTSUPP: the core never tests
 * an op for NULL.
 */
#ifndef TT_XPORT_XPORT_H
#define TT_XPORT_XPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct tt_conn;
struct tt_pdu;
struct tt_task;
struct tt_portal;
struct tt_listener;
struct tt_loop;

struct tt_xport_ops {
	const char *name;
	/* Bind and listen on @portal's address; accepted connections go to tt_conn_accepted().
	 * -EADDRNOTAVAIL: the address is not on the host (yet); the caller retries. */
	int (*listen)(struct tt_portal *portal, struct tt_listener **out);
	void (*unlisten)(struct tt_listener *l);
	/* Start receiving on the connection's loop. */
	int (*conn_start)(struct tt_conn *conn);
	/* Queue one PDU (header, AHS and data segment prepared by the core; digests and padding
	 * are the transport's). */
	int (*queue_pdu)(struct tt_conn *conn, struct tt_pdu *pdu);
	/* Send task->data_len bytes of task->buf to the initiator (and the status with them when
	 * tt_task_status_collapsible() says so; otherwise the core queues a SCSI Response after). */
	int (*queue_data_in)(struct tt_conn *conn, struct tt_task *task);
	/* Fetch the rest of a write's data (what immediate and unsolicited data did not bring);
	 * the data arrives as Data-Out PDUs (tt_conn_rx_header/tt_conn_rx_pdu) or, with RDMA, by a read
	 * whose completion hands the task back to the core. */
	int (*get_data_out)(struct tt_conn *conn, struct tt_task *task);
	/* Negotiated parameters changed (end of login): digests and segment sizes. */
	int (*apply_params)(struct tt_conn *conn);
	/* Stop all I/O now; does not wait for the peer. tt_conn_xport_closed() follows. */
	void (*shutdown)(struct tt_conn *conn);
	/* The connection's last reference is gone: free the transport's part (and the conn). */
	void (*release)(struct tt_conn *conn);
	/* Keepalive budget: the kernel must give up on a silent peer within @ms. */
	int (*set_timeout)(struct tt_conn *conn, unsigned ms);
};

int tt_xport_nosupp_data_in(struct tt_conn *conn, struct tt_task *task);
int tt_xport_nosupp_timeout(struct tt_conn *conn, unsigned ms);

/* Registered transports ("tcp"). */
const struct tt_xport_ops *tt_xport_find(const char *name);
extern const struct tt_xport_ops tt_xport_tcp;

/* ---- what a transport calls in the core (src/target) ---- */

/* A connection was accepted on @portal; the transport has allocated @conn with tt_conn_init()
 * on loop @loop. The core starts it on that loop. */
void tt_conn_accepted(struct tt_conn *conn);
/* A PDU's BHS (and AHS, header digest checked) arrived. The core validates it and sets where
 * the data segment goes (pdu->data, pdu->data_len): into a task's buffer for Data-Out and
 * immediate data. Returns 0, or -EPROTO to drop the connection (the core has logged why). */
int tt_conn_rx_header(struct tt_conn *conn, struct tt_pdu *pdu);
/* The whole PDU arrived; @data_digest_ok is false when the data digest did not match. */
void tt_conn_rx_pdu(struct tt_conn *conn, struct tt_pdu *pdu, bool data_digest_ok);
/* A header digest did not match: the PDU's length cannot be trusted (the core drops the conn). */
void tt_conn_rx_header_digest_error(struct tt_conn *conn);
/* The transport is down (peer closed, reset, timeout, shutdown done): @err is 0 or -errno. */
void tt_conn_xport_closed(struct tt_conn *conn, int err);

#endif
