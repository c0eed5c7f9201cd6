/* SPDX-License-Identifier: BSD-3-Clause */
/* NVMe/TCP PDU codec: header checks (with the FES/FEI a termination request carries),
 * builders, digests. */
#include "tt_test.h"

#include <errno.h>

#include "nvmf/nvme.h"
#include "nvmf/tcp_pdu.h"

static const struct tt_nvtcp_limits fresh = { .ic_done = false, .max_icd = 8192, .max_h2c = 65536 };
static const struct tt_nvtcp_limits plain = { .ic_done = true, .max_icd = 8192, .max_h2c = 65536 };
static const struct tt_nvtcp_limits digests = { .ic_done = true, .hdgst = true, .ddgst = true,
						 .max_icd = 8192, .max_h2c = 65536 };

static void ch(uint8_t *b, uint8_t type, uint8_t flags, uint8_t hlen, uint8_t pdo, uint32_t plen)
{
	b[0] = type;
	b[1] = flags;
	b[2] = hlen;
	b[3] = pdo;
	tt_put_le32(b + 4, plen);
}

/* expects a refusal with @fes, @fei */
static void refused(const uint8_t *b, const struct tt_nvtcp_limits *lim, uint16_t fes, uint32_t fei)
{
	struct tt_nvtcp_layout l;
	uint16_t gfes = 0;
	uint32_t gfei = 99;

	assert_int_equal(tt_nvtcp_check_ch(b, lim, &l, &gfes, &gfei), -EPROTO);
	assert_int_equal(gfes, fes);
	assert_int_equal(gfei, fei);
}

static void test_crc(void **state)
{
	(void)state;
	/* the CRC-32C check value */
	assert_int_equal(tt_nvtcp_crc("123456789", 9), 0xe3069283u);
	{
		struct iovec iov[2] = { { "1234", 4 }, { "56789", 5 } };

		assert_int_equal(tt_nvtcp_crc_iov(iov, 2), 0xe3069283u);
	}
}

static void test_icreq_sequence(void **state)
{
	uint8_t b[8];
	struct tt_nvtcp_layout l;
	uint16_t fes;
	uint32_t fei;

	(void)state;
	ch(b, TT_NVTCP_ICREQ, 0, 128, 0, 128);
	assert_int_equal(tt_nvtcp_check_ch(b, &fresh, &l, &fes, &fei), 0);
	assert_int_equal(l.psh_len, 120);
	assert_int_equal(l.data_len, 0);
	refused(b, &plain, TT_NVTCP_FES_SEQUENCE, 0);              /* a second ICReq */
	ch(b, TT_NVTCP_CMD, 0, 72, 0, 72);
	refused(b, &fresh, TT_NVTCP_FES_SEQUENCE, 0);              /* a capsule before ICReq */
	ch(b, TT_NVTCP_ICREQ, 0, 100, 0, 128);
	refused(b, &fresh, TT_NVTCP_FES_INVALID_HEADER, 2);
	ch(b, TT_NVTCP_ICREQ, 0, 128, 0, 129);
	refused(b, &fresh, TT_NVTCP_FES_INVALID_HEADER, 4);
	ch(b, TT_NVTCP_ICREQ, 1, 128, 0, 128);
	refused(b, &fresh, TT_NVTCP_FES_INVALID_HEADER, 1);
}

static void test_capsule(void **state)
{
	uint8_t b[8];
	struct tt_nvtcp_layout l;
	uint16_t fes;
	uint32_t fei;

	(void)state;
	ch(b, TT_NVTCP_CMD, 0, 72, 0, 72);
	assert_int_equal(tt_nvtcp_check_ch(b, &plain, &l, &fes, &fei), 0);
	assert_int_equal(l.psh_len, 64);
	assert_int_equal(l.data_len, 0);
	/* in-capsule data after 8 bytes of padding */
	ch(b, TT_NVTCP_CMD, 0, 72, 80, 80 + 512);
	assert_int_equal(tt_nvtcp_check_ch(b, &plain, &l, &fes, &fei), 0);
	assert_int_equal(l.pad, 8);
	assert_int_equal(l.data_len, 512);
	/* digests: both present, header digest counted in the header part */
	ch(b, TT_NVTCP_CMD, 3, 72, 76, 76 + 512 + 4);
	assert_int_equal(tt_nvtcp_check_ch(b, &digests, &l, &fes, &fei), 0);
	assert_int_equal(l.psh_len, 68);
	assert_int_equal(l.pad, 0);
	assert_int_equal(l.data_len, 512);
	ch(b, TT_NVTCP_CMD, 0, 72, 0, 76);
	refused(b, &digests, TT_NVTCP_FES_INVALID_HEADER, 1);      /* HDGSTF missing */
	ch(b, TT_NVTCP_CMD, 1, 72, 76, 76 + 512);
	refused(b, &digests, TT_NVTCP_FES_INVALID_HEADER, 1);      /* DDGSTF missing */
	ch(b, TT_NVTCP_CMD, 0, 70, 0, 72);
	refused(b, &plain, TT_NVTCP_FES_INVALID_HEADER, 2);
	ch(b, TT_NVTCP_CMD, 0, 72, 0, 40);
	refused(b, &plain, TT_NVTCP_FES_INVALID_HEADER, 4);        /* shorter than its header */
	ch(b, TT_NVTCP_CMD, 0, 72, 60, 600);
	refused(b, &plain, TT_NVTCP_FES_INVALID_HEADER, 3);        /* data inside the header */
	ch(b, TT_NVTCP_CMD, 0, 72, 72, 72 + 8193);
	refused(b, &plain, TT_NVTCP_FES_LIMIT, 4);                 /* above the in-capsule size */
	ch(b, TT_NVTCP_CMD, 2, 72, 0, 72);
	refused(b, &digests, TT_NVTCP_FES_INVALID_HEADER, 1);
}

static void test_other_types(void **state)
{
	uint8_t b[8];
	struct tt_nvtcp_layout l;
	uint16_t fes;
	uint32_t fei;

	(void)state;
	ch(b, TT_NVTCP_H2C_DATA, 4, 24, 24, 24 + 4096);
	assert_int_equal(tt_nvtcp_check_ch(b, &plain, &l, &fes, &fei), 0);
	assert_int_equal(l.data_len, 4096);
	ch(b, TT_NVTCP_H2C_DATA, 0, 24, 0, 24);
	refused(b, &plain, TT_NVTCP_FES_INVALID_HEADER, 4);        /* H2CData without data */
	ch(b, TT_NVTCP_H2C_DATA, 0, 24, 24, 24 + 65537);
	refused(b, &plain, TT_NVTCP_FES_LIMIT, 4);                 /* above MAXH2CDATA */
	ch(b, TT_NVTCP_H2C_TERM, 0, 24, 24, 24 + 152);
	assert_int_equal(tt_nvtcp_check_ch(b, &plain, &l, &fes, &fei), 0);
	assert_int_equal(l.data_len, 152);
	ch(b, TT_NVTCP_H2C_TERM, 0, 24, 24, 24 + 153);
	refused(b, &plain, TT_NVTCP_FES_INVALID_HEADER, 4);
	/* what only a controller sends, and unknown types */
	ch(b, TT_NVTCP_C2H_DATA, 0, 24, 24, 48);
	refused(b, &plain, TT_NVTCP_FES_INVALID_HEADER, 0);
	ch(b, TT_NVTCP_R2T, 0, 24, 0, 24);
	refused(b, &plain, TT_NVTCP_FES_INVALID_HEADER, 0);
	ch(b, 0x0a, 0, 24, 0, 24);
	refused(b, &plain, TT_NVTCP_FES_INVALID_HEADER, 0);
	ch(b, 0xff, 0, 24, 0, 24);
	refused(b, &plain, TT_NVTCP_FES_INVALID_HEADER, 0);
}

static void test_icreq_fields(void **state)
{
	uint8_t p[128] = { 0 };
	struct tt_nvtcp_icreq ic;
	uint16_t fes;
	uint32_t fei;

	(void)state;
	ch(p, TT_NVTCP_ICREQ, 0, 128, 0, 128);
	p[10] = 3;
	p[11] = 3;
	tt_put_le32(p + 12, 7);
	assert_int_equal(tt_nvtcp_parse_icreq(p, &ic, &fes, &fei), 0);
	assert_int_equal(ic.hpda, 3);
	assert_true(ic.hdgst && ic.ddgst);
	assert_int_equal(ic.maxr2t, 7);
	p[8] = 1; /* PFV */
	assert_int_equal(tt_nvtcp_parse_icreq(p, &ic, &fes, &fei), -EPROTO);
	assert_int_equal(fes, TT_NVTCP_FES_UNSUPPORTED);
	assert_int_equal(fei, 8);
	p[8] = 0;
	p[11] = 4;
	assert_int_equal(tt_nvtcp_parse_icreq(p, &ic, &fes, &fei), -EPROTO);
	assert_int_equal(fei, 11);
}

static void test_builders(void **state)
{
	uint8_t b[TT_NVTCP_TERM_HLEN + TT_NVTCP_TERM_DATA_MAX + TT_NVTCP_HDR_MAX], cqe[16], bad[200];
	size_t n;

	(void)state;
	n = tt_nvtcp_build_icresp(b, true, false, 131072);
	assert_int_equal(n, 128);
	assert_int_equal(b[0], TT_NVTCP_ICRESP);
	assert_int_equal(b[11], 1);
	assert_int_equal(tt_le32(b + 12), 131072);

	for (int i = 0; i < 16; i++)
		cqe[i] = (uint8_t)i;
	n = tt_nvtcp_build_rsp(b, cqe, true);
	assert_int_equal(n, 28);
	assert_int_equal(tt_le32(b + 4), 28);
	assert_memory_equal(b + 8, cqe, 16);
	assert_true(tt_nvtcp_hdgst_ok(b, 24));
	b[9] ^= 1;
	assert_false(tt_nvtcp_hdgst_ok(b, 24));

	/* C2HData: data offset after the digest, aligned as the host asked */
	n = tt_nvtcp_build_c2h(b, 9, 4096, 512, true, false, true, true, 0);
	assert_int_equal(n, 28);
	assert_int_equal(b[3], 28);
	assert_int_equal(tt_le32(b + 4), 28 + 512 + 4);
	assert_int_equal(b[1], TT_NVTCP_F_HDGST | TT_NVTCP_F_DDGST | TT_NVTCP_F_LAST);
	assert_int_equal(tt_le16(b + 8), 9);
	assert_int_equal(tt_le32(b + 12), 4096);
	assert_int_equal(tt_le32(b + 16), 512);
	n = tt_nvtcp_build_c2h(b, 9, 0, 512, false, false, true, false, 3);
	assert_int_equal(n, 32); /* 16-byte alignment */
	assert_int_equal(tt_le32(b + 4), 32 + 512);

	n = tt_nvtcp_build_r2t(b, 5, 17, 0, 65536, false);
	assert_int_equal(n, 24);
	assert_int_equal(b[0], TT_NVTCP_R2T);
	assert_int_equal(tt_le16(b + 10), 17);
	assert_int_equal(tt_le32(b + 16), 65536);

	memset(bad, 0xab, sizeof(bad));
	n = tt_nvtcp_build_term(b, TT_NVTCP_FES_INVALID_HEADER, 2, bad, sizeof(bad));
	assert_int_equal(n, 24 + 152); /* the offending header, cut at 152 bytes */
	assert_int_equal(b[0], TT_NVTCP_C2H_TERM);
	assert_int_equal(tt_le32(b + 4), 24 + 152);
	assert_int_equal(tt_le16(b + 8), 1);
	assert_int_equal(tt_le32(b + 10), 2);
	assert_int_equal(b[24], 0xab);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc),
		cmocka_unit_test(test_icreq_sequence),
		cmocka_unit_test(test_capsule),
		cmocka_unit_test(test_other_types),
		cmocka_unit_test(test_icreq_fields),
		cmocka_unit_test(test_builders),
	};

	return tt_run_group("tcp_pdu_test", tests, NULL, NULL);
}
