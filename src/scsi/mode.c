/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Mode parameters (SPC-4 7.5, SBC-3 6.4): MODE SENSE (6)/(10) and MODE SELECT (6)/(10) over the
 * caching (08h), control (0Ah) and informational exceptions control (1Ch) pages.
 * Changeable: WCE (when the backend has a volatile cache), SWP and D_SENSE. Values are per logical
 * unit (shared by all I_T nexuses) and not saved.
 */
#include "scsi/core.h"
#include "scsi/cdb.h"

#include <string.h>

#define PAGE_CACHING 0x08
#define PAGE_CONTROL 0x0a
#define PAGE_IEC     0x1c
#define PAGE_ALL     0x3f

enum page_control {
	PC_CURRENT = 0,
	PC_CHANGEABLE = 1,
	PC_DEFAULT = 2,
	PC_SAVED = 3,
};

struct mode_values {
	bool wce, swp, d_sense;
};

#define PAGE_MAX 20

/* Builds page @code as @pc asks (values from @v) into @p; returns its length, 0 if unknown. */
static size_t page_build(const struct tt_lun *lun, uint8_t code, enum page_control pc,
			 const struct mode_values *v, uint8_t *p)
{
	bool chg = pc == PC_CHANGEABLE;

	memset(p, 0, PAGE_MAX);
	p[0] = code;
	switch (code) {
	case PAGE_CACHING:
		p[1] = 0x12;
		if (chg)
			p[2] = lun->bdev->volatile_cache ? 0x04 : 0;
		else
			p[2] = v->wce ? 0x04 : 0; /* WCE */
		return 20;
	case PAGE_CONTROL:
		p[1] = 0x0a;
		if (chg) {
			p[2] = 0x04; /* D_SENSE */
			p[4] = 0x08; /* SWP */
			return 12;
		}
		p[2] = v->d_sense ? 0x04 : 0; /* TST 000b: one task set for all I_T nexuses */
		p[3] = 0x10;                  /* QUEUE ALGORITHM MODIFIER 1: unrestricted; QERR 00b */
		p[4] = v->swp ? 0x08 : 0;
		p[5] = 0x40;                  /* TAS */
		return 12;
	case PAGE_IEC:
		p[1] = 0x0a;
		if (!chg)
			p[2] = 0x08; /* DEXCPT: no informational exceptions are reported */
		return 12;
	default:
		return 0;
	}
}

static void values_current(const struct tt_lun *lun, struct mode_values *v)
{
	v->wce = tt_lun_wce(lun);
	v->swp = tt_lun_swp(lun);
	v->d_sense = tt_lun_d_sense(lun);
}

static void values_default(const struct tt_lun *lun, struct mode_values *v)
{
	v->wce = lun->bdev->volatile_cache;
	v->swp = false;
	v->d_sense = false;
}

void tt_mode_init(struct tt_lun *lun)
{
	struct mode_values v;

	values_default(lun, &v);
	lun->state->wce = v.wce;
	lun->state->swp = v.swp;
	lun->state->d_sense = v.d_sense;
}

enum tt_exec_rc tt_spc_mode_sense(struct tt_scsi_task *task)
{
	static const uint8_t all_pages[] = { PAGE_CACHING, PAGE_CONTROL, PAGE_IEC };
	const uint8_t *cdb = task->cdb;
	struct tt_lun *lun = task->lun;
	bool six = cdb[0] == TT_OP_MODE_SENSE_6;
	bool dbd = cdb[1] & 0x08;
	bool llbaa = !six && (cdb[1] & 0x10);
	enum page_control pc = (enum page_control)(cdb[2] >> 6);
	uint8_t page = cdb[2] & 0x3f, subpage = cdb[3];
	uint32_t alloc = six ? cdb[4] : tt_get_be16(cdb + 7);
	uint32_t bs = lun->bdev->block_size;
	uint64_t nblocks = tt_lun_nblocks(lun);
	struct mode_values v;
	uint8_t buf[256];
	size_t off, hdr = six ? 4 : 8;

	task->cmd_len = alloc;
	if (pc == PC_SAVED) {
		tt_scsi_fail(task, TT_SK_ILLEGAL_REQUEST, TT_ASC_SAVING_PARAMS_NOT_SUPPORTED);
		return TT_EXEC_DONE;
	}
	if (page == PAGE_ALL ? (subpage != 0x00 && subpage != 0xff) : subpage != 0) {
		tt_scsi_invalid_cdb(task, 3, -1);
		return TT_EXEC_DONE;
	}
	if (pc == PC_DEFAULT)
		values_default(lun, &v);
	else
		values_current(lun, &v);

	memset(buf, 0, sizeof(buf));
	off = hdr;
	if (!dbd) {
		size_t bdlen = llbaa ? 16 : 8;
		uint8_t *bd = buf + off;

		if (pc != PC_CHANGEABLE) {
			if (llbaa) {
				tt_put_be64(bd, nblocks);
				tt_put_be32(bd + 12, bs);
			} else {
				tt_put_be32(bd, nblocks > UINT32_MAX ? UINT32_MAX : (uint32_t)nblocks);
				tt_put_be24(bd + 5, bs);
			}
		}
		if (six) {
			buf[3] = (uint8_t)bdlen;
		} else {
			buf[4] = llbaa ? 0x01 : 0x00; /* LONGLBA */
			tt_put_be16(buf + 6, (uint16_t)bdlen);
		}
		off += bdlen;
	}
	if (page == PAGE_ALL) {
		for (size_t i = 0; i < sizeof(all_pages); i++)
			off += page_build(lun, all_pages[i], pc, &v, buf + off);
	} else {
		size_t n = page_build(lun, page, pc, &v, buf + off);
		if (!n) {
			tt_scsi_invalid_cdb(task, 2, 5);
			return TT_EXEC_DONE;
		}
		off += n;
	}
	/* medium type 0; device-specific parameter: WP, DPOFUA */
	if (six) {
		buf[0] = (uint8_t)(off - 1);
		buf[2] = (tt_lun_write_protected(lun) ? 0x80 : 0) | 0x10;
	} else {
		tt_put_be16(buf, (uint16_t)(off - 2));
		buf[3] = (tt_lun_write_protected(lun) ? 0x80 : 0) | 0x10;
	}
	tt_task_data_in(task, buf, (uint32_t)off, alloc);
	return TT_EXEC_DONE;
}

static bool length_error(struct tt_scsi_task *task)
{
	tt_scsi_fail(task, TT_SK_ILLEGAL_REQUEST, TT_ASC_PARAMETER_LIST_LENGTH_ERROR);
	return false;
}

/* Checks the block descriptor(s) of a MODE SELECT: only the current geometry is accepted. */
static bool check_block_descriptors(struct tt_scsi_task *task, const uint8_t *p, size_t off,
				    size_t bdlen, bool longlba)
{
	uint32_t bs = task->lun->bdev->block_size;
	uint64_t nblocks = tt_lun_nblocks(task->lun);
	size_t each = longlba ? 16 : 8;

	for (size_t d = off; d + each <= off + bdlen; d += each) {
		uint64_t count = longlba ? tt_get_be64(p + d) : tt_get_be32(p + d);
		uint32_t len = longlba ? tt_get_be32(p + d + 12) : tt_get_be24(p + d + 5);
		uint64_t shown = longlba || nblocks <= UINT32_MAX ? nblocks : UINT32_MAX;

		if (count && count != shown) {
			tt_scsi_invalid_param(task, (uint16_t)d, -1);
			return false;
		}
		if (len != bs) {
			tt_scsi_invalid_param(task, (uint16_t)(d + (longlba ? 12 : 5)), -1);
			return false;
		}
	}
	return true;
}

/* Checks one page against the current values and the changeable mask, and takes its values. */
static bool select_page(struct tt_scsi_task *task, const uint8_t *p, size_t off, size_t have,
			struct mode_values *v)
{
	struct tt_lun *lun = task->lun;
	uint8_t code = p[off] & 0x3f;
	uint8_t cur[PAGE_MAX], chg[PAGE_MAX];
	size_t n, plen;

	if (p[off] & 0x40) { /* SPF: no subpages here */
		tt_scsi_invalid_param(task, (uint16_t)off, 6);
		return false;
	}
	if (off + 2 > have)
		return length_error(task);
	plen = (size_t)p[off + 1] + 2;
	if (off + plen > have)
		return length_error(task);
	n = page_build(lun, code, PC_CURRENT, v, cur);
	if (!n) {
		tt_scsi_invalid_param(task, (uint16_t)off, 5);
		return false;
	}
	if (plen != n) {
		tt_scsi_invalid_param(task, (uint16_t)(off + 1), -1);
		return false;
	}
	page_build(lun, code, PC_CHANGEABLE, v, chg);
	for (size_t i = 2; i < n; i++) {
		uint8_t bad = (uint8_t)((p[off + i] ^ cur[i]) & ~chg[i]);
		if (bad) {
			tt_scsi_invalid_param(task, (uint16_t)(off + i), 31 - __builtin_clz(bad));
			return false;
		}
	}
	switch (code) {
	case PAGE_CACHING:
		v->wce = p[off + 2] & 0x04;
		break;
	case PAGE_CONTROL:
		v->d_sense = p[off + 2] & 0x04;
		v->swp = p[off + 4] & 0x08;
		break;
	default:
		break;
	}
	return true;
}

static bool select_params(struct tt_scsi_task *task, const uint8_t *p, size_t have, bool six,
			  struct mode_values *v)
{
	size_t hdr = six ? 4 : 8, bdlen, off;
	bool longlba;

	if (have < hdr) /* p may be NULL when no data came */
		return length_error(task);
	longlba = !six && (p[4] & 0x01);
	bdlen = six ? p[3] : tt_get_be16(p + 6);
	if (bdlen % (longlba ? 16 : 8)) {
		tt_scsi_invalid_param(task, six ? 3 : 6, -1);
		return false;
	}
	if (hdr + bdlen > have)
		return length_error(task);
	if (!check_block_descriptors(task, p, hdr, bdlen, longlba))
		return false;
	for (off = hdr + bdlen; off < have; off += (size_t)p[off + 1] + 2)
		if (!select_page(task, p, off, have, v))
			return false;
	return true;
}

enum tt_exec_rc tt_spc_mode_select(struct tt_scsi_task *task)
{
	const uint8_t *cdb = task->cdb;
	struct tt_lun *lun = task->lun;
	struct tt_lu_state *st = lun->state;
	bool six = cdb[0] == TT_OP_MODE_SELECT_6;
	uint32_t plen = six ? cdb[4] : tt_get_be16(cdb + 7);
	uint32_t have = plen;
	struct mode_values old, v;
	bool ok;

	task->cmd_len = plen;
	if (cdb[1] & 0x01) { /* SP: nothing can be saved */
		tt_scsi_invalid_cdb(task, 1, 0);
		return TT_EXEC_DONE;
	}
	if (!plen)
		return TT_EXEC_DONE;
	if (!(cdb[1] & 0x10)) { /* PF 0: vendor specific pages, none here */
		tt_scsi_invalid_cdb(task, 1, 4);
		return TT_EXEC_DONE;
	}
	if (have > tt_task_out_len(task))
		have = tt_task_out_len(task);

	pthread_mutex_lock(&lun->lock);
	values_current(lun, &old);
	v = old;
	ok = select_params(task, task->buf, have, six, &v);
	if (ok) {
		__atomic_store_n(&st->wce, v.wce, __ATOMIC_RELAXED);
		__atomic_store_n(&st->swp, v.swp, __ATOMIC_RELAXED);
		__atomic_store_n(&st->d_sense, v.d_sense, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&lun->lock);
	if (ok && (old.wce != v.wce || old.swp != v.swp || old.d_sense != v.d_sense))
		tt_lun_ua_raise(lun, TT_UA_MODE_PARAMETERS_CHANGED, task->nexus);
	return TT_EXEC_DONE;
}
