/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Bringing the running daemon to a configuration file (tetherctl apply, the config_apply method;
 * docs/apply.md) in two steps:
 *
 *   tt_apply_plan()  compares two parsed configurations, the running one (tt_apply_current:
 *                    the dump of the model, read back by the file's parser) and the desired one,
 *                    object by object, and lists the changes. Pure: no model, no global state
 *                    (unit-tested in tests/unit/target/apply_test.c).
 *   tt_apply_run()   makes the changes of a plan through the model, on loop 0: every new
 *                    backend is opened first, then removals, then changes and creations.
 *
 * The lines of a plan never hold a CHAP secret.
 */
#ifndef TT_TARGET_APPLY_H
#define TT_TARGET_APPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "target/config.h"

enum tt_apply_op {
	/* global settings that can change at run time */
	TT_APPLY_LOG_LEVEL,
	TT_APPLY_DEBUG,
	TT_APPLY_LIMITS,          /* one of global.max_*, cmd_window (what is admitted from now on) */
	/* removals, made before anything else */
	TT_APPLY_TARGET_REMOVE,
	TT_APPLY_TPG_REMOVE,
	TT_APPLY_PORTAL_REMOVE,
	TT_APPLY_LUN_REMOVE,
	TT_APPLY_ACL_REMOVE,
	/* changes and creations */
	TT_APPLY_TARGET_CREATE,   /* with its ACLs, LUNs, TPGs and portals (the steps below it) */
	TT_APPLY_TARGET_ALIAS,
	TT_APPLY_ACL_ADD,
	TT_APPLY_ACL_CHANGE,      /* CHAP credentials */
	TT_APPLY_LUN_ADD,
	TT_APPLY_LUN_REPLACE,     /* backend or options changed: removed and added again */
	TT_APPLY_TPG_CHANGE,      /* one field of a TPG */
	TT_APPLY_TPG_CREATE,      /* with its portals */
	TT_APPLY_PORTAL_ADD,
	/* NVMe-oF (the "nvmf" section), after the iSCSI objects a namespace may use */
	TT_APPLY_NVMF_PORT_REMOVE,    /* removals, ports first: controllers through it end */
	TT_APPLY_NVMF_SUBSYS_REMOVE,
	TT_APPLY_NVMF_NS_REMOVE,
	TT_APPLY_NVMF_HOST_REMOVE,    /* the host's controllers end */
	TT_APPLY_NVMF_ANA_SET,        /* an ANA group's state (notices to the controllers) */
	TT_APPLY_NVMF_PORT_MOVE,      /* a port to another ANA group (notices) */
	TT_APPLY_NVMF_PORT_ADD,
	TT_APPLY_NVMF_SUBSYS_CREATE,  /* with its hosts and namespaces */
	TT_APPLY_NVMF_SUBSYS_IDS,     /* serial and model */
	TT_APPLY_NVMF_HOST_ADD,
	TT_APPLY_NVMF_ALLOW_ANY,
	TT_APPLY_NVMF_NS_ADD,
	TT_APPLY_NVMF_NS_REPLACE,     /* backend or LUN changed: removed and added again */
};

/* Every field of a TPG with the defaults filled in (what the model holds). */
struct tt_apply_tpg_values {
	uint32_t nop_interval_ms, nop_timeout_ms, login_timeout_ms;
	bool chap_required;
	bool allow_any_initiator;
	bool allow_any_known;      /* false: not in the file and meaningless (auth chap) */
	uint8_t alua_state;
	bool alua_explicit;
	struct tt_tpg_params params;
};

struct tt_apply_step {
	enum tt_apply_op op;
	/* -1, or the index of the step that makes this one as part of itself (a new target or a
	 * new TPG): such a step is a line of the plan, done or not with its leader */
	int leader;
	char text[600];            /* the plan's line */
	char path[256];            /* JSON path of the desired object ("targets[1].luns[0]") */
	char target[TT_ISCSI_NAME_MAX + 1];
	uint16_t tag;
	uint64_t lun;
	char initiator[TT_ISCSI_NAME_MAX + 1];
	char addr[TT_PORTAL_ADDR_MAX];
	unsigned field;            /* TT_APPLY_TPG_CHANGE: one TT_CFG_T_* or TT_CFG_P_* bit */
	struct tt_apply_tpg_values values; /* TT_APPLY_TPG_CHANGE: the desired values */
	/* NVMe-oF steps */
	char nqn[TT_CONFIG_NQN_MAX + 1];
	char host[TT_CONFIG_NQN_MAX + 1];
	uint32_t nsid, ana_group;
	uint8_t ana_state;
	const struct tt_config_nvmf_subsys *cs;
	const struct tt_config_nvmf_ns *cn;
	const struct tt_config_nvmf_port *cp;
	/* the desired objects (in the configuration given to tt_apply_plan) */
	const struct tt_config_global *global;
	const struct tt_config_target *ct;
	const struct tt_config_tpg *cg;
	const struct tt_config_lun *cl;
	const struct tt_config_acl *ca;
};

struct tt_apply_plan {
	size_t n, cap;
	struct tt_apply_step *steps;
};

/*
 * The changes that bring @cur to @want (both from tt_config_parse; @want must outlive the plan).
 * Returns 0 (an empty plan: nothing to do), or -EINVAL with "PATH: problem" in @err when @want
 * asks for what cannot be done at run time (global.loops, global.rpc_socket, global.state_dir
 * different from @cur's) or holds a portal address or TPG parameters the model would refuse.
 */
int tt_apply_plan(const struct tt_config *cur, const struct tt_config *want,
		  struct tt_apply_plan *plan, char *err, size_t errlen);
void tt_apply_plan_free(struct tt_apply_plan *plan);

/* The running configuration as the file's parser reads it (the dump of the model, with
 * global.state_dir set to the state directory in force or "none"). Loop 0. */
int tt_apply_current(struct tt_config **out, char *err, size_t errlen);

/*
 * Makes the changes of @plan on loop 0. @done (plan->n entries) tells which steps were made.
 * Every new LUN's backend is opened first: if one cannot be, nothing changes. Then the steps
 * run in order; the first that fails stops the run (a new target that fails is deleted again,
 * a new TPG likewise). Returns 0 or -errno with "PATH: problem" in @err.
 */
int tt_apply_run(const struct tt_apply_plan *plan, bool *done, char *err, size_t errlen);

#endif
