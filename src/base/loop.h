/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Event loops: one per thread, epoll for file descriptors, monotonic timers, deferred work and
 * messages from other threads. An object (a connection, an I/O ring) is owned by one loop; other
 * threads reach it only by tt_loop_send().
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
int tt_loop_create(struct tt_loop **out, unsigned index);
void tt_loop_destroy(struct tt_loop *loop);
/* Runs until tt_loop_stop(); returns 0 or -errno. */
int tt_loop_run(struct tt_loop *loop);
/* One pass: waits at most @timeout_ms (-1 = until something happens), runs what is ready. */
int tt_loop_run_once(struct tt_loop *loop, int timeout_ms);
/* Thread-safe: makes tt_loop_run return. */
void tt_loop_stop(struct tt_loop *loop);
/* Thread-safe: runs fn(arg) on @loop's thread. Returns 0 or -ENOMEM. */
int tt_loop_send(struct tt_loop *loop, void (*fn)(void *arg), void *arg);
/* The loop of the calling thread, or NULL outside loop threads. */
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

/* --- a group of loops, one per thread: loop 0 runs on the caller's thread --------------------- */
int tt_loops_start(unsigned count);
unsigned tt_loops_count(void);
struct tt_loop *tt_loops_get(unsigned index);
/* Round-robin choice for new connections. */
struct tt_loop *tt_loops_next(void);
/* Registers @fn to run on every loop thread just before it ends (and on loop 0's thread in
 * tt_loops_shutdown): per-thread caches free themselves there. At most 8. */
int tt_loops_on_thread_exit(void (*fn)(void));
/* Runs the registered thread-exit functions on the calling thread. */
void tt_loops_run_thread_exit(void);
/* Stops every loop, joins the threads (not loop 0's), destroys them. Call from loop 0's thread
 * after tt_loop_run(tt_loops_get(0)) returned. */
void tt_loops_shutdown(void);

#endif
