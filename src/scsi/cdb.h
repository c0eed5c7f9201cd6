/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CDB and parameter data fields: big-endian accessors, operation codes, and the decoding of the
 * block commands' LBA / transfer length / flags.
 */
#ifndef TT_SCSI_CDB_H
#define TT_SCSI_CDB_H

#include <stdbool.h>
#include <stdint.h>

/* --- big-endian fields ---------------------------------------------------------------------- */
static inline uint16_t tt_get_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t tt_get_be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}
static inline uint32_t tt_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t tt_get_be64(const uint8_t *p)
{
	return (uint64_t)tt_get_be32(p) << 32 | tt_get_be32(p + 4);
}
static inline void tt_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline void tt_put_be24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
}
static inline void tt_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}
static inline void tt_put_be64(uint8_t *p, uint64_t v)
{
	tt_put_be32(p, (uint32_t)(v >> 32));
	tt_put_be32(p + 4, (uint32_t)v);
}

/* --- operation codes (SPC-4, SBC-3) ---------------------------------------------------------- */
enum tt_scsi_opcode {
	TT_OP_TEST_UNIT_READY = 0x00,
	TT_OP_REQUEST_SENSE = 0x03,
	TT_OP_READ_6 = 0x08,
	TT_OP_WRITE_6 = 0x0a,
	TT_OP_INQUIRY = 0x12,
	TT_OP_MODE_SELECT_6 = 0x15,
	TT_OP_MODE_SENSE_6 = 0x1a,
	TT_OP_START_STOP_UNIT = 0x1b,
	TT_OP_PREVENT_ALLOW_MEDIUM_REMOVAL = 0x1e,
	TT_OP_READ_CAPACITY_10 = 0x25,
	TT_OP_READ_10 = 0x28,
	TT_OP_WRITE_10 = 0x2a,
	TT_OP_WRITE_VERIFY_10 = 0x2e,
	TT_OP_VERIFY_10 = 0x2f,
	TT_OP_PRE_FETCH_10 = 0x34,
	TT_OP_SYNCHRONIZE_CACHE_10 = 0x35,
	TT_OP_READ_DEFECT_DATA_10 = 0x37,
	TT_OP_WRITE_SAME_10 = 0x41,
	TT_OP_UNMAP = 0x42,
	TT_OP_SANITIZE = 0x48,
	TT_OP_MODE_SELECT_10 = 0x55,
	TT_OP_MODE_SENSE_10 = 0x5a,
	TT_OP_PERSISTENT_RESERVE_IN = 0x5e,
	TT_OP_PERSISTENT_RESERVE_OUT = 0x5f,
	TT_OP_EXTENDED_COPY = 0x83,
	TT_OP_RECEIVE_COPY_RESULTS = 0x84,
	TT_OP_READ_16 = 0x88,
	TT_OP_COMPARE_AND_WRITE = 0x89,
	TT_OP_WRITE_16 = 0x8a,
	TT_OP_ORWRITE_16 = 0x8b,
	TT_OP_WRITE_VERIFY_16 = 0x8e,
	TT_OP_VERIFY_16 = 0x8f,
	TT_OP_PRE_FETCH_16 = 0x90,
	TT_OP_SYNCHRONIZE_CACHE_16 = 0x91,
	TT_OP_WRITE_SAME_16 = 0x93,
	TT_OP_WRITE_ATOMIC_16 = 0x9c,
	TT_OP_SERVICE_ACTION_IN_16 = 0x9e,
	TT_OP_REPORT_LUNS = 0xa0,
	TT_OP_MAINTENANCE_IN = 0xa3,
	TT_OP_MAINTENANCE_OUT = 0xa4,
	TT_OP_READ_12 = 0xa8,
	TT_OP_WRITE_12 = 0xaa,
	TT_OP_WRITE_VERIFY_12 = 0xae,
	TT_OP_VERIFY_12 = 0xaf,
	TT_OP_READ_DEFECT_DATA_12 = 0xb7,
};

/* SERVICE ACTION IN (16) */
#define TT_SAI_READ_CAPACITY_16 0x10
#define TT_SAI_GET_LBA_STATUS   0x12
/* MAINTENANCE IN */
#define TT_MI_REPORT_TARGET_PORT_GROUPS 0x0a
#define TT_MI_REPORT_SUPPORTED_OPCODES  0x0c

/* CDB length from the group code of the operation code (SPC-4 4.2.5.1); 0 when vendor/reserved. */
unsigned tt_cdb_length(uint8_t opcode);

/* --- block commands --------------------------------------------------------------------------- */
struct tt_cdb_rw {
	uint64_t lba;
	uint32_t nblocks;   /* transfer length in blocks (READ/WRITE 6: 0 already turned into 256) */
	uint8_t protect;    /* RDPROTECT / WRPROTECT / VRPROTECT */
	bool dpo, fua;
	uint8_t bytchk;     /* VERIFY only */
	uint8_t group;      /* group number */
};

/*
 * Decodes READ/WRITE 6/10/12/16 and VERIFY 10/12/16. Returns 0, or -EINVAL for another operation
 * code. Reserved bits are not checked here.
 */
int tt_cdb_decode_rw(const uint8_t *cdb, struct tt_cdb_rw *out);

#endif
