/* SPDX-License-Identifier: BSD-3-Clause */
/* NOP-Out answers and the NOP-In keepalive that finds dead peers. */
#include "target/internal.h"

#include "base/clock.h"
#include "base/log.h"

#include <stdio.h>
#include <string.h>

static void nop_send_ping(struct tt_conn *conn)
{
	struct tt_pdu *pdu = tt_pdu_alloc();
	struct tt_bhs_nop_in *n;

	if (!pdu)
		return;
	n = (struct tt_bhs_nop_in *)pdu->raw;
	n->opcode = TT_OP_NOP_IN;
	n->flags = TT_FLAG_FINAL;
	tt_put_be32(n->itt, TT_RSVD_TAG);
	if (++conn->nop_ttt == TT_RSVD_TAG)
		conn->nop_ttt = 1;
	tt_put_be32(n->ttt, conn->nop_ttt);
	tt_conn_send(conn, pdu);
}

/*
 * Keepalive: when nothing has come from the peer for an interval, send a NOP-In; when nothing
 * comes within the timeout after it, the peer is gone: reap the connection, whether or not I/O
 * is in flight.
 */
static void nop_tick(struct tt_timer *t)
{
	struct tt_conn *conn = tt_container_of(t, struct tt_conn, nop_timer);
	const struct tt_tpg *tpg = conn->tpg;
	uint64_t now = tt_now_ns(), interval, idle;
	char why[96];

	if (!tpg || !tpg->nop_interval_ms || conn->state != TT_CONN_LOGGED_IN)
		return;
	interval = (uint64_t)tpg->nop_interval_ms * TT_NS_PER_MS;
	if (conn->nop_outstanding) {
		if (conn->last_rx_ns <= conn->nop_sent_ns) {
			snprintf(why, sizeof(why), "no answer to NOP-In within %u ms (silent for %llu ms)",
				 tpg->nop_timeout_ms,
				 (unsigned long long)((now - conn->last_rx_ns) / TT_NS_PER_MS));
			tt_conn_fail(conn, why);
			return;
		}
		conn->nop_outstanding = false;
	}
	idle = now - conn->last_rx_ns;
	if (idle >= interval) {
		nop_send_ping(conn);
		conn->nop_outstanding = true;
		conn->nop_sent_ns = now;
		tt_timer_arm_ms(t, tpg->nop_timeout_ms ? tpg->nop_timeout_ms : tpg->nop_interval_ms);
	} else {
		tt_timer_arm_ns(t, interval - idle);
	}
}

void tt_nop_start(struct tt_conn *conn)
{
	conn->nop_timer.fn = nop_tick;
	conn->last_rx_ns = tt_now_ns();
	if (conn->tpg && conn->tpg->nop_interval_ms)
		tt_timer_arm_ms(&conn->nop_timer, conn->tpg->nop_interval_ms);
}

void tt_nop_rx(struct tt_conn *conn, struct tt_pdu *pdu)
{
	const struct tt_bhs_nop_out *o = (const struct tt_bhs_nop_out *)pdu->raw;
	struct tt_pdu *rsp;
	struct tt_bhs_nop_in *n;

	if (tt_get_be32(o->itt) == TT_RSVD_TAG) {
		/* the answer to one of our NOP-Ins */
		if (tt_get_be32(o->ttt) == conn->nop_ttt)
			conn->nop_outstanding = false;
		tt_pdu_free(pdu);
		return;
	}
	if (tt_get_be32(o->ttt) != TT_RSVD_TAG) {
		tt_conn_reject(conn, &pdu->bhs, TT_REJECT_PROTOCOL_ERROR);
		tt_pdu_free(pdu);
		return;
	}
	rsp = tt_pdu_alloc();
	if (!rsp) {
		tt_pdu_free(pdu);
		return;
	}
	n = (struct tt_bhs_nop_in *)rsp->raw;
	n->opcode = TT_OP_NOP_IN;
	n->flags = TT_FLAG_FINAL;
	memcpy(n->lun, o->lun, 8);
	memcpy(n->itt, o->itt, 4);
	tt_put_be32(n->ttt, TT_RSVD_TAG);
	if (pdu->data_len && pdu->data) {
		/* echo the ping data */
		uint32_t len = pdu->data_len;
		if (len > conn->params.max_xmit_dsl)
			len = conn->params.max_xmit_dsl;
		rsp->data = pdu->data;
		rsp->data_len = len;
		rsp->data_owned = pdu->data_owned;
		pdu->data_owned = false;
		tt_bhs_set_dlength(&rsp->bhs, len);
	}
	tt_pdu_free(pdu);
	tt_conn_send(conn, rsp);
}
