/* SPDX-License-Identifier: BSD-3-Clause */
/* CDB field decoding and LUN numbers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include "tt_test.h"

#include <errno.h>
#include <string.h>

#include "scsi/cdb.h"
#include "scsi/scsi.h"

static void test_be_fields(void **state)
{
	uint8_t b[8];

	(void)state;
	tt_put_be16(b, 0x1234);
	assert_int_equal(b[0], 0x12);
	assert_int_equal(tt_get_be16(b), 0x1234);
	tt_put_be24(b, 0xabcdef);
	assert_int_equal(b[2], 0xef);
	assert_int_equal(tt_get_be24(b), 0xabcdef);
	tt_put_be32(b, 0xdeadbeef);
	assert_int_equal(b[0], 0xde);
	assert_int_equal(tt_get_be32(b), 0xdeadbeef);
	tt_put_be64(b, 0x0102030405060708ull);
	assert_int_equal(b[7], 0x08);
	assert_true(tt_get_be64(b) == 0x0102030405060708ull);
}

static void test_cdb_length(void **state)
{
	(void)state;
	assert_int_equal(tt_cdb_length(TT_OP_READ_6), 6);
	assert_int_equal(tt_cdb_length(TT_OP_INQUIRY), 6);
	assert_int_equal(tt_cdb_length(TT_OP_READ_10), 10);
	assert_int_equal(tt_cdb_length(TT_OP_MODE_SENSE_10), 10);
	assert_int_equal(tt_cdb_length(TT_OP_READ_16), 16);
	assert_int_equal(tt_cdb_length(TT_OP_SERVICE_ACTION_IN_16), 16);
	assert_int_equal(tt_cdb_length(TT_OP_REPORT_LUNS), 12);
	assert_int_equal(tt_cdb_length(TT_OP_READ_12), 12);
	assert_int_equal(tt_cdb_length(0x7f), 0);
	assert_int_equal(tt_cdb_length(0xc0), 0);
}

static void test_decode_rw6(void **state)
{
	uint8_t c[16] = { TT_OP_READ_6, 0xff, 0x12, 0x34, 0x00, 0x00 };
	struct tt_cdb_rw rw;

	(void)state;
	assert_int_equal(tt_cdb_decode_rw(c, &rw), 0);
	assert_true(rw.lba == 0x1f1234);      /* 21 bits */
	assert_int_equal(rw.nblocks, 256);    /* 0 means 256 */
	assert_false(rw.fua);
	assert_int_equal(rw.protect, 0);
	c[0] = TT_OP_WRITE_6;
	c[4] = 7;
	assert_int_equal(tt_cdb_decode_rw(c, &rw), 0);
	assert_int_equal(rw.nblocks, 7);
}

static void test_decode_rw10_12_16(void **state)
{
	uint8_t c[16] = { 0 };
	struct tt_cdb_rw rw;

	(void)state;
	c[0] = TT_OP_WRITE_10;
	c[1] = 0x08 | 0x10 | 0x20; /* FUA, DPO, WRPROTECT 001b */
	tt_put_be32(c + 2, 0x11223344);
	c[6] = 0x05;
	tt_put_be16(c + 7, 0);
	assert_int_equal(tt_cdb_decode_rw(c, &rw), 0);
	assert_true(rw.lba == 0x11223344);
	assert_int_equal(rw.nblocks, 0);       /* 0 means 0 outside the 6-byte CDBs */
	assert_true(rw.fua);
	assert_true(rw.dpo);
	assert_int_equal(rw.protect, 1);
	assert_int_equal(rw.group, 5);

	memset(c, 0, sizeof(c));
	c[0] = TT_OP_READ_12;
	tt_put_be32(c + 2, 99);
	tt_put_be32(c + 6, 0x10000);
	assert_int_equal(tt_cdb_decode_rw(c, &rw), 0);
	assert_true(rw.lba == 99);
	assert_int_equal(rw.nblocks, 0x10000);

	memset(c, 0, sizeof(c));
	c[0] = TT_OP_READ_16;
	c[1] = 0x08;
	tt_put_be64(c + 2, 0x123456789abull);
	tt_put_be32(c + 10, 0xffffffff);
	assert_int_equal(tt_cdb_decode_rw(c, &rw), 0);
	assert_true(rw.lba == 0x123456789abull);
	assert_int_equal(rw.nblocks, 0xffffffff);
	assert_true(rw.fua);

	c[0] = TT_OP_VERIFY_16;
	c[1] = 0x02; /* BYTCHK 01b */
	assert_int_equal(tt_cdb_decode_rw(c, &rw), 0);
	assert_int_equal(rw.bytchk, 1);
	assert_false(rw.fua);
	c[1] = 0x06;
	assert_int_equal(tt_cdb_decode_rw(c, &rw), 0);
	assert_int_equal(rw.bytchk, 3);

	c[0] = TT_OP_INQUIRY;
	assert_int_equal(tt_cdb_decode_rw(c, &rw), -EINVAL);
}

static void test_lun_numbers(void **state)
{
	uint8_t l[8];

	(void)state;
	tt_scsi_lun_encode(0, l);
	assert_memory_equal(l, "\0\0\0\0\0\0\0\0", 8);
	tt_scsi_lun_encode(5, l);
	assert_int_equal(l[0], 0);
	assert_int_equal(l[1], 5);
	assert_true(tt_scsi_lun_decode(l) == 5);
	tt_scsi_lun_encode(300, l);
	assert_int_equal(l[0], 0x41);
	assert_int_equal(l[1], 300 & 0xff);
	assert_true(tt_scsi_lun_decode(l) == 300);
	tt_scsi_lun_encode(TT_SCSI_LUN_MAX, l);
	assert_true(tt_scsi_lun_decode(l) == TT_SCSI_LUN_MAX);
	l[0] = 0x80; /* logical unit addressing */
	assert_true(tt_scsi_lun_decode(l) == TT_SCSI_LUN_INVALID);
	memset(l, 0, 8);
	l[3] = 1; /* second level */
	assert_true(tt_scsi_lun_decode(l) == TT_SCSI_LUN_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_be_fields),
		cmocka_unit_test(test_cdb_length),
		cmocka_unit_test(test_decode_rw6),
		cmocka_unit_test(test_decode_rw10_12_16),
		cmocka_unit_test(test_lun_numbers),
	};

	return tt_run_group("cdb_test", tests, NULL, NULL);
}
