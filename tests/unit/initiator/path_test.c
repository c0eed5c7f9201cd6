/* SPDX-License-Identifier: BSD-3-Clause */
/* A path's lifecycle driven for real (ti_path_set_state and its side effects) on a loop with the
 * fake clock: a portal that refuses connections makes the path go CONNECTING -> RECOVERING ->
 * CONNECTING ... with the reconnect delays doubling, until path_loss_timeout_ms gives it up
 * (DELETING -> DEAD); the device's no-path timer fails queued I/O with EIO once. */
#include "tt_test.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "initiator/initiator.h"

/* A TCP port on 127.0.0.1 with nothing listening (bound, never listened: refused). */
static int refused_port(int *fd)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);

	*fd = socket(AF_INET, SOCK_STREAM, 0);
	if (*fd < 0 || bind(*fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(*fd, (struct sockaddr *)&a, &len))
		return -1;
	return ntohs(a.sin_port);
}

static struct tether_dev *dev_new(void)
{
	struct tether_dev *dev;

	assert_int_equal(ti_dev_create(&dev, NULL), 0);
	dev->opts.log_level = -1;
	return dev;
}

/* Runs the loop until nothing is ready now (fake time stands still). */
static void settle(struct tether_dev *dev)
{
	for (int i = 0; i < 50; i++) {
		tt_loop_run_once(dev->loop, 0);
		usleep(1000);   /* let the kernel report the refused connect */
	}
}

static void test_reconnect_backoff_and_loss(void **state)
{
	struct tether_dev *dev;
	struct ti_path *p;
	char url[128], err[256];
	int fd, port = refused_port(&fd);
	static const uint64_t delays[] = { 200, 400, 800, 1600 };

	(void)state;
	assert_true(port > 0);
	tt_clock_fake(5000 * TT_NS_PER_SEC);
	dev = dev_new();
	dev->opts.path_loss_timeout_ms = 2500;
	snprintf(url, sizeof(url), "iscsi://127.0.0.1:%d/iqn.2026-11.org.tether:t/0", port);
	assert_int_equal(ti_path_add(dev, url, err, sizeof(err)), 0);
	p = dev->paths[0];
	assert_int_equal(p->state, TI_PATH_CONNECTING);
	for (unsigned a = 0; a < 4; a++) {
		settle(dev);
		assert_int_equal(p->state, TI_PATH_RECOVERING);
		assert_true(tt_timer_armed(&p->state_timer));
		/* one millisecond early: still waiting */
		tt_clock_advance((delays[a] - 1) * TT_NS_PER_MS);
		settle(dev);
		if (p->state != TI_PATH_RECOVERING)
			fail_msg("attempt %u: left RECOVERING before %llu ms", a,
				 (unsigned long long)delays[a]);
		tt_clock_advance(TT_NS_PER_MS);
		tt_loop_run_once(dev->loop, 0);
		if (a < 3) {
			/* 0.2 + 0.4 + 0.8 = 1.4 s < 2.5 s: tried again */
			assert_int_equal(p->state, TI_PATH_CONNECTING);
		} else {
			/* 0.2 + ... + 1.6 = 3.0 s > 2.5 s: given up */
			assert_int_equal(p->state, TI_PATH_DEAD);
		}
	}
	assert_int_equal(p->failures, 0);   /* it was never live */
	ti_dev_destroy(dev);
	close(fd);
	tt_clock_real();
}

static int calls, last_status;

static void cb(struct tether_dev *d, int status, void *arg)
{
	(void)d;
	(void)arg;
	calls++;
	last_status = status;
}

static void test_no_path_timeout(void **state)
{
	struct tether_dev *dev;
	struct ti_req *r;
	char url[128], err[256];
	int fd, port = refused_port(&fd);

	(void)state;
	tt_clock_fake(9000 * TT_NS_PER_SEC);
	dev = dev_new();
	dev->opts.no_path_timeout_ms = 3000;
	snprintf(url, sizeof(url), "iscsi://127.0.0.1:%d/iqn.2026-11.org.tether:t/0", port);
	assert_int_equal(ti_path_add(dev, url, err, sizeof(err)), 0);
	dev->block_size = 512;
	dev->blocks = 1024;
	/* a command queued with no usable path waits ... */
	r = calloc(1, sizeof(*r));
	assert_non_null(r);
	r->cdb[0] = 0x35;
	r->cdb_len = 10;
	r->cb = cb;
	assert_int_equal(ti_dev_submit(dev, r), 0);
	settle(dev);
	assert_int_equal(calls, 0);
	tt_clock_advance(2999 * TT_NS_PER_MS);
	settle(dev);
	assert_int_equal(calls, 0);
	assert_false(dev->nopath_expired);
	/* ... no_path_timeout_ms, then fails with EIO */
	tt_clock_advance(TT_NS_PER_MS);
	settle(dev);
	assert_int_equal(calls, 1);
	assert_int_equal(last_status, -EIO);
	assert_true(dev->nopath_expired);
	assert_non_null(strstr(dev->errmsg, "no live path for 3000 ms"));
	/* new I/O now fails at once (from the loop, not from the submitting call) */
	r = calloc(1, sizeof(*r));
	assert_non_null(r);
	r->cdb[0] = 0x35;
	r->cdb_len = 10;
	r->cb = cb;
	assert_int_equal(ti_dev_submit(dev, r), 0);
	assert_int_equal(calls, 1);
	tt_loop_run_once(dev->loop, 0);
	assert_int_equal(calls, 2);
	assert_int_equal(last_status, -EIO);
	/* the device is still there, its path still trying */
	assert_int_not_equal(dev->paths[0]->state, TI_PATH_DEAD);
	ti_dev_destroy(dev);
	close(fd);
	tt_clock_real();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reconnect_backoff_and_loss),
		cmocka_unit_test(test_no_path_timeout),
	};

	return tt_run_group("path_test", tests, NULL, NULL);
}
