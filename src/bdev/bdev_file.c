/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * File backend: a regular file or a block device.
 *
 * I/O goes through the io_uring of the submitting loop (uring.h). Where io_uring is unavailable
 * (or with io=sync) the same requests run as synchronous system calls inside tt_bdev_submit, and
 * complete later like the others.
 *
 * A request walks through stages (one system call each, repeated after a short transfer):
 *   RW          readv/writev of the data (bounced through an aligned buffer for O_DIRECT when the
 *               caller's iovecs are not aligned); a read past the end of a regular file reads zeroes
 *   FLUSH       fdatasync
 *   FALLOC      UNMAP: punch a hole (block devices: zero by deallocating);
 *               WRITE_ZEROES: FALLOC_FL_ZERO_RANGE; when that is refused, ZERO_WRITE
 *   ZERO_WRITE  writev from a static zero buffer
 */
#include "bdev/bdev_impl.h"
#include "bdev/uring.h"
#include "base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define REQ_VEC 16          /* iovecs kept inside a request */
#define REQ_RETRIES 16      /* -EAGAIN / -EINTR resubmissions */
#define ZERO_BUF_SIZE (64 * 1024)

static uint8_t zero_buf[ZERO_BUF_SIZE] __attribute__((aligned(TT_BDEV_BUF_ALIGN)));

struct file_bdev {
	struct tt_bdev bdev;
	int fd;
	char *path;
	bool blkdev;
	bool direct;
	bool sync_io;           /* io=sync */
	uint32_t dio_mem_align; /* O_DIRECT: buffer address alignment */
	uint32_t dio_len_align; /* O_DIRECT: offset and length alignment */
	int zero_range;         /* atomic: 0 try FALLOC_FL_ZERO_RANGE, 1 refused: write zeroes */
};

enum file_stage {
	FILE_RW,
	FILE_FLUSH,
	FILE_FALLOC,
	FILE_ZERO_WRITE,
};

struct file_req {
	struct tt_uring_op op;
	struct tt_uring *ring;  /* NULL for synchronous requests */
	struct tt_bdev_io *io;
	struct file_bdev *fb;
	enum file_stage stage;
	int falloc_mode;
	uint64_t done;          /* bytes of the stage finished */
	int retries;
	int status;
	const struct iovec *base; /* data iovecs: io->iov or the bounce buffer */
	int basecnt;
	const struct iovec *iov;  /* what is left of base to transfer */
	int iovcnt;
	void *bounce;
	struct iovec bounce_iov;
	struct iovec *heap_vec;   /* remainder with more than REQ_VEC iovecs */
	struct iovec vec[REQ_VEC];
};

/* One system call, as io_uring or the synchronous path performs it. */
struct file_call {
	uint8_t opcode; /* IORING_OP_READV, _WRITEV, _FSYNC, _FALLOCATE */
	const struct iovec *iov;
	int iovcnt;
	uint64_t off;
	uint64_t len;   /* FALLOCATE */
	int mode;       /* FALLOCATE */
	int rw_flags;   /* RWF_DSYNC */
};

/* ---- request stages ---- */

static bool req_aligned(const struct file_bdev *fb, const struct iovec *iov, int iovcnt)
{
	for (int i = 0; i < iovcnt; i++)
		if ((uintptr_t)iov[i].iov_base % fb->dio_mem_align || iov[i].iov_len % fb->dio_len_align)
			return false;
	return true;
}

static void req_release(struct file_req *req)
{
	free(req->bounce);
	req->bounce = NULL;
	free(req->heap_vec);
	req->heap_vec = NULL;
}

static int req_start(struct file_req *req, struct file_bdev *fb, struct tt_bdev_io *io)
{
	req->io = io;
	req->fb = fb;
	req->done = 0;
	req->retries = 0;
	req->status = 0;
	req->bounce = NULL;
	req->heap_vec = NULL;
	switch (io->op) {
	case TT_BDEV_READ:
	case TT_BDEV_WRITE:
		req->stage = FILE_RW;
		req->base = io->iov;
		req->basecnt = io->iovcnt;
		if (io->iovcnt > IOV_MAX || (fb->direct && !req_aligned(fb, io->iov, io->iovcnt))) {
			if (posix_memalign(&req->bounce, TT_BDEV_BUF_ALIGN, io->len))
				return -ENOMEM;
			if (io->op == TT_BDEV_WRITE)
				tt_iov_to_buf(io->iov, io->iovcnt, req->bounce, io->len);
			req->bounce_iov.iov_base = req->bounce;
			req->bounce_iov.iov_len = io->len;
			req->base = &req->bounce_iov;
			req->basecnt = 1;
		}
		req->iov = req->base;
		req->iovcnt = req->basecnt;
		break;
	case TT_BDEV_FLUSH:
		req->stage = FILE_FLUSH;
		break;
	case TT_BDEV_UNMAP:
		req->stage = FILE_FALLOC;
		req->falloc_mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
		break;
	case TT_BDEV_WRITE_ZEROES:
		if (__atomic_load_n(&fb->zero_range, __ATOMIC_RELAXED)) {
			req->stage = FILE_ZERO_WRITE;
		} else {
			req->stage = FILE_FALLOC;
			req->falloc_mode = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
		}
		break;
	case TT_BDEV_WRITE_SAME:
	case TT_BDEV_COMPARE_AND_WRITE:
		return -EOPNOTSUPP; /* not offered: tt_bdev_submit refuses them */
	}
	return 0;
}

/* Points req->iov at what follows the first req->done bytes of the data. */
static int req_remainder(struct file_req *req)
{
	uint64_t skip = req->done;
	int i = 0, n;
	struct iovec *v;

	while (i < req->basecnt && skip >= req->base[i].iov_len)
		skip -= req->base[i++].iov_len;
	n = req->basecnt - i;
	if (n > REQ_VEC) {
		if (!req->heap_vec) {
			req->heap_vec = malloc(sizeof(*v) * (size_t)n);
			if (!req->heap_vec)
				return -ENOMEM;
		}
		v = req->heap_vec;
	} else {
		v = req->vec;
	}
	for (int k = 0; k < n; k++)
		v[k] = req->base[i + k];
	if (n) {
		v[0].iov_base = (char *)v[0].iov_base + skip;
		v[0].iov_len -= skip;
	}
	req->iov = v;
	req->iovcnt = n;
	return 0;
}

static void req_next_call(struct file_req *req, struct file_call *c)
{
	struct tt_bdev_io *io = req->io;

	memset(c, 0, sizeof(*c));
	c->off = io->offset + req->done;
	switch (req->stage) {
	case FILE_RW:
		c->opcode = io->op == TT_BDEV_READ ? IORING_OP_READV : IORING_OP_WRITEV;
		c->iov = req->iov;
		c->iovcnt = req->iovcnt;
		if (io->op == TT_BDEV_WRITE && io->fua)
			c->rw_flags = RWF_DSYNC;
		break;
	case FILE_FLUSH:
		c->opcode = IORING_OP_FSYNC;
		break;
	case FILE_FALLOC:
		c->opcode = IORING_OP_FALLOCATE;
		c->off = io->offset;
		c->len = io->len;
		c->mode = req->falloc_mode;
		break;
	case FILE_ZERO_WRITE: {
		uint64_t left = io->len - req->done;
		int n = 0;

		while (left && n < REQ_VEC) {
			size_t l = left < ZERO_BUF_SIZE ? left : ZERO_BUF_SIZE;

			req->vec[n].iov_base = zero_buf;
			req->vec[n++].iov_len = l;
			left -= l;
		}
		c->opcode = IORING_OP_WRITEV;
		c->iov = req->vec;
		c->iovcnt = n;
		break;
	}
	}
}

/* A read stopped short of @len: true when the rest lies beyond the end of a regular file. */
static bool req_at_eof(struct file_req *req)
{
	struct stat st;

	if (req->fb->blkdev || fstat(req->fb->fd, &st) < 0)
		return false;
	return req->io->offset + req->done >= (uint64_t)st.st_size;
}

static bool req_fail(struct file_req *req, int res)
{
	req->status = res;
	return true;
}

/* Takes the result of the last call; true when the request is finished (req->status set). */
static bool req_result(struct file_req *req, int res)
{
	struct tt_bdev_io *io = req->io;

	if ((res == -EAGAIN || res == -EINTR) && req->retries++ < REQ_RETRIES)
		return false;
	switch (req->stage) {
	case FILE_RW:
		if (res < 0)
			return req_fail(req, res);
		req->done += (uint64_t)res;
		if (req->done < io->len) {
			if (io->op == TT_BDEV_WRITE && res == 0)
				return req_fail(req, -EIO);
			if (req_remainder(req) < 0)
				return req_fail(req, -ENOMEM);
			if (io->op == TT_BDEV_READ && (res == 0 || req_at_eof(req))) {
				if (res == 0 && req->fb->blkdev)
					return req_fail(req, -EIO);
				tt_iov_zero(req->iov, req->iovcnt, 0);
				req->done = io->len;
			} else {
				return false;
			}
		}
		if (io->op == TT_BDEV_READ && req->bounce)
			tt_iov_from_buf(io->iov, io->iovcnt, req->bounce, io->len);
		return true;
	case FILE_FLUSH:
		req->status = res < 0 ? res : 0;
		return true;
	case FILE_FALLOC:
		if (res == -EOPNOTSUPP || (res == -EINVAL && req->falloc_mode & FALLOC_FL_ZERO_RANGE)) {
			/* the file system or device refuses: write the zeroes instead */
			if (req->falloc_mode & FALLOC_FL_ZERO_RANGE &&
			    !__atomic_exchange_n(&req->fb->zero_range, 1, __ATOMIC_RELAXED))
				tt_info("bdev", "file %s: zero range refused (%s), writing zeroes",
					req->fb->path, strerror(-res));
			req->stage = FILE_ZERO_WRITE;
			req->done = 0;
			return false;
		}
		req->status = res < 0 ? res : 0;
		return true;
	case FILE_ZERO_WRITE:
		if (res < 0)
			return req_fail(req, res);
		if (res == 0)
			return req_fail(req, -EIO);
		req->done += (uint64_t)res;
		return req->done >= io->len;
	}
	return req_fail(req, -EINVAL);
}

/* ---- synchronous path ---- */

static int call_sync(struct file_bdev *fb, const struct file_call *c)
{
	ssize_t n = 0;

	switch (c->opcode) {
	case IORING_OP_READV:
		n = preadv2(fb->fd, c->iov, c->iovcnt, (off_t)c->off, c->rw_flags);
		break;
	case IORING_OP_WRITEV:
		n = pwritev2(fb->fd, c->iov, c->iovcnt, (off_t)c->off, c->rw_flags);
		break;
	case IORING_OP_FSYNC:
		n = fdatasync(fb->fd);
		break;
	case IORING_OP_FALLOCATE:
		n = fallocate(fb->fd, c->mode, (off_t)c->off, (off_t)c->len);
		break;
	default:
		return -EINVAL;
	}
	if (n < 0)
		return -errno;
	return n > INT_MAX ? INT_MAX : (int)n;
}

static int file_submit_sync(struct file_bdev *fb, struct tt_bdev_io *io)
{
	struct file_req req = { 0 };
	struct file_call c;
	int rc;

	rc = req_start(&req, fb, io);
	if (rc < 0) {
		req_release(&req);
		return rc;
	}
	do {
		req_next_call(&req, &c);
	} while (!req_result(&req, call_sync(fb, &c)));
	req_release(&req);
	tt_bdev_io_complete(io, req.status);
	return 0;
}

/* ---- io_uring path ---- */

static void req_prep(struct tt_uring_op *op, struct io_uring_sqe *sqe)
{
	struct file_req *req = tt_container_of(op, struct file_req, op);
	int fd = req->fb->fd;
	struct file_call c;

	req_next_call(req, &c);
	switch (c.opcode) {
	case IORING_OP_READV:
		io_uring_prep_readv2(sqe, fd, c.iov, (unsigned)c.iovcnt, c.off, c.rw_flags);
		break;
	case IORING_OP_WRITEV:
		io_uring_prep_writev2(sqe, fd, c.iov, (unsigned)c.iovcnt, c.off, c.rw_flags);
		break;
	case IORING_OP_FSYNC:
		io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
		break;
	case IORING_OP_FALLOCATE:
		io_uring_prep_fallocate(sqe, fd, c.mode, (off_t)c.off, (off_t)c.len);
		break;
	}
}

static void req_complete(struct tt_uring_op *op, int res)
{
	struct file_req *req = tt_container_of(op, struct file_req, op);
	struct tt_bdev_io *io = req->io;
	int status;

	if (!req_result(req, res)) {
		tt_uring_queue(req->ring, &req->op);
		return;
	}
	status = req->status;
	req_release(req);
	free(req);
	tt_bdev_io_complete(io, status);
}

static int file_submit(struct tt_bdev *bdev, struct tt_bdev_io *io)
{
	struct file_bdev *fb = tt_container_of(bdev, struct file_bdev, bdev);
	struct tt_uring *ring = fb->sync_io ? NULL : tt_uring_get(io->loop);
	struct file_req *req;
	int rc;

	if (!ring)
		return file_submit_sync(fb, io);
	req = malloc(sizeof(*req));
	if (!req)
		return -ENOMEM;
	rc = req_start(req, fb, io);
	if (rc < 0) {
		req_release(req);
		free(req);
		return rc;
	}
	req->ring = ring;
	req->op.prep = req_prep;
	req->op.complete = req_complete;
	tt_uring_queue(ring, &req->op);
	return 0;
}

static void file_destroy(struct tt_bdev *bdev)
{
	struct file_bdev *fb = tt_container_of(bdev, struct file_bdev, bdev);

	if (fb->fd >= 0)
		close(fb->fd);
	free(fb->path);
	free(fb);
}

/* Provisioning from the file's holes (SEEK_DATA / SEEK_HOLE); a block device reports mapped. */
static int file_get_status(struct tt_bdev *bdev, uint64_t offset, uint64_t max, bool *mapped,
			   uint64_t *len)
{
	struct file_bdev *fb = tt_container_of(bdev, struct file_bdev, bdev);
	uint64_t end = offset + max;
	off_t data, hole;

	*mapped = true;
	*len = max;
	if (fb->blkdev)
		return 0;
	data = lseek(fb->fd, (off_t)offset, SEEK_DATA);
	if (data < 0 && errno != ENXIO)
		return errno == EINVAL ? 0 : -errno; /* EINVAL: no SEEK_DATA here, all data */
	if (data < 0 || (uint64_t)data > offset) {
		/* a hole up to the next data (ENXIO: up to the end of the file); a partly written
		 * block at its end counts as mapped */
		uint64_t next = data < 0 ? end : (uint64_t)data;

		next -= next % bdev->block_size;
		if (next > offset) {
			*mapped = false;
			*len = (next < end ? next : end) - offset;
		}
		return 0;
	}
	hole = lseek(fb->fd, (off_t)offset, SEEK_HOLE);
	if (hole < 0)
		return -errno;
	if ((uint64_t)hole < end) /* data up to the hole, rounded up to whole blocks */
		*len = ((uint64_t)hole - offset + bdev->block_size - 1) / bdev->block_size *
		       bdev->block_size;
	return 0;
}

static const struct tt_bdev_ops file_ops = {
	.kind = "file",
	.submit = file_submit,
	.destroy = file_destroy,
	.get_status = file_get_status,
};

/* ---- opening ---- */

struct file_opts {
	const char *path;
	uint64_t size;
	uint32_t bs;
	bool create, direct, dsync, ro, sync_io;
};

static int file_parse(char *path_key, struct tt_bdev_opts *o, struct file_opts *fo, char *err,
		      size_t errlen)
{
	char *key, *val;
	int rc = 0;

	fo->path = path_key;
	while (rc == 0 && tt_bdev_opts_next(o, &key, &val)) {
		bool bare = val == NULL;

		if (strcmp(key, "size") == 0)
			rc = tt_bdev_opt_size("file", val, &fo->size, err, errlen);
		else if (strcmp(key, "bs") == 0)
			rc = tt_bdev_opt_bs("file", val, &fo->bs, err, errlen);
		else if (strcmp(key, "create") == 0 && bare)
			fo->create = true;
		else if (strcmp(key, "direct") == 0 && bare)
			fo->direct = true;
		else if (strcmp(key, "dsync") == 0 && bare)
			fo->dsync = true;
		else if (strcmp(key, "ro") == 0 && bare)
			fo->ro = true;
		else if (strcmp(key, "io") == 0 && val && strcmp(val, "sync") == 0)
			fo->sync_io = true;
		else if (strcmp(key, "io") == 0 && val && strcmp(val, "uring") == 0)
			fo->sync_io = false;
		else if (strcmp(key, "io") == 0)
			rc = tt_bdev_err(err, errlen, -EINVAL, "file: bad io mode '%s' (uring or sync)",
					 val ? val : "");
		else
			rc = tt_bdev_err(err, errlen, -EINVAL, "file: unknown option '%s'", key);
	}
	if (rc == 0 && fo->create && !fo->size)
		rc = tt_bdev_err(err, errlen, -EINVAL, "file: create needs size=");
	if (rc == 0 && fo->create && fo->ro)
		rc = tt_bdev_err(err, errlen, -EINVAL, "file: create and ro exclude each other");
	return rc;
}

static uint64_t sysfs_queue_u64(dev_t dev, const char *attr)
{
	static const char *const fmts[] = {
		"/sys/dev/block/%u:%u/queue/%s",
		"/sys/dev/block/%u:%u/../queue/%s", /* a partition: its disk's queue */
	};
	unsigned long long v = 0;
	char path[128];

	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		FILE *f;

		snprintf(path, sizeof(path), fmts[i], major(dev), minor(dev), attr);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fscanf(f, "%llu", &v) != 1)
			v = 0;
		fclose(f);
		return v;
	}
	return 0;
}

/* O_DIRECT alignment, as the kernel reports it (Linux 6.1 and later), else the defaults set. */
static int file_dio_align(struct file_bdev *fb, const struct file_opts *fo, char *err, size_t errlen)
{
#ifdef STATX_DIOALIGN
	struct statx stx;

	if (statx(fb->fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) == 0 &&
	    (stx.stx_mask & STATX_DIOALIGN)) {
		if (!stx.stx_dio_offset_align)
			return tt_bdev_err(err, errlen, -EINVAL,
					   "file: %s: direct I/O not supported here", fo->path);
		fb->dio_mem_align = stx.stx_dio_mem_align ? stx.stx_dio_mem_align : 1;
		fb->dio_len_align = stx.stx_dio_offset_align;
	}
#endif
	if (fb->dio_len_align > fo->bs)
		return tt_bdev_err(err, errlen, -EINVAL, "file: %s: direct I/O needs bs=%u", fo->path,
				   fb->dio_len_align);
	return 0;
}

/* Sizes the backend from a block device. */
static int file_open_blkdev(struct file_bdev *fb, const struct stat *st, struct file_opts *fo,
			    char *err, size_t errlen)
{
	uint64_t devsize;
	int lss = 512;
	char a[32], b[32];

	if (ioctl(fb->fd, BLKGETSIZE64, &devsize) < 0)
		return tt_bdev_err(err, errlen, -errno, "file: %s: cannot get size: %s", fo->path,
				   strerror(errno));
	if (ioctl(fb->fd, BLKSSZGET, &lss) < 0)
		lss = 512;
	if (!fo->bs)
		fo->bs = lss > 512 ? 4096 : 512;
	if ((uint32_t)lss > fo->bs)
		return tt_bdev_err(err, errlen, -EINVAL, "file: %s has %d-byte sectors; use bs=4096",
				   fo->path, lss);
	if (fo->size > devsize)
		return tt_bdev_err(err, errlen, -EINVAL, "file: size=%s is larger than %s (%s)",
				   tt_format_size(fo->size, a, sizeof(a)), fo->path,
				   tt_format_size(devsize, b, sizeof(b)));
	fb->bdev.size = fo->size ? fo->size : devsize / fo->bs * fo->bs;
	fb->blkdev = true;
	/* UNMAP is a hole punch, which the kernel turns into a deallocating write of zeroes */
	fb->bdev.thin = !fo->ro && sysfs_queue_u64(st->st_rdev, "write_zeroes_max_bytes") > 0;
	fb->dio_mem_align = (uint32_t)lss;
	fb->dio_len_align = (uint32_t)lss;
	return 0;
}

/* Sizes (creating or extending if asked) a regular file and probes hole punching. */
static int file_open_regular(struct file_bdev *fb, const struct stat *st, struct file_opts *fo,
			     bool created, char *err, size_t errlen)
{
	uint64_t fsize = (uint64_t)st->st_size, probe;
	char a[32], b[32];

	if (!fo->bs)
		fo->bs = 512;
	if (fo->size && fsize < fo->size) {
		if (!fo->create && !created)
			return tt_bdev_err(err, errlen, -EINVAL,
					   "file: %s is %s, smaller than size=%s (add create to extend it)",
					   fo->path, tt_format_size(fsize, a, sizeof(a)),
					   tt_format_size(fo->size, b, sizeof(b)));
		if (ftruncate(fb->fd, (off_t)fo->size) < 0)
			return tt_bdev_err(err, errlen, -errno, "file: %s: cannot extend to %s: %s",
					   fo->path, tt_format_size(fo->size, a, sizeof(a)),
					   strerror(errno));
		fsize = fo->size;
	}
	fb->bdev.size = fo->size ? fo->size : fsize / fo->bs * fo->bs;
	if (!fb->bdev.size)
		return tt_bdev_err(err, errlen, -EINVAL, "file: %s is empty (give size= and create)",
				   fo->path);
	fb->dio_mem_align = 512;
	fb->dio_len_align = 512;
	/* a hole past the end of the file changes nothing, and fails where punching is unknown */
	probe = (fsize + 65535) / 65536 * 65536 + 65536;
	fb->bdev.thin = !fo->ro &&
		fallocate(fb->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)probe, 4096) == 0;
	return 0;
}

int tt_bdev_file_open(const char *args, struct tt_bdev **out, char *err, size_t errlen)
{
	struct file_opts fo = { 0 };
	struct tt_bdev_opts o;
	struct file_bdev *fb;
	struct stat st;
	bool created = false;
	char *key, *val, sz[32];
	int flags, rc;

	if (tt_bdev_opts_init(&o, args) < 0)
		return tt_bdev_err(err, errlen, -ENOMEM, "file: out of memory");
	/* the path is the first element, and must not be an option */
	if (args[0] == ',' || !tt_bdev_opts_next(&o, &key, &val) ||
	    (val && (!strcmp(key, "size") || !strcmp(key, "bs") || !strcmp(key, "io")))) {
		tt_bdev_opts_fini(&o);
		return tt_bdev_err(err, errlen, -EINVAL, "file: missing path");
	}
	if (val)
		val[-1] = '='; /* a path may contain '=' */
	rc = file_parse(key, &o, &fo, err, errlen);
	if (rc < 0)
		goto out_opts;

	fb = calloc(1, sizeof(*fb));
	if (!fb || !(fb->path = strdup(fo.path))) {
		free(fb);
		rc = tt_bdev_err(err, errlen, -ENOMEM, "file: out of memory");
		goto out_opts;
	}
	tt_bdev_init(&fb->bdev, &file_ops);
	flags = (fo.ro ? O_RDONLY : O_RDWR) | O_CLOEXEC | (fo.direct ? O_DIRECT : 0) |
		(fo.dsync ? O_DSYNC : 0);
	fb->fd = open(fo.path, flags);
	if (fb->fd < 0 && errno == ENOENT && fo.size && !fo.ro) {
		fb->fd = open(fo.path, flags | O_CREAT | O_EXCL, 0644);
		created = fb->fd >= 0;
	}
	if (fb->fd < 0) {
		rc = -errno;
		if (rc == -EINVAL && fo.direct)
			tt_bdev_err(err, errlen, rc, "file: %s: direct I/O not supported here", fo.path);
		else
			tt_bdev_err(err, errlen, rc, "file: cannot open %s: %s%s", fo.path, strerror(-rc),
				    rc == -ENOENT ? " (give size= to create it)" : "");
		goto out_free;
	}
	if (fstat(fb->fd, &st) < 0) {
		rc = tt_bdev_err(err, errlen, -errno, "file: %s: %s", fo.path, strerror(errno));
		goto out_free;
	}
	if (S_ISBLK(st.st_mode))
		rc = file_open_blkdev(fb, &st, &fo, err, errlen);
	else if (S_ISREG(st.st_mode))
		rc = file_open_regular(fb, &st, &fo, created, err, errlen);
	else
		rc = tt_bdev_err(err, errlen, -EINVAL,
				 "file: %s is neither a regular file nor a block device", fo.path);
	if (rc == 0 && fo.direct)
		rc = file_dio_align(fb, &fo, err, errlen);
	if (rc < 0)
		goto out_free;
	rc = tt_bdev_check_size("file", fb->bdev.size, fo.bs, err, errlen);
	if (rc < 0)
		goto out_free;
	fb->direct = fo.direct;
	fb->sync_io = fo.sync_io;
	fb->bdev.block_size = fo.bs;
	fb->bdev.readonly = fo.ro;
	fb->bdev.volatile_cache = !fo.dsync;
	tt_info("bdev", "file %s: %s, bs %u%s%s%s%s%s", fo.path,
		tt_format_size(fb->bdev.size, sz, sizeof(sz)), fo.bs, fb->blkdev ? ", block device" : "",
		created ? ", created" : "", fo.direct ? ", direct" : "", fb->bdev.thin ? ", thin" : "",
		fo.ro ? ", read-only" : "");
	tt_bdev_opts_fini(&o);
	*out = &fb->bdev;
	return 0;

out_free:
	if (created)
		unlink(fo.path);
	file_destroy(&fb->bdev);
out_opts:
	tt_bdev_opts_fini(&o);
	return rc;
}
