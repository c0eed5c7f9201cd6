/* SPDX-License-Identifier: BSD-3-Clause */
/* Path selection: only live, checked paths; the best ALUA state first; then round-robin,
 * least queue depth or least service time. */
#include "tt_test.h"

#include <errno.h>

#include "initiator/initiator.h"

static struct ti_path paths[4];
static struct ti_path *ptrs[4];

static void reset(void)
{
	memset(paths, 0, sizeof(paths));
	for (int i = 0; i < 4; i++) {
		paths[i].index = i;
		paths[i].state = TI_PATH_LIVE;
		paths[i].ident_ok = true;
		paths[i].alua = TI_ALUA_OPTIMIZED;
		paths[i].svc_ns = 1000;
		paths[i].conn.step = TI_CONN_FFP;
		ptrs[i] = &paths[i];
	}
}

static void test_round_robin(void **state)
{
	unsigned rr = 0, seen[4] = { 0 };

	(void)state;
	reset();
	paths[2].state = TI_PATH_RECOVERING;
	for (int i = 0; i < 30; i++)
		seen[ti_select_path(ptrs, 4, TI_SEL_ROUND_ROBIN, &rr)->index]++;
	assert_int_equal(seen[0], 10);
	assert_int_equal(seen[1], 10);
	assert_int_equal(seen[2], 0);
	assert_int_equal(seen[3], 10);
	/* a path whose connection just failed carries no I/O, even while still LIVE */
	paths[1].conn.step = TI_CONN_FAILED;
	for (int i = 0; i < 10; i++)
		assert_int_not_equal(ti_select_path(ptrs, 4, TI_SEL_ROUND_ROBIN, &rr)->index, 1);
	/* a path whose identity is not checked yet carries no I/O */
	paths[3].ident_ok = false;
	for (int i = 0; i < 10; i++)
		assert_int_not_equal(ti_select_path(ptrs, 4, TI_SEL_ROUND_ROBIN, &rr)->index, 3);
}

static void test_alua(void **state)
{
	unsigned rr = 0;

	(void)state;
	reset();
	paths[0].alua = TI_ALUA_NON_OPTIMIZED;
	paths[1].alua = TI_ALUA_STANDBY;
	paths[2].alua = TI_ALUA_OPTIMIZED;
	paths[3].alua = TI_ALUA_UNAVAILABLE;
	for (int i = 0; i < 8; i++)
		assert_int_equal(ti_select_path(ptrs, 4, TI_SEL_ROUND_ROBIN, &rr)->index, 2);
	/* the optimized one goes: the non-optimized one takes over */
	paths[2].state = TI_PATH_RECOVERING;
	for (int i = 0; i < 8; i++)
		assert_int_equal(ti_select_path(ptrs, 4, TI_SEL_SERVICE_TIME, &rr)->index, 0);
	/* standby and unavailable are never used for I/O */
	paths[0].alua = TI_ALUA_TRANSITIONING;
	assert_null(ti_select_path(ptrs, 4, TI_SEL_ROUND_ROBIN, &rr));
	/* a unit without ALUA: every path counts as optimized */
	reset();
	for (int i = 0; i < 4; i++)
		paths[i].alua = TI_ALUA_NONE;
	paths[1].alua = TI_ALUA_NON_OPTIMIZED;
	assert_int_not_equal(ti_select_path(ptrs, 4, TI_SEL_ROUND_ROBIN, &rr)->index, 1);
}

static void test_queue_depth_service_time(void **state)
{
	unsigned rr = 0;

	(void)state;
	reset();
	paths[0].inflight = 5;
	paths[1].inflight = 2;
	paths[2].inflight = 7;
	paths[3].inflight = 3;
	assert_int_equal(ti_select_path(ptrs, 4, TI_SEL_QUEUE_DEPTH, &rr)->index, 1);
	/* service time: (inflight + 1) x latency; path 3 is 4x faster */
	paths[3].svc_ns = 250;
	assert_int_equal(ti_select_path(ptrs, 4, TI_SEL_SERVICE_TIME, &rr)->index, 3);
	paths[3].inflight = 20;
	assert_int_equal(ti_select_path(ptrs, 4, TI_SEL_SERVICE_TIME, &rr)->index, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_robin),
		cmocka_unit_test(test_alua),
		cmocka_unit_test(test_queue_depth_service_time),
	};

	return tt_run_group("select_test", tests, NULL, NULL);
}
