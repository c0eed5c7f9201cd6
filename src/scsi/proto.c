/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The protocol tables the core knows, the identity of a nexus, and the -EOPNOTSUPP stubs of
 * protocol and front-end ops.
 */
#include "scsi/proto.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static const struct tt_scsi_proto *const protos[] = {
	&tt_scsi_proto_iscsi,
	&tt_scsi_proto_srp,
	&tt_scsi_proto_nvme,
};
#define NPROTOS (sizeof(protos) / sizeof(protos[0]))

const struct tt_scsi_proto *tt_scsi_proto_find(uint8_t id)
{
	for (size_t i = 0; i < NPROTOS; i++)
		if (protos[i]->id == id)
			return protos[i];
	return NULL;
}

const struct tt_scsi_proto *tt_scsi_proto_by_name(const char *name)
{
	for (size_t i = 0; name && i < NPROTOS; i++)
		if (!strcmp(protos[i]->name, name))
			return protos[i];
	return NULL;
}

void tt_scsi_nexus_ident(const struct tt_nexus *nexus, struct tt_pr_id *id)
{
	memset(id, 0, sizeof(*id));
	id->proto = &tt_scsi_proto_none;
	if (!nexus)
		return;
	if (nexus->fe->proto->nexus_ident(nexus, id) < 0) {
		memset(id, 0, sizeof(*id));
		id->proto = &tt_scsi_proto_none;
	}
	id->port = nexus->tport ? nexus->tport->rel_port_id : 0;
}

bool tt_pr_id_overlap(const struct tt_pr_id *a, const struct tt_pr_id *b)
{
	if (a->proto != b->proto || a->proto->port_match(a, b) <= 0)
		return false;
	return a->all_ports || b->all_ports || a->port == b->port;
}

/* --- 128-bit identities ------------------------------------------------------------------------ */

#define ID128_LEN 16
#define TID24_LEN 24

void tt_scsi_id128_set(struct tt_pr_id *id, const uint8_t raw[16],
		       const struct tt_scsi_proto *proto)
{
	memset(id->name, 0, sizeof(id->name));
	for (int i = 0; i < ID128_LEN; i++)
		snprintf(id->name + 2 * i, 3, "%02x", raw[i]);
	memset(id->isid, 0, sizeof(id->isid));
	id->any_isid = false;
	id->proto = proto;
}

int tt_scsi_tid24_parse(const uint8_t *p, size_t len, struct tt_pr_id *id,
			const struct tt_scsi_proto *proto)
{
	if (len < 1)
		return -ENOSPC;
	if ((p[0] & 0x0f) != proto->id || (p[0] >> 6) != 0)
		return -EINVAL;
	if (len < TID24_LEN)
		return -ENOSPC;
	memset(id, 0, sizeof(*id));
	tt_scsi_id128_set(id, p + 8, proto);
	return TID24_LEN;
}

int tt_scsi_tid24_encode(const struct tt_pr_id *id, uint8_t *p, size_t len)
{
	if (len < TID24_LEN)
		return -ENOSPC;
	memset(p, 0, TID24_LEN);
	p[0] = id->proto->id; /* format 00b */
	if (tt_scsi_hex_decode(id->name, p + 8, ID128_LEN) < 0)
		return -EINVAL;
	return TID24_LEN;
}

int tt_scsi_tid24_len(const struct tt_pr_id *id)
{
	(void)id;
	return TID24_LEN;
}

int tt_scsi_id128_match(const struct tt_pr_id *a, const struct tt_pr_id *b)
{
	return strcmp(a->name, b->name) == 0;
}

/* --- hex ---------------------------------------------------------------------------------------- */

int tt_scsi_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int tt_scsi_hex_decode(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int hi = tt_scsi_hexval((unsigned char)s[2 * i]);
		int lo = hi < 0 ? -1 : tt_scsi_hexval((unsigned char)s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* --- stubs ------------------------------------------------------------------------------------- */

int tt_scsi_proto_no_nexus_ident(const struct tt_nexus *nexus, struct tt_pr_id *id)
{
	(void)nexus;
	(void)id;
	return -EOPNOTSUPP;
}

int tt_scsi_proto_no_port_match(const struct tt_pr_id *a, const struct tt_pr_id *b)
{
	(void)a;
	(void)b;
	return -EOPNOTSUPP;
}

int tt_scsi_proto_no_tid_parse(const uint8_t *p, size_t len, struct tt_pr_id *id)
{
	(void)p;
	(void)len;
	(void)id;
	return -EOPNOTSUPP;
}

int tt_scsi_proto_no_tid_len(const struct tt_pr_id *id)
{
	(void)id;
	return -EOPNOTSUPP;
}

int tt_scsi_proto_no_tid_encode(const struct tt_pr_id *id, uint8_t *p, size_t len)
{
	(void)id;
	(void)p;
	(void)len;
	return -EOPNOTSUPP;
}

int tt_scsi_proto_no_ident_format(const struct tt_pr_id *id, char *buf, size_t len)
{
	(void)id;
	(void)buf;
	(void)len;
	return -EOPNOTSUPP;
}

int tt_scsi_proto_no_ident_parse(const char *s, struct tt_pr_id *id)
{
	(void)s;
	(void)id;
	return -EOPNOTSUPP;
}

int tt_scsi_proto_no_name(const struct tt_scsi_port *port, char *buf, size_t len)
{
	(void)port;
	(void)buf;
	(void)len;
	return -EOPNOTSUPP;
}

const struct tt_scsi_proto tt_scsi_proto_none = {
	.name = "none",
	.id = TT_SCSI_PROTO_ID_NONE,
	.nexus_ident = tt_scsi_proto_no_nexus_ident,
	.port_match = tt_scsi_proto_no_port_match,
	.tid_parse = tt_scsi_proto_no_tid_parse,
	.tid_len = tt_scsi_proto_no_tid_len,
	.tid_encode = tt_scsi_proto_no_tid_encode,
	.ident_format = tt_scsi_proto_no_ident_format,
	.ident_parse = tt_scsi_proto_no_ident_parse,
	.port_name = tt_scsi_proto_no_name,
	.device_name = tt_scsi_proto_no_name,
};

int tt_scsi_fe_no_abort_nexus(struct tt_lun *lun, uint64_t nexus_id)
{
	(void)lun;
	(void)nexus_id;
	return -EOPNOTSUPP;
}

int tt_scsi_fe_no_alua_changed(const char *target_name, const struct tt_nexus *except)
{
	(void)target_name;
	(void)except;
	return -EOPNOTSUPP;
}

int tt_scsi_fe_no_pr_notice(struct tt_lun *lun, uint64_t nexus_id, unsigned ua)
{
	(void)lun;
	(void)nexus_id;
	(void)ua;
	return -EOPNOTSUPP;
}
