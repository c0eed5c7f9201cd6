/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Logical block provisioning status: GET LBA STATUS (16) (SBC-4 5.7). UNMAP and WRITE SAME,
 * which deallocate, are in lbp.c.
 *
 * The status comes from the backend (tt_bdev_get_status): the ram backend knows the pages
 * written since their last deallocation, the file backend asks the file system for holes
 * (SEEK_DATA / SEEK_HOLE), others report everything mapped; a LUN that does not report logical
 * block provisioning (not thin, or no_thin) reports every block mapped. Deallocated blocks read
 * as zeroes (LBPRZ). No block is ever anchored.
 *
 * One descriptor covers an extent of one status (at most 2^32 - 1 blocks); the response holds
 * as many as the allocation length allows, up to GLS_MAX_DESC, from the starting LBA on. REPORT
 * TYPE (SBC-4) filters the extents: 0 all, 1 not mapped, 2 mapped, 3 deallocated, 4 anchored.
 */
#include "scsi/core.h"
#include "scsi/cdb.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define GLS_HEADER 8
#define GLS_DESC 16
#define GLS_MAX_DESC 512u
#define GLS_MAX_BLOCKS 0xffffffffull /* NUMBER OF LOGICAL BLOCKS of a descriptor */

enum gls_prov {
	PROV_MAPPED = 0,
	PROV_DEALLOCATED = 1,
	PROV_ANCHORED = 2,
};

enum gls_report {
	REPORT_ALL = 0,
	REPORT_NOT_MAPPED = 1,
	REPORT_MAPPED = 2,
	REPORT_DEALLOCATED = 3,
	REPORT_ANCHORED = 4,
};

/* COMPLETION CONDITION (SBC-4): why the list ends. */
#define GLS_DONE_ALLOC    1
#define GLS_DONE_CAPACITY 3

static bool reported(uint8_t report_type, enum gls_prov prov)
{
	switch (report_type) {
	case REPORT_ALL:
		return true;
	case REPORT_NOT_MAPPED:
		return prov != PROV_MAPPED;
	case REPORT_MAPPED:
		return prov == PROV_MAPPED;
	case REPORT_DEALLOCATED:
		return prov == PROV_DEALLOCATED;
	default:
		return prov == PROV_ANCHORED;
	}
}

/*
 * The extent of one status from @lba (< capacity): sets *@prov and *@nblocks (1..2^32 - 1).
 * Returns 0 or -errno.
 */
static int extent(struct tt_lun *lun, uint64_t lba, enum gls_prov *prov, uint64_t *nblocks)
{
	uint64_t capacity = tt_lun_nblocks(lun), run = 0;
	uint32_t bs = lun->bdev->block_size;
	bool mapped = true, first = true;

	if (!tt_sbc_lbp(lun)) {
		*prov = PROV_MAPPED;
		*nblocks = capacity - lba < GLS_MAX_BLOCKS ? capacity - lba : GLS_MAX_BLOCKS;
		return 0;
	}
	/* backends may answer in pieces (a file's extents): join those of one status */
	while (lba + run < capacity && run < GLS_MAX_BLOCKS) {
		uint64_t max = capacity - lba - run, len;
		bool m;
		int rc;

		if (max > GLS_MAX_BLOCKS - run)
			max = GLS_MAX_BLOCKS - run;
		rc = tt_bdev_get_status(lun->bdev, (lba + run) * bs, max * bs, &m, &len);
		if (rc < 0)
			return rc;
		if (!first && m != mapped)
			break;
		mapped = m;
		first = false;
		run += len / bs;
	}
	*prov = mapped ? PROV_MAPPED : PROV_DEALLOCATED;
	*nblocks = run;
	return 0;
}

enum tt_exec_rc tt_sbc_get_lba_status(struct tt_scsi_task *task)
{
	const uint8_t *cdb = task->cdb;
	struct tt_lun *lun = task->lun;
	uint64_t lba = tt_get_be64(cdb + 2), capacity = tt_lun_nblocks(lun);
	uint32_t alloc = tt_get_be32(cdb + 10), max_desc, n = 0;
	uint8_t report_type = cdb[14], done = GLS_DONE_CAPACITY;
	uint8_t *buf;
	size_t len;

	task->cmd_len = alloc;
	if (report_type > REPORT_ANCHORED) {
		tt_scsi_invalid_cdb(task, 14, -1);
		return TT_EXEC_DONE;
	}
	if (lba >= capacity) {
		tt_scsi_fail(task, TT_SK_ILLEGAL_REQUEST, TT_ASC_LBA_OUT_OF_RANGE);
		return TT_EXEC_DONE;
	}
	/* at least one descriptor, even if the allocation length cuts it */
	max_desc = alloc > GLS_HEADER + GLS_DESC ? (alloc - GLS_HEADER) / GLS_DESC : 1;
	if (max_desc > GLS_MAX_DESC)
		max_desc = GLS_MAX_DESC;
	buf = malloc(GLS_HEADER + (size_t)GLS_DESC * max_desc);
	if (!buf) {
		tt_scsi_fail_errno(task, -ENOMEM, false);
		return TT_EXEC_DONE;
	}
	while (lba < capacity) {
		enum gls_prov prov;
		uint64_t nblocks;
		int rc;

		if (n == max_desc) {
			done = GLS_DONE_ALLOC;
			break;
		}
		rc = extent(lun, lba, &prov, &nblocks);
		if (rc < 0) {
			free(buf);
			tt_scsi_fail_errno(task, rc, false);
			return TT_EXEC_DONE;
		}
		if (reported(report_type, prov)) {
			uint8_t *d = buf + GLS_HEADER + GLS_DESC * n++;

			memset(d, 0, GLS_DESC);
			tt_put_be64(d, lba);
			tt_put_be32(d + 8, (uint32_t)nblocks);
			d[12] = prov;
		}
		lba += nblocks;
	}
	len = GLS_HEADER + (size_t)GLS_DESC * n;
	memset(buf, 0, GLS_HEADER);
	tt_put_be32(buf, (uint32_t)(len - 4)); /* PARAMETER DATA LENGTH */
	buf[7] = (uint8_t)(done << 1 | 0x01);  /* COMPLETION CONDITION, RTP: report type processed */
	tt_task_data_in(task, buf, (uint32_t)len, alloc);
	free(buf);
	return TT_EXEC_DONE;
}
