/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The "nvmf" section of the configuration made real (ANA groups, ports, subsystems with their
 * hosts and namespaces) and the running NVMe-oF objects dumped back in the same schema. Loop 0.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "nvmf/nvmf.h"
#include "target/config.h"
#include "target/nvmf_resv.h"

/* A namespace's identity: the medium's name when the backend has one (every gateway of a shared
 * medium reports the same NGUID), else the subsystem and the namespace id. */
static uint64_t ns_naa_id(const char *nqn, uint32_t nsid, struct tt_bdev *bdev)
{
	uint64_t h = 0xcbf29ce484222325ull;
	char medium[256];
	const char *p;

	if (tt_bdev_identity(bdev, medium, sizeof(medium)) == 0) {
		for (p = medium; *p; p++)
			h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
		return h ? h : 1;
	}
	for (p = nqn; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	for (int i = 0; i < 4; i++)
		h = (h ^ (uint8_t)(nsid >> (8 * i))) * 0x100000001b3ull;
	return h ? h : 1;
}

int tt_config_nvmf_apply_port(const struct tt_config_nvmf_port *p, const char *path, char *err,
			      size_t errlen)
{
	char msg[512] = "";
	int rc = tt_nvmf_port_add(p->addr, p->ana_group, NULL, msg, sizeof(msg));

	if (rc)
		snprintf(err, errlen, "%s: %s", path, msg);
	return rc;
}

int tt_config_nvmf_apply_ns(const char *nqn, const struct tt_config_nvmf_ns *cn, const char *path,
			    char *err, size_t errlen)
{
	struct tt_nvmf_subsys *s = tt_nvmf_subsys_find(nqn);
	struct tt_bdev *bdev = NULL;
	struct tt_lun *lun = NULL;
	uint64_t naa;
	char msg[512] = "";
	int rc;

	if (!s) {
		snprintf(err, errlen, "%s: no subsystem %s", path, nqn);
		return -ENOENT;
	}
	if (cn->backend[0]) {
		rc = tt_bdev_open(cn->backend, &bdev, msg, sizeof(msg));
		if (rc) {
			snprintf(err, errlen, "%s.backend: %s", path, msg);
			return rc;
		}
		naa = ns_naa_id(nqn, cn->nsid, bdev);
	} else {
		struct tt_target *t;

		tt_model_lock();
		t = tt_target_find(cn->lun_target);
		lun = t ? tt_target_lun_get(t, cn->lun_id) : NULL;
		tt_model_unlock();
		if (!lun) {
			snprintf(err, errlen, "%s.lun: target %s has no LUN %llu", path, cn->lun_target,
				 (unsigned long long)cn->lun_id);
			return -ENOENT;
		}
		bdev = lun->bdev;
		naa = lun->naa_id; /* the NGUID is the NAA identifier the LUN reports */
	}
	rc = tt_nvmf_ns_add(s, cn->nsid, bdev, naa, msg, sizeof(msg));
	if (rc)
		snprintf(err, errlen, "%s: %s", path, msg);
	else
		tt_nvmf_ns_set_origin(s, cn->nsid, cn->backend, cn->lun_target, cn->lun_id);
	if (!rc) {
		/* reservations: the LUN's (one state for both fabrics), or a LUN of its own */
		rc = lun ? tt_nvmf_resv_bind_lun(s, cn->nsid, lun)
			 : tt_nvmf_resv_bind_backend(s, cn->nsid, bdev, naa);
		if (rc) {
			snprintf(err, errlen, "%s: reservations: %s", path, strerror(-rc));
			tt_nvmf_ns_remove(s, cn->nsid, NULL, 0);
		}
	}
	if (lun)
		tt_lun_put(lun);
	else
		tt_bdev_put(bdev);
	return rc;
}

int tt_config_nvmf_apply_subsys(const struct tt_config_nvmf_subsys *cs, const char *path,
				char *err, size_t errlen)
{
	struct tt_nvmf_subsys *s;
	char msg[512] = "", sub[320];
	int rc;

	rc = tt_nvmf_subsys_create(cs->nqn, &s, msg, sizeof(msg));
	if (rc) {
		snprintf(err, errlen, "%s: %s", path, msg);
		return rc;
	}
	rc = tt_nvmf_subsys_set_ids(s, (cs->set & TT_CFG_S_SERIAL) ? cs->serial : NULL,
				    (cs->set & TT_CFG_S_MODEL) ? cs->model : NULL, msg, sizeof(msg));
	if (rc)
		snprintf(err, errlen, "%s: %s", path, msg);
	for (size_t i = 0; !rc && i < cs->nhosts; i++) {
		rc = tt_nvmf_subsys_add_host(s, cs->hosts[i], msg, sizeof(msg));
		if (rc)
			snprintf(err, errlen, "%s.hosts[%zu]: %s", path, i, msg);
	}
	if (!rc)
		tt_nvmf_subsys_allow_any_host(s, cs->allow_any_host);
	for (size_t i = 0; !rc && i < cs->nns; i++) {
		snprintf(sub, sizeof(sub), "%s.namespaces[%zu]", path, i);
		rc = tt_config_nvmf_apply_ns(cs->nqn, &cs->ns[i], sub, err, errlen);
	}
	if (rc)
		tt_nvmf_subsys_delete(cs->nqn, NULL, 0);
	return rc;
}

int tt_config_nvmf_apply(const struct tt_config_nvmf *n, char *err, size_t errlen)
{
	char path[64], msg[256] = "";
	size_t i;
	int rc = 0;

	for (i = 0; i < n->ngroups && !rc; i++) {
		rc = tt_nvmf_ana_set(n->groups[i].id, (enum tt_nvmf_ana_state)n->groups[i].state,
				     msg, sizeof(msg));
		if (rc)
			snprintf(err, errlen, "nvmf.ana_groups[%zu]: %s", i, msg);
	}
	for (i = 0; i < n->nports && !rc; i++) {
		snprintf(path, sizeof(path), "nvmf.ports[%zu]", i);
		rc = tt_config_nvmf_apply_port(&n->ports[i], path, err, errlen);
	}
	for (i = 0; i < n->nsubsys && !rc; i++) {
		snprintf(path, sizeof(path), "nvmf.subsystems[%zu]", i);
		rc = tt_config_nvmf_apply_subsys(&n->subsys[i], path, err, errlen);
		if (rc)
			while (i-- > 0)
				tt_nvmf_subsys_delete(n->subsys[i].nqn, NULL, 0);
	}
	if (!rc && (n->nsubsys || n->nports))
		tt_notice("config", "NVMe-oF: %zu subsystem%s, %zu port%s configured", n->nsubsys,
			  n->nsubsys == 1 ? "" : "s", n->nports, n->nports == 1 ? "" : "s");
	return rc;
}

/* --- dump ------------------------------------------------------------------------------------ */

json_t *tt_config_nvmf_dump(void)
{
	json_t *root, *groups = json_array(), *ports = json_array(), *subs = json_array();
	struct tt_nvmf_subsys *s = NULL;
	struct tt_list *n;

	for (uint32_t g = 1; g <= TT_NVMF_ANA_GROUP_MAX; g++)
		if (tt_nvmf_ana_group_exists(g))
			json_array_append_new(groups, json_pack("{sI ss}", "id", (json_int_t)g,
					      "state", tt_nvmf_ana_state_name(tt_nvmf_ana_get(g))));
	tt_list_for_each(n, tt_nvmf_ports()) {
		const struct tt_nvmf_port *p = tt_list_entry(n, struct tt_nvmf_port, node);

		json_array_append_new(ports, json_pack("{ss sI}", "address", p->name, "ana_group",
						       (json_int_t)p->ana_group));
	}
	while ((s = tt_nvmf_subsys_next(s)) != NULL) {
		struct tt_nvmf_subsys_info si;
		struct tt_nvmf_ns_info ni;
		json_t *o, *hosts = json_array(), *nss = json_array();
		const char *h;

		tt_nvmf_subsys_info(s, &si);
		o = json_pack("{ss}", "nqn", si.nqn);
		if (si.serial_set)
			json_object_set_new(o, "serial", json_string(si.serial));
		if (si.model_set)
			json_object_set_new(o, "model", json_string(si.model));
		json_object_set_new(o, "allow_any_host", json_boolean(si.allow_any_host));
		for (size_t i = 0; (h = tt_nvmf_subsys_host(s, i)) != NULL; i++)
			json_array_append_new(hosts, json_string(h));
		json_object_set_new(o, "hosts", hosts);
		for (size_t i = 0; tt_nvmf_subsys_ns(s, i, &ni) == 0; i++) {
			json_t *x = json_pack("{sI}", "nsid", (json_int_t)ni.nsid);

			if (ni.backend[0])
				json_object_set_new(x, "backend", json_string(ni.backend));
			else
				json_object_set_new(x, "lun", json_pack("{ss sI}", "target",
					ni.lun_target, "id", (json_int_t)ni.lun_id));
			json_array_append_new(nss, x);
		}
		json_object_set_new(o, "namespaces", nss);
		json_array_append_new(subs, o);
	}
	if (!json_array_size(groups) && !json_array_size(ports) && !json_array_size(subs)) {
		json_decref(groups);
		json_decref(ports);
		json_decref(subs);
		return NULL;
	}
	root = json_object();
	json_object_set_new(root, "ana_groups", groups);
	json_object_set_new(root, "ports", ports);
	json_object_set_new(root, "subsystems", subs);
	return root;
}
