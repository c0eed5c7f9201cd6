/* SPDX-License-Identifier: BSD-3-Clause */
/* Primary commands (SPC-4): INQUIRY, REPORT LUNS, TEST UNIT READY, REQUEST SENSE. */
#include "scsi/core.h"
#include "scsi/cdb.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Version descriptors (SPC-4 table 32): SAM-5, iSCSI, SPC-4, SBC-3. */
static const uint16_t version_descriptors[] = { 0x00a0, 0x0960, 0x0460, 0x04c0 };

static void put_ascii(uint8_t *dst, size_t width, const char *s)
{
	size_t n = strlen(s);

	memset(dst, ' ', width);
	memcpy(dst, s, n < width ? n : width);
}

size_t tt_inquiry_std_build(const struct tt_lun *lun, bool explicit_alua, uint8_t *buf)
{
	memset(buf, 0, TT_INQUIRY_STD_LEN);
	/* peripheral qualifier 000b + direct access block device, or 011b + 1Fh: no LU here */
	buf[0] = lun ? 0x00 : 0x7f;
	buf[2] = 0x06;        /* VERSION: SPC-4 */
	buf[3] = 0x10 | 0x02; /* HISUP, RESPONSE DATA FORMAT 2 */
	buf[4] = TT_INQUIRY_STD_LEN - 5;
	/* TPGS 11b: implicit and explicit ALUA, or 01b: implicit only (alua.c); 3PC */
	buf[5] = lun ? (explicit_alua ? 0x30 : 0x10) | 0x08 : 0;
	buf[7] = 0x02;        /* CMDQUE */
	put_ascii(buf + 8, 8, lun ? lun->vendor : TT_SCSI_VENDOR);
	put_ascii(buf + 16, 16, lun ? lun->product : "");
	put_ascii(buf + 32, 4, lun ? lun->revision : TT_SCSI_REVISION);
	for (size_t i = 0; i < sizeof(version_descriptors) / sizeof(version_descriptors[0]); i++)
		tt_put_be16(buf + 58 + 2 * i, version_descriptors[i]);
	return TT_INQUIRY_STD_LEN;
}

enum tt_exec_rc tt_spc_inquiry(struct tt_scsi_task *task)
{
	const uint8_t *cdb = task->cdb;
	uint32_t alloc = tt_get_be16(cdb + 3);
	bool evpd = cdb[1] & 0x01;
	uint8_t page = cdb[2];
	uint8_t buf[1024]; /* VPD 83h with two 223-byte iSCSI names fits */
	int n;

	task->cmd_len = alloc;
	if (!evpd) {
		if (page) {
			tt_scsi_invalid_cdb(task, 2, -1);
			return TT_EXEC_DONE;
		}
		tt_task_data_in(task, buf, (uint32_t)tt_inquiry_std_build(task->lun,
							  tt_alua_port_explicit(task->nexus ? task->nexus->tport : NULL), buf), alloc);
		return TT_EXEC_DONE;
	}
	if (!task->lun) {
		memset(buf, 0, 4);
		buf[0] = 0x7f;
		buf[1] = page;
		tt_task_data_in(task, buf, 4, alloc);
		return TT_EXEC_DONE;
	}
	n = tt_vpd_build(task->lun, task->nexus ? task->nexus->tport : NULL, page, buf,
			 sizeof(buf));
	if (n < 0) {
		tt_scsi_invalid_cdb(task, 2, -1);
		return TT_EXEC_DONE;
	}
	tt_task_data_in(task, buf, (uint32_t)n, alloc);
	return TT_EXEC_DONE;
}

enum tt_exec_rc tt_spc_report_luns(struct tt_scsi_task *task)
{
	const uint8_t *cdb = task->cdb;
	uint32_t alloc = tt_get_be32(cdb + 6);
	uint64_t small[256], *ids = small;
	uint8_t *data;
	uint32_t len;
	int count = 0;

	task->cmd_len = alloc;
	if (alloc < 16) {
		tt_scsi_invalid_cdb(task, 6, -1);
		return TT_EXEC_DONE;
	}
	switch (cdb[2]) {
	case 0x00: /* logical units, no well-known ones */
	case 0x02: /* all: we have no well-known logical units */
		if (task->nexus && task->nexus->list_luns) {
			count = task->nexus->list_luns(task->nexus, ids, 256);
			if (count > 256) {
				int max = count;

				ids = calloc((size_t)max, sizeof(*ids));
				if (!ids) {
					tt_scsi_fail_errno(task, -ENOMEM, false);
					return TT_EXEC_DONE;
				}
				count = task->nexus->list_luns(task->nexus, ids, max);
				if (count > max)
					count = max; /* LUNs added meanwhile: for the next REPORT LUNS */
			}
			if (count < 0)
				count = 0;
		} else if (task->lun) {
			ids[0] = task->lun->id;
			count = 1;
		}
		break;
	case 0x01: /* well-known logical units only: none */
		break;
	default:
		tt_scsi_invalid_cdb(task, 2, -1);
		return TT_EXEC_DONE;
	}
	len = 8 + 8 * (uint32_t)count;
	data = calloc(1, len);
	if (!data) {
		if (ids != small)
			free(ids);
		tt_scsi_fail_errno(task, -ENOMEM, false);
		return TT_EXEC_DONE;
	}
	tt_put_be32(data, 8 * (uint32_t)count);
	for (int i = 0; i < count; i++)
		tt_scsi_lun_encode(ids[i], data + 8 + 8 * i);
	tt_task_data_in(task, data, len, alloc);
	free(data);
	if (ids != small)
		free(ids);
	if (task->lun)
		tt_ua_clear(task->lun, task->nexus, TT_UA_REPORTED_LUNS_CHANGED);
	return TT_EXEC_DONE;
}

enum tt_exec_rc tt_spc_test_unit_ready(struct tt_scsi_task *task)
{
	(void)task;
	return TT_EXEC_DONE;
}

enum tt_exec_rc tt_spc_request_sense(struct tt_scsi_task *task)
{
	const uint8_t *cdb = task->cdb;
	bool desc = cdb[1] & 0x01;
	uint32_t alloc = cdb[4];
	struct tt_sense s = { .key = TT_SK_NO_SENSE, .asc = TT_ASC_NO_ADDITIONAL_SENSE };
	uint8_t asc, ascq, buf[TT_SENSE_MAX];
	size_t n;

	task->cmd_len = alloc;
	if (!task->lun) {
		s.key = TT_SK_ILLEGAL_REQUEST;
		s.asc = TT_ASC_LUN_NOT_SUPPORTED;
	} else if (tt_ua_take(task->lun, task->nexus, &asc, &ascq)) {
		/* no sense data is kept after autosense: report the unit attention and clear it */
		s.key = TT_SK_UNIT_ATTENTION;
		s.asc = (uint16_t)(asc << 8 | ascq);
	}
	n = tt_sense_encode(&s, desc, buf, sizeof(buf));
	tt_task_data_in(task, buf, (uint32_t)n, alloc);
	return TT_EXEC_DONE;
}
