/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared by the backends: spec option parsing, iovec copies, forwarding to a wrapped backend. */
#ifndef TT_BDEV_BDEV_IMPL_H
#define TT_BDEV_BDEV_IMPL_H

#include <stdarg.h>

#include "base/errmsg.h"
#include "bdev/bdev.h"

/* Opens one kind from the text after "kind:". Same contract as tt_bdev_open. */
int tt_bdev_ram_open(const char *args, struct tt_bdev **out, char *err, size_t errlen);
int tt_bdev_null_open(const char *args, struct tt_bdev **out, char *err, size_t errlen);
int tt_bdev_file_open(const char *args, struct tt_bdev **out, char *err, size_t errlen);
int tt_bdev_delay_open(const char *args, struct tt_bdev **out, char *err, size_t errlen);
int tt_bdev_rbd_open(const char *args, struct tt_bdev **out, char *err, size_t errlen);
int tt_bdev_fail_open(const char *args, struct tt_bdev **out, char *err, size_t errlen);

/* Writes a message into @err and returns @rc. */
#define tt_bdev_err tt_errmsg

/* Fills the fields every backend sets: ops, refs = 1, block size 512, no wrapped backend. */
void tt_bdev_init(struct tt_bdev *bdev, const struct tt_bdev_ops *ops);

/*
 * Iterates "a,b=c,d" in place. tt_bdev_opts_next returns false at the end; *val is NULL for a bare
 * key. Empty elements are skipped.
 */
struct tt_bdev_opts {
	char *buf;
	char *next;
};
int tt_bdev_opts_init(struct tt_bdev_opts *o, const char *args);
bool tt_bdev_opts_next(struct tt_bdev_opts *o, char **key, char **val);
void tt_bdev_opts_fini(struct tt_bdev_opts *o);

/* Parses SIZE for @kind into *out (non-zero); on error writes "KIND: bad size 'X'". */
int tt_bdev_opt_size(const char *kind, const char *val, uint64_t *out, char *err, size_t errlen);
/* Parses bs=512|4096. */
int tt_bdev_opt_bs(const char *kind, const char *val, uint32_t *out, char *err, size_t errlen);
/* Checks that @size is a non-zero multiple of @bs. */
int tt_bdev_check_size(const char *kind, uint64_t size, uint32_t bs, char *err, size_t errlen);

/*
 * Splits a wrapper's ARGS into its own options (a copy in *opts, to free) and the inner spec
 * (pointing into @args): the inner spec starts at the first element that contains ':'.
 */
int tt_bdev_wrapper_split(const char *kind, const char *args, char **opts, const char **inner,
			  char *err, size_t errlen);
/* Copies the properties a wrapper shows from its inner backend. */
void tt_bdev_wrapper_init(struct tt_bdev *bdev, const struct tt_bdev_ops *ops, struct tt_bdev *inner);
/* Submits @child, a copy of @io's request, to @inner on the current loop. */
int tt_bdev_forward(struct tt_bdev *inner, const struct tt_bdev_io *io, struct tt_bdev_io *child,
		    tt_bdev_done_fn done, void *ctx);
/* @bdev or the first backend it wraps whose ops are @ops, or NULL. */
struct tt_bdev *tt_bdev_find(struct tt_bdev *bdev, const struct tt_bdev_ops *ops);

/* iovec helpers: lengths in bytes. */
uint64_t tt_iov_len(const struct iovec *iov, int iovcnt);
/* Zeroes the iovecs from byte @skip on. */
void tt_iov_zero(const struct iovec *iov, int iovcnt, uint64_t skip);
/* Copies @len bytes from @buf into the iovecs. */
void tt_iov_from_buf(const struct iovec *iov, int iovcnt, const void *buf, uint64_t len);
/* Copies @len bytes from the iovecs into @buf. */
void tt_iov_to_buf(const struct iovec *iov, int iovcnt, void *buf, uint64_t len);

/* Spins until the message is queued (tt_loop_send fails only on allocation failure). */
void tt_bdev_send(struct tt_loop *loop, void (*fn)(void *arg), void *arg);

#endif
