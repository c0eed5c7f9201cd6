/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TCP transport's data movement (src/xport/tcp_data.c), through its ops table: how a read's
 * data is cut into Data-In PDUs (MaxRecvDataSegmentLength of the initiator, sequences of at most
 * MaxBurstLength, the status in the last PDU when it may ride there) and how a write's missing
 * data is solicited with R2Ts (at most MaxOutstandingR2T at a time, each at most
 * MaxBurstLength). A fake core table records what the transport builds and sends; the
 * connection is a real one (tt_tcp_conn_alloc) on one end of a socketpair, never started.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tt_test.h"

#include "base/loop.h"
#include "xport/tcp.h"
#include "xport/xport.h"

#define MAX_PDUS 16384
#define DEFAULT_MAX_XMIT_DSL 8192u   /* RFC 7143 default MaxRecvDataSegmentLength */
#define DEFAULT_MAX_BURST 262144u    /* RFC 7143 default MaxBurstLength */

/* What the fake core saw. */
struct rec {
	struct tt_xtask *t;
	uint32_t off, len;
	bool final, status;  /* Data-In */
	uint32_t outstanding; /* R2T: t->r2t_outstanding when it was built */
	bool sent;
};

static struct {
	struct tt_pdu pdus[MAX_PDUS];   /* what build_* hands out, by record */
	struct rec recs[MAX_PDUS];
	unsigned built, sent;
	unsigned fail_build_at, fail_send_at; /* 1-based: that build returns NULL / send fails */
	unsigned queued;                /* data_in_queued() calls */
	bool status_sent;
	unsigned queued_after_sent;     /* PDUs sent when data_in_queued() ran */
} fk;

static struct tt_loop *loop;
static struct tt_tcp_conn *tc;
static int peer_fd = -1;

static struct tt_pdu *fake_build(struct tt_xtask *t, uint32_t off, uint32_t len)
{
	struct rec *r;

	if (fk.built + 1 == fk.fail_build_at)
		return NULL;
	if (fk.built >= MAX_PDUS)
		fail_msg("more than %u PDUs", MAX_PDUS);
	r = &fk.recs[fk.built];
	r->t = t;
	r->off = off;
	r->len = len;
	return &fk.pdus[fk.built++];
}

static struct tt_pdu *fake_build_data_in(struct tt_xtask *t, uint32_t off, uint32_t len,
					 bool final, bool status)
{
	struct tt_pdu *pdu = fake_build(t, off, len);

	if (pdu) {
		fk.recs[fk.built - 1].final = final;
		fk.recs[fk.built - 1].status = status;
	}
	return pdu;
}

static struct tt_pdu *fake_build_r2t(struct tt_xtask *t, uint32_t off, uint32_t len)
{
	struct tt_pdu *pdu = fake_build(t, off, len);

	if (pdu)
		fk.recs[fk.built - 1].outstanding = t->r2t_outstanding;
	return pdu;
}

static int fake_send(struct tt_xconn *xc, struct tt_pdu *pdu)
{
	assert_ptr_equal(xc, &tc->conn);
	/* each PDU is sent as soon as it is built, in order */
	assert_int_equal(fk.sent + 1, fk.built);
	assert_ptr_equal(pdu, &fk.pdus[fk.sent]);
	fk.recs[fk.sent].sent = true;
	if (++fk.sent == fk.fail_send_at)
		return -EPIPE;
	return 0;
}

static void fake_data_in_queued(struct tt_xtask *t, bool status_sent)
{
	(void)t;
	fk.queued++;
	fk.status_sent = status_sent;
	fk.queued_after_sent = fk.sent;
}

static const struct tt_xport_core fake_core = {
	.send = fake_send,
	.build_data_in = fake_build_data_in,
	.build_r2t = fake_build_r2t,
	.data_in_queued = fake_data_in_queued,
};

static void fake_reset(void)
{
	memset(fk.recs, 0, fk.built * sizeof(fk.recs[0]));
	fk.built = fk.sent = fk.queued = 0;
	fk.fail_build_at = fk.fail_send_at = 0;
	fk.status_sent = false;
	fk.queued_after_sent = 0;
}

static void set_params(uint32_t max_xmit_dsl, uint32_t max_burst, uint32_t max_outstanding_r2t)
{
	struct tt_xport_params p = {
		.max_xmit_dsl = max_xmit_dsl,
		.max_burst = max_burst,
		.max_outstanding_r2t = max_outstanding_r2t,
	};

	assert_int_equal(tc->conn.ops->apply_params(&tc->conn, &p), 0);
	assert_int_equal(tc->params.max_xmit_dsl, max_xmit_dsl);
	assert_int_equal(tc->params.max_burst, max_burst);
	assert_int_equal(tc->params.max_outstanding_r2t, max_outstanding_r2t);
}

static int group_setup(void **state)
{
	int sv[2];

	(void)state;
	if (tt_loop_create(&loop, 0) != 0)
		return -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	tc = tt_tcp_conn_alloc(sv[0], loop);
	if (!tc)
		return -1;
	peer_fd = sv[1];
	tc->conn.ops = &tt_xport_tcp;
	tc->conn.core = &fake_core;
	tc->conn.loop = loop;
	snprintf(tc->conn.peer, sizeof(tc->conn.peer), "test");
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	tt_tcp_conn_free(tc); /* closes its end */
	close(peer_fd);
	tt_loop_destroy(loop);
	return 0;
}

static uint32_t div_up(uint32_t a, uint32_t b) { return a / b + (a % b != 0); }

/* ---- Data-In ---------------------------------------------------------------------------------- */

/* Queues @len bytes of read data with the given parameters (0: not negotiated) and checks every
 * PDU the transport cut. */
static void check_data_in(uint32_t max, uint32_t burst, uint32_t len, bool collapsible)
{
	uint32_t emax = max ? max : DEFAULT_MAX_XMIT_DSL;
	uint32_t eburst = burst ? burst : DEFAULT_MAX_BURST;
	uint32_t per_burst = div_up(eburst, emax < eburst ? emax : eburst);
	uint32_t want = (len / eburst) * per_burst + div_up(len % eburst, emax < eburst ? emax : eburst);
	struct tt_xtask t = { .xc = &tc->conn, .itt = 7, .edtl = len, .data_in_len = len,
			      .status_collapsible = collapsible };
	uint32_t off = 0;
	int rc;

	fake_reset();
	set_params(max, burst, 1);
	rc = tc->conn.ops->queue_data_in(&tc->conn, &t);
	if (rc != 0)
		fail_msg("max %u burst %u len %u: %s", max, burst, len, strerror(-rc));
	if (fk.built != want)
		fail_msg("max %u burst %u len %u: %u PDUs, expected %u", max, burst, len, fk.built,
			 want);
	assert_int_equal(fk.sent, fk.built);
	for (unsigned i = 0; i < fk.built; i++) {
		const struct rec *r = &fk.recs[i];
		bool last = i + 1 == fk.built;
		bool seq_end = last || (r->off + r->len) % eburst == 0;

		assert_ptr_equal(r->t, &t);
		if (r->off != off)
			fail_msg("max %u burst %u len %u: PDU %u at %u, expected %u", max, burst, len, i,
				 r->off, off);
		if (r->len == 0 || r->len > emax)
			fail_msg("max %u burst %u len %u: PDU %u of %u bytes", max, burst, len, i,
				 r->len);
		/* never across the end of a sequence */
		if (r->off / eburst != (r->off + r->len - 1) / eburst)
			fail_msg("max %u burst %u len %u: PDU %u [%u, +%u) crosses a burst", max,
				 burst, len, i, r->off, r->len);
		if (r->final != seq_end)
			fail_msg("max %u burst %u len %u: PDU %u [%u, +%u): F %d, expected %d", max,
				 burst, len, i, r->off, r->len, r->final, seq_end);
		if (r->status != (last && collapsible))
			fail_msg("max %u burst %u len %u: PDU %u: status %d", max, burst, len, i,
				 r->status);
		assert_true(r->sent);
		off += r->len;
	}
	assert_int_equal(off, len);
	/* the transport never touches the sequence numbers: the core's builders own them */
	assert_int_equal(t.data_sn, 0);
	assert_int_equal(t.r2t_offset, 0);
	assert_int_equal(fk.queued, 1);
	assert_int_equal(fk.queued_after_sent, fk.sent);
	if (fk.status_sent != (collapsible && len > 0))
		fail_msg("max %u burst %u len %u collapsible %d: status_sent %d", max, burst, len,
			 collapsible, fk.status_sent);
}

static void test_data_in_examples(void **state)
{
	struct tt_xtask t = { .xc = &tc->conn, .data_in_len = 20000, .status_collapsible = true };
	(void)state;

	/* 20000 bytes, 8192 per PDU, bursts of 16384: 8192, 8192 F | 3616 F+status */
	fake_reset();
	set_params(8192, 16384, 1);
	assert_int_equal(tc->conn.ops->queue_data_in(&tc->conn, &t), 0);
	assert_int_equal(fk.built, 3);
	assert_int_equal(fk.recs[0].off, 0);
	assert_int_equal(fk.recs[0].len, 8192);
	assert_false(fk.recs[0].final);
	assert_false(fk.recs[0].status);
	assert_int_equal(fk.recs[1].off, 8192);
	assert_int_equal(fk.recs[1].len, 8192);
	assert_true(fk.recs[1].final);
	assert_false(fk.recs[1].status);
	assert_int_equal(fk.recs[2].off, 16384);
	assert_int_equal(fk.recs[2].len, 3616);
	assert_true(fk.recs[2].final);
	assert_true(fk.recs[2].status);
	assert_int_equal(fk.queued, 1);
	assert_true(fk.status_sent);

	/* a burst that is not a multiple of the segment: 8192, 1808 F | 8192, 1808 F */
	fake_reset();
	set_params(8192, 10000, 1);
	t.status_collapsible = false;
	assert_int_equal(tc->conn.ops->queue_data_in(&tc->conn, &t), 0);
	assert_int_equal(fk.built, 4);
	assert_int_equal(fk.recs[1].off, 8192);
	assert_int_equal(fk.recs[1].len, 1808);
	assert_true(fk.recs[1].final);
	assert_int_equal(fk.recs[2].off, 10000);
	assert_int_equal(fk.recs[2].len, 8192);
	assert_false(fk.recs[2].final);
	assert_int_equal(fk.recs[3].len, 1808);
	assert_true(fk.recs[3].final);
	assert_false(fk.recs[3].status);
	assert_int_equal(fk.queued, 1);
	assert_false(fk.status_sent);

	/* the burst smaller than a segment: every PDU ends a sequence */
	fake_reset();
	set_params(65536, 4096, 1);
	t.data_in_len = 10000;
	t.status_collapsible = true;
	assert_int_equal(tc->conn.ops->queue_data_in(&tc->conn, &t), 0);
	assert_int_equal(fk.built, 3);
	for (unsigned i = 0; i < 3; i++)
		assert_true(fk.recs[i].final);
	assert_int_equal(fk.recs[2].len, 10000 - 8192);

	/* nothing to send: no PDU, and the status did not go (the core sends it) */
	fake_reset();
	t.data_in_len = 0;
	assert_int_equal(tc->conn.ops->queue_data_in(&tc->conn, &t), 0);
	assert_int_equal(fk.built, 0);
	assert_int_equal(fk.queued, 1);
	assert_false(fk.status_sent);
}

static void test_data_in_grid(void **state)
{
	static const uint32_t maxes[] = { 0, 512, 1000, 8192, 65536, 262144 };
	static const uint32_t bursts[] = { 0, 512, 4096, 20000, 65536, 262144, 1048576 };
	static const uint32_t lens[] = { 0, 1, 511, 512, 513, 4096, 8192, 20000, 65537, 262144,
					 262145, 1000000, 1048576 };
	(void)state;

	for (size_t m = 0; m < sizeof(maxes) / sizeof(maxes[0]); m++)
		for (size_t b = 0; b < sizeof(bursts) / sizeof(bursts[0]); b++)
			for (size_t n = 0; n < sizeof(lens) / sizeof(lens[0]); n++) {
				check_data_in(maxes[m], bursts[b], lens[n], false);
				check_data_in(maxes[m], bursts[b], lens[n], true);
			}
}

/* Out of memory or a failed send: the error comes back, nothing more is built, and the core is
 * not told that the data (or the status) went. */
static void test_data_in_errors(void **state)
{
	struct tt_xtask t = { .xc = &tc->conn, .data_in_len = 5 * 1024, .status_collapsible = true };
	(void)state;

	set_params(1024, 1024 * 1024, 1);
	for (unsigned k = 1; k <= 5; k++) {
		fake_reset();
		fk.fail_build_at = k;
		assert_int_equal(tc->conn.ops->queue_data_in(&tc->conn, &t), -ENOMEM);
		assert_int_equal(fk.built, k - 1);
		assert_int_equal(fk.sent, k - 1);
		assert_int_equal(fk.queued, 0);

		fake_reset();
		fk.fail_send_at = k;
		assert_int_equal(tc->conn.ops->queue_data_in(&tc->conn, &t), -EPIPE);
		assert_int_equal(fk.built, k);
		assert_int_equal(fk.sent, k);
		assert_int_equal(fk.queued, 0);
	}
}

/* ---- R2T -------------------------------------------------------------------------------------- */

/* Solicits a write of @edtl bytes of which [0, @first) came unsolicited, completing R2Ts a few at
 * a time, and checks every R2T. */
static void check_r2t(uint32_t max_out, uint32_t burst, uint32_t edtl, uint32_t first)
{
	uint32_t emo = max_out ? max_out : 1;
	uint32_t eburst = burst ? burst : DEFAULT_MAX_BURST;
	uint32_t want = div_up(edtl - first, eburst);
	struct tt_xtask t = { .xc = &tc->conn, .itt = 9, .ttt = 3, .edtl = edtl, .buf_len = edtl,
			      .r2t_offset = first };
	uint32_t off = first, done = 0;
	unsigned seen = 0, rounds = 0;
	int rc;

	fake_reset();
	set_params(8192, burst, max_out);
	for (;;) {
		uint32_t room = emo - t.r2t_outstanding;
		uint32_t left = div_up(edtl - off, eburst);
		uint32_t expect = room < left ? room : left;

		rc = tc->conn.ops->get_data_out(&tc->conn, &t);
		if (rc != 0)
			fail_msg("max_out %u burst %u edtl %u first %u: %s", max_out, burst, edtl,
				 first, strerror(-rc));
		if (fk.built - seen != expect)
			fail_msg("max_out %u burst %u edtl %u first %u: round %u: %u R2Ts, expected %u",
				 max_out, burst, edtl, first, rounds, fk.built - seen, expect);
		for (; seen < fk.built; seen++) {
			const struct rec *r = &fk.recs[seen];
			uint32_t wlen = edtl - off < eburst ? edtl - off : eburst;

			assert_ptr_equal(r->t, &t);
			if (r->off != off || r->len != wlen)
				fail_msg("max_out %u burst %u edtl %u first %u: R2T %u [%u, +%u), "
					 "expected [%u, +%u)", max_out, burst, edtl, first, seen,
					 r->off, r->len, off, wlen);
			if (r->outstanding >= emo)
				fail_msg("max_out %u burst %u edtl %u first %u: R2T %u built with %u "
					 "outstanding", max_out, burst, edtl, first, seen,
					 r->outstanding);
			assert_true(r->sent);
			off += r->len;
		}
		assert_int_equal(fk.sent, fk.built);
		assert_int_equal(t.r2t_offset, off);
		assert_true(t.r2t_outstanding <= emo);
		/* the window is full, or everything is solicited */
		assert_true(t.r2t_outstanding == emo || t.r2t_offset == edtl);
		/* a second call with nothing completed solicits nothing more */
		assert_int_equal(tc->conn.ops->get_data_out(&tc->conn, &t), 0);
		assert_int_equal(fk.built, seen);
		if (t.r2t_outstanding == 0)
			break;
		/* the Data-Out of one or two R2Ts completes (the core's bookkeeping) */
		for (unsigned k = 0; k < 1 + rounds % 2 && t.r2t_outstanding; k++) {
			t.r2t_outstanding--;
			done++;
		}
		rounds++;
	}
	assert_int_equal(off, edtl);
	assert_int_equal(fk.built, want);
	assert_int_equal(done, want);
	assert_int_equal(t.r2t_sn, 0); /* the core's builder numbers them */
	assert_int_equal(fk.queued, 0);
}

static void test_r2t_examples(void **state)
{
	struct tt_xtask t = { .xc = &tc->conn, .edtl = 100000, .r2t_offset = 8192 };
	(void)state;

	/* 91808 bytes left, bursts of 32768, two outstanding */
	fake_reset();
	set_params(8192, 32768, 2);
	assert_int_equal(tc->conn.ops->get_data_out(&tc->conn, &t), 0);
	assert_int_equal(fk.built, 2);
	assert_int_equal(fk.recs[0].off, 8192);
	assert_int_equal(fk.recs[0].len, 32768);
	assert_int_equal(fk.recs[1].off, 8192 + 32768);
	assert_int_equal(fk.recs[1].len, 32768);
	assert_int_equal(t.r2t_outstanding, 2);
	assert_int_equal(t.r2t_offset, 8192 + 2 * 32768);
	t.r2t_outstanding = 1;
	assert_int_equal(tc->conn.ops->get_data_out(&tc->conn, &t), 0);
	assert_int_equal(fk.built, 3);
	assert_int_equal(fk.recs[2].off, 8192 + 2 * 32768);
	assert_int_equal(fk.recs[2].len, 100000 - 8192 - 2 * 32768);
	assert_int_equal(t.r2t_offset, 100000);
	t.r2t_outstanding = 0;
	assert_int_equal(tc->conn.ops->get_data_out(&tc->conn, &t), 0);
	assert_int_equal(fk.built, 3);

	/* everything came unsolicited: no R2T */
	fake_reset();
	t.r2t_offset = t.edtl;
	assert_int_equal(tc->conn.ops->get_data_out(&tc->conn, &t), 0);
	assert_int_equal(fk.built, 0);
	assert_int_equal(t.r2t_outstanding, 0);

	/* not negotiated: one outstanding R2T of at most 256 KiB */
	fake_reset();
	set_params(0, 0, 0);
	t.edtl = 1024 * 1024;
	t.r2t_offset = 0;
	assert_int_equal(tc->conn.ops->get_data_out(&tc->conn, &t), 0);
	assert_int_equal(fk.built, 1);
	assert_int_equal(fk.recs[0].len, DEFAULT_MAX_BURST);
	assert_int_equal(t.r2t_outstanding, 1);
}

static void test_r2t_grid(void **state)
{
	static const uint32_t max_outs[] = { 0, 1, 2, 4, 16 };
	static const uint32_t bursts[] = { 0, 512, 4096, 65536, 262144 };
	static const uint32_t edtls[] = { 1, 512, 513, 8192, 65536, 1000000, 4194304 };
	(void)state;

	for (size_t m = 0; m < sizeof(max_outs) / sizeof(max_outs[0]); m++)
		for (size_t b = 0; b < sizeof(bursts) / sizeof(bursts[0]); b++)
			for (size_t e = 0; e < sizeof(edtls) / sizeof(edtls[0]); e++) {
				uint32_t edtl = edtls[e];
				const uint32_t firsts[] = { 0, edtl > 512 ? 512 : 0, edtl / 2,
							    edtl - 1 };

				for (size_t f = 0; f < sizeof(firsts) / sizeof(firsts[0]); f++)
					check_r2t(max_outs[m], bursts[b], edtl, firsts[f]);
			}
}

/* Out of memory: nothing is counted as solicited; a failed send comes back. */
static void test_r2t_errors(void **state)
{
	struct tt_xtask t = { .xc = &tc->conn, .edtl = 4 * 4096 };
	(void)state;

	set_params(8192, 4096, 4);
	fake_reset();
	fk.fail_build_at = 3;
	assert_int_equal(tc->conn.ops->get_data_out(&tc->conn, &t), -ENOMEM);
	assert_int_equal(fk.built, 2);
	assert_int_equal(t.r2t_offset, 2 * 4096);
	assert_int_equal(t.r2t_outstanding, 2);
	/* a later call goes on from there */
	fake_reset();
	assert_int_equal(tc->conn.ops->get_data_out(&tc->conn, &t), 0);
	assert_int_equal(fk.built, 2);
	assert_int_equal(fk.recs[0].off, 2 * 4096);
	assert_int_equal(t.r2t_offset, t.edtl);

	fake_reset();
	t.r2t_offset = 0;
	t.r2t_outstanding = 0;
	fk.fail_send_at = 1;
	assert_int_equal(tc->conn.ops->get_data_out(&tc->conn, &t), -EPIPE);
	assert_int_equal(fk.built, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_data_in_examples),
		cmocka_unit_test(test_data_in_grid),
		cmocka_unit_test(test_data_in_errors),
		cmocka_unit_test(test_r2t_examples),
		cmocka_unit_test(test_r2t_grid),
		cmocka_unit_test(test_r2t_errors),
	};

	return tt_run_group("tcp_data_test", tests, group_setup, group_teardown);
}
