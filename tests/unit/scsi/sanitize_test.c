/* SPDX-License-Identifier: BSD-3-Clause */
/* SANITIZE: OVERWRITE, BLOCK ERASE, CRYPTO ERASE, EXIT FAILURE MODE, the sanitize states. */
#include "scsi_util.h"

static size_t sanitize_cdb(uint8_t *c, uint8_t sa, uint16_t plen)
{
	memset(c, 0, 10);
	c[0] = TT_OP_SANITIZE;
	c[1] = sa;
	tt_put_be16(c + 7, plen);
	return 10;
}

/* OVERWRITE parameter list in @tt->data; returns its length. */
static uint16_t overwrite_params(struct ttask *tt, uint8_t byte0, const uint8_t *pat, uint16_t len)
{
	tt->data[0] = byte0;
	tt->data[1] = 0;
	tt_put_be16(tt->data + 2, len);
	memcpy(tt->data + 4, pat, len);
	return (uint16_t)(len + 4);
}

static void write_marks(struct env *e, struct ttask *tt, uint32_t nblocks)
{
	uint8_t c[16];

	memset(tt->data, 0x5c, 8 * 512);
	run_out(e, tt, c, cdb_rw10(c, TT_OP_WRITE_10, 0, 8, 0), 8 * 512);
	assert_good(tt);
	run_out(e, tt, c, cdb_rw10(c, TT_OP_WRITE_10, nblocks - 8, 8, 0), 8 * 512);
	assert_good(tt);
}

static void read_all(struct env *e, struct ttask *tt, uint32_t nblocks)
{
	uint8_t c[16];

	memset(tt->data, 0xee, nblocks * 512);
	run_in(e, tt, c, cdb_rw10(c, TT_OP_READ_10, 0, (uint16_t)nblocks, 0), nblocks * 512);
	assert_good(tt);
}

/* Runs the loop until TEST UNIT READY stops answering SANITIZE IN PROGRESS. */
static void wait_sanitize(struct env *e, struct ttask *tt)
{
	uint8_t c[6] = { TT_OP_TEST_UNIT_READY };

	for (int i = 0; i < 500; i++) {
		run_in(e, tt, c, 6, 0);
		if (tt->t.status == TT_SAM_GOOD)
			return;
		tt_loop_run_once(e->loop, 10);
	}
	fail_msg("the sanitize did not end");
}

static void erase_and_check(struct env *e, uint8_t sa, bool thin)
{
	struct ttask *tt = ttask_new();
	uint8_t c[16];

	write_marks(e, tt, 2048);
	run_out(e, tt, c, sanitize_cdb(c, sa, 0), 0);
	assert_good(tt);
	if (sa & 0x80) /* IMMED: GOOD before the end */
		wait_sanitize(e, tt);
	read_all(e, tt, 2048);
	for (size_t i = 0; i < 2048 * 512; i++)
		assert_int_equal(tt->data[i], 0);
	memset(c, 0, 16);
	c[0] = TT_OP_SERVICE_ACTION_IN_16;
	c[1] = TT_SAI_GET_LBA_STATUS;
	tt_put_be32(c + 10, 64);
	run_in(e, tt, c, 16, 64);
	assert_good(tt);
	assert_int_equal(tt_get_be32(tt->data + 16), 2048);
	assert_int_equal(tt->data[20], thin ? 1 : 0); /* deallocated on a thin LUN */
	free(tt);
}

static void test_erase(void **state)
{
	struct tt_lun_opts no_thin = { .no_thin = true };
	struct env *e = env_new("ram:1M");
	struct ttask *tt = ttask_new();
	uint8_t c[16];

	(void)state;
	erase_and_check(e, TT_SANITIZE_BLOCK_ERASE, true);
	erase_and_check(e, TT_SANITIZE_CRYPTO_ERASE, true);
	erase_and_check(e, 0x80 | TT_SANITIZE_CRYPTO_ERASE, true);
	/* no parameter list but for OVERWRITE */
	memset(tt->data, 0, 8);
	for (uint8_t sa = 2; sa <= 3; sa++) {
		run_out(e, tt, c, sanitize_cdb(c, sa, 8), 8);
		assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	}
	run_out(e, tt, c, sanitize_cdb(c, TT_SANITIZE_EXIT_FAILURE_MODE, 8), 8);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	run_out(e, tt, c, sanitize_cdb(c, TT_SANITIZE_EXIT_FAILURE_MODE, 0), 0);
	assert_good(tt);
	/* unknown service actions, reserved bits and bytes */
	for (uint8_t sa = 4; sa < 0x1f; sa++) {
		run_out(e, tt, c, sanitize_cdb(c, sa, 0), 0);
		assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	}
	run_out(e, tt, c, sanitize_cdb(c, 0, 0), 0);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	run_out(e, tt, c, sanitize_cdb(c, 0x40 | TT_SANITIZE_CRYPTO_ERASE, 0), 0);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	sanitize_cdb(c, TT_SANITIZE_BLOCK_ERASE, 0);
	c[4] = 1;
	run_out(e, tt, c, 10, 0);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	env_free(e);

	e = env_new_opts("ram:1M", &no_thin);
	clear_ua(e, &e->nexus);
	erase_and_check(e, TT_SANITIZE_CRYPTO_ERASE, false);
	env_free(e);
	free(tt);
}

static void test_overwrite_params(void **state)
{
	struct env *e = env_new("ram:1M");
	struct ttask *tt = ttask_new();
	uint8_t c[16], pat[600];
	uint16_t n;

	(void)state;
	memset(pat, 0xaa, sizeof(pat));
	n = overwrite_params(tt, 1, pat, 512);
	for (uint16_t plen = 0; plen <= 4; plen++) {
		run_out(e, tt, c, sanitize_cdb(c, TT_SANITIZE_OVERWRITE, plen), plen);
		assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	}
	run_out(e, tt, c, sanitize_cdb(c, TT_SANITIZE_OVERWRITE, 512 + 5), 512 + 5);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	/* less data than the parameter list length */
	run_out(e, tt, c, sanitize_cdb(c, TT_SANITIZE_OVERWRITE, n), 8);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x1a, 0x00);
	n = overwrite_params(tt, 0, pat, 512); /* OVERWRITE COUNT 0 */
	run_out(e, tt, c, sanitize_cdb(c, TT_SANITIZE_OVERWRITE, n), n);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x26, 0x00);
	n = overwrite_params(tt, 0x21, pat, 512); /* TEST */
	run_out(e, tt, c, sanitize_cdb(c, TT_SANITIZE_OVERWRITE, n), n);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x26, 0x00);
	n = overwrite_params(tt, 1, pat, 512);
	tt_put_be16(tt->data + 2, 0); /* INITIALIZATION PATTERN LENGTH 0 */
	run_out(e, tt, c, sanitize_cdb(c, TT_SANITIZE_OVERWRITE, n), n);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x26, 0x00);
	tt_put_be16(tt->data + 2, 516); /* more than a block */
	run_out(e, tt, c, sanitize_cdb(c, TT_SANITIZE_OVERWRITE, n), n);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x26, 0x00);
	tt_put_be16(tt->data + 2, 100); /* beyond the parameter list */
	run_out(e, tt, c, sanitize_cdb(c, TT_SANITIZE_OVERWRITE, 50), 50);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x26, 0x00);
	free(tt);
	env_free(e);

	/* write protected */
	struct tt_lun_opts wp = { .write_protect = true };
	e = env_new_opts("ram:1M", &wp);
	tt = ttask_new();
	clear_ua(e, &e->nexus);
	n = overwrite_params(tt, 1, pat, 512);
	run_out(e, tt, c, sanitize_cdb(c, TT_SANITIZE_OVERWRITE, n), n);
	assert_sense(tt, TT_SK_DATA_PROTECT, 0x27, 0x00);
	run_out(e, tt, c, sanitize_cdb(c, TT_SANITIZE_CRYPTO_ERASE, 0), 0);
	assert_sense(tt, TT_SK_DATA_PROTECT, 0x27, 0x00);
	free(tt);
	env_free(e);
}

static void test_overwrite(void **state)
{
	struct env *e = env_new("ram:1M");
	struct ttask *tt = ttask_new();
	const uint8_t pat[3] = { 0x12, 0x34, 0x56 };
	uint8_t c[16];
	uint16_t n;

	(void)state;
	write_marks(e, tt, 2048);
	n = overwrite_params(tt, 1, pat, 3);
	run_out(e, tt, c, sanitize_cdb(c, TT_SANITIZE_OVERWRITE, n), n);
	assert_good(tt);
	read_all(e, tt, 2048);
	for (size_t i = 0; i < 2048 * 512; i++)
		assert_int_equal(tt->data[i], pat[(i % 512) % 3]);
	/* two passes, inverted between them: the second leaves the inverse */
	n = overwrite_params(tt, 0x80 | 2, pat, 3);
	run_out(e, tt, c, sanitize_cdb(c, TT_SANITIZE_OVERWRITE, n), n);
	assert_good(tt);
	read_all(e, tt, 2048);
	for (size_t i = 0; i < 2048 * 512; i++)
		assert_int_equal(tt->data[i], (uint8_t)~pat[(i % 512) % 3]);
	free(tt);
	env_free(e);
}

/* A paced overwrite with IMMED: what the LUN answers while it runs. */
static void test_in_progress(void **state)
{
	struct env *e = env_new("ram:4M");
	struct ttask *tt = ttask_new();
	uint8_t c[16], pat[512];
	uint16_t n;

	(void)state;
	memset(pat, 0xa5, sizeof(pat));
	e->lun->state->sanitize_rate = 8u << 20; /* half a second */
	n = overwrite_params(tt, 1, pat, 512);
	run_out(e, tt, c, sanitize_cdb(c, 0x80 | TT_SANITIZE_OVERWRITE, n), n);
	assert_good(tt);
	for (int i = 0; i < 20; i++) /* a little progress */
		tt_loop_run_once(e->loop, 10);
	memset(c, 0, 16);
	c[0] = TT_OP_TEST_UNIT_READY;
	run_in(e, tt, c, 6, 0);
	assert_sense(tt, TT_SK_NOT_READY, 0x04, 0x1b);
	assert_int_equal(tt->t.sense[15], 0x80); /* SKSV, progress indication */
	assert_true(tt_get_be16(tt->t.sense + 16) > 0);
	assert_true(tt_get_be16(tt->t.sense + 16) < 0xffff);
	run_in(e, tt, c, cdb_rw10(c, TT_OP_READ_10, 0, 1, 0), 512);
	assert_sense(tt, TT_SK_NOT_READY, 0x04, 0x1b);
	run_out(e, tt, c, sanitize_cdb(c, TT_SANITIZE_EXIT_FAILURE_MODE, 0), 0);
	assert_sense(tt, TT_SK_NOT_READY, 0x04, 0x1b);
	memset(c, 0, 16);
	c[0] = TT_OP_INQUIRY;
	c[4] = 96;
	run_in(e, tt, c, 6, 96);
	assert_good(tt);
	memset(c, 0, 16);
	c[0] = TT_OP_REQUEST_SENSE;
	c[4] = 18;
	run_in(e, tt, c, 6, 18);
	assert_good(tt);
	assert_int_equal(tt->data[2] & 0x0f, TT_SK_NOT_READY);
	assert_int_equal(tt->data[12], 0x04);
	assert_int_equal(tt->data[13], 0x1b);
	assert_int_equal(tt->data[15], 0x80);
	wait_sanitize(e, tt);
	read_all(e, tt, 8192 / 4);
	for (size_t i = 0; i < 2048 * 512; i++)
		assert_int_equal(tt->data[i], 0xa5);
	free(tt);
	env_free(e);
}

/* A write error leaves the LUN in the sanitize-failed state. */
static void test_failure(void **state)
{
	struct env *e = env_new("fail:op=write,ram:1M");
	struct ttask *tt = ttask_new();
	uint8_t c[16], pat[4] = { 1, 2, 3, 4 };
	uint16_t n;

	(void)state;
	n = overwrite_params(tt, 1, pat, 4);
	run_out(e, tt, c, sanitize_cdb(c, TT_SANITIZE_OVERWRITE, n), n);
	assert_sense(tt, TT_SK_MEDIUM_ERROR, 0x0c, 0x00);
	memset(c, 0, 16);
	c[0] = TT_OP_TEST_UNIT_READY;
	run_in(e, tt, c, 6, 0);
	assert_sense(tt, TT_SK_MEDIUM_ERROR, 0x31, 0x03);
	memset(c, 0, 16);
	c[0] = TT_OP_INQUIRY;
	c[4] = 96;
	run_in(e, tt, c, 6, 96);
	assert_good(tt);
	/* AUSE was 0: EXIT FAILURE MODE refused, a sanitize that completes leaves the state */
	run_out(e, tt, c, sanitize_cdb(c, TT_SANITIZE_EXIT_FAILURE_MODE, 0), 0);
	assert_sense(tt, TT_SK_MEDIUM_ERROR, 0x31, 0x03);
	run_out(e, tt, c, sanitize_cdb(c, TT_SANITIZE_BLOCK_ERASE, 0), 0); /* UNMAP: not failed */
	assert_good(tt);
	memset(c, 0, 16);
	c[0] = TT_OP_TEST_UNIT_READY;
	run_in(e, tt, c, 6, 0);
	assert_good(tt);
	/* AUSE 1: EXIT FAILURE MODE leaves it */
	n = overwrite_params(tt, 1, pat, 4);
	run_out(e, tt, c, sanitize_cdb(c, 0x20 | TT_SANITIZE_OVERWRITE, n), n);
	assert_sense(tt, TT_SK_MEDIUM_ERROR, 0x0c, 0x00);
	run_out(e, tt, c, sanitize_cdb(c, TT_SANITIZE_EXIT_FAILURE_MODE, 0), 0);
	assert_good(tt);
	memset(c, 0, 16);
	c[0] = TT_OP_TEST_UNIT_READY;
	run_in(e, tt, c, 6, 0);
	assert_good(tt);
	free(tt);
	env_free(e);
}

static void test_reported(void **state)
{
	struct env *e = env_new("ram:1M");
	struct ttask *tt = ttask_new();
	uint8_t c[16];

	(void)state;
	for (uint8_t sa = 1; sa <= 3; sa++) {
		memset(c, 0, 16);
		c[0] = TT_OP_MAINTENANCE_IN;
		c[1] = TT_MI_REPORT_SUPPORTED_OPCODES;
		c[2] = 2;
		c[3] = TT_OP_SANITIZE;
		tt_put_be16(c + 4, sa);
		tt_put_be32(c + 6, 64);
		run_in(e, tt, c, 12, 64);
		assert_good(tt);
		assert_int_equal(tt->data[1] & 0x07, 0x03);
	}
	memset(c, 0, 16);
	c[0] = TT_OP_INQUIRY;
	c[1] = 1;
	c[2] = 0xb1;
	c[4] = 64;
	run_in(e, tt, c, 6, 64);
	assert_good(tt);
	assert_int_equal(tt->data[7] & 0x70, 0x50); /* WABEREQ 01b, WACEREQ 01b */
	free(tt);
	env_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_erase),
		cmocka_unit_test(test_overwrite_params),
		cmocka_unit_test(test_overwrite),
		cmocka_unit_test(test_in_progress),
		cmocka_unit_test(test_failure),
		cmocka_unit_test(test_reported),
	};

	return tt_run_group("sanitize_test", tests, NULL, NULL);
}
