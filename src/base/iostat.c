/* SPDX-License-Identifier: BSD-3-Clause */
/* I/O counters: summing blocks, histogram bounds and percentiles (base/iostat.h). */
#include "base/iostat.h"

#include <stddef.h>

bool tt_iostat_on = true;

void tt_iostat_set_enabled(bool on)
{
	__atomic_store_n(&tt_iostat_on, on, __ATOMIC_RELAXED);
}

uint64_t tt_iostat_bound_ns(unsigned bucket)
{
	unsigned o, s;

	if (bucket == 0)
		return 1000;
	if (bucket >= TT_IOSTAT_BUCKETS - 1)
		return UINT64_MAX;
	o = (bucket - 1) / 4;
	s = (bucket - 1) % 4 + 1;
	return ((uint64_t)(4 + s) << o) * 250;
}

static uint64_t load(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }

void tt_iostat_add(struct tt_iostat *sum, const struct tt_iostat *src)
{
	for (unsigned i = 0; i < 2; i++)
		sum->bytes[i] += load(&src->bytes[i]);
	for (unsigned i = 0; i < TT_IO_ERRS; i++)
		sum->errors[i] += load(&src->errors[i]);
	for (unsigned op = 0; op < TT_IO_OPS; op++) {
		const struct tt_iostat_hist *h = &src->lat[op];
		struct tt_iostat_hist *d = &sum->lat[op];

		d->count += load(&h->count);
		d->sum_ns += load(&h->sum_ns);
		for (unsigned b = 0; b < TT_IOSTAT_BUCKETS; b++)
			d->buckets[b] += load(&h->buckets[b]);
	}
}

void tt_iostat_hist_add(struct tt_iostat_hist *sum, const struct tt_iostat_hist *src)
{
	sum->count += src->count;
	sum->sum_ns += src->sum_ns;
	for (unsigned b = 0; b < TT_IOSTAT_BUCKETS; b++)
		sum->buckets[b] += src->buckets[b];
}

static uint64_t sub(uint64_t a, uint64_t b) { return a >= b ? a - b : a; }

void tt_iostat_hist_delta(struct tt_iostat_hist *out, const struct tt_iostat_hist *a,
			  const struct tt_iostat_hist *b)
{
	bool reset = a->count < b->count;

	out->count = reset ? a->count : a->count - b->count;
	out->sum_ns = reset ? a->sum_ns : sub(a->sum_ns, b->sum_ns);
	for (unsigned i = 0; i < TT_IOSTAT_BUCKETS; i++)
		out->buckets[i] = reset ? a->buckets[i] : sub(a->buckets[i], b->buckets[i]);
}

uint64_t tt_iostat_errors(const struct tt_iostat *s)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < TT_IO_ERRS; i++)
		n += s->errors[i];
	return n;
}

uint64_t tt_iostat_percentile(const struct tt_iostat_hist *h, double q)
{
	uint64_t total = 0, rank, seen = 0;

	for (unsigned b = 0; b < TT_IOSTAT_BUCKETS; b++)
		total += h->buckets[b];
	if (total == 0)
		return 0;
	if (!(q > 0))
		q = 0;
	if (q > 1)
		q = 1;
	rank = (uint64_t)(q * (double)total);
	if ((double)rank < q * (double)total)
		rank++;
	if (rank == 0)
		rank = 1;
	for (unsigned b = 0; b < TT_IOSTAT_BUCKETS; b++) {
		uint64_t n = h->buckets[b], lo, hi;

		if (seen + n < rank) {
			seen += n;
			continue;
		}
		lo = b ? tt_iostat_bound_ns(b - 1) : 0;
		hi = tt_iostat_bound_ns(b);
		if (hi == UINT64_MAX)
			return lo;
		return lo + (uint64_t)((double)(hi - lo) * (double)(rank - seen) / (double)n);
	}
	return 0; /* not reached */
}

static const char *const op_names[TT_IO_OPS] = { "read", "write", "other" };

static const char *const err_names[TT_IO_ERRS] = {
	[TT_IO_ERR_NOT_READY] = "not_ready",
	[TT_IO_ERR_MEDIUM] = "medium_error",
	[TT_IO_ERR_HARDWARE] = "hardware_error",
	[TT_IO_ERR_ILLEGAL_REQUEST] = "illegal_request",
	[TT_IO_ERR_UNIT_ATTENTION] = "unit_attention",
	[TT_IO_ERR_DATA_PROTECT] = "data_protect",
	[TT_IO_ERR_ABORTED_COMMAND] = "aborted_command",
	[TT_IO_ERR_MISCOMPARE] = "miscompare",
	[TT_IO_ERR_OTHER_SENSE] = "other_sense",
	[TT_IO_ERR_RESERVATION_CONFLICT] = "reservation_conflict",
	[TT_IO_ERR_BUSY] = "busy",
	[TT_IO_ERR_OTHER_STATUS] = "other_status",
};

const char *tt_io_op_name(unsigned op) { return op < TT_IO_OPS ? op_names[op] : "?"; }
const char *tt_io_err_name(unsigned err) { return err < TT_IO_ERRS ? err_names[err] : "?"; }
