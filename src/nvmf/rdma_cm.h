/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NVMe/RDMA connection private data (NVMe over Fabrics 1.1 7.3, RDMA transport binding): the
 * host's RDMA_CM request names the queue and its sizes, the controller accepts with the size of
 * its receive queue or rejects with a status. Byte layouts with accessors, no RDMA needed: unit
 * tested (tests/unit/nvmf/rdma_cm_test.c).
 *
 *   CM Request (32 bytes):  RECFMT (2, 0), QID (2), HRQSIZE (2, host receive queue entries),
 *                           HSQSIZE (2, host send queue entries, 0's based), CNTLID (2), reserved
 *   CM Accept (32 bytes):   RECFMT (2, 0), CRQSIZE (2, controller receive queue entries), reserved
 *   CM Reject (4 bytes):    RECFMT (2, 0), STS (2)
 */
#ifndef TT_NVMF_RDMA_CM_H
#define TT_NVMF_RDMA_CM_H

#include <stddef.h>
#include <stdint.h>

#define TT_NVRDMA_CM_REQ_LEN 32
#define TT_NVRDMA_CM_ACCEPT_LEN 32
#define TT_NVRDMA_CM_REJECT_LEN 4
#define TT_NVRDMA_ADMIN_DEPTH 32      /* entries of an admin queue at most (NVMe/RDMA hosts use 32) */

/* CM Reject status (STS) */
enum tt_nvrdma_cm_status {
	TT_NVRDMA_CM_OK = 0,
	TT_NVRDMA_CM_INVALID_LEN = 0x01,      /* private data shorter than a CM Request */
	TT_NVRDMA_CM_INVALID_RECFMT = 0x02,
	TT_NVRDMA_CM_INVALID_QID = 0x03,
	TT_NVRDMA_CM_INVALID_HSQSIZE = 0x04,
	TT_NVRDMA_CM_INVALID_HRQSIZE = 0x05,
	TT_NVRDMA_CM_NO_RESOURCES = 0x06,
	TT_NVRDMA_CM_INVALID_IRD = 0x07,
	TT_NVRDMA_CM_INVALID_ORD = 0x08,
};
const char *tt_nvrdma_cm_status_name(uint16_t sts);

struct tt_nvrdma_cm_req {
	uint16_t recfmt, qid;
	uint16_t hrqsize;             /* entries of the host's receive queue */
	uint16_t hsqsize;             /* entries of the host's send queue, 0's based (its SQSIZE) */
	uint16_t cntlid;
};

/*
 * Reads and checks a CM Request of @len bytes (RDMA_CM may deliver more than the host sent: the
 * rest of the CM message). Limits: a QID up to @max_qid; a queue of 2..@max_depth entries
 * (HSQSIZE + 1), an admin queue (QID 0) of at most TT_NVRDMA_ADMIN_DEPTH; HRQSIZE 1..@max_depth.
 * Returns TT_NVRDMA_CM_OK or the reject status.
 */
uint16_t tt_nvrdma_cm_req_parse(const uint8_t *priv, size_t len, uint16_t max_qid,
				uint16_t max_depth, struct tt_nvrdma_cm_req *out);
/* The CM Accept with CRQSIZE @crqsize into @out (TT_NVRDMA_CM_ACCEPT_LEN bytes). */
void tt_nvrdma_cm_accept(uint8_t *out, uint16_t crqsize);
/* The CM Reject with @sts into @out (TT_NVRDMA_CM_REJECT_LEN bytes). */
void tt_nvrdma_cm_reject(uint8_t *out, uint16_t sts);

#endif
