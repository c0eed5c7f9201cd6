/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Text keys and their negotiation (src/iscsi/text.c, params.c): a login or text exchange of up
 * to eight requests, each a key=value data segment appended in chunks (the C bit), answered as
 * the target does (tt_params_respond, tt_params_declare, then tt_params_finish), or, with the
 * role bit, checked as the initiator does against its own offers (tt_params_offer,
 * tt_params_accept). Every value also goes through the value decoders, and every response is
 * cut into chunks as a multi-PDU response would be.
 *
 * Input: flags, chunk size, stages (2 bits per request), then the requests separated by 0xff
 * (a byte that cannot be part of valid text).
 *   flags bit 0-1 unused, 2 leading login, 3 discovery allowed, 4 CHAP in the auth methods,
 *         5 RDMA extensions, 6 initiator role, 7 a policy that differs from the RFC defaults
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_util.h"
#include "iscsi/params.h"
#include "iscsi/text.h"

#define MAX_STEPS 8

static const enum tt_login_stage stages[4] = { TT_STAGE_SECURITY, TT_STAGE_OPERATIONAL,
					       TT_STAGE_OPERATIONAL, TT_STAGE_FULL_FEATURE };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_log();
	return 0;
}

/* Every value through the decoders the negotiation and CHAP use. */
static void decode_values(const struct tt_text *t)
{
	for (size_t i = 0; i < tt_text_count(t); i++) {
		struct tt_text_pair p = tt_text_get(t, i);
		uint8_t bin[256];
		char item[64];
		const char *cur = p.value;
		uint64_t u;
		size_t len;
		bool b;
		int n = 0;

		(void)tt_text_parse_u64(p.value, 0, UINT64_MAX, &u);
		(void)tt_text_parse_u64(p.value, 512, 16777215, &u);
		(void)tt_text_parse_bool(p.value, &b);
		(void)tt_text_decode_binary(p.value, bin, sizeof(bin), &len);
		while (cur && n++ < 64 && tt_text_list_next(&cur, item, sizeof(item)) > 0)
			;
		(void)tt_text_list_contains(p.value, "CRC32C");
		(void)tt_key_lookup(p.key);
		(void)tt_text_occurrences(t, p.key);
		(void)tt_text_key_valid(p.key, strlen(p.key));
	}
}

/* Cuts a response as login (8 KiB) or a small MaxRecvDataSegmentLength would. */
static void chunk_out(const struct tt_text_out *o, size_t max_chunk)
{
	size_t off = 0, total = 0;
	bool last = false;
	const char *chunk;

	while (!last) {
		size_t n = tt_text_next_chunk(o, &off, max_chunk, &chunk, &last);

		total += n;
		if (total > o->len + 1)
			__builtin_trap(); /* the chunks cover more than the text */
	}
}

static void policy(struct tt_params_policy *pol, uint8_t flags)
{
	tt_params_policy_defaults(pol);
	pol->discovery_allowed = flags & 0x08;
	if (flags & 0x10)
		pol->auth_methods = "CHAP,None";
	pol->rdma_extensions = flags & 0x20;
	if (flags & 0x80) {
		pol->header_digests = "CRC32C";
		pol->data_digests = "CRC32C,None";
		pol->max_recv_dsl = 4096;
		pol->max_burst = 65536;
		pol->first_burst = 8192;
		pol->initial_r2t = false;
		pol->immediate_data = true;
		pol->max_outstanding_r2t = 4;
		pol->erl_max = 2;
		pol->max_connections = 4;
		pol->time2wait = 0;
		pol->time2retain = 0;
		pol->target_alias = "fuzz";
	}
	pol->tpgt = 1;
	pol->initiator_name = "iqn.1994-05.com.redhat:host1";
	pol->target_name = "iqn.2026-11.org.tether:default";
	pol->session_type = TT_SESSION_NORMAL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t flags = fuzz_u8(&in), chunk = fuzz_u8(&in), stagebits = fuzz_u8(&in);
	bool initiator = flags & 0x40;
	struct tt_params_policy pol;
	struct tt_negotiation n;
	struct tt_params p;
	struct tt_text req;
	struct tt_text_out out;
	const uint8_t *seg;
	size_t seglen;
	int rc = 0;

	policy(&pol, flags);
	tt_params_init(&p);
	tt_negotiation_init(&n, initiator ? TT_ROLE_INITIATOR : TT_ROLE_TARGET, flags & 0x04);
	tt_text_init(&req, 0);
	tt_text_out_init(&out, 0);

	for (int step = 0; step < MAX_STEPS && rc == 0 && fuzz_part(&in, 0xff, &seg, &seglen); step++) {
		enum tt_login_stage stage = stages[(stagebits >> (2 * (step & 3))) & 3];
		size_t off = 0;

		/* the request, in PDUs of @chunk bytes (0: one PDU) */
		tt_text_reset(&req);
		do {
			size_t n1 = chunk ? chunk : seglen;

			if (n1 > seglen - off)
				n1 = seglen - off;
			rc = tt_text_append(&req, seg + off, n1, off + n1 == seglen);
			off += n1;
		} while (rc == 0 && off < seglen);
		if (rc)
			break;
		decode_values(&req);
		(void)tt_text_find(&req, "InitiatorName");

		tt_text_out_reset(&out);
		if (initiator) {
			/* our offers first (the target's answers come back in @req) */
			struct tt_text_out offers;

			tt_text_out_init(&offers, 0);
			rc = tt_params_offer(&n, &p, &pol, stage, &offers);
			tt_text_out_fini(&offers);
			if (rc == 0)
				rc = tt_params_accept(&n, &p, &pol, stage, &req, &out);
		} else {
			rc = tt_params_respond(&n, &p, &pol, stage, &req, &out);
			if (rc == 0)
				rc = tt_params_declare(&n, &p, &pol, stage, &out);
		}
		chunk_out(&out, 8192);
		chunk_out(&out, 1 + (chunk & 0x3f));
	}
	if (rc == 0) {
		(void)tt_params_offers_answered(&n);
		if (tt_params_finish(&n, &p) == 0 && p.first_burst > p.max_burst)
			__builtin_trap(); /* finish settles FirstBurstLength <= MaxBurstLength */
	}
	tt_text_out_fini(&out);
	tt_text_fini(&req);
	return 0;
}
