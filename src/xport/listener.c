/* SPDX-License-Identifier: BSD-3-Clause */
/* Portal addresses and shared listeners (see listener.h). */
#include "xport/listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/errmsg.h"
#include "base/log.h"
#include "xport/iser.h"
#include "xport/xport.h"

#define LISTENER_RETRY_MS 250                          /* BINDING: next attempt */
#define LISTENER_LOG_EVERY_NS (60ull * 1000000000ull)  /* reminder while it keeps failing */
#define PORTAL_POLL_MS 1000                            /* address check without netlink */

static const struct {
	const char *scheme;
	uint16_t port;
} fabrics[TT_FABRIC_COUNT] = {
	[TT_FABRIC_ISCSI] = { "iscsi", 3260 },
	[TT_FABRIC_ISER] = { "iser", 3260 },
	[TT_FABRIC_NVME_TCP] = { "nvme-tcp", 4420 },
	[TT_FABRIC_NVME_RDMA] = { "nvme-rdma", 4420 },
	[TT_FABRIC_SRP] = { "srp", 5555 },
};

const char *tt_fabric_scheme(enum tt_fabric f)
{
	return f < TT_FABRIC_COUNT ? fabrics[f].scheme : "?";
}

uint16_t tt_fabric_default_port(enum tt_fabric f)
{
	return f < TT_FABRIC_COUNT ? fabrics[f].port : 0;
}

/* Transports of the layers above (the NVMe-oF core's NVMe/TCP), registered at start. */
static const struct tt_xport_ops *registered[TT_FABRIC_COUNT];

int tt_xport_register_fabric(enum tt_fabric f, const struct tt_xport_ops *ops)
{
	if (f >= TT_FABRIC_COUNT || f == TT_FABRIC_ISCSI || !tt_xport_ops_complete(ops))
		return -EINVAL;
	registered[f] = ops;
	return 0;
}

const struct tt_xport_ops *tt_xport_for_fabric(enum tt_fabric f)
{
	switch (f) {
	case TT_FABRIC_ISCSI:
		return &tt_xport_tcp;
#ifdef TT_HAVE_RDMA
	case TT_FABRIC_ISER:
		return &tt_xport_iser;
#endif
	default:
		return f < TT_FABRIC_COUNT ? registered[f] : NULL;
	}
}

/* Every listener with users, in creation order (loop 0). */
static struct tt_list registry = TT_LIST_INIT(registry);

static void listener_lost(struct tt_listener *l);
static int listener_try(struct tt_listener *l);

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

/* "SCHEME://" at the start of @s: the fabric, and @s moved past it. */
int tt_portal_scheme_parse(const char **s, enum tt_fabric *f, char *err, size_t errlen)
{
	const char *sep = strstr(*s, "://");
	size_t n;

	*f = TT_FABRIC_ISCSI;
	if (!sep)
		return 0;
	n = (size_t)(sep - *s);
	for (unsigned i = 0; i < TT_FABRIC_COUNT; i++) {
		if (strlen(fabrics[i].scheme) == n && !strncasecmp(*s, fabrics[i].scheme, n)) {
			*f = (enum tt_fabric)i;
			*s = sep + 3;
			return 0;
		}
	}
	tt_errmsg(err, errlen, 0, "portal '%s': unknown scheme '%.*s' (expected iscsi, iser, "
		  "nvme-tcp, nvme-rdma or srp)", *s, (int)(n > 32 ? 32 : n), *s);
	return -EINVAL;
}

int tt_portal_addr_parse(const char *str, struct tt_portal_addr *a, char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
	const char *port_str = NULL, *end, *s = str;
	struct sockaddr_storage *ss = &a->ss;
	socklen_t *sslen = &a->sslen;
	uint16_t port;
	size_t hlen;
	bool v6;
	int rc;

	memset(a, 0, sizeof(*a));
	if (!s || !*s) {
		tt_errmsg(err, errlen, 0, "empty portal address");
		return -EINVAL;
	}
	if (strlen(s) >= TT_PORTAL_ADDR_MAX - 16) {
		tt_errmsg(err, errlen, 0, "portal '%.40s...': too long", s);
		return -EINVAL;
	}
	rc = tt_portal_scheme_parse(&s, &a->fabric, err, errlen);
	if (rc)
		return rc;
	port = tt_fabric_default_port(a->fabric);
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

void tt_sockaddr_format(const struct sockaddr_storage *ss, char *buf, size_t len)
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

uint16_t tt_sockaddr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
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

bool tt_portal_addr_equal(const struct tt_portal_addr *a, const struct tt_portal_addr *b)
{
	return a->fabric == b->fabric && addr_same_host(&a->ss, &b->ss) &&
	       tt_sockaddr_port(&a->ss) == tt_sockaddr_port(&b->ss);
}

void tt_portal_addr_format(const struct tt_portal_addr *a, char *buf, size_t len)
{
	char sa[TT_PORTAL_ADDR_MAX];

	tt_sockaddr_format(&a->ss, sa, sizeof(sa));
	if (a->fabric == TT_FABRIC_ISCSI)
		snprintf(buf, len, "%s", sa);
	else
		snprintf(buf, len, "%s://%s", tt_fabric_scheme(a->fabric), sa);
}

bool tt_sockaddr_is_wildcard(const struct sockaddr_storage *ss)
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

/* ---- address monitor -------------------------------------------------------------------------- */

static struct {
	unsigned users;          /* portals in the model */
	int fd;                  /* NETLINK_ROUTE socket, or -1 */
	struct tt_watch watch;
	struct tt_timer poll;    /* without netlink: check every second */
} mon = { .fd = -1, .watch = { .fd = -1 } };

static void listeners_recheck(void)
{
	struct tt_list *n, *tmp;
	struct ifaddrs *ifa = NULL;

	if (getifaddrs(&ifa) < 0) {
		tt_log_ratelimited(TT_LOG_WARN, "listen", "getifaddrs: %s", strerror(errno));
		return;
	}
	/* loop 0 is the only writer of the registry; listen/unlisten do not change it */
	tt_list_for_each_safe(n, tmp, &registry) {
		struct tt_listener *l = tt_list_entry(n, struct tt_listener, node);
		bool present;

		if (tt_sockaddr_is_wildcard(&l->addr.ss))
			continue;
		present = addr_on_host(&l->addr.ss, ifa);
		if (l->state == TT_LISTENER_LISTENING && !present)
			listener_lost(l);
		else if (l->state == TT_LISTENER_BINDING && present)
			listener_try(l);
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
				tt_log_ratelimited(TT_LOG_WARN, "listen", "netlink: %s", strerror(errno));
			break;
		}
		if (n == 0)
			break;
		if (from.nl_pid != 0) /* only the kernel speaks here */
			continue;
		int len = (int)n;

		/* NLMSG_OK compares the header's __u32 length with the int it is given: clang warns
		 * about the macro (gcc does not, it comes from a system header) */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-compare"
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, len);
		     h = NLMSG_NEXT(h, len))
			if (h->nlmsg_type == RTM_NEWADDR || h->nlmsg_type == RTM_DELADDR)
				changed = true;
#pragma GCC diagnostic pop
	}
	if (changed)
		listeners_recheck();
}

static void mon_poll(struct tt_timer *timer)
{
	listeners_recheck();
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
	tt_debug("listen", "watching address changes (netlink)");
	return;
poll:
	tt_info("listen", "no netlink address notifications (%s): checking listener addresses "
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

/* ---- listeners -------------------------------------------------------------------------------- */

static const char *const state_names[TT_LISTENER_STATE_COUNT] = {
	[TT_LISTENER_BINDING] = "binding",
	[TT_LISTENER_LISTENING] = "listening",
	[TT_LISTENER_FAILED] = "failed",
	[TT_LISTENER_CLOSED] = "closed",
};

const char *tt_listener_state_name(enum tt_listener_state s)
{
	return s < TT_LISTENER_STATE_COUNT ? state_names[s] : "?";
}

enum tt_listener_state tt_listener_state(const struct tt_listener *l)
{
	return __atomic_load_n(&l->state, __ATOMIC_ACQUIRE);
}

int tt_listener_error(const struct tt_listener *l)
{
	return __atomic_load_n(&l->last_error, __ATOMIC_RELAXED);
}

static void set_error(struct tt_listener *l, int rc)
{
	__atomic_store_n(&l->last_error, rc, __ATOMIC_RELAXED);
}

void tt_listener_get(struct tt_listener *l)
{
	__atomic_add_fetch(&l->refs, 1, __ATOMIC_RELAXED);
}

void tt_listener_put(struct tt_listener *l)
{
	if (__atomic_sub_fetch(&l->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(l);
}

static bool error_is_permanent(int rc)
{
	return rc == -EAFNOSUPPORT || rc == -EPROTONOSUPPORT || rc == -ESOCKTNOSUPPORT ||
	       rc == -EPFNOSUPPORT || rc == -EOPNOTSUPP || rc == -EINVAL;
}

/* The only writer of l->state; side effects on the edges. */
static int listener_set_state(struct tt_listener *l, enum tt_listener_state to)
{
	enum tt_listener_state from = l->state;
	bool ok = false;

	switch (to) {
	case TT_LISTENER_BINDING:   /* the address left the host */
		ok = from == TT_LISTENER_LISTENING;
		break;
	case TT_LISTENER_LISTENING: /* the transport listens */
		ok = from == TT_LISTENER_BINDING;
		break;
	case TT_LISTENER_FAILED:    /* a permanent error */
		ok = from == TT_LISTENER_BINDING;
		break;
	case TT_LISTENER_CLOSED:    /* the last user is gone */
		ok = from != TT_LISTENER_CLOSED;
		break;
	default:
		break;
	}
	if (!ok) {
		tt_err("listen", "listener %s: bad state change %s -> %s", l->name,
		       tt_listener_state_name(from), tt_listener_state_name(to));
		return -EINVAL;
	}
	__atomic_store_n(&l->state, to, __ATOMIC_RELEASE);

	switch (to) {
	case TT_LISTENER_BINDING:
		l->attempts = 0;
		l->logged_error = 0;
		l->binding_since_ns = tt_now_ns();
		tt_timer_arm_ms(&l->retry_timer, LISTENER_RETRY_MS);
		break;
	case TT_LISTENER_LISTENING:
		tt_timer_cancel(&l->retry_timer);
		if (l->attempts)
			tt_notice("listen", "portal %s: listening, after %u attempt%s in %.1f s", l->name,
				  l->attempts, l->attempts == 1 ? "" : "s",
				  (double)(tt_now_ns() - l->binding_since_ns) / 1e9);
		else
			tt_notice("listen", "portal %s: listening", l->name);
		break;
	case TT_LISTENER_FAILED:
		tt_timer_cancel(&l->retry_timer);
		tt_err("listen", "portal %s: cannot listen: %s; giving up", l->name,
		       strerror(-l->last_error));
		break;
	case TT_LISTENER_CLOSED:
		tt_timer_cancel(&l->retry_timer);
		if (l->xport_priv)
			l->ops->unlisten(l);
		l->xport_priv = NULL;
		break;
	default:
		break;
	}
	return 0;
}

static void listener_log_retry(struct tt_listener *l, int rc)
{
	uint64_t now = tt_now_ns();

	if (rc != l->logged_error) {
		if (rc == -EADDRNOTAVAIL)
			tt_notice("listen", "portal %s: address not on this host (yet); retrying every "
				  "%u ms", l->name, LISTENER_RETRY_MS);
		else
			tt_warn("listen", "portal %s: cannot listen: %s; retrying every %u ms", l->name,
				strerror(-rc), LISTENER_RETRY_MS);
	} else if (now - l->last_log_ns >= LISTENER_LOG_EVERY_NS) {
		tt_notice("listen", "portal %s: still not listening after %llu s: %s", l->name,
			  (unsigned long long)((now - l->binding_since_ns) / 1000000000ull),
			  strerror(-rc));
	} else {
		return;
	}
	l->logged_error = rc;
	l->last_log_ns = now;
}

/* One attempt of a BINDING listener. */
static int listener_try(struct tt_listener *l)
{
	int rc = l->ops->listen(l);

	if (rc == 0) {
		set_error(l, 0);
		listener_set_state(l, TT_LISTENER_LISTENING);
		return 0;
	}
	l->xport_priv = NULL;
	set_error(l, rc);
	l->attempts++;
	if (error_is_permanent(rc)) {
		listener_set_state(l, TT_LISTENER_FAILED);
		return rc;
	}
	listener_log_retry(l, rc);
	tt_timer_arm_ms(&l->retry_timer, LISTENER_RETRY_MS);
	return rc;
}

static void listener_retry(struct tt_timer *timer)
{
	struct tt_listener *l = tt_container_of(timer, struct tt_listener, retry_timer);

	if (l->state == TT_LISTENER_BINDING)
		listener_try(l);
}

/* The listener's specific address has left the host: close it, wait for the address. */
static void listener_lost(struct tt_listener *l)
{
	tt_warn("listen", "portal %s: the address left the host; listener closed until it comes "
		"back", l->name);
	set_error(l, -EADDRNOTAVAIL);
	if (l->xport_priv)
		l->ops->unlisten(l);
	l->xport_priv = NULL;
	listener_set_state(l, TT_LISTENER_BINDING);
	l->logged_error = -EADDRNOTAVAIL; /* just said so */
	l->last_log_ns = tt_now_ns();
}

void tt_listener_lost(struct tt_listener *l, int err)
{
	if (l->state != TT_LISTENER_LISTENING)
		return;
	tt_warn("listen", "portal %s: %s", l->name, strerror(-err));
	listener_lost(l);
}

/* A listener of the same transport that @a would collide with: the same port of the same family
 * where one side is a wildcard (the kernel could not bind both). */
static struct tt_listener *listener_overlap(const struct tt_portal_addr *a,
					    const struct tt_xport_ops *ops)
{
	struct tt_list *n;

	tt_list_for_each(n, &registry) {
		struct tt_listener *l = tt_list_entry(n, struct tt_listener, node);

		if (l->ops != ops || tt_portal_addr_equal(&l->addr, a))
			continue;
		if (l->addr.ss.ss_family == a->ss.ss_family &&
		    tt_sockaddr_port(&l->addr.ss) == tt_sockaddr_port(&a->ss) &&
		    (tt_sockaddr_is_wildcard(&l->addr.ss) || tt_sockaddr_is_wildcard(&a->ss)))
			return l;
	}
	return NULL;
}

int tt_listener_acquire(const struct tt_portal_addr *a, const struct tt_xport_core *core,
			struct tt_listener **out, char *err, size_t errlen)
{
	struct tt_loop *loop0 = tt_loops_get(0);
	const struct tt_xport_ops *ops = tt_xport_for_fabric(a->fabric);
	struct tt_listener *l, *other;
	char name[TT_PORTAL_ADDR_MAX];
	struct tt_list *n;
	int rc;

	tt_portal_addr_format(a, name, sizeof(name));
	tt_list_for_each(n, &registry) {
		l = tt_list_entry(n, struct tt_listener, node);
		if (!tt_portal_addr_equal(&l->addr, a))
			continue;
		if (l->core != core) {
			tt_errmsg(err, errlen, 0, "portal %s is already used by another service", name);
			return -EADDRINUSE;
		}
		l->users++;
		*out = l;
		return 0;
	}
	if (!ops) {
		tt_errmsg(err, errlen, 0, "portal %s: %s:// is not supported (yet) by this build",
			  name, tt_fabric_scheme(a->fabric));
		return -EPROTONOSUPPORT;
	}
	if (!tt_xport_ops_complete(ops)) {
		/* the core never tests an op for NULL: refuse the transport instead */
		tt_errmsg(err, errlen, 0, "portal %s: transport %s lacks operations", name,
			  ops->name ? ops->name : "?");
		return -EINVAL;
	}
	other = listener_overlap(a, ops);
	if (other) {
		tt_errmsg(err, errlen, 0, "portal %s overlaps portal %s (the same port, and one of "
			  "them listens on every address)", name, other->name);
		return -EADDRINUSE;
	}
	if (!loop0) {
		tt_errmsg(err, errlen, 0, "portal %s: no event loop is running", name);
		return -EINVAL;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		tt_errmsg(err, errlen, 0, "portal %s: out of memory", name);
		return -ENOMEM;
	}
	l->ops = ops;
	l->core = core;
	l->addr = *a;
	snprintf(l->name, sizeof(l->name), "%s", name);
	l->state = TT_LISTENER_BINDING; /* the initial state, not a transition */
	l->users = 1;
	l->refs = 1; /* the registry's */
	l->binding_since_ns = tt_now_ns();
	tt_timer_init(&l->retry_timer, loop0, listener_retry);
	tt_list_add_tail(&registry, &l->node);
	mon_get(loop0);

	rc = listener_try(l);
	if (rc < 0 && l->state == TT_LISTENER_FAILED) {
		/* nothing was ever accepted on it: drop it now */
		tt_errmsg(err, errlen, 0, "portal %s: cannot listen: %s", name, strerror(-rc));
		tt_list_del(&l->node);
		listener_set_state(l, TT_LISTENER_CLOSED);
		mon_put();
		tt_listener_put(l);
		return rc;
	}
	*out = l;
	return 0;
}

void tt_listener_release(struct tt_listener *l)
{
	if (!l || --l->users > 0)
		return;
	tt_list_del(&l->node);
	listener_set_state(l, TT_LISTENER_CLOSED);
	tt_info("listen", "portal %s: closed (no user left)", l->name);
	mon_put();
	tt_listener_put(l); /* the registry's */
}
