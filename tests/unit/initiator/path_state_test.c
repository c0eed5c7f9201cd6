/* SPDX-License-Identifier: BSD-3-Clause */
/* The path lifecycle (allowed transitions) and the reconnect policy (backoff, path loss
 * timeout, no retry after an authentication failure), driven by the fake clock. */
#include "tt_test.h"

#include <errno.h>

#include "base/clock.h"
#include "initiator/initiator.h"

static void test_transitions(void **state)
{
	(void)state;
	/* the allowed edges, exactly */
	static const bool ok[TI_PATH__COUNT][TI_PATH__COUNT] = {
		[TI_PATH_NEW] = { [TI_PATH_CONNECTING] = true, [TI_PATH_DELETING] = true },
		[TI_PATH_CONNECTING] = { [TI_PATH_LIVE] = true, [TI_PATH_RECOVERING] = true,
					 [TI_PATH_DELETING] = true },
		[TI_PATH_LIVE] = { [TI_PATH_RECOVERING] = true, [TI_PATH_DELETING] = true },
		[TI_PATH_RECOVERING] = { [TI_PATH_CONNECTING] = true, [TI_PATH_DELETING] = true },
		[TI_PATH_DELETING] = { [TI_PATH_DEAD] = true },
		[TI_PATH_DEAD] = { 0 },
	};

	for (int f = 0; f < TI_PATH__COUNT; f++)
		for (int t = 0; t < TI_PATH__COUNT; t++) {
			if (ti_path_transition_ok(f, t) != ok[f][t])
				fail_msg("%s -> %s: expected %s", ti_path_state_name(f),
					 ti_path_state_name(t), ok[f][t] ? "allowed" : "refused");
		}
	/* a live path never comes back to LIVE without a new login */
	assert_false(ti_path_transition_ok(TI_PATH_RECOVERING, TI_PATH_LIVE));
	assert_false(ti_path_transition_ok(TI_PATH_DEAD, TI_PATH_CONNECTING));
	assert_string_equal(ti_path_state_name(TI_PATH_RECOVERING), "recovering");
	assert_string_equal(ti_path_state_name(TI_PATH_DEAD), "dead");
}

static void test_backoff(void **state)
{
	struct tether_opts o;
	static const uint64_t want[] = { 200, 400, 800, 1600, 3200, 5000, 5000, 5000 };

	(void)state;
	ti_opts_defaults(&o);
	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(ti_reconnect_delay_ms(&o, i), want[i]);
	assert_int_equal(ti_reconnect_delay_ms(&o, 1000), 5000);   /* no overflow */
	o.reconnect_delay_ms = 0;
	assert_int_equal(ti_reconnect_delay_ms(&o, 3), 0);
	o.reconnect_delay_ms = 700;
	o.reconnect_max_delay_ms = 100;   /* a max below the first delay: the first delay */
	assert_int_equal(ti_reconnect_delay_ms(&o, 0), 700);
	assert_int_equal(ti_reconnect_delay_ms(&o, 5), 700);
}

static void test_loss_timeout(void **state)
{
	struct tether_opts o;
	uint64_t down;

	(void)state;
	ti_opts_defaults(&o);
	tt_clock_fake(1000 * TT_NS_PER_SEC);
	down = tt_now_ns();
	/* default: never given up */
	tt_clock_advance(3600 * TT_NS_PER_SEC);
	assert_true(ti_should_reconnect(&o, down, tt_now_ns(), false));
	/* after an authentication failure: never again */
	assert_false(ti_should_reconnect(&o, down, tt_now_ns(), true));

	o.path_loss_timeout_ms = 10000;
	down = tt_now_ns();
	tt_clock_advance(9999 * TT_NS_PER_MS);
	assert_true(ti_should_reconnect(&o, down, tt_now_ns(), false));
	tt_clock_advance(1 * TT_NS_PER_MS);
	assert_false(ti_should_reconnect(&o, down, tt_now_ns(), false));

	/* the attempts made within the loss timeout: 200+400+800+1600+3200 = 6.2 s, then every
	 * 5 s: attempts start at 0.2, 0.6, 1.4, 3.0, 6.2 s; the next (11.2 s) is past 10 s */
	{
		uint64_t t = 0;
		unsigned n = 0;

		down = tt_now_ns();
		for (unsigned a = 0;; a++) {
			t += ti_reconnect_delay_ms(&o, a);
			if (!ti_should_reconnect(&o, down, down + t * TT_NS_PER_MS, false))
				break;
			n++;
		}
		assert_int_equal(n, 5);
	}
	tt_clock_real();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transitions),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_loss_timeout),
	};

	return tt_run_group("path_state_test", tests, NULL, NULL);
}
