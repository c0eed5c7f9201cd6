/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NVMe-oF ports at run time: real NVMe/TCP ports on 127.0.0.1 (real listeners, a real
 * connection accepted by the transport) and queue pairs of a fake transport whose completions
 * land in a table. Removing a port: its controllers end, queue pairs of other controllers that
 * came in through it are disconnected, the address refuses connections, the discovery log drops
 * it (a new GENCTR, a Discovery Log Page Change notice), and the port object stays until its last
 * queue pair is gone (ASan: no use after free, no leak). Moving a port to another ANA group: the notice, the log page, Identify Namespace and the
 * I/O check follow the new group.
 */
#include "tt_test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/loop.h"
#include "bdev/bdev.h"
#include "nvmf/nvmf.h"

#include "fake_qp.h"

#define NQN "nqn.2026-11.org.tether:port-test"
#define HOST "nqn.2014-08.org.nvmexpress:uuid:port-test-host"

static struct tt_loop *loop0(void) { return fq_loop; }

static uint16_t do_connect(struct fake_qp *q, const char *subnqn, uint16_t qid, uint16_t cntlid,
			   uint16_t *out_cntlid)
{
	struct fake_req *r = cmd(q, TT_NVME_FABRICS, 0, 1024, true);
	uint16_t st;

	r->req.sqe[4] = TT_NVMF_CONNECT;
	tt_put_le16(r->req.sqe + 42, qid);
	tt_put_le16(r->req.sqe + 44, 31);
	memset(r->data, 0, 1024);
	memset(r->data, 0x22, 16);
	tt_put_le16(r->data + 16, cntlid);
	strcpy((char *)r->data + 256, subnqn);
	strcpy((char *)r->data + 512, HOST);
	st = exec(r);
	if (out_cntlid)
		*out_cntlid = tt_le16(r->req.cqe);
	free(r);
	return st;
}

static uint16_t simple(struct fake_qp *q, uint8_t opc, uint32_t nsid, uint32_t cdw10,
		       uint32_t cdw11)
{
	struct fake_req *r = cmd(q, opc, nsid, 0, false);
	uint16_t st;

	tt_put_le32(r->req.sqe + 40, cdw10);
	tt_put_le32(r->req.sqe + 44, cdw11);
	st = exec(r);
	free(r);
	return st;
}

static struct fake_qp *qp_new(struct tt_nvmf_port *port)
{
	struct fake_qp *q = calloc(1, sizeof(*q));

	assert_non_null(q);
	tt_nvmf_qpair_init(&q->qp, &fq_ops, port);
	snprintf(q->qp.peer, sizeof(q->qp.peer), "test");
	return q;
}

/* What a transport does when its connection goes: the core lets go, then the memory. */
static void close_qp(struct fake_qp *q)
{
	tt_nvmf_qpair_closed(&q->qp);
	tt_nvmf_qpair_fini(&q->qp);
	free(q);
}

/* Connect through @port to @subnqn, CC.EN=1, ANA change notices on; the admin queue. */
static struct fake_qp *admin_live(struct tt_nvmf_port *port, const char *subnqn, uint16_t *cntlid)
{
	struct fake_qp *a = qp_new(port);
	struct fake_req *r;

	assert_int_equal(do_connect(a, subnqn, 0, 0xffff, cntlid), 0);
	r = cmd(a, TT_NVME_FABRICS, 0, 0, false);
	r->req.sqe[4] = TT_NVMF_PROP_SET;
	tt_put_le32(r->req.sqe + 44, TT_NVME_REG_CC);
	tt_put_le32(r->req.sqe + 48, 0x460001);
	assert_int_equal(exec(r), 0);
	free(r);
	if (strcmp(subnqn, TT_NVMF_DISCOVERY_NQN))
		assert_int_equal(simple(a, TT_NVME_ADM_SET_FEATURES, 0, TT_NVME_FEAT_ASYNC_EVENT,
					1u << 11), 0);
	return a;
}

static struct fake_qp *io_queue(struct tt_nvmf_port *port, uint16_t cntlid)
{
	struct fake_qp *q = qp_new(port);

	assert_int_equal(do_connect(q, NQN, 1, cntlid, NULL), 0);
	return q;
}

static struct fake_req *aer_park(struct fake_qp *a)
{
	struct fake_req *aer = cmd(a, TT_NVME_ADM_ASYNC_EVENT, 0, 0, false);
	bool inc;

	assert_int_equal(tt_nvmf_req_layout(&aer->req, &inc), 0);
	tt_nvmf_req_exec(&aer->req);
	tt_loop_run_once(loop0(), 0);
	assert_false(aer->done);
	return aer;
}

/* The ANA log page through @a: the state of its one descriptor, the group in *@group. */
static uint8_t ana_log(struct fake_qp *a, uint32_t *group, uint64_t *chgcnt)
{
	struct fake_req *r = cmd(a, TT_NVME_ADM_GET_LOG_PAGE, 0, 4096, false);
	uint8_t st;

	tt_put_le32(r->req.sqe + 40, TT_NVME_LOG_ANA | (4096 / 4 - 1) << 16);
	assert_int_equal(exec(r), 0);
	assert_int_equal(tt_le16(r->data + 8), 1);
	assert_int_equal(tt_le32(r->data + 20), 1); /* namespace 1 */
	assert_int_equal(tt_le32(r->data + 48), 1);
	*group = tt_le32(r->data + 16);
	*chgcnt = tt_le64(r->data);
	st = r->data[32];
	free(r);
	return st;
}

/* ANAGRPID of namespace 1 in Identify Namespace through @a. */
static uint32_t ns_anagrpid(struct fake_qp *a)
{
	struct fake_req *r = cmd(a, TT_NVME_ADM_IDENTIFY, 1, 4096, false);
	uint32_t g;

	tt_put_le32(r->req.sqe + 40, 0x00);
	assert_int_equal(exec(r), 0);
	g = tt_le32(r->data + 92);
	free(r);
	return g;
}

static uint16_t read1(struct fake_qp *q)
{
	struct fake_req *r = cmd(q, TT_NVME_CMD_READ, 1, 512, false);
	uint16_t st = exec(r);

	free(r);
	return st;
}

/* The discovery log through the discovery controller @d: records, generation in *@gen, and
 * whether a record has TRSVCID @svc. */
static uint64_t discovery_log(struct fake_qp *d, uint64_t *gen, const char *svc, bool *has)
{
	struct fake_req *r = cmd(d, TT_NVME_ADM_GET_LOG_PAGE, 0, 4096, false);
	uint64_t n;

	tt_put_le32(r->req.sqe + 40, TT_NVME_LOG_DISCOVERY | (4096 / 4 - 1) << 16);
	assert_int_equal(exec(r), 0);
	*gen = tt_le64(r->data);
	n = tt_le64(r->data + 8);
	*has = false;
	for (uint64_t i = 0; i < n && i < 3; i++)
		*has |= !strncmp((const char *)r->data + 1024 * (i + 1) + 32, svc, strlen(svc));
	free(r);
	return n;
}

/* ---- fixture ---------------------------------------------------------------------------------- */

static struct tt_nvmf_subsys *subsys;
static struct tt_bdev *bdev;
static uint16_t tcp_port1, tcp_port2;
static char addr1[64], addr2[64];

static int setup(void **state)
{
	char err[256];

	(void)state;
	/* two ports nobody else is likely to use, different in each run */
	tcp_port1 = (uint16_t)(41000 + (getpid() * 7 + tt_now_ns() / 1000) % 8000);
	tcp_port2 = (uint16_t)(tcp_port1 + 1);
	snprintf(addr1, sizeof(addr1), "nvme-tcp://127.0.0.1:%u", tcp_port1);
	snprintf(addr2, sizeof(addr2), "nvme-tcp://127.0.0.1:%u", tcp_port2);
	assert_int_equal(tt_nvmf_init(), 0);
	assert_int_equal(tt_nvmf_subsys_create(NQN, &subsys, err, sizeof(err)), 0);
	assert_int_equal(tt_bdev_open("ram:4M", &bdev, err, sizeof(err)), 0);
	assert_int_equal(tt_nvmf_ns_add(subsys, 1, bdev, 0x77, err, sizeof(err)), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tt_nvmf_fini();
	tt_bdev_put(bdev);
	for (int i = 0; i < 20; i++)
		tt_loop_run_once(loop0(), 1);
	return 0;
}

/* A TCP connection to 127.0.0.1:@port: the socket, or -errno. */
static int tcp_connect(uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), rc;

	assert_true(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

static void wait_listening(struct tt_nvmf_port *p)
{
	for (int i = 0; i < 200 && tt_listener_state(p->listener) != TT_LISTENER_LISTENING; i++)
		tt_loop_run_once(loop0(), 10);
	if (tt_listener_state(p->listener) != TT_LISTENER_LISTENING)
		fail_msg("port %s does not listen (%s)", p->name,
			 strerror(-tt_listener_error(p->listener)));
}

/* ---- tests ------------------------------------------------------------------------------------ */

static void test_bad_input(void **state)
{
	struct tt_nvmf_port *p;
	char err[256] = "";

	(void)state;
	assert_int_equal(tt_nvmf_port_remove(addr1, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, addr1 + strlen("nvme-tcp://")));
	assert_int_equal(tt_nvmf_port_remove("nvme-tcp://not-an-address", err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(tt_nvmf_port_add(addr1, 4, &p, err, sizeof(err)), 0);
	assert_int_equal(tt_nvmf_port_set_ana_group(p, 0, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "ANA group 0"));
	assert_int_equal(tt_nvmf_port_set_ana_group(p, TT_NVMF_ANA_GROUP_MAX + 1, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "1..128"));
	assert_int_equal(p->ana_group, 4);
	/* the same group: nothing to do */
	assert_int_equal(tt_nvmf_port_set_ana_group(p, 4, err, sizeof(err)), 0);
	/* adding the address again in another group is still refused: that is a move */
	assert_int_equal(tt_nvmf_port_add(addr1, 5, NULL, err, sizeof(err)), -EEXIST);
	assert_int_equal(tt_nvmf_port_remove(addr1, err, sizeof(err)), 0);
	assert_null(tt_nvmf_port_find(addr1));
	assert_int_equal(tt_nvmf_port_remove(addr1, err, sizeof(err)), -ENOENT);
}

/*
 * Port 1 carries: controller A (admin and I/O queue), an I/O queue of controller B (whose admin
 * queue is on port 2), a queue pair that has not connected yet, and a real NVMe/TCP connection.
 * Removing port 1 ends A, disconnects B's queue there and the others; B stays live.
 */
static void test_remove(void **state)
{
	struct tt_nvmf_port *p1, *p2;
	struct fake_qp *a1, *q1, *a2, *q2, *qx, *u, *disc;
	struct fake_req *aer1, *aer2, *daer;
	uint16_t c1, c2;
	uint64_t gen0, gen;
	bool has;
	char err[256], byte;
	int fd, old_fd;

	(void)state;
	assert_int_equal(tt_nvmf_port_add(addr1, 1, &p1, err, sizeof(err)), 0);
	assert_int_equal(tt_nvmf_port_add(addr2, 2, &p2, err, sizeof(err)), 0);
	wait_listening(p1);
	wait_listening(p2);
	assert_int_equal(tt_nvmf_ana_set(2, TT_NVMF_ANA_NON_OPTIMIZED, err, sizeof(err)), 0);

	a1 = admin_live(p1, NQN, &c1);
	q1 = io_queue(p1, c1);
	a2 = admin_live(p2, NQN, &c2);
	q2 = io_queue(p2, c2);
	qx = qp_new(p1);
	assert_int_equal(do_connect(qx, NQN, 2, c2, NULL), 0); /* B's second queue, via port 1 */
	u = qp_new(p1);
	disc = admin_live(p2, TT_NVMF_DISCOVERY_NQN, NULL);
	assert_int_equal(tt_nvmf_subsys_ctrl_count(subsys), 2);
	assert_int_equal(read1(q1), 0);
	assert_int_equal(read1(qx), 0);
	/* a read counts on the port its queue came in through (B's queue via port 1: port 1),
	 * though it has the ANA state of B's path (port 2) */
	assert_int_equal(p1->read_cmds, 2);
	assert_int_equal(p2->read_cmds, 0);
	aer1 = aer_park(a1);
	aer2 = aer_park(a2);
	assert_int_equal(discovery_log(disc, &gen0, "", &has), 2);
	/* the discovery controller asks for discovery log change notices */
	assert_int_equal(simple(disc, TT_NVME_ADM_SET_FEATURES, 0, TT_NVME_FEAT_ASYNC_EVENT,
				1u << 31), 0);
	daer = aer_park(disc);

	/* a real connection accepted by the NVMe/TCP transport on port 1 */
	old_fd = tcp_connect(tcp_port1);
	assert_true(old_fd >= 0);
	for (int i = 0; i < 100 && tt_nvmf_conn_count() == 0; i++)
		tt_loop_run_once(loop0(), 10);
	assert_int_equal(tt_nvmf_conn_count(), 1);
	/* registry + a1, q1, qx, u, the connection + controller A */
	assert_int_equal(p1->refs, 7);

	assert_int_equal(tt_nvmf_port_remove(addr1, err, sizeof(err)), 0);
	assert_null(tt_nvmf_port_find(addr1));
	assert_int_equal(p1->state, TT_NVMF_PORT_REMOVED);
	assert_null(p1->listener);
	/* controller A ended: its AER aborted, both its queues told to go */
	assert_int_equal(tt_nvmf_subsys_ctrl_count(subsys), 1);
	assert_true(aer1->done);
	assert_int_equal(status_of(&aer1->req), TT_NVME_SC_ABORT_REQ);
	assert_int_equal(a1->disconnects, 1);
	assert_int_equal(q1->disconnects, 1);
	/* B's queue through port 1 and the queue that never connected are disconnected */
	assert_int_equal(qx->disconnects, 1);
	assert_int_equal(u->disconnects, 1);
	/* a Connect that arrives before the transport has closed the queue is refused */
	assert_int_equal(do_connect(u, NQN, 0, 0xffff, NULL), TT_NVME_SC_CMD_SEQ_ERROR);
	assert_int_equal(tt_nvmf_subsys_ctrl_count(subsys), 1);
	/* B lives on through port 2 */
	assert_int_equal(a2->disconnects, 0);
	assert_int_equal(q2->disconnects, 0);
	assert_false(aer2->done);
	assert_int_equal(simple(a2, TT_NVME_ADM_KEEP_ALIVE, 0, 0, 0), 0);
	assert_int_equal(read1(q2), 0);
	/* the discovery controller got the Discovery Log Page Change notice (log page 70h) */
	assert_true(daer->done);
	assert_int_equal(status_of(&daer->req), 0);
	assert_int_equal(tt_le32(daer->req.cqe), 0x70f002u);
	free(daer);
	/* the discovery log lists port 2 only, in a new generation */
	assert_int_equal(discovery_log(disc, &gen, "", &has), 1);
	assert_true(gen > gen0);
	{
		char svc[8];

		snprintf(svc, sizeof(svc), "%u", tcp_port2);
		assert_int_equal(discovery_log(disc, &gen, svc, &has), 1);
		assert_true(has);
	}
	/* the address refuses connections; the accepted one is closed by the target */
	assert_int_equal(tcp_connect(tcp_port1), -ECONNREFUSED);
	for (int i = 0; i < 100 && tt_nvmf_conn_count() > 0; i++)
		tt_loop_run_once(loop0(), 10);
	assert_int_equal(tt_nvmf_conn_count(), 0);
	assert_int_equal(recv(old_fd, &byte, 1, 0), 0); /* EOF */
	close(old_fd);
	fd = tcp_connect(tcp_port2);
	assert_true(fd >= 0);
	close(fd);

	/* the port stays until its last queue pair is gone (registry and connection let go) */
	assert_int_equal(p1->refs, 5);
	close_qp(a1);
	free(aer1);
	assert_int_equal(p1->refs, 4);
	close_qp(q1); /* controller A freed: its reference goes too */
	assert_int_equal(p1->refs, 2);
	close_qp(qx);
	assert_int_equal(p1->refs, 1);
	assert_int_equal(p1->read_cmds, 2);
	close_qp(u); /* the last holder: freed (ASan reports any later access, LSan a leak) */
	assert_int_equal(tt_nvmf_subsys_ctrl_count(subsys), 1);
	assert_int_equal(read1(q2), 0);

	/* the address can be served again, by a new port (the log was read: a new notice) */
	daer = aer_park(disc);
	assert_int_equal(tt_nvmf_port_add(addr1, 1, &p1, err, sizeof(err)), 0);
	assert_int_equal(p1->refs, 1);
	assert_true(daer->done);
	assert_int_equal(tt_le32(daer->req.cqe), 0x70f002u);
	free(daer);
	assert_int_equal(discovery_log(disc, &gen0, "", &has), 2);
	assert_true(gen0 > gen);
	wait_listening(p1);
	fd = tcp_connect(tcp_port1);
	assert_true(fd >= 0);
	close(fd);

	close_qp(q2);
	close_qp(a2);
	assert_true(aer2->done);
	free(aer2);
	close_qp(disc);
}

/* The last port of a group goes: the group keeps its state for a port that comes later. */
static void test_remove_keeps_group_state(void **state)
{
	struct tt_nvmf_port *p;
	char err[256];

	(void)state;
	assert_int_equal(tt_nvmf_port_add(addr2, 3, &p, err, sizeof(err)), 0);
	assert_int_equal(tt_nvmf_ana_set(3, TT_NVMF_ANA_INACCESSIBLE, err, sizeof(err)), 0);
	assert_int_equal(tt_nvmf_port_remove(addr2, err, sizeof(err)), 0);
	assert_true(tt_nvmf_ana_group_exists(3));
	assert_int_equal(tt_nvmf_ana_get(3), TT_NVMF_ANA_INACCESSIBLE);
	assert_int_equal(tt_nvmf_port_add(addr2, 3, &p, err, sizeof(err)), 0);
	assert_int_equal(tt_nvmf_ana_get(3), TT_NVMF_ANA_INACCESSIBLE);
}

/* Port 2 moves from group 2 (inaccessible) to group 1 (optimized) and back. */
static void test_move(void **state)
{
	struct tt_nvmf_port *p1, *p2;
	struct fake_qp *a1, *q1, *a2, *q2;
	struct fake_req *aer1, *aer2;
	uint16_t c1, c2;
	uint32_t grp;
	uint64_t cnt0, cnt;
	char err[256];

	(void)state;
	assert_int_equal(tt_nvmf_port_add(addr1, 1, &p1, err, sizeof(err)), 0);
	assert_int_equal(tt_nvmf_port_add(addr2, 2, &p2, err, sizeof(err)), 0);
	assert_int_equal(tt_nvmf_ana_set(1, TT_NVMF_ANA_OPTIMIZED, err, sizeof(err)), 0);
	assert_int_equal(tt_nvmf_ana_set(2, TT_NVMF_ANA_INACCESSIBLE, err, sizeof(err)), 0);
	a1 = admin_live(p1, NQN, &c1);
	q1 = io_queue(p1, c1);
	a2 = admin_live(p2, NQN, &c2);
	q2 = io_queue(p2, c2);
	assert_int_equal(ana_log(a2, &grp, &cnt0), TT_NVMF_ANA_INACCESSIBLE);
	assert_int_equal(grp, 2);
	assert_int_equal(ns_anagrpid(a2), 2);
	assert_int_equal(read1(q2), TT_NVME_SCT_PATH | TT_NVME_SC_ANA_INACCESSIBLE);
	assert_int_equal(p2->ana_refused, 1);
	aer1 = aer_park(a1);
	aer2 = aer_park(a2);

	assert_int_equal(tt_nvmf_port_set_ana_group(p2, 1, err, sizeof(err)), 0);
	assert_int_equal(p2->ana_group, 1);
	/* the controller through port 2 gets the notice, the one through port 1 does not */
	assert_true(aer2->done);
	assert_int_equal(status_of(&aer2->req), 0);
	assert_int_equal(tt_le32(aer2->req.cqe), 0x0c0302u); /* notice, ANA change, log 0Ch */
	free(aer2);
	assert_false(aer1->done);
	/* the log page, Identify Namespace and I/O follow group 1 */
	assert_int_equal(ana_log(a2, &grp, &cnt), TT_NVMF_ANA_OPTIMIZED);
	assert_int_equal(grp, 1);
	assert_true(cnt > cnt0);
	assert_int_equal(ns_anagrpid(a2), 1);
	assert_int_equal(read1(q2), 0);
	assert_int_equal(p2->read_cmds, 1);
	/* group 2 has no port now but keeps its state */
	assert_true(tt_nvmf_ana_group_exists(2));
	assert_int_equal(tt_nvmf_ana_get(2), TT_NVMF_ANA_INACCESSIBLE);
	/* a state change of group 1 reaches both paths now */
	aer2 = aer_park(a2);
	assert_int_equal(tt_nvmf_ana_set(1, TT_NVMF_ANA_NON_OPTIMIZED, err, sizeof(err)), 0);
	assert_true(aer1->done);
	assert_true(aer2->done);
	free(aer1);
	free(aer2);
	assert_int_equal(ana_log(a1, &grp, &cnt), TT_NVMF_ANA_NON_OPTIMIZED);
	assert_int_equal(ana_log(a2, &grp, &cnt), TT_NVMF_ANA_NON_OPTIMIZED);

	/* back to group 2: inaccessible again */
	aer2 = aer_park(a2);
	assert_int_equal(tt_nvmf_port_set_ana_group(p2, 2, err, sizeof(err)), 0);
	assert_true(aer2->done);
	free(aer2);
	assert_int_equal(ns_anagrpid(a2), 2);
	assert_int_equal(ns_anagrpid(a1), 1);
	assert_int_equal(read1(q2), TT_NVME_SCT_PATH | TT_NVME_SC_ANA_INACCESSIBLE);
	assert_int_equal(read1(q1), 0);

	close_qp(q1);
	close_qp(q2);
	close_qp(a1);
	close_qp(a2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_keeps_group_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_move, setup, teardown),
	};
	int rc;

	if (getenv("TT_TEST_LOG"))
		tt_log_set_level(TT_LOG_DEBUG);
	if (tt_loops_start(1) != 0) {
		fprintf(stderr, "cannot start a loop\n");
		return 1;
	}
	fq_loop = tt_loops_get(0);
	rc = tt_run_group("port_test", tests, NULL, NULL);
	tt_loops_shutdown();
	return rc;
}
