/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SCSI target core: logical units over block backends, and the execution of one SCSI task.
 * Transport-independent: the iSCSI layer (and later SRP) fills a task, calls tt_scsi_exec(), and
 * gets task->done() back on the same loop thread, always after tt_scsi_exec has returned.
 */
#ifndef TT_SCSI_SCSI_H
#define TT_SCSI_SCSI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/iostat.h"
#include "base/list.h"
#include "bdev/bdev.h"

/* SAM status codes */
#define TT_SAM_GOOD                 0x00
#define TT_SAM_CHECK_CONDITION      0x02
#define TT_SAM_CONDITION_MET        0x04
#define TT_SAM_BUSY                 0x08
#define TT_SAM_RESERVATION_CONFLICT 0x18
#define TT_SAM_TASK_SET_FULL        0x28
#define TT_SAM_ACA_ACTIVE           0x30
#define TT_SAM_TASK_ABORTED         0x40

#define TT_SENSE_MAX 96

struct tt_alua_group; /* alua.c */
struct tt_lun;
struct tt_nexus;
struct tt_scsi_proto; /* scsi/proto.h: protocol identity (iSCSI, SRP, NVMe), defined in the core */

/*
 * What the core asks of a front end (the iSCSI target, later SRP), and which protocol it speaks.
 * One const table per front end, filled with designated initializers; every port and nexus of
 * the front end points to it. Every op is set: one the front end does not have points to the
 * matching tt_scsi_fe_no_* stub (-EOPNOTSUPP).
 */
struct tt_scsi_frontend {
	const char *name;                    /* logs */
	const struct tt_scsi_proto *proto;   /* &tt_scsi_proto_iscsi, &tt_scsi_proto_srp */
	/*
	 * PREEMPT AND ABORT: abort the tasks of nexus @nexus_id (one of this front end's) on @lun.
	 * Called on the loop thread executing the PERSISTENT RESERVE OUT, before that command
	 * completes and with no core lock held, once per preempted nexus (never the issuing one);
	 * must not block (send work to the loops owning the tasks). 0 or -errno (logged).
	 */
	int (*abort_nexus)(struct tt_lun *lun, uint64_t nexus_id);
	/*
	 * The access state of a target port group of @target_name changed: raise ASYMMETRIC ACCESS
	 * STATE CHANGED (TT_UA_ALUA_STATE_CHANGED) on every LUN of the target this front end maps,
	 * for every nexus but @except (NULL: all). Called once per front end with a registered port
	 * of the target, on the thread that changed the state (an administrator's, or a loop
	 * executing SET TARGET PORT GROUPS), with no core lock held. -EOPNOTSUPP: the front end
	 * does not do it (SET TARGET PORT GROUPS then raises the unit attention on the LUN it was
	 * addressed to only, and administrative changes raise none).
	 */
	int (*alua_changed)(const char *target_name, const struct tt_nexus *except);
	/*
	 * For a protocol without unit attentions (NVMe-oF: @no_ua set): a reservation event,
	 * @ua one of TT_UA_RESERVATIONS_PREEMPTED, TT_UA_RESERVATIONS_RELEASED,
	 * TT_UA_REGISTRATIONS_PREEMPTED, reached nexus @nexus_id (one of this front end's) on
	 * @lun. Called with lun->lock held, on any thread: must not block or call into the core
	 * (send work to a loop). 0 or -errno.
	 */
	int (*pr_notice)(struct tt_lun *lun, uint64_t nexus_id, unsigned ua);
	/* The protocol has no unit attentions: none is kept pending for its nexuses (a pending
	 * one would never be taken); reservation events go to pr_notice instead. */
	bool no_ua;
};

/* Stubs for a front end without these ops: each returns -EOPNOTSUPP. */
int tt_scsi_fe_no_abort_nexus(struct tt_lun *lun, uint64_t nexus_id);
int tt_scsi_fe_no_alua_changed(const char *target_name, const struct tt_nexus *except);
int tt_scsi_fe_no_pr_notice(struct tt_lun *lun, uint64_t nexus_id, unsigned ua);

/* Protocol tables of the core (scsi/proto.h), for struct tt_scsi_frontend.proto. */
extern const struct tt_scsi_proto tt_scsi_proto_iscsi;
extern const struct tt_scsi_proto tt_scsi_proto_srp;
extern const struct tt_scsi_proto tt_scsi_proto_nvme;

/*
 * A target port as SCSI sees it (VPD 83h, ALUA, PR): one per iSCSI target portal group, one per
 * SRP target port.
 */
struct tt_scsi_port {
	const struct tt_scsi_frontend *fe; /* the front end: never NULL once registered */
	const char *target_name;   /* name of the target (iSCSI name; ALUA groups by it) */
	uint16_t tpgt;             /* iSCSI: target portal group tag */
	uint8_t srp_port_id[16];   /* SRP: target port identifier (ID extension, I/O controller GUID) */
	uint16_t rel_port_id;      /* relative target port identifier (non-zero) */
	uint16_t port_group_id;    /* ALUA target port group */
	/* private to the core: the port's ALUA group, set by tt_scsi_port_register (NULL: never
	 * registered, active/optimized); read on the data path for the access state */
	struct tt_alua_group *alua;
};

/*
 * I_T nexus: one per iSCSI session, or SRP RDMA channel. The initiator port in the protocol's
 * form: iSCSI: initiator_name the iSCSI name, isid, initiator_port "<name>,i,0x<isid hex>"
 * (SPC-4 iSCSI initiator port name); SRP: initiator_name the initiator port identifier as 32
 * hex digits (optionally after "0x"), isid unused.
 */
struct tt_nexus {
	const struct tt_scsi_frontend *fe; /* the front end: never NULL */
	char initiator_name[224];
	uint8_t isid[6];
	char initiator_port[256];
	const struct tt_scsi_port *tport;
	/* Fills @ids with the LUNs this nexus may see (at most @max); returns how many exist. */
	int (*list_luns)(const struct tt_nexus *nexus, uint64_t *ids, int max);
	void *owner;                 /* the session */
	uint64_t id;                 /* unique for the target's lifetime (UA and PR bookkeeping) */
};

struct tt_lun_opts {
	const char *vendor;   /* 8 chars max, default "TETHER" */
	const char *product;  /* 16 chars max, default "VDISK" (or "RAMDISK", "NULLDISK") */
	const char *revision; /* 4 chars max, default the project version */
	const char *serial;   /* default derived from target name + LUN id */
	uint64_t naa_id;      /* 0: derived from target name + LUN id; stable across restarts */
	bool write_protect;
	bool no_thin;         /* report a thin backend as fully provisioned */
	uint32_t max_xfer_bytes;       /* largest READ/WRITE accepted; 0: TT_SCSI_MAX_XFER_DEFAULT */
	uint32_t physical_block_size;  /* reported in READ CAPACITY (16); 0: the block size */
	uint64_t sanitize_rate;        /* SANITIZE OVERWRITE pacing, bytes per second; 0: none */
	/* Persistent reservations state file (APTPL): restored at creation, rewritten on each change
	 * while APTPL is on. NULL: APTPL is refused (PTPL_C 0). Copied by tt_lun_create. */
	const char *pr_file;
};

#define TT_SCSI_MAX_XFER_DEFAULT (8u << 20)

struct tt_lu_state; /* private to the SCSI core: mode pages, UAs, reservations, ... */

/*
 * A logical unit. Shared by every loop: fields below are read-only after creation except where
 * noted; mutable state lives in @state under @lock (control path and rare data-path events).
 * Holders of a reference: the target's LUN map (dropped when the LUN is deleted) and every
 * session that maps it (dropped at session end); tasks borrow the session's reference.
 */
struct tt_lun {
	uint64_t id;
	struct tt_bdev *bdev;
	char vendor[9], product[17], revision[5];
	char serial[64];
	uint64_t naa_id;
	bool write_protect;
	bool thin;
	int refs;
	pthread_mutex_t lock;
	struct tt_lu_state *state;
	char *target_name;           /* VPD 83h target device name */
	uint32_t max_xfer_blocks;    /* VPD B0h MAXIMUM TRANSFER LENGTH, enforced on READ/WRITE */
	uint8_t lbppbe;              /* logical blocks per physical block exponent */
	struct tt_bdev_watch resize_watch; /* raises CAPACITY DATA HAS CHANGED */
};

/*
 * Creates LUN @id (0..TT_SCSI_LUN_MAX) of target @target_name over @bdev, with one reference (the
 * creator's). The LUN takes its own reference on @bdev (dropped when the LUN is freed): the caller
 * keeps its own. @opts may be NULL. Returns 0 or -EINVAL (bad name, option or geometry), -ENOMEM.
 */
int tt_lun_create(const char *target_name, uint64_t id, struct tt_bdev *bdev,
		  const struct tt_lun_opts *opts, struct tt_lun **out);
void tt_lun_get(struct tt_lun *lun);
void tt_lun_put(struct tt_lun *lun);
/* A nexus appears (session login, or the LUN is added to the map of a live session) or goes away
 * (session end): per-nexus state such as pending unit attentions (a new nexus gets POWER ON, RESET
 * OR BUS DEVICE RESET OCCURRED). A nexus that was never added gets no unit attention. */
void tt_lun_nexus_add(struct tt_lun *lun, const struct tt_nexus *nexus);
void tt_lun_nexus_del(struct tt_lun *lun, const struct tt_nexus *nexus);

/*
 * Reservations (src/scsi/pr.c). A LOGICAL UNIT RESET, TARGET WARM RESET or TARGET COLD RESET
 * reaching @lun: the transport calls tt_lun_pr_reset() to end the RESERVE (6)/(10) reservation
 * (persistent reservations and registrations survive resets, SPC-4 5.13.1).
 * PREEMPT AND ABORT aborts the tasks of the preempted I_T nexuses on @lun through the
 * abort_nexus op of each preempted nexus's front end (struct tt_scsi_frontend).
 */
void tt_lun_pr_reset(struct tt_lun *lun);

/*
 * Target ports REPORT TARGET PORT GROUPS lists for their target (matched by target_name): the
 * transport registers each port while it exists (@port stays valid until unregistered; set its
 * port_group_id before). Registration joins the port to its ALUA target port group (target name +
 * port_group_id), created active/optimized with its first port; when the last port of a group is
 * unregistered the group goes back to active/optimized. Returns 0 or -ENOSPC (more than 256 ports).
 */
int tt_scsi_port_register(struct tt_scsi_port *port);
void tt_scsi_port_unregister(struct tt_scsi_port *port);

/*
 * Asymmetric access states of a target port group (SPC-4 5.16.2.4); the values are those of
 * REPORT TARGET PORT GROUPS. A group's state applies to every LUN of its target seen through
 * its ports: standby, unavailable and transitioning refuse most commands with NOT READY,
 * LOGICAL UNIT NOT ACCESSIBLE (04h/0Bh, 04h/0Ch, 04h/0Ah).
 */
enum tt_alua_state {
	TT_ALUA_ACTIVE_OPTIMIZED = 0x0,
	TT_ALUA_ACTIVE_NON_OPTIMIZED = 0x1,
	TT_ALUA_STANDBY = 0x2,
	TT_ALUA_UNAVAILABLE = 0x3,
	TT_ALUA_TRANSITIONING = 0xf,
};

/* "active-optimized", "active-non-optimized", "standby", "unavailable", "transitioning";
 * "?" for another value. */
const char *tt_alua_state_name(unsigned state);
/* The state named @name (as above), or -EINVAL. */
int tt_alua_state_parse(const char *name);
/* State of group @group_id of target @target_name: active/optimized when it has no port. */
enum tt_alua_state tt_alua_state_get(const char *target_name, uint16_t group_id);
/*
 * Changes the state of group @group_id of target @target_name, as an implicit transition (the
 * administrator's: REPORT TARGET PORT GROUPS then gives the status "altered by implicit
 * behaviour"). When the state changes, the alua_changed op of each front end with a registered
 * port of the target runs (no lock held), which raises ASYMMETRIC ACCESS STATE CHANGED on every
 * LUN of the target. Returns 0, -EINVAL (not one of the states above) or -ENOENT (the group has
 * no registered port). Any thread.
 */
int tt_alua_state_set(const char *target_name, uint16_t group_id, enum tt_alua_state state);
/*
 * Whether hosts may change group @group_id of @target_name with SET TARGET PORT GROUPS
 * (explicit ALUA, the default). When not, INQUIRY through the group's ports reports implicit
 * ALUA only (TPGS 01b), SET TARGET PORT GROUPS through them is refused as an unsupported
 * command and a descriptor naming the group is refused wherever it comes from: only the
 * administrator (tt_alua_state_set) changes the state. Back to allowed when the group's last
 * port goes. Returns 0, -EINVAL or -ENOENT (the group has no registered port). Any thread.
 */
int tt_alua_explicit_set(const char *target_name, uint16_t group_id, bool allowed);
/* Whether SET TARGET PORT GROUPS may change the group (true when it has no port). */
bool tt_alua_explicit_get(const char *target_name, uint16_t group_id);

/*
 * Unit attention conditions, in the order they are reported (SPC-4 5.14). A nexus holds at most one
 * of each; POWER ON / RESET clears the others.
 */
enum tt_ua {
	TT_UA_POWER_ON,                 /* 29h/00h POWER ON, RESET, OR BUS DEVICE RESET OCCURRED */
	TT_UA_LUN_RESET,                /* 29h/03h BUS DEVICE RESET FUNCTION OCCURRED */
	TT_UA_NEXUS_LOSS,               /* 29h/07h I_T NEXUS LOSS OCCURRED */
	TT_UA_RESERVATIONS_PREEMPTED,   /* 2Ah/03h */
	TT_UA_RESERVATIONS_RELEASED,    /* 2Ah/04h */
	TT_UA_REGISTRATIONS_PREEMPTED,  /* 2Ah/05h */
	TT_UA_ALUA_STATE_CHANGED,       /* 2Ah/06h ASYMMETRIC ACCESS STATE CHANGED */
	TT_UA_MODE_PARAMETERS_CHANGED,  /* 2Ah/01h */
	TT_UA_CAPACITY_CHANGED,         /* 2Ah/09h */
	TT_UA_INQUIRY_DATA_CHANGED,     /* 3Fh/03h */
	TT_UA_REPORTED_LUNS_CHANGED,    /* 3Fh/0Eh REPORTED LUNS DATA HAS CHANGED */
	TT_UA_COUNT
};

/* Raises @ua for every nexus known to @lun except @except (NULL: all of them). */
void tt_lun_ua_raise(struct tt_lun *lun, enum tt_ua ua, const struct tt_nexus *except);
/* Raises @ua for @nexus only (registering the nexus if it is new). */
void tt_lun_ua_raise_one(struct tt_lun *lun, const struct tt_nexus *nexus, enum tt_ua ua);
/* Pending unit attentions of @nexus as a bit mask of (1u << enum tt_ua); 0 when none. */
uint32_t tt_lun_ua_pending(struct tt_lun *lun, const struct tt_nexus *nexus);

/* LUN numbers <-> 8-byte SAM LUN fields (peripheral device addressing below 256, flat space up to
 * 16383). Decoding another addressing method returns TT_SCSI_LUN_INVALID. */
#define TT_SCSI_LUN_MAX 16383
#define TT_SCSI_LUN_INVALID UINT64_MAX
void tt_scsi_lun_encode(uint64_t id, uint8_t out[8]);
uint64_t tt_scsi_lun_decode(const uint8_t in[8]);

enum tt_task_attr {
	TT_TASK_SIMPLE = 0,
	TT_TASK_ORDERED = 1,
	TT_TASK_HEAD_OF_QUEUE = 2,
	TT_TASK_ACA = 4,
};

struct tt_scsi_task;
typedef void (*tt_scsi_done_fn)(struct tt_scsi_task *task);

/* Data transfer the CDB implies, as the core decoded it. */
enum tt_scsi_xfer {
	TT_SCSI_XFER_NONE = 0,
	TT_SCSI_XFER_IN,    /* Data-In: the core fills buf, data_len tells how much */
	TT_SCSI_XFER_OUT,   /* Data-Out: the core consumes buf */
};

/*
 * Lifecycle of a task inside the core (tt_scsi_task.state), changed only by the core's
 * tt_task_set_state(), which refuses any other edge:
 *   IDLE -> ACTIVE (tt_scsi_exec) -> [ACTIVE -> BACKEND -> ACTIVE] (a backend I/O is outstanding)
 *   -> COMPLETING (status set, done() queued) -> IDLE (done() called).
 * Task management may look at it to know whether a task still has I/O in a backend.
 */
enum tt_task_state {
	TT_TASK_IDLE = 0,
	TT_TASK_ACTIVE,
	TT_TASK_BACKEND,
	TT_TASK_COMPLETING,
};

/* "idle", "active", "backend", "completing"; "?" for another value. */
const char *tt_task_state_name(enum tt_task_state state);

/*
 * One SCSI command. The transport owns the memory; the core borrows it between tt_scsi_exec()
 * and done().
 */
struct tt_scsi_task {
	/* filled by the transport */
	struct tt_lun *lun;              /* NULL when the LUN does not exist for this nexus */
	uint64_t lun_id;                 /* as addressed */
	const struct tt_nexus *nexus;
	uint8_t cdb[260];
	uint16_t cdb_len;
	enum tt_task_attr attr;
	uint64_t tag;                    /* the transport's task tag (ITT) */
	bool dir_read, dir_write;        /* transport's R and W bits */
	uint32_t edtl;                   /* expected data transfer length */
	uint8_t *buf;                    /* edtl bytes: Data-Out received / Data-In to send */
	tt_scsi_done_fn done;
	void *priv;                      /* the transport's */

	/* filled by the core */
	uint8_t status;                  /* TT_SAM_* */
	uint8_t sense[TT_SENSE_MAX];     /* fixed or descriptor format sense data */
	uint8_t sense_len;
	uint32_t data_len;               /* Data-In bytes placed in buf (reads), <= edtl */
	uint32_t cmd_len;                /* bytes the CDB asks to transfer (for residuals) */
	bool aborted;                    /* set by task management; done() still runs */
	uint8_t xfer;                    /* enum tt_scsi_xfer */
	uint64_t done_ns;                /* tt_now_ns() at completion when counting (else 0) */

	/* private to the core */
	struct tt_bdev_io io;
	struct tt_iovec_small { struct iovec v[2]; } iov;
	struct tt_work work;
	struct tt_list lun_node;         /* on the LUN's task list of the executing loop */
	int pending;                     /* backend I/Os outstanding */
	enum tt_task_state state;        /* written by tt_task_set_state only */
	void *bounce;                    /* scratch memory of rare paths, freed at completion */
	void *list;                      /* which LUN task list holds lun_node */
	uint64_t cursor;                 /* commands of several I/Os: next LBA or descriptor */
	uint64_t remaining;              /* commands of several I/Os: blocks or descriptors left */
	uint32_t xfer_bytes;             /* bytes compared (VERIFY) */
	uint8_t bytchk;                  /* VERIFY BYTCHK */
	bool counted;                    /* I/O counters were on at tt_scsi_exec */
	uint64_t start_ns;               /* tt_now_ns() at tt_scsi_exec, when counted */
};

/*
 * I/O counters (docs/stats.md). The core counts every task it completes on a LUN, per LUN, in
 * one block per loop (no lock, no atomic read-modify-write on the data path); the latency is
 * from tt_scsi_exec to done(). A front end counting per nexus classifies its tasks with the
 * same functions, after completion (or after tt_scsi_set_sense for a task it fails itself).
 */
/* enum tt_io_op of the task's operation code. */
unsigned tt_scsi_io_op(const struct tt_scsi_task *task);
/* enum tt_io_err of the task's status and sense key, or TT_IO_ERR_NONE (GOOD, CONDITION MET). */
int tt_scsi_io_err(const struct tt_scsi_task *task);
/* Bytes read (a read: data_len) or written (a write that ended GOOD: the transfer length). */
uint64_t tt_scsi_io_bytes(const struct tt_scsi_task *task);
/* Adds the counters of @lun (every loop's block) to @sum. Any thread, with a reference. */
void tt_lun_iostat(struct tt_lun *lun, struct tt_iostat *sum);

/*
 * Residual for the transport's response (iSCSI, FCP): returns the byte count and sets *@overflow
 * (true: the command wanted more than edtl; false: underflow, including 0).
 *   cmd_len > edtl            overflow  cmd_len - edtl
 *   Data-In otherwise         underflow edtl - data_len
 *   Data-Out / none otherwise underflow edtl - cmd_len
 */
uint32_t tt_scsi_task_residual(const struct tt_scsi_task *task, bool *overflow);

/*
 * Calls @fn for each task of @lun that executes on the calling loop (task management walks every
 * loop with tt_loop_send). @fn may set task->aborted; it must not complete or free the task.
 */
void tt_lun_for_each_task(struct tt_lun *lun, void (*fn)(struct tt_scsi_task *task, void *arg),
			  void *arg);

/*
 * Executes @task; call it on a loop thread. done() runs later on that loop's thread (never inside
 * tt_scsi_exec), with status, sense, data_len and cmd_len set. Data-Out must be in task->buf
 * before the call. A task is reusable once done() ran; executing one still inside the core
 * (state not IDLE) is refused with an error logged, and nothing else happens. Data-In goes into
 * buf only when dir_read is set (or neither R nor W is), Data-Out is taken from buf only when
 * dir_write is set (or neither is); a READ flagged as a write by the initiator transfers nothing
 * and ends GOOD.
 * Tasks to different blocks run concurrently: the data path takes no lock.
 */
void tt_scsi_exec(struct tt_scsi_task *task);

/* Sense helpers: CHECK CONDITION with fixed format sense (18 bytes), or descriptor format when the
 * LUN's control mode page has D_SENSE set. */
void tt_scsi_set_sense(struct tt_scsi_task *task, uint8_t key, uint8_t asc, uint8_t ascq);
/* Same, with the INFORMATION field (VALID bit set). */
void tt_scsi_set_sense_info(struct tt_scsi_task *task, uint8_t key, uint8_t asc, uint8_t ascq,
			    uint64_t info);
void tt_scsi_task_good(struct tt_scsi_task *task);

/* Sense keys */
#define TT_SK_NO_SENSE        0x0
#define TT_SK_RECOVERED_ERROR 0x1
#define TT_SK_NOT_READY       0x2
#define TT_SK_MEDIUM_ERROR    0x3
#define TT_SK_HARDWARE_ERROR  0x4
#define TT_SK_ILLEGAL_REQUEST 0x5
#define TT_SK_UNIT_ATTENTION  0x6
#define TT_SK_DATA_PROTECT    0x7
#define TT_SK_ABORTED_COMMAND 0xb
#define TT_SK_MISCOMPARE      0xe

#endif
