/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Configuration file: JSON -> struct tt_config. Pure: no model, no global state, so that every
 * rule below is unit-tested (tests/unit/target/config_test.c). Every message starts with the
 * JSON path of the field at fault.
 */
#include "target/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "iscsi/chap.h" /* TT_CHAP_SECRET_MIN */
#include "nvmf/nvmf.h"
#include "target/metrics.h"

/* --- JSON path and messages ------------------------------------------------------------------ */

struct pctx {
	char path[512];
	size_t len;
	char *err;
	size_t errlen;
};

static void pctx_init(struct pctx *c, const char *path, char *err, size_t errlen)
{
	snprintf(c->path, sizeof(c->path), "%s", path ? path : "");
	c->len = strlen(c->path);
	c->err = err;
	c->errlen = errlen;
}

static size_t path_key(struct pctx *c, const char *key)
{
	size_t old = c->len;
	int n = snprintf(c->path + c->len, sizeof(c->path) - c->len, "%s%s", c->len ? "." : "", key);

	if (n > 0)
		c->len = strlen(c->path);
	return old;
}

static size_t path_index(struct pctx *c, size_t i)
{
	size_t old = c->len;
	int n = snprintf(c->path + c->len, sizeof(c->path) - c->len, "[%zu]", i);

	if (n > 0)
		c->len = strlen(c->path);
	return old;
}

static void path_restore(struct pctx *c, size_t old)
{
	c->len = old;
	c->path[old] = '\0';
}

__attribute__((format(printf, 2, 3)))
static int fail(struct pctx *c, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	if (!c->err || !c->errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "%s: %s", c->len ? c->path : "(top level)", msg);
	return -EINVAL;
}

static int fail_nomem(struct pctx *c)
{
	if (c->err && c->errlen)
		snprintf(c->err, c->errlen, "%s: out of memory", c->len ? c->path : "(top level)");
	return -ENOMEM;
}

static const char *json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "?";
}

/* --- unknown keys ---------------------------------------------------------------------------- */

/* Edit distance of two short strings, case-insensitive; large for long ones. */
static unsigned edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned row[64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned diag = row[0];

		row[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned up = row[j];
			unsigned cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
			unsigned best = diag + cost;

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* Refuses @obj when it is not an object or has a key outside @known (NULL-terminated). */
static int check_object(struct pctx *c, const json_t *obj, const char *const *known)
{
	const char *key;
	json_t *val;

	if (!json_is_object(obj))
		return fail(c, "must be an object, not %s", json_type_name(obj));
	json_object_foreach((json_t *)obj, key, val) {
		const char *best = NULL;
		unsigned best_d = 3;
		bool ok = false;

		for (const char *const *k = known; *k; k++) {
			unsigned d;

			if (strcmp(key, *k) == 0) {
				ok = true;
				break;
			}
			d = edit_distance(key, *k);
			if (d < best_d) {
				best_d = d;
				best = *k;
			}
		}
		if (ok)
			continue;
		if (best)
			return fail(c, "unknown key \"%s\" (did you mean \"%s\"?)", key, best);
		return fail(c, "unknown key \"%s\"", key);
	}
	return 0;
}

/* --- typed values ---------------------------------------------------------------------------- */
/* Each takes the key's value (NULL: absent) and fails with the key's path. */

static int get_int(struct pctx *c, const json_t *v, long long min, long long max, long long *out)
{
	long long x = 0;

	if (!json_is_integer(v))
		return fail(c, "must be an integer in %lld..%lld, not %s", min, max, json_type_name(v));
	x = json_integer_value(v);
	if (x < min || x > max)
		return fail(c, "%lld is out of range %lld..%lld", x, min, max);
	*out = x;
	return 0;
}

static int get_u32(struct pctx *c, const json_t *v, uint32_t min, uint32_t max, uint32_t *out)
{
	long long x = 0;
	int rc = get_int(c, v, min, max, &x);

	if (rc == 0)
		*out = (uint32_t)x;
	return rc;
}

static int get_bool(struct pctx *c, const json_t *v, bool *out)
{
	if (!json_is_boolean(v))
		return fail(c, "must be true or false, not %s", json_type_name(v));
	*out = json_is_true(v);
	return 0;
}

/* A non-empty string of at most @size - 1 bytes without control characters. */
static int get_string(struct pctx *c, const json_t *v, char *dst, size_t size)
{
	const char *s;
	size_t len;

	if (!json_is_string(v))
		return fail(c, "must be a string, not %s", json_type_name(v));
	s = json_string_value(v);
	len = json_string_length(v);
	if (len == 0)
		return fail(c, "must not be empty");
	if (len >= size)
		return fail(c, "is too long (%zu bytes, at most %zu)", len, size - 1);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return fail(c, "control character at offset %zu", i);
	memcpy(dst, s, len + 1);
	return 0;
}

/* Printable ASCII, as SCSI INQUIRY data requires. */
static int get_ascii(struct pctx *c, const json_t *v, char *dst, size_t size)
{
	int rc = get_string(c, v, dst, size);

	if (rc)
		return rc;
	for (size_t i = 0; dst[i]; i++)
		if ((unsigned char)dst[i] > 0x7e)
			return fail(c, "only printable ASCII is allowed (byte 0x%02x at offset %zu)",
				    (unsigned char)dst[i], i);
	return 0;
}

/* Seconds (integer or fractional) -> milliseconds, in [min_ms, max_s * 1000]; zero always allowed
 * when @zero_ok. */
static int get_seconds(struct pctx *c, const json_t *v, bool zero_ok, double max_s, uint32_t *ms)
{
	double s;
	long long m;

	if (!json_is_number(v))
		return fail(c, "must be a number of seconds, not %s", json_type_name(v));
	s = json_number_value(v);
	if (!isfinite(s) || s < 0 || s > max_s)
		return fail(c, "%g seconds is out of range %s..%g", s, zero_ok ? "0" : "0.001", max_s);
	m = (long long)(s * 1000.0 + 0.5); /* s >= 0; no libm */
	if (m == 0 && !zero_ok)
		return fail(c, "%g seconds is out of range 0.001..%g", s, max_s);
	if (m == 0 && s > 0)
		return fail(c, "%g seconds is below the resolution of 1 ms", s);
	*ms = (uint32_t)m;
	return 0;
}

/* --- iSCSI names ----------------------------------------------------------------------------- */

__attribute__((format(printf, 3, 4)))
static int msg_fail(char *msg, size_t msglen, const char *fmt, ...)
{
	va_list ap;

	if (msg && msglen) {
		va_start(ap, fmt);
		vsnprintf(msg, msglen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int check_hex(const char *name, const char *digits, size_t want1, size_t want2,
		     char *msg, size_t msglen)
{
	size_t n = strlen(digits);

	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)digits[i]))
			return msg_fail(msg, msglen, "\"%s\": '%c' at offset %zu is not a hex digit",
					name, digits[i], (size_t)(digits - name) + i);
	if (n != want1 && n != want2) {
		if (want1 == want2)
			return msg_fail(msg, msglen, "\"%s\": needs %zu hex digits after \"%.4s\", has %zu",
					name, want1, name, n);
		return msg_fail(msg, msglen, "\"%s\": needs %zu or %zu hex digits after \"%.4s\", has %zu",
				name, want1, want2, name, n);
	}
	return 0;
}

int tt_config_check_iscsi_name(const char *name, char *msg, size_t msglen)
{
	size_t len = strlen(name);
	const char *p, *colon;

	if (len == 0)
		return msg_fail(msg, msglen, "an iSCSI name must not be empty");
	if (len > TT_ISCSI_NAME_MAX)
		return msg_fail(msg, msglen, "iSCSI name is %zu bytes long, at most %d are allowed",
				len, TT_ISCSI_NAME_MAX);
	if (strncasecmp(name, "iqn.", 4) != 0 && strncasecmp(name, "eui.", 4) != 0 &&
	    strncasecmp(name, "naa.", 4) != 0)
		return msg_fail(msg, msglen,
				"\"%s\": an iSCSI name starts with \"iqn.\", \"eui.\" or \"naa.\"", name);
	/* names are compared after stringprep, which folds case: we keep the folded form */
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)name[i];

		if (isupper(ch))
			return msg_fail(msg, msglen,
					"\"%s\": iSCSI names are lowercase ('%c' at offset %zu)",
					name, ch, i);
		if (!(islower(ch) || isdigit(ch) || ch == '-' || ch == '.' || ch == ':'))
			return msg_fail(msg, msglen,
					"\"%s\": character 0x%02x at offset %zu is not allowed "
					"(a-z, 0-9, '-', '.', ':')", name, ch, i);
	}
	if (strncmp(name, "eui.", 4) == 0)
		return check_hex(name, name + 4, 16, 16, msg, msglen);
	if (strncmp(name, "naa.", 4) == 0)
		return check_hex(name, name + 4, 16, 32, msg, msglen);
	/* iqn.YYYY-MM.reversed.domain[:unique] */
	p = name + 4;
	if (!(isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]) &&
	      isdigit((unsigned char)p[2]) && isdigit((unsigned char)p[3]) && p[4] == '-' &&
	      isdigit((unsigned char)p[5]) && isdigit((unsigned char)p[6]) &&
	      (p[7] == '.')) ||
	    (p[5] - '0') * 10 + (p[6] - '0') < 1 || (p[5] - '0') * 10 + (p[6] - '0') > 12)
		return msg_fail(msg, msglen, "\"%s\": \"iqn.\" must be followed by a date yyyy-mm "
				"and a '.' (e.g. iqn.2026-11.org.example:disk0)", name);
	p += 8;
	colon = strchr(p, ':');
	if (colon == p || *p == '\0')
		return msg_fail(msg, msglen, "\"%s\": the naming authority (reversed domain name) "
				"after the date is missing", name);
	for (const char *q = p; q < (colon ? colon : name + len); q++)
		if (*q == '.' && (q == p || q[1] == '.' || q[1] == ':' || q[1] == '\0'))
			return msg_fail(msg, msglen, "\"%s\": empty label in the naming authority",
					name);
	if (colon && colon[1] == '\0')
		return msg_fail(msg, msglen, "\"%s\": nothing follows ':'", name);
	return 0;
}

/* --- portals --------------------------------------------------------------------------------- */

int tt_config_parse_portal(const char *addr, struct sockaddr_storage *ss, socklen_t *sslen,
			   enum tt_fabric *fabric, char *msg, size_t msglen)
{
	char host[80];
	const char *port_str = NULL;
	size_t len;
	bool v6 = false;
	unsigned long port;
	enum tt_fabric f;

	memset(ss, 0, sizeof(*ss));
	if (tt_portal_scheme_parse(&addr, &f, msg, msglen))
		return -EINVAL;
	if (fabric)
		*fabric = f;
	port = tt_fabric_default_port(f);
	len = strlen(addr);
	if (len == 0)
		return msg_fail(msg, msglen, "empty address");
	if (len >= sizeof(host))
		return msg_fail(msg, msglen, "address \"%s\" is too long", addr);
	if (addr[0] == '[') {
		const char *end = strchr(addr, ']');

		if (!end)
			return msg_fail(msg, msglen, "cannot parse address \"%s\": missing ']'", addr);
		memcpy(host, addr + 1, (size_t)(end - addr - 1));
		host[end - addr - 1] = '\0';
		if (end[1] == ':')
			port_str = end + 2;
		else if (end[1] != '\0')
			return msg_fail(msg, msglen, "cannot parse address \"%s\": junk after ']'",
					addr);
		v6 = true;
	} else {
		const char *colon = strchr(addr, ':');

		if (colon && strchr(colon + 1, ':'))
			return msg_fail(msg, msglen, "cannot parse address \"%s\": write IPv6 "
					"addresses in brackets, e.g. \"[::1]:3260\"", addr);
		if (colon) {
			memcpy(host, addr, (size_t)(colon - addr));
			host[colon - addr] = '\0';
			port_str = colon + 1;
		} else {
			memcpy(host, addr, len + 1);
		}
	}
	if (port_str) {
		char *end;

		errno = 0;
		port = strtoul(port_str, &end, 10);
		if (!isdigit((unsigned char)port_str[0]) || *end || errno || port < 1 || port > 65535)
			return msg_fail(msg, msglen, "bad port \"%s\" in \"%s\" (1..65535)",
					port_str, addr);
	}
	if (v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		char *pct = strchr(host, '%');

		if (pct) {
			/* a link-local scope: the model resolves the interface name */
			if (pct[1] == '\0')
				return msg_fail(msg, msglen, "cannot parse address \"%s\": empty scope",
						addr);
			*pct = '\0';
		}
		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
			return msg_fail(msg, msglen, "cannot parse address \"%s\"", addr);
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*sslen = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			return msg_fail(msg, msglen, "cannot parse address \"%s\"", addr);
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*sslen = sizeof(*s4);
	}
	return 0;
}

static bool same_portal(const struct tt_config_portal *a, const struct tt_config_portal *b)
{
	return a->fabric == b->fabric && a->sslen == b->sslen &&
	       memcmp(&a->ss, &b->ss, a->sslen) == 0;
}

/* --- global ---------------------------------------------------------------------------------- */

static const char *const global_keys[] = {
	"loops", "rpc_socket", "log_level", "debug", "state_dir", "metrics", "stats",
	"max_connections", "max_prelogin_per_address", "max_connections_per_initiator",
	"max_login_pdus", "max_login_text", "cmd_window", "max_session_buffer", "max_buffer", NULL
};

#define LIMIT32(name, lo, hi) { #name, lo, hi, offsetof(struct tt_limits, name), false }
#define LIMIT64(name, lo, hi) { #name, lo, hi, offsetof(struct tt_limits, name), true }
const struct tt_config_limit_key tt_config_limit_keys[] = {
	LIMIT32(max_connections, 1, 1048576),
	LIMIT32(max_prelogin_per_address, 1, 65535),
	LIMIT32(max_connections_per_initiator, 1, 65535),
	LIMIT32(max_login_pdus, 1, 65535),
	LIMIT32(max_login_text, 1024, 16777216),
	LIMIT32(cmd_window, 1, 65536),
	LIMIT64(max_session_buffer, 1ull << 20, 1ull << 50),
	LIMIT64(max_buffer, 1ull << 20, 1ull << 50),
	{ NULL, 0, 0, 0, false },
};

uint64_t tt_config_limit_get(const struct tt_limits *l, const struct tt_config_limit_key *k)
{
	const char *p = (const char *)l + k->offset;
	uint64_t v64;
	uint32_t v32;

	if (k->wide) {
		memcpy(&v64, p, sizeof(v64));
		return v64;
	}
	memcpy(&v32, p, sizeof(v32));
	return v32;
}

static void limit_put(struct tt_limits *l, const struct tt_config_limit_key *k, uint64_t v)
{
	char *p = (char *)l + k->offset;
	uint32_t v32 = (uint32_t)v;

	if (k->wide)
		memcpy(p, &v, sizeof(v));
	else
		memcpy(p, &v32, sizeof(v32));
}

static bool component_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_' || *s == '-'))
			return false;
	return true;
}

static int parse_global(struct pctx *c, json_t *obj, struct tt_config_global *g)
{
	json_t *v;
	size_t mark;
	int rc;

	rc = check_object(c, obj, global_keys);
	if (rc)
		return rc;
	if ((v = json_object_get(obj, "loops"))) {
		long long x = 0;

		mark = path_key(c, "loops");
		rc = get_int(c, v, 0, 1024, &x);
		if (rc)
			return rc;
		path_restore(c, mark);
		g->loops = (unsigned)x;
		g->set |= TT_CFG_G_LOOPS;
	}
	if ((v = json_object_get(obj, "rpc_socket"))) {
		mark = path_key(c, "rpc_socket");
		rc = get_string(c, v, g->rpc_socket, sizeof(g->rpc_socket));
		if (rc)
			return rc;
		if (g->rpc_socket[0] != '/')
			return fail(c, "\"%s\" is not an absolute path", g->rpc_socket);
		path_restore(c, mark);
		g->set |= TT_CFG_G_RPC_SOCKET;
	}
	if ((v = json_object_get(obj, "log_level"))) {
		char level[16];

		mark = path_key(c, "log_level");
		if (!json_is_string(v) || json_string_length(v) >= sizeof(level))
			return fail(c, "must be one of \"err\", \"warn\", \"notice\", \"info\", \"debug\"");
		snprintf(level, sizeof(level), "%s", json_string_value(v));
		rc = tt_log_parse_level(level);
		if (rc < 0)
			return fail(c, "unknown level \"%s\" (err, warn, notice, info, debug)", level);
		path_restore(c, mark);
		g->log_level = rc;
		g->set |= TT_CFG_G_LOG_LEVEL;
	}
	if ((v = json_object_get(obj, "debug"))) {
		size_t i;
		json_t *e;

		mark = path_key(c, "debug");
		if (!json_is_array(v))
			return fail(c, "must be an array of component names, not %s", json_type_name(v));
		if (json_array_size(v) > TT_CONFIG_DEBUG_MAX)
			return fail(c, "at most %d components", TT_CONFIG_DEBUG_MAX);
		json_array_foreach(v, i, e) {
			size_t m2 = path_index(c, i);

			rc = get_string(c, e, g->debug[g->ndebug], sizeof(g->debug[0]));
			if (rc)
				return rc;
			if (!component_ok(g->debug[g->ndebug]))
				return fail(c, "\"%s\" is not a component name (a-z, 0-9, '_', '-')",
					    g->debug[g->ndebug]);
			for (unsigned k = 0; k < g->ndebug; k++)
				if (strcmp(g->debug[k], g->debug[g->ndebug]) == 0)
					return fail(c, "\"%s\" is listed twice", g->debug[k]);
			g->ndebug++;
			path_restore(c, m2);
		}
		path_restore(c, mark);
		g->set |= TT_CFG_G_DEBUG;
	}
	if ((v = json_object_get(obj, "state_dir"))) {
		mark = path_key(c, "state_dir");
		rc = get_string(c, v, g->state_dir, sizeof(g->state_dir));
		if (rc)
			return rc;
		if (g->state_dir[0] != '/' && strcmp(g->state_dir, "none") != 0)
			return fail(c, "\"%s\" is neither an absolute path nor \"none\"", g->state_dir);
		path_restore(c, mark);
		g->set |= TT_CFG_G_STATE_DIR;
	}
	if ((v = json_object_get(obj, "metrics"))) {
		struct sockaddr_storage ss;
		socklen_t len;
		char msg[256];

		mark = path_key(c, "metrics");
		rc = get_string(c, v, g->metrics, sizeof(g->metrics));
		if (rc)
			return rc;
		if (tt_metrics_addr_parse(g->metrics, &ss, &len, msg, sizeof(msg)))
			return fail(c, "%s", msg);
		path_restore(c, mark);
		g->set |= TT_CFG_G_METRICS;
	}
	if ((v = json_object_get(obj, "stats"))) {
		mark = path_key(c, "stats");
		if ((rc = get_bool(c, v, &g->stats)))
			return rc;
		path_restore(c, mark);
		g->set |= TT_CFG_G_STATS;
	}
	for (const struct tt_config_limit_key *k = tt_config_limit_keys; k->key; k++) {
		long long x = 0;

		if (!(v = json_object_get(obj, k->key)))
			continue;
		mark = path_key(c, k->key);
		if ((rc = get_int(c, v, (long long)k->min, (long long)k->max, &x)))
			return rc;
		path_restore(c, mark);
		limit_put(&g->limits, k, (uint64_t)x);
	}
	return 0;
}

/* --- TPGs ------------------------------------------------------------------------------------ */

static const char *const tpg_keys[] = {
	"tag", "portals", "nop_interval", "nop_timeout", "login_timeout", "auth",
	"allow_any_initiator", "alua_state", "alua_explicit", "params", NULL
};

static const char *const param_keys[] = {
	"MaxRecvDataSegmentLength", "MaxBurstLength", "FirstBurstLength", "ImmediateData",
	"InitialR2T", "MaxOutstandingR2T", "MaxConnections", "ErrorRecoveryLevel", "HeaderDigest",
	"DataDigest", "DefaultTime2Wait", "DefaultTime2Retain", NULL
};

/* ["CRC32C", "None"] in any order: CRC32C accepted or not. The target answers the initiator's
 * list, so the order here does not matter; a list without "None" (digests required) is refused
 * because the target cannot enforce it yet. */
static int get_digest(struct pctx *c, const json_t *v, bool *crc)
{
	bool none = false;
	size_t i;
	json_t *e;

	*crc = false;
	if (!json_is_array(v) || json_array_size(v) == 0)
		return fail(c, "must be a non-empty array of \"CRC32C\" and \"None\"");
	json_array_foreach(v, i, e) {
		size_t mark = path_index(c, i);
		const char *s = json_string_value(e);
		bool *seen;

		if (!s)
			return fail(c, "must be \"CRC32C\" or \"None\", not %s", json_type_name(e));
		if (strcmp(s, "CRC32C") == 0)
			seen = crc;
		else if (strcmp(s, "None") == 0)
			seen = &none;
		else
			return fail(c, "unknown digest \"%s\" (\"CRC32C\" or \"None\")", s);
		if (*seen)
			return fail(c, "\"%s\" is listed twice", s);
		*seen = true;
		path_restore(c, mark);
	}
	if (!none)
		return fail(c, "must contain \"None\": requiring digests is not supported");
	return 0;
}

static int parse_params(struct pctx *c, json_t *obj, struct tt_config_tpg *g)
{
	struct tt_tpg_params *p = &g->params;
	json_t *v;
	size_t mark;
	int rc;

	rc = check_object(c, obj, param_keys);
	if (rc)
		return rc;
#define U32_PARAM(key, field, bit, lo, hi)                                              \
	if ((v = json_object_get(obj, key))) {                                          \
		mark = path_key(c, key);                                                \
		if ((rc = get_u32(c, v, lo, hi, &p->field)))                            \
			return rc;                                                      \
		path_restore(c, mark);                                                  \
		g->set |= bit;                                                          \
	}
#define BOOL_PARAM(key, field, bit)                                                     \
	if ((v = json_object_get(obj, key))) {                                          \
		mark = path_key(c, key);                                                \
		if ((rc = get_bool(c, v, &p->field)))                                   \
			return rc;                                                      \
		path_restore(c, mark);                                                  \
		g->set |= bit;                                                          \
	}
#define DIGEST_PARAM(key, field, bit)                                                   \
	if ((v = json_object_get(obj, key))) {                                          \
		mark = path_key(c, key);                                                \
		if ((rc = get_digest(c, v, &p->field)))                                 \
			return rc;                                                      \
		path_restore(c, mark);                                                  \
		g->set |= bit;                                                          \
	}
	/* ranges of RFC 7143 §13 */
	U32_PARAM("MaxRecvDataSegmentLength", max_recv_dsl, TT_CFG_P_MAX_RECV_DSL, 512, 16777215)
	U32_PARAM("MaxBurstLength", max_burst, TT_CFG_P_MAX_BURST, 512, 16777215)
	U32_PARAM("FirstBurstLength", first_burst, TT_CFG_P_FIRST_BURST, 512, 16777215)
	BOOL_PARAM("ImmediateData", immediate_data, TT_CFG_P_IMMEDIATE_DATA)
	BOOL_PARAM("InitialR2T", initial_r2t, TT_CFG_P_INITIAL_R2T)
	U32_PARAM("MaxOutstandingR2T", max_outstanding_r2t, TT_CFG_P_MAX_OUTSTANDING_R2T, 1, 65535)
	U32_PARAM("MaxConnections", max_connections, TT_CFG_P_MAX_CONNECTIONS, 1, 65535)
	DIGEST_PARAM("HeaderDigest", header_digest, TT_CFG_P_HEADER_DIGEST)
	DIGEST_PARAM("DataDigest", data_digest, TT_CFG_P_DATA_DIGEST)
	U32_PARAM("DefaultTime2Wait", time2wait, TT_CFG_P_TIME2WAIT, 0, 3600)
	U32_PARAM("DefaultTime2Retain", time2retain, TT_CFG_P_TIME2RETAIN, 0, 3600)
#undef U32_PARAM
#undef BOOL_PARAM
#undef DIGEST_PARAM
	if ((v = json_object_get(obj, "ErrorRecoveryLevel"))) {
		long long x = 0;

		mark = path_key(c, "ErrorRecoveryLevel");
		if ((rc = get_int(c, v, 0, 2, &x)))
			return rc;
		path_restore(c, mark);
		p->max_erl = (uint8_t)x;
		g->set |= TT_CFG_P_ERL;
	}
	if ((g->set & TT_CFG_P_FIRST_BURST) && (g->set & TT_CFG_P_MAX_BURST) &&
	    p->first_burst > p->max_burst) {
		mark = path_key(c, "FirstBurstLength");
		return fail(c, "%u exceeds MaxBurstLength %u", p->first_burst, p->max_burst);
	}
	return 0;
}

static void tpg_release(struct tt_config_tpg *g)
{
	free(g->portals);
	g->portals = NULL;
	g->nportals = 0;
}

void tt_config_tpg_release(struct tt_config_tpg *g)
{
	tpg_release(g);
}

static int parse_tpg(struct pctx *c, json_t *obj, struct tt_config_tpg *g)
{
	json_t *v;
	size_t mark;
	long long x = 0;
	int rc;

	memset(g, 0, sizeof(*g));
	rc = check_object(c, obj, tpg_keys);
	if (rc)
		return rc;
	v = json_object_get(obj, "tag");
	mark = path_key(c, "tag");
	if (!v)
		return fail(c, "missing (the target portal group tag, 1..65535)");
	if ((rc = get_int(c, v, 1, 65535, &x)))
		return rc;
	g->tag = (uint16_t)x;
	path_restore(c, mark);

	if ((v = json_object_get(obj, "nop_interval"))) {
		mark = path_key(c, "nop_interval");
		if ((rc = get_seconds(c, v, true, 3600, &g->nop_interval_ms)))
			return rc;
		path_restore(c, mark);
		g->set |= TT_CFG_T_NOP_INTERVAL;
	}
	if ((v = json_object_get(obj, "nop_timeout"))) {
		mark = path_key(c, "nop_timeout");
		if ((rc = get_seconds(c, v, false, 3600, &g->nop_timeout_ms)))
			return rc;
		path_restore(c, mark);
		g->set |= TT_CFG_T_NOP_TIMEOUT;
	}
	if ((v = json_object_get(obj, "login_timeout"))) {
		mark = path_key(c, "login_timeout");
		if ((rc = get_seconds(c, v, false, 3600, &g->login_timeout_ms)))
			return rc;
		path_restore(c, mark);
		g->set |= TT_CFG_T_LOGIN_TIMEOUT;
	}
	if ((v = json_object_get(obj, "auth"))) {
		const char *s = json_string_value(v);

		mark = path_key(c, "auth");
		if (!s)
			return fail(c, "must be \"none\" or \"chap\", not %s", json_type_name(v));
		if (strcmp(s, "none") == 0)
			g->chap_required = false;
		else if (strcmp(s, "chap") == 0)
			g->chap_required = true;
		else
			return fail(c, "unknown method \"%s\" (\"none\" or \"chap\")", s);
		path_restore(c, mark);
		g->set |= TT_CFG_T_AUTH;
	}
	if ((v = json_object_get(obj, "allow_any_initiator"))) {
		mark = path_key(c, "allow_any_initiator");
		if ((rc = get_bool(c, v, &g->allow_any_initiator)))
			return rc;
		path_restore(c, mark);
		g->set |= TT_CFG_T_ALLOW_ANY;
	}
	if ((v = json_object_get(obj, "alua_state"))) {
		const char *s = json_string_value(v);
		int state = s ? tt_alua_state_parse(s) : -EINVAL;

		mark = path_key(c, "alua_state");
		if (state < 0)
			return fail(c, "must be \"active-optimized\", \"active-non-optimized\", "
				    "\"standby\", \"unavailable\" or \"transitioning\"");
		g->alua_state = (uint8_t)state;
		path_restore(c, mark);
		g->set |= TT_CFG_T_ALUA_STATE;
	}
	if ((v = json_object_get(obj, "alua_explicit"))) {
		mark = path_key(c, "alua_explicit");
		if ((rc = get_bool(c, v, &g->alua_explicit)))
			return rc;
		path_restore(c, mark);
		g->set |= TT_CFG_T_ALUA_EXPLICIT;
	}
	if ((g->set & TT_CFG_T_ALLOW_ANY) && g->allow_any_initiator && g->chap_required) {
		path_key(c, "allow_any_initiator");
		return fail(c, "cannot be true with \"auth\": \"chap\" (CHAP credentials come "
			    "from the ACLs)");
	}
	if ((v = json_object_get(obj, "params"))) {
		mark = path_key(c, "params");
		if ((rc = parse_params(c, v, g)))
			return rc;
		path_restore(c, mark);
	}
	if ((v = json_object_get(obj, "portals"))) {
		size_t i;
		json_t *e;

		mark = path_key(c, "portals");
		if (!json_is_array(v))
			return fail(c, "must be an array of addresses, not %s", json_type_name(v));
		g->portals = calloc(json_array_size(v) + 1, sizeof(*g->portals));
		if (!g->portals)
			return fail_nomem(c);
		json_array_foreach(v, i, e) {
			struct tt_config_portal *pt = &g->portals[i];
			size_t m2 = path_index(c, i);
			char msg[200];

			if ((rc = get_string(c, e, pt->addr, sizeof(pt->addr))))
				return rc;
			enum tt_fabric fabric;

			if (tt_config_parse_portal(pt->addr, &pt->ss, &pt->sslen, &fabric, msg,
						   sizeof(msg)))
				return fail(c, "%s", msg);
			pt->fabric = (uint8_t)fabric;
			for (size_t k = 0; k < i; k++)
				if (same_portal(&g->portals[k], pt))
					return fail(c, "duplicate portal \"%s\" (same as portals[%zu])",
						    pt->addr, k);
			g->nportals++;
			path_restore(c, m2);
		}
		path_restore(c, mark);
	}
	return 0;
}

int tt_config_parse_tpg(json_t *obj, const char *path, struct tt_config_tpg *out,
			char *err, size_t errlen)
{
	struct pctx c;
	int rc;

	pctx_init(&c, path, err, errlen);
	rc = parse_tpg(&c, obj, out);
	if (rc)
		tpg_release(out);
	return rc;
}

/* --- LUNs ------------------------------------------------------------------------------------ */

static const char *const lun_keys[] = {
	"id", "backend", "vendor", "product", "serial", "write_protect", NULL
};

static int parse_lun(struct pctx *c, json_t *obj, struct tt_config_lun *l)
{
	json_t *v;
	size_t mark;
	long long x = 0;
	int rc;

	memset(l, 0, sizeof(*l));
	if ((rc = check_object(c, obj, lun_keys)))
		return rc;
	v = json_object_get(obj, "id");
	mark = path_key(c, "id");
	if (!v)
		return fail(c, "missing (the LUN number, 0..%d)", TT_CONFIG_LUN_ID_MAX);
	if ((rc = get_int(c, v, 0, TT_CONFIG_LUN_ID_MAX, &x)))
		return rc;
	l->id = (uint64_t)x;
	path_restore(c, mark);

	v = json_object_get(obj, "backend");
	mark = path_key(c, "backend");
	if (!v)
		return fail(c, "missing (a backend spec such as \"ram:1G\" or \"file:/path\")");
	if ((rc = get_string(c, v, l->backend, sizeof(l->backend))))
		return rc;
	if (!strchr(l->backend, ':'))
		return fail(c, "\"%s\" is not a backend spec (KIND:ARGS, e.g. \"ram:1G\")",
			    l->backend);
	path_restore(c, mark);

#define ASCII_FIELD(key, field, bit)                                                    \
	if ((v = json_object_get(obj, key))) {                                          \
		mark = path_key(c, key);                                                \
		if ((rc = get_ascii(c, v, l->field, sizeof(l->field))))                 \
			return rc;                                                      \
		path_restore(c, mark);                                                  \
		l->set |= bit;                                                          \
	}
	ASCII_FIELD("vendor", vendor, TT_CFG_L_VENDOR)
	ASCII_FIELD("product", product, TT_CFG_L_PRODUCT)
	ASCII_FIELD("serial", serial, TT_CFG_L_SERIAL)
#undef ASCII_FIELD
	if ((v = json_object_get(obj, "write_protect"))) {
		mark = path_key(c, "write_protect");
		if ((rc = get_bool(c, v, &l->write_protect)))
			return rc;
		path_restore(c, mark);
		l->set |= TT_CFG_L_WRITE_PROTECT;
	}
	return 0;
}

int tt_config_parse_lun(json_t *obj, const char *path, struct tt_config_lun *out,
			char *err, size_t errlen)
{
	struct pctx c;

	pctx_init(&c, path, err, errlen);
	return parse_lun(&c, obj, out);
}

/* --- ACLs ------------------------------------------------------------------------------------ */

static const char *const acl_keys[] = { "initiator", "chap", NULL };

/* "0x" and 32 lowercase hex digits: an SRP initiator port identifier. */
static bool srp_port_form(const char *s)
{
	if (s[0] != '0' || s[1] != 'x' || strlen(s) != 34)
		return false;
	for (s += 2; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}
static const char *const chap_keys[] = {
	"user", "secret", "mutual_user", "mutual_secret", NULL
};


static int get_secret(struct pctx *c, const json_t *v, char *dst, size_t size)
{
	int rc = get_string(c, v, dst, size);

	if (rc)
		return rc;
	if (strlen(dst) < TT_CHAP_SECRET_MIN)
		return fail(c, "is %zu characters long; CHAP secrets need at least %d",
			    strlen(dst), TT_CHAP_SECRET_MIN);
	return 0;
}

static int parse_chap(struct pctx *c, json_t *obj, struct tt_acl_chap *cred)
{
	json_t *v;
	size_t mark;
	int rc;

	if ((rc = check_object(c, obj, chap_keys)))
		return rc;
	mark = path_key(c, "user");
	if (!(v = json_object_get(obj, "user")))
		return fail(c, "missing");
	if ((rc = get_string(c, v, cred->user, sizeof(cred->user))))
		return rc;
	path_restore(c, mark);
	mark = path_key(c, "secret");
	if (!(v = json_object_get(obj, "secret")))
		return fail(c, "missing");
	if ((rc = get_secret(c, v, cred->secret, sizeof(cred->secret))))
		return rc;
	path_restore(c, mark);

	v = json_object_get(obj, "mutual_user");
	if (!v != !json_object_get(obj, "mutual_secret")) {
		mark = path_key(c, v ? "mutual_secret" : "mutual_user");
		return fail(c, "missing: mutual CHAP needs both mutual_user and mutual_secret");
	}
	if (!v)
		return 0;
	mark = path_key(c, "mutual_user");
	if ((rc = get_string(c, v, cred->mutual_user, sizeof(cred->mutual_user))))
		return rc;
	path_restore(c, mark);
	mark = path_key(c, "mutual_secret");
	if ((rc = get_secret(c, json_object_get(obj, "mutual_secret"), cred->mutual_secret,
			     sizeof(cred->mutual_secret))))
		return rc;
	/* RFC 7143 §12.1.3: a secret authenticates one direction only */
	if (strcmp(cred->mutual_secret, cred->secret) == 0)
		return fail(c, "must differ from secret (one secret per direction)");
	path_restore(c, mark);
	return 0;
}

static int parse_acl(struct pctx *c, json_t *obj, struct tt_config_acl *a)
{
	json_t *v;
	size_t mark;
	char msg[300];
	int rc;

	memset(a, 0, sizeof(*a));
	if ((rc = check_object(c, obj, acl_keys)))
		return rc;
	mark = path_key(c, "initiator");
	if (!(v = json_object_get(obj, "initiator")))
		return fail(c, "missing (the initiator's iSCSI name or SRP initiator port identifier)");
	if ((rc = get_string(c, v, a->initiator, sizeof(a->initiator))))
		return rc;
	if (!strncmp(a->initiator, "0x", 2)) {
		if (!srp_port_form(a->initiator))
			return fail(c, "\"%s\": an SRP initiator port identifier is 0x and 32 "
				    "lowercase hex digits", a->initiator);
	} else if (tt_config_check_iscsi_name(a->initiator, msg, sizeof(msg))) {
		return fail(c, "%s", msg);
	}
	path_restore(c, mark);
	if ((v = json_object_get(obj, "chap"))) {
		mark = path_key(c, "chap");
		if ((rc = parse_chap(c, v, &a->chap)))
			return rc;
		a->has_chap = true;
		path_restore(c, mark);
	}
	return 0;
}

int tt_config_parse_acl(json_t *obj, const char *path, struct tt_config_acl *out,
			char *err, size_t errlen)
{
	struct pctx c;

	pctx_init(&c, path, err, errlen);
	return parse_acl(&c, obj, out);
}

/* --- targets --------------------------------------------------------------------------------- */

static const char *const target_keys[] = { "name", "alias", "tpgs", "luns", "acls", NULL };

void tt_config_target_release(struct tt_config_target *t)
{
	for (size_t i = 0; i < t->ntpgs; i++)
		tpg_release(&t->tpgs[i]);
	free(t->tpgs);
	free(t->luns);
	free(t->acls);
	t->tpgs = NULL;
	t->luns = NULL;
	t->acls = NULL;
	t->ntpgs = t->nluns = t->nacls = 0;
}

/* Fetches the array under @key (absent: empty), allocating room for its elements. */
static int get_array(struct pctx *c, json_t *obj, const char *key, size_t elem, json_t **arr,
		     void **mem)
{
	json_t *v = json_object_get(obj, key);
	size_t mark;

	*arr = NULL;
	*mem = NULL;
	if (!v)
		return 0;
	mark = path_key(c, key);
	if (!json_is_array(v))
		return fail(c, "must be an array, not %s", json_type_name(v));
	path_restore(c, mark);
	*mem = calloc(json_array_size(v) + 1, elem);
	if (!*mem)
		return fail_nomem(c);
	*arr = v;
	return 0;
}

/* Rules between the objects of one target. */
static int check_target(struct pctx *c, const struct tt_config_target *t)
{
	for (size_t i = 0; i < t->ntpgs; i++) {
		const struct tt_config_tpg *g = &t->tpgs[i];

		for (size_t j = 0; j < g->nportals; j++)
			for (size_t k = 0; k < i; k++)
				for (size_t m = 0; m < t->tpgs[k].nportals; m++) {
					if (!same_portal(&g->portals[j], &t->tpgs[k].portals[m]))
						continue;
					path_key(c, "tpgs");
					path_index(c, i);
					path_key(c, "portals");
					path_index(c, j);
					return fail(c, "portal \"%s\" is already in tpgs[%zu] "
						    "(a portal belongs to one TPG of a target)",
						    g->portals[j].addr, k);
				}
	}
	return 0;
}

static int parse_target(struct pctx *c, json_t *obj, struct tt_config_target *t)
{
	json_t *v, *arr, *e;
	size_t mark, i;
	char msg[300];
	int rc;

	memset(t, 0, sizeof(*t));
	if ((rc = check_object(c, obj, target_keys)))
		return rc;
	mark = path_key(c, "name");
	if (!(v = json_object_get(obj, "name")))
		return fail(c, "missing (the target's iSCSI name)");
	if ((rc = get_string(c, v, t->name, sizeof(t->name))))
		return rc;
	if (tt_config_check_iscsi_name(t->name, msg, sizeof(msg)))
		return fail(c, "%s", msg);
	path_restore(c, mark);
	if ((v = json_object_get(obj, "alias"))) {
		mark = path_key(c, "alias");
		if ((rc = get_string(c, v, t->alias, sizeof(t->alias))))
			return rc;
		path_restore(c, mark);
	}

	if ((rc = get_array(c, obj, "tpgs", sizeof(*t->tpgs), &arr, (void **)&t->tpgs)))
		return rc;
	json_array_foreach(arr, i, e) {
		mark = path_key(c, "tpgs");
		path_index(c, i);
		rc = parse_tpg(c, e, &t->tpgs[i]);
		if (rc) {
			tpg_release(&t->tpgs[i]);
			return rc;
		}
		t->ntpgs++;
		for (size_t k = 0; k < i; k++)
			if (t->tpgs[k].tag == t->tpgs[i].tag) {
				path_key(c, "tag");
				return fail(c, "duplicate TPG tag %u (also tpgs[%zu])",
					    t->tpgs[i].tag, k);
			}
		path_restore(c, mark);
	}

	if ((rc = get_array(c, obj, "luns", sizeof(*t->luns), &arr, (void **)&t->luns)))
		return rc;
	json_array_foreach(arr, i, e) {
		mark = path_key(c, "luns");
		path_index(c, i);
		if ((rc = parse_lun(c, e, &t->luns[i])))
			return rc;
		t->nluns++;
		for (size_t k = 0; k < i; k++)
			if (t->luns[k].id == t->luns[i].id) {
				path_key(c, "id");
				return fail(c, "duplicate LUN id %llu (also luns[%zu])",
					    (unsigned long long)t->luns[i].id, k);
			}
		path_restore(c, mark);
	}

	if ((rc = get_array(c, obj, "acls", sizeof(*t->acls), &arr, (void **)&t->acls)))
		return rc;
	json_array_foreach(arr, i, e) {
		mark = path_key(c, "acls");
		path_index(c, i);
		if ((rc = parse_acl(c, e, &t->acls[i])))
			return rc;
		t->nacls++;
		for (size_t k = 0; k < i; k++)
			if (strcmp(t->acls[k].initiator, t->acls[i].initiator) == 0) {
				path_key(c, "initiator");
				return fail(c, "duplicate initiator \"%s\" (also acls[%zu])",
					    t->acls[i].initiator, k);
			}
		path_restore(c, mark);
	}
	return check_target(c, t);
}

int tt_config_parse_target(json_t *obj, const char *path, struct tt_config_target *out,
			   char *err, size_t errlen)
{
	struct pctx c;
	int rc;

	pctx_init(&c, path, err, errlen);
	rc = parse_target(&c, obj, out);
	if (rc)
		tt_config_target_release(out);
	return rc;
}

/* --- whole file ------------------------------------------------------------------------------ */

static const char *const top_keys[] = { "global", "targets", "nvmf", NULL };

/* --- NVMe-oF ---------------------------------------------------------------------------------- */

static const char *const nvmf_keys[] = { "ana_groups", "ports", "subsystems", NULL };
static const char *const ana_keys[] = { "id", "state", NULL };
static const char *const nport_keys[] = { "address", "transport", "ana_group", NULL };
static const char *const subsys_keys[] = {
	"nqn", "serial", "model", "allow_any_host", "hosts", "namespaces", NULL
};
static const char *const ns_keys[] = { "nsid", "backend", "lun", NULL };
static const char *const ns_lun_keys[] = { "target", "id", NULL };

uint8_t tt_config_nvmf_ana_state(const struct tt_config_nvmf *n, uint32_t id)
{
	for (size_t i = 0; i < n->ngroups; i++)
		if (n->groups[i].id == id)
			return n->groups[i].state;
	return TT_NVMF_ANA_OPTIMIZED;
}

static void nvmf_release(struct tt_config_nvmf *n)
{
	for (size_t i = 0; i < n->nsubsys; i++) {
		free(n->subsys[i].hosts);
		free(n->subsys[i].ns);
	}
	free(n->subsys);
	free(n->ports);
	free(n->groups);
	memset(n, 0, sizeof(*n));
}

static int get_nqn(struct pctx *c, const json_t *v, char *dst)
{
	char msg[300];
	int rc = get_string(c, v, dst, TT_CONFIG_NQN_MAX + 1);

	if (rc)
		return rc;
	if (tt_nvmf_nqn_check(dst, msg, sizeof(msg)))
		return fail(c, "%s", msg);
	return 0;
}

static int parse_ana_group(struct pctx *c, json_t *obj, struct tt_config_nvmf_ana *g)
{
	json_t *v;
	size_t mark;
	char name[32];
	int rc, st;

	if ((rc = check_object(c, obj, ana_keys)))
		return rc;
	mark = path_key(c, "id");
	if (!(v = json_object_get(obj, "id")))
		return fail(c, "missing (the ANA group id, 1..%d)", TT_NVMF_ANA_GROUP_MAX);
	if ((rc = get_u32(c, v, 1, TT_NVMF_ANA_GROUP_MAX, &g->id)))
		return rc;
	path_restore(c, mark);
	mark = path_key(c, "state");
	if (!(v = json_object_get(obj, "state")))
		return fail(c, "missing (optimized, non-optimized, inaccessible, persistent-loss, "
			    "change)");
	if ((rc = get_string(c, v, name, sizeof(name))))
		return rc;
	if ((st = tt_nvmf_ana_state_parse(name)) < 0)
		return fail(c, "unknown ANA state \"%s\" (optimized, non-optimized, inaccessible, "
			    "persistent-loss, change)", name);
	g->state = (uint8_t)st;
	path_restore(c, mark);
	return 0;
}

static int parse_nvmf_port(struct pctx *c, json_t *obj, struct tt_config_nvmf_port *p)
{
	char msg[300], transport[16] = "";
	int want = -1;
	json_t *v;
	size_t mark;
	int rc;

	if ((rc = check_object(c, obj, nport_keys)))
		return rc;
	/* "transport": "tcp" or "rdma" (optional): the scheme of an address written without one,
	 * and must agree with the scheme of one written with it */
	if ((v = json_object_get(obj, "transport"))) {
		mark = path_key(c, "transport");
		if ((rc = get_string(c, v, transport, sizeof(transport))))
			return rc;
		if (!strcmp(transport, "tcp"))
			want = TT_FABRIC_NVME_TCP;
		else if (!strcmp(transport, "rdma"))
			want = TT_FABRIC_NVME_RDMA;
		else
			return fail(c, "unknown transport \"%s\" (tcp, rdma)", transport);
		path_restore(c, mark);
	}
	mark = path_key(c, "address");
	if (!(v = json_object_get(obj, "address")))
		return fail(c, "missing (\"nvme-tcp://ADDR[:PORT]\" or \"nvme-rdma://ADDR[:PORT]\")");
	if ((rc = get_string(c, v, p->addr, sizeof(p->addr))))
		return rc;
	if (want >= 0 && !strstr(p->addr, "://")) {
		char full[sizeof(p->addr)];

		if ((size_t)snprintf(full, sizeof(full), "%s://%s", tt_fabric_scheme(want), p->addr) >=
		    sizeof(full))
			return fail(c, "\"%s\": too long", p->addr);
		memcpy(p->addr, full, sizeof(full));
	}
	if (tt_portal_addr_parse(p->addr, &p->parsed, msg, sizeof(msg)))
		return fail(c, "%s", msg);
	if (p->parsed.fabric != TT_FABRIC_NVME_TCP && p->parsed.fabric != TT_FABRIC_NVME_RDMA)
		return fail(c, "\"%s\": an NVMe-oF port is nvme-tcp://ADDR[:PORT] or "
			    "nvme-rdma://ADDR[:PORT]", p->addr);
	if (!tt_nvmf_fabric_served(p->parsed.fabric))
		return fail(c, "\"%s\": %s:// is not served by this build (no rdma-core)", p->addr,
			    tt_fabric_scheme(p->parsed.fabric));
	path_restore(c, mark);
	if (want >= 0 && (int)p->parsed.fabric != want) {
		mark = path_key(c, "transport");
		return fail(c, "\"%s\" but the address is %s://", transport,
			    tt_fabric_scheme(p->parsed.fabric));
	}
	p->ana_group = 1;
	if ((v = json_object_get(obj, "ana_group"))) {
		mark = path_key(c, "ana_group");
		if ((rc = get_u32(c, v, 1, TT_NVMF_ANA_GROUP_MAX, &p->ana_group)))
			return rc;
		path_restore(c, mark);
	}
	return 0;
}

static int parse_ns(struct pctx *c, json_t *obj, struct tt_config_nvmf_ns *n)
{
	json_t *v, *lun;
	size_t mark, m2;
	long long x;
	int rc;

	if ((rc = check_object(c, obj, ns_keys)))
		return rc;
	mark = path_key(c, "nsid");
	if (!(v = json_object_get(obj, "nsid")))
		return fail(c, "missing (the namespace id, 1..%d)", TT_NVMF_MAX_NAMESPACES);
	if ((rc = get_u32(c, v, 1, TT_NVMF_MAX_NAMESPACES, &n->nsid)))
		return rc;
	path_restore(c, mark);
	v = json_object_get(obj, "backend");
	lun = json_object_get(obj, "lun");
	if (!v == !lun)
		return fail(c, "a namespace needs either \"backend\" (a backend spec) or \"lun\" "
			    "(a target's LUN), not %s", v ? "both" : "neither");
	if (v) {
		mark = path_key(c, "backend");
		if ((rc = get_string(c, v, n->backend, sizeof(n->backend))))
			return rc;
		if (!strchr(n->backend, ':'))
			return fail(c, "\"%s\" is not a backend spec (KIND:ARGS, e.g. \"ram:1G\")",
				    n->backend);
		path_restore(c, mark);
		return 0;
	}
	mark = path_key(c, "lun");
	if ((rc = check_object(c, lun, ns_lun_keys)))
		return rc;
	m2 = path_key(c, "target");
	if (!(v = json_object_get(lun, "target")))
		return fail(c, "missing (the name of a target in \"targets\")");
	if ((rc = get_string(c, v, n->lun_target, sizeof(n->lun_target))))
		return rc;
	path_restore(c, m2);
	m2 = path_key(c, "id");
	if (!(v = json_object_get(lun, "id")))
		return fail(c, "missing (the LUN number)");
	if ((rc = get_int(c, v, 0, TT_CONFIG_LUN_ID_MAX, &x)))
		return rc;
	n->lun_id = (uint64_t)x;
	path_restore(c, m2);
	path_restore(c, mark);
	return 0;
}

static int parse_subsys(struct pctx *c, json_t *obj, struct tt_config_nvmf_subsys *s)
{
	json_t *v, *arr, *e;
	size_t mark, i;
	int rc;

	if ((rc = check_object(c, obj, subsys_keys)))
		return rc;
	mark = path_key(c, "nqn");
	if (!(v = json_object_get(obj, "nqn")))
		return fail(c, "missing (the subsystem NQN, nqn.YYYY-MM.reverse.domain:name)");
	if ((rc = get_nqn(c, v, s->nqn)))
		return rc;
	if (!strcmp(s->nqn, TT_NVMF_DISCOVERY_NQN))
		return fail(c, "the discovery subsystem is not configured");
	path_restore(c, mark);
	if ((v = json_object_get(obj, "serial"))) {
		mark = path_key(c, "serial");
		if ((rc = get_ascii(c, v, s->serial, sizeof(s->serial))))
			return rc;
		path_restore(c, mark);
		s->set |= TT_CFG_S_SERIAL;
	}
	if ((v = json_object_get(obj, "model"))) {
		mark = path_key(c, "model");
		if ((rc = get_ascii(c, v, s->model, sizeof(s->model))))
			return rc;
		path_restore(c, mark);
		s->set |= TT_CFG_S_MODEL;
	}
	if ((rc = get_array(c, obj, "hosts", sizeof(*s->hosts), &arr, (void **)&s->hosts)))
		return rc;
	json_array_foreach(arr, i, e) {
		mark = path_key(c, "hosts");
		path_index(c, i);
		if ((rc = get_nqn(c, e, s->hosts[i])))
			return rc;
		for (size_t k = 0; k < i; k++)
			if (!strcmp(s->hosts[k], s->hosts[i]))
				return fail(c, "duplicate host \"%s\" (also hosts[%zu])", s->hosts[i], k);
		s->nhosts++;
		path_restore(c, mark);
	}
	s->allow_any_host = s->nhosts == 0;
	if ((v = json_object_get(obj, "allow_any_host"))) {
		mark = path_key(c, "allow_any_host");
		if ((rc = get_bool(c, v, &s->allow_any_host)))
			return rc;
		if (s->allow_any_host && s->nhosts)
			return fail(c, "true with a list of hosts (either any host or those listed)");
		path_restore(c, mark);
	}
	if ((rc = get_array(c, obj, "namespaces", sizeof(*s->ns), &arr, (void **)&s->ns)))
		return rc;
	json_array_foreach(arr, i, e) {
		mark = path_key(c, "namespaces");
		path_index(c, i);
		if ((rc = parse_ns(c, e, &s->ns[i])))
			return rc;
		for (size_t k = 0; k < i; k++)
			if (s->ns[k].nsid == s->ns[i].nsid) {
				path_key(c, "nsid");
				return fail(c, "duplicate namespace id %u (also namespaces[%zu])",
					    s->ns[i].nsid, k);
			}
		s->nns++;
		path_restore(c, mark);
	}
	return 0;
}

static int parse_nvmf(struct pctx *c, json_t *obj, struct tt_config_nvmf *n)
{
	json_t *arr, *e;
	size_t mark, i;
	int rc;

	if ((rc = check_object(c, obj, nvmf_keys)))
		return rc;
	if ((rc = get_array(c, obj, "ana_groups", sizeof(*n->groups), &arr, (void **)&n->groups)))
		return rc;
	json_array_foreach(arr, i, e) {
		mark = path_key(c, "ana_groups");
		path_index(c, i);
		if ((rc = parse_ana_group(c, e, &n->groups[i])))
			return rc;
		for (size_t k = 0; k < i; k++)
			if (n->groups[k].id == n->groups[i].id) {
				path_key(c, "id");
				return fail(c, "duplicate ANA group %u (also ana_groups[%zu])",
					    n->groups[i].id, k);
			}
		n->ngroups++;
		path_restore(c, mark);
	}
	if ((rc = get_array(c, obj, "ports", sizeof(*n->ports), &arr, (void **)&n->ports)))
		return rc;
	json_array_foreach(arr, i, e) {
		mark = path_key(c, "ports");
		path_index(c, i);
		if ((rc = parse_nvmf_port(c, e, &n->ports[i])))
			return rc;
		for (size_t k = 0; k < i; k++)
			if (tt_portal_addr_equal(&n->ports[k].parsed, &n->ports[i].parsed)) {
				path_key(c, "address");
				return fail(c, "duplicate port \"%s\" (also ports[%zu])",
					    n->ports[i].addr, k);
			}
		n->nports++;
		path_restore(c, mark);
	}
	if ((rc = get_array(c, obj, "subsystems", sizeof(*n->subsys), &arr, (void **)&n->subsys)))
		return rc;
	json_array_foreach(arr, i, e) {
		mark = path_key(c, "subsystems");
		path_index(c, i);
		n->nsubsys++;
		if ((rc = parse_subsys(c, e, &n->subsys[i])))
			return rc;
		for (size_t k = 0; k < i; k++)
			if (!strcmp(n->subsys[k].nqn, n->subsys[i].nqn)) {
				path_key(c, "nqn");
				return fail(c, "duplicate subsystem \"%s\" (also subsystems[%zu])",
					    n->subsys[i].nqn, k);
			}
		path_restore(c, mark);
	}
	return 0;
}

/* Rules across sections: a namespace's LUN is one of the file's. */
static int check_nvmf_luns(struct pctx *c, const struct tt_config *cfg)
{
	for (size_t i = 0; i < cfg->nvmf.nsubsys; i++) {
		const struct tt_config_nvmf_subsys *s = &cfg->nvmf.subsys[i];

		for (size_t j = 0; j < s->nns; j++) {
			const struct tt_config_nvmf_ns *n = &s->ns[j];
			bool found = false;

			if (!n->lun_target[0])
				continue;
			for (size_t t = 0; t < cfg->ntargets && !found; t++) {
				if (strcmp(cfg->targets[t].name, n->lun_target))
					continue;
				for (size_t l = 0; l < cfg->targets[t].nluns; l++)
					found |= cfg->targets[t].luns[l].id == n->lun_id;
			}
			if (!found) {
				snprintf(c->path, sizeof(c->path),
					 "nvmf.subsystems[%zu].namespaces[%zu].lun", i, j);
				c->len = strlen(c->path);
				return fail(c, "target \"%s\" has no LUN %llu in \"targets\"",
					    n->lun_target, (unsigned long long)n->lun_id);
			}
		}
	}
	return 0;
}

void tt_config_free(struct tt_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->ntargets; i++)
		tt_config_target_release(&cfg->targets[i]);
	free(cfg->targets);
	nvmf_release(&cfg->nvmf);
	free(cfg);
}

int tt_config_parse(json_t *root, struct tt_config **out, char *err, size_t errlen)
{
	struct tt_config *cfg;
	struct pctx c;
	json_t *v, *e;
	size_t i;
	int rc;

	*out = NULL;
	pctx_init(&c, "", err, errlen);
	if (!root)
		return fail(&c, "no configuration");
	if ((rc = check_object(&c, root, top_keys)))
		return rc;
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return fail_nomem(&c);
	tt_limits_defaults(&cfg->global.limits);
	if ((v = json_object_get(root, "global"))) {
		path_key(&c, "global");
		if ((rc = parse_global(&c, v, &cfg->global)))
			goto fail;
		path_restore(&c, 0);
	}
	if ((v = json_object_get(root, "targets"))) {
		path_key(&c, "targets");
		if (!json_is_array(v)) {
			rc = fail(&c, "must be an array, not %s", json_type_name(v));
			goto fail;
		}
		cfg->targets = calloc(json_array_size(v) + 1, sizeof(*cfg->targets));
		if (!cfg->targets) {
			rc = fail_nomem(&c);
			goto fail;
		}
		json_array_foreach(v, i, e) {
			struct tt_config_target *t = &cfg->targets[i];

			path_index(&c, i);
			rc = parse_target(&c, e, t);
			if (rc) {
				tt_config_target_release(t);
				goto fail;
			}
			cfg->ntargets++;
			for (size_t k = 0; k < i; k++)
				if (strcmp(cfg->targets[k].name, t->name) == 0) {
					path_key(&c, "name");
					rc = fail(&c, "duplicate target name \"%s\" (also "
						  "targets[%zu])", t->name, k);
					goto fail;
				}
			path_restore(&c, strlen("targets"));
		}
		path_restore(&c, 0);
	}
	if ((v = json_object_get(root, "nvmf"))) {
		path_key(&c, "nvmf");
		if ((rc = parse_nvmf(&c, v, &cfg->nvmf)))
			goto fail;
		path_restore(&c, 0);
		if ((rc = check_nvmf_luns(&c, cfg)))
			goto fail;
	}
	*out = cfg;
	return 0;
fail:
	tt_config_free(cfg);
	return rc;
}

int tt_config_load(const char *path, struct tt_config **out, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root;
	int rc;

	*out = NULL;
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		if (err && errlen) {
			if (jerr.line > 0)
				snprintf(err, errlen, "%s:%d:%d: %s", path, jerr.line, jerr.column,
					 jerr.text);
			else
				snprintf(err, errlen, "%s: %s", path, jerr.text);
		}
		return jerr.line > 0 ? -EINVAL : -ENOENT;
	}
	rc = tt_config_parse(root, out, err, errlen);
	json_decref(root);
	if (rc && err && errlen) {
		/* name the file in front of the path */
		char tmp[1024];

		snprintf(tmp, sizeof(tmp), "%s: %s", path, err);
		snprintf(err, errlen, "%s", tmp);
	}
	return rc;
}
