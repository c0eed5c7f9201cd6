/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared persistent reservations (src/scsi/pr_shared.c): the message a host sends with each
 * change (events by registration, the new record) and its parser, which refuses damaged
 * messages; taking a record into a host's copy only when its version is newer, and leaving the
 * copy as it was when the record is damaged. The exchange itself runs against a real Ceph
 * cluster in tests/interop/rbd_pr_gateways.sh.
 */
#include "scsi_util.h"
#include "scsi/pr.h"

#define K1 0x1111111111111111ull
#define K2 0x2222222222222222ull

static const struct tt_pr_id id_a = { .proto = &tt_scsi_proto_iscsi, .name = "iqn.a:b",
				      .isid = { 0x40, 0, 1, 2, 3, 4 }, .port = 7 };
static const struct tt_pr_id id_all = { .proto = &tt_scsi_proto_iscsi, .name = "iqn.c:d",
					.any_isid = true, .all_ports = true };
static const struct tt_pr_id id_srp = { .proto = &tt_scsi_proto_srp,
					.name = "fe800000000000000002c9030000abcd", .port = 2 };

static void pr_init(struct tt_pr *pr)
{
	memset(pr, 0, sizeof(*pr));
	tt_list_init(&pr->regs);
	tt_list_init(&pr->nexuses);
}

static void test_msg_round_trip(void **state)
{
	struct tt_pr_events ev = { 0 }, back = { 0 };
	const char *record = "tether-pr 2\ngeneration 3\naptpl 0\ntype 1\n"
			     "reg 1111111111111111 7 1 iscsi iqn.a:b,i,0x400001020304\n";
	uint64_t token = 0;
	char *msg, *st = NULL;

	(void)state;
	assert_int_equal(tt_pr_events_add(&ev, &id_a, TT_UA_REGISTRATIONS_PREEMPTED, true), 0);
	assert_int_equal(tt_pr_events_add(&ev, &id_all, TT_UA_RESERVATIONS_PREEMPTED, false), 0);
	assert_int_equal(tt_pr_events_add(&ev, &id_srp, TT_UA_RESERVATIONS_RELEASED, false), 0);
	/* the same registration and unit attention twice: one event, abort kept */
	assert_int_equal(tt_pr_events_add(&ev, &id_a, TT_UA_REGISTRATIONS_PREEMPTED, false), 0);
	assert_int_equal(ev.n, 3);
	msg = tt_pr_msg_format(0x0123456789abcdefull, &ev, record);
	assert_non_null(msg);
	assert_non_null(strstr(msg, "from 0123456789abcdef\n"));
	assert_non_null(strstr(msg, "ev registrations-preempted 1 7 iscsi "
				    "iqn.a:b,i,0x400001020304\n"));
	assert_non_null(strstr(msg, "ev reservations-preempted 0 all iscsi iqn.c:d\n"));
	assert_int_equal(tt_pr_msg_parse(msg, strlen(msg), &token, &back, &st), 0);
	assert_true(token == 0x0123456789abcdefull);
	assert_string_equal(st, record);
	assert_int_equal(back.n, 3);
	assert_int_equal(back.v[0].ua, TT_UA_REGISTRATIONS_PREEMPTED);
	assert_true(back.v[0].abort);
	assert_true(tt_pr_id_overlap(&back.v[0].id, &id_a));
	assert_memory_equal(back.v[0].id.isid, id_a.isid, 6);
	assert_int_equal(back.v[0].id.port, 7);
	assert_true(back.v[1].id.all_ports && back.v[1].id.any_isid);
	assert_false(back.v[1].abort);
	assert_ptr_equal(back.v[2].id.proto, &tt_scsi_proto_srp);
	assert_int_equal(back.v[2].ua, TT_UA_RESERVATIONS_RELEASED);
	free(st);
	free(msg);
	/* no events, empty record */
	tt_pr_events_free(&ev);
	msg = tt_pr_msg_format(1, &ev, "");
	assert_non_null(msg);
	assert_int_equal(tt_pr_msg_parse(msg, strlen(msg), &token, &back, &st), 0);
	assert_int_equal(back.n, 0);
	assert_string_equal(st, "");
	assert_true(token == 1);
	free(st);
	free(msg);
	/* a unit attention that is not a reservation's cannot be sent */
	assert_int_equal(tt_pr_events_add(&ev, &id_a, TT_UA_POWER_ON, false), 0);
	assert_null(tt_pr_msg_format(1, &ev, ""));
	tt_pr_events_free(&ev);
	tt_pr_events_free(&back);
}

static void test_msg_damaged(void **state)
{
	static const char *const bad[] = {
		"",
		"tether-prn 2\nfrom 0000000000000001\nstate\n",
		"tether-prn 1\nstate\n",                             /* no sender */
		"tether-prn 1\nfrom 1\nstate\n",                     /* short token */
		"tether-prn 1\nfrom 000000000000000g\nstate\n",
		"tether-prn 1\nfrom 0000000000000001\n",             /* no state */
		"tether-prn 1\nev reservations-released 0 1 iscsi iqn.a:b\n"
		"from 0000000000000001\nstate\n",                     /* event before the sender */
		"tether-prn 1\nfrom 0000000000000001\nev power-on 0 1 iscsi iqn.a:b\nstate\n",
		"tether-prn 1\nfrom 0000000000000001\nev reservations-released 2 1 iscsi iqn.a:b\n"
		"state\n",
		"tether-prn 1\nfrom 0000000000000001\nev reservations-released 0 70000 iscsi "
		"iqn.a:b\nstate\n",
		"tether-prn 1\nfrom 0000000000000001\nev reservations-released 0 -1 iscsi iqn.a:b\n"
		"state\n",
		"tether-prn 1\nfrom 0000000000000001\nev reservations-released 0 1 fcp 0x1\nstate\n",
		"tether-prn 1\nfrom 0000000000000001\nev reservations-released 0 1 iscsi\nstate\n",
		"tether-prn 1\nfrom 0000000000000001\nfoo\nstate\n",
	};
	struct tt_pr_events ev = { 0 };
	uint64_t token;
	char *st;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		st = (char *)1;
		assert_int_equal(tt_pr_msg_parse(bad[i], strlen(bad[i]), &token, &ev, &st), -EBADMSG);
		assert_null(st);
		assert_int_equal(ev.n, 0);
	}
	/* a NUL inside the message */
	assert_int_equal(tt_pr_msg_parse("tether-prn 1\n\0from", 18, &token, &ev, &st), -EBADMSG);
}

static void test_take(void **state)
{
	struct tt_pr pr, other;
	char *text;

	(void)state;
	pr_init(&pr);
	pr_init(&other);
	tt_pr_reg_add(&pr, &id_srp, K2);
	pr.generation = 9;
	pr.shared_version = 5;
	/* the other host's record: two registrations, a Write Exclusive reservation held by A */
	other.holder = tt_pr_reg_add(&other, &id_a, K1);
	tt_pr_reg_add(&other, &id_all, K2);
	other.type = TT_PR_WE;
	other.generation = 12;
	text = tt_pr_store_format(&other);
	assert_non_null(text);
	/* not newer: nothing changes */
	assert_int_equal(tt_pr_shared_take(&pr, 5, text, strlen(text)), 0);
	assert_int_equal(tt_pr_shared_take(&pr, 4, text, strlen(text)), 0);
	assert_int_equal(pr.nregs, 1);
	assert_int_equal(pr.generation, 9);
	/* damaged: refused, the copy is kept */
	assert_int_equal(tt_pr_shared_take(&pr, 6, "tether-pr 2\ntype 1\n", 19), -EBADMSG);
	assert_int_equal(tt_pr_shared_take(&pr, 6, "tether-pr 2\n\0", 13), -EBADMSG);
	assert_int_equal(pr.nregs, 1);
	assert_true(pr.shared_version == 5);
	/* newer: taken whole */
	assert_int_equal(tt_pr_shared_take(&pr, 6, text, strlen(text)), 1);
	assert_true(pr.shared_version == 6);
	assert_int_equal(pr.nregs, 2);
	assert_int_equal(pr.generation, 12);
	assert_int_equal(pr.type, TT_PR_WE);
	assert_non_null(pr.holder);
	assert_true(pr.holder->key == K1);
	assert_true(tt_pr_id_overlap(&pr.holder->id, &id_a));
	assert_true(__atomic_load_n(&pr.active, __ATOMIC_ACQUIRE));
	/* an empty record (nothing registered yet): everything goes */
	assert_int_equal(tt_pr_shared_take(&pr, 7, "", 0), 1);
	assert_int_equal(pr.nregs, 0);
	assert_int_equal(pr.type, TT_PR_NONE);
	assert_null(pr.holder);
	assert_int_equal(pr.generation, 0);
	assert_false(__atomic_load_n(&pr.active, __ATOMIC_ACQUIRE));
	free(text);
	tt_pr_regs_clear(&pr);
	tt_pr_regs_clear(&other);
}

/* After a broken watch: the record read again is taken, the stale state ends, and the nexuses
 * whose registration vanished meanwhile are named (REGISTRATIONS PREEMPTED). */
static void test_retake(void **state)
{
	static const struct tt_pr_id id_b = { .proto = &tt_scsi_proto_iscsi, .name = "iqn.e:f",
					      .isid = { 0x40, 0, 1, 2, 3, 5 }, .port = 7 };
	struct tt_pr_nexus nx[3] = {
		{ .nexus_id = 11, .id = id_a },   /* registered, preempted meanwhile */
		{ .nexus_id = 12, .id = id_srp }, /* registered, still */
		{ .nexus_id = 13, .id = id_b },   /* never registered */
	};
	struct tt_pr pr, other;
	uint64_t *gone;
	unsigned ngone;
	char *text;

	(void)state;
	pr_init(&pr);
	pr_init(&other);
	for (int i = 0; i < 3; i++)
		tt_list_add_tail(&pr.nexuses, &nx[i].node);
	pr.holder = tt_pr_reg_add(&pr, &id_a, K1);
	tt_pr_reg_add(&pr, &id_srp, K2);
	pr.type = TT_PR_WE_RO;
	pr.shared_version = 5;
	pr.shared_stale = true;
	/* the record now: B preempted A and holds the reservation */
	tt_pr_reg_add(&other, &id_srp, K2);
	other.holder = tt_pr_reg_add(&other, &id_b, K1);
	other.type = TT_PR_WE_RO;
	text = tt_pr_store_format(&other);
	assert_non_null(text);

	/* damaged: nothing taken, still stale */
	assert_int_equal(tt_pr_shared_retake(&pr, 6, "tether-pr 2\ntype 1\n", 19, &gone, &ngone),
			 -EBADMSG);
	assert_true(pr.shared_stale);
	assert_int_equal(ngone, 0);
	assert_null(gone);
	assert_int_equal(pr.nregs, 2);

	assert_int_equal(tt_pr_shared_retake(&pr, 6, text, strlen(text), &gone, &ngone), 1);
	assert_false(__atomic_load_n(&pr.shared_stale, __ATOMIC_ACQUIRE));
	assert_true(pr.shared_version == 6);
	assert_int_equal(ngone, 1);
	assert_non_null(gone);
	assert_true(gone[0] == 11);
	free(gone);
	assert_non_null(pr.holder);
	assert_true(tt_pr_id_overlap(&pr.holder->id, &id_b));

	/* broken again, nothing changed meanwhile: the same version ends the stale state alone */
	pr.shared_stale = true;
	assert_int_equal(tt_pr_shared_retake(&pr, 6, text, strlen(text), &gone, &ngone), 0);
	assert_false(pr.shared_stale);
	assert_int_equal(ngone, 0);
	assert_null(gone);
	assert_int_equal(pr.nregs, 2);

	free(text);
	tt_pr_regs_clear(&pr);
	tt_pr_regs_clear(&other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_msg_round_trip),
		cmocka_unit_test(test_msg_damaged),
		cmocka_unit_test(test_take),
		cmocka_unit_test(test_retake),
	};

	return tt_run_group("pr_shared_test", tests, NULL, NULL);
}
