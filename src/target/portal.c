/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TPGs' portals. Each portal is one user of the shared listener of its address
 * (xport/listener.c), which binds, retries and re-binds by itself; the TPG a connection belongs
 * to is chosen at login (login.c) from the target it names and the listener it came in on.
 *
 * Threads: all of this runs on loop 0, the only thread that changes the model. It reads the
 * model's lists without the lock and takes tt_model_lock() to change them.
 */
#include "target/portal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/errmsg.h"
#include "base/log.h"
#include "target/iscsi_target.h"
#include "target/srp_port.h"

/* Removed portals, kept until their TPG is freed (connections may still point to them). */
static pthread_mutex_t retired_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tt_list retired = TT_LIST_INIT(retired);

const char *tt_portal_state(const struct tt_portal *p)
{
	return p->listener ? tt_listener_state_name(tt_listener_state(p->listener)) : "removed";
}

bool tt_portal_listening(const struct tt_portal *p)
{
	return p->listener && tt_listener_state(p->listener) == TT_LISTENER_LISTENING;
}

int tt_portal_error(const struct tt_portal *p)
{
	return p->listener ? tt_listener_error(p->listener) : 0;
}

/* The portal of @tpg's target on address @a (in any of its TPGs), or NULL. */
static struct tt_portal *target_portal(struct tt_target *t, const struct tt_portal_addr *a)
{
	struct tt_list *gn, *pn;

	tt_list_for_each(gn, &t->tpgs) {
		struct tt_tpg *g = tt_list_entry(gn, struct tt_tpg, node);

		tt_list_for_each(pn, &g->portals) {
			struct tt_portal *p = tt_list_entry(pn, struct tt_portal, node);

			if (tt_portal_addr_equal(&p->addr, a))
				return p;
		}
	}
	return NULL;
}

int tt_portal_add(struct tt_tpg *tpg, const char *addr, struct tt_portal **out,
		  char *err, size_t errlen)
{
	struct tt_portal_addr a;
	struct tt_portal *other, *p;
	char canon[TT_PORTAL_ADDR_MAX];
	int rc;

	rc = tt_portal_addr_parse(addr, &a, err, errlen);
	if (rc)
		return rc;
	tt_portal_addr_format(&a, canon, sizeof(canon));
	if (a.fabric == TT_FABRIC_SRP && tt_srp_port_supported())
		tt_srp_port_register();
	else if (a.fabric != TT_FABRIC_ISCSI && a.fabric != TT_FABRIC_ISER) {
		tt_errmsg(err, errlen, 0, "portal %s: %s:// is not a fabric of iSCSI targets", canon,
			  tt_fabric_scheme(a.fabric));
		return -EPROTONOSUPPORT;
	}
	other = target_portal(tpg->target, &a);
	if (other) {
		/* one address reaches one TPG of a target: login could not tell them apart */
		tt_errmsg(err, errlen, 0, "portal %s is already in tpg %u of target %s", canon,
			  other->tpg->tag, tpg->target->name);
		return -EADDRINUSE;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		tt_errmsg(err, errlen, 0, "portal %s: out of memory", canon);
		return -ENOMEM;
	}
	tt_list_init(&p->node);
	p->tpg = tpg;
	p->addr = a;
	snprintf(p->addr_str, sizeof(p->addr_str), "%s", canon);
	rc = tt_listener_acquire(&a, &tt_iscsi_core, &p->listener, err, errlen);
	if (rc) {
		free(p);
		return rc;
	}
	tt_model_lock();
	tt_list_add_tail(&tpg->portals, &p->node);
	tt_model_unlock();
	tt_info("portal", "portal %s added to target %s tpg %u (%s)", canon, tpg->target->name,
		tpg->tag, tt_portal_state(p));
	if (out)
		*out = p;
	return 0;
}

/* Out of the model: no listener; the memory stays until the TPG goes. */
static void portal_retire(struct tt_portal *p)
{
	struct tt_listener *l = p->listener;

	tt_model_lock();
	tt_list_del(&p->node);
	p->listener = NULL;
	tt_model_unlock();
	tt_listener_release(l);
	tt_info("portal", "portal %s (target %s tpg %u) removed", p->addr_str, p->tpg->target->name,
		p->tpg->tag);
	pthread_mutex_lock(&retired_lock);
	tt_list_add_tail(&retired, &p->node);
	pthread_mutex_unlock(&retired_lock);
}

int tt_portal_remove(struct tt_tpg *tpg, const char *addr, char *err, size_t errlen)
{
	struct tt_portal_addr a;
	struct tt_list *n;
	char canon[TT_PORTAL_ADDR_MAX];
	int rc;

	rc = tt_portal_addr_parse(addr, &a, err, errlen);
	if (rc)
		return rc;
	tt_list_for_each(n, &tpg->portals) {
		struct tt_portal *p = tt_list_entry(n, struct tt_portal, node);

		if (tt_portal_addr_equal(&p->addr, &a)) {
			portal_retire(p);
			return 0;
		}
	}
	tt_portal_addr_format(&a, canon, sizeof(canon));
	tt_errmsg(err, errlen, 0, "portal %s: no such portal in tpg %u of target %s", canon, tpg->tag,
		  tpg->target->name);
	return -ENOENT;
}

void tt_portal_remove_all(struct tt_tpg *tpg)
{
	while (!tt_list_empty(&tpg->portals))
		portal_retire(tt_list_entry(tpg->portals.next, struct tt_portal, node));
}

void tt_portal_free_retired(struct tt_tpg *tpg)
{
	struct tt_list *n, *tmp;
	struct tt_list doomed = TT_LIST_INIT(doomed);

	pthread_mutex_lock(&retired_lock);
	tt_list_for_each_safe(n, tmp, &retired) {
		struct tt_portal *p = tt_list_entry(n, struct tt_portal, node);

		if (p->tpg == tpg) {
			tt_list_del(n);
			tt_list_add_tail(&doomed, n);
		}
	}
	pthread_mutex_unlock(&retired_lock);
	while ((n = tt_list_pop(&doomed)))
		free(tt_list_entry(n, struct tt_portal, node));
}
