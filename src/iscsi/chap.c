/* SPDX-License-Identifier: BSD-3-Clause */
#include "iscsi/chap.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

static const EVP_MD *chap_md(int alg)
{
	switch (alg) {
	case TT_CHAP_MD5: return EVP_md5();
	case TT_CHAP_SHA1: return EVP_sha1();
	case TT_CHAP_SHA256: return EVP_sha256();
	case TT_CHAP_SHA3_256: return EVP_sha3_256();
	default: return NULL;
	}
}

size_t tt_chap_digest_len(int alg)
{
	switch (alg) {
	case TT_CHAP_MD5: return 16;
	case TT_CHAP_SHA1: return 20;
	case TT_CHAP_SHA256: return 32;
	case TT_CHAP_SHA3_256: return 32;
	default: return 0;
	}
}

int tt_chap_response(int alg, uint8_t id, const uint8_t *secret, size_t secret_len,
		     const uint8_t *challenge, size_t challenge_len,
		     uint8_t *out, size_t out_size, size_t *out_len)
{
	const EVP_MD *md = chap_md(alg);
	size_t len = tt_chap_digest_len(alg);
	unsigned int n = 0;
	EVP_MD_CTX *ctx;
	int ok;

	if (!md || out_size < len)
		return -EINVAL;
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	ok = EVP_DigestInit_ex(ctx, md, NULL) && EVP_DigestUpdate(ctx, &id, 1) &&
	     EVP_DigestUpdate(ctx, secret, secret_len) &&
	     EVP_DigestUpdate(ctx, challenge, challenge_len) && EVP_DigestFinal_ex(ctx, out, &n);
	EVP_MD_CTX_free(ctx);
	if (!ok || n != len)
		return -EIO;
	*out_len = len;
	return 0;
}

static int copy_cred(char *name, uint8_t *secret, size_t *secret_len,
		     const struct tt_chap_cred *cred)
{
	size_t nlen;

	if (!cred->name || !cred->secret)
		return -EINVAL;
	nlen = strlen(cred->name);
	if (nlen == 0 || nlen > TT_CHAP_NAME_MAX)
		return -EINVAL;
	/* RFC 7143 §9.2.1: secrets of fewer than 96 bits are not accepted here */
	if (cred->secret_len < TT_CHAP_SECRET_MIN || cred->secret_len > TT_CHAP_SECRET_MAX)
		return -EINVAL;
	memcpy(name, cred->name, nlen + 1);
	memcpy(secret, cred->secret, cred->secret_len);
	*secret_len = cred->secret_len;
	return 0;
}

static int chap_init(struct tt_chap *c, enum tt_chap_role role, const struct tt_chap_cred *local,
		     const struct tt_chap_cred *peer, unsigned alg_mask)
{
	int rc;

	memset(c, 0, sizeof(*c));
	c->role = role;
	c->alg_mask = alg_mask ? alg_mask : TT_CHAP_ALGS_DEFAULT;
	for (int a = 0; a < 32; a++)
		if ((c->alg_mask & (1u << a)) && !chap_md(a))
			return -EINVAL;
	if (local) {
		rc = copy_cred(c->local_name, c->local_secret, &c->local_secret_len, local);
		if (rc)
			goto fail;
		c->have_local = true;
	}
	if (peer) {
		rc = copy_cred(c->peer_name, c->peer_secret, &c->peer_secret_len, peer);
		if (rc)
			goto fail;
		c->have_peer = true;
	}
	/* RFC 7143 §9.2.1: one secret must not authenticate both directions */
	if (local && peer && c->local_secret_len == c->peer_secret_len &&
	    CRYPTO_memcmp(c->local_secret, c->peer_secret, c->local_secret_len) == 0) {
		rc = -EINVAL;
		goto fail;
	}
	return 0;
fail:
	tt_chap_fini(c);
	return rc;
}

void tt_chap_fini(struct tt_chap *c)
{
	OPENSSL_cleanse(c, sizeof(*c));
	c->state = TT_CHAP_FAILED;
}

bool tt_chap_done(const struct tt_chap *c)
{
	return c->state == TT_CHAP_DONE;
}

/* Our challenge: random identifier and bytes, at least 16 and at least the digest. */
static int make_challenge(struct tt_chap *c, const uint8_t *avoid, size_t avoid_len)
{
	size_t len = tt_chap_digest_len(c->alg);

	if (len < 16)
		len = 16;
	if (len > sizeof(c->challenge))
		len = sizeof(c->challenge);
	do {
		if (RAND_bytes(&c->id, 1) != 1 || RAND_bytes(c->challenge, (int)len) != 1)
			return -EIO;
	} while (avoid && avoid_len == len && memcmp(avoid, c->challenge, len) == 0);
	c->challenge_len = len;
	return 0;
}

static int add_challenge(struct tt_chap *c, struct tt_text_out *out)
{
	int rc = tt_text_add_u64(out, "CHAP_I", c->id);

	if (rc)
		return rc;
	return tt_text_add_hex(out, "CHAP_C", c->challenge, c->challenge_len);
}

static bool has_chap_keys(const struct tt_text *t)
{
	for (size_t i = 0; i < tt_text_count(t); i++)
		if (strncmp(tt_text_get(t, i).key, "CHAP_", 5) == 0)
			return true;
	return false;
}

/* A CHAP key present at most once; NULL when absent; *dup when repeated. */
static const char *chap_key(const struct tt_text *t, const char *key, bool *dup)
{
	if (tt_text_occurrences(t, key) > 1)
		*dup = true;
	return tt_text_find(t, key);
}

/* Does the response r answer challenge (id, chal) with secret? */
static bool response_ok(int alg, uint8_t id, const uint8_t *secret, size_t secret_len,
			const uint8_t *chal, size_t chal_len, const char *r)
{
	uint8_t got[TT_CHAP_DIGEST_MAX], want[TT_CHAP_DIGEST_MAX];
	size_t got_len, want_len;
	bool ok;

	if (tt_text_decode_binary(r, got, sizeof(got), &got_len))
		return false;
	if (tt_chap_response(alg, id, secret, secret_len, chal, chal_len, want, sizeof(want),
			     &want_len))
		return false;
	ok = got_len == want_len && CRYPTO_memcmp(got, want, want_len) == 0;
	OPENSSL_cleanse(want, sizeof(want));
	return ok;
}

/* Append CHAP_N=name, CHAP_R=H(id || secret || challenge). */
static int add_response(int alg, const char *name, uint8_t id, const uint8_t *secret,
			size_t secret_len, const uint8_t *chal, size_t chal_len,
			struct tt_text_out *out)
{
	uint8_t r[TT_CHAP_DIGEST_MAX];
	size_t rlen;
	int rc;

	rc = tt_chap_response(alg, id, secret, secret_len, chal, chal_len, r, sizeof(r), &rlen);
	if (rc)
		return rc;
	rc = tt_text_add(out, "CHAP_N", name);
	if (rc == 0)
		rc = tt_text_add_hex(out, "CHAP_R", r, rlen);
	OPENSSL_cleanse(r, sizeof(r));
	return rc;
}

static int parse_id(const char *v, uint8_t *id)
{
	uint64_t x;

	if (tt_text_parse_u64(v, 0, 255, &x))
		return -EINVAL;
	*id = (uint8_t)x;
	return 0;
}

/* ---- target ---- */

int tt_chap_target_init(struct tt_chap *c, const struct tt_chap_cred *peer,
			const struct tt_chap_cred *local, unsigned alg_mask)
{
	int rc;

	if (!peer)
		return -EINVAL;
	rc = chap_init(c, TT_CHAP_TARGET, local, peer, alg_mask);
	if (rc)
		return rc;
	c->state = TT_CHAP_WAIT_ALGS;
	return 0;
}

static int target_fail(struct tt_chap *c, int status)
{
	c->state = TT_CHAP_FAILED;
	return status;
}

static int target_choose_alg(struct tt_chap *c, const char *list, struct tt_text_out *rsp)
{
	const char *cur = list;
	char item[16];
	int rc;

	while ((rc = tt_text_list_next(&cur, item, sizeof(item))) == 1) {
		uint64_t a;
		if (tt_text_parse_u64(item, 0, 31, &a))
			continue; /* values we do not know are skipped */
		if (c->alg_mask & (1u << a)) {
			c->alg = (int)a;
			rc = tt_text_add_u64(rsp, "CHAP_A", a);
			if (rc)
				return rc;
			rc = make_challenge(c, NULL, 0);
			if (rc)
				return rc;
			rc = add_challenge(c, rsp);
			if (rc)
				return rc;
			c->state = TT_CHAP_WAIT_RESPONSE;
			return 0;
		}
	}
	if (rc < 0)
		return target_fail(c, TT_NEG_STATUS_INITIATOR_ERROR);
	/* no algorithm in common (RFC 7143 §12.1.3 requires 5 to be offered) */
	return target_fail(c, TT_NEG_STATUS_AUTH_FAILED);
}

static int target_check_response(struct tt_chap *c, const struct tt_text *req,
				 struct tt_text_out *rsp)
{
	bool dup = false;
	const char *a = chap_key(req, "CHAP_A", &dup);
	const char *n = chap_key(req, "CHAP_N", &dup);
	const char *r = chap_key(req, "CHAP_R", &dup);
	const char *i = chap_key(req, "CHAP_I", &dup);
	const char *ch = chap_key(req, "CHAP_C", &dup);
	uint8_t peer_chal[TT_CHAP_CHALLENGE_MAX];
	size_t peer_chal_len;
	uint8_t peer_id;

	if (dup || a || !n || !r || (!i != !ch))
		return target_fail(c, TT_NEG_STATUS_INITIATOR_ERROR);
	/* the initiator first (RFC 7143 §12.1.3) */
	if (strcmp(n, c->peer_name) != 0 ||
	    !response_ok(c->alg, c->id, c->peer_secret, c->peer_secret_len, c->challenge,
			 c->challenge_len, r))
		return target_fail(c, TT_NEG_STATUS_AUTH_FAILED);
	if (!i) {
		c->state = TT_CHAP_DONE;
		return 0;
	}
	/* the initiator asks us to authenticate to it */
	if (!c->have_local)
		return target_fail(c, TT_NEG_STATUS_AUTH_FAILED);
	if (parse_id(i, &peer_id) ||
	    tt_text_decode_binary(ch, peer_chal, sizeof(peer_chal), &peer_chal_len))
		return target_fail(c, TT_NEG_STATUS_INITIATOR_ERROR);
	/* RFC 7143 §9.2.1: a challenge reflected back to us is refused */
	if (peer_chal_len == c->challenge_len &&
	    memcmp(peer_chal, c->challenge, peer_chal_len) == 0)
		return target_fail(c, TT_NEG_STATUS_AUTH_FAILED);
	c->mutual = true;
	int rc = add_response(c->alg, c->local_name, peer_id, c->local_secret,
			      c->local_secret_len, peer_chal, peer_chal_len, rsp);
	if (rc)
		return rc;
	c->state = TT_CHAP_DONE;
	return 0;
}

int tt_chap_target_step(struct tt_chap *c, const struct tt_text *req, struct tt_text_out *rsp)
{
	if (c->role != TT_CHAP_TARGET)
		return -EINVAL;
	switch (c->state) {
	case TT_CHAP_WAIT_ALGS: {
		bool dup = false;
		const char *a = chap_key(req, "CHAP_A", &dup);
		if (!a) {
			if (has_chap_keys(req))
				return target_fail(c, TT_NEG_STATUS_INITIATOR_ERROR);
			return 0; /* the request that agreed on AuthMethod=CHAP */
		}
		if (dup)
			return target_fail(c, TT_NEG_STATUS_INITIATOR_ERROR);
		if (tt_text_find(req, "CHAP_N") || tt_text_find(req, "CHAP_R"))
			return target_fail(c, TT_NEG_STATUS_INITIATOR_ERROR);
		return target_choose_alg(c, a, rsp);
	}
	case TT_CHAP_WAIT_RESPONSE:
		return target_check_response(c, req, rsp);
	case TT_CHAP_DONE:
		if (has_chap_keys(req))
			return target_fail(c, TT_NEG_STATUS_INITIATOR_ERROR);
		return 0;
	case TT_CHAP_FAILED:
		return TT_NEG_STATUS_AUTH_FAILED;
	default:
		return -EINVAL;
	}
}

/* ---- initiator ---- */

int tt_chap_initiator_init(struct tt_chap *c, const struct tt_chap_cred *local,
			   const struct tt_chap_cred *peer, unsigned alg_mask)
{
	int rc;

	if (!local)
		return -EINVAL;
	rc = chap_init(c, TT_CHAP_INITIATOR, local, peer, alg_mask);
	if (rc)
		return rc;
	c->state = TT_CHAP_WAIT_CHALLENGE;
	return 0;
}

int tt_chap_initiator_start(struct tt_chap *c, struct tt_text_out *req)
{
	char list[64] = "";
	size_t len = 0;

	if (c->role != TT_CHAP_INITIATOR || c->state != TT_CHAP_WAIT_CHALLENGE)
		return -EINVAL;
	for (int a = 31; a >= 0; a--) {
		if (!(c->alg_mask & (1u << a)))
			continue;
		int n = snprintf(list + len, sizeof(list) - len, "%s%d", len ? "," : "", a);
		if (n < 0 || (size_t)n >= sizeof(list) - len)
			return -EINVAL;
		len += (size_t)n;
	}
	return tt_text_add(req, "CHAP_A", list);
}

static int initiator_fail(struct tt_chap *c, int err)
{
	c->state = TT_CHAP_FAILED;
	return err;
}

int tt_chap_initiator_step(struct tt_chap *c, const struct tt_text *rsp, struct tt_text_out *req)
{
	bool dup = false;
	int rc;

	if (c->role != TT_CHAP_INITIATOR)
		return -EINVAL;
	switch (c->state) {
	case TT_CHAP_WAIT_CHALLENGE: {
		const char *a = chap_key(rsp, "CHAP_A", &dup);
		const char *i = chap_key(rsp, "CHAP_I", &dup);
		const char *ch = chap_key(rsp, "CHAP_C", &dup);
		uint8_t chal[TT_CHAP_CHALLENGE_MAX];
		size_t chal_len;
		uint64_t alg;
		uint8_t id;

		if (a && strcmp(a, TT_TEXT_REJECT) == 0)
			return initiator_fail(c, -EACCES);
		if (dup || !a || !i || !ch)
			return initiator_fail(c, -EPROTO);
		if (tt_text_parse_u64(a, 0, 31, &alg) || !(c->alg_mask & (1u << alg)))
			return initiator_fail(c, -EACCES);
		if (parse_id(i, &id) || tt_text_decode_binary(ch, chal, sizeof(chal), &chal_len))
			return initiator_fail(c, -EPROTO);
		c->alg = (int)alg;
		rc = add_response(c->alg, c->local_name, id, c->local_secret, c->local_secret_len,
				  chal, chal_len, req);
		if (rc)
			return rc;
		if (!c->have_peer) {
			c->state = TT_CHAP_DONE;
			return 0;
		}
		rc = make_challenge(c, chal, chal_len);
		if (rc)
			return rc;
		rc = add_challenge(c, req);
		if (rc)
			return rc;
		c->mutual = true;
		c->state = TT_CHAP_WAIT_MUTUAL;
		return 0;
	}
	case TT_CHAP_WAIT_MUTUAL: {
		const char *n = chap_key(rsp, "CHAP_N", &dup);
		const char *r = chap_key(rsp, "CHAP_R", &dup);
		if (dup || !n || !r)
			return initiator_fail(c, -EPROTO);
		if (strcmp(n, c->peer_name) != 0 ||
		    !response_ok(c->alg, c->id, c->peer_secret, c->peer_secret_len, c->challenge,
				 c->challenge_len, r))
			return initiator_fail(c, -EACCES);
		c->state = TT_CHAP_DONE;
		return 0;
	}
	case TT_CHAP_DONE:
		return has_chap_keys(rsp) ? initiator_fail(c, -EPROTO) : 0;
	case TT_CHAP_FAILED:
		return -EACCES;
	default:
		return -EINVAL;
	}
}

int tt_chap_cred_print(const struct tt_chap_cred *cred, uint8_t out[TT_CHAP_PRINT_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned len = 0;
	int ok;

	if (!ctx)
		return -ENOMEM;
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
	     EVP_DigestUpdate(ctx, cred->name, strlen(cred->name) + 1) &&
	     EVP_DigestUpdate(ctx, cred->secret, cred->secret_len) &&
	     EVP_DigestFinal_ex(ctx, out, &len) && len == TT_CHAP_PRINT_LEN;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -EIO;
}
