/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NVMe/TCP PDUs (NVMe/TCP transport specification 1.0): the 8-byte common header, the header
 * checks a controller makes before it trusts a PDU's lengths, the builders of the PDUs it sends,
 * and CRC32C digests. Pure functions on byte buffers: no socket, no state.
 *
 *   common header   type(1) flags(1) hlen(1) pdo(1) plen(4, LE)
 *   ICReq/ICResp    hlen 128, no data, no digest
 *   CapsuleCmd      hlen 72 (the SQE), optional in-capsule data
 *   CapsuleResp     hlen 24 (the CQE)
 *   H2CData/C2HData hlen 24: cccid(2) ttag(2) offset(4) length(4), then data
 *   R2T             hlen 24: cccid(2) ttag(2) offset(4) length(4)
 *   H2C/C2HTermReq  hlen 24: fes(2) fei(4), then up to 152 bytes of the offending PDU header
 */
#ifndef TT_NVMF_TCP_PDU_H
#define TT_NVMF_TCP_PDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

enum tt_nvtcp_type {
	TT_NVTCP_ICREQ = 0x00,
	TT_NVTCP_ICRESP = 0x01,
	TT_NVTCP_H2C_TERM = 0x02,
	TT_NVTCP_C2H_TERM = 0x03,
	TT_NVTCP_CMD = 0x04,
	TT_NVTCP_RSP = 0x05,
	TT_NVTCP_H2C_DATA = 0x06,
	TT_NVTCP_C2H_DATA = 0x07,
	TT_NVTCP_R2T = 0x09,
};

#define TT_NVTCP_F_HDGST 0x01
#define TT_NVTCP_F_DDGST 0x02
#define TT_NVTCP_F_LAST 0x04     /* H2CData, C2HData: last PDU of the transfer */
#define TT_NVTCP_F_SUCCESS 0x08  /* C2HData: the command succeeded, no CapsuleResp follows */

#define TT_NVTCP_CH_LEN 8
#define TT_NVTCP_IC_LEN 128
#define TT_NVTCP_CMD_HLEN 72
#define TT_NVTCP_RSP_HLEN 24
#define TT_NVTCP_DATA_HLEN 24
#define TT_NVTCP_TERM_HLEN 24
#define TT_NVTCP_TERM_DATA_MAX 152
#define TT_NVTCP_DIGEST_LEN 4
#define TT_NVTCP_HDR_MAX (TT_NVTCP_IC_LEN + TT_NVTCP_DIGEST_LEN)

/* Fatal error status of a termination request. */
enum tt_nvtcp_fes {
	TT_NVTCP_FES_INVALID_HEADER = 0x01,   /* FEI: byte offset of the bad field */
	TT_NVTCP_FES_SEQUENCE = 0x02,
	TT_NVTCP_FES_HDGST = 0x03,
	TT_NVTCP_FES_OUT_OF_RANGE = 0x04,     /* data offset or length outside the transfer */
	TT_NVTCP_FES_LIMIT = 0x05,            /* R2T limit or in-capsule size exceeded */
	TT_NVTCP_FES_UNSUPPORTED = 0x06,      /* FEI: offset of the unsupported parameter */
};

/* What the connection has negotiated, for the header checks. */
struct tt_nvtcp_limits {
	bool ic_done;          /* ICReq/ICResp exchanged */
	bool hdgst, ddgst;     /* digests enabled */
	uint32_t max_icd;      /* in-capsule data a command capsule may carry */
	uint32_t max_h2c;      /* MAXH2CDATA of the ICResp */
};

/* A host-to-controller PDU's layout, from its common header. */
struct tt_nvtcp_layout {
	uint8_t type, flags, hlen, pdo;
	uint32_t plen;
	uint32_t psh_len;      /* bytes after the common header, header digest included */
	uint32_t pad;          /* bytes between the header (digest) and the data */
	uint32_t data_len;     /* data bytes, without the data digest */
	bool hdgst, ddgst;     /* digests present in this PDU */
};

/*
 * Checks the common header @ch of a PDU sent by a host under @lim. Returns 0 with @out filled,
 * or -EPROTO with the termination request's status in *@fes and field offset in *@fei.
 */
int tt_nvtcp_check_ch(const uint8_t ch[TT_NVTCP_CH_LEN], const struct tt_nvtcp_limits *lim,
		      struct tt_nvtcp_layout *out, uint16_t *fes, uint32_t *fei);

/* An ICReq's fields (whole 128-byte PDU); -EPROTO with fes/fei if it asks for what we lack. */
struct tt_nvtcp_icreq {
	uint16_t pfv;
	uint8_t hpda;          /* the host's data alignment, (hpda + 1) * 4 bytes */
	bool hdgst, ddgst;
	uint32_t maxr2t;       /* 0's based */
};
int tt_nvtcp_parse_icreq(const uint8_t pdu[TT_NVTCP_IC_LEN], struct tt_nvtcp_icreq *ic,
			 uint16_t *fes, uint32_t *fei);

/* Builders: each writes the header (and the header digest when @hdgst) into @buf, at least
 * TT_NVTCP_HDR_MAX bytes, and returns the bytes written before any data. */
size_t tt_nvtcp_build_icresp(uint8_t *buf, bool hdgst, bool ddgst, uint32_t maxh2c);
size_t tt_nvtcp_build_rsp(uint8_t *buf, const uint8_t cqe[16], bool hdgst);
/* C2HData for @len bytes at @offset of command @cccid: the data follows at the returned length
 * (header, digest, padding to the host's alignment @hpda), then a data digest when @ddgst. */
size_t tt_nvtcp_build_c2h(uint8_t *buf, uint16_t cccid, uint32_t offset, uint32_t len, bool last,
			  bool success, bool hdgst, bool ddgst, uint8_t hpda);
size_t tt_nvtcp_build_r2t(uint8_t *buf, uint16_t cccid, uint16_t ttag, uint32_t offset,
			  uint32_t len, bool hdgst);
/* C2HTermReq with up to 152 bytes of the offending header (@bad, @bad_len): the header and data
 * go to @buf (TT_NVTCP_TERM_HLEN + TT_NVTCP_TERM_DATA_MAX bytes); returns the PDU's length. */
size_t tt_nvtcp_build_term(uint8_t *buf, uint16_t fes, uint32_t fei, const uint8_t *bad,
			   size_t bad_len);

/* CRC32C as NVMe/TCP digests use it (stored little endian). */
uint32_t tt_nvtcp_crc(const void *buf, size_t len);
uint32_t tt_nvtcp_crc_iov(const struct iovec *iov, int iovcnt);
/* The header digest of @hdr[0..hlen) matches the 4 bytes after it. */
bool tt_nvtcp_hdgst_ok(const uint8_t *hdr, size_t hlen);

const char *tt_nvtcp_type_name(uint8_t type);

#endif
