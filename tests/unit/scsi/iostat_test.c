/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * I/O counters of the SCSI core (src/scsi/iostat.c): what a LUN counts for reads, writes, other
 * commands and errors, how operation codes and sense keys are classified, and the switch.
 */
#include "scsi_util.h"

static struct tt_iostat lun_stats(struct env *e)
{
	struct tt_iostat s;

	memset(&s, 0, sizeof(s));
	tt_lun_iostat(e->lun, &s);
	return s;
}

static void test_counts(void **state)
{
	struct env *e = env_new("ram:1M");
	struct ttask *tt = ttask_new();
	struct tt_iostat s;
	uint8_t cdb[16];
	size_t n;

	(void)state;
	/* env_new: a TEST UNIT READY per nexus, each answered with a unit attention */
	s = lun_stats(e);
	assert_int_equal(s.lat[TT_IO_OTHER].count, 2);
	assert_int_equal(s.errors[TT_IO_ERR_UNIT_ATTENTION], 2);
	assert_int_equal(tt_iostat_errors(&s), 2);

	for (int i = 0; i < 5; i++) {
		n = cdb_rw10(cdb, TT_OP_WRITE_10, (uint32_t)i * 8, 8, 0);
		memset(tt->data, i, 4096);
		run_out(e, tt, cdb, n, 4096);
		assert_good(tt);
		assert_true(tt->t.done_ns > 0);
	}
	for (int i = 0; i < 7; i++) {
		n = cdb_rw16(cdb, TT_OP_READ_16, (uint64_t)i * 2, 2, 0);
		run_in(e, tt, cdb, n, 1024);
		assert_good(tt);
	}
	/* beyond the capacity (2048 blocks): an error, no bytes */
	n = cdb_rw10(cdb, TT_OP_READ_10, 2048, 8, 0);
	run_in(e, tt, cdb, n, 4096);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x21, 0x00);
	/* an INQUIRY's data are not "bytes read" */
	static const uint8_t inq[6] = { TT_OP_INQUIRY, 0, 0, 0, 96, 0 };
	run_in(e, tt, inq, 6, 96);
	assert_good(tt);

	s = lun_stats(e);
	assert_int_equal(s.lat[TT_IO_WRITE].count, 5);
	assert_int_equal(s.bytes[TT_IO_WRITE], 5 * 4096);
	assert_int_equal(s.lat[TT_IO_READ].count, 8);
	assert_int_equal(s.bytes[TT_IO_READ], 7 * 1024);
	assert_int_equal(s.lat[TT_IO_OTHER].count, 3);
	assert_int_equal(s.errors[TT_IO_ERR_ILLEGAL_REQUEST], 1);
	assert_int_equal(tt_iostat_errors(&s), 3);
	/* every command has its latency in a bucket */
	for (unsigned op = 0; op < TT_IO_OPS; op++) {
		uint64_t total = 0;

		for (unsigned b = 0; b < TT_IOSTAT_BUCKETS; b++)
			total += s.lat[op].buckets[b];
		assert_int_equal(total, s.lat[op].count);
	}
	assert_true(tt_iostat_percentile(&s.lat[TT_IO_READ], 0.5) <=
		    tt_iostat_percentile(&s.lat[TT_IO_READ], 0.99));

	/* a LUN that does not exist counts on no LUN, but the task has its completion time */
	ttask_run(e, tt, &e->nexus, NULL, inq, 6, false, 96);
	assert_true(tt->t.done_ns > 0);
	s = lun_stats(e);
	assert_int_equal(s.lat[TT_IO_OTHER].count, 3);
	free(tt);
	env_free(e);
}

static void test_switched_off(void **state)
{
	struct env *e = env_new("ram:1M");
	struct ttask *tt = ttask_new();
	struct tt_iostat s;
	uint8_t cdb[16];
	size_t n;

	(void)state;
	tt_iostat_set_enabled(false);
	n = cdb_rw10(cdb, TT_OP_READ_10, 0, 8, 0);
	run_in(e, tt, cdb, n, 4096);
	assert_good(tt);
	assert_int_equal(tt->t.done_ns, 0);
	tt_iostat_set_enabled(true);
	s = lun_stats(e);
	assert_int_equal(s.lat[TT_IO_READ].count, 0);
	assert_int_equal(s.lat[TT_IO_OTHER].count, 2);
	run_in(e, tt, cdb, n, 4096);
	s = lun_stats(e);
	assert_int_equal(s.lat[TT_IO_READ].count, 1);
	assert_int_equal(s.bytes[TT_IO_READ], 4096);
	free(tt);
	env_free(e);
}

static void test_classes(void **state)
{
	struct tt_scsi_task t;

	(void)state;
	memset(&t, 0, sizeof(t));
	static const struct { uint8_t op; unsigned cls; } ops[] = {
		{ TT_OP_READ_6, TT_IO_READ }, { TT_OP_READ_10, TT_IO_READ },
		{ TT_OP_READ_12, TT_IO_READ }, { TT_OP_READ_16, TT_IO_READ },
		{ TT_OP_WRITE_6, TT_IO_WRITE }, { TT_OP_WRITE_10, TT_IO_WRITE },
		{ TT_OP_WRITE_12, TT_IO_WRITE }, { TT_OP_WRITE_16, TT_IO_WRITE },
		{ TT_OP_WRITE_VERIFY_10, TT_IO_WRITE }, { TT_OP_WRITE_ATOMIC_16, TT_IO_WRITE },
		{ TT_OP_VERIFY_10, TT_IO_OTHER }, { TT_OP_UNMAP, TT_IO_OTHER },
		{ TT_OP_WRITE_SAME_16, TT_IO_OTHER }, { TT_OP_COMPARE_AND_WRITE, TT_IO_OTHER },
		{ TT_OP_INQUIRY, TT_IO_OTHER }, { TT_OP_SYNCHRONIZE_CACHE_10, TT_IO_OTHER },
	};
	for (unsigned i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		t.cdb[0] = ops[i].op;
		assert_int_equal(tt_scsi_io_op(&t), ops[i].cls);
	}

	/* bytes: a read's data_len; a good write's transfer length, capped by edtl */
	t.cdb[0] = TT_OP_READ_10;
	t.data_len = 512;
	assert_int_equal(tt_scsi_io_bytes(&t), 512);
	t.cdb[0] = TT_OP_WRITE_10;
	t.cmd_len = 8192;
	t.edtl = 4096;
	assert_int_equal(tt_scsi_io_bytes(&t), 4096);
	t.edtl = 65536;
	assert_int_equal(tt_scsi_io_bytes(&t), 8192);
	t.status = TT_SAM_CHECK_CONDITION;
	assert_int_equal(tt_scsi_io_bytes(&t), 0);
	t.cdb[0] = TT_OP_INQUIRY;
	t.status = TT_SAM_GOOD;
	assert_int_equal(tt_scsi_io_bytes(&t), 0);

	/* statuses */
	static const struct { uint8_t status; int err; } st[] = {
		{ TT_SAM_GOOD, TT_IO_ERR_NONE }, { TT_SAM_CONDITION_MET, TT_IO_ERR_NONE },
		{ TT_SAM_BUSY, TT_IO_ERR_BUSY }, { TT_SAM_TASK_SET_FULL, TT_IO_ERR_BUSY },
		{ TT_SAM_RESERVATION_CONFLICT, TT_IO_ERR_RESERVATION_CONFLICT },
		{ TT_SAM_TASK_ABORTED, TT_IO_ERR_OTHER_STATUS },
		{ TT_SAM_ACA_ACTIVE, TT_IO_ERR_OTHER_STATUS },
	};
	for (unsigned i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
		t.status = st[i].status;
		assert_int_equal(tt_scsi_io_err(&t), st[i].err);
	}
	/* CHECK CONDITION by sense key, fixed and descriptor format */
	static const struct { uint8_t key; int err; } keys[] = {
		{ TT_SK_NOT_READY, TT_IO_ERR_NOT_READY }, { TT_SK_MEDIUM_ERROR, TT_IO_ERR_MEDIUM },
		{ TT_SK_HARDWARE_ERROR, TT_IO_ERR_HARDWARE },
		{ TT_SK_ILLEGAL_REQUEST, TT_IO_ERR_ILLEGAL_REQUEST },
		{ TT_SK_UNIT_ATTENTION, TT_IO_ERR_UNIT_ATTENTION },
		{ TT_SK_DATA_PROTECT, TT_IO_ERR_DATA_PROTECT },
		{ TT_SK_ABORTED_COMMAND, TT_IO_ERR_ABORTED_COMMAND },
		{ TT_SK_MISCOMPARE, TT_IO_ERR_MISCOMPARE },
		{ TT_SK_RECOVERED_ERROR, TT_IO_ERR_OTHER_SENSE },
	};
	t.status = TT_SAM_CHECK_CONDITION;
	for (unsigned i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		memset(t.sense, 0, sizeof(t.sense));
		t.sense[0] = 0x70;
		t.sense[2] = keys[i].key;
		t.sense_len = 18;
		assert_int_equal(tt_scsi_io_err(&t), keys[i].err);
		memset(t.sense, 0, sizeof(t.sense));
		t.sense[0] = 0x72;
		t.sense[1] = keys[i].key;
		t.sense_len = 8;
		assert_int_equal(tt_scsi_io_err(&t), keys[i].err);
	}
	t.sense_len = 0;
	assert_int_equal(tt_scsi_io_err(&t), TT_IO_ERR_OTHER_SENSE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_switched_off),
		cmocka_unit_test(test_classes),
	};

	return tt_run_group("iostat_test", tests, NULL, NULL);
}
