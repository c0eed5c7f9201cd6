/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NVMe reservations kept in the SCSI persistent reservations of a LUN (nvmf_resv.c): the keeper
 * of the NVMe-oF core (nvmf.h). Each NVMe controller is an I_T nexus of the SCSI core (the NVMe
 * front end, protocol "nvme": the host is its Host Identifier, registrations cover every port);
 * Register, Acquire and Release run as PERSISTENT RESERVE OUT tasks on the namespace's LUN, so
 * the state file (APTPL), the shared record of an RBD medium, unit attentions for SCSI
 * initiators and the RESERVATION CONFLICT rules are those of the SCSI core, and a LUN exported
 * over both fabrics has one reservation state. Reservation events for NVMe controllers become
 * Reservation Notification log page entries. Loop 0.
 */
#ifndef TT_TARGET_NVMF_RESV_H
#define TT_TARGET_NVMF_RESV_H

#include <stdbool.h>
#include <stdint.h>

#include "bdev/bdev.h"
#include "nvmf/nvmf.h"
#include "scsi/scsi.h"

/* Makes this the NVMe-oF core's reservation keeper (after tt_nvmf_init). */
void tt_nvmf_resv_keeper_init(void);

/* Namespace @nsid of @s keeps its reservations in @lun's (a target's LUN: takes a reference).
 * 0 or -errno. */
int tt_nvmf_resv_bind_lun(struct tt_nvmf_subsys *s, uint32_t nsid, struct tt_lun *lun);
/* Namespace @nsid of @s, served from a backend of its own: its reservations in a LUN made for
 * it alone (named after the subsystem; a shared medium shares them with the other gateways).
 * 0 or -errno. */
int tt_nvmf_resv_bind_backend(struct tt_nvmf_subsys *s, uint32_t nsid, struct tt_bdev *bdev,
			      uint64_t naa_id);

/* --- pure, for tests ------------------------------------------------------------------------- */

/* The PERSISTENT RESERVE OUT (10) CDB and its 24-byte parameter list that do @c, with @aptpl the
 * current persist through power loss state (kept by a Register with CPTPL 0). 0, or the NVMe
 * status to complete the command with (Invalid Field). */
uint16_t tt_nvmf_resv_prout(const struct tt_nvmf_resv_cmd *c, bool aptpl, uint8_t cdb[10],
			    uint8_t param[24]);
/* The NVMe status of a finished PERSISTENT RESERVE OUT: SAM @status and its sense data. */
uint16_t tt_nvmf_resv_status_of(uint8_t status, const uint8_t *sense, unsigned sense_len);
/* Reservation types: NVMe RTYPE -> SCSI TYPE (0 for an invalid one) and back (0: none). */
uint8_t tt_nvmf_resv_type_to_scsi(uint8_t rtype);
uint8_t tt_nvmf_resv_type_from_scsi(uint8_t type);

#endif
