/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Controllers: the lifecycle (one enum, ctrl_set_state), references, Fabrics commands (Connect,
 * Property Get/Set), keep-alive, asynchronous events, and request dispatch and completion.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "nvmf/internal.h"

#define CAP_TO_500MS 30        /* CAP.TO: 15 s for CSTS.RDY to follow CC.EN */

static const char *const state_names[TT_NVMF_CTRL_STATE_COUNT] = {
	[TT_NVMF_CTRL_CONNECTED] = "connected",
	[TT_NVMF_CTRL_LIVE] = "live",
	[TT_NVMF_CTRL_SHUTDOWN] = "shutdown",
	[TT_NVMF_CTRL_ENDING] = "ending",
};

const char *tt_nvmf_ctrl_state_name(enum tt_nvmf_ctrl_state s)
{
	return s < TT_NVMF_CTRL_STATE_COUNT ? state_names[s] : "?";
}

bool tt_nvmf_ctrl_transition_ok(enum tt_nvmf_ctrl_state from, enum tt_nvmf_ctrl_state to)
{
	switch (to) {
	case TT_NVMF_CTRL_LIVE:
		return from == TT_NVMF_CTRL_CONNECTED;
	case TT_NVMF_CTRL_CONNECTED:
		return from == TT_NVMF_CTRL_LIVE || from == TT_NVMF_CTRL_SHUTDOWN;
	case TT_NVMF_CTRL_SHUTDOWN:
		return from == TT_NVMF_CTRL_LIVE;
	case TT_NVMF_CTRL_ENDING:
		return from == TT_NVMF_CTRL_CONNECTED || from == TT_NVMF_CTRL_LIVE ||
		       from == TT_NVMF_CTRL_SHUTDOWN;
	default:
		return false;
	}
}

void tt_nvmf_ctrl_get(struct tt_nvmf_ctrl *c)
{
	c->refs++;
}

static void connect_resume(struct tt_nvmf_req *r);

static void ctrl_free(struct tt_nvmf_ctrl *c)
{
	struct tt_list *n;

	tt_debug("nvmf", "controller %u freed", c->cntlid);
	tt_timer_cancel(&c->ka_timer);
	/* Connects of the same host waited for this controller's commands to be gone */
	while ((n = tt_list_pop(&c->waiters)) != NULL)
		connect_resume(tt_list_entry(n, struct tt_nvmf_req, node));
	tt_nvmf_resv_ctrl_end(c);
	if (c->port)
		tt_nvmf_port_put(c->port);
	tt_nvmf_subsys_put(c->subsys);
	free(c);
}

void tt_nvmf_ctrl_put(struct tt_nvmf_ctrl *c)
{
	if (--c->refs == 0)
		ctrl_free(c);
}

static void disconnect_io_queues(struct tt_nvmf_ctrl *c)
{
	struct tt_list *n;

	tt_list_for_each(n, &c->qpairs) {
		struct tt_nvmf_qpair *qp = tt_list_entry(n, struct tt_nvmf_qpair, node);

		if (qp->qid)
			qp->ops->disconnect(qp);
	}
}

/* The only writer of c->state. Returns 0, or -EINVAL for an edge the lifecycle does not have. */
static int ctrl_set_state(struct tt_nvmf_ctrl *c, enum tt_nvmf_ctrl_state to, const char *why)
{
	enum tt_nvmf_ctrl_state from = c->state;
	struct tt_list *n;

	if (!tt_nvmf_ctrl_transition_ok(from, to)) {
		tt_debug("nvmf", "controller %u: %s -> %s refused", c->cntlid,
			 tt_nvmf_ctrl_state_name(from), tt_nvmf_ctrl_state_name(to));
		return -EINVAL;
	}
	c->state = to;
	tt_info("nvmf", "controller %u of %s (host %s): %s -> %s (%s)", c->cntlid, c->subsys->nqn,
		c->hostnqn, tt_nvmf_ctrl_state_name(from), tt_nvmf_ctrl_state_name(to), why);
	switch (to) {
	case TT_NVMF_CTRL_LIVE:
		c->csts = TT_NVME_CSTS_RDY;
		break;
	case TT_NVMF_CTRL_CONNECTED:
		/* a controller reset: the I/O queues go, the admin queue stays */
		c->csts = 0;
		disconnect_io_queues(c);
		break;
	case TT_NVMF_CTRL_SHUTDOWN:
		/* backend writes complete only once durable or flushed by the host: nothing to wait for */
		c->csts |= TT_NVME_CSTS_SHST_DONE;
		break;
	case TT_NVMF_CTRL_ENDING:
		tt_timer_cancel(&c->ka_timer);
		tt_list_del(&c->node);
		tt_list_init(&c->node);
		/* parked Async Event Requests: aborted (each drops its reference when completed) */
		while ((n = tt_list_pop(&c->aers)) != NULL) {
			c->naers--;
			tt_nvmf_req_done(tt_list_entry(n, struct tt_nvmf_req, node),
					 TT_NVME_SC_ABORT_REQ, 0);
		}
		tt_list_for_each(n, &c->qpairs)
			tt_list_entry(n, struct tt_nvmf_qpair, node)->ops->disconnect(
				tt_list_entry(n, struct tt_nvmf_qpair, node));
		tt_nvmf_ctrl_put(c); /* the subsystem's */
		break;
	default:
		break;
	}
	return 0;
}

void tt_nvmf_ctrl_end(struct tt_nvmf_ctrl *c, const char *why)
{
	if (c->state != TT_NVMF_CTRL_ENDING)
		ctrl_set_state(c, TT_NVMF_CTRL_ENDING, why);
}

/* ---- keep-alive ------------------------------------------------------------------------------ */

static void ka_expired(struct tt_timer *t)
{
	struct tt_nvmf_ctrl *c = tt_container_of(t, struct tt_nvmf_ctrl, ka_timer);
	uint64_t now = tt_now_ns(), kato_ns = (uint64_t)c->kato_ms * TT_NS_PER_MS;

	if (!c->kato_ms)
		return;
	if (now - c->last_ka_ns < kato_ns) {
		tt_timer_arm_ns(t, kato_ns - (now - c->last_ka_ns));
		return;
	}
	tt_warn("nvmf", "controller %u of %s (host %s): no Keep Alive for %u ms", c->cntlid,
		c->subsys->nqn, c->hostnqn, c->kato_ms);
	tt_nvmf_ctrl_end(c, "keep-alive timeout");
}

static void ka_arm(struct tt_nvmf_ctrl *c)
{
	c->last_ka_ns = tt_now_ns();
	if (c->kato_ms)
		tt_timer_arm_ms(&c->ka_timer, c->kato_ms);
	else
		tt_timer_cancel(&c->ka_timer);
}

void tt_nvmf_ctrl_keep_alive(struct tt_nvmf_ctrl *c)
{
	c->last_ka_ns = tt_now_ns();
}

/* ---- asynchronous events --------------------------------------------------------------------- */

static void aen_deliver(struct tt_nvmf_ctrl *c)
{
	while (c->npending_aen && !tt_list_empty(&c->aers)) {
		struct tt_nvmf_req *r = tt_list_entry(tt_list_pop(&c->aers), struct tt_nvmf_req, node);
		uint32_t dw0 = c->pending_aen[0];

		c->naers--;
		memmove(c->pending_aen, c->pending_aen + 1, --c->npending_aen * sizeof(uint32_t));
		tt_nvmf_req_done(r, TT_NVME_SC_SUCCESS, dw0);
	}
}

void tt_nvmf_ctrl_event(struct tt_nvmf_ctrl *c, uint32_t dw0)
{
	if (c->npending_aen < sizeof(c->pending_aen) / sizeof(c->pending_aen[0]))
		c->pending_aen[c->npending_aen++] = dw0;
	aen_deliver(c);
}

void tt_nvmf_ctrl_aer(struct tt_nvmf_req *r)
{
	struct tt_nvmf_ctrl *c = r->ctrl;

	if (c->naers >= TT_NVMF_AER_MAX) {
		tt_nvmf_req_done(r, TT_NVME_SCT_CMD | TT_NVME_SC_AER_LIMIT | TT_NVME_DNR, 0);
		return;
	}
	c->naers++;
	tt_list_add_tail(&c->aers, &r->node);
	aen_deliver(c);
}

/* Namespace attribute notice: type 2 (notice), information 0, log page 04h. */
#define AEN_NS_CHANGED (0x2u | 0x00u << 8 | (uint32_t)TT_NVME_LOG_CHANGED_NS << 16)

void tt_nvmf_ctrl_ns_changed(struct tt_nvmf_ctrl *c, uint32_t nsid)
{
	bool seen = false;

	if (c->nchanged <= TT_NVMF_MAX_NAMESPACES) {
		for (unsigned i = 0; i < c->nchanged; i++)
			seen |= c->changed_ns[i] == nsid;
		if (!seen && c->nchanged < TT_NVMF_MAX_NAMESPACES)
			c->changed_ns[c->nchanged++] = nsid;
		else if (!seen)
			c->nchanged = TT_NVMF_MAX_NAMESPACES + 1; /* overflow: 0xffffffff */
	}
	if (c->state == TT_NVMF_CTRL_LIVE && (c->aec & (1u << 8)) && !c->aen_ns_masked) {
		c->aen_ns_masked = true; /* until the host reads the log page */
		tt_nvmf_ctrl_event(c, AEN_NS_CHANGED);
	}
}

/* Asymmetric Namespace Access Change notice: type 2 (notice), information 03h, log page 0Ch. */
#define AEN_ANA_CHANGED (0x2u | 0x03u << 8 | (uint32_t)TT_NVME_LOG_ANA << 16)

uint32_t tt_nvmf_ctrl_ana_group(const struct tt_nvmf_ctrl *c)
{
	return c->port ? c->port->ana_group : 1;
}

void tt_nvmf_ctrl_ana_changed(struct tt_nvmf_ctrl *c)
{
	if (c->state == TT_NVMF_CTRL_LIVE && (c->aec & (1u << 11)) && !c->aen_ana_masked) {
		c->aen_ana_masked = true; /* until the host reads the ANA log page */
		tt_nvmf_ctrl_event(c, AEN_ANA_CHANGED);
	}
}

/* Discovery Log Page Change notice: type 2 (notice), information F0h, log page 70h. */
#define AEN_DISC_CHANGED (0x2u | 0xf0u << 8 | (uint32_t)TT_NVME_LOG_DISCOVERY << 16)

void tt_nvmf_ctrl_discovery_changed(struct tt_nvmf_ctrl *c)
{
	if (c->state == TT_NVMF_CTRL_LIVE && (c->aec & (1u << 31)) && !c->aen_disc_masked) {
		c->aen_disc_masked = true; /* until the host reads the discovery log page */
		tt_nvmf_ctrl_event(c, AEN_DISC_CHANGED);
	}
}

/* ---- requests -------------------------------------------------------------------------------- */

void tt_nvmf_req_done(struct tt_nvmf_req *r, uint16_t status, uint32_t dw0)
{
	struct tt_nvmf_qpair *qp = r->qp;
	struct tt_nvmf_ctrl *c = r->ctrl;

	memset(r->cqe, 0, sizeof(r->cqe));
	tt_put_le32(r->cqe, dw0);
	tt_put_le32(r->cqe + 4, r->dw1);
	if (qp->sqsize)
		qp->sqhd = (uint16_t)((qp->sqhd + 1) % qp->sqsize);
	tt_put_le16(r->cqe + 8, qp->sqhd);
	tt_put_le16(r->cqe + 10, qp->qid);
	memcpy(r->cqe + 12, r->sqe + TT_SQE_CID, 2);
	tt_put_le16(r->cqe + 14, tt_nvme_status_field(status));
	if (status != TT_NVME_SC_SUCCESS) {
		if (r->dir == TT_NVMF_DIR_C2H)
			r->xfer_len = 0;
		if (c)
			c->errors++;
		tt_debug("nvmf", "qpair %llu qid %u: opcode %02x cid %u: status %03x",
			 (unsigned long long)qp->id, qp->qid, r->sqe[0], tt_le16(r->sqe + 2), status);
	}
	r->ctrl = NULL;
	qp->ops->complete(r);
	if (c)
		tt_nvmf_ctrl_put(c);
}

void tt_nvmf_req_fail(struct tt_nvmf_req *r, uint16_t status)
{
	r->ctrl = NULL;
	r->dw1 = 0;
	tt_nvmf_req_done(r, status, 0);
}

void tt_nvmf_req_exec(struct tt_nvmf_req *r)
{
	struct tt_nvmf_qpair *qp = r->qp;
	struct tt_nvmf_ctrl *c = qp->ctrl;
	uint8_t opc = r->sqe[TT_SQE_OPC];

	r->ctrl = NULL;
	r->status = 0;
	r->dw1 = 0;
	if (opc == TT_NVME_FABRICS) {
		tt_nvmf_ctrl_fabrics(r);
		return;
	}
	if (!c || c->state == TT_NVMF_CTRL_ENDING) {
		tt_nvmf_req_done(r, TT_NVME_SC_CMD_SEQ_ERROR | TT_NVME_DNR, 0);
		return;
	}
	if (c->state == TT_NVMF_CTRL_CONNECTED) {
		/* CC.EN=0: only properties */
		tt_nvmf_req_done(r, TT_NVME_SC_CMD_SEQ_ERROR, 0);
		return;
	}
	r->ctrl = c;
	tt_nvmf_ctrl_get(c); /* the request's, dropped in tt_nvmf_req_done */
	/* traffic based keep-alive (CTRATT.TBKAS): any command restarts the timer */
	tt_nvmf_ctrl_keep_alive(c);
	if (qp->qid == 0)
		tt_nvmf_admin_exec(r);
	else
		tt_nvmf_io_exec(r);
}

/* ---- queue pairs ----------------------------------------------------------------------------- */

static uint64_t qpair_ids;

void tt_nvmf_qpair_init(struct tt_nvmf_qpair *qp, const struct tt_nvmf_qpair_ops *ops,
			struct tt_nvmf_port *port)
{
	memset(qp, 0, sizeof(*qp));
	qp->ops = ops;
	qp->port = port;
	qp->id = ++qpair_ids;
	tt_list_init(&qp->node);
	tt_list_init(&qp->port_node);
	if (port) {
		tt_nvmf_port_get(port); /* the queue pair's, dropped in tt_nvmf_qpair_fini */
		tt_list_add_tail(&port->qpairs, &qp->port_node);
	}
}

void tt_nvmf_qpair_fini(struct tt_nvmf_qpair *qp)
{
	struct tt_nvmf_port *p = qp->port;

	if (!p)
		return;
	qp->port = NULL;
	tt_list_del(&qp->port_node);
	tt_list_init(&qp->port_node);
	tt_nvmf_port_put(p);
}

void tt_nvmf_qpair_closed(struct tt_nvmf_qpair *qp)
{
	struct tt_nvmf_ctrl *c = qp->ctrl;

	if (qp->closed)
		return;
	qp->closed = true;
	if (!c)
		return;
	tt_list_del(&qp->node);
	tt_list_init(&qp->node);
	if (c->qps[qp->qid] == qp)
		c->qps[qp->qid] = NULL;
	qp->ctrl = NULL;
	if (qp->qid == 0)
		tt_nvmf_ctrl_end(c, "admin queue closed");
	tt_nvmf_ctrl_put(c); /* the queue pair's */
}

/* ---- Fabrics commands ------------------------------------------------------------------------ */

/* Connect data */
#define CD_HOSTID 0
#define CD_CNTLID 16
#define CD_SUBNQN 256
#define CD_HOSTNQN 512
#define CD_LEN 1024

/* Connect Invalid Parameters: dword 0 names the bad field (IATTR 1: in the data, at IPO). */
static void connect_invalid(struct tt_nvmf_req *r, bool in_data, uint16_t offset)
{
	tt_nvmf_req_done(r, TT_NVME_SCT_CMD | TT_NVME_SC_CONNECT_INVALID_PARAM | TT_NVME_DNR,
			 (uint32_t)(in_data ? 1 : 0) | (uint32_t)offset << 16);
}

static bool nqn_field(const uint8_t *p, char *out)
{
	size_t n = strnlen((const char *)p, 256);

	if (n == 0 || n > TT_NVMF_NQN_MAX)
		return false;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

static struct tt_nvmf_ctrl *same_host(struct tt_nvmf_subsys *s, const char *hostnqn,
				      const uint8_t hostid[16], const struct tt_nvmf_port *port)
{
	struct tt_list *n;

	tt_list_for_each(n, &s->ctrls) {
		struct tt_nvmf_ctrl *c = tt_list_entry(n, struct tt_nvmf_ctrl, node);

		if (!strcmp(c->hostnqn, hostnqn) && !memcmp(c->hostid, hostid, 16) &&
		    c->port == port)
			return c;
	}
	return NULL;
}

static uint16_t next_cntlid(struct tt_nvmf_subsys *s)
{
	for (unsigned tries = 0; tries < 0xffef; tries++) {
		uint16_t id = s->next_cntlid;
		struct tt_list *n;
		bool used = false;

		s->next_cntlid = id >= 0xffef ? 1 : (uint16_t)(id + 1);
		tt_list_for_each(n, &s->ctrls)
			used |= tt_list_entry(n, struct tt_nvmf_ctrl, node)->cntlid == id;
		if (!used)
			return id;
	}
	return 0;
}

static void connect_admin(struct tt_nvmf_req *r, struct tt_nvmf_subsys *s, const char *hostnqn)
{
	struct tt_nvmf_qpair *qp = r->qp;
	const uint8_t *d = r->buf;
	struct tt_nvmf_ctrl *c, *old;

	if (tt_le16(d + CD_CNTLID) != 0xffff) {
		connect_invalid(r, true, CD_CNTLID); /* dynamic controller model only */
		return;
	}
	old = s->discovery ? NULL : same_host(s, hostnqn, d + CD_HOSTID, qp->port);
	if (old) {
		/* the same host again through the same port: the old association is dead to it. Its
		 * commands drain before this Connect completes. */
		tt_list_add_tail(&old->waiters, &r->node);
		tt_nvmf_ctrl_end(old, "replaced by a new association of the same host");
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		tt_nvmf_req_done(r, TT_NVME_SC_INTERNAL, 0);
		return;
	}
	c->cntlid = next_cntlid(s);
	if (!c->cntlid) {
		free(c);
		tt_nvmf_req_done(r, TT_NVME_SCT_CMD | TT_NVME_SC_CONNECT_CTRL_BUSY, 0);
		return;
	}
	c->subsys = s;
	s->refs++; /* the controller's, dropped when it is freed */
	c->state = TT_NVMF_CTRL_CONNECTED; /* the initial state, not a transition */
	c->refs = 2; /* the subsystem's, the admin queue's */
	snprintf(c->hostnqn, sizeof(c->hostnqn), "%s", hostnqn);
	memcpy(c->hostid, d + CD_HOSTID, 16);
	c->port = qp->port;
	if (c->port)
		tt_nvmf_port_get(c->port); /* the controller's, dropped when it is freed */
	c->kato_ms = tt_le32(r->sqe + 48);
	c->wce = true;
	tt_list_init(&c->qpairs);
	tt_list_init(&c->aers);
	tt_list_init(&c->waiters);
	tt_timer_init(&c->ka_timer, tt_loop_current(), ka_expired);
	tt_list_add_tail(&s->ctrls, &c->node);
	qp->ctrl = c;
	qp->connected = true;
	c->qps[0] = qp;
	tt_list_add_tail(&c->qpairs, &qp->node);
	ka_arm(c);
	tt_nvmf_resv_ctrl_start(c);
	tt_info("nvmf", "controller %u of %s created for host %s (%s, keep-alive %u ms)",
		c->cntlid, s->nqn, hostnqn, qp->peer, c->kato_ms);
	tt_nvmf_req_done(r, TT_NVME_SC_SUCCESS, c->cntlid);
}

static void connect_io(struct tt_nvmf_req *r, struct tt_nvmf_subsys *s, const char *hostnqn,
		       uint16_t qid)
{
	struct tt_nvmf_qpair *qp = r->qp;
	const uint8_t *d = r->buf;
	uint16_t cntlid = tt_le16(d + CD_CNTLID);
	struct tt_nvmf_ctrl *c = NULL;
	struct tt_list *n;

	tt_list_for_each(n, &s->ctrls) {
		struct tt_nvmf_ctrl *x = tt_list_entry(n, struct tt_nvmf_ctrl, node);

		if (x->cntlid == cntlid)
			c = x;
	}
	if (!c || strcmp(c->hostnqn, hostnqn) || memcmp(c->hostid, d + CD_HOSTID, 16)) {
		connect_invalid(r, true, CD_CNTLID);
		return;
	}
	if (s->discovery || c->state != TT_NVMF_CTRL_LIVE) {
		tt_nvmf_req_done(r, TT_NVME_SC_CMD_SEQ_ERROR, 0);
		return;
	}
	if (qid > TT_NVMF_MAX_IO_QUEUES || (c->io_queues && qid > c->io_queues) || c->qps[qid]) {
		connect_invalid(r, false, 42); /* QID */
		return;
	}
	tt_nvmf_ctrl_get(c); /* the queue pair's */
	qp->ctrl = c;
	qp->connected = true;
	c->qps[qid] = qp;
	tt_list_add_tail(&c->qpairs, &qp->node);
	tt_nvmf_req_done(r, TT_NVME_SC_SUCCESS, 0);
}

static void nvmf_connect(struct tt_nvmf_req *r)
{
	struct tt_nvmf_qpair *qp = r->qp;
	uint16_t qid = tt_le16(r->sqe + 42), sqsize = tt_le16(r->sqe + 44);
	char subnqn[TT_NVMF_NQN_MAX + 1], hostnqn[TT_NVMF_NQN_MAX + 1];
	struct tt_nvmf_subsys *s;

	if (qp->connected || qp->closed ||
	    (qp->port && qp->port->state == TT_NVMF_PORT_REMOVED)) {
		/* (a queue whose port was removed is being disconnected: nothing serves it) */
		tt_nvmf_req_done(r, TT_NVME_SC_CMD_SEQ_ERROR | TT_NVME_DNR, 0);
		return;
	}
	if (tt_le16(r->sqe + 40) != 0) {
		tt_nvmf_req_done(r, TT_NVME_SCT_CMD | 0x80 | TT_NVME_DNR, 0); /* incompatible format */
		return;
	}
	if (r->len < CD_LEN || !r->buf) {
		tt_nvmf_req_done(r, TT_NVME_SC_SGL_INVALID_DATA | TT_NVME_DNR, 0);
		return;
	}
	if (sqsize == 0 || sqsize >= TT_NVMF_MAX_QUEUE_DEPTH ||
	    (qp->max_entries && sqsize + 1u > qp->max_entries)) {
		connect_invalid(r, false, 44); /* SQSIZE */
		return;
	}
	if (qp->qid_fixed && qid != qp->fixed_qid) {
		/* the transport's connection was made for another queue (NVMe/RDMA: CM request) */
		connect_invalid(r, false, 42); /* QID */
		return;
	}
	if (!nqn_field(r->buf + CD_SUBNQN, subnqn)) {
		connect_invalid(r, true, CD_SUBNQN);
		return;
	}
	if (!nqn_field(r->buf + CD_HOSTNQN, hostnqn)) {
		connect_invalid(r, true, CD_HOSTNQN);
		return;
	}
	s = tt_nvmf_subsys_find(subnqn);
	if (!s) {
		tt_notice("nvmf", "%s: Connect to unknown subsystem %s", qp->peer, subnqn);
		connect_invalid(r, true, CD_SUBNQN);
		return;
	}
	if (!tt_nvmf_host_allowed(s, hostnqn)) {
		tt_notice("nvmf", "%s: host %s is not allowed in %s", qp->peer, hostnqn, subnqn);
		tt_nvmf_req_done(r, TT_NVME_SCT_CMD | TT_NVME_SC_CONNECT_INVALID_HOST | TT_NVME_DNR, 0);
		return;
	}
	qp->qid = qid;
	qp->sqsize = (uint16_t)(sqsize + 1);
	if (qid == 0)
		connect_admin(r, s, hostnqn);
	else
		connect_io(r, s, hostnqn, qid);
}

/* A Connect parked on a replaced controller, once that one is freed. */
static void connect_resume(struct tt_nvmf_req *r)
{
	if (r->qp->closed) {
		tt_nvmf_req_done(r, TT_NVME_SC_CMD_SEQ_ERROR, 0);
		return;
	}
	nvmf_connect(r);
}

static uint64_t prop_cap(void)
{
	return (uint64_t)(TT_NVMF_MAX_QUEUE_DEPTH - 1) | /* MQES */
	       (1ull << 16) |                            /* CQR: contiguous queues */
	       ((uint64_t)CAP_TO_500MS << 24) |          /* TO */
	       (1ull << 37);                             /* CSS: NVM command set */
}

static void prop_get(struct tt_nvmf_req *r, struct tt_nvmf_ctrl *c)
{
	uint32_t ofst = tt_le32(r->sqe + 44);
	bool eight = (r->sqe[40] & 0x7) == 1;
	uint64_t v;

	switch (ofst) {
	case TT_NVME_REG_CAP: v = prop_cap(); break;
	case TT_NVME_REG_VS: v = TT_NVME_VS_1_3; break;
	case TT_NVME_REG_CC: v = c->cc; break;
	case TT_NVME_REG_CSTS: v = c->csts; break;
	default:
		tt_nvmf_req_done(r, TT_NVME_SC_INVALID_FIELD | TT_NVME_DNR, 0);
		return;
	}
	if (!eight && ofst == TT_NVME_REG_CAP) {
		tt_nvmf_req_done(r, TT_NVME_SC_INVALID_FIELD | TT_NVME_DNR, 0);
		return;
	}
	r->dw1 = (uint32_t)(v >> 32);
	tt_nvmf_req_done(r, TT_NVME_SC_SUCCESS, (uint32_t)v);
}

static void prop_set(struct tt_nvmf_req *r, struct tt_nvmf_ctrl *c)
{
	uint32_t ofst = tt_le32(r->sqe + 44), v = tt_le32(r->sqe + 48), old = c->cc;

	if (ofst != TT_NVME_REG_CC) {
		tt_nvmf_req_done(r, TT_NVME_SC_INVALID_FIELD | TT_NVME_DNR, 0);
		return;
	}
	c->cc = v;
	if (!(old & TT_NVME_CC_EN) && (v & TT_NVME_CC_EN)) {
		if (((v >> 4) & 0x7) != 0 || ((v >> 7) & 0xf) != 0) {
			/* CSS other than NVM, memory pages other than 4 KiB: controller fatal */
			c->csts |= TT_NVME_CSTS_CFS;
		} else {
			ctrl_set_state(c, TT_NVMF_CTRL_LIVE, "CC.EN=1");
		}
	} else if ((old & TT_NVME_CC_EN) && !(v & TT_NVME_CC_EN)) {
		ctrl_set_state(c, TT_NVMF_CTRL_CONNECTED, "CC.EN=0");
	}
	if ((v & TT_NVME_CC_SHN_MASK) && c->state == TT_NVMF_CTRL_LIVE)
		ctrl_set_state(c, TT_NVMF_CTRL_SHUTDOWN, "CC.SHN");
	tt_nvmf_req_done(r, TT_NVME_SC_SUCCESS, 0);
}

void tt_nvmf_ctrl_fabrics(struct tt_nvmf_req *r)
{
	struct tt_nvmf_qpair *qp = r->qp;
	struct tt_nvmf_ctrl *c = qp->ctrl;
	uint8_t fctype = r->sqe[TT_SQE_FCTYPE];

	if (fctype == TT_NVMF_CONNECT) {
		nvmf_connect(r);
		return;
	}
	if (!c || c->state == TT_NVMF_CTRL_ENDING) {
		tt_nvmf_req_done(r, TT_NVME_SC_CMD_SEQ_ERROR | TT_NVME_DNR, 0);
		return;
	}
	if (qp->qid != 0 || (fctype != TT_NVMF_PROP_GET && fctype != TT_NVMF_PROP_SET)) {
		tt_nvmf_req_done(r, TT_NVME_SC_INVALID_OPCODE | TT_NVME_DNR, 0);
		return;
	}
	r->ctrl = c;
	tt_nvmf_ctrl_get(c);
	if (fctype == TT_NVMF_PROP_GET)
		prop_get(r, c);
	else
		prop_set(r, c);
}
