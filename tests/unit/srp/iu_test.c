/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SRP information units (src/srp/iu.c): the login forms, the negotiation and its reject reasons,
 * every encoder's layout, SRP_CMD descriptors (direct, indirect, immediate) and what hostile
 * counts, lengths and offsets yield (a CHECK CONDITION or a target logout, never a read outside
 * the IU: the buffers here are heap allocations of the exact length, so ASan catches one).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tt_test.h"

#include "srp/iu.h"

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}
static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}
static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static const uint8_t TAG[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

static uint64_t tag_of(const uint8_t t[8])
{
	uint64_t v;

	memcpy(&v, t, 8);
	return v;
}

/* A copy of exactly @len bytes on the heap. */
static uint8_t *dup_exact(const uint8_t *p, size_t len)
{
	uint8_t *d = malloc(len ? len : 1);

	assert_non_null(d);
	memcpy(d, p, len);
	return d;
}

static const struct tt_srp_cmd_limits LIM = {
	.buf_fmt = TT_SRP_BUF_DIRECT | TT_SRP_BUF_INDIRECT,
	.imm_data_offset = 68,
	.max_desc = 8,
	.max_xfer = 1 << 20,
};

static int parse_exact(const uint8_t *iu, size_t len, const struct tt_srp_cmd_limits *lim,
		       struct tt_srp_cmd *c, struct tt_srp_fault *f)
{
	uint8_t *d = dup_exact(iu, len);
	int rc = tt_srp_cmd_parse(d, len, lim, c, f);

	/* pointers into the IU must not outlive it in a test: compare offsets only */
	if (rc == 0) {
		if (c->out.descs)
			assert_true(c->out.descs + c->out.count * 16 <= d + len);
		if (c->in.descs)
			assert_true(c->in.descs + c->in.count * 16 <= d + len);
		if (c->out.imm)
			assert_true(c->out.imm + c->out.total <= d + len);
		c->out.descs = c->out.descs ? iu + (c->out.descs - d) : NULL;
		c->in.descs = c->in.descs ? iu + (c->in.descs - d) : NULL;
		c->out.imm = c->out.imm ? iu + (c->out.imm - d) : NULL;
		c->cdb = iu + (c->cdb - d);
	}
	free(d);
	return rc;
}

static size_t cmd_hdr(uint8_t *iu, uint8_t out_fmt, uint8_t in_fmt, uint8_t out_cnt,
		      uint8_t in_cnt)
{
	memset(iu, 0, 48);
	iu[0] = TT_SRP_CMD;
	iu[5] = (uint8_t)(out_fmt << 4 | in_fmt);
	iu[6] = out_cnt;
	iu[7] = in_cnt;
	memcpy(iu + 8, TAG, 8);
	iu[21] = 3;    /* LUN 3, single level */
	iu[29] = 0x01; /* head of queue */
	iu[32] = 0x28; /* READ(10) */
	return 48;
}

static size_t put_desc(uint8_t *p, uint64_t va, uint32_t key, uint32_t len)
{
	put64(p, va);
	put32(p + 8, key);
	put32(p + 12, len);
	return 16;
}

static void test_login_forms(void **state)
{
	uint8_t iu[64] = { 0 }, pd[56] = { 0 };
	struct tt_srp_login_req a, b;

	(void)state;
	iu[0] = TT_SRP_LOGIN_REQ;
	memcpy(iu + 8, TAG, 8);
	put32(iu + 16, 8260);
	iu[24] = 0;
	iu[25] = TT_SRP_BUF_DIRECT | TT_SRP_BUF_INDIRECT;
	iu[26] = TT_SRP_IMMED_REQUESTED | TT_SRP_MULTICHAN_MULTI;
	iu[28] = 0;
	iu[29] = 68;
	for (int i = 0; i < 16; i++) {
		iu[32 + i] = (uint8_t)(0xa0 + i);
		iu[48 + i] = (uint8_t)(0x10 + i);
	}
	assert_int_equal(tt_srp_login_req_parse(iu, sizeof(iu), &a), 0);
	/* the RDMA-CM form carries the same fields at other offsets */
	memcpy(pd, TAG, 8);
	pd[9] = iu[25];
	pd[10] = iu[26];
	pd[11] = TT_SRP_LOGIN_REQ;
	put32(pd + 12, 8260);
	memcpy(pd + 16, iu + 32, 32);
	pd[49] = 68;
	assert_int_equal(tt_srp_login_req_rdma_parse(pd, sizeof(pd), &b), 0);
	assert_memory_equal(&a.tag, &b.tag, 8);
	assert_int_equal(a.tag, tag_of(TAG));
	assert_int_equal(a.req_it_iu_len, 8260);
	assert_int_equal(b.req_it_iu_len, 8260);
	assert_int_equal(a.req_buf_fmt, b.req_buf_fmt);
	assert_int_equal(a.req_flags, b.req_flags);
	assert_int_equal(a.imm_data_offset, 68);
	assert_int_equal(b.imm_data_offset, 68);
	assert_memory_equal(a.initiator_port_id, b.initiator_port_id, 16);
	assert_memory_equal(a.target_port_id, b.target_port_id, 16);
	assert_int_equal(a.initiator_port_id[0], 0xa0);
	assert_int_equal(b.target_port_id[15], 0x1f);

	/* short or of another type: refused, for every length below the minimum */
	for (size_t n = 0; n < sizeof(iu); n++) {
		uint8_t *d = dup_exact(iu, n);

		assert_int_equal(tt_srp_login_req_parse(d, n, &a), -EBADMSG);
		free(d);
	}
	for (size_t n = 0; n < sizeof(pd); n++) {
		uint8_t *d = dup_exact(pd, n);

		assert_int_equal(tt_srp_login_req_rdma_parse(d, n, &a), -EBADMSG);
		free(d);
	}
	iu[0] = TT_SRP_CMD;
	assert_int_equal(tt_srp_login_req_parse(iu, sizeof(iu), &a), -EBADMSG);
	pd[11] = TT_SRP_CMD;
	assert_int_equal(tt_srp_login_req_rdma_parse(pd, sizeof(pd), &a), -EBADMSG);
}

static void test_login_negotiate(void **state)
{
	const struct tt_srp_login_limits lim = {
		.max_it_iu_len = 8260, .max_ti_iu_len = 4096, .req_lim = 64,
		.buf_fmt = TT_SRP_BUF_DIRECT | TT_SRP_BUF_INDIRECT, .immed = true,
	};
	struct tt_srp_login_req req = {
		.tag = tag_of(TAG), .req_it_iu_len = 8260,
		.req_buf_fmt = TT_SRP_BUF_DIRECT | TT_SRP_BUF_INDIRECT,
		.req_flags = TT_SRP_IMMED_REQUESTED, .imm_data_offset = 68,
	};
	struct tt_srp_login_rsp rsp;
	uint8_t buf[64];

	(void)state;
	assert_int_equal(tt_srp_login_negotiate(&req, &lim, &rsp), 0);
	assert_int_equal(rsp.req_lim_delta, 64);
	assert_int_equal(rsp.max_it_iu_len, 8260);
	assert_int_equal(rsp.max_ti_iu_len, 4096);
	assert_int_equal(rsp.rsp_flags, TT_SRP_RSP_IMMED_SUPP);
	assert_int_equal(rsp.imm_data_offset, 68);
	assert_int_equal(tt_srp_login_rsp_encode(&rsp, buf, 51), -ENOSPC);
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(tt_srp_login_rsp_encode(&rsp, buf, sizeof(buf)), 52);
	assert_int_equal(buf[0], TT_SRP_LOGIN_RSP);
	assert_int_equal(get32(buf + 4), 64);
	assert_memory_equal(buf + 8, TAG, 8);
	assert_int_equal(get32(buf + 16), 8260);
	assert_int_equal(get32(buf + 20), 4096);
	assert_int_equal(buf[25], TT_SRP_BUF_DIRECT | TT_SRP_BUF_INDIRECT);
	assert_int_equal(buf[26], TT_SRP_RSP_IMMED_SUPP);
	for (int i = 27; i < 52; i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(buf[52], 0xee);

	/* immediate data with an offset inside the command: not granted, login still accepted */
	req.imm_data_offset = 40;
	assert_int_equal(tt_srp_login_negotiate(&req, &lim, &rsp), 0);
	assert_int_equal(rsp.rsp_flags & TT_SRP_RSP_IMMED_SUPP, 0);
	assert_int_equal(rsp.imm_data_offset, 0);
	req.imm_data_offset = 68;

	/* reject reasons */
	req.req_it_iu_len = 8261;
	assert_int_equal(tt_srp_login_negotiate(&req, &lim, &rsp), TT_SRP_REJ_IT_IU_TOO_LARGE);
	req.req_it_iu_len = 63;
	assert_int_equal(tt_srp_login_negotiate(&req, &lim, &rsp), TT_SRP_REJ_UNABLE_ESTABLISH);
	req.req_it_iu_len = 8260;
	req.req_buf_fmt = 0x0008;
	assert_int_equal(tt_srp_login_negotiate(&req, &lim, &rsp), TT_SRP_REJ_UNSUPPORTED_FMT);
	req.req_buf_fmt = TT_SRP_BUF_DIRECT;
	req.req_flags = 3;
	assert_int_equal(tt_srp_login_negotiate(&req, &lim, &rsp), TT_SRP_REJ_UNABLE_ESTABLISH);
	req.req_flags = 0;
	struct tt_srp_login_limits none = lim;

	none.req_lim = 0;
	assert_int_equal(tt_srp_login_negotiate(&req, &none, &rsp), TT_SRP_REJ_INSUFFICIENT_RES);
	/* a login naming another target port */
	struct tt_srp_login_limits mine = lim;
	uint8_t port_id[16] = { [7] = 1, [8] = 2 };

	mine.port_id = port_id;
	assert_int_equal(tt_srp_login_negotiate(&req, &mine, &rsp), TT_SRP_REJ_UNABLE_ASSOCIATE);
	memcpy(req.target_port_id, port_id, 16);
	assert_int_equal(tt_srp_login_negotiate(&req, &mine, &rsp), 0);

	assert_int_equal(tt_srp_login_rej_encode(tag_of(TAG), TT_SRP_REJ_UNSUPPORTED_FMT,
						 TT_SRP_BUF_DIRECT, buf, 31), -ENOSPC);
	assert_int_equal(tt_srp_login_rej_encode(tag_of(TAG), TT_SRP_REJ_UNSUPPORTED_FMT,
						 TT_SRP_BUF_DIRECT, buf, sizeof(buf)), 32);
	assert_int_equal(buf[0], TT_SRP_LOGIN_REJ);
	assert_int_equal(get32(buf + 4), 0x00010004);
	assert_memory_equal(buf + 8, TAG, 8);
	assert_int_equal(buf[25], TT_SRP_BUF_DIRECT);
}

static void test_short_ius(void **state)
{
	uint8_t buf[128], iu[16] = { 0 };
	uint64_t tag = 0;
	const uint8_t lun[8] = { 0, 5 };
	const uint8_t sense[18] = { 0x70, 0, 6, [12] = 0x2a, [13] = 0x09 };

	(void)state;
	assert_int_equal(tt_srp_t_logout_encode(tag_of(TAG), TT_SRP_TLO_INVALID_IU_LEN, 0, buf,
						sizeof(buf)), 16);
	assert_int_equal(buf[0], TT_SRP_T_LOGOUT);
	assert_int_equal(get32(buf + 4), 8);
	assert_memory_equal(buf + 8, TAG, 8);
	assert_int_equal(tt_srp_cred_req_encode(tag_of(TAG), 7, 1, buf, sizeof(buf)), 16);
	assert_int_equal(buf[0], TT_SRP_CRED_REQ);
	assert_int_equal(buf[1], 1);
	assert_int_equal(get32(buf + 4), 7);
	assert_int_equal(tt_srp_cred_req_encode(0, 7, 0, buf, 15), -ENOSPC);
	assert_int_equal(tt_srp_aer_req_encode(tag_of(TAG), 1, lun, sense, 18, buf, sizeof(buf)),
			 36 + 18);
	assert_int_equal(buf[0], TT_SRP_AER_REQ);
	assert_int_equal(buf[21], 5);
	assert_int_equal(get32(buf + 28), 18);
	assert_int_equal(buf[36 + 12], 0x2a);
	assert_int_equal(tt_srp_aer_req_encode(0, 1, lun, sense, 18, buf, 36 + 17), -ENOSPC);
	assert_int_equal(tt_srp_aer_req_encode(0, 1, lun, sense, UINT32_MAX, buf, 40), -ENOSPC);

	/* I_LOGOUT, CRED_RSP, AER_RSP: 16 bytes, tag at 8 */
	const uint8_t types[3] = { TT_SRP_I_LOGOUT, TT_SRP_CRED_RSP, TT_SRP_AER_RSP };
	int (*const parse[3])(const void *, size_t, uint64_t *) = {
		tt_srp_i_logout_parse, tt_srp_cred_rsp_parse, tt_srp_aer_rsp_parse,
	};

	for (int i = 0; i < 3; i++) {
		memset(iu, 0, sizeof(iu));
		iu[0] = types[i];
		memcpy(iu + 8, TAG, 8);
		assert_int_equal(parse[i](iu, sizeof(iu), &tag), 0);
		assert_int_equal(tag, tag_of(TAG));
		for (size_t n = 0; n < sizeof(iu); n++) {
			uint8_t *d = dup_exact(iu, n);

			assert_int_equal(parse[i](d, n, &tag), -EBADMSG);
			free(d);
		}
		iu[0] = types[(i + 1) % 3];
		assert_int_equal(parse[i](iu, sizeof(iu), &tag), -EBADMSG);
	}
	assert_int_equal(tt_srp_iu_type(iu, 0), -EBADMSG);
	assert_int_equal(tt_srp_iu_type(types, 1), TT_SRP_I_LOGOUT);
	assert_string_equal(tt_srp_iu_name(TT_SRP_CMD), "SRP_CMD");
	assert_string_equal(tt_srp_iu_name(0x77), "unknown");
}

static void test_cmd_direct(void **state)
{
	uint8_t iu[128];
	struct tt_srp_cmd c;
	struct tt_srp_fault f;
	struct tt_srp_desc d;
	size_t n = cmd_hdr(iu, TT_SRP_DESC_NONE, TT_SRP_DESC_DIRECT, 0, 0);

	(void)state;
	n += put_desc(iu + n, 0x1122334455667788ull, 0xabcd, 4096);
	assert_int_equal(parse_exact(iu, n, &LIM, &c, &f), 0);
	assert_int_equal(c.tag, tag_of(TAG));
	assert_int_equal(c.lun[1], 3);
	assert_int_equal(c.task_attr, 1);
	assert_int_equal(c.cdb_len, 16);
	assert_ptr_equal(c.cdb, iu + 32);
	assert_int_equal(c.out.fmt, TT_SRP_DESC_NONE);
	assert_int_equal(c.out.total, 0);
	assert_int_equal(c.in.fmt, TT_SRP_DESC_DIRECT);
	assert_int_equal(c.in.count, 1);
	assert_int_equal(c.in.total, 4096);
	tt_srp_data_desc(&c.in, 0, &d);
	assert_int_equal(d.va, 0x1122334455667788ull);
	assert_int_equal(d.key, 0xabcd);
	assert_int_equal(d.len, 4096);

	/* every truncation: a logout below 48 bytes, a CHECK CONDITION with the tag above */
	for (size_t k = 0; k < n; k++) {
		int rc = parse_exact(iu, k, &LIM, &c, &f);

		if (k < 48) {
			assert_int_equal(rc, -EPROTO);
			assert_true(f.logout);
			assert_int_equal(f.logout_reason, TT_SRP_TLO_INVALID_IU_LEN);
		} else {
			assert_int_equal(rc, -EINVAL);
			assert_false(f.logout);
			assert_int_equal(c.tag, tag_of(TAG));
			assert_int_equal(f.sense_key, 5);
			assert_int_equal(f.asc, 0x0e);
			assert_int_equal(f.ascq, 0x03);
		}
	}
	/* an additional CDB: the descriptor moves after it */
	n = cmd_hdr(iu, TT_SRP_DESC_DIRECT, TT_SRP_DESC_NONE, 0, 0);
	iu[31] = 16 | 3; /* low two bits reserved */
	memset(iu + n, 0x7f, 16);
	n += 16;
	n += put_desc(iu + n, 0x1000, 1, 512);
	assert_int_equal(parse_exact(iu, n, &LIM, &c, &f), 0);
	assert_int_equal(c.cdb_len, 32);
	assert_int_equal(c.out.total, 512);
	tt_srp_data_desc(&c.out, 0, &d);
	assert_int_equal(d.va, 0x1000);
	/* additional CDB longer than the IU */
	iu[31] = 252;
	assert_int_equal(parse_exact(iu, n, &LIM, &c, &f), -EINVAL);
	/* transfer longer than allowed */
	iu[31] = 16;
	put32(iu + n - 4, (1 << 20) + 1);
	assert_int_equal(parse_exact(iu, n, &LIM, &c, &f), -EINVAL);
	assert_string_equal(f.what, "transfer length");
	/* a count with no format */
	n = cmd_hdr(iu, TT_SRP_DESC_NONE, TT_SRP_DESC_NONE, 0, 2);
	assert_int_equal(parse_exact(iu, n, &LIM, &c, &f), -EINVAL);
	/* a direct count above 1 */
	n = cmd_hdr(iu, TT_SRP_DESC_NONE, TT_SRP_DESC_DIRECT, 0, 2);
	n += put_desc(iu + n, 0, 0, 0);
	assert_int_equal(parse_exact(iu, n, &LIM, &c, &f), -EINVAL);
	/* bidirectional: data-out first, then data-in */
	n = cmd_hdr(iu, TT_SRP_DESC_DIRECT, TT_SRP_DESC_DIRECT, 0, 0);
	n += put_desc(iu + n, 0x10, 1, 100);
	n += put_desc(iu + n, 0x20, 2, 200);
	assert_int_equal(parse_exact(iu, n, &LIM, &c, &f), 0);
	assert_int_equal(c.out.total, 100);
	assert_int_equal(c.in.total, 200);
	assert_int_equal(parse_exact(iu, n - 1, &LIM, &c, &f), -EINVAL);
}

static void test_cmd_formats(void **state)
{
	uint8_t iu[128];
	struct tt_srp_cmd c;
	struct tt_srp_fault f;
	size_t n;

	(void)state;
	/* reserved formats: a target logout naming the direction */
	for (uint8_t fmt = 4; fmt < 16; fmt++) {
		n = cmd_hdr(iu, fmt, 0, 0, 0);
		assert_int_equal(parse_exact(iu, n, &LIM, &c, &f), -EPROTO);
		assert_int_equal(f.logout_reason, TT_SRP_TLO_BAD_OUT_FMT);
		n = cmd_hdr(iu, 0, fmt, 0, 0);
		assert_int_equal(parse_exact(iu, n, &LIM, &c, &f), -EPROTO);
		assert_int_equal(f.logout_reason, TT_SRP_TLO_BAD_IN_FMT);
	}
	/* immediate data is for data-out only */
	n = cmd_hdr(iu, 0, TT_SRP_DESC_IMM, 0, 0);
	assert_int_equal(parse_exact(iu, n, &LIM, &c, &f), -EPROTO);
	assert_int_equal(f.logout_reason, TT_SRP_TLO_BAD_IN_FMT);
	/* formats the login did not grant */
	struct tt_srp_cmd_limits direct_only = LIM;

	direct_only.buf_fmt = TT_SRP_BUF_DIRECT;
	direct_only.imm_data_offset = 0;
	n = cmd_hdr(iu, TT_SRP_DESC_INDIRECT, 0, 1, 0);
	assert_int_equal(parse_exact(iu, n, &direct_only, &c, &f), -EPROTO);
	assert_int_equal(f.logout_reason, TT_SRP_TLO_BAD_OUT_FMT);
	n = cmd_hdr(iu, TT_SRP_DESC_IMM, 0, 0, 0);
	assert_int_equal(parse_exact(iu, n, &direct_only, &c, &f), -EPROTO);
	n = cmd_hdr(iu, 0, TT_SRP_DESC_INDIRECT, 0, 1);
	assert_int_equal(parse_exact(iu, n, &direct_only, &c, &f), -EPROTO);
	assert_int_equal(f.logout_reason, TT_SRP_TLO_BAD_IN_FMT);
	/* another IU type */
	n = cmd_hdr(iu, 0, 0, 0, 0);
	iu[0] = TT_SRP_TSK_MGMT;
	assert_int_equal(parse_exact(iu, n, &LIM, &c, &f), -EPROTO);
	assert_int_equal(f.logout_reason, TT_SRP_TLO_INVALID_IU_TYPE);
}

static void test_cmd_indirect(void **state)
{
	uint8_t iu[256];
	struct tt_srp_cmd c;
	struct tt_srp_fault f;
	struct tt_srp_desc d;
	size_t n = cmd_hdr(iu, TT_SRP_DESC_INDIRECT, 0, 3, 0), hdr = n;

	(void)state;
	n += put_desc(iu + n, 0xdead0000, 9, 3 * 16); /* the table: 3 descriptors */
	put32(iu + n, 4096 + 512 + 8192);
	n += 4;
	n += put_desc(iu + n, 0x1000, 1, 4096);
	n += put_desc(iu + n, 0x3000, 2, 512);
	n += put_desc(iu + n, 0x5000, 3, 8192);
	assert_int_equal(parse_exact(iu, n, &LIM, &c, &f), 0);
	assert_int_equal(c.out.fmt, TT_SRP_DESC_INDIRECT);
	assert_int_equal(c.out.count, 3);
	assert_int_equal(c.out.total, 4096 + 512 + 8192);
	tt_srp_data_desc(&c.out, 2, &d);
	assert_int_equal(d.va, 0x5000);
	assert_int_equal(d.key, 3);
	assert_int_equal(d.len, 8192);
	for (size_t k = 48; k < n; k++)
		assert_int_equal(parse_exact(iu, k, &LIM, &c, &f), -EINVAL);

	/* total length differing from the sum */
	put32(iu + hdr + 16, 4096 + 512 + 8191);
	assert_int_equal(parse_exact(iu, n, &LIM, &c, &f), -EINVAL);
	/* descriptors whose sum overflows 32 bits cannot match a 32-bit total */
	put32(iu + hdr + 20 + 12, 0xffffffffu);
	put32(iu + hdr + 36 + 12, 0xffffffffu);
	put32(iu + hdr + 52 + 12, 2);
	put32(iu + hdr + 16, 0);
	assert_int_equal(parse_exact(iu, n, &LIM, &c, &f), -EINVAL);
	put32(iu + hdr + 20 + 12, 4096);
	put32(iu + hdr + 36 + 12, 512);
	put32(iu + hdr + 52 + 12, 8192);
	put32(iu + hdr + 16, 4096 + 512 + 8192);
	assert_int_equal(parse_exact(iu, n, &LIM, &c, &f), 0);
	/* table length not a multiple of 16, zero, larger than the limit */
	put32(iu + hdr + 12, 47);
	assert_int_equal(parse_exact(iu, n, &LIM, &c, &f), -EINVAL);
	put32(iu + hdr + 12, 0);
	assert_int_equal(parse_exact(iu, n, &LIM, &c, &f), -EINVAL);
	put32(iu + hdr + 12, 0xfffffff0u);
	assert_int_equal(parse_exact(iu, n, &LIM, &c, &f), -EINVAL);
	/* part of the table outside the IU (an external table) */
	put32(iu + hdr + 12, 4 * 16);
	assert_int_equal(parse_exact(iu, n, &LIM, &c, &f), -EINVAL);
	assert_non_null(strstr(f.what, "external"));
	/* a count larger than what the IU holds */
	put32(iu + hdr + 12, 3 * 16);
	iu[6] = 255;
	assert_int_equal(parse_exact(iu, n, &LIM, &c, &f), -EINVAL);
	iu[6] = 3;
	/* more descriptors than the limit */
	struct tt_srp_cmd_limits two = LIM;

	two.max_desc = 2;
	assert_int_equal(parse_exact(iu, n, &two, &c, &f), -EINVAL);
	assert_int_equal(parse_exact(iu, n, &LIM, &c, &f), 0);
}

static void test_cmd_immediate(void **state)
{
	uint8_t iu[128];
	struct tt_srp_cmd c;
	struct tt_srp_fault f;
	size_t n = cmd_hdr(iu, TT_SRP_DESC_IMM, 0, 0, 0);

	(void)state;
	put32(iu + n, 40);
	n += 4;
	memset(iu + n, 0, 68 - n);
	for (int i = 0; i < 40; i++)
		iu[68 + i] = (uint8_t)i;
	n = 68 + 40;
	assert_int_equal(parse_exact(iu, n, &LIM, &c, &f), 0);
	assert_int_equal(c.out.fmt, TT_SRP_DESC_IMM);
	assert_int_equal(c.out.total, 40);
	assert_ptr_equal(c.out.imm, iu + 68);
	assert_int_equal(c.out.imm[39], 39);
	/* data running past the IU */
	assert_int_equal(parse_exact(iu, n - 1, &LIM, &c, &f), -EINVAL);
	put32(iu + 48, 0xffffffffu);
	assert_int_equal(parse_exact(iu, n, &LIM, &c, &f), -EINVAL);
	put32(iu + 48, 40);
	/* the offset falls on the descriptors (an additional CDB pushed them past it) */
	struct tt_srp_cmd_limits low = LIM;

	low.imm_data_offset = 50;
	assert_int_equal(parse_exact(iu, n, &low, &c, &f), -EINVAL);
	/* offset beyond the IU */
	low.imm_data_offset = 200;
	assert_int_equal(parse_exact(iu, n, &low, &c, &f), -EINVAL);
}

static void test_tsk_mgmt(void **state)
{
	uint8_t iu[48] = { 0 };
	struct tt_srp_tsk_mgmt t;

	(void)state;
	iu[0] = TT_SRP_TSK_MGMT;
	iu[1] = 0x02;
	memcpy(iu + 8, TAG, 8);
	iu[21] = 7;
	iu[30] = TT_SRP_TSK_ABORT_TASK;
	memcpy(iu + 32, "abcdefgh", 8);
	assert_int_equal(tt_srp_tsk_mgmt_parse(iu, sizeof(iu), &t), 0);
	assert_int_equal(t.tag, tag_of(TAG));
	assert_int_equal(t.sol_not, 2);
	assert_int_equal(t.lun[1], 7);
	assert_int_equal(t.func, TT_SRP_TSK_ABORT_TASK);
	assert_int_equal(t.task_tag, tag_of((const uint8_t *)"abcdefgh"));
	for (size_t n = 0; n < sizeof(iu); n++) {
		uint8_t *d = dup_exact(iu, n);

		assert_int_equal(tt_srp_tsk_mgmt_parse(d, n, &t), -EBADMSG);
		free(d);
	}
	assert_true(tt_srp_tsk_func_known(TT_SRP_TSK_LUN_RESET));
	assert_true(tt_srp_tsk_func_known(TT_SRP_TSK_CLEAR_TASK_SET));
	assert_false(tt_srp_tsk_func_known(0x10));
	assert_false(tt_srp_tsk_func_known(0));
}

static void test_rsp(void **state)
{
	uint8_t buf[128], sense[18];
	struct tt_srp_fault f = { .sense_key = 5, .asc = 0x0e, .ascq = 0x03 };

	(void)state;
	assert_int_equal(tt_srp_fault_sense(&f, sense), 18);
	assert_int_equal(sense[0], 0x70);
	assert_int_equal(sense[2], 5);
	assert_int_equal(sense[12], 0x0e);
	assert_int_equal(sense[13], 0x03);

	struct tt_srp_rsp r = {
		.tag = tag_of(TAG), .req_lim_delta = 1, .status = 0x02,
		.out_resid = 0, .in_resid = 512, .sense = sense, .sense_len = 18,
	};

	assert_int_equal(tt_srp_rsp_encode(&r, buf, sizeof(buf)), 36 + 18);
	assert_int_equal(buf[0], TT_SRP_RSP);
	assert_int_equal(get32(buf + 4), 1);
	assert_memory_equal(buf + 8, TAG, 8);
	assert_int_equal(buf[18], TT_SRP_RSP_SNSVALID | TT_SRP_RSP_DIUNDER);
	assert_int_equal(buf[19], 0x02);
	assert_int_equal(get32(buf + 20), 0);
	assert_int_equal(get32(buf + 24), 512);
	assert_int_equal(get32(buf + 28), 18);
	assert_int_equal(get32(buf + 32), 0);
	assert_memory_equal(buf + 36, sense, 18);
	/* overflow both ways, clamped */
	r.out_resid = -((int64_t)1 << 40);
	r.in_resid = -7;
	r.sense = NULL;
	assert_int_equal(tt_srp_rsp_encode(&r, buf, sizeof(buf)), 36);
	assert_int_equal(buf[18], TT_SRP_RSP_DOOVER | TT_SRP_RSP_DIOVER);
	assert_int_equal(get32(buf + 20), 0xffffffffu);
	assert_int_equal(get32(buf + 24), 7);
	assert_int_equal(get32(buf + 28), 0);
	/* sense cut to the room there is; the fixed part must fit */
	r.sense = sense;
	r.out_resid = r.in_resid = 0;
	assert_int_equal(tt_srp_rsp_encode(&r, buf, 40), 40);
	assert_int_equal(get32(buf + 28), 4);
	assert_int_equal(tt_srp_rsp_encode(&r, buf, 35), -ENOSPC);
	/* task management response: 4 bytes of response data before any sense */
	struct tt_srp_rsp t = { .tag = 9, .has_rsp_code = true, .rsp_code = TT_SRP_TMR_NOT_SUPPORTED };

	assert_int_equal(tt_srp_rsp_encode(&t, buf, sizeof(buf)), 40);
	assert_int_equal(buf[18], TT_SRP_RSP_RSPVALID);
	assert_int_equal(get32(buf + 32), 4);
	assert_int_equal(buf[39], TT_SRP_TMR_NOT_SUPPORTED);
	assert_int_equal(tt_srp_rsp_encode(&t, buf, 39), -ENOSPC);
}

/* Random mutations of valid commands: every outcome is one of the three, a fault always says
 * what, and nothing is read outside the exact-length copy (ASan in the sanitized build). */
static void test_cmd_hostile(void **state)
{
	uint8_t base[3][160], iu[160];
	size_t blen[3];
	struct tt_srp_cmd c;
	struct tt_srp_fault f;
	unsigned seed = 12345, ok = 0, chk = 0, lo = 0;

	(void)state;
	blen[0] = cmd_hdr(base[0], TT_SRP_DESC_DIRECT, 0, 0, 0);
	blen[0] += put_desc(base[0] + blen[0], 1, 2, 512);
	blen[1] = cmd_hdr(base[1], 0, TT_SRP_DESC_INDIRECT, 0, 2);
	blen[1] += put_desc(base[1] + blen[1], 0, 0, 32);
	put32(base[1] + blen[1], 1024);
	blen[1] += 4;
	blen[1] += put_desc(base[1] + blen[1], 0x10, 1, 512);
	blen[1] += put_desc(base[1] + blen[1], 0x20, 1, 512);
	blen[2] = cmd_hdr(base[2], TT_SRP_DESC_IMM, 0, 0, 0);
	memset(base[2] + 48, 0, 112);
	put32(base[2] + 48, 64);
	blen[2] = 68 + 64;
	for (int round = 0; round < 20000; round++) {
		int b = round % 3;
		size_t n = blen[b];

		memcpy(iu, base[b], n);
		for (int m = 0, k = 1 + rand_r(&seed) % 4; m < k; m++) {
			size_t at = (size_t)rand_r(&seed) % n;

			if (rand_r(&seed) % 4 == 0 && at >= 5 && at <= 7)
				iu[at] = (uint8_t)rand_r(&seed);
			else
				iu[rand_r(&seed) % 2 ? at : (size_t)(5 + rand_r(&seed) % 3)] ^=
					(uint8_t)(1u << (rand_r(&seed) % 8));
		}
		if (rand_r(&seed) % 3 == 0)
			n = (size_t)rand_r(&seed) % (n + 1);
		int rc = parse_exact(iu, n, &LIM, &c, &f);

		if (rc == 0) {
			ok++;
			assert_true(c.out.total <= LIM.max_xfer && c.in.total <= LIM.max_xfer);
		} else if (rc == -EINVAL) {
			chk++;
			assert_false(f.logout);
			assert_non_null(f.what);
		} else {
			assert_int_equal(rc, -EPROTO);
			lo++;
			assert_true(f.logout);
			assert_non_null(f.what);
		}
	}
	/* the mutations reach all three outcomes */
	assert_true(ok > 0 && chk > 0 && lo > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_login_forms),
		cmocka_unit_test(test_login_negotiate),
		cmocka_unit_test(test_short_ius),
		cmocka_unit_test(test_cmd_direct),
		cmocka_unit_test(test_cmd_formats),
		cmocka_unit_test(test_cmd_indirect),
		cmocka_unit_test(test_cmd_immediate),
		cmocka_unit_test(test_tsk_mgmt),
		cmocka_unit_test(test_rsp),
		cmocka_unit_test(test_cmd_hostile),
	};

	return tt_run_group("srp_iu_test", tests, NULL, NULL);
}
