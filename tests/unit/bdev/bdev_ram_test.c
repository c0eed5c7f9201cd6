/* SPDX-License-Identifier: BSD-3-Clause */
#include "bdev_util.h"

#include <pthread.h>

#define MB (1024 * 1024)

static void test_ram_rw(void **state)
{
	struct tt_loop *loop = test_loop_new();
	struct tt_bdev *b = test_open("ram:4M");
	char *w = test_alloc(MB), *r = test_alloc(MB);
	struct test_io t;

	(void)state;
	/* fresh memory reads as zero */
	memset(r, 0xaa, MB);
	assert_int_equal(test_rw(loop, b, TT_BDEV_READ, 0, r, MB), 0);
	assert_true(test_is_zero(r, MB));

	test_fill(w, MB, 1);
	assert_int_equal(test_rw(loop, b, TT_BDEV_WRITE, 512, w, MB), 0);
	assert_int_equal(test_rw(loop, b, TT_BDEV_READ, 512, r, MB), 0);
	assert_memory_equal(w, r, MB);

	/* scattered iovecs on both sides */
	test_io_prep(&t, TT_BDEV_READ, 512, NULL, 3072);
	t.iov[0] = (struct iovec){ r, 512 };
	t.iov[1] = (struct iovec){ r + 10000, 1024 };
	t.iov[2] = (struct iovec){ r + 20000, 1536 };
	t.io.iovcnt = 3;
	assert_int_equal(test_io_wait(loop, b, &t), 0);
	assert_memory_equal(r, w, 512);
	assert_memory_equal(r + 10000, w + 512, 1024);
	assert_memory_equal(r + 20000, w + 1536, 1536);

	/* last block */
	assert_int_equal(test_rw(loop, b, TT_BDEV_WRITE, 4 * MB - 512, w, 512), 0);
	assert_int_equal(test_rw(loop, b, TT_BDEV_READ, 4 * MB - 512, r, 512), 0);
	assert_memory_equal(w, r, 512);

	assert_int_equal(test_rw(loop, b, TT_BDEV_FLUSH, 0, NULL, 0), 0);
	assert_int_equal(b->refs, 1);
	tt_bdev_put(b);
	free(w);
	free(r);
	tt_loop_destroy(loop);
}

/* UNMAP and WRITE_ZEROES over partial and whole pages read back as zero, neighbours intact. */
static void test_ram_unmap(void **state)
{
	static const struct { enum tt_bdev_op op; uint64_t off, len; } cases[] = {
		{ TT_BDEV_UNMAP, 512, 1024 },           /* inside one page */
		{ TT_BDEV_UNMAP, 3584, 8192 + 1024 },   /* partial, whole, partial */
		{ TT_BDEV_UNMAP, 65536, 65536 },        /* whole pages only */
		{ TT_BDEV_WRITE_ZEROES, 1536, 20480 },
		{ TT_BDEV_WRITE_ZEROES, 0, 4096 },
	};
	struct tt_loop *loop = test_loop_new();
	struct tt_bdev *b = test_open("ram:1M");
	char *w = test_alloc(MB), *r = test_alloc(MB);

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t off = cases[i].off, len = cases[i].len;
		struct test_io t;

		test_fill(w, MB, (unsigned)i + 3);
		assert_int_equal(test_rw(loop, b, TT_BDEV_WRITE, 0, w, MB), 0);
		test_io_prep(&t, cases[i].op, off, NULL, len);
		assert_int_equal(test_io_wait(loop, b, &t), 0);
		assert_int_equal(test_rw(loop, b, TT_BDEV_READ, 0, r, MB), 0);
		assert_memory_equal(r, w, off);
		assert_true(test_is_zero(r + off, len));
		assert_memory_equal(r + off + len, w + off + len, MB - off - len);
	}
	tt_bdev_put(b);
	free(w);
	free(r);
	tt_loop_destroy(loop);
}

/* Memory is taken only where written: a large device costs nothing until used. */
static void test_ram_lazy(void **state)
{
	struct tt_loop *loop = test_loop_new();
	struct tt_bdev *b = test_open("ram:64G,bs=4096");
	char *w = test_alloc(4096), *r = test_alloc(4096);

	(void)state;
	assert_true(b->size == 64ULL << 30);
	assert_int_equal(b->block_size, 4096);
	test_fill(w, 4096, 9);
	assert_int_equal(test_rw(loop, b, TT_BDEV_WRITE, (64ULL << 30) - 4096, w, 4096), 0);
	assert_int_equal(test_rw(loop, b, TT_BDEV_READ, (64ULL << 30) - 4096, r, 4096), 0);
	assert_memory_equal(w, r, 4096);
	assert_int_equal(test_rw(loop, b, TT_BDEV_READ, 32ULL << 30, r, 4096), 0);
	assert_true(test_is_zero(r, 4096));
	tt_bdev_put(b);
	free(w);
	free(r);
	tt_loop_destroy(loop);
}

/* Two loop threads write disjoint halves of one device at the same time. */
struct mt_ctx {
	struct tt_bdev *bdev;
	unsigned half;
	int errors;
	bool finished;
	char *buf;
	struct test_io ios[64];
	int next, outstanding;
};

static void mt_done(struct tt_bdev_io *io, int status);

static void mt_issue(struct mt_ctx *c)
{
	while (c->next < 64 && c->outstanding < 8) {
		struct test_io *t = &c->ios[c->next];
		uint64_t off = (uint64_t)c->half * 512 * 1024 + (uint64_t)c->next * 8192;

		test_io_prep(t, TT_BDEV_WRITE, off, c->buf + (size_t)c->next * 8192, 8192);
		t->io.done = mt_done;
		t->io.ctx = c;
		if (tt_bdev_submit(c->bdev, &t->io) < 0)
			c->errors++;
		else
			c->outstanding++;
		c->next++;
	}
	if (c->next == 64 && c->outstanding == 0)
		__atomic_store_n(&c->finished, true, __ATOMIC_RELEASE);
}

static void mt_done(struct tt_bdev_io *io, int status)
{
	struct mt_ctx *c = io->ctx;

	if (status || !tt_loop_is_current(io->loop))
		c->errors++;
	c->outstanding--;
	mt_issue(c);
}

static void mt_start(void *arg)
{
	mt_issue(arg);
}

static void test_ram_threads(void **state)
{
	struct tt_bdev *b = test_open("ram:1M");
	struct mt_ctx c[2];
	char *r = test_alloc(MB);
	struct tt_loop *loop0;

	(void)state;
	assert_int_equal(tt_loops_start(2), 0);
	loop0 = tt_loops_get(0);
	for (unsigned i = 0; i < 2; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		c[i].bdev = b;
		c[i].half = i;
		c[i].buf = test_alloc(512 * 1024);
		test_fill(c[i].buf, 512 * 1024, 20 + i);
		assert_int_equal(tt_loop_send(tt_loops_get(i), mt_start, &c[i]), 0);
	}
	assert_true(test_run_until(loop0, &c[0].finished, 10000));
	assert_true(test_run_until(loop0, &c[1].finished, 10000));
	assert_int_equal(c[0].errors + c[1].errors, 0);
	assert_int_equal(test_rw(loop0, b, TT_BDEV_READ, 0, r, MB), 0);
	assert_memory_equal(r, c[0].buf, 512 * 1024);
	assert_memory_equal(r + 512 * 1024, c[1].buf, 512 * 1024);
	assert_int_equal(b->refs, 1);
	tt_loops_shutdown();
	tt_bdev_put(b);
	free(c[0].buf);
	free(c[1].buf);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ram_rw),
		cmocka_unit_test(test_ram_unmap),
		cmocka_unit_test(test_ram_lazy),
		cmocka_unit_test(test_ram_threads),
	};

	return tt_run_group("bdev_ram_test", tests, NULL, NULL);
}
