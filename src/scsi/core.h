/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inside the SCSI core: logical unit state, the command table, sense construction and the
 * handlers of each command set. Nothing here is for the transports (they use scsi.h).
 */
#ifndef TT_SCSI_CORE_H
#define TT_SCSI_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "scsi/scsi.h"
#include "scsi/range_lock.h"

#include "tether/version.h"
#define TT_SCSI_REVISION TETHER_REVISION
#define TT_SCSI_VENDOR   "TETHER"

/* IEEE company identifier in the NAA 6 designator (VPD 83h). */
#define TT_SCSI_NAA_COMPANY_ID 0x000000u

/* --- logical unit state ------------------------------------------------------------------------ */

/* What one I_T nexus has pending on one LUN. */
struct tt_lu_nexus {
	struct tt_list node;     /* on tt_lu_state.nexuses */
	uint64_t id;             /* tt_nexus.id */
	uint32_t ua;             /* pending unit attentions: bit mask of enum tt_ua */
	/* the nexus's front end (NULL until tt_lun_nexus_add): one without unit attentions keeps
	 * none pending, its reservation events go to its pr_notice op */
	const struct tt_scsi_frontend *fe;
};

/*
 * The LUN's tasks executing on one loop. Only that loop's thread touches @tasks, so the I/O path
 * takes no lock; the slot is claimed by the first loop of that index that executes a task.
 */
struct tt_lu_tasks {
	struct tt_loop *owner;   /* atomic: the loop that claimed the slot */
	struct tt_list tasks;
	struct tt_iostat *io;    /* the owner's I/O counters (allocated at its first task;
				  * published with a release store, read by any thread) */
} __attribute__((aligned(64)));

#define TT_LU_TASK_SLOTS 64

struct tt_lu_state {
	/* under lun->lock */
	struct tt_list nexuses;  /* struct tt_lu_nexus */
	struct tt_pr *pr;        /* reservations and registrations (pr.c) */

	/* written under lun->lock, read on the data path with atomic loads */
	int ua_nexuses;          /* nexuses with a pending unit attention */
	bool swp;                /* control mode page SWP: software write protect */
	bool wce;                /* caching mode page WCE (false: every write is FUA) */
	bool d_sense;            /* control mode page D_SENSE: descriptor format sense */

	/* tasks of loops that found their slot taken by another loop of the same index */
	pthread_mutex_t shared_lock;
	struct tt_list shared_tasks;
	struct tt_iostat shared_io; /* their I/O counters, written under shared_lock */

	struct tt_lu_tasks slots[TT_LU_TASK_SLOTS];

	/* blocks held by COMPARE AND WRITE, ORWRITE, WRITE AND VERIFY, WRITE ATOMIC (sbc_write.c) */
	struct tt_range_lock ranges;

	/* SANITIZE (sanitize.c): written under lun->lock, read on the data path with atomic loads */
	uint8_t sanitize;           /* enum tt_sanitize_state */
	bool sanitize_ause;         /* the failed sanitize allowed EXIT FAILURE MODE (AUSE) */
	uint16_t sanitize_progress; /* of the running sanitize, in 65536ths */
	uint64_t sanitize_rate;     /* OVERWRITE pacing in bytes per second; 0: unpaced */
};

static inline bool tt_lun_swp(const struct tt_lun *lun)
{
	return __atomic_load_n(&lun->state->swp, __ATOMIC_RELAXED);
}
static inline bool tt_lun_wce(const struct tt_lun *lun)
{
	return __atomic_load_n(&lun->state->wce, __ATOMIC_RELAXED);
}
static inline bool tt_lun_d_sense(const struct tt_lun *lun)
{
	return lun && __atomic_load_n(&lun->state->d_sense, __ATOMIC_RELAXED);
}
/* Write protected by configuration, by the backend or by the SWP bit. */
static inline bool tt_lun_write_protected(const struct tt_lun *lun)
{
	return lun->write_protect || tt_lun_swp(lun);
}
static inline uint64_t tt_lun_nblocks(const struct tt_lun *lun)
{
	return tt_bdev_size(lun->bdev) / lun->bdev->block_size;
}

/* Unit attentions (ua.c). Returns true when @task was answered with a unit attention. */
bool tt_ua_check(struct tt_scsi_task *task);
/* Takes the highest-priority unit attention of @nexus (clearing it); false when none. */
bool tt_ua_take(struct tt_lun *lun, const struct tt_nexus *nexus, uint8_t *asc, uint8_t *ascq);
void tt_ua_clear(struct tt_lun *lun, const struct tt_nexus *nexus, enum tt_ua ua);
/* Frees every nexus entry (LUN destruction). */
void tt_ua_free_all(struct tt_lun *lun);
/* Under lun->lock: raises @ua for the nexus @nexus_id if the LUN knows it (no entry created). */
void tt_ua_raise_locked(struct tt_lun *lun, uint64_t nexus_id, enum tt_ua ua);

/* --- sense data (sense.c) -------------------------------------------------------------------- */

/* Additional sense code and qualifier as one number: 0x2400 = 24h/00h. */
enum tt_asc {
	TT_ASC_NO_ADDITIONAL_SENSE = 0x0000,
	TT_ASC_SANITIZE_IN_PROGRESS = 0x041b,
	TT_ASC_LU_COMMUNICATION_FAILURE = 0x0800,
	TT_ASC_LU_COMMUNICATION_TIMEOUT = 0x0801,
	TT_ASC_WRITE_ERROR = 0x0c00,
	TT_ASC_UNRECOVERED_READ_ERROR = 0x1100,
	TT_ASC_PARAMETER_LIST_LENGTH_ERROR = 0x1a00,
	TT_ASC_MISCOMPARE_DURING_VERIFY = 0x1d00,
	TT_ASC_INVALID_OPCODE = 0x2000,
	TT_ASC_LBA_OUT_OF_RANGE = 0x2100,
	TT_ASC_INVALID_FIELD_IN_CDB = 0x2400,
	TT_ASC_LUN_NOT_SUPPORTED = 0x2500,
	TT_ASC_INVALID_FIELD_IN_PARAM_LIST = 0x2600,
	TT_ASC_WRITE_PROTECTED = 0x2700,
	TT_ASC_LUN_FAILURE = 0x3e01,
	TT_ASC_SPACE_ALLOC_FAILED_WRITE_PROTECT = 0x2707,
	TT_ASC_SAVING_PARAMS_NOT_SUPPORTED = 0x3900,
	TT_ASC_INTERNAL_TARGET_FAILURE = 0x4400,
	TT_ASC_SANITIZE_FAILED = 0x3103,
	TT_ASC_INVALID_FIELD_IN_CMD_IU = 0x0e03,
};

struct tt_sense {
	uint8_t key;
	uint16_t asc;            /* enum tt_asc */
	bool info_valid;
	uint64_t info;
	bool sks_valid;
	uint8_t sks[3];          /* sense key specific: field pointer, ... (SKSV added on encoding) */
};

/* Encodes @s in fixed (18 bytes) or descriptor format into @buf; returns the length written
 * (truncated to @len). */
size_t tt_sense_encode(const struct tt_sense *s, bool descriptor, uint8_t *buf, size_t len);
/* CHECK CONDITION with @s, in the format the LUN asks for. */
void tt_scsi_sense(struct tt_scsi_task *task, const struct tt_sense *s);
void tt_scsi_fail(struct tt_scsi_task *task, uint8_t key, uint16_t asc);
/* ILLEGAL REQUEST, INVALID FIELD IN CDB / PARAMETER LIST with a field pointer at @byte, @bit
 * (bit < 0: the whole byte). */
void tt_scsi_invalid_cdb(struct tt_scsi_task *task, uint16_t byte, int bit);
void tt_scsi_invalid_param(struct tt_scsi_task *task, uint16_t byte, int bit);
/* A backend error: -EIO -> MEDIUM ERROR, -ENOSPC -> SPACE ALLOCATION FAILED, ... */
void tt_scsi_fail_errno(struct tt_scsi_task *task, int err, bool write);

/* --- execution (exec.c, task.c) ---------------------------------------------------------------- */

enum tt_exec_rc {
	TT_EXEC_DONE,     /* status is set: the core queues done() */
	TT_EXEC_PENDING,  /* the handler calls tt_task_finish() later (from a backend completion) */
};

typedef enum tt_exec_rc (*tt_scsi_handler)(struct tt_scsi_task *task);

enum tt_cmd_flags {
	TT_CMD_NO_LUN_OK = 1 << 0,  /* runs for a LUN that does not exist */
	TT_CMD_NO_UA = 1 << 1,      /* neither reports nor clears unit attentions */
	TT_CMD_WRITES = 1 << 2,     /* modifies the medium: refused when write protected */
};

struct tt_scsi_cmd {
	const char *name;
	tt_scsi_handler handler;
	uint8_t flags;           /* enum tt_cmd_flags */
	uint8_t xfer;            /* enum tt_scsi_xfer */
	uint8_t cdb_len;
	/* CDB USAGE DATA (SPC-4 6.35.3): the bits the device server looks at; a bit set outside it
	 * is refused with INVALID FIELD IN CDB. Byte 0: the operation code; the service action
	 * field holds the service action. */
	uint8_t usage[16];
	/* An operation code with service actions (cdb[1] & 0x1f) lists them here, ended by an
	 * entry without handler; the entry itself then only names the operation code. */
	const struct tt_scsi_cmd *by_sa;
	uint8_t sa;
};

/*
 * The command @cdb selects: NULL when the operation code is not supported; *@bad_sa is set when
 * the operation code is but the service action is not.
 */
const struct tt_scsi_cmd *tt_scsi_cmd_lookup(const uint8_t *cdb, bool *bad_sa);
enum tt_exec_rc tt_spc_report_supported_opcodes(struct tt_scsi_task *task);

/* Moves @task to @to; 0, or -EINVAL for an edge the lifecycle does not have (scsi.h): logged,
 * and the state is left unchanged. The only writer of task->state. */
int tt_task_set_state(struct tt_scsi_task *task, enum tt_task_state to);
/* Ends a task whose handler returned TT_EXEC_PENDING; runs done() now (the caller already runs
 * after tt_scsi_exec returned, e.g. in a backend completion). */
void tt_task_finish(struct tt_scsi_task *task);
/* Queues done() on the task's loop. */
void tt_task_complete_later(struct tt_scsi_task *task);
void tt_task_track(struct tt_scsi_task *task);
void tt_task_untrack(struct tt_scsi_task *task);
/* Counts a completing task in its LUN's counters (iostat.c); before tt_task_untrack. */
void tt_task_account(struct tt_scsi_task *task);

/* Data-In room the transport gave (0 when the initiator announced only a write). */
static inline uint32_t tt_task_in_room(const struct tt_scsi_task *task)
{
	return (task->dir_read || !task->dir_write) ? task->edtl : 0;
}
/* Data-Out bytes the transport received. */
static inline uint32_t tt_task_out_len(const struct tt_scsi_task *task)
{
	return (task->dir_write || !task->dir_read) ? task->edtl : 0;
}
/*
 * Returns parameter data to the initiator: @alloc is the CDB's ALLOCATION LENGTH (cmd_len), @len
 * the full size of @data; copies what fits in both and in edtl.
 */
void tt_task_data_in(struct tt_scsi_task *task, const void *data, uint32_t len, uint32_t alloc);

/* --- SPC (spc.c, vpd.c, mode.c) ---------------------------------------------------------------- */
enum tt_exec_rc tt_spc_inquiry(struct tt_scsi_task *task);
enum tt_exec_rc tt_spc_report_luns(struct tt_scsi_task *task);
enum tt_exec_rc tt_spc_test_unit_ready(struct tt_scsi_task *task);
enum tt_exec_rc tt_spc_request_sense(struct tt_scsi_task *task);
enum tt_exec_rc tt_spc_mode_sense(struct tt_scsi_task *task);
enum tt_exec_rc tt_spc_mode_select(struct tt_scsi_task *task);

#define TT_INQUIRY_STD_LEN 96
/* Standard INQUIRY data of @lun (NULL: a LUN that does not exist) into @buf (96 bytes). */
size_t tt_inquiry_std_build(const struct tt_lun *lun, bool explicit_alua, uint8_t *buf);
/* VPD page @page of @lun as seen through @port (may be NULL) into @buf (@len bytes); returns the
 * page's full length, or -ENOENT for a page that is not supported. */
int tt_vpd_build(const struct tt_lun *lun, const struct tt_scsi_port *port, uint8_t page,
		 uint8_t *buf, size_t len);

/* Mode page state of a new LUN. */
void tt_mode_init(struct tt_lun *lun);

/* --- third-party copy (xcopy.c) ------------------------------------------------------------------ */
enum tt_exec_rc tt_spc_extended_copy(struct tt_scsi_task *task);
enum tt_exec_rc tt_spc_receive_copy_results(struct tt_scsi_task *task);
/* Third-party Copy VPD page (8Fh) of @lun into @buf (@len bytes); returns its full length. */
size_t tt_xcopy_vpd_page(const struct tt_lun *lun, uint8_t *buf, size_t len);
/* LUNs by NAA identifier, for the CSCD descriptors of EXTENDED COPY: tt_lun_create adds a LUN,
 * its last tt_lun_put removes it. tt_lun_find_naa returns a LUN with a reference taken, or NULL. */
void tt_lun_registry_add(struct tt_lun *lun);
void tt_lun_registry_del(struct tt_lun *lun);
struct tt_lun *tt_lun_find_naa(uint64_t naa_id);

/* --- ALUA (alua.c) ---------------------------------------------------------------------------- */
/* MAINTENANCE OUT service action */
#define TT_MO_SET_TARGET_PORT_GROUPS 0x0a

enum tt_exec_rc tt_spc_report_target_port_groups(struct tt_scsi_task *task);
enum tt_exec_rc tt_spc_set_target_port_groups(struct tt_scsi_task *task);
/* True when the access state of the group of the port @task came through refuses it: the task
 * is then answered NOT READY, LOGICAL UNIT NOT ACCESSIBLE (SPC-4 5.16.2.4). No lock taken. */
bool tt_alua_refused(struct tt_scsi_task *task);
/* Whether the LU reports explicit ALUA through @port (NULL, or not in a group: yes). No lock. */
bool tt_alua_port_explicit(const struct tt_scsi_port *port);

/* --- SBC (sbc.c) -------------------------------------------------------------------------------- */
enum tt_exec_rc tt_sbc_read_write(struct tt_scsi_task *task);
enum tt_exec_rc tt_sbc_verify(struct tt_scsi_task *task);
enum tt_exec_rc tt_sbc_synchronize_cache(struct tt_scsi_task *task);
enum tt_exec_rc tt_sbc_read_capacity_10(struct tt_scsi_task *task);
enum tt_exec_rc tt_sbc_service_action_in_16(struct tt_scsi_task *task);
enum tt_exec_rc tt_sbc_start_stop_unit(struct tt_scsi_task *task);

/* Logical block provisioning management reported (READ CAPACITY (16) LBPME, VPD B0h/B2h) and
 * UNMAP / WRITE SAME with UNMAP accepted: on thin backends. */
static inline bool tt_sbc_lbp(const struct tt_lun *lun)
{
	return lun->thin;
}

/* Block limits the core reports and enforces. */
#define TT_SBC_MAX_UNMAP_LBA_COUNT 0xffffffffu  /* no limit per UNMAP */
#define TT_SBC_MAX_UNMAP_DESCRIPTORS 256u
#define TT_SBC_MAX_WRITE_SAME_LEN 0xffffu       /* blocks per WRITE SAME: what (10) can ask */
#define TT_SBC_WRITE_SAME_IOV 256u              /* blocks per backend I/O of a pattern */

/* Logical block provisioning (lbp.c) */
enum tt_exec_rc tt_sbc_unmap(struct tt_scsi_task *task);
enum tt_exec_rc tt_sbc_write_same(struct tt_scsi_task *task);

/* Read-then-write and atomic writes (sbc_write.c) */
enum tt_exec_rc tt_sbc_compare_and_write(struct tt_scsi_task *task);
enum tt_exec_rc tt_sbc_orwrite(struct tt_scsi_task *task);
enum tt_exec_rc tt_sbc_write_verify(struct tt_scsi_task *task);
enum tt_exec_rc tt_sbc_write_atomic(struct tt_scsi_task *task);
/* MAXIMUM COMPARE AND WRITE LENGTH and MAXIMUM ATOMIC TRANSFER LENGTH of @lun, in blocks. */
uint32_t tt_sbc_max_compare_and_write(const struct tt_lun *lun);
uint32_t tt_sbc_max_atomic(const struct tt_lun *lun);
/* Fills the block limits VPD page (B0h) fields of these commands: byte 5, bytes 44..63. */
void tt_sbc_write_limits(const struct tt_lun *lun, uint8_t *page);
/* Provisioning status (sbc_prov.c) */
enum tt_exec_rc tt_sbc_get_lba_status(struct tt_scsi_task *task);
/* PRE-FETCH, READ DEFECT DATA, PREVENT ALLOW MEDIUM REMOVAL (sbc_misc.c) */
enum tt_exec_rc tt_sbc_prefetch(struct tt_scsi_task *task);
enum tt_exec_rc tt_sbc_read_defect_data(struct tt_scsi_task *task);
enum tt_exec_rc tt_sbc_prevent_allow(struct tt_scsi_task *task);
/* SANITIZE: OVERWRITE, BLOCK ERASE, CRYPTO ERASE, EXIT FAILURE MODE (sanitize.c) */
#define TT_SANITIZE_OVERWRITE         0x01
#define TT_SANITIZE_BLOCK_ERASE       0x02
#define TT_SANITIZE_CRYPTO_ERASE      0x03
#define TT_SANITIZE_EXIT_FAILURE_MODE 0x1f
/* Bytes per backend I/O of OVERWRITE. */
#define TT_SANITIZE_CHUNK (1u << 20)

/* The one lifecycle of the sanitize of a LUN (tt_lu_state.sanitize). */
enum tt_sanitize_state {
	TT_SANITIZE_IDLE,     /* no sanitize, or the last one succeeded */
	TT_SANITIZE_RUNNING,  /* commands but INQUIRY, REPORT LUNS, REQUEST SENSE: NOT READY */
	TT_SANITIZE_FAILED,   /* commands but those and SANITIZE: MEDIUM ERROR, SANITIZE FAILED */
};
enum tt_exec_rc tt_sbc_sanitize(struct tt_scsi_task *task);
/* Before a handler runs: true when the sanitize state of the LUN answered @task (refused, or
 * REQUEST SENSE reporting the progress). No lock on the path of a LUN that is not sanitized. */
bool tt_sanitize_refused(struct tt_scsi_task *task, const struct tt_scsi_cmd *cmd);

/* Shared by the SBC files (sbc.c) */
bool tt_sbc_lba_range_ok(struct tt_scsi_task *task, uint64_t lba, uint64_t nblocks);
/* Submits task->io; TT_EXEC_DONE with the error set when the backend refuses it. */
enum tt_exec_rc tt_sbc_submit(struct tt_scsi_task *task, bool write);
/* In a backend completion: the task is back from the backend. */
struct tt_scsi_task *tt_sbc_io_returned(struct tt_bdev_io *io);

#endif
