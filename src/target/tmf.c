/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Task management (RFC 7143 §11.5-6, SAM-5). An abort answers only after every task it ended
 * has left the SCSI core and the backend: the response is held until then.
 */
#include "target/internal.h"

#include "base/log.h"
#include "target/srp_port.h"

#include <stdlib.h>
#include <string.h>

struct tt_tmf_wait {
	struct tt_conn *conn;  /* a reference */
	struct tt_pdu *rsp;
	unsigned pending;      /* tasks still inside the SCSI core */
};

static void tmf_wait_release(struct tt_tmf_wait *w)
{
	if (--w->pending)
		return;
	tt_conn_send(w->conn, w->rsp);
	tt_conn_put(w->conn);
	free(w);
}

void tt_tmf_task_gone(struct tt_task *task)
{
	struct tt_tmf_wait *w = task->tmf_wait;

	task->tmf_wait = NULL;
	tmf_wait_release(w);
}

/* Aborts @task for @w; returns true when the response must wait for it. */
static void tmf_abort(struct tt_tmf_wait *w, struct tt_task *task)
{
	if (task->aborted)
		return;
	if (task->state == TT_ITASK_EXEC && !task->tmf_wait) {
		task->tmf_wait = w;
		w->pending++;
	}
	tt_task_abort(task);
}

/* ---- tasks of other sessions (LU reset, PREEMPT AND ABORT) ---- */

struct abort_msg {
	struct tt_session *s;
	struct tt_lun *lun;
};

static void abort_msg_run(void *arg)
{
	struct abort_msg *m = arg;
	struct tt_list *cpos, *pos, *tmp;

	tt_list_for_each(cpos, &m->s->conns) {
		struct tt_conn *c = tt_list_entry(cpos, struct tt_conn, sess_node);
		tt_list_for_each_safe(pos, tmp, &c->tasks) {
			struct tt_task *t = tt_list_entry(pos, struct tt_task, conn_node);
			if (t->scsi.lun == m->lun)
				tt_task_abort(t);
		}
	}
	tt_lun_put(m->lun);
	tt_session_put(m->s);
	free(m);
}

/* Aborts, on their own loops, the tasks for @lun of every session (or of the session whose
 * nexus is @nexus_id), except @except's. */
static void abort_lun_tasks(struct tt_lun *lun, uint64_t nexus_id, struct tt_session *except)
{
	struct tt_list *tpos, *pos;

	tt_model_lock();
	tt_list_for_each(tpos, tt_model_targets()) {
		struct tt_target *t = tt_list_entry(tpos, struct tt_target, node);
		tt_list_for_each(pos, &t->sessions) {
			struct tt_session *s = tt_list_entry(pos, struct tt_session, model_node);
			struct abort_msg *m;

			if (s == except || (nexus_id && s->nexus.id != nexus_id) ||
			    s->state == TT_SESS_ENDING || tt_session_lun(s, lun->id) != lun)
				continue;
			m = calloc(1, sizeof(*m));
			if (!m)
				continue;
			m->s = s;
			m->lun = lun;
			tt_session_get(s);
			tt_lun_get(lun);
			if (tt_loop_send(s->loop, abort_msg_run, m) < 0) {
				tt_session_put(s);
				tt_lun_put(lun);
				free(m);
			}
		}
	}
	tt_model_unlock();
}

void tt_tmf_abort_lun(struct tt_lun *lun)
{
	abort_lun_tasks(lun, 0, NULL);
}

/* PREEMPT AND ABORT: the SCSI core asks for a nexus's tasks on a LUN to go. */
int tt_tmf_abort_nexus(struct tt_lun *lun, uint64_t nexus_id)
{
	if (nexus_id)
		abort_lun_tasks(lun, nexus_id, NULL);
	return 0;
}

static bool task_matches_lun(const struct tt_task *task, uint64_t lun_id)
{
	return task->scsi.lun_id == lun_id;
}

void tt_tmf_rx(struct tt_conn *conn, struct tt_pdu *pdu)
{
	const struct tt_bhs_tmf_req *r = (const struct tt_bhs_tmf_req *)pdu->raw;
	uint8_t fn = r->flags & 0x7f;
	uint32_t rtt = tt_get_be32(r->rtt);
	uint64_t lun_id = tt_lun_from_wire(r->lun);
	uint32_t ref_sn = tt_get_be32(r->refcmdsn);
	struct tt_session *s = conn->sess;
	struct tt_tmf_wait *w;
	struct tt_bhs_tmf_rsp *rsp;
	struct tt_list *cpos, *pos, *tmp;
	struct tt_task *task = NULL;

	w = calloc(1, sizeof(*w));
	if (!w || !(w->rsp = tt_pdu_alloc())) {
		free(w);
		tt_pdu_free(pdu);
		tt_conn_fail(conn, "out of memory");
		return;
	}
	w->conn = conn;
	tt_conn_get(conn);
	w->pending = 1; /* released at the end of this function */
	rsp = (struct tt_bhs_tmf_rsp *)w->rsp->raw;
	rsp->opcode = TT_OP_TMF_RSP;
	rsp->flags = TT_FLAG_FINAL;
	memcpy(rsp->itt, r->itt, 4);
	rsp->response = TT_TMF_RSP_COMPLETE;

	switch (fn) {
	case TT_TMF_ABORT_TASK:
	case TT_TMF_QUERY_TASK:
		tt_list_for_each(cpos, &s->conns) {
			struct tt_conn *c = tt_list_entry(cpos, struct tt_conn, sess_node);
			task = tt_task_find(c, rtt);
			if (task)
				break;
		}
		if (task && !task_matches_lun(task, lun_id)) {
			rsp->response = TT_TMF_RSP_NO_TASK;
		} else if (fn == TT_TMF_QUERY_TASK) {
			rsp->response = task ? TT_TMF_RSP_SUCCEEDED : TT_TMF_RSP_COMPLETE;
		} else if (task) {
			tmf_abort(w, task);
		} else if (!tt_sn_lt(ref_sn, s->exp_cmd_sn) && !tt_sn_gt(ref_sn, s->max_cmd_sn)) {
			/* a command that never arrived (RFC 7143 §11.5.1): it counts as aborted */
			rsp->response = TT_TMF_RSP_COMPLETE;
		} else {
			/* received and already completed */
			rsp->response = TT_TMF_RSP_NO_TASK;
		}
		break;
	case TT_TMF_ABORT_TASK_SET:
	case TT_TMF_CLEAR_TASK_SET:
	case TT_TMF_LU_RESET:
	case TT_TMF_QUERY_TASK_SET:
		if (!tt_session_lun(s, lun_id)) {
			rsp->response = TT_TMF_RSP_NO_LUN;
			break;
		}
		tt_list_for_each(cpos, &s->conns) {
			struct tt_conn *c = tt_list_entry(cpos, struct tt_conn, sess_node);
			tt_list_for_each_safe(pos, tmp, &c->tasks) {
				struct tt_task *t = tt_list_entry(pos, struct tt_task, conn_node);
				if (!task_matches_lun(t, lun_id) || t->x.itt == tt_get_be32(r->itt))
					continue;
				if (fn == TT_TMF_QUERY_TASK_SET) {
					rsp->response = TT_TMF_RSP_SUCCEEDED;
					continue;
				}
				tmf_abort(w, t);
			}
		}
		if (fn == TT_TMF_LU_RESET) {
			struct tt_lun *l = tt_session_lun(s, lun_id);
			/* a reset ends every nexus's tasks, SPC-2 reservations, and tells the others */
			abort_lun_tasks(l, 0, s);
			tt_srp_port_abort_lun(l);
			tt_lun_pr_reset(l);
			tt_lun_ua_raise(l, TT_UA_LUN_RESET, NULL);
		}
		break;
	case TT_TMF_TARGET_WARM_RESET:
	case TT_TMF_TARGET_COLD_RESET:
		tt_list_for_each(cpos, &s->conns) {
			struct tt_conn *c = tt_list_entry(cpos, struct tt_conn, sess_node);
			tt_list_for_each_safe(pos, tmp, &c->tasks) {
				struct tt_task *t = tt_list_entry(pos, struct tt_task, conn_node);
				tmf_abort(w, t);
			}
		}
		for (unsigned i = 0; i < s->nluns; i++) {
			abort_lun_tasks(s->luns[i], 0, s);
			tt_lun_pr_reset(s->luns[i]);
			tt_lun_ua_raise(s->luns[i], TT_UA_POWER_ON, NULL);
		}
		break;
	case TT_TMF_TASK_REASSIGN:
		rsp->response = TT_TMF_RSP_NO_REASSIGN;
		break;
	default:
		rsp->response = TT_TMF_RSP_NOT_SUPPORTED;
		break;
	}
	tt_notice("iscsi", "conn %llu %s: task management function %u (rtt 0x%08x, lun %llu): response %u%s",
		  (unsigned long long)conn->id, conn->peer, fn, rtt, (unsigned long long)lun_id,
		  rsp->response, w->pending > 1 ? " after the aborted tasks end" : "");
	tt_pdu_free(pdu);
	tmf_wait_release(w);
}
