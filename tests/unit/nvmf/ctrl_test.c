/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The NVMe-oF controller core without a transport: queue pairs whose completions land in a
 * table, a ram backend, a steppable loop and a fake clock. The lifecycle's edges, Connect and
 * properties, Identify, I/O, keep-alive expiry, asynchronous events, and a replaced controller
 * whose backend I/O is still in flight.
 */
#include "tt_test.h"

#include <errno.h>
#include <stdlib.h>

#include "base/clock.h"
#include "base/loop.h"
#include "bdev/bdev.h"
#include "nvmf/nvmf.h"

#include "fake_qp.h"

#define NQN "nqn.2026-11.org.tether:test"
#define HOST "nqn.2014-08.org.nvmexpress:uuid:test-host"

static uint16_t do_connect(struct fake_qp *q, uint16_t qid, uint16_t cntlid, uint32_t kato,
			uint16_t *out_cntlid)
{
	struct fake_req *r = cmd(q, TT_NVME_FABRICS, 0, 1024, true);
	uint16_t st;

	r->req.sqe[4] = TT_NVMF_CONNECT;
	tt_put_le16(r->req.sqe + 42, qid);
	tt_put_le16(r->req.sqe + 44, 31);
	tt_put_le32(r->req.sqe + 48, kato);
	memset(r->data, 0, 1024);
	memset(r->data, 0x11, 16);
	tt_put_le16(r->data + 16, cntlid);
	strcpy((char *)r->data + 256, NQN);
	strcpy((char *)r->data + 512, HOST);
	st = exec(r);
	if (out_cntlid)
		*out_cntlid = tt_le16(r->req.cqe);
	free(r);
	return st;
}

static uint16_t prop(struct fake_qp *q, bool set, uint32_t ofst, uint64_t v, uint64_t *out)
{
	struct fake_req *r = cmd(q, TT_NVME_FABRICS, 0, 0, false);
	uint16_t st;

	r->req.sqe[4] = set ? TT_NVMF_PROP_SET : TT_NVMF_PROP_GET;
	r->req.sqe[40] = ofst == TT_NVME_REG_CAP ? 1 : 0;
	tt_put_le32(r->req.sqe + 44, ofst);
	tt_put_le64(r->req.sqe + 48, v);
	st = exec(r);
	if (out)
		*out = tt_le32(r->req.cqe) | (uint64_t)tt_le32(r->req.cqe + 4) << 32;
	free(r);
	return st;
}

static uint16_t simple(struct fake_qp *q, uint8_t opc, uint32_t nsid, uint32_t cdw10,
		       uint32_t cdw11, uint32_t *dw0)
{
	struct fake_req *r = cmd(q, opc, nsid, 0, false);
	uint16_t st;

	tt_put_le32(r->req.sqe + 40, cdw10);
	tt_put_le32(r->req.sqe + 44, cdw11);
	st = exec(r);
	if (dw0)
		*dw0 = tt_le32(r->req.cqe);
	free(r);
	return st;
}

static struct tt_nvmf_subsys *subsys;
static struct tt_bdev *bdev;

static int setup(void **state)
{
	char err[256];

	(void)state;
	tt_clock_fake(1000000000ull);
	assert_int_equal(tt_loop_create(&fq_loop, 0), 0);
	assert_int_equal(tt_loop_run_once(fq_loop, 0), 0);
	assert_int_equal(tt_nvmf_init(), 0);
	assert_int_equal(tt_nvmf_subsys_create(NQN, &subsys, err, sizeof(err)), 0);
	assert_int_equal(tt_bdev_open("ram:4M", &bdev, err, sizeof(err)), 0);
	assert_int_equal(tt_nvmf_ns_add(subsys, 1, bdev, 0x1234, err, sizeof(err)), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tt_nvmf_fini();
	tt_bdev_put(bdev);
	for (int i = 0; i < 10; i++)
		tt_loop_run_once(fq_loop, 0);
	tt_loop_destroy(fq_loop);
	tt_clock_real();
	return 0;
}

static struct tt_nvmf_port *qp_port; /* the port new queue pairs come in through */

static struct fake_qp *qp_new(void)
{
	struct fake_qp *q = calloc(1, sizeof(*q));

	assert_non_null(q);
	tt_nvmf_qpair_init(&q->qp, &fq_ops, qp_port);
	snprintf(q->qp.peer, sizeof(q->qp.peer), "test");
	return q;
}

static void test_transitions(void **state)
{
	(void)state;
	assert_true(tt_nvmf_ctrl_transition_ok(TT_NVMF_CTRL_CONNECTED, TT_NVMF_CTRL_LIVE));
	assert_true(tt_nvmf_ctrl_transition_ok(TT_NVMF_CTRL_LIVE, TT_NVMF_CTRL_SHUTDOWN));
	assert_true(tt_nvmf_ctrl_transition_ok(TT_NVMF_CTRL_LIVE, TT_NVMF_CTRL_CONNECTED));
	assert_true(tt_nvmf_ctrl_transition_ok(TT_NVMF_CTRL_SHUTDOWN, TT_NVMF_CTRL_CONNECTED));
	for (int s = 0; s < TT_NVMF_CTRL_ENDING; s++)
		assert_true(tt_nvmf_ctrl_transition_ok(s, TT_NVMF_CTRL_ENDING));
	/* ENDING is final; no shortcut to SHUTDOWN without LIVE */
	for (int s = 0; s < TT_NVMF_CTRL_STATE_COUNT; s++)
		assert_false(tt_nvmf_ctrl_transition_ok(TT_NVMF_CTRL_ENDING, s));
	assert_false(tt_nvmf_ctrl_transition_ok(TT_NVMF_CTRL_CONNECTED, TT_NVMF_CTRL_SHUTDOWN));
	assert_false(tt_nvmf_ctrl_transition_ok(TT_NVMF_CTRL_SHUTDOWN, TT_NVMF_CTRL_LIVE));
	assert_false(tt_nvmf_ctrl_transition_ok(TT_NVMF_CTRL_LIVE, TT_NVMF_CTRL_LIVE));
	assert_string_equal(tt_nvmf_ctrl_state_name(TT_NVMF_CTRL_ENDING), "ending");
}

/* Connect, properties, enable; returns the admin queue. */
static struct fake_qp *admin_live(uint32_t kato, uint16_t *cntlid)
{
	struct fake_qp *a = qp_new();
	uint64_t v;

	assert_int_equal(do_connect(a, 0, 0xffff, kato, cntlid), 0);
	assert_int_equal(prop(a, false, TT_NVME_REG_CSTS, 0, &v), 0);
	assert_int_equal(v & 1, 0);
	/* admin commands wait for CC.EN */
	assert_int_equal(simple(a, TT_NVME_ADM_KEEP_ALIVE, 0, 0, 0, NULL), TT_NVME_SC_CMD_SEQ_ERROR);
	assert_int_equal(prop(a, true, TT_NVME_REG_CC, 0x460001, NULL), 0);
	assert_int_equal(prop(a, false, TT_NVME_REG_CSTS, 0, &v), 0);
	assert_int_equal(v & 1, 1);
	return a;
}

static void close_qp(struct fake_qp *q)
{
	tt_nvmf_qpair_closed(&q->qp);
	tt_nvmf_qpair_fini(&q->qp);
	free(q);
}

static void test_connect_properties(void **state)
{
	struct fake_qp *a = qp_new(), *b = qp_new(), *c;
	uint16_t cntlid = 0, st;
	uint64_t cap;
	struct fake_req *r;

	(void)state;
	/* before Connect only Connect */
	assert_int_equal(prop(a, false, TT_NVME_REG_CAP, 0, NULL), TT_NVME_SC_CMD_SEQ_ERROR);
	/* unknown subsystem: invalid parameters, the field named (data, offset 256) */
	r = cmd(a, TT_NVME_FABRICS, 0, 1024, true);
	r->req.sqe[4] = TT_NVMF_CONNECT;
	tt_put_le16(r->req.sqe + 44, 31);
	strcpy((char *)r->data + 256, "nqn.2026-11.org.tether:none");
	strcpy((char *)r->data + 512, HOST);
	tt_put_le16(r->data + 16, 0xffff);
	assert_int_equal(exec(r), TT_NVME_SCT_CMD | TT_NVME_SC_CONNECT_INVALID_PARAM);
	assert_int_equal(tt_le32(r->req.cqe), 1u | 256u << 16);
	free(r);

	assert_int_equal(do_connect(a, 0, 0xffff, 0, &cntlid), 0);
	assert_true(cntlid >= 1);
	assert_int_equal(tt_nvmf_subsys_ctrl_count(subsys), 1);
	assert_int_equal(prop(a, false, TT_NVME_REG_CAP, 0, &cap), 0);
	assert_int_equal(cap & 0xffff, TT_NVMF_MAX_QUEUE_DEPTH - 1);
	assert_int_equal((cap >> 37) & 1, 1);
	/* an I/O queue needs a live controller */
	assert_int_equal(do_connect(b, 1, cntlid, 0, NULL), TT_NVME_SC_CMD_SEQ_ERROR);
	assert_int_equal(prop(a, true, TT_NVME_REG_CC, 0x460001, NULL), 0);
	/* the wrong controller id; then the right one */
	assert_int_equal(do_connect(b, 1, (uint16_t)(cntlid + 1), 0, NULL),
			 TT_NVME_SCT_CMD | TT_NVME_SC_CONNECT_INVALID_PARAM);
	assert_int_equal(do_connect(b, 1, cntlid, 0, NULL), 0);
	/* a connection made for queue 2 with 32, then 16 entries (NVMe/RDMA's CM request): Connect
	 * must name that queue (Invalid Parameters, QID at 42) and no more entries (SQSIZE at 44) */
	c = qp_new();
	c->qp.qid_fixed = true;
	c->qp.fixed_qid = 2;
	c->qp.max_entries = 32;
	st = do_connect(c, 3, cntlid, 0, NULL);
	assert_int_equal(st, TT_NVME_SCT_CMD | TT_NVME_SC_CONNECT_INVALID_PARAM);
	assert_int_equal(tt_le32(c->last_cqe), 42u << 16);
	c->qp.max_entries = 16;
	st = do_connect(c, 2, cntlid, 0, NULL); /* SQSIZE 31: 32 entries */
	assert_int_equal(st, TT_NVME_SCT_CMD | TT_NVME_SC_CONNECT_INVALID_PARAM);
	assert_int_equal(tt_le32(c->last_cqe), 44u << 16);
	c->qp.max_entries = 32;
	assert_int_equal(do_connect(c, 2, cntlid, 0, NULL), 0);
	/* CC.EN=0: a reset drops the I/O queues */
	assert_int_equal(prop(a, true, TT_NVME_REG_CC, 0x460000, NULL), 0);
	assert_int_equal(b->disconnects, 1);
	assert_int_equal(c->disconnects, 1);
	close_qp(c);
	close_qp(b);
	/* closing the admin queue ends the controller */
	close_qp(a);
	assert_int_equal(tt_nvmf_subsys_ctrl_count(subsys), 0);
}

static void test_identify_io(void **state)
{
	struct fake_qp *a, *q = qp_new();
	uint16_t cntlid;
	struct fake_req *r;
	uint8_t nguid[16], uuid[16];

	(void)state;
	a = admin_live(0, &cntlid);
	r = cmd(a, TT_NVME_ADM_IDENTIFY, 0, 4096, false);
	r->req.sqe[40] = 1;
	assert_int_equal(exec(r), 0);
	assert_int_equal(tt_le16(r->data + 78), cntlid);
	assert_string_equal((char *)r->data + 768, NQN);
	assert_int_equal(tt_le32(r->data + 1792), (64 + TT_NVMF_IN_CAPSULE) / 16);
	assert_true(tt_le16(r->data + 320) > 0); /* KAS */
	free(r);
	r = cmd(a, TT_NVME_ADM_IDENTIFY, 1, 4096, false);
	r->req.sqe[40] = 0;
	assert_int_equal(exec(r), 0);
	assert_int_equal(tt_le64(r->data), 4 * 1024 * 1024 / 512);
	tt_nvmf_ns_ids(0x1234, nguid, uuid);
	assert_memory_equal(r->data + 104, nguid, 16);
	assert_int_equal(nguid[0] >> 4, 6); /* NAA 6 */
	assert_int_equal(tt_le64(nguid + 8), 0x3412000000000000ull); /* the id, big endian */
	assert_int_equal(uuid[6] >> 4, 4);
	free(r);
	r = cmd(a, TT_NVME_ADM_IDENTIFY, 1, 4096, false);
	r->req.sqe[40] = 3;
	assert_int_equal(exec(r), 0);
	assert_int_equal(r->data[0], 2);
	assert_memory_equal(r->data + 4, nguid, 16);
	assert_int_equal(r->data[20], 3);
	assert_memory_equal(r->data + 24, uuid, 16);
	free(r);
	r = cmd(a, TT_NVME_ADM_IDENTIFY, 9, 4096, false);
	r->req.sqe[40] = 3;
	assert_int_equal(exec(r), TT_NVME_SC_INVALID_NS);
	free(r);

	assert_int_equal(do_connect(q, 1, cntlid, 0, NULL), 0);
	/* write 2 blocks, read them back, compare */
	r = cmd(q, TT_NVME_CMD_WRITE, 1, 1024, true);
	memset(r->data, 0x5a, 1024);
	tt_put_le32(r->req.sqe + 40, 10);
	tt_put_le32(r->req.sqe + 48, 1);
	assert_int_equal(exec(r), 0);
	free(r);
	r = cmd(q, TT_NVME_CMD_READ, 1, 1024, false);
	tt_put_le32(r->req.sqe + 40, 10);
	tt_put_le32(r->req.sqe + 48, 1);
	assert_int_equal(exec(r), 0);
	assert_int_equal(r->req.xfer_len, 1024);
	assert_int_equal(r->data[0], 0x5a);
	assert_int_equal(r->data[1023], 0x5a);
	free(r);
	r = cmd(q, TT_NVME_CMD_COMPARE, 1, 512, true);
	memset(r->data, 0x5a, 512);
	tt_put_le32(r->req.sqe + 40, 11);
	assert_int_equal(exec(r), 0);
	free(r);
	r = cmd(q, TT_NVME_CMD_COMPARE, 1, 512, true);
	memset(r->data, 0x5b, 512);
	tt_put_le32(r->req.sqe + 40, 11);
	assert_int_equal(exec(r), TT_NVME_SCT_MEDIA | TT_NVME_SC_COMPARE_FAILED);
	assert_int_equal(r->data[0], 0x5b); /* the host's buffer is given back */
	free(r);
	/* out of range, length mismatch, wrong namespace */
	r = cmd(q, TT_NVME_CMD_READ, 1, 512, false);
	tt_put_le64(r->req.sqe + 40, 8192);
	assert_int_equal(exec(r), TT_NVME_SC_LBA_RANGE);
	free(r);
	r = cmd(q, TT_NVME_CMD_READ, 1, 512, false);
	tt_put_le32(r->req.sqe + 48, 1);
	assert_int_equal(exec(r), TT_NVME_SC_SGL_INVALID_DATA);
	free(r);
	assert_int_equal(simple(q, TT_NVME_CMD_FLUSH, 2, 0, 0, NULL), TT_NVME_SC_INVALID_NS);
	assert_int_equal(simple(q, TT_NVME_CMD_FLUSH, 1, 0, 0, NULL), 0);
	/* write zeroes over block 10 */
	assert_int_equal(simple(q, TT_NVME_CMD_WRITE_ZEROES, 1, 10, 0, NULL), 0);
	r = cmd(q, TT_NVME_CMD_READ, 1, 1024, false);
	tt_put_le32(r->req.sqe + 40, 10);
	tt_put_le32(r->req.sqe + 48, 1);
	assert_int_equal(exec(r), 0);
	assert_int_equal(r->data[0], 0);
	assert_int_equal(r->data[512], 0x5a);
	free(r);
	assert_int_equal(simple(q, 0x7e, 1, 0, 0, NULL), TT_NVME_SC_INVALID_OPCODE);
	close_qp(q);
	close_qp(a);
}

static void test_keep_alive(void **state)
{
	struct fake_qp *a, *q = qp_new();
	uint16_t cntlid;

	(void)state;
	a = admin_live(2000, &cntlid);
	assert_int_equal(do_connect(q, 1, cntlid, 0, NULL), 0);
	/* Keep Alive every second: the controller stays */
	for (int i = 0; i < 5; i++) {
		tt_clock_advance(1000000000ull);
		tt_loop_run_once(fq_loop, 0);
		assert_int_equal(simple(a, TT_NVME_ADM_KEEP_ALIVE, 0, 0, 0, NULL), 0);
	}
	assert_int_equal(tt_nvmf_subsys_ctrl_count(subsys), 1);
	assert_int_equal(a->disconnects, 0);
	/* traffic based keep-alive: I/O commands alone keep it too */
	for (int i = 0; i < 5; i++) {
		tt_clock_advance(1500000000ull);
		tt_loop_run_once(fq_loop, 0);
		assert_int_equal(simple(q, TT_NVME_CMD_FLUSH, 1, 0, 0, NULL), 0);
	}
	assert_int_equal(tt_nvmf_subsys_ctrl_count(subsys), 1);
	assert_int_equal(a->disconnects, 0);
	/* silence: past KATO the controller ends and both queues are told to go */
	tt_clock_advance(1999000000ull);
	tt_loop_run_once(fq_loop, 0);
	assert_int_equal(tt_nvmf_subsys_ctrl_count(subsys), 1);
	tt_clock_advance(2000000ull);
	tt_loop_run_once(fq_loop, 0);
	assert_int_equal(tt_nvmf_subsys_ctrl_count(subsys), 0);
	assert_int_equal(a->disconnects, 1);
	assert_int_equal(q->disconnects, 1);
	/* an ended controller takes no command */
	assert_int_equal(simple(q, TT_NVME_CMD_FLUSH, 1, 0, 0, NULL), TT_NVME_SC_CMD_SEQ_ERROR);
	close_qp(q);
	close_qp(a);
}

static void test_async_events(void **state)
{
	struct fake_qp *a;
	struct fake_req *aer, *r;
	uint16_t cntlid;
	char err[128];

	(void)state;
	a = admin_live(0, &cntlid);
	/* namespace attribute notices on */
	assert_int_equal(simple(a, TT_NVME_ADM_SET_FEATURES, 0, TT_NVME_FEAT_ASYNC_EVENT, 1u << 8,
				NULL), 0);
	aer = cmd(a, TT_NVME_ADM_ASYNC_EVENT, 0, 0, false);
	{
		bool inc;

		assert_int_equal(tt_nvmf_req_layout(&aer->req, &inc), 0);
	}
	tt_nvmf_req_exec(&aer->req);
	tt_loop_run_once(fq_loop, 0);
	assert_false(aer->done); /* parked */
	assert_int_equal(tt_nvmf_ns_add(subsys, 5, bdev, 5, err, sizeof(err)), 0);
	assert_true(aer->done);
	assert_int_equal(status_of(&aer->req), 0);
	assert_int_equal(tt_le32(aer->req.cqe), 0x040002u);
	free(aer);
	r = cmd(a, TT_NVME_ADM_GET_LOG_PAGE, 0, 4096, false);
	tt_put_le32(r->req.sqe + 40, TT_NVME_LOG_CHANGED_NS | (4096 / 4 - 1) << 16);
	assert_int_equal(exec(r), 0);
	assert_int_equal(tt_le32(r->data), 5);
	assert_int_equal(tt_le32(r->data + 4), 0);
	free(r);
	/* the log was read: the list is empty again */
	r = cmd(a, TT_NVME_ADM_GET_LOG_PAGE, 0, 4096, false);
	tt_put_le32(r->req.sqe + 40, TT_NVME_LOG_CHANGED_NS | (4096 / 4 - 1) << 16);
	assert_int_equal(exec(r), 0);
	assert_int_equal(tt_le32(r->data), 0);
	free(r);
	/* a log page read from an offset */
	r = cmd(a, TT_NVME_ADM_GET_LOG_PAGE, 0, 16, false);
	tt_put_le32(r->req.sqe + 40, TT_NVME_LOG_ANA | (16 / 4 - 1) << 16);
	tt_put_le32(r->req.sqe + 48, 16);
	assert_int_equal(exec(r), 0);
	assert_int_equal(tt_le32(r->data), 1);      /* ANA group 1 */
	assert_int_equal(tt_le32(r->data + 4), 2);  /* two namespaces */
	free(r);
	assert_int_equal(tt_nvmf_ns_remove(subsys, 5, err, sizeof(err)), 0);
	/* an AER parked when the controller ends completes (aborted) */
	aer = cmd(a, TT_NVME_ADM_ASYNC_EVENT, 0, 0, false);
	tt_nvmf_req_exec(&aer->req);
	tt_loop_run_once(fq_loop, 0);
	/* the removal above is still pending: it completes at once */
	assert_true(aer->done);
	free(aer);
	aer = cmd(a, TT_NVME_ADM_ASYNC_EVENT, 0, 0, false);
	tt_nvmf_req_exec(&aer->req);
	assert_false(aer->done);
	close_qp(a);
	assert_true(aer->done);
	assert_int_equal(status_of(&aer->req), TT_NVME_SC_ABORT_REQ);
	free(aer);
}

/* A host that connects again through the same port replaces its controller; the new Connect
 * completes only after the old controller's backend I/O has completed. */
static void test_replace_drains(void **state)
{
	struct tt_bdev *slow;
	struct fake_qp *a, *q, *a2;
	struct fake_req *w, *c2;
	uint16_t cntlid;
	char err[128];
	bool inc;

	(void)state;
	assert_int_equal(tt_bdev_open("delay:hang,ram:1M", &slow, err, sizeof(err)), 0);
	assert_int_equal(tt_nvmf_ns_add(subsys, 2, slow, 2, err, sizeof(err)), 0);
	a = admin_live(0, &cntlid);
	q = qp_new();
	assert_int_equal(do_connect(q, 1, cntlid, 0, NULL), 0);
	w = cmd(q, TT_NVME_CMD_WRITE, 2, 512, true);
	assert_int_equal(tt_nvmf_req_layout(&w->req, &inc), 0);
	tt_nvmf_req_exec(&w->req);
	for (int i = 0; i < 5; i++)
		tt_loop_run_once(fq_loop, 0);
	assert_int_equal(tt_bdev_delay_parked(slow), 1);

	a2 = qp_new();
	c2 = cmd(a2, TT_NVME_FABRICS, 0, 1024, true);
	c2->req.sqe[4] = TT_NVMF_CONNECT;
	tt_put_le16(c2->req.sqe + 44, 31);
	memset(c2->data, 0x11, 16);
	tt_put_le16(c2->data + 16, 0xffff);
	strcpy((char *)c2->data + 256, NQN);
	strcpy((char *)c2->data + 512, HOST);
	assert_int_equal(tt_nvmf_req_layout(&c2->req, &inc), 0);
	tt_nvmf_req_exec(&c2->req);
	for (int i = 0; i < 5; i++)
		tt_loop_run_once(fq_loop, 0);
	/* the old controller ended, its queues were told to go, the Connect waits */
	assert_false(c2->done);
	assert_int_equal(a->disconnects, 1);
	assert_int_equal(q->disconnects, 1);
	close_qp(a);
	/* the transport keeps a queue while a request on it executes */
	tt_nvmf_qpair_closed(&q->qp);
	assert_false(c2->done);
	/* the write lands; then the old controller is freed and the Connect completes */
	assert_int_equal(tt_bdev_delay_release(slow), 1);
	run_until(&c2->done);
	assert_true(w->done);
	assert_int_equal(status_of(&c2->req), 0);
	assert_int_equal(tt_nvmf_subsys_ctrl_count(subsys), 1);
	free(q);
	free(w);
	free(c2);
	close_qp(a2);
	assert_int_equal(tt_nvmf_ns_remove(subsys, 2, err, sizeof(err)), 0);
	tt_bdev_put(slow);
}

/* Only the listed hosts may connect once a subsystem has a host list. */
static void test_allowed_hosts(void **state)
{
	struct fake_qp *a = qp_new(), *b = qp_new();
	char err[128];

	(void)state;
	assert_int_equal(tt_nvmf_subsys_add_host(subsys, "nqn.2014-08.org.nvmexpress:uuid:other",
						 err, sizeof(err)), 0);
	assert_int_equal(do_connect(a, 0, 0xffff, 0, NULL),
			 TT_NVME_SCT_CMD | TT_NVME_SC_CONNECT_INVALID_HOST);
	assert_int_equal(tt_nvmf_subsys_ctrl_count(subsys), 0);
	assert_int_equal(tt_nvmf_subsys_add_host(subsys, HOST, err, sizeof(err)), 0);
	assert_int_equal(do_connect(b, 0, 0xffff, 0, NULL), 0);
	assert_int_equal(tt_nvmf_subsys_add_host(subsys, "not-an-nqn", err, sizeof(err)), -EINVAL);
	close_qp(a);
	close_qp(b);
}

/* A parked Async Event Request on admin queue @a. */
static struct fake_req *aer_park(struct fake_qp *a)
{
	struct fake_req *aer = cmd(a, TT_NVME_ADM_ASYNC_EVENT, 0, 0, false);
	bool inc;

	assert_int_equal(tt_nvmf_req_layout(&aer->req, &inc), 0);
	tt_nvmf_req_exec(&aer->req);
	tt_loop_run_once(fq_loop, 0);
	return aer;
}

/* Reads the ANA log page through @a: the state of the one group descriptor, its group id in
 * *@group and its namespace count in *@nns. */
static uint8_t ana_log(struct fake_qp *a, bool rae, uint32_t *group, uint32_t *nns,
		       uint64_t *chgcnt)
{
	struct fake_req *r = cmd(a, TT_NVME_ADM_GET_LOG_PAGE, 0, 4096, false);
	uint8_t st;

	tt_put_le32(r->req.sqe + 40, TT_NVME_LOG_ANA | (rae ? 0x8000u : 0) | (4096 / 4 - 1) << 16);
	assert_int_equal(exec(r), 0);
	assert_int_equal(tt_le16(r->data + 8), 1);
	*group = tt_le32(r->data + 16);
	*nns = tt_le32(r->data + 20);
	*chgcnt = tt_le64(r->data);
	st = r->data[32];
	free(r);
	return st;
}

static uint16_t read1(struct fake_qp *q)
{
	struct fake_req *r = cmd(q, TT_NVME_CMD_READ, 1, 512, false);
	uint16_t st = exec(r);

	free(r);
	return st;
}

/* Two ports in two ANA groups: Identify, the log page, I/O statuses per state and the notices
 * of a change (only to the controllers of the group, one until the log page is read). */
static void test_ana(void **state)
{
	/* ports of the test alone (not in the registry): the test holds a reference to each */
	struct tt_nvmf_port p1 = { .ana_group = 1, .name = "p1", .refs = 1 },
			    p2 = { .ana_group = 2, .name = "p2", .refs = 1 };
	struct fake_qp *a1, *a2, *q1, *q2;
	struct fake_req *aer1, *aer2, *r;
	uint16_t c1, c2;
	uint32_t grp, nns;
	uint64_t cnt0, cnt;
	char err[128];

	(void)state;
	assert_int_equal(tt_nvmf_ana_set(1, TT_NVMF_ANA_OPTIMIZED, err, sizeof(err)), 0);
	assert_int_equal(tt_nvmf_ana_set(2, TT_NVMF_ANA_INACCESSIBLE, err, sizeof(err)), 0);
	assert_int_equal(tt_nvmf_ana_set(0, TT_NVMF_ANA_INACCESSIBLE, err, sizeof(err)), -EINVAL);
	assert_int_equal(tt_nvmf_ana_set(TT_NVMF_ANA_GROUP_MAX + 1, TT_NVMF_ANA_OPTIMIZED, err,
					 sizeof(err)), -EINVAL);
	assert_int_equal(tt_nvmf_ana_set(3, (enum tt_nvmf_ana_state)7, err, sizeof(err)), -EINVAL);
	assert_int_equal(tt_nvmf_ana_state_parse("persistent-loss"), TT_NVMF_ANA_PERSISTENT_LOSS);
	assert_int_equal(tt_nvmf_ana_state_parse("standby"), -EINVAL);
	tt_list_init(&p1.qpairs);
	tt_list_init(&p2.qpairs);
	qp_port = &p1;
	a1 = admin_live(0, &c1);
	q1 = qp_new();
	assert_int_equal(do_connect(q1, 1, c1, 0, NULL), 0);
	qp_port = &p2;
	a2 = admin_live(0, &c2);
	q2 = qp_new();
	assert_int_equal(do_connect(q2, 1, c2, 0, NULL), 0);
	qp_port = NULL;
	assert_int_equal(tt_nvmf_subsys_ctrl_count(subsys), 2);

	/* Identify Controller: CMIC (several controllers, ANA), ANACAP, ANAGRPMAX, NANAGRPID */
	r = cmd(a2, TT_NVME_ADM_IDENTIFY, 0, 4096, false);
	tt_put_le32(r->req.sqe + 40, 0x01);
	assert_int_equal(exec(r), 0);
	assert_int_equal(r->data[76] & 0xa, 0xa);
	assert_int_equal(r->data[344] & 0x1f, 0x1f);
	assert_int_equal(tt_le32(r->data + 345), TT_NVMF_ANA_GROUP_MAX);
	assert_int_equal(tt_le32(r->data + 349), 2);
	assert_int_equal(tt_le32(r->data + 92) & (1u << 11), 1u << 11); /* OAES: ANA change */
	free(r);
	/* Identify Namespace: the group of the path */
	r = cmd(a2, TT_NVME_ADM_IDENTIFY, 1, 4096, false);
	tt_put_le32(r->req.sqe + 40, 0x00);
	assert_int_equal(exec(r), 0);
	assert_int_equal(tt_le32(r->data + 92), 2);
	free(r);
	r = cmd(a1, TT_NVME_ADM_IDENTIFY, 1, 4096, false);
	tt_put_le32(r->req.sqe + 40, 0x00);
	assert_int_equal(exec(r), 0);
	assert_int_equal(tt_le32(r->data + 92), 1);
	free(r);

	/* the log page of each path */
	assert_int_equal(ana_log(a1, false, &grp, &nns, &cnt0), TT_NVMF_ANA_OPTIMIZED);
	assert_int_equal(grp, 1);
	assert_int_equal(nns, 1);
	assert_int_equal(ana_log(a2, false, &grp, &nns, &cnt), TT_NVMF_ANA_INACCESSIBLE);
	assert_int_equal(grp, 2);
	assert_int_equal(cnt, cnt0);
	/* I/O: served through group 1, path status (no DNR) through group 2 */
	assert_int_equal(read1(q1), 0);
	assert_int_equal(read1(q2), TT_NVME_SCT_PATH | TT_NVME_SC_ANA_INACCESSIBLE);
	assert_int_equal(p2.ana_refused, 1);
	assert_int_equal(p1.read_cmds, 1);

	/* ANA change notices on for both; an AER parked on each */
	assert_int_equal(simple(a1, TT_NVME_ADM_SET_FEATURES, 0, TT_NVME_FEAT_ASYNC_EVENT,
				1u << 11, NULL), 0);
	assert_int_equal(simple(a2, TT_NVME_ADM_SET_FEATURES, 0, TT_NVME_FEAT_ASYNC_EVENT,
				1u << 11, NULL), 0);
	aer1 = aer_park(a1);
	aer2 = aer_park(a2);
	assert_false(aer1->done);
	assert_false(aer2->done);
	/* the same state again: no change, no notice */
	assert_int_equal(tt_nvmf_ana_set(2, TT_NVMF_ANA_INACCESSIBLE, err, sizeof(err)), 0);
	assert_false(aer2->done);
	assert_int_equal(tt_nvmf_ana_set(2, TT_NVMF_ANA_OPTIMIZED, err, sizeof(err)), 0);
	assert_true(aer2->done);
	assert_false(aer1->done); /* group 1 did not change */
	assert_int_equal(status_of(&aer2->req), 0);
	assert_int_equal(tt_le32(aer2->req.cqe), 0x0c0302u); /* notice, ANA change, log 0Ch */
	free(aer2);
	assert_int_equal(read1(q2), 0);
	/* a second change before the log is read: no second notice */
	aer2 = aer_park(a2);
	assert_int_equal(tt_nvmf_ana_set(2, TT_NVMF_ANA_CHANGE, err, sizeof(err)), 0);
	assert_false(aer2->done);
	assert_int_equal(read1(q2), TT_NVME_SCT_PATH | TT_NVME_SC_ANA_TRANSITION);
	/* reading with RAE keeps the notice masked; without it, the next change notifies */
	assert_int_equal(ana_log(a2, true, &grp, &nns, &cnt), TT_NVMF_ANA_CHANGE);
	assert_int_equal(cnt, cnt0 + 2);
	assert_int_equal(tt_nvmf_ana_set(2, TT_NVMF_ANA_NON_OPTIMIZED, err, sizeof(err)), 0);
	assert_false(aer2->done);
	assert_int_equal(read1(q2), 0); /* non-optimized serves I/O */
	assert_int_equal(ana_log(a2, false, &grp, &nns, &cnt), TT_NVMF_ANA_NON_OPTIMIZED);
	assert_int_equal(tt_nvmf_ana_set(2, TT_NVMF_ANA_PERSISTENT_LOSS, err, sizeof(err)), 0);
	assert_true(aer2->done);
	assert_int_equal(tt_le32(aer2->req.cqe), 0x0c0302u);
	free(aer2);
	assert_int_equal(read1(q2), TT_NVME_SCT_PATH | TT_NVME_SC_ANA_PERSISTENT_LOSS);
	assert_int_equal(read1(q1), 0);
	assert_int_equal(tt_nvmf_ana_get(2), TT_NVMF_ANA_PERSISTENT_LOSS);

	close_qp(q1);
	close_qp(q2);
	close_qp(a2);
	close_qp(a1);
	assert_true(aer1->done);
	assert_int_equal(status_of(&aer1->req), TT_NVME_SC_ABORT_REQ);
	free(aer1);
	/* queue pairs and controllers let go of the ports: the test's references only */
	assert_int_equal(p1.refs, 1);
	assert_int_equal(p2.refs, 1);
	assert_true(tt_list_empty(&p1.qpairs));
}

/* Deleting a subsystem ends its controllers; it stays until the last one is gone. Removing a
 * host from the list, or closing the list, ends that host's controllers. */
static void test_subsys_delete_hosts(void **state)
{
	struct fake_qp *a, *q;
	uint16_t cntlid;
	char err[128];

	(void)state;
	a = admin_live(0, &cntlid);
	assert_int_equal(tt_nvmf_subsys_add_host(subsys, HOST, err, sizeof(err)), 0);
	assert_int_equal(tt_nvmf_subsys_ctrl_count(subsys), 1);
	assert_int_equal(tt_nvmf_subsys_remove_host(subsys, HOST, err, sizeof(err)), 0);
	assert_int_equal(tt_nvmf_subsys_ctrl_count(subsys), 0);
	assert_int_equal(a->disconnects, 1);
	assert_int_equal(tt_nvmf_subsys_remove_host(subsys, HOST, err, sizeof(err)), -ENOENT);
	close_qp(a);
	/* with any host allowed, removing one from the list leaves its controllers alone */
	tt_nvmf_subsys_allow_any_host(subsys, true);
	a = admin_live(0, &cntlid);
	assert_int_equal(tt_nvmf_subsys_add_host(subsys, HOST, err, sizeof(err)), 0);
	tt_nvmf_subsys_allow_any_host(subsys, true);
	assert_int_equal(tt_nvmf_subsys_remove_host(subsys, HOST, err, sizeof(err)), 0);
	assert_int_equal(tt_nvmf_subsys_ctrl_count(subsys), 1);
	assert_int_equal(a->disconnects, 0);
	close_qp(a);
	/* serial and model */
	assert_int_equal(tt_nvmf_subsys_set_ids(subsys, "SER1", "a model", err, sizeof(err)), 0);
	assert_int_equal(tt_nvmf_subsys_set_ids(subsys, "123456789012345678901", NULL, err,
						sizeof(err)), -EINVAL);
	assert_int_equal(tt_nvmf_subsys_set_ids(subsys, "bad\x01", NULL, err, sizeof(err)), -EINVAL);
	tt_nvmf_subsys_allow_any_host(subsys, true);
	a = admin_live(0, &cntlid);
	{
		struct fake_req *r = cmd(a, TT_NVME_ADM_IDENTIFY, 0, 4096, false);

		tt_put_le32(r->req.sqe + 40, 0x01);
		assert_int_equal(exec(r), 0);
		assert_memory_equal(r->data + 4, "SER1                ", 20);
		assert_memory_equal(r->data + 24, "a model ", 8);
		free(r);
	}
	q = qp_new();
	assert_int_equal(do_connect(q, 1, cntlid, 0, NULL), 0);
	/* closing the host list to hosts that are not listed ends the controller */
	tt_nvmf_subsys_allow_any_host(subsys, false);
	assert_int_equal(tt_nvmf_subsys_ctrl_count(subsys), 0);
	assert_int_equal(q->disconnects, 1);
	close_qp(q);
	close_qp(a);
	tt_nvmf_subsys_allow_any_host(subsys, true);
	a = admin_live(0, &cntlid);
	assert_int_equal(tt_nvmf_subsys_delete(NQN, err, sizeof(err)), 0);
	assert_null(tt_nvmf_subsys_find(NQN));
	assert_int_equal(a->disconnects, 1);
	assert_int_equal(tt_nvmf_subsys_delete(NQN, err, sizeof(err)), -ENOENT);
	/* the controller still holds the subsystem: commands are refused, nothing is freed yet */
	assert_int_equal(simple(a, TT_NVME_ADM_KEEP_ALIVE, 0, 0, 0, NULL),
			 TT_NVME_SC_CMD_SEQ_ERROR);
	close_qp(a);
	assert_int_equal(tt_nvmf_subsys_create(NQN, &subsys, err, sizeof(err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transitions),
		cmocka_unit_test_setup_teardown(test_connect_properties, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identify_io, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keep_alive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_async_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace_drains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_allowed_hosts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ana, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subsys_delete_hosts, setup, teardown),
	};

	return tt_run_group("ctrl_test", tests, NULL, NULL);
}
