/* SPDX-License-Identifier: BSD-3-Clause */
/* Event loop: timers (driven by the fake clock), deferred work, fd watches, cross-thread
 * messages, loop groups, and loops embedded in the test's own poll() loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include "tt_test.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "base/bufpool.h"
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

/* ---- embedded in the application's poll() loop ---- */

/* poll() on the loop's fd as an application would; returns the number of ready fds. */
static int app_poll(struct tt_loop *loop, int timeout_ms)
{
	struct pollfd p = { .fd = tt_loop_fd(loop), .events = (short)tt_loop_events(loop) };
	int n = poll(&p, 1, timeout_ms);

	assert_true(n >= 0);
	if (n)
		assert_true(p.revents & POLLIN);
	return n;
}

struct seen_watch {
	struct tt_watch w;
	int reads;
	struct tt_loop *current; /* tt_loop_current() inside the callback */
};

static void seen_ready(struct tt_watch *w, uint32_t events)
{
	struct seen_watch *sw = tt_container_of(w, struct seen_watch, w);
	char c;

	assert_true(events & EPOLLIN);
	assert_int_equal(read(w->fd, &c, 1), 1);
	sw->reads++;
	sw->current = tt_loop_current();
}

static void test_embedded_watch_wakes_poll(void **state)
{
	struct tt_loop *loop;
	struct seen_watch sw = { 0 };
	int fds[2];

	(void)state;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(tt_loop_create(&loop, 7), 0);
	assert_true(tt_loop_fd(loop) >= 0);
	assert_int_equal(tt_loop_events(loop), POLLIN);
	assert_int_equal(tt_watch_add(loop, &sw.w, fds[0], EPOLLIN, seen_ready), 0);
	/* nothing to do: the fd is quiet and the application may sleep forever */
	assert_int_equal(tt_loop_timeout_ms(loop), -1);
	assert_int_equal(app_poll(loop, 0), 0);

	assert_int_equal(write(fds[1], "x", 1), 1);
	assert_int_equal(app_poll(loop, 1000), 1);
	assert_null(tt_loop_current());
	assert_int_equal(tt_loop_service(loop), 0);
	assert_int_equal(sw.reads, 1);
	assert_ptr_equal(sw.current, loop);
	assert_null(tt_loop_current()); /* restored on return */
	assert_int_equal(app_poll(loop, 0), 0);
	/* servicing with nothing ready neither blocks nor runs anything */
	assert_int_equal(tt_loop_service(loop), 0);
	assert_int_equal(sw.reads, 1);

	tt_watch_del(&sw.w);
	tt_loop_destroy(loop);
	close(fds[0]);
	close(fds[1]);
}

static int timer_fired;
static uint64_t timer_fired_at;

static void deadline_fn(struct tt_timer *t)
{
	(void)t;
	timer_fired++;
	timer_fired_at = tt_now_ns();
}

static void test_embedded_timer_timeout(void **state)
{
	const uint64_t start = 5000 * TT_NS_PER_SEC;
	struct tt_loop *loop;
	struct tt_timer t;

	(void)state;
	timer_fired = 0;
	assert_int_equal(tt_loop_create(&loop, 0), 0);
	tt_clock_fake(start);
	tt_timer_init(&t, loop, deadline_fn);
	tt_timer_arm_ms(&t, 100);
	/* a new earliest timer wakes a sleeping application so that it reads the timeout again */
	assert_int_equal(app_poll(loop, 0), 1);
	assert_int_equal(tt_loop_service(loop), 0);
	assert_int_equal(app_poll(loop, 0), 0);
	assert_int_equal(timer_fired, 0);

	/* the timeout shrinks toward the deadline, rounded up */
	assert_int_equal(tt_loop_timeout_ms(loop), 100);
	tt_clock_advance(30 * TT_NS_PER_MS);
	assert_int_equal(tt_loop_timeout_ms(loop), 70);
	tt_clock_advance(69 * TT_NS_PER_MS + 500 * 1000);
	assert_int_equal(tt_loop_timeout_ms(loop), 1); /* 0.5 ms left: never 0 before the deadline */
	assert_int_equal(tt_loop_service(loop), 0);
	assert_int_equal(timer_fired, 0);
	tt_clock_advance(499 * 1000);
	assert_int_equal(tt_loop_timeout_ms(loop), 1);
	assert_int_equal(tt_loop_service(loop), 0);
	assert_int_equal(timer_fired, 0);

	/* at the deadline: timeout 0, and the service runs it */
	tt_clock_advance(1000);
	assert_int_equal(tt_loop_timeout_ms(loop), 0);
	assert_int_equal(tt_loop_service(loop), 0);
	assert_int_equal(timer_fired, 1);
	assert_true(timer_fired_at >= start + 100 * TT_NS_PER_MS);
	assert_int_equal(tt_loop_timeout_ms(loop), -1);

	/* a timer armed further out than the earliest one does not wake the application */
	tt_timer_arm_ms(&t, 10);
	assert_int_equal(tt_loop_service(loop), 0);
	struct tt_timer later;
	tt_timer_init(&later, loop, deadline_fn);
	tt_timer_arm_ms(&later, 50);
	assert_int_equal(app_poll(loop, 0), 0);
	assert_int_equal(tt_loop_timeout_ms(loop), 10);
	tt_timer_cancel(&t);
	assert_int_equal(tt_loop_timeout_ms(loop), 50);
	tt_timer_cancel(&later);
	assert_int_equal(tt_loop_timeout_ms(loop), -1);
	tt_clock_real();
	tt_loop_destroy(loop);
}

static void test_embedded_work(void **state)
{
	struct tt_loop *loop;
	struct counted_work a = { 0 }, b = { 0 };

	(void)state;
	assert_int_equal(tt_loop_create(&loop, 0), 0);
	tt_work_init(&a.w, loop, work_fn);
	tt_work_init(&b.w, loop, work_fn);
	assert_int_equal(tt_loop_timeout_ms(loop), -1);
	tt_work_queue(&a.w);
	a.requeue = &b;
	/* queued work: no sleeping, and the fd says so too */
	assert_int_equal(tt_loop_timeout_ms(loop), 0);
	assert_int_equal(app_poll(loop, 0), 1);
	assert_int_equal(tt_loop_service(loop), 0);
	assert_int_equal(a.runs, 1);
	/* work queued by work runs in the next service; meanwhile the fd stays readable */
	assert_int_equal(b.runs, 0);
	assert_int_equal(tt_loop_timeout_ms(loop), 0);
	assert_int_equal(app_poll(loop, 0), 1);
	assert_int_equal(tt_loop_service(loop), 0);
	assert_int_equal(b.runs, 1);
	assert_int_equal(tt_loop_timeout_ms(loop), -1);
	assert_int_equal(app_poll(loop, 0), 0);
	tt_loop_destroy(loop);
}

static pthread_t service_thread;
static int embedded_msgs;
static struct tt_loop *embedded_msg_loop;

static void embedded_msg_fn(void *arg)
{
	(void)arg;
	/* runs on the thread that services the loop, with the loop current */
	assert_true(pthread_equal(pthread_self(), service_thread));
	assert_ptr_equal(tt_loop_current(), embedded_msg_loop);
	__atomic_add_fetch(&embedded_msgs, 1, __ATOMIC_RELEASE);
}

static void *send_later(void *arg)
{
	usleep(20 * 1000); /* the servicing thread is asleep in poll() by then */
	for (int i = 0; i < 10; i++)
		assert_int_equal(tt_loop_send(arg, embedded_msg_fn, NULL), 0);
	return NULL;
}

static void test_embedded_send_wakes_poll(void **state)
{
	struct tt_loop *loop;
	pthread_t sender;

	(void)state;
	embedded_msgs = 0;
	assert_int_equal(tt_loop_create(&loop, 0), 0);
	embedded_msg_loop = loop;
	service_thread = pthread_self();
	assert_int_equal(pthread_create(&sender, NULL, send_later, loop), 0);
	for (int i = 0; i < 100 && __atomic_load_n(&embedded_msgs, __ATOMIC_ACQUIRE) < 10; i++) {
		/* nothing is armed: only the messages can end this wait */
		assert_int_equal(tt_loop_timeout_ms(loop), -1);
		assert_int_equal(app_poll(loop, 5000), 1);
		assert_int_equal(tt_loop_service(loop), 0);
	}
	pthread_join(sender, NULL);
	assert_int_equal(embedded_msgs, 10);
	assert_null(tt_loop_current());
	assert_int_equal(app_poll(loop, 0), 0);
	tt_loop_destroy(loop);
}

struct nested_work {
	struct tt_work w;
	struct tt_loop *other;
	int rc_same, rc_other;
	struct tt_loop *current;
};

static void nested_fn(struct tt_work *w)
{
	struct nested_work *nw = tt_container_of(w, struct nested_work, w);

	nw->current = tt_loop_current();
	nw->rc_same = tt_loop_service(w->loop);
	nw->rc_other = tt_loop_service(nw->other);
	assert_ptr_equal(tt_loop_current(), w->loop); /* the refused calls changed nothing */
}

static void test_embedded_current_and_nesting(void **state)
{
	struct tt_loop *loop, *other;
	struct nested_work nw = { 0 };
	struct counted_work ow = { 0 };

	(void)state;
	assert_int_equal(tt_loop_create(&loop, 0), 0);
	assert_int_equal(tt_loop_create(&other, 1), 0);
	tt_work_init(&nw.w, loop, nested_fn);
	tt_work_init(&ow.w, other, work_fn);
	nw.other = other;
	tt_work_queue(&ow.w);

	/* a service from inside a callback, of the same loop or another, is refused */
	tt_work_queue(&nw.w);
	assert_int_equal(tt_loop_service(loop), 0);
	assert_ptr_equal(nw.current, loop);
	assert_int_equal(nw.rc_same, -EBUSY);
	assert_int_equal(nw.rc_other, -EBUSY);
	assert_int_equal(ow.runs, 0);
	assert_null(tt_loop_current());
	/* the same from a tt_loop_run_once callback */
	tt_work_queue(&nw.w);
	nw.rc_same = nw.rc_other = 0;
	assert_int_equal(tt_loop_run_once(loop, 0), 0);
	assert_int_equal(nw.rc_same, -EBUSY);
	assert_int_equal(nw.rc_other, -EBUSY);

	/* run_once leaves its loop current; a service in between restores it */
	assert_ptr_equal(tt_loop_current(), loop);
	assert_int_equal(tt_loop_service(other), 0);
	assert_int_equal(ow.runs, 1);
	assert_ptr_equal(tt_loop_current(), loop);

	/* destroying the current loop leaves no dangling current loop */
	tt_loop_destroy(loop);
	assert_null(tt_loop_current());
	tt_loop_destroy(other);
}

static int blocker_entered, blocker_release;

static void blocker_fn(struct tt_work *w)
{
	(void)w;
	__atomic_store_n(&blocker_entered, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&blocker_release, __ATOMIC_ACQUIRE))
		usleep(1000);
}

static void *service_once(void *arg)
{
	assert_int_equal(tt_loop_service(arg), 0);
	return NULL;
}

static void test_embedded_serviced_elsewhere_refused(void **state)
{
	struct tt_loop *loop;
	struct tt_work w;
	pthread_t th;

	(void)state;
	blocker_entered = blocker_release = 0;
	assert_int_equal(tt_loop_create(&loop, 0), 0);
	tt_work_init(&w, loop, blocker_fn);
	tt_work_queue(&w);
	assert_int_equal(pthread_create(&th, NULL, service_once, loop), 0);
	while (!__atomic_load_n(&blocker_entered, __ATOMIC_ACQUIRE))
		usleep(1000);
	/* another thread is inside tt_loop_service(loop) */
	assert_int_equal(tt_loop_service(loop), -EBUSY);
	__atomic_store_n(&blocker_release, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	assert_int_equal(tt_loop_service(loop), 0);
	tt_loop_destroy(loop);
}

static void test_embedded_two_loops_one_thread(void **state)
{
	struct tt_loop *l[2];
	struct seen_watch sw[2] = { 0 };
	int fds[2][2];

	(void)state;
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pipe(fds[i]), 0);
		assert_int_equal(tt_loop_create(&l[i], (unsigned)i), 0);
		assert_int_equal(tt_watch_add(l[i], &sw[i].w, fds[i][0], EPOLLIN, seen_ready), 0);
	}
	assert_int_not_equal(tt_loop_fd(l[0]), tt_loop_fd(l[1]));
	for (int round = 0; round < 3; round++) {
		struct pollfd p[2];
		int want = round < 2 ? round : -1; /* loop 0, then loop 1, then both */

		for (int i = 0; i < 2; i++)
			if (want < 0 || want == i)
				assert_int_equal(write(fds[i][1], "x", 1), 1);
		for (int i = 0; i < 2; i++)
			p[i] = (struct pollfd){ .fd = tt_loop_fd(l[i]), .events = (short)tt_loop_events(l[i]) };
		assert_int_equal(poll(p, 2, 1000), want < 0 ? 2 : 1);
		for (int i = 0; i < 2; i++) {
			int before = sw[i].reads;

			assert_int_equal(!!(p[i].revents & POLLIN), want < 0 || want == i);
			if (p[i].revents & POLLIN)
				assert_int_equal(tt_loop_service(l[i]), 0);
			assert_int_equal(sw[i].reads - before, want < 0 || want == i);
		}
		/* each callback saw its own loop; none is current between services */
		for (int i = 0; i < 2; i++)
			if (sw[i].reads)
				assert_ptr_equal(sw[i].current, l[i]);
		assert_null(tt_loop_current());
	}
	assert_int_equal(sw[0].reads, 2);
	assert_int_equal(sw[1].reads, 2);
	for (int i = 0; i < 2; i++) {
		tt_watch_del(&sw[i].w);
		tt_loop_destroy(l[i]);
		close(fds[i][0]);
		close(fds[i][1]);
	}
}

static int cache_releases;

static void count_release(void) { __atomic_add_fetch(&cache_releases, 1, __ATOMIC_RELAXED); }

static void *service_then_end(void *arg)
{
	struct tt_loop *loop = arg;
	size_t cap;

	assert_int_equal(tt_loop_service(loop), 0);
	tt_buf_free(tt_buf_alloc(8192, &cap), cap);
	return NULL; /* ends without destroying the loop */
}

static void test_embedded_thread_caches_released(void **state)
{
	struct tt_loop *loop;
	pthread_t th;
	size_t cap;
	void *b;

	(void)state;
	cache_releases = 0;
	assert_int_equal(tt_loops_on_thread_exit(count_release), 0);
	assert_int_equal(tt_loop_create(&loop, 0), 0);
	assert_int_equal(tt_loop_service(loop), 0);
	b = tt_buf_alloc(8192, &cap);
	assert_non_null(b);
	tt_buf_free(b, cap);
	assert_int_equal(tt_buf_pool_cached(), 8192);
	/* destroying the standalone loop on its thread releases the thread's caches */
	tt_loop_destroy(loop);
	assert_int_equal(tt_buf_pool_cached(), 0);
	assert_int_equal(cache_releases, 1);

	/* a thread that serviced a loop releases its caches when it ends */
	assert_int_equal(tt_loop_create(&loop, 0), 0);
	assert_int_equal(pthread_create(&th, NULL, service_then_end, loop), 0);
	pthread_join(th, NULL);
	assert_int_equal(__atomic_load_n(&cache_releases, __ATOMIC_RELAXED), 2);
	/* the loop can still be serviced from another thread afterwards */
	assert_int_equal(tt_loop_service(loop), 0);
	tt_loop_destroy(loop);
	assert_int_equal(cache_releases, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timers_fire_in_deadline_order),
		cmocka_unit_test(test_work_runs_once_per_queue),
		cmocka_unit_test(test_watch_reports_readable_fd),
		cmocka_unit_test(test_messages_from_other_threads),
		cmocka_unit_test(test_loop_group),
		cmocka_unit_test(test_embedded_watch_wakes_poll),
		cmocka_unit_test(test_embedded_timer_timeout),
		cmocka_unit_test(test_embedded_work),
		cmocka_unit_test(test_embedded_send_wakes_poll),
		cmocka_unit_test(test_embedded_current_and_nesting),
		cmocka_unit_test(test_embedded_serviced_elsewhere_refused),
		cmocka_unit_test(test_embedded_two_loops_one_thread),
		cmocka_unit_test(test_embedded_thread_caches_released),
	};

	return tt_run_group("loop_test", tests, NULL, NULL);
}
