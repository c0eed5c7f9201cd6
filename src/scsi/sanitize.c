/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SANITIZE (SBC-4 5.30, 4.11): OVERWRITE, BLOCK ERASE, CRYPTO ERASE, EXIT FAILURE MODE.
 *
 * A sanitize is an operation of the logical unit, not of the task that asked for it. It runs on
 * the loop of that task: OVERWRITE writes the initialization pattern over every block, in
 * TT_SANITIZE_CHUNK bytes per backend I/O, OVERWRITE COUNT times (inverted between passes with
 * INVERT); BLOCK ERASE and CRYPTO ERASE deallocate every block of a thin LUN (they then read as
 * zeroes) or write zeroes over a LUN that is not thin. A volatile cache is flushed last. With
 * IMMED the command answers GOOD as soon as the operation starts; without, when it ends (or at
 * once when task management aborts it: the operation goes on, as it does through LOGICAL UNIT
 * RESET, I_T nexus loss and logout).
 *
 * CRYPTO ERASE on these backends is not the cryptographic erasure of an encrypted medium: no
 * backend encrypts, so the data is made unreadable the way BLOCK ERASE does it (deallocation or
 * zeroes). VPD B1h reports WABEREQ and WACEREQ 01b: reads after either succeed.
 *
 * While it runs (tt_lu_state.sanitize RUNNING), the commands of every nexus but INQUIRY, REPORT
 * LUNS and REQUEST SENSE end in NOT READY, LOGICAL UNIT NOT READY, SANITIZE IN PROGRESS with the
 * progress indication in the sense-key specific bytes; REQUEST SENSE returns that sense data.
 * When it fails (a backend error), the LUN stays in the sanitize-failed state: every command but
 * those three and SANITIZE ends in MEDIUM ERROR, SANITIZE COMMAND FAILED until a sanitize
 * completes, or until EXIT FAILURE MODE when the failed one had AUSE set.
 *
 * The LUN option sanitize_rate paces OVERWRITE (bytes per second, 0: as fast as the backend
 * goes); the conformance run uses it so that an overwrite of its LUN lasts long enough to be
 * seen in progress.
 */
#include "scsi/core.h"
#include "scsi/cdb.h"
#include "base/clock.h"
#include "base/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CDB_IMMED 0x80
#define CDB_AUSE  0x20

/* OVERWRITE parameter list (SBC-4 5.30.2.2) */
#define OW_INVERT     0x80
#define OW_TEST       0x60
#define OW_COUNT      0x1f
#define OW_HEADER_LEN 4

struct sanitize_op {
	struct tt_lun *lun;          /* a reference, dropped when the operation ends */
	struct tt_scsi_task *task;   /* without IMMED: answered at the end; NULL once answered */
	uint8_t sa;
	bool ause;
	unsigned passes, pass;       /* OVERWRITE */
	uint64_t offset;             /* next byte of the pass */
	uint64_t done, total;        /* bytes written, to write: the progress indication */
	uint64_t paced;              /* bytes written since start_ns (pacing) */
	uint64_t start_ns;
	uint8_t *pattern[2];         /* a chunk of the pattern, and of its inverse (INVERT) */
	bool flushing;
	struct iovec iov;
	struct tt_bdev_io io;
	struct tt_timer timer;
};

static void op_step(struct sanitize_op *op);

static void set_state(struct tt_lun *lun, enum tt_sanitize_state to, bool ause)
{
	struct tt_lu_state *st = lun->state;

	__atomic_store_n(&st->sanitize_progress, 0, __ATOMIC_RELAXED);
	st->sanitize_ause = ause;
	__atomic_store_n(&st->sanitize, (uint8_t)to, __ATOMIC_RELEASE);
}

static void progress_sense(const struct tt_lun *lun, struct tt_sense *s)
{
	uint16_t p = __atomic_load_n(&lun->state->sanitize_progress, __ATOMIC_RELAXED);

	memset(s, 0, sizeof(*s));
	s->key = TT_SK_NOT_READY;
	s->asc = TT_ASC_SANITIZE_IN_PROGRESS;
	s->sks_valid = true;
	s->sks[1] = (uint8_t)(p >> 8); /* PROGRESS INDICATION */
	s->sks[2] = (uint8_t)p;
}

bool tt_sanitize_refused(struct tt_scsi_task *task, const struct tt_scsi_cmd *cmd)
{
	struct tt_lun *lun = task->lun;
	uint8_t state = __atomic_load_n(&lun->state->sanitize, __ATOMIC_ACQUIRE);
	struct tt_sense s;

	if (state == TT_SANITIZE_IDLE)
		return false;
	if (cmd->handler == tt_spc_request_sense) {
		uint8_t buf[TT_SENSE_MAX];
		size_t n;

		if (state != TT_SANITIZE_RUNNING)
			return false;
		progress_sense(lun, &s);
		n = tt_sense_encode(&s, task->cdb[1] & 0x01, buf, sizeof(buf));
		tt_task_data_in(task, buf, (uint32_t)n, task->cdb[4]);
		return true;
	}
	if (cmd->flags & TT_CMD_NO_LUN_OK) /* INQUIRY, REPORT LUNS */
		return false;
	if (state == TT_SANITIZE_RUNNING) {
		progress_sense(lun, &s);
		tt_scsi_sense(task, &s);
		return true;
	}
	if (cmd->handler == tt_sbc_sanitize)
		return false;
	tt_scsi_fail(task, TT_SK_MEDIUM_ERROR, TT_ASC_SANITIZE_FAILED);
	return true;
}

/* Answers the task that waits for the operation, if any. */
static void op_answer(struct sanitize_op *op, int status)
{
	struct tt_scsi_task *task = op->task;

	if (!task)
		return;
	op->task = NULL;
	if (status && !task->aborted)
		tt_scsi_fail_errno(task, status, true);
	tt_task_finish(task);
}

static void op_end(struct sanitize_op *op, int status)
{
	struct tt_lun *lun = op->lun;

	if (status)
		tt_log(TT_LOG_ERR, "scsi", "LUN %llu: SANITIZE (service action 0x%02x) failed: %s",
		       (unsigned long long)lun->id, op->sa, strerror(-status));
	pthread_mutex_lock(&lun->lock);
	set_state(lun, status ? TT_SANITIZE_FAILED : TT_SANITIZE_IDLE, op->ause);
	pthread_mutex_unlock(&lun->lock);
	op_answer(op, status);
	tt_timer_cancel(&op->timer);
	free(op->pattern[0]);
	free(op->pattern[1]);
	free(op);
	tt_lun_put(lun);
}

static void op_io_done(struct tt_bdev_io *io, int status)
{
	struct sanitize_op *op = io->ctx;

	if (status) {
		op_end(op, status);
		return;
	}
	if (op->flushing) {
		op_end(op, 0);
		return;
	}
	op->done += io->len;
	op->paced += io->len;
	if (op->sa == TT_SANITIZE_OVERWRITE) {
		op->offset += io->len;
		if (op->offset >= tt_bdev_size(op->lun->bdev)) {
			op->offset = 0;
			op->pass++;
		}
	} else {
		op->pass = op->passes;
	}
	__atomic_store_n(&op->lun->state->sanitize_progress,
			 (uint16_t)(op->total ? op->done * 65535 / op->total : 0), __ATOMIC_RELAXED);
	op_step(op);
}

static void op_submit(struct sanitize_op *op)
{
	int rc;

	op->io.done = op_io_done;
	op->io.ctx = op;
	rc = tt_bdev_submit(op->lun->bdev, &op->io);
	if (rc < 0)
		op_end(op, rc);
}

static void op_timer(struct tt_timer *t)
{
	op_step(tt_container_of(t, struct sanitize_op, timer));
}

/* Issues the next I/O of the operation. */
static void op_step(struct sanitize_op *op)
{
	struct tt_bdev *bdev = op->lun->bdev;
	uint64_t rate = __atomic_load_n(&op->lun->state->sanitize_rate, __ATOMIC_RELAXED);

	/* an aborted task is answered now; the operation goes on */
	if (op->task && op->task->aborted)
		op_answer(op, 0);
	memset(&op->io, 0, sizeof(op->io));
	if (op->pass >= op->passes) {
		if (!bdev->volatile_cache) {
			op_end(op, 0);
			return;
		}
		op->flushing = true;
		op->io.op = TT_BDEV_FLUSH;
		op_submit(op);
		return;
	}
	if (op->sa != TT_SANITIZE_OVERWRITE) {
		op->io.op = tt_sbc_lbp(op->lun) ? TT_BDEV_UNMAP : TT_BDEV_WRITE_ZEROES;
		op->io.len = tt_bdev_size(bdev);
		op_submit(op);
		return;
	}
	if (rate) {
		uint64_t due = op->start_ns + op->paced * TT_NS_PER_SEC / rate, now = tt_now_ns();

		if (due > now) {
			tt_timer_arm_ns(&op->timer, due - now);
			return;
		}
	}
	op->io.op = TT_BDEV_WRITE;
	op->io.offset = op->offset;
	op->io.len = bdev->size - op->offset < TT_SANITIZE_CHUNK ? bdev->size - op->offset
								    : TT_SANITIZE_CHUNK;
	op->iov.iov_base = op->pattern[op->pattern[1] && (op->pass & 1)];
	op->iov.iov_len = op->io.len;
	op->io.iov = &op->iov;
	op->io.iovcnt = 1;
	op_submit(op);
}

/* Fills @buf (TT_SANITIZE_CHUNK bytes) with blocks each starting with the pattern, repeated. */
static void fill_pattern(uint8_t *buf, const uint8_t *pat, uint32_t patlen, uint32_t block_size,
			 bool invert)
{
	for (uint32_t i = 0; i < block_size; i++)
		buf[i] = (uint8_t)(invert ? ~pat[i % patlen] : pat[i % patlen]);
	for (uint32_t off = block_size; off < TT_SANITIZE_CHUNK; off += block_size)
		memcpy(buf + off, buf, block_size);
}

/* Checks the OVERWRITE parameter list and prepares the pattern; false with the error set. */
static bool overwrite_params(struct tt_scsi_task *task, struct sanitize_op *op, uint16_t plen)
{
	uint32_t bs = task->lun->bdev->block_size;
	const uint8_t *p = task->buf;
	uint32_t iplen;

	if (plen <= OW_HEADER_LEN || plen > bs + OW_HEADER_LEN) {
		tt_scsi_invalid_cdb(task, 7, -1);
		return false;
	}
	if (tt_task_out_len(task) < plen) {
		tt_scsi_fail(task, TT_SK_ILLEGAL_REQUEST, TT_ASC_PARAMETER_LIST_LENGTH_ERROR);
		return false;
	}
	iplen = tt_get_be16(p + 2);
	if (p[0] & OW_TEST) {
		tt_scsi_invalid_param(task, 0, 6);
		return false;
	}
	if (!(p[0] & OW_COUNT)) {
		tt_scsi_invalid_param(task, 0, 4);
		return false;
	}
	if (p[1]) {
		tt_scsi_invalid_param(task, 1, 7 - __builtin_ctz(p[1]));
		return false;
	}
	if (!iplen || iplen > bs || iplen > (uint32_t)plen - OW_HEADER_LEN) {
		tt_scsi_invalid_param(task, 2, -1);
		return false;
	}
	op->passes = p[0] & OW_COUNT;
	for (int i = 0; i < ((p[0] & OW_INVERT) && op->passes > 1 ? 2 : 1); i++) {
		if (posix_memalign((void **)&op->pattern[i], TT_BDEV_BUF_ALIGN, TT_SANITIZE_CHUNK)) {
			tt_scsi_fail(task, TT_SK_HARDWARE_ERROR, TT_ASC_INTERNAL_TARGET_FAILURE);
			return false;
		}
		fill_pattern(op->pattern[i], p + OW_HEADER_LEN, iplen, bs, i == 1);
	}
	return true;
}

static enum tt_exec_rc exit_failure_mode(struct tt_scsi_task *task)
{
	struct tt_lun *lun = task->lun;
	bool refused = false;

	pthread_mutex_lock(&lun->lock);
	if (lun->state->sanitize == TT_SANITIZE_FAILED) {
		if (lun->state->sanitize_ause)
			set_state(lun, TT_SANITIZE_IDLE, false);
		else
			refused = true;
	}
	pthread_mutex_unlock(&lun->lock);
	if (refused) /* AUSE was 0: only a sanitize that completes leaves the failed state */
		tt_scsi_fail(task, TT_SK_MEDIUM_ERROR, TT_ASC_SANITIZE_FAILED);
	return TT_EXEC_DONE;
}

enum tt_exec_rc tt_sbc_sanitize(struct tt_scsi_task *task)
{
	const uint8_t *cdb = task->cdb;
	struct tt_lun *lun = task->lun;
	uint8_t sa = cdb[1] & 0x1f;
	uint16_t plen = tt_get_be16(cdb + 7);
	struct sanitize_op *op;
	bool busy;

	task->cmd_len = plen;
	if (sa != TT_SANITIZE_OVERWRITE && plen) { /* only OVERWRITE takes a parameter list */
		tt_scsi_invalid_cdb(task, 7, -1);
		return TT_EXEC_DONE;
	}
	if (sa == TT_SANITIZE_EXIT_FAILURE_MODE)
		return exit_failure_mode(task);
	op = calloc(1, sizeof(*op));
	if (!op) {
		tt_scsi_fail(task, TT_SK_HARDWARE_ERROR, TT_ASC_INTERNAL_TARGET_FAILURE);
		return TT_EXEC_DONE;
	}
	op->sa = sa;
	op->ause = cdb[1] & CDB_AUSE;
	op->passes = 1;
	if (sa == TT_SANITIZE_OVERWRITE && !overwrite_params(task, op, plen)) {
		free(op->pattern[0]);
		free(op->pattern[1]);
		free(op);
		return TT_EXEC_DONE;
	}
	op->total = op->passes * tt_bdev_size(lun->bdev);
	pthread_mutex_lock(&lun->lock);
	busy = lun->state->sanitize == TT_SANITIZE_RUNNING;
	if (!busy)
		set_state(lun, TT_SANITIZE_RUNNING, false);
	pthread_mutex_unlock(&lun->lock);
	if (busy) { /* started by another loop since the check before this handler */
		struct tt_sense s;

		free(op->pattern[0]);
		free(op->pattern[1]);
		free(op);
		progress_sense(lun, &s);
		tt_scsi_sense(task, &s);
		return TT_EXEC_DONE;
	}
	tt_lun_get(lun);
	op->lun = lun;
	op->start_ns = tt_now_ns();
	tt_timer_init(&op->timer, task->work.loop, op_timer);
	tt_log(TT_LOG_INFO, "scsi", "LUN %llu: SANITIZE (service action 0x%02x) started%s",
	       (unsigned long long)lun->id, sa, cdb[1] & CDB_IMMED ? " (IMMED)" : "");
	if (!(cdb[1] & CDB_IMMED))
		op->task = task;
	tt_timer_arm_ns(&op->timer, 0); /* the first I/O, after this handler returned */
	return op->task ? TT_EXEC_PENDING : TT_EXEC_DONE;
}
