/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The RDMA layer, on rdma-core (librdmacm, libibverbs): devices with their protection domain and
 * a pool of registered task buffers, listening rdma_cm identifiers, and reliable connections
 * whose CM event channel and completion channel are file descriptors watched by the loop that
 * owns the connection. No thread of its own: completions are polled in batches by that loop.
 *
 *   rdma_state.c  the connection's lifecycle table and its named references (no verbs: unit tested)
 *   rdma_dev.c    devices (PD), the registered buffer pool, librdmacm's contexts of removed
 *                 devices (rdma_ctx.h, inside the layer)
 *   rdma_conn.c   connections: QP, CQ, posting, completions, teardown
 *   rdma_listen.c listening identifiers, connection requests handed to a loop
 *
 * Connection lifecycle (enum tt_rdma_conn_state; tt_rdma_conn_set_state() is the only writer):
 *
 *   NEW -> ACCEPTING -> ESTABLISHED -> DRAINING -> CLOSED -> (freed)
 *    |        |                          ^
 *    +--------+--------------------------+
 *
 *   NEW          a connection request, its identifier moved to an event channel of its own
 *   ACCEPTING    QP and CQ made on the device, receive buffers posted, rdma_accept sent; what
 *                arrives before ESTABLISHED is delivered (the initiator may send at once)
 *   ESTABLISHED  the CM said so
 *   DRAINING     shut down (upper layer, CM event, completion error): rdma_disconnect without
 *                waiting, QP moved to error, a drain marker posted; every posted work request
 *                completes or is flushed (after a device removal, is completed as flushed once
 *                the QP is destroyed: below); the CM stays watched
 *   CLOSED       every posted work request has come back; the upper layer is told (down)
 *   freed        when the last reference goes (tt_rdma_conn_put)
 *
 * References (enum tt_rdma_ref, counted per holder): the upper layer (until it is done with the
 * connection), each posted receive, send, RDMA READ and RDMA WRITE, and the drain marker. The QP,
 * CQ, channels and identifier are destroyed only when all are zero.
 *
 * Device removal (RDMA_CM_EVENT_DEVICE_REMOVAL, on a listener or a connection): a connection
 * goes DRAINING as for a cut path (the CM stays watched while DRAINING for this event). Flushes
 * normally come back (soft-RoCE); if work requests are still posted TT_RDMA_GONE_FLUSH_MS after
 * the removal, the QP is destroyed (after which the device touches none of their memory), the CQ
 * polled to empty, and each work request still posted completes here with IBV_WC_WR_FLUSH_ERR,
 * so the usual path (CLOSED, closed, the upper layer's put, freed) releases everything. A
 * listener tells its owner (lost) and is unlistened. The device's PD and registered buffers go
 * with the last connection and buffer; librdmacm's context of the device is let go once no
 * identifier of ours is bound to it (rdma_dev.c), which a driver without disassociation (rxe)
 * waits for before `rdma link delete` returns.
 */
#ifndef TT_RDMA_RDMA_H
#define TT_RDMA_RDMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tt_rdma_conn_state {
	TT_RDMA_CONN_NEW,
	TT_RDMA_CONN_ACCEPTING,
	TT_RDMA_CONN_ESTABLISHED,
	TT_RDMA_CONN_DRAINING,
	TT_RDMA_CONN_CLOSED,
	TT_RDMA_CONN_STATE_COUNT,
};

/* Whether the lifecycle has an edge @from -> @to. */
bool tt_rdma_conn_transition_ok(enum tt_rdma_conn_state from, enum tt_rdma_conn_state to);
const char *tt_rdma_conn_state_name(enum tt_rdma_conn_state s);
/* I/O may be posted in these states. */
static inline bool tt_rdma_conn_state_running(enum tt_rdma_conn_state s)
{
	return s == TT_RDMA_CONN_ACCEPTING || s == TT_RDMA_CONN_ESTABLISHED;
}

/* The holders of a connection's references. */
enum tt_rdma_ref {
	TT_RDMA_REF_UPPER,   /* the upper layer, until tt_rdma_conn_put */
	TT_RDMA_REF_RECV,    /* a posted receive */
	TT_RDMA_REF_SEND,    /* a posted SEND */
	TT_RDMA_REF_READ,    /* a posted RDMA READ */
	TT_RDMA_REF_WRITE,   /* a posted RDMA WRITE */
	TT_RDMA_REF_DRAIN,   /* the drain marker */
	TT_RDMA_REF_COUNT,
};

struct tt_rdma_refs {
	uint32_t n[TT_RDMA_REF_COUNT];
};

const char *tt_rdma_ref_name(enum tt_rdma_ref h);
void tt_rdma_refs_get(struct tt_rdma_refs *r, enum tt_rdma_ref h);
/* Returns true when that was the last reference of every holder. A put without a get leaves the
 * count at zero, sets *@underflow and returns false (the caller logs it). */
bool tt_rdma_refs_put(struct tt_rdma_refs *r, enum tt_rdma_ref h, bool *underflow);
uint32_t tt_rdma_refs_total(const struct tt_rdma_refs *r);
/* Posted work requests (every holder but the upper layer). */
uint32_t tt_rdma_refs_posted(const struct tt_rdma_refs *r);

#ifdef TT_HAVE_RDMA
#include <rdma/rdma_cma.h>

#include "base/list.h"
#include "base/loop.h"

/* ---- devices and registered memory (rdma_dev.c) ---- */
struct tt_rdma_dev;

/* The device of @verbs (made on first use), with a reference; NULL when out of memory or the PD
 * cannot be allocated. Thread-safe. */
struct tt_rdma_dev *tt_rdma_dev_get(struct ibv_context *verbs);
void tt_rdma_dev_put(struct tt_rdma_dev *d);
/* Lets librdmacm close the contexts of removed devices nothing uses any more. */
void tt_rdma_devices_resync(void);
struct ibv_pd *tt_rdma_dev_pd(const struct tt_rdma_dev *d);
const char *tt_rdma_dev_name(const struct tt_rdma_dev *d);

/* A registered buffer of at least @len bytes (*cap: its size) from the device's pool; it holds
 * a device reference until tt_rdma_buf_put. NULL when out of memory. Thread-safe. */
void *tt_rdma_buf_get(struct tt_rdma_dev *d, size_t len, size_t *cap);
void tt_rdma_buf_put(void *buf);
/* The local key of a buffer of the pool. */
uint32_t tt_rdma_buf_lkey(const void *buf);

/* ---- connections (rdma_conn.c) ---- */
struct tt_rdma_conn;

/* A work request: what comes back in its completion. @holder is the reference it holds. */
struct tt_rdma_wr {
	enum tt_rdma_ref holder;
	struct tt_list node;          /* the RDMA layer's: on the connection's posted list */
	/* @wc->status IBV_WC_SUCCESS, or an error / flush (the connection is then going down) */
	void (*done)(struct tt_rdma_conn *c, struct tt_rdma_wr *wr, const struct ibv_wc *wc);
};

struct tt_rdma_conn_ops {
	/* The connection went down (CM event, completion error, or tt_rdma_conn_shutdown): @err
	 * 0 or -errno. Called once, from deferred work, when every posted work request is back. */
	void (*closed)(struct tt_rdma_conn *c, int err);
	/* CM: established (informational). */
	void (*established)(struct tt_rdma_conn *c);
	/* Every reference is gone and the verbs resources are destroyed: the upper layer frees
	 * the memory the connection is embedded in. */
	void (*freed)(struct tt_rdma_conn *c);
};

struct tt_rdma_conn_params {
	uint32_t sq_depth, rq_depth;  /* work requests */
	uint32_t max_sge;
	uint8_t responder_resources, initiator_depth;
};

struct tt_rdma_conn {
	struct rdma_cm_id *id;
	struct rdma_event_channel *cm_ch;
	struct ibv_comp_channel *comp_ch;
	struct ibv_cq *cq;
	struct tt_rdma_dev *dev;
	struct tt_loop *loop;
	struct tt_watch cm_watch, comp_watch;
	struct tt_work poll_work;     /* more completions than one batch: go on after a yield */
	struct tt_work closed_work;   /* reports ops->closed once drained */
	struct tt_work free_work;     /* the last reference went */
	struct tt_list posted;        /* work requests posted and not yet completed (wr->node) */
	struct tt_timer gone_timer;   /* device removed: flushes not back in time */
	bool device_gone;             /* DEVICE_REMOVAL seen */
	enum tt_rdma_conn_state state;
	struct tt_rdma_refs refs;
	int err;                      /* first error */
	bool closed_reported;
	struct tt_rdma_wr drain_wr;
	struct tt_rdma_conn_params params;
	const struct tt_rdma_conn_ops *ops;
	uint64_t id_log;
	char peer[80];
};

int tt_rdma_conn_set_state(struct tt_rdma_conn *c, enum tt_rdma_conn_state to);
/* A connection request (state NEW) arrives with c->id, c->cm_ch, c->peer, c->id_log set and the
 * upper reference taken. Makes the QP and CQ on the calling loop, watches the channels; the
 * state stays NEW (a failure: tt_rdma_conn_reject, then tt_rdma_conn_put). */
int tt_rdma_conn_setup(struct tt_rdma_conn *c, const struct tt_rdma_conn_params *p);
/* rdma_accept with the connection's parameters; -> ACCEPTING. */
int tt_rdma_conn_accept(struct tt_rdma_conn *c, const void *priv, uint8_t priv_len);
/* Rejects a request that was never set up (then tt_rdma_conn_put). */
void tt_rdma_conn_reject(struct tt_rdma_conn *c);
/* Takes the connection down without waiting for the peer or the CM (idempotent). */
void tt_rdma_conn_down(struct tt_rdma_conn *c, int err, const char *why);
/* Drops the upper layer's reference: freed once nothing is posted. */
void tt_rdma_conn_put(struct tt_rdma_conn *c);

/* Posting; each holds a reference of wr->holder until its completion. -ENOTCONN when down. */
int tt_rdma_post_recv(struct tt_rdma_conn *c, struct tt_rdma_wr *wr, void *addr, uint32_t len,
		      uint32_t lkey);
int tt_rdma_post_send(struct tt_rdma_conn *c, struct tt_rdma_wr *wr, void *addr, uint32_t len,
		      uint32_t lkey);
/* A SEND that also invalidates the peer's @rkey (Send With Invalidate), when the peer asked for
 * it (NVMe/RDMA keyed SGL subtype Fh). */
int tt_rdma_post_send_inv(struct tt_rdma_conn *c, struct tt_rdma_wr *wr, void *addr, uint32_t len,
			  uint32_t lkey, uint32_t rkey);
/* RDMA READ (@write false: remote -> local) or WRITE (local -> remote). */
int tt_rdma_post_rdma(struct tt_rdma_conn *c, struct tt_rdma_wr *wr, bool write, void *addr,
		      uint32_t len, uint32_t lkey, uint64_t raddr, uint32_t rkey);

/* ---- listening (rdma_listen.c) ---- */
struct tt_rdma_listener;

/* What a connection request asked for. */
struct tt_rdma_request {
	uint8_t priv[256];            /* the initiator's private data */
	uint8_t priv_len;
	/* The depths as the CM reports them to the passive side, already swapped into its point
	 * of view (the CM turns the initiator's responder resources into this initiator_depth):
	 * initiator_depth bounds the RDMA READs we may have outstanding, responder_resources
	 * those the initiator may issue to us. */
	uint8_t responder_resources;
	uint8_t initiator_depth;
};

/* A connection request on a listener, on the listener's loop: @id has been moved to an event
 * channel of its own (@ch), to be watched by the loop that will own the connection; the handler
 * takes both (tt_rdma_request_refuse when it cannot take the connection). */
typedef void (*tt_rdma_request_fn)(void *arg, struct rdma_cm_id *id, struct rdma_event_channel *ch,
				   const struct tt_rdma_request *req);
/* The listener's device or address went away: it no longer listens (the caller unlistens). */
typedef void (*tt_rdma_lost_fn)(void *arg, int err);

void tt_rdma_request_refuse(struct rdma_cm_id *id, struct rdma_event_channel *ch);
/* Same, with @priv_len bytes of private data in the CM reject (the protocol's reject message,
 * such as SRP_LOGIN_REJ): at most 148 bytes, the room of an InfiniBand CM REJ after the
 * RDMA-CM header; longer is cut. */
void tt_rdma_request_reject(struct rdma_cm_id *id, struct rdma_event_channel *ch, const void *priv,
			    uint8_t priv_len);

/* Binds and listens on @addr from the calling loop. -EADDRNOTAVAIL when the address (or a device
 * for it) is not there (yet). */
int tt_rdma_listen(const struct sockaddr *addr, const char *name, tt_rdma_request_fn req,
		   tt_rdma_lost_fn lost, void *arg, struct tt_rdma_listener **out);
void tt_rdma_unlisten(struct tt_rdma_listener *l);
#endif

#endif
