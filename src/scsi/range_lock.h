/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * LBA range locks of a logical unit. The commands that read blocks and then write them (COMPARE
 * AND WRITE, ORWRITE, WRITE AND VERIFY) or that must not interleave with those (WRITE ATOMIC)
 * hold their blocks from before the read until the write has completed, so that no other of
 * these commands changes the blocks in between. Plain READ and WRITE do not take them.
 *
 * Tasks of every loop thread share one lock per LUN; a short spin lock guards two lists. A range
 * that overlaps a held one waits, in arrival order among the waiting ranges it overlaps (a later
 * range that overlaps nothing held or waiting is granted at once). granted() of a waiting range
 * runs later on the loop that asked, never inside tt_range_lock() or tt_range_unlock().
 *
 * All-zero memory is an empty lock: no init, and nothing to free once no range is held or waits.
 * The lists are singly linked so that this holds.
 */
#ifndef TT_SCSI_RANGE_LOCK_H
#define TT_SCSI_RANGE_LOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "base/loop.h"

struct tt_range;
typedef void (*tt_range_granted_fn)(struct tt_range *r);

/* One request, owned by the caller (a command's context) from tt_range_lock() until
 * tt_range_unlock(). */
struct tt_range {
	uint64_t lba;     /* first block */
	uint64_t count;   /* blocks, > 0 */
	tt_range_granted_fn granted;
	/* private to the lock */
	struct tt_loop *loop;   /* where granted() runs */
	struct tt_work work;
	struct tt_range *next;  /* on held or waiting */
	struct tt_range *batch; /* granted by the same tt_range_unlock() */
};

struct tt_range_lock {
	int spin;                  /* atomic: 1 while a thread walks the lists */
	struct tt_range *held;
	struct tt_range *waiting;  /* oldest first */
};

/* Fills @r for tt_range_lock(). */
void tt_range_init(struct tt_range *r, uint64_t lba, uint64_t count, tt_range_granted_fn granted);

/*
 * Takes [r->lba, r->lba + r->count) for the caller, who must run on a loop thread. Returns true
 * when held now; false when queued: r->granted(r) runs later on the calling loop, holding it.
 */
bool tt_range_lock(struct tt_range_lock *rl, struct tt_range *r);

/* Gives back a held range (from any thread) and grants the waiters it was blocking. */
void tt_range_unlock(struct tt_range_lock *rl, struct tt_range *r);

/* Ranges held and waiting (tests and diagnostics). */
void tt_range_lock_count(struct tt_range_lock *rl, unsigned *held, unsigned *waiting);

#endif
