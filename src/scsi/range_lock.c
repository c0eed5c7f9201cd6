/* SPDX-License-Identifier: BSD-3-Clause */
/* LBA range locks: see range_lock.h. */
#include "scsi/range_lock.h"
#include "base/log.h"

#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <unistd.h>

static void spin_lock(int *spin)
{
	while (__atomic_exchange_n(spin, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(spin, __ATOMIC_RELAXED))
			sched_yield();
}

static void spin_unlock(int *spin)
{
	__atomic_store_n(spin, 0, __ATOMIC_RELEASE);
}

static bool overlap(const struct tt_range *a, const struct tt_range *b)
{
	return a->lba < b->lba + b->count && b->lba < a->lba + a->count;
}

/* Some range of @list, up to (not including) @stop, overlaps @r. */
static bool overlaps_any(const struct tt_range *list, const struct tt_range *stop,
			 const struct tt_range *r)
{
	for (; list && list != stop; list = list->next)
		if (overlap(list, r))
			return true;
	return false;
}

static void run_granted(struct tt_work *w)
{
	struct tt_range *r = tt_container_of(w, struct tt_range, work);

	r->granted(r);
}

static void granted_msg(void *arg)
{
	struct tt_range *r = arg;

	r->granted(r);
}

/* Runs r->granted on its loop, later. */
static void deliver(struct tt_range *r)
{
	if (tt_loop_is_current(r->loop)) {
		tt_work_queue(&r->work);
		return;
	}
	while (tt_loop_send(r->loop, granted_msg, r) < 0) {
		tt_log_ratelimited(TT_LOG_WARN, "scsi", "out of memory granting a range; retrying");
		usleep(1000);
	}
}

void tt_range_init(struct tt_range *r, uint64_t lba, uint64_t count, tt_range_granted_fn granted)
{
	r->lba = lba;
	r->count = count;
	r->granted = granted;
	r->loop = NULL;
	r->next = NULL;
	r->batch = NULL;
}

bool tt_range_lock(struct tt_range_lock *rl, struct tt_range *r)
{
	struct tt_range **tail;
	bool now;

	r->loop = tt_loop_current();
	tt_work_init(&r->work, r->loop, run_granted);
	r->next = NULL;
	spin_lock(&rl->spin);
	now = !overlaps_any(rl->held, NULL, r) && !overlaps_any(rl->waiting, NULL, r);
	if (now) {
		r->next = rl->held;
		rl->held = r;
	} else {
		for (tail = &rl->waiting; *tail; tail = &(*tail)->next)
			;
		*tail = r;
	}
	spin_unlock(&rl->spin);
	return now;
}

void tt_range_unlock(struct tt_range_lock *rl, struct tt_range *r)
{
	struct tt_range **pp, *granted = NULL;

	spin_lock(&rl->spin);
	for (pp = &rl->held; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	}
	r->next = NULL;
	/* grant every waiter that overlaps neither a held range nor an older waiter */
	pp = &rl->waiting;
	while (*pp) {
		struct tt_range *w = *pp;

		if (overlaps_any(rl->held, NULL, w) || overlaps_any(rl->waiting, w, w)) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		w->next = rl->held;
		rl->held = w;
		w->batch = granted;
		granted = w;
	}
	spin_unlock(&rl->spin);
	while (granted) {
		struct tt_range *w = granted;

		granted = w->batch;
		deliver(w);
	}
}

void tt_range_lock_count(struct tt_range_lock *rl, unsigned *held, unsigned *waiting)
{
	const struct tt_range *r;

	*held = *waiting = 0;
	spin_lock(&rl->spin);
	for (r = rl->held; r; r = r->next)
		(*held)++;
	for (r = rl->waiting; r; r = r->next)
		(*waiting)++;
	spin_unlock(&rl->spin);
}
