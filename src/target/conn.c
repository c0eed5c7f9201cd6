/* SPDX-License-Identifier: BSD-3-Clause */
/* Target connections: lifecycle, receive dispatch, StatSN, teardown. */
#include "target/internal.h"

#include "base/clock.h"
#include "base/log.h"
#include "target/limits.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static unsigned conn_live; /* atomic: connections not yet released */

static const char *const conn_state_names[TT_CONN_STATE_COUNT] = {
	[TT_CONN_FREE] = "free",
	[TT_CONN_XPT_UP] = "xpt-up",
	[TT_CONN_IN_LOGIN] = "in-login",
	[TT_CONN_LOGGED_IN] = "logged-in",
	[TT_CONN_IN_LOGOUT] = "in-logout",
	[TT_CONN_CLEANUP] = "cleanup",
};

const char *tt_conn_state_name(enum tt_conn_state s)
{
	return s < TT_CONN_STATE_COUNT ? conn_state_names[s] : "?";
}

unsigned tt_iscsi_conn_count(void) { return __atomic_load_n(&conn_live, __ATOMIC_ACQUIRE); }

static void conn_release(struct tt_work *w)
{
	struct tt_conn *conn = tt_container_of(w, struct tt_conn, release_work);

	struct tt_xconn *xc = conn->xc;

	tt_debug("iscsi", "conn %llu: released", (unsigned long long)conn->id);
	__atomic_fetch_sub(&conn_live, 1, __ATOMIC_RELEASE);
	if (conn->lim_admitted)
		tt_limits_conn_end();
	if (conn->target)
		tt_target_put(conn->target);
	free(conn);
	xc->upper = NULL;
	xc->ops->release(xc);
}

void tt_conn_bind_tpg(struct tt_conn *conn, struct tt_tpg *g, struct tt_portal *p)
{
	conn->portal = p;
	conn->tpg = g;
	conn->tpgt = g->tag;
	conn->target = g->target;
	tt_target_get(conn->target); /* the TPG (and its retired portals) live as long */
}

static void conn_init(struct tt_conn *conn, struct tt_xconn *xc)
{
	struct tt_loop *loop = xc->loop;

	conn->xc = xc;
	conn->loop = loop;
	conn->id = xc->id;
	conn->peer = xc->peer;
	conn->local = xc->local;
	conn->tpgt = 1;
	conn->state = TT_CONN_FREE;
	conn->refs = 1; /* the transport's */
	tt_work_init(&conn->release_work, loop, conn_release);
	tt_list_init(&conn->sess_node);
	tt_list_init(&conn->tasks);
	tt_timer_init(&conn->nop_timer, loop, NULL);
	tt_timer_init(&conn->login_timer, loop, NULL);
	tt_params_init(&conn->params);
}

void tt_conn_get(struct tt_conn *conn) { conn->refs++; }

void tt_conn_put(struct tt_conn *conn)
{
	if (--conn->refs == 0)
		tt_work_queue(&conn->release_work);
}

/* Until the login names its target, the shortest login timeout of the TPGs that listen where the
 * connection came in (a peer that says nothing gets no more than any of them allows). */
static unsigned listener_login_timeout(const struct tt_listener *lst)
{
	unsigned ms = 0;
	struct tt_list *tn, *gn, *pn;

	tt_model_lock();
	tt_list_for_each(tn, tt_model_targets()) {
		struct tt_target *t = tt_list_entry(tn, struct tt_target, node);

		tt_list_for_each(gn, &t->tpgs) {
			struct tt_tpg *g = tt_list_entry(gn, struct tt_tpg, node);

			tt_list_for_each(pn, &g->portals)
				if (tt_list_entry(pn, struct tt_portal, node)->listener == lst &&
				    (!ms || g->login_timeout_ms < ms))
					ms = g->login_timeout_ms;
		}
	}
	tt_model_unlock();
	return ms ? ms : TT_LOGIN_TIMEOUT_MS;
}

/* The connection no longer counts as a pre-login connection of its peer's address. */
static void conn_prelogin_end(struct tt_conn *conn)
{
	if (!conn->lim_prelogin)
		return;
	conn->lim_prelogin = false;
	tt_limits_prelogin_end(&conn->xc->peer_addr);
}

/*
 * The only writer of conn->state. Edges and their side effects:
 *   FREE -> XPT_UP           login timer starts
 *   XPT_UP -> IN_LOGIN       first login PDU
 *   IN_LOGIN -> LOGGED_IN    login timer stops, pre-login place freed, keepalive starts,
 *                            transport timeout set
 *   LOGGED_IN -> IN_LOGOUT   logout response queued
 *   any -> CLEANUP           timers stop, pre-login place and initiator place freed,
 *                            transport shut down, tasks aborted, session unbound
 */
int tt_conn_set_state(struct tt_conn *conn, enum tt_conn_state to)
{
	enum tt_conn_state from = conn->state;
	bool ok;

	switch (to) {
	case TT_CONN_XPT_UP: ok = from == TT_CONN_FREE; break;
	case TT_CONN_IN_LOGIN: ok = from == TT_CONN_XPT_UP; break;
	case TT_CONN_LOGGED_IN: ok = from == TT_CONN_IN_LOGIN; break;
	case TT_CONN_IN_LOGOUT: ok = from == TT_CONN_LOGGED_IN; break;
	case TT_CONN_CLEANUP: ok = from != TT_CONN_CLEANUP; break;
	default: ok = false; break;
	}
	if (!ok) {
		tt_err("iscsi", "conn %llu %s: bad state change %s -> %s", (unsigned long long)conn->id,
		       conn->peer, tt_conn_state_name(from), tt_conn_state_name(to));
		return -EINVAL;
	}
	conn->state = to;
	tt_debug("iscsi", "conn %llu %s: %s -> %s", (unsigned long long)conn->id, conn->peer,
		 tt_conn_state_name(from), tt_conn_state_name(to));
	switch (to) {
	case TT_CONN_XPT_UP:
		tt_timer_arm_ms(&conn->login_timer, listener_login_timeout(conn->xc->listener));
		break;
	case TT_CONN_LOGGED_IN:
		tt_timer_cancel(&conn->login_timer);
		conn_prelogin_end(conn);
		tt_nop_start(conn);
		break;
	case TT_CONN_CLEANUP:
		tt_timer_cancel(&conn->login_timer);
		tt_timer_cancel(&conn->nop_timer);
		conn_prelogin_end(conn);
		if (conn->lim_initiator) {
			conn->lim_initiator = false;
			tt_limits_initiator_del(conn->params.initiator_name);
		}
		break;
	default:
		break;
	}
	return 0;
}

static void login_timeout(struct tt_timer *t)
{
	struct tt_conn *conn = tt_container_of(t, struct tt_conn, login_timer);

	tt_conn_fail(conn, "login timed out");
}

static int conn_accepted(struct tt_xconn *xc)
{
	struct tt_conn *conn;
	int rc;

	/* before any login work: the transport closes a connection refused here at once */
	rc = tt_limits_conn_admit(&xc->peer_addr);
	if (rc == -EMFILE) {
		tt_log_ratelimited(TT_LOG_WARN, "iscsi", "%s: connection refused: max_connections "
				   "reached", xc->peer);
		return rc;
	}
	if (rc == -EAGAIN) {
		tt_log_ratelimited(TT_LOG_WARN, "iscsi", "%s: connection refused: "
				   "max_prelogin_per_address reached for its address", xc->peer);
		return rc;
	}
	conn = rc ? NULL : calloc(1, sizeof(*conn));
	if (!conn) {
		tt_log_ratelimited(TT_LOG_WARN, "iscsi", "%s: out of memory, connection refused",
				   xc->peer);
		if (!rc) {
			tt_limits_prelogin_end(&xc->peer_addr);
			tt_limits_conn_end();
		}
		return -ENOMEM;
	}
	conn_init(conn, xc);
	conn->lim_admitted = true;
	conn->lim_prelogin = true;
	xc->upper = conn;
	/* counted from here to its release: a connection the transport drops before handing it
	 * over (it never reaches the core) is not counted */
	__atomic_fetch_add(&conn_live, 1, __ATOMIC_RELEASE);
	conn->login_timer.fn = login_timeout;
	tt_conn_set_state(conn, TT_CONN_XPT_UP);
	tt_info("iscsi", "conn %llu: accepted %s on %s (loop %u)", (unsigned long long)conn->id,
		conn->peer, conn->local, tt_loop_index(conn->loop));
	rc = xc->ops->conn_start(xc);
	if (rc < 0)
		tt_conn_fail(conn, "transport did not start");
	return 0;
}

void tt_conn_fail(struct tt_conn *conn, const char *why)
{
	struct tt_list *pos, *tmp;

	if (conn->state == TT_CONN_CLEANUP)
		return;
	tt_notice("iscsi", "conn %llu %s: closing: %s", (unsigned long long)conn->id, conn->peer, why);
	tt_conn_get(conn); /* hold across the teardown */
	tt_conn_set_state(conn, TT_CONN_CLEANUP);
	conn->xc->ops->shutdown(conn->xc);
	if (conn->login)
		tt_login_free(conn);
	tt_text_exchange_free(conn);
	/* tasks: those inside the SCSI core finish there and are freed without a response */
	tt_list_for_each_safe(pos, tmp, &conn->tasks)
		tt_task_abort(tt_list_entry(pos, struct tt_task, conn_node));
	if (conn->sess)
		tt_session_del_conn(conn->sess, conn);
	tt_conn_put(conn);
}

static void conn_xport_closed(struct tt_xconn *xc, int err)
{
	struct tt_conn *conn = xc->upper;

	if (conn->state != TT_CONN_CLEANUP)
		tt_conn_fail(conn, err ? strerror(-err) : "peer closed the connection");
	tt_conn_put(conn); /* the transport's reference */
}

void tt_conn_close_after(struct tt_pdu *pdu)
{
	struct tt_conn *conn = pdu->ctx;

	tt_conn_fail(conn, "closed after final response");
	tt_conn_put(conn);
}

/* ---- sending ---- */

void tt_conn_fill_sn(struct tt_conn *conn, struct tt_pdu *pdu, bool statsn)
{
	struct tt_session *s = conn->sess;

	if (statsn)
		tt_put_be32(pdu->raw + 24, conn->stat_sn++);
	else
		tt_put_be32(pdu->raw + 24, conn->stat_sn);
	if (s) {
		tt_put_be32(pdu->raw + 28, s->exp_cmd_sn);
		tt_put_be32(pdu->raw + 32, s->max_cmd_sn);
	}
}

int tt_conn_send(struct tt_conn *conn, struct tt_pdu *pdu)
{
	int rc;

	if (conn->state == TT_CONN_CLEANUP) {
		tt_pdu_free(pdu);
		return -ENOTCONN;
	}
	switch (tt_bhs_opcode(&pdu->bhs)) {
	case TT_OP_SCSI_RSP:
	case TT_OP_TMF_RSP:
	case TT_OP_TEXT_RSP:
	case TT_OP_LOGOUT_RSP:
	case TT_OP_REJECT:
	case TT_OP_ASYNC:
		tt_conn_fill_sn(conn, pdu, true);
		break;
	case TT_OP_DATA_IN:
		tt_conn_fill_sn(conn, pdu, pdu->bhs.flags & TT_DATAIN_STATUS);
		break;
	case TT_OP_NOP_IN:
		tt_conn_fill_sn(conn, pdu, tt_get_be32(pdu->bhs.itt) != TT_RSVD_TAG);
		break;
	case TT_OP_R2T:
		tt_conn_fill_sn(conn, pdu, false);
		break;
	default: /* login responses fill their own numbers */
		break;
	}
	conn->tx_pdus++;
	rc = conn->xc->ops->queue_pdu(conn->xc, pdu); /* takes the PDU */
	if (rc < 0)
		tt_conn_fail(conn, "transport refused a PDU");
	return rc;
}

int tt_conn_reject(struct tt_conn *conn, const struct tt_bhs *hdr, uint8_t reason)
{
	struct tt_pdu *pdu = tt_pdu_alloc();
	struct tt_bhs_reject *r;

	if (!pdu || tt_pdu_alloc_data(pdu, TT_BHS_LEN) < 0) {
		tt_pdu_free(pdu);
		tt_conn_fail(conn, "out of memory");
		return -ENOMEM;
	}
	tt_warn("iscsi", "conn %llu %s: reject %s (reason 0x%02x)", (unsigned long long)conn->id,
		conn->peer, tt_opcode_name(hdr->opcode), reason);
	memcpy(pdu->data, hdr, TT_BHS_LEN);
	r = (struct tt_bhs_reject *)pdu->raw;
	r->opcode = TT_OP_REJECT;
	r->flags = TT_FLAG_FINAL;
	r->reason = reason;
	tt_put_be32(r->itt, TT_RSVD_TAG);
	tt_bhs_set_dlength(&pdu->bhs, TT_BHS_LEN);
	return tt_conn_send(conn, pdu);
}

int tt_conn_request_logout(struct tt_conn *conn, unsigned secs)
{
	struct tt_pdu *pdu;
	struct tt_bhs_async *a;

	if (conn->state != TT_CONN_LOGGED_IN || conn->async_logout_sent)
		return 0;
	pdu = tt_pdu_alloc();
	if (!pdu)
		return -ENOMEM;
	a = (struct tt_bhs_async *)pdu->raw;
	a->opcode = TT_OP_ASYNC;
	a->flags = TT_FLAG_FINAL;
	tt_put_be32(a->itt, TT_RSVD_TAG);
	a->event = TT_ASYNC_LOGOUT_REQUEST;
	tt_put_be16(a->param3, (uint16_t)secs);
	conn->async_logout_sent = true;
	return tt_conn_send(conn, pdu);
}

/* ---- receiving ---- */

static bool is_ffp_opcode(uint8_t op)
{
	switch (op) {
	case TT_OP_NOP_OUT:
	case TT_OP_SCSI_CMD:
	case TT_OP_TMF_REQ:
	case TT_OP_TEXT_REQ:
	case TT_OP_DATA_OUT:
	case TT_OP_LOGOUT_REQ:
	case TT_OP_SNACK:
		return true;
	default:
		return false;
	}
}

static int conn_rx_header(struct tt_xconn *xc, struct tt_pdu *pdu)
{
	struct tt_conn *conn = xc->upper;
	uint8_t op = tt_bhs_opcode(&pdu->bhs);
	uint32_t dlen = tt_bhs_dlength(&pdu->bhs);

	conn->last_rx_ns = tt_now_ns();
	conn->rx_pdus++;
	pdu->data = NULL;
	pdu->data_len = dlen;
	pdu->data_owned = false;
	switch (conn->state) {
	case TT_CONN_XPT_UP:
	case TT_CONN_IN_LOGIN:
		if (op != TT_OP_LOGIN_REQ) {
			tt_warn("iscsi", "conn %llu %s: %s before login completed", (unsigned long long)conn->id,
				conn->peer, tt_opcode_name(op));
			return -EPROTO;
		}
		return tt_login_rx_header(conn, pdu);
	case TT_CONN_LOGGED_IN:
	case TT_CONN_IN_LOGOUT:
		break;
	default:
		return -EPROTO;
	}
	if (dlen > conn->params.max_recv_dsl) {
		/* read and discard; answered with a Reject once the PDU is complete */
		tt_warn("iscsi", "conn %llu %s: %s data segment %u exceeds MaxRecvDataSegmentLength %u",
			(unsigned long long)conn->id, conn->peer, tt_opcode_name(op), dlen,
			conn->params.max_recv_dsl);
		pdu->ctx = (void *)1;
		return 0;
	}
	pdu->ctx = NULL;
	switch (op) {
	case TT_OP_SCSI_CMD:
		return tt_cmd_rx_header(conn, pdu);
	case TT_OP_DATA_OUT:
		return tt_data_out_rx_header(conn, pdu);
	default:
		if (dlen && is_ffp_opcode(op) && tt_pdu_alloc_data(pdu, dlen) < 0)
			return -ENOMEM;
		return 0;
	}
}

static void conn_rx_header_digest_error(struct tt_xconn *xc)
{
	tt_conn_fail(xc->upper, "header digest error");
}

void tt_conn_dispatch(struct tt_conn *conn, struct tt_pdu *pdu)
{
	switch (tt_bhs_opcode(&pdu->bhs)) {
	case TT_OP_NOP_OUT: tt_nop_rx(conn, pdu); break;
	case TT_OP_SCSI_CMD: tt_cmd_rx(conn, pdu); break;
	case TT_OP_TMF_REQ: tt_tmf_rx(conn, pdu); break;
	case TT_OP_TEXT_REQ: tt_text_rx(conn, pdu); break;
	case TT_OP_LOGOUT_REQ: tt_logout_rx(conn, pdu); break;
	default:
		tt_conn_reject(conn, &pdu->bhs, TT_REJECT_CMD_NOT_SUPPORTED);
		tt_pdu_free(pdu);
		break;
	}
}

static void conn_rx_pdu(struct tt_xconn *xc, struct tt_pdu *pdu, bool data_digest_ok)
{
	struct tt_conn *conn = xc->upper;
	uint8_t op = tt_bhs_opcode(&pdu->bhs);
	int rc;

	if (conn->state == TT_CONN_CLEANUP) {
		tt_pdu_free(pdu);
		return;
	}
	if (conn->state == TT_CONN_XPT_UP || conn->state == TT_CONN_IN_LOGIN) {
		if (!data_digest_ok) {
			tt_pdu_free(pdu);
			tt_conn_fail(conn, "data digest error during login");
			return;
		}
		tt_login_rx(conn, pdu);
		return;
	}
	if (pdu->ctx == (void *)1) {
		tt_conn_reject(conn, &pdu->bhs, TT_REJECT_PROTOCOL_ERROR);
		tt_pdu_free(pdu);
		return;
	}
	if (op == TT_OP_DATA_OUT) {
		tt_data_out_rx(conn, pdu, data_digest_ok);
		return;
	}
	if (!data_digest_ok) {
		/* RFC 7143 §7.8: discard, answer with a Reject; a command is then not delivered */
		if (op == TT_OP_SCSI_CMD && pdu->ctx)
			tt_task_abort(pdu->ctx);
		tt_conn_reject(conn, &pdu->bhs, TT_REJECT_DIGEST_ERROR);
		tt_pdu_free(pdu);
		return;
	}
	if (!is_ffp_opcode(op) || op == TT_OP_SNACK) {
		/* SNACK needs ErrorRecoveryLevel > 0, which we never negotiate */
		tt_conn_reject(conn, &pdu->bhs, op == TT_OP_SNACK ? TT_REJECT_PROTOCOL_ERROR
								   : TT_REJECT_CMD_NOT_SUPPORTED);
		tt_pdu_free(pdu);
		return;
	}
	if (conn->sess->discovery && op != TT_OP_TEXT_REQ && op != TT_OP_LOGOUT_REQ &&
	    op != TT_OP_NOP_OUT) {
		if (op == TT_OP_SCSI_CMD && pdu->ctx)
			tt_task_abort(pdu->ctx);
		tt_conn_reject(conn, &pdu->bhs, TT_REJECT_PROTOCOL_ERROR);
		tt_pdu_free(pdu);
		return;
	}
	if (tt_bhs_immediate(&pdu->bhs)) {
		tt_conn_dispatch(conn, pdu);
		return;
	}
	rc = tt_session_order(conn->sess, conn, pdu);
	if (rc == 0) {
		tt_conn_dispatch(conn, pdu);
	} else if (rc < 0) {
		tt_debug("iscsi", "conn %llu: %s with CmdSN %u outside the window, dropped",
			 (unsigned long long)conn->id, tt_opcode_name(op),
			 tt_get_be32(pdu->raw + 24));
		if (op == TT_OP_SCSI_CMD && pdu->ctx)
			tt_task_abort(pdu->ctx);
		tt_pdu_free(pdu);
	}
}

static int conn_xsend(struct tt_xconn *xc, struct tt_pdu *pdu)
{
	return tt_conn_send(xc->upper, pdu);
}

const struct tt_xport_core tt_iscsi_core = {
	.accepted = conn_accepted,
	.rx_header = conn_rx_header,
	.rx_pdu = conn_rx_pdu,
	.rx_header_digest_error = conn_rx_header_digest_error,
	.closed = conn_xport_closed,
	.send = conn_xsend,
	.build_data_in = tt_task_build_data_in,
	.build_r2t = tt_task_build_r2t,
	.data_in_queued = tt_task_data_in_queued,
	.data_out_done = tt_task_data_out_done,
	.task_get = tt_xtask_get,
	.task_put = tt_xtask_put,
};
