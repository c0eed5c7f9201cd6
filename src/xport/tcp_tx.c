/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sending PDUs over TCP. queue_pdu computes the digests (with the settings in force at that
 * moment) and appends the PDU to the connection's send queue; the queue is written by deferred
 * work that runs once per loop pass, so that every PDU produced while handling one batch of
 * input or completions goes out in one sendmsg() with many iovecs (at most IOV_MAX).
 *
 * On the wire: BHS, AHS, header digest (CRC32C of BHS + AHS), data segment, zero padding to a
 * multiple of 4, data digest (CRC32C of data + padding, only when the segment is not empty).
 *
 * A PDU is finished when its last byte has been taken by the socket: then it is freed with
 * tt_pdu_free(), which runs its sent hook. PDUs dropped by a shutdown are freed the same way (the
 * hook runs too: it means "finished with", not "delivered").
 */
#include "xport/tcp.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "base/log.h"
#include "iscsi/digest.h"

#define TX_PDU_IOVS 6 /* BHS, AHS, header digest, data, padding, data digest */
#define TX_MAX_AHS (255u * 4)
#define TX_MAX_DATA 0xffffffu

static void tx_work_fn(struct tt_work *w)
{
	struct tt_tcp_conn *tc = tt_container_of(w, struct tt_tcp_conn, tx_work);

	if (tc->state == TT_TCP_CONN_RUNNING)
		tt_tcp_tx_flush(tc);
}

void tt_tcp_tx_init(struct tt_tcp_conn *tc, struct tt_loop *loop)
{
	tt_list_init(&tc->txq);
	tt_work_init(&tc->tx_work, loop, tx_work_fn);
	tc->tx_blocked = false;
}

void tt_tcp_tx_drop(struct tt_tcp_conn *tc)
{
	struct tt_list *n;

	while ((n = tt_list_pop(&tc->txq)))
		tt_pdu_free(tt_list_entry(n, struct tt_pdu, node));
}

/*
 * Never fails as seen by the caller: the PDU is always the transport's once this is called.
 * On a connection already shut down it is freed at once.
 */
int tt_tcp_queue_pdu(struct tt_xconn *conn, struct tt_pdu *pdu)
{
	struct tt_tcp_conn *tc = tt_tcp_conn_of(conn);
	uint32_t flags = 0, crc;

	if (tc->state != TT_TCP_CONN_ACCEPTED && tc->state != TT_TCP_CONN_RUNNING) {
		tt_pdu_free(pdu);
		return 0;
	}
	if (pdu->ahs_len % 4 || pdu->ahs_len > TX_MAX_AHS || pdu->data_len > TX_MAX_DATA ||
	    (pdu->data_len && !pdu->data)) {
		tt_err("tcp", "conn %llu %s: cannot send %s PDU with AHS %u, data %u%s",
		       (unsigned long long)conn->id, conn->peer, tt_opcode_name(tt_bhs_opcode(&pdu->bhs)),
		       pdu->ahs_len, pdu->data_len, pdu->data ? "" : " (no buffer)");
		tt_pdu_free(pdu);
		tt_tcp_conn_down(tc, -EINVAL, NULL);
		return 0;
	}
	/* the lengths on the wire are what is sent */
	pdu->bhs.ahs_len = (uint8_t)(pdu->ahs_len / 4);
	tt_bhs_set_dlength(&pdu->bhs, pdu->data_len);
	if (tc->hdig) {
		crc = tt_crc32c_update(tt_crc32c_init(), pdu->raw, TT_BHS_LEN);
		if (pdu->ahs_len)
			crc = tt_crc32c_update(crc, pdu->ahs, pdu->ahs_len);
		tt_crc32c_put(pdu->hdr_digest, tt_crc32c_final(crc));
		flags |= TT_TCP_TX_HDIG;
	}
	if (tc->ddig && pdu->data_len) {
		crc = tt_crc32c_update(tt_crc32c_init(), pdu->data, pdu->data_len);
		crc = tt_crc32c_update_zeros(crc, tt_pad4(pdu->data_len));
		tt_crc32c_put(pdu->data_digest, tt_crc32c_final(crc));
		flags |= TT_TCP_TX_DDIG;
	}
	pdu->xmit_done = flags;
	tt_list_add_tail(&tc->txq, &pdu->node);
	if (tc->state == TT_TCP_CONN_RUNNING && !tc->tx_blocked)
		tt_work_queue(&tc->tx_work);
	return 0;
}

static uint32_t tx_wire_len(const struct tt_pdu *pdu)
{
	return tt_pdu_wire_len(pdu, pdu->xmit_done & TT_TCP_TX_HDIG, pdu->xmit_done & TT_TCP_TX_DDIG);
}

/* Fills @iov with what is left to write of @pdu; returns how many iovecs (at most TX_PDU_IOVS). */
static int tx_pdu_iov(struct tt_pdu *pdu, struct iovec *iov)
{
	static const uint8_t zeros[4];
	struct iovec seg[TX_PDU_IOVS];
	uint32_t skip = pdu->xmit_done & TT_TCP_TX_DONE_MASK;
	int nseg = 0, n = 0;

	seg[nseg++] = (struct iovec){ pdu->raw, TT_BHS_LEN };
	if (pdu->ahs_len)
		seg[nseg++] = (struct iovec){ pdu->ahs, pdu->ahs_len };
	if (pdu->xmit_done & TT_TCP_TX_HDIG)
		seg[nseg++] = (struct iovec){ pdu->hdr_digest, TT_DIGEST_LEN };
	if (pdu->data_len) {
		seg[nseg++] = (struct iovec){ pdu->data, pdu->data_len };
		if (tt_pad4(pdu->data_len))
			seg[nseg++] = (struct iovec){ (void *)zeros, tt_pad4(pdu->data_len) };
		if (pdu->xmit_done & TT_TCP_TX_DDIG)
			seg[nseg++] = (struct iovec){ pdu->data_digest, TT_DIGEST_LEN };
	}
	for (int i = 0; i < nseg; i++) {
		if (skip >= seg[i].iov_len) {
			skip -= (uint32_t)seg[i].iov_len;
			continue;
		}
		iov[n].iov_base = (uint8_t *)seg[i].iov_base + skip;
		iov[n].iov_len = seg[i].iov_len - skip;
		skip = 0;
		n++;
	}
	return n;
}

/* Accounts @n written bytes: finished PDUs move from the send queue to @done. */
static void tx_advance(struct tt_tcp_conn *tc, size_t n, struct tt_list *done)
{
	while (n > 0) {
		struct tt_pdu *pdu = tt_list_first(&tc->txq, struct tt_pdu, node);
		uint32_t written, left;

		if (!pdu) /* never: the socket took at most what was offered */
			return;
		written = pdu->xmit_done & TT_TCP_TX_DONE_MASK;
		left = tx_wire_len(pdu) - written;
		if (n < left) {
			pdu->xmit_done += (uint32_t)n;
			return;
		}
		n -= left;
		tt_list_del(&pdu->node);
		tt_list_add_tail(done, &pdu->node);
	}
}

static void tx_complete(struct tt_list *done)
{
	struct tt_list *n;

	while ((n = tt_list_pop(done))) {
		/* tt_pdu_free runs the PDU's sent hook */
		tt_pdu_free(tt_list_entry(n, struct tt_pdu, node));
	}
}

void tt_tcp_tx_flush(struct tt_tcp_conn *tc)
{
	struct iovec iov[IOV_MAX];
	struct tt_list done;
	unsigned calls = 0;
	int rc;

	tt_list_init(&done);
	tc->tx_blocked = false;
	while (tc->state == TT_TCP_CONN_RUNNING && !tt_list_empty(&tc->txq)) {
		struct msghdr msg = { .msg_iov = iov };
		struct tt_list *pos;
		size_t total = 0;
		ssize_t r;
		int n = 0;

		if (calls++ == TT_TCP_TX_BUDGET_CALLS) {
			/* more next pass: the loop's other connections run meanwhile */
			tt_work_queue(&tc->tx_work);
			break;
		}
		tt_list_for_each(pos, &tc->txq) {
			struct tt_pdu *pdu = tt_list_entry(pos, struct tt_pdu, node);

			if (n + TX_PDU_IOVS > IOV_MAX)
				break;
			n += tx_pdu_iov(pdu, iov + n);
			total += tx_wire_len(pdu) - (pdu->xmit_done & TT_TCP_TX_DONE_MASK);
		}
		msg.msg_iovlen = (size_t)n;
		r = sendmsg(tc->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				tc->tx_blocked = true;
				break;
			}
			rc = -errno;
			tt_tcp_conn_down(tc, rc, "send");
			break;
		}
		tx_advance(tc, (size_t)r, &done);
		if ((size_t)r < total) {
			/* the socket buffer is full */
			tc->tx_blocked = true;
			break;
		}
	}
	tt_tcp_conn_update_events(tc);
	/* what was written is finished even if the connection went down since */
	tx_complete(&done);
}
