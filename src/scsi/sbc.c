/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Block commands (SBC-3): READ/WRITE 6/10/12/16, VERIFY 10/12/16, SYNCHRONIZE CACHE 10/16,
 * READ CAPACITY 10/16, START STOP UNIT.
 *
 * READ and WRITE go to the backend as one I/O straight from/into task->buf. Residuals: a READ
 * transfers min(CDB length, edtl) bytes (a partial last block is read through a small bounce
 * buffer); a WRITE whose edtl covers fewer bytes than the CDB asks writes the blocks edtl covers
 * when edtl is a multiple of the block size, and is refused with INVALID FIELD IN COMMAND
 * INFORMATION UNIT otherwise (no partial block is ever written).
 */
#include "scsi/core.h"
#include "scsi/cdb.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Byte holding the TRANSFER LENGTH field, for field pointers. */
static uint16_t xfer_len_byte(uint8_t opcode)
{
	switch (tt_cdb_length(opcode)) {
	case 6:
		return 4;
	case 10:
		return 7;
	case 12:
		return 6;
	default:
		return 10;
	}
}

bool tt_sbc_lba_range_ok(struct tt_scsi_task *task, uint64_t lba, uint64_t nblocks)
{
	uint64_t capacity = tt_lun_nblocks(task->lun);

	if (lba > capacity || nblocks > capacity - lba) {
		tt_scsi_fail(task, TT_SK_ILLEGAL_REQUEST, TT_ASC_LBA_OUT_OF_RANGE);
		return false;
	}
	return true;
}

enum tt_exec_rc tt_sbc_submit(struct tt_scsi_task *task, bool write)
{
	int rc;

	tt_task_set_state(task, TT_TASK_BACKEND);
	task->pending = 1;
	rc = tt_bdev_submit(task->lun->bdev, &task->io);
	if (rc < 0) {
		task->pending = 0;
		tt_task_set_state(task, TT_TASK_ACTIVE);
		tt_scsi_fail_errno(task, rc, write);
		return TT_EXEC_DONE;
	}
	return TT_EXEC_PENDING;
}

/* Back from the backend: the task is active in the core again. */
struct tt_scsi_task *tt_sbc_io_returned(struct tt_bdev_io *io)
{
	struct tt_scsi_task *task = io->ctx;

	task->pending = 0;
	tt_task_set_state(task, TT_TASK_ACTIVE);
	return task;
}

/* --- READ / WRITE ----------------------------------------------------------------------------- */

static void rw_done(struct tt_bdev_io *io, int status)
{
	struct tt_scsi_task *task = tt_sbc_io_returned(io);
	bool write = io->op == TT_BDEV_WRITE;

	if (status)
		tt_scsi_fail_errno(task, status, write);
	else if (!write)
		task->data_len = (uint32_t)task->iov.v[0].iov_len;
	tt_task_finish(task);
}

enum tt_exec_rc tt_sbc_read_write(struct tt_scsi_task *task)
{
	struct tt_lun *lun = task->lun;
	uint32_t bs = lun->bdev->block_size;
	bool write = task->xfer == TT_SCSI_XFER_OUT;
	struct tt_cdb_rw rw;
	uint64_t bytes;
	uint32_t limit;

	tt_cdb_decode_rw(task->cdb, &rw);
	bytes = (uint64_t)rw.nblocks * bs;
	task->cmd_len = bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)bytes;
	if (rw.protect) { /* no protection information */
		tt_scsi_invalid_cdb(task, 1, 7);
		return TT_EXEC_DONE;
	}
	if (!tt_sbc_lba_range_ok(task, rw.lba, rw.nblocks))
		return TT_EXEC_DONE;
	if (rw.nblocks > lun->max_xfer_blocks) {
		tt_scsi_invalid_cdb(task, xfer_len_byte(task->cdb[0]), -1);
		return TT_EXEC_DONE;
	}
	limit = write ? tt_task_out_len(task) : tt_task_in_room(task);
	if (bytes > limit) {
		if (write && limit % bs) {
			tt_scsi_fail(task, TT_SK_ILLEGAL_REQUEST, TT_ASC_INVALID_FIELD_IN_CMD_IU);
			return TT_EXEC_DONE;
		}
		bytes = limit;
	}
	if (!bytes)
		return TT_EXEC_DONE;

	task->io.op = write ? TT_BDEV_WRITE : TT_BDEV_READ;
	task->io.offset = rw.lba * bs;
	task->io.len = bytes;
	task->io.iov = task->iov.v;
	task->io.iovcnt = 1;
	task->io.fua = write && (rw.fua || (lun->bdev->volatile_cache && !tt_lun_wce(lun)));
	task->io.done = rw_done;
	task->io.ctx = task;
	task->iov.v[0].iov_base = task->buf;
	task->iov.v[0].iov_len = (size_t)bytes;
	if (bytes % bs) {
		/* READ with edtl ending inside a block: the rest of that block goes nowhere */
		size_t tail = bs - bytes % bs;

		task->bounce = malloc(tail);
		if (!task->bounce) {
			tt_scsi_fail_errno(task, -ENOMEM, write);
			return TT_EXEC_DONE;
		}
		task->iov.v[1].iov_base = task->bounce;
		task->iov.v[1].iov_len = tail;
		task->io.iovcnt = 2;
		task->io.len += tail;
	}
	return tt_sbc_submit(task, write);
}

/* --- VERIFY ------------------------------------------------------------------------------------ */

static void verify_done(struct tt_bdev_io *io, int status)
{
	struct tt_scsi_task *task = tt_sbc_io_returned(io);
	uint32_t bs = task->lun->bdev->block_size;
	const uint8_t *medium = task->bounce;
	size_t len = (size_t)io->len;

	if (status) {
		tt_scsi_fail_errno(task, status, false);
		tt_task_finish(task);
		return;
	}
	if (task->bytchk == 1)
		len = task->xfer_bytes; /* the Data-Out bytes received */
	for (size_t i = 0; i < len; i++) {
		uint8_t want = task->bytchk == 1 ? task->buf[i] : task->buf[i % bs];
		if (medium[i] != want) {
			tt_scsi_set_sense_info(task, TT_SK_MISCOMPARE,
					       TT_ASC_MISCOMPARE_DURING_VERIFY >> 8,
					       TT_ASC_MISCOMPARE_DURING_VERIFY & 0xff, i);
			break;
		}
	}
	tt_task_finish(task);
}

enum tt_exec_rc tt_sbc_verify(struct tt_scsi_task *task)
{
	struct tt_lun *lun = task->lun;
	uint32_t bs = lun->bdev->block_size;
	struct tt_cdb_rw rw;
	uint64_t have, want = 0, read_len;

	tt_cdb_decode_rw(task->cdb, &rw);
	if (rw.protect) {
		tt_scsi_invalid_cdb(task, 1, 7);
		return TT_EXEC_DONE;
	}
	if (rw.bytchk == 2) {
		tt_scsi_invalid_cdb(task, 1, 2);
		return TT_EXEC_DONE;
	}
	if (rw.bytchk == 0) {
		task->xfer = TT_SCSI_XFER_NONE;
	} else {
		want = rw.bytchk == 1 ? (uint64_t)rw.nblocks * bs : (rw.nblocks ? bs : 0);
		task->cmd_len = want > UINT32_MAX ? UINT32_MAX : (uint32_t)want;
	}
	if (!tt_sbc_lba_range_ok(task, rw.lba, rw.nblocks))
		return TT_EXEC_DONE;
	if (rw.bytchk == 0 || rw.nblocks == 0)
		return TT_EXEC_DONE; /* the range is all there is to check */
	if (rw.nblocks > lun->max_xfer_blocks) {
		tt_scsi_invalid_cdb(task, xfer_len_byte(task->cdb[0]), -1);
		return TT_EXEC_DONE;
	}
	have = tt_task_out_len(task) < task->cmd_len ? tt_task_out_len(task) : task->cmd_len;
	if (rw.bytchk == 3 && have < bs) {
		tt_scsi_fail(task, TT_SK_ILLEGAL_REQUEST, TT_ASC_INVALID_FIELD_IN_CMD_IU);
		return TT_EXEC_DONE;
	}
	if (!have)
		return TT_EXEC_DONE;
	/* BYTCHK 01b: compare what was sent; 11b: every block against the one sent */
	read_len = rw.bytchk == 1 ? (have + bs - 1) / bs * bs : (uint64_t)rw.nblocks * bs;
	task->bounce = malloc((size_t)read_len);
	if (!task->bounce) {
		tt_scsi_fail_errno(task, -ENOMEM, false);
		return TT_EXEC_DONE;
	}
	task->bytchk = rw.bytchk;
	task->iov.v[0].iov_base = task->bounce;
	task->iov.v[0].iov_len = (size_t)read_len;
	task->xfer_bytes = (uint32_t)have;
	task->io.op = TT_BDEV_READ;
	task->io.offset = rw.lba * bs;
	task->io.len = read_len;
	task->io.iov = task->iov.v;
	task->io.iovcnt = 1;
	task->io.fua = false;
	task->io.done = verify_done;
	task->io.ctx = task;
	return tt_sbc_submit(task, false);
}

/* --- SYNCHRONIZE CACHE, START STOP UNIT -------------------------------------------------------- */

static void flush_done(struct tt_bdev_io *io, int status)
{
	struct tt_scsi_task *task = tt_sbc_io_returned(io);

	if (status)
		tt_scsi_fail_errno(task, status, true);
	tt_task_finish(task);
}

static enum tt_exec_rc flush(struct tt_scsi_task *task)
{
	task->io.op = TT_BDEV_FLUSH;
	task->io.offset = 0;
	task->io.len = 0;
	task->io.iov = NULL;
	task->io.iovcnt = 0;
	task->io.fua = false;
	task->io.done = flush_done;
	task->io.ctx = task;
	return tt_sbc_submit(task, true);
}

enum tt_exec_rc tt_sbc_synchronize_cache(struct tt_scsi_task *task)
{
	const uint8_t *cdb = task->cdb;
	bool sixteen = cdb[0] == TT_OP_SYNCHRONIZE_CACHE_16;
	uint64_t lba = sixteen ? tt_get_be64(cdb + 2) : tt_get_be32(cdb + 2);
	uint32_t nblocks = sixteen ? tt_get_be32(cdb + 10) : tt_get_be16(cdb + 7);

	/* IMMED may be honoured by answering after the flush: the cache is then synchronized */
	if (!tt_sbc_lba_range_ok(task, lba, nblocks))
		return TT_EXEC_DONE;
	return flush(task);
}

enum tt_exec_rc tt_sbc_start_stop_unit(struct tt_scsi_task *task)
{
	const uint8_t *cdb = task->cdb;
	uint8_t power_condition = cdb[4] >> 4;
	bool no_flush = cdb[4] & 0x04, start = cdb[4] & 0x01;

	/* no medium to load or eject; stopping writes the cache back unless NO_FLUSH */
	if (!power_condition && !start && !no_flush && task->lun->bdev->volatile_cache)
		return flush(task);
	return TT_EXEC_DONE;
}

/* --- READ CAPACITY ----------------------------------------------------------------------------- */

enum tt_exec_rc tt_sbc_read_capacity_10(struct tt_scsi_task *task)
{
	const uint8_t *cdb = task->cdb;
	struct tt_lun *lun = task->lun;
	uint64_t last = tt_lun_nblocks(lun) - 1;
	uint8_t buf[8];

	task->cmd_len = sizeof(buf);
	if (!(cdb[8] & 0x01) && tt_get_be32(cdb + 2)) { /* LBA without PMI */
		tt_scsi_invalid_cdb(task, 2, -1);
		return TT_EXEC_DONE;
	}
	tt_put_be32(buf, last > 0xfffffffe ? 0xffffffff : (uint32_t)last);
	tt_put_be32(buf + 4, lun->bdev->block_size);
	tt_task_data_in(task, buf, sizeof(buf), sizeof(buf));
	return TT_EXEC_DONE;
}

static enum tt_exec_rc read_capacity_16(struct tt_scsi_task *task)
{
	const uint8_t *cdb = task->cdb;
	struct tt_lun *lun = task->lun;
	uint32_t alloc = tt_get_be32(cdb + 10);
	uint8_t buf[32];

	task->cmd_len = alloc;
	if (!(cdb[14] & 0x01) && tt_get_be64(cdb + 2)) {
		tt_scsi_invalid_cdb(task, 2, -1);
		return TT_EXEC_DONE;
	}
	memset(buf, 0, sizeof(buf));
	tt_put_be64(buf, tt_lun_nblocks(lun) - 1);
	tt_put_be32(buf + 8, lun->bdev->block_size);
	buf[13] = lun->lbppbe & 0x0f;
	if (tt_sbc_lbp(lun))
		buf[14] = 0x80 | 0x40; /* LBPME, LBPRZ */
	tt_task_data_in(task, buf, sizeof(buf), alloc);
	return TT_EXEC_DONE;
}

enum tt_exec_rc tt_sbc_service_action_in_16(struct tt_scsi_task *task)
{
	switch (task->cdb[1] & 0x1f) {
	case TT_SAI_READ_CAPACITY_16:
		return read_capacity_16(task);
	default:
		tt_scsi_invalid_cdb(task, 1, 4);
		return TT_EXEC_DONE;
	}
}
