/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NOP-Out/NOP-In through the fake transport (fake_xport.h), with the fake clock: the keepalive
 * NOP-In after nop_interval of silence, the connection reaped nop_timeout later when nothing
 * answers (also while the transport still holds a task for a posted transfer, which keeps the
 * task and the connection until it lets go), kept when the initiator answers or sends anything,
 * no keepalive when it is off, and
 * a ping from the initiator echoed with its data.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tt_test.h"

#include "fake_xport.h"

#include "target/model.h"

static struct tt_conn *conn_of(struct fx_conn *fc) { return fc->xc.upper; }

/* The keepalive NOP-In: a target ping that does not take a StatSN; returns its TTT. */
static uint32_t pop_keepalive(struct fx_conn *fc)
{
	struct tt_pdu *pdu = fx_pop_op(fc, TT_OP_NOP_IN);
	uint32_t ttt = fx_be32(pdu, 20);

	assert_int_equal(fx_itt(pdu), TT_RSVD_TAG);
	assert_int_not_equal(ttt, TT_RSVD_TAG);
	assert_int_equal(pdu->data_len, 0);
	/* StatSN is the next one, not used up */
	assert_int_equal(fx_stat_sn(pdu), conn_of(fc)->stat_sn);
	fx_free(pdu);
	assert_int_equal(fc->ntx, 0);
	return ttt;
}

static void test_keepalive_reaps_silent_peer(void **state)
{
	struct fx_conn *fc;

	(void)state;
	fx.tpg->nop_interval_ms = 5000;
	fx.tpg->nop_timeout_ms = 3000;
	fc = fx_logged_in(NULL);
	fx_advance_ms(4999);
	assert_int_equal(fc->ntx, 0);
	fx_advance_ms(1);
	pop_keepalive(fc);
	fx_advance_ms(2999);
	assert_false(fc->down);
	fx_advance_ms(1);
	assert_true(fc->down);
	assert_true(fc->released);
	assert_true(tt_list_empty(&fx.target->sessions));
}

/*
 * A silent initiator with a write whose data the transport is still fetching, as iSER's RDMA
 * READ, which holds a task reference until its completion comes back (flushed, once the queue
 * pair is in error): the keepalive ends the connection on time all the same, the transport is
 * shut down at once, and the task with its buffer, and the connection, stay until the transport
 * lets go of the transfer; then the connection is released and the session goes.
 */
static void test_keepalive_reaps_with_transfer_posted(void **state)
{
	struct fx_conn *fc;
	struct tt_task *task;
	struct tt_pdu *pdu;
	uint8_t cdb[16];
	size_t n = fx_cdb_rw10(cdb, true, 0, 4096 / 512);

	(void)state;
	fx.tpg->nop_interval_ms = 2000;
	fx.tpg->nop_timeout_ms = 2000;
	fc = fx_logged_in(NULL);
	fx_cmd(fc, 0x70, fc->cmd_sn++, TT_CMD_WRITE, 4096, cdb, n, NULL, 0);
	pdu = fx_pop_op(fc, TT_OP_R2T);
	fx_free(pdu);
	task = tt_task_find(conn_of(fc), 0x70);
	assert_non_null(task);
	assert_non_null(task->scsi.buf);
	/* the transfer is posted: the transport's reference */
	fc->xc.core->task_get(&task->x);
	fx_advance_ms(2000);
	pop_keepalive(fc);
	fx_advance_ms(1999);
	assert_false(fc->down);
	fx_advance_ms(1);
	assert_true(fc->down);
	assert_true(fc->closed);
	/* the task, its buffer and so the connection are still held by the posted transfer */
	assert_false(fc->released);
	assert_non_null(task->scsi.buf);
	assert_int_equal(task->refs, 1);
	fx_advance_ms(10000);
	assert_false(fc->released);
	/* the flush: the transfer failed, the transport lets go */
	fc->xc.core->data_out_done(&task->x, -ECONNRESET);
	fc->xc.core->task_put(&task->x);
	fx_pump();
	assert_true(fc->released);
	assert_int_equal(fc->ntx, 0);
	assert_true(tt_list_empty(&fx.target->sessions));
}

static void test_keepalive_answered(void **state)
{
	struct fx_conn *fc;
	uint32_t ttt, ttt2;

	(void)state;
	fx.tpg->nop_interval_ms = 5000;
	fx.tpg->nop_timeout_ms = 5000;
	fc = fx_logged_in(NULL);
	fx_advance_ms(5000);
	ttt = pop_keepalive(fc);
	/* the answer: ITT reserved, the ping's TTT, immediate; nothing comes back for it */
	fx_advance_ms(1000);
	fx_nop_out(fc, TT_RSVD_TAG, ttt, fc->cmd_sn, true, NULL, 0);
	assert_int_equal(fc->ntx, 0);
	assert_false(conn_of(fc)->nop_outstanding);
	/* the next interval counts from the answer */
	fx_advance_ms(4000);
	assert_false(fc->down);
	assert_int_equal(fc->ntx, 0);
	fx_advance_ms(999);
	assert_int_equal(fc->ntx, 0);
	fx_advance_ms(1);
	ttt2 = pop_keepalive(fc);
	assert_int_not_equal(ttt2, ttt);
	/* an answer to an older ping does not count */
	fx_nop_out(fc, TT_RSVD_TAG, ttt, fc->cmd_sn, true, NULL, 0);
	assert_true(conn_of(fc)->nop_outstanding);
	assert_false(fc->down);
}

static void test_traffic_keeps_alive(void **state)
{
	struct fx_conn *fc;

	(void)state;
	fx.tpg->nop_interval_ms = 5000;
	fx.tpg->nop_timeout_ms = 1000;
	fc = fx_logged_in(NULL);
	for (int i = 0; i < 10; i++) {
		fx_advance_ms(3000);
		fx_free(fx_tur(fc, 0x100 + (uint32_t)i));
		assert_int_equal(fc->ntx, 0);
	}
	assert_false(fc->down);
	/* silence again: a ping, then the reaping */
	fx_advance_ms(5000);
	pop_keepalive(fc);
	fx_advance_ms(1000);
	assert_true(fc->down);
}

static void test_keepalive_off(void **state)
{
	struct fx_conn *fc;

	(void)state;
	fx.tpg->nop_interval_ms = 0;
	fc = fx_logged_in(NULL);
	for (int i = 0; i < 12; i++)
		fx_advance_ms(5000);
	assert_int_equal(fc->ntx, 0);
	assert_false(fc->down);
}

static void test_ping_echo(void **state)
{
	static const char ping[] = "ping-data-1234567"; /* 17 bytes: padded on the wire */
	struct fx_conn *fc = fx_logged_in(NULL);
	struct tt_pdu *pdu;
	uint32_t stat;

	(void)state;
	fx_nop_out(fc, 0x42, TT_RSVD_TAG, fc->cmd_sn++, false, ping, sizeof(ping) - 1);
	pdu = fx_pop_op(fc, TT_OP_NOP_IN);
	assert_int_equal(fx_itt(pdu), 0x42);
	assert_int_equal(fx_be32(pdu, 20), TT_RSVD_TAG);
	assert_true(pdu->bhs.flags & TT_FLAG_FINAL);
	assert_int_equal(pdu->data_len, sizeof(ping) - 1);
	assert_int_equal(tt_bhs_dlength(&pdu->bhs), sizeof(ping) - 1);
	assert_memory_equal(pdu->data, ping, sizeof(ping) - 1);
	/* an answer to the initiator takes a StatSN, and its CmdSN moved the window */
	stat = fx_stat_sn(pdu);
	assert_int_equal(conn_of(fc)->stat_sn, stat + 1);
	assert_int_equal(fx_exp_cmd_sn(pdu), fc->cmd_sn);
	fx_free(pdu);

	/* an immediate ping with no data */
	fx_nop_out(fc, 0x43, TT_RSVD_TAG, fc->cmd_sn, true, NULL, 0);
	pdu = fx_pop_op(fc, TT_OP_NOP_IN);
	assert_int_equal(fx_itt(pdu), 0x43);
	assert_int_equal(pdu->data_len, 0);
	assert_int_equal(fx_stat_sn(pdu), stat + 1);
	fx_free(pdu);

	/* a ping from the initiator cannot carry a TTT: rejected, the connection stays */
	fx_nop_out(fc, 0x44, 0x1234, fc->cmd_sn, true, NULL, 0);
	pdu = fx_pop_op(fc, TT_OP_REJECT);
	assert_int_equal(pdu->raw[2], TT_REJECT_PROTOCOL_ERROR);
	fx_free(pdu);
	assert_false(fc->down);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_keepalive_reaps_silent_peer, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_keepalive_reaps_with_transfer_posted, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_keepalive_answered, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_traffic_keeps_alive, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_keepalive_off, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_ping_echo, fx_setup, fx_teardown),
	};
	int rc;

	if (fx_init() != 0)
		return 1;
	rc = tt_run_group("nop_test", tests, NULL, NULL);
	fx_fini();
	return rc;
}
