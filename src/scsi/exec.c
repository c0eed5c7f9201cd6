/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Execution of one task: the table from operation code to handler, and the checks every command
 * goes through before its handler (logical unit present, unit attention, control byte, write
 * protection).
 */
#include "scsi/core.h"
#include "scsi/cdb.h"
#include "base/log.h"

#define IN  TT_SCSI_XFER_IN
#define OUT TT_SCSI_XFER_OUT
#define NONE TT_SCSI_XFER_NONE

static const struct tt_scsi_cmd cmd_table[256] = {
	/* SPC */
	[TT_OP_TEST_UNIT_READY] = { "TEST UNIT READY", tt_spc_test_unit_ready, 0, NONE },
	[TT_OP_REQUEST_SENSE] = { "REQUEST SENSE", tt_spc_request_sense,
				  TT_CMD_NO_LUN_OK | TT_CMD_NO_UA, IN },
	[TT_OP_INQUIRY] = { "INQUIRY", tt_spc_inquiry, TT_CMD_NO_LUN_OK | TT_CMD_NO_UA, IN },
	[TT_OP_REPORT_LUNS] = { "REPORT LUNS", tt_spc_report_luns,
				TT_CMD_NO_LUN_OK | TT_CMD_NO_UA, IN },
	[TT_OP_MODE_SENSE_6] = { "MODE SENSE(6)", tt_spc_mode_sense, 0, IN },
	[TT_OP_MODE_SENSE_10] = { "MODE SENSE(10)", tt_spc_mode_sense, 0, IN },
	[TT_OP_MODE_SELECT_6] = { "MODE SELECT(6)", tt_spc_mode_select, 0, OUT },
	[TT_OP_MODE_SELECT_10] = { "MODE SELECT(10)", tt_spc_mode_select, 0, OUT },
	/* SBC */
	[TT_OP_READ_6] = { "READ(6)", tt_sbc_read_write, 0, IN },
	[TT_OP_READ_10] = { "READ(10)", tt_sbc_read_write, 0, IN },
	[TT_OP_READ_12] = { "READ(12)", tt_sbc_read_write, 0, IN },
	[TT_OP_READ_16] = { "READ(16)", tt_sbc_read_write, 0, IN },
	[TT_OP_WRITE_6] = { "WRITE(6)", tt_sbc_read_write, TT_CMD_WRITES, OUT },
	[TT_OP_WRITE_10] = { "WRITE(10)", tt_sbc_read_write, TT_CMD_WRITES, OUT },
	[TT_OP_WRITE_12] = { "WRITE(12)", tt_sbc_read_write, TT_CMD_WRITES, OUT },
	[TT_OP_WRITE_16] = { "WRITE(16)", tt_sbc_read_write, TT_CMD_WRITES, OUT },
	[TT_OP_VERIFY_10] = { "VERIFY(10)", tt_sbc_verify, 0, OUT },
	[TT_OP_VERIFY_12] = { "VERIFY(12)", tt_sbc_verify, 0, OUT },
	[TT_OP_VERIFY_16] = { "VERIFY(16)", tt_sbc_verify, 0, OUT },
	[TT_OP_SYNCHRONIZE_CACHE_10] = { "SYNCHRONIZE CACHE(10)", tt_sbc_synchronize_cache, 0, NONE },
	[TT_OP_SYNCHRONIZE_CACHE_16] = { "SYNCHRONIZE CACHE(16)", tt_sbc_synchronize_cache, 0, NONE },
	[TT_OP_READ_CAPACITY_10] = { "READ CAPACITY(10)", tt_sbc_read_capacity_10, 0, IN },
	[TT_OP_SERVICE_ACTION_IN_16] = { "SERVICE ACTION IN(16)", tt_sbc_service_action_in_16, 0, IN },
	[TT_OP_START_STOP_UNIT] = { "START STOP UNIT", tt_sbc_start_stop_unit, 0, NONE },
};

const struct tt_scsi_cmd *tt_scsi_cmd_lookup(uint8_t opcode)
{
	const struct tt_scsi_cmd *cmd = &cmd_table[opcode];

	return cmd->handler ? cmd : NULL;
}

static enum tt_exec_rc check_and_run(struct tt_scsi_task *task, const struct tt_scsi_cmd *cmd)
{
	unsigned len;

	if (!task->lun) {
		if (!cmd || !(cmd->flags & TT_CMD_NO_LUN_OK)) {
			tt_scsi_fail(task, TT_SK_ILLEGAL_REQUEST, TT_ASC_LUN_NOT_SUPPORTED);
			return TT_EXEC_DONE;
		}
	} else if (!(cmd && (cmd->flags & TT_CMD_NO_UA)) && tt_ua_check(task)) {
		return TT_EXEC_DONE;
	}
	if (!cmd) {
		tt_scsi_fail(task, TT_SK_ILLEGAL_REQUEST, TT_ASC_INVALID_OPCODE);
		return TT_EXEC_DONE;
	}
	/* CONTROL byte: NACA (no ACA support) and the obsolete LINK bit must be zero */
	len = tt_cdb_length(task->cdb[0]);
	if (len && len <= sizeof(task->cdb)) {
		uint8_t control = task->cdb[len - 1];
		if (control & 0x04) {
			tt_scsi_invalid_cdb(task, (uint16_t)(len - 1), 2);
			return TT_EXEC_DONE;
		}
		if (control & 0x01) {
			tt_scsi_invalid_cdb(task, (uint16_t)(len - 1), 0);
			return TT_EXEC_DONE;
		}
	}
	if ((cmd->flags & TT_CMD_WRITES) && tt_lun_write_protected(task->lun)) {
		tt_scsi_fail(task, TT_SK_DATA_PROTECT, TT_ASC_WRITE_PROTECTED);
		return TT_EXEC_DONE;
	}
	return cmd->handler(task);
}

void tt_scsi_exec(struct tt_scsi_task *task)
{
	const struct tt_scsi_cmd *cmd = tt_scsi_cmd_lookup(task->cdb[0]);
	struct tt_loop *loop = tt_loop_current();

	if (!loop) {
		/* completions need a loop: a transport bug, answered without one */
		tt_err("scsi", "task 0x%llx executed outside a loop thread",
		       (unsigned long long)task->tag);
		task->status = TT_SAM_BUSY;
		task->sense_len = 0;
		task->data_len = 0;
		task->done(task);
		return;
	}
	if (task->state > TT_TASK_IDLE && task->state <= TT_TASK_COMPLETING)
		tt_err("scsi", "task 0x%llx executed again before its completion",
		       (unsigned long long)task->tag);
	task->state = TT_TASK_IDLE;
	task->status = TT_SAM_GOOD;
	task->sense_len = 0;
	task->data_len = 0;
	task->cmd_len = 0;
	task->aborted = false;
	task->xfer = cmd ? cmd->xfer : TT_SCSI_XFER_NONE;
	task->pending = 0;
	task->bounce = NULL;
	task->list = NULL;
	tt_work_init(&task->work, loop, NULL);
	tt_list_init(&task->lun_node);
	tt_task_set_state(task, TT_TASK_ACTIVE);
	if (task->lun)
		tt_task_track(task);
	if (check_and_run(task, cmd) == TT_EXEC_DONE)
		tt_task_complete_later(task);
}
