/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One io_uring per loop thread, created on first use and kept in the loop's TT_LOOP_SLOT_URING
 * slot. Its completion eventfd is watched by the loop; prepared SQEs are submitted once per loop
 * pass; operations that find the ring full wait in order. The ring goes when the loop is destroyed.
 */
#ifndef TT_BDEV_URING_H
#define TT_BDEV_URING_H

#include <liburing.h>

#include "base/loop.h"

struct tt_uring;

/* An operation, embedded in its user's request. It is queued again for each system call. */
struct tt_uring_op {
	struct tt_list node; /* waiting for room in the ring */
	/* Fills @sqe for the next system call (the ring sets the user data). */
	void (*prep)(struct tt_uring_op *op, struct io_uring_sqe *sqe);
	/* Runs on the loop with the call's result (>= 0, or -errno); may queue @op again. */
	void (*complete)(struct tt_uring_op *op, int res);
};

/* @loop's ring, created on first use; NULL when io_uring is unavailable (logged once). */
struct tt_uring *tt_uring_get(struct tt_loop *loop);
/* Queues @op on the ring of the current loop: prep runs now, or once the ring has room. */
void tt_uring_queue(struct tt_uring *ring, struct tt_uring_op *op);

#endif
