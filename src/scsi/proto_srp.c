/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SRP protocol identity (SPC-4 7.6.4.5, SRP 5.3): an initiator port is its 128-bit initiator
 * port identifier, kept as 32 lowercase hex digits; the TransportID is 24 bytes (format 00b,
 * the identifier at bytes 8..23); VPD 83h names the target port by its 128-bit target port
 * identifier as an "eui." SCSI name string. SRP has no target device name: that op is the stub.
 */
#include "scsi/proto.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define SRP_ID_LEN  16
#define SRP_TID_LEN 24

static void id_set(struct tt_pr_id *id, const uint8_t raw[SRP_ID_LEN])
{
	memset(id->name, 0, sizeof(id->name));
	for (int i = 0; i < SRP_ID_LEN; i++)
		snprintf(id->name + 2 * i, 3, "%02x", raw[i]);
	memset(id->isid, 0, sizeof(id->isid));
	id->any_isid = false;
	id->proto = &tt_scsi_proto_srp;
}

/* "0x" (optional) and 32 hex digits; 0 or -EINVAL. */
static int srp_ident_parse(const char *s, struct tt_pr_id *id)
{
	uint8_t raw[SRP_ID_LEN];

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (strlen(s) != 2 * SRP_ID_LEN || tt_scsi_hex_decode(s, raw, SRP_ID_LEN) < 0)
		return -EINVAL;
	id_set(id, raw);
	return 0;
}

static int srp_nexus_ident(const struct tt_nexus *nexus, struct tt_pr_id *id)
{
	return srp_ident_parse(nexus->initiator_name, id);
}

static int srp_port_match(const struct tt_pr_id *a, const struct tt_pr_id *b)
{
	return strcmp(a->name, b->name) == 0;
}

static int srp_tid_parse(const uint8_t *p, size_t len, struct tt_pr_id *id)
{
	if (len < 1)
		return -ENOSPC;
	if ((p[0] & 0x0f) != TT_SCSI_PROTO_ID_SRP || (p[0] >> 6) != 0)
		return -EINVAL;
	if (len < SRP_TID_LEN)
		return -ENOSPC;
	memset(id, 0, sizeof(*id));
	id_set(id, p + 8);
	return SRP_TID_LEN;
}

static int srp_tid_len(const struct tt_pr_id *id)
{
	(void)id;
	return SRP_TID_LEN;
}

static int srp_tid_encode(const struct tt_pr_id *id, uint8_t *p, size_t len)
{
	if (len < SRP_TID_LEN)
		return -ENOSPC;
	memset(p, 0, SRP_TID_LEN);
	p[0] = TT_SCSI_PROTO_ID_SRP; /* format 00b */
	if (tt_scsi_hex_decode(id->name, p + 8, SRP_ID_LEN) < 0)
		return -EINVAL;
	return SRP_TID_LEN;
}

static int srp_ident_format(const struct tt_pr_id *id, char *buf, size_t len)
{
	int n = snprintf(buf, len, "0x%s", id->name);

	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

static int srp_port_name(const struct tt_scsi_port *port, char *buf, size_t len)
{
	size_t n = 4 + 2 * SRP_ID_LEN;

	if (len < n + 1)
		return -ENOSPC;
	memcpy(buf, "eui.", 4);
	for (int i = 0; i < SRP_ID_LEN; i++)
		snprintf(buf + 4 + 2 * i, 3, "%02X", port->srp_port_id[i]);
	return (int)n;
}

const struct tt_scsi_proto tt_scsi_proto_srp = {
	.name = "srp",
	.id = TT_SCSI_PROTO_ID_SRP,
	.nexus_ident = srp_nexus_ident,
	.port_match = srp_port_match,
	.tid_parse = srp_tid_parse,
	.tid_len = srp_tid_len,
	.tid_encode = srp_tid_encode,
	.ident_format = srp_ident_format,
	.ident_parse = srp_ident_parse,
	.port_name = srp_port_name,
	.device_name = tt_scsi_proto_no_name,
};
