/* SPDX-License-Identifier: BSD-3-Clause */
/* Sense data encoding, fixed and descriptor formats. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include "tt_test.h"

#include <errno.h>
#include <string.h>

#include "scsi/cdb.h"
#include "scsi/core.h"

static void test_fixed(void **state)
{
	struct tt_sense s = { .key = TT_SK_MEDIUM_ERROR, .asc = TT_ASC_UNRECOVERED_READ_ERROR,
			      .info_valid = true, .info = 0x1234 };
	uint8_t b[TT_SENSE_MAX];

	(void)state;
	assert_int_equal(tt_sense_encode(&s, false, b, sizeof(b)), 18);
	assert_int_equal(b[0], 0xf0); /* VALID, current */
	assert_int_equal(b[2], 0x03);
	assert_int_equal(tt_get_be32(b + 3), 0x1234);
	assert_int_equal(b[7], 10);
	assert_int_equal(b[12], 0x11);
	assert_int_equal(b[13], 0x00);
	assert_int_equal(b[15], 0);

	/* an INFORMATION value that needs 64 bits is not VALID in fixed format */
	s.info = 1ull << 40;
	tt_sense_encode(&s, false, b, sizeof(b));
	assert_int_equal(b[0], 0x70);

	/* truncation */
	assert_int_equal(tt_sense_encode(&s, false, b, 8), 8);
}

static void test_descriptor(void **state)
{
	struct tt_sense s = { .key = TT_SK_ILLEGAL_REQUEST, .asc = TT_ASC_INVALID_FIELD_IN_CDB,
			      .info_valid = true, .info = 1ull << 40,
			      .sks_valid = true, .sks = { 0x40, 0x00, 0x02 } };
	uint8_t b[TT_SENSE_MAX];

	(void)state;
	assert_int_equal(tt_sense_encode(&s, true, b, sizeof(b)), 8 + 12 + 8);
	assert_int_equal(b[0], 0x72);
	assert_int_equal(b[1], 0x05);
	assert_int_equal(b[2], 0x24);
	assert_int_equal(b[3], 0x00);
	assert_int_equal(b[7], 20);
	assert_int_equal(b[8], 0x00);
	assert_int_equal(b[9], 0x0a);
	assert_int_equal(b[10], 0x80);
	assert_true(tt_get_be64(b + 12) == 1ull << 40);
	assert_int_equal(b[20], 0x02);
	assert_int_equal(b[21], 0x06);
	assert_int_equal(b[24], 0xc0);
	assert_int_equal(tt_get_be16(b + 25), 2);

	s.info_valid = s.sks_valid = false;
	assert_int_equal(tt_sense_encode(&s, true, b, sizeof(b)), 8);
	assert_int_equal(b[7], 0);
}

static void test_task_helpers(void **state)
{
	struct tt_scsi_task t;

	(void)state;
	memset(&t, 0, sizeof(t));
	tt_scsi_set_sense(&t, TT_SK_NOT_READY, 0x04, 0x01);
	assert_int_equal(t.status, TT_SAM_CHECK_CONDITION);
	assert_int_equal(t.sense_len, 18);
	assert_int_equal(t.sense[2], 0x02);
	assert_int_equal(t.sense[12], 0x04);
	assert_int_equal(t.sense[13], 0x01);
	tt_scsi_task_good(&t);
	assert_int_equal(t.status, TT_SAM_GOOD);
	assert_int_equal(t.sense_len, 0);

	tt_scsi_fail_errno(&t, -EIO, true);
	assert_int_equal(t.sense[2], TT_SK_MEDIUM_ERROR);
	assert_int_equal(t.sense[12], 0x0c);
	tt_scsi_fail_errno(&t, -EIO, false);
	assert_int_equal(t.sense[12], 0x11);
	tt_scsi_fail_errno(&t, -ENOSPC, true);
	assert_int_equal(t.sense[2], TT_SK_DATA_PROTECT);
	assert_int_equal(t.sense[12], 0x27);
	assert_int_equal(t.sense[13], 0x07);
	tt_scsi_fail_errno(&t, -ETIMEDOUT, false);
	assert_int_equal(t.sense[2], TT_SK_HARDWARE_ERROR);
	tt_scsi_fail_errno(&t, -EAGAIN, false);
	assert_int_equal(t.status, TT_SAM_BUSY);

	tt_scsi_invalid_param(&t, 0x123, -1);
	assert_int_equal(t.sense[12], 0x26);
	assert_int_equal(t.sense[15], 0x80);
	assert_int_equal(tt_get_be16(t.sense + 16), 0x123);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixed),
		cmocka_unit_test(test_descriptor),
		cmocka_unit_test(test_task_helpers),
	};

	return tt_run_group("sense_test", tests, NULL, NULL);
}
