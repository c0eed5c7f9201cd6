/* SPDX-License-Identifier: BSD-3-Clause */
/* The block pattern of `tether bench --verify` (verify.h). */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <isa-l/crc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verify.h"

#define VFY_MAGIC "TTHRVFY1"
#define VFY_REPORT_MAX 20 /* wrong blocks described on stderr, then only counted */

const char *const vfy_kind_name[VFY_KINDS] = {
	[VFY_LOST] = "lost", [VFY_STALE] = "stale", [VFY_MISPLACED] = "misplaced",
	[VFY_CORRUPT] = "corrupt", [VFY_UNEXPECTED] = "unexpected",
};

struct vfy_chunk {
	uint32_t gen;  /* last acknowledged write number; 0: not written in this run */
	uint32_t prev; /* the one before it */
	uint32_t alt;  /* a failed write that may have landed; 0: none */
	uint32_t busy; /* an I/O is outstanding on the chunk */
};

struct vfy {
	uint64_t first_lba, nchunks;
	uint32_t chunk_bytes, lbsize, run_id, next;
	bool check_unwritten;
	struct vfy_counts counts;
	struct vfy_chunk *map;
};

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

int vfy_new(struct vfy **out, uint64_t first_lba, uint64_t nchunks, uint32_t chunk_bytes,
	    uint32_t lbsize, uint32_t run_id, bool check_unwritten)
{
	struct vfy *v;

	if (lbsize < 64 || chunk_bytes % lbsize || !nchunks || !run_id)
		return -EINVAL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->map = calloc(nchunks, sizeof(*v->map));
	if (!v->map) {
		free(v);
		return -ENOMEM;
	}
	v->first_lba = first_lba;
	v->nchunks = nchunks;
	v->chunk_bytes = chunk_bytes;
	v->lbsize = lbsize;
	v->run_id = run_id;
	v->check_unwritten = check_unwritten;
	*out = v;
	return 0;
}

void vfy_free(struct vfy *v)
{
	if (!v)
		return;
	free(v->map);
	free(v);
}

bool vfy_busy(const struct vfy *v, uint64_t chunk)
{
	return v->map[chunk].busy;
}

bool vfy_written(const struct vfy *v, uint64_t chunk)
{
	return v->map[chunk].gen || v->map[chunk].alt;
}

const struct vfy_counts *vfy_counts(const struct vfy *v)
{
	return &v->counts;
}

static uint32_t block_crc(const uint8_t *blk, uint32_t len)
{
	static const uint8_t zero[4];
	uint32_t crc;

	crc = crc32_iscsi((unsigned char *)blk, 32, 0xffffffffu);
	crc = crc32_iscsi((unsigned char *)zero, 4, crc);
	crc = crc32_iscsi((unsigned char *)blk + 36, (int)(len - 36), crc);
	return crc;
}

static void put64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

static void fill_block(uint8_t *blk, uint32_t len, uint64_t lba, uint64_t gen)
{
	uint64_t seed = mix64(gen ^ mix64(lba)) | 1, s = seed;
	uint32_t crc;

	memcpy(blk, VFY_MAGIC, 8);
	put64(blk + 8, lba);
	put64(blk + 16, gen);
	put64(blk + 24, seed);
	memset(blk + 32, 0, 8);
	for (uint32_t off = VFY_HDR_BYTES; off + 8 <= len; off += 8) {
		s ^= s >> 12;
		s ^= s << 25;
		s ^= s >> 27;
		put64(blk + off, s * 0x2545f4914f6cdd1dull);
	}
	crc = htole32(block_crc(blk, len));
	memcpy(blk + 32, &crc, 4);
}

void vfy_write_begin(struct vfy *v, uint64_t chunk, void *buf)
{
	struct vfy_chunk *c = &v->map[chunk];
	uint64_t lba = v->first_lba + chunk * (v->chunk_bytes / v->lbsize);
	uint32_t n = ++v->next;

	if (n == 0) /* 4 billion writes: the numbers wrap; 0 means "before this run" */
		n = v->next = 1;
	c->busy = n;
	for (uint32_t off = 0; off < v->chunk_bytes; off += v->lbsize, lba++)
		fill_block((uint8_t *)buf + off, v->lbsize, lba,
			   (uint64_t)v->run_id << 32 | n);
}

void vfy_write_end(struct vfy *v, uint64_t chunk, int status)
{
	struct vfy_chunk *c = &v->map[chunk];

	if (status == 0) {
		c->prev = c->gen;
		c->gen = c->busy;
		c->alt = 0;
	} else {
		c->alt = c->busy; /* may or may not have landed, in part or whole */
	}
	c->busy = 0;
}

void vfy_read_begin(struct vfy *v, uint64_t chunk)
{
	v->map[chunk].busy = UINT32_MAX;
}

static bool all_zero(const uint8_t *p, uint32_t len)
{
	return p[0] == 0 && memcmp(p, p + 1, len - 1) == 0;
}

static void report(struct vfy *v, enum vfy_kind kind, uint64_t lba, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void report(struct vfy *v, enum vfy_kind kind, uint64_t lba, const char *fmt, ...)
{
	va_list ap;

	v->counts.errors++;
	v->counts.kind[kind]++;
	if (v->counts.errors > VFY_REPORT_MAX)
		return;
	fprintf(stderr, "verify: LBA %" PRIu64 ": %s: ", lba, vfy_kind_name[kind]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (v->counts.errors == VFY_REPORT_MAX)
		fprintf(stderr, "verify: further wrong blocks are only counted\n");
}

/* 1 when the block is wrong. */
static int check_block(struct vfy *v, const struct vfy_chunk *c, const uint8_t *blk,
		       uint64_t lba)
{
	bool known = c->gen || c->alt;
	uint64_t gen, found;
	uint32_t crc;

	if (all_zero(blk, v->lbsize)) {
		if (!known) {
			v->counts.blocks_unwritten++;
			return 0;
		}
		report(v, VFY_LOST, lba, "zeroes where write %" PRIu32 " was acknowledged", c->gen);
		return 1;
	}
	if (memcmp(blk, VFY_MAGIC, 8) != 0) {
		report(v, VFY_CORRUPT, lba, "no block header");
		return 1;
	}
	memcpy(&crc, blk + 32, 4);
	if (le32toh(crc) != block_crc(blk, v->lbsize)) {
		report(v, VFY_CORRUPT, lba, "checksum mismatch");
		return 1;
	}
	if (get64(blk + 8) != lba) {
		report(v, VFY_MISPLACED, lba, "holds the block of LBA %" PRIu64, get64(blk + 8));
		return 1;
	}
	if (!known)
		return 0;
	gen = get64(blk + 16);
	found = (gen >> 32) == v->run_id ? (uint32_t)gen : 0;
	if (found == c->gen || (c->alt && found == c->alt))
		return 0;
	if (found == c->prev)
		report(v, VFY_LOST, lba, "write %" PRIu64 " found, %" PRIu32 " was acknowledged after it",
		       found, c->gen);
	else if (found < c->gen)
		report(v, VFY_STALE, lba, "write %" PRIu64 " landed after %" PRIu32 " superseded it",
		       found, c->gen);
	else
		report(v, VFY_UNEXPECTED, lba, "write %" PRIu64 " found, last acknowledged %" PRIu32,
		       found, c->gen);
	return 1;
}

uint64_t vfy_read_end(struct vfy *v, uint64_t chunk, const void *buf, int status)
{
	struct vfy_chunk *c = &v->map[chunk];
	uint64_t lba = v->first_lba + chunk * (v->chunk_bytes / v->lbsize), wrong = 0;

	c->busy = 0;
	if (status != 0)
		return 0;
	if (!(c->gen || c->alt) && !v->check_unwritten)
		return 0;
	for (uint32_t off = 0; off < v->chunk_bytes; off += v->lbsize, lba++) {
		v->counts.blocks_checked++;
		wrong += (uint64_t)check_block(v, c, (const uint8_t *)buf + off, lba);
	}
	return wrong;
}
