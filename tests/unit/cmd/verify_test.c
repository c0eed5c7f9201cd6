/* SPDX-License-Identifier: BSD-3-Clause */
/* The verify pattern of tether bench: each kind of wrong block is told apart, and right blocks
 * (including either outcome of a failed write) pass. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include "tt_test.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "verify.h"

#define LBS 512
#define CHUNK 4096
#define NCHUNKS 16
#define FIRST_LBA 1000

struct t {
	struct vfy *v;
	uint8_t buf[4][CHUNK];
};

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	assert_int_equal(vfy_new(&t->v, FIRST_LBA, NCHUNKS, CHUNK, LBS, 0x1234, false), 0);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;

	vfy_free(t->v);
	free(t);
	return 0;
}

/* writes chunk @c with generation into t->buf[@slot], with the outcome @status */
static void wr(struct t *t, uint64_t c, int slot, int status)
{
	vfy_write_begin(t->v, c, t->buf[slot]);
	assert_true(vfy_busy(t->v, c));
	vfy_write_end(t->v, c, status);
	assert_false(vfy_busy(t->v, c));
}

static uint64_t rd(struct t *t, uint64_t c, const void *data)
{
	vfy_read_begin(t->v, c);
	assert_true(vfy_busy(t->v, c));
	return vfy_read_end(t->v, c, data, 0);
}

static void test_right(void **state)
{
	struct t *t = *state;

	wr(t, 3, 0, 0);
	assert_true(vfy_written(t->v, 3));
	assert_false(vfy_written(t->v, 4));
	assert_int_equal(rd(t, 3, t->buf[0]), 0);
	/* not written in this run: not judged in a writing run */
	assert_int_equal(rd(t, 4, t->buf[0]), 0);
	assert_int_equal(vfy_counts(t->v)->errors, 0);
	assert_int_equal(vfy_counts(t->v)->blocks_checked, CHUNK / LBS);
	/* a failed read judges nothing */
	vfy_read_begin(t->v, 3);
	assert_int_equal(vfy_read_end(t->v, 3, NULL, -5), 0);
}

static void test_lost(void **state)
{
	struct t *t = *state;
	uint8_t zero[CHUNK] = { 0 };

	wr(t, 1, 0, 0);
	wr(t, 1, 1, 0);
	assert_int_equal(rd(t, 1, t->buf[0]), CHUNK / LBS);
	assert_int_equal(vfy_counts(t->v)->kind[VFY_LOST], CHUNK / LBS);
	/* zeroes where a write was acknowledged */
	assert_int_equal(rd(t, 1, zero), CHUNK / LBS);
	assert_int_equal(vfy_counts(t->v)->kind[VFY_LOST], 2 * CHUNK / LBS);
	assert_int_equal(rd(t, 1, t->buf[1]), 0);
}

static void test_stale(void **state)
{
	struct t *t = *state;

	wr(t, 2, 0, 0);
	wr(t, 2, 1, 0);
	wr(t, 2, 2, 0);
	assert_int_equal(rd(t, 2, t->buf[0]), CHUNK / LBS);
	assert_int_equal(vfy_counts(t->v)->kind[VFY_STALE], CHUNK / LBS);
	assert_int_equal(vfy_counts(t->v)->kind[VFY_LOST], 0);
}

static void test_misplaced_and_corrupt(void **state)
{
	struct t *t = *state;

	wr(t, 5, 0, 0);
	wr(t, 6, 1, 0);
	/* chunk 5's data read at chunk 6: every block has the wrong LBA */
	assert_int_equal(rd(t, 6, t->buf[0]), CHUNK / LBS);
	assert_int_equal(vfy_counts(t->v)->kind[VFY_MISPLACED], CHUNK / LBS);
	/* one byte changed in the filler of the third block: that block only */
	memcpy(t->buf[3], t->buf[1], CHUNK);
	t->buf[3][2 * LBS + 100] ^= 0x40;
	assert_int_equal(rd(t, 6, t->buf[3]), 1);
	assert_int_equal(vfy_counts(t->v)->kind[VFY_CORRUPT], 1);
	/* a header destroyed */
	memcpy(t->buf[3], t->buf[1], CHUNK);
	memset(t->buf[3] + LBS, 0x5a, 16);
	assert_int_equal(rd(t, 6, t->buf[3]), 1);
	assert_int_equal(vfy_counts(t->v)->kind[VFY_CORRUPT], 2);
}

static void test_failed_write_either(void **state)
{
	struct t *t = *state;

	wr(t, 7, 0, 0);
	wr(t, 7, 1, 0);
	wr(t, 7, 2, -5); /* failed: may or may not have landed */
	assert_int_equal(rd(t, 7, t->buf[1]), 0);
	assert_int_equal(rd(t, 7, t->buf[2]), 0);
	/* a torn outcome: half of each */
	memcpy(t->buf[3], t->buf[1], CHUNK / 2);
	memcpy(t->buf[3] + CHUNK / 2, t->buf[2] + CHUNK / 2, CHUNK / 2);
	assert_int_equal(rd(t, 7, t->buf[3]), 0);
	assert_int_equal(rd(t, 7, t->buf[0]), CHUNK / LBS); /* older than both */
	/* the next acknowledged write settles it */
	wr(t, 7, 3, 0);
	assert_int_equal(rd(t, 7, t->buf[2]), CHUNK / LBS);
	assert_int_equal(rd(t, 7, t->buf[3]), 0);
}

static void test_unexpected(void **state)
{
	struct t *t = *state;

	wr(t, 8, 0, 0);
	vfy_write_begin(t->v, 8, t->buf[1]); /* a newer write, still outstanding */
	vfy_write_end(t->v, 8, 0);
	wr(t, 8, 0, 0);  /* buf[0] now holds an even newer one */
	wr(t, 9, 2, 0);
	/* chunk 8 went back to the write before the last: lost; the newest is right */
	assert_int_equal(rd(t, 8, t->buf[1]), CHUNK / LBS);
	assert_int_equal(vfy_counts(t->v)->kind[VFY_LOST], CHUNK / LBS);
	assert_int_equal(rd(t, 8, t->buf[0]), 0);
}

static void test_earlier_run(void **state)
{
	struct vfy *w, *r;
	uint8_t a[CHUNK], zero[CHUNK] = { 0 }, junk[CHUNK];

	(void)state;
	/* a writing run, then a read-only verification by another run */
	assert_int_equal(vfy_new(&w, 0, 4, CHUNK, LBS, 77, false), 0);
	assert_int_equal(vfy_new(&r, 0, 4, CHUNK, LBS, 78, true), 0);
	vfy_write_begin(w, 2, a);
	vfy_write_end(w, 2, 0);
	vfy_read_begin(r, 2);
	assert_int_equal(vfy_read_end(r, 2, a, 0), 0);
	vfy_read_begin(r, 1);
	assert_int_equal(vfy_read_end(r, 1, zero, 0), 0);
	assert_int_equal(vfy_counts(r)->blocks_unwritten, CHUNK / LBS);
	memset(junk, 0xa5, sizeof(junk));
	vfy_read_begin(r, 3);
	assert_int_equal(vfy_read_end(r, 3, junk, 0), CHUNK / LBS);
	assert_int_equal(vfy_counts(r)->kind[VFY_CORRUPT], CHUNK / LBS);
	/* chunk 2's blocks at chunk 1 */
	vfy_read_begin(r, 1);
	assert_int_equal(vfy_read_end(r, 1, a, 0), CHUNK / LBS);
	assert_int_equal(vfy_counts(r)->kind[VFY_MISPLACED], CHUNK / LBS);
	/* a writing run judges a block left by an earlier run as older than its own writes */
	vfy_write_begin(r, 2, junk);
	vfy_write_end(r, 2, 0);
	vfy_read_begin(r, 2);
	assert_int_equal(vfy_read_end(r, 2, a, 0), CHUNK / LBS);
	assert_int_equal(vfy_counts(r)->kind[VFY_LOST], CHUNK / LBS);
	vfy_free(w);
	vfy_free(r);
	assert_int_equal(vfy_new(&w, 0, 4, 1000, LBS, 1, false), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_right, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale, setup, teardown),
		cmocka_unit_test_setup_teardown(test_misplaced_and_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_write_either, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unexpected, setup, teardown),
		cmocka_unit_test(test_earlier_run),
	};

	return tt_run_group("verify_test", tests, NULL, NULL);
}
