/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Listening rdma_cm identifiers. The listener's event channel is a file descriptor of the loop
 * that listens; a connection request's identifier is moved to an event channel of its own, so
 * that the loop which will own the connection watches only its own events. When the device goes
 * away or the address changes, the owner is told (lost) and unlistens; it binds again later.
 */
#include "rdma/rdma.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "rdma/rdma_ctx.h"

#define LISTEN_BACKLOG 128

struct tt_rdma_listener {
	struct rdma_event_channel *ch;
	struct rdma_cm_id *id;
	struct ibv_context *verbs;      /* the device bound to (counted), NULL for a wildcard */
	struct tt_watch watch;
	tt_rdma_request_fn req;
	tt_rdma_lost_fn lost;
	void *arg;
	char name[96];
};

#define RDMA_REJECT_PRIV_MAX 148

void tt_rdma_request_reject(struct rdma_cm_id *id, struct rdma_event_channel *ch, const void *priv,
			    uint8_t priv_len)
{
	struct ibv_context *verbs = id->verbs;

	if (priv_len > RDMA_REJECT_PRIV_MAX)
		priv_len = RDMA_REJECT_PRIV_MAX;
	rdma_reject(id, priv_len ? priv : NULL, priv_len);
	rdma_destroy_id(id);
	tt_rdma_ctx_release(verbs);
	if (ch)
		rdma_destroy_event_channel(ch);
}

void tt_rdma_request_refuse(struct rdma_cm_id *id, struct rdma_event_channel *ch)
{
	tt_rdma_request_reject(id, ch, NULL, 0);
}

static void listener_request(struct tt_rdma_listener *l, struct rdma_cm_event *ev)
{
	struct rdma_cm_id *id = ev->id;
	struct tt_rdma_request req = {
		.priv_len = ev->param.conn.private_data_len,
		.responder_resources = ev->param.conn.responder_resources,
		.initiator_depth = ev->param.conn.initiator_depth,
	};
	struct rdma_event_channel *ch;
	int fl;

	/* counted from here until the identifier is destroyed (refused, or its connection freed) */
	tt_rdma_ctx_hold(id->verbs);
	if (req.priv_len && ev->param.conn.private_data)
		memcpy(req.priv, ev->param.conn.private_data, req.priv_len);
	else
		req.priv_len = 0;
	/* (the identifier moves to another channel only once its events are acknowledged) */
	rdma_ack_cm_event(ev);
	ch = rdma_create_event_channel();
	if (!ch) {
		tt_log_ratelimited(TT_LOG_WARN, "rdma", "%s: connection refused: event channel: %s",
				   l->name, strerror(errno));
		tt_rdma_request_refuse(id, NULL);
		return;
	}
	fl = fcntl(ch->fd, F_GETFL);
	if (fl < 0 || fcntl(ch->fd, F_SETFL, fl | O_NONBLOCK) < 0 || rdma_migrate_id(id, ch)) {
		tt_log_ratelimited(TT_LOG_WARN, "rdma", "%s: connection refused: %s", l->name,
				   strerror(errno));
		tt_rdma_request_refuse(id, ch);
		return;
	}
	l->req(l->arg, id, ch, &req);
}

static void listener_ready(struct tt_watch *w, uint32_t events)
{
	struct tt_rdma_listener *l = tt_container_of(w, struct tt_rdma_listener, watch);
	struct rdma_cm_event *ev;

	(void)events;
	for (int i = 0; i < 64; i++) {
		enum rdma_cm_event_type type;

		if (rdma_get_cm_event(l->ch, &ev))
			return; /* EAGAIN */
		type = ev->event;
		tt_debug("rdma", "%s: %s", l->name, rdma_event_str(type));
		switch (type) {
		case RDMA_CM_EVENT_CONNECT_REQUEST:
			listener_request(l, ev);
			break;
		case RDMA_CM_EVENT_DEVICE_REMOVAL:
		case RDMA_CM_EVENT_ADDR_CHANGE:
			rdma_ack_cm_event(ev);
			if (type == RDMA_CM_EVENT_DEVICE_REMOVAL)
				tt_rdma_ctx_removed(l->verbs);
			tt_warn("rdma", "%s: %s", l->name, type == RDMA_CM_EVENT_DEVICE_REMOVAL ?
				"device removed" : "address changed");
			/* the owner unlistens: @l is gone when this returns */
			l->lost(l->arg, type == RDMA_CM_EVENT_DEVICE_REMOVAL ? -ENODEV : -EADDRNOTAVAIL);
			return;
		default:
			rdma_ack_cm_event(ev);
			break;
		}
	}
}

static int errno_listen(int e)
{
	/* no device for the address yet (rxe not set up): like an address not on the host */
	if (e == ENODEV || e == EADDRNOTAVAIL || e == ENOENT)
		return -EADDRNOTAVAIL;
	return -e;
}

int tt_rdma_listen(const struct sockaddr *addr, const char *name, tt_rdma_request_fn req,
		   tt_rdma_lost_fn lost, void *arg, struct tt_rdma_listener **out)
{
	struct tt_loop *loop = tt_loop_current();
	struct tt_rdma_listener *l;
	int fl, rc;

	if (!loop)
		loop = tt_loops_get(0);
	if (!loop)
		return -EINVAL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->watch.fd = -1;
	l->req = req;
	l->lost = lost;
	l->arg = arg;
	snprintf(l->name, sizeof(l->name), "%s", name);
	/* (a retry after a device removal: the removed device's context goes first) */
	tt_rdma_devices_resync();
	l->ch = rdma_create_event_channel();
	if (!l->ch) {
		/* no RDMA subsystem on this host (no /dev/infiniband/rdma_cm) */
		rc = errno == ENOENT || errno == ENODEV ? -EADDRNOTAVAIL : -errno;
		goto fail;
	}
	fl = fcntl(l->ch->fd, F_GETFL);
	if (fl < 0 || fcntl(l->ch->fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		rc = -errno;
		goto fail;
	}
	if (rdma_create_id(l->ch, &l->id, l, RDMA_PS_TCP)) {
		rc = errno_listen(errno);
		goto fail;
	}
	if (rdma_bind_addr(l->id, (struct sockaddr *)addr)) {
		rc = errno_listen(errno);
		goto fail;
	}
	if (rdma_listen(l->id, LISTEN_BACKLOG)) {
		rc = errno_listen(errno);
		goto fail;
	}
	rc = tt_watch_add(loop, &l->watch, l->ch->fd, EPOLLIN, listener_ready);
	if (rc < 0)
		goto fail;
	l->verbs = l->id->verbs;
	tt_rdma_ctx_hold(l->verbs);
	tt_info("rdma", "listening on %s%s%s", l->name, l->id->verbs ? ", device " : "",
		l->id->verbs ? ibv_get_device_name(l->id->verbs->device) : "");
	*out = l;
	return 0;
fail:
	tt_debug("rdma", "%s: cannot listen: %s", l->name, strerror(-rc));
	if (l->id)
		rdma_destroy_id(l->id);
	if (l->ch)
		rdma_destroy_event_channel(l->ch);
	free(l);
	return rc;
}

void tt_rdma_unlisten(struct tt_rdma_listener *l)
{
	if (!l)
		return;
	tt_watch_del(&l->watch);
	rdma_destroy_id(l->id);
	rdma_destroy_event_channel(l->ch);
	tt_info("rdma", "stopped listening on %s", l->name);
	tt_rdma_ctx_release(l->verbs);
	free(l);
	tt_rdma_devices_resync();
}
