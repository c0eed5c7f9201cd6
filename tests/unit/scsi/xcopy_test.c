/* SPDX-License-Identifier: BSD-3-Clause */
/* EXTENDED COPY (LID1), RECEIVE COPY RESULTS and the registry of LUNs by NAA identifier. */
#include "scsi_util.h"

#define SK_COPY_ABORTED 0x0a

/* An identification CSCD descriptor naming @lun by the NAA designator of its VPD 83h page. */
static void put_cscd(uint8_t *d, const struct tt_lun *lun)
{
	uint8_t page[1024];
	int n = tt_vpd_build(lun, NULL, 0x83, page, sizeof(page));

	assert_true(n > 8);
	/* the first designator is the NAA one: code set, association/type, length 16 */
	assert_int_equal(page[5] & 0x0f, 0x3);
	memset(d, 0, 32);
	d[0] = 0xe4;
	memcpy(d + 4, page + 4, 4 + 16);
	tt_put_be24(d + 29, lun->bdev->block_size);
}

static void put_seg(uint8_t *d, uint16_t src, uint16_t dst, uint16_t nblocks, uint64_t src_lba,
		    uint64_t dst_lba)
{
	memset(d, 0, 28);
	d[0] = 0x02;
	tt_put_be16(d + 2, 24);
	tt_put_be16(d + 4, src);
	tt_put_be16(d + 6, dst);
	tt_put_be16(d + 10, nblocks);
	tt_put_be64(d + 12, src_lba);
	tt_put_be64(d + 20, dst_lba);
}

static void put_hdr(uint8_t *p, uint8_t list_id, uint8_t usage, uint16_t cscd_len,
		    uint32_t seg_len, uint32_t inline_len)
{
	memset(p, 0, 16);
	p[0] = list_id;
	p[1] = (uint8_t)(usage << 3);
	tt_put_be16(p + 2, cscd_len);
	tt_put_be32(p + 8, seg_len);
	tt_put_be32(p + 12, inline_len);
}

static void xcopy_run(struct env *e, struct ttask *tt, struct tt_lun *lun, uint32_t plen)
{
	uint8_t c[16] = { TT_OP_EXTENDED_COPY, 0x00 };

	tt_put_be32(c + 10, plen);
	ttask_run(e, tt, &e->nexus, lun, c, 16, true, plen);
}

static void rcr_run(struct env *e, struct ttask *tt, uint8_t sa, uint8_t list_id)
{
	uint8_t c[16] = { TT_OP_RECEIVE_COPY_RESULTS, sa, list_id };

	tt_put_be32(c + 10, 1024);
	run_in(e, tt, c, 16, 1024);
}

static void rw_run(struct env *e, struct ttask *tt, struct tt_lun *lun, bool write, uint64_t lba,
		   uint32_t nblocks)
{
	uint8_t c[16] = { write ? TT_OP_WRITE_16 : TT_OP_READ_16 };

	tt_put_be64(c + 2, lba);
	tt_put_be32(c + 10, nblocks);
	ttask_run(e, tt, &e->nexus, lun, c, 16, write, nblocks * 512);
	assert_good(tt);
}

/* One CSCD (LUN 0) and one segment. */
static uint32_t simple_list(struct env *e, uint8_t *p, uint8_t usage, uint16_t nblocks,
			    uint64_t src, uint64_t dst)
{
	put_hdr(p, 1, usage, 32, 28, 0);
	put_cscd(p + 16, e->lun);
	put_seg(p + 48, 0, 0, nblocks, src, dst);
	return 16 + 32 + 28;
}

static void test_op_params(void **state)
{
	struct env *e = env_new("ram:8M");
	struct ttask *tt = ttask_new();
	uint8_t c[6];

	(void)state;
	rcr_run(e, tt, 0x03, 0);
	assert_good(tt);
	assert_true(tt_get_be32(tt->data) >= 40);
	assert_int_equal(tt_get_be16(tt->data + 8), 16);
	assert_int_equal(tt_get_be16(tt->data + 10), 16);
	assert_int_equal(tt_get_be32(tt->data + 12), 1024);
	assert_int_equal(tt_get_be32(tt->data + 16), 0xffff * 512);
	assert_int_equal(tt->data[43], 2);
	assert_int_equal(tt->data[44], 0x02);
	assert_int_equal(tt->data[45], 0xe4);
	assert_int_equal(tt->t.data_len, 46);

	/* standard INQUIRY: 3PC */
	memset(c, 0, sizeof(c));
	c[0] = TT_OP_INQUIRY;
	c[4] = 96;
	run_in(e, tt, c, 6, 96);
	assert_good(tt);
	assert_int_equal(tt->data[5] & 0x08, 0x08);

	/* Third-party Copy page: supported commands, parameter data, supported descriptors */
	c[1] = 1;
	c[2] = 0x8f;
	c[4] = 255;
	run_in(e, tt, c, 6, 255);
	assert_good(tt);
	assert_int_equal(tt->data[1], 0x8f);
	assert_int_equal(tt_get_be16(tt->data + 4), 0x0001);
	assert_int_equal(tt->data[9], TT_OP_EXTENDED_COPY);
	free(tt);
	env_free(e);
}

static void test_copy_same_lun(void **state)
{
	struct env *e = env_new("ram:8M");
	struct ttask *tt = ttask_new();
	static uint8_t pattern[4096 * 512];
	uint32_t plen;

	(void)state;
	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i * 7 + i / 512);
	/* 4096 blocks: 2 MiB, several chunks */
	for (uint32_t b = 0; b < 4096; b += 2048) {
		memcpy(tt->data, pattern + b * 512, 2048 * 512);
		rw_run(e, tt, e->lun, true, b, 2048);
	}
	plen = simple_list(e, tt->data, 0, 4096, 0, 8192);
	xcopy_run(e, tt, e->lun, plen);
	assert_good(tt);
	for (uint32_t b = 0; b < 4096; b += 2048) {
		rw_run(e, tt, e->lun, false, 8192 + b, 2048);
		assert_memory_equal(tt->data, pattern + b * 512, 2048 * 512);
	}

	/* COPY STATUS of the held results: done, one segment, 2 MiB; then discarded */
	rcr_run(e, tt, 0x00, 1);
	assert_good(tt);
	assert_int_equal(tt_get_be32(tt->data), 8);
	assert_int_equal(tt->data[4], 0x01);
	assert_int_equal(tt_get_be16(tt->data + 5), 1);
	assert_int_equal(tt->data[7], 0);
	assert_int_equal(tt_get_be32(tt->data + 8), 4096 * 512);
	rcr_run(e, tt, 0x00, 1);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);

	/* not held (LIST ID USAGE 10b): no results */
	plen = simple_list(e, tt->data, 2, 8, 0, 100);
	xcopy_run(e, tt, e->lun, plen);
	assert_good(tt);
	rcr_run(e, tt, 0x00, 1);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);

	/* parameter list length 0: nothing to do */
	xcopy_run(e, tt, e->lun, 0);
	assert_good(tt);
	free(tt);
	env_free(e);
}

static void test_copy_between_luns(void **state)
{
	struct env *e = env_new("ram:8M");
	struct ttask *tt = ttask_new();
	struct tt_bdev *bdev2;
	struct tt_lun *lun2;
	char err[128];
	uint8_t *p = tt->data;

	(void)state;
	assert_int_equal(tt_bdev_open("ram:4M", &bdev2, err, sizeof(err)), 0);
	assert_int_equal(tt_lun_create(TEST_TARGET, 1, bdev2, NULL, &lun2), 0);
	tt_lun_nexus_add(lun2, &e->nexus);
	{
		static const uint8_t tur[6] = { TT_OP_TEST_UNIT_READY };
		ttask_run(e, tt, &e->nexus, lun2, tur, 6, false, 0); /* its POWER ON */
	}
	memset(tt->data, 0x5a, 16 * 512);
	rw_run(e, tt, e->lun, true, 10, 16);

	/* issued to LUN 0: copy LUN 0 blocks 10..25 to LUN 1 block 3 */
	put_hdr(p, 7, 0, 64, 28, 0);
	put_cscd(p + 16, e->lun);
	put_cscd(p + 48, lun2);
	put_seg(p + 80, 0, 1, 16, 10, 3);
	xcopy_run(e, tt, e->lun, 108);
	assert_good(tt);
	rw_run(e, tt, lun2, false, 3, 16);
	for (int i = 0; i < 16 * 512; i++)
		assert_int_equal(tt->data[i], 0x5a);

	/* beyond the end of the destination: COPY ABORTED, details held */
	put_hdr(p, 8, 0, 64, 28, 0);
	put_cscd(p + 16, e->lun);
	put_cscd(p + 48, lun2);
	put_seg(p + 80, 0, 1, 16, 10, tt_lun_nblocks(lun2) - 8);
	xcopy_run(e, tt, e->lun, 108);
	assert_int_equal(tt->t.status, TT_SAM_CHECK_CONDITION);
	assert_int_equal(tt->t.sense[2] & 0x0f, SK_COPY_ABORTED);
	rcr_run(e, tt, 0x04, 8);
	assert_good(tt);
	assert_int_equal(tt->data[56], TT_SAM_CHECK_CONDITION);
	assert_true(tt_get_be16(tt->data + 58) >= 18);
	assert_int_equal(tt->data[60 + 2] & 0x0f, SK_COPY_ABORTED);

	tt_lun_nexus_del(lun2, &e->nexus);
	tt_lun_put(lun2);
	tt_bdev_put(bdev2);
	free(tt);
	env_free(e);
}

static void test_errors(void **state)
{
	struct env *e = env_new("ram:8M");
	struct ttask *tt = ttask_new();
	uint8_t *p = tt->data;
	uint32_t plen;

	(void)state;
	/* unknown NAA */
	plen = simple_list(e, p, 0, 8, 0, 100);
	p[16 + 8 + 15] ^= 0xff;
	xcopy_run(e, tt, e->lun, plen);
	assert_sense(tt, SK_COPY_ABORTED, 0x0d, 0x02);

	/* segment naming a CSCD that is not in the list */
	plen = simple_list(e, p, 0, 8, 0, 100);
	tt_put_be16(p + 48 + 6, 1);
	xcopy_run(e, tt, e->lun, plen);
	assert_sense(tt, SK_COPY_ABORTED, 0x0d, 0x02);

	/* unsupported CSCD and segment descriptor type codes */
	plen = simple_list(e, p, 0, 8, 0, 100);
	p[16] = 0xe0;
	xcopy_run(e, tt, e->lun, plen);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x26, 0x07);
	plen = simple_list(e, p, 0, 8, 0, 100);
	p[48] = 0x03;
	xcopy_run(e, tt, e->lun, plen);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x26, 0x09);

	/* parameter list shorter than the descriptors it announces */
	plen = simple_list(e, p, 0, 8, 0, 100);
	xcopy_run(e, tt, e->lun, plen - 1);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x1a, 0x00);

	/* inline data */
	plen = simple_list(e, p, 0, 8, 0, 100);
	tt_put_be32(p + 12, 4);
	xcopy_run(e, tt, e->lun, plen + 4);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x26, 0x0b);

	/* 17 segment descriptors: too many */
	put_hdr(p, 1, 0, 32, 17 * 28, 0);
	put_cscd(p + 16, e->lun);
	for (int i = 0; i < 17; i++)
		put_seg(p + 48 + 28 * i, 0, 0, 1, 0, 100);
	xcopy_run(e, tt, e->lun, 48 + 17 * 28);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x26, 0x08);

	/* 17 CSCD descriptors: too many */
	put_hdr(p, 1, 0, 17 * 32, 28, 0);
	for (int i = 0; i < 17; i++)
		put_cscd(p + 16 + 32 * i, e->lun);
	put_seg(p + 16 + 17 * 32, 0, 0, 1, 0, 100);
	xcopy_run(e, tt, e->lun, 16 + 17 * 32 + 28);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x26, 0x06);

	/* LIST ID USAGE 01b is reserved */
	plen = simple_list(e, p, 1, 8, 0, 100);
	xcopy_run(e, tt, e->lun, plen);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x26, 0x00);

	/* wrong disk block length */
	plen = simple_list(e, p, 0, 8, 0, 100);
	tt_put_be24(p + 16 + 29, 4096);
	xcopy_run(e, tt, e->lun, plen);
	assert_sense(tt, SK_COPY_ABORTED, 0x0d, 0x03);
	free(tt);
	env_free(e);
}

static void test_registry(void **state)
{
	struct env *e = env_new("ram:1M");
	struct tt_lun *lun;

	(void)state;
	lun = tt_lun_find_naa(e->lun->naa_id);
	assert_ptr_equal(lun, e->lun);
	tt_lun_put(lun);
	assert_null(tt_lun_find_naa(e->lun->naa_id ^ 1));
	{
		uint64_t naa = e->lun->naa_id;
		env_free(e);
		assert_null(tt_lun_find_naa(naa));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_op_params),
		cmocka_unit_test(test_copy_same_lun),
		cmocka_unit_test(test_copy_between_luns),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_registry),
	};

	return tt_run_group("xcopy_test", tests, NULL, NULL);
}
