/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Delay backend (tests): wraps another backend. Each I/O runs on the inner backend and its
 * completion is held for ms=N with a timer on the submitting loop. In hang mode I/Os are parked
 * (before reaching the inner backend, or after it executed them) until tt_bdev_delay_release(),
 * which may be called from any thread: each parked I/O resumes on its own loop.
 */
#include "bdev/bdev_impl.h"
#include "base/clock.h"
#include "base/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Holders of the inner backend: this wrapper (bdev.inner), dropped in delay_destroy. */
struct delay_bdev {
	struct tt_bdev bdev;
	uint64_t delay_ns;
	int hang;               /* atomic enum tt_bdev_hang */
	pthread_mutex_t lock;   /* parked, nparked */
	struct tt_list parked;
	int nparked;
};

struct delay_req {
	struct tt_bdev_io child;  /* the I/O on the inner backend */
	struct tt_bdev_io *io;
	struct delay_bdev *db;
	struct tt_timer timer;
	struct tt_list node;      /* parked */
	int status;
	bool executed;            /* the inner backend completed child */
	bool released;            /* let go by tt_bdev_delay_release: never parked again */
};

static const struct tt_bdev_ops delay_ops;

static void delay_finish(struct delay_req *req)
{
	struct tt_bdev_io *io = req->io;
	int status = req->status;

	free(req);
	tt_bdev_io_complete(io, status);
}

static void delay_timer(struct tt_timer *t)
{
	delay_finish(tt_container_of(t, struct delay_req, timer));
}

static void delay_park(struct delay_req *req)
{
	struct delay_bdev *db = req->db;

	pthread_mutex_lock(&db->lock);
	tt_list_add_tail(&db->parked, &req->node);
	db->nparked++;
	pthread_mutex_unlock(&db->lock);
	tt_debug("bdev", "delay: parked %s at %llu", req->executed ? "completion" : "I/O",
		 (unsigned long long)req->io->offset);
}

static void delay_child_done(struct tt_bdev_io *child, int status)
{
	struct delay_req *req = child->ctx;
	struct delay_bdev *db = req->db;

	req->status = status;
	req->executed = true;
	if (!req->released && __atomic_load_n(&db->hang, __ATOMIC_ACQUIRE) == TT_BDEV_HANG_AFTER) {
		delay_park(req);
		return;
	}
	if (db->delay_ns) {
		tt_timer_init(&req->timer, req->io->loop, delay_timer);
		tt_timer_arm_ns(&req->timer, db->delay_ns);
		return;
	}
	delay_finish(req);
}

static int delay_start(struct delay_req *req)
{
	return tt_bdev_forward(req->db->bdev.inner, req->io, &req->child, delay_child_done, req);
}

static int delay_submit(struct tt_bdev *bdev, struct tt_bdev_io *io)
{
	struct delay_bdev *db = tt_container_of(bdev, struct delay_bdev, bdev);
	struct delay_req *req = calloc(1, sizeof(*req));
	int rc;

	if (!req)
		return -ENOMEM;
	req->io = io;
	req->db = db;
	tt_list_init(&req->node);
	if (__atomic_load_n(&db->hang, __ATOMIC_ACQUIRE) == TT_BDEV_HANG_BEFORE) {
		delay_park(req);
		return 0;
	}
	rc = delay_start(req);
	if (rc < 0)
		free(req);
	return rc;
}

/* Runs on the parked I/O's loop. */
static void delay_resume(void *arg)
{
	struct delay_req *req = arg;
	int rc;

	req->released = true;
	if (req->executed) {
		delay_finish(req);
		return;
	}
	rc = delay_start(req);
	if (rc < 0) {
		req->status = rc;
		delay_finish(req);
	}
}

static void delay_destroy(struct tt_bdev *bdev)
{
	struct delay_bdev *db = tt_container_of(bdev, struct delay_bdev, bdev);

	tt_bdev_put(bdev->inner);
	pthread_mutex_destroy(&db->lock);
	free(db);
}

static const struct tt_bdev_ops delay_ops = {
	.kind = "delay",
	.submit = delay_submit,
	.destroy = delay_destroy,
};

int tt_bdev_delay_set_hang(struct tt_bdev *bdev, enum tt_bdev_hang mode)
{
	struct tt_bdev *d = tt_bdev_find(bdev, &delay_ops);

	if (!d || mode > TT_BDEV_HANG_AFTER)
		return -EINVAL;
	__atomic_store_n(&tt_container_of(d, struct delay_bdev, bdev)->hang, (int)mode,
			 __ATOMIC_RELEASE);
	return 0;
}

int tt_bdev_delay_release(struct tt_bdev *bdev)
{
	struct tt_bdev *d = tt_bdev_find(bdev, &delay_ops);
	struct delay_bdev *db;
	struct tt_list list;
	struct tt_list *n;
	int count = 0;

	if (!d)
		return -EINVAL;
	db = tt_container_of(d, struct delay_bdev, bdev);
	tt_list_init(&list);
	pthread_mutex_lock(&db->lock);
	tt_list_splice_tail(&list, &db->parked);
	db->nparked = 0;
	pthread_mutex_unlock(&db->lock);
	while ((n = tt_list_pop(&list))) {
		struct delay_req *req = tt_list_entry(n, struct delay_req, node);

		tt_bdev_send(req->io->loop, delay_resume, req);
		count++;
	}
	return count;
}

int tt_bdev_delay_parked(struct tt_bdev *bdev)
{
	struct tt_bdev *d = tt_bdev_find(bdev, &delay_ops);
	struct delay_bdev *db;
	int n;

	if (!d)
		return -EINVAL;
	db = tt_container_of(d, struct delay_bdev, bdev);
	pthread_mutex_lock(&db->lock);
	n = db->nparked;
	pthread_mutex_unlock(&db->lock);
	return n;
}

int tt_bdev_delay_open(const char *args, struct tt_bdev **out, char *err, size_t errlen)
{
	struct tt_bdev_opts o;
	struct delay_bdev *db;
	struct tt_bdev *inner;
	const char *inner_spec;
	char *opts, *key, *val, *end;
	uint64_t ms = 0;
	int hang = TT_BDEV_HANG_OFF;
	int rc;

	rc = tt_bdev_wrapper_split("delay", args, &opts, &inner_spec, err, errlen);
	if (rc < 0)
		return rc;
	rc = tt_bdev_opts_init(&o, opts);
	free(opts);
	if (rc < 0)
		return tt_bdev_err(err, errlen, rc, "delay: out of memory");
	while (rc == 0 && tt_bdev_opts_next(&o, &key, &val)) {
		if (strcmp(key, "ms") == 0) {
			errno = 0;
			ms = val && *val >= '0' && *val <= '9' ? strtoull(val, &end, 10) : 0;
			if (!val || *val < '0' || *val > '9' || *end || errno || ms > 86400000)
				rc = tt_bdev_err(err, errlen, -EINVAL, "delay: bad ms '%s'",
						 val ? val : "");
		} else if (strcmp(key, "hang") == 0 && (!val || strcmp(val, "before") == 0)) {
			hang = TT_BDEV_HANG_BEFORE;
		} else if (strcmp(key, "hang") == 0 && strcmp(val, "after") == 0) {
			hang = TT_BDEV_HANG_AFTER;
		} else if (strcmp(key, "hang") == 0) {
			rc = tt_bdev_err(err, errlen, -EINVAL, "delay: bad hang '%s' (before or after)",
					 val);
		} else {
			rc = tt_bdev_err(err, errlen, -EINVAL, "delay: unknown option '%s'", key);
		}
	}
	tt_bdev_opts_fini(&o);
	if (rc < 0)
		return rc;
	rc = tt_bdev_open(inner_spec, &inner, err, errlen);
	if (rc < 0)
		return rc;
	db = calloc(1, sizeof(*db));
	if (!db) {
		tt_bdev_put(inner);
		return tt_bdev_err(err, errlen, -ENOMEM, "delay: out of memory");
	}
	tt_bdev_wrapper_init(&db->bdev, &delay_ops, inner);
	db->delay_ns = ms * TT_NS_PER_MS;
	db->hang = hang;
	pthread_mutex_init(&db->lock, NULL);
	tt_list_init(&db->parked);
	*out = &db->bdev;
	return 0;
}
