/* SPDX-License-Identifier: BSD-3-Clause */
/* PRE-FETCH, READ DEFECT DATA, PREVENT ALLOW MEDIUM REMOVAL (SANITIZE: sanitize_test.c). */
#include "scsi_util.h"

static void test_prefetch(void **state)
{
	struct env *e = env_new("ram:1M");
	struct ttask *tt = ttask_new();
	uint8_t c[16];

	(void)state;
	run_in(e, tt, c, cdb_rw10(c, TT_OP_PRE_FETCH_10, 0, 256, 0), 0);
	assert_good(tt);
	run_in(e, tt, c, cdb_rw10(c, TT_OP_PRE_FETCH_10, 2047, 1, 0x02), 0); /* IMMED */
	assert_good(tt);
	c[6] = 3; /* GROUP NUMBER */
	run_in(e, tt, c, 10, 0);
	assert_good(tt);
	run_in(e, tt, c, cdb_rw10(c, TT_OP_PRE_FETCH_10, 2047, 2, 0), 0);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x21, 0x00);
	run_in(e, tt, c, cdb_rw10(c, TT_OP_PRE_FETCH_10, 2049, 0, 0), 0);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x21, 0x00);
	run_in(e, tt, c, cdb_rw16(c, TT_OP_PRE_FETCH_16, 0, 2048, 0), 0);
	assert_good(tt);
	run_in(e, tt, c, cdb_rw16(c, TT_OP_PRE_FETCH_16, 1ull << 63, 1, 0), 0);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x21, 0x00);
	run_in(e, tt, c, cdb_rw16(c, TT_OP_PRE_FETCH_16, 0, 1, 0x04), 0); /* reserved bit */
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	free(tt);
	env_free(e);
}

static void test_read_defect_data(void **state)
{
	struct env *e = env_new("ram:1M");
	struct ttask *tt = ttask_new();
	uint8_t c[16] = { TT_OP_READ_DEFECT_DATA_10, 0, 0x18 | 0x05 };

	(void)state;
	tt_put_be16(c + 7, 32);
	memset(tt->data, 0xee, 32);
	run_in(e, tt, c, 10, 32);
	assert_good(tt);
	assert_int_equal(tt->t.data_len, 4);
	assert_int_equal(tt->data[1], 0x18 | 0x05); /* PLISTV, GLISTV, format */
	assert_int_equal(tt_get_be16(tt->data + 2), 0);

	memset(c, 0, sizeof(c));
	c[0] = TT_OP_READ_DEFECT_DATA_12;
	c[1] = 0x08 | 0x03;
	tt_put_be32(c + 6, 32);
	run_in(e, tt, c, 12, 32);
	assert_good(tt);
	assert_int_equal(tt->t.data_len, 8);
	assert_int_equal(tt->data[1], 0x0b);
	assert_int_equal(tt_get_be32(tt->data + 4), 0);
	/* allocation length 0 */
	tt_put_be32(c + 6, 0);
	run_in(e, tt, c, 12, 0);
	assert_good(tt);
	assert_int_equal(tt->t.data_len, 0);
	free(tt);
	env_free(e);
}

static void test_prevent_allow(void **state)
{
	struct env *e = env_new("ram:1M");
	struct ttask *tt = ttask_new();
	uint8_t c[6] = { TT_OP_PREVENT_ALLOW_MEDIUM_REMOVAL, 0, 0, 0, 1, 0 };

	(void)state;
	run_in(e, tt, c, 6, 0);
	assert_good(tt);
	c[4] = 0;
	run_in(e, tt, c, 6, 0);
	assert_good(tt);
	c[4] = 2;
	run_in(e, tt, c, 6, 0);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	c[4] = 0;
	c[1] = 1;
	run_in(e, tt, c, 6, 0);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	free(tt);
	env_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefetch),
		cmocka_unit_test(test_read_defect_data),
		cmocka_unit_test(test_prevent_allow),
	};

	return tt_run_group("sbc_misc_test", tests, NULL, NULL);
}
