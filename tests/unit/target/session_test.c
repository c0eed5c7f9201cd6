/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sessions through the fake transport (fake_xport.h): the command window (ExpCmdSN/MaxCmdSN,
 * commands held until a gap is filled, commands outside the window dropped), session
 * reinstatement, joining a session by TSIH, and the end of a session with its last connection.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tt_test.h"

#include "fake_xport.h"

#include "target/model.h"

static struct tt_session *sess_of(struct fx_conn *fc) { return ((struct tt_conn *)fc->xc.upper)->sess; }

static unsigned nsessions(void)
{
	struct tt_list *n;
	unsigned count = 0;

	tt_list_for_each(n, &fx.target->sessions)
		count++;
	return count;
}

static void tur(struct fx_conn *fc, uint32_t itt, uint32_t cmd_sn)
{
	uint8_t cdb[16];
	size_t n = fx_cdb_tur(cdb);

	fx_cmd(fc, itt, cmd_sn, 0, 0, cdb, n, NULL, 0);
}

/* The next queued PDU is a GOOD SCSI Response for @itt with these numbers (ExpCmdSN between
 * @exp_min and @exp_max: what it is when the response is sent). */
static void assert_good_range(struct fx_conn *fc, uint32_t itt, uint32_t stat_sn, uint32_t exp_min,
			      uint32_t exp_max)
{
	struct tt_pdu *rsp = fx_pop_op(fc, TT_OP_SCSI_RSP);
	const struct tt_bhs_scsi_rsp *r = (const struct tt_bhs_scsi_rsp *)rsp->raw;

	assert_int_equal(fx_itt(rsp), itt);
	assert_int_equal(r->status, TT_SAM_GOOD);
	assert_int_equal(fx_stat_sn(rsp), stat_sn);
	assert_in_range(fx_exp_cmd_sn(rsp), exp_min, exp_max);
	/* a command taken from the window whose status has not gone yet (the held one that ran
	 * meanwhile) still holds its place: MaxCmdSN counts the commands outstanding */
	assert_in_range(fx_max_cmd_sn(rsp), fx_exp_cmd_sn(rsp) + TT_CMD_WINDOW - 2,
			fx_exp_cmd_sn(rsp) + TT_CMD_WINDOW - 1);
	fx_free(rsp);
}

static void assert_good(struct fx_conn *fc, uint32_t itt, uint32_t stat_sn, uint32_t exp_cmd_sn)
{
	assert_good_range(fc, itt, stat_sn, exp_cmd_sn, exp_cmd_sn);
}

static void test_command_window(void **state)
{
	struct fx_conn *fc = fx_logged_in(NULL);
	struct tt_session *s = sess_of(fc);
	struct tt_pdu *rsp;
	uint32_t sn = fc->cmd_sn, stat;

	(void)state;
	/* the login's CmdSN went to the TEST UNIT READY that took the unit attention */
	assert_int_equal(sn, 2);
	assert_int_equal(s->exp_cmd_sn, 2);
	assert_int_equal(s->max_cmd_sn, 2 + TT_CMD_WINDOW - 1);
	stat = ((struct tt_conn *)fc->xc.upper)->stat_sn;

	/* in order: answered, and the window slides */
	tur(fc, 10, 2);
	assert_good(fc, 10, stat++, 3);

	/* CmdSN 4 before 3: held, not executed */
	tur(fc, 12, 4);
	assert_int_equal(fc->ntx, 0);
	assert_int_equal(s->npending, 1);
	assert_int_equal(s->exp_cmd_sn, 3);
	/* a second command with the same CmdSN is dropped */
	tur(fc, 13, 4);
	assert_int_equal(fc->ntx, 0);
	assert_int_equal(s->npending, 1);
	/* an immediate request does not use the window and is answered at once */
	fx_nop_out(fc, 0x55, TT_RSVD_TAG, 3, true, NULL, 0);
	rsp = fx_pop_op(fc, TT_OP_NOP_IN);
	assert_int_equal(fx_itt(rsp), 0x55);
	assert_int_equal(fx_exp_cmd_sn(rsp), 3);
	assert_int_equal(fx_stat_sn(rsp), stat++);
	fx_free(rsp);

	/* the gap is filled: 3 runs, then the held 4 (by the time 3 is answered, 4 may have been
	 * taken from the window too) */
	tur(fc, 11, 3);
	assert_good_range(fc, 11, stat++, 4, 5);
	assert_good(fc, 12, stat++, 5);
	assert_int_equal(fc->ntx, 0); /* nothing for ITT 13 */
	assert_int_equal(s->npending, 0);
	assert_int_equal(s->max_cmd_sn, 5 + TT_CMD_WINDOW - 1);

	/* outside the window, behind it or beyond MaxCmdSN: dropped without an answer */
	tur(fc, 20, 3);
	tur(fc, 21, s->max_cmd_sn + 1);
	tur(fc, 22, 0x80000000u);
	assert_int_equal(fc->ntx, 0);
	assert_int_equal(s->npending, 0);
	assert_int_equal(s->exp_cmd_sn, 5);
	assert_false(fc->down);
	/* MaxCmdSN itself is inside: held */
	tur(fc, 23, s->max_cmd_sn);
	assert_int_equal(s->npending, 1);
	assert_int_equal(fc->ntx, 0);
	/* and the window goes on from where it was */
	tur(fc, 24, 5);
	assert_good(fc, 24, stat++, 6);
	assert_int_equal(fc->ntx, 0);
	/* the held command goes with the session (the teardown checks that nothing leaks) */
}

static void test_reinstatement(void **state)
{
	static const uint8_t isid[6] = { 0x80, 0xaa, 0xbb, 0xcc, 0xdd, 0x01 };
	static const uint8_t other_isid[6] = { 0x80, 0xaa, 0xbb, 0xcc, 0xdd, 0x02 };
	struct fx_conn *old = fx_logged_in_isid(NULL, isid), *other, *fc;
	struct tt_session *s_other;
	uint16_t old_tsih = sess_of(old)->tsih, tsih;
	uint8_t cdb[16];
	size_t n = fx_cdb_rw10(cdb, true, 0, 16);
	struct tt_pdu *rsp;

	(void)state;
	other = fx_logged_in_isid(NULL, other_isid);
	s_other = sess_of(other);
	assert_int_equal(nsessions(), 2);
	/* the old session has a write waiting for its data */
	fx_cmd(old, 0x100, old->cmd_sn++, TT_CMD_WRITE, 8192, cdb, n, NULL, 0);
	rsp = fx_pop_op(old, TT_OP_R2T);
	fx_free(rsp);
	assert_int_equal(((struct tt_conn *)old->xc.upper)->ntasks, 1);

	/* the same initiator and ISID log in again, with TSIH 0 */
	fc = fx_connect();
	rsp = fx_login_isid(fc, FX_INI, FX_TARGET, NULL, isid, 0);
	assert_non_null(rsp);
	assert_int_equal(fx_login_status(rsp), 0);
	tsih = tt_get_be16(((const struct tt_bhs_login_rsp *)rsp->raw)->tsih);
	fx_free(rsp);
	assert_int_not_equal(tsih, old_tsih);
	/* the old session ended (its connection went down) before the new login was answered */
	assert_true(old->down);
	assert_true(old->released);
	assert_true(old->down_seq < fc->last_queue_seq);
	assert_int_equal(nsessions(), 2);
	assert_int_equal(sess_of(fc)->tsih, tsih);
	assert_int_equal(sess_of(fc)->state, TT_SESS_ACTIVE);
	/* another ISID of the same initiator is another session: untouched */
	assert_false(other->down);
	assert_ptr_equal(sess_of(other), s_other);
	assert_int_equal(s_other->state, TT_SESS_ACTIVE);
}

static void test_join_by_tsih(void **state)
{
	static const uint8_t isid[6] = { 0x80, 0, 0, 0, 0x42, 0x01 };
	struct fx_conn *a = fx_logged_in_isid(NULL, isid), *b;
	uint16_t tsih = sess_of(a)->tsih;

	(void)state;
	/* one connection per session is negotiated (MaxConnections=1) */
	b = fx_connect();
	{
		struct tt_pdu *rsp = fx_login_isid(b, FX_INI, FX_TARGET, NULL, isid, tsih);

		assert_int_equal(fx_login_status(rsp), TT_LOGIN_TOO_MANY_CONN);
		fx_free(rsp);
	}
	assert_true(b->released);
	/* a TSIH that names no session of this initiator and ISID */
	b = fx_connect();
	{
		static const uint8_t isid2[6] = { 0x80, 0, 0, 0, 0x42, 0x02 };
		struct tt_pdu *rsp = fx_login_isid(b, FX_INI, FX_TARGET, NULL, isid2, tsih);

		assert_int_equal(fx_login_status(rsp), TT_LOGIN_NO_SESSION);
		fx_free(rsp);
	}
	assert_true(b->released);
	assert_false(a->down);
	assert_int_equal(sess_of(a)->nconns, 1);
}

static void test_last_connection_ends_session(void **state)
{
	struct fx_conn *fc = fx_logged_in(NULL);

	(void)state;
	assert_int_equal(nsessions(), 1);
	fx_peer_close(fc, -ECONNRESET);
	assert_true(fc->closed);
	assert_int_equal(fc->err, -ECONNRESET);
	assert_true(fc->released);
	assert_int_equal(nsessions(), 0);
	assert_int_equal(tt_iscsi_conn_count(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_command_window, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_reinstatement, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_join_by_tsih, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_last_connection_ends_session, fx_setup, fx_teardown),
	};
	int rc;

	if (fx_init() != 0)
		return 1;
	rc = tt_run_group("session_test", tests, NULL, NULL);
	fx_fini();
	return rc;
}
