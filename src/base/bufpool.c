/* SPDX-License-Identifier: BSD-3-Clause */
#include "base/bufpool.h"

#include <stdint.h>
#include <stdlib.h>

#define CLASS_MIN_SHIFT 12 /* 4 KiB */
#define CLASS_MAX_SHIFT 24 /* 16 MiB */
#define NCLASSES (CLASS_MAX_SHIFT - CLASS_MIN_SHIFT + 1)
#define CACHE_MAX_BYTES (64u << 20) /* cached per thread */
#define CACHE_MAX_PER_CLASS 64

struct free_buf {
	struct free_buf *next;
};

static __thread struct free_buf *free_lists[NCLASSES];
static __thread unsigned free_counts[NCLASSES];
static __thread size_t cached_bytes;

static int size_class(size_t len)
{
	int c = 0;

	while (c < NCLASSES && ((size_t)1 << (CLASS_MIN_SHIFT + c)) < len)
		c++;
	return c < NCLASSES ? c : -1;
}

void *tt_buf_alloc(size_t len, size_t *cap)
{
	int c = size_class(len ? len : 1);
	size_t size;
	void *buf;

	if (c < 0) {
		/* larger than any class: not cached */
		size = (len + 4095) & ~(size_t)4095;
	} else {
		size = (size_t)1 << (CLASS_MIN_SHIFT + c);
		if (free_lists[c]) {
			struct free_buf *f = free_lists[c];

			free_lists[c] = f->next;
			free_counts[c]--;
			cached_bytes -= size;
			*cap = size;
			return f;
		}
	}
	if (posix_memalign(&buf, 4096, size))
		return NULL;
	*cap = size;
	return buf;
}

void tt_buf_free(void *buf, size_t cap)
{
	int c;

	if (!buf)
		return;
	c = size_class(cap);
	if (c < 0 || ((size_t)1 << (CLASS_MIN_SHIFT + c)) != cap ||
	    free_counts[c] >= CACHE_MAX_PER_CLASS || cached_bytes + cap > CACHE_MAX_BYTES) {
		free(buf);
		return;
	}
	((struct free_buf *)buf)->next = free_lists[c];
	free_lists[c] = buf;
	free_counts[c]++;
	cached_bytes += cap;
}

size_t tt_buf_pool_cached(void) { return cached_bytes; }

void tt_buf_pool_drain(void)
{
	for (int c = 0; c < NCLASSES; c++) {
		while (free_lists[c]) {
			struct free_buf *f = free_lists[c];

			free_lists[c] = f->next;
			free(f);
		}
		free_counts[c] = 0;
	}
	cached_bytes = 0;
}
