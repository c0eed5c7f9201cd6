/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RAM backend: one anonymous private mapping, reserved lazily (MAP_NORESERVE) so that memory is
 * used only where written. Deallocation gives whole pages back with MADV_DONTNEED (they read as
 * zero afterwards) and zeroes partial pages. I/Os to disjoint ranges from several loop threads
 * are plain memory copies and need no lock. A bit per page (set atomically) records the pages
 * written since their last deallocation: the provisioning status that tt_bdev_get_status
 * reports (reading an unwritten page maps the shared zero page, so residency would not do).
 */
#include "bdev/bdev_impl.h"
#include "base/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct ram_bdev {
	struct tt_bdev bdev;
	uint8_t *base;
	size_t page;
	uint64_t *written; /* bit per page */
};

static void ram_mark(struct ram_bdev *rb, uint64_t off, uint64_t len, bool written)
{
	for (uint64_t p = off / rb->page; p < (off + len + rb->page - 1) / rb->page; p++) {
		uint64_t *w = &rb->written[p / 64], bit = 1ull << (p % 64);

		if (!!(__atomic_load_n(w, __ATOMIC_RELAXED) & bit) == written)
			continue;
		if (written)
			__atomic_fetch_or(w, bit, __ATOMIC_RELAXED);
		else
			__atomic_fetch_and(w, ~bit, __ATOMIC_RELAXED);
	}
}

static void ram_zero(struct ram_bdev *rb, uint64_t off, uint64_t len)
{
	uint64_t end = off + len;
	uint64_t pfirst = (off + rb->page - 1) / rb->page * rb->page;
	uint64_t plast = end / rb->page * rb->page;

	if (pfirst >= plast) {
		memset(rb->base + off, 0, len);
		return;
	}
	memset(rb->base + off, 0, pfirst - off);
	if (madvise(rb->base + pfirst, plast - pfirst, MADV_DONTNEED) < 0)
		memset(rb->base + pfirst, 0, plast - pfirst);
	else
		ram_mark(rb, pfirst, plast - pfirst, false);
	memset(rb->base + plast, 0, end - plast);
}

static int ram_submit(struct tt_bdev *bdev, struct tt_bdev_io *io)
{
	struct ram_bdev *rb = tt_container_of(bdev, struct ram_bdev, bdev);

	switch (io->op) {
	case TT_BDEV_READ:
		tt_iov_from_buf(io->iov, io->iovcnt, rb->base + io->offset, io->len);
		break;
	case TT_BDEV_WRITE:
		tt_iov_to_buf(io->iov, io->iovcnt, rb->base + io->offset, io->len);
		ram_mark(rb, io->offset, io->len, true);
		break;
	case TT_BDEV_FLUSH:
		break;
	case TT_BDEV_UNMAP:
	case TT_BDEV_WRITE_ZEROES:
		ram_zero(rb, io->offset, io->len);
		break;
	case TT_BDEV_WRITE_SAME:
	case TT_BDEV_COMPARE_AND_WRITE:
		return -EOPNOTSUPP; /* not offered: tt_bdev_submit refuses them */
	}
	tt_bdev_io_complete(io, 0);
	return 0;
}

static void ram_destroy(struct tt_bdev *bdev)
{
	struct ram_bdev *rb = tt_container_of(bdev, struct ram_bdev, bdev);

	munmap(rb->base, bdev->size);
	free(rb->written);
	free(rb);
}

static int ram_get_status(struct tt_bdev *bdev, uint64_t offset, uint64_t max, bool *mapped,
			  uint64_t *len)
{
	struct ram_bdev *rb = tt_container_of(bdev, struct ram_bdev, bdev);
	uint64_t p = offset / rb->page, last = (offset + max - 1) / rb->page;
	bool state = __atomic_load_n(&rb->written[p / 64], __ATOMIC_RELAXED) >> (p % 64) & 1;

	/* whole words of the same state at a time */
	for (p++; p <= last; p++) {
		uint64_t w = __atomic_load_n(&rb->written[p / 64], __ATOMIC_RELAXED);

		if (p % 64 == 0 && last - p >= 63 && w == (state ? ~0ull : 0)) {
			p += 63;
			continue;
		}
		if ((w >> (p % 64) & 1) != state)
			break;
	}
	*mapped = state;
	*len = p * rb->page - offset < max ? p * rb->page - offset : max;
	return 0;
}

static const struct tt_bdev_ops ram_ops = {
	.kind = "ram",
	.submit = ram_submit,
	.destroy = ram_destroy,
	.get_status = ram_get_status,
};

int tt_bdev_ram_open(const char *args, struct tt_bdev **out, char *err, size_t errlen)
{
	struct tt_bdev_opts o;
	struct ram_bdev *rb;
	uint64_t size = 0;
	uint32_t bs = 512;
	bool ro = false, first = true;
	char *key, *val, sz[32];
	int rc = 0;

	if (tt_bdev_opts_init(&o, args) < 0)
		return tt_bdev_err(err, errlen, -ENOMEM, "ram: out of memory");
	while (rc == 0 && tt_bdev_opts_next(&o, &key, &val)) {
		if (first && !val)
			rc = tt_bdev_opt_size("ram", key, &size, err, errlen);
		else if (strcmp(key, "size") == 0)
			rc = tt_bdev_opt_size("ram", val, &size, err, errlen);
		else if (strcmp(key, "bs") == 0)
			rc = tt_bdev_opt_bs("ram", val, &bs, err, errlen);
		else if (strcmp(key, "ro") == 0 && !val)
			ro = true;
		else
			rc = tt_bdev_err(err, errlen, -EINVAL, "ram: unknown option '%s'", key);
		first = false;
	}
	tt_bdev_opts_fini(&o);
	if (rc < 0)
		return rc;
	if (!size)
		return tt_bdev_err(err, errlen, -EINVAL, "ram: missing size");
	rc = tt_bdev_check_size("ram", size, bs, err, errlen);
	if (rc < 0)
		return rc;
	if (size > SIZE_MAX)
		return tt_bdev_err(err, errlen, -EINVAL, "ram: size %s too large",
				   tt_format_size(size, sz, sizeof(sz)));

	rb = calloc(1, sizeof(*rb));
	if (!rb)
		return tt_bdev_err(err, errlen, -ENOMEM, "ram: out of memory");
	rb->base = mmap(NULL, size, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (rb->base == MAP_FAILED) {
		rc = -errno;
		free(rb);
		return tt_bdev_err(err, errlen, rc, "ram: cannot map %s: %s",
				   tt_format_size(size, sz, sizeof(sz)), strerror(-rc));
	}
	rb->page = (size_t)sysconf(_SC_PAGESIZE);
	rb->written = calloc((size + rb->page * 64 - 1) / (rb->page * 64), sizeof(uint64_t));
	if (!rb->written) {
		munmap(rb->base, size);
		free(rb);
		return tt_bdev_err(err, errlen, -ENOMEM, "ram: out of memory");
	}
	tt_bdev_init(&rb->bdev, &ram_ops);
	rb->bdev.size = size;
	rb->bdev.block_size = bs;
	rb->bdev.thin = true;
	rb->bdev.readonly = ro;
	rb->bdev.volatile_cache = false;
	*out = &rb->bdev;
	return 0;
}
