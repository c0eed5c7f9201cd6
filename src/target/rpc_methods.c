/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The methods of the control socket. They run on loop 0 and change the model through
 * target/model.h; objects with sub-objects (a target with TPGs, a TPG with portals, a LUN, an
 * ACL) are read by the configuration file's parser, so both accept the same fields and give the
 * same messages. Params are checked (-32602, the message names the param) before anything
 * changes; a failure of the model is -32000 with the model's message.
 */
#include "target/rpc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "nvmf/nvmf.h"
#include "target/apply.h"
#include "target/config.h"
#include "target/model.h"
#include "target/srp_port.h"
#include "target/stats.h"

/* --- params and errors ----------------------------------------------------------------------- */

__attribute__((format(printf, 3, 4)))
static int set_error(struct tt_rpc_error *e, int code, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return code == TT_RPC_FAILED ? -(e->errnum ? e->errnum : EIO) : -EINVAL;
}

#define invalid(e, ...) set_error(e, TT_RPC_INVALID_PARAMS, __VA_ARGS__)

static int failed(struct tt_rpc_error *e, int rc, const char *msg)
{
	e->errnum = -rc;
	set_error(e, TT_RPC_FAILED, "%s", msg[0] ? msg : strerror(-rc));
	return rc;
}

/* Refuses a param outside @known (NULL-terminated). */
static int check_params(json_t *params, const char *const *known, struct tt_rpc_error *e)
{
	const char *key;
	json_t *val;

	json_object_foreach(params, key, val) {
		const char *const *k;

		for (k = known; *k; k++)
			if (strcmp(key, *k) == 0)
				break;
		if (!*k)
			return invalid(e, "unknown param \"%s\"", key);
	}
	return 0;
}

static int param_str(json_t *params, const char *name, bool required, const char **out,
		     struct tt_rpc_error *e)
{
	json_t *v = json_object_get(params, name);

	*out = NULL;
	if (!v) {
		if (required)
			return invalid(e, "missing param \"%s\"", name);
		return 0;
	}
	if (!json_is_string(v) || json_string_length(v) == 0)
		return invalid(e, "param \"%s\" must be a non-empty string", name);
	*out = json_string_value(v);
	return 0;
}

static int param_int(json_t *params, const char *name, long long min, long long max,
		     long long *out, struct tt_rpc_error *e)
{
	json_t *v = json_object_get(params, name);

	if (!v)
		return invalid(e, "missing param \"%s\"", name);
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return invalid(e, "param \"%s\" must be an integer in %lld..%lld", name, min, max);
	*out = json_integer_value(v);
	return 0;
}

/* The target named by param @key. The pointer stays valid after the lock is dropped: only loop
 * 0, which runs this, deletes targets. */
static int lookup_target(json_t *params, const char *key, struct tt_target **out,
			 struct tt_rpc_error *e)
{
	const char *name;
	int rc = param_str(params, key, true, &name, e);

	if (rc)
		return rc;
	tt_model_lock();
	*out = tt_target_find(name);
	tt_model_unlock();
	if (!*out) {
		e->errnum = ENOENT;
		return set_error(e, TT_RPC_FAILED, "target \"%s\" not found", name);
	}
	return 0;
}

static int lookup_tpg(json_t *params, struct tt_target **t, struct tt_tpg **g,
		      struct tt_rpc_error *e)
{
	long long tag;
	int rc;

	if ((rc = param_int(params, "tag", 1, 65535, &tag, e)))
		return rc;
	if ((rc = lookup_target(params, "target", t, e)))
		return rc;
	tt_model_lock();
	*g = tt_tpg_find(*t, (uint16_t)tag);
	tt_model_unlock();
	if (!*g) {
		e->errnum = ENOENT;
		return set_error(e, TT_RPC_FAILED, "target \"%s\" has no TPG %lld", (*t)->name, tag);
	}
	return 0;
}

/* @params without the "target" member, for the configuration parser. */
static json_t *without_target(json_t *params)
{
	json_t *copy = json_copy(params);

	if (copy)
		json_object_del(copy, "target");
	return copy;
}

/* --- targets --------------------------------------------------------------------------------- */

static int m_target_create(json_t *params, json_t **result, struct tt_rpc_error *e)
{
	struct tt_config_target ct;
	char err[1024];
	int rc;

	if (tt_config_parse_target(params, "params", &ct, err, sizeof(err)))
		return invalid(e, "%s", err);
	err[0] = '\0';
	rc = tt_config_apply_target(&ct, "", err, sizeof(err));
	tt_config_target_release(&ct);
	if (rc)
		return failed(e, rc, err);
	*result = json_true();
	return 0;
}

static int m_target_delete(json_t *params, json_t **result, struct tt_rpc_error *e)
{
	static const char *const keys[] = { "name", NULL };
	const char *name;
	char err[512] = "";
	int rc;

	if ((rc = check_params(params, keys, e)) || (rc = param_str(params, "name", true, &name, e)))
		return rc;
	if ((rc = tt_target_delete(name, err, sizeof(err))))
		return failed(e, rc, err);
	*result = json_true();
	return 0;
}

static json_t *portal_json(const struct tt_portal *pt)
{
	json_t *o = json_pack("{ss ss}", "addr", pt->addr_str, "state", tt_portal_state(pt));
	int err = tt_portal_error(pt);

	char line[160];

	if (err)
		json_object_set_new(o, "error", json_string(strerror(-err)));
	/* an SRP portal: what a Linux host writes to add it (srp-<device>-<port>/add_target) */
	if (pt->addr.fabric == TT_FABRIC_SRP &&
	    tt_srp_portal_add_target(pt, line, sizeof(line)) > 0)
		json_object_set_new(o, "add_target", json_string(line));
	return o;
}

static json_t *target_json(const struct tt_target *t)
{
	json_t *tpgs = json_array(), *luns = json_array(), *acls = json_array();
	struct tt_list *n, *m;

	tt_list_for_each(n, &t->tpgs) {
		const struct tt_tpg *g = tt_list_entry(n, struct tt_tpg, node);
		json_t *portals = json_array();

		tt_list_for_each(m, &g->portals)
			json_array_append_new(portals,
					      portal_json(tt_list_entry(m, struct tt_portal, node)));
		json_array_append_new(tpgs, json_pack("{si ss ss so}", "tag", g->tag,
						      "auth", g->chap_required ? "chap" : "none",
						      "alua_state",
						      tt_alua_state_name(tt_tpg_alua_state(g)),
						      "portals", portals));
	}
	tt_list_for_each(n, &t->luns) {
		const struct tt_target_lun *tl = tt_list_entry(n, struct tt_target_lun, node);
		const struct tt_bdev *b = tl->lun ? tl->lun->bdev : NULL;

		json_array_append_new(luns, json_pack("{sI ss sI sI sb}",
						      "id", (json_int_t)tl->id,
						      "backend", tl->backend,
						      "size", (json_int_t)(b ? b->size : 0),
						      "block_size", (json_int_t)(b ? b->block_size : 0),
						      "write_protect",
						      tl->lun ? tl->lun->write_protect
							      : tl->opts.write_protect));
	}
	tt_list_for_each(n, &t->acls) {
		const struct tt_acl *a = tt_list_entry(n, struct tt_acl, node);

		json_array_append_new(acls, json_pack("{ss sb sb}", "initiator", a->initiator,
						      "chap", a->chap.user[0] != '\0',
						      "mutual_chap", a->chap.mutual_user[0] != '\0'));
	}
	return json_pack("{ss ss so so so}", "name", t->name, "alias", t->alias,
			 "tpgs", tpgs, "luns", luns, "acls", acls);
}

static int m_target_list(json_t *params, json_t **result, struct tt_rpc_error *e)
{
	static const char *const keys[] = { "name", NULL };
	const char *name;
	json_t *list;
	struct tt_list *n;
	int rc;

	if ((rc = check_params(params, keys, e)) || (rc = param_str(params, "name", false, &name, e)))
		return rc;
	list = json_array();
	tt_model_lock();
	tt_list_for_each(n, tt_model_targets()) {
		const struct tt_target *t = tt_list_entry(n, struct tt_target, node);

		if (!t->deleted && (!name || strcmp(name, t->name) == 0))
			json_array_append_new(list, target_json(t));
	}
	tt_model_unlock();
	if (name && json_array_size(list) == 0) {
		json_decref(list);
		e->errnum = ENOENT;
		return set_error(e, TT_RPC_FAILED, "target \"%s\" not found", name);
	}
	*result = list;
	return 0;
}

/* --- TPGs and portals ------------------------------------------------------------------------ */

static int m_tpg_create(json_t *params, json_t **result, struct tt_rpc_error *e)
{
	struct tt_config_tpg cg;
	struct tt_target *t;
	json_t *rest;
	char err[1024] = "";
	int rc;

	if ((rc = lookup_target(params, "target", &t, e)))
		return rc;
	if (!(rest = without_target(params)))
		return failed(e, -ENOMEM, "");
	rc = tt_config_parse_tpg(rest, "params", &cg, err, sizeof(err));
	json_decref(rest);
	if (rc)
		return invalid(e, "%s", err);
	err[0] = '\0';
	rc = tt_config_apply_tpg(t, &cg, "", err, sizeof(err));
	tt_config_tpg_release(&cg);
	if (rc)
		return failed(e, rc, err);
	*result = json_true();
	return 0;
}

static int m_tpg_delete(json_t *params, json_t **result, struct tt_rpc_error *e)
{
	static const char *const keys[] = { "target", "tag", NULL };
	struct tt_target *t;
	struct tt_tpg *g;
	char err[512] = "";
	int rc;

	if ((rc = check_params(params, keys, e)) || (rc = lookup_tpg(params, &t, &g, e)))
		return rc;
	if ((rc = tt_tpg_delete(t, g->tag, err, sizeof(err))))
		return failed(e, rc, err);
	*result = json_true();
	return 0;
}

static int portal_params(json_t *params, struct tt_tpg **g, const char **addr,
			 struct tt_rpc_error *e)
{
	static const char *const keys[] = { "target", "tag", "addr", NULL };
	struct sockaddr_storage ss;
	struct tt_target *t;
	socklen_t sslen;
	char msg[256];
	int rc;

	if ((rc = check_params(params, keys, e)) || (rc = param_str(params, "addr", true, addr, e)))
		return rc;
	if (tt_config_parse_portal(*addr, &ss, &sslen, NULL, msg, sizeof(msg)))
		return invalid(e, "param \"addr\": %s", msg);
	return lookup_tpg(params, &t, g, e);
}

static int m_portal_add(json_t *params, json_t **result, struct tt_rpc_error *e)
{
	struct tt_portal *pt = NULL;
	struct tt_tpg *g;
	const char *addr;
	char err[512] = "";
	int rc;

	if ((rc = portal_params(params, &g, &addr, e)))
		return rc;
	if ((rc = tt_portal_add(g, addr, &pt, err, sizeof(err))))
		return failed(e, rc, err);
	tt_model_lock();
	*result = pt ? portal_json(pt) : json_true();
	tt_model_unlock();
	return 0;
}

static int m_portal_remove(json_t *params, json_t **result, struct tt_rpc_error *e)
{
	struct tt_tpg *g;
	const char *addr;
	char err[512] = "";
	int rc;

	if ((rc = portal_params(params, &g, &addr, e)))
		return rc;
	if ((rc = tt_portal_remove(g, addr, err, sizeof(err))))
		return failed(e, rc, err);
	*result = json_true();
	return 0;
}

static int m_portal_list(json_t *params, json_t **result, struct tt_rpc_error *e)
{
	static const char *const keys[] = { "target", NULL };
	const char *name;
	struct tt_list *n, *m, *p;
	json_t *list;
	int rc;

	if ((rc = check_params(params, keys, e)) ||
	    (rc = param_str(params, "target", false, &name, e)))
		return rc;
	list = json_array();
	tt_model_lock();
	tt_list_for_each(n, tt_model_targets()) {
		const struct tt_target *t = tt_list_entry(n, struct tt_target, node);

		if (t->deleted || (name && strcmp(name, t->name) != 0))
			continue;
		tt_list_for_each(m, &t->tpgs) {
			const struct tt_tpg *g = tt_list_entry(m, struct tt_tpg, node);

			tt_list_for_each(p, &g->portals) {
				json_t *o = portal_json(tt_list_entry(p, struct tt_portal, node));

				json_object_set_new(o, "target", json_string(t->name));
				json_object_set_new(o, "tag", json_integer(g->tag));
				json_array_append_new(list, o);
			}
		}
	}
	tt_model_unlock();
	*result = list;
	return 0;
}

/* --- ALUA ------------------------------------------------------------------------------------ */

static int m_alua_set(json_t *params, json_t **result, struct tt_rpc_error *e)
{
	static const char *const keys[] = { "target", "tag", "state", NULL };
	struct tt_target *t;
	struct tt_tpg *g;
	const char *name;
	char err[512] = "";
	int rc, state;

	if ((rc = check_params(params, keys, e)) ||
	    (rc = param_str(params, "state", true, &name, e)))
		return rc;
	if ((state = tt_alua_state_parse(name)) < 0)
		return invalid(e, "param \"state\": unknown state \"%s\" (active-optimized, "
			       "active-non-optimized, standby, unavailable, transitioning)", name);
	if ((rc = lookup_tpg(params, &t, &g, e)))
		return rc;
	if ((rc = tt_tpg_set_alua(t, g->tag, (enum tt_alua_state)state, err, sizeof(err))))
		return failed(e, rc, err);
	*result = json_true();
	return 0;
}

static int m_alua_list(json_t *params, json_t **result, struct tt_rpc_error *e)
{
	static const char *const keys[] = { "target", NULL };
	const char *name;
	struct tt_list *n, *m;
	json_t *list;
	int rc;

	if ((rc = check_params(params, keys, e)) ||
	    (rc = param_str(params, "target", false, &name, e)))
		return rc;
	list = json_array();
	tt_model_lock();
	tt_list_for_each(n, tt_model_targets()) {
		const struct tt_target *t = tt_list_entry(n, struct tt_target, node);

		if (t->deleted || (name && strcmp(name, t->name) != 0))
			continue;
		tt_list_for_each(m, &t->tpgs) {
			const struct tt_tpg *g = tt_list_entry(m, struct tt_tpg, node);

			json_array_append_new(list, json_pack(
				"{ss si si si ss}", "target", t->name, "tag", g->tag,
				"group", g->scsi_port.port_group_id,
				"rel_port", g->scsi_port.rel_port_id,
				"state", tt_alua_state_name(tt_tpg_alua_state(g))));
		}
	}
	tt_model_unlock();
	*result = list;
	return 0;
}

/* --- NVMe-oF ---------------------------------------------------------------------------------- */

static int m_ana_set(json_t *params, json_t **result, struct tt_rpc_error *e)
{
	static const char *const keys[] = { "group", "state", NULL };
	const char *name;
	long long group;
	char err[256] = "";
	int rc, state;

	if ((rc = check_params(params, keys, e)) ||
	    (rc = param_int(params, "group", 1, TT_NVMF_ANA_GROUP_MAX, &group, e)) ||
	    (rc = param_str(params, "state", true, &name, e)))
		return rc;
	if ((state = tt_nvmf_ana_state_parse(name)) < 0)
		return invalid(e, "param \"state\": unknown ANA state \"%s\" (optimized, "
			       "non-optimized, inaccessible, persistent-loss, change)", name);
	if (!tt_nvmf_ana_group_exists((uint32_t)group))
		return failed(e, -ENOENT, "no ANA group with that id (no port in it, never set)");
	if ((rc = tt_nvmf_ana_set((uint32_t)group, (enum tt_nvmf_ana_state)state, err,
				  sizeof(err))))
		return failed(e, rc, err);
	*result = json_true();
	return 0;
}

static int m_ana_list(json_t *params, json_t **result, struct tt_rpc_error *e)
{
	static const char *const keys[] = { NULL };
	json_t *list;
	int rc;

	if ((rc = check_params(params, keys, e)))
		return rc;
	list = json_array();
	for (uint32_t g = 1; g <= TT_NVMF_ANA_GROUP_MAX; g++) {
		struct tt_list *n;
		json_t *ports;

		if (!tt_nvmf_ana_group_exists(g))
			continue;
		ports = json_array();
		tt_list_for_each(n, tt_nvmf_ports()) {
			const struct tt_nvmf_port *p = tt_list_entry(n, struct tt_nvmf_port, node);

			if (p->ana_group == g)
				json_array_append_new(ports, json_string(p->name));
		}
		json_array_append_new(list, json_pack("{sI ss sI so}", "group", (json_int_t)g,
			"state", tt_nvmf_ana_state_name(tt_nvmf_ana_get(g)),
			"change_count", (json_int_t)tt_nvmf_ana_change_count(), "ports", ports));
	}
	*result = list;
	return 0;
}

/* A port of the registry (loop 0: removed ports are not in it). */
static json_t *nvmf_port_json(const struct tt_nvmf_port *p)
{
	return json_pack("{ss sI sI ss sI sI sI}", "address", p->name,
			 "portid", (json_int_t)p->portid, "ana_group", (json_int_t)p->ana_group,
			 "ana_state", tt_nvmf_ana_state_name(tt_nvmf_ana_get(p->ana_group)),
			 "read_cmds", (json_int_t)p->read_cmds,
			 "write_cmds", (json_int_t)p->write_cmds,
			 "ana_refused", (json_int_t)p->ana_refused);
}

static int m_nvmf_port_list(json_t *params, json_t **result, struct tt_rpc_error *e)
{
	static const char *const keys[] = { NULL };
	struct tt_list *n;
	json_t *list;
	int rc;

	if ((rc = check_params(params, keys, e)))
		return rc;
	list = json_array();
	tt_list_for_each(n, tt_nvmf_ports())
		json_array_append_new(list, nvmf_port_json(tt_list_entry(n, struct tt_nvmf_port,
									 node)));
	*result = list;
	return 0;
}

/* The port named by param "addr": 0, or an error naming the param. */
static int nvmf_port_param(json_t *params, struct tt_nvmf_port **out, const char **addr,
			   struct tt_rpc_error *e)
{
	struct tt_portal_addr a;
	char msg[256];
	int rc;

	if ((rc = param_str(params, "addr", true, addr, e)))
		return rc;
	if (tt_portal_addr_parse(*addr, &a, msg, sizeof(msg)))
		return invalid(e, "param \"addr\": %s", msg);
	if (a.fabric != TT_FABRIC_NVME_TCP && a.fabric != TT_FABRIC_NVME_RDMA)
		return invalid(e, "param \"addr\": '%s' is not an NVMe-oF address (nvme-tcp:// or "
			       "nvme-rdma://)", *addr);
	*out = tt_nvmf_port_find(*addr);
	if (!*out) {
		snprintf(msg, sizeof(msg), "param \"addr\": no NVMe-oF port %s", *addr);
		return failed(e, -ENOENT, msg);
	}
	return 0;
}

static int m_nvmf_port_remove(json_t *params, json_t **result, struct tt_rpc_error *e)
{
	static const char *const keys[] = { "addr", NULL };
	struct tt_nvmf_port *p;
	const char *addr;
	char err[512] = "";
	int rc;

	if ((rc = check_params(params, keys, e)) || (rc = nvmf_port_param(params, &p, &addr, e)))
		return rc;
	if ((rc = tt_nvmf_port_remove(p->name, err, sizeof(err))))
		return failed(e, rc, err);
	*result = json_true();
	return 0;
}

static int m_nvmf_port_set(json_t *params, json_t **result, struct tt_rpc_error *e)
{
	static const char *const keys[] = { "addr", "ana_group", NULL };
	struct tt_nvmf_port *p;
	const char *addr;
	long long group;
	char err[512] = "";
	int rc;

	if ((rc = check_params(params, keys, e)) || (rc = nvmf_port_param(params, &p, &addr, e)) ||
	    (rc = param_int(params, "ana_group", 1, TT_NVMF_ANA_GROUP_MAX, &group, e)))
		return rc;
	if ((rc = tt_nvmf_port_set_ana_group(p, (uint32_t)group, err, sizeof(err))))
		return failed(e, rc, err);
	*result = nvmf_port_json(p);
	return 0;
}

static int m_nvmf_subsystem_list(json_t *params, json_t **result, struct tt_rpc_error *e)
{
	static const char *const keys[] = { NULL };
	struct tt_nvmf_subsys *s = NULL;
	json_t *list;
	int rc;

	if ((rc = check_params(params, keys, e)))
		return rc;
	list = json_array();
	while ((s = tt_nvmf_subsys_next(s)) != NULL) {
		struct tt_nvmf_subsys_info si;
		struct tt_nvmf_ns_info ni;
		json_t *hosts = json_array(), *nss = json_array();
		const char *h;

		tt_nvmf_subsys_info(s, &si);
		for (size_t i = 0; (h = tt_nvmf_subsys_host(s, i)) != NULL; i++)
			json_array_append_new(hosts, json_string(h));
		for (size_t i = 0; tt_nvmf_subsys_ns(s, i, &ni) == 0; i++) {
			char nguid[33];

			for (int k = 0; k < 16; k++)
				snprintf(nguid + 2 * k, 3, "%02x", ni.nguid[k]);
			json_array_append_new(nss, json_pack("{sI ss sI sI}", "nsid",
				(json_int_t)ni.nsid, "nguid", nguid, "size", (json_int_t)ni.size,
				"block_size", (json_int_t)ni.block_size));
		}
		json_array_append_new(list, json_pack("{ss ss ss sb so so sI}", "nqn", si.nqn,
			"serial", si.serial, "model", si.model, "allow_any_host", si.allow_any_host,
			"hosts", hosts, "namespaces", nss, "controllers", (json_int_t)si.controllers));
	}
	*result = list;
	return 0;
}

static int m_nvmf_controller_list(json_t *params, json_t **result, struct tt_rpc_error *e)
{
	static const char *const keys[] = { NULL };
	struct tt_nvmf_ctrl_info *v;
	size_t n;
	json_t *list;
	int rc;

	if ((rc = check_params(params, keys, e)))
		return rc;
	if ((rc = tt_nvmf_ctrl_snapshot(&v, &n)))
		return failed(e, rc, "");
	list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, json_pack(
			"{ss sI ss ss ss sI ss sI sI}", "subsystem", v[i].subnqn,
			"cntlid", (json_int_t)v[i].cntlid, "host", v[i].hostnqn,
			"hostid", v[i].hostid, "port", v[i].port,
			"ana_group", (json_int_t)v[i].ana_group, "state", v[i].state,
			"kato_ms", (json_int_t)v[i].kato_ms, "queues", (json_int_t)v[i].queues));
	free(v);
	*result = list;
	return 0;
}

/* --- LUNs and ACLs --------------------------------------------------------------------------- */

static int m_lun_add(json_t *params, json_t **result, struct tt_rpc_error *e)
{
	struct tt_config_lun cl;
	struct tt_target *t;
	json_t *rest;
	char err[1024] = "";
	int rc;

	if ((rc = lookup_target(params, "target", &t, e)))
		return rc;
	if (!(rest = without_target(params)))
		return failed(e, -ENOMEM, "");
	rc = tt_config_parse_lun(rest, "params", &cl, err, sizeof(err));
	json_decref(rest);
	if (rc)
		return invalid(e, "%s", err);
	err[0] = '\0';
	if ((rc = tt_config_apply_lun(t, &cl, "", err, sizeof(err))))
		return failed(e, rc, err);
	*result = json_true();
	return 0;
}

static int m_lun_remove(json_t *params, json_t **result, struct tt_rpc_error *e)
{
	static const char *const keys[] = { "target", "id", NULL };
	struct tt_target *t;
	long long id;
	char err[512] = "";
	int rc;

	if ((rc = check_params(params, keys, e)) ||
	    (rc = param_int(params, "id", 0, TT_CONFIG_LUN_ID_MAX, &id, e)) ||
	    (rc = lookup_target(params, "target", &t, e)))
		return rc;
	if ((rc = tt_target_lun_remove(t, (uint64_t)id, err, sizeof(err))))
		return failed(e, rc, err);
	*result = json_true();
	return 0;
}

static int m_acl_add(json_t *params, json_t **result, struct tt_rpc_error *e)
{
	struct tt_config_acl ca;
	struct tt_target *t;
	json_t *rest;
	char err[1024] = "";
	int rc;

	if ((rc = lookup_target(params, "target", &t, e)))
		return rc;
	if (!(rest = without_target(params)))
		return failed(e, -ENOMEM, "");
	rc = tt_config_parse_acl(rest, "params", &ca, err, sizeof(err));
	json_decref(rest);
	if (rc)
		return invalid(e, "%s", err);
	err[0] = '\0';
	rc = tt_config_apply_acl(t, &ca, "", err, sizeof(err));
	memset(&ca.chap, 0, sizeof(ca.chap));
	if (rc)
		return failed(e, rc, err);
	*result = json_true();
	return 0;
}

static int m_acl_remove(json_t *params, json_t **result, struct tt_rpc_error *e)
{
	static const char *const keys[] = { "target", "initiator", NULL };
	struct tt_target *t;
	const char *initiator;
	char err[512] = "";
	int rc;

	if ((rc = check_params(params, keys, e)) ||
	    (rc = param_str(params, "initiator", true, &initiator, e)) ||
	    (rc = lookup_target(params, "target", &t, e)))
		return rc;
	if ((rc = tt_acl_remove(t, initiator, err, sizeof(err))))
		return failed(e, rc, err);
	*result = json_true();
	return 0;
}

/* --- sessions, configuration, logs, shutdown ------------------------------------------------- */

static int m_session_list(json_t *params, json_t **result, struct tt_rpc_error *e)
{
	static const char *const keys[] = { NULL };
	struct tt_session_info *s = NULL;
	size_t count = 0;
	json_t *list;
	int rc;

	if ((rc = check_params(params, keys, e)))
		return rc;
	if ((rc = tt_sessions_snapshot(&s, &count)))
		return failed(e, rc, "cannot take a snapshot of the sessions");
	list = json_array();
	for (size_t i = 0; i < count; i++) {
		json_t *conns = json_array();

		for (unsigned k = 0; k < s[i].nconns && k < 8; k++) {
			const struct tt_conn_info *c = &s[i].conns[k];

			json_array_append_new(conns, json_pack("{si ss ss ss si}", "cid", c->cid,
							       "peer", c->peer, "local", c->local,
							       "state", c->state ? c->state : "?",
							       "loop", (int)c->loop));
		}
		json_array_append_new(list, json_pack(
			"{sI si ss ss ss si sb ss sI so}",
			"id", (json_int_t)s[i].id, "tsih", s[i].tsih,
			"initiator", s[i].initiator, "isid", s[i].isid, "target", s[i].target,
			"tpgt", s[i].tpgt, "discovery", s[i].discovery,
			"state", s[i].state ? s[i].state : "?",
			"commands", (json_int_t)s[i].commands, "connections", conns));
	}
	free(s);
	*result = list;
	return 0;
}

/* The SRP channels: initiator and target port identifiers, state, credits, LUNs. */
static int m_srp_channel_list(json_t *params, json_t **result, struct tt_rpc_error *e)
{
	static const char *const keys[] = { NULL };
	struct tt_srp_channel_info *v = NULL;
	size_t count = 0;
	json_t *list;
	int rc;

	if ((rc = check_params(params, keys, e)))
		return rc;
	if ((rc = tt_srp_channels_snapshot(&v, &count)))
		return failed(e, rc, "cannot take a snapshot of the SRP channels");
	list = json_array();
	for (size_t i = 0; i < count; i++) {
		json_t *luns = json_array();

		for (unsigned k = 0; k < v[i].nluns; k++)
			json_array_append_new(luns, json_integer((json_int_t)v[i].luns[k]));
		json_array_append_new(list, json_pack(
			"{sI ss ss ss si ss ss sI sI sI sI sI so}",
			"id", (json_int_t)v[i].id, "initiator", v[i].initiator,
			"target_port", v[i].target_port, "target", v[i].target, "tpgt", v[i].tpgt,
			"peer", v[i].peer, "state", v[i].state ? v[i].state : "?",
			"req_limit", (json_int_t)v[i].req_limit,
			"credits", (json_int_t)v[i].credits_held,
			"credits_in_use", (json_int_t)v[i].credits_in_use,
			"credits_to_return", (json_int_t)v[i].credits_to_return,
			"tasks", (json_int_t)v[i].tasks, "luns", luns));
	}
	tt_srp_channels_free(v, count);
	*result = list;
	return 0;
}

/* The running configuration; CHAP secrets only when asked for with "secrets": true (tetherctl
 * save, which writes an owner-only file). */
static int m_config_dump(json_t *params, json_t **result, struct tt_rpc_error *e)
{
	static const char *const keys[] = { "secrets", NULL };
	json_t *secrets = json_object_get(params, "secrets");
	int rc;

	if ((rc = check_params(params, keys, e)))
		return rc;
	if (secrets && !json_is_boolean(secrets))
		return invalid(e, "param \"secrets\" must be true or false");
	if ((rc = tt_config_dump(result, json_is_true(secrets))))
		return failed(e, rc, "");
	return 0;
}

static json_t *step_lines(const struct tt_apply_plan *plan, const bool *done, bool want)
{
	json_t *a = json_array();

	for (size_t i = 0; i < plan->n; i++)
		if (!done || done[i] == want)
			json_array_append_new(a, json_string(plan->steps[i].text));
	return a;
}

/*
 * The whole configuration in "config" (the file's schema): plans the changes from the running
 * model to it and, unless "dry_run", makes them. A file that does not parse or asks for what
 * cannot change at run time is -32602 and changes nothing; a step that fails midway is -32000
 * with data.done and data.not_done (the plan's lines).
 */
static int m_config_apply(json_t *params, json_t **result, struct tt_rpc_error *e)
{
	static const char *const keys[] = { "config", "dry_run", NULL };
	struct tt_config *want = NULL, *cur = NULL;
	struct tt_apply_plan plan = { 0 };
	json_t *cfg = json_object_get(params, "config"), *dry = json_object_get(params, "dry_run");
	char err[1024] = "";
	bool *done = NULL;
	int rc;

	if ((rc = check_params(params, keys, e)))
		return rc;
	if (!cfg)
		return invalid(e, "missing param \"config\"");
	if (dry && !json_is_boolean(dry))
		return invalid(e, "param \"dry_run\" must be true or false");
	if (tt_config_parse(cfg, &want, err, sizeof(err)))
		return invalid(e, "%s", err);
	if ((rc = tt_apply_current(&cur, err, sizeof(err)))) {
		tt_config_free(want);
		return failed(e, rc, err);
	}
	rc = tt_apply_plan(cur, want, &plan, err, sizeof(err));
	tt_config_free(cur);
	if (rc) {
		tt_config_free(want);
		return rc == -EINVAL ? invalid(e, "%s", err) : failed(e, rc, err);
	}
	if (json_is_true(dry)) {
		*result = json_pack("{sb so so}", "dry_run", 1, "changes", step_lines(&plan, NULL, true),
				    "done", json_array());
		goto out;
	}
	done = calloc(plan.n + 1, sizeof(*done));
	if (!done) {
		rc = failed(e, -ENOMEM, "");
		goto out;
	}
	rc = tt_apply_run(&plan, done, err, sizeof(err));
	if (rc) {
		size_t ndone = 0;

		for (size_t i = 0; i < plan.n; i++)
			ndone += done[i];
		e->data = json_pack("{so so}", "done", step_lines(&plan, done, true),
				    "not_done", step_lines(&plan, done, false));
		snprintf(err + strlen(err), sizeof(err) - strlen(err),
			 " (%zu of %zu changes made)", ndone, plan.n);
		failed(e, rc, err);
		goto out;
	}
	*result = json_pack("{sb so so}", "dry_run", 0, "changes", step_lines(&plan, NULL, true),
			    "done", step_lines(&plan, done, true));
out:
	free(done);
	tt_apply_plan_free(&plan);
	tt_config_free(want);
	return rc;
}

static int debug_list(json_t *params, const char *name, struct tt_rpc_error *e)
{
	json_t *v = json_object_get(params, name), *c;
	size_t i;

	if (!v)
		return 0;
	if (!json_is_array(v))
		return invalid(e, "param \"%s\" must be an array of component names", name);
	json_array_foreach(v, i, c)
		if (!json_is_string(c) || json_string_length(c) == 0 || json_string_length(c) > 15)
			return invalid(e, "param \"%s[%zu]\" must be a component name "
				       "(1..15 characters)", name, i);
	return 0;
}

static int m_log_set(json_t *params, json_t **result, struct tt_rpc_error *e)
{
	static const char *const keys[] = { "level", "debug", "nodebug", NULL };
	const char *level;
	json_t *c, *g, *d;
	size_t i;
	int rc, lvl = -1;

	if ((rc = check_params(params, keys, e)) ||
	    (rc = param_str(params, "level", false, &level, e)) ||
	    (rc = debug_list(params, "debug", e)) || (rc = debug_list(params, "nodebug", e)))
		return rc;
	if (level && (lvl = tt_log_parse_level(level)) < 0)
		return invalid(e, "param \"level\": unknown level \"%s\" "
			       "(err, warn, notice, info, debug)", level);
	if (lvl >= 0)
		tt_log_set_level((enum tt_log_level)lvl);
	json_array_foreach(json_object_get(params, "nodebug"), i, c) {
		tt_log_debug_enable(json_string_value(c), false);
		tt_config_note_debug(json_string_value(c), false);
	}
	json_array_foreach(json_object_get(params, "debug"), i, c) {
		rc = tt_log_debug_enable(json_string_value(c), true);
		if (rc)
			return failed(e, rc, "too many debug components");
		tt_config_note_debug(json_string_value(c), true);
	}
	g = tt_config_dump_global();
	d = json_object_get(g, "debug");
	*result = json_pack("{sO so}", "level", json_object_get(g, "log_level"),
			    "debug", d ? json_incref(d) : json_array());
	json_decref(g);
	return 0;
}

static int m_shutdown(json_t *params, json_t **result, struct tt_rpc_error *e)
{
	static const char *const keys[] = { NULL };
	int rc;

	if ((rc = check_params(params, keys, e)))
		return rc;
	tt_rpc_request_shutdown();
	*result = json_true();
	return 0;
}

static int m_stats(json_t *params, json_t **result, struct tt_rpc_error *e)
{
	static const char *const keys[] = { NULL };
	struct tt_stats *s;
	int rc;

	if ((rc = check_params(params, keys, e)))
		return rc;
	if ((rc = tt_stats_collect(&s)))
		return failed(e, rc, "cannot take a sample of the counters");
	*result = tt_stats_json(s);
	tt_stats_free(s);
	return 0;
}

static int m_rpc_methods(json_t *params, json_t **result, struct tt_rpc_error *e)
{
	static const char *const keys[] = { NULL };
	int rc;

	if ((rc = check_params(params, keys, e)))
		return rc;
	*result = tt_rpc_method_names();
	return 0;
}

/* --- table ----------------------------------------------------------------------------------- */

static const struct {
	const char *name;
	tt_rpc_method_fn fn;
} methods[] = {
	{ "target_create", m_target_create },
	{ "target_delete", m_target_delete },
	{ "target_list", m_target_list },
	{ "tpg_create", m_tpg_create },
	{ "tpg_delete", m_tpg_delete },
	{ "portal_add", m_portal_add },
	{ "portal_remove", m_portal_remove },
	{ "portal_list", m_portal_list },
	{ "alua_set", m_alua_set },
	{ "alua_list", m_alua_list },
	{ "ana_set", m_ana_set },
	{ "ana_list", m_ana_list },
	{ "nvmf_port_list", m_nvmf_port_list },
	{ "nvmf_port_remove", m_nvmf_port_remove },
	{ "nvmf_port_set", m_nvmf_port_set },
	{ "nvmf_subsystem_list", m_nvmf_subsystem_list },
	{ "nvmf_controller_list", m_nvmf_controller_list },
	{ "lun_add", m_lun_add },
	{ "lun_remove", m_lun_remove },
	{ "acl_add", m_acl_add },
	{ "acl_remove", m_acl_remove },
	{ "session_list", m_session_list },
	{ "srp_channel_list", m_srp_channel_list },
	{ "stats", m_stats },
	{ "config_dump", m_config_dump },
	{ "config_apply", m_config_apply },
	{ "log_set", m_log_set },
	{ "shutdown", m_shutdown },
	{ "rpc_methods", m_rpc_methods },
};

tt_rpc_method_fn tt_rpc_method_find(const char *name)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(methods[i].name, name) == 0)
			return methods[i].fn;
	return NULL;
}

json_t *tt_rpc_method_names(void)
{
	json_t *a = json_array();

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		json_array_append_new(a, json_string(methods[i].name));
	return a;
}
