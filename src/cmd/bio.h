/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Byte-granular asynchronous I/O on a libtether device, for the programs that serve it to
 * clients who do not know its block size (tether attach through FUSE, the nbdkit plugin).
 * Aligned requests go straight to the device. An unaligned read reads the covering blocks into
 * a bounce buffer; an unaligned write (or zeroing) reads the partial first and last blocks,
 * merges, and writes the covering blocks (read-modify-write). So that a merge never races
 * another write of the same blocks, modifying requests pass a gate in arrival order: a
 * read-modify-write starts when no other modifying request is outstanding, and none starts
 * while one is. A zeroing the unit cannot do (WRITE SAME unsupported) is written as zeroes; a
 * trim covers the whole blocks inside its range only.
 *
 * Single-threaded like the device: bio_submit and the completions run on the thread that owns
 * the device. @done may run inside bio_submit (an error found at once) or from
 * tether_service().
 */
#ifndef TT_CMD_BIO_H
#define TT_CMD_BIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tether/tether.h"

enum bio_op { BIO_READ, BIO_WRITE, BIO_FLUSH, BIO_TRIM, BIO_ZERO };

struct bio;

struct bio_req {
	enum bio_op op;
	uint64_t off;
	size_t len;
	void *buf;      /* READ: filled; WRITE: the data; valid until done */
	bool may_trim;  /* ZERO: the unit may deallocate */
	void (*done)(struct bio_req *r, int status);
	void *arg;
	/* the rest is bio's */
	struct bio *bio;
	struct bio_req *next;
	bool modifying, exclusive;
	uint8_t *bounce;
	uint64_t a0, a1, pos;
	int pending, status;
	struct iovec iov[2];
};

int bio_new(struct bio **out, struct tether_dev *dev);
/* Outstanding requests must have completed (bio_inflight() == 0). */
void bio_free(struct bio *b);
void bio_submit(struct bio *b, struct bio_req *r);
unsigned bio_inflight(const struct bio *b);

#endif
