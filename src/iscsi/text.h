/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * iSCSI text key=value lists (RFC 7143 §6.1): parsing a data segment that may
 * span several PDUs (C bit), building responses and cutting them into chunks
 * of at most MaxRecvDataSegmentLength, and decoding values (numbers, binary
 * values in hex or base64, booleans, comma-separated lists).
 */
#ifndef TT_ISCSI_TEXT_H
#define TT_ISCSI_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 7143 §6.1: a key name is at most 63 bytes. */
#define TT_TEXT_KEY_MAX 63
/* Longest value we accept (large binary values such as CHAP_C in base64). */
#define TT_TEXT_VALUE_MAX 8192
/* Default bound on the bytes of one negotiation sequence kept by struct tt_text. */
#define TT_TEXT_TOTAL_MAX (64 * 1024)

/*
 * Login status (Status-Class << 8 | Status-Detail, RFC 7143 §11.13.5) returned as
 * a positive value by the negotiation functions (params.h, chap.h) when the login
 * must be answered with a Login Response carrying this status.
 */
#define TT_NEG_STATUS_INITIATOR_ERROR 0x0200     /* protocol error by the initiator */
#define TT_NEG_STATUS_AUTH_FAILED 0x0201         /* authentication failure */
#define TT_NEG_STATUS_AUTHZ_FAILED 0x0202        /* authorization failure */
#define TT_NEG_STATUS_MISSING_PARAM 0x0207       /* a required key was not sent */
#define TT_NEG_STATUS_SESSION_TYPE 0x0209        /* session type not supported */
#define TT_NEG_STATUS_INVALID_DURING_LOGIN 0x020b /* request not valid during login */
#define TT_NEG_STATUS_TARGET_ERROR 0x0300        /* target error */

/* A complete key=value pair; both strings are NUL-terminated. */
struct tt_text_pair {
	const char *key;
	const char *value;
};

/*
 * Received text of one negotiation step (one Login/Text request or response,
 * possibly spread over several PDUs with the C bit set).  Every complete pair is
 * checked when its terminating NUL arrives; struct tt_text then holds the pairs
 * in order.  Pointers returned by tt_text_get() stay valid until the next
 * tt_text_append() or tt_text_reset().
 */
struct tt_text {
	char *buf;          /* bytes received so far */
	size_t len;         /* bytes used in buf */
	size_t cap;         /* bytes allocated in buf */
	size_t checked;     /* bytes of buf already split into pairs */
	size_t max_total;   /* bound on len */
	struct tt_text_off {
		uint32_t key;   /* offset of the key in buf */
		uint32_t value; /* offset of the value in buf */
	} *pairs;
	size_t npairs;
	size_t pairs_cap;
	bool complete;      /* the final segment (C=0) was appended */
};

/* max_total = 0 selects TT_TEXT_TOTAL_MAX. */
void tt_text_init(struct tt_text *t, size_t max_total);
void tt_text_fini(struct tt_text *t);
/* Forget the pairs, keep the memory: ready for the next request. */
void tt_text_reset(struct tt_text *t);

/*
 * Append one PDU's data segment.  final = the PDU had C=0: a last pair missing
 * its NUL is completed and a partial pair is no longer allowed afterwards.
 * Returns 0, -EBADMSG for malformed text (no '=', empty key, key longer than 63
 * bytes, value longer than TT_TEXT_VALUE_MAX, a byte not allowed in a key or a
 * value), -EMSGSIZE when the sequence exceeds max_total, -EINVAL when text is
 * appended after the final segment, -ENOMEM.  Empty pairs (consecutive NULs, as
 * left by zero padding) are skipped.
 */
int tt_text_append(struct tt_text *t, const void *data, size_t len, bool final);
/* Parse a complete single-PDU data segment: reset + append(final). */
int tt_text_parse(struct tt_text *t, const void *data, size_t len);

size_t tt_text_count(const struct tt_text *t);
/* i-th complete pair, in arrival order; i < tt_text_count(). */
struct tt_text_pair tt_text_get(const struct tt_text *t, size_t i);
/* Value of the first pair named key, or NULL. */
const char *tt_text_find(const struct tt_text *t, const char *key);
/* Number of pairs named key. */
size_t tt_text_occurrences(const struct tt_text *t, const char *key);

/* Checks on names and values, as applied by tt_text_append(). */
bool tt_text_key_valid(const char *key, size_t len);

/* ---- building ---- */

/* Text to send: a growing buffer of key=value\0 pairs. */
struct tt_text_out {
	char *buf;
	size_t len;
	size_t cap;
	size_t max;  /* bound on len (0 = TT_TEXT_TOTAL_MAX) */
};

void tt_text_out_init(struct tt_text_out *o, size_t max);
void tt_text_out_fini(struct tt_text_out *o);
void tt_text_out_reset(struct tt_text_out *o);
/*
 * Append key=value\0.  Returns 0, -EINVAL (invalid key or value), -EMSGSIZE
 * (bound reached), -ENOMEM.
 */
int tt_text_add(struct tt_text_out *o, const char *key, const char *value);
int tt_text_addf(struct tt_text_out *o, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int tt_text_add_u64(struct tt_text_out *o, const char *key, uint64_t value);
int tt_text_add_bool(struct tt_text_out *o, const char *key, bool value);
/* Binary value, encoded 0x<hex>. */
int tt_text_add_hex(struct tt_text_out *o, const char *key, const void *data, size_t len);
/* Value of the first pair named key already added, or NULL. */
const char *tt_text_out_find(const struct tt_text_out *o, const char *key);

/*
 * Chunking for multi-PDU responses.  *off is the number of bytes already sent
 * (start at 0).  Returns the length of the next chunk (at most max_chunk bytes,
 * key=value pairs may be split, as RFC 7143 §6.1 allows) and sets *last when
 * this chunk ends the text (send it with C=0; the others with C=1).  Advances
 * *off.  An empty text yields one empty, last chunk.  *chunk points into o->buf.
 */
size_t tt_text_next_chunk(const struct tt_text_out *o, size_t *off, size_t max_chunk,
			  const char **chunk, bool *last);

/* ---- values ---- */

/*
 * Numerical value (RFC 7143 §6.1): decimal-constant, 0x/0X hex-constant, or
 * 0b/0B base64-constant (big-endian, at most 8 bytes), in [min, max].
 * Returns 0, -EINVAL (not a number), -ERANGE (out of [min, max] or of 64 bits).
 */
int tt_text_parse_u64(const char *v, uint64_t min, uint64_t max, uint64_t *out);
/* "Yes" / "No" (case-sensitive). Returns 0 or -EINVAL. */
int tt_text_parse_bool(const char *v, bool *out);
/*
 * Binary value: 0x<hex> (an odd number of digits means a leading 0 nibble) or
 * 0b<base64> (RFC 7143 §6.1). Writes at most max bytes into out and sets *len.
 * Returns 0, -EINVAL (bad encoding, empty), -EMSGSIZE (longer than max).
 */
int tt_text_decode_binary(const char *v, uint8_t *out, size_t max, size_t *len);
/*
 * Comma-separated list: *cursor starts at the value and is advanced (NULL after
 * the last item).  Copies the next item into item (NUL-terminated).  Returns 1
 * (an item), 0 (end of list), -EINVAL (empty item, e.g. "a,,b", "a," or ""),
 * -EMSGSIZE (item longer than size - 1).
 */
int tt_text_list_next(const char **cursor, char *item, size_t size);
/* True when item is one of the list's values. */
bool tt_text_list_contains(const char *list, const char *item);

/* The reserved answers of RFC 7143 §6.2. */
#define TT_TEXT_REJECT "Reject"
#define TT_TEXT_IRRELEVANT "Irrelevant"
#define TT_TEXT_NOT_UNDERSTOOD "NotUnderstood"

#endif
