/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The configuration file of tetherd (JSON, see docs/configuration.md) and its two steps:
 *
 *   tt_config_load() / tt_config_parse()  JSON -> struct tt_config: checks every field and has no
 *                                         side effect (config_parse.c, unit-tested alone);
 *   tt_config_apply()                     struct tt_config -> model objects (config.c).
 *
 * tt_config_dump() goes the other way: the running model back to JSON in the same schema, so
 * that a saved file loads again and saves to the same bytes.
 *
 * Every error message starts with the JSON path of the field at fault, for example
 * "targets[0].tpgs[1].portals[2]: cannot parse address "1.2.3"".
 */
#ifndef TT_TARGET_CONFIG_H
#define TT_TARGET_CONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "target/limits.h"
#include "target/model.h"

#define TT_CONFIG_DEBUG_MAX 32     /* components in global.debug */
#define TT_CONFIG_SOCKET_MAX 108   /* sizeof(sun_path) */
#define TT_CONFIG_LUN_ID_MAX 16383 /* single-level LUN addressing (SAM-5 flat space) */
#define TT_CONFIG_PATH_MAX 1024    /* global.state_dir */

/* Bits of tt_config_global.set: which optional fields the file gave. */
enum {
	TT_CFG_G_LOOPS = 1u << 0,
	TT_CFG_G_RPC_SOCKET = 1u << 1,
	TT_CFG_G_LOG_LEVEL = 1u << 2,
	TT_CFG_G_DEBUG = 1u << 3,
	TT_CFG_G_STATE_DIR = 1u << 4,
	TT_CFG_G_METRICS = 1u << 5,
	TT_CFG_G_STATS = 1u << 6,
};

struct tt_config_global {
	unsigned set;
	unsigned loops;                         /* 0: one loop per core */
	char rpc_socket[TT_CONFIG_SOCKET_MAX];
	int log_level;                          /* enum tt_log_level */
	unsigned ndebug;
	char debug[TT_CONFIG_DEBUG_MAX][16];    /* components with debug output, or "all" */
	char state_dir[TT_CONFIG_PATH_MAX];     /* APTPL state files: absolute path, or "none" */
	char metrics[TT_PORTAL_ADDR_MAX];       /* GET /metrics on "ADDR:PORT" */
	bool stats;                             /* I/O counters on (default true) */
	struct tt_limits limits;                /* global.max_*, cmd_window: defaults when not
						 * given (tt_config_parse fills them) */
};

/* The limit keys of the global section, in the order of the dump. */
struct tt_config_limit_key {
	const char *key;
	uint64_t min, max;
	size_t offset;                          /* in struct tt_limits */
	bool wide;                              /* uint64_t (else uint32_t) */
};
extern const struct tt_config_limit_key tt_config_limit_keys[];
uint64_t tt_config_limit_get(const struct tt_limits *l, const struct tt_config_limit_key *k);

/* Bits of tt_config_tpg.set. A field not given keeps the model's default. */
enum {
	TT_CFG_T_NOP_INTERVAL = 1u << 0,
	TT_CFG_T_NOP_TIMEOUT = 1u << 1,
	TT_CFG_T_LOGIN_TIMEOUT = 1u << 2,
	TT_CFG_T_AUTH = 1u << 3,
	TT_CFG_T_ALLOW_ANY = 1u << 4,
	TT_CFG_T_ALUA_STATE = 1u << 5,
	TT_CFG_T_ALUA_EXPLICIT = 1u << 6,
	TT_CFG_P_MAX_RECV_DSL = 1u << 8,
	TT_CFG_P_MAX_BURST = 1u << 9,
	TT_CFG_P_FIRST_BURST = 1u << 10,
	TT_CFG_P_IMMEDIATE_DATA = 1u << 11,
	TT_CFG_P_INITIAL_R2T = 1u << 12,
	TT_CFG_P_MAX_OUTSTANDING_R2T = 1u << 13,
	TT_CFG_P_MAX_CONNECTIONS = 1u << 14,
	TT_CFG_P_ERL = 1u << 15,
	TT_CFG_P_HEADER_DIGEST = 1u << 16,
	TT_CFG_P_DATA_DIGEST = 1u << 17,
	TT_CFG_P_TIME2WAIT = 1u << 18,
	TT_CFG_P_TIME2RETAIN = 1u << 19,
};

struct tt_config_portal {
	char addr[80];                   /* as written: "127.0.0.1:3260", "[::1]:3260", "10.0.0.1" */
	uint8_t fabric;                  /* enum tt_fabric: the scheme (iscsi:// by default) */
	struct sockaddr_storage ss;      /* parsed, for duplicate checks */
	socklen_t sslen;
};

struct tt_config_tpg {
	uint16_t tag;
	unsigned set;                    /* TT_CFG_T_* | TT_CFG_P_* */
	uint32_t nop_interval_ms, nop_timeout_ms, login_timeout_ms;
	bool chap_required;
	bool allow_any_initiator;
	uint8_t alua_state;              /* enum tt_alua_state */
	bool alua_explicit;              /* hosts may set the state (SET TARGET PORT GROUPS) */
	struct tt_tpg_params params;     /* only the fields flagged in @set are meaningful */
	size_t nportals;
	struct tt_config_portal *portals;
};

/* Bits of tt_config_lun.set. */
enum {
	TT_CFG_L_VENDOR = 1u << 0,
	TT_CFG_L_PRODUCT = 1u << 1,
	TT_CFG_L_SERIAL = 1u << 2,
	TT_CFG_L_WRITE_PROTECT = 1u << 3,
};

struct tt_config_lun {
	uint64_t id;
	unsigned set;
	char backend[512];
	char vendor[9], product[17], serial[64];
	bool write_protect;
};

struct tt_config_acl {
	char initiator[TT_ISCSI_NAME_MAX + 1];
	bool has_chap;
	struct tt_acl_chap chap;
};

struct tt_config_target {
	char name[TT_ISCSI_NAME_MAX + 1];
	char alias[256];
	size_t ntpgs, nluns, nacls;
	struct tt_config_tpg *tpgs;
	struct tt_config_lun *luns;
	struct tt_config_acl *acls;
};

/* --- NVMe-oF (the "nvmf" section) --- */
#define TT_CONFIG_NQN_MAX 223

struct tt_config_nvmf_ana {
	uint32_t id;                     /* 1..TT_NVMF_ANA_GROUP_MAX */
	uint8_t state;                   /* enum tt_nvmf_ana_state */
};

struct tt_config_nvmf_port {
	char addr[80];                   /* "nvme-tcp://ADDR[:PORT]" as written */
	struct tt_portal_addr parsed;    /* for duplicate checks */
	uint32_t ana_group;              /* 1 when not given */
};

struct tt_config_nvmf_ns {
	uint32_t nsid;
	char backend[512];               /* a backend spec, or "" when a target's LUN */
	char lun_target[TT_ISCSI_NAME_MAX + 1];
	uint64_t lun_id;
};

/* Bits of tt_config_nvmf_subsys.set. */
enum {
	TT_CFG_S_SERIAL = 1u << 0,
	TT_CFG_S_MODEL = 1u << 1,
};

struct tt_config_nvmf_subsys {
	char nqn[TT_CONFIG_NQN_MAX + 1];
	unsigned set;
	char serial[21], model[41];
	bool allow_any_host;             /* default: true without hosts, false with */
	size_t nhosts, nns;
	char (*hosts)[TT_CONFIG_NQN_MAX + 1];
	struct tt_config_nvmf_ns *ns;
};

struct tt_config_nvmf {
	size_t ngroups, nports, nsubsys;
	struct tt_config_nvmf_ana *groups;
	struct tt_config_nvmf_port *ports;
	struct tt_config_nvmf_subsys *subsys;
};

struct tt_config {
	struct tt_config_global global;
	size_t ntargets;
	struct tt_config_target *targets;
	struct tt_config_nvmf nvmf;
};

/* The state of ANA group @id in @n (optimized when the group is not listed). */
uint8_t tt_config_nvmf_ana_state(const struct tt_config_nvmf *n, uint32_t id);

/* NVMe-oF objects of the running daemon (config_nvmf.c, loop 0): the "nvmf" section of a dump
 * (NULL when nothing is configured), and the section made real at start (tt_config_apply). */
json_t *tt_config_nvmf_dump(void);
int tt_config_nvmf_apply(const struct tt_config_nvmf *n, char *err, size_t errlen);
/* Pieces, for tt_config_nvmf_apply and tetherctl apply: @path prefixes messages. */
int tt_config_nvmf_apply_port(const struct tt_config_nvmf_port *p, const char *path, char *err,
			      size_t errlen);
int tt_config_nvmf_apply_ns(const char *nqn, const struct tt_config_nvmf_ns *cn, const char *path,
			    char *err, size_t errlen);
int tt_config_nvmf_apply_subsys(const struct tt_config_nvmf_subsys *cs, const char *path,
				char *err, size_t errlen);

/* --- whole files ----------------------------------------------------------------------------- */

/* Checks @root and builds *out (free with tt_config_free). Returns 0 or -EINVAL / -ENOMEM with
 * "PATH: problem" in @err. Does not touch the model or any global state. */
int tt_config_parse(json_t *root, struct tt_config **out, char *err, size_t errlen);
/* Reads @path (duplicate keys refused) and parses it. Errors name the file, line and column for
 * JSON syntax errors. */
int tt_config_load(const char *path, struct tt_config **out, char *err, size_t errlen);
void tt_config_free(struct tt_config *cfg);

/*
 * Creates the targets of @cfg through the model and applies global.log_level and global.debug
 * when given (global.loops, global.rpc_socket and global.state_dir are for the daemon to use
 * before). On loop 0,
 * without tt_model_lock held. On failure the targets created by this call are deleted again and
 * @err says which object failed ("targets[1].luns[0]: <the model's message>").
 */
int tt_config_apply(const struct tt_config *cfg, char *err, size_t errlen);

/*
 * The running configuration as JSON in the file's schema (*out: a new reference). CHAP secrets
 * (chap.secret, chap.mutual_secret) only when @secrets: a dump for display leaves them out. The global
 * section reports what was recorded by tt_config_apply / tt_config_set_global, the log level and
 * debug switches in force, and the control socket path when it listens.
 */
int tt_config_dump(json_t **out, bool secrets);
/* Only the global section of the dump (a new reference). */
json_t *tt_config_dump_global(void);

/* The daemon records the global settings it runs with (after its command line), for dumps. */
void tt_config_set_global(const struct tt_config_global *g);
/* Keeps the list of debug components for dumps in step with tt_log_debug_enable(). */
void tt_config_note_debug(const char *component, bool on);
/* Name of a log level ("notice"), for dumps and the control socket. */
const char *tt_config_log_level_name(int level);

/* --- pieces, for the control socket ---------------------------------------------------------- */
/* Each parses one object of the schema; @path prefixes the messages ("" for none). */
int tt_config_parse_target(json_t *obj, const char *path, struct tt_config_target *out,
			   char *err, size_t errlen);
int tt_config_parse_tpg(json_t *obj, const char *path, struct tt_config_tpg *out,
			char *err, size_t errlen);
int tt_config_parse_lun(json_t *obj, const char *path, struct tt_config_lun *out,
			char *err, size_t errlen);
int tt_config_parse_acl(json_t *obj, const char *path, struct tt_config_acl *out,
			char *err, size_t errlen);
void tt_config_target_release(struct tt_config_target *t);
void tt_config_tpg_release(struct tt_config_tpg *g);

/* Create one object (and what it contains) in the model; errors are prefixed with @path. */
int tt_config_apply_target(const struct tt_config_target *ct, const char *path,
			   char *err, size_t errlen);
int tt_config_apply_tpg(struct tt_target *t, const struct tt_config_tpg *cg, const char *path,
			char *err, size_t errlen);
int tt_config_apply_lun(struct tt_target *t, const struct tt_config_lun *cl, const char *path,
			char *err, size_t errlen);
int tt_config_apply_acl(struct tt_target *t, const struct tt_config_acl *ca, const char *path,
			char *err, size_t errlen);

/* --- syntax checks (no path in @msg) --------------------------------------------------------- */
/* iqn./eui./naa. names of RFC 7143 §4.2.7: lowercase, allowed characters, at most 223 bytes. */
int tt_config_check_iscsi_name(const char *name, char *msg, size_t msglen);
/* "[SCHEME://]A.B.C.D[:PORT]", "[SCHEME://][V6][:PORT]" (numeric, default port 3260 for iscsi://,
 * the default scheme) into @ss, and the scheme into *@fabric (may be NULL). */
int tt_config_parse_portal(const char *addr, struct sockaddr_storage *ss, socklen_t *sslen,
			   enum tt_fabric *fabric, char *msg, size_t msglen);

#endif
