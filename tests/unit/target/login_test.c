/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Login through the fake transport (fake_xport.h): the response of a successful login (status,
 * TSIH, TargetPortalGroupTag, negotiated keys, sequence numbers, what the transport is told),
 * refusals (unknown target, no TPG on the listener, ACL, missing names), a PDU other than a login
 * before full feature phase, and the login timeout on the fake clock.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tt_test.h"

#include "fake_xport.h"

#include "base/clock.h"
#include "target/model.h"

#define T2 "iqn.2026-11.org.tether:other"
#define INI2 "iqn.1994-05.com.example:host2"

static void assert_key(const struct tt_pdu *rsp, const char *key, const char *want)
{
	char buf[256];
	const char *v = fx_key(rsp, key, buf, sizeof(buf));

	if (!v)
		fail_msg("login response without %s", key);
	if (strcmp(v, want))
		fail_msg("login response %s=%s, expected %s", key, v, want);
}

/* A refused login: the response has the status and no TSIH, and the connection closes only once
 * the transport is finished with that response. */
static void assert_refused(struct fx_conn *fc, struct tt_pdu *rsp, uint16_t status)
{
	const struct tt_bhs_login_rsp *r;

	assert_non_null(rsp);
	r = (const struct tt_bhs_login_rsp *)rsp->raw;
	assert_int_equal(tt_bhs_opcode(&rsp->bhs), TT_OP_LOGIN_RSP);
	assert_int_equal(fx_login_status(rsp), status);
	assert_int_equal(tt_get_be16(r->tsih), 0);
	assert_false(r->flags & TT_LOGIN_TRANSIT);
	assert_int_equal(fx_itt(rsp), 0x1000);
	assert_int_equal(fc->ntx, 0);
	assert_false(fc->down);
	fx_free(rsp);
	assert_true(fc->down);
	assert_true(fc->closed);
	assert_true(fc->released);
	assert_true(tt_list_empty(&fx.target->sessions));
}

static void test_login_success(void **state)
{
	static const uint8_t isid[6] = { 0x80, 0x12, 0x34, 0x56, 0x78, 0x9a };
	struct fx_conn *fc = fx_connect(), *fc2;
	struct tt_pdu *rsp;
	const struct tt_bhs_login_rsp *r;
	struct tt_session *s;
	struct tt_conn *conn;
	uint16_t tsih;

	(void)state;
	/* the login starts only after a PDU: nothing is sent on accept */
	assert_int_equal(fc->queued, 0);
	fc->exp_stat_sn = 77;
	fc->cmd_sn = 1000;
	rsp = fx_login_isid(fc, FX_INI, FX_TARGET, NULL, isid, 0);
	assert_non_null(rsp);
	r = (const struct tt_bhs_login_rsp *)rsp->raw;
	assert_int_equal(tt_bhs_opcode(&rsp->bhs), TT_OP_LOGIN_RSP);
	assert_int_equal(fx_login_status(rsp), TT_LOGIN_SUCCESS);
	assert_int_equal(r->flags, TT_LOGIN_TRANSIT | TT_STAGE_OPERATIONAL << 2 | TT_STAGE_FULL_FEATURE);
	assert_memory_equal(r->isid, isid, 6);
	tsih = tt_get_be16(r->tsih);
	assert_int_not_equal(tsih, 0);
	assert_int_equal(fx_itt(rsp), 0x1000);
	/* StatSN starts at the initiator's ExpStatSN; the window opens at the login's CmdSN */
	assert_int_equal(fx_stat_sn(rsp), 77);
	assert_int_equal(fx_exp_cmd_sn(rsp), 1000);
	assert_int_equal(fx_max_cmd_sn(rsp), 1000 + TT_CMD_WINDOW - 1);
	/* declared and negotiated keys */
	assert_key(rsp, "TargetPortalGroupTag", "5");
	assert_key(rsp, "MaxRecvDataSegmentLength", "262144"); /* the TPG's */
	assert_key(rsp, "MaxBurstLength", "8192");             /* min(8192, 1048576) */
	/* InitialR2T=Yes and ImmediateData=No: no unsolicited data at all (RFC 7143 §13.14) */
	assert_key(rsp, "FirstBurstLength", "Irrelevant");
	assert_key(rsp, "MaxOutstandingR2T", "1");             /* min(2, the TPG's 1) */
	assert_key(rsp, "InitialR2T", "Yes");                  /* OR */
	assert_key(rsp, "ImmediateData", "No");                /* AND */
	assert_key(rsp, "HeaderDigest", "None");
	assert_key(rsp, "ErrorRecoveryLevel", "0");
	assert_int_equal(fc->ntx, 0);
	fx_free(rsp);

	/* full feature phase, and the transport was given the parameters and the keepalive budget */
	conn = fc->xc.upper;
	assert_int_equal(conn->state, TT_CONN_LOGGED_IN);
	assert_int_equal(conn->tpgt, FX_TPGT);
	assert_true(fc->params_applied);
	assert_false(fc->params.header_digest);
	assert_false(fc->params.data_digest);
	assert_int_equal(fc->params.max_xmit_dsl, 4096);
	assert_int_equal(fc->params.max_burst, 8192);
	assert_int_equal(fc->params.max_outstanding_r2t, 1);
	assert_int_equal(fc->timeout_ms, fx.tpg->nop_interval_ms + fx.tpg->nop_timeout_ms);
	s = conn->sess;
	assert_non_null(s);
	assert_int_equal(s->state, TT_SESS_ACTIVE);
	assert_int_equal(s->tsih, tsih);
	assert_int_equal(s->tpgt, FX_TPGT);
	assert_string_equal(s->initiator, FX_INI);
	assert_ptr_equal(tt_list_first(&fx.target->sessions, struct tt_session, model_node), s);

	/* another ISID: another session, another TSIH */
	fc2 = fx_connect();
	rsp = fx_login(fc2, FX_INI, FX_TARGET, NULL);
	assert_int_equal(fx_login_status(rsp), 0);
	assert_int_not_equal(tt_get_be16(((const struct tt_bhs_login_rsp *)rsp->raw)->tsih), tsih);
	fx_free(rsp);
	assert_ptr_not_equal(((struct tt_conn *)fc2->xc.upper)->sess, s);
	assert_false(fc->down);
}

static void test_login_unknown_target(void **state)
{
	struct fx_conn *fc = fx_connect();

	(void)state;
	assert_refused(fc, fx_login(fc, FX_INI, "iqn.2026-11.org.tether:nobody", NULL),
		       TT_LOGIN_NOT_FOUND);
}

static void test_login_no_tpg_on_listener(void **state)
{
	struct tt_target *t2 = NULL;
	struct tt_tpg *g2 = NULL;
	struct tt_portal *p2 = NULL;
	struct fx_conn *fc;
	struct tt_pdu *rsp;
	char addr[64], err[256] = "";

	(void)state;
	/* T2 listens elsewhere only */
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", fx_free_port());
	assert_int_equal(tt_target_create(T2, NULL, &t2, err, sizeof(err)), 0);
	assert_int_equal(tt_tpg_create(t2, 1, &g2, err, sizeof(err)), 0);
	assert_int_equal(tt_portal_add(g2, addr, &p2, err, sizeof(err)), 0);
	assert_int_equal(tt_target_lun_add(t2, 0, "ram:1M", NULL, err, sizeof(err)), 0);
	assert_ptr_not_equal(p2->listener, fx.portal->listener);

	/* T2 through the fixture's listener: not found there */
	fc = fx_connect();
	assert_refused(fc, fx_login(fc, FX_INI, T2, NULL), TT_LOGIN_NOT_FOUND);
	/* nor the fixture's target through T2's listener */
	fc = fx_connect_on(p2->listener);
	assert_refused(fc, fx_login(fc, FX_INI, FX_TARGET, NULL), TT_LOGIN_NOT_FOUND);
	/* T2 through its own listener: its TPG */
	fc = fx_connect_on(p2->listener);
	rsp = fx_login(fc, FX_INI, T2, NULL);
	assert_int_equal(fx_login_status(rsp), 0);
	assert_key(rsp, "TargetPortalGroupTag", "1");
	fx_free(rsp);
	assert_ptr_equal(((struct tt_conn *)fc->xc.upper)->tpg, g2);
}

static void test_login_acl(void **state)
{
	struct fx_conn *fc;
	struct tt_pdu *rsp;
	char err[256] = "";

	(void)state;
	assert_int_equal(tt_acl_add(fx.target, INI2, NULL, err, sizeof(err)), 0);
	fx.tpg->allow_any_initiator = false;
	fc = fx_connect();
	assert_refused(fc, fx_login(fc, FX_INI, FX_TARGET, NULL), TT_LOGIN_FORBIDDEN);
	fc = fx_connect();
	rsp = fx_login(fc, INI2, FX_TARGET, NULL);
	assert_int_equal(fx_login_status(rsp), 0);
	fx_free(rsp);
	assert_int_equal(((struct tt_conn *)fc->xc.upper)->state, TT_CONN_LOGGED_IN);
}

static void test_login_missing_names(void **state)
{
	struct fx_conn *fc = fx_connect();

	(void)state;
	assert_refused(fc, fx_login(fc, NULL, FX_TARGET, NULL), TT_LOGIN_MISSING_PARAM);
	/* a normal session needs a TargetName too */
	fc = fx_connect();
	assert_refused(fc, fx_login(fc, FX_INI, NULL, NULL), TT_LOGIN_MISSING_PARAM);
}

static void test_non_login_pdu_first(void **state)
{
	struct fx_conn *fc = fx_connect();
	uint8_t cdb[16];
	size_t n = fx_cdb_tur(cdb);

	(void)state;
	/* the transport is told to drop the connection; nothing is answered */
	assert_int_equal(fx_nop_out(fc, 1, TT_RSVD_TAG, 1, true, NULL, 0), -EPROTO);
	assert_true(fc->down);
	assert_true(fc->released);
	assert_int_equal(fc->queued, 0);

	/* a SCSI command too, even in the middle of a login */
	fc = fx_connect();
	{
		char text[1024];
		uint8_t bhs[TT_BHS_LEN];
		static const uint8_t isid[6] = { 0x80, 0, 0, 0, 0, 1 };
		size_t len = fx_login_text(text, sizeof(text), FX_INI, FX_TARGET, "AuthMethod=None");
		struct tt_pdu *rsp;

		fx_login_bhs(bhs, TT_STAGE_SECURITY, 0, false, isid, 0, 0x1000, 1, 0);
		fx_rx(fc, bhs, text, (uint32_t)len);
		rsp = fx_pop_op(fc, TT_OP_LOGIN_RSP);
		assert_int_equal(fx_login_status(rsp), 0);
		fx_free(rsp);
		assert_int_equal(((struct tt_conn *)fc->xc.upper)->state, TT_CONN_IN_LOGIN);
	}
	assert_int_equal(fx_cmd(fc, 2, 1, 0, 0, cdb, n, NULL, 0), -EPROTO);
	assert_true(fc->down);
	assert_true(fc->released);
	assert_int_equal(fc->ntx, 0);
	assert_int_equal(fc->dropped, 0);
}

static void test_login_timeout(void **state)
{
	static const uint8_t isid[6] = { 0x80, 0, 0, 0, 0, 2 };
	struct fx_conn *fc;
	struct tt_pdu *rsp;
	char text[1024];
	uint8_t bhs[TT_BHS_LEN];
	size_t len;

	(void)state;
	fx.tpg->login_timeout_ms = 3000;
	/* a peer that says nothing: the shortest login timeout of the TPGs on the listener */
	fc = fx_connect();
	fx_advance_ms(2999);
	assert_false(fc->down);
	fx_advance_ms(1);
	assert_true(fc->down);
	assert_true(fc->released);
	assert_int_equal(fc->queued, 0);

	/* a login that starts and stalls: the TPG's timeout counts from when it named its target */
	fc = fx_connect();
	fx_advance_ms(2000);
	len = fx_login_text(text, sizeof(text), FX_INI, FX_TARGET, "AuthMethod=None");
	fx_login_bhs(bhs, TT_STAGE_SECURITY, 0, false, isid, 0, 0x1000, 1, 0);
	fx_rx(fc, bhs, text, (uint32_t)len);
	rsp = fx_pop_op(fc, TT_OP_LOGIN_RSP);
	assert_int_equal(fx_login_status(rsp), 0);
	assert_false(rsp->bhs.flags & TT_LOGIN_TRANSIT);
	fx_free(rsp);
	fx_advance_ms(2999);
	assert_false(fc->down);
	fx_advance_ms(1);
	assert_true(fc->down);
	assert_true(fc->released);
	assert_true(tt_list_empty(&fx.target->sessions));
}

/* On a transport that needs the RDMA extensions (iSER), an initiator that declines them is
 * refused: there is no byte stream to carry iSCSI without them. With them, the login goes on. */
static void test_login_rdma_extensions(void **state)
{
	struct fx_conn *fc = fx_connect();
	struct tt_pdu *rsp;
	char v[16];

	(void)state;
	fc->iser_policy = true;
	assert_refused(fc, fx_login(fc, FX_INI, FX_TARGET, FX_KEYS "\nRDMAExtensions=No"),
		       TT_LOGIN_INIT_ERR);

	fc = fx_connect();
	fc->iser_policy = true;
	rsp = fx_login(fc, FX_INI, FX_TARGET, FX_KEYS "\nRDMAExtensions=Yes");
	assert_int_equal(fx_login_status(rsp), TT_LOGIN_SUCCESS);
	assert_non_null(fx_key(rsp, "RDMAExtensions", v, sizeof(v)));
	assert_string_equal(v, "Yes");
	assert_non_null(fx_key(rsp, "TargetRecvDataSegmentLength", v, sizeof(v)));
	fx_free(rsp);
	assert_false(fc->down);

	/* the same keys on a TCP connection: RDMAExtensions=No is what it means anyway */
	fc = fx_connect();
	rsp = fx_login(fc, FX_INI, FX_TARGET, FX_KEYS "\nRDMAExtensions=No");
	assert_int_equal(fx_login_status(rsp), TT_LOGIN_SUCCESS);
	fx_free(rsp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_login_success, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_login_rdma_extensions, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_login_unknown_target, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_login_no_tpg_on_listener, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_login_acl, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_login_missing_names, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_non_login_pdu_first, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_login_timeout, fx_setup, fx_teardown),
	};
	int rc;

	if (fx_init() != 0)
		return 1;
	rc = tt_run_group("login_test", tests, NULL, NULL);
	fx_fini();
	return rc;
}
