/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reservations through tt_scsi_exec on a real loop and ram backend: PERSISTENT RESERVE IN/OUT
 * service actions, every reservation type, the conflict table, unit attentions, PREEMPT AND
 * ABORT through the preempted nexus's front end, RESERVE/RELEASE (6)/(10), SRP initiator ports
 * and TransportIDs, the APTPL state file round trip and state files of version 1.
 */
#include "scsi_util.h"
#include "scsi/pr.h"

#include <unistd.h>

#define K1 0x1111111111111111ull
#define K2 0x2222222222222222ull
#define K3 0x3333333333333333ull

#define UA_BIT(u) (1u << (u))
#define PROUT_APTPL_BIT 0x01

static const uint8_t pr_types[] = { TT_PR_WE, TT_PR_EA, TT_PR_WE_RO, TT_PR_EA_RO, TT_PR_WE_AR,
				    TT_PR_EA_AR };

/* --- command builders ------------------------------------------------------------------------- */

static void prout_raw(struct env *e, struct ttask *tt, const struct tt_nexus *n, uint8_t sa,
		      uint8_t scope_type, const uint8_t *param, uint32_t plen, uint32_t edtl)
{
	uint8_t c[10] = { TT_OP_PERSISTENT_RESERVE_OUT, sa, scope_type };

	tt_put_be32(c + 5, plen);
	memcpy(tt->data, param, edtl);
	ttask_run(e, tt, n, e->lun, c, 10, true, edtl);
}

static void prout(struct env *e, struct ttask *tt, const struct tt_nexus *n, uint8_t sa,
		  uint8_t type, uint64_t rk, uint64_t sark, uint8_t flags)
{
	uint8_t p[24] = { 0 };

	tt_put_be64(p, rk);
	tt_put_be64(p + 8, sark);
	p[20] = flags;
	prout_raw(e, tt, n, sa, type, p, 24, 24);
}

static void prin(struct env *e, struct ttask *tt, const struct tt_nexus *n, uint8_t sa,
		 uint16_t alloc)
{
	uint8_t c[10] = { TT_OP_PERSISTENT_RESERVE_IN, sa };

	tt_put_be16(c + 7, alloc);
	ttask_run(e, tt, n, e->lun, c, 10, false, alloc);
}

static void cmd6(struct env *e, struct ttask *tt, const struct tt_nexus *n, uint8_t op)
{
	uint8_t c[6] = { op };

	if (op == TT_OP_MODE_SENSE_6) {
		c[2] = 0x3f;
		c[4] = 255;
	}
	if (op == TT_OP_INQUIRY)
		c[4] = 96;
	ttask_run(e, tt, n, e->lun, c, 6, false, op == TT_OP_MODE_SENSE_6 || op == TT_OP_INQUIRY ?
		  255 : 0);
}

static void rw10(struct env *e, struct ttask *tt, const struct tt_nexus *n, bool write)
{
	uint8_t c[10];

	cdb_rw10(c, write ? TT_OP_WRITE_10 : TT_OP_READ_10, 1, 1, 0);
	memset(tt->data, 0x5a, 512);
	ttask_run(e, tt, n, e->lun, c, 10, write, 512);
}

static uint8_t status_of(struct ttask *tt)
{
	return tt->t.status;
}

#define assert_conflict(tt) assert_int_equal((tt)->t.status, TT_SAM_RESERVATION_CONFLICT)

static void must(struct env *e, const struct tt_nexus *n, uint8_t sa, uint8_t type, uint64_t rk,
		 uint64_t sark)
{
	struct ttask *tt = ttask_new();

	prout(e, tt, n, sa, type, rk, sark, 0);
	assert_good(tt);
	free(tt);
}

/* A nexus the LUN never heard of (tt_lun_nexus_add): no unit attention, never registered. */
static const struct tt_nexus *observer(struct env *e)
{
	static struct tt_nexus n;

	env_nexus_init(e, &n, 99, "iqn.2024-01.org.test:observer");
	return &n;
}

static uint32_t generation(struct env *e)
{
	struct ttask *tt = ttask_new();
	uint32_t g;

	prin(e, tt, observer(e), TT_PRIN_READ_KEYS, 8);
	assert_good(tt);
	g = tt_get_be32(tt->data);
	free(tt);
	return g;
}

static unsigned nkeys(struct env *e)
{
	struct ttask *tt = ttask_new();
	unsigned n;

	prin(e, tt, observer(e), TT_PRIN_READ_KEYS, 4096);
	assert_good(tt);
	n = tt_get_be32(tt->data + 4) / 8;
	assert_int_equal(tt->t.data_len, 8 + 8 * n);
	free(tt);
	return n;
}

/* Reservation key and type of READ RESERVATION; type 0 when none. */
static uint8_t reservation(struct env *e, uint64_t *key)
{
	struct ttask *tt = ttask_new();
	uint8_t type = 0;

	prin(e, tt, observer(e), TT_PRIN_READ_RESERVATION, 255);
	assert_good(tt);
	if (tt_get_be32(tt->data + 4) == 16) {
		assert_int_equal(tt->t.data_len, 24);
		*key = tt_get_be64(tt->data + 8);
		type = tt->data[21];
	} else {
		assert_int_equal(tt_get_be32(tt->data + 4), 0);
	}
	free(tt);
	return type;
}

/* --- REGISTER, READ KEYS ---------------------------------------------------------------------- */

static void test_register(void **state)
{
	struct env *e = env_new("ram:64M");
	struct ttask *tt = ttask_new();
	uint32_t g0 = generation(e);

	(void)state;
	assert_int_equal(nkeys(e), 0);
	/* REGISTER with SARK 0 from an unregistered nexus: nothing, no generation change */
	must(e, &e->nexus, TT_PROUT_REGISTER, 0, 0, 0);
	assert_int_equal(generation(e), g0);
	/* an unregistered nexus giving a non-zero key conflicts */
	prout(e, tt, &e->nexus, TT_PROUT_REGISTER, 0, K3, K1, 0);
	assert_conflict(tt);
	must(e, &e->nexus, TT_PROUT_REGISTER, 0, 0, K1);
	assert_int_equal(generation(e), g0 + 1);
	assert_int_equal(nkeys(e), 1);
	/* registered: a wrong key conflicts (libiscsi's reregister check) */
	prout(e, tt, &e->nexus, TT_PROUT_REGISTER, 0, 0, K1 + 1, 0);
	assert_conflict(tt);
	/* the right key changes it */
	must(e, &e->nexus, TT_PROUT_REGISTER, 0, K1, K3);
	/* REGISTER AND IGNORE EXISTING KEY ignores the key */
	must(e, &e->nexus, TT_PROUT_REGISTER_AND_IGNORE, 0, 0xdead, K1);
	must(e, &e->nexus2, TT_PROUT_REGISTER_AND_IGNORE, 0, 0, K2);
	assert_int_equal(nkeys(e), 2);
	assert_int_equal(generation(e), g0 + 4);

	/* READ KEYS: the keys in order, ADDITIONAL LENGTH not truncated */
	prin(e, tt, &e->nexus, TT_PRIN_READ_KEYS, 255);
	assert_good(tt);
	assert_int_equal(tt_get_be32(tt->data + 4), 16);
	assert_true(tt_get_be64(tt->data + 8) == K1);
	assert_true(tt_get_be64(tt->data + 16) == K2);
	prin(e, tt, &e->nexus, TT_PRIN_READ_KEYS, 8);
	assert_good(tt);
	assert_int_equal(tt->t.data_len, 8);
	assert_int_equal(tt_get_be32(tt->data + 4), 16);

	/* unregister both */
	must(e, &e->nexus, TT_PROUT_REGISTER, 0, K1, 0);
	must(e, &e->nexus2, TT_PROUT_REGISTER_AND_IGNORE, 0, 0, 0);
	assert_int_equal(nkeys(e), 0);
	free(tt);
	env_free(e);
}

static void test_parameter_checks(void **state)
{
	struct env *e = env_new("ram:64M");
	struct ttask *tt = ttask_new();
	uint8_t p[64] = { 0 };

	(void)state;
	tt_put_be64(p + 8, K1);
	/* parameter list length must be 24 */
	prout_raw(e, tt, &e->nexus, TT_PROUT_REGISTER, 0, p, 20, 20);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x1a, 0x00);
	prout_raw(e, tt, &e->nexus, TT_PROUT_REGISTER, 0, p, 28, 28);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x1a, 0x00);
	/* less data than the CDB announces */
	prout_raw(e, tt, &e->nexus, TT_PROUT_REGISTER, 0, p, 24, 16);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x1a, 0x00);
	/* APTPL without a state file */
	prout(e, tt, &e->nexus, TT_PROUT_REGISTER, 0, 0, K1, PROUT_APTPL_BIT);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x26, 0x00);
	/* SPEC_I_PT with a service action other than REGISTER */
	prout(e, tt, &e->nexus, TT_PROUT_REGISTER_AND_IGNORE, 0, 0, K1, 0x08);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x26, 0x00);
	assert_int_equal(nkeys(e), 0);

	must(e, &e->nexus, TT_PROUT_REGISTER, 0, 0, K1);
	/* RESERVE: invalid type, scope other than LU */
	prout(e, tt, &e->nexus, TT_PROUT_RESERVE, 0x02, K1, 0, 0);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	prout(e, tt, &e->nexus, TT_PROUT_RESERVE, 0x21, K1, 0, 0);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	/* an unknown service action */
	prout(e, tt, &e->nexus, 0x08, TT_PR_WE, K1, 0, 0);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	/* PERSISTENT RESERVE IN with an unknown service action */
	for (uint8_t sa = 4; sa < 0x20; sa++) {
		prin(e, tt, &e->nexus, sa, 255);
		assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	}
	/* unregistered nexus or wrong key: conflict, whatever the service action */
	for (uint8_t sa = TT_PROUT_RESERVE; sa <= TT_PROUT_PREEMPT_AND_ABORT; sa++) {
		prout(e, tt, &e->nexus2, sa, TT_PR_WE, K2, K1, 0);
		assert_conflict(tt);
		prout(e, tt, &e->nexus, sa, TT_PR_WE, K2, K1, 0);
		assert_conflict(tt);
	}
	must(e, &e->nexus, TT_PROUT_REGISTER, 0, K1, 0);
	free(tt);
	env_free(e);
}

/* --- RESERVE, RELEASE, READ RESERVATION -------------------------------------------------------- */

static void test_reserve_release_each_type(void **state)
{
	struct env *e = env_new("ram:64M");
	struct ttask *tt = ttask_new();
	uint64_t key = 0;

	(void)state;
	must(e, &e->nexus, TT_PROUT_REGISTER, 0, 0, K1);
	must(e, &e->nexus2, TT_PROUT_REGISTER, 0, 0, K2);
	for (size_t i = 0; i < sizeof(pr_types); i++) {
		uint8_t type = pr_types[i], other = type == TT_PR_WE ? TT_PR_EA : TT_PR_WE;
		uint32_t g = generation(e);

		must(e, &e->nexus, TT_PROUT_RESERVE, type, K1, 0);
		assert_int_equal(generation(e), g); /* RESERVE leaves the generation alone */
		assert_int_equal(reservation(e, &key), type);
		assert_true(key == (tt_pr_type_all_reg(type) ? 0 : K1));
		/* again, same type: GOOD; another type: conflict */
		must(e, &e->nexus, TT_PROUT_RESERVE, type, K1, 0);
		prout(e, tt, &e->nexus, TT_PROUT_RESERVE, other, K1, 0, 0);
		assert_conflict(tt);
		/* another registrant: holder of all registrants types only */
		prout(e, tt, &e->nexus2, TT_PROUT_RESERVE, type, K2, 0, 0);
		assert_int_equal(status_of(tt), tt_pr_type_all_reg(type) ? TT_SAM_GOOD :
			       TT_SAM_RESERVATION_CONFLICT);
		/* RELEASE with the wrong type */
		prout(e, tt, &e->nexus, TT_PROUT_RELEASE, other, K1, 0, 0);
		assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x26, 0x04);
		/* RELEASE from a registrant that does not hold it: GOOD, nothing released */
		if (!tt_pr_type_all_reg(type)) {
			must(e, &e->nexus2, TT_PROUT_RELEASE, type, K2, 0);
			assert_int_equal(reservation(e, &key), type);
		}
		must(e, &e->nexus, TT_PROUT_RELEASE, type, K1, 0);
		assert_int_equal(reservation(e, &key), 0);
		/* registrants only and all registrants: the others learn it */
		uint32_t ua = tt_lun_ua_pending(e->lun, &e->nexus2);
		bool expect = type != TT_PR_WE && type != TT_PR_EA;
		assert_int_equal(!!(ua & UA_BIT(TT_UA_RESERVATIONS_RELEASED)), expect);
		assert_int_equal(tt_lun_ua_pending(e->lun, &e->nexus), 0);
		if (expect)
			clear_ua(e, &e->nexus2);
		/* RELEASE with nothing reserved: GOOD */
		must(e, &e->nexus, TT_PROUT_RELEASE, type, K1, 0);
	}
	free(tt);
	env_free(e);
}

/* SPC-4 5.13.1 / SBC-3 4.17: who may read and write under each type. */
static void test_conflict_table(void **state)
{
	static const struct {
		uint8_t type;
		bool reg_read, reg_write, unreg_read, unreg_write;
	} table[] = {
		{ TT_PR_WE, true, false, true, false },
		{ TT_PR_EA, false, false, false, false },
		{ TT_PR_WE_RO, true, true, true, false },
		{ TT_PR_EA_RO, true, true, false, false },
		{ TT_PR_WE_AR, true, true, true, false },
		{ TT_PR_EA_AR, true, true, false, false },
	};
	struct env *e = env_new("ram:64M");
	struct ttask *tt = ttask_new();

	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		must(e, &e->nexus, TT_PROUT_REGISTER, 0, 0, K1);
		must(e, &e->nexus2, TT_PROUT_REGISTER, 0, 0, K2);
		must(e, &e->nexus, TT_PROUT_RESERVE, table[i].type, K1, 0);
		/* the holder does everything */
		rw10(e, tt, &e->nexus, false);
		assert_good(tt);
		rw10(e, tt, &e->nexus, true);
		assert_good(tt);
		for (int reg = 1; reg >= 0; reg--) {
			bool rd = reg ? table[i].reg_read : table[i].unreg_read;
			bool wr = reg ? table[i].reg_write : table[i].unreg_write;

			if (!reg)
				must(e, &e->nexus2, TT_PROUT_REGISTER, 0, K2, 0);
			rw10(e, tt, &e->nexus2, false);
			assert_int_equal(status_of(tt), rd ? TT_SAM_GOOD : TT_SAM_RESERVATION_CONFLICT);
			rw10(e, tt, &e->nexus2, true);
			assert_int_equal(status_of(tt), wr ? TT_SAM_GOOD : TT_SAM_RESERVATION_CONFLICT);
			/* MODE SENSE goes through like a read (ALLOW COMMANDS 011b) */
			cmd6(e, tt, &e->nexus2, TT_OP_MODE_SENSE_6);
			assert_int_equal(status_of(tt), rd ? TT_SAM_GOOD : TT_SAM_RESERVATION_CONFLICT);
			/* always allowed */
			cmd6(e, tt, &e->nexus2, TT_OP_TEST_UNIT_READY);
			assert_good(tt);
			cmd6(e, tt, &e->nexus2, TT_OP_INQUIRY);
			assert_good(tt);
			uint8_t c[10] = { TT_OP_READ_CAPACITY_10 };
			ttask_run(e, tt, &e->nexus2, e->lun, c, 10, false, 8);
			assert_good(tt);
			prin(e, tt, &e->nexus2, TT_PRIN_READ_KEYS, 255);
			assert_good(tt);
			/* SYNCHRONIZE CACHE counts as a write */
			uint8_t sc[10] = { TT_OP_SYNCHRONIZE_CACHE_10 };
			ttask_run(e, tt, &e->nexus2, e->lun, sc, 10, false, 0);
			assert_int_equal(status_of(tt), wr ? TT_SAM_GOOD : TT_SAM_RESERVATION_CONFLICT);
		}
		must(e, &e->nexus, TT_PROUT_CLEAR, 0, K1, 0);
		assert_int_equal(tt_lun_ua_pending(e->lun, &e->nexus2), 0); /* was not registered */
	}
	free(tt);
	env_free(e);
}

/* Unregistering the holder ends its reservation; all registrants types stay with the others. */
static void test_unregister_holder(void **state)
{
	struct env *e = env_new("ram:64M");
	uint64_t key;

	(void)state;
	for (size_t i = 0; i < sizeof(pr_types); i++) {
		uint8_t type = pr_types[i];

		must(e, &e->nexus, TT_PROUT_REGISTER, 0, 0, K1);
		must(e, &e->nexus2, TT_PROUT_REGISTER, 0, 0, K2);
		must(e, &e->nexus, TT_PROUT_RESERVE, type, K1, 0);
		must(e, &e->nexus, TT_PROUT_REGISTER, 0, K1, 0);
		uint32_t ua = tt_lun_ua_pending(e->lun, &e->nexus2);
		if (tt_pr_type_all_reg(type)) {
			assert_int_equal(reservation(e, &key), type);
			assert_true(key == 0);
			assert_int_equal(ua, 0);
			/* the last registrant takes it away */
			must(e, &e->nexus2, TT_PROUT_REGISTER, 0, K2, 0);
		} else {
			bool ro = type == TT_PR_WE_RO || type == TT_PR_EA_RO;
			assert_int_equal(reservation(e, &key), 0);
			assert_int_equal(!!(ua & UA_BIT(TT_UA_RESERVATIONS_RELEASED)), ro);
			if (ro)
				clear_ua(e, &e->nexus2);
			must(e, &e->nexus2, TT_PROUT_REGISTER, 0, K2, 0);
		}
		assert_int_equal(reservation(e, &key), 0);
		assert_int_equal(nkeys(e), 0);
	}
	env_free(e);
}

/* --- CLEAR, PREEMPT, PREEMPT AND ABORT -------------------------------------------------------- */

/* A shared copy marked stale (its watch broke, pr_shared.c): the commands a reservation governs
 * and PERSISTENT RESERVE IN/OUT are answered BUSY, registrant or not; those allowed under any
 * reservation still run; once read again, the reservation decides as before. */
static void test_stale_copy_busy(void **state)
{
	struct env *e = env_new("ram:64M");
	struct ttask *tt = ttask_new();
	struct tt_pr *pr = e->lun->state->pr;

	(void)state;
	must(e, &e->nexus, TT_PROUT_REGISTER, 0, 0, K1);
	must(e, &e->nexus, TT_PROUT_RESERVE, TT_PR_WE_RO, K1, 0);
	__atomic_store_n(&pr->shared_stale, true, __ATOMIC_RELEASE);
	rw10(e, tt, &e->nexus, true);
	assert_int_equal(status_of(tt), TT_SAM_BUSY);
	rw10(e, tt, &e->nexus2, false);
	assert_int_equal(status_of(tt), TT_SAM_BUSY);
	prin(e, tt, &e->nexus, 0, 64);
	assert_int_equal(status_of(tt), TT_SAM_BUSY);
	prout(e, tt, &e->nexus2, TT_PROUT_REGISTER, 0, 0, K2, 0);
	assert_int_equal(status_of(tt), TT_SAM_BUSY);
	cmd6(e, tt, &e->nexus2, TT_OP_TEST_UNIT_READY);
	assert_int_equal(status_of(tt), TT_SAM_GOOD);
	cmd6(e, tt, &e->nexus2, TT_OP_INQUIRY);
	assert_int_equal(status_of(tt), TT_SAM_GOOD);
	__atomic_store_n(&pr->shared_stale, false, __ATOMIC_RELEASE);
	rw10(e, tt, &e->nexus, true);
	assert_int_equal(status_of(tt), TT_SAM_GOOD);
	rw10(e, tt, &e->nexus2, true);
	assert_conflict(tt);
	assert_int_equal(nkeys(e), 1);
	free(tt);
	env_free(e);
}

static void test_clear(void **state)
{
	struct env *e = env_new("ram:64M");
	uint64_t key;
	uint32_t g;

	(void)state;
	must(e, &e->nexus, TT_PROUT_REGISTER, 0, 0, K1);
	must(e, &e->nexus2, TT_PROUT_REGISTER, 0, 0, K2);
	must(e, &e->nexus2, TT_PROUT_RESERVE, TT_PR_EA, K2, 0);
	g = generation(e);
	must(e, &e->nexus, TT_PROUT_CLEAR, 0, K1, 0);
	assert_int_equal(generation(e), g + 1);
	assert_int_equal(nkeys(e), 0);
	assert_int_equal(reservation(e, &key), 0);
	assert_int_equal(tt_lun_ua_pending(e->lun, &e->nexus2), UA_BIT(TT_UA_RESERVATIONS_PREEMPTED));
	assert_int_equal(tt_lun_ua_pending(e->lun, &e->nexus), 0);
	env_free(e);
}

static void test_preempt_registrations(void **state)
{
	struct env *e = env_new("ram:64M");
	struct ttask *tt = ttask_new();
	uint64_t key;
	uint32_t g;

	(void)state;
	/* no reservation: PREEMPT removes the registrations of a key (libiscsi RemoveRegistration) */
	must(e, &e->nexus, TT_PROUT_REGISTER, 0, 0, K1);
	must(e, &e->nexus2, TT_PROUT_REGISTER, 0, 0, K2);
	g = generation(e);
	prout(e, tt, &e->nexus2, TT_PROUT_PREEMPT, TT_PR_EA, K2, 0, 0);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x26, 0x00); /* SARK 0 with no reservation */
	prout(e, tt, &e->nexus2, TT_PROUT_PREEMPT, TT_PR_EA, K2, K3, 0);
	assert_conflict(tt); /* nobody has K3 */
	must(e, &e->nexus2, TT_PROUT_PREEMPT, TT_PR_EA, K2, K1);
	assert_int_equal(generation(e), g + 1);
	assert_int_equal(nkeys(e), 1);
	assert_int_equal(reservation(e, &key), 0);
	assert_int_equal(tt_lun_ua_pending(e->lun, &e->nexus), UA_BIT(TT_UA_REGISTRATIONS_PREEMPTED));
	assert_int_equal(tt_lun_ua_pending(e->lun, &e->nexus2), 0);
	clear_ua(e, &e->nexus);

	/* the holder preempts another registrant only: its reservation stays */
	must(e, &e->nexus, TT_PROUT_REGISTER, 0, 0, K1);
	must(e, &e->nexus, TT_PROUT_RESERVE, TT_PR_WE, K1, 0);
	must(e, &e->nexus, TT_PROUT_PREEMPT, TT_PR_WE, K1, K2);
	assert_int_equal(reservation(e, &key), TT_PR_WE);
	assert_true(key == K1);
	assert_int_equal(nkeys(e), 1);
	clear_ua(e, &e->nexus2);
	must(e, &e->nexus, TT_PROUT_CLEAR, 0, K1, 0);
	free(tt);
	env_free(e);
}

static void test_preempt_reservation(void **state)
{
	struct env *e = env_new("ram:64M");
	struct ttask *tt = ttask_new();
	struct tt_nexus n3;
	uint64_t key;

	(void)state;
	env_nexus_init(e, &n3, 3, "iqn.2024-01.org.test:host3");
	tt_lun_nexus_add(e->lun, &n3);
	clear_ua(e, &n3);

	/* a holder's key: the reservation moves to the preempting nexus, with the new type */
	must(e, &e->nexus, TT_PROUT_REGISTER, 0, 0, K1);
	must(e, &e->nexus2, TT_PROUT_REGISTER, 0, 0, K2);
	must(e, &n3, TT_PROUT_REGISTER, 0, 0, K3);
	must(e, &e->nexus, TT_PROUT_RESERVE, TT_PR_WE, K1, 0);
	must(e, &e->nexus2, TT_PROUT_PREEMPT, TT_PR_EA_RO, K2, K1);
	assert_int_equal(reservation(e, &key), TT_PR_EA_RO);
	assert_true(key == K2);
	assert_int_equal(nkeys(e), 2);
	assert_int_equal(tt_lun_ua_pending(e->lun, &e->nexus), UA_BIT(TT_UA_REGISTRATIONS_PREEMPTED));
	/* the type changed: the remaining registrant learns its reservation went */
	assert_int_equal(tt_lun_ua_pending(e->lun, &n3), UA_BIT(TT_UA_RESERVATIONS_RELEASED));
	clear_ua(e, &e->nexus);
	clear_ua(e, &n3);
	/* the preempted nexus lost its access */
	rw10(e, tt, &e->nexus, false);
	assert_conflict(tt);

	/* all registrants and SARK 0: every other registration goes */
	must(e, &e->nexus2, TT_PROUT_CLEAR, 0, K2, 0);
	clear_ua(e, &n3);
	must(e, &e->nexus, TT_PROUT_REGISTER, 0, 0, K1);
	must(e, &e->nexus2, TT_PROUT_REGISTER, 0, 0, K2);
	must(e, &n3, TT_PROUT_REGISTER, 0, 0, K3);
	must(e, &e->nexus, TT_PROUT_RESERVE, TT_PR_EA_AR, K1, 0);
	must(e, &e->nexus2, TT_PROUT_PREEMPT, TT_PR_WE, K2, 0);
	assert_int_equal(reservation(e, &key), TT_PR_WE);
	assert_true(key == K2);
	assert_int_equal(nkeys(e), 1);
	assert_int_equal(tt_lun_ua_pending(e->lun, &e->nexus), UA_BIT(TT_UA_REGISTRATIONS_PREEMPTED));
	assert_int_equal(tt_lun_ua_pending(e->lun, &n3), UA_BIT(TT_UA_REGISTRATIONS_PREEMPTED));
	clear_ua(e, &e->nexus);
	clear_ua(e, &n3);
	must(e, &e->nexus2, TT_PROUT_CLEAR, 0, K2, 0);

	tt_lun_nexus_del(e->lun, &n3);
	free(tt);
	env_free(e);
}

static void test_preempt_and_abort(void **state)
{
	struct env *e = env_new("ram:64M");
	struct tt_nexus n3;
	uint64_t key;

	(void)state;
	memset(&fe_rec, 0, sizeof(fe_rec));
	/* a nexus of a front end without abort_nexus: nothing to call, the rest happens */
	must(e, &e->nexus, TT_PROUT_REGISTER, 0, 0, K1);
	must(e, &e->nexus2, TT_PROUT_REGISTER, 0, 0, K2);
	must(e, &e->nexus, TT_PROUT_RESERVE, TT_PR_EA, K1, 0);
	must(e, &e->nexus2, TT_PROUT_PREEMPT_AND_ABORT, TT_PR_EA, K2, K1);
	assert_int_equal(fe_rec.aborts, 0);
	assert_int_equal(nkeys(e), 1);
	clear_ua(e, &e->nexus);

	/* a nexus of a front end that aborts: its op is called for it, once, with the LUN, even
	 * though the issuing nexus's front end has no such op */
	env_nexus_init(e, &n3, 3, "iqn.2024-01.org.test:host3");
	n3.fe = &test_fe_rec;
	tt_lun_nexus_add(e->lun, &n3);
	clear_ua(e, &n3);
	must(e, &n3, TT_PROUT_REGISTER, 0, 0, K1);
	must(e, &e->nexus2, TT_PROUT_PREEMPT_AND_ABORT, TT_PR_WE, K2, K1);
	assert_int_equal(fe_rec.aborts, 1);
	assert_ptr_equal(fe_rec.abort_lun, e->lun);
	assert_true(fe_rec.abort_ids[0] == n3.id);
	/* K1 no longer holds the reservation: it stays as it was */
	assert_int_equal(reservation(e, &key), TT_PR_EA);
	assert_true(key == K2);
	/* a plain PREEMPT aborts nothing */
	clear_ua(e, &n3);
	must(e, &n3, TT_PROUT_REGISTER, 0, 0, K1);
	must(e, &e->nexus2, TT_PROUT_PREEMPT, TT_PR_WE, K2, K1);
	assert_int_equal(fe_rec.aborts, 1);
	/* the issuing nexus is never aborted, even from a front end that aborts */
	clear_ua(e, &n3);
	must(e, &n3, TT_PROUT_REGISTER, 0, 0, K1);
	must(e, &n3, TT_PROUT_PREEMPT_AND_ABORT, TT_PR_EA, K1, K2);
	assert_int_equal(fe_rec.aborts, 1);
	clear_ua(e, &e->nexus2);
	must(e, &n3, TT_PROUT_CLEAR, 0, K1, 0);
	tt_lun_nexus_del(e->lun, &n3);
	env_free(e);
}

/* --- capabilities, full status, SPEC_I_PT, ALL_TG_PT, REGISTER AND MOVE ---------------------- */

static void test_report_capabilities(void **state)
{
	struct env *e = env_new("ram:64M");
	struct ttask *tt = ttask_new();

	(void)state;
	prin(e, tt, &e->nexus, TT_PRIN_REPORT_CAPABILITIES, 255);
	assert_good(tt);
	assert_int_equal(tt->t.data_len, 8);
	assert_int_equal(tt_get_be16(tt->data), 8);
	assert_int_equal(tt->data[2], 0x1c);        /* CRH, SIP_C, ATP_C; no PTPL_C */
	assert_int_equal(tt->data[3], 0x80 | 0x30); /* TMV, ALLOW COMMANDS 011b */
	assert_int_equal(tt_get_be16(tt->data + 4), 0xea01);
	free(tt);
	env_free(e);
}

/* Appends an iSCSI TransportID of @s (format 0 or 1) at @p; returns its length. */
static size_t put_tid(uint8_t *p, uint8_t format, const char *s)
{
	size_t n = (strlen(s) + 1 + 3) & ~(size_t)3;

	if (n < 20)
		n = 20;
	memset(p, 0, 4 + n);
	p[0] = (uint8_t)(format << 6 | 0x05);
	tt_put_be16(p + 2, (uint16_t)n);
	memcpy(p + 4, s, strlen(s));
	return 4 + n;
}

/* Finds the READ FULL STATUS descriptor whose key is @key. */
static const uint8_t *full_status_desc(const uint8_t *d, uint64_t key)
{
	uint32_t len = tt_get_be32(d + 4);

	for (uint32_t off = 8; off < 8 + len; off += 24 + tt_get_be32(d + off + 20))
		if (tt_get_be64(d + off) == key)
			return d + off;
	return NULL;
}

static void test_spec_i_pt_and_full_status(void **state)
{
	struct env *e = env_new("ram:64M");
	struct ttask *tt = ttask_new();
	uint8_t p[512] = { 0 };
	size_t n = 28;
	const uint8_t *d;

	(void)state;
	tt_put_be64(p + 8, K1);
	p[20] = 0x08; /* SPEC_I_PT */
	n += put_tid(p + n, 1, "iqn.2024-01.org.test:host2,i,0x000000000001");
	n += put_tid(p + n, 0, "iqn.2024-01.org.test:host3");
	tt_put_be32(p + 24, (uint32_t)(n - 28));
	prout_raw(e, tt, &e->nexus, TT_PROUT_REGISTER, 0, p, (uint32_t)n, (uint32_t)n);
	assert_good(tt);
	assert_int_equal(nkeys(e), 3);
	/* nexus2 is registered with K1: it can reserve */
	must(e, &e->nexus2, TT_PROUT_RESERVE, TT_PR_WE_RO, K1, 0);

	prin(e, tt, &e->nexus, TT_PRIN_READ_FULL_STATUS, 4096);
	assert_good(tt);
	assert_int_equal(tt->t.data_len, 8 + tt_get_be32(tt->data + 4));
	/* first descriptor: the sender, format 01b, not holder */
	d = tt->data + 8;
	assert_true(tt_get_be64(d) == K1);
	assert_int_equal(d[12], 0);
	assert_int_equal(tt_get_be16(d + 18), 1);
	assert_int_equal(d[24], 0x45);
	assert_string_equal((const char *)d + 28, "iqn.2024-01.org.test:host1,i,0x000000000001");
	assert_int_equal(tt_get_be32(d + 20) % 4, 0);
	/* second: nexus2, the holder */
	d += 24 + tt_get_be32(d + 20);
	assert_int_equal(d[12], 0x01);
	assert_int_equal(d[13], TT_PR_WE_RO);
	assert_string_equal((const char *)d + 28, "iqn.2024-01.org.test:host2,i,0x000000000001");
	/* third: a TransportID without ISID stays one */
	d += 24 + tt_get_be32(d + 20);
	assert_int_equal(d[24], 0x05);
	assert_string_equal((const char *)d + 28, "iqn.2024-01.org.test:host3");
	assert_int_equal(tt_get_be32(d + 20), 4 + 28);

	/* a registered nexus may not use SPEC_I_PT; a TransportID of another protocol is refused */
	must(e, &e->nexus2, TT_PROUT_CLEAR, 0, K1, 0);
	clear_ua(e, &e->nexus);
	p[28] = 0x00; /* FC */
	prout_raw(e, tt, &e->nexus, TT_PROUT_REGISTER, 0, p, (uint32_t)n, (uint32_t)n);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x26, 0x00);
	assert_int_equal(nkeys(e), 0);
	/* TransportID length past the list */
	p[28] = 0x45;
	tt_put_be32(p + 24, (uint32_t)(n - 28 + 4));
	prout_raw(e, tt, &e->nexus, TT_PROUT_REGISTER, 0, p, (uint32_t)n, (uint32_t)n);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x1a, 0x00);
	assert_int_equal(nkeys(e), 0);
	free(tt);
	env_free(e);
}

static void test_all_tg_pt(void **state)
{
	struct env *e = env_new("ram:64M");
	struct ttask *tt = ttask_new();
	struct tt_scsi_port port2 = { .fe = &test_fe,
				      .target_name = TEST_TARGET, .tpgt = 2, .rel_port_id = 2,
				       .port_group_id = 1 };
	struct tt_nexus other_port, no_all;

	(void)state;
	/* the same initiator port through target port 2 */
	env_nexus_init(e, &other_port, 3, "iqn.2024-01.org.test:host1");
	other_port.tport = &port2;
	env_nexus_init(e, &no_all, 4, "iqn.2024-01.org.test:host2");
	no_all.tport = &port2;
	tt_lun_nexus_add(e->lun, &other_port);
	tt_lun_nexus_add(e->lun, &no_all);
	clear_ua(e, &other_port);
	clear_ua(e, &no_all);

	prout(e, tt, &e->nexus, TT_PROUT_REGISTER, 0, 0, K1, 0x04); /* ALL_TG_PT */
	assert_good(tt);
	must(e, &e->nexus2, TT_PROUT_REGISTER, 0, 0, K2); /* port 1 only */
	assert_int_equal(nkeys(e), 2);
	/* registered through port 2 too */
	must(e, &other_port, TT_PROUT_RESERVE, TT_PR_EA_RO, K1, 0);
	rw10(e, tt, &e->nexus, true);
	assert_good(tt);
	/* host2 through port 2 is not registered */
	rw10(e, tt, &no_all, false);
	assert_conflict(tt);
	rw10(e, tt, &e->nexus2, false);
	assert_good(tt);

	prin(e, tt, &e->nexus, TT_PRIN_READ_FULL_STATUS, 4096);
	const uint8_t *d = full_status_desc(tt->data, K1);
	assert_non_null(d);
	assert_int_equal(d[12], 0x03); /* ALL_TG_PT, R_HOLDER */
	assert_int_equal(tt_get_be16(d + 18), 0);
	d = full_status_desc(tt->data, K2);
	assert_non_null(d);
	assert_int_equal(d[12], 0);
	assert_int_equal(tt_get_be16(d + 18), 1);

	must(e, &e->nexus, TT_PROUT_CLEAR, 0, K1, 0);
	tt_lun_nexus_del(e->lun, &other_port);
	tt_lun_nexus_del(e->lun, &no_all);
	free(tt);
	env_free(e);
}

static void register_and_move(struct env *e, struct ttask *tt, const struct tt_nexus *n,
			      uint8_t type, uint64_t rk, uint64_t sark, bool unreg, uint16_t port,
			      const char *tid)
{
	uint8_t p[256] = { 0 };
	size_t len;

	tt_put_be64(p, rk);
	tt_put_be64(p + 8, sark);
	p[17] = unreg ? 0x02 : 0;
	tt_put_be16(p + 18, port);
	len = put_tid(p + 24, 1, tid);
	tt_put_be32(p + 20, (uint32_t)len);
	prout_raw(e, tt, n, TT_PROUT_REGISTER_AND_MOVE, type, p, (uint32_t)(24 + len),
		  (uint32_t)(24 + len));
}

static void test_register_and_move(void **state)
{
	struct env *e = env_new("ram:64M");
	struct ttask *tt = ttask_new();
	const char *host2 = "iqn.2024-01.org.test:host2,i,0x000000000001";
	const char *host1 = "iqn.2024-01.org.test:host1,i,0x000000000001";
	uint64_t key;
	uint32_t g;

	(void)state;
	must(e, &e->nexus, TT_PROUT_REGISTER, 0, 0, K1);
	/* not a holder */
	register_and_move(e, tt, &e->nexus, TT_PR_WE, K1, K2, false, 1, host2);
	assert_conflict(tt);
	must(e, &e->nexus, TT_PROUT_RESERVE, TT_PR_WE, K1, 0);
	/* to itself */
	register_and_move(e, tt, &e->nexus, TT_PR_WE, K1, K2, false, 1, host1);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x26, 0x00);
	/* SARK 0 */
	register_and_move(e, tt, &e->nexus, TT_PR_WE, K1, 0, false, 1, host2);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x26, 0x00);
	g = generation(e);
	register_and_move(e, tt, &e->nexus, TT_PR_WE, K1, K2, true, 1, host2);
	assert_good(tt);
	assert_int_equal(generation(e), g + 1);
	assert_int_equal(reservation(e, &key), TT_PR_WE);
	assert_true(key == K2);
	assert_int_equal(nkeys(e), 1); /* UNREG: the sender is gone */
	rw10(e, tt, &e->nexus2, true);
	assert_good(tt);
	rw10(e, tt, &e->nexus, true);
	assert_conflict(tt);
	/* all registrants reservations cannot move */
	must(e, &e->nexus2, TT_PROUT_RELEASE, TT_PR_WE, K2, 0);
	must(e, &e->nexus2, TT_PROUT_RESERVE, TT_PR_WE_AR, K2, 0);
	register_and_move(e, tt, &e->nexus2, TT_PR_WE_AR, K2, K3, false, 1, host1);
	assert_conflict(tt);
	must(e, &e->nexus2, TT_PROUT_CLEAR, 0, K2, 0);
	free(tt);
	env_free(e);
}

/* --- RESERVE / RELEASE (6)/(10) ---------------------------------------------------------------- */

static void test_spc2_reservations(void **state)
{
	struct env *e = env_new("ram:64M");
	struct ttask *tt = ttask_new();
	uint8_t rsv10[10] = { TT_PR_OP_RESERVE_10 }, rel10[10] = { TT_PR_OP_RELEASE_10 };

	(void)state;
	cmd6(e, tt, &e->nexus, TT_PR_OP_RESERVE_6);
	assert_good(tt);
	cmd6(e, tt, &e->nexus, TT_PR_OP_RESERVE_6); /* again: GOOD */
	assert_good(tt);
	/* another nexus: conflict but for INQUIRY, REQUEST SENSE, REPORT LUNS, RELEASE */
	cmd6(e, tt, &e->nexus2, TT_PR_OP_RESERVE_6);
	assert_conflict(tt);
	cmd6(e, tt, &e->nexus2, TT_OP_TEST_UNIT_READY);
	assert_conflict(tt);
	cmd6(e, tt, &e->nexus2, TT_OP_MODE_SENSE_6);
	assert_conflict(tt);
	prin(e, tt, &e->nexus2, TT_PRIN_READ_KEYS, 255);
	assert_conflict(tt);
	cmd6(e, tt, &e->nexus2, TT_OP_INQUIRY);
	assert_good(tt);
	cmd6(e, tt, &e->nexus2, TT_PR_OP_RELEASE_6); /* does nothing */
	assert_good(tt);
	rw10(e, tt, &e->nexus2, false);
	assert_conflict(tt);
	rw10(e, tt, &e->nexus, true);
	assert_good(tt);
	/* the holder releases; RESERVE (10) from the other one now works */
	ttask_run(e, tt, &e->nexus, e->lun, rel10, 10, false, 0);
	assert_good(tt);
	ttask_run(e, tt, &e->nexus2, e->lun, rsv10, 10, false, 0);
	assert_good(tt);
	/* third party reservations are not supported */
	uint8_t third[10] = { TT_PR_OP_RESERVE_10, 0x10 };
	ttask_run(e, tt, &e->nexus2, e->lun, third, 10, false, 0);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
	/* I_T nexus loss releases it */
	tt_lun_nexus_del(e->lun, &e->nexus2);
	cmd6(e, tt, &e->nexus, TT_PR_OP_RESERVE_6);
	assert_good(tt);
	tt_lun_nexus_add(e->lun, &e->nexus2);
	clear_ua(e, &e->nexus2);
	/* a logical unit reset releases it */
	cmd6(e, tt, &e->nexus2, TT_PR_OP_RESERVE_6);
	assert_conflict(tt);
	tt_lun_pr_reset(e->lun);
	cmd6(e, tt, &e->nexus2, TT_PR_OP_RESERVE_6);
	assert_good(tt);
	cmd6(e, tt, &e->nexus2, TT_PR_OP_RELEASE_6);
	assert_good(tt);
	free(tt);
	env_free(e);
}

/* Compatible reservation handling (CRH=1) with persistent reservations around. */
static void test_spc2_with_persistent(void **state)
{
	struct env *e = env_new("ram:64M");
	struct ttask *tt = ttask_new();

	(void)state;
	must(e, &e->nexus, TT_PROUT_REGISTER, 0, 0, K1);
	/* registrations exist: a non-holder's RESERVE / RELEASE conflict */
	cmd6(e, tt, &e->nexus2, TT_PR_OP_RESERVE_6);
	assert_conflict(tt);
	cmd6(e, tt, &e->nexus, TT_PR_OP_RESERVE_6);
	assert_conflict(tt);
	must(e, &e->nexus, TT_PROUT_RESERVE, TT_PR_WE_RO, K1, 0);
	/* the holder: GOOD without effect */
	cmd6(e, tt, &e->nexus, TT_PR_OP_RESERVE_6);
	assert_good(tt);
	cmd6(e, tt, &e->nexus, TT_PR_OP_RELEASE_6);
	assert_good(tt);
	/* no SPC-2 reservation was made: nexus2 still reads */
	rw10(e, tt, &e->nexus2, false);
	assert_good(tt);
	/* a registrant under a registrants only type: GOOD too */
	must(e, &e->nexus2, TT_PROUT_REGISTER, 0, 0, K2);
	cmd6(e, tt, &e->nexus2, TT_PR_OP_RESERVE_6);
	assert_good(tt);
	must(e, &e->nexus, TT_PROUT_CLEAR, 0, K1, 0);
	clear_ua(e, &e->nexus2);

	/* an SPC-2 reservation makes PERSISTENT RESERVE OUT from others conflict */
	cmd6(e, tt, &e->nexus, TT_PR_OP_RESERVE_6);
	assert_good(tt);
	prout(e, tt, &e->nexus2, TT_PROUT_REGISTER, 0, 0, K2, 0);
	assert_conflict(tt);
	cmd6(e, tt, &e->nexus, TT_PR_OP_RELEASE_6);
	assert_good(tt);
	free(tt);
	env_free(e);
}

/* --- APTPL -------------------------------------------------------------------------------------- */

static void temp_path(char *path, size_t len)
{
	int fd;

	snprintf(path, len, "/tmp/tether-pr-test-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	unlink(path); /* the LUN starts without a state file */
}

static char *read_text(const char *path)
{
	static char buf[8192];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void test_aptpl_round_trip(void **state)
{
	char path[64];
	struct tt_lun_opts opts = { 0 };
	struct env *e;
	struct ttask *tt = ttask_new();
	uint64_t key;

	(void)state;
	temp_path(path, sizeof(path));
	opts.pr_file = path;
	e = env_new_opts("ram:64M", &opts);
	clear_ua(e, &e->nexus);
	clear_ua(e, &e->nexus2);
	prin(e, tt, &e->nexus, TT_PRIN_REPORT_CAPABILITIES, 255);
	assert_int_equal(tt->data[2] & 0x01, 0x01); /* PTPL_C */
	assert_int_equal(tt->data[3] & 0x01, 0x00); /* PTPL_A */
	/* without APTPL nothing is written */
	must(e, &e->nexus, TT_PROUT_REGISTER, 0, 0, K1);
	assert_null(read_text(path));
	prout(e, tt, &e->nexus2, TT_PROUT_REGISTER, 0, 0, K2, PROUT_APTPL_BIT);
	assert_good(tt);
	must(e, &e->nexus, TT_PROUT_RESERVE, TT_PR_WE_RO, K1, 0);
	prin(e, tt, &e->nexus, TT_PRIN_REPORT_CAPABILITIES, 255);
	assert_int_equal(tt->data[3] & 0x01, 0x01); /* PTPL_A */
	uint32_t g = generation(e);
	char *text = read_text(path);
	assert_non_null(text);
	assert_true(strncmp(text, "tether-pr 2\n", 12) == 0);
	assert_non_null(strstr(text, "iqn.2024-01.org.test:host1"));
	env_free(e);

	/* a new LUN on the same file: registrations and reservation are back */
	e = env_new_opts("ram:64M", &opts);
	clear_ua(e, &e->nexus);
	clear_ua(e, &e->nexus2);
	assert_int_equal(nkeys(e), 2);
	assert_int_equal(generation(e), g);
	assert_int_equal(reservation(e, &key), TT_PR_WE_RO);
	assert_true(key == K1);
	/* the same initiator port is the holder again; the unregistered cannot write */
	rw10(e, tt, &e->nexus, true);
	assert_good(tt);
	must(e, &e->nexus2, TT_PROUT_REGISTER, 0, K2, 0);
	rw10(e, tt, &e->nexus2, true);
	assert_conflict(tt);
	/* APTPL off: the file says so and the next LUN starts empty */
	must(e, &e->nexus, TT_PROUT_REGISTER, 0, K1, K3);
	text = read_text(path);
	assert_non_null(strstr(text, "aptpl 0"));
	env_free(e);
	e = env_new_opts("ram:64M", &opts);
	clear_ua(e, &e->nexus);
	clear_ua(e, &e->nexus2);
	assert_int_equal(nkeys(e), 0);
	env_free(e);

	/* a file that is not a state file: the LUN is not created */
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("tether-pr 1\nreg zz 1 any 0 x\n", f);
	fclose(f);
	struct tt_bdev *bdev;
	struct tt_lun *lun;
	char err[64];
	struct tt_loop *loop;
	assert_int_equal(tt_loop_create(&loop, 0), 0);
	assert_int_equal(tt_bdev_open("ram:1M", &bdev, err, sizeof(err)), 0);
	assert_int_equal(tt_lun_create(TEST_TARGET, 0, bdev, &opts, &lun), -EBADMSG);
	tt_bdev_put(bdev);
	tt_loop_destroy(loop);
	unlink(path);
	free(tt);
}

static void test_store_format_parse(void **state)
{
	struct tt_pr pr, back;
	struct tt_pr_id id = { .proto = &tt_scsi_proto_iscsi, .name = "iqn.a:b",
			       .isid = { 0x40, 0, 1, 2, 3, 4 }, .port = 7 };
	struct tt_pr_id any = { .proto = &tt_scsi_proto_iscsi, .name = "iqn.c:d", .any_isid = true,
				.all_ports = true };
	struct tt_pr_id srp = { .proto = &tt_scsi_proto_srp,
				.name = "fe800000000000000002c9030000abcd", .port = 2 };
	char *text, *again;

	(void)state;
	memset(&pr, 0, sizeof(pr));
	memset(&back, 0, sizeof(back));
	tt_list_init(&pr.regs);
	tt_list_init(&back.regs);
	pr.holder = tt_pr_reg_add(&pr, &id, K1);
	tt_pr_reg_add(&pr, &any, K2);
	tt_pr_reg_add(&pr, &srp, K3);
	pr.type = TT_PR_EA_RO;
	pr.generation = 42;
	pr.aptpl = true;
	text = tt_pr_store_format(&pr);
	assert_non_null(text);
	assert_int_equal(tt_pr_store_parse(&back, text), 0);
	/* the protocol of each registration is written down */
	assert_non_null(strstr(text, "tether-pr 2\n"));
	assert_non_null(strstr(text, " iscsi iqn.a:b,i,0x400001020304\n"));
	assert_non_null(strstr(text, " all 0 iscsi iqn.c:d\n"));
	assert_non_null(strstr(text, " 2 0 srp 0xfe800000000000000002c9030000abcd\n"));
	assert_int_equal(back.nregs, 3);
	assert_int_equal(back.type, TT_PR_EA_RO);
	assert_int_equal(back.generation, 42);
	assert_true(back.aptpl);
	assert_non_null(back.holder);
	assert_true(back.holder->key == K1);
	assert_int_equal(back.holder->id.port, 7);
	assert_memory_equal(back.holder->id.isid, id.isid, 6);
	assert_ptr_equal(back.holder->id.proto, &tt_scsi_proto_iscsi);
	{
		struct tt_pr_reg *last = tt_list_entry(back.regs.prev, struct tt_pr_reg, node);

		assert_ptr_equal(last->id.proto, &tt_scsi_proto_srp);
		assert_string_equal(last->id.name, srp.name);
		assert_true(tt_pr_id_overlap(&last->id, &srp));
	}
	again = tt_pr_store_format(&back);
	assert_string_equal(text, again);
	free(again);
	tt_pr_regs_clear(&back);
	/* damaged: unknown keyword, holder missing, bad magic */
	assert_int_equal(tt_pr_store_parse(&back, "tether-pr 1\nfoo 1\n"), -EBADMSG);
	assert_int_equal(tt_pr_store_parse(&back, "tether-pr 1\ntype 1\n"), -EBADMSG);
	assert_int_equal(tt_pr_store_parse(&back, "tether-pr 3\n"), -EBADMSG);
	/* a protocol the core does not know, or a name its table refuses */
	assert_int_equal(tt_pr_store_parse(&back, "tether-pr 2\nreg 1 1 0 fcp 0x1\n"), -EBADMSG);
	assert_int_equal(tt_pr_store_parse(&back, "tether-pr 2\nreg 1 1 0 srp 0x12\n"), -EBADMSG);
	/* version 1 fields in a version 2 file */
	assert_int_equal(tt_pr_store_parse(&back, "tether-pr 2\nreg 1 1 any 0 iqn.a:b\n"),
			 -EBADMSG);
	assert_int_equal(back.nregs, 0);
	free(text);
	tt_pr_regs_clear(&pr);
}

/* --- other protocols, and state files of earlier versions ------------------------------------ */

static const struct tt_scsi_frontend srp_fe = {
	.name = "test-srp",
	.proto = &tt_scsi_proto_srp,
	.abort_nexus = fe_rec_abort,
	.alua_changed = tt_scsi_fe_no_alua_changed,
	.pr_notice = tt_scsi_fe_no_pr_notice,
};

#define SRP_INI1 "0xfe800000000000000002c9030000abcd"
#define SRP_INI2 "fe800000000000000002C9030000ABCE"  /* without 0x, in upper case */

static void srp_nexus_init(struct env *e, struct tt_nexus *n, uint64_t id, const char *name)
{
	env_nexus_init(e, n, id, name);
	n->fe = &srp_fe;
	n->initiator_port[0] = '\0';
	memset(n->isid, 0, sizeof(n->isid));
}

static void test_srp_registrations(void **state)
{
	struct env *e = env_new("ram:64M");
	struct ttask *tt = ttask_new();
	struct tt_nexus s1, s2, look_alike;
	uint8_t p[512] = { 0 };
	const uint8_t *d;
	size_t n = 28;

	(void)state;
	srp_nexus_init(e, &s1, 11, SRP_INI1);
	srp_nexus_init(e, &s2, 12, SRP_INI2);
	/* an iSCSI nexus whose name spells the SRP identifier is another initiator port */
	env_nexus_init(e, &look_alike, 13, SRP_INI1);
	tt_lun_nexus_add(e->lun, &s1);
	tt_lun_nexus_add(e->lun, &s2);
	tt_lun_nexus_add(e->lun, &look_alike);
	clear_ua(e, &s1);
	clear_ua(e, &s2);
	clear_ua(e, &look_alike);

	must(e, &s1, TT_PROUT_REGISTER, 0, 0, K1);
	must(e, &s1, TT_PROUT_RESERVE, TT_PR_EA, K1, 0);
	rw10(e, tt, &s1, true);
	assert_good(tt);
	rw10(e, tt, &look_alike, false);
	assert_conflict(tt);
	rw10(e, tt, &s2, false);
	assert_conflict(tt);

	/* an iSCSI nexus registers the SRP initiator port s2 by its TransportID (SPC-4 7.6.4.5) */
	tt_put_be64(p + 8, K2);
	p[20] = 0x08; /* SPEC_I_PT */
	p[n] = 0x04;  /* SRP, format 00b */
	assert_int_equal(tt_scsi_hex_decode(SRP_INI2, p + n + 8, 16), 0);
	n += 24;
	tt_put_be32(p + 24, (uint32_t)(n - 28));
	prout_raw(e, tt, &e->nexus, TT_PROUT_REGISTER, 0, p, (uint32_t)n, (uint32_t)n);
	assert_good(tt);
	assert_int_equal(nkeys(e), 3);
	/* s2 holds K2 now: it preempts s1, whose front end is asked to abort its tasks */
	memset(&fe_rec, 0, sizeof(fe_rec));
	must(e, &s2, TT_PROUT_PREEMPT_AND_ABORT, TT_PR_WE, K2, K1);
	assert_int_equal(fe_rec.aborts, 1);
	assert_true(fe_rec.abort_ids[0] == s1.id);
	clear_ua(e, &s1);

	/* READ FULL STATUS: the SRP registrant as a 24-byte SRP TransportID */
	prin(e, tt, observer(e), TT_PRIN_READ_FULL_STATUS, 4096);
	assert_good(tt);
	/* the sender holds K2 too, with its iSCSI TransportID: the last descriptor is s2's */
	d = NULL;
	for (uint32_t off = 8; off < 8 + tt_get_be32(tt->data + 4);
	     off += 24 + tt_get_be32(tt->data + off + 20))
		d = tt->data + off;
	assert_non_null(d);
	assert_true(tt_get_be64(d) == K2);
	assert_int_equal(d[12], 0x01); /* R_HOLDER */
	assert_int_equal(tt_get_be32(d + 20), 24);
	assert_int_equal(d[24], 0x04);
	assert_memory_equal(d + 32, p + 28 + 8, 16);

	/* a short SRP TransportID runs past the list */
	tt_put_be32(p + 24, 20);
	prout_raw(e, tt, &e->nexus2, TT_PROUT_REGISTER, 0, p, 48, 48);
	assert_sense(tt, TT_SK_ILLEGAL_REQUEST, 0x1a, 0x00);

	must(e, &s2, TT_PROUT_CLEAR, 0, K2, 0);
	clear_ua(e, &e->nexus);
	tt_lun_nexus_del(e->lun, &s1);
	tt_lun_nexus_del(e->lun, &s2);
	tt_lun_nexus_del(e->lun, &look_alike);
	free(tt);
	env_free(e);
}

/* --- NVMe hosts (a front end without unit attentions) -------------------------------------- */

static struct {
	unsigned n;
	uint64_t nexus_id[8];
	unsigned ua[8];
} notices;

static int rec_pr_notice(struct tt_lun *lun, uint64_t nexus_id, unsigned ua)
{
	(void)lun;
	if (notices.n < 8) {
		notices.nexus_id[notices.n] = nexus_id;
		notices.ua[notices.n] = ua;
	}
	notices.n++;
	return 0;
}

static const struct tt_scsi_frontend nvme_fe = {
	.name = "test-nvme",
	.proto = &tt_scsi_proto_nvme,
	.abort_nexus = fe_rec_abort,
	.alua_changed = tt_scsi_fe_no_alua_changed,
	.pr_notice = rec_pr_notice,
	.no_ua = true,
};

#define HOST_A "000000000000400080000000000000aa"
#define HOST_B "000000000000400080000000000000bb"

static void nvme_nexus_init(struct env *e, struct tt_nexus *n, uint64_t id, const char *hostid)
{
	env_nexus_init(e, n, id, hostid);
	n->fe = &nvme_fe;
	n->tport = NULL; /* no SCSI target port: registrations cover every port */
	n->initiator_port[0] = '\0';
	memset(n->isid, 0, sizeof(n->isid));
}

static void test_nvme_hosts(void **state)
{
	struct env *e = env_new("ram:64M");
	struct ttask *tt = ttask_new();
	struct tt_nexus a1, a2, b;
	struct tt_lun_pr_status st;

	(void)state;
	nvme_nexus_init(e, &a1, 21, HOST_A);
	nvme_nexus_init(e, &a2, 22, HOST_A); /* a second controller of host A */
	nvme_nexus_init(e, &b, 23, HOST_B);
	tt_lun_nexus_add(e->lun, &a1);
	tt_lun_nexus_add(e->lun, &a2);
	tt_lun_nexus_add(e->lun, &b);
	/* no unit attention is kept for them (POWER ON would never be taken) */
	assert_int_equal(tt_lun_ua_pending(e->lun, &a1), 0);
	memset(&notices, 0, sizeof(notices));

	/* host A registers through a1 (ALL_TG_PT, as the NVMe front end does): a2 is registered */
	prout(e, tt, &a1, TT_PROUT_REGISTER, 0, 0, K1, 0x04);
	assert_good(tt);
	prout(e, tt, &a2, TT_PROUT_RESERVE, TT_PR_WE, K1, 0, 0);
	assert_good(tt);
	must(e, &b, TT_PROUT_REGISTER, 0, 0, K2);
	assert_int_equal(tt_lun_pr_check(e->lun, &a1, true), 0);
	assert_int_equal(tt_lun_pr_check(e->lun, &b, false), 0);
	assert_int_equal(tt_lun_pr_check(e->lun, &b, true), 1);
	/* an iSCSI initiator sees the same reservation */
	rw10(e, tt, &e->nexus, true);
	assert_conflict(tt);
	rw10(e, tt, &e->nexus, false);
	assert_good(tt);

	assert_int_equal(tt_lun_pr_status(e->lun, &st), 0);
	assert_int_equal(st.nregs, 2);
	assert_int_equal(st.type, TT_PR_WE);
	assert_ptr_equal(st.regs[0].id.proto, &tt_scsi_proto_nvme);
	assert_string_equal(st.regs[0].id.name, HOST_A);
	assert_true(st.regs[0].id.all_ports);
	assert_true(st.regs[0].key == K1 && st.regs[0].holder);
	free(st.regs);

	/* B preempts A: both controllers of A are told (no unit attention kept), not B */
	must(e, &b, TT_PROUT_PREEMPT, TT_PR_EA, K2, K1);
	assert_int_equal(notices.n, 2);
	assert_true(notices.nexus_id[0] == a1.id || notices.nexus_id[1] == a1.id);
	assert_true(notices.nexus_id[0] == a2.id || notices.nexus_id[1] == a2.id);
	assert_int_equal(notices.ua[0], TT_UA_REGISTRATIONS_PREEMPTED);
	assert_int_equal(tt_lun_ua_pending(e->lun, &a1), 0);
	/* exclusive access: A reads no more */
	assert_int_equal(tt_lun_pr_check(e->lun, &a2, false), 1);
	assert_int_equal(tt_lun_pr_check(e->lun, &b, false), 0);

	must(e, &b, TT_PROUT_CLEAR, 0, K2, 0);
	assert_int_equal(tt_lun_pr_check(e->lun, &a1, true), 0);
	tt_lun_nexus_del(e->lun, &a1);
	tt_lun_nexus_del(e->lun, &a2);
	tt_lun_nexus_del(e->lun, &b);
	free(tt);
	env_free(e);
}

/* A state file written before the protocol was recorded (version 1, iSCSI only) still loads:
 * its registrations and reservation are back, and the next change rewrites it as version 2. */
static void test_store_version_1_loads(void **state)
{
	char path[64];
	struct tt_lun_opts opts = { 0 };
	struct tt_nexus upper;
	struct ttask *tt = ttask_new();
	struct env *e;
	uint64_t key;
	FILE *f;

	(void)state;
	temp_path(path, sizeof(path));
	opts.pr_file = path;
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("tether-pr 1\n"
	      "generation 7\n"
	      "aptpl 1\n"
	      "type 5\n"
	      "reg 1111111111111111 1 000000000001 1 iqn.2024-01.org.test:host1\n"
	      "reg 3333333333333333 all any 0 iqn.2024-01.org.test:host3\n", f);
	fclose(f);

	e = env_new_opts("ram:64M", &opts);
	clear_ua(e, &e->nexus);
	clear_ua(e, &e->nexus2);
	assert_int_equal(nkeys(e), 2);
	assert_int_equal(generation(e), 7);
	assert_int_equal(reservation(e, &key), TT_PR_WE_RO);
	assert_true(key == K1);
	/* the holder is host1's initiator port; iSCSI names compare without case */
	env_nexus_init(e, &upper, 5, "IQN.2024-01.ORG.TEST:HOST1");
	tt_lun_nexus_add(e->lun, &upper);
	clear_ua(e, &upper);
	rw10(e, tt, &upper, true);
	assert_good(tt);
	rw10(e, tt, &e->nexus2, true);
	assert_conflict(tt);
	/* host3 was registered for every ISID and every port */
	{
		struct tt_nexus h3;

		env_nexus_init(e, &h3, 6, "iqn.2024-01.org.test:host3");
		h3.isid[5] = 9;
		snprintf(h3.initiator_port, sizeof(h3.initiator_port),
			 "iqn.2024-01.org.test:host3,i,0x000000000009");
		tt_lun_nexus_add(e->lun, &h3);
		clear_ua(e, &h3);
		rw10(e, tt, &h3, true);
		assert_good(tt);
		tt_lun_nexus_del(e->lun, &h3);
	}

	/* a change rewrites the file in the current format */
	prout(e, tt, &e->nexus2, TT_PROUT_REGISTER, 0, 0, K2, PROUT_APTPL_BIT);
	assert_good(tt);
	char *text = read_text(path);
	assert_non_null(text);
	assert_true(strncmp(text, "tether-pr 2\n", 12) == 0);
	assert_non_null(strstr(text, " 1 1 iscsi iqn.2024-01.org.test:host1,i,0x000000000001\n"));
	assert_non_null(strstr(text, " all 0 iscsi iqn.2024-01.org.test:host3\n"));
	tt_lun_nexus_del(e->lun, &upper);
	env_free(e);

	/* and that file loads again */
	e = env_new_opts("ram:64M", &opts);
	clear_ua(e, &e->nexus);
	clear_ua(e, &e->nexus2);
	assert_int_equal(nkeys(e), 3);
	assert_int_equal(reservation(e, &key), TT_PR_WE_RO);
	assert_true(key == K1);
	must(e, &e->nexus, TT_PROUT_CLEAR, 0, K1, 0);
	clear_ua(e, &e->nexus2);
	env_free(e);
	unlink(path);
	free(tt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register),
		cmocka_unit_test(test_parameter_checks),
		cmocka_unit_test(test_reserve_release_each_type),
		cmocka_unit_test(test_conflict_table),
		cmocka_unit_test(test_unregister_holder),
		cmocka_unit_test(test_clear),
		cmocka_unit_test(test_preempt_registrations),
		cmocka_unit_test(test_preempt_reservation),
		cmocka_unit_test(test_preempt_and_abort),
		cmocka_unit_test(test_report_capabilities),
		cmocka_unit_test(test_spec_i_pt_and_full_status),
		cmocka_unit_test(test_all_tg_pt),
		cmocka_unit_test(test_register_and_move),
		cmocka_unit_test(test_spc2_reservations),
		cmocka_unit_test(test_spc2_with_persistent),
		cmocka_unit_test(test_aptpl_round_trip),
		cmocka_unit_test(test_store_format_parse),
		cmocka_unit_test(test_srp_registrations),
		cmocka_unit_test(test_nvme_hosts),
		cmocka_unit_test(test_store_version_1_loads),
		cmocka_unit_test(test_stale_copy_busy),
	};

	return tt_run_group("pr_test", tests, NULL, NULL);
}
