/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libtether: a userspace iSCSI initiator with multipath.
 *
 * A device (struct tether_dev) is one logical unit reached through one or more paths, each an
 * iSCSI session given as a URL:
 *
 *	iscsi://[user[%secret]@]host[:port]/target-iqn/lun
 *
 * Every path must lead to the same logical unit (VPD page 83h identifiers are compared); a path
 * that leads elsewhere is refused, by name.
 *
 * Rules of the API:
 *  - every call that can fail returns 0 (or a non-negative count) or a negative errno;
 *  - handles are opaque; there is no global state;
 *  - thread-compatible: a device and everything done with it belongs to one thread at a time
 *    (one device per thread, or the caller's own lock);
 *  - the library owns no threads. The application waits until tether_fd() is ready for
 *    tether_events(), or tether_timeout_ms() has passed, then calls tether_service(); completion
 *    callbacks run from tether_service() (never from the call that submitted the I/O);
 *  - the synchronous calls (tether_open, tether_pread, ...) service the device themselves until
 *    their work is done.
 *
 * What fail-over guarantees is documented in docs/failover.md; the options in docs/libtether.md.
 */
#ifndef TETHER_TETHER_H
#define TETHER_TETHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

struct tether_dev;
struct tether_opts;

/* --- options -------------------------------------------------------------------------------
 * Options are named; values are strings parsed by the library (numbers in milliseconds unless
 * the name says otherwise; -1 where documented means "forever"). An unknown name, or a value out
 * of range, returns -EINVAL and tether_opts_errmsg() names the offending option.
 *
 *	nop_interval_ms        NOP-Out interval on an idle path
 *	nop_timeout_ms         a NOP-In not received within this declares the path dead
 *	command_timeout_ms     a command not answered within this declares the path dead
 *	tcp_user_timeout_ms    TCP_USER_TIMEOUT on each connection
 *	connect_timeout_ms     a TCP connect not established within this fails the attempt
 *	login_timeout_ms       a login not complete within this fails the attempt
 *	reconnect_delay_ms     first delay before reconnecting a dead path (then doubled after
 *	                       each attempt the target answered; an unreachable portal is
 *	                       probed at this interval) ...
 *	reconnect_max_delay_ms ... up to this
 *	path_loss_timeout_ms   a path dead this long is given up (deleted); -1 never
 *	no_path_timeout_ms     with no live path, I/O queues this long then fails with -EIO;
 *	                       0 fails at once, -1 queues forever
 *	fence                  how a modifying command of a dead path is fenced before it is retried
 *	                       elsewhere: "auto" (reinstatement, else LU reset, else quiesce),
 *	                       "reinstate", "lu-reset", "quiesce"
 *	quiesce_ms             the bounded quiesce time of fence=quiesce
 *	selector               "round-robin", "queue-depth" or "service-time" (among the paths of
 *	                       the best ALUA state)
 *	initiator_name         the iSCSI initiator name (default: derived from the host name)
 *	chap_user, chap_secret           CHAP (the URL's user%secret also sets these)
 *	mutual_user, mutual_secret       mutual CHAP: the target's name and secret
 *	header_digest, data_digest       "none" or "crc32c"
 */
int tether_opts_new(struct tether_opts **out);
void tether_opts_free(struct tether_opts *opts);
int tether_opts_set(struct tether_opts *opts, const char *name, const char *value);
/* The value of an option (the default when not set) in @buf; -EINVAL for an unknown name. */
int tether_opts_get(const struct tether_opts *opts, const char *name, char *buf, size_t size);
/* Why the last tether_opts_set() failed ("" when it did not). */
const char *tether_opts_errmsg(const struct tether_opts *opts);
/* Where log lines of devices opened with @opts go (default: stderr, warnings and worse).
 * @level: 0 error, 1 warning, 2 info, 3 debug. */
typedef void (*tether_log_fn)(int level, const char *msg, void *arg);
void tether_opts_set_log(struct tether_opts *opts, int max_level, tether_log_fn fn, void *arg);

/* --- opening and closing ------------------------------------------------------------------- */
/* Opens a device from @npaths URLs and waits (servicing it) until at least one path is live and
 * the logical unit's identity and capacity are known, or login_timeout_ms has passed. Paths that
 * cannot connect yet keep trying in the background. @opts may be NULL (defaults) and is copied.
 * On failure *out is NULL and, when @errbuf is given, it holds why (which URL, which step). */
int tether_open(struct tether_dev **out, const char *const *urls, size_t npaths,
		const struct tether_opts *opts, char *errbuf, size_t errsize);
/* Adds a path to an open device; it joins when live and proven to reach the same unit. */
int tether_add_path(struct tether_dev *dev, const char *url);
/* Completes every outstanding I/O (or fails it with -ECANCELED after a short bound), logs out
 * of every path and frees the device. */
void tether_close(struct tether_dev *dev);
/* The last error of the device, in words (for logs). */
const char *tether_errmsg(const struct tether_dev *dev);

/* --- the logical unit ----------------------------------------------------------------------- */
uint64_t tether_size(const struct tether_dev *dev);        /* bytes */
uint32_t tether_block_size(const struct tether_dev *dev);  /* bytes per logical block */
/* The VPD 83h designator the paths were matched on, as text (e.g. "naa.6001405..."). */
const char *tether_lu_id(const struct tether_dev *dev);

/* --- embedding ------------------------------------------------------------------------------ */
int tether_fd(const struct tether_dev *dev);
uint32_t tether_events(const struct tether_dev *dev);  /* poll(2) events for tether_fd() */
int tether_timeout_ms(const struct tether_dev *dev);   /* -1: no timer armed */
/* Runs what is ready without blocking (completions, timers, reconnects). 0 or -errno. */
int tether_service(struct tether_dev *dev);

/* --- asynchronous I/O ------------------------------------------------------------------------
 * Offsets and lengths are in bytes and must be multiples of tether_block_size(). The buffers
 * must stay valid until the callback. @status is 0 or a negative errno: -EIO when the unit
 * failed the command or no path came back within no_path_timeout_ms, -EINVAL for a request the
 * unit refused, -ECANCELED on tether_close(), -ENOSPC when the unit is out of space. */
typedef void (*tether_cb)(struct tether_dev *dev, int status, void *arg);

int tether_readv(struct tether_dev *dev, uint64_t offset, const struct iovec *iov, int iovcnt,
		 tether_cb cb, void *arg);
int tether_writev(struct tether_dev *dev, uint64_t offset, const struct iovec *iov, int iovcnt,
		  tether_cb cb, void *arg);
/* SYNCHRONIZE CACHE of the whole unit. */
int tether_flush(struct tether_dev *dev, tether_cb cb, void *arg);
/* Deallocates (UNMAP) a range; -EOPNOTSUPP when the unit cannot. */
int tether_unmap(struct tether_dev *dev, uint64_t offset, uint64_t length, tether_cb cb, void *arg);
#define TETHER_ZEROES_MAY_UNMAP 0x1u
int tether_write_zeroes(struct tether_dev *dev, uint64_t offset, uint64_t length, unsigned flags,
			tether_cb cb, void *arg);

/* SCSI pass-through. The library does not interpret the CDB, so it treats every pass-through
 * command as modifying unless TETHER_SCSI_READ_ONLY says it is not (that decides how it is
 * retried after a path failure, docs/failover.md). */
enum tether_dir { TETHER_DIR_NONE, TETHER_DIR_READ, TETHER_DIR_WRITE };
#define TETHER_SCSI_READ_ONLY 0x1u
struct tether_scsi_cmd {
	uint8_t cdb[16];
	uint8_t cdb_len;
	enum tether_dir dir;
	unsigned flags;
	const struct iovec *iov;
	int iovcnt;
	/* out */
	uint8_t status;      /* SCSI status */
	uint8_t sense[96];
	uint32_t sense_len;
	uint32_t resid;      /* bytes not transferred */
};
/* @status of the callback is 0 when the command reached the unit (cmd->status says how it
 * ended), or a negative errno when it could not be delivered. */
int tether_scsi(struct tether_dev *dev, struct tether_scsi_cmd *cmd, tether_cb cb, void *arg);

/* --- synchronous wrappers (service the device until done) ------------------------------------ */
int tether_pread(struct tether_dev *dev, void *buf, size_t len, uint64_t offset);
int tether_pwrite(struct tether_dev *dev, const void *buf, size_t len, uint64_t offset);
int tether_preadv(struct tether_dev *dev, const struct iovec *iov, int iovcnt, uint64_t offset);
int tether_pwritev(struct tether_dev *dev, const struct iovec *iov, int iovcnt, uint64_t offset);
int tether_flush_sync(struct tether_dev *dev);
int tether_unmap_sync(struct tether_dev *dev, uint64_t offset, uint64_t length);
int tether_write_zeroes_sync(struct tether_dev *dev, uint64_t offset, uint64_t length,
			     unsigned flags);
int tether_scsi_sync(struct tether_dev *dev, struct tether_scsi_cmd *cmd);

/* --- paths ------------------------------------------------------------------------------------ */
struct tether_path_info {
	char url[512];         /* without the secret */
	char state[16];        /* "new", "connecting", "live", "recovering", "deleting", "dead" */
	char alua[24];         /* "active/optimized", "active/non-optimized", "standby",
	                          "unavailable", "transitioning", "offline", "-" */
	uint16_t tpg;          /* target port group (0 when the unit reports none) */
	uint64_t ios;          /* commands completed on this path */
	uint64_t errors;       /* commands that failed on this path (retried elsewhere or not) */
	uint64_t retried;      /* commands moved from this path to another */
	uint64_t failures;     /* times the path was declared dead */
	uint32_t inflight;     /* commands outstanding now */
	uint64_t last_change_ms; /* monotonic ms of the last state change */
};
int tether_path_count(const struct tether_dev *dev);
int tether_path_info(const struct tether_dev *dev, int index, struct tether_path_info *out);

/* --- discovery --------------------------------------------------------------------------------
 * SendTargets against a portal URL (iscsi://host[:port]); @cb is called once per target and
 * address. Synchronous. */
typedef void (*tether_discover_cb)(const char *target, const char *address, void *arg);
int tether_discover(const char *url, const struct tether_opts *opts, tether_discover_cb cb,
		    void *arg, char *errbuf, size_t errsize);

#ifdef __cplusplus
}
#endif
#endif
