/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NVMe/RDMA connections (see rdma.h): CM requests checked and accepted with the NVMe/RDMA
 * private data, command capsules received into a ring posted ahead, write data fetched with an
 * RDMA READ, read data pushed with an RDMA WRITE, responses as SENDs from a registered ring.
 */
#include "nvmf/rdma.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "nvmf/rdma_cm.h"
#include "rdma/rdma.h"
#include "xport/listener.h"
#include "xport/xport.h"

#define CAPSULE_LEN (TT_NVME_SQE_SIZE + TT_NVMF_IN_CAPSULE)

enum nvr_req_state {
	NVR_FREE,
	NVR_FETCH,      /* RDMA READ of its write data posted */
	NVR_CORE,       /* in the core (tt_nvmf_req_exec until ops->complete) */
	NVR_ANSWER,     /* RDMA WRITE of read data and response SEND posted */
};

struct nvr_conn;

struct nvr_req {
	struct tt_nvmf_req req;         /* first: container_of */
	struct nvr_conn *c;
	struct tt_list node;            /* c->free_reqs while FREE */
	enum nvr_req_state state;
	struct tt_rdma_wr data_wr;      /* RDMA READ (FETCH) or WRITE (ANSWER) */
	struct tt_rdma_wr send_wr;      /* the response SEND */
	uint8_t *cqe;                   /* its 16 bytes of the registered response ring */
	size_t cap;                     /* of req.buf (tt_rdma_buf_get) */
	unsigned posted;                /* work requests of the answer not back yet */
};

struct nvr_rx {
	struct tt_rdma_wr wr;
	struct nvr_conn *c;
	uint8_t *buf;                   /* CAPSULE_LEN bytes of the receive ring */
};

struct nvr_conn {
	struct tt_nvmf_qpair qp;        /* first: the core's view */
	struct tt_rdma_conn rc;
	struct tt_list node;            /* conns, from the request to freed */
	struct tt_listener *listener;   /* a reference until freed */
	struct tt_nvrdma_cm_req cm;
	uint16_t depth;                 /* receives posted: HSQSIZE + 1 */
	uint16_t nreqs;                 /* request slots: twice the depth (answers in flight) */
	uint8_t *rx_ring, *cqe_ring;    /* registered (tt_rdma_buf_get) */
	size_t rx_cap, cqe_cap;
	struct nvr_rx *rx;
	struct nvr_req *reqs;
	struct tt_list free_reqs;
	unsigned in_core;               /* requests in NVR_CORE */
	bool rdma_closed;               /* ops->closed came: the core has been told */
	bool upper_put;
};

static struct tt_list conns = TT_LIST_INIT(conns);

/* Keyed SGL Data Blocks (address and invalidate subtypes) for the data, in-capsule data at any
 * offset inside the 8 KiB after the SQE. */
const struct tt_nvmf_xport_caps tt_nvmf_rdma_caps = {
	.icd_max = TT_NVMF_IN_CAPSULE,
	.icd_offset = true,
	.transport_sgl = 0,
	.keyed = true,
	.sgls = 0x1 | 1u << 2 | 1u << 20,      /* SGLs, keyed data blocks, offsets */
};

static unsigned long long cid_of(const struct nvr_conn *c)
{
	return (unsigned long long)c->qp.id;
}

static void conn_down(struct nvr_conn *c, int err, const char *why)
{
	tt_rdma_conn_down(&c->rc, err, why);
}

/* The upper reference goes once the RDMA connection is closed and the core holds no request. */
static void conn_maybe_release(struct nvr_conn *c)
{
	if (!c->rdma_closed || c->in_core || c->upper_put)
		return;
	c->upper_put = true;
	tt_rdma_conn_put(&c->rc); /* freed once nothing is posted (nvr_rdma_freed) */
}

/* ---- requests -------------------------------------------------------------------------------- */

static struct nvr_req *req_get(struct nvr_conn *c)
{
	struct tt_list *n = tt_list_pop(&c->free_reqs);
	struct nvr_req *r;
	uint8_t *cqe;

	if (!n)
		return NULL;
	r = tt_container_of(n, struct nvr_req, node);
	cqe = r->cqe;
	memset(&r->req, 0, sizeof(r->req));
	r->req.qp = &c->qp;
	r->cqe = cqe;
	r->cap = 0;
	r->posted = 0;
	return r;
}

static void req_free(struct nvr_req *r)
{
	if (r->req.buf)
		tt_rdma_buf_put(r->req.buf);
	r->req.buf = NULL;
	r->state = NVR_FREE;
	tt_list_add(&r->c->free_reqs, &r->node);
}

static void req_to_core(struct nvr_req *r, uint16_t fail)
{
	r->state = NVR_CORE;
	r->c->in_core++;
	if (fail)
		tt_nvmf_req_fail(&r->req, fail);
	else
		tt_nvmf_req_exec(&r->req);
}

/* A work request of the answer is back (completed or flushed). */
static void answer_done(struct tt_rdma_conn *rc, struct tt_rdma_wr *wr, const struct ibv_wc *wc)
{
	struct nvr_req *r = wr->holder == TT_RDMA_REF_SEND ?
		tt_container_of(wr, struct nvr_req, send_wr) : tt_container_of(wr, struct nvr_req, data_wr);

	(void)rc;
	if (wc->status != IBV_WC_SUCCESS && wc->status != IBV_WC_WR_FLUSH_ERR)
		tt_log_ratelimited(TT_LOG_NOTICE, "nvme-rdma", "conn %llu %s: %s of cid %u: %s",
				   cid_of(r->c), r->c->qp.peer, wr->holder == TT_RDMA_REF_SEND ?
				   "response SEND" : "RDMA WRITE", tt_le16(r->req.sqe + TT_SQE_CID),
				   ibv_wc_status_str(wc->status));
	if (--r->posted == 0)
		req_free(r);
}

/* The core is done with a request: the read data (RDMA WRITE), then the response (SEND). */
static void qp_complete(struct tt_nvmf_req *nr)
{
	struct nvr_req *r = tt_container_of(nr, struct nvr_req, req);
	struct nvr_conn *c = r->c;
	int rc;

	c->in_core--;
	tt_debug("nvme-rdma", "conn %llu: cid %u done, status %04x, %u bytes back", cid_of(c),
		 tt_le16(nr->sqe + TT_SQE_CID), tt_le16(nr->cqe + 14), nr->xfer_len);
	if (!tt_rdma_conn_state_running(c->rc.state)) {
		/* the connection went down while the command ran: nothing to answer */
		req_free(r);
		conn_maybe_release(c);
		return;
	}
	r->state = NVR_ANSWER;
	memcpy(r->cqe, nr->cqe, TT_NVME_CQE_SIZE);
	if (nr->dir == TT_NVMF_DIR_C2H && nr->xfer_len && nr->sgl.kind == TT_NVMF_SGL_KEYED) {
		r->data_wr.done = answer_done;
		rc = tt_rdma_post_rdma(&c->rc, &r->data_wr, true, nr->buf, nr->xfer_len,
				       tt_rdma_buf_lkey(nr->buf), nr->sgl.addr, nr->sgl.key);
		if (rc < 0) {
			req_free(r);
			conn_down(c, rc, "cannot post an RDMA WRITE");
			return;
		}
		r->posted++;
	}
	/* behind the WRITE on the same queue: the host has the data when it sees the completion */
	r->send_wr.done = answer_done;
	if (nr->sgl.kind == TT_NVMF_SGL_KEYED && nr->sgl.invalidate)
		rc = tt_rdma_post_send_inv(&c->rc, &r->send_wr, r->cqe, TT_NVME_CQE_SIZE,
					   tt_rdma_buf_lkey(c->cqe_ring), nr->sgl.key);
	else
		rc = tt_rdma_post_send(&c->rc, &r->send_wr, r->cqe, TT_NVME_CQE_SIZE,
				       tt_rdma_buf_lkey(c->cqe_ring));
	if (rc < 0) {
		if (r->posted == 0)
			req_free(r);
		conn_down(c, rc, "cannot post the response");
		return;
	}
	r->posted++;
}

/* The RDMA READ of a write's data is back. */
static void fetch_done(struct tt_rdma_conn *rc, struct tt_rdma_wr *wr, const struct ibv_wc *wc)
{
	struct nvr_req *r = tt_container_of(wr, struct nvr_req, data_wr);

	tt_debug("nvme-rdma", "conn %llu: cid %u: RDMA READ of %u bytes: %s", cid_of(r->c),
		 tt_le16(r->req.sqe + TT_SQE_CID), r->req.len, ibv_wc_status_str(wc->status));
	if (wc->status != IBV_WC_SUCCESS || !tt_rdma_conn_state_running(rc->state)) {
		/* (an error took the connection down already) */
		req_free(r);
		return;
	}
	req_to_core(r, 0);
}

static void qp_disconnect(struct tt_nvmf_qpair *qp)
{
	struct nvr_conn *c = tt_container_of(qp, struct nvr_conn, qp);

	/* ops->closed follows from deferred work, once every posted work request is back */
	conn_down(c, 0, NULL);
}

static const struct tt_nvmf_qpair_ops qp_ops = {
	.caps = &tt_nvmf_rdma_caps,
	.complete = qp_complete,
	.disconnect = qp_disconnect,
};

/* ---- receive --------------------------------------------------------------------------------- */

static void rx_done(struct tt_rdma_conn *rc, struct tt_rdma_wr *wr, const struct ibv_wc *wc);

static void rx_post(struct nvr_conn *c, struct nvr_rx *rx)
{
	int rc;

	rx->wr.done = rx_done;
	rc = tt_rdma_post_recv(&c->rc, &rx->wr, rx->buf, CAPSULE_LEN, tt_rdma_buf_lkey(c->rx_ring));
	if (rc < 0 && rc != -ENOTCONN)
		conn_down(c, rc, "cannot post a receive");
}

/* One command capsule: the SQE and @len - 64 bytes of in-capsule data. */
static void rx_capsule(struct nvr_conn *c, const uint8_t *buf, uint32_t len)
{
	struct nvr_req *r;
	bool in_capsule;
	uint16_t st;
	int rc;

	if (len < TT_NVME_SQE_SIZE) {
		tt_log_ratelimited(TT_LOG_WARN, "nvme-rdma", "conn %llu %s: a capsule of %u bytes, "
				   "shorter than a command", cid_of(c), c->qp.peer, len);
		conn_down(c, -EPROTO, NULL);
		return;
	}
	r = req_get(c);
	if (!r) {
		tt_log_ratelimited(TT_LOG_WARN, "nvme-rdma", "conn %llu %s: more commands than the "
				   "queue holds (%u)", cid_of(c), c->qp.peer, c->depth);
		conn_down(c, -EPROTO, NULL);
		return;
	}
	memcpy(r->req.sqe, buf, TT_NVME_SQE_SIZE);
	st = tt_nvmf_req_layout(&r->req, &in_capsule);
	tt_debug("nvme-rdma", "conn %llu: opcode %02x cid %u, %u bytes %s, SGL %02x: status %03x",
		 cid_of(c), r->req.sqe[0], tt_le16(r->req.sqe + TT_SQE_CID), r->req.len,
		 in_capsule ? "in the capsule" : "by RDMA", r->req.sqe[TT_SQE_SGL + 15], st);
	if (!st && r->req.len) {
		r->req.buf = tt_rdma_buf_get(c->rc.dev, r->req.len, &r->cap);
		if (!r->req.buf)
			st = TT_NVME_SC_INTERNAL;
	}
	if (!st && in_capsule) {
		uint32_t icd = len - TT_NVME_SQE_SIZE;

		/* the descriptor must lie inside the data that came with the capsule */
		if (r->req.len > icd)
			st = TT_NVME_SC_SGL_INVALID_DATA | TT_NVME_DNR;
		else if (r->req.sgl.addr > icd - r->req.len)
			st = TT_NVME_SC_SGL_INVALID_OFFSET | TT_NVME_DNR;
		else
			memcpy(r->req.buf, buf + TT_NVME_SQE_SIZE + r->req.sgl.addr, r->req.len);
	}
	if (!st && r->req.dir == TT_NVMF_DIR_H2C && r->req.sgl.kind == TT_NVMF_SGL_KEYED) {
		r->state = NVR_FETCH;
		r->data_wr.done = fetch_done;
		rc = tt_rdma_post_rdma(&c->rc, &r->data_wr, false, r->req.buf, r->req.len,
				       tt_rdma_buf_lkey(r->req.buf), r->req.sgl.addr, r->req.sgl.key);
		if (rc < 0) {
			req_free(r);
			conn_down(c, rc, "cannot post an RDMA READ");
		}
		return;
	}
	req_to_core(r, st);
}

static void rx_done(struct tt_rdma_conn *rc, struct tt_rdma_wr *wr, const struct ibv_wc *wc)
{
	struct nvr_rx *rx = tt_container_of(wr, struct nvr_rx, wr);
	struct nvr_conn *c = rx->c;

	(void)rc;
	if (wc->status != IBV_WC_SUCCESS)
		return; /* flushed: the connection is going down */
	/* in ACCEPTING too: the host may send its Connect before ESTABLISHED reaches us. The
	 * capsule is copied out (SQE, in-capsule data) before the buffer is posted again. */
	if (tt_rdma_conn_state_running(c->rc.state))
		rx_capsule(c, rx->buf, wc->byte_len);
	if (tt_rdma_conn_state_running(c->rc.state))
		rx_post(c, rx);
}

/* ---- lifecycle ------------------------------------------------------------------------------- */

static void nvr_rdma_closed(struct tt_rdma_conn *rc, int err)
{
	struct nvr_conn *c = tt_container_of(rc, struct nvr_conn, rc);

	tt_info("nvme-rdma", "conn %llu %s: qid %u closed%s%s", cid_of(c), c->qp.peer, c->cm.qid,
		err ? ": " : "", err ? strerror(-err) : "");
	c->rdma_closed = true;
	/* the core lets go of the queue: closing the admin queue ends the controller */
	tt_nvmf_qpair_closed(&c->qp);
	conn_maybe_release(c);
}

static void nvr_rdma_established(struct tt_rdma_conn *rc)
{
	struct nvr_conn *c = tt_container_of(rc, struct nvr_conn, rc);

	tt_debug("nvme-rdma", "conn %llu %s: established", cid_of(c), c->qp.peer);
}

static void conn_free_mem(struct nvr_conn *c)
{
	tt_rdma_buf_put(c->rx_ring);
	tt_rdma_buf_put(c->cqe_ring);
	free(c->rx);
	free(c->reqs);
	if (c->listener)
		tt_listener_put(c->listener);
	tt_nvmf_qpair_fini(&c->qp); /* the port's reference goes */
	free(c);
}

static void nvr_rdma_freed(struct tt_rdma_conn *rc)
{
	struct nvr_conn *c = tt_container_of(rc, struct nvr_conn, rc);

	tt_debug("nvme-rdma", "conn %llu %s: freed", cid_of(c), c->qp.peer);
	tt_list_del(&c->node);
	conn_free_mem(c);
}

static const struct tt_rdma_conn_ops nvr_rdma_ops = {
	.closed = nvr_rdma_closed,
	.established = nvr_rdma_established,
	.freed = nvr_rdma_freed,
};

/* ---- connection requests (loop 0) ------------------------------------------------------------ */

static struct tt_nvmf_port *port_of(const struct tt_listener *l)
{
	struct tt_list *n;

	tt_list_for_each(n, tt_nvmf_ports()) {
		struct tt_nvmf_port *p = tt_list_entry(n, struct tt_nvmf_port, node);

		if (p->listener == l)
			return p;
	}
	return NULL;
}

static void request_reject(struct tt_listener *l, struct rdma_cm_id *id,
			   struct rdma_event_channel *ch, const char *peer, uint16_t sts)
{
	uint8_t rej[TT_NVRDMA_CM_REJECT_LEN];

	tt_log_ratelimited(TT_LOG_NOTICE, "nvme-rdma", "%s: connection from %s rejected: %s",
			   l->name, peer, tt_nvrdma_cm_status_name(sts));
	tt_nvrdma_cm_reject(rej, sts);
	tt_rdma_request_reject(id, ch, rej, sizeof(rej));
}

/* The rings and slots of a connection for @depth commands; false when out of memory. */
static bool conn_alloc(struct nvr_conn *c, struct ibv_context *verbs)
{
	struct tt_rdma_dev *dev = tt_rdma_dev_get(verbs);

	if (!dev)
		return false;
	/* each buffer holds its own device reference */
	c->rx_ring = tt_rdma_buf_get(dev, (size_t)c->depth * CAPSULE_LEN, &c->rx_cap);
	c->cqe_ring = tt_rdma_buf_get(dev, (size_t)c->nreqs * TT_NVME_CQE_SIZE, &c->cqe_cap);
	tt_rdma_dev_put(dev);
	c->rx = calloc(c->depth, sizeof(*c->rx));
	c->reqs = calloc(c->nreqs, sizeof(*c->reqs));
	if (!c->rx_ring || !c->cqe_ring || !c->rx || !c->reqs)
		return false;
	tt_list_init(&c->free_reqs);
	for (unsigned i = 0; i < c->nreqs; i++) {
		c->reqs[i].c = c;
		c->reqs[i].cqe = c->cqe_ring + (size_t)i * TT_NVME_CQE_SIZE;
		tt_list_add_tail(&c->free_reqs, &c->reqs[i].node);
	}
	for (unsigned i = 0; i < c->depth; i++) {
		c->rx[i].c = c;
		c->rx[i].buf = c->rx_ring + (size_t)i * CAPSULE_LEN;
	}
	return true;
}

static void nvr_request(void *arg, struct rdma_cm_id *id, struct rdma_event_channel *ch,
			const struct tt_rdma_request *req)
{
	struct tt_listener *l = arg;
	struct tt_nvmf_port *port = port_of(l);
	struct tt_rdma_conn_params p = { .max_sge = 1 };
	struct sockaddr_storage peer_ss;
	struct sockaddr *sa = rdma_get_peer_addr(id);
	uint8_t acc[TT_NVRDMA_CM_ACCEPT_LEN];
	struct ibv_device_attr da;
	struct tt_nvrdma_cm_req cm;
	char peer[80];
	struct nvr_conn *c;
	uint16_t sts;
	int rc;

	memset(&peer_ss, 0, sizeof(peer_ss));
	memcpy(&peer_ss, sa, sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	       sizeof(struct sockaddr_in));
	tt_sockaddr_format(&peer_ss, peer, sizeof(peer));
	sts = tt_nvrdma_cm_req_parse(req->priv, req->priv_len, TT_NVMF_MAX_IO_QUEUES,
				     TT_NVMF_MAX_QUEUE_DEPTH, &cm);
	if (!sts && !port)
		sts = TT_NVRDMA_CM_NO_RESOURCES; /* the port is being removed */
	if (sts) {
		request_reject(l, id, ch, peer, sts);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		request_reject(l, id, ch, peer, TT_NVRDMA_CM_NO_RESOURCES);
		return;
	}
	c->cm = cm;
	c->depth = (uint16_t)(cm.hsqsize + 1);
	c->nreqs = (uint16_t)(2 * c->depth);
	if (!conn_alloc(c, id->verbs)) {
		conn_free_mem(c);
		request_reject(l, id, ch, peer, TT_NVRDMA_CM_NO_RESOURCES);
		return;
	}
	tt_nvmf_qpair_init(&c->qp, &qp_ops, port);
	/* Connect must name the queue this connection was made for, with no more entries */
	c->qp.qid_fixed = true;
	c->qp.fixed_qid = cm.qid;
	c->qp.max_entries = c->depth;
	snprintf(c->qp.peer, sizeof(c->qp.peer), "%s", peer);
	c->listener = l;
	tt_listener_get(l); /* dropped when the connection is freed */
	c->rc.id = id;
	c->rc.cm_ch = ch;
	c->rc.state = TT_RDMA_CONN_NEW;
	c->rc.ops = &nvr_rdma_ops;
	c->rc.id_log = c->qp.id;
	snprintf(c->rc.peer, sizeof(c->rc.peer), "%s", peer);
	tt_rdma_refs_get(&c->rc.refs, TT_RDMA_REF_UPPER); /* until conn_maybe_release */
	tt_list_add_tail(&conns, &c->node);
	/* every command may have its answer in flight while the next arrives: two slots per
	 * entry, each with at most two work requests on the send queue (WRITE + SEND or READ) */
	p.rq_depth = c->depth;
	p.sq_depth = 2u * c->nreqs;
	if (ibv_query_device(id->verbs, &da) == 0) {
		/* The CM request's values arrive from this side's point of view (the kernel's CM
		 * swaps them): initiator_depth is the RDMA READs we may have outstanding (the host's
		 * responder resources), responder_resources those the host may issue (none from a
		 * Linux host). With an initiator depth of 0 an RDMA READ would never be served. */
		p.initiator_depth = (uint8_t)(req->initiator_depth < da.max_qp_init_rd_atom ?
					      req->initiator_depth : da.max_qp_init_rd_atom);
		p.responder_resources = (uint8_t)(req->responder_resources < da.max_qp_rd_atom ?
						  req->responder_resources : da.max_qp_rd_atom);
	}
	if (!p.initiator_depth) {
		/* writes by keyed SGL need RDMA READs */
		tt_list_del(&c->node);
		tt_rdma_refs_put(&c->rc.refs, TT_RDMA_REF_UPPER, NULL);
		tt_listener_put(l);
		c->listener = NULL;
		conn_free_mem(c);
		request_reject(l, id, ch, peer, TT_NVRDMA_CM_INVALID_IRD);
		return;
	}
	tt_debug("nvme-rdma", "conn %llu %s: request on %s: qid %u, hsqsize %u, hrqsize %u, "
		 "RDMA READs out %u, in %u", cid_of(c), peer, l->name, cm.qid, cm.hsqsize,
		 cm.hrqsize, p.initiator_depth, p.responder_resources);
	rc = tt_rdma_conn_setup(&c->rc, &p);
	if (rc < 0) {
		tt_log_ratelimited(TT_LOG_WARN, "nvme-rdma", "conn %llu %s: connection refused: %s",
				   cid_of(c), peer, strerror(-rc));
		tt_rdma_conn_reject(&c->rc); /* closed follows, then the memory goes */
		return;
	}
	/* the receive ring is posted before the host may send anything */
	for (unsigned i = 0; i < c->depth; i++)
		rx_post(c, &c->rx[i]);
	if (c->rc.state != TT_RDMA_CONN_NEW) {
		tt_rdma_conn_reject(&c->rc);
		return;
	}
	tt_nvrdma_cm_accept(acc, c->depth);
	rc = tt_rdma_conn_accept(&c->rc, acc, sizeof(acc));
	if (rc < 0) {
		tt_log_ratelimited(TT_LOG_WARN, "nvme-rdma", "conn %llu %s: rdma_accept: %s",
				   cid_of(c), peer, strerror(-rc));
		tt_rdma_conn_reject(&c->rc);
		return;
	}
	tt_info("nvme-rdma", "conn %llu %s: qid %u accepted on %s (%u entries)", cid_of(c), peer,
		cm.qid, l->name, c->depth);
}

/* ---- listening ------------------------------------------------------------------------------- */

static void nvr_lost(void *arg, int err)
{
	tt_listener_lost(arg, err);
}

static int nvr_listen(struct tt_listener *l)
{
	struct tt_rdma_listener *rl;
	int rc;

	rc = tt_rdma_listen((const struct sockaddr *)&l->addr.ss, l->name, nvr_request, nvr_lost, l,
			    &rl);
	if (rc < 0)
		return rc;
	l->xport_priv = rl;
	return 0;
}

static void nvr_unlisten(struct tt_listener *l)
{
	struct tt_rdma_listener *rl = l->xport_priv;

	if (!rl)
		return;
	l->xport_priv = NULL;
	tt_rdma_unlisten(rl);
}

/* The listener layer's table: only listen and unlisten are used for this fabric. */
static const struct tt_xport_ops nvr_xport =
	TT_XPORT_LISTEN_ONLY("nvme-rdma", nvr_listen, nvr_unlisten);

/* Identifies the NVMe-oF core as the user of its listeners (no entry point is called). */
static const struct tt_xport_core nvr_core;

static int nvr_port_listen(struct tt_nvmf_port *p, char *err, size_t errlen)
{
	tt_xport_register_fabric(TT_FABRIC_NVME_RDMA, &nvr_xport);
	return tt_listener_acquire(&p->addr, &nvr_core, &p->listener, err, errlen);
}

static void nvr_port_unlisten(struct tt_nvmf_port *p)
{
	if (p->listener)
		tt_listener_release(p->listener);
	p->listener = NULL;
}

/* TSAS of NVMe/RDMA: RDMA_QPTYPE reliable connected (1), RDMA_PRTYPE not specified (1),
 * RDMA_CMS RDMA_CM (1), RDMA_PKEY 0 */
static void nvr_tsas(const struct tt_nvmf_port *p, uint8_t *tsas)
{
	(void)p;
	tsas[0] = 1;
	tsas[1] = 1;
	tsas[2] = 1;
}

static void nvr_close_all(void)
{
	struct tt_list *n;

	tt_list_for_each(n, &conns)
		conn_down(tt_list_entry(n, struct nvr_conn, node), 0, "shutting down");
}

static unsigned nvr_conn_count(void)
{
	return tt_list_count(&conns);
}

const struct tt_nvmf_port_xport tt_nvmf_rdma_port = {
	.name = "rdma",
	.trtype = 1,
	.admin_depth = TT_NVRDMA_ADMIN_DEPTH,
	.listen = nvr_port_listen,
	.unlisten = nvr_port_unlisten,
	.tsas = nvr_tsas,
	.close_all = nvr_close_all,
	.conn_count = nvr_conn_count,
};
