/* SPDX-License-Identifier: BSD-3-Clause */
/* Provisioning status: tt_bdev_get_status of the backends, and GET LBA STATUS. */
#include "scsi_util.h"

#include <fcntl.h>
#include <unistd.h>

#define BLOCKS_1M 2048u

static size_t gls_cdb(uint8_t *c, uint64_t lba, uint32_t alloc, uint8_t report_type)
{
	memset(c, 0, 16);
	c[0] = TT_OP_SERVICE_ACTION_IN_16;
	c[1] = TT_SAI_GET_LBA_STATUS;
	tt_put_be64(c + 2, lba);
	tt_put_be32(c + 10, alloc);
	c[14] = report_type;
	return 16;
}

struct desc {
	uint64_t lba;
	uint32_t n;
	uint8_t prov;
};

/* GET LBA STATUS from @lba into @d (at most @max); returns the number of descriptors. */
static unsigned gls(struct env *e, uint64_t lba, uint8_t report_type, struct desc *d, unsigned max)
{
	struct ttask *tt = ttask_new();
	uint32_t alloc = 8 + 16 * max;
	unsigned n;
	uint8_t c[16];

	run_in(e, tt, c, gls_cdb(c, lba, alloc, report_type), alloc);
	assert_good(tt);
	n = (tt_get_be32(tt->data) - 4) / 16;
	assert_true(n <= max);
	assert_int_equal(tt->t.data_len, 8 + 16 * n);
	assert_int_equal(tt->data[7] & 0x01, 1); /* RTP */
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *p = tt->data + 8 + 16 * i;

		d[i].lba = tt_get_be64(p);
		d[i].n = tt_get_be32(p + 8);
		d[i].prov = p[12] & 0x0f;
	}
	free(tt);
	return n;
}

static void write_blocks(struct env *e, uint32_t lba, uint16_t n)
{
	struct ttask *tt = ttask_new();
	uint8_t c[16];

	memset(tt->data, 0x77, (size_t)n * 512);
	run_out(e, tt, c, cdb_rw10(c, TT_OP_WRITE_10, lba, n, 0), (uint32_t)n * 512);
	assert_good(tt);
	free(tt);
}

static void unmap_blocks(struct env *e, uint64_t lba, uint32_t n)
{
	struct ttask *tt = ttask_new();
	uint8_t c[10] = { TT_OP_UNMAP };

	memset(tt->data, 0, 24);
	tt_put_be16(tt->data, 22);
	tt_put_be16(tt->data + 2, 16);
	tt_put_be64(tt->data + 8, lba);
	tt_put_be32(tt->data + 16, n);
	tt_put_be16(c + 7, 24);
	run_out(e, tt, c, 10, 24);
	assert_good(tt);
	free(tt);
}

/* --- backends ------------------------------------------------------------------------------------ */

static void test_bdev_ram(void **state)
{
	struct env *e = env_new("ram:1M");
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), len;
	bool mapped;

	(void)state;
	assert_int_equal(tt_bdev_get_status(e->bdev, 0, 1 << 20, &mapped, &len), 0);
	assert_false(mapped);
	assert_true(len == 1 << 20);
	/* a write maps its pages, a deallocation of whole pages gives them back */
	write_blocks(e, (uint32_t)(2 * page / 512), 1);
	assert_int_equal(tt_bdev_get_status(e->bdev, 0, 1 << 20, &mapped, &len), 0);
	assert_false(mapped);
	assert_true(len == 2 * page);
	assert_int_equal(tt_bdev_get_status(e->bdev, 2 * page, 1 << 20, &mapped, &len),
			 -EINVAL); /* beyond the end */
	assert_int_equal(tt_bdev_get_status(e->bdev, 2 * page, (1 << 20) - 2 * page, &mapped, &len),
			 0);
	assert_true(mapped);
	assert_true(len == page);
	assert_int_equal(tt_bdev_get_status(e->bdev, 2 * page + 512, 512, &mapped, &len), 0);
	assert_true(mapped);
	assert_true(len == 512);
	unmap_blocks(e, 2 * page / 512, 1); /* part of the page: it stays */
	assert_int_equal(tt_bdev_get_status(e->bdev, 2 * page, page, &mapped, &len), 0);
	assert_true(mapped);
	unmap_blocks(e, 2 * page / 512, (uint32_t)(page / 512));
	assert_int_equal(tt_bdev_get_status(e->bdev, 0, 1 << 20, &mapped, &len), 0);
	assert_false(mapped);
	assert_true(len == 1 << 20);
	assert_int_equal(tt_bdev_get_status(e->bdev, 1, 512, &mapped, &len), -EINVAL);
	assert_int_equal(tt_bdev_get_status(e->bdev, 0, 0, &mapped, &len), -EINVAL);
	env_free(e);

	/* wrappers answer for what they wrap; null reports mapped */
	e = env_new("delay:ms=0,ram:1M");
	write_blocks(e, 0, 1);
	assert_int_equal(tt_bdev_get_status(e->bdev, 0, 1 << 20, &mapped, &len), 0);
	assert_true(mapped);
	assert_true(len == page);
	env_free(e);
	e = env_new("null:1M");
	assert_int_equal(tt_bdev_get_status(e->bdev, 0, 1 << 20, &mapped, &len), 0);
	assert_true(mapped);
	assert_true(len == 1 << 20);
	env_free(e);
}

static void test_bdev_file(void **state)
{
	char path[] = "/var/tmp/tt-sbc-prov-XXXXXX", spec[128];
	uint64_t len;
	bool mapped;
	struct env *e;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	snprintf(spec, sizeof(spec), "file:%s,size=4M,create,io=sync", path);
	e = env_new(spec);
	if (!e->bdev->thin) {
		/* no hole punching here: nothing more to check */
		env_free(e);
		unlink(path);
		return;
	}
	assert_int_equal(tt_bdev_get_status(e->bdev, 0, 4 << 20, &mapped, &len), 0);
	assert_false(mapped);
	assert_true(len == 4 << 20);
	write_blocks(e, 2048, 16); /* 8 KiB at 1 MiB */
	assert_int_equal(tt_bdev_get_status(e->bdev, 0, 4 << 20, &mapped, &len), 0);
	assert_false(mapped);
	assert_true(len <= 1 << 20 && len >= (1 << 20) - 65536);
	assert_int_equal(tt_bdev_get_status(e->bdev, 1 << 20, 3 << 20, &mapped, &len), 0);
	assert_true(mapped);
	assert_true(len >= 8192 && len <= 65536);
	unmap_blocks(e, 2048, 16);
	assert_int_equal(tt_bdev_get_status(e->bdev, 1 << 20, 3 << 20, &mapped, &len), 0);
	assert_false(mapped);
	env_free(e);
	unlink(path);
}

/* --- GET LBA STATUS ------------------------------------------------------------------------- */

static void test_get_lba_status(void **state)
{
	struct env *e = env_new("ram:1M");
	uint32_t ppb = (uint32_t)sysconf(_SC_PAGESIZE) / 512; /* blocks per page */
	struct desc d[8];
	unsigned n;

	(void)state;
	n = gls(e, 0, 0, d, 8);
	assert_int_equal(n, 1);
	assert_true(d[0].lba == 0);
	assert_int_equal(d[0].n, BLOCKS_1M);
	assert_int_equal(d[0].prov, 1); /* deallocated */

	write_blocks(e, 4 * ppb, 1);
	write_blocks(e, 5 * ppb, 1);
	n = gls(e, 0, 0, d, 8);
	assert_int_equal(n, 3);
	assert_int_equal(d[0].n, 4 * ppb);
	assert_int_equal(d[0].prov, 1);
	assert_true(d[1].lba == 4 * ppb);
	assert_int_equal(d[1].n, 2 * ppb);
	assert_int_equal(d[1].prov, 0); /* mapped */
	assert_true(d[2].lba == 6 * ppb);
	assert_int_equal(d[2].n, BLOCKS_1M - 6 * ppb);
	assert_int_equal(d[2].prov, 1);
	/* from inside an extent */
	n = gls(e, 5 * ppb + 1, 0, d, 8);
	assert_int_equal(n, 2);
	assert_true(d[0].lba == 5 * ppb + 1);
	assert_int_equal(d[0].n, ppb - 1);
	assert_int_equal(d[0].prov, 0);
	/* report types: mapped only, deallocated only, not mapped */
	n = gls(e, 0, 2, d, 8);
	assert_int_equal(n, 1);
	assert_true(d[0].lba == 4 * ppb);
	n = gls(e, 0, 3, d, 8);
	assert_int_equal(n, 2);
	assert_true(d[1].lba == 6 * ppb);
	n = gls(e, 0, 1, d, 8);
	assert_int_equal(n, 2);
	n = gls(e, 0, 4, d, 8);
	assert_int_equal(n, 0);
	/* deallocated again */
	unmap_blocks(e, 4 * ppb, 2 * ppb);
	n = gls(e, 0, 0, d, 8);
	assert_int_equal(n, 1);
	assert_int_equal(d[0].prov, 1);
	env_free(e);
}

static void test_get_lba_status_limits(void **state)
{
	struct tt_lun_opts opts = { .no_thin = true };
	struct env *e = env_new("ram:1M");
	struct ttask *tt = ttask_new();
	uint32_t ppb = (uint32_t)sysconf(_SC_PAGESIZE) / 512;
	uint8_t c[16];
	struct desc d[2];

	(void)state;
	/* more extents than room: the allocation length ends the list */
	write_blocks(e, 0, 1);
	write_blocks(e, 2 * ppb, 1);
	run_in(e, tt, c, gls_cdb(c, 0, 24, 0), 24);
	assert_good(tt);
	assert_int_equal(tt_get_be32(tt->data), 20);
	assert_int_equal((tt->data[7] >> 1) & 7, 1); /* completion: allocation length */
	assert_int_equal(tt_get_be32(tt->data + 16), ppb);
	/* a short allocation length still gets the first bytes */
	run_in(e, tt, c, gls_cdb(c, 0, 16, 0), 16);
	assert_good(tt);
	assert_int_equal(tt->t.data_len, 16);
	assert_true(tt_get_be64(tt->data + 8) == 0);
	run_in(e, tt, c, gls_cdb(c, 0, 0, 0), 0);
	assert_good(tt);
	assert_int_equal(tt->t.data_len, 0);
	/* the last block is fine; the capacity and beyond are not */
	assert_int_equal(gls(e, BLOCKS_1M - 1, 0, d, 2), 1);
	assert_int_equal(d[0].n, 1);
	run_in(e, tt, c, gls_cdb(c, BLOCKS_1M, 24, 0), 24);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x21, 0x00);
	run_in(e, tt, c, gls_cdb(c, UINT64_MAX, 24, 0), 24);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x21, 0x00);
	run_in(e, tt, c, gls_cdb(c, 0, 24, 5), 24);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	env_free(e);

	/* a LUN reported fully provisioned: all mapped */
	e = env_new_opts("ram:1M", &opts);
	clear_ua(e, &e->nexus);
	assert_int_equal(gls(e, 0, 0, d, 2), 1);
	assert_int_equal(d[0].n, BLOCKS_1M);
	assert_int_equal(d[0].prov, 0);
	free(tt);
	env_free(e);

	/* more blocks than a descriptor can count */
	e = env_new("null:4T");
	assert_int_equal(gls(e, 0, 0, d, 2), 2);
	assert_int_equal(d[0].n, 0xffffffffu);
	assert_true(d[1].lba == 0xffffffffu);
	env_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bdev_ram),
		cmocka_unit_test(test_bdev_file),
		cmocka_unit_test(test_get_lba_status),
		cmocka_unit_test(test_get_lba_status_limits),
	};

	return tt_run_group("sbc_prov_test", tests, NULL, NULL);
}
