/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CHAP authentication for iSCSI login (RFC 1994, RFC 7143 §12.1.3), one-way or
 * mutual, for both roles.  Digests: MD5 (CHAP_A=5, mandatory), SHA-1 (6),
 * SHA-256 (7), SHA3-256 (8) (RFC 7143 allows 5; the IANA CHAP registry lists
 * 6..8, which later initiators offer).
 *
 * Exchange (security stage, after AuthMethod=CHAP was agreed):
 *   I->T CHAP_A=<A1,A2,...>
 *   T->I CHAP_A=<A> CHAP_I=<I> CHAP_C=<C>
 *   I->T CHAP_N=<N> CHAP_R=<R> [CHAP_I=<I'> CHAP_C=<C'>]   (mutual: [..])
 *   T->I [CHAP_N=<N'> CHAP_R=<R'>]
 */
#ifndef TT_ISCSI_CHAP_H
#define TT_ISCSI_CHAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iscsi/text.h"

enum tt_chap_alg {
	TT_CHAP_MD5 = 5,
	TT_CHAP_SHA1 = 6,
	TT_CHAP_SHA256 = 7,
	TT_CHAP_SHA3_256 = 8,
};
#define TT_CHAP_ALG_MASK(a) (1u << (a))
#define TT_CHAP_ALGS_DEFAULT (TT_CHAP_ALG_MASK(TT_CHAP_SHA256) | TT_CHAP_ALG_MASK(TT_CHAP_MD5))

#define TT_CHAP_DIGEST_MAX 32      /* longest response (SHA-256) */
#define TT_CHAP_CHALLENGE_LEN 32   /* challenge we generate (>= 16) */
#define TT_CHAP_CHALLENGE_MAX 1024 /* longest challenge we accept */
#define TT_CHAP_SECRET_MIN 12      /* RFC 7143 §12.1.3: at least 96 bits */
#define TT_CHAP_SECRET_MAX 256
#define TT_CHAP_NAME_MAX 255

/* A name and its secret: ours, or the one we expect from the peer. */
struct tt_chap_cred {
	const char *name;
	const uint8_t *secret;
	size_t secret_len;
};

enum tt_chap_state {
	TT_CHAP_WAIT_ALGS,      /* target: waiting for CHAP_A list */
	TT_CHAP_WAIT_RESPONSE,  /* target: challenge sent, waiting for CHAP_N/CHAP_R */
	TT_CHAP_WAIT_CHALLENGE, /* initiator: CHAP_A sent, waiting for CHAP_A/I/C */
	TT_CHAP_WAIT_MUTUAL,    /* initiator: response sent, waiting for the target's CHAP_N/R */
	TT_CHAP_DONE,           /* authenticated (both ways if mutual) */
	TT_CHAP_FAILED,
};

enum tt_chap_role {
	TT_CHAP_TARGET,
	TT_CHAP_INITIATOR,
};

struct tt_chap {
	enum tt_chap_role role;
	enum tt_chap_state state;
	unsigned alg_mask;            /* TT_CHAP_ALG_MASK() of the algorithms we allow */
	int alg;                      /* chosen CHAP_A */
	uint8_t id;                   /* CHAP_I we sent */
	uint8_t challenge[TT_CHAP_CHALLENGE_LEN]; /* CHAP_C we sent */
	size_t challenge_len;
	bool mutual;                  /* we authenticate the peer's answer to our challenge too */
	/* credentials (copied) */
	char local_name[TT_CHAP_NAME_MAX + 1];
	uint8_t local_secret[TT_CHAP_SECRET_MAX];
	size_t local_secret_len;
	char peer_name[TT_CHAP_NAME_MAX + 1];
	uint8_t peer_secret[TT_CHAP_SECRET_MAX];
	size_t peer_secret_len;
	bool have_local;
	bool have_peer;
};

/*
 * Target.  peer: the initiator's expected CHAP name and secret (required).
 * local: our name and secret for mutual CHAP, or NULL to refuse mutual CHAP.
 * Secrets shorter than TT_CHAP_SECRET_MIN, and the same secret in both
 * directions, are refused with -EINVAL.  alg_mask 0 = TT_CHAP_ALGS_DEFAULT.
 */
int tt_chap_target_init(struct tt_chap *c, const struct tt_chap_cred *peer,
			const struct tt_chap_cred *local, unsigned alg_mask);
/*
 * Target: process the CHAP_* pairs of one Login request and append our pairs to
 * rsp.  Returns 0 (continue; tt_chap_done() tells whether authentication is
 * complete), TT_NEG_STATUS_AUTH_FAILED (wrong name or response, no common
 * algorithm, reflected challenge, mutual CHAP asked but not configured),
 * TT_NEG_STATUS_INITIATOR_ERROR (missing or malformed keys), or -errno.
 */
int tt_chap_target_step(struct tt_chap *c, const struct tt_text *req, struct tt_text_out *rsp);

/*
 * Initiator.  local: our name and secret (required).  peer: the target's
 * expected name and secret to request mutual CHAP, or NULL.
 */
int tt_chap_initiator_init(struct tt_chap *c, const struct tt_chap_cred *local,
			   const struct tt_chap_cred *peer, unsigned alg_mask);
/* Initiator: first CHAP request: CHAP_A=<our algorithms, strongest first>. */
int tt_chap_initiator_start(struct tt_chap *c, struct tt_text_out *req);
/*
 * Initiator: process the target's CHAP_* pairs and append our answer to req.
 * Returns 0 (continue / done), -EACCES (the target failed mutual
 * authentication, or chose an algorithm we did not offer), -EPROTO (malformed
 * or missing keys), or -errno.
 */
int tt_chap_initiator_step(struct tt_chap *c, const struct tt_text *rsp, struct tt_text_out *req);

bool tt_chap_done(const struct tt_chap *c);
/* Wipe secrets. */
void tt_chap_fini(struct tt_chap *c);

/*
 * CHAP response: H(id || secret || challenge) (RFC 1994 §4.1).  *out_len is set
 * to the digest length.  Returns 0 or -EINVAL (unknown algorithm, out too small).
 */
int tt_chap_response(int alg, uint8_t id, const uint8_t *secret, size_t secret_len,
		     const uint8_t *challenge, size_t challenge_len,
		     uint8_t *out, size_t out_size, size_t *out_len);
/* Digest length of a CHAP_A algorithm, 0 when unknown. */
size_t tt_chap_digest_len(int alg);

#define TT_CHAP_PRINT_LEN 32
/* A fingerprint of credentials (SHA-256 of the name, a NUL and the secret): tells whether two
 * sets are the same without keeping the secret. 0 or -EIO. */
int tt_chap_cred_print(const struct tt_chap_cred *cred, uint8_t out[TT_CHAP_PRINT_LEN]);

#endif
