/* SPDX-License-Identifier: BSD-3-Clause */
#include "bdev_util.h"

static void test_null(void **state)
{
	struct tt_loop *loop = test_loop_new();
	struct tt_bdev *b = test_open("null:1G");
	struct tt_bdev *nf = test_open("null:1G,nofill");
	char *buf = test_alloc(65536);

	(void)state;
	memset(buf, 0xaa, 65536);
	assert_int_equal(test_rw(loop, b, TT_BDEV_WRITE, 0, buf, 65536), 0);
	assert_int_equal(test_rw(loop, b, TT_BDEV_READ, 0, buf, 65536), 0);
	assert_true(test_is_zero(buf, 65536));
	assert_int_equal(test_rw(loop, b, TT_BDEV_FLUSH, 0, NULL, 0), 0);
	assert_int_equal(test_rw(loop, b, TT_BDEV_UNMAP, 0, NULL, 1 << 30), 0);
	assert_int_equal(test_rw(loop, b, TT_BDEV_WRITE_ZEROES, 4096, NULL, 4096), 0);

	memset(buf, 0xaa, 65536);
	assert_int_equal(test_rw(loop, nf, TT_BDEV_READ, 0, buf, 65536), 0);
	assert_true((unsigned char)buf[0] == 0xaa && (unsigned char)buf[65535] == 0xaa);
	assert_false(nf->thin);

	assert_int_equal(b->refs, 1);
	assert_int_equal(nf->refs, 1);
	tt_bdev_put(b);
	tt_bdev_put(nf);
	free(buf);
	tt_loop_destroy(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_null),
	};

	return tt_run_group("bdev_null_test", tests, NULL, NULL);
}
