/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libtether internals: the objects of the initiator layer and how they hold each other.
 *
 *   struct tether_dev (device.c)   one logical unit, from tether_open to tether_close; owns its
 *                                  standalone loop, its paths, its request queue and its fences
 *   struct ti_path (path.c)        one iSCSI session to one portal, with the lifecycle of
 *                                  path_state.c (enum ti_path_state, ti_path_set_state)
 *   struct ti_conn (conn.c)        one TCP connection: connect, login, PDU framing; used by a
 *                                  path, by a reinstatement login (fence.c) and by discovery
 *   struct ti_req (cmd.c)          one SCSI command of the application or of the library
 *
 * Holders: the device holds every path (array, freed at close only, so a pointer to a path
 * stays valid while the device lives); a path holds its connection; a request is held by the
 * device's queue, or by one path's task list while in flight, or by a fence's held list, or by
 * the done list until its callback ran: always exactly one of them (req->where says which).
 */
#ifndef TT_INITIATOR_INITIATOR_H
#define TT_INITIATOR_INITIATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "base/list.h"
#include "base/loop.h"
#include "iscsi/chap.h"
#include "iscsi/params.h"
#include "iscsi/text.h"
#include "iscsi/wire.h"
#include "tether/tether.h"

#define TI_MAX_PATHS 32
#define TI_MAX_RECV_DSL 262144u   /* MaxRecvDataSegmentLength we declare */
#define TI_MAX_BLOCK_SIZE 1048576u /* a larger logical block length is refused */
#define TI_ERRMSG 512

/* ---- options (opts.c) ---------------------------------------------------------------------- */
enum ti_fence_mode { TI_FENCE_AUTO, TI_FENCE_REINSTATE, TI_FENCE_LU_RESET, TI_FENCE_QUIESCE };
enum ti_selector { TI_SEL_ROUND_ROBIN, TI_SEL_QUEUE_DEPTH, TI_SEL_SERVICE_TIME };

struct tether_opts {
	int64_t nop_interval_ms;
	int64_t nop_timeout_ms;
	int64_t command_timeout_ms;
	int64_t tcp_user_timeout_ms;
	int64_t connect_timeout_ms;
	int64_t login_timeout_ms;
	int64_t reconnect_delay_ms;
	int64_t reconnect_max_delay_ms;
	int64_t path_loss_timeout_ms;   /* -1 never */
	int64_t no_path_timeout_ms;     /* -1 forever, 0 at once */
	enum ti_fence_mode fence;
	int64_t quiesce_ms;
	enum ti_selector selector;
	char initiator_name[TT_ISCSI_NAME_MAX + 1];
	char chap_user[TT_CHAP_NAME_MAX + 1];
	char chap_secret[TT_CHAP_SECRET_MAX + 1];
	char mutual_user[TT_CHAP_NAME_MAX + 1];
	char mutual_secret[TT_CHAP_SECRET_MAX + 1];
	bool header_digest;
	bool data_digest;
	int log_level;                  /* 0 error .. 3 debug */
	tether_log_fn log_fn;
	void *log_arg;
	char errmsg[TI_ERRMSG];
};

void ti_opts_defaults(struct tether_opts *o);

/* ---- URLs (url.c) --------------------------------------------------------------------------- */
struct ti_url {
	char host[256];
	uint16_t port;
	char target[TT_ISCSI_NAME_MAX + 1];   /* "" for a portal URL (discovery) */
	uint64_t lun;
	bool has_lun;
	char user[TT_CHAP_NAME_MAX + 1];
	char secret[TT_CHAP_SECRET_MAX + 1];
};
/* iscsi://[user[%secret]@]host[:port][/target-iqn/lun]; @need_target: the target and LUN are
 * required. The first '%' of user%secret separates the two. 0 or -EINVAL with why. */
int ti_url_parse(const char *s, struct ti_url *u, bool need_target, char *err, size_t errlen);
/* The URL without the secret. */
void ti_url_format(const struct ti_url *u, char *buf, size_t size);

/* ---- logging (log.c) ------------------------------------------------------------------------ */
enum { TI_LOG_ERR = 0, TI_LOG_WARN = 1, TI_LOG_INFO = 2, TI_LOG_DEBUG = 3 };
__attribute__((format(printf, 3, 4)))
void ti_log(const struct tether_opts *o, int level, const char *fmt, ...);

/* ---- sense data (sense.c) --------------------------------------------------------------------- */
struct ti_sense {
	uint8_t key;
	uint8_t asc;
	uint8_t ascq;
	bool valid;
};
int ti_sense_parse(const uint8_t *buf, size_t len, struct ti_sense *out);

/* What to do with a command that ended with a SCSI status. */
enum ti_verdict {
	TI_V_DONE,          /* complete it (status 0 or an error for the caller) */
	TI_V_RETRY,         /* run it again at once (unit attention, busy ...) */
	TI_V_RETRY_ALUA,    /* re-read the ALUA states, then run it again (maybe elsewhere) */
	TI_V_RETRY_LATER,   /* transitioning: again after a short delay */
};
/* @errno_out: the status given to the caller when the verdict is TI_V_DONE. */
enum ti_verdict ti_scsi_verdict(uint8_t status, const struct ti_sense *s, int *errno_out);

/* ---- identity (ident.c) ----------------------------------------------------------------------- */
enum ti_alua {
	TI_ALUA_OPTIMIZED = 0,
	TI_ALUA_NON_OPTIMIZED = 1,
	TI_ALUA_STANDBY = 2,
	TI_ALUA_UNAVAILABLE = 3,
	TI_ALUA_LBA_DEPENDENT = 4,
	TI_ALUA_OFFLINE = 0xe,
	TI_ALUA_TRANSITIONING = 0xf,
	TI_ALUA_NONE = 0x100,       /* the unit reports no ALUA: every path counts as optimized */
};
const char *ti_alua_name(enum ti_alua a);

struct ti_ident {
	uint8_t lu_type;            /* designator type of the LU designator (3 NAA, 2 EUI-64 ...) */
	uint8_t lu_len;
	uint8_t lu_id[64];
	char lu_text[160];          /* "naa.6001405...", "eui....", the SCSI name string */
	bool have_rel_port;
	uint16_t rel_port;
	bool have_tpg;
	uint16_t tpg;
};
/* Parses a VPD page 83h: the logical unit's designator (NAA preferred, then EUI-64, then SCSI
 * name string, then T10 vendor id) and the relative target port and target port group of the
 * port it came through. 0 or -EPROTO (-ENODATA: no designator for the unit). */
int ti_vpd83_parse(const uint8_t *buf, size_t len, struct ti_ident *out);
bool ti_ident_same_lu(const struct ti_ident *a, const struct ti_ident *b);
/* The access state of target port group @tpg in REPORT TARGET PORT GROUPS data (or, when
 * @tpg is not listed, of the group that lists @rel_port). -ENOENT when neither is listed. */
int ti_rtpg_state(const uint8_t *buf, size_t len, bool have_tpg, uint16_t tpg, bool have_rel,
		  uint16_t rel_port, enum ti_alua *out);

/* ---- path lifecycle (path_state.c) ------------------------------------------------------------ */
enum ti_path_state {
	TI_PATH_NEW,
	TI_PATH_CONNECTING,   /* TCP connect, login, identity check */
	TI_PATH_LIVE,         /* usable for I/O */
	TI_PATH_RECOVERING,   /* torn down, waiting for the reconnect delay */
	TI_PATH_DELETING,     /* being removed: logout (when live) and release */
	TI_PATH_DEAD,         /* removed; kept only for tether_path_info */
	TI_PATH__COUNT
};
const char *ti_path_state_name(enum ti_path_state s);
/* Whether the lifecycle allows @from -> @to (pure; ti_path_set_state enforces it). */
bool ti_path_transition_ok(enum ti_path_state from, enum ti_path_state to);

/* Reconnect policy: a pure function of the options (unit-tested with the fake clock). */
/* The delay before reconnect attempt number @attempt (0 = first after a failure). */
uint64_t ti_reconnect_delay_ms(const struct tether_opts *o, unsigned attempt);
/* Whether a path down since @down_since_ns may still try again at @now_ns: false once
 * path_loss_timeout_ms has passed, or after an authentication failure (@auth_failed). */
bool ti_should_reconnect(const struct tether_opts *o, uint64_t down_since_ns, uint64_t now_ns,
			 bool auth_failed);

/* ---- connection (conn.c) ---------------------------------------------------------------------- */
struct ti_conn;

/* A received PDU: the header and (owned by the connection until the callback returns) the data. */
struct ti_pdu_in {
	union {
		struct tt_bhs bhs;
		uint8_t raw[TT_BHS_LEN];
	};
	const uint8_t *data;
	uint32_t dlen;
};

struct ti_conn_ops {
	/* login finished: 0, or -errno with conn->errmsg saying why */
	void (*up)(struct ti_conn *c, int rc);
	/* a PDU of the full feature phase; returns 0 or -errno to drop the connection */
	int (*pdu)(struct ti_conn *c, const struct ti_pdu_in *p);
	/* the connection failed (after up(0)); the owner must ti_conn_close() it */
	void (*down)(struct ti_conn *c, int rc);
};

enum ti_conn_step {
	TI_CONN_IDLE,
	TI_CONN_TCP,       /* non-blocking connect under way */
	TI_CONN_LOGIN,
	TI_CONN_FFP,       /* full feature phase */
	TI_CONN_FAILED,    /* error reported; waiting for ti_conn_close */
};

/* One queued transmission: a header (BHS + AHS + digest) and data pointing at the caller's
 * buffers (the request keeps them valid until it completes; a dropped connection frees its
 * queue before any request is completed). */
struct ti_tx {
	struct tt_list node;
	uint8_t hdr[TT_BHS_LEN + TT_DIGEST_LEN];
	uint32_t hdr_len;
	struct iovec *iov;      /* data segment pieces (points to iov_small or allocated) */
	int iovcnt;
	struct iovec iov_small[4];
	uint8_t *owned;         /* owned data (text, NOP ping data, parameter lists) */
	uint8_t tail[8];        /* pad + data digest */
	uint32_t tail_len;
	size_t total;
	size_t done;
};

struct ti_conn {
	const struct ti_conn_ops *ops;
	void *owner;
	struct tt_loop *loop;
	const struct tether_opts *opts;
	enum ti_conn_step step;
	int fd;
	struct tt_watch watch;
	struct tt_timer login_timer;
	struct tt_work fail_work;   /* reports a failure outside the callback that found it */
	int fail_rc;
	char host[256];
	uint16_t port;
	char errmsg[TI_ERRMSG];

	/* identity of the session */
	uint8_t isid[6];
	uint16_t tsih;
	char target[TT_ISCSI_NAME_MAX + 1];  /* "" for discovery */
	bool discovery;
	bool auth_failed;            /* the target refused our credentials */
	bool was_up;                 /* ops->up(0) was called: failures go to ops->down */
	bool reached;                /* the TCP connection was established (login began) */
	uint64_t start_ns;           /* when the attempt began */

	/* login */
	struct tt_negotiation neg;
	struct tt_params_policy pol;
	struct tt_chap chap;
	bool use_chap;
	int login_stage;             /* CSG of the next request */
	bool chap_started;
	bool login_transit;          /* the last request asked to move on */
	struct tt_text rx_text;
	struct tt_text_out tx_text;
	uint32_t login_itt;

	/* negotiated */
	struct tt_params params;

	/* sequence numbers */
	uint32_t cmdsn, expcmdsn, maxcmdsn, expstatsn;
	uint32_t next_itt;

	/* transmit */
	struct tt_list txq;
	/* receive: one whole PDU fits in rxbuf */
	uint8_t *rxbuf;
	size_t rxcap, rxlen;
	uint64_t last_rx_ns;
};

/* Starts connecting (non-blocking) to host:port and then logs in (leading login, TSIH 0, the
 * given ISID). ops->up reports the result. @opts must outlive the connection. */
int ti_conn_start(struct ti_conn *c, struct tt_loop *loop, const struct tether_opts *opts,
		  const struct ti_conn_ops *ops, void *owner, const char *host, uint16_t port,
		  const char *target, const uint8_t isid[6], const char *user, const char *secret);
/* Abortive close: SO_LINGER 0 and close(2) now, the transmit queue dropped. Idempotent. */
void ti_conn_close(struct ti_conn *c);
/* Queue a PDU: BHS @bhs with data @iov (may be NULL) of @dlen bytes; @owned is freed with it.
 * Fills ExpStatSN on the PDUs that carry it. 0 or -ENOMEM. */
int ti_conn_send(struct ti_conn *c, const uint8_t bhs[TT_BHS_LEN], const struct iovec *iov,
		 int iovcnt, uint32_t dlen, uint8_t *owned);
/* Writes what is queued (non-blocking). */
void ti_conn_flush(struct ti_conn *c);
/* Takes ExpCmdSN/MaxCmdSN from a PDU that carries them. */
void ti_conn_update_window(struct ti_conn *c, const uint8_t *expcmdsn, const uint8_t *maxcmdsn);
/* Whether a non-immediate command may be sent now (CmdSN within the window). */
bool ti_conn_window_open(const struct ti_conn *c);
/* Marks the connection failed and reports ops->down (or ops->up during login) from deferred
 * work. */
void ti_conn_fail(struct ti_conn *c, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void ti_conn_fill_isid(uint8_t isid[6]);

/* ---- requests (cmd.c) --------------------------------------------------------------------------- */
enum ti_req_where { TI_REQ_NOWHERE, TI_REQ_QUEUED, TI_REQ_INFLIGHT, TI_REQ_HELD, TI_REQ_DONE };

struct ti_path;
struct ti_req;
typedef void (*ti_req_done_fn)(struct ti_req *r, int status);

struct ti_req {
	struct tt_list node;
	enum ti_req_where where;
	struct tether_dev *dev;
	struct ti_path *path;        /* in flight on it */
	struct ti_path *pin;         /* library command: this path only */
	uint8_t cdb[16];
	uint8_t cdb_len;
	enum tether_dir dir;
	bool modifying;
	const struct iovec *iov;
	int iovcnt;
	struct iovec iov1;
	uint8_t *owned;              /* a buffer of the request (parameter lists, probe data) */
	struct iovec *iov_owned;     /* the pieces of a split request's part (freed with it) */
	uint32_t len;                /* expected data transfer length */
	/* in flight */
	uint32_t itt;
	uint32_t sent_to;            /* bytes of Data-Out sent (writes) */
	uint32_t recvd;              /* bytes of Data-In received (reads) */
	uint64_t sent_ns;
	bool on_wire;                /* sent on its current path (not only waiting there) */
	bool tmf;                    /* a task management request (LU reset) */
	uint8_t tmf_fn;
	/* result */
	uint8_t status;
	uint8_t sense[96];
	uint32_t sense_len;
	uint32_t resid;
	unsigned ua_retries;
	unsigned retries;
	uint64_t queued_ns;
	int error;
	/* completion */
	tether_cb cb;
	void *arg;
	ti_req_done_fn done;         /* library commands: called instead of cb */
	void *ctx;
	struct tether_scsi_cmd *user;
};

/* Sends @r on @p now (the window is open). 0 or -errno. */
int ti_req_send(struct ti_path *p, struct ti_req *r);
/* A command of @p ended (status, sense and residual filled in). */
void ti_path_cmd_done(struct ti_path *p, struct ti_req *r);
/* Our NOP-Out ping on @p; Logout (close the session) on @c. */
int ti_path_send_nop(struct ti_path *p);
int ti_path_send_logout(struct ti_conn *c);
/* Handles a PDU addressed to a command of @p. 0 or -errno (drop the connection). */
int ti_path_rx_cmd(struct ti_path *p, const struct ti_pdu_in *in);

/* ---- paths (path.c) ------------------------------------------------------------------------------ */
struct ti_fence {
	bool active;
	unsigned plan;               /* TI_FSTEP_* bits still to do */
	unsigned step;               /* the step under way (0 none) */
	uint64_t since_ns;
	struct tt_list held;         /* modifying commands of the dead session */
	struct ti_conn helper;       /* reinstatement login through another portal */
	bool helper_open;
	struct ti_req *tmf;          /* LU reset under way */
	struct tt_timer timer;       /* quiesce, or retry of a step */
	char how[1024];              /* what fenced it, for the log */
};
#define TI_FSTEP_REINSTATE 1u
#define TI_FSTEP_LU_RESET 2u
#define TI_FSTEP_QUIESCE 4u

struct ti_path {
	struct tether_dev *dev;
	int index;
	enum ti_path_state state;
	uint64_t state_ns;           /* monotonic ns of the last change */
	struct ti_url url;
	char url_text[512];
	uint8_t isid[6];

	struct ti_conn conn;
	bool conn_open;
	bool probing;                /* identity commands under way (CONNECTING after login) */
	unsigned probe_step;
	struct ti_req *probe;
	struct ti_ident ident;
	bool ident_ok;
	enum ti_alua alua;
	bool tpgs;                   /* the unit reports target port groups */
	char vendor[9];              /* standard INQUIRY vendor identification */
	bool logged_out;             /* our Logout was answered */
	bool rtpg_pending;
	bool rtpg_again;             /* re-read once more when the pending one ends */
	uint16_t tpgt;               /* iSCSI TargetPortalGroupTag of the session */
	bool tpgt_known;

	struct tt_list tasks;        /* requests in flight */
	struct tt_list waiting;      /* assigned here, waiting for the command window */
	uint32_t inflight;
	uint64_t svc_ns;             /* service time estimate (EWMA of command latency) */

	struct tt_timer state_timer; /* login/identity bound (CONNECTING), reconnect (RECOVERING) */
	struct tt_timer tick;        /* LIVE/CONNECTING: NOP-Out and command timeouts */
	uint32_t nop_itt;            /* our NOP-Out awaiting its NOP-In (0 none) */
	uint64_t nop_sent_ns;
	unsigned attempts;           /* reconnect attempts since the path was last live */
	uint64_t down_since_ns;      /* when it last stopped being live (or was created) */
	bool auth_failed;
	bool was_live;

	struct ti_fence fence;

	/* counters */
	uint64_t ios, errors, retried, failures;
};

int ti_path_set_state(struct ti_path *p, enum ti_path_state to, const char *why);
/* Creates path @url on @dev (NEW) and starts it (CONNECTING). */
int ti_path_add(struct tether_dev *dev, const char *url, char *err, size_t errlen);
/* Declares the path dead (failure detected): RECOVERING at once. */
void ti_path_fail(struct ti_path *p, int rc, const char *why);
void ti_path_free(struct ti_path *p);
/* Sends what waits for the command window. */
void ti_path_push(struct ti_path *p);
/* A library command on this path (identity, RTPG, TMF). */
struct ti_req *ti_path_internal(struct ti_path *p, const uint8_t *cdb, uint8_t cdb_len,
				uint32_t inlen, ti_req_done_fn done);
void ti_path_reread_alua(struct ti_path *p);
bool ti_path_usable(const struct ti_path *p);

/* ---- path selection (select.c) ------------------------------------------------------------------- */
/* The path for the next command among @paths (only LIVE ones with a usable ALUA state count;
 * the best state wins, then the selector). NULL when none. @rr: the round-robin cursor. */
struct ti_path *ti_select_path(struct ti_path *const *paths, int n, enum ti_selector sel,
			       unsigned *rr);
int ti_alua_rank(enum ti_alua a);   /* lower is better; -1 not usable for I/O */

/* ---- fencing (fence.c) ---------------------------------------------------------------------------- */
/* The steps that fence @p's dead session under the `fence` option (TI_FSTEP_* bits): auto =
 * reinstatement through another live portal of the same portal group (then a LU reset unless
 * the unit is a tetherd's), else the LU reset. */
unsigned ti_fence_plan(const struct ti_path *p);
/* @p was declared dead: its modifying commands in @mods are held until fenced. */
void ti_fence_start(struct ti_path *p, struct tt_list *mods);
/* @p logged in again with its own ISID (a reinstatement of the dead session). */
void ti_fence_path_reinstated(struct ti_path *p);
/* A path became live: a fence waiting for one may go on. */
void ti_fence_kick(struct tether_dev *dev);
void ti_fence_init(struct ti_path *p);
/* Closes the reinstatement connection (after its login, while it logs out). */
void ti_fence_drop_helper(struct ti_path *p);
/* Ends @p's fence: its held commands fail with @status. */
void ti_fence_stop(struct ti_path *p, int status);

/* ---- device (device.c) ----------------------------------------------------------------------------- */
struct tether_dev {
	struct tt_loop *loop;
	struct tether_opts opts;
	struct ti_path *paths[TI_MAX_PATHS];
	int npaths;
	unsigned rr;
	struct tt_list queue;        /* waiting for a path */
	struct tt_list done;         /* completed, callbacks to run */
	struct tt_list delayed;      /* to be retried after a short delay (busy, transitioning) */
	struct tt_timer delay_timer;
	struct tt_work kick_work;
	struct tt_work done_work;
	struct tt_timer nopath_timer;
	uint64_t nopath_since_ns;    /* 0: a path is usable (or nothing waits) */
	bool nopath_expired;         /* no path for no_path_timeout_ms: I/O fails at once */
	bool closing;
	/* the unit */
	bool ident_known;
	struct ti_ident ident;
	uint64_t blocks;
	uint32_t block_size;
	bool lbpme;                  /* thin provisioned: UNMAP may work */
	uint32_t max_xfer_blocks;    /* VPD B0h maximum transfer length (0: none reported) */
	bool cap_known;
	char errmsg[TI_ERRMSG];
	unsigned servicing;          /* nesting guard of the synchronous calls */
};

/* A device with its loop and no path (tether_open = this + ti_path_add + waiting); destroyed
 * (paths freed, queued I/O cancelled, loop destroyed) by ti_dev_destroy. */
int ti_dev_create(struct tether_dev **out, const struct tether_opts *opts);
void ti_dev_destroy(struct tether_dev *dev);
void ti_dev_kick(struct tether_dev *dev);
/* An application command ended on a path: complete, retry or re-read ALUA states. */
void ti_dev_finish(struct tether_dev *dev, struct ti_req *r);
/* Completes @r with @status (callbacks run from deferred work). */
void ti_req_complete(struct ti_req *r, int status);
/* Puts @r back at the head of the queue to be sent again (on any path). */
void ti_dev_requeue(struct tether_dev *dev, struct ti_req *r);
/* The commands of a path that went down: retried, or held for fencing. */
void ti_dev_path_down(struct tether_dev *dev, struct ti_path *p);
void ti_dev_path_live(struct tether_dev *dev, struct ti_path *p);
int ti_dev_submit(struct tether_dev *dev, struct ti_req *r);
/* Services the device (poll + tt_loop_service) until @done(arg) or @deadline_ns (0: none).
 * 0, -ETIMEDOUT, or -EBUSY when called from inside one of its callbacks. */
int ti_dev_wait(struct tether_dev *dev, bool (*done)(void *arg), void *arg, uint64_t deadline_ns);
__attribute__((format(printf, 2, 3)))
void ti_dev_error(struct tether_dev *dev, const char *fmt, ...);

#endif
