/* SPDX-License-Identifier: BSD-3-Clause */
/* NVMe/RDMA CM private data: parse and check the request, build accept and reject (rdma_cm.h). */
#include "nvmf/rdma_cm.h"

#include <string.h>

#include "nvmf/nvme.h"

const char *tt_nvrdma_cm_status_name(uint16_t sts)
{
	switch (sts) {
	case TT_NVRDMA_CM_OK: return "accepted";
	case TT_NVRDMA_CM_INVALID_LEN: return "invalid private data length";
	case TT_NVRDMA_CM_INVALID_RECFMT: return "invalid record format";
	case TT_NVRDMA_CM_INVALID_QID: return "invalid queue id";
	case TT_NVRDMA_CM_INVALID_HSQSIZE: return "invalid host send queue size";
	case TT_NVRDMA_CM_INVALID_HRQSIZE: return "invalid host receive queue size";
	case TT_NVRDMA_CM_NO_RESOURCES: return "no resources";
	case TT_NVRDMA_CM_INVALID_IRD: return "invalid IRD";
	case TT_NVRDMA_CM_INVALID_ORD: return "invalid ORD";
	default: return "?";
	}
}

uint16_t tt_nvrdma_cm_req_parse(const uint8_t *priv, size_t len, uint16_t max_qid,
				uint16_t max_depth, struct tt_nvrdma_cm_req *out)
{
	uint32_t entries;

	memset(out, 0, sizeof(*out));
	if (!priv || len < TT_NVRDMA_CM_REQ_LEN)
		return TT_NVRDMA_CM_INVALID_LEN;
	out->recfmt = tt_le16(priv + 0);
	out->qid = tt_le16(priv + 2);
	out->hrqsize = tt_le16(priv + 4);
	out->hsqsize = tt_le16(priv + 6);
	out->cntlid = tt_le16(priv + 8);
	if (out->recfmt != 0)
		return TT_NVRDMA_CM_INVALID_RECFMT;
	if (out->qid > max_qid)
		return TT_NVRDMA_CM_INVALID_QID;
	entries = (uint32_t)out->hsqsize + 1;
	if (out->hsqsize == 0 || entries > max_depth ||
	    (out->qid == 0 && entries > TT_NVRDMA_ADMIN_DEPTH))
		return TT_NVRDMA_CM_INVALID_HSQSIZE;
	if (out->hrqsize == 0 || out->hrqsize > max_depth)
		return TT_NVRDMA_CM_INVALID_HRQSIZE;
	return TT_NVRDMA_CM_OK;
}

void tt_nvrdma_cm_accept(uint8_t *out, uint16_t crqsize)
{
	memset(out, 0, TT_NVRDMA_CM_ACCEPT_LEN);
	tt_put_le16(out + 0, 0);
	tt_put_le16(out + 2, crqsize);
}

void tt_nvrdma_cm_reject(uint8_t *out, uint16_t sts)
{
	tt_put_le16(out + 0, 0);
	tt_put_le16(out + 2, sts);
}
