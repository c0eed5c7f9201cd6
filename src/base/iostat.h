/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * I/O counters: commands, bytes, errors and a latency histogram per operation class, cheap
 * enough to stay on (docs/stats.md).
 *
 * One block (struct tt_iostat) has one writer thread: an event loop owns it (a LUN has one block
 * per loop, a session one block on its loop). The writer adds with a relaxed load and a relaxed
 * store of each 64-bit field (tt_iostat_account): plain moves on x86-64 and arm64, no lock, no
 * atomic read-modify-write. Readers on any thread sum blocks with relaxed 64-bit loads
 * (tt_iostat_add): each field is whole (never torn), the fields of one block are not read at one
 * instant (a command may appear in its count before its bytes do); counters only grow.
 *
 * Latency histogram: TT_IOSTAT_BUCKETS buckets of microseconds, four per power of two. Bucket 0
 * holds latencies <= 1 us; bucket i >= 1 holds those in (bound(i-1), bound(i)] with
 * bound(i) = 2^o * (1 + s/4) us, o = (i-1)/4, s = (i-1)%4 + 1: 1.25, 1.5, 1.75, 2, 2.5, 3, ... us;
 * the last bucket has no upper bound (above 1.5 * 2^31 us, about 54 minutes). Consecutive bounds
 * differ by at most 25 %, so a percentile read from the buckets (linear within its bucket) is
 * within 25 % of the true value.
 */
#ifndef TT_BASE_IOSTAT_H
#define TT_BASE_IOSTAT_H

#include <stdbool.h>
#include <stdint.h>

#define TT_IOSTAT_BUCKETS 128

/* Operation classes. */
enum tt_io_op {
	TT_IO_READ,   /* READ(6/10/12/16) */
	TT_IO_WRITE,  /* WRITE(6/10/12/16), WRITE AND VERIFY, WRITE ATOMIC */
	TT_IO_OTHER,  /* every other command */
	TT_IO_OPS
};

/* Classes of errors: a command that ended with a status other than GOOD (or CONDITION MET).
 * CHECK CONDITION by sense key, then the other statuses. */
enum tt_io_err {
	TT_IO_ERR_NOT_READY,           /* sense key 2 */
	TT_IO_ERR_MEDIUM,              /* 3 MEDIUM ERROR */
	TT_IO_ERR_HARDWARE,            /* 4 HARDWARE ERROR */
	TT_IO_ERR_ILLEGAL_REQUEST,     /* 5 */
	TT_IO_ERR_UNIT_ATTENTION,      /* 6 */
	TT_IO_ERR_DATA_PROTECT,        /* 7 */
	TT_IO_ERR_ABORTED_COMMAND,     /* 0Bh */
	TT_IO_ERR_MISCOMPARE,          /* 0Eh */
	TT_IO_ERR_OTHER_SENSE,         /* another sense key, or none */
	TT_IO_ERR_RESERVATION_CONFLICT,/* status 18h */
	TT_IO_ERR_BUSY,                /* BUSY, TASK SET FULL */
	TT_IO_ERR_OTHER_STATUS,        /* TASK ABORTED, ACA ACTIVE, another status */
	TT_IO_ERRS
};

#define TT_IO_ERR_NONE (-1)

struct tt_iostat_hist {
	uint64_t count;                     /* commands */
	uint64_t sum_ns;                    /* their latencies added up */
	uint64_t buckets[TT_IOSTAT_BUCKETS];
};

struct tt_iostat {
	uint64_t bytes[2];                  /* [TT_IO_READ] read, [TT_IO_WRITE] written */
	uint64_t errors[TT_IO_ERRS];
	struct tt_iostat_hist lat[TT_IO_OPS];
};

/* Process-wide switch, on by default (tetherd --no-stats, global.stats). Read on the data path
 * with a relaxed load: a command that started while counting was on is counted. */
extern bool tt_iostat_on;
static inline bool tt_iostat_enabled(void) { return __atomic_load_n(&tt_iostat_on, __ATOMIC_RELAXED); }
void tt_iostat_set_enabled(bool on);

/* The bucket of a latency, and the upper bound of a bucket in nanoseconds (UINT64_MAX: the last
 * bucket). */
static inline unsigned tt_iostat_bucket(uint64_t ns)
{
	uint64_t c = ns / 250 + (ns % 250 != 0); /* in units of 250 ns, rounded up */
	unsigned o, i;

	if (c <= 4)
		return 0;
	o = 63u - (unsigned)__builtin_clzll(c - 1); /* 2^o < c <= 2^(o+1), o >= 2 */
	i = 4 * o - 11 + (unsigned)((c - 1) >> (o - 2));
	return i < TT_IOSTAT_BUCKETS - 1 ? i : TT_IOSTAT_BUCKETS - 1;
}
uint64_t tt_iostat_bound_ns(unsigned bucket);

static inline void tt_iostat_inc(uint64_t *field, uint64_t v)
{
	__atomic_store_n(field, __atomic_load_n(field, __ATOMIC_RELAXED) + v, __ATOMIC_RELAXED);
}

/* Counts one command; call only on the block's writer thread (or under the lock that serialises
 * its writers). @op: enum tt_io_op; @bytes: read (TT_IO_READ) or written (TT_IO_WRITE); @err:
 * enum tt_io_err or TT_IO_ERR_NONE. */
static inline void tt_iostat_account(struct tt_iostat *s, unsigned op, uint64_t bytes, int err,
				     uint64_t lat_ns)
{
	struct tt_iostat_hist *h = &s->lat[op];

	tt_iostat_inc(&h->count, 1);
	tt_iostat_inc(&h->sum_ns, lat_ns);
	tt_iostat_inc(&h->buckets[tt_iostat_bucket(lat_ns)], 1);
	if (op < 2 && bytes)
		tt_iostat_inc(&s->bytes[op], bytes);
	if (err >= 0)
		tt_iostat_inc(&s->errors[err], 1);
}

/* @sum += @src, reading @src with relaxed loads (any thread). */
void tt_iostat_add(struct tt_iostat *sum, const struct tt_iostat *src);
/* @sum += @src for one histogram (plain reads: both are the caller's). */
void tt_iostat_hist_add(struct tt_iostat_hist *sum, const struct tt_iostat_hist *src);
/* @a - @b, field by field (@a a later sample of the same counters); a field that went down
 * (the counters were reset: a LUN or session came back) gives @a's value. */
void tt_iostat_hist_delta(struct tt_iostat_hist *out, const struct tt_iostat_hist *a,
			  const struct tt_iostat_hist *b);
uint64_t tt_iostat_errors(const struct tt_iostat *s);
/* The @q quantile (0 < q <= 1) in nanoseconds: the bucket holding rank ceil(q * count), linear
 * within it (the last bucket gives its lower bound). 0 when the histogram is empty. */
uint64_t tt_iostat_percentile(const struct tt_iostat_hist *h, double q);

/* Names for output: "read", "write", "other"; "not_ready", "medium_error", ... */
const char *tt_io_op_name(unsigned op);
const char *tt_io_err_name(unsigned err);

#endif
