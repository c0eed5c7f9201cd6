/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared by the backend tests: a real loop, synchronous wrappers around tt_bdev_submit. */
#ifndef TT_TESTS_BDEV_UTIL_H
#define TT_TESTS_BDEV_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include "tt_test.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/loop.h"
#include "bdev/bdev.h"

struct test_io {
	struct tt_bdev_io io;
	struct iovec iov[4];
	bool done;
	int status;
	uint64_t done_ns;
};

static inline void test_io_done(struct tt_bdev_io *io, int status)
{
	struct test_io *t = io->ctx;

	t->done = true;
	t->status = status;
	t->done_ns = tt_now_ns();
}

/* A loop made current for the calling thread (tt_loop_run_once sets it). */
static inline struct tt_loop *test_loop_new(void)
{
	struct tt_loop *loop;

	assert_int_equal(tt_loop_create(&loop, 0), 0);
	assert_int_equal(tt_loop_run_once(loop, 0), 0);
	assert_ptr_equal(tt_loop_current(), loop);
	return loop;
}

/* Runs @loop until *flag is set or @ms pass; returns whether it was set. */
static inline bool test_run_until(struct tt_loop *loop, const bool *flag, unsigned ms)
{
	uint64_t end = tt_now_ns() + (uint64_t)ms * TT_NS_PER_MS;

	while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE) && tt_now_ns() < end)
		assert_int_equal(tt_loop_run_once(loop, 10), 0);
	return __atomic_load_n(flag, __ATOMIC_ACQUIRE);
}

static inline void test_io_prep(struct test_io *t, enum tt_bdev_op op, uint64_t off, void *buf,
				uint64_t len)
{
	memset(t, 0, sizeof(*t));
	t->io.op = op;
	t->io.offset = off;
	t->io.len = len;
	if (op == TT_BDEV_READ || op == TT_BDEV_WRITE) {
		t->iov[0].iov_base = buf;
		t->iov[0].iov_len = len;
		t->io.iov = t->iov;
		t->io.iovcnt = 1;
	}
	t->io.done = test_io_done;
	t->io.ctx = t;
}

/* Submits and checks that done() does not run inside tt_bdev_submit. Returns the submit rc. */
static inline int test_io_start(struct tt_bdev *bdev, struct test_io *t)
{
	int rc = tt_bdev_submit(bdev, &t->io);

	assert_false(t->done);
	return rc;
}

/* Submits, waits up to 10 s, returns the status (or the submit error). */
static inline int test_io_wait(struct tt_loop *loop, struct tt_bdev *bdev, struct test_io *t)
{
	int rc = test_io_start(bdev, t);

	if (rc < 0)
		return rc;
	assert_true(test_run_until(loop, &t->done, 10000));
	return t->status;
}

static inline int test_rw(struct tt_loop *loop, struct tt_bdev *bdev, enum tt_bdev_op op,
			  uint64_t off, void *buf, uint64_t len)
{
	struct test_io t;

	test_io_prep(&t, op, off, buf, len);
	return test_io_wait(loop, bdev, &t);
}

static inline struct tt_bdev *test_open(const char *spec)
{
	struct tt_bdev *bdev = NULL;
	char err[256];
	int rc = tt_bdev_open(spec, &bdev, err, sizeof(err));

	if (rc < 0)
		fail_msg("open %s: %s (%d)", spec, err, rc);
	assert_int_equal(bdev->refs, 1);
	return bdev;
}

/* Fills @buf with a pattern derived from @seed. */
static inline void test_fill(void *buf, size_t len, unsigned seed)
{
	unsigned char *p = buf;

	for (size_t i = 0; i < len; i++)
		p[i] = (unsigned char)(seed * 131 + i * 7 + (i >> 9));
}

static inline bool test_is_zero(const void *buf, size_t len)
{
	const unsigned char *p = buf;

	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

static inline void *test_alloc(size_t len)
{
	void *p = NULL;

	assert_int_equal(posix_memalign(&p, TT_BDEV_BUF_ALIGN, len), 0);
	return p;
}

#endif
