/* SPDX-License-Identifier: BSD-3-Clause */
/* Objects of the NVMe-oF core shared by its files (not by transports). */
#ifndef TT_NVMF_INTERNAL_H
#define TT_NVMF_INTERNAL_H

#include "nvmf/nvmf.h"

struct tt_nvmf_ns {
	struct tt_list node;            /* in subsys->namespaces, sorted by nsid */
	uint32_t nsid;
	struct tt_bdev *bdev;           /* a reference until the namespace is removed */
	uint64_t naa_id;
	uint8_t nguid[16], uuid[16];
	/* origin, for dumps: a backend spec, or a target's LUN (lun_target not empty) */
	char backend[512];
	char lun_target[TT_NVMF_NQN_MAX + 1];
	uint64_t lun_id;
	void *resv;                     /* the reservation keeper's context; NULL: none */
};

struct tt_nvmf_host {
	struct tt_list node;
	char nqn[TT_NVMF_NQN_MAX + 1];
};

struct tt_nvmf_subsys {
	struct tt_list node;            /* in the registry */
	char nqn[TT_NVMF_NQN_MAX + 1];
	bool discovery;
	bool allow_any_host;
	struct tt_list hosts;           /* struct tt_nvmf_host */
	struct tt_list namespaces;      /* struct tt_nvmf_ns */
	struct tt_list ctrls;           /* struct tt_nvmf_ctrl, not ENDING */
	uint16_t next_cntlid;
	int refs;                       /* the registry's (until deleted) + one per controller */
	char serial[TT_NVMF_SERIAL_MAX + 1];
	char model[TT_NVMF_MODEL_MAX + 1];
	bool serial_set, model_set;     /* given by the configuration (else derived) */
	/* SMART counters (whole subsystem) */
	uint64_t units_read, units_written;     /* 512-byte units */
	uint64_t read_cmds, write_cmds;
};

struct tt_nvmf_ctrl {
	struct tt_nvmf_subsys *subsys;  /* outlives its controllers (tt_nvmf_fini ends them first) */
	struct tt_list node;            /* in subsys->ctrls until ENDING */
	enum tt_nvmf_ctrl_state state;  /* ctrl_set_state() only */
	int refs;
	uint16_t cntlid;
	char hostnqn[TT_NVMF_NQN_MAX + 1];
	uint8_t hostid[16];
	struct tt_nvmf_port *port;      /* its admin queue's, a reference until freed */
	struct tt_list qpairs;          /* bound queue pairs */
	struct tt_nvmf_qpair *qps[TT_NVMF_MAX_IO_QUEUES + 1];  /* by qid */
	uint16_t io_queues;             /* granted by Set Features (Number of Queues) */
	uint32_t cc, csts;
	uint32_t kato_ms;               /* 0: no keep-alive */
	uint64_t last_ka_ns;
	struct tt_timer ka_timer;
	uint32_t aec;                   /* Async Event Configuration */
	bool wce;                       /* volatile write cache enabled */
	struct tt_list aers;            /* parked Async Event Requests */
	unsigned naers;
	uint32_t pending_aen[8];        /* events waiting for an AER (dword 0 of the completion) */
	unsigned npending_aen;
	bool aen_ns_masked;             /* a namespace notice was sent, log not read yet */
	bool aen_ana_masked;            /* an ANA change notice was sent, log not read yet */
	bool aen_disc_masked;           /* a discovery log change notice was sent, log not read */
	uint32_t changed_ns[TT_NVMF_MAX_NAMESPACES];
	unsigned nchanged;              /* > TT_NVMF_MAX_NAMESPACES: overflowed */
	struct tt_list waiters;         /* Connect requests waiting for this controller's end */
	uint64_t errors;                /* error log entries (count only) */
	/* reservations (resv.c) */
	void *resv;                     /* the keeper's handle; NULL: none */
	struct tt_nvmf_resv_log *resv_log;      /* queued notifications; NULL: none yet */
	bool aen_resv_masked;           /* a reservation notice was sent, log not read yet */
	uint8_t *resv_mask;             /* Set Features 82h by NSID; NULL: nothing masked */
};

/* ctrl.c */
void tt_nvmf_ctrl_get(struct tt_nvmf_ctrl *c);
void tt_nvmf_ctrl_put(struct tt_nvmf_ctrl *c);
void tt_nvmf_ctrl_end(struct tt_nvmf_ctrl *c, const char *why);
void tt_nvmf_ctrl_fabrics(struct tt_nvmf_req *r);
void tt_nvmf_ctrl_keep_alive(struct tt_nvmf_ctrl *c);
void tt_nvmf_ctrl_aer(struct tt_nvmf_req *r);
void tt_nvmf_ctrl_event(struct tt_nvmf_ctrl *c, uint32_t dw0);
void tt_nvmf_ctrl_ns_changed(struct tt_nvmf_ctrl *c, uint32_t nsid);
/* The ANA state of the controller's group changed: notice (AEC bit 11) unless one is unread. */
void tt_nvmf_ctrl_ana_changed(struct tt_nvmf_ctrl *c);
/* A discovery controller: the discovery log changed: notice (AEC bit 31) unless one is unread. */
void tt_nvmf_ctrl_discovery_changed(struct tt_nvmf_ctrl *c);
/* The ANA group and state of the controller's path (its port; group 1 without a port). */
uint32_t tt_nvmf_ctrl_ana_group(const struct tt_nvmf_ctrl *c);

/* req completion (ctrl.c): fills the CQE and hands it to the transport; drops the request's
 * controller reference. */
void tt_nvmf_req_done(struct tt_nvmf_req *r, uint16_t status, uint32_t dw0);

/* resv.c */
bool tt_nvmf_resv_enabled(void);
void tt_nvmf_resv_ctrl_start(struct tt_nvmf_ctrl *c);
void tt_nvmf_resv_ctrl_end(struct tt_nvmf_ctrl *c);
/* The namespace leaves @s: every controller detaches, the context is released. */
void tt_nvmf_resv_ns_gone(struct tt_nvmf_subsys *s, struct tt_nvmf_ns *ns);
/* Reservation Register/Report/Acquire/Release on @ns (opcodes 0Dh, 0Eh, 11h, 15h). */
void tt_nvmf_resv_exec(struct tt_nvmf_req *r, struct tt_nvmf_ns *ns);
/* I/O of @r on @ns: 0 when it may run, else the status to complete it with. */
uint16_t tt_nvmf_resv_io_check(struct tt_nvmf_req *r, struct tt_nvmf_ns *ns, bool write);
/* RESCAP of Identify Namespace. */
uint8_t tt_nvmf_resv_rescap(struct tt_nvmf_ns *ns);
/* Log page 80h (64 bytes at @buf): the oldest notification, taken. */
void tt_nvmf_resv_log_take(struct tt_nvmf_ctrl *c, uint8_t *buf);
/* Features 82h (mask) and 83h (persistence): 0 or a status; *@dw0 for Get. */
uint16_t tt_nvmf_resv_feature(struct tt_nvmf_req *r, struct tt_nvmf_ctrl *c, bool set,
			      uint32_t *dw0);

/* admin.c */
void tt_nvmf_admin_exec(struct tt_nvmf_req *r);
/* io.c */
void tt_nvmf_io_exec(struct tt_nvmf_req *r);

/* subsys.c */
struct tt_nvmf_ns *tt_nvmf_ns_find(struct tt_nvmf_subsys *s, uint32_t nsid);
bool tt_nvmf_host_allowed(const struct tt_nvmf_subsys *s, const char *hostnqn);
void tt_nvmf_subsys_put(struct tt_nvmf_subsys *s);
/* ana.c */
void tt_nvmf_ana_reset(void);
/* @p moved to another group: change count, notices to the controllers through it. */
void tt_nvmf_ana_port_moved(struct tt_nvmf_port *p);
/* port.c */
/* Removes every port (tt_nvmf_fini). */
void tt_nvmf_ports_fini(void);
/* A port or a subsystem came or went, or a host list changed: the discovery log changed (GENCTR
 * moves on, notices to the discovery controllers). */
void tt_nvmf_discovery_changed(void);
struct tt_nvmf_subsys *tt_nvmf_discovery(void);

#endif
