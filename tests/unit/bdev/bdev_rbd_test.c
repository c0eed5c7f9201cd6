/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The rbd backend without a cluster: bad specs name the part at fault, a configuration that
 * cannot be read is refused, and a monitor that does not answer fails the open within the
 * spec's timeout. (I/O on a real cluster: tests/interop/rbd_basic.sh, rbd_conformance.sh.)
 */
#include "bdev_util.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

static bool rbd_built(void)
{
	struct tt_bdev *b = NULL;
	char err[256];

	return !(tt_bdev_open("rbd:p/i", &b, err, sizeof(err)) == -EOPNOTSUPP &&
		 strstr(err, "built without librbd"));
}

static void expect_error(const char *spec, const char *msg)
{
	struct tt_bdev *b = NULL;
	char err[512] = "";
	int rc = tt_bdev_open(spec, &b, err, sizeof(err));

	if (rc >= 0 || !strstr(err, msg))
		fail_msg("%s: rc %d, message '%s' (want '%s')", spec, rc, err, msg);
	assert_null(b);
}

static void test_spec_errors(void **state)
{
	(void)state;
	if (!rbd_built()) {
		expect_error("rbd:p/i", "rbd: this tetherd was built without librbd");
		tt_skip("built without librbd (librbd-dev)");
	}
	expect_error("rbd:", "rbd: missing POOL/IMAGE");
	expect_error("rbd:img", "rbd: 'img' is not POOL/IMAGE");
	expect_error("rbd:/img", "rbd: '/img' is not POOL/IMAGE");
	expect_error("rbd:pool/", "rbd: 'pool/' is not POOL/IMAGE");
	expect_error("rbd:a/b/c", "rbd: 'a/b/c' is not POOL/IMAGE");
	expect_error("rbd:p/i,cache=on", "rbd: unknown option 'cache'");
	expect_error("rbd:p/i,timeout=0", "rbd: bad timeout '0'");
	expect_error("rbd:p/i,timeout=9999", "rbd: bad timeout '9999'");
	expect_error("rbd:p/i,timeout=3s", "rbd: bad timeout '3s'");
	expect_error("rbd:p/i,bs=1024", "rbd: bad block size '1024'");
	expect_error("rbd:p/i,conf=/nonexistent/ceph.conf",
		     "rbd: conf '/nonexistent/ceph.conf': cannot read it");
}

/* A monitor address where nothing listens: the open fails after the timeout, not later. */
static void test_unreachable_monitor(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	char dir[] = "/tmp/tt-rbd-test.XXXXXX", conf[128], spec[256];
	struct tt_bdev *b = NULL;
	char err[512] = "";
	uint64_t t0;
	FILE *f;
	int fd, rc;

	(void)state;
	if (!rbd_built())
		tt_skip("built without librbd (librbd-dev)");
	/* a port that was free a moment ago */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	close(fd);
	assert_non_null(mkdtemp(dir));
	snprintf(conf, sizeof(conf), "%s/ceph.conf", dir);
	f = fopen(conf, "w");
	assert_non_null(f);
	fprintf(f, "[global]\nmon host = v2:127.0.0.1:%u\nauth client required = none\n"
		"auth cluster required = none\nauth service required = none\n"
		"ms bind ipv6 = false\nlog file = /dev/null\nadmin socket =\n",
		ntohs(sa.sin_port));
	fclose(f);
	snprintf(spec, sizeof(spec), "rbd:p/i,conf=%s,timeout=1", conf);
	t0 = tt_now_ns();
	rc = tt_bdev_open(spec, &b, err, sizeof(err));
	assert_true(rc < 0);
	assert_null(b);
	if (!strstr(err, "cannot connect to the cluster within 1 s"))
		fail_msg("message: %s", err);
	/* 1 s of timeout, with room for a loaded machine */
	assert_true(tt_now_ns() - t0 < 10 * TT_NS_PER_SEC);
	unlink(conf);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_errors),
		cmocka_unit_test(test_unreachable_monitor),
	};

	return tt_run_group("bdev_rbd_test", tests, NULL, NULL);
}
