/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Task management through the fake transport (fake_xport.h): ABORT TASK on a task that is done,
 * one that never arrived and one waiting for its write data; LOGICAL UNIT RESET (its response,
 * the tasks it ends, the unit attention afterwards for this and other sessions) and functions
 * that are not supported.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tt_test.h"

#include "fake_xport.h"

#include "target/model.h"

#define BLOCK 512u

/* The next queued PDU is a TMF response for @itt with @response. */
static void pop_tmf(struct fx_conn *fc, uint32_t itt, uint8_t response)
{
	struct tt_pdu *rsp = fx_pop_op(fc, TT_OP_TMF_RSP);
	const struct tt_bhs_tmf_rsp *r = (const struct tt_bhs_tmf_rsp *)rsp->raw;

	assert_int_equal(fx_itt(rsp), itt);
	assert_true(r->flags & TT_FLAG_FINAL);
	assert_int_equal(r->response, response);
	assert_int_equal(fx_exp_cmd_sn(rsp), ((struct tt_conn *)fc->xc.upper)->sess->exp_cmd_sn);
	fx_free(rsp);
}

/* A write of 8 KiB that waits for its data (its R2T taken). */
static void write_waiting(struct fx_conn *fc, uint32_t itt)
{
	uint8_t cdb[16];
	size_t n = fx_cdb_rw10(cdb, true, 0, 8192 / BLOCK);

	fx_cmd(fc, itt, fc->cmd_sn++, TT_CMD_WRITE, 8192, cdb, n, NULL, 0);
	fx_free(fx_pop_op(fc, TT_OP_R2T));
	assert_int_equal(fc->ntx, 0);
}

static void test_abort_task(void **state)
{
	struct fx_conn *fc = fx_logged_in(NULL);
	uint8_t cdb[16];
	size_t n = fx_cdb_rw10(cdb, false, 0, 1);
	uint32_t read_sn = fc->cmd_sn++;
	struct tt_pdu *pdu;
	static const uint8_t zero[4096];

	(void)state;
	/* a read that has completed */
	fx_cmd(fc, 0x10, read_sn, TT_CMD_READ, BLOCK, cdb, n, NULL, 0);
	pdu = fx_pop_op(fc, TT_OP_DATA_IN);
	assert_true(pdu->bhs.flags & TT_DATAIN_STATUS);
	fx_free(pdu);
	fx_tmf(fc, 0x11, TT_TMF_ABORT_TASK, 0, 0x10, fc->cmd_sn, read_sn);
	pop_tmf(fc, 0x11, TT_TMF_RSP_NO_TASK);

	/* one that never arrived (its CmdSN is still ahead): counts as aborted */
	fx_tmf(fc, 0x12, TT_TMF_ABORT_TASK, 0, 0x99, fc->cmd_sn, fc->cmd_sn);
	pop_tmf(fc, 0x12, TT_TMF_RSP_COMPLETE);

	/* one waiting for its data: aborted, never answered, its late data dropped */
	write_waiting(fc, 0x13);
	assert_int_equal(((struct tt_conn *)fc->xc.upper)->ntasks, 1);
	fx_tmf(fc, 0x14, TT_TMF_ABORT_TASK, 0, 0x13, fc->cmd_sn, fc->cmd_sn - 1);
	pop_tmf(fc, 0x14, TT_TMF_RSP_COMPLETE);
	assert_int_equal(((struct tt_conn *)fc->xc.upper)->ntasks, 0);
	fx_data_out(fc, 0x13, TT_RSVD_TAG - 1, 0, 0, true, zero, 4096);
	assert_int_equal(fc->ntx, 0);
	/* a task on another LUN than the one named: no such task */
	write_waiting(fc, 0x15);
	fx_tmf(fc, 0x16, TT_TMF_ABORT_TASK, 3, 0x15, fc->cmd_sn, fc->cmd_sn - 1);
	pop_tmf(fc, 0x16, TT_TMF_RSP_NO_TASK);
	assert_int_equal(((struct tt_conn *)fc->xc.upper)->ntasks, 1);
	assert_false(fc->down);
}

static void test_lun_reset(void **state)
{
	static const uint8_t isid2[6] = { 0x80, 0, 0, 0, 0x77, 0x02 };
	struct fx_conn *fc = fx_logged_in(NULL), *other;
	struct tt_pdu *rsp;

	(void)state;
	other = fx_logged_in_isid(NULL, isid2);
	rsp = fx_tur(fc, 0x20);
	assert_int_equal(((const struct tt_bhs_scsi_rsp *)rsp->raw)->status, TT_SAM_GOOD);
	fx_free(rsp);
	/* a write of this session waits for its data: the reset ends it */
	write_waiting(fc, 0x21);

	fx_tmf(fc, 0x22, TT_TMF_LU_RESET, 0, TT_RSVD_TAG, fc->cmd_sn, fc->cmd_sn);
	pop_tmf(fc, 0x22, TT_TMF_RSP_COMPLETE);
	assert_int_equal(fc->ntx, 0); /* nothing for the ended write */
	assert_int_equal(((struct tt_conn *)fc->xc.upper)->ntasks, 0);

	/* afterwards, every nexus of the LUN is told once: LOGICAL UNIT RESET OCCURRED */
	rsp = fx_tur(fc, 0x23);
	fx_assert_check(rsp, 0x23, TT_SK_UNIT_ATTENTION, 0x29, 0x03);
	fx_free(rsp);
	rsp = fx_tur(fc, 0x24);
	assert_int_equal(((const struct tt_bhs_scsi_rsp *)rsp->raw)->status, TT_SAM_GOOD);
	fx_free(rsp);
	rsp = fx_tur(other, 0x25);
	fx_assert_check(rsp, 0x25, TT_SK_UNIT_ATTENTION, 0x29, 0x03);
	fx_free(rsp);

	/* a LUN the session does not have */
	fx_tmf(fc, 0x26, TT_TMF_LU_RESET, 7, TT_RSVD_TAG, fc->cmd_sn, fc->cmd_sn);
	pop_tmf(fc, 0x26, TT_TMF_RSP_NO_LUN);
	assert_false(fc->down);
	assert_false(other->down);
}

static void test_unsupported_functions(void **state)
{
	struct fx_conn *fc = fx_logged_in(NULL);

	(void)state;
	fx_tmf(fc, 0x30, TT_TMF_TASK_REASSIGN, 0, 0x1, fc->cmd_sn, fc->cmd_sn);
	pop_tmf(fc, 0x30, TT_TMF_RSP_NO_REASSIGN);
	fx_tmf(fc, 0x31, 0x7f, 0, TT_RSVD_TAG, fc->cmd_sn, fc->cmd_sn);
	pop_tmf(fc, 0x31, TT_TMF_RSP_NOT_SUPPORTED);
	assert_false(fc->down);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_abort_task, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_lun_reset, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_unsupported_functions, fx_setup, fx_teardown),
	};
	int rc;

	if (fx_init() != 0)
		return 1;
	rc = tt_run_group("tmf_test", tests, NULL, NULL);
	fx_fini();
	return rc;
}
