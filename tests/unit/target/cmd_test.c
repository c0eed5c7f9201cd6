/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SCSI commands through the fake transport (fake_xport.h), which cuts Data-In and R2Ts as TCP does
 * with the core's builders: R2Ts that honour MaxBurstLength and MaxOutstandingR2T, Data-Out
 * placement, Data-Out with a wrong DataSN or offset (DATA PHASE ERROR, the connection stays),
 * immediate data within FirstBurstLength, and reads: Data-In cut at the initiator's
 * MaxRecvDataSegmentLength in MaxBurstLength sequences with DataSN numbering and the status in
 * the last PDU, residuals, and a CHECK CONDITION that cannot ride in a Data-In.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tt_test.h"

#include "fake_xport.h"

#include "base/log.h"
#include "target/model.h"

#define BLOCK 512u

static uint8_t pattern[65536];

static void fill_pattern(uint32_t seed)
{
	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i * 7 + seed + (i >> 9));
}

/* A session with MaxRecvDataSegmentLength 4096 (ours), MaxBurstLength 8192, InitialR2T=Yes,
 * ImmediateData=No and MaxOutstandingR2T 2. */
static struct fx_conn *session(void)
{
	fx.tpg->params.max_outstanding_r2t = 4;
	return fx_logged_in(NULL);
}

static uint32_t ttt_of(const struct tt_pdu *r2t) { return fx_be32(r2t, 20); }

/* The next queued PDU is an R2T for @itt with these numbers; returns its TTT. */
static uint32_t pop_r2t(struct fx_conn *fc, uint32_t itt, uint32_t r2t_sn, uint32_t offset,
			uint32_t len)
{
	struct tt_pdu *r2t = fx_pop_op(fc, TT_OP_R2T);
	uint32_t ttt = ttt_of(r2t);

	assert_int_equal(fx_itt(r2t), itt);
	assert_int_not_equal(ttt, TT_RSVD_TAG);
	assert_true(r2t->bhs.flags & TT_FLAG_FINAL);
	assert_int_equal(fx_be32(r2t, 36), r2t_sn);
	assert_int_equal(fx_be32(r2t, 40), offset);
	assert_int_equal(fx_be32(r2t, 44), len);
	assert_int_equal(r2t->data_len, 0);
	fx_free(r2t);
	return ttt;
}

/* One R2T's worth of data, in Data-Out PDUs of at most 4096 bytes (DataSN from 0). */
static void send_burst(struct fx_conn *fc, uint32_t itt, uint32_t ttt, uint32_t offset, uint32_t len)
{
	uint32_t sn = 0;

	for (uint32_t done = 0; done < len; done += 4096, sn++) {
		uint32_t n = len - done < 4096 ? len - done : 4096;

		fx_data_out(fc, itt, ttt, sn, offset + done, done + n == len, pattern + offset + done, n);
	}
}

static struct tt_pdu *pop_rsp(struct fx_conn *fc, uint32_t itt, uint8_t status)
{
	struct tt_pdu *rsp = fx_pop_op(fc, TT_OP_SCSI_RSP);
	const struct tt_bhs_scsi_rsp *r = (const struct tt_bhs_scsi_rsp *)rsp->raw;

	assert_int_equal(fx_itt(rsp), itt);
	assert_int_equal(r->response, 0);
	assert_int_equal(r->status, status);
	return rsp;
}

static void test_write_r2t_then_read(void **state)
{
	struct fx_conn *fc = session();
	uint8_t cdb[16];
	size_t n = fx_cdb_rw10(cdb, true, 8, 32768 / BLOCK);
	uint32_t ttt, stat;
	struct tt_pdu *pdu;
	uint32_t off = 0;

	(void)state;
	fill_pattern(1);
	assert_int_equal(fc->params.max_outstanding_r2t, 2);
	assert_int_equal(fc->params.max_burst, 8192);

	/* 32 KiB, no unsolicited data: two R2Ts of MaxBurstLength at first, no more */
	fx_cmd(fc, 0x20, fc->cmd_sn++, TT_CMD_WRITE, 32768, cdb, n, NULL, 0);
	ttt = pop_r2t(fc, 0x20, 0, 0, 8192);
	assert_int_equal(pop_r2t(fc, 0x20, 1, 8192, 8192), ttt);
	assert_int_equal(fc->ntx, 0);
	/* each completed burst lets one more R2T go */
	send_burst(fc, 0x20, ttt, 0, 8192);
	pop_r2t(fc, 0x20, 2, 16384, 8192);
	assert_int_equal(fc->ntx, 0);
	send_burst(fc, 0x20, ttt, 8192, 8192);
	pop_r2t(fc, 0x20, 3, 24576, 8192);
	assert_int_equal(fc->ntx, 0);
	send_burst(fc, 0x20, ttt, 16384, 8192);
	assert_int_equal(fc->ntx, 0);
	send_burst(fc, 0x20, ttt, 24576, 8192);
	pdu = pop_rsp(fc, 0x20, TT_SAM_GOOD);
	assert_int_equal(fx_be32(pdu, 36), 4); /* ExpDataSN: the R2Ts sent */
	assert_false(pdu->bhs.flags & (TT_RSP_UNDERFLOW | TT_RSP_OVERFLOW));
	stat = fx_stat_sn(pdu);
	fx_free(pdu);

	/* read it back: Data-In of 4096 bytes (our MaxRecvDataSegmentLength), F at the end of each
	 * 8192-byte sequence, DataSN counting, the status in the last one and no SCSI Response */
	n = fx_cdb_rw10(cdb, false, 8, 32768 / BLOCK);
	fx_cmd(fc, 0x21, fc->cmd_sn++, TT_CMD_READ, 32768, cdb, n, NULL, 0);
	for (uint32_t sn = 0; sn < 8; sn++, off += 4096) {
		const struct tt_bhs_data_in *d;
		bool last = sn == 7;

		pdu = fx_pop_op(fc, TT_OP_DATA_IN);
		d = (const struct tt_bhs_data_in *)pdu->raw;
		assert_int_equal(fx_itt(pdu), 0x21);
		assert_int_equal(fx_be32(pdu, 20), TT_RSVD_TAG);
		assert_int_equal(tt_get_be32(d->datasn), sn);
		assert_int_equal(tt_get_be32(d->offset), off);
		assert_int_equal(pdu->data_len, 4096);
		assert_memory_equal(pdu->data, pattern + off, 4096);
		assert_int_equal(!!(d->flags & TT_FLAG_FINAL), sn % 2 == 1);
		assert_int_equal(!!(d->flags & TT_DATAIN_STATUS), last);
		if (last) {
			assert_int_equal(d->status, TT_SAM_GOOD);
			assert_int_equal(tt_get_be32(d->residual), 0);
			assert_false(d->flags & (TT_RSP_UNDERFLOW | TT_RSP_OVERFLOW));
			/* the only Data-In that takes a StatSN */
			assert_int_equal(tt_get_be32(d->statsn), stat + 1);
		}
		fx_free(pdu);
	}
	assert_int_equal(fc->ntx, 0);
	pdu = fx_tur(fc, 0x22);
	assert_int_equal(fx_stat_sn(pdu), stat + 2);
	fx_free(pdu);
}

static void test_read_residual(void **state)
{
	struct fx_conn *fc = session();
	uint8_t cdb[16];
	size_t n = fx_cdb_rw10(cdb, false, 0, 1);
	struct tt_pdu *pdu;
	const struct tt_bhs_data_in *d;

	(void)state;
	/* one block read with an expected length of two: underflow of 512 in the status */
	fx_cmd(fc, 0x30, fc->cmd_sn++, TT_CMD_READ, 2 * BLOCK, cdb, n, NULL, 0);
	pdu = fx_pop_op(fc, TT_OP_DATA_IN);
	d = (const struct tt_bhs_data_in *)pdu->raw;
	assert_int_equal(pdu->data_len, BLOCK);
	assert_int_equal(tt_get_be32(d->datasn), 0);
	assert_int_equal(d->flags & (TT_FLAG_FINAL | TT_DATAIN_STATUS | TT_RSP_UNDERFLOW),
			 TT_FLAG_FINAL | TT_DATAIN_STATUS | TT_RSP_UNDERFLOW);
	assert_int_equal(tt_get_be32(d->residual), BLOCK);
	fx_free(pdu);
	assert_int_equal(fc->ntx, 0);
}

static void test_read_check_condition(void **state)
{
	struct fx_conn *fc = session();
	uint8_t cdb[16];
	size_t n = fx_cdb_rw10(cdb, false, (1u << 20) / BLOCK, 1); /* just past the end of 1 MiB */
	struct tt_pdu *pdu;

	(void)state;
	/* sense data cannot ride in a Data-In: a SCSI Response, and no data */
	fx_cmd(fc, 0x31, fc->cmd_sn++, TT_CMD_READ, BLOCK, cdb, n, NULL, 0);
	pdu = fx_pop_op(fc, TT_OP_SCSI_RSP);
	fx_assert_check(pdu, 0x31, TT_SK_ILLEGAL_REQUEST, 0x21, 0x00);
	assert_true(pdu->bhs.flags & TT_RSP_UNDERFLOW);
	assert_int_equal(fx_be32(pdu, 44), BLOCK);
	fx_free(pdu);
	assert_int_equal(fc->ntx, 0);
}

/* A write of 8 KiB whose Data-Out is wrong at (@data_sn, @offset): DATA PHASE ERROR, the rest of
 * its data is discarded, and the connection goes on. */
static void bad_data_out(uint32_t data_sn, uint32_t offset)
{
	struct fx_conn *fc = session();
	uint8_t cdb[16];
	size_t n = fx_cdb_rw10(cdb, true, 0, 8192 / BLOCK);
	struct tt_pdu *pdu;
	uint32_t ttt;

	fill_pattern(2);
	fx_cmd(fc, 0x40, fc->cmd_sn++, TT_CMD_WRITE, 8192, cdb, n, NULL, 0);
	ttt = pop_r2t(fc, 0x40, 0, 0, 8192);
	fx_data_out(fc, 0x40, ttt, data_sn, offset, false, pattern + offset, 4096);
	pdu = fx_pop_op(fc, TT_OP_SCSI_RSP);
	fx_assert_check(pdu, 0x40, TT_SK_ABORTED_COMMAND, 0x4b, 0x00);
	fx_free(pdu);
	assert_false(fc->down);
	/* the rest of the burst is for a task that is gone: dropped silently */
	fx_data_out(fc, 0x40, ttt, 1, 4096, true, pattern + 4096, 4096);
	assert_int_equal(fc->ntx, 0);
	assert_false(fc->down);
	assert_int_equal(((struct tt_conn *)fc->xc.upper)->ntasks, 0);
	/* and nothing of it was written */
	n = fx_cdb_rw10(cdb, false, 0, 1);
	fx_cmd(fc, 0x41, fc->cmd_sn++, TT_CMD_READ, BLOCK, cdb, n, NULL, 0);
	pdu = fx_pop_op(fc, TT_OP_DATA_IN);
	for (uint32_t i = 0; i < BLOCK; i++)
		assert_int_equal(pdu->data[i], 0);
	fx_free(pdu);
}

static void test_data_out_wrong_datasn(void **state)
{
	(void)state;
	bad_data_out(1, 0);
}

static void test_data_out_wrong_offset(void **state)
{
	(void)state;
	bad_data_out(0, 512);
}

static void test_data_out_digest_error(void **state)
{
	struct fx_conn *fc = session();
	uint8_t cdb[16];
	size_t n = fx_cdb_rw10(cdb, true, 0, 8192 / BLOCK);
	uint8_t bhs[TT_BHS_LEN] = { 0 };
	struct tt_bhs_data_out *d = (struct tt_bhs_data_out *)bhs;
	struct tt_pdu *pdu;
	uint32_t ttt;

	(void)state;
	fill_pattern(3);
	fx_cmd(fc, 0x50, fc->cmd_sn++, TT_CMD_WRITE, 8192, cdb, n, NULL, 0);
	ttt = pop_r2t(fc, 0x50, 0, 0, 8192);
	d->opcode = TT_OP_DATA_OUT;
	tt_put_be32(d->itt, 0x50);
	tt_put_be32(d->ttt, ttt);
	tt_put_be32(d->datasn, 0);
	tt_put_be32(d->offset, 0);
	fx_rx_bad_digest(fc, bhs, pattern, 4096);
	/* a Reject of the PDU, then the command ends with PROTOCOL SERVICE CRC ERROR */
	pdu = fx_pop_op(fc, TT_OP_REJECT);
	assert_int_equal(pdu->raw[2], TT_REJECT_DIGEST_ERROR);
	assert_int_equal(pdu->data_len, TT_BHS_LEN);
	assert_int_equal(pdu->data[0], TT_OP_DATA_OUT); /* the rejected header */
	assert_memory_equal(pdu->data + 16, bhs + 16, TT_BHS_LEN - 16);
	fx_free(pdu);
	pdu = fx_pop_op(fc, TT_OP_SCSI_RSP);
	fx_assert_check(pdu, 0x50, TT_SK_ABORTED_COMMAND, 0x47, 0x05);
	fx_free(pdu);
	assert_false(fc->down);
}

static void test_immediate_data(void **state)
{
	struct fx_conn *fc;
	uint8_t cdb[16];
	size_t n = fx_cdb_rw10(cdb, true, 100, 8192 / BLOCK);
	struct tt_pdu *pdu;
	uint32_t ttt;

	(void)state;
	fill_pattern(4);
	fc = fx_logged_in("MaxRecvDataSegmentLength=4096\nInitialR2T=Yes\nImmediateData=Yes\n"
			  "MaxBurstLength=8192\nFirstBurstLength=4096\nMaxOutstandingR2T=1");
	/* 4096 bytes ride with the command (FirstBurstLength): one R2T fetches the rest */
	fx_cmd(fc, 0x60, fc->cmd_sn++, TT_CMD_WRITE, 8192, cdb, n, pattern, 4096);
	ttt = pop_r2t(fc, 0x60, 0, 4096, 4096);
	assert_int_equal(fc->ntx, 0);
	send_burst(fc, 0x60, ttt, 4096, 4096);
	pdu = pop_rsp(fc, 0x60, TT_SAM_GOOD);
	fx_free(pdu);
	n = fx_cdb_rw10(cdb, false, 100, 8192 / BLOCK);
	fx_cmd(fc, 0x61, fc->cmd_sn++, TT_CMD_READ, 8192, cdb, n, NULL, 0);
	for (uint32_t off = 0; off < 8192; off += 4096) {
		pdu = fx_pop_op(fc, TT_OP_DATA_IN);
		assert_memory_equal(pdu->data, pattern + off, 4096);
		fx_free(pdu);
	}

	/* more immediate data than FirstBurstLength: the command is rejected, no R2T */
	n = fx_cdb_rw10(cdb, true, 100, 16384 / BLOCK);
	fx_cmd(fc, 0x62, fc->cmd_sn, TT_CMD_WRITE, 16384, cdb, n, pattern, 8192);
	assert_false(fc->down);
	pdu = fx_pop_op(fc, TT_OP_REJECT);
	assert_int_equal(pdu->raw[2], TT_REJECT_PROTOCOL_ERROR);
	assert_int_equal(fx_be32(pdu, 16), TT_RSVD_TAG);
	assert_int_equal(tt_get_be32(pdu->data + 16), 0x62); /* the rejected header */
	fx_free(pdu);
	assert_int_equal(fc->ntx, 0);
	assert_int_equal(((struct tt_conn *)fc->xc.upper)->ntasks, 0);
	/* its CmdSN was not taken (RFC 7143 §11.17.1): a command with it plugs the gap */
	pdu = fx_tur(fc, 0x63);
	assert_int_equal(((const struct tt_bhs_scsi_rsp *)pdu->raw)->status, TT_SAM_GOOD);
	assert_int_equal(fx_exp_cmd_sn(pdu), fc->cmd_sn);
	fx_free(pdu);
}

/*
 * The transport refuses a task's response: over iSER, a flushed or failed RDMA READ comes back
 * while the RDMA connection drains and before the core has heard of the close, so that a
 * response queued then is refused (-ENOTCONN). The refusal fails the connection, which aborts
 * the task inside its own response, which must neither free it under the response's feet (the
 * list's reference was the last; under ASan the pool's double release shows as a leak) nor end
 * it twice: the connection is released and the session goes.
 */
static void test_response_refused_by_transport(void **state)
{
	struct fx_conn *fc = session();
	struct tt_task *task;
	uint8_t cdb[16];
	size_t n = fx_cdb_rw10(cdb, true, 0, 4096 / BLOCK);
	FILE *log = tmpfile();
	char line[512];
	bool refused = false, twice = false;

	(void)state;
	assert_non_null(log);
	fx_cmd(fc, 0x70, fc->cmd_sn++, TT_CMD_WRITE, 4096, cdb, n, NULL, 0);
	pop_r2t(fc, 0x70, 0, 0, 4096);
	task = tt_task_find(fc->xc.upper, 0x70);
	assert_non_null(task);
	fc->refuse = true;
	tt_log_set_fd(fileno(log));
	/* the write data could not be fetched: the command fails, its response is refused */
	fc->xc.core->data_out_done(&task->x, -EIO);
	fx_pump();
	tt_log_set_fd(2);
	rewind(log);
	while (fgets(line, sizeof(line), log)) {
		fputs(line, stderr);
		refused |= strstr(line, "closing: transport refused a PDU") != NULL;
		twice |= strstr(line, "bad state change") != NULL;
	}
	fclose(log);
	assert_true(refused);
	assert_false(twice);
	assert_true(fc->down);
	assert_true(fc->released);
	assert_true(tt_list_empty(&fx.target->sessions));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_r2t_then_read, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_read_residual, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_read_check_condition, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_data_out_wrong_datasn, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_data_out_wrong_offset, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_data_out_digest_error, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_immediate_data, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_response_refused_by_transport, fx_setup,
						fx_teardown),
	};
	int rc;

	if (fx_init() != 0)
		return 1;
	rc = tt_run_group("cmd_test", tests, NULL, NULL);
	fx_fini();
	return rc;
}
