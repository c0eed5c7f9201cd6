/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tether attach: the logical unit as the single file MOUNTPOINT/disk, through FUSE (libfuse3's
 * low-level API). The file is opened with direct I/O (no page cache), so `losetup
 * --direct-io=on` makes a block device of it. One thread: our poll loop reads FUSE requests
 * (fuse_session_receive_buf / process_buf) and services the device; each request is answered
 * from the completion of its I/O, so the kernel keeps many outstanding.
 */
#define FUSE_USE_VERSION 35
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "bio.h"
#include "ctl.h"
#include "tether_cmd.h"
#include "tool.h"

#define PROG "tether attach"
#define DISK_INO 2
#define DISK_NAME "disk"
#define ATTACH_BATCH 64 /* FUSE requests read per wake-up */

struct attach {
	struct tool_dev_args dev_args;
	struct tether_dev *dev;
	struct bio *bio;
	struct ctl *ctl;
	struct fuse_session *se;
	const char *mountpoint;
	bool allow_other;
	uint64_t size;
	uint32_t lbs;
	time_t mtime;
};

/* One FUSE request in flight. */
struct areq {
	struct bio_req r;
	fuse_req_t req;
	uint8_t *data;
};

static volatile sig_atomic_t attach_signals;

static void on_signal(int sig)
{
	(void)sig;
	attach_signals++;
}

static void fill_attr(const struct attach *a, fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_uid = getuid();
	st->st_gid = getgid();
	st->st_mtime = st->st_ctime = st->st_atime = a->mtime;
	if (ino == FUSE_ROOT_ID) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
	} else {
		st->st_mode = S_IFREG | 0600;
		st->st_nlink = 1;
		st->st_size = (off_t)a->size;
		st->st_blksize = a->lbs < 4096 ? 4096 : a->lbs;
		st->st_blocks = (blkcnt_t)(a->size / 512);
	}
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	if (conn->capable & FUSE_CAP_ASYNC_DIO)
		conn->want |= FUSE_CAP_ASYNC_DIO;
	conn->want &= ~(unsigned)FUSE_CAP_SPLICE_READ; /* write data in the request buffer */
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct attach *a = fuse_req_userdata(req);
	struct fuse_entry_param e = { .ino = DISK_INO, .attr_timeout = 3600, .entry_timeout = 3600 };

	if (parent != FUSE_ROOT_ID || strcmp(name, DISK_NAME) != 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fill_attr(a, DISK_INO, &e.attr);
	fuse_reply_entry(req, &e);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct attach *a = fuse_req_userdata(req);
	struct stat st;

	(void)fi;
	if (ino != FUSE_ROOT_ID && ino != DISK_INO) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fill_attr(a, ino, &st);
	fuse_reply_attr(req, &st, 3600);
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	struct attach *a = fuse_req_userdata(req);
	struct stat st;

	(void)fi;
	/* the size of a logical unit is fixed; times and modes are not kept */
	if ((to_set & FUSE_SET_ATTR_SIZE) && (uint64_t)attr->st_size != a->size) {
		fuse_reply_err(req, EPERM);
		return;
	}
	fill_attr(a, ino, &st);
	fuse_reply_attr(req, &st, 3600);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (ino != DISK_INO) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	fi->direct_io = 1;
	fi->keep_cache = 0;
	fuse_reply_open(req, fi);
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (ino != FUSE_ROOT_ID)
		fuse_reply_err(req, ENOTDIR);
	else
		fuse_reply_open(req, fi);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct attach *a = fuse_req_userdata(req);
	static const char *const names[] = { ".", "..", DISK_NAME };
	char buf[512];
	size_t len = 0;

	(void)fi;
	if (ino != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	for (off_t i = off; i < 3; i++) {
		struct stat st;
		size_t n;

		fill_attr(a, i == 2 ? DISK_INO : FUSE_ROOT_ID, &st);
		n = fuse_add_direntry(req, buf + len, sizeof(buf) - len, names[i], &st, i + 1);
		if (len + n > size || len + n > sizeof(buf))
			break;
		len += n;
	}
	fuse_reply_buf(req, buf, len);
}

static struct areq *areq_new(fuse_req_t req, enum bio_op op, uint64_t off, size_t len,
			     void (*done)(struct bio_req *, int))
{
	struct areq *q = calloc(1, sizeof(*q));

	if (!q) {
		fuse_reply_err(req, ENOMEM);
		return NULL;
	}
	q->req = req;
	q->r.op = op;
	q->r.off = off;
	q->r.len = len;
	q->r.done = done;
	q->r.arg = q;
	return q;
}

static void areq_free(struct areq *q)
{
	free(q->data);
	free(q);
}

static void read_done(struct bio_req *r, int status)
{
	struct areq *q = r->arg;

	if (status < 0)
		fuse_reply_err(q->req, -status);
	else
		fuse_reply_buf(q->req, (const char *)q->data, r->len);
	areq_free(q);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct attach *a = fuse_req_userdata(req);
	struct areq *q;

	(void)ino;
	(void)fi;
	if (off < 0 || (uint64_t)off >= a->size || size == 0) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if (size > a->size - (uint64_t)off)
		size = (size_t)(a->size - (uint64_t)off);
	q = areq_new(req, BIO_READ, (uint64_t)off, size, read_done);
	if (!q)
		return;
	q->data = malloc(size);
	if (!q->data) {
		fuse_reply_err(req, ENOMEM);
		areq_free(q);
		return;
	}
	q->r.buf = q->data;
	bio_submit(a->bio, &q->r);
}

static void write_done(struct bio_req *r, int status)
{
	struct areq *q = r->arg;

	if (status < 0)
		fuse_reply_err(q->req, -status);
	else
		fuse_reply_write(q->req, r->len);
	areq_free(q);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	struct attach *a = fuse_req_userdata(req);
	struct areq *q;

	(void)ino;
	(void)fi;
	if (off < 0 || (uint64_t)off >= a->size) {
		fuse_reply_err(req, size ? ENOSPC : 0);
		return;
	}
	if (size > a->size - (uint64_t)off)
		size = (size_t)(a->size - (uint64_t)off); /* a short write at the end */
	q = areq_new(req, BIO_WRITE, (uint64_t)off, size, write_done);
	if (!q)
		return;
	/* the request buffer is reused by the next request: the data is copied */
	q->data = malloc(size ? size : 1);
	if (!q->data) {
		fuse_reply_err(req, ENOMEM);
		areq_free(q);
		return;
	}
	memcpy(q->data, buf, size);
	q->r.buf = q->data;
	bio_submit(a->bio, &q->r);
}

static void status_done(struct bio_req *r, int status)
{
	struct areq *q = r->arg;

	fuse_reply_err(q->req, status < 0 ? -status : 0);
	areq_free(q);
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0); /* close(2): nothing is cached here; fsync flushes the unit */
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	struct attach *a = fuse_req_userdata(req);
	struct areq *q;

	(void)ino;
	(void)datasync;
	(void)fi;
	q = areq_new(req, BIO_FLUSH, 0, 0, status_done);
	if (q)
		bio_submit(a->bio, &q->r);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

static void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t len,
			 struct fuse_file_info *fi)
{
	struct attach *a = fuse_req_userdata(req);
	struct areq *q;
	enum bio_op op;

	(void)ino;
	(void)fi;
	if (off < 0 || len <= 0 || (uint64_t)off > a->size ||
	    (uint64_t)len > a->size - (uint64_t)off) {
		fuse_reply_err(req, (mode & FALLOC_FL_KEEP_SIZE) || mode == 0 ? EFBIG : EINVAL);
		return;
	}
	if (mode == 0 || mode == FALLOC_FL_KEEP_SIZE) {
		fuse_reply_err(req, 0); /* every block of a unit is there already */
		return;
	}
	if (mode == (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)) {
		op = BIO_ZERO; /* deallocated, and reads return zeroes afterwards */
	} else if (mode == FALLOC_FL_ZERO_RANGE || mode == (FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE)) {
		op = BIO_ZERO;
	} else {
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	q = areq_new(req, op, (uint64_t)off, (size_t)len, status_done);
	if (!q)
		return;
	q->r.may_trim = mode & FALLOC_FL_PUNCH_HOLE;
	bio_submit(a->bio, &q->r);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct attach *a = fuse_req_userdata(req);
	struct statvfs sv = { 0 };

	(void)ino;
	sv.f_bsize = sv.f_frsize = a->lbs;
	sv.f_blocks = a->size / a->lbs;
	sv.f_files = 2;
	sv.f_namemax = 255;
	fuse_reply_statfs(req, &sv);
}

static const struct fuse_lowlevel_ops attach_ops = {
	.init = op_init,
	.lookup = op_lookup,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.open = op_open,
	.read = op_read,
	.write = op_write,
	.flush = op_flush,
	.release = op_release,
	.fsync = op_fsync,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.statfs = op_statfs,
	.fallocate = op_fallocate,
};

/* --- the loop -------------------------------------------------------------------------------- */

/* Reads and dispatches the FUSE requests waiting; 1 when the file system was unmounted. */
static int fuse_pass(struct attach *a, struct fuse_buf *fbuf)
{
	for (int i = 0; i < ATTACH_BATCH; i++) {
		int res = fuse_session_receive_buf(a->se, fbuf);

		if (res == -EINTR || res == -EAGAIN)
			return 0;
		if (res <= 0) /* 0 or -ENODEV: unmounted */
			return 1;
		fuse_session_process_buf(a->se, fbuf);
		if (fuse_session_exited(a->se))
			return 1;
	}
	return 0;
}

static int attach_loop(struct attach *a)
{
	struct fuse_buf fbuf = { .mem = NULL };
	int ffd = fuse_session_fd(a->se), rc = 0;
	bool mounted = true;

	fcntl(ffd, F_SETFL, fcntl(ffd, F_GETFL) | O_NONBLOCK);
	/* after unmount: until the I/O of answered-or-not requests has completed */
	while (mounted || bio_inflight(a->bio)) {
		struct pollfd pfd[2 + CTL_MAX_FDS];
		int n = 0, nctl;

		pfd[n++] = (struct pollfd){ .fd = tether_fd(a->dev),
					    .events = (short)tether_events(a->dev) };
		pfd[n++] = (struct pollfd){ .fd = mounted ? ffd : -1, .events = POLLIN };
		nctl = ctl_pollfds(a->ctl, &pfd[n]);
		if (poll(pfd, (nfds_t)(n + nctl), tether_timeout_ms(a->dev)) < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
		rc = tether_service(a->dev);
		if (rc < 0) {
			fprintf(stderr, "%s: the device failed: %s (%s)\n", PROG, strerror(-rc),
				tether_errmsg(a->dev));
			break;
		}
		if (mounted && (pfd[1].revents & (POLLIN | POLLERR | POLLHUP)) && fuse_pass(a, &fbuf))
			mounted = false;
		ctl_service(a->ctl, &pfd[n], nctl);
		if (attach_signals && mounted) {
			fprintf(stderr, "%s: signal: unmounting %s\n", PROG, a->mountpoint);
			mounted = false;
		}
	}
	free(fbuf.mem);
	return rc;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: tether attach [-f] [--allow-other] [-o|--opt NAME=VALUE]... [--control PATH|none]\n"
"                     MOUNTPOINT URL [URL...]\n"
"Serves the logical unit as the file MOUNTPOINT/disk (FUSE, direct I/O) until MOUNTPOINT is\n"
"unmounted (fusermount3 -u, umount) or SIGTERM/SIGINT; runs in the foreground.\n");
}

int tether_attach_main(int argc, char **argv)
{
	enum { O_CONTROL = 256, O_ALLOW_OTHER, O_HELP };
	static const struct option longopts[] = {
		{ "opt", required_argument, NULL, 'o' },
		{ "control", required_argument, NULL, O_CONTROL },
		{ "allow-other", no_argument, NULL, O_ALLOW_OTHER },
		{ "foreground", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, O_HELP },
		{ 0 }
	};
	struct attach a = { .mountpoint = NULL };
	struct sigaction sa = { .sa_handler = on_signal };
	char err[512] = "", fsname[300];
	char *fargv[4];
	struct fuse_args fargs;
	int c, rc, status = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:fh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (tool_set_opt(&a.dev_args, PROG, optarg) < 0)
				goto usage_err;
			break;
		case O_CONTROL: a.dev_args.control = optarg; break;
		case O_ALLOW_OTHER: a.allow_other = true; break;
		case 'f': break; /* the foreground is the only mode */
		case 'h': case O_HELP:
			usage(stdout);
			tool_args_free(&a.dev_args);
			return 0;
		default:
			goto usage_err;
		}
	}
	if (optind + 2 > argc) {
		usage(stderr);
		goto usage_err;
	}
	a.mountpoint = argv[optind++];
	for (; optind < argc; optind++)
		if (tool_add_url(&a.dev_args, PROG, argv[optind]) < 0)
			goto usage_err;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (tool_open(&a.dev_args, PROG, &a.dev) < 0)
		goto out;
	a.size = tether_size(a.dev);
	a.lbs = tether_block_size(a.dev);
	a.mtime = time(NULL);
	rc = bio_new(&a.bio, a.dev);
	if (rc < 0)
		goto out;
	rc = ctl_open(&a.ctl, a.dev_args.control, "attach", a.dev, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		goto out;
	}
	snprintf(fsname, sizeof(fsname), "-ofsname=tether,subtype=tether,default_permissions%s",
		 a.allow_other ? ",allow_other" : "");
	fargv[0] = (char *)"tether";
	fargv[1] = fsname;
	fargv[2] = NULL;
	fargs = (struct fuse_args)FUSE_ARGS_INIT(2, fargv);
	a.se = fuse_session_new(&fargs, &attach_ops, sizeof(attach_ops), &a);
	fuse_opt_free_args(&fargs);
	if (!a.se) {
		fprintf(stderr, "%s: cannot start a FUSE session\n", PROG);
		goto out;
	}
	if (fuse_session_mount(a.se, a.mountpoint) != 0) {
		fprintf(stderr, "%s: cannot mount %s (FUSE)\n", PROG, a.mountpoint);
		goto out;
	}
	fprintf(stderr, "%s: %s/%s: %" PRIu64 " bytes, %" PRIu32 "-byte blocks, %s, control %s\n",
		PROG, a.mountpoint, DISK_NAME, a.size, a.lbs, tether_lu_id(a.dev), ctl_path(a.ctl));
	rc = attach_loop(&a);
	fuse_session_unmount(a.se);
	status = rc < 0 ? 1 : 0;
out:
	ctl_close(a.ctl);
	/* outstanding I/O (after a device failure) completes or is cancelled here, and its
	 * requests are answered while the session still exists */
	if (a.dev)
		tether_close(a.dev);
	bio_free(a.bio);
	if (a.se)
		fuse_session_destroy(a.se);
	tool_args_free(&a.dev_args);
	return status;
usage_err:
	tool_args_free(&a.dev_args);
	return 2;
}
