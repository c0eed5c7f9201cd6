/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SRP information units (SCSI RDMA Protocol, T10 SRP r16a, with the SRP-2 immediate data
 * additions the Linux initiator uses): parsing of what an initiator sends, encoding of what a
 * target sends. Byte offsets, never structs over the wire; every parser takes the received
 * length and checks each field against it before reading.
 *
 * Initiator to target: SRP_LOGIN_REQ (the 64-byte IU, or the 56-byte form carried in RDMA-CM
 * private data), SRP_I_LOGOUT, SRP_CMD, SRP_TSK_MGMT, SRP_CRED_RSP, SRP_AER_RSP.
 * Target to initiator: SRP_LOGIN_RSP, SRP_LOGIN_REJ, SRP_RSP, SRP_T_LOGOUT, SRP_CRED_REQ,
 * SRP_AER_REQ.
 *
 * A malformed SRP_CMD yields a fault saying what the target answers: a CHECK CONDITION in an
 * SRP_RSP (bad descriptor counts, lengths, offsets: the tag is known) or an SRP_T_LOGOUT with
 * its reason (an IU too short to carry a tag, an unsupported buffer format).
 */
#ifndef TT_SRP_IU_H
#define TT_SRP_IU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* IU types (byte 0) */
#define TT_SRP_LOGIN_REQ 0x00
#define TT_SRP_TSK_MGMT  0x01
#define TT_SRP_CMD       0x02
#define TT_SRP_I_LOGOUT  0x03
#define TT_SRP_LOGIN_RSP 0xc0
#define TT_SRP_RSP       0xc1
#define TT_SRP_LOGIN_REJ 0xc2
#define TT_SRP_T_LOGOUT  0x80
#define TT_SRP_CRED_REQ  0x81
#define TT_SRP_AER_REQ   0x82
#define TT_SRP_CRED_RSP  0x41
#define TT_SRP_AER_RSP   0x42

/* IU lengths */
#define TT_SRP_LOGIN_REQ_LEN      64
#define TT_SRP_LOGIN_REQ_RDMA_LEN 56 /* the RDMA-CM private data form */
#define TT_SRP_LOGIN_RSP_LEN      52
#define TT_SRP_LOGIN_REJ_LEN      32
#define TT_SRP_I_LOGOUT_LEN       16
#define TT_SRP_T_LOGOUT_LEN       16
#define TT_SRP_TSK_MGMT_LEN       48
#define TT_SRP_CMD_LEN            48 /* with a 16-byte CDB, before the descriptors */
#define TT_SRP_RSP_LEN            36 /* before response data and sense data */
#define TT_SRP_CRED_REQ_LEN       16
#define TT_SRP_CRED_RSP_LEN       16
#define TT_SRP_AER_REQ_LEN        36 /* before sense data */
#define TT_SRP_AER_RSP_LEN        16
#define TT_SRP_DIRECT_DESC_LEN    16
#define TT_SRP_INDIRECT_HDR_LEN   20 /* table descriptor and total length */
#define TT_SRP_IMM_DESC_LEN       4

/* supported data buffer formats (login REQUIRED / SUPPORTED BUFFER FORMATS) */
#define TT_SRP_BUF_DIRECT   0x0002
#define TT_SRP_BUF_INDIRECT 0x0004

/* descriptor format of one direction in SRP_CMD byte 5 */
#define TT_SRP_DESC_NONE     0
#define TT_SRP_DESC_DIRECT   1
#define TT_SRP_DESC_INDIRECT 2
#define TT_SRP_DESC_IMM      3

/* login request flags */
#define TT_SRP_MULTICHAN_MASK   0x03
#define TT_SRP_MULTICHAN_SINGLE 0
#define TT_SRP_MULTICHAN_MULTI  1
#define TT_SRP_IMMED_REQUESTED  0x80
/* login response flags */
#define TT_SRP_RSP_MULTICHAN_NONE       0
#define TT_SRP_RSP_MULTICHAN_TERMINATED 1
#define TT_SRP_RSP_MULTICHAN_MAINTAINED 2
#define TT_SRP_RSP_IMMED_SUPP           0x80

/* login reject reasons */
#define TT_SRP_REJ_UNABLE_ESTABLISH    0x00010000u
#define TT_SRP_REJ_INSUFFICIENT_RES    0x00010001u
#define TT_SRP_REJ_IT_IU_TOO_LARGE     0x00010002u
#define TT_SRP_REJ_UNABLE_ASSOCIATE    0x00010003u
#define TT_SRP_REJ_UNSUPPORTED_FMT     0x00010004u
#define TT_SRP_REJ_MULTICHAN_UNSUPP    0x00010005u
#define TT_SRP_REJ_CHANNEL_LIMIT       0x00010006u

/* target logout reasons */
#define TT_SRP_TLO_NO_REASON       0
#define TT_SRP_TLO_INACTIVE        1
#define TT_SRP_TLO_INVALID_IU_TYPE 2
#define TT_SRP_TLO_UNEXPECTED_RSP  3
#define TT_SRP_TLO_MULTICHAN       4
#define TT_SRP_TLO_BAD_OUT_FMT     6
#define TT_SRP_TLO_BAD_IN_FMT      7
#define TT_SRP_TLO_INVALID_IU_LEN  8

/* task management functions */
#define TT_SRP_TSK_ABORT_TASK     0x01
#define TT_SRP_TSK_ABORT_TASK_SET 0x02
#define TT_SRP_TSK_CLEAR_TASK_SET 0x04
#define TT_SRP_TSK_LUN_RESET      0x08
#define TT_SRP_TSK_CLEAR_ACA      0x40

/* SRP_RSP response data codes (task management) */
#define TT_SRP_TMR_COMPLETE      0x00
#define TT_SRP_TMR_INVALID_FIELD 0x02
#define TT_SRP_TMR_NOT_SUPPORTED 0x04
#define TT_SRP_TMR_FAILED        0x05

/* SRP_RSP flags */
#define TT_SRP_RSP_RSPVALID 0x01
#define TT_SRP_RSP_SNSVALID 0x02
#define TT_SRP_RSP_DOOVER   0x04
#define TT_SRP_RSP_DOUNDER  0x08
#define TT_SRP_RSP_DIOVER   0x10
#define TT_SRP_RSP_DIUNDER  0x20

/* IU type of a received IU; -EBADMSG when empty. */
int tt_srp_iu_type(const void *iu, size_t len);
const char *tt_srp_iu_name(int type);

/* --- login ------------------------------------------------------------------------------------ */

struct tt_srp_login_req {
	uint64_t tag;            /* as received: echoed, never interpreted */
	uint32_t req_it_iu_len;
	uint16_t req_buf_fmt;
	uint8_t req_flags;
	uint16_t imm_data_offset;
	uint8_t initiator_port_id[16];
	uint8_t target_port_id[16];
};

/* The 64-byte SRP_LOGIN_REQ IU; 0 or -EBADMSG (short, wrong IU type). */
int tt_srp_login_req_parse(const void *iu, size_t len, struct tt_srp_login_req *req);
/* The 56-byte form RDMA-CM carries in its connect private data (tag first, IU type at byte 11);
 * longer private data (zero padding) is accepted. 0 or -EBADMSG. */
int tt_srp_login_req_rdma_parse(const void *pd, size_t len, struct tt_srp_login_req *req);

/* What the target offers. */
struct tt_srp_login_limits {
	uint32_t max_it_iu_len;  /* largest IU it receives */
	uint32_t max_ti_iu_len;  /* largest IU it sends */
	uint32_t req_lim;        /* credits granted at login */
	uint16_t buf_fmt;        /* TT_SRP_BUF_* it supports */
	bool immed;              /* immediate data supported */
	bool multichan;          /* more than one channel per I_T nexus */
	const uint8_t *port_id;  /* 16 bytes: the target port identifier a login must name (or NULL) */
};

struct tt_srp_login_rsp {
	uint64_t tag;
	uint32_t req_lim_delta;
	uint32_t max_it_iu_len;
	uint32_t max_ti_iu_len;
	uint16_t buf_fmt;
	uint8_t rsp_flags;
	uint16_t imm_data_offset; /* negotiated; 0 without immediate data (not on the wire) */
};

/* Decides a login: 0 with @rsp filled (the caller sets TT_SRP_RSP_MULTICHAN_* for channels it
 * terminated or kept), else a TT_SRP_REJ_* reason (> 0). */
uint32_t tt_srp_login_negotiate(const struct tt_srp_login_req *req,
				const struct tt_srp_login_limits *lim, struct tt_srp_login_rsp *rsp);

/* Encoders return the IU length or -ENOSPC. */
int tt_srp_login_rsp_encode(const struct tt_srp_login_rsp *rsp, void *buf, size_t cap);
int tt_srp_login_rej_encode(uint64_t tag, uint32_t reason, uint16_t buf_fmt, void *buf,
			    size_t cap);

/* --- logout ------------------------------------------------------------------------------------ */

int tt_srp_i_logout_parse(const void *iu, size_t len, uint64_t *tag);
int tt_srp_t_logout_encode(uint64_t tag, uint32_t reason, uint8_t sol_not, void *buf, size_t cap);

/* --- SRP_CMD ----------------------------------------------------------------------------------- */

/* One memory descriptor of the initiator: where the data of a direction lives. */
struct tt_srp_desc {
	uint64_t va;
	uint32_t key;
	uint32_t len;
};

struct tt_srp_data {
	uint8_t fmt;            /* TT_SRP_DESC_* */
	uint32_t count;         /* descriptors (1 for direct) */
	uint64_t total;         /* bytes of the direction */
	const uint8_t *descs;   /* count * 16 bytes inside the IU */
	const uint8_t *imm;     /* immediate data inside the IU (TT_SRP_DESC_IMM) */
};

/* Descriptor @i of @d (i < d->count). */
void tt_srp_data_desc(const struct tt_srp_data *d, uint32_t i, struct tt_srp_desc *out);

struct tt_srp_cmd {
	uint64_t tag;
	uint8_t sol_not;
	uint8_t task_attr;     /* SAM task attribute (low 3 bits) */
	uint8_t lun[8];
	const uint8_t *cdb;    /* inside the IU */
	uint32_t cdb_len;      /* 16 + additional CDB length */
	struct tt_srp_data out; /* data-out: initiator to target (writes) */
	struct tt_srp_data in;  /* data-in: target to initiator (reads) */
};

/* What the target accepts in an SRP_CMD (from the channel's login). */
struct tt_srp_cmd_limits {
	uint16_t buf_fmt;          /* TT_SRP_BUF_* */
	uint16_t imm_data_offset;  /* 0: no immediate data */
	uint32_t max_desc;         /* descriptors per direction */
	uint64_t max_xfer;         /* bytes per direction */
};

/* Why an SRP_CMD was refused: a T_LOGOUT with @logout_reason when @logout, else a CHECK
 * CONDITION with sense key / ASC / ASCQ (the tag was parsed). @what names the field. */
struct tt_srp_fault {
	bool logout;
	uint32_t logout_reason;
	uint8_t sense_key;
	uint8_t asc, ascq;
	const char *what;
};

/* 0; -EPROTO when the channel is to be logged out (f->logout); -EINVAL when the command is to be
 * answered with CHECK CONDITION (cmd->tag valid). Never reads beyond @len. */
int tt_srp_cmd_parse(const void *iu, size_t len, const struct tt_srp_cmd_limits *lim,
		     struct tt_srp_cmd *cmd, struct tt_srp_fault *f);

/* --- SRP_TSK_MGMT ------------------------------------------------------------------------------ */

struct tt_srp_tsk_mgmt {
	uint64_t tag;
	uint8_t sol_not;
	uint8_t lun[8];
	uint8_t func;         /* TT_SRP_TSK_*; others answered TT_SRP_TMR_NOT_SUPPORTED */
	uint64_t task_tag;    /* ABORT TASK: the tag of the SRP_CMD */
};

/* 0 or -EBADMSG. */
int tt_srp_tsk_mgmt_parse(const void *iu, size_t len, struct tt_srp_tsk_mgmt *t);
bool tt_srp_tsk_func_known(uint8_t func);

/* --- SRP_RSP ----------------------------------------------------------------------------------- */

struct tt_srp_rsp {
	uint64_t tag;
	uint32_t req_lim_delta;
	uint8_t sol_not;
	uint8_t status;          /* SCSI status */
	int64_t out_resid;       /* > 0 underflow, < 0 overflow */
	int64_t in_resid;
	const uint8_t *sense;
	uint32_t sense_len;
	bool has_rsp_code;       /* task management: 4 bytes of response data */
	uint8_t rsp_code;        /* TT_SRP_TMR_* */
};

/* The IU length or -ENOSPC; sense data is cut to what fits in @cap (at least the fixed part
 * must fit). */
int tt_srp_rsp_encode(const struct tt_srp_rsp *r, void *buf, size_t cap);
/* Fixed-format sense (18 bytes) for a fault: fills @sense, returns its length. */
uint32_t tt_srp_fault_sense(const struct tt_srp_fault *f, uint8_t sense[18]);

/* --- credits and asynchronous events ----------------------------------------------------------- */

int tt_srp_cred_req_encode(uint64_t tag, uint32_t req_lim_delta, uint8_t sol_not, void *buf,
			   size_t cap);
int tt_srp_cred_rsp_parse(const void *iu, size_t len, uint64_t *tag);
int tt_srp_aer_req_encode(uint64_t tag, uint32_t req_lim_delta, const uint8_t lun[8],
			  const uint8_t *sense, uint32_t sense_len, void *buf, size_t cap);
int tt_srp_aer_rsp_parse(const void *iu, size_t len, uint64_t *tag);

#endif
