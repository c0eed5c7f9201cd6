/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * iSER wire formats and login rules (see iser_proto.h). RFC 7145 §9.2-§9.4, §6.
 */
#include "xport/iser_proto.h"

#include <errno.h>
#include <string.h>

#include "iscsi/wire.h"

int tt_iser_hdr_decode(const uint8_t *buf, size_t len, struct tt_iser_hdr *h)
{
	uint8_t op;

	if (len < 4)
		return -EPROTO;
	memset(h, 0, sizeof(*h));
	op = buf[0] >> 4;
	switch (op) {
	case TT_ISER_OP_CTRL:
		if (len < TT_ISER_HDR_LEN)
			return -EPROTO;
		h->opcode = TT_ISER_OP_CTRL;
		h->wsv = buf[0] & TT_ISER_FLAG_WSV;
		h->rsv = buf[0] & TT_ISER_FLAG_RSV;
		if (h->wsv) {
			h->write_stag = tt_get_be32(buf + 4);
			h->write_va = tt_get_be64(buf + 8);
		}
		if (h->rsv) {
			h->read_stag = tt_get_be32(buf + 16);
			h->read_va = tt_get_be64(buf + 20);
		}
		return 0;
	case TT_ISER_OP_HELLO:
		if (buf[0] & (TT_ISER_FLAG_WSV | TT_ISER_FLAG_RSV))
			return -EPROTO;
		h->opcode = TT_ISER_OP_HELLO;
		return 0;
	default:
		return -EPROTO;
	}
}

void tt_iser_hdr_encode(const struct tt_iser_hdr *h, uint8_t out[TT_ISER_HDR_LEN])
{
	memset(out, 0, TT_ISER_HDR_LEN);
	out[0] = (uint8_t)(h->opcode << 4);
	if (h->opcode != TT_ISER_OP_CTRL)
		return;
	if (h->wsv) {
		out[0] |= TT_ISER_FLAG_WSV;
		tt_put_be32(out + 4, h->write_stag);
		tt_put_be64(out + 8, h->write_va);
	}
	if (h->rsv) {
		out[0] |= TT_ISER_FLAG_RSV;
		tt_put_be32(out + 16, h->read_stag);
		tt_put_be64(out + 20, h->read_va);
	}
}

int tt_iser_hello_decode(const uint8_t *buf, size_t len, struct tt_iser_hello *h)
{
	if (len < 4 || (buf[0] >> 4) != TT_ISER_OP_HELLO)
		return -EPROTO;
	h->max_ver = buf[1] >> 4;
	h->min_ver = buf[1] & 0x0f;
	h->reject = false;
	h->ird_ord = (uint16_t)(buf[2] << 8 | buf[3]);
	if (h->min_ver > h->max_ver)
		return -EPROTO;
	return 0;
}

void tt_iser_hello_reply(const struct tt_iser_hello *hello, uint16_t max_ord,
			 uint8_t out[TT_ISER_HELLO_LEN])
{
	bool ok = hello->min_ver <= TT_ISER_VERSION && TT_ISER_VERSION <= hello->max_ver;
	uint16_t ord = hello->ird_ord < max_ord ? hello->ird_ord : max_ord;

	memset(out, 0, TT_ISER_HELLO_LEN);
	out[0] = (uint8_t)(TT_ISER_OP_HELLO_REPLY << 4) | (ok ? 0 : 1);
	out[1] = (uint8_t)(TT_ISER_VERSION << 4 | (ok ? TT_ISER_VERSION : 0));
	out[2] = (uint8_t)(ord >> 8);
	out[3] = (uint8_t)ord;
}

/* area[0]: read VA, area[1]: write VA, area[2]: read STag << 32 | write STag, area[3]: flags */
#define AREA_RSV 1u
#define AREA_WSV 2u

void tt_iser_area_set(uint64_t area[4], const struct tt_iser_hdr *h)
{
	area[0] = h->rsv ? h->read_va : 0;
	area[1] = h->wsv ? h->write_va : 0;
	area[2] = (uint64_t)(h->rsv ? h->read_stag : 0) << 32 | (h->wsv ? h->write_stag : 0);
	area[3] = (h->rsv ? AREA_RSV : 0) | (h->wsv ? AREA_WSV : 0);
}

bool tt_iser_area_read(const uint64_t area[4], uint32_t *stag, uint64_t *va)
{
	if (!(area[3] & AREA_RSV))
		return false;
	*stag = (uint32_t)(area[2] >> 32);
	*va = area[0];
	return true;
}

bool tt_iser_area_write(const uint64_t area[4], uint32_t *stag, uint64_t *va)
{
	if (!(area[3] & AREA_WSV))
		return false;
	*stag = (uint32_t)area[2];
	*va = area[1];
	return true;
}

void tt_iser_login_policy(struct tt_params_policy *pol)
{
	/* RFC 7145 §6.1, §6.2: the digests are the RDMA fabric's business */
	pol->header_digests = "None";
	pol->data_digests = "None";
	pol->rdma_extensions = true;
	/* the write data the command did not bring is fetched with one RDMA READ as soon as the
	 * command is in: no unsolicited Data-Out may still be on its way then */
	pol->initial_r2t = true;
	if (pol->max_recv_dsl > TT_ISER_MAX_RECV_DSL || pol->max_recv_dsl == 0)
		pol->max_recv_dsl = TT_ISER_MAX_RECV_DSL;
}

void tt_iser_params_apply(struct tt_params *p)
{
	if (!p->rdma_extensions)
		return;
	p->max_xmit_dsl = p->initiator_recv_dsl;
	p->max_recv_dsl = p->target_recv_dsl;
}
