/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tether bench: asynchronous I/O at a queue depth for a time, through every path given, with
 * latency percentiles, the longest stall between completions, and (--verify) a block pattern
 * that finds lost, stale, misplaced and corrupt writes (verify.h). One thread: a poll loop
 * over the device's fd and the control socket.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "tether_cmd.h"
#include "tool.h"
#include "verify.h"

#define PROG "tether bench"
#define BENCH_MAX_QD 1024
#define BENCH_MAX_VERIFY_CHUNKS (16u << 20)
/* latency histogram: exact below 64 us, then 32 buckets per power of two (3 % wide) */
#define LAT_BUCKETS (64 * 32)

enum bench_rw { RW_READ, RW_WRITE, RW_RANDREAD, RW_RANDWRITE, RW_RANDRW };
static const char *const rw_name[] = { "read", "write", "randread", "randwrite", "randrw" };

enum bench_phase { PH_RUN, PH_DRAIN, PH_READBACK, PH_DONE };

struct bench;

struct slot {
	struct bench *b;
	uint8_t *buf;
	struct iovec iov;
	uint64_t chunk;
	uint64_t start_ns;
	bool write;
	bool busy;
	bool readback;
};

struct lat_hist {
	uint64_t n, sum_us, max_us;
	uint64_t bucket[LAT_BUCKETS];
};

struct bench {
	struct tool_dev_args dev_args;
	struct tether_dev *dev;
	struct ctl *ctl;
	enum bench_rw rw;
	uint64_t bs, offset, size;
	unsigned qd;
	double secs;
	bool verify, json;
	uint64_t seed;

	uint64_t nchunks, seq_next, rng;
	struct vfy *vfy;
	struct slot *slots;
	unsigned inflight;
	enum bench_phase phase;
	uint64_t readback_next;

	/* the timed run */
	uint64_t start_ns, end_ns, stop_ns;
	uint64_t ios, reads, writes, bytes, errors;
	uint64_t readback_ios, readback_errors;
	unsigned unfinished;    /* I/Os still outstanding when the run was abandoned */
	struct lat_hist lat;
	uint64_t last_event_ns, max_stall_ns;
	/* the progress line */
	uint64_t next_tick_ns, tick_ios, tick_bytes, tick_errors;
	unsigned tick;
	json_t *series;
	int last_error;
};

static volatile sig_atomic_t bench_signals;

static void on_signal(int sig)
{
	(void)sig;
	bench_signals++;
}

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

static unsigned lat_bucket(uint64_t us)
{
	unsigned shift, idx;

	if (us < 64)
		return (unsigned)us;
	shift = (unsigned)(63 - __builtin_clzll(us)) - 5;
	idx = shift * 32 + (unsigned)(us >> shift);
	return idx < LAT_BUCKETS ? idx : LAT_BUCKETS - 1;
}

/* The upper bound of a bucket, in microseconds. */
static uint64_t lat_bucket_top(unsigned idx)
{
	unsigned shift;

	if (idx < 64)
		return idx;
	shift = idx / 32 - 1;
	return (((uint64_t)(idx % 32 + 32) + 1) << shift) - 1;
}

static uint64_t lat_percentile(const struct lat_hist *h, double pct)
{
	uint64_t want, seen = 0;

	if (!h->n)
		return 0;
	want = (uint64_t)((double)h->n * pct / 100.0 + 0.999999);
	if (want < 1)
		want = 1;
	for (unsigned i = 0; i < LAT_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= want) {
			uint64_t top = lat_bucket_top(i);

			return top < h->max_us ? top : h->max_us;
		}
	}
	return h->max_us;
}

static bool rw_random(enum bench_rw rw)
{
	return rw == RW_RANDREAD || rw == RW_RANDWRITE || rw == RW_RANDRW;
}

static bool rw_writes(enum bench_rw rw)
{
	return rw == RW_WRITE || rw == RW_RANDWRITE || rw == RW_RANDRW;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: tether bench [--rw read|write|randread|randwrite|randrw] [--bs N] [--qd N]\n"
"                    [--time S] [--size N] [--offset N] [--verify] [--json] [--seed N]\n"
"                    [-o|--opt NAME=VALUE]... [--control PATH|none] URL [URL...]\n"
"Runs asynchronous I/O for --time seconds (default 10) on the device reached through every\n"
"URL (one path each): --bs bytes per I/O (default 4k), --qd outstanding (default 32).\n"
"--verify writes a checked block pattern, checks every read and reads back every block\n"
"written at the end; with --rw read it checks the pattern left by an earlier run.\n"
"A progress line each second on stderr; the results on stdout (JSON with --json).\n"
"Exit status: 0 no error, 1 I/O or verify errors (or the device failed), 2 usage.\n");
}

/* --- issuing -------------------------------------------------------------------------------- */

static void io_done(struct tether_dev *dev, int status, void *arg);

/* A chunk for the next I/O, or UINT64_MAX when every candidate is busy. */
static uint64_t pick_chunk(struct bench *b)
{
	uint64_t c;

	if (!rw_random(b->rw)) {
		for (uint64_t i = 0; i < b->nchunks; i++) {
			c = b->seq_next;
			b->seq_next = (b->seq_next + 1) % b->nchunks;
			if (!b->vfy || !vfy_busy(b->vfy, c))
				return c;
		}
		return UINT64_MAX;
	}
	for (int tries = 0; tries < 8; tries++) {
		c = rng_next(&b->rng) % b->nchunks;
		if (!b->vfy || !vfy_busy(b->vfy, c))
			return c;
	}
	for (uint64_t i = 1; i < b->nchunks; i++) {
		uint64_t d = (c + i) % b->nchunks;

		if (!vfy_busy(b->vfy, d))
			return d;
	}
	return UINT64_MAX;
}

static int submit(struct bench *b, struct slot *s, uint64_t chunk, bool write, bool readback)
{
	uint64_t off = b->offset + chunk * b->bs;
	int rc;

	s->chunk = chunk;
	s->write = write;
	s->readback = readback;
	if (b->vfy) {
		if (write)
			vfy_write_begin(b->vfy, chunk, s->buf);
		else
			vfy_read_begin(b->vfy, chunk);
	}
	s->start_ns = tool_now_ns();
	if (b->inflight == 0)
		b->last_event_ns = s->start_ns; /* a stall is measured while I/O is outstanding */
	rc = write ? tether_writev(b->dev, off, &s->iov, 1, io_done, s) :
		     tether_readv(b->dev, off, &s->iov, 1, io_done, s);
	if (rc < 0) {
		if (b->vfy) {
			if (write)
				vfy_write_end(b->vfy, chunk, rc);
			else
				vfy_read_end(b->vfy, chunk, NULL, rc);
		}
		return rc;
	}
	s->busy = true;
	b->inflight++;
	return 0;
}

static bool next_is_write(struct bench *b)
{
	switch (b->rw) {
	case RW_WRITE: case RW_RANDWRITE: return true;
	case RW_RANDRW: return rng_next(&b->rng) >> 63;
	default: return false;
	}
}

/* Keeps the queue full in the current phase. */
static int fill(struct bench *b)
{
	for (unsigned i = 0; i < b->qd; i++) {
		struct slot *s = &b->slots[i];
		uint64_t chunk;
		bool write;
		int rc;

		if (s->busy)
			continue;
		if (b->phase == PH_RUN) {
			chunk = pick_chunk(b);
			if (chunk == UINT64_MAX)
				return 0;
			write = next_is_write(b);
		} else if (b->phase == PH_READBACK) {
			while (b->readback_next < b->nchunks &&
			       !vfy_written(b->vfy, b->readback_next))
				b->readback_next++;
			if (b->readback_next >= b->nchunks)
				return 0;
			chunk = b->readback_next++;
			write = false;
		} else {
			return 0;
		}
		rc = submit(b, s, chunk, write, b->phase == PH_READBACK);
		if (rc < 0) {
			fprintf(stderr, "%s: cannot submit I/O: %s\n", PROG, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

static void io_done(struct tether_dev *dev, int status, void *arg)
{
	struct slot *s = arg;
	struct bench *b = s->b;
	uint64_t now = tool_now_ns(), us = (now - s->start_ns) / 1000;

	(void)dev;
	s->busy = false;
	b->inflight--;
	if (b->vfy) {
		if (s->write)
			vfy_write_end(b->vfy, s->chunk, status);
		else
			vfy_read_end(b->vfy, s->chunk, s->buf, status);
	}
	if (status < 0 && b->last_error == 0) {
		fprintf(stderr, "%s: %s at offset %" PRIu64 ": %s (further errors only counted)\n",
			PROG, s->write ? "write" : "read", b->offset + s->chunk * b->bs,
			strerror(-status));
		b->last_error = status;
	}
	if (s->readback) {
		b->readback_ios++;
		if (status < 0)
			b->readback_errors++;
		return;
	}
	if (now - b->last_event_ns > b->max_stall_ns)
		b->max_stall_ns = now - b->last_event_ns;
	b->last_event_ns = now;
	if (status < 0) {
		b->errors++;
		b->tick_errors++;
		return;
	}
	b->ios++;
	b->tick_ios++;
	b->bytes += b->bs;
	b->tick_bytes += b->bs;
	if (s->write)
		b->writes++;
	else
		b->reads++;
	b->lat.n++;
	b->lat.sum_us += us;
	if (us > b->lat.max_us)
		b->lat.max_us = us;
	b->lat.bucket[lat_bucket(us)]++;
}

/* --- the loop -------------------------------------------------------------------------------- */

static uint64_t verify_errors(const struct bench *b)
{
	return b->vfy ? vfy_counts(b->vfy)->errors : 0;
}

static void progress(struct bench *b, uint64_t now)
{
	double dt = 1.0;
	int live = tool_live_paths(b->dev), n = tether_path_count(b->dev);

	b->tick++;
	fprintf(stderr, "%s: %3us %9.0f IOPS %9.2f MB/s  errors %" PRIu64 "  verify errors %"
		PRIu64 "  paths %d/%d live\n", PROG, b->tick, (double)b->tick_ios / dt,
		(double)b->tick_bytes / dt / 1e6, b->errors, verify_errors(b), live, n);
	json_array_append_new(b->series, json_pack("{s:i, s:I, s:f, s:I, s:i}", "t", b->tick,
		"iops", (json_int_t)b->tick_ios, "mbps", (double)b->tick_bytes / 1e6,
		"errors", (json_int_t)b->tick_errors, "live_paths", live));
	b->tick_ios = b->tick_bytes = b->tick_errors = 0;
	b->next_tick_ns += 1000000000ull;
	if (b->next_tick_ns < now)
		b->next_tick_ns = now + 1000000000ull;
}

/* Moves to the next phase when the current one has nothing left to do. */
static void advance(struct bench *b, uint64_t now)
{
	if (b->phase == PH_RUN && (now >= b->end_ns || bench_signals)) {
		b->phase = PH_DRAIN;
		b->stop_ns = now;
	}
	if (b->phase == PH_DRAIN && b->inflight && bench_signals >= 2) {
		/* a second signal: stop waiting; tether_close() cancels what is outstanding */
		b->unfinished = b->inflight;
		b->phase = PH_DONE;
		return;
	}
	if (b->phase == PH_DRAIN && b->inflight == 0) {
		bool readback = b->vfy && rw_writes(b->rw) && bench_signals < 2;

		b->phase = readback ? PH_READBACK : PH_DONE;
		if (readback && !b->json)
			fprintf(stderr, "%s: reading back every block written\n", PROG);
	}
	if (b->phase == PH_READBACK && b->inflight && bench_signals >= 3) {
		b->unfinished = b->inflight;
		b->phase = PH_DONE;
		return;
	}
	if (b->phase == PH_READBACK && b->inflight == 0 &&
	    (b->readback_next >= b->nchunks || bench_signals >= 2))
		b->phase = PH_DONE;
}

static int run(struct bench *b)
{
	int rc = 0;

	b->start_ns = tool_now_ns();
	b->end_ns = b->start_ns + (uint64_t)(b->secs * 1e9);
	b->next_tick_ns = b->start_ns + 1000000000ull;
	b->last_event_ns = b->start_ns;
	b->phase = PH_RUN;
	while (b->phase != PH_DONE) {
		struct pollfd pfd[1 + CTL_MAX_FDS];
		int n = 0, nctl, timeout, t;
		uint64_t now;

		rc = fill(b);
		if (rc < 0)
			break;
		pfd[n++] = (struct pollfd){ .fd = tether_fd(b->dev),
					    .events = (short)tether_events(b->dev) };
		nctl = ctl_pollfds(b->ctl, &pfd[n]);
		timeout = tether_timeout_ms(b->dev);
		t = tool_ms_until(b->next_tick_ns);
		if (timeout < 0 || t < timeout)
			timeout = t;
		if (b->phase == PH_RUN) {
			t = tool_ms_until(b->end_ns);
			if (t < timeout)
				timeout = t;
		}
		if (poll(pfd, (nfds_t)(n + nctl), timeout) < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
		rc = tether_service(b->dev);
		if (rc < 0) {
			fprintf(stderr, "%s: the device failed: %s (%s)\n", PROG, strerror(-rc),
				tether_errmsg(b->dev));
			break;
		}
		ctl_service(b->ctl, &pfd[n], nctl);
		now = tool_now_ns();
		if (now >= b->next_tick_ns && b->phase <= PH_DRAIN)
			progress(b, now);
		advance(b, now);
	}
	if (!b->stop_ns)
		b->stop_ns = tool_now_ns();
	/* an I/O outstanding at the end: the time since the last completion is a stall too */
	if (b->inflight && tool_now_ns() - b->last_event_ns > b->max_stall_ns)
		b->max_stall_ns = tool_now_ns() - b->last_event_ns;
	return rc;
}

/* --- results --------------------------------------------------------------------------------- */

static json_t *results_json(struct bench *b, double secs)
{
	json_t *o, *dev = ctl_dev_json(b->dev), *v;

	o = json_pack("{s:s, s:I, s:i, s:f, s:I, s:I, s:I, s:f, s:f, s:I, s:I}",
		"rw", rw_name[b->rw], "bs", (json_int_t)b->bs, "qd", (int)b->qd, "runtime_s", secs,
		"ios", (json_int_t)b->ios, "reads", (json_int_t)b->reads,
		"writes", (json_int_t)b->writes,
		"iops", secs > 0 ? (double)b->ios / secs : 0.0,
		"mbps", secs > 0 ? (double)b->bytes / secs / 1e6 : 0.0,
		"errors", (json_int_t)(b->errors + b->readback_errors + b->unfinished),
		"verify_errors", (json_int_t)verify_errors(b));
	json_object_set_new(o, "unfinished", json_integer(b->unfinished));
	json_object_set_new(o, "max_stall_ms", json_real((double)b->max_stall_ns / 1e6));
	json_object_set_new(o, "p50_us", json_integer((json_int_t)lat_percentile(&b->lat, 50)));
	json_object_set_new(o, "p90_us", json_integer((json_int_t)lat_percentile(&b->lat, 90)));
	json_object_set_new(o, "p99_us", json_integer((json_int_t)lat_percentile(&b->lat, 99)));
	json_object_set_new(o, "p999_us", json_integer((json_int_t)lat_percentile(&b->lat, 99.9)));
	json_object_set_new(o, "max_us", json_integer((json_int_t)b->lat.max_us));
	json_object_set_new(o, "mean_us", json_real(b->lat.n ? (double)b->lat.sum_us /
						   (double)b->lat.n : 0.0));
	if (b->vfy) {
		const struct vfy_counts *vc = vfy_counts(b->vfy);

		v = json_pack("{s:I, s:I, s:I, s:I}", "blocks_checked",
			      (json_int_t)vc->blocks_checked, "blocks_unwritten",
			      (json_int_t)vc->blocks_unwritten, "readback_ios",
			      (json_int_t)b->readback_ios, "readback_errors",
			      (json_int_t)b->readback_errors);
		for (int k = 0; k < VFY_KINDS; k++)
			json_object_set_new(v, vfy_kind_name[k], json_integer((json_int_t)vc->kind[k]));
		json_object_set_new(o, "verify", v);
	}
	json_object_set(o, "lu_id", json_object_get(dev, "lu_id"));
	json_object_set(o, "paths", json_object_get(dev, "paths"));
	json_object_set_new(o, "live_paths", json_integer(tool_live_paths(b->dev)));
	json_object_set(o, "series", b->series);
	json_decref(dev);
	return o;
}

static void results_text(struct bench *b, double secs)
{
	int n = tether_path_count(b->dev);

	printf("%s %s bs=%" PRIu64 " qd=%u: %.2f s over %d path%s\n", PROG, rw_name[b->rw], b->bs,
	       b->qd, secs, n, n == 1 ? "" : "s");
	printf("  ios %" PRIu64 " (reads %" PRIu64 ", writes %" PRIu64 ")  IOPS %.0f  MB/s %.2f\n",
	       b->ios, b->reads, b->writes, secs > 0 ? (double)b->ios / secs : 0.0,
	       secs > 0 ? (double)b->bytes / secs / 1e6 : 0.0);
	printf("  latency us: p50 %" PRIu64 "  p90 %" PRIu64 "  p99 %" PRIu64 "  p99.9 %" PRIu64
	       "  max %" PRIu64 "\n", lat_percentile(&b->lat, 50), lat_percentile(&b->lat, 90),
	       lat_percentile(&b->lat, 99), lat_percentile(&b->lat, 99.9), b->lat.max_us);
	printf("  I/O errors %" PRIu64 "  verify errors %" PRIu64, b->errors + b->readback_errors +
	       b->unfinished, verify_errors(b));
	if (b->unfinished)
		printf(" (%u I/Os abandoned outstanding)", b->unfinished);
	if (b->vfy) {
		const struct vfy_counts *vc = vfy_counts(b->vfy);

		printf(" (");
		for (int k = 0; k < VFY_KINDS; k++)
			printf("%s%s %" PRIu64, k ? ", " : "", vfy_kind_name[k], vc->kind[k]);
		printf("; %" PRIu64 " blocks checked, %" PRIu64 " read back)", vc->blocks_checked,
		       b->readback_ios);
	}
	printf("\n  max stall %.1f ms\n", (double)b->max_stall_ns / 1e6);
	for (int i = 0; i < n; i++) {
		struct tether_path_info pi;

		if (tether_path_info(b->dev, i, &pi) < 0)
			continue;
		printf("  path %d %s: %s, %s, ios %" PRIu64 ", errors %" PRIu64 ", retried %" PRIu64
		       ", failures %" PRIu64 "\n", i, pi.url, pi.state, pi.alua, pi.ios, pi.errors,
		       pi.retried, pi.failures);
	}
}

/* --- setup ----------------------------------------------------------------------------------- */

static int parse_args(struct bench *b, int argc, char **argv)
{
	enum { O_RW = 256, O_BS, O_QD, O_TIME, O_VERIFY, O_JSON, O_SIZE, O_OFFSET, O_CONTROL,
	       O_SEED, O_HELP };
	static const struct option longopts[] = {
		{ "rw", required_argument, NULL, O_RW },
		{ "bs", required_argument, NULL, O_BS },
		{ "qd", required_argument, NULL, O_QD },
		{ "time", required_argument, NULL, O_TIME },
		{ "verify", no_argument, NULL, O_VERIFY },
		{ "json", no_argument, NULL, O_JSON },
		{ "size", required_argument, NULL, O_SIZE },
		{ "offset", required_argument, NULL, O_OFFSET },
		{ "opt", required_argument, NULL, 'o' },
		{ "control", required_argument, NULL, O_CONTROL },
		{ "seed", required_argument, NULL, O_SEED },
		{ "help", no_argument, NULL, O_HELP },
		{ 0 }
	};
	int c;
	uint64_t v;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (c) {
		case O_RW: {
			int i;

			for (i = 0; i < 5 && strcmp(optarg, rw_name[i]) != 0; i++)
				;
			if (i == 5) {
				fprintf(stderr, "%s: --rw %s: expected read, write, randread, "
					"randwrite or randrw\n", PROG, optarg);
				return -EINVAL;
			}
			b->rw = (enum bench_rw)i;
			break;
		}
		case O_BS:
			if (tool_parse_size(optarg, &b->bs) < 0 || !b->bs || b->bs > (64u << 20)) {
				fprintf(stderr, "%s: --bs %s: expected a size up to 64M\n", PROG, optarg);
				return -EINVAL;
			}
			break;
		case O_QD:
			if (tool_parse_size(optarg, &v) < 0 || !v || v > BENCH_MAX_QD) {
				fprintf(stderr, "%s: --qd %s: expected 1..%d\n", PROG, optarg,
					BENCH_MAX_QD);
				return -EINVAL;
			}
			b->qd = (unsigned)v;
			break;
		case O_TIME:
			if (tool_parse_seconds(optarg, &b->secs) < 0) {
				fprintf(stderr, "%s: --time %s: expected seconds\n", PROG, optarg);
				return -EINVAL;
			}
			break;
		case O_SIZE:
			if (tool_parse_size(optarg, &b->size) < 0 || !b->size) {
				fprintf(stderr, "%s: --size %s: expected a size\n", PROG, optarg);
				return -EINVAL;
			}
			break;
		case O_OFFSET:
			if (tool_parse_size(optarg, &b->offset) < 0) {
				fprintf(stderr, "%s: --offset %s: expected a size\n", PROG, optarg);
				return -EINVAL;
			}
			break;
		case O_SEED:
			if (tool_parse_size(optarg, &b->seed) < 0) {
				fprintf(stderr, "%s: --seed %s: expected a number\n", PROG, optarg);
				return -EINVAL;
			}
			break;
		case O_VERIFY: b->verify = true; break;
		case O_JSON: b->json = true; break;
		case O_CONTROL: b->dev_args.control = optarg; break;
		case 'o':
			if (tool_set_opt(&b->dev_args, PROG, optarg) < 0)
				return -EINVAL;
			break;
		case 'h': case O_HELP:
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "%s: no URL\n", PROG);
		usage(stderr);
		return -EINVAL;
	}
	for (; optind < argc; optind++)
		if (tool_add_url(&b->dev_args, PROG, argv[optind]) < 0)
			return -EINVAL;
	return 0;
}

/* Checks the region and the block size against the unit; sets up buffers and the map. */
static int prepare(struct bench *b)
{
	uint32_t lbs = tether_block_size(b->dev);
	uint64_t devsize = tether_size(b->dev);

	if (b->bs % lbs) {
		fprintf(stderr, "%s: --bs %" PRIu64 " is not a multiple of the unit's block size %"
			PRIu32 "\n", PROG, b->bs, lbs);
		return -EINVAL;
	}
	if (b->offset % lbs || b->offset >= devsize) {
		fprintf(stderr, "%s: --offset %" PRIu64 " is not a multiple of the block size %"
			PRIu32 " below the unit's size %" PRIu64 "\n", PROG, b->offset, lbs, devsize);
		return -EINVAL;
	}
	if (!b->size || b->size > devsize - b->offset)
		b->size = devsize - b->offset;
	b->nchunks = b->size / b->bs;
	if (!b->nchunks) {
		fprintf(stderr, "%s: the region (%" PRIu64 " bytes) is smaller than --bs\n", PROG,
			b->size);
		return -EINVAL;
	}
	if (b->verify) {
		int rc;

		if (b->nchunks > BENCH_MAX_VERIFY_CHUNKS) {
			fprintf(stderr, "%s: --verify over %" PRIu64 " blocks of %" PRIu64 " bytes "
				"needs too much memory: limit the region with --size\n", PROG,
				b->nchunks, b->bs);
			return -EINVAL;
		}
		if (b->qd > b->nchunks)
			b->qd = (unsigned)b->nchunks; /* one I/O per block at a time */
		rc = vfy_new(&b->vfy, b->offset / lbs, b->nchunks, (uint32_t)b->bs, lbs,
			     (uint32_t)(rng_next(&b->rng) >> 32) | 1, !rw_writes(b->rw));
		if (rc < 0) {
			fprintf(stderr, "%s: --verify: %s (the block size must be at least 64)\n",
				PROG, strerror(-rc));
			return rc;
		}
	}
	b->slots = calloc(b->qd, sizeof(*b->slots));
	if (!b->slots)
		return -ENOMEM;
	for (unsigned i = 0; i < b->qd; i++) {
		struct slot *s = &b->slots[i];

		s->b = b;
		if (posix_memalign((void **)&s->buf, 4096, b->bs))
			return -ENOMEM;
		for (uint64_t off = 0; off + 8 <= b->bs; off += 8) {
			uint64_t r = rng_next(&b->rng);

			memcpy(s->buf + off, &r, 8);
		}
		s->iov = (struct iovec){ .iov_base = s->buf, .iov_len = b->bs };
	}
	return 0;
}

static void bench_free(struct bench *b)
{
	if (b->slots)
		for (unsigned i = 0; i < b->qd; i++)
			free(b->slots[i].buf);
	free(b->slots);
	vfy_free(b->vfy);
	json_decref(b->series);
	tool_args_free(&b->dev_args);
}

int tether_bench_main(int argc, char **argv)
{
	struct bench b = { .rw = RW_RANDREAD, .bs = 4096, .qd = 32, .secs = 10 };
	struct sigaction sa = { .sa_handler = on_signal };
	char err[512] = "";
	double secs;
	int rc, status;

	rc = parse_args(&b, argc, argv);
	if (rc != 0) {
		bench_free(&b);
		return rc > 0 ? 0 : 2;
	}
	b.rng = b.seed ? b.seed : tool_now_ns() ^ ((uint64_t)getpid() << 32);
	b.rng |= 1;
	b.series = json_array();
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (tool_open(&b.dev_args, PROG, &b.dev) < 0) {
		bench_free(&b);
		return 1;
	}
	rc = ctl_open(&b.ctl, b.dev_args.control, "bench", b.dev, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		goto out;
	}
	rc = prepare(&b);
	if (rc < 0) {
		status = rc == -EINVAL ? 2 : 1;
		if (rc == -ENOMEM)
			fprintf(stderr, "%s: out of memory\n", PROG);
		goto out_status;
	}
	rc = run(&b);
	secs = (double)(b.stop_ns - b.start_ns) / 1e9;
	if (b.json) {
		json_t *o = results_json(&b, secs);

		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(9));
		putchar('\n');
		json_decref(o);
	} else {
		results_text(&b, secs);
	}
out:
	status = rc < 0 || b.errors || b.readback_errors || b.unfinished || verify_errors(&b) ?
		 1 : 0;
out_status:
	ctl_close(b.ctl);
	tether_close(b.dev);
	bench_free(&b);
	return status;
}
