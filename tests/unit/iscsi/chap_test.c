/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tt_test.h"
#include <openssl/evp.h>

#include "iscsi/chap.h"

#define INI_NAME "iqn.2024-01.org.example:host"
#define INI_SECRET "initiator-secret-1"
#define TGT_NAME "iqn.2024-01.org.example:disk"
#define TGT_SECRET "target-secret-2"

static const struct tt_chap_cred ini_cred = {
	INI_NAME, (const uint8_t *)INI_SECRET, sizeof(INI_SECRET) - 1,
};
static const struct tt_chap_cred tgt_cred = {
	TGT_NAME, (const uint8_t *)TGT_SECRET, sizeof(TGT_SECRET) - 1,
};

/* Expected response computed the other way: one-shot EVP_Digest of id||secret||challenge. */
static size_t oneshot(const EVP_MD *md, uint8_t id, const char *secret, const uint8_t *chal,
		      size_t chal_len, uint8_t *out)
{
	uint8_t buf[1 + 64 + 1024];
	size_t slen = strlen(secret);
	unsigned int n = 0;

	buf[0] = id;
	memcpy(buf + 1, secret, slen);
	memcpy(buf + 1 + slen, chal, chal_len);
	assert_int_equal(EVP_Digest(buf, 1 + slen + chal_len, out, &n, md, NULL), 1);
	return n;
}

static void hex(char *dst, const uint8_t *b, size_t n)
{
	dst += sprintf(dst, "0x");
	for (size_t i = 0; i < n; i++)
		dst += sprintf(dst, "%02x", b[i]);
}

/* Parse a built text back into pairs. */
static void reparse(struct tt_text *t, const struct tt_text_out *o)
{
	assert_int_equal(tt_text_parse(t, o->buf, o->len), 0);
}

static void get_challenge(const struct tt_text *t, uint8_t *id, uint8_t *chal, size_t *len)
{
	uint64_t v;

	assert_non_null(tt_text_find(t, "CHAP_I"));
	assert_int_equal(tt_text_parse_u64(tt_text_find(t, "CHAP_I"), 0, 255, &v), 0);
	*id = (uint8_t)v;
	assert_non_null(tt_text_find(t, "CHAP_C"));
	assert_int_equal(tt_text_decode_binary(tt_text_find(t, "CHAP_C"), chal,
					       TT_CHAP_CHALLENGE_MAX, len), 0);
}

static void test_known_vectors(void **state)
{
	uint8_t chal[16], out[TT_CHAP_DIGEST_MAX], want[TT_CHAP_DIGEST_MAX];
	size_t n;

	(void)state;
	for (int i = 0; i < 16; i++)
		chal[i] = (uint8_t)i;
	/* values computed independently (Python hashlib) */
	static const uint8_t md5[16] = { 0x22, 0x6d, 0xc5, 0x76, 0xc3, 0x3f, 0x04, 0xff,
					 0x9c, 0x3a, 0x20, 0x0f, 0xfe, 0x35, 0xf4, 0x42 };
	assert_int_equal(tt_chap_response(TT_CHAP_MD5, 1, (const uint8_t *)"secretsecret", 12,
					  chal, 16, out, sizeof(out), &n), 0);
	assert_int_equal(n, 16);
	assert_memory_equal(out, md5, 16);
	static const uint8_t sha256[32] = {
		0x9d, 0x2e, 0x6a, 0xbe, 0xfc, 0x25, 0xda, 0xfe, 0xb0, 0xbc, 0x1c,
		0xb2, 0x9b, 0x18, 0x15, 0xa5, 0x25, 0x43, 0xe2, 0xbe, 0xf0, 0x76,
		0xfe, 0x87, 0xc7, 0xfe, 0x8d, 0xd6, 0xaa, 0x7d, 0xbc, 0x76,
	};
	assert_int_equal(tt_chap_response(TT_CHAP_SHA256, 0xfe, (const uint8_t *)"secretsecret", 12,
					  chal, 16, out, sizeof(out), &n), 0);
	assert_int_equal(n, 32);
	assert_memory_equal(out, sha256, 32);
	/* and against OpenSSL's one-shot digest */
	assert_int_equal(tt_chap_response(TT_CHAP_SHA1, 7, (const uint8_t *)"secretsecret", 12,
					  chal, 16, out, sizeof(out), &n), 0);
	assert_int_equal(oneshot(EVP_sha1(), 7, "secretsecret", chal, 16, want), 20);
	assert_int_equal(n, 20);
	assert_memory_equal(out, want, 20);

	/* unknown algorithm, output too small */
	assert_int_equal(tt_chap_response(4, 1, chal, 12, chal, 16, out, sizeof(out), &n), -EINVAL);
	assert_int_equal(tt_chap_response(TT_CHAP_SHA256, 1, chal, 12, chal, 16, out, 16, &n),
			 -EINVAL);
	assert_int_equal(tt_chap_digest_len(TT_CHAP_MD5), 16);
	assert_int_equal(tt_chap_digest_len(TT_CHAP_SHA256), 32);
	assert_int_equal(tt_chap_digest_len(3), 0);
}

static void test_init_checks(void **state)
{
	struct tt_chap c;
	struct tt_chap_cred short_secret = { "n", (const uint8_t *)"elevenbytes", 11 };
	struct tt_chap_cred twelve = { "n", (const uint8_t *)"twelve bytes", 12 };
	struct tt_chap_cred same = { TGT_NAME, (const uint8_t *)INI_SECRET, sizeof(INI_SECRET) - 1 };
	struct tt_chap_cred noname = { "", (const uint8_t *)INI_SECRET, sizeof(INI_SECRET) - 1 };

	(void)state;
	assert_int_equal(tt_chap_target_init(&c, &short_secret, NULL, 0), -EINVAL);
	assert_int_equal(tt_chap_target_init(&c, &twelve, NULL, 0), 0);
	assert_int_equal(tt_chap_target_init(&c, NULL, NULL, 0), -EINVAL);
	assert_int_equal(tt_chap_target_init(&c, &noname, NULL, 0), -EINVAL);
	/* one secret for both directions is refused */
	assert_int_equal(tt_chap_target_init(&c, &ini_cred, &same, 0), -EINVAL);
	assert_int_equal(tt_chap_initiator_init(&c, &ini_cred, &same, 0), -EINVAL);
	assert_int_equal(tt_chap_target_init(&c, &ini_cred, &tgt_cred, 0), 0);
	/* algorithms we cannot compute */
	assert_int_equal(tt_chap_target_init(&c, &ini_cred, NULL, TT_CHAP_ALG_MASK(9)), -EINVAL);
	assert_int_equal(tt_chap_initiator_init(&c, NULL, NULL, 0), -EINVAL);
	tt_chap_fini(&c);
	assert_false(tt_chap_done(&c));
}

/* Target side, driven by hand-made requests. */
struct tfx {
	struct tt_chap c;
	struct tt_text req;
	struct tt_text rsp_in;
	struct tt_text_out rsp;
	uint8_t id;
	uint8_t chal[TT_CHAP_CHALLENGE_MAX];
	size_t chal_len;
};

static int step(struct tfx *f, const char *text, size_t len)
{
	tt_text_out_reset(&f->rsp);
	assert_int_equal(tt_text_parse(&f->req, text, len), 0);
	return tt_chap_target_step(&f->c, &f->req, &f->rsp);
}

static void tfx_start(struct tfx *f, const struct tt_chap_cred *local, const char *algs)
{
	char text[64];

	memset(f, 0, sizeof(*f));
	tt_text_init(&f->req, 0);
	tt_text_init(&f->rsp_in, 0);
	tt_text_out_init(&f->rsp, 0);
	assert_int_equal(tt_chap_target_init(&f->c, &ini_cred, local, 0), 0);
	/* the request that agreed on CHAP carries no CHAP key yet */
	assert_int_equal(step(f, "AuthMethod=CHAP,None", 20), 0);
	assert_int_equal(f->rsp.len, 0);
	snprintf(text, sizeof(text), "CHAP_A=%s", algs);
	assert_int_equal(step(f, text, strlen(text)), 0);
	if (f->c.state == TT_CHAP_WAIT_RESPONSE) {
		reparse(&f->rsp_in, &f->rsp);
		get_challenge(&f->rsp_in, &f->id, f->chal, &f->chal_len);
	}
}

static void tfx_fini(struct tfx *f)
{
	tt_text_fini(&f->req);
	tt_text_fini(&f->rsp_in);
	tt_text_out_fini(&f->rsp);
	tt_chap_fini(&f->c);
}

/* CHAP_N/CHAP_R answering the target's challenge with secret. */
static int answer(struct tfx *f, const EVP_MD *md, const char *name, const char *secret)
{
	uint8_t r[64];
	char rhex[160];
	char text[512];
	size_t n = oneshot(md, f->id, secret, f->chal, f->chal_len, r);
	int len;

	hex(rhex, r, n);
	len = snprintf(text, sizeof(text), "CHAP_N=%s%cCHAP_R=%s", name, 0, rhex);
	return step(f, text, (size_t)len);
}

static void test_target_one_way(void **state)
{
	struct tfx f;

	(void)state;
	tfx_start(&f, NULL, "7,5");
	assert_string_equal(tt_text_find(&f.rsp_in, "CHAP_A"), "7"); /* first we support */
	assert_int_equal(f.chal_len, 32);
	assert_false(tt_chap_done(&f.c));
	assert_int_equal(answer(&f, EVP_sha256(), INI_NAME, INI_SECRET), 0);
	assert_true(tt_chap_done(&f.c));
	assert_int_equal(f.rsp.len, 0); /* no mutual: nothing to say */
	/* CHAP keys after success are a protocol error */
	assert_int_equal(step(&f, "CHAP_A=5", 8), TT_NEG_STATUS_INITIATOR_ERROR);
	tfx_fini(&f);

	/* MD5 */
	tfx_start(&f, NULL, "5");
	assert_string_equal(tt_text_find(&f.rsp_in, "CHAP_A"), "5");
	assert_true(f.chal_len >= 16);
	assert_int_equal(answer(&f, EVP_md5(), INI_NAME, INI_SECRET), 0);
	assert_true(tt_chap_done(&f.c));
	tfx_fini(&f);
}

static void test_target_challenges_differ(void **state)
{
	struct tfx a, b;

	(void)state;
	tfx_start(&a, NULL, "5");
	tfx_start(&b, NULL, "5");
	assert_int_equal(a.chal_len, b.chal_len);
	assert_memory_not_equal(a.chal, b.chal, a.chal_len);
	tfx_fini(&a);
	tfx_fini(&b);
}

static void test_target_base64_response(void **state)
{
	struct tfx f;
	uint8_t r[16];
	char text[256];
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	(void)state;
	tfx_start(&f, NULL, "5");
	oneshot(EVP_md5(), f.id, INI_SECRET, f.chal, f.chal_len, r);
	/* base64 of 16 bytes: 22 characters and "==" */
	char enc[32];
	size_t o = 0;
	for (size_t i = 0; i < 16; i += 3) {
		uint32_t v = (uint32_t)r[i] << 16;
		if (i + 1 < 16)
			v |= (uint32_t)r[i + 1] << 8;
		if (i + 2 < 16)
			v |= r[i + 2];
		enc[o++] = b64[(v >> 18) & 63];
		enc[o++] = b64[(v >> 12) & 63];
		enc[o++] = i + 1 < 16 ? b64[(v >> 6) & 63] : '=';
		enc[o++] = i + 2 < 16 ? b64[v & 63] : '=';
	}
	enc[o] = '\0';
	int len = snprintf(text, sizeof(text), "CHAP_N=%s%cCHAP_R=0b%s", INI_NAME, 0, enc);
	assert_int_equal(step(&f, text, (size_t)len), 0);
	assert_true(tt_chap_done(&f.c));
	tfx_fini(&f);
}

static void test_target_failures(void **state)
{
	struct tfx f;

	(void)state;
	/* wrong secret */
	tfx_start(&f, NULL, "5");
	assert_int_equal(answer(&f, EVP_md5(), INI_NAME, "not-the-secret!"),
			 TT_NEG_STATUS_AUTH_FAILED);
	assert_false(tt_chap_done(&f.c));
	/* and it stays failed */
	assert_int_equal(answer(&f, EVP_md5(), INI_NAME, INI_SECRET),
			 TT_NEG_STATUS_AUTH_FAILED);
	tfx_fini(&f);

	/* wrong name, right secret */
	tfx_start(&f, NULL, "5");
	assert_int_equal(answer(&f, EVP_md5(), "iqn.2024-01.org.example:other", INI_SECRET),
			 TT_NEG_STATUS_AUTH_FAILED);
	tfx_fini(&f);

	/* response computed with another algorithm than the one chosen */
	tfx_start(&f, NULL, "7");
	assert_int_equal(answer(&f, EVP_md5(), INI_NAME, INI_SECRET),
			 TT_NEG_STATUS_AUTH_FAILED);
	tfx_fini(&f);

	/* no algorithm in common */
	memset(&f, 0, sizeof(f));
	tt_text_init(&f.req, 0);
	tt_text_out_init(&f.rsp, 0);
	assert_int_equal(tt_chap_target_init(&f.c, &ini_cred, NULL, 0), 0);
	assert_int_equal(step(&f, "CHAP_A=6,99", 11), TT_NEG_STATUS_AUTH_FAILED);
	assert_int_equal(f.c.state, TT_CHAP_FAILED);
	tfx_fini(&f);

	/* missing CHAP_R */
	tfx_start(&f, NULL, "5");
	assert_int_equal(step(&f, "CHAP_N=" INI_NAME, sizeof("CHAP_N=" INI_NAME) - 1),
			 TT_NEG_STATUS_INITIATOR_ERROR);
	tfx_fini(&f);

	/* CHAP_N before CHAP_A */
	memset(&f, 0, sizeof(f));
	tt_text_init(&f.req, 0);
	tt_text_out_init(&f.rsp, 0);
	assert_int_equal(tt_chap_target_init(&f.c, &ini_cred, NULL, 0), 0);
	assert_int_equal(step(&f, "CHAP_N=x", 8), TT_NEG_STATUS_INITIATOR_ERROR);
	tfx_fini(&f);

	/* CHAP_A twice */
	memset(&f, 0, sizeof(f));
	tt_text_init(&f.req, 0);
	tt_text_out_init(&f.rsp, 0);
	assert_int_equal(tt_chap_target_init(&f.c, &ini_cred, NULL, 0), 0);
	assert_int_equal(step(&f, "CHAP_A=5\0CHAP_A=5", 17), TT_NEG_STATUS_INITIATOR_ERROR);
	tfx_fini(&f);

	/* response of the wrong length */
	tfx_start(&f, NULL, "5");
	assert_int_equal(step(&f, "CHAP_N=" INI_NAME "\0CHAP_R=0x00112233",
			      sizeof("CHAP_N=" INI_NAME "\0CHAP_R=0x00112233") - 1),
			 TT_NEG_STATUS_AUTH_FAILED);
	tfx_fini(&f);
}

static void test_target_mutual(void **state)
{
	struct tfx f;
	uint8_t mine[16], want[32];
	char chex[64];
	size_t n;

	(void)state;
	for (int i = 0; i < 16; i++)
		mine[i] = (uint8_t)(0xc0 + i);
	hex(chex, mine, 16);

	tfx_start(&f, &tgt_cred, "5");
	char text[512];
	uint8_t r[16];
	char rhex[64];
	oneshot(EVP_md5(), f.id, INI_SECRET, f.chal, f.chal_len, r);
	hex(rhex, r, 16);
	int len = snprintf(text, sizeof(text), "CHAP_N=%s%cCHAP_R=%s%cCHAP_I=200%cCHAP_C=%s",
			   INI_NAME, 0, rhex, 0, 0, chex);
	assert_int_equal(step(&f, text, (size_t)len), 0);
	assert_true(tt_chap_done(&f.c));
	reparse(&f.rsp_in, &f.rsp);
	assert_string_equal(tt_text_find(&f.rsp_in, "CHAP_N"), TGT_NAME);
	n = oneshot(EVP_md5(), 200, TGT_SECRET, mine, 16, want);
	uint8_t got[32];
	size_t got_len;
	assert_int_equal(tt_text_decode_binary(tt_text_find(&f.rsp_in, "CHAP_R"), got, sizeof(got),
					       &got_len), 0);
	assert_int_equal(got_len, n);
	assert_memory_equal(got, want, n);
	tfx_fini(&f);

	/* mutual asked for but the target has no credentials for it */
	tfx_start(&f, NULL, "5");
	oneshot(EVP_md5(), f.id, INI_SECRET, f.chal, f.chal_len, r);
	hex(rhex, r, 16);
	len = snprintf(text, sizeof(text), "CHAP_N=%s%cCHAP_R=%s%cCHAP_I=200%cCHAP_C=%s",
		       INI_NAME, 0, rhex, 0, 0, chex);
	assert_int_equal(step(&f, text, (size_t)len), TT_NEG_STATUS_AUTH_FAILED);
	tfx_fini(&f);

	/* CHAP_I without CHAP_C */
	tfx_start(&f, &tgt_cred, "5");
	oneshot(EVP_md5(), f.id, INI_SECRET, f.chal, f.chal_len, r);
	hex(rhex, r, 16);
	len = snprintf(text, sizeof(text), "CHAP_N=%s%cCHAP_R=%s%cCHAP_I=200", INI_NAME, 0, rhex, 0);
	assert_int_equal(step(&f, text, (size_t)len), TT_NEG_STATUS_INITIATOR_ERROR);
	tfx_fini(&f);

	/* CHAP_I out of range */
	tfx_start(&f, &tgt_cred, "5");
	oneshot(EVP_md5(), f.id, INI_SECRET, f.chal, f.chal_len, r);
	hex(rhex, r, 16);
	len = snprintf(text, sizeof(text), "CHAP_N=%s%cCHAP_R=%s%cCHAP_I=256%cCHAP_C=%s",
		       INI_NAME, 0, rhex, 0, 0, chex);
	assert_int_equal(step(&f, text, (size_t)len), TT_NEG_STATUS_INITIATOR_ERROR);
	tfx_fini(&f);
}

/* RFC 7143 §9.2.1: the initiator may not hand the target's own challenge back. */
static void test_target_reflected_challenge(void **state)
{
	struct tfx f;
	char text[512], rhex[64], chex[2100];
	uint8_t r[16];
	int len;

	(void)state;
	tfx_start(&f, &tgt_cred, "5");
	oneshot(EVP_md5(), f.id, INI_SECRET, f.chal, f.chal_len, r);
	hex(rhex, r, 16);
	hex(chex, f.chal, f.chal_len);
	len = snprintf(text, sizeof(text), "CHAP_N=%s%cCHAP_R=%s%cCHAP_I=%u%cCHAP_C=%s", INI_NAME,
		       0, rhex, 0, f.id, 0, chex);
	assert_int_equal(step(&f, text, (size_t)len), TT_NEG_STATUS_AUTH_FAILED);
	assert_false(tt_chap_done(&f.c));
	assert_int_equal(f.rsp.len, 0); /* no response computed for it */
	tfx_fini(&f);
}

/* ---- initiator, and both sides together ---- */

struct pair {
	struct tt_chap ini, tgt;
	struct tt_text_out to_tgt, to_ini;
	struct tt_text at_tgt, at_ini;
};

static void pair_init(struct pair *p)
{
	memset(p, 0, sizeof(*p));
	tt_text_out_init(&p->to_tgt, 0);
	tt_text_out_init(&p->to_ini, 0);
	tt_text_init(&p->at_tgt, 0);
	tt_text_init(&p->at_ini, 0);
}

static void pair_fini(struct pair *p)
{
	tt_text_out_fini(&p->to_tgt);
	tt_text_out_fini(&p->to_ini);
	tt_text_fini(&p->at_tgt);
	tt_text_fini(&p->at_ini);
	tt_chap_fini(&p->ini);
	tt_chap_fini(&p->tgt);
}

/* Initiator request -> target -> response to the initiator. Returns target rc. */
static int to_target(struct pair *p)
{
	reparse(&p->at_tgt, &p->to_tgt);
	tt_text_out_reset(&p->to_ini);
	return tt_chap_target_step(&p->tgt, &p->at_tgt, &p->to_ini);
}

static int to_initiator(struct pair *p)
{
	reparse(&p->at_ini, &p->to_ini);
	tt_text_out_reset(&p->to_tgt);
	return tt_chap_initiator_step(&p->ini, &p->at_ini, &p->to_tgt);
}

static void run_pair(unsigned ini_algs, unsigned tgt_algs, bool mutual, int want_alg)
{
	struct pair p;

	pair_init(&p);
	assert_int_equal(tt_chap_initiator_init(&p.ini, &ini_cred, mutual ? &tgt_cred : NULL,
						ini_algs), 0);
	assert_int_equal(tt_chap_target_init(&p.tgt, &ini_cred, mutual ? &tgt_cred : NULL,
					     tgt_algs), 0);
	assert_int_equal(tt_chap_initiator_start(&p.ini, &p.to_tgt), 0);
	assert_int_equal(to_target(&p), 0);
	assert_int_equal(p.tgt.alg, want_alg);
	assert_int_equal(to_initiator(&p), 0);
	assert_int_equal(to_target(&p), 0);
	assert_true(tt_chap_done(&p.tgt));
	assert_int_equal(tt_chap_done(&p.ini), !mutual);
	if (mutual) {
		/* the two challenges differ */
		assert_memory_not_equal(p.ini.challenge, p.tgt.challenge, 16);
		assert_int_equal(to_initiator(&p), 0);
		assert_true(p.ini.mutual);
		assert_true(p.tgt.mutual);
	} else {
		assert_int_equal(p.to_ini.len, 0);
	}
	assert_true(tt_chap_done(&p.ini));
	pair_fini(&p);
}

static void test_both_sides(void **state)
{
	(void)state;
	run_pair(0, 0, false, TT_CHAP_SHA256);
	run_pair(0, 0, true, TT_CHAP_SHA256);
	run_pair(TT_CHAP_ALG_MASK(TT_CHAP_MD5), 0, true, TT_CHAP_MD5);
	run_pair(0, TT_CHAP_ALG_MASK(TT_CHAP_MD5), false, TT_CHAP_MD5);
	run_pair(TT_CHAP_ALG_MASK(TT_CHAP_SHA1) | TT_CHAP_ALG_MASK(TT_CHAP_MD5),
		 TT_CHAP_ALG_MASK(TT_CHAP_SHA1), true, TT_CHAP_SHA1);
	run_pair(TT_CHAP_ALG_MASK(TT_CHAP_SHA3_256), TT_CHAP_ALG_MASK(TT_CHAP_SHA3_256), true,
		 TT_CHAP_SHA3_256);
}

static void test_initiator_start(void **state)
{
	struct tt_chap c;
	struct tt_text_out o;

	(void)state;
	tt_text_out_init(&o, 0);
	assert_int_equal(tt_chap_initiator_init(&c, &ini_cred, NULL, 0), 0);
	assert_int_equal(tt_chap_initiator_start(&c, &o), 0);
	assert_string_equal(tt_text_out_find(&o, "CHAP_A"), "7,5");
	tt_chap_fini(&c);
	tt_text_out_fini(&o);
}

static void test_initiator_rejects_bad_target(void **state)
{
	struct pair p;

	(void)state;
	/* the target proves a wrong secret */
	static const struct tt_chap_cred wrong = {
		TGT_NAME, (const uint8_t *)"another-target-secret", 21,
	};
	pair_init(&p);
	assert_int_equal(tt_chap_initiator_init(&p.ini, &ini_cred, &tgt_cred, 0), 0);
	assert_int_equal(tt_chap_target_init(&p.tgt, &ini_cred, &wrong, 0), 0);
	assert_int_equal(tt_chap_initiator_start(&p.ini, &p.to_tgt), 0);
	assert_int_equal(to_target(&p), 0);
	assert_int_equal(to_initiator(&p), 0);
	assert_int_equal(to_target(&p), 0);
	assert_int_equal(to_initiator(&p), -EACCES);
	assert_false(tt_chap_done(&p.ini));
	pair_fini(&p);

	/* the target picks an algorithm we did not offer */
	struct tt_chap c;
	struct tt_text t;
	struct tt_text_out o;
	tt_text_init(&t, 0);
	tt_text_out_init(&o, 0);
	assert_int_equal(tt_chap_initiator_init(&c, &ini_cred, NULL, TT_CHAP_ALG_MASK(TT_CHAP_MD5)),
			 0);
	assert_int_equal(tt_text_parse(&t, "CHAP_A=7\0CHAP_I=1\0CHAP_C=0x0102030405060708090a0b0c0d0e0f10",
				       sizeof("CHAP_A=7\0CHAP_I=1\0CHAP_C=0x0102030405060708090a0b0c0d0e0f10") - 1),
			 0);
	assert_int_equal(tt_chap_initiator_step(&c, &t, &o), -EACCES);
	tt_chap_fini(&c);

	/* CHAP_A=Reject */
	assert_int_equal(tt_chap_initiator_init(&c, &ini_cred, NULL, 0), 0);
	assert_int_equal(tt_text_parse(&t, "CHAP_A=Reject", 13), 0);
	assert_int_equal(tt_chap_initiator_step(&c, &t, &o), -EACCES);
	tt_chap_fini(&c);

	/* missing challenge */
	assert_int_equal(tt_chap_initiator_init(&c, &ini_cred, NULL, 0), 0);
	assert_int_equal(tt_text_parse(&t, "CHAP_A=5\0CHAP_I=1", 17), 0);
	assert_int_equal(tt_chap_initiator_step(&c, &t, &o), -EPROTO);
	tt_chap_fini(&c);

	/* a base64 challenge is answered like a hex one */
	assert_int_equal(tt_chap_initiator_init(&c, &ini_cred, NULL, 0), 0);
	assert_int_equal(tt_text_parse(&t, "CHAP_A=5\0CHAP_I=9\0CHAP_C=0bAAECAwQFBgcICQoLDA0ODw==",
				       sizeof("CHAP_A=5\0CHAP_I=9\0CHAP_C=0bAAECAwQFBgcICQoLDA0ODw==") - 1),
			 0);
	tt_text_out_reset(&o);
	assert_int_equal(tt_chap_initiator_step(&c, &t, &o), 0);
	assert_true(tt_chap_done(&c));
	{
		uint8_t chal[16], want[16], got[16];
		size_t n;
		struct tt_text back;
		for (int i = 0; i < 16; i++)
			chal[i] = (uint8_t)i;
		oneshot(EVP_md5(), 9, INI_SECRET, chal, 16, want);
		tt_text_init(&back, 0);
		reparse(&back, &o);
		assert_string_equal(tt_text_find(&back, "CHAP_N"), INI_NAME);
		assert_int_equal(tt_text_decode_binary(tt_text_find(&back, "CHAP_R"), got, 16, &n), 0);
		assert_memory_equal(got, want, 16);
		assert_null(tt_text_find(&back, "CHAP_C")); /* one-way */
		tt_text_fini(&back);
	}
	tt_chap_fini(&c);
	tt_text_fini(&t);
	tt_text_out_fini(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_vectors),
		cmocka_unit_test(test_init_checks),
		cmocka_unit_test(test_target_one_way),
		cmocka_unit_test(test_target_challenges_differ),
		cmocka_unit_test(test_target_base64_response),
		cmocka_unit_test(test_target_failures),
		cmocka_unit_test(test_target_mutual),
		cmocka_unit_test(test_target_reflected_challenge),
		cmocka_unit_test(test_both_sides),
		cmocka_unit_test(test_initiator_start),
		cmocka_unit_test(test_initiator_rejects_bad_target),
	};
	return tt_run_group("chap_test", tests, NULL, NULL);
}
