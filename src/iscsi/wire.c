/* SPDX-License-Identifier: BSD-3-Clause */
#include "iscsi/wire.h"

uint64_t tt_lun_from_wire(const uint8_t lun[8])
{
	uint8_t method = lun[0] >> 6;

	switch (method) {
	case 0: /* peripheral device addressing: bus 0 */
		if ((lun[0] & 0x3f) == 0)
			return lun[1];
		break;
	case 1: /* flat space addressing */
		return (uint64_t)(lun[0] & 0x3f) << 8 | lun[1];
	default:
		break;
	}
	/* other methods: keep the raw value so that it never matches a configured LUN */
	return UINT64_MAX - (tt_get_be64(lun) & 0xffffffffu);
}

void tt_lun_to_wire(uint64_t id, uint8_t lun[8])
{
	memset(lun, 0, 8);
	if (id < 256) {
		lun[1] = (uint8_t)id;
	} else {
		lun[0] = (uint8_t)(0x40 | ((id >> 8) & 0x3f));
		lun[1] = (uint8_t)id;
	}
}

const char *tt_opcode_name(uint8_t opcode)
{
	switch (opcode & TT_OP_MASK) {
	case TT_OP_NOP_OUT: return "NOP-Out";
	case TT_OP_SCSI_CMD: return "SCSI-Command";
	case TT_OP_TMF_REQ: return "TMF-Request";
	case TT_OP_LOGIN_REQ: return "Login-Request";
	case TT_OP_TEXT_REQ: return "Text-Request";
	case TT_OP_DATA_OUT: return "Data-Out";
	case TT_OP_LOGOUT_REQ: return "Logout-Request";
	case TT_OP_SNACK: return "SNACK";
	case TT_OP_NOP_IN: return "NOP-In";
	case TT_OP_SCSI_RSP: return "SCSI-Response";
	case TT_OP_TMF_RSP: return "TMF-Response";
	case TT_OP_LOGIN_RSP: return "Login-Response";
	case TT_OP_TEXT_RSP: return "Text-Response";
	case TT_OP_DATA_IN: return "Data-In";
	case TT_OP_LOGOUT_RSP: return "Logout-Response";
	case TT_OP_R2T: return "R2T";
	case TT_OP_ASYNC: return "Async-Message";
	case TT_OP_REJECT: return "Reject";
	default: return "unknown";
	}
}
