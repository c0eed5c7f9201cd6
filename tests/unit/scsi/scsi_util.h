/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared by the SCSI core tests: a real loop, a real backend, a LUN, and synchronous tasks. */
#ifndef TT_TESTS_SCSI_UTIL_H
#define TT_TESTS_SCSI_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include "tt_test.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/loop.h"
#include "bdev/bdev.h"
#include "scsi/scsi.h"
#include "scsi/cdb.h"
#include "scsi/core.h"

#define TEST_TARGET "iqn.2024-01.org.tether:disk1"

/*
 * Front ends of the tests, with the iSCSI identity: test_fe has no abort or ALUA op (the stubs),
 * test_fe_rec records what the core asks of it in fe_rec.
 */
static struct {
	int aborts;
	struct tt_lun *abort_lun;
	uint64_t abort_ids[8];
	int alua_calls;
	char alua_target[256];
	const struct tt_nexus *alua_except;
} fe_rec __attribute__((unused));

static inline int fe_rec_abort(struct tt_lun *lun, uint64_t nexus_id)
{
	fe_rec.abort_lun = lun;
	if (fe_rec.aborts < 8)
		fe_rec.abort_ids[fe_rec.aborts] = nexus_id;
	fe_rec.aborts++;
	return 0;
}

static inline int fe_rec_alua(const char *target_name, const struct tt_nexus *except)
{
	fe_rec.alua_calls++;
	snprintf(fe_rec.alua_target, sizeof(fe_rec.alua_target), "%s", target_name);
	fe_rec.alua_except = except;
	return 0;
}

static const struct tt_scsi_frontend test_fe __attribute__((unused)) = {
	.name = "test",
	.proto = &tt_scsi_proto_iscsi,
	.abort_nexus = tt_scsi_fe_no_abort_nexus,
	.alua_changed = tt_scsi_fe_no_alua_changed,
};

static const struct tt_scsi_frontend test_fe_rec __attribute__((unused)) = {
	.name = "test-rec",
	.proto = &tt_scsi_proto_iscsi,
	.abort_nexus = fe_rec_abort,
	.alua_changed = fe_rec_alua,
};

struct env {
	struct tt_loop *loop;
	struct tt_bdev *bdev;
	struct tt_lun *lun;
	struct tt_scsi_port port;
	struct tt_nexus nexus, nexus2;
	uint64_t luns[4];
	int nluns;
};

static inline int env_list_luns(const struct tt_nexus *nexus, uint64_t *ids, int max)
{
	const struct env *e = nexus->owner;

	for (int i = 0; i < e->nluns && i < max; i++)
		ids[i] = e->luns[i];
	return e->nluns;
}

static inline void env_nexus_init(struct env *e, struct tt_nexus *n, uint64_t id, const char *name)
{
	memset(n, 0, sizeof(*n));
	n->fe = &test_fe;
	snprintf(n->initiator_name, sizeof(n->initiator_name), "%s", name);
	snprintf(n->initiator_port, sizeof(n->initiator_port), "%s,i,0x000000000001", name);
	n->tport = &e->port;
	n->list_luns = env_list_luns;
	n->owner = e;
	n->id = id;
}

/* An env with its loop (the thread's), no LUN yet. */
static inline struct env *env_alloc(void)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	assert_int_equal(tt_loop_create(&e->loop, 0), 0);
	assert_int_equal(tt_loop_run_once(e->loop, 0), 0); /* makes it the thread's loop */
	return e;
}

/* Makes LUN 0 of @e over @bdev (the env takes it) and registers two nexuses (each with its
 * POWER ON UA). */
static inline struct env *env_attach(struct env *e, struct tt_bdev *bdev,
				     const struct tt_lun_opts *opts)
{
	e->bdev = bdev;
	assert_int_equal(tt_lun_create(TEST_TARGET, 0, e->bdev, opts, &e->lun), 0);
	e->port = (struct tt_scsi_port){ .fe = &test_fe, .target_name = TEST_TARGET, .tpgt = 1, .rel_port_id = 1,
					 .port_group_id = 1 };
	env_nexus_init(e, &e->nexus, 1, "iqn.2024-01.org.test:host1");
	env_nexus_init(e, &e->nexus2, 2, "iqn.2024-01.org.test:host2");
	e->luns[0] = 0;
	e->nluns = 1;
	tt_lun_nexus_add(e->lun, &e->nexus);
	tt_lun_nexus_add(e->lun, &e->nexus2);
	return e;
}

/* Opens @spec, makes LUN 0 over it and registers two nexuses (each with its POWER ON UA). */
static inline struct env *env_new_opts(const char *spec, const struct tt_lun_opts *opts)
{
	struct env *e = env_alloc();
	struct tt_bdev *bdev;
	char err[128];

	assert_int_equal(tt_bdev_open(spec, &bdev, err, sizeof(err)), 0);
	return env_attach(e, bdev, opts);
}

static inline void env_free(struct env *e)
{
	tt_lun_nexus_del(e->lun, &e->nexus);
	tt_lun_nexus_del(e->lun, &e->nexus2);
	tt_lun_put(e->lun);
	tt_bdev_put(e->bdev);
	/* let deferred backend work finish before the loop goes */
	for (int i = 0; i < 5; i++)
		tt_loop_run_once(e->loop, 0);
	tt_loop_destroy(e->loop);
	free(e);
}

/* A task with its own buffer. */
struct ttask {
	struct tt_scsi_task t;
	bool done;
	bool returned; /* tt_scsi_exec had returned when done() ran */
	uint8_t data[1 << 20];
};

static inline void ttask_done(struct tt_scsi_task *task)
{
	struct ttask *tt = tt_container_of(task, struct ttask, t);

	assert_true(tt->returned);
	assert_false(tt->done);
	tt->done = true;
}

static inline struct ttask *ttask_new(void)
{
	struct ttask *tt = calloc(1, sizeof(*tt));

	assert_non_null(tt);
	return tt;
}

/* Executes @cdb on @lun (NULL: a LUN that does not exist) for @nexus and waits for done(). */
static inline void ttask_run(struct env *e, struct ttask *tt, const struct tt_nexus *nexus,
			     struct tt_lun *lun, const uint8_t *cdb, size_t cdb_len, bool write,
			     uint32_t edtl)
{
	uint64_t end;

	tt->t.lun = lun;
	tt->t.lun_id = lun ? lun->id : 5;
	tt->t.nexus = nexus;
	memset(tt->t.cdb, 0, sizeof(tt->t.cdb));
	memcpy(tt->t.cdb, cdb, cdb_len);
	tt->t.cdb_len = (uint16_t)(cdb_len < 16 ? 16 : cdb_len);
	tt->t.dir_write = write && edtl;
	tt->t.dir_read = !write && edtl;
	tt->t.edtl = edtl;
	tt->t.buf = tt->data;
	tt->t.done = ttask_done;
	tt->done = false;
	tt->returned = false;
	tt_scsi_exec(&tt->t);
	tt->returned = true;
	assert_false(tt->done);
	end = tt_now_ns() + 5 * TT_NS_PER_SEC;
	while (!tt->done && tt_now_ns() < end)
		assert_int_equal(tt_loop_run_once(e->loop, 10), 0);
	assert_true(tt->done);
	assert_int_equal(tt->t.state, TT_TASK_IDLE);
}

/* Shorthand: LUN 0 of @e, first nexus. */
static inline void run_in(struct env *e, struct ttask *tt, const uint8_t *cdb, size_t len,
			  uint32_t edtl)
{
	ttask_run(e, tt, &e->nexus, e->lun, cdb, len, false, edtl);
}

static inline void run_out(struct env *e, struct ttask *tt, const uint8_t *cdb, size_t len,
			   uint32_t edtl)
{
	ttask_run(e, tt, &e->nexus, e->lun, cdb, len, true, edtl);
}

/* Sense key / ASC / ASCQ of a task, fixed or descriptor format. */
static inline void sense_of(const struct tt_scsi_task *t, uint8_t *key, uint8_t *asc, uint8_t *ascq)
{
	if ((t->sense[0] & 0x7f) == 0x72) {
		*key = t->sense[1] & 0x0f;
		*asc = t->sense[2];
		*ascq = t->sense[3];
	} else {
		*key = t->sense[2] & 0x0f;
		*asc = t->sense[12];
		*ascq = t->sense[13];
	}
}

#define assert_good(tt) assert_int_equal((tt)->t.status, TT_SAM_GOOD)

#define assert_sense(tt, k, a, q)                                                  \
	do {                                                                       \
		uint8_t k_, a_, q_;                                                \
		assert_int_equal((tt)->t.status, TT_SAM_CHECK_CONDITION);          \
		sense_of(&(tt)->t, &k_, &a_, &q_);                                 \
		assert_int_equal(k_, (k));                                         \
		assert_int_equal(a_, (a));                                         \
		assert_int_equal(q_, (q));                                         \
	} while (0)

/* Consumes the POWER ON unit attention of @nexus with a TEST UNIT READY. */
static inline void clear_ua(struct env *e, const struct tt_nexus *nexus)
{
	static const uint8_t tur[6] = { TT_OP_TEST_UNIT_READY };
	struct ttask *tt = ttask_new();

	ttask_run(e, tt, nexus, e->lun, tur, 6, false, 0);
	assert_int_equal(tt->t.status, TT_SAM_CHECK_CONDITION);
	free(tt);
}

static inline struct env *env_new(const char *spec)
{
	struct env *e = env_new_opts(spec, NULL);

	clear_ua(e, &e->nexus);
	clear_ua(e, &e->nexus2);
	return e;
}

/* CDB builders */
static inline size_t cdb_rw10(uint8_t *c, uint8_t op, uint32_t lba, uint16_t n, uint8_t flags)
{
	memset(c, 0, 10);
	c[0] = op;
	c[1] = flags;
	tt_put_be32(c + 2, lba);
	tt_put_be16(c + 7, n);
	return 10;
}

static inline size_t cdb_rw16(uint8_t *c, uint8_t op, uint64_t lba, uint32_t n, uint8_t flags)
{
	memset(c, 0, 16);
	c[0] = op;
	c[1] = flags;
	tt_put_be64(c + 2, lba);
	tt_put_be32(c + 10, n);
	return 16;
}

#endif
