/* SPDX-License-Identifier: BSD-3-Clause */
/* I/O counters (src/base/iostat.c): bucket bounds, bucket choice, percentiles, sums, deltas. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include "tt_test.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/iostat.h"

static void test_bounds(void **state)
{
	(void)state;
	assert_int_equal(tt_iostat_bound_ns(0), 1000);
	assert_int_equal(tt_iostat_bound_ns(1), 1250);
	assert_int_equal(tt_iostat_bound_ns(2), 1500);
	assert_int_equal(tt_iostat_bound_ns(3), 1750);
	assert_int_equal(tt_iostat_bound_ns(4), 2000);
	assert_int_equal(tt_iostat_bound_ns(5), 2500);
	assert_int_equal(tt_iostat_bound_ns(8), 4000);
	/* every fourth bound is a power of two of microseconds */
	for (unsigned k = 0; k < 32; k++)
		assert_int_equal(tt_iostat_bound_ns(4 * k), (1ull << k) * 1000);
	assert_true(tt_iostat_bound_ns(TT_IOSTAT_BUCKETS - 1) == UINT64_MAX);
	/* increasing, and no two neighbours more than 25 % apart */
	for (unsigned b = 1; b < TT_IOSTAT_BUCKETS - 1; b++) {
		uint64_t lo = tt_iostat_bound_ns(b - 1), hi = tt_iostat_bound_ns(b);

		assert_true(hi > lo);
		assert_true(hi * 4 <= lo * 5);
	}
}

static void test_bucket_of_each_bound(void **state)
{
	(void)state;
	assert_int_equal(tt_iostat_bucket(0), 0);
	assert_int_equal(tt_iostat_bucket(1), 0);
	assert_int_equal(tt_iostat_bucket(1000), 0);
	assert_int_equal(tt_iostat_bucket(1001), 1);
	/* a value equal to a bound is in that bound's bucket (Prometheus "le"), one above it in the
	 * next */
	for (unsigned b = 0; b < TT_IOSTAT_BUCKETS - 1; b++) {
		uint64_t bound = tt_iostat_bound_ns(b);

		assert_int_equal(tt_iostat_bucket(bound), b);
		assert_int_equal(tt_iostat_bucket(bound + 1), b + 1);
		if (b)
			assert_int_equal(tt_iostat_bucket(bound - 1),
					 bound - 1 > tt_iostat_bound_ns(b - 1) ? b : b - 1);
	}
	assert_int_equal(tt_iostat_bucket(UINT64_MAX), TT_IOSTAT_BUCKETS - 1);
	assert_int_equal(tt_iostat_bucket(UINT64_MAX / 2), TT_IOSTAT_BUCKETS - 1);
}

static void test_account(void **state)
{
	struct tt_iostat s;

	(void)state;
	memset(&s, 0, sizeof(s));
	tt_iostat_account(&s, TT_IO_READ, 4096, TT_IO_ERR_NONE, 3000);
	tt_iostat_account(&s, TT_IO_READ, 0, TT_IO_ERR_ILLEGAL_REQUEST, 500);
	tt_iostat_account(&s, TT_IO_WRITE, 8192, TT_IO_ERR_NONE, 10000);
	tt_iostat_account(&s, TT_IO_OTHER, 99, TT_IO_ERR_UNIT_ATTENTION, 100);
	assert_int_equal(s.lat[TT_IO_READ].count, 2);
	assert_int_equal(s.lat[TT_IO_READ].sum_ns, 3500);
	assert_int_equal(s.lat[TT_IO_READ].buckets[0], 1);
	assert_int_equal(s.lat[TT_IO_READ].buckets[tt_iostat_bucket(3000)], 1);
	assert_int_equal(s.lat[TT_IO_WRITE].count, 1);
	assert_int_equal(s.lat[TT_IO_OTHER].count, 1);
	assert_int_equal(s.bytes[TT_IO_READ], 4096);
	assert_int_equal(s.bytes[TT_IO_WRITE], 8192);  /* "other" bytes are not counted */
	assert_int_equal(s.errors[TT_IO_ERR_ILLEGAL_REQUEST], 1);
	assert_int_equal(s.errors[TT_IO_ERR_UNIT_ATTENTION], 1);
	assert_int_equal(tt_iostat_errors(&s), 2);
}

static void test_sum_of_blocks(void **state)
{
	struct tt_iostat *blocks = calloc(4, sizeof(*blocks)), sum;

	(void)state;
	assert_non_null(blocks);
	/* four writers (loops), each with its own block */
	for (unsigned l = 0; l < 4; l++)
		for (unsigned i = 0; i <= l; i++)
			tt_iostat_account(&blocks[l], TT_IO_WRITE, 512, i == 0 ? TT_IO_ERR_BUSY
									 : TT_IO_ERR_NONE, 2000 * (l + 1));
	memset(&sum, 0, sizeof(sum));
	for (unsigned l = 0; l < 4; l++)
		tt_iostat_add(&sum, &blocks[l]);
	assert_int_equal(sum.lat[TT_IO_WRITE].count, 1 + 2 + 3 + 4);
	assert_int_equal(sum.bytes[TT_IO_WRITE], 10 * 512);
	assert_int_equal(sum.errors[TT_IO_ERR_BUSY], 4);
	assert_int_equal(sum.lat[TT_IO_WRITE].sum_ns, 2000 * (1 + 4 + 9 + 16));
	uint64_t n = 0;
	for (unsigned b = 0; b < TT_IOSTAT_BUCKETS; b++)
		n += sum.lat[TT_IO_WRITE].buckets[b];
	assert_int_equal(n, 10);
	assert_int_equal(sum.lat[TT_IO_WRITE].buckets[tt_iostat_bucket(8000)], 4);
	free(blocks);
}

static void test_percentiles(void **state)
{
	struct tt_iostat_hist h;

	(void)state;
	memset(&h, 0, sizeof(h));
	assert_int_equal(tt_iostat_percentile(&h, 0.5), 0);
	/* 1000 latencies, 1 us .. 1000 us */
	for (uint64_t i = 1; i <= 1000; i++) {
		h.buckets[tt_iostat_bucket(i * 1000)]++;
		h.count++;
		h.sum_ns += i * 1000;
	}
	static const double qs[] = { 0.5, 0.9, 0.99, 0.999, 1.0 };
	for (unsigned k = 0; k < sizeof(qs) / sizeof(qs[0]); k++) {
		double want = qs[k] * 1000 * 1000;  /* the true quantile in ns */
		double got = (double)tt_iostat_percentile(&h, qs[k]);

		/* within the documented precision: 25 % */
		assert_true(got >= want * 0.75 && got <= want * 1.25);
	}
	assert_true(tt_iostat_percentile(&h, 0.5) <= tt_iostat_percentile(&h, 0.99));
	assert_true(tt_iostat_percentile(&h, 0.99) <= tt_iostat_percentile(&h, 0.999));

	/* one value: every percentile lies in its bucket */
	memset(&h, 0, sizeof(h));
	h.buckets[tt_iostat_bucket(70000)] = 1;
	h.count = 1;
	for (unsigned k = 0; k < sizeof(qs) / sizeof(qs[0]); k++) {
		uint64_t p = tt_iostat_percentile(&h, qs[k]);

		assert_true(p > tt_iostat_bound_ns(tt_iostat_bucket(70000) - 1));
		assert_true(p <= tt_iostat_bound_ns(tt_iostat_bucket(70000)));
	}
	/* the last bucket has no upper bound: its lower bound is reported */
	memset(&h, 0, sizeof(h));
	h.buckets[TT_IOSTAT_BUCKETS - 1] = 3;
	assert_int_equal(tt_iostat_percentile(&h, 0.99), tt_iostat_bound_ns(TT_IOSTAT_BUCKETS - 2));
	/* 99 fast, 1 slow: p50 fast, p99 fast, p99.9 slow */
	memset(&h, 0, sizeof(h));
	h.buckets[tt_iostat_bucket(10000)] = 99;
	h.buckets[tt_iostat_bucket(5000000)] = 1;
	assert_true(tt_iostat_percentile(&h, 0.5) <= 10000);
	assert_true(tt_iostat_percentile(&h, 0.99) <= 10000);
	assert_true(tt_iostat_percentile(&h, 0.999) > 4000000);
}

static void test_delta(void **state)
{
	struct tt_iostat_hist a, b, d;

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	b.count = 3;
	b.sum_ns = 300;
	b.buckets[0] = 3;
	a = b;
	a.count = 5;
	a.sum_ns = 5300;
	a.buckets[0] = 4;
	a.buckets[7] = 1;
	tt_iostat_hist_delta(&d, &a, &b);
	assert_int_equal(d.count, 2);
	assert_int_equal(d.sum_ns, 5000);
	assert_int_equal(d.buckets[0], 1);
	assert_int_equal(d.buckets[7], 1);
	/* the counters went back (a LUN made again): the later sample alone */
	tt_iostat_hist_delta(&d, &b, &a);
	assert_int_equal(d.count, 3);
	assert_int_equal(d.buckets[0], 3);
	assert_int_equal(d.buckets[7], 0);
	tt_iostat_hist_add(&d, &a);
	assert_int_equal(d.count, 8);
	assert_int_equal(d.buckets[0], 7);
}

static void test_names_and_switch(void **state)
{
	(void)state;
	assert_string_equal(tt_io_op_name(TT_IO_READ), "read");
	assert_string_equal(tt_io_op_name(TT_IO_OTHER), "other");
	assert_string_equal(tt_io_op_name(9), "?");
	for (unsigned e = 0; e < TT_IO_ERRS; e++)
		assert_string_not_equal(tt_io_err_name(e), "?");
	assert_string_equal(tt_io_err_name(TT_IO_ERR_ILLEGAL_REQUEST), "illegal_request");
	assert_true(tt_iostat_enabled());
	tt_iostat_set_enabled(false);
	assert_false(tt_iostat_enabled());
	tt_iostat_set_enabled(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_bucket_of_each_bound),
		cmocka_unit_test(test_account),
		cmocka_unit_test(test_sum_of_blocks),
		cmocka_unit_test(test_percentiles),
		cmocka_unit_test(test_delta),
		cmocka_unit_test(test_names_and_switch),
	};

	return tt_run_group("iostat_test", tests, NULL, NULL);
}
