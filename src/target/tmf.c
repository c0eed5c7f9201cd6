/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Task management (RFC 7143 §11.5-6, SAM-5). An abort answers only after every task it ended
 * has left the SCSI core and the backend: the response is held until then.
 */
#include "target/internal.h"

#include "base/log.h"

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
		} else if (tt_sn_lt(ref_sn, s->exp_cmd_sn) || !tt_sn_gt(ref_sn, s->max_cmd_sn)) {
			/* already completed (or never came): nothing left to abort */
			rsp->response = TT_TMF_RSP_COMPLETE;
		} else {
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
				if (!task_matches_lun(t, lun_id) || t->itt == tt_get_be32(r->itt))
					continue;
				if (fn == TT_TMF_QUERY_TASK_SET) {
					rsp->response = TT_TMF_RSP_SUCCEEDED;
					continue;
				}
				tmf_abort(w, t);
			}
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
