/* SPDX-License-Identifier: BSD-3-Clause */
/* REPORT TARGET PORT GROUPS and the TPGS field of standard INQUIRY. */
#include "scsi_util.h"

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
	assert_int_equal(tt->data[5] & 0x30, 0x10); /* implicit ALUA */
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
	assert_int_equal(tt->data[4] & 0x0f, 0x0);   /* active/optimized */
	assert_int_equal(tt->data[5] & 0x01, 0x01);  /* AO_SUP */
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
	struct tt_scsi_port p2 = { .target_name = TEST_TARGET, .tpgt = 2, .rel_port_id = 2,
				   .port_group_id = 2 };
	struct tt_scsi_port p3 = { .target_name = TEST_TARGET, .tpgt = 3, .rel_port_id = 3,
				   .port_group_id = 1 };
	struct tt_scsi_port other = { .target_name = "iqn.2024-01.org.tether:other", .tpgt = 1,
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tpgs_bits),
		cmocka_unit_test(test_own_port_only),
		cmocka_unit_test(test_registered_ports),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
