/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The target's configuration objects: targets, target portal groups (TPGs), portals, LUNs and
 * ACLs. They are created from the configuration file at start and changed at run time through
 * the control socket; both go through the functions below, which run on loop 0 (the control
 * loop). Data-path threads read the objects under tt_model_lock() only at login time; sessions
 * keep their own references to what they use (LUNs).
 */
#ifndef TT_TARGET_MODEL_H
#define TT_TARGET_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/list.h"
#include "base/loop.h"
#include "scsi/scsi.h"
#include "xport/listener.h"

#include "iscsi/params.h" /* TT_ISCSI_NAME_MAX */
#define TT_DEFAULT_TARGET "iqn.2026-11.org.tether:default"

/* Negotiation limits and preferences of a TPG (RFC 7143 keys as the target offers them). */
struct tt_tpg_params {
	uint32_t max_recv_dsl;       /* MaxRecvDataSegmentLength we declare, default 262144 */
	uint32_t max_burst;          /* default 1048576 */
	uint32_t first_burst;        /* default 262144 */
	bool immediate_data;         /* default true */
	bool initial_r2t;            /* default false: we accept unsolicited data */
	uint32_t max_outstanding_r2t;/* default 1 */
	uint32_t max_connections;    /* default 1 */
	uint8_t max_erl;             /* default 0 */
	bool header_digest;          /* accept CRC32C header digests (default true, "CRC32C,None") */
	bool data_digest;            /* likewise for data */
	uint32_t time2wait, time2retain; /* default 2, 20 */
};

/* CHAP credentials of an ACL (the wire-level type is struct tt_chap_cred in iscsi/chap.h). */
struct tt_acl_chap {
	char user[256];
	char secret[256];
	char mutual_user[256];  /* empty: no mutual CHAP */
	char mutual_secret[256];
};

/*
 * A portal: an address a TPG is reachable at. The listening itself is the shared listener's
 * (xport/listener.h), which every TPG naming the same address uses; its state (binding,
 * listening, failed) is the portal's.
 */
struct tt_portal {
	struct tt_list node;           /* in tpg->portals */
	struct tt_tpg *tpg;
	char addr_str[TT_PORTAL_ADDR_MAX]; /* canonical: "127.0.0.1:3260", "[::1]:3260" */
	struct tt_portal_addr addr;
	struct tt_listener *listener;  /* one of its users while in the TPG; NULL once removed */
};

struct tt_tpg {
	struct tt_list node;           /* in target->tpgs */
	struct tt_target *target;
	uint16_t tag;                  /* TargetPortalGroupTag, >= 1 */
	struct tt_list portals;
	struct tt_scsi_port scsi_port;
	bool allow_any_initiator;      /* no ACL needed (default true when the target has no ACL) */
	bool chap_required;            /* "auth": "chap" */
	uint32_t nop_interval_ms;      /* NOP-In keepalive interval, 0 = off (default 5000) */
	uint32_t nop_timeout_ms;       /* default 5000 */
	uint32_t login_timeout_ms;     /* default 15000 */
	struct tt_tpg_params params;
};

struct tt_acl {
	struct tt_list node;           /* in target->acls */
	char initiator[TT_ISCSI_NAME_MAX + 1];
	struct tt_acl_chap chap;      /* user empty: no CHAP for this initiator */
};

struct tt_target_lun {
	struct tt_list node;           /* in target->luns, sorted by id */
	uint64_t id;
	struct tt_lun *lun;            /* reference held by this map entry */
	char backend[512];             /* the spec, for saving */
	struct tt_lun_opts opts;
	char vendor[9], product[17], serial[64];
	char *pr_file;                 /* opts.pr_file: APTPL state file (malloc'd), or NULL */
};

struct tt_target {
	struct tt_list node;           /* in the model's target list */
	char name[TT_ISCSI_NAME_MAX + 1];
	char alias[256];
	struct tt_list tpgs;
	struct tt_list luns;
	struct tt_list acls;
	struct tt_list sessions;       /* struct tt_session, under tt_model_lock */
	int refs;                      /* the model + each session */
	bool deleted;
};

/* Global lock for the model; taken by the control loop when it changes things and by logins
 * when they look things up. Never held across I/O. */
void tt_model_lock(void);
void tt_model_unlock(void);

/* All functions below: call on loop 0 without the lock held; return 0 or -errno and, on error,
 * fill @err (may be NULL) with a message that names the object and the problem. */
int tt_target_create(const char *name, const char *alias, struct tt_target **out,
		     char *err, size_t errlen);
int tt_target_delete(const char *name, char *err, size_t errlen);
struct tt_target *tt_target_find(const char *name); /* caller holds tt_model_lock */

void tt_tpg_params_default(struct tt_tpg_params *p);
/* Creates a TPG with defaults; change its fields before adding portals. */
int tt_tpg_create(struct tt_target *t, uint16_t tag, struct tt_tpg **out, char *err, size_t errlen);
struct tt_tpg *tt_tpg_find(struct tt_target *t, uint16_t tag);
int tt_tpg_delete(struct tt_target *t, uint16_t tag, char *err, size_t errlen);

/*
 * ALUA access state of TPG @tag (its target port group, SPC-4 5.16): every LUN of @t then gets
 * ASYMMETRIC ACCESS STATE CHANGED for every nexus (nothing when the state does not change).
 */
int tt_tpg_set_alua(struct tt_target *t, uint16_t tag, enum tt_alua_state state,
		    char *err, size_t errlen);
enum tt_alua_state tt_tpg_alua_state(const struct tt_tpg *g);
/* Whether hosts may change the TPG's ALUA state with SET TARGET PORT GROUPS (scsi.h). */
int tt_tpg_set_alua_explicit(struct tt_target *t, uint16_t tag, bool allowed, char *err,
			     size_t errlen);
bool tt_tpg_alua_explicit(const struct tt_tpg *g);

/* "[iscsi://]ADDR[:PORT]", "[V6ADDR]:PORT" or "ADDR" (port 3260): joins (or starts) the shared
 * listener of that address. A target has at most one TPG on an address; other targets may share
 * it. */
int tt_portal_add(struct tt_tpg *tpg, const char *addr, struct tt_portal **out,
		  char *err, size_t errlen);
int tt_portal_remove(struct tt_tpg *tpg, const char *addr, char *err, size_t errlen);
/* The portal's listener state ("binding", "listening", "failed") and its last error (-errno). */
const char *tt_portal_state(const struct tt_portal *p);
bool tt_portal_listening(const struct tt_portal *p);
int tt_portal_error(const struct tt_portal *p);

/*
 * The directory of the LUNs' persistent reservation state files (APTPL): a LUN added later gets
 * DIR/<target name, ':' as '_'>-lun<ID>.pr (unless its options name a file), restored at creation
 * and rewritten while APTPL is on. @dir is created (mode 0700) when missing and must be writable;
 * NULL: none (APTPL is refused). LUNs that exist keep their file. 0 or -errno with @err set.
 */
int tt_model_set_state_dir(const char *dir, char *err, size_t errlen);
const char *tt_model_state_dir(void); /* NULL when none */

/* Opens the backend @spec and maps it as LUN @id (see tt_model_set_state_dir for pr_file). */
int tt_target_lun_add(struct tt_target *t, uint64_t id, const char *backend,
		      const struct tt_lun_opts *opts, char *err, size_t errlen);
int tt_target_lun_remove(struct tt_target *t, uint64_t id, char *err, size_t errlen);
/*
 * tt_target_lun_add in two steps, so that a backend is opened before anything else changes:
 * prepare opens @backend and builds the map entry of LUN @id for the target named @target_name
 * (which need not exist yet) without touching the model; insert maps it into @t (-EEXIST when
 * the id is taken; the entry is still the caller's then); discard frees an entry not inserted.
 */
int tt_target_lun_prepare(const char *target_name, uint64_t id, const char *backend,
			  const struct tt_lun_opts *opts, struct tt_target_lun **out,
			  char *err, size_t errlen);
int tt_target_lun_insert(struct tt_target *t, struct tt_target_lun *tl, char *err, size_t errlen);
void tt_target_lun_discard(struct tt_target_lun *tl);
/* Takes a reference on the LUN (NULL if absent); caller holds tt_model_lock. */
struct tt_lun *tt_target_lun_get(struct tt_target *t, uint64_t id);

int tt_acl_add(struct tt_target *t, const char *initiator, const struct tt_acl_chap *chap,
	       char *err, size_t errlen);
int tt_acl_remove(struct tt_target *t, const char *initiator, char *err, size_t errlen);
struct tt_acl *tt_acl_find(struct tt_target *t, const char *initiator);
/* An ACL's initiator is an iSCSI name or an SRP initiator port identifier, "0x" and 32
 * lowercase hex digits (the SCSI core's SRP initiator port name). */
bool tt_acl_srp_port_form(const char *name);
/* May @initiator log in through @g: the TPG allows any initiator or the target has its ACL.
 * Caller holds tt_model_lock. */
bool tt_tpg_initiator_allowed(const struct tt_tpg *g, const char *initiator);

/* Iteration over every target (caller holds tt_model_lock). */
struct tt_list *tt_model_targets(void);

/* A snapshot of the sessions and connections, for the control socket. */
struct tt_conn_info {
	uint16_t cid;
	char peer[80];
	char local[80];
	const char *state;       /* connection state name */
	unsigned loop;           /* index of the owning event loop */
};

struct tt_session_info {
	uint64_t id;             /* unique session id */
	uint16_t tsih;
	char initiator[TT_ISCSI_NAME_MAX + 1];
	char isid[16];           /* 12 hex digits */
	char target[TT_ISCSI_NAME_MAX + 1]; /* empty for discovery sessions */
	uint16_t tpgt;
	bool discovery;
	const char *state;       /* session state name */
	uint64_t commands;       /* SCSI commands received */
	unsigned nconns;
	struct tt_conn_info conns[8];
};

/* Allocates an array of every session; the caller frees it. Returns 0 or -errno. */
int tt_sessions_snapshot(struct tt_session_info **out, size_t *count);

/* Ends every session and frees every object (shutdown). */
void tt_model_clear(void);

/* Target references (see the holders at struct tt_target): a session takes one at login and
 * drops it when it is freed. Any thread; the target is freed at the last put, once deleted. */
void tt_target_get(struct tt_target *t);
void tt_target_put(struct tt_target *t);

#endif
