/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Block backends. A backend is opened from a spec string ("ram:1G", "file:/path,direct",
 * "null:1G") and serves asynchronous I/O. Completions always run later on the loop that submitted
 * the I/O (never inside tt_bdev_submit), so callers need not handle re-entry.
 *
 * Lifetime: a backend is reference counted. Holders: the creator (dropped by tt_bdev_put when the
 * LUN is deleted), every in-flight I/O (taken by tt_bdev_submit, dropped after its done()) and,
 * for a wrapped backend, the wrapper (dropped when the wrapper is destroyed).
 *
 * Threads: one backend may be used from several loop threads at once. Every I/O is submitted and
 * completed on one loop; concurrent I/Os to overlapping ranges complete in no defined order.
 */
#ifndef TT_BDEV_BDEV_H
#define TT_BDEV_BDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <pthread.h>

#include "base/loop.h"

/* Buffers aligned to this (address and length) never need a bounce copy, even with O_DIRECT. */
#define TT_BDEV_BUF_ALIGN 4096

struct tt_bdev;

enum tt_bdev_op {
	TT_BDEV_READ,
	TT_BDEV_WRITE,
	TT_BDEV_FLUSH,        /* make everything written so far durable */
	TT_BDEV_UNMAP,        /* deallocate [offset, offset+len): later reads return zeroes */
	TT_BDEV_WRITE_ZEROES, /* write zeroes over [offset, offset+len) */
	/* Backends with write_same only: write the one block in iov (total = the block size) over
	 * every block of [offset, offset+len). */
	TT_BDEV_WRITE_SAME,
	/* Backends with compare_and_write only, as one atomic step towards every other user of the
	 * medium (also other hosts): iov holds len bytes to compare with [offset, offset+len), then
	 * len bytes to write there when they match (iov total = 2 x len). A mismatch completes with
	 * -EILSEQ and io->miscompare set to the byte offset (from @offset) of the first difference;
	 * -EOPNOTSUPP when the backend cannot do this range atomically (the caller does it itself). */
	TT_BDEV_COMPARE_AND_WRITE,
};

struct tt_bdev_io;
typedef void (*tt_bdev_done_fn)(struct tt_bdev_io *io, int status);

struct tt_bdev_io {
	enum tt_bdev_op op;
	uint64_t offset; /* bytes, a multiple of the block size */
	uint64_t len;    /* bytes, a multiple of the block size */
	struct iovec *iov; /* READ/WRITE data, total length == len */
	int iovcnt;
	bool fua;          /* WRITE: durable before done() */
	tt_bdev_done_fn done; /* status: 0, or -EIO, -ENOSPC, ... */
	void *ctx;            /* caller's */
	uint64_t miscompare;  /* COMPARE_AND_WRITE that ended -EILSEQ: first differing byte */

	/* private to the backend */
	struct tt_bdev *bdev;
	struct tt_loop *loop;
	struct tt_work work;
	int status;
	uint64_t submit_ns;
	struct tt_list node;
};

struct tt_bdev_ops {
	const char *kind; /* "ram", "file", "null", "delay", "fail" */
	/* Start @io; 0 when accepted (done() will run later), or -errno (done() will not run). */
	int (*submit)(struct tt_bdev *bdev, struct tt_bdev_io *io);
	/* Free the backend's resources; called when the last reference goes. */
	void (*destroy)(struct tt_bdev *bdev);
	/* Optional, see tt_bdev_get_status (NULL: the wrapped backend answers, or all mapped). */
	int (*get_status)(struct tt_bdev *bdev, uint64_t offset, uint64_t max, bool *mapped,
			  uint64_t *len);
	/* Optional, see tt_bdev_identity (NULL: the wrapped backend answers, or none). */
	int (*identity)(struct tt_bdev *bdev, char *buf, size_t len);
	/* Optional, all four or none: the shared state of the medium (tt_bdev_shared_*). */
	const struct tt_bdev_shared_ops *shared;
};

/*
 * Told when the size of a backend changes (an image grown by its cluster's administrator):
 * resized() runs on a thread of the backend, never a loop thread, with the new size in bytes.
 * See tt_bdev_watch_add.
 */
struct tt_bdev_watch;
typedef void (*tt_bdev_resized_fn)(struct tt_bdev_watch *w, uint64_t size);
struct tt_bdev_watch {
	tt_bdev_resized_fn resized;
	struct tt_list node; /* private */
};

struct tt_bdev {
	const struct tt_bdev_ops *ops;
	char *spec;           /* the string it was opened from, for saving the configuration */
	uint64_t size;        /* bytes; atomic (a backend may grow): read with tt_bdev_size */
	uint32_t block_size;  /* 512 or 4096 */
	bool thin;            /* supports UNMAP (deallocated blocks read as zero) */
	bool readonly;
	bool volatile_cache;  /* writes need FLUSH to be durable (file without dsync) */
	bool failed;          /* set when an I/O never completed within the wait bound */
	bool write_same;      /* serves TT_BDEV_WRITE_SAME */
	bool compare_and_write; /* serves TT_BDEV_COMPARE_AND_WRITE */
	uint32_t compare_and_write_max; /* its largest length in bytes (0: any) */
	int refs;             /* atomic */
	uint64_t inflight;    /* atomic: I/Os submitted and not completed */
	struct tt_bdev *inner; /* delay and fail: the wrapped backend; NULL otherwise */
	pthread_mutex_t watch_lock; /* guards @watches; held while resized() runs */
	struct tt_list watches;     /* struct tt_bdev_watch */
};

/*
 * Opens a backend from a spec "KIND:ARGS". ARGS is a comma-separated list; SIZE takes K, M, G, T
 * (or KiB, MiB, GiB, TiB) suffixes, powers of 1024. Block size: bs=512 (default) or bs=4096.
 *
 *   ram:SIZE[,bs=4096][,ro]      anonymous memory, thin (unmapped pages read as zero); memory is
 *                                used only where written
 *   null:SIZE[,bs=4096][,nofill][,ro]
 *                                reads return zeroes (nofill: buffers are left untouched), writes
 *                                are discarded (benchmarks)
 *   file:PATH[,size=SIZE][,create][,direct][,dsync][,bs=4096][,ro][,io=uring|sync]
 *                                regular file or block device through io_uring (one ring per loop
 *                                thread). A missing regular file is created when size= is given;
 *                                with create, an existing smaller file is extended to size=.
 *                                direct: O_DIRECT (unaligned buffers are bounced); dsync: O_DSYNC
 *                                (every write durable, volatile_cache false); thin when the file
 *                                system can punch holes (block devices: when they can write zeroes
 *                                by deallocating). io=sync: synchronous system calls.
 *   delay:[ms=N][,hang[=before|after]],SPEC
 *                                test wrapper around SPEC: each completion is delayed N ms;
 *                                with hang, I/Os are parked until tt_bdev_delay_release() (before:
 *                                not yet passed to SPEC, the default; after: executed by SPEC but
 *                                not completed)
 *   rbd:POOL/IMAGE[,conf=PATH][,id=USER][,timeout=SECONDS][,bs=4096][,ro]
 *                                a Ceph RBD image through librbd's asynchronous calls (bdev_rbd.c):
 *                                several hosts may serve the same image (the client-side cache
 *                                is off); its identity is the cluster, pool and image id; a
 *                                growing image is noticed (tt_bdev_watch_add). timeout: seconds
 *                                for the connection and for each monitor and OSD operation
 *                                (default 30)
 *   fail:[lba=A[-B]][,op=read+write+flush+unmap+zeroes|all][,every=N][,count=N][,err=NAME][,off],SPEC
 *                                test wrapper that fails matching I/Os with -EIO (or err=enospc,
 *                                erofs, enomem, etimedout, enodata) without passing them to SPEC:
 *                                I/Os of the listed kinds (default read+write) that touch blocks
 *                                A..B, every Nth of them, at most count times; off: start
 *                                disarmed (see tt_bdev_fail_arm)
 * A wrapper's own options come first; the first element containing ':' starts the inner SPEC,
 * which runs to the end of the string, so wrappers nest: "delay:ms=5,fail:lba=8,ram:1M".
 *
 * On error returns -errno and writes a message naming the bad part into @err ("file: missing
 * path", "ram: bad size '1Q'", "unknown backend kind 'foo'").
 */
int tt_bdev_open(const char *spec, struct tt_bdev **out, char *err, size_t errlen);
void tt_bdev_get(struct tt_bdev *bdev);
void tt_bdev_put(struct tt_bdev *bdev);

/*
 * Submits on the calling thread's loop (tt_loop_current()). Returns 0 (done() runs later on that
 * loop), or -errno and done() never runs: -EINVAL (no loop, offset/len not block multiples, iovec
 * total != len), -ERANGE (beyond the end), -EROFS (write to a read-only backend), -EOPNOTSUPP
 * (UNMAP on a backend that is not thin), -ENOMEM.
 */
int tt_bdev_submit(struct tt_bdev *bdev, struct tt_bdev_io *io);

/*
 * Provisioning status (synchronous, any thread): whether the bytes at @offset are mapped (hold
 * data) or deallocated (read as zeroes without using space), and in *@len how many bytes from
 * @offset share that status: a block multiple, at least one block, at most @max. @offset and
 * @max are block multiples, @max > 0, @offset + @max <= size. ram: pages written since their
 * last deallocation; regular files: SEEK_DATA / SEEK_HOLE; everything else reports mapped.
 * Returns 0 or -errno (-EINVAL for a bad range).
 */
int tt_bdev_get_status(struct tt_bdev *bdev, uint64_t offset, uint64_t max, bool *mapped,
		       uint64_t *len);

/* The size in bytes now (an atomic load). */
static inline uint64_t tt_bdev_size(const struct tt_bdev *bdev)
{
	return __atomic_load_n(&bdev->size, __ATOMIC_ACQUIRE);
}

/*
 * A name of the medium that every host serving it computes alike ("rbd:<cluster fsid>/<pool
 * id>/<image id>"), into @buf; -ENOENT when the backend has none (its medium is this host's: the
 * LUN's identity then comes from the target's name). Wrappers answer for what they wrap.
 */
int tt_bdev_identity(struct tt_bdev *bdev, char *buf, size_t len);

/* Adds or removes a watch of @bdev's size (any thread). After tt_bdev_watch_del returns, the
 * watch's resized() is not running and will not run again. */
void tt_bdev_watch_add(struct tt_bdev *bdev, struct tt_bdev_watch *w);
void tt_bdev_watch_del(struct tt_bdev *bdev, struct tt_bdev_watch *w);

/* For backends: a new size (a block multiple), stored and told to the watches. */
void tt_bdev_set_size(struct tt_bdev *bdev, uint64_t size);

/* For backends: finish @io on its loop (deferred, never inline). Callable from any thread. */
void tt_bdev_io_complete(struct tt_bdev_io *io, int status);

/* Parse "64M", "1G", "2GiB", "4096" into bytes; -EINVAL on junk or overflow. */
int tt_parse_size(const char *s, uint64_t *out);
/* Formats @bytes as "1G", "512K" when exact, else as a byte count. Returns @buf. */
char *tt_format_size(uint64_t bytes, char *buf, size_t len);

/*
 * Shared state: a small named record next to a medium that several hosts serve (rbd: a RADOS
 * object "tether.<name>.<image id>" in the image's pool), versioned by the backend, replaced only
 * by a compare-and-swap on that version, and with a message to every host watching it. The
 * SCSI core keeps persistent reservations there (scsi/pr.c). Only backends whose medium is
 * shared offer it (tt_bdev_shared_supported); wrappers pass it through.
 *
 *   load     reads the record: done(arg, 0, text, len, version) on the calling loop, later;
 *            a record that does not exist reads as len 0, version 0
 *   store    replaces the record if its version is still @version (0: it must not exist yet),
 *            then sends @msg to every watcher and waits for their acknowledgements (or the
 *            backend's timeout): done(arg, 0, new version) on the calling loop. -ESTALE: the
 *            record changed meanwhile (nothing written); -ETIMEDOUT, -EIO, ...: the cluster
 *            did not answer in time (the record may or may not have been replaced)
 *   watch    calls notified(arg, version, msg, len) on a backend thread for every message
 *            sent by a store (this host's included); the message is acknowledged when
 *            notified() returns. *@handle names the watch for unwatch. Synchronous (waits
 *            for the cluster: not on a loop thread of a running target): the record is then
 *            read into *@text (malloc'd, *@len bytes, to free) and *@version
 *            When the watch breaks (the cluster timed it out: this host paused or cut off
 *            longer than the watch timeout), messages may have been missed: the backend calls
 *            resync(arg, -errno, NULL, 0, 0) on a backend thread, re-establishes the watch and
 *            reads the record again (retrying until it succeeds, off the loops), then calls
 *            resync(arg, 0, text, len, version) with what it read after the watch was back
 *   unwatch  after it returns, neither notified() nor resync() is running or will run again
 * load and store return 0 (done() will run) or -errno (it will not).
 */
typedef void (*tt_bdev_shared_load_fn)(void *arg, int status, const char *text, size_t len,
				       uint64_t version);
typedef void (*tt_bdev_shared_store_fn)(void *arg, int status, uint64_t version);
typedef void (*tt_bdev_shared_notified_fn)(void *arg, uint64_t version, const char *msg,
					   size_t len);
typedef void (*tt_bdev_shared_resync_fn)(void *arg, int status, const char *text, size_t len,
					 uint64_t version);
struct tt_bdev_shared_ops {
	int (*load)(struct tt_bdev *bdev, const char *name, tt_bdev_shared_load_fn done, void *arg);
	int (*store)(struct tt_bdev *bdev, const char *name, uint64_t version, const char *text,
		     size_t len, const char *msg, size_t msglen, tt_bdev_shared_store_fn done,
		     void *arg);
	int (*watch)(struct tt_bdev *bdev, const char *name, tt_bdev_shared_notified_fn notified,
		     tt_bdev_shared_resync_fn resync, void *arg, uint64_t *handle, char **text,
		     size_t *len, uint64_t *version);
	void (*unwatch)(struct tt_bdev *bdev, uint64_t handle);
};
/* The backend (@bdev or one it wraps) that offers shared state, or NULL. */
struct tt_bdev *tt_bdev_shared_supported(struct tt_bdev *bdev);

/* --- test backends: control from any thread ------------------------------------------------- */
enum tt_bdev_hang {
	TT_BDEV_HANG_OFF,
	TT_BDEV_HANG_BEFORE, /* park I/Os before they reach the inner backend */
	TT_BDEV_HANG_AFTER,  /* park I/Os after the inner backend executed them */
};
/* These find the delay (fail) backend in @bdev or the backends it wraps; -EINVAL if none. */
/* Changes the hang mode for I/Os submitted or completing from now on. */
int tt_bdev_delay_set_hang(struct tt_bdev *bdev, enum tt_bdev_hang mode);
/* Lets every parked I/O go on (each on its own loop); returns how many were released. */
int tt_bdev_delay_release(struct tt_bdev *bdev);
/* Number of I/Os parked right now. */
int tt_bdev_delay_parked(struct tt_bdev *bdev);
/* Arms or disarms failure injection; returns 0, or -EINVAL if there is no fail backend. */
int tt_bdev_fail_arm(struct tt_bdev *bdev, bool on);

#endif
