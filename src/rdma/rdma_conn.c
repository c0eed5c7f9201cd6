/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RDMA connections (see rdma.h for the lifecycle and the references). Everything about a
 * connection happens on c->loop: its CM event channel and its completion channel are watched
 * there, completions are polled in batches, and teardown never waits: rdma_disconnect, the QP to
 * error, a drain marker posted, and the resources go only once every posted work request has
 * completed or been flushed and the upper layer has let go.
 */
#include "rdma/rdma.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "rdma/rdma_ctx.h"

#define POLL_BATCH 32      /* completions per ibv_poll_cq */
#define POLL_BUDGET 256    /* per wakeup, then yield to the other connections */
#define TT_RDMA_GONE_FLUSH_MS 1000 /* device removed: flushes awaited this long, then done here */

static void conn_closed_work(struct tt_work *w);
static void conn_free_work(struct tt_work *w);

static unsigned long long cid(const struct tt_rdma_conn *c)
{
	return (unsigned long long)c->id_log;
}

static void conn_ref_get(struct tt_rdma_conn *c, enum tt_rdma_ref h)
{
	tt_rdma_refs_get(&c->refs, h);
}

static void conn_ref_put(struct tt_rdma_conn *c, enum tt_rdma_ref h)
{
	bool under = false;
	bool last = tt_rdma_refs_put(&c->refs, h, &under);

	if (under)
		tt_err("rdma", "conn %llu %s: reference of %s dropped twice", cid(c), c->peer,
		       tt_rdma_ref_name(h));
	if (c->state == TT_RDMA_CONN_DRAINING && tt_rdma_refs_posted(&c->refs) == 0)
		tt_work_queue(&c->closed_work);
	if (last)
		tt_work_queue(&c->free_work);
}

static void conn_stop_watches(struct tt_rdma_conn *c)
{
	tt_watch_del(&c->comp_watch);
	tt_watch_del(&c->cm_watch);
}

static void drain_done(struct tt_rdma_conn *c, struct tt_rdma_wr *wr, const struct ibv_wc *wc)
{
	(void)wr;
	tt_debug("rdma", "conn %llu %s: drain marker back (%s)", cid(c), c->peer,
		 ibv_wc_status_str(wc->status));
}

int tt_rdma_conn_set_state(struct tt_rdma_conn *c, enum tt_rdma_conn_state to)
{
	enum tt_rdma_conn_state from = c->state;

	if (!tt_rdma_conn_transition_ok(from, to)) {
		tt_err("rdma", "conn %llu %s: no transition %s -> %s", cid(c), c->peer,
		       tt_rdma_conn_state_name(from), tt_rdma_conn_state_name(to));
		return -EINVAL;
	}
	c->state = to;
	tt_debug("rdma", "conn %llu %s: %s -> %s", cid(c), c->peer, tt_rdma_conn_state_name(from),
		 tt_rdma_conn_state_name(to));
	switch (to) {
	case TT_RDMA_CONN_DRAINING: {
		struct ibv_qp_attr attr = { .qp_state = IBV_QPS_ERR };

		if (from == TT_RDMA_CONN_NEW) {
			/* never accepted */
			if (rdma_reject(c->id, NULL, 0))
				tt_debug("rdma", "conn %llu %s: rdma_reject: %s", cid(c), c->peer,
					 strerror(errno));
		} else {
			/* no wait for the CM or the peer */
			if (rdma_disconnect(c->id))
				tt_debug("rdma", "conn %llu %s: rdma_disconnect: %s", cid(c), c->peer,
					 strerror(errno));
		}
		if (c->id->qp) {
			if (ibv_modify_qp(c->id->qp, &attr, IBV_QP_STATE))
				tt_warn("rdma", "conn %llu %s: QP to error: %s", cid(c), c->peer,
					strerror(errno));
			/* the marker comes back flushed after everything posted before it */
			struct ibv_send_wr swr = {
				.wr_id = (uintptr_t)&c->drain_wr,
				.opcode = IBV_WR_SEND,
				.send_flags = IBV_SEND_SIGNALED,
			}, *bad;
			c->drain_wr.holder = TT_RDMA_REF_DRAIN;
			c->drain_wr.done = drain_done;
			if (ibv_post_send(c->id->qp, &swr, &bad) == 0) {
				tt_list_add_tail(&c->posted, &c->drain_wr.node);
				conn_ref_get(c, TT_RDMA_REF_DRAIN);
			} else
				tt_debug("rdma", "conn %llu %s: drain marker: %s", cid(c), c->peer,
					 strerror(errno));
		}
		/* the CM stays watched for DEVICE_REMOVAL; completions keep coming */
		if (tt_rdma_refs_posted(&c->refs) == 0)
			tt_work_queue(&c->closed_work);
		break;
	}
	case TT_RDMA_CONN_CLOSED:
		conn_stop_watches(c);
		tt_work_cancel(&c->poll_work);
		tt_timer_cancel(&c->gone_timer);
		break;
	default:
		break;
	}
	return 0;
}

void tt_rdma_conn_down(struct tt_rdma_conn *c, int err, const char *why)
{
	if (c->state == TT_RDMA_CONN_DRAINING || c->state == TT_RDMA_CONN_CLOSED) {
		if (!c->err)
			c->err = err;
		return;
	}
	c->err = err;
	if (why)
		tt_log_ratelimited(TT_LOG_NOTICE, "rdma", "conn %llu %s: %s%s%s", cid(c), c->peer, why,
				   err ? ": " : "", err ? strerror(-err) : "");
	tt_rdma_conn_set_state(c, TT_RDMA_CONN_DRAINING);
}

static void conn_closed_work(struct tt_work *w)
{
	struct tt_rdma_conn *c = tt_container_of(w, struct tt_rdma_conn, closed_work);

	if (c->state != TT_RDMA_CONN_DRAINING || tt_rdma_refs_posted(&c->refs))
		return;
	tt_rdma_conn_set_state(c, TT_RDMA_CONN_CLOSED);
	if (!c->closed_reported) {
		c->closed_reported = true;
		if (c->ops && c->ops->closed)
			c->ops->closed(c, c->err);
	}
}

static void conn_destroy(struct tt_rdma_conn *c)
{
	conn_stop_watches(c);
	tt_work_cancel(&c->poll_work);
	tt_work_cancel(&c->closed_work);
	tt_work_cancel(&c->free_work);
	if (c->gone_timer.fn)
		tt_timer_cancel(&c->gone_timer);
	if (c->id && c->id->qp)
		rdma_destroy_qp(c->id);
	if (c->cq && ibv_destroy_cq(c->cq))
		tt_warn("rdma", "conn %llu %s: ibv_destroy_cq: %s", cid(c), c->peer, strerror(errno));
	if (c->comp_ch)
		ibv_destroy_comp_channel(c->comp_ch);
	if (c->id) {
		struct ibv_context *verbs = c->id->verbs;

		rdma_destroy_id(c->id);
		tt_rdma_ctx_release(verbs);
	}
	if (c->cm_ch)
		rdma_destroy_event_channel(c->cm_ch);
	tt_rdma_dev_put(c->dev);
	tt_debug("rdma", "conn %llu %s: freed", cid(c), c->peer);
}

static void conn_free_work(struct tt_work *w)
{
	struct tt_rdma_conn *c = tt_container_of(w, struct tt_rdma_conn, free_work);

	if (tt_rdma_refs_total(&c->refs))
		return;
	conn_destroy(c);
	/* the upper layer embeds the connection: the memory is its own */
	if (c->ops && c->ops->freed)
		c->ops->freed(c);
}

void tt_rdma_conn_put(struct tt_rdma_conn *c)
{
	conn_ref_put(c, TT_RDMA_REF_UPPER);
}

/* ---- completions ---- */

static void conn_complete(struct tt_rdma_conn *c, const struct ibv_wc *wc)
{
	struct tt_rdma_wr *wr = (struct tt_rdma_wr *)(uintptr_t)wc->wr_id;
	enum tt_rdma_ref holder = wr->holder;

	if (tt_list_linked(&wr->node))
		tt_list_del(&wr->node);
	if (wc->status != IBV_WC_SUCCESS && wc->status != IBV_WC_WR_FLUSH_ERR)
		tt_rdma_conn_down(c, -EIO, ibv_wc_status_str(wc->status));
	else if (wc->status == IBV_WC_WR_FLUSH_ERR)
		tt_rdma_conn_down(c, -ECONNRESET, NULL);
	if (wr->done)
		wr->done(c, wr, wc);
	/* after the hook: it may post again, or free what the work request pointed into */
	conn_ref_put(c, holder);
}

/* Returns true when the budget ran out (more may be waiting). */
static bool conn_poll(struct tt_rdma_conn *c)
{
	struct ibv_wc wc[POLL_BATCH];
	unsigned done = 0;
	int n;

	/* (a last reference dropped here frees the connection from deferred work, not inline) */
	do {
		n = ibv_poll_cq(c->cq, POLL_BATCH, wc);
		if (n < 0) {
			tt_rdma_conn_down(c, -EIO, "ibv_poll_cq");
			break;
		}
		for (int i = 0; i < n; i++)
			conn_complete(c, &wc[i]);
		done += (unsigned)n;
	} while (n == POLL_BATCH && done < POLL_BUDGET);
	return n == POLL_BATCH;
}

static void conn_poll_work(struct tt_work *w)
{
	struct tt_rdma_conn *c = tt_container_of(w, struct tt_rdma_conn, poll_work);

	if (c->cq && c->state != TT_RDMA_CONN_CLOSED && conn_poll(c))
		tt_work_queue(&c->poll_work);
}

static void conn_comp_ready(struct tt_watch *w, uint32_t events)
{
	struct tt_rdma_conn *c = tt_container_of(w, struct tt_rdma_conn, comp_watch);
	struct ibv_cq *cq;
	void *ctx;

	(void)events;
	if (ibv_get_cq_event(c->comp_ch, &cq, &ctx) == 0) {
		ibv_ack_cq_events(cq, 1);
		if (ibv_req_notify_cq(cq, 0))
			tt_rdma_conn_down(c, -EIO, "ibv_req_notify_cq");
	}
	/* after re-arming: nothing that completes from now on is missed */
	if (!tt_list_linked(&c->poll_work.node) && conn_poll(c))
		tt_work_queue(&c->poll_work);
}

/* ---- device removal ---- */

/* The device was removed and work requests are still posted a while later: their flushes may
 * never come (a driver that disassociated has no queue left to flush). Once the QP is destroyed
 * the device no longer touches their memory: what the CQ still holds is delivered, the rest
 * completes here as flushed. */
static void conn_gone_expired(struct tt_timer *t)
{
	struct tt_rdma_conn *c = tt_container_of(t, struct tt_rdma_conn, gone_timer);
	unsigned n = 0;

	if (c->state != TT_RDMA_CONN_DRAINING || !tt_rdma_refs_posted(&c->refs))
		return;
	tt_warn("rdma", "conn %llu %s: device removed, %u work request(s) not flushed after %u ms: "
		"queue pair destroyed, completed here", cid(c), c->peer, tt_rdma_refs_posted(&c->refs),
		TT_RDMA_GONE_FLUSH_MS);
	if (c->id->qp)
		rdma_destroy_qp(c->id);
	tt_work_cancel(&c->poll_work);
	while (c->cq && conn_poll(c))
		;
	while (!tt_list_empty(&c->posted) && c->state == TT_RDMA_CONN_DRAINING) {
		struct tt_rdma_wr *wr = tt_list_first(&c->posted, struct tt_rdma_wr, node);
		struct ibv_wc wc = {
			.wr_id = (uintptr_t)wr,
			.status = IBV_WC_WR_FLUSH_ERR,
		};

		conn_complete(c, &wc);
		n++;
	}
	tt_debug("rdma", "conn %llu %s: %u work request(s) completed as flushed", cid(c), c->peer, n);
}

static void conn_device_gone(struct tt_rdma_conn *c)
{
	if (c->device_gone)
		return;
	c->device_gone = true;
	tt_rdma_ctx_removed(c->id->verbs);
	tt_rdma_conn_down(c, -ENODEV, "device removed");
	if (c->state == TT_RDMA_CONN_DRAINING && tt_rdma_refs_posted(&c->refs))
		tt_timer_arm_ms(&c->gone_timer, TT_RDMA_GONE_FLUSH_MS);
}

/* ---- CM events of the connection ---- */

static void conn_cm_ready(struct tt_watch *w, uint32_t events)
{
	struct tt_rdma_conn *c = tt_container_of(w, struct tt_rdma_conn, cm_watch);
	struct rdma_cm_event *ev;
	enum rdma_cm_event_type type;
	int status;

	(void)events;
	if (rdma_get_cm_event(c->cm_ch, &ev))
		return; /* nonblocking: nothing yet */
	type = ev->event;
	status = ev->status;
	rdma_ack_cm_event(ev);
	tt_debug("rdma", "conn %llu %s: %s (%d)", cid(c), c->peer, rdma_event_str(type), status);
	switch (type) {
	case RDMA_CM_EVENT_ESTABLISHED:
		if (c->state == TT_RDMA_CONN_ACCEPTING) {
			tt_rdma_conn_set_state(c, TT_RDMA_CONN_ESTABLISHED);
			if (c->ops && c->ops->established)
				c->ops->established(c);
		}
		break;
	case RDMA_CM_EVENT_DISCONNECTED:
	case RDMA_CM_EVENT_TIMEWAIT_EXIT:
		tt_rdma_conn_down(c, 0, NULL);
		break;
	case RDMA_CM_EVENT_DEVICE_REMOVAL:
		conn_device_gone(c);
		break;
	case RDMA_CM_EVENT_ADDR_CHANGE:
		tt_rdma_conn_down(c, -EADDRNOTAVAIL, "address changed");
		break;
	case RDMA_CM_EVENT_CONNECT_ERROR:
	case RDMA_CM_EVENT_UNREACHABLE:
	case RDMA_CM_EVENT_REJECTED:
		tt_rdma_conn_down(c, status < 0 ? status : -ECONNREFUSED, rdma_event_str(type));
		break;
	default:
		break;
	}
}

/* ---- setup ---- */

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

int tt_rdma_conn_setup(struct tt_rdma_conn *c, const struct tt_rdma_conn_params *p)
{
	struct ibv_qp_init_attr qa;
	int rc;

	c->loop = tt_loop_current();
	if (!c->loop)
		return -EINVAL;
	c->params = *p;
	c->cm_watch.fd = -1;
	c->comp_watch.fd = -1;
	tt_work_init(&c->poll_work, c->loop, conn_poll_work);
	tt_work_init(&c->closed_work, c->loop, conn_closed_work);
	tt_work_init(&c->free_work, c->loop, conn_free_work);
	tt_list_init(&c->posted);
	tt_timer_init(&c->gone_timer, c->loop, conn_gone_expired);
	c->dev = tt_rdma_dev_get(c->id->verbs);
	if (!c->dev)
		return -ENOMEM;
	c->comp_ch = ibv_create_comp_channel(c->id->verbs);
	if (!c->comp_ch)
		return -errno ? -errno : -ENOMEM;
	c->cq = ibv_create_cq(c->id->verbs, (int)(p->sq_depth + p->rq_depth + 1), c, c->comp_ch, 0);
	if (!c->cq)
		return -errno ? -errno : -ENOMEM;
	memset(&qa, 0, sizeof(qa));
	qa.send_cq = c->cq;
	qa.recv_cq = c->cq;
	qa.qp_type = IBV_QPT_RC;
	qa.cap.max_send_wr = p->sq_depth + 1; /* + the drain marker */
	qa.cap.max_recv_wr = p->rq_depth;
	qa.cap.max_send_sge = p->max_sge;
	qa.cap.max_recv_sge = 1;
	if (rdma_create_qp(c->id, tt_rdma_dev_pd(c->dev), &qa))
		return -errno;
	if (ibv_req_notify_cq(c->cq, 0))
		return -errno;
	rc = set_nonblock(c->comp_ch->fd);
	if (rc == 0)
		rc = set_nonblock(c->cm_ch->fd);
	if (rc < 0)
		return rc;
	rc = tt_watch_add(c->loop, &c->comp_watch, c->comp_ch->fd, EPOLLIN, conn_comp_ready);
	if (rc < 0)
		return rc;
	return tt_watch_add(c->loop, &c->cm_watch, c->cm_ch->fd, EPOLLIN, conn_cm_ready);
}

int tt_rdma_conn_accept(struct tt_rdma_conn *c, const void *priv, uint8_t priv_len)
{
	struct rdma_conn_param cp = {
		.private_data = priv,
		.private_data_len = priv_len,
		.responder_resources = c->params.responder_resources,
		.initiator_depth = c->params.initiator_depth,
		.rnr_retry_count = 7, /* a full receive ring waits, it does not fail */
	};

	if (rdma_accept(c->id, &cp))
		return -errno;
	return tt_rdma_conn_set_state(c, TT_RDMA_CONN_ACCEPTING);
}

void tt_rdma_conn_reject(struct tt_rdma_conn *c)
{
	tt_rdma_conn_down(c, -ECONNREFUSED, NULL);
}

/* ---- posting ---- */

int tt_rdma_post_recv(struct tt_rdma_conn *c, struct tt_rdma_wr *wr, void *addr, uint32_t len,
		      uint32_t lkey)
{
	struct ibv_sge sge = { .addr = (uintptr_t)addr, .length = len, .lkey = lkey };
	struct ibv_recv_wr rwr = { .wr_id = (uintptr_t)wr, .sg_list = &sge, .num_sge = 1 }, *bad;
	int rc;

	if (c->state != TT_RDMA_CONN_NEW && !tt_rdma_conn_state_running(c->state))
		return -ENOTCONN;
	rc = ibv_post_recv(c->id->qp, &rwr, &bad);
	if (rc)
		return -rc;
	wr->holder = TT_RDMA_REF_RECV;
	tt_list_add_tail(&c->posted, &wr->node);
	conn_ref_get(c, TT_RDMA_REF_RECV);
	return 0;
}

static int post_send(struct tt_rdma_conn *c, struct tt_rdma_wr *wr, struct ibv_send_wr *swr,
		     enum tt_rdma_ref holder)
{
	struct ibv_send_wr *bad;
	int rc;

	if (!tt_rdma_conn_state_running(c->state))
		return -ENOTCONN;
	swr->wr_id = (uintptr_t)wr;
	swr->send_flags |= IBV_SEND_SIGNALED;
	rc = ibv_post_send(c->id->qp, swr, &bad);
	if (rc)
		return -rc;
	wr->holder = holder;
	tt_list_add_tail(&c->posted, &wr->node);
	conn_ref_get(c, holder);
	return 0;
}

int tt_rdma_post_send(struct tt_rdma_conn *c, struct tt_rdma_wr *wr, void *addr, uint32_t len,
		      uint32_t lkey)
{
	struct ibv_sge sge = { .addr = (uintptr_t)addr, .length = len, .lkey = lkey };
	struct ibv_send_wr swr = { .sg_list = &sge, .num_sge = 1, .opcode = IBV_WR_SEND };

	return post_send(c, wr, &swr, TT_RDMA_REF_SEND);
}

int tt_rdma_post_send_inv(struct tt_rdma_conn *c, struct tt_rdma_wr *wr, void *addr, uint32_t len,
			  uint32_t lkey, uint32_t rkey)
{
	struct ibv_sge sge = { .addr = (uintptr_t)addr, .length = len, .lkey = lkey };
	struct ibv_send_wr swr = {
		.sg_list = &sge,
		.num_sge = 1,
		.opcode = IBV_WR_SEND_WITH_INV,
		.invalidate_rkey = rkey,
	};

	return post_send(c, wr, &swr, TT_RDMA_REF_SEND);
}

int tt_rdma_post_rdma(struct tt_rdma_conn *c, struct tt_rdma_wr *wr, bool write, void *addr,
		      uint32_t len, uint32_t lkey, uint64_t raddr, uint32_t rkey)
{
	struct ibv_sge sge = { .addr = (uintptr_t)addr, .length = len, .lkey = lkey };
	struct ibv_send_wr swr = {
		.sg_list = &sge,
		.num_sge = 1,
		.opcode = write ? IBV_WR_RDMA_WRITE : IBV_WR_RDMA_READ,
		.wr.rdma = { .remote_addr = raddr, .rkey = rkey },
	};

	return post_send(c, wr, &swr, write ? TT_RDMA_REF_WRITE : TT_RDMA_REF_READ);
}
