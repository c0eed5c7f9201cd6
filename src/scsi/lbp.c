/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Logical block provisioning (SBC-3 4.7): UNMAP and WRITE SAME (10)/(16).
 * WRITE SAME of 0 blocks (VPD B0h WSNZ 0) writes from the LBA to the last block, and is refused
 * (INVALID FIELD IN CDB) when that is more than MAXIMUM WRITE SAME LENGTH blocks.
 * UNMAP runs its descriptors one backend I/O after the other. WRITE SAME of a zero block becomes
 * one WRITE ZEROES; with the UNMAP bit (thin LUNs only) the blocks are deallocated whatever the
 * pattern and read back as zeroes (LBPRZ 1), as libiscsi's UnmapUntilEnd expects. Another
 * pattern is one WRITE SAME I/O on a backend that offers it (bdev write_same: rbd), else it is
 * written in I/Os of TT_SBC_WRITE_SAME_IOV blocks, each an iovec array that points every block
 * at the one Data-Out block.
 */
#include "scsi/core.h"
#include "scsi/cdb.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define UNMAP_HEADER 8
#define UNMAP_DESCRIPTOR 16

/* --- UNMAP -------------------------------------------------------------------------------------- */

static enum tt_exec_rc unmap_next(struct tt_scsi_task *task);

static void unmap_done(struct tt_bdev_io *io, int status)
{
	struct tt_scsi_task *task = tt_sbc_io_returned(io);

	if (status) {
		tt_scsi_fail_errno(task, status, true);
		tt_task_finish(task);
		return;
	}
	if (unmap_next(task) == TT_EXEC_DONE)
		tt_task_finish(task);
}

/* Submits the next descriptor that has blocks; TT_EXEC_DONE when none is left. */
static enum tt_exec_rc unmap_next(struct tt_scsi_task *task)
{
	uint32_t bs = task->lun->bdev->block_size;

	while (task->remaining) {
		const uint8_t *d = task->buf + UNMAP_HEADER + UNMAP_DESCRIPTOR * task->cursor;
		uint64_t lba = tt_get_be64(d);
		uint32_t n = tt_get_be32(d + 8);

		task->cursor++;
		task->remaining--;
		if (!n)
			continue;
		task->io.op = TT_BDEV_UNMAP;
		task->io.offset = lba * bs;
		task->io.len = (uint64_t)n * bs;
		task->io.iov = NULL;
		task->io.iovcnt = 0;
		task->io.fua = false;
		task->io.done = unmap_done;
		task->io.ctx = task;
		return tt_sbc_submit(task, true);
	}
	return TT_EXEC_DONE;
}

enum tt_exec_rc tt_sbc_unmap(struct tt_scsi_task *task)
{
	const uint8_t *cdb = task->cdb;
	uint32_t plen = tt_get_be16(cdb + 7), have, bdlen, count;
	uint64_t total = 0;

	task->cmd_len = plen;
	if (!tt_sbc_lbp(task->lun)) {
		tt_scsi_fail(task, TT_SK_ILLEGAL_REQUEST, TT_ASC_INVALID_OPCODE);
		return TT_EXEC_DONE;
	}
	if (cdb[1] & 0x01) { /* ANCHOR: no anchored state */
		tt_scsi_invalid_cdb(task, 1, 0);
		return TT_EXEC_DONE;
	}
	if (!plen)
		return TT_EXEC_DONE;
	have = plen < tt_task_out_len(task) ? plen : tt_task_out_len(task);
	if (have < UNMAP_HEADER) {
		tt_scsi_fail(task, TT_SK_ILLEGAL_REQUEST, TT_ASC_PARAMETER_LIST_LENGTH_ERROR);
		return TT_EXEC_DONE;
	}
	bdlen = tt_get_be16(task->buf + 2);
	if (bdlen > have - UNMAP_HEADER) {
		tt_scsi_fail(task, TT_SK_ILLEGAL_REQUEST, TT_ASC_PARAMETER_LIST_LENGTH_ERROR);
		return TT_EXEC_DONE;
	}
	count = bdlen / UNMAP_DESCRIPTOR;
	if (count > TT_SBC_MAX_UNMAP_DESCRIPTORS) {
		tt_scsi_invalid_param(task, 2, -1);
		return TT_EXEC_DONE;
	}
	/* check every descriptor before changing anything */
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *d = task->buf + UNMAP_HEADER + UNMAP_DESCRIPTOR * i;
		uint32_t n = tt_get_be32(d + 8);

		if (!tt_sbc_lba_range_ok(task, tt_get_be64(d), n))
			return TT_EXEC_DONE;
		total += n;
		if (total > TT_SBC_MAX_UNMAP_LBA_COUNT) {
			tt_scsi_invalid_param(task, (uint16_t)(UNMAP_HEADER + UNMAP_DESCRIPTOR * i + 8), -1);
			return TT_EXEC_DONE;
		}
	}
	task->cursor = 0;
	task->remaining = count;
	return unmap_next(task);
}

/* --- WRITE SAME --------------------------------------------------------------------------------- */

static enum tt_exec_rc write_same_next(struct tt_scsi_task *task);

static void write_same_done(struct tt_bdev_io *io, int status)
{
	struct tt_scsi_task *task = tt_sbc_io_returned(io);

	if (status) {
		tt_scsi_fail_errno(task, status, true);
		tt_task_finish(task);
		return;
	}
	if (write_same_next(task) == TT_EXEC_DONE)
		tt_task_finish(task);
}

/* The next chunk of a pattern; TT_EXEC_DONE when all blocks are written. */
static enum tt_exec_rc write_same_next(struct tt_scsi_task *task)
{
	uint32_t bs = task->lun->bdev->block_size;
	uint64_t n = task->remaining < TT_SBC_WRITE_SAME_IOV ? task->remaining : TT_SBC_WRITE_SAME_IOV;

	if (!n)
		return TT_EXEC_DONE;
	task->io.op = TT_BDEV_WRITE;
	task->io.offset = task->cursor * bs;
	task->io.len = n * bs;
	task->io.iov = task->bounce;
	task->io.iovcnt = (int)n;
	task->cursor += n;
	task->remaining -= n;
	return tt_sbc_submit(task, true);
}

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

enum tt_exec_rc tt_sbc_write_same(struct tt_scsi_task *task)
{
	const uint8_t *cdb = task->cdb;
	struct tt_lun *lun = task->lun;
	uint32_t bs = lun->bdev->block_size;
	bool sixteen = cdb[0] == TT_OP_WRITE_SAME_16;
	uint64_t lba = sixteen ? tt_get_be64(cdb + 2) : tt_get_be32(cdb + 2);
	uint32_t nblocks = sixteen ? tt_get_be32(cdb + 10) : tt_get_be16(cdb + 7);
	bool unmap = cdb[1] & 0x08;
	bool ndob = sixteen && (cdb[1] & 0x01); /* no Data-Out buffer: zeroes */
	struct iovec *iov;
	uint64_t n;

	task->cmd_len = ndob ? 0 : bs;
	if (cdb[1] & 0xe0) { /* WRPROTECT: no protection information */
		tt_scsi_invalid_cdb(task, 1, 7);
		return TT_EXEC_DONE;
	}
	if (cdb[1] & 0x10) { /* ANCHOR */
		tt_scsi_invalid_cdb(task, 1, 4);
		return TT_EXEC_DONE;
	}
	if (!sixteen && (cdb[1] & 0x01)) { /* obsolete RELADR */
		tt_scsi_invalid_cdb(task, 1, 0);
		return TT_EXEC_DONE;
	}
	if (unmap && !tt_sbc_lbp(lun)) {
		tt_scsi_invalid_cdb(task, 1, 3);
		return TT_EXEC_DONE;
	}
	if (!nblocks) { /* WSNZ 0: from the LBA to the last block (SBC-4 5.50) */
		uint64_t total = tt_lun_nblocks(lun);

		if (lba >= total) {
			tt_scsi_fail(task, TT_SK_ILLEGAL_REQUEST, TT_ASC_LBA_OUT_OF_RANGE);
			return TT_EXEC_DONE;
		}
		if (total - lba > TT_SBC_MAX_WRITE_SAME_LEN) {
			tt_scsi_invalid_cdb(task, sixteen ? 10 : 7, -1);
			return TT_EXEC_DONE;
		}
		nblocks = (uint32_t)(total - lba);
	}
	if (nblocks > TT_SBC_MAX_WRITE_SAME_LEN) {
		tt_scsi_invalid_cdb(task, sixteen ? 10 : 7, -1);
		return TT_EXEC_DONE;
	}
	if (!tt_sbc_lba_range_ok(task, lba, nblocks))
		return TT_EXEC_DONE;
	if (ndob) {
		task->xfer = TT_SCSI_XFER_NONE;
	} else if (tt_task_out_len(task) != bs) {
		tt_scsi_fail(task, TT_SK_ILLEGAL_REQUEST, TT_ASC_INVALID_FIELD_IN_CMD_IU);
		return TT_EXEC_DONE;
	}

	task->io.fua = false;
	task->io.done = write_same_done;
	task->io.ctx = task;
	task->remaining = 0;
	if (ndob || unmap || all_zero(task->buf, bs)) {
		task->io.op = unmap ? TT_BDEV_UNMAP : TT_BDEV_WRITE_ZEROES;
		task->io.offset = lba * bs;
		task->io.len = (uint64_t)nblocks * bs;
		task->io.iov = NULL;
		task->io.iovcnt = 0;
		return tt_sbc_submit(task, true);
	}
	if (lun->bdev->write_same) {
		task->iov.v[0].iov_base = task->buf;
		task->iov.v[0].iov_len = bs;
		task->io.op = TT_BDEV_WRITE_SAME;
		task->io.offset = lba * bs;
		task->io.len = (uint64_t)nblocks * bs;
		task->io.iov = task->iov.v;
		task->io.iovcnt = 1;
		return tt_sbc_submit(task, true);
	}
	n = nblocks < TT_SBC_WRITE_SAME_IOV ? nblocks : TT_SBC_WRITE_SAME_IOV;
	iov = calloc((size_t)n, sizeof(*iov));
	if (!iov) {
		tt_scsi_fail_errno(task, -ENOMEM, true);
		return TT_EXEC_DONE;
	}
	for (uint64_t i = 0; i < n; i++) {
		iov[i].iov_base = task->buf;
		iov[i].iov_len = bs;
	}
	task->bounce = iov;
	task->cursor = lba;
	task->remaining = nblocks;
	return write_same_next(task);
}
