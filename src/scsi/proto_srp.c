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

/* "0x" (optional) and 32 hex digits; 0 or -EINVAL. */
static int srp_ident_parse(const char *s, struct tt_pr_id *id)
{
	uint8_t raw[SRP_ID_LEN];

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (strlen(s) != 2 * SRP_ID_LEN || tt_scsi_hex_decode(s, raw, SRP_ID_LEN) < 0)
		return -EINVAL;
	tt_scsi_id128_set(id, raw, &tt_scsi_proto_srp);
	return 0;
}

static int srp_nexus_ident(const struct tt_nexus *nexus, struct tt_pr_id *id)
{
	return srp_ident_parse(nexus->initiator_name, id);
}

static int srp_tid_parse(const uint8_t *p, size_t len, struct tt_pr_id *id)
{
	return tt_scsi_tid24_parse(p, len, id, &tt_scsi_proto_srp);
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
	.port_match = tt_scsi_id128_match,
	.tid_parse = srp_tid_parse,
	.tid_len = tt_scsi_tid24_len,
	.tid_encode = tt_scsi_tid24_encode,
	.ident_format = srp_ident_format,
	.ident_parse = srp_ident_parse,
	.port_name = srp_port_name,
	.device_name = tt_scsi_proto_no_name,
};
