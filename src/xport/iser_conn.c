/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * iSER connections (see iser.h): the ops table, the receive ring posted ahead, PDUs as SENDs
 * from registered send buffers, read data as an RDMA WRITE to the initiator's read STag and
 * write data fetched with an RDMA READ from its write STag (no R2T on the wire).
 */
#include "xport/iser.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

static int iser_conn_start(struct tt_xconn *xc);
static int iser_queue_pdu(struct tt_xconn *xc, struct tt_pdu *pdu);
static int iser_queue_data_in(struct tt_xconn *xc, struct tt_xtask *t);
static int iser_get_data_out(struct tt_xconn *xc, struct tt_xtask *t);
static void *iser_buf_alloc(struct tt_xconn *xc, size_t len, size_t *cap);
static void iser_buf_free(struct tt_xconn *xc, void *buf, size_t cap);
static void iser_login_policy(struct tt_xconn *xc, struct tt_params_policy *pol);
static int iser_apply_params(struct tt_xconn *xc, const struct tt_xport_params *p);
static void iser_shutdown(struct tt_xconn *xc);
static void iser_release(struct tt_xconn *xc);
static int iser_set_timeout(struct tt_xconn *xc, unsigned ms);

const struct tt_xport_ops tt_xport_iser = {
	.name = "iser",
	.listen = tt_iser_listen,
	.unlisten = tt_iser_unlisten,
	.conn_start = iser_conn_start,
	.queue_pdu = iser_queue_pdu,
	.queue_data_in = iser_queue_data_in,
	.get_data_out = iser_get_data_out,
	.buf_alloc = iser_buf_alloc,
	.buf_free = iser_buf_free,
	.login_policy = iser_login_policy,
	.apply_params = iser_apply_params,
	.shutdown = iser_shutdown,
	.release = iser_release,
	.set_timeout = iser_set_timeout,
};

static uint64_t conn_ids = 1ull << 40; /* atomic; apart from the TCP connections' ids */

static unsigned long long xid(const struct tt_iser_conn *ic)
{
	return (unsigned long long)ic->conn.id;
}

static void iser_down(struct tt_iser_conn *ic, int err, const char *why)
{
	tt_rdma_conn_down(&ic->rc, err, why);
}

/* ---- send side: operations posted in order, within the send queue and the send buffers ---- */

static void op_done(struct tt_rdma_conn *c, struct tt_rdma_wr *wr, const struct ibv_wc *wc);

static void op_release(struct tt_iser_conn *ic, struct tt_iser_op *op, int err)
{
	switch (op->kind) {
	case TT_ISER_SOP_PDU:
		tt_pdu_free(op->pdu); /* runs its sent hook, drops its task reference */
		break;
	case TT_ISER_SOP_READ:
		/* A READ that failed, was flushed or never posted: the connection is going down (a
		 * completion in error takes it down, so does a failed post), and the core aborts the
		 * task once the close reaches it. Failing the command now would queue its response
		 * on a connection that sends nothing more. */
		if (!err)
			ic->conn.core->data_out_done(op->t, 0);
		ic->conn.core->task_put(op->t);
		break;
	case TT_ISER_SOP_WRITE:
		ic->conn.core->task_put(op->t);
		break;
	case TT_ISER_SOP_HELLO_REPLY:
		break;
	}
	if (op->tx)
		tt_list_add(&ic->tx_free, &op->tx->node);
	free(op);
}

/* Fills a send buffer: iSER header, BHS, AHS, data segment. Returns its length, or 0 when the
 * PDU does not fit what the initiator receives. */
static uint32_t op_fill(struct tt_iser_conn *ic, struct tt_iser_op *op)
{
	uint8_t *p = op->tx->buf;
	struct tt_iser_hdr h = { .opcode = TT_ISER_OP_CTRL };
	struct tt_pdu *pdu = op->pdu;
	uint32_t len;

	if (op->kind == TT_ISER_SOP_HELLO_REPLY) {
		memcpy(p, op->hello, TT_ISER_HELLO_LEN);
		return TT_ISER_HELLO_LEN;
	}
	len = TT_ISER_HDR_LEN + TT_BHS_LEN + pdu->ahs_len + pdu->data_len;
	if (len > TT_ISER_MSG_LEN || pdu->data_len > ic->max_xmit_dsl) {
		tt_log_ratelimited(TT_LOG_ERR, "iser", "conn %llu %s: PDU opcode 0x%02x with %u bytes "
				   "of data: more than the initiator receives (%u)", xid(ic),
				   ic->conn.peer, pdu->bhs.opcode & 0x3f, pdu->data_len, ic->max_xmit_dsl);
		return 0;
	}
	tt_iser_hdr_encode(&h, p);
	p += TT_ISER_HDR_LEN;
	memcpy(p, pdu->raw, TT_BHS_LEN);
	p += TT_BHS_LEN;
	if (pdu->ahs_len) {
		memcpy(p, pdu->ahs, pdu->ahs_len);
		p += pdu->ahs_len;
	}
	if (pdu->data_len)
		memcpy(p, pdu->data, pdu->data_len);
	return len;
}

static int op_post(struct tt_iser_conn *ic, struct tt_iser_op *op)
{
	uint32_t len;

	op->wr.done = op_done;
	switch (op->kind) {
	case TT_ISER_SOP_PDU:
	case TT_ISER_SOP_HELLO_REPLY: {
		struct tt_list *n = tt_list_pop(&ic->tx_free);

		op->tx = tt_container_of(n, struct tt_iser_tx, node);
		len = op_fill(ic, op);
		if (!len)
			return -EMSGSIZE;
		return tt_rdma_post_send(&ic->rc, &op->wr, op->tx->buf, len, tt_rdma_buf_lkey(ic->tx_ring));
	}
	case TT_ISER_SOP_READ:
	case TT_ISER_SOP_WRITE:
		return tt_rdma_post_rdma(&ic->rc, &op->wr, op->kind == TT_ISER_SOP_WRITE,
					 op->t->buf + op->off, op->len, tt_rdma_buf_lkey(op->t->buf),
					 op->raddr, op->rkey);
	}
	return -EINVAL;
}

/* Posts what the send queue and the send buffers allow, in order. */
static void iser_kick(struct tt_iser_conn *ic)
{
	while (!tt_list_empty(&ic->pending) && tt_rdma_conn_state_running(ic->rc.state) &&
	       ic->sq_used < TT_ISER_SQ_DEPTH) {
		struct tt_iser_op *op = tt_list_first(&ic->pending, struct tt_iser_op, node);
		bool needs_tx = op->kind == TT_ISER_SOP_PDU || op->kind == TT_ISER_SOP_HELLO_REPLY;
		int rc;

		if (needs_tx && tt_list_empty(&ic->tx_free))
			return;
		tt_list_del(&op->node);
		rc = op_post(ic, op);
		if (rc < 0) {
			op_release(ic, op, rc);
			iser_down(ic, rc, "cannot post");
			return;
		}
		ic->sq_used++;
	}
}

static void op_queue(struct tt_iser_conn *ic, struct tt_iser_op *op)
{
	op->ic = ic;
	tt_list_add_tail(&ic->pending, &op->node);
	iser_kick(ic);
}

/* Everything not posted yet: dropped (the connection is down). */
static void iser_pending_drop(struct tt_iser_conn *ic)
{
	struct tt_list *n;

	while ((n = tt_list_pop(&ic->pending)))
		op_release(ic, tt_container_of(n, struct tt_iser_op, node), -ECONNRESET);
}

static void op_done(struct tt_rdma_conn *c, struct tt_rdma_wr *wr, const struct ibv_wc *wc)
{
	struct tt_iser_op *op = tt_container_of(wr, struct tt_iser_op, wr);
	struct tt_iser_conn *ic = op->ic;
	int err = wc->status == IBV_WC_SUCCESS ? 0 : -EIO;

	(void)c;
	ic->sq_used--;
	if (err && wc->status != IBV_WC_WR_FLUSH_ERR)
		tt_log_ratelimited(TT_LOG_NOTICE, "iser", "conn %llu %s: %s: %s", xid(ic), ic->conn.peer,
				   op->kind == TT_ISER_SOP_READ ? "RDMA READ" :
				   op->kind == TT_ISER_SOP_WRITE ? "RDMA WRITE" : "SEND",
				   ibv_wc_status_str(wc->status));
	op_release(ic, op, err);
	iser_kick(ic);
}

static struct tt_iser_op *op_new(enum tt_iser_op_kind kind)
{
	struct tt_iser_op *op = calloc(1, sizeof(*op));

	if (op) {
		op->kind = kind;
		tt_list_init(&op->node);
	}
	return op;
}

static int iser_queue_pdu(struct tt_xconn *xc, struct tt_pdu *pdu)
{
	struct tt_iser_conn *ic = tt_iser_conn_of(xc);
	struct tt_iser_op *op;

	if (!tt_rdma_conn_state_running(ic->rc.state)) {
		tt_pdu_free(pdu);
		return -ENOTCONN;
	}
	op = op_new(TT_ISER_SOP_PDU);
	if (!op) {
		tt_pdu_free(pdu);
		return -ENOMEM;
	}
	op->pdu = pdu;
	op_queue(ic, op);
	return 0;
}

static int iser_queue_data_in(struct tt_xconn *xc, struct tt_xtask *t)
{
	struct tt_iser_conn *ic = tt_iser_conn_of(xc);
	struct tt_iser_op *op;
	uint32_t stag;
	uint64_t va;

	if (t->data_in_len == 0) {
		xc->core->data_in_queued(t, false);
		return 0;
	}
	if (!tt_iser_area_read(t->area, &stag, &va)) {
		tt_log_ratelimited(TT_LOG_NOTICE, "iser", "conn %llu %s: read command 0x%08x without a "
				   "read STag", xid(ic), xc->peer, t->itt);
		return -EPROTO;
	}
	if (t->data_in_len > t->buf_len || !tt_rdma_conn_state_running(ic->rc.state))
		return -EINVAL;
	op = op_new(TT_ISER_SOP_WRITE);
	if (!op)
		return -ENOMEM;
	op->t = t;
	op->off = 0;
	op->len = t->data_in_len;
	op->raddr = va;
	op->rkey = stag;
	xc->core->task_get(t); /* until the WRITE completes */
	op_queue(ic, op);
	/* the SCSI Response goes as a SEND after it, on the same queue: it arrives after the data */
	xc->core->data_in_queued(t, false);
	return 0;
}

static int iser_get_data_out(struct tt_xconn *xc, struct tt_xtask *t)
{
	struct tt_iser_conn *ic = tt_iser_conn_of(xc);
	struct tt_iser_op *op;
	uint32_t stag;
	uint64_t va;

	if (t->r2t_offset >= t->edtl)
		return 0;
	if (!tt_iser_area_write(t->area, &stag, &va)) {
		tt_log_ratelimited(TT_LOG_NOTICE, "iser", "conn %llu %s: write command 0x%08x needs "
				   "%u more bytes but has no write STag", xid(ic), xc->peer, t->itt,
				   t->edtl - t->r2t_offset);
		return -EPROTO;
	}
	if (t->edtl > t->buf_len || !tt_rdma_conn_state_running(ic->rc.state))
		return -EINVAL;
	op = op_new(TT_ISER_SOP_READ);
	if (!op)
		return -ENOMEM;
	op->t = t;
	op->off = t->r2t_offset;
	op->len = t->edtl - t->r2t_offset;
	/* the write base offset is where what immediate and unsolicited data did not bring starts */
	op->raddr = va;
	op->rkey = stag;
	t->r2t_offset = t->edtl;
	xc->core->task_get(t); /* until the READ completes */
	op_queue(ic, op);
	return 0;
}

/* ---- receive side ---- */

static void rx_done(struct tt_rdma_conn *c, struct tt_rdma_wr *wr, const struct ibv_wc *wc);

static void rx_post(struct tt_iser_conn *ic, struct tt_iser_rx *rx)
{
	int rc;

	rx->wr.done = rx_done;
	rc = tt_rdma_post_recv(&ic->rc, &rx->wr, rx->buf, TT_ISER_MSG_LEN,
			       tt_rdma_buf_lkey(ic->rx_ring));
	if (rc < 0 && rc != -ENOTCONN)
		iser_down(ic, rc, "cannot post a receive");
}

static void rx_hello(struct tt_iser_conn *ic, const uint8_t *buf, uint32_t len)
{
	struct tt_iser_hello hello;
	struct tt_iser_op *op;

	if (tt_iser_hello_decode(buf, len, &hello) < 0) {
		iser_down(ic, -EPROTO, "malformed iSER Hello");
		return;
	}
	op = op_new(TT_ISER_SOP_HELLO_REPLY);
	if (!op) {
		iser_down(ic, -ENOMEM, "HelloReply");
		return;
	}
	tt_iser_hello_reply(&hello, ic->max_ord, op->hello);
	tt_debug("iser", "conn %llu %s: Hello (versions %u-%u, IRD %u) answered", xid(ic),
		 ic->conn.peer, hello.min_ver, hello.max_ver, hello.ird_ord);
	op_queue(ic, op);
}

/* One received message: an iSER header and an iSCSI control-type PDU, or a Hello. */
static void rx_message(struct tt_iser_conn *ic, const uint8_t *buf, uint32_t len)
{
	struct tt_iser_hdr h;
	struct tt_pdu *pdu;
	uint32_t ahs_len, dlen, room;

	if (tt_iser_hdr_decode(buf, len, &h) < 0) {
		iser_down(ic, -EPROTO, "malformed iSER header");
		return;
	}
	if (h.opcode == TT_ISER_OP_HELLO) {
		rx_hello(ic, buf, len);
		return;
	}
	buf += TT_ISER_HDR_LEN;
	len -= TT_ISER_HDR_LEN;
	if (len < TT_BHS_LEN) {
		iser_down(ic, -EPROTO, "message shorter than a BHS");
		return;
	}
	pdu = tt_pdu_alloc();
	if (!pdu) {
		iser_down(ic, -ENOMEM, "receive");
		return;
	}
	memcpy(pdu->raw, buf, TT_BHS_LEN);
	ahs_len = pdu->bhs.ahs_len * 4u;
	dlen = tt_bhs_dlength(&pdu->bhs);
	if ((uint64_t)TT_BHS_LEN + ahs_len + dlen > len) {
		tt_log_ratelimited(TT_LOG_NOTICE, "iser", "conn %llu %s: PDU announces %u + %u bytes, "
				   "message has %u", xid(ic), ic->conn.peer, ahs_len, dlen,
				   len - TT_BHS_LEN);
		tt_pdu_free(pdu);
		iser_down(ic, -EPROTO, NULL);
		return;
	}
	if (ahs_len) {
		pdu->ahs = malloc(ahs_len);
		if (!pdu->ahs) {
			tt_pdu_free(pdu);
			iser_down(ic, -ENOMEM, "receive");
			return;
		}
		memcpy(pdu->ahs, buf + TT_BHS_LEN, ahs_len);
		pdu->ahs_len = ahs_len;
	}
	/* the remote keys go with a command into its task */
	tt_iser_area_set(pdu->xport_area, &h);
	if (ic->conn.core->rx_header(&ic->conn, pdu) < 0) {
		tt_pdu_free(pdu);
		iser_down(ic, -EPROTO, NULL);
		return;
	}
	/* the data segment goes where the core said (a task's buffer, an owned buffer) */
	room = pdu->data ? (pdu->data_len < dlen ? pdu->data_len : dlen) : 0;
	if (room)
		memcpy(pdu->data, buf + TT_BHS_LEN + ahs_len, room);
	ic->conn.core->rx_pdu(&ic->conn, pdu, true);
}

static void rx_done(struct tt_rdma_conn *c, struct tt_rdma_wr *wr, const struct ibv_wc *wc)
{
	struct tt_iser_rx *rx = tt_container_of(wr, struct tt_iser_rx, wr);
	struct tt_iser_conn *ic = rx->ic;

	(void)c;
	if (wc->status != IBV_WC_SUCCESS)
		return; /* flushed: the connection is going down */
	/* in ACCEPTING too: the initiator may send its Login before ESTABLISHED reaches us */
	if (tt_rdma_conn_state_running(ic->rc.state))
		rx_message(ic, rx->buf, wc->byte_len);
	if (tt_rdma_conn_state_running(ic->rc.state))
		rx_post(ic, rx);
}

/* ---- lifecycle ---- */

static void iser_rdma_closed(struct tt_rdma_conn *c, int err)
{
	struct tt_iser_conn *ic = tt_container_of(c, struct tt_iser_conn, rc);

	iser_pending_drop(ic);
	if (ic->core_attached)
		ic->conn.core->closed(&ic->conn, err); /* the core calls release when done */
	else
		tt_rdma_conn_put(&ic->rc);
}

static void iser_rdma_established(struct tt_rdma_conn *c)
{
	struct tt_iser_conn *ic = tt_container_of(c, struct tt_iser_conn, rc);

	tt_debug("iser", "conn %llu %s: established", xid(ic), ic->conn.peer);
	iser_kick(ic);
}

static void iser_rdma_freed(struct tt_rdma_conn *c)
{
	struct tt_iser_conn *ic = tt_container_of(c, struct tt_iser_conn, rc);

	tt_rdma_buf_put(ic->rx_ring);
	tt_rdma_buf_put(ic->tx_ring);
	if (ic->conn.listener)
		tt_listener_put(ic->conn.listener);
	tt_debug("iser", "conn %llu %s: freed", xid(ic), ic->conn.peer);
	free(ic);
}

static const struct tt_rdma_conn_ops iser_rdma_ops = {
	.closed = iser_rdma_closed,
	.established = iser_rdma_established,
	.freed = iser_rdma_freed,
};

/* On the connection's loop: QP, rings, receives posted, then the core. */
static void iser_conn_handoff(void *arg)
{
	struct tt_iser_conn *ic = arg;
	struct ibv_device_attr da;
	struct tt_rdma_conn_params p = {
		.sq_depth = TT_ISER_SQ_DEPTH,
		.rq_depth = TT_ISER_RX_DEPTH,
		.max_sge = 1,
	};
	int rc;

	if (ibv_query_device(ic->rc.id->verbs, &da) == 0) {
		/* the request's depths are already from this side's point of view (rdma.h) */
		p.initiator_depth = (uint8_t)(ic->req.initiator_depth < da.max_qp_init_rd_atom ?
					      ic->req.initiator_depth : da.max_qp_init_rd_atom);
		p.responder_resources = (uint8_t)(ic->req.responder_resources < da.max_qp_rd_atom ?
						  ic->req.responder_resources : da.max_qp_rd_atom);
	}
	ic->max_ord = p.initiator_depth;
	rc = tt_rdma_conn_setup(&ic->rc, &p);
	if (rc == 0) {
		ic->rx_ring = tt_rdma_buf_get(ic->rc.dev, (size_t)TT_ISER_MSG_LEN * TT_ISER_RX_DEPTH,
					      &ic->rx_ring_cap);
		ic->tx_ring = tt_rdma_buf_get(ic->rc.dev, (size_t)TT_ISER_MSG_LEN * TT_ISER_TX_DEPTH,
					      &ic->tx_ring_cap);
		if (!ic->rx_ring || !ic->tx_ring)
			rc = -ENOMEM;
	}
	if (rc < 0) {
		tt_log_ratelimited(TT_LOG_WARN, "iser", "conn %llu %s: connection refused: %s", xid(ic),
				   ic->conn.peer, strerror(-rc));
		goto refuse;
	}
	for (unsigned i = 0; i < TT_ISER_TX_DEPTH; i++) {
		ic->tx[i].buf = ic->tx_ring + (size_t)i * TT_ISER_MSG_LEN;
		tt_list_add_tail(&ic->tx_free, &ic->tx[i].node);
	}
	/* the receive ring is posted before the initiator may send anything */
	for (unsigned i = 0; i < TT_ISER_RX_DEPTH; i++) {
		ic->rx[i].ic = ic;
		ic->rx[i].buf = ic->rx_ring + (size_t)i * TT_ISER_MSG_LEN;
		rx_post(ic, &ic->rx[i]);
	}
	if (ic->rc.state != TT_RDMA_CONN_NEW)
		goto refuse;
	if (ic->conn.core->accepted(&ic->conn) < 0)
		goto refuse;
	/* the core owns it now (and started it: conn_start accepted the connection) */
	ic->core_attached = true;
	return;
refuse:
	tt_rdma_conn_reject(&ic->rc); /* closed follows, then the upper reference goes */
}

void tt_iser_conn_request(struct tt_listener *l, struct rdma_cm_id *id, struct rdma_event_channel *ch,
			  const struct tt_rdma_request *req)
{
	struct tt_iser_conn *ic = calloc(1, sizeof(*ic));
	struct sockaddr *sa;
	struct tt_loop *loop;
	int rc;

	if (!ic) {
		tt_log_ratelimited(TT_LOG_WARN, "iser", "%s: out of memory, connection refused", l->name);
		tt_rdma_request_refuse(id, ch);
		return;
	}
	loop = tt_loops_next();
	ic->conn.ops = &tt_xport_iser;
	ic->conn.core = l->core;
	ic->conn.loop = loop;
	ic->conn.listener = l;
	tt_listener_get(l); /* dropped when the connection is freed */
	ic->conn.id = __atomic_add_fetch(&conn_ids, 1, __ATOMIC_RELAXED);
	sa = rdma_get_peer_addr(id);
	memcpy(&ic->conn.peer_addr, sa, sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	       sizeof(struct sockaddr_in));
	sa = rdma_get_local_addr(id);
	memcpy(&ic->conn.local_addr, sa, sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	       sizeof(struct sockaddr_in));
	tt_sockaddr_format(&ic->conn.peer_addr, ic->conn.peer, sizeof(ic->conn.peer));
	tt_sockaddr_format(&ic->conn.local_addr, ic->conn.local, sizeof(ic->conn.local));
	ic->req = *req;
	ic->max_xmit_dsl = 8192; /* the login phase: RFC 7145 §6 */
	tt_list_init(&ic->tx_free);
	tt_list_init(&ic->pending);
	ic->rc.id = id;
	ic->rc.cm_ch = ch;
	ic->rc.state = TT_RDMA_CONN_NEW;
	ic->rc.ops = &iser_rdma_ops;
	ic->rc.id_log = ic->conn.id;
	snprintf(ic->rc.peer, sizeof(ic->rc.peer), "%s", ic->conn.peer);
	tt_rdma_refs_get(&ic->rc.refs, TT_RDMA_REF_UPPER); /* the iSER connection's, until release */
	tt_debug("iser", "conn %llu %s: request on %s, loop %u", xid(ic), ic->conn.peer, ic->conn.local,
		 tt_loop_index(loop));
	rc = tt_loop_send(loop, iser_conn_handoff, ic);
	if (rc < 0) {
		tt_log_ratelimited(TT_LOG_WARN, "iser", "%s: cannot hand the connection over: %s",
				   ic->conn.peer, strerror(-rc));
		tt_rdma_request_refuse(id, ch);
		tt_listener_put(l);
		free(ic);
	}
}

static int iser_conn_start(struct tt_xconn *xc)
{
	struct tt_iser_conn *ic = tt_iser_conn_of(xc);
	/* CM private data of the accept (RFC 7145 §9.1, iSER CM REP): zero-based virtual addresses
	 * and send with invalidate not used */
	uint8_t rep[4] = { 0x80 | 0x40, 0, 0, 0 };
	int rc;

	if (ic->rc.state != TT_RDMA_CONN_NEW)
		return -ENOTCONN;
	rc = tt_rdma_conn_accept(&ic->rc, rep, sizeof(rep));
	if (rc < 0)
		tt_err("iser", "conn %llu %s: rdma_accept: %s", xid(ic), xc->peer, strerror(-rc));
	return rc;
}

static void *iser_buf_alloc(struct tt_xconn *xc, size_t len, size_t *cap)
{
	return tt_rdma_buf_get(tt_iser_conn_of(xc)->rc.dev, len, cap);
}

static void iser_buf_free(struct tt_xconn *xc, void *buf, size_t cap)
{
	(void)xc;
	(void)cap;
	tt_rdma_buf_put(buf);
}

static void iser_login_policy(struct tt_xconn *xc, struct tt_params_policy *pol)
{
	(void)xc;
	tt_iser_login_policy(pol);
}

static int iser_apply_params(struct tt_xconn *xc, const struct tt_xport_params *p)
{
	struct tt_iser_conn *ic = tt_iser_conn_of(xc);

	/* InitiatorRecvDataSegmentLength (the core put it in max_xmit_dsl) */
	ic->max_xmit_dsl = p->max_xmit_dsl ? p->max_xmit_dsl : 8192;
	tt_debug("iser", "conn %llu %s: InitiatorRecvDataSegmentLength %u", xid(ic), xc->peer,
		 ic->max_xmit_dsl);
	return 0;
}

static void iser_shutdown(struct tt_xconn *xc)
{
	iser_down(tt_iser_conn_of(xc), 0, NULL);
}

static void iser_release(struct tt_xconn *xc)
{
	struct tt_iser_conn *ic = tt_iser_conn_of(xc);

	if (ic->rc.state != TT_RDMA_CONN_CLOSED)
		tt_warn("iser", "conn %llu %s: released while %s", xid(ic), xc->peer,
			tt_rdma_conn_state_name(ic->rc.state));
	iser_down(ic, 0, NULL);
	iser_pending_drop(ic);
	/* freed once every posted work request is back (iser_rdma_freed) */
	tt_rdma_conn_put(&ic->rc);
}

/* The RDMA fabric bounds a silent peer with its own retries (the CM's ack timeout); the core's
 * NOP-In keepalive reaps an initiator that stops answering. */
static int iser_set_timeout(struct tt_xconn *xc, unsigned ms)
{
	(void)xc;
	(void)ms;
	return 0;
}
