/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What a (hostile) target sends back to libtether, through the real library: the initiator's
 * TCP framing and login (src/initiator/conn.c: text keys, CHAP and mutual CHAP, redirections and
 * every status class), the identity check of a new path (INQUIRY, VPD 83h, READ CAPACITY (16),
 * VPD B0h, REPORT TARGET PORT GROUPS), then the full feature phase (cmd.c, path.c, device.c,
 * fence.c: SCSI Response with sense data, Data-In with and without status, R2T, NOP-In,
 * asynchronous messages, Reject, Logout and task management responses) while the
 * application's I/O is submitted; discovery (discover.c: SendTargets text responses); and the
 * pure parsers (VPD 83h, REPORT TARGET PORT GROUPS, sense data, URLs, options).
 *
 * The harness is the target. It listens on 127.0.0.1 and 127.0.0.2 (ephemeral ports), opens a
 * device as tether_open does but without its wait (ti_dev_create, ti_path_add) on one or two
 * paths, accepts the library's connections and writes the input into them record by record,
 * servicing the device (tether_service, the one thread) in between and reading what the
 * library sends. Timers are either disabled or of zero length (no NOP-Out, no command timeout;
 * a failed path is deleted or reconnects at once, and I/O without a path fails at once), so
 * that a run depends on the input only (but for the library's 50 ms retry of a busy or
 * transitioning unit). At the end the target drops every connection and tether_close() must
 * free everything and have run every callback.
 * RAND_bytes (the challenge of mutual CHAP) is a fixed sequence restarted with each input, so
 * that seeds can carry the target's correct answer.
 *
 * Input: setup bytes (one; two for a device), then records.
 *   byte 0: bits 0-1 authentication (0 none, 1 CHAP, 2 mutual CHAP, 3 none and the path
 *           selector queue-depth instead of round-robin), bit 2 HeaderDigest and
 *           bit 3 DataDigest CRC32C offered, bits 4-5 fence (auto, reinstate, lu-reset,
 *           quiesce), bits 6-7 what is fuzzed: 0 a device with one path, 1 with two paths,
 *           2 discovery (the rest of the input is the target's byte stream), 3 the parsers.
 *   byte 1 (device): bit 0 a failed path reconnects at once and is never given up
 *           (path_loss_timeout_ms=-1; otherwise 0: deleted at once)
 *   records (device):
 *     0x00-0x3f, 0xa0-0xff  a PDU to connection (op & 3) (0, 1: the paths; 2, 3: their fence's
 *                     reinstatement logins): a BHS, then its AHS and padded data segment as the
 *                     BHS says (or what is left); digests are added by the harness when the
 *                     connection has them in force. Bit 2: written in two pieces.
 *     0x40-0x5f       raw bytes to connection (op & 3): a length byte, then that many bytes
 *     0x60-0x7f       an I/O of the application: op & 7 read, write, flush, unmap, write
 *                     zeroes, pass-through INQUIRY (in), WRITE (10) (out), TEST UNIT READY;
 *                     bits 3-4 how many iovecs; then two bytes: blocks, LBA
 *     0x80-0x8f       (op & 15) + 1 more passes of tether_service
 *     0x90-0x9f       the target drops connection (op & 3)
 *   parsers: parts separated by 0xff: VPD 83h page, REPORT TARGET PORT GROUPS data (after 3
 *   bytes: flags, the group or relative port), sense data (status first), a URL, option
 *   name=value lines.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "initiator/initiator.h"
#include "iscsi/digest.h"

#define TARGET "iqn.2026-11.org.tether:fuzz"
#define SLOTS 4
#define NIO 8
#define IOBUF 65536

/* ---- the fixed randomness of CHAP challenges ------------------------------------------------ */
static uint8_t rand_next;

int RAND_bytes(unsigned char *buf, int num);
int RAND_bytes(unsigned char *buf, int num)
{
	for (int i = 0; i < num; i++)
		buf[i] = rand_next++;
	return 1;
}

/* ---- the target's side ------------------------------------------------------------------------ */
static int lfd[2] = { -1, -1 };
static uint16_t lport[2];
static bool verbose;

/* A connection of the library, as the target sees it. */
struct slot {
	int fd;             /* our end, -1 none */
	uint16_t peer;      /* the library's local port */
};
static struct slot slots[SLOTS];
/* accepted, not yet matched to a connection of the library */
static struct slot pending[8];

static int listen_on(const char *addr, uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	inet_pton(AF_INET, addr, &a.sin_addr);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 64) ||
	    getsockname(fd, (struct sockaddr *)&a, &len)) {
		close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

/* Abortive: no FIN handshake, no TIME_WAIT left behind by thousands of runs. */
static void drop(int *fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (*fd < 0)
		return;
	setsockopt(*fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(*fd);
	*fd = -1;
}

static uint16_t local_port(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	if (fd < 0 || getsockname(fd, (struct sockaddr *)&a, &len) || a.sin_family != AF_INET)
		return 0;
	return ntohs(a.sin_port);
}

/* Accepts what waits on the listeners (@wait_ms for the first one). */
static void accept_pending(int wait_ms)
{
	struct pollfd pf[2] = { { .fd = lfd[0], .events = POLLIN }, { .fd = lfd[1], .events = POLLIN } };

	if (poll(pf, 2, wait_ms) <= 0)
		return;
	for (int l = 0; l < 2; l++) {
		struct sockaddr_in a;
		socklen_t len = sizeof(a);
		int fd;

		if (!(pf[l].revents & POLLIN))
			continue;
		fd = accept4(lfd[l], (struct sockaddr *)&a, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		for (size_t i = 0; i < sizeof(pending) / sizeof(pending[0]); i++) {
			if (pending[i].fd < 0) {
				pending[i].fd = fd;
				pending[i].peer = ntohs(a.sin_port);
				fd = -1;
				break;
			}
		}
		drop(&fd);
	}
}

static struct ti_conn *slot_conn(struct tether_dev *dev, int i)
{
	struct ti_path *p;

	if (!dev || i % 2 >= dev->npaths)
		return NULL;
	p = dev->paths[i % 2];
	if (i < 2)
		return p->conn_open ? &p->conn : NULL;
	return p->fence.helper_open ? &p->fence.helper : NULL;
}

/* Matches the library's connections with accepted ones (a new connection of a slot replaces
 * the old one, which is dropped). */
static void sync_slots(struct tether_dev *dev)
{
	for (int i = 0; i < SLOTS; i++) {
		struct ti_conn *c = slot_conn(dev, i);
		uint16_t port = c ? local_port(c->fd) : 0;

		/* @peer stays after the target dropped it: that connection is not accepted again */
		if (!port || slots[i].peer == port)
			continue;
		drop(&slots[i].fd);
		slots[i].peer = port;
		for (int tries = 0; tries < 2 && slots[i].fd < 0; tries++) {
			for (size_t k = 0; k < sizeof(pending) / sizeof(pending[0]); k++) {
				if (pending[k].fd >= 0 && pending[k].peer == port) {
					slots[i] = pending[k];
					pending[k].fd = -1;
					break;
				}
			}
			if (slots[i].fd < 0)
				accept_pending(tries ? 1000 : 0);
		}
	}
}

/* Reads and drops what the library sent. */
static void drain(void)
{
	uint8_t buf[16384];

	for (int i = 0; i < SLOTS; i++) {
		ssize_t n;

		while (slots[i].fd >= 0 && (n = recv(slots[i].fd, buf, sizeof(buf), 0)) > 0)
			if (verbose)
				for (ssize_t k = 0; k < n; k++)
					fprintf(stderr, "%02x%s", buf[k], k == n - 1 ? " <-\n" : "");
	}
}

static void service(struct tether_dev *dev, int passes)
{
	for (int i = 0; i < passes; i++) {
		tether_service(dev);
		sync_slots(dev);
		drain();
	}
}

/* Writes to slot @s, servicing the device while its buffer is full. */
static void put(struct tether_dev *dev, int s, const uint8_t *p, size_t n)
{
	for (int stuck = 0; n && slots[s].fd >= 0 && stuck < 64;) {
		ssize_t w = send(slots[s].fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0) {
			if (errno != EAGAIN)
				return;   /* the library closed it */
			w = 0;
		}
		if (verbose && w)
			for (ssize_t k = 0; k < w; k++)
				fprintf(stderr, "%02x%s", p[k], k == w - 1 ? " ->\n" : "");
		stuck = w ? 0 : stuck + 1;
		p += w;
		n -= (size_t)w;
		service(dev, 1);
	}
}

/* ---- the application's I/O ----------------------------------------------------------------- */
struct io {
	bool busy;
	struct tether_scsi_cmd cmd;
	struct iovec iov[4];
};
static struct io ios[NIO];
static uint8_t iobuf[NIO][IOBUF];

static void io_done(struct tether_dev *dev, int status, void *arg)
{
	struct io *io = arg;

	(void)dev;
	if (verbose)
		fprintf(stderr, "I/O %d: status %d (SCSI status 0x%02x, sense %u bytes, resid %u)\n",
			(int)(io - ios), status, io->cmd.status, io->cmd.sense_len, io->cmd.resid);
	io->busy = false;
}

static void submit(struct tether_dev *dev, uint8_t op, struct fuzz_in *in)
{
	uint32_t blocks = fuzz_u8(in) + 1u, lba = fuzz_u8(in), bs = tether_block_size(dev);
	int k = 0, niov = (op >> 3 & 3) + 1;
	size_t len;
	struct io *io;

	while (k < NIO && ios[k].busy)
		k++;
	if (k == NIO)
		return;
	io = &ios[k];
	len = bs && bs <= IOBUF ? (size_t)bs * blocks : 512u * blocks;
	while (len > IOBUF)
		len -= bs && bs <= IOBUF ? bs : 512;
	/* the buffer in up to four pieces (block multiples or not: the library slices them) */
	for (int i = 0; i < niov; i++) {
		size_t a = len * (size_t)i / (size_t)niov, b = len * (size_t)(i + 1) / (size_t)niov;

		io->iov[i].iov_base = iobuf[k] + a;
		io->iov[i].iov_len = b - a;
	}
	memset(&io->cmd, 0, sizeof(io->cmd));
	io->busy = true;
	switch (op & 7) {
	case 0:
		if (tether_readv(dev, (uint64_t)lba * bs, io->iov, niov, io_done, io))
			io->busy = false;
		return;
	case 1:
		if (tether_writev(dev, (uint64_t)lba * bs, io->iov, niov, io_done, io))
			io->busy = false;
		return;
	case 2:
		if (tether_flush(dev, io_done, io))
			io->busy = false;
		return;
	case 3:
		if (tether_unmap(dev, (uint64_t)lba * bs, (uint64_t)blocks * bs, io_done, io))
			io->busy = false;
		return;
	case 4:
		if (tether_write_zeroes(dev, (uint64_t)lba * bs, (uint64_t)blocks * bs,
					lba & 1 ? TETHER_ZEROES_MAY_UNMAP : 0, io_done, io))
			io->busy = false;
		return;
	case 5:   /* INQUIRY, allocation length @blocks */
		io->cmd.cdb[0] = 0x12;
		io->cmd.cdb[1] = lba & 1;
		io->cmd.cdb[2] = lba & 1 ? 0x83 : 0;
		io->cmd.cdb[4] = (uint8_t)blocks;
		io->cmd.cdb_len = 6;
		io->cmd.dir = TETHER_DIR_READ;
		io->cmd.flags = TETHER_SCSI_READ_ONLY;
		io->iov[0].iov_len = blocks;
		io->cmd.iov = io->iov;
		io->cmd.iovcnt = 1;
		break;
	case 6:   /* WRITE (10) of @len bytes */
		io->cmd.cdb[0] = 0x2a;
		io->cmd.cdb[5] = (uint8_t)lba;
		io->cmd.cdb[8] = (uint8_t)blocks;
		io->cmd.cdb_len = 10;
		io->cmd.dir = TETHER_DIR_WRITE;
		io->cmd.iov = io->iov;
		io->cmd.iovcnt = niov;
		break;
	default:  /* TEST UNIT READY */
		io->cmd.cdb_len = 6;
		io->cmd.dir = TETHER_DIR_NONE;
		io->cmd.flags = TETHER_SCSI_READ_ONLY;
		break;
	}
	if (tether_scsi(dev, &io->cmd, io_done, io))
		io->busy = false;
}

/* ---- a device ------------------------------------------------------------------------------- */
static void log_fn(int level, const char *msg, void *arg)
{
	(void)arg;
	if (verbose)
		fprintf(stderr, "libtether[%d]: %s\n", level, msg);
}

static struct tether_opts *make_opts(uint8_t flags, uint8_t flags2)
{
	static const char *const fences[] = { "auto", "reinstate", "lu-reset", "quiesce" };
	static const char *const set[][2] = {
		{ "nop_interval_ms", "0" }, { "command_timeout_ms", "0" },
		{ "tcp_user_timeout_ms", "0" }, { "login_timeout_ms", "86400000" },
		{ "reconnect_delay_ms", "0" }, { "reconnect_max_delay_ms", "0" },
		{ "path_loss_timeout_ms", "0" }, { "no_path_timeout_ms", "0" },
		{ "quiesce_ms", "0" }, { "initiator_name", "iqn.2026-11.org.tether:host" },
	};
	struct tether_opts *o;

	if (tether_opts_new(&o))
		abort();
	for (size_t i = 0; i < sizeof(set) / sizeof(set[0]); i++)
		if (tether_opts_set(o, set[i][0], set[i][1]))
			abort();
	if ((flags & 3) == 1 || (flags & 3) == 2) {
		if (tether_opts_set(o, "chap_user", "fuzzuser") ||
		    tether_opts_set(o, "chap_secret", "initiatorsecret1"))
			abort();
	}
	if ((flags & 3) == 2) {
		if (tether_opts_set(o, "mutual_user", TARGET) ||
		    tether_opts_set(o, "mutual_secret", "targetsecret123"))
			abort();
	}
	if (tether_opts_set(o, "header_digest", flags & 4 ? "crc32c" : "none") ||
	    tether_opts_set(o, "data_digest", flags & 8 ? "crc32c" : "none") ||
	    tether_opts_set(o, "fence", fences[flags >> 4 & 3]) ||
	    /* not service-time: it measures real latencies, and a run must depend on its input */
	    tether_opts_set(o, "selector", (flags & 3) == 3 ? "queue-depth" : "round-robin"))
		abort();
	/* a path that fails connects again at once, and is never given up */
	if ((flags2 & 1) && tether_opts_set(o, "path_loss_timeout_ms", "-1"))
		abort();
	tether_opts_set_log(o, 3, log_fn, NULL);
	return o;
}

static uint8_t pdu[TT_BHS_LEN + 255 * 4 + TT_DIGEST_LEN + IOBUF * 4 + 8];

/* One PDU record: the BHS and what it announces (or what is left), with the digests in force. */
static void put_pdu(struct tether_dev *dev, uint8_t op, struct fuzz_in *in)
{
	int s = op & 3;
	struct ti_conn *c = slot_conn(dev, s);
	bool ffp = c && c->step == TI_CONN_FFP;
	bool hd = ffp && c->params.header_digest, dd = ffp && c->params.data_digest;
	size_t n, hlen, dlen, o = 0;

	if (in->n < TT_BHS_LEN) {
		put(dev, s, in->p, in->n);
		in->p += in->n;
		in->n = 0;
		return;
	}
	hlen = TT_BHS_LEN + (size_t)in->p[4] * 4;
	dlen = tt_get_be24(in->p + 5);
	dlen += tt_pad4((uint32_t)dlen);
	if (hlen > in->n)
		hlen = in->n;
	memcpy(pdu, in->p, hlen);
	o = hlen;
	if (hd && hlen == TT_BHS_LEN + (size_t)in->p[4] * 4) {
		tt_crc32c_put(pdu + o, tt_crc32c(pdu, hlen));
		o += TT_DIGEST_LEN;
	}
	n = dlen < in->n - hlen ? dlen : in->n - hlen;
	if (n > IOBUF * 4)
		n = IOBUF * 4;
	memcpy(pdu + o, in->p + hlen, n);
	if (dd && n && n == dlen) {
		tt_crc32c_put(pdu + o + n, tt_crc32c(pdu + o, n));
		n += TT_DIGEST_LEN;
	}
	o += n;
	in->p += hlen + (n > dlen ? dlen : n);
	in->n -= hlen + (n > dlen ? dlen : n);
	if (op & 4) {
		put(dev, s, pdu, o / 2);
		put(dev, s, pdu + o / 2, o - o / 2);
	} else {
		put(dev, s, pdu, o);
	}
}

static bool settled(struct tether_dev *dev)
{
	for (int i = 0; i < dev->npaths; i++)
		if (dev->paths[i]->state != TI_PATH_DEAD)
			return false;
	return true;
}

static void run_device(uint8_t flags, struct fuzz_in *in)
{
	char url[2][128], err[TI_ERRMSG];
	const char *urls[2] = { url[0], url[1] };
	uint8_t flags2 = fuzz_u8(in);
	struct tether_opts *o = make_opts(flags, flags2);
	struct tether_dev *dev;
	size_t npaths = (flags >> 6) == 1 ? 2 : 1;

	for (int i = 0; i < 2; i++)
		snprintf(url[i], sizeof(url[i]), "iscsi://127.0.0.%d:%u/" TARGET "/0", i + 1,
			 lport[i]);
	/* what tether_open does before it waits */
	if (ti_dev_create(&dev, o))
		abort();
	tether_opts_free(o);
	for (size_t i = 0; i < npaths; i++) {
		if (ti_path_add(dev, urls[i], err, sizeof(err))) {
			fprintf(stderr, "initiator_rsp: cannot add a path: %s\n", err);
			abort();
		}
	}
	service(dev, 2);

	while (in->n) {
		uint8_t op = fuzz_u8(in);

		if (op >= 0x40 && op < 0x60) {
			size_t n = fuzz_u8(in);

			if (n > in->n)
				n = in->n;
			put(dev, op & 3, in->p, n);
			in->p += n;
			in->n -= n;
		} else if (op >= 0x60 && op < 0x80) {
			submit(dev, op, in);
		} else if (op >= 0x80 && op < 0x90) {
			service(dev, (op & 15) + 1);
			continue;
		} else if (op >= 0x90 && op < 0xa0) {
			drop(&slots[op & 3].fd);
		} else {
			put_pdu(dev, op, in);
		}
		service(dev, 2);
	}

	/* the target goes away: without reconnects (path_loss_timeout_ms=0) every path must end */
	for (int pass = 0; pass < (flags2 & 1 ? 4 : 64) && !settled(dev); pass++) {
		for (int i = 0; i < SLOTS; i++)
			drop(&slots[i].fd);
		service(dev, 1);
	}
	for (int i = 0; i < SLOTS; i++)
		drop(&slots[i].fd);
	if (!(flags2 & 1) && !settled(dev))
		__builtin_trap();   /* a path that never ends */
	tether_close(dev);
	for (int i = 0; i < NIO; i++)
		if (ios[i].busy)
			__builtin_trap();   /* an I/O whose callback never ran */
}

/* ---- discovery: tether_discover is synchronous, so the target is a thread that writes the
 * whole stream, ends its side and reads until the library closes. What the library does
 * depends on the byte sequence only (it answers, it never speaks first). */
struct disc_target {
	const uint8_t *p;
	size_t n;
};

static void *disc_thread(void *arg)
{
	struct disc_target *t = arg;
	struct pollfd pf = { .fd = lfd[0], .events = POLLIN };
	uint8_t buf[4096];
	int fd;

	if (poll(&pf, 1, 5000) <= 0)
		return NULL;
	fd = accept4(lfd[0], NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return NULL;
	while (t->n) {
		ssize_t w = send(fd, t->p, t->n, MSG_NOSIGNAL);

		if (w <= 0)
			break;
		t->p += w;
		t->n -= (size_t)w;
	}
	shutdown(fd, SHUT_WR);
	for (ssize_t n; (n = recv(fd, buf, sizeof(buf), 0)) > 0;)
		if (verbose)
			for (ssize_t k = 0; k < n; k++)
				fprintf(stderr, "%02x%s", buf[k], k == n - 1 ? " <-\n" : "");
	drop(&fd);
	return NULL;
}

static void disc_cb(const char *target, const char *address, void *arg)
{
	(*(unsigned *)arg) += (unsigned)(strlen(target) + strlen(address));
}

static void run_discovery(uint8_t flags, struct fuzz_in *in)
{
	struct disc_target t = { in->p, in->n };
	struct tether_opts *o = make_opts(flags, 0);
	char url[64], err[TI_ERRMSG];
	unsigned seen = 0;
	pthread_t th;

	/* the library's own bound (twice this) if the thread's stream never reaches it */
	if (tether_opts_set(o, "login_timeout_ms", "3000"))
		abort();

	snprintf(url, sizeof(url), "iscsi://127.0.0.1:%u", lport[0]);
	if (pthread_create(&th, NULL, disc_thread, &t))
		abort();
	tether_discover(url, o, disc_cb, &seen, err, sizeof(err));
	pthread_join(th, NULL);
	tether_opts_free(o);
	if (verbose)
		fprintf(stderr, "discovery: %s (%u)\n", err, seen);
}

/* ---- the parsers ----------------------------------------------------------------------------- */
static void run_parsers(struct fuzz_in *in)
{
	const uint8_t *p;
	size_t n;
	char text[1024];

	if (fuzz_part(in, 0xff, &p, &n)) {
		struct ti_ident a, b;

		if (ti_vpd83_parse(p, n, &a) == 0) {
			b = a;
			if (!ti_ident_same_lu(&a, &b) || strlen(a.lu_text) >= sizeof(a.lu_text))
				__builtin_trap();
		}
	}
	if (fuzz_part(in, 0xff, &p, &n)) {
		struct fuzz_in f = { p, n };
		uint8_t fl = fuzz_u8(&f);
		uint16_t id = (uint16_t)(fuzz_u8(&f) << 8 | fuzz_u8(&f));
		enum ti_alua a;

		if (ti_rtpg_state(f.p, f.n, fl & 1, id, fl & 2, id, &a) == 0)
			(void)ti_alua_name(a);
	}
	if (fuzz_part(in, 0xff, &p, &n)) {
		struct fuzz_in f = { p, n };
		uint8_t status = fuzz_u8(&f);
		struct ti_sense s;
		int e;

		ti_sense_parse(f.p, f.n, &s);
		ti_scsi_verdict(status, &s, &e);
	}
	if (fuzz_part(in, 0xff, &p, &n)) {
		struct ti_url u;
		char out[600];

		n = n < sizeof(text) - 1 ? n : sizeof(text) - 1;
		memcpy(text, p, n);
		text[n] = 0;
		for (int need = 0; need < 2; need++)
			if (ti_url_parse(text, &u, need, out, sizeof(out)) == 0)
				ti_url_format(&u, out, sizeof(out));
	}
	if (in->n) {
		struct tether_opts *o;

		if (tether_opts_new(&o))
			abort();
		n = in->n < sizeof(text) - 1 ? in->n : sizeof(text) - 1;
		memcpy(text, in->p, n);
		text[n] = 0;
		for (char *line = text, *next; line; line = next) {
			char *eq, buf[512];

			next = strchr(line, '\n');
			if (next)
				*next++ = 0;
			eq = strchr(line, '=');
			if (eq)
				*eq = 0;
			if (tether_opts_set(o, line, eq ? eq + 1 : NULL) == 0 &&
			    tether_opts_get(o, line, buf, sizeof(buf)) != 0)
				__builtin_trap();   /* set but cannot be read back */
			(void)tether_opts_errmsg(o);
		}
		tether_opts_free(o);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_log();
	verbose = getenv("TT_FUZZ_LOG") && strcmp(getenv("TT_FUZZ_LOG"), "0");
	lfd[0] = listen_on("127.0.0.1", &lport[0]);
	lfd[1] = listen_on("127.0.0.2", &lport[1]);
	if (lfd[0] < 0 || lfd[1] < 0) {
		fprintf(stderr, "initiator_rsp: cannot listen on 127.0.0.1 and 127.0.0.2: %s\n",
			strerror(errno));
		abort();
	}
	for (int i = 0; i < SLOTS; i++)
		slots[i].fd = -1;
	for (size_t i = 0; i < sizeof(pending) / sizeof(pending[0]); i++)
		pending[i].fd = -1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t flags = fuzz_u8(&in);

	rand_next = 0;
	for (int i = 0; i < SLOTS; i++)
		slots[i].peer = 0;
	switch (flags >> 6) {
	case 0:
	case 1:
		run_device(flags, &in);
		break;
	case 2:
		run_discovery(flags, &in);
		break;
	default:
		run_parsers(&in);
		break;
	}
	/* nothing of this input stays: connections the library never completed included (the
	 * listeners' queues are emptied, or the next input could take one for its own) */
	for (int i = 0; i < SLOTS; i++)
		drop(&slots[i].fd);
	for (bool more = true; more;) {
		struct pollfd pf[2] = { { .fd = lfd[0], .events = POLLIN },
					{ .fd = lfd[1], .events = POLLIN } };

		more = false;
		for (size_t i = 0; i < sizeof(pending) / sizeof(pending[0]); i++)
			drop(&pending[i].fd);
		if (poll(pf, 2, 0) > 0) {
			accept_pending(0);
			more = true;
		}
	}
	return 0;
}
