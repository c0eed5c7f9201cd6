/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Portal addresses and shared listeners.
 *
 * A portal address is [SCHEME://]ADDR[:PORT]: the fabric it serves (iscsi:// by default), a
 * numeric IPv4 or IPv6 address and a port (the fabric's default when absent).
 *
 * A listener is one (transport, address, port) the daemon listens on, shared by every user of
 * that address: any number of target portal groups of any number of targets (and, later,
 * NVMe-oF ports and SRP targets). Which target a connection is for is decided at login, from
 * what the initiator asks for and the listener it came in on, not when it is accepted.
 *
 * Listener lifecycle; listener_set_state() is the only writer of tt_listener.state:
 *
 *   (new) -> BINDING <-> LISTENING
 *               |            |
 *               +-> FAILED   +-----> CLOSED (last user gone; from any state)
 *
 *   BINDING    no socket: the address is not on the host (yet), another program holds the port,
 *              or binding is not permitted. Retried every 250 ms; last_error keeps the reason.
 *              The first failure is logged, then a reminder each minute, and each new reason.
 *   LISTENING  the transport accepts connections. If a specific address leaves the host, the
 *              transport's listener is closed and the listener goes back to BINDING.
 *   FAILED     a permanent error (address family or transport not supported): no retry.
 *   CLOSED     no user is left: not listening, out of the registry; freed with its last
 *              reference.
 *
 * Address monitor: while any listener exists, a NETLINK_ROUTE socket on the control loop (loop 0)
 * subscribed to IPv4 and IPv6 address changes; each change (and a lost notification) re-checks
 * every listener's address with getifaddrs(): a LISTENING listener whose address vanished is
 * closed, a BINDING one whose address is back binds at once. Without netlink the same check runs
 * every second. Connections already accepted are left alone.
 *
 * References (refs) and their holders: the registry, from creation while it has users (users
 * counts them: each portal of a TPG that names the address); every connection accepted on it,
 * until the connection is released. Freed at the last tt_listener_put(), on any thread.
 *
 * Threads: acquire and release, and everything that changes a listener, run on loop 0. Other
 * threads read the state and the error through the accessors (atomic loads).
 */
#ifndef TT_XPORT_LISTENER_H
#define TT_XPORT_LISTENER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/list.h"
#include "base/loop.h"

struct tt_xport_core;
struct tt_xport_ops;

/* The fabrics a portal address can name. */
enum tt_fabric {
	TT_FABRIC_ISCSI,       /* iscsi://      iSCSI over TCP, port 3260 */
	TT_FABRIC_ISER,        /* iser://       iSCSI over RDMA, port 3260 */
	TT_FABRIC_NVME_TCP,    /* nvme-tcp://   port 4420 */
	TT_FABRIC_NVME_RDMA,   /* nvme-rdma://  port 4420 */
	TT_FABRIC_SRP,         /* srp://        port 5555 */
	TT_FABRIC_COUNT,
};

struct tt_portal_addr {
	enum tt_fabric fabric;
	struct sockaddr_storage ss;
	socklen_t sslen;
};

const char *tt_fabric_scheme(enum tt_fabric f);
uint16_t tt_fabric_default_port(enum tt_fabric f);

#define TT_PORTAL_ADDR_MAX 96  /* the canonical text, with the scheme and a scope */

/*
 * Parses "[SCHEME://]A.B.C.D[:PORT]", "[SCHEME://][V6ADDR][:PORT]", "[fe80::1%eth0]:PORT" (a
 * link-local address needs its interface) or a bare "V6ADDR" (no port then). Only numeric
 * addresses; the port defaults to the fabric's and must be 1..65535; an unknown scheme is
 * refused by name. Returns 0 or -EINVAL with a message naming @s in @err.
 */
int tt_portal_addr_parse(const char *s, struct tt_portal_addr *a, char *err, size_t errlen);
/* An optional "SCHEME://" at *@s: sets @f (iSCSI without one) and moves *@s past it; an unknown
 * scheme: -EINVAL with a message naming it. */
int tt_portal_scheme_parse(const char **s, enum tt_fabric *f, char *err, size_t errlen);
/* Canonical text: "127.0.0.1:3260", "[::1]:3260", "[fe80::1%eth0]:3260"; other fabrics than
 * iSCSI/TCP with their scheme: "iser://10.0.0.1:3260". */
void tt_portal_addr_format(const struct tt_portal_addr *a, char *buf, size_t len);
/* The socket address alone: "127.0.0.1:3260", "[::1]:3260". */
void tt_sockaddr_format(const struct sockaddr_storage *ss, char *buf, size_t len);
/* Same fabric, address, port and (IPv6) scope. */
bool tt_portal_addr_equal(const struct tt_portal_addr *a, const struct tt_portal_addr *b);
/* 0.0.0.0 or [::]. */
bool tt_sockaddr_is_wildcard(const struct sockaddr_storage *ss);
uint16_t tt_sockaddr_port(const struct sockaddr_storage *ss);

enum tt_listener_state {
	TT_LISTENER_BINDING,
	TT_LISTENER_LISTENING,
	TT_LISTENER_FAILED,
	TT_LISTENER_CLOSED,
	TT_LISTENER_STATE_COUNT,
};

struct tt_listener {
	struct tt_list node;               /* in the registry (loop 0) */
	const struct tt_xport_ops *ops;    /* the transport */
	const struct tt_xport_core *core;  /* where its connections go */
	struct tt_portal_addr addr;
	char name[TT_PORTAL_ADDR_MAX];     /* canonical text, for logs and lists */
	enum tt_listener_state state;      /* read with tt_listener_state() off loop 0 */
	int last_error;                    /* -errno of the last attempt; tt_listener_error() */
	unsigned users;                    /* loop 0 */
	int refs;                          /* atomic */
	void *xport_priv;                  /* the transport's listening object while LISTENING */

	/* private to listener.c */
	struct tt_timer retry_timer;
	unsigned attempts;                 /* failed attempts since entering BINDING */
	uint64_t binding_since_ns;
	uint64_t last_log_ns;
	int logged_error;
};

/*
 * The listener of @a for @core, created (and tried at once) if it does not exist yet; the caller
 * becomes one of its users. A transport must serve @a's fabric (-EPROTONOSUPPORT otherwise). An
 * address that overlaps another listener's (the same port of the same family where one side is
 * a wildcard), or that another core already uses, is refused with -EADDRINUSE. A listener that
 * fails for good at once (FAILED) is not kept: -errno. Loop 0; 0 or -errno with @err set.
 */
int tt_listener_acquire(const struct tt_portal_addr *a, const struct tt_xport_core *core,
			struct tt_listener **out, char *err, size_t errlen);
/* A user is done with @l: the last one closes it (CLOSED). Loop 0. */
void tt_listener_release(struct tt_listener *l);
/* References of connections accepted on @l. Any thread. */
void tt_listener_get(struct tt_listener *l);
void tt_listener_put(struct tt_listener *l);

/* The transport's listening object lost its address or device (an RDMA device removed, an
 * address change): the listener unlistens and binds again once it can. Loop 0. */
void tt_listener_lost(struct tt_listener *l, int err);

enum tt_listener_state tt_listener_state(const struct tt_listener *l);
int tt_listener_error(const struct tt_listener *l);
const char *tt_listener_state_name(enum tt_listener_state s);

/* The transport that serves @f, or NULL (not served by this build). */
const struct tt_xport_ops *tt_xport_for_fabric(enum tt_fabric f);
/* A transport of a layer above this one (the NVMe-oF core's NVMe/TCP) serves @f from now on.
 * Its listeners use listen and unlisten only; its other ops are stubs. Loop 0, before any
 * listener of @f; 0, or -EINVAL (iSCSI's own fabric, an incomplete table). */
int tt_xport_register_fabric(enum tt_fabric f, const struct tt_xport_ops *ops);

#endif
