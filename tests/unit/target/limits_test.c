/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Resource limits (src/target/limits.c): the accounting alone (connections in all and per peer
 * address before login, connections per initiator name, buffer bytes per session and for the
 * daemon), then through the target core and the fake transport (fake_xport.h): a connection
 * beyond the per-address cap is refused at accept, a login beyond the per-initiator cap gets
 * 0302h, a login beyond max_login_pdus gets 0200h, a command beyond the buffer caps gets TASK SET
 * FULL or BUSY without running, and the command window bounds the commands outstanding.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include "tt_test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "fake_xport.h"
#include "target/limits.h"

static struct sockaddr_storage addr4(const char *ip)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)(1024 + (ip[0] & 0x3f))); /* the port does not count */
	assert_int_equal(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
	return ss;
}

static void set_limits(void (*change)(struct tt_limits *))
{
	struct tt_limits l;

	tt_limits_defaults(&l);
	change(&l);
	tt_limits_set(&l);
}

static int reset(void **state)
{
	struct tt_limits l;

	(void)state;
	tt_limits_defaults(&l);
	tt_limits_set(&l);
	return 0;
}

static int teardown(void **state)
{
	struct tt_limits l;
	int rc = fx_teardown(state);

	tt_limits_defaults(&l);
	tt_limits_set(&l);
	return rc;
}

/* ---- the accounting alone ---- */

static void small_conn_caps(struct tt_limits *l)
{
	l->max_connections = 5;
	l->max_prelogin_per_address = 2;
}

static void test_connection_caps(void **state)
{
	struct sockaddr_storage a = addr4("198.51.100.1"), b = addr4("198.51.100.2");
	struct sockaddr_storage v6;
	struct tt_limits_usage u0, u;

	(void)state;
	memset(&v6, 0, sizeof(v6));
	v6.ss_family = AF_INET6;
	((struct sockaddr_in6 *)&v6)->sin6_addr.s6_addr[15] = 1;
	set_limits(small_conn_caps);
	tt_limits_usage(&u0);
	/* two before login from one address, the third from it refused; others still come in */
	assert_int_equal(tt_limits_conn_admit(&a), 0);
	assert_int_equal(tt_limits_conn_admit(&a), 0);
	assert_int_equal(tt_limits_conn_admit(&a), -EAGAIN);
	assert_int_equal(tt_limits_prelogin_count(&a), 2);
	assert_int_equal(tt_limits_conn_admit(&b), 0);
	assert_int_equal(tt_limits_conn_admit(&v6), 0);
	/* one of a's logs in: its place before login is free again */
	tt_limits_prelogin_end(&a);
	assert_int_equal(tt_limits_prelogin_count(&a), 1);
	assert_int_equal(tt_limits_conn_admit(&a), 0);
	/* five connections in all: the sixth is refused whatever its address */
	assert_int_equal(tt_limits_conn_admit(&b), -EMFILE);
	tt_limits_usage(&u);
	assert_int_equal(u.connections, u0.connections + 5);
	assert_int_equal(u.refused_prelogin, u0.refused_prelogin + 1);
	assert_int_equal(u.refused_connections, u0.refused_connections + 1);
	/* a release makes room */
	tt_limits_conn_end();
	assert_int_equal(tt_limits_conn_admit(&b), 0);
	/* everything goes: the table holds no entry for an address without connections */
	tt_limits_prelogin_end(&a);
	tt_limits_prelogin_end(&a);
	tt_limits_prelogin_end(&b);
	tt_limits_prelogin_end(&b);
	tt_limits_prelogin_end(&v6);
	for (int i = 0; i < 5; i++)
		tt_limits_conn_end();
	tt_limits_usage(&u);
	assert_int_equal(u.connections, u0.connections);
	assert_int_equal(u.addresses, u0.addresses);
	assert_int_equal(tt_limits_prelogin_count(&a), 0);
	/* a place freed twice does not go below zero nor free another address's */
	assert_int_equal(tt_limits_conn_admit(&b), 0);
	tt_limits_prelogin_end(&a);
	assert_int_equal(tt_limits_prelogin_count(&b), 1);
	tt_limits_prelogin_end(&b);
	tt_limits_conn_end();
	tt_limits_usage(&u);
	assert_int_equal(u.connections, u0.connections);
}

static void two_per_initiator(struct tt_limits *l) { l->max_connections_per_initiator = 2; }

static void test_initiator_cap(void **state)
{
	const char *ini = "iqn.1994-05.com.example:limits";

	(void)state;
	set_limits(two_per_initiator);
	assert_int_equal(tt_limits_initiator_add(ini), 0);
	/* names compare without case: the same initiator */
	assert_int_equal(tt_limits_initiator_add("IQN.1994-05.com.example:LIMITS"), 0);
	assert_int_equal(tt_limits_initiator_add(ini), -EUSERS);
	assert_int_equal(tt_limits_initiator_count(ini), 2);
	/* another initiator is not affected */
	assert_int_equal(tt_limits_initiator_add("iqn.1994-05.com.example:other"), 0);
	tt_limits_initiator_del("iqn.1994-05.com.example:other");
	tt_limits_initiator_del(ini);
	assert_int_equal(tt_limits_initiator_add(ini), 0);
	tt_limits_initiator_del(ini);
	tt_limits_initiator_del(ini);
	assert_int_equal(tt_limits_initiator_count(ini), 0);
	tt_limits_initiator_del(ini); /* harmless */
	assert_int_equal(tt_limits_initiator_count(ini), 0);
}

static void small_buffers(struct tt_limits *l)
{
	l->max_session_buffer = 3u << 20;
	l->max_buffer = 4u << 20;
}

static void test_buffer_caps(void **state)
{
	uint64_t s1 = 0, s2 = 0;
	struct tt_limits_usage u0, u;

	(void)state;
	set_limits(small_buffers);
	tt_limits_usage(&u0);
	assert_int_equal(tt_limits_buf_charge(&s1, 2u << 20), 0);
	assert_int_equal(tt_limits_buf_charge(&s1, 1u << 20), 0);
	/* the session's 3 MiB are held: one byte more is TASK SET FULL */
	assert_int_equal(tt_limits_buf_charge(&s1, 512), -ENOSPC);
	assert_int_equal(s1, 3u << 20);
	/* another session: within its own cap, but the daemon's 4 MiB are reached: BUSY */
	assert_int_equal(tt_limits_buf_charge(&s2, 1u << 20), 0);
	assert_int_equal(tt_limits_buf_charge(&s2, 512), -EBUSY);
	assert_int_equal(s2, 1u << 20);
	/* more than a session may ever hold, in one command */
	assert_int_equal(tt_limits_buf_charge(&s2, 8u << 20), -ENOSPC);
	tt_limits_usage(&u);
	assert_int_equal(u.buffer, u0.buffer + (4u << 20));
	assert_int_equal(u.refused_session_buffer, u0.refused_session_buffer + 2);
	assert_int_equal(u.refused_buffer, u0.refused_buffer + 1);
	tt_limits_buf_uncharge(&s1, 2u << 20);
	assert_int_equal(tt_limits_buf_charge(&s2, 512), 0);
	tt_limits_buf_uncharge(&s1, 1u << 20);
	tt_limits_buf_uncharge(&s2, (1u << 20) + 512);
	assert_int_equal(s1, 0);
	assert_int_equal(s2, 0);
	tt_limits_usage(&u);
	assert_int_equal(u.buffer, u0.buffer);
}

/* ---- through the target core ---- */

static void one_prelogin(struct tt_limits *l) { l->max_prelogin_per_address = 1; }

static void test_accept_refused_over_prelogin_cap(void **state)
{
	struct fx_conn *fc;
	struct tt_xconn extra;
	struct tt_pdu *rsp;

	(void)state;
	set_limits(one_prelogin);
	fc = fx_connect(); /* not logged in yet: holds the address's only place */
	memset(&extra, 0, sizeof(extra));
	extra.ops = &fx_ops;
	extra.core = &tt_iscsi_core;
	extra.loop = fx_loop();
	extra.listener = fx.portal->listener;
	extra.peer_addr = fc->xc.peer_addr;
	snprintf(extra.peer, sizeof(extra.peer), "192.0.2.100:39999");
	/* refused before the core makes anything of it: the transport closes it */
	assert_int_equal(tt_iscsi_core.accepted(&extra), -EAGAIN);
	assert_null(extra.upper);
	/* once the first has logged in, the address may start another login */
	rsp = fx_login(fc, FX_INI, FX_TARGET, NULL);
	assert_int_equal(fx_login_status(rsp), 0);
	fx_free(rsp);
	assert_int_equal(tt_limits_prelogin_count(&fc->xc.peer_addr), 0);
	fx_connect();
	assert_int_equal(tt_limits_prelogin_count(&fc->xc.peer_addr), 1);
}

static void one_per_initiator(struct tt_limits *l) { l->max_connections_per_initiator = 1; }

static void test_login_over_initiator_cap(void **state)
{
	static const uint8_t isid2[6] = { 0x80, 1, 2, 3, 4, 5 };
	struct fx_conn *first, *second, *third;
	struct tt_pdu *rsp;

	(void)state;
	set_limits(one_per_initiator);
	first = fx_logged_in(NULL);
	/* another session of the same initiator: out of resources, and nothing else in the answer */
	second = fx_connect();
	rsp = fx_login_isid(second, FX_INI, FX_TARGET, NULL, isid2, 0);
	assert_non_null(rsp);
	assert_int_equal(fx_login_status(rsp), TT_LOGIN_NO_RESOURCES);
	assert_int_equal(tt_bhs_dlength(&rsp->bhs), 0);
	fx_free(rsp);
	assert_true(second->down);
	assert_int_equal(tt_limits_initiator_count(FX_INI), 1);
	/* the first goes: the initiator may log in again */
	fx_peer_close(first, -ECONNRESET);
	assert_int_equal(tt_limits_initiator_count(FX_INI), 0);
	third = fx_connect();
	rsp = fx_login_isid(third, FX_INI, FX_TARGET, NULL, isid2, 0);
	assert_int_equal(fx_login_status(rsp), 0);
	fx_free(rsp);
	assert_int_equal(tt_limits_initiator_count(FX_INI), 1);
}

static void three_login_pdus(struct tt_limits *l) { l->max_login_pdus = 3; }

static void test_login_pdu_cap(void **state)
{
	struct fx_conn *fc;
	uint8_t bhs[TT_BHS_LEN];
	static const uint8_t isid[6] = { 0x80, 0, 0, 0, 0x43, 0x21 };
	struct tt_pdu *rsp;
	char text[256];
	size_t n = fx_login_text(text, sizeof(text), FX_INI, FX_TARGET, "HeaderDigest=None");

	(void)state;
	set_limits(three_login_pdus);
	fc = fx_connect();
	/* a login that never ends: its text continues (C bit) PDU after PDU */
	for (int i = 0; i < 3; i++) {
		fx_login_bhs(bhs, TT_STAGE_OPERATIONAL, TT_STAGE_OPERATIONAL, false, isid, 0, 0x1000,
			     1, 0);
		bhs[1] |= TT_LOGIN_CONT;
		fx_rx(fc, bhs, i == 0 ? text : "X", i == 0 ? (uint32_t)n - 1 : 1);
		rsp = fx_pop(fc);
		assert_non_null(rsp);
		assert_int_equal(fx_login_status(rsp), 0);
		fx_free(rsp);
	}
	fx_login_bhs(bhs, TT_STAGE_OPERATIONAL, TT_STAGE_OPERATIONAL, false, isid, 0, 0x1000, 1, 0);
	bhs[1] |= TT_LOGIN_CONT;
	fx_rx(fc, bhs, "Y", 1);
	rsp = fx_pop(fc);
	assert_non_null(rsp);
	assert_int_equal(fx_login_status(rsp), TT_LOGIN_INIT_ERR);
	fx_free(rsp);
	assert_true(fc->down);
}

static uint32_t window_write(struct fx_conn *fc, uint32_t itt, uint32_t blocks)
{
	uint8_t cdb[16];
	size_t n = fx_cdb_rw10(cdb, true, 0, (uint16_t)blocks);
	struct tt_pdu *r2t;
	uint32_t max;

	/* a write waiting for its data (InitialR2T=Yes): it stays outstanding */
	fx_cmd(fc, itt, fc->cmd_sn++, TT_CMD_WRITE, blocks * 512, cdb, n, NULL, 0);
	r2t = fx_pop_op(fc, TT_OP_R2T);
	max = fx_max_cmd_sn(r2t);
	fx_free(r2t);
	fx_drain(fc);
	return max;
}

static struct tt_pdu *read_cmd(struct fx_conn *fc, uint32_t itt, uint32_t len)
{
	uint8_t cdb[16];
	size_t n = fx_cdb_rw10(cdb, false, 0, (uint16_t)(len / 512));

	fx_cmd(fc, itt, fc->cmd_sn++, TT_CMD_READ, len, cdb, n, NULL, 0);
	return fx_pop(fc);
}

static void session_buffer_1m(struct tt_limits *l) { l->max_session_buffer = 1u << 20; }
static void daemon_buffer_1m(struct tt_limits *l) { l->max_buffer = 1u << 20; }

static void test_buffer_caps_in_the_core(void **state)
{
	struct fx_conn *fc = fx_logged_in(NULL);
	struct tt_pdu *rsp;
	const struct tt_bhs_scsi_rsp *r;
	struct tt_limits_usage u0, u;

	(void)state;
	tt_limits_usage(&u0);
	set_limits(session_buffer_1m);
	/* a write of 1 MiB waits for its data: the session's whole buffer allowance */
	window_write(fc, 0x10, 2048);
	tt_limits_usage(&u);
	assert_int_equal(u.buffer, u0.buffer + (1u << 20));
	/* a read of 4 KiB now: TASK SET FULL, no sense, nothing read */
	rsp = read_cmd(fc, 0x11, 4096);
	assert_non_null(rsp);
	assert_int_equal(tt_bhs_opcode(&rsp->bhs), TT_OP_SCSI_RSP);
	r = (const struct tt_bhs_scsi_rsp *)rsp->raw;
	assert_int_equal(r->status, TT_SAM_TASK_SET_FULL);
	assert_int_equal(tt_bhs_dlength(&rsp->bhs), 0);
	fx_free(rsp);
	/* the same read against the daemon's cap: BUSY */
	set_limits(daemon_buffer_1m);
	rsp = read_cmd(fc, 0x12, 4096);
	assert_non_null(rsp);
	r = (const struct tt_bhs_scsi_rsp *)rsp->raw;
	assert_int_equal(r->status, TT_SAM_BUSY);
	fx_free(rsp);
	/* a command without data still runs */
	rsp = fx_tur(fc, 0x13);
	r = (const struct tt_bhs_scsi_rsp *)rsp->raw;
	assert_int_equal(r->status, TT_SAM_GOOD);
	fx_free(rsp);
	assert_false(fc->down);
	/* the write goes with the connection, and its buffer with it */
	fx_peer_close(fc, -ECONNRESET);
	tt_limits_usage(&u);
	assert_int_equal(u.buffer, u0.buffer);
}

static void window_of_4(struct tt_limits *l) { l->cmd_window = 4; }

static void test_window_bounds_outstanding(void **state)
{
	struct fx_conn *fc;
	struct tt_session *s;
	uint32_t max;
	struct tt_pdu *rsp;

	(void)state;
	set_limits(window_of_4);
	fc = fx_logged_in(NULL);
	s = ((struct tt_conn *)fc->xc.upper)->sess;
	assert_int_equal(s->queue_depth, 4);
	assert_int_equal(s->max_cmd_sn, s->exp_cmd_sn + 3);
	/* four writes waiting for data fill the window: MaxCmdSN stops where the fourth is */
	for (uint32_t i = 0; i < 4; i++)
		max = window_write(fc, 0x20 + i, 8);
	assert_int_equal(max, fc->cmd_sn - 1);
	assert_int_equal(s->max_cmd_sn, s->exp_cmd_sn - 1);
	/* a fifth command is beyond MaxCmdSN: dropped, no answer */
	rsp = read_cmd(fc, 0x30, 512);
	assert_null(rsp);
	fc->cmd_sn--;
	/* the first write gets its data and completes: one place again */
	{
		uint8_t data[4096] = { 0 };
		const struct tt_bhs_scsi_rsp *r;

		fx_data_out(fc, 0x20, (uint32_t)(((struct tt_conn *)fc->xc.upper)->id << 16) ^ 0x20, 0,
			    0, true, data, sizeof(data));
		rsp = fx_pop_op(fc, TT_OP_SCSI_RSP);
		r = (const struct tt_bhs_scsi_rsp *)rsp->raw;
		assert_int_equal(r->status, TT_SAM_GOOD);
		assert_int_equal(fx_max_cmd_sn(rsp), fx_exp_cmd_sn(rsp));
		fx_free(rsp);
	}
	rsp = read_cmd(fc, 0x31, 512);
	assert_non_null(rsp);
	fx_free(rsp);
	fx_drain(fc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_connection_caps, reset),
		cmocka_unit_test_teardown(test_initiator_cap, reset),
		cmocka_unit_test_teardown(test_buffer_caps, reset),
		cmocka_unit_test_setup_teardown(test_accept_refused_over_prelogin_cap, fx_setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_login_over_initiator_cap, fx_setup, teardown),
		cmocka_unit_test_setup_teardown(test_login_pdu_cap, fx_setup, teardown),
		cmocka_unit_test_setup_teardown(test_buffer_caps_in_the_core, fx_setup, teardown),
		cmocka_unit_test_setup_teardown(test_window_bounds_outstanding, fx_setup, teardown),
	};
	int rc;

	if (fx_init() != 0)
		return 1;
	rc = tt_run_group("limits_test", tests, NULL, NULL);
	fx_fini();
	return rc;
}
