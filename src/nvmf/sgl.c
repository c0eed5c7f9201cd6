/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The data descriptor of a command capsule (NVMe 1.4 4.4, NVMe over Fabrics 1.1 2.3): which SGL
 * descriptor types a transport takes comes from its caps (struct tt_nvmf_xport_caps), so that the
 * same checks serve NVMe/TCP (in-capsule data, Transport SGL Data Block 5Ah) and NVMe/RDMA
 * (in-capsule data at an offset, Keyed SGL Data Block 40h/4Fh). Pure: unit tested.
 */
#include "nvmf/nvmf.h"

#define SGL_TYPE_DATA_BLOCK 0x0
#define SGL_TYPE_KEYED 0x4
#define SGL_TYPE_TRANSPORT 0x5
#define SGL_SUB_ADDRESS 0x0
#define SGL_SUB_OFFSET 0x1
#define SGL_SUB_INVALIDATE 0xf

uint16_t tt_nvmf_req_layout(struct tt_nvmf_req *r, bool *in_capsule)
{
	const struct tt_nvmf_xport_caps *caps = r->qp->ops->caps;
	const uint8_t *sgl = r->sqe + TT_SQE_SGL;
	uint8_t opc = r->sqe[TT_SQE_OPC], xfer, type = sgl[15] >> 4, sub = sgl[15] & 0xf;
	uint32_t len;

	*in_capsule = false;
	r->dir = TT_NVMF_DIR_NONE;
	r->len = 0;
	r->xfer_len = 0;
	memset(&r->sgl, 0, sizeof(r->sgl));
	/* data direction: bits 1:0 of the opcode (of the fabrics command type for 7Fh) */
	xfer = opc == TT_NVME_FABRICS ? (r->sqe[TT_SQE_FCTYPE] & 0x3) : (opc & 0x3);
	if ((r->sqe[TT_SQE_FLAGS] >> 6) != 0x1 && xfer)
		return TT_NVME_SC_INVALID_FIELD | TT_NVME_DNR; /* PSDT: SGLs only */
	/* a keyed descriptor has a 24-bit length (bytes 8-10) and its key in bytes 11-14 */
	len = type == SGL_TYPE_KEYED ? (uint32_t)sgl[8] | (uint32_t)sgl[9] << 8 |
		(uint32_t)sgl[10] << 16 : tt_le32(sgl + 8);
	if (!xfer || !len)
		return 0;
	if (xfer == 0x3)
		return TT_NVME_SC_INVALID_FIELD | TT_NVME_DNR; /* bidirectional */
	if (len > TT_NVMF_MAX_XFER)
		return TT_NVME_SC_SGL_INVALID_DATA | TT_NVME_DNR; /* beyond MDTS */
	switch (type) {
	case SGL_TYPE_DATA_BLOCK:
		if (sub != SGL_SUB_OFFSET || !caps->icd_max)
			return TT_NVME_SC_SGL_INVALID_TYPE | TT_NVME_DNR;
		/* in-capsule data goes from host to controller only */
		if (xfer != 0x1)
			return TT_NVME_SC_SGL_INVALID_TYPE | TT_NVME_DNR;
		if (len > caps->icd_max)
			return TT_NVME_SC_SGL_INVALID_DATA | TT_NVME_DNR;
		r->sgl.addr = tt_le64(sgl);
		if (r->sgl.addr && !caps->icd_offset)
			return TT_NVME_SC_SGL_INVALID_OFFSET | TT_NVME_DNR;
		if (r->sgl.addr > caps->icd_max - len)
			return TT_NVME_SC_SGL_INVALID_OFFSET | TT_NVME_DNR;
		r->sgl.kind = TT_NVMF_SGL_IN_CAPSULE;
		*in_capsule = true;
		break;
	case SGL_TYPE_KEYED:
		if (!caps->keyed || (sub != SGL_SUB_ADDRESS && sub != SGL_SUB_INVALIDATE))
			return TT_NVME_SC_SGL_INVALID_TYPE | TT_NVME_DNR;
		r->sgl.kind = TT_NVMF_SGL_KEYED;
		r->sgl.addr = tt_le64(sgl);
		r->sgl.key = tt_le32(sgl + 11);
		r->sgl.invalidate = sub == SGL_SUB_INVALIDATE;
		break;
	case SGL_TYPE_TRANSPORT:
		if (!caps->transport_sgl || sgl[15] != caps->transport_sgl)
			return TT_NVME_SC_SGL_INVALID_TYPE | TT_NVME_DNR;
		r->sgl.kind = TT_NVMF_SGL_TRANSPORT;
		break;
	default:
		/* segments, bit buckets, vendor types: a command has one data block here (MSDBD 1) */
		return TT_NVME_SC_SGL_INVALID_TYPE | TT_NVME_DNR;
	}
	r->dir = xfer == 0x1 ? TT_NVMF_DIR_H2C : TT_NVMF_DIR_C2H;
	r->len = len;
	return 0;
}
