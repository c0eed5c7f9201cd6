/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tetherctl apply: the plan (a pure comparison of two parsed configurations) and its run through
 * the model. See apply.h and docs/apply.md.
 */
#include "target/apply.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "nvmf/nvmf.h"
#include "target/iscsi_target.h"
#include "target/model.h"
#include "target/srp_port.h"

/* --- building the plan ----------------------------------------------------------------------- */

struct builder {
	struct tt_apply_plan removals; /* made first */
	struct tt_apply_plan changes;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 3, 4)))
static int plan_fail(struct builder *b, const char *path, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (b->err && b->errlen)
		snprintf(b->err, b->errlen, "%s: %s", path, msg);
	return -EINVAL;
}

/* A new step at the end of @p (zeroed but for @op and @leader), or NULL when out of memory. */
static struct tt_apply_step *add_step(struct tt_apply_plan *p, enum tt_apply_op op, int leader)
{
	struct tt_apply_step *s;

	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct tt_apply_step *n = realloc(p->steps, cap * sizeof(*n));

		if (!n)
			return NULL;
		p->steps = n;
		p->cap = cap;
	}
	s = &p->steps[p->n++];
	memset(s, 0, sizeof(*s));
	s->op = op;
	s->leader = leader;
	return s;
}

__attribute__((format(printf, 2, 3)))
static void step_text(struct tt_apply_step *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->text, sizeof(s->text), fmt, ap);
	va_end(ap);
}

#define NEW_STEP(b, plan, s, op, leader)                                                        \
	do {                                                                                    \
		(s) = add_step(plan, op, leader);                                               \
		if (!(s))                                                                       \
			return plan_fail(b, "(top level)", "out of memory");                    \
	} while (0)

/* --- TPG fields --- */

enum field_kind { F_MS, F_AUTH, F_BOOL, F_ALUA, F_U32, F_U8, F_DIGEST };

static const struct tpg_field {
	unsigned bit;
	const char *name;
	enum field_kind kind;
	size_t off;
} tpg_fields[] = {
#define V(f) offsetof(struct tt_apply_tpg_values, f)
#define P(f) (offsetof(struct tt_apply_tpg_values, params) + offsetof(struct tt_tpg_params, f))
	{ TT_CFG_T_NOP_INTERVAL, "nop_interval", F_MS, V(nop_interval_ms) },
	{ TT_CFG_T_NOP_TIMEOUT, "nop_timeout", F_MS, V(nop_timeout_ms) },
	{ TT_CFG_T_LOGIN_TIMEOUT, "login_timeout", F_MS, V(login_timeout_ms) },
	{ TT_CFG_T_AUTH, "auth", F_AUTH, V(chap_required) },
	{ TT_CFG_T_ALLOW_ANY, "allow_any_initiator", F_BOOL, V(allow_any_initiator) },
	{ TT_CFG_T_ALUA_STATE, "alua_state", F_ALUA, V(alua_state) },
	{ TT_CFG_T_ALUA_EXPLICIT, "alua_explicit", F_BOOL, V(alua_explicit) },
	{ TT_CFG_P_MAX_RECV_DSL, "MaxRecvDataSegmentLength", F_U32, P(max_recv_dsl) },
	{ TT_CFG_P_MAX_BURST, "MaxBurstLength", F_U32, P(max_burst) },
	{ TT_CFG_P_FIRST_BURST, "FirstBurstLength", F_U32, P(first_burst) },
	{ TT_CFG_P_IMMEDIATE_DATA, "ImmediateData", F_BOOL, P(immediate_data) },
	{ TT_CFG_P_INITIAL_R2T, "InitialR2T", F_BOOL, P(initial_r2t) },
	{ TT_CFG_P_MAX_OUTSTANDING_R2T, "MaxOutstandingR2T", F_U32, P(max_outstanding_r2t) },
	{ TT_CFG_P_MAX_CONNECTIONS, "MaxConnections", F_U32, P(max_connections) },
	{ TT_CFG_P_ERL, "ErrorRecoveryLevel", F_U8, P(max_erl) },
	{ TT_CFG_P_HEADER_DIGEST, "HeaderDigest", F_DIGEST, P(header_digest) },
	{ TT_CFG_P_DATA_DIGEST, "DataDigest", F_DIGEST, P(data_digest) },
	{ TT_CFG_P_TIME2WAIT, "DefaultTime2Wait", F_U32, P(time2wait) },
	{ TT_CFG_P_TIME2RETAIN, "DefaultTime2Retain", F_U32, P(time2retain) },
#undef V
#undef P
};
#define NFIELDS (sizeof(tpg_fields) / sizeof(tpg_fields[0]))

static bool field_equal(const struct tpg_field *f, const struct tt_apply_tpg_values *a,
			const struct tt_apply_tpg_values *b)
{
	const char *pa = (const char *)a + f->off, *pb = (const char *)b + f->off;

	switch (f->kind) {
	case F_MS:
	case F_U32:
		return *(const uint32_t *)pa == *(const uint32_t *)pb;
	case F_AUTH:
	case F_BOOL:
	case F_DIGEST:
		return *(const bool *)pa == *(const bool *)pb;
	case F_ALUA:
	case F_U8:
		return *(const uint8_t *)pa == *(const uint8_t *)pb;
	}
	return false;
}

static void field_format(const struct tpg_field *f, const struct tt_apply_tpg_values *v,
			 char *buf, size_t len)
{
	const char *p = (const char *)v + f->off;

	switch (f->kind) {
	case F_MS:
		snprintf(buf, len, "%g", *(const uint32_t *)p / 1000.0);
		break;
	case F_U32:
		snprintf(buf, len, "%u", *(const uint32_t *)p);
		break;
	case F_AUTH:
		snprintf(buf, len, "%s", *(const bool *)p ? "chap" : "none");
		break;
	case F_BOOL:
		snprintf(buf, len, "%s", *(const bool *)p ? "true" : "false");
		break;
	case F_DIGEST:
		snprintf(buf, len, "%s", *(const bool *)p ? "CRC32C,None" : "None");
		break;
	case F_ALUA:
		snprintf(buf, len, "%s", tt_alua_state_name(*(const uint8_t *)p));
		break;
	case F_U8:
		snprintf(buf, len, "%u", *(const uint8_t *)p);
		break;
	}
}

/* Stores the field of @from into @to (both the model's TPG fields, through the same offsets). */
static void field_copy(const struct tpg_field *f, struct tt_apply_tpg_values *to,
		       const struct tt_apply_tpg_values *from)
{
	size_t size = f->kind == F_MS || f->kind == F_U32 ? sizeof(uint32_t)
		      : f->kind == F_ALUA || f->kind == F_U8 ? sizeof(uint8_t) : sizeof(bool);

	memcpy((char *)to + f->off, (const char *)from + f->off, size);
}

/*
 * The values a TPG made from @g has: the model's defaults for what @g leaves out
 * (allow_any_initiator: true when the target has no ACL). -EINVAL when FirstBurstLength given
 * alone exceeds the default MaxBurstLength (the check tt_config_apply_tpg makes).
 */
static int tpg_values(struct builder *b, const char *path, const struct tt_config_tpg *g,
		      bool target_has_acls, struct tt_apply_tpg_values *v)
{
	const struct tt_tpg_params *q = &g->params;
	struct tt_tpg_params *p = &v->params;

	memset(v, 0, sizeof(*v));
	v->nop_interval_ms = g->set & TT_CFG_T_NOP_INTERVAL ? g->nop_interval_ms : 5000;
	v->nop_timeout_ms = g->set & TT_CFG_T_NOP_TIMEOUT ? g->nop_timeout_ms : 5000;
	v->login_timeout_ms = g->set & TT_CFG_T_LOGIN_TIMEOUT ? g->login_timeout_ms : 15000;
	v->chap_required = g->set & TT_CFG_T_AUTH ? g->chap_required : false;
	v->allow_any_initiator = g->set & TT_CFG_T_ALLOW_ANY ? g->allow_any_initiator
							      : !target_has_acls;
	v->allow_any_known = (g->set & TT_CFG_T_ALLOW_ANY) || !v->chap_required;
	v->alua_state = g->set & TT_CFG_T_ALUA_STATE ? g->alua_state : TT_ALUA_ACTIVE_OPTIMIZED;
	v->alua_explicit = g->set & TT_CFG_T_ALUA_EXPLICIT ? g->alua_explicit : true;
	tt_tpg_params_default(p);
#define PARAM(bit, f) if (g->set & (bit)) p->f = q->f
	PARAM(TT_CFG_P_MAX_RECV_DSL, max_recv_dsl);
	PARAM(TT_CFG_P_MAX_BURST, max_burst);
	PARAM(TT_CFG_P_FIRST_BURST, first_burst);
	PARAM(TT_CFG_P_IMMEDIATE_DATA, immediate_data);
	PARAM(TT_CFG_P_INITIAL_R2T, initial_r2t);
	PARAM(TT_CFG_P_MAX_OUTSTANDING_R2T, max_outstanding_r2t);
	PARAM(TT_CFG_P_MAX_CONNECTIONS, max_connections);
	PARAM(TT_CFG_P_ERL, max_erl);
	PARAM(TT_CFG_P_HEADER_DIGEST, header_digest);
	PARAM(TT_CFG_P_DATA_DIGEST, data_digest);
	PARAM(TT_CFG_P_TIME2WAIT, time2wait);
	PARAM(TT_CFG_P_TIME2RETAIN, time2retain);
#undef PARAM
	if (!(g->set & TT_CFG_P_FIRST_BURST) && p->first_burst > p->max_burst)
		p->first_burst = p->max_burst;
	if (p->first_burst > p->max_burst)
		return plan_fail(b, path, "params.FirstBurstLength: %u exceeds MaxBurstLength %u",
				 p->first_burst, p->max_burst);
	return 0;
}

/* --- portals --- */

/* The portal address of @pt as the model reads it, canonical in @canon. */
static int portal_parse(struct builder *b, const char *path, const struct tt_config_portal *pt,
			struct tt_portal_addr *a, char *canon, size_t len)
{
	char msg[256] = "";

	if (tt_portal_addr_parse(pt->addr, a, msg, sizeof(msg)))
		return plan_fail(b, path, "%s", msg[0] ? msg : "cannot parse address");
	tt_portal_addr_format(a, canon, len);
	return 0;
}

/* Index in @g of the portal at @a, or -1. Portals of @g that do not parse never match. */
static long portal_index(const struct tt_config_tpg *g, const struct tt_portal_addr *a)
{
	for (size_t i = 0; i < g->nportals; i++) {
		struct tt_portal_addr x;

		if (tt_portal_addr_parse(g->portals[i].addr, &x, NULL, 0) == 0 &&
		    tt_portal_addr_equal(&x, a))
			return (long)i;
	}
	return -1;
}

/* --- lookups --- */

static const struct tt_config_target *find_target(const struct tt_config *c, const char *name)
{
	for (size_t i = 0; i < c->ntargets; i++)
		if (strcmp(c->targets[i].name, name) == 0)
			return &c->targets[i];
	return NULL;
}

static const struct tt_config_tpg *find_tpg(const struct tt_config_target *t, uint16_t tag)
{
	for (size_t i = 0; i < t->ntpgs; i++)
		if (t->tpgs[i].tag == tag)
			return &t->tpgs[i];
	return NULL;
}

static const struct tt_config_lun *find_lun(const struct tt_config_target *t, uint64_t id)
{
	for (size_t i = 0; i < t->nluns; i++)
		if (t->luns[i].id == id)
			return &t->luns[i];
	return NULL;
}

static const struct tt_config_acl *find_acl(const struct tt_config_target *t, const char *name)
{
	for (size_t i = 0; i < t->nacls; i++)
		if (strcmp(t->acls[i].initiator, name) == 0)
			return &t->acls[i];
	return NULL;
}

/* --- text --- */

static const char *acl_kind(const struct tt_config_acl *a)
{
	if (!a->has_chap)
		return "";
	return a->chap.mutual_user[0] ? " (mutual CHAP)" : " (CHAP)";
}

/* What changed in the credentials, secrets only as "changed". "" when nothing. */
static void chap_diff(const struct tt_config_acl *o, const struct tt_config_acl *n, char *buf,
		      size_t len)
{
	static const struct tt_acl_chap none;
	const struct tt_acl_chap *a = o->has_chap ? &o->chap : &none;
	const struct tt_acl_chap *c = n->has_chap ? &n->chap : &none;
	size_t used = 0;

	buf[0] = '\0';
#define ADD(...) do {                                                                           \
		if (used < len)                                                                 \
			used += (size_t)snprintf(buf + used, len - used, "%s", used ? ", " : ""); \
		if (used < len)                                                                 \
			used += (size_t)snprintf(buf + used, len - used, __VA_ARGS__);          \
	} while (0)
	if (!o->has_chap && n->has_chap) {
		ADD("CHAP user %s set", c->user);
	} else if (o->has_chap && !n->has_chap) {
		ADD("CHAP removed");
	} else {
		if (strcmp(a->user, c->user))
			ADD("CHAP user %s -> %s", a->user, c->user);
		if (strcmp(a->secret, c->secret))
			ADD("CHAP secret changed");
	}
	if (!a->mutual_user[0] && c->mutual_user[0]) {
		ADD("mutual CHAP user %s set", c->mutual_user);
	} else if (a->mutual_user[0] && !c->mutual_user[0]) {
		if (n->has_chap)
			ADD("mutual CHAP removed");
	} else if (c->mutual_user[0]) {
		if (strcmp(a->mutual_user, c->mutual_user))
			ADD("mutual CHAP user %s -> %s", a->mutual_user, c->mutual_user);
		if (strcmp(a->mutual_secret, c->mutual_secret))
			ADD("mutual CHAP secret changed");
	}
#undef ADD
}

static const char *lun_opt(const struct tt_config_lun *l, unsigned bit, const char *s)
{
	return (l->set & bit) ? s : "";
}

/* The options of a LUN that differ, "" when none. */
static void lun_diff(const struct tt_config_lun *o, const struct tt_config_lun *n, char *buf,
		     size_t len)
{
	static const struct { unsigned bit; const char *name; size_t off; } strs[] = {
		{ TT_CFG_L_VENDOR, "vendor", offsetof(struct tt_config_lun, vendor) },
		{ TT_CFG_L_PRODUCT, "product", offsetof(struct tt_config_lun, product) },
		{ TT_CFG_L_SERIAL, "serial", offsetof(struct tt_config_lun, serial) },
	};
	size_t used = 0;

	buf[0] = '\0';
	if (strcmp(o->backend, n->backend) && used < len)
		used += (size_t)snprintf(buf + used, len - used, "backend %s -> %s", o->backend,
					 n->backend);
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		const char *a = lun_opt(o, strs[i].bit, (const char *)o + strs[i].off);
		const char *c = lun_opt(n, strs[i].bit, (const char *)n + strs[i].off);

		if (strcmp(a, c) && used < len)
			used += (size_t)snprintf(buf + used, len - used, "%s%s %s -> %s",
						 used ? ", " : "", strs[i].name,
						 *a ? a : "(default)", *c ? c : "(default)");
	}
	if (o->write_protect != n->write_protect && used < len)
		snprintf(buf + used, len - used, "%swrite_protect %s -> %s", used ? ", " : "",
			 o->write_protect ? "true" : "false", n->write_protect ? "true" : "false");
}

/* --- global --- */

static int plan_global(struct builder *b, const struct tt_config_global *cur,
		       const struct tt_config_global *want)
{
	struct tt_apply_step *s;

	/* fixed when the daemon starts: accepted only when identical (0 loops: the default) */
	if ((want->set & TT_CFG_G_LOOPS) && want->loops &&
	    (!(cur->set & TT_CFG_G_LOOPS) || cur->loops != want->loops))
		return plan_fail(b, "global.loops", "%u differs from the %u loops tetherd runs with; "
				 "it cannot change at run time (restart tetherd)", want->loops,
				 cur->loops);
	if ((want->set & TT_CFG_G_RPC_SOCKET) &&
	    (!(cur->set & TT_CFG_G_RPC_SOCKET) || strcmp(cur->rpc_socket, want->rpc_socket)))
		return plan_fail(b, "global.rpc_socket", "\"%s\" differs from the socket tetherd "
				 "listens on (\"%s\"); it cannot change at run time (restart "
				 "tetherd)", want->rpc_socket,
				 cur->set & TT_CFG_G_RPC_SOCKET ? cur->rpc_socket : "none");
	if ((want->set & TT_CFG_G_STATE_DIR) &&
	    (!(cur->set & TT_CFG_G_STATE_DIR) || strcmp(cur->state_dir, want->state_dir)))
		return plan_fail(b, "global.state_dir", "\"%s\" differs from the state directory in "
				 "force (\"%s\"); it cannot change at run time (restart tetherd)",
				 want->state_dir,
				 cur->set & TT_CFG_G_STATE_DIR ? cur->state_dir : "none");
	if ((want->set & TT_CFG_G_METRICS) &&
	    (!(cur->set & TT_CFG_G_METRICS) || strcmp(cur->metrics, want->metrics)))
		return plan_fail(b, "global.metrics", "\"%s\" differs from the metrics address in "
				 "force (\"%s\"); it cannot change at run time (restart tetherd)",
				 want->metrics,
				 cur->set & TT_CFG_G_METRICS ? cur->metrics : "none");
	if ((want->set & TT_CFG_G_STATS) &&
	    want->stats != (!(cur->set & TT_CFG_G_STATS) || cur->stats))
		return plan_fail(b, "global.stats", "%s differs from the counters in force (%s); it "
				 "cannot change at run time (restart tetherd)",
				 want->stats ? "true" : "false", want->stats ? "false" : "true");

	if ((want->set & TT_CFG_G_LOG_LEVEL) &&
	    (!(cur->set & TT_CFG_G_LOG_LEVEL) || cur->log_level != want->log_level)) {
		NEW_STEP(b, &b->changes, s, TT_APPLY_LOG_LEVEL, -1);
		s->global = want;
		snprintf(s->path, sizeof(s->path), "global.log_level");
		step_text(s, "change global log_level %s -> %s",
			  cur->set & TT_CFG_G_LOG_LEVEL ? tt_config_log_level_name(cur->log_level)
							: "(unknown)",
			  tt_config_log_level_name(want->log_level));
	}
	if (want->set & TT_CFG_G_DEBUG) {
		char diff[512] = "";
		size_t used = 0;

		for (unsigned i = 0; i < want->ndebug; i++) {
			unsigned k;

			for (k = 0; k < cur->ndebug; k++)
				if (!strcmp(cur->debug[k], want->debug[i]))
					break;
			if (k == cur->ndebug && used < sizeof(diff))
				used += (size_t)snprintf(diff + used, sizeof(diff) - used, " +%s",
							 want->debug[i]);
		}
		for (unsigned k = 0; k < cur->ndebug; k++) {
			unsigned i;

			for (i = 0; i < want->ndebug; i++)
				if (!strcmp(cur->debug[k], want->debug[i]))
					break;
			if (i == want->ndebug && used < sizeof(diff))
				used += (size_t)snprintf(diff + used, sizeof(diff) - used, " -%s",
							 cur->debug[k]);
		}
		if (used) {
			NEW_STEP(b, &b->changes, s, TT_APPLY_DEBUG, -1);
			s->global = want;
			snprintf(s->path, sizeof(s->path), "global.debug");
			step_text(s, "change global debug:%s", diff);
		}
	}
	/* limits: a key left out means its default, as at start */
	for (const struct tt_config_limit_key *k = tt_config_limit_keys; k->key; k++) {
		uint64_t was = tt_config_limit_get(&cur->limits, k);
		uint64_t to = tt_config_limit_get(&want->limits, k);

		if (was == to)
			continue;
		NEW_STEP(b, &b->changes, s, TT_APPLY_LIMITS, -1);
		s->global = want;
		snprintf(s->path, sizeof(s->path), "global.%s", k->key);
		step_text(s, "change global %s %llu -> %llu", k->key, (unsigned long long)was,
			  (unsigned long long)to);
	}
	return 0;
}

/* --- new objects --- */

/* "create tpg" with its portals as steps led by @leader (-1: the TPG step leads). */
static int plan_new_tpg(struct builder *b, const struct tt_config_target *ct, bool has_acls,
			const struct tt_config_tpg *cg, const char *path, int leader)
{
	struct tt_apply_tpg_values v;
	struct tt_apply_step *s;
	int rc, lead;

	if ((rc = tpg_values(b, path, cg, has_acls, &v)))
		return rc;
	NEW_STEP(b, &b->changes, s, TT_APPLY_TPG_CREATE, leader);
	lead = leader >= 0 ? leader : (int)(b->changes.n - 1);
	s->ct = ct;
	s->cg = cg;
	s->tag = cg->tag;
	snprintf(s->target, sizeof(s->target), "%s", ct->name);
	snprintf(s->path, sizeof(s->path), "%s", path);
	step_text(s, "create tpg %s/%u", ct->name, cg->tag);
	for (size_t i = 0; i < cg->nportals; i++) {
		char ppath[128], canon[TT_PORTAL_ADDR_MAX];
		struct tt_portal_addr a;

		snprintf(ppath, sizeof(ppath), "%s.portals[%zu]", path, i);
		if ((rc = portal_parse(b, ppath, &cg->portals[i], &a, canon, sizeof(canon))))
			return rc;
		NEW_STEP(b, &b->changes, s, TT_APPLY_PORTAL_ADD, lead);
		s->ct = ct;
		s->cg = cg;
		s->tag = cg->tag;
		snprintf(s->target, sizeof(s->target), "%s", ct->name);
		snprintf(s->addr, sizeof(s->addr), "%s", canon);
		snprintf(s->path, sizeof(s->path), "%s", ppath);
		step_text(s, "add portal %s/%u %s", ct->name, cg->tag, canon);
	}
	return 0;
}

static struct tt_apply_step *new_acl_step(struct tt_apply_plan *p, const struct tt_config_target *ct,
					  const struct tt_config_acl *ca, const char *path,
					  int leader)
{
	struct tt_apply_step *s = add_step(p, TT_APPLY_ACL_ADD, leader);

	if (!s)
		return NULL;
	s->ct = ct;
	s->ca = ca;
	snprintf(s->target, sizeof(s->target), "%s", ct->name);
	snprintf(s->initiator, sizeof(s->initiator), "%s", ca->initiator);
	snprintf(s->path, sizeof(s->path), "%s", path);
	step_text(s, "add acl %s/%s%s", ct->name, ca->initiator, acl_kind(ca));
	return s;
}

static struct tt_apply_step *new_lun_step(struct tt_apply_plan *p, const struct tt_config_target *ct,
					  const struct tt_config_lun *cl, const char *path,
					  int leader)
{
	struct tt_apply_step *s = add_step(p, TT_APPLY_LUN_ADD, leader);

	if (!s)
		return NULL;
	s->ct = ct;
	s->cl = cl;
	s->lun = cl->id;
	snprintf(s->target, sizeof(s->target), "%s", ct->name);
	snprintf(s->path, sizeof(s->path), "%s", path);
	step_text(s, "add lun %s/%llu: %s", ct->name, (unsigned long long)cl->id, cl->backend);
	return s;
}

static int plan_new_target(struct builder *b, const struct tt_config_target *ct, const char *path)
{
	struct tt_apply_step *s;
	char sub[96];
	int lead, rc;

	NEW_STEP(b, &b->changes, s, TT_APPLY_TARGET_CREATE, -1);
	lead = (int)(b->changes.n - 1);
	s->ct = ct;
	snprintf(s->target, sizeof(s->target), "%s", ct->name);
	snprintf(s->path, sizeof(s->path), "%s", path);
	step_text(s, "create target %s", ct->name);
	/* the order of creation: ACLs, LUNs, then TPGs with their portals */
	for (size_t i = 0; i < ct->nacls; i++) {
		snprintf(sub, sizeof(sub), "%s.acls[%zu]", path, i);
		if (!new_acl_step(&b->changes, ct, &ct->acls[i], sub, lead))
			return plan_fail(b, path, "out of memory");
	}
	for (size_t i = 0; i < ct->nluns; i++) {
		snprintf(sub, sizeof(sub), "%s.luns[%zu]", path, i);
		if (!new_lun_step(&b->changes, ct, &ct->luns[i], sub, lead))
			return plan_fail(b, path, "out of memory");
	}
	for (size_t i = 0; i < ct->ntpgs; i++) {
		snprintf(sub, sizeof(sub), "%s.tpgs[%zu]", path, i);
		if ((rc = plan_new_tpg(b, ct, ct->nacls > 0, &ct->tpgs[i], sub, lead)))
			return rc;
	}
	return 0;
}

/* --- changed targets --- */

static int plan_tpg_changes(struct builder *b, const struct tt_config_target *cur_t,
			    const struct tt_config_tpg *og, const struct tt_config_target *ct,
			    const struct tt_config_tpg *cg, const char *path)
{
	struct tt_apply_tpg_values ov, nv;
	struct tt_apply_step *s;
	int rc;

	if ((rc = tpg_values(b, "(running configuration)", og, cur_t->nacls > 0, &ov)) ||
	    (rc = tpg_values(b, path, cg, ct->nacls > 0, &nv)))
		return rc;
	for (size_t i = 0; i < NFIELDS; i++) {
		const struct tpg_field *f = &tpg_fields[i];
		char from[64], to[64];

		if (f->bit == TT_CFG_T_ALLOW_ANY) {
			/* meaningless with CHAP: compared only when the new value means something */
			if (!nv.allow_any_known)
				continue;
			if (ov.allow_any_known && field_equal(f, &ov, &nv))
				continue;
		} else if (field_equal(f, &ov, &nv)) {
			continue;
		}
		NEW_STEP(b, &b->changes, s, TT_APPLY_TPG_CHANGE, -1);
		s->ct = ct;
		s->cg = cg;
		s->tag = cg->tag;
		s->field = f->bit;
		s->values = nv;
		snprintf(s->target, sizeof(s->target), "%s", ct->name);
		snprintf(s->path, sizeof(s->path), "%s.%s%s", path,
			 f->bit >= TT_CFG_P_MAX_RECV_DSL ? "params." : "", f->name);
		field_format(f, &ov, from, sizeof(from));
		field_format(f, &nv, to, sizeof(to));
		if (f->bit == TT_CFG_T_ALLOW_ANY && !ov.allow_any_known)
			step_text(s, "change tpg %s/%u: %s -> %s", ct->name, cg->tag, f->name, to);
		else
			step_text(s, "change tpg %s/%u: %s %s -> %s", ct->name, cg->tag, f->name, from,
				  to);
	}
	return 0;
}

static int plan_target_changes(struct builder *b, const struct tt_config_target *o,
			       const struct tt_config_target *ct, const char *path)
{
	struct tt_apply_step *s;
	char sub[96], diff[1024];
	int rc;

	/* removals */
	for (size_t i = 0; i < o->ntpgs; i++) {
		const struct tt_config_tpg *og = &o->tpgs[i], *cg = find_tpg(ct, og->tag);

		if (!cg) {
			NEW_STEP(b, &b->removals, s, TT_APPLY_TPG_REMOVE, -1);
			s->tag = og->tag;
			snprintf(s->target, sizeof(s->target), "%s", ct->name);
			step_text(s, "remove tpg %s/%u (the sessions of %s end)", ct->name, og->tag,
				  ct->name);
			continue;
		}
		for (size_t k = 0; k < og->nportals; k++) {
			struct tt_portal_addr a;
			char canon[TT_PORTAL_ADDR_MAX];

			if (tt_portal_addr_parse(og->portals[k].addr, &a, NULL, 0))
				continue;
			if (portal_index(cg, &a) >= 0)
				continue;
			tt_portal_addr_format(&a, canon, sizeof(canon));
			NEW_STEP(b, &b->removals, s, TT_APPLY_PORTAL_REMOVE, -1);
			s->tag = og->tag;
			snprintf(s->target, sizeof(s->target), "%s", ct->name);
			snprintf(s->addr, sizeof(s->addr), "%s", canon);
			step_text(s, "remove portal %s/%u %s", ct->name, og->tag, canon);
		}
	}
	for (size_t i = 0; i < o->nluns; i++) {
		if (find_lun(ct, o->luns[i].id))
			continue;
		NEW_STEP(b, &b->removals, s, TT_APPLY_LUN_REMOVE, -1);
		s->lun = o->luns[i].id;
		snprintf(s->target, sizeof(s->target), "%s", ct->name);
		step_text(s, "remove lun %s/%llu (the sessions of %s end)", ct->name,
			  (unsigned long long)s->lun, ct->name);
	}
	for (size_t i = 0; i < o->nacls; i++) {
		if (find_acl(ct, o->acls[i].initiator))
			continue;
		NEW_STEP(b, &b->removals, s, TT_APPLY_ACL_REMOVE, -1);
		snprintf(s->target, sizeof(s->target), "%s", ct->name);
		snprintf(s->initiator, sizeof(s->initiator), "%s", o->acls[i].initiator);
		step_text(s, "remove acl %s/%s (its sessions with %s end)", ct->name, s->initiator,
			  ct->name);
	}

	/* changes and additions: alias, ACLs, LUNs, TPGs, then portals */
	if (strcmp(o->alias, ct->alias)) {
		NEW_STEP(b, &b->changes, s, TT_APPLY_TARGET_ALIAS, -1);
		s->ct = ct;
		snprintf(s->target, sizeof(s->target), "%s", ct->name);
		snprintf(s->path, sizeof(s->path), "%s.alias", path);
		step_text(s, "change target %s: alias \"%s\" -> \"%s\"", ct->name, o->alias,
			  ct->alias);
	}
	for (size_t i = 0; i < ct->nacls; i++) {
		const struct tt_config_acl *ca = &ct->acls[i], *oa = find_acl(o, ca->initiator);

		snprintf(sub, sizeof(sub), "%s.acls[%zu]", path, i);
		if (!oa) {
			if (!new_acl_step(&b->changes, ct, ca, sub, -1))
				return plan_fail(b, sub, "out of memory");
			continue;
		}
		chap_diff(oa, ca, diff, sizeof(diff));
		if (!diff[0])
			continue;
		NEW_STEP(b, &b->changes, s, TT_APPLY_ACL_CHANGE, -1);
		s->ct = ct;
		s->ca = ca;
		snprintf(s->target, sizeof(s->target), "%s", ct->name);
		snprintf(s->initiator, sizeof(s->initiator), "%s", ca->initiator);
		snprintf(s->path, sizeof(s->path), "%s", sub);
		step_text(s, "change acl %s/%s: %s", ct->name, ca->initiator, diff);
	}
	for (size_t i = 0; i < ct->nluns; i++) {
		const struct tt_config_lun *cl = &ct->luns[i], *ol = find_lun(o, cl->id);

		snprintf(sub, sizeof(sub), "%s.luns[%zu]", path, i);
		if (!ol) {
			if (!new_lun_step(&b->changes, ct, cl, sub, -1))
				return plan_fail(b, sub, "out of memory");
			continue;
		}
		lun_diff(ol, cl, diff, sizeof(diff));
		if (!diff[0])
			continue;
		NEW_STEP(b, &b->changes, s, TT_APPLY_LUN_REPLACE, -1);
		s->ct = ct;
		s->cl = cl;
		s->lun = cl->id;
		snprintf(s->target, sizeof(s->target), "%s", ct->name);
		snprintf(s->path, sizeof(s->path), "%s", sub);
		step_text(s, "replace lun %s/%llu: %s (removed and added again; the sessions of %s "
			  "end)", ct->name, (unsigned long long)cl->id, diff, ct->name);
	}
	for (size_t i = 0; i < ct->ntpgs; i++) {
		const struct tt_config_tpg *cg = &ct->tpgs[i], *og = find_tpg(o, cg->tag);

		snprintf(sub, sizeof(sub), "%s.tpgs[%zu]", path, i);
		if (og && (rc = plan_tpg_changes(b, o, og, ct, cg, sub)))
			return rc;
	}
	for (size_t i = 0; i < ct->ntpgs; i++) {
		const struct tt_config_tpg *cg = &ct->tpgs[i], *og = find_tpg(o, cg->tag);

		snprintf(sub, sizeof(sub), "%s.tpgs[%zu]", path, i);
		if (!og) {
			if ((rc = plan_new_tpg(b, ct, ct->nacls > 0, cg, sub, -1)))
				return rc;
			continue;
		}
		for (size_t k = 0; k < cg->nportals; k++) {
			char ppath[128], canon[TT_PORTAL_ADDR_MAX];
			struct tt_portal_addr a;

			snprintf(ppath, sizeof(ppath), "%s.portals[%zu]", sub, k);
			if ((rc = portal_parse(b, ppath, &cg->portals[k], &a, canon, sizeof(canon))))
				return rc;
			if (portal_index(og, &a) >= 0)
				continue;
			NEW_STEP(b, &b->changes, s, TT_APPLY_PORTAL_ADD, -1);
			s->ct = ct;
			s->cg = cg;
			s->tag = cg->tag;
			snprintf(s->target, sizeof(s->target), "%s", ct->name);
			snprintf(s->addr, sizeof(s->addr), "%s", canon);
			snprintf(s->path, sizeof(s->path), "%s", ppath);
			step_text(s, "add portal %s/%u %s", ct->name, cg->tag, canon);
		}
	}
	return 0;
}

/* --- NVMe-oF --- */

static const struct tt_config_nvmf_subsys *find_subsys(const struct tt_config_nvmf *n,
						       const char *nqn)
{
	for (size_t i = 0; i < n->nsubsys; i++)
		if (!strcmp(n->subsys[i].nqn, nqn))
			return &n->subsys[i];
	return NULL;
}

static const struct tt_config_nvmf_ns *find_ns(const struct tt_config_nvmf_subsys *s, uint32_t id)
{
	for (size_t i = 0; i < s->nns; i++)
		if (s->ns[i].nsid == id)
			return &s->ns[i];
	return NULL;
}

static bool has_host(const struct tt_config_nvmf_subsys *s, const char *h)
{
	for (size_t i = 0; i < s->nhosts; i++)
		if (!strcmp(s->hosts[i], h))
			return true;
	return false;
}

static void ns_origin(const struct tt_config_nvmf_ns *n, char *buf, size_t len)
{
	if (n->backend[0])
		snprintf(buf, len, "%s", n->backend);
	else
		snprintf(buf, len, "lun %s/%llu", n->lun_target, (unsigned long long)n->lun_id);
}

static int plan_subsys_changes(struct builder *b, const struct tt_config_nvmf_subsys *o,
			       const struct tt_config_nvmf_subsys *cs, const char *path)
{
	struct tt_apply_step *s;
	char from[600], to[600];

	for (size_t i = 0; i < o->nns; i++) {
		if (find_ns(cs, o->ns[i].nsid))
			continue;
		NEW_STEP(b, &b->removals, s, TT_APPLY_NVMF_NS_REMOVE, -1);
		snprintf(s->nqn, sizeof(s->nqn), "%s", cs->nqn);
		s->nsid = o->ns[i].nsid;
		step_text(s, "remove namespace %s/%u", cs->nqn, s->nsid);
	}
	if (!o->allow_any_host && cs->allow_any_host) {
		/* opened before the hosts go: their controllers stay */
		NEW_STEP(b, &b->removals, s, TT_APPLY_NVMF_ALLOW_ANY, -1);
		snprintf(s->nqn, sizeof(s->nqn), "%s", cs->nqn);
		snprintf(s->path, sizeof(s->path), "%s.allow_any_host", path);
		s->cs = cs;
		step_text(s, "change subsystem %s: allow_any_host false -> true", cs->nqn);
	}
	for (size_t i = 0; i < o->nhosts; i++) {
		if (has_host(cs, o->hosts[i]))
			continue;
		NEW_STEP(b, &b->removals, s, TT_APPLY_NVMF_HOST_REMOVE, -1);
		snprintf(s->nqn, sizeof(s->nqn), "%s", cs->nqn);
		snprintf(s->host, sizeof(s->host), "%s", o->hosts[i]);
		if (cs->allow_any_host)
			step_text(s, "remove host %s from %s", s->host, cs->nqn);
		else
			step_text(s, "remove host %s from %s (its controllers end)", s->host,
				  cs->nqn);
	}
	if ((o->set & TT_CFG_S_SERIAL) != (cs->set & TT_CFG_S_SERIAL) ||
	    (o->set & TT_CFG_S_MODEL) != (cs->set & TT_CFG_S_MODEL) ||
	    strcmp(o->serial, cs->serial) || strcmp(o->model, cs->model)) {
		NEW_STEP(b, &b->changes, s, TT_APPLY_NVMF_SUBSYS_IDS, -1);
		snprintf(s->nqn, sizeof(s->nqn), "%s", cs->nqn);
		snprintf(s->path, sizeof(s->path), "%s", path);
		s->cs = cs;
		step_text(s, "change subsystem %s: serial \"%s\", model \"%s\"", cs->nqn,
			  cs->serial, cs->model);
	}
	for (size_t i = 0; i < cs->nhosts; i++) {
		if (has_host(o, cs->hosts[i]))
			continue;
		NEW_STEP(b, &b->changes, s, TT_APPLY_NVMF_HOST_ADD, -1);
		snprintf(s->nqn, sizeof(s->nqn), "%s", cs->nqn);
		snprintf(s->host, sizeof(s->host), "%s", cs->hosts[i]);
		snprintf(s->path, sizeof(s->path), "%s.hosts[%zu]", path, i);
		step_text(s, "add host %s to %s", s->host, cs->nqn);
	}
	if (o->allow_any_host && !cs->allow_any_host) {
		/* closed after the hosts of the file are in: only the others' controllers end */
		NEW_STEP(b, &b->changes, s, TT_APPLY_NVMF_ALLOW_ANY, -1);
		snprintf(s->nqn, sizeof(s->nqn), "%s", cs->nqn);
		snprintf(s->path, sizeof(s->path), "%s.allow_any_host", path);
		s->cs = cs;
		step_text(s, "change subsystem %s: allow_any_host true -> false (the controllers of "
			  "hosts not listed end)", cs->nqn);
	}
	for (size_t i = 0; i < cs->nns; i++) {
		const struct tt_config_nvmf_ns *on = find_ns(o, cs->ns[i].nsid), *cn = &cs->ns[i];

		if (on && !strcmp(on->backend, cn->backend) &&
		    !strcmp(on->lun_target, cn->lun_target) && on->lun_id == cn->lun_id)
			continue;
		NEW_STEP(b, &b->changes, s, on ? TT_APPLY_NVMF_NS_REPLACE : TT_APPLY_NVMF_NS_ADD, -1);
		snprintf(s->nqn, sizeof(s->nqn), "%s", cs->nqn);
		snprintf(s->path, sizeof(s->path), "%s.namespaces[%zu]", path, i);
		s->nsid = cn->nsid;
		s->cn = cn;
		ns_origin(cn, to, sizeof(to));
		if (on) {
			ns_origin(on, from, sizeof(from));
			step_text(s, "replace namespace %s/%u: %s -> %s", cs->nqn, cn->nsid, from, to);
		} else {
			step_text(s, "add namespace %s/%u: %s", cs->nqn, cn->nsid, to);
		}
	}
	return 0;
}

static int plan_nvmf(struct builder *b, const struct tt_config_nvmf *cur,
		     const struct tt_config_nvmf *want)
{
	struct tt_apply_step *s;
	char path[64];
	int rc;

	/* ports first: a host on a port that goes loses that path (its reconnects are refused)
	 * rather than seeing its subsystem disappear behind a port still served */
	for (size_t i = 0; i < cur->nports; i++) {
		bool kept = false;

		for (size_t k = 0; k < want->nports; k++)
			kept |= tt_portal_addr_equal(&cur->ports[i].parsed, &want->ports[k].parsed);
		if (kept)
			continue;
		NEW_STEP(b, &b->removals, s, TT_APPLY_NVMF_PORT_REMOVE, -1);
		snprintf(s->addr, sizeof(s->addr), "%s", cur->ports[i].addr);
		s->ana_group = cur->ports[i].ana_group;
		step_text(s, "remove port %s (ANA group %u; the controllers through it end)",
			  s->addr, s->ana_group);
	}
	for (size_t i = 0; i < cur->nsubsys; i++) {
		if (find_subsys(want, cur->subsys[i].nqn))
			continue;
		NEW_STEP(b, &b->removals, s, TT_APPLY_NVMF_SUBSYS_REMOVE, -1);
		snprintf(s->nqn, sizeof(s->nqn), "%s", cur->subsys[i].nqn);
		step_text(s, "remove subsystem %s (its controllers end)", s->nqn);
	}
	for (size_t i = 0; i < want->ngroups; i++) {
		const struct tt_config_nvmf_ana *g = &want->groups[i];

		bool listed = false;

		for (size_t k = 0; k < cur->ngroups; k++)
			listed |= cur->groups[k].id == g->id;
		if (listed && tt_config_nvmf_ana_state(cur, g->id) == g->state)
			continue;
		NEW_STEP(b, &b->changes, s, TT_APPLY_NVMF_ANA_SET, -1);
		snprintf(s->path, sizeof(s->path), "nvmf.ana_groups[%zu]", i);
		s->ana_group = g->id;
		s->ana_state = g->state;
		step_text(s, "ANA group %u: %s -> %s", g->id,
			  tt_nvmf_ana_state_name(tt_config_nvmf_ana_state(cur, g->id)),
			  tt_nvmf_ana_state_name(g->state));
	}
	for (size_t i = 0; i < want->nports; i++) {
		const struct tt_config_nvmf_port *p = &want->ports[i];
		const struct tt_config_nvmf_port *o = NULL;

		for (size_t k = 0; k < cur->nports; k++)
			if (tt_portal_addr_equal(&cur->ports[k].parsed, &p->parsed))
				o = &cur->ports[k];
		snprintf(path, sizeof(path), "nvmf.ports[%zu]", i);
		if (o && o->ana_group != p->ana_group) {
			NEW_STEP(b, &b->changes, s, TT_APPLY_NVMF_PORT_MOVE, -1);
			snprintf(s->path, sizeof(s->path), "%s.ana_group", path);
			snprintf(s->addr, sizeof(s->addr), "%s", p->addr);
			s->ana_group = p->ana_group;
			step_text(s, "move port %s: ANA group %u -> %u", p->addr, o->ana_group,
				  p->ana_group);
		}
		if (o)
			continue;
		NEW_STEP(b, &b->changes, s, TT_APPLY_NVMF_PORT_ADD, -1);
		snprintf(s->path, sizeof(s->path), "%s", path);
		s->cp = p;
		step_text(s, "add port %s (ANA group %u)", p->addr, p->ana_group);
	}
	for (size_t i = 0; i < want->nsubsys; i++) {
		const struct tt_config_nvmf_subsys *cs = &want->subsys[i];
		const struct tt_config_nvmf_subsys *o = find_subsys(cur, cs->nqn);

		snprintf(path, sizeof(path), "nvmf.subsystems[%zu]", i);
		if (o) {
			if ((rc = plan_subsys_changes(b, o, cs, path)))
				return rc;
			continue;
		}
		NEW_STEP(b, &b->changes, s, TT_APPLY_NVMF_SUBSYS_CREATE, -1);
		snprintf(s->nqn, sizeof(s->nqn), "%s", cs->nqn);
		snprintf(s->path, sizeof(s->path), "%s", path);
		s->cs = cs;
		step_text(s, "create subsystem %s (%zu namespace%s, %s)", cs->nqn, cs->nns,
			  cs->nns == 1 ? "" : "s", cs->allow_any_host ? "any host" : "listed hosts");
	}
	return 0;
}

void tt_apply_plan_free(struct tt_apply_plan *plan)
{
	free(plan->steps);
	memset(plan, 0, sizeof(*plan));
}

int tt_apply_plan(const struct tt_config *cur, const struct tt_config *want,
		  struct tt_apply_plan *plan, char *err, size_t errlen)
{
	struct builder b = { .err = err, .errlen = errlen };
	char path[64];
	int rc;

	memset(plan, 0, sizeof(*plan));
	rc = plan_global(&b, &cur->global, &want->global);
	for (size_t i = 0; !rc && i < cur->ntargets; i++) {
		struct tt_apply_step *s;

		if (find_target(want, cur->targets[i].name))
			continue;
		s = add_step(&b.removals, TT_APPLY_TARGET_REMOVE, -1);
		if (!s) {
			rc = plan_fail(&b, "(top level)", "out of memory");
			break;
		}
		snprintf(s->target, sizeof(s->target), "%s", cur->targets[i].name);
		step_text(s, "remove target %s (its sessions end)", s->target);
	}
	for (size_t i = 0; !rc && i < want->ntargets; i++) {
		const struct tt_config_target *ct = &want->targets[i];
		const struct tt_config_target *o = find_target(cur, ct->name);

		snprintf(path, sizeof(path), "targets[%zu]", i);
		rc = o ? plan_target_changes(&b, o, ct, path) : plan_new_target(&b, ct, path);
	}
	if (!rc)
		rc = plan_nvmf(&b, &cur->nvmf, &want->nvmf);
	if (rc)
		goto fail;
	/* removals first; the leaders of the other steps move by as many */
	*plan = b.removals;
	for (size_t i = 0; i < b.changes.n; i++) {
		struct tt_apply_step *s = add_step(plan, b.changes.steps[i].op, -1);

		if (!s) {
			b.removals = *plan;
			rc = plan_fail(&b, "(top level)", "out of memory");
			memset(plan, 0, sizeof(*plan));
			goto fail;
		}
		*s = b.changes.steps[i];
		if (s->leader >= 0)
			s->leader += (int)b.removals.n;
	}
	tt_apply_plan_free(&b.changes);
	return 0;
fail:
	tt_apply_plan_free(&b.removals);
	tt_apply_plan_free(&b.changes);
	return rc;
}

/* --- the running configuration ----------------------------------------------------------------- */

int tt_apply_current(struct tt_config **out, char *err, size_t errlen)
{
	char msg[1024] = "";
	const char *dir;
	json_t *root = NULL;
	int rc;

	*out = NULL;
	rc = tt_config_dump(&root, true); /* secrets too: a changed secret is a change */
	if (rc) {
		snprintf(err, errlen, "cannot read the running configuration: %s", strerror(-rc));
		return rc;
	}
	rc = tt_config_parse(root, out, msg, sizeof(msg));
	json_decref(root);
	if (rc) {
		snprintf(err, errlen, "the running configuration does not read back: %s", msg);
		return rc;
	}
	dir = tt_model_state_dir();
	if (!((*out)->global.set & TT_CFG_G_STATE_DIR)) {
		snprintf((*out)->global.state_dir, sizeof((*out)->global.state_dir), "%s",
			 dir ? dir : "none");
		(*out)->global.set |= TT_CFG_G_STATE_DIR;
	}
	return 0;
}

/* --- running a plan ---------------------------------------------------------------------------- */

__attribute__((format(printf, 4, 5)))
static int run_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc ? rc : -EIO;
}

static struct tt_target *target_get(const char *name)
{
	struct tt_target *t;

	tt_model_lock();
	t = tt_target_find(name);
	tt_model_unlock();
	return t;
}

static struct tt_tpg *tpg_get(struct tt_target *t, uint16_t tag)
{
	struct tt_tpg *g;

	tt_model_lock();
	g = tt_tpg_find(t, tag);
	tt_model_unlock();
	return g;
}

static void apply_debug(const struct tt_config_global *g)
{
	json_t *cur = tt_config_dump_global(), *list = json_object_get(cur, "debug"), *c;
	size_t i;

	json_array_foreach(list, i, c) {
		const char *name = json_string_value(c);
		unsigned k;

		for (k = 0; k < g->ndebug; k++)
			if (!strcmp(g->debug[k], name))
				break;
		if (k == g->ndebug) {
			tt_log_debug_enable(name, false);
			tt_config_note_debug(name, false);
		}
	}
	json_decref(cur);
	for (unsigned k = 0; k < g->ndebug; k++) {
		int rc = tt_log_debug_enable(g->debug[k], true);

		if (rc)
			tt_warn("config", "global.debug[%u]: cannot enable \"%s\": %s", k,
				g->debug[k], strerror(-rc));
		else
			tt_config_note_debug(g->debug[k], true);
	}
}

/* Sets one field of a TPG (loop 0; readers on other loops take the lock). */
static int tpg_set_field(struct tt_target *t, struct tt_tpg *g, const struct tt_apply_step *s,
			 char *msg, size_t len)
{
	struct tt_apply_tpg_values v;

	memset(&v, 0, sizeof(v));
	if (s->field == TT_CFG_T_ALUA_STATE)
		return tt_tpg_set_alua(t, g->tag, (enum tt_alua_state)s->values.alua_state, msg, len);
	if (s->field == TT_CFG_T_ALUA_EXPLICIT)
		return tt_tpg_set_alua_explicit(t, g->tag, s->values.alua_explicit, msg, len);
	tt_model_lock();
	v.nop_interval_ms = g->nop_interval_ms;
	v.nop_timeout_ms = g->nop_timeout_ms;
	v.login_timeout_ms = g->login_timeout_ms;
	v.chap_required = g->chap_required;
	v.allow_any_initiator = g->allow_any_initiator;
	v.params = g->params;
	for (size_t i = 0; i < NFIELDS; i++)
		if (tpg_fields[i].bit == s->field)
			field_copy(&tpg_fields[i], &v, &s->values);
	g->nop_interval_ms = v.nop_interval_ms;
	g->nop_timeout_ms = v.nop_timeout_ms;
	g->login_timeout_ms = v.login_timeout_ms;
	g->chap_required = v.chap_required;
	g->allow_any_initiator = v.allow_any_initiator;
	g->params = v.params;
	tt_model_unlock();
	if (s->field == TT_CFG_T_ALLOW_ANY && !v.allow_any_initiator)
		tt_srp_port_check_access(); /* SRP channels without an ACL go */
	return 0;
}

/* A new target with what it holds; deleted again when a part fails. */
static int create_target(const struct tt_apply_plan *plan, size_t lead,
			 struct tt_target_lun **prepared, char *err, size_t errlen)
{
	const struct tt_apply_step *s = &plan->steps[lead];
	const struct tt_config_target *ct = s->ct;
	struct tt_target *t = NULL;
	char msg[512] = "";
	int rc;

	rc = tt_target_create(ct->name, ct->alias, &t, msg, sizeof(msg));
	if (rc)
		return run_fail(err, errlen, rc, "%s: %s", s->path, msg);
	for (size_t i = lead + 1; i < plan->n; i++) {
		const struct tt_apply_step *p = &plan->steps[i];

		if (p->leader != (int)lead)
			continue;
		msg[0] = '\0';
		if (p->op == TT_APPLY_ACL_ADD) {
			rc = tt_config_apply_acl(t, p->ca, p->path, err, errlen);
		} else if (p->op == TT_APPLY_LUN_ADD) {
			rc = tt_target_lun_insert(t, prepared[i], msg, sizeof(msg));
			if (rc)
				run_fail(err, errlen, rc, "%s: %s", p->path, msg);
			else
				prepared[i] = NULL;
		} else if (p->op == TT_APPLY_TPG_CREATE) {
			rc = tt_config_apply_tpg(t, p->cg, p->path, err, errlen);
		}
		if (rc) {
			tt_target_delete(ct->name, NULL, 0);
			return rc;
		}
	}
	return 0;
}

static int run_nvmf_step(const struct tt_apply_step *s, char *err, size_t errlen)
{
	const char *where = s->path[0] ? s->path : s->text;
	struct tt_nvmf_subsys *sub = NULL;
	char msg[512] = "";
	int rc = 0;

	if (s->op != TT_APPLY_NVMF_ANA_SET && s->op != TT_APPLY_NVMF_PORT_ADD &&
	    s->op != TT_APPLY_NVMF_PORT_REMOVE && s->op != TT_APPLY_NVMF_PORT_MOVE &&
	    s->op != TT_APPLY_NVMF_SUBSYS_CREATE && s->op != TT_APPLY_NVMF_SUBSYS_REMOVE) {
		sub = tt_nvmf_subsys_find(s->nqn);
		if (!sub)
			return run_fail(err, errlen, -ENOENT, "%s: subsystem %s is gone", where,
					s->nqn);
	}
	switch (s->op) {
	case TT_APPLY_NVMF_PORT_REMOVE:
		rc = tt_nvmf_port_remove(s->addr, msg, sizeof(msg));
		break;
	case TT_APPLY_NVMF_PORT_MOVE: {
		struct tt_nvmf_port *p = tt_nvmf_port_find(s->addr);

		if (!p)
			return run_fail(err, errlen, -ENOENT, "%s: port %s is gone", where, s->addr);
		rc = tt_nvmf_port_set_ana_group(p, s->ana_group, msg, sizeof(msg));
		break;
	}
	case TT_APPLY_NVMF_SUBSYS_REMOVE:
		rc = tt_nvmf_subsys_delete(s->nqn, msg, sizeof(msg));
		break;
	case TT_APPLY_NVMF_NS_REMOVE:
		rc = tt_nvmf_ns_remove(sub, s->nsid, msg, sizeof(msg));
		break;
	case TT_APPLY_NVMF_HOST_REMOVE:
		rc = tt_nvmf_subsys_remove_host(sub, s->host, msg, sizeof(msg));
		break;
	case TT_APPLY_NVMF_ANA_SET:
		rc = tt_nvmf_ana_set(s->ana_group, (enum tt_nvmf_ana_state)s->ana_state, msg,
				     sizeof(msg));
		break;
	case TT_APPLY_NVMF_PORT_ADD:
		return tt_config_nvmf_apply_port(s->cp, where, err, errlen);
	case TT_APPLY_NVMF_SUBSYS_CREATE:
		return tt_config_nvmf_apply_subsys(s->cs, where, err, errlen);
	case TT_APPLY_NVMF_SUBSYS_IDS:
		rc = tt_nvmf_subsys_set_ids(sub, (s->cs->set & TT_CFG_S_SERIAL) ? s->cs->serial : NULL,
					    (s->cs->set & TT_CFG_S_MODEL) ? s->cs->model : NULL, msg,
					    sizeof(msg));
		break;
	case TT_APPLY_NVMF_HOST_ADD:
		rc = tt_nvmf_subsys_add_host(sub, s->host, msg, sizeof(msg));
		break;
	case TT_APPLY_NVMF_ALLOW_ANY:
		tt_nvmf_subsys_allow_any_host(sub, s->cs->allow_any_host);
		break;
	case TT_APPLY_NVMF_NS_REPLACE:
		rc = tt_nvmf_ns_remove(sub, s->nsid, msg, sizeof(msg));
		if (rc)
			break;
		/* fall through */
	case TT_APPLY_NVMF_NS_ADD:
		return tt_config_nvmf_apply_ns(s->nqn, s->cn, where, err, errlen);
	default:
		break;
	}
	if (rc)
		return run_fail(err, errlen, rc, "%s: %s", where, msg);
	return 0;
}

static int run_step(const struct tt_apply_plan *plan, size_t i, struct tt_target_lun **prepared,
		    char *err, size_t errlen)
{
	const struct tt_apply_step *s = &plan->steps[i];
	const char *where = s->path[0] ? s->path : s->text;
	struct tt_target *t = NULL;
	struct tt_tpg *g = NULL;
	char msg[512] = "";
	int rc = 0;

	switch (s->op) {
	case TT_APPLY_LOG_LEVEL:
		tt_log_set_level((enum tt_log_level)s->global->log_level);
		return 0;
	case TT_APPLY_DEBUG:
		apply_debug(s->global);
		return 0;
	case TT_APPLY_LIMITS:
		tt_limits_set(&s->global->limits);
		return 0;
	case TT_APPLY_TARGET_CREATE:
		return create_target(plan, i, prepared, err, errlen);
	case TT_APPLY_NVMF_PORT_REMOVE:
	case TT_APPLY_NVMF_PORT_MOVE:
	case TT_APPLY_NVMF_SUBSYS_REMOVE:
	case TT_APPLY_NVMF_NS_REMOVE:
	case TT_APPLY_NVMF_HOST_REMOVE:
	case TT_APPLY_NVMF_ANA_SET:
	case TT_APPLY_NVMF_PORT_ADD:
	case TT_APPLY_NVMF_SUBSYS_CREATE:
	case TT_APPLY_NVMF_SUBSYS_IDS:
	case TT_APPLY_NVMF_HOST_ADD:
	case TT_APPLY_NVMF_ALLOW_ANY:
	case TT_APPLY_NVMF_NS_ADD:
	case TT_APPLY_NVMF_NS_REPLACE:
		return run_nvmf_step(s, err, errlen);
	case TT_APPLY_TARGET_REMOVE:
		rc = tt_target_delete(s->target, msg, sizeof(msg));
		break;
	default:
		t = target_get(s->target);
		if (!t)
			return run_fail(err, errlen, -ENOENT, "%s: target %s is gone", where,
					s->target);
		break;
	}
	if (rc)
		return run_fail(err, errlen, rc, "%s: %s", where, msg);
	if (s->op == TT_APPLY_TPG_REMOVE || s->op == TT_APPLY_PORTAL_REMOVE ||
	    s->op == TT_APPLY_TPG_CHANGE || s->op == TT_APPLY_PORTAL_ADD) {
		g = tpg_get(t, s->tag);
		if (!g)
			return run_fail(err, errlen, -ENOENT, "%s: target %s has no tpg %u", where,
					s->target, s->tag);
	}
	switch (s->op) {
	case TT_APPLY_TPG_REMOVE:
		rc = tt_tpg_delete(t, s->tag, msg, sizeof(msg));
		break;
	case TT_APPLY_PORTAL_REMOVE:
		rc = tt_portal_remove(g, s->addr, msg, sizeof(msg));
		break;
	case TT_APPLY_LUN_REMOVE:
		rc = tt_target_lun_remove(t, s->lun, msg, sizeof(msg));
		break;
	case TT_APPLY_ACL_REMOVE:
		rc = tt_acl_remove(t, s->initiator, msg, sizeof(msg));
		/* admitted under an ACL that is gone: they log in again under the new rules */
		if (!rc)
			tt_target_end_initiator_sessions(t, s->initiator, true, "ACL removed");
		break;
	case TT_APPLY_TARGET_ALIAS:
		tt_model_lock();
		snprintf(t->alias, sizeof(t->alias), "%s", s->ct->alias);
		tt_model_unlock();
		break;
	case TT_APPLY_ACL_ADD:
		return tt_config_apply_acl(t, s->ca, s->path, err, errlen);
	case TT_APPLY_ACL_CHANGE: {
		static const struct tt_acl_chap no_chap;
		struct tt_acl *a;

		tt_model_lock();
		a = tt_acl_find(t, s->initiator);
		if (a)
			a->chap = s->ca->has_chap ? s->ca->chap : no_chap;
		tt_model_unlock();
		if (!a)
			return run_fail(err, errlen, -ENOENT, "%s: target %s has no ACL for %s",
					where, s->target, s->initiator);
		tt_info("config", "target %s: ACL %s: CHAP credentials changed", t->name,
			s->initiator);
		break;
	}
	case TT_APPLY_LUN_REPLACE:
		rc = tt_target_lun_remove(t, s->lun, msg, sizeof(msg));
		if (rc)
			break;
		/* fall through */
	case TT_APPLY_LUN_ADD:
		rc = tt_target_lun_insert(t, prepared[i], msg, sizeof(msg));
		if (!rc)
			prepared[i] = NULL;
		break;
	case TT_APPLY_TPG_CHANGE:
		rc = tpg_set_field(t, g, s, msg, sizeof(msg));
		break;
	case TT_APPLY_TPG_CREATE:
		return tt_config_apply_tpg(t, s->cg, s->path, err, errlen);
	case TT_APPLY_PORTAL_ADD:
		rc = tt_portal_add(g, s->addr, NULL, msg, sizeof(msg));
		break;
	default:
		break;
	}
	if (rc)
		return run_fail(err, errlen, rc, "%s: %s", where, msg);
	return 0;
}

int tt_apply_run(const struct tt_apply_plan *plan, bool *done, char *err, size_t errlen)
{
	struct tt_target_lun **prepared;
	int rc = 0;

	for (size_t i = 0; i < plan->n; i++)
		done[i] = false;
	if (!plan->n)
		return 0;
	prepared = calloc(plan->n, sizeof(*prepared));
	if (!prepared)
		return run_fail(err, errlen, -ENOMEM, "out of memory");
	/* every new backend first: a LUN that cannot be opened changes nothing */
	for (size_t i = 0; i < plan->n && !rc; i++) {
		const struct tt_apply_step *s = &plan->steps[i];
		const struct tt_config_lun *cl = s->cl;
		struct tt_lun_opts opts;
		char msg[512] = "";

		if ((s->op == TT_APPLY_NVMF_NS_ADD || s->op == TT_APPLY_NVMF_NS_REPLACE) &&
		    s->cn->backend[0]) {
			struct tt_bdev *bdev;

			/* a namespace's backend that cannot be opened changes nothing either */
			rc = tt_bdev_open(s->cn->backend, &bdev, msg, sizeof(msg));
			if (rc)
				run_fail(err, errlen, rc, "%s.backend: %s", s->path, msg);
			else
				tt_bdev_put(bdev);
			continue;
		}
		if (s->op != TT_APPLY_LUN_ADD && s->op != TT_APPLY_LUN_REPLACE)
			continue;
		opts = (struct tt_lun_opts){
			.vendor = (cl->set & TT_CFG_L_VENDOR) ? cl->vendor : NULL,
			.product = (cl->set & TT_CFG_L_PRODUCT) ? cl->product : NULL,
			.serial = (cl->set & TT_CFG_L_SERIAL) ? cl->serial : NULL,
			.write_protect = cl->write_protect,
		};
		rc = tt_target_lun_prepare(s->target, cl->id, cl->backend, &opts, &prepared[i], msg,
					   sizeof(msg));
		if (rc)
			run_fail(err, errlen, rc, "%s: %s", s->path, msg);
	}
	for (size_t i = 0; i < plan->n && !rc; i++) {
		if (plan->steps[i].leader >= 0)
			continue;
		rc = run_step(plan, i, prepared, err, errlen);
		if (rc)
			break;
		done[i] = true;
		for (size_t k = i + 1; k < plan->n; k++)
			if (plan->steps[k].leader == (int)i)
				done[k] = true;
		tt_notice("config", "apply: %s", plan->steps[i].text);
	}
	for (size_t i = 0; i < plan->n; i++)
		tt_target_lun_discard(prepared[i]);
	free(prepared);
	return rc;
}
