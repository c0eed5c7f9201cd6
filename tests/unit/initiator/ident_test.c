/* SPDX-License-Identifier: BSD-3-Clause */
/* VPD page 83h designators and REPORT TARGET PORT GROUPS data. */
#include "tt_test.h"

#include <errno.h>

#include "initiator/initiator.h"

static void test_vpd83(void **state)
{
	uint8_t page[] = {
		0x00, 0x83, 0x00, 40,
		/* T10 vendor id (LU) */
		0x02, 0x01, 0x00, 0x08, 'T', 'E', 'T', 'H', 'E', 'R', ' ', ' ',
		/* NAA (LU) */
		0x01, 0x03, 0x00, 0x08, 0x60, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04,
		/* relative target port 2 */
		0x51, 0x14, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02,
		/* target port group 7 */
		0x51, 0x15, 0x00, 0x04, 0x00, 0x00, 0x00, 0x07,
	};
	struct ti_ident a, b;

	(void)state;
	assert_int_equal(ti_vpd83_parse(page, sizeof(page), &a), 0);
	assert_int_equal(a.lu_type, 3);
	assert_string_equal(a.lu_text, "naa.6000000001020304");
	assert_true(a.have_rel_port);
	assert_int_equal(a.rel_port, 2);
	assert_true(a.have_tpg);
	assert_int_equal(a.tpg, 7);
	page[27] = 0x05;
	assert_int_equal(ti_vpd83_parse(page, sizeof(page), &b), 0);
	assert_false(ti_ident_same_lu(&a, &b));
	page[27] = 0x04;
	assert_int_equal(ti_vpd83_parse(page, sizeof(page), &b), 0);
	assert_true(ti_ident_same_lu(&a, &b));
	/* only port designators: no unit identity */
	page[3] = 0;
	assert_int_equal(ti_vpd83_parse(page, 4, &b), -ENODATA);
	page[1] = 0x80;
	assert_int_equal(ti_vpd83_parse(page, sizeof(page), &b), -EPROTO);
}

static void test_rtpg(void **state)
{
	uint8_t d[] = {
		0x00, 0x00, 0x00, 24,
		/* group 1: active/optimized, ports 1 */
		0x80, 0x0f, 0x00, 0x01, 0, 0, 0, 1, 0, 0, 0, 1,
		/* group 2: standby, port 2 */
		0x02, 0x0f, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 2,
	};
	enum ti_alua a;

	(void)state;
	assert_int_equal(ti_rtpg_state(d, sizeof(d), true, 2, false, 0, &a), 0);
	assert_int_equal(a, TI_ALUA_STANDBY);
	assert_int_equal(ti_rtpg_state(d, sizeof(d), true, 1, false, 0, &a), 0);
	assert_int_equal(a, TI_ALUA_OPTIMIZED);
	/* no group designator: found by the relative port */
	assert_int_equal(ti_rtpg_state(d, sizeof(d), false, 0, true, 2, &a), 0);
	assert_int_equal(a, TI_ALUA_STANDBY);
	assert_int_equal(ti_rtpg_state(d, sizeof(d), true, 9, true, 9, &a), -ENOENT);
	d[23] = 5;   /* claims more ports than there are bytes */
	assert_int_equal(ti_rtpg_state(d, sizeof(d), true, 9, false, 0, &a), -EPROTO);
	assert_string_equal(ti_alua_name(TI_ALUA_NON_OPTIMIZED), "active/non-optimized");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vpd83),
		cmocka_unit_test(test_rtpg),
	};

	return tt_run_group("ident_test", tests, NULL, NULL);
}
