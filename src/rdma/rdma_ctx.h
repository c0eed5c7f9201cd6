/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inside the RDMA layer only: librdmacm's device contexts that our rdma_cm identifiers are bound
 * to, counted, so that a removed device's context is let go once nothing of ours is on it
 * (rdma_dev.c; see "Device removal" in rdma.h).
 */
#ifndef TT_RDMA_RDMA_CTX_H
#define TT_RDMA_RDMA_CTX_H

#include <infiniband/verbs.h>

/* An identifier of ours is bound to @verbs (NULL: none, nothing counted). */
void tt_rdma_ctx_hold(struct ibv_context *verbs);
/* That identifier has been destroyed. */
void tt_rdma_ctx_release(struct ibv_context *verbs);
/* The CM reported DEVICE_REMOVAL for an identifier on @verbs. */
void tt_rdma_ctx_removed(struct ibv_context *verbs);

#endif
