/* SPDX-License-Identifier: BSD-3-Clause */
/* Logical block provisioning: VPD pages, UNMAP, WRITE SAME. */
#include "scsi_util.h"

static size_t unmap_cdb(uint8_t *c, uint16_t plen)
{
	memset(c, 0, 10);
	c[0] = TT_OP_UNMAP;
	tt_put_be16(c + 7, plen);
	return 10;
}

/* UNMAP parameter list of @n descriptors {lba, blocks}; returns its length. */
static uint16_t unmap_params(uint8_t *p, const uint64_t (*d)[2], unsigned n)
{
	memset(p, 0, 8 + 16 * n);
	tt_put_be16(p, (uint16_t)(6 + 16 * n));
	tt_put_be16(p + 2, (uint16_t)(16 * n));
	for (unsigned i = 0; i < n; i++) {
		tt_put_be64(p + 8 + 16 * i, d[i][0]);
		tt_put_be32(p + 8 + 16 * i + 8, (uint32_t)d[i][1]);
	}
	return (uint16_t)(8 + 16 * n);
}

static size_t ws_cdb(uint8_t *c, bool sixteen, uint64_t lba, uint32_t n, uint8_t flags)
{
	memset(c, 0, 16);
	c[0] = sixteen ? TT_OP_WRITE_SAME_16 : TT_OP_WRITE_SAME_10;
	c[1] = flags;
	if (sixteen) {
		tt_put_be64(c + 2, lba);
		tt_put_be32(c + 10, n);
		return 16;
	}
	tt_put_be32(c + 2, (uint32_t)lba);
	tt_put_be16(c + 7, (uint16_t)n);
	return 10;
}

static bool zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

static void write_ff(struct env *e, struct ttask *tt, uint32_t lba, uint16_t n)
{
	uint8_t c[16];

	memset(tt->data, 0xff, (size_t)n * 512);
	run_out(e, tt, c, cdb_rw10(c, TT_OP_WRITE_10, lba, n, 0), (uint32_t)n * 512);
	assert_good(tt);
}

static void test_vpd_thin(void **state)
{
	struct tt_lun_opts opts = { .no_thin = true };
	struct env *e = env_new("ram:1M");
	struct ttask *tt = ttask_new();
	uint8_t c[16] = { TT_OP_INQUIRY, 1, 0xb2, 0, 255 };

	(void)state;
	run_in(e, tt, c, 6, 255);
	assert_good(tt);
	assert_int_equal(tt->data[5], 0x80 | 0x40 | 0x20 | 0x04);
	assert_int_equal(tt->data[6] & 0x07, 2);
	c[2] = 0xb0;
	run_in(e, tt, c, 6, 255);
	assert_int_equal(tt->data[4] & 1, 0); /* WSNZ */
	assert_int_equal(tt_get_be32(tt->data + 20), TT_SBC_MAX_UNMAP_LBA_COUNT);
	assert_int_equal(tt_get_be32(tt->data + 24), TT_SBC_MAX_UNMAP_DESCRIPTORS);
	assert_true(tt_get_be64(tt->data + 36) == TT_SBC_MAX_WRITE_SAME_LEN);
	env_free(e);

	/* reported as fully provisioned: no UNMAP */
	e = env_new_opts("ram:1M", &opts);
	clear_ua(e, &e->nexus);
	c[2] = 0xb2;
	run_in(e, tt, c, 6, 255);
	assert_int_equal(tt->data[5], 0);
	assert_int_equal(tt->data[6], 0);
	c[2] = 0xb0;
	run_in(e, tt, c, 6, 255);
	assert_int_equal(tt_get_be32(tt->data + 20), 0);
	assert_int_equal(tt_get_be32(tt->data + 24), 0);
	memset(c, 0, sizeof(c));
	c[0] = TT_OP_SERVICE_ACTION_IN_16;
	c[1] = TT_SAI_READ_CAPACITY_16;
	tt_put_be32(c + 10, 32);
	run_in(e, tt, c, 16, 32);
	assert_int_equal(tt->data[14] & 0xc0, 0);
	run_out(e, tt, c, unmap_cdb(c, 24), 24);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x20, 0x00);
	memset(tt->data, 0, 512);
	run_out(e, tt, c, ws_cdb(c, true, 0, 1, 0x08), 512);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	free(tt);
	env_free(e);
}

static void test_unmap(void **state)
{
	struct env *e = env_new("ram:1M");
	struct ttask *tt = ttask_new(), *r = ttask_new();
	const uint64_t d[3][2] = { { 2, 3 }, { 10, 2 }, { 0, 0 } };
	const uint64_t bad[2][2] = { { 2, 3 }, { 2048, 1 } };
	uint8_t c[16];
	uint16_t plen;

	(void)state;
	write_ff(e, tt, 0, 16);
	plen = unmap_params(tt->data, d, 3);
	run_out(e, tt, c, unmap_cdb(c, plen), plen);
	assert_good(tt);
	run_in(e, r, c, cdb_rw10(c, TT_OP_READ_10, 0, 16, 0), 16 * 512);
	assert_good(r);
	for (int b = 0; b < 16; b++) {
		bool unmapped = (b >= 2 && b < 5) || (b >= 10 && b < 12);
		assert_int_equal(zero(r->data + b * 512, 512), unmapped);
	}

	/* a descriptor out of range: nothing is unmapped */
	write_ff(e, tt, 0, 16);
	plen = unmap_params(tt->data, bad, 2);
	run_out(e, tt, c, unmap_cdb(c, plen), plen);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x21, 0x00);
	run_in(e, r, c, cdb_rw10(c, TT_OP_READ_10, 2, 1, 0), 512);
	assert_int_equal(r->data[0], 0xff);

	/* parameter list errors */
	plen = unmap_params(tt->data, d, 1);
	run_out(e, tt, c, unmap_cdb(c, 6), 6);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x1a, 0x00);
	run_out(e, tt, c, unmap_cdb(c, 16), 16); /* descriptor data runs past the list */
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x1a, 0x00);
	memset(tt->data, 0, 8 + 16 * 257);
	tt_put_be16(tt->data + 2, 16 * 257);
	run_out(e, tt, c, unmap_cdb(c, 8 + 16 * 257), 8 + 16 * 257);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x26, 0x00);
	run_out(e, tt, c, unmap_cdb(c, 0), 0); /* nothing to do */
	assert_good(tt);
	memset(tt->data, 0, 8);
	run_out(e, tt, c, unmap_cdb(c, 8), 8); /* no descriptors */
	assert_good(tt);
	plen = unmap_params(tt->data, d, 1);
	unmap_cdb(c, plen);
	c[1] = 1; /* ANCHOR */
	run_out(e, tt, c, 10, plen);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	free(tt);
	free(r);
	env_free(e);
}

static void test_write_same(void **state)
{
	struct env *e = env_new("ram:1M");
	struct ttask *tt = ttask_new(), *r = ttask_new();
	uint8_t c[16];

	(void)state;
	/* a pattern over 300 blocks: two backend I/Os */
	for (int i = 0; i < 512; i++)
		tt->data[i] = (uint8_t)(i * 3 + 1);
	run_out(e, tt, c, ws_cdb(c, false, 100, 300, 0), 512);
	assert_good(tt);
	run_in(e, r, c, cdb_rw10(c, TT_OP_READ_10, 99, 302, 0), 302 * 512);
	assert_good(r);
	assert_true(zero(r->data, 512));
	for (int b = 1; b <= 300; b++)
		assert_memory_equal(r->data + b * 512, tt->data, 512);
	assert_true(zero(r->data + 301 * 512, 512));

	/* zeroes with UNMAP, zeroes without, no Data-Out */
	write_ff(e, tt, 0, 30);
	memset(tt->data, 0, 512);
	run_out(e, tt, c, ws_cdb(c, true, 0, 10, 0x08), 512);
	assert_good(tt);
	run_out(e, tt, c, ws_cdb(c, false, 10, 10, 0), 512);
	assert_good(tt);
	run_out(e, tt, c, ws_cdb(c, true, 20, 5, 0x01), 0);
	assert_good(tt);
	run_in(e, r, c, cdb_rw10(c, TT_OP_READ_10, 0, 30, 0), 30 * 512);
	assert_true(zero(r->data, 25 * 512));
	assert_int_equal(r->data[25 * 512], 0xff);

	/* errors */
	/* 0 blocks: to the end of the medium (2048 blocks), within MAXIMUM WRITE SAME LENGTH */
	write_ff(e, tt, 2040, 8);
	memset(tt->data, 0, 512);
	run_out(e, tt, c, ws_cdb(c, false, 2044, 0, 0), 512);
	assert_good(tt);
	run_in(e, r, c, cdb_rw10(c, TT_OP_READ_10, 2040, 8, 0), 8 * 512);
	assert_int_equal(r->data[4 * 512 - 1], 0xff);
	assert_true(zero(r->data + 4 * 512, 4 * 512));
	run_out(e, tt, c, ws_cdb(c, true, 2047, 0, 0), 512);
	assert_good(tt);
	run_out(e, tt, c, ws_cdb(c, true, 2048, 0, 0), 512);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x21, 0x00);
	run_out(e, tt, c, ws_cdb(c, true, UINT64_MAX, 0, 0), 512);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x21, 0x00);
	run_out(e, tt, c, ws_cdb(c, false, 2047, 2, 0), 512);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x21, 0x00);
	run_out(e, tt, c, ws_cdb(c, false, 0, 1, 0), 256);       /* half a block */
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x0e, 0x03);
	run_out(e, tt, c, ws_cdb(c, false, 0, 1, 0), 1024);      /* two blocks */
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x0e, 0x03);
	run_out(e, tt, c, ws_cdb(c, true, 0, 1, 0x10), 512);     /* ANCHOR */
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	run_out(e, tt, c, ws_cdb(c, true, 0, TT_SBC_MAX_WRITE_SAME_LEN + 1, 0), 512);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	free(tt);
	free(r);
	env_free(e);

	/* 0 blocks on a LUN larger than MAXIMUM WRITE SAME LENGTH (131072 blocks) */
	e = env_new("ram:64M");
	tt = ttask_new();
	memset(tt->data, 0, 512);
	run_out(e, tt, c, ws_cdb(c, false, 0, 0, 0), 512);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	run_out(e, tt, c, ws_cdb(c, false, 131072 - TT_SBC_MAX_WRITE_SAME_LEN - 1, 0, 0), 512);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	run_out(e, tt, c, ws_cdb(c, true, 131072 - TT_SBC_MAX_WRITE_SAME_LEN, 0, 0), 512);
	assert_good(tt);
	free(tt);
	env_free(e);

	struct tt_lun_opts opts = { .write_protect = true };
	e = env_new_opts("ram:1M", &opts);
	tt = ttask_new();
	clear_ua(e, &e->nexus);
	run_out(e, tt, c, ws_cdb(c, false, 0, 1, 0), 512);
	assert_sense(tt, TT_SK_DATA_PROTECT, 0x27, 0x00);
	run_out(e, tt, c, unmap_cdb(c, 8), 8);
	assert_sense(tt, TT_SK_DATA_PROTECT, 0x27, 0x00);
	free(tt);
	env_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vpd_thin),
		cmocka_unit_test(test_unmap),
		cmocka_unit_test(test_write_same),
	};

	return tt_run_group("lbp_test", tests, NULL, NULL);
}
