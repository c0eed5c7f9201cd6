/* SPDX-License-Identifier: BSD-3-Clause */
/* LBA range locks: granting, order among waiters, delivery on the waiter's loop, threads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include "tt_test.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "base/loop.h"
#include "scsi/range_lock.h"

struct req {
	struct tt_range r;
	int granted;                 /* times granted() ran */
	struct tt_loop *granted_on;  /* the loop it ran on */
};

static void on_granted(struct tt_range *r)
{
	struct req *q = tt_container_of(r, struct req, r);

	q->granted++;
	q->granted_on = tt_loop_current();
}

static void req_init(struct req *q, uint64_t lba, uint64_t count)
{
	memset(q, 0, sizeof(*q));
	tt_range_init(&q->r, lba, count, on_granted);
}

static void pump(struct tt_loop *loop)
{
	for (int i = 0; i < 4; i++)
		tt_loop_run_once(loop, 0);
}

static void counts(struct tt_range_lock *rl, unsigned held, unsigned waiting)
{
	unsigned h, w;

	tt_range_lock_count(rl, &h, &w);
	assert_int_equal(h, held);
	assert_int_equal(w, waiting);
}

static void test_grant_order(void **state)
{
	struct tt_range_lock rl;
	struct tt_loop *loop;
	struct req a, b, c, d, e;

	(void)state;
	memset(&rl, 0, sizeof(rl)); /* zeroed memory is an empty lock */
	assert_int_equal(tt_loop_create(&loop, 0), 0);
	tt_loop_run_once(loop, 0);

	req_init(&a, 0, 10);
	req_init(&b, 5, 10);  /* overlaps a */
	req_init(&c, 12, 8);  /* overlaps b only */
	req_init(&d, 100, 1); /* overlaps nothing */
	req_init(&e, 10, 4);  /* adjacent to a, overlaps b and c */
	assert_true(tt_range_lock(&rl, &a.r));
	assert_false(tt_range_lock(&rl, &b.r));
	/* c overlaps no held range but an older waiter: it waits behind b */
	assert_false(tt_range_lock(&rl, &c.r));
	assert_true(tt_range_lock(&rl, &d.r));
	assert_false(tt_range_lock(&rl, &e.r));
	counts(&rl, 2, 3);
	pump(loop);
	assert_int_equal(b.granted + c.granted + e.granted, 0);

	/* a goes: b is granted, but not inside the unlock */
	tt_range_unlock(&rl, &a.r);
	assert_int_equal(b.granted, 0);
	pump(loop);
	assert_int_equal(b.granted, 1);
	assert_ptr_equal(b.granted_on, loop);
	assert_int_equal(c.granted + e.granted, 0);
	counts(&rl, 2, 2);

	/* b goes: c and e overlap each other; the older (c) first */
	tt_range_unlock(&rl, &b.r);
	pump(loop);
	assert_int_equal(c.granted, 1);
	assert_int_equal(e.granted, 0);
	tt_range_unlock(&rl, &c.r);
	pump(loop);
	assert_int_equal(e.granted, 1);
	tt_range_unlock(&rl, &e.r);
	tt_range_unlock(&rl, &d.r);
	counts(&rl, 0, 0);
	pump(loop);
	assert_int_equal(b.granted + c.granted + d.granted + e.granted, 3); /* d never waited */
	tt_loop_destroy(loop);
}

/* A waiter of another loop thread is granted on its own loop. */
struct waiter_thread {
	struct tt_range_lock *rl;
	struct req q;
	struct tt_loop *loop;
	int queued;          /* atomic: the request waits in the lock */
	int stop;            /* atomic */
};

static void *waiter_main(void *arg)
{
	struct waiter_thread *w = arg;

	assert_int_equal(tt_loop_create(&w->loop, 1), 0);
	tt_loop_run_once(w->loop, 0);
	assert_false(tt_range_lock(w->rl, &w->q.r));
	__atomic_store_n(&w->queued, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&w->q.granted, __ATOMIC_ACQUIRE))
		tt_loop_run_once(w->loop, 10);
	tt_range_unlock(w->rl, &w->q.r);
	tt_loop_destroy(w->loop);
	return NULL;
}

static void test_cross_thread(void **state)
{
	struct tt_range_lock rl;
	struct tt_loop *loop;
	struct waiter_thread w;
	struct req a;
	pthread_t th;

	(void)state;
	memset(&rl, 0, sizeof(rl));
	memset(&w, 0, sizeof(w));
	assert_int_equal(tt_loop_create(&loop, 0), 0);
	tt_loop_run_once(loop, 0);
	req_init(&a, 0, 8);
	assert_true(tt_range_lock(&rl, &a.r));
	w.rl = &rl;
	req_init(&w.q, 7, 1);
	assert_int_equal(pthread_create(&th, NULL, waiter_main, &w), 0);
	while (!__atomic_load_n(&w.queued, __ATOMIC_ACQUIRE))
		sched_yield();
	tt_range_unlock(&rl, &a.r);
	pthread_join(th, NULL);
	assert_int_equal(w.q.granted, 1);
	assert_ptr_equal(w.q.granted_on, w.loop);
	counts(&rl, 0, 0);
	tt_loop_destroy(loop);
}

/*
 * Threads lock random overlapping ranges and mark the blocks they hold: no block is ever marked
 * by two holders, and every request is granted.
 */
#define STRESS_THREADS 4
#define STRESS_ROUNDS 2000
#define STRESS_BLOCKS 64

struct stress {
	struct tt_range_lock rl;
	int owner[STRESS_BLOCKS]; /* atomic: 0 or the holder's thread number */
	int errors;               /* atomic */
};

struct stress_thread {
	struct stress *s;
	int id;
	unsigned seed;
};

static void *stress_main(void *arg)
{
	struct stress_thread *t = arg;
	struct tt_loop *loop;
	struct req q;

	assert_int_equal(tt_loop_create(&loop, (unsigned)t->id), 0);
	tt_loop_run_once(loop, 0);
	for (int i = 0; i < STRESS_ROUNDS; i++) {
		uint64_t lba = rand_r(&t->seed) % STRESS_BLOCKS;
		uint64_t n = 1 + rand_r(&t->seed) % 8;

		if (lba + n > STRESS_BLOCKS)
			n = STRESS_BLOCKS - lba;
		req_init(&q, lba, n);
		if (tt_range_lock(&t->s->rl, &q.r))
			q.granted = 1;
		while (!q.granted)
			tt_loop_run_once(loop, 10);
		for (uint64_t b = lba; b < lba + n; b++) {
			int none = 0;

			if (!__atomic_compare_exchange_n(&t->s->owner[b], &none, t->id, false,
							 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
				__atomic_add_fetch(&t->s->errors, 1, __ATOMIC_RELAXED);
		}
		for (uint64_t b = lba; b < lba + n; b++)
			__atomic_store_n(&t->s->owner[b], 0, __ATOMIC_RELEASE);
		tt_range_unlock(&t->s->rl, &q.r);
	}
	pump(loop);
	tt_loop_destroy(loop);
	return NULL;
}

static void test_threads(void **state)
{
	struct stress *s = calloc(1, sizeof(*s));
	struct stress_thread t[STRESS_THREADS];
	pthread_t th[STRESS_THREADS];

	(void)state;
	assert_non_null(s);
	for (int i = 0; i < STRESS_THREADS; i++) {
		t[i] = (struct stress_thread){ .s = s, .id = i + 1, .seed = (unsigned)(i * 7919 + 1) };
		assert_int_equal(pthread_create(&th[i], NULL, stress_main, &t[i]), 0);
	}
	for (int i = 0; i < STRESS_THREADS; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(s->errors, 0);
	counts(&s->rl, 0, 0);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grant_order),
		cmocka_unit_test(test_cross_thread),
		cmocka_unit_test(test_threads),
	};

	return tt_run_group("range_lock_test", tests, NULL, NULL);
}
