/* SPDX-License-Identifier: BSD-3-Clause */
/* Event loop: timers (driven by the fake clock), deferred work, fd watches, cross-thread
 * messages, loop groups. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include "tt_test.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/loop.h"

static int fired[8];
static int order[8], norder;


struct tagged_timer {
	struct tt_timer t;
	int tag;
};

static void tagged_fn(struct tt_timer *t)
{
	struct tagged_timer *tt = tt_container_of(t, struct tagged_timer, t);

	fired[tt->tag]++;
	order[norder++] = tt->tag;
}

static void test_timers_fire_in_deadline_order(void **state)
{
	struct tt_loop *loop;
	struct tagged_timer a = { .tag = 1 }, b = { .tag = 2 }, c = { .tag = 3 };

	(void)state;
	memset(fired, 0, sizeof(fired));
	norder = 0;
	assert_int_equal(tt_loop_create(&loop, 0), 0);
	tt_clock_fake(1000 * TT_NS_PER_SEC);
	tt_timer_init(&a.t, loop, tagged_fn);
	tt_timer_init(&b.t, loop, tagged_fn);
	tt_timer_init(&c.t, loop, tagged_fn);
	tt_timer_arm_ms(&a.t, 300);
	tt_timer_arm_ms(&b.t, 100);
	tt_timer_arm_ms(&c.t, 200);
	assert_true(tt_timer_armed(&a.t));

	/* nothing is due yet */
	tt_loop_run_once(loop, 0);
	assert_int_equal(norder, 0);

	tt_clock_advance(150 * TT_NS_PER_MS);
	tt_loop_run_once(loop, 0);
	assert_int_equal(norder, 1);
	assert_int_equal(order[0], 2);

	/* re-arming moves a timer; cancelling removes it */
	tt_timer_arm_ms(&c.t, 500);
	tt_timer_cancel(&a.t);
	assert_false(tt_timer_armed(&a.t));
	tt_clock_advance(400 * TT_NS_PER_MS);
	tt_loop_run_once(loop, 0);
	assert_int_equal(norder, 1);
	tt_clock_advance(200 * TT_NS_PER_MS);
	tt_loop_run_once(loop, 0);
	assert_int_equal(norder, 2);
	assert_int_equal(order[1], 3);
	assert_int_equal(fired[1], 0);
	assert_int_equal(fired[3], 1);
	tt_clock_real();
	tt_loop_destroy(loop);
}

struct counted_work {
	struct tt_work w;
	int runs;
	struct counted_work *requeue;
};

static void work_fn(struct tt_work *w)
{
	struct counted_work *cw = tt_container_of(w, struct counted_work, w);

	cw->runs++;
	if (cw->requeue) {
		tt_work_queue(&cw->requeue->w);
		cw->requeue = NULL;
	}
}

static void test_work_runs_once_per_queue(void **state)
{
	struct tt_loop *loop;
	struct counted_work a = { 0 }, b = { 0 };

	(void)state;
	assert_int_equal(tt_loop_create(&loop, 0), 0);
	tt_work_init(&a.w, loop, work_fn);
	tt_work_init(&b.w, loop, work_fn);
	tt_work_queue(&a.w);
	tt_work_queue(&a.w); /* queued twice: runs once */
	a.requeue = &b;
	tt_loop_run_once(loop, 0);
	assert_int_equal(a.runs, 1);
	/* work queued by work runs in the next pass, not in the same one */
	assert_int_equal(b.runs, 0);
	tt_loop_run_once(loop, 0);
	assert_int_equal(b.runs, 1);
	/* cancelled work does not run */
	tt_work_queue(&a.w);
	tt_work_cancel(&a.w);
	tt_loop_run_once(loop, 0);
	assert_int_equal(a.runs, 1);
	tt_loop_destroy(loop);
}

struct pipe_watch {
	struct tt_watch w;
	int reads;
	char last;
};

static void pipe_ready(struct tt_watch *w, uint32_t events)
{
	struct pipe_watch *pw = tt_container_of(w, struct pipe_watch, w);

	assert_true(events & EPOLLIN);
	assert_int_equal(read(w->fd, &pw->last, 1), 1);
	pw->reads++;
}

static void test_watch_reports_readable_fd(void **state)
{
	struct tt_loop *loop;
	struct pipe_watch pw = { 0 };
	int fds[2];

	(void)state;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(tt_loop_create(&loop, 0), 0);
	assert_int_equal(tt_watch_add(loop, &pw.w, fds[0], EPOLLIN, pipe_ready), 0);
	tt_loop_run_once(loop, 0);
	assert_int_equal(pw.reads, 0);
	assert_int_equal(write(fds[1], "x", 1), 1);
	tt_loop_run_once(loop, 1000);
	assert_int_equal(pw.reads, 1);
	assert_int_equal(pw.last, 'x');
	tt_watch_del(&pw.w);
	assert_int_equal(write(fds[1], "y", 1), 1);
	tt_loop_run_once(loop, 0);
	assert_int_equal(pw.reads, 1); /* no longer watched */
	/* adding a bad fd fails with an errno */
	assert_int_equal(tt_watch_add(loop, &pw.w, -5, EPOLLIN, pipe_ready), -EBADF);
	tt_loop_destroy(loop);
	close(fds[0]);
	close(fds[1]);
}

static pthread_t msg_thread;
static int msg_runs;

static void msg_fn(void *arg)
{
	int *where = arg;

	/* runs on the loop's own thread */
	assert_true(pthread_equal(pthread_self(), msg_thread));
	(*where)++;
	msg_runs++;
	if (msg_runs == 100)
		tt_loop_stop(tt_loop_current());
}

static void *send_many(void *arg)
{
	static int counter;

	for (int i = 0; i < 100; i++)
		assert_int_equal(tt_loop_send(arg, msg_fn, &counter), 0);
	return NULL;
}

static void test_messages_from_other_threads(void **state)
{
	struct tt_loop *loop;
	pthread_t sender;

	(void)state;
	msg_runs = 0;
	assert_int_equal(tt_loop_create(&loop, 0), 0);
	msg_thread = pthread_self();
	assert_int_equal(pthread_create(&sender, NULL, send_many, loop), 0);
	assert_int_equal(tt_loop_run(loop), 0); /* returns when the 100th message stops it */
	pthread_join(sender, NULL);
	assert_int_equal(msg_runs, 100);
	tt_loop_destroy(loop);
}

static void test_loop_group(void **state)
{
	(void)state;
	assert_int_equal(tt_loops_start(3), 0);
	assert_int_equal(tt_loops_count(), 3);
	assert_true(tt_loop_is_current(tt_loops_get(0)));
	assert_int_equal(tt_loop_index(tt_loops_get(2)), 2);
	assert_null(tt_loops_get(3));
	/* round robin visits every loop */
	int seen[3] = { 0 };
	for (int i = 0; i < 6; i++)
		seen[tt_loop_index(tt_loops_next())]++;
	assert_int_equal(seen[0], 2);
	assert_int_equal(seen[1], 2);
	assert_int_equal(seen[2], 2);
	tt_loops_shutdown();
	assert_int_equal(tt_loops_count(), 0);
	assert_int_equal(tt_loops_start(0), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timers_fire_in_deadline_order),
		cmocka_unit_test(test_work_runs_once_per_queue),
		cmocka_unit_test(test_watch_reports_readable_fd),
		cmocka_unit_test(test_messages_from_other_threads),
		cmocka_unit_test(test_loop_group),
	};

	return tt_run_group("loop_test", tests, NULL, NULL);
}
