/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Portal addresses (parse, format, compare) and shared listeners (src/xport/listener.c), driven
 * through a minimal core table: no target core, only the transport layer and below.
 *
 * The listeners listen on 127.0.0.1 and take real TCP connections, handed to the fake core's
 * accepted() on loop 0. 192.0.2.1 (TEST-NET-1) is never on the host: only bind() is tried on it.
 * When it may (root), the program runs in a network namespace of its own, where it adds and
 * removes 192.0.2.1 on lo; elsewhere that one test is skipped.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tt_test.h"

#include "base/clock.h"
#include "base/log.h"
#include "base/loop.h"
#include "xport/iser.h"
#include "xport/listener.h"
#include "xport/tcp.h"
#include "xport/xport.h"

static bool own_netns; /* we may add and remove addresses */

/* ---- a fake core ------------------------------------------------------------------------------ */

struct fake_core {
	struct tt_xport_core core;      /* first: the table handed to tt_listener_acquire */
	bool keep;                      /* accepted() takes the connection (else -ECONNREFUSED) */
	unsigned accepted, closed;
	bool on_loop;                   /* every accepted() ran on the connection's loop */
	struct tt_xconn *last;          /* the last connection (only valid when kept) */
	struct tt_listener *last_listener;
	const struct tt_xport_core *last_core;
	int closed_err;
};

static struct fake_core core_a, core_b;

static struct fake_core *fake_of(const struct tt_xport_core *c)
{
	return tt_container_of(c, struct fake_core, core);
}

static int fake_accepted(struct tt_xconn *xc)
{
	struct fake_core *f = fake_of(xc->core);

	f->accepted++;
	if (xc->loop != tt_loop_current())
		f->on_loop = false;
	f->last_listener = xc->listener;
	f->last_core = xc->core;
	if (!f->keep) {
		f->last = NULL;
		return -ECONNREFUSED;
	}
	f->last = xc;
	return 0;
}

static int fake_rx_header(struct tt_xconn *xc, struct tt_pdu *pdu)
{
	(void)xc;
	(void)pdu;
	fail_msg("rx_header: nothing is sent on these connections");
	return -EPROTO;
}

static void fake_rx_pdu(struct tt_xconn *xc, struct tt_pdu *pdu, bool ok)
{
	(void)xc;
	(void)ok;
	tt_pdu_free(pdu);
	fail_msg("rx_pdu: nothing is sent on these connections");
}

static void fake_rx_hdig(struct tt_xconn *xc)
{
	(void)xc;
	fail_msg("rx_header_digest_error: nothing is sent on these connections");
}

static void fake_closed(struct tt_xconn *xc, int err)
{
	struct fake_core *f = fake_of(xc->core);

	f->closed++;
	f->closed_err = err;
}

static void fake_init(struct fake_core *f, bool keep)
{
	memset(f, 0, sizeof(*f));
	f->core.accepted = fake_accepted;
	f->core.rx_header = fake_rx_header;
	f->core.rx_pdu = fake_rx_pdu;
	f->core.rx_header_digest_error = fake_rx_hdig;
	f->core.closed = fake_closed;
	f->keep = keep;
	f->on_loop = true;
}

static int setup(void **state)
{
	(void)state;
	fake_init(&core_a, false);
	fake_init(&core_b, false);
	return 0;
}

/* ---- helpers ---------------------------------------------------------------------------------- */

static struct tt_loop *loop0(void) { return tt_loops_get(0); }

/* Runs loop 0 until @cond(@arg) holds or @ms pass; returns the elapsed milliseconds or -1. */
static long run_until(bool (*cond)(void *), void *arg, unsigned ms)
{
	uint64_t start = tt_now_ns(), end = start + (uint64_t)ms * 1000000ull;

	while (!cond(arg)) {
		if (tt_now_ns() >= end)
			return -1;
		tt_loop_run_once(loop0(), 10);
	}
	return (long)((tt_now_ns() - start) / 1000000ull);
}

static void run_for(unsigned ms)
{
	uint64_t end = tt_now_ns() + (uint64_t)ms * 1000000ull;

	while (tt_now_ns() < end)
		tt_loop_run_once(loop0(), 10);
}

static bool is_listening(void *arg) { return tt_listener_state(arg) == TT_LISTENER_LISTENING; }
static bool is_binding(void *arg) { return tt_listener_state(arg) == TT_LISTENER_BINDING; }

static struct fake_core *want_core;
static unsigned want_accepted;
static bool accepted_reached(void *arg)
{
	(void)arg;
	return want_core->accepted >= want_accepted;
}

/* A TCP port nobody uses on 127.0.0.1 right now. */
static uint16_t free_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

/* Connects to @ip:@port: a connected fd, or -errno. */
static int tcp_connect(const char *ip, uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), rc;

	assert_true(fd >= 0);
	assert_int_equal(inet_pton(AF_INET, ip, &sin.sin_addr), 1);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
		return fd;
	rc = -errno;
	close(fd);
	return rc;
}

/* Connects to @ip:@port and waits (up to a second) for @f's accepted() to see it. */
static void connect_accepted(struct fake_core *f, const char *ip, uint16_t port)
{
	unsigned before = f->accepted;
	int fd = tcp_connect(ip, port);

	if (fd < 0)
		fail_msg("connect %s:%u: %s", ip, port, strerror(-fd));
	want_core = f;
	want_accepted = before + 1;
	if (run_until(accepted_reached, NULL, 1000) < 0)
		fail_msg("connect %s:%u: not handed to the core within 1 s", ip, port);
	assert_int_equal(f->accepted, before + 1);
	close(fd);
}

static void parse_ok(const char *s, struct tt_portal_addr *a)
{
	char err[256] = "";

	if (tt_portal_addr_parse(s, a, err, sizeof(err)) != 0)
		fail_msg("'%s': %s", s, err);
}

static void addr_of(struct tt_portal_addr *a, const char *ip, uint16_t port)
{
	char s[96];

	snprintf(s, sizeof(s), "%s:%u", ip, port);
	parse_ok(s, a);
}

static int sh(const char *cmd)
{
	int st = system(cmd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* In a new network namespace lo is down (and 127.0.0.1 absent until it is up). */
static int lo_up(void)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), rc = -1;

	if (fd < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
	return rc;
}

/* ---- addresses -------------------------------------------------------------------------------- */

static void test_fabrics(void **state)
{
	(void)state;
	assert_string_equal(tt_fabric_scheme(TT_FABRIC_ISCSI), "iscsi");
	assert_string_equal(tt_fabric_scheme(TT_FABRIC_ISER), "iser");
	assert_string_equal(tt_fabric_scheme(TT_FABRIC_NVME_TCP), "nvme-tcp");
	assert_string_equal(tt_fabric_scheme(TT_FABRIC_NVME_RDMA), "nvme-rdma");
	assert_string_equal(tt_fabric_scheme(TT_FABRIC_SRP), "srp");
	assert_string_equal(tt_fabric_scheme(TT_FABRIC_COUNT), "?");
	assert_int_equal(tt_fabric_default_port(TT_FABRIC_ISCSI), 3260);
	assert_int_equal(tt_fabric_default_port(TT_FABRIC_ISER), 3260);
	assert_int_equal(tt_fabric_default_port(TT_FABRIC_NVME_TCP), 4420);
	assert_int_equal(tt_fabric_default_port(TT_FABRIC_NVME_RDMA), 4420);
	assert_int_equal(tt_fabric_default_port(TT_FABRIC_SRP), 5555);
	assert_int_equal(tt_fabric_default_port(TT_FABRIC_COUNT), 0);
	/* only iSCSI over TCP is served by this build */
	assert_ptr_equal(tt_xport_for_fabric(TT_FABRIC_ISCSI), &tt_xport_tcp);
#ifdef TT_HAVE_RDMA
	assert_ptr_equal(tt_xport_for_fabric(TT_FABRIC_ISER), &tt_xport_iser);
	assert_true(tt_xport_ops_complete(&tt_xport_iser));
	assert_ptr_equal(tt_xport_find("iser"), &tt_xport_iser);
#else
	assert_null(tt_xport_for_fabric(TT_FABRIC_ISER));
#endif
	for (int f = TT_FABRIC_ISER + 1; f < TT_FABRIC_COUNT; f++)
		assert_null(tt_xport_for_fabric((enum tt_fabric)f));
	assert_string_equal(tt_listener_state_name(TT_LISTENER_BINDING), "binding");
	assert_string_equal(tt_listener_state_name(TT_LISTENER_LISTENING), "listening");
	assert_string_equal(tt_listener_state_name(TT_LISTENER_FAILED), "failed");
	assert_string_equal(tt_listener_state_name(TT_LISTENER_CLOSED), "closed");
	assert_string_equal(tt_listener_state_name(TT_LISTENER_STATE_COUNT), "?");
}

static void test_scheme_parse(void **state)
{
	static const struct {
		const char *in;
		enum tt_fabric f;
		size_t skip; /* characters consumed */
	} good[] = {
		{ "1.2.3.4", TT_FABRIC_ISCSI, 0 },
		{ "[::1]:3260", TT_FABRIC_ISCSI, 0 },
		{ "iscsi://1.2.3.4", TT_FABRIC_ISCSI, 8 },
		{ "iser://1.2.3.4", TT_FABRIC_ISER, 7 },
		{ "ISER://1.2.3.4", TT_FABRIC_ISER, 7 },
		{ "IsCsI://1.2.3.4", TT_FABRIC_ISCSI, 8 },
		{ "nvme-tcp://1.2.3.4", TT_FABRIC_NVME_TCP, 11 },
		{ "NVME-RDMA://1.2.3.4", TT_FABRIC_NVME_RDMA, 12 },
		{ "srp://", TT_FABRIC_SRP, 6 },
	};
	static const struct {
		const char *in, *named;
	} bad[] = {
		{ "fc://1.2.3.4", "'fc'" },
		{ "nvme://1.2.3.4", "'nvme'" },
		{ "iscsix://1.2.3.4", "'iscsix'" },
		{ "isc://1.2.3.4", "'isc'" },
		{ "://1.2.3.4", "''" },
		{ "nvme-tcp-x://[::1]", "'nvme-tcp-x'" },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const char *s = good[i].in;
		enum tt_fabric f = TT_FABRIC_COUNT;
		char err[256] = "";

		if (tt_portal_scheme_parse(&s, &f, err, sizeof(err)) != 0)
			fail_msg("'%s': %s", good[i].in, err);
		assert_int_equal(f, good[i].f);
		assert_ptr_equal(s, good[i].in + good[i].skip);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *s = bad[i].in;
		enum tt_fabric f;
		char err[256] = "";

		assert_int_equal(tt_portal_scheme_parse(&s, &f, err, sizeof(err)), -EINVAL);
		assert_ptr_equal(s, bad[i].in); /* not moved */
		if (!strstr(err, "unknown scheme") || !strstr(err, bad[i].named))
			fail_msg("'%s': the message does not name the scheme: %s", bad[i].in, err);
	}
}

static void test_addr_parse_good(void **state)
{
	static const struct {
		const char *in, *canon;
		enum tt_fabric f;
		int family;
		uint16_t port;
		bool wildcard;
	} cases[] = {
		{ "1.2.3.4:3260", "1.2.3.4:3260", TT_FABRIC_ISCSI, AF_INET, 3260, false },
		{ "1.2.3.4", "1.2.3.4:3260", TT_FABRIC_ISCSI, AF_INET, 3260, false },
		{ "iscsi://1.2.3.4:3261", "1.2.3.4:3261", TT_FABRIC_ISCSI, AF_INET, 3261, false },
		{ "10.0.0.1:65535", "10.0.0.1:65535", TT_FABRIC_ISCSI, AF_INET, 65535, false },
		{ "10.0.0.1:1", "10.0.0.1:1", TT_FABRIC_ISCSI, AF_INET, 1, false },
		{ "10.0.0.1:00860", "10.0.0.1:860", TT_FABRIC_ISCSI, AF_INET, 860, false },
		{ "0.0.0.0", "0.0.0.0:3260", TT_FABRIC_ISCSI, AF_INET, 3260, true },
		{ "ISER://10.0.0.1", "iser://10.0.0.1:3260", TT_FABRIC_ISER, AF_INET, 3260, false },
		{ "iser://[::]:3262", "iser://[::]:3262", TT_FABRIC_ISER, AF_INET6, 3262, true },
		{ "nvme-tcp://10.0.0.1", "nvme-tcp://10.0.0.1:4420", TT_FABRIC_NVME_TCP, AF_INET, 4420,
		  false },
		{ "nvme-tcp://[::1]", "nvme-tcp://[::1]:4420", TT_FABRIC_NVME_TCP, AF_INET6, 4420, false },
		{ "nvme-rdma://192.168.1.2:4421", "nvme-rdma://192.168.1.2:4421", TT_FABRIC_NVME_RDMA,
		  AF_INET, 4421, false },
		{ "srp://10.1.1.1", "srp://10.1.1.1:5555", TT_FABRIC_SRP, AF_INET, 5555, false },
		{ "srp://2001:db8::5", "srp://[2001:db8::5]:5555", TT_FABRIC_SRP, AF_INET6, 5555, false },
		{ "[::1]:3261", "[::1]:3261", TT_FABRIC_ISCSI, AF_INET6, 3261, false },
		{ "[::1]", "[::1]:3260", TT_FABRIC_ISCSI, AF_INET6, 3260, false },
		{ "::1", "[::1]:3260", TT_FABRIC_ISCSI, AF_INET6, 3260, false },
		{ "[2001:DB8:0::1]:860", "[2001:db8::1]:860", TT_FABRIC_ISCSI, AF_INET6, 860, false },
		{ "[::ffff:1.2.3.4]:3260", "[::ffff:1.2.3.4]:3260", TT_FABRIC_ISCSI, AF_INET6, 3260,
		  false },
		{ "[::]", "[::]:3260", TT_FABRIC_ISCSI, AF_INET6, 3260, true },
		{ "[fe80::1%lo]:3260", "[fe80::1%lo]:3260", TT_FABRIC_ISCSI, AF_INET6, 3260, false },
		{ "iser://[fe80::1%lo]", "iser://[fe80::1%lo]:3260", TT_FABRIC_ISER, AF_INET6, 3260,
		  false },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tt_portal_addr a, b;
		char err[256] = "", out[TT_PORTAL_ADDR_MAX];

		memset(&a, 0xa5, sizeof(a));
		if (tt_portal_addr_parse(cases[i].in, &a, err, sizeof(err)) != 0)
			fail_msg("'%s': %s", cases[i].in, err);
		assert_int_equal(a.fabric, cases[i].f);
		assert_int_equal(a.ss.ss_family, cases[i].family);
		assert_int_equal(a.sslen, cases[i].family == AF_INET ? sizeof(struct sockaddr_in)
								    : sizeof(struct sockaddr_in6));
		assert_int_equal(tt_sockaddr_port(&a.ss), cases[i].port);
		assert_int_equal(tt_sockaddr_is_wildcard(&a.ss), cases[i].wildcard);
		tt_portal_addr_format(&a, out, sizeof(out));
		if (strcmp(out, cases[i].canon))
			fail_msg("'%s': canonical '%s', expected '%s'", cases[i].in, out, cases[i].canon);
		/* the canonical text reads back as the same address */
		parse_ok(out, &b);
		assert_true(tt_portal_addr_equal(&a, &b));
	}

	/* the scope is the interface index; a numeric scope formats as the interface's name */
	struct tt_portal_addr a;
	unsigned lo = if_nametoindex("lo");
	char in[64], out[TT_PORTAL_ADDR_MAX];

	assert_true(lo > 0);
	parse_ok("[fe80::1%lo]:3260", &a);
	assert_int_equal(((struct sockaddr_in6 *)&a.ss)->sin6_scope_id, lo);
	snprintf(in, sizeof(in), "[fe80::1%%%u]:3260", lo);
	parse_ok(in, &a);
	assert_int_equal(((struct sockaddr_in6 *)&a.ss)->sin6_scope_id, lo);
	tt_portal_addr_format(&a, out, sizeof(out));
	assert_string_equal(out, "[fe80::1%lo]:3260");
	/* an index no interface has formats as the number */
	parse_ok("[fe80::1%999999]:3260", &a);
	tt_portal_addr_format(&a, out, sizeof(out));
	assert_string_equal(out, "[fe80::1%999999]:3260");
	tt_sockaddr_format(&a.ss, out, sizeof(out));
	assert_string_equal(out, "[fe80::1%999999]:3260");
	/* the socket address alone has no scheme */
	parse_ok("nvme-tcp://10.0.0.1", &a);
	tt_sockaddr_format(&a.ss, out, sizeof(out));
	assert_string_equal(out, "10.0.0.1:4420");
}

static void test_addr_parse_bad(void **state)
{
	static const struct {
		const char *in, *named; /* @named: what the message must contain */
	} cases[] = {
		{ "1.2.3", "'1.2.3'" },
		{ "1.2.3.4.5", "'1.2.3.4.5'" },
		{ "256.1.1.1", "'256.1.1.1'" },
		{ "host.example.com:3260", "host.example.com" },
		{ "1.2.3.4:", "bad port ''" },
		{ "1.2.3.4:0", "bad port '0'" },
		{ "1.2.3.4:65536", "bad port '65536'" },
		{ "1.2.3.4:123456", "bad port '123456'" },
		{ "1.2.3.4:12a", "bad port '12a'" },
		{ "1.2.3.4:-1", "bad port '-1'" },
		{ "1.2.3.4: 80", "bad port ' 80'" },
		{ ":3260", "missing address" },
		{ "[]:3260", "missing address" },
		{ "[::1", "missing ']'" },
		{ "[::1]x", "expected ':PORT'" },
		{ "[::1]:", "bad port ''" },
		{ "[::1]:0", "bad port '0'" },
		{ "[1.2.3.4]:3260", "not a numeric IPv6 address" },
		{ "[::g]:3260", "'::g'" },
		{ "fe80::1", "needs its interface" },
		{ "[fe80::1]:3260", "needs its interface" },
		{ "[fe80::1%]:3260", "empty interface" },
		{ "[fe80::1%nosuchif0]:3260", "unknown interface 'nosuchif0'" },
		{ "[fe80::1%0]:3260", "unknown interface '0'" },
		{ "[::1%lo]:3260", "only meaningful for a link-local" },
		{ "[2001:db8::1%1]", "only meaningful for a link-local" },
		{ "fc://1.2.3.4", "unknown scheme 'fc'" },
		{ "iser://", "missing address" },
		{ "iser://1.2.3.4:99999", "bad port '99999'" },
		{ "nvme-tcp://[::1", "missing ']'" },
	};
	struct tt_portal_addr a;
	char err[256], longer[200];
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *in = cases[i].in, *rest = strstr(in, "://");

		err[0] = '\0';
		if (tt_portal_addr_parse(in, &a, err, sizeof(err)) != -EINVAL)
			fail_msg("'%s' accepted", in);
		if (!strstr(err, cases[i].named))
			fail_msg("'%s': expected '%s' in the message: %s", in, cases[i].named, err);
		/* the message names the address (past a known scheme) */
		rest = rest && strncmp(in, "fc:", 3) ? rest + 3 : in;
		if (!strstr(err, rest))
			fail_msg("'%s': the message does not name it: %s", in, err);
	}

	err[0] = '\0';
	assert_int_equal(tt_portal_addr_parse("", &a, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "empty"));
	err[0] = '\0';
	assert_int_equal(tt_portal_addr_parse(NULL, &a, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "empty"));
	memset(longer, '1', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	err[0] = '\0';
	assert_int_equal(tt_portal_addr_parse(longer, &a, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "too long"));
	/* the longest IPv6 text with a scope still fits */
	parse_ok("iser://[fe80:ffff:ffff:ffff:ffff:ffff:ffff:ffff%lo]:65535", &a);
}

static void test_addr_equal(void **state)
{
	static const struct {
		const char *x, *y;
		bool equal;
	} cases[] = {
		{ "127.0.0.1", "127.0.0.1:3260", true },
		{ "iscsi://127.0.0.1", "127.0.0.1", true },
		{ "ISER://127.0.0.1", "iser://127.0.0.1:3260", true },
		{ "::1", "[::1]:3260", true },
		{ "[::1]", "[0:0::1]", true },
		{ "[fe80::1%lo]", "[fe80::1%lo]:3260", true },
		{ "127.0.0.1:3260", "127.0.0.1:3261", false },
		{ "127.0.0.1:3260", "127.0.0.2:3260", false },
		{ "127.0.0.1", "iser://127.0.0.1", false },
		{ "nvme-tcp://127.0.0.1:4420", "nvme-rdma://127.0.0.1:4420", false },
		{ "0.0.0.0", "[::]", false },
		{ "[::ffff:127.0.0.1]", "127.0.0.1", false },
		{ "[::1]:3260", "[::2]:3260", false },
		{ "[fe80::1%1]", "[fe80::1%2]", false },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tt_portal_addr x, y;

		parse_ok(cases[i].x, &x);
		parse_ok(cases[i].y, &y);
		if (tt_portal_addr_equal(&x, &y) != cases[i].equal ||
		    tt_portal_addr_equal(&y, &x) != cases[i].equal)
			fail_msg("'%s' and '%s' should%s be equal", cases[i].x, cases[i].y,
				 cases[i].equal ? "" : " not");
	}
}

/* ---- listeners -------------------------------------------------------------------------------- */

/* Two users of one address with one core share a listener; connections go to the core on a
 * loop; the listener closes with its last user. */
static void test_shared_listener(void **state)
{
	struct tt_listener *l1 = NULL, *l2 = NULL;
	struct tt_portal_addr a, b;
	uint16_t port = free_port();
	char err[256] = "", name[64];
	int fd;
	(void)state;

	addr_of(&a, "127.0.0.1", port);
	assert_int_equal(tt_listener_acquire(&a, &core_a.core, &l1, err, sizeof(err)), 0);
	assert_non_null(l1);
	assert_int_equal(tt_listener_state(l1), TT_LISTENER_LISTENING);
	assert_int_equal(tt_listener_error(l1), 0);
	assert_non_null(l1->xport_priv);
	assert_ptr_equal(l1->ops, &tt_xport_tcp);
	assert_ptr_equal(l1->core, &core_a.core);
	assert_int_equal(l1->users, 1);
	assert_int_equal(l1->refs, 1);
	snprintf(name, sizeof(name), "127.0.0.1:%u", port);
	assert_string_equal(l1->name, name);
	assert_false(tt_timer_armed(&l1->retry_timer));

	/* the same address in another spelling: the same listener */
	snprintf(name, sizeof(name), "iscsi://127.0.0.1:%u", port);
	parse_ok(name, &b);
	assert_int_equal(tt_listener_acquire(&b, &core_a.core, &l2, err, sizeof(err)), 0);
	assert_ptr_equal(l2, l1);
	assert_int_equal(l1->users, 2);
	assert_int_equal(l1->refs, 1);

	/* a connection is handed to the core, on its loop, with a reference on the listener */
	connect_accepted(&core_a, "127.0.0.1", port);
	assert_true(core_a.on_loop);
	assert_ptr_equal(core_a.last_listener, l1);
	assert_ptr_equal(core_a.last_core, &core_a.core);
	assert_int_equal(core_b.accepted, 0);
	/* refused by the core: the transport freed it and dropped its reference */
	assert_int_equal(l1->refs, 1);

	/* one user goes: still listening */
	tt_listener_release(l2);
	assert_int_equal(l1->users, 1);
	assert_int_equal(tt_listener_state(l1), TT_LISTENER_LISTENING);
	connect_accepted(&core_a, "127.0.0.1", port);
	assert_int_equal(core_a.accepted, 2);

	/* the last one: closed (and freed: l1 is not touched again) */
	tt_listener_release(l1);
	fd = tcp_connect("127.0.0.1", port);
	if (fd >= 0)
		close(fd);
	assert_int_equal(fd, -ECONNREFUSED);
	run_for(50);
	assert_int_equal(core_a.accepted, 2);

	/* and the address can be listened on again */
	l1 = NULL;
	assert_int_equal(tt_listener_acquire(&a, &core_a.core, &l1, err, sizeof(err)), 0);
	assert_int_equal(tt_listener_state(l1), TT_LISTENER_LISTENING);
	assert_int_equal(l1->users, 1);
	connect_accepted(&core_a, "127.0.0.1", port);
	tt_listener_release(l1);
}

/* One address serves one core; addresses the kernel could not bind side by side are refused. */
static void test_address_in_use(void **state)
{
	struct tt_listener *l = NULL, *other = NULL, *l6 = NULL, *lq = NULL;
	struct tt_portal_addr a, wild, lo2, b6, q;
	uint16_t port = free_port(), port2;
	char err[256] = "", name[64];
	int rc;
	(void)state;

	do
		port2 = free_port();
	while (port2 == port);

	/* the same address for another core */
	addr_of(&a, "127.0.0.1", port);
	assert_int_equal(tt_listener_acquire(&a, &core_a.core, &l, err, sizeof(err)), 0);
	assert_int_equal(tt_listener_acquire(&a, &core_b.core, &other, err, sizeof(err)),
			 -EADDRINUSE);
	assert_null(other);
	snprintf(name, sizeof(name), "127.0.0.1:%u", port);
	if (!strstr(err, name) || !strstr(err, "another"))
		fail_msg("the message does not name the address: %s", err);
	assert_int_equal(l->users, 1);

	/* the wildcard of the same port overlaps it, whichever core asks */
	addr_of(&wild, "0.0.0.0", port);
	err[0] = '\0';
	assert_int_equal(tt_listener_acquire(&wild, &core_a.core, &other, err, sizeof(err)),
			 -EADDRINUSE);
	assert_null(other);
	if (!strstr(err, "overlaps") || !strstr(err, name))
		fail_msg("the message does not name the other portal (%s): %s", name, err);
	assert_int_equal(tt_listener_acquire(&wild, &core_b.core, &other, err, sizeof(err)),
			 -EADDRINUSE);
	assert_int_equal(l->users, 1);

	/* another port of the wildcard does not */
	addr_of(&q, "0.0.0.0", port2);
	assert_int_equal(tt_listener_acquire(&q, &core_b.core, &lq, err, sizeof(err)), 0);
	assert_int_equal(tt_listener_state(lq), TT_LISTENER_LISTENING);
	tt_listener_release(lq);
	tt_listener_release(l);

	/* the other way round: the wildcard first, then a specific address of the same port */
	l = NULL;
	assert_int_equal(tt_listener_acquire(&wild, &core_a.core, &l, err, sizeof(err)), 0);
	assert_int_equal(tt_listener_state(l), TT_LISTENER_LISTENING);
	addr_of(&lo2, "127.0.0.2", port);
	err[0] = '\0';
	assert_int_equal(tt_listener_acquire(&lo2, &core_a.core, &other, err, sizeof(err)),
			 -EADDRINUSE);
	assert_null(other);
	snprintf(name, sizeof(name), "0.0.0.0:%u", port);
	if (!strstr(err, "overlaps") || !strstr(err, name))
		fail_msg("the message does not name the other portal (%s): %s", name, err);
	/* the wildcard listener takes connections for any local address */
	connect_accepted(&core_a, "127.0.0.2", port);

	/* another family on the same port is no overlap (IPv6 listeners are V6ONLY) */
	snprintf(name, sizeof(name), "[::]:%u", port);
	parse_ok(name, &b6);
	rc = tt_listener_acquire(&b6, &core_a.core, &l6, err, sizeof(err));
	if (rc == 0) {
		assert_int_equal(tt_listener_state(l6), TT_LISTENER_LISTENING);
		tt_listener_release(l6);
	} else if (rc != -EAFNOSUPPORT) { /* a kernel without IPv6 */
		fail_msg("[::]:%u next to 0.0.0.0:%u: %s", port, port, err);
	}
	tt_listener_release(l);
}

/* A fabric no transport of this build serves is refused by name. */
static void test_unserved_fabric(void **state)
{
	static const char *const schemes[] = {
#ifndef TT_HAVE_RDMA
		"iser", "ISER",
#endif
		"nvme-tcp", "nvme-rdma", "srp" };
	uint16_t port = free_port();
	(void)state;

	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		struct tt_listener *l = NULL;
		struct tt_portal_addr a;
		char s[64], want[32], err[256] = "";

		snprintf(s, sizeof(s), "%s://127.0.0.1:%u", schemes[i], port);
		parse_ok(s, &a);
		assert_int_equal(tt_listener_acquire(&a, &core_a.core, &l, err, sizeof(err)),
				 -EPROTONOSUPPORT);
		assert_null(l);
		snprintf(want, sizeof(want), "%s://", tt_fabric_scheme(a.fabric));
		if (!strstr(err, want) || !strstr(err, "not supported"))
			fail_msg("'%s': the message does not name the scheme: %s", s, err);
	}
	/* nothing was left listening on the port */
	int fd = tcp_connect("127.0.0.1", port);

	if (fd >= 0)
		close(fd);
	assert_int_equal(fd, -ECONNREFUSED);
}

#ifdef TT_HAVE_RDMA
/* An iser:// portal where no RDMA device serves the address (no rdma_cm on this host, or no
 * device for 192.0.2.1): the listener exists and keeps trying, like a TCP portal whose address
 * is not there yet; with a device for 127.0.0.1 it listens. */
static void test_iser_without_device(void **state)
{
	struct tt_listener *l = NULL;
	struct tt_portal_addr a;
	char s[64], err[256] = "";
	(void)state;

	snprintf(s, sizeof(s), "iser://192.0.2.1:%u", free_port());
	parse_ok(s, &a);
	assert_int_equal(tt_listener_acquire(&a, &core_a.core, &l, err, sizeof(err)), 0);
	assert_non_null(l);
	assert_ptr_equal(l->ops, &tt_xport_iser);
	assert_int_equal(tt_listener_state(l), TT_LISTENER_BINDING);
	assert_int_equal(tt_listener_error(l), -EADDRNOTAVAIL);
	assert_null(l->xport_priv);
	tt_listener_release(l);
}
#endif

/* 192.0.2.1 (TEST-NET-1) is on no host: the listener exists and keeps trying. */
static void test_not_on_host(void **state)
{
	struct tt_listener *l = NULL, *again = NULL;
	struct tt_portal_addr a;
	char err[256] = "";
	unsigned attempts;
	(void)state;

	addr_of(&a, "192.0.2.1", free_port());
	assert_int_equal(tt_listener_acquire(&a, &core_a.core, &l, err, sizeof(err)), 0);
	assert_non_null(l);
	assert_int_equal(tt_listener_state(l), TT_LISTENER_BINDING);
	assert_int_equal(tt_listener_error(l), -EADDRNOTAVAIL);
	assert_null(l->xport_priv);
	assert_true(tt_timer_armed(&l->retry_timer));
	attempts = l->attempts;
	assert_int_equal(attempts, 1);
	run_for(700);
	assert_int_equal(tt_listener_state(l), TT_LISTENER_BINDING);
	assert_int_equal(tt_listener_error(l), -EADDRNOTAVAIL);
	assert_true(tt_timer_armed(&l->retry_timer));
	if (l->attempts < attempts + 2) /* every 250 ms */
		fail_msg("%u attempts in 700 ms", l->attempts - attempts);
	/* a waiting listener is shared like any other */
	assert_int_equal(tt_listener_acquire(&a, &core_a.core, &again, err, sizeof(err)), 0);
	assert_ptr_equal(again, l);
	assert_int_equal(l->users, 2);
	assert_int_equal(tt_listener_acquire(&a, &core_b.core, &again, err, sizeof(err)),
			 -EADDRINUSE);
	tt_listener_release(l);
	assert_true(tt_timer_armed(&l->retry_timer));
	tt_listener_release(l);
	run_for(300); /* no retry timer left behind (ASan: none fires on freed memory) */
}

/* Another socket holds the port: retried, the error kept, listening once the port is free. */
static void test_port_taken(void **state)
{
	uint16_t port = free_port();
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct tt_listener *l = NULL;
	struct tt_portal_addr a;
	char err[256] = "";
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	long ms;
	(void)state;

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 1), 0);
	addr_of(&a, "127.0.0.1", port);
	assert_int_equal(tt_listener_acquire(&a, &core_a.core, &l, err, sizeof(err)), 0);
	assert_int_equal(tt_listener_state(l), TT_LISTENER_BINDING);
	assert_int_equal(tt_listener_error(l), -EADDRINUSE);
	assert_true(tt_timer_armed(&l->retry_timer));
	run_for(300);
	assert_int_equal(tt_listener_state(l), TT_LISTENER_BINDING);
	assert_int_equal(tt_listener_error(l), -EADDRINUSE);
	close(fd);
	ms = run_until(is_listening, l, 1000);
	if (ms < 0)
		fail_msg("not listening 1 s after the port was freed");
	print_message("listening %ld ms after the port was freed\n", ms);
	assert_int_equal(tt_listener_error(l), 0);
	assert_false(tt_timer_armed(&l->retry_timer));
	assert_non_null(l->xport_priv);
	connect_accepted(&core_a, "127.0.0.1", port);
	tt_listener_release(l);
}

/* The address appears, vanishes and comes back: the listener follows within a second. */
static void test_address_comes_and_goes(void **state)
{
	struct tt_listener *l = NULL;
	struct tt_portal_addr a;
	uint16_t port;
	char err[256] = "";
	long ms;
	(void)state;

	if (!own_netns)
		tt_skip("no network namespace of our own (unshare(CLONE_NEWNET) needs root) or "
			"no ip(8)");
	port = free_port();
	addr_of(&a, "192.0.2.1", port);
	assert_int_equal(tt_listener_acquire(&a, &core_a.core, &l, err, sizeof(err)), 0);
	assert_int_equal(tt_listener_state(l), TT_LISTENER_BINDING);
	assert_int_equal(tt_listener_error(l), -EADDRNOTAVAIL);

	for (int round = 0; round < 2; round++) {
		assert_int_equal(sh("ip addr add 192.0.2.1/32 dev lo"), 0);
		ms = run_until(is_listening, l, 1000);
		if (ms < 0)
			fail_msg("round %d: not listening 1 s after the address appeared", round);
		print_message("round %d: listening %ld ms after the address appeared\n", round, ms);
		assert_int_equal(tt_listener_error(l), 0);
		assert_false(tt_timer_armed(&l->retry_timer));
		connect_accepted(&core_a, "192.0.2.1", port);

		assert_int_equal(sh("ip addr del 192.0.2.1/32 dev lo"), 0);
		ms = run_until(is_binding, l, 1000);
		if (ms < 0)
			fail_msg("round %d: listener kept 1 s after the address vanished", round);
		print_message("round %d: binding %ld ms after the address vanished\n", round, ms);
		assert_null(l->xport_priv);
		assert_int_equal(tt_listener_error(l), -EADDRNOTAVAIL);
		assert_true(tt_timer_armed(&l->retry_timer));
	}
	tt_listener_release(l);
}

/* A connection's reference keeps the listener after its last user has gone. */
static void test_connection_holds_listener(void **state)
{
	struct tt_listener *l = NULL;
	struct tt_portal_addr a;
	struct tt_xconn *xc;
	uint16_t port = free_port();
	char err[256] = "";
	int fd;
	(void)state;

	core_a.keep = true;
	addr_of(&a, "127.0.0.1", port);
	assert_int_equal(tt_listener_acquire(&a, &core_a.core, &l, err, sizeof(err)), 0);
	connect_accepted(&core_a, "127.0.0.1", port);
	xc = core_a.last;
	assert_non_null(xc);
	assert_ptr_equal(xc->listener, l);
	assert_ptr_equal(xc->ops, &tt_xport_tcp);
	assert_int_equal(l->refs, 2); /* the registry's and the connection's */
	assert_string_not_equal(xc->peer, "");
	assert_int_equal(tt_sockaddr_port(&xc->local_addr), port);

	/* the last user goes: closed, out of the registry, but not freed */
	tt_listener_release(l);
	assert_int_equal(tt_listener_state(l), TT_LISTENER_CLOSED);
	assert_int_equal(l->users, 0);
	assert_int_equal(l->refs, 1);
	assert_null(l->xport_priv);
	assert_false(tt_timer_armed(&l->retry_timer));
	fd = tcp_connect("127.0.0.1", port);
	if (fd >= 0)
		close(fd);
	assert_int_equal(fd, -ECONNREFUSED);

	/* an extra reference, as any thread may take */
	tt_listener_get(l);
	assert_int_equal(l->refs, 2);
	tt_listener_put(l);
	assert_int_equal(l->refs, 1);

	/* a new listener for the address is another object */
	struct tt_listener *l2 = NULL;

	assert_int_equal(tt_listener_acquire(&a, &core_a.core, &l2, err, sizeof(err)), 0);
	assert_ptr_not_equal(l2, l);
	assert_int_equal(tt_listener_state(l2), TT_LISTENER_LISTENING);
	assert_int_equal(tt_listener_state(l), TT_LISTENER_CLOSED);
	tt_listener_release(l2);

	/* the connection's life: started, shut down, reported closed, released; the release drops
	 * the last reference (a use after free here is ASan's to catch) */
	assert_int_equal(xc->ops->conn_start(xc), 0);
	xc->ops->shutdown(xc);
	assert_int_equal(core_a.closed, 0); /* never inline */
	run_for(20);
	assert_int_equal(core_a.closed, 1);
	assert_int_equal(core_a.closed_err, 0);
	assert_int_equal(tt_listener_state(l), TT_LISTENER_CLOSED);
	xc->ops->release(xc);
	core_a.last = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_fabrics, setup),
		cmocka_unit_test_setup(test_scheme_parse, setup),
		cmocka_unit_test_setup(test_addr_parse_good, setup),
		cmocka_unit_test_setup(test_addr_parse_bad, setup),
		cmocka_unit_test_setup(test_addr_equal, setup),
		cmocka_unit_test_setup(test_shared_listener, setup),
		cmocka_unit_test_setup(test_address_in_use, setup),
		cmocka_unit_test_setup(test_unserved_fabric, setup),
		cmocka_unit_test_setup(test_not_on_host, setup),
#ifdef TT_HAVE_RDMA
		cmocka_unit_test_setup(test_iser_without_device, setup),
#endif
		cmocka_unit_test_setup(test_port_taken, setup),
		cmocka_unit_test_setup(test_address_comes_and_goes, setup),
		cmocka_unit_test_setup(test_connection_holds_listener, setup),
	};
	int rc;

	/* a network namespace of our own: addresses to add and remove, lo with 127.0.0.0/8 */
	if (unshare(CLONE_NEWNET) == 0) {
		if (lo_up() != 0) {
			fprintf(stderr, "cannot bring lo up in a new network namespace\n");
			return 1;
		}
		own_netns = sh("ip -V >/dev/null 2>&1") == 0;
	}
	if (!own_netns)
		print_message("no network namespace of our own or no ip(8): the test of an "
			      "address that comes and goes will be skipped\n");
	if (getenv("TT_TEST_LOG"))
		tt_log_set_level(TT_LOG_DEBUG);
	if (tt_loops_start(1) != 0) {
		fprintf(stderr, "cannot start a loop\n");
		return 1;
	}
	rc = tt_run_group("listener_test", tests, NULL, NULL);
	tt_loops_shutdown();
	return rc;
}
