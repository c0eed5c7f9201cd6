/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Task lifecycle inside the core: its state, its place on the LUN's task list of its loop, its
 * completion, and the residual the transport reports.
 */
#include "scsi/core.h"
#include "base/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const state_names[] = {
	[TT_TASK_IDLE] = "idle",
	[TT_TASK_ACTIVE] = "active",
	[TT_TASK_BACKEND] = "backend",
	[TT_TASK_COMPLETING] = "completing",
};

const char *tt_task_state_name(enum tt_task_state state)
{
	if ((unsigned)state >= sizeof(state_names) / sizeof(state_names[0]))
		return "?";
	return state_names[state];
}

/*
 * The only writer of task->state. Each state lists the states it may be entered from:
 *   ACTIVE      from IDLE (tt_scsi_exec) or BACKEND (a backend I/O came back)
 *   BACKEND     from ACTIVE (a backend I/O is submitted)
 *   COMPLETING  from ACTIVE (status set, done() queued or about to run)
 *   IDLE        from COMPLETING (done() is called: the transport owns the task again)
 * Any other edge is a bug: it is logged and refused (the state is left as it was).
 */
int tt_task_set_state(struct tt_scsi_task *task, enum tt_task_state to)
{
	enum tt_task_state from = task->state;
	bool ok;

	switch (to) {
	case TT_TASK_ACTIVE:
		ok = from == TT_TASK_IDLE || from == TT_TASK_BACKEND;
		break;
	case TT_TASK_BACKEND:
		ok = from == TT_TASK_ACTIVE;
		break;
	case TT_TASK_COMPLETING:
		ok = from == TT_TASK_ACTIVE;
		break;
	case TT_TASK_IDLE:
		ok = from == TT_TASK_COMPLETING;
		break;
	default:
		ok = false;
		break;
	}
	if (!ok) {
		tt_err("scsi", "task 0x%llx: refused transition %s -> %s",
		       (unsigned long long)task->tag, tt_task_state_name(from),
		       tt_task_state_name(to));
		return -EINVAL;
	}
	task->state = to;
	return 0;
}

/* --- per-loop task lists ---------------------------------------------------------------------- */

void tt_task_track(struct tt_scsi_task *task)
{
	struct tt_lu_state *st = task->lun->state;
	struct tt_loop *loop = task->work.loop;
	struct tt_lu_tasks *slot = &st->slots[tt_loop_index(loop) % TT_LU_TASK_SLOTS];
	struct tt_loop *owner = __atomic_load_n(&slot->owner, __ATOMIC_ACQUIRE);

	if (!owner) {
		struct tt_loop *none = NULL;
		if (__atomic_compare_exchange_n(&slot->owner, &none, loop, false, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			owner = loop;
		else
			owner = none;
	}
	if (owner == loop) {
		tt_list_add_tail(&slot->tasks, &task->lun_node);
		task->list = slot;
		return;
	}
	pthread_mutex_lock(&st->shared_lock);
	tt_list_add_tail(&st->shared_tasks, &task->lun_node);
	pthread_mutex_unlock(&st->shared_lock);
	task->list = &st->shared_tasks;
}

void tt_task_untrack(struct tt_scsi_task *task)
{
	struct tt_lu_state *st;

	if (!task->list)
		return;
	st = task->lun->state;
	if (task->list == &st->shared_tasks) {
		pthread_mutex_lock(&st->shared_lock);
		tt_list_del(&task->lun_node);
		pthread_mutex_unlock(&st->shared_lock);
	} else {
		tt_list_del(&task->lun_node);
	}
	task->list = NULL;
}

void tt_lun_for_each_task(struct tt_lun *lun, void (*fn)(struct tt_scsi_task *task, void *arg),
			  void *arg)
{
	struct tt_lu_state *st = lun->state;
	struct tt_loop *loop = tt_loop_current();
	struct tt_list *pos, *tmp;

	if (!loop)
		return;
	struct tt_lu_tasks *slot = &st->slots[tt_loop_index(loop) % TT_LU_TASK_SLOTS];
	if (__atomic_load_n(&slot->owner, __ATOMIC_ACQUIRE) == loop) {
		tt_list_for_each_safe(pos, tmp, &slot->tasks)
			fn(tt_list_entry(pos, struct tt_scsi_task, lun_node), arg);
	}
	pthread_mutex_lock(&st->shared_lock);
	tt_list_for_each_safe(pos, tmp, &st->shared_tasks) {
		struct tt_scsi_task *t = tt_list_entry(pos, struct tt_scsi_task, lun_node);
		if (t->work.loop == loop)
			fn(t, arg);
	}
	pthread_mutex_unlock(&st->shared_lock);
}

/* --- completion ------------------------------------------------------------------------------- */

void tt_task_finish(struct tt_scsi_task *task)
{
	if (task->bounce) {
		free(task->bounce);
		task->bounce = NULL;
	}
	if (task->status != TT_SAM_GOOD)
		task->data_len = 0;
	tt_task_set_state(task, TT_TASK_COMPLETING);
	tt_task_account(task);
	if (task->lun)
		tt_task_untrack(task);
	tt_task_set_state(task, TT_TASK_IDLE);
	/* after this call the transport owns the task again */
	task->done(task);
}

static void complete_work(struct tt_work *w)
{
	struct tt_scsi_task *task = tt_container_of(w, struct tt_scsi_task, work);

	if (task->bounce) {
		free(task->bounce);
		task->bounce = NULL;
	}
	tt_task_account(task);
	if (task->lun)
		tt_task_untrack(task);
	tt_task_set_state(task, TT_TASK_IDLE);
	task->done(task);
}

void tt_task_complete_later(struct tt_scsi_task *task)
{
	if (task->status != TT_SAM_GOOD)
		task->data_len = 0;
	tt_task_set_state(task, TT_TASK_COMPLETING);
	task->work.fn = complete_work;
	tt_work_queue(&task->work);
}

/* --- data and residuals ----------------------------------------------------------------------- */

void tt_task_data_in(struct tt_scsi_task *task, const void *data, uint32_t len, uint32_t alloc)
{
	uint32_t n = len < alloc ? len : alloc;
	uint32_t room = tt_task_in_room(task);

	if (n > room)
		n = room;
	task->cmd_len = alloc;
	if (n)
		memcpy(task->buf, data, n);
	task->data_len = n;
}

uint32_t tt_scsi_task_residual(const struct tt_scsi_task *task, bool *overflow)
{
	if (task->cmd_len > task->edtl) {
		*overflow = true;
		return task->cmd_len - task->edtl;
	}
	*overflow = false;
	if (task->xfer == TT_SCSI_XFER_IN)
		return task->edtl - (task->data_len < task->edtl ? task->data_len : task->edtl);
	return task->edtl - task->cmd_len;
}
