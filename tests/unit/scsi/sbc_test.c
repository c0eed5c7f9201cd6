/* SPDX-License-Identifier: BSD-3-Clause */
/* Block commands through tt_scsi_exec on real backends (ram, null, fail, delay). */
#include "scsi_util.h"

#include <pthread.h>

static void fill(uint8_t *p, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

static void test_read_capacity(void **state)
{
	struct env *e = env_new("ram:64M");
	struct ttask *tt = ttask_new();
	uint8_t c[16] = { TT_OP_READ_CAPACITY_10 };
	bool over;

	(void)state;
	run_in(e, tt, c, 10, 8);
	assert_good(tt);
	assert_int_equal(tt->t.data_len, 8);
	assert_int_equal(tt_get_be32(tt->data), (64 << 20) / 512 - 1);
	assert_int_equal(tt_get_be32(tt->data + 4), 512);
	/* LBA without PMI */
	tt_put_be32(c + 2, 1);
	run_in(e, tt, c, 10, 8);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);

	memset(c, 0, sizeof(c));
	c[0] = TT_OP_SERVICE_ACTION_IN_16;
	c[1] = TT_SAI_READ_CAPACITY_16;
	tt_put_be32(c + 10, 32);
	run_in(e, tt, c, 16, 32);
	assert_good(tt);
	assert_int_equal(tt->t.data_len, 32);
	assert_true(tt_get_be64(tt->data) == (64 << 20) / 512 - 1);
	assert_int_equal(tt_get_be32(tt->data + 8), 512);
	assert_int_equal(tt->data[13] & 0x0f, 0);
	assert_int_equal(tt->data[14] & 0xc0, 0xc0); /* LBPME, LBPRZ: ram is thin */
	/* an allocation length of 0..15 is not an error */
	tt_put_be32(c + 10, 4);
	run_in(e, tt, c, 16, 4);
	assert_good(tt);
	assert_int_equal(tt->t.data_len, 4);
	assert_int_equal(tt_scsi_task_residual(&tt->t, &over), 0);
	env_free(e);

	/* more blocks than READ CAPACITY (10) can tell */
	e = env_new("null:4T");
	memset(c, 0, sizeof(c));
	c[0] = TT_OP_READ_CAPACITY_10;
	run_in(e, tt, c, 10, 8);
	assert_good(tt);
	assert_int_equal(tt_get_be32(tt->data), 0xffffffff);
	memset(c, 0, sizeof(c));
	c[0] = TT_OP_SERVICE_ACTION_IN_16;
	c[1] = TT_SAI_READ_CAPACITY_16;
	tt_put_be32(c + 10, 32);
	run_in(e, tt, c, 16, 32);
	assert_true(tt_get_be64(tt->data) == (4ull << 40) / 512 - 1);
	env_free(e);

	/* 4096-byte blocks */
	e = env_new("ram:1M,bs=4096");
	memset(c, 0, sizeof(c));
	c[0] = TT_OP_READ_CAPACITY_10;
	run_in(e, tt, c, 10, 8);
	assert_good(tt);
	assert_int_equal(tt_get_be32(tt->data), 255);
	assert_int_equal(tt_get_be32(tt->data + 4), 4096);
	free(tt);
	env_free(e);
}

static void test_physical_block_exponent(void **state)
{
	struct tt_lun_opts opts = { .physical_block_size = 4096 };
	struct env *e = env_new_opts("ram:1M", &opts);
	struct ttask *tt = ttask_new();
	uint8_t c[16] = { TT_OP_SERVICE_ACTION_IN_16, TT_SAI_READ_CAPACITY_16 };

	(void)state;
	clear_ua(e, &e->nexus);
	tt_put_be32(c + 10, 32);
	run_in(e, tt, c, 16, 32);
	assert_good(tt);
	assert_int_equal(tt->data[13] & 0x0f, 3);
	free(tt);
	env_free(e);
}

static void test_write_read_back(void **state)
{
	struct env *e = env_new("ram:1M");
	struct ttask *w = ttask_new(), *r = ttask_new();
	uint8_t c[16];

	(void)state;
	/* WRITE (10) 4 blocks at LBA 8, READ (10) them back */
	fill(w->data, 4 * 512, 1);
	run_out(e, w, c, cdb_rw10(c, TT_OP_WRITE_10, 8, 4, 0), 4 * 512);
	assert_good(w);
	assert_int_equal(w->t.cmd_len, 2048);
	assert_int_equal(w->t.data_len, 0);
	run_in(e, r, c, cdb_rw10(c, TT_OP_READ_10, 8, 4, 0), 4 * 512);
	assert_good(r);
	assert_int_equal(r->t.data_len, 2048);
	assert_memory_equal(r->data, w->data, 2048);

	/* WRITE (16) with FUA, READ (12) */
	fill(w->data, 3 * 512, 9);
	run_out(e, w, c, cdb_rw16(c, TT_OP_WRITE_16, 100, 3, 0x08), 3 * 512);
	assert_good(w);
	memset(c, 0, sizeof(c));
	c[0] = TT_OP_READ_12;
	tt_put_be32(c + 2, 100);
	tt_put_be32(c + 6, 3);
	run_in(e, r, c, 12, 3 * 512);
	assert_good(r);
	assert_memory_equal(r->data, w->data, 3 * 512);

	/* WRITE (6) with length 0 = 256 blocks, READ (6) */
	fill(w->data, 256 * 512, 3);
	memset(c, 0, sizeof(c));
	c[0] = TT_OP_WRITE_6;
	c[3] = 200;
	run_out(e, w, c, 6, 256 * 512);
	assert_good(w);
	assert_int_equal(w->t.cmd_len, 256 * 512);
	c[0] = TT_OP_READ_6;
	run_in(e, r, c, 6, 256 * 512);
	assert_good(r);
	assert_int_equal(r->t.data_len, 256 * 512);
	assert_memory_equal(r->data, w->data, 256 * 512);

	/* zero blocks: nothing moves */
	run_in(e, r, c, cdb_rw10(c, TT_OP_READ_10, 0, 0, 0), 0);
	assert_good(r);
	assert_int_equal(r->t.data_len, 0);

	/* DPO is ignored, RDPROTECT is refused (no protection information) */
	run_in(e, r, c, cdb_rw10(c, TT_OP_READ_10, 0, 1, 0x10), 512);
	assert_good(r);
	run_in(e, r, c, cdb_rw10(c, TT_OP_READ_10, 0, 1, 0x20), 512);
	assert_sense(r, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	run_out(e, w, c, cdb_rw16(c, TT_OP_WRITE_16, 0, 1, 0x40), 512);
	assert_sense(w, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	free(w);
	free(r);
	env_free(e);
}

static void test_out_of_range(void **state)
{
	struct env *e = env_new("ram:1M");
	struct ttask *tt = ttask_new();
	uint32_t n = (1 << 20) / 512;
	uint8_t c[16];

	(void)state;
	run_in(e, tt, c, cdb_rw10(c, TT_OP_READ_10, n - 1, 1, 0), 512);
	assert_good(tt);
	run_in(e, tt, c, cdb_rw10(c, TT_OP_READ_10, n - 1, 2, 0), 1024);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x21, 0x00);
	run_in(e, tt, c, cdb_rw10(c, TT_OP_READ_10, n, 1, 0), 512);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x21, 0x00);
	run_in(e, tt, c, cdb_rw10(c, TT_OP_READ_10, n + 1, 0, 0), 0);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x21, 0x00);
	run_in(e, tt, c, cdb_rw16(c, TT_OP_READ_16, UINT64_MAX, 1, 0), 512);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x21, 0x00);
	run_out(e, tt, c, cdb_rw16(c, TT_OP_WRITE_16, 1ull << 63, 1, 0), 512);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x21, 0x00);
	memset(c, 0, sizeof(c));
	c[0] = TT_OP_SYNCHRONIZE_CACHE_10;
	tt_put_be32(c + 2, n);
	tt_put_be16(c + 7, 1);
	run_in(e, tt, c, 10, 0);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x21, 0x00);
	free(tt);
	env_free(e);
}

static void test_max_transfer(void **state)
{
	struct tt_lun_opts opts = { .max_xfer_bytes = 64 * 1024 };
	struct env *e = env_new_opts("ram:1M", &opts);
	struct ttask *tt = ttask_new();
	uint8_t c[16];

	(void)state;
	clear_ua(e, &e->nexus);
	run_in(e, tt, c, cdb_rw10(c, TT_OP_READ_10, 0, 128, 0), 128 * 512);
	assert_good(tt);
	run_in(e, tt, c, cdb_rw10(c, TT_OP_READ_10, 0, 129, 0), 129 * 512);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	assert_int_equal(tt_get_be16(tt->t.sense + 16), 7);
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
	run_out(e, tt, c, cdb_rw10(c, TT_OP_WRITE_10, 0, 1, 0), 512);
	assert_sense(tt, TT_SK_DATA_PROTECT, 0x27, 0x00);
	run_in(e, tt, c, cdb_rw10(c, TT_OP_READ_10, 0, 1, 0), 512);
	assert_good(tt);
	free(tt);
	env_free(e);

	/* a read-only backend makes a write-protected LUN */
	e = env_new("ram:1M,ro");
	tt = ttask_new();
	assert_true(e->lun->write_protect);
	run_out(e, tt, c, cdb_rw16(c, TT_OP_WRITE_16, 0, 1, 0), 512);
	assert_sense(tt, TT_SK_DATA_PROTECT, 0x27, 0x00);
	free(tt);
	env_free(e);
}

/* libiscsi iSCSIResiduals and FCP-4 9.4.2: what edtl != CDB length does. */
static void test_residuals(void **state)
{
	struct env *e = env_new("ram:1M");
	struct ttask *tt = ttask_new(), *r = ttask_new();
	uint8_t c[16], ref[1024];
	bool over;

	(void)state;
	fill(tt->data, 1024, 5);
	memcpy(ref, tt->data, 1024);
	run_out(e, tt, c, cdb_rw10(c, TT_OP_WRITE_10, 0, 2, 0), 1024);
	assert_good(tt);

	/* READ one block, edtl 0: GOOD, nothing sent, overflow of one block */
	run_in(e, r, c, cdb_rw10(c, TT_OP_READ_10, 0, 1, 0), 0);
	assert_good(r);
	assert_int_equal(r->t.data_len, 0);
	assert_int_equal(tt_scsi_task_residual(&r->t, &over), 512);
	assert_true(over);
	/* READ one block, edtl 10000: one block sent, underflow */
	run_in(e, r, c, cdb_rw10(c, TT_OP_READ_10, 0, 1, 0), 10000);
	assert_good(r);
	assert_int_equal(r->t.data_len, 512);
	assert_int_equal(tt_scsi_task_residual(&r->t, &over), 10000 - 512);
	assert_false(over);
	/* READ one block, edtl 200: 200 bytes sent */
	memset(r->data, 0, 512);
	run_in(e, r, c, cdb_rw10(c, TT_OP_READ_10, 0, 1, 0), 200);
	assert_good(r);
	assert_int_equal(r->t.data_len, 200);
	assert_memory_equal(r->data, ref, 200);
	assert_int_equal(r->data[200], 0); /* nothing beyond edtl */
	assert_int_equal(tt_scsi_task_residual(&r->t, &over), 512 - 200);
	assert_true(over);
	/* READ two blocks, edtl one block */
	run_in(e, r, c, cdb_rw10(c, TT_OP_READ_10, 0, 2, 0), 512);
	assert_good(r);
	assert_int_equal(r->t.data_len, 512);
	assert_int_equal(tt_scsi_task_residual(&r->t, &over), 512);
	assert_true(over);
	/* READ flagged as a write by the initiator: no Data-In */
	ttask_run(e, r, &e->nexus, e->lun, c, cdb_rw10(c, TT_OP_READ_10, 0, 1, 0), true, 512);
	assert_good(r);
	assert_int_equal(r->t.data_len, 0);

	/* WRITE two blocks, edtl one block: the first block only */
	memset(tt->data, 'b', 1024);
	run_out(e, tt, c, cdb_rw10(c, TT_OP_WRITE_10, 0, 2, 0), 512);
	assert_good(tt);
	assert_int_equal(tt_scsi_task_residual(&tt->t, &over), 512);
	assert_true(over);
	run_in(e, r, c, cdb_rw10(c, TT_OP_READ_10, 0, 2, 0), 1024);
	assert_memory_equal(r->data, tt->data, 512);
	assert_memory_equal(r->data + 512, ref + 512, 512);
	/* WRITE one block, edtl two blocks: one block, underflow */
	memset(tt->data, 'c', 1024);
	run_out(e, tt, c, cdb_rw10(c, TT_OP_WRITE_10, 1, 1, 0), 1024);
	assert_good(tt);
	assert_int_equal(tt_scsi_task_residual(&tt->t, &over), 512);
	assert_false(over);
	run_in(e, r, c, cdb_rw10(c, TT_OP_READ_10, 1, 2, 0), 1024);
	assert_memory_equal(r->data, tt->data, 512);
	assert_int_not_equal(r->data[512], 'c');
	/* WRITE one block, edtl 200: refused, nothing written */
	memset(tt->data, 'd', 1024);
	run_out(e, tt, c, cdb_rw10(c, TT_OP_WRITE_10, 0, 1, 0), 200);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x0e, 0x03);
	assert_int_equal(tt_scsi_task_residual(&tt->t, &over), 512 - 200);
	assert_true(over);
	run_in(e, r, c, cdb_rw10(c, TT_OP_READ_10, 0, 1, 0), 512);
	assert_int_equal(r->data[0], 'b');
	/* WRITE one block, edtl 0: GOOD, nothing written */
	run_out(e, tt, c, cdb_rw10(c, TT_OP_WRITE_10, 0, 1, 0), 0);
	assert_good(tt);
	assert_int_equal(tt_scsi_task_residual(&tt->t, &over), 512);
	assert_true(over);
	run_in(e, r, c, cdb_rw10(c, TT_OP_READ_10, 0, 1, 0), 512);
	assert_int_equal(r->data[0], 'b');
	/* a command without data, edtl given: underflow of all of it */
	memset(c, 0, sizeof(c));
	c[0] = TT_OP_TEST_UNIT_READY;
	run_in(e, r, c, 6, 100);
	assert_good(r);
	assert_int_equal(tt_scsi_task_residual(&r->t, &over), 100);
	assert_false(over);
	free(tt);
	free(r);
	env_free(e);
}

static void verify_cdb(uint8_t *c, uint32_t lba, uint16_t n, uint8_t bytchk)
{
	cdb_rw10(c, TT_OP_VERIFY_10, lba, n, (uint8_t)(bytchk << 1));
}

static void test_verify(void **state)
{
	struct env *e = env_new("ram:1M");
	struct ttask *tt = ttask_new();
	uint8_t c[16];

	(void)state;
	fill(tt->data, 4 * 512, 11);
	run_out(e, tt, c, cdb_rw10(c, TT_OP_WRITE_10, 20, 4, 0), 4 * 512);
	assert_good(tt);

	verify_cdb(c, 20, 4, 0);
	run_out(e, tt, c, 10, 0);
	assert_good(tt);
	assert_int_equal(tt->t.xfer, TT_SCSI_XFER_NONE);
	verify_cdb(c, 2047, 2, 0);
	run_out(e, tt, c, 10, 0);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x21, 0x00);

	/* BYTCHK 1: same data */
	verify_cdb(c, 20, 4, 1);
	run_out(e, tt, c, 10, 4 * 512);
	assert_good(tt);
	assert_int_equal(tt->t.cmd_len, 4 * 512);
	/* one byte differs: MISCOMPARE with its offset */
	tt->data[1000] ^= 0x55;
	run_out(e, tt, c, 10, 4 * 512);
	assert_sense(tt, TT_SK_MISCOMPARE, 0x1d, 0x00);
	assert_int_equal(tt->t.sense[0] & 0x80, 0x80); /* VALID */
	assert_int_equal(tt_get_be32(tt->t.sense + 3), 1000);
	tt->data[1000] ^= 0x55;

	/* VERIFY (16) BYTCHK 3: every block against one */
	fill(tt->data, 512, 77);
	for (int i = 1; i < 3; i++)
		memcpy(tt->data + i * 512, tt->data, 512);
	run_out(e, tt, c, cdb_rw10(c, TT_OP_WRITE_10, 40, 3, 0), 3 * 512);
	assert_good(tt);
	run_out(e, tt, c, cdb_rw16(c, TT_OP_VERIFY_16, 40, 3, 0x06), 512);
	assert_good(tt);
	assert_int_equal(tt->t.cmd_len, 512);
	run_out(e, tt, c, cdb_rw16(c, TT_OP_VERIFY_16, 39, 3, 0x06), 512);
	assert_sense(tt, TT_SK_MISCOMPARE, 0x1d, 0x00);
	/* BYTCHK 2 is reserved */
	run_out(e, tt, c, cdb_rw16(c, TT_OP_VERIFY_16, 40, 3, 0x04), 512);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	free(tt);
	env_free(e);
}

static void test_sync_cache_start_stop(void **state)
{
	struct env *e = env_new("ram:1M");
	struct ttask *tt = ttask_new();
	uint8_t c[16] = { 0 };

	(void)state;
	c[0] = TT_OP_SYNCHRONIZE_CACHE_10;
	c[1] = 0x02; /* IMMED */
	run_in(e, tt, c, 10, 0);
	assert_good(tt);
	memset(c, 0, sizeof(c));
	c[0] = TT_OP_SYNCHRONIZE_CACHE_16;
	tt_put_be64(c + 2, 10);
	tt_put_be32(c + 10, 10);
	run_in(e, tt, c, 16, 0);
	assert_good(tt);
	memset(c, 0, sizeof(c));
	c[0] = TT_OP_START_STOP_UNIT;
	c[4] = 0x02; /* LOEJ, stop: no medium to eject */
	run_in(e, tt, c, 6, 0);
	assert_good(tt);
	c[4] = 0x01;
	run_in(e, tt, c, 6, 0);
	assert_good(tt);
	free(tt);
	env_free(e);
}

static void test_backend_errors(void **state)
{
	struct env *e = env_new("fail:lba=10,ram:1M");
	struct ttask *tt = ttask_new();
	uint8_t c[16];

	(void)state;
	run_in(e, tt, c, cdb_rw10(c, TT_OP_READ_10, 0, 4, 0), 2048);
	assert_good(tt);
	run_in(e, tt, c, cdb_rw10(c, TT_OP_READ_10, 8, 4, 0), 2048);
	assert_sense(tt, TT_SK_MEDIUM_ERROR, 0x11, 0x00);
	assert_int_equal(tt->t.data_len, 0);
	run_out(e, tt, c, cdb_rw10(c, TT_OP_WRITE_10, 10, 1, 0), 512);
	assert_sense(tt, TT_SK_MEDIUM_ERROR, 0x0c, 0x00);
	verify_cdb(c, 10, 1, 1);
	run_out(e, tt, c, 10, 512);
	assert_sense(tt, TT_SK_MEDIUM_ERROR, 0x11, 0x00);
	free(tt);
	env_free(e);

	e = env_new("fail:err=enospc,op=write,ram:1M");
	tt = ttask_new();
	run_out(e, tt, c, cdb_rw10(c, TT_OP_WRITE_10, 0, 1, 0), 512);
	assert_sense(tt, TT_SK_DATA_PROTECT, 0x27, 0x07);
	run_in(e, tt, c, cdb_rw10(c, TT_OP_READ_10, 0, 1, 0), 512);
	assert_good(tt);
	free(tt);
	env_free(e);

	e = env_new("fail:err=enodata,op=flush,ram:1M");
	tt = ttask_new();
	memset(c, 0, sizeof(c));
	c[0] = TT_OP_SYNCHRONIZE_CACHE_10;
	run_in(e, tt, c, 10, 0);
	assert_sense(tt, TT_SK_HARDWARE_ERROR, 0x44, 0x00);
	free(tt);
	env_free(e);
}

/* --- task tracking -------------------------------------------------------------------------- */

struct walk {
	int count, in_backend;
	struct tt_scsi_task *seen;
};

static void count_task(struct tt_scsi_task *task, void *arg)
{
	struct walk *w = arg;

	w->count++;
	if (task->state == TT_TASK_BACKEND)
		w->in_backend++;
	w->seen = task;
}

static void test_task_list(void **state)
{
	struct env *e = env_new("delay:hang,ram:1M");
	struct ttask *tt = ttask_new();
	struct walk w = { 0 };
	uint8_t c[16];

	(void)state;
	tt->t.lun = e->lun;
	tt->t.nexus = &e->nexus;
	cdb_rw10(tt->t.cdb, TT_OP_READ_10, 0, 1, 0);
	tt->t.dir_read = true;
	tt->t.edtl = 512;
	tt->t.buf = tt->data;
	tt->t.done = ttask_done;
	tt_scsi_exec(&tt->t);
	tt->returned = true;
	for (int i = 0; i < 5; i++)
		tt_loop_run_once(e->loop, 1);
	assert_false(tt->done);
	tt_lun_for_each_task(e->lun, count_task, &w);
	assert_int_equal(w.count, 1);
	assert_int_equal(w.in_backend, 1);
	assert_ptr_equal(w.seen, &tt->t);
	assert_true(tt_bdev_delay_release(e->bdev) >= 1);
	assert_int_equal(tt_bdev_delay_set_hang(e->bdev, TT_BDEV_HANG_OFF), 0);
	while (!tt->done)
		tt_loop_run_once(e->loop, 10);
	assert_good(tt);
	memset(&w, 0, sizeof(w));
	tt_lun_for_each_task(e->lun, count_task, &w);
	assert_int_equal(w.count, 0);
	(void)c;
	free(tt);
	env_free(e);
}

/* Several loops on several threads share one LUN, each on its own blocks. */
struct worker {
	struct env *e;
	unsigned index;  /* of the worker's loop */
	unsigned region; /* of the blocks it owns */
	int errors;
};

static void *worker_main(void *arg)
{
	struct worker *wk = arg;
	struct tt_loop *loop;
	struct ttask *w = ttask_new(), *r = ttask_new();
	struct env local;
	uint8_t c[16];

	assert_int_equal(tt_loop_create(&loop, wk->index), 0);
	tt_loop_run_once(loop, 0);
	local = *wk->e;
	local.loop = loop;
	for (uint32_t i = 0; i < 200; i++) {
		uint32_t lba = wk->region * 1000 + (i % 100) * 8;

		fill(w->data, 8 * 512, (uint8_t)(i + wk->region));
		run_out(&local, w, c, cdb_rw10(c, TT_OP_WRITE_10, lba, 8, 0), 8 * 512);
		run_in(&local, r, c, cdb_rw10(c, TT_OP_READ_10, lba, 8, 0), 8 * 512);
		if (w->t.status || r->t.status || memcmp(w->data, r->data, 8 * 512))
			wk->errors++;
	}
	free(w);
	free(r);
	tt_loop_run_once(loop, 0);
	tt_loop_destroy(loop);
	return NULL;
}

static void test_threads(void **state)
{
	struct env *e = env_new("ram:4M");
	/* loops 1 and 2 own their slots; the second loop of index 1 uses the shared list */
	struct worker wk[3] = { { e, 1, 0, 0 }, { e, 2, 1, 0 }, { e, 1, 2, 0 } };
	pthread_t th[3];

	(void)state;
	for (int i = 0; i < 3; i++)
		assert_int_equal(pthread_create(&th[i], NULL, worker_main, &wk[i]), 0);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 3; i++)
		assert_int_equal(wk[i].errors, 0);
	env_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_capacity),
		cmocka_unit_test(test_physical_block_exponent),
		cmocka_unit_test(test_write_read_back),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_max_transfer),
		cmocka_unit_test(test_write_protect),
		cmocka_unit_test(test_residuals),
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_sync_cache_start_stop),
		cmocka_unit_test(test_backend_errors),
		cmocka_unit_test(test_task_list),
		cmocka_unit_test(test_threads),
	};

	return tt_run_group("sbc_test", tests, NULL, NULL);
}
