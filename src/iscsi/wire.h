/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * iSCSI wire format (RFC 7143 §11): the 48-byte Basic Header Segment of every PDU type as byte
 * structs, with network-order helpers. No bitfields; every struct is checked for its size.
 */
#ifndef TT_ISCSI_WIRE_H
#define TT_ISCSI_WIRE_H

#include <stdint.h>
#include <string.h>

#define TT_BHS_LEN 48
#define TT_DIGEST_LEN 4
#define TT_ISCSI_PORT 3260

/* opcodes: initiator to target */
#define TT_OP_NOP_OUT    0x00
#define TT_OP_SCSI_CMD   0x01
#define TT_OP_TMF_REQ    0x02
#define TT_OP_LOGIN_REQ  0x03
#define TT_OP_TEXT_REQ   0x04
#define TT_OP_DATA_OUT   0x05
#define TT_OP_LOGOUT_REQ 0x06
#define TT_OP_SNACK      0x10
/* target to initiator */
#define TT_OP_NOP_IN     0x20
#define TT_OP_SCSI_RSP   0x21
#define TT_OP_TMF_RSP    0x22
#define TT_OP_LOGIN_RSP  0x23
#define TT_OP_TEXT_RSP   0x24
#define TT_OP_DATA_IN    0x25
#define TT_OP_LOGOUT_RSP 0x26
#define TT_OP_R2T        0x31
#define TT_OP_ASYNC      0x32
#define TT_OP_REJECT     0x3f

#define TT_OP_MASK      0x3f
#define TT_OP_IMMEDIATE 0x40

#define TT_FLAG_FINAL   0x80
#define TT_FLAG_CONT    0x40 /* text and login: C bit */

/* SCSI command flags */
#define TT_CMD_READ     0x40
#define TT_CMD_WRITE    0x20
#define TT_CMD_ATTR_MASK 0x07

/* SCSI response / Data-In flags */
#define TT_RSP_BIDI_OVERFLOW  0x10
#define TT_RSP_BIDI_UNDERFLOW 0x08
#define TT_RSP_OVERFLOW       0x04
#define TT_RSP_UNDERFLOW      0x02
#define TT_DATAIN_ACK         0x40
#define TT_DATAIN_STATUS      0x01

/* login flags */
#define TT_LOGIN_TRANSIT 0x80
#define TT_LOGIN_CONT    0x40
#define TT_LOGIN_CSG(f)  (((f) >> 2) & 3)
#define TT_LOGIN_NSG(f)  ((f) & 3)

/* login status classes and details */
#define TT_LOGIN_SUCCESS          0x0000
#define TT_LOGIN_REDIRECT_TEMP    0x0101
#define TT_LOGIN_INIT_ERR         0x0200
#define TT_LOGIN_AUTH_FAILED      0x0201
#define TT_LOGIN_FORBIDDEN        0x0202
#define TT_LOGIN_NOT_FOUND        0x0203
#define TT_LOGIN_REMOVED          0x0204
#define TT_LOGIN_UNSUPPORTED_VER  0x0205
#define TT_LOGIN_TOO_MANY_CONN    0x0206
#define TT_LOGIN_MISSING_PARAM    0x0207
#define TT_LOGIN_NO_SESSION_SPAN  0x0208
#define TT_LOGIN_NO_SESSION_TYPE  0x0209
#define TT_LOGIN_NO_SESSION       0x020a
#define TT_LOGIN_INVALID_REQUEST  0x020b
#define TT_LOGIN_TARGET_ERROR     0x0300
#define TT_LOGIN_SERVICE_UNAVAIL  0x0301
#define TT_LOGIN_NO_RESOURCES     0x0302

/* logout reasons and responses */
#define TT_LOGOUT_CLOSE_SESSION  0
#define TT_LOGOUT_CLOSE_CONN     1
#define TT_LOGOUT_REMOVE_CONN    2
#define TT_LOGOUT_RSP_OK         0
#define TT_LOGOUT_RSP_NO_CID     1
#define TT_LOGOUT_RSP_NO_RECOVERY 2
#define TT_LOGOUT_RSP_FAILED     3

/* task management functions and responses */
#define TT_TMF_ABORT_TASK        1
#define TT_TMF_ABORT_TASK_SET    2
#define TT_TMF_CLEAR_ACA         3
#define TT_TMF_CLEAR_TASK_SET    4
#define TT_TMF_LU_RESET          5
#define TT_TMF_TARGET_WARM_RESET 6
#define TT_TMF_TARGET_COLD_RESET 7
#define TT_TMF_TASK_REASSIGN     8
#define TT_TMF_QUERY_TASK        9
#define TT_TMF_QUERY_TASK_SET    10
#define TT_TMF_QUERY_ASYNC_EVENT 11
#define TT_TMF_RSP_COMPLETE      0
#define TT_TMF_RSP_NO_TASK       1
#define TT_TMF_RSP_NO_LUN        2
#define TT_TMF_RSP_TASK_ALLEGIANT 3
#define TT_TMF_RSP_NO_REASSIGN   4
#define TT_TMF_RSP_NOT_SUPPORTED 5
#define TT_TMF_RSP_AUTH_FAILED   6
#define TT_TMF_RSP_SUCCEEDED     9 /* FUNCTION SUCCEEDED (query functions) */
#define TT_TMF_RSP_REJECTED      255

/* reject reasons */
#define TT_REJECT_DIGEST_ERROR     0x02
#define TT_REJECT_SNACK_REJECT     0x03
#define TT_REJECT_PROTOCOL_ERROR   0x04
#define TT_REJECT_CMD_NOT_SUPPORTED 0x05
#define TT_REJECT_IMM_CMD_REJECT   0x06
#define TT_REJECT_TASK_IN_PROGRESS 0x07
#define TT_REJECT_INVALID_DATA_ACK 0x08
#define TT_REJECT_INVALID_PDU_FIELD 0x09
#define TT_REJECT_LONG_OP_REJECT   0x0a
#define TT_REJECT_NEGOTIATION_RESET 0x0b
#define TT_REJECT_WAITING_LOGOUT   0x0c

/* async events */
#define TT_ASYNC_SCSI_EVENT      0
#define TT_ASYNC_LOGOUT_REQUEST  1
#define TT_ASYNC_DROP_CONN       2
#define TT_ASYNC_DROP_SESSION    3
#define TT_ASYNC_NEGOTIATE       4

#define TT_RSVD_TAG 0xffffffffu

/* ---- byte order helpers ---- */
static inline uint16_t tt_get_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t tt_get_be24(const uint8_t *p) { return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2]; }
static inline uint32_t tt_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t tt_get_be64(const uint8_t *p) { return (uint64_t)tt_get_be32(p) << 32 | tt_get_be32(p + 4); }
static inline void tt_put_be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void tt_put_be24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 16); p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)v;
}
static inline void tt_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static inline void tt_put_be64(uint8_t *p, uint64_t v) { tt_put_be32(p, (uint32_t)(v >> 32)); tt_put_be32(p + 4, (uint32_t)v); }

/* ---- BHS layouts ---- */

/* fields common to every PDU */
struct tt_bhs {
	uint8_t opcode;
	uint8_t flags;
	uint8_t spec1[2];
	uint8_t ahs_len;     /* in 4-byte words */
	uint8_t dlength[3];
	uint8_t lun[8];
	uint8_t itt[4];      /* opaque: copied back as received */
	uint8_t spec2[28];
};

struct tt_bhs_scsi_cmd {
	uint8_t opcode, flags, rsvd1[2], ahs_len, dlength[3], lun[8], itt[4];
	uint8_t edtl[4], cmdsn[4], expstatsn[4], cdb[16];
};

struct tt_bhs_scsi_rsp {
	uint8_t opcode, flags, response, status, ahs_len, dlength[3], rsvd1[8], itt[4];
	uint8_t snack_tag[4], statsn[4], expcmdsn[4], maxcmdsn[4], expdatasn[4];
	uint8_t bidi_residual[4], residual[4];
};

struct tt_bhs_data_in {
	uint8_t opcode, flags, rsvd1, status, ahs_len, dlength[3], lun[8], itt[4];
	uint8_t ttt[4], statsn[4], expcmdsn[4], maxcmdsn[4], datasn[4], offset[4], residual[4];
};

struct tt_bhs_data_out {
	uint8_t opcode, flags, rsvd1[2], ahs_len, dlength[3], lun[8], itt[4];
	uint8_t ttt[4], rsvd2[4], expstatsn[4], rsvd3[4], datasn[4], offset[4], rsvd4[4];
};

struct tt_bhs_r2t {
	uint8_t opcode, flags, rsvd1[2], ahs_len, dlength[3], lun[8], itt[4];
	uint8_t ttt[4], statsn[4], expcmdsn[4], maxcmdsn[4], r2tsn[4], offset[4], desired_len[4];
};

struct tt_bhs_nop_out {
	uint8_t opcode, flags, rsvd1[2], ahs_len, dlength[3], lun[8], itt[4];
	uint8_t ttt[4], cmdsn[4], expstatsn[4], rsvd2[16];
};

struct tt_bhs_nop_in {
	uint8_t opcode, flags, rsvd1[2], ahs_len, dlength[3], lun[8], itt[4];
	uint8_t ttt[4], statsn[4], expcmdsn[4], maxcmdsn[4], rsvd2[12];
};

struct tt_bhs_login_req {
	uint8_t opcode, flags, version_max, version_min, ahs_len, dlength[3];
	uint8_t isid[6], tsih[2], itt[4], cid[2], rsvd1[2], cmdsn[4], expstatsn[4], rsvd2[16];
};

struct tt_bhs_login_rsp {
	uint8_t opcode, flags, version_max, version_active, ahs_len, dlength[3];
	uint8_t isid[6], tsih[2], itt[4], rsvd1[4], statsn[4], expcmdsn[4], maxcmdsn[4];
	uint8_t status_class, status_detail, rsvd2[10];
};

struct tt_bhs_text_req {
	uint8_t opcode, flags, rsvd1[2], ahs_len, dlength[3], lun[8], itt[4];
	uint8_t ttt[4], cmdsn[4], expstatsn[4], rsvd2[16];
};

struct tt_bhs_text_rsp {
	uint8_t opcode, flags, rsvd1[2], ahs_len, dlength[3], lun[8], itt[4];
	uint8_t ttt[4], statsn[4], expcmdsn[4], maxcmdsn[4], rsvd2[12];
};

struct tt_bhs_logout_req {
	uint8_t opcode, flags, rsvd1[2], ahs_len, dlength[3], rsvd2[8], itt[4];
	uint8_t cid[2], rsvd3[2], cmdsn[4], expstatsn[4], rsvd4[16];
};

struct tt_bhs_logout_rsp {
	uint8_t opcode, flags, response, rsvd1, ahs_len, dlength[3], rsvd2[8], itt[4];
	uint8_t rsvd3[4], statsn[4], expcmdsn[4], maxcmdsn[4], rsvd4[4];
	uint8_t time2wait[2], time2retain[2], rsvd5[4];
};

struct tt_bhs_tmf_req {
	uint8_t opcode, flags, rsvd1[2], ahs_len, dlength[3], lun[8], itt[4];
	uint8_t rtt[4], cmdsn[4], expstatsn[4], refcmdsn[4], expdatasn[4], rsvd2[8];
};

struct tt_bhs_tmf_rsp {
	uint8_t opcode, flags, response, rsvd1, ahs_len, dlength[3], rsvd2[8], itt[4];
	uint8_t rsvd3[4], statsn[4], expcmdsn[4], maxcmdsn[4], rsvd4[12];
};

struct tt_bhs_reject {
	uint8_t opcode, flags, reason, rsvd1, ahs_len, dlength[3], rsvd2[8], itt[4];
	uint8_t rsvd3[4], statsn[4], expcmdsn[4], maxcmdsn[4], datasn[4], rsvd4[8];
};

struct tt_bhs_async {
	uint8_t opcode, flags, rsvd1[2], ahs_len, dlength[3], lun[8], itt[4];
	uint8_t rsvd2[4], statsn[4], expcmdsn[4], maxcmdsn[4];
	uint8_t event, vcode, param1[2], param2[2], param3[2], rsvd3[4];
};

struct tt_bhs_snack {
	uint8_t opcode, flags, rsvd1[2], ahs_len, dlength[3], lun[8], itt[4];
	uint8_t ttt[4], rsvd2[4], expstatsn[4], rsvd3[8], begrun[4], runlength[4];
};

_Static_assert(sizeof(struct tt_bhs) == TT_BHS_LEN, "bhs");
_Static_assert(sizeof(struct tt_bhs_scsi_cmd) == TT_BHS_LEN, "scsi cmd");
_Static_assert(sizeof(struct tt_bhs_scsi_rsp) == TT_BHS_LEN, "scsi rsp");
_Static_assert(sizeof(struct tt_bhs_data_in) == TT_BHS_LEN, "data in");
_Static_assert(sizeof(struct tt_bhs_data_out) == TT_BHS_LEN, "data out");
_Static_assert(sizeof(struct tt_bhs_r2t) == TT_BHS_LEN, "r2t");
_Static_assert(sizeof(struct tt_bhs_nop_out) == TT_BHS_LEN, "nop out");
_Static_assert(sizeof(struct tt_bhs_nop_in) == TT_BHS_LEN, "nop in");
_Static_assert(sizeof(struct tt_bhs_login_req) == TT_BHS_LEN, "login req");
_Static_assert(sizeof(struct tt_bhs_login_rsp) == TT_BHS_LEN, "login rsp");
_Static_assert(sizeof(struct tt_bhs_text_req) == TT_BHS_LEN, "text req");
_Static_assert(sizeof(struct tt_bhs_text_rsp) == TT_BHS_LEN, "text rsp");
_Static_assert(sizeof(struct tt_bhs_logout_req) == TT_BHS_LEN, "logout req");
_Static_assert(sizeof(struct tt_bhs_logout_rsp) == TT_BHS_LEN, "logout rsp");
_Static_assert(sizeof(struct tt_bhs_tmf_req) == TT_BHS_LEN, "tmf req");
_Static_assert(sizeof(struct tt_bhs_tmf_rsp) == TT_BHS_LEN, "tmf rsp");
_Static_assert(sizeof(struct tt_bhs_reject) == TT_BHS_LEN, "reject");
_Static_assert(sizeof(struct tt_bhs_async) == TT_BHS_LEN, "async");
_Static_assert(sizeof(struct tt_bhs_snack) == TT_BHS_LEN, "snack");

static inline uint8_t tt_bhs_opcode(const struct tt_bhs *b) { return b->opcode & TT_OP_MASK; }
static inline int tt_bhs_immediate(const struct tt_bhs *b) { return !!(b->opcode & TT_OP_IMMEDIATE); }
static inline uint32_t tt_bhs_dlength(const struct tt_bhs *b) { return tt_get_be24(b->dlength); }
static inline void tt_bhs_set_dlength(struct tt_bhs *b, uint32_t len) { tt_put_be24(b->dlength, len); }
static inline uint32_t tt_pad4(uint32_t len) { return (4 - (len & 3)) & 3; }

/* Serial number arithmetic (RFC 1982, 32 bits) for CmdSN and StatSN. */
static inline int tt_sn_lt(uint32_t a, uint32_t b) { return a != b && (int32_t)(a - b) < 0; }
static inline int tt_sn_le(uint32_t a, uint32_t b) { return a == b || (int32_t)(a - b) < 0; }
static inline int tt_sn_gt(uint32_t a, uint32_t b) { return tt_sn_lt(b, a); }

/* LUN field: SAM-5 single-level addressing (peripheral for < 256, flat space for < 16384). */
uint64_t tt_lun_from_wire(const uint8_t lun[8]);
void tt_lun_to_wire(uint64_t id, uint8_t lun[8]);

const char *tt_opcode_name(uint8_t opcode);

#endif
