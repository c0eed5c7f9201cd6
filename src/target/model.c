/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The model: targets, their TPGs, LUN maps and ACLs (portals are in portal.c).
 *
 * Threads and locking: only loop 0 changes the model. Each change is made under tt_model_lock()
 * so that logins on other loops, which read under the lock, see whole lists; code on loop 0
 * reads without the lock.
 *
 * Lifetimes and the holders of each object:
 *   target   refs: the model's list (dropped by tt_target_delete / tt_model_clear) and each
 *            session (tt_target_get at login, tt_target_put when the session is freed); anything
 *            else that keeps a TPG or portal pointer (a connection's conn->tpg) should hold one
 *            too. Freed at the last put, with its TPGs.
 *   TPG      part of its target. A deleted TPG is retired (out of every list) and freed with
 *            the target, because sessions point to it (sess->tpg, nexus->tport).
 *   portal   retired when removed and freed with its TPG (portal.h).
 *   LUN map  an entry holds one reference on its struct tt_lun, dropped when the LUN is removed
 *            or the target deleted; sessions hold their own references. The entry owns the
 *            strings its options point to (pr_file).
 *   ACL      freed when removed; only read under the lock.
 */
#include "target/model.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/errmsg.h"
#include "base/log.h"
#include "target/internal.h"
#include "target/iscsi_target.h"
#include "target/portal.h"
#include "target/srp_port.h"
#include "srp/ident.h"

static pthread_mutex_t model_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct tt_list targets = TT_LIST_INIT(targets);

/* Deleted TPGs whose target still has holders (node reused). */
static pthread_mutex_t retired_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tt_list retired_tpgs = TT_LIST_INIT(retired_tpgs);

void tt_model_lock(void) { pthread_mutex_lock(&model_mutex); }
void tt_model_unlock(void) { pthread_mutex_unlock(&model_mutex); }
struct tt_list *tt_model_targets(void) { return &targets; }


/* ---- iSCSI names (RFC 7143 §4.2.7) ---------------------------------------------------------- */

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[n] == '\0';
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Lowercase names of the iqn., eui. and naa. forms, at most 223 bytes. @what: "target"... */
static int check_iscsi_name(const char *what, const char *name, char *err, size_t errlen)
{
	size_t n = name ? strnlen(name, TT_ISCSI_NAME_MAX + 1) : 0;

	if (n == 0) {
		tt_errmsg(err, errlen, 0, "%s name is empty", what);
		return -EINVAL;
	}
	if (n > TT_ISCSI_NAME_MAX) {
		tt_errmsg(err, errlen, 0, "%s name '%.40s...' is longer than %u bytes", what, name,
		       TT_ISCSI_NAME_MAX);
		return -ENAMETOOLONG;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c >= 'A' && c <= 'Z') {
			tt_errmsg(err, errlen, 0, "%s name '%s': iSCSI names are lowercase ('%c')", what,
			       name, c);
			return -EINVAL;
		}
		if (!((c >= 'a' && c <= 'z') || is_digit((char)c) || c == '-' || c == '.' ||
		      c == ':')) {
			if (c >= 0x20 && c < 0x7f)
				tt_errmsg(err, errlen, 0, "%s name '%s': character '%c' is not allowed "
				       "(a-z 0-9 - . :)", what, name, c);
			else
				tt_errmsg(err, errlen, 0, "%s name '%s': byte 0x%02x is not allowed "
				       "(a-z 0-9 - . :)", what, name, c);
			return -EINVAL;
		}
	}
	if (!strncmp(name, "iqn.", 4)) {
		/* iqn.YYYY-MM.reversed.domain[:anything] */
		if (n < 13 || !is_digit(name[4]) || !is_digit(name[5]) || !is_digit(name[6]) ||
		    !is_digit(name[7]) || name[8] != '-' || !is_digit(name[9]) ||
		    !is_digit(name[10]) || name[11] != '.' ||
		    (name[9] - '0') * 10 + (name[10] - '0') < 1 ||
		    (name[9] - '0') * 10 + (name[10] - '0') > 12 ||
		    name[12] == '.' || name[12] == ':' || name[12] == '-') {
			tt_errmsg(err, errlen, 0, "%s name '%s': expected iqn.YYYY-MM.reversed.domain"
			       "[:identifier]", what, name);
			return -EINVAL;
		}
		return 0;
	}
	if (!strncmp(name, "eui.", 4)) {
		if (!all_hex(name + 4, 16)) {
			tt_errmsg(err, errlen, 0, "%s name '%s': expected eui. and 16 hex digits", what, name);
			return -EINVAL;
		}
		return 0;
	}
	if (!strncmp(name, "naa.", 4)) {
		if (!all_hex(name + 4, 16) && !all_hex(name + 4, 32)) {
			tt_errmsg(err, errlen, 0, "%s name '%s': expected naa. and 16 or 32 hex digits", what,
			       name);
			return -EINVAL;
		}
		return 0;
	}
	tt_errmsg(err, errlen, 0, "%s name '%s': must start with iqn., eui. or naa.", what, name);
	return -EINVAL;
}

/* ---- targets ------------------------------------------------------------------------------------ */

struct tt_target *tt_target_find(const char *name)
{
	struct tt_list *n;

	tt_list_for_each(n, &targets) {
		struct tt_target *t = tt_list_entry(n, struct tt_target, node);

		if (!strcmp(t->name, name))
			return t;
	}
	return NULL;
}

int tt_target_create(const char *name, const char *alias, struct tt_target **out,
		     char *err, size_t errlen)
{
	struct tt_target *t;
	int rc;

	rc = check_iscsi_name("target", name, err, errlen);
	if (rc)
		return rc;
	if (alias && strlen(alias) >= sizeof(t->alias)) {
		tt_errmsg(err, errlen, 0, "target %s: alias is longer than %zu bytes", name,
		       sizeof(t->alias) - 1);
		return -ENAMETOOLONG;
	}
	if (tt_target_find(name)) {
		tt_errmsg(err, errlen, 0, "target %s already exists", name);
		return -EEXIST;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		tt_errmsg(err, errlen, 0, "target %s: out of memory", name);
		return -ENOMEM;
	}
	snprintf(t->name, sizeof(t->name), "%s", name);
	snprintf(t->alias, sizeof(t->alias), "%s", alias ? alias : "");
	tt_list_init(&t->node);
	tt_list_init(&t->tpgs);
	tt_list_init(&t->luns);
	tt_list_init(&t->acls);
	tt_list_init(&t->sessions);
	t->refs = 1; /* the model's list */

	tt_model_lock();
	tt_list_add_tail(&targets, &t->node);
	tt_model_unlock();
	tt_info("target", "target %s created", name);
	if (out)
		*out = t;
	return 0;
}

static void tpg_retire(struct tt_tpg *g)
{
	tt_scsi_port_unregister(&g->scsi_port); /* REPORT TARGET PORT GROUPS no longer lists it */
	pthread_mutex_lock(&retired_lock);
	tt_list_add_tail(&retired_tpgs, &g->node);
	pthread_mutex_unlock(&retired_lock);
}

static void target_free(struct tt_target *t)
{
	struct tt_list mine = TT_LIST_INIT(mine);
	struct tt_list *n, *tmp;

	pthread_mutex_lock(&retired_lock);
	tt_list_for_each_safe(n, tmp, &retired_tpgs) {
		if (tt_list_entry(n, struct tt_tpg, node)->target == t) {
			tt_list_del(n);
			tt_list_add_tail(&mine, n);
		}
	}
	pthread_mutex_unlock(&retired_lock);
	tt_list_splice_tail(&mine, &t->tpgs); /* none left after a delete; defensive */
	while ((n = tt_list_pop(&mine))) {
		struct tt_tpg *g = tt_list_entry(n, struct tt_tpg, node);

		tt_portal_free_retired(g);
		free(g);
	}
	free(t);
}

void tt_target_get(struct tt_target *t)
{
	__atomic_add_fetch(&t->refs, 1, __ATOMIC_RELAXED);
}

void tt_target_put(struct tt_target *t)
{
	if (!t || __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	if (!t->deleted) {
		tt_err("target", "target %s: last reference dropped while still in the model",
		       t->name);
		return;
	}
	target_free(t);
}

static void lun_entry_free(struct tt_target_lun *tl)
{
	free(tl->pr_file);
	free(tl);
}

static void acl_free(struct tt_acl *a)
{
	explicit_bzero(&a->chap, sizeof(a->chap));
	free(a);
}

static void target_delete(struct tt_target *t, const char *why)
{
	struct tt_list tpgs = TT_LIST_INIT(tpgs);
	struct tt_list luns = TT_LIST_INIT(luns);
	struct tt_list acls = TT_LIST_INIT(acls);
	struct tt_list *n;

	/* out of the model first: no login finds it from now on */
	tt_model_lock();
	tt_list_del(&t->node);
	t->deleted = true;
	tt_list_splice_tail(&tpgs, &t->tpgs);
	tt_list_splice_tail(&luns, &t->luns);
	tt_list_splice_tail(&acls, &t->acls);
	tt_model_unlock();

	tt_target_end_sessions(t, true, why);
	tt_srp_port_check_access();
	while ((n = tt_list_pop(&tpgs))) {
		struct tt_tpg *g = tt_list_entry(n, struct tt_tpg, node);

		tt_portal_remove_all(g);
		tpg_retire(g);
	}
	while ((n = tt_list_pop(&luns))) {
		struct tt_target_lun *tl = tt_list_entry(n, struct tt_target_lun, node);

		tt_lun_put(tl->lun);
		lun_entry_free(tl);
	}
	while ((n = tt_list_pop(&acls)))
		acl_free(tt_list_entry(n, struct tt_acl, node));
	tt_info("target", "target %s deleted", t->name);
	tt_target_put(t); /* the model's reference */
}

int tt_target_delete(const char *name, char *err, size_t errlen)
{
	struct tt_target *t = name ? tt_target_find(name) : NULL;

	if (!t) {
		tt_errmsg(err, errlen, 0, "target %s: no such target", name ? name : "(null)");
		return -ENOENT;
	}
	target_delete(t, "target deleted");
	return 0;
}

void tt_model_clear(void)
{
	while (!tt_list_empty(&targets))
		target_delete(tt_list_entry(targets.next, struct tt_target, node), "shutdown");
}

/* ---- target portal groups --------------------------------------------------------------------- */

static int alua_changed(const char *target_name, const struct tt_nexus *except);

const struct tt_scsi_frontend tt_iscsi_scsi_fe = {
	.name = "iscsi",
	.proto = &tt_scsi_proto_iscsi,
	.abort_nexus = tt_tmf_abort_nexus,
	.alua_changed = alua_changed,
	.pr_notice = tt_scsi_fe_no_pr_notice,
};

void tt_tpg_params_default(struct tt_tpg_params *p)
{
	*p = (struct tt_tpg_params){
		.max_recv_dsl = 262144,
		.max_burst = 1048576,
		.first_burst = 262144,
		.immediate_data = true,
		.initial_r2t = false,
		.max_outstanding_r2t = 1,
		.max_connections = 1,
		.max_erl = 0,
		.header_digest = true,
		.data_digest = true,
		.time2wait = 2,
		.time2retain = 20,
	};
}

struct tt_tpg *tt_tpg_find(struct tt_target *t, uint16_t tag)
{
	struct tt_list *n;

	tt_list_for_each(n, &t->tpgs) {
		struct tt_tpg *g = tt_list_entry(n, struct tt_tpg, node);

		if (g->tag == tag)
			return g;
	}
	return NULL;
}

int tt_tpg_create(struct tt_target *t, uint16_t tag, struct tt_tpg **out, char *err, size_t errlen)
{
	struct tt_tpg *g;
	struct tt_list *pos;

	if (tag == 0) {
		tt_errmsg(err, errlen, 0, "target %s: tpg 0: the tag must be 1..65535", t->name);
		return -EINVAL;
	}
	if (tt_tpg_find(t, tag)) {
		tt_errmsg(err, errlen, 0, "target %s: tpg %u already exists", t->name, tag);
		return -EEXIST;
	}
	g = calloc(1, sizeof(*g));
	if (!g) {
		tt_errmsg(err, errlen, 0, "target %s: tpg %u: out of memory", t->name, tag);
		return -ENOMEM;
	}
	tt_list_init(&g->node);
	tt_list_init(&g->portals);
	g->target = t;
	g->tag = tag;
	g->scsi_port = (struct tt_scsi_port){
		.fe = &tt_iscsi_scsi_fe,
		.target_name = t->name,
		.tpgt = tag,
		.rel_port_id = tag,   /* unique in the target, never 0 */
		.port_group_id = tag, /* one ALUA target port group per TPG */
	};
	/* the TPG's SRP target port identifier, what an SRP login names (srp:// portals) */
	tt_srp_port_id_make(t->name, tag, g->scsi_port.srp_port_id);
	g->allow_any_initiator = tt_list_empty(&t->acls);
	g->chap_required = false;
	g->nop_interval_ms = 5000;
	g->nop_timeout_ms = 5000;
	g->login_timeout_ms = 15000;
	tt_tpg_params_default(&g->params);

	/* sorted by tag */
	for (pos = t->tpgs.next; pos != &t->tpgs; pos = pos->next)
		if (tt_list_entry(pos, struct tt_tpg, node)->tag > tag)
			break;
	tt_model_lock();
	tt_list__add(&g->node, pos->prev, pos);
	tt_model_unlock();
	if (tt_scsi_port_register(&g->scsi_port) < 0)
		tt_warn("target", "target %s: tpg %u: not listed in REPORT TARGET PORT GROUPS", t->name, tag);
	tt_info("target", "target %s: tpg %u created", t->name, tag);
	if (out)
		*out = g;
	return 0;
}

int tt_tpg_delete(struct tt_target *t, uint16_t tag, char *err, size_t errlen)
{
	struct tt_tpg *g = tt_tpg_find(t, tag);
	char why[64];

	if (!g) {
		tt_errmsg(err, errlen, 0, "tpg %u: no such TPG in target %s", tag, t->name);
		return -ENOENT;
	}
	tt_model_lock();
	tt_list_del(&g->node);
	tt_model_unlock();
	snprintf(why, sizeof(why), "tpg %u deleted", tag);
	tt_target_end_sessions(t, true, why);
	tt_srp_port_check_access();
	tt_portal_remove_all(g);
	tpg_retire(g);
	tt_info("target", "target %s: tpg %u deleted", t->name, tag);
	return 0;
}

/* ---- ALUA ------------------------------------------------------------------------------------------ */

/*
 * ASYMMETRIC ACCESS STATE CHANGED on every LUN of the target, for every nexus but @except. Runs on
 * loop 0 (tetherctl) or on the loop of a SET TARGET PORT GROUPS: the LUNs are taken under the lock
 * and the unit attentions raised without it.
 */
static int alua_changed(const char *target_name, const struct tt_nexus *except)
{
	struct tt_lun **luns = NULL;
	size_t n = 0, cap = 0;
	struct tt_target *t;
	struct tt_list *pos;

	tt_model_lock();
	t = tt_target_find(target_name);
	if (t) {
		tt_list_for_each(pos, &t->luns)
			cap++;
		luns = cap ? calloc(cap, sizeof(*luns)) : NULL;
		tt_list_for_each(pos, &t->luns) {
			if (!luns)
				break;
			luns[n] = tt_list_entry(pos, struct tt_target_lun, node)->lun;
			tt_lun_get(luns[n++]);
		}
	}
	tt_model_unlock();
	if (cap && !luns)
		tt_err("target", "target %s: ALUA state changed, but no memory to report it",
		       target_name);
	for (size_t i = 0; i < n; i++) {
		tt_lun_ua_raise(luns[i], TT_UA_ALUA_STATE_CHANGED, except);
		tt_lun_put(luns[i]);
	}
	free(luns);
	return 0;
}

int tt_tpg_set_alua(struct tt_target *t, uint16_t tag, enum tt_alua_state state,
		    char *err, size_t errlen)
{
	struct tt_tpg *g = tt_tpg_find(t, tag);
	int rc;

	if (!g) {
		tt_errmsg(err, errlen, 0, "tpg %u: no such TPG in target %s", tag, t->name);
		return -ENOENT;
	}
	rc = tt_alua_state_set(t->name, g->scsi_port.port_group_id, state);
	if (rc == -EINVAL)
		tt_errmsg(err, errlen, 0, "target %s: tpg %u: 0x%x is not an ALUA state", t->name, tag,
		       (unsigned)state);
	else if (rc)
		tt_errmsg(err, errlen, 0, "target %s: tpg %u: its target port group is not registered",
		       t->name, tag);
	return rc;
}

enum tt_alua_state tt_tpg_alua_state(const struct tt_tpg *g)
{
	return tt_alua_state_get(g->target->name, g->scsi_port.port_group_id);
}

int tt_tpg_set_alua_explicit(struct tt_target *t, uint16_t tag, bool allowed, char *err,
			     size_t errlen)
{
	struct tt_tpg *g = tt_tpg_find(t, tag);
	int rc;

	if (!g) {
		tt_errmsg(err, errlen, 0, "tpg %u: no such TPG in target %s", tag, t->name);
		return -ENOENT;
	}
	rc = tt_alua_explicit_set(t->name, g->scsi_port.port_group_id, allowed);
	if (rc)
		tt_errmsg(err, errlen, 0, "target %s: tpg %u: its target port group is not registered",
			  t->name, tag);
	return rc;
}

bool tt_tpg_alua_explicit(const struct tt_tpg *g)
{
	return tt_alua_explicit_get(g->target->name, g->scsi_port.port_group_id);
}

/* ---- LUNs ----------------------------------------------------------------------------------------- */

static struct tt_target_lun *lun_find(struct tt_target *t, uint64_t id)
{
	struct tt_list *n;

	tt_list_for_each(n, &t->luns) {
		struct tt_target_lun *tl = tt_list_entry(n, struct tt_target_lun, node);

		if (tl->id == id)
			return tl;
	}
	return NULL;
}

struct tt_lun *tt_target_lun_get(struct tt_target *t, uint64_t id)
{
	struct tt_target_lun *tl = lun_find(t, id);

	if (!tl)
		return NULL;
	tt_lun_get(tl->lun);
	return tl->lun;
}

/* --- state directory (APTPL files) --- */

static char *state_dir; /* loop 0 */

/* mkdir -p @dir (mode 0700 for what it creates). */
static int make_dirs(const char *dir)
{
	char *p, *path = strdup(dir);
	int rc = 0;

	if (!path)
		return -ENOMEM;
	for (p = path + 1; ; p++) {
		char c = *p;

		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST) {
			rc = -errno;
			break;
		}
		*p = c;
		if (!c)
			break;
	}
	free(path);
	return rc;
}

int tt_model_set_state_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;
	char *copy;
	int rc;

	if (!dir || !*dir) {
		free(state_dir);
		state_dir = NULL;
		return 0;
	}
	rc = make_dirs(dir);
	if (!rc && stat(dir, &st) < 0)
		rc = -errno;
	if (!rc && !S_ISDIR(st.st_mode))
		rc = -ENOTDIR;
	if (!rc && access(dir, W_OK | X_OK) < 0)
		rc = -errno;
	if (rc) {
		tt_errmsg(err, errlen, 0, "state directory %s: %s", dir, strerror(-rc));
		return rc;
	}
	copy = strdup(dir);
	if (!copy) {
		tt_errmsg(err, errlen, 0, "state directory %s: out of memory", dir);
		return -ENOMEM;
	}
	free(state_dir);
	state_dir = copy;
	return 0;
}

const char *tt_model_state_dir(void)
{
	return state_dir;
}

/*
 * The APTPL file of LUN @id: @given (copied), else one in the state directory named after the
 * target (':' becomes '_', which iSCSI names never hold, so two targets never share a file), else
 * none. 0 or -ENOMEM.
 */
static int pr_file_name(const char *tname, uint64_t id, const char *given, char **out)
{
	char name[TT_ISCSI_NAME_MAX + 1];
	size_t i;

	*out = NULL;
	if (given && *given) {
		*out = strdup(given);
		return *out ? 0 : -ENOMEM;
	}
	if (!state_dir)
		return 0;
	for (i = 0; tname[i] && i + 1 < sizeof(name); i++) {
		char c = tname[i];

		name[i] = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'
			  ? c : '_';
	}
	name[i] = '\0';
	if (asprintf(out, "%s/%s-lun%llu.pr", state_dir, name, (unsigned long long)id) < 0) {
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* Copies an inquiry string of @opts into the map entry (the caller's memory goes away). */
static int copy_opt(const char *tname, uint64_t id, const char *what, const char *src,
		    char *dst, size_t size, const char **ptr, char *err, size_t errlen)
{
	*ptr = NULL;
	if (!src)
		return 0;
	if (strlen(src) >= size) {
		tt_errmsg(err, errlen, 0, "target %s: LUN %llu: %s '%s' is longer than %zu characters",
		       tname, (unsigned long long)id, what, src, size - 1);
		return -EINVAL;
	}
	snprintf(dst, size, "%s", src);
	*ptr = dst;
	return 0;
}

/*
 * "pbs=SIZE", the size of a physical block holding several logical blocks (reported by READ
 * CAPACITY (16) and the block limits VPD page), is an option of the LUN that may follow any
 * backend's options ("ram:64M,pbs=4096"): the spec is kept whole for saving, and the backend is
 * opened from @out, the spec without it. *@pbs is 0 when absent. So is "sanitize_rate=SIZE",
 * the bytes per second SANITIZE OVERWRITE writes at most (*@rate, 0 when absent: unpaced).
 * Returns 0 or -EINVAL.
 */
static int lun_spec_split(const char *spec, char *out, size_t outlen, uint32_t *pbs,
			  uint64_t *rate)
{
	const char *p = spec;
	size_t used = 0;

	*pbs = 0;
	*rate = 0;
	for (;;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n > 14 && !strncmp(p, "sanitize_rate=", 14)) {
			char val[32];

			if (n - 14 >= sizeof(val))
				return -EINVAL;
			memcpy(val, p + 14, n - 14);
			val[n - 14] = '\0';
			if (tt_parse_size(val, rate) < 0 || !*rate)
				return -EINVAL;
		} else if (n > 4 && !strncmp(p, "pbs=", 4)) {
			char val[32];
			uint64_t v;

			if (n - 4 >= sizeof(val))
				return -EINVAL;
			memcpy(val, p + 4, n - 4);
			val[n - 4] = '\0';
			if (tt_parse_size(val, &v) < 0 || v < 512 || v > (1u << 20) || (v & (v - 1)))
				return -EINVAL;
			*pbs = (uint32_t)v;
		} else {
			if (used + n + 2 > outlen)
				return -EINVAL;
			if (used)
				out[used++] = ',';
			memcpy(out + used, p, n);
			used += n;
		}
		if (!end)
			break;
		p = end + 1;
	}
	out[used] = '\0';
	return 0;
}

int tt_target_lun_prepare(const char *tname, uint64_t id, const char *backend,
			  const struct tt_lun_opts *opts, struct tt_target_lun **out,
			  char *err, size_t errlen)
{
	struct tt_target_lun *tl;
	struct tt_bdev *bdev = NULL;
	char berr[256] = "", bspec[sizeof(tl->backend)];
	uint32_t pbs;
	uint64_t sanitize_rate;
	int rc;

	*out = NULL;
	if (id > TT_SCSI_LUN_MAX) {
		tt_errmsg(err, errlen, 0, "target %s: LUN %llu is out of range (0..%u)", tname,
		       (unsigned long long)id, TT_SCSI_LUN_MAX);
		return -EINVAL;
	}
	if (!backend || !*backend) {
		tt_errmsg(err, errlen, 0, "target %s: LUN %llu: no backend given", tname,
		       (unsigned long long)id);
		return -EINVAL;
	}
	tl = calloc(1, sizeof(*tl));
	if (!tl) {
		tt_errmsg(err, errlen, 0, "target %s: LUN %llu: out of memory", tname,
		       (unsigned long long)id);
		return -ENOMEM;
	}
	if (strlen(backend) >= sizeof(tl->backend)) {
		tt_errmsg(err, errlen, 0, "target %s: LUN %llu: backend spec is longer than %zu bytes",
		       tname, (unsigned long long)id, sizeof(tl->backend) - 1);
		rc = -ENAMETOOLONG;
		goto fail;
	}
	if (opts) {
		tl->opts = *opts;
		rc = copy_opt(tname, id, "vendor", opts->vendor, tl->vendor, sizeof(tl->vendor),
			      &tl->opts.vendor, err, errlen);
		if (!rc)
			rc = copy_opt(tname, id, "product", opts->product, tl->product,
				      sizeof(tl->product), &tl->opts.product, err, errlen);
		if (!rc)
			rc = copy_opt(tname, id, "serial", opts->serial, tl->serial, sizeof(tl->serial),
				      &tl->opts.serial, err, errlen);
		if (rc)
			goto fail;
		/* the revision is kept by the LUN itself (below) */
		if (opts->revision && strlen(opts->revision) > 4) {
			tt_errmsg(err, errlen, 0, "target %s: LUN %llu: revision '%s' is longer than 4 "
			       "characters", tname, (unsigned long long)id, opts->revision);
			rc = -EINVAL;
			goto fail;
		}
	}
	rc = pr_file_name(tname, id, opts ? opts->pr_file : NULL, &tl->pr_file);
	if (rc) {
		tt_errmsg(err, errlen, 0, "target %s: LUN %llu: out of memory", tname,
		       (unsigned long long)id);
		goto fail;
	}
	tl->opts.pr_file = tl->pr_file;
	rc = lun_spec_split(backend, bspec, sizeof(bspec), &pbs, &sanitize_rate);
	if (rc < 0) {
		tt_errmsg(err, errlen, 0, "target %s: LUN %llu: bad pbs= (a power of two, 512 to 1M) "
		       "or sanitize_rate= (bytes per second) in '%s'", tname, (unsigned long long)id,
		       backend);
		goto fail;
	}
	if (pbs && !tl->opts.physical_block_size)
		tl->opts.physical_block_size = pbs;
	if (sanitize_rate && !tl->opts.sanitize_rate)
		tl->opts.sanitize_rate = sanitize_rate;
	rc = tt_bdev_open(bspec, &bdev, berr, sizeof(berr));
	if (rc < 0) {
		tt_errmsg(err, errlen, 0, "target %s: LUN %llu: %s", tname, (unsigned long long)id,
		       berr[0] ? berr : strerror(-rc));
		goto fail;
	}
	rc = tt_lun_create(tname, id, bdev, &tl->opts, &tl->lun);
	tt_bdev_put(bdev); /* the LUN holds its own reference */
	/* keep the revision where it lives as long as the entry: in the LUN */
	tl->opts.revision = rc == 0 && opts && opts->revision ? tl->lun->revision : NULL;
	if (rc < 0) {
		tt_errmsg(err, errlen, 0, "target %s: LUN %llu: cannot create the logical unit on %s: %s",
		       tname, (unsigned long long)id, backend, strerror(-rc));
		goto fail;
	}
	tl->id = id;
	snprintf(tl->backend, sizeof(tl->backend), "%s", backend);
	tt_list_init(&tl->node);
	*out = tl;
	return 0;
fail:
	lun_entry_free(tl);
	return rc;
}

void tt_target_lun_discard(struct tt_target_lun *tl)
{
	if (!tl)
		return;
	tt_lun_put(tl->lun);
	lun_entry_free(tl);
}

int tt_target_lun_insert(struct tt_target *t, struct tt_target_lun *tl, char *err, size_t errlen)
{
	struct tt_list *pos;
	uint64_t id = tl->id;

	if (lun_find(t, id)) {
		tt_errmsg(err, errlen, 0, "target %s: LUN %llu already exists", t->name,
		       (unsigned long long)id);
		return -EEXIST;
	}
	for (pos = t->luns.next; pos != &t->luns; pos = pos->next)
		if (tt_list_entry(pos, struct tt_target_lun, node)->id > id)
			break;
	tt_model_lock();
	tt_list__add(&tl->node, pos->prev, pos);
	tt_model_unlock();
	tt_info("target", "target %s: LUN %llu on %s", t->name, (unsigned long long)id, tl->backend);
	if (tl->pr_file)
		tt_info("target", "target %s: LUN %llu: persistent reservations with APTPL kept in %s",
			t->name, (unsigned long long)id, tl->pr_file);
	return 0;
}

int tt_target_lun_add(struct tt_target *t, uint64_t id, const char *backend,
		      const struct tt_lun_opts *opts, char *err, size_t errlen)
{
	struct tt_target_lun *tl;
	int rc;

	if (lun_find(t, id)) {
		tt_errmsg(err, errlen, 0, "target %s: LUN %llu already exists", t->name,
		       (unsigned long long)id);
		return -EEXIST;
	}
	rc = tt_target_lun_prepare(t->name, id, backend, opts, &tl, err, errlen);
	if (rc)
		return rc;
	rc = tt_target_lun_insert(t, tl, err, errlen);
	if (rc)
		tt_target_lun_discard(tl);
	return rc;
}

int tt_target_lun_remove(struct tt_target *t, uint64_t id, char *err, size_t errlen)
{
	struct tt_target_lun *tl = lun_find(t, id);
	char why[64];

	if (!tl) {
		tt_errmsg(err, errlen, 0, "target %s: LUN %llu: no such LUN", t->name,
		       (unsigned long long)id);
		return -ENOENT;
	}
	tt_model_lock();
	tt_list_del(&tl->node);
	tt_model_unlock();
	/* sessions map their LUNs at login: make them log in again to see the change */
	snprintf(why, sizeof(why), "LUN %llu removed", (unsigned long long)id);
	tt_target_end_sessions(t, true, why);
	tt_lun_put(tl->lun);
	lun_entry_free(tl);
	tt_info("target", "target %s: LUN %llu removed", t->name, (unsigned long long)id);
	return 0;
}

/* ---- ACLs -------------------------------------------------------------------------------------- */

struct tt_acl *tt_acl_find(struct tt_target *t, const char *initiator)
{
	struct tt_list *n;

	tt_list_for_each(n, &t->acls) {
		struct tt_acl *a = tt_list_entry(n, struct tt_acl, node);

		if (!strcmp(a->initiator, initiator))
			return a;
	}
	return NULL;
}

/* RFC 7143 §12.1.3: CHAP secrets of at least 12 bytes (96 bits) when not random binary ones. */
#define CHAP_SECRET_MIN 12

static int check_secret(struct tt_target *t, const char *initiator, const char *what,
			const char *user, const char *secret, char *err, size_t errlen)
{
	size_t ulen = strnlen(user, 256), slen = strnlen(secret, 256);

	if (ulen == 256 || slen == 256) {
		tt_errmsg(err, errlen, 0, "target %s: ACL %s: %s user or secret is longer than 255 bytes",
		       t->name, initiator, what);
		return -EINVAL;
	}
	if (!ulen && slen) {
		tt_errmsg(err, errlen, 0, "target %s: ACL %s: %s secret given without a user name",
		       t->name, initiator, what);
		return -EINVAL;
	}
	if (ulen && slen < CHAP_SECRET_MIN) {
		tt_errmsg(err, errlen, 0, "target %s: ACL %s: %s secret of user %s is %zu bytes; at least "
		       "%u are required (RFC 7143 §12.1.3)", t->name, initiator, what, user, slen,
		       CHAP_SECRET_MIN);
		return -EINVAL;
	}
	return 0;
}

static int check_chap(struct tt_target *t, const char *initiator, const struct tt_acl_chap *c,
		      char *err, size_t errlen)
{
	int rc;

	rc = check_secret(t, initiator, "CHAP", c->user, c->secret, err, errlen);
	if (!rc)
		rc = check_secret(t, initiator, "mutual CHAP", c->mutual_user, c->mutual_secret,
				  err, errlen);
	if (rc)
		return rc;
	if (c->mutual_user[0] && !c->user[0]) {
		tt_errmsg(err, errlen, 0, "target %s: ACL %s: mutual CHAP needs CHAP for the initiator too",
		       t->name, initiator);
		return -EINVAL;
	}
	if (c->mutual_user[0] && !strcmp(c->secret, c->mutual_secret)) {
		tt_errmsg(err, errlen, 0, "target %s: ACL %s: the mutual CHAP secret must differ from the "
		       "initiator's secret (RFC 7143 §12.1.3)", t->name, initiator);
		return -EINVAL;
	}
	return 0;
}

bool tt_acl_srp_port_form(const char *name)
{
	return name && name[0] == '0' && name[1] == 'x' && all_hex(name + 2, 32);
}

/* An SRP initiator port identifier: "0x" and 32 lowercase hex digits (SRP 5.3, as the SCSI core
 * names SRP initiator ports); no CHAP, which SRP does not have. */
static int check_srp_port(const char *initiator, const struct tt_acl_chap *chap, char *err,
			  size_t errlen)
{
	if (!tt_acl_srp_port_form(initiator)) {
		tt_errmsg(err, errlen, 0, "initiator name '%.60s': an SRP initiator port identifier is "
		       "0x and 32 lowercase hex digits", initiator);
		return -EINVAL;
	}
	if (chap && (chap->user[0] || chap->mutual_user[0])) {
		tt_errmsg(err, errlen, 0, "initiator %s: SRP initiators have no CHAP credentials",
		       initiator);
		return -EINVAL;
	}
	return 0;
}

bool tt_tpg_initiator_allowed(const struct tt_tpg *g, const char *initiator)
{
	return g->allow_any_initiator || tt_acl_find(g->target, initiator) != NULL;
}

int tt_acl_add(struct tt_target *t, const char *initiator, const struct tt_acl_chap *chap,
	       char *err, size_t errlen)
{
	struct tt_acl *a;
	int rc;

	if (initiator && !strncmp(initiator, "0x", 2))
		rc = check_srp_port(initiator, chap, err, errlen);
	else
		rc = check_iscsi_name("initiator", initiator, err, errlen);
	if (rc)
		return rc;
	if (tt_acl_find(t, initiator)) {
		tt_errmsg(err, errlen, 0, "target %s: ACL for %s already exists", t->name, initiator);
		return -EEXIST;
	}
	if (chap) {
		rc = check_chap(t, initiator, chap, err, errlen);
		if (rc)
			return rc;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		tt_errmsg(err, errlen, 0, "target %s: ACL %s: out of memory", t->name, initiator);
		return -ENOMEM;
	}
	tt_list_init(&a->node);
	snprintf(a->initiator, sizeof(a->initiator), "%s", initiator);
	if (chap)
		a->chap = *chap;
	tt_model_lock();
	tt_list_add_tail(&t->acls, &a->node);
	tt_model_unlock();
	tt_info("target", "target %s: ACL %s added%s", t->name, initiator,
		a->chap.user[0] ? (a->chap.mutual_user[0] ? " (mutual CHAP)" : " (CHAP)") : "");
	return 0;
}

int tt_acl_remove(struct tt_target *t, const char *initiator, char *err, size_t errlen)
{
	struct tt_acl *a = initiator ? tt_acl_find(t, initiator) : NULL;

	if (!a) {
		tt_errmsg(err, errlen, 0, "target %s: no ACL for initiator %s", t->name,
		       initiator ? initiator : "(null)");
		return -ENOENT;
	}
	tt_model_lock();
	tt_list_del(&a->node);
	tt_model_unlock();
	acl_free(a);
	tt_info("target", "target %s: ACL %s removed", t->name, initiator);
	/* the SRP channels it admitted are logged out (a TPG allowing any initiator keeps them) */
	tt_srp_port_check_access();
	return 0;
}
