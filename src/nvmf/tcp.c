/* SPDX-License-Identifier: BSD-3-Clause */
/* NVMe/TCP connections: receive state machine, send queue, listening sockets (see tcp.h). */
#include "nvmf/tcp.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/bufpool.h"
#include "base/errmsg.h"
#include "base/log.h"
#include "nvmf/internal.h"
#include "nvmf/tcp_pdu.h"
#include "xport/listener.h"
#include "xport/xport.h"

#define MAX_H2C TT_NVMF_MAX_XFER   /* MAXH2CDATA */
#define RX_BUDGET 64               /* receive steps per wakeup */
#define TX_IOV 64
#define DRAIN_MS 2000             /* after a C2HTermReq: the host's closing, at most */

enum rx_state { RX_CH, RX_PSH, RX_PAD, RX_DATA, RX_DDGST, RX_STOP, RX_DRAIN };
enum req_state { REQ_FREE, REQ_RECV, REQ_WAIT_H2C, REQ_EXEC, REQ_SEND };

struct nvtcp_conn;

struct nvtcp_req {
	struct tt_nvmf_req req;         /* first: container_of */
	struct nvtcp_conn *conn;
	enum req_state state;
	size_t cap;                     /* buffer capacity (tt_buf_alloc) */
	uint32_t h2c_got;               /* write data received so far */
	uint16_t fail;                  /* status to complete with once its data is in */
};

struct tx_item {
	struct tt_list node;
	uint8_t hdr[TT_NVTCP_TERM_HLEN + TT_NVTCP_TERM_DATA_MAX + TT_NVTCP_HDR_MAX];
	size_t hlen;
	const uint8_t *data;
	size_t dlen;
	uint8_t ddgst[4];
	bool has_ddgst;
	size_t sent;                    /* bytes of hdr + data + digest written */
	struct nvtcp_req *release;      /* request slot freed once this item is written */
	bool close_after;               /* a termination request: close once written */
};

struct nvtcp_conn {
	struct tt_nvmf_qpair qp;        /* first: container_of */
	int fd;
	struct tt_watch watch;
	int refs;
	bool closed;                    /* the socket is shut: no more I/O */
	struct tt_work close_work;      /* a close asked from inside the core */
	struct tt_timer drain_timer;    /* termination request sent: close at the latest then */
	struct tt_list node;            /* in the connection list */

	/* receive */
	enum rx_state rx;
	uint8_t hdr[TT_NVTCP_HDR_MAX];
	uint8_t *rx_dst;                /* where RX_DATA goes; NULL: discard */
	size_t rx_need, rx_got;
	struct tt_nvtcp_layout lay;
	struct tt_nvtcp_limits lim;
	struct nvtcp_req *rx_req;
	uint8_t ddgst[4];
	uint8_t scratch[512];
	uint8_t hpda;

	/* send */
	struct tt_list txq;
	uint32_t events;                /* watched */

	struct nvtcp_req reqs[TT_NVMF_MAX_QUEUE_DEPTH];
};

static struct tt_list conns = TT_LIST_INIT(conns);
static uint64_t conn_ids;

static void conn_close(struct nvtcp_conn *c, const char *why);
static void conn_tx(struct nvtcp_conn *c);

static void conn_put(struct nvtcp_conn *c)
{
	if (--c->refs > 0)
		return;
	tt_debug("nvme-tcp", "conn %llu freed", (unsigned long long)c->qp.id);
	tt_work_cancel(&c->close_work);
	tt_timer_cancel(&c->drain_timer);
	tt_list_del(&c->node);
	tt_nvmf_qpair_fini(&c->qp); /* the port's reference goes */
	free(c);
}

/* ---- request slots --------------------------------------------------------------------------- */

static struct nvtcp_req *req_alloc(struct nvtcp_conn *c)
{
	for (unsigned i = 0; i < TT_NVMF_MAX_QUEUE_DEPTH; i++) {
		struct nvtcp_req *r = &c->reqs[i];

		if (r->state == REQ_FREE) {
			memset(&r->req, 0, sizeof(r->req));
			r->req.qp = &c->qp;
			r->conn = c;
			r->state = REQ_RECV;
			r->h2c_got = 0;
			r->fail = 0;
			c->refs++; /* the slot's */
			return r;
		}
	}
	return NULL;
}

static void req_release(struct nvtcp_req *r)
{
	struct nvtcp_conn *c = r->conn;

	if (r->req.buf)
		tt_buf_free(r->req.buf, r->cap);
	r->req.buf = NULL;
	r->cap = 0;
	r->state = REQ_FREE;
	conn_put(c);
}

/* ---- send ------------------------------------------------------------------------------------ */

static struct tx_item *tx_new(struct nvtcp_conn *c)
{
	struct tx_item *t = calloc(1, sizeof(*t));

	(void)c;
	return t;
}

static void tx_free_all(struct nvtcp_conn *c)
{
	struct tt_list *n;

	while ((n = tt_list_pop(&c->txq)) != NULL) {
		struct tx_item *t = tt_list_entry(n, struct tx_item, node);

		if (t->release)
			req_release(t->release);
		free(t);
	}
}

/* Readable unless receiving stopped (a termination request waits to go); writable when the
 * send queue is blocked. */
static void tx_watch(struct nvtcp_conn *c, bool out)
{
	uint32_t ev = (c->rx != RX_STOP ? EPOLLIN : 0) | (out ? EPOLLOUT : 0);

	if (c->closed || ev == c->events)
		return;
	c->events = ev;
	tt_watch_mod(&c->watch, ev);
}

static void conn_tx(struct nvtcp_conn *c)
{
	while (!c->closed && !tt_list_empty(&c->txq)) {
		struct iovec iov[TX_IOV];
		struct tt_list *n;
		int cnt = 0;
		ssize_t w;

		tt_list_for_each(n, &c->txq) {
			struct tx_item *t = tt_list_entry(n, struct tx_item, node);
			const uint8_t *parts[3] = { t->hdr, t->data, t->ddgst };
			size_t lens[3] = { t->hlen, t->dlen, t->has_ddgst ? 4 : 0 }, skip = t->sent;

			for (int i = 0; i < 3 && cnt < TX_IOV; i++) {
				if (skip >= lens[i]) {
					skip -= lens[i];
					continue;
				}
				iov[cnt].iov_base = (void *)(parts[i] + skip);
				iov[cnt].iov_len = lens[i] - skip;
				skip = 0;
				cnt++;
			}
			if (cnt >= TX_IOV - 3)
				break;
		}
		w = writev(c->fd, iov, cnt);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				tx_watch(c, true);
				return;
			}
			conn_close(c, strerror(errno));
			return;
		}
		while (w > 0 && !tt_list_empty(&c->txq)) {
			struct tx_item *t = tt_list_first(&c->txq, struct tx_item, node);
			size_t total = t->hlen + t->dlen + (t->has_ddgst ? 4 : 0), left = total - t->sent;

			if ((size_t)w < left) {
				t->sent += (size_t)w;
				w = 0;
				break;
			}
			w -= (ssize_t)left;
			tt_list_del(&t->node);
			if (t->release)
				req_release(t->release);
			if (t->close_after) {
				/* the host reads the C2HTermReq before the close: stop sending, read
				 * and drop what it still sends until it closes (or DRAIN_MS) */
				free(t);
				shutdown(c->fd, SHUT_WR);
				c->rx = RX_DRAIN;
				tt_timer_arm_ms(&c->drain_timer, DRAIN_MS);
				tx_watch(c, false);
				return;
			}
			free(t);
		}
	}
	tx_watch(c, false);
}

static void tx_queue(struct nvtcp_conn *c, struct tx_item *t)
{
	tt_list_add_tail(&c->txq, &t->node);
}

/* A fatal error: C2HTermReq with the offending header, then close. Receiving stops now. */
static void conn_terminate(struct nvtcp_conn *c, uint16_t fes, uint32_t fei, const char *what)
{
	struct tx_item *t;
	size_t bad = c->lay.hlen ? c->lay.hlen : TT_NVTCP_CH_LEN;

	tt_log_ratelimited(TT_LOG_WARN, "nvme-tcp", "conn %llu %s: %s (%s, FES %u, field %u): "
			   "terminating", (unsigned long long)c->qp.id, c->qp.peer, what,
			   tt_nvtcp_type_name(c->lay.type), fes, fei);
	c->rx = RX_STOP;
	t = tx_new(c);
	if (!t) {
		conn_close(c, "out of memory");
		return;
	}
	if (bad > sizeof(c->hdr))
		bad = sizeof(c->hdr);
	t->hlen = tt_nvtcp_build_term(t->hdr, fes, fei, c->hdr, bad);
	t->close_after = true;
	tx_queue(c, t);
	conn_tx(c);
}

/* ---- completions from the core --------------------------------------------------------------- */

static void qp_complete(struct tt_nvmf_req *nr)
{
	struct nvtcp_req *r = tt_container_of(nr, struct nvtcp_req, req);
	struct nvtcp_conn *c = r->conn;
	uint16_t cid = tt_le16(nr->sqe + TT_SQE_CID);
	struct tx_item *t;

	if (c->closed) {
		req_release(r);
		return;
	}
	r->state = REQ_SEND;
	if (nr->dir == TT_NVMF_DIR_C2H && nr->xfer_len) {
		for (uint32_t off = 0; off < nr->xfer_len; off += MAX_H2C) {
			uint32_t len = nr->xfer_len - off < MAX_H2C ? nr->xfer_len - off : MAX_H2C;

			t = tx_new(c);
			if (!t) {
				req_release(r);
				conn_close(c, "out of memory");
				return;
			}
			t->hlen = tt_nvtcp_build_c2h(t->hdr, cid, off, len, off + len == nr->xfer_len,
						     false, c->lim.hdgst, c->lim.ddgst, c->hpda);
			t->data = nr->buf + off;
			t->dlen = len;
			if (c->lim.ddgst) {
				tt_put_le32(t->ddgst, tt_nvtcp_crc(t->data, len));
				t->has_ddgst = true;
			}
			tx_queue(c, t);
		}
	}
	t = tx_new(c);
	if (!t) {
		req_release(r);
		conn_close(c, "out of memory");
		return;
	}
	t->hlen = tt_nvtcp_build_rsp(t->hdr, nr->cqe, c->lim.hdgst);
	t->release = r;
	tx_queue(c, t);
	conn_tx(c);
}

static void close_work(struct tt_work *w)
{
	struct nvtcp_conn *c = tt_container_of(w, struct nvtcp_conn, close_work);

	conn_close(c, "controller ended");
	conn_put(c); /* the work's */
}

static void drain_expired(struct tt_timer *t)
{
	struct nvtcp_conn *c = tt_container_of(t, struct nvtcp_conn, drain_timer);

	c->refs++;
	conn_close(c, "termination request sent; the host did not close");
	conn_put(c);
}

static void qp_disconnect(struct tt_nvmf_qpair *qp)
{
	struct nvtcp_conn *c = tt_container_of(qp, struct nvtcp_conn, qp);

	if (c->closed || tt_list_linked(&c->close_work.node))
		return;
	c->refs++; /* the work's */
	tt_work_queue(&c->close_work);
}

/* In-capsule data right after the SQE (offset 0), larger transfers by R2T/H2CData and C2HData
 * (Transport SGL Data Block, subtype Ah). */
const struct tt_nvmf_xport_caps tt_nvmf_tcp_caps = {
	.icd_max = TT_NVMF_IN_CAPSULE,
	.icd_offset = false,
	.transport_sgl = TT_SGL_TRANSPORT_BLOCK,
	.keyed = false,
	.sgls = 0x1 | 1u << 20,                 /* SGLs; offsets in data blocks */
};

static const struct tt_nvmf_qpair_ops qp_ops = {
	.caps = &tt_nvmf_tcp_caps,
	.complete = qp_complete,
	.disconnect = qp_disconnect,
};

/* ---- receive --------------------------------------------------------------------------------- */

static void rx_expect(struct nvtcp_conn *c, enum rx_state st, uint8_t *dst, size_t need)
{
	c->rx = st;
	c->rx_dst = dst;
	c->rx_need = need;
	c->rx_got = 0;
}

static void rx_next_pdu(struct nvtcp_conn *c)
{
	c->rx_req = NULL;
	memset(&c->lay, 0, sizeof(c->lay));
	rx_expect(c, RX_CH, c->hdr, TT_NVTCP_CH_LEN);
}

/* After the header (and padding): data, its digest, or the next PDU. */
static void rx_after_header(struct nvtcp_conn *c, uint8_t *dst)
{
	if (c->lay.pad) {
		rx_expect(c, RX_PAD, NULL, c->lay.pad);
		c->rx_dst = dst; /* kept for RX_DATA (see rx_step) */
		return;
	}
	if (c->lay.data_len) {
		rx_expect(c, RX_DATA, dst, c->lay.data_len);
		return;
	}
	rx_next_pdu(c);
}

/* The command's data is in (or it failed already): to the core. */
static void req_start(struct nvtcp_req *r)
{
	r->state = REQ_EXEC;
	if (r->fail)
		tt_nvmf_req_fail(&r->req, r->fail);
	else
		tt_nvmf_req_exec(&r->req);
}

static int send_r2t(struct nvtcp_conn *c, struct nvtcp_req *r)
{
	struct tx_item *t = tx_new(c);

	if (!t)
		return -ENOMEM;
	r->state = REQ_WAIT_H2C;
	t->hlen = tt_nvtcp_build_r2t(t->hdr, tt_le16(r->req.sqe + TT_SQE_CID),
				     (uint16_t)(r - c->reqs), 0, r->req.len, c->lim.hdgst);
	tx_queue(c, t);
	conn_tx(c);
	return 0;
}

static void rx_icreq(struct nvtcp_conn *c)
{
	struct tt_nvtcp_icreq ic;
	uint16_t fes;
	uint32_t fei;
	struct tx_item *t;

	if (tt_nvtcp_parse_icreq(c->hdr, &ic, &fes, &fei)) {
		conn_terminate(c, fes, fei, "ICReq");
		return;
	}
	c->hpda = ic.hpda;
	c->lim.ic_done = true;
	c->lim.hdgst = ic.hdgst;
	c->lim.ddgst = ic.ddgst;
	t = tx_new(c);
	if (!t) {
		conn_close(c, "out of memory");
		return;
	}
	t->hlen = tt_nvtcp_build_icresp(t->hdr, ic.hdgst, ic.ddgst, MAX_H2C);
	tx_queue(c, t);
	tt_debug("nvme-tcp", "conn %llu %s: ICReq hpda %u digests %d/%d", (unsigned long long)c->qp.id,
		 c->qp.peer, ic.hpda, ic.hdgst, ic.ddgst);
	conn_tx(c);
	if (!c->closed)
		rx_next_pdu(c);
}

static void rx_capsule(struct nvtcp_conn *c)
{
	struct nvtcp_req *r = req_alloc(c);
	bool in_capsule;
	uint16_t st;

	if (!r) {
		conn_terminate(c, TT_NVTCP_FES_SEQUENCE, 0, "more commands than the queue holds");
		return;
	}
	memcpy(r->req.sqe, c->hdr + TT_NVTCP_CH_LEN, TT_NVME_SQE_SIZE);
	st = tt_nvmf_req_layout(&r->req, &in_capsule);
	if (!st && r->req.len) {
		r->req.buf = tt_buf_alloc(r->req.len, &r->cap);
		if (!r->req.buf)
			st = TT_NVME_SC_INTERNAL;
	}
	if (!st && c->lay.data_len && (!in_capsule || c->lay.data_len != r->req.len))
		st = TT_NVME_SC_SGL_INVALID_DATA | TT_NVME_DNR;
	if (!st && in_capsule && !c->lay.data_len)
		st = TT_NVME_SC_SGL_INVALID_DATA | TT_NVME_DNR;
	r->fail = st;
	c->rx_req = r;
	if (c->lay.data_len) {
		/* in-capsule data: into the buffer, or discarded when the command fails */
		rx_after_header(c, st ? NULL : r->req.buf);
		return;
	}
	rx_next_pdu(c);
	if (!st && r->req.dir == TT_NVMF_DIR_H2C) {
		if (send_r2t(c, r) < 0) {
			r->fail = TT_NVME_SC_INTERNAL;
			req_start(r);
		}
		return;
	}
	req_start(r);
}

static void rx_h2c(struct nvtcp_conn *c)
{
	const uint8_t *h = c->hdr;
	uint16_t cccid = tt_le16(h + 8), ttag = tt_le16(h + 10);
	uint32_t off = tt_le32(h + 12), len = tt_le32(h + 16);
	struct nvtcp_req *r;

	if (ttag >= TT_NVMF_MAX_QUEUE_DEPTH || c->reqs[ttag].state != REQ_WAIT_H2C ||
	    tt_le16(c->reqs[ttag].req.sqe + TT_SQE_CID) != cccid) {
		conn_terminate(c, TT_NVTCP_FES_INVALID_HEADER, 10, "H2CData for no transfer");
		return;
	}
	r = &c->reqs[ttag];
	if (len != c->lay.data_len) {
		conn_terminate(c, TT_NVTCP_FES_INVALID_HEADER, 16, "H2CData length");
		return;
	}
	if (off != r->h2c_got || (uint64_t)off + len > r->req.len) {
		conn_terminate(c, TT_NVTCP_FES_OUT_OF_RANGE, 12, "H2CData out of range");
		return;
	}
	c->rx_req = r;
	rx_after_header(c, r->req.buf + off);
}

static void rx_header_done(struct nvtcp_conn *c)
{
	if (c->lay.hdgst && !tt_nvtcp_hdgst_ok(c->hdr, c->lay.hlen)) {
		conn_terminate(c, TT_NVTCP_FES_HDGST, 0, "header digest");
		return;
	}
	switch (c->lay.type) {
	case TT_NVTCP_ICREQ:
		rx_icreq(c);
		return;
	case TT_NVTCP_CMD:
		rx_capsule(c);
		return;
	case TT_NVTCP_H2C_DATA:
		rx_h2c(c);
		return;
	case TT_NVTCP_H2C_TERM:
		tt_notice("nvme-tcp", "conn %llu %s: the host terminates the connection (FES %u)",
			  (unsigned long long)c->qp.id, c->qp.peer, tt_le16(c->hdr + 8));
		conn_close(c, "H2CTermReq");
		return;
	default:
		conn_terminate(c, TT_NVTCP_FES_INVALID_HEADER, 0, "PDU type");
		return;
	}
}

/* The data (and its digest) of the PDU being received are in. */
static void rx_data_done(struct nvtcp_conn *c, bool digest_ok)
{
	struct nvtcp_req *r = c->rx_req;
	uint8_t type = c->lay.type;
	uint32_t len = c->lay.data_len;
	bool last = c->lay.flags & TT_NVTCP_F_LAST;

	rx_next_pdu(c);
	if (!r)
		return; /* a termination request's data */
	if (!digest_ok && !r->fail)
		r->fail = 0x22; /* Transient Transport Error */
	if (type == TT_NVTCP_CMD) {
		req_start(r);
		return;
	}
	r->h2c_got += len;
	if (r->h2c_got == r->req.len) {
		req_start(r);
	} else if (last) {
		c->lay.type = TT_NVTCP_H2C_DATA;
		conn_terminate(c, TT_NVTCP_FES_SEQUENCE, 0, "last H2CData before the end of the data");
	}
}

/* One step of the receive state machine; false when nothing more can be read now. */
static bool rx_step(struct nvtcp_conn *c)
{
	uint16_t fes;
	uint32_t fei;
	ssize_t n;
	uint8_t *dst;
	size_t want = c->rx_need - c->rx_got;

	if (c->rx == RX_STOP || c->closed)
		return false;
	if (c->rx == RX_DRAIN) {
		n = recv(c->fd, c->scratch, sizeof(c->scratch), 0);
		if (n > 0 || (n < 0 && errno == EINTR))
			return true;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return false;
		conn_close(c, "termination request sent");
		return false;
	}
	if (c->rx == RX_PAD || (c->rx == RX_DATA && !c->rx_dst)) {
		dst = c->scratch;
		if (want > sizeof(c->scratch))
			want = sizeof(c->scratch);
	} else {
		dst = (c->rx == RX_DDGST ? c->ddgst : c->rx_dst) + c->rx_got;
	}
	if (want) {
		n = recv(c->fd, dst, want, 0);
		if (n == 0) {
			conn_close(c, "closed by the host");
			return false;
		}
		if (n < 0) {
			if (errno == EINTR)
				return true;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				conn_close(c, strerror(errno));
			return false;
		}
		c->rx_got += (size_t)n;
		if (c->rx_got < c->rx_need)
			return true;
	}
	switch (c->rx) {
	case RX_CH:
		if (tt_nvtcp_check_ch(c->hdr, &c->lim, &c->lay, &fes, &fei)) {
			c->lay.hlen = TT_NVTCP_CH_LEN;
			conn_terminate(c, fes, fei, "malformed PDU header");
			return false;
		}
		rx_expect(c, RX_PSH, c->hdr + TT_NVTCP_CH_LEN, c->lay.psh_len);
		return true;
	case RX_PSH:
		rx_header_done(c);
		return true;
	case RX_PAD: {
		uint8_t *keep = c->rx_dst;

		rx_expect(c, RX_DATA, keep, c->lay.data_len);
		return true;
	}
	case RX_DATA:
		if (c->lay.ddgst) {
			uint8_t *keep = c->rx_dst;

			rx_expect(c, RX_DDGST, keep, TT_NVTCP_DIGEST_LEN);
			return true;
		}
		rx_data_done(c, true);
		return true;
	case RX_DDGST: {
		/* the data went to rx_dst - data_len ... it is at the request's buffer */
		bool ok = true;

		if (c->rx_req && c->rx_dst && !c->rx_req->fail)
			ok = tt_le32(c->ddgst) == tt_nvtcp_crc(c->rx_dst, c->lay.data_len);
		rx_data_done(c, ok);
		return true;
	}
	default:
		return false;
	}
}

static void conn_ready(struct tt_watch *w, uint32_t events)
{
	struct nvtcp_conn *c = tt_container_of(w, struct nvtcp_conn, watch);

	c->refs++; /* held across the callbacks */
	if (events & EPOLLOUT)
		conn_tx(c);
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		for (int i = 0; i < RX_BUDGET && rx_step(c); i++)
			;
	conn_put(c);
}

/* Shuts the socket, drops what was not sent, tells the core. Idempotent. */
static void conn_close(struct nvtcp_conn *c, const char *why)
{
	if (c->closed)
		return;
	c->closed = true;
	c->rx = RX_STOP;
	tt_info("nvme-tcp", "conn %llu %s: closed (%s)", (unsigned long long)c->qp.id, c->qp.peer,
		why);
	tt_watch_del(&c->watch);
	tt_timer_cancel(&c->drain_timer);
	shutdown(c->fd, SHUT_RDWR);
	close(c->fd);
	c->fd = -1;
	c->refs++;
	tx_free_all(c);
	/* requests still receiving data: never reached the core */
	for (unsigned i = 0; i < TT_NVMF_MAX_QUEUE_DEPTH; i++)
		if (c->reqs[i].state == REQ_RECV || c->reqs[i].state == REQ_WAIT_H2C)
			req_release(&c->reqs[i]);
	tt_nvmf_qpair_closed(&c->qp);
	conn_put(c);
	conn_put(c); /* the socket's */
}

/* ---- listening ------------------------------------------------------------------------------- */

struct nvtcp_listener {
	struct tt_listener *listener;
	int fd;
	struct tt_watch watch;
};

static struct tt_nvmf_port *port_of(const struct tt_listener *l)
{
	struct tt_list *n;

	tt_list_for_each(n, tt_nvmf_ports()) {
		struct tt_nvmf_port *p = tt_list_entry(n, struct tt_nvmf_port, node);

		if (p->listener == l)
			return p;
	}
	return NULL;
}

static void accept_one(struct nvtcp_listener *l, int fd, const struct sockaddr_storage *peer)
{
	struct tt_nvmf_port *port = port_of(l->listener);
	struct nvtcp_conn *c;
	int one = 1, rc;

	if (!port) {
		/* the port is being removed: nothing serves this address any more */
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	tt_nvmf_qpair_init(&c->qp, &qp_ops, port);
	c->qp.id = ++conn_ids;
	tt_sockaddr_format(peer, c->qp.peer, sizeof(c->qp.peer));
	c->fd = fd;
	c->refs = 1; /* the socket's */
	c->events = EPOLLIN;
	tt_list_init(&c->node);
	c->lim.max_icd = TT_NVMF_IN_CAPSULE;
	c->lim.max_h2c = MAX_H2C;
	tt_list_init(&c->txq);
	tt_work_init(&c->close_work, tt_loop_current(), close_work);
	tt_timer_init(&c->drain_timer, tt_loop_current(), drain_expired);
	rx_next_pdu(c);
	rc = tt_watch_add(tt_loop_current(), &c->watch, fd, EPOLLIN, conn_ready);
	if (rc < 0) {
		tt_log_ratelimited(TT_LOG_WARN, "nvme-tcp", "%s: cannot watch: %s", c->qp.peer,
				   strerror(-rc));
		close(fd);
		tt_nvmf_qpair_fini(&c->qp);
		free(c);
		return;
	}
	tt_list_add_tail(&conns, &c->node);
	tt_debug("nvme-tcp", "conn %llu %s: accepted on %s", (unsigned long long)c->qp.id,
		 c->qp.peer, l->listener->name);
}

static void listener_ready(struct tt_watch *w, uint32_t events)
{
	struct nvtcp_listener *l = tt_container_of(w, struct nvtcp_listener, watch);

	(void)events;
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		int fd = accept4(l->fd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED)
				tt_log_ratelimited(TT_LOG_WARN, "nvme-tcp", "%s: accept: %s",
						   l->listener->name, strerror(errno));
			return;
		}
		accept_one(l, fd, &peer);
	}
}

static int nvtcp_listen(struct tt_listener *tl)
{
	const struct sockaddr_storage *a = &tl->addr.ss;
	socklen_t alen = a->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						 : sizeof(struct sockaddr_in);
	struct nvtcp_listener *l;
	int one = 1, rc;

	if (a->ss_family != AF_INET && a->ss_family != AF_INET6)
		return -EAFNOSUPPORT;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->listener = tl;
	l->fd = socket(a->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	if (l->fd < 0) {
		rc = -errno;
		free(l);
		return rc;
	}
	setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (a->ss_family == AF_INET6)
		setsockopt(l->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(l->fd, (const struct sockaddr *)a, alen) < 0 || listen(l->fd, 128) < 0) {
		rc = -errno;
		goto fail;
	}
	rc = tt_watch_add(tt_loops_get(0), &l->watch, l->fd, EPOLLIN, listener_ready);
	if (rc < 0)
		goto fail;
	tl->xport_priv = l;
	tt_info("nvme-tcp", "listening on %s", tl->name);
	return 0;
fail:
	close(l->fd);
	free(l);
	return rc;
}

static void nvtcp_unlisten(struct tt_listener *tl)
{
	struct nvtcp_listener *l = tl->xport_priv;

	if (!l)
		return;
	tl->xport_priv = NULL;
	tt_watch_del(&l->watch);
	close(l->fd);
	free(l);
}

/* The listener layer's table: only listen and unlisten are used for this fabric. */
static const struct tt_xport_ops nvtcp_xport =
	TT_XPORT_LISTEN_ONLY("nvme-tcp", nvtcp_listen, nvtcp_unlisten);

/* Identifies the NVMe-oF core as the user of its listeners (no entry point is called). */
static const struct tt_xport_core nvtcp_core;

void tt_nvmf_tcp_register(void)
{
	tt_xport_register_fabric(TT_FABRIC_NVME_TCP, &nvtcp_xport);
}

static int nvtcp_port_listen(struct tt_nvmf_port *p, char *err, size_t errlen)
{
	tt_nvmf_tcp_register();
	return tt_listener_acquire(&p->addr, &nvtcp_core, &p->listener, err, errlen);
}

static void nvtcp_port_unlisten(struct tt_nvmf_port *p)
{
	if (p->listener)
		tt_listener_release(p->listener);
	p->listener = NULL;
}

/* TSAS of NVMe/TCP: SECTYPE 0, no security */
static void nvtcp_tsas(const struct tt_nvmf_port *p, uint8_t *tsas)
{
	(void)p;
	tsas[0] = 0;
}

static unsigned nvtcp_conn_count(void)
{
	return tt_list_count(&conns);
}

const struct tt_nvmf_port_xport tt_nvmf_tcp_port = {
	.name = "tcp",
	.trtype = 3,
	.admin_depth = TT_NVMF_MAX_QUEUE_DEPTH,
	.listen = nvtcp_port_listen,
	.unlisten = nvtcp_port_unlisten,
	.tsas = nvtcp_tsas,
	.close_all = tt_nvmf_tcp_close_all,
	.conn_count = nvtcp_conn_count,
};

void tt_nvmf_tcp_close_all(void)
{
	struct tt_list *n, *t;

	tt_list_for_each_safe(n, t, &conns) {
		struct nvtcp_conn *c = tt_list_entry(n, struct nvtcp_conn, node);

		c->refs++;
		conn_close(c, "shutting down");
		conn_put(c);
	}
}
