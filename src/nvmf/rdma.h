/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NVMe/RDMA transport of the NVMe-oF core (NVMe over Fabrics 1.1 7.3), on the RDMA layer
 * (src/rdma): one reliable connection per queue pair, made by RDMA_CM with the NVMe/RDMA private
 * data (rdma_cm.h). Every connection stays on loop 0 with the core (nvmf.h).
 *
 *   command capsule  a RECV: the 64-byte SQE and up to 8 KiB of in-capsule data
 *   response capsule a SEND of the 16-byte CQE (Send With Invalidate when the host asked)
 *   write data       in the capsule, or an RDMA READ from the host's keyed SGL before the command
 *                    runs
 *   read data        an RDMA WRITE to the host's keyed SGL, then the response SEND behind it on
 *                    the same queue (the host sees the data before the completion)
 *
 * Lifetimes: the connection's memory holds the RDMA connection (its upper reference, see
 * rdma/rdma.h) and is freed when the RDMA layer says freed. The upper reference goes once the
 * RDMA connection is CLOSED (every posted work request back, the core told with
 * tt_nvmf_qpair_closed) and no request is still in the core (backend I/O, a parked Asynchronous
 * Event Request): `in_core` counts those. A request holds its slot from its command RECV until
 * every work request of its answer (RDMA WRITE, SEND) has completed or flushed.
 */
#ifndef TT_NVMF_RDMA_H
#define TT_NVMF_RDMA_H

#include "nvmf/nvmf.h"

#ifdef TT_HAVE_RDMA
/* The port transport of nvme-rdma:// and the caps of its queues. */
extern const struct tt_nvmf_port_xport tt_nvmf_rdma_port;
extern const struct tt_nvmf_xport_caps tt_nvmf_rdma_caps;
#endif

#endif
