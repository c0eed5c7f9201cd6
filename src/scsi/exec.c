/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Execution of one task: the table of commands (operation code, service action, CDB usage data,
 * handler), the checks every command goes through before its handler (logical unit present,
 * unit attention, reserved CDB bits, control byte, sanitize in progress, ALUA access state,
 * reservations, write protection), and REPORT SUPPORTED OPERATION CODES, which reports that same table.
 */
#include "scsi/core.h"
#include "scsi/cdb.h"
#include "scsi/pr.h"
#include "base/clock.h"
#include "base/log.h"

#include <string.h>

#define IN   TT_SCSI_XFER_IN
#define OUT  TT_SCSI_XFER_OUT
#define NONE TT_SCSI_XFER_NONE
#define USAGE(...) .usage = { __VA_ARGS__ }
#define FF4 0xff, 0xff, 0xff, 0xff
#define FF8 FF4, FF4

static const struct tt_scsi_cmd service_action_in_16[] = {
	{ "READ CAPACITY(16)", tt_sbc_service_action_in_16, 0, IN, 16,
	  USAGE(0x9e, TT_SAI_READ_CAPACITY_16, FF8, FF4, 0x01, 0), .sa = TT_SAI_READ_CAPACITY_16 },
	{ "GET LBA STATUS", tt_sbc_get_lba_status, 0, IN, 16,
	  USAGE(0x9e, TT_SAI_GET_LBA_STATUS, FF8, FF4, 0x07, 0), .sa = TT_SAI_GET_LBA_STATUS },
	{ 0 },
};

static const struct tt_scsi_cmd sanitize[] = {
	{ "SANITIZE OVERWRITE", tt_sbc_sanitize, TT_CMD_WRITES, OUT, 10,
	  USAGE(0x48, 0xa0 | TT_SANITIZE_OVERWRITE, 0, 0, 0, 0, 0, 0xff, 0xff, 0),
	  .sa = TT_SANITIZE_OVERWRITE },
	{ "SANITIZE BLOCK ERASE", tt_sbc_sanitize, TT_CMD_WRITES, OUT, 10,
	  USAGE(0x48, 0xa0 | TT_SANITIZE_BLOCK_ERASE, 0, 0, 0, 0, 0, 0xff, 0xff, 0),
	  .sa = TT_SANITIZE_BLOCK_ERASE },
	{ "SANITIZE CRYPTO ERASE", tt_sbc_sanitize, TT_CMD_WRITES, OUT, 10,
	  USAGE(0x48, 0xa0 | TT_SANITIZE_CRYPTO_ERASE, 0, 0, 0, 0, 0, 0xff, 0xff, 0),
	  .sa = TT_SANITIZE_CRYPTO_ERASE },
	{ "SANITIZE EXIT FAILURE MODE", tt_sbc_sanitize, 0, OUT, 10,
	  USAGE(0x48, 0xa0 | TT_SANITIZE_EXIT_FAILURE_MODE, 0, 0, 0, 0, 0, 0xff, 0xff, 0),
	  .sa = TT_SANITIZE_EXIT_FAILURE_MODE },
	{ 0 },
};

static const struct tt_scsi_cmd maintenance_in[] = {
	{ "REPORT SUPPORTED OPERATION CODES", tt_spc_report_supported_opcodes, 0, IN, 12, USAGE(0xa3, TT_MI_REPORT_SUPPORTED_OPCODES, 0x87, 0xff, 0xff, 0xff,
				       FF4, 0, 0), .sa = TT_MI_REPORT_SUPPORTED_OPCODES },
	{ "REPORT TARGET PORT GROUPS", tt_spc_report_target_port_groups, 0, IN, 12,
	  USAGE(0xa3, 0x20 | TT_MI_REPORT_TARGET_PORT_GROUPS, 0, 0, 0, 0, FF4, 0, 0),
	  .sa = TT_MI_REPORT_TARGET_PORT_GROUPS },
	{ 0 },
};

static const struct tt_scsi_cmd maintenance_out[] = {
	{ "SET TARGET PORT GROUPS", tt_spc_set_target_port_groups, 0, OUT, 12,
	  USAGE(0xa4, TT_MO_SET_TARGET_PORT_GROUPS, 0, 0, 0, 0, FF4, 0, 0),
	  .sa = TT_MO_SET_TARGET_PORT_GROUPS },
	{ 0 },
};

/* third-party copy (xcopy.c) */
static const struct tt_scsi_cmd extended_copy[] = {
	{ "EXTENDED COPY(LID1)", tt_spc_extended_copy, 0, OUT, 16,
	  USAGE(0x83, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, FF4, 0, 0), .sa = 0x00 },
	{ 0 },
};

static const struct tt_scsi_cmd receive_copy_results[] = {
	{ "RECEIVE COPY RESULTS COPY STATUS", tt_spc_receive_copy_results, 0, IN, 16,
	  USAGE(0x84, 0x00, 0xff, 0, 0, 0, 0, 0, 0, 0, FF4, 0, 0), .sa = 0x00 },
	{ "RECEIVE COPY RESULTS RECEIVE DATA", tt_spc_receive_copy_results, 0, IN, 16,
	  USAGE(0x84, 0x01, 0xff, 0, 0, 0, 0, 0, 0, 0, FF4, 0, 0), .sa = 0x01 },
	{ "RECEIVE COPY RESULTS OPERATING PARAMETERS", tt_spc_receive_copy_results, 0, IN, 16,
	  USAGE(0x84, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, FF4, 0, 0), .sa = 0x03 },
	{ "RECEIVE COPY RESULTS FAILED SEGMENT DETAILS", tt_spc_receive_copy_results, 0, IN, 16,
	  USAGE(0x84, 0x04, 0xff, 0, 0, 0, 0, 0, 0, 0, FF4, 0, 0), .sa = 0x04 },
	{ 0 },
};

static const struct tt_scsi_cmd cmd_table[256] = {
	/* SPC */
	[TT_OP_TEST_UNIT_READY] = { "TEST UNIT READY", tt_spc_test_unit_ready, 0, NONE, 6,
				    USAGE(0x00, 0, 0, 0, 0, 0) },
	[TT_OP_REQUEST_SENSE] = { "REQUEST SENSE", tt_spc_request_sense,
				  TT_CMD_NO_LUN_OK | TT_CMD_NO_UA, IN, 6,
				  USAGE(0x03, 0x01, 0, 0, 0xff, 0) },
	[TT_OP_INQUIRY] = { "INQUIRY", tt_spc_inquiry, TT_CMD_NO_LUN_OK | TT_CMD_NO_UA, IN, 6,
			    USAGE(0x12, 0x01, 0xff, 0xff, 0xff, 0) },
	[TT_OP_REPORT_LUNS] = { "REPORT LUNS", tt_spc_report_luns, TT_CMD_NO_LUN_OK | TT_CMD_NO_UA,
				IN, 12, USAGE(0xa0, 0, 0xff, 0, 0, 0, FF4, 0, 0) },
	[TT_OP_MODE_SENSE_6] = { "MODE SENSE(6)", tt_spc_mode_sense, 0, IN, 6,
				 USAGE(0x1a, 0x08, 0xff, 0xff, 0xff, 0) },
	[TT_OP_MODE_SENSE_10] = { "MODE SENSE(10)", tt_spc_mode_sense, 0, IN, 10,
				  USAGE(0x5a, 0x18, 0xff, 0xff, 0, 0, 0, 0xff, 0xff, 0) },
	[TT_OP_MODE_SELECT_6] = { "MODE SELECT(6)", tt_spc_mode_select, 0, OUT, 6,
				  USAGE(0x15, 0x11, 0, 0, 0xff, 0) },
	[TT_OP_MODE_SELECT_10] = { "MODE SELECT(10)", tt_spc_mode_select, 0, OUT, 10,
				   USAGE(0x55, 0x11, 0, 0, 0, 0, 0, 0xff, 0xff, 0) },
	[TT_OP_MAINTENANCE_IN] = { "MAINTENANCE IN", NULL, 0, IN, 12, USAGE(0xa3),
				   .by_sa = maintenance_in },
	[TT_OP_MAINTENANCE_OUT] = { "MAINTENANCE OUT", NULL, 0, OUT, 12, USAGE(0xa4),
				    .by_sa = maintenance_out },
	[TT_OP_EXTENDED_COPY] = { "EXTENDED COPY", NULL, 0, OUT, 16, USAGE(0x83),
				  .by_sa = extended_copy },
	[TT_OP_RECEIVE_COPY_RESULTS] = { "RECEIVE COPY RESULTS", NULL, 0, IN, 16, USAGE(0x84),
					 .by_sa = receive_copy_results },
	/* reservations (pr.c) */
	[TT_OP_PERSISTENT_RESERVE_IN] = { "PERSISTENT RESERVE IN", NULL, 0, IN, 10, USAGE(0x5e),
					  .by_sa = tt_pr_in_cmds },
	[TT_OP_PERSISTENT_RESERVE_OUT] = { "PERSISTENT RESERVE OUT", NULL, 0, OUT, 10, USAGE(0x5f),
					   .by_sa = tt_pr_out_cmds },
	[TT_PR_OP_RESERVE_6] = { "RESERVE(6)", tt_pr_reserve, 0, NONE, 6, USAGE(0x16, 0, 0, 0, 0, 0) },
	[TT_PR_OP_RELEASE_6] = { "RELEASE(6)", tt_pr_release, 0, NONE, 6, USAGE(0x17, 0, 0, 0, 0, 0) },
	[TT_PR_OP_RESERVE_10] = { "RESERVE(10)", tt_pr_reserve, 0, NONE, 10,
				  USAGE(0x56, 0, 0, 0, 0, 0, 0, 0, 0, 0) },
	[TT_PR_OP_RELEASE_10] = { "RELEASE(10)", tt_pr_release, 0, NONE, 10,
				  USAGE(0x57, 0, 0, 0, 0, 0, 0, 0, 0, 0) },
	/* SBC */
	[TT_OP_READ_6] = { "READ(6)", tt_sbc_read_write, 0, IN, 6,
			   USAGE(0x08, 0x1f, 0xff, 0xff, 0xff, 0) },
	[TT_OP_READ_10] = { "READ(10)", tt_sbc_read_write, 0, IN, 10,
			    USAGE(0x28, 0xfe, FF4, 0x3f, 0xff, 0xff, 0) },
	[TT_OP_READ_12] = { "READ(12)", tt_sbc_read_write, 0, IN, 12,
			    USAGE(0xa8, 0xfe, FF4, FF4, 0x3f, 0) },
	[TT_OP_READ_16] = { "READ(16)", tt_sbc_read_write, 0, IN, 16,
			    USAGE(0x88, 0xfe, FF8, FF4, 0x3f, 0) },
	[TT_OP_WRITE_6] = { "WRITE(6)", tt_sbc_read_write, TT_CMD_WRITES, OUT, 6,
			    USAGE(0x0a, 0x1f, 0xff, 0xff, 0xff, 0) },
	[TT_OP_WRITE_10] = { "WRITE(10)", tt_sbc_read_write, TT_CMD_WRITES, OUT, 10,
			     USAGE(0x2a, 0xfa, FF4, 0x3f, 0xff, 0xff, 0) },
	[TT_OP_WRITE_12] = { "WRITE(12)", tt_sbc_read_write, TT_CMD_WRITES, OUT, 12,
			     USAGE(0xaa, 0xfa, FF4, FF4, 0x3f, 0) },
	[TT_OP_WRITE_16] = { "WRITE(16)", tt_sbc_read_write, TT_CMD_WRITES, OUT, 16,
			     USAGE(0x8a, 0xfa, FF8, FF4, 0x3f, 0) },
	[TT_OP_VERIFY_10] = { "VERIFY(10)", tt_sbc_verify, 0, OUT, 10,
			      USAGE(0x2f, 0xf6, FF4, 0x3f, 0xff, 0xff, 0) },
	[TT_OP_VERIFY_12] = { "VERIFY(12)", tt_sbc_verify, 0, OUT, 12,
			      USAGE(0xaf, 0xf6, FF4, FF4, 0x3f, 0) },
	[TT_OP_VERIFY_16] = { "VERIFY(16)", tt_sbc_verify, 0, OUT, 16,
			      USAGE(0x8f, 0xf6, FF8, FF4, 0x3f, 0) },
	[TT_OP_SYNCHRONIZE_CACHE_10] = { "SYNCHRONIZE CACHE(10)", tt_sbc_synchronize_cache, 0, NONE,
					 10, USAGE(0x35, 0x06, FF4, 0x3f, 0xff, 0xff, 0) },
	[TT_OP_SYNCHRONIZE_CACHE_16] = { "SYNCHRONIZE CACHE(16)", tt_sbc_synchronize_cache, 0, NONE,
					 16, USAGE(0x91, 0x06, FF8, FF4, 0x3f, 0) },
	[TT_OP_WRITE_SAME_10] = { "WRITE SAME(10)", tt_sbc_write_same, TT_CMD_WRITES, OUT, 10,
				  USAGE(0x41, 0xf8, FF4, 0x3f, 0xff, 0xff, 0) },
	[TT_OP_WRITE_SAME_16] = { "WRITE SAME(16)", tt_sbc_write_same, TT_CMD_WRITES, OUT, 16,
				  USAGE(0x93, 0xf9, FF8, FF4, 0x3f, 0) },
	[TT_OP_UNMAP] = { "UNMAP", tt_sbc_unmap, TT_CMD_WRITES, OUT, 10,
			  USAGE(0x42, 0x01, 0, 0, 0, 0, 0x3f, 0xff, 0xff, 0) },
	[TT_OP_READ_CAPACITY_10] = { "READ CAPACITY(10)", tt_sbc_read_capacity_10, 0, IN, 10,
				     USAGE(0x25, 0, FF4, 0, 0, 0x01, 0) },
	[TT_OP_SERVICE_ACTION_IN_16] = { "SERVICE ACTION IN(16)", NULL, 0, IN, 16, USAGE(0x9e),
					 .by_sa = service_action_in_16 },
	[TT_OP_START_STOP_UNIT] = { "START STOP UNIT", tt_sbc_start_stop_unit, 0, NONE, 6,
				    USAGE(0x1b, 0x01, 0, 0x0f, 0xf7, 0) },
	/* SBC: read-then-write, atomic, provisioning status, no-ops (sbc_write.c, sbc_misc.c) */
	[TT_OP_COMPARE_AND_WRITE] = { "COMPARE AND WRITE", tt_sbc_compare_and_write, TT_CMD_WRITES,
				      OUT, 16, USAGE(0x89, 0x1a, FF8, 0, 0, 0, 0xff, 0x3f, 0) },
	[TT_OP_ORWRITE_16] = { "ORWRITE(16)", tt_sbc_orwrite, TT_CMD_WRITES, OUT, 16,
			       USAGE(0x8b, 0x1a, FF8, FF4, 0x3f, 0) },
	[TT_OP_WRITE_VERIFY_10] = { "WRITE AND VERIFY(10)", tt_sbc_write_verify, TT_CMD_WRITES, OUT,
				    10, USAGE(0x2e, 0x16, FF4, 0x3f, 0xff, 0xff, 0) },
	[TT_OP_WRITE_VERIFY_12] = { "WRITE AND VERIFY(12)", tt_sbc_write_verify, TT_CMD_WRITES, OUT,
				    12, USAGE(0xae, 0x16, FF4, FF4, 0x3f, 0) },
	[TT_OP_WRITE_VERIFY_16] = { "WRITE AND VERIFY(16)", tt_sbc_write_verify, TT_CMD_WRITES, OUT,
				    16, USAGE(0x8e, 0x16, FF8, FF4, 0x3f, 0) },
	[TT_OP_WRITE_ATOMIC_16] = { "WRITE ATOMIC(16)", tt_sbc_write_atomic, TT_CMD_WRITES, OUT, 16,
				    USAGE(0x9c, 0x18, FF8, 0, 0, 0xff, 0xff, 0x3f, 0) },
	[TT_OP_PRE_FETCH_10] = { "PRE-FETCH(10)", tt_sbc_prefetch, 0, NONE, 10,
				 USAGE(0x34, 0x02, FF4, 0x3f, 0xff, 0xff, 0) },
	[TT_OP_PRE_FETCH_16] = { "PRE-FETCH(16)", tt_sbc_prefetch, 0, NONE, 16,
				 USAGE(0x90, 0x02, FF8, FF4, 0x3f, 0) },
	[TT_OP_READ_DEFECT_DATA_10] = { "READ DEFECT DATA(10)", tt_sbc_read_defect_data, 0, IN, 10,
					USAGE(0x37, 0, 0x1f, 0, 0, 0, 0, 0xff, 0xff, 0) },
	[TT_OP_READ_DEFECT_DATA_12] = { "READ DEFECT DATA(12)", tt_sbc_read_defect_data, 0, IN, 12,
					USAGE(0xb7, 0x1f, FF4, FF4, 0, 0) },
	[TT_OP_PREVENT_ALLOW_MEDIUM_REMOVAL] = { "PREVENT ALLOW MEDIUM REMOVAL", tt_sbc_prevent_allow,
						 0, NONE, 6, USAGE(0x1e, 0, 0, 0, 0x03, 0) },
	[TT_OP_SANITIZE] = { "SANITIZE", NULL, 0, OUT, 10, USAGE(0x48), .by_sa = sanitize },
};

static const struct tt_scsi_cmd *find_sa(const struct tt_scsi_cmd *list, unsigned sa)
{
	for (; list->handler; list++)
		if (list->sa == sa)
			return list;
	return NULL;
}

const struct tt_scsi_cmd *tt_scsi_cmd_lookup(const uint8_t *cdb, bool *bad_sa)
{
	const struct tt_scsi_cmd *cmd = &cmd_table[cdb[0]];

	*bad_sa = false;
	if (!cmd->name)
		return NULL;
	if (cmd->by_sa) {
		cmd = find_sa(cmd->by_sa, cdb[1] & 0x1f);
		*bad_sa = !cmd;
	}
	return cmd;
}

/* A bit set where the CDB usage data has none: reserved, or a feature we do not have. */
static bool cdb_fields_ok(struct tt_scsi_task *task, const struct tt_scsi_cmd *cmd)
{
	for (unsigned i = 1; i + 1 < cmd->cdb_len; i++) {
		uint8_t bad = task->cdb[i] & (uint8_t)~cmd->usage[i];
		if (bad) {
			tt_scsi_invalid_cdb(task, (uint16_t)i, 31 - __builtin_clz(bad));
			return false;
		}
	}
	/* CONTROL byte: NACA (no ACA support) and the obsolete LINK bit must be zero */
	uint8_t control = task->cdb[cmd->cdb_len - 1];
	if (control & 0x05) {
		tt_scsi_invalid_cdb(task, (uint16_t)(cmd->cdb_len - 1), control & 0x04 ? 2 : 0);
		return false;
	}
	return true;
}

static enum tt_exec_rc check_and_run(struct tt_scsi_task *task, const struct tt_scsi_cmd *cmd,
				     bool bad_sa)
{
	if (!task->lun) {
		if (!cmd || !(cmd->flags & TT_CMD_NO_LUN_OK)) {
			tt_scsi_fail(task, TT_SK_ILLEGAL_REQUEST, TT_ASC_LUN_NOT_SUPPORTED);
			return TT_EXEC_DONE;
		}
	} else if (!(cmd && (cmd->flags & TT_CMD_NO_UA)) && tt_ua_check(task)) {
		return TT_EXEC_DONE;
	}
	if (bad_sa) {
		tt_scsi_invalid_cdb(task, 1, 4);
		return TT_EXEC_DONE;
	}
	if (!cmd) {
		tt_scsi_fail(task, TT_SK_ILLEGAL_REQUEST, TT_ASC_INVALID_OPCODE);
		return TT_EXEC_DONE;
	}
	if (!cdb_fields_ok(task, cmd))
		return TT_EXEC_DONE;
	if (task->lun && tt_sanitize_refused(task, cmd))
		return TT_EXEC_DONE;
	if (task->lun && tt_alua_refused(task))
		return TT_EXEC_DONE;
	if (task->lun && tt_pr_conflict(task))
		return TT_EXEC_DONE;
	if (task->lun && __atomic_load_n(&task->lun->bdev->failed, __ATOMIC_ACQUIRE) &&
	    !(cmd->flags & TT_CMD_NO_LUN_OK)) {
		/* its backend left an I/O unfinished past the drain bound: nothing more may run */
		tt_scsi_fail(task, TT_SK_HARDWARE_ERROR, TT_ASC_LUN_FAILURE);
		return TT_EXEC_DONE;
	}
	if ((cmd->flags & TT_CMD_WRITES) && tt_lun_write_protected(task->lun)) {
		tt_scsi_fail(task, TT_SK_DATA_PROTECT, TT_ASC_WRITE_PROTECTED);
		return TT_EXEC_DONE;
	}
	return cmd->handler(task);
}

void tt_scsi_exec(struct tt_scsi_task *task)
{
	struct tt_loop *loop = tt_loop_current();
	const struct tt_scsi_cmd *cmd;
	bool bad_sa;

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
	if (task->state != TT_TASK_IDLE) {
		/* still inside the core (a transport bug): its first execution ends as usual;
		 * touching it now would corrupt that one */
		tt_err("scsi", "task 0x%llx executed again while %s: refused",
		       (unsigned long long)task->tag, tt_task_state_name(task->state));
		return;
	}
	cmd = tt_scsi_cmd_lookup(task->cdb, &bad_sa);
	task->status = TT_SAM_GOOD;
	task->sense_len = 0;
	task->data_len = 0;
	task->cmd_len = 0;
	task->aborted = false;
	task->xfer = cmd ? cmd->xfer : TT_SCSI_XFER_NONE;
	task->pending = 0;
	task->bounce = NULL;
	task->list = NULL;
	task->done_ns = 0;
	task->counted = tt_iostat_enabled();
	if (task->counted)
		task->start_ns = tt_now_ns();
	tt_work_init(&task->work, loop, NULL);
	tt_list_init(&task->lun_node);
	tt_task_set_state(task, TT_TASK_ACTIVE);
	if (task->lun)
		tt_task_track(task);
	if (check_and_run(task, cmd, bad_sa) == TT_EXEC_DONE)
		tt_task_complete_later(task);
}

/* --- REPORT SUPPORTED OPERATION CODES (SPC-4 6.35) ---------------------------------------------- */

#define RSOC_TIMEOUTS_LEN 12

static size_t put_timeouts(uint8_t *p)
{
	memset(p, 0, RSOC_TIMEOUTS_LEN);
	tt_put_be16(p, RSOC_TIMEOUTS_LEN - 2); /* no nominal / recommended timeouts given */
	return RSOC_TIMEOUTS_LEN;
}

static size_t put_descriptor(uint8_t *p, const struct tt_scsi_cmd *cmd, bool servactv, bool rctd)
{
	memset(p, 0, 8);
	p[0] = cmd->usage[0];
	tt_put_be16(p + 2, servactv ? cmd->sa : 0);
	p[5] = (uint8_t)((rctd ? 0x02 : 0) | (servactv ? 0x01 : 0)); /* CTDP, SERVACTV */
	tt_put_be16(p + 6, cmd->cdb_len);
	return 8 + (rctd ? put_timeouts(p + 8) : 0);
}

/* One command (reporting options 001b..011b): SUPPORT 011b with its usage data, or 001b. */
static size_t put_one(uint8_t *p, const struct tt_scsi_cmd *cmd, bool rctd)
{
	size_t n = 4;

	memset(p, 0, 4);
	if (!cmd) {
		p[1] = 0x01; /* not supported */
		return n;
	}
	p[1] = (uint8_t)((rctd ? 0x80 : 0) | 0x03);
	tt_put_be16(p + 2, cmd->cdb_len);
	memcpy(p + 4, cmd->usage, cmd->cdb_len);
	n += cmd->cdb_len;
	if (rctd)
		n += put_timeouts(p + n);
	return n;
}

enum tt_exec_rc tt_spc_report_supported_opcodes(struct tt_scsi_task *task)
{
	const uint8_t *cdb = task->cdb;
	bool rctd = cdb[2] & 0x80;
	uint8_t options = cdb[2] & 0x07, opcode = cdb[3];
	uint16_t sa = tt_get_be16(cdb + 4);
	uint32_t alloc = tt_get_be32(cdb + 6);
	const struct tt_scsi_cmd *cmd = cmd_table[opcode].name ? &cmd_table[opcode] : NULL;
	uint8_t buf[4096];
	size_t n = 4;

	task->cmd_len = alloc;
	switch (options) {
	case 0: /* all commands */
		for (unsigned op = 0; op < 256; op++) {
			const struct tt_scsi_cmd *c = &cmd_table[op];

			if (!c->name)
				continue;
			if (!c->by_sa) {
				n += put_descriptor(buf + n, c, false, rctd);
				continue;
			}
			for (c = c->by_sa; c->handler; c++)
				n += put_descriptor(buf + n, c, true, rctd);
		}
		tt_put_be32(buf, (uint32_t)(n - 4));
		break;
	case 1: /* an operation code without service actions */
		if (cmd && cmd->by_sa) {
			tt_scsi_invalid_cdb(task, 2, 2);
			return TT_EXEC_DONE;
		}
		n = put_one(buf, cmd, rctd);
		break;
	case 2: /* an operation code and service action */
		if (cmd && !cmd->by_sa) {
			tt_scsi_invalid_cdb(task, 2, 2);
			return TT_EXEC_DONE;
		}
		n = put_one(buf, cmd ? find_sa(cmd->by_sa, sa) : NULL, rctd);
		break;
	case 3: /* either */
		n = put_one(buf, cmd && cmd->by_sa ? find_sa(cmd->by_sa, sa) : cmd, rctd);
		break;
	default:
		tt_scsi_invalid_cdb(task, 2, 2);
		return TT_EXEC_DONE;
	}
	tt_task_data_in(task, buf, (uint32_t)n, alloc);
	return TT_EXEC_DONE;
}
