/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libtether_driver: drives libtether (linked against libtether.so, public header only) for
 * tests/interop/libtether.sh.
 *
 *   libtether_driver [-o name=value]... open URL...          open the first URL, add the others
 *                    (each until it is live or refused), stay idle -i SECONDS, print the paths
 *   libtether_driver [-o ...] io URL...                       16 MiB random data: async writev
 *                    and readv at QD 16, sync pwrite/pread, flush, unmap, write zeroes,
 *                    pass-through INQUIRY; every byte checked
 *   libtether_driver [-o ...] failover CMD URL...             I/O at QD 16 with verification for
 *                    5 s while CMD (a shell command) runs after 1 s; no error may reach us
 *   libtether_driver [-o ...] nopath DOWN UP URL...          DOWN cuts every path: I/O fails with
 *                    EIO after no_path_timeout_ms, the device stays; UP restores: paths rejoin
 *   libtether_driver [-o ...] discover URL                    SendTargets: "target address" lines
 *
 * Exit: 0 success, 1 failure (the reason printed), 2 usage.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <tether/tether.h>

#define MiB (1024u * 1024u)
#define QD 16
#define CHUNK (64u * 1024u)

static int verbose_level = 1;
static double idle_s;        /* -i: open keeps the device idle (serviced) this long */

static void log_fn(int level, const char *msg, void *arg)
{
	(void)arg;
	fprintf(stderr, "[libtether %d] %s\n", level, msg);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fill_random(uint8_t *b, size_t n, unsigned seed)
{
	uint64_t x = 0x9e3779b97f4a7c15ull ^ seed;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		b[i] = (uint8_t)x;
	}
}

/* Runs the device's loop the way an application embeds it: poll on its fd and timeout. */
static int pump(struct tether_dev *dev)
{
	struct pollfd p = { .fd = tether_fd(dev), .events = (short)tether_events(dev) };
	int rc = poll(&p, 1, tether_timeout_ms(dev));

	if (rc < 0 && errno != EINTR)
		return -errno;
	return tether_service(dev);
}

static double max_latency;   /* longest I/O of the run, in seconds */

struct slot {
	struct iovec iov[2];
	uint64_t off;
	double t0;
	bool busy;
	int status;
	int *inflight;
	int *errors;
};

static void slot_cb(struct tether_dev *dev, int status, void *arg)
{
	struct slot *s = arg;

	(void)dev;
	s->busy = false;
	(*s->inflight)--;
	if (now_s() - s->t0 > max_latency)
		max_latency = now_s() - s->t0;
	if (status) {
		(*s->errors)++;
		fprintf(stderr, "I/O at %llu failed: %s\n", (unsigned long long)s->off,
			strerror(-status));
	}
}

/* Async I/O over [base, base+len) at QD 16, CHUNK each, two iovecs per request. */
static int async_pass(struct tether_dev *dev, bool write, uint8_t *buf, uint64_t base, size_t len)
{
	struct slot slots[QD] = { 0 };
	int inflight = 0, errors = 0;
	size_t next = 0;

	while (next < len || inflight) {
		for (int i = 0; i < QD && next < len; i++) {
			struct slot *s = &slots[i];
			int rc;

			if (s->busy)
				continue;
			s->iov[0].iov_base = buf + next;
			s->iov[0].iov_len = CHUNK / 4;
			s->iov[1].iov_base = buf + next + CHUNK / 4;
			s->iov[1].iov_len = CHUNK - CHUNK / 4;
			s->off = base + next;
			s->inflight = &inflight;
			s->errors = &errors;
			s->busy = true;
			s->t0 = now_s();
			rc = write ? tether_writev(dev, s->off, s->iov, 2, slot_cb, s)
				   : tether_readv(dev, s->off, s->iov, 2, slot_cb, s);
			if (rc) {
				fprintf(stderr, "submit: %s\n", strerror(-rc));
				return -1;
			}
			inflight++;
			next += CHUNK;
		}
		if (pump(dev) < 0)
			return -1;
	}
	return errors ? -1 : 0;
}

static void print_paths(struct tether_dev *dev)
{
	for (int i = 0; i < tether_path_count(dev); i++) {
		struct tether_path_info pi;

		if (tether_path_info(dev, i, &pi) == 0)
			printf("path %d: %s state=%s alua=%s tpg=%u ios=%llu errors=%llu retried=%llu "
			       "failures=%llu\n", i, pi.url, pi.state, pi.alua, pi.tpg,
			       (unsigned long long)pi.ios, (unsigned long long)pi.errors,
			       (unsigned long long)pi.retried, (unsigned long long)pi.failures);
	}
}

static int do_open(struct tether_dev **dev, const char *const *urls, size_t n,
		   struct tether_opts *o)
{
	char err[512];
	int rc = tether_open(dev, urls, n, o, err, sizeof(err));

	if (rc) {
		printf("open failed: %s: %s\n", strerror(-rc), err);
		return rc;
	}
	printf("opened: lu=%s size=%llu block=%u paths=%d\n", tether_lu_id(*dev),
	       (unsigned long long)tether_size(*dev), tether_block_size(*dev),
	       tether_path_count(*dev));
	return 0;
}

static int cmd_io(struct tether_dev *dev)
{
	size_t len = 16 * MiB;
	uint64_t bs = tether_block_size(dev);
	uint8_t *w = malloc(len), *r = malloc(len), *z;
	struct tether_scsi_cmd inq = { .cdb = { 0x12, 0, 0, 0, 96, 0 }, .cdb_len = 6,
				       .dir = TETHER_DIR_READ, .flags = TETHER_SCSI_READ_ONLY };
	uint8_t inqbuf[96] = { 0 };
	struct iovec inqv = { inqbuf, sizeof(inqbuf) };
	double t;
	int rc, fails = 0;

	if (!w || !r)
		return 1;
	if (tether_size(dev) < 2 * len + 8 * MiB) {
		printf("unit too small (%llu bytes)\n", (unsigned long long)tether_size(dev));
		return 1;
	}
	fill_random(w, len, 1);
	t = now_s();
	if (async_pass(dev, true, w, 0, len)) {
		printf("FAIL: async writev\n");
		return 1;
	}
	memset(r, 0, len);
	if (async_pass(dev, false, r, 0, len)) {
		printf("FAIL: async readv\n");
		return 1;
	}
	if (memcmp(w, r, len)) {
		printf("FAIL: async: data read back differs\n");
		return 1;
	}
	printf("ok: async writev/readv QD %d of 16 MiB verified (%.2f s)\n", QD, now_s() - t);

	/* synchronous: another 16 MiB region, 1 MiB at a time */
	fill_random(w, len, 2);
	for (size_t o = 0; o < len; o += MiB)
		if ((rc = tether_pwrite(dev, w + o, MiB, len + o))) {
			printf("FAIL: pwrite: %s\n", strerror(-rc));
			return 1;
		}
	memset(r, 0, len);
	for (size_t o = 0; o < len; o += MiB)
		if ((rc = tether_pread(dev, r + o, MiB, len + o))) {
			printf("FAIL: pread: %s\n", strerror(-rc));
			return 1;
		}
	if (memcmp(w, r, len)) {
		printf("FAIL: sync: data read back differs\n");
		return 1;
	}
	printf("ok: sync pwrite/pread of 16 MiB verified\n");

	/* one request larger than a command may carry: cut in parts by the library */
	fill_random(w, len, 3);
	if ((rc = tether_pwrite(dev, w, len, len))) {
		printf("FAIL: one 16 MiB pwrite: %s\n", strerror(-rc));
		return 1;
	}
	memset(r, 0, len);
	if ((rc = tether_pread(dev, r, len, len)) || memcmp(w, r, len)) {
		printf("FAIL: one 16 MiB pread: %s\n", rc ? strerror(-rc) : "data differs");
		return 1;
	}
	printf("ok: one 16 MiB pwrite and pread (cut in parts) verified\n");

	rc = tether_flush_sync(dev);
	printf("%s: flush: %s\n", rc ? "FAIL" : "ok", rc ? strerror(-rc) : "done");
	fails += rc != 0;

	rc = tether_unmap_sync(dev, 0, 1 * MiB);
	if (rc == -EOPNOTSUPP)
		printf("ok: unmap: not supported by the unit (EOPNOTSUPP)\n");
	else
		printf("%s: unmap: %s\n", rc ? "FAIL" : "ok", rc ? strerror(-rc) : "done");
	fails += rc != 0 && rc != -EOPNOTSUPP;

	rc = tether_write_zeroes_sync(dev, 2 * MiB, 1 * MiB, 0);
	z = calloc(1, MiB);
	if (!rc)
		rc = tether_pread(dev, r, MiB, 2 * MiB);
	if (!rc && memcmp(r, z, MiB))
		rc = -EILSEQ;
	printf("%s: write zeroes: %s\n", rc ? "FAIL" : "ok", rc ? strerror(-rc) : "zeroes read back");
	fails += rc != 0;
	/* the rest of the first region is untouched */
	if (!tether_pread(dev, r, bs, 3 * MiB) && memcmp(r, w + 3 * MiB, 0))
		fails++;

	inq.iov = &inqv;
	inq.iovcnt = 1;
	rc = tether_scsi_sync(dev, &inq);
	if (rc || inq.status != 0) {
		printf("FAIL: pass-through INQUIRY: %s status 0x%02x\n", strerror(-rc), inq.status);
		fails++;
	} else {
		printf("ok: pass-through INQUIRY: vendor '%.8s' product '%.16s'\n", inqbuf + 8,
		       inqbuf + 16);
	}
	print_paths(dev);
	free(w);
	free(r);
	free(z);
	return fails ? 1 : 0;
}

/* I/O with verification while @cmd cuts a path. Each block is written with a generation
 * number and read back; no error may reach the application. */
static int cmd_failover(struct tether_dev *dev, const char *cmd)
{
	size_t len = 8 * MiB;
	uint8_t *w = malloc(len), *r = malloc(len);
	double t0 = now_s();
	bool fired = false;
	unsigned gen = 10;
	int rc = 0;

	if (!w || !r)
		return 1;
	while (now_s() - t0 < 5.0) {
		fill_random(w, len, gen++);
		if (!fired && now_s() - t0 > 1.0) {
			fired = true;
			printf("running: %s\n", cmd);
			fflush(stdout);
			if (system(cmd) != 0)
				printf("warning: the cut command failed\n");
		}
		if (async_pass(dev, true, w, 0, len) || async_pass(dev, false, r, 0, len)) {
			printf("FAIL: an I/O error reached the application\n");
			rc = 1;
			break;
		}
		if (memcmp(w, r, len)) {
			printf("FAIL: data read back differs (generation %u)\n", gen - 1);
			rc = 1;
			break;
		}
	}
	printf("%s: %u verified passes of 8 MiB, longest I/O %.0f ms\n", rc ? "FAIL" : "ok",
	       gen - 10, max_latency * 1000);
	print_paths(dev);
	free(w);
	free(r);
	return rc;
}

/* No path: CMD_DOWN cuts every path; a write must fail with -EIO once no_path_timeout_ms has
 * passed, the device staying open; CMD_UP restores them; the paths must come back by
 * themselves and I/O work again. */
static int cmd_nopath(struct tether_dev *dev, const char *down, const char *up)
{
	uint8_t *w = malloc(MiB), *r = malloc(MiB);
	double t;
	int rc, live = 0;

	if (!w || !r)
		return 1;
	fill_random(w, MiB, 7);
	if ((rc = tether_pwrite(dev, w, MiB, 0))) {
		printf("FAIL: write before the cut: %s\n", strerror(-rc));
		return 1;
	}
	printf("running: %s\n", down);
	fflush(stdout);
	if (system(down) != 0)
		printf("warning: the cut command failed\n");
	t = now_s();
	rc = tether_pwrite(dev, w, MiB, MiB);
	printf("%s: write with no path: %s after %.1f s\n", rc == -EIO ? "ok" : "FAIL",
	       rc ? strerror(-rc) : "succeeded", now_s() - t);
	if (rc != -EIO)
		return 1;
	rc = tether_pread(dev, r, MiB, 0);
	printf("%s: read with no path (timeout passed): %s\n", rc == -EIO ? "ok" : "FAIL",
	       rc ? strerror(-rc) : "succeeded");
	if (rc != -EIO)
		return 1;
	printf("running: %s\n", up);
	fflush(stdout);
	if (system(up) != 0)
		printf("warning: the restore command failed\n");
	t = now_s();
	while (now_s() - t < 20 && !live) {
		for (int i = 0; i < tether_path_count(dev); i++) {
			struct tether_path_info pi;

			if (tether_path_info(dev, i, &pi) == 0 && !strcmp(pi.state, "live"))
				live = 1;
		}
		pump(dev);
	}
	if (!live) {
		printf("FAIL: no path came back within 20 s\n");
		print_paths(dev);
		return 1;
	}
	memset(r, 0, MiB);
	rc = tether_pread(dev, r, MiB, 0);
	if (rc || memcmp(r, w, MiB)) {
		printf("FAIL: read after the paths came back: %s\n", rc ? strerror(-rc) : "differs");
		return 1;
	}
	printf("ok: a path came back after %.1f s and the data written before the cut reads back\n",
	       now_s() - t);
	print_paths(dev);
	free(w);
	free(r);
	return 0;
}

static void disc_cb(const char *target, const char *address, void *arg)
{
	(void)arg;
	printf("%s %s\n", target, address);
}

int main(int argc, char **argv)
{
	struct tether_opts *o;
	struct tether_dev *dev = NULL;
	int opt, rc = 0;

	if (tether_opts_new(&o))
		return 1;
	while ((opt = getopt(argc, argv, "i:o:v")) != -1) {
		char *eq;

		switch (opt) {
		case 'o':
			eq = strchr(optarg, '=');
			if (!eq) {
				fprintf(stderr, "-o name=value\n");
				return 2;
			}
			*eq = 0;
			if (tether_opts_set(o, optarg, eq + 1)) {
				printf("option refused: %s\n", tether_opts_errmsg(o));
				return 1;
			}
			break;
		case 'v':
			verbose_level = 3;
			break;
		case 'i':
			idle_s = atof(optarg);
			break;
		default:
			return 2;
		}
	}
	tether_opts_set_log(o, verbose_level, log_fn, NULL);
	if (optind >= argc)
		return 2;
	if (!strcmp(argv[optind], "discover") && optind + 1 < argc) {
		char err[512];

		rc = tether_discover(argv[optind + 1], o, disc_cb, NULL, err, sizeof(err));
		if (rc)
			printf("discovery failed: %s: %s\n", strerror(-rc), err);
		tether_opts_free(o);
		return rc ? 1 : 0;
	}
	if (!strcmp(argv[optind], "open") && optind + 1 < argc) {
		/* the first URL names the unit; the others are added to it, one by one */
		rc = do_open(&dev, (const char *const *)argv + optind + 1, 1, o);
		for (int i = optind + 2; !rc && i < argc; i++) {
			double t = now_s();
			struct tether_path_info pi;
			int idx = tether_path_count(dev);

			if ((rc = tether_add_path(dev, argv[i]))) {
				printf("add path failed: %s: %s\n", strerror(-rc), tether_errmsg(dev));
				break;
			}
			while (now_s() - t < 5 && tether_path_info(dev, idx, &pi) == 0 &&
			       (!strcmp(pi.state, "connecting") || !strcmp(pi.state, "new")))
				pump(dev);
		}
		if (!rc) {
			double t = now_s();

			while (now_s() - t < idle_s)
				pump(dev);
			print_paths(dev);
			tether_close(dev);
		}
		tether_opts_free(o);
		return rc ? 1 : 0;
	}
	if (!strcmp(argv[optind], "io") && optind + 1 < argc) {
		rc = do_open(&dev, (const char *const *)argv + optind + 1,
			     (size_t)(argc - optind - 1), o);
		if (!rc) {
			rc = cmd_io(dev);
			tether_close(dev);
		}
		tether_opts_free(o);
		return rc ? 1 : 0;
	}
	if (!strcmp(argv[optind], "nopath") && optind + 3 < argc) {
		rc = do_open(&dev, (const char *const *)argv + optind + 3,
			     (size_t)(argc - optind - 3), o);
		if (!rc) {
			rc = cmd_nopath(dev, argv[optind + 1], argv[optind + 2]);
			tether_close(dev);
		}
		tether_opts_free(o);
		return rc ? 1 : 0;
	}
	if (!strcmp(argv[optind], "failover") && optind + 2 < argc) {
		rc = do_open(&dev, (const char *const *)argv + optind + 2,
			     (size_t)(argc - optind - 2), o);
		if (!rc) {
			rc = cmd_failover(dev, argv[optind + 1]);
			tether_close(dev);
		}
		tether_opts_free(o);
		return rc ? 1 : 0;
	}
	tether_opts_free(o);
	return 2;
}
