/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Protocol identity inside the SCSI core: what differs between SCSI transport protocols (iSCSI,
 * SRP, ...) in what the core reports and stores. One const table per protocol (proto_iscsi.c,
 * proto_srp.c); a front end's struct tt_scsi_frontend names its protocol, and the core reaches
 * the table through the nexus (persistent reservations) or the port (VPD 83h):
 *   - the PROTOCOL IDENTIFIER (SPC-4 7.6.1) of designators and TransportIDs;
 *   - the identity of an initiator port, and when two identities name the same port;
 *   - TransportIDs (SPC-4 7.6.4): parse, length, encoding;
 *   - the SCSI name string designators of VPD 83h for the target port and the target device;
 *   - the text form of an initiator port in the APTPL state file.
 * Every op is set: an op a protocol does not have points to the matching tt_scsi_proto_no_*
 * stub, which returns -EOPNOTSUPP.
 */
#ifndef TT_SCSI_PROTO_H
#define TT_SCSI_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scsi/scsi.h"

/* PROTOCOL IDENTIFIER values (SPC-4 table 362) */
#define TT_SCSI_PROTO_ID_SRP   0x4
#define TT_SCSI_PROTO_ID_ISCSI 0x5
#define TT_SCSI_PROTO_ID_NONE  0xf  /* no specific protocol */

#define TT_PR_NAME_MAX 224  /* iSCSI name, with its terminating NUL */

/*
 * Who an I_T nexus, or a registration, is: an initiator port of a protocol and a target port
 * (relative target port identifier). @name is the protocol's initiator name: the iSCSI name;
 * for SRP the initiator port identifier as 32 lowercase hex digits. @isid is iSCSI's (zero for
 * other protocols). A registration made from an iSCSI TransportID without ISID covers every
 * initiator port of that name; one made with ALL_TG_PT covers every target port.
 */
struct tt_pr_id {
	const struct tt_scsi_proto *proto;  /* never NULL: &tt_scsi_proto_none when unknown */
	char name[TT_PR_NAME_MAX];
	uint8_t isid[6];
	bool any_isid;
	bool all_ports;
	uint16_t port;
};

struct tt_scsi_proto {
	const char *name;   /* "iscsi", "srp": logs, and the protocol field of the state file */
	uint8_t id;         /* PROTOCOL IDENTIFIER */
	/* Every registration of its initiators covers all target ports (NVMe: a host's
	 * registration spans every controller), however it was made (SPEC_I_PT, REGISTER AND
	 * MOVE, ALL_TG_PT 0). */
	bool all_ports;

	/* The initiator port of @nexus into @id (name, isid; id->proto set): 0 or -EINVAL. */
	int (*nexus_ident)(const struct tt_nexus *nexus, struct tt_pr_id *id);
	/* 1 when @a and @b (both of this protocol) share an initiator port, else 0. iSCSI names
	 * compare without case; an identity without ISID matches every ISID. */
	int (*port_match)(const struct tt_pr_id *a, const struct tt_pr_id *b);

	/* TransportID at @p (@len bytes left) into @id: its length, -EINVAL (a bad field) or
	 * -ENOSPC (runs past @len). */
	int (*tid_parse)(const uint8_t *p, size_t len, struct tt_pr_id *id);
	/* Length of the TransportID of @id. */
	int (*tid_len)(const struct tt_pr_id *id);
	/* Writes the TransportID of @id at @p (@len bytes, at least tid_len): its length. */
	int (*tid_encode)(const struct tt_pr_id *id, uint8_t *p, size_t len);

	/* Text form of an initiator port, one word (state file, logs): the length written (NUL
	 * excluded) or -ENOSPC; and back: 0 or -EINVAL. */
	int (*ident_format)(const struct tt_pr_id *id, char *buf, size_t len);
	int (*ident_parse)(const char *s, struct tt_pr_id *id);

	/* SCSI name string designators (VPD 83h, type 8h, UTF-8) of the target port and of the
	 * target device seen through @port, NUL terminated in @buf: the length (NUL excluded),
	 * -ENOSPC, or -EOPNOTSUPP when the protocol has no such designator. */
	int (*port_name)(const struct tt_scsi_port *port, char *buf, size_t len);
	int (*device_name)(const struct tt_scsi_port *port, char *buf, size_t len);
};

/* tt_scsi_proto_iscsi and tt_scsi_proto_srp are declared in scsi.h, for the front ends. */
/* The identity of no protocol (a task without nexus): matches nothing, encodes nothing. */
extern const struct tt_scsi_proto tt_scsi_proto_none;

/* The table of PROTOCOL IDENTIFIER @id, or of name @name; NULL when the core has none. */
const struct tt_scsi_proto *tt_scsi_proto_find(uint8_t id);
const struct tt_scsi_proto *tt_scsi_proto_by_name(const char *name);

/* Identity of @nexus through its front end (tt_scsi_proto_none for NULL or a name the
 * protocol refuses). */
void tt_scsi_nexus_ident(const struct tt_nexus *nexus, struct tt_pr_id *id);
/* Both identities share at least one I_T nexus (same protocol, initiator port, target port). */
bool tt_pr_id_overlap(const struct tt_pr_id *a, const struct tt_pr_id *b);

/* Stubs for the ops a protocol does not have: each returns -EOPNOTSUPP. */
int tt_scsi_proto_no_nexus_ident(const struct tt_nexus *nexus, struct tt_pr_id *id);
int tt_scsi_proto_no_port_match(const struct tt_pr_id *a, const struct tt_pr_id *b);
int tt_scsi_proto_no_tid_parse(const uint8_t *p, size_t len, struct tt_pr_id *id);
int tt_scsi_proto_no_tid_len(const struct tt_pr_id *id);
int tt_scsi_proto_no_tid_encode(const struct tt_pr_id *id, uint8_t *p, size_t len);
int tt_scsi_proto_no_ident_format(const struct tt_pr_id *id, char *buf, size_t len);
int tt_scsi_proto_no_ident_parse(const char *s, struct tt_pr_id *id);
int tt_scsi_proto_no_name(const struct tt_scsi_port *port, char *buf, size_t len);

/*
 * Identities named by 128 bits (SRP initiator ports, NVMe Host Identifiers), shared by their
 * tables: the name is 32 lowercase hex digits; the TransportID is 24 bytes, format 00b, the
 * identifier at bytes 8..23 (SPC-4 7.6.4.5's layout). tt_scsi_id128_set fills @id for @proto;
 * tt_scsi_tid24_parse returns 24, -ENOSPC or -EINVAL (another protocol or format), and
 * tt_scsi_tid24_encode 24, -ENOSPC or -EINVAL (a name that is not 32 hex digits).
 */
void tt_scsi_id128_set(struct tt_pr_id *id, const uint8_t raw[16],
		       const struct tt_scsi_proto *proto);
int tt_scsi_tid24_parse(const uint8_t *p, size_t len, struct tt_pr_id *id,
			const struct tt_scsi_proto *proto);
int tt_scsi_tid24_encode(const struct tt_pr_id *id, uint8_t *p, size_t len);
int tt_scsi_tid24_len(const struct tt_pr_id *id);     /* 24 */
int tt_scsi_id128_match(const struct tt_pr_id *a, const struct tt_pr_id *b); /* same 128 bits */

/* Hex helpers shared by the protocol tables: value of one digit (-1: not one), and @n bytes
 * from 2 * @n digits (0 or -EINVAL). */
int tt_scsi_hexval(int c);
int tt_scsi_hex_decode(const char *s, uint8_t *out, size_t n);

#endif
