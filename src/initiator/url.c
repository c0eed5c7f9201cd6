/* SPDX-License-Identifier: BSD-3-Clause */
/* iscsi://[user[%secret]@]host[:port][/target-iqn/lun] */
#include "initiator/initiator.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/errmsg.h"

/* Copies [s, s+n) into out. */
static int copy_part(const char *s, size_t n, char *out, size_t size, bool unused)
{
	(void)unused;
	if (n + 1 > size)
		return -ENAMETOOLONG;
	memcpy(out, s, n);
	out[n] = 0;
	return 0;
}

int ti_url_parse(const char *s, struct ti_url *u, bool need_target, char *err, size_t errlen)
{
	const char *p, *at, *hostend, *slash;
	const char *where = s;

	memset(u, 0, sizeof(*u));
	u->port = TT_ISCSI_PORT;
	if (!s || strncmp(s, "iscsi://", 8))
		return tt_errmsg(err, errlen, -EINVAL, "'%s': not an iscsi:// URL", s ? s : "");
	p = s + 8;
	slash = strchr(p, '/');
	at = memchr(p, '@', slash ? (size_t)(slash - p) : strlen(p));
	if (at) {
		/* user%secret: the first '%' separates them (as libiscsi reads it) */
		const char *sep = memchr(p, '%', (size_t)(at - p));

		if (copy_part(p, (size_t)((sep ? sep : at) - p), u->user, sizeof(u->user), false))
			return tt_errmsg(err, errlen, -EINVAL, "'%s': user name too long", where);
		if (sep && copy_part(sep + 1, (size_t)(at - sep - 1), u->secret,
				     sizeof(u->secret), false))
			return tt_errmsg(err, errlen, -EINVAL, "'%s': secret too long", where);
		if (!u->user[0])
			return tt_errmsg(err, errlen, -EINVAL, "'%s': empty user name before '@'",
					 where);
		p = at + 1;
	}
	/* host: [v6] or name/v4, then :port */
	if (*p == '[') {
		const char *rb = strchr(p, ']');

		if (!rb || (slash && rb > slash))
			return tt_errmsg(err, errlen, -EINVAL, "'%s': unterminated [IPv6 address]",
					 where);
		if (copy_part(p + 1, (size_t)(rb - p - 1), u->host, sizeof(u->host), false))
			return tt_errmsg(err, errlen, -EINVAL, "'%s': host too long", where);
		hostend = rb + 1;
	} else {
		hostend = p;
		while (*hostend && *hostend != ':' && *hostend != '/')
			hostend++;
		if (copy_part(p, (size_t)(hostend - p), u->host, sizeof(u->host), false))
			return tt_errmsg(err, errlen, -EINVAL, "'%s': host too long", where);
	}
	if (!u->host[0])
		return tt_errmsg(err, errlen, -EINVAL, "'%s': no host", where);
	if (*hostend == ':') {
		char *end;
		long port = strtol(hostend + 1, &end, 10);

		if (end == hostend + 1 || port < 1 || port > 65535 || (*end && *end != '/'))
			return tt_errmsg(err, errlen, -EINVAL, "'%s': bad port", where);
		u->port = (uint16_t)port;
		hostend = end;
	} else if (*hostend && *hostend != '/') {
		return tt_errmsg(err, errlen, -EINVAL, "'%s': unexpected '%c' after the host",
				 where, *hostend);
	}
	if (*hostend == '/' && hostend[1]) {
		const char *t = hostend + 1, *ls = strchr(t, '/');
		char *end;
		unsigned long long lun;

		if (!ls)
			return tt_errmsg(err, errlen, -EINVAL, "'%s': no LUN after the target name "
					 "(iscsi://host/target-iqn/lun)", where);
		if (ls == t)
			return tt_errmsg(err, errlen, -EINVAL, "'%s': empty target name", where);
		if (copy_part(t, (size_t)(ls - t), u->target, sizeof(u->target), false))
			return tt_errmsg(err, errlen, -EINVAL, "'%s': target name too long", where);
		errno = 0;
		lun = strtoull(ls + 1, &end, 10);
		if (errno || end == ls + 1 || *end || lun > 16383)
			return tt_errmsg(err, errlen, -EINVAL, "'%s': bad LUN '%s' (0 to 16383)",
					 where, ls + 1);
		u->lun = lun;
		u->has_lun = true;
	}
	if (need_target && !u->has_lun)
		return tt_errmsg(err, errlen, -EINVAL,
				 "'%s': no target and LUN (iscsi://host[:port]/target-iqn/lun)", where);
	return 0;
}

void ti_url_format(const struct ti_url *u, char *buf, size_t size)
{
	bool v6 = strchr(u->host, ':') != NULL;

	snprintf(buf, size, "iscsi://%s%s%s%s%s:%u%s%s", u->user, u->user[0] ? "@" : "",
		 v6 ? "[" : "", u->host, v6 ? "]" : "", u->port, u->has_lun ? "/" : "", u->target);
	if (u->has_lun) {
		size_t l = strlen(buf);

		snprintf(buf + l, size - l, "/%llu", (unsigned long long)u->lun);
	}
}
