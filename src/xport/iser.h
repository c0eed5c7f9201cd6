/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * iSCSI over RDMA (iSER, RFC 7145), a transport of the iSCSI target on the RDMA layer
 * (src/rdma), shared between its files:
 *
 *   iser_proto.c   wire formats and login rules (no RDMA device needed)
 *   iser_conn.c    the ops table; receive ring, SENDs, RDMA READ and WRITE of task buffers
 *   iser_listen.c  rdma_cm listeners of the shared listeners, connection requests handed to
 *                  their loops
 *
 * The connection's lifecycle is the RDMA connection's (enum tt_rdma_conn_state): the core is
 * told closed when the RDMA connection is CLOSED (every posted work request back), and its
 * release drops the upper reference; the memory goes when the RDMA layer says freed.
 */
#ifndef TT_XPORT_ISER_H
#define TT_XPORT_ISER_H

#include "xport/xport.h"

#ifdef TT_HAVE_RDMA
#include "base/list.h"
#include "rdma/rdma.h"
#include "xport/iser_proto.h"
#include "xport/listener.h"

#define TT_ISER_RX_DEPTH 128   /* receive buffers posted ahead */
#define TT_ISER_TX_DEPTH 128   /* send buffers (iSER header + BHS + AHS + data segment) */
#define TT_ISER_SQ_DEPTH 512   /* SENDs, RDMA READs and WRITEs posted at once */
/* iSER header, BHS, the largest AHS, a data segment of TT_ISER_MAX_RECV_DSL */
#define TT_ISER_MSG_LEN (TT_ISER_HDR_LEN + 48 + 1020 + TT_ISER_MAX_RECV_DSL)

struct tt_iser_rx {
	struct tt_rdma_wr wr;
	struct tt_iser_conn *ic;
	uint8_t *buf;                 /* TT_ISER_MSG_LEN bytes of the receive ring */
};

struct tt_iser_tx {
	struct tt_list node;          /* free list */
	uint8_t *buf;                 /* TT_ISER_MSG_LEN bytes of the send ring */
};

/* A send-side operation, in posting order (an RDMA WRITE of read data goes before the SCSI
 * Response SEND that follows it). */
enum tt_iser_op_kind {
	TT_ISER_SOP_PDU,               /* a PDU as a SEND */
	TT_ISER_SOP_HELLO_REPLY,      /* a HelloReply as a SEND */
	TT_ISER_SOP_READ,              /* RDMA READ of a write's data into the task buffer */
	TT_ISER_SOP_WRITE,             /* RDMA WRITE of read data from the task buffer */
};

struct tt_iser_op {
	struct tt_rdma_wr wr;
	struct tt_list node;          /* ic->pending until posted */
	struct tt_iser_conn *ic;
	enum tt_iser_op_kind kind;
	struct tt_pdu *pdu;           /* PDU: freed at its completion */
	struct tt_iser_tx *tx;        /* PDU, HELLO_REPLY: the send buffer, once posted */
	struct tt_xtask *t;           /* READ, WRITE: a task reference (core->task_get) */
	uint32_t off, len;
	uint64_t raddr;
	uint32_t rkey;
	uint8_t hello[TT_ISER_HELLO_LEN];
};

struct tt_iser_conn {
	struct tt_xconn conn;         /* first: the core's view */
	struct tt_rdma_conn rc;
	bool core_attached;           /* core->accepted took it: tell it closed */
	struct tt_rdma_request req;
	uint8_t *rx_ring, *tx_ring;   /* registered (tt_rdma_buf_get) */
	size_t rx_ring_cap, tx_ring_cap;
	struct tt_iser_rx rx[TT_ISER_RX_DEPTH];
	struct tt_iser_tx tx[TT_ISER_TX_DEPTH];
	struct tt_list tx_free;
	struct tt_list pending;       /* struct tt_iser_op, not posted yet */
	uint32_t sq_used;
	uint32_t max_xmit_dsl;        /* InitiatorRecvDataSegmentLength after login */
	uint16_t max_ord;
};

static inline struct tt_iser_conn *tt_iser_conn_of(struct tt_xconn *xc)
{
	return tt_container_of(xc, struct tt_iser_conn, conn);
}

/* iser_conn.c */
/* A connection request handed to @loop, where it is set up and given to the core. */
void tt_iser_conn_request(struct tt_listener *l, struct rdma_cm_id *id, struct rdma_event_channel *ch,
			  const struct tt_rdma_request *req);

/* iser_listen.c */
int tt_iser_listen(struct tt_listener *l);
void tt_iser_unlisten(struct tt_listener *l);

extern const struct tt_xport_ops tt_xport_iser;
#endif

#endif
