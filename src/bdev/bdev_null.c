/* SPDX-License-Identifier: BSD-3-Clause */
/* Null backend: reads return zeroes (or leave the buffers alone with nofill), writes vanish. */
#include "bdev/bdev_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct null_bdev {
	struct tt_bdev bdev;
	bool fill;
};

static int null_submit(struct tt_bdev *bdev, struct tt_bdev_io *io)
{
	struct null_bdev *nb = tt_container_of(bdev, struct null_bdev, bdev);

	if (io->op == TT_BDEV_READ && nb->fill)
		tt_iov_zero(io->iov, io->iovcnt, 0);
	tt_bdev_io_complete(io, 0);
	return 0;
}

static void null_destroy(struct tt_bdev *bdev)
{
	free(tt_container_of(bdev, struct null_bdev, bdev));
}

static const struct tt_bdev_ops null_ops = {
	.kind = "null",
	.submit = null_submit,
	.destroy = null_destroy,
};

int tt_bdev_null_open(const char *args, struct tt_bdev **out, char *err, size_t errlen)
{
	struct tt_bdev_opts o;
	struct null_bdev *nb;
	uint64_t size = 0;
	uint32_t bs = 512;
	bool ro = false, fill = true, first = true;
	char *key, *val;
	int rc = 0;

	if (tt_bdev_opts_init(&o, args) < 0)
		return tt_bdev_err(err, errlen, -ENOMEM, "null: out of memory");
	while (rc == 0 && tt_bdev_opts_next(&o, &key, &val)) {
		if (first && !val)
			rc = tt_bdev_opt_size("null", key, &size, err, errlen);
		else if (strcmp(key, "size") == 0)
			rc = tt_bdev_opt_size("null", val, &size, err, errlen);
		else if (strcmp(key, "bs") == 0)
			rc = tt_bdev_opt_bs("null", val, &bs, err, errlen);
		else if (strcmp(key, "ro") == 0 && !val)
			ro = true;
		else if (strcmp(key, "nofill") == 0 && !val)
			fill = false;
		else
			rc = tt_bdev_err(err, errlen, -EINVAL, "null: unknown option '%s'", key);
		first = false;
	}
	tt_bdev_opts_fini(&o);
	if (rc < 0)
		return rc;
	if (!size)
		return tt_bdev_err(err, errlen, -EINVAL, "null: missing size");
	rc = tt_bdev_check_size("null", size, bs, err, errlen);
	if (rc < 0)
		return rc;
	nb = calloc(1, sizeof(*nb));
	if (!nb)
		return tt_bdev_err(err, errlen, -ENOMEM, "null: out of memory");
	tt_bdev_init(&nb->bdev, &null_ops);
	nb->fill = fill;
	nb->bdev.size = size;
	nb->bdev.block_size = bs;
	nb->bdev.thin = fill;
	nb->bdev.readonly = ro;
	nb->bdev.volatile_cache = false;
	*out = &nb->bdev;
	return 0;
}
