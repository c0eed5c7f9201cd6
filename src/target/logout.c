/* SPDX-License-Identifier: BSD-3-Clause */
/* Logout (RFC 7143 §11.14-15): close the session, close a connection. */
#include "target/internal.h"

#include "base/log.h"

#include <string.h>

static void logout_session_sent(struct tt_pdu *pdu)
{
	struct tt_session *s = pdu->ctx;

	tt_session_end(s, "logged out");
	tt_session_put(s);
}

void tt_logout_rx(struct tt_conn *conn, struct tt_pdu *pdu)
{
	struct tt_bhs hdr = pdu->bhs;
	const struct tt_bhs_logout_req *r = (const struct tt_bhs_logout_req *)&hdr;
	uint8_t reason = r->flags & 0x7f;
	uint16_t cid = tt_get_be16(r->cid);
	struct tt_session *s = conn->sess;
	struct tt_conn *target_conn = NULL;
	struct tt_pdu *rsp;
	struct tt_bhs_logout_rsp *l;
	struct tt_list *pos;

	if (conn->state == TT_CONN_IN_LOGOUT) {
		/* RFC 7143 §11.14: no new request after a Logout Request on the closing
		 * connection; a second one gets a Reject, not a second Logout Response */
		tt_conn_reject(conn, &hdr, TT_REJECT_PROTOCOL_ERROR);
		tt_pdu_free(pdu);
		return;
	}
	rsp = tt_pdu_alloc();
	if (!rsp) {
		tt_pdu_free(pdu);
		tt_conn_fail(conn, "out of memory");
		return;
	}
	l = (struct tt_bhs_logout_rsp *)rsp->raw;
	l->opcode = TT_OP_LOGOUT_RSP;
	l->flags = TT_FLAG_FINAL;
	memcpy(l->itt, r->itt, 4);
	tt_pdu_free(pdu);

	switch (reason) {
	case TT_LOGOUT_CLOSE_SESSION:
		l->response = TT_LOGOUT_RSP_OK;
		rsp->sent = logout_session_sent;
		rsp->ctx = s;
		tt_session_get(s);
		tt_conn_set_state(conn, TT_CONN_IN_LOGOUT);
		break;
	case TT_LOGOUT_CLOSE_CONN:
		tt_list_for_each(pos, &s->conns) {
			struct tt_conn *c = tt_list_entry(pos, struct tt_conn, sess_node);
			if (c->cid == cid)
				target_conn = c;
		}
		if (!target_conn) {
			l->response = TT_LOGOUT_RSP_NO_CID;
			break;
		}
		l->response = TT_LOGOUT_RSP_OK;
		if (target_conn != conn) {
			tt_conn_fail(target_conn, "closed by a logout on another connection");
			break;
		}
		rsp->sent = tt_conn_close_after;
		rsp->ctx = conn;
		tt_conn_get(conn);
		tt_conn_set_state(conn, TT_CONN_IN_LOGOUT);
		break;
	case TT_LOGOUT_REMOVE_CONN:
		/* connection recovery needs ErrorRecoveryLevel 2 */
		l->response = TT_LOGOUT_RSP_NO_RECOVERY;
		tt_put_be16(l->time2wait, s->params.time2wait);
		tt_put_be16(l->time2retain, s->params.time2retain);
		break;
	default:
		tt_pdu_free(rsp);
		tt_conn_reject(conn, &hdr, TT_REJECT_INVALID_PDU_FIELD);
		return;
	}
	tt_notice("iscsi", "conn %llu %s: logout (reason %u, cid %u): response %u",
		  (unsigned long long)conn->id, conn->peer, reason, cid, l->response);
	tt_conn_send(conn, rsp);
}
