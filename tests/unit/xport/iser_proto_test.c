/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The iSER wire formats and login rules (src/xport/iser_proto.c), which need no RDMA device:
 * the iSER header codec (RFC 7145 §9.2: the W and R flags with their STags and base offsets),
 * Hello and HelloReply, the remote keys kept in a task's transport area, and what the iSER
 * login policy does to a real negotiation (src/iscsi/params.c): RDMAExtensions=Yes,
 * TargetRecvDataSegmentLength within the receive buffers, InitiatorRecvDataSegmentLength taken
 * as the size the target sends, digests refused (None).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "tt_test.h"

#include "iscsi/params.h"
#include "xport/iser_proto.h"

#define LIT(s) (s), (sizeof(s) - 1)
#define NAMES "InitiatorName=iqn.2024-01.org.example:host\0TargetName=iqn.2024-01.org.example:disk\0"

/* ---- the iSER header ---- */

static void test_hdr_roundtrip(void **state)
{
	struct tt_iser_hdr in = {
		.opcode = TT_ISER_OP_CTRL, .wsv = true, .rsv = true,
		.write_stag = 0x11223344, .write_va = 0x0102030405060708ull,
		.read_stag = 0xaabbccdd, .read_va = 0xf0e0d0c0b0a09080ull,
	}, out;
	uint8_t buf[TT_ISER_HDR_LEN];
	(void)state;

	tt_iser_hdr_encode(&in, buf);
	/* the wire layout: 0x1 opcode, W 0x08, R 0x04; big-endian fields at 4, 8, 16, 20 */
	assert_int_equal(buf[0], 0x10 | 0x08 | 0x04);
	assert_int_equal(buf[1] | buf[2] | buf[3], 0);
	assert_int_equal(buf[4], 0x11);
	assert_int_equal(buf[7], 0x44);
	assert_int_equal(buf[8], 0x01);
	assert_int_equal(buf[15], 0x08);
	assert_int_equal(buf[16], 0xaa);
	assert_int_equal(buf[20], 0xf0);
	assert_int_equal(buf[27], 0x80);
	assert_int_equal(tt_iser_hdr_decode(buf, sizeof(buf), &out), 0);
	assert_int_equal(out.opcode, TT_ISER_OP_CTRL);
	assert_true(out.wsv && out.rsv);
	assert_int_equal(out.write_stag, in.write_stag);
	assert_true(out.write_va == in.write_va);
	assert_int_equal(out.read_stag, in.read_stag);
	assert_true(out.read_va == in.read_va);
}

static void test_hdr_flags(void **state)
{
	uint8_t buf[TT_ISER_HDR_LEN];
	struct tt_iser_hdr h = { .opcode = TT_ISER_OP_CTRL, .wsv = true, .write_stag = 7,
				 .write_va = 9, .read_stag = 5, .read_va = 6 }, out;
	(void)state;

	/* R not set: the read fields are not sent and not read back */
	tt_iser_hdr_encode(&h, buf);
	assert_int_equal(buf[0], 0x18);
	for (int i = 16; i < TT_ISER_HDR_LEN; i++)
		assert_int_equal(buf[i], 0);
	memset(buf + 16, 0xff, 12);
	assert_int_equal(tt_iser_hdr_decode(buf, sizeof(buf), &out), 0);
	assert_true(out.wsv);
	assert_false(out.rsv);
	assert_int_equal(out.read_stag, 0);
	assert_true(out.read_va == 0);
	/* a plain control PDU (SCSI Response from the target): no flags */
	h = (struct tt_iser_hdr){ .opcode = TT_ISER_OP_CTRL };
	tt_iser_hdr_encode(&h, buf);
	assert_int_equal(buf[0], 0x10);
}

static void test_hdr_bad(void **state)
{
	uint8_t buf[TT_ISER_HDR_LEN] = { 0x10 };
	struct tt_iser_hdr h;
	(void)state;

	/* too short for a control PDU's header */
	assert_int_equal(tt_iser_hdr_decode(buf, TT_ISER_HDR_LEN - 1, &h), -EPROTO);
	assert_int_equal(tt_iser_hdr_decode(buf, 2, &h), -EPROTO);
	/* opcodes the target does not receive: 0, HelloReply (target -> initiator), unknown */
	buf[0] = 0x00;
	assert_int_equal(tt_iser_hdr_decode(buf, sizeof(buf), &h), -EPROTO);
	buf[0] = 0x30;
	assert_int_equal(tt_iser_hdr_decode(buf, sizeof(buf), &h), -EPROTO);
	buf[0] = 0xf0;
	assert_int_equal(tt_iser_hdr_decode(buf, sizeof(buf), &h), -EPROTO);
	/* a Hello with STag flags */
	buf[0] = 0x28;
	assert_int_equal(tt_iser_hdr_decode(buf, TT_ISER_HELLO_LEN, &h), -EPROTO);
	buf[0] = 0x20;
	assert_int_equal(tt_iser_hdr_decode(buf, TT_ISER_HELLO_LEN, &h), 0);
	assert_int_equal(h.opcode, TT_ISER_OP_HELLO);
}

/* ---- Hello / HelloReply ---- */

static void test_hello(void **state)
{
	uint8_t msg[TT_ISER_HELLO_LEN] = { 0x20, 0x11, 0x00, 0x10 }, rep[TT_ISER_HELLO_LEN];
	struct tt_iser_hello h;
	(void)state;

	assert_int_equal(tt_iser_hello_decode(msg, sizeof(msg), &h), 0);
	assert_int_equal(h.max_ver, 1);
	assert_int_equal(h.min_ver, 1);
	assert_int_equal(h.ird_ord, 16);
	/* ORD: at most the initiator's IRD and ours */
	tt_iser_hello_reply(&h, 4, rep);
	assert_int_equal(rep[0], 0x30);      /* HelloReply, R clear */
	assert_int_equal(rep[1], 0x11);      /* MaxVer 1, CurVer 1 */
	assert_int_equal(rep[2] << 8 | rep[3], 4);
	tt_iser_hello_reply(&h, 64, rep);
	assert_int_equal(rep[2] << 8 | rep[3], 16);
	/* versions 2-3 only: rejected (R set), no current version */
	msg[1] = 0x32;
	assert_int_equal(tt_iser_hello_decode(msg, sizeof(msg), &h), 0);
	tt_iser_hello_reply(&h, 4, rep);
	assert_int_equal(rep[0], 0x31);
	assert_int_equal(rep[1] & 0x0f, 0);
	/* MinVer above MaxVer, wrong opcode, too short */
	msg[1] = 0x13;
	assert_int_equal(tt_iser_hello_decode(msg, sizeof(msg), &h), -EPROTO);
	msg[1] = 0x11;
	msg[0] = 0x10;
	assert_int_equal(tt_iser_hello_decode(msg, sizeof(msg), &h), -EPROTO);
	msg[0] = 0x20;
	assert_int_equal(tt_iser_hello_decode(msg, 3, &h), -EPROTO);
}

/* ---- remote keys in the task's area ---- */

static void test_area(void **state)
{
	uint64_t area[4] = { 1, 2, 3, 4 };
	struct tt_iser_hdr h = { .opcode = TT_ISER_OP_CTRL, .rsv = true, .read_stag = 0x1234,
				 .read_va = 0xdeadbeef000ull };
	uint32_t stag;
	uint64_t va;
	(void)state;

	tt_iser_area_set(area, &h);
	assert_true(tt_iser_area_read(area, &stag, &va));
	assert_int_equal(stag, 0x1234);
	assert_true(va == 0xdeadbeef000ull);
	assert_false(tt_iser_area_write(area, &stag, &va));
	h = (struct tt_iser_hdr){ .opcode = TT_ISER_OP_CTRL, .wsv = true, .write_stag = 0xffffffffu,
				  .write_va = 42 };
	tt_iser_area_set(area, &h);
	assert_false(tt_iser_area_read(area, &stag, &va));
	assert_true(tt_iser_area_write(area, &stag, &va));
	assert_int_equal(stag, 0xffffffffu);
	assert_true(va == 42);
	/* a zeroed area (a PDU without an iSER header) has neither */
	memset(area, 0, sizeof(area));
	assert_false(tt_iser_area_read(area, &stag, &va));
	assert_false(tt_iser_area_write(area, &stag, &va));
}

/* ---- login keys through the real negotiation ---- */

struct side {
	struct tt_negotiation n;
	struct tt_params p;
	struct tt_params_policy pol;
	struct tt_text in;
	struct tt_text_out out;
};

static void side_init(struct side *s)
{
	memset(s, 0, sizeof(*s));
	tt_negotiation_init(&s->n, TT_ROLE_TARGET, true);
	tt_params_init(&s->p);
	tt_params_policy_defaults(&s->pol);
	s->pol.tpgt = 1;
	/* the TPG asks for digests and a large MaxRecvDataSegmentLength, as over TCP */
	s->pol.header_digests = "CRC32C,None";
	s->pol.data_digests = "CRC32C,None";
	s->pol.max_recv_dsl = 262144;
	tt_iser_login_policy(&s->pol);
	tt_text_init(&s->in, 0);
	tt_text_out_init(&s->out, 0);
}

static void side_fini(struct side *s)
{
	tt_text_fini(&s->in);
	tt_text_out_fini(&s->out);
}

static int respond(struct side *s, const char *text, size_t len)
{
	tt_text_out_reset(&s->out);
	assert_int_equal(tt_text_parse(&s->in, text, len), 0);
	return tt_params_respond(&s->n, &s->p, &s->pol, TT_STAGE_OPERATIONAL, &s->in, &s->out);
}

static void test_login_policy(void **state)
{
	struct tt_params_policy pol;
	(void)state;

	tt_params_policy_defaults(&pol);
	pol.max_recv_dsl = 1 << 20;
	tt_iser_login_policy(&pol);
	assert_true(pol.rdma_extensions);
	assert_string_equal(pol.header_digests, "None");
	assert_string_equal(pol.data_digests, "None");
	assert_int_equal(pol.max_recv_dsl, TT_ISER_MAX_RECV_DSL);
	assert_true(pol.initial_r2t);
	pol.max_recv_dsl = 4096;
	tt_iser_login_policy(&pol);
	assert_int_equal(pol.max_recv_dsl, 4096);
}

/* The Linux initiator's operational keys over iSER. */
static void test_login_keys(void **state)
{
	struct side s;
	(void)state;

	side_init(&s);
	assert_int_equal(respond(&s, LIT(NAMES "HeaderDigest=CRC32C,None\0DataDigest=CRC32C\0"
					       "RDMAExtensions=Yes\0"
					       "InitiatorRecvDataSegmentLength=262144\0"
					       "TargetRecvDataSegmentLength=262144\0"
					       "MaxRecvDataSegmentLength=262144\0"
					       "InitialR2T=No\0ImmediateData=Yes\0")), 0);
	assert_string_equal(tt_text_out_find(&s.out, "RDMAExtensions"), "Yes");
	/* digests are never chosen over iSER: None, or a refusal when None was not offered */
	assert_string_equal(tt_text_out_find(&s.out, "HeaderDigest"), "None");
	assert_string_equal(tt_text_out_find(&s.out, "DataDigest"), "Reject");
	assert_false(s.p.header_digest);
	assert_false(s.p.data_digest);
	/* what the target receives in one SEND is bounded by its receive buffers */
	assert_string_equal(tt_text_out_find(&s.out, "TargetRecvDataSegmentLength"), "8192");
	assert_int_equal(s.p.target_recv_dsl, 8192);
	assert_int_equal(s.p.initiator_recv_dsl, 8192);
	assert_string_equal(tt_text_out_find(&s.out, "MaxRecvDataSegmentLength"), "Irrelevant");
	assert_true(s.p.rdma_extensions);
	/* immediate data only: no unsolicited Data-Out races the RDMA READ of the rest */
	assert_string_equal(tt_text_out_find(&s.out, "InitialR2T"), "Yes");
	assert_true(s.p.initial_r2t);
	assert_string_equal(tt_text_out_find(&s.out, "ImmediateData"), "Yes");
	/* in force after the login: the iSER keys size the data segments both ways */
	tt_iser_params_apply(&s.p);
	assert_int_equal(s.p.max_recv_dsl, 8192);
	assert_int_equal(s.p.max_xmit_dsl, 8192);
	side_fini(&s);
}

/* An initiator with small receive buffers: the target sends it no more than it declared. */
static void test_login_small_initiator(void **state)
{
	struct side s;
	(void)state;

	side_init(&s);
	assert_int_equal(respond(&s, LIT(NAMES "RDMAExtensions=Yes\0"
					       "InitiatorRecvDataSegmentLength=512\0"
					       "TargetRecvDataSegmentLength=4096\0")), 0);
	assert_string_equal(tt_text_out_find(&s.out, "InitiatorRecvDataSegmentLength"), "512");
	assert_string_equal(tt_text_out_find(&s.out, "TargetRecvDataSegmentLength"), "4096");
	tt_iser_params_apply(&s.p);
	assert_int_equal(s.p.max_xmit_dsl, 512);
	assert_int_equal(s.p.max_recv_dsl, 4096);
	side_fini(&s);
}

/* RDMAExtensions=No (an initiator that does not use iSER): the sizes stay the TCP ones. */
static void test_login_no_rdma(void **state)
{
	struct side s;
	(void)state;

	side_init(&s);
	assert_int_equal(respond(&s, LIT(NAMES "RDMAExtensions=No\0MaxRecvDataSegmentLength=16384\0")),
			 0);
	assert_string_equal(tt_text_out_find(&s.out, "RDMAExtensions"), "No");
	assert_false(s.p.rdma_extensions);
	tt_iser_params_apply(&s.p);
	assert_int_equal(s.p.max_xmit_dsl, 16384);
	side_fini(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hdr_roundtrip),
		cmocka_unit_test(test_hdr_flags),
		cmocka_unit_test(test_hdr_bad),
		cmocka_unit_test(test_hello),
		cmocka_unit_test(test_area),
		cmocka_unit_test(test_login_policy),
		cmocka_unit_test(test_login_keys),
		cmocka_unit_test(test_login_small_initiator),
		cmocka_unit_test(test_login_no_rdma),
	};

	return tt_run_group("iser_proto_test", tests, NULL, NULL);
}
