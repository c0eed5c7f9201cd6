/* SPDX-License-Identifier: BSD-3-Clause */
/* Text requests in full feature phase: SendTargets and parameter renegotiation, multi-PDU. */
#include "target/internal.h"

#include "base/log.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tt_text_exchange {
	struct tt_text req;
	struct tt_text_out rsp;
	size_t off;
	bool rsp_more;
	uint32_t ttt;
};

void tt_text_exchange_free(struct tt_conn *conn)
{
	struct tt_text_exchange *x = conn->text;

	if (!x)
		return;
	tt_text_fini(&x->req);
	tt_text_out_fini(&x->rsp);
	free(x);
	conn->text = NULL;
}

static void format_addr(const struct sockaddr_storage *ss, uint16_t port, char *out, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "";

	if (ss->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, ip, sizeof(ip));
		snprintf(out, len, "[%s]:%u", ip, port);
	} else {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, ip, sizeof(ip));
		snprintf(out, len, "%s:%u", ip, port);
	}
}

/*
 * SendTargets lists only what the initiator may log in to: a TPG whose ACL rules admit it, and,
 * when the TPG requires CHAP, only to a session that authenticated with the same credentials
 * as the initiator's ACL in that target (an unauthenticated discovery session does not learn
 * the names of targets behind CHAP). Model lock held.
 */
static bool initiator_may_see(const struct tt_conn *conn, struct tt_target *t,
			      const struct tt_tpg *tpg, const char *initiator)
{
	const struct tt_session *s = conn->sess;
	struct tt_acl *acl = tt_acl_find(t, initiator);
	uint8_t print[TT_CHAP_PRINT_LEN];
	struct tt_chap_cred cred;

	if (!tpg->allow_any_initiator && !acl)
		return false;
	if (!tpg->chap_required)
		return true;
	if (!s || !s->chap_authenticated || !acl || !acl->chap.user[0])
		return false;
	cred = (struct tt_chap_cred){ .name = acl->chap.user,
				      .secret = (const uint8_t *)acl->chap.secret,
				      .secret_len = strlen(acl->chap.secret) };
	return tt_chap_cred_print(&cred, print) == 0 &&
	       memcmp(print, s->chap_print, sizeof(print)) == 0;
}

/* Whether @out holds the pair KEY=VALUE from offset @from on (an iSER and a TCP portal on one
 * address and port give the same TargetAddress: a target lists it once). */
static bool text_has_pair(const struct tt_text_out *out, size_t from, const char *pair)
{
	for (size_t i = from; i < out->len; i += strlen(out->buf + i) + 1)
		if (strcmp(out->buf + i, pair) == 0)
			return true;
	return false;
}

static int add_target(struct tt_conn *conn, struct tt_target *t, const char *initiator,
		      struct tt_text_out *out)
{
	struct tt_list *gpos, *ppos;
	size_t start = out->len; /* this target's pairs */
	bool named = false;
	int rc;

	tt_list_for_each(gpos, &t->tpgs) {
		struct tt_tpg *tpg = tt_list_entry(gpos, struct tt_tpg, node);

		if (!initiator_may_see(conn, t, tpg, initiator))
			continue;
		/* the portals that listen, in configuration order (an initiator tries them in the
		 * order given: one still binding would only cost it a failed attempt) */
		tt_list_for_each(ppos, &tpg->portals) {
			struct tt_portal *p = tt_list_entry(ppos, struct tt_portal, node);
			char addr[96], pair[128];
			const struct sockaddr_storage *ss = &p->addr.ss;

			if (!p->listener || tt_listener_state(p->listener) != TT_LISTENER_LISTENING)
				continue;
			if (tt_sockaddr_is_wildcard(ss)) {
				/* a wildcard portal: the address this initiator reached us on */
				if (conn->xc->local_addr.ss_family != ss->ss_family)
					continue;
				ss = &conn->xc->local_addr;
			}
			format_addr(ss, tt_sockaddr_port(&p->addr.ss), addr, sizeof(addr));
			if (!named) {
				/* a target is listed once it has an address to give */
				rc = tt_text_add(out, "TargetName", t->name);
				if (rc < 0)
					return rc;
				named = true;
			}
			snprintf(pair, sizeof(pair), "TargetAddress=%s,%u", addr, tpg->tag);
			if (named && text_has_pair(out, start, pair))
				continue;
			rc = tt_text_addf(out, "TargetAddress", "%s,%u", addr, tpg->tag);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

int tt_sendtargets(struct tt_conn *conn, const char *which, struct tt_text_out *out)
{
	const char *initiator = conn->sess ? conn->sess->initiator : conn->params.initiator_name;
	struct tt_list *pos;
	int rc = 0;

	tt_model_lock();
	tt_list_for_each(pos, tt_model_targets()) {
		struct tt_target *t = tt_list_entry(pos, struct tt_target, node);

		if (t->deleted)
			continue;
		if (strcmp(which, "All") != 0) {
			const char *want = which[0] ? which : (conn->sess && conn->sess->target ?
							      conn->sess->target->name : "");
			if (strcmp(want, t->name) != 0)
				continue;
		}
		rc = add_target(conn, t, initiator, out);
		if (rc < 0)
			break;
	}
	tt_model_unlock();
	return rc;
}

static void text_send_chunk(struct tt_conn *conn, struct tt_text_exchange *x, const uint8_t itt[4])
{
	const char *chunk;
	bool last;
	uint32_t max = conn->params.max_xmit_dsl ? conn->params.max_xmit_dsl : 8192;
	size_t len = tt_text_next_chunk(&x->rsp, &x->off, max, &chunk, &last);
	struct tt_pdu *pdu = tt_pdu_alloc();
	struct tt_bhs_text_rsp *r;

	if (!pdu || (len && tt_pdu_alloc_data(pdu, (uint32_t)len) < 0)) {
		tt_pdu_free(pdu);
		tt_conn_fail(conn, "out of memory");
		return;
	}
	r = (struct tt_bhs_text_rsp *)pdu->raw;
	r->opcode = TT_OP_TEXT_RSP;
	r->flags = last ? TT_FLAG_FINAL : TT_FLAG_CONT;
	memcpy(r->itt, itt, 4);
	if (!last) {
		if (++x->ttt == TT_RSVD_TAG)
			x->ttt = 1;
		tt_put_be32(r->ttt, x->ttt);
	} else {
		tt_put_be32(r->ttt, TT_RSVD_TAG);
	}
	if (len)
		memcpy(pdu->data, chunk, len);
	tt_bhs_set_dlength(&pdu->bhs, (uint32_t)len);
	x->rsp_more = !last;
	tt_conn_send(conn, pdu);
}

void tt_text_rx(struct tt_conn *conn, struct tt_pdu *pdu)
{
	const struct tt_bhs_text_req *r = (const struct tt_bhs_text_req *)pdu->raw;
	struct tt_text_exchange *x = conn->text;
	uint8_t itt[4];
	bool cont = r->flags & TT_FLAG_CONT;
	uint32_t ttt = tt_get_be32(r->ttt);
	const char *st;
	int rc;

	memcpy(itt, r->itt, 4);
	if (!x) {
		x = calloc(1, sizeof(*x));
		if (!x) {
			tt_pdu_free(pdu);
			tt_conn_fail(conn, "out of memory");
			return;
		}
		tt_text_init(&x->req, 0);
		tt_text_out_init(&x->rsp, 0);
		conn->text = x;
	}
	if (ttt != TT_RSVD_TAG) {
		/* continuing our multi-PDU response */
		if (!x->rsp_more || ttt != x->ttt) {
			tt_conn_reject(conn, &pdu->bhs, TT_REJECT_INVALID_PDU_FIELD);
			tt_pdu_free(pdu);
			return;
		}
		tt_pdu_free(pdu);
		text_send_chunk(conn, x, itt);
		return;
	}
	if (x->rsp_more) {
		/* a new exchange resets an unfinished one (RFC 7143 §11.10.4) */
		x->rsp_more = false;
		tt_text_reset(&x->req);
	}
	rc = tt_text_append(&x->req, pdu->data, pdu->data_len, !cont);
	if (rc < 0) {
		tt_conn_reject(conn, &pdu->bhs, TT_REJECT_PROTOCOL_ERROR);
		tt_pdu_free(pdu);
		tt_text_reset(&x->req);
		return;
	}
	tt_pdu_free(pdu);
	tt_text_out_reset(&x->rsp);
	x->off = 0;
	if (cont) {
		/* acknowledge with an empty response and wait for the rest */
		x->rsp_more = false;
		text_send_chunk(conn, x, itt);
		return;
	}
	st = tt_text_find(&x->req, "SendTargets");
	if (st) {
		if (strcmp(st, "All") == 0 && !conn->sess->discovery)
			rc = tt_text_add(&x->rsp, "SendTargets", TT_TEXT_REJECT);
		else
			rc = tt_sendtargets(conn, st, &x->rsp);
	}
	if (rc == 0 && tt_text_count(&x->req) > (st ? 1u : 0u)) {
		/* other keys: renegotiation in full feature phase */
		struct tt_negotiation neg;
		struct tt_params_policy pol;
		struct tt_text others;
		char hd[16], dd[16];

		tt_text_init(&others, 0);
		for (size_t i = 0; i < tt_text_count(&x->req); i++) {
			struct tt_text_pair p = tt_text_get(&x->req, i);
			char pair[TT_TEXT_KEY_MAX + TT_TEXT_VALUE_MAX + 2];
			int n;

			if (strcmp(p.key, "SendTargets") == 0)
				continue;
			n = snprintf(pair, sizeof(pair), "%s=%s", p.key, p.value);
			if (n > 0 && (size_t)n < sizeof(pair))
				tt_text_append(&others, pair, (size_t)n + 1, false);
		}
		tt_text_append(&others, "", 0, true);
		tt_conn_policy(conn, &pol, hd, dd);
		tt_negotiation_init(&neg, TT_ROLE_TARGET, false);
		rc = tt_params_respond(&neg, &conn->params, &pol, TT_STAGE_FULL_FEATURE, &others, &x->rsp);
		if (rc > 0) {
			/* error_key points into others: log it before others is freed */
			tt_notice("iscsi", "conn %llu: text key %s refused", (unsigned long long)conn->id,
				  neg.error_key ? neg.error_key : "?");
			rc = 0;
		}
		tt_text_fini(&others);
	}
	tt_text_reset(&x->req);
	if (rc < 0) {
		tt_conn_fail(conn, "cannot build the text response");
		return;
	}
	text_send_chunk(conn, x, itt);
}
