/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * iSER wire formats and rules that need no RDMA device (RFC 7145), shared by the transport and
 * its unit tests:
 *   - the iSER header in front of every iSCSI control-type PDU sent as a SEND (§9.2): flags W
 *     (write STag and base offset valid) and R (read STag and base offset valid);
 *   - the Hello and HelloReply messages (§9.3, §9.4);
 *   - the remote keys of a command, kept in its task's transport area;
 *   - what an iSER connection needs of the login negotiation (RDMAExtensions=Yes, digests None,
 *     TargetRecvDataSegmentLength within the receive buffers).
 */
#ifndef TT_XPORT_ISER_PROTO_H
#define TT_XPORT_ISER_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iscsi/params.h"

#define TT_ISER_HDR_LEN 28
#define TT_ISER_HELLO_LEN 8
/* The largest data segment the target receives in one SEND (TargetRecvDataSegmentLength it
 * offers at most): the size of each receive buffer after the headers. */
#define TT_ISER_MAX_RECV_DSL 8192u
/* The Linux initiator's receive buffers after login: the iSER header, the BHS and 128 bytes. */
#define TT_ISER_MIN_XMIT_DSL 128u
#define TT_ISER_VERSION 1

/* The opcode: the high nibble of the first byte. */
enum tt_iser_opcode {
	TT_ISER_OP_CTRL = 0x1,         /* iSCSI control-type PDU follows */
	TT_ISER_OP_HELLO = 0x2,
	TT_ISER_OP_HELLO_REPLY = 0x3,
};

#define TT_ISER_FLAG_WSV 0x08  /* write STag valid */
#define TT_ISER_FLAG_RSV 0x04  /* read STag valid */

struct tt_iser_hdr {
	enum tt_iser_opcode opcode;
	bool wsv, rsv;
	uint32_t write_stag;
	uint64_t write_va;
	uint32_t read_stag;
	uint64_t read_va;
};

/* Decodes the iSER header at the start of a received message of @len bytes. -EPROTO: too short,
 * an opcode other than CTRL/Hello, or a STag flag on something else than a control PDU. */
int tt_iser_hdr_decode(const uint8_t *buf, size_t len, struct tt_iser_hdr *h);
void tt_iser_hdr_encode(const struct tt_iser_hdr *h, uint8_t out[TT_ISER_HDR_LEN]);

struct tt_iser_hello {
	uint8_t max_ver, min_ver;  /* Hello; HelloReply: max_ver and the current version in min_ver */
	bool reject;               /* HelloReply: R bit */
	uint16_t ird_ord;          /* Hello: iSER-IRD; HelloReply: iSER-ORD */
};

int tt_iser_hello_decode(const uint8_t *buf, size_t len, struct tt_iser_hello *h);
/* The HelloReply to @hello: version 1 when the initiator's range has it (else R set), and the
 * ORD: at most the initiator's IRD and our @max_ord. */
void tt_iser_hello_reply(const struct tt_iser_hello *hello, uint16_t max_ord,
			 uint8_t out[TT_ISER_HELLO_LEN]);

/* The remote keys of a command in its task's transport area (struct tt_xtask.area). */
void tt_iser_area_set(uint64_t area[4], const struct tt_iser_hdr *h);
bool tt_iser_area_read(const uint64_t area[4], uint32_t *stag, uint64_t *va);
bool tt_iser_area_write(const uint64_t area[4], uint32_t *stag, uint64_t *va);

/* What an iSER connection changes in the target's login policy: RDMAExtensions=Yes, digests
 * None only, InitialR2T=Yes (immediate data only: the rest is read at once), and
 * TargetRecvDataSegmentLength within TT_ISER_MAX_RECV_DSL. */
void tt_iser_login_policy(struct tt_params_policy *pol);
/* After the login: the data segment sizes in force on an iSER connection. The target sends at
 * most InitiatorRecvDataSegmentLength and receives at most TargetRecvDataSegmentLength
 * (MaxRecvDataSegmentLength is irrelevant with RDMAExtensions=Yes). No change without it. */
void tt_iser_params_apply(struct tt_params *p);

#endif
