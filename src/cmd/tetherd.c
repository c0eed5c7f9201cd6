/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tetherd: the iSCSI target daemon.
 *
 * Start-up: the command line and the configuration file are read first (no side effect);
 * SIGTERM, SIGINT and SIGHUP are blocked before any thread exists, so that only loop 0 sees them
 * (through a signalfd); then the loops (loop 0 is this thread), the iSCSI core, the objects of
 * the file and of the command line, and the control socket. Loop 0 runs until a shutdown has
 * ended every session; then everything is taken down in reverse order.
 *
 * Shutdown: the first SIGTERM/SIGINT (or the control socket's "shutdown") asks every initiator
 * to log out and waits up to 10 s; a second one ends everything at once.
 */
#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "tether/version.h"
#include "base/loop.h"
#include "nvmf/nvmf.h"
#include "target/config.h"
#include "target/iscsi_target.h"
#include "target/model.h"
#include "target/nvmf_resv.h"
#include "target/rpc.h"
#include "target/srp_port.h"
#include "target/metrics.h"
#include "base/iostat.h"

#include "notify.h"


#define QUICK_DEFAULT_PORTAL "127.0.0.1:3260"
#define DEFAULT_STATE_DIR "/var/lib/tether"
#define GRACEFUL_TIMEOUT_MS 10000
#define MAX_LOOPS 256

struct options {
	const char *config;
	const char **portals;
	size_t nportals;
	const char **luns;
	size_t nluns;
	const char *target;
	const char *rpc_socket;        /* NULL: default; "none": no control socket */
	const char *state_dir;         /* NULL: default; "none": no state directory */
	unsigned loops;                /* 0: not given */
	int log_level;                 /* -1: not given */
	const char **debug;
	size_t ndebug;
	long nop_interval_ms;          /* -1: not given */
	long nop_timeout_ms;
	const char *metrics;           /* NULL: not given; "none": no metrics endpoint */
	bool no_stats;
};

static struct {
	struct tt_loop *loop0;
	int sfd;
	struct tt_watch sig_watch;
	unsigned stop_requests;
	bool stopped;
} daemon_state = { .sfd = -1, .sig_watch = { .fd = -1 } };

static void usage(FILE *f)
{
	fprintf(f,
"Usage: tetherd [OPTION]...\n"
"Serve block devices over iSCSI, NVMe/TCP and (with rdma-core) iSER, SRP and NVMe/RDMA.\n"
"\n"
"  --config FILE          objects and settings from a JSON file (docs/configuration.md)\n"
"  --portal [SCHEME://]ADDR[:PORT]\n"
"                         listen on ADDR (port 3260 by default; IPv6 as [ADDR]:PORT); the\n"
"                         scheme iscsi:// (iSCSI over TCP) is the default; nvme-tcp://\n"
"                         (port 4420) serves the LUNs as namespaces of NVMe subsystem\n"
"                         " TT_NVMF_DEFAULT_NQN " (LUN n is NSID n+1);\n"
#ifdef TT_HAVE_RDMA
"                         iser:// (iSCSI over RDMA, port 3260) beside iscsi://, and srp://\n"
"                         (SCSI RDMA Protocol, port 5555); nvme-rdma:// (port 4420) like\n"
"                         nvme-tcp:// over RDMA;\n"
#endif
"                         repeatable; default " QUICK_DEFAULT_PORTAL " without --config\n"
"  --lun SPEC             serve backend SPEC (ram:1G, file:/path[,size=..], null:1G,\n"
"                         rbd:POOL/IMAGE[,conf=..][,id=..][,timeout=..]) as the next LUN,\n"
"                         from 0 up; repeatable\n"
"  --target IQN           the name of the target of --portal and --lun\n"
"                         (default " TT_DEFAULT_TARGET ")\n"
"  --rpc-socket PATH      control socket for tetherctl (default /run/tetherd.sock, or\n"
"                         /tmp/tetherd-UID.sock when /run is not writable); 'none': no socket\n"
"  --state-dir DIR        persistent reservation state files (APTPL) go there (default\n"
"                         " DEFAULT_STATE_DIR " when it can be created and written); 'none':\n"
"                         APTPL is refused\n"
"  --loops N              event loop threads (default: one per online CPU)\n"
"  --log-level LEVEL      err, warn, notice (default), info or debug\n"
"  --debug COMP           debug messages of one component (iscsi, scsi, portal, ...) or all;\n"
"                         repeatable\n"
"  --nop-interval SEC     NOP-In keepalive interval of every TPG, 0 = off (default 5)\n"
"  --nop-timeout SEC      time a NOP-In may wait for its answer (default 5)\n"
"  --metrics ADDR:PORT    serve Prometheus metrics on http://ADDR:PORT/metrics; 'none': not\n"
"  --no-stats             no I/O counters (docs/stats.md)\n"
"  --help                 this text\n"
"  --version              the version\n"
"\n"
"SIGTERM or SIGINT: log every initiator out (at most 10 s), then exit; a second one: now.\n");
}

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("tetherd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'tetherd --help'.\n", stderr);
	return 2;
}

/* Seconds (decimals allowed) to milliseconds, within 0..3600 s. */
static int parse_seconds(const char *s, long *ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0 && v <= 3600))
		return -EINVAL;
	*ms = (long)(v * 1000 + 0.5);
	return 0;
}

/* Returns -1 to go on, or the exit code. */
static int parse_args(int argc, char **argv, struct options *o)
{
	enum { O_CONFIG = 256, O_PORTAL, O_LUN, O_TARGET, O_RPC, O_LOOPS, O_LEVEL, O_DEBUG,
	       O_NOP_INTERVAL, O_NOP_TIMEOUT, O_HELP, O_VERSION, O_STATE_DIR, O_METRICS,
	       O_NO_STATS };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, O_CONFIG },
		{ "portal", required_argument, NULL, O_PORTAL },
		{ "lun", required_argument, NULL, O_LUN },
		{ "target", required_argument, NULL, O_TARGET },
		{ "rpc-socket", required_argument, NULL, O_RPC },
		{ "state-dir", required_argument, NULL, O_STATE_DIR },
		{ "loops", required_argument, NULL, O_LOOPS },
		{ "log-level", required_argument, NULL, O_LEVEL },
		{ "debug", required_argument, NULL, O_DEBUG },
		{ "nop-interval", required_argument, NULL, O_NOP_INTERVAL },
		{ "nop-timeout", required_argument, NULL, O_NOP_TIMEOUT },
		{ "metrics", required_argument, NULL, O_METRICS },
		{ "no-stats", no_argument, NULL, O_NO_STATS },
		{ "help", no_argument, NULL, O_HELP },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->log_level = -1;
	o->nop_interval_ms = -1;
	o->nop_timeout_ms = -1;
	/* no option appears more often than argc */
	o->portals = calloc((size_t)argc, sizeof(*o->portals));
	o->luns = calloc((size_t)argc, sizeof(*o->luns));
	o->debug = calloc((size_t)argc, sizeof(*o->debug));
	if (!o->portals || !o->luns || !o->debug) {
		fprintf(stderr, "tetherd: out of memory\n");
		return 1;
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hV", longopts, NULL)) != -1) {
		char *end;
		unsigned long v;

		switch (c) {
		case O_CONFIG:
			o->config = optarg;
			break;
		case O_PORTAL:
			o->portals[o->nportals++] = optarg;
			break;
		case O_LUN:
			o->luns[o->nluns++] = optarg;
			break;
		case O_TARGET:
			o->target = optarg;
			break;
		case O_RPC:
			if (!*optarg)
				return usage_error("--rpc-socket: empty path (use 'none' for no socket)");
			o->rpc_socket = optarg;
			break;
		case O_STATE_DIR:
			if (!*optarg)
				return usage_error("--state-dir: empty path (use 'none' for no state "
						   "directory)");
			if (strlen(optarg) >= TT_CONFIG_PATH_MAX)
				return usage_error("--state-dir: path longer than %d bytes",
						   TT_CONFIG_PATH_MAX - 1);
			o->state_dir = optarg;
			break;
		case O_LOOPS:
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || v < 1 || v > MAX_LOOPS)
				return usage_error("--loops '%s': expected 1..%u", optarg, MAX_LOOPS);
			o->loops = (unsigned)v;
			break;
		case O_LEVEL:
			o->log_level = tt_log_parse_level(optarg);
			if (o->log_level < 0)
				return usage_error("--log-level '%s': expected err, warn, notice, info "
						   "or debug", optarg);
			break;
		case O_DEBUG:
			if (!*optarg || strlen(optarg) >= 16)
				return usage_error("--debug '%s': not a component name", optarg);
			o->debug[o->ndebug++] = optarg;
			break;
		case O_NOP_INTERVAL:
			if (parse_seconds(optarg, &o->nop_interval_ms))
				return usage_error("--nop-interval '%s': expected seconds, 0..3600", optarg);
			break;
		case O_NOP_TIMEOUT:
			if (parse_seconds(optarg, &o->nop_timeout_ms) || o->nop_timeout_ms == 0)
				return usage_error("--nop-timeout '%s': expected seconds, more than 0 and "
						   "at most 3600", optarg);
			break;
		case O_METRICS: {
			struct sockaddr_storage ss;
			socklen_t len;
			char msg[256];

			if (strcmp(optarg, "none") != 0 &&
			    tt_metrics_addr_parse(optarg, &ss, &len, msg, sizeof(msg)))
				return usage_error("--metrics: %s", msg);
			o->metrics = optarg;
			break;
		}
		case O_NO_STATS:
			o->no_stats = true;
			break;
		case 'h':
		case O_HELP:
			usage(stdout);
			return 0;
		case 'V':
		case O_VERSION:
			printf("tetherd %s\n", TETHER_VERSION);
			return 0;
		case ':':
			return usage_error("%s: missing argument", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	return -1;
}

static void options_free(struct options *o)
{
	free(o->portals);
	free(o->luns);
	free(o->debug);
}

/* ---- shutdown ------------------------------------------------------------------------------ */

/* A step of the shutdown that waits for connections to go: @count is read every 20 ms until it
 * is 0 or @ms have passed (what is left is left behind, with a warning), then @next runs. */
struct drain_step {
	struct tt_timer timer;
	uint64_t deadline_ns;
	unsigned (*count)(void);
	const char *what;
	void (*next)(void);
};

static void drain_check(struct tt_timer *t)
{
	struct drain_step *d = tt_container_of(t, struct drain_step, timer);
	unsigned n = d->count();

	if (n && tt_now_ns() < d->deadline_ns) {
		tt_timer_arm_ms(t, 20);
		return;
	}
	if (n)
		tt_warn("tetherd", "shutdown: %u %s still draining; exiting without them", n, d->what);
	d->next();
}

static void drain_start(struct drain_step *d, unsigned (*count)(void), unsigned ms,
			const char *what, void (*next)(void))
{
	d->count = count;
	d->what = what;
	d->next = next;
	d->deadline_ns = tt_now_ns() + (uint64_t)ms * TT_NS_PER_MS;
	tt_timer_init(&d->timer, daemon_state.loop0, drain_check);
	drain_check(&d->timer);
}

/* An RDMA connection is freed only once every posted work request has come back, which needs
 * the loop: the NVMe-oF connections get at most 5 s to drain before the loop stops. */
#define NVMF_DRAIN_MS 5000

static struct drain_step srp_drain, nvmf_drain;

static void stop_loop(void)
{
	tt_loop_stop(daemon_state.loop0);
}

/* The iSCSI sessions (and the SRP channels) are gone: every NVMe-oF connection is closed. */
static void shutdown_done(void *arg)
{
	(void)arg;
	if (daemon_state.stopped)
		return;
	daemon_state.stopped = true;
	tt_nvmf_close_all();
	drain_start(&nvmf_drain, tt_nvmf_conn_count, NVMF_DRAIN_MS, "NVMe-oF connection(s)",
		    stop_loop);
}

static void srp_drained(void)
{
	shutdown_done(NULL);
}

/* The iSCSI sessions are gone: the SRP channels are logged out next. */
static void iscsi_stopped(void *arg)
{
	(void)arg;
	tt_srp_port_shutdown();
	drain_start(&srp_drain, tt_srp_port_channels, GRACEFUL_TIMEOUT_MS, "SRP channel(s)",
		    srp_drained);
}

static void request_shutdown(const char *why)
{
	switch (++daemon_state.stop_requests) {
	case 1:
		tt_notice("tetherd", "%s: logging every initiator out (at most %u s; again to stop now)",
			  why, GRACEFUL_TIMEOUT_MS / 1000);
		tetherd_notify_stopping("stopping: logging every initiator out");
		tt_iscsi_shutdown(true, GRACEFUL_TIMEOUT_MS, iscsi_stopped, NULL);
		break;
	case 2:
		tt_notice("tetherd", "%s: ending every session now", why);
		tetherd_notify_stopping("stopping: ending every session now");
		tt_iscsi_shutdown(false, 0, shutdown_done, NULL);
		break;
	default:
		tt_notice("tetherd", "%s: already stopping", why);
		break;
	}
}

static void rpc_shutdown(void)
{
	request_shutdown("shutdown requested on the control socket");
}

static void signal_ready(struct tt_watch *w, uint32_t events)
{
	struct signalfd_siginfo si;

	(void)events;
	while (read(w->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
			request_shutdown("SIGTERM");
			break;
		case SIGINT:
			request_shutdown("SIGINT");
			break;
		case SIGHUP:
			tt_notice("tetherd", "SIGHUP: nothing to reload; change the running "
				  "configuration with tetherctl");
			break;
		default:
			break;
		}
	}
}

/* Blocks the signals that loop 0 takes from its signalfd; call before any thread exists. */
static int signals_block(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	signal(SIGPIPE, SIG_IGN);
	return -pthread_sigmask(SIG_BLOCK, set, NULL);
}

static int signals_watch(const sigset_t *set)
{
	int rc;

	daemon_state.sfd = signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (daemon_state.sfd < 0)
		return -errno;
	rc = tt_watch_add(daemon_state.loop0, &daemon_state.sig_watch, daemon_state.sfd, EPOLLIN,
			  signal_ready);
	if (rc < 0) {
		close(daemon_state.sfd);
		daemon_state.sfd = -1;
	}
	return rc;
}

static void signals_unwatch(void)
{
	if (daemon_state.sfd < 0)
		return;
	tt_watch_del(&daemon_state.sig_watch);
	close(daemon_state.sfd);
	daemon_state.sfd = -1;
}

/* ---- objects ------------------------------------------------------------------------------- */

/* An nvme-tcp:// or nvme-rdma:// --portal: the target's LUNs as namespaces of the default
 * subsystem (LUN n is namespace n + 1, with the LUN's identity), reachable through that port. */
static int setup_quick_nvmf(struct tt_target *t, const char *portal, char *err, size_t errlen)
{
	struct tt_nvmf_subsys *s = tt_nvmf_subsys_find(TT_NVMF_DEFAULT_NQN);
	struct tt_list *n;
	char msg[512] = "";
	int rc;

	if (!s) {
		rc = tt_nvmf_subsys_create(TT_NVMF_DEFAULT_NQN, &s, msg, sizeof(msg));
		if (rc) {
			snprintf(err, errlen, "--portal %s: %s", portal, msg);
			return rc;
		}
		tt_list_for_each(n, &t->luns) {
			struct tt_target_lun *tl = tt_list_entry(n, struct tt_target_lun, node);

			if (tl->id + 1 > TT_NVMF_MAX_NAMESPACES)
				continue;
			rc = tt_nvmf_ns_add(s, (uint32_t)tl->id + 1, tl->lun->bdev, tl->lun->naa_id,
					    msg, sizeof(msg));
			if (!rc) {
				tt_nvmf_ns_set_origin(s, (uint32_t)tl->id + 1, NULL, t->name, tl->id);
				/* one reservation state for both fabrics */
				rc = tt_nvmf_resv_bind_lun(s, (uint32_t)tl->id + 1, tl->lun);
				if (rc)
					snprintf(msg, sizeof(msg), "reservations: %s", strerror(-rc));
			}
			if (rc) {
				snprintf(err, errlen, "--portal %s: LUN %llu: %s", portal,
					 (unsigned long long)tl->id, msg);
				return rc;
			}
		}
	}
	rc = tt_nvmf_port_add(portal, 0, NULL, msg, sizeof(msg));
	if (rc) {
		snprintf(err, errlen, "--portal: %s", msg);
		return rc;
	}
	return 0;
}

/* The target of --target / --portal / --lun: created, or completed when the file has it. */
static int setup_quick_target(const struct options *o, char *err, size_t errlen)
{
	const char *name = o->target ? o->target : TT_DEFAULT_TARGET;
	static const char *const default_portals[] = { QUICK_DEFAULT_PORTAL };
	const char *const *portals = o->portals;
	size_t nportals = o->nportals;
	struct tt_target *t = tt_target_find(name);
	struct tt_tpg *tpg;
	bool new_target = false, new_tpg = false;
	uint64_t next_id = 0;
	char msg[512] = "";
	int rc;

	if (!t) {
		rc = tt_target_create(name, NULL, &t, msg, sizeof(msg));
		if (rc) {
			snprintf(err, errlen, "--target: %s", msg);
			return rc;
		}
		new_target = true;
	}
	/* LUNs before portals: nobody logs in to a half-made target */
	if (!tt_list_empty(&t->luns))
		next_id = tt_list_entry(t->luns.prev, struct tt_target_lun, node)->id + 1;
	for (size_t i = 0; i < o->nluns; i++) {
		rc = tt_target_lun_add(t, next_id + i, o->luns[i], NULL, msg, sizeof(msg));
		if (rc) {
			snprintf(err, errlen, "--lun '%s': %s", o->luns[i], msg);
			return rc;
		}
	}
	tpg = tt_tpg_find(t, 1);
	if (!tpg) {
		rc = tt_tpg_create(t, 1, &tpg, msg, sizeof(msg));
		if (rc) {
			snprintf(err, errlen, "target %s: %s", name, msg);
			return rc;
		}
		new_tpg = true;
	}
	if (new_target) {
		tt_model_lock();
		tpg->allow_any_initiator = true;
		tt_model_unlock();
	}
	if (!nportals && new_tpg) {
		portals = default_portals;
		nportals = 1;
	}
	for (size_t i = 0; i < nportals; i++) {
		struct tt_portal *p = NULL;

		if (!strncasecmp(portals[i], "nvme-tcp://", 11) ||
		    !strncasecmp(portals[i], "nvme-rdma://", 12)) {
			rc = setup_quick_nvmf(t, portals[i], err, errlen);
			if (rc)
				return rc;
			continue;
		}

		rc = tt_portal_add(tpg, portals[i], &p, msg, sizeof(msg));
		if (rc) {
			snprintf(err, errlen, "--portal: %s", msg);
			return rc;
		}
		if (!tt_portal_listening(p))
			fprintf(stderr, "tetherd: portal %s is not listening yet (%s); retrying every "
				"250 ms\n", p->addr_str, strerror(-tt_portal_error(p)));
	}
	if (tt_list_empty(&t->luns))
		fprintf(stderr, "tetherd: warning: no --lun given: target %s serves no LUN\n", name);
	return 0;
}

static void apply_nop_options(const struct options *o)
{
	struct tt_list *tn, *gn;

	if (o->nop_interval_ms < 0 && o->nop_timeout_ms < 0)
		return;
	tt_model_lock();
	tt_list_for_each(tn, tt_model_targets()) {
		struct tt_target *t = tt_list_entry(tn, struct tt_target, node);

		tt_list_for_each(gn, &t->tpgs) {
			struct tt_tpg *g = tt_list_entry(gn, struct tt_tpg, node);

			if (o->nop_interval_ms >= 0)
				g->nop_interval_ms = (uint32_t)o->nop_interval_ms;
			if (o->nop_timeout_ms >= 0)
				g->nop_timeout_ms = (uint32_t)o->nop_timeout_ms;
		}
	}
	tt_model_unlock();
}

/* Command-line logging settings (after the file's, so that they win). */
static void apply_log_options(const struct options *o)
{
	if (o->log_level >= 0)
		tt_log_set_level((enum tt_log_level)o->log_level);
	for (size_t i = 0; i < o->ndebug; i++)
		if (tt_log_debug_enable(o->debug[i], true) == 0)
			tt_config_note_debug(o->debug[i], true);
}

static void print_serving(void)
{
	struct tt_list *tn, *gn, *pn, *ln;

	tt_list_for_each(tn, tt_model_targets()) {
		struct tt_target *t = tt_list_entry(tn, struct tt_target, node);
		char portals[1024] = "";
		size_t len = 0, nluns = 0;

		tt_list_for_each(gn, &t->tpgs) {
			struct tt_tpg *g = tt_list_entry(gn, struct tt_tpg, node);

			tt_list_for_each(pn, &g->portals) {
				struct tt_portal *p = tt_list_entry(pn, struct tt_portal, node);
				int n = snprintf(portals + len, sizeof(portals) - len, "%s%s",
						 len ? ", " : "", p->addr_str);

				if (n < 0 || (size_t)n >= sizeof(portals) - len)
					break;
				len += (size_t)n;
			}
		}
		tt_list_for_each(ln, &t->luns)
			nluns++;
		printf("tetherd: serving %s on %s (%zu LUNs)\n", t->name, len ? portals : "no portal",
		       nluns);
	}
	tt_nvmf_print_serving(stdout);
	fflush(stdout);
}

/*
 * The directory of the APTPL state files: --state-dir, else global.state_dir, else
 * DEFAULT_STATE_DIR when it can be created and written (otherwise none, and APTPL is refused).
 * An explicit directory that cannot be used is an error. Records an explicit choice in @global.
 */
/* A configuration file that holds CHAP secrets should be readable by its owner only: say so
 * (the daemon still starts: the file may be on a read-only medium). */
static void check_config_mode(const char *path, const struct tt_config *cfg)
{
	bool secrets = false;
	struct stat st;

	for (size_t i = 0; i < cfg->ntargets && !secrets; i++)
		for (size_t k = 0; k < cfg->targets[i].nacls; k++)
			secrets |= cfg->targets[i].acls[k].has_chap;
	if (secrets && stat(path, &st) == 0 && (st.st_mode & 077))
		tt_warn("config", "%s holds CHAP secrets and is readable by others (mode %04o): "
			"chmod 600 it", path, (unsigned)(st.st_mode & 07777));
}

static int setup_state_dir(const struct options *o, struct tt_config_global *global)
{
	const char *dir = o->state_dir;
	char err[TT_CONFIG_PATH_MAX + 128];
	int rc;

	if (!dir && (global->set & TT_CFG_G_STATE_DIR))
		dir = global->state_dir;
	if (dir) {
		if (dir != global->state_dir)
			snprintf(global->state_dir, sizeof(global->state_dir), "%s", dir);
		global->set |= TT_CFG_G_STATE_DIR;
		if (!strcmp(dir, "none")) {
			tt_info("tetherd", "no state directory: persistent reservations with APTPL "
				"are refused");
			return tt_model_set_state_dir(NULL, NULL, 0);
		}
		rc = tt_model_set_state_dir(dir, err, sizeof(err));
		if (rc)
			fprintf(stderr, "tetherd: %s\n", err);
		else
			tt_info("tetherd", "state directory %s", dir);
		return rc;
	}
	rc = tt_model_set_state_dir(DEFAULT_STATE_DIR, err, sizeof(err));
	if (rc)
		tt_notice("tetherd", "%s: persistent reservations with APTPL are refused "
			  "(--state-dir chooses another directory)", err);
	else
		tt_info("tetherd", "state directory %s", DEFAULT_STATE_DIR);
	return 0;
}

static const char *default_socket(char *buf, size_t len)
{
	if (access("/run", W_OK) == 0)
		return TT_RPC_DEFAULT_SOCKET;
	snprintf(buf, len, "/tmp/tetherd-%u.sock", (unsigned)getuid());
	return buf;
}

/* ---- main ---------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	struct options o;
	struct tt_config *cfg = NULL;
	struct tt_config_global global = { 0 };
	char err[1024] = "", sockbuf[64];
	const char *sock;
	unsigned nloops;
	sigset_t sigs;
	bool core_up = false;
	int rc, status = 1;

	rc = parse_args(argc, argv, &o);
	if (rc >= 0) {
		options_free(&o);
		return rc;
	}
	apply_log_options(&o);

	if (o.config) {
		rc = tt_config_load(o.config, &cfg, err, sizeof(err));
		if (rc) {
			fprintf(stderr, "tetherd: %s\n", err);
			goto out;
		}
		global = cfg->global;
		check_config_mode(o.config, cfg);
	}
	if (o.loops) {
		nloops = o.loops;
	} else if ((global.set & TT_CFG_G_LOOPS) && global.loops) {
		nloops = global.loops;
	} else {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		nloops = n < 1 ? 1 : n > MAX_LOOPS ? MAX_LOOPS : (unsigned)n;
	}
	if (o.rpc_socket)
		sock = o.rpc_socket;
	else if (global.set & TT_CFG_G_RPC_SOCKET)
		sock = global.rpc_socket;
	else
		sock = default_socket(sockbuf, sizeof(sockbuf));
	if (!strcmp(sock, "none"))
		sock = NULL;
	if (o.no_stats || ((global.set & TT_CFG_G_STATS) && !global.stats))
		tt_iostat_set_enabled(false);
	if (o.metrics) {
		global.set &= ~(unsigned)TT_CFG_G_METRICS;
		if (strcmp(o.metrics, "none") != 0) {
			snprintf(global.metrics, sizeof(global.metrics), "%s", o.metrics);
			global.set |= TT_CFG_G_METRICS;
		}
	}

	rc = signals_block(&sigs);
	if (rc) {
		fprintf(stderr, "tetherd: cannot block signals: %s\n", strerror(-rc));
		goto out;
	}
	rc = tt_loops_start(nloops);
	if (rc) {
		fprintf(stderr, "tetherd: cannot start %u event loops: %s\n", nloops, strerror(-rc));
		goto out;
	}
	daemon_state.loop0 = tt_loops_get(0);
	rc = tt_iscsi_target_init();
	if (rc) {
		fprintf(stderr, "tetherd: cannot start the iSCSI target: %s\n", strerror(-rc));
		goto stop_loops;
	}
	core_up = true;
	rc = tt_nvmf_init();
	if (rc) {
		fprintf(stderr, "tetherd: cannot start the NVMe-oF target: %s\n", strerror(-rc));
		goto stop_all;
	}
	tt_nvmf_resv_keeper_init();
	rc = signals_watch(&sigs);
	if (rc) {
		fprintf(stderr, "tetherd: signalfd: %s\n", strerror(-rc));
		goto stop_all;
	}

	rc = setup_state_dir(&o, &global);
	if (rc)
		goto stop_all;
	if (cfg) {
		if (o.log_level >= 0) /* the command line wins over the file */
			cfg->global.set &= ~(unsigned)TT_CFG_G_LOG_LEVEL;
		rc = tt_config_apply(cfg, err, sizeof(err));
		if (rc) {
			fprintf(stderr, "tetherd: %s: %s\n", o.config, err);
			goto stop_all;
		}
		apply_log_options(&o);
	}
	if (!cfg || o.nportals || o.nluns || o.target) {
		rc = setup_quick_target(&o, err, sizeof(err));
		if (rc) {
			fprintf(stderr, "tetherd: %s\n", err);
			goto stop_all;
		}
	}
	apply_nop_options(&o);

	global.set |= TT_CFG_G_LOOPS;
	global.loops = nloops;
	if (sock) {
		global.set |= TT_CFG_G_RPC_SOCKET;
		snprintf(global.rpc_socket, sizeof(global.rpc_socket), "%s", sock);
	}
	global.set |= TT_CFG_G_LOG_LEVEL;
	global.log_level = (int)tt_log_get_level();
	if (o.no_stats) {
		global.set |= TT_CFG_G_STATS;
		global.stats = false;
	}
	tt_config_set_global(&global);
	for (size_t i = 0; i < o.ndebug; i++)
		tt_config_note_debug(o.debug[i], true);

	if (sock) {
		rc = tt_rpc_start(daemon_state.loop0, sock, err, sizeof(err));
		if (rc) {
			fprintf(stderr, "tetherd: control socket %s: %s\n", sock, err);
			goto stop_all;
		}
		tt_rpc_set_shutdown_cb(rpc_shutdown);
	}
	if (global.set & TT_CFG_G_METRICS) {
		rc = tt_metrics_start(global.metrics, err, sizeof(err));
		if (rc) {
			fprintf(stderr, "tetherd: %s\n", err);
			goto stop_all;
		}
	}

	print_serving();
	tetherd_notify_start(daemon_state.loop0);
	rc = tt_loop_run(daemon_state.loop0);
	if (rc)
		tt_err("tetherd", "loop 0 stopped: %s", strerror(-rc));
	status = rc ? 1 : 0;
	tt_notice("tetherd", "stopped");

stop_all:
	tt_metrics_stop();
	tetherd_notify_stop();
	tt_rpc_stop();
	tt_nvmf_close_all();
	tt_nvmf_fini();
	tt_model_clear();
	signals_unwatch();
	if (core_up)
		tt_iscsi_target_fini();
stop_loops:
	tt_loops_shutdown();
out:
	tt_config_free(cfg);
	options_free(&o);
	return status;
}
