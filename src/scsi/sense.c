/* SPDX-License-Identifier: BSD-3-Clause */
/* Sense data (SPC-4 4.5): fixed and descriptor formats, and the errors the core reports. */
#include "scsi/core.h"
#include "scsi/cdb.h"

#include <errno.h>
#include <string.h>

#define SENSE_FIXED_LEN 18

static size_t encode_fixed(const struct tt_sense *s, uint8_t *out)
{
	memset(out, 0, SENSE_FIXED_LEN);
	out[0] = 0x70; /* current error */
	out[2] = s->key & 0x0f;
	if (s->info_valid && s->info <= UINT32_MAX) {
		out[0] |= 0x80; /* VALID */
		tt_put_be32(out + 3, (uint32_t)s->info);
	}
	out[7] = SENSE_FIXED_LEN - 8;
	out[12] = (uint8_t)(s->asc >> 8);
	out[13] = (uint8_t)s->asc;
	if (s->sks_valid) {
		out[15] = s->sks[0] | 0x80; /* SKSV */
		out[16] = s->sks[1];
		out[17] = s->sks[2];
	}
	return SENSE_FIXED_LEN;
}

static size_t encode_descriptor(const struct tt_sense *s, uint8_t *out)
{
	size_t n = 8;

	memset(out, 0, 8 + 12 + 8);
	out[0] = 0x72; /* current error, descriptor format */
	out[1] = s->key & 0x0f;
	out[2] = (uint8_t)(s->asc >> 8);
	out[3] = (uint8_t)s->asc;
	if (s->info_valid) {
		/* information descriptor */
		out[n] = 0x00;
		out[n + 1] = 0x0a;
		out[n + 2] = 0x80; /* VALID */
		tt_put_be64(out + n + 4, s->info);
		n += 12;
	}
	if (s->sks_valid) {
		/* sense key specific descriptor */
		out[n] = 0x02;
		out[n + 1] = 0x06;
		out[n + 4] = s->sks[0] | 0x80;
		out[n + 5] = s->sks[1];
		out[n + 6] = s->sks[2];
		n += 8;
	}
	out[7] = (uint8_t)(n - 8);
	return n;
}

size_t tt_sense_encode(const struct tt_sense *s, bool descriptor, uint8_t *buf, size_t len)
{
	uint8_t tmp[TT_SENSE_MAX];
	size_t n = descriptor ? encode_descriptor(s, tmp) : encode_fixed(s, tmp);

	if (n > len)
		n = len;
	memcpy(buf, tmp, n);
	return n;
}

void tt_scsi_sense(struct tt_scsi_task *task, const struct tt_sense *s)
{
	task->status = TT_SAM_CHECK_CONDITION;
	task->sense_len = (uint8_t)tt_sense_encode(s, tt_lun_d_sense(task->lun), task->sense,
						   sizeof(task->sense));
}

void tt_scsi_fail(struct tt_scsi_task *task, uint8_t key, uint16_t asc)
{
	struct tt_sense s = { .key = key, .asc = asc };

	tt_scsi_sense(task, &s);
}

void tt_scsi_set_sense(struct tt_scsi_task *task, uint8_t key, uint8_t asc, uint8_t ascq)
{
	tt_scsi_fail(task, key, (uint16_t)(asc << 8 | ascq));
}

void tt_scsi_set_sense_info(struct tt_scsi_task *task, uint8_t key, uint8_t asc, uint8_t ascq,
			    uint64_t info)
{
	struct tt_sense s = {
		.key = key, .asc = (uint16_t)(asc << 8 | ascq), .info_valid = true, .info = info,
	};

	tt_scsi_sense(task, &s);
}

void tt_scsi_task_good(struct tt_scsi_task *task)
{
	task->status = TT_SAM_GOOD;
	task->sense_len = 0;
}

static void invalid_field(struct tt_scsi_task *task, uint16_t asc, bool cdb, uint16_t byte, int bit)
{
	struct tt_sense s = { .key = TT_SK_ILLEGAL_REQUEST, .asc = asc, .sks_valid = true };

	s.sks[0] = cdb ? 0x40 : 0x00; /* C/D */
	if (bit >= 0 && bit < 8)
		s.sks[0] |= 0x08 | (uint8_t)bit; /* BPV, bit pointer */
	s.sks[1] = (uint8_t)(byte >> 8);
	s.sks[2] = (uint8_t)byte;
	tt_scsi_sense(task, &s);
}

void tt_scsi_invalid_cdb(struct tt_scsi_task *task, uint16_t byte, int bit)
{
	invalid_field(task, TT_ASC_INVALID_FIELD_IN_CDB, true, byte, bit);
}

void tt_scsi_invalid_param(struct tt_scsi_task *task, uint16_t byte, int bit)
{
	invalid_field(task, TT_ASC_INVALID_FIELD_IN_PARAM_LIST, false, byte, bit);
}

void tt_scsi_fail_errno(struct tt_scsi_task *task, int err, bool write)
{
	switch (err) {
	case -EIO:
		tt_scsi_fail(task, TT_SK_MEDIUM_ERROR,
			     write ? TT_ASC_WRITE_ERROR : TT_ASC_UNRECOVERED_READ_ERROR);
		break;
	case -ENOSPC:
		tt_scsi_fail(task, TT_SK_DATA_PROTECT, TT_ASC_SPACE_ALLOC_FAILED_WRITE_PROTECT);
		break;
	case -EROFS:
		tt_scsi_fail(task, TT_SK_DATA_PROTECT, TT_ASC_WRITE_PROTECTED);
		break;
	case -EAGAIN:
	case -EBUSY:
		/* a resource shortage: the initiator retries */
		task->status = TT_SAM_BUSY;
		task->sense_len = 0;
		break;
	default:
		tt_scsi_fail(task, TT_SK_HARDWARE_ERROR, TT_ASC_INTERNAL_TARGET_FAILURE);
		break;
	}
}
