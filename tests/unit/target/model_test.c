/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The model (targets, TPGs, LUNs, ACLs) and portals: address parsing, uniqueness, listening,
 * retrying an address that is not on the host, and following an address that comes and goes.
 *
 * When it may (root), the test runs in a network namespace of its own, where it can add and
 * remove 192.0.2.1 (TEST-NET-1) on lo; elsewhere that one test is skipped.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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
#include "target/iscsi_target.h"
#include "target/model.h"
#include "target/portal.h"

#define T1 "iqn.2026-11.org.tether:t1"
#define T2 "iqn.2026-11.org.tether:t2"
#define INI "iqn.1994-05.com.redhat:host1"

static bool own_netns; /* we may add and remove addresses */

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

static enum tt_listener_state pstate(const struct tt_portal *p) { return tt_listener_state(p->listener); }
static bool is_listening(void *arg) { return pstate(arg) == TT_LISTENER_LISTENING; }
static bool is_binding(void *arg) { return pstate(arg) == TT_LISTENER_BINDING; }

/* The socket address of @s (tt_portal_addr_parse), as the tests below want it. */
static int tt_portal_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len, char *err,
			   size_t errlen)
{
	struct tt_portal_addr a;
	int rc = tt_portal_addr_parse(s, &a, err, errlen);

	*ss = a.ss;
	*len = a.sslen;
	return rc;
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

/* Does a TCP connection to @ip:@port succeed? */
static bool can_connect(const char *ip, uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	inet_pton(AF_INET, ip, &sin.sin_addr);
	ok = connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	close(fd);
	/* let loop 0 take (and the core drop) the accepted connection */
	run_for(20);
	return ok;
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

static struct tt_target *mk_target(const char *name)
{
	struct tt_target *t = NULL;
	char err[256] = "";

	assert_int_equal(tt_target_create(name, NULL, &t, err, sizeof(err)), 0);
	assert_non_null(t);
	return t;
}

static struct tt_tpg *mk_tpg(struct tt_target *t, uint16_t tag)
{
	struct tt_tpg *g = NULL;

	assert_int_equal(tt_tpg_create(t, tag, &g, NULL, 0), 0);
	assert_non_null(g);
	return g;
}

static void del_target(const char *name)
{
	assert_int_equal(tt_target_delete(name, NULL, 0), 0);
}

/* ---- address parsing ------------------------------------------------------------------------------ */

static void test_parse_good(void **state)
{
	static const struct {
		const char *in, *canon;
		int family;
		bool wildcard;
	} cases[] = {
		{ "1.2.3.4:3260", "1.2.3.4:3260", AF_INET, false },
		{ "1.2.3.4", "1.2.3.4:3260", AF_INET, false },
		{ "10.0.0.1:65535", "10.0.0.1:65535", AF_INET, false },
		{ "10.0.0.1:1", "10.0.0.1:1", AF_INET, false },
		{ "0.0.0.0:3260", "0.0.0.0:3260", AF_INET, true },
		{ "0.0.0.0", "0.0.0.0:3260", AF_INET, true },
		{ "[::1]:3260", "[::1]:3260", AF_INET6, false },
		{ "[::1]", "[::1]:3260", AF_INET6, false },
		{ "::1", "[::1]:3260", AF_INET6, false },
		{ "[2001:db8::1]:860", "[2001:db8::1]:860", AF_INET6, false },
		{ "[2001:DB8:0::1]:860", "[2001:db8::1]:860", AF_INET6, false },
		{ "[::]:3260", "[::]:3260", AF_INET6, true },
		{ "[fe80::1%lo]:3260", "[fe80::1%lo]:3260", AF_INET6, false },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sockaddr_storage ss;
		socklen_t len = 0;
		char err[256] = "", out[80];

		if (tt_portal_parse(cases[i].in, &ss, &len, err, sizeof(err)) != 0)
			fail_msg("'%s': %s", cases[i].in, err);
		assert_int_equal(ss.ss_family, cases[i].family);
		assert_int_equal(len, cases[i].family == AF_INET ? sizeof(struct sockaddr_in)
								 : sizeof(struct sockaddr_in6));
		assert_int_equal(tt_sockaddr_is_wildcard(&ss), cases[i].wildcard);
		tt_sockaddr_format(&ss, out, sizeof(out));
		assert_string_equal(out, cases[i].canon);
	}

	/* the scope is the interface index */
	struct sockaddr_storage ss;
	socklen_t len;

	assert_int_equal(tt_portal_parse("[fe80::1%lo]:3260", &ss, &len, NULL, 0), 0);
	assert_int_equal(((struct sockaddr_in6 *)&ss)->sin6_scope_id, if_nametoindex("lo"));
	assert_int_equal(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), 3260);
}

static void test_parse_bad(void **state)
{
	static const char *const bad[] = {
		"1.2.3", "1.2.3.4:", "1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:32a", "1.2.3.4:-1",
		"host.example:3260", "localhost", ":3260", "[::1", "[::1]x", "[::1]:", "[]:3260",
		"[1.2.3.4]:3260", "[fe80::1]:3260", "[fe80::1%nosuchif0]:3260", "[::1%lo]:3260",
		"1.2.3.4:3260:1", "256.1.1.1",
	};
	struct sockaddr_storage ss;
	socklen_t len;
	char err[256];
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (tt_portal_parse(bad[i], &ss, &len, err, sizeof(err)) != -EINVAL)
			fail_msg("'%s' was accepted", bad[i]);
		if (!strstr(err, bad[i]))
			fail_msg("'%s': message does not name it: %s", bad[i], err);
	}
	assert_int_equal(tt_portal_parse("", &ss, &len, err, sizeof(err)), -EINVAL);
	assert_int_equal(tt_portal_parse("[fe80::1]:3260", &ss, &len, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "interface"));
	/* a message never overflows */
	assert_int_equal(tt_portal_parse("bogus:1", &ss, &len, err, 8), -EINVAL);
	assert_int_equal(strlen(err), 7);
}

static void test_addr_equal(void **state)
{
	struct tt_portal_addr a, b;
	char err[256], out[TT_PORTAL_ADDR_MAX];
	(void)state;

	assert_int_equal(tt_portal_addr_parse("1.2.3.4", &a, NULL, 0), 0);
	assert_int_equal(tt_portal_addr_parse("1.2.3.4:3260", &b, NULL, 0), 0);
	assert_true(tt_portal_addr_equal(&a, &b));
	assert_int_equal(tt_portal_addr_parse("iscsi://1.2.3.4", &b, NULL, 0), 0);
	assert_true(tt_portal_addr_equal(&a, &b));
	assert_int_equal(tt_portal_addr_parse("1.2.3.4:3261", &b, NULL, 0), 0);
	assert_false(tt_portal_addr_equal(&a, &b));
	assert_int_equal(tt_portal_addr_parse("[::1]", &a, NULL, 0), 0);
	assert_int_equal(tt_portal_addr_parse("::1", &b, NULL, 0), 0);
	assert_true(tt_portal_addr_equal(&a, &b));
	/* schemes: the fabric, its default port, and the canonical text */
	assert_int_equal(tt_portal_addr_parse("ISER://[::1]", &b, NULL, 0), 0);
	assert_int_equal(b.fabric, TT_FABRIC_ISER);
	assert_false(tt_portal_addr_equal(&a, &b));
	tt_portal_addr_format(&b, out, sizeof(out));
	assert_string_equal(out, "iser://[::1]:3260");
	assert_int_equal(tt_portal_addr_parse("nvme-tcp://10.0.0.1", &b, NULL, 0), 0);
	tt_portal_addr_format(&b, out, sizeof(out));
	assert_string_equal(out, "nvme-tcp://10.0.0.1:4420");
	assert_int_equal(tt_portal_addr_parse("srp://10.0.0.1", &b, NULL, 0), 0);
	assert_int_equal(tt_sockaddr_port(&b.ss), 5555);
	assert_int_equal(tt_portal_addr_parse("iscsi://10.0.0.1:860", &b, NULL, 0), 0);
	tt_portal_addr_format(&b, out, sizeof(out));
	assert_string_equal(out, "10.0.0.1:860");
	assert_int_equal(tt_portal_addr_parse("foo://10.0.0.1", &b, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown scheme 'foo'"));
	assert_int_equal(tt_portal_addr_parse("iscsi://", &b, err, sizeof(err)), -EINVAL);
}

/* ---- names and targets ----------------------------------------------------------------------- */

static void test_names(void **state)
{
	static const char *const good[] = {
		"iqn.2026-11.org.tether:default", "iqn.1994-05.com.redhat:abc.d-e:f",
		"iqn.2001-04.com.example", "eui.0123456789abcdef", "naa.0123456789abcdef",
		"naa.0123456789abcdef0123456789abcdef",
	};
	static const char *const bad[] = {
		"IQN.2026-11.org.x", "iqn.2026-11.org.Tether", "iqn.26-11.org.x", "iqn.2026-13.org.x",
		"iqn.2026-00.org.x", "iqn.2026-11.", "iqn.2026-11", "iqn.2026-11.:x", "eui.0123",
		"eui.0123456789ABCDEF", "naa.xyz", "naa.0123456789abcdef0", "foo.bar",
		"iqn.2026-11.org.x y", "iqn.2026-11.org.x_y",
	};
	char err[512], longname[300];
	(void)state;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		err[0] = '\0';
		if (tt_target_create(good[i], NULL, NULL, err, sizeof(err)) != 0)
			fail_msg("'%s' refused: %s", good[i], err);
		del_target(good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (tt_target_create(bad[i], NULL, NULL, err, sizeof(err)) == 0)
			fail_msg("'%s' accepted", bad[i]);
		if (!strstr(err, bad[i]))
			fail_msg("'%s': message does not name it: %s", bad[i], err);
		assert_null(tt_target_find(bad[i]));
	}
	assert_int_equal(tt_target_create("", NULL, NULL, err, sizeof(err)), -EINVAL);

	/* 223 bytes is the limit */
	memset(longname, 'a', sizeof(longname));
	memcpy(longname, "iqn.2026-11.org.x:", 18);
	longname[TT_ISCSI_NAME_MAX] = '\0';
	assert_int_equal(tt_target_create(longname, NULL, NULL, err, sizeof(err)), 0);
	del_target(longname);
	longname[TT_ISCSI_NAME_MAX] = 'a';
	longname[TT_ISCSI_NAME_MAX + 1] = '\0';
	assert_int_equal(tt_target_create(longname, NULL, NULL, err, sizeof(err)), -ENAMETOOLONG);
	assert_non_null(strstr(err, "223"));
}

static void test_targets(void **state)
{
	struct tt_target *t, *t2;
	char err[512] = "";
	(void)state;

	assert_int_equal(tt_target_create(T1, "first", &t, err, sizeof(err)), 0);
	assert_string_equal(t->name, T1);
	assert_string_equal(t->alias, "first");
	assert_int_equal(t->refs, 1);
	assert_false(t->deleted);
	assert_ptr_equal(tt_target_find(T1), t);
	assert_null(tt_target_find(T2));

	assert_int_equal(tt_target_create(T1, NULL, NULL, err, sizeof(err)), -EEXIST);
	assert_string_equal(err, "target " T1 " already exists");

	t2 = mk_target(T2);
	assert_ptr_equal(tt_list_entry(tt_model_targets()->next, struct tt_target, node), t);
	assert_ptr_equal(tt_list_entry(tt_model_targets()->prev, struct tt_target, node), t2);

	/* a holder keeps a deleted target alive */
	tt_target_get(t);
	del_target(T1);
	assert_null(tt_target_find(T1));
	assert_true(t->deleted);
	assert_int_equal(t->refs, 1);
	tt_target_put(t);

	assert_int_equal(tt_target_delete(T1, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, T1));
	assert_non_null(strstr(err, "no such target"));
	del_target(T2);
	assert_true(tt_list_empty(tt_model_targets()));
}

/* ---- TPGs ---------------------------------------------------------------------------------------- */

static void test_tpgs(void **state)
{
	struct tt_target *t = mk_target(T1);
	struct tt_tpg *g1, *g2;
	struct tt_list *n;
	uint16_t order[4], i = 0;
	char err[512] = "";
	(void)state;

	g1 = mk_tpg(t, 1);
	assert_ptr_equal(g1->target, t);
	assert_int_equal(g1->tag, 1);
	assert_string_equal(g1->scsi_port.target_name, T1);
	assert_int_equal(g1->scsi_port.tpgt, 1);
	assert_int_equal(g1->scsi_port.rel_port_id, 1);
	assert_int_equal(g1->scsi_port.port_group_id, 1);
	assert_true(g1->allow_any_initiator);
	assert_int_equal(g1->nop_interval_ms, 5000);
	assert_int_equal(g1->params.max_recv_dsl, 262144);
	assert_int_equal(g1->params.max_burst, 1048576);
	assert_true(g1->params.immediate_data);
	assert_false(g1->params.initial_r2t);

	assert_int_equal(tt_tpg_create(t, 1, NULL, err, sizeof(err)), -EEXIST);
	assert_string_equal(err, "target " T1 ": tpg 1 already exists");
	assert_int_equal(tt_tpg_create(t, 0, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "1..65535"));

	g2 = mk_tpg(t, 5);
	mk_tpg(t, 3);
	mk_tpg(t, 65535);
	assert_int_equal(g2->scsi_port.rel_port_id, 5);
	tt_list_for_each(n, &t->tpgs)
		order[i++] = tt_list_entry(n, struct tt_tpg, node)->tag;
	assert_int_equal(i, 4);
	assert_int_equal(order[0], 1);
	assert_int_equal(order[1], 3);
	assert_int_equal(order[2], 5);
	assert_int_equal(order[3], 65535);
	assert_ptr_equal(tt_tpg_find(t, 5), g2);

	assert_int_equal(tt_tpg_delete(t, 5, err, sizeof(err)), 0);
	assert_null(tt_tpg_find(t, 5));
	assert_int_equal(tt_tpg_delete(t, 5, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "tpg 5: no such TPG in target " T1);
	/* the tag is free again */
	mk_tpg(t, 5);

	/* with an ACL, a new TPG wants ACLs */
	assert_int_equal(tt_acl_add(t, INI, NULL, NULL, 0), 0);
	assert_false(mk_tpg(t, 7)->allow_any_initiator);
	del_target(T1);
}

/* ---- LUNs ----------------------------------------------------------------------------------------- */

static void test_luns(void **state)
{
	struct tt_target *t = mk_target(T1);
	struct tt_target_lun *tl;
	struct tt_lun *lun;
	char vendor[16], product[32], serial[64], revision[8];
	struct tt_lun_opts opts = { .vendor = vendor, .product = product, .serial = serial,
				    .revision = revision, .write_protect = true };
	char err[512] = "";
	uint64_t ids[3];
	struct tt_list *n;
	int i = 0;
	(void)state;

	snprintf(vendor, sizeof(vendor), "ACME");
	snprintf(product, sizeof(product), "SUPERDISK");
	snprintf(serial, sizeof(serial), "SN0001");
	snprintf(revision, sizeof(revision), "1.2");
	assert_int_equal(tt_target_lun_add(t, 3, "ram:16M", &opts, err, sizeof(err)), 0);
	/* the caller's strings go away */
	memset(vendor, 'X', sizeof(vendor) - 1);
	memset(product, 'X', sizeof(product) - 1);
	memset(serial, 'X', sizeof(serial) - 1);
	memset(revision, 'X', sizeof(revision) - 1);

	tl = tt_list_first(&t->luns, struct tt_target_lun, node);
	assert_non_null(tl);
	assert_int_equal(tl->id, 3);
	assert_string_equal(tl->backend, "ram:16M");
	assert_string_equal(tl->opts.vendor, "ACME");
	assert_string_equal(tl->opts.product, "SUPERDISK");
	assert_string_equal(tl->opts.serial, "SN0001");
	assert_string_equal(tl->opts.revision, "1.2");
	assert_true(tl->opts.write_protect);
	assert_string_equal(tl->lun->vendor, "ACME");
	assert_true(tl->lun->write_protect);
	assert_int_equal(tl->lun->bdev->size, 16u << 20);
	assert_int_equal(tl->lun->id, 3);

	assert_int_equal(tt_target_lun_add(t, 3, "ram:16M", NULL, err, sizeof(err)), -EEXIST);
	assert_string_equal(err, "target " T1 ": LUN 3 already exists");
	assert_int_equal(tt_target_lun_add(t, 16384, "ram:16M", NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "16384"));
	assert_int_equal(tt_target_lun_add(t, 4, "foo:1G", NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "LUN 4"));
	assert_non_null(strstr(err, "foo"));
	assert_int_equal(tt_target_lun_add(t, 4, "", NULL, err, sizeof(err)), -EINVAL);
	opts = (struct tt_lun_opts){ .vendor = "TOOLONGVENDOR" };
	assert_int_equal(tt_target_lun_add(t, 4, "ram:1M", &opts, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "TOOLONGVENDOR"));

	/* defaults, ordering, the highest id */
	assert_int_equal(tt_target_lun_add(t, 16383, "null:1G", NULL, err, sizeof(err)), 0);
	assert_int_equal(tt_target_lun_add(t, 0, "ram:1M", NULL, err, sizeof(err)), 0);
	tt_list_for_each(n, &t->luns)
		ids[i++] = tt_list_entry(n, struct tt_target_lun, node)->id;
	assert_int_equal(i, 3);
	assert_int_equal(ids[0], 0);
	assert_int_equal(ids[1], 3);
	assert_int_equal(ids[2], 16383);
	tl = tt_list_first(&t->luns, struct tt_target_lun, node);
	assert_null(tl->opts.vendor);
	assert_null(tl->opts.revision);

	/* a reference outlives the map entry */
	tt_model_lock();
	lun = tt_target_lun_get(t, 3);
	assert_null(tt_target_lun_get(t, 4));
	tt_model_unlock();
	assert_non_null(lun);
	assert_int_equal(lun->refs, 2);
	assert_int_equal(tt_target_lun_remove(t, 3, err, sizeof(err)), 0);
	assert_int_equal(lun->refs, 1);
	assert_string_equal(lun->vendor, "ACME");
	tt_lun_put(lun);
	assert_int_equal(tt_target_lun_remove(t, 3, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "LUN 3"));
	del_target(T1); /* drops LUNs 0 and 16383 */
}

/* ---- ACLs ---------------------------------------------------------------------------------------- */

static void test_acls(void **state)
{
	struct tt_target *t = mk_target(T1);
	struct tt_acl_chap chap = { 0 };
	struct tt_acl *a;
	char err[512] = "";
	(void)state;

	assert_int_equal(tt_acl_add(t, INI, NULL, err, sizeof(err)), 0);
	a = tt_acl_find(t, INI);
	assert_non_null(a);
	assert_string_equal(a->chap.user, "");
	assert_int_equal(tt_acl_add(t, INI, NULL, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, INI));
	assert_int_equal(tt_acl_add(t, "Iqn.bad", NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "Iqn.bad"));
	assert_non_null(strstr(err, "initiator"));

	snprintf(chap.user, sizeof(chap.user), "alice");
	snprintf(chap.secret, sizeof(chap.secret), "short");
	assert_int_equal(tt_acl_add(t, "iqn.2026-11.org.x:b", &chap, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "12"));
	assert_non_null(strstr(err, "alice"));
	snprintf(chap.secret, sizeof(chap.secret), "twelve-bytes");
	snprintf(chap.mutual_user, sizeof(chap.mutual_user), "target");
	snprintf(chap.mutual_secret, sizeof(chap.mutual_secret), "twelve-bytes");
	assert_int_equal(tt_acl_add(t, "iqn.2026-11.org.x:b", &chap, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "differ"));
	snprintf(chap.mutual_secret, sizeof(chap.mutual_secret), "another-secret");
	assert_int_equal(tt_acl_add(t, "iqn.2026-11.org.x:b", &chap, err, sizeof(err)), 0);
	a = tt_acl_find(t, "iqn.2026-11.org.x:b");
	assert_non_null(a);
	assert_string_equal(a->chap.secret, "twelve-bytes");
	assert_string_equal(a->chap.mutual_user, "target");

	chap = (struct tt_acl_chap){ 0 };
	snprintf(chap.secret, sizeof(chap.secret), "a-secret-without-user");
	assert_int_equal(tt_acl_add(t, "iqn.2026-11.org.x:c", &chap, err, sizeof(err)), -EINVAL);

	assert_int_equal(tt_acl_remove(t, INI, err, sizeof(err)), 0);
	assert_null(tt_acl_find(t, INI));
	assert_int_equal(tt_acl_remove(t, INI, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, INI));
	del_target(T1); /* frees the remaining ACL */
}

/* SRP initiator port identifiers as ACL names, and the login decision of a TPG. */
static void test_acls_srp(void **state)
{
	static const char srp_a[] = "0xfe800000000000000200000000000001";
	static const char srp_b[] = "0xfe800000000000000200000000000002";
	struct tt_target *t = mk_target(T1);
	struct tt_acl_chap chap = { 0 };
	struct tt_tpg *g = mk_tpg(t, 1);
	char err[512] = "";
	(void)state;

	/* no ACL: anyone, SRP ports included */
	assert_true(g->allow_any_initiator);
	assert_true(tt_tpg_initiator_allowed(g, srp_a));

	assert_int_equal(tt_acl_add(t, srp_a, NULL, err, sizeof(err)), 0);
	assert_non_null(tt_acl_find(t, srp_a));
	assert_int_equal(tt_acl_add(t, srp_a, NULL, err, sizeof(err)), -EEXIST);
	/* the SCSI core's form only: lowercase, 0x, 32 digits */
	assert_int_equal(tt_acl_add(t, "0xFE800000000000000200000000000001", NULL, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "SRP initiator port identifier"));
	assert_int_equal(tt_acl_add(t, "0xfe80000000000000020000000000001", NULL, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(tt_acl_add(t, "0xfe8000000000000002000000000000011", NULL, err,
				    sizeof(err)), -EINVAL);
	assert_int_equal(tt_acl_add(t, "fe800000000000000200000000000001", NULL, err, sizeof(err)),
			 -EINVAL);
	snprintf(chap.user, sizeof(chap.user), "alice");
	snprintf(chap.secret, sizeof(chap.secret), "twelve-bytes");
	assert_int_equal(tt_acl_add(t, srp_b, &chap, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "CHAP"));
	assert_null(tt_acl_find(t, srp_b));

	/* the TPG made when the target had no ACL still lets anyone in; a restricted one not */
	assert_true(tt_tpg_initiator_allowed(g, srp_b));
	g->allow_any_initiator = false;
	tt_model_lock();
	assert_true(tt_tpg_initiator_allowed(g, srp_a));
	assert_false(tt_tpg_initiator_allowed(g, srp_b));
	assert_false(tt_tpg_initiator_allowed(g, srp_a + 2)); /* the bare digits are another name */
	tt_model_unlock();
	assert_int_equal(tt_acl_add(t, srp_b, NULL, err, sizeof(err)), 0);
	assert_true(tt_tpg_initiator_allowed(g, srp_b));
	assert_int_equal(tt_acl_remove(t, srp_a, err, sizeof(err)), 0);
	assert_false(tt_tpg_initiator_allowed(g, srp_a));
	del_target(T1);
}

/* ---- portals ------------------------------------------------------------------------------------ */

static void test_portal_listen(void **state)
{
	struct tt_target *t1 = mk_target(T1), *t2 = mk_target(T2);
	struct tt_tpg *g1 = mk_tpg(t1, 1), *g2 = mk_tpg(t2, 2);
	uint16_t port = free_port();
	struct tt_portal *p = NULL;
	char addr[64], other[64], err[512] = "", want[512];
	(void)state;

	snprintf(addr, sizeof(addr), "127.0.0.1:%u", port);
	assert_int_equal(tt_portal_add(g1, addr, &p, err, sizeof(err)), 0);
	assert_non_null(p);
	assert_int_equal(pstate(p), TT_LISTENER_LISTENING);
	assert_string_equal(tt_portal_state(p), "listening");
	assert_int_equal(tt_portal_error(p), 0);
	assert_string_equal(p->addr_str, addr);
	assert_string_equal(p->listener->ops->name, "tcp");
	assert_ptr_equal(p->tpg, g1);
	assert_non_null(p->listener);
	assert_true(can_connect("127.0.0.1", port));

	/* another target shares the address: one listener, two users */
	struct tt_portal *p2 = NULL;

	assert_int_equal(tt_portal_add(g2, addr, &p2, err, sizeof(err)), 0);
	assert_ptr_equal(p2->listener, p->listener);
	assert_int_equal(p->listener->users, 2);
	/* but a target has one TPG on an address */
	assert_int_equal(tt_portal_add(g1, addr, NULL, err, sizeof(err)), -EADDRINUSE);
	snprintf(want, sizeof(want), "portal %s is already in tpg 1 of target " T1, addr);
	assert_string_equal(err, want);
	/* the second user leaving keeps the listener */
	assert_int_equal(tt_portal_remove(g2, addr, err, sizeof(err)), 0);
	assert_int_equal(p->listener->users, 1);
	assert_true(can_connect("127.0.0.1", port));
	snprintf(other, sizeof(other), "0.0.0.0:%u", port);
	assert_int_equal(tt_portal_add(g2, other, NULL, err, sizeof(err)), -EADDRINUSE);
	assert_non_null(strstr(err, "overlaps"));
	assert_int_equal(tt_portal_add(g2, "1.2.3", NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'1.2.3'"));

	/* the same port on another address is fine */
	assert_int_equal(tt_portal_add(g2, "nvme-tcp://127.0.0.1", NULL, err, sizeof(err)),
			 -EPROTONOSUPPORT);
	assert_non_null(strstr(err, "nvme-tcp://"));
#ifdef TT_HAVE_RDMA
	/* iSER beside TCP on the same port: another transport, another listener (binding until an
	 * RDMA device serves the address) */
	assert_int_equal(tt_portal_add(g2, "iser://127.0.0.1", &p, err, sizeof(err)), 0);
	assert_true(pstate(p) == TT_LISTENER_BINDING || pstate(p) == TT_LISTENER_LISTENING);
	assert_int_equal(tt_portal_remove(g2, "iser://127.0.0.1", err, sizeof(err)), 0);
#else
	assert_int_equal(tt_portal_add(g2, "iser://127.0.0.1", NULL, err, sizeof(err)),
			 -EPROTONOSUPPORT);
	assert_non_null(strstr(err, "iser://"));
#endif
	snprintf(other, sizeof(other), "127.0.0.2:%u", port);
	assert_int_equal(tt_portal_add(g2, other, &p, err, sizeof(err)), 0);
	assert_int_equal(pstate(p), TT_LISTENER_LISTENING);

	assert_int_equal(tt_portal_remove(g1, addr, err, sizeof(err)), 0);
	assert_true(tt_list_empty(&g1->portals));
	assert_false(can_connect("127.0.0.1", port));
	assert_int_equal(tt_portal_remove(g1, addr, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, addr));
	/* the address is free again */
	assert_int_equal(tt_portal_add(g1, addr, &p, err, sizeof(err)), 0);
	assert_int_equal(pstate(p), TT_LISTENER_LISTENING);

	del_target(T1);
	del_target(T2);
	assert_false(can_connect("127.0.0.1", port));
}

/* 192.0.2.1 (TEST-NET-1) is on no host: the portal exists and keeps trying. */
static void test_portal_not_on_host(void **state)
{
	struct tt_target *t = mk_target(T1);
	struct tt_tpg *g = mk_tpg(t, 1);
	struct tt_portal *p = NULL;
	char err[512] = "";
	(void)state;

	assert_int_equal(tt_portal_add(g, "192.0.2.1:3260", &p, err, sizeof(err)), 0);
	assert_non_null(p);
	assert_int_equal(pstate(p), TT_LISTENER_BINDING);
	assert_string_equal(tt_portal_state(p), "binding");
	assert_int_equal(tt_portal_error(p), -EADDRNOTAVAIL);
	assert_null(p->listener->xport_priv);
	assert_true(tt_timer_armed(&p->listener->retry_timer));
	run_for(700);
	assert_int_equal(pstate(p), TT_LISTENER_BINDING);
	assert_int_equal(tt_portal_error(p), -EADDRNOTAVAIL);
	assert_true(tt_timer_armed(&p->listener->retry_timer));
	/* still one per target while it waits */
	assert_int_equal(tt_portal_add(g, "192.0.2.1", NULL, err, sizeof(err)), -EADDRINUSE);
	assert_int_equal(tt_portal_remove(g, "192.0.2.1:3260", err, sizeof(err)), 0);
	del_target(T1);
}

/* Another program holds the port: retried, the error kept, listening once the port is free. */
static void test_portal_port_taken(void **state)
{
	struct tt_target *t = mk_target(T1);
	struct tt_tpg *g = mk_tpg(t, 1);
	uint16_t port = free_port();
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct tt_portal *p = NULL;
	char addr[64], err[512] = "";
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	long ms;
	(void)state;

	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 1), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", port);
	assert_int_equal(tt_portal_add(g, addr, &p, err, sizeof(err)), 0);
	assert_int_equal(pstate(p), TT_LISTENER_BINDING);
	assert_int_equal(tt_portal_error(p), -EADDRINUSE);
	run_for(300);
	assert_int_equal(pstate(p), TT_LISTENER_BINDING);
	close(fd);
	ms = run_until(is_listening, p, 1000);
	assert_true(ms >= 0);
	assert_int_equal(tt_portal_error(p), 0);
	assert_true(can_connect("127.0.0.1", port));
	del_target(T1);
}

/* The address appears, vanishes and comes back: the listener follows within a second. */
static void test_portal_address_comes_and_goes(void **state)
{
	struct tt_target *t;
	struct tt_tpg *g;
	struct tt_portal *p = NULL;
	uint16_t port;
	char addr[64], err[512] = "";
	long ms;
	(void)state;

	if (!own_netns)
		tt_skip("no network namespace of our own (unshare(CLONE_NEWNET) needs root) or "
			"no ip(8)");
	t = mk_target(T1);
	g = mk_tpg(t, 1);
	port = free_port();
	snprintf(addr, sizeof(addr), "192.0.2.1:%u", port);
	assert_int_equal(tt_portal_add(g, addr, &p, err, sizeof(err)), 0);
	assert_int_equal(pstate(p), TT_LISTENER_BINDING);

	for (int round = 0; round < 2; round++) {
		assert_int_equal(sh("ip addr add 192.0.2.1/32 dev lo"), 0);
		ms = run_until(is_listening, p, 1000);
		if (ms < 0)
			fail_msg("round %d: not listening 1 s after the address appeared", round);
		print_message("round %d: listening %ld ms after the address appeared\n", round, ms);
		assert_true(can_connect("192.0.2.1", port));

		assert_int_equal(sh("ip addr del 192.0.2.1/32 dev lo"), 0);
		ms = run_until(is_binding, p, 1000);
		if (ms < 0)
			fail_msg("round %d: listener kept 1 s after the address vanished", round);
		print_message("round %d: binding %ld ms after the address vanished\n", round, ms);
		assert_null(p->listener->xport_priv);
		assert_int_equal(tt_portal_error(p), -EADDRNOTAVAIL);
		assert_true(tt_timer_armed(&p->listener->retry_timer));
	}
	del_target(T1);
}

/* A target with everything in it goes in one call; nothing leaks (LeakSanitizer). */
static void test_delete_everything(void **state)
{
	struct tt_target *t = mk_target(T1);
	struct tt_tpg *g1 = mk_tpg(t, 1), *g2 = mk_tpg(t, 2);
	uint16_t port = free_port();
	char addr[64], err[512] = "";
	(void)state;

	snprintf(addr, sizeof(addr), "127.0.0.1:%u", port);
	assert_int_equal(tt_portal_add(g1, addr, NULL, err, sizeof(err)), 0);
	assert_int_equal(tt_portal_add(g1, "192.0.2.1:3260", NULL, err, sizeof(err)), 0);
	assert_int_equal(tt_portal_add(g2, "192.0.2.2:3260", NULL, err, sizeof(err)), 0);
	assert_int_equal(tt_portal_remove(g2, "192.0.2.2:3260", err, sizeof(err)), 0);
	assert_int_equal(tt_target_lun_add(t, 0, "ram:16M", NULL, err, sizeof(err)), 0);
	assert_int_equal(tt_target_lun_add(t, 1, "ram:16M", NULL, err, sizeof(err)), 0);
	assert_int_equal(tt_acl_add(t, INI, NULL, err, sizeof(err)), 0);
	assert_int_equal(tt_tpg_delete(t, 2, err, sizeof(err)), 0);
	assert_true(can_connect("127.0.0.1", port));
	tt_model_clear();
	assert_true(tt_list_empty(tt_model_targets()));
	assert_false(can_connect("127.0.0.1", port));
	run_for(300); /* no retry timer left behind */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_addr_equal),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_tpgs),
		cmocka_unit_test(test_luns),
		cmocka_unit_test(test_acls),
		cmocka_unit_test(test_acls_srp),
		cmocka_unit_test(test_portal_listen),
		cmocka_unit_test(test_portal_not_on_host),
		cmocka_unit_test(test_portal_port_taken),
		cmocka_unit_test(test_portal_address_comes_and_goes),
		cmocka_unit_test(test_delete_everything),
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
	if (tt_loops_start(1) != 0 || tt_iscsi_target_init() != 0) {
		fprintf(stderr, "cannot start a loop\n");
		return 1;
	}
	rc = tt_run_group("model_test", tests, NULL, NULL);
	tt_model_clear();
	tt_iscsi_target_fini();
	tt_loops_shutdown();
	return rc;
}
