/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The SRP target port (srp_port.c): srp:// portals of target portal groups, SRP channels as
 * I_T nexuses of the SCSI core over the RDMA layer. docs/srp.md.
 */
#ifndef TT_TARGET_SRP_PORT_H
#define TT_TARGET_SRP_PORT_H

#include <stdbool.h>
#include <stddef.h>

struct tt_portal;

/* srp:// listeners are served from now on (a build with the RDMA layer); loop 0. */
void tt_srp_port_register(void);
/* Whether this build serves srp:// portals. */
bool tt_srp_port_supported(void);
/* The add_target line of an srp:// portal (src/srp/ident.h): its length, or -errno. */
int tt_srp_portal_add_target(const struct tt_portal *p, char *buf, size_t cap);

#endif
