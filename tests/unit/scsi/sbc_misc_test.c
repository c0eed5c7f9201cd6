/* SPDX-License-Identifier: BSD-3-Clause */
/* PRE-FETCH, READ DEFECT DATA, PREVENT ALLOW MEDIUM REMOVAL, SANITIZE. */
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

static size_t sanitize_cdb(uint8_t *c, uint8_t sa, uint16_t plen)
{
	memset(c, 0, 10);
	c[0] = TT_OP_SANITIZE;
	c[1] = sa;
	tt_put_be16(c + 7, plen);
	return 10;
}

/* Writes a pattern at the start and the end of the LUN, erases, reads zeroes back. */
static void erase_and_check(struct env *e, bool thin)
{
	struct ttask *tt = ttask_new();
	uint8_t c[16];

	memset(tt->data, 0x5c, 8 * 512);
	run_out(e, tt, c, cdb_rw10(c, TT_OP_WRITE_10, 0, 8, 0), 8 * 512);
	assert_good(tt);
	run_out(e, tt, c, cdb_rw10(c, TT_OP_WRITE_10, 2040, 8, 0), 8 * 512);
	assert_good(tt);
	run_out(e, tt, c, sanitize_cdb(c, 0x80 | TT_SANITIZE_BLOCK_ERASE, 0), 0); /* IMMED */
	assert_good(tt);
	memset(tt->data, 0xee, 2048 * 512);
	run_in(e, tt, c, cdb_rw10(c, TT_OP_READ_10, 0, 2048, 0), 2048 * 512);
	assert_good(tt);
	for (size_t i = 0; i < 2048 * 512; i++)
		assert_int_equal(tt->data[i], 0);
	/* every block deallocated on a thin LUN */
	memset(c, 0, 16);
	c[0] = TT_OP_SERVICE_ACTION_IN_16;
	c[1] = TT_SAI_GET_LBA_STATUS;
	tt_put_be32(c + 10, 64);
	run_in(e, tt, c, 16, 64);
	assert_good(tt);
	assert_int_equal(tt_get_be32(tt->data), 20);
	assert_int_equal(tt_get_be32(tt->data + 16), 2048);
	assert_int_equal(tt->data[20], thin ? 1 : 0);
	free(tt);
}

static void test_sanitize(void **state)
{
	struct tt_lun_opts no_thin = { .no_thin = true }, wp = { .write_protect = true };
	struct env *e = env_new("ram:1M");
	struct ttask *tt = ttask_new();
	uint8_t c[16];

	(void)state;
	erase_and_check(e, true);
	run_out(e, tt, c, sanitize_cdb(c, TT_SANITIZE_EXIT_FAILURE_MODE, 0), 0);
	assert_good(tt);
	/* no parameter list; OVERWRITE, CRYPTO ERASE and others are not supported */
	memset(tt->data, 0, 8);
	run_out(e, tt, c, sanitize_cdb(c, TT_SANITIZE_BLOCK_ERASE, 8), 8);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	run_out(e, tt, c, sanitize_cdb(c, TT_SANITIZE_EXIT_FAILURE_MODE, 8), 8);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	for (uint8_t sa = 0; sa < 0x1f; sa++) {
		if (sa == TT_SANITIZE_BLOCK_ERASE)
			continue;
		run_out(e, tt, c, sanitize_cdb(c, sa, 0), 0);
		assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	}
	/* reserved bits and bytes */
	run_out(e, tt, c, sanitize_cdb(c, 0x40 | TT_SANITIZE_BLOCK_ERASE, 0), 0);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	sanitize_cdb(c, TT_SANITIZE_BLOCK_ERASE, 0);
	c[4] = 1;
	run_out(e, tt, c, 10, 0);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	env_free(e);

	/* not thin: zeroes are written */
	e = env_new_opts("ram:1M", &no_thin);
	clear_ua(e, &e->nexus);
	erase_and_check(e, false);
	env_free(e);

	e = env_new_opts("ram:1M", &wp);
	clear_ua(e, &e->nexus);
	run_out(e, tt, c, sanitize_cdb(c, TT_SANITIZE_BLOCK_ERASE, 0), 0);
	assert_sense(tt, TT_SK_DATA_PROTECT, 0x27, 0x00);
	free(tt);
	env_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefetch),
		cmocka_unit_test(test_read_defect_data),
		cmocka_unit_test(test_prevent_allow),
		cmocka_unit_test(test_sanitize),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
