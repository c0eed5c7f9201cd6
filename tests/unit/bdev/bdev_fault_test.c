/* SPDX-License-Identifier: BSD-3-Clause */
#include "bdev_util.h"

/* Reads and writes touching blocks 8..15 fail with -EIO; the failed write changes nothing. */
static void test_fail_lba(void **state)
{
	struct tt_loop *loop = test_loop_new();
	struct tt_bdev *b = test_open("fail:lba=8-15,ram:1M");
	char *w = test_alloc(65536), *r = test_alloc(65536);

	(void)state;
	test_fill(w, 65536, 1);
	assert_int_equal(test_rw(loop, b, TT_BDEV_WRITE, 0, w, 4096), 0);          /* 0-7 */
	assert_int_equal(test_rw(loop, b, TT_BDEV_WRITE, 4096, w, 512), -EIO);     /* 8 */
	assert_int_equal(test_rw(loop, b, TT_BDEV_WRITE, 7680, w, 1024), -EIO);    /* 15-16 */
	assert_int_equal(test_rw(loop, b, TT_BDEV_WRITE, 0, w, 65536), -EIO);      /* 0-127 */
	assert_int_equal(test_rw(loop, b, TT_BDEV_WRITE, 8192, w, 4096), 0);       /* 16-23 */
	assert_int_equal(test_rw(loop, b, TT_BDEV_READ, 3584, r, 512), 0);         /* 7 */
	assert_int_equal(test_rw(loop, b, TT_BDEV_READ, 7168, r, 512), -EIO);      /* 14 */
	assert_int_equal(test_rw(loop, b, TT_BDEV_FLUSH, 0, NULL, 0), 0);
	assert_int_equal(test_rw(loop, b, TT_BDEV_UNMAP, 4096, NULL, 4096), 0);    /* not chosen */
	/* the failed writes did not reach the inner backend */
	assert_int_equal(tt_bdev_fail_arm(b, false), 0);
	assert_int_equal(test_rw(loop, b, TT_BDEV_READ, 0, r, 12288), 0);
	assert_memory_equal(r, w, 4096);
	assert_true(test_is_zero(r + 4096, 4096));
	assert_memory_equal(r + 8192, w, 4096);
	assert_int_equal(tt_bdev_fail_arm(b, true), 0);
	assert_int_equal(test_rw(loop, b, TT_BDEV_READ, 4096, r, 512), -EIO);
	assert_int_equal(b->refs, 1);
	assert_int_equal(b->inner->refs, 1);
	tt_bdev_put(b);
	free(w);
	free(r);
	tt_loop_destroy(loop);
}

static void test_fail_every_count(void **state)
{
	struct tt_loop *loop = test_loop_new();
	struct tt_bdev *b = test_open("fail:every=3,op=write,ram:1M");
	struct tt_bdev *c = test_open("fail:count=2,err=enospc,op=all,null:1M");
	char *buf = test_alloc(4096);

	(void)state;
	for (int i = 1; i <= 9; i++) {
		assert_int_equal(test_rw(loop, b, TT_BDEV_WRITE, 0, buf, 4096), i % 3 ? 0 : -EIO);
		assert_int_equal(test_rw(loop, b, TT_BDEV_READ, 0, buf, 4096), 0);
	}
	assert_int_equal(test_rw(loop, c, TT_BDEV_FLUSH, 0, NULL, 0), -ENOSPC);
	assert_int_equal(test_rw(loop, c, TT_BDEV_WRITE_ZEROES, 0, NULL, 512), -ENOSPC);
	assert_int_equal(test_rw(loop, c, TT_BDEV_READ, 0, buf, 4096), 0);
	assert_int_equal(test_rw(loop, c, TT_BDEV_FLUSH, 0, NULL, 0), 0);
	tt_bdev_put(b);
	tt_bdev_put(c);
	free(buf);
	tt_loop_destroy(loop);
}

static void test_fail_off(void **state)
{
	struct tt_loop *loop = test_loop_new();
	struct tt_bdev *b = test_open("fail:off,op=read,delay:ms=1,ram:1M");
	char *buf = test_alloc(4096);

	(void)state;
	assert_int_equal(test_rw(loop, b, TT_BDEV_READ, 0, buf, 4096), 0);
	assert_int_equal(tt_bdev_fail_arm(b, true), 0);
	assert_int_equal(test_rw(loop, b, TT_BDEV_READ, 0, buf, 4096), -EIO);
	assert_int_equal(test_rw(loop, b, TT_BDEV_WRITE, 0, buf, 4096), 0);
	/* the delay backend is found through the fail wrapper */
	assert_int_equal(tt_bdev_delay_parked(b), 0);
	assert_int_equal(b->refs, 1);
	tt_bdev_put(b);
	free(buf);
	tt_loop_destroy(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fail_lba),
		cmocka_unit_test(test_fail_every_count),
		cmocka_unit_test(test_fail_off),
	};

	return tt_run_group("bdev_fault_test", tests, NULL, NULL);
}
