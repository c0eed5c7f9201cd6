/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Logout through the fake transport (fake_xport.h): closing the session or the connection is
 * answered, and the connection closes only once the transport is finished with the response;
 * a CID that is not in the session; connection recovery, which ERL 0 does not offer; a response
 * the transport drops; a second Logout Request on the closing connection (a Reject).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tt_test.h"

#include "fake_xport.h"

#include "target/model.h"

static struct tt_conn *conn_of(struct fx_conn *fc) { return fc->xc.upper; }

static unsigned nsessions(void)
{
	struct tt_list *n;
	unsigned count = 0;

	tt_list_for_each(n, &fx.target->sessions)
		count++;
	return count;
}

static struct tt_pdu *pop_logout(struct fx_conn *fc, uint32_t itt, uint8_t response)
{
	struct tt_pdu *rsp = fx_pop_op(fc, TT_OP_LOGOUT_RSP);
	const struct tt_bhs_logout_rsp *r = (const struct tt_bhs_logout_rsp *)rsp->raw;

	assert_int_equal(fx_itt(rsp), itt);
	assert_true(r->flags & TT_FLAG_FINAL);
	assert_int_equal(r->response, response);
	return rsp;
}

/* The response went out: the connection closes, and the session (ERL 0, one connection) ends. */
static void assert_closes_after(struct fx_conn *fc, struct tt_pdu *rsp)
{
	assert_int_equal(conn_of(fc)->state, TT_CONN_IN_LOGOUT);
	assert_false(fc->down);
	assert_int_equal(nsessions(), 1);
	fx_free(rsp);
	assert_true(fc->down);
	assert_true(fc->closed);
	assert_true(fc->released);
	assert_int_equal(fc->dropped, 0);
	assert_int_equal(nsessions(), 0);
}

static void test_logout_session(void **state)
{
	struct fx_conn *fc = fx_logged_in(NULL);
	uint8_t cdb[16];
	size_t n = fx_cdb_rw10(cdb, true, 0, 16);
	struct tt_pdu *rsp;
	uint32_t stat = conn_of(fc)->stat_sn;

	(void)state;
	/* a write still waiting for its data goes with the session */
	fx_cmd(fc, 0x60, fc->cmd_sn++, TT_CMD_WRITE, 8192, cdb, n, NULL, 0);
	fx_free(fx_pop_op(fc, TT_OP_R2T));
	fx_logout(fc, 0x61, TT_LOGOUT_CLOSE_SESSION, 0, fc->cmd_sn);
	rsp = pop_logout(fc, 0x61, TT_LOGOUT_RSP_OK);
	assert_int_equal(fx_stat_sn(rsp), stat);
	assert_int_equal(fx_exp_cmd_sn(rsp), fc->cmd_sn);
	assert_int_equal(fc->ntx, 0);
	assert_closes_after(fc, rsp);
}

static void test_logout_connection(void **state)
{
	struct fx_conn *fc = fx_logged_in(NULL);

	(void)state;
	fx_logout(fc, 0x62, TT_LOGOUT_CLOSE_CONN, conn_of(fc)->cid, fc->cmd_sn);
	assert_closes_after(fc, pop_logout(fc, 0x62, TT_LOGOUT_RSP_OK));
}

static void test_logout_unknown_cid(void **state)
{
	struct fx_conn *fc = fx_logged_in(NULL);

	(void)state;
	fx_logout(fc, 0x63, TT_LOGOUT_CLOSE_CONN, (uint16_t)(conn_of(fc)->cid + 9), fc->cmd_sn);
	fx_free(pop_logout(fc, 0x63, TT_LOGOUT_RSP_NO_CID));
	assert_false(fc->down);
	assert_int_equal(conn_of(fc)->state, TT_CONN_LOGGED_IN);
	fx_free(fx_tur(fc, 0x64));
}

static void test_logout_for_recovery(void **state)
{
	struct fx_conn *fc = fx_logged_in(NULL);
	struct tt_pdu *rsp;
	const struct tt_bhs_logout_rsp *r;

	(void)state;
	fx_logout(fc, 0x65, TT_LOGOUT_REMOVE_CONN, conn_of(fc)->cid, fc->cmd_sn);
	rsp = pop_logout(fc, 0x65, TT_LOGOUT_RSP_NO_RECOVERY);
	r = (const struct tt_bhs_logout_rsp *)rsp->raw;
	assert_int_equal(tt_get_be16(r->time2wait), 2);
	assert_int_equal(tt_get_be16(r->time2retain), 20);
	fx_free(rsp);
	assert_false(fc->down);
	assert_int_equal(conn_of(fc)->state, TT_CONN_LOGGED_IN);
}

static void test_logout_response_dropped(void **state)
{
	struct fx_conn *fc = fx_logged_in(NULL);

	(void)state;
	/* the peer resets before the response goes out: the transport drops it, and the session
	 * ends all the same */
	fx_logout(fc, 0x66, TT_LOGOUT_CLOSE_SESSION, 0, fc->cmd_sn);
	assert_int_equal(fc->ntx, 1);
	fx_peer_close(fc, -ECONNRESET);
	assert_int_equal(fc->dropped, 1);
	assert_true(fc->released);
	assert_int_equal(nsessions(), 0);
}

static void test_logout_twice(void **state)
{
	struct fx_conn *fc = fx_logged_in(NULL);
	struct tt_pdu *rsp, *rej;

	(void)state;
	/* the second Logout Request arrives before the first response went out: a Reject, no
	 * second Logout Response, and the connection still closes after the first */
	fx_logout(fc, 0x67, TT_LOGOUT_CLOSE_SESSION, 0, fc->cmd_sn);
	rsp = pop_logout(fc, 0x67, TT_LOGOUT_RSP_OK);
	fx_logout(fc, 0x68, TT_LOGOUT_CLOSE_CONN, conn_of(fc)->cid, fc->cmd_sn);
	rej = fx_pop_op(fc, TT_OP_REJECT);
	assert_int_equal(rej->raw[2], TT_REJECT_PROTOCOL_ERROR);
	fx_free(rej);
	assert_int_equal(fc->ntx, 0);
	assert_closes_after(fc, rsp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_logout_session, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_logout_connection, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_logout_unknown_cid, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_logout_for_recovery, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_logout_response_dropped, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_logout_twice, fx_setup, fx_teardown),
	};
	int rc;

	if (fx_init() != 0)
		return 1;
	rc = tt_run_group("logout_test", tests, NULL, NULL);
	fx_fini();
	return rc;
}
