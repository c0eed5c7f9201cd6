/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * I/O counters per LUN (docs/stats.md): each loop that executes tasks of a LUN owns a counter
 * block in its task slot (struct tt_lu_tasks) and adds to it with plain relaxed stores; a loop
 * that found its slot taken (two standalone loops of one index) counts in the LUN's shared block
 * under the lock its task list already takes. Readers sum every block with relaxed loads.
 */
#include "scsi/core.h"
#include "scsi/cdb.h"
#include "base/clock.h"

#include <stdlib.h>

unsigned tt_scsi_io_op(const struct tt_scsi_task *task)
{
	switch (task->cdb[0]) {
	case TT_OP_READ_6:
	case TT_OP_READ_10:
	case TT_OP_READ_12:
	case TT_OP_READ_16:
		return TT_IO_READ;
	case TT_OP_WRITE_6:
	case TT_OP_WRITE_10:
	case TT_OP_WRITE_12:
	case TT_OP_WRITE_16:
	case TT_OP_WRITE_VERIFY_10:
	case TT_OP_WRITE_VERIFY_12:
	case TT_OP_WRITE_VERIFY_16:
	case TT_OP_WRITE_ATOMIC_16:
		return TT_IO_WRITE;
	default:
		return TT_IO_OTHER;
	}
}

int tt_scsi_io_err(const struct tt_scsi_task *task)
{
	unsigned key;

	switch (task->status) {
	case TT_SAM_GOOD:
	case TT_SAM_CONDITION_MET:
		return TT_IO_ERR_NONE;
	case TT_SAM_CHECK_CONDITION:
		break;
	case TT_SAM_RESERVATION_CONFLICT:
		return TT_IO_ERR_RESERVATION_CONFLICT;
	case TT_SAM_BUSY:
	case TT_SAM_TASK_SET_FULL:
		return TT_IO_ERR_BUSY;
	default:
		return TT_IO_ERR_OTHER_STATUS;
	}
	if (task->sense_len < 3)
		return TT_IO_ERR_OTHER_SENSE;
	/* response code 70h/71h: fixed format, key in byte 2; 72h/73h: descriptor, byte 1 */
	key = (task->sense[0] & 0x7f) >= 0x72 ? task->sense[1] & 0x0f : task->sense[2] & 0x0f;
	switch (key) {
	case TT_SK_NOT_READY: return TT_IO_ERR_NOT_READY;
	case TT_SK_MEDIUM_ERROR: return TT_IO_ERR_MEDIUM;
	case TT_SK_HARDWARE_ERROR: return TT_IO_ERR_HARDWARE;
	case TT_SK_ILLEGAL_REQUEST: return TT_IO_ERR_ILLEGAL_REQUEST;
	case TT_SK_UNIT_ATTENTION: return TT_IO_ERR_UNIT_ATTENTION;
	case TT_SK_DATA_PROTECT: return TT_IO_ERR_DATA_PROTECT;
	case TT_SK_ABORTED_COMMAND: return TT_IO_ERR_ABORTED_COMMAND;
	case TT_SK_MISCOMPARE: return TT_IO_ERR_MISCOMPARE;
	default: return TT_IO_ERR_OTHER_SENSE;
	}
}

uint64_t tt_scsi_io_bytes(const struct tt_scsi_task *task)
{
	switch (tt_scsi_io_op(task)) {
	case TT_IO_READ:
		return task->data_len;
	case TT_IO_WRITE:
		if (task->status != TT_SAM_GOOD)
			return 0;
		return task->cmd_len < task->edtl ? task->cmd_len : task->edtl;
	default:
		return 0;
	}
}

void tt_task_account(struct tt_scsi_task *task)
{
	struct tt_lu_state *st;
	struct tt_lu_tasks *slot;
	struct tt_iostat *io;
	uint64_t now;

	if (!task->counted)
		return;
	now = tt_now_ns();
	task->done_ns = now ? now : 1;
	if (!task->lun || !task->list)
		return;
	st = task->lun->state;
	if (task->list == &st->shared_tasks) {
		pthread_mutex_lock(&st->shared_lock);
		tt_iostat_account(&st->shared_io, tt_scsi_io_op(task), tt_scsi_io_bytes(task),
				  tt_scsi_io_err(task), now - task->start_ns);
		pthread_mutex_unlock(&st->shared_lock);
		return;
	}
	/* the slot's owner is this loop: only this thread writes its block */
	slot = task->list;
	io = slot->io;
	if (!io) {
		io = calloc(1, sizeof(*io));
		if (!io)
			return; /* not counted */
		__atomic_store_n(&slot->io, io, __ATOMIC_RELEASE);
	}
	tt_iostat_account(io, tt_scsi_io_op(task), tt_scsi_io_bytes(task), tt_scsi_io_err(task),
			  now - task->start_ns);
}

void tt_lun_iostat(struct tt_lun *lun, struct tt_iostat *sum)
{
	struct tt_lu_state *st = lun->state;

	for (unsigned i = 0; i < TT_LU_TASK_SLOTS; i++) {
		const struct tt_iostat *io = __atomic_load_n(&st->slots[i].io, __ATOMIC_ACQUIRE);

		if (io)
			tt_iostat_add(sum, io);
	}
	pthread_mutex_lock(&st->shared_lock);
	tt_iostat_add(sum, &st->shared_io);
	pthread_mutex_unlock(&st->shared_lock);
}
