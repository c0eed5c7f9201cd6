/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Asymmetric logical unit access (SPC-4 5.16), implicit and explicit: the target port groups of
 * each target with their access states, REPORT TARGET PORT GROUPS, SET TARGET PORT GROUPS, and
 * the check that refuses commands arriving through a port whose group is standby, unavailable or
 * transitioning.
 *
 * A group is named by its target and its port_group_id; it exists while one of its ports is
 * registered (tt_scsi_port_register). Its state applies to every LUN of the target: the
 * transport makes one port (and one group) per iSCSI target portal group. The state is written
 * under alua_lock and read on the data path with an atomic load through port->alua, so the I/O
 * path takes no lock.
 *
 * Lifetime of a group: created with the first port registered in it and never freed (a nexus
 * of a port that was unregistered may still read it); when its last port goes it returns to
 * active/optimized, and a later port of the same target and id joins it again.
 */
#include "scsi/core.h"
#include "scsi/cdb.h"
#include "base/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define ALUA_MAX_PORTS 256u

/* SUPPORTED STATES of a target port group descriptor: T_SUP, U_SUP, S_SUP, AN_SUP, AO_SUP */
#define ALUA_T_SUP  0x80
#define ALUA_U_SUP  0x08
#define ALUA_S_SUP  0x04
#define ALUA_AN_SUP 0x02
#define ALUA_AO_SUP 0x01
#define ALUA_SUPPORTED (ALUA_T_SUP | ALUA_U_SUP | ALUA_S_SUP | ALUA_AN_SUP | ALUA_AO_SUP)

/* STATUS CODE of a target port group descriptor */
enum alua_status {
	ALUA_STATUS_NONE = 0x00,
	ALUA_STATUS_BY_STPG = 0x01,      /* altered by SET TARGET PORT GROUPS */
	ALUA_STATUS_IMPLICIT = 0x02,     /* altered by implicit asymmetric access behaviour */
};

/* LOGICAL UNIT NOT ACCESSIBLE, ... (ASC 04h) */
#define ASCQ_TRANSITIONING 0x0a
#define ASCQ_STANDBY       0x0b
#define ASCQ_UNAVAILABLE   0x0c

struct tt_alua_group {
	struct tt_alua_group *next;  /* on groups, under alua_lock */
	uint16_t id;
	unsigned nports;             /* registered ports, under alua_lock */
	uint8_t state;               /* enum tt_alua_state: written under alua_lock, atomic loads */
	uint8_t status;              /* enum alua_status, under alua_lock */
	bool implicit_only;          /* SET TARGET PORT GROUPS may not change it: written under
				      * alua_lock, atomic loads (INQUIRY) */
	char target[];               /* target name */
};

static pthread_mutex_t alua_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tt_scsi_port *ports[ALUA_MAX_PORTS]; /* under alua_lock */
static unsigned nports;
static struct tt_alua_group *groups;                /* under alua_lock */

/* --- states -------------------------------------------------------------------------------- */

static const struct {
	uint8_t state;
	const char *name;
} state_names[] = {
	{ TT_ALUA_ACTIVE_OPTIMIZED, "active-optimized" },
	{ TT_ALUA_ACTIVE_NON_OPTIMIZED, "active-non-optimized" },
	{ TT_ALUA_STANDBY, "standby" },
	{ TT_ALUA_UNAVAILABLE, "unavailable" },
	{ TT_ALUA_TRANSITIONING, "transitioning" },
};
#define NSTATES (sizeof(state_names) / sizeof(state_names[0]))

const char *tt_alua_state_name(unsigned state)
{
	for (size_t i = 0; i < NSTATES; i++)
		if (state_names[i].state == state)
			return state_names[i].name;
	return "?";
}

int tt_alua_state_parse(const char *name)
{
	for (size_t i = 0; name && i < NSTATES; i++)
		if (!strcmp(state_names[i].name, name))
			return state_names[i].state;
	return -EINVAL;
}

static bool state_valid(unsigned state)
{
	return strcmp(tt_alua_state_name(state), "?") != 0;
}

/* --- groups and ports ---------------------------------------------------------------------- */

/* under alua_lock */
static struct tt_alua_group *group_find(const char *target, uint16_t id)
{
	for (struct tt_alua_group *g = groups; g; g = g->next)
		if (g->id == id && !strcmp(g->target, target))
			return g;
	return NULL;
}

/* under alua_lock: the group, made when missing; NULL when out of memory */
static struct tt_alua_group *group_get(const char *target, uint16_t id)
{
	struct tt_alua_group *g = group_find(target, id);
	size_t len = strlen(target);

	if (g)
		return g;
	g = calloc(1, sizeof(*g) + len + 1);
	if (!g)
		return NULL;
	memcpy(g->target, target, len + 1);
	g->id = id;
	g->state = TT_ALUA_ACTIVE_OPTIMIZED;
	g->status = ALUA_STATUS_NONE;
	g->next = groups;
	groups = g;
	return g;
}

/* under alua_lock */
static void group_set(struct tt_alua_group *g, uint8_t state, uint8_t status)
{
	__atomic_store_n(&g->state, state, __ATOMIC_RELAXED);
	g->status = status;
}

int tt_scsi_port_register(struct tt_scsi_port *port)
{
	struct tt_alua_group *g = NULL;
	int rc = 0;

	if (!port->fe)
		return -EINVAL; /* a port belongs to a front end */
	pthread_mutex_lock(&alua_lock);
	if (nports >= ALUA_MAX_PORTS) {
		rc = -ENOSPC;
	} else if (port->target_name && !(g = group_get(port->target_name, port->port_group_id))) {
		rc = -ENOMEM;
	} else {
		ports[nports++] = port;
		if (g) {
			g->nports++;
			__atomic_store_n(&port->alua, g, __ATOMIC_RELEASE);
		}
	}
	pthread_mutex_unlock(&alua_lock);
	return rc;
}

void tt_scsi_port_unregister(struct tt_scsi_port *port)
{
	pthread_mutex_lock(&alua_lock);
	for (unsigned i = 0; i < nports; i++) {
		struct tt_alua_group *g = port->alua;

		if (ports[i] != port)
			continue;
		ports[i] = ports[--nports];
		if (g && --g->nports == 0) {
			group_set(g, TT_ALUA_ACTIVE_OPTIMIZED, ALUA_STATUS_NONE);
			__atomic_store_n(&g->implicit_only, false, __ATOMIC_RELAXED);
		}
		break;
	}
	pthread_mutex_unlock(&alua_lock);
}

enum tt_alua_state tt_alua_state_get(const char *target_name, uint16_t group_id)
{
	struct tt_alua_group *g;
	uint8_t state = TT_ALUA_ACTIVE_OPTIMIZED;

	pthread_mutex_lock(&alua_lock);
	g = target_name ? group_find(target_name, group_id) : NULL;
	if (g && g->nports)
		state = g->state;
	pthread_mutex_unlock(&alua_lock);
	return (enum tt_alua_state)state;
}

/*
 * Tells each front end with a registered port of @target_name (and @self's, which may not be
 * registered; NULL: none) that an access state changed, once per front end, with no lock held.
 * Returns how many of them raised the unit attentions (the others have no alua_changed op).
 */
static unsigned state_changed(const char *target_name, const struct tt_scsi_port *self,
			      const struct tt_nexus *except)
{
	const struct tt_scsi_frontend *fes[ALUA_MAX_PORTS + 1];
	unsigned nfe = 0, done = 0;

	pthread_mutex_lock(&alua_lock);
	for (unsigned i = 0; i <= nports; i++) {
		const struct tt_scsi_port *p = i < nports ? ports[i] : self;
		bool seen = false;

		if (!p || !p->target_name || strcmp(p->target_name, target_name) != 0)
			continue;
		for (unsigned j = 0; j < nfe && !seen; j++)
			seen = fes[j] == p->fe;
		if (!seen)
			fes[nfe++] = p->fe;
	}
	pthread_mutex_unlock(&alua_lock);
	for (unsigned i = 0; i < nfe; i++) {
		int rc = fes[i]->alua_changed(target_name, except);

		if (rc == 0)
			done++;
		else if (rc != -EOPNOTSUPP)
			tt_warn("scsi", "target %s: ALUA state change not reported by %s: %s",
				target_name, fes[i]->name, strerror(-rc));
	}
	return done;
}

int tt_alua_state_set(const char *target_name, uint16_t group_id, enum tt_alua_state state)
{
	struct tt_alua_group *g;
	bool changed = false;
	int rc = 0;

	if (!target_name || !state_valid(state))
		return -EINVAL;
	pthread_mutex_lock(&alua_lock);
	g = group_find(target_name, group_id);
	if (!g || !g->nports) {
		rc = -ENOENT;
	} else if (g->state != state) {
		group_set(g, (uint8_t)state, ALUA_STATUS_IMPLICIT);
		changed = true;
	}
	pthread_mutex_unlock(&alua_lock);
	if (changed) {
		tt_notice("scsi", "target %s: target port group %u is now %s", target_name, group_id,
			  tt_alua_state_name(state));
		state_changed(target_name, NULL, NULL);
	}
	return rc;
}

int tt_alua_explicit_set(const char *target_name, uint16_t group_id, bool allowed)
{
	struct tt_alua_group *g;
	int rc = 0;

	if (!target_name)
		return -EINVAL;
	pthread_mutex_lock(&alua_lock);
	g = group_find(target_name, group_id);
	if (!g || !g->nports)
		rc = -ENOENT;
	else
		__atomic_store_n(&g->implicit_only, !allowed, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&alua_lock);
	return rc;
}

bool tt_alua_explicit_get(const char *target_name, uint16_t group_id)
{
	struct tt_alua_group *g;
	bool allowed = true;

	pthread_mutex_lock(&alua_lock);
	g = target_name ? group_find(target_name, group_id) : NULL;
	if (g && g->nports)
		allowed = !g->implicit_only;
	pthread_mutex_unlock(&alua_lock);
	return allowed;
}

bool tt_alua_port_explicit(const struct tt_scsi_port *port)
{
	const struct tt_alua_group *g = port ? __atomic_load_n(&port->alua, __ATOMIC_ACQUIRE) : NULL;

	return !g || !__atomic_load_n(&g->implicit_only, __ATOMIC_RELAXED);
}

/* --- access checks (SPC-4 5.16.2.4) -------------------------------------------------------- */

static uint8_t port_state(const struct tt_scsi_port *port)
{
	const struct tt_alua_group *g = port ? __atomic_load_n(&port->alua, __ATOMIC_ACQUIRE) : NULL;

	return g ? __atomic_load_n(&g->state, __ATOMIC_RELAXED) : TT_ALUA_ACTIVE_OPTIMIZED;
}

/* Commands every inaccessible state lets through: they describe the LU and its paths. */
static bool allowed_always(const uint8_t *cdb)
{
	switch (cdb[0]) {
	case TT_OP_INQUIRY:
	case TT_OP_REPORT_LUNS:
	case TT_OP_REQUEST_SENSE:
		return true;
	case TT_OP_MAINTENANCE_IN:
		return (cdb[1] & 0x1f) == TT_MI_REPORT_TARGET_PORT_GROUPS;
	default:
		return false;
	}
}

/* Standby (@pr: PERSISTENT RESERVE IN/OUT too) and unavailable. */
static bool allowed_offline(const uint8_t *cdb, bool pr)
{
	if (allowed_always(cdb))
		return true;
	switch (cdb[0]) {
	case 0x4c: /* LOG SELECT */
	case 0x4d: /* LOG SENSE */
	case 0x1c: /* RECEIVE DIAGNOSTIC RESULTS */
	case 0x1d: /* SEND DIAGNOSTIC */
	case TT_OP_MODE_SELECT_6:
	case TT_OP_MODE_SELECT_10:
	case TT_OP_MODE_SENSE_6:
	case TT_OP_MODE_SENSE_10:
		return true;
	case 0x3b: /* WRITE BUFFER, echo buffer mode */
	case 0x3c: /* READ BUFFER, echo buffer modes */
		return (cdb[1] & 0x1f) == 0x0a || (cdb[1] & 0x1f) == 0x0b;
	case TT_OP_MAINTENANCE_IN: /* and REPORT SUPPORTED OPERATION CODES / TMF: no LU access */
		return (cdb[1] & 0x1f) == TT_MI_REPORT_SUPPORTED_OPCODES || (cdb[1] & 0x1f) == 0x0d;
	case TT_OP_MAINTENANCE_OUT:
		return (cdb[1] & 0x1f) == TT_MO_SET_TARGET_PORT_GROUPS;
	case TT_OP_PERSISTENT_RESERVE_IN:
	case TT_OP_PERSISTENT_RESERVE_OUT:
		return pr;
	default:
		return false;
	}
}

bool tt_alua_refused(struct tt_scsi_task *task)
{
	const uint8_t *cdb = task->cdb;
	uint8_t ascq;

	switch (port_state(task->nexus ? task->nexus->tport : NULL)) {
	case TT_ALUA_ACTIVE_OPTIMIZED:
	case TT_ALUA_ACTIVE_NON_OPTIMIZED:
		return false;
	case TT_ALUA_STANDBY:
		if (allowed_offline(cdb, true))
			return false;
		ascq = ASCQ_STANDBY;
		break;
	case TT_ALUA_UNAVAILABLE:
		if (allowed_offline(cdb, false))
			return false;
		ascq = ASCQ_UNAVAILABLE;
		break;
	default: /* transitioning */
		if (allowed_always(cdb))
			return false;
		ascq = ASCQ_TRANSITIONING;
		break;
	}
	tt_scsi_set_sense(task, TT_SK_NOT_READY, 0x04, ascq);
	return true;
}

/* --- REPORT TARGET PORT GROUPS (SPC-4 6.27) ------------------------------------------------ */

struct port_id {
	uint16_t group, rel;
	uint8_t state, status;
};

static int cmp_port(const void *a, const void *b)
{
	const struct port_id *x = a, *y = b;

	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	return x->rel < y->rel ? -1 : x->rel > y->rel;
}

/* The ports of the target @self belongs to, sorted by group then relative port; returns the
 * count. A port that was never registered still reports its own group (active/optimized). */
static unsigned target_ports(const struct tt_scsi_port *self, struct port_id *out)
{
	unsigned n = 0;
	bool seen_self = false;

	pthread_mutex_lock(&alua_lock);
	for (unsigned i = 0; i < nports; i++) {
		const struct tt_scsi_port *p = ports[i];
		const struct tt_alua_group *g = p->alua;

		if (!p->target_name || strcmp(p->target_name, self->target_name))
			continue;
		out[n++] = (struct port_id){ p->port_group_id, p->rel_port_id,
					     g ? g->state : TT_ALUA_ACTIVE_OPTIMIZED,
					     g ? g->status : ALUA_STATUS_NONE };
		seen_self |= p->rel_port_id == self->rel_port_id;
	}
	pthread_mutex_unlock(&alua_lock);
	if (!seen_self && n < ALUA_MAX_PORTS)
		out[n++] = (struct port_id){ self->port_group_id, self->rel_port_id,
					     TT_ALUA_ACTIVE_OPTIMIZED, ALUA_STATUS_NONE };
	qsort(out, n, sizeof(*out), cmp_port);
	return n;
}

enum tt_exec_rc tt_spc_report_target_port_groups(struct tt_scsi_task *task)
{
	uint8_t format = task->cdb[1] >> 5;
	uint32_t alloc = tt_get_be32(task->cdb + 6);
	const struct tt_scsi_port *self = task->nexus ? task->nexus->tport : NULL;
	struct port_id ids[ALUA_MAX_PORTS];
	unsigned n = 0, i = 0;
	size_t hdr = format == 1 ? 8 : 4, len;
	uint8_t *b;

	task->cmd_len = alloc;
	if (format > 1) {
		tt_scsi_invalid_cdb(task, 1, 7);
		return TT_EXEC_DONE;
	}
	if (self && self->target_name)
		n = target_ports(self, ids);
	b = calloc(1, hdr + n * (8 + 4));
	if (!b) {
		tt_scsi_fail_errno(task, -ENOMEM, false);
		return TT_EXEC_DONE;
	}
	len = hdr;
	if (format == 1)
		b[4] = 0x10; /* FORMAT TYPE 001b; IMPLICIT TRANSITION TIME 0: transitions are immediate */
	while (i < n) {
		uint8_t *g = b + len;
		unsigned count = 0;

		g[0] = ids[i].state; /* PREF 0: no group is preferred */
		g[1] = ALUA_SUPPORTED;
		tt_put_be16(g + 2, ids[i].group);
		g[5] = ids[i].status;
		len += 8;
		for (uint16_t group = ids[i].group; i < n && ids[i].group == group; i++, count++) {
			tt_put_be16(b + len + 2, ids[i].rel);
			len += 4;
		}
		g[7] = (uint8_t)count;
	}
	tt_put_be32(b, (uint32_t)(len - 4));
	tt_task_data_in(task, b, (uint32_t)len, alloc);
	free(b);
	return TT_EXEC_DONE;
}

/* --- SET TARGET PORT GROUPS (SPC-4 6.39) --------------------------------------------------- */

#define STPG_HDR_LEN  4
#define STPG_DESC_LEN 4

/* States SET TARGET PORT GROUPS may ask for (not transitioning, offline or LBA dependent). */
static bool stpg_state_ok(uint8_t state)
{
	return state == TT_ALUA_ACTIVE_OPTIMIZED || state == TT_ALUA_ACTIVE_NON_OPTIMIZED ||
	       state == TT_ALUA_STANDBY || state == TT_ALUA_UNAVAILABLE;
}

/*
 * Under alua_lock: checks every descriptor of @p (@count of them) against the groups of @target,
 * then applies them all (or none). Returns the offset of the first bad byte (its field's bit in
 * *@bit) or 0 when applied; *@changed tells whether a state changed.
 */
static uint32_t stpg_apply_locked(const char *target, const uint8_t *p, uint32_t count,
				  int *bit, bool *changed)
{
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *d = p + STPG_HDR_LEN + i * STPG_DESC_LEN;
		const struct tt_alua_group *g = group_find(target, tt_get_be16(d + 2));
		uint32_t off = STPG_HDR_LEN + i * STPG_DESC_LEN;

		if (d[0] & 0xf0) {
			*bit = 31 - __builtin_clz(d[0] & 0xf0);
			return off;
		}
		if (!stpg_state_ok(d[0] & 0x0f)) {
			*bit = 3;
			return off;
		}
		if (!g || !g->nports || g->implicit_only) {
			*bit = -1;
			return off + 2;
		}
	}
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *d = p + STPG_HDR_LEN + i * STPG_DESC_LEN;
		struct tt_alua_group *g = group_find(target, tt_get_be16(d + 2));

		*changed |= g->state != (d[0] & 0x0f);
		group_set(g, d[0] & 0x0f, ALUA_STATUS_BY_STPG);
	}
	return 0;
}

enum tt_exec_rc tt_spc_set_target_port_groups(struct tt_scsi_task *task)
{
	uint32_t plen = tt_get_be32(task->cdb + 6);
	uint32_t have = plen < tt_task_out_len(task) ? plen : tt_task_out_len(task);
	const struct tt_scsi_port *self = task->nexus ? task->nexus->tport : NULL;
	const char *target = self ? self->target_name : NULL;
	uint32_t count, bad;
	bool changed = false;
	int bit = -1;

	task->cmd_len = plen;
	if (plen == 0)
		return TT_EXEC_DONE; /* nothing to change */
	if (have < plen || plen < STPG_HDR_LEN || (plen - STPG_HDR_LEN) % STPG_DESC_LEN) {
		tt_scsi_fail(task, TT_SK_ILLEGAL_REQUEST, TT_ASC_PARAMETER_LIST_LENGTH_ERROR);
		return TT_EXEC_DONE;
	}
	count = (plen - STPG_HDR_LEN) / STPG_DESC_LEN;
	if (!tt_alua_port_explicit(self)) {
		/* the LU reports implicit ALUA only through this port (TPGS 01b) */
		tt_scsi_fail(task, TT_SK_ILLEGAL_REQUEST, TT_ASC_INVALID_OPCODE);
		return TT_EXEC_DONE;
	}
	if (!target) {
		if (count)
			tt_scsi_invalid_param(task, STPG_HDR_LEN + 2, -1);
		return TT_EXEC_DONE;
	}
	pthread_mutex_lock(&alua_lock);
	bad = stpg_apply_locked(target, task->buf, count, &bit, &changed);
	pthread_mutex_unlock(&alua_lock);
	if (bad) {
		tt_scsi_invalid_param(task, (uint16_t)(bad > 0xffff ? 0xffff : bad), bit);
		return TT_EXEC_DONE;
	}
	if (!changed)
		return TT_EXEC_DONE;
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *d = task->buf + STPG_HDR_LEN + i * STPG_DESC_LEN;

		tt_notice("scsi", "target %s: target port group %u set to %s by %s", target,
			  tt_get_be16(d + 2), tt_alua_state_name(d[0] & 0x0f),
			  task->nexus->initiator_port);
	}
	if (state_changed(target, self, task->nexus) == 0)
		tt_lun_ua_raise(task->lun, TT_UA_ALUA_STATE_CHANGED, task->nexus);
	return TT_EXEC_DONE;
}
