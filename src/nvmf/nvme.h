/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NVMe wire format shared by the controller core and its transports: submission and completion
 * queue entries (64 and 16 bytes, little endian), opcodes, status codes, properties, and the
 * NVMe over Fabrics names. Byte arrays with accessors, no bitfields.
 */
#ifndef TT_NVMF_NVME_H
#define TT_NVMF_NVME_H

#include <stdint.h>
#include <string.h>

#define TT_NVME_SQE_SIZE 64
#define TT_NVME_CQE_SIZE 16

#define TT_NVMF_DISCOVERY_NQN "nqn.2014-08.org.nvmexpress.discovery"
#define TT_NVMF_NQN_MAX 223       /* bytes of an NQN, without the terminating NUL */
#define TT_NVMF_DEFAULT_NQN "nqn.2026-11.org.tether:default"

static inline uint16_t tt_le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t tt_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t tt_le64(const uint8_t *p) { return tt_le32(p) | (uint64_t)tt_le32(p + 4) << 32; }
static inline void tt_put_le16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void tt_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}
static inline void tt_put_le64(uint8_t *p, uint64_t v)
{
	tt_put_le32(p, (uint32_t)v);
	tt_put_le32(p + 4, (uint32_t)(v >> 32));
}
/* An ASCII field padded with spaces (serial, model, transport service id). */
static inline void tt_put_ascii(uint8_t *p, size_t len, const char *s)
{
	size_t n = strlen(s);

	memset(p, ' ', len);
	memcpy(p, s, n < len ? n : len);
}

/* Submission queue entry offsets */
#define TT_SQE_OPC 0
#define TT_SQE_FLAGS 1
#define TT_SQE_CID 2
#define TT_SQE_NSID 4
#define TT_SQE_FCTYPE 4            /* fabrics commands */
#define TT_SQE_SGL 24              /* SGL1: address 8, length 4, reserved 3, identifier 1 */
#define TT_SQE_CDW10 40
#define TT_SQE_CDW(n) (40 + 4 * ((n) - 10))

/* SGL descriptor identifiers (type << 4 | subtype) */
#define TT_SGL_DATA_BLOCK_OFFSET 0x01  /* in-capsule data at an offset */
#define TT_SGL_TRANSPORT_BLOCK 0x5a    /* data moved by the transport (NVMe/TCP: R2T, C2HData) */

/* Admin opcodes */
enum {
	TT_NVME_ADM_GET_LOG_PAGE = 0x02,
	TT_NVME_ADM_IDENTIFY = 0x06,
	TT_NVME_ADM_ABORT = 0x08,
	TT_NVME_ADM_SET_FEATURES = 0x09,
	TT_NVME_ADM_GET_FEATURES = 0x0a,
	TT_NVME_ADM_ASYNC_EVENT = 0x0c,
	TT_NVME_ADM_KEEP_ALIVE = 0x18,
	TT_NVME_FABRICS = 0x7f,
};

/* I/O opcodes (NVM command set) */
enum {
	TT_NVME_CMD_FLUSH = 0x00,
	TT_NVME_CMD_WRITE = 0x01,
	TT_NVME_CMD_READ = 0x02,
	TT_NVME_CMD_COMPARE = 0x05,
	TT_NVME_CMD_WRITE_ZEROES = 0x08,
	TT_NVME_CMD_DSM = 0x09,
	TT_NVME_CMD_RESV_REGISTER = 0x0d,
	TT_NVME_CMD_RESV_REPORT = 0x0e,
	TT_NVME_CMD_RESV_ACQUIRE = 0x11,
	TT_NVME_CMD_RESV_RELEASE = 0x15,
};

/* Fabrics command types */
enum {
	TT_NVMF_PROP_SET = 0x00,
	TT_NVMF_CONNECT = 0x01,
	TT_NVMF_PROP_GET = 0x04,
};

/* Properties (controller registers) */
enum {
	TT_NVME_REG_CAP = 0x00,
	TT_NVME_REG_VS = 0x08,
	TT_NVME_REG_CC = 0x14,
	TT_NVME_REG_CSTS = 0x1c,
};
#define TT_NVME_CC_EN 0x1u
#define TT_NVME_CC_SHN_SHIFT 14
#define TT_NVME_CC_SHN_MASK (0x3u << 14)
#define TT_NVME_CSTS_RDY 0x1u
#define TT_NVME_CSTS_CFS 0x2u
#define TT_NVME_CSTS_SHST_DONE (0x2u << 2)
#define TT_NVME_VS_1_3 0x00010300u

/* Log pages */
enum {
	TT_NVME_LOG_ERROR = 0x01,
	TT_NVME_LOG_SMART = 0x02,
	TT_NVME_LOG_FW_SLOT = 0x03,
	TT_NVME_LOG_CHANGED_NS = 0x04,
	TT_NVME_LOG_ANA = 0x0c,
	TT_NVME_LOG_DISCOVERY = 0x70,
	TT_NVME_LOG_RESV_NOTICE = 0x80,
};

/* Features */
enum {
	TT_NVME_FEAT_VOLATILE_WC = 0x06,
	TT_NVME_FEAT_NUM_QUEUES = 0x07,
	TT_NVME_FEAT_ASYNC_EVENT = 0x0b,
	TT_NVME_FEAT_KATO = 0x0f,
	TT_NVME_FEAT_RESV_MASK = 0x82,
	TT_NVME_FEAT_RESV_PERSIST = 0x83,
};

/* Status: type (SCT) << 8 | code (SC); TT_NVME_DNR added for "do not retry". */
#define TT_NVME_SCT_GENERIC 0x000
#define TT_NVME_SCT_CMD 0x100
#define TT_NVME_SCT_MEDIA 0x200
#define TT_NVME_SCT_PATH 0x300
#define TT_NVME_DNR 0x4000
enum {
	TT_NVME_SC_SUCCESS = 0x00,
	TT_NVME_SC_INVALID_OPCODE = 0x01,
	TT_NVME_SC_INVALID_FIELD = 0x02,
	TT_NVME_SC_DATA_XFER_ERROR = 0x04,
	TT_NVME_SC_INTERNAL = 0x06,
	TT_NVME_SC_ABORT_REQ = 0x07,
	TT_NVME_SC_INVALID_NS = 0x0b,
	TT_NVME_SC_CMD_SEQ_ERROR = 0x0c,
	TT_NVME_SC_SGL_INVALID_LAST = 0x0d,
	TT_NVME_SC_SGL_INVALID_DATA = 0x0f,
	TT_NVME_SC_SGL_INVALID_TYPE = 0x11,
	TT_NVME_SC_SGL_INVALID_OFFSET = 0x16,
	TT_NVME_SC_HOSTID_FORMAT = 0x18,  /* Host Identifier Inconsistent Format */
	TT_NVME_SC_LBA_RANGE = 0x80,
	TT_NVME_SC_NS_NOT_READY = 0x82,
	TT_NVME_SC_RESV_CONFLICT = 0x83,
	/* command specific (with TT_NVME_SCT_CMD) */
	TT_NVME_SC_INVALID_QID = 0x01,
	TT_NVME_SC_INVALID_QSIZE = 0x02,
	TT_NVME_SC_AER_LIMIT = 0x05,
	TT_NVME_SC_INVALID_LOG_PAGE = 0x09,
	TT_NVME_SC_FEATURE_NOT_SAVEABLE = 0x0d,
	TT_NVME_SC_FEATURE_NOT_CHANGEABLE = 0x0e,
	TT_NVME_SC_FEATURE_NOT_NS_SPECIFIC = 0x0f,
	TT_NVME_SC_CONNECT_CTRL_BUSY = 0x81,
	TT_NVME_SC_CONNECT_INVALID_PARAM = 0x82,
	TT_NVME_SC_CONNECT_INVALID_HOST = 0x84,
	/* media errors (with TT_NVME_SCT_MEDIA) */
	TT_NVME_SC_WRITE_FAULT = 0x80,
	TT_NVME_SC_READ_ERROR = 0x81,
	TT_NVME_SC_COMPARE_FAILED = 0x85,
	TT_NVME_SC_ACCESS_DENIED = 0x86,
	/* path related (with TT_NVME_SCT_PATH) */
	TT_NVME_SC_ANA_PERSISTENT_LOSS = 0x01,
	TT_NVME_SC_ANA_INACCESSIBLE = 0x02,
	TT_NVME_SC_ANA_TRANSITION = 0x03,
};

/* The 16-bit status field of a completion (phase tag 0). */
static inline uint16_t tt_nvme_status_field(uint16_t status)
{
	uint16_t sc = status & 0xff, sct = (status >> 8) & 0x7;

	return (uint16_t)(sc << 1 | sct << 9 | ((status & TT_NVME_DNR) ? 0x8000 : 0));
}

#endif
