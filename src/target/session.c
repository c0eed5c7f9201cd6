/* SPDX-License-Identifier: BSD-3-Clause */
/* Target sessions: lifecycle, command window, LUN map, reinstatement, the session registry. */
#include "target/internal.h"

#include "base/clock.h"
#include "base/log.h"
#include "target/limits.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool tt_iscsi_shutting_down;
static struct tt_list discovery_sessions = TT_LIST_INIT(discovery_sessions);
static uint64_t session_ids;
static uint16_t tsih_counter;

static const char *const sess_state_names[TT_SESS_STATE_COUNT] = {
	[TT_SESS_LOGGING_IN] = "logging-in",
	[TT_SESS_ACTIVE] = "active",
	[TT_SESS_ENDING] = "ending",
};

const char *tt_session_state_name(enum tt_session_state st)
{
	return st < TT_SESS_STATE_COUNT ? sess_state_names[st] : "?";
}

uint16_t tt_tsih_next(void)
{
	uint16_t v;

	do
		v = __atomic_add_fetch(&tsih_counter, 1, __ATOMIC_RELAXED);
	while (v == 0);
	return v;
}

static void session_drain_timeout(struct tt_timer *t);

/* Requests held for their CmdSN turn: they never run once the session ends (and the references
 * they hold must not keep the session alive). */
static void drop_pending(struct tt_session *s)
{
	struct tt_list *n;

	while ((n = tt_list_pop(&s->pending))) {
		struct tt_pdu *pdu = tt_list_entry(n, struct tt_pdu, node);
		struct tt_conn *owner = pdu->owner;

		s->npending--;
		if (tt_bhs_opcode(&pdu->bhs) == TT_OP_SCSI_CMD && pdu->ctx)
			tt_task_abort(pdu->ctx);
		pdu->owner = NULL;
		tt_pdu_free(pdu);
		if (owner)
			tt_conn_put(owner);
	}
}
static void session_order_work(struct tt_work *w);

static void notify_waiters(struct tt_session *s)
{
	struct tt_list *n;

	while ((n = tt_list_pop(&s->waiters))) {
		struct tt_session_waiter *w = tt_list_entry(n, struct tt_session_waiter, node);
		if (tt_loop_send(w->loop, w->fn, w->arg) < 0)
			tt_err("iscsi", "session %llu: cannot notify a waiting login", (unsigned long long)s->id);
		free(w);
	}
}

/* On the session's loop, when the last reference has gone. */
static void session_free(void *arg)
{
	struct tt_session *s = arg;

	tt_timer_cancel(&s->drain_timer);
	tt_work_cancel(&s->order_work);
	tt_model_lock();
	tt_list_del(&s->model_node);
	tt_model_unlock();
	drop_pending(s);
	for (unsigned i = 0; i < s->nluns; i++) {
		tt_lun_nexus_del(s->luns[i], &s->nexus);
		tt_lun_put(s->luns[i]);
	}
	free(s->luns);
	free(s->lun_ids);
	tt_info("iscsi", "session %llu (%s, isid %02x%02x%02x%02x%02x%02x, tsih %u): freed",
		(unsigned long long)s->id, s->initiator, s->isid[0], s->isid[1], s->isid[2], s->isid[3],
		s->isid[4], s->isid[5], s->tsih);
	notify_waiters(s);
	if (s->target)
		tt_target_put(s->target);
	free(s);
}

void tt_session_get(struct tt_session *s) { __atomic_fetch_add(&s->refs, 1, __ATOMIC_RELAXED); }

void tt_session_put(struct tt_session *s)
{
	if (__atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	if (tt_loop_is_current(s->loop))
		session_free(s);
	else if (tt_loop_send(s->loop, session_free, s) < 0)
		tt_err("iscsi", "session %llu: cannot free on its loop", (unsigned long long)s->id);
}

/*
 * The only writer of s->state:
 *   LOGGING_IN -> ACTIVE   the leading login completed
 *   any -> ENDING          connections shut down, tasks aborted, drain bound armed, the
 *                          registry's reference dropped (freed when the last holder lets go)
 */
int tt_session_set_state(struct tt_session *s, enum tt_session_state to)
{
	enum tt_session_state from = s->state;
	bool ok;

	switch (to) {
	case TT_SESS_ACTIVE: ok = from == TT_SESS_LOGGING_IN; break;
	case TT_SESS_ENDING: ok = from != TT_SESS_ENDING; break;
	default: ok = false; break;
	}
	if (!ok) {
		tt_err("iscsi", "session %llu: bad state change %s -> %s", (unsigned long long)s->id,
		       tt_session_state_name(from), tt_session_state_name(to));
		return -EINVAL;
	}
	s->state = to;
	tt_debug("iscsi", "session %llu: %s -> %s", (unsigned long long)s->id,
		 tt_session_state_name(from), tt_session_state_name(to));
	return 0;
}

void tt_session_end(struct tt_session *s, const char *why)
{
	struct tt_list *pos, *tmp;

	if (s->state == TT_SESS_ENDING)
		return;
	tt_notice("iscsi", "session %llu (%s): ending: %s", (unsigned long long)s->id, s->initiator, why);
	tt_session_get(s);
	tt_session_set_state(s, TT_SESS_ENDING);
	drop_pending(s);
	tt_list_for_each_safe(pos, tmp, &s->conns)
		tt_conn_fail(tt_list_entry(pos, struct tt_conn, sess_node), why);
	tt_timer_arm_ms(&s->drain_timer, TT_DRAIN_TIMEOUT_MS);
	tt_session_put(s); /* the registry's reference */
	tt_session_put(s);
}

/* Backend I/O of the ended session did not come back in time: let waiting logins go on, and
 * fail the LUNs whose I/O is stuck, so that nothing of the old session can land later unseen. */
static void session_drain_timeout(struct tt_timer *t)
{
	struct tt_session *s = tt_container_of(t, struct tt_session, drain_timer);

	tt_err("iscsi", "session %llu: backend I/O still outstanding after %u ms; failing the LUNs",
	       (unsigned long long)s->id, TT_DRAIN_TIMEOUT_MS);
	for (unsigned i = 0; i < s->nluns; i++)
		if (__atomic_load_n(&s->luns[i]->bdev->inflight, __ATOMIC_RELAXED))
			__atomic_store_n(&s->luns[i]->bdev->failed, true, __ATOMIC_RELEASE);
	tt_model_lock();
	s->abandoned = true; /* a new login no longer waits for it */
	tt_model_unlock();
	notify_waiters(s);
}

struct end_wait_msg {
	struct tt_session *s;
	struct tt_session_waiter *w;
};

static void end_and_wait_msg(void *arg)
{
	struct end_wait_msg *m = arg;

	tt_list_add_tail(&m->s->waiters, &m->w->node);
	tt_session_end(m->s, "reinstated by a new login");
	tt_session_put(m->s);
	free(m);
}

void tt_session_end_and_wait(struct tt_session *s, struct tt_loop *loop, void (*fn)(void *),
			     void *arg)
{
	struct end_wait_msg *m = calloc(1, sizeof(*m));
	struct tt_session_waiter *w = calloc(1, sizeof(*w));

	if (!m || !w) {
		free(m);
		free(w);
		tt_loop_send(loop, fn, arg); /* cannot wait: let the login fail on its own */
		return;
	}
	w->loop = loop;
	w->fn = fn;
	w->arg = arg;
	m->s = s;
	m->w = w;
	tt_session_get(s);
	if (tt_loop_send(s->loop, end_and_wait_msg, m) < 0) {
		tt_session_put(s);
		free(m);
		free(w);
		tt_loop_send(loop, fn, arg);
	}
}

/* ---- registry ---- */

static bool isid_eq(const uint8_t a[6], const uint8_t b[6]) { return memcmp(a, b, 6) == 0; }

struct tt_session *tt_session_find(struct tt_target *t, const char *initiator,
				   const uint8_t isid[6], uint16_t tpgt, bool discovery)
{
	struct tt_list *head = discovery ? &discovery_sessions : &t->sessions;
	struct tt_list *pos;

	tt_list_for_each(pos, head) {
		struct tt_session *s = tt_list_entry(pos, struct tt_session, model_node);
		if (!s->abandoned && s->tpgt == tpgt && isid_eq(s->isid, isid) &&
		    strcmp(s->initiator, initiator) == 0)
			return s;
	}
	return NULL;
}

struct tt_session *tt_session_find_tsih(struct tt_target *t, uint16_t tsih)
{
	struct tt_list *pos;

	tt_list_for_each(pos, &t->sessions) {
		struct tt_session *s = tt_list_entry(pos, struct tt_session, model_node);
		if (s->tsih == tsih)
			return s;
	}
	return NULL;
}

static int session_list_luns(const struct tt_nexus *nexus, uint64_t *ids, int max)
{
	struct tt_session *s = nexus->owner;

	for (unsigned i = 0; i < s->nluns && (int)i < max; i++)
		ids[i] = s->lun_ids[i];
	return (int)s->nluns;
}

static int session_map_luns(struct tt_session *s, struct tt_target *t)
{
	struct tt_list *pos;
	unsigned n = 0, i = 0;

	tt_list_for_each(pos, &t->luns)
		n++;
	if (!n)
		return 0;
	s->luns = calloc(n, sizeof(*s->luns));
	s->lun_ids = calloc(n, sizeof(*s->lun_ids));
	if (!s->luns || !s->lun_ids)
		return -ENOMEM;
	tt_list_for_each(pos, &t->luns) {
		struct tt_target_lun *tl = tt_list_entry(pos, struct tt_target_lun, node);
		tt_lun_get(tl->lun);
		s->luns[i] = tl->lun;
		s->lun_ids[i] = tl->id;
		i++;
	}
	s->nluns = i;
	return 0;
}

/* Caller holds the model lock. */
int tt_session_create(struct tt_conn *conn, struct tt_target *t, bool discovery,
		      const uint8_t isid[6], uint16_t tsih, struct tt_session **out)
{
	struct tt_session *s = calloc(1, sizeof(*s));
	int rc;

	if (!s)
		return -ENOMEM;
	s->loop = conn->loop;
	s->tpg = conn->tpg;
	s->tpgt = conn->tpgt;
	s->id = __atomic_add_fetch(&session_ids, 1, __ATOMIC_RELAXED);
	s->tsih = tsih;
	memcpy(s->isid, isid, 6);
	snprintf(s->initiator, sizeof(s->initiator), "%s", conn->params.initiator_name);
	s->discovery = discovery;
	s->state = TT_SESS_LOGGING_IN;
	s->refs = 1; /* the registry's */
	s->params = conn->params;
	tt_list_init(&s->conns);
	tt_list_init(&s->pending);
	tt_list_init(&s->waiters);
	tt_work_init(&s->order_work, s->loop, session_order_work);
	tt_timer_init(&s->drain_timer, s->loop, session_drain_timeout);
	s->queue_depth = tt_limits_cmd_window();

	s->nexus.fe = &tt_iscsi_scsi_fe;
	s->nexus.owner = s;
	s->nexus.id = s->id;
	s->nexus.list_luns = session_list_luns;
	snprintf(s->nexus.initiator_name, sizeof(s->nexus.initiator_name), "%s", s->initiator);
	memcpy(s->nexus.isid, isid, 6);
	snprintf(s->nexus.initiator_port, sizeof(s->nexus.initiator_port),
		 "%s,i,0x%02x%02x%02x%02x%02x%02x", s->initiator, isid[0], isid[1], isid[2], isid[3],
		 isid[4], isid[5]);
	if (s->tpg)
		s->nexus.tport = &s->tpg->scsi_port;

	if (!discovery) {
		s->target = t;
		tt_target_get(t);
		rc = session_map_luns(s, t);
		if (rc < 0) {
			for (unsigned i = 0; i < s->nluns; i++)
				tt_lun_put(s->luns[i]);
			free(s->luns);
			free(s->lun_ids);
			tt_target_put(t);
			free(s);
			return rc;
		}
		for (unsigned i = 0; i < s->nluns; i++)
			tt_lun_nexus_add(s->luns[i], &s->nexus);
		tt_list_add_tail(&t->sessions, &s->model_node);
	} else {
		tt_list_add_tail(&discovery_sessions, &s->model_node);
	}
	*out = s;
	return 0;
}

void tt_session_add_conn(struct tt_session *s, struct tt_conn *conn)
{
	tt_model_lock();
	tt_list_add_tail(&s->conns, &conn->sess_node);
	s->nconns++;
	tt_model_unlock();
	conn->sess = s;
	tt_session_get(s); /* held by the connection */
	tt_conn_get(conn); /* held by the session binding */
}

void tt_session_del_conn(struct tt_session *s, struct tt_conn *conn)
{
	tt_model_lock();
	tt_list_del(&conn->sess_node);
	s->nconns--;
	tt_model_unlock();
	if (s->nconns == 0 && s->state != TT_SESS_ENDING)
		tt_session_end(s, "its last connection closed");
	conn->sess = NULL;
	tt_conn_put(conn);
	tt_session_put(s);
}

struct tt_lun *tt_session_lun(struct tt_session *s, uint64_t id)
{
	for (unsigned i = 0; i < s->nluns; i++)
		if (s->lun_ids[i] == id)
			return s->luns[i];
	return NULL;
}

/* ---- command window (RFC 7143 §4.2.2.1) ---- */

/*
 * A request took its CmdSN. A SCSI command keeps its place in the window until its status goes
 * (tt_task_window_release), so that MaxCmdSN - ExpCmdSN + 1 never lets more than queue_depth
 * commands be outstanding; any other request frees its place at once.
 */
static void session_window_take(struct tt_session *s, struct tt_pdu *pdu)
{
	struct tt_task *task = pdu->ctx;

	if (tt_bhs_opcode(&pdu->bhs) == TT_OP_SCSI_CMD && task && task != (void *)1 &&
	    !task->aborted && task->state != TT_ITASK_DONE) {
		task->window_slot = true;
		return;
	}
	s->max_cmd_sn++;
}

void tt_task_window_release(struct tt_task *task)
{
	if (!task->window_slot)
		return;
	task->window_slot = false;
	task->sess->max_cmd_sn++;
}

int tt_session_order(struct tt_session *s, struct tt_conn *conn, struct tt_pdu *pdu)
{
	uint32_t sn = tt_get_be32(pdu->raw + 24);
	struct tt_list *pos;

	/* a full window (MaxCmdSN = ExpCmdSN - 1) admits nothing, not even ExpCmdSN */
	if (tt_sn_gt(sn, s->max_cmd_sn))
		return -1;
	if (sn == s->exp_cmd_sn) {
		s->exp_cmd_sn++;
		session_window_take(s, pdu);
		if (!tt_list_empty(&s->pending))
			tt_work_queue(&s->order_work);
		return 0;
	}
	if (!tt_sn_gt(sn, s->exp_cmd_sn) || tt_sn_gt(sn, s->max_cmd_sn))
		return -1;
	/* ahead of its turn: hold it, sorted by CmdSN; a duplicate is dropped */
	tt_list_for_each(pos, &s->pending) {
		struct tt_pdu *p = tt_list_entry(pos, struct tt_pdu, node);
		uint32_t psn = tt_get_be32(p->raw + 24);
		if (psn == sn)
			return -1;
		if (tt_sn_gt(psn, sn))
			break;
	}
	tt_list__add(&pdu->node, pos->prev, pos);
	pdu->owner = conn;
	tt_conn_get(conn);
	s->npending++;
	return 1;
}

static void session_order_work(struct tt_work *w)
{
	struct tt_session *s = tt_container_of(w, struct tt_session, order_work);
	struct tt_pdu *pdu;

	tt_session_get(s);
	while (s->state != TT_SESS_ENDING &&
	       (pdu = tt_list_first(&s->pending, struct tt_pdu, node)) &&
	       tt_get_be32(pdu->raw + 24) == s->exp_cmd_sn) {
		struct tt_conn *conn = pdu->owner;

		tt_list_del(&pdu->node);
		s->npending--;
		s->exp_cmd_sn++;
		session_window_take(s, pdu);
		pdu->owner = NULL;
		if (conn->state == TT_CONN_LOGGED_IN) {
			tt_conn_dispatch(conn, pdu);
		} else {
			if (tt_bhs_opcode(&pdu->bhs) == TT_OP_SCSI_CMD && pdu->ctx)
				tt_task_abort(pdu->ctx);
			tt_pdu_free(pdu);
		}
		tt_conn_put(conn);
	}
	tt_session_put(s);
}

/* ---- target-wide operations ---- */

struct end_msg {
	struct tt_session *s;
	bool graceful;
	char why[64];
};

static void force_end_timer_free(struct tt_timer *t);

struct graceful_end {
	struct tt_timer timer;
	struct tt_session *s;
};

static void force_end_timer_free(struct tt_timer *t)
{
	struct graceful_end *g = tt_container_of(t, struct graceful_end, timer);

	tt_session_end(g->s, "did not log out in time");
	tt_session_put(g->s);
	free(g);
}

static void end_msg_run(void *arg)
{
	struct end_msg *m = arg;
	struct tt_session *s = m->s;
	struct tt_list *pos;

	if (m->graceful && s->state == TT_SESS_ACTIVE) {
		struct graceful_end *g = calloc(1, sizeof(*g));
		if (g) {
			tt_list_for_each(pos, &s->conns)
				tt_conn_request_logout(tt_list_entry(pos, struct tt_conn, sess_node), 2);
			g->s = s;
			tt_timer_init(&g->timer, s->loop, force_end_timer_free);
			tt_timer_arm_ms(&g->timer, 3000);
			free(m);
			return; /* the timer keeps the reference */
		}
	}
	tt_session_end(s, m->why);
	tt_session_put(s);
	free(m);
}

static void send_end(struct tt_session *s, bool graceful, const char *why)
{
	struct end_msg *m = calloc(1, sizeof(*m));

	if (!m)
		return;
	m->s = s;
	m->graceful = graceful;
	snprintf(m->why, sizeof(m->why), "%s", why);
	tt_session_get(s);
	if (tt_loop_send(s->loop, end_msg_run, m) < 0) {
		tt_session_put(s);
		free(m);
	}
}

void tt_target_end_sessions(struct tt_target *t, bool graceful, const char *why)
{
	struct tt_list *pos;

	tt_model_lock();
	tt_list_for_each(pos, &t->sessions)
		send_end(tt_list_entry(pos, struct tt_session, model_node), graceful, why);
	tt_model_unlock();
}

void tt_target_end_initiator_sessions(struct tt_target *t, const char *initiator, bool graceful,
				      const char *why)
{
	struct tt_list *pos;

	tt_model_lock();
	tt_list_for_each(pos, &t->sessions) {
		struct tt_session *s = tt_list_entry(pos, struct tt_session, model_node);

		if (strcmp(s->initiator, initiator) == 0)
			send_end(s, graceful, why);
	}
	tt_model_unlock();
}

static struct {
	struct tt_timer poll;
	uint64_t deadline_ns;
	uint64_t forced_ns;
	uint64_t quiet_ns;
	bool forced;
	void (*done)(void *);
	void *arg;
} shutdown_state;

static void end_all(bool graceful, const char *why)
{
	struct tt_list *tpos, *pos;

	tt_model_lock();
	tt_list_for_each(tpos, tt_model_targets()) {
		struct tt_target *t = tt_list_entry(tpos, struct tt_target, node);
		tt_list_for_each(pos, &t->sessions)
			send_end(tt_list_entry(pos, struct tt_session, model_node), graceful, why);
	}
	tt_list_for_each(pos, &discovery_sessions)
		send_end(tt_list_entry(pos, struct tt_session, model_node), false, why);
	tt_model_unlock();
}

/* True while a session that is not abandoned to stuck backend I/O exists. */
static bool live_sessions(void)
{
	struct tt_list *tpos, *pos;
	bool live = false;

	tt_model_lock();
	tt_list_for_each(tpos, tt_model_targets()) {
		struct tt_target *t = tt_list_entry(tpos, struct tt_target, node);
		tt_list_for_each(pos, &t->sessions)
			live |= !tt_list_entry(pos, struct tt_session, model_node)->abandoned;
	}
	tt_list_for_each(pos, &discovery_sessions)
		live |= !tt_list_entry(pos, struct tt_session, model_node)->abandoned;
	tt_model_unlock();
	return live;
}

static void shutdown_poll(struct tt_timer *t)
{
	uint64_t now = tt_now_ns();

	if (tt_iscsi_conn_count() == 0) {
		shutdown_state.done(shutdown_state.arg);
		return;
	}
	if (live_sessions()) {
		shutdown_state.quiet_ns = 0;
	} else if (!shutdown_state.quiet_ns) {
		shutdown_state.quiet_ns = now;
	} else if (now - shutdown_state.quiet_ns >= 2 * TT_NS_PER_SEC) {
		/* every session has ended; what remains is held by backend I/O past its bound, or
		 * by logins that will not finish */
		tt_warn("iscsi", "shutdown: %u connection(s) left without a session; exiting",
			tt_iscsi_conn_count());
		shutdown_state.done(shutdown_state.arg);
		return;
	}
	if (shutdown_state.forced &&
	    now >= shutdown_state.forced_ns + (TT_DRAIN_TIMEOUT_MS + 1000) * TT_NS_PER_MS) {
		/* what is left is held by backend I/O that does not come back: do not wait for ever */
		tt_err("iscsi", "shutdown: %u connection(s) still held by unfinished backend I/O; "
		       "exiting without them", tt_iscsi_conn_count());
		shutdown_state.done(shutdown_state.arg);
		return;
	}
	if (!shutdown_state.forced && now >= shutdown_state.deadline_ns) {
		shutdown_state.forced = true;
		shutdown_state.forced_ns = now;
		end_all(false, "shutting down");
	}
	tt_timer_arm_ms(t, 20);
}

void tt_iscsi_shutdown(bool graceful, unsigned timeout_ms, void (*done)(void *arg), void *arg)
{
	bool again = tt_iscsi_shutting_down;

	shutdown_state.done = done;
	shutdown_state.arg = arg;
	shutdown_state.deadline_ns = tt_now_ns() + (uint64_t)timeout_ms * 1000000ULL;
	if (!graceful && !shutdown_state.forced)
		shutdown_state.forced_ns = tt_now_ns();
	shutdown_state.forced = shutdown_state.forced || !graceful;
	tt_iscsi_shutting_down = true;
	tt_notice("iscsi", "shutting down%s: %u connection(s)", graceful ? "" : " now",
		  tt_iscsi_conn_count());
	end_all(graceful, "shutting down");
	if (!again)
		tt_timer_init(&shutdown_state.poll, tt_loop_current(), shutdown_poll);
	tt_timer_arm_ms(&shutdown_state.poll, 1);
}

/* ---- snapshot for the control socket ---- */

static void fill_info(struct tt_session_info *si, struct tt_session *s)
{
	struct tt_list *pos;

	memset(si, 0, sizeof(*si));
	si->id = s->id;
	si->tsih = s->tsih;
	snprintf(si->initiator, sizeof(si->initiator), "%s", s->initiator);
	snprintf(si->isid, sizeof(si->isid), "%02x%02x%02x%02x%02x%02x", s->isid[0], s->isid[1],
		 s->isid[2], s->isid[3], s->isid[4], s->isid[5]);
	if (s->target)
		snprintf(si->target, sizeof(si->target), "%s", s->target->name);
	si->tpgt = s->tpgt;
	si->discovery = s->discovery;
	si->state = tt_session_state_name(s->state);
	si->commands = s->commands;
	tt_list_for_each(pos, &s->conns) {
		struct tt_conn *c = tt_list_entry(pos, struct tt_conn, sess_node);
		struct tt_conn_info *ci;

		if (si->nconns >= sizeof(si->conns) / sizeof(si->conns[0]))
			break;
		ci = &si->conns[si->nconns++];
		ci->cid = c->cid;
		snprintf(ci->peer, sizeof(ci->peer), "%s", c->peer);
		snprintf(ci->local, sizeof(ci->local), "%s", c->local);
		ci->state = tt_conn_state_name(c->state);
		ci->loop = tt_loop_index(c->loop);
	}
}

int tt_sessions_snapshot(struct tt_session_info **out, size_t *count)
{
	struct tt_list *tpos, *pos;
	size_t n = 0, i = 0;
	struct tt_session_info *arr;

	tt_model_lock();
	tt_list_for_each(tpos, tt_model_targets()) {
		struct tt_target *t = tt_list_entry(tpos, struct tt_target, node);
		tt_list_for_each(pos, &t->sessions)
			n++;
	}
	tt_list_for_each(pos, &discovery_sessions)
		n++;
	arr = calloc(n ? n : 1, sizeof(*arr));
	if (!arr) {
		tt_model_unlock();
		return -ENOMEM;
	}
	tt_list_for_each(tpos, tt_model_targets()) {
		struct tt_target *t = tt_list_entry(tpos, struct tt_target, node);
		tt_list_for_each(pos, &t->sessions)
			fill_info(&arr[i++], tt_list_entry(pos, struct tt_session, model_node));
	}
	tt_list_for_each(pos, &discovery_sessions)
		fill_info(&arr[i++], tt_list_entry(pos, struct tt_session, model_node));
	tt_model_unlock();
	*out = arr;
	*count = i;
	return 0;
}
