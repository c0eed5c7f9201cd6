/* SPDX-License-Identifier: BSD-3-Clause */
/* MODE SENSE / MODE SELECT and what the pages change (SWP, D_SENSE, WCE). */
#include "scsi_util.h"

#include <unistd.h>

static size_t sense6(uint8_t *c, bool dbd, uint8_t pc, uint8_t page, uint8_t subpage, uint8_t alloc)
{
	memset(c, 0, 6);
	c[0] = TT_OP_MODE_SENSE_6;
	c[1] = dbd ? 0x08 : 0;
	c[2] = (uint8_t)(pc << 6 | page);
	c[3] = subpage;
	c[4] = alloc;
	return 6;
}

static size_t sense10(uint8_t *c, bool llbaa, uint8_t pc, uint8_t page, uint16_t alloc)
{
	memset(c, 0, 10);
	c[0] = TT_OP_MODE_SENSE_10;
	c[1] = llbaa ? 0x10 : 0;
	c[2] = (uint8_t)(pc << 6 | page);
	tt_put_be16(c + 7, alloc);
	return 10;
}

static size_t select6(uint8_t *c, uint8_t flags, uint8_t len)
{
	memset(c, 0, 6);
	c[0] = TT_OP_MODE_SELECT_6;
	c[1] = flags;
	c[4] = len;
	return 6;
}

/* The page @code in MODE SENSE data of @hdr header bytes, or NULL. */
static const uint8_t *find_page(const uint8_t *d, size_t total, size_t hdr, size_t bdlen, uint8_t code)
{
	for (size_t off = hdr + bdlen; off + 2 <= total; off += 2 + d[off + 1])
		if ((d[off] & 0x3f) == code)
			return d + off;
	return NULL;
}

static void test_mode_sense(void **state)
{
	struct env *e = env_new("ram:1M");
	struct ttask *tt = ttask_new();
	const uint8_t *p;
	uint8_t c[16];
	bool over;

	(void)state;
	run_in(e, tt, c, sense6(c, false, 0, 0x3f, 0, 255), 255);
	assert_good(tt);
	assert_int_equal(tt->t.data_len, tt->data[0] + 1);
	assert_int_equal(tt->t.data_len, 4 + 8 + 20 + 12 + 12);
	assert_int_equal(tt->data[2], 0x10); /* DPOFUA, not write protected */
	assert_int_equal(tt->data[3], 8);
	assert_int_equal(tt_get_be32(tt->data + 4), 2048);
	assert_int_equal(tt_get_be24(tt->data + 9), 512);
	p = find_page(tt->data, tt->t.data_len, 4, 8, 0x08);
	assert_non_null(p);
	assert_int_equal(p[1], 0x12);
	assert_int_equal(p[2] & 0x04, 0); /* WCE: ram has no volatile cache */
	p = find_page(tt->data, tt->t.data_len, 4, 8, 0x0a);
	assert_non_null(p);
	assert_int_equal(p[1], 0x0a);
	assert_int_equal(p[2] & 0x04, 0); /* D_SENSE */
	assert_int_equal(p[5] & 0x40, 0x40); /* TAS */
	assert_non_null(find_page(tt->data, tt->t.data_len, 4, 8, 0x1c));
	assert_int_equal(tt_scsi_task_residual(&tt->t, &over), 255 - 56);
	assert_false(over);

	/* short allocation: no residual overflow */
	run_in(e, tt, c, sense6(c, false, 0, 0x3f, 0, 4), 4);
	assert_good(tt);
	assert_int_equal(tt->t.data_len, 4);
	assert_int_equal(tt->data[0], 55);
	assert_int_equal(tt_scsi_task_residual(&tt->t, &over), 0);

	/* DBD, one page */
	run_in(e, tt, c, sense6(c, true, 0, 0x0a, 0, 255), 255);
	assert_good(tt);
	assert_int_equal(tt->data[3], 0);
	assert_int_equal(tt->t.data_len, 4 + 12);
	assert_int_equal(tt->data[4], 0x0a);

	/* changeable values */
	run_in(e, tt, c, sense6(c, true, 1, 0x3f, 0xff, 255), 255);
	assert_good(tt);
	p = find_page(tt->data, tt->t.data_len, 4, 0, 0x0a);
	assert_non_null(p);
	assert_int_equal(p[2], 0x04);
	assert_int_equal(p[4], 0x08);
	p = find_page(tt->data, tt->t.data_len, 4, 0, 0x08);
	assert_int_equal(p[2], 0x00);

	/* MODE SENSE (10) with long LBA descriptor */
	run_in(e, tt, c, sense10(c, true, 0, 0x08, 512), 512);
	assert_good(tt);
	assert_int_equal(tt_get_be16(tt->data), tt->t.data_len - 2);
	assert_int_equal(tt->data[4] & 1, 1);
	assert_int_equal(tt_get_be16(tt->data + 6), 16);
	assert_true(tt_get_be64(tt->data + 8) == 2048);
	assert_int_equal(tt_get_be32(tt->data + 20), 512);
	assert_int_equal(tt->data[24], 0x08);

	/* saved values, unknown page, bad subpage */
	run_in(e, tt, c, sense6(c, false, 3, 0x3f, 0, 255), 255);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x39, 0x00);
	run_in(e, tt, c, sense6(c, false, 0, 0x19, 0, 255), 255);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	run_in(e, tt, c, sense6(c, false, 0, 0x0a, 1, 255), 255);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	free(tt);
	env_free(e);
}

/* Reads the current control page with a MODE SELECT (6) header in front: 4 + 12 bytes. */
static void control_page(struct env *e, struct ttask *tt, uint8_t *out)
{
	uint8_t c[6];

	run_in(e, tt, c, sense6(c, true, 0, 0x0a, 0, 255), 255);
	assert_good(tt);
	memcpy(out, tt->data, 16);
	out[0] = 0; /* MODE DATA LENGTH is reserved in MODE SELECT */
	out[2] = 0;
}

static void test_mode_select_swp(void **state)
{
	struct env *e = env_new("ram:1M");
	struct ttask *tt = ttask_new();
	uint8_t c[16], params[16];

	(void)state;
	control_page(e, tt, params);
	params[4 + 4] |= 0x08; /* SWP */
	memcpy(tt->data, params, 16);
	run_out(e, tt, c, select6(c, 0x10, 16), 16);
	assert_good(tt);
	assert_true(tt_lun_write_protected(e->lun));

	/* MODE SENSE shows it, writes are refused, reads work */
	run_in(e, tt, c, sense6(c, true, 0, 0x0a, 0, 255), 255);
	assert_int_equal(tt->data[2] & 0x80, 0x80);
	assert_int_equal(tt->data[4 + 4] & 0x08, 0x08);
	run_out(e, tt, c, cdb_rw10(c, TT_OP_WRITE_10, 0, 1, 0), 512);
	assert_sense(tt, TT_SK_DATA_PROTECT, 0x27, 0x00);
	run_in(e, tt, c, cdb_rw10(c, TT_OP_READ_10, 0, 1, 0), 512);
	assert_good(tt);

	/* the other nexus learns that parameters changed; this one does not */
	memset(c, 0, sizeof(c));
	ttask_run(e, tt, &e->nexus2, e->lun, c, 6, false, 0);
	assert_sense(tt, TT_SK_UNIT_ATTENTION, 0x2a, 0x01);
	assert_int_equal(tt_lun_ua_pending(e->lun, &e->nexus), 0);

	/* back */
	params[4 + 4] &= (uint8_t)~0x08;
	memcpy(tt->data, params, 16);
	run_out(e, tt, c, select6(c, 0x10, 16), 16);
	assert_good(tt);
	run_out(e, tt, c, cdb_rw10(c, TT_OP_WRITE_10, 0, 1, 0), 512);
	assert_good(tt);
	free(tt);
	env_free(e);
}

static void test_mode_select_d_sense(void **state)
{
	struct env *e = env_new("ram:1M");
	struct ttask *tt = ttask_new();
	uint8_t c[16], params[20];

	(void)state;
	/* MODE SELECT (10): 8-byte header, a block descriptor that matches, the control page */
	memset(params, 0, sizeof(params));
	control_page(e, tt, tt->data + 200);
	tt_put_be16(params + 6, 8);
	tt_put_be32(params + 8, 0);       /* number of blocks 0: unchanged */
	tt_put_be24(params + 13, 512);
	memset(tt->data, 0, 28);
	memcpy(tt->data, params, 16);
	memcpy(tt->data + 16, tt->data + 204, 12);
	tt->data[16 + 2] |= 0x04; /* D_SENSE */
	memset(c, 0, sizeof(c));
	c[0] = TT_OP_MODE_SELECT_10;
	c[1] = 0x10;
	tt_put_be16(c + 7, 28);
	run_out(e, tt, c, 10, 28);
	assert_good(tt);

	/* sense data now in descriptor format, with the INFORMATION descriptor */
	run_in(e, tt, c, cdb_rw16(c, TT_OP_READ_16, UINT64_MAX, 1, 0), 512);
	assert_int_equal(tt->t.status, TT_SAM_CHECK_CONDITION);
	assert_int_equal(tt->t.sense[0], 0x72);
	assert_int_equal(tt->t.sense[1], TT_SK_ILLEGAL_REQUEST);
	assert_int_equal(tt->t.sense[2], 0x21);
	run_in(e, tt, c, cdb_rw10(c, TT_OP_READ_10, 0, 1, 0x20), 512);
	assert_int_equal(tt->t.sense[0], 0x72);
	assert_int_equal(tt->t.sense[7], 8);
	assert_int_equal(tt->t.sense[8], 0x02);        /* sense key specific descriptor */
	assert_int_equal(tt->t.sense[12], 0x80 | 0x40 | 0x08 | 7);
	assert_int_equal(tt_get_be16(tt->t.sense + 13), 1);
	/* MISCOMPARE at offset 0 (the medium holds zeroes) */
	memset(tt->data, 0xaa, 512);
	run_out(e, tt, c, cdb_rw10(c, TT_OP_VERIFY_10, 5, 1, 0x02), 512);
	assert_sense(tt, TT_SK_MISCOMPARE, 0x1d, 0x00);
	assert_int_equal(tt->t.sense[8], 0x00);    /* information descriptor */
	assert_int_equal(tt->t.sense[10], 0x80);
	assert_true(tt_get_be64(tt->t.sense + 12) == 0);
	free(tt);
	env_free(e);
}

static void test_mode_select_errors(void **state)
{
	struct env *e = env_new("ram:1M");
	struct ttask *tt = ttask_new();
	uint8_t c[16], params[16];

	(void)state;
	control_page(e, tt, params);

	/* a field that is not changeable: TAS */
	memcpy(tt->data, params, 16);
	tt->data[4 + 5] &= (uint8_t)~0x40;
	run_out(e, tt, c, select6(c, 0x10, 16), 16);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x26, 0x00);
	assert_int_equal(tt->t.sense[15], 0x80 | 0x08 | 6); /* SKSV, C/D 0, BPV, bit 6 */
	assert_int_equal(tt_get_be16(tt->t.sense + 16), 9);
	/* a wrong page length */
	memcpy(tt->data, params, 16);
	tt->data[4 + 1] = 0x08;
	run_out(e, tt, c, select6(c, 0x10, 14), 14);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x26, 0x00);
	/* an unknown page */
	memcpy(tt->data, params, 16);
	tt->data[4] = 0x19;
	run_out(e, tt, c, select6(c, 0x10, 16), 16);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x26, 0x00);
	/* the page runs past the parameter list */
	memcpy(tt->data, params, 16);
	run_out(e, tt, c, select6(c, 0x10, 10), 10);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x1a, 0x00);
	/* shorter than the header */
	run_out(e, tt, c, select6(c, 0x10, 3), 3);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x1a, 0x00);
	/* SP, PF 0 */
	memcpy(tt->data, params, 16);
	run_out(e, tt, c, select6(c, 0x11, 16), 16);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	run_out(e, tt, c, select6(c, 0x00, 16), 16);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	/* a block descriptor with another block length */
	memset(tt->data, 0, 12);
	tt->data[3] = 8;
	tt_put_be24(tt->data + 4 + 5, 4096);
	run_out(e, tt, c, select6(c, 0x10, 12), 12);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x26, 0x00);
	/* an empty parameter list does nothing */
	run_out(e, tt, c, select6(c, 0x10, 0), 0);
	assert_good(tt);
	/* the same values again: accepted, no unit attention for the others */
	memcpy(tt->data, params, 16);
	run_out(e, tt, c, select6(c, 0x10, 16), 16);
	assert_good(tt);
	assert_int_equal(tt_lun_ua_pending(e->lun, &e->nexus2), 0);
	free(tt);
	env_free(e);
}

static void test_write_cache(void **state)
{
	char path[] = "/tmp/tt-scsi-mode-XXXXXX", spec[64];
	struct ttask *tt;
	struct env *e;
	const uint8_t *p;
	uint8_t c[16], params[4 + 20];
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	snprintf(spec, sizeof(spec), "file:%s,size=1M,create", path);
	e = env_new(spec);
	tt = ttask_new();
	assert_true(e->bdev->volatile_cache);
	run_in(e, tt, c, sense6(c, true, 0, 0x08, 0, 255), 255);
	assert_good(tt);
	assert_int_equal(tt->data[4 + 2] & 0x04, 0x04); /* WCE */
	memcpy(params, tt->data, sizeof(params));
	params[0] = 0;
	params[2] = 0;
	run_in(e, tt, c, sense6(c, true, 1, 0x08, 0, 255), 255);
	p = tt->data + 4;
	assert_int_equal(p[2], 0x04);

	/* WCE off: writes become FUA; still correct data */
	params[4 + 2] &= (uint8_t)~0x04;
	memcpy(tt->data, params, sizeof(params));
	run_out(e, tt, c, select6(c, 0x10, sizeof(params)), sizeof(params));
	assert_good(tt);
	assert_false(tt_lun_wce(e->lun));
	memset(tt->data, 0x5a, 512);
	run_out(e, tt, c, cdb_rw10(c, TT_OP_WRITE_10, 3, 1, 0), 512);
	assert_good(tt);
	memset(tt->data, 0, 512);
	run_in(e, tt, c, cdb_rw10(c, TT_OP_READ_10, 3, 1, 0), 512);
	assert_good(tt);
	assert_int_equal(tt->data[511], 0x5a);
	/* SYNCHRONIZE CACHE and START STOP UNIT (stop) flush */
	memset(c, 0, sizeof(c));
	c[0] = TT_OP_SYNCHRONIZE_CACHE_10;
	run_in(e, tt, c, 10, 0);
	assert_good(tt);
	memset(c, 0, sizeof(c));
	c[0] = TT_OP_START_STOP_UNIT;
	run_in(e, tt, c, 6, 0);
	assert_good(tt);
	free(tt);
	env_free(e);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mode_sense),
		cmocka_unit_test(test_mode_select_swp),
		cmocka_unit_test(test_mode_select_d_sense),
		cmocka_unit_test(test_mode_select_errors),
		cmocka_unit_test(test_write_cache),
	};

	return tt_run_group("mode_test", tests, NULL, NULL);
}
