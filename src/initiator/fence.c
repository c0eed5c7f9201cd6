/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fencing: a modifying command that was in flight on a path declared dead may still be in the
 * network or in the target. It is sent again elsewhere only once the old session's commands can
 * no longer execute (docs/failover.md, "The initiator's part"). Steps, in the order "auto" tries
 * them:
 *   REINSTATE  a leading login with the dead session's ISID and initiator name (TSIH 0) through
 *              another portal of the same portal group (or the path's own reconnect): the
 *              target ends the old session first (tetherd completes the login only after the
 *              old session's commands have left the backend), then we log out
 *   LU_RESET   LOGICAL UNIT RESET through a live path: its response says that the unit's
 *              tasks are aborted (tgtd answers only after commands already in its backend end)
 *   QUIESCE    wait quiesce_ms from the failure (last resort, no guarantee)
 * With "auto", reinstatement is followed by the LU reset unless the unit is a tetherd's
 * (reinstatement alone drains there).
 */
#include "initiator/initiator.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"

static void fence_next(struct ti_path *p);

static void helper_up(struct ti_conn *c, int rc);
static int helper_pdu(struct ti_conn *c, const struct ti_pdu_in *in);
static void helper_down(struct ti_conn *c, int rc);

static const struct ti_conn_ops helper_ops = {
	.up = helper_up,
	.pdu = helper_pdu,
	.down = helper_down,
};

static void fence_timer_fn(struct tt_timer *t);

void ti_fence_init(struct ti_path *p)
{
	struct ti_fence *f = &p->fence;

	tt_list_init(&f->held);
	f->helper.fd = -1;
	tt_timer_init(&f->timer, p->dev->loop, fence_timer_fn);
}

static void helper_close(struct ti_fence *f)
{
	if (f->helper_open) {
		ti_conn_close(&f->helper);
		f->helper_open = false;
	}
}

void ti_fence_drop_helper(struct ti_path *p)
{
	helper_close(&p->fence);
}

/* Another live path to the same target through a different portal of the same iSCSI portal
 * group: a login there with our ISID reinstates our session. */
static struct ti_path *alt_portal(const struct ti_path *p)
{
	struct tether_dev *dev = p->dev;

	if (!p->tpgt_known)
		return NULL;
	for (int i = 0; i < dev->npaths; i++) {
		struct ti_path *q = dev->paths[i];

		if (q == p || q->state != TI_PATH_LIVE || !q->tpgt_known || q->tpgt != p->tpgt ||
		    strcmp(q->url.target, p->url.target))
			continue;
		if (!strcmp(q->url.host, p->url.host) && q->url.port == p->url.port)
			continue;
		return q;
	}
	return NULL;
}

static bool target_drains_on_reinstatement(const struct ti_path *p)
{
	return !strncmp(p->vendor, "TETHER", 6);
}

static void release(struct ti_path *p)
{
	struct tether_dev *dev = p->dev;
	struct ti_fence *f = &p->fence;
	unsigned n = 0;
	struct tt_list *node;

	/* back to the head of the queue, in their original order */
	while ((node = f->held.prev) != &f->held) {
		struct ti_req *r = tt_list_entry(node, struct ti_req, node);

		tt_list_del(node);
		r->retries++;
		p->retried++;
		n++;
		ti_dev_requeue(dev, r);
	}
	ti_log(&dev->opts, TI_LOG_WARN, "path %s: old session fenced (%s) after %llu ms: %u "
	       "modifying commands sent again", p->url_text, f->how,
	       (unsigned long long)((tt_now_ns() - f->since_ns) / TT_NS_PER_MS), n);
	f->active = false;
	f->step = 0;
	f->plan = 0;
	tt_timer_cancel(&f->timer);
}

unsigned ti_fence_plan(const struct ti_path *p)
{
	switch (p->dev->opts.fence) {
	case TI_FENCE_REINSTATE:
		return TI_FSTEP_REINSTATE;
	case TI_FENCE_LU_RESET:
		return TI_FSTEP_LU_RESET;
	case TI_FENCE_QUIESCE:
		return TI_FSTEP_QUIESCE;
	case TI_FENCE_AUTO:
		break;
	}
	if (alt_portal(p))
		return TI_FSTEP_REINSTATE |
		       (target_drains_on_reinstatement(p) ? 0 : TI_FSTEP_LU_RESET);
	return TI_FSTEP_LU_RESET;
}

void ti_fence_start(struct ti_path *p, struct tt_list *mods)
{
	struct ti_fence *f = &p->fence;
	struct tt_list *pos;

	tt_list_for_each(pos, mods)
		tt_list_entry(pos, struct ti_req, node)->where = TI_REQ_HELD;
	tt_list_splice_tail(&f->held, mods);
	if (f->active)
		return;   /* the fence under way covers these too (same session identity) */
	f->active = true;
	f->since_ns = tt_now_ns();
	f->step = 0;
	f->how[0] = 0;
	f->plan = ti_fence_plan(p);
	fence_next(p);
}

static void step_done(struct ti_path *p, unsigned step, const char *how)
{
	struct ti_fence *f = &p->fence;
	size_t l = strlen(f->how);

	f->plan &= ~step;
	f->step = 0;
	snprintf(f->how + l, sizeof(f->how) - l, "%s%s", l ? " + " : "", how);
	fence_next(p);
}

/* The step could not be done: "auto" and "lu-reset" go on with the next resort. */
static void step_failed(struct ti_path *p, unsigned step, const char *why)
{
	struct ti_fence *f = &p->fence;
	const struct tether_opts *o = &p->dev->opts;

	ti_log(o, TI_LOG_WARN, "path %s: fencing step failed: %s", p->url_text, why);
	f->plan &= ~step;
	f->step = 0;
	if (step == TI_FSTEP_REINSTATE && o->fence == TI_FENCE_AUTO)
		f->plan |= TI_FSTEP_LU_RESET;
	else if (step == TI_FSTEP_LU_RESET)
		f->plan |= TI_FSTEP_QUIESCE;
	else if (step == TI_FSTEP_REINSTATE)
		f->plan |= TI_FSTEP_REINSTATE;   /* reinstate only: wait for the path itself */
	if (step == TI_FSTEP_REINSTATE && o->fence == TI_FENCE_REINSTATE) {
		/* retry later through whatever portal is then reachable */
		tt_timer_arm_ms(&f->timer, 500);
		return;
	}
	fence_next(p);
}

static void helper_up(struct ti_conn *c, int rc)
{
	struct ti_path *p = c->owner;
	struct ti_fence *f = &p->fence;

	if (rc) {
		char why[TI_ERRMSG + 32];

		snprintf(why, sizeof(why), "reinstatement login: %s", c->errmsg);
		helper_close(f);
		if (f->active && f->step == TI_FSTEP_REINSTATE)
			step_failed(p, TI_FSTEP_REINSTATE, why);
		return;
	}
	/* the old session is gone: leave the new, empty one */
	ti_path_send_logout(c);
	ti_conn_flush(c);
	if (f->active && f->step == TI_FSTEP_REINSTATE) {
		char how[300];

		snprintf(how, sizeof(how), "reinstatement via %s:%u", c->host, c->port);
		step_done(p, TI_FSTEP_REINSTATE, how);
	}
}

static int helper_pdu(struct ti_conn *c, const struct ti_pdu_in *in)
{
	struct ti_path *p = c->owner;

	if ((in->raw[0] & TT_OP_MASK) == TT_OP_LOGOUT_RSP)
		ti_conn_fail(c, 0, "logged out");   /* closed from helper_down */
	(void)p;
	return 0;
}

static void helper_down(struct ti_conn *c, int rc)
{
	struct ti_path *p = c->owner;

	(void)rc;
	helper_close(&p->fence);
}

static void tmf_done(struct ti_req *r, int status)
{
	struct ti_path *p = r->ctx;   /* the path whose session is fenced */
	struct ti_fence *f = &p->fence;
	struct ti_path *q = r->pin;
	uint64_t sent = r->sent_ns;
	uint8_t response = r->status;
	bool ours = f->tmf == r;

	free(r);
	if (!ours)
		return;
	f->tmf = NULL;
	if (!f->active || f->step != TI_FSTEP_LU_RESET)
		return;
	if (status) {
		/* the path carrying it went down: try again on another */
		f->step = 0;
		fence_next(p);
		return;
	}
	if (response != TT_TMF_RSP_COMPLETE) {
		char why[64];

		snprintf(why, sizeof(why), "LOGICAL UNIT RESET answered %u", response);
		step_failed(p, TI_FSTEP_LU_RESET, why);
		return;
	}
	/* the reset aborted the unit's tasks, those of the path that carried it included: its
	 * commands sent before the reset will not execute nor be answered: send them again */
	if (q && q->state == TI_PATH_LIVE) {
		struct tt_list *pos, *tmp;

		tt_list_for_each_safe(pos, tmp, &q->tasks) {
			struct ti_req *c = tt_list_entry(pos, struct ti_req, node);

			if (c->done || !c->on_wire || c->sent_ns > sent)
				continue;
			tt_list_del(&c->node);
			if (q->inflight)
				q->inflight--;
			q->retried++;
			ti_dev_requeue(q->dev, c);
		}
	}
	{
		char how[600];

		snprintf(how, sizeof(how), "LOGICAL UNIT RESET via %s", q ? q->url_text : "?");
		step_done(p, TI_FSTEP_LU_RESET, how);
	}
}

static void fence_next(struct ti_path *p)
{
	struct ti_fence *f = &p->fence;
	struct tether_dev *dev = p->dev;
	const struct tether_opts *o = &dev->opts;

	if (!f->active || f->step)
		return;
	if (f->plan & TI_FSTEP_REINSTATE) {
		struct ti_path *q = alt_portal(p);
		const char *user = p->url.user[0] ? p->url.user : o->chap_user;
		const char *secret = p->url.user[0] ? p->url.secret : o->chap_secret;

		f->step = TI_FSTEP_REINSTATE;
		if (!q) {
			if (o->fence == TI_FENCE_AUTO) {
				f->step = 0;
				step_failed(p, TI_FSTEP_REINSTATE, "no other portal of the portal "
					    "group is live");
			}
			/* fence=reinstate: the path's own reconnect will do it */
			return;
		}
		helper_close(f);
		if (ti_conn_start(&f->helper, dev->loop, o, &helper_ops, p, q->url.host,
				  q->url.port, p->url.target, p->isid, user, secret)) {
			f->helper_open = true;
			helper_close(f);
			f->step = 0;
			step_failed(p, TI_FSTEP_REINSTATE, "cannot connect");
			return;
		}
		f->helper_open = true;
		ti_log(o, TI_LOG_INFO, "path %s: reinstating the session through %s", p->url_text,
		       q->url_text);
		return;
	}
	if (f->plan & TI_FSTEP_LU_RESET) {
		struct ti_path *q = ti_select_path(dev->paths, dev->npaths, TI_SEL_QUEUE_DEPTH,
						   &dev->rr);
		struct ti_req *r;

		f->step = TI_FSTEP_LU_RESET;
		if (!q) {
			f->step = 0;   /* ti_fence_kick goes on when a path is live */
			return;
		}
		r = ti_path_internal(q, (const uint8_t *)"", 0, 0, tmf_done);
		if (!r) {
			f->step = 0;
			return;
		}
		r->tmf = true;
		r->tmf_fn = TT_TMF_LU_RESET;
		r->ctx = p;
		f->tmf = r;
		ti_log(o, TI_LOG_INFO, "path %s: LOGICAL UNIT RESET through %s", p->url_text,
		       q->url_text);
		if (ti_req_send(q, r)) {
			ti_conn_fail(&q->conn, -ENOMEM, "out of memory");
			return;
		}
		ti_conn_flush(&q->conn);
		return;
	}
	if (f->plan & TI_FSTEP_QUIESCE) {
		uint64_t end = f->since_ns + (uint64_t)o->quiesce_ms * TT_NS_PER_MS, now = tt_now_ns();

		f->step = TI_FSTEP_QUIESCE;
		tt_timer_arm_ns(&f->timer, end > now ? end - now : 0);
		return;
	}
	release(p);
}

static void fence_timer_fn(struct tt_timer *t)
{
	struct ti_fence *f = tt_container_of(t, struct ti_fence, timer);
	struct ti_path *p = tt_container_of(f, struct ti_path, fence);
	char how[64];

	if (!f->active)
		return;
	if (f->step == TI_FSTEP_QUIESCE) {
		snprintf(how, sizeof(how), "quiesce of %lld ms", (long long)p->dev->opts.quiesce_ms);
		step_done(p, TI_FSTEP_QUIESCE, how);
		return;
	}
	f->step = 0;
	fence_next(p);
}

void ti_fence_path_reinstated(struct ti_path *p)
{
	struct ti_fence *f = &p->fence;

	if (!f->active || !(f->plan & TI_FSTEP_REINSTATE))
		return;
	if (f->step == TI_FSTEP_REINSTATE)
		helper_close(f);
	f->step = 0;
	step_done(p, TI_FSTEP_REINSTATE, "reinstatement by the path's own login");
}

void ti_fence_kick(struct tether_dev *dev)
{
	for (int i = 0; i < dev->npaths; i++) {
		struct ti_fence *f = &dev->paths[i]->fence;

		if (f->active && !f->step)
			fence_next(dev->paths[i]);
	}
}

void ti_fence_stop(struct ti_path *p, int status)
{
	struct ti_fence *f = &p->fence;
	struct tt_list *n;

	helper_close(f);
	tt_timer_cancel(&f->timer);
	f->tmf = NULL;   /* tmf_done sees it is not ours any more */
	f->active = false;
	f->step = 0;
	f->plan = 0;
	while ((n = tt_list_pop(&f->held)))
		ti_req_complete(tt_list_entry(n, struct ti_req, node), status);
}
