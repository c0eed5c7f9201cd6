/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RDMA devices: one protection domain per device, shared by every connection on it, and a pool
 * of registered task buffers in power-of-two sizes. A buffer carries a header in front of the
 * memory it hands out (its memory region, its size class, its device). References on a device:
 * each connection on it and each buffer handed out or cached; the PD goes with the last.
 * Thread-safe (one mutex for the registry and the pools: allocations are per command, and a
 * cached buffer is reused without registering again).
 */
#include "rdma/rdma.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rdma/rdma_ctx.h"

#include "base/list.h"
#include "base/log.h"

#define BUF_MIN_SHIFT 12                 /* 4 KiB */
#define BUF_MAX_SHIFT 26                 /* 64 MiB: the largest transfer of one command */
#define BUF_CLASSES (BUF_MAX_SHIFT - BUF_MIN_SHIFT + 1)
#define BUF_CACHE_BYTES (64u << 20)      /* registered memory kept for reuse per device */
#define BUF_HDR 64                       /* header in front of the data, keeps it aligned */

struct rdma_buf_hdr {
	struct tt_list node;              /* in a free list */
	struct ibv_mr *mr;
	struct tt_rdma_dev *dev;
	unsigned cls;
	uint32_t magic;
};
#define BUF_MAGIC 0x74726267u

struct tt_rdma_dev {
	struct tt_list node;
	struct ibv_context *verbs;
	struct ibv_pd *pd;
	unsigned refs;                   /* connections, buffers out and cached */
	struct tt_list free[BUF_CLASSES];
	size_t cached;
	char name[64];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct tt_list devs = { &devs, &devs };

_Static_assert(sizeof(struct rdma_buf_hdr) <= BUF_HDR, "buffer header");

/* librdmacm's context of a device that our identifiers are bound to. */
struct rdma_ctx {
	struct tt_list node;
	struct ibv_context *verbs;
	unsigned ids;                    /* our rdma_cm identifiers bound to it */
	bool removed;                    /* the CM reported DEVICE_REMOVAL */
	char name[64];
};

static struct tt_list ctxs = { &ctxs, &ctxs };

static struct tt_rdma_dev *dev_find_locked(const struct ibv_context *verbs)
{
	struct tt_list *pos;

	tt_list_for_each(pos, &devs) {
		struct tt_rdma_dev *d = tt_list_entry(pos, struct tt_rdma_dev, node);

		if (d->verbs == verbs)
			return d;
	}
	return NULL;
}

static struct rdma_ctx *ctx_find_locked(const struct ibv_context *verbs)
{
	struct tt_list *pos;

	tt_list_for_each(pos, &ctxs) {
		struct rdma_ctx *x = tt_list_entry(pos, struct rdma_ctx, node);

		if (x->verbs == verbs)
			return x;
	}
	return NULL;
}

/* librdmacm keeps a context open for each device it has seen, and closes the context of a
 * device that went away when it looks at the device list again (rdma_get_devices) and no
 * identifier uses it any more. Returns the number of devices it lists. */
static int devices_resync_locked(void)
{
	int n = 0;
	struct ibv_context **l = rdma_get_devices(&n);

	if (l)
		rdma_free_devices(l);
	return l ? n : 0;
}

/* Closes the descriptors of a removed device's context that librdmacm keeps although nothing
 * uses it: librdmacm (rdma-core 44 and later) forgets a removed device only when the device
 * list it reads again is not empty, so the last device of the host (a lone soft-RoCE link)
 * keeps its context open, and a device whose driver cannot disassociate (rxe) cannot finish its
 * removal while a context is open. The descriptors are replaced by /dev/null rather than closed:
 * the numbers stay taken until librdmacm closes the context itself (when a device appears
 * again, or at exit), and nothing of ours or of librdmacm's uses the context meanwhile. */
static void ctx_let_go_locked(struct rdma_ctx *x)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		tt_warn("rdma", "%s: removed device: /dev/null: %s", x->name, strerror(errno));
		return;
	}
	if (dup3(fd, x->verbs->cmd_fd, O_CLOEXEC) < 0 ||
	    (x->verbs->async_fd >= 0 && dup3(fd, x->verbs->async_fd, O_CLOEXEC) < 0))
		tt_warn("rdma", "%s: removed device: descriptors: %s", x->name, strerror(errno));
	else
		tt_notice("rdma", "%s: removed device let go (librdmacm kept its context: no device "
			  "left to list)", x->name);
	close(fd);
}

/* Forgets the contexts nothing of ours is bound to; a removed one that librdmacm could not
 * close is let go. */
static void ctx_reap_locked(void)
{
	struct tt_list *pos, *tmp;

	tt_list_for_each_safe(pos, tmp, &ctxs) {
		struct rdma_ctx *x = tt_list_entry(pos, struct rdma_ctx, node);

		if (x->ids || (x->removed && dev_find_locked(x->verbs)))
			continue;
		/* (with devices listed, librdmacm has closed the removed device's context itself) */
		if (x->removed && devices_resync_locked() == 0)
			ctx_let_go_locked(x);
		tt_list_del(&x->node);
		free(x);
	}
}

void tt_rdma_devices_resync(void)
{
	pthread_mutex_lock(&lock);
	devices_resync_locked();
	ctx_reap_locked();
	pthread_mutex_unlock(&lock);
}

void tt_rdma_ctx_hold(struct ibv_context *verbs)
{
	struct rdma_ctx *x;

	if (!verbs)
		return;
	pthread_mutex_lock(&lock);
	x = ctx_find_locked(verbs);
	if (!x) {
		x = calloc(1, sizeof(*x));
		if (!x) {
			/* not counted: a removal of this device may then wait for tetherd's exit */
			pthread_mutex_unlock(&lock);
			tt_warn("rdma", "out of memory: device context not tracked");
			return;
		}
		x->verbs = verbs;
		snprintf(x->name, sizeof(x->name), "%s", ibv_get_device_name(verbs->device));
		tt_list_add_tail(&ctxs, &x->node);
	}
	x->ids++;
	pthread_mutex_unlock(&lock);
}

void tt_rdma_ctx_release(struct ibv_context *verbs)
{
	struct rdma_ctx *x;

	if (!verbs)
		return;
	pthread_mutex_lock(&lock);
	x = ctx_find_locked(verbs);
	if (x && x->ids)
		x->ids--;
	if (x && !x->ids)
		ctx_reap_locked();
	pthread_mutex_unlock(&lock);
}

void tt_rdma_ctx_removed(struct ibv_context *verbs)
{
	struct rdma_ctx *x;

	if (!verbs)
		return;
	pthread_mutex_lock(&lock);
	x = ctx_find_locked(verbs);
	if (x && !x->removed) {
		x->removed = true;
		tt_notice("rdma", "%s: device removed: its connections and listeners close", x->name);
	}
	pthread_mutex_unlock(&lock);
}

static void dev_free_locked(struct tt_rdma_dev *d)
{
	tt_list_del(&d->node);
	if (d->pd && ibv_dealloc_pd(d->pd))
		tt_warn("rdma", "%s: ibv_dealloc_pd: %s", d->name, strerror(errno));
	tt_notice("rdma", "%s: device released", d->name);
	free(d);
	devices_resync_locked();
	ctx_reap_locked();
}

struct tt_rdma_dev *tt_rdma_dev_get(struct ibv_context *verbs)
{
	struct tt_rdma_dev *d;

	if (!verbs)
		return NULL;
	pthread_mutex_lock(&lock);
	d = dev_find_locked(verbs);
	if (d) {
		d->refs++;
		pthread_mutex_unlock(&lock);
		return d;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		pthread_mutex_unlock(&lock);
		return NULL;
	}
	d->verbs = verbs;
	snprintf(d->name, sizeof(d->name), "%s", ibv_get_device_name(verbs->device));
	d->pd = ibv_alloc_pd(verbs);
	if (!d->pd) {
		tt_err("rdma", "%s: ibv_alloc_pd: %s", d->name, strerror(errno));
		pthread_mutex_unlock(&lock);
		free(d);
		return NULL;
	}
	for (unsigned i = 0; i < BUF_CLASSES; i++)
		tt_list_init(&d->free[i]);
	d->refs = 1;
	tt_list_add_tail(&devs, &d->node);
	pthread_mutex_unlock(&lock);
	tt_info("rdma", "%s: device in use (protection domain allocated)", d->name);
	return d;
}

static void buf_destroy(struct rdma_buf_hdr *h)
{
	if (h->mr && ibv_dereg_mr(h->mr))
		tt_warn("rdma", "%s: ibv_dereg_mr: %s", h->dev->name, strerror(errno));
	free(h);
}

/* Under the lock. Cached buffers hold no reference: the last connection or buffer out drops
 * them, then the PD. */
static void dev_put_locked(struct tt_rdma_dev *d)
{
	if (--d->refs)
		return;
	for (unsigned i = 0; i < BUF_CLASSES; i++) {
		while (!tt_list_empty(&d->free[i])) {
			struct rdma_buf_hdr *h = tt_list_first(&d->free[i], struct rdma_buf_hdr, node);

			tt_list_del(&h->node);
			buf_destroy(h);
		}
	}
	d->cached = 0;
	dev_free_locked(d);
}

void tt_rdma_dev_put(struct tt_rdma_dev *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&lock);
	dev_put_locked(d);
	pthread_mutex_unlock(&lock);
}

struct ibv_pd *tt_rdma_dev_pd(const struct tt_rdma_dev *d)
{
	return d->pd;
}

const char *tt_rdma_dev_name(const struct tt_rdma_dev *d)
{
	return d->name;
}

static unsigned buf_class(size_t len)
{
	unsigned c = 0;

	while (((size_t)1 << (BUF_MIN_SHIFT + c)) < len)
		c++;
	return c;
}

static struct rdma_buf_hdr *hdr_of(const void *buf)
{
	return (struct rdma_buf_hdr *)((uint8_t *)buf - BUF_HDR);
}

void *tt_rdma_buf_get(struct tt_rdma_dev *d, size_t len, size_t *cap)
{
	struct rdma_buf_hdr *h = NULL;
	unsigned cls;
	size_t size;
	void *mem;

	if (!d || len > ((size_t)1 << BUF_MAX_SHIFT))
		return NULL;
	cls = buf_class(len ? len : 1);
	size = (size_t)1 << (BUF_MIN_SHIFT + cls);
	pthread_mutex_lock(&lock);
	if (!tt_list_empty(&d->free[cls])) {
		h = tt_list_first(&d->free[cls], struct rdma_buf_hdr, node);
		tt_list_del(&h->node);
		d->cached -= size;
	}
	d->refs++;
	pthread_mutex_unlock(&lock);
	if (!h) {
		if (posix_memalign(&mem, 4096, BUF_HDR + size)) {
			tt_rdma_dev_put(d);
			return NULL;
		}
		/* the data starts BUF_HDR bytes in; the region covers only the data */
		h = mem;
		memset(h, 0, sizeof(*h));
		h->dev = d;
		h->cls = cls;
		h->magic = BUF_MAGIC;
		tt_list_init(&h->node);
		h->mr = ibv_reg_mr(d->pd, (uint8_t *)mem + BUF_HDR, size,
				   IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_WRITE);
		if (!h->mr) {
			tt_log_ratelimited(TT_LOG_WARN, "rdma", "%s: ibv_reg_mr of %zu bytes: %s",
					   d->name, size, strerror(errno));
			free(mem);
			tt_rdma_dev_put(d);
			return NULL;
		}
	}
	*cap = size;
	return (uint8_t *)h + BUF_HDR;
}

void tt_rdma_buf_put(void *buf)
{
	struct rdma_buf_hdr *h;
	struct tt_rdma_dev *d;
	size_t size;

	if (!buf)
		return;
	h = hdr_of(buf);
	if (h->magic != BUF_MAGIC) {
		tt_err("rdma", "buffer %p is not from a registered pool", buf);
		return;
	}
	d = h->dev;
	size = (size_t)1 << (BUF_MIN_SHIFT + h->cls);
	pthread_mutex_lock(&lock);
	if (d->refs > 1 && d->cached + size <= BUF_CACHE_BYTES) {
		tt_list_add(&d->free[h->cls], &h->node);
		d->cached += size;
	} else {
		buf_destroy(h);
	}
	dev_put_locked(d);
	pthread_mutex_unlock(&lock);
}

uint32_t tt_rdma_buf_lkey(const void *buf)
{
	return hdr_of(buf)->mr->lkey;
}
