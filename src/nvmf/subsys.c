/* SPDX-License-Identifier: BSD-3-Clause */
/* NVMe-oF subsystems, namespaces and allowed hosts (loop 0; see nvmf.h); ports are in port.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/errmsg.h"
#include "base/log.h"
#include "nvmf/internal.h"

static struct tt_list subsystems = TT_LIST_INIT(subsystems);
static struct tt_nvmf_subsys *discovery;

struct tt_list *tt_nvmf_subsystems(void) { return &subsystems; }
static void subsys_free(struct tt_nvmf_subsys *s);
struct tt_nvmf_subsys *tt_nvmf_discovery(void) { return discovery; }

/* "nqn.YYYY-MM.domain[:...]" of printable ASCII, or the discovery NQN. */
int tt_nvmf_nqn_check(const char *nqn, char *err, size_t errlen)
{
	size_t n = strlen(nqn);

	if (n == 0 || n > TT_NVMF_NQN_MAX) {
		tt_errmsg(err, errlen, 0, "NQN '%s': length %zu (1..%d)", nqn, n, TT_NVMF_NQN_MAX);
		return -EINVAL;
	}
	if (strncmp(nqn, "nqn.", 4) != 0 || n < 12 || nqn[8] != '-' || nqn[11] != '.') {
		tt_errmsg(err, errlen, 0, "NQN '%s': expected nqn.YYYY-MM.reverse.domain[:name]",
			  nqn);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (nqn[i] <= ' ' || nqn[i] > '~') {
			tt_errmsg(err, errlen, 0, "NQN '%s': bad character at %zu", nqn, i);
			return -EINVAL;
		}
	}
	return 0;
}

/* A 20-character serial number derived from the NQN (FNV-1a). */
static void serial_from_nqn(const char *nqn, char *out, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (const char *p = nqn; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	snprintf(out, len, "tt%016llx", (unsigned long long)h);
}

static struct tt_nvmf_subsys *subsys_new(const char *nqn, bool disc)
{
	struct tt_nvmf_subsys *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	snprintf(s->nqn, sizeof(s->nqn), "%s", nqn);
	s->discovery = disc;
	s->refs = 1;
	s->allow_any_host = true;
	snprintf(s->model, sizeof(s->model), "tether");
	s->next_cntlid = 1;
	tt_list_init(&s->hosts);
	tt_list_init(&s->namespaces);
	tt_list_init(&s->ctrls);
	serial_from_nqn(nqn, s->serial, sizeof(s->serial));
	return s;
}

struct tt_nvmf_subsys *tt_nvmf_subsys_find(const char *nqn)
{
	struct tt_list *n;

	if (discovery && !strcmp(nqn, discovery->nqn))
		return discovery;
	tt_list_for_each(n, &subsystems) {
		struct tt_nvmf_subsys *s = tt_list_entry(n, struct tt_nvmf_subsys, node);

		if (!strcmp(s->nqn, nqn))
			return s;
	}
	return NULL;
}

int tt_nvmf_subsys_create(const char *nqn, struct tt_nvmf_subsys **out, char *err, size_t errlen)
{
	struct tt_nvmf_subsys *s;
	int rc = tt_nvmf_nqn_check(nqn, err, errlen);

	if (rc)
		return rc;
	if (tt_nvmf_subsys_find(nqn)) {
		tt_errmsg(err, errlen, 0, "subsystem %s exists already", nqn);
		return -EEXIST;
	}
	s = subsys_new(nqn, false);
	if (!s) {
		tt_errmsg(err, errlen, 0, "subsystem %s: out of memory", nqn);
		return -ENOMEM;
	}
	tt_list_add_tail(&subsystems, &s->node);
	tt_nvmf_discovery_changed();
	tt_info("nvmf", "subsystem %s created", nqn);
	if (out)
		*out = s;
	return 0;
}

void tt_nvmf_subsys_put(struct tt_nvmf_subsys *s)
{
	if (--s->refs == 0)
		subsys_free(s);
}

/* Takes @s out of the registry: its controllers end; freed with the last of them. */
static void subsys_unregister(struct tt_nvmf_subsys *s)
{
	struct tt_list *n, *t;

	tt_list_del(&s->node);
	tt_list_init(&s->node);
	tt_list_for_each_safe(n, t, &s->ctrls)
		tt_nvmf_ctrl_end(tt_list_entry(n, struct tt_nvmf_ctrl, node), "subsystem deleted");
	tt_nvmf_subsys_put(s);
}

int tt_nvmf_subsys_delete(const char *nqn, char *err, size_t errlen)
{
	struct tt_nvmf_subsys *s = tt_nvmf_subsys_find(nqn);

	if (!s || s->discovery) {
		tt_errmsg(err, errlen, 0, "no subsystem %s", nqn);
		return -ENOENT;
	}
	tt_info("nvmf", "subsystem %s deleted", nqn);
	tt_nvmf_discovery_changed();
	subsys_unregister(s);
	return 0;
}

static int ascii_check(const char *what, const char *v, size_t max, char *err, size_t errlen)
{
	size_t n = strlen(v);

	if (n > max) {
		tt_errmsg(err, errlen, 0, "%s '%s': longer than %zu bytes", what, v, max);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (v[i] < ' ' || v[i] > '~') {
			tt_errmsg(err, errlen, 0, "%s '%s': not printable ASCII", what, v);
			return -EINVAL;
		}
	}
	return 0;
}

int tt_nvmf_subsys_set_ids(struct tt_nvmf_subsys *s, const char *serial, const char *model,
			   char *err, size_t errlen)
{
	int rc;

	if ((rc = ascii_check("serial", serial ? serial : "", TT_NVMF_SERIAL_MAX, err, errlen)) ||
	    (rc = ascii_check("model", model ? model : "", TT_NVMF_MODEL_MAX, err, errlen)))
		return rc;
	s->serial_set = serial && *serial;
	if (s->serial_set)
		snprintf(s->serial, sizeof(s->serial), "%s", serial);
	else
		serial_from_nqn(s->nqn, s->serial, sizeof(s->serial));
	s->model_set = model && *model;
	snprintf(s->model, sizeof(s->model), "%s", s->model_set ? model : "tether");
	return 0;
}

int tt_nvmf_subsys_remove_host(struct tt_nvmf_subsys *s, const char *hostnqn, char *err,
			       size_t errlen)
{
	struct tt_list *n, *t;
	bool found = false;

	tt_list_for_each_safe(n, t, &s->hosts) {
		struct tt_nvmf_host *h = tt_list_entry(n, struct tt_nvmf_host, node);

		if (!strcmp(h->nqn, hostnqn)) {
			tt_list_del(n);
			free(h);
			found = true;
		}
	}
	if (!found) {
		tt_errmsg(err, errlen, 0, "subsystem %s: host %s is not in the list", s->nqn, hostnqn);
		return -ENOENT;
	}
	tt_nvmf_discovery_changed();
	if (!tt_nvmf_host_allowed(s, hostnqn)) {
		tt_list_for_each_safe(n, t, &s->ctrls) {
			struct tt_nvmf_ctrl *c = tt_list_entry(n, struct tt_nvmf_ctrl, node);

			if (!strcmp(c->hostnqn, hostnqn))
				tt_nvmf_ctrl_end(c, "host no longer allowed");
		}
	}
	return 0;
}

int tt_nvmf_ns_set_origin(struct tt_nvmf_subsys *s, uint32_t nsid, const char *backend,
			  const char *lun_target, uint64_t lun_id)
{
	struct tt_nvmf_ns *ns = tt_nvmf_ns_find(s, nsid);

	if (!ns)
		return -ENOENT;
	snprintf(ns->backend, sizeof(ns->backend), "%s", backend ? backend : "");
	snprintf(ns->lun_target, sizeof(ns->lun_target), "%s", lun_target ? lun_target : "");
	ns->lun_id = lun_id;
	return 0;
}

struct tt_nvmf_ns *tt_nvmf_ns_find(struct tt_nvmf_subsys *s, uint32_t nsid)
{
	struct tt_list *n;

	tt_list_for_each(n, &s->namespaces) {
		struct tt_nvmf_ns *ns = tt_list_entry(n, struct tt_nvmf_ns, node);

		if (ns->nsid == nsid)
			return ns;
	}
	return NULL;
}

static void ns_changed(struct tt_nvmf_subsys *s, uint32_t nsid)
{
	struct tt_list *n;

	tt_list_for_each(n, &s->ctrls)
		tt_nvmf_ctrl_ns_changed(tt_list_entry(n, struct tt_nvmf_ctrl, node), nsid);
}

int tt_nvmf_ns_add(struct tt_nvmf_subsys *s, uint32_t nsid, struct tt_bdev *bdev, uint64_t naa_id,
		   char *err, size_t errlen)
{
	struct tt_nvmf_ns *ns;
	struct tt_list *n, *pos = &s->namespaces;

	if (s->discovery) {
		tt_errmsg(err, errlen, 0, "the discovery subsystem has no namespaces");
		return -EINVAL;
	}
	if (nsid == 0 || nsid > TT_NVMF_MAX_NAMESPACES) {
		tt_errmsg(err, errlen, 0, "subsystem %s: namespace id %u out of range (1..%d)",
			  s->nqn, nsid, TT_NVMF_MAX_NAMESPACES);
		return -EINVAL;
	}
	if (tt_nvmf_ns_find(s, nsid)) {
		tt_errmsg(err, errlen, 0, "subsystem %s: namespace %u exists already", s->nqn, nsid);
		return -EEXIST;
	}
	if (bdev->block_size != 512 && bdev->block_size != 4096) {
		tt_errmsg(err, errlen, 0, "namespace %u: block size %u", nsid, bdev->block_size);
		return -EINVAL;
	}
	ns = calloc(1, sizeof(*ns));
	if (!ns) {
		tt_errmsg(err, errlen, 0, "namespace %u: out of memory", nsid);
		return -ENOMEM;
	}
	ns->nsid = nsid;
	ns->bdev = bdev;
	tt_bdev_get(bdev);
	ns->naa_id = naa_id;
	tt_nvmf_ns_ids(naa_id, ns->nguid, ns->uuid);
	tt_list_for_each(n, &s->namespaces) {
		if (tt_list_entry(n, struct tt_nvmf_ns, node)->nsid > nsid) {
			pos = n;
			break;
		}
	}
	tt_list_add_tail(pos, &ns->node); /* before the first larger id */
	ns_changed(s, nsid);
	return 0;
}

int tt_nvmf_ns_remove(struct tt_nvmf_subsys *s, uint32_t nsid, char *err, size_t errlen)
{
	struct tt_nvmf_ns *ns = tt_nvmf_ns_find(s, nsid);

	if (!ns) {
		tt_errmsg(err, errlen, 0, "subsystem %s: no namespace %u", s->nqn, nsid);
		return -ENOENT;
	}
	tt_list_del(&ns->node);
	tt_nvmf_resv_ns_gone(s, ns);
	/* I/O in flight holds its own backend reference (tt_bdev_submit) */
	tt_bdev_put(ns->bdev);
	free(ns);
	ns_changed(s, nsid);
	return 0;
}

void tt_nvmf_subsys_allow_any_host(struct tt_nvmf_subsys *s, bool any)
{
	struct tt_list *n, *t;

	if (s->allow_any_host != any)
		tt_nvmf_discovery_changed();
	s->allow_any_host = any;
	/* controllers of hosts no longer allowed end */
	tt_list_for_each_safe(n, t, &s->ctrls) {
		struct tt_nvmf_ctrl *c = tt_list_entry(n, struct tt_nvmf_ctrl, node);

		if (!tt_nvmf_host_allowed(s, c->hostnqn))
			tt_nvmf_ctrl_end(c, "host no longer allowed");
	}
}

int tt_nvmf_subsys_add_host(struct tt_nvmf_subsys *s, const char *hostnqn, char *err,
			    size_t errlen)
{
	struct tt_nvmf_host *h;
	int rc = tt_nvmf_nqn_check(hostnqn, err, errlen);

	if (rc)
		return rc;
	if (!s->allow_any_host || !tt_list_empty(&s->hosts)) {
		struct tt_list *n;

		tt_list_for_each(n, &s->hosts)
			if (!strcmp(tt_list_entry(n, struct tt_nvmf_host, node)->nqn, hostnqn))
				return 0;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		tt_errmsg(err, errlen, 0, "host %s: out of memory", hostnqn);
		return -ENOMEM;
	}
	snprintf(h->nqn, sizeof(h->nqn), "%s", hostnqn);
	tt_list_add_tail(&s->hosts, &h->node);
	s->allow_any_host = false;
	tt_nvmf_discovery_changed();
	return 0;
}

bool tt_nvmf_host_allowed(const struct tt_nvmf_subsys *s, const char *hostnqn)
{
	const struct tt_list *n;

	if (s->allow_any_host || s->discovery)
		return true;
	for (n = s->hosts.next; n != &s->hosts; n = n->next)
		if (!strcmp(tt_list_entry(n, const struct tt_nvmf_host, node)->nqn, hostnqn))
			return true;
	return false;
}

struct tt_nvmf_subsys *tt_nvmf_subsys_next(struct tt_nvmf_subsys *prev)
{
	struct tt_list *n = prev ? prev->node.next : subsystems.next;

	return n == &subsystems ? NULL : tt_list_entry(n, struct tt_nvmf_subsys, node);
}

void tt_nvmf_subsys_info(const struct tt_nvmf_subsys *s, struct tt_nvmf_subsys_info *out)
{
	const struct tt_list *n;

	memset(out, 0, sizeof(*out));
	out->nqn = s->nqn;
	out->serial = s->serial;
	out->model = s->model;
	out->serial_set = s->serial_set;
	out->model_set = s->model_set;
	out->allow_any_host = s->allow_any_host;
	for (n = s->namespaces.next; n != &s->namespaces; n = n->next)
		out->namespaces++;
	out->controllers = tt_nvmf_subsys_ctrl_count(s);
}

const char *tt_nvmf_subsys_host(const struct tt_nvmf_subsys *s, size_t i)
{
	for (const struct tt_list *n = s->hosts.next; n != &s->hosts; n = n->next)
		if (i-- == 0)
			return tt_list_entry(n, const struct tt_nvmf_host, node)->nqn;
	return NULL;
}

int tt_nvmf_subsys_ns(const struct tt_nvmf_subsys *s, size_t i, struct tt_nvmf_ns_info *out)
{
	for (const struct tt_list *n = s->namespaces.next; n != &s->namespaces; n = n->next) {
		const struct tt_nvmf_ns *ns = tt_list_entry(n, const struct tt_nvmf_ns, node);

		if (i-- != 0)
			continue;
		out->nsid = ns->nsid;
		out->backend = ns->backend;
		out->lun_target = ns->lun_target;
		out->lun_id = ns->lun_id;
		out->size = tt_bdev_size(ns->bdev);
		out->block_size = ns->bdev->block_size;
		memcpy(out->nguid, ns->nguid, 16);
		return 0;
	}
	return -ENOENT;
}

int tt_nvmf_ctrl_snapshot(struct tt_nvmf_ctrl_info **out, size_t *count)
{
	struct tt_list *sn, *cn;
	size_t n = 0, i = 0;
	struct tt_nvmf_ctrl_info *v;

	tt_list_for_each(sn, &subsystems)
		n += tt_nvmf_subsys_ctrl_count(tt_list_entry(sn, struct tt_nvmf_subsys, node));
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	tt_list_for_each(sn, &subsystems) {
		struct tt_nvmf_subsys *s = tt_list_entry(sn, struct tt_nvmf_subsys, node);

		tt_list_for_each(cn, &s->ctrls) {
			struct tt_nvmf_ctrl *c = tt_list_entry(cn, struct tt_nvmf_ctrl, node);
			struct tt_nvmf_ctrl_info *x = &v[i++];
			const uint8_t *h = c->hostid;
			struct tt_list *q;

			snprintf(x->subnqn, sizeof(x->subnqn), "%s", s->nqn);
			snprintf(x->hostnqn, sizeof(x->hostnqn), "%s", c->hostnqn);
			snprintf(x->hostid, sizeof(x->hostid),
				 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
				 h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9], h[10],
				 h[11], h[12], h[13], h[14], h[15]);
			snprintf(x->port, sizeof(x->port), "%s", c->port ? c->port->name : "");
			x->cntlid = c->cntlid;
			x->ana_group = tt_nvmf_ctrl_ana_group(c);
			x->state = tt_nvmf_ctrl_state_name(c->state);
			x->kato_ms = c->kato_ms;
			tt_list_for_each(q, &c->qpairs)
				x->queues++;
		}
	}
	*out = v;
	*count = i;
	return 0;
}

unsigned tt_nvmf_subsys_ctrl_count(const struct tt_nvmf_subsys *s)
{
	return tt_list_count(&s->ctrls);
}

void tt_nvmf_print_serving(FILE *f)
{
	struct tt_list *sn, *n;

	tt_list_for_each(sn, &subsystems) {
		struct tt_nvmf_subsys *s = tt_list_entry(sn, struct tt_nvmf_subsys, node);
		size_t nns = 0;
		bool first = true;

		tt_list_for_each(n, &s->namespaces)
			nns++;
		fprintf(f, "tetherd: serving %s on ", s->nqn);
		tt_list_for_each(n, tt_nvmf_ports()) {
			fprintf(f, "%s%s", first ? "" : ", ",
				tt_list_entry(n, struct tt_nvmf_port, node)->name);
			first = false;
		}
		fprintf(f, "%s (%zu namespaces)\n", first ? "no port" : "", nns);
	}
}

int tt_nvmf_init(void)
{
	if (discovery)
		return 0;
	discovery = subsys_new(TT_NVMF_DISCOVERY_NQN, true);
	return discovery ? 0 : -ENOMEM;
}

static void subsys_free(struct tt_nvmf_subsys *s)
{
	struct tt_list *n, *t;

	tt_list_for_each_safe(n, t, &s->namespaces) {
		struct tt_nvmf_ns *ns = tt_list_entry(n, struct tt_nvmf_ns, node);

		tt_list_del(&ns->node);
		tt_nvmf_resv_ns_gone(s, ns);
		tt_bdev_put(ns->bdev);
		free(ns);
	}
	tt_list_for_each_safe(n, t, &s->hosts) {
		tt_list_del(n);
		free(tt_list_entry(n, struct tt_nvmf_host, node));
	}
	free(s);
}

void tt_nvmf_fini(void)
{
	struct tt_list *n, *t;

	tt_nvmf_ports_fini();
	tt_list_for_each_safe(n, t, &subsystems) {
		struct tt_nvmf_subsys *s = tt_list_entry(n, struct tt_nvmf_subsys, node);

		subsys_unregister(s);
	}
	if (discovery) {
		tt_list_init(&discovery->node);
		subsys_unregister(discovery);
	}
	discovery = NULL;
	tt_nvmf_ana_reset();
}
