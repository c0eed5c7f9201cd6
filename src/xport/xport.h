/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * iSCSI transports, between the shared listeners below them and the iSCSI target core above.
 * The operations speak in PDUs and tasks, never in bytes, so that a transport without a byte
 * stream fits in:
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
 *   buf_alloc/free  the loop's buffer pool                registered memory of the device
 *   login_policy    nothing to change                     digests off, RDMAExtensions=Yes
 *   apply_params    digests, MaxRecvDataSegmentLength     resize receive buffers (iSER keys)
 *   shutdown        shutdown(2): no wait for the peer     rdma_disconnect: no wait for the CM
 *   release         close the fd, free                    free after the QP is drained
 *
 * Layering: this layer knows the iSCSI codecs (src/iscsi) and the base layer, never the target
 * core. The core gives each listener a table of entry points (struct tt_xport_core); the
 * transport reaches the core only through it, with the objects defined here: the transport's
 * connection (struct tt_xconn) and the transport's view of a task (struct tt_xtask), which the
 * core embeds in its own objects.
 *
 * Ownership rules:
 *   - queue_pdu always takes the PDU, whether it returns 0 or an error: the transport frees it
 *     with tt_pdu_free() once it is finished with it (TCP: written to the socket or dropped at
 *     shutdown; iSER: its send completion), never earlier: only then may its memory, and the
 *     task buffer it points into, go. tt_pdu_free() drops the PDU's reference on the task and
 *     runs its sent hook; transports do not call either themselves.
 *   - a transport holds a task reference (core->task_get / core->task_put) for as long as an
 *     operation on the task's buffer is posted (an RDMA READ or WRITE), and hands the write data
 *     to the core with core->data_out_done() once it has all arrived.
 *   - the task buffer comes from buf_alloc() of the connection's transport and goes back with
 *     buf_free() on the same loop, so a transport can hand out registered memory.
 * Unimplemented ops point to tt_xport_nosupp_*(), which return -EOPNOTSUPP: the core never tests
 * an op for NULL.
 */
#ifndef TT_XPORT_XPORT_H
#define TT_XPORT_XPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "iscsi/params.h"
#include "iscsi/pdu.h"

struct tt_loop;
struct tt_listener;
struct tt_xconn;
struct tt_xtask;

/* What a transport calls in its core: given with each listener (tt_listener_acquire). */
struct tt_xport_core {
	/* A connection accepted on @xc->listener, called on @xc->loop, which owns it from now on.
	 * The core sets xc->upper. Returns 0, or -errno: the transport frees the connection. */
	int (*accepted)(struct tt_xconn *xc);
	/* A PDU's BHS (and AHS, header digest checked) arrived. The core validates it and sets where
	 * the data segment goes (pdu->data, pdu->data_len): into a task's buffer for Data-Out and
	 * immediate data. Returns 0, or -EPROTO to drop the connection (the core has logged why). */
	int (*rx_header)(struct tt_xconn *xc, struct tt_pdu *pdu);
	/* The whole PDU arrived; @data_digest_ok is false when the data digest did not match. The
	 * core takes the PDU. */
	void (*rx_pdu)(struct tt_xconn *xc, struct tt_pdu *pdu, bool data_digest_ok);
	/* A header digest did not match: the PDU's length cannot be trusted (the core drops xc). */
	void (*rx_header_digest_error)(struct tt_xconn *xc);
	/* The transport is down (peer closed, reset, timeout, shutdown done): @err is 0 or -errno.
	 * Called once; the core calls ops->release when its last reference goes. */
	void (*closed)(struct tt_xconn *xc, int err);

	/* Queue a PDU built by the core's builders below, with the connection's sequence numbers
	 * (StatSN, ExpCmdSN, MaxCmdSN) filled in; takes the PDU. */
	int (*send)(struct tt_xconn *xc, struct tt_pdu *pdu);
	/* Data-In for [offset, offset + len) of the task's buffer; @final ends a sequence, @status
	 * carries the status and residuals. The PDU holds a task reference. NULL: out of memory. */
	struct tt_pdu *(*build_data_in)(struct tt_xtask *t, uint32_t offset, uint32_t len,
					bool final, bool status);
	/* An R2T for [offset, offset + len). NULL: out of memory. */
	struct tt_pdu *(*build_r2t)(struct tt_xtask *t, uint32_t offset, uint32_t len);
	/* All read data (and the status, when @status_sent) has been queued. */
	void (*data_in_queued)(struct tt_xtask *t, bool status_sent);
	/* The write data of the task has arrived in its buffer (Data-Out PDUs, or an RDMA READ
	 * completion): @err 0, or -errno when it could not be fetched (the command fails). */
	void (*data_out_done)(struct tt_xtask *t, int err);
	/* Task references held by the transport while an operation on the buffer is posted. */
	void (*task_get)(struct tt_xtask *t);
	void (*task_put)(struct tt_xtask *t);
};

/*
 * A transport connection: the first member of the transport's own object (container_of). The
 * transport allocates it when it accepts, the core's accepted() attaches its connection
 * (upper), and release frees it once the core's connection has gone.
 */
struct tt_xconn {
	const struct tt_xport_ops *ops;
	const struct tt_xport_core *core;
	void *upper;                  /* the core's connection */
	struct tt_loop *loop;         /* the owning loop, after the hand-off */
	struct tt_listener *listener; /* a reference (tt_listener_get) until release */
	uint64_t id;                  /* unique, for logs */
	char peer[80], local[80];     /* "addr:port" for logs and the control socket */
	struct sockaddr_storage local_addr;
	struct sockaddr_storage peer_addr; /* for the limits of one peer address */
};

/* Data-movement parameters in force on a connection (end of login, apply_params). */
struct tt_xport_params {
	bool header_digest, data_digest;
	uint32_t max_xmit_dsl;        /* the initiator's MaxRecvDataSegmentLength */
	uint32_t max_burst;
	uint32_t max_outstanding_r2t;
};

/*
 * The transport's view of a task (the core's task embeds it). The core fills the identity and
 * the lengths; the transport keeps its bookkeeping here.
 */
struct tt_xtask {
	struct tt_xconn *xc;
	uint32_t itt;
	uint32_t ttt;                 /* for R2Ts */
	uint8_t lun[8];
	uint8_t *buf;                 /* from ops->buf_alloc, buf_len bytes */
	uint32_t buf_len;
	uint32_t edtl;                /* expected data transfer length */
	uint32_t data_in_len;         /* read data to send (queue_data_in) */
	bool status_collapsible;      /* the status may ride in the last Data-In */
	/* Data-In and R2T sequence numbers, and the solicited window of a write */
	uint32_t data_sn;
	uint32_t r2t_sn;
	uint32_t r2t_offset;          /* next offset to solicit */
	uint32_t r2t_outstanding;
	/* the transport's own area: remote keys and addresses (iSER), ... */
	uint64_t area[4];
};

struct tt_xport_ops {
	const char *name;             /* "tcp" */
	/* Listen on @l's address; set l->xport_priv. Accepted connections go to l->core.
	 * -EADDRNOTAVAIL: the address is not on the host (yet); the listener layer retries. */
	int (*listen)(struct tt_listener *l);
	void (*unlisten)(struct tt_listener *l);
	/* Start receiving on the connection's loop. */
	int (*conn_start)(struct tt_xconn *xc);
	/* Queue one PDU (header, AHS and data segment prepared by the core; digests and padding
	 * are the transport's). Takes the PDU, even on error. */
	int (*queue_pdu)(struct tt_xconn *xc, struct tt_pdu *pdu);
	/* Send t->data_in_len bytes of t->buf to the initiator, and the status with them when
	 * t->status_collapsible; core->data_in_queued() says whether it did. */
	int (*queue_data_in)(struct tt_xconn *xc, struct tt_xtask *t);
	/* Fetch the rest of a write's data, from t->r2t_offset on (what immediate and unsolicited
	 * data did not bring): TCP solicits it with R2Ts and the core receives the Data-Out PDUs;
	 * RDMA reads it and calls core->data_out_done(). */
	int (*get_data_out)(struct tt_xconn *xc, struct tt_xtask *t);
	/* A task buffer of at least @len bytes (*cap: its real size) for the connection, or NULL. */
	void *(*buf_alloc)(struct tt_xconn *xc, size_t len, size_t *cap);
	void (*buf_free)(struct tt_xconn *xc, void *buf, size_t cap);
	/* What this transport needs of a login negotiation (iSER: digests off, RDMAExtensions). */
	void (*login_policy)(struct tt_xconn *xc, struct tt_params_policy *pol);
	/* Negotiated parameters changed (end of login). */
	int (*apply_params)(struct tt_xconn *xc, const struct tt_xport_params *p);
	/* Stop all I/O now; does not wait for the peer. core->closed() follows. */
	void (*shutdown)(struct tt_xconn *xc);
	/* The core's last reference is gone: free the transport's connection. */
	void (*release)(struct tt_xconn *xc);
	/* Keepalive budget: the kernel must give up on a silent peer within @ms. */
	int (*set_timeout)(struct tt_xconn *xc, unsigned ms);
};

/* Stubs for what a transport does not implement. */
int tt_xport_nosupp_data_in(struct tt_xconn *xc, struct tt_xtask *t);
int tt_xport_nosupp_data_out(struct tt_xconn *xc, struct tt_xtask *t);
int tt_xport_nosupp_timeout(struct tt_xconn *xc, unsigned ms);
int tt_xport_nosupp_params(struct tt_xconn *xc, const struct tt_xport_params *p);
/* For a fabric whose listeners only hand connections elsewhere (no iSCSI connection comes in):
 * conn_start refused, queue_pdu frees the PDU it takes and refuses, shutdown/release do nothing. */
int tt_xport_nosupp_start(struct tt_xconn *xc);
int tt_xport_nosupp_pdu(struct tt_xconn *xc, struct tt_pdu *pdu);
void tt_xport_nosupp_conn(struct tt_xconn *xc);
void tt_xport_keep_policy(struct tt_xconn *xc, struct tt_params_policy *pol);
/* Task buffers from the calling loop's buffer pool (transports without registered memory). */
void *tt_xport_pool_buf_alloc(struct tt_xconn *xc, size_t len, size_t *cap);
void tt_xport_pool_buf_free(struct tt_xconn *xc, void *buf, size_t cap);

/* The table of such a fabric: its name, listen and unlisten; every other op a stub above. */
#define TT_XPORT_LISTEN_ONLY(n, listen_fn, unlisten_fn)                                       \
	{                                                                                      \
		.name = (n), .listen = (listen_fn), .unlisten = (unlisten_fn),                 \
		.conn_start = tt_xport_nosupp_start, .queue_pdu = tt_xport_nosupp_pdu,         \
		.queue_data_in = tt_xport_nosupp_data_in,                                      \
		.get_data_out = tt_xport_nosupp_data_out,                                      \
		.buf_alloc = tt_xport_pool_buf_alloc, .buf_free = tt_xport_pool_buf_free,      \
		.login_policy = tt_xport_keep_policy, .apply_params = tt_xport_nosupp_params,  \
		.shutdown = tt_xport_nosupp_conn, .release = tt_xport_nosupp_conn,             \
		.set_timeout = tt_xport_nosupp_timeout,                                        \
	}

/* True when every op of @ops is set (stubs included): a transport is registered only then. */
bool tt_xport_ops_complete(const struct tt_xport_ops *ops);

/* For transports whose data travels in PDUs (TCP): cut t->data_in_len bytes of read data into
 * Data-In PDUs (@p: segment size, burst, status collapse), and send R2Ts for a write's missing
 * data (MaxOutstandingR2T, MaxBurstLength), through the core's builders and send. */
int tt_xport_pdu_data_in(struct tt_xconn *xc, struct tt_xtask *t, const struct tt_xport_params *p);
int tt_xport_pdu_r2ts(struct tt_xconn *xc, struct tt_xtask *t, const struct tt_xport_params *p);

/* The transports, by name ("tcp"). */
const struct tt_xport_ops *tt_xport_find(const char *name);
extern const struct tt_xport_ops tt_xport_tcp;

#endif
