/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reservations (SPC-4 5.13, 6.15, 6.16; SPC-2 RESERVE/RELEASE):
 * - registrations are kept per I_T nexus identity (initiator port x relative target port), so
 *   they survive the session that made them; the I_T nexuses currently seeing the LUN are kept
 *   too, to deliver unit attentions and aborts to them;
 * - PERSISTENT RESERVE OUT runs under lun->lock as one uninterrupted change: the handler edits
 *   the state and records its effects (unit attentions, aborts); with APTPL the new state is
 *   written to the state file before GOOD is returned (a failed write restores the old state);
 * - the RESERVATION CONFLICT check reads an atomic flag first: with no reservation of either kind
 *   the data path takes no lock.
 * Compatible reservation handling (CRH=1, SPC-4 5.13.3): RESERVE/RELEASE from a persistent
 * reservation holder (or a registrant under a registrants only / all registrants reservation)
 * succeed without effect; other RESERVE/RELEASE conflict while registrations exist.
 */
#include "scsi/pr.h"
#include "scsi/cdb.h"
#include "base/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ASC_INVALID_RELEASE_OF_PR        0x2604
#define ASC_INSUFFICIENT_REG_RESOURCES   0x5504

#define PROUT_BASIC_LEN   24  /* parameter list without TransportIDs */
#define PROUT_SPEC_I_PT   0x08
#define PROUT_ALL_TG_PT   0x04
#define PROUT_APTPL       0x01

/* --- registrations ----------------------------------------------------------------------------- */

static struct tt_pr *lun_pr(const struct tt_lun *lun)
{
	return lun->state->pr;
}

static struct tt_pr_reg *find_reg(const struct tt_pr *pr, const struct tt_pr_id *id)
{
	struct tt_list *pos;

	tt_list_for_each(pos, &pr->regs) {
		struct tt_pr_reg *r = tt_list_entry(pos, struct tt_pr_reg, node);
		if (tt_pr_id_overlap(&r->id, id))
			return r;
	}
	return NULL;
}

struct tt_pr_reg *tt_pr_reg_add(struct tt_pr *pr, const struct tt_pr_id *id, uint64_t key)
{
	struct tt_pr_reg *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->id = *id;
	r->key = key;
	tt_list_add_tail(&pr->regs, &r->node);
	pr->nregs++;
	return r;
}

static void update_active(struct tt_pr *pr)
{
	__atomic_store_n(&pr->active, pr->type != TT_PR_NONE || pr->spc2_reserved, __ATOMIC_RELEASE);
}

static void release_reservation(struct tt_pr *pr)
{
	pr->type = TT_PR_NONE;
	pr->holder = NULL;
}

void tt_pr_regs_clear(struct tt_pr *pr)
{
	struct tt_list *pos;

	while ((pos = tt_list_pop(&pr->regs)))
		free(tt_list_entry(pos, struct tt_pr_reg, node));
	pr->nregs = 0;
	release_reservation(pr);
}

static bool is_holder(const struct tt_pr *pr, const struct tt_pr_reg *reg)
{
	if (!reg || pr->type == TT_PR_NONE)
		return false;
	return tt_pr_type_all_reg(pr->type) || pr->holder == reg;
}

/* Removes @reg; a holder's reservation goes with it (for all registrants: with the last one). */
static void reg_remove(struct tt_pr *pr, struct tt_pr_reg *reg)
{
	if (pr->holder == reg)
		release_reservation(pr);
	tt_list_del(&reg->node);
	free(reg);
	pr->nregs--;
	if (pr->nregs == 0)
		release_reservation(pr);
}

/* --- what a PERSISTENT RESERVE OUT does besides changing the state ------------------------------- */

struct pr_effect {
	uint64_t nexus_id;
	const struct tt_scsi_frontend *fe;  /* the nexus's: PREEMPT AND ABORT goes through it */
	uint8_t ua;              /* enum tt_ua; TT_UA_COUNT: none */
	bool abort;              /* PREEMPT AND ABORT: abort the nexus's tasks on the LUN */
};

struct pr_effects {
	struct pr_effect *v;
	unsigned n, cap;
	bool nomem;
};

/* PREEMPT AND ABORT: abort the tasks of every nexus the effects mark, through its front end
 * (called without the LUN's lock). */
static void fx_abort(struct tt_lun *lun, const struct pr_effects *fx)
{
	for (unsigned i = 0; i < fx->n; i++) {
		const struct pr_effect *e = &fx->v[i];
		int rc;

		if (!e->abort)
			continue;
		rc = e->fe->abort_nexus(lun, e->nexus_id);
		if (rc < 0)
			tt_warn("scsi", "LUN %llu: PREEMPT AND ABORT: tasks of nexus %llu (%s) "
				"not aborted: %s", (unsigned long long)lun->id,
				(unsigned long long)e->nexus_id, e->fe->name, strerror(-rc));
	}
}

static void fx_add(struct pr_effects *fx, const struct tt_pr_nexus *n, uint8_t ua, bool abort)
{
	uint64_t nexus_id = n->nexus_id;

	for (unsigned i = 0; i < fx->n; i++) {
		if (fx->v[i].nexus_id == nexus_id && fx->v[i].ua == ua) {
			fx->v[i].abort |= abort;
			return;
		}
	}
	if (fx->n == fx->cap) {
		unsigned cap = fx->cap ? fx->cap * 2 : 8;
		struct pr_effect *v = realloc(fx->v, cap * sizeof(*v));
		if (!v) {
			fx->nomem = true;
			return;
		}
		fx->v = v;
		fx->cap = cap;
	}
	fx->v[fx->n++] = (struct pr_effect){ .nexus_id = nexus_id, .fe = n->fe, .ua = ua,
					     .abort = abort };
}

/* --- PERSISTENT RESERVE OUT --------------------------------------------------------------------- */

enum pr_result {
	PR_GOOD,
	PR_CONFLICT,          /* RESERVATION CONFLICT status */
	PR_INVALID_CDB,       /* INVALID FIELD IN CDB at byte/bit */
	PR_INVALID_PARAM,     /* INVALID FIELD IN PARAMETER LIST at byte/bit */
	PR_FAIL,              /* ILLEGAL REQUEST with asc */
	PR_INTERNAL,          /* HARDWARE ERROR, INTERNAL TARGET FAILURE */
	PR_UNREACHABLE,       /* shared state: its keeper did not answer (HARDWARE ERROR, asc) */
};

struct pr_out {
	/* the request */
	uint64_t me_nexus;              /* nexus id, excluded from effects */
	struct tt_pr_id me;
	uint8_t sa, scope, type;
	uint64_t rk, sark;
	bool spec_i_pt, all_tg_pt, aptpl, unreg;
	uint16_t move_port;             /* REGISTER AND MOVE: relative target port identifier */
	struct tt_pr_id *tids;          /* parsed TransportIDs */
	unsigned ntids;
	const struct tt_list *nexuses;  /* the I_T nexuses seeing the LUN (struct tt_pr_nexus) */

	/* the outcome */
	enum pr_result result;
	uint16_t byte;
	int bit;
	uint16_t asc;
	bool changed;                   /* the state changed: persist it */
	struct pr_effects fx;
	struct tt_pr_events events;     /* shared state: the effects by registration, for others */
	bool events_nomem;
};

/* @ua (and an abort) for every I_T nexus of @reg that sees the LUN, except the sender. */
static void fx_reg(struct pr_out *o, const struct tt_pr_reg *reg, enum tt_ua ua, bool abort)
{
	const struct tt_list *pos;

	for (pos = o->nexuses->next; pos != o->nexuses; pos = pos->next) {
		struct tt_pr_nexus *n = tt_list_entry(pos, struct tt_pr_nexus, node);
		if (n->nexus_id != o->me_nexus && tt_pr_id_overlap(&reg->id, &n->id))
			fx_add(&o->fx, n, (uint8_t)ua, abort);
	}
	if (tt_pr_events_add(&o->events, &reg->id, (uint8_t)ua, abort) < 0)
		o->events_nomem = true;
}

/* @ua for every registered I_T nexus except the sender. */
static void fx_all_regs(struct tt_pr *pr, struct pr_out *o, enum tt_ua ua)
{
	struct tt_list *pos;

	tt_list_for_each(pos, &pr->regs)
		fx_reg(o, tt_list_entry(pos, struct tt_pr_reg, node), ua, false);
}

static void out_set(struct pr_out *o, enum pr_result r, uint16_t byte, int bit)
{
	o->result = r;
	o->byte = byte;
	o->bit = bit;
}

static void out_fail(struct pr_out *o, uint16_t asc)
{
	o->result = PR_FAIL;
	o->asc = asc;
}

/*
 * Parses one TransportID (SPC-4 7.6.4) at @p (@len bytes left) into @id, by the protocol its
 * PROTOCOL IDENTIFIER names; returns its length, or -EINVAL (bad field, or a protocol the core
 * does not know) / -ENOSPC (runs past @len).
 */
static int parse_tid(const uint8_t *p, size_t len, struct tt_pr_id *id)
{
	const struct tt_scsi_proto *proto;
	int n;

	if (len < 4)
		return -ENOSPC;
	proto = tt_scsi_proto_find(p[0] & 0x0f);
	if (!proto)
		return -EINVAL;
	n = proto->tid_parse(p, len, id);
	if (n == -ENOSPC || n == -EINVAL || n > 0)
		return n;
	return -EINVAL;
}

/* TransportIDs of SPEC_I_PT (@p, @len bytes): each one with the receiving target port. */
static bool parse_tids(struct pr_out *o, const uint8_t *p, size_t len, uint16_t base)
{
	size_t off = 0;

	while (off < len) {
		struct tt_pr_id id;
		int n = parse_tid(p + off, len - off, &id);

		if (n == -ENOSPC) {
			out_fail(o, TT_ASC_PARAMETER_LIST_LENGTH_ERROR);
			return false;
		}
		if (n < 0) {
			out_set(o, PR_INVALID_PARAM, (uint16_t)(base + off), -1);
			return false;
		}
		id.port = o->me.port;
		id.all_ports = o->all_tg_pt || id.proto->all_ports;
		struct tt_pr_id *v = realloc(o->tids, (o->ntids + 1) * sizeof(*v));
		if (!v) {
			o->result = PR_INTERNAL;
			return false;
		}
		o->tids = v;
		o->tids[o->ntids++] = id;
		off += (size_t)n;
	}
	return true;
}

/* REGISTER and REGISTER AND IGNORE EXISTING KEY (SPC-4 5.13.7). */
static void do_register(struct tt_pr *pr, struct pr_out *o)
{
	bool ignore = o->sa == TT_PROUT_REGISTER_AND_IGNORE;
	struct tt_pr_reg *reg = find_reg(pr, &o->me);

	if (!reg) {
		struct tt_pr_id me = o->me;

		if (!ignore && o->rk != 0) {
			o->result = PR_CONFLICT;
			return;
		}
		if (o->sark == 0)
			return; /* nothing to register: GOOD */
		me.all_ports = o->all_tg_pt || me.proto->all_ports;
		/* every I_T nexus to register must be new, and fit */
		if (me.all_ports && find_reg(pr, &me)) {
			out_set(o, PR_INVALID_PARAM, 20, 2); /* registered through another port */
			return;
		}
		for (unsigned i = 0; i < o->ntids; i++) {
			bool self = tt_pr_id_overlap(&o->tids[i], &o->me);
			if (!self && find_reg(pr, &o->tids[i])) {
				out_set(o, PR_INVALID_PARAM, PROUT_BASIC_LEN + 4, -1);
				return;
			}
		}
		if (pr->nregs + 1 + o->ntids > TT_PR_MAX_REGS) {
			out_fail(o, ASC_INSUFFICIENT_REG_RESOURCES);
			return;
		}
		if (!tt_pr_reg_add(pr, &me, o->sark)) {
			o->result = PR_INTERNAL;
			return;
		}
		for (unsigned i = 0; i < o->ntids; i++) {
			if (tt_pr_id_overlap(&o->tids[i], &o->me) || find_reg(pr, &o->tids[i]))
				continue; /* the sender itself, or listed twice */
			if (!tt_pr_reg_add(pr, &o->tids[i], o->sark)) {
				o->result = PR_INTERNAL;
				return;
			}
		}
	} else {
		if (!ignore && o->rk != reg->key) {
			o->result = PR_CONFLICT;
			return;
		}
		if (o->spec_i_pt) {
			out_set(o, PR_INVALID_PARAM, 20, 3);
			return;
		}
		if (o->sark != 0) {
			reg->key = o->sark;
		} else {
			/* unregister: a holder's reservation ends with it (SPC-4 5.13.11.3); the
			 * other registrants learn it for registrants only types */
			uint8_t type = pr->type;
			bool held = pr->holder == reg;

			reg_remove(pr, reg);
			if (held && (type == TT_PR_WE_RO || type == TT_PR_EA_RO))
				fx_all_regs(pr, o, TT_UA_RESERVATIONS_RELEASED);
		}
	}
	pr->aptpl = o->aptpl;
	pr->generation++;
	o->changed = true;
}

/* RESERVE (SPC-4 5.13.9) */
static void do_reserve(struct tt_pr *pr, struct pr_out *o, struct tt_pr_reg *reg)
{
	if (pr->type != TT_PR_NONE) {
		/* the holder asking again for the same type succeeds; anything else conflicts */
		if (!is_holder(pr, reg) || pr->type != o->type)
			o->result = PR_CONFLICT;
		return;
	}
	pr->type = o->type;
	pr->holder = tt_pr_type_all_reg(o->type) ? NULL : reg;
	o->changed = true;
}

/* RELEASE (SPC-4 5.13.11.2) */
static void do_release(struct tt_pr *pr, struct pr_out *o, struct tt_pr_reg *reg)
{
	uint8_t type = pr->type;

	if (type == TT_PR_NONE || !is_holder(pr, reg))
		return; /* GOOD, nothing released */
	if (o->scope != 0 || o->type != type) {
		out_fail(o, ASC_INVALID_RELEASE_OF_PR);
		return;
	}
	release_reservation(pr);
	if (type != TT_PR_WE && type != TT_PR_EA)
		fx_all_regs(pr, o, TT_UA_RESERVATIONS_RELEASED);
	o->changed = true;
}

/* CLEAR (SPC-4 5.13.11.2.4) */
static void do_clear(struct tt_pr *pr, struct pr_out *o)
{
	fx_all_regs(pr, o, TT_UA_RESERVATIONS_PREEMPTED);
	tt_pr_regs_clear(pr);
	pr->generation++;
	o->changed = true;
}

/* Removes every registration with @key (but @keep): REGISTRATIONS PREEMPTED; returns how many. */
static unsigned preempt_key(struct tt_pr *pr, struct pr_out *o, uint64_t key,
			    const struct tt_pr_reg *keep)
{
	bool abort = o->sa == TT_PROUT_PREEMPT_AND_ABORT;
	struct tt_list *pos, *tmp;
	unsigned n = 0;

	tt_list_for_each_safe(pos, tmp, &pr->regs) {
		struct tt_pr_reg *r = tt_list_entry(pos, struct tt_pr_reg, node);
		if (r == keep || r->key != key)
			continue;
		fx_reg(o, r, TT_UA_REGISTRATIONS_PREEMPTED, abort);
		reg_remove(pr, r);
		n++;
	}
	return n;
}

/* PREEMPT and PREEMPT AND ABORT (SPC-4 5.13.11.4) */
static void do_preempt(struct tt_pr *pr, struct pr_out *o, struct tt_pr_reg *reg)
{
	bool abort = o->sa == TT_PROUT_PREEMPT_AND_ABORT;
	struct tt_list *pos, *tmp;

	if (pr->type != TT_PR_NONE && tt_pr_type_all_reg(pr->type) && o->sark == 0) {
		/* all registrants: everyone else goes, the sender holds a new reservation (it is
		 * the only registrant left: nobody to tell RESERVATIONS RELEASED) */
		tt_list_for_each_safe(pos, tmp, &pr->regs) {
			struct tt_pr_reg *r = tt_list_entry(pos, struct tt_pr_reg, node);
			if (r == reg)
				continue;
			fx_reg(o, r, TT_UA_REGISTRATIONS_PREEMPTED, abort);
			reg_remove(pr, r);
		}
		pr->type = o->type;
		pr->holder = tt_pr_type_all_reg(o->type) ? NULL : reg;
	} else if (pr->type != TT_PR_NONE && !tt_pr_type_all_reg(pr->type) &&
		   o->sark == pr->holder->key) {
		/* the holder's key: its reservation moves to the sender */
		uint8_t old = pr->type;

		release_reservation(pr);
		preempt_key(pr, o, o->sark, reg);
		pr->type = o->type;
		pr->holder = tt_pr_type_all_reg(o->type) ? NULL : reg;
		if (old != o->type)
			fx_all_regs(pr, o, TT_UA_RESERVATIONS_RELEASED);
	} else {
		/* registrations only */
		if (o->sark == 0) {
			out_set(o, PR_INVALID_PARAM, 8, -1);
			return;
		}
		if (preempt_key(pr, o, o->sark, NULL) == 0) {
			o->result = PR_CONFLICT;
			return;
		}
	}
	pr->generation++;
	o->changed = true;
}

/* REGISTER AND MOVE (SPC-4 5.13.8) */
static void do_register_and_move(struct tt_pr *pr, struct pr_out *o, struct tt_pr_reg *reg)
{
	struct tt_pr_id dest;
	struct tt_pr_reg *dreg;

	if (!is_holder(pr, reg) || tt_pr_type_all_reg(pr->type)) {
		o->result = PR_CONFLICT;
		return;
	}
	if (o->sark == 0) {
		out_set(o, PR_INVALID_PARAM, 8, -1);
		return;
	}
	if (o->move_port == 0) {
		out_set(o, PR_INVALID_PARAM, 18, -1);
		return;
	}
	dest = o->tids[0];
	dest.port = o->move_port;
	dest.all_ports = dest.proto->all_ports;
	if (tt_pr_id_overlap(&dest, &o->me)) {
		out_set(o, PR_INVALID_PARAM, PROUT_BASIC_LEN, -1);
		return;
	}
	dreg = find_reg(pr, &dest);
	if (!dreg) {
		if (pr->nregs + 1 > TT_PR_MAX_REGS) {
			out_fail(o, ASC_INSUFFICIENT_REG_RESOURCES);
			return;
		}
		dreg = tt_pr_reg_add(pr, &dest, o->sark);
		if (!dreg) {
			o->result = PR_INTERNAL;
			return;
		}
	} else {
		dreg->key = o->sark;
	}
	pr->holder = dreg;
	if (o->unreg)
		reg_remove(pr, reg);
	pr->aptpl = o->aptpl;
	pr->generation++;
	o->changed = true;
}

static void prout_locked(struct tt_pr *pr, struct pr_out *o)
{
	struct tt_pr_reg *reg;

	if (o->sa == TT_PROUT_REGISTER || o->sa == TT_PROUT_REGISTER_AND_IGNORE) {
		do_register(pr, o);
		return;
	}
	/* every other service action: from a registered I_T nexus with its key */
	reg = find_reg(pr, &o->me);
	if (!reg || reg->key != o->rk) {
		o->result = PR_CONFLICT;
		return;
	}
	switch (o->sa) {
	case TT_PROUT_RESERVE:
		do_reserve(pr, o, reg);
		break;
	case TT_PROUT_RELEASE:
		do_release(pr, o, reg);
		break;
	case TT_PROUT_CLEAR:
		do_clear(pr, o);
		break;
	case TT_PROUT_PREEMPT:
	case TT_PROUT_PREEMPT_AND_ABORT:
		do_preempt(pr, o, reg);
		break;
	case TT_PROUT_REGISTER_AND_MOVE:
		do_register_and_move(pr, o, reg);
		break;
	default:
		out_set(o, PR_INVALID_CDB, 1, 4);
		break;
	}
}

/* Decodes the CDB and the parameter list; false when @o already holds the error. */
static bool prout_decode(struct tt_scsi_task *task, struct tt_pr *pr, struct pr_out *o)
{
	const uint8_t *cdb = task->cdb;
	uint32_t plen = tt_get_be32(cdb + 5);
	uint32_t have = plen < tt_task_out_len(task) ? plen : tt_task_out_len(task);
	const uint8_t *p = task->buf;
	bool move = false;

	o->sa = cdb[1] & 0x1f;
	o->scope = cdb[2] >> 4;
	o->type = cdb[2] & 0x0f;
	task->cmd_len = plen;
	move = o->sa == TT_PROUT_REGISTER_AND_MOVE;

	if (have < plen || plen < PROUT_BASIC_LEN) {
		out_fail(o, TT_ASC_PARAMETER_LIST_LENGTH_ERROR);
		return false;
	}
	o->rk = tt_get_be64(p);
	o->sark = tt_get_be64(p + 8);
	if (move) {
		uint32_t tlen = tt_get_be32(p + 20);

		o->unreg = p[17] & 0x02;
		o->aptpl = p[17] & 0x01;
		o->move_port = tt_get_be16(p + 18);
		if (tlen > plen - PROUT_BASIC_LEN) {
			out_fail(o, TT_ASC_PARAMETER_LIST_LENGTH_ERROR);
			return false;
		}
		o->tids = calloc(1, sizeof(*o->tids));
		if (!o->tids) {
			o->result = PR_INTERNAL;
			return false;
		}
		int n = parse_tid(p + PROUT_BASIC_LEN, tlen, o->tids);
		if (n == -ENOSPC || (n > 0 && (uint32_t)n != tlen) || tlen == 0) {
			out_fail(o, TT_ASC_PARAMETER_LIST_LENGTH_ERROR);
			return false;
		}
		if (n < 0) {
			out_set(o, PR_INVALID_PARAM, PROUT_BASIC_LEN, -1);
			return false;
		}
		o->ntids = 1;
	} else {
		o->spec_i_pt = p[20] & PROUT_SPEC_I_PT;
		o->all_tg_pt = p[20] & PROUT_ALL_TG_PT;
		o->aptpl = p[20] & PROUT_APTPL;
		if (o->sa != TT_PROUT_REGISTER && o->sa != TT_PROUT_REGISTER_AND_IGNORE)
			o->all_tg_pt = false; /* ignored */
		if (o->spec_i_pt && o->sa != TT_PROUT_REGISTER) {
			out_set(o, PR_INVALID_PARAM, 20, 3);
			return false;
		}
		if (!o->spec_i_pt && plen != PROUT_BASIC_LEN) {
			out_fail(o, TT_ASC_PARAMETER_LIST_LENGTH_ERROR);
			return false;
		}
		if (o->spec_i_pt) {
			uint32_t tlen;

			if (plen < PROUT_BASIC_LEN + 4) {
				out_fail(o, TT_ASC_PARAMETER_LIST_LENGTH_ERROR);
				return false;
			}
			tlen = tt_get_be32(p + PROUT_BASIC_LEN);
			if (tlen > plen - PROUT_BASIC_LEN - 4) {
				out_fail(o, TT_ASC_PARAMETER_LIST_LENGTH_ERROR);
				return false;
			}
			if (!parse_tids(o, p + PROUT_BASIC_LEN + 4, tlen, PROUT_BASIC_LEN + 4))
				return false;
		}
	}
	/* APTPL: REGISTER, REGISTER AND IGNORE EXISTING KEY, REGISTER AND MOVE only */
	if (o->sa == TT_PROUT_REGISTER || o->sa == TT_PROUT_REGISTER_AND_IGNORE || move) {
		if (o->aptpl && !pr->file && !pr->shared) {
			out_set(o, PR_INVALID_PARAM, move ? 17 : 20, 0);
			return false;
		}
	} else {
		o->aptpl = false;
	}
	switch (o->sa) {
	case TT_PROUT_RESERVE:
	case TT_PROUT_PREEMPT:
	case TT_PROUT_PREEMPT_AND_ABORT:
	case TT_PROUT_REGISTER_AND_MOVE:
		if (o->scope != 0) {
			out_set(o, PR_INVALID_CDB, 2, 7);
			return false;
		}
		if (!tt_pr_type_valid(o->type)) {
			out_set(o, PR_INVALID_CDB, 2, 3);
			return false;
		}
		break;
	default:
		break;
	}
	return true;
}

static void finish(struct tt_scsi_task *task, const struct pr_out *o)
{
	switch (o->result) {
	case PR_GOOD:
		tt_scsi_task_good(task);
		break;
	case PR_CONFLICT:
		task->status = TT_SAM_RESERVATION_CONFLICT;
		task->sense_len = 0;
		break;
	case PR_INVALID_CDB:
		tt_scsi_invalid_cdb(task, o->byte, o->bit);
		break;
	case PR_INVALID_PARAM:
		tt_scsi_invalid_param(task, o->byte, o->bit);
		break;
	case PR_FAIL:
		tt_scsi_fail(task, TT_SK_ILLEGAL_REQUEST, o->asc);
		break;
	case PR_INTERNAL:
		tt_scsi_fail(task, TT_SK_HARDWARE_ERROR, TT_ASC_INTERNAL_TARGET_FAILURE);
		break;
	case PR_UNREACHABLE:
		tt_scsi_fail(task, TT_SK_HARDWARE_ERROR, o->asc);
		break;
	}
}

/* With APTPL (or APTPL just turned off), the state file follows; false: it could not. */
static bool persist(struct tt_pr *pr, bool aptpl_before, const char *snapshot)
{
	int rc;

	if (!pr->file || (!aptpl_before && !pr->aptpl))
		return true;
	rc = tt_pr_store_save(pr);
	if (rc == 0)
		return true;
	tt_err("scsi", "persistent reservations: cannot write %s: %s; change undone", pr->file,
	       strerror(-rc));
	if (snapshot) {
		tt_pr_regs_clear(pr);
		if (tt_pr_store_parse(pr, snapshot) < 0)
			tt_err("scsi", "persistent reservations: cannot restore the previous state");
	}
	return false;
}

/*
 * PERSISTENT RESERVE OUT on a shared state (pr_shared.c): each attempt runs the service action
 * on a copy of this host's state, then stores the result in the shared record if the record is
 * still the version the copy came from, and sends the message that makes every other host take
 * it; the backend completes the store once they have acknowledged it. A record changed meanwhile
 * (-ESTALE) is read again and the action retried on it. The task stays pending meanwhile;
 * every step runs on the task's loop.
 */
#define SHARED_ATTEMPTS 64
#define SHARED_BACKOFF_MS 32 /* most random wait before reading a record changed meanwhile */

struct shared_op {
	struct tt_scsi_task *task;
	struct tt_lun *lun;
	struct pr_out o;        /* the request, and the outcome of the last attempt */
	unsigned attempts;
	char *state;            /* the record the attempt stores */
	bool sync;              /* inside tt_pr_out: the task ends with TT_EXEC_DONE */
	struct tt_timer backoff; /* on the task's loop: a pause before reading the record again */
	uint64_t seed;
};

static bool shared_attempt(struct shared_op *op);

static void shared_end(struct shared_op *op)
{
	finish(op->task, &op->o);
	if (!op->sync)
		tt_task_finish(op->task);
	free(op->state);
	free(op->o.fx.v);
	free(op->o.tids);
	tt_pr_events_free(&op->o.events);
	free(op);
}

static void shared_fail(struct shared_op *op, int rc)
{
	tt_log_ratelimited(TT_LOG_ERR, "scsi", "LUN %llu: PERSISTENT RESERVE OUT not done: the "
			   "shared reservation record: %s", (unsigned long long)op->lun->id,
			   strerror(-rc));
	op->o.result = PR_UNREACHABLE;
	op->o.asc = rc == -ETIMEDOUT ? TT_ASC_LU_COMMUNICATION_TIMEOUT
				     : TT_ASC_LU_COMMUNICATION_FAILURE;
	shared_end(op);
}

static void shared_loaded(void *arg, int status, const char *text, size_t len, uint64_t version)
{
	struct shared_op *op = arg;
	struct tt_pr *pr = op->lun->state->pr;
	int rc;

	if (status < 0) {
		shared_fail(op, status);
		return;
	}
	pthread_mutex_lock(&op->lun->lock);
	rc = tt_pr_shared_take(pr, version, text, len);
	pthread_mutex_unlock(&op->lun->lock);
	if (rc < 0) {
		shared_fail(op, rc);
		return;
	}
	(void)shared_attempt(op);
}

/* The pause after a lost race is over: read the record again. */
static void shared_reload(struct tt_timer *t)
{
	struct shared_op *op = tt_container_of(t, struct shared_op, backoff);
	int rc = tt_pr_shared_load(op->lun->state->pr, shared_loaded, op);

	if (rc < 0)
		shared_fail(op, rc);
}

static void shared_stored(void *arg, int status, uint64_t version)
{
	struct shared_op *op = arg;
	struct tt_lun *lun = op->lun;
	struct tt_pr *pr = lun->state->pr;
	struct pr_out *o = &op->o;
	int rc;

	if (status == -ESTALE && ++op->attempts < SHARED_ATTEMPTS) {
		/* another change won: retry after a random pause, so that racing hosts spread */
		op->seed = op->seed * 6364136223846793005ull + 1442695040888963407ull;
		tt_timer_arm_ms(&op->backoff, (op->seed >> 33) % (SHARED_BACKOFF_MS + 1));
		return;
	}
	if (status < 0) {
		shared_fail(op, status == -ESTALE ? -EBUSY : status);
		return;
	}
	pthread_mutex_lock(&lun->lock);
	/* this host's watch may have taken it already, or a newer one */
	rc = tt_pr_shared_take(pr, version, op->state, strlen(op->state));
	if (rc < 0)
		tt_err("scsi", "LUN %llu: the reservation record written cannot be read back: %s",
		       (unsigned long long)lun->id, strerror(-rc));
	for (unsigned i = 0; i < o->fx.n; i++)
		if (o->fx.v[i].ua < TT_UA_COUNT)
			tt_ua_raise_locked(lun, o->fx.v[i].nexus_id, (enum tt_ua)o->fx.v[i].ua);
	pthread_mutex_unlock(&lun->lock);
	if (o->fx.nomem)
		tt_err("scsi", "persistent reservations: out of memory: unit attentions lost");
	fx_abort(lun, &o->fx);
	shared_end(op);
}

/* One attempt; true when the task ended (op is freed). */
static bool shared_attempt(struct shared_op *op)
{
	struct tt_lun *lun = op->lun;
	struct tt_pr *pr = lun->state->pr, copy = { 0 };
	struct pr_out *o = &op->o;
	uint64_t base;
	char *text, *msg = NULL;
	int rc = 0;

	o->result = PR_GOOD;
	o->changed = false;
	o->fx.n = 0;
	o->fx.nomem = false;
	o->events_nomem = false;
	tt_pr_events_free(&o->events);
	free(op->state);
	op->state = NULL;
	tt_list_init(&copy.regs);
	tt_list_init(&copy.nexuses);
	copy.shared = pr->shared;

	pthread_mutex_lock(&lun->lock);
	base = pr->shared_version;
	text = tt_pr_store_format(pr);
	if (text)
		rc = tt_pr_store_parse(&copy, text);
	if (text && rc == 0) {
		prout_locked(&copy, o);
		if (o->result == PR_GOOD && o->changed)
			op->state = tt_pr_store_format(&copy);
	}
	pthread_mutex_unlock(&lun->lock);
	free(text);
	tt_pr_regs_clear(&copy);
	if (!text || rc < 0 || (o->result == PR_GOOD && o->changed && !op->state)) {
		o->result = PR_INTERNAL;
		shared_end(op);
		return true;
	}
	if (o->result != PR_GOOD || !o->changed) {
		shared_end(op);
		return true;
	}
	if (o->events_nomem)
		tt_err("scsi", "persistent reservations: out of memory: unit attentions through "
		       "other hosts lost");
	msg = tt_pr_msg_format(pr->shared_token, &o->events, op->state);
	rc = msg ? tt_pr_shared_store(pr, base, op->state, msg, shared_stored, op) : -ENOMEM;
	free(msg);
	if (rc < 0) {
		shared_fail(op, rc);
		return true;
	}
	return false;
}

static enum tt_exec_rc shared_start(struct tt_scsi_task *task, struct pr_out *o)
{
	struct shared_op *op = calloc(1, sizeof(*op));

	if (!op) {
		o->result = PR_INTERNAL;
		finish(task, o);
		free(o->tids);
		return TT_EXEC_DONE;
	}
	op->task = task;
	op->lun = task->lun;
	op->o = *o;
	op->seed = (uint64_t)(uintptr_t)op ^ task->lun->state->pr->shared_token;
	tt_timer_init(&op->backoff, tt_loop_current(), shared_reload);
	op->sync = true;
	if (shared_attempt(op))
		return TT_EXEC_DONE;
	op->sync = false; /* the store's completion comes later, on this loop */
	return TT_EXEC_PENDING;
}

enum tt_exec_rc tt_pr_out(struct tt_scsi_task *task)
{
	struct tt_lun *lun = task->lun;
	struct tt_pr *pr = lun_pr(lun);
	struct pr_out o = { .result = PR_GOOD };
	char *snapshot = NULL;
	bool aptpl_before;

	o.me_nexus = task->nexus ? task->nexus->id : 0;
	tt_scsi_nexus_ident(task->nexus, &o.me);
	o.nexuses = &pr->nexuses;
	if (!prout_decode(task, pr, &o))
		goto out;
	if (pr->shared)
		return shared_start(task, &o);

	pthread_mutex_lock(&lun->lock);
	aptpl_before = pr->aptpl;
	/* with a state file to follow, the current state is kept to undo a failed write */
	if (pr->file && (pr->aptpl || o.aptpl)) {
		snapshot = tt_pr_store_format(pr);
		if (!snapshot) {
			pthread_mutex_unlock(&lun->lock);
			o.result = PR_INTERNAL;
			goto out;
		}
	}
	prout_locked(pr, &o);
	if (o.result == PR_GOOD && o.changed && !persist(pr, aptpl_before, snapshot)) {
		o.result = PR_INTERNAL;
		o.fx.n = 0;
	}
	if (o.result == PR_GOOD) {
		for (unsigned i = 0; i < o.fx.n; i++)
			if (o.fx.v[i].ua < TT_UA_COUNT)
				tt_ua_raise_locked(lun, o.fx.v[i].nexus_id, (enum tt_ua)o.fx.v[i].ua);
	}
	update_active(pr);
	pthread_mutex_unlock(&lun->lock);

	if (o.fx.nomem)
		tt_err("scsi", "persistent reservations: out of memory: unit attentions lost");
	if (o.result == PR_GOOD) {
		fx_abort(lun, &o.fx);
	}
out:
	finish(task, &o);
	free(snapshot);
	free(o.fx.v);
	free(o.tids);
	tt_pr_events_free(&o.events);
	return TT_EXEC_DONE;
}

/* --- PERSISTENT RESERVE IN ---------------------------------------------------------------------- */

/* Length of the TransportID of @id, by its protocol (0: it has none). */
static size_t tid_len(const struct tt_pr_id *id)
{
	int n = id->proto->tid_len(id);

	return n > 0 ? (size_t)n : 0;
}

/* Builds the parameter data of @sa into a malloc'd buffer; NULL when out of memory. */
static uint8_t *prin_build(const struct tt_pr *pr, unsigned sa, size_t *len)
{
	struct tt_list *pos;
	uint8_t *buf, *p;
	size_t n = 8;

	switch (sa) {
	case TT_PRIN_READ_KEYS:
		n += 8 * (size_t)pr->nregs;
		break;
	case TT_PRIN_READ_RESERVATION:
		n += pr->type != TT_PR_NONE ? 16 : 0;
		break;
	case TT_PRIN_REPORT_CAPABILITIES:
		n = 8;
		break;
	case TT_PRIN_READ_FULL_STATUS:
		tt_list_for_each(pos, &pr->regs)
			n += 24 + tid_len(&tt_list_entry(pos, struct tt_pr_reg, node)->id);
		break;
	}
	buf = calloc(1, n);
	if (!buf)
		return NULL;
	*len = n;
	if (sa != TT_PRIN_REPORT_CAPABILITIES) {
		tt_put_be32(buf, pr->generation);
		tt_put_be32(buf + 4, (uint32_t)(n - 8));
	}
	p = buf + 8;
	switch (sa) {
	case TT_PRIN_READ_KEYS:
		tt_list_for_each(pos, &pr->regs) {
			tt_put_be64(p, tt_list_entry(pos, struct tt_pr_reg, node)->key);
			p += 8;
		}
		break;
	case TT_PRIN_READ_RESERVATION:
		if (pr->type != TT_PR_NONE) {
			/* all registrants: the key is zero */
			tt_put_be64(p, pr->holder ? pr->holder->key : 0);
			p[13] = pr->type; /* scope 0: logical unit */
		}
		break;
	case TT_PRIN_REPORT_CAPABILITIES:
		tt_put_be16(buf, 8);
		/* CRH, SIP_C, ATP_C, PTPL_C */
		buf[2] = 0x10 | 0x08 | 0x04 | (pr->file || pr->shared ? 0x01 : 0);
		/* TMV, ALLOW COMMANDS 011b, PTPL_A */
		buf[3] = 0x80 | (0x3 << 4) | (pr->aptpl ? 0x01 : 0);
		/* WR_EX_AR, EX_AC_RO, WR_EX_RO, EX_AC, WR_EX; EX_AC_AR */
		buf[4] = 0x80 | 0x40 | 0x20 | 0x08 | 0x02;
		buf[5] = 0x01;
		break;
	case TT_PRIN_READ_FULL_STATUS:
		tt_list_for_each(pos, &pr->regs) {
			const struct tt_pr_reg *r = tt_list_entry(pos, struct tt_pr_reg, node);
			bool holder = is_holder(pr, r);

			tt_put_be64(p, r->key);
			p[12] = (uint8_t)((r->id.all_ports ? 0x02 : 0) | (holder ? 0x01 : 0));
			p[13] = holder ? pr->type : 0;
			tt_put_be16(p + 18, r->id.all_ports ? 0 : r->id.port);
			size_t tl = tid_len(&r->id);

			if (tl && r->id.proto->tid_encode(&r->id, p + 24, tl) < 0)
				memset(p + 24, 0, tl);
			tt_put_be32(p + 20, (uint32_t)tl);
			p += 24 + tl;
		}
		break;
	}
	return buf;
}

enum tt_exec_rc tt_pr_in(struct tt_scsi_task *task)
{
	struct tt_lun *lun = task->lun;
	unsigned sa = task->cdb[1] & 0x1f;
	uint16_t alloc = tt_get_be16(task->cdb + 7);
	uint8_t *buf;
	size_t len = 0;

	pthread_mutex_lock(&lun->lock);
	buf = prin_build(lun_pr(lun), sa, &len);
	pthread_mutex_unlock(&lun->lock);
	if (!buf) {
		task->cmd_len = alloc;
		tt_scsi_fail(task, TT_SK_HARDWARE_ERROR, TT_ASC_INTERNAL_TARGET_FAILURE);
		return TT_EXEC_DONE;
	}
	tt_task_data_in(task, buf, (uint32_t)len, alloc);
	free(buf);
	return TT_EXEC_DONE;
}

/* --- RESERVE / RELEASE (6)/(10) ----------------------------------------------------------------- */

/*
 * Persistent reservations present (CRH=1): true when the command is answered by that alone,
 * with *@conflict telling how.
 */
static bool spc2_under_pr(struct tt_pr *pr, const struct tt_pr_id *me, bool *conflict)
{
	struct tt_pr_reg *reg;

	if (pr->nregs == 0)
		return false;
	reg = find_reg(pr, me);
	*conflict = !(is_holder(pr, reg) ||
		      (reg && (pr->type == TT_PR_WE_RO || pr->type == TT_PR_EA_RO)));
	return true;
}

/* RESERVE/RELEASE (SPC-2) on a LUN whose reservations several gateways share: the SPC-2
 * reservation would be this gateway's alone and would not stop another gateway's initiators, so
 * the command is refused as not supported (initiators then use persistent reservations). */
static bool spc2_refused_shared(struct tt_scsi_task *task, const struct tt_pr *pr)
{
	if (!pr->shared)
		return false;
	tt_scsi_fail(task, TT_SK_ILLEGAL_REQUEST, TT_ASC_INVALID_OPCODE);
	return true;
}

enum tt_exec_rc tt_pr_reserve(struct tt_scsi_task *task)
{
	struct tt_lun *lun = task->lun;
	struct tt_pr *pr = lun_pr(lun);
	uint64_t me = task->nexus ? task->nexus->id : 0;
	struct tt_pr_id id;
	bool conflict = false;

	if (spc2_refused_shared(task, pr))
		return TT_EXEC_DONE;
	tt_scsi_nexus_ident(task->nexus, &id);
	pthread_mutex_lock(&lun->lock);
	if (!spc2_under_pr(pr, &id, &conflict)) {
		if (pr->spc2_reserved && pr->spc2_holder != me) {
			conflict = true;
		} else {
			pr->spc2_reserved = true;
			pr->spc2_holder = me;
			update_active(pr);
		}
	}
	pthread_mutex_unlock(&lun->lock);
	if (conflict) {
		task->status = TT_SAM_RESERVATION_CONFLICT;
		task->sense_len = 0;
	} else {
		tt_scsi_task_good(task);
	}
	return TT_EXEC_DONE;
}

enum tt_exec_rc tt_pr_release(struct tt_scsi_task *task)
{
	struct tt_lun *lun = task->lun;
	struct tt_pr *pr = lun_pr(lun);
	uint64_t me = task->nexus ? task->nexus->id : 0;
	struct tt_pr_id id;
	bool conflict = false;

	if (spc2_refused_shared(task, pr))
		return TT_EXEC_DONE;
	tt_scsi_nexus_ident(task->nexus, &id);
	pthread_mutex_lock(&lun->lock);
	if (!spc2_under_pr(pr, &id, &conflict) && pr->spc2_reserved && pr->spc2_holder == me) {
		/* only the holder releases; from anyone else RELEASE does nothing */
		pr->spc2_reserved = false;
		update_active(pr);
	}
	pthread_mutex_unlock(&lun->lock);
	if (conflict) {
		task->status = TT_SAM_RESERVATION_CONFLICT;
		task->sense_len = 0;
	} else {
		tt_scsi_task_good(task);
	}
	return TT_EXEC_DONE;
}

void tt_lun_pr_reset(struct tt_lun *lun)
{
	struct tt_pr *pr = lun_pr(lun);

	if (!pr)
		return;
	pthread_mutex_lock(&lun->lock);
	pr->spc2_reserved = false;
	update_active(pr);
	pthread_mutex_unlock(&lun->lock);
}

/* --- the conflict check ------------------------------------------------------------------------- */

/* How a command stands against a persistent reservation held by another I_T nexus. */
enum pr_access {
	PR_ACCESS_ALLOWED,   /* allowed under every type */
	PR_ACCESS_READ,      /* allowed through Write Exclusive types */
	PR_ACCESS_WRITE,     /* allowed for registrants of RO/AR types only */
};

/*
 * SPC-4 5.13.1 (tables of commands allowed in the presence of persistent reservations) and SBC-3
 * 4.17 with ALLOW COMMANDS 011b: TEST UNIT READY goes through every type; MODE SENSE, READ BUFFER,
 * RECEIVE COPY RESULTS, RECEIVE DIAGNOSTIC RESULTS, READ ATTRIBUTE and READ DEFECT DATA go through
 * Write Exclusive like reads. Unknown operation codes are treated as writes.
 */
static enum pr_access pr_access_of(const uint8_t *cdb)
{
	uint8_t sa = cdb[1] & 0x1f;

	switch (cdb[0]) {
	case 0x00: /* TEST UNIT READY */
	case 0x03: /* REQUEST SENSE */
	case 0x12: /* INQUIRY */
	case 0x25: /* READ CAPACITY (10) */
	case 0x4d: /* LOG SENSE */
	case 0x5e: /* PERSISTENT RESERVE IN */
	case 0x5f: /* PERSISTENT RESERVE OUT: its own checks */
	case 0xa0: /* REPORT LUNS */
	case 0xa3: /* MAINTENANCE IN: REPORT TARGET PORT GROUPS, SUPPORTED OPCODES, ... */
	case TT_PR_OP_RESERVE_6:
	case TT_PR_OP_RELEASE_6:
	case TT_PR_OP_RESERVE_10:
	case TT_PR_OP_RELEASE_10: /* compatible reservation handling in their handlers */
		return PR_ACCESS_ALLOWED;
	case 0xab: /* SERVICE ACTION IN (12): READ MEDIA SERIAL NUMBER */
		return sa == 0x01 ? PR_ACCESS_ALLOWED : PR_ACCESS_WRITE;
	case 0x9e: /* SERVICE ACTION IN (16) */
		if (sa == 0x10 || sa == 0x13) /* READ CAPACITY (16), REPORT REFERRALS */
			return PR_ACCESS_ALLOWED;
		if (sa == 0x11 || sa == 0x12) /* READ LONG (16), GET LBA STATUS */
			return PR_ACCESS_READ;
		return PR_ACCESS_WRITE;
	case 0x1b: /* START STOP UNIT: START=1 with POWER CONDITION 0 only */
		return (cdb[4] & 0x01) && !(cdb[4] & 0xf0) ? PR_ACCESS_ALLOWED : PR_ACCESS_WRITE;
	case 0x1e: /* PREVENT ALLOW MEDIUM REMOVAL: allowing */
		return (cdb[4] & 0x03) == 0 ? PR_ACCESS_ALLOWED : PR_ACCESS_WRITE;
	case 0x08: case 0x28: case 0xa8: case 0x88: /* READ */
	case 0x2f: case 0xaf: case 0x8f:            /* VERIFY */
	case 0x34: case 0x90:                       /* PRE-FETCH */
	case 0x3e:                                  /* READ LONG (10) */
	case 0x37: case 0xb7:                       /* READ DEFECT DATA */
	case 0x1a: case 0x5a:                       /* MODE SENSE */
	case 0x3c:                                  /* READ BUFFER */
	case 0x84:                                  /* RECEIVE COPY RESULTS */
	case 0x1c:                                  /* RECEIVE DIAGNOSTIC RESULTS */
	case 0x8c:                                  /* READ ATTRIBUTE */
		return PR_ACCESS_READ;
	default:
		return PR_ACCESS_WRITE;
	}
}

/* Commands a RESERVE (6)/(10) reservation lets through from other I_T nexuses (SPC-2 5.5.1). */
static bool spc2_allowed(const uint8_t *cdb)
{
	switch (cdb[0]) {
	case 0x03: /* REQUEST SENSE */
	case 0x12: /* INQUIRY */
	case 0x4d: /* LOG SENSE */
	case 0xa0: /* REPORT LUNS */
	case TT_PR_OP_RELEASE_6:
	case TT_PR_OP_RELEASE_10: /* does nothing from a non-holder */
		return true;
	case 0xa3: /* REPORT TARGET PORT GROUPS, REPORT SUPPORTED OPERATION CODES / TMF */
		return (cdb[1] & 0x1f) == 0x0a || (cdb[1] & 0x1f) == 0x0c || (cdb[1] & 0x1f) == 0x0d;
	case 0x1e: /* PREVENT ALLOW MEDIUM REMOVAL with PREVENT 0 */
		return (cdb[4] & 0x03) == 0;
	default:
		return false;
	}
}

/* Under lun->lock: may @reg (NULL: not registered) do @access under the reservation? */
static bool pr_allows(const struct tt_pr *pr, const struct tt_pr_reg *reg, enum pr_access access)
{
	if (access == PR_ACCESS_ALLOWED || is_holder(pr, reg))
		return true;
	switch (pr->type) {
	case TT_PR_WE:
		return access == PR_ACCESS_READ;
	case TT_PR_EA:
		return false;
	case TT_PR_WE_RO:
	case TT_PR_WE_AR:
		return reg || access == PR_ACCESS_READ;
	case TT_PR_EA_RO:
	case TT_PR_EA_AR:
		return reg != NULL;
	default:
		return true;
	}
}

/* Under lun->lock: does nexus @me (identity @id) doing @access conflict? @spc2_ok: the command
 * passes a RESERVE (6)/(10) reservation of another nexus. */
static bool conflict_locked(const struct tt_pr *pr, uint64_t me, const struct tt_pr_id *id,
			    enum pr_access access, bool spc2_ok)
{
	if (pr->spc2_reserved && pr->spc2_holder != me && !spc2_ok)
		return true;
	if (pr->type != TT_PR_NONE)
		return !pr_allows(pr, find_reg(pr, id), access);
	return false;
}

bool tt_pr_conflict(struct tt_scsi_task *task)
{
	struct tt_lun *lun = task->lun;
	struct tt_pr *pr = lun_pr(lun);
	uint64_t me = task->nexus ? task->nexus->id : 0;
	bool conflict = false;

	if (!pr)
		return false;
	if (__atomic_load_n(&pr->shared_stale, __ATOMIC_ACQUIRE) &&
	    (pr_access_of(task->cdb) != PR_ACCESS_ALLOWED || task->cdb[0] == 0x5e ||
	     task->cdb[0] == 0x5f)) {
		/* the copy may miss changes made through other hosts: retried once read again */
		task->status = TT_SAM_BUSY;
		task->sense_len = 0;
		return true;
	}
	if (!__atomic_load_n(&pr->active, __ATOMIC_ACQUIRE))
		return false;
	enum pr_access access = pr_access_of(task->cdb);
	struct tt_pr_id id;
	tt_scsi_nexus_ident(task->nexus, &id);

	pthread_mutex_lock(&lun->lock);
	conflict = conflict_locked(pr, me, &id, access, spc2_allowed(task->cdb));
	pthread_mutex_unlock(&lun->lock);
	if (conflict) {
		task->status = TT_SAM_RESERVATION_CONFLICT;
		task->sense_len = 0;
	}
	return conflict;
}

int tt_lun_pr_check(struct tt_lun *lun, const struct tt_nexus *nexus, bool write)
{
	struct tt_pr *pr = lun_pr(lun);
	struct tt_pr_id id;
	bool conflict;

	if (!pr)
		return 0;
	if (__atomic_load_n(&pr->shared_stale, __ATOMIC_ACQUIRE))
		return -EBUSY;
	if (!__atomic_load_n(&pr->active, __ATOMIC_ACQUIRE))
		return 0;
	tt_scsi_nexus_ident(nexus, &id);
	pthread_mutex_lock(&lun->lock);
	conflict = conflict_locked(pr, nexus->id, &id, write ? PR_ACCESS_WRITE : PR_ACCESS_READ,
				   false);
	pthread_mutex_unlock(&lun->lock);
	return conflict ? 1 : 0;
}

int tt_lun_pr_status(struct tt_lun *lun, struct tt_lun_pr_status *out)
{
	struct tt_pr *pr = lun_pr(lun);
	struct tt_list *pos;
	unsigned i = 0;

	memset(out, 0, sizeof(*out));
	if (!pr)
		return 0;
	pthread_mutex_lock(&lun->lock);
	if (pr->nregs) {
		out->regs = calloc(pr->nregs, sizeof(*out->regs));
		if (!out->regs) {
			pthread_mutex_unlock(&lun->lock);
			return -ENOMEM;
		}
	}
	tt_list_for_each(pos, &pr->regs) {
		const struct tt_pr_reg *r = tt_list_entry(pos, struct tt_pr_reg, node);

		out->regs[i].id = r->id;
		out->regs[i].key = r->key;
		out->regs[i].holder = is_holder(pr, r);
		i++;
	}
	out->nregs = i;
	out->generation = pr->generation;
	out->type = pr->type;
	out->aptpl = pr->aptpl;
	out->aptpl_capable = pr->file || pr->shared;
	pthread_mutex_unlock(&lun->lock);
	return 0;
}

/* --- life of the state -------------------------------------------------------------------------- */

int tt_pr_init(struct tt_lun *lun, const char *file)
{
	struct tt_pr *pr = calloc(1, sizeof(*pr));
	int rc;

	if (!pr)
		return -ENOMEM;
	tt_list_init(&pr->regs);
	tt_list_init(&pr->nexuses);
	if (file && *file) {
		pr->file = strdup(file);
		if (!pr->file) {
			free(pr);
			return -ENOMEM;
		}
		rc = tt_pr_store_load(pr);
		if (rc < 0) {
			tt_err("scsi", "LUN %llu: persistent reservations in %s: %s",
			       (unsigned long long)lun->id, file, strerror(-rc));
			tt_pr_regs_clear(pr);
			free(pr->file);
			free(pr);
			return rc;
		}
		if (pr->nregs)
			tt_info("scsi", "LUN %llu: %u registration(s)%s restored from %s",
				(unsigned long long)lun->id, pr->nregs,
				pr->type != TT_PR_NONE ? " and a reservation" : "", file);
	}
	update_active(pr);
	lun->state->pr = pr;
	return 0;
}

void tt_pr_free(struct tt_lun *lun)
{
	struct tt_pr *pr = lun_pr(lun);
	struct tt_list *pos;

	if (!pr)
		return;
	tt_pr_shared_detach(lun);
	tt_pr_regs_clear(pr);
	while ((pos = tt_list_pop(&pr->nexuses)))
		free(tt_list_entry(pos, struct tt_pr_nexus, node));
	free(pr->file);
	free(pr);
	lun->state->pr = NULL;
}

void tt_pr_nexus_add(struct tt_lun *lun, const struct tt_nexus *nexus)
{
	struct tt_pr *pr = lun_pr(lun);
	struct tt_list *pos;
	struct tt_pr_nexus *n;

	if (!pr)
		return;
	tt_list_for_each(pos, &pr->nexuses)
		if (tt_list_entry(pos, struct tt_pr_nexus, node)->nexus_id == nexus->id)
			return;
	n = calloc(1, sizeof(*n));
	if (!n) {
		tt_err("scsi", "LUN %llu: out of memory: no reservation events for nexus %llu",
		       (unsigned long long)lun->id, (unsigned long long)nexus->id);
		return;
	}
	n->nexus_id = nexus->id;
	n->fe = nexus->fe;
	tt_scsi_nexus_ident(nexus, &n->id);
	tt_list_add_tail(&pr->nexuses, &n->node);
}

void tt_pr_nexus_del(struct tt_lun *lun, const struct tt_nexus *nexus)
{
	struct tt_pr *pr = lun_pr(lun);
	struct tt_list *pos, *tmp;

	if (!pr)
		return;
	tt_list_for_each_safe(pos, tmp, &pr->nexuses) {
		struct tt_pr_nexus *n = tt_list_entry(pos, struct tt_pr_nexus, node);
		if (n->nexus_id == nexus->id) {
			tt_list_del(&n->node);
			free(n);
		}
	}
	/* I_T nexus loss ends a RESERVE (6)/(10) reservation; persistent ones stay */
	if (pr->spc2_reserved && pr->spc2_holder == nexus->id) {
		pr->spc2_reserved = false;
		update_active(pr);
	}
}

/* --- command table rows ------------------------------------------------------------------------- */

#define PRIN_ROW(name_, sa_)                                                                 \
	{ name_, tt_pr_in, 0, TT_SCSI_XFER_IN, 10,                                           \
	  .usage = { 0x5e, sa_, 0, 0, 0, 0, 0, 0xff, 0xff, 0 }, .sa = sa_ }
#define PROUT_ROW(name_, sa_)                                                                \
	{ name_, tt_pr_out, 0, TT_SCSI_XFER_OUT, 10,                                         \
	  .usage = { 0x5f, sa_, 0xff, 0, 0, 0xff, 0xff, 0xff, 0xff, 0 }, .sa = sa_ }

const struct tt_scsi_cmd tt_pr_in_cmds[] = {
	PRIN_ROW("PERSISTENT RESERVE IN READ KEYS", TT_PRIN_READ_KEYS),
	PRIN_ROW("PERSISTENT RESERVE IN READ RESERVATION", TT_PRIN_READ_RESERVATION),
	PRIN_ROW("PERSISTENT RESERVE IN REPORT CAPABILITIES", TT_PRIN_REPORT_CAPABILITIES),
	PRIN_ROW("PERSISTENT RESERVE IN READ FULL STATUS", TT_PRIN_READ_FULL_STATUS),
	{ 0 },
};

const struct tt_scsi_cmd tt_pr_out_cmds[] = {
	PROUT_ROW("PERSISTENT RESERVE OUT REGISTER", TT_PROUT_REGISTER),
	PROUT_ROW("PERSISTENT RESERVE OUT RESERVE", TT_PROUT_RESERVE),
	PROUT_ROW("PERSISTENT RESERVE OUT RELEASE", TT_PROUT_RELEASE),
	PROUT_ROW("PERSISTENT RESERVE OUT CLEAR", TT_PROUT_CLEAR),
	PROUT_ROW("PERSISTENT RESERVE OUT PREEMPT", TT_PROUT_PREEMPT),
	PROUT_ROW("PERSISTENT RESERVE OUT PREEMPT AND ABORT", TT_PROUT_PREEMPT_AND_ABORT),
	PROUT_ROW("PERSISTENT RESERVE OUT REGISTER AND IGNORE EXISTING KEY",
		  TT_PROUT_REGISTER_AND_IGNORE),
	PROUT_ROW("PERSISTENT RESERVE OUT REGISTER AND MOVE", TT_PROUT_REGISTER_AND_MOVE),
	{ 0 },
};
