/* SPDX-License-Identifier: BSD-3-Clause */
#include "bdev_util.h"

#include <pthread.h>

static void test_delay_ms(void **state)
{
	struct tt_loop *loop = test_loop_new();
	struct tt_bdev *b = test_open("delay:ms=50,ram:1M");
	char *w = test_alloc(4096), *r = test_alloc(4096);
	struct test_io t;
	uint64_t t0;

	(void)state;
	test_fill(w, 4096, 1);
	t0 = tt_now_ns();
	test_io_prep(&t, TT_BDEV_WRITE, 4096, w, 4096);
	assert_int_equal(test_io_wait(loop, b, &t), 0);
	assert_true(t.done_ns - t0 >= 50 * TT_NS_PER_MS);

	t0 = tt_now_ns();
	test_io_prep(&t, TT_BDEV_READ, 4096, r, 4096);
	assert_int_equal(test_io_wait(loop, b, &t), 0);
	assert_true(t.done_ns - t0 >= 50 * TT_NS_PER_MS);
	assert_memory_equal(r, w, 4096);
	assert_int_equal(b->refs, 1);
	assert_int_equal(b->inner->refs, 1);
	assert_int_equal(tt_bdev_delay_parked(b), 0);
	tt_bdev_put(b);
	free(w);
	free(r);
	tt_loop_destroy(loop);
}

/* hang: a write is parked before it reaches the inner backend, and lands only when released. */
static void test_delay_hang_before(void **state)
{
	struct tt_loop *loop = test_loop_new();
	struct tt_bdev *b = test_open("delay:hang,ram:1M");
	char *w = test_alloc(4096), *r = test_alloc(4096);
	struct test_io t, rd;

	(void)state;
	test_fill(w, 4096, 2);
	test_io_prep(&t, TT_BDEV_WRITE, 0, w, 4096);
	assert_int_equal(test_io_start(b, &t), 0);
	assert_false(test_run_until(loop, &t.done, 100));
	assert_int_equal(tt_bdev_delay_parked(b), 1);
	assert_int_equal(b->refs, 2);
	assert_true(b->inflight == 1);

	/* not executed: a read past the hang sees the old data */
	assert_int_equal(tt_bdev_delay_set_hang(b, TT_BDEV_HANG_OFF), 0);
	memset(r, 0xaa, 4096);
	test_io_prep(&rd, TT_BDEV_READ, 0, r, 4096);
	assert_int_equal(test_io_wait(loop, b, &rd), 0);
	assert_true(test_is_zero(r, 4096));
	assert_false(t.done);

	assert_int_equal(tt_bdev_delay_release(b), 1);
	assert_false(t.done);
	assert_true(test_run_until(loop, &t.done, 5000));
	assert_int_equal(t.status, 0);
	assert_int_equal(tt_bdev_delay_parked(b), 0);
	assert_int_equal(test_rw(loop, b, TT_BDEV_READ, 0, r, 4096), 0);
	assert_memory_equal(r, w, 4096);
	assert_int_equal(tt_bdev_delay_release(b), 0);
	assert_int_equal(b->refs, 1);
	assert_true(b->inflight == 0);
	tt_bdev_put(b);
	free(w);
	free(r);
	tt_loop_destroy(loop);
}

/* hang=after: the data lands, the completion is held. */
static void test_delay_hang_after(void **state)
{
	struct tt_loop *loop = test_loop_new();
	struct tt_bdev *b = test_open("delay:hang=after,ms=10,ram:1M");
	char *w = test_alloc(4096), *r = test_alloc(4096);
	struct test_io t, rd;

	(void)state;
	test_fill(w, 4096, 3);
	test_io_prep(&t, TT_BDEV_WRITE, 0, w, 4096);
	assert_int_equal(test_io_start(b, &t), 0);
	assert_false(test_run_until(loop, &t.done, 100));
	assert_int_equal(tt_bdev_delay_parked(b), 1);
	assert_int_equal(tt_bdev_delay_set_hang(b, TT_BDEV_HANG_OFF), 0);
	test_io_prep(&rd, TT_BDEV_READ, 0, r, 4096);
	assert_int_equal(test_io_wait(loop, b, &rd), 0);
	assert_memory_equal(r, w, 4096);
	assert_false(t.done);
	assert_int_equal(tt_bdev_delay_release(b), 1);
	assert_true(test_run_until(loop, &t.done, 5000));
	assert_int_equal(t.status, 0);
	assert_int_equal(b->refs, 1);
	tt_bdev_put(b);
	free(w);
	free(r);
	tt_loop_destroy(loop);
}

/* Parking through a fail wrapper, release from another thread, creator reference dropped first. */
struct releaser {
	struct tt_bdev *bdev;
	int released;
};

static void *release_thread(void *arg)
{
	struct releaser *rel = arg;

	while (tt_bdev_delay_parked(rel->bdev) < 3)
		usleep(1000);
	rel->released = tt_bdev_delay_release(rel->bdev);
	return NULL;
}

static void test_delay_release_thread(void **state)
{
	struct tt_loop *loop = test_loop_new();
	struct tt_bdev *b = test_open("fail:off,delay:hang,ram:1M");
	struct releaser rel = { b, 0 };
	char *buf = test_alloc(3 * 4096);
	struct test_io t[3];
	pthread_t th;

	(void)state;
	assert_int_equal(tt_bdev_delay_parked(b), 0);
	assert_int_equal(pthread_create(&th, NULL, release_thread, &rel), 0);
	for (int i = 0; i < 3; i++) {
		test_io_prep(&t[i], TT_BDEV_WRITE, (uint64_t)i * 4096, buf + i * 4096, 4096);
		assert_int_equal(test_io_start(b, &t[i]), 0);
	}
	/* nobody holds the backend but the parked I/Os */
	tt_bdev_put(b);
	for (int i = 0; i < 3; i++) {
		assert_true(test_run_until(loop, &t[i].done, 10000));
		assert_int_equal(t[i].status, 0);
	}
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(rel.released, 3);
	free(buf);
	tt_loop_destroy(loop);
}

/* The calls refuse backends that are not delay backends. */
static void test_delay_not_delay(void **state)
{
	struct tt_bdev *b = test_open("fail:ram:1M");

	(void)state;
	assert_int_equal(tt_bdev_delay_release(b), -EINVAL);
	assert_int_equal(tt_bdev_delay_parked(b), -EINVAL);
	assert_int_equal(tt_bdev_delay_set_hang(b, TT_BDEV_HANG_BEFORE), -EINVAL);
	tt_bdev_put(b);
	b = test_open("delay:ram:1M");
	assert_int_equal(tt_bdev_delay_set_hang(b, (enum tt_bdev_hang)7), -EINVAL);
	assert_int_equal(tt_bdev_fail_arm(b, true), -EINVAL);
	tt_bdev_put(b);
}

/* A loop destroyed with an I/O parked: nothing runs, nothing crashes. */
static struct tt_bdev *abandoned; /* kept reachable: the parked request is never freed */
static struct test_io abandoned_io;

static void test_delay_abandoned(void **state)
{
	struct tt_loop *loop = test_loop_new();
	struct tt_bdev *b = abandoned = test_open("delay:hang,ram:1M");
	struct test_io *tp = &abandoned_io;
	static char buf[512];

	(void)state;
	test_io_prep(tp, TT_BDEV_WRITE, 0, buf, 512);
	assert_int_equal(test_io_start(b, tp), 0);
	assert_int_equal(tt_bdev_delay_parked(b), 1);
	tt_loop_run_once(loop, 0);
	tt_loop_destroy(loop);
	assert_false(tp->done);
	assert_int_equal(b->refs, 2);
	/* the test process keeps the parked request and the backend: that is the point */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delay_ms),
		cmocka_unit_test(test_delay_hang_before),
		cmocka_unit_test(test_delay_hang_after),
		cmocka_unit_test(test_delay_release_thread),
		cmocka_unit_test(test_delay_not_delay),
		cmocka_unit_test(test_delay_abandoned),
	};

	return tt_run_group("bdev_delay_test", tests, NULL, NULL);
}
