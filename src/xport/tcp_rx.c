/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Receiving PDUs over TCP: a resumable parser over a per-connection staging buffer.
 *
 * One recv() usually brings many small PDUs, which are parsed out of the staging buffer (small
 * data segments are copied from it to where the core wants them). When a data segment's
 * remainder has not arrived yet, the next readv() puts it straight into its destination (a
 * task's buffer for Data-Out and immediate data) and whatever follows into the staging buffer:
 * large writes are copied once, by the kernel.
 *
 * Each state consumes what the staging buffer holds and moves on; the parser stops when the
 * buffer is empty, and the states that need nothing from it (HEADER, DELIVER) call the core.
 * The core may shut the connection down from any call: the parser checks after each one.
 */
#include "xport/tcp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "base/log.h"
#include "iscsi/digest.h"

enum rx_result {
	RX_MORE,   /* the staging buffer is empty: read the socket */
	RX_YIELD,  /* budget spent: continue from deferred work */
	RX_HALT,   /* the connection is down, or reading stopped */
};

struct rx_budget {
	unsigned pdus;
	uint32_t bytes;
};

static void rx_work_fn(struct tt_work *w)
{
	struct tt_tcp_conn *tc = tt_container_of(w, struct tt_tcp_conn, rx_work);

	if (tc->state == TT_TCP_CONN_RUNNING)
		tt_tcp_rx_run(tc);
}

void tt_tcp_rx_init(struct tt_tcp_conn *tc, struct tt_loop *loop)
{
	tc->rx_st = TT_TCP_RX_BHS;
	tc->rpos = tc->rend = 0;
	tc->rx_pdu = NULL;
	tc->rx_done = 0;
	tt_work_init(&tc->rx_work, loop, rx_work_fn);
}

void tt_tcp_rx_drop(struct tt_tcp_conn *tc)
{
	tt_pdu_free(tc->rx_pdu);
	tc->rx_pdu = NULL;
}

static unsigned long long rx_id(const struct tt_tcp_conn *tc)
{
	return (unsigned long long)tc->conn.id;
}

/* Moves up to @want bytes of the staging buffer to @dst (NULL: dropped), adding them to the
 * data digest when @crc. Returns how many. */
static uint32_t rx_take(struct tt_tcp_conn *tc, uint8_t *dst, uint32_t want, bool crc)
{
	uint32_t n = tc->rend - tc->rpos;
	const uint8_t *src = tc->rbuf + tc->rpos;

	if (n > want)
		n = want;
	if (n == 0)
		return 0;
	if (crc)
		tc->rx_crc = tt_crc32c_update(tc->rx_crc, src, n);
	if (dst)
		memcpy(dst, src, n);
	tc->rpos += n;
	return n;
}

/* A section of fixed length (BHS, AHS, padding, digest): true once complete. */
static bool rx_section(struct tt_tcp_conn *tc, uint8_t *dst, uint32_t len, bool crc)
{
	tc->rx_done += rx_take(tc, dst ? dst + tc->rx_done : NULL, len - tc->rx_done, crc);
	if (tc->rx_done < len)
		return false;
	tc->rx_done = 0;
	return true;
}

/* Bytes of the data segment that have a destination; the rest is read and dropped (the core
 * left pdu->data NULL, or, defensively, gave less room than the BHS announces). */
static uint32_t rx_data_room(const struct tt_tcp_conn *tc)
{
	const struct tt_pdu *pdu = tc->rx_pdu;

	if (!pdu->data)
		return 0;
	return pdu->data_len < tc->rx_dlen ? pdu->data_len : tc->rx_dlen;
}

static bool rx_data(struct tt_tcp_conn *tc)
{
	uint32_t room = rx_data_room(tc);

	if (tc->rx_done < room)
		tc->rx_done += rx_take(tc, tc->rx_pdu->data + tc->rx_done, room - tc->rx_done,
				       tc->rx_ddig);
	if (tc->rx_done >= room)
		tc->rx_done += rx_take(tc, NULL, tc->rx_dlen - tc->rx_done, tc->rx_ddig);
	if (tc->rx_done < tc->rx_dlen)
		return false;
	tc->rx_done = 0;
	return true;
}

static enum tt_tcp_rx_state rx_after_data(const struct tt_tcp_conn *tc)
{
	if (tt_pad4(tc->rx_dlen))
		return TT_TCP_RX_PAD;
	return tc->rx_ddig ? TT_TCP_RX_DDIG : TT_TCP_RX_DELIVER;
}

static bool rx_header_digest_ok(const struct tt_tcp_conn *tc)
{
	const struct tt_pdu *pdu = tc->rx_pdu;
	uint32_t crc = tt_crc32c_update(tt_crc32c_init(), pdu->raw, TT_BHS_LEN);

	if (pdu->ahs_len)
		crc = tt_crc32c_update(crc, pdu->ahs, pdu->ahs_len);
	return tt_crc32c_final(crc) == tt_crc32c_get(tc->rx_digest);
}

static enum rx_result rx_parse(struct tt_tcp_conn *tc, struct rx_budget *b)
{
	enum tt_tcp_rx_state prev;
	struct tt_pdu *pdu;
	bool ok;
	int rc;

	do {
		prev = tc->rx_st;
		switch (tc->rx_st) {
		case TT_TCP_RX_BHS:
			if (!tc->rx_pdu) {
				if (tc->rpos == tc->rend)
					break;
				tc->rx_pdu = tt_pdu_alloc();
				if (!tc->rx_pdu) {
					tt_tcp_conn_down(tc, -ENOMEM, "receive");
					return RX_HALT;
				}
			}
			pdu = tc->rx_pdu;
			if (!rx_section(tc, pdu->raw, TT_BHS_LEN, false))
				break;
			/* digests apply per PDU, as they were when it started */
			tc->rx_hdig = tc->hdig;
			tc->rx_ddig = tc->ddig;
			tc->rx_dlen = tt_bhs_dlength(&pdu->bhs);
			pdu->ahs_len = pdu->bhs.ahs_len * 4u;
			if (pdu->ahs_len) {
				pdu->ahs = malloc(pdu->ahs_len);
				if (!pdu->ahs) {
					pdu->ahs_len = 0;
					tt_tcp_conn_down(tc, -ENOMEM, "receive");
					return RX_HALT;
				}
				tc->rx_st = TT_TCP_RX_AHS;
			} else {
				tc->rx_st = tc->rx_hdig ? TT_TCP_RX_HDIG : TT_TCP_RX_HEADER;
			}
			break;

		case TT_TCP_RX_AHS:
			pdu = tc->rx_pdu;
			if (!rx_section(tc, pdu->ahs, pdu->ahs_len, false))
				break;
			tc->rx_st = tc->rx_hdig ? TT_TCP_RX_HDIG : TT_TCP_RX_HEADER;
			break;

		case TT_TCP_RX_HDIG:
			if (!rx_section(tc, tc->rx_digest, TT_DIGEST_LEN, false))
				break;
			if (!rx_header_digest_ok(tc)) {
				/* the lengths cannot be trusted: read nothing more */
				tt_log_ratelimited(TT_LOG_NOTICE, "tcp", "conn %llu %s: header digest error",
						   rx_id(tc), tc->conn.peer);
				tc->rx_st = TT_TCP_RX_STOPPED;
				tt_tcp_rx_drop(tc);
				tt_tcp_conn_update_events(tc);
				tc->conn.core->rx_header_digest_error(&tc->conn);
				return RX_HALT;
			}
			tc->rx_st = TT_TCP_RX_HEADER;
			break;

		case TT_TCP_RX_HEADER:
			rc = tc->conn.core->rx_header(&tc->conn, tc->rx_pdu);
			if (tc->state != TT_TCP_CONN_RUNNING)
				return RX_HALT;
			if (rc < 0) {
				/* the core has said why */
				tt_tcp_conn_down(tc, rc, NULL);
				return RX_HALT;
			}
			tc->rx_crc = tt_crc32c_init();
			tc->rx_st = tc->rx_dlen ? TT_TCP_RX_DATA : TT_TCP_RX_DELIVER;
			break;

		case TT_TCP_RX_DATA:
			if (!rx_data(tc))
				break;
			tc->rx_st = rx_after_data(tc);
			break;

		case TT_TCP_RX_PAD:
			/* the padding is covered by the data digest */
			if (!rx_section(tc, NULL, tt_pad4(tc->rx_dlen), tc->rx_ddig))
				break;
			tc->rx_st = tc->rx_ddig ? TT_TCP_RX_DDIG : TT_TCP_RX_DELIVER;
			break;

		case TT_TCP_RX_DDIG:
			if (!rx_section(tc, tc->rx_digest, TT_DIGEST_LEN, false))
				break;
			tc->rx_st = TT_TCP_RX_DELIVER;
			break;

		case TT_TCP_RX_DELIVER:
			pdu = tc->rx_pdu;
			tc->rx_pdu = NULL;
			tc->rx_st = TT_TCP_RX_BHS;
			ok = !(tc->rx_ddig && tc->rx_dlen) ||
			     tt_crc32c_final(tc->rx_crc) == tt_crc32c_get(tc->rx_digest);
			if (!ok)
				tt_log_ratelimited(TT_LOG_NOTICE, "tcp", "conn %llu %s: data digest error (%s)",
						   rx_id(tc), tc->conn.peer,
						   tt_opcode_name(tt_bhs_opcode(&pdu->bhs)));
			/* the PDU is the core's from here on */
			tc->conn.core->rx_pdu(&tc->conn, pdu, ok);
			if (tc->state != TT_TCP_CONN_RUNNING)
				return RX_HALT;
			if (++b->pdus >= TT_TCP_RX_BUDGET_PDUS)
				return RX_YIELD;
			break;

		case TT_TCP_RX_STOPPED:
			return RX_HALT;
		}
	} while (tc->rx_st != prev);
	return RX_MORE;
}

/*
 * Reads what the socket has into the staging buffer (which the parser has emptied), and in
 * the data state into the data segment's destination first. Returns the bytes read, 0 when
 * there is nothing to read, or a negative errno once the connection has been taken down.
 * *drained tells that the socket had less than was asked for: the next read would find
 * nothing, and the (level-triggered) watch reports anything that arrives later.
 */
static int rx_recv(struct tt_tcp_conn *tc, bool *drained)
{
	struct iovec iov[2];
	uint32_t direct = 0, room;
	int n = 0, rc;
	ssize_t r;

	tc->rpos = tc->rend = 0;
	if (tc->rx_st == TT_TCP_RX_DATA) {
		room = rx_data_room(tc);
		if (tc->rx_done < room) {
			direct = room - tc->rx_done;
			iov[n].iov_base = tc->rx_pdu->data + tc->rx_done;
			iov[n].iov_len = direct;
			n++;
		}
	}
	iov[n].iov_base = tc->rbuf;
	iov[n].iov_len = TT_TCP_RX_BUF_LEN;
	n++;

	do
		r = readv(tc->fd, iov, n);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		rc = -errno;
		tt_tcp_conn_down(tc, rc, "recv");
		return rc;
	}
	if (r == 0) {
		if (tc->rx_st == TT_TCP_RX_BHS && !tc->rx_pdu) {
			tt_info("tcp", "conn %llu %s: closed by the peer", rx_id(tc), tc->conn.peer);
			/* a peer that only half-closed still gets the answers already queued */
			tt_tcp_tx_flush(tc);
			tt_tcp_conn_down(tc, 0, NULL);
		} else {
			tt_tcp_conn_down(tc, -ECONNRESET, "closed by the peer inside a PDU");
		}
		return -ECONNRESET;
	}
	*drained = (size_t)r < direct + TT_TCP_RX_BUF_LEN;
	if (direct) {
		uint32_t d = (size_t)r < direct ? (uint32_t)r : direct;

		if (tc->rx_ddig)
			tc->rx_crc = tt_crc32c_update(tc->rx_crc, tc->rx_pdu->data + tc->rx_done, d);
		tc->rx_done += d;
		tc->rend = (uint32_t)r - d;
	} else {
		tc->rend = (uint32_t)r;
	}
	return (int)r;
}

void tt_tcp_rx_run(struct tt_tcp_conn *tc)
{
	struct rx_budget b = { 0, 0 };
	bool drained = false;
	enum rx_result res;
	int rc;

	for (;;) {
		res = rx_parse(tc, &b);
		if (res == RX_HALT || (res == RX_MORE && drained))
			return;
		if (res == RX_YIELD || b.bytes >= TT_TCP_RX_BUDGET_BYTES) {
			/* let the loop's other connections run; tcp_conn_ready leaves the socket to
			 * this work meanwhile */
			tt_work_queue(&tc->rx_work);
			return;
		}
		rc = rx_recv(tc, &drained);
		if (rc <= 0)
			return;
		b.bytes += (uint32_t)rc;
	}
}
