/* SPDX-License-Identifier: BSD-3-Clause */
#include "iscsi/text.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- receiving ---- */

void tt_text_init(struct tt_text *t, size_t max_total)
{
	memset(t, 0, sizeof(*t));
	t->max_total = max_total ? max_total : TT_TEXT_TOTAL_MAX;
	if (t->max_total > UINT32_MAX - 1)
		t->max_total = UINT32_MAX - 1; /* offsets are 32-bit */
}

void tt_text_fini(struct tt_text *t)
{
	free(t->buf);
	free(t->pairs);
	memset(t, 0, sizeof(*t));
}

void tt_text_reset(struct tt_text *t)
{
	t->len = 0;
	t->checked = 0;
	t->npairs = 0;
	t->complete = false;
}

static bool is_key_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-' || c == '+' || c == '@' || c == '_';
}

/*
 * RFC 7143 §6.1: a key is a standard-label (letters, digits, . - + @ _, at most
 * 63 bytes), "X-" followed by such characters, or "X#" followed by them
 * (IANA-registered extension keys).  Standard labels begin with a capital
 * letter, but RFC 7144's iSCSIProtocolLevel does not, so any letter is accepted.
 */
bool tt_text_key_valid(const char *key, size_t len)
{
	if (len == 0 || len > TT_TEXT_KEY_MAX)
		return false;
	if (!((key[0] >= 'A' && key[0] <= 'Z') || (key[0] >= 'a' && key[0] <= 'z')))
		return false;
	for (size_t i = 1; i < len; i++) {
		if (is_key_char(key[i]))
			continue;
		if (i == 1 && key[0] == 'X' && key[1] == '#' && len > 2)
			continue;
		return false;
	}
	return true;
}

/* Values are UTF-8 text without control characters. */
static bool value_valid(const char *v, size_t len)
{
	if (len > TT_TEXT_VALUE_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c < 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

static int add_pair(struct tt_text *t, size_t start, size_t end)
{
	const char *s = t->buf + start;
	const char *eq = memchr(s, '=', end - start);

	if (!eq)
		return -EBADMSG;
	size_t klen = (size_t)(eq - s);
	if (!tt_text_key_valid(s, klen))
		return -EBADMSG;
	if (!value_valid(eq + 1, end - start - klen - 1))
		return -EBADMSG;
	if (t->npairs == t->pairs_cap) {
		size_t ncap = t->pairs_cap ? t->pairs_cap * 2 : 16;
		struct tt_text_off *np = realloc(t->pairs, ncap * sizeof(*np));
		if (!np)
			return -ENOMEM;
		t->pairs = np;
		t->pairs_cap = ncap;
	}
	t->buf[start + klen] = '\0'; /* split key and value in place */
	t->pairs[t->npairs].key = (uint32_t)start;
	t->pairs[t->npairs].value = (uint32_t)(start + klen + 1);
	t->npairs++;
	return 0;
}

static int reserve(char **buf, size_t *cap, size_t need)
{
	if (need <= *cap)
		return 0;
	size_t ncap = *cap ? *cap : 256;
	while (ncap < need)
		ncap *= 2;
	char *nb = realloc(*buf, ncap);
	if (!nb)
		return -ENOMEM;
	*buf = nb;
	*cap = ncap;
	return 0;
}

int tt_text_append(struct tt_text *t, const void *data, size_t len, bool final)
{
	int rc;

	if (t->complete)
		return -EINVAL;
	if (len > t->max_total || t->len + len > t->max_total)
		return -EMSGSIZE;
	/* one spare byte to terminate a last pair that lacks its NUL */
	rc = reserve(&t->buf, &t->cap, t->len + len + 1);
	if (rc)
		return rc;
	if (len)
		memcpy(t->buf + t->len, data, len);
	t->len += len;

	size_t start = t->checked;
	for (size_t i = start; i < t->len; i++) {
		if (t->buf[i] != '\0')
			continue;
		if (i == start) { /* consecutive NULs (zero padding): nothing to parse */
			start = i + 1;
			continue;
		}
		rc = add_pair(t, start, i);
		if (rc)
			return rc;
		start = i + 1;
	}
	t->checked = start;
	/* A pair still open must already fit: a key, then '=' and a value. */
	if (t->checked < t->len) {
		const char *open = t->buf + t->checked;
		size_t olen = t->len - t->checked;
		const char *eq = memchr(open, '=', olen);
		if (!eq && olen > TT_TEXT_KEY_MAX)
			return -EBADMSG;
		if (eq && olen - (size_t)(eq - open) - 1 > TT_TEXT_VALUE_MAX)
			return -EBADMSG;
	}
	if (final) {
		if (t->checked < t->len) {
			t->buf[t->len] = '\0';
			rc = add_pair(t, t->checked, t->len);
			if (rc)
				return rc;
			t->len++;
			t->checked = t->len;
		}
		t->complete = true;
	}
	return 0;
}

int tt_text_parse(struct tt_text *t, const void *data, size_t len)
{
	tt_text_reset(t);
	return tt_text_append(t, data, len, true);
}

size_t tt_text_count(const struct tt_text *t)
{
	return t->npairs;
}

struct tt_text_pair tt_text_get(const struct tt_text *t, size_t i)
{
	struct tt_text_pair p = { NULL, NULL };

	if (i < t->npairs) {
		p.key = t->buf + t->pairs[i].key;
		p.value = t->buf + t->pairs[i].value;
	}
	return p;
}

const char *tt_text_find(const struct tt_text *t, const char *key)
{
	for (size_t i = 0; i < t->npairs; i++)
		if (strcmp(t->buf + t->pairs[i].key, key) == 0)
			return t->buf + t->pairs[i].value;
	return NULL;
}

size_t tt_text_occurrences(const struct tt_text *t, const char *key)
{
	size_t n = 0;

	for (size_t i = 0; i < t->npairs; i++)
		if (strcmp(t->buf + t->pairs[i].key, key) == 0)
			n++;
	return n;
}

/* ---- building ---- */

void tt_text_out_init(struct tt_text_out *o, size_t max)
{
	memset(o, 0, sizeof(*o));
	o->max = max ? max : TT_TEXT_TOTAL_MAX;
}

void tt_text_out_fini(struct tt_text_out *o)
{
	free(o->buf);
	memset(o, 0, sizeof(*o));
}

void tt_text_out_reset(struct tt_text_out *o)
{
	o->len = 0;
}

int tt_text_add(struct tt_text_out *o, const char *key, const char *value)
{
	size_t klen = strlen(key);
	size_t vlen = strlen(value);
	size_t need;
	int rc;

	if (!tt_text_key_valid(key, klen) || !value_valid(value, vlen))
		return -EINVAL;
	need = o->len + klen + 1 + vlen + 1;
	if (need > o->max)
		return -EMSGSIZE;
	rc = reserve(&o->buf, &o->cap, need);
	if (rc)
		return rc;
	memcpy(o->buf + o->len, key, klen);
	o->buf[o->len + klen] = '=';
	memcpy(o->buf + o->len + klen + 1, value, vlen);
	o->buf[need - 1] = '\0';
	o->len = need;
	return 0;
}

int tt_text_addf(struct tt_text_out *o, const char *key, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	char *big = NULL;
	int n;
	int rc;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n < sizeof(small))
		return tt_text_add(o, key, small);
	if (n > TT_TEXT_VALUE_MAX)
		return -EINVAL;
	big = malloc((size_t)n + 1);
	if (!big)
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	rc = tt_text_add(o, key, big);
	free(big);
	return rc;
}

int tt_text_add_u64(struct tt_text_out *o, const char *key, uint64_t value)
{
	return tt_text_addf(o, key, "%llu", (unsigned long long)value);
}

int tt_text_add_bool(struct tt_text_out *o, const char *key, bool value)
{
	return tt_text_add(o, key, value ? "Yes" : "No");
}

int tt_text_add_hex(struct tt_text_out *o, const char *key, const void *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *b = data;
	char *v;
	int rc;

	if (len == 0 || len * 2 + 2 > TT_TEXT_VALUE_MAX)
		return -EINVAL;
	v = malloc(len * 2 + 3);
	if (!v)
		return -ENOMEM;
	v[0] = '0';
	v[1] = 'x';
	for (size_t i = 0; i < len; i++) {
		v[2 + 2 * i] = digits[b[i] >> 4];
		v[3 + 2 * i] = digits[b[i] & 15];
	}
	v[2 + 2 * len] = '\0';
	rc = tt_text_add(o, key, v);
	free(v);
	return rc;
}

const char *tt_text_out_find(const struct tt_text_out *o, const char *key)
{
	size_t klen = strlen(key);
	size_t off = 0;

	while (off < o->len) {
		const char *pair = o->buf + off;
		size_t plen = strlen(pair);
		if (plen > klen && memcmp(pair, key, klen) == 0 && pair[klen] == '=')
			return pair + klen + 1;
		off += plen + 1;
	}
	return NULL;
}

size_t tt_text_next_chunk(const struct tt_text_out *o, size_t *off, size_t max_chunk,
			  const char **chunk, bool *last)
{
	size_t left = *off < o->len ? o->len - *off : 0;
	size_t n = left < max_chunk ? left : max_chunk;

	*chunk = o->buf ? o->buf + *off : "";
	*off += n;
	*last = (*off >= o->len);
	return n;
}

/* ---- values ---- */

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int b64_digit(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* RFC 4648 base64 with '=' padding required to a multiple of 4 characters. */
static int b64_decode(const char *s, uint8_t *out, size_t max, size_t *len)
{
	size_t slen = strlen(s);
	size_t n = 0;
	uint32_t acc = 0;
	int bits = 0;
	size_t pad = 0;

	if (slen == 0 || slen % 4 != 0)
		return -EINVAL;
	for (size_t i = 0; i < slen; i++) {
		if (s[i] == '=') {
			pad++;
			continue;
		}
		if (pad)
			return -EINVAL; /* data after padding */
		int d = b64_digit(s[i]);
		if (d < 0)
			return -EINVAL;
		acc = (acc << 6) | (uint32_t)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == max)
				return -EMSGSIZE;
			out[n++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (pad > 2)
		return -EINVAL;
	if (acc != 0)
		return -EINVAL; /* non-canonical trailing bits */
	*len = n;
	return 0;
}

int tt_text_decode_binary(const char *v, uint8_t *out, size_t max, size_t *len)
{
	if (v[0] != '0' || (v[1] != 'x' && v[1] != 'X' && v[1] != 'b' && v[1] != 'B'))
		return -EINVAL;
	if (v[1] == 'b' || v[1] == 'B')
		return b64_decode(v + 2, out, max, len);

	const char *h = v + 2;
	size_t hlen = strlen(h);
	size_t n = (hlen + 1) / 2;
	size_t i = 0, o = 0;

	if (hlen == 0)
		return -EINVAL;
	if (n > max)
		return -EMSGSIZE;
	if (hlen % 2) { /* odd count: the first digit is a low nibble */
		int d = hex_digit(h[0]);
		if (d < 0)
			return -EINVAL;
		out[o++] = (uint8_t)d;
		i = 1;
	}
	for (; i < hlen; i += 2) {
		int hi = hex_digit(h[i]);
		int lo = hex_digit(h[i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[o++] = (uint8_t)(hi << 4 | lo);
	}
	*len = o;
	return 0;
}

int tt_text_parse_u64(const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t x = 0;

	if (!v || !v[0])
		return -EINVAL;
	if (v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
		const char *h = v + 2;
		if (!*h)
			return -EINVAL;
		for (; *h; h++) {
			int d = hex_digit(*h);
			if (d < 0)
				return -EINVAL;
			if (x >> 60)
				return -ERANGE;
			x = x << 4 | (uint64_t)d;
		}
	} else if (v[0] == '0' && (v[1] == 'b' || v[1] == 'B')) {
		uint8_t b[8];
		size_t n;
		int rc = b64_decode(v + 2, b, sizeof(b), &n);
		if (rc == -EMSGSIZE)
			return -ERANGE;
		if (rc)
			return rc;
		for (size_t i = 0; i < n; i++)
			x = x << 8 | b[i];
	} else {
		for (const char *d = v; *d; d++) {
			if (*d < '0' || *d > '9')
				return -EINVAL;
			uint64_t digit = (uint64_t)(*d - '0');
			if (x > (UINT64_MAX - digit) / 10)
				return -ERANGE;
			x = x * 10 + digit;
		}
	}
	if (x < min || x > max)
		return -ERANGE;
	*out = x;
	return 0;
}

int tt_text_parse_bool(const char *v, bool *out)
{
	if (strcmp(v, "Yes") == 0) {
		*out = true;
		return 0;
	}
	if (strcmp(v, "No") == 0) {
		*out = false;
		return 0;
	}
	return -EINVAL;
}

int tt_text_list_next(const char **cursor, char *item, size_t size)
{
	const char *s = *cursor;
	const char *comma;
	size_t n;

	if (!s)
		return 0;
	comma = strchr(s, ',');
	n = comma ? (size_t)(comma - s) : strlen(s);
	if (n == 0)
		return -EINVAL;
	if (n >= size)
		return -EMSGSIZE;
	memcpy(item, s, n);
	item[n] = '\0';
	*cursor = comma ? comma + 1 : NULL;
	return 1;
}

bool tt_text_list_contains(const char *list, const char *item)
{
	size_t ilen = strlen(item);
	const char *s = list;

	while (s) {
		const char *comma = strchr(s, ',');
		size_t n = comma ? (size_t)(comma - s) : strlen(s);
		if (n == ilen && memcmp(s, item, n) == 0)
			return true;
		s = comma ? comma + 1 : NULL;
	}
	return false;
}
