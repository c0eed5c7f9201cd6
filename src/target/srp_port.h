/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The SRP target port (srp_port.c): srp:// portals of target portal groups, SRP channels as
 * I_T nexuses of the SCSI core over the RDMA layer. docs/srp.md.
 */
#ifndef TT_TARGET_SRP_PORT_H
#define TT_TARGET_SRP_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tt_lun;
struct tt_portal;

/* srp:// listeners are served from now on (a build with the RDMA layer); loop 0. */
void tt_srp_port_register(void);
/* Whether this build serves srp:// portals. */
bool tt_srp_port_supported(void);
/* A LOGICAL UNIT RESET from another front end: every SRP channel's tasks on @lun are aborted
 * (on their loops; they get no SRP_RSP). Any thread. */
void tt_srp_port_abort_lun(struct tt_lun *lun);
/* The ACLs, TPGs or targets changed: every live channel whose initiator may no longer use its
 * target port (ACL removed, the TPG no longer allowing any initiator, TPG or target deleted) is
 * logged out: SRP_T_LOGOUT, then the disconnect (on the channel's loop). Any thread. */
void tt_srp_port_check_access(void);
/* Shutdown: new logins are refused, every live channel is logged out (SRP_T_LOGOUT, then the
 * disconnect, on its loop). Returns the channels there are; tt_srp_port_channels() says how
 * many are left until every one is freed. Any thread. */
unsigned tt_srp_port_shutdown(void);
unsigned tt_srp_port_channels(void);
/* A channel as the control socket lists it (a snapshot; the counters may move meanwhile). */
struct tt_srp_channel_info {
	uint64_t id;
	char initiator[35];           /* initiator port identifier: 0x and 32 hex digits */
	char target_port[35];         /* target port identifier, likewise */
	char target[224];             /* the target's name */
	uint16_t tpgt;
	char peer[80];
	const char *state;            /* CONNECTING, LIVE, ... */
	uint32_t req_limit;           /* granted at login */
	uint32_t credits_held;        /* requests the initiator may still send */
	uint32_t credits_in_use;      /* requests received, not yet answered or ended */
	uint32_t credits_to_return;   /* for the next REQUEST LIMIT DELTA */
	unsigned tasks;               /* SCSI tasks of the channel */
	unsigned nluns;
	uint64_t *luns;               /* malloc'd, nluns entries */
};

/* Every SRP channel: 0 and *@out (NULL when none; free with tt_srp_channels_free), or -errno. */
int tt_srp_channels_snapshot(struct tt_srp_channel_info **out, size_t *count);
void tt_srp_channels_free(struct tt_srp_channel_info *info, size_t count);
/* The add_target line of an srp:// portal (src/srp/ident.h): its length, or -errno. */
int tt_srp_portal_add_target(const struct tt_portal *p, char *buf, size_t cap);

#endif
