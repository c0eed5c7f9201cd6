/* SPDX-License-Identifier: BSD-3-Clause */
/* Spec parsing, submission checks, deferred completion and references. */
#include "bdev_util.h"

#include <pthread.h>
#include <stdint.h>

static void test_spec_good(void **state)
{
	static const struct {
		const char *spec;
		const char *kind;
		uint64_t size;
		uint32_t bs;
		bool thin;
	} cases[] = {
		{ "ram:1M", "ram", 1 << 20, 512, true },
		{ "ram:64K,bs=4096", "ram", 65536, 4096, true },
		{ "ram:size=2MiB,bs=512", "ram", 2 << 20, 512, true },
		{ "ram:1G", "ram", 1ULL << 30, 512, true },
		{ "null:1T", "null", 1ULL << 40, 512, true },
		{ "null:1M,nofill,bs=4K", "null", 1 << 20, 4096, false },
		{ "delay:ms=3,ram:1M", "delay", 1 << 20, 512, true },
		{ "delay:hang,null:4M,bs=4096", "delay", 4 << 20, 4096, true },
		{ "delay:ram:1M", "delay", 1 << 20, 512, true },
		{ "fail:lba=0-7,op=read+write,ram:1M", "fail", 1 << 20, 512, true },
		{ "delay:ms=1,fail:lba=3,every=2,ram:8M", "delay", 8 << 20, 512, true },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tt_bdev *b = test_open(cases[i].spec);

		assert_string_equal(b->ops->kind, cases[i].kind);
		assert_string_equal(b->spec, cases[i].spec);
		assert_true(b->size == cases[i].size);
		assert_int_equal(b->block_size, cases[i].bs);
		assert_int_equal(b->thin, cases[i].thin);
		assert_false(b->readonly);
		assert_false(b->volatile_cache);
		tt_bdev_put(b);
	}
}

static void test_spec_bad(void **state)
{
	static const struct { const char *spec; const char *msg; } cases[] = {
		{ "", "empty backend spec" },
		{ "foo:1M", "unknown backend kind 'foo'" },
		{ "foo", "unknown backend kind 'foo'" },
		{ "ram", "ram: missing size" },
		{ "ram:", "ram: missing size" },
		{ "ram:1Q", "ram: bad size '1Q'" },
		{ "ram:0", "ram: bad size '0'" },
		{ "ram:size=", "ram: bad size ''" },
		{ "ram:1000", "ram: size 1000 is not a multiple of the block size 512" },
		{ "ram:1M,bs=1000", "ram: bad block size '1000'" },
		{ "ram:1M,bs=2048", "ram: bad block size '2048'" },
		{ "ram:1M,zap", "ram: unknown option 'zap'" },
		{ "ram:6K,bs=4096", "not a multiple of the block size 4096" },
		{ "null:1M,fill=no", "null: unknown option 'fill'" },
		{ "null:x", "null: bad size 'x'" },
		{ "file:", "file: missing path" },
		{ "file", "file: missing path" },
		{ "file:,size=1M", "file: missing path" },
		{ "file:size=1M", "file: missing path" },
		{ "delay:ms=5", "delay: missing inner backend spec" },
		{ "delay:", "delay: missing inner backend spec" },
		{ "delay:ms=x,ram:1M", "delay: bad ms 'x'" },
		{ "delay:ms=-1,ram:1M", "delay: bad ms '-1'" },
		{ "delay:hang=sometimes,ram:1M", "delay: bad hang 'sometimes'" },
		{ "delay:jitter=4,ram:1M", "delay: unknown option 'jitter'" },
		{ "delay:ms=1,foo:1", "unknown backend kind 'foo'" },
		{ "delay:ms=1,ram:1Q", "ram: bad size '1Q'" },
		{ "fail:lba=9-3,ram:1M", "fail: bad lba '9-3'" },
		{ "fail:lba=x,ram:1M", "fail: bad lba 'x'" },
		{ "fail:op=bogus,ram:1M", "fail: bad op 'bogus'" },
		{ "fail:op=read+,ram:1M", "fail: bad op 'read+'" },
		{ "fail:every=0,ram:1M", "fail: bad every '0'" },
		{ "fail:err=eperm,ram:1M", "fail: bad err 'eperm'" },
		{ "fail:lba=1", "fail: missing inner backend spec" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tt_bdev *b = NULL;
		char err[256] = "";
		int rc = tt_bdev_open(cases[i].spec, &b, err, sizeof(err));

		if (rc != -EINVAL || !strstr(err, cases[i].msg))
			fail_msg("'%s': rc %d, message '%s', wanted '%s'", cases[i].spec, rc, err,
				 cases[i].msg);
		assert_null(b);
	}
	/* a message that does not fit is cut, not overflowed */
	{
		struct tt_bdev *b = NULL;
		char err[8];

		assert_int_equal(tt_bdev_open("ram:1Q", &b, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, "ram: ba");
		assert_int_equal(tt_bdev_open("ram:1Q", &b, NULL, 0), -EINVAL);
	}
}

static int done_calls;

static void count_done(struct tt_bdev_io *io, int status)
{
	done_calls++;
	test_io_done(io, status);
}

static void test_never_inline(void **state)
{
	static const char *const specs[] = { "ram:1M", "null:1M", "delay:ram:1M", "fail:lba=100,ram:1M" };
	struct tt_loop *loop = test_loop_new();
	char *buf = test_alloc(4096);

	(void)state;
	for (size_t s = 0; s < sizeof(specs) / sizeof(specs[0]); s++) {
		struct tt_bdev *b = test_open(specs[s]);
		struct test_io t[5];

		done_calls = 0;
		test_io_prep(&t[0], TT_BDEV_WRITE, 0, buf, 4096);
		test_io_prep(&t[1], TT_BDEV_READ, 4096, buf, 4096);
		test_io_prep(&t[2], TT_BDEV_FLUSH, 0, NULL, 0);
		test_io_prep(&t[3], TT_BDEV_UNMAP, 8192, NULL, 4096);
		test_io_prep(&t[4], TT_BDEV_READ, 0, buf, 0); /* empty */
		for (int i = 0; i < 5; i++) {
			t[i].io.done = count_done;
			assert_int_equal(test_io_start(b, &t[i]), 0);
		}
		assert_int_equal(done_calls, 0);
		assert_int_equal(b->refs, 6);
		assert_true(b->inflight == 5);
		for (int i = 0; i < 5; i++) {
			assert_true(test_run_until(loop, &t[i].done, 5000));
			assert_int_equal(t[i].status, 0);
			assert_ptr_equal(t[i].io.loop, loop);
			assert_ptr_equal(t[i].io.bdev, b);
		}
		assert_int_equal(done_calls, 5);
		assert_int_equal(b->refs, 1);
		assert_true(b->inflight == 0);
		tt_bdev_put(b);
	}
	free(buf);
	tt_loop_destroy(loop);
}

static void test_submit_checks(void **state)
{
	struct tt_loop *loop = test_loop_new();
	struct tt_bdev *b = test_open("ram:1M,bs=4096");
	struct tt_bdev *ro = test_open("ram:1M,ro");
	struct tt_bdev *nothin = test_open("null:1M,nofill");
	char *buf = test_alloc(8192);
	struct test_io t;
	struct iovec iov[2] = { { buf, 4096 }, { buf + 4096, 2048 } };

	(void)state;
	/* misaligned */
	test_io_prep(&t, TT_BDEV_READ, 512, buf, 4096);
	assert_int_equal(tt_bdev_submit(b, &t.io), -EINVAL);
	test_io_prep(&t, TT_BDEV_WRITE, 0, buf, 512);
	assert_int_equal(tt_bdev_submit(b, &t.io), -EINVAL);
	/* out of range */
	test_io_prep(&t, TT_BDEV_READ, 1 << 20, buf, 4096);
	assert_int_equal(tt_bdev_submit(b, &t.io), -ERANGE);
	test_io_prep(&t, TT_BDEV_UNMAP, (1 << 20) - 4096, NULL, 8192);
	assert_int_equal(tt_bdev_submit(b, &t.io), -ERANGE);
	test_io_prep(&t, TT_BDEV_READ, UINT64_MAX - 4095, buf, 8192);
	assert_int_equal(tt_bdev_submit(b, &t.io), -ERANGE);
	/* iovecs do not add up to len */
	test_io_prep(&t, TT_BDEV_WRITE, 0, buf, 8192);
	t.io.iov = iov;
	t.io.iovcnt = 2;
	assert_int_equal(tt_bdev_submit(b, &t.io), -EINVAL);
	/* read-only */
	test_io_prep(&t, TT_BDEV_WRITE, 0, buf, 4096);
	assert_int_equal(tt_bdev_submit(ro, &t.io), -EROFS);
	test_io_prep(&t, TT_BDEV_WRITE_ZEROES, 0, NULL, 4096);
	assert_int_equal(tt_bdev_submit(ro, &t.io), -EROFS);
	assert_int_equal(test_rw(loop, ro, TT_BDEV_READ, 0, buf, 4096), 0);
	assert_true(ro->readonly);
	/* not thin */
	test_io_prep(&t, TT_BDEV_UNMAP, 0, NULL, 4096);
	assert_int_equal(tt_bdev_submit(nothin, &t.io), -EOPNOTSUPP);
	/* WRITE SAME and COMPARE AND WRITE only where the backend offers them (rbd) */
	test_io_prep(&t, TT_BDEV_WRITE_SAME, 0, NULL, 8192);
	t.io.iov = iov;
	t.io.iovcnt = 1;
	assert_int_equal(tt_bdev_submit(b, &t.io), -EOPNOTSUPP);
	test_io_prep(&t, TT_BDEV_COMPARE_AND_WRITE, 0, NULL, 4096);
	t.io.iov = iov;
	t.io.iovcnt = 1;
	assert_int_equal(tt_bdev_submit(b, &t.io), -EOPNOTSUPP);
	test_io_prep(&t, TT_BDEV_WRITE_SAME, 0, NULL, 4096);
	t.io.iov = iov;
	t.io.iovcnt = 1;
	assert_int_equal(tt_bdev_submit(ro, &t.io), -EROFS);
	assert_int_equal(b->refs, 1);
	assert_true(b->inflight == 0);
	assert_int_equal(ro->refs, 1);
	assert_int_equal(nothin->refs, 1);
	tt_bdev_put(b);
	tt_bdev_put(ro);
	tt_bdev_put(nothin);
	free(buf);
	tt_loop_destroy(loop);
}

struct resize_rec {
	struct tt_bdev_watch w;
	int calls;
	uint64_t size;
};

static void resize_seen(struct tt_bdev_watch *w, uint64_t size)
{
	struct resize_rec *r = tt_container_of(w, struct resize_rec, w);

	r->calls++;
	r->size = size;
}

/* Size changes reach every watch until it is removed; no backend name for ram or a wrapper. */
static void test_size_watch(void **state)
{
	struct tt_bdev *b = test_open("ram:1M");
	struct tt_bdev *w = test_open("delay:ms=1,ram:1M");
	struct resize_rec r1 = { .w.resized = resize_seen }, r2 = { .w.resized = resize_seen };
	char name[64];

	(void)state;
	tt_bdev_watch_add(b, &r1.w);
	tt_bdev_watch_add(b, &r2.w);
	tt_bdev_set_size(b, 2 << 20);
	assert_true(tt_bdev_size(b) == 2 << 20);
	assert_int_equal(r1.calls, 1);
	assert_int_equal(r2.calls, 1);
	assert_true(r1.size == 2 << 20);
	tt_bdev_watch_del(b, &r1.w);
	tt_bdev_watch_del(b, &r1.w); /* twice: nothing */
	tt_bdev_set_size(b, 1 << 20);
	assert_int_equal(r1.calls, 1);
	assert_int_equal(r2.calls, 2);
	assert_true(r2.size == 1 << 20);
	tt_bdev_watch_del(b, &r2.w);
	assert_int_equal(tt_bdev_identity(b, name, sizeof(name)), -ENOENT);
	assert_int_equal(tt_bdev_identity(w, name, sizeof(name)), -ENOENT);
	tt_bdev_put(b);
	tt_bdev_put(w);
}

static void *no_loop_thread(void *arg)
{
	struct tt_bdev *b = arg;
	struct test_io t;
	char buf[512];

	test_io_prep(&t, TT_BDEV_READ, 0, buf, 512);
	return (void *)(intptr_t)tt_bdev_submit(b, &t.io);
}

static void test_no_loop(void **state)
{
	struct tt_bdev *b = test_open("ram:1M");
	pthread_t th;
	void *rc;

	(void)state;
	assert_int_equal(pthread_create(&th, NULL, no_loop_thread, b), 0);
	assert_int_equal(pthread_join(th, &rc), 0);
	assert_int_equal((int)(intptr_t)rc, -EINVAL);
	assert_int_equal(b->refs, 1);
	tt_bdev_put(b);
}

/* The creator's reference may go while I/O is in flight: the last I/O frees the backend. */
static void test_put_while_inflight(void **state)
{
	struct tt_loop *loop = test_loop_new();
	struct tt_bdev *b = test_open("delay:ms=20,ram:1M");
	struct tt_bdev *inner = b->inner;
	char *buf = test_alloc(4096);
	struct test_io t;

	(void)state;
	assert_int_equal(inner->refs, 1);
	test_io_prep(&t, TT_BDEV_WRITE, 0, buf, 4096);
	assert_int_equal(test_io_start(b, &t), 0);
	assert_int_equal(inner->refs, 2);
	tt_bdev_put(b);
	assert_int_equal(b->refs, 1);
	assert_true(test_run_until(loop, &t.done, 5000));
	assert_int_equal(t.status, 0);
	free(buf);
	tt_loop_destroy(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_good),
		cmocka_unit_test(test_spec_bad),
		cmocka_unit_test(test_never_inline),
		cmocka_unit_test(test_submit_checks),
		cmocka_unit_test(test_no_loop),
		cmocka_unit_test(test_put_while_inflight),
		cmocka_unit_test(test_size_watch),
	};

	return tt_run_group("bdev_test", tests, NULL, NULL);
}
