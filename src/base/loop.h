/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Event loops: one per thread, epoll for file descriptors, monotonic timers, deferred work and
 * messages from other threads. An object (a connection, an I/O ring) is owned by one loop; other
 * threads reach it only by tt_loop_send().
 *
 * A loop runs in one of two ways:
 *  - on its own thread: tt_loop_run() (tetherd's loop group, tt_loops_start());
 *  - embedded in an application's loop (poll, epoll, select, glib, QEMU's AioContext): the
 *    loop owns no thread. The application watches tt_loop_fd() for tt_loop_events(), sleeps at
 *    most tt_loop_timeout_ms(), and calls tt_loop_service() when the fd is readable or the
 *    timeout has passed. See "Embedding" below.
 */
#ifndef TT_BASE_LOOP_H
#define TT_BASE_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

#include "base/list.h"

struct tt_loop;

/* --- file descriptors --------------------------------------------------------------------- */
struct tt_watch;
typedef void (*tt_watch_fn)(struct tt_watch *w, uint32_t events);

struct tt_watch {
	int fd;
	uint32_t events; /* EPOLLIN | EPOLLOUT ... */
	tt_watch_fn fn;
	struct tt_loop *loop;
};

int tt_watch_add(struct tt_loop *loop, struct tt_watch *w, int fd, uint32_t events, tt_watch_fn fn);
int tt_watch_mod(struct tt_watch *w, uint32_t events);
/* Stops watching; the fd is not closed. Safe to call on a watch that was never added (fd < 0). */
void tt_watch_del(struct tt_watch *w);

/* --- timers -------------------------------------------------------------------------------- */
struct tt_timer;
typedef void (*tt_timer_fn)(struct tt_timer *t);

struct tt_timer {
	struct tt_list node;
	uint64_t deadline_ns;
	tt_timer_fn fn;
	struct tt_loop *loop;
};

void tt_timer_init(struct tt_timer *t, struct tt_loop *loop, tt_timer_fn fn);
/* (Re)arms the timer @ms milliseconds from now. */
void tt_timer_arm_ms(struct tt_timer *t, uint64_t ms);
void tt_timer_arm_ns(struct tt_timer *t, uint64_t ns);
void tt_timer_cancel(struct tt_timer *t);
static inline bool tt_timer_armed(const struct tt_timer *t) { return tt_list_linked(&t->node); }

/* --- deferred work (runs on the same loop after the current callback returns) --------------- */
struct tt_work;
typedef void (*tt_work_fn)(struct tt_work *w);

struct tt_work {
	struct tt_list node;
	tt_work_fn fn;
	struct tt_loop *loop;
};

void tt_work_init(struct tt_work *w, struct tt_loop *loop, tt_work_fn fn);
/* Queues the work once; queueing an already queued work does nothing. */
void tt_work_queue(struct tt_work *w);
void tt_work_cancel(struct tt_work *w);

/* --- loops ---------------------------------------------------------------------------------- */
/* A loop of its own, not part of the tetherd loop group (tt_loops_start() is not needed); @index
 * is only reported by tt_loop_index(). Returns 0 or -errno. */
int tt_loop_create(struct tt_loop **out, unsigned index);
/* Runs the loop's on-destroy work (tt_loop_on_destroy), then frees it; messages still queued run
 * first. Destroying a standalone loop (one not made by tt_loops_start) also releases the calling
 * thread's caches (tt_loops_run_thread_exit): destroy it on the thread that serviced it. */
void tt_loop_destroy(struct tt_loop *loop);
/* Runs until tt_loop_stop(); returns 0 or -errno. Makes @loop the thread's current loop. */
int tt_loop_run(struct tt_loop *loop);
/* One pass: waits at most @timeout_ms (-1 = until something happens), runs what is ready (the
 * same pass as tt_loop_service). Makes @loop the thread's current loop, and it stays current
 * after the call (unit tests rely on it). */
int tt_loop_run_once(struct tt_loop *loop, int timeout_ms);
/* Thread-safe: makes tt_loop_run return. */
void tt_loop_stop(struct tt_loop *loop);
/* Thread-safe: runs fn(arg) on @loop's thread. Returns 0 or -ENOMEM. */
int tt_loop_send(struct tt_loop *loop, void (*fn)(void *arg), void *arg);
/* The loop of the calling thread: the loop being serviced (tt_loop_service), or the one last run
 * on this thread (tt_loop_run, tt_loop_run_once), or NULL. */
struct tt_loop *tt_loop_current(void);
unsigned tt_loop_index(const struct tt_loop *loop);
bool tt_loop_is_current(const struct tt_loop *loop);

/* Per-loop storage for subsystems (the file backend's io_uring, buffer pools). */
enum tt_loop_slot {
	TT_LOOP_SLOT_URING,
	TT_LOOP_SLOT_BUFPOOL,
	TT_LOOP_SLOT_MAX,
};
void **tt_loop_slot(struct tt_loop *loop, enum tt_loop_slot slot);
/* Runs @w when the loop is destroyed (to release per-loop storage). */
void tt_loop_on_destroy(struct tt_loop *loop, struct tt_work *w);

/* --- embedding: driving a loop from an application's own event loop ----------------------------
 *
 *	struct pollfd p = { .fd = tt_loop_fd(loop), .events = tt_loop_events(loop) };
 *	for (;;) {
 *		poll(&p, 1, tt_loop_timeout_ms(loop));   (with the application's own fds)
 *		tt_loop_service(loop);
 *	}
 *
 * One thread services a loop (objects of the loop are used from that thread only; other threads
 * use tt_loop_send()). One thread may service several loops. Timers do not make the fd readable:
 * the application must sleep no longer than tt_loop_timeout_ms(), read again after each service
 * and after any call that may arm a timer (arming the loop's earliest timer outside a service
 * also makes the fd readable, so a sleeping application wakes up to read the new timeout).
 * Per-thread caches (data buffers, PDUs, tasks) fill on the servicing thread; they are released
 * when a standalone loop is destroyed on that thread, when the thread ends, or by
 * tt_loops_run_thread_exit(). */

/* A file descriptor (the loop's epoll fd) that is readable whenever the loop has something to do:
 * a watched fd is ready, a message was sent (tt_loop_send, tt_loop_stop), or work is queued.
 * Owned by the loop: do not read or close it. */
int tt_loop_fd(const struct tt_loop *loop);
/* The poll(2) events to wait for on tt_loop_fd(): POLLIN (equal to EPOLLIN). */
uint32_t tt_loop_events(const struct tt_loop *loop);
/* How long the application may sleep before tt_loop_service(): 0 when work is queued or a timer
 * is due, else the milliseconds to the next timer rounded up (a timer is never serviced early),
 * or -1 when no timer is armed. Uses the fake clock in unit tests. */
int tt_loop_timeout_ms(const struct tt_loop *loop);
/* Runs, without blocking, what is ready: watched fds, messages, expired timers, then the work
 * queued so far (work queued by that work runs in the next service, and leaves the fd readable).
 * @loop is tt_loop_current() while it runs; the previous current loop is restored on return.
 * Returns 0, -EBUSY when called from inside a loop's callback on this thread (nested) or while
 * another thread services @loop, or another -errno from epoll_wait. */
int tt_loop_service(struct tt_loop *loop);

/* --- a group of loops, one per thread: loop 0 runs on the caller's thread --------------------- */
int tt_loops_start(unsigned count);
unsigned tt_loops_count(void);
struct tt_loop *tt_loops_get(unsigned index);
/* Round-robin choice for new connections. */
struct tt_loop *tt_loops_next(void);
/* Registers @fn to free a per-thread cache. It runs on every loop thread just before it ends, on
 * loop 0's thread in tt_loops_shutdown, on a thread that destroys a standalone loop, and when a
 * thread that serviced a loop (tt_loop_service) ends. Thread-safe; registering twice does
 * nothing. At most 8. Returns 0 or -ENOSPC. */
int tt_loops_on_thread_exit(void (*fn)(void));
/* Releases the calling thread's caches: the buffer pool (base/bufpool.h) and the registered
 * thread-exit functions. The caches fill again on the next use. */
void tt_loops_run_thread_exit(void);
/* Stops every loop, joins the threads (not loop 0's), destroys them. Call from loop 0's thread
 * after tt_loop_run(tt_loops_get(0)) returned. */
void tt_loops_shutdown(void);

#endif
