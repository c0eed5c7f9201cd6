/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * EXTENDED COPY (LID1) and RECEIVE COPY RESULTS (SPC-4 6.4, 6.18): block-to-block copies (segment
 * descriptor 02h) between LUNs of this daemon named by identification CSCD descriptors (E4h) that
 * hold the NAA designator of their VPD 83h page. The copy runs on the loop of the EXTENDED COPY
 * task: chunks are read from the source backend into a bounce buffer and written to the
 * destination backend, one I/O at a time. Also the registry of LUNs by NAA identifier and the
 * Third-party Copy VPD page (8Fh).
 */
#include "scsi/core.h"
#include "scsi/cdb.h"
#include "base/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SK_COPY_ABORTED 0x0a

/* additional sense codes of copy commands */
#define ASC_CSCD_NOT_REACHABLE      0x0d02 /* COPY TARGET DEVICE NOT REACHABLE */
#define ASC_CSCD_BAD_TYPE           0x0d03 /* INCORRECT COPY TARGET DEVICE TYPE */
#define ASC_OPERATION_IN_PROGRESS   0x0016
#define ASC_TOO_MANY_CSCD           0x2606 /* TOO MANY TARGET DESCRIPTORS */
#define ASC_UNSUPPORTED_CSCD        0x2607 /* UNSUPPORTED TARGET DESCRIPTOR TYPE CODE */
#define ASC_TOO_MANY_SEGMENTS       0x2608
#define ASC_UNSUPPORTED_SEGMENT     0x2609
#define ASC_INEXACT_SEGMENT         0x260a
#define ASC_INLINE_DATA_EXCEEDED    0x260b

/* limits reported by OPERATING PARAMETERS and VPD 8Fh, and enforced */
#define XC_MAX_CSCD        16u
#define XC_MAX_SEGMENTS    16u
#define XC_MAX_DESC_LIST   1024u
#define XC_CHUNK           (1u << 20)
#define XC_HELD_RESULTS    64u

/* parameter list layout */
#define XC_HDR_LEN       16u
#define XC_CSCD_LEN      32u
#define XC_SEG_B2B_LEN   28u
#define XC_CSCD_IDENT    0xe4
#define XC_SEG_B2B       0x02

/* RECEIVE COPY RESULTS service actions */
#define RCR_COPY_STATUS     0x00
#define RCR_RECEIVE_DATA    0x01
#define RCR_OP_PARAMS       0x03
#define RCR_FAILED_SEGMENT  0x04

/* COPY MANAGER STATUS */
#define XC_IN_PROGRESS  0x00
#define XC_GOOD         0x01
#define XC_ERROR        0x02

static const uint8_t supported_descriptors[] = { XC_SEG_B2B, XC_CSCD_IDENT };

/* --- registry of LUNs by NAA identifier -------------------------------------------------------- */

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tt_lun **registry;     /* under registry_lock */
static size_t registry_len, registry_cap;

void tt_lun_registry_add(struct tt_lun *lun)
{
	pthread_mutex_lock(&registry_lock);
	if (registry_len == registry_cap) {
		size_t cap = registry_cap ? 2 * registry_cap : 16;
		struct tt_lun **r = realloc(registry, cap * sizeof(*r));

		if (!r) {
			/* the LUN works, it only cannot be named as a copy source or destination */
			tt_err("scsi", "LUN %llu: no memory to register it for EXTENDED COPY",
			       (unsigned long long)lun->id);
			goto out;
		}
		registry = r;
		registry_cap = cap;
	}
	registry[registry_len++] = lun;
out:
	pthread_mutex_unlock(&registry_lock);
}

void tt_lun_registry_del(struct tt_lun *lun)
{
	pthread_mutex_lock(&registry_lock);
	for (size_t i = 0; i < registry_len; i++) {
		if (registry[i] == lun) {
			registry[i] = registry[--registry_len];
			break;
		}
	}
	pthread_mutex_unlock(&registry_lock);
}

struct tt_lun *tt_lun_find_naa(uint64_t naa_id)
{
	struct tt_lun *found = NULL;

	pthread_mutex_lock(&registry_lock);
	for (size_t i = 0; i < registry_len && !found; i++) {
		struct tt_lun *lun = registry[i];
		int refs = __atomic_load_n(&lun->refs, __ATOMIC_RELAXED);

		if (lun->naa_id != naa_id)
			continue;
		/* a LUN whose last reference went is being freed: not found */
		while (refs > 0 && !__atomic_compare_exchange_n(&lun->refs, &refs, refs + 1, false,
								__ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			;
		if (refs > 0)
			found = lun;
	}
	pthread_mutex_unlock(&registry_lock);
	return found;
}

/* --- held results (RECEIVE COPY RESULTS) ------------------------------------------------------- */

struct xc_result {
	bool used;
	uint64_t naa_id, nexus_id;  /* the copy manager (LUN) and the I_T nexus */
	uint8_t list_id;
	uint8_t status;             /* XC_IN_PROGRESS, XC_GOOD, XC_ERROR */
	uint16_t segments;          /* segments processed */
	uint64_t bytes;             /* bytes written */
	uint64_t seq;               /* age: the oldest is dropped when the table is full */
	uint8_t sense[TT_SENSE_MAX];
	uint8_t sense_len;
};

static pthread_mutex_t results_lock = PTHREAD_MUTEX_INITIALIZER;
static struct xc_result results[XC_HELD_RESULTS]; /* under results_lock */
static uint64_t results_seq;

static uint64_t nexus_id_of(const struct tt_scsi_task *task)
{
	return task->nexus ? task->nexus->id : 0;
}

static struct xc_result *result_find_locked(uint64_t naa, uint64_t nexus, uint8_t list_id)
{
	for (unsigned i = 0; i < XC_HELD_RESULTS; i++)
		if (results[i].used && results[i].naa_id == naa && results[i].nexus_id == nexus &&
		    results[i].list_id == list_id)
			return &results[i];
	return NULL;
}

/* A new in-progress entry; -EBUSY when a copy with that list identifier is still running. */
static int result_start(uint64_t naa, uint64_t nexus, uint8_t list_id, bool held,
			struct xc_result **out)
{
	struct xc_result *r;
	int rc = 0;

	*out = NULL;
	pthread_mutex_lock(&results_lock);
	r = result_find_locked(naa, nexus, list_id);
	if (r && r->status == XC_IN_PROGRESS) {
		rc = -EBUSY;
		goto out;
	}
	if (!held) {
		if (r)
			r->used = false; /* the list identifier is reused: old results go */
		goto out;
	}
	if (!r) {
		for (unsigned i = 0; i < XC_HELD_RESULTS && !r; i++)
			if (!results[i].used)
				r = &results[i];
		for (unsigned i = 0; i < XC_HELD_RESULTS && !r; i++)
			if (results[i].status != XC_IN_PROGRESS &&
			    (!r || results[i].seq < r->seq))
				r = &results[i];
	}
	if (!r) {
		rc = -EBUSY;
		goto out;
	}
	memset(r, 0, sizeof(*r));
	r->used = true;
	r->naa_id = naa;
	r->nexus_id = nexus;
	r->list_id = list_id;
	r->status = XC_IN_PROGRESS;
	r->seq = ++results_seq;
	*out = r;
out:
	pthread_mutex_unlock(&results_lock);
	return rc;
}

/* --- EXTENDED COPY -------------------------------------------------------------------------- */

struct xc_segment {
	uint16_t src, dst;          /* CSCD indexes */
	uint64_t src_off, dst_off;  /* bytes */
	uint64_t len;               /* bytes */
};

/* One EXTENDED COPY in flight; freed when the task completes. */
struct xcopy {
	struct tt_scsi_task *task;
	struct tt_lun *cscd[XC_MAX_CSCD];   /* a reference on each resolved LUN */
	unsigned ncscd;
	struct xc_segment seg[XC_MAX_SEGMENTS];
	unsigned nseg, cur;
	uint64_t done;                      /* bytes of seg[cur] copied */
	uint64_t total;                     /* bytes written by the whole command */
	uint32_t chunk;                     /* bytes of the I/O in flight */
	struct xc_result *res;              /* NULL when results are not held */
	struct tt_bdev_io io;
	struct iovec iov;
	void *buf;
	bool in_exec;                       /* inside the EXTENDED COPY handler: done() must wait */
};

static void xc_free(struct xcopy *xc)
{
	for (unsigned i = 0; i < XC_MAX_CSCD; i++)
		if (xc->cscd[i])
			tt_lun_put(xc->cscd[i]);
	free(xc->buf);
	free(xc);
}

/* Records the outcome in the held results (status and sense are set in the task). */
static void xc_record(struct xcopy *xc)
{
	struct tt_scsi_task *task = xc->task;

	if (!xc->res)
		return;
	pthread_mutex_lock(&results_lock);
	xc->res->segments = (uint16_t)xc->cur;
	xc->res->bytes = xc->total;
	xc->res->status = task->status == TT_SAM_GOOD ? XC_GOOD : XC_ERROR;
	if (task->status == TT_SAM_CHECK_CONDITION) {
		memcpy(xc->res->sense, task->sense, task->sense_len);
		xc->res->sense_len = task->sense_len;
	}
	pthread_mutex_unlock(&results_lock);
}

static void copy_aborted(struct tt_scsi_task *task, uint16_t asc)
{
	tt_scsi_fail(task, SK_COPY_ABORTED, asc);
}

/* Field pointer into the parameter list, with ILLEGAL REQUEST / @asc. */
static void param_error(struct tt_scsi_task *task, uint16_t asc, uint16_t byte)
{
	struct tt_sense s = { .key = TT_SK_ILLEGAL_REQUEST, .asc = asc, .sks_valid = true };

	s.sks[0] = 0x00; /* C/D 0: parameter data, BPV 0 */
	tt_put_be16(s.sks + 1, byte);
	tt_scsi_sense(task, &s);
}

static void xc_step(struct xcopy *xc);

static void xc_end(struct xcopy *xc)
{
	struct tt_scsi_task *task = xc->task;
	bool in_exec = xc->in_exec;

	xc_record(xc);
	xc_free(xc);
	/* a copy that ends before the handler returned (nothing to copy, a refused submission)
	 * completes later: done() never runs inside tt_scsi_exec */
	if (in_exec)
		tt_task_complete_later(task);
	else
		tt_task_finish(task);
}

static bool xc_submit(struct xcopy *xc, struct tt_lun *lun, enum tt_bdev_op op, uint64_t off,
		      tt_bdev_done_fn done)
{
	struct tt_scsi_task *task = xc->task;
	int rc;

	memset(&xc->io, 0, sizeof(xc->io));
	xc->io.op = op;
	xc->io.offset = off;
	xc->io.len = xc->chunk;
	xc->iov.iov_base = xc->buf;
	xc->iov.iov_len = xc->chunk;
	xc->io.iov = &xc->iov;
	xc->io.iovcnt = 1;
	xc->io.fua = op == TT_BDEV_WRITE && lun->bdev->volatile_cache && !tt_lun_wce(lun);
	xc->io.done = done;
	xc->io.ctx = xc;
	tt_task_set_state(task, TT_TASK_BACKEND);
	task->pending = 1;
	rc = tt_bdev_submit(lun->bdev, &xc->io);
	if (rc < 0) {
		task->pending = 0;
		tt_task_set_state(task, TT_TASK_ACTIVE);
		copy_aborted(task, ASC_CSCD_NOT_REACHABLE);
		return false;
	}
	return true;
}

/* Back from a backend: false when the copy ends here (error set). */
static bool xc_returned(struct xcopy *xc, int status)
{
	struct tt_scsi_task *task = xc->task;

	task->pending = 0;
	tt_task_set_state(task, TT_TASK_ACTIVE);
	if (task->aborted) {
		copy_aborted(task, TT_ASC_NO_ADDITIONAL_SENSE);
		return false;
	}
	if (status) {
		tt_err("scsi", "EXTENDED COPY segment %u: backend error %d", xc->cur,
		       status);
		copy_aborted(task, ASC_CSCD_NOT_REACHABLE);
		return false;
	}
	return true;
}

static void xc_write_done(struct tt_bdev_io *io, int status)
{
	struct xcopy *xc = io->ctx;

	if (!xc_returned(xc, status)) {
		xc_end(xc);
		return;
	}
	xc->done += xc->chunk;
	xc->total += xc->chunk;
	if (xc->done == xc->seg[xc->cur].len) {
		xc->cur++;
		xc->done = 0;
	}
	if (xc->res) {
		pthread_mutex_lock(&results_lock);
		xc->res->segments = (uint16_t)xc->cur;
		xc->res->bytes = xc->total;
		pthread_mutex_unlock(&results_lock);
	}
	xc_step(xc);
}

static void xc_read_done(struct tt_bdev_io *io, int status)
{
	struct xcopy *xc = io->ctx;
	const struct xc_segment *s = &xc->seg[xc->cur];

	if (!xc_returned(xc, status) ||
	    !xc_submit(xc, xc->cscd[s->dst], TT_BDEV_WRITE, s->dst_off + xc->done, xc_write_done))
		xc_end(xc);
}

/* Starts the next chunk, or ends the command when every segment is copied. */
static void xc_step(struct xcopy *xc)
{
	const struct xc_segment *s;
	uint64_t left;

	while (xc->cur < xc->nseg && xc->seg[xc->cur].len == 0)
		xc->cur++;
	if (xc->cur == xc->nseg) {
		xc_end(xc);
		return;
	}
	s = &xc->seg[xc->cur];
	left = s->len - xc->done;
	xc->chunk = left < XC_CHUNK ? (uint32_t)left : XC_CHUNK;
	if (!xc_submit(xc, xc->cscd[s->src], TT_BDEV_READ, s->src_off + xc->done, xc_read_done))
		xc_end(xc);
}

/* Identification CSCD descriptor (E4h) at @d: the LUN its NAA designator names, or an error. */
static bool parse_cscd(struct tt_scsi_task *task, struct xcopy *xc, const uint8_t *d,
		       uint16_t off)
{
	const uint8_t *desig = d + 4;
	uint8_t assoc = (desig[1] >> 4) & 0x3, type = desig[1] & 0x0f, len = desig[3];
	uint32_t block_len = tt_get_be24(d + 29);
	struct tt_lun *lun;

	if (d[0] != XC_CSCD_IDENT) {
		param_error(task, ASC_UNSUPPORTED_CSCD, off);
		return false;
	}
	/* byte 1: LU ID TYPE is ignored (SPC-4), NUL is obsolete; PERIPHERAL DEVICE TYPE */
	if ((d[1] & 0x1f) != 0x00) {
		copy_aborted(task, ASC_CSCD_BAD_TYPE);
		return false;
	}
	if (len > 20 || assoc != 0 || type != 0x3 || len != 16 || (desig[4] >> 4) != 0x6) {
		/* only the NAA designators of this daemon's LUNs name a reachable CSCD */
		copy_aborted(task, ASC_CSCD_NOT_REACHABLE);
		return false;
	}
	lun = tt_lun_find_naa(tt_get_be64(desig + 4 + 8));
	if (!lun) {
		copy_aborted(task, ASC_CSCD_NOT_REACHABLE);
		return false;
	}
	xc->cscd[xc->ncscd++] = lun;
	if (block_len != lun->bdev->block_size) {
		copy_aborted(task, ASC_CSCD_BAD_TYPE);
		return false;
	}
	return true;
}

/* Block-to-block segment descriptor (02h) at @d (@len bytes left in the list). */
static bool parse_segment(struct tt_scsi_task *task, struct xcopy *xc, const uint8_t *d,
			  uint32_t len, uint16_t off)
{
	struct xc_segment *s = &xc->seg[xc->nseg];
	struct tt_lun *src, *dst;
	uint32_t sbs, dbs;
	uint64_t nblocks, src_lba, dst_lba;

	if (d[0] != XC_SEG_B2B) {
		param_error(task, ASC_UNSUPPORTED_SEGMENT, off);
		return false;
	}
	if (tt_get_be16(d + 2) != XC_SEG_B2B_LEN - 4) {
		param_error(task, TT_ASC_INVALID_FIELD_IN_PARAM_LIST, (uint16_t)(off + 2));
		return false;
	}
	if (len < XC_SEG_B2B_LEN) {
		tt_scsi_fail(task, TT_SK_ILLEGAL_REQUEST, TT_ASC_PARAMETER_LIST_LENGTH_ERROR);
		return false;
	}
	s->src = tt_get_be16(d + 4);
	s->dst = tt_get_be16(d + 6);
	if (s->src >= xc->ncscd || s->dst >= xc->ncscd) {
		copy_aborted(task, ASC_CSCD_NOT_REACHABLE);
		return false;
	}
	src = xc->cscd[s->src];
	dst = xc->cscd[s->dst];
	sbs = src->bdev->block_size;
	dbs = dst->bdev->block_size;
	nblocks = tt_get_be16(d + 10);
	src_lba = tt_get_be64(d + 12);
	dst_lba = tt_get_be64(d + 20);
	s->len = nblocks * ((d[1] & 0x02) ? dbs : sbs); /* DC: counted in destination blocks */
	if (s->len % sbs || s->len % dbs) {
		param_error(task, ASC_INEXACT_SEGMENT, (uint16_t)(off + 10));
		return false;
	}
	if (src_lba > tt_lun_nblocks(src) || s->len / sbs > tt_lun_nblocks(src) - src_lba ||
	    dst_lba > tt_lun_nblocks(dst) || s->len / dbs > tt_lun_nblocks(dst) - dst_lba) {
		copy_aborted(task, TT_ASC_NO_ADDITIONAL_SENSE);
		return false;
	}
	if (s->len && tt_lun_write_protected(dst)) {
		copy_aborted(task, TT_ASC_WRITE_PROTECTED);
		return false;
	}
	s->src_off = src_lba * sbs;
	s->dst_off = dst_lba * dbs;
	xc->nseg++;
	return true;
}

/* Parameter list (SPC-4 6.4.3): header, CSCD descriptors, segment descriptors, inline data. */
static bool parse_list(struct tt_scsi_task *task, struct xcopy *xc, const uint8_t *p,
		       uint32_t plen)
{
	uint32_t cscd_len = tt_get_be16(p + 2), seg_len = tt_get_be32(p + 8);
	uint32_t inline_len = tt_get_be32(p + 12), off;

	if (inline_len) {
		param_error(task, ASC_INLINE_DATA_EXCEEDED, 12);
		return false;
	}
	if ((uint64_t)cscd_len + seg_len > XC_MAX_DESC_LIST ||
	    XC_HDR_LEN + (uint64_t)cscd_len + seg_len > plen) {
		tt_scsi_fail(task, TT_SK_ILLEGAL_REQUEST, TT_ASC_PARAMETER_LIST_LENGTH_ERROR);
		return false;
	}
	if (cscd_len % XC_CSCD_LEN) {
		param_error(task, TT_ASC_INVALID_FIELD_IN_PARAM_LIST, 2);
		return false;
	}
	if (cscd_len / XC_CSCD_LEN > XC_MAX_CSCD) {
		param_error(task, ASC_TOO_MANY_CSCD, 2);
		return false;
	}
	for (off = XC_HDR_LEN; off < XC_HDR_LEN + cscd_len; off += XC_CSCD_LEN)
		if (!parse_cscd(task, xc, p + off, (uint16_t)off))
			return false;
	for (; off < XC_HDR_LEN + cscd_len + seg_len; off += XC_SEG_B2B_LEN) {
		if (xc->nseg == XC_MAX_SEGMENTS) {
			param_error(task, ASC_TOO_MANY_SEGMENTS, 8);
			return false;
		}
		if (!parse_segment(task, xc, p + off, XC_HDR_LEN + cscd_len + seg_len - off,
				   (uint16_t)off))
			return false;
	}
	return true;
}

enum tt_exec_rc tt_spc_extended_copy(struct tt_scsi_task *task)
{
	uint32_t plen = tt_get_be32(task->cdb + 10);
	const uint8_t *p = task->buf;
	uint8_t list_id, usage;
	struct xcopy *xc;
	int rc;

	task->cmd_len = plen;
	if (plen == 0)
		return TT_EXEC_DONE;
	if (plen < XC_HDR_LEN || plen > tt_task_out_len(task)) {
		tt_scsi_fail(task, TT_SK_ILLEGAL_REQUEST, TT_ASC_PARAMETER_LIST_LENGTH_ERROR);
		return TT_EXEC_DONE;
	}
	list_id = p[0];
	usage = (p[1] >> 3) & 0x3;
	if (usage == 1 || (p[1] & 0xc0) || (usage == 3 && list_id)) {
		param_error(task, TT_ASC_INVALID_FIELD_IN_PARAM_LIST, usage == 3 && list_id ? 0 : 1);
		return TT_EXEC_DONE;
	}
	xc = calloc(1, sizeof(*xc));
	if (!xc) {
		tt_scsi_fail_errno(task, -ENOMEM, true);
		return TT_EXEC_DONE;
	}
	xc->task = task;
	/* 00b: results held (also those of a parameter list in error); 10b and 11b: not held */
	rc = usage == 3 ? 0 : result_start(task->lun->naa_id, nexus_id_of(task), list_id, usage == 0,
					   &xc->res);
	if (rc) {
		xc_free(xc);
		tt_scsi_fail(task, TT_SK_ILLEGAL_REQUEST, ASC_OPERATION_IN_PROGRESS);
		return TT_EXEC_DONE;
	}
	if (!parse_list(task, xc, p, plen)) {
		xc_record(xc);
		xc_free(xc);
		return TT_EXEC_DONE;
	}
	for (unsigned i = 0; i < xc->nseg; i++) {
		uint64_t len = xc->seg[i].len;
		if (len && !xc->buf) {
			if (posix_memalign(&xc->buf, TT_BDEV_BUF_ALIGN, XC_CHUNK))
				xc->buf = NULL;
			if (!xc->buf) {
				tt_scsi_fail_errno(task, -ENOMEM, true);
				xc_record(xc);
				xc_free(xc);
				return TT_EXEC_DONE;
			}
		}
	}
	xc->in_exec = true;
	xc_step(xc);
	if (task->state != TT_TASK_COMPLETING) /* still copying (else xc is freed already) */
		xc->in_exec = false;
	return TT_EXEC_PENDING;
}

/* --- RECEIVE COPY RESULTS --------------------------------------------------------------------- */

static void put_op_params(const struct tt_lun *lun, uint8_t *b, size_t *n)
{
	uint64_t max_seg = (uint64_t)0xffff * lun->bdev->block_size;

	memset(b, 0, 44);
	tt_put_be16(b + 8, XC_MAX_CSCD);
	tt_put_be16(b + 10, XC_MAX_SEGMENTS);
	tt_put_be32(b + 12, XC_MAX_DESC_LIST);
	tt_put_be32(b + 16, max_seg > UINT32_MAX ? UINT32_MAX : (uint32_t)max_seg);
	tt_put_be32(b + 20, 0);          /* MAXIMUM INLINE DATA LENGTH */
	tt_put_be32(b + 24, 0);          /* HELD DATA LIMIT */
	tt_put_be32(b + 28, 0);          /* MAXIMUM STREAM DEVICE TRANSFER SIZE */
	tt_put_be16(b + 34, XC_HELD_RESULTS);
	b[36] = 1;                       /* MAXIMUM CONCURRENT COPIES */
	b[37] = (uint8_t)__builtin_ctz(lun->bdev->block_size); /* DATA SEGMENT GRANULARITY */
	b[43] = sizeof(supported_descriptors);
	memcpy(b + 44, supported_descriptors, sizeof(supported_descriptors));
	*n = 44 + sizeof(supported_descriptors);
	tt_put_be32(b, (uint32_t)(*n - 4));
}

enum tt_exec_rc tt_spc_receive_copy_results(struct tt_scsi_task *task)
{
	uint8_t sa = task->cdb[1] & 0x1f, list_id = task->cdb[2];
	uint32_t alloc = tt_get_be32(task->cdb + 10);
	uint8_t b[64 + TT_SENSE_MAX];
	struct xc_result *r;
	size_t n = 0;

	task->cmd_len = alloc;
	if (sa == RCR_OP_PARAMS) {
		put_op_params(task->lun, b, &n);
		tt_task_data_in(task, b, (uint32_t)n, alloc);
		return TT_EXEC_DONE;
	}
	pthread_mutex_lock(&results_lock);
	r = result_find_locked(task->lun->naa_id, nexus_id_of(task), list_id);
	if (!r || (sa == RCR_FAILED_SEGMENT && r->status == XC_IN_PROGRESS)) {
		pthread_mutex_unlock(&results_lock);
		tt_scsi_invalid_cdb(task, 2, -1);
		return TT_EXEC_DONE;
	}
	memset(b, 0, sizeof(b));
	switch (sa) {
	case RCR_COPY_STATUS: {
		uint64_t count = r->bytes;
		uint8_t units = 0;

		while (count > UINT32_MAX) { /* TRANSFER COUNT UNITS: 2^10 steps */
			count >>= 10;
			units++;
		}
		b[4] = r->status;
		tt_put_be16(b + 5, r->segments);
		b[7] = units;
		tt_put_be32(b + 8, (uint32_t)count);
		n = 12;
		if (r->status != XC_IN_PROGRESS && !r->sense_len)
			r->used = false; /* delivered; failure details stay for their own request */
		break;
	}
	case RCR_RECEIVE_DATA:
		n = 4; /* block-to-block segments hold no data */
		break;
	default: /* RCR_FAILED_SEGMENT */
		if (r->status == XC_GOOD) {
			n = 4;
		} else {
			b[56] = TT_SAM_CHECK_CONDITION;
			tt_put_be16(b + 58, r->sense_len);
			memcpy(b + 60, r->sense, r->sense_len);
			n = 60 + r->sense_len;
		}
		r->used = false;
		break;
	}
	pthread_mutex_unlock(&results_lock);
	tt_put_be32(b, (uint32_t)(n - 4));
	tt_task_data_in(task, b, (uint32_t)n, alloc);
	return TT_EXEC_DONE;
}

/* --- Third-party Copy VPD page (SPC-4 7.8.17) ------------------------------------------------ */

size_t tt_xcopy_vpd_page(const struct tt_lun *lun, uint8_t *buf, size_t len)
{
	static const uint8_t commands[] = {
		TT_OP_EXTENDED_COPY, 1, 0x00,
		TT_OP_RECEIVE_COPY_RESULTS, 4, RCR_COPY_STATUS, RCR_RECEIVE_DATA, RCR_OP_PARAMS,
		RCR_FAILED_SEGMENT,
	};
	uint8_t *d = buf + 4;
	size_t dlen;

	(void)lun;
	if (len < 4 + 16 + 32 + 12)
		return 4;
	/* SUPPORTED COMMANDS (0001h), padded to a multiple of 4 */
	dlen = (1 + sizeof(commands) + 3) & ~(size_t)3;
	memset(d, 0, 4 + dlen);
	tt_put_be16(d, 0x0001);
	tt_put_be16(d + 2, (uint16_t)dlen);
	d[4] = sizeof(commands);
	memcpy(d + 5, commands, sizeof(commands));
	d += 4 + dlen;
	/* PARAMETER DATA (0008h) */
	memset(d, 0, 32);
	tt_put_be16(d, 0x0008);
	tt_put_be16(d + 2, 28);
	tt_put_be16(d + 6, XC_MAX_CSCD);
	tt_put_be16(d + 8, XC_MAX_SEGMENTS);
	tt_put_be32(d + 10, XC_MAX_DESC_LIST);
	tt_put_be32(d + 14, 0); /* MAXIMUM INLINE DATA LENGTH */
	d += 32;
	/* SUPPORTED DESCRIPTORS (0009h) */
	dlen = (1 + sizeof(supported_descriptors) + 3) & ~(size_t)3;
	memset(d, 0, 4 + dlen);
	tt_put_be16(d, 0x0009);
	tt_put_be16(d + 2, (uint16_t)dlen);
	d[4] = sizeof(supported_descriptors);
	memcpy(d + 5, supported_descriptors, sizeof(supported_descriptors));
	d += 4 + dlen;
	return (size_t)(d - buf);
}
