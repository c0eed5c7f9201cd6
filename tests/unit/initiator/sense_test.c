/* SPDX-License-Identifier: BSD-3-Clause */
/* Sense data in both formats and what each status means for a command. */
#include "tt_test.h"

#include <errno.h>

#include "initiator/initiator.h"

static enum ti_verdict verdict_of(const uint8_t *sense, size_t len, uint8_t status, int *err)
{
	struct ti_sense s;

	ti_sense_parse(sense, len, &s);
	return ti_scsi_verdict(status, &s, err);
}

static void test_parse(void **state)
{
	uint8_t fixed[18] = { 0x70, 0, 0x06, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x29, 0x00 };
	uint8_t desc[8] = { 0x72, 0x05, 0x24, 0x00 };
	struct ti_sense s;

	(void)state;
	assert_int_equal(ti_sense_parse(fixed, sizeof(fixed), &s), 0);
	assert_int_equal(s.key, 6);
	assert_int_equal(s.asc, 0x29);
	assert_int_equal(ti_sense_parse(desc, sizeof(desc), &s), 0);
	assert_int_equal(s.key, 5);
	assert_int_equal(s.asc, 0x24);
	assert_int_equal(ti_sense_parse(desc, 1, &s), -ENODATA);
	desc[0] = 0x10;
	assert_int_equal(ti_sense_parse(desc, sizeof(desc), &s), -EPROTO);
	assert_false(s.valid);
}

static void test_verdicts(void **state)
{
	uint8_t ua[18] = { 0x70, 0, 0x06, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x29, 0x00 };
	uint8_t alua_ua[18] = { 0x70, 0, 0x06, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x2a, 0x06 };
	uint8_t standby[8] = { 0x72, 0x02, 0x04, 0x0b };
	uint8_t transitioning[8] = { 0x72, 0x02, 0x04, 0x0a };
	uint8_t illegal[8] = { 0x72, 0x05, 0x20, 0x00 };
	uint8_t nospace[8] = { 0x72, 0x07, 0x27, 0x07 };
	uint8_t medium[8] = { 0x72, 0x03, 0x11, 0x00 };
	int err;

	(void)state;
	assert_int_equal(verdict_of(NULL, 0, 0x00, &err), TI_V_DONE);
	assert_int_equal(err, 0);
	assert_int_equal(verdict_of(ua, sizeof(ua), 0x02, &err), TI_V_RETRY);
	assert_int_equal(verdict_of(alua_ua, sizeof(alua_ua), 0x02, &err), TI_V_RETRY_ALUA);
	assert_int_equal(verdict_of(standby, sizeof(standby), 0x02, &err), TI_V_RETRY_ALUA);
	assert_int_equal(verdict_of(transitioning, 8, 0x02, &err), TI_V_RETRY_LATER);
	assert_int_equal(verdict_of(illegal, 8, 0x02, &err), TI_V_DONE);
	assert_int_equal(err, -EINVAL);
	assert_int_equal(verdict_of(nospace, 8, 0x02, &err), TI_V_DONE);
	assert_int_equal(err, -ENOSPC);
	assert_int_equal(verdict_of(medium, 8, 0x02, &err), TI_V_DONE);
	assert_int_equal(err, -EIO);
	assert_int_equal(verdict_of(NULL, 0, 0x08, &err), TI_V_RETRY_LATER);   /* BUSY */
	assert_int_equal(verdict_of(NULL, 0, 0x40, &err), TI_V_RETRY);         /* TASK ABORTED */
	assert_int_equal(verdict_of(NULL, 0, 0x02, &err), TI_V_DONE);          /* no sense */
	assert_int_equal(err, -EIO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_verdicts),
	};

	return tt_run_group("sense_test", tests, NULL, NULL);
}
