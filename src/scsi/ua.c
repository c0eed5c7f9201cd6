/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit attention conditions (SPC-4 5.14, SAM-5 5.14): one set of pending conditions per I_T nexus
 * and logical unit, kept under lun->lock. The data path reads an atomic count of nexuses with
 * something pending and takes the lock only when it is non-zero.
 */
#include "scsi/core.h"
#include "scsi/cdb.h"
#include "scsi/pr.h"

#include <stdlib.h>

static const uint16_t ua_asc[TT_UA_COUNT] = {
	[TT_UA_POWER_ON] = 0x2900,
	[TT_UA_LUN_RESET] = 0x2903,
	[TT_UA_NEXUS_LOSS] = 0x2907,
	[TT_UA_RESERVATIONS_PREEMPTED] = 0x2a03,
	[TT_UA_RESERVATIONS_RELEASED] = 0x2a04,
	[TT_UA_REGISTRATIONS_PREEMPTED] = 0x2a05,
	[TT_UA_ALUA_STATE_CHANGED] = 0x2a06,
	[TT_UA_MODE_PARAMETERS_CHANGED] = 0x2a01,
	[TT_UA_CAPACITY_CHANGED] = 0x2a09,
	[TT_UA_INQUIRY_DATA_CHANGED] = 0x3f03,
	[TT_UA_REPORTED_LUNS_CHANGED] = 0x3f0e,
};

#define UA_RESETS ((1u << TT_UA_POWER_ON) | (1u << TT_UA_LUN_RESET) | (1u << TT_UA_NEXUS_LOSS))

/* under lun->lock */
static struct tt_lu_nexus *nexus_find(struct tt_lu_state *st, uint64_t id)
{
	struct tt_list *pos;

	tt_list_for_each(pos, &st->nexuses) {
		struct tt_lu_nexus *n = tt_list_entry(pos, struct tt_lu_nexus, node);
		if (n->id == id)
			return n;
	}
	return NULL;
}

/* under lun->lock: every change of n->ua goes through here to keep the count right */
static void nexus_set_ua(struct tt_lu_state *st, struct tt_lu_nexus *n, uint32_t ua)
{
	if (!n->ua && ua)
		__atomic_add_fetch(&st->ua_nexuses, 1, __ATOMIC_RELEASE);
	else if (n->ua && !ua)
		__atomic_sub_fetch(&st->ua_nexuses, 1, __ATOMIC_RELEASE);
	n->ua = ua;
}

#define UA_RESERVATIONS ((1u << TT_UA_RESERVATIONS_PREEMPTED) | \
			 (1u << TT_UA_RESERVATIONS_RELEASED) | (1u << TT_UA_REGISTRATIONS_PREEMPTED))

/* under lun->lock */
static void nexus_raise(struct tt_lun *lun, struct tt_lu_nexus *n, enum tt_ua ua)
{
	struct tt_lu_state *st = lun->state;
	uint32_t bit = 1u << ua;

	if (n->fe && n->fe->no_ua) {
		/* nothing kept: it would never be taken, and would slow every nexus's commands */
		if (bit & UA_RESERVATIONS)
			n->fe->pr_notice(lun, n->id, ua);
		return;
	}

	/* a reset supersedes everything that was pending before it */
	if (bit & UA_RESETS)
		nexus_set_ua(st, n, (n->ua & UA_RESETS) | bit);
	else
		nexus_set_ua(st, n, n->ua | bit);
}

/* under lun->lock */
static struct tt_lu_nexus *nexus_get(struct tt_lun *lun, uint64_t id,
				     const struct tt_scsi_frontend *fe)
{
	struct tt_lu_state *st = lun->state;
	struct tt_lu_nexus *n = nexus_find(st, id);

	if (n) {
		if (!n->fe)
			n->fe = fe;
		return n;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->id = id;
	n->fe = fe;
	tt_list_add_tail(&st->nexuses, &n->node);
	nexus_raise(lun, n, TT_UA_POWER_ON);
	return n;
}

void tt_lun_nexus_add(struct tt_lun *lun, const struct tt_nexus *nexus)
{
	pthread_mutex_lock(&lun->lock);
	nexus_get(lun, nexus->id, nexus->fe);
	tt_pr_nexus_add(lun, nexus);
	pthread_mutex_unlock(&lun->lock);
}

void tt_lun_nexus_del(struct tt_lun *lun, const struct tt_nexus *nexus)
{
	struct tt_lu_nexus *n;

	pthread_mutex_lock(&lun->lock);
	n = nexus_find(lun->state, nexus->id);
	if (n) {
		nexus_set_ua(lun->state, n, 0);
		tt_list_del(&n->node);
		free(n);
	}
	tt_pr_nexus_del(lun, nexus);
	pthread_mutex_unlock(&lun->lock);
}

void tt_ua_raise_locked(struct tt_lun *lun, uint64_t nexus_id, enum tt_ua ua)
{
	struct tt_lu_nexus *n = nexus_find(lun->state, nexus_id);

	if (n && ua < TT_UA_COUNT)
		nexus_raise(lun, n, ua);
}

void tt_ua_free_all(struct tt_lun *lun)
{
	struct tt_list *pos;

	while ((pos = tt_list_pop(&lun->state->nexuses)))
		free(tt_list_entry(pos, struct tt_lu_nexus, node));
	lun->state->ua_nexuses = 0;
}

void tt_lun_ua_raise(struct tt_lun *lun, enum tt_ua ua, const struct tt_nexus *except)
{
	struct tt_list *pos;

	if (ua >= TT_UA_COUNT)
		return;
	pthread_mutex_lock(&lun->lock);
	tt_list_for_each(pos, &lun->state->nexuses) {
		struct tt_lu_nexus *n = tt_list_entry(pos, struct tt_lu_nexus, node);
		if (!except || n->id != except->id)
			nexus_raise(lun, n, ua);
	}
	pthread_mutex_unlock(&lun->lock);
}

void tt_lun_ua_raise_one(struct tt_lun *lun, const struct tt_nexus *nexus, enum tt_ua ua)
{
	struct tt_lu_nexus *n;

	if (ua >= TT_UA_COUNT)
		return;
	pthread_mutex_lock(&lun->lock);
	n = nexus_get(lun, nexus->id, nexus->fe);
	if (n)
		nexus_raise(lun, n, ua);
	pthread_mutex_unlock(&lun->lock);
}

uint32_t tt_lun_ua_pending(struct tt_lun *lun, const struct tt_nexus *nexus)
{
	struct tt_lu_nexus *n;
	uint32_t ua = 0;

	pthread_mutex_lock(&lun->lock);
	n = nexus_find(lun->state, nexus->id);
	if (n)
		ua = n->ua;
	pthread_mutex_unlock(&lun->lock);
	return ua;
}

bool tt_ua_take(struct tt_lun *lun, const struct tt_nexus *nexus, uint8_t *asc, uint8_t *ascq)
{
	struct tt_lu_nexus *n;
	bool found = false;

	if (!nexus || !__atomic_load_n(&lun->state->ua_nexuses, __ATOMIC_ACQUIRE))
		return false;
	pthread_mutex_lock(&lun->lock);
	n = nexus_find(lun->state, nexus->id);
	if (n && n->ua) {
		unsigned ua = (unsigned)__builtin_ctz(n->ua);
		*asc = (uint8_t)(ua_asc[ua] >> 8);
		*ascq = (uint8_t)ua_asc[ua];
		nexus_set_ua(lun->state, n, n->ua & ~(1u << ua));
		found = true;
	}
	pthread_mutex_unlock(&lun->lock);
	return found;
}

void tt_ua_clear(struct tt_lun *lun, const struct tt_nexus *nexus, enum tt_ua ua)
{
	struct tt_lu_nexus *n;

	if (!nexus || !__atomic_load_n(&lun->state->ua_nexuses, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&lun->lock);
	n = nexus_find(lun->state, nexus->id);
	if (n)
		nexus_set_ua(lun->state, n, n->ua & ~(1u << ua));
	pthread_mutex_unlock(&lun->lock);
}

bool tt_ua_check(struct tt_scsi_task *task)
{
	uint8_t asc, ascq;

	if (!tt_ua_take(task->lun, task->nexus, &asc, &ascq))
		return false;
	tt_scsi_set_sense(task, TT_SK_UNIT_ATTENTION, asc, ascq);
	return true;
}
