/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NVMe-oF ports (loop 0; see nvmf.h): the registry, the transports of the fabrics this build
 * serves, the port lifecycle (SERVING -> REMOVED -> freed) and its references, moves between
 * ANA groups, and the discovery log's generation counter.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/errmsg.h"
#include "base/log.h"
#include "nvmf/internal.h"
#include "nvmf/rdma.h"
#include "nvmf/tcp.h"

static struct tt_list ports = TT_LIST_INIT(ports);
static uint16_t next_portid = 1;
static uint64_t genctr = 1;

struct tt_list *tt_nvmf_ports(void) { return &ports; }

uint64_t tt_nvmf_discovery_genctr(void) { return genctr; }

void tt_nvmf_discovery_changed(void)
{
	struct tt_nvmf_subsys *d = tt_nvmf_discovery();
	struct tt_list *n, *t;

	genctr++;
	if (!d)
		return;
	tt_list_for_each_safe(n, t, &d->ctrls)
		tt_nvmf_ctrl_discovery_changed(tt_list_entry(n, struct tt_nvmf_ctrl, node));
}

const char *tt_nvmf_port_state_name(enum tt_nvmf_port_state s)
{
	switch (s) {
	case TT_NVMF_PORT_SERVING: return "serving";
	case TT_NVMF_PORT_REMOVED: return "removed";
	}
	return "?";
}

void tt_nvmf_port_get(struct tt_nvmf_port *p)
{
	p->refs++;
}

void tt_nvmf_port_put(struct tt_nvmf_port *p)
{
	if (--p->refs > 0)
		return;
	tt_debug("nvmf", "port %s freed", p->name);
	free(p);
}

/* Every queue pair that came in through @p stops: a controller whose admin queue came in through
 * it ends (all its queues go), a queue pair of a controller elsewhere is disconnected, and so is
 * one that has not connected yet. Disconnect never frees a queue pair from inside the call, so
 * the list stays as it is while it is walked. */
static void port_stop_qpairs(struct tt_nvmf_port *p)
{
	struct tt_list *n, *t;

	tt_list_for_each_safe(n, t, &p->qpairs) {
		struct tt_nvmf_qpair *qp = tt_list_entry(n, struct tt_nvmf_qpair, port_node);

		if (qp->closed)
			continue;
		if (qp->ctrl && qp->ctrl->port == p)
			tt_nvmf_ctrl_end(qp->ctrl, "port removed"); /* once: then ENDING */
		else
			qp->ops->disconnect(qp);
	}
}

/* The only writer of p->state; the edge's side effects are attached here. */
static void port_set_state(struct tt_nvmf_port *p, enum tt_nvmf_port_state to, const char *why)
{
	enum tt_nvmf_port_state from = p->state;

	if (from == to || from == TT_NVMF_PORT_REMOVED)
		return;
	p->state = to;
	tt_notice("nvmf", "port %s (id %u, ANA group %u): %s -> %s (%s)", p->name, p->portid,
		  p->ana_group, tt_nvmf_port_state_name(from), tt_nvmf_port_state_name(to), why);
	/* SERVING -> REMOVED: out of the discovery log, no new connection, the paths end */
	tt_list_del(&p->node);
	tt_list_init(&p->node);
	tt_nvmf_discovery_changed();
	p->xp->unlisten(p);
	port_stop_qpairs(p);
	tt_nvmf_port_put(p); /* the registry's */
}

struct tt_nvmf_port *tt_nvmf_port_find(const char *addr)
{
	struct tt_portal_addr a;
	struct tt_list *n;
	char msg[256];

	if (tt_portal_addr_parse(addr, &a, msg, sizeof(msg)))
		return NULL;
	tt_list_for_each(n, &ports) {
		struct tt_nvmf_port *p = tt_list_entry(n, struct tt_nvmf_port, node);

		if (tt_portal_addr_equal(&p->addr, &a))
			return p;
	}
	return NULL;
}

/* The transport of each NVMe-oF fabric this build serves. */
static const struct tt_nvmf_port_xport *const port_xports[] = {
	[TT_FABRIC_NVME_TCP] = &tt_nvmf_tcp_port,
#ifdef TT_HAVE_RDMA
	[TT_FABRIC_NVME_RDMA] = &tt_nvmf_rdma_port,
#endif
};

static const struct tt_nvmf_port_xport *port_xport(int fabric)
{
	if (fabric < 0 || (size_t)fabric >= sizeof(port_xports) / sizeof(port_xports[0]))
		return NULL;
	return port_xports[fabric];
}

bool tt_nvmf_fabric_served(int fabric)
{
	return port_xport(fabric) != NULL;
}

void tt_nvmf_close_all(void)
{
	for (size_t i = 0; i < sizeof(port_xports) / sizeof(port_xports[0]); i++)
		if (port_xports[i])
			port_xports[i]->close_all();
}

unsigned tt_nvmf_conn_count(void)
{
	unsigned n = 0;

	for (size_t i = 0; i < sizeof(port_xports) / sizeof(port_xports[0]); i++)
		if (port_xports[i])
			n += port_xports[i]->conn_count();
	return n;
}

int tt_nvmf_port_add(const char *addr, uint32_t ana_group, struct tt_nvmf_port **out, char *err,
		     size_t errlen)
{
	const struct tt_nvmf_port_xport *xp;
	struct tt_nvmf_port *p;
	struct tt_portal_addr a;
	struct tt_list *n;
	int rc = tt_portal_addr_parse(addr, &a, err, errlen);

	if (rc)
		return rc;
	xp = port_xport(a.fabric);
	if (!xp) {
		tt_errmsg(err, errlen, 0, "port '%s': %s", addr, (a.fabric == TT_FABRIC_NVME_RDMA) ?
			  "nvme-rdma:// is not served by this build (no rdma-core)" :
			  "an NVMe-oF port is nvme-tcp:// or nvme-rdma://");
		return -EPROTONOSUPPORT;
	}
	if (ana_group > TT_NVMF_ANA_GROUP_MAX) {
		tt_errmsg(err, errlen, 0, "port '%s': ANA group %u out of range (1..%d)", addr,
			  ana_group, TT_NVMF_ANA_GROUP_MAX);
		return -EINVAL;
	}
	if (!ana_group)
		ana_group = 1;
	tt_list_for_each(n, &ports) {
		p = tt_list_entry(n, struct tt_nvmf_port, node);
		if (tt_portal_addr_equal(&p->addr, &a)) {
			if (p->ana_group != ana_group) {
				tt_errmsg(err, errlen, 0, "port '%s' is in ANA group %u already",
					  p->name, p->ana_group);
				return -EEXIST;
			}
			if (out)
				*out = p;
			return 0;
		}
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		tt_errmsg(err, errlen, 0, "port '%s': out of memory", addr);
		return -ENOMEM;
	}
	p->addr = a;
	p->ana_group = ana_group;
	tt_portal_addr_format(&a, p->name, sizeof(p->name));
	p->xp = xp;
	tt_list_init(&p->qpairs);
	rc = xp->listen(p, err, errlen);
	if (rc) {
		free(p);
		return rc;
	}
	p->state = TT_NVMF_PORT_SERVING; /* the initial state, not a transition */
	p->refs = 1;                      /* the registry's */
	p->portid = next_portid++;
	tt_list_add_tail(&ports, &p->node);
	tt_nvmf_discovery_changed();
	if (out)
		*out = p;
	return 0;
}

int tt_nvmf_port_remove(const char *addr, char *err, size_t errlen)
{
	struct tt_nvmf_port *p;
	struct tt_portal_addr a;
	int rc = tt_portal_addr_parse(addr, &a, err, errlen);

	if (rc)
		return rc;
	p = tt_nvmf_port_find(addr);
	if (!p) {
		tt_errmsg(err, errlen, 0, "port '%s': no such NVMe-oF port", addr);
		return -ENOENT;
	}
	port_set_state(p, TT_NVMF_PORT_REMOVED, "removed");
	return 0;
}

int tt_nvmf_port_set_ana_group(struct tt_nvmf_port *p, uint32_t group, char *err, size_t errlen)
{
	uint32_t old = p->ana_group;

	if (group == 0 || group > TT_NVMF_ANA_GROUP_MAX) {
		tt_errmsg(err, errlen, 0, "port '%s': ANA group %u out of range (1..%d)", p->name,
			  group, TT_NVMF_ANA_GROUP_MAX);
		return -EINVAL;
	}
	if (p->state != TT_NVMF_PORT_SERVING) {
		tt_errmsg(err, errlen, 0, "port '%s' was removed", p->name);
		return -ENOENT;
	}
	if (group == old)
		return 0;
	p->ana_group = group;
	tt_notice("nvmf", "port %s: ANA group %u (%s) -> %u (%s)", p->name, old,
		  tt_nvmf_ana_state_name(tt_nvmf_ana_get(old)), group,
		  tt_nvmf_ana_state_name(tt_nvmf_ana_get(group)));
	tt_nvmf_ana_port_moved(p);
	return 0;
}

void tt_nvmf_ports_fini(void)
{
	struct tt_list *n, *t;

	tt_list_for_each_safe(n, t, &ports)
		port_set_state(tt_list_entry(n, struct tt_nvmf_port, node), TT_NVMF_PORT_REMOVED,
			       "shutting down");
}
