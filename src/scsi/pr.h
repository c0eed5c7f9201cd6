/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reservations of a logical unit: persistent reservations (SPC-4 5.13, PERSISTENT RESERVE IN/OUT
 * 6.15-6.16) and the older RESERVE/RELEASE (6)/(10) reservations (SPC-2 5.5, 7.21-7.24), the
 * RESERVATION CONFLICT check every command goes through, and the APTPL state file (pr_store.c).
 * All state lives in lun->state->pr under lun->lock.
 */
#ifndef TT_SCSI_PR_H
#define TT_SCSI_PR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bdev/bdev.h"
#include "scsi/core.h"
#include "scsi/proto.h"

/* Operation codes of the SPC-2 reservations (not in SPC-4's command set). */
enum tt_pr_opcode {
	TT_PR_OP_RESERVE_6 = 0x16,
	TT_PR_OP_RELEASE_6 = 0x17,
	TT_PR_OP_RESERVE_10 = 0x56,
	TT_PR_OP_RELEASE_10 = 0x57,
};

/* PERSISTENT RESERVE IN service actions */
enum tt_prin_sa {
	TT_PRIN_READ_KEYS = 0x00,
	TT_PRIN_READ_RESERVATION = 0x01,
	TT_PRIN_REPORT_CAPABILITIES = 0x02,
	TT_PRIN_READ_FULL_STATUS = 0x03,
};

/* PERSISTENT RESERVE OUT service actions */
enum tt_prout_sa {
	TT_PROUT_REGISTER = 0x00,
	TT_PROUT_RESERVE = 0x01,
	TT_PROUT_RELEASE = 0x02,
	TT_PROUT_CLEAR = 0x03,
	TT_PROUT_PREEMPT = 0x04,
	TT_PROUT_PREEMPT_AND_ABORT = 0x05,
	TT_PROUT_REGISTER_AND_IGNORE = 0x06,
	TT_PROUT_REGISTER_AND_MOVE = 0x07,
};

/* Persistent reservation types (TYPE field); TT_PR_NONE: no persistent reservation. */
enum tt_pr_type {
	TT_PR_NONE = 0x0,
	TT_PR_WE = 0x1,     /* Write Exclusive */
	TT_PR_EA = 0x3,     /* Exclusive Access */
	TT_PR_WE_RO = 0x5,  /* Write Exclusive - Registrants Only */
	TT_PR_EA_RO = 0x6,  /* Exclusive Access - Registrants Only */
	TT_PR_WE_AR = 0x7,  /* Write Exclusive - All Registrants */
	TT_PR_EA_AR = 0x8,  /* Exclusive Access - All Registrants */
};

static inline bool tt_pr_type_valid(unsigned type)
{
	return type == TT_PR_WE || type == TT_PR_EA || (type >= TT_PR_WE_RO && type <= TT_PR_EA_AR);
}
/* All registrants types: every registered I_T nexus holds the reservation. */
static inline bool tt_pr_type_all_reg(unsigned type)
{
	return type == TT_PR_WE_AR || type == TT_PR_EA_AR;
}

/* struct tt_pr_id, the identity of an initiator port x target port: scsi/proto.h */

/* One registration (a reservation key of one I_T nexus, or of a set of them). */
struct tt_pr_reg {
	struct tt_list node;    /* on tt_pr.regs */
	struct tt_pr_id id;
	uint64_t key;           /* never 0 */
};

/* An I_T nexus that sees the LUN (between tt_lun_nexus_add and tt_lun_nexus_del). */
struct tt_pr_nexus {
	struct tt_list node;    /* on tt_pr.nexuses */
	uint64_t nexus_id;      /* tt_nexus.id */
	const struct tt_scsi_frontend *fe;  /* its front end: aborts go through it */
	struct tt_pr_id id;
};

#define TT_PR_MAX_REGS 4096

struct tt_pr {
	/* under lun->lock */
	struct tt_list regs;         /* struct tt_pr_reg, oldest first */
	unsigned nregs;
	uint32_t generation;         /* PRGENERATION */
	uint8_t type;                /* enum tt_pr_type */
	struct tt_pr_reg *holder;    /* the holder; NULL with no reservation or an all registrants type */
	bool aptpl;                  /* persist through power loss is on */
	char *file;                  /* APTPL state file; NULL: APTPL is refused */
	bool spc2_reserved;          /* a RESERVE (6)/(10) reservation ... */
	uint64_t spc2_holder;        /* ... held by this nexus (tt_nexus.id) */
	struct tt_list nexuses;      /* struct tt_pr_nexus */

	/* written under lun->lock, read without it: a reservation of either kind exists */
	bool active;

	/* Registrations and reservation kept in the medium's shared record (pr_shared.c), for a
	 * medium several hosts serve: the backend that keeps it, or NULL (this host's state). */
	struct tt_bdev *shared;
	uint64_t shared_version;     /* under lun->lock: the record's version the state reflects */
	uint64_t shared_watch;       /* the backend's watch handle */
	uint64_t shared_token;       /* names this LUN in its messages (its own are not replayed) */
	/* written under lun->lock, read without it: the backend's watch broke and the record has
	 * not been read again since (messages may have been missed): the copy is not trusted, the
	 * commands a reservation governs are answered BUSY (tt_pr_conflict) */
	bool shared_stale;
};

/* --- life of the state (lun.c, ua.c) ----------------------------------------------------------- */

/* Creates @lun's state; with @file, restores what an earlier APTPL saved there. 0 or -errno
 * (-EBADMSG: the file is not a state file). */
int tt_pr_init(struct tt_lun *lun, const char *file);
void tt_pr_free(struct tt_lun *lun);
/* Under lun->lock: a nexus appears / goes away (the latter drops its RESERVE (6)/(10)). */
void tt_pr_nexus_add(struct tt_lun *lun, const struct tt_nexus *nexus);
void tt_pr_nexus_del(struct tt_lun *lun, const struct tt_nexus *nexus);

/* --- execution (exec.c) ----------------------------------------------------------------------- */

/* True when @task conflicts with a reservation: it is then answered RESERVATION CONFLICT. */
bool tt_pr_conflict(struct tt_scsi_task *task);

enum tt_exec_rc tt_pr_in(struct tt_scsi_task *task);
enum tt_exec_rc tt_pr_out(struct tt_scsi_task *task);
enum tt_exec_rc tt_pr_reserve(struct tt_scsi_task *task);  /* RESERVE (6)/(10) */
enum tt_exec_rc tt_pr_release(struct tt_scsi_task *task);  /* RELEASE (6)/(10) */

/* Service action tables of PERSISTENT RESERVE IN / OUT (rows of exec.c's command table). */
extern const struct tt_scsi_cmd tt_pr_in_cmds[];
extern const struct tt_scsi_cmd tt_pr_out_cmds[];

/* --- for a front end that keeps another protocol's reservations in the LUN's (NVMe-oF) --------- */

/*
 * Whether a command of @nexus that reads (@write false) or writes the medium may run under the
 * LUN's reservations: 0 it may, 1 RESERVATION CONFLICT, -EBUSY the state is shared and not to
 * be trusted now (retry later). Takes no lock when no reservation exists. Any thread.
 */
int tt_lun_pr_check(struct tt_lun *lun, const struct tt_nexus *nexus, bool write);

struct tt_lun_pr_reg {
	struct tt_pr_id id;
	uint64_t key;
	bool holder;            /* holds the reservation (every registrant under all registrants) */
};

struct tt_lun_pr_status {
	uint32_t generation;    /* PRGENERATION */
	uint8_t type;           /* enum tt_pr_type; TT_PR_NONE without persistent reservation */
	bool aptpl;             /* persist through power loss is on */
	bool aptpl_capable;     /* the LUN keeps a state file or a shared record */
	unsigned nregs;
	struct tt_lun_pr_reg *regs; /* oldest first; malloc'd (NULL when none), the caller frees */
};

/* A copy of the LUN's registrations and reservation: 0 or -ENOMEM. Any thread. */
int tt_lun_pr_status(struct tt_lun *lun, struct tt_lun_pr_status *out);

/* --- shared by pr.c and pr_store.c ----------------------------------------------------------- */

/* Adds a registration (no check of duplicates); NULL when out of memory. */
struct tt_pr_reg *tt_pr_reg_add(struct tt_pr *pr, const struct tt_pr_id *id, uint64_t key);
/* Drops every registration and the persistent reservation (not the SPC-2 one). */
void tt_pr_regs_clear(struct tt_pr *pr);

/*
 * The state file (pr_store.c): a text file, one registration per line. tt_pr_store_format returns
 * @pr's registrations, reservation, generation and APTPL state as a NUL-terminated string
 * (malloc'd; NULL when out of memory); tt_pr_store_parse loads such a string into @pr, whose
 * registrations must be empty (0, -EBADMSG or -ENOMEM).
 */
char *tt_pr_store_format(const struct tt_pr *pr);
int tt_pr_store_parse(struct tt_pr *pr, const char *text);
/* Writes tt_pr_store_format(pr) to pr->file: temporary file, fsync, rename, fsync of the
 * directory. 0 or -errno. */
int tt_pr_store_save(const struct tt_pr *pr);
/* Reads pr->file into @pr (nothing when it does not exist). 0 or -errno. */
int tt_pr_store_load(struct tt_pr *pr);

/*
 * Shared persistent reservations (pr_shared.c). The record holds tt_pr_store_format text; each
 * change is announced to the other hosts with a message:
 *
 *   tether-prn 1
 *   from <token, 16 hex digits>
 *   ev <unit attention, decimal enum tt_ua> <abort 0|1> <relative target port | all> <protocol>
 *      <initiator port>                 (one line each: the registrations the change told)
 *   state
 *   <the new record's text>
 *
 * A host raises each "ev" unit attention (and, with abort, aborts the tasks) for the I_T
 * nexuses it serves that belong to the registration named, then takes the state.
 */
struct tt_pr_event {
	struct tt_pr_id id;   /* the registration's I_T nexuses */
	uint8_t ua;           /* enum tt_ua */
	bool abort;           /* PREEMPT AND ABORT */
};

struct tt_pr_events {
	struct tt_pr_event *v;
	unsigned n, cap;
};

/* Appends one event (0 or -ENOMEM); tt_pr_events_free empties the list. */
int tt_pr_events_add(struct tt_pr_events *ev, const struct tt_pr_id *id, uint8_t ua, bool abort);
void tt_pr_events_free(struct tt_pr_events *ev);
/* The message (NUL terminated, malloc'd; NULL when out of memory or an identity has no text
 * form) and back: @msg (@len bytes) into *@token, @ev (emptied first) and *@state (malloc'd).
 * 0, -EBADMSG or -ENOMEM. */
char *tt_pr_msg_format(uint64_t token, const struct tt_pr_events *ev, const char *state);
int tt_pr_msg_parse(const char *msg, size_t len, uint64_t *token, struct tt_pr_events *ev,
		    char **state);
/*
 * Replaces @pr's registrations, reservation, generation and APTPL flag with those of @text (a
 * record of @len bytes; empty: no registration), if @version is newer than pr->shared_version.
 * 1 when taken, 0 when older, -EBADMSG / -ENOMEM (@pr unchanged).
 */
int tt_pr_shared_take(struct tt_pr *pr, uint64_t version, const char *text, size_t len);
/*
 * Under lun->lock: takes the record read again after the backend's watch was re-established
 * (tt_pr_shared_take) and ends the stale state (not when the record is damaged). The nexuses of
 * pr->nexuses whose initiator port had a registration before and has none after are put in
 * *@gone (malloc'd, *@ngone of them; NULL when none; to free): their registration was taken by
 * another host meanwhile (REGISTRATIONS PREEMPTED). Returns tt_pr_shared_take's result.
 */
int tt_pr_shared_retake(struct tt_pr *pr, uint64_t version, const char *text, size_t len,
			uint64_t **gone, unsigned *ngone);
/* Starts / ends the sharing of @lun's state when its backend offers it (tt_pr_init, tt_pr_free).
 * tt_pr_shared_attach reads the record (waits for the cluster): 0 or -errno. */
int tt_pr_shared_attach(struct tt_lun *lun);
void tt_pr_shared_detach(struct tt_lun *lun);
/* The backend's load and store of the record (bdev.h), for pr.c. */
int tt_pr_shared_load(struct tt_pr *pr, tt_bdev_shared_load_fn done, void *arg);
int tt_pr_shared_store(struct tt_pr *pr, uint64_t version, const char *text, const char *msg,
		       tt_bdev_shared_store_fn done, void *arg);

#endif
