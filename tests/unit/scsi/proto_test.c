/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Protocol identity tables (src/scsi/proto*.c): iSCSI and SRP TransportIDs (parse, encode, round
 * trips), initiator port identities and how they compare, their text form, the VPD 83h
 * designators of each protocol, the table look-ups and the -EOPNOTSUPP stubs.
 */
#include "scsi_util.h"
#include "scsi/proto.h"

static const struct tt_scsi_frontend srp_fe = {
	.name = "test-srp",
	.proto = &tt_scsi_proto_srp,
	.abort_nexus = tt_scsi_fe_no_abort_nexus,
	.alua_changed = tt_scsi_fe_no_alua_changed,
	.pr_notice = tt_scsi_fe_no_pr_notice,
};

static void test_lookup(void **state)
{
	(void)state;
	assert_ptr_equal(tt_scsi_proto_find(0x5), &tt_scsi_proto_iscsi);
	assert_ptr_equal(tt_scsi_proto_find(0x4), &tt_scsi_proto_srp);
	assert_null(tt_scsi_proto_find(0x0)); /* Fibre Channel: not a protocol of the core */
	/* NVMe hosts: no SPC protocol identifier, TransportIDs of "no specific protocol" */
	assert_ptr_equal(tt_scsi_proto_find(TT_SCSI_PROTO_ID_NONE), &tt_scsi_proto_nvme);
	assert_ptr_equal(tt_scsi_proto_by_name("nvme"), &tt_scsi_proto_nvme);
	assert_ptr_equal(tt_scsi_proto_by_name("iscsi"), &tt_scsi_proto_iscsi);
	assert_ptr_equal(tt_scsi_proto_by_name("srp"), &tt_scsi_proto_srp);
	assert_null(tt_scsi_proto_by_name("none"));
	assert_null(tt_scsi_proto_by_name(NULL));
}

static const struct tt_scsi_frontend nvme_fe = {
	.name = "nvme-test",
	.proto = &tt_scsi_proto_nvme,
	.abort_nexus = tt_scsi_fe_no_abort_nexus,
	.alua_changed = tt_scsi_fe_no_alua_changed,
	.pr_notice = tt_scsi_fe_no_pr_notice,
	.no_ua = true,
};

/* --- iSCSI ---------------------------------------------------------------------------------- */

static void test_iscsi_tid_round_trip(void **state)
{
	const struct tt_scsi_proto *pr = &tt_scsi_proto_iscsi;
	struct tt_pr_id id = { .proto = pr, .name = "iqn.2024-01.org.test:host1",
			       .isid = { 0x40, 0x00, 0x01, 0x37, 0x00, 0x02 } };
	struct tt_pr_id back;
	uint8_t buf[300];
	int n;

	(void)state;
	/* format 01b: initiator port name, NUL terminated, padded to a multiple of 4 */
	n = pr->tid_len(&id);
	assert_int_equal(n % 4, 0);
	assert_int_equal(pr->tid_encode(&id, buf, sizeof(buf)), n);
	assert_int_equal(buf[0], 0x45);
	assert_int_equal(tt_get_be16(buf + 2), n - 4);
	assert_string_equal((const char *)buf + 4, "iqn.2024-01.org.test:host1,i,0x400001370002");
	memset(&back, 0xee, sizeof(back));
	assert_int_equal(pr->tid_parse(buf, (size_t)n, &back), n);
	assert_ptr_equal(back.proto, pr);
	assert_string_equal(back.name, id.name);
	assert_memory_equal(back.isid, id.isid, 6);
	assert_false(back.any_isid);
	assert_int_equal(pr->port_match(&id, &back), 1);
	/* too short for its ADDITIONAL LENGTH */
	assert_int_equal(pr->tid_parse(buf, (size_t)n - 1, &back), -ENOSPC);
	assert_int_equal(pr->tid_encode(&id, buf, (size_t)n - 1), -ENOSPC);

	/* format 00b: a name alone (every ISID), at least 24 bytes */
	id = (struct tt_pr_id){ .proto = pr, .name = "iqn.a:b", .any_isid = true };
	n = pr->tid_len(&id);
	assert_int_equal(n, 24);
	assert_int_equal(pr->tid_encode(&id, buf, sizeof(buf)), 24);
	assert_int_equal(buf[0], 0x05);
	assert_int_equal(pr->tid_parse(buf, 24, &back), 24);
	assert_true(back.any_isid);
	assert_string_equal(back.name, "iqn.a:b");

	/* refused: another protocol, format 10b, a blank, no NUL, a comma in format 00b */
	buf[0] = 0x04;
	assert_int_equal(pr->tid_parse(buf, 24, &back), -EINVAL);
	buf[0] = 0x85;
	assert_int_equal(pr->tid_parse(buf, 24, &back), -EINVAL);
	buf[0] = 0x05;
	buf[5] = ' ';
	assert_int_equal(pr->tid_parse(buf, 24, &back), -EINVAL);
	memset(buf + 4, 'a', 20);
	assert_int_equal(pr->tid_parse(buf, 24, &back), -EINVAL);
	memcpy(buf + 4, "iqn.a:b,c\0", 10);
	assert_int_equal(pr->tid_parse(buf, 24, &back), -EINVAL);
	/* a format 01b TransportID without ",i,0x" */
	memcpy(buf + 4, "iqn.a:b\0", 8);
	buf[0] = 0x45;
	assert_int_equal(pr->tid_parse(buf, 24, &back), -EINVAL);
}

static void test_iscsi_identity(void **state)
{
	const struct tt_scsi_proto *pr = &tt_scsi_proto_iscsi;
	struct tt_pr_id a, b, any;
	struct tt_nexus n = { .fe = &test_fe };
	char text[300];
	int n_text;

	(void)state;
	/* from the initiator port name of the nexus */
	snprintf(n.initiator_name, sizeof(n.initiator_name), "iqn.2024-01.org.test:Host1");
	snprintf(n.initiator_port, sizeof(n.initiator_port),
		 "iqn.2024-01.org.test:Host1,i,0x23000000000a");
	tt_scsi_nexus_ident(&n, &a);
	assert_ptr_equal(a.proto, pr);
	assert_string_equal(a.name, "iqn.2024-01.org.test:Host1");
	assert_int_equal(a.isid[0], 0x23);
	assert_int_equal(a.isid[5], 0x0a);
	/* without it, from the name and the ISID */
	n.initiator_port[0] = '\0';
	n.isid[0] = 0x23;
	n.isid[5] = 0x0a;
	tt_scsi_nexus_ident(&n, &b);
	assert_ptr_equal(b.proto, pr);
	assert_memory_equal(a.isid, b.isid, 6);
	/* names compare without case, ISIDs exactly; no ISID matches all */
	snprintf(b.name, sizeof(b.name), "IQN.2024-01.ORG.TEST:HOST1");
	assert_int_equal(pr->port_match(&a, &b), 1);
	assert_true(tt_pr_id_overlap(&a, &b));
	b.isid[5] = 0x0b;
	assert_int_equal(pr->port_match(&a, &b), 0);
	any = b;
	any.any_isid = true;
	assert_int_equal(pr->port_match(&a, &any), 1);
	/* target ports */
	any.port = 2;
	assert_false(tt_pr_id_overlap(&a, &any));
	any.all_ports = true;
	assert_true(tt_pr_id_overlap(&a, &any));

	/* text form, both ways */
	n_text = pr->ident_format(&a, text, sizeof(text));
	assert_int_equal(n_text, (int)strlen(text));
	assert_string_equal(text, "iqn.2024-01.org.test:Host1,i,0x23000000000a");
	memset(&b, 0, sizeof(b));
	assert_int_equal(pr->ident_parse(text, &b), 0);
	assert_int_equal(pr->port_match(&a, &b), 1);
	assert_false(b.any_isid);
	any.all_ports = false;
	n_text = pr->ident_format(&any, text, sizeof(text));
	assert_int_equal(n_text, (int)strlen(text));
	assert_string_equal(text, "IQN.2024-01.ORG.TEST:HOST1");
	assert_int_equal(pr->ident_parse(text, &b), 0);
	assert_true(b.any_isid);
	assert_int_equal(pr->ident_format(&a, text, 8), -ENOSPC);
	assert_int_equal(pr->ident_parse("iqn.a:b,i,0x12", &b), -EINVAL);
	assert_int_equal(pr->ident_parse("iqn a", &b), -EINVAL);
	assert_int_equal(pr->ident_parse("", &b), -EINVAL);

	/* no nexus, or a nexus without a name: the identity of no protocol, which matches none */
	tt_scsi_nexus_ident(NULL, &a);
	assert_ptr_equal(a.proto, &tt_scsi_proto_none);
	assert_false(tt_pr_id_overlap(&a, &a));
	memset(&n, 0, sizeof(n));
	n.fe = &test_fe;
	tt_scsi_nexus_ident(&n, &b);
	assert_ptr_equal(b.proto, &tt_scsi_proto_none);
}

/* --- SRP ------------------------------------------------------------------------------------ */

static const uint8_t srp_ini[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0,
				     0x00, 0x02, 0xc9, 0x03, 0x00, 0x0a, 0xbc, 0xde };

static void test_srp_tid_round_trip(void **state)
{
	const struct tt_scsi_proto *pr = &tt_scsi_proto_srp;
	struct tt_pr_id id, back;
	uint8_t buf[64], tid[24] = { 0x04 };
	char text[64];

	(void)state;
	memcpy(tid + 8, srp_ini, 16);
	/* SPC-4 7.6.4.5: 24 bytes, the initiator port identifier at byte 8 */
	assert_int_equal(pr->tid_parse(tid, sizeof(tid), &id), 24);
	assert_ptr_equal(id.proto, pr);
	assert_string_equal(id.name, "fe800000000000000002c903000abcde");
	assert_int_equal(pr->tid_len(&id), 24);
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(pr->tid_encode(&id, buf, sizeof(buf)), 24);
	assert_memory_equal(buf, tid, 24);
	assert_int_equal(pr->tid_parse(buf, 24, &back), 24);
	assert_int_equal(pr->port_match(&id, &back), 1);
	/* short, another format or protocol */
	assert_int_equal(pr->tid_parse(tid, 23, &back), -ENOSPC);
	assert_int_equal(pr->tid_encode(&id, buf, 23), -ENOSPC);
	tid[0] = 0x44;
	assert_int_equal(pr->tid_parse(tid, 24, &back), -EINVAL);
	tid[0] = 0x05;
	assert_int_equal(pr->tid_parse(tid, 24, &back), -EINVAL);

	/* text form: 0x and 32 digits; read back with or without 0x, in either case */
	assert_int_equal(pr->ident_format(&id, text, sizeof(text)), 34);
	assert_string_equal(text, "0xfe800000000000000002c903000abcde");
	assert_int_equal(pr->ident_parse(text, &back), 0);
	assert_int_equal(pr->port_match(&id, &back), 1);
	assert_int_equal(pr->ident_parse("FE800000000000000002C903000ABCDE", &back), 0);
	assert_int_equal(pr->port_match(&id, &back), 1);
	assert_int_equal(pr->ident_parse("0xfe80", &back), -EINVAL);
	assert_int_equal(pr->ident_parse("0xge800000000000000002c903000abcde", &back), -EINVAL);
	back.name[31] = 'f';
	assert_int_equal(pr->port_match(&id, &back), 0);
}

/* --- NVMe ------------------------------------------------------------------------------------ */

static void test_nvme_identity(void **state)
{
	const struct tt_scsi_proto *pr = &tt_scsi_proto_nvme;
	struct tt_nexus nexus = { .fe = &nvme_fe };
	struct tt_pr_id id, back, other;
	uint8_t buf[64], tid[24] = { 0x0f };
	char text[64];

	(void)state;
	/* the nexus of an NVMe controller: the Host Identifier as 32 hex digits */
	snprintf(nexus.initiator_name, sizeof(nexus.initiator_name), "%s",
		 "5b2c9a2e00004000800000000000000a");
	tt_scsi_nexus_ident(&nexus, &id);
	assert_ptr_equal(id.proto, pr);
	assert_string_equal(id.name, "5b2c9a2e00004000800000000000000a");
	/* TransportID: protocol Fh, format 00b, the Host Identifier at byte 8 */
	memcpy(tid + 8, "\x5b\x2c\x9a\x2e\x00\x00\x40\x00\x80\x00\x00\x00\x00\x00\x00\x0a", 16);
	assert_int_equal(pr->tid_len(&id), 24);
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(pr->tid_encode(&id, buf, sizeof(buf)), 24);
	assert_memory_equal(buf, tid, 24);
	assert_int_equal(pr->tid_parse(buf, 24, &back), 24);
	assert_int_equal(pr->port_match(&id, &back), 1);
	assert_int_equal(pr->tid_parse(tid, 23, &back), -ENOSPC);
	tid[0] = 0x4f;
	assert_int_equal(pr->tid_parse(tid, 24, &back), -EINVAL);
	/* another host, and an SRP port with the same 128 bits, are other identities */
	tid[0] = 0x0f;
	tid[23] = 0x0b;
	assert_int_equal(pr->tid_parse(tid, 24, &other), 24);
	assert_int_equal(pr->port_match(&id, &other), 0);
	tid[0] = 0x04;
	tid[23] = 0x0a;
	assert_int_equal(tt_scsi_proto_srp.tid_parse(tid, 24, &other), 24);
	id.all_ports = true;
	assert_false(tt_pr_id_overlap(&id, &other));
	/* text form (state file): hostid: and 32 digits */
	assert_int_equal(pr->ident_format(&id, text, sizeof(text)), 39);
	assert_string_equal(text, "hostid:5b2c9a2e00004000800000000000000a");
	assert_int_equal(pr->ident_parse(text, &back), 0);
	assert_int_equal(pr->port_match(&id, &back), 1);
	assert_int_equal(pr->ident_parse("hostid:5b2c", &back), -EINVAL);
	assert_int_equal(pr->port_name(NULL, text, sizeof(text)), -EOPNOTSUPP);
}

static void test_srp_identity(void **state)
{
	struct tt_nexus srp = { .fe = &srp_fe }, iscsi = { .fe = &test_fe };
	struct tt_pr_id a, b;

	(void)state;
	snprintf(srp.initiator_name, sizeof(srp.initiator_name),
		 "0xfe800000000000000002c903000abcde");
	tt_scsi_nexus_ident(&srp, &a);
	assert_ptr_equal(a.proto, &tt_scsi_proto_srp);
	/* an iSCSI nexus of the same spelling is another initiator port */
	snprintf(iscsi.initiator_name, sizeof(iscsi.initiator_name), "%s", srp.initiator_name);
	tt_scsi_nexus_ident(&iscsi, &b);
	assert_ptr_equal(b.proto, &tt_scsi_proto_iscsi);
	assert_false(tt_pr_id_overlap(&a, &b));
	/* a name that is not an SRP identifier */
	snprintf(srp.initiator_name, sizeof(srp.initiator_name), "iqn.a:b");
	tt_scsi_nexus_ident(&srp, &a);
	assert_ptr_equal(a.proto, &tt_scsi_proto_none);
}

/* --- VPD 83h --------------------------------------------------------------------------------- */

/* The designator of @type and association @assoc in page 83h @p; NULL when absent. */
static const uint8_t *find_designator(const uint8_t *p, uint8_t type, uint8_t assoc, uint8_t *len)
{
	size_t end = 4 + tt_get_be16(p + 2);

	for (size_t off = 4; off + 4 <= end; off += 4 + p[off + 3]) {
		if ((p[off + 1] & 0x0f) == type && ((p[off + 1] >> 4) & 0x3) == assoc) {
			*len = p[off + 3];
			return p + off;
		}
	}
	return NULL;
}

static void test_vpd_designators(void **state)
{
	struct tt_bdev *bdev;
	struct tt_lun *lun;
	struct tt_scsi_port iscsi = { .fe = &test_fe, .target_name = TEST_TARGET, .tpgt = 0x12,
				      .rel_port_id = 3, .port_group_id = 4 };
	struct tt_scsi_port srp = { .fe = &srp_fe, .target_name = TEST_TARGET, .rel_port_id = 5,
				    .port_group_id = 6 };
	uint8_t buf[1024], len;
	const uint8_t *d;
	char err[64];

	(void)state;
	memcpy(srp.srp_port_id, srp_ini, 16);
	assert_int_equal(tt_bdev_open("ram:1M", &bdev, err, sizeof(err)), 0);
	assert_int_equal(tt_lun_create(TEST_TARGET, 0, bdev, NULL, &lun), 0);

	/* iSCSI: port and device names, relative port and group, all with protocol 5h and PIV */
	assert_true(tt_vpd_build(lun, &iscsi, 0x83, buf, sizeof(buf)) > 0);
	d = find_designator(buf, 0x8, 1, &len);
	assert_non_null(d);
	assert_int_equal(d[0], 0x53);
	assert_int_equal(d[1] & 0x80, 0x80);
	assert_string_equal((const char *)d + 4, TEST_TARGET ",t,0x0012");
	d = find_designator(buf, 0x4, 1, &len);
	assert_non_null(d);
	assert_int_equal(d[0], 0x51);
	assert_int_equal(tt_get_be16(d + 6), 3);
	d = find_designator(buf, 0x5, 1, &len);
	assert_non_null(d);
	assert_int_equal(d[0], 0x51);
	assert_int_equal(tt_get_be16(d + 6), 4);
	d = find_designator(buf, 0x8, 2, &len);
	assert_non_null(d);
	assert_int_equal(d[0], 0x53);
	assert_string_equal((const char *)d + 4, TEST_TARGET);

	/* SRP: the target port as an "eui." name of its 128-bit identifier, protocol 4h; no target
	 * device name */
	assert_true(tt_vpd_build(lun, &srp, 0x83, buf, sizeof(buf)) > 0);
	d = find_designator(buf, 0x8, 1, &len);
	assert_non_null(d);
	assert_int_equal(d[0], 0x43);
	assert_int_equal(d[1] & 0x80, 0x80);
	assert_int_equal(len, 40);
	assert_string_equal((const char *)d + 4, "eui.FE800000000000000002C903000ABCDE");
	d = find_designator(buf, 0x4, 1, &len);
	assert_non_null(d);
	assert_int_equal(d[0], 0x41);
	assert_int_equal(tt_get_be16(d + 6), 5);
	d = find_designator(buf, 0x5, 1, &len);
	assert_non_null(d);
	assert_int_equal(d[0], 0x41);
	assert_int_equal(tt_get_be16(d + 6), 6);
	assert_null(find_designator(buf, 0x8, 2, &len));
	/* the logical unit's own designators do not depend on the port */
	d = find_designator(buf, 0x3, 0, &len);
	assert_non_null(d);
	assert_int_equal(d[0], 0x01); /* no protocol, binary */

	/* no port: the logical unit's designators only */
	assert_true(tt_vpd_build(lun, NULL, 0x83, buf, sizeof(buf)) > 0);
	assert_null(find_designator(buf, 0x8, 1, &len));
	assert_null(find_designator(buf, 0x4, 1, &len));
	assert_non_null(find_designator(buf, 0x3, 0, &len));
	tt_lun_put(lun);
	tt_bdev_put(bdev);
}

/* --- stubs ----------------------------------------------------------------------------------- */

static void test_stubs(void **state)
{
	const struct tt_scsi_proto *none = &tt_scsi_proto_none;
	struct tt_pr_id id = { .proto = none };
	struct tt_scsi_port port = { .fe = &test_fe };
	struct tt_nexus n = { .fe = &test_fe };
	uint8_t buf[64];
	char text[64];

	(void)state;
	assert_int_equal(none->nexus_ident(&n, &id), -EOPNOTSUPP);
	assert_int_equal(none->port_match(&id, &id), -EOPNOTSUPP);
	assert_int_equal(none->tid_parse(buf, sizeof(buf), &id), -EOPNOTSUPP);
	assert_int_equal(none->tid_len(&id), -EOPNOTSUPP);
	assert_int_equal(none->tid_encode(&id, buf, sizeof(buf)), -EOPNOTSUPP);
	assert_int_equal(none->ident_format(&id, text, sizeof(text)), -EOPNOTSUPP);
	assert_int_equal(none->ident_parse("x", &id), -EOPNOTSUPP);
	assert_int_equal(none->port_name(&port, text, sizeof(text)), -EOPNOTSUPP);
	assert_int_equal(none->device_name(&port, text, sizeof(text)), -EOPNOTSUPP);
	assert_int_equal(tt_scsi_proto_srp.device_name(&port, text, sizeof(text)), -EOPNOTSUPP);
	assert_int_equal(test_fe.abort_nexus(NULL, 1), -EOPNOTSUPP);
	assert_int_equal(test_fe.alua_changed(TEST_TARGET, NULL), -EOPNOTSUPP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_iscsi_tid_round_trip),
		cmocka_unit_test(test_iscsi_identity),
		cmocka_unit_test(test_srp_tid_round_trip),
		cmocka_unit_test(test_srp_identity),
		cmocka_unit_test(test_nvme_identity),
		cmocka_unit_test(test_vpd_designators),
		cmocka_unit_test(test_stubs),
	};

	return tt_run_group("proto_test", tests, NULL, NULL);
}
