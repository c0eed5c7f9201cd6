/* SPDX-License-Identifier: BSD-3-Clause */
/* Which steps fence a dead path's session, by the `fence` option and what the device knows:
 * another live portal of the same iSCSI portal group, and whether the unit is a tetherd's
 * (whose reinstatement drains the old session's commands). */
#include "tt_test.h"

#include <errno.h>
#include <stdlib.h>

#include "initiator/initiator.h"

static struct tether_dev dev;
static struct ti_path p0, p1;

static void setup_paths(const char *host1, uint16_t tpgt1, const char *vendor)
{
	memset(&dev, 0, sizeof(dev));
	memset(&p0, 0, sizeof(p0));
	memset(&p1, 0, sizeof(p1));
	ti_opts_defaults(&dev.opts);
	p0.dev = p1.dev = &dev;
	p0.index = 0;
	p1.index = 1;
	snprintf(p0.url.host, sizeof(p0.url.host), "10.0.0.1");
	snprintf(p1.url.host, sizeof(p1.url.host), "%s", host1);
	p0.url.port = p1.url.port = 3260;
	snprintf(p0.url.target, sizeof(p0.url.target), "iqn.2026-11.org.x:disk");
	snprintf(p1.url.target, sizeof(p1.url.target), "iqn.2026-11.org.x:disk");
	p0.tpgt_known = p1.tpgt_known = true;
	p0.tpgt = 1;
	p1.tpgt = tpgt1;
	snprintf(p0.vendor, sizeof(p0.vendor), "%s", vendor);
	p0.state = TI_PATH_RECOVERING;   /* the dead one */
	p1.state = TI_PATH_LIVE;
	dev.paths[0] = &p0;
	dev.paths[1] = &p1;
	dev.npaths = 2;
}

static void test_auto(void **state)
{
	(void)state;
	/* tetherd, another portal of the group: reinstatement alone */
	setup_paths("10.0.1.1", 1, "TETHER  ");
	assert_int_equal(ti_fence_plan(&p0), TI_FSTEP_REINSTATE);
	/* another target: reinstatement closes the old connection, the LU reset drains */
	setup_paths("10.0.1.1", 1, "IET     ");
	assert_int_equal(ti_fence_plan(&p0), TI_FSTEP_REINSTATE | TI_FSTEP_LU_RESET);
	/* the other portal is in another portal group: no reinstatement there */
	setup_paths("10.0.1.1", 2, "TETHER  ");
	assert_int_equal(ti_fence_plan(&p0), TI_FSTEP_LU_RESET);
	/* the same portal (two sessions through one portal): not "another portal" */
	setup_paths("10.0.0.1", 1, "TETHER  ");
	assert_int_equal(ti_fence_plan(&p0), TI_FSTEP_LU_RESET);
	/* the other portal's path is not live */
	setup_paths("10.0.1.1", 1, "TETHER  ");
	p1.state = TI_PATH_RECOVERING;
	assert_int_equal(ti_fence_plan(&p0), TI_FSTEP_LU_RESET);
	/* another target name behind the other portal */
	setup_paths("10.0.1.1", 1, "TETHER  ");
	snprintf(p1.url.target, sizeof(p1.url.target), "iqn.2026-11.org.x:other");
	assert_int_equal(ti_fence_plan(&p0), TI_FSTEP_LU_RESET);
}

static void test_forced(void **state)
{
	(void)state;
	setup_paths("10.0.1.1", 1, "TETHER  ");
	dev.opts.fence = TI_FENCE_REINSTATE;
	assert_int_equal(ti_fence_plan(&p0), TI_FSTEP_REINSTATE);
	dev.opts.fence = TI_FENCE_LU_RESET;
	assert_int_equal(ti_fence_plan(&p0), TI_FSTEP_LU_RESET);
	dev.opts.fence = TI_FENCE_QUIESCE;
	assert_int_equal(ti_fence_plan(&p0), TI_FSTEP_QUIESCE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_auto),
		cmocka_unit_test(test_forced),
	};

	return tt_run_group("fence_test", tests, NULL, NULL);
}
