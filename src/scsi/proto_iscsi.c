/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * iSCSI protocol identity (SPC-4 7.6.4.6, RFC 7143 §13.2): initiator ports are "<iSCSI name>,i,0x
 * <ISID>", names compare without case; TransportIDs of format 00b (name: every ISID) and 01b
 * (initiator port name); VPD 83h names the target port "<target>,t,0x<TPGT>" and the target
 * device by the target's iSCSI name.
 */
#include "scsi/proto.h"
#include "scsi/cdb.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define TID_FORMAT_NAME 0x0  /* iSCSI name */
#define TID_FORMAT_PORT 0x1  /* iSCSI initiator port name: name, ",i,0x", ISID */
#define TID_MIN_LEN     24   /* SPC-4 7.6.4.6: at least 24 bytes, a multiple of 4 */

/* Parses "<name>,i,0x<12 hex digits>" into @id (name, isid); 0 or -EINVAL. */
static int parse_port_name(const char *s, struct tt_pr_id *id)
{
	const char *sep = NULL;
	size_t nlen;

	/* the last ",i,0x" separates name and ISID (a name holds no comma, but be lenient) */
	for (const char *p = s; (p = strstr(p, ",i,0x")) != NULL; p++)
		sep = p;
	if (!sep) {
		for (const char *p = s; (p = strcasestr(p, ",i,0x")) != NULL; p++)
			sep = p;
	}
	if (!sep)
		return -EINVAL;
	nlen = (size_t)(sep - s);
	if (nlen == 0 || nlen >= sizeof(id->name))
		return -EINVAL;
	const char *hex = sep + 5;
	if (strlen(hex) != 12 || tt_scsi_hex_decode(hex, id->isid, 6) < 0)
		return -EINVAL;
	memcpy(id->name, s, nlen);
	id->name[nlen] = '\0';
	id->any_isid = false;
	id->proto = &tt_scsi_proto_iscsi;
	return 0;
}

/* An iSCSI name as TransportIDs and the state file carry it: printable, no blank, no comma. */
static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= TT_PR_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((uint8_t)s[i] <= 0x20 || s[i] == 0x7f || s[i] == ',')
			return false;
	return true;
}

static int iscsi_nexus_ident(const struct tt_nexus *nexus, struct tt_pr_id *id)
{
	if (parse_port_name(nexus->initiator_port, id) == 0)
		return 0;
	if (!nexus->initiator_name[0])
		return -EINVAL;
	snprintf(id->name, sizeof(id->name), "%s", nexus->initiator_name);
	memcpy(id->isid, nexus->isid, sizeof(id->isid));
	id->any_isid = false;
	id->proto = &tt_scsi_proto_iscsi;
	return 0;
}

static int iscsi_port_match(const struct tt_pr_id *a, const struct tt_pr_id *b)
{
	if (strcasecmp(a->name, b->name) != 0)
		return 0;
	if (!a->any_isid && !b->any_isid && memcmp(a->isid, b->isid, sizeof(a->isid)) != 0)
		return 0;
	return 1;
}

static int iscsi_tid_parse(const uint8_t *p, size_t len, struct tt_pr_id *id)
{
	size_t n, slen;
	uint8_t format;
	char s[TT_PR_NAME_MAX + 32];

	if (len < 4)
		return -ENOSPC;
	format = p[0] >> 6;
	if ((p[0] & 0x0f) != TT_SCSI_PROTO_ID_ISCSI ||
	    (format != TID_FORMAT_NAME && format != TID_FORMAT_PORT))
		return -EINVAL;
	n = tt_get_be16(p + 2);
	if (4 + n > len)
		return -ENOSPC;
	slen = strnlen((const char *)p + 4, n);
	if (slen == 0 || slen == n || slen >= sizeof(s))
		return -EINVAL; /* empty, or no terminating NUL */
	memcpy(s, p + 4, slen);
	s[slen] = '\0';
	for (size_t i = 0; i < slen; i++)
		if ((uint8_t)s[i] <= 0x20 || s[i] == 0x7f)
			return -EINVAL; /* not an iSCSI name */
	memset(id, 0, sizeof(*id));
	if (format == TID_FORMAT_PORT) {
		if (parse_port_name(s, id) < 0)
			return -EINVAL;
	} else {
		if (!name_ok(s))
			return -EINVAL;
		memcpy(id->name, s, slen + 1);
		id->any_isid = true;
		id->proto = &tt_scsi_proto_iscsi;
	}
	return (int)(4 + n);
}

static int iscsi_tid_len(const struct tt_pr_id *id)
{
	size_t n = strlen(id->name) + 1 + (id->any_isid ? 0 : 5 + 12);

	n = (n + 3) & ~(size_t)3;
	if (n < TID_MIN_LEN - 4)
		n = TID_MIN_LEN - 4;
	return (int)(4 + n);
}

static int iscsi_tid_encode(const struct tt_pr_id *id, uint8_t *p, size_t len)
{
	size_t n = (size_t)iscsi_tid_len(id);

	if (len < n)
		return -ENOSPC;
	memset(p, 0, n);
	p[0] = (uint8_t)((id->any_isid ? TID_FORMAT_NAME : TID_FORMAT_PORT) << 6 |
			 TT_SCSI_PROTO_ID_ISCSI);
	tt_put_be16(p + 2, (uint16_t)(n - 4));
	if (id->any_isid)
		memcpy(p + 4, id->name, strlen(id->name));
	else
		snprintf((char *)p + 4, n - 4, "%s,i,0x%02x%02x%02x%02x%02x%02x", id->name,
			 id->isid[0], id->isid[1], id->isid[2], id->isid[3], id->isid[4], id->isid[5]);
	return (int)n;
}

static int iscsi_ident_format(const struct tt_pr_id *id, char *buf, size_t len)
{
	int n;

	if (id->any_isid)
		n = snprintf(buf, len, "%s", id->name);
	else
		n = snprintf(buf, len, "%s,i,0x%02x%02x%02x%02x%02x%02x", id->name, id->isid[0],
			     id->isid[1], id->isid[2], id->isid[3], id->isid[4], id->isid[5]);
	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

static int iscsi_ident_parse(const char *s, struct tt_pr_id *id)
{
	if (strchr(s, ','))
		return parse_port_name(s, id);
	if (!name_ok(s))
		return -EINVAL;
	snprintf(id->name, sizeof(id->name), "%s", s);
	memset(id->isid, 0, sizeof(id->isid));
	id->any_isid = true;
	id->proto = &tt_scsi_proto_iscsi;
	return 0;
}

static int iscsi_port_name(const struct tt_scsi_port *port, char *buf, size_t len)
{
	int n;

	if (!port->target_name)
		return -EOPNOTSUPP;
	n = snprintf(buf, len, "%s,t,0x%04x", port->target_name, port->tpgt);
	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

static int iscsi_device_name(const struct tt_scsi_port *port, char *buf, size_t len)
{
	int n;

	if (!port->target_name)
		return -EOPNOTSUPP;
	n = snprintf(buf, len, "%s", port->target_name);
	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

const struct tt_scsi_proto tt_scsi_proto_iscsi = {
	.name = "iscsi",
	.id = TT_SCSI_PROTO_ID_ISCSI,
	.nexus_ident = iscsi_nexus_ident,
	.port_match = iscsi_port_match,
	.tid_parse = iscsi_tid_parse,
	.tid_len = iscsi_tid_len,
	.tid_encode = iscsi_tid_encode,
	.ident_format = iscsi_ident_format,
	.ident_parse = iscsi_ident_parse,
	.port_name = iscsi_port_name,
	.device_name = iscsi_device_name,
};
