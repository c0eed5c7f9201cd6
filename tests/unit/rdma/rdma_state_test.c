/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The RDMA connection's lifecycle (src/rdma/rdma_state.c): every edge of the table, allowed or
 * not, and the references counted per holder that decide when a connection may be freed (only
 * once nothing is posted and the upper layer has let go). No RDMA device is needed.
 */
#include <stdbool.h>
#include <string.h>

#include "tt_test.h"

#include "rdma/rdma.h"

static void test_transitions(void **state)
{
	/* [from][to]: the lifecycle of rdma.h */
	static const bool want[TT_RDMA_CONN_STATE_COUNT][TT_RDMA_CONN_STATE_COUNT] = {
		[TT_RDMA_CONN_NEW] = { [TT_RDMA_CONN_ACCEPTING] = true, [TT_RDMA_CONN_DRAINING] = true },
		[TT_RDMA_CONN_ACCEPTING] = { [TT_RDMA_CONN_ESTABLISHED] = true,
					     [TT_RDMA_CONN_DRAINING] = true },
		[TT_RDMA_CONN_ESTABLISHED] = { [TT_RDMA_CONN_DRAINING] = true },
		[TT_RDMA_CONN_DRAINING] = { [TT_RDMA_CONN_CLOSED] = true },
		[TT_RDMA_CONN_CLOSED] = { 0 },
	};
	(void)state;

	for (int f = 0; f < TT_RDMA_CONN_STATE_COUNT; f++)
		for (int t = 0; t < TT_RDMA_CONN_STATE_COUNT; t++)
			if (tt_rdma_conn_transition_ok(f, t) != want[f][t])
				fail_msg("%s -> %s: %s", tt_rdma_conn_state_name(f),
					 tt_rdma_conn_state_name(t), want[f][t] ? "refused" : "allowed");
	/* out of range */
	assert_false(tt_rdma_conn_transition_ok(TT_RDMA_CONN_NEW, TT_RDMA_CONN_STATE_COUNT));
	assert_false(tt_rdma_conn_transition_ok(TT_RDMA_CONN_NEW, (enum tt_rdma_conn_state)-1));
}

static void test_running(void **state)
{
	(void)state;
	/* I/O is posted while accepting (a Login may arrive before ESTABLISHED) and established */
	assert_false(tt_rdma_conn_state_running(TT_RDMA_CONN_NEW));
	assert_true(tt_rdma_conn_state_running(TT_RDMA_CONN_ACCEPTING));
	assert_true(tt_rdma_conn_state_running(TT_RDMA_CONN_ESTABLISHED));
	assert_false(tt_rdma_conn_state_running(TT_RDMA_CONN_DRAINING));
	assert_false(tt_rdma_conn_state_running(TT_RDMA_CONN_CLOSED));
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(tt_rdma_conn_state_name(TT_RDMA_CONN_DRAINING), "draining");
	assert_string_equal(tt_rdma_conn_state_name(TT_RDMA_CONN_STATE_COUNT), "?");
	for (int h = 0; h < TT_RDMA_REF_COUNT; h++)
		assert_string_not_equal(tt_rdma_ref_name(h), "?");
	assert_string_equal(tt_rdma_ref_name(TT_RDMA_REF_READ), "rdma-read");
	assert_string_equal(tt_rdma_ref_name(TT_RDMA_REF_COUNT), "?");
}

/* The teardown order: the upper layer lets go first while work requests are still posted; the
 * last flushed completion is the last reference. */
static void test_refs_posted_outlive_upper(void **state)
{
	struct tt_rdma_refs r;
	bool under = false;
	(void)state;

	memset(&r, 0, sizeof(r));
	tt_rdma_refs_get(&r, TT_RDMA_REF_UPPER);
	for (int i = 0; i < 3; i++)
		tt_rdma_refs_get(&r, TT_RDMA_REF_RECV);
	tt_rdma_refs_get(&r, TT_RDMA_REF_WRITE);
	tt_rdma_refs_get(&r, TT_RDMA_REF_SEND);
	tt_rdma_refs_get(&r, TT_RDMA_REF_DRAIN);
	assert_int_equal(tt_rdma_refs_total(&r), 7);
	assert_int_equal(tt_rdma_refs_posted(&r), 6);
	assert_false(tt_rdma_refs_put(&r, TT_RDMA_REF_UPPER, &under));
	assert_int_equal(tt_rdma_refs_posted(&r), 6);
	/* flushed completions come back in any order */
	assert_false(tt_rdma_refs_put(&r, TT_RDMA_REF_DRAIN, &under));
	assert_false(tt_rdma_refs_put(&r, TT_RDMA_REF_RECV, &under));
	assert_false(tt_rdma_refs_put(&r, TT_RDMA_REF_SEND, &under));
	assert_false(tt_rdma_refs_put(&r, TT_RDMA_REF_RECV, &under));
	assert_false(tt_rdma_refs_put(&r, TT_RDMA_REF_WRITE, &under));
	assert_true(tt_rdma_refs_put(&r, TT_RDMA_REF_RECV, &under));
	assert_false(under);
	assert_int_equal(tt_rdma_refs_total(&r), 0);
}

/* The other order: everything posted comes back, the upper layer's reference is the last. */
static void test_refs_upper_last(void **state)
{
	struct tt_rdma_refs r;
	bool under = false;
	(void)state;

	memset(&r, 0, sizeof(r));
	tt_rdma_refs_get(&r, TT_RDMA_REF_UPPER);
	tt_rdma_refs_get(&r, TT_RDMA_REF_READ);
	assert_false(tt_rdma_refs_put(&r, TT_RDMA_REF_READ, &under));
	assert_int_equal(tt_rdma_refs_posted(&r), 0);
	assert_true(tt_rdma_refs_put(&r, TT_RDMA_REF_UPPER, &under));
	assert_false(under);
}

/* A put without its get is caught per holder: another holder's count does not cover it. */
static void test_refs_underflow(void **state)
{
	struct tt_rdma_refs r;
	bool under = false;
	(void)state;

	memset(&r, 0, sizeof(r));
	tt_rdma_refs_get(&r, TT_RDMA_REF_RECV);
	assert_false(tt_rdma_refs_put(&r, TT_RDMA_REF_SEND, &under));
	assert_true(under);
	assert_int_equal(r.n[TT_RDMA_REF_RECV], 1);
	assert_int_equal(r.n[TT_RDMA_REF_SEND], 0);
	under = false;
	assert_false(tt_rdma_refs_put(&r, TT_RDMA_REF_COUNT, &under));
	assert_true(under);
	assert_int_equal(tt_rdma_refs_total(&r), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transitions),
		cmocka_unit_test(test_running),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_refs_posted_outlive_upper),
		cmocka_unit_test(test_refs_upper_last),
		cmocka_unit_test(test_refs_underflow),
	};

	return tt_run_group("rdma_state_test", tests, NULL, NULL);
}
