/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The SCSI task lifecycle (src/scsi/task.c): every edge of enum tt_task_state, legal or refused,
 * the name table, and tt_scsi_exec refusing a task that is still inside the core.
 */
#include "scsi_util.h"

#define NSTATES 4

/* legal[from][to] */
static const bool legal[NSTATES][NSTATES] = {
	[TT_TASK_IDLE] = { [TT_TASK_ACTIVE] = true },
	[TT_TASK_ACTIVE] = { [TT_TASK_BACKEND] = true, [TT_TASK_COMPLETING] = true },
	[TT_TASK_BACKEND] = { [TT_TASK_ACTIVE] = true },
	[TT_TASK_COMPLETING] = { [TT_TASK_IDLE] = true },
};

static void test_transitions(void **state)
{
	struct tt_scsi_task task;

	(void)state;
	for (int from = 0; from < NSTATES; from++) {
		for (int to = 0; to < NSTATES; to++) {
			memset(&task, 0, sizeof(task));
			task.tag = (uint64_t)(from * 16 + to);
			task.state = (enum tt_task_state)from; /* the starting point of the case */
			int rc = tt_task_set_state(&task, (enum tt_task_state)to);

			if (legal[from][to]) {
				assert_int_equal(rc, 0);
				assert_int_equal(task.state, to);
			} else {
				/* refused: nothing written */
				assert_int_equal(rc, -EINVAL);
				assert_int_equal(task.state, from);
			}
		}
		/* a value outside the enum is never entered */
		memset(&task, 0, sizeof(task));
		task.state = (enum tt_task_state)from;
		assert_int_equal(tt_task_set_state(&task, (enum tt_task_state)7), -EINVAL);
		assert_int_equal(task.state, from);
	}
}

static void test_whole_life(void **state)
{
	struct tt_scsi_task task;

	(void)state;
	memset(&task, 0, sizeof(task));
	assert_int_equal(tt_task_set_state(&task, TT_TASK_ACTIVE), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(tt_task_set_state(&task, TT_TASK_BACKEND), 0);
		assert_int_equal(tt_task_set_state(&task, TT_TASK_BACKEND), -EINVAL);
		assert_int_equal(tt_task_set_state(&task, TT_TASK_ACTIVE), 0);
	}
	assert_int_equal(tt_task_set_state(&task, TT_TASK_COMPLETING), 0);
	assert_int_equal(tt_task_set_state(&task, TT_TASK_ACTIVE), -EINVAL);
	assert_int_equal(tt_task_set_state(&task, TT_TASK_IDLE), 0);
	assert_int_equal(task.state, TT_TASK_IDLE);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(tt_task_state_name(TT_TASK_IDLE), "idle");
	assert_string_equal(tt_task_state_name(TT_TASK_ACTIVE), "active");
	assert_string_equal(tt_task_state_name(TT_TASK_BACKEND), "backend");
	assert_string_equal(tt_task_state_name(TT_TASK_COMPLETING), "completing");
	assert_string_equal(tt_task_state_name((enum tt_task_state)4), "?");
	assert_string_equal(tt_task_state_name((enum tt_task_state)-1), "?");
}

static void test_exec_refuses_busy_task(void **state)
{
	static const uint8_t tur[6] = { TT_OP_TEST_UNIT_READY };
	struct env *e = env_new("ram:1M");
	struct ttask *tt = ttask_new();

	(void)state;
	/* a task the core still holds is not executed again: no done(), nothing changed */
	tt->t.lun = e->lun;
	tt->t.nexus = &e->nexus;
	memcpy(tt->t.cdb, tur, sizeof(tur));
	tt->t.cdb_len = 16;
	tt->t.done = ttask_done;
	tt->t.status = 0x77;
	tt->t.state = TT_TASK_BACKEND;
	tt_scsi_exec(&tt->t);
	tt->returned = true;
	for (int i = 0; i < 3; i++)
		assert_int_equal(tt_loop_run_once(e->loop, 0), 0);
	assert_false(tt->done);
	assert_int_equal(tt->t.state, TT_TASK_BACKEND);
	assert_int_equal(tt->t.status, 0x77);

	/* once idle again it runs as usual */
	tt->t.state = TT_TASK_IDLE;
	ttask_run(e, tt, &e->nexus, e->lun, tur, 6, false, 0);
	assert_good(tt);
	free(tt);
	env_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transitions),
		cmocka_unit_test(test_whole_life),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_exec_refuses_busy_task),
	};

	return tt_run_group("task_test", tests, NULL, NULL);
}
