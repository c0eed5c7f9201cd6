/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ALUA: the TPGS field of standard INQUIRY, REPORT TARGET PORT GROUPS, SET TARGET PORT GROUPS,
 * administrative state changes, the access checks of each state and the unit attentions.
 */
#include "scsi_util.h"

#define OTHER_TARGET "iqn.2024-01.org.tether:other"

static void rtpg_run(struct env *e, struct ttask *tt, uint8_t format, uint32_t alloc)
{
	uint8_t c[12] = { TT_OP_MAINTENANCE_IN, (uint8_t)(format << 5 | TT_MI_REPORT_TARGET_PORT_GROUPS) };

	tt_put_be32(c + 6, alloc);
	run_in(e, tt, c, 12, alloc);
}

static void test_tpgs_bits(void **state)
{
	struct env *e = env_new("ram:1M");
	struct ttask *tt = ttask_new();
	uint8_t c[6] = { TT_OP_INQUIRY, 0, 0, 0, 96, 0 };

	(void)state;
	run_in(e, tt, c, 6, 96);
	assert_good(tt);
	assert_int_equal(tt->data[5] & 0x30, 0x30); /* implicit and explicit ALUA */
	free(tt);
	env_free(e);
}

static void test_own_port_only(void **state)
{
	struct env *e = env_new("ram:1M");
	struct ttask *tt = ttask_new();

	(void)state;
	rtpg_run(e, tt, 0, 1024);
	assert_good(tt);
	assert_int_equal(tt_get_be32(tt->data), 12);
	assert_int_equal(tt->data[4], 0x0);          /* PREF 0, active/optimized */
	assert_int_equal(tt->data[5], 0x8f);         /* T_SUP U_SUP S_SUP AN_SUP AO_SUP */
	assert_int_equal(tt->data[9], 0x00);         /* STATUS CODE: no status */
	assert_int_equal(tt_get_be16(tt->data + 6), 1);
	assert_int_equal(tt->data[11], 1);
	assert_int_equal(tt_get_be16(tt->data + 14), 1);
	assert_int_equal(tt->t.data_len, 16);

	/* extended header */
	rtpg_run(e, tt, 1, 1024);
	assert_good(tt);
	assert_int_equal(tt_get_be32(tt->data), 16);
	assert_int_equal(tt->data[4], 0x10);
	assert_int_equal(tt_get_be16(tt->data + 10), 1);

	/* 4 bytes: the length of everything */
	rtpg_run(e, tt, 0, 4);
	assert_good(tt);
	assert_int_equal(tt_get_be32(tt->data), 12);
	assert_int_equal(tt->t.data_len, 4);

	/* reserved format */
	rtpg_run(e, tt, 2, 1024);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	free(tt);
	env_free(e);
}

static void test_registered_ports(void **state)
{
	struct env *e = env_new("ram:1M");
	struct ttask *tt = ttask_new();
	struct tt_scsi_port p2 = { .fe = &test_fe,
				   .target_name = TEST_TARGET, .tpgt = 2, .rel_port_id = 2,
				   .port_group_id = 2 };
	struct tt_scsi_port p3 = { .fe = &test_fe,
				   .target_name = TEST_TARGET, .tpgt = 3, .rel_port_id = 3,
				   .port_group_id = 1 };
	struct tt_scsi_port other = { .fe = &test_fe, .target_name = OTHER_TARGET, .tpgt = 1,
				      .rel_port_id = 1, .port_group_id = 9 };

	(void)state;
	assert_int_equal(tt_scsi_port_register(&e->port), 0);
	assert_int_equal(tt_scsi_port_register(&p2), 0);
	assert_int_equal(tt_scsi_port_register(&p3), 0);
	assert_int_equal(tt_scsi_port_register(&other), 0);
	rtpg_run(e, tt, 0, 1024);
	assert_good(tt);
	/* group 1: ports 1 and 3; group 2: port 2 */
	assert_int_equal(tt_get_be32(tt->data), 8 + 4 + 4 + 8 + 4);
	assert_int_equal(tt_get_be16(tt->data + 6), 1);
	assert_int_equal(tt->data[11], 2);
	assert_int_equal(tt_get_be16(tt->data + 14), 1);
	assert_int_equal(tt_get_be16(tt->data + 18), 3);
	assert_int_equal(tt_get_be16(tt->data + 22), 2);
	assert_int_equal(tt->data[27], 1);
	assert_int_equal(tt_get_be16(tt->data + 30), 2);
	tt_scsi_port_unregister(&p2);
	tt_scsi_port_unregister(&p3);
	tt_scsi_port_unregister(&other);
	tt_scsi_port_unregister(&e->port);
	free(tt);
	env_free(e);
}

static void test_state_names(void **state)
{
	static const char *const names[] = { "active-optimized", "active-non-optimized",
					     "standby", "unavailable", "transitioning" };
	static const int values[] = { TT_ALUA_ACTIVE_OPTIMIZED, TT_ALUA_ACTIVE_NON_OPTIMIZED,
				      TT_ALUA_STANDBY, TT_ALUA_UNAVAILABLE,
				      TT_ALUA_TRANSITIONING };

	(void)state;
	for (int i = 0; i < 5; i++) {
		assert_int_equal(tt_alua_state_parse(names[i]), values[i]);
		assert_string_equal(tt_alua_state_name((unsigned)values[i]), names[i]);
	}
	assert_int_equal(tt_alua_state_parse("offline"), -EINVAL);
	assert_int_equal(tt_alua_state_parse("Standby"), -EINVAL);
	assert_int_equal(tt_alua_state_parse(NULL), -EINVAL);
	assert_string_equal(tt_alua_state_name(0xe), "?");
}

/* --- administrative changes --------------------------------------------------------------- */

static void test_state_set_get(void **state)
{
	struct env *e = env_new("ram:1M");
	struct tt_scsi_port p2 = { .fe = &test_fe,
				   .target_name = TEST_TARGET, .tpgt = 2, .rel_port_id = 2,
				   .port_group_id = 2 };

	(void)state;
	/* no port in the group yet */
	assert_int_equal(tt_alua_state_set(TEST_TARGET, 2, TT_ALUA_STANDBY), -ENOENT);
	assert_int_equal(tt_alua_state_get(TEST_TARGET, 2), TT_ALUA_ACTIVE_OPTIMIZED);
	assert_int_equal(tt_scsi_port_register(&e->port), 0);
	assert_int_equal(tt_scsi_port_register(&p2), 0);
	assert_non_null(p2.alua);

	assert_int_equal(tt_alua_state_set(TEST_TARGET, 2, TT_ALUA_STANDBY), 0);
	assert_int_equal(tt_alua_state_get(TEST_TARGET, 2), TT_ALUA_STANDBY);
	assert_int_equal(tt_alua_state_get(TEST_TARGET, 1), TT_ALUA_ACTIVE_OPTIMIZED);
	/* the same group id of another target is another group */
	assert_int_equal(tt_alua_state_get(OTHER_TARGET, 2), TT_ALUA_ACTIVE_OPTIMIZED);
	assert_int_equal(tt_alua_state_set(OTHER_TARGET, 2, TT_ALUA_STANDBY), -ENOENT);
	assert_int_equal(tt_alua_state_set(TEST_TARGET, 2, (enum tt_alua_state)0xe), -EINVAL);
	assert_int_equal(tt_alua_state_set(TEST_TARGET, 2, (enum tt_alua_state)0x4), -EINVAL);
	assert_int_equal(tt_alua_state_get(TEST_TARGET, 2), TT_ALUA_STANDBY);

	/* the group's last port goes: back to active/optimized, also when a port comes again */
	tt_scsi_port_unregister(&p2);
	assert_int_equal(tt_alua_state_get(TEST_TARGET, 2), TT_ALUA_ACTIVE_OPTIMIZED);
	assert_int_equal(tt_scsi_port_register(&p2), 0);
	assert_int_equal(tt_alua_state_get(TEST_TARGET, 2), TT_ALUA_ACTIVE_OPTIMIZED);
	tt_scsi_port_unregister(&p2);
	tt_scsi_port_unregister(&e->port);
	env_free(e);
}

static void test_rtpg_states(void **state)
{
	struct env *e = env_new("ram:1M");
	struct ttask *tt = ttask_new();
	struct tt_scsi_port p2 = { .fe = &test_fe,
				   .target_name = TEST_TARGET, .tpgt = 2, .rel_port_id = 2,
				   .port_group_id = 2 };
	struct tt_scsi_port p3 = { .fe = &test_fe,
				   .target_name = TEST_TARGET, .tpgt = 3, .rel_port_id = 3,
				   .port_group_id = 3 };

	(void)state;
	assert_int_equal(tt_scsi_port_register(&e->port), 0);
	assert_int_equal(tt_scsi_port_register(&p2), 0);
	assert_int_equal(tt_scsi_port_register(&p3), 0);
	assert_int_equal(tt_alua_state_set(TEST_TARGET, 2, TT_ALUA_STANDBY), 0);
	assert_int_equal(tt_alua_state_set(TEST_TARGET, 3, TT_ALUA_TRANSITIONING), 0);
	rtpg_run(e, tt, 1, 1024);
	assert_good(tt);
	assert_int_equal(tt_get_be32(tt->data), 4 + 3 * 12);
	/* group 1: untouched */
	assert_int_equal(tt->data[8], TT_ALUA_ACTIVE_OPTIMIZED);
	assert_int_equal(tt->data[9], 0x8f);
	assert_int_equal(tt_get_be16(tt->data + 10), 1);
	assert_int_equal(tt->data[13], 0x00);
	assert_int_equal(tt->data[15], 1);
	assert_int_equal(tt_get_be16(tt->data + 18), 1);
	/* group 2: standby, altered by implicit behaviour */
	assert_int_equal(tt->data[20], TT_ALUA_STANDBY);
	assert_int_equal(tt->data[21], 0x8f);
	assert_int_equal(tt_get_be16(tt->data + 22), 2);
	assert_int_equal(tt->data[25], 0x02);
	assert_int_equal(tt_get_be16(tt->data + 30), 2);
	/* group 3: transitioning */
	assert_int_equal(tt->data[32], TT_ALUA_TRANSITIONING);
	assert_int_equal(tt_get_be16(tt->data + 34), 3);
	assert_int_equal(tt->data[37], 0x02);
	assert_int_equal(tt_get_be16(tt->data + 42), 3);
	tt_scsi_port_unregister(&p3);
	tt_scsi_port_unregister(&p2);
	tt_scsi_port_unregister(&e->port);
	free(tt);
	env_free(e);
}

/* --- access checks ------------------------------------------------------------------------- */

/* Runs @cdb through nexus 1 and checks GOOD (@ascq 0) or NOT READY 04h/@ascq. */
static void expect(struct env *e, struct ttask *tt, const uint8_t *cdb, size_t len,
		   uint32_t edtl, bool write, uint8_t ascq)
{
	if (write)
		memset(tt->data, 0, edtl);
	ttask_run(e, tt, &e->nexus, e->lun, cdb, len, write, edtl);
	if (ascq) {
		assert_sense(tt, TT_SK_NOT_READY, 0x04, ascq);
		assert_int_equal(tt->t.data_len, 0);
	} else {
		assert_good(tt);
	}
}

static const uint8_t cdb_tur[6] = { TT_OP_TEST_UNIT_READY };
static const uint8_t cdb_inquiry[6] = { TT_OP_INQUIRY, 0, 0, 0, 96, 0 };
static const uint8_t cdb_request_sense[6] = { TT_OP_REQUEST_SENSE, 0, 0, 0, 96, 0 };
static const uint8_t cdb_mode_sense[6] = { TT_OP_MODE_SENSE_6, 0, 0x3f, 0, 255, 0 };
static const uint8_t cdb_report_luns[12] = { TT_OP_REPORT_LUNS, 0, 0, 0, 0, 0, 0, 0, 1, 0 };
static const uint8_t cdb_rtpg[12] = { TT_OP_MAINTENANCE_IN, TT_MI_REPORT_TARGET_PORT_GROUPS,
				      0, 0, 0, 0, 0, 0, 1, 0 };
static const uint8_t cdb_rsoc[12] = { TT_OP_MAINTENANCE_IN, TT_MI_REPORT_SUPPORTED_OPCODES,
				      0, 0, 0, 0, 0, 0, 0x10, 0 };
static const uint8_t cdb_prin_keys[10] = { TT_OP_PERSISTENT_RESERVE_IN, 0, 0, 0, 0, 0, 0, 0,
					   64, 0 };
static const uint8_t cdb_read_capacity[10] = { TT_OP_READ_CAPACITY_10 };
static const uint8_t cdb_stpg_empty[12] = { TT_OP_MAINTENANCE_OUT, TT_MO_SET_TARGET_PORT_GROUPS };

static void check_state(struct env *e, struct ttask *tt, enum tt_alua_state st)
{
	uint8_t c[16];
	uint8_t off = st == TT_ALUA_STANDBY ? 0x0b : st == TT_ALUA_UNAVAILABLE ? 0x0c
		      : st == TT_ALUA_TRANSITIONING ? 0x0a : 0;

	/* always allowed */
	expect(e, tt, cdb_inquiry, 6, 96, false, 0);
	expect(e, tt, cdb_request_sense, 6, 96, false, 0);
	expect(e, tt, cdb_report_luns, 12, 256, false, 0);
	expect(e, tt, cdb_rtpg, 12, 256, false, 0);
	/* standby and unavailable: MODE SENSE, REPORT SUPPORTED OPCODES, SET TARGET PORT GROUPS */
	expect(e, tt, cdb_mode_sense, 6, 255, false, st == TT_ALUA_TRANSITIONING ? off : 0);
	expect(e, tt, cdb_rsoc, 12, 16, false, st == TT_ALUA_TRANSITIONING ? off : 0);
	expect(e, tt, cdb_stpg_empty, 12, 0, true, st == TT_ALUA_TRANSITIONING ? off : 0);
	/* standby only: reservations */
	expect(e, tt, cdb_prin_keys, 10, 64, false,
	       st == TT_ALUA_UNAVAILABLE || st == TT_ALUA_TRANSITIONING ? off : 0);
	/* the medium, and TEST UNIT READY (what multipath's checker sends) */
	expect(e, tt, cdb_tur, 6, 0, false, off);
	expect(e, tt, cdb_read_capacity, 10, 8, false, off);
	expect(e, tt, c, cdb_rw10(c, TT_OP_READ_10, 0, 1, 0), 512, false, off);
	expect(e, tt, c, cdb_rw10(c, TT_OP_WRITE_10, 0, 1, 0), 512, true, off);
}

static void test_access_by_state(void **state)
{
	static const enum tt_alua_state states[] = {
		TT_ALUA_ACTIVE_OPTIMIZED, TT_ALUA_ACTIVE_NON_OPTIMIZED, TT_ALUA_STANDBY,
		TT_ALUA_UNAVAILABLE, TT_ALUA_TRANSITIONING, TT_ALUA_ACTIVE_OPTIMIZED,
	};
	struct env *e = env_new("ram:1M");
	struct ttask *tt = ttask_new();
	struct tt_scsi_port p2 = { .fe = &test_fe,
				   .target_name = TEST_TARGET, .tpgt = 2, .rel_port_id = 2,
				   .port_group_id = 2 };
	uint8_t c[16];

	(void)state;
	assert_int_equal(tt_scsi_port_register(&e->port), 0);
	assert_int_equal(tt_scsi_port_register(&p2), 0);
	e->nexus2.tport = &p2;
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		assert_int_equal(tt_alua_state_set(TEST_TARGET, 1, states[i]), 0);
		check_state(e, tt, states[i]);
		/* nexus 2 comes through group 2, which stays active/optimized */
		ttask_run(e, tt, &e->nexus2, e->lun, c, cdb_rw10(c, TT_OP_READ_10, 0, 1, 0), false,
			  512);
		assert_good(tt);
	}
	/* a pending unit attention comes before NOT READY */
	assert_int_equal(tt_alua_state_set(TEST_TARGET, 1, TT_ALUA_STANDBY), 0);
	tt_lun_ua_raise_one(e->lun, &e->nexus, TT_UA_MODE_PARAMETERS_CHANGED);
	ttask_run(e, tt, &e->nexus, e->lun, cdb_tur, 6, false, 0);
	assert_sense(tt, TT_SK_UNIT_ATTENTION, 0x2a, 0x01);
	ttask_run(e, tt, &e->nexus, e->lun, cdb_tur, 6, false, 0);
	assert_sense(tt, TT_SK_NOT_READY, 0x04, 0x0b);
	/* a port of no group (never registered) is active/optimized */
	{
		struct tt_scsi_port loose = { .fe = &test_fe, .target_name = TEST_TARGET, .tpgt = 9,
					      .rel_port_id = 9, .port_group_id = 1 };

		e->nexus2.tport = &loose;
		ttask_run(e, tt, &e->nexus2, e->lun, cdb_tur, 6, false, 0);
		assert_good(tt);
	}
	tt_scsi_port_unregister(&p2);
	tt_scsi_port_unregister(&e->port);
	free(tt);
	env_free(e);
}

/* --- SET TARGET PORT GROUPS ---------------------------------------------------------------- */

static void stpg_run(struct env *e, struct ttask *tt, const struct tt_nexus *n,
		     const uint8_t *param, uint32_t len, uint32_t plen)
{
	uint8_t c[12] = { TT_OP_MAINTENANCE_OUT, TT_MO_SET_TARGET_PORT_GROUPS };

	tt_put_be32(c + 6, plen);
	memcpy(tt->data, param, len);
	ttask_run(e, tt, n, e->lun, c, 12, true, len);
}

static void test_stpg(void **state)
{
	struct env *e = env_new("ram:1M");
	struct ttask *tt = ttask_new();
	struct tt_scsi_port p2 = { .fe = &test_fe,
				   .target_name = TEST_TARGET, .tpgt = 2, .rel_port_id = 2,
				   .port_group_id = 2 };
	struct tt_scsi_port other = { .fe = &test_fe,
				      .target_name = OTHER_TARGET, .tpgt = 5, .rel_port_id = 5,
				      .port_group_id = 5 };
	const uint32_t ua = 1u << TT_UA_ALUA_STATE_CHANGED;
	uint8_t p[16] = { 0 };

	(void)state;
	assert_int_equal(tt_scsi_port_register(&e->port), 0);
	assert_int_equal(tt_scsi_port_register(&p2), 0);
	assert_int_equal(tt_scsi_port_register(&other), 0);

	/* group 2 standby, group 1 active/non-optimized */
	p[4] = TT_ALUA_STANDBY;
	tt_put_be16(p + 6, 2);
	p[8] = TT_ALUA_ACTIVE_NON_OPTIMIZED;
	tt_put_be16(p + 10, 1);
	stpg_run(e, tt, &e->nexus, p, 12, 12);
	assert_good(tt);
	assert_int_equal(tt_alua_state_get(TEST_TARGET, 2), TT_ALUA_STANDBY);
	assert_int_equal(tt_alua_state_get(TEST_TARGET, 1), TT_ALUA_ACTIVE_NON_OPTIMIZED);
	/* the other nexus is told, the one that sent it is not */
	assert_int_equal(tt_lun_ua_pending(e->lun, &e->nexus) & ua, 0);
	assert_int_equal(tt_lun_ua_pending(e->lun, &e->nexus2) & ua, ua);
	ttask_run(e, tt, &e->nexus2, e->lun, cdb_tur, 6, false, 0);
	assert_sense(tt, TT_SK_UNIT_ATTENTION, 0x2a, 0x06);
	ttask_run(e, tt, &e->nexus2, e->lun, cdb_tur, 6, false, 0);
	assert_good(tt); /* reported once; group 1 is active/non-optimized */

	/* REPORT TARGET PORT GROUPS: status "altered by SET TARGET PORT GROUPS" */
	rtpg_run(e, tt, 0, 1024);
	assert_good(tt);
	assert_int_equal(tt->data[4], TT_ALUA_ACTIVE_NON_OPTIMIZED);
	assert_int_equal(tt->data[9], 0x01);
	assert_int_equal(tt->data[16], TT_ALUA_STANDBY);
	assert_int_equal(tt->data[21], 0x01);

	/* the same states again: no unit attention */
	stpg_run(e, tt, &e->nexus, p, 12, 12);
	assert_good(tt);
	assert_int_equal(tt_lun_ua_pending(e->lun, &e->nexus2) & ua, 0);

	/* refused, and nothing changes: transitioning and offline cannot be asked for, a group of
	 * another target or none, reserved bits; the first bad descriptor is pointed at */
	static const struct { uint8_t state; uint16_t group; uint16_t byte; } bad[] = {
		{ TT_ALUA_TRANSITIONING, 2, 8 }, { 0xe, 2, 8 }, { 0x4, 2, 8 },
		{ TT_ALUA_ACTIVE_OPTIMIZED, 5, 10 }, { TT_ALUA_ACTIVE_OPTIMIZED, 77, 10 },
		{ 0x10 | TT_ALUA_ACTIVE_OPTIMIZED, 2, 8 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(p, 0, sizeof(p));
		p[4] = TT_ALUA_ACTIVE_OPTIMIZED;
		tt_put_be16(p + 6, 1);
		p[8] = bad[i].state;
		tt_put_be16(p + 10, bad[i].group);
		stpg_run(e, tt, &e->nexus, p, 12, 12);
		assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x26, 0x00);
		assert_int_equal(tt->t.sense[15] & 0x80, 0x80);  /* SKSV: field pointer */
		assert_int_equal(tt_get_be16(tt->t.sense + 16), bad[i].byte);
		assert_int_equal(tt_alua_state_get(TEST_TARGET, 1), TT_ALUA_ACTIVE_NON_OPTIMIZED);
		assert_int_equal(tt_alua_state_get(TEST_TARGET, 2), TT_ALUA_STANDBY);
		assert_int_equal(tt_alua_state_get(OTHER_TARGET, 5), TT_ALUA_ACTIVE_OPTIMIZED);
	}
	assert_int_equal(tt_lun_ua_pending(e->lun, &e->nexus2) & ua, 0);

	/* lengths: 0 is nothing; a cut descriptor or a missing header is a length error */
	stpg_run(e, tt, &e->nexus, p, 0, 0);
	assert_good(tt);
	stpg_run(e, tt, &e->nexus, p, 10, 10);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x1a, 0x00);
	stpg_run(e, tt, &e->nexus, p, 2, 2);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x1a, 0x00);
	stpg_run(e, tt, &e->nexus, p, 8, 12); /* less data than announced */
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x1a, 0x00);
	/* a header alone changes nothing */
	stpg_run(e, tt, &e->nexus, p, 4, 4);
	assert_good(tt);

	/* back to active/optimized through group 2's own port (standby accepts STPG) */
	memset(p, 0, sizeof(p));
	tt_put_be16(p + 6, 2);
	tt_put_be16(p + 10, 1);
	e->nexus2.tport = &p2;
	stpg_run(e, tt, &e->nexus2, p, 12, 12);
	assert_good(tt);
	assert_int_equal(tt_alua_state_get(TEST_TARGET, 1), TT_ALUA_ACTIVE_OPTIMIZED);
	assert_int_equal(tt_alua_state_get(TEST_TARGET, 2), TT_ALUA_ACTIVE_OPTIMIZED);
	assert_int_equal(tt_lun_ua_pending(e->lun, &e->nexus) & ua, ua);
	assert_int_equal(tt_lun_ua_pending(e->lun, &e->nexus2) & ua, 0);

	tt_scsi_port_unregister(&other);
	tt_scsi_port_unregister(&p2);
	tt_scsi_port_unregister(&e->port);
	free(tt);
	env_free(e);
}

/* --- the front ends' alua_changed op ------------------------------------------------------- */

/* A second front end with the same recording ops: told separately. */
/* alua_explicit false: implicit ALUA only through the group's ports, the group closed to STPG */
static void test_implicit_only(void **state)
{
	struct env *e = env_new("ram:1M");
	struct ttask *tt = ttask_new();
	struct tt_scsi_port p2 = { .fe = &test_fe,
				   .target_name = TEST_TARGET, .tpgt = 2, .rel_port_id = 2,
				   .port_group_id = 2 };
	uint8_t p[8] = { 0 };

	(void)state;
	assert_int_equal(tt_alua_explicit_set(TEST_TARGET, 1, false), -ENOENT); /* no port yet */
	assert_int_equal(tt_scsi_port_register(&e->port), 0);
	assert_int_equal(tt_scsi_port_register(&p2), 0);
	assert_true(tt_alua_explicit_get(TEST_TARGET, 1));

	assert_int_equal(tt_alua_explicit_set(TEST_TARGET, 1, false), 0);
	assert_false(tt_alua_explicit_get(TEST_TARGET, 1));
	assert_true(tt_alua_explicit_get(TEST_TARGET, 2));
	run_in(e, tt, cdb_inquiry, 6, 96);
	assert_good(tt);
	assert_int_equal(tt->data[5] & 0x30, 0x10); /* TPGS 01b: implicit only */
	/* through the closed group's port STPG is not a supported command */
	p[4] = TT_ALUA_STANDBY;
	tt_put_be16(p + 6, 2);
	stpg_run(e, tt, &e->nexus, p, 8, 8);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x20, 0x00);
	assert_int_equal(tt_alua_state_get(TEST_TARGET, 2), TT_ALUA_ACTIVE_OPTIMIZED);

	/* group 1 open again, group 2 closed: a descriptor naming group 2 is refused, group 1's
	 * is applied */
	assert_int_equal(tt_alua_explicit_set(TEST_TARGET, 1, true), 0);
	assert_int_equal(tt_alua_explicit_set(TEST_TARGET, 2, false), 0);
	run_in(e, tt, cdb_inquiry, 6, 96);
	assert_int_equal(tt->data[5] & 0x30, 0x30);
	stpg_run(e, tt, &e->nexus, p, 8, 8);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x26, 0x00);
	assert_int_equal(tt_alua_state_get(TEST_TARGET, 2), TT_ALUA_ACTIVE_OPTIMIZED);
	tt_put_be16(p + 6, 1);
	stpg_run(e, tt, &e->nexus, p, 8, 8);
	assert_good(tt);
	assert_int_equal(tt_alua_state_get(TEST_TARGET, 1), TT_ALUA_STANDBY);
	/* the administrator still sets a closed group */
	assert_int_equal(tt_alua_state_set(TEST_TARGET, 2, TT_ALUA_STANDBY), 0);
	assert_int_equal(tt_alua_state_get(TEST_TARGET, 2), TT_ALUA_STANDBY);

	/* a group whose last port goes opens again */
	tt_scsi_port_unregister(&p2);
	assert_true(tt_alua_explicit_get(TEST_TARGET, 2));
	tt_scsi_port_unregister(&e->port);
	free(tt);
	env_free(e);
}

static const struct tt_scsi_frontend other_fe = {
	.name = "test-other",
	.proto = &tt_scsi_proto_srp,
	.abort_nexus = tt_scsi_fe_no_abort_nexus,
	.alua_changed = fe_rec_alua,
	.pr_notice = tt_scsi_fe_no_pr_notice,
};

static void test_alua_changed_op(void **state)
{
	struct env *e = env_new("ram:1M");
	struct ttask *tt = ttask_new();
	struct tt_scsi_port p2 = { .fe = &test_fe_rec, .target_name = TEST_TARGET, .tpgt = 2,
				   .rel_port_id = 2, .port_group_id = 2 };
	struct tt_scsi_port p3 = { .fe = &test_fe_rec, .target_name = TEST_TARGET, .tpgt = 3,
				   .rel_port_id = 3, .port_group_id = 2 };
	struct tt_scsi_port srp = { .fe = &other_fe, .target_name = TEST_TARGET,
				    .rel_port_id = 4, .port_group_id = 3 };
	struct tt_scsi_port elsewhere = { .fe = &other_fe, .target_name = "iqn.2024-01.org.x:y",
					  .rel_port_id = 1, .port_group_id = 2 };
	struct tt_scsi_port bare = { .target_name = TEST_TARGET, .rel_port_id = 9 };
	uint8_t p[8] = { 0, 0, 0, 0, TT_ALUA_STANDBY, 0, 0, 2 };

	(void)state;
	memset(&fe_rec, 0, sizeof(fe_rec));
	/* a port belongs to a front end */
	assert_int_equal(tt_scsi_port_register(&bare), -EINVAL);
	e->port.fe = &test_fe_rec;
	assert_int_equal(tt_scsi_port_register(&e->port), 0);
	assert_int_equal(tt_scsi_port_register(&p2), 0);
	assert_int_equal(tt_scsi_port_register(&p3), 0);
	assert_int_equal(tt_scsi_port_register(&elsewhere), 0);

	/* administrative change: once per front end of the target (not per port), every nexus;
	 * nothing when the state stays */
	assert_int_equal(tt_alua_state_set(TEST_TARGET, 2, TT_ALUA_UNAVAILABLE), 0);
	assert_int_equal(fe_rec.alua_calls, 1);
	assert_string_equal(fe_rec.alua_target, TEST_TARGET);
	assert_null(fe_rec.alua_except);
	assert_int_equal(tt_alua_state_set(TEST_TARGET, 2, TT_ALUA_UNAVAILABLE), 0);
	assert_int_equal(fe_rec.alua_calls, 1);

	/* a second front end with a port of the target is told too */
	assert_int_equal(tt_scsi_port_register(&srp), 0);
	assert_int_equal(tt_alua_state_set(TEST_TARGET, 2, TT_ALUA_STANDBY), 0);
	assert_int_equal(fe_rec.alua_calls, 3);
	tt_scsi_port_unregister(&srp);

	/* SET TARGET PORT GROUPS: every nexus but the sender, through the op only */
	p[4] = TT_ALUA_ACTIVE_NON_OPTIMIZED;
	stpg_run(e, tt, &e->nexus, p, 8, 8);
	assert_good(tt);
	assert_int_equal(fe_rec.alua_calls, 4);
	assert_ptr_equal(fe_rec.alua_except, &e->nexus);
	assert_int_equal(tt_lun_ua_pending(e->lun, &e->nexus2), 0);

	tt_scsi_port_unregister(&elsewhere);
	tt_scsi_port_unregister(&p3);
	tt_scsi_port_unregister(&p2);
	tt_scsi_port_unregister(&e->port);
	free(tt);
	env_free(e);
}

static void test_rsoc_lists_stpg(void **state)
{
	struct env *e = env_new("ram:1M");
	struct ttask *tt = ttask_new();
	uint8_t c[12] = { TT_OP_MAINTENANCE_IN, TT_MI_REPORT_SUPPORTED_OPCODES, 0x02,
			  TT_OP_MAINTENANCE_OUT, 0, TT_MO_SET_TARGET_PORT_GROUPS, 0, 0, 0, 64 };

	(void)state;
	run_in(e, tt, c, 12, 64);
	assert_good(tt);
	assert_int_equal(tt->data[1] & 0x07, 0x03); /* supported, as the standard says */
	assert_int_equal(tt_get_be16(tt->data + 2), 12);
	assert_int_equal(tt->data[4], TT_OP_MAINTENANCE_OUT);
	assert_int_equal(tt->data[5], TT_MO_SET_TARGET_PORT_GROUPS);
	assert_int_equal(tt_get_be32(tt->data + 4 + 6), 0xffffffff);
	free(tt);
	env_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tpgs_bits),
		cmocka_unit_test(test_own_port_only),
		cmocka_unit_test(test_registered_ports),
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_state_set_get),
		cmocka_unit_test(test_rtpg_states),
		cmocka_unit_test(test_access_by_state),
		cmocka_unit_test(test_stpg),
		cmocka_unit_test(test_implicit_only),
		cmocka_unit_test(test_alua_changed_op),
		cmocka_unit_test(test_rsoc_lists_stpg),
	};

	return tt_run_group("alua_test", tests, NULL, NULL);
}
