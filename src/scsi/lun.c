/* SPDX-License-Identifier: BSD-3-Clause */
/* Logical units: creation, identity (names, serial, NAA), references, LUN numbers. */
#include "scsi/core.h"
#include "scsi/cdb.h"
#include "scsi/pr.h"
#include "base/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* SPC-4 4.4.1: ASCII data fields hold 20h..7Eh only. */
static int copy_ascii(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n == 0 || n >= size)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (src[i] < 0x20 || src[i] > 0x7e)
			return -EINVAL;
	memcpy(dst, src, n + 1);
	return 0;
}

static uint64_t fnv1a64(uint64_t h, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/*
 * Stable identity of (target, LUN): the same names give the same NAA across restarts. A backend
 * whose medium is shared by several hosts (rbd) names it (tt_bdev_identity): the identity is then
 * derived from that name alone, so that every gateway serving the medium, under any target
 * name or LUN number, reports the same NAA and serial number.
 */
static uint64_t derive_naa_id(const char *target_name, uint64_t id, struct tt_bdev *bdev)
{
	uint8_t be[8];
	uint64_t h = 0xcbf29ce484222325ull;
	char medium[256];

	if (tt_bdev_identity(bdev, medium, sizeof(medium)) == 0) {
		h = fnv1a64(h, medium, strlen(medium) + 1);
		return h ? h : 1;
	}
	tt_put_be64(be, id);
	h = fnv1a64(h, target_name, strlen(target_name) + 1);
	h = fnv1a64(h, be, sizeof(be));
	return h ? h : 1;
}

/* The backend's thread: the medium changed size (SBC-4 4.5: CAPACITY DATA HAS CHANGED). */
static void lun_resized(struct tt_bdev_watch *w, uint64_t size)
{
	struct tt_lun *lun = tt_container_of(w, struct tt_lun, resize_watch);

	tt_info("scsi", "LUN %llu of %s: capacity now %llu blocks", (unsigned long long)lun->id,
		lun->target_name, (unsigned long long)(size / lun->bdev->block_size));
	tt_lun_ua_raise(lun, TT_UA_CAPACITY_CHANGED, NULL);
}

static const char *default_product(const struct tt_bdev *bdev)
{
	const char *kind = bdev->ops ? bdev->ops->kind : NULL;

	if (kind && !strcmp(kind, "ram"))
		return "RAMDISK";
	if (kind && !strcmp(kind, "null"))
		return "NULLDISK";
	return "VDISK";
}

int tt_lun_create(const char *target_name, uint64_t id, struct tt_bdev *bdev,
		  const struct tt_lun_opts *opts, struct tt_lun **out)
{
	static const struct tt_lun_opts no_opts;
	struct tt_lun *lun;
	uint32_t bs, phys, max_xfer;
	int rc;

	if (!opts)
		opts = &no_opts;
	if (!target_name || !*target_name || !bdev || id > TT_SCSI_LUN_MAX)
		return -EINVAL;
	bs = bdev->block_size;
	if (bs < 512 || (bs & (bs - 1)) || bdev->size < bs)
		return -EINVAL;
	phys = opts->physical_block_size ? opts->physical_block_size : bs;
	if (phys < bs || (phys & (phys - 1)))
		return -EINVAL;
	max_xfer = opts->max_xfer_bytes ? opts->max_xfer_bytes : TT_SCSI_MAX_XFER_DEFAULT;
	if (max_xfer < bs)
		return -EINVAL;

	lun = calloc(1, sizeof(*lun));
	if (!lun)
		return -ENOMEM;
	lun->state = calloc(1, sizeof(*lun->state));
	lun->target_name = strdup(target_name);
	if (!lun->state || !lun->target_name) {
		rc = -ENOMEM;
		goto fail;
	}
	lun->id = id;
	rc = copy_ascii(lun->vendor, sizeof(lun->vendor), opts->vendor ? opts->vendor : TT_SCSI_VENDOR);
	if (!rc)
		rc = copy_ascii(lun->product, sizeof(lun->product),
				opts->product ? opts->product : default_product(bdev));
	if (!rc)
		rc = copy_ascii(lun->revision, sizeof(lun->revision),
				opts->revision ? opts->revision : TT_SCSI_REVISION);
	if (rc)
		goto fail;
	lun->naa_id = opts->naa_id ? opts->naa_id : derive_naa_id(target_name, id, bdev);
	if (opts->serial)
		rc = copy_ascii(lun->serial, sizeof(lun->serial), opts->serial);
	else
		snprintf(lun->serial, sizeof(lun->serial), "%016llx", (unsigned long long)lun->naa_id);
	if (rc)
		goto fail;
	rc = tt_pr_init(lun, opts->pr_file); /* the last step that can fail */
	if (rc)
		goto fail;
	lun->write_protect = opts->write_protect || bdev->readonly;
	lun->thin = bdev->thin && !opts->no_thin;
	lun->max_xfer_blocks = max_xfer / bs;
	lun->lbppbe = (uint8_t)__builtin_ctz(phys / bs);
	lun->state->sanitize_rate = opts->sanitize_rate;
	lun->refs = 1;
	pthread_mutex_init(&lun->lock, NULL);
	pthread_mutex_init(&lun->state->shared_lock, NULL);
	tt_list_init(&lun->state->nexuses);
	tt_list_init(&lun->state->shared_tasks);
	for (unsigned i = 0; i < TT_LU_TASK_SLOTS; i++)
		tt_list_init(&lun->state->slots[i].tasks);
	tt_bdev_get(bdev);
	lun->bdev = bdev;
	lun->resize_watch.resized = lun_resized;
	tt_bdev_watch_add(bdev, &lun->resize_watch);
	tt_mode_init(lun);
	/* a shared medium: the reservations live in its shared record (may wait for its cluster) */
	rc = tt_pr_shared_attach(lun);
	if (rc) {
		tt_err("scsi", "LUN %llu of %s: cannot share persistent reservations through the "
		       "backend: %s", (unsigned long long)id, target_name, strerror(-rc));
		tt_bdev_watch_del(bdev, &lun->resize_watch);
		tt_pr_free(lun);
		pthread_mutex_destroy(&lun->state->shared_lock);
		pthread_mutex_destroy(&lun->lock);
		tt_bdev_put(bdev);
		goto fail;
	}
	tt_lun_registry_add(lun);
	*out = lun;
	return 0;
fail:
	free(lun->target_name);
	free(lun->state);
	free(lun);
	return rc;
}

void tt_lun_get(struct tt_lun *lun)
{
	__atomic_add_fetch(&lun->refs, 1, __ATOMIC_RELAXED);
}

void tt_lun_put(struct tt_lun *lun)
{
	if (!lun || __atomic_sub_fetch(&lun->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	/* no task can be left: each borrows a session's reference */
	tt_bdev_watch_del(lun->bdev, &lun->resize_watch); /* lun_resized() no longer runs */
	tt_lun_registry_del(lun);
	/* the shared record's watch first: its callbacks raise unit attentions (flushed here) */
	tt_pr_shared_detach(lun);
	tt_ua_free_all(lun);
	tt_pr_free(lun);
	for (unsigned i = 0; i < TT_LU_TASK_SLOTS; i++)
		free(lun->state->slots[i].io);
	pthread_mutex_destroy(&lun->state->shared_lock);
	pthread_mutex_destroy(&lun->lock);
	tt_bdev_put(lun->bdev);
	free(lun->target_name);
	free(lun->state);
	free(lun);
}

/* SAM-5 4.7: peripheral device addressing (00b) for 0..255, flat space addressing (01b) above. */
void tt_scsi_lun_encode(uint64_t id, uint8_t out[8])
{
	memset(out, 0, 8);
	if (id < 256) {
		out[1] = (uint8_t)id;
	} else {
		out[0] = (uint8_t)(0x40 | ((id >> 8) & 0x3f));
		out[1] = (uint8_t)id;
	}
}

uint64_t tt_scsi_lun_decode(const uint8_t in[8])
{
	for (int i = 2; i < 8; i++)
		if (in[i])
			return TT_SCSI_LUN_INVALID;
	switch (in[0] >> 6) {
	case 0: /* peripheral device: bus identifier must be 0 for a single level */
		return in[0] ? TT_SCSI_LUN_INVALID : in[1];
	case 1: /* flat space */
		return (uint64_t)(in[0] & 0x3f) << 8 | in[1];
	default:
		return TT_SCSI_LUN_INVALID;
	}
}
