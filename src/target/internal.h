/* SPDX-License-Identifier: BSD-3-Clause */
/* Functions shared by the files of the iSCSI target core; not for other layers. */
#ifndef TT_TARGET_INTERNAL_H
#define TT_TARGET_INTERNAL_H

#include "target/iscsi_target.h"

#define TT_CMD_WINDOW 128          /* global.cmd_window's default (limits.h) */
#define TT_MAX_EDTL (64u << 20)    /* largest transfer one command may ask for */
#define TT_LOGIN_MAX_DSL 8192      /* data segment limit before MaxRecvDataSegmentLength applies */
#define TT_DRAIN_TIMEOUT_MS 10000  /* how long an ending session waits for backend I/O */
#define TT_LOGIN_TIMEOUT_MS 15000  /* a listener no TPG uses any more */

/* login.c */
int tt_login_rx_header(struct tt_conn *conn, struct tt_pdu *pdu);
void tt_login_rx(struct tt_conn *conn, struct tt_pdu *pdu);
void tt_login_free(struct tt_conn *conn);
/* The old session that a login waits for has gone (runs on the login's loop). */
void tt_login_reinstate_done(void *arg);

/* The negotiation policy of the connection's TPG; @hd/@dd hold the digest lists (>= 16 bytes). */
void tt_conn_policy(struct tt_conn *conn, struct tt_params_policy *pol, char *hd, char *dd);

/* text.c: Text requests in full feature phase (SendTargets, renegotiation). */
void tt_text_rx(struct tt_conn *conn, struct tt_pdu *pdu);
void tt_text_exchange_free(struct tt_conn *conn);
/* Appends TargetName/TargetAddress pairs for SendTargets=@which ("All", a name, or ""). */
int tt_sendtargets(struct tt_conn *conn, const char *which, struct tt_text_out *out);

/* cmd.c: SCSI commands and their data. */
int tt_cmd_rx_header(struct tt_conn *conn, struct tt_pdu *pdu);
void tt_cmd_rx(struct tt_conn *conn, struct tt_pdu *pdu);
int tt_data_out_rx_header(struct tt_conn *conn, struct tt_pdu *pdu);
void tt_data_out_rx(struct tt_conn *conn, struct tt_pdu *pdu, bool digest_ok);
/* Aborts the task: no response will be sent; it is freed when the SCSI core lets go. */
void tt_task_abort(struct tt_task *task);
struct tt_task *tt_task_find(struct tt_conn *conn, uint32_t itt);
/* The core's side of the transport contract (struct tt_xport_core). */
struct tt_pdu *tt_task_build_data_in(struct tt_xtask *x, uint32_t offset, uint32_t len,
				     bool final, bool status);
struct tt_pdu *tt_task_build_r2t(struct tt_xtask *x, uint32_t offset, uint32_t len);
void tt_task_data_in_queued(struct tt_xtask *x, bool status_sent);
void tt_task_data_out_done(struct tt_xtask *x, int err);
void tt_xtask_get(struct tt_xtask *x);
void tt_xtask_put(struct tt_xtask *x);
/* Frees a task's resources; only from tt_task_put. */
void tt_task_free(struct tt_task *task);

/* tmf.c */
void tt_tmf_rx(struct tt_conn *conn, struct tt_pdu *pdu);
/* The tasks of nexus @nexus_id on @lun go (PREEMPT AND ABORT): tt_iscsi_scsi_fe.abort_nexus. */
int tt_tmf_abort_nexus(struct tt_lun *lun, uint64_t nexus_id);
/* A LOGICAL UNIT RESET from another front end: every iSCSI session's tasks on @lun go. */
void tt_tmf_abort_lun(struct tt_lun *lun);
/* model.c: what the SCSI core asks of the iSCSI target; every port and nexus points to it. */
extern const struct tt_scsi_frontend tt_iscsi_scsi_fe;
/* A task that a TMF waits for has finished (runs on its loop). */
void tt_tmf_task_gone(struct tt_task *task);

/* nop.c / logout.c */
void tt_nop_rx(struct tt_conn *conn, struct tt_pdu *pdu);
void tt_nop_start(struct tt_conn *conn);
void tt_logout_rx(struct tt_conn *conn, struct tt_pdu *pdu);

/* session.c */
/* Window check for a non-immediate request: 0 = process now (ExpCmdSN has advanced, held
 * requests that are now in order will run from deferred work), 1 = held until its turn (the PDU
 * now belongs to the session), -1 = outside the window (drop silently). */
int tt_session_order(struct tt_session *s, struct tt_conn *conn, struct tt_pdu *pdu);
/* Looks for an existing session for reinstatement / connection addition (model lock held). */
struct tt_session *tt_session_find(struct tt_target *t, const char *initiator,
				   const uint8_t isid[6], uint16_t tpgt, bool discovery);
struct tt_session *tt_session_find_tsih(struct tt_target *t, uint16_t tsih);
int tt_session_create(struct tt_conn *conn, struct tt_target *t, bool discovery,
		      const uint8_t isid[6], uint16_t tsih, struct tt_session **out);
/* Binds @conn to @s (login complete). */
void tt_session_add_conn(struct tt_session *s, struct tt_conn *conn);
/* Unbinds @conn (connection cleanup); ends the session when it was the last (ERL 0). */
void tt_session_del_conn(struct tt_session *s, struct tt_conn *conn);
/* From any loop: end @s on its loop and call fn(arg) on @loop once it is freed. */
void tt_session_end_and_wait(struct tt_session *s, struct tt_loop *loop, void (*fn)(void *),
			     void *arg);
/* The command's status is going (or it was aborted): its place in the window is free. */
void tt_task_window_release(struct tt_task *task);
/* Runs a request that was held for ordering. */
void tt_conn_dispatch(struct tt_conn *conn, struct tt_pdu *pdu);

/* conn.c */
void tt_conn_close_after(struct tt_pdu *pdu); /* a PDU's sent hook: close once it has gone */

#endif
