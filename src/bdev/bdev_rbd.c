/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RBD backend: a Ceph RADOS block device image through librbd, asynchronous calls only.
 *
 * Spec: rbd:POOL/IMAGE[,conf=PATH][,id=USER][,timeout=SECONDS][,bs=4096][,ro]
 *
 * Opening connects to the cluster (bounded: the timeout is librados' client_mount_timeout, and
 * also its monitor and OSD operation timeouts, so that a stalled cluster fails I/Os with
 * -ETIMEDOUT instead of holding them forever), opens the image and registers an update watch.
 * It runs where the configuration is applied (tetherd's start, or loop 0 for a LUN added at
 * run time) and takes at most about the timeout when the cluster does not answer.
 *
 * I/O: every request is one librbd aio call made on the submitting loop's thread; librbd calls
 * the completion back on one of its own threads, which hands the result to the owning loop
 * (tt_bdev_io_complete sends a message, waking the loop's eventfd). A write with FUA is
 * followed by a flush, issued from the loop again. Nothing on a loop thread waits for the
 * cluster.
 *
 *   READ, WRITE             rbd_aio_readv / rbd_aio_writev on the caller's iovecs (no copy)
 *   FLUSH                   rbd_aio_flush
 *   UNMAP                   rbd_aio_discard (partial discards zero their bytes: the image is
 *                           configured with rbd_skip_partial_discard false)
 *   WRITE_ZEROES            rbd_aio_write_zeroes
 *   WRITE_SAME              rbd_aio_writesame
 *   COMPARE_AND_WRITE       rbd_aio_compare_and_write: compared and written by the OSD as one
 *                           operation, atomic towards every other client of the image (other
 *                           gateways too). librbd 16 does it for a range inside one 512-byte
 *                           sector only (anything else fails with -EINVAL): offered for 512-byte
 *                           blocks, one block at most (compare_and_write_max), so that the SCSI
 *                           core reports a MAXIMUM COMPARE AND WRITE LENGTH of 1; another range
 *                           gets -EOPNOTSUPP (the core would compare and write itself, atomic
 *                           towards this host only)
 *
 * The client-side cache is off (rbd_cache false): with two gateways serving one image, a cache
 * in either would return stale data. Writes are durable when librbd completes them.
 *
 * Size: librbd's update watch tells of header changes (a resize by `rbd resize`); the watch's
 * callback only wakes this backend's thread, which reads the size (rbd_get_size may wait for a
 * refresh of the header, so it never runs on a librbd callback thread nor on a loop) and
 * publishes it with tt_bdev_set_size.
 *
 * Identity (tt_bdev_identity): "rbd:<cluster fsid>/<pool id>/<image id>", the same on every
 * host that opens the image, and unchanged by renaming the image.
 *
 * Lifetime: the backend's references are those of tt_bdev (bdev.h); each request in librbd holds
 * one through its tt_bdev_io. destroy() stops the size thread, removes the watch, closes the
 * image and drops its hold on the cluster connection, which images opened with the same conf,
 * id and timeout share (struct rbd_cluster); the last holder shuts it down.
 */
#include "bdev/bdev_impl.h"
#include "base/log.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rados/librados.h>
#include <rbd/librbd.h>

#define RBD_TIMEOUT_DEFAULT 30 /* seconds */
#define RBD_TIMEOUT_MAX 3600
#define RBD_CAW_SECTOR 512 /* librbd's compare and write stays inside one such sector */

/*
 * One connection to a cluster, shared by the images opened with the same conf, id and timeout
 * (each librados client has its own threads and sessions with every OSD). Holders: each rbd
 * backend that uses it (rbd_cluster_get at open, rbd_cluster_put at destroy); the list holds
 * none. The list and the counts are under clusters_lock.
 */
struct rbd_cluster {
	struct tt_list node;
	char *key;              /* "conf\nid\ntimeout" */
	rados_t rados;
	int refs;
};

static pthread_mutex_t clusters_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tt_list clusters = { &clusters, &clusters };

struct rbd_bdev {
	struct tt_bdev bdev;
	struct rbd_cluster *cluster;
	rados_ioctx_t ioctx;
	rbd_image_t image;
	uint64_t obj_size;      /* bytes per RADOS object of the image */
	char where[256];        /* "POOL/IMAGE", for messages */
	char identity[192];
	char image_id[96];      /* librbd's id of the image: names its shared records */
	unsigned timeout;       /* seconds (the spec's timeout=) */
	bool watching;
	uint64_t watch_handle;
	/* the size thread */
	pthread_t thread;
	bool thread_started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool changed;           /* under lock: the header changed since the size was read */
	bool stop;              /* under lock */
};

enum rbd_stage {
	RBD_MAIN,  /* the operation itself */
	RBD_FLUSH, /* the flush after a write with FUA */
};

struct rbd_req {
	struct tt_bdev_io *io;
	struct rbd_bdev *rb;
	enum rbd_stage stage;
	uint64_t mismatch;      /* COMPARE_AND_WRITE: written by librbd on a miscompare */
	void *bounce;           /* contiguous copy for WRITE_SAME / COMPARE_AND_WRITE */
};

/* ---- completion ---- */

static void req_free(struct rbd_req *req)
{
	free(req->bounce);
	free(req);
}

static void req_finish(struct rbd_req *req, int status)
{
	struct tt_bdev_io *io = req->io;

	if (status == -EILSEQ && io->op == TT_BDEV_COMPARE_AND_WRITE) {
		/* librbd 16 reports the offset from the start of the request; a later one might
		 * report the image offset: either way the same byte */
		uint64_t m = req->mismatch;

		if (m >= io->len && m >= io->offset && m - io->offset < io->len)
			m -= io->offset;
		io->miscompare = m < io->len ? m : 0;
	} else if (status < 0) {
		tt_log_ratelimited(TT_LOG_WARN, "bdev", "rbd %s: op %d at %llu+%llu failed: %s",
				   req->rb->where, io->op, (unsigned long long)io->offset,
				   (unsigned long long)io->len, strerror(-status));
	}
	req_free(req);
	tt_bdev_io_complete(io, status);
}

static void req_flush_step(void *arg);

/* librbd's thread: take the result, release the completion, hand over to the loop. */
static void req_aio_done(rbd_completion_t c, void *arg)
{
	struct rbd_req *req = arg;
	ssize_t ret = rbd_aio_get_return_value(c);

	rbd_aio_release(c);
	if (ret < 0) {
		req_finish(req, ret < -4095 ? -EIO : (int)ret);
		return;
	}
	if (req->stage == RBD_MAIN && req->io->fua &&
	    (req->io->op == TT_BDEV_WRITE || req->io->op == TT_BDEV_COMPARE_AND_WRITE)) {
		req->stage = RBD_FLUSH;
		tt_bdev_send(req->io->loop, req_flush_step, req);
		return;
	}
	req_finish(req, 0);
}

/* ---- submission (on the loop thread) ---- */

static int req_bounce(struct rbd_req *req, const struct tt_bdev_io *io, uint64_t len,
		      const char **buf)
{
	if (io->iovcnt == 1) {
		*buf = io->iov[0].iov_base;
		return 0;
	}
	req->bounce = malloc(len);
	if (!req->bounce)
		return -ENOMEM;
	tt_iov_to_buf(io->iov, io->iovcnt, req->bounce, len);
	*buf = req->bounce;
	return 0;
}

static int req_issue(struct rbd_req *req)
{
	struct tt_bdev_io *io = req->io;
	rbd_image_t img = req->rb->image;
	rbd_completion_t c;
	const char *buf, *cmp;
	ssize_t rc;

	rc = rbd_aio_create_completion(req, req_aio_done, &c);
	if (rc < 0)
		return (int)rc;
	if (req->stage == RBD_FLUSH) {
		rc = rbd_aio_flush(img, c);
		goto out;
	}
	switch (io->op) {
	case TT_BDEV_READ:
		rc = rbd_aio_readv(img, io->iov, io->iovcnt, io->offset, c);
		break;
	case TT_BDEV_WRITE:
		rc = rbd_aio_writev(img, io->iov, io->iovcnt, io->offset, c);
		break;
	case TT_BDEV_FLUSH:
		rc = rbd_aio_flush(img, c);
		break;
	case TT_BDEV_UNMAP:
		rc = rbd_aio_discard(img, io->offset, io->len, c);
		break;
	case TT_BDEV_WRITE_ZEROES:
		rc = rbd_aio_write_zeroes(img, io->offset, io->len, c, 0, 0);
		break;
	case TT_BDEV_WRITE_SAME:
		rc = req_bounce(req, io, req->rb->bdev.block_size, &buf);
		if (rc == 0)
			rc = rbd_aio_writesame(img, io->offset, io->len, buf, req->rb->bdev.block_size,
					       c, 0);
		break;
	case TT_BDEV_COMPARE_AND_WRITE:
		if (io->iovcnt == 2 && io->iov[0].iov_len == io->len) {
			cmp = io->iov[0].iov_base;
			buf = io->iov[1].iov_base;
		} else {
			rc = req_bounce(req, io, 2 * io->len, &cmp);
			if (rc < 0)
				break;
			buf = cmp + io->len;
		}
		rc = rbd_aio_compare_and_write(img, io->offset, io->len, cmp, buf, c, &req->mismatch,
					       0);
		break;
	default:
		rc = -EOPNOTSUPP;
		break;
	}
out:
	if (rc < 0) {
		rbd_aio_release(c);
		return rc < -4095 ? -EIO : (int)rc;
	}
	return 0;
}

static void req_flush_step(void *arg)
{
	struct rbd_req *req = arg;
	int rc = req_issue(req);

	if (rc < 0)
		req_finish(req, rc);
}

static int rbd_submit(struct tt_bdev *bdev, struct tt_bdev_io *io)
{
	struct rbd_bdev *rb = tt_container_of(bdev, struct rbd_bdev, bdev);
	struct rbd_req *req;
	int rc;

	if (io->op == TT_BDEV_COMPARE_AND_WRITE &&
	    (io->offset % RBD_CAW_SECTOR + io->len > RBD_CAW_SECTOR ||
	     io->offset / rb->obj_size != (io->offset + io->len - 1) / rb->obj_size))
		return -EOPNOTSUPP; /* librbd compares and writes within one sector only */
	if ((io->op == TT_BDEV_READ || io->op == TT_BDEV_WRITE) && io->iovcnt > IOV_MAX)
		return -EINVAL;
	req = calloc(1, sizeof(*req));
	if (!req)
		return -ENOMEM;
	req->io = io;
	req->rb = rb;
	req->stage = RBD_MAIN;
	rc = req_issue(req);
	if (rc < 0)
		req_free(req);
	return rc;
}

/* ---- size changes ---- */

/* librbd's thread: the header changed; the size thread reads it. */
static void rbd_updated(void *arg)
{
	struct rbd_bdev *rb = arg;

	pthread_mutex_lock(&rb->lock);
	rb->changed = true;
	pthread_cond_signal(&rb->cond);
	pthread_mutex_unlock(&rb->lock);
}

static void *rbd_size_thread(void *arg)
{
	struct rbd_bdev *rb = arg;
	struct tt_bdev *bdev = &rb->bdev;

	pthread_mutex_lock(&rb->lock);
	for (;;) {
		uint64_t size, old;
		int rc;

		while (!rb->changed && !rb->stop)
			pthread_cond_wait(&rb->cond, &rb->lock);
		if (rb->stop)
			break;
		rb->changed = false;
		pthread_mutex_unlock(&rb->lock);
		rc = rbd_get_size(rb->image, &size);
		old = tt_bdev_size(bdev);
		size -= size % bdev->block_size;
		if (rc < 0)
			tt_warn("bdev", "rbd %s: cannot read the size after a change: %s", rb->where,
				strerror(-rc));
		else if (size != old && size >= bdev->block_size) {
			tt_notice("bdev", "rbd %s: size %llu -> %llu bytes", rb->where,
				  (unsigned long long)old, (unsigned long long)size);
			tt_bdev_set_size(bdev, size);
		}
		pthread_mutex_lock(&rb->lock);
	}
	pthread_mutex_unlock(&rb->lock);
	return NULL;
}

static void rbd_cluster_put(struct rbd_cluster *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&clusters_lock);
	if (--c->refs > 0) {
		pthread_mutex_unlock(&clusters_lock);
		return;
	}
	tt_list_del(&c->node);
	pthread_mutex_unlock(&clusters_lock);
	rados_shutdown(c->rados);
	free(c->key);
	free(c);
}

static int rbd_identity(struct tt_bdev *bdev, char *buf, size_t len)
{
	struct rbd_bdev *rb = tt_container_of(bdev, struct rbd_bdev, bdev);

	if (snprintf(buf, len, "%s", rb->identity) >= (int)len)
		return -ENOSPC;
	return 0;
}

static void rbd_destroy(struct tt_bdev *bdev)
{
	struct rbd_bdev *rb = tt_container_of(bdev, struct rbd_bdev, bdev);

	if (rb->thread_started) {
		pthread_mutex_lock(&rb->lock);
		rb->stop = true;
		pthread_cond_signal(&rb->cond);
		pthread_mutex_unlock(&rb->lock);
		pthread_join(rb->thread, NULL);
	}
	if (rb->watching)
		rbd_update_unwatch(rb->image, rb->watch_handle);
	if (rb->image)
		rbd_close(rb->image);
	if (rb->ioctx)
		rados_ioctx_destroy(rb->ioctx);
	rbd_cluster_put(rb->cluster);
	pthread_cond_destroy(&rb->cond);
	pthread_mutex_destroy(&rb->lock);
	free(rb);
}

/* ---- shared state: a RADOS object next to the image (bdev.h, tt_bdev_shared_ops) ---- */

#define RBD_SHARED_MAX (4u << 20) /* largest record read back */

struct rbd_shared_req {
	struct rbd_bdev *rb;    /* holds a reference of the backend */
	struct tt_loop *loop;   /* where done() runs */
	char oid[160];
	void *arg;
	int status;
	uint64_t version;
	/* load */
	tt_bdev_shared_load_fn load_done;
	char *buf;
	size_t len;
	/* store */
	tt_bdev_shared_store_fn store_done;
	rados_write_op_t op;
	char *msg;              /* "<new version>\n" + the caller's message */
	size_t msglen;
	char *reply;
	size_t reply_len;
};

struct rbd_shared_watch {
	struct rbd_bdev *rb;
	char oid[160];
	uint64_t cookie;        /* written by the resync thread once it runs */
	bool watching;          /* cookie names a watch (not yet unwatched) */
	tt_bdev_shared_notified_fn notified;
	tt_bdev_shared_resync_fn resync;
	void *arg;
	/* the resync thread: re-establishes a broken watch and reads the record again */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool broken;            /* under lock: the watch broke, the thread has not taken it yet */
	bool stop;              /* under lock: unwatch */
};

static int shared_oid(const struct rbd_bdev *rb, const char *name, char *buf, size_t len)
{
	if (!name || !*name || strchr(name, '.') ||
	    snprintf(buf, len, "tether.%s.%s", name, rb->image_id) >= (int)len)
		return -EINVAL;
	return 0;
}

static struct rbd_shared_req *shared_req_new(struct tt_bdev *bdev, const char *name, void *arg)
{
	struct rbd_bdev *rb = tt_container_of(bdev, struct rbd_bdev, bdev);
	struct rbd_shared_req *req;

	if (!tt_loop_current())
		return NULL;
	req = calloc(1, sizeof(*req));
	if (!req)
		return NULL;
	if (shared_oid(rb, name, req->oid, sizeof(req->oid)) < 0) {
		free(req);
		return NULL;
	}
	req->rb = rb;
	req->loop = tt_loop_current();
	req->arg = arg;
	tt_bdev_get(bdev);
	return req;
}

static void shared_req_free(struct rbd_shared_req *req)
{
	struct tt_bdev *bdev = &req->rb->bdev;

	if (req->op)
		rados_release_write_op(req->op);
	if (req->reply)
		rados_buffer_free(req->reply);
	free(req->buf);
	free(req->msg);
	free(req);
	tt_bdev_put(bdev);
}

static int shared_errno(int rc)
{
	return rc < -4095 ? -EIO : rc;
}

/* On the caller's loop: the end of a load or a store. */
static void shared_req_done(void *arg)
{
	struct rbd_shared_req *req = arg;

	if (req->load_done)
		req->load_done(req->arg, req->status, req->status == 0 ? req->buf : NULL,
			       req->status == 0 ? req->len : 0, req->version);
	else
		req->store_done(req->arg, req->status, req->version);
	shared_req_free(req);
}

static void shared_load_cb(rados_completion_t c, void *arg)
{
	struct rbd_shared_req *req = arg;
	int rc = rados_aio_get_return_value(c);

	if (rc >= 0) {
		req->len = (size_t)rc;
		req->version = rados_aio_get_version(c);
		req->status = req->len < RBD_SHARED_MAX ? 0 : -EFBIG;
	} else if (rc == -ENOENT) {
		req->len = 0;
		req->version = 0;
		req->status = 0;
	} else {
		req->status = shared_errno(rc);
	}
	rados_aio_release(c);
	tt_bdev_send(req->loop, shared_req_done, req);
}

static int rbd_shared_load(struct tt_bdev *bdev, const char *name, tt_bdev_shared_load_fn done,
			   void *arg)
{
	struct rbd_shared_req *req = shared_req_new(bdev, name, arg);
	rados_completion_t c;
	int rc;

	if (!req)
		return tt_loop_current() ? -ENOMEM : -EINVAL;
	req->load_done = done;
	req->buf = malloc(RBD_SHARED_MAX + 1);
	rc = req->buf ? rados_aio_create_completion2(req, shared_load_cb, &c) : -ENOMEM;
	if (rc == 0) {
		rc = rados_aio_read(req->rb->ioctx, req->oid, c, req->buf, RBD_SHARED_MAX, 0);
		if (rc < 0)
			rados_aio_release(c);
	}
	if (rc < 0) {
		shared_req_free(req);
		return shared_errno(rc);
	}
	return 0;
}

static void shared_notify_cb(rados_completion_t c, void *arg)
{
	struct rbd_shared_req *req = arg;
	int rc = rados_aio_get_return_value(c);

	rados_aio_release(c);
	/* the record is replaced: a watcher that did not answer in time (a gateway gone) does not
	 * undo that; it is told in the log */
	if (rc < 0)
		tt_log_ratelimited(TT_LOG_WARN, "bdev", "rbd %s: %s: not every watcher acknowledged "
				   "the change: %s", req->rb->where, req->oid, strerror(-rc));
	req->status = 0;
	tt_bdev_send(req->loop, shared_req_done, req);
}

static void shared_store_cb(rados_completion_t c, void *arg)
{
	struct rbd_shared_req *req = arg;
	int rc = rados_aio_get_return_value(c);
	rados_completion_t n;
	char head[24];
	int hl;

	req->version = rados_aio_get_version(c);
	rados_aio_release(c);
	if (rc == -ERANGE || rc == -EOVERFLOW || rc == -EEXIST || rc == -ENOENT)
		rc = -ESTALE; /* the version asserted is not the object's */
	if (rc < 0) {
		req->status = shared_errno(rc);
		tt_bdev_send(req->loop, shared_req_done, req);
		return;
	}
	hl = snprintf(head, sizeof(head), "%llu\n", (unsigned long long)req->version);
	memcpy(req->msg, head, (size_t)hl);
	memmove(req->msg + hl, req->msg + sizeof(head), req->msglen);
	req->msglen += (size_t)hl;
	rc = rados_aio_create_completion2(req, shared_notify_cb, &n);
	if (rc == 0) {
		rc = rados_aio_notify(req->rb->ioctx, req->oid, n, req->msg, (int)req->msglen,
				      (uint64_t)req->rb->timeout * 1000, &req->reply,
				      &req->reply_len);
		if (rc < 0)
			rados_aio_release(n);
	}
	if (rc < 0) {
		tt_log_ratelimited(TT_LOG_WARN, "bdev", "rbd %s: %s: cannot notify the watchers: %s",
				   req->rb->where, req->oid, strerror(-rc));
		req->status = 0;
		tt_bdev_send(req->loop, shared_req_done, req);
	}
}

static int rbd_shared_store(struct tt_bdev *bdev, const char *name, uint64_t version,
			    const char *text, size_t len, const char *msg, size_t msglen,
			    tt_bdev_shared_store_fn done, void *arg)
{
	struct rbd_shared_req *req;
	rados_completion_t c;
	int rc;

	if (len >= RBD_SHARED_MAX || msglen > INT_MAX / 2)
		return -EFBIG;
	req = shared_req_new(bdev, name, arg);
	if (!req)
		return tt_loop_current() ? -ENOMEM : -EINVAL;
	req->store_done = done;
	/* room in front for the version, written once it is known */
	req->msg = malloc(24 + msglen);
	req->op = rados_create_write_op();
	if (!req->msg || !req->op) {
		shared_req_free(req);
		return -ENOMEM;
	}
	memcpy(req->msg + 24, msg, msglen);
	req->msglen = msglen;
	if (version == 0)
		rados_write_op_create(req->op, LIBRADOS_CREATE_EXCLUSIVE, NULL);
	else
		rados_write_op_assert_version(req->op, version);
	rados_write_op_write_full(req->op, text, len);
	rc = rados_aio_create_completion2(req, shared_store_cb, &c);
	if (rc == 0) {
		rc = rados_aio_write_op_operate(req->op, req->rb->ioctx, c, req->oid, NULL, 0);
		if (rc < 0)
			rados_aio_release(c);
	}
	if (rc < 0) {
		shared_req_free(req);
		return shared_errno(rc);
	}
	return 0;
}

/* Reads @oid and its version, waiting for the cluster. */
static int shared_read_sync(struct rbd_bdev *rb, const char *oid, char **text, size_t *len,
			    uint64_t *version)
{
	rados_completion_t c;
	char *buf = malloc(RBD_SHARED_MAX);
	int rc;

	if (!buf)
		return -ENOMEM;
	rc = rados_aio_create_completion2(NULL, NULL, &c);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	rc = rados_aio_read(rb->ioctx, oid, c, buf, RBD_SHARED_MAX, 0);
	if (rc == 0) {
		rados_aio_wait_for_complete(c);
		rc = rados_aio_get_return_value(c);
		*version = rados_aio_get_version(c);
	}
	rados_aio_release(c);
	if (rc == -ENOENT) {
		rc = 0;
		*version = 0;
	}
	if (rc >= (int)RBD_SHARED_MAX)
		rc = -EFBIG;
	if (rc < 0) {
		free(buf);
		return shared_errno(rc);
	}
	*text = buf;
	*len = (size_t)rc;
	return 0;
}

/* librados' thread: a message; acknowledged once the watcher has taken it. */
static void shared_watch_cb(void *arg, uint64_t notify_id, uint64_t handle, uint64_t notifier,
			    void *data, size_t len)
{
	struct rbd_shared_watch *w = arg;
	const char *p = data, *nl = len ? memchr(p, '\n', len) : NULL;
	unsigned long long version = 0;

	(void)notifier;
	if (nl && sscanf(p, "%llu", &version) == 1 && version > 0)
		w->notified(w->arg, version, nl + 1, len - (size_t)(nl + 1 - p));
	else
		tt_warn("bdev", "rbd %s: %s: a message without version ignored", w->rb->where,
			w->oid);
	rados_notify_ack(w->rb->ioctx, w->oid, notify_id, handle, NULL, 0);
}

/* librados' thread: the watch broke (timed out by the cluster). The owner is told at once (its
 * copy may be stale); the resync thread makes a new watch and reads the record again. */
static void shared_watch_err(void *arg, uint64_t cookie, int err)
{
	struct rbd_shared_watch *w = arg;

	(void)cookie;
	tt_err("bdev", "rbd %s: %s: the watch broke (%s): watching again and reading the record",
	       w->rb->where, w->oid, strerror(-err));
	/* under w->lock: ordered with the thread's resync(0), which a later break must follow */
	pthread_mutex_lock(&w->lock);
	w->broken = true;
	w->resync(w->arg, err < 0 ? err : -EIO, NULL, 0, 0);
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

/* Waits @sec seconds or until unwatch; true when unwatch came. Under w->lock. */
static bool shared_resync_wait(struct rbd_shared_watch *w, int sec)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += sec;
	while (!w->stop && pthread_cond_timedwait(&w->cond, &w->lock, &until) == 0)
		;
	return w->stop;
}

/* Its own thread (waits for the cluster, never a loop's): after a broken watch, unwatch the old
 * one, watch again, then read the record (a change made before the new watch is in the read,
 * one made after is in a message), and hand it to the owner; retried every second on failure. */
static void *shared_resync_thread(void *arg)
{
	struct rbd_shared_watch *w = arg;
	struct rbd_bdev *rb = w->rb;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->broken && !w->stop)
			pthread_cond_wait(&w->cond, &w->lock);
		if (w->stop)
			break;
		w->broken = false;
		pthread_mutex_unlock(&w->lock);

		char *text = NULL;
		size_t len = 0;
		uint64_t version = 0;
		int rc;

		if (w->watching)
			rados_unwatch2(rb->ioctx, w->cookie);
		w->watching = false;
		rc = rados_watch2(rb->ioctx, w->oid, &w->cookie, shared_watch_cb, shared_watch_err, w);
		w->watching = rc == 0;
		if (rc == 0)
			rc = shared_read_sync(rb, w->oid, &text, &len, &version);
		pthread_mutex_lock(&w->lock);
		if (rc == 0 && !w->broken) {
			/* (broken again meanwhile: the next round tells the owner) */
			tt_notice("bdev", "rbd %s: %s: watched again, record version %llu read",
				  rb->where, w->oid, (unsigned long long)version);
			w->resync(w->arg, 0, text, len, version);
		}
		free(text);
		if (rc < 0) {
			tt_log_ratelimited(TT_LOG_WARN, "bdev", "rbd %s: %s: cannot watch again: %s "
					   "(retried)", rb->where, w->oid, strerror(-rc));
			if (shared_resync_wait(w, 1))
				break;
			w->broken = true;
		}
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static int rbd_shared_watch(struct tt_bdev *bdev, const char *name,
			    tt_bdev_shared_notified_fn notified, tt_bdev_shared_resync_fn resync,
			    void *arg, uint64_t *handle, char **text, size_t *len, uint64_t *version)
{
	struct rbd_bdev *rb = tt_container_of(bdev, struct rbd_bdev, bdev);
	struct rbd_shared_watch *w = calloc(1, sizeof(*w));
	rados_write_op_t op;
	int rc;

	if (!w)
		return -ENOMEM;
	w->rb = rb;
	w->notified = notified;
	w->resync = resync;
	w->arg = arg;
	/* before the watch: its error callback takes the lock */
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	rc = shared_oid(rb, name, w->oid, sizeof(w->oid));
	if (rc < 0)
		goto fail;
	/* a watch needs the object: made empty if it does not exist yet */
	op = rados_create_write_op();
	if (!op) {
		rc = -ENOMEM;
		goto fail;
	}
	rados_write_op_create(op, LIBRADOS_CREATE_IDEMPOTENT, NULL);
	rc = rados_write_op_operate(op, rb->ioctx, w->oid, NULL, 0);
	rados_release_write_op(op);
	if (rc == 0)
		rc = rados_watch2(rb->ioctx, w->oid, &w->cookie, shared_watch_cb, shared_watch_err, w);
	if (rc < 0) {
		tt_err("bdev", "rbd %s: cannot watch %s: %s", rb->where, w->oid, strerror(-rc));
		goto fail;
	}
	rc = shared_read_sync(rb, w->oid, text, len, version);
	if (rc < 0) {
		tt_err("bdev", "rbd %s: cannot read %s: %s", rb->where, w->oid, strerror(-rc));
		goto unwatch;
	}
	w->watching = true;
	rc = -pthread_create(&w->thread, NULL, shared_resync_thread, w);
	if (rc < 0) {
		free(*text);
		*text = NULL;
		goto unwatch;
	}
	*handle = (uint64_t)(uintptr_t)w;
	return 0;
unwatch:
	rados_unwatch2(rb->ioctx, w->cookie);
	rados_watch_flush(rb->cluster->rados);
fail:
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w);
	return shared_errno(rc);
}

static void rbd_shared_unwatch(struct tt_bdev *bdev, uint64_t handle)
{
	struct rbd_bdev *rb = tt_container_of(bdev, struct rbd_bdev, bdev);
	struct rbd_shared_watch *w = (struct rbd_shared_watch *)(uintptr_t)handle;

	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL); /* the thread's resync() no longer runs, cookie settled */
	if (w->watching)
		rados_unwatch2(rb->ioctx, w->cookie);
	rados_watch_flush(rb->cluster->rados); /* shared_watch_cb, shared_watch_err no longer run */
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

static const struct tt_bdev_shared_ops rbd_shared_ops = {
	.load = rbd_shared_load,
	.store = rbd_shared_store,
	.watch = rbd_shared_watch,
	.unwatch = rbd_shared_unwatch,
};

static const struct tt_bdev_ops rbd_ops = {
	.kind = "rbd",
	.submit = rbd_submit,
	.destroy = rbd_destroy,
	.identity = rbd_identity,
	.shared = &rbd_shared_ops,
};

/* ---- opening ---- */

struct rbd_args {
	char pool[128];
	char image[128];
	const char *conf;  /* points into the options buffer */
	const char *id;
	unsigned timeout;
	uint32_t bs;
	bool ro;
};

static int parse_target(const char *s, struct rbd_args *a, char *err, size_t errlen)
{
	const char *slash = strchr(s, '/');
	size_t plen;

	if (!slash || slash == s || !slash[1] || strchr(slash + 1, '/'))
		return tt_bdev_err(err, errlen, -EINVAL, "rbd: '%s' is not POOL/IMAGE", s);
	plen = (size_t)(slash - s);
	if (plen >= sizeof(a->pool) || strlen(slash + 1) >= sizeof(a->image))
		return tt_bdev_err(err, errlen, -EINVAL, "rbd: pool or image name too long in '%s'",
				   s);
	memcpy(a->pool, s, plen);
	a->pool[plen] = '\0';
	snprintf(a->image, sizeof(a->image), "%s", slash + 1);
	return 0;
}

static int parse_args(struct tt_bdev_opts *o, struct rbd_args *a, char *err, size_t errlen)
{
	bool first = true, have = false;
	char *key, *val, *end;
	int rc = 0;

	a->timeout = RBD_TIMEOUT_DEFAULT;
	a->bs = 512;
	while (rc == 0 && tt_bdev_opts_next(o, &key, &val)) {
		if (first && !val) {
			rc = parse_target(key, a, err, errlen);
			have = true;
		} else if (!strcmp(key, "conf") && val && *val) {
			a->conf = val;
		} else if (!strcmp(key, "id") && val && *val) {
			a->id = val;
		} else if (!strcmp(key, "timeout") && val) {
			unsigned long t = strtoul(val, &end, 10);

			if (!*val || *end || t == 0 || t > RBD_TIMEOUT_MAX)
				rc = tt_bdev_err(err, errlen, -EINVAL,
						 "rbd: bad timeout '%s' (seconds, 1 to %u)", val,
						 RBD_TIMEOUT_MAX);
			a->timeout = (unsigned)t;
		} else if (!strcmp(key, "bs")) {
			rc = tt_bdev_opt_bs("rbd", val, &a->bs, err, errlen);
		} else if (!strcmp(key, "ro") && !val) {
			a->ro = true;
		} else {
			rc = tt_bdev_err(err, errlen, -EINVAL, "rbd: unknown option '%s'", key);
		}
		first = false;
	}
	if (rc == 0 && !have)
		rc = tt_bdev_err(err, errlen, -EINVAL, "rbd: missing POOL/IMAGE");
	return rc;
}

/* Connects a new client of the cluster. */
static int rbd_cluster_connect(rados_t *out, const struct rbd_args *a, char *err, size_t errlen)
{
	static const char *const timeouts[] = { "client_mount_timeout", "rados_mon_op_timeout",
						"rados_osd_op_timeout" };
	rados_t r;
	char t[16];
	int rc;

	rc = rados_create(&r, a->id);
	if (rc < 0)
		return tt_bdev_err(err, errlen, rc, "rbd: id '%s': %s", a->id ? a->id : "admin",
				   strerror(-rc));
	rc = rados_conf_read_file(r, a->conf);
	if (rc < 0) {
		tt_bdev_err(err, errlen, rc, "rbd: conf '%s': cannot read it: %s",
			    a->conf ? a->conf : "(default search path)", strerror(-rc));
		goto fail;
	}
	snprintf(t, sizeof(t), "%u", a->timeout);
	for (size_t i = 0; i < sizeof(timeouts) / sizeof(timeouts[0]); i++) {
		rc = rados_conf_set(r, timeouts[i], t);
		if (rc < 0) {
			tt_bdev_err(err, errlen, rc, "rbd: cannot set %s: %s", timeouts[i],
				    strerror(-rc));
			goto fail;
		}
	}
	/* coherent with the other gateways, and discards that read back as zeroes */
	if ((rc = rados_conf_set(r, "rbd_cache", "false")) < 0 ||
	    (rc = rados_conf_set(r, "rbd_skip_partial_discard", "false")) < 0) {
		tt_bdev_err(err, errlen, rc, "rbd: cannot configure librbd: %s", strerror(-rc));
		goto fail;
	}
	rc = rados_connect(r);
	if (rc < 0) {
		tt_bdev_err(err, errlen, rc,
			    "rbd: conf '%s', id '%s': cannot connect to the cluster within %u s: %s",
			    a->conf ? a->conf : "(default)", a->id ? a->id : "admin", a->timeout,
			    strerror(-rc));
		goto fail;
	}
	*out = r;
	return 0;
fail:
	rados_shutdown(r);
	return rc;
}

/* The connection for @a's conf, id and timeout: shared, or made now (waits for the cluster). */
static int rbd_cluster_get(const struct rbd_args *a, struct rbd_cluster **out, char *err,
			   size_t errlen)
{
	struct rbd_cluster *c;
	char *key;
	int rc;

	if (asprintf(&key, "%s\n%s\n%u", a->conf ? a->conf : "", a->id ? a->id : "",
		     a->timeout) < 0)
		return tt_bdev_err(err, errlen, -ENOMEM, "rbd: out of memory");
	/* held while connecting: opens run on the thread that applies the configuration */
	pthread_mutex_lock(&clusters_lock);
	for (struct tt_list *n = clusters.next; n != &clusters; n = n->next) {
		c = tt_list_entry(n, struct rbd_cluster, node);
		if (!strcmp(c->key, key)) {
			c->refs++;
			pthread_mutex_unlock(&clusters_lock);
			free(key);
			*out = c;
			return 0;
		}
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		pthread_mutex_unlock(&clusters_lock);
		free(key);
		return tt_bdev_err(err, errlen, -ENOMEM, "rbd: out of memory");
	}
	rc = rbd_cluster_connect(&c->rados, a, err, errlen);
	if (rc < 0) {
		pthread_mutex_unlock(&clusters_lock);
		free(key);
		free(c);
		return rc;
	}
	c->key = key;
	c->refs = 1;
	tt_list_add_tail(&clusters, &c->node);
	tt_notice("bdev", "rbd: connected to the cluster (conf '%s', id '%s', timeout %u s)",
		  a->conf ? a->conf : "(default)", a->id ? a->id : "admin", a->timeout);
	pthread_mutex_unlock(&clusters_lock);
	*out = c;
	return 0;
}

/* Connects to the cluster and opens the image; on error, *rb keeps what was set up. */
static int rbd_connect(struct rbd_bdev *rb, const struct rbd_args *a, char *err, size_t errlen)
{
	char fsid[64];
	rbd_image_info_t info;
	int rc;

	rc = rbd_cluster_get(a, &rb->cluster, err, errlen);
	if (rc < 0)
		return rc;
	rc = rados_ioctx_create(rb->cluster->rados, a->pool, &rb->ioctx);
	if (rc < 0) {
		rb->ioctx = NULL;
		return tt_bdev_err(err, errlen, rc, "rbd: pool '%s': %s", a->pool,
				   rc == -ENOENT ? "no such pool" : strerror(-rc));
	}
	rc = a->ro ? rbd_open_read_only(rb->ioctx, a->image, &rb->image, NULL)
		   : rbd_open(rb->ioctx, a->image, &rb->image, NULL);
	if (rc < 0) {
		rb->image = NULL;
		return tt_bdev_err(err, errlen, rc, "rbd: image '%s': %s", rb->where,
				   rc == -ENOENT ? "no such image" : strerror(-rc));
	}
	rc = rbd_stat(rb->image, &info, sizeof(info));
	if (rc < 0)
		return tt_bdev_err(err, errlen, rc, "rbd: image '%s': cannot stat it: %s", rb->where,
				   strerror(-rc));
	rb->obj_size = info.obj_size ? info.obj_size : 1ull << 22;
	rb->bdev.size = info.size - info.size % a->bs;
	rc = tt_bdev_check_size("rbd", rb->bdev.size, a->bs, err, errlen);
	if (rc < 0)
		return rc;
	{
		char *id = rb->image_id;

		rc = rbd_get_id(rb->image, id, sizeof(rb->image_id));
		if (rc == 0)
			rc = rados_cluster_fsid(rb->cluster->rados, fsid, sizeof(fsid));
		if (rc < 0)
			return tt_bdev_err(err, errlen, rc, "rbd: image '%s': cannot read its id: %s",
					   rb->where, strerror(-rc));
		snprintf(rb->identity, sizeof(rb->identity), "rbd:%s/%lld/%s", fsid,
			 (long long)rados_ioctx_get_id(rb->ioctx), id);
	}
	rc = rbd_update_watch(rb->image, &rb->watch_handle, rbd_updated, rb);
	if (rc < 0)
		return tt_bdev_err(err, errlen, rc, "rbd: image '%s': cannot watch it: %s", rb->where,
				   strerror(-rc));
	rb->watching = true;
	return 0;
}

int tt_bdev_rbd_open(const char *args, struct tt_bdev **out, char *err, size_t errlen)
{
	struct rbd_args a = { 0 };
	struct tt_bdev_opts o;
	struct rbd_bdev *rb;
	int rc;

	if (tt_bdev_opts_init(&o, args) < 0)
		return tt_bdev_err(err, errlen, -ENOMEM, "rbd: out of memory");
	rc = parse_args(&o, &a, err, errlen);
	if (rc < 0) {
		tt_bdev_opts_fini(&o);
		return rc;
	}
	rb = calloc(1, sizeof(*rb));
	if (!rb) {
		tt_bdev_opts_fini(&o);
		return tt_bdev_err(err, errlen, -ENOMEM, "rbd: out of memory");
	}
	tt_bdev_init(&rb->bdev, &rbd_ops);
	pthread_mutex_init(&rb->lock, NULL);
	pthread_cond_init(&rb->cond, NULL);
	snprintf(rb->where, sizeof(rb->where), "%s/%s", a.pool, a.image);
	rb->timeout = a.timeout;
	rc = rbd_connect(rb, &a, err, errlen);
	tt_bdev_opts_fini(&o);
	if (rc == 0) {
		rc = -pthread_create(&rb->thread, NULL, rbd_size_thread, rb);
		if (rc < 0)
			tt_bdev_err(err, errlen, rc, "rbd: cannot start a thread: %s", strerror(-rc));
		rb->thread_started = rc == 0;
	}
	if (rc < 0) {
		pthread_mutex_destroy(&rb->bdev.watch_lock);
		rbd_destroy(&rb->bdev);
		return rc;
	}
	rb->bdev.block_size = a.bs;
	rb->bdev.thin = true;
	rb->bdev.readonly = a.ro;
	rb->bdev.volatile_cache = false;
	rb->bdev.write_same = true;
	rb->bdev.compare_and_write = a.bs == RBD_CAW_SECTOR;
	rb->bdev.compare_and_write_max = RBD_CAW_SECTOR;
	tt_notice("bdev", "rbd %s: %llu bytes, %llu-byte objects, identity %s", rb->where,
		(unsigned long long)rb->bdev.size, (unsigned long long)rb->obj_size, rb->identity);
	*out = &rb->bdev;
	return 0;
}
