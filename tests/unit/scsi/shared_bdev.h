/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A backend of the tests that offers what a shared medium (rbd) offers: a name of the medium
 * (identity), WRITE SAME and COMPARE AND WRITE of its own, and a size that changes. It keeps the
 * data in memory, counts each kind of I/O, and completes later on the loop like every backend.
 * Register it with shared_bdev_open(); include after scsi_util.h.
 */
#ifndef TT_TESTS_SHARED_BDEV_H
#define TT_TESTS_SHARED_BDEV_H

#include "bdev/bdev_impl.h"

struct shared_bdev {
	struct tt_bdev bdev;
	uint8_t *data;
	char identity[64];
	unsigned ops[TT_BDEV_COMPARE_AND_WRITE + 1]; /* I/Os of each kind */
	bool caw_refuse;                             /* COMPARE_AND_WRITE: -EOPNOTSUPP */
};

static inline int shared_submit(struct tt_bdev *bdev, struct tt_bdev_io *io)
{
	struct shared_bdev *sb = tt_container_of(bdev, struct shared_bdev, bdev);
	uint8_t *p = sb->data + io->offset;
	int status = 0;

	switch (io->op) {
	case TT_BDEV_READ:
		tt_iov_from_buf(io->iov, io->iovcnt, p, io->len);
		break;
	case TT_BDEV_WRITE:
		tt_iov_to_buf(io->iov, io->iovcnt, p, io->len);
		break;
	case TT_BDEV_FLUSH:
		break;
	case TT_BDEV_UNMAP:
	case TT_BDEV_WRITE_ZEROES:
		memset(p, 0, io->len);
		break;
	case TT_BDEV_WRITE_SAME:
		for (uint64_t off = 0; off < io->len; off += bdev->block_size)
			tt_iov_to_buf(io->iov, io->iovcnt, p + off, bdev->block_size);
		break;
	case TT_BDEV_COMPARE_AND_WRITE: {
		uint8_t *both = malloc(2 * io->len);

		if (sb->caw_refuse) {
			free(both);
			return -EOPNOTSUPP;
		}
		assert_non_null(both);
		tt_iov_to_buf(io->iov, io->iovcnt, both, 2 * io->len);
		status = 0;
		for (uint64_t i = 0; i < io->len; i++) {
			if (both[i] != p[i]) {
				io->miscompare = i;
				status = -EILSEQ;
				break;
			}
		}
		if (!status)
			memcpy(p, both + io->len, io->len);
		free(both);
		break;
	}
	}
	sb->ops[io->op]++;
	tt_bdev_io_complete(io, status);
	return 0;
}

static inline int shared_identity(struct tt_bdev *bdev, char *buf, size_t len)
{
	struct shared_bdev *sb = tt_container_of(bdev, struct shared_bdev, bdev);

	snprintf(buf, len, "%s", sb->identity);
	return 0;
}

static inline void shared_destroy(struct tt_bdev *bdev)
{
	struct shared_bdev *sb = tt_container_of(bdev, struct shared_bdev, bdev);

	free(sb->data);
	free(sb);
}

static const struct tt_bdev_ops shared_ops __attribute__((unused)) = {
	.kind = "shared",
	.submit = shared_submit,
	.destroy = shared_destroy,
	.identity = shared_identity,
};

/* @size bytes of 512-byte blocks (room for @room bytes, to grow), named @identity. */
static inline struct shared_bdev *shared_bdev_open(const char *identity, uint64_t size,
						   uint64_t room, uint32_t caw_max)
{
	struct shared_bdev *sb = calloc(1, sizeof(*sb));

	assert_non_null(sb);
	sb->data = calloc(1, room);
	assert_non_null(sb->data);
	tt_bdev_init(&sb->bdev, &shared_ops);
	snprintf(sb->identity, sizeof(sb->identity), "%s", identity);
	sb->bdev.size = size;
	sb->bdev.thin = true;
	sb->bdev.write_same = true;
	sb->bdev.compare_and_write = true;
	sb->bdev.compare_and_write_max = caw_max;
	return sb;
}

/* An env (scsi_util.h) whose LUN 0 is over a new shared backend; UAs cleared. */
static inline struct env *env_new_shared(struct shared_bdev **out, uint32_t caw_max)
{
	struct shared_bdev *sb = shared_bdev_open("test:medium", 1 << 20, 4 << 20, caw_max);
	struct env *e = env_attach(env_alloc(), &sb->bdev, NULL);

	clear_ua(e, &e->nexus);
	clear_ua(e, &e->nexus2);
	*out = sb;
	return e;
}

#endif
