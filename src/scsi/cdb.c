/* SPDX-License-Identifier: BSD-3-Clause */
#include "scsi/cdb.h"

#include <errno.h>

unsigned tt_cdb_length(uint8_t opcode)
{
	switch (opcode >> 5) {
	case 0:
		return 6;
	case 1:
	case 2:
		return 10;
	case 4:
		return 16;
	case 5:
		return 12;
	default:
		return 0; /* 3: reserved / variable length (7Fh), 6 and 7: vendor specific */
	}
}

int tt_cdb_decode_rw(const uint8_t *cdb, struct tt_cdb_rw *out)
{
	*out = (struct tt_cdb_rw){ 0 };
	switch (cdb[0]) {
	case TT_OP_READ_6:
	case TT_OP_WRITE_6:
		out->lba = tt_get_be24(cdb + 1) & 0x1fffff;
		out->nblocks = cdb[4] ? cdb[4] : 256;
		return 0;
	case TT_OP_READ_10:
	case TT_OP_WRITE_10:
	case TT_OP_VERIFY_10:
		out->lba = tt_get_be32(cdb + 2);
		out->nblocks = tt_get_be16(cdb + 7);
		out->group = cdb[6] & 0x3f;
		break;
	case TT_OP_READ_12:
	case TT_OP_WRITE_12:
	case TT_OP_VERIFY_12:
		out->lba = tt_get_be32(cdb + 2);
		out->nblocks = tt_get_be32(cdb + 6);
		out->group = cdb[10] & 0x3f;
		break;
	case TT_OP_READ_16:
	case TT_OP_WRITE_16:
	case TT_OP_VERIFY_16:
		out->lba = tt_get_be64(cdb + 2);
		out->nblocks = tt_get_be32(cdb + 10);
		out->group = cdb[14] & 0x3f;
		break;
	default:
		return -EINVAL;
	}
	out->protect = cdb[1] >> 5;
	out->dpo = cdb[1] & 0x10;
	switch (cdb[0]) {
	case TT_OP_VERIFY_10:
	case TT_OP_VERIFY_12:
	case TT_OP_VERIFY_16:
		out->bytchk = (cdb[1] >> 1) & 0x3;
		break;
	default:
		out->fua = cdb[1] & 0x08;
		break;
	}
	return 0;
}
