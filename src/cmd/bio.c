/* SPDX-License-Identifier: BSD-3-Clause */
/* Byte-granular asynchronous I/O on a libtether device (bio.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bio.h"

#define BIO_ZERO_CHUNK (1u << 20) /* zeroes written per command when WRITE SAME is refused */

struct bio {
	struct tether_dev *dev;
	uint32_t lbs;
	unsigned inflight;       /* submitted and not done */
	unsigned mod_inflight;   /* modifying requests past the gate */
	unsigned excl_inflight;  /* read-modify-writes past the gate */
	struct bio_req *wait_head, *wait_tail; /* modifying requests before the gate */
	uint8_t *zeroes;         /* BIO_ZERO_CHUNK bytes, made on first use */
	bool no_write_zeroes;    /* the unit refused WRITE SAME once */
};

int bio_new(struct bio **out, struct tether_dev *dev)
{
	struct bio *b = calloc(1, sizeof(*b));

	if (!b)
		return -ENOMEM;
	b->dev = dev;
	b->lbs = tether_block_size(dev);
	*out = b;
	return 0;
}

void bio_free(struct bio *b)
{
	if (!b)
		return;
	free(b->zeroes);
	free(b);
}

unsigned bio_inflight(const struct bio *b)
{
	return b->inflight;
}

static void gate_kick(struct bio *b);
static void start(struct bio_req *r);

static void finish(struct bio_req *r, int status)
{
	struct bio *b = r->bio;

	free(r->bounce);
	r->bounce = NULL;
	if (r->modifying) {
		b->mod_inflight--;
		if (r->exclusive)
			b->excl_inflight--;
	}
	b->inflight--;
	r->done(r, status);
	gate_kick(b);
}

static bool aligned(const struct bio *b, uint64_t off, uint64_t len)
{
	return off % b->lbs == 0 && len % b->lbs == 0;
}

/* --- reads ----------------------------------------------------------------------------------- */

static void read_done(struct tether_dev *dev, int status, void *arg)
{
	struct bio_req *r = arg;

	(void)dev;
	if (status == 0 && r->bounce)
		memcpy(r->buf, r->bounce + (r->off - r->a0), r->len);
	finish(r, status);
}

static int start_read(struct bio_req *r)
{
	struct bio *b = r->bio;

	if (aligned(b, r->off, r->len)) {
		r->iov[0] = (struct iovec){ .iov_base = r->buf, .iov_len = r->len };
	} else {
		r->bounce = malloc(r->a1 - r->a0);
		if (!r->bounce)
			return -ENOMEM;
		r->iov[0] = (struct iovec){ .iov_base = r->bounce, .iov_len = r->a1 - r->a0 };
	}
	return tether_readv(b->dev, r->a0, r->iov, 1, read_done, r);
}

/* --- writes and read-modify-writes ----------------------------------------------------------- */

static void write_done(struct tether_dev *dev, int status, void *arg)
{
	(void)dev;
	finish(arg, status);
}

static void rmw_read_done(struct tether_dev *dev, int status, void *arg)
{
	struct bio_req *r = arg;
	int rc;

	(void)dev;
	if (status < 0 && r->status == 0)
		r->status = status;
	if (--r->pending > 0)
		return;
	if (r->status < 0) {
		finish(r, r->status);
		return;
	}
	if (r->op == BIO_ZERO)
		memset(r->bounce + (r->off - r->a0), 0, r->len);
	else
		memcpy(r->bounce + (r->off - r->a0), r->buf, r->len);
	r->iov[0] = (struct iovec){ .iov_base = r->bounce, .iov_len = r->a1 - r->a0 };
	rc = tether_writev(r->bio->dev, r->a0, r->iov, 1, write_done, r);
	if (rc < 0)
		finish(r, rc);
}

static int start_rmw(struct bio_req *r)
{
	struct bio *b = r->bio;
	uint64_t last = r->a1 - b->lbs;
	int rc;

	r->bounce = malloc(r->a1 - r->a0);
	if (!r->bounce)
		return -ENOMEM;
	r->pending = 1; /* held while submitting */
	if (r->off != r->a0) {
		r->iov[0] = (struct iovec){ .iov_base = r->bounce, .iov_len = b->lbs };
		r->pending++;
		rc = tether_readv(b->dev, r->a0, &r->iov[0], 1, rmw_read_done, r);
		if (rc < 0) {
			r->pending--;
			r->status = rc;
		}
	}
	if (r->status == 0 && r->off + r->len != r->a1 && (last != r->a0 || r->off == r->a0)) {
		r->iov[1] = (struct iovec){ .iov_base = r->bounce + (last - r->a0), .iov_len = b->lbs };
		r->pending++;
		rc = tether_readv(b->dev, last, &r->iov[1], 1, rmw_read_done, r);
		if (rc < 0) {
			r->pending--;
			r->status = rc;
		}
	}
	/* drops the submitting hold: merges and writes when nothing was to be read */
	rmw_read_done(b->dev, 0, r);
	return 0;
}

/* --- zeroing --------------------------------------------------------------------------------- */

static void zero_step(struct bio_req *r);

static void zero_write_done(struct tether_dev *dev, int status, void *arg)
{
	struct bio_req *r = arg;

	(void)dev;
	if (status < 0) {
		finish(r, status);
		return;
	}
	zero_step(r);
}

/* Writes the next chunk of zeroes (WRITE SAME refused). */
static void zero_step(struct bio_req *r)
{
	struct bio *b = r->bio;
	uint64_t n = r->off + r->len - r->pos;
	int rc;

	if (n == 0) {
		finish(r, 0);
		return;
	}
	if (!b->zeroes && !(b->zeroes = calloc(1, BIO_ZERO_CHUNK))) {
		finish(r, -ENOMEM);
		return;
	}
	if (n > BIO_ZERO_CHUNK)
		n = BIO_ZERO_CHUNK;
	r->iov[0] = (struct iovec){ .iov_base = b->zeroes, .iov_len = n };
	rc = tether_writev(b->dev, r->pos, r->iov, 1, zero_write_done, r);
	r->pos += n;
	if (rc < 0)
		finish(r, rc);
}

static void write_zeroes_done(struct tether_dev *dev, int status, void *arg)
{
	struct bio_req *r = arg;

	(void)dev;
	if (status == -EOPNOTSUPP) {
		r->bio->no_write_zeroes = true;
		r->pos = r->off;
		zero_step(r);
		return;
	}
	finish(r, status);
}

static int start_zero(struct bio_req *r)
{
	struct bio *b = r->bio;
	int rc;

	if (!b->no_write_zeroes) {
		rc = tether_write_zeroes(b->dev, r->off, r->len,
					 r->may_trim ? TETHER_ZEROES_MAY_UNMAP : 0,
					 write_zeroes_done, r);
		if (rc != -EOPNOTSUPP)
			return rc;
		b->no_write_zeroes = true;
	}
	r->pos = r->off;
	zero_step(r);
	return 0;
}

/* --- the gate -------------------------------------------------------------------------------- */

static bool may_pass(const struct bio *b, const struct bio_req *r)
{
	return r->exclusive ? b->mod_inflight == 0 : b->excl_inflight == 0;
}

static void gate_kick(struct bio *b)
{
	while (b->wait_head && may_pass(b, b->wait_head)) {
		struct bio_req *r = b->wait_head;

		b->wait_head = r->next;
		if (!b->wait_head)
			b->wait_tail = NULL;
		r->next = NULL;
		start(r);
	}
}

static void start(struct bio_req *r)
{
	struct bio *b = r->bio;
	int rc;

	if (r->modifying) {
		b->mod_inflight++;
		if (r->exclusive)
			b->excl_inflight++;
	}
	switch (r->op) {
	case BIO_READ:
		rc = start_read(r);
		break;
	case BIO_WRITE:
		rc = r->exclusive ? start_rmw(r) :
		     (r->iov[0] = (struct iovec){ .iov_base = r->buf, .iov_len = r->len },
		      tether_writev(b->dev, r->off, r->iov, 1, write_done, r));
		break;
	case BIO_ZERO:
		rc = r->exclusive ? start_rmw(r) : start_zero(r);
		break;
	case BIO_TRIM:
		rc = r->a1 > r->a0 ? tether_unmap(b->dev, r->a0, r->a1 - r->a0, write_done, r) : 1;
		break;
	case BIO_FLUSH:
	default:
		rc = tether_flush(b->dev, write_done, r);
		break;
	}
	if (rc != 0)
		finish(r, rc > 0 ? 0 : rc);
}

/* --- an unaligned zeroing of more than two blocks: its partial first and last blocks are
 * read-modify-written, the blocks between zeroed as a whole ---------------------------------- */

struct zero_split {
	struct bio_req *parent;
	int pending, status;
	struct bio_req part[3];
};

static void split_done(struct bio_req *part, int status)
{
	struct zero_split *zs = part->arg;
	struct bio_req *parent = zs->parent;

	if (status < 0 && zs->status == 0)
		zs->status = status;
	if (--zs->pending > 0)
		return;
	status = zs->status;
	free(zs);
	parent->done(parent, status);
}

static bool zero_split(struct bio *b, struct bio_req *r)
{
	uint64_t end = r->off + r->len, m0, m1, bounds[4];
	struct zero_split *zs;
	int n = 0;

	m0 = (r->off + b->lbs - 1) / b->lbs * b->lbs;
	m1 = end / b->lbs * b->lbs;
	if (r->op != BIO_ZERO || aligned(b, r->off, r->len) || m1 <= m0 || end < r->off)
		return false;
	zs = calloc(1, sizeof(*zs));
	if (!zs)
		return false; /* read-modify-written whole */
	zs->parent = r;
	bounds[0] = r->off;
	bounds[1] = m0;
	bounds[2] = m1;
	bounds[3] = end;
	zs->pending = 1; /* held while submitting */
	for (int i = 0; i < 3; i++) {
		if (bounds[i + 1] == bounds[i])
			continue;
		zs->part[n] = (struct bio_req){ .op = BIO_ZERO, .off = bounds[i],
			.len = bounds[i + 1] - bounds[i], .may_trim = r->may_trim,
			.done = split_done, .arg = zs };
		zs->pending++;
		n++;
	}
	for (int i = 0; i < n; i++)
		bio_submit(b, &zs->part[i]);
	split_done(&(struct bio_req){ .arg = zs }, 0);
	return true;
}

void bio_submit(struct bio *b, struct bio_req *r)
{
	uint64_t end = r->off + r->len;

	if (r->op == BIO_ZERO && r->len > 2 * (uint64_t)b->lbs && end <= tether_size(b->dev) &&
	    zero_split(b, r))
		return;

	r->bio = b;
	r->next = NULL;
	r->bounce = NULL;
	r->status = 0;
	r->pending = 0;
	r->a0 = r->off / b->lbs * b->lbs;
	r->a1 = (end + b->lbs - 1) / b->lbs * b->lbs;
	r->modifying = r->op == BIO_WRITE || r->op == BIO_ZERO || r->op == BIO_TRIM;
	r->exclusive = (r->op == BIO_WRITE || r->op == BIO_ZERO) && !aligned(b, r->off, r->len);
	b->inflight++;
	if (r->op != BIO_FLUSH && (end < r->off || end > tether_size(b->dev))) {
		r->modifying = false;
		finish(r, -EINVAL);
		return;
	}
	if (r->op == BIO_TRIM) /* the whole blocks inside the range */
		r->a0 = (r->off + b->lbs - 1) / b->lbs * b->lbs, r->a1 = end / b->lbs * b->lbs;
	if (r->len == 0 && r->op != BIO_FLUSH) {
		r->modifying = false;
		finish(r, 0);
		return;
	}
	if (r->modifying && (b->wait_head || !may_pass(b, r))) {
		if (b->wait_tail)
			b->wait_tail->next = r;
		else
			b->wait_head = r;
		b->wait_tail = r;
		return;
	}
	start(r);
}
