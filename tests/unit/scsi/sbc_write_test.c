/* SPDX-License-Identifier: BSD-3-Clause */
/* COMPARE AND WRITE, ORWRITE, WRITE AND VERIFY, WRITE ATOMIC through tt_scsi_exec. */
#include "scsi_util.h"

static void fill(uint8_t *p, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 13);
}

static size_t caw_cdb(uint8_t *c, uint64_t lba, uint8_t n, uint8_t flags)
{
	memset(c, 0, 16);
	c[0] = TT_OP_COMPARE_AND_WRITE;
	c[1] = flags;
	tt_put_be64(c + 2, lba);
	c[13] = n;
	return 16;
}

static size_t atomic_cdb(uint8_t *c, uint64_t lba, uint16_t n, uint16_t boundary)
{
	memset(c, 0, 16);
	c[0] = TT_OP_WRITE_ATOMIC_16;
	tt_put_be64(c + 2, lba);
	tt_put_be16(c + 10, boundary);
	tt_put_be16(c + 12, n);
	return 16;
}

static void write_blocks(struct env *e, uint64_t lba, uint16_t n, uint8_t byte)
{
	struct ttask *tt = ttask_new();
	uint8_t c[16];

	memset(tt->data, byte, (size_t)n * 512);
	run_out(e, tt, c, cdb_rw16(c, TT_OP_WRITE_16, lba, n, 0), (uint32_t)n * 512);
	assert_good(tt);
	free(tt);
}

/* Reads @n blocks at @lba into @out. */
static void read_blocks(struct env *e, uint64_t lba, uint16_t n, uint8_t *out)
{
	struct ttask *tt = ttask_new();
	uint8_t c[16];

	run_in(e, tt, c, cdb_rw16(c, TT_OP_READ_16, lba, n, 0), (uint32_t)n * 512);
	assert_good(tt);
	memcpy(out, tt->data, (size_t)n * 512);
	free(tt);
}

static bool all(const uint8_t *p, size_t len, uint8_t byte)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != byte)
			return false;
	return true;
}

/* INFORMATION of fixed format sense (VALID set) */
static uint32_t sense_info(const struct ttask *tt)
{
	assert_int_equal(tt->t.sense[0] & 0x80, 0x80);
	return tt_get_be32(tt->t.sense + 3);
}

/* Starts @cdb without waiting for it (see finish()). */
static void start(struct env *e, struct ttask *tt, const uint8_t *cdb, size_t len, uint32_t edtl)
{
	tt->t.lun = e->lun;
	tt->t.lun_id = e->lun->id;
	tt->t.nexus = &e->nexus;
	memset(tt->t.cdb, 0, sizeof(tt->t.cdb));
	memcpy(tt->t.cdb, cdb, len);
	tt->t.cdb_len = 16;
	tt->t.dir_write = edtl != 0;
	tt->t.dir_read = false;
	tt->t.edtl = edtl;
	tt->t.buf = tt->data;
	tt->t.done = ttask_done;
	tt->done = false;
	tt->returned = false;
	tt_scsi_exec(&tt->t);
	tt->returned = true;
}

static void finish(struct env *e, struct ttask *tt)
{
	uint64_t end = tt_now_ns() + 5 * TT_NS_PER_SEC;

	while (!tt->done && tt_now_ns() < end)
		tt_loop_run_once(e->loop, 10);
	assert_true(tt->done);
}

static void pump(struct env *e)
{
	for (int i = 0; i < 10; i++)
		tt_loop_run_once(e->loop, 1);
}

/* --- COMPARE AND WRITE ---------------------------------------------------------------------- */

static void test_caw(void **state)
{
	struct env *e = env_new("ram:1M");
	struct ttask *tt = ttask_new();
	uint8_t c[16], *rd = malloc(8 * 512);

	(void)state;
	write_blocks(e, 10, 4, 'A');
	/* matching: the second half is written */
	memset(tt->data, 'A', 4 * 512);
	memset(tt->data + 4 * 512, 'B', 4 * 512);
	run_out(e, tt, c, caw_cdb(c, 10, 4, 0), 8 * 512);
	assert_good(tt);
	assert_int_equal(tt->t.cmd_len, 8 * 512);
	read_blocks(e, 10, 4, rd);
	assert_true(all(rd, 4 * 512, 'B'));

	/* one byte differs: MISCOMPARE, INFORMATION = its offset, nothing written */
	memset(tt->data, 'B', 4 * 512);
	tt->data[3 * 512 + 7] = 'x';
	memset(tt->data + 4 * 512, 'C', 4 * 512);
	run_out(e, tt, c, caw_cdb(c, 10, 4, 0), 8 * 512);
	assert_sense(tt, TT_SK_MISCOMPARE, 0x1d, 0x00);
	assert_int_equal(sense_info(tt), 3 * 512 + 7);
	read_blocks(e, 10, 4, rd);
	assert_true(all(rd, 4 * 512, 'B'));

	/* DPO, FUA, FUA_NV accepted; WRPROTECT refused */
	memset(tt->data, 'B', 512);
	memset(tt->data + 512, 'D', 512);
	run_out(e, tt, c, caw_cdb(c, 10, 1, 0x1a), 2 * 512);
	assert_good(tt);
	run_out(e, tt, c, caw_cdb(c, 10, 1, 0x20), 2 * 512);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);

	/* zero blocks: nothing to do, but only without data */
	run_out(e, tt, c, caw_cdb(c, 10, 0, 0), 0);
	assert_good(tt);
	run_out(e, tt, c, caw_cdb(c, 10, 0, 0), 512);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	/* Data-Out must be exactly 2 x NUMBER OF LOGICAL BLOCKS */
	run_out(e, tt, c, caw_cdb(c, 10, 1, 0), 512);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	run_out(e, tt, c, caw_cdb(c, 10, 1, 0), 4 * 512);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	/* beyond the end */
	run_out(e, tt, c, caw_cdb(c, 2047, 2, 0), 4 * 512);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x21, 0x00);
	run_out(e, tt, c, caw_cdb(c, UINT64_MAX, 1, 0), 2 * 512);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x21, 0x00);
	free(rd);
	free(tt);
	env_free(e);
}

static void test_caw_limits(void **state)
{
	struct tt_lun_opts opts = { .max_xfer_bytes = 16 * 512 };
	struct env *e = env_new("ram:1M");
	struct ttask *tt = ttask_new();
	uint8_t c[16] = { TT_OP_INQUIRY, 1, 0xb0, 0, 255 };

	(void)state;
	run_in(e, tt, c, 6, 255);
	assert_good(tt);
	assert_int_equal(tt->data[5], 255);                     /* MAXIMUM COMPARE AND WRITE */
	assert_int_equal(tt_get_be32(tt->data + 44), 2048);     /* MAXIMUM ATOMIC TRANSFER LENGTH */
	assert_int_equal(tt_get_be32(tt->data + 48), 0);
	assert_int_equal(tt_get_be32(tt->data + 52), 0);
	assert_true(tt_get_be32(tt->data + 44) <= tt_get_be32(tt->data + 8));
	/* 255 blocks work */
	memset(tt->data, 0, 2 * 255 * 512);
	run_out(e, tt, c, caw_cdb(c, 0, 255, 0), 2 * 255 * 512);
	assert_good(tt);
	env_free(e);

	/* both limits follow a small maximum transfer length */
	e = env_new_opts("ram:1M", &opts);
	clear_ua(e, &e->nexus);
	memset(c, 0, sizeof(c));
	c[0] = TT_OP_INQUIRY;
	c[1] = 1;
	c[2] = 0xb0;
	c[4] = 255;
	run_in(e, tt, c, 6, 255);
	assert_int_equal(tt->data[5], 16);
	assert_int_equal(tt_get_be32(tt->data + 44), 16);
	memset(tt->data, 0, 2 * 17 * 512);
	run_out(e, tt, c, caw_cdb(c, 0, 17, 0), 2 * 17 * 512);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	run_out(e, tt, c, atomic_cdb(c, 0, 17, 0), 17 * 512);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	free(tt);
	env_free(e);
}

/*
 * Two COMPARE AND WRITE of the same block, both expecting zeroes: the second waits for the
 * first (its read is parked in the backend), then reads what the first wrote: MISCOMPARE.
 */
static void test_caw_atomic(void **state)
{
	struct env *e = env_new("delay:hang,ram:1M");
	struct ttask *a = ttask_new(), *b = ttask_new(), *r = ttask_new();
	uint8_t c[16];

	(void)state;
	memset(a->data, 0, 512);
	memset(a->data + 512, 'a', 512);
	memset(b->data, 0, 512);
	memset(b->data + 512, 'b', 512);
	start(e, a, c, caw_cdb(c, 5, 1, 0), 1024);
	pump(e);
	assert_int_equal(tt_bdev_delay_parked(e->bdev), 1); /* a's read */
	start(e, b, c, caw_cdb(c, 5, 1, 0), 1024);
	pump(e);
	assert_int_equal(tt_bdev_delay_parked(e->bdev), 1); /* b waits for the blocks */
	assert_false(a->done || b->done);
	assert_int_equal(tt_bdev_delay_set_hang(e->bdev, TT_BDEV_HANG_OFF), 0);
	assert_int_equal(tt_bdev_delay_release(e->bdev), 1);
	finish(e, a);
	finish(e, b);
	assert_good(a);
	assert_sense(b, TT_SK_MISCOMPARE, 0x1d, 0x00);
	assert_int_equal(sense_info(b), 0);
	/* other blocks are not held up */
	run_in(e, r, c, cdb_rw16(c, TT_OP_READ_16, 5, 1, 0), 512);
	assert_true(all(r->data, 512, 'a'));
	free(a);
	free(b);
	free(r);
	env_free(e);
}

static void test_caw_errors(void **state)
{
	struct env *e = env_new("fail:lba=20,op=read,ram:1M");
	struct ttask *tt = ttask_new();
	uint8_t c[16];

	(void)state;
	memset(tt->data, 0, 1024);
	run_out(e, tt, c, caw_cdb(c, 20, 1, 0), 1024);
	assert_sense(tt, TT_SK_MEDIUM_ERROR, 0x11, 0x00);
	env_free(e);

	e = env_new("fail:lba=20,op=write,ram:1M");
	run_out(e, tt, c, caw_cdb(c, 20, 1, 0), 1024);
	assert_sense(tt, TT_SK_MEDIUM_ERROR, 0x0c, 0x00);
	/* the range lock was given back */
	run_out(e, tt, c, caw_cdb(c, 21, 1, 0), 1024);
	assert_good(tt);
	run_out(e, tt, c, caw_cdb(c, 20, 1, 0), 1024);
	assert_sense(tt, TT_SK_MEDIUM_ERROR, 0x0c, 0x00);
	free(tt);
	env_free(e);
}

static void test_write_protect(void **state)
{
	struct tt_lun_opts opts = { .write_protect = true };
	struct env *e = env_new_opts("ram:1M", &opts);
	struct ttask *tt = ttask_new();
	uint8_t c[16];

	(void)state;
	clear_ua(e, &e->nexus);
	run_out(e, tt, c, caw_cdb(c, 0, 1, 0), 1024);
	assert_sense(tt, TT_SK_DATA_PROTECT, 0x27, 0x00);
	run_out(e, tt, c, cdb_rw16(c, TT_OP_ORWRITE_16, 0, 1, 0), 512);
	assert_sense(tt, TT_SK_DATA_PROTECT, 0x27, 0x00);
	run_out(e, tt, c, cdb_rw10(c, TT_OP_WRITE_VERIFY_10, 0, 1, 0x02), 512);
	assert_sense(tt, TT_SK_DATA_PROTECT, 0x27, 0x00);
	run_out(e, tt, c, cdb_rw16(c, TT_OP_WRITE_VERIFY_16, 0, 1, 0), 512);
	assert_sense(tt, TT_SK_DATA_PROTECT, 0x27, 0x00);
	run_out(e, tt, c, atomic_cdb(c, 0, 1, 0), 512);
	assert_sense(tt, TT_SK_DATA_PROTECT, 0x27, 0x00);
	free(tt);
	env_free(e);
}

/* --- ORWRITE ------------------------------------------------------------------------------------ */

static void test_orwrite(void **state)
{
	struct env *e = env_new("ram:1M");
	struct ttask *tt = ttask_new();
	uint8_t c[16], *rd = malloc(4 * 512);

	(void)state;
	write_blocks(e, 30, 3, 0x00);
	memset(tt->data, 0xa5, 3 * 512);
	run_out(e, tt, c, cdb_rw16(c, TT_OP_ORWRITE_16, 30, 3, 0), 3 * 512);
	assert_good(tt);
	read_blocks(e, 30, 3, rd);
	assert_true(all(rd, 3 * 512, 0xa5));
	memset(tt->data, 0x5a, 3 * 512);
	run_out(e, tt, c, cdb_rw16(c, TT_OP_ORWRITE_16, 30, 3, 0x18), 3 * 512);
	assert_good(tt);
	read_blocks(e, 30, 3, rd);
	assert_true(all(rd, 3 * 512, 0xff));

	/* edtl of one block: that block only; edtl inside a block: refused */
	write_blocks(e, 40, 2, 0x01);
	memset(tt->data, 0x02, 2 * 512);
	run_out(e, tt, c, cdb_rw16(c, TT_OP_ORWRITE_16, 40, 2, 0), 512);
	assert_good(tt);
	read_blocks(e, 40, 2, rd);
	assert_true(all(rd, 512, 0x03));
	assert_true(all(rd + 512, 512, 0x01));
	run_out(e, tt, c, cdb_rw16(c, TT_OP_ORWRITE_16, 40, 2, 0), 700);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x0e, 0x03);

	/* zero blocks, beyond the end, ORPROTECT */
	run_out(e, tt, c, cdb_rw16(c, TT_OP_ORWRITE_16, 0, 0, 0), 0);
	assert_good(tt);
	run_out(e, tt, c, cdb_rw16(c, TT_OP_ORWRITE_16, 2049, 0, 0), 0);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x21, 0x00);
	run_out(e, tt, c, cdb_rw16(c, TT_OP_ORWRITE_16, 2047, 2, 0), 1024);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x21, 0x00);
	run_out(e, tt, c, cdb_rw16(c, TT_OP_ORWRITE_16, 0, 1, 0x40), 512);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	free(rd);
	free(tt);
	env_free(e);
}

/* --- WRITE AND VERIFY ----------------------------------------------------------------------- */

static void test_write_verify(void **state)
{
	struct env *e = env_new("ram:1M");
	struct ttask *tt = ttask_new();
	uint8_t c[16], *rd = malloc(4 * 512);
	bool over;

	(void)state;
	/* (10) BYTCHK 1, (12) BYTCHK 0, (16) with DPO */
	fill(tt->data, 4 * 512, 1);
	run_out(e, tt, c, cdb_rw10(c, TT_OP_WRITE_VERIFY_10, 50, 4, 0x02), 4 * 512);
	assert_good(tt);
	read_blocks(e, 50, 4, rd);
	assert_memory_equal(rd, tt->data, 4 * 512);
	memset(c, 0, sizeof(c));
	c[0] = TT_OP_WRITE_VERIFY_12;
	tt_put_be32(c + 2, 60);
	tt_put_be32(c + 6, 2);
	fill(tt->data, 2 * 512, 2);
	run_out(e, tt, c, 12, 2 * 512);
	assert_good(tt);
	read_blocks(e, 60, 2, rd);
	assert_memory_equal(rd, tt->data, 2 * 512);
	fill(tt->data, 512, 3);
	run_out(e, tt, c, cdb_rw16(c, TT_OP_WRITE_VERIFY_16, 2047, 1, 0x12), 512);
	assert_good(tt);

	/* residuals like WRITE: edtl 0, edtl beyond, edtl inside a block, one of two blocks */
	run_out(e, tt, c, cdb_rw10(c, TT_OP_WRITE_VERIFY_10, 0, 1, 0x02), 0);
	assert_good(tt);
	assert_int_equal(tt_scsi_task_residual(&tt->t, &over), 512);
	assert_true(over);
	run_out(e, tt, c, cdb_rw10(c, TT_OP_WRITE_VERIFY_10, 0, 1, 0x02), 10000);
	assert_good(tt);
	assert_int_equal(tt_scsi_task_residual(&tt->t, &over), 10000 - 512);
	assert_false(over);
	run_out(e, tt, c, cdb_rw10(c, TT_OP_WRITE_VERIFY_10, 0, 1, 0x02), 200);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x0e, 0x03);
	assert_int_equal(tt_scsi_task_residual(&tt->t, &over), 512 - 200);
	assert_true(over);
	write_blocks(e, 0, 2, 'a');
	memset(tt->data, 'b', 1024);
	run_out(e, tt, c, cdb_rw10(c, TT_OP_WRITE_VERIFY_10, 0, 2, 0x02), 512);
	assert_good(tt);
	read_blocks(e, 0, 2, rd);
	assert_true(all(rd, 512, 'b'));
	assert_true(all(rd + 512, 512, 'a'));

	/* BYTCHK 1xb, WRPROTECT, zero blocks, beyond the end */
	run_out(e, tt, c, cdb_rw10(c, TT_OP_WRITE_VERIFY_10, 0, 1, 0x04), 512);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	run_out(e, tt, c, cdb_rw10(c, TT_OP_WRITE_VERIFY_10, 0, 1, 0x22), 512);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	run_out(e, tt, c, cdb_rw10(c, TT_OP_WRITE_VERIFY_10, 0, 0, 0), 0);
	assert_good(tt);
	run_out(e, tt, c, cdb_rw10(c, TT_OP_WRITE_VERIFY_10, 2049, 0, 0), 0);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x21, 0x00);
	run_out(e, tt, c, cdb_rw16(c, TT_OP_WRITE_VERIFY_16, 2047, 2, 0x02), 1024);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x21, 0x00);
	free(rd);
	free(tt);
	env_free(e);
}

/* A medium that does not keep what is written (null): the verification finds it. */
static void test_write_verify_miscompare(void **state)
{
	struct env *e = env_new("null:1M");
	struct ttask *tt = ttask_new();
	uint8_t c[16];

	(void)state;
	memset(tt->data, 0, 2 * 512);
	tt->data[700] = 1;
	run_out(e, tt, c, cdb_rw10(c, TT_OP_WRITE_VERIFY_10, 0, 2, 0x02), 2 * 512);
	assert_sense(tt, TT_SK_MISCOMPARE, 0x1d, 0x00);
	assert_int_equal(sense_info(tt), 700);
	/* BYTCHK 0: the medium is read back, not compared */
	run_out(e, tt, c, cdb_rw10(c, TT_OP_WRITE_VERIFY_10, 0, 2, 0), 2 * 512);
	assert_good(tt);
	free(tt);
	env_free(e);
}

/* --- WRITE ATOMIC ------------------------------------------------------------------------------- */

static void test_write_atomic(void **state)
{
	struct env *e = env_new("ram:4M");
	struct ttask *tt = ttask_new();
	uint8_t c[16], *rd = malloc(256 * 512);

	(void)state;
	fill(tt->data, 256 * 512, 9);
	run_out(e, tt, c, atomic_cdb(c, 100, 256, 0), 256 * 512);
	assert_good(tt);
	read_blocks(e, 100, 256, rd);
	assert_memory_equal(rd, tt->data, 256 * 512);
	c[1] = 0x18; /* DPO, FUA */
	run_out(e, tt, c, 16, 256 * 512);
	assert_good(tt);

	run_out(e, tt, c, atomic_cdb(c, 0, 0, 0), 0);
	assert_good(tt);
	run_out(e, tt, c, atomic_cdb(c, 8192 + 1, 0, 0), 0);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x21, 0x00);
	run_out(e, tt, c, atomic_cdb(c, UINT64_MAX, 1, 0), 512);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x21, 0x00);
	/* no atomic boundaries; no more than the maximum; never a part of it */
	run_out(e, tt, c, atomic_cdb(c, 0, 2, 1), 1024);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	run_out(e, tt, c, atomic_cdb(c, 0, 2049, 0), 2049 * 512);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	run_out(e, tt, c, atomic_cdb(c, 0, 2, 0), 512);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x0e, 0x03);
	run_out(e, tt, c, atomic_cdb(c, 0, 1, 0), 512);
	assert_good(tt);
	c[1] = 0x20; /* WRPROTECT */
	run_out(e, tt, c, 16, 512);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	free(rd);
	free(tt);
	env_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_caw),
		cmocka_unit_test(test_caw_limits),
		cmocka_unit_test(test_caw_atomic),
		cmocka_unit_test(test_caw_errors),
		cmocka_unit_test(test_write_protect),
		cmocka_unit_test(test_orwrite),
		cmocka_unit_test(test_write_verify),
		cmocka_unit_test(test_write_verify_miscompare),
		cmocka_unit_test(test_write_atomic),
	};

	return tt_run_group("sbc_write_test", tests, NULL, NULL);
}
