/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nbdkit-tether-plugin: serves a logical unit reached through libtether (one or more iSCSI
 * paths) over NBD.
 *
 *	nbdkit tether url=iscsi://h1/iqn.../0 url=iscsi://h2/iqn.../0 [NAME=VALUE...] [control=PATH]
 *
 * Any key other than url and control is a libtether option (docs/libtether.md).
 *
 * libtether is thread-compatible, not thread-safe, so one thread of the plugin owns the device:
 * it runs a poll loop over the device's fd, an eventfd and the control socket. nbdkit's threads
 * (thread model PARALLEL) queue their requests, wake it through the eventfd and wait on a
 * condition variable that the completion signals; the owner thread submits them asynchronously,
 * so many are outstanding at once.
 */
#define NBDKIT_API_VERSION 2
#include <errno.h>
#include <inttypes.h>
#include <nbdkit-plugin.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bio.h"
#include "ctl.h"
#include "tool.h"

#define PROG "tether"

/* One NBD request, from the nbdkit thread that waits for it to the owner thread and back. */
struct preq {
	struct bio_req r;
	struct preq *next;
	pthread_cond_t cond;
	bool done;
	int status;
};

static struct {
	struct tool_dev_args args;
	struct tether_dev *dev;
	struct bio *bio;
	struct ctl *ctl;
	int efd;
	pthread_t owner;
	bool owner_started;
	pthread_mutex_t lock;       /* queue, stop, and each request's done/status */
	struct preq *head, *tail;   /* queued, not yet taken by the owner */
	bool stop;
} tp = { .efd = -1, .lock = PTHREAD_MUTEX_INITIALIZER };

static int tp_config(const char *key, const char *value)
{
	if (strcmp(key, "url") == 0)
		return tool_add_url(&tp.args, PROG, value) < 0 ? -1 : 0;
	if (strcmp(key, "control") == 0) {
		tp.args.control = nbdkit_strdup_intern(value);
		return tp.args.control ? 0 : -1;
	}
	{
		char nv[1024];

		if ((size_t)snprintf(nv, sizeof(nv), "%s=%s", key, value) >= sizeof(nv)) {
			nbdkit_error("%s=...: value too long", key);
			return -1;
		}
		if (tool_set_opt(&tp.args, PROG, nv) < 0) {
			nbdkit_error("%s: not a libtether option, or a bad value", key);
			return -1;
		}
	}
	return 0;
}

static int tp_config_complete(void)
{
	if (tp.args.nurls == 0) {
		nbdkit_error("at least one url=iscsi://HOST[:PORT]/TARGET/LUN is needed");
		return -1;
	}
	return 0;
}

static int tp_get_ready(void)
{
	int rc;

	if (tool_open(&tp.args, PROG, &tp.dev) < 0) {
		nbdkit_error("cannot open %s", tp.args.urls[0]);
		return -1;
	}
	rc = bio_new(&tp.bio, tp.dev);
	if (rc == 0) {
		tp.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (tp.efd < 0)
			rc = -errno;
	}
	if (rc < 0) {
		nbdkit_error("%s", strerror(-rc));
		return -1;
	}
	nbdkit_debug("tether: %s, %" PRIu64 " bytes, %d paths", tether_lu_id(tp.dev),
		     tether_size(tp.dev), tether_path_count(tp.dev));
	return 0;
}

static void req_done(struct bio_req *r, int status)
{
	struct preq *q = r->arg;

	pthread_mutex_lock(&tp.lock);
	q->status = status;
	q->done = true;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&tp.lock);
}

static void *owner_main(void *arg)
{
	bool stop = false;

	(void)arg;
	while (!stop || bio_inflight(tp.bio)) {
		struct pollfd pfd[2 + CTL_MAX_FDS];
		struct preq *q;
		uint64_t v;
		int n = 0, nctl, rc;

		pfd[n++] = (struct pollfd){ .fd = tether_fd(tp.dev),
					    .events = (short)tether_events(tp.dev) };
		pfd[n++] = (struct pollfd){ .fd = tp.efd, .events = POLLIN };
		nctl = ctl_pollfds(tp.ctl, &pfd[n]);
		if (poll(pfd, (nfds_t)(n + nctl), tether_timeout_ms(tp.dev)) < 0 && errno != EINTR) {
			nbdkit_error("poll: %m");
			break;
		}
		if (read(tp.efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			nbdkit_error("eventfd: %m");
		pthread_mutex_lock(&tp.lock);
		q = tp.head;
		tp.head = tp.tail = NULL;
		stop = tp.stop;
		pthread_mutex_unlock(&tp.lock);
		while (q) {
			struct preq *next = q->next;

			bio_submit(tp.bio, &q->r);
			q = next;
		}
		rc = tether_service(tp.dev);
		if (rc < 0) {
			nbdkit_error("the device failed: %s (%s)", strerror(-rc), tether_errmsg(tp.dev));
			break;
		}
		ctl_service(tp.ctl, &pfd[n], nctl);
	}
	return NULL;
}

static int tp_after_fork(void)
{
	char err[512] = "";
	int rc;

	/* the socket is made after nbdkit forked, so that it names the serving process */
	rc = ctl_open(&tp.ctl, tp.args.control, "nbdkit", tp.dev, err, sizeof(err));
	if (rc < 0) {
		nbdkit_error("%s", err);
		return -1;
	}
	rc = pthread_create(&tp.owner, NULL, owner_main, NULL);
	if (rc) {
		nbdkit_error("pthread_create: %s", strerror(rc));
		return -1;
	}
	tp.owner_started = true;
	return 0;
}

static void tp_cleanup(void)
{
	uint64_t one = 1;

	if (tp.owner_started) {
		pthread_mutex_lock(&tp.lock);
		tp.stop = true;
		pthread_mutex_unlock(&tp.lock);
		if (write(tp.efd, &one, sizeof(one)) < 0)
			nbdkit_error("eventfd: %m");
		pthread_join(tp.owner, NULL);
	}
	ctl_close(tp.ctl);
	if (tp.dev)
		tether_close(tp.dev);
	bio_free(tp.bio);
	if (tp.efd >= 0)
		close(tp.efd);
	tool_args_free(&tp.args);
}

/* Hands a request to the owner thread and waits for it; 0 or -1 with the error set. */
static int run_req(enum bio_op op, void *buf, uint32_t count, uint64_t offset, uint32_t flags)
{
	struct preq q = { .r = { .op = op, .off = offset, .len = count, .buf = buf,
				 .may_trim = flags & NBDKIT_FLAG_MAY_TRIM, .done = req_done } };
	uint64_t one = 1;

	q.r.arg = &q;
	pthread_cond_init(&q.cond, NULL);
	pthread_mutex_lock(&tp.lock);
	if (tp.tail)
		tp.tail->next = &q;
	else
		tp.head = &q;
	tp.tail = &q;
	pthread_mutex_unlock(&tp.lock);
	if (write(tp.efd, &one, sizeof(one)) < 0 && errno != EAGAIN) {
		nbdkit_error("eventfd: %m"); /* the owner still takes it at its next wake-up */
	}
	pthread_mutex_lock(&tp.lock);
	while (!q.done)
		pthread_cond_wait(&q.cond, &tp.lock);
	pthread_mutex_unlock(&tp.lock);
	pthread_cond_destroy(&q.cond);
	if (q.status < 0) {
		nbdkit_error("%s at %" PRIu64 " (%" PRIu32 " bytes): %s",
			     op == BIO_READ ? "read" : op == BIO_WRITE ? "write" : op == BIO_FLUSH ?
			     "flush" : op == BIO_TRIM ? "trim" : "zero", offset, count,
			     strerror(-q.status));
		nbdkit_set_error(-q.status);
		return -1;
	}
	return 0;
}

static void *tp_open(int readonly)
{
	(void)readonly;
	return NBDKIT_HANDLE_NOT_NEEDED;
}

static int64_t tp_get_size(void *h)
{
	(void)h;
	return (int64_t)tether_size(tp.dev);
}

static int tp_block_size(void *h, uint32_t *minimum, uint32_t *preferred, uint32_t *maximum)
{
	uint32_t lbs = tether_block_size(tp.dev);

	(void)h;
	*minimum = 1; /* unaligned requests are read-modify-written (bio.h) */
	*preferred = lbs > 4096 ? lbs : 4096;
	*maximum = 0xffffffffu;
	return 0;
}

static int tp_can_true(void *h)
{
	(void)h;
	return 1;
}

static int tp_can_fua(void *h)
{
	(void)h;
	return NBDKIT_FUA_EMULATE;
}

static int tp_pread(void *h, void *buf, uint32_t count, uint64_t offset, uint32_t flags)
{
	(void)h;
	return run_req(BIO_READ, buf, count, offset, flags);
}

static int tp_pwrite(void *h, const void *buf, uint32_t count, uint64_t offset, uint32_t flags)
{
	(void)h;
	return run_req(BIO_WRITE, (void *)buf, count, offset, flags);
}

static int tp_flush(void *h, uint32_t flags)
{
	(void)h;
	return run_req(BIO_FLUSH, NULL, 0, 0, flags);
}

static int tp_trim(void *h, uint32_t count, uint64_t offset, uint32_t flags)
{
	int rc;

	(void)h;
	rc = run_req(BIO_TRIM, NULL, count, offset, flags);
	if (rc < 0 && errno == EOPNOTSUPP)
		return 0; /* a trim is advisory */
	return rc;
}

static int tp_zero(void *h, uint32_t count, uint64_t offset, uint32_t flags)
{
	(void)h;
	return run_req(BIO_ZERO, NULL, count, offset, flags);
}

static struct nbdkit_plugin plugin = {
	.name = "tether",
	.longname = "tether: iSCSI with multipath (libtether)",
	.version = "0.1.0",
	.description = "Serves an iSCSI logical unit reached through one or more paths",
	.config = tp_config,
	.config_complete = tp_config_complete,
	.config_help = "url=iscsi://HOST[:PORT]/TARGET/LUN  (required; repeat for more paths)\n"
		       "control=PATH|none                  control socket (tether paths)\n"
		       "NAME=VALUE                         any libtether option",
	.magic_config_key = "url",
	.get_ready = tp_get_ready,
	.after_fork = tp_after_fork,
	.cleanup = tp_cleanup,
	.open = tp_open,
	.get_size = tp_get_size,
	.block_size = tp_block_size,
	.can_write = tp_can_true,
	.can_flush = tp_can_true,
	.can_trim = tp_can_true,
	.can_zero = tp_can_true,
	.can_multi_conn = tp_can_true,
	.can_fua = tp_can_fua,
	.pread = tp_pread,
	.pwrite = tp_pwrite,
	.flush = tp_flush,
	.trim = tp_trim,
	.zero = tp_zero,
	.errno_is_preserved = 0,
};

#define THREAD_MODEL NBDKIT_THREAD_MODEL_PARALLEL
NBDKIT_REGISTER_PLUGIN(plugin)
