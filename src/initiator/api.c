/* SPDX-License-Identifier: BSD-3-Clause */
/* The I/O calls of the public interface: each builds a request (its CDB, its data, whether it
 * modifies the unit) and hands it to the device; the synchronous ones service the device until
 * their request is done. */
#include "initiator/initiator.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static size_t iov_total(const struct iovec *iov, int iovcnt)
{
	size_t n = 0;

	for (int i = 0; i < iovcnt; i++)
		n += iov[i].iov_len;
	return n;
}

static struct ti_req *req_new(void)
{
	struct ti_req *r = calloc(1, sizeof(*r));

	if (r)
		tt_list_init(&r->node);
	return r;
}

static int check_range(const struct tether_dev *dev, uint64_t off, uint64_t len)
{
	if (!dev->block_size || off % dev->block_size || len % dev->block_size)
		return -EINVAL;
	if (off > tether_size(dev) || len > tether_size(dev) - off)
		return -EINVAL;
	return 0;
}

/* Largest READ/WRITE sent as one command: the unit's maximum transfer length, and at most
 * TI_MAX_XFER (a unit without a Block Limits page gets that). */
#define TI_MAX_XFER (8u * 1024 * 1024)

static uint64_t max_xfer(const struct tether_dev *dev)
{
	uint64_t m = TI_MAX_XFER;

	if (dev->max_xfer_blocks && (uint64_t)dev->max_xfer_blocks * dev->block_size < m)
		m = (uint64_t)dev->max_xfer_blocks * dev->block_size;
	return m < dev->block_size ? dev->block_size : m;
}

/* A request cut in parts: the caller's callback runs once, when the last part ends, with the
 * first error of any part. */
struct split {
	tether_cb cb;
	void *arg;
	unsigned pending;
	int status;
};

static void split_cb(struct tether_dev *dev, int status, void *arg)
{
	struct split *s = arg;

	if (status && !s->status)
		s->status = status;
	if (--s->pending == 0) {
		if (s->cb)
			s->cb(dev, s->status, s->arg);
		free(s);
	}
}

/* The iovec pieces of [off, off+len) of @iov, allocated. */
static struct iovec *iov_part(const struct iovec *iov, int cnt, size_t off, size_t len, int *n)
{
	struct iovec *v = calloc((size_t)cnt, sizeof(*v));
	int k = 0;

	if (!v)
		return NULL;
	for (int i = 0; i < cnt && len > 0; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		v[k].iov_base = (uint8_t *)iov[i].iov_base + off;
		v[k].iov_len = iov[i].iov_len - off < len ? iov[i].iov_len - off : len;
		len -= v[k].iov_len;
		off = 0;
		k++;
	}
	*n = k;
	return v;
}

static struct ti_req *rw_req(struct tether_dev *dev, bool write, uint64_t off, size_t len)
{
	struct ti_req *r = req_new();

	if (!r)
		return NULL;
	r->cdb[0] = write ? 0x8a : 0x88;   /* WRITE (16) / READ (16) */
	tt_put_be64(r->cdb + 2, off / dev->block_size);
	tt_put_be32(r->cdb + 10, (uint32_t)(len / dev->block_size));
	r->cdb_len = 16;
	r->dir = write ? TETHER_DIR_WRITE : TETHER_DIR_READ;
	r->modifying = write;
	r->len = (uint32_t)len;
	return r;
}

static int rw(struct tether_dev *dev, bool write, uint64_t off, const struct iovec *iov,
	      int iovcnt, tether_cb cb, void *arg)
{
	size_t len = iov_total(iov, iovcnt);
	uint64_t max;
	struct ti_req *r;
	struct split *s;
	struct tt_list parts, *n;
	int rc = check_range(dev, off, len);

	if (rc)
		return rc;
	if (len == 0)
		return -EINVAL;
	if (dev->closing)
		return -ESHUTDOWN;
	max = max_xfer(dev);
	max -= max % dev->block_size;
	if (len <= max) {
		r = rw_req(dev, write, off, len);
		if (!r)
			return -ENOMEM;
		r->iov = iov;
		r->iovcnt = iovcnt;
		r->cb = cb;
		r->arg = arg;
		return ti_dev_submit(dev, r);
	}
	/* cut in parts of at most max bytes, built first so that a failure submits nothing */
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cb = cb;
	s->arg = arg;
	tt_list_init(&parts);
	for (size_t done = 0; done < len; done += max) {
		size_t l = len - done < max ? len - done : max;
		int cnt = 0;

		r = rw_req(dev, write, off + done, l);
		if (r)
			r->iov_owned = iov_part(iov, iovcnt, done, l, &cnt);
		if (!r || !r->iov_owned) {
			free(r);
			while ((n = tt_list_pop(&parts))) {
				r = tt_list_entry(n, struct ti_req, node);
				free(r->iov_owned);
				free(r);
			}
			free(s);
			return -ENOMEM;
		}
		r->iov = r->iov_owned;
		r->iovcnt = cnt;
		r->cb = split_cb;
		r->arg = s;
		s->pending++;
		tt_list_add_tail(&parts, &r->node);
	}
	while ((n = tt_list_pop(&parts)))
		ti_dev_submit(dev, tt_list_entry(n, struct ti_req, node));
	return 0;
}

int tether_readv(struct tether_dev *dev, uint64_t offset, const struct iovec *iov, int iovcnt,
		 tether_cb cb, void *arg)
{
	return rw(dev, false, offset, iov, iovcnt, cb, arg);
}

int tether_writev(struct tether_dev *dev, uint64_t offset, const struct iovec *iov, int iovcnt,
		  tether_cb cb, void *arg)
{
	return rw(dev, true, offset, iov, iovcnt, cb, arg);
}

int tether_flush(struct tether_dev *dev, tether_cb cb, void *arg)
{
	struct ti_req *r = req_new();

	if (!r)
		return -ENOMEM;
	r->cdb[0] = 0x91;   /* SYNCHRONIZE CACHE (16), the whole unit */
	r->cdb_len = 16;
	r->dir = TETHER_DIR_NONE;
	r->cb = cb;
	r->arg = arg;
	return ti_dev_submit(dev, r);
}

/* A request with an owned data-out buffer of @len bytes. */
static struct ti_req *req_out(uint32_t len)
{
	struct ti_req *r = req_new();

	if (!r)
		return NULL;
	r->owned = calloc(1, len);
	if (!r->owned) {
		free(r);
		return NULL;
	}
	r->iov1.iov_base = r->owned;
	r->iov1.iov_len = len;
	r->iov = &r->iov1;
	r->iovcnt = 1;
	r->len = len;
	r->dir = TETHER_DIR_WRITE;
	r->modifying = true;
	return r;
}

int tether_unmap(struct tether_dev *dev, uint64_t offset, uint64_t length, tether_cb cb,
		 void *arg)
{
	struct ti_req *r;
	uint8_t *d;
	int rc = check_range(dev, offset, length);

	if (rc)
		return rc;
	if (!dev->lbpme)
		return -EOPNOTSUPP;
	if (length == 0 || length / dev->block_size > UINT32_MAX)
		return -EINVAL;
	r = req_out(24);
	if (!r)
		return -ENOMEM;
	d = r->owned;
	tt_put_be16(d, 22);        /* UNMAP data length */
	tt_put_be16(d + 2, 16);    /* block descriptor data length */
	tt_put_be64(d + 8, offset / dev->block_size);
	tt_put_be32(d + 16, (uint32_t)(length / dev->block_size));
	r->cdb[0] = 0x42;
	tt_put_be16(r->cdb + 7, 24);
	r->cdb_len = 10;
	r->cb = cb;
	r->arg = arg;
	return ti_dev_submit(dev, r);
}

int tether_write_zeroes(struct tether_dev *dev, uint64_t offset, uint64_t length, unsigned flags,
			tether_cb cb, void *arg)
{
	struct ti_req *r;
	int rc = check_range(dev, offset, length);

	if (rc)
		return rc;
	if (length == 0 || length / dev->block_size > UINT32_MAX)
		return -EINVAL;
	r = req_out(dev->block_size);
	if (!r)
		return -ENOMEM;
	r->cdb[0] = 0x93;   /* WRITE SAME (16) of one zero block */
	if ((flags & TETHER_ZEROES_MAY_UNMAP) && dev->lbpme)
		r->cdb[1] = 0x08;
	tt_put_be64(r->cdb + 2, offset / dev->block_size);
	tt_put_be32(r->cdb + 10, (uint32_t)(length / dev->block_size));
	r->cdb_len = 16;
	r->cb = cb;
	r->arg = arg;
	return ti_dev_submit(dev, r);
}

int tether_scsi(struct tether_dev *dev, struct tether_scsi_cmd *cmd, tether_cb cb, void *arg)
{
	struct ti_req *r;
	size_t len;

	if (!cmd || cmd->cdb_len == 0 || cmd->cdb_len > 16 || (cmd->dir != TETHER_DIR_NONE &&
							       (!cmd->iov || cmd->iovcnt <= 0)))
		return -EINVAL;
	len = cmd->dir == TETHER_DIR_NONE ? 0 : iov_total(cmd->iov, cmd->iovcnt);
	if (len > UINT32_MAX)
		return -EINVAL;
	r = req_new();
	if (!r)
		return -ENOMEM;
	memcpy(r->cdb, cmd->cdb, cmd->cdb_len);
	r->cdb_len = cmd->cdb_len;
	r->dir = len ? cmd->dir : TETHER_DIR_NONE;
	r->iov = cmd->iov;
	r->iovcnt = cmd->iovcnt;
	r->len = (uint32_t)len;
	r->modifying = !(cmd->flags & TETHER_SCSI_READ_ONLY);
	r->user = cmd;
	r->cb = cb;
	r->arg = arg;
	cmd->status = 0;
	cmd->sense_len = 0;
	cmd->resid = 0;
	return ti_dev_submit(dev, r);
}

/* ---- synchronous wrappers ------------------------------------------------------------------- */

struct sync_wait {
	bool done;
	int status;
};

static void sync_cb(struct tether_dev *dev, int status, void *arg)
{
	struct sync_wait *w = arg;

	(void)dev;
	w->done = true;
	w->status = status;
}

static bool sync_done(void *arg)
{
	return ((struct sync_wait *)arg)->done;
}

static int sync_finish(struct tether_dev *dev, struct sync_wait *w, int rc)
{
	if (rc)
		return rc;
	rc = ti_dev_wait(dev, sync_done, w, 0);
	return rc ? rc : w->status;
}

int tether_preadv(struct tether_dev *dev, const struct iovec *iov, int iovcnt, uint64_t offset)
{
	struct sync_wait w = { 0 };

	return sync_finish(dev, &w, tether_readv(dev, offset, iov, iovcnt, sync_cb, &w));
}

int tether_pwritev(struct tether_dev *dev, const struct iovec *iov, int iovcnt, uint64_t offset)
{
	struct sync_wait w = { 0 };

	return sync_finish(dev, &w, tether_writev(dev, offset, iov, iovcnt, sync_cb, &w));
}

int tether_pread(struct tether_dev *dev, void *buf, size_t len, uint64_t offset)
{
	struct iovec v = { .iov_base = buf, .iov_len = len };

	return tether_preadv(dev, &v, 1, offset);
}

int tether_pwrite(struct tether_dev *dev, const void *buf, size_t len, uint64_t offset)
{
	struct iovec v = { .iov_base = (void *)buf, .iov_len = len };

	return tether_pwritev(dev, &v, 1, offset);
}

int tether_flush_sync(struct tether_dev *dev)
{
	struct sync_wait w = { 0 };

	return sync_finish(dev, &w, tether_flush(dev, sync_cb, &w));
}

int tether_unmap_sync(struct tether_dev *dev, uint64_t offset, uint64_t length)
{
	struct sync_wait w = { 0 };

	return sync_finish(dev, &w, tether_unmap(dev, offset, length, sync_cb, &w));
}

int tether_write_zeroes_sync(struct tether_dev *dev, uint64_t offset, uint64_t length,
			     unsigned flags)
{
	struct sync_wait w = { 0 };

	return sync_finish(dev, &w, tether_write_zeroes(dev, offset, length, flags, sync_cb, &w));
}

int tether_scsi_sync(struct tether_dev *dev, struct tether_scsi_cmd *cmd)
{
	struct sync_wait w = { 0 };

	return sync_finish(dev, &w, tether_scsi(dev, cmd, sync_cb, &w));
}
