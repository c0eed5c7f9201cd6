/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SRP information units: parsing and encoding (see iu.h). Offsets are those of SRP r16a and of
 * the SRP-2 immediate data descriptor; tags are opaque 8-byte values, copied as they are.
 */
#include "srp/iu.h"

#include <errno.h>
#include <string.h>

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) << 32 | get32(p + 4); }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}
static uint64_t get_tag(const uint8_t *p)
{
	uint64_t t;

	memcpy(&t, p, sizeof(t));
	return t;
}
static void put_tag(uint8_t *p, uint64_t t) { memcpy(p, &t, sizeof(t)); }

int tt_srp_iu_type(const void *iu, size_t len)
{
	return len < 1 ? -EBADMSG : ((const uint8_t *)iu)[0];
}

const char *tt_srp_iu_name(int type)
{
	switch (type) {
	case TT_SRP_LOGIN_REQ: return "SRP_LOGIN_REQ";
	case TT_SRP_TSK_MGMT: return "SRP_TSK_MGMT";
	case TT_SRP_CMD: return "SRP_CMD";
	case TT_SRP_I_LOGOUT: return "SRP_I_LOGOUT";
	case TT_SRP_LOGIN_RSP: return "SRP_LOGIN_RSP";
	case TT_SRP_RSP: return "SRP_RSP";
	case TT_SRP_LOGIN_REJ: return "SRP_LOGIN_REJ";
	case TT_SRP_T_LOGOUT: return "SRP_T_LOGOUT";
	case TT_SRP_CRED_REQ: return "SRP_CRED_REQ";
	case TT_SRP_AER_REQ: return "SRP_AER_REQ";
	case TT_SRP_CRED_RSP: return "SRP_CRED_RSP";
	case TT_SRP_AER_RSP: return "SRP_AER_RSP";
	default: return "unknown";
	}
}

/* --- login ------------------------------------------------------------------------------------ */

int tt_srp_login_req_parse(const void *iu, size_t len, struct tt_srp_login_req *req)
{
	const uint8_t *p = iu;

	if (len < TT_SRP_LOGIN_REQ_LEN || p[0] != TT_SRP_LOGIN_REQ)
		return -EBADMSG;
	req->tag = get_tag(p + 8);
	req->req_it_iu_len = get32(p + 16);
	req->req_buf_fmt = get16(p + 24);
	req->req_flags = p[26];
	req->imm_data_offset = get16(p + 28);
	memcpy(req->initiator_port_id, p + 32, 16);
	memcpy(req->target_port_id, p + 48, 16);
	return 0;
}

int tt_srp_login_req_rdma_parse(const void *pd, size_t len, struct tt_srp_login_req *req)
{
	const uint8_t *p = pd;

	if (len < TT_SRP_LOGIN_REQ_RDMA_LEN || p[11] != TT_SRP_LOGIN_REQ)
		return -EBADMSG;
	req->tag = get_tag(p);
	req->req_buf_fmt = get16(p + 8);
	req->req_flags = p[10];
	req->req_it_iu_len = get32(p + 12);
	memcpy(req->initiator_port_id, p + 16, 16);
	memcpy(req->target_port_id, p + 32, 16);
	req->imm_data_offset = get16(p + 48);
	return 0;
}

uint32_t tt_srp_login_negotiate(const struct tt_srp_login_req *req,
				const struct tt_srp_login_limits *lim, struct tt_srp_login_rsp *rsp)
{
	memset(rsp, 0, sizeof(*rsp));
	if (lim->port_id && memcmp(req->target_port_id, lim->port_id, 16) != 0)
		return TT_SRP_REJ_UNABLE_ASSOCIATE;
	if (req->req_it_iu_len > lim->max_it_iu_len)
		return TT_SRP_REJ_IT_IU_TOO_LARGE;
	/* an initiator that cannot send an SRP_CMD with one descriptor cannot use the channel */
	if (req->req_it_iu_len < TT_SRP_CMD_LEN + TT_SRP_DIRECT_DESC_LEN)
		return TT_SRP_REJ_UNABLE_ESTABLISH;
	if (!(req->req_buf_fmt & lim->buf_fmt & (TT_SRP_BUF_DIRECT | TT_SRP_BUF_INDIRECT)))
		return TT_SRP_REJ_UNSUPPORTED_FMT;
	if ((req->req_flags & TT_SRP_MULTICHAN_MASK) > TT_SRP_MULTICHAN_MULTI)
		return TT_SRP_REJ_UNABLE_ESTABLISH;
	if (lim->req_lim == 0)
		return TT_SRP_REJ_INSUFFICIENT_RES;
	rsp->tag = req->tag;
	rsp->req_lim_delta = lim->req_lim;
	rsp->max_it_iu_len = req->req_it_iu_len;
	rsp->max_ti_iu_len = lim->max_ti_iu_len;
	rsp->buf_fmt = lim->buf_fmt & (TT_SRP_BUF_DIRECT | TT_SRP_BUF_INDIRECT);
	/* immediate data: the offset must leave room for the command and one descriptor, and for
	 * at least one byte of data inside the IU */
	if ((req->req_flags & TT_SRP_IMMED_REQUESTED) && lim->immed &&
	    req->imm_data_offset >= TT_SRP_CMD_LEN + TT_SRP_IMM_DESC_LEN &&
	    req->imm_data_offset < req->req_it_iu_len) {
		rsp->rsp_flags |= TT_SRP_RSP_IMMED_SUPP;
		rsp->imm_data_offset = req->imm_data_offset;
	}
	return 0;
}

int tt_srp_login_rsp_encode(const struct tt_srp_login_rsp *rsp, void *buf, size_t cap)
{
	uint8_t *p = buf;

	if (cap < TT_SRP_LOGIN_RSP_LEN)
		return -ENOSPC;
	memset(p, 0, TT_SRP_LOGIN_RSP_LEN);
	p[0] = TT_SRP_LOGIN_RSP;
	put32(p + 4, rsp->req_lim_delta);
	put_tag(p + 8, rsp->tag);
	put32(p + 16, rsp->max_it_iu_len);
	put32(p + 20, rsp->max_ti_iu_len);
	put16(p + 24, rsp->buf_fmt);
	p[26] = rsp->rsp_flags;
	return TT_SRP_LOGIN_RSP_LEN;
}

int tt_srp_login_rej_encode(uint64_t tag, uint32_t reason, uint16_t buf_fmt, void *buf,
			    size_t cap)
{
	uint8_t *p = buf;

	if (cap < TT_SRP_LOGIN_REJ_LEN)
		return -ENOSPC;
	memset(p, 0, TT_SRP_LOGIN_REJ_LEN);
	p[0] = TT_SRP_LOGIN_REJ;
	put32(p + 4, reason);
	put_tag(p + 8, tag);
	put16(p + 24, buf_fmt);
	return TT_SRP_LOGIN_REJ_LEN;
}

/* --- logout, credits, events: short IUs with a tag at byte 8 ----------------------------------- */

static int tag_iu_parse(const void *iu, size_t len, uint8_t type, size_t min, uint64_t *tag)
{
	const uint8_t *p = iu;

	if (len < min || p[0] != type)
		return -EBADMSG;
	*tag = get_tag(p + 8);
	return 0;
}

int tt_srp_i_logout_parse(const void *iu, size_t len, uint64_t *tag)
{
	return tag_iu_parse(iu, len, TT_SRP_I_LOGOUT, TT_SRP_I_LOGOUT_LEN, tag);
}

int tt_srp_cred_rsp_parse(const void *iu, size_t len, uint64_t *tag)
{
	return tag_iu_parse(iu, len, TT_SRP_CRED_RSP, TT_SRP_CRED_RSP_LEN, tag);
}

int tt_srp_aer_rsp_parse(const void *iu, size_t len, uint64_t *tag)
{
	return tag_iu_parse(iu, len, TT_SRP_AER_RSP, TT_SRP_AER_RSP_LEN, tag);
}

static int short_encode(uint8_t type, uint8_t sol_not, uint32_t word, uint64_t tag, void *buf,
			size_t cap, size_t len)
{
	uint8_t *p = buf;

	if (cap < len)
		return -ENOSPC;
	memset(p, 0, len);
	p[0] = type;
	p[1] = sol_not;
	put32(p + 4, word);
	put_tag(p + 8, tag);
	return (int)len;
}

int tt_srp_t_logout_encode(uint64_t tag, uint32_t reason, uint8_t sol_not, void *buf, size_t cap)
{
	return short_encode(TT_SRP_T_LOGOUT, sol_not, reason, tag, buf, cap, TT_SRP_T_LOGOUT_LEN);
}

int tt_srp_cred_req_encode(uint64_t tag, uint32_t req_lim_delta, uint8_t sol_not, void *buf,
			   size_t cap)
{
	return short_encode(TT_SRP_CRED_REQ, sol_not, req_lim_delta, tag, buf, cap,
			    TT_SRP_CRED_REQ_LEN);
}

int tt_srp_aer_req_encode(uint64_t tag, uint32_t req_lim_delta, const uint8_t lun[8],
			  const uint8_t *sense, uint32_t sense_len, void *buf, size_t cap)
{
	uint8_t *p = buf;

	if (cap < TT_SRP_AER_REQ_LEN || sense_len > cap - TT_SRP_AER_REQ_LEN)
		return -ENOSPC;
	short_encode(TT_SRP_AER_REQ, 0, req_lim_delta, tag, buf, cap, TT_SRP_AER_REQ_LEN);
	memcpy(p + 20, lun, 8);
	put32(p + 28, sense_len);
	if (sense_len)
		memcpy(p + TT_SRP_AER_REQ_LEN, sense, sense_len);
	return (int)(TT_SRP_AER_REQ_LEN + sense_len);
}

/* --- SRP_CMD ----------------------------------------------------------------------------------- */

void tt_srp_data_desc(const struct tt_srp_data *d, uint32_t i, struct tt_srp_desc *out)
{
	const uint8_t *p = d->descs + (size_t)i * TT_SRP_DIRECT_DESC_LEN;

	out->va = get64(p);
	out->key = get32(p + 8);
	out->len = get32(p + 12);
}

/* ILLEGAL REQUEST, INVALID FIELD IN COMMAND INFORMATION UNIT (0Eh/03h) */
static int check(struct tt_srp_fault *f, const char *what)
{
	f->logout = false;
	f->sense_key = 0x05;
	f->asc = 0x0e;
	f->ascq = 0x03;
	f->what = what;
	return -EINVAL;
}

static int logout(struct tt_srp_fault *f, uint32_t reason, const char *what)
{
	f->logout = true;
	f->logout_reason = reason;
	f->what = what;
	return -EPROTO;
}

static bool fmt_allowed(uint8_t fmt, const struct tt_srp_cmd_limits *lim)
{
	switch (fmt) {
	case TT_SRP_DESC_NONE: return true;
	case TT_SRP_DESC_DIRECT: return lim->buf_fmt & TT_SRP_BUF_DIRECT;
	case TT_SRP_DESC_INDIRECT: return lim->buf_fmt & TT_SRP_BUF_INDIRECT;
	case TT_SRP_DESC_IMM: return lim->imm_data_offset != 0;
	default: return false;
	}
}

/* One direction's descriptor at *pos; advances *pos past it. */
static int data_parse(const uint8_t *p, size_t len, size_t *pos, uint8_t fmt, uint8_t cnt,
		      const struct tt_srp_cmd_limits *lim, struct tt_srp_data *d,
		      struct tt_srp_fault *f)
{
	memset(d, 0, sizeof(*d));
	d->fmt = fmt;
	switch (fmt) {
	case TT_SRP_DESC_NONE:
		if (cnt)
			return check(f, "descriptor count without a descriptor format");
		return 0;
	case TT_SRP_DESC_DIRECT:
		/* the count fields describe indirect lists only (initiators send 0 or 1) */
		if (cnt > 1)
			return check(f, "direct descriptor count");
		if (len - *pos < TT_SRP_DIRECT_DESC_LEN)
			return check(f, "direct descriptor beyond the IU");
		d->count = 1;
		d->descs = p + *pos;
		d->total = get32(p + *pos + 12);
		*pos += TT_SRP_DIRECT_DESC_LEN;
		break;
	case TT_SRP_DESC_INDIRECT: {
		if (len - *pos < TT_SRP_INDIRECT_HDR_LEN)
			return check(f, "indirect descriptor beyond the IU");
		uint32_t table_len = get32(p + *pos + 12);
		uint32_t total = get32(p + *pos + 16);

		if (table_len == 0 || table_len % TT_SRP_DIRECT_DESC_LEN)
			return check(f, "indirect table length");
		if (table_len / TT_SRP_DIRECT_DESC_LEN > lim->max_desc)
			return check(f, "indirect table: too many descriptors");
		if (cnt != table_len / TT_SRP_DIRECT_DESC_LEN)
			return check(f, "indirect table not in the IU (external tables unsupported)");
		if ((len - *pos - TT_SRP_INDIRECT_HDR_LEN) / TT_SRP_DIRECT_DESC_LEN < cnt)
			return check(f, "indirect descriptors beyond the IU");
		d->count = cnt;
		d->descs = p + *pos + TT_SRP_INDIRECT_HDR_LEN;
		uint64_t sum = 0;

		for (uint32_t i = 0; i < cnt; i++)
			sum += get32(d->descs + (size_t)i * TT_SRP_DIRECT_DESC_LEN + 12);
		if (sum != total)
			return check(f, "indirect total length differs from its descriptors");
		d->total = total;
		*pos += TT_SRP_INDIRECT_HDR_LEN + (size_t)cnt * TT_SRP_DIRECT_DESC_LEN;
		break;
	}
	case TT_SRP_DESC_IMM:
		if (len - *pos < TT_SRP_IMM_DESC_LEN)
			return check(f, "immediate descriptor beyond the IU");
		d->total = get32(p + *pos);
		*pos += TT_SRP_IMM_DESC_LEN;
		break;
	}
	if (d->total > lim->max_xfer)
		return check(f, "transfer length");
	return 0;
}

int tt_srp_cmd_parse(const void *iu, size_t len, const struct tt_srp_cmd_limits *lim,
		     struct tt_srp_cmd *cmd, struct tt_srp_fault *f)
{
	const uint8_t *p = iu;

	memset(cmd, 0, sizeof(*cmd));
	memset(f, 0, sizeof(*f));
	if (len < 16)
		return logout(f, TT_SRP_TLO_INVALID_IU_LEN, "IU shorter than its tag");
	if (p[0] != TT_SRP_CMD)
		return logout(f, TT_SRP_TLO_INVALID_IU_TYPE, "IU type");
	cmd->tag = get_tag(p + 8);
	cmd->sol_not = p[1];
	if (len < TT_SRP_CMD_LEN)
		return logout(f, TT_SRP_TLO_INVALID_IU_LEN, "SRP_CMD shorter than 48 bytes");
	memcpy(cmd->lun, p + 20, 8);
	cmd->task_attr = p[29] & 0x07;
	uint32_t add_cdb = p[31] & ~3u;

	cmd->cdb = p + 32;
	cmd->cdb_len = 16 + add_cdb;
	if (len < TT_SRP_CMD_LEN + (size_t)add_cdb)
		return check(f, "additional CDB beyond the IU");

	uint8_t out_fmt = p[5] >> 4, in_fmt = p[5] & 0x0f;

	if (!fmt_allowed(out_fmt, lim))
		return logout(f, TT_SRP_TLO_BAD_OUT_FMT, "data-out descriptor format");
	if (in_fmt == TT_SRP_DESC_IMM || !fmt_allowed(in_fmt, lim))
		return logout(f, TT_SRP_TLO_BAD_IN_FMT, "data-in descriptor format");

	size_t pos = TT_SRP_CMD_LEN + add_cdb;
	int rc = data_parse(p, len, &pos, out_fmt, p[6], lim, &cmd->out, f);

	if (rc)
		return rc;
	rc = data_parse(p, len, &pos, in_fmt, p[7], lim, &cmd->in, f);
	if (rc)
		return rc;
	if (out_fmt == TT_SRP_DESC_IMM) {
		size_t off = lim->imm_data_offset;

		if (off < pos)
			return check(f, "immediate data overlaps the descriptors");
		if (off > len || cmd->out.total > len - off)
			return check(f, "immediate data beyond the IU");
		cmd->out.imm = p + off;
	}
	return 0;
}

/* --- SRP_TSK_MGMT ------------------------------------------------------------------------------ */

int tt_srp_tsk_mgmt_parse(const void *iu, size_t len, struct tt_srp_tsk_mgmt *t)
{
	const uint8_t *p = iu;

	if (len < TT_SRP_TSK_MGMT_LEN || p[0] != TT_SRP_TSK_MGMT)
		return -EBADMSG;
	t->sol_not = p[1];
	t->tag = get_tag(p + 8);
	memcpy(t->lun, p + 20, 8);
	t->func = p[30];
	t->task_tag = get_tag(p + 32);
	return 0;
}

bool tt_srp_tsk_func_known(uint8_t func)
{
	return func == TT_SRP_TSK_ABORT_TASK || func == TT_SRP_TSK_ABORT_TASK_SET ||
	       func == TT_SRP_TSK_CLEAR_TASK_SET || func == TT_SRP_TSK_LUN_RESET ||
	       func == TT_SRP_TSK_CLEAR_ACA;
}

/* --- SRP_RSP ----------------------------------------------------------------------------------- */

static uint32_t clamp32(uint64_t v) { return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v; }

int tt_srp_rsp_encode(const struct tt_srp_rsp *r, void *buf, size_t cap)
{
	uint8_t *p = buf;
	size_t fixed = TT_SRP_RSP_LEN + (r->has_rsp_code ? 4 : 0);

	if (cap < fixed)
		return -ENOSPC;
	uint32_t sense_len = r->sense ? r->sense_len : 0;

	if (sense_len > cap - fixed)
		sense_len = (uint32_t)(cap - fixed);
	memset(p, 0, fixed);
	p[0] = TT_SRP_RSP;
	p[1] = r->sol_not;
	put32(p + 4, r->req_lim_delta);
	put_tag(p + 8, r->tag);
	uint8_t flags = 0;

	if (r->out_resid > 0) {
		flags |= TT_SRP_RSP_DOUNDER;
		put32(p + 20, clamp32((uint64_t)r->out_resid));
	} else if (r->out_resid < 0) {
		flags |= TT_SRP_RSP_DOOVER;
		put32(p + 20, clamp32(-(uint64_t)r->out_resid));
	}
	if (r->in_resid > 0) {
		flags |= TT_SRP_RSP_DIUNDER;
		put32(p + 24, clamp32((uint64_t)r->in_resid));
	} else if (r->in_resid < 0) {
		flags |= TT_SRP_RSP_DIOVER;
		put32(p + 24, clamp32(-(uint64_t)r->in_resid));
	}
	if (sense_len) {
		flags |= TT_SRP_RSP_SNSVALID;
		put32(p + 28, sense_len);
	}
	if (r->has_rsp_code) {
		flags |= TT_SRP_RSP_RSPVALID;
		put32(p + 32, 4);
		p[TT_SRP_RSP_LEN + 3] = r->rsp_code;
	}
	p[18] = flags;
	p[19] = r->status;
	if (sense_len)
		memcpy(p + fixed, r->sense, sense_len);
	return (int)(fixed + sense_len);
}

uint32_t tt_srp_fault_sense(const struct tt_srp_fault *f, uint8_t sense[18])
{
	memset(sense, 0, 18);
	sense[0] = 0x70;
	sense[2] = f->sense_key & 0x0f;
	sense[7] = 10;
	sense[12] = f->asc;
	sense[13] = f->ascq;
	return 18;
}
