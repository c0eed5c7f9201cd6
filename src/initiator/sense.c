/* SPDX-License-Identifier: BSD-3-Clause */
/* Sense data (SPC-4 §4.5: fixed and descriptor formats) and what a status means for the
 * command: complete it, retry it, or re-read the ALUA states first. */
#include "initiator/initiator.h"

#include <errno.h>
#include <string.h>

int ti_sense_parse(const uint8_t *b, size_t len, struct ti_sense *s)
{
	memset(s, 0, sizeof(*s));
	if (len < 2)
		return -ENODATA;
	switch (b[0] & 0x7f) {
	case 0x70: case 0x71:   /* fixed */
		if (len < 3)
			return -EPROTO;
		s->key = b[2] & 0x0f;
		if (len >= 14) {
			s->asc = b[12];
			s->ascq = b[13];
		}
		break;
	case 0x72: case 0x73:   /* descriptor */
		if (len < 4)
			return -EPROTO;
		s->key = b[1] & 0x0f;
		s->asc = b[2];
		s->ascq = b[3];
		break;
	default:
		return -EPROTO;
	}
	s->valid = true;
	return 0;
}

#define SK_NOT_READY 0x2
#define SK_MEDIUM_ERROR 0x3
#define SK_HARDWARE_ERROR 0x4
#define SK_ILLEGAL_REQUEST 0x5
#define SK_UNIT_ATTENTION 0x6
#define SK_DATA_PROTECT 0x7
#define SK_ABORTED_COMMAND 0xb

enum ti_verdict ti_scsi_verdict(uint8_t status, const struct ti_sense *s, int *err)
{
	*err = 0;
	switch (status) {
	case 0x00: /* GOOD */
	case 0x10: /* INTERMEDIATE */
		return TI_V_DONE;
	case 0x08: /* BUSY */
	case 0x28: /* TASK SET FULL */
		return TI_V_RETRY_LATER;
	case 0x40: /* TASK ABORTED: it will not execute; run it again */
		return TI_V_RETRY;
	case 0x18: /* RESERVATION CONFLICT */
		*err = -EBADE;
		return TI_V_DONE;
	case 0x02: /* CHECK CONDITION */
		break;
	default:
		*err = -EIO;
		return TI_V_DONE;
	}
	if (!s || !s->valid) {
		*err = -EIO;
		return TI_V_DONE;
	}
	switch (s->key) {
	case SK_UNIT_ATTENTION:
		/* 2Ah/06h asymmetric access state changed, 2Ah/07h implicit transition failed,
		 * 3Fh/03h inquiry data changed, 3Fh/0Eh reported LUNs changed: re-read states */
		if ((s->asc == 0x2a && (s->ascq == 0x06 || s->ascq == 0x07)) ||
		    (s->asc == 0x3f && (s->ascq == 0x03 || s->ascq == 0x0e)))
			return TI_V_RETRY_ALUA;
		return TI_V_RETRY;
	case SK_NOT_READY:
		if (s->asc == 0x04 && s->ascq == 0x0a)   /* ALUA transitioning */
			return TI_V_RETRY_LATER;
		if (s->asc == 0x04 && (s->ascq == 0x0b || s->ascq == 0x0c)) /* standby/unavail */
			return TI_V_RETRY_ALUA;
		if (s->asc == 0x04 && (s->ascq == 0x01 || s->ascq == 0x07)) /* becoming ready */
			return TI_V_RETRY_LATER;
		*err = -EIO;
		return TI_V_DONE;
	case SK_ABORTED_COMMAND:
		return TI_V_RETRY;
	case SK_ILLEGAL_REQUEST:
		*err = -EINVAL;
		return TI_V_DONE;
	case SK_DATA_PROTECT:
		/* 27h/07h space allocation failed (thin provisioning) */
		*err = (s->asc == 0x27 && s->ascq == 0x07) ? -ENOSPC : -EROFS;
		return TI_V_DONE;
	case 0x0: /* NO SENSE with CHECK CONDITION */
	case SK_MEDIUM_ERROR:
	case SK_HARDWARE_ERROR:
	default:
		*err = -EIO;
		return TI_V_DONE;
	}
}
