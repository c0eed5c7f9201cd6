/* SPDX-License-Identifier: BSD-3-Clause */
/* Per-thread buffer pool: classes, alignment, reuse, limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include "tt_test.h"

#include <stdint.h>
#include <string.h>

#include "base/bufpool.h"

static void test_classes_and_alignment(void **state)
{
	size_t cap;
	void *b;

	(void)state;
	b = tt_buf_alloc(1, &cap);
	assert_non_null(b);
	assert_int_equal(cap, 4096);
	assert_int_equal((uintptr_t)b % 4096, 0);
	tt_buf_free(b, cap);

	b = tt_buf_alloc(128 * 1024 + 1, &cap);
	assert_int_equal(cap, 256 * 1024);
	memset(b, 0xab, 128 * 1024 + 1); /* the whole request is usable */
	tt_buf_free(b, cap);

	/* larger than the largest class: exact (page-rounded) and not cached */
	b = tt_buf_alloc((16u << 20) + 1, &cap);
	assert_non_null(b);
	assert_int_equal(cap, (16u << 20) + 4096);
	tt_buf_free(b, cap);
	tt_buf_pool_drain();
}

static void test_reuse_within_a_class(void **state)
{
	size_t cap1, cap2, cap3;
	void *a, *b, *c;

	(void)state;
	a = tt_buf_alloc(100000, &cap1);
	tt_buf_free(a, cap1);
	b = tt_buf_alloc(70000, &cap2); /* same 128 KiB class: the cached buffer comes back */
	assert_ptr_equal(a, b);
	assert_int_equal(cap1, cap2);
	c = tt_buf_alloc(70000, &cap3); /* pool empty again: a new one */
	assert_ptr_not_equal(b, c);
	tt_buf_free(b, cap2);
	tt_buf_free(c, cap3);
	tt_buf_pool_drain();
	/* after a drain nothing is cached */
	a = tt_buf_alloc(100000, &cap1);
	assert_non_null(a);
	tt_buf_free(a, cap1);
	tt_buf_pool_drain();
}

static void test_cache_is_bounded(void **state)
{
	enum { N = 40 };
	void *bufs[N], *first[N];
	size_t caps[N];
	int reused = 0;

	(void)state;
	/* 40 x 4 MiB = 160 MiB: more than the 64 MiB a thread keeps */
	for (int i = 0; i < N; i++)
		assert_non_null(bufs[i] = tt_buf_alloc(4u << 20, &caps[i]));
	for (int i = 0; i < N; i++) {
		first[i] = bufs[i];
		tt_buf_free(bufs[i], caps[i]);
	}
	assert_int_equal(tt_buf_pool_cached(), 64u << 20); /* the rest went back to malloc */
	for (int i = 0; i < N; i++) {
		size_t cap;
		void *b = tt_buf_alloc(4u << 20, &cap);

		/* the cached ones come back first (the allocator may also reuse freed addresses
		 * later, so only the first 16 are counted) */
		for (int j = 0; j < N && i < 16; j++)
			reused += b == first[j];
		bufs[i] = b;
		caps[i] = cap;
	}
	assert_int_equal(reused, 16); /* 64 MiB / 4 MiB */
	for (int i = 0; i < N; i++)
		tt_buf_free(bufs[i], caps[i]);
	tt_buf_pool_drain();
	assert_int_equal(tt_buf_pool_cached(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classes_and_alignment),
		cmocka_unit_test(test_reuse_within_a_class),
		cmocka_unit_test(test_cache_is_bounded),
	};

	return tt_run_group("bufpool_test", tests, NULL, NULL);
}
