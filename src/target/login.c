/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Login (RFC 7143 §6.3, §11.12-13): security and operational stages, CHAP, multi-PDU text in
 * both directions, and the session it creates, joins or reinstates.
 */
#include "target/internal.h"

#include "base/log.h"
#include "target/limits.h"
#include "xport/iser_proto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern bool tt_iscsi_shutting_down;

struct tt_login {
	struct tt_negotiation neg;
	struct tt_params_policy pol;
	char hdigests[32], ddigests[32], auth[16];
	struct tt_text req;
	struct tt_text_out rsp;
	size_t rsp_off;           /* bytes of rsp already sent */
	bool rsp_more;            /* rsp still has chunks to send */
	uint8_t rsp_flags;        /* T/CSG/NSG to send with the last chunk */
	struct tt_chap chap;
	bool chap_needed, chap_started, auth_done;
	bool started;             /* the first request has been seen */
	bool names_checked;
	uint8_t isid[6];
	uint16_t tsih, cid;
	uint8_t itt[4];
	uint32_t cmd_sn;
	int stage;                /* current stage (CSG) */
	struct tt_target *target; /* a reference once TargetName is known */
	bool waiting;             /* for a reinstated session to go */
	uint8_t chap_print[TT_CHAP_PRINT_LEN]; /* of the credentials CHAP checks (chap_needed) */
	uint32_t pdus;            /* Login Requests received (global.max_login_pdus) */
	uint64_t text_bytes;      /* their data segments (global.max_login_text) */
};

static void login_send_status(struct tt_conn *conn, uint16_t status);

void tt_login_free(struct tt_conn *conn)
{
	struct tt_login *l = conn->login;

	if (!l)
		return;
	conn->login = NULL;
	tt_text_fini(&l->req);
	tt_text_out_fini(&l->rsp);
	tt_chap_fini(&l->chap);
	if (l->target)
		tt_target_put(l->target);
	free(l);
	tt_conn_put(conn); /* the login's reference */
}

static struct tt_login *login_get(struct tt_conn *conn)
{
	struct tt_login *l = conn->login;

	if (l)
		return l;
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	tt_text_init(&l->req, 0);
	tt_text_out_init(&l->rsp, 0);
	tt_params_policy_defaults(&l->pol);
	conn->login = l;
	tt_conn_get(conn);
	return l;
}

int tt_login_rx_header(struct tt_conn *conn, struct tt_pdu *pdu)
{
	uint32_t dlen = tt_bhs_dlength(&pdu->bhs);

	(void)conn;
	if (dlen > TT_LOGIN_MAX_DSL) {
		pdu->ctx = (void *)1; /* read and discard; the login fails */
		return 0;
	}
	pdu->ctx = NULL;
	if (dlen)
		return tt_pdu_alloc_data(pdu, dlen);
	return 0;
}

void tt_conn_policy(struct tt_conn *conn, struct tt_params_policy *pol, char *hd, char *dd)
{
	const struct tt_tpg_params *tp = conn->tpg ? &conn->tpg->params : NULL;

	tt_params_policy_defaults(pol);
	if (tp) {
		strcpy(hd, tp->header_digest ? "CRC32C,None" : "None");
		strcpy(dd, tp->data_digest ? "CRC32C,None" : "None");
		pol->header_digests = hd;
		pol->data_digests = dd;
		pol->max_recv_dsl = tp->max_recv_dsl;
		pol->max_burst = tp->max_burst;
		pol->first_burst = tp->first_burst;
		pol->immediate_data = tp->immediate_data;
		pol->initial_r2t = tp->initial_r2t;
		pol->max_outstanding_r2t = tp->max_outstanding_r2t;
		pol->max_connections = (uint16_t)tp->max_connections;
		pol->erl_max = tp->max_erl;
		pol->time2wait = (uint16_t)tp->time2wait;
		pol->time2retain = (uint16_t)tp->time2retain;
	}
	pol->discovery_allowed = true;
	pol->tpgt = conn->tpgt;
	conn->xc->ops->login_policy(conn->xc, pol);
}

/* TargetAlias is declared only to an initiator that may know it: once CHAP (when needed) has
 * authenticated it. */
static void login_policy_alias(struct tt_login *l)
{
	l->pol.target_alias = (l->target && l->target->alias[0] && (!l->chap_needed || l->auth_done))
				      ? l->target->alias : NULL;
}

static void fill_policy(struct tt_login *l, struct tt_conn *conn)
{
	tt_conn_policy(conn, &l->pol, l->hdigests, l->ddigests);
	snprintf(l->auth, sizeof(l->auth), "%s", l->chap_needed ? "CHAP" : "None");
	l->pol.auth_methods = l->auth;
	login_policy_alias(l);
}

/* The TPG of @t that has a portal on @lst (and that portal), or NULL. Model lock held. */
static struct tt_tpg *tpg_on_listener(struct tt_target *t, const struct tt_listener *lst,
				      struct tt_portal **portal)
{
	struct tt_list *gn, *pn;

	tt_list_for_each(gn, &t->tpgs) {
		struct tt_tpg *g = tt_list_entry(gn, struct tt_tpg, node);

		tt_list_for_each(pn, &g->portals) {
			struct tt_portal *p = tt_list_entry(pn, struct tt_portal, node);

			if (p->listener == lst) {
				*portal = p;
				return g;
			}
		}
	}
	return NULL;
}

/*
 * A discovery session on a shared listener: its keepalive and negotiation limits are those of
 * the first TPG (in configuration order) with a portal there. It must authenticate when a TPG
 * there requires CHAP and the initiator has CHAP credentials in that TPG's target, or when every
 * TPG there requires CHAP; the credentials are those of the first such ACL. Model lock held.
 */
static void discovery_policy(struct tt_conn *conn, struct tt_login *l, const char *initiator,
			     struct tt_acl_chap *chap)
{
	const struct tt_listener *lst = conn->xc->listener;
	struct tt_tpg *first = NULL;
	struct tt_portal *first_portal = NULL;
	bool all_chap = true, any = false;
	struct tt_list *n;

	tt_list_for_each(n, tt_model_targets()) {
		struct tt_target *t = tt_list_entry(n, struct tt_target, node);
		struct tt_portal *p;
		struct tt_tpg *g;
		struct tt_acl *acl;

		if (t->deleted || !(g = tpg_on_listener(t, lst, &p)))
			continue;
		any = true;
		if (!first) {
			first = g;
			first_portal = p;
		}
		if (!g->chap_required) {
			all_chap = false;
			continue;
		}
		acl = tt_acl_find(t, initiator);
		if (acl && acl->chap.user[0] && !l->chap_needed) {
			*chap = acl->chap;
			l->chap_needed = true;
		}
	}
	if (any && all_chap)
		l->chap_needed = true;
	if (first)
		tt_conn_bind_tpg(conn, first, first_portal);
}

/* After the first request's names are known: target, TPG, ACL, authentication needs.
 * Returns 0 or a login status. */
static int login_check_names(struct tt_conn *conn, struct tt_login *l)
{
	struct tt_params *p = &conn->params;
	struct tt_acl *acl = NULL;
	struct tt_acl_chap chap;
	struct tt_portal *portal = NULL;
	struct tt_tpg *g = NULL;
	int status = 0;

	memset(&chap, 0, sizeof(chap));
	if (!p->initiator_name[0])
		return TT_LOGIN_MISSING_PARAM;
	if (p->session_type == TT_SESSION_DISCOVERY) {
		tt_model_lock();
		discovery_policy(conn, l, p->initiator_name, &chap);
		tt_model_unlock();
	} else if (!p->target_name[0]) {
		return TT_LOGIN_MISSING_PARAM;
	} else {
		tt_model_lock();
		/* the TPG is the target's group that listens where the connection came in */
		if (!(l->target = tt_target_find(p->target_name)) || l->target->deleted ||
		    !(g = tpg_on_listener(l->target, conn->xc->listener, &portal))) {
			l->target = NULL;
			status = TT_LOGIN_NOT_FOUND;
		} else {
			tt_target_get(l->target);
			tt_conn_bind_tpg(conn, g, portal);
			acl = tt_acl_find(l->target, p->initiator_name);
			if (acl)
				chap = acl->chap;
			if (!acl && !g->allow_any_initiator)
				status = TT_LOGIN_FORBIDDEN;
			else if (g->chap_required || chap.user[0])
				l->chap_needed = true;
		}
		tt_model_unlock();
	}
	if (status)
		return status;
	if (conn->tpg)
		tt_timer_arm_ms(&conn->login_timer, conn->tpg->login_timeout_ms);
	if (l->chap_needed) {
		struct tt_chap_cred peer = { .name = chap.user, .secret = (const uint8_t *)chap.secret,
					     .secret_len = strlen(chap.secret) };
		struct tt_chap_cred local = { .name = chap.mutual_user,
					      .secret = (const uint8_t *)chap.mutual_secret,
					      .secret_len = strlen(chap.mutual_secret) };
		if (!chap.user[0] || tt_chap_cred_print(&peer, l->chap_print) < 0 ||
		    tt_chap_target_init(&l->chap, &peer, chap.mutual_user[0] ? &local : NULL, 0) < 0) {
			tt_warn("iscsi", "conn %llu: %s needs CHAP but has no usable credentials",
				(unsigned long long)conn->id, p->initiator_name);
			status = TT_LOGIN_AUTH_FAILED;
		}
		memset(&chap, 0, sizeof(chap));
	}
	return status;
}

static struct tt_pdu *login_rsp_pdu(struct tt_conn *conn, struct tt_login *l, uint8_t flags,
				    uint16_t status)
{
	struct tt_pdu *pdu = tt_pdu_alloc();
	struct tt_bhs_login_rsp *r;

	if (!pdu)
		return NULL;
	r = (struct tt_bhs_login_rsp *)pdu->raw;
	r->opcode = TT_OP_LOGIN_RSP;
	r->flags = flags;
	r->version_max = 0;
	r->version_active = 0;
	memcpy(r->isid, l->isid, 6);
	tt_put_be16(r->tsih, status ? 0 : l->tsih);
	memcpy(r->itt, l->itt, 4);
	tt_put_be32(r->statsn, conn->stat_sn++);
	if (conn->sess) {
		tt_put_be32(r->expcmdsn, conn->sess->exp_cmd_sn);
		tt_put_be32(r->maxcmdsn, conn->sess->max_cmd_sn);
	} else {
		tt_put_be32(r->expcmdsn, l->cmd_sn);
		tt_put_be32(r->maxcmdsn, l->cmd_sn + tt_limits_cmd_window() - 1);
	}
	r->status_class = (uint8_t)(status >> 8);
	r->status_detail = (uint8_t)status;
	return pdu;
}

static void login_send_status(struct tt_conn *conn, uint16_t status)
{
	struct tt_login *l = conn->login;
	struct tt_pdu *pdu;
	struct tt_login dummy;

	if (!l) {
		memset(&dummy, 0, sizeof(dummy));
		l = &dummy;
	}
	tt_notice("iscsi", "conn %llu %s: login of %s to %s refused: status 0x%04x",
		  (unsigned long long)conn->id, conn->peer,
		  conn->params.initiator_name[0] ? conn->params.initiator_name : "?",
		  conn->params.target_name[0] ? conn->params.target_name : "discovery", status);
	pdu = login_rsp_pdu(conn, l, 0, status);
	if (!pdu) {
		tt_conn_fail(conn, "out of memory");
		return;
	}
	/* the connection closes once the response has gone out */
	pdu->sent = tt_conn_close_after;
	pdu->ctx = conn;
	tt_conn_get(conn);
	/* takes the PDU: if it cannot be sent, freeing it closes the connection */
	conn->xc->ops->queue_pdu(conn->xc, pdu);
	if (conn->state == TT_CONN_CLEANUP)
		return;
	tt_timer_arm_ms(&conn->login_timer, 2000); /* do not wait forever for the send */
}

/* Sends the next chunk of the prepared response text. */
static void login_send_chunk(struct tt_conn *conn, struct tt_login *l)
{
	const char *chunk;
	bool last;
	size_t len = tt_text_next_chunk(&l->rsp, &l->rsp_off, TT_LOGIN_MAX_DSL, &chunk, &last);
	uint8_t flags = last ? l->rsp_flags : (uint8_t)(l->rsp_flags & ~TT_LOGIN_TRANSIT) | TT_LOGIN_CONT;
	struct tt_pdu *pdu;

	if (!last)
		flags &= (uint8_t)~3; /* NSG is reserved without T */
	pdu = login_rsp_pdu(conn, l, flags, 0);
	if (!pdu || (len && tt_pdu_alloc_data(pdu, (uint32_t)len) < 0)) {
		tt_pdu_free(pdu);
		tt_conn_fail(conn, "out of memory");
		return;
	}
	if (len)
		memcpy(pdu->data, chunk, len);
	tt_bhs_set_dlength(&pdu->bhs, (uint32_t)len);
	l->rsp_more = !last;
	if (conn->xc->ops->queue_pdu(conn->xc, pdu) < 0) /* takes the PDU */
		tt_conn_fail(conn, "transport refused a PDU");
}

/* The login reached full feature phase: session created/joined, final response sent. */
static void login_complete(struct tt_conn *conn, struct tt_login *l)
{
	struct tt_session *s = conn->sess;
	struct tt_params *p = &conn->params;
	struct tt_xport_params xp;
	unsigned budget;

	l->rsp_flags = (uint8_t)(TT_LOGIN_TRANSIT | (l->stage << 2) | TT_STAGE_FULL_FEATURE);
	l->tsih = s->tsih;
	login_send_chunk(conn, l);
	if (conn->state == TT_CONN_CLEANUP)
		return;
	if (l->rsp_more) {
		/* the final response needs more PDUs: the login goes on until they are fetched */
		return;
	}
	/* with RDMAExtensions=Yes the iSER keys size the data segments */
	tt_iser_params_apply(p);
	tt_conn_set_state(conn, TT_CONN_LOGGED_IN);
	if (s->state == TT_SESS_LOGGING_IN)
		tt_session_set_state(s, TT_SESS_ACTIVE);
	tt_notice("iscsi", "conn %llu %s: %s session %llu (tsih %u) for %s%s%s, cid %u",
		  (unsigned long long)conn->id, conn->peer, s->discovery ? "discovery" : "normal",
		  (unsigned long long)s->id, s->tsih, p->initiator_name, s->discovery ? "" : " to ",
		  s->discovery ? "" : p->target_name, conn->cid);
	tt_login_free(conn);
	/* digests and sizes apply from the next PDU on */
	xp = (struct tt_xport_params){
		.header_digest = p->header_digest,
		.data_digest = p->data_digest,
		.max_xmit_dsl = p->max_xmit_dsl,
		.max_burst = s->params.max_burst,
		.max_outstanding_r2t = s->params.max_outstanding_r2t,
	};
	conn->xc->ops->apply_params(conn->xc, &xp);
	budget = conn->tpg ? conn->tpg->nop_interval_ms + conn->tpg->nop_timeout_ms : 0;
	if (budget)
		conn->xc->ops->set_timeout(conn->xc, budget);
}

static int login_bind_session(struct tt_conn *conn, struct tt_login *l);

void tt_login_reinstate_done(void *arg)
{
	struct tt_conn *conn = arg;
	struct tt_login *l = conn->login;
	int status;

	if (conn->state == TT_CONN_IN_LOGIN && l && l->waiting) {
		l->waiting = false;
		status = login_bind_session(conn, l);
		if (status > 0)
			login_send_status(conn, (uint16_t)status);
		else if (status == 0 && !l->waiting)
			login_complete(conn, l);
	}
	tt_conn_put(conn); /* the reference held while waiting */
}

/* The connection takes one of its initiator's places (global.max_connections_per_initiator);
 * false when the initiator holds them all (the login is refused with 0302h). */
static bool login_count_initiator(struct tt_conn *conn)
{
	const char *name = conn->params.initiator_name;
	int rc;

	if (conn->lim_initiator)
		return true;
	rc = tt_limits_initiator_add(name);
	if (rc < 0) {
		tt_log_ratelimited(TT_LOG_WARN, "iscsi", "conn %llu %s: login of %s refused: %s",
				   (unsigned long long)conn->id, conn->peer, name,
				   rc == -EUSERS ? "max_connections_per_initiator reached"
						 : strerror(-rc));
		return false;
	}
	conn->lim_initiator = true;
	return true;
}

/* Returns 0 (bound: conn->sess set), 0 with l->waiting (an old session must go first), or a
 * login status. */
static int login_bind_session(struct tt_conn *conn, struct tt_login *l)
{
	struct tt_params *p = &conn->params;
	bool discovery = p->session_type == TT_SESSION_DISCOVERY;
	struct tt_session *s, *old;
	int rc;

	if (tt_iscsi_shutting_down)
		return TT_LOGIN_SERVICE_UNAVAIL;
	tt_model_lock();
	if (!discovery && (!l->target || l->target->deleted)) {
		tt_model_unlock();
		return TT_LOGIN_REMOVED;
	}
	if (l->tsih) {
		/* a connection joining (or reinstating itself in) an existing session */
		s = discovery ? NULL : tt_session_find_tsih(l->target, l->tsih);
		if (!s || s->state != TT_SESS_ACTIVE || memcmp(s->isid, l->isid, 6) ||
		    strcmp(s->initiator, p->initiator_name)) {
			tt_model_unlock();
			return TT_LOGIN_NO_SESSION;
		}
		if (s->loop != conn->loop || s->nconns >= s->params.max_connections) {
			/* connections of one session must share a loop; only one is negotiated */
			tt_model_unlock();
			return TT_LOGIN_TOO_MANY_CONN;
		}
		tt_model_unlock();
		if (!login_count_initiator(conn))
			return TT_LOGIN_NO_RESOURCES;
		tt_session_add_conn(s, conn);
		return 0;
	}
	old = tt_session_find(l->target, p->initiator_name, l->isid, conn->tpgt, discovery);
	if (old) {
		/* session reinstatement: the old session and all its tasks go first */
		tt_model_unlock();
		tt_notice("iscsi", "conn %llu: reinstating session %llu of %s", (unsigned long long)conn->id,
			  (unsigned long long)old->id, p->initiator_name);
		l->waiting = true;
		tt_conn_get(conn);
		/* the old session's backend I/O may take up to the drain bound: wait that long */
		tt_timer_arm_ms(&conn->login_timer, TT_DRAIN_TIMEOUT_MS + 5000);
		tt_session_end_and_wait(old, conn->loop, tt_login_reinstate_done, conn);
		return 0;
	}
	if (!login_count_initiator(conn)) { /* (a leaf lock: taken under the model's) */
		tt_model_unlock();
		return TT_LOGIN_NO_RESOURCES;
	}
	rc = tt_session_create(conn, l->target, discovery, l->isid, tt_tsih_next(), &s);
	tt_model_unlock();
	if (rc < 0)
		return TT_LOGIN_NO_RESOURCES;
	s->exp_cmd_sn = l->cmd_sn;
	s->max_cmd_sn = l->cmd_sn + s->queue_depth - 1;
	s->params = *p;
	if (l->chap_needed && l->auth_done && tt_chap_done(&l->chap)) {
		s->chap_authenticated = true;
		memcpy(s->chap_print, l->chap_print, sizeof(s->chap_print));
	}
	tt_session_add_conn(s, conn); /* the creation reference is the registry's */
	return 0;
}

/* Validates the header of a login request against the login so far. Returns 0 or a status. */
static int login_check_header(struct tt_conn *conn, struct tt_login *l,
			      const struct tt_bhs_login_req *r)
{
	uint8_t csg = TT_LOGIN_CSG(r->flags), nsg = TT_LOGIN_NSG(r->flags);
	bool transit = r->flags & TT_LOGIN_TRANSIT;

	if (r->version_min > 0)
		return TT_LOGIN_UNSUPPORTED_VER;
	if (!l->started) {
		l->started = true;
		memcpy(l->isid, r->isid, 6);
		l->tsih = tt_get_be16(r->tsih);
		l->cid = tt_get_be16(r->cid);
		l->cmd_sn = tt_get_be32(r->cmdsn);
		conn->stat_sn = tt_get_be32(r->expstatsn);
		conn->cid = l->cid;
		l->stage = csg;
		tt_negotiation_init(&l->neg, TT_ROLE_TARGET, l->tsih == 0);
	} else if (memcmp(l->isid, r->isid, 6) || l->tsih != tt_get_be16(r->tsih) ||
		   l->cid != tt_get_be16(r->cid)) {
		return TT_LOGIN_INIT_ERR;
	}
	memcpy(l->itt, r->itt, 4);
	if (csg != l->stage || csg == 2 || csg == TT_STAGE_FULL_FEATURE)
		return TT_LOGIN_INIT_ERR;
	if (transit && ((r->flags & TT_LOGIN_CONT) || nsg <= csg || nsg == 2))
		return TT_LOGIN_INIT_ERR;
	return 0;
}

/* *transit: the initiator asks to leave the security stage; we decline (answer T=0) while CHAP
 * that was agreed has not finished. */
static int login_security(struct tt_conn *conn, struct tt_login *l, bool *transit)
{
	bool has_chap = tt_text_find(&l->req, "CHAP_A") || tt_text_find(&l->req, "CHAP_N") ||
			tt_text_find(&l->req, "CHAP_R") || tt_text_find(&l->req, "CHAP_C");
	int rc;

	if (has_chap) {
		if (!l->chap_needed || conn->params.auth_method != TT_AUTH_CHAP)
			return TT_LOGIN_INIT_ERR;
		l->chap_started = true;
		rc = tt_chap_target_step(&l->chap, &l->req, &l->rsp);
		if (rc != 0)
			return rc < 0 ? TT_LOGIN_TARGET_ERROR : rc;
		if (tt_chap_done(&l->chap))
			l->auth_done = true;
	}
	if (!l->chap_needed && (l->neg.received & (1ull << TT_KEY_AUTH_METHOD)))
		l->auth_done = true;
	if (*transit && !l->auth_done) {
		if (l->chap_needed && conn->params.auth_method == TT_AUTH_CHAP)
			*transit = false; /* RFC 7143 §6.3: CHAP goes on before the stage changes */
		else if (l->chap_needed)
			return TT_LOGIN_AUTH_FAILED;
		else
			l->auth_done = true; /* no AuthMethod offered and none needed */
	}
	return 0;
}

/*
 * Some initiators (libiscsi) send InitiatorName, TargetName and SessionType again in later
 * requests of a login. An identical repeat changes nothing and is dropped before negotiation; a
 * different value is an initiator error.
 */
static int login_drop_repeats(struct tt_conn *conn, struct tt_login *l)
{
	static const char *const names[] = { "InitiatorName", "TargetName", "SessionType" };
	struct tt_text kept;
	bool dropped = false;
	int rc = 0;

	for (size_t i = 0; i < tt_text_count(&l->req); i++) {
		struct tt_text_pair p = tt_text_get(&l->req, i);
		for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
			const char *was;
			if (strcmp(p.key, names[k]))
				continue;
			was = k == 0 ? conn->params.initiator_name :
			      k == 1 ? conn->params.target_name :
			      conn->params.session_type == TT_SESSION_DISCOVERY ? "Discovery" : "Normal";
			if (strcmp(p.value, was))
				return TT_LOGIN_INIT_ERR;
			dropped = true;
		}
	}
	if (!dropped)
		return 0;
	tt_text_init(&kept, 0);
	for (size_t i = 0; i < tt_text_count(&l->req) && rc == 0; i++) {
		struct tt_text_pair p = tt_text_get(&l->req, i);
		size_t klen = strlen(p.key), vlen = strlen(p.value);
		char *pair;

		if (!strcmp(p.key, names[0]) || !strcmp(p.key, names[1]) || !strcmp(p.key, names[2]))
			continue;
		pair = malloc(klen + vlen + 2);
		if (!pair) {
			rc = TT_LOGIN_NO_RESOURCES;
			break;
		}
		memcpy(pair, p.key, klen);
		pair[klen] = '=';
		memcpy(pair + klen + 1, p.value, vlen + 1);
		if (tt_text_append(&kept, pair, klen + vlen + 2, false) < 0)
			rc = TT_LOGIN_INIT_ERR;
		free(pair);
	}
	if (rc == 0 && tt_text_append(&kept, "", 0, true) < 0)
		rc = TT_LOGIN_INIT_ERR;
	if (rc == 0) {
		tt_text_fini(&l->req);
		l->req = kept;
	} else {
		tt_text_fini(&kept);
	}
	return rc;
}

static void login_process(struct tt_conn *conn, struct tt_login *l, const struct tt_bhs_login_req *r)
{
	uint8_t nsg = TT_LOGIN_NSG(r->flags);
	bool transit = r->flags & TT_LOGIN_TRANSIT;
	int rc;

	tt_text_out_reset(&l->rsp);
	l->rsp_off = 0;
	if (!l->names_checked) {
		/* the names come in the first request: look them up before answering anything */
		const char *v;
		if ((v = tt_text_find(&l->req, "InitiatorName")))
			snprintf(conn->params.initiator_name, sizeof(conn->params.initiator_name), "%s", v);
		if ((v = tt_text_find(&l->req, "TargetName")))
			snprintf(conn->params.target_name, sizeof(conn->params.target_name), "%s", v);
		v = tt_text_find(&l->req, "SessionType");
		conn->params.session_type = v && strcmp(v, "Discovery") == 0 ? TT_SESSION_DISCOVERY
									  : TT_SESSION_NORMAL;
		rc = login_check_names(conn, l);
		if (rc) {
			login_send_status(conn, (uint16_t)rc);
			return;
		}
		l->names_checked = true;
		fill_policy(l, conn);
	}
	if (l->stage == TT_STAGE_OPERATIONAL && !l->auth_done) {
		if (l->chap_needed) {
			login_send_status(conn, TT_LOGIN_AUTH_FAILED);
			return;
		}
		l->auth_done = true;
	}
	if (l->neg.steps > 0) {
		rc = login_drop_repeats(conn, l);
		if (rc) {
			login_send_status(conn, (uint16_t)rc);
			return;
		}
	}
	rc = tt_params_respond(&l->neg, &conn->params, &l->pol, (enum tt_login_stage)l->stage, &l->req,
			       &l->rsp);
	if (rc == 0 && l->stage == TT_STAGE_SECURITY)
		rc = login_security(conn, l, &transit);
	if (rc == 0) {
		login_policy_alias(l);
		rc = tt_params_declare(&l->neg, &conn->params, &l->pol, (enum tt_login_stage)l->stage,
				       &l->rsp);
	}
	if (rc == 0 && transit && !tt_params_offers_answered(&l->neg))
		transit = false; /* our own offers need an answer first: stay in this stage */
	if (rc == 0 && transit && nsg == TT_STAGE_FULL_FEATURE) {
		rc = tt_params_finish(&l->neg, &conn->params);
		/* a transport that needs the RDMA extensions (iSER) has no byte stream to go on
		 * with when the initiator declines them (RFC 7145 §5.1.1) */
		if (rc == 0 && l->pol.rdma_extensions && !conn->params.rdma_extensions &&
		    conn->params.session_type == TT_SESSION_NORMAL) {
			l->neg.error_key = "RDMAExtensions (No on an RDMA connection)";
			rc = TT_LOGIN_INIT_ERR;
		}
	}
	if (rc != 0) {
		if (l->neg.error_key)
			tt_notice("iscsi", "conn %llu: login key %s refused", (unsigned long long)conn->id,
				  l->neg.error_key);
		login_send_status(conn, rc < 0 ? TT_LOGIN_TARGET_ERROR : (uint16_t)rc);
		return;
	}
	if (!transit) {
		l->rsp_flags = (uint8_t)(l->stage << 2);
		login_send_chunk(conn, l);
		return;
	}
	if (nsg != TT_STAGE_FULL_FEATURE) {
		l->rsp_flags = (uint8_t)(TT_LOGIN_TRANSIT | (l->stage << 2) | nsg);
		login_send_chunk(conn, l);
		if (!l->rsp_more)
			l->stage = nsg;
		return;
	}
	rc = login_bind_session(conn, l);
	if (rc > 0) {
		login_send_status(conn, (uint16_t)rc);
		return;
	}
	if (!l->waiting)
		login_complete(conn, l);
}

void tt_login_rx(struct tt_conn *conn, struct tt_pdu *pdu)
{
	const struct tt_bhs_login_req *r = (const struct tt_bhs_login_req *)pdu->raw;
	struct tt_login *l;
	int rc;

	if (conn->state == TT_CONN_XPT_UP)
		tt_conn_set_state(conn, TT_CONN_IN_LOGIN);
	l = login_get(conn);
	if (!l) {
		tt_pdu_free(pdu);
		tt_conn_fail(conn, "out of memory");
		return;
	}
	if (pdu->ctx == (void *)1) {
		tt_pdu_free(pdu);
		login_send_status(conn, TT_LOGIN_INIT_ERR);
		return;
	}
	/* a login that goes on and on holds memory and a pre-login place: bounded */
	l->pdus++;
	l->text_bytes += pdu->data_len;
	if (l->pdus > tt_limits_max_login_pdus() || l->text_bytes > tt_limits_max_login_text()) {
		tt_log_ratelimited(TT_LOG_WARN, "iscsi", "conn %llu %s: login refused: more than %s",
				   (unsigned long long)conn->id, conn->peer,
				   l->pdus > tt_limits_max_login_pdus() ? "max_login_pdus requests"
									: "max_login_text bytes of text");
		tt_pdu_free(pdu);
		login_send_status(conn, TT_LOGIN_INIT_ERR);
		return;
	}
	if (l->waiting) {
		/* nothing may come while the old session is being ended */
		tt_pdu_free(pdu);
		login_send_status(conn, TT_LOGIN_INIT_ERR);
		return;
	}
	rc = login_check_header(conn, l, r);
	if (rc) {
		tt_pdu_free(pdu);
		login_send_status(conn, (uint16_t)rc);
		return;
	}
	if (l->rsp_more) {
		/* the initiator fetches the rest of our multi-PDU response with empty requests */
		if (pdu->data_len) {
			tt_pdu_free(pdu);
			login_send_status(conn, TT_LOGIN_INIT_ERR);
			return;
		}
		tt_pdu_free(pdu);
		login_send_chunk(conn, l);
		if (!l->rsp_more && (l->rsp_flags & TT_LOGIN_TRANSIT)) {
			if (TT_LOGIN_NSG(l->rsp_flags) == TT_STAGE_FULL_FEATURE)
				login_complete(conn, l);
			else
				l->stage = TT_LOGIN_NSG(l->rsp_flags);
		}
		return;
	}
	rc = tt_text_append(&l->req, pdu->data, pdu->data_len, !(r->flags & TT_LOGIN_CONT));
	if (rc < 0) {
		tt_pdu_free(pdu);
		login_send_status(conn, TT_LOGIN_INIT_ERR);
		return;
	}
	if (r->flags & TT_LOGIN_CONT) {
		/* more text to come: acknowledge with an empty response */
		tt_pdu_free(pdu);
		l->rsp_flags = (uint8_t)(l->stage << 2);
		tt_text_out_reset(&l->rsp);
		l->rsp_off = 0;
		login_send_chunk(conn, l);
		return;
	}
	login_process(conn, l, r);
	tt_pdu_free(pdu);
	if (conn->login && !conn->login->waiting && conn->state == TT_CONN_IN_LOGIN)
		tt_text_reset(&conn->login->req);
}
