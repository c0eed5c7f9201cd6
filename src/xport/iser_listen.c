/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * iSER listeners: an rdma_cm listener for each shared listener of an iser:// portal. When its
 * device goes away or its address changes, the shared listener closes it and binds again once
 * the address (and a device for it) is back, as it does for TCP portals.
 */
#include "xport/iser.h"

#include <errno.h>

#include "base/log.h"

static void iser_listen_request(void *arg, struct rdma_cm_id *id, struct rdma_event_channel *ch,
				const struct tt_rdma_request *req)
{
	tt_iser_conn_request(arg, id, ch, req);
}

static void iser_listen_lost(void *arg, int err)
{
	tt_listener_lost(arg, err);
}

int tt_iser_listen(struct tt_listener *l)
{
	struct tt_rdma_listener *rl;
	int rc;

	rc = tt_rdma_listen((const struct sockaddr *)&l->addr.ss, l->name, iser_listen_request,
			    iser_listen_lost, l, &rl);
	if (rc < 0)
		return rc;
	l->xport_priv = rl;
	return 0;
}

void tt_iser_unlisten(struct tt_listener *l)
{
	struct tt_rdma_listener *rl = l ? l->xport_priv : NULL;

	if (!rl)
		return;
	l->xport_priv = NULL;
	tt_rdma_unlisten(rl);
}
