/* SPDX-License-Identifier: BSD-3-Clause */
#include "base/loop.h"
#include "base/bufpool.h"
#include "base/clock.h"
#include "base/log.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define LOOP_MAX_EVENTS 64
#define LOOP_MAX_THREADS 256

struct tt_msg {
	struct tt_list node;
	void (*fn)(void *arg);
	void *arg;
};

struct tt_loop {
	unsigned index;
	int epfd; /* also tt_loop_fd(): readable when a watched fd, the eventfd included, is */
	int efd;  /* eventfd: wakes the loop for messages, stop, and work queued outside a pass */
	struct tt_watch efd_watch;
	struct tt_list timers; /* sorted by deadline */
	struct tt_list work;
	struct tt_list on_destroy;
	pthread_mutex_t msg_lock;
	struct tt_list msgs;
	int stop;     /* atomic */
	int serviced; /* atomic: a tt_loop_service() is running */
	unsigned passes; /* passes running now (owner thread): wakes are needed only outside them */
	bool kicked;     /* owner thread: efd written for local work since efd_ready last ran */
	bool grouped;    /* made by tt_loops_start */
	pthread_t thread;
	bool has_thread;
	void *slots[TT_LOOP_SLOT_MAX];
};

static __thread struct tt_loop *current_loop;
static __thread unsigned thread_passes; /* passes of any loop running on this thread */

static void loop_kick(struct tt_loop *loop);

/* ---- watches ---- */

int tt_watch_add(struct tt_loop *loop, struct tt_watch *w, int fd, uint32_t events, tt_watch_fn fn)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	w->fd = fd;
	w->events = events;
	w->fn = fn;
	w->loop = loop;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		w->fd = -1;
		return -errno;
	}
	return 0;
}

int tt_watch_mod(struct tt_watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	if (w->events == events)
		return 0;
	if (epoll_ctl(w->loop->epfd, EPOLL_CTL_MOD, w->fd, &ev) < 0)
		return -errno;
	w->events = events;
	return 0;
}

void tt_watch_del(struct tt_watch *w)
{
	if (w->fd < 0 || !w->loop)
		return;
	epoll_ctl(w->loop->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	w->fd = -1;
}

/* ---- timers ---- */

void tt_timer_init(struct tt_timer *t, struct tt_loop *loop, tt_timer_fn fn)
{
	tt_list_init(&t->node);
	t->deadline_ns = 0;
	t->fn = fn;
	t->loop = loop;
}

void tt_timer_arm_ns(struct tt_timer *t, uint64_t ns)
{
	struct tt_list *pos;

	if (tt_list_linked(&t->node))
		tt_list_del(&t->node);
	t->deadline_ns = tt_now_ns() + ns;
	/* most timers are re-armed to the latest deadline: search from the tail */
	for (pos = t->loop->timers.prev; pos != &t->loop->timers; pos = pos->prev) {
		struct tt_timer *o = tt_list_entry(pos, struct tt_timer, node);
		if (o->deadline_ns <= t->deadline_ns)
			break;
	}
	tt_list__add(&t->node, pos, pos->next);
	/* a new earliest deadline outside a pass: wake an application sleeping on tt_loop_fd() with
	 * a longer timeout, so that it reads tt_loop_timeout_ms() again */
	if (pos == &t->loop->timers && !t->loop->passes)
		loop_kick(t->loop);
}

void tt_timer_arm_ms(struct tt_timer *t, uint64_t ms) { tt_timer_arm_ns(t, ms * TT_NS_PER_MS); }

void tt_timer_cancel(struct tt_timer *t)
{
	if (tt_list_linked(&t->node))
		tt_list_del(&t->node);
}

/* ---- work ---- */

void tt_work_init(struct tt_work *w, struct tt_loop *loop, tt_work_fn fn)
{
	tt_list_init(&w->node);
	w->fn = fn;
	w->loop = loop;
}

void tt_work_queue(struct tt_work *w)
{
	if (tt_list_linked(&w->node))
		return;
	tt_list_add_tail(&w->loop->work, &w->node);
	/* inside a pass the loop runs it before sleeping; outside, tt_loop_fd() must turn readable */
	if (!w->loop->passes)
		loop_kick(w->loop);
}

void tt_work_cancel(struct tt_work *w)
{
	if (tt_list_linked(&w->node))
		tt_list_del(&w->node);
}

/* ---- loop ---- */

static void loop_wake(struct tt_loop *loop)
{
	uint64_t one = 1;

	if (write(loop->efd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is already non-zero, the loop will wake */
	}
}

/* Owner thread: one eventfd write until the loop has read it. */
static void loop_kick(struct tt_loop *loop)
{
	if (loop->kicked)
		return;
	loop->kicked = true;
	loop_wake(loop);
}

static void loop_drain_msgs(struct tt_loop *loop)
{
	struct tt_list msgs;
	struct tt_list *n;

	tt_list_init(&msgs);
	pthread_mutex_lock(&loop->msg_lock);
	tt_list_splice_tail(&msgs, &loop->msgs);
	pthread_mutex_unlock(&loop->msg_lock);
	while ((n = tt_list_pop(&msgs))) {
		struct tt_msg *m = tt_list_entry(n, struct tt_msg, node);
		m->fn(m->arg);
		free(m);
	}
}

static void efd_ready(struct tt_watch *w, uint32_t events)
{
	struct tt_loop *loop = tt_container_of(w, struct tt_loop, efd_watch);
	uint64_t v;

	(void)events;
	loop->kicked = false;
	if (read(loop->efd, &v, sizeof(v)) < 0) {
		/* nothing pending */
	}
	loop_drain_msgs(loop);
}

int tt_loop_create(struct tt_loop **out, unsigned index)
{
	struct tt_loop *loop = calloc(1, sizeof(*loop));
	int rc;

	if (!loop)
		return -ENOMEM;
	loop->index = index;
	tt_list_init(&loop->timers);
	tt_list_init(&loop->work);
	tt_list_init(&loop->msgs);
	tt_list_init(&loop->on_destroy);
	pthread_mutex_init(&loop->msg_lock, NULL);
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		rc = -errno;
		free(loop);
		return rc;
	}
	loop->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (loop->efd < 0) {
		rc = -errno;
		close(loop->epfd);
		free(loop);
		return rc;
	}
	rc = tt_watch_add(loop, &loop->efd_watch, loop->efd, EPOLLIN, efd_ready);
	if (rc < 0) {
		close(loop->efd);
		close(loop->epfd);
		free(loop);
		return rc;
	}
	*out = loop;
	return 0;
}

void tt_loop_destroy(struct tt_loop *loop)
{
	struct tt_list *n;

	if (!loop)
		return;
	while ((n = tt_list_pop(&loop->on_destroy))) {
		struct tt_work *w = tt_list_entry(n, struct tt_work, node);
		w->fn(w);
	}
	loop_drain_msgs(loop);
	if (current_loop == loop)
		current_loop = NULL;
	close(loop->efd);
	close(loop->epfd);
	pthread_mutex_destroy(&loop->msg_lock);
	/* a standalone loop is destroyed on the thread that serviced it: release that thread's caches
	 * (a group loop's threads release theirs in loop_thread and tt_loops_shutdown) */
	if (!loop->grouped)
		tt_loops_run_thread_exit();
	free(loop);
}

void tt_loop_on_destroy(struct tt_loop *loop, struct tt_work *w)
{
	w->loop = loop;
	tt_list_add_tail(&loop->on_destroy, &w->node);
}

/* -1 when nothing is armed, 0 when work is queued or a timer is due, else the milliseconds to the
 * earliest timer, rounded up. */
static int loop_timeout_ms(const struct tt_loop *loop)
{
	struct tt_timer *t;
	uint64_t now, ms;

	if (!tt_list_empty(&loop->work))
		return 0;
	t = tt_list_first(&loop->timers, struct tt_timer, node);
	if (!t)
		return -1;
	now = tt_now_ns();
	if (t->deadline_ns <= now)
		return 0;
	ms = (t->deadline_ns - now + TT_NS_PER_MS - 1) / TT_NS_PER_MS;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* tt_loop_run_once's wait: the caller's bound, shortened to the next timer (at most a minute). */
static int next_timeout_ms(const struct tt_loop *loop, int timeout_ms)
{
	int ms = loop_timeout_ms(loop);

	if (ms < 0)
		return timeout_ms;
	if (timeout_ms >= 0 && ms > timeout_ms)
		return timeout_ms;
	return ms > 60000 ? 60000 : ms;
}

static void run_timers(struct tt_loop *loop)
{
	uint64_t now = tt_now_ns();
	struct tt_timer *t;

	while ((t = tt_list_first(&loop->timers, struct tt_timer, node)) && t->deadline_ns <= now) {
		tt_list_del(&t->node);
		t->fn(t);
	}
}

static void run_work(struct tt_loop *loop)
{
	struct tt_list batch;
	struct tt_list *n;

	/* work queued by this batch runs in the next pass, so I/O is never starved */
	tt_list_init(&batch);
	tt_list_splice_tail(&batch, &loop->work);
	while ((n = tt_list_pop(&batch))) {
		struct tt_work *w = tt_list_entry(n, struct tt_work, node);
		w->fn(w);
	}
}

/* The one pass every way of running a loop goes through: waits at most @timeout_ms for fds, runs
 * the ready ones (messages among them), the expired timers, then the work queued so far. */
static int loop_pass(struct tt_loop *loop, int timeout_ms)
{
	struct epoll_event evs[LOOP_MAX_EVENTS];
	int n, rc = 0;

	loop->passes++;
	thread_passes++;
	n = epoll_wait(loop->epfd, evs, LOOP_MAX_EVENTS, timeout_ms);
	if (n < 0 && errno != EINTR) {
		rc = -errno;
		goto out;
	}
	for (int i = 0; i < n; i++) {
		struct tt_watch *w = evs[i].data.ptr;
		w->fn(w, evs[i].events);
	}
	run_timers(loop);
	run_work(loop);
out:
	thread_passes--;
	loop->passes--;
	return rc;
}

int tt_loop_run_once(struct tt_loop *loop, int timeout_ms)
{
	current_loop = loop;
	return loop_pass(loop, next_timeout_ms(loop, timeout_ms));
}

int tt_loop_run(struct tt_loop *loop)
{
	int rc = 0;

	current_loop = loop;
	while (!__atomic_load_n(&loop->stop, __ATOMIC_ACQUIRE)) {
		rc = tt_loop_run_once(loop, -1);
		if (rc < 0)
			break;
	}
	__atomic_store_n(&loop->stop, 0, __ATOMIC_RELEASE);
	return rc;
}

/* ---- embedding ---- */

/* A thread that services loops releases its caches when it ends (a pthread key's destructor:
 * __thread storage is still there when it runs). */
static pthread_key_t caches_key;
static pthread_once_t caches_once = PTHREAD_ONCE_INIT;
static bool caches_key_ok;
static __thread bool caches_watched;

static void caches_thread_end(void *arg)
{
	(void)arg;
	tt_loops_run_thread_exit();
}

static void caches_key_create(void) { caches_key_ok = pthread_key_create(&caches_key, caches_thread_end) == 0; }

static void caches_watch_thread(void)
{
	if (caches_watched)
		return;
	caches_watched = true;
	pthread_once(&caches_once, caches_key_create);
	if (caches_key_ok)
		pthread_setspecific(caches_key, &caches_watched);
}

int tt_loop_fd(const struct tt_loop *loop) { return loop->epfd; }
uint32_t tt_loop_events(const struct tt_loop *loop)
{
	(void)loop;
	return POLLIN;
}
int tt_loop_timeout_ms(const struct tt_loop *loop) { return loop_timeout_ms(loop); }

int tt_loop_service(struct tt_loop *loop)
{
	struct tt_loop *prev = current_loop;
	int rc;

	if (thread_passes)
		return -EBUSY; /* from inside a loop's callback */
	if (__atomic_exchange_n(&loop->serviced, 1, __ATOMIC_ACQUIRE))
		return -EBUSY; /* another thread services it */
	caches_watch_thread();
	current_loop = loop;
	rc = loop_pass(loop, 0);
	/* work queued by the last batch runs in the next service: keep the fd readable */
	if (!tt_list_empty(&loop->work))
		loop_kick(loop);
	current_loop = prev;
	__atomic_store_n(&loop->serviced, 0, __ATOMIC_RELEASE);
	return rc;
}

void tt_loop_stop(struct tt_loop *loop)
{
	__atomic_store_n(&loop->stop, 1, __ATOMIC_RELEASE);
	loop_wake(loop);
}

int tt_loop_send(struct tt_loop *loop, void (*fn)(void *arg), void *arg)
{
	struct tt_msg *m = malloc(sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->fn = fn;
	m->arg = arg;
	pthread_mutex_lock(&loop->msg_lock);
	tt_list_add_tail(&loop->msgs, &m->node);
	pthread_mutex_unlock(&loop->msg_lock);
	loop_wake(loop);
	return 0;
}

struct tt_loop *tt_loop_current(void) { return current_loop; }
unsigned tt_loop_index(const struct tt_loop *loop) { return loop->index; }
bool tt_loop_is_current(const struct tt_loop *loop) { return current_loop == loop; }
void **tt_loop_slot(struct tt_loop *loop, enum tt_loop_slot slot) { return &loop->slots[slot]; }

/* ---- groups ---- */

static struct tt_loop *loops[LOOP_MAX_THREADS];
static unsigned nloops;
static unsigned rr_next;

static void (*thread_exit_fns[8])(void);
static unsigned nthread_exit_fns; /* written under thread_exit_lock, read without it */
static pthread_mutex_t thread_exit_lock = PTHREAD_MUTEX_INITIALIZER;

int tt_loops_on_thread_exit(void (*fn)(void))
{
	int rc = 0;

	pthread_mutex_lock(&thread_exit_lock);
	for (unsigned i = 0; i < nthread_exit_fns; i++)
		if (thread_exit_fns[i] == fn)
			goto out;
	if (nthread_exit_fns == 8) {
		rc = -ENOSPC;
		goto out;
	}
	thread_exit_fns[nthread_exit_fns] = fn;
	__atomic_store_n(&nthread_exit_fns, nthread_exit_fns + 1, __ATOMIC_RELEASE);
out:
	pthread_mutex_unlock(&thread_exit_lock);
	return rc;
}

void tt_loops_run_thread_exit(void)
{
	unsigned n = __atomic_load_n(&nthread_exit_fns, __ATOMIC_ACQUIRE);

	tt_buf_pool_drain();
	for (unsigned i = 0; i < n; i++)
		thread_exit_fns[i]();
}

static void *loop_thread(void *arg)
{
	struct tt_loop *loop = arg;
	int rc = tt_loop_run(loop);

	if (rc < 0)
		tt_err("loop", "loop %u stopped: %s", loop->index, strerror(-rc));
	tt_loops_run_thread_exit();
	return NULL;
}

int tt_loops_start(unsigned count)
{
	int rc;

	if (count == 0 || count > LOOP_MAX_THREADS)
		return -EINVAL;
	for (unsigned i = 0; i < count; i++) {
		rc = tt_loop_create(&loops[i], i);
		if (rc < 0)
			goto fail;
		loops[i]->grouped = true;
		nloops = i + 1;
	}
	current_loop = loops[0];
	for (unsigned i = 1; i < count; i++) {
		rc = -pthread_create(&loops[i]->thread, NULL, loop_thread, loops[i]);
		if (rc < 0)
			goto fail;
		loops[i]->has_thread = true;
	}
	return 0;
fail:
	tt_loops_shutdown();
	return rc;
}

unsigned tt_loops_count(void) { return nloops; }
struct tt_loop *tt_loops_get(unsigned index) { return index < nloops ? loops[index] : NULL; }

struct tt_loop *tt_loops_next(void)
{
	unsigned i = __atomic_fetch_add(&rr_next, 1, __ATOMIC_RELAXED);

	return loops[i % nloops];
}

void tt_loops_shutdown(void)
{
	for (unsigned i = 1; i < nloops; i++)
		if (loops[i]->has_thread)
			tt_loop_stop(loops[i]);
	for (unsigned i = 1; i < nloops; i++)
		if (loops[i]->has_thread)
			pthread_join(loops[i]->thread, NULL);
	tt_loops_run_thread_exit();
	for (unsigned i = 0; i < nloops; i++) {
		tt_loop_destroy(loops[i]);
		loops[i] = NULL;
	}
	nloops = 0;
	current_loop = NULL;
}
