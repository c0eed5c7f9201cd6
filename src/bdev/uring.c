/* SPDX-License-Identifier: BSD-3-Clause */
/* Per-loop io_uring: submission batching, completion through an eventfd, a wait list when full. */
#include "bdev/uring.h"
#include "base/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define RING_ENTRIES 256

/*
 * Holders: the loop (released by destroy_work when the loop is destroyed). Operations in the ring
 * belong to their users and hold nothing on the ring. When io_uring cannot be set up, the slot
 * keeps a ring marked unavailable so that it is not tried again on every I/O.
 */
struct tt_uring {
	struct io_uring ring;
	bool unavailable;
	int efd;
	struct tt_watch watch;
	struct tt_work submit_work;
	struct tt_work destroy_work;
	unsigned pending;       /* SQEs prepared, not yet submitted */
	unsigned inflight;      /* submitted, completion not yet reaped */
	unsigned cq_entries;
	struct tt_list backlog; /* operations waiting for room */
};

static void uring_flush(struct tt_uring *u)
{
	int rc;

	if (!u->pending)
		return;
	rc = io_uring_submit(&u->ring);
	if (rc < 0) {
		/* the SQEs stay queued; -EBUSY clears when completions are reaped */
		if (rc != -EBUSY)
			tt_work_queue(&u->submit_work);
		if (rc != -EBUSY && rc != -EAGAIN && rc != -EINTR)
			tt_log_ratelimited(TT_LOG_ERR, "bdev", "io_uring submit: %s", strerror(-rc));
		return;
	}
	u->pending -= (unsigned)rc < u->pending ? (unsigned)rc : u->pending;
	u->inflight += (unsigned)rc;
	if (u->pending)
		tt_work_queue(&u->submit_work);
}

/* Prepares @op's call; false when the ring has no room. */
static bool uring_try_queue(struct tt_uring *u, struct tt_uring_op *op)
{
	struct io_uring_sqe *sqe;

	/* never more in flight than the completion queue holds */
	if (u->inflight + u->pending >= u->cq_entries)
		return false;
	sqe = io_uring_get_sqe(&u->ring);
	if (!sqe) {
		uring_flush(u);
		sqe = io_uring_get_sqe(&u->ring);
		if (!sqe)
			return false;
	}
	op->prep(op, sqe);
	io_uring_sqe_set_data(sqe, op);
	u->pending++;
	tt_work_queue(&u->submit_work);
	return true;
}

void tt_uring_queue(struct tt_uring *u, struct tt_uring_op *op)
{
	if (!tt_list_empty(&u->backlog) || !uring_try_queue(u, op))
		tt_list_add_tail(&u->backlog, &op->node);
}

static void uring_submit_work(struct tt_work *w)
{
	uring_flush(tt_container_of(w, struct tt_uring, submit_work));
}

static void uring_ready(struct tt_watch *w, uint32_t events)
{
	struct tt_uring *u = tt_container_of(w, struct tt_uring, watch);
	struct io_uring_cqe *cqe;
	struct tt_list *n;
	uint64_t v;

	(void)events;
	if (read(u->efd, &v, sizeof(v)) < 0) {
		/* EAGAIN: already drained */
	}
	while (io_uring_peek_cqe(&u->ring, &cqe) == 0) {
		struct tt_uring_op *op = io_uring_cqe_get_data(cqe);
		int res = cqe->res;

		io_uring_cqe_seen(&u->ring, cqe);
		u->inflight--;
		op->complete(op, res);
	}
	while ((n = u->backlog.next) != &u->backlog) {
		struct tt_uring_op *op = tt_list_entry(n, struct tt_uring_op, node);

		if (!uring_try_queue(u, op))
			break;
		tt_list_del(&op->node);
	}
}

static void uring_destroy(struct tt_work *w)
{
	struct tt_uring *u = tt_container_of(w, struct tt_uring, destroy_work);

	*tt_loop_slot(w->loop, TT_LOOP_SLOT_URING) = NULL;
	if (!u->unavailable) {
		if (u->inflight || u->pending || !tt_list_empty(&u->backlog))
			tt_warn("bdev", "loop %u exits with I/O in its ring", tt_loop_index(w->loop));
		tt_watch_del(&u->watch);
		io_uring_queue_exit(&u->ring);
		close(u->efd);
	}
	free(u);
}

static int uring_setup(struct tt_uring *u, struct tt_loop *loop)
{
	int rc;

	rc = io_uring_queue_init(RING_ENTRIES, &u->ring, 0);
	if (rc < 0)
		return rc;
	u->cq_entries = *u->ring.cq.kring_entries;
	u->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (u->efd < 0) {
		rc = -errno;
		goto fail_ring;
	}
	rc = io_uring_register_eventfd(&u->ring, u->efd);
	if (rc < 0)
		goto fail_efd;
	rc = tt_watch_add(loop, &u->watch, u->efd, EPOLLIN, uring_ready);
	if (rc < 0)
		goto fail_efd;
	return 0;
fail_efd:
	close(u->efd);
fail_ring:
	io_uring_queue_exit(&u->ring);
	return rc;
}

struct tt_uring *tt_uring_get(struct tt_loop *loop)
{
	static int warned;
	void **slot = tt_loop_slot(loop, TT_LOOP_SLOT_URING);
	struct tt_uring *u = *slot;
	int rc;

	if (u)
		return u->unavailable ? NULL : u;
	u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->efd = -1;
	u->watch.fd = -1;
	tt_list_init(&u->backlog);
	tt_work_init(&u->submit_work, loop, uring_submit_work);
	tt_work_init(&u->destroy_work, loop, uring_destroy);
	rc = uring_setup(u, loop);
	if (rc < 0) {
		u->unavailable = true;
		if (!__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
			tt_warn("bdev", "io_uring unavailable (%s): file I/O is synchronous",
				strerror(-rc));
	}
	tt_loop_on_destroy(loop, &u->destroy_work);
	*slot = u;
	return u->unavailable ? NULL : u;
}
