/* SPDX-License-Identifier: BSD-3-Clause */
/* NVM command set: Read, Write, Flush, Write Zeroes, Dataset Management, Compare. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/bufpool.h"
#include "base/log.h"
#include "nvmf/internal.h"

#define DSM_MAX_RANGES 256

static uint16_t errno_status(int err, bool write)
{
	switch (err) {
	case 0:
		return TT_NVME_SC_SUCCESS;
	case -EIO:
	case -ENODATA:
		return TT_NVME_SCT_MEDIA | (write ? TT_NVME_SC_WRITE_FAULT : TT_NVME_SC_READ_ERROR);
	case -ENOSPC:
		return 0x81;                                      /* capacity exceeded */
	case -EROFS:
		return TT_NVME_SCT_CMD | 0x20 | TT_NVME_DNR;      /* namespace write protected */
	case -ERANGE:
		return TT_NVME_SC_LBA_RANGE | TT_NVME_DNR;
	default:
		return TT_NVME_SC_INTERNAL;
	}
}

/* Compare reads into a buffer of its own, in r->buf meanwhile; the host's data waits in
 * r->cmp_buf. Puts the host's buffer back in r->buf and returns the one read into. */
static uint8_t *cmp_restore(struct tt_nvmf_req *r)
{
	uint8_t *read = r->buf;

	r->buf = r->cmp_buf;
	r->cmp_buf = NULL;
	return read;
}

static void io_done(struct tt_bdev_io *io, int status)
{
	struct tt_nvmf_req *r = io->ctx;
	uint8_t opc = r->sqe[TT_SQE_OPC];

	if (opc == TT_NVME_CMD_COMPARE) {
		uint8_t *read = cmp_restore(r);
		bool same = status == 0 && !memcmp(read, r->buf, r->len);

		free(read);
		if (status == 0) {
			tt_nvmf_req_done(r, same ? 0 : TT_NVME_SCT_MEDIA | TT_NVME_SC_COMPARE_FAILED, 0);
			return;
		}
	}
	if (opc == TT_NVME_CMD_READ && status == 0)
		r->xfer_len = r->len;
	tt_nvmf_req_done(r, errno_status(status, opc != TT_NVME_CMD_READ &&
					 opc != TT_NVME_CMD_COMPARE), 0);
}

static void submit(struct tt_nvmf_req *r, struct tt_nvmf_ns *ns, enum tt_bdev_op op,
		   uint64_t offset, uint64_t len, void *buf, bool fua)
{
	int rc;

	memset(&r->io, 0, sizeof(r->io));
	r->io.op = op;
	r->io.offset = offset;
	r->io.len = len;
	r->io.fua = fua;
	r->io.done = io_done;
	r->io.ctx = r;
	if (buf) {
		/* one segment: the iovec lives in the request's area */
		r->iov.iov_base = buf;
		r->iov.iov_len = len;
		r->io.iov = &r->iov;
		r->io.iovcnt = 1;
	}
	rc = tt_bdev_submit(ns->bdev, &r->io);
	if (rc < 0) {
		if (r->cmp_buf)
			free(cmp_restore(r));
		tt_nvmf_req_done(r, errno_status(rc, op != TT_BDEV_READ), 0);
	}
}

/* Dataset Management: one deallocation after the other. */
static void dsm_next(struct tt_nvmf_req *r);

static void dsm_done(struct tt_bdev_io *io, int status)
{
	struct tt_nvmf_req *r = io->ctx;

	if (status < 0) {
		tt_nvmf_req_done(r, errno_status(status, true), 0);
		return;
	}
	dsm_next(r);
}

static void dsm_next(struct tt_nvmf_req *r)
{
	struct tt_nvmf_ns *ns = tt_nvmf_ns_find(r->ctrl->subsys, tt_le32(r->sqe + TT_SQE_NSID));
	unsigned nr = (unsigned)r->sqe[TT_SQE_CDW10] + 1;

	if (!ns) {
		tt_nvmf_req_done(r, TT_NVME_SC_INVALID_NS | TT_NVME_DNR, 0);
		return;
	}
	while (r->pending < nr) {
		const uint8_t *range = r->buf + 16 * r->pending++;
		uint64_t bs = ns->bdev->block_size, nlb = tt_le32(range + 4), slba = tt_le64(range + 8);
		int rc;

		if (!nlb)
			continue;
		memset(&r->io, 0, sizeof(r->io));
		r->io.op = TT_BDEV_UNMAP;
		r->io.offset = slba * bs;
		r->io.len = nlb * bs;
		r->io.done = dsm_done;
		r->io.ctx = r;
		rc = tt_bdev_submit(ns->bdev, &r->io);
		if (rc == 0)
			return;
		tt_nvmf_req_done(r, errno_status(rc, true), 0);
		return;
	}
	tt_nvmf_req_done(r, 0, 0);
}

/* I/O through a path whose ANA group is not accessible: the path related status (NVMe 2.0
 * 8.1.1.5), 0 when the state serves I/O. */
static uint16_t ana_status(enum tt_nvmf_ana_state st)
{
	switch (st) {
	case TT_NVMF_ANA_INACCESSIBLE:
		return TT_NVME_SCT_PATH | TT_NVME_SC_ANA_INACCESSIBLE;
	case TT_NVMF_ANA_PERSISTENT_LOSS:
		return TT_NVME_SCT_PATH | TT_NVME_SC_ANA_PERSISTENT_LOSS;
	case TT_NVMF_ANA_CHANGE:
		return TT_NVME_SCT_PATH | TT_NVME_SC_ANA_TRANSITION;
	default:
		return 0;
	}
}

void tt_nvmf_io_exec(struct tt_nvmf_req *r)
{
	struct tt_nvmf_ctrl *c = r->ctrl;
	struct tt_nvmf_subsys *s = c->subsys;
	uint8_t opc = r->sqe[TT_SQE_OPC];
	uint32_t nsid = tt_le32(r->sqe + TT_SQE_NSID);
	uint32_t cdw12 = tt_le32(r->sqe + TT_SQE_CDW(12));
	uint64_t slba = tt_le64(r->sqe + TT_SQE_CDW10), nlb = (cdw12 & 0xffff) + 1, bs, blocks;
	struct tt_nvmf_ns *ns = tt_nvmf_ns_find(s, nsid);
	bool fua = (cdw12 >> 30) & 1;
	uint16_t status;

	if (!ns) {
		tt_nvmf_req_done(r, TT_NVME_SC_INVALID_NS | TT_NVME_DNR, 0);
		return;
	}
	status = ana_status(tt_nvmf_ana_get(tt_nvmf_ctrl_ana_group(c)));
	if (status) {
		/* no DNR: the host retries on another path */
		if (c->port)
			c->port->ana_refused++;
		tt_nvmf_req_done(r, status, 0);
		return;
	}
	switch (opc) {
	case TT_NVME_CMD_RESV_REGISTER:
	case TT_NVME_CMD_RESV_REPORT:
	case TT_NVME_CMD_RESV_ACQUIRE:
	case TT_NVME_CMD_RESV_RELEASE:
		tt_nvmf_resv_exec(r, ns);
		return;
	case TT_NVME_CMD_READ:
	case TT_NVME_CMD_COMPARE:
	case TT_NVME_CMD_WRITE:
	case TT_NVME_CMD_WRITE_ZEROES:
	case TT_NVME_CMD_DSM:
	case TT_NVME_CMD_FLUSH:
		/* under a reservation: reads are Read and Compare, the rest writes */
		status = tt_nvmf_resv_io_check(r, ns, opc != TT_NVME_CMD_READ &&
					      opc != TT_NVME_CMD_COMPARE);
		if (status) {
			tt_nvmf_req_done(r, status, 0);
			return;
		}
		break;
	default:
		break;
	}
	bs = ns->bdev->block_size;
	blocks = ns->bdev->size / bs;
	switch (opc) {
	case TT_NVME_CMD_READ:
	case TT_NVME_CMD_WRITE:
	case TT_NVME_CMD_COMPARE:
	case TT_NVME_CMD_WRITE_ZEROES:
		if (slba >= blocks || nlb > blocks - slba) {
			tt_nvmf_req_done(r, TT_NVME_SC_LBA_RANGE | TT_NVME_DNR, 0);
			return;
		}
		if (opc != TT_NVME_CMD_WRITE_ZEROES && r->len != nlb * bs) {
			tt_nvmf_req_done(r, TT_NVME_SC_SGL_INVALID_DATA | TT_NVME_DNR, 0);
			return;
		}
		break;
	default:
		break;
	}
	switch (opc) {
	case TT_NVME_CMD_READ:
		s->read_cmds++;
		if (r->qp->port) /* the port the queue came in through */
			r->qp->port->read_cmds++;
		s->units_read += nlb * bs / 512;
		submit(r, ns, TT_BDEV_READ, slba * bs, nlb * bs, r->buf, false);
		return;
	case TT_NVME_CMD_WRITE:
		s->write_cmds++;
		if (r->qp->port)
			r->qp->port->write_cmds++;
		s->units_written += nlb * bs / 512;
		submit(r, ns, TT_BDEV_WRITE, slba * bs, nlb * bs, r->buf, fua || !c->wce);
		return;
	case TT_NVME_CMD_COMPARE:
		r->cmp_buf = malloc(r->len);
		if (!r->cmp_buf) {
			tt_nvmf_req_done(r, TT_NVME_SC_INTERNAL, 0);
			return;
		}
		/* read into cmp_buf, then compare with the host's data (io_done) */
		{
			uint8_t *host = r->buf;

			r->buf = r->cmp_buf;
			r->cmp_buf = host;
			submit(r, ns, TT_BDEV_READ, slba * bs, nlb * bs, r->buf, false);
		}
		return;
	case TT_NVME_CMD_FLUSH:
		submit(r, ns, TT_BDEV_FLUSH, 0, 0, NULL, false);
		return;
	case TT_NVME_CMD_WRITE_ZEROES: {
		bool deac = (cdw12 >> 25) & 1;

		s->write_cmds++;
		submit(r, ns, deac && ns->bdev->thin ? TT_BDEV_UNMAP : TT_BDEV_WRITE_ZEROES,
		       slba * bs, nlb * bs, NULL, false);
		return;
	}
	case TT_NVME_CMD_DSM: {
		unsigned nr = (unsigned)r->sqe[TT_SQE_CDW10] + 1;
		bool ad = tt_le32(r->sqe + TT_SQE_CDW(11)) & 0x4;

		if (r->dir != TT_NVMF_DIR_H2C || r->len < 16 * nr) {
			tt_nvmf_req_done(r, TT_NVME_SC_SGL_INVALID_DATA | TT_NVME_DNR, 0);
			return;
		}
		for (unsigned i = 0; i < nr; i++) {
			const uint8_t *range = r->buf + 16 * i;
			uint64_t rs = tt_le64(range + 8), rn = tt_le32(range + 4);

			if (rs > blocks || rn > blocks - rs) {
				tt_nvmf_req_done(r, TT_NVME_SC_LBA_RANGE | TT_NVME_DNR, 0);
				return;
			}
		}
		/* without deallocation, or on a backend that cannot: only advice */
		if (!ad || !ns->bdev->thin) {
			tt_nvmf_req_done(r, 0, 0);
			return;
		}
		r->pending = 0;
		dsm_next(r);
		return;
	}
	default:
		tt_nvmf_req_done(r, TT_NVME_SC_INVALID_OPCODE | TT_NVME_DNR, 0);
		return;
	}
}
