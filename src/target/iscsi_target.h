/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The iSCSI target core: connections, sessions and tasks (RFC 7143), between the transports
 * (src/xport) and the SCSI core (src/scsi).
 *
 * Threads: a connection belongs to one event loop; a session belongs to the loop of its
 * connections (all connections of a session run on one loop). Other loops reach a session only
 * by tt_loop_send().
 */
#ifndef TT_TARGET_ISCSI_TARGET_H
#define TT_TARGET_ISCSI_TARGET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/list.h"
#include "base/loop.h"
#include "iscsi/chap.h"
#include "iscsi/params.h"
#include "iscsi/pdu.h"
#include "iscsi/text.h"
#include "scsi/scsi.h"
#include "target/model.h"
#include "xport/listener.h"
#include "xport/xport.h"

struct tt_session;
struct tt_tmf_wait;
struct tt_text_exchange;

/* ---- connection -------------------------------------------------------------------------- */

/*
 * Connection lifecycle; tt_conn_set_state() is the only writer.
 *
 *   FREE -> XPT_UP -> IN_LOGIN -> LOGGED_IN -> IN_LOGOUT -> CLEANUP -> (released)
 *                        |            |            |
 *                        +------------+------------+--> CLEANUP   (failure, reap, reinstatement)
 *
 *   XPT_UP     accepted, nothing received yet (login timer running)
 *   IN_LOGIN   login PDUs being exchanged (login timer running)
 *   LOGGED_IN  full feature phase (NOP-In keepalive running)
 *   IN_LOGOUT  logout response queued; the connection closes when it has been sent
 *   CLEANUP    transport shut down; waiting for every reference to go (tasks in the SCSI core
 *              or a backend, PDUs in the transport)
 */
enum tt_conn_state {
	TT_CONN_FREE,
	TT_CONN_XPT_UP,
	TT_CONN_IN_LOGIN,
	TT_CONN_LOGGED_IN,
	TT_CONN_IN_LOGOUT,
	TT_CONN_CLEANUP,
	TT_CONN_STATE_COUNT,
};

struct tt_login; /* login-phase state, freed when the login ends */

/*
 * References (refs) and who holds them:
 *   - the transport, from tt_conn_init() until tt_conn_xport_closed();
 *   - the session binding, from login success until the connection leaves the session;
 *   - every task issued on the connection, from its creation until it is freed (a task inside
 *     the SCSI core or a backend I/O therefore keeps its connection);
 *   - the login in progress (struct tt_login), from the first login PDU to its end;
 *   - messages in flight to other loops (reinstatement), until they come back.
 * The connection is released (ops->release) when refs reaches zero, from deferred work on its
 * own loop, never from inside a callback that the release would invalidate.
 */
struct tt_conn {
	struct tt_xconn *xc;          /* the transport's connection (released after this one) */
	struct tt_loop *loop;         /* xc->loop */
	uint64_t id;                  /* xc->id: unique, for logs */
	const char *peer, *local;     /* xc's "addr:port" texts */
	/* chosen at login, from the TargetName and the listener the connection came in on */
	struct tt_portal *portal;     /* the TPG's portal on that listener (lives with its TPG) */
	struct tt_tpg *tpg;           /* NULL before, and for discovery */
	struct tt_target *target;     /* a reference: the TPG's target */
	uint16_t tpgt;

	enum tt_conn_state state;
	int refs;
	struct tt_work release_work;

	struct tt_session *sess;
	struct tt_list sess_node;     /* in sess->conns */
	uint16_t cid;
	uint32_t stat_sn;             /* next StatSN */
	uint32_t exp_stat_sn;         /* from the initiator */
	struct tt_params params;      /* negotiated (connection and, copied, session values) */
	struct tt_login *login;

	struct tt_list tasks;         /* tasks issued on this connection (task->conn_node) */
	unsigned ntasks;

	/* keepalive */
	struct tt_timer nop_timer;    /* interval: send a NOP-In; then timeout: reap */
	bool nop_outstanding;
	uint32_t nop_ttt;
	uint64_t nop_sent_ns;
	struct tt_text_exchange *text; /* a Text exchange spanning several PDUs */
	uint64_t last_rx_ns;
	struct tt_timer login_timer;

	/* the PDU being received (owned by the transport while it fills it) */
	uint64_t rx_pdus, tx_pdus;
	bool logout_after_send;       /* close once the queued logout response has gone */
	/* what the connection holds of the limits (limits.h) */
	bool lim_admitted;            /* one of max_connections, until released */
	bool lim_prelogin;            /* a pre-login place of its address, until login or cleanup */
	bool lim_initiator;           /* one of its initiator's connections, until cleanup */
	bool async_logout_sent;
};

/* The entry points of the iSCSI target for its transports (given to every listener). */
extern const struct tt_xport_core tt_iscsi_core;
/* Joins the connection to the TPG @g of its target (login); takes a target reference. */
void tt_conn_bind_tpg(struct tt_conn *conn, struct tt_tpg *g, struct tt_portal *p);
void tt_conn_get(struct tt_conn *conn);
void tt_conn_put(struct tt_conn *conn);
int tt_conn_set_state(struct tt_conn *conn, enum tt_conn_state to);
const char *tt_conn_state_name(enum tt_conn_state s);
/* Tear the connection down now (does not wait for the peer); @why is logged. */
void tt_conn_fail(struct tt_conn *conn, const char *why);
/* Queue a PDU on the connection, filling StatSN/ExpCmdSN/MaxCmdSN for target PDUs that carry
 * them. Frees the PDU on error. */
int tt_conn_send(struct tt_conn *conn, struct tt_pdu *pdu);
/* Send a Reject for @hdr (the rejected BHS) with @reason. */
int tt_conn_reject(struct tt_conn *conn, const struct tt_bhs *hdr, uint8_t reason);
/* Fill the ExpCmdSN/MaxCmdSN fields (at byte offsets 28/32 of most target PDUs). */
void tt_conn_fill_sn(struct tt_conn *conn, struct tt_pdu *pdu, bool statsn);
/* Send an Async Message asking the initiator to log out within @secs. */
int tt_conn_request_logout(struct tt_conn *conn, unsigned secs);

/* ---- session ----------------------------------------------------------------------------- */

/*
 * Session lifecycle; tt_session_set_state() is the only writer.
 *
 *   LOGGING_IN -> ACTIVE -> ENDING -> (freed)
 *        |                    ^
 *        +--------------------+
 *
 *   LOGGING_IN  the leading login has not completed
 *   ACTIVE      in full feature phase with at least one connection
 *   ENDING      logged out, failed, or reinstated: connections are shut down, tasks aborted;
 *               the session is freed when its last connection and task are gone, and then
 *               whoever waits for it (a reinstating login) is told
 */
enum tt_session_state {
	TT_SESS_LOGGING_IN,
	TT_SESS_ACTIVE,
	TT_SESS_ENDING,
	TT_SESS_STATE_COUNT,
};

struct tt_session_waiter {
	struct tt_list node;
	struct tt_loop *loop;
	void (*fn)(void *arg);
	void *arg;
};

/*
 * References and holders: the model's session list (from login success to the end of ENDING),
 * each connection bound to the session, each task alive in it. Freed on its loop when refs
 * reaches zero.
 */
struct tt_session {
	struct tt_list model_node;    /* in target->sessions or the discovery list (model lock) */
	struct tt_loop *loop;
	struct tt_target *target;     /* NULL for discovery; a reference */
	struct tt_tpg *tpg;
	uint16_t tpgt;
	uint64_t id;
	uint16_t tsih;
	uint8_t isid[6];
	char initiator[TT_ISCSI_NAME_MAX + 1];
	bool discovery;
	/* the login authenticated with CHAP, with the credentials of this fingerprint: SendTargets
	 * lists the TPGs that require CHAP only to such a session (and only those whose ACL for the
	 * initiator has the same credentials) */
	bool chap_authenticated;
	uint8_t chap_print[TT_CHAP_PRINT_LEN];
	enum tt_session_state state;
	int refs;
	struct tt_params params;      /* session-wide values */

	struct tt_list conns;
	unsigned nconns;

	/* command window: MaxCmdSN advances when a command's status goes, so that the window
	 * (queue_depth, global.cmd_window when the session was made) bounds the commands
	 * outstanding, not only their numbers */
	uint32_t exp_cmd_sn;
	uint32_t max_cmd_sn;
	unsigned queue_depth;
	unsigned immediate_tasks;     /* immediate commands outstanding (bounded by the window too) */
	uint64_t buf_held;            /* bytes of command buffers its tasks hold (limits.h) */
	struct tt_list pending;       /* out-of-order commands waiting for ExpCmdSN */
	unsigned npending;

	struct tt_nexus nexus;
	struct tt_lun **luns;         /* the LUNs this session maps (references), by index */
	uint64_t *lun_ids;
	unsigned nluns;

	uint64_t commands;
	struct tt_iostat io;          /* I/O counters: written on the session's loop only */
	struct tt_work order_work;    /* runs held requests once they are in order */
	struct tt_list waiters;       /* told when the session is freed */
	bool abandoned;               /* ended, but backend I/O outlived the drain bound */
	struct tt_timer drain_timer;  /* bounds the wait for backend I/O while ENDING */
};

int tt_session_set_state(struct tt_session *s, enum tt_session_state to);
const char *tt_session_state_name(enum tt_session_state s);
void tt_session_get(struct tt_session *s);
void tt_session_put(struct tt_session *s);
/* Ends the session (on its loop): connections shut down, tasks aborted; @why is logged. */
void tt_session_end(struct tt_session *s, const char *why);
/* The LUN addressed as @id for this session, or NULL (no reference taken: the session holds one). */
struct tt_lun *tt_session_lun(struct tt_session *s, uint64_t id);

/* Allocates the next TSIH (never 0). */
uint16_t tt_tsih_next(void);

/* ---- task -------------------------------------------------------------------------------- */

/*
 * Task lifecycle (state written only by tt_itask_set_state):
 *   NEW -> DATA_OUT -> WAIT_ORDER -> EXEC -> RESPOND -> DONE
 *   NEW: command received; DATA_OUT: waiting for write data; WAIT_ORDER: waiting for its CmdSN
 *   turn; EXEC: inside the SCSI core (and maybe a backend); RESPOND: Data-In/status queued on
 *   the transport; DONE: nothing left (freed when the last reference goes).
 * References: the connection's task list (until DONE or abort), the SCSI core while EXEC, every
 * PDU that points into the buffer (Data-In, R2T) until the transport is done with it. A task in
 * turn holds its connection and its session, so neither is freed under a backend I/O.
 */
enum tt_itask_state {
	TT_ITASK_NEW,
	TT_ITASK_DATA_OUT,
	TT_ITASK_WAIT_ORDER,
	TT_ITASK_EXEC,
	TT_ITASK_RESPOND,
	TT_ITASK_DONE,
	TT_ITASK_STATE_COUNT,
};

struct tt_task {
	struct tt_scsi_task scsi;     /* first: the SCSI core's view */
	struct tt_xtask x;            /* the transport's view: tags, buffer, Data-In/R2T numbers */
	struct tt_pdu_ref pdu_ref;    /* what a PDU pointing into the buffer holds (one of refs) */
	struct tt_conn *conn;         /* a reference */
	struct tt_session *sess;      /* a reference: a session outlives its tasks */
	struct tt_list conn_node;     /* in conn->tasks */
	struct tt_list order_node;    /* in sess->pending */
	enum tt_itask_state state;
	int refs;
	uint32_t cmd_sn;
	bool immediate;
	bool window_slot;             /* holds a place in the command window until its status */
	bool imm_slot;                /* an immediate command counted in sess->immediate_tasks */
	uint8_t refused_status;       /* TASK SET FULL or BUSY: no buffer (limits.h) */
	uint32_t buf_charged;         /* bytes charged to the session's and the daemon's buffers */
	bool counted;                 /* I/O counters were on when the command came */
	uint64_t start_ns;            /* when the command came (tt_now_ns), if counted */

	/* write data bookkeeping (the solicited window is in x) */
	uint32_t data_received;       /* bytes of Data-Out/immediate data placed so far */
	uint32_t unsolicited_left;    /* unsolicited bytes still expected (FirstBurst) */
	uint32_t exp_data_sn;         /* next DataSN expected in the current sequence */
	bool aborted;
	bool status_sent;
	bool dispatched;              /* its CmdSN turn has come */
	bool data_error;              /* a Data-Out broke the sequence: fail the command */
	bool unsol_ended;             /* no more unsolicited Data-Out (final one came, or command F) */
	struct tt_tmf_wait *tmf_wait; /* a task management response waiting for this task */
};

int tt_itask_set_state(struct tt_task *task, enum tt_itask_state to);
void tt_task_get(struct tt_task *task);
void tt_task_put(struct tt_task *task);
/* True when the task's status can ride in its last Data-In PDU (GOOD, no sense). */
bool tt_task_status_collapsible(const struct tt_task *task);
/* Build the SCSI Response PDU (status, sense, residuals). NULL when out of memory. */
struct tt_pdu *tt_task_build_response(struct tt_task *task);

/* ---- target-wide -------------------------------------------------------------------------- */
int tt_iscsi_target_init(void);
void tt_iscsi_target_fini(void);
/* Ends every session of @t (target or LUN removal): Async logout request first when @graceful. */
void tt_target_end_sessions(struct tt_target *t, bool graceful, const char *why);
/* Likewise for the sessions of @t whose initiator is @initiator only. */
void tt_target_end_initiator_sessions(struct tt_target *t, const char *initiator, bool graceful,
				      const char *why);
/*
 * Shutdown: with @graceful, asks every initiator to log out (Async Message), waits for sessions
 * to end (at most @timeout_ms), then ends whatever is left; calls @done on loop 0 when no
 * session and no connection remains. Call on loop 0.
 */
void tt_iscsi_shutdown(bool graceful, unsigned timeout_ms, void (*done)(void *arg), void *arg);
/* Number of live connections (all loops), for shutdown and tests. */
unsigned tt_iscsi_conn_count(void);

#endif
