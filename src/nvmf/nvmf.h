/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NVMe over Fabrics controller core: subsystems with namespaces over block backends, the
 * discovery subsystem, controllers with an admin queue and I/O queues, and the commands they
 * serve. Transports (NVMe/TCP today, tcp.c) hand the core requests on queue pairs and send what
 * it completes; the core never sees bytes of a socket.
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
 *   any of them --(admin queue closed | keep-alive timeout | same host reconnects)--> ENDING
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

/* A port: a listening address whose subsystems the discovery log reports. */
struct tt_nvmf_port {
	struct tt_list node;
	uint16_t portid;
	struct tt_portal_addr addr;
	char name[TT_PORTAL_ADDR_MAX];
	struct tt_listener *listener;   /* a user of the shared listener */
};

/* What a transport does for the core on one queue pair. */
struct tt_nvmf_qpair_ops {
	/* The request is done: r->cqe is filled; send r->xfer_len bytes of r->buf first when
	 * r->dir is C2H. The transport owns the request again. */
	void (*complete)(struct tt_nvmf_req *r);
	/* The controller ended: stop the queue now (no waiting for the host). The transport calls
	 * tt_nvmf_qpair_closed() later, from its own callback, never from inside this call. */
	void (*disconnect)(struct tt_nvmf_qpair *qp);
};

/* A queue pair (one NVMe/TCP connection); the transport's connection embeds it. */
struct tt_nvmf_qpair {
	const struct tt_nvmf_qpair_ops *ops;
	struct tt_nvmf_port *port;      /* where it came in (NULL in unit tests) */
	struct tt_nvmf_ctrl *ctrl;      /* a controller reference from Connect to closed */
	struct tt_list node;            /* in ctrl->qpairs */
	uint16_t qid;
	uint16_t sqsize;                /* entries (not 0's based) */
	uint16_t sqhd;
	bool connected;                 /* a Connect succeeded on it */
	bool closed;
	char peer[80];                  /* for logs */
	uint64_t id;
};

enum tt_nvmf_dir { TT_NVMF_DIR_NONE, TT_NVMF_DIR_H2C, TT_NVMF_DIR_C2H };

/* One command; the transport's request embeds it. */
struct tt_nvmf_req {
	struct tt_nvmf_qpair *qp;
	uint8_t sqe[TT_NVME_SQE_SIZE];
	uint8_t cqe[TT_NVME_CQE_SIZE];
	uint8_t *buf;                   /* data: the transport allocates it (tt_nvmf_req_layout) */
	uint32_t len;                   /* the SGL's length */
	uint32_t xfer_len;              /* C2H: bytes to send back (<= len) */
	enum tt_nvmf_dir dir;

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
 * Where a command's data is, from its SGL: @r->dir and @r->len, and *@in_capsule when the data
 * comes in the command capsule. Returns 0, or an NVMe status (positive) to complete it with.
 */
uint16_t tt_nvmf_req_layout(struct tt_nvmf_req *r, bool *in_capsule);
/* Executes a request whose data (H2C) has arrived. Completes through qp->ops->complete(), maybe
 * before it returns. */
void tt_nvmf_req_exec(struct tt_nvmf_req *r);
/* Completes @r at once with @status (a transport error, a bad layout). */
void tt_nvmf_req_fail(struct tt_nvmf_req *r, uint16_t status);

void tt_nvmf_qpair_init(struct tt_nvmf_qpair *qp, const struct tt_nvmf_qpair_ops *ops,
			struct tt_nvmf_port *port);
/* The transport's queue is gone (peer closed, error, disconnect done): drops its controller
 * reference; closing the admin queue ends the controller. Requests still executing complete
 * later through ops->complete: the transport keeps them until then. */
void tt_nvmf_qpair_closed(struct tt_nvmf_qpair *qp);

/* ---- configuration (loop 0) ---------------------------------------------------------------- */

/* Starts the core: the discovery subsystem. 0 or -errno. */
int tt_nvmf_init(void);
/* Ends every controller, frees subsystems and ports (controllers go with their last queue). */
void tt_nvmf_fini(void);

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
/* Listen on @addr ("nvme-tcp://ADDR[:PORT]"). */
int tt_nvmf_port_add(const char *addr, struct tt_nvmf_port **out, char *err, size_t errlen);

/* "tetherd: serving NQN on nvme-tcp://... (N namespaces)" for each subsystem. */
void tt_nvmf_print_serving(FILE *f);

/* For tests and the control socket: the controllers of @s. */
unsigned tt_nvmf_subsys_ctrl_count(const struct tt_nvmf_subsys *s);

/* The NGUID and UUID of a namespace with @naa_id (identify.c). */
void tt_nvmf_ns_ids(uint64_t naa_id, uint8_t nguid[16], uint8_t uuid[16]);

#endif
