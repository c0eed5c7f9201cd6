/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NVMe over Fabrics controller core: subsystems with namespaces over block backends, the
 * discovery subsystem, controllers with an admin queue and I/O queues, and the commands they
 * serve. Transports (NVMe/TCP, tcp.c; NVMe/RDMA, rdma.c) hand the core requests on queue pairs and
 * send what it completes; the core never sees bytes of a socket or a work request. What differs
 * between transports reaches the core as data and ops: the SGL descriptors and in-capsule data a
 * transport takes (struct tt_nvmf_xport_caps, read by Identify and tt_nvmf_req_layout), and the
 * listening, discovery log entry and shutdown of a port's transport (struct tt_nvmf_port_xport).
 *
 * ANA: every port is in one ANA group (ana.c); a controller's path is its admin queue's port.
 * A port may move to another group at run time (its controllers get an ANA change notice) or be
 * removed (port.c): it stops listening, the controllers whose admin queue came in through it end,
 * and the other queue pairs that came in through it are disconnected.
 *
 * Threads: this first slice runs every NVMe-oF object on loop 0 (the loop that accepts
 * connections and runs configuration): subsystems, controllers, queue pairs, and the backend
 * I/O they submit. Nothing here takes a lock.
 *
 * Controller lifecycle; ctrl_set_state() (ctrl.c) is the only writer of the state:
 *
 *   Connect(admin) -> CONNECTED --CC.EN=1--> LIVE --CC.SHN--> SHUTDOWN
 *                         ^                   |                  |
 *                         +------CC.EN=0------+------------------+
 *   any of them --(admin queue closed | keep-alive timeout | same host reconnects |
 *                  subsystem deleted | host no longer allowed)--> ENDING
 *
 *   CONNECTED  admin queue connected, CSTS.RDY=0: only Property Get/Set.
 *   LIVE       CSTS.RDY=1: admin and I/O commands; I/O queues may connect.
 *   SHUTDOWN   CSTS.SHST=complete; commands still served until CC.EN=0 or the end.
 *   ENDING     out of its subsystem: no new command; parked Async Event Requests complete
 *              (aborted), every queue pair is disconnected; freed when the last reference goes.
 *
 * Controller references (refs) and their holders:
 *   - the subsystem's controller list, from Connect until ENDING is entered;
 *   - each queue pair bound to it, from its Connect until the transport closes it
 *     (tt_nvmf_qpair_closed);
 *   - each request executing on it (backend I/O in flight, a parked Async Event Request), from
 *     tt_nvmf_req_exec until its completion has been handed to the transport.
 * A Connect that replaces a controller of the same host (same host NQN, host id and port) ends
 * the old one and completes only when the old one has been freed, so none of its commands can
 * still execute when the new controller serves writes.
 */
#ifndef TT_NVMF_NVMF_H
#define TT_NVMF_NVMF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/list.h"
#include "base/loop.h"
#include "bdev/bdev.h"
#include "nvmf/nvme.h"
#include "xport/listener.h"

struct tt_nvmf_ctrl;
struct tt_nvmf_subsys;
struct tt_nvmf_qpair;
struct tt_nvmf_req;

#define TT_NVMF_MAX_IO_QUEUES 64
#define TT_NVMF_MAX_QUEUE_DEPTH 128     /* MQES + 1 */
#define TT_NVMF_MAX_XFER (128u * 1024)  /* MDTS: 5 (32 pages of 4 KiB) */
#define TT_NVMF_IN_CAPSULE 8192         /* in-capsule data of an I/O command capsule */
#define TT_NVMF_MAX_NAMESPACES 1024
#define TT_NVMF_AER_MAX 4
#define TT_NVMF_ANA_GROUP_MAX 128      /* ANAGRPMAX: group ids 1..128 */
#define TT_NVMF_MODEL_MAX 40           /* bytes of Identify Controller MN */
#define TT_NVMF_SERIAL_MAX 20          /* bytes of Identify Controller SN */

/*
 * Asymmetric Namespace Access (NVMe 2.0 8.1.1): every port belongs to one ANA group (1 unless
 * configured), and a group has one state, the state of every namespace seen through the ports of
 * that group. The values are those of the ANA log page.
 */
enum tt_nvmf_ana_state {
	TT_NVMF_ANA_OPTIMIZED = 0x1,
	TT_NVMF_ANA_NON_OPTIMIZED = 0x2,
	TT_NVMF_ANA_INACCESSIBLE = 0x3,
	TT_NVMF_ANA_PERSISTENT_LOSS = 0x4,
	TT_NVMF_ANA_CHANGE = 0xf,
};
/* "optimized", "non-optimized", "inaccessible", "persistent-loss", "change" */
const char *tt_nvmf_ana_state_name(enum tt_nvmf_ana_state s);
int tt_nvmf_ana_state_parse(const char *name); /* the state, or -EINVAL */

enum tt_nvmf_ctrl_state {
	TT_NVMF_CTRL_CONNECTED,
	TT_NVMF_CTRL_LIVE,
	TT_NVMF_CTRL_SHUTDOWN,
	TT_NVMF_CTRL_ENDING,
	TT_NVMF_CTRL_STATE_COUNT,
};
const char *tt_nvmf_ctrl_state_name(enum tt_nvmf_ctrl_state s);
/* Whether the lifecycle allows @from -> @to (the edges drawn above). */
bool tt_nvmf_ctrl_transition_ok(enum tt_nvmf_ctrl_state from, enum tt_nvmf_ctrl_state to);

struct tt_nvmf_port;

/* The transport of a port (one per fabric: nvme-tcp://, nvme-rdma://). */
struct tt_nvmf_port_xport {
	const char *name;               /* "tcp", "rdma" */
	uint8_t trtype;                 /* discovery log TRTYPE: 1 RDMA, 3 TCP */
	uint16_t admin_depth;           /* discovery log ASQSZ: admin queue entries at most */
	/* Listen on @p->addr (a user of the shared listener); 0 or -errno with @err set. */
	int (*listen)(struct tt_nvmf_port *p, char *err, size_t errlen);
	void (*unlisten)(struct tt_nvmf_port *p);
	/* The Transport Specific Address Subtype of a discovery log entry (256 bytes, zeroed). */
	void (*tsas)(const struct tt_nvmf_port *p, uint8_t *tsas);
	/* Closes every connection of the transport (daemon shutdown); those with I/O in flight go
	 * when it ends. */
	void (*close_all)(void);
	/* Connections not freed yet (shutdown waits for them while the loop runs). */
	unsigned (*conn_count)(void);
};

/*
 * Port lifecycle; port_set_state() (port.c) is the only writer of the state:
 *
 *   tt_nvmf_port_add -> SERVING --tt_nvmf_port_remove | tt_nvmf_fini--> REMOVED -> freed
 *
 *   SERVING    in the registry (tt_nvmf_ports), listening, in the discovery log.
 *   REMOVED    out of the registry and not listening; the controllers whose admin queue came in
 *              through it have ended and its other queue pairs are disconnected. The object
 *              stays, read-only, until its last reference goes.
 *
 * Port references (refs) and their holders:
 *   - the registry, from tt_nvmf_port_add until REMOVED is entered;
 *   - each queue pair that came in through it (qp->port, in p->qpairs), from
 *     tt_nvmf_qpair_init until tt_nvmf_qpair_fini (the transport frees its connection);
 *   - each controller whose admin queue came in through it (ctrl->port), from Connect until the
 *     controller is freed.
 * Counters and the ANA group are written through those holders only, so none is written after
 * the port is freed; lists (tetherctl port list) read the registry only.
 */
enum tt_nvmf_port_state {
	TT_NVMF_PORT_SERVING,
	TT_NVMF_PORT_REMOVED,
};

/* A port: a listening address whose subsystems the discovery log reports. */
struct tt_nvmf_port {
	struct tt_list node;            /* in the registry while SERVING */
	enum tt_nvmf_port_state state;  /* port_set_state() only */
	int refs;
	struct tt_list qpairs;          /* struct tt_nvmf_qpair that came in through it */
	uint16_t portid;
	const struct tt_nvmf_port_xport *xp;
	struct tt_portal_addr addr;
	char name[TT_PORTAL_ADDR_MAX];
	struct tt_listener *listener;   /* a user of the shared listener */
	uint32_t ana_group;             /* 1..TT_NVMF_ANA_GROUP_MAX */
	uint64_t read_cmds, write_cmds; /* I/O commands served through this port */
	uint64_t ana_refused;           /* I/O commands refused by the group's ANA state */
};

/* What the data of a command capsule may be on a transport (Identify Controller and the SGL
 * checks of tt_nvmf_req_layout). */
struct tt_nvmf_xport_caps {
	uint32_t icd_max;               /* in-capsule data bytes after the SQE; 0: none */
	bool icd_offset;                /* in-capsule data may start at an offset (else at 0) */
	uint8_t transport_sgl;          /* the Transport SGL Data Block identifier it takes
					 * (5Ah for NVMe/TCP), 0: none */
	bool keyed;                     /* Keyed SGL Data Block descriptors (NVMe/RDMA) */
	uint32_t sgls;                  /* Identify Controller SGLS */
};

/* What a transport does for the core on one queue pair. */
struct tt_nvmf_qpair_ops {
	const struct tt_nvmf_xport_caps *caps;
	/* The request is done: r->cqe is filled; send r->xfer_len bytes of r->buf first when
	 * r->dir is C2H. The transport owns the request again. */
	void (*complete)(struct tt_nvmf_req *r);
	/* The controller ended or the port it came in through was removed: stop the queue now (no
	 * waiting for the host). The transport calls tt_nvmf_qpair_closed() later, from its own
	 * callback, never from inside this call. */
	void (*disconnect)(struct tt_nvmf_qpair *qp);
};

/* A queue pair (one NVMe/TCP connection); the transport's connection embeds it. */
struct tt_nvmf_qpair {
	const struct tt_nvmf_qpair_ops *ops;
	struct tt_nvmf_port *port;      /* where it came in, a reference until tt_nvmf_qpair_fini
					 * (NULL in unit tests) */
	struct tt_list port_node;       /* in port->qpairs */
	struct tt_nvmf_ctrl *ctrl;      /* a controller reference from Connect to closed */
	struct tt_list node;            /* in ctrl->qpairs */
	uint16_t qid;
	uint16_t sqsize;                /* entries (not 0's based) */
	uint16_t sqhd;
	bool connected;                 /* a Connect succeeded on it */
	/* set by a transport whose connection names its queue before Connect (NVMe/RDMA's CM
	 * request): Connect must name the same QID and at most max_entries entries */
	bool qid_fixed;
	uint16_t fixed_qid;
	uint16_t max_entries;           /* 0: the core's limit only */
	bool closed;
	char peer[80];                  /* for logs */
	uint64_t id;
};

enum tt_nvmf_dir { TT_NVMF_DIR_NONE, TT_NVMF_DIR_H2C, TT_NVMF_DIR_C2H };

/* The data descriptor (SGL1) of a command, as tt_nvmf_req_layout read it. */
enum tt_nvmf_sgl_kind {
	TT_NVMF_SGL_NONE,               /* no data */
	TT_NVMF_SGL_IN_CAPSULE,         /* Data Block, offset subtype: in the capsule at @addr */
	TT_NVMF_SGL_TRANSPORT,          /* Transport SGL Data Block: moved by the transport */
	TT_NVMF_SGL_KEYED,              /* Keyed SGL Data Block: host memory at @addr, key @key */
};

struct tt_nvmf_sgl {
	enum tt_nvmf_sgl_kind kind;
	uint64_t addr;                  /* in-capsule offset, or the host's address */
	uint32_t key;
	bool invalidate;                /* keyed, subtype Fh: the host asks to invalidate @key */
};

/* One command; the transport's request embeds it. */
struct tt_nvmf_req {
	struct tt_nvmf_qpair *qp;
	uint8_t sqe[TT_NVME_SQE_SIZE];
	uint8_t cqe[TT_NVME_CQE_SIZE];
	uint8_t *buf;                   /* data: the transport allocates it (tt_nvmf_req_layout),
	                                 * uncleared: a C2H handler sets every byte up to xfer_len
	                                 * (admin answers zero theirs first; read data is the
	                                 * backend's, whole, or xfer_len stays 0) */
	uint32_t len;                   /* the SGL's length */
	uint32_t xfer_len;              /* C2H: bytes to send back (<= len) */
	enum tt_nvmf_dir dir;
	struct tt_nvmf_sgl sgl;         /* set by tt_nvmf_req_layout */

	/* private to the core */
	struct tt_nvmf_ctrl *ctrl;      /* a reference while it executes */
	struct tt_list node;            /* parked AER or Connect */
	struct tt_bdev_io io;
	struct iovec iov;
	uint8_t *cmp_buf;               /* Compare: what the backend holds */
	unsigned pending;               /* backend I/Os of a Dataset Management */
	uint16_t status;
	uint32_t dw1;                   /* dword 1 of the completion */
};

/*
 * Where a command's data is, from its SGL and the transport's caps (sgl.c): @r->dir, @r->len,
 * @r->sgl, and *@in_capsule when the data comes in the command capsule. Returns 0, or an NVMe
 * status (positive, with DNR) to complete it with: Data SGL Length Invalid (beyond MDTS or the
 * in-capsule room), SGL Descriptor Type Invalid (a type or subtype the transport does not take,
 * in-capsule data of a read), Invalid SGL Offset (in-capsule data beyond the capsule, or at an
 * offset the transport does not allow), Invalid Field (PRPs, bidirectional).
 */
uint16_t tt_nvmf_req_layout(struct tt_nvmf_req *r, bool *in_capsule);
/* Executes a request whose data (H2C) has arrived. Completes through qp->ops->complete(), maybe
 * before it returns. */
void tt_nvmf_req_exec(struct tt_nvmf_req *r);
/* Completes @r at once with @status (a transport error, a bad layout). */
void tt_nvmf_req_fail(struct tt_nvmf_req *r, uint16_t status);

/* A new queue pair that came in through @port (NULL: none): takes a port reference. */
void tt_nvmf_qpair_init(struct tt_nvmf_qpair *qp, const struct tt_nvmf_qpair_ops *ops,
			struct tt_nvmf_port *port);
/* The transport frees the queue pair's connection (after tt_nvmf_qpair_closed, or when it never
 * reached the core): drops the port reference. Idempotent; a zeroed queue pair is fine. */
void tt_nvmf_qpair_fini(struct tt_nvmf_qpair *qp);
/* The transport's queue is gone (peer closed, error, disconnect done): drops its controller
 * reference; closing the admin queue ends the controller. Requests still executing complete
 * later through ops->complete: the transport keeps them until then. */
void tt_nvmf_qpair_closed(struct tt_nvmf_qpair *qp);

/* ---- configuration (loop 0) ---------------------------------------------------------------- */

/* Starts the core: the discovery subsystem. 0 or -errno. */
int tt_nvmf_init(void);
/* Ends every controller, frees subsystems and ports (controllers go with their last queue). */
void tt_nvmf_fini(void);

/* Whether @nqn is a well-formed NQN ("nqn.YYYY-MM.reverse.domain[:name]", 1..223 printable
 * bytes): 0 or -EINVAL with the reason in @err. Pure. */
int tt_nvmf_nqn_check(const char *nqn, char *err, size_t errlen);

/* A subsystem named @nqn (nqn.YYYY-MM.reverse.domain:..., at most 223 bytes). */
int tt_nvmf_subsys_create(const char *nqn, struct tt_nvmf_subsys **out, char *err, size_t errlen);
struct tt_nvmf_subsys *tt_nvmf_subsys_find(const char *nqn);
/* Serve @bdev as namespace @nsid (1..TT_NVMF_MAX_NAMESPACES); takes a backend reference. @naa_id
 * gives the NGUID (the NAA 6 identifier the SCSI LUN reports for the same id) and the UUID. */
int tt_nvmf_ns_add(struct tt_nvmf_subsys *s, uint32_t nsid, struct tt_bdev *bdev, uint64_t naa_id,
		   char *err, size_t errlen);
int tt_nvmf_ns_remove(struct tt_nvmf_subsys *s, uint32_t nsid, char *err, size_t errlen);
/* Hosts allowed to connect: any (the default) or only those named. */
void tt_nvmf_subsys_allow_any_host(struct tt_nvmf_subsys *s, bool any);
int tt_nvmf_subsys_add_host(struct tt_nvmf_subsys *s, const char *hostnqn, char *err,
			    size_t errlen);
/* Listen on @addr ("nvme-tcp://ADDR[:PORT]", "nvme-rdma://ADDR[:PORT]") in ANA group @ana_group
 * (0: group 1). An address that is served already is that port (-EEXIST when its ANA group
 * differs). -EPROTONOSUPPORT for a fabric this build does not serve. */
int tt_nvmf_port_add(const char *addr, uint32_t ana_group, struct tt_nvmf_port **out, char *err,
		     size_t errlen);
struct tt_nvmf_port *tt_nvmf_port_find(const char *addr);
/* Stops serving the port @addr: it stops listening and leaves the discovery log, the
 * controllers whose admin queue came in through it end, the other queue pairs that came in
 * through it are disconnected; freed with its last reference. The ANA group keeps its state.
 * 0, or -ENOENT (no such port) / -EINVAL (not an address) with @err naming @addr. */
int tt_nvmf_port_remove(const char *addr, char *err, size_t errlen);
/* Moves @p to ANA group @group (1..TT_NVMF_ANA_GROUP_MAX): the ANA change count moves on and its
 * live controllers get an ANA change notice (when they enabled them); Identify Namespace, the ANA
 * log page and the I/O checks of its paths follow the new group. 0 (also when already there) or
 * -EINVAL with @err naming the group. */
int tt_nvmf_port_set_ana_group(struct tt_nvmf_port *p, uint32_t group, char *err, size_t errlen);
/* References (see the port lifecycle above). */
void tt_nvmf_port_get(struct tt_nvmf_port *p);
void tt_nvmf_port_put(struct tt_nvmf_port *p);
const char *tt_nvmf_port_state_name(enum tt_nvmf_port_state s);
/* The discovery log's generation counter: moves on when a port or a subsystem comes or goes. */
uint64_t tt_nvmf_discovery_genctr(void);
/* Every port, in creation order (loop 0). */
struct tt_list *tt_nvmf_ports(void);
/* Every subsystem but the discovery one, in creation order (loop 0). */
struct tt_list *tt_nvmf_subsystems(void);

/* Ends the subsystem's controllers and takes it out of the registry; freed with its last
 * controller. */
int tt_nvmf_subsys_delete(const char *nqn, char *err, size_t errlen);
/* Serial number (SN, printable ASCII, at most 20) and model (MN, at most 40); "" = default. */
int tt_nvmf_subsys_set_ids(struct tt_nvmf_subsys *s, const char *serial, const char *model,
			   char *err, size_t errlen);
/* Removes @hostnqn from the allowed hosts; its controllers end. */
int tt_nvmf_subsys_remove_host(struct tt_nvmf_subsys *s, const char *hostnqn, char *err,
			       size_t errlen);
/* Where a namespace came from, for dumps: "backend" and the spec, or a target's LUN. */
int tt_nvmf_ns_set_origin(struct tt_nvmf_subsys *s, uint32_t nsid, const char *backend,
			  const char *lun_target, uint64_t lun_id);

/*
 * The state of ANA group @group (1..TT_NVMF_ANA_GROUP_MAX; a group is created by its first
 * state). When it changes, the ANA change count moves on and every live controller through a port
 * of the group gets an Asymmetric Namespace Access Change notice (when it enabled them). 0 or
 * -EINVAL.
 */
int tt_nvmf_ana_set(uint32_t group, enum tt_nvmf_ana_state state, char *err, size_t errlen);
/* The state of @group (optimized for a group never set). */
enum tt_nvmf_ana_state tt_nvmf_ana_get(uint32_t group);
/* Whether @group was given a state or is used by a port. */
bool tt_nvmf_ana_group_exists(uint32_t group);
/* Number of groups given a state or used by a port (NANAGRPID). */
uint32_t tt_nvmf_ana_group_count(void);
/* The ANA change count (ANA log page). */
uint64_t tt_nvmf_ana_change_count(void);

/* "tetherd: serving NQN on nvme-tcp://... (N namespaces)" for each subsystem. */
void tt_nvmf_print_serving(FILE *f);

/* Whether this build serves NVMe-oF over @fabric (an enum tt_fabric). */
bool tt_nvmf_fabric_served(int fabric);
/* Daemon shutdown, on loop 0 while it runs: closes every connection of every transport. */
void tt_nvmf_close_all(void);
/* Connections of every transport not freed yet. */
unsigned tt_nvmf_conn_count(void);

/* For tests and the control socket: the controllers of @s. */
unsigned tt_nvmf_subsys_ctrl_count(const struct tt_nvmf_subsys *s);

/* What the configuration dump and the control socket read of a subsystem (loop 0). */
struct tt_nvmf_subsys_info {
	const char *nqn, *serial, *model;
	bool serial_set, model_set;     /* given (else derived / the default) */
	bool allow_any_host;
	unsigned namespaces, controllers;
};
struct tt_nvmf_ns_info {
	uint32_t nsid;
	const char *backend;            /* "" for a target's LUN */
	const char *lun_target;
	uint64_t lun_id;
	uint64_t size;
	uint32_t block_size;
	uint8_t nguid[16];
};
/* The subsystem after @prev (NULL: the first), NULL at the end; the discovery one is left out. */
struct tt_nvmf_subsys *tt_nvmf_subsys_next(struct tt_nvmf_subsys *prev);
void tt_nvmf_subsys_info(const struct tt_nvmf_subsys *s, struct tt_nvmf_subsys_info *out);
/* The @i-th allowed host (NULL past the end) and namespace (-ENOENT past the end). */
const char *tt_nvmf_subsys_host(const struct tt_nvmf_subsys *s, size_t i);
int tt_nvmf_subsys_ns(const struct tt_nvmf_subsys *s, size_t i, struct tt_nvmf_ns_info *out);

/* A controller as the control socket lists it. */
struct tt_nvmf_ctrl_info {
	char subnqn[TT_NVMF_NQN_MAX + 1];
	char hostnqn[TT_NVMF_NQN_MAX + 1];
	char hostid[37];
	char port[TT_PORTAL_ADDR_MAX];
	uint16_t cntlid;
	uint32_t ana_group;
	const char *state;
	uint32_t kato_ms;
	unsigned queues;                /* connected queue pairs, the admin queue included */
};
/* Every controller of every subsystem (malloc'd array, the caller frees it). 0 or -ENOMEM. */
int tt_nvmf_ctrl_snapshot(struct tt_nvmf_ctrl_info **out, size_t *count);

/*
 * Reservations (NVMe 2.0 8.1.22). The core decodes Reservation Register, Acquire, Release and
 * Report, and serves the notifications (log page 80h, Set/Get Features 82h and 83h); the state
 * itself belongs to a keeper above it (the target layer keeps it in the SCSI persistent
 * reservations of the LUN behind the namespace, so that a LUN exported over NVMe-oF and iSCSI or
 * SRP has one reservation state). A registrant is a host, named by its Host Identifier. A
 * namespace the keeper did not take (tt_nvmf_ns_set_resv) reports no reservation capability
 * and refuses the commands (Invalid Opcode). Loop 0, like the rest of the core.
 */
enum tt_nvmf_resv_op {
	TT_NVMF_RESV_REGISTER,          /* action: RREGA (0 register, 1 unregister, 2 replace) */
	TT_NVMF_RESV_ACQUIRE,           /* action: RACQA (0 acquire, 1 preempt, 2 and abort) */
	TT_NVMF_RESV_RELEASE,           /* action: RRELA (0 release, 1 clear) */
};

/* Reservation types (RTYPE) */
enum tt_nvmf_resv_type {
	TT_NVMF_RESV_NONE = 0,
	TT_NVMF_RESV_WE = 1,            /* Write Exclusive */
	TT_NVMF_RESV_EA = 2,            /* Exclusive Access */
	TT_NVMF_RESV_WE_RO = 3,         /* ... Registrants Only */
	TT_NVMF_RESV_EA_RO = 4,
	TT_NVMF_RESV_WE_AR = 5,         /* ... All Registrants */
	TT_NVMF_RESV_EA_AR = 6,
};

/* Notification types (Reservation Notification log page) */
enum tt_nvmf_resv_notice {
	TT_NVMF_RESV_NOTICE_REG_PREEMPTED = 1,
	TT_NVMF_RESV_NOTICE_RELEASED = 2,
	TT_NVMF_RESV_NOTICE_PREEMPTED = 3,
};

struct tt_nvmf_resv_cmd {
	enum tt_nvmf_resv_op op;
	uint8_t action;
	uint8_t type;                   /* RTYPE as the host sent it */
	bool iekey;                     /* Register: no check of CRKEY */
	uint8_t cptpl;                  /* Register: 0 keep, 2 clear, 3 set persist through power loss */
	uint64_t crkey;
	uint64_t nrkey;                 /* Register: NRKEY; Acquire: PRKEY */
};

struct tt_nvmf_resv_reg {
	uint8_t hostid[16];             /* zeros for a registrant of another protocol */
	uint64_t key;
	bool holder;
};

struct tt_nvmf_resv_status {
	uint32_t generation;
	uint8_t type;                   /* enum tt_nvmf_resv_type */
	bool ptpl;                      /* persist through power loss is on */
	bool ptpl_capable;
	unsigned nregs;
	struct tt_nvmf_resv_reg *regs;  /* malloc'd, the caller frees */
};

struct tt_nvmf_resv_keeper {
	/* Controller @c (of a subsystem with namespaces) begins: its handle, or NULL (out of
	 * memory: reservation commands and I/O of reserved namespaces then fail). Ends at its
	 * free, when nothing of it runs any more. */
	void *(*ctrl_start)(struct tt_nvmf_ctrl *c, const uint8_t hostid[16]);
	void (*ctrl_end)(void *ch);
	/* Namespace @ns_ctx is seen by controller @ch / no longer (namespace removed). */
	void (*ns_attach)(void *ns_ctx, void *ch, uint32_t nsid);
	void (*ns_detach)(void *ns_ctx, void *ch);
	/* Register, Acquire, Release: completes @r through tt_nvmf_resv_done (maybe before it
	 * returns). */
	void (*exec)(void *ns_ctx, void *ch, const struct tt_nvmf_resv_cmd *cmd,
		     struct tt_nvmf_req *r);
	/* Report: 0 or -ENOMEM. */
	int (*status)(void *ns_ctx, struct tt_nvmf_resv_status *out);
	/* I/O through @ch that reads (@write false) or writes: 0, 1 reservation conflict, -EBUSY
	 * (state not to be trusted now). */
	int (*io_check)(void *ns_ctx, void *ch, bool write);
	/* The namespace is gone: its context goes (commands still running keep what they need). */
	void (*ns_release)(void *ns_ctx);
};

/* The keeper (one per process; NULL: none). */
void tt_nvmf_resv_keeper_set(const struct tt_nvmf_resv_keeper *k);
/* Namespace @nsid of @s keeps its reservations in @ns_ctx (the keeper's, released with the
 * namespace). 0, -ENOENT, or -EOPNOTSUPP when no keeper is set (@ns_ctx not taken). */
int tt_nvmf_ns_set_resv(struct tt_nvmf_subsys *s, uint32_t nsid, void *ns_ctx);
/* A keeper's exec is done: @status an NVMe status (0: success). */
void tt_nvmf_resv_done(struct tt_nvmf_req *r, uint16_t status);
/* A notification for controller @c about namespace @nsid (the keeper, on loop 0). */
void tt_nvmf_resv_notice(struct tt_nvmf_ctrl *c, uint32_t nsid, enum tt_nvmf_resv_notice type);
/* Reservation status data of @st as Reservation Report returns it (EDS: the extended data
 * structure), into @buf (@len bytes, zeroed first, truncated). Pure. */
void tt_nvmf_resv_report_build(const struct tt_nvmf_resv_status *st, uint8_t *buf, size_t len);

/* The NGUID and UUID of a namespace with @naa_id (identify.c). */
void tt_nvmf_ns_ids(uint64_t naa_id, uint8_t nguid[16], uint8_t uuid[16]);

#endif
