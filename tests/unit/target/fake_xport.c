/* SPDX-License-Identifier: BSD-3-Clause */
/* The fake transport and the fixture of the target core's unit tests (see fake_xport.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tt_test.h"

#include "fake_xport.h"

#include "base/clock.h"
#include "base/log.h"
#include "target/model.h"


struct fx_env fx;
uint64_t fx_seq;
static struct tt_list conns = TT_LIST_INIT(conns);
/* PDUs taken by the test (fx_pop) and not yet freed: the teardown frees them when a test fails
 * while it holds one, so that the next tests start clean */
static struct tt_list held = TT_LIST_INIT(held);
static uint64_t next_id = 1;
static unsigned bad_pdus; /* PDUs queued that no transport could send */
static unsigned base_conns; /* connections of the core left over by a failed test */

static struct fx_conn *fc_of(struct tt_xconn *xc) { return tt_container_of(xc, struct fx_conn, xc); }

struct tt_loop *fx_loop(void) { return tt_loops_get(0); }

void fx_pump(void)
{
	/* a few passes always (messages to the loop itself), then until nothing is due */
	for (int i = 0; i < 10000; i++) {
		tt_loop_run_once(fx_loop(), 0);
		if (i >= 8 && tt_loop_timeout_ms(fx_loop()) != 0)
			break;
	}
}

void fx_advance_ms(uint64_t ms)
{
	tt_clock_advance(ms * TT_NS_PER_MS);
	fx_pump();
}

uint16_t fx_free_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	uint16_t port = 0;

	if (fd < 0)
		return 0;
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

/* ---- the transport ---- */

static void drop_queue(struct fx_conn *fc, bool count)
{
	struct tt_list *n;

	/* one at a time: freeing runs sent hooks, which may come back into the core */
	while ((n = tt_list_pop(&fc->txq))) {
		fc->ntx--;
		if (count)
			fc->dropped++;
		tt_pdu_free(tt_list_entry(n, struct tt_pdu, node));
	}
}

static void closed_work(struct tt_work *w)
{
	struct fx_conn *fc = tt_container_of(w, struct fx_conn, closed_work);

	fc->closed = true;
	/* drops the transport's reference: the core may release the connection from here on */
	fc->xc.core->closed(&fc->xc, fc->err);
}

/* The transport goes down: no more I/O, what is queued is dropped, the core is told later. */
static void go_down(struct fx_conn *fc, int err)
{
	if (fc->down)
		return;
	fc->down = true;
	fc->err = err;
	fc->down_seq = ++fx_seq;
	drop_queue(fc, true);
	tt_work_queue(&fc->closed_work); /* never inline: the caller may be the core itself */
}

static int fx_conn_start(struct tt_xconn *xc)
{
	fc_of(xc)->started = true;
	return 0;
}

static int fx_queue_pdu(struct tt_xconn *xc, struct tt_pdu *pdu)
{
	struct fx_conn *fc = fc_of(xc);

	if (fc->down) {
		tt_pdu_free(pdu);
		return 0;
	}
	if (fc->refuse) {
		tt_pdu_free(pdu);
		return -ENOTCONN;
	}
	if (pdu->ahs_len % 4 || (pdu->data_len && !pdu->data)) {
		print_message("conn %llu: a %s PDU that cannot be sent (AHS %u, data %u%s)\n",
			      (unsigned long long)xc->id, tt_opcode_name(tt_bhs_opcode(&pdu->bhs)),
			      pdu->ahs_len, pdu->data_len, pdu->data ? "" : ", no buffer");
		bad_pdus++;
	}
	/* what goes on the wire, as TCP does */
	pdu->bhs.ahs_len = (uint8_t)(pdu->ahs_len / 4);
	tt_bhs_set_dlength(&pdu->bhs, pdu->data_len);
	tt_list_add_tail(&fc->txq, &pdu->node);
	fc->ntx++;
	fc->queued++;
	fc->last_queue_seq = ++fx_seq;
	return 0;
}

/* Data-In and R2Ts as TCP does them (src/xport/pdu_data.c), with this connection's parameters. */
static int fx_queue_data_in(struct tt_xconn *xc, struct tt_xtask *t)
{
	return tt_xport_pdu_data_in(xc, t, &fc_of(xc)->params);
}

static int fx_get_data_out(struct tt_xconn *xc, struct tt_xtask *t)
{
	return tt_xport_pdu_r2ts(xc, t, &fc_of(xc)->params);
}

static int fx_apply_params(struct tt_xconn *xc, const struct tt_xport_params *p)
{
	struct fx_conn *fc = fc_of(xc);

	fc->params = *p;
	fc->params_applied = true;
	return 0;
}

static void fx_shutdown(struct tt_xconn *xc)
{
	go_down(fc_of(xc), 0);
}

static void fx_release(struct tt_xconn *xc)
{
	struct fx_conn *fc = fc_of(xc);

	assert_true(fc->closed); /* the core releases only after closed() */
	assert_false(fc->released);
	tt_work_cancel(&fc->closed_work);
	drop_queue(fc, true);
	if (xc->listener) {
		tt_listener_put(xc->listener);
		xc->listener = NULL;
	}
	fc->released = true;
	fc->release_seq = ++fx_seq;
}

static int fx_set_timeout(struct tt_xconn *xc, unsigned ms)
{
	fc_of(xc)->timeout_ms = ms;
	return 0;
}

const struct tt_xport_ops fx_ops = {
	.name = "fake", /* never listens: its connections are made by the tests */
	.conn_start = fx_conn_start,
	.queue_pdu = fx_queue_pdu,
	.queue_data_in = fx_queue_data_in,
	.get_data_out = fx_get_data_out,
	.buf_alloc = tt_xport_pool_buf_alloc,
	.buf_free = tt_xport_pool_buf_free,
	.login_policy = tt_xport_keep_policy,
	.apply_params = fx_apply_params,
	.shutdown = fx_shutdown,
	.release = fx_release,
	.set_timeout = fx_set_timeout,
};

struct fx_conn *fx_connect_on(struct tt_listener *l)
{
	struct fx_conn *fc = calloc(1, sizeof(*fc));
	uint64_t id = next_id++;

	assert_non_null(fc);
	fc->xc.ops = &fx_ops;
	fc->xc.core = &tt_iscsi_core;
	fc->xc.loop = fx_loop();
	fc->xc.listener = l;
	tt_listener_get(l);
	fc->xc.id = id;
	snprintf(fc->xc.peer, sizeof(fc->xc.peer), "192.0.2.100:%llu", (unsigned long long)(40000 + id));
	snprintf(fc->xc.local, sizeof(fc->xc.local), "%.79s", l->name);
	fc->xc.local_addr = l->addr.ss;
	tt_list_init(&fc->txq);
	tt_work_init(&fc->closed_work, fx_loop(), closed_work);
	fc->cmd_sn = 1;
	tt_list_add_tail(&conns, &fc->node);
	assert_int_equal(fc->xc.core->accepted(&fc->xc), 0);
	assert_non_null(fc->xc.upper);
	assert_true(fc->started);
	fx_pump();
	return fc;
}

struct fx_conn *fx_connect(void) { return fx_connect_on(fx.portal->listener); }

void fx_peer_close(struct fx_conn *fc, int err)
{
	go_down(fc, err);
	fx_pump();
}

static int rx(struct fx_conn *fc, const void *bhs, const void *data, uint32_t len, bool digest_ok)
{
	struct tt_pdu *pdu;
	int rc;

	assert_false(fc->down);
	pdu = tt_pdu_alloc();
	assert_non_null(pdu);
	memcpy(pdu->raw, bhs, TT_BHS_LEN);
	tt_bhs_set_dlength(&pdu->bhs, len);
	rc = fc->xc.core->rx_header(&fc->xc, pdu);
	if (fc->down) {
		tt_pdu_free(pdu);
	} else if (rc < 0) {
		/* the core has said why: the connection goes, as TCP drops it */
		tt_pdu_free(pdu);
		go_down(fc, rc);
	} else {
		assert_int_equal(pdu->data_len, len);
		if (len && pdu->data)
			memcpy(pdu->data, data, len); /* NULL: the core discards the data */
		fc->xc.core->rx_pdu(&fc->xc, pdu, digest_ok);
	}
	fx_pump();
	return rc;
}

int fx_rx(struct fx_conn *fc, const void *bhs, const void *data, uint32_t len)
{
	return rx(fc, bhs, data, len, true);
}

int fx_rx_bad_digest(struct fx_conn *fc, const void *bhs, const void *data, uint32_t len)
{
	return rx(fc, bhs, data, len, false);
}

struct tt_pdu *fx_pop(struct fx_conn *fc)
{
	struct tt_list *n = tt_list_pop(&fc->txq);

	if (!n)
		return NULL;
	fc->ntx--;
	tt_list_add_tail(&held, n);
	return tt_list_entry(n, struct tt_pdu, node);
}

struct tt_pdu *fx_pop_op(struct fx_conn *fc, uint8_t op)
{
	struct tt_pdu *pdu = fx_pop(fc);

	if (!pdu)
		fail_msg("conn %llu: no PDU queued, expected %s", (unsigned long long)fc->xc.id,
			 tt_opcode_name(op));
	if (tt_bhs_opcode(&pdu->bhs) != op)
		fail_msg("conn %llu: %s queued, expected %s", (unsigned long long)fc->xc.id,
			 tt_opcode_name(tt_bhs_opcode(&pdu->bhs)), tt_opcode_name(op));
	return pdu;
}

void fx_free(struct tt_pdu *pdu)
{
	tt_list_del(&pdu->node);
	tt_pdu_free(pdu);
	fx_pump();
}

void fx_drain(struct fx_conn *fc)
{
	drop_queue(fc, false);
	fx_pump();
}

/* ---- program and fixture ---- */

int fx_init(void)
{
	if (getenv("TT_TEST_LOG"))
		tt_log_set_level(TT_LOG_DEBUG);
	tt_clock_fake(1000 * TT_NS_PER_SEC);
	if (tt_loops_start(1) != 0 || tt_iscsi_target_init() != 0) {
		fprintf(stderr, "cannot start loop 0 and the target core\n");
		return -1;
	}
	fx_pump();
	return 0;
}

void fx_fini(void)
{
	tt_model_clear();
	fx_pump();
	tt_iscsi_target_fini();
	tt_loops_shutdown();
	tt_clock_real();
}

int fx_setup(void **state)
{
	char addr[64], err[256] = "";

	(void)state;
	memset(&fx, 0, sizeof(fx));
	fx_seq = 0;
	bad_pdus = 0;
	base_conns = tt_iscsi_conn_count();
	fx.port = fx_free_port();
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", fx.port);
	if (!fx.port || tt_target_create(FX_TARGET, NULL, &fx.target, err, sizeof(err)) ||
	    tt_tpg_create(fx.target, FX_TPGT, &fx.tpg, err, sizeof(err)) ||
	    tt_portal_add(fx.tpg, addr, &fx.portal, err, sizeof(err)) ||
	    tt_target_lun_add(fx.target, 0, "ram:1M", NULL, err, sizeof(err))) {
		print_error("fixture: %s\n", err[0] ? err : "no free port");
		return -1;
	}
	fx_pump();
	return 0;
}

int fx_teardown(void **state)
{
	struct tt_list *n, *tmp;
	int rc = 0;

	(void)state;
	while ((n = tt_list_pop(&held)))
		tt_pdu_free(tt_list_entry(n, struct tt_pdu, node));
	/* the peers go: every connection must then be released */
	tt_list_for_each(n, &conns) {
		struct fx_conn *fc = tt_list_entry(n, struct fx_conn, node);

		if (!fc->down)
			go_down(fc, -ECONNRESET);
	}
	fx_pump();
	tt_model_clear();
	fx_pump();
	tt_list_for_each_safe(n, tmp, &conns) {
		struct fx_conn *fc = tt_list_entry(n, struct fx_conn, node);

		tt_list_del(&fc->node);
		if (!fc->released) {
			/* left allocated: the core may still point to it */
			print_error("conn %llu was never released\n", (unsigned long long)fc->xc.id);
			rc = -1;
			continue;
		}
		free(fc);
	}
	if (tt_iscsi_conn_count() != base_conns) {
		print_error("%u connection(s) of the core left\n", tt_iscsi_conn_count() - base_conns);
		rc = -1;
	}
	if (bad_pdus) {
		print_error("%u PDU(s) queued that could not be sent\n", bad_pdus);
		rc = -1;
	}
	return rc;
}

/* ---- PDUs of the initiator ---- */

size_t fx_login_text(char *buf, size_t cap, const char *ini, const char *tgt, const char *keys)
{
	size_t n = 0;
	int w;

	if (ini) {
		w = snprintf(buf + n, cap - n, "InitiatorName=%s", ini);
		n += (size_t)w + 1;
	}
	if (tgt) {
		w = snprintf(buf + n, cap - n, "TargetName=%s", tgt);
		n += (size_t)w + 1;
	}
	w = snprintf(buf + n, cap - n, "SessionType=Normal");
	n += (size_t)w + 1;
	for (const char *k = keys; k && *k;) {
		const char *end = strchr(k, '\n');
		size_t len = end ? (size_t)(end - k) : strlen(k);

		assert_true(n + len + 1 <= cap);
		memcpy(buf + n, k, len);
		buf[n + len] = '\0';
		n += len + 1;
		k += len + (end ? 1 : 0);
	}
	assert_true(n <= cap);
	return n;
}

void fx_login_bhs(uint8_t bhs[48], uint8_t csg, uint8_t nsg, bool transit, const uint8_t *isid,
		  uint16_t tsih, uint32_t itt, uint32_t cmd_sn, uint32_t exp_stat_sn)
{
	struct tt_bhs_login_req *r = (struct tt_bhs_login_req *)bhs;

	memset(bhs, 0, TT_BHS_LEN);
	r->opcode = TT_OP_LOGIN_REQ | TT_OP_IMMEDIATE;
	r->flags = (uint8_t)((transit ? TT_LOGIN_TRANSIT : 0) | csg << 2 | (transit ? nsg : 0));
	memcpy(r->isid, isid, 6);
	tt_put_be16(r->tsih, tsih);
	tt_put_be32(r->itt, itt);
	tt_put_be32(r->cmdsn, cmd_sn);
	tt_put_be32(r->expstatsn, exp_stat_sn);
}

static const uint8_t default_isid[6] = { 0x80, 0x00, 0x00, 0x00, 0x12, 0x34 };

struct tt_pdu *fx_login_isid(struct fx_conn *fc, const char *ini, const char *tgt,
			     const char *keys, const uint8_t *isid, uint16_t tsih)
{
	char text[2048];
	uint8_t bhs[TT_BHS_LEN];
	size_t n = fx_login_text(text, sizeof(text), ini, tgt, keys ? keys : FX_KEYS);

	fx_login_bhs(bhs, TT_STAGE_OPERATIONAL, TT_STAGE_FULL_FEATURE, true, isid ? isid : default_isid,
		     tsih, 0x1000, fc->cmd_sn, fc->exp_stat_sn);
	fx_rx(fc, bhs, text, (uint32_t)n);
	return fx_pop(fc);
}

struct tt_pdu *fx_login(struct fx_conn *fc, const char *ini, const char *tgt, const char *keys)
{
	return fx_login_isid(fc, ini, tgt, keys, NULL, 0);
}

uint16_t fx_login_status(const struct tt_pdu *rsp)
{
	const struct tt_bhs_login_rsp *r = (const struct tt_bhs_login_rsp *)rsp->raw;

	return (uint16_t)(r->status_class << 8 | r->status_detail);
}

const char *fx_key(const struct tt_pdu *rsp, const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key);
	uint32_t off = 0;

	while (rsp->data && off < rsp->data_len) {
		const char *pair = (const char *)rsp->data + off;
		size_t plen = strnlen(pair, rsp->data_len - off);

		if (plen > klen && !strncmp(pair, key, klen) && pair[klen] == '=') {
			snprintf(buf, len, "%.*s", (int)(plen - klen - 1), pair + klen + 1);
			return buf;
		}
		off += (uint32_t)plen + 1;
	}
	return NULL;
}

struct fx_conn *fx_logged_in_isid(const char *keys, const uint8_t *isid)
{
	struct fx_conn *fc = fx_connect();
	struct tt_pdu *rsp = fx_login_isid(fc, FX_INI, FX_TARGET, keys, isid, 0);
	struct tt_conn *conn;

	assert_non_null(rsp);
	assert_int_equal(tt_bhs_opcode(&rsp->bhs), TT_OP_LOGIN_RSP);
	assert_int_equal(fx_login_status(rsp), 0);
	fc->exp_stat_sn = fx_stat_sn(rsp) + 1;
	fx_free(rsp);
	conn = fc->xc.upper;
	assert_non_null(conn);
	assert_int_equal(conn->state, TT_CONN_LOGGED_IN);
	/* the new nexus has a power-on unit attention: take it */
	rsp = fx_tur(fc, 0x7fff0000);
	fx_assert_check(rsp, 0x7fff0000, TT_SK_UNIT_ATTENTION, 0x29, 0x00);
	fx_free(rsp);
	return fc;
}

struct fx_conn *fx_logged_in(const char *keys) { return fx_logged_in_isid(keys, NULL); }

int fx_cmd(struct fx_conn *fc, uint32_t itt, uint32_t cmd_sn, uint8_t flags, uint32_t edtl,
	   const uint8_t *cdb, size_t cdb_len, const void *data, uint32_t len)
{
	uint8_t bhs[TT_BHS_LEN] = { 0 };
	struct tt_bhs_scsi_cmd *c = (struct tt_bhs_scsi_cmd *)bhs;

	c->opcode = TT_OP_SCSI_CMD;
	c->flags = (uint8_t)(TT_FLAG_FINAL | flags | 1); /* Simple */
	tt_lun_to_wire(0, c->lun);
	tt_put_be32(c->itt, itt);
	tt_put_be32(c->edtl, edtl);
	tt_put_be32(c->cmdsn, cmd_sn);
	tt_put_be32(c->expstatsn, fc->exp_stat_sn);
	assert_true(cdb_len <= 16);
	memcpy(c->cdb, cdb, cdb_len);
	return fx_rx(fc, bhs, data, len);
}

int fx_data_out(struct fx_conn *fc, uint32_t itt, uint32_t ttt, uint32_t data_sn,
		uint32_t offset, bool final, const void *data, uint32_t len)
{
	uint8_t bhs[TT_BHS_LEN] = { 0 };
	struct tt_bhs_data_out *d = (struct tt_bhs_data_out *)bhs;

	d->opcode = TT_OP_DATA_OUT;
	d->flags = final ? TT_FLAG_FINAL : 0;
	tt_lun_to_wire(0, d->lun);
	tt_put_be32(d->itt, itt);
	tt_put_be32(d->ttt, ttt);
	tt_put_be32(d->expstatsn, fc->exp_stat_sn);
	tt_put_be32(d->datasn, data_sn);
	tt_put_be32(d->offset, offset);
	return fx_rx(fc, bhs, data, len);
}

int fx_nop_out(struct fx_conn *fc, uint32_t itt, uint32_t ttt, uint32_t cmd_sn, bool immediate,
	       const void *data, uint32_t len)
{
	uint8_t bhs[TT_BHS_LEN] = { 0 };
	struct tt_bhs_nop_out *o = (struct tt_bhs_nop_out *)bhs;

	o->opcode = (uint8_t)(TT_OP_NOP_OUT | (immediate ? TT_OP_IMMEDIATE : 0));
	o->flags = TT_FLAG_FINAL;
	tt_put_be32(o->itt, itt);
	tt_put_be32(o->ttt, ttt);
	tt_put_be32(o->cmdsn, cmd_sn);
	tt_put_be32(o->expstatsn, fc->exp_stat_sn);
	return fx_rx(fc, bhs, data, len);
}

int fx_tmf(struct fx_conn *fc, uint32_t itt, uint8_t fn, uint64_t lun, uint32_t rtt,
	   uint32_t cmd_sn, uint32_t ref_cmd_sn)
{
	uint8_t bhs[TT_BHS_LEN] = { 0 };
	struct tt_bhs_tmf_req *r = (struct tt_bhs_tmf_req *)bhs;

	r->opcode = TT_OP_TMF_REQ | TT_OP_IMMEDIATE;
	r->flags = (uint8_t)(TT_FLAG_FINAL | fn);
	tt_lun_to_wire(lun, r->lun);
	tt_put_be32(r->itt, itt);
	tt_put_be32(r->rtt, rtt);
	tt_put_be32(r->cmdsn, cmd_sn);
	tt_put_be32(r->expstatsn, fc->exp_stat_sn);
	tt_put_be32(r->refcmdsn, ref_cmd_sn);
	return fx_rx(fc, bhs, NULL, 0);
}

int fx_logout(struct fx_conn *fc, uint32_t itt, uint8_t reason, uint16_t cid, uint32_t cmd_sn)
{
	uint8_t bhs[TT_BHS_LEN] = { 0 };
	struct tt_bhs_logout_req *r = (struct tt_bhs_logout_req *)bhs;

	r->opcode = TT_OP_LOGOUT_REQ | TT_OP_IMMEDIATE;
	r->flags = (uint8_t)(TT_FLAG_FINAL | reason);
	tt_put_be32(r->itt, itt);
	tt_put_be16(r->cid, cid);
	tt_put_be32(r->cmdsn, cmd_sn);
	tt_put_be32(r->expstatsn, fc->exp_stat_sn);
	return fx_rx(fc, bhs, NULL, 0);
}

size_t fx_cdb_tur(uint8_t *cdb)
{
	memset(cdb, 0, 6);
	return 6;
}

size_t fx_cdb_inquiry(uint8_t *cdb, uint16_t alloc)
{
	memset(cdb, 0, 6);
	cdb[0] = 0x12;
	tt_put_be16(cdb + 3, alloc);
	return 6;
}

size_t fx_cdb_rw10(uint8_t *cdb, bool write, uint32_t lba, uint16_t blocks)
{
	memset(cdb, 0, 10);
	cdb[0] = write ? 0x2a : 0x28;
	tt_put_be32(cdb + 2, lba);
	tt_put_be16(cdb + 7, blocks);
	return 10;
}

struct tt_pdu *fx_tur(struct fx_conn *fc, uint32_t itt)
{
	uint8_t cdb[16];
	size_t n = fx_cdb_tur(cdb);

	fx_cmd(fc, itt, fc->cmd_sn++, 0, 0, cdb, n, NULL, 0);
	return fx_pop_op(fc, TT_OP_SCSI_RSP);
}

/* ---- reading target PDUs ---- */

uint32_t fx_be32(const struct tt_pdu *pdu, unsigned off) { return tt_get_be32(pdu->raw + off); }
uint32_t fx_itt(const struct tt_pdu *pdu) { return fx_be32(pdu, 16); }
uint32_t fx_stat_sn(const struct tt_pdu *pdu) { return fx_be32(pdu, 24); }
uint32_t fx_exp_cmd_sn(const struct tt_pdu *pdu) { return fx_be32(pdu, 28); }
uint32_t fx_max_cmd_sn(const struct tt_pdu *pdu) { return fx_be32(pdu, 32); }

void fx_sense(const struct tt_pdu *rsp, uint8_t *key, uint8_t *asc, uint8_t *ascq)
{
	const uint8_t *s;
	uint16_t len;

	assert_true(rsp->data_len >= 2);
	assert_non_null(rsp->data);
	len = tt_get_be16(rsp->data);
	assert_true(len + 2u <= rsp->data_len);
	s = rsp->data + 2;
	if ((s[0] & 0x7f) == 0x72 || (s[0] & 0x7f) == 0x73) {
		assert_true(len >= 4);
		*key = s[1] & 0x0f;
		*asc = s[2];
		*ascq = s[3];
	} else {
		assert_true(len >= 14);
		*key = s[2] & 0x0f;
		*asc = s[12];
		*ascq = s[13];
	}
}

void fx_assert_check(const struct tt_pdu *rsp, uint32_t itt, uint8_t key, uint8_t asc, uint8_t ascq)
{
	const struct tt_bhs_scsi_rsp *r = (const struct tt_bhs_scsi_rsp *)rsp->raw;
	uint8_t k, a, q;

	assert_int_equal(tt_bhs_opcode(&rsp->bhs), TT_OP_SCSI_RSP);
	assert_int_equal(fx_itt(rsp), itt);
	assert_int_equal(r->response, 0);
	assert_int_equal(r->status, TT_SAM_CHECK_CONDITION);
	fx_sense(rsp, &k, &a, &q);
	assert_int_equal(k, key);
	assert_int_equal(a, asc);
	assert_int_equal(q, ascq);
}
