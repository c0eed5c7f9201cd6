/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NVMe/TCP transport of the NVMe-oF core: one TCP connection per queue pair. A port's address
 * is a shared listener (xport/listener.h) whose transport is registered for nvme-tcp://; every
 * connection it accepts stays on loop 0 with the core (nvmf.h).
 *
 * Connection references (refs) and their holders: the socket, from accept until the connection
 * is closed (peer gone, termination request sent, controller ended); each request slot in use,
 * from its command capsule until its completion has been written or dropped. Freed when the last
 * one goes; a backend I/O still executing keeps its request, and so the connection.
 *
 * Malformed input (a header field out of place, a bad header digest, data beyond the transfer,
 * an unknown PDU type, more commands than the queue holds) is answered with a C2HTermReq naming
 * the field, and the connection is closed once it has been sent. A bad data digest fails only
 * its command (Transient Transport Error).
 */
#ifndef TT_NVMF_TCP_H
#define TT_NVMF_TCP_H

#include <stddef.h>

#include "nvmf/nvmf.h"

/* The port transport of nvme-tcp:// and the caps of its queues. */
extern const struct tt_nvmf_port_xport tt_nvmf_tcp_port;
extern const struct tt_nvmf_xport_caps tt_nvmf_tcp_caps;
/* Registers the transport for nvme-tcp:// with the listener layer (once, loop 0). */
void tt_nvmf_tcp_register(void);
/* Closes every connection (daemon shutdown); those with I/O still in flight go when it ends. */
void tt_nvmf_tcp_close_all(void);

#endif
