/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SCSI commands over iSCSI: task creation, immediate/unsolicited/solicited write data, Data-In
 * and status (with phase collapse), residuals, and the task lifecycle.
 */
#include "target/internal.h"

#include "base/bufpool.h"
#include "base/clock.h"
#include "base/log.h"
#include "target/limits.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const task_state_names[TT_ITASK_STATE_COUNT] = {
	[TT_ITASK_NEW] = "new", [TT_ITASK_DATA_OUT] = "data-out", [TT_ITASK_WAIT_ORDER] = "wait-order",
	[TT_ITASK_EXEC] = "exec", [TT_ITASK_RESPOND] = "respond", [TT_ITASK_DONE] = "done",
};

/* The only writer of task->state. */
int tt_itask_set_state(struct tt_task *task, enum tt_itask_state to)
{
	enum tt_itask_state from = task->state;
	bool ok;

	switch (to) {
	case TT_ITASK_DATA_OUT: ok = from == TT_ITASK_NEW; break;
	case TT_ITASK_WAIT_ORDER: ok = from == TT_ITASK_NEW; break;
	case TT_ITASK_EXEC: ok = from == TT_ITASK_NEW || from == TT_ITASK_DATA_OUT || from == TT_ITASK_WAIT_ORDER; break;
	case TT_ITASK_RESPOND: ok = from == TT_ITASK_EXEC || from == TT_ITASK_NEW || from == TT_ITASK_DATA_OUT; break;
	case TT_ITASK_DONE: ok = from != TT_ITASK_DONE; break;
	default: ok = false; break;
	}
	if (!ok) {
		tt_err("iscsi", "task 0x%08x: bad state change %s -> %s", task->x.itt,
		       task_state_names[from], to < TT_ITASK_STATE_COUNT ? task_state_names[to] : "?");
		return -EINVAL;
	}
	task->state = to;
	return 0;
}

void tt_task_get(struct tt_task *task) { task->refs++; }

/* Tasks come from a free list per loop thread (allocated and freed on the same loop). */
#define TASK_POOL_MAX 256
static __thread struct tt_list task_pool = { NULL, NULL };
static __thread unsigned task_pool_count;

static struct tt_task *task_alloc(void)
{
	struct tt_list *n;

	if (task_pool.next && (n = tt_list_pop(&task_pool))) {
		struct tt_task *task = tt_list_entry(n, struct tt_task, conn_node);

		task_pool_count--;
		memset(task, 0, sizeof(*task));
		return task;
	}
	return calloc(1, sizeof(struct tt_task));
}

static void task_release(struct tt_task *task)
{
	if (!task_pool.next)
		tt_list_init(&task_pool);
	if (task_pool_count >= TASK_POOL_MAX) {
		free(task);
		return;
	}
	task_pool_count++;
	tt_list_add(&task_pool, &task->conn_node);
}

static void task_pool_drain(void)
{
	struct tt_list *n;

	if (!task_pool.next)
		return;
	while ((n = tt_list_pop(&task_pool)))
		free(tt_list_entry(n, struct tt_task, conn_node));
	task_pool_count = 0;
}

/* The task's places in the command window (and among the immediate commands) are free. */
static void task_slots_release(struct tt_task *task)
{
	tt_task_window_release(task);
	if (task->imm_slot) {
		task->imm_slot = false;
		task->sess->immediate_tasks--;
	}
}

void tt_task_free(struct tt_task *task)
{
	if (task->tmf_wait)
		tt_tmf_task_gone(task);
	if (task->scsi.buf)
		task->conn->xc->ops->buf_free(task->conn->xc, task->scsi.buf, task->x.buf_len);
	if (task->buf_charged)
		tt_limits_buf_uncharge(&task->sess->buf_held, task->buf_charged);
	task_slots_release(task);
	tt_conn_put(task->conn);
	tt_session_put(task->sess);
	task_release(task);
}

void tt_task_put(struct tt_task *task)
{
	if (--task->refs == 0)
		tt_task_free(task);
}

/* A PDU pointing into the task's buffer lets go of the task. */
static void task_pdu_put(struct tt_pdu_ref *ref)
{
	tt_task_put(tt_container_of(ref, struct tt_task, pdu_ref));
}

/* The PDU takes a reference on the task whose buffer its data points into. */
static void task_pdu_hold(struct tt_task *task, struct tt_pdu *pdu)
{
	tt_task_get(task);
	pdu->ref = &task->pdu_ref;
}

static struct tt_task *task_of(struct tt_xtask *x) { return tt_container_of(x, struct tt_task, x); }

void tt_xtask_get(struct tt_xtask *x) { tt_task_get(task_of(x)); }
void tt_xtask_put(struct tt_xtask *x) { tt_task_put(task_of(x)); }

/* Leaves the connection's task list (response sent, or aborted). */
static void task_unlink(struct tt_task *task)
{
	if (!tt_list_linked(&task->conn_node))
		return;
	tt_list_del(&task->conn_node);
	task->conn->ntasks--;
	task_slots_release(task);
	tt_task_put(task); /* the list's reference */
}

void tt_task_abort(struct tt_task *task)
{
	if (task->aborted)
		return;
	task->aborted = true;
	task->scsi.aborted = true;
	if (task->state != TT_ITASK_EXEC)
		tt_itask_set_state(task, TT_ITASK_DONE);
	task_unlink(task);
}

struct tt_task *tt_task_find(struct tt_conn *conn, uint32_t itt)
{
	struct tt_list *pos;

	tt_list_for_each(pos, &conn->tasks) {
		struct tt_task *t = tt_list_entry(pos, struct tt_task, conn_node);
		if (t->x.itt == itt)
			return t;
	}
	return NULL;
}

/* ---- building PDUs ---- */

static void residuals(const struct tt_task *task, uint8_t *flags, uint32_t *residual)
{
	const struct tt_scsi_task *st = &task->scsi;
	uint32_t xfer = st->dir_read ? st->data_len : (st->cmd_len < st->edtl ? st->cmd_len : st->edtl);

	*residual = 0;
	if (st->cmd_len > st->edtl) {
		*flags |= TT_RSP_OVERFLOW;
		*residual = st->cmd_len - st->edtl;
	} else if (xfer < st->edtl) {
		*flags |= TT_RSP_UNDERFLOW;
		*residual = st->edtl - xfer;
	}
}

bool tt_task_status_collapsible(const struct tt_task *task)
{
	return task->scsi.status == TT_SAM_GOOD && task->scsi.sense_len == 0;
}

struct tt_pdu *tt_task_build_data_in(struct tt_xtask *x, uint32_t offset, uint32_t len,
				     bool final, bool status)
{
	struct tt_task *task = task_of(x);
	struct tt_pdu *pdu = tt_pdu_alloc();
	struct tt_bhs_data_in *d;
	uint32_t residual;

	if (!pdu)
		return NULL;
	d = (struct tt_bhs_data_in *)pdu->raw;
	d->opcode = TT_OP_DATA_IN;
	d->flags = final || status ? TT_FLAG_FINAL : 0;
	tt_put_be32(d->itt, task->x.itt);
	tt_put_be32(d->ttt, TT_RSVD_TAG);
	tt_put_be32(d->datasn, task->x.data_sn++);
	tt_put_be32(d->offset, offset);
	if (status) {
		d->flags |= TT_DATAIN_STATUS;
		d->status = task->scsi.status;
		residuals(task, &d->flags, &residual);
		tt_put_be32(d->residual, residual);
	}
	tt_bhs_set_dlength(&pdu->bhs, len);
	pdu->data = task->scsi.buf + offset;
	pdu->data_len = len;
	task_pdu_hold(task, pdu);
	return pdu;
}

struct tt_pdu *tt_task_build_response(struct tt_task *task)
{
	struct tt_pdu *pdu = tt_pdu_alloc();
	struct tt_bhs_scsi_rsp *r;
	uint32_t residual;

	if (!pdu)
		return NULL;
	r = (struct tt_bhs_scsi_rsp *)pdu->raw;
	r->opcode = TT_OP_SCSI_RSP;
	r->flags = TT_FLAG_FINAL;
	r->response = 0;
	r->status = task->scsi.status;
	tt_put_be32(r->itt, task->x.itt);
	tt_put_be32(r->expdatasn, task->scsi.dir_read ? task->x.data_sn : task->x.r2t_sn);
	residuals(task, &r->flags, &residual);
	tt_put_be32(r->residual, residual);
	if (task->scsi.sense_len) {
		uint32_t len = 2u + task->scsi.sense_len;
		if (tt_pdu_alloc_data(pdu, len) < 0) {
			tt_pdu_free(pdu);
			return NULL;
		}
		tt_put_be16(pdu->data, task->scsi.sense_len);
		memcpy(pdu->data + 2, task->scsi.sense, task->scsi.sense_len);
		tt_bhs_set_dlength(&pdu->bhs, len);
	}
	return pdu;
}

struct tt_pdu *tt_task_build_r2t(struct tt_xtask *x, uint32_t offset, uint32_t len)
{
	struct tt_task *task = task_of(x);
	struct tt_pdu *pdu = tt_pdu_alloc();
	struct tt_bhs_r2t *r;

	if (!pdu)
		return NULL;
	r = (struct tt_bhs_r2t *)pdu->raw;
	r->opcode = TT_OP_R2T;
	r->flags = TT_FLAG_FINAL;
	memcpy(r->lun, task->x.lun, 8);
	tt_put_be32(r->itt, task->x.itt);
	tt_put_be32(r->ttt, task->x.ttt);
	tt_put_be32(r->r2tsn, task->x.r2t_sn++);
	tt_put_be32(r->offset, offset);
	tt_put_be32(r->desired_len, len);
	return pdu;
}

/* ---- execution and completion ---- */

static void task_send_response(struct tt_task *task)
{
	struct tt_pdu *pdu = tt_task_build_response(task);

	if (!pdu) {
		tt_conn_fail(task->conn, "out of memory");
		return;
	}
	tt_conn_send(task->conn, pdu);
}

void tt_task_data_in_queued(struct tt_xtask *x, bool status_sent)
{
	task_of(x)->status_sent = status_sent;
}

/* The session's I/O counters (this loop owns them): latency from the command's arrival to its
 * status (the SCSI core's completion time when it ran there). */
static void task_account(struct tt_task *task)
{
	const struct tt_scsi_task *st = &task->scsi;
	uint64_t end;

	if (!task->counted)
		return;
	end = st->done_ns ? st->done_ns : tt_now_ns();
	tt_iostat_account(&task->sess->io, tt_scsi_io_op(st), tt_scsi_io_bytes(st),
			  tt_scsi_io_err(st), end > task->start_ns ? end - task->start_ns : 0);
}

static void task_respond(struct tt_task *task)
{
	struct tt_conn *conn = task->conn;
	int rc;

	/* held across the sending: a transport that refuses the response fails the connection,
	 * which aborts the task and drops the list's reference, maybe the last */
	tt_task_get(task);
	task_account(task);
	task_slots_release(task); /* the status carries the MaxCmdSN that frees its place */
	tt_itask_set_state(task, TT_ITASK_RESPOND);
	if (task->scsi.dir_read && task->scsi.data_len > 0) {
		task->x.data_in_len = task->scsi.data_len;
		task->x.status_collapsible = tt_task_status_collapsible(task);
		rc = conn->xc->ops->queue_data_in(conn->xc, &task->x);
		if (rc < 0) {
			tt_conn_fail(conn, "cannot send read data");
			tt_task_put(task);
			return;
		}
	}
	if (!task->status_sent && conn->state != TT_CONN_CLEANUP)
		task_send_response(task);
	/* a transport that refused the response failed the connection, which aborted the task
	 * (DONE, off the list) */
	if (task->state != TT_ITASK_DONE)
		tt_itask_set_state(task, TT_ITASK_DONE);
	task_unlink(task);
	tt_task_put(task);
}

static void task_scsi_done(struct tt_scsi_task *st)
{
	struct tt_task *task = tt_container_of(st, struct tt_task, scsi);
	struct tt_conn *conn = task->conn;

	if (task->aborted || (conn->state != TT_CONN_LOGGED_IN && conn->state != TT_CONN_IN_LOGOUT)) {
		if (task->state != TT_ITASK_DONE)
			tt_itask_set_state(task, TT_ITASK_DONE);
		task_unlink(task);
	} else {
		task_respond(task);
	}
	tt_task_put(task); /* the SCSI core's reference */
}

static void task_exec(struct tt_task *task)
{
	tt_itask_set_state(task, TT_ITASK_EXEC);
	task->scsi.done = task_scsi_done;
	tt_task_get(task); /* held by the SCSI core until done() */
	tt_scsi_exec(&task->scsi);
}

/* Completes a task at once with CHECK CONDITION (no execution). */
static void task_fail_check(struct tt_task *task, uint8_t key, uint8_t asc, uint8_t ascq)
{
	tt_scsi_set_sense(&task->scsi, key, asc, ascq);
	task->scsi.data_len = 0;
	task_respond(task);
}

/* ---- receiving commands ---- */

/* The SAM task attribute of an iSCSI ATTR field (RFC 7143 §11.3.1.2: 0 untagged, 1 simple,
 * 2 ordered, 3 head of queue, 4 ACA; untagged and reserved values count as simple). */
static enum tt_task_attr task_attr(unsigned attr)
{
	switch (attr) {
	case 2: return TT_TASK_ORDERED;
	case 3: return TT_TASK_HEAD_OF_QUEUE;
	case 4: return TT_TASK_ACA;
	default: return TT_TASK_SIMPLE;
	}
}

static int task_create(struct tt_conn *conn, struct tt_pdu *pdu, struct tt_task **out)
{
	const struct tt_bhs_scsi_cmd *c = (const struct tt_bhs_scsi_cmd *)pdu->raw;
	struct tt_task *task = task_alloc();
	uint32_t edtl = tt_get_be32(c->edtl);
	int rc;

	if (!task)
		return -ENOMEM;
	task->refs = 1; /* the connection's task list */
	task->pdu_ref.put = task_pdu_put;
	task->conn = conn;
	tt_conn_get(conn);
	task->sess = conn->sess;
	tt_session_get(conn->sess);
	task->state = TT_ITASK_NEW;
	task->counted = tt_iostat_enabled();
	if (task->counted)
		task->start_ns = tt_now_ns();
	task->x.itt = tt_get_be32(c->itt);
	task->cmd_sn = tt_get_be32(c->cmdsn);
	task->immediate = tt_bhs_immediate(&pdu->bhs);
	memcpy(task->x.lun, c->lun, 8);
	task->x.xc = conn->xc;
	/* what the transport noted with the command (iSER: the initiator's remote keys) */
	memcpy(task->x.area, pdu->xport_area, sizeof(task->x.area));
	task->x.edtl = edtl;
	task->x.ttt = (uint32_t)(conn->id << 16) ^ task->x.itt;
	if (task->x.ttt == TT_RSVD_TAG)
		task->x.ttt = 0;
	tt_list_init(&task->order_node);
	task->scsi.lun_id = tt_lun_from_wire(c->lun);
	task->scsi.nexus = &conn->sess->nexus;
	task->scsi.tag = task->x.itt;
	task->scsi.attr = task_attr(c->flags & TT_CMD_ATTR_MASK);
	task->scsi.dir_read = c->flags & TT_CMD_READ;
	task->scsi.dir_write = c->flags & TT_CMD_WRITE;
	/* F: no unsolicited Data-Out follows the command (RFC 7143 §11.3.1.1) */
	task->unsol_ended = c->flags & TT_FLAG_FINAL;
	task->scsi.edtl = edtl;
	task->scsi.priv = task;
	memcpy(task->scsi.cdb, c->cdb, 16);
	task->scsi.cdb_len = 16;
	if (pdu->ahs_len >= 4 && pdu->ahs[2] == 0x01) {
		/* extended CDB AHS: AHSLength covers the reserved byte and the extra CDB bytes */
		uint16_t ahs_len = tt_get_be16(pdu->ahs);
		if (ahs_len >= 2 && ahs_len - 1u <= sizeof(task->scsi.cdb) - 16 && 3u + ahs_len <= pdu->ahs_len) {
			memcpy(task->scsi.cdb + 16, pdu->ahs + 4, ahs_len - 1u);
			task->scsi.cdb_len = (uint16_t)(16 + ahs_len - 1);
		}
	}
	if (edtl && edtl <= TT_MAX_EDTL && (task->scsi.dir_read || task->scsi.dir_write)) {
		uint32_t want = (edtl + 511) & ~511u;
		size_t cap;
		void *buf = NULL;

		/* the buffer counts against global.max_session_buffer and global.max_buffer; a
		 * command beyond them is answered TASK SET FULL or BUSY without allocating */
		rc = tt_limits_buf_charge(&conn->sess->buf_held, want);
		if (rc < 0) {
			task->refused_status = rc == -ENOSPC ? TT_SAM_TASK_SET_FULL : TT_SAM_BUSY;
			tt_log_ratelimited(TT_LOG_WARN, "iscsi", "conn %llu %s: command 0x%08x of %u "
					   "bytes refused (%s): %s reached", (unsigned long long)conn->id,
					   conn->peer, task->x.itt, edtl,
					   rc == -ENOSPC ? "TASK SET FULL" : "BUSY",
					   rc == -ENOSPC ? "max_session_buffer" : "max_buffer");
			goto listed;
		}
		task->buf_charged = want;
		buf = conn->xc->ops->buf_alloc(conn->xc, want, &cap);
		if (!buf) {
			tt_limits_buf_uncharge(&conn->sess->buf_held, want);
			tt_session_put(task->sess);
			tt_conn_put(conn);
			task_release(task);
			return -ENOMEM;
		}
		/* from the loop's pool: a write runs only once all its data has arrived, and a read
		 * returns only what the SCSI core put there, so no clearing is needed */
		task->scsi.buf = buf;
		task->x.buf = buf;
		task->x.buf_len = (uint32_t)cap;
	}
listed:
	tt_list_add_tail(&conn->tasks, &task->conn_node);
	conn->ntasks++;
	*out = task;
	return 0;
}

int tt_cmd_rx_header(struct tt_conn *conn, struct tt_pdu *pdu)
{
	const struct tt_bhs_scsi_cmd *c = (const struct tt_bhs_scsi_cmd *)pdu->raw;
	uint32_t dlen = tt_bhs_dlength(&pdu->bhs);
	struct tt_task *task;
	int rc;

	if (conn->sess->discovery) {
		pdu->ctx = NULL;
		return dlen ? tt_pdu_alloc_data(pdu, dlen) : 0;
	}
	if (tt_task_find(conn, tt_get_be32(c->itt))) {
		/* an ITT still in use: refuse the new command, keep the old one */
		pdu->ctx = (void *)1;
		return 0;
	}
	if (dlen && (!(c->flags & TT_CMD_WRITE) || !conn->sess->params.immediate_data ||
		     dlen > conn->sess->params.first_burst || dlen > tt_get_be32(c->edtl))) {
		tt_warn("iscsi", "conn %llu %s: bad immediate data (%u bytes) on command 0x%08x",
			(unsigned long long)conn->id, conn->peer, dlen, tt_get_be32(c->itt));
		pdu->ctx = (void *)1;
		return 0;
	}
	rc = task_create(conn, pdu, &task);
	if (rc < 0)
		return rc;
	pdu->ctx = task;
	task_pdu_hold(task, pdu); /* dropped when the PDU is freed */
	if (dlen) {
		if (!task->scsi.buf) {
			pdu->data = NULL; /* discard: the command fails */
		} else {
			pdu->data = task->scsi.buf;
			task->data_received = dlen;
		}
	}
	return 0;
}

void tt_cmd_rx(struct tt_conn *conn, struct tt_pdu *pdu)
{
	struct tt_task *task = pdu->ctx;
	struct tt_session *s = conn->sess;

	if (!task || task->aborted || task->state == TT_ITASK_DONE) {
		/* aborted while it waited for its turn: the PDU's reference is the last */
		tt_pdu_free(pdu);
		return;
	}
	tt_pdu_free(pdu); /* drops the PDU's reference; the task list still holds the task */
	s->commands++;
	task->dispatched = true;
	task->scsi.lun = tt_session_lun(s, task->scsi.lun_id);
	if (task->scsi.edtl > TT_MAX_EDTL) {
		task_fail_check(task, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
		return;
	}
	if (task->immediate && !task->refused_status) {
		/* immediate commands do not take a CmdSN: the window bounds them apart */
		if (s->immediate_tasks >= s->queue_depth)
			task->refused_status = TT_SAM_TASK_SET_FULL;
		else {
			s->immediate_tasks++;
			task->imm_slot = true;
		}
	}
	if (task->refused_status) {
		/* over a limit: status only, no sense, nothing executed */
		task->scsi.status = task->refused_status;
		task->scsi.sense_len = 0;
		task->scsi.data_len = 0;
		task_respond(task);
		return;
	}
	if (task->data_error) {
		task_fail_check(task, TT_SK_ABORTED_COMMAND, 0x4b, 0x00);
		return;
	}
	if (task->scsi.dir_read && task->scsi.dir_write) {
		/* bidirectional commands are not supported */
		task_fail_check(task, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
		return;
	}
	if (task->scsi.edtl && !task->scsi.dir_read && !task->scsi.dir_write) {
		/* a transfer length with neither R nor W: no buffer was allocated for it, while
		 * the SCSI core would take edtl as room for data either way */
		task_fail_check(task, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
		return;
	}
	if (!task->scsi.dir_write || task->data_received >= task->scsi.edtl) {
		task_exec(task);
		return;
	}
	/* a write still missing data: unsolicited Data-Out may follow, R2Ts fetch the rest */
	if (!s->params.initial_r2t) {
		uint32_t unsol = s->params.first_burst < task->scsi.edtl ? s->params.first_burst
									 : task->scsi.edtl;
		task->unsolicited_left = unsol > task->data_received && !task->unsol_ended ?
					 unsol - task->data_received : 0;
	}
	task->x.r2t_offset = task->data_received + task->unsolicited_left;
	tt_itask_set_state(task, TT_ITASK_DATA_OUT);
	if (task->x.r2t_offset < task->scsi.edtl && conn->xc->ops->get_data_out(conn->xc, &task->x) < 0)
		tt_conn_fail(conn, "cannot solicit write data");
}

/* ---- Data-Out ---- */

int tt_data_out_rx_header(struct tt_conn *conn, struct tt_pdu *pdu)
{
	const struct tt_bhs_data_out *d = (const struct tt_bhs_data_out *)pdu->raw;
	uint32_t dlen = tt_bhs_dlength(&pdu->bhs);
	uint32_t off = tt_get_be32(d->offset);
	struct tt_task *task = tt_task_find(conn, tt_get_be32(d->itt));

	pdu->ctx = NULL;
	if (!task || task->aborted || !task->scsi.dir_write || !task->scsi.buf ||
	    (task->state != TT_ITASK_NEW && task->state != TT_ITASK_DATA_OUT)) {
		/* data for a task that is gone (aborted, failed): discard it */
		tt_debug("iscsi", "conn %llu: Data-Out for unknown task 0x%08x discarded",
			 (unsigned long long)conn->id, tt_get_be32(d->itt));
		return 0;
	}
	if (tt_get_be32(d->datasn) != task->exp_data_sn) {
		/* ERL 0 cannot recover a lost or repeated Data-Out: the command fails, the
		 * connection stays */
		tt_warn("iscsi", "conn %llu %s: Data-Out DataSN %u, expected %u (task 0x%08x)",
			(unsigned long long)conn->id, conn->peer, tt_get_be32(d->datasn),
			task->exp_data_sn, task->x.itt);
		task->data_error = true;
		pdu->ctx = task;
		task_pdu_hold(task, pdu);
		return 0; /* data discarded */
	}
	if (off != task->data_received) {
		/* DataPDUInOrder and DataSequenceInOrder are always Yes here: data arrives without
		 * gaps or overlaps, so a write never runs over bytes nobody sent */
		tt_warn("iscsi", "conn %llu %s: Data-Out at offset %u, expected %u (task 0x%08x)",
			(unsigned long long)conn->id, conn->peer, off, task->data_received, task->x.itt);
		task->data_error = true;
		pdu->ctx = task;
		task_pdu_hold(task, pdu);
		return 0; /* data discarded */
	}
	/* DataSN counts within each sequence (unsolicited burst, or one R2T) */
	task->exp_data_sn = (d->flags & TT_FLAG_FINAL) ? 0 : task->exp_data_sn + 1;
	if ((uint64_t)off + dlen > task->scsi.edtl) {
		tt_warn("iscsi", "conn %llu %s: Data-Out beyond the expected length (offset %u + %u > %u)",
			(unsigned long long)conn->id, conn->peer, off, dlen, task->scsi.edtl);
		pdu->ctx = (void *)1;
		return 0;
	}
	pdu->ctx = task;
	task_pdu_hold(task, pdu);
	pdu->data = task->scsi.buf + off;
	return 0;
}

void tt_data_out_rx(struct tt_conn *conn, struct tt_pdu *pdu, bool digest_ok)
{
	struct tt_bhs hdr = pdu->bhs;
	struct tt_task *task = pdu->ctx;
	bool final = hdr.flags & TT_FLAG_FINAL;
	bool solicited = tt_get_be32(((const struct tt_bhs_data_out *)&hdr)->ttt) != TT_RSVD_TAG;
	uint32_t dlen = tt_bhs_dlength(&hdr);

	if (task == (void *)1) {
		tt_conn_reject(conn, &hdr, TT_REJECT_PROTOCOL_ERROR);
		tt_pdu_free(pdu);
		return;
	}
	if (!task) {
		tt_pdu_free(pdu);
		return;
	}
	tt_task_get(task);
	tt_pdu_free(pdu);
	if (!digest_ok) {
		/* ERL 0: end the task with PROTOCOL SERVICE CRC ERROR */
		tt_conn_reject(conn, &hdr, TT_REJECT_DIGEST_ERROR);
		if (task->state == TT_ITASK_DATA_OUT)
			task_fail_check(task, TT_SK_ABORTED_COMMAND, 0x47, 0x05);
		tt_task_put(task);
		return;
	}
	if (task->data_error) {
		if (task->state == TT_ITASK_DATA_OUT)
			task_fail_check(task, TT_SK_ABORTED_COMMAND, 0x4b, 0x00); /* DATA PHASE ERROR */
		tt_task_put(task);
		return;
	}
	task->data_received += dlen;
	if (final) {
		if (solicited && task->x.r2t_outstanding)
			task->x.r2t_outstanding--;
		else if (!solicited)
			task->unsol_ended = true;
		if (!solicited && task->unsolicited_left) {
			/* the unsolicited burst ended early: solicit everything after it */
			task->unsolicited_left = 0;
			if (task->x.r2t_offset > task->data_received && !task->x.r2t_outstanding)
				task->x.r2t_offset = task->data_received;
			if (task->state == TT_ITASK_DATA_OUT && task->data_received < task->scsi.edtl &&
			    conn->xc->ops->get_data_out(conn->xc, &task->x) < 0) {
				tt_conn_fail(conn, "cannot solicit write data");
				tt_task_put(task);
				return;
			}
		}
	}
	if (task->state == TT_ITASK_DATA_OUT) {
		if (task->data_received >= task->scsi.edtl)
			tt_task_data_out_done(&task->x, 0);
		else if (final && solicited && conn->xc->ops->get_data_out(conn->xc, &task->x) < 0)
			tt_conn_fail(conn, "cannot solicit write data");
	}
	tt_task_put(task);
}

/* All the write data is in the task's buffer (the last Data-Out PDU, or the transport's read of
 * the initiator's memory): the command runs; @err: it could not be fetched, the command fails. */
void tt_task_data_out_done(struct tt_xtask *x, int err)
{
	struct tt_task *task = task_of(x);

	if (task->state != TT_ITASK_DATA_OUT || task->aborted)
		return;
	if (err) {
		task_fail_check(task, TT_SK_ABORTED_COMMAND, 0x4b, 0x00); /* DATA PHASE ERROR */
		return;
	}
	task_exec(task);
}

int tt_iscsi_target_init(void)
{
	tt_loops_on_thread_exit(tt_pdu_pool_drain);
	tt_loops_on_thread_exit(task_pool_drain);
	return 0;
}

void tt_iscsi_target_fini(void) {}
