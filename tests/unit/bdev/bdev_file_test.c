/* SPDX-License-Identifier: BSD-3-Clause */
/* File backend on real files in a temporary directory, through io_uring and synchronously. */
#include "bdev_util.h"

#define _FILE_OFFSET_BITS 64
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define MB (1024 * 1024)

static char tmpdir[64];
static char loopdev[64]; /* a loop device to detach at the end */

/* io mode under test: "" (io_uring) or ",io=sync" */
static const char *const mode_uring = "";
static const char *const mode_sync = ",io=sync";

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/var/tmp/tt-bdev-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	if (loopdev[0]) {
		snprintf(cmd, sizeof(cmd), "losetup -d %s", loopdev);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot detach %s\n", loopdev);
	}
	return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *path_of(const char *name)
{
	static char path[128];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}

/* Opens "file:<tmpdir>/NAME<opts><mode>". */
static int open_file(const char *name, const char *opts, const char *mode, struct tt_bdev **b,
		     char *err, size_t errlen)
{
	char spec[256];

	snprintf(spec, sizeof(spec), "file:%s%s%s", path_of(name), opts, mode);
	*b = NULL;
	return tt_bdev_open(spec, b, err, errlen);
}

static struct tt_bdev *must_open(const char *name, const char *opts, const char *mode)
{
	struct tt_bdev *b;
	char err[256];
	int rc = open_file(name, opts, mode, &b, err, sizeof(err));

	if (rc < 0)
		fail_msg("open %s%s: %s", name, opts, err);
	assert_int_equal(b->refs, 1);
	return b;
}

static void test_file_rw(void **state)
{
	const char *mode = *state;
	struct tt_loop *loop = test_loop_new();
	char *w = test_alloc(MB), *r = test_alloc(MB), *f = test_alloc(MB);
	struct tt_bdev *b;
	struct test_io t;
	struct stat st;
	int fd;

	unlink(path_of("rw.img"));
	b = must_open("rw.img", ",size=4M", mode);
	assert_string_equal(b->ops->kind, "file");
	assert_true(b->size == 4 * MB);
	assert_int_equal(b->block_size, 512);
	assert_true(b->volatile_cache);
	assert_false(b->readonly);
	assert_int_equal(stat(path_of("rw.img"), &st), 0);
	assert_true(st.st_size == 4 * MB);

	test_fill(w, MB, 1);
	assert_int_equal(test_rw(loop, b, TT_BDEV_WRITE, 0, w, MB), 0);
	/* scattered iovecs, FUA */
	test_io_prep(&t, TT_BDEV_WRITE, MB, NULL, 3 * 4096);
	t.iov[0] = (struct iovec){ w, 4096 };
	t.iov[1] = (struct iovec){ w + 65536, 8192 };
	t.io.iovcnt = 2;
	t.io.fua = true;
	assert_int_equal(test_io_wait(loop, b, &t), 0);
	assert_int_equal(test_rw(loop, b, TT_BDEV_FLUSH, 0, NULL, 0), 0);
	/* the last block */
	assert_int_equal(test_rw(loop, b, TT_BDEV_WRITE, 4 * MB - 512, w + 512, 512), 0);

	assert_int_equal(test_rw(loop, b, TT_BDEV_READ, 0, r, MB), 0);
	assert_memory_equal(r, w, MB);
	assert_int_equal(test_rw(loop, b, TT_BDEV_READ, MB, r, 3 * 4096), 0);
	assert_memory_equal(r, w, 4096);
	assert_memory_equal(r + 4096, w + 65536, 8192);

	/* WRITE_ZEROES in the middle of written data */
	assert_int_equal(test_rw(loop, b, TT_BDEV_WRITE_ZEROES, 4096, NULL, 8192), 0);
	assert_int_equal(test_rw(loop, b, TT_BDEV_READ, 0, r, 16384), 0);
	assert_memory_equal(r, w, 4096);
	assert_true(test_is_zero(r + 4096, 8192));
	assert_memory_equal(r + 12288, w + 12288, 4096);
	assert_int_equal(b->refs, 1);
	assert_true(b->inflight == 0);
	tt_bdev_put(b);

	/* the data is in the file, and still there when opened again */
	fd = open(path_of("rw.img"), O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, f, 4096, 0), 4096);
	assert_memory_equal(f, w, 4096);
	close(fd);
	b = must_open("rw.img", "", mode);
	assert_true(b->size == 4 * MB);
	assert_int_equal(test_rw(loop, b, TT_BDEV_READ, 3 * MB, r, MB), 0);
	assert_true(test_is_zero(r, MB - 512));
	assert_memory_equal(r + MB - 512, w + 512, 512);
	assert_int_equal(test_rw(loop, b, TT_BDEV_READ, 12288, r, MB), 0);
	assert_memory_equal(r, w + 12288, MB - 12288);
	tt_bdev_put(b);
	free(w);
	free(r);
	free(f);
	tt_loop_destroy(loop);
}

static void test_file_unmap(void **state)
{
	const char *mode = *state;
	struct tt_loop *loop = test_loop_new();
	char *w = test_alloc(4 * MB), *r = test_alloc(4 * MB);
	struct tt_bdev *b;
	struct stat before, after;

	unlink(path_of("thin.img"));
	b = must_open("thin.img", ",size=8M", mode);
	if (!b->thin) {
		tt_bdev_put(b);
		free(w);
		free(r);
		tt_loop_destroy(loop);
		tt_skip("%s: the file system here cannot punch holes", path_of("thin.img"));
	}
	test_fill(w, 4 * MB, 2);
	assert_int_equal(test_rw(loop, b, TT_BDEV_WRITE, 0, w, 4 * MB), 0);
	assert_int_equal(test_rw(loop, b, TT_BDEV_FLUSH, 0, NULL, 0), 0);
	assert_int_equal(stat(path_of("thin.img"), &before), 0);
	assert_true(before.st_blocks >= 4 * MB / 512);

	assert_int_equal(test_rw(loop, b, TT_BDEV_UNMAP, MB, NULL, 2 * MB), 0);
	assert_int_equal(stat(path_of("thin.img"), &after), 0);
	/* the hole is really punched: about 2M fewer allocated blocks */
	assert_true(after.st_blocks <= before.st_blocks - (2 * MB - 65536) / 512);
	assert_true(after.st_size == 8 * MB);

	assert_int_equal(test_rw(loop, b, TT_BDEV_READ, 0, r, 4 * MB), 0);
	assert_memory_equal(r, w, MB);
	assert_true(test_is_zero(r + MB, 2 * MB));
	assert_memory_equal(r + 3 * MB, w + 3 * MB, MB);
	/* unaligned to pages: partial blocks zeroed too */
	assert_int_equal(test_rw(loop, b, TT_BDEV_UNMAP, 3 * MB + 512, NULL, 1536), 0);
	assert_int_equal(test_rw(loop, b, TT_BDEV_READ, 3 * MB, r, 4096), 0);
	assert_memory_equal(r, w + 3 * MB, 512);
	assert_true(test_is_zero(r + 512, 1536));
	assert_memory_equal(r + 2048, w + 3 * MB + 2048, 2048);
	tt_bdev_put(b);
	free(w);
	free(r);
	tt_loop_destroy(loop);
}

static void test_file_direct(void **state)
{
	const char *mode = *state;
	struct tt_loop *loop = test_loop_new();
	char *w = test_alloc(MB + 4096), *r = test_alloc(MB + 4096);
	struct tt_bdev *b;
	struct test_io t;
	char err[256];
	int rc;

	unlink(path_of("direct.img"));
	rc = open_file("direct.img", ",size=4M,direct", mode, &b, err, sizeof(err));
	if (rc < 0 && strstr(err, "direct I/O not supported")) {
		free(w);
		free(r);
		tt_loop_destroy(loop);
		tt_skip("%s", err);
	}
	assert_int_equal(rc, 0);
	test_fill(w, MB + 4096, 3);
	/* aligned */
	assert_int_equal(test_rw(loop, b, TT_BDEV_WRITE, 0, w, MB), 0);
	assert_int_equal(test_rw(loop, b, TT_BDEV_READ, 0, r, MB), 0);
	assert_memory_equal(r, w, MB);
	/* unaligned addresses: bounced */
	assert_int_equal(test_rw(loop, b, TT_BDEV_WRITE, 2 * MB, w + 1, 65536), 0);
	memset(r, 0, 65536 + 1);
	assert_int_equal(test_rw(loop, b, TT_BDEV_READ, 2 * MB, r + 3, 65536), 0);
	assert_memory_equal(r + 3, w + 1, 65536);
	/* odd iovec lengths, FUA */
	test_io_prep(&t, TT_BDEV_WRITE, 3 * MB, NULL, 4096);
	t.iov[0] = (struct iovec){ w + 4096, 100 };
	t.iov[1] = (struct iovec){ w + 8192, 3996 };
	t.io.iovcnt = 2;
	t.io.fua = true;
	assert_int_equal(test_io_wait(loop, b, &t), 0);
	assert_int_equal(test_rw(loop, b, TT_BDEV_READ, 3 * MB, r, 4096), 0);
	assert_memory_equal(r, w + 4096, 100);
	assert_memory_equal(r + 100, w + 8192, 3996);
	assert_int_equal(test_rw(loop, b, TT_BDEV_WRITE_ZEROES, 0, NULL, 8192), 0);
	assert_int_equal(test_rw(loop, b, TT_BDEV_READ, 0, r, 12288), 0);
	assert_true(test_is_zero(r, 8192));
	assert_memory_equal(r + 8192, w + 8192, 4096);
	assert_int_equal(test_rw(loop, b, TT_BDEV_FLUSH, 0, NULL, 0), 0);
	if (b->thin) {
		assert_int_equal(test_rw(loop, b, TT_BDEV_UNMAP, MB - 4096, NULL, 4096), 0);
		assert_int_equal(test_rw(loop, b, TT_BDEV_READ, MB - 8192, r, 8192), 0);
		assert_memory_equal(r, w + MB - 8192, 4096);
		assert_true(test_is_zero(r + 4096, 4096));
	}
	/* a direct read across the end of a shrunk file: data, then zeroes */
	assert_int_equal(truncate(path_of("direct.img"), 4 * MB - 4096), 0);
	assert_int_equal(test_rw(loop, b, TT_BDEV_WRITE, 4 * MB - 8192, w, 4096), 0);
	memset(r, 0xaa, 8192);
	assert_int_equal(test_rw(loop, b, TT_BDEV_READ, 4 * MB - 8192, r, 8192), 0);
	assert_memory_equal(r, w, 4096);
	assert_true(test_is_zero(r + 4096, 4096));
	tt_bdev_put(b);
	free(w);
	free(r);
	tt_loop_destroy(loop);
}

/* The file shrinks under the backend: reads past its end return zeroes. */
static void test_file_eof(void **state)
{
	const char *mode = *state;
	struct tt_loop *loop = test_loop_new();
	char *w = test_alloc(65536), *r = test_alloc(65536);
	struct tt_bdev *b;

	unlink(path_of("eof.img"));
	b = must_open("eof.img", ",size=1M", mode);
	test_fill(w, 65536, 4);
	assert_int_equal(test_rw(loop, b, TT_BDEV_WRITE, MB - 65536, w, 65536), 0);
	assert_int_equal(truncate(path_of("eof.img"), MB - 1536), 0);
	memset(r, 0xaa, 65536);
	assert_int_equal(test_rw(loop, b, TT_BDEV_READ, MB - 65536, r, 65536), 0);
	assert_memory_equal(r, w, 65536 - 1536);
	assert_true(test_is_zero(r + 65536 - 1536, 1536));
	/* 24 iovecs across the end: the short read leaves more than fit in a request */
	{
		struct iovec iov[24];
		struct test_io t;

		memset(r, 0xaa, 65536);
		for (int i = 0; i < 24; i++)
			iov[i] = (struct iovec){ r + (size_t)i * 1024, 512 };
		test_io_prep(&t, TT_BDEV_READ, MB - 12288, NULL, 12288);
		t.io.iov = iov;
		t.io.iovcnt = 24;
		assert_int_equal(test_io_wait(loop, b, &t), 0);
		for (int i = 0; i < 21; i++)
			assert_memory_equal(r + (size_t)i * 1024, w + 65536 - 12288 + (size_t)i * 512, 512);
		/* blocks 21-23 lie past the end */
		assert_true(test_is_zero(r + 21 * 1024, 512));
		assert_true(test_is_zero(r + 22 * 1024, 512));
		assert_true(test_is_zero(r + 23 * 1024, 512));
		assert_true((unsigned char)r[512] == 0xaa);
	}
	assert_int_equal(truncate(path_of("eof.img"), 65536), 0);
	memset(r, 0xaa, 65536);
	assert_int_equal(test_rw(loop, b, TT_BDEV_READ, MB - 65536, r, 65536), 0);
	assert_true(test_is_zero(r, 65536));
	tt_bdev_put(b);
	free(w);
	free(r);
	tt_loop_destroy(loop);
}

static void expect_error(const char *name, const char *opts, int rc_wanted, const char *msg)
{
	struct tt_bdev *b;
	char err[256] = "";
	int rc = open_file(name, opts, "", &b, err, sizeof(err));

	if (rc != rc_wanted || !strstr(err, msg))
		fail_msg("%s%s: rc %d, '%s', wanted %d '%s'", name, opts, rc, err, rc_wanted, msg);
	assert_null(b);
}

static void test_file_open(void **state)
{
	struct tt_loop *loop = test_loop_new();
	struct tt_bdev *b;
	struct stat st;
	char buf[512] = { 0 };
	int fd;

	(void)state;
	unlink(path_of("missing.img"));
	expect_error("missing.img", "", -ENOENT, "(give size= to create it)");
	expect_error("missing.img", ",create", -EINVAL, "file: create needs size=");
	expect_error("missing.img", ",size=1M,ro", -ENOENT, "cannot open");
	expect_error("missing.img", ",size=1M,create,ro", -EINVAL, "exclude");
	expect_error("missing.img", ",size=1Q", -EINVAL, "file: bad size '1Q'");
	expect_error("missing.img", ",size=1000", -EINVAL, "not a multiple of the block size 512");
	expect_error("missing.img", ",bs=1K", -EINVAL, "file: bad block size '1K'");
	expect_error("missing.img", ",io=fast", -EINVAL, "file: bad io mode 'fast'");
	expect_error("missing.img", ",sparkle", -EINVAL, "file: unknown option 'sparkle'");
	expect_error("", "", -EISDIR, "Is a directory");
	assert_int_equal(mkfifo(path_of("fifo"), 0600), 0);
	expect_error("fifo", "", -EINVAL, "neither a regular file nor a block device");
	/* failed opens leave nothing behind */
	assert_int_equal(stat(path_of("missing.img"), &st), -1);

	fd = open(path_of("small.img"), O_CREAT | O_TRUNC | O_WRONLY, 0644);
	assert_true(fd >= 0);
	close(fd);
	expect_error("small.img", "", -EINVAL, "is empty");
	assert_int_equal(truncate(path_of("small.img"), MB + 100), 0);
	expect_error("small.img", ",size=2M", -EINVAL, "smaller than size=2M (add create to extend it)");
	/* not a multiple of the block size: the tail is not exported */
	b = must_open("small.img", "", "");
	assert_true(b->size == MB);
	tt_bdev_put(b);
	b = must_open("small.img", ",size=64K", "");
	assert_true(b->size == 65536);
	tt_bdev_put(b);
	b = must_open("small.img", ",size=2M,create,bs=4096", "");
	assert_true(b->size == 2 * MB);
	assert_int_equal(b->block_size, 4096);
	tt_bdev_put(b);
	assert_int_equal(stat(path_of("small.img"), &st), 0);
	assert_true(st.st_size == 2 * MB);

	b = must_open("small.img", ",ro", "");
	assert_true(b->readonly);
	assert_false(b->thin);
	assert_int_equal(test_rw(loop, b, TT_BDEV_READ, 0, buf, 512), 0);
	{
		struct test_io t;

		test_io_prep(&t, TT_BDEV_WRITE, 0, buf, 512);
		assert_int_equal(tt_bdev_submit(b, &t.io), -EROFS);
	}
	tt_bdev_put(b);
	b = must_open("small.img", ",dsync", "");
	assert_false(b->volatile_cache);
	assert_int_equal(test_rw(loop, b, TT_BDEV_WRITE, 0, buf, 512), 0);
	tt_bdev_put(b);
	tt_loop_destroy(loop);
}

/* More I/Os than the ring holds, and more iovecs than one system call takes. */
static void test_file_many(void **state)
{
	const char *mode = *state;
	enum { N = 1000, NIOV = 1100 };
	struct tt_loop *loop = test_loop_new();
	struct test_io *t = calloc(N, sizeof(*t));
	struct iovec *iov = calloc(NIOV, sizeof(*iov));
	char *w = test_alloc((size_t)N * 4096), *r = test_alloc((size_t)N * 4096);
	struct tt_bdev *b;
	struct test_io big;

	unlink(path_of("many.img"));
	b = must_open("many.img", ",size=8M", mode);
	test_fill(w, (size_t)N * 4096, 5);
	for (int i = 0; i < N; i++) {
		test_io_prep(&t[i], TT_BDEV_WRITE, (uint64_t)i * 4096, w + (size_t)i * 4096, 4096);
		assert_int_equal(test_io_start(b, &t[i]), 0);
	}
	assert_true(b->inflight <= N);
	for (int i = 0; i < N; i++) {
		assert_true(test_run_until(loop, &t[i].done, 10000));
		assert_int_equal(t[i].status, 0);
	}
	assert_int_equal(b->refs, 1);
	for (int i = 0; i < N; i++) {
		test_io_prep(&t[i], TT_BDEV_READ, (uint64_t)i * 4096, r + (size_t)i * 4096, 4096);
		assert_int_equal(test_io_start(b, &t[i]), 0);
	}
	for (int i = 0; i < N; i++)
		assert_true(test_run_until(loop, &t[i].done, 10000));
	assert_memory_equal(r, w, (size_t)N * 4096);

	/* NIOV iovecs of 512 bytes, read back reversed in one piece */
	for (int i = 0; i < NIOV; i++)
		iov[i] = (struct iovec){ w + (size_t)(NIOV - 1 - i) * 512, 512 };
	test_io_prep(&big, TT_BDEV_WRITE, 0, NULL, (uint64_t)NIOV * 512);
	big.io.iov = iov;
	big.io.iovcnt = NIOV;
	assert_int_equal(test_io_wait(loop, b, &big), 0);
	assert_int_equal(test_rw(loop, b, TT_BDEV_READ, 0, r, (uint64_t)NIOV * 512), 0);
	for (int i = 0; i < NIOV; i++)
		assert_memory_equal(r + (size_t)i * 512, w + (size_t)(NIOV - 1 - i) * 512, 512);
	test_io_prep(&big, TT_BDEV_READ, 0, NULL, (uint64_t)NIOV * 512);
	for (int i = 0; i < NIOV; i++)
		iov[i] = (struct iovec){ r + (size_t)(NIOV - 1 - i) * 512, 512 };
	big.io.iov = iov;
	big.io.iovcnt = NIOV;
	assert_int_equal(test_io_wait(loop, b, &big), 0);
	assert_memory_equal(r, w, (size_t)NIOV * 512);
	assert_int_equal(b->refs, 1);
	tt_bdev_put(b);
	free(t);
	free(iov);
	free(w);
	free(r);
	tt_loop_destroy(loop);
}

/* An error from the kernel completes the I/O with that errno: a write past RLIMIT_FSIZE. */
static void test_file_error(void **state)
{
	const char *mode = *state;
	struct tt_loop *loop = test_loop_new();
	struct rlimit old, lim;
	char *w = test_alloc(4096);
	struct tt_bdev *b;

	unlink(path_of("err.img"));
	b = must_open("err.img", ",size=1M", mode);
	memset(w, 1, 4096);
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 65536;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(test_rw(loop, b, TT_BDEV_WRITE, 0, w, 4096), 0);
	assert_int_equal(test_rw(loop, b, TT_BDEV_WRITE, 512 * 1024, w, 4096), -EFBIG);
	/* across the limit: a short write, then the rest fails */
	{
		struct iovec iov[20];
		struct test_io t;
		char *p = test_alloc(20 * 512), *q = test_alloc(4096);

		test_fill(p, 20 * 512, 8);
		for (int i = 0; i < 20; i++)
			iov[i] = (struct iovec){ p + (size_t)i * 512, 512 };
		test_io_prep(&t, TT_BDEV_WRITE, 65536 - 4096, NULL, 20 * 512);
		t.io.iov = iov;
		t.io.iovcnt = 20;
		assert_int_equal(test_io_wait(loop, b, &t), -EFBIG);
		assert_int_equal(test_rw(loop, b, TT_BDEV_READ, 65536 - 4096, q, 4096), 0);
		assert_memory_equal(q, p, 4096);
		free(p);
		free(q);
	}
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(test_rw(loop, b, TT_BDEV_WRITE, 512 * 1024, w, 4096), 0);
	assert_int_equal(b->refs, 1);
	tt_bdev_put(b);
	free(w);
	tt_loop_destroy(loop);
}

/* Each loop thread gets its own ring; I/O completes on the loop that submitted it. */
struct mt_ctx {
	struct tt_bdev *bdev;
	unsigned idx;
	int errors;
	int done;
	bool finished;
	char *buf;
	struct test_io ios[32];
	void *ring;
};

static void mt_done(struct tt_bdev_io *io, int status)
{
	struct mt_ctx *c = io->ctx;

	if (status || !tt_loop_is_current(io->loop))
		c->errors++;
	if (++c->done == 32) {
		c->ring = *tt_loop_slot(io->loop, TT_LOOP_SLOT_URING);
		__atomic_store_n(&c->finished, true, __ATOMIC_RELEASE);
	}
}

static void mt_start(void *arg)
{
	struct mt_ctx *c = arg;

	for (int i = 0; i < 32; i++) {
		struct test_io *t = &c->ios[i];

		test_io_prep(t, TT_BDEV_WRITE, (uint64_t)c->idx * MB + (uint64_t)i * 32768,
			     c->buf + (size_t)i * 32768, 32768);
		t->io.done = mt_done;
		t->io.ctx = c;
		if (tt_bdev_submit(c->bdev, &t->io) < 0)
			c->errors++;
	}
}

static void test_file_threads(void **state)
{
	const char *mode = *state;
	struct mt_ctx c[2];
	char *r = test_alloc(MB);
	struct tt_loop *loop0;
	struct tt_bdev *b;

	unlink(path_of("mt.img"));
	b = must_open("mt.img", ",size=2M", mode);
	assert_int_equal(tt_loops_start(2), 0);
	loop0 = tt_loops_get(0);
	for (unsigned i = 0; i < 2; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		c[i].bdev = b;
		c[i].idx = i;
		c[i].buf = test_alloc(MB);
		test_fill(c[i].buf, MB, 30 + i);
		assert_int_equal(tt_loop_send(tt_loops_get(i), mt_start, &c[i]), 0);
	}
	assert_true(test_run_until(loop0, &c[0].finished, 10000));
	assert_true(test_run_until(loop0, &c[1].finished, 10000));
	assert_int_equal(c[0].errors + c[1].errors, 0);
	if (mode == mode_uring) {
		assert_non_null(c[0].ring);
		assert_non_null(c[1].ring);
		assert_ptr_not_equal(c[0].ring, c[1].ring);
	}
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(test_rw(loop0, b, TT_BDEV_READ, (uint64_t)i * MB, r, MB), 0);
		assert_memory_equal(r, c[i].buf, MB);
		free(c[i].buf);
	}
	assert_int_equal(b->refs, 1);
	tt_loops_shutdown();
	tt_bdev_put(b);
	free(r);
}

/* tmpfs refuses FALLOC_FL_ZERO_RANGE: WRITE_ZEROES writes zeroes instead. */
static void test_file_tmpfs(void **state)
{
	const char *mode = *state;
	struct tt_loop *loop = test_loop_new();
	char *w = test_alloc(4 * MB), *r = test_alloc(4 * MB);
	char path[64], spec[128], err[256] = "";
	struct tt_bdev *b = NULL; /* tt_skip() does not return */
	struct stat st;

	snprintf(path, sizeof(path), "/dev/shm/tt-bdev-%d.img", (int)getpid());
	snprintf(spec, sizeof(spec), "file:%s,size=4M%s", path, mode);
	if (stat("/dev/shm", &st) < 0 || tt_bdev_open(spec, &b, err, sizeof(err)) < 0) {
		free(w);
		free(r);
		tt_loop_destroy(loop);
		tt_skip("no usable /dev/shm (%s)", err[0] ? err : "not there");
	}
	test_fill(w, 4 * MB, 7);
	assert_int_equal(test_rw(loop, b, TT_BDEV_WRITE, 0, w, 4 * MB), 0);
	/* more than one round of the zero buffer */
	assert_int_equal(test_rw(loop, b, TT_BDEV_WRITE_ZEROES, 512, NULL, 3 * MB), 0);
	assert_int_equal(test_rw(loop, b, TT_BDEV_WRITE_ZEROES, 3 * MB + 4096, NULL, 1024), 0);
	assert_int_equal(test_rw(loop, b, TT_BDEV_READ, 0, r, 4 * MB), 0);
	assert_memory_equal(r, w, 512);
	assert_true(test_is_zero(r + 512, 3 * MB));
	assert_memory_equal(r + 3 * MB + 512, w + 3 * MB + 512, 3584);
	assert_true(test_is_zero(r + 3 * MB + 4096, 1024));
	assert_memory_equal(r + 3 * MB + 5120, w + 3 * MB + 5120, MB - 5120);
	if (b->thin) {
		assert_int_equal(test_rw(loop, b, TT_BDEV_UNMAP, 0, NULL, 4096), 0);
		assert_int_equal(test_rw(loop, b, TT_BDEV_READ, 0, r, 4096), 0);
		assert_true(test_is_zero(r, 4096));
	}
	tt_bdev_put(b);
	unlink(path);
	free(w);
	free(r);
	tt_loop_destroy(loop);
}

/* A block device: a loop device over a file, when this machine lets us make one. */
static void test_file_blkdev(void **state)
{
	const char *mode = *state;
	struct tt_loop *loop;
	char cmd[256], dev[64] = "", spec[128], err[256];
	char *w = test_alloc(65536), *r = test_alloc(65536);
	struct tt_bdev *b;
	FILE *p;
	int rc;

	assert_int_equal(truncate(path_of("backing.img"), 0) == 0 || errno == ENOENT, 1);
	rc = open(path_of("backing.img"), O_CREAT | O_WRONLY, 0644);
	assert_true(rc >= 0);
	close(rc);
	assert_int_equal(truncate(path_of("backing.img"), 16 * MB), 0);
	snprintf(cmd, sizeof(cmd), "losetup -f --show %s 2>/dev/null", path_of("backing.img"));
	p = popen(cmd, "r");
	if (!p || !fgets(dev, sizeof(dev), p) || strncmp(dev, "/dev/", 5) != 0) {
		if (p)
			pclose(p);
		free(w);
		free(r);
		tt_skip("cannot create a loop device (losetup -f failed: no root, or no loop "
			"devices here)");
	}
	pclose(p);
	dev[strcspn(dev, "\n")] = '\0';
	snprintf(loopdev, sizeof(loopdev), "%s", dev);
	loop = test_loop_new();
	snprintf(spec, sizeof(spec), "file:%s%s", dev, mode);
	rc = tt_bdev_open(spec, &b, err, sizeof(err));
	if (rc < 0)
		print_message("%s: %s\n", spec, err);
	assert_int_equal(rc, 0);
	assert_true(b->size == 16 * MB);
	test_fill(w, 65536, 6);
	assert_int_equal(test_rw(loop, b, TT_BDEV_WRITE, 16 * MB - 65536, w, 65536), 0);
	assert_int_equal(test_rw(loop, b, TT_BDEV_FLUSH, 0, NULL, 0), 0);
	assert_int_equal(test_rw(loop, b, TT_BDEV_READ, 16 * MB - 65536, r, 65536), 0);
	assert_memory_equal(r, w, 65536);
	assert_int_equal(test_rw(loop, b, TT_BDEV_WRITE_ZEROES, 16 * MB - 65536, NULL, 4096), 0);
	if (b->thin)
		assert_int_equal(test_rw(loop, b, TT_BDEV_UNMAP, 16 * MB - 8192, NULL, 4096), 0);
	assert_int_equal(test_rw(loop, b, TT_BDEV_READ, 16 * MB - 65536, r, 65536), 0);
	assert_true(test_is_zero(r, 4096));
	if (b->thin) {
		assert_memory_equal(r + 4096, w + 4096, 65536 - 12288);
		assert_true(test_is_zero(r + 65536 - 8192, 4096));
	}
	assert_memory_equal(r + 65536 - 4096, w + 65536 - 4096, 4096);
	print_message("%s: thin %d\n", dev, b->thin);
	tt_bdev_put(b);
	snprintf(spec, sizeof(spec), "file:%s,size=32M", dev);
	assert_int_equal(tt_bdev_open(spec, &b, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "larger than"));
	snprintf(cmd, sizeof(cmd), "losetup -d %s", dev);
	assert_int_equal(system(cmd), 0);
	loopdev[0] = '\0';
	free(w);
	free(r);
	tt_loop_destroy(loop);
}

#define BOTH(fn) \
	cmocka_unit_test_prestate(fn, (void *)mode_uring), \
	cmocka_unit_test_prestate(fn, (void *)mode_sync)

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_file_rw),
		BOTH(test_file_unmap),
		BOTH(test_file_direct),
		BOTH(test_file_eof),
		cmocka_unit_test(test_file_open),
		BOTH(test_file_many),
		BOTH(test_file_error),
		BOTH(test_file_threads),
		BOTH(test_file_tmpfs),
		BOTH(test_file_blkdev),
	};

	return tt_run_group("bdev_file_test", tests, group_setup, group_teardown);
}
