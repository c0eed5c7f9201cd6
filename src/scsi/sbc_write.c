/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Block commands that read before they write, or that write as one unit (SBC-4): COMPARE AND
 * WRITE, ORWRITE (16), WRITE AND VERIFY (10)/(12)/(16) and WRITE ATOMIC (16).
 *
 * Each runs as a short sequence of backend I/Os driven by a context that lives in task->bounce
 * (the core frees it with the task): lock the blocks (range_lock.h), then
 *   COMPARE AND WRITE  read, compare with the first half of the Data-Out buffer, write the second
 *   ORWRITE            read, OR the Data-Out buffer in, write
 *   WRITE AND VERIFY   write (FUA), read back, compare with the Data-Out buffer when BYTCHK is 1
 *   WRITE ATOMIC       write
 * and unlock before the task completes. COMPARE AND WRITE on a backend that compares and writes
 * as one operation of its own (bdev compare_and_write: rbd, atomic towards the other hosts that
 * serve the medium) is that one backend I/O instead, still under the lock; a range the backend
 * cannot do (-EOPNOTSUPP) falls back to the read, compare and write. The first step runs from
 * the loop after the handler has returned, so that every step may complete the task. The lock
 * makes these commands atomic towards each other; READ and WRITE do not take it. WRITE ATOMIC
 * is one backend write: atomic towards the commands above and towards readers of a ram backend
 * page by page, but a file backend does not promise that a power loss leaves all or nothing of
 * it.
 *
 * Data-Out length (edtl) against the CDB: ORWRITE and WRITE AND VERIFY act like WRITE (the whole
 * blocks edtl covers; INVALID FIELD IN COMMAND INFORMATION UNIT when edtl ends inside a block);
 * WRITE ATOMIC needs all its blocks; COMPARE AND WRITE needs exactly 2 x NUMBER OF LOGICAL
 * BLOCKS blocks, anything else is INVALID FIELD IN CDB.
 */
#include "scsi/core.h"
#include "scsi/cdb.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Largest WRITE ATOMIC, in bytes (and at most the maximum transfer length). */
#define ATOMIC_MAX_BYTES (1u << 20)
/* NUMBER OF LOGICAL BLOCKS of COMPARE AND WRITE is one byte. */
#define CAW_MAX_BLOCKS 255u

enum wjob_kind {
	JOB_COMPARE_AND_WRITE,
	JOB_ORWRITE,
	JOB_WRITE_VERIFY,
	JOB_WRITE_ATOMIC,
};

enum wjob_stage {
	STAGE_CAW,     /* COMPARE AND WRITE done by the backend */
	STAGE_READ,    /* the blocks as they are, before the write */
	STAGE_WRITE,
	STAGE_VERIFY,  /* the blocks read back after the write */
};

struct wjob {
	struct tt_scsi_task *task;
	enum wjob_kind kind;
	enum wjob_stage stage;
	struct tt_range range;
	bool locked;
	struct tt_work start;
	struct tt_bdev_io io;
	struct iovec iov;
	struct iovec caw_iov[2]; /* STAGE_CAW: the verify data, then the write data */
	uint64_t offset;     /* bytes */
	uint64_t len;        /* bytes read and written */
	bool fua;
	bool compare;        /* WRITE AND VERIFY with BYTCHK 1 */
	uint8_t medium[];    /* len bytes read from the medium (not for WRITE ATOMIC) */
};

uint32_t tt_sbc_max_compare_and_write(const struct tt_lun *lun)
{
	const struct tt_bdev *bdev = lun->bdev;
	uint32_t n = lun->max_xfer_blocks < CAW_MAX_BLOCKS ? lun->max_xfer_blocks : CAW_MAX_BLOCKS;

	/* only what the backend compares and writes atomically itself (for every host) */
	if (bdev->compare_and_write && bdev->compare_and_write_max &&
	    bdev->compare_and_write_max / bdev->block_size < n)
		n = bdev->compare_and_write_max / bdev->block_size;
	return n;
}

uint32_t tt_sbc_max_atomic(const struct tt_lun *lun)
{
	uint32_t n = ATOMIC_MAX_BYTES / lun->bdev->block_size;

	return n ? (lun->max_xfer_blocks < n ? lun->max_xfer_blocks : n) : 1;
}

void tt_sbc_write_limits(const struct tt_lun *lun, uint8_t *page)
{
	page[5] = (uint8_t)tt_sbc_max_compare_and_write(lun); /* MAXIMUM COMPARE AND WRITE LENGTH */
	tt_put_be32(page + 44, tt_sbc_max_atomic(lun));       /* MAXIMUM ATOMIC TRANSFER LENGTH */
	tt_put_be32(page + 48, 0);                            /* ATOMIC ALIGNMENT: any */
	tt_put_be32(page + 52, 0);                            /* ATOMIC TRANSFER LENGTH GRANULARITY */
	tt_put_be32(page + 56, 0);  /* no atomic boundaries: ATOMIC BOUNDARY must be zero */
	tt_put_be32(page + 60, 0);
}

/* --- the sequence ------------------------------------------------------------------------------ */

static void job_end(struct wjob *job)
{
	struct tt_scsi_task *task = job->task;

	if (job->locked) {
		job->locked = false;
		tt_range_unlock(&task->lun->state->ranges, &job->range);
	}
	tt_task_finish(task); /* frees job (task->bounce) */
}

static void job_io_done(struct tt_bdev_io *io, int status);

static void job_io(struct wjob *job, enum wjob_stage stage, void *buf)
{
	struct tt_scsi_task *task = job->task;
	bool write = stage == STAGE_WRITE;
	int rc;

	job->stage = stage;
	job->iov.iov_base = buf;
	job->iov.iov_len = (size_t)job->len;
	memset(&job->io, 0, sizeof(job->io));
	job->io.op = write ? TT_BDEV_WRITE : TT_BDEV_READ;
	job->io.offset = job->offset;
	job->io.len = job->len;
	job->io.iov = &job->iov;
	job->io.iovcnt = 1;
	job->io.fua = write && job->fua;
	if (stage == STAGE_CAW) {
		write = true;
		job->caw_iov[0].iov_base = task->buf;
		job->caw_iov[0].iov_len = (size_t)job->len;
		job->caw_iov[1].iov_base = task->buf + job->len;
		job->caw_iov[1].iov_len = (size_t)job->len;
		job->io.op = TT_BDEV_COMPARE_AND_WRITE;
		job->io.iov = job->caw_iov;
		job->io.iovcnt = 2;
		job->io.fua = job->fua;
	}
	job->io.done = job_io_done;
	job->io.ctx = job;
	tt_task_set_state(task, TT_TASK_BACKEND);
	task->pending = 1;
	rc = tt_bdev_submit(task->lun->bdev, &job->io);
	if (rc == -EOPNOTSUPP && stage == STAGE_CAW) {
		/* not atomic in the backend for this range: compare here */
		task->pending = 0;
		tt_task_set_state(task, TT_TASK_ACTIVE);
		job_io(job, STAGE_READ, job->medium);
		return;
	}
	if (rc < 0) {
		task->pending = 0;
		tt_task_set_state(task, TT_TASK_ACTIVE);
		tt_scsi_fail_errno(task, rc, write);
		job_end(job);
	}
}

/* MISCOMPARE with the offset of the first byte that differs; false when all match. */
static bool miscompare(struct tt_scsi_task *task, const uint8_t *medium, const uint8_t *want,
		       size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (medium[i] != want[i]) {
			tt_scsi_set_sense_info(task, TT_SK_MISCOMPARE,
					       TT_ASC_MISCOMPARE_DURING_VERIFY >> 8,
					       TT_ASC_MISCOMPARE_DURING_VERIFY & 0xff, i);
			return true;
		}
	}
	return false;
}

static void job_io_done(struct tt_bdev_io *io, int status)
{
	struct wjob *job = io->ctx;
	struct tt_scsi_task *task = job->task;

	task->pending = 0;
	tt_task_set_state(task, TT_TASK_ACTIVE);
	if (status == -EILSEQ && job->stage == STAGE_CAW) {
		/* MISCOMPARE with the offset of the first byte that differs */
		tt_scsi_set_sense_info(task, TT_SK_MISCOMPARE, TT_ASC_MISCOMPARE_DURING_VERIFY >> 8,
				       TT_ASC_MISCOMPARE_DURING_VERIFY & 0xff, io->miscompare);
		job_end(job);
		return;
	}
	if (status) {
		tt_scsi_fail_errno(task, status, job->stage == STAGE_WRITE || job->stage == STAGE_CAW);
		job_end(job);
		return;
	}
	switch (job->stage) {
	case STAGE_CAW:
		break;
	case STAGE_READ:
		if (job->kind == JOB_COMPARE_AND_WRITE) {
			if (miscompare(task, job->medium, task->buf, (size_t)job->len)) {
				job_end(job);
				return;
			}
			job_io(job, STAGE_WRITE, task->buf + job->len);
			return;
		}
		/* ORWRITE */
		for (uint64_t i = 0; i < job->len; i++)
			job->medium[i] |= task->buf[i];
		job_io(job, STAGE_WRITE, job->medium);
		return;
	case STAGE_WRITE:
		if (job->kind == JOB_WRITE_VERIFY) {
			job_io(job, STAGE_VERIFY, job->medium);
			return;
		}
		break;
	case STAGE_VERIFY:
		if (job->compare)
			miscompare(task, job->medium, task->buf, (size_t)job->len);
		break;
	}
	job_end(job);
}

static void job_first_io(struct wjob *job)
{
	switch (job->kind) {
	case JOB_COMPARE_AND_WRITE:
		job_io(job, job->task->lun->bdev->compare_and_write ? STAGE_CAW : STAGE_READ,
		       job->medium);
		break;
	case JOB_ORWRITE:
		job_io(job, STAGE_READ, job->medium);
		break;
	case JOB_WRITE_VERIFY:
	case JOB_WRITE_ATOMIC:
		job_io(job, STAGE_WRITE, job->task->buf);
		break;
	}
}

static void job_granted(struct tt_range *r)
{
	struct wjob *job = tt_container_of(r, struct wjob, range);

	job->locked = true;
	job_first_io(job);
}

static void job_start(struct tt_work *w)
{
	job_first_io(tt_container_of(w, struct wjob, start));
}

/* Starts the sequence over [lba, lba + len / bs); TT_EXEC_DONE when out of memory. */
static enum tt_exec_rc job_run(struct tt_scsi_task *task, enum wjob_kind kind, uint64_t lba,
			       uint64_t len, bool fua, bool compare)
{
	struct tt_lun *lun = task->lun;
	uint32_t bs = lun->bdev->block_size;
	size_t scratch = kind == JOB_WRITE_ATOMIC ? 0 : (size_t)len;
	struct wjob *job = malloc(sizeof(*job) + scratch);

	if (!job) {
		tt_scsi_fail_errno(task, -ENOMEM, true);
		return TT_EXEC_DONE;
	}
	memset(job, 0, sizeof(*job));
	job->task = task;
	job->kind = kind;
	job->offset = lba * bs;
	job->len = len;
	job->fua = fua || (lun->bdev->volatile_cache && !tt_lun_wce(lun));
	job->compare = compare;
	task->bounce = job;
	tt_work_init(&job->start, tt_loop_current(), job_start);
	tt_range_init(&job->range, lba, len / bs, job_granted);
	if (tt_range_lock(&lun->state->ranges, &job->range)) {
		job->locked = true;
		tt_work_queue(&job->start);
	}
	return TT_EXEC_PENDING;
}

/* --- CDB checks shared by the commands ------------------------------------------------------ */

/*
 * Bytes of Data-Out that a WRITE-like command of @nblocks uses: all of them, or the whole blocks
 * edtl covers. False (the task failed) when edtl ends inside a block it would need.
 */
static bool write_bytes(struct tt_scsi_task *task, uint32_t nblocks, uint64_t *bytes)
{
	uint32_t bs = task->lun->bdev->block_size;
	uint64_t want = (uint64_t)nblocks * bs, have = tt_task_out_len(task);

	*bytes = want;
	if (have < want) {
		if (have % bs) {
			tt_scsi_fail(task, TT_SK_ILLEGAL_REQUEST, TT_ASC_INVALID_FIELD_IN_CMD_IU);
			return false;
		}
		*bytes = have;
	}
	return true;
}

static uint32_t cmd_bytes(uint64_t bytes)
{
	return bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)bytes;
}

/* --- COMPARE AND WRITE ---------------------------------------------------------------------- */

enum tt_exec_rc tt_sbc_compare_and_write(struct tt_scsi_task *task)
{
	const uint8_t *cdb = task->cdb;
	struct tt_lun *lun = task->lun;
	uint32_t bs = lun->bdev->block_size;
	uint64_t lba = tt_get_be64(cdb + 2);
	uint32_t n = cdb[13];
	uint64_t len = (uint64_t)n * bs;

	task->cmd_len = cmd_bytes(2 * len);
	if (n > tt_sbc_max_compare_and_write(lun)) {
		tt_scsi_invalid_cdb(task, 13, -1);
		return TT_EXEC_DONE;
	}
	if (!tt_sbc_lba_range_ok(task, lba, n))
		return TT_EXEC_DONE;
	if (tt_task_out_len(task) != 2 * len) { /* verify and write data, nothing else */
		tt_scsi_invalid_cdb(task, 13, -1);
		return TT_EXEC_DONE;
	}
	if (!n)
		return TT_EXEC_DONE;
	return job_run(task, JOB_COMPARE_AND_WRITE, lba, len, cdb[1] & 0x08, false);
}

/* --- ORWRITE (16) ------------------------------------------------------------------------------ */

enum tt_exec_rc tt_sbc_orwrite(struct tt_scsi_task *task)
{
	const uint8_t *cdb = task->cdb;
	struct tt_lun *lun = task->lun;
	uint64_t lba = tt_get_be64(cdb + 2), bytes;
	uint32_t n = tt_get_be32(cdb + 10);

	task->cmd_len = cmd_bytes((uint64_t)n * lun->bdev->block_size);
	if (!tt_sbc_lba_range_ok(task, lba, n))
		return TT_EXEC_DONE;
	if (n > lun->max_xfer_blocks) {
		tt_scsi_invalid_cdb(task, 10, -1);
		return TT_EXEC_DONE;
	}
	if (!write_bytes(task, n, &bytes))
		return TT_EXEC_DONE;
	if (!bytes)
		return TT_EXEC_DONE;
	return job_run(task, JOB_ORWRITE, lba, bytes, cdb[1] & 0x08, false);
}

/* --- WRITE AND VERIFY ------------------------------------------------------------------------ */

enum tt_exec_rc tt_sbc_write_verify(struct tt_scsi_task *task)
{
	const uint8_t *cdb = task->cdb;
	struct tt_lun *lun = task->lun;
	uint8_t bytchk = (cdb[1] >> 1) & 0x03;
	uint16_t len_byte;
	uint64_t lba, bytes;
	uint32_t n;

	switch (cdb[0]) {
	case TT_OP_WRITE_VERIFY_10:
		lba = tt_get_be32(cdb + 2);
		n = tt_get_be16(cdb + 7);
		len_byte = 7;
		break;
	case TT_OP_WRITE_VERIFY_12:
		lba = tt_get_be32(cdb + 2);
		n = tt_get_be32(cdb + 6);
		len_byte = 6;
		break;
	default:
		lba = tt_get_be64(cdb + 2);
		n = tt_get_be32(cdb + 10);
		len_byte = 10;
		break;
	}
	task->cmd_len = cmd_bytes((uint64_t)n * lun->bdev->block_size);
	if (bytchk > 1) { /* 10b, 11b: reserved for WRITE AND VERIFY */
		tt_scsi_invalid_cdb(task, 1, 2);
		return TT_EXEC_DONE;
	}
	if (!tt_sbc_lba_range_ok(task, lba, n))
		return TT_EXEC_DONE;
	if (n > lun->max_xfer_blocks) {
		tt_scsi_invalid_cdb(task, len_byte, -1);
		return TT_EXEC_DONE;
	}
	if (!write_bytes(task, n, &bytes))
		return TT_EXEC_DONE;
	if (!bytes)
		return TT_EXEC_DONE;
	/* written through to the medium, so that the verification reads the medium */
	return job_run(task, JOB_WRITE_VERIFY, lba, bytes, true, bytchk == 1);
}

/* --- WRITE ATOMIC (16) -------------------------------------------------------------------------- */

enum tt_exec_rc tt_sbc_write_atomic(struct tt_scsi_task *task)
{
	const uint8_t *cdb = task->cdb;
	struct tt_lun *lun = task->lun;
	uint64_t lba = tt_get_be64(cdb + 2);
	uint32_t n = tt_get_be16(cdb + 12);
	uint64_t bytes = (uint64_t)n * lun->bdev->block_size;

	task->cmd_len = cmd_bytes(bytes);
	if (tt_get_be16(cdb + 10)) { /* ATOMIC BOUNDARY: no boundaries supported */
		tt_scsi_invalid_cdb(task, 10, -1);
		return TT_EXEC_DONE;
	}
	if (!tt_sbc_lba_range_ok(task, lba, n))
		return TT_EXEC_DONE;
	if (n > tt_sbc_max_atomic(lun)) {
		tt_scsi_invalid_cdb(task, 12, -1);
		return TT_EXEC_DONE;
	}
	if (!n)
		return TT_EXEC_DONE;
	if (tt_task_out_len(task) < bytes) { /* all of it or nothing */
		tt_scsi_fail(task, TT_SK_ILLEGAL_REQUEST, TT_ASC_INVALID_FIELD_IN_CMD_IU);
		return TT_EXEC_DONE;
	}
	return job_run(task, JOB_WRITE_ATOMIC, lba, bytes, cdb[1] & 0x08, false);
}
