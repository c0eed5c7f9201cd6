/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A path: one iSCSI session (one connection, ErrorRecoveryLevel 0) to one portal, with the
 * lifecycle of path_state.c. ti_path_set_state is the only writer of p->state; the side effects
 * hang on the edges:
 *   -> CONNECTING  connect and log in with the path's ISID (a reinstatement of the previous
 *                  session, if the target still has it), then check the unit's identity
 *   -> LIVE        reconnect attempts reset; queued I/O goes out; fences waiting for a path go on
 *   -> RECOVERING  abortive close at once; reads retried elsewhere, writes held for fencing;
 *                  reconnect timer armed with backoff (or DELETING once path_loss_timeout passed)
 *   -> DELETING    abortive close (tether_close logs out first), commands moved like RECOVERING
 *   -> DEAD        nothing armed; kept for tether_path_info
 */
#include "initiator/initiator.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"

static void path_up(struct ti_conn *c, int rc);
static int path_pdu(struct ti_conn *c, const struct ti_pdu_in *in);
static void path_down(struct ti_conn *c, int rc);

static const struct ti_conn_ops path_conn_ops = {
	.up = path_up,
	.pdu = path_pdu,
	.down = path_down,
};

bool ti_path_usable(const struct ti_path *p)
{
	/* a connection that failed a moment ago is not used, even before the path hears of it */
	return p->state == TI_PATH_LIVE && p->ident_ok && p->conn.step == TI_CONN_FFP;
}

static uint64_t tick_ms(const struct tether_opts *o)
{
	int64_t t = o->nop_interval_ms > 0 ? o->nop_interval_ms / 2 : 100;

	if (t > 100)
		t = 100;
	if (t < 5)
		t = 5;
	return (uint64_t)t;
}

/* Fails every library command of the path (they free themselves) and hands the application's
 * commands to the device. */
static void path_teardown(struct ti_path *p)
{
	struct tether_dev *dev = p->dev;
	struct tt_list lib, *pos, *tmp;

	tt_timer_cancel(&p->tick);
	if (p->conn_open) {
		ti_conn_close(&p->conn);
		p->conn_open = false;
	}
	p->nop_itt = 0;
	p->probing = false;
	p->rtpg_pending = false;
	p->rtpg_again = false;
	tt_list_init(&lib);
	tt_list_splice_tail(&p->tasks, &p->waiting);
	tt_list_for_each_safe(pos, tmp, &p->tasks) {
		struct ti_req *r = tt_list_entry(pos, struct ti_req, node);

		if (r->done) {
			tt_list_del(&r->node);
			tt_list_add_tail(&lib, &r->node);
		}
	}
	p->inflight = 0;
	ti_dev_path_down(dev, p);
	while ((pos = tt_list_pop(&lib))) {
		struct ti_req *r = tt_list_entry(pos, struct ti_req, node);

		r->where = TI_REQ_NOWHERE;
		r->path = NULL;
		r->done(r, -ENOTCONN);
	}
}

static void start_connect(struct ti_path *p)
{
	struct tether_dev *dev = p->dev;
	const char *user = p->url.user[0] ? p->url.user : dev->opts.chap_user;
	const char *secret = p->url.user[0] ? p->url.secret : dev->opts.chap_secret;
	int rc;

	p->ident_ok = false;
	rc = ti_conn_start(&p->conn, dev->loop, &dev->opts, &path_conn_ops, p, p->url.host,
			   p->url.port, p->url.target, p->isid, user, secret);
	p->conn_open = true;
	if (rc) {
		ti_dev_error(dev, "%s: %s", p->url_text,
			     p->conn.errmsg[0] ? p->conn.errmsg : strerror(-rc));
		ti_log(&dev->opts, TI_LOG_WARN, "%s", dev->errmsg);
		if (rc == -EINVAL)   /* credentials refused locally: no point retrying */
			p->auth_failed = true;
		/* the state timer moves it on (a transition from inside one is not allowed) */
		tt_timer_arm_ms(&p->state_timer, 0);
	}
}

int ti_path_set_state(struct ti_path *p, enum ti_path_state to, const char *why)
{
	struct tether_dev *dev = p->dev;
	enum ti_path_state from = p->state;

	if (!ti_path_transition_ok(from, to)) {
		ti_log(&dev->opts, TI_LOG_ERR, "path %s: no transition %s -> %s (%s)", p->url_text,
		       ti_path_state_name(from), ti_path_state_name(to), why ? why : "");
		return -EINVAL;
	}
	p->state = to;
	p->state_ns = tt_now_ns();
	ti_log(&dev->opts, to == TI_PATH_RECOVERING ? TI_LOG_WARN : TI_LOG_INFO,
	       "path %s: %s -> %s%s%s%s", p->url_text, ti_path_state_name(from),
	       ti_path_state_name(to), why ? " (" : "", why ? why : "", why ? ")" : "");
	switch (to) {
	case TI_PATH_CONNECTING:
		tt_timer_cancel(&p->state_timer);
		start_connect(p);
		break;
	case TI_PATH_LIVE:
		tt_timer_cancel(&p->state_timer);
		p->attempts = 0;
		p->was_live = true;
		ti_dev_path_live(dev, p);
		break;
	case TI_PATH_RECOVERING: {
		uint64_t delay;
		bool reached;

		if (from == TI_PATH_LIVE) {
			p->failures++;
			p->down_since_ns = p->state_ns;
		}
		tt_timer_cancel(&p->state_timer);
		/* the backoff counts attempts the target answered (TCP connected) that failed;
		 * a portal that cannot be reached at all is probed every reconnect_delay_ms (a
		 * SYN each), so a path is back soon after its link or its target */
		reached = p->conn.reached;
		path_teardown(p);
		delay = ti_reconnect_delay_ms(&dev->opts, reached ? p->attempts++ : 0);
		tt_timer_arm_ms(&p->state_timer, delay);
		break;
	}
	case TI_PATH_DELETING:
		tt_timer_cancel(&p->state_timer);
		path_teardown(p);
		ti_path_set_state(p, TI_PATH_DEAD, NULL);
		break;
	case TI_PATH_DEAD:
		tt_timer_cancel(&p->state_timer);
		tt_timer_cancel(&p->tick);
		ti_fence_stop(p, -EIO);
		ti_dev_kick(dev);
		break;
	case TI_PATH_NEW:
	case TI_PATH__COUNT:
		break;
	}
	return 0;
}

void ti_path_fail(struct ti_path *p, int rc, const char *why)
{
	char msg[TI_ERRMSG];

	if (p->state != TI_PATH_LIVE && p->state != TI_PATH_CONNECTING)
		return;
	if (p->dev->closing || p->logged_out) {
		/* the end of a logout, or of a device being closed: no recovery */
		ti_path_set_state(p, TI_PATH_DELETING, p->logged_out ? "logged out" : "closed");
		return;
	}
	snprintf(msg, sizeof(msg), "%s", why ? why : strerror(-rc));
	ti_path_set_state(p, TI_PATH_RECOVERING, msg);
}

/* CONNECTING: the attempt (login and identity) ran out of time or could not start;
 * RECOVERING: the reconnect delay has passed. */
static void state_timer_fn(struct tt_timer *t)
{
	struct ti_path *p = tt_container_of(t, struct ti_path, state_timer);
	const struct tether_opts *o = &p->dev->opts;

	if (p->state == TI_PATH_CONNECTING) {
		if (p->auth_failed) {
			ti_path_set_state(p, TI_PATH_DELETING, "credentials refused: not retried");
			return;
		}
		ti_path_set_state(p, TI_PATH_RECOVERING, p->conn.errmsg[0] ? p->conn.errmsg :
				  "login and identity check not complete in time");
		return;
	}
	if (p->state != TI_PATH_RECOVERING)
		return;
	if (p->fence.helper_open) {
		if (p->fence.active && p->fence.step == TI_FSTEP_REINSTATE) {
			/* a reinstatement login with this path's ISID is under way through
			 * another portal (bounded by login_timeout_ms): a login of our own now
			 * would race it, each ending the other */
			tt_timer_arm_ms(t, 50);
			return;
		}
		/* done, only saying goodbye: our own login ends that empty session */
		ti_fence_drop_helper(p);
	}
	if (!ti_should_reconnect(o, p->down_since_ns, tt_now_ns(), p->auth_failed)) {
		char why[96];

		snprintf(why, sizeof(why), "down for more than path_loss_timeout_ms=%lld: given up",
			 (long long)o->path_loss_timeout_ms);
		ti_path_set_state(p, TI_PATH_DELETING, p->auth_failed ? "credentials refused"
								      : why);
		return;
	}
	ti_path_set_state(p, TI_PATH_CONNECTING, "reconnect");
}

/* NOP-Out on a quiet connection, and the deadlines of the NOP-In and of every command. */
static void tick_fn(struct tt_timer *t)
{
	struct ti_path *p = tt_container_of(t, struct ti_path, tick);
	const struct tether_opts *o = &p->dev->opts;
	uint64_t now = tt_now_ns();
	struct tt_list *pos;
	char why[160];

	if (!p->conn_open || p->conn.step != TI_CONN_FFP)
		return;
	if (p->nop_itt && now - p->nop_sent_ns > (uint64_t)o->nop_timeout_ms * TT_NS_PER_MS) {
		snprintf(why, sizeof(why), "no NOP-In within nop_timeout_ms=%lld",
			 (long long)o->nop_timeout_ms);
		ti_path_fail(p, -ETIMEDOUT, why);
		return;
	}
	if (o->command_timeout_ms > 0) {
		tt_list_for_each(pos, &p->tasks) {
			struct ti_req *r = tt_list_entry(pos, struct ti_req, node);

			if (now - r->sent_ns > (uint64_t)o->command_timeout_ms * TT_NS_PER_MS) {
				snprintf(why, sizeof(why), "%s 0x%02x not answered within "
					 "command_timeout_ms=%lld", r->tmf ? "task management" :
					 "command", r->tmf ? r->tmf_fn : r->cdb[0],
					 (long long)o->command_timeout_ms);
				ti_path_fail(p, -ETIMEDOUT, why);
				return;
			}
		}
	}
	if (!p->nop_itt && o->nop_interval_ms > 0 &&
	    now - p->conn.last_rx_ns >= (uint64_t)o->nop_interval_ms * TT_NS_PER_MS) {
		ti_path_send_nop(p);
		ti_conn_flush(&p->conn);
	}
	tt_timer_arm_ms(&p->tick, tick_ms(o));
}

/* ---- identity ------------------------------------------------------------------------------ */

enum { PROBE_INQUIRY, PROBE_VPD83, PROBE_CAPACITY, PROBE_LIMITS, PROBE_RTPG, PROBE_DONE };

static void probe_next(struct ti_path *p);

static void req_free(struct ti_req *r)
{
	free(r->owned);
	free(r);
}

struct ti_req *ti_path_internal(struct ti_path *p, const uint8_t *cdb, uint8_t cdb_len,
				uint32_t inlen, ti_req_done_fn done)
{
	struct ti_req *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	if (inlen) {
		r->owned = calloc(1, inlen);
		if (!r->owned) {
			free(r);
			return NULL;
		}
	}
	r->dev = p->dev;
	r->pin = p;
	memcpy(r->cdb, cdb, cdb_len);
	r->cdb_len = cdb_len;
	r->dir = inlen ? TETHER_DIR_READ : TETHER_DIR_NONE;
	r->len = inlen;
	r->iov1.iov_base = r->owned;
	r->iov1.iov_len = inlen;
	r->iov = &r->iov1;
	r->iovcnt = 1;
	r->done = done;
	r->ctx = p;
	tt_list_init(&r->node);
	return r;
}

/* Sends a library command on @p now or when the command window opens. */
static int path_issue(struct ti_path *p, struct ti_req *r)
{
	int rc = 0;

	if (!ti_conn_window_open(&p->conn) || !tt_list_empty(&p->waiting)) {
		r->path = p;
		r->where = TI_REQ_INFLIGHT;
		tt_list_add_tail(&p->waiting, &r->node);
		return 0;
	}
	rc = ti_req_send(p, r);
	ti_conn_flush(&p->conn);
	return rc;
}

static void probe_fail(struct ti_path *p, const char *fmt, const char *detail)
{
	char why[TI_ERRMSG];

	snprintf(why, sizeof(why), fmt, detail);
	ti_dev_error(p->dev, "%s: %s", p->url_text, why);
	ti_log(&p->dev->opts, TI_LOG_ERR, "%s", p->dev->errmsg);
	ti_path_set_state(p, TI_PATH_DELETING, why);
}

static void probe_done(struct ti_req *r, int status)
{
	struct ti_path *p = r->ctx;
	struct tether_dev *dev = p->dev;
	const uint8_t *b = r->owned;
	uint32_t got = r->len - (r->resid < r->len ? r->resid : r->len);
	struct ti_sense s;
	int err;

	p->probe = NULL;
	if (status == -ENOTCONN || p->state != TI_PATH_CONNECTING) {
		req_free(r);
		return;
	}
	ti_sense_parse(r->sense, r->sense_len, &s);
	if (status == 0 && r->status != 0) {
		enum ti_verdict v = ti_scsi_verdict(r->status, &s, &err);

		if (v != TI_V_DONE && r->ua_retries++ < 16) {
			/* unit attention after login (power on, reset): ask again */
			tt_list_init(&r->node);
			p->probe = r;
			path_issue(p, r);
			return;
		}
		if (p->probe_step == PROBE_LIMITS) {
			/* no Block Limits page: the default transfer bound stays */
			req_free(r);
			p->probe_step = p->tpgs ? PROBE_RTPG : PROBE_DONE;
			if (!p->tpgs)
				p->alua = TI_ALUA_NONE;
			probe_next(p);
			return;
		}
		if (p->probe_step == PROBE_RTPG) {
			/* no REPORT TARGET PORT GROUPS: every port counts as optimized */
			p->alua = TI_ALUA_NONE;
			req_free(r);
			p->probe_step = PROBE_DONE;
			probe_next(p);
			return;
		}
		req_free(r);
		ti_path_fail(p, -EIO, "identity command refused by the unit");
		return;
	}
	if (status) {
		req_free(r);
		ti_path_fail(p, status, "identity command failed");
		return;
	}
	switch (p->probe_step) {
	case PROBE_INQUIRY:
		if (got < 36 || (b[0] >> 5) != 0) {
			req_free(r);
			probe_fail(p, "%s", "no logical unit at this LUN");
			return;
		}
		p->tpgs = ((b[5] >> 4) & 3) != 0;
		memcpy(p->vendor, b + 8, 8);
		p->vendor[8] = 0;
		p->probe_step = PROBE_VPD83;
		break;
	case PROBE_VPD83: {
		struct ti_ident id;

		if (ti_vpd83_parse(b, got, &id)) {
			req_free(r);
			probe_fail(p, "%s", "the unit reports no usable VPD 83h designator");
			return;
		}
		p->ident = id;
		if (!dev->ident_known) {
			/* the first path to get here names the unit of the device */
			dev->ident = id;
			dev->ident_known = true;
		} else if (!ti_ident_same_lu(&dev->ident, &id)) {
			char why[TI_ERRMSG];

			snprintf(why, sizeof(why), "leads to logical unit %s, not to %s of this "
				 "device: path refused", id.lu_text, dev->ident.lu_text);
			req_free(r);
			probe_fail(p, "%s", why);
			return;
		}
		p->probe_step = PROBE_CAPACITY;
		break;
	}
	case PROBE_CAPACITY: {
		uint64_t blocks = tt_get_be64(b) + 1;
		uint32_t bs = tt_get_be32(b + 8);

		if (got < 32) {
			req_free(r);
			ti_path_fail(p, -EPROTO, "short READ CAPACITY (16) data");
			return;
		}
		/* the buffers of the library are one block long (write zeroes), and the size in
		 * bytes must be a number */
		if (bs == 0 || bs > TI_MAX_BLOCK_SIZE || blocks == 0 || blocks > UINT64_MAX / bs) {
			char why[128];

			snprintf(why, sizeof(why), "READ CAPACITY (16): %llu blocks of %u bytes: "
				 "not a usable capacity", (unsigned long long)blocks, bs);
			req_free(r);
			probe_fail(p, "%s", why);
			return;
		}
		if (!dev->cap_known) {
			dev->blocks = blocks;
			dev->block_size = bs;
			dev->lbpme = (b[14] & 0x80) != 0;
			dev->cap_known = true;
		}
		p->probe_step = PROBE_LIMITS;
		break;
	}
	case PROBE_LIMITS:
		/* VPD B0h: MAXIMUM TRANSFER LENGTH (blocks, 0 = no limit) */
		if (got >= 12 && b[1] == 0xb0) {
			uint32_t max = tt_get_be32(b + 8);

			if (max && (!dev->max_xfer_blocks || max < dev->max_xfer_blocks))
				dev->max_xfer_blocks = max;
		}
		p->probe_step = p->tpgs ? PROBE_RTPG : PROBE_DONE;
		if (!p->tpgs)
			p->alua = TI_ALUA_NONE;
		break;
	case PROBE_RTPG: {
		enum ti_alua a;

		if (ti_rtpg_state(b, got, p->ident.have_tpg, p->ident.tpg, p->ident.have_rel_port,
				  p->ident.rel_port, &a) == 0)
			p->alua = a;
		else
			p->alua = TI_ALUA_NONE;
		p->probe_step = PROBE_DONE;
		break;
	}
	}
	req_free(r);
	probe_next(p);
}

static void probe_next(struct ti_path *p)
{
	uint8_t cdb[16] = { 0 };
	uint8_t len = 6;
	uint32_t alloc = 0;
	struct ti_req *r;

	switch (p->probe_step) {
	case PROBE_INQUIRY:
		cdb[0] = 0x12;
		alloc = 96;
		tt_put_be16(cdb + 3, (uint16_t)alloc);
		break;
	case PROBE_VPD83:
		cdb[0] = 0x12;
		cdb[1] = 1;
		cdb[2] = 0x83;
		alloc = 1024;
		tt_put_be16(cdb + 3, (uint16_t)alloc);
		break;
	case PROBE_CAPACITY:
		cdb[0] = 0x9e;
		cdb[1] = 0x10;
		alloc = 32;
		tt_put_be32(cdb + 10, alloc);
		len = 16;
		break;
	case PROBE_LIMITS:
		cdb[0] = 0x12;
		cdb[1] = 1;
		cdb[2] = 0xb0;
		alloc = 64;
		tt_put_be16(cdb + 3, (uint16_t)alloc);
		break;
	case PROBE_RTPG:
		cdb[0] = 0xa3;
		cdb[1] = 0x0a;
		alloc = 1024;
		tt_put_be32(cdb + 6, alloc);
		len = 12;
		break;
	default:
		p->probing = false;
		p->ident_ok = true;
		ti_path_set_state(p, TI_PATH_LIVE, p->alua == TI_ALUA_NONE ? "identity checked" :
				  ti_alua_name(p->alua));
		return;
	}
	r = ti_path_internal(p, cdb, len, alloc, probe_done);
	if (!r) {
		ti_path_fail(p, -ENOMEM, "out of memory");
		return;
	}
	p->probe = r;
	path_issue(p, r);
}

static void rtpg_done(struct ti_req *r, int status)
{
	struct ti_path *p = r->ctx;
	enum ti_alua a;

	p->rtpg_pending = false;
	if (status == 0 && r->status == 0 && p->state == TI_PATH_LIVE) {
		uint32_t got = r->len - (r->resid < r->len ? r->resid : r->len);

		if (ti_rtpg_state(r->owned, got, p->ident.have_tpg, p->ident.tpg,
				  p->ident.have_rel_port, p->ident.rel_port, &a) == 0 &&
		    a != p->alua) {
			ti_log(&p->dev->opts, TI_LOG_INFO, "path %s: ALUA %s -> %s", p->url_text,
			       ti_alua_name(p->alua), ti_alua_name(a));
			p->alua = a;
		}
	}
	req_free(r);
	if (status == -ENOTCONN)
		return;
	if (p->rtpg_again) {
		/* another change was announced while this one was under way */
		p->rtpg_again = false;
		ti_path_reread_alua(p);
	}
	ti_dev_kick(p->dev);
}

void ti_path_reread_alua(struct ti_path *p)
{
	uint8_t cdb[16] = { 0xa3, 0x0a };
	struct ti_req *r;

	if (p->state != TI_PATH_LIVE || !p->tpgs)
		return;
	if (p->rtpg_pending) {
		p->rtpg_again = true;
		return;
	}
	tt_put_be32(cdb + 6, 1024);
	r = ti_path_internal(p, cdb, 12, 1024, rtpg_done);
	if (!r)
		return;
	p->rtpg_pending = true;
	path_issue(p, r);
}

/* ---- connection events ---------------------------------------------------------------------- */

static void path_up(struct ti_conn *c, int rc)
{
	struct ti_path *p = c->owner;
	struct tether_dev *dev = p->dev;

	if (rc) {
		ti_dev_error(dev, "%s: %s", p->url_text, c->errmsg);
		ti_log(&dev->opts, TI_LOG_WARN, "%s", dev->errmsg);
		if (c->auth_failed) {
			p->auth_failed = true;
			ti_path_set_state(p, TI_PATH_DELETING, "authentication failed: not retried");
			return;
		}
		ti_path_set_state(p, TI_PATH_RECOVERING, c->errmsg);
		return;
	}
	p->tpgt = c->params.tpgt;
	p->tpgt_known = c->params.tpgt_known;
	ti_log(&dev->opts, TI_LOG_INFO, "path %s: logged in (TSIH 0x%04x, portal group %u)",
	       p->url_text, c->tsih, p->tpgt);
	/* the login with this ISID ended whatever the target still had of our last session */
	ti_fence_path_reinstated(p);
	p->nop_itt = 0;
	tt_timer_arm_ms(&p->tick, tick_ms(&dev->opts));
	tt_timer_arm_ms(&p->state_timer, (uint64_t)dev->opts.login_timeout_ms);
	p->probing = true;
	p->probe_step = PROBE_INQUIRY;
	probe_next(p);
}

static int path_async(struct ti_path *p, const struct ti_pdu_in *in)
{
	const struct tt_bhs_async *a = (const void *)in->raw;

	ti_conn_update_window(&p->conn, a->expcmdsn, a->maxcmdsn);
	switch (a->event) {
	case TT_ASYNC_SCSI_EVENT: {
		struct ti_sense s;

		if (in->dlen > 2 && ti_sense_parse(in->data + 2, in->dlen - 2, &s) == 0 &&
		    s.key == 6 && s.asc == 0x2a)
			for (int i = 0; i < p->dev->npaths; i++)
				ti_path_reread_alua(p->dev->paths[i]);
		return 0;
	}
	case TT_ASYNC_LOGOUT_REQUEST:
	case TT_ASYNC_DROP_CONN:
	case TT_ASYNC_DROP_SESSION:
		ti_conn_fail(&p->conn, -ECONNRESET, "the target asked to end the session "
			     "(asynchronous event %u)", a->event);
		return 0;
	}
	return 0;
}

static int path_pdu(struct ti_conn *c, const struct ti_pdu_in *in)
{
	struct ti_path *p = c->owner;

	switch (in->raw[0] & TT_OP_MASK) {
	case TT_OP_LOGOUT_RSP:
		p->logged_out = true;
		return 0;
	case TT_OP_ASYNC:
		return path_async(p, in);
	case TT_OP_REJECT:
		ti_conn_fail(c, -EPROTO, "the target rejected a PDU (reason 0x%02x)", in->raw[2]);
		return 0;
	}
	return ti_path_rx_cmd(p, in);
}

static void path_down(struct ti_conn *c, int rc)
{
	struct ti_path *p = c->owner;

	(void)rc;
	ti_path_fail(p, rc, c->errmsg);
}

void ti_path_push(struct ti_path *p)
{
	struct tt_list *n;

	if (!p->conn_open || p->conn.step != TI_CONN_FFP)
		return;
	while (ti_conn_window_open(&p->conn) && (n = tt_list_pop(&p->waiting))) {
		struct ti_req *r = tt_list_entry(n, struct ti_req, node);

		if (ti_req_send(p, r)) {
			ti_conn_fail(&p->conn, -ENOMEM, "out of memory");
			return;
		}
	}
	ti_conn_flush(&p->conn);
}

/* A command of the path ended: the library's go to their owner, the application's to the
 * device (which decides: complete, retry, re-read ALUA). */
void ti_path_cmd_done(struct ti_path *p, struct ti_req *r)
{
	uint64_t lat = tt_now_ns() - r->sent_ns;

	tt_list_del(&r->node);
	if (p->inflight)
		p->inflight--;
	p->ios++;
	/* service time: exponentially weighted, 1/8 of each new sample */
	p->svc_ns = p->svc_ns ? p->svc_ns - p->svc_ns / 8 + lat / 8 : lat;
	r->where = TI_REQ_NOWHERE;
	if (r->done) {
		r->path = NULL;
		r->done(r, 0);
	} else {
		ti_dev_finish(p->dev, r);
	}
	ti_path_push(p);
}

int ti_path_add(struct tether_dev *dev, const char *url, char *err, size_t errlen)
{
	struct ti_path *p;
	int rc;

	if (dev->npaths >= TI_MAX_PATHS) {
		snprintf(err, errlen, "%s: at most %d paths", url, TI_MAX_PATHS);
		return -ENOSPC;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	rc = ti_url_parse(url, &p->url, true, err, errlen);
	if (rc) {
		free(p);
		return rc;
	}
	p->dev = dev;
	p->index = dev->npaths;
	p->state = TI_PATH_NEW;
	p->state_ns = tt_now_ns();
	p->down_since_ns = p->state_ns;
	p->alua = TI_ALUA_NONE;
	p->conn.fd = -1;
	ti_url_format(&p->url, p->url_text, sizeof(p->url_text));
	ti_conn_fill_isid(p->isid);
	tt_list_init(&p->tasks);
	tt_list_init(&p->waiting);
	tt_list_init(&p->fence.held);
	tt_timer_init(&p->state_timer, dev->loop, state_timer_fn);
	tt_timer_init(&p->tick, dev->loop, tick_fn);
	ti_fence_init(p);
	dev->paths[dev->npaths++] = p;
	ti_path_set_state(p, TI_PATH_CONNECTING, "opened");
	return 0;
}

void ti_path_free(struct ti_path *p)
{
	if (p->state != TI_PATH_DEAD && p->state != TI_PATH_NEW) {
		if (p->state != TI_PATH_DELETING)
			ti_path_set_state(p, TI_PATH_DELETING, "device closed");
	}
	tt_timer_cancel(&p->state_timer);
	tt_timer_cancel(&p->tick);
	ti_fence_stop(p, -ECANCELED);
	if (p->conn_open)
		ti_conn_close(&p->conn);
	explicit_bzero(p->url.secret, sizeof(p->url.secret));
	free(p);
}
