/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NVMe reservations as the SCSI core's persistent reservations (target/nvmf_resv.c): the
 * PERSISTENT RESERVE OUT each NVMe command becomes, the NVMe status of each SCSI outcome, the
 * two numberings of reservation types, and the Reservation Report data (nvmf/resv.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tt_test.h"

#include "scsi/cdb.h"
#include "scsi/pr.h"
#include "target/nvmf_resv.h"

#define INVALID (TT_NVME_SC_INVALID_FIELD | TT_NVME_DNR)

static uint16_t xlate(struct tt_nvmf_resv_cmd c, bool aptpl, uint8_t *cdb, uint8_t *p)
{
	return tt_nvmf_resv_prout(&c, aptpl, cdb, p);
}

static void test_register(void **state)
{
	uint8_t cdb[10], p[24];

	(void)state;
	/* register: REGISTER with key 0 and the new key, every port */
	assert_int_equal(xlate((struct tt_nvmf_resv_cmd){ .op = TT_NVMF_RESV_REGISTER,
		.action = 0, .crkey = 7, .nrkey = 0xa1 }, false, cdb, p), 0);
	assert_int_equal(cdb[0], 0x5f);
	assert_int_equal(cdb[1], TT_PROUT_REGISTER);
	assert_int_equal(tt_get_be32(cdb + 5), 24);
	assert_true(tt_get_be64(p) == 0 && tt_get_be64(p + 8) == 0xa1);
	assert_int_equal(p[20], 0x04); /* ALL_TG_PT, APTPL off */
	/* CPTPL 0 keeps the state, 3 sets it, 2 clears it; 1 is reserved */
	xlate((struct tt_nvmf_resv_cmd){ .op = TT_NVMF_RESV_REGISTER, .nrkey = 1 }, true, cdb, p);
	assert_int_equal(p[20], 0x05);
	xlate((struct tt_nvmf_resv_cmd){ .op = TT_NVMF_RESV_REGISTER, .nrkey = 1, .cptpl = 3 },
	      false, cdb, p);
	assert_int_equal(p[20], 0x05);
	xlate((struct tt_nvmf_resv_cmd){ .op = TT_NVMF_RESV_REGISTER, .nrkey = 1, .cptpl = 2 },
	      true, cdb, p);
	assert_int_equal(p[20], 0x04);
	assert_int_equal(xlate((struct tt_nvmf_resv_cmd){ .op = TT_NVMF_RESV_REGISTER,
		.nrkey = 1, .cptpl = 1 }, false, cdb, p), INVALID);
	/* unregister: the current key, or none with IEKEY */
	xlate((struct tt_nvmf_resv_cmd){ .op = TT_NVMF_RESV_REGISTER, .action = 1, .crkey = 0xa1 },
	      false, cdb, p);
	assert_int_equal(cdb[1], TT_PROUT_REGISTER);
	assert_true(tt_get_be64(p) == 0xa1 && tt_get_be64(p + 8) == 0);
	xlate((struct tt_nvmf_resv_cmd){ .op = TT_NVMF_RESV_REGISTER, .action = 1, .iekey = true },
	      false, cdb, p);
	assert_int_equal(cdb[1], TT_PROUT_REGISTER_AND_IGNORE);
	/* replace */
	xlate((struct tt_nvmf_resv_cmd){ .op = TT_NVMF_RESV_REGISTER, .action = 2, .crkey = 0xa1,
	      .nrkey = 0xa2 }, false, cdb, p);
	assert_int_equal(cdb[1], TT_PROUT_REGISTER);
	assert_true(tt_get_be64(p) == 0xa1 && tt_get_be64(p + 8) == 0xa2);
	/* a new key of 0 would unregister; unknown actions */
	assert_int_equal(xlate((struct tt_nvmf_resv_cmd){ .op = TT_NVMF_RESV_REGISTER,
		.action = 2, .crkey = 1 }, false, cdb, p), INVALID);
	assert_int_equal(xlate((struct tt_nvmf_resv_cmd){ .op = TT_NVMF_RESV_REGISTER,
		.action = 0 }, false, cdb, p), INVALID);
	assert_int_equal(xlate((struct tt_nvmf_resv_cmd){ .op = TT_NVMF_RESV_REGISTER,
		.action = 3, .nrkey = 1 }, false, cdb, p), INVALID);
}

static void test_acquire_release(void **state)
{
	uint8_t cdb[10], p[24];

	(void)state;
	for (uint8_t t = 1; t <= 6; t++) {
		assert_int_equal(xlate((struct tt_nvmf_resv_cmd){ .op = TT_NVMF_RESV_ACQUIRE,
			.type = t, .crkey = 5 }, false, cdb, p), 0);
		assert_int_equal(cdb[1], TT_PROUT_RESERVE);
		assert_int_equal(cdb[2], tt_nvmf_resv_type_to_scsi(t));
		assert_true(tt_pr_type_valid(cdb[2]));
		assert_int_equal(tt_nvmf_resv_type_from_scsi(cdb[2]), t);
		assert_true(tt_get_be64(p) == 5);
	}
	assert_int_equal(tt_nvmf_resv_type_to_scsi(2), TT_PR_EA);
	assert_int_equal(tt_nvmf_resv_type_to_scsi(5), TT_PR_WE_AR);
	assert_int_equal(tt_nvmf_resv_type_from_scsi(TT_PR_NONE), TT_NVMF_RESV_NONE);
	xlate((struct tt_nvmf_resv_cmd){ .op = TT_NVMF_RESV_ACQUIRE, .action = 1, .type = 1,
	      .crkey = 5, .nrkey = 6 }, false, cdb, p);
	assert_int_equal(cdb[1], TT_PROUT_PREEMPT);
	assert_true(tt_get_be64(p + 8) == 6);
	xlate((struct tt_nvmf_resv_cmd){ .op = TT_NVMF_RESV_ACQUIRE, .action = 2, .type = 2,
	      .crkey = 5, .nrkey = 6 }, false, cdb, p);
	assert_int_equal(cdb[1], TT_PROUT_PREEMPT_AND_ABORT);
	assert_int_equal(cdb[2], TT_PR_EA);
	assert_int_equal(p[20], 0); /* APTPL and ALL_TG_PT belong to registrations */
	assert_int_equal(xlate((struct tt_nvmf_resv_cmd){ .op = TT_NVMF_RESV_ACQUIRE, .type = 0 },
					 false, cdb, p), INVALID);
	assert_int_equal(xlate((struct tt_nvmf_resv_cmd){ .op = TT_NVMF_RESV_ACQUIRE, .type = 7 },
					 false, cdb, p), INVALID);
	assert_int_equal(xlate((struct tt_nvmf_resv_cmd){ .op = TT_NVMF_RESV_ACQUIRE, .action = 3,
					 .type = 1 }, false, cdb, p), INVALID);
	/* release names the type; clear does not */
	xlate((struct tt_nvmf_resv_cmd){ .op = TT_NVMF_RESV_RELEASE, .type = 4, .crkey = 5 },
	      false, cdb, p);
	assert_int_equal(cdb[1], TT_PROUT_RELEASE);
	assert_int_equal(cdb[2], TT_PR_EA_RO);
	assert_int_equal(xlate((struct tt_nvmf_resv_cmd){ .op = TT_NVMF_RESV_RELEASE, .type = 9 },
					 false, cdb, p), INVALID);
	assert_int_equal(xlate((struct tt_nvmf_resv_cmd){ .op = TT_NVMF_RESV_RELEASE, .action = 1,
					 .type = 9, .crkey = 5 }, false, cdb, p), 0);
	assert_int_equal(cdb[1], TT_PROUT_CLEAR);
	assert_int_equal(xlate((struct tt_nvmf_resv_cmd){ .op = TT_NVMF_RESV_RELEASE, .action = 2 },
					 false, cdb, p), INVALID);
}

static void test_status(void **state)
{
	const uint8_t fixed[18] = { 0x70, 0, TT_SK_ILLEGAL_REQUEST, [12] = 0x26, [13] = 0x04 };
	const uint8_t desc[8] = { 0x72, TT_SK_ILLEGAL_REQUEST, 0x26, 0x00 };
	const uint8_t hw[18] = { 0x70, 0, TT_SK_HARDWARE_ERROR, [12] = 0x44 };

	(void)state;
	assert_int_equal(tt_nvmf_resv_status_of(TT_SAM_GOOD, NULL, 0), 0);
	assert_int_equal(tt_nvmf_resv_status_of(TT_SAM_RESERVATION_CONFLICT, NULL, 0),
			 TT_NVME_SC_RESV_CONFLICT | TT_NVME_DNR);
	assert_int_equal(tt_nvmf_resv_status_of(TT_SAM_BUSY, NULL, 0), TT_NVME_SC_NS_NOT_READY);
	assert_int_equal(tt_nvmf_resv_status_of(TT_SAM_CHECK_CONDITION, fixed, 18), INVALID);
	assert_int_equal(tt_nvmf_resv_status_of(TT_SAM_CHECK_CONDITION, desc, 8), INVALID);
	assert_int_equal(tt_nvmf_resv_status_of(TT_SAM_CHECK_CONDITION, hw, 18),
			 TT_NVME_SC_INTERNAL);
	assert_int_equal(tt_nvmf_resv_status_of(TT_SAM_CHECK_CONDITION, NULL, 0),
			 TT_NVME_SC_INTERNAL);
}

static void test_report(void **state)
{
	struct tt_nvmf_resv_reg regs[2] = {
		{ .hostid = { 0xaa, [15] = 0x01 }, .key = 0xa1, .holder = true },
		{ .key = 0x51 }, /* an iSCSI registrant: no host identifier */
	};
	struct tt_nvmf_resv_status st = { .generation = 9, .type = TT_NVMF_RESV_WE, .ptpl = true,
					  .nregs = 2, .regs = regs };
	uint8_t buf[256], small[100];

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	tt_nvmf_resv_report_build(&st, buf, 192);
	assert_int_equal(tt_le32(buf), 9);
	assert_int_equal(buf[4], TT_NVMF_RESV_WE);
	assert_int_equal(tt_le16(buf + 5), 2);  /* REGCTL */
	assert_int_equal(buf[9], 1);            /* PTPLS */
	assert_int_equal(tt_le16(buf + 64), 0xffff);
	assert_int_equal(buf[66], 1);           /* RCSTS: holds the reservation */
	assert_true(tt_le64(buf + 72) == 0xa1);
	assert_memory_equal(buf + 80, regs[0].hostid, 16);
	assert_int_equal(buf[128 + 2], 0);
	assert_true(tt_le64(buf + 128 + 8) == 0x51);
	assert_int_equal(buf[128 + 16], 0);
	assert_int_equal(buf[192], 0xee);       /* nothing past the length asked */
	/* truncated inside the second entry */
	tt_nvmf_resv_report_build(&st, small, sizeof(small));
	assert_int_equal(tt_le16(small + 5), 2);
	assert_true(tt_le64(small + 72) == 0xa1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register),
		cmocka_unit_test(test_acquire_release),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_report),
	};

	return tt_run_group("nvmf_resv_test", tests, NULL, NULL);
}
