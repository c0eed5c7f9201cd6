/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SCSI commands on a path's connection (RFC 7143 §11.3-11.8): the SCSI Command PDU with
 * immediate data, unsolicited Data-Out up to FirstBurstLength when InitialR2T=No, Data-Out on
 * R2T, Data-In (with status when the target collapses it), SCSI Response with sense data,
 * task management requests, and the NOP exchange in both directions.
 */
#include "initiator/initiator.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"

/* The iovec pieces of [off, off+len) of @iov; *out is @small or allocated (caller frees it
 * when it differs). Returns the count or -ENOMEM. */
static int iov_slice(const struct iovec *iov, int cnt, size_t off, size_t len,
		     struct iovec *small, int nsmall, struct iovec **out)
{
	struct iovec *v = small;
	int n = 0, cap = nsmall;

	*out = small;
	for (int i = 0; i < cnt && len > 0; i++) {
		size_t l = iov[i].iov_len;

		if (off >= l) {
			off -= l;
			continue;
		}
		if (n == cap) {
			struct iovec *nv = malloc(sizeof(*nv) * (size_t)cnt);

			if (!nv) {
				if (v != small)
					free(v);
				return -ENOMEM;
			}
			memcpy(nv, v, sizeof(*nv) * (size_t)n);
			if (v != small)
				free(v);
			v = nv;
			cap = cnt;
		}
		v[n].iov_base = (uint8_t *)iov[i].iov_base + off;
		v[n].iov_len = l - off < len ? l - off : len;
		len -= v[n].iov_len;
		off = 0;
		n++;
	}
	*out = v;
	return n;
}

static uint32_t next_itt(struct ti_conn *c)
{
	uint32_t itt = c->next_itt++;

	if (itt == 0 || itt == TT_RSVD_TAG)
		itt = c->next_itt++;
	return itt;
}

/* Data-Out PDUs covering [off, off+len) of @r, answering TTT @ttt. */
static int send_data_out(struct ti_path *p, struct ti_req *r, uint32_t ttt, uint32_t off,
			 uint32_t len)
{
	struct ti_conn *c = &p->conn;
	uint32_t max = c->params.max_xmit_dsl ? c->params.max_xmit_dsl : 8192, sn = 0;

	while (len > 0) {
		uint8_t bhs[TT_BHS_LEN] = { 0 };
		struct tt_bhs_data_out *d = (struct tt_bhs_data_out *)bhs;
		uint32_t n = len < max ? len : max;
		struct iovec small[8], *v;
		int cnt, rc;

		d->opcode = TT_OP_DATA_OUT;
		d->flags = n == len ? TT_FLAG_FINAL : 0;
		tt_lun_to_wire(p->url.lun, d->lun);
		tt_put_be32(d->itt, r->itt);
		tt_put_be32(d->ttt, ttt);
		tt_put_be32(d->datasn, sn++);
		tt_put_be32(d->offset, off);
		cnt = iov_slice(r->iov, r->iovcnt, off, n, small, 8, &v);
		if (cnt < 0)
			return cnt;
		rc = ti_conn_send(c, bhs, v, cnt, n, NULL);
		if (v != small)
			free(v);
		if (rc)
			return rc;
		off += n;
		len -= n;
	}
	return 0;
}

static int send_tmf(struct ti_path *p, struct ti_req *r)
{
	uint8_t bhs[TT_BHS_LEN] = { 0 };
	struct tt_bhs_tmf_req *t = (struct tt_bhs_tmf_req *)bhs;

	t->opcode = TT_OP_TMF_REQ | TT_OP_IMMEDIATE;
	t->flags = (uint8_t)(TT_FLAG_FINAL | r->tmf_fn);
	tt_lun_to_wire(p->url.lun, t->lun);
	tt_put_be32(t->itt, r->itt);
	tt_put_be32(t->rtt, TT_RSVD_TAG);
	tt_put_be32(t->cmdsn, p->conn.cmdsn);
	tt_put_be32(t->refcmdsn, p->conn.cmdsn);
	return ti_conn_send(&p->conn, bhs, NULL, 0, 0, NULL);
}

int ti_req_send(struct ti_path *p, struct ti_req *r)
{
	struct ti_conn *c = &p->conn;
	uint8_t bhs[TT_BHS_LEN] = { 0 };
	struct tt_bhs_scsi_cmd *h = (struct tt_bhs_scsi_cmd *)bhs;
	uint32_t imm = 0, unsol = 0;
	struct iovec small[8], *v = small;
	int cnt = 0, rc;

	r->itt = next_itt(c);
	r->path = p;
	r->where = TI_REQ_INFLIGHT;
	r->sent_ns = tt_now_ns();
	r->on_wire = true;
	r->sent_to = 0;
	r->recvd = 0;
	r->status = 0;
	r->sense_len = 0;
	r->resid = 0;
	tt_list_add_tail(&p->tasks, &r->node);
	p->inflight++;
	if (r->tmf)
		return send_tmf(p, r);

	h->opcode = TT_OP_SCSI_CMD;
	h->flags = TT_FLAG_FINAL | 1 /* SIMPLE */;
	if (r->dir == TETHER_DIR_READ && r->len)
		h->flags |= TT_CMD_READ;
	tt_lun_to_wire(p->url.lun, h->lun);
	tt_put_be32(h->itt, r->itt);
	tt_put_be32(h->edtl, r->len);
	tt_put_be32(h->cmdsn, c->cmdsn++);
	memcpy(h->cdb, r->cdb, r->cdb_len);
	if (r->dir == TETHER_DIR_WRITE && r->len) {
		uint32_t fb = c->params.first_burst, max = c->params.max_xmit_dsl;

		h->flags |= TT_CMD_WRITE;
		if (c->params.immediate_data) {
			imm = r->len < fb ? r->len : fb;
			if (imm > max)
				imm = max;
		}
		unsol = c->params.initial_r2t ? imm : (r->len < fb ? r->len : fb);
		if (unsol > imm)
			h->flags &= (uint8_t)~TT_FLAG_FINAL;   /* Data-Out PDUs follow */
		if (imm) {
			cnt = iov_slice(r->iov, r->iovcnt, 0, imm, small, 8, &v);
			if (cnt < 0)
				return cnt;
		}
	}
	rc = ti_conn_send(c, bhs, imm ? v : NULL, imm ? cnt : 0, imm, NULL);
	if (v != small)
		free(v);
	if (rc)
		return rc;
	r->sent_to = unsol;
	if (unsol > imm)
		return send_data_out(p, r, TT_RSVD_TAG, imm, unsol - imm);
	return 0;
}

static struct ti_req *find_task(struct ti_path *p, uint32_t itt)
{
	struct tt_list *pos;

	tt_list_for_each(pos, &p->tasks) {
		struct ti_req *r = tt_list_entry(pos, struct ti_req, node);

		if (r->itt == itt)
			return r;
	}
	return NULL;
}

static void take_statsn(struct ti_conn *c, const uint8_t *statsn)
{
	uint32_t sn = tt_get_be32(statsn);

	if (tt_sn_le(c->expstatsn, sn))
		c->expstatsn = sn + 1;
}

/* Copies Data-In into the request's buffers. */
static int copy_in(struct ti_req *r, uint32_t off, const uint8_t *data, uint32_t len)
{
	if ((uint64_t)off + len > r->len)
		return -EPROTO;
	for (int i = 0; i < r->iovcnt && len > 0; i++) {
		size_t l = r->iov[i].iov_len, n;

		if (off >= l) {
			off -= (uint32_t)l;
			continue;
		}
		n = l - off < len ? l - off : len;
		memcpy((uint8_t *)r->iov[i].iov_base + off, data, n);
		data += n;
		len -= (uint32_t)n;
		off = 0;
	}
	return len ? -EPROTO : 0;
}

static int rx_data_in(struct ti_path *p, const struct ti_pdu_in *in)
{
	const struct tt_bhs_data_in *d = (const void *)in->raw;
	struct ti_req *r = find_task(p, tt_get_be32(d->itt));
	int rc;

	if (!r) {
		/* a command given up on (aborted by a LU reset and sent again): the target may
		 * still finish it; what it says is of no use any more */
		if (d->flags & TT_DATAIN_STATUS)
			take_statsn(&p->conn, d->statsn);
		ti_conn_update_window(&p->conn, d->expcmdsn, d->maxcmdsn);
		return 0;
	}
	if (r->dir != TETHER_DIR_READ)
		return -EPROTO;
	rc = copy_in(r, tt_get_be32(d->offset), in->data, in->dlen);
	if (rc)
		return rc;
	r->recvd += in->dlen;
	if (d->flags & TT_DATAIN_STATUS) {
		take_statsn(&p->conn, d->statsn);
		ti_conn_update_window(&p->conn, d->expcmdsn, d->maxcmdsn);
		r->status = d->status;
		r->resid = (d->flags & TT_RSP_UNDERFLOW) ? tt_get_be32(d->residual) : 0;
		ti_path_cmd_done(p, r);
	} else {
		ti_conn_update_window(&p->conn, d->expcmdsn, d->maxcmdsn);
	}
	return 0;
}

static int rx_rsp(struct ti_path *p, const struct ti_pdu_in *in)
{
	const struct tt_bhs_scsi_rsp *s = (const void *)in->raw;
	struct ti_req *r = find_task(p, tt_get_be32(s->itt));

	take_statsn(&p->conn, s->statsn);
	ti_conn_update_window(&p->conn, s->expcmdsn, s->maxcmdsn);
	if (!r)
		return 0;   /* given up on (see rx_data_in) */
	if (s->response != 0) {
		/* target failure: the command did not complete; it is retried (non-modifying)
		 * or fenced with the path */
		return -EREMOTEIO;
	}
	r->status = s->status;
	r->resid = (s->flags & TT_RSP_UNDERFLOW) ? tt_get_be32(s->residual) : 0;
	if (in->dlen >= 2) {
		uint32_t sl = tt_get_be16(in->data);

		if (sl > in->dlen - 2)
			sl = in->dlen - 2;
		if (sl > sizeof(r->sense))
			sl = sizeof(r->sense);
		memcpy(r->sense, in->data + 2, sl);
		r->sense_len = sl;
	}
	ti_path_cmd_done(p, r);
	return 0;
}

static int rx_r2t(struct ti_path *p, const struct ti_pdu_in *in)
{
	const struct tt_bhs_r2t *t = (const void *)in->raw;
	struct ti_req *r = find_task(p, tt_get_be32(t->itt));
	uint32_t off = tt_get_be32(t->offset), len = tt_get_be32(t->desired_len);

	ti_conn_update_window(&p->conn, t->expcmdsn, t->maxcmdsn);
	if (!r)
		return 0;   /* given up on (see rx_data_in) */
	if (r->dir != TETHER_DIR_WRITE || (uint64_t)off + len > r->len || !len)
		return -EPROTO;
	if (off + len > r->sent_to)
		r->sent_to = off + len;
	return send_data_out(p, r, tt_get_be32(t->ttt), off, len);
}

static int rx_nop_in(struct ti_path *p, const struct ti_pdu_in *in)
{
	const struct tt_bhs_nop_in *n = (const void *)in->raw;
	uint32_t itt = tt_get_be32(n->itt), ttt = tt_get_be32(n->ttt);

	ti_conn_update_window(&p->conn, n->expcmdsn, n->maxcmdsn);
	if (itt != TT_RSVD_TAG) {
		take_statsn(&p->conn, n->statsn);
		if (itt == p->nop_itt)
			p->nop_itt = 0;
		return 0;
	}
	if (ttt != TT_RSVD_TAG) {
		/* the target pings us: answer with its TTT (and its data echoed) */
		uint8_t bhs[TT_BHS_LEN] = { 0 };
		struct tt_bhs_nop_out *o = (struct tt_bhs_nop_out *)bhs;
		uint8_t *copy = NULL;
		struct iovec v;

		o->opcode = TT_OP_NOP_OUT | TT_OP_IMMEDIATE;
		o->flags = TT_FLAG_FINAL;
		memcpy(o->lun, n->lun, 8);
		tt_put_be32(o->itt, TT_RSVD_TAG);
		tt_put_be32(o->ttt, ttt);
		tt_put_be32(o->cmdsn, p->conn.cmdsn);
		if (in->dlen) {
			copy = malloc(in->dlen);
			if (!copy)
				return -ENOMEM;
			memcpy(copy, in->data, in->dlen);
			v.iov_base = copy;
			v.iov_len = in->dlen;
		}
		return ti_conn_send(&p->conn, bhs, in->dlen ? &v : NULL, in->dlen ? 1 : 0,
				    in->dlen, copy);
	}
	return 0;
}

static int rx_tmf(struct ti_path *p, const struct ti_pdu_in *in)
{
	const struct tt_bhs_tmf_rsp *t = (const void *)in->raw;
	struct ti_req *r = find_task(p, tt_get_be32(t->itt));

	take_statsn(&p->conn, t->statsn);
	ti_conn_update_window(&p->conn, t->expcmdsn, t->maxcmdsn);
	if (!r || !r->tmf)
		return -EPROTO;
	r->status = t->response;
	ti_path_cmd_done(p, r);
	return 0;
}

int ti_path_rx_cmd(struct ti_path *p, const struct ti_pdu_in *in)
{
	switch (in->raw[0] & TT_OP_MASK) {
	case TT_OP_DATA_IN:
		return rx_data_in(p, in);
	case TT_OP_SCSI_RSP:
		return rx_rsp(p, in);
	case TT_OP_R2T:
		return rx_r2t(p, in);
	case TT_OP_NOP_IN:
		return rx_nop_in(p, in);
	case TT_OP_TMF_RSP:
		return rx_tmf(p, in);
	}
	return -EPROTO;
}

int ti_path_send_nop(struct ti_path *p)
{
	uint8_t bhs[TT_BHS_LEN] = { 0 };
	struct tt_bhs_nop_out *o = (struct tt_bhs_nop_out *)bhs;

	o->opcode = TT_OP_NOP_OUT | TT_OP_IMMEDIATE;
	o->flags = TT_FLAG_FINAL;
	p->nop_itt = next_itt(&p->conn);
	tt_put_be32(o->itt, p->nop_itt);
	tt_put_be32(o->ttt, TT_RSVD_TAG);
	tt_put_be32(o->cmdsn, p->conn.cmdsn);
	p->nop_sent_ns = tt_now_ns();
	return ti_conn_send(&p->conn, bhs, NULL, 0, 0, NULL);
}

int ti_path_send_logout(struct ti_conn *c)
{
	uint8_t bhs[TT_BHS_LEN] = { 0 };
	struct tt_bhs_logout_req *l = (struct tt_bhs_logout_req *)bhs;

	l->opcode = TT_OP_LOGOUT_REQ | TT_OP_IMMEDIATE;
	l->flags = TT_FLAG_FINAL | TT_LOGOUT_CLOSE_SESSION;
	tt_put_be32(l->itt, next_itt(c));
	tt_put_be32(l->cmdsn, c->cmdsn);
	return ti_conn_send(c, bhs, NULL, 0, 0, NULL);
}
