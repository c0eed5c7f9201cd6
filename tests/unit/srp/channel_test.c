/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The SRP channel's lifecycle (src/srp/channel.c): every edge of the table, allowed or not; the
 * drain that waits for posted work requests and SCSI tasks; the free that waits for every
 * holder; the credits granted at login and returned exactly once each.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tt_test.h"

#include "srp/channel.h"

static void test_transitions(void **state)
{
	static const bool want[TT_SRP_CH_STATE_COUNT][TT_SRP_CH_STATE_COUNT] = {
		[TT_SRP_CH_CONNECTING] = { [TT_SRP_CH_LIVE] = true,
					   [TT_SRP_CH_DISCONNECTING] = true },
		[TT_SRP_CH_LIVE] = { [TT_SRP_CH_DISCONNECTING] = true },
		[TT_SRP_CH_DISCONNECTING] = { [TT_SRP_CH_DRAINING] = true },
		[TT_SRP_CH_DRAINING] = { [TT_SRP_CH_DISCONNECTED] = true },
		[TT_SRP_CH_DISCONNECTED] = { 0 },
	};
	(void)state;

	for (int f = 0; f < TT_SRP_CH_STATE_COUNT; f++)
		for (int t = 0; t < TT_SRP_CH_STATE_COUNT; t++) {
			struct tt_srp_ch_life l;

			if (tt_srp_ch_transition_ok(f, t) != want[f][t])
				fail_msg("%s -> %s: %s", tt_srp_ch_state_name(f),
					 tt_srp_ch_state_name(t), want[f][t] ? "refused" : "allowed");
			tt_srp_ch_life_init(&l);
			l.state = f;
			assert_int_equal(tt_srp_ch_set_state(&l, t), want[f][t] ? 0 : -EINVAL);
			assert_int_equal(l.state, want[f][t] ? t : f);
		}
	assert_false(tt_srp_ch_transition_ok(TT_SRP_CH_CONNECTING, TT_SRP_CH_STATE_COUNT));
	assert_false(tt_srp_ch_transition_ok(TT_SRP_CH_LIVE, (enum tt_srp_ch_state)-1));
	assert_string_equal(tt_srp_ch_state_name(TT_SRP_CH_DRAINING), "draining");
	assert_string_equal(tt_srp_ch_state_name(TT_SRP_CH_STATE_COUNT), "?");
	assert_string_equal(tt_srp_ch_ref_name(TT_SRP_REF_RDMA_READ), "rdma-read");
}

/* A channel's whole life: login, I/O in flight at logout, drain, free only at the last put. */
static void test_drain_and_free(void **state)
{
	struct tt_srp_ch_life l;

	(void)state;
	tt_srp_ch_life_init(&l);
	assert_int_equal(l.state, TT_SRP_CH_CONNECTING);
	tt_srp_ch_get(&l, TT_SRP_REF_OWNER);
	tt_srp_ch_get(&l, TT_SRP_REF_CM);
	for (int i = 0; i < 4; i++)
		tt_srp_ch_get(&l, TT_SRP_REF_RECV);
	assert_int_equal(tt_srp_ch_set_state(&l, TT_SRP_CH_LIVE), 0);
	/* a read in flight: a SCSI task and its RDMA WRITE */
	tt_srp_ch_get(&l, TT_SRP_REF_TASK);
	tt_srp_ch_get(&l, TT_SRP_REF_RDMA_WRITE);
	assert_int_equal(tt_srp_ch_busy(&l), 6);
	assert_int_equal(tt_srp_ch_set_state(&l, TT_SRP_CH_DISCONNECTING), 0);
	assert_int_equal(tt_srp_ch_set_state(&l, TT_SRP_CH_DRAINING), 0);
	/* flushes come back one by one: not disconnected while anything is posted or held */
	for (int i = 0; i < 4; i++) {
		assert_false(tt_srp_ch_put(&l, TT_SRP_REF_RECV));
		assert_int_equal(tt_srp_ch_set_state(&l, TT_SRP_CH_DISCONNECTED), -EBUSY);
	}
	assert_false(tt_srp_ch_put(&l, TT_SRP_REF_RDMA_WRITE));
	assert_int_equal(tt_srp_ch_set_state(&l, TT_SRP_CH_DISCONNECTED), -EBUSY);
	assert_int_equal(l.state, TT_SRP_CH_DRAINING);
	assert_false(tt_srp_ch_put(&l, TT_SRP_REF_TASK)); /* the SCSI core let go */
	assert_int_equal(tt_srp_ch_busy(&l), 0);
	assert_int_equal(tt_srp_ch_set_state(&l, TT_SRP_CH_DISCONNECTED), 0);
	assert_false(tt_srp_ch_may_free(&l));
	assert_false(tt_srp_ch_put(&l, TT_SRP_REF_CM));
	assert_true(tt_srp_ch_put(&l, TT_SRP_REF_OWNER));
	assert_true(tt_srp_ch_may_free(&l));
	assert_false(l.underflow);
	/* a put without a get is recorded, never wraps */
	assert_false(tt_srp_ch_put(&l, TT_SRP_REF_SEND));
	assert_true(l.underflow);
	assert_int_equal(l.n[TT_SRP_REF_SEND], 0);
	assert_false(tt_srp_ch_put(&l, TT_SRP_REF_COUNT));
}

/* Every reference gone before DISCONNECTED does not free: the state has to get there too. */
static void test_no_free_before_disconnected(void **state)
{
	struct tt_srp_ch_life l;

	(void)state;
	tt_srp_ch_life_init(&l);
	tt_srp_ch_get(&l, TT_SRP_REF_OWNER);
	assert_false(tt_srp_ch_put(&l, TT_SRP_REF_OWNER));
	assert_false(tt_srp_ch_may_free(&l));
	assert_int_equal(tt_srp_ch_set_state(&l, TT_SRP_CH_DISCONNECTING), 0);
	assert_int_equal(tt_srp_ch_set_state(&l, TT_SRP_CH_DRAINING), 0);
	assert_int_equal(tt_srp_ch_set_state(&l, TT_SRP_CH_DISCONNECTED), 0);
	assert_true(tt_srp_ch_may_free(&l));
}

static void test_credits(void **state)
{
	struct tt_srp_credits c;
	unsigned seed = 7;
	uint64_t granted = 0;

	(void)state;
	tt_srp_credits_init(&c, 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(tt_srp_credit_take(&c), 0);
	/* the initiator overran the limit */
	assert_int_equal(tt_srp_credit_take(&c), -EPROTO);
	assert_int_equal(tt_srp_credit_grant(&c), 0);
	assert_int_equal(tt_srp_credit_release(&c), 0);
	assert_int_equal(tt_srp_credit_release(&c), 0);
	assert_int_equal(tt_srp_credit_grant(&c), 2);
	assert_int_equal(tt_srp_credit_grant(&c), 0); /* returned once only */
	assert_int_equal(tt_srp_credit_take(&c), 0);
	assert_int_equal(tt_srp_credit_take(&c), 0);
	assert_int_equal(tt_srp_credit_take(&c), -EPROTO);
	for (int i = 0; i < 4; i++)
		assert_int_equal(tt_srp_credit_release(&c), 0);
	assert_int_equal(tt_srp_credit_release(&c), -EINVAL);
	assert_int_equal(tt_srp_credit_grant(&c), 4);
	assert_int_equal(c.held, 4);

	/* random interleaving: the sum never changes, a credit is returned exactly once */
	tt_srp_credits_init(&c, 32);
	for (int i = 0; i < 100000; i++) {
		uint32_t held = c.held, in_use = c.in_use;

		switch (rand_r(&seed) % 3) {
		case 0:
			assert_int_equal(tt_srp_credit_take(&c), held ? 0 : -EPROTO);
			break;
		case 1:
			assert_int_equal(tt_srp_credit_release(&c), in_use ? 0 : -EINVAL);
			break;
		default:
			granted += tt_srp_credit_grant(&c);
			break;
		}
		assert_int_equal(c.held + c.in_use + c.to_return, 32);
	}
	assert_true(granted > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transitions),
		cmocka_unit_test(test_drain_and_free),
		cmocka_unit_test(test_no_free_before_disconnected),
		cmocka_unit_test(test_credits),
	};

	return tt_run_group("srp_channel_test", tests, NULL, NULL);
}
