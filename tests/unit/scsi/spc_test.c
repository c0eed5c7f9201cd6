/* SPDX-License-Identifier: BSD-3-Clause */
/* Primary commands through tt_scsi_exec on a real loop and ram backend. */
#include "scsi_util.h"

static void inquiry_cdb(uint8_t *c, bool evpd, uint8_t page, uint16_t alloc)
{
	memset(c, 0, 6);
	c[0] = TT_OP_INQUIRY;
	c[1] = evpd ? 1 : 0;
	c[2] = page;
	tt_put_be16(c + 3, alloc);
}

static void test_inquiry_standard(void **state)
{
	struct env *e = env_new("ram:64M");
	struct ttask *tt = ttask_new();
	uint8_t c[6];

	(void)state;
	inquiry_cdb(c, false, 0, 255);
	run_in(e, tt, c, 6, 255);
	assert_good(tt);
	assert_int_equal(tt->t.data_len, 96);
	assert_int_equal(tt->t.cmd_len, 255);
	assert_int_equal(tt->data[0], 0x00);        /* qualifier 0, direct access */
	assert_int_equal(tt->data[2], 0x06);        /* SPC-4 */
	assert_int_equal(tt->data[3], 0x12);        /* HISUP, format 2 */
	assert_int_equal(tt->data[4], 96 - 5);
	assert_int_equal(tt->data[7] & 0x02, 0x02); /* CMDQUE */
	assert_memory_equal(tt->data + 8, "TETHER  ", 8);
	assert_memory_equal(tt->data + 16, "RAMDISK         ", 16);
	assert_int_equal(tt_get_be16(tt->data + 58), 0x00a0); /* SAM-5 */
	assert_int_equal(tt_get_be16(tt->data + 64), 0x04c0); /* SBC-3 */
	/* underflow: edtl 255, 96 sent */
	bool over;
	assert_int_equal(tt_scsi_task_residual(&tt->t, &over), 255 - 96);
	assert_false(over);

	/* allocation length shorter than the data */
	inquiry_cdb(c, false, 0, 36);
	run_in(e, tt, c, 6, 36);
	assert_good(tt);
	assert_int_equal(tt->t.data_len, 36);
	assert_int_equal(tt_scsi_task_residual(&tt->t, &over), 0);

	/* EVPD 0 with a page code */
	inquiry_cdb(c, false, 0x80, 255);
	run_in(e, tt, c, 6, 255);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	assert_int_equal(tt->t.sense[15], 0x80 | 0x40); /* SKSV, C/D */
	assert_int_equal(tt_get_be16(tt->t.sense + 16), 2);
	assert_int_equal(tt->t.data_len, 0);

	/* an unsupported VPD page */
	inquiry_cdb(c, true, 0x99, 255);
	run_in(e, tt, c, 6, 255);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	free(tt);
	env_free(e);
}

/* Finds the designator of @type and @assoc in a VPD 83h page. */
static const uint8_t *find_designator(const uint8_t *p, uint8_t type, uint8_t assoc, uint8_t *len)
{
	size_t end = 4 + tt_get_be16(p + 2);

	for (size_t off = 4; off + 4 <= end; off += 4 + p[off + 3]) {
		if ((p[off + 1] & 0x0f) == type && ((p[off + 1] >> 4) & 0x3) == assoc) {
			*len = p[off + 3];
			return p + off;
		}
	}
	return NULL;
}

static void test_inquiry_vpd(void **state)
{
	struct env *e = env_new("ram:64M");
	struct ttask *tt = ttask_new();
	const uint8_t *d;
	uint8_t c[6], len;

	(void)state;
	inquiry_cdb(c, true, 0x00, 255);
	run_in(e, tt, c, 6, 255);
	assert_good(tt);
	assert_int_equal(tt->data[1], 0x00);
	assert_int_equal(tt_get_be16(tt->data + 2), 7);
	assert_memory_equal(tt->data + 4, "\x00\x80\x83\x8f\xb0\xb1\xb2", 7);
	assert_int_equal(tt->t.data_len, 11);

	inquiry_cdb(c, true, 0x80, 255);
	run_in(e, tt, c, 6, 255);
	assert_good(tt);
	assert_int_equal(tt_get_be16(tt->data + 2), strlen(e->lun->serial));
	assert_memory_equal(tt->data + 4, e->lun->serial, strlen(e->lun->serial));

	inquiry_cdb(c, true, 0x83, 512);
	run_in(e, tt, c, 6, 512);
	assert_good(tt);
	assert_int_equal(tt->t.data_len, 4 + tt_get_be16(tt->data + 2));
	/* NAA 6, 16 bytes, ends with the LUN's naa_id */
	d = find_designator(tt->data, 0x3, 0, &len);
	assert_non_null(d);
	assert_int_equal(len, 16);
	assert_int_equal(d[0] & 0x0f, 0x1); /* binary */
	assert_int_equal(d[4] >> 4, 0x6);
	assert_true(tt_get_be64(d + 12) == e->lun->naa_id);
	/* T10 vendor id */
	d = find_designator(tt->data, 0x1, 0, &len);
	assert_non_null(d);
	assert_memory_equal(d + 4, "TETHER  ", 8);
	/* target port name */
	d = find_designator(tt->data, 0x8, 1, &len);
	assert_non_null(d);
	assert_int_equal(len % 4, 0);
	assert_int_equal(d[0], 0x53);       /* iSCSI, UTF-8 */
	assert_int_equal(d[1] & 0x80, 0x80); /* PIV */
	assert_string_equal((const char *)d + 4, TEST_TARGET ",t,0x0001");
	/* relative target port, target port group */
	d = find_designator(tt->data, 0x4, 1, &len);
	assert_non_null(d);
	assert_int_equal(tt_get_be16(d + 6), 1);
	d = find_designator(tt->data, 0x5, 1, &len);
	assert_non_null(d);
	assert_int_equal(tt_get_be16(d + 6), 1);
	/* target device name */
	d = find_designator(tt->data, 0x8, 2, &len);
	assert_non_null(d);
	assert_string_equal((const char *)d + 4, TEST_TARGET);

	inquiry_cdb(c, true, 0xb0, 255);
	run_in(e, tt, c, 6, 255);
	assert_good(tt);
	assert_int_equal(tt_get_be16(tt->data + 2), 0x3c);
	assert_int_equal(tt->t.data_len, 64);
	assert_int_equal(tt_get_be32(tt->data + 8), TT_SCSI_MAX_XFER_DEFAULT / 512);
	assert_int_equal(tt_get_be16(tt->data + 6), 1);

	inquiry_cdb(c, true, 0xb1, 255);
	run_in(e, tt, c, 6, 255);
	assert_good(tt);
	assert_int_equal(tt_get_be16(tt->data + 4), 1); /* non-rotating */

	inquiry_cdb(c, true, 0xb2, 255);
	run_in(e, tt, c, 6, 255);
	assert_good(tt);
	assert_int_equal(tt_get_be16(tt->data + 2), 4);
	free(tt);
	env_free(e);
}

static void test_identity_stable(void **state)
{
	struct tt_bdev *bdev;
	struct tt_lun *a, *b, *c;
	struct tt_lun_opts opts = { .serial = "abc123", .naa_id = 0x42, .product = "X" };
	char err[64];

	(void)state;
	assert_int_equal(tt_bdev_open("ram:1M", &bdev, err, sizeof(err)), 0);
	assert_int_equal(tt_lun_create(TEST_TARGET, 3, bdev, NULL, &a), 0);
	assert_int_equal(tt_lun_create(TEST_TARGET, 3, bdev, NULL, &b), 0);
	assert_true(a->naa_id == b->naa_id);
	assert_string_equal(a->serial, b->serial);
	tt_lun_put(b);
	assert_int_equal(tt_lun_create(TEST_TARGET, 4, bdev, NULL, &b), 0);
	assert_true(a->naa_id != b->naa_id);
	assert_int_equal(tt_lun_create(TEST_TARGET, 4, bdev, &opts, &c), 0);
	assert_true(c->naa_id == 0x42);
	assert_string_equal(c->serial, "abc123");
	assert_string_equal(c->product, "X");
	tt_lun_put(c);
	opts.vendor = "TOOLONGVENDOR";
	assert_int_equal(tt_lun_create(TEST_TARGET, 4, bdev, &opts, &c), -EINVAL);
	assert_int_equal(tt_lun_create(TEST_TARGET, TT_SCSI_LUN_MAX + 1, bdev, NULL, &c), -EINVAL);
	tt_lun_put(a);
	tt_lun_put(b);
	tt_bdev_put(bdev);
}

static void test_vpd_long_names(void **state)
{
	char name[224];
	struct tt_bdev *bdev;
	struct tt_lun *lun;
	struct tt_scsi_port port = { .fe = &test_fe,
				     .tpgt = 7, .rel_port_id = 2, .port_group_id = 3 };
	uint8_t buf[1024], len;
	const uint8_t *d;
	char err[64];
	int n;

	(void)state;
	memset(name, 'a', sizeof(name) - 1);
	memcpy(name, "iqn.2024-01.org.tether:", 23);
	name[sizeof(name) - 1] = '\0';
	port.target_name = name;
	assert_int_equal(tt_bdev_open("ram:1M", &bdev, err, sizeof(err)), 0);
	assert_int_equal(tt_lun_create(name, 1, bdev, NULL, &lun), 0);
	n = tt_vpd_build(lun, &port, 0x83, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(n, 4 + tt_get_be16(buf + 2));
	d = find_designator(buf, 0x8, 1, &len);
	assert_non_null(d);
	assert_int_equal(len, 236);
	assert_int_equal(strlen((const char *)d + 4), 223 + 9);
	d = find_designator(buf, 0x8, 2, &len);
	assert_non_null(d);
	assert_int_equal(len, 224);
	assert_string_equal((const char *)d + 4, name);
	assert_int_equal(tt_vpd_build(lun, &port, 0x84, buf, sizeof(buf)), -ENOENT);
	tt_lun_put(lun);
	tt_bdev_put(bdev);
}

static void test_missing_lun(void **state)
{
	struct env *e = env_new("ram:1M");
	struct ttask *tt = ttask_new();
	uint8_t c[16];

	(void)state;
	inquiry_cdb(c, false, 0, 96);
	ttask_run(e, tt, &e->nexus, NULL, c, 6, false, 96);
	assert_good(tt);
	assert_int_equal(tt->data[0], 0x7f); /* qualifier 011b, type 1Fh */

	memset(c, 0, sizeof(c));
	c[0] = TT_OP_TEST_UNIT_READY;
	ttask_run(e, tt, &e->nexus, NULL, c, 6, false, 0);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x25, 0x00);

	c[0] = TT_OP_READ_10;
	c[8] = 1;
	ttask_run(e, tt, &e->nexus, NULL, c, 10, false, 512);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x25, 0x00);

	memset(c, 0, sizeof(c));
	c[0] = TT_OP_REQUEST_SENSE;
	c[4] = 18;
	ttask_run(e, tt, &e->nexus, NULL, c, 6, false, 18);
	assert_good(tt);
	assert_int_equal(tt->data[0], 0x70);
	assert_int_equal(tt->data[2], TT_SK_ILLEGAL_REQUEST);
	assert_int_equal(tt->data[12], 0x25);

	memset(c, 0, sizeof(c));
	c[0] = TT_OP_REPORT_LUNS;
	tt_put_be32(c + 6, 64);
	ttask_run(e, tt, &e->nexus, NULL, c, 12, false, 64);
	assert_good(tt);
	assert_int_equal(tt_get_be32(tt->data), 8);
	free(tt);
	env_free(e);
}

static void test_report_luns(void **state)
{
	struct env *e = env_new("ram:1M");
	struct ttask *tt = ttask_new();
	uint8_t c[12] = { TT_OP_REPORT_LUNS };

	(void)state;
	e->luns[0] = 0;
	e->luns[1] = 7;
	e->luns[2] = 1000;
	e->nluns = 3;
	tt_put_be32(c + 6, 4096);
	run_in(e, tt, c, 12, 4096);
	assert_good(tt);
	assert_int_equal(tt_get_be32(tt->data), 24);
	assert_int_equal(tt->t.data_len, 32);
	assert_int_equal(tt->data[8 + 1], 0);
	assert_int_equal(tt->data[16 + 1], 7);
	assert_int_equal(tt->data[24], 0x40 | (1000 >> 8));
	assert_int_equal(tt->data[24 + 1], 1000 & 0xff);

	/* truncated to the allocation length, list length still complete */
	tt_put_be32(c + 6, 16);
	run_in(e, tt, c, 12, 16);
	assert_good(tt);
	assert_int_equal(tt->t.data_len, 16);
	assert_int_equal(tt_get_be32(tt->data), 24);

	/* SELECT REPORT 1: well-known LUs only, none */
	c[2] = 1;
	tt_put_be32(c + 6, 64);
	run_in(e, tt, c, 12, 64);
	assert_good(tt);
	assert_int_equal(tt_get_be32(tt->data), 0);
	c[2] = 2;
	run_in(e, tt, c, 12, 64);
	assert_int_equal(tt_get_be32(tt->data), 24);
	c[2] = 3;
	run_in(e, tt, c, 12, 64);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);

	/* allocation length below 16 */
	c[2] = 0;
	tt_put_be32(c + 6, 15);
	run_in(e, tt, c, 12, 15);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	free(tt);
	env_free(e);
}

static void test_unit_attention(void **state)
{
	struct env *e = env_new_opts("ram:1M", NULL);
	struct ttask *tt = ttask_new();
	uint8_t c[16] = { 0 };
	uint8_t inq[6], rl[12] = { TT_OP_REPORT_LUNS };

	(void)state;
	assert_int_equal(tt_lun_ua_pending(e->lun, &e->nexus), 1u << TT_UA_POWER_ON);
	/* INQUIRY and REPORT LUNS neither report nor clear it */
	inquiry_cdb(inq, false, 0, 96);
	run_in(e, tt, inq, 6, 96);
	assert_good(tt);
	tt_put_be32(rl + 6, 64);
	run_in(e, tt, rl, 12, 64);
	assert_good(tt);
	/* the first other command gets it, the next one does not */
	c[0] = TT_OP_TEST_UNIT_READY;
	run_in(e, tt, c, 6, 0);
	assert_sense(tt, TT_SK_UNIT_ATTENTION, 0x29, 0x00);
	run_in(e, tt, c, 6, 0);
	assert_good(tt);
	/* an unsupported opcode reports the UA before INVALID COMMAND OPERATION CODE */
	tt_lun_ua_raise(e->lun, TT_UA_CAPACITY_CHANGED, NULL);
	c[0] = 0xe7;
	run_in(e, tt, c, 6, 0);
	assert_sense(tt, TT_SK_UNIT_ATTENTION, 0x2a, 0x09);
	run_in(e, tt, c, 6, 0);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x20, 0x00);

	/* second nexus: POWER ON then CAPACITY CHANGED, via REQUEST SENSE */
	memset(c, 0, sizeof(c));
	c[0] = TT_OP_REQUEST_SENSE;
	c[4] = 252;
	ttask_run(e, tt, &e->nexus2, e->lun, c, 6, false, 252);
	assert_good(tt);
	assert_int_equal(tt->t.data_len, 18);
	assert_int_equal(tt->data[2], TT_SK_UNIT_ATTENTION);
	assert_int_equal(tt->data[12], 0x29);
	c[1] = 1; /* DESC */
	ttask_run(e, tt, &e->nexus2, e->lun, c, 6, false, 252);
	assert_good(tt);
	assert_int_equal(tt->data[0], 0x72);
	assert_int_equal(tt->data[1], TT_SK_UNIT_ATTENTION);
	assert_int_equal(tt->data[2], 0x2a);
	assert_int_equal(tt->data[3], 0x09);
	c[1] = 0;
	ttask_run(e, tt, &e->nexus2, e->lun, c, 6, false, 252);
	assert_good(tt);
	assert_int_equal(tt->data[2], TT_SK_NO_SENSE);
	assert_int_equal(tt->data[12], 0);

	/* a reset supersedes the conditions queued before it */
	tt_lun_ua_raise_one(e->lun, &e->nexus, TT_UA_MODE_PARAMETERS_CHANGED);
	tt_lun_ua_raise_one(e->lun, &e->nexus, TT_UA_LUN_RESET);
	assert_int_equal(tt_lun_ua_pending(e->lun, &e->nexus), 1u << TT_UA_LUN_RESET);
	memset(c, 0, sizeof(c));
	c[0] = TT_OP_TEST_UNIT_READY;
	run_in(e, tt, c, 6, 0);
	assert_sense(tt, TT_SK_UNIT_ATTENTION, 0x29, 0x03);

	/* REPORT LUNS clears REPORTED LUNS DATA HAS CHANGED */
	tt_lun_ua_raise(e->lun, TT_UA_REPORTED_LUNS_CHANGED, NULL);
	run_in(e, tt, rl, 12, 64);
	assert_good(tt);
	assert_int_equal(tt_lun_ua_pending(e->lun, &e->nexus), 0);
	assert_int_equal(tt_lun_ua_pending(e->lun, &e->nexus2), 1u << TT_UA_REPORTED_LUNS_CHANGED);

	/* a nexus that was never registered has nothing pending */
	struct tt_nexus other;
	env_nexus_init(e, &other, 99, "iqn.2024-01.org.test:other");
	ttask_run(e, tt, &other, e->lun, c, 6, false, 0);
	assert_good(tt);
	free(tt);
	env_free(e);
}

static void test_invalid_opcode_and_control(void **state)
{
	struct env *e = env_new("ram:1M");
	struct ttask *tt = ttask_new();
	uint8_t c[16] = { 0 };

	(void)state;
	c[0] = 0x04; /* FORMAT UNIT: not supported */
	run_in(e, tt, c, 6, 0);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x20, 0x00);
	assert_int_equal(tt->t.sense_len, 18);

	/* NACA in the control byte */
	c[0] = TT_OP_TEST_UNIT_READY;
	c[5] = 0x04;
	run_in(e, tt, c, 6, 0);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	assert_int_equal(tt->t.sense[15], 0x80 | 0x40 | 0x08 | 2); /* SKSV C/D BPV bit 2 */
	assert_int_equal(tt_get_be16(tt->t.sense + 16), 5);

	/* SERVICE ACTION IN with an unknown service action */
	memset(c, 0, sizeof(c));
	c[0] = TT_OP_SERVICE_ACTION_IN_16;
	c[1] = 0x1f;
	run_in(e, tt, c, 16, 32);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	free(tt);
	env_free(e);
}

static void test_reserved_bits(void **state)
{
	struct env *e = env_new("ram:1M");
	struct ttask *tt = ttask_new();
	uint8_t c[16] = { 0 };

	(void)state;
	c[0] = TT_OP_INQUIRY;
	c[1] = 0x02; /* CMDDT */
	tt_put_be16(c + 3, 96);
	run_in(e, tt, c, 6, 96);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	assert_int_equal(tt->t.sense[15], 0x80 | 0x40 | 0x08 | 1);
	assert_int_equal(tt_get_be16(tt->t.sense + 16), 1);
	/* READ (10): DPO, FUA, RARC, FUA_NV accepted; bit 0 and byte 6 bits 7:6 are not */
	cdb_rw10(c, TT_OP_READ_10, 0, 1, 0x1e);
	run_in(e, tt, c, 10, 512);
	assert_good(tt);
	cdb_rw10(c, TT_OP_READ_10, 0, 1, 0x01);
	run_in(e, tt, c, 10, 512);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	cdb_rw10(c, TT_OP_READ_10, 0, 1, 0);
	c[6] = 0x80;
	run_in(e, tt, c, 10, 512);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	assert_int_equal(tt_get_be16(tt->t.sense + 16), 6);
	assert_int_equal(tt->t.sense[15] & 0x0f, 0x08 | 7);
	free(tt);
	env_free(e);
}

static size_t rsoc_cdb(uint8_t *c, uint8_t options, uint8_t op, uint16_t sa, uint32_t alloc)
{
	memset(c, 0, 12);
	c[0] = TT_OP_MAINTENANCE_IN;
	c[1] = TT_MI_REPORT_SUPPORTED_OPCODES;
	c[2] = options;
	c[3] = op;
	tt_put_be16(c + 4, sa);
	tt_put_be32(c + 6, alloc);
	return 12;
}

static void test_report_supported_opcodes(void **state)
{
	struct env *e = env_new("ram:1M");
	struct ttask *tt = ttask_new(), *one = ttask_new();
	uint8_t c[16];
	uint32_t len;
	int seen_rc16 = 0, count = 0;

	(void)state;
	run_in(e, tt, c, rsoc_cdb(c, 0, 0, 0, 65535), 65535);
	assert_good(tt);
	len = tt_get_be32(tt->data);
	assert_int_equal(len % 8, 0);
	assert_int_equal(tt->t.data_len, len + 4);
	for (uint32_t off = 4; off < len + 4; off += 8) {
		const uint8_t *d = tt->data + off;
		bool servactv = d[5] & 1;

		count++;
		assert_int_equal(d[5] & 0x02, 0); /* CTDP without RCTD */
		if (!servactv)
			assert_int_equal(tt_get_be16(d + 2), 0);
		if (d[0] == TT_OP_SERVICE_ACTION_IN_16 && tt_get_be16(d + 2) == TT_SAI_READ_CAPACITY_16)
			seen_rc16++;
		/* each one on its own, with its usage data */
		run_in(e, one, c, rsoc_cdb(c, servactv ? 2 : 1, d[0], tt_get_be16(d + 2), 512), 512);
		assert_good(one);
		assert_int_equal(one->data[1] & 0x07, 3);
		assert_int_equal(tt_get_be16(one->data + 2), tt_get_be16(d + 6));
		assert_int_equal(one->data[4], d[0]);
		/* the other reporting option is refused */
		run_in(e, one, c, rsoc_cdb(c, servactv ? 1 : 2, d[0], tt_get_be16(d + 2), 512), 512);
		assert_sense(one, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	}
	assert_int_equal(seen_rc16, 1);
	assert_true(count > 20);

	/* with timeouts descriptors */
	run_in(e, tt, c, rsoc_cdb(c, 0x80, 0, 0, 65535), 65535);
	assert_good(tt);
	assert_int_equal(tt_get_be32(tt->data), count * 20);
	assert_int_equal(tt->data[4 + 5] & 0x02, 0x02);
	assert_int_equal(tt_get_be16(tt->data + 12), 0x0a);

	/* an operation code that is not supported */
	run_in(e, one, c, rsoc_cdb(c, 1, 0xe7, 0, 512), 512);
	assert_good(one);
	assert_int_equal(one->data[1] & 0x07, 1);
	/* READ (10) usage data */
	run_in(e, one, c, rsoc_cdb(c, 1, TT_OP_READ_10, 0, 512), 512);
	assert_int_equal(tt_get_be16(one->data + 2), 10);
	assert_int_equal(one->data[4 + 1], 0xfe);
	free(tt);
	free(one);
	env_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inquiry_standard),
		cmocka_unit_test(test_inquiry_vpd),
		cmocka_unit_test(test_identity_stable),
		cmocka_unit_test(test_vpd_long_names),
		cmocka_unit_test(test_missing_lun),
		cmocka_unit_test(test_report_luns),
		cmocka_unit_test(test_unit_attention),
		cmocka_unit_test(test_invalid_opcode_and_control),
		cmocka_unit_test(test_reserved_bits),
		cmocka_unit_test(test_report_supported_opcodes),
	};

	return tt_run_group("spc_test", tests, NULL, NULL);
}
