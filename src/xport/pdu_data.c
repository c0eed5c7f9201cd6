/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Data movement for transports whose data travels in iSCSI PDUs (TCP): a read's data goes out as
 * Data-In PDUs cut from the task's buffer (MaxRecvDataSegmentLength of the initiator, sequences
 * of at most MaxBurstLength, the status in the last PDU when it can ride there); a write's
 * missing data is solicited with R2Ts, at most MaxOutstandingR2T at a time, and arrives as
 * Data-Out PDUs that the core places.
 */
#include "xport/xport.h"

#include <errno.h>

#define DEFAULT_MAX_XMIT_DSL 8192u      /* RFC 7143 default MaxRecvDataSegmentLength */
#define DEFAULT_MAX_BURST 262144u

int tt_xport_pdu_data_in(struct tt_xconn *conn, struct tt_xtask *t, const struct tt_xport_params *p)
{
	const struct tt_xport_core *core = conn->core;
	uint32_t len = t->data_in_len, off = 0, seq = 0;
	uint32_t max = p->max_xmit_dsl ? p->max_xmit_dsl : DEFAULT_MAX_XMIT_DSL;
	uint32_t burst = p->max_burst ? p->max_burst : DEFAULT_MAX_BURST;
	bool collapse = t->status_collapsible;
	int rc;

	while (off < len) {
		uint32_t n = len - off;
		bool last, seq_end;
		struct tt_pdu *pdu;

		if (n > max)
			n = max;
		if (n > burst - seq)
			n = burst - seq;
		last = off + n == len;
		seq += n;
		seq_end = last || seq == burst;
		if (seq_end)
			seq = 0;
		pdu = core->build_data_in(t, off, n, seq_end, last && collapse);
		if (!pdu)
			return -ENOMEM;
		rc = core->send(conn, pdu);
		if (rc < 0)
			return rc;
		off += n;
	}
	core->data_in_queued(t, collapse && len > 0);
	return 0;
}

int tt_xport_pdu_r2ts(struct tt_xconn *conn, struct tt_xtask *t, const struct tt_xport_params *p)
{
	const struct tt_xport_core *core = conn->core;
	uint32_t max_out = p->max_outstanding_r2t ? p->max_outstanding_r2t : 1;
	uint32_t burst = p->max_burst ? p->max_burst : DEFAULT_MAX_BURST;
	int rc;

	while (t->r2t_outstanding < max_out && t->r2t_offset < t->edtl) {
		uint32_t n = t->edtl - t->r2t_offset;
		struct tt_pdu *pdu;

		if (n > burst)
			n = burst;
		pdu = core->build_r2t(t, t->r2t_offset, n);
		if (!pdu)
			return -ENOMEM;
		t->r2t_offset += n;
		t->r2t_outstanding++;
		rc = core->send(conn, pdu);
		if (rc < 0)
			return rc;
	}
	return 0;
}
