/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Configuration: struct tt_config -> model objects (apply), and the running model -> JSON in the
 * file's schema (dump). Parsing and checking are in config_parse.c.
 */
#include "target/config.h"

#include "nvmf/nvmf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "target/rpc.h"

/* The global section in force, for dumps (loop 0 only). */
static struct tt_config_global running;

static const char *const level_names[] = {
	[TT_LOG_ERR] = "err", [TT_LOG_WARN] = "warn", [TT_LOG_NOTICE] = "notice",
	[TT_LOG_INFO] = "info", [TT_LOG_DEBUG] = "debug",
};

const char *tt_config_log_level_name(int level)
{
	if (level < TT_LOG_ERR || level > TT_LOG_DEBUG)
		return "notice";
	return level_names[level];
}

void tt_config_set_global(const struct tt_config_global *g)
{
	running = *g;
}

void tt_config_note_debug(const char *component, bool on)
{
	unsigned i;

	for (i = 0; i < running.ndebug; i++)
		if (strcmp(running.debug[i], component) == 0)
			break;
	if (on && i == running.ndebug && running.ndebug < TT_CONFIG_DEBUG_MAX &&
	    strlen(component) < sizeof(running.debug[0])) {
		snprintf(running.debug[running.ndebug++], sizeof(running.debug[0]), "%s", component);
	} else if (!on && i < running.ndebug) {
		memmove(running.debug[i], running.debug[i + 1],
			(running.ndebug - i - 1) * sizeof(running.debug[0]));
		running.ndebug--;
	}
}

/* --- apply ----------------------------------------------------------------------------------- */

/* "PATH: the model's message" (or strerror when the model said nothing). */
static int apply_fail(char *err, size_t errlen, const char *path, const char *msg, int rc)
{
	if (err && errlen)
		snprintf(err, errlen, "%s%s%s", path, *path ? ": " : "",
			 msg[0] ? msg : strerror(-rc));
	return rc;
}

static void set_tpg_fields(struct tt_tpg *g, const struct tt_config_tpg *cg)
{
	struct tt_tpg_params *p = &g->params;
	const struct tt_tpg_params *q = &cg->params;

	if (cg->set & TT_CFG_T_NOP_INTERVAL)
		g->nop_interval_ms = cg->nop_interval_ms;
	if (cg->set & TT_CFG_T_NOP_TIMEOUT)
		g->nop_timeout_ms = cg->nop_timeout_ms;
	if (cg->set & TT_CFG_T_LOGIN_TIMEOUT)
		g->login_timeout_ms = cg->login_timeout_ms;
	if (cg->set & TT_CFG_T_AUTH)
		g->chap_required = cg->chap_required;
	if (cg->set & TT_CFG_T_ALLOW_ANY)
		g->allow_any_initiator = cg->allow_any_initiator;
	if (cg->set & TT_CFG_P_MAX_RECV_DSL)
		p->max_recv_dsl = q->max_recv_dsl;
	if (cg->set & TT_CFG_P_MAX_BURST)
		p->max_burst = q->max_burst;
	if (cg->set & TT_CFG_P_FIRST_BURST)
		p->first_burst = q->first_burst;
	if (cg->set & TT_CFG_P_IMMEDIATE_DATA)
		p->immediate_data = q->immediate_data;
	if (cg->set & TT_CFG_P_INITIAL_R2T)
		p->initial_r2t = q->initial_r2t;
	if (cg->set & TT_CFG_P_MAX_OUTSTANDING_R2T)
		p->max_outstanding_r2t = q->max_outstanding_r2t;
	if (cg->set & TT_CFG_P_MAX_CONNECTIONS)
		p->max_connections = q->max_connections;
	if (cg->set & TT_CFG_P_ERL)
		p->max_erl = q->max_erl;
	if (cg->set & TT_CFG_P_HEADER_DIGEST)
		p->header_digest = q->header_digest;
	if (cg->set & TT_CFG_P_DATA_DIGEST)
		p->data_digest = q->data_digest;
	if (cg->set & TT_CFG_P_TIME2WAIT)
		p->time2wait = q->time2wait;
	if (cg->set & TT_CFG_P_TIME2RETAIN)
		p->time2retain = q->time2retain;
}

int tt_config_apply_tpg(struct tt_target *t, const struct tt_config_tpg *cg, const char *path,
			char *err, size_t errlen)
{
	char msg[512] = "", sub[600];
	struct tt_tpg *g = NULL;
	uint32_t first, max;
	int rc;

	rc = tt_tpg_create(t, cg->tag, &g, msg, sizeof(msg));
	if (rc)
		return apply_fail(err, errlen, path, msg, rc);
	tt_model_lock();
	set_tpg_fields(g, cg);
	/* a MaxBurstLength below the default FirstBurstLength lowers the latter */
	if (!(cg->set & TT_CFG_P_FIRST_BURST) && g->params.first_burst > g->params.max_burst)
		g->params.first_burst = g->params.max_burst;
	first = g->params.first_burst;
	max = g->params.max_burst;
	tt_model_unlock();
	if (first > max) {
		/* FirstBurstLength given, MaxBurstLength from the defaults */
		snprintf(sub, sizeof(sub), "%s%sparams.FirstBurstLength", path, *path ? "." : "");
		snprintf(msg, sizeof(msg), "%u exceeds MaxBurstLength %u", first, max);
		rc = apply_fail(err, errlen, sub, msg, -EINVAL);
		goto undo;
	}
	/* before the portals: no initiator sees the group in another state first */
	if (cg->set & TT_CFG_T_ALUA_STATE) {
		msg[0] = '\0';
		rc = tt_tpg_set_alua(t, cg->tag, (enum tt_alua_state)cg->alua_state, msg, sizeof(msg));
		if (rc) {
			snprintf(sub, sizeof(sub), "%s%salua_state", path, *path ? "." : "");
			apply_fail(err, errlen, sub, msg, rc);
			goto undo;
		}
	}
	if (cg->set & TT_CFG_T_ALUA_EXPLICIT) {
		msg[0] = '\0';
		rc = tt_tpg_set_alua_explicit(t, cg->tag, cg->alua_explicit, msg, sizeof(msg));
		if (rc) {
			snprintf(sub, sizeof(sub), "%s%salua_explicit", path, *path ? "." : "");
			apply_fail(err, errlen, sub, msg, rc);
			goto undo;
		}
	}
	for (size_t i = 0; i < cg->nportals; i++) {
		struct tt_portal *pt = NULL;

		msg[0] = '\0';
		rc = tt_portal_add(g, cg->portals[i].addr, &pt, msg, sizeof(msg));
		if (rc) {
			snprintf(sub, sizeof(sub), "%s%sportals[%zu]", path, *path ? "." : "", i);
			apply_fail(err, errlen, sub, msg, rc);
			goto undo;
		}
	}
	return 0;
undo:
	tt_tpg_delete(t, cg->tag, NULL, 0);
	return rc;
}

int tt_config_apply_lun(struct tt_target *t, const struct tt_config_lun *cl, const char *path,
			char *err, size_t errlen)
{
	struct tt_lun_opts opts = {
		.vendor = (cl->set & TT_CFG_L_VENDOR) ? cl->vendor : NULL,
		.product = (cl->set & TT_CFG_L_PRODUCT) ? cl->product : NULL,
		.serial = (cl->set & TT_CFG_L_SERIAL) ? cl->serial : NULL,
		.write_protect = cl->write_protect,
	};
	char msg[512] = "";
	int rc;

	rc = tt_target_lun_add(t, cl->id, cl->backend, &opts, msg, sizeof(msg));
	if (rc)
		return apply_fail(err, errlen, path, msg, rc);
	return 0;
}

int tt_config_apply_acl(struct tt_target *t, const struct tt_config_acl *ca, const char *path,
			char *err, size_t errlen)
{
	static const struct tt_acl_chap no_chap;
	char msg[512] = "";
	int rc;

	rc = tt_acl_add(t, ca->initiator, ca->has_chap ? &ca->chap : &no_chap, msg, sizeof(msg));
	if (rc)
		return apply_fail(err, errlen, path, msg, rc);
	return 0;
}

/*
 * ACLs and LUNs first, TPGs (and so listening portals) last: an initiator cannot log in before
 * the target is complete.
 */
int tt_config_apply_target(const struct tt_config_target *ct, const char *path,
			   char *err, size_t errlen)
{
	char msg[512] = "", sub[600];
	struct tt_target *t = NULL;
	int rc;

	rc = tt_target_create(ct->name, ct->alias, &t, msg, sizeof(msg));
	if (rc)
		return apply_fail(err, errlen, path, msg, rc);
	for (size_t i = 0; i < ct->nacls; i++) {
		snprintf(sub, sizeof(sub), "%s%sacls[%zu]", path, *path ? "." : "", i);
		if ((rc = tt_config_apply_acl(t, &ct->acls[i], sub, err, errlen)))
			goto undo;
	}
	for (size_t i = 0; i < ct->nluns; i++) {
		snprintf(sub, sizeof(sub), "%s%sluns[%zu]", path, *path ? "." : "", i);
		if ((rc = tt_config_apply_lun(t, &ct->luns[i], sub, err, errlen)))
			goto undo;
	}
	for (size_t i = 0; i < ct->ntpgs; i++) {
		snprintf(sub, sizeof(sub), "%s%stpgs[%zu]", path, *path ? "." : "", i);
		if ((rc = tt_config_apply_tpg(t, &ct->tpgs[i], sub, err, errlen)))
			goto undo;
	}
	return 0;
undo:
	tt_target_delete(ct->name, NULL, 0);
	return rc;
}

static void apply_log(const struct tt_config_global *g)
{
	if (g->set & TT_CFG_G_LOG_LEVEL)
		tt_log_set_level((enum tt_log_level)g->log_level);
	for (unsigned i = 0; i < g->ndebug; i++) {
		int rc = tt_log_debug_enable(g->debug[i], true);

		if (rc)
			tt_warn("config", "global.debug[%u]: cannot enable \"%s\": %s", i,
				g->debug[i], strerror(-rc));
	}
}

int tt_config_apply(const struct tt_config *cfg, char *err, size_t errlen)
{
	char path[32];
	size_t i;
	int rc = 0;

	apply_log(&cfg->global);
	tt_limits_set(&cfg->global.limits); /* before the first portal listens */
	for (i = 0; i < cfg->ntargets; i++) {
		snprintf(path, sizeof(path), "targets[%zu]", i);
		rc = tt_config_apply_target(&cfg->targets[i], path, err, errlen);
		if (rc)
			break;
	}
	if (!rc)
		rc = tt_config_nvmf_apply(&cfg->nvmf, err, errlen);
	if (rc) {
		if (i == cfg->ntargets)
			for (size_t k = 0; k < cfg->nvmf.nsubsys; k++)
				tt_nvmf_subsys_delete(cfg->nvmf.subsys[k].nqn, NULL, 0);
		while (i-- > 0)
			tt_target_delete(cfg->targets[i].name, NULL, 0);
		return rc;
	}
	running = cfg->global;
	tt_notice("config", "%zu target%s configured", cfg->ntargets,
		  cfg->ntargets == 1 ? "" : "s");
	return 0;
}

/* --- dump ------------------------------------------------------------------------------------ */

/* Whole seconds as integers, the rest as fractions: what the parser reads back to the same ms. */
static json_t *json_seconds(uint32_t ms)
{
	if (ms % 1000 == 0)
		return json_integer(ms / 1000);
	return json_real(ms / 1000.0);
}

static json_t *json_digest(bool crc)
{
	return crc ? json_pack("[ss]", "CRC32C", "None") : json_pack("[s]", "None");
}

static json_t *dump_params(const struct tt_tpg_params *p)
{
	return json_pack("{sI sI sI sb sb sI sI sI so so sI sI}",
			 "MaxRecvDataSegmentLength", (json_int_t)p->max_recv_dsl,
			 "MaxBurstLength", (json_int_t)p->max_burst,
			 "FirstBurstLength", (json_int_t)p->first_burst,
			 "ImmediateData", p->immediate_data,
			 "InitialR2T", p->initial_r2t,
			 "MaxOutstandingR2T", (json_int_t)p->max_outstanding_r2t,
			 "MaxConnections", (json_int_t)p->max_connections,
			 "ErrorRecoveryLevel", (json_int_t)p->max_erl,
			 "HeaderDigest", json_digest(p->header_digest),
			 "DataDigest", json_digest(p->data_digest),
			 "DefaultTime2Wait", (json_int_t)p->time2wait,
			 "DefaultTime2Retain", (json_int_t)p->time2retain);
}

static json_t *dump_tpg(const struct tt_tpg *g)
{
	json_t *o = json_object(), *portals = json_array();
	struct tt_list *n;

	tt_list_for_each(n, &g->portals) {
		const struct tt_portal *pt = tt_list_entry(n, struct tt_portal, node);

		json_array_append_new(portals, json_string(pt->addr_str));
	}
	json_object_set_new(o, "tag", json_integer(g->tag));
	json_object_set_new(o, "portals", portals);
	json_object_set_new(o, "nop_interval", json_seconds(g->nop_interval_ms));
	json_object_set_new(o, "nop_timeout", json_seconds(g->nop_timeout_ms));
	json_object_set_new(o, "login_timeout", json_seconds(g->login_timeout_ms));
	json_object_set_new(o, "auth", json_string(g->chap_required ? "chap" : "none"));
	/* meaningless with CHAP (credentials come from ACLs): left to the default */
	if (!g->chap_required)
		json_object_set_new(o, "allow_any_initiator", json_boolean(g->allow_any_initiator));
	json_object_set_new(o, "alua_state", json_string(tt_alua_state_name(tt_tpg_alua_state(g))));
	json_object_set_new(o, "alua_explicit", json_boolean(tt_tpg_alua_explicit(g)));
	json_object_set_new(o, "params", dump_params(&g->params));
	return o;
}

static json_t *dump_lun(const struct tt_target_lun *tl)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_integer((json_int_t)tl->id));
	json_object_set_new(o, "backend", json_string(tl->backend));
	if (tl->vendor[0])
		json_object_set_new(o, "vendor", json_string(tl->vendor));
	if (tl->product[0])
		json_object_set_new(o, "product", json_string(tl->product));
	if (tl->serial[0])
		json_object_set_new(o, "serial", json_string(tl->serial));
	json_object_set_new(o, "write_protect", json_boolean(tl->opts.write_protect));
	return o;
}

static json_t *dump_acl(const struct tt_acl *a, bool secrets)
{
	json_t *o = json_object();

	json_object_set_new(o, "initiator", json_string(a->initiator));
	if (a->chap.user[0]) {
		json_t *chap = json_object();

		json_object_set_new(chap, "user", json_string(a->chap.user));
		if (secrets)
			json_object_set_new(chap, "secret", json_string(a->chap.secret));
		if (a->chap.mutual_user[0]) {
			json_object_set_new(chap, "mutual_user", json_string(a->chap.mutual_user));
			if (secrets)
				json_object_set_new(chap, "mutual_secret",
						    json_string(a->chap.mutual_secret));
		}
		json_object_set_new(o, "chap", chap);
	}
	return o;
}

static json_t *dump_target(const struct tt_target *t, bool secrets)
{
	json_t *o = json_object(), *tpgs = json_array(), *luns = json_array(), *acls = json_array();
	struct tt_list *n;

	json_object_set_new(o, "name", json_string(t->name));
	if (t->alias[0])
		json_object_set_new(o, "alias", json_string(t->alias));
	tt_list_for_each(n, &t->tpgs)
		json_array_append_new(tpgs, dump_tpg(tt_list_entry(n, struct tt_tpg, node)));
	tt_list_for_each(n, &t->luns)
		json_array_append_new(luns, dump_lun(tt_list_entry(n, struct tt_target_lun, node)));
	tt_list_for_each(n, &t->acls)
		json_array_append_new(acls, dump_acl(tt_list_entry(n, struct tt_acl, node), secrets));
	json_object_set_new(o, "tpgs", tpgs);
	json_object_set_new(o, "luns", luns);
	json_object_set_new(o, "acls", acls);
	return o;
}

json_t *tt_config_dump_global(void)
{
	struct tt_limits lim;
	json_t *g = json_object();
	const char *sock = tt_rpc_socket_path();

	if (running.set & TT_CFG_G_LOOPS)
		json_object_set_new(g, "loops", json_integer(running.loops));
	if (!sock && (running.set & TT_CFG_G_RPC_SOCKET))
		sock = running.rpc_socket;
	if (sock)
		json_object_set_new(g, "rpc_socket", json_string(sock));
	json_object_set_new(g, "log_level", json_string(tt_config_log_level_name(tt_log_get_level())));
	if (running.set & TT_CFG_G_STATE_DIR)
		json_object_set_new(g, "state_dir", json_string(running.state_dir));
	if (running.set & TT_CFG_G_METRICS)
		json_object_set_new(g, "metrics", json_string(running.metrics));
	if (running.set & TT_CFG_G_STATS)
		json_object_set_new(g, "stats", json_boolean(running.stats));
	if (running.ndebug) {
		json_t *d = json_array();

		for (unsigned i = 0; i < running.ndebug; i++)
			json_array_append_new(d, json_string(running.debug[i]));
		json_object_set_new(g, "debug", d);
	}
	tt_limits_get(&lim);
	for (const struct tt_config_limit_key *k = tt_config_limit_keys; k->key; k++)
		json_object_set_new(g, k->key, json_integer((json_int_t)tt_config_limit_get(&lim, k)));
	return g;
}

int tt_config_dump(json_t **out, bool secrets)
{
	json_t *root = json_object(), *targets = json_array();
	struct tt_list *n;

	if (!root || !targets) {
		json_decref(root);
		json_decref(targets);
		return -ENOMEM;
	}
	json_object_set_new(root, "global", tt_config_dump_global());
	tt_model_lock();
	tt_list_for_each(n, tt_model_targets()) {
		const struct tt_target *t = tt_list_entry(n, struct tt_target, node);

		if (!t->deleted)
			json_array_append_new(targets, dump_target(t, secrets));
	}
	tt_model_unlock();
	json_object_set_new(root, "targets", targets);
	{
		json_t *nv = tt_config_nvmf_dump();

		if (nv)
			json_object_set_new(root, "nvmf", nv);
	}
	*out = root;
	return 0;
}
