/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The SCSI core (src/scsi): up to eight commands on a fresh RAM LUN, each with a fuzzed CDB, the
 * transport's R/W bits, an expected transfer length and, for writes, its Data-Out parameter
 * list (PERSISTENT RESERVE OUT, UNMAP, EXTENDED COPY, MODE SELECT, WRITE AND VERIFY, ...). Each
 * task runs with tt_scsi_exec and the loop is pumped until done(); the buffer is exactly edtl
 * bytes long, so a read or write past it is caught by ASan. Commands from two nexuses, so that
 * reservations conflict.
 *
 * Input: a header byte, then commands:
 *   header bit 0 keep the POWER ON unit attentions (else a TEST UNIT READY clears them),
 *          1 write-protected LUN, 2 4096-byte blocks, 3 not thin
 *   command: flags, CDB length (6 + n % 27), CDB, edtl (16 bits, big-endian), then for a
 *            write edtl bytes of Data-Out (zeroes when the input is shorter)
 *   flags bit 0 R, 1 W, 2 second nexus, 3 a LUN that does not exist, 4-5 task attribute
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/loop.h"
#include "bdev/bdev.h"
#include "fuzz_util.h"
#include "scsi/scsi.h"

#define TARGET "iqn.2026-11.org.tether:fuzz"
#define MAX_CMDS 8

static struct tt_loop *loop;

struct env {
	struct tt_bdev *bdev;
	struct tt_lun *lun;
	struct tt_scsi_port port;
	struct tt_nexus nexus[2];
};

static int list_luns(const struct tt_nexus *nexus, uint64_t *ids, int max)
{
	(void)nexus;
	if (max > 0)
		ids[0] = 0;
	return 1;
}

/* The front end of the harness: the iSCSI identity, no abort or ALUA operation (the stubs). */
static const struct tt_scsi_frontend fuzz_fe = {
	.name = "fuzz",
	.proto = &tt_scsi_proto_iscsi,
	.abort_nexus = tt_scsi_fe_no_abort_nexus,
	.alua_changed = tt_scsi_fe_no_alua_changed,
	.pr_notice = tt_scsi_fe_no_pr_notice,
};

static void nexus_init(struct env *e, struct tt_nexus *n, uint64_t id, const char *name)
{
	memset(n, 0, sizeof(*n));
	snprintf(n->initiator_name, sizeof(n->initiator_name), "%s", name);
	snprintf(n->initiator_port, sizeof(n->initiator_port), "%s,i,0x00023d00000%llu", name,
		 (unsigned long long)id);
	n->isid[5] = (uint8_t)id;
	n->tport = &e->port;
	n->fe = &fuzz_fe;
	n->list_luns = list_luns;
	n->owner = e;
	n->id = id;
}

struct ftask {
	struct tt_scsi_task t;
	bool done;
};

static void ftask_done(struct tt_scsi_task *t)
{
	struct ftask *ft = tt_container_of(t, struct ftask, t);

	if (ft->done)
		__builtin_trap(); /* done() twice */
	ft->done = true;
}

/* Runs one task to its end. */
static void run(struct ftask *ft)
{
	uint64_t end;

	ft->t.done = ftask_done;
	ft->done = false;
	tt_scsi_exec(&ft->t);
	if (ft->done)
		__builtin_trap(); /* done() inside tt_scsi_exec */
	end = tt_now_ns() + 5 * TT_NS_PER_SEC;
	while (!ft->done) {
		if (tt_now_ns() > end)
			__builtin_trap(); /* the task never completed */
		tt_loop_run_once(loop, 1);
	}
	if (ft->t.state != TT_TASK_IDLE || ft->t.sense_len > TT_SENSE_MAX)
		__builtin_trap();
	if (ft->t.dir_read && ft->t.data_len > ft->t.edtl)
		__builtin_trap(); /* more Data-In than the buffer holds */
}

static void clear_ua(struct env *e, const struct tt_nexus *n)
{
	struct ftask ft;

	memset(&ft, 0, sizeof(ft));
	ft.t.lun = e->lun;
	ft.t.nexus = n;
	ft.t.cdb_len = 16; /* TEST UNIT READY: all zero */
	run(&ft);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_log();
	if (tt_loop_create(&loop, 0) < 0 || tt_loop_run_once(loop, 0) < 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t hdr = fuzz_u8(&in);
	struct tt_lun_opts opts = { .write_protect = hdr & 2, .no_thin = hdr & 8 };
	struct env e;
	char err[256];

	memset(&e, 0, sizeof(e));
	if (tt_bdev_open(hdr & 4 ? "ram:4M,bs=4096" : "ram:1M", &e.bdev, err, sizeof(err)) < 0 ||
	    tt_lun_create(TARGET, 0, e.bdev, &opts, &e.lun) < 0)
		abort();
	e.port = (struct tt_scsi_port){ .fe = &fuzz_fe, .target_name = TARGET, .tpgt = 1, .rel_port_id = 1,
					.port_group_id = 1 };
	if (tt_scsi_port_register(&e.port) < 0)
		abort();
	nexus_init(&e, &e.nexus[0], 1, "iqn.1994-05.com.redhat:host1");
	nexus_init(&e, &e.nexus[1], 2, "iqn.1994-05.com.redhat:host2");
	tt_lun_nexus_add(e.lun, &e.nexus[0]);
	tt_lun_nexus_add(e.lun, &e.nexus[1]);
	if (!(hdr & 1)) {
		clear_ua(&e, &e.nexus[0]);
		clear_ua(&e, &e.nexus[1]);
	}

	for (int i = 0; i < MAX_CMDS && in.n; i++) {
		uint8_t flags = fuzz_u8(&in);
		size_t cdb_len = 6 + fuzz_u8(&in) % 27, edtl, have;
		struct ftask *ft = calloc(1, sizeof(*ft));

		if (!ft)
			abort();
		for (size_t k = 0; k < cdb_len; k++)
			ft->t.cdb[k] = fuzz_u8(&in);
		edtl = (size_t)fuzz_u8(&in) << 8;
		edtl |= fuzz_u8(&in);
		ft->t.lun = flags & 8 ? NULL : e.lun;
		ft->t.lun_id = flags & 8 ? 7 : 0;
		ft->t.nexus = &e.nexus[flags >> 2 & 1];
		ft->t.cdb_len = (uint16_t)(cdb_len < 16 ? 16 : cdb_len);
		ft->t.attr = (enum tt_task_attr)(flags >> 4 & 3);
		ft->t.tag = (uint64_t)i;
		ft->t.dir_read = flags & 1;
		ft->t.dir_write = flags & 2;
		ft->t.edtl = (uint32_t)edtl;
		/* exactly edtl bytes: anything past them is an overflow ASan reports */
		ft->t.buf = malloc(edtl ? edtl : 1);
		if (!ft->t.buf)
			abort();
		memset(ft->t.buf, 0, edtl ? edtl : 1);
		if (ft->t.dir_write) {
			have = edtl < in.n ? edtl : in.n;
			memcpy(ft->t.buf, in.p, have);
			in.p += have;
			in.n -= have;
		}
		run(ft);
		bool overflow;
		(void)tt_scsi_task_residual(&ft->t, &overflow);
		free(ft->t.buf);
		free(ft);
	}

	tt_lun_nexus_del(e.lun, &e.nexus[0]);
	tt_lun_nexus_del(e.lun, &e.nexus[1]);
	tt_scsi_port_unregister(&e.port);
	tt_lun_put(e.lun);
	tt_bdev_put(e.bdev);
	for (int i = 0; i < 4; i++) /* deferred backend work */
		tt_loop_run_once(loop, 0);
	return 0;
}
