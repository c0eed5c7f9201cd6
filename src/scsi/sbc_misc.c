/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Block commands with little to do on a virtual disk: PRE-FETCH (10)/(16), READ DEFECT DATA
 * (10)/(12), PREVENT ALLOW MEDIUM REMOVAL.
 *
 * PRE-FETCH checks its range and answers GOOD: the backends keep no cache of their own that the
 * target could fill, and GOOD (rather than CONDITION MET) tells that the blocks were not all
 * placed in a cache. A virtual disk has no defects: READ DEFECT DATA returns empty lists in the
 * format asked for. The medium is not removable (INQUIRY RMB 0), so PREVENT ALLOW MEDIUM REMOVAL
 * has nothing to lock: PREVENT 00b and 01b succeed, the obsolete values are refused.
 * SANITIZE is in sanitize.c.
 */
#include "scsi/core.h"
#include "scsi/cdb.h"

#include <string.h>

enum tt_exec_rc tt_sbc_prefetch(struct tt_scsi_task *task)
{
	const uint8_t *cdb = task->cdb;
	bool sixteen = cdb[0] == TT_OP_PRE_FETCH_16;
	uint64_t lba = sixteen ? tt_get_be64(cdb + 2) : tt_get_be32(cdb + 2);
	uint32_t nblocks = sixteen ? tt_get_be32(cdb + 10) : tt_get_be16(cdb + 7);

	tt_sbc_lba_range_ok(task, lba, nblocks);
	return TT_EXEC_DONE;
}

#define DEFECT_REQ_PLIST 0x10
#define DEFECT_REQ_GLIST 0x08
#define DEFECT_FORMAT    0x07

enum tt_exec_rc tt_sbc_read_defect_data(struct tt_scsi_task *task)
{
	const uint8_t *cdb = task->cdb;
	bool twelve = cdb[0] == TT_OP_READ_DEFECT_DATA_12;
	uint8_t flags = twelve ? cdb[1] : cdb[2];
	uint32_t alloc = twelve ? tt_get_be32(cdb + 6) : tt_get_be16(cdb + 7);
	uint8_t buf[8];

	/* header: PLISTV / GLISTV for the lists asked for (both empty), the format asked for, and
	 * a DEFECT LIST LENGTH of zero (bytes 2..3 of the 10-byte form, 4..7 of the 12-byte one) */
	memset(buf, 0, sizeof(buf));
	buf[1] = flags & (DEFECT_REQ_PLIST | DEFECT_REQ_GLIST | DEFECT_FORMAT);
	tt_task_data_in(task, buf, twelve ? 8 : 4, alloc);
	return TT_EXEC_DONE;
}

enum tt_exec_rc tt_sbc_prevent_allow(struct tt_scsi_task *task)
{
	if ((task->cdb[4] & 0x03) > 1) { /* PREVENT 10b, 11b: obsolete */
		tt_scsi_invalid_cdb(task, 4, 1);
		return TT_EXEC_DONE;
	}
	return TT_EXEC_DONE;
}
