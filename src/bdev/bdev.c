/* SPDX-License-Identifier: BSD-3-Clause */
/* Backend registry, spec parsing, references, submission checks and deferred completion. */
#include "bdev/bdev_impl.h"
#include "base/clock.h"
#include "base/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct bdev_kind {
	const char *name;
	int (*open)(const char *args, struct tt_bdev **out, char *err, size_t errlen);
};

static const struct bdev_kind kinds[] = {
	{ "ram", tt_bdev_ram_open },
	{ "file", tt_bdev_file_open },
	{ "null", tt_bdev_null_open },
	{ "delay", tt_bdev_delay_open },
	{ "fail", tt_bdev_fail_open },
#ifdef TT_HAVE_RBD
	{ "rbd", tt_bdev_rbd_open },
#endif
};

void tt_bdev_init(struct tt_bdev *bdev, const struct tt_bdev_ops *ops)
{
	bdev->ops = ops;
	bdev->spec = NULL;
	bdev->block_size = 512;
	bdev->refs = 1;
	bdev->inflight = 0;
	bdev->inner = NULL;
	bdev->write_same = false;
	bdev->compare_and_write = false;
	bdev->compare_and_write_max = 0;
	pthread_mutex_init(&bdev->watch_lock, NULL);
	tt_list_init(&bdev->watches);
}

int tt_bdev_open(const char *spec, struct tt_bdev **out, char *err, size_t errlen)
{
	const char *colon;
	size_t klen;
	struct tt_bdev *bdev = NULL;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (!spec || !*spec)
		return tt_bdev_err(err, errlen, -EINVAL, "empty backend spec");
	colon = strchr(spec, ':');
	klen = colon ? (size_t)(colon - spec) : strlen(spec);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strlen(kinds[i].name) != klen || strncmp(kinds[i].name, spec, klen) != 0)
			continue;
		rc = kinds[i].open(colon ? colon + 1 : "", &bdev, err, errlen);
		if (rc < 0)
			return rc;
		bdev->spec = strdup(spec);
		if (!bdev->spec) {
			tt_bdev_put(bdev);
			return tt_bdev_err(err, errlen, -ENOMEM, "%s: out of memory", kinds[i].name);
		}
		*out = bdev;
		return 0;
	}
#ifndef TT_HAVE_RBD
	if (klen == 3 && !strncmp(spec, "rbd", 3))
		return tt_bdev_err(err, errlen, -EOPNOTSUPP,
				   "rbd: this tetherd was built without librbd (librbd-dev)");
#endif
	return tt_bdev_err(err, errlen, -EINVAL, "unknown backend kind '%.*s'", (int)klen, spec);
}

void tt_bdev_get(struct tt_bdev *bdev)
{
	__atomic_add_fetch(&bdev->refs, 1, __ATOMIC_RELAXED);
}

void tt_bdev_put(struct tt_bdev *bdev)
{
	if (!bdev || __atomic_sub_fetch(&bdev->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	free(bdev->spec);
	bdev->spec = NULL;
	pthread_mutex_destroy(&bdev->watch_lock);
	bdev->ops->destroy(bdev);
}

/* ---- submission and completion ---- */

static void bdev_io_done(struct tt_work *w)
{
	struct tt_bdev_io *io = tt_container_of(w, struct tt_bdev_io, work);
	struct tt_bdev *bdev = io->bdev;

	__atomic_sub_fetch(&bdev->inflight, 1, __ATOMIC_ACQ_REL);
	io->done(io, io->status);
	tt_bdev_put(bdev);
}

static int bdev_check(const struct tt_bdev *bdev, const struct tt_bdev_io *io)
{
	if (io->offset % bdev->block_size || io->len % bdev->block_size)
		return -EINVAL;
	if (io->op == TT_BDEV_FLUSH)
		return 0;
	uint64_t size = tt_bdev_size(bdev);

	if (io->offset > size || io->len > size - io->offset)
		return -ERANGE;
	switch (io->op) {
	case TT_BDEV_READ:
		break;
	case TT_BDEV_WRITE_SAME:
		if (bdev->readonly)
			return -EROFS;
		if (!bdev->write_same)
			return -EOPNOTSUPP;
		if (io->iovcnt < 1 || !io->iov || tt_iov_len(io->iov, io->iovcnt) != bdev->block_size)
			return -EINVAL;
		return 0;
	case TT_BDEV_COMPARE_AND_WRITE:
		if (bdev->readonly)
			return -EROFS;
		if (!bdev->compare_and_write ||
		    (bdev->compare_and_write_max && io->len > bdev->compare_and_write_max))
			return -EOPNOTSUPP;
		if (io->iovcnt < 1 || !io->iov || tt_iov_len(io->iov, io->iovcnt) != 2 * io->len)
			return -EINVAL;
		return 0;
	case TT_BDEV_WRITE:
	case TT_BDEV_WRITE_ZEROES:
		if (bdev->readonly)
			return -EROFS;
		break;
	case TT_BDEV_UNMAP:
		if (bdev->readonly)
			return -EROFS;
		if (!bdev->thin)
			return -EOPNOTSUPP;
		break;
	default:
		return -EINVAL;
	}
	if (io->op == TT_BDEV_READ || io->op == TT_BDEV_WRITE) {
		if (io->iovcnt < 0 || (io->iovcnt > 0 && !io->iov))
			return -EINVAL;
		if (tt_iov_len(io->iov, io->iovcnt) != io->len)
			return -EINVAL;
	}
	return 0;
}

int tt_bdev_submit(struct tt_bdev *bdev, struct tt_bdev_io *io)
{
	struct tt_loop *loop = tt_loop_current();
	int rc;

	if (!loop || !io->done)
		return -EINVAL;
	rc = bdev_check(bdev, io);
	if (rc < 0)
		return rc;
	io->bdev = bdev;
	io->loop = loop;
	io->status = 0;
	io->miscompare = 0;
	io->submit_ns = tt_now_ns();
	tt_work_init(&io->work, loop, bdev_io_done);
	tt_list_init(&io->node);
	tt_bdev_get(bdev);
	__atomic_add_fetch(&bdev->inflight, 1, __ATOMIC_ACQ_REL);
	if (io->len == 0 && io->op != TT_BDEV_FLUSH) {
		tt_work_queue(&io->work);
		return 0;
	}
	rc = bdev->ops->submit(bdev, io);
	if (rc < 0) {
		__atomic_sub_fetch(&bdev->inflight, 1, __ATOMIC_ACQ_REL);
		tt_bdev_put(bdev);
	}
	return rc;
}

int tt_bdev_get_status(struct tt_bdev *bdev, uint64_t offset, uint64_t max, bool *mapped,
		       uint64_t *len)
{
	struct tt_bdev *b = bdev;
	uint32_t bs = bdev->block_size;
	int rc;

	if (!max || offset % bs || max % bs || offset > bdev->size || max > bdev->size - offset)
		return -EINVAL;
	/* a wrapper without its own answer shows its inner backend's */
	while (!b->ops->get_status && b->inner)
		b = b->inner;
	if (!b->ops->get_status) {
		*mapped = true;
		*len = max;
		return 0;
	}
	rc = b->ops->get_status(b, offset, max, mapped, len);
	if (rc < 0)
		return rc;
	if (*len < bs)
		*len = bs;
	if (*len > max)
		*len = max;
	*len -= *len % bs;
	return 0;
}

int tt_bdev_identity(struct tt_bdev *bdev, char *buf, size_t len)
{
	while (!bdev->ops->identity && bdev->inner)
		bdev = bdev->inner;
	if (!bdev->ops->identity)
		return -ENOENT;
	return bdev->ops->identity(bdev, buf, len);
}

struct tt_bdev *tt_bdev_shared_supported(struct tt_bdev *bdev)
{
	while (!bdev->ops->shared && bdev->inner)
		bdev = bdev->inner;
	return bdev->ops->shared ? bdev : NULL;
}

void tt_bdev_watch_add(struct tt_bdev *bdev, struct tt_bdev_watch *w)
{
	pthread_mutex_lock(&bdev->watch_lock);
	tt_list_add_tail(&bdev->watches, &w->node);
	pthread_mutex_unlock(&bdev->watch_lock);
}

void tt_bdev_watch_del(struct tt_bdev *bdev, struct tt_bdev_watch *w)
{
	pthread_mutex_lock(&bdev->watch_lock);
	if (tt_list_linked(&w->node))
		tt_list_del(&w->node);
	pthread_mutex_unlock(&bdev->watch_lock);
}

void tt_bdev_set_size(struct tt_bdev *bdev, uint64_t size)
{
	pthread_mutex_lock(&bdev->watch_lock);
	__atomic_store_n(&bdev->size, size, __ATOMIC_RELEASE);
	for (struct tt_list *n = bdev->watches.next; n != &bdev->watches; n = n->next) {
		struct tt_bdev_watch *w = tt_list_entry(n, struct tt_bdev_watch, node);

		w->resized(w, size);
	}
	pthread_mutex_unlock(&bdev->watch_lock);
}

void tt_bdev_send(struct tt_loop *loop, void (*fn)(void *arg), void *arg)
{
	while (tt_loop_send(loop, fn, arg) < 0) {
		tt_log_ratelimited(TT_LOG_WARN, "bdev", "out of memory queueing a completion; retrying");
		usleep(1000);
	}
}

static void bdev_io_done_msg(void *arg)
{
	struct tt_bdev_io *io = arg;

	tt_work_queue(&io->work);
}

void tt_bdev_io_complete(struct tt_bdev_io *io, int status)
{
	io->status = status;
	if (tt_loop_is_current(io->loop))
		tt_work_queue(&io->work);
	else
		tt_bdev_send(io->loop, bdev_io_done_msg, io);
}

/* ---- option parsing ---- */

int tt_bdev_opts_init(struct tt_bdev_opts *o, const char *args)
{
	o->buf = strdup(args ? args : "");
	o->next = o->buf;
	return o->buf ? 0 : -ENOMEM;
}

bool tt_bdev_opts_next(struct tt_bdev_opts *o, char **key, char **val)
{
	char *tok, *eq;

	do {
		if (!o->next)
			return false;
		tok = strsep(&o->next, ",");
	} while (!*tok);
	eq = strchr(tok, '=');
	if (eq)
		*eq++ = '\0';
	*key = tok;
	*val = eq;
	return true;
}

void tt_bdev_opts_fini(struct tt_bdev_opts *o)
{
	free(o->buf);
	o->buf = o->next = NULL;
}

int tt_bdev_opt_size(const char *kind, const char *val, uint64_t *out, char *err, size_t errlen)
{
	if (!val || tt_parse_size(val, out) < 0 || *out == 0)
		return tt_bdev_err(err, errlen, -EINVAL, "%s: bad size '%s'", kind, val ? val : "");
	return 0;
}

int tt_bdev_opt_bs(const char *kind, const char *val, uint32_t *out, char *err, size_t errlen)
{
	uint64_t bs;

	if (!val || tt_parse_size(val, &bs) < 0 || (bs != 512 && bs != 4096))
		return tt_bdev_err(err, errlen, -EINVAL, "%s: bad block size '%s' (512 or 4096)", kind,
				   val ? val : "");
	*out = (uint32_t)bs;
	return 0;
}

int tt_bdev_check_size(const char *kind, uint64_t size, uint32_t bs, char *err, size_t errlen)
{
	if (size == 0 || size % bs)
		return tt_bdev_err(err, errlen, -EINVAL,
				   "%s: size %llu is not a multiple of the block size %u", kind,
				   (unsigned long long)size, bs);
	return 0;
}

/* ---- wrappers ---- */

int tt_bdev_wrapper_split(const char *kind, const char *args, char **opts, const char **inner,
			  char *err, size_t errlen)
{
	const char *p = args;

	/* options never contain ':'; the first element that does is the inner spec */
	for (;;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (memchr(p, ':', n)) {
			size_t olen = (size_t)(p - args);

			*inner = p;
			*opts = strndup(args, olen ? olen - 1 : 0);
			if (!*opts)
				return tt_bdev_err(err, errlen, -ENOMEM, "%s: out of memory", kind);
			return 0;
		}
		if (!end)
			break;
		p = end + 1;
	}
	return tt_bdev_err(err, errlen, -EINVAL, "%s: missing inner backend spec", kind);
}

void tt_bdev_wrapper_init(struct tt_bdev *bdev, const struct tt_bdev_ops *ops, struct tt_bdev *inner)
{
	tt_bdev_init(bdev, ops);
	bdev->inner = inner;
	bdev->size = inner->size;
	bdev->block_size = inner->block_size;
	bdev->thin = inner->thin;
	bdev->readonly = inner->readonly;
	bdev->volatile_cache = inner->volatile_cache;
}

int tt_bdev_forward(struct tt_bdev *inner, const struct tt_bdev_io *io, struct tt_bdev_io *child,
		    tt_bdev_done_fn done, void *ctx)
{
	child->op = io->op;
	child->offset = io->offset;
	child->len = io->len;
	child->iov = io->iov;
	child->iovcnt = io->iovcnt;
	child->fua = io->fua;
	child->miscompare = 0;
	child->done = done;
	child->ctx = ctx;
	return tt_bdev_submit(inner, child);
}

struct tt_bdev *tt_bdev_find(struct tt_bdev *bdev, const struct tt_bdev_ops *ops)
{
	for (; bdev; bdev = bdev->inner)
		if (bdev->ops == ops)
			return bdev;
	return NULL;
}

/* ---- iovecs ---- */

uint64_t tt_iov_len(const struct iovec *iov, int iovcnt)
{
	uint64_t n = 0;

	for (int i = 0; i < iovcnt; i++)
		n += iov[i].iov_len;
	return n;
}

void tt_iov_zero(const struct iovec *iov, int iovcnt, uint64_t skip)
{
	for (int i = 0; i < iovcnt; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		memset((char *)iov[i].iov_base + skip, 0, iov[i].iov_len - skip);
		skip = 0;
	}
}

void tt_iov_from_buf(const struct iovec *iov, int iovcnt, const void *buf, uint64_t len)
{
	const char *p = buf;

	for (int i = 0; i < iovcnt && len; i++) {
		size_t n = iov[i].iov_len < len ? iov[i].iov_len : len;

		memcpy(iov[i].iov_base, p, n);
		p += n;
		len -= n;
	}
}

void tt_iov_to_buf(const struct iovec *iov, int iovcnt, void *buf, uint64_t len)
{
	char *p = buf;

	for (int i = 0; i < iovcnt && len; i++) {
		size_t n = iov[i].iov_len < len ? iov[i].iov_len : len;

		memcpy(p, iov[i].iov_base, n);
		p += n;
		len -= n;
	}
}
