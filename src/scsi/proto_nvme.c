/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NVMe-oF host identity, for NVMe reservations kept in a LUN's persistent reservation state (the
 * NVMe-oF front end maps Reservation Register / Acquire / Release onto it). A registrant of NVMe
 * is a host, named by its 128-bit Host Identifier; it is kept as 32 lowercase hex digits, and
 * its registration covers every target port (ALL_TG_PT), as an NVMe registration covers every
 * controller of the host. SPC has no protocol identifier for NVMe: the TransportID uses Fh (no
 * specific protocol), 24 bytes, format 00b, the Host Identifier at bytes 8..23 (the layout of
 * SRP's). No VPD 83h names: NVMe hosts read the namespace's identifiers through Identify.
 */
#include "scsi/proto.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define NVME_HOSTID_LEN 16

/* "hostid:" (optional) and 32 hex digits; 0 or -EINVAL. */
static int nvme_ident_parse(const char *s, struct tt_pr_id *id)
{
	uint8_t raw[NVME_HOSTID_LEN];

	if (!strncmp(s, "hostid:", 7))
		s += 7;
	if (strlen(s) != 2 * NVME_HOSTID_LEN || tt_scsi_hex_decode(s, raw, NVME_HOSTID_LEN) < 0)
		return -EINVAL;
	tt_scsi_id128_set(id, raw, &tt_scsi_proto_nvme);
	return 0;
}

static int nvme_nexus_ident(const struct tt_nexus *nexus, struct tt_pr_id *id)
{
	return nvme_ident_parse(nexus->initiator_name, id);
}

static int nvme_tid_parse(const uint8_t *p, size_t len, struct tt_pr_id *id)
{
	return tt_scsi_tid24_parse(p, len, id, &tt_scsi_proto_nvme);
}

static int nvme_ident_format(const struct tt_pr_id *id, char *buf, size_t len)
{
	int n = snprintf(buf, len, "hostid:%s", id->name);

	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

const struct tt_scsi_proto tt_scsi_proto_nvme = {
	.name = "nvme",
	.id = TT_SCSI_PROTO_ID_NONE,
	.all_ports = true,
	.nexus_ident = nvme_nexus_ident,
	.port_match = tt_scsi_id128_match,
	.tid_parse = nvme_tid_parse,
	.tid_len = tt_scsi_tid24_len,
	.tid_encode = tt_scsi_tid24_encode,
	.ident_format = nvme_ident_format,
	.ident_parse = nvme_ident_parse,
	.port_name = tt_scsi_proto_no_name,
	.device_name = tt_scsi_proto_no_name,
};
