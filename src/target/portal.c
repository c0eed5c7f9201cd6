/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Portals: address parsing, listening, and listening again when the address comes and goes.
 *
 * Portal lifecycle; portal_set_state() is the only writer of tt_portal.state:
 *
 *   (new) -> BINDING <-> LISTENING
 *               |
 *               +-> FAILED
 *
 *   BINDING    no listener. The address is not on the host (yet), another program holds the
 *              port, or we may not bind it: a timer on loop 0 tries again every 250 ms and
 *              last_error keeps the reason. The first failure is logged, then a reminder each
 *              minute, and every change of reason.
 *   LISTENING  the transport's listener accepts connections. If a specific address leaves the
 *              host, the listener is closed and the portal goes back to BINDING.
 *   FAILED     a permanent error (address family or transport not supported): no retry.
 *
 * Address monitor: while any portal exists, a NETLINK_ROUTE socket on loop 0 subscribed to IPv4
 * and IPv6 address changes; every change (and a lost notification) re-checks each portal's
 * address against getifaddrs(): a LISTENING portal whose address vanished is closed, a BINDING
 * portal whose address is back is bound at once. Without netlink the same check runs every
 * second. Connections already accepted are left alone: their sockets fail or survive by
 * themselves.
 *
 * Threads: all of this runs on loop 0, the only thread that changes the model. It reads the
 * model's lists without the lock and takes tt_model_lock() to change them.
 */
#include "target/portal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/errmsg.h"
#include "base/log.h"
#include "xport/xport.h"

#define PORTAL_LOG_EVERY_NS (60ull * 1000000000ull) /* reminder while a portal keeps failing */
#define PORTAL_POLL_MS 1000                          /* address check without netlink */

/* A portal and what only this file needs to know about it. */
struct portal {
	struct tt_portal pub;
	unsigned attempts;          /* failed listen attempts since entering BINDING */
	uint64_t binding_since_ns;
	uint64_t last_log_ns;
	int logged_error;           /* the reason last reported in the log (0: none yet) */
};

static struct portal *portal_of(struct tt_portal *p) { return tt_container_of(p, struct portal, pub); }

/* Removed portals, kept until their TPG is freed (connections may still point to them). */
static pthread_mutex_t retired_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tt_list retired = TT_LIST_INIT(retired);


/* ---- addresses ------------------------------------------------------------------------------ */

static int parse_port(const char *s, const char *str, uint16_t *port, char *err, size_t errlen)
{
	unsigned long v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 5 || strspn(s, "0123456789") != n) {
		tt_errmsg(err, errlen, 0, "portal '%s': bad port '%s' (expected 1..65535)", str, s);
		return -EINVAL;
	}
	v = strtoul(s, NULL, 10);
	if (v == 0 || v > 65535) {
		tt_errmsg(err, errlen, 0, "portal '%s': bad port '%s' (expected 1..65535)", str, s);
		return -EINVAL;
	}
	*port = (uint16_t)v;
	return 0;
}

static int parse_scope(const char *scope, const char *str, uint32_t *out, char *err, size_t errlen)
{
	size_t n = strlen(scope);

	if (n == 0) {
		tt_errmsg(err, errlen, 0, "portal '%s': empty interface after '%%'", str);
		return -EINVAL;
	}
	if (strspn(scope, "0123456789") == n && n <= 9) {
		*out = (uint32_t)strtoul(scope, NULL, 10);
		if (*out)
			return 0;
	} else {
		*out = if_nametoindex(scope);
		if (*out)
			return 0;
	}
	tt_errmsg(err, errlen, 0, "portal '%s': unknown interface '%s'", str, scope);
	return -EINVAL;
}

int tt_portal_parse(const char *s, struct sockaddr_storage *ss, socklen_t *sslen,
		    char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
	const char *port_str = NULL, *end;
	uint16_t port = TT_PORTAL_DEFAULT_PORT;
	size_t hlen;
	bool v6;
	int rc;

	memset(ss, 0, sizeof(*ss));
	if (!s || !*s) {
		tt_errmsg(err, errlen, 0, "empty portal address");
		return -EINVAL;
	}
	if (strlen(s) >= sizeof(((struct tt_portal *)0)->addr_str)) {
		tt_errmsg(err, errlen, 0, "portal '%.40s...': too long", s);
		return -EINVAL;
	}
	if (s[0] == '[') {
		end = strchr(s, ']');
		if (!end) {
			tt_errmsg(err, errlen, 0, "portal '%s': missing ']'", s);
			return -EINVAL;
		}
		if (end[1] == ':')
			port_str = end + 2;
		else if (end[1]) {
			tt_errmsg(err, errlen, 0, "portal '%s': expected ':PORT' after ']'", s);
			return -EINVAL;
		}
		hlen = (size_t)(end - (s + 1));
		v6 = true;
	} else {
		const char *colon = strchr(s, ':');

		if (colon && strchr(colon + 1, ':')) {
			/* a bare IPv6 address: no port */
			hlen = strlen(s);
			v6 = true;
		} else {
			hlen = colon ? (size_t)(colon - s) : strlen(s);
			port_str = colon ? colon + 1 : NULL;
			v6 = false;
		}
	}
	if (hlen == 0) {
		tt_errmsg(err, errlen, 0, "portal '%s': missing address", s);
		return -EINVAL;
	}
	if (hlen >= sizeof(host)) {
		tt_errmsg(err, errlen, 0, "portal '%s': not a numeric IPv4 or IPv6 address", s);
		return -EINVAL;
	}
	memcpy(host, s[0] == '[' ? s + 1 : s, hlen);
	host[hlen] = '\0';
	if (port_str) {
		rc = parse_port(port_str, s, &port, err, errlen);
		if (rc)
			return rc;
	}

	if (!v6) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
			tt_errmsg(err, errlen, 0, "portal '%s': '%s' is not a numeric IPv4 address "
			       "(IPv6 goes in brackets: [::1]:3260)", s, host);
			return -EINVAL;
		}
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*sslen = sizeof(*sin);
		return 0;
	}

	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	char *pct = strchr(host, '%');
	uint32_t scope = 0;

	if (pct) {
		*pct = '\0';
		rc = parse_scope(pct + 1, s, &scope, err, errlen);
		if (rc)
			return rc;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) {
		tt_errmsg(err, errlen, 0, "portal '%s': '%s' is not a numeric IPv6 address", s, host);
		memset(ss, 0, sizeof(*ss));
		return -EINVAL;
	}
	if (IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr) && !scope) {
		tt_errmsg(err, errlen, 0, "portal '%s': a link-local address needs its interface, "
		       "as in [%s%%eth0]:%u", s, host, port);
		memset(ss, 0, sizeof(*ss));
		return -EINVAL;
	}
	if (!IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr) && scope) {
		tt_errmsg(err, errlen, 0, "portal '%s': an interface is only meaningful for a link-local "
		       "address", s);
		memset(ss, 0, sizeof(*ss));
		return -EINVAL;
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	sin6->sin6_scope_id = scope;
	*sslen = sizeof(*sin6);
	return 0;
}

void tt_portal_format(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(sin->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
		char ifname[IF_NAMESIZE], scope[IF_NAMESIZE + 12] = "";

		inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof(a));
		if (sin6->sin6_scope_id) {
			if (if_indextoname(sin6->sin6_scope_id, ifname))
				snprintf(scope, sizeof(scope), "%%%s", ifname);
			else
				snprintf(scope, sizeof(scope), "%%%u", sin6->sin6_scope_id);
		}
		snprintf(buf, len, "[%s%s]:%u", a, scope, ntohs(sin6->sin6_port));
	} else {
		snprintf(buf, len, "(family %u)", ss->ss_family);
	}
}

static uint16_t addr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_port;
	return ((const struct sockaddr_in6 *)ss)->sin6_port;
}

/* Same address (and scope), ignoring the port. */
static bool addr_same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a;
		const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)b;

		return !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) &&
		       x->sin6_scope_id == y->sin6_scope_id;
	}
	return false;
}

bool tt_portal_addr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	return addr_same_host(a, b) && addr_port(a) == addr_port(b);
}

bool tt_portal_addr_is_wildcard(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
	return false;
}

/* Is @ss (not a wildcard) one of the host's addresses in @list? */
static bool addr_on_host(const struct sockaddr_storage *ss, const struct ifaddrs *list)
{
	for (const struct ifaddrs *ifa = list; ifa; ifa = ifa->ifa_next) {
		if (!ifa->ifa_addr || ifa->ifa_addr->sa_family != ss->ss_family)
			continue;
		if (ss->ss_family == AF_INET) {
			const struct sockaddr_in *x = (const struct sockaddr_in *)ss;
			const struct sockaddr_in *y = (const struct sockaddr_in *)(void *)ifa->ifa_addr;

			if (x->sin_addr.s_addr == y->sin_addr.s_addr)
				return true;
		} else {
			const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)ss;
			const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)(void *)ifa->ifa_addr;

			if (memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)))
				continue;
			if (!x->sin6_scope_id || x->sin6_scope_id == y->sin6_scope_id ||
			    x->sin6_scope_id == if_nametoindex(ifa->ifa_name))
				return true;
		}
	}
	return false;
}

/* ---- the model's portals -------------------------------------------------------------------- */

#define for_each_portal(t, g, p, tn, gn, pn)                                                  \
	tt_list_for_each(tn, tt_model_targets())                                               \
		for (t = tt_list_entry(tn, struct tt_target, node), gn = t->tpgs.next;         \
		     gn != &t->tpgs; gn = gn->next)                                            \
			for (g = tt_list_entry(gn, struct tt_tpg, node), pn = g->portals.next; \
			     pn != &g->portals; pn = pn->next)                                 \
				if ((p = tt_list_entry(pn, struct tt_portal, node)), true)

/* A portal of any target that @ss would collide with: the same address and port, or the same
 * port of the same family where one side is a wildcard (the kernel could not bind both). */
static struct tt_portal *portal_conflict(const struct sockaddr_storage *ss)
{
	struct tt_list *tn, *gn, *pn;
	struct tt_target *t;
	struct tt_tpg *g;
	struct tt_portal *p;

	for_each_portal(t, g, p, tn, gn, pn) {
		if (tt_portal_addr_equal(&p->addr, ss))
			return p;
		if (p->addr.ss_family == ss->ss_family && addr_port(&p->addr) == addr_port(ss) &&
		    (tt_portal_addr_is_wildcard(&p->addr) || tt_portal_addr_is_wildcard(ss)))
			return p;
	}
	return NULL;
}

const char *tt_portal_state_name(enum tt_portal_state s)
{
	switch (s) {
	case TT_PORTAL_BINDING: return "binding";
	case TT_PORTAL_LISTENING: return "listening";
	case TT_PORTAL_FAILED: return "failed";
	}
	return "?";
}

static bool error_is_permanent(int rc)
{
	return rc == -EAFNOSUPPORT || rc == -EPROTONOSUPPORT || rc == -ESOCKTNOSUPPORT ||
	       rc == -EPFNOSUPPORT || rc == -EOPNOTSUPP || rc == -EINVAL;
}

static void portal_set_error(struct tt_portal *p, int rc)
{
	tt_model_lock();
	p->last_error = rc;
	tt_model_unlock();
}

static int portal_set_state(struct portal *pp, enum tt_portal_state to)
{
	struct tt_portal *p = &pp->pub;
	enum tt_portal_state from = p->state;
	bool ok = false;

	switch (to) {
	case TT_PORTAL_BINDING:   /* the address left the host */
		ok = from == TT_PORTAL_LISTENING;
		break;
	case TT_PORTAL_LISTENING: /* the listener is up */
		ok = from == TT_PORTAL_BINDING;
		break;
	case TT_PORTAL_FAILED:    /* a permanent error */
		ok = from == TT_PORTAL_BINDING;
		break;
	}
	if (!ok) {
		tt_err("portal", "portal %s: bad state change %s -> %s", p->addr_str,
		       tt_portal_state_name(from), tt_portal_state_name(to));
		return -EINVAL;
	}
	tt_model_lock();
	p->state = to;
	tt_model_unlock();

	switch (to) {
	case TT_PORTAL_BINDING:
		pp->attempts = 0;
		pp->logged_error = 0;
		pp->binding_since_ns = tt_now_ns();
		tt_timer_arm_ms(&p->retry_timer, TT_PORTAL_RETRY_MS);
		break;
	case TT_PORTAL_LISTENING:
		tt_timer_cancel(&p->retry_timer);
		if (pp->attempts)
			tt_notice("portal", "portal %s (target %s tpg %u): listening, after %u attempt%s "
				  "in %.1f s", p->addr_str, p->tpg->target->name, p->tpg->tag,
				  pp->attempts, pp->attempts == 1 ? "" : "s",
				  (double)(tt_now_ns() - pp->binding_since_ns) / 1e9);
		else
			tt_notice("portal", "portal %s (target %s tpg %u): listening", p->addr_str,
				  p->tpg->target->name, p->tpg->tag);
		break;
	case TT_PORTAL_FAILED:
		tt_timer_cancel(&p->retry_timer);
		tt_err("portal", "portal %s (target %s tpg %u): cannot listen: %s; giving up",
		       p->addr_str, p->tpg->target->name, p->tpg->tag, strerror(-p->last_error));
		break;
	}
	return 0;
}

static void portal_log_retry(struct portal *pp, int rc)
{
	struct tt_portal *p = &pp->pub;
	uint64_t now = tt_now_ns();

	if (rc != pp->logged_error) {
		if (rc == -EADDRNOTAVAIL)
			tt_notice("portal", "portal %s (target %s tpg %u): address not on this host (yet); "
				  "retrying every %u ms", p->addr_str, p->tpg->target->name,
				  p->tpg->tag, TT_PORTAL_RETRY_MS);
		else
			tt_warn("portal", "portal %s (target %s tpg %u): cannot listen: %s; retrying "
				"every %u ms", p->addr_str, p->tpg->target->name, p->tpg->tag,
				strerror(-rc), TT_PORTAL_RETRY_MS);
	} else if (now - pp->last_log_ns >= PORTAL_LOG_EVERY_NS) {
		tt_notice("portal", "portal %s (target %s tpg %u): still not listening after %llu s: %s",
			  p->addr_str, p->tpg->target->name, p->tpg->tag,
			  (unsigned long long)((now - pp->binding_since_ns) / 1000000000ull),
			  strerror(-rc));
	} else {
		return;
	}
	pp->logged_error = rc;
	pp->last_log_ns = now;
}

/* One listen attempt of a BINDING portal. */
static int portal_try(struct portal *pp)
{
	struct tt_portal *p = &pp->pub;
	const struct tt_xport_ops *ops = tt_xport_find(p->transport);
	struct tt_listener *l = NULL;
	int rc;

	rc = ops ? ops->listen(p, &l) : -EPROTONOSUPPORT;
	if (rc == 0) {
		tt_model_lock();
		p->listener = l;
		p->last_error = 0;
		tt_model_unlock();
		portal_set_state(pp, TT_PORTAL_LISTENING);
		return 0;
	}
	portal_set_error(p, rc);
	pp->attempts++;
	if (error_is_permanent(rc)) {
		portal_set_state(pp, TT_PORTAL_FAILED);
		return rc;
	}
	portal_log_retry(pp, rc);
	tt_timer_arm_ms(&p->retry_timer, TT_PORTAL_RETRY_MS);
	return rc;
}

static void portal_retry(struct tt_timer *timer)
{
	struct tt_portal *p = tt_container_of(timer, struct tt_portal, retry_timer);

	if (p->state == TT_PORTAL_BINDING)
		portal_try(portal_of(p));
}

/* The portal's specific address has left the host: close the listener, wait for it. */
static void portal_lost(struct portal *pp)
{
	struct tt_portal *p = &pp->pub;
	const struct tt_xport_ops *ops = tt_xport_find(p->transport);
	struct tt_listener *l = p->listener;

	tt_warn("portal", "portal %s (target %s tpg %u): the address left the host; listener "
		"closed until it comes back", p->addr_str, p->tpg->target->name, p->tpg->tag);
	tt_model_lock();
	p->listener = NULL;
	p->last_error = -EADDRNOTAVAIL;
	tt_model_unlock();
	if (l && ops)
		ops->unlisten(l);
	portal_set_state(pp, TT_PORTAL_BINDING);
	pp->logged_error = -EADDRNOTAVAIL; /* just said so */
	pp->last_log_ns = tt_now_ns();
}

/* ---- address monitor -------------------------------------------------------------------------- */

static struct {
	unsigned users;          /* portals in the model */
	int fd;                  /* NETLINK_ROUTE socket, or -1 */
	struct tt_watch watch;
	struct tt_timer poll;    /* without netlink: check every second */
} mon = { .fd = -1, .watch = { .fd = -1 } };

static void portals_recheck(void)
{
	struct tt_list *tn, *gn, *pn;
	struct tt_target *t;
	struct tt_tpg *g;
	struct tt_portal *p;
	struct ifaddrs *ifa = NULL;

	if (getifaddrs(&ifa) < 0) {
		tt_log_ratelimited(TT_LOG_WARN, "portal", "getifaddrs: %s", strerror(errno));
		return;
	}
	/* loop 0 is the only writer of the lists, and listen/unlisten do not change them */
	for_each_portal(t, g, p, tn, gn, pn) {
		bool present;

		if (tt_portal_addr_is_wildcard(&p->addr))
			continue;
		present = addr_on_host(&p->addr, ifa);
		if (p->state == TT_PORTAL_LISTENING && !present)
			portal_lost(portal_of(p));
		else if (p->state == TT_PORTAL_BINDING && present)
			portal_try(portal_of(p));
	}
	freeifaddrs(ifa);
}

static void mon_ready(struct tt_watch *w, uint32_t events)
{
	char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
	bool changed = false;

	(void)events;
	for (;;) {
		struct sockaddr_nl from;
		socklen_t fromlen = sizeof(from);
		ssize_t n = recvfrom(w->fd, buf, sizeof(buf), MSG_DONTWAIT,
				     (struct sockaddr *)&from, &fromlen);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) { /* notifications were lost: look at everything */
				changed = true;
				continue;
			}
			if (errno != EAGAIN)
				tt_log_ratelimited(TT_LOG_WARN, "portal", "netlink: %s", strerror(errno));
			break;
		}
		if (n == 0)
			break;
		if (from.nl_pid != 0) /* only the kernel speaks here */
			continue;
		int len = (int)n;

		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, len);
		     h = NLMSG_NEXT(h, len))
			if (h->nlmsg_type == RTM_NEWADDR || h->nlmsg_type == RTM_DELADDR)
				changed = true;
	}
	if (changed)
		portals_recheck();
}

static void mon_poll(struct tt_timer *timer)
{
	portals_recheck();
	tt_timer_arm_ms(timer, PORTAL_POLL_MS);
}

static void mon_start(struct tt_loop *loop0)
{
	struct sockaddr_nl sa = {
		.nl_family = AF_NETLINK,
		.nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR,
	};
	int fd, rc;

	tt_timer_init(&mon.poll, loop0, mon_poll);
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0) {
		rc = -errno;
		goto poll;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		close(fd);
		goto poll;
	}
	rc = tt_watch_add(loop0, &mon.watch, fd, EPOLLIN, mon_ready);
	if (rc < 0) {
		close(fd);
		goto poll;
	}
	mon.fd = fd;
	tt_debug("portal", "watching address changes (netlink)");
	return;
poll:
	tt_info("portal", "no netlink address notifications (%s): checking portal addresses "
		"every %u ms", strerror(-rc), PORTAL_POLL_MS);
	tt_timer_arm_ms(&mon.poll, PORTAL_POLL_MS);
}

static void mon_stop(void)
{
	tt_timer_cancel(&mon.poll);
	if (mon.fd >= 0) {
		tt_watch_del(&mon.watch);
		close(mon.fd);
		mon.fd = -1;
	}
}

static void mon_get(struct tt_loop *loop0)
{
	if (mon.users++ == 0)
		mon_start(loop0);
}

static void mon_put(void)
{
	if (--mon.users == 0)
		mon_stop();
}

/* ---- add / remove ----------------------------------------------------------------------------- */

static void portal_unlink(struct tt_portal *p)
{
	tt_model_lock();
	tt_list_del(&p->node);
	tt_model_unlock();
}

/* Out of the model: no listener, no timer; the memory stays until the TPG goes. */
static void portal_retire(struct tt_portal *p)
{
	const struct tt_xport_ops *ops = tt_xport_find(p->transport);
	struct tt_listener *l = p->listener;

	portal_unlink(p);
	tt_timer_cancel(&p->retry_timer);
	tt_model_lock();
	p->listener = NULL;
	tt_model_unlock();
	if (l && ops)
		ops->unlisten(l);
	tt_info("portal", "portal %s (target %s tpg %u) removed", p->addr_str, p->tpg->target->name,
		p->tpg->tag);
	pthread_mutex_lock(&retired_lock);
	tt_list_add_tail(&retired, &p->node);
	pthread_mutex_unlock(&retired_lock);
	mon_put();
}

int tt_portal_add(struct tt_tpg *tpg, const char *addr, struct tt_portal **out,
		  char *err, size_t errlen)
{
	struct tt_loop *loop0 = tt_loops_get(0);
	const struct tt_xport_ops *ops;
	struct sockaddr_storage ss;
	struct tt_portal *other, *p;
	struct portal *pp;
	char canon[sizeof(p->addr_str)];
	socklen_t sslen = 0;
	int rc;

	rc = tt_portal_parse(addr, &ss, &sslen, err, errlen);
	if (rc)
		return rc;
	tt_portal_format(&ss, canon, sizeof(canon));
	other = portal_conflict(&ss);
	if (other) {
		if (tt_portal_addr_equal(&other->addr, &ss))
			tt_errmsg(err, errlen, 0, "portal %s is already in use by target %s tpg %u", canon,
			       other->tpg->target->name, other->tpg->tag);
		else
			tt_errmsg(err, errlen, 0, "portal %s overlaps portal %s of target %s tpg %u", canon,
			       other->addr_str, other->tpg->target->name, other->tpg->tag);
		return -EADDRINUSE;
	}
	ops = tt_xport_find("tcp");
	if (!ops) {
		tt_errmsg(err, errlen, 0, "portal %s: transport tcp is not available", canon);
		return -EPROTONOSUPPORT;
	}
	if (!loop0) {
		tt_errmsg(err, errlen, 0, "portal %s: no event loop is running", canon);
		return -EINVAL;
	}
	pp = calloc(1, sizeof(*pp));
	if (!pp) {
		tt_errmsg(err, errlen, 0, "portal %s: out of memory", canon);
		return -ENOMEM;
	}
	p = &pp->pub;
	tt_list_init(&p->node);
	p->tpg = tpg;
	snprintf(p->addr_str, sizeof(p->addr_str), "%s", canon);
	memcpy(&p->addr, &ss, sizeof(ss));
	p->addrlen = sslen;
	p->transport = ops->name;
	p->state = TT_PORTAL_BINDING; /* the initial state, not a transition */
	tt_timer_init(&p->retry_timer, loop0, portal_retry);
	pp->binding_since_ns = tt_now_ns();

	tt_model_lock();
	tt_list_add_tail(&tpg->portals, &p->node);
	tt_model_unlock();
	mon_get(loop0);

	rc = portal_try(pp);
	if (rc < 0 && p->state == TT_PORTAL_FAILED) {
		/* nothing was ever accepted on it: free it now */
		tt_errmsg(err, errlen, 0, "portal %s: cannot listen: %s", canon, strerror(-rc));
		portal_unlink(p);
		tt_timer_cancel(&p->retry_timer);
		mon_put();
		free(pp);
		return rc;
	}
	if (out)
		*out = p;
	return 0;
}

int tt_portal_remove(struct tt_tpg *tpg, const char *addr, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct tt_list *n;
	char canon[sizeof(((struct tt_portal *)0)->addr_str)];
	int rc;

	rc = tt_portal_parse(addr, &ss, &sslen, err, errlen);
	if (rc)
		return rc;
	tt_list_for_each(n, &tpg->portals) {
		struct tt_portal *p = tt_list_entry(n, struct tt_portal, node);

		if (tt_portal_addr_equal(&p->addr, &ss)) {
			portal_retire(p);
			return 0;
		}
	}
	tt_portal_format(&ss, canon, sizeof(canon));
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
		free(portal_of(tt_list_entry(n, struct tt_portal, node)));
}
