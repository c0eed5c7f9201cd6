/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The SRP information unit codec (src/srp/iu.c) against whatever an initiator may send: each
 * input is one received IU, parsed by the parser its first byte selects (the RDMA-CM login form
 * too), under limits picked by a control byte; the answers the target would send are encoded
 * into buffers of the size a login would allow. A parser must fail cleanly or return fields that
 * lie inside the input (libFuzzer's input is exactly its length, so ASan catches a read past
 * it); a fault must say what it is.
 *
 * Input: a control byte, then the IU.
 *   control bit 0 direct descriptors granted, 1 indirect, 2 immediate data at offset 68,
 *           3 immediate data at offset 52, 4-5 the descriptor limit (1, 2, 16, 255),
 *           6 transfer limit 64 KiB (else 16 MiB), 7 parse the IU as RDMA-CM login private data
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "srp/iu.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_log();
	return 0;
}

static void inside(const uint8_t *p, uint64_t n, const uint8_t *iu, size_t len)
{
	if (p && (p < iu || n > len || (size_t)(p - iu) > len - n))
		abort();
}

static void login(const uint8_t *iu, size_t len, bool rdma)
{
	struct tt_srp_login_req req;
	const struct tt_srp_login_limits lim = {
		.max_it_iu_len = 8260, .max_ti_iu_len = 8260, .req_lim = 128,
		.buf_fmt = TT_SRP_BUF_DIRECT | TT_SRP_BUF_INDIRECT, .immed = true,
	};
	struct tt_srp_login_rsp rsp;
	uint8_t out[TT_SRP_LOGIN_RSP_LEN];

	if ((rdma ? tt_srp_login_req_rdma_parse(iu, len, &req) :
		    tt_srp_login_req_parse(iu, len, &req)) != 0)
		return;
	uint32_t reason = tt_srp_login_negotiate(&req, &lim, &rsp);

	if (reason) {
		if (reason < TT_SRP_REJ_UNABLE_ESTABLISH || reason > TT_SRP_REJ_CHANNEL_LIMIT)
			abort();
		if (tt_srp_login_rej_encode(req.tag, reason, lim.buf_fmt, out, sizeof(out)) !=
		    TT_SRP_LOGIN_REJ_LEN)
			abort();
		return;
	}
	if (rsp.max_it_iu_len > lim.max_it_iu_len || rsp.req_lim_delta != lim.req_lim)
		abort();
	if ((rsp.rsp_flags & TT_SRP_RSP_IMMED_SUPP) &&
	    (rsp.imm_data_offset < TT_SRP_CMD_LEN + TT_SRP_IMM_DESC_LEN ||
	     rsp.imm_data_offset >= rsp.max_it_iu_len))
		abort();
	if (tt_srp_login_rsp_encode(&rsp, out, sizeof(out)) != TT_SRP_LOGIN_RSP_LEN)
		abort();
}

static void cmd(const uint8_t *iu, size_t len, uint8_t ctl)
{
	static const uint32_t max_desc[4] = { 1, 2, 16, 255 };
	struct tt_srp_cmd_limits lim = {
		.buf_fmt = (uint16_t)(((ctl & 1) ? TT_SRP_BUF_DIRECT : 0) |
				      ((ctl & 2) ? TT_SRP_BUF_INDIRECT : 0)),
		.imm_data_offset = (ctl & 4) ? 68 : (ctl & 8) ? 52 : 0,
		.max_desc = max_desc[(ctl >> 4) & 3],
		.max_xfer = (ctl & 0x40) ? 65536 : 16 << 20,
	};
	struct tt_srp_cmd c;
	struct tt_srp_fault f;
	uint8_t rsp[256], sense[18];
	int rc = tt_srp_cmd_parse(iu, len, &lim, &c, &f);

	if (rc == 0) {
		inside(c.cdb, c.cdb_len, iu, len);
		if (c.out.total > lim.max_xfer || c.in.total > lim.max_xfer)
			abort();
		for (int dir = 0; dir < 2; dir++) {
			const struct tt_srp_data *d = dir ? &c.in : &c.out;
			uint64_t sum = 0;

			inside(d->descs, (uint64_t)d->count * TT_SRP_DIRECT_DESC_LEN, iu, len);
			inside(d->imm, d->total, iu, len);
			if (d->descs && d->count > lim.max_desc)
				abort();
			for (uint32_t i = 0; d->descs && i < d->count; i++) {
				struct tt_srp_desc desc;

				tt_srp_data_desc(d, i, &desc);
				sum += desc.len;
			}
			if (d->descs && sum != d->total)
				abort();
		}
		return;
	}
	if (!f.what || (rc == -EPROTO) != f.logout)
		abort();
	if (f.logout) {
		if (tt_srp_t_logout_encode(c.tag, f.logout_reason, 0, rsp, sizeof(rsp)) !=
		    TT_SRP_T_LOGOUT_LEN)
			abort();
		return;
	}
	struct tt_srp_rsp r = { .tag = c.tag, .req_lim_delta = 1, .status = 0x02,
				.sense = sense, .sense_len = tt_srp_fault_sense(&f, sense) };

	if (tt_srp_rsp_encode(&r, rsp, sizeof(rsp)) != TT_SRP_RSP_LEN + 18)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t ctl = data[0];
	const uint8_t *iu = data + 1;
	size_t len = size - 1;
	struct tt_srp_tsk_mgmt t;
	uint64_t tag;

	if (ctl & 0x80) {
		login(iu, len, true);
		return 0;
	}
	switch (tt_srp_iu_type(iu, len)) {
	case TT_SRP_LOGIN_REQ:
		login(iu, len, false);
		break;
	case TT_SRP_CMD:
		cmd(iu, len, ctl);
		break;
	case TT_SRP_TSK_MGMT:
		if (tt_srp_tsk_mgmt_parse(iu, len, &t) == 0) {
			uint8_t rsp[64];
			struct tt_srp_rsp r = {
				.tag = t.tag, .has_rsp_code = true,
				.rsp_code = tt_srp_tsk_func_known(t.func) ? TT_SRP_TMR_COMPLETE :
									    TT_SRP_TMR_NOT_SUPPORTED,
			};

			if (tt_srp_rsp_encode(&r, rsp, sizeof(rsp)) != TT_SRP_RSP_LEN + 4)
				abort();
		}
		break;
	case TT_SRP_I_LOGOUT:
		(void)tt_srp_i_logout_parse(iu, len, &tag);
		break;
	case TT_SRP_CRED_RSP:
		(void)tt_srp_cred_rsp_parse(iu, len, &tag);
		break;
	case TT_SRP_AER_RSP:
		(void)tt_srp_aer_rsp_parse(iu, len, &tag);
		break;
	default:
		/* every other type is also tried as a command: the logout for a wrong IU type */
		cmd(iu, len, ctl);
		break;
	}
	return 0;
}
