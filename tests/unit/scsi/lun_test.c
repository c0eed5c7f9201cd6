/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Logical units over a backend whose medium other hosts share (shared_bdev.h, as rbd): the
 * identity comes from the medium, a size change raises CAPACITY DATA HAS CHANGED, COMPARE AND
 * WRITE and WRITE SAME go to the backend as one I/O.
 */
#include "scsi_util.h"
#include "shared_bdev.h"

static uint64_t naa_of(struct tt_lun *lun)
{
	return lun->naa_id;
}

static void test_identity_from_medium(void **state)
{
	struct shared_bdev *m1 = shared_bdev_open("rbd:fsid/1/abc", 1 << 20, 1 << 20, 0);
	struct shared_bdev *m1b = shared_bdev_open("rbd:fsid/1/abc", 1 << 20, 1 << 20, 0);
	struct shared_bdev *m2 = shared_bdev_open("rbd:fsid/1/abd", 1 << 20, 1 << 20, 0);
	struct tt_lun *a, *b, *c, *d, *r;
	struct tt_bdev *ram;
	char err[128];

	(void)state;
	/* the same medium under two target names and LUN numbers: one identity */
	assert_int_equal(tt_lun_create("iqn.2024-01.org.test:gw-a", 0, &m1->bdev, NULL, &a), 0);
	assert_int_equal(tt_lun_create("iqn.2024-01.org.test:gw-b", 7, &m1b->bdev, NULL, &b), 0);
	assert_true(naa_of(a) == naa_of(b));
	assert_string_equal(a->serial, b->serial);
	/* another medium, same target and LUN as a: another identity */
	assert_int_equal(tt_lun_create("iqn.2024-01.org.test:gw-a", 0, &m2->bdev, NULL, &c), 0);
	assert_true(naa_of(c) != naa_of(a));
	assert_string_not_equal(c->serial, a->serial);
	/* a serial set by hand still wins */
	struct tt_lun_opts o = { .serial = "by-hand" };
	assert_int_equal(tt_lun_create("iqn.2024-01.org.test:gw-c", 1, &m1->bdev, &o, &d), 0);
	assert_string_equal(d->serial, "by-hand");
	assert_true(naa_of(d) == naa_of(a));
	/* a backend without a medium name: from the target name and the LUN number */
	assert_int_equal(tt_bdev_open("ram:1M", &ram, err, sizeof(err)), 0);
	assert_int_equal(tt_bdev_identity(ram, err, sizeof(err)), -ENOENT);
	assert_int_equal(tt_lun_create("iqn.2024-01.org.test:gw-a", 0, ram, NULL, &r), 0);
	assert_true(naa_of(r) != naa_of(a));
	tt_lun_put(r);
	tt_bdev_put(ram);
	tt_lun_put(a);
	tt_lun_put(b);
	tt_lun_put(c);
	tt_lun_put(d);
	tt_bdev_put(&m1->bdev);
	tt_bdev_put(&m1b->bdev);
	tt_bdev_put(&m2->bdev);
}

static uint64_t read_capacity(struct env *e, const struct tt_nexus *n)
{
	uint8_t cdb[16] = { TT_OP_SERVICE_ACTION_IN_16, TT_SAI_READ_CAPACITY_16 };
	struct ttask *tt = ttask_new();
	uint64_t blocks;

	cdb[13] = 32;
	ttask_run(e, tt, n, e->lun, cdb, 16, false, 32);
	assert_good(tt);
	blocks = tt_get_be64(tt->data) + 1;
	free(tt);
	return blocks;
}

static void test_resize(void **state)
{
	static const uint8_t tur[6] = { TT_OP_TEST_UNIT_READY };
	struct shared_bdev *sb;
	struct env *e = env_new_shared(&sb, 0);
	struct ttask *tt = ttask_new();

	(void)state;
	assert_true(read_capacity(e, &e->nexus) == 2048);
	assert_int_equal(tt_lun_ua_pending(e->lun, &e->nexus), 0);
	tt_bdev_set_size(&sb->bdev, 4 << 20);
	assert_true(tt_bdev_size(&sb->bdev) == 4 << 20);
	/* every nexus is told once, then sees the new size */
	for (int i = 0; i < 2; i++) {
		const struct tt_nexus *n = i ? &e->nexus2 : &e->nexus;

		assert_int_equal(tt_lun_ua_pending(e->lun, n), 1u << TT_UA_CAPACITY_CHANGED);
		ttask_run(e, tt, n, e->lun, tur, 6, false, 0);
		assert_sense(tt, TT_SK_UNIT_ATTENTION, 0x2a, 0x09);
		ttask_run(e, tt, n, e->lun, tur, 6, false, 0);
		assert_good(tt);
		assert_true(read_capacity(e, n) == 8192);
	}
	/* the new blocks can be written */
	uint8_t cdb[16];
	memset(tt->data, 0x5a, 512);
	run_out(e, tt, cdb, cdb_rw16(cdb, TT_OP_WRITE_16, 8191, 1, 0), 512);
	assert_good(tt);
	assert_int_equal(sb->data[8191 * 512], 0x5a);
	free(tt);
	env_free(e);
}

static void test_watch_removed(void **state)
{
	struct shared_bdev *sb = shared_bdev_open("x", 1 << 20, 1 << 20, 0);
	struct tt_lun *lun;

	(void)state;
	assert_int_equal(tt_lun_create(TEST_TARGET, 0, &sb->bdev, NULL, &lun), 0);
	assert_false(tt_list_empty(&sb->bdev.watches));
	tt_lun_put(lun);
	/* the LUN is gone: its watch too (a resize now must not touch freed memory) */
	assert_true(tt_list_empty(&sb->bdev.watches));
	tt_bdev_set_size(&sb->bdev, 2 << 20);
	tt_bdev_put(&sb->bdev);
}

static size_t cdb_caw(uint8_t *c, uint64_t lba, uint8_t n)
{
	memset(c, 0, 16);
	c[0] = TT_OP_COMPARE_AND_WRITE;
	tt_put_be64(c + 2, lba);
	c[13] = n;
	return 16;
}

static void test_caw_backend(void **state)
{
	struct shared_bdev *sb;
	struct env *e = env_new_shared(&sb, 512);
	struct ttask *tt = ttask_new();
	uint8_t cdb[16], page[256];

	(void)state;
	/* the backend's bound is the LUN's MAXIMUM COMPARE AND WRITE LENGTH */
	assert_true(tt_vpd_build(e->lun, NULL, 0xb0, page, sizeof(page)) > 5);
	assert_int_equal(page[5], 1);
	memset(sb->data + 10 * 512, 0xaa, 512);
	/* a match: one backend COMPARE_AND_WRITE, no read or write */
	memset(tt->data, 0xaa, 512);
	memset(tt->data + 512, 0xbb, 512);
	run_out(e, tt, cdb, cdb_caw(cdb, 10, 1), 1024);
	assert_good(tt);
	assert_int_equal(sb->ops[TT_BDEV_COMPARE_AND_WRITE], 1);
	assert_int_equal(sb->ops[TT_BDEV_READ] + sb->ops[TT_BDEV_WRITE], 0);
	assert_int_equal(sb->data[10 * 512 + 511], 0xbb);
	/* a miscompare: MISCOMPARE with the backend's offset in INFORMATION, nothing written */
	memset(tt->data, 0xbb, 512);
	tt->data[77] = 0;
	memset(tt->data + 512, 0xcc, 512);
	run_out(e, tt, cdb, cdb_caw(cdb, 10, 1), 1024);
	assert_sense(tt, TT_SK_MISCOMPARE, 0x1d, 0x00);
	assert_true(tt->t.sense[0] & 0x80); /* VALID */
	assert_int_equal(tt_get_be32(tt->t.sense + 3), 77);
	assert_int_equal(sb->data[10 * 512], 0xbb);
	/* longer than the backend's bound: refused like any length above the maximum */
	memset(tt->data, 0, 2048);
	run_out(e, tt, cdb, cdb_caw(cdb, 10, 2), 2048);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	/* the backend refuses this range: the core reads, compares and writes itself */
	sb->caw_refuse = true;
	memset(tt->data, 0xbb, 512);
	memset(tt->data + 512, 0xdd, 512);
	run_out(e, tt, cdb, cdb_caw(cdb, 10, 1), 1024);
	assert_good(tt);
	assert_int_equal(sb->ops[TT_BDEV_READ], 1);
	assert_int_equal(sb->ops[TT_BDEV_WRITE], 1);
	assert_int_equal(sb->data[10 * 512 + 100], 0xdd);
	free(tt);
	env_free(e);
}

static void test_write_same_backend(void **state)
{
	struct shared_bdev *sb;
	struct env *e = env_new_shared(&sb, 0);
	struct ttask *tt = ttask_new();
	uint8_t cdb[16] = { TT_OP_WRITE_SAME_16 };

	(void)state;
	tt_put_be64(cdb + 2, 100);
	tt_put_be32(cdb + 10, 1000);
	for (int i = 0; i < 512; i++)
		tt->data[i] = (uint8_t)i;
	run_out(e, tt, cdb, 16, 512);
	assert_good(tt);
	/* one backend I/O for the whole range */
	assert_int_equal(sb->ops[TT_BDEV_WRITE_SAME], 1);
	assert_int_equal(sb->ops[TT_BDEV_WRITE], 0);
	for (int b = 100; b < 1100; b += 333)
		assert_memory_equal(sb->data + b * 512, tt->data, 512);
	assert_int_equal(sb->data[1100 * 512 + 1], 0);
	free(tt);
	env_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity_from_medium),
		cmocka_unit_test(test_resize),
		cmocka_unit_test(test_watch_removed),
		cmocka_unit_test(test_caw_backend),
		cmocka_unit_test(test_write_same_backend),
	};

	return tt_run_group("lun_test", tests, NULL, NULL);
}
