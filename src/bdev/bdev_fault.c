/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fail backend (tests): wraps another backend and completes chosen I/Os with an error instead of
 * passing them on. An I/O is chosen when the backend is armed, its kind is selected (op=), it
 * touches the block range (lba=; FLUSH touches none), it is the Nth such I/O (every=), and fewer
 * than count= have failed so far. Counters are shared by all loops.
 */
#include "bdev/bdev_impl.h"
#include "base/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define OP_BIT(op) (1u << (op))
#define OPS_RW (OP_BIT(TT_BDEV_READ) | OP_BIT(TT_BDEV_WRITE))

/* Holders of the inner backend: this wrapper (bdev.inner), dropped in fail_destroy. */
struct fail_bdev {
	struct tt_bdev bdev;
	unsigned ops;           /* OP_BIT() of the chosen kinds */
	bool has_range;
	uint64_t lba_first, lba_last; /* inclusive, in blocks */
	uint64_t every;         /* 1: each matching I/O */
	uint64_t count;         /* 0: no limit */
	int error;
	int armed;              /* atomic */
	uint64_t matched;       /* atomic */
	uint64_t failed;        /* atomic */
};

struct fail_req {
	struct tt_bdev_io child;
	struct tt_bdev_io *io;
};

static const struct tt_bdev_ops fail_ops;

static bool fail_chosen(struct fail_bdev *fb, const struct tt_bdev_io *io)
{
	uint32_t bs = fb->bdev.block_size;

	if (!__atomic_load_n(&fb->armed, __ATOMIC_ACQUIRE) || !(fb->ops & OP_BIT(io->op)))
		return false;
	if (fb->has_range) {
		if (io->op == TT_BDEV_FLUSH || io->len == 0)
			return false;
		if (io->offset / bs > fb->lba_last || (io->offset + io->len) / bs - 1 < fb->lba_first)
			return false;
	}
	if (__atomic_add_fetch(&fb->matched, 1, __ATOMIC_RELAXED) % fb->every)
		return false;
	if (fb->count && __atomic_add_fetch(&fb->failed, 1, __ATOMIC_RELAXED) > fb->count)
		return false;
	return true;
}

static void fail_child_done(struct tt_bdev_io *child, int status)
{
	struct fail_req *req = tt_container_of(child, struct fail_req, child);
	struct tt_bdev_io *io = req->io;

	free(req);
	tt_bdev_io_complete(io, status);
}

static int fail_submit(struct tt_bdev *bdev, struct tt_bdev_io *io)
{
	struct fail_bdev *fb = tt_container_of(bdev, struct fail_bdev, bdev);
	struct fail_req *req;
	int rc;

	if (fail_chosen(fb, io)) {
		tt_debug("bdev", "fail: failing op %d at %llu+%llu with %s", io->op,
			 (unsigned long long)io->offset, (unsigned long long)io->len,
			 strerror(-fb->error));
		tt_bdev_io_complete(io, fb->error);
		return 0;
	}
	req = malloc(sizeof(*req));
	if (!req)
		return -ENOMEM;
	req->io = io;
	rc = tt_bdev_forward(bdev->inner, io, &req->child, fail_child_done, req);
	if (rc < 0)
		free(req);
	return rc;
}

static void fail_destroy(struct tt_bdev *bdev)
{
	tt_bdev_put(bdev->inner);
	free(tt_container_of(bdev, struct fail_bdev, bdev));
}

static const struct tt_bdev_ops fail_ops = {
	.kind = "fail",
	.submit = fail_submit,
	.destroy = fail_destroy,
};

int tt_bdev_fail_arm(struct tt_bdev *bdev, bool on)
{
	struct tt_bdev *f = tt_bdev_find(bdev, &fail_ops);

	if (!f)
		return -EINVAL;
	__atomic_store_n(&tt_container_of(f, struct fail_bdev, bdev)->armed, on, __ATOMIC_RELEASE);
	return 0;
}

/* ---- spec ---- */

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

static int parse_ops(char *val, unsigned *ops)
{
	static const struct { const char *name; unsigned bits; } names[] = {
		{ "read", OP_BIT(TT_BDEV_READ) },
		{ "write", OP_BIT(TT_BDEV_WRITE) },
		{ "flush", OP_BIT(TT_BDEV_FLUSH) },
		{ "unmap", OP_BIT(TT_BDEV_UNMAP) },
		{ "zeroes", OP_BIT(TT_BDEV_WRITE_ZEROES) },
		{ "rw", OPS_RW },
		{ "all", ~0u },
	};
	char *name;

	*ops = 0;
	if (!val || !*val)
		return -EINVAL;
	while ((name = strsep(&val, "+"))) {
		size_t i;

		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strcmp(name, names[i].name) == 0)
				break;
		if (i == sizeof(names) / sizeof(names[0]))
			return -EINVAL;
		*ops |= names[i].bits;
	}
	return 0;
}

static int parse_error(const char *val, int *error)
{
	static const struct { const char *name; int err; } names[] = {
		{ "eio", EIO }, { "enospc", ENOSPC }, { "erofs", EROFS },
		{ "enomem", ENOMEM }, { "etimedout", ETIMEDOUT }, { "enodata", ENODATA },
	};

	for (size_t i = 0; val && i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(val, names[i].name) == 0) {
			*error = -names[i].err;
			return 0;
		}
	}
	return -EINVAL;
}

static int fail_parse(struct fail_bdev *fb, const char *opts, char *err, size_t errlen)
{
	struct tt_bdev_opts o;
	char *key, *val, *dash;
	int rc = 0;

	if (tt_bdev_opts_init(&o, opts) < 0)
		return tt_bdev_err(err, errlen, -ENOMEM, "fail: out of memory");
	while (rc == 0 && tt_bdev_opts_next(&o, &key, &val)) {
		if (strcmp(key, "lba") == 0) {
			dash = val ? strchr(val, '-') : NULL;
			if (dash)
				*dash++ = '\0';
			if (parse_u64(val, &fb->lba_first) < 0 ||
			    parse_u64(dash ? dash : val, &fb->lba_last) < 0 ||
			    fb->lba_last < fb->lba_first) {
				if (dash)
					dash[-1] = '-';
				rc = tt_bdev_err(err, errlen, -EINVAL, "fail: bad lba '%s' (A or A-B)",
						 val ? val : "");
			}
			fb->has_range = true;
		} else if (strcmp(key, "op") == 0) {
			char *copy = val ? strdup(val) : NULL;

			if (parse_ops(copy, &fb->ops) < 0)
				rc = tt_bdev_err(err, errlen, -EINVAL,
						 "fail: bad op '%s' (read, write, flush, unmap, zeroes, rw, all; join with +)",
						 val ? val : "");
			free(copy);
		} else if (strcmp(key, "every") == 0) {
			if (parse_u64(val, &fb->every) < 0 || fb->every == 0)
				rc = tt_bdev_err(err, errlen, -EINVAL, "fail: bad every '%s'", val ? val : "");
		} else if (strcmp(key, "count") == 0) {
			if (parse_u64(val, &fb->count) < 0)
				rc = tt_bdev_err(err, errlen, -EINVAL, "fail: bad count '%s'", val ? val : "");
		} else if (strcmp(key, "err") == 0) {
			if (parse_error(val, &fb->error) < 0)
				rc = tt_bdev_err(err, errlen, -EINVAL,
						 "fail: bad err '%s' (eio, enospc, erofs, enomem, etimedout, enodata)",
						 val ? val : "");
		} else if (strcmp(key, "off") == 0 && !val) {
			fb->armed = 0;
		} else {
			rc = tt_bdev_err(err, errlen, -EINVAL, "fail: unknown option '%s'", key);
		}
	}
	tt_bdev_opts_fini(&o);
	return rc;
}

int tt_bdev_fail_open(const char *args, struct tt_bdev **out, char *err, size_t errlen)
{
	struct fail_bdev *fb;
	struct tt_bdev *inner;
	const char *inner_spec;
	char *opts;
	int rc;

	rc = tt_bdev_wrapper_split("fail", args, &opts, &inner_spec, err, errlen);
	if (rc < 0)
		return rc;
	fb = calloc(1, sizeof(*fb));
	if (!fb) {
		free(opts);
		return tt_bdev_err(err, errlen, -ENOMEM, "fail: out of memory");
	}
	fb->ops = OPS_RW;
	fb->every = 1;
	fb->error = -EIO;
	fb->armed = 1;
	rc = fail_parse(fb, opts, err, errlen);
	free(opts);
	if (rc == 0)
		rc = tt_bdev_open(inner_spec, &inner, err, errlen);
	if (rc < 0) {
		free(fb);
		return rc;
	}
	tt_bdev_wrapper_init(&fb->bdev, &fail_ops, inner);
	*out = &fb->bdev;
	return 0;
}
