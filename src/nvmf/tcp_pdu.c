/* SPDX-License-Identifier: BSD-3-Clause */
/* NVMe/TCP PDUs: header checks, builders, digests (see tcp_pdu.h). */
#include "nvmf/tcp_pdu.h"

#include <errno.h>
#include <isa-l/crc.h>
#include <limits.h>
#include <string.h>

#include "nvmf/nvme.h"

/* offsets of the common header's fields, for the FEI of a termination request */
#define CH_TYPE 0
#define CH_FLAGS 1
#define CH_HLEN 2
#define CH_PDO 3
#define CH_PLEN 4

static int bad(uint16_t *fes, uint32_t *fei, uint16_t s, uint32_t i)
{
	*fes = s;
	*fei = i;
	return -EPROTO;
}

/* Digest flags, data layout and lengths of a PDU that may carry data. */
static int check_data_pdu(const struct tt_nvtcp_limits *lim, struct tt_nvtcp_layout *l,
			  bool data_required, uint32_t max_data, uint16_t *fes, uint32_t *fei)
{
	uint32_t hmin = l->hlen + (l->hdgst ? TT_NVTCP_DIGEST_LEN : 0);

	if (l->hdgst != lim->hdgst)
		return bad(fes, fei, TT_NVTCP_FES_INVALID_HEADER, CH_FLAGS);
	if (l->plen < hmin)
		return bad(fes, fei, TT_NVTCP_FES_INVALID_HEADER, CH_PLEN);
	if (l->plen == hmin) {
		if (data_required)
			return bad(fes, fei, TT_NVTCP_FES_INVALID_HEADER, CH_PLEN);
		if (l->ddgst)
			return bad(fes, fei, TT_NVTCP_FES_INVALID_HEADER, CH_FLAGS);
		return 0;
	}
	if (l->ddgst != lim->ddgst)
		return bad(fes, fei, TT_NVTCP_FES_INVALID_HEADER, CH_FLAGS);
	if (l->pdo < hmin || l->pdo >= l->plen)
		return bad(fes, fei, TT_NVTCP_FES_INVALID_HEADER, CH_PDO);
	if (l->plen - l->pdo <= (l->ddgst ? TT_NVTCP_DIGEST_LEN : 0))
		return bad(fes, fei, TT_NVTCP_FES_INVALID_HEADER, CH_PLEN);
	l->pad = l->pdo - hmin;
	l->data_len = l->plen - l->pdo - (l->ddgst ? TT_NVTCP_DIGEST_LEN : 0);
	if (l->data_len > max_data)
		return bad(fes, fei, TT_NVTCP_FES_LIMIT, CH_PLEN);
	return 0;
}

int tt_nvtcp_check_ch(const uint8_t ch[TT_NVTCP_CH_LEN], const struct tt_nvtcp_limits *lim,
		      struct tt_nvtcp_layout *l, uint16_t *fes, uint32_t *fei)
{
	memset(l, 0, sizeof(*l));
	l->type = ch[CH_TYPE];
	l->flags = ch[CH_FLAGS];
	l->hlen = ch[CH_HLEN];
	l->pdo = ch[CH_PDO];
	l->plen = tt_le32(ch + CH_PLEN);
	l->hdgst = l->flags & TT_NVTCP_F_HDGST;
	l->ddgst = l->flags & TT_NVTCP_F_DDGST;

	if (!lim->ic_done && l->type != TT_NVTCP_ICREQ)
		return bad(fes, fei, TT_NVTCP_FES_SEQUENCE, CH_TYPE);
	switch (l->type) {
	case TT_NVTCP_ICREQ:
		if (lim->ic_done)
			return bad(fes, fei, TT_NVTCP_FES_SEQUENCE, CH_TYPE);
		if (l->hlen != TT_NVTCP_IC_LEN)
			return bad(fes, fei, TT_NVTCP_FES_INVALID_HEADER, CH_HLEN);
		if (l->flags)
			return bad(fes, fei, TT_NVTCP_FES_INVALID_HEADER, CH_FLAGS);
		if (l->pdo)
			return bad(fes, fei, TT_NVTCP_FES_INVALID_HEADER, CH_PDO);
		if (l->plen != TT_NVTCP_IC_LEN)
			return bad(fes, fei, TT_NVTCP_FES_INVALID_HEADER, CH_PLEN);
		l->hdgst = l->ddgst = false;
		break;
	case TT_NVTCP_H2C_TERM:
		if (l->hlen != TT_NVTCP_TERM_HLEN)
			return bad(fes, fei, TT_NVTCP_FES_INVALID_HEADER, CH_HLEN);
		if (l->plen < TT_NVTCP_TERM_HLEN ||
		    l->plen > TT_NVTCP_TERM_HLEN + TT_NVTCP_TERM_DATA_MAX)
			return bad(fes, fei, TT_NVTCP_FES_INVALID_HEADER, CH_PLEN);
		/* no digests; what follows the header is read and ignored */
		l->hdgst = l->ddgst = false;
		l->data_len = l->plen - TT_NVTCP_TERM_HLEN;
		break;
	case TT_NVTCP_CMD:
		if (l->hlen != TT_NVTCP_CMD_HLEN)
			return bad(fes, fei, TT_NVTCP_FES_INVALID_HEADER, CH_HLEN);
		if (check_data_pdu(lim, l, false, lim->max_icd, fes, fei))
			return -EPROTO;
		break;
	case TT_NVTCP_H2C_DATA:
		if (l->hlen != TT_NVTCP_DATA_HLEN)
			return bad(fes, fei, TT_NVTCP_FES_INVALID_HEADER, CH_HLEN);
		if (check_data_pdu(lim, l, true, lim->max_h2c, fes, fei))
			return -EPROTO;
		break;
	default:
		/* ICResp, CapsuleResp, C2HData, R2T go the other way; the rest are unknown */
		return bad(fes, fei, TT_NVTCP_FES_INVALID_HEADER, CH_TYPE);
	}
	l->psh_len = l->hlen - TT_NVTCP_CH_LEN + (l->hdgst ? TT_NVTCP_DIGEST_LEN : 0);
	return 0;
}

int tt_nvtcp_parse_icreq(const uint8_t pdu[TT_NVTCP_IC_LEN], struct tt_nvtcp_icreq *ic,
			 uint16_t *fes, uint32_t *fei)
{
	ic->pfv = tt_le16(pdu + 8);
	ic->hpda = pdu[10];
	ic->hdgst = pdu[11] & 0x1;
	ic->ddgst = pdu[11] & 0x2;
	ic->maxr2t = tt_le32(pdu + 12);
	if (ic->pfv != 0)
		return bad(fes, fei, TT_NVTCP_FES_UNSUPPORTED, 8);
	if (ic->hpda > 31)
		return bad(fes, fei, TT_NVTCP_FES_INVALID_HEADER, 10);
	if (pdu[11] & ~0x3u)
		return bad(fes, fei, TT_NVTCP_FES_INVALID_HEADER, 11);
	return 0;
}

static void put_ch(uint8_t *buf, uint8_t type, uint8_t flags, uint8_t hlen, uint8_t pdo,
		   uint32_t plen)
{
	buf[0] = type;
	buf[1] = flags;
	buf[2] = hlen;
	buf[3] = pdo;
	tt_put_le32(buf + 4, plen);
}

static size_t put_hdgst(uint8_t *buf, size_t hlen, bool hdgst)
{
	if (!hdgst)
		return hlen;
	tt_put_le32(buf + hlen, tt_nvtcp_crc(buf, hlen));
	return hlen + TT_NVTCP_DIGEST_LEN;
}

size_t tt_nvtcp_build_icresp(uint8_t *buf, bool hdgst, bool ddgst, uint32_t maxh2c)
{
	memset(buf, 0, TT_NVTCP_IC_LEN);
	put_ch(buf, TT_NVTCP_ICRESP, 0, TT_NVTCP_IC_LEN, 0, TT_NVTCP_IC_LEN);
	tt_put_le16(buf + 8, 0);           /* PFV */
	buf[10] = 0;                       /* CPDA: no alignment needed */
	buf[11] = (uint8_t)((hdgst ? 0x1 : 0) | (ddgst ? 0x2 : 0));
	tt_put_le32(buf + 12, maxh2c);
	return TT_NVTCP_IC_LEN;
}

size_t tt_nvtcp_build_rsp(uint8_t *buf, const uint8_t cqe[16], bool hdgst)
{
	size_t h = TT_NVTCP_RSP_HLEN, d = hdgst ? TT_NVTCP_DIGEST_LEN : 0;

	put_ch(buf, TT_NVTCP_RSP, hdgst ? TT_NVTCP_F_HDGST : 0, (uint8_t)h, 0, (uint32_t)(h + d));
	memcpy(buf + 8, cqe, 16);
	return put_hdgst(buf, h, hdgst);
}

size_t tt_nvtcp_build_c2h(uint8_t *buf, uint16_t cccid, uint32_t offset, uint32_t len, bool last,
			  bool success, bool hdgst, bool ddgst, uint8_t hpda)
{
	size_t h = TT_NVTCP_DATA_HLEN, hd = h + (hdgst ? TT_NVTCP_DIGEST_LEN : 0);
	size_t align = ((size_t)hpda + 1) * 4, pdo = (hd + align - 1) / align * align;
	uint8_t flags = (uint8_t)((hdgst ? TT_NVTCP_F_HDGST : 0) | (ddgst ? TT_NVTCP_F_DDGST : 0) |
				  (last ? TT_NVTCP_F_LAST : 0) | (success ? TT_NVTCP_F_SUCCESS : 0));

	memset(buf, 0, pdo);
	put_ch(buf, TT_NVTCP_C2H_DATA, flags, (uint8_t)h, (uint8_t)pdo,
	       (uint32_t)(pdo + len + (ddgst ? TT_NVTCP_DIGEST_LEN : 0)));
	tt_put_le16(buf + 8, cccid);
	tt_put_le32(buf + 12, offset);
	tt_put_le32(buf + 16, len);
	put_hdgst(buf, h, hdgst);
	return pdo;
}

size_t tt_nvtcp_build_r2t(uint8_t *buf, uint16_t cccid, uint16_t ttag, uint32_t offset,
			  uint32_t len, bool hdgst)
{
	size_t h = TT_NVTCP_DATA_HLEN, d = hdgst ? TT_NVTCP_DIGEST_LEN : 0;

	memset(buf, 0, h);
	put_ch(buf, TT_NVTCP_R2T, hdgst ? TT_NVTCP_F_HDGST : 0, (uint8_t)h, 0, (uint32_t)(h + d));
	tt_put_le16(buf + 8, cccid);
	tt_put_le16(buf + 10, ttag);
	tt_put_le32(buf + 12, offset);
	tt_put_le32(buf + 16, len);
	return put_hdgst(buf, h, hdgst);
}

size_t tt_nvtcp_build_term(uint8_t *buf, uint16_t fes, uint32_t fei, const uint8_t *bad_hdr,
			   size_t bad_len)
{
	size_t h = TT_NVTCP_TERM_HLEN;

	if (bad_len > TT_NVTCP_TERM_DATA_MAX)
		bad_len = TT_NVTCP_TERM_DATA_MAX;
	memset(buf, 0, h);
	put_ch(buf, TT_NVTCP_C2H_TERM, 0, (uint8_t)h, bad_len ? (uint8_t)h : 0,
	       (uint32_t)(h + bad_len));
	tt_put_le16(buf + 8, fes);
	tt_put_le32(buf + 10, fei);
	if (bad_len)
		memcpy(buf + h, bad_hdr, bad_len);
	return h + bad_len;
}

uint32_t tt_nvtcp_crc(const void *buf, size_t len)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	return tt_nvtcp_crc_iov(&iov, 1);
}

uint32_t tt_nvtcp_crc_iov(const struct iovec *iov, int iovcnt)
{
	uint32_t st = 0xffffffffu;

	for (int i = 0; i < iovcnt; i++) {
		const unsigned char *p = iov[i].iov_base;
		size_t len = iov[i].iov_len;

		while (len) {
			int n = len > (size_t)INT_MAX ? INT_MAX : (int)len;

			st = crc32_iscsi((unsigned char *)p, n, st);
			p += n;
			len -= (size_t)n;
		}
	}
	return st ^ 0xffffffffu;
}

bool tt_nvtcp_hdgst_ok(const uint8_t *hdr, size_t hlen)
{
	return tt_le32(hdr + hlen) == tt_nvtcp_crc(hdr, hlen);
}

const char *tt_nvtcp_type_name(uint8_t type)
{
	switch (type) {
	case TT_NVTCP_ICREQ: return "ICReq";
	case TT_NVTCP_ICRESP: return "ICResp";
	case TT_NVTCP_H2C_TERM: return "H2CTermReq";
	case TT_NVTCP_C2H_TERM: return "C2HTermReq";
	case TT_NVTCP_CMD: return "CapsuleCmd";
	case TT_NVTCP_RSP: return "CapsuleResp";
	case TT_NVTCP_H2C_DATA: return "H2CData";
	case TT_NVTCP_C2H_DATA: return "C2HData";
	case TT_NVTCP_R2T: return "R2T";
	default: return "unknown";
	}
}
