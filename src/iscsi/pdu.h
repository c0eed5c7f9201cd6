/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An iSCSI PDU in memory: the BHS, an optional AHS and a data segment that is either owned by
 * the PDU or points into a task's buffer (Data-In, Data-Out, immediate data: no copies).
 * PDUs come from a per-loop free list.
 */
#ifndef TT_ISCSI_PDU_H
#define TT_ISCSI_PDU_H

#include <stdbool.h>
#include <stdint.h>

#include "base/list.h"
#include "iscsi/wire.h"

struct tt_pdu;
struct tt_task;
typedef void (*tt_pdu_sent_fn)(struct tt_pdu *pdu);

struct tt_pdu {
	struct tt_list node;      /* in a send queue */
	union {
		struct tt_bhs bhs;
		uint8_t raw[TT_BHS_LEN];
	};
	uint8_t *ahs;             /* owned, ahs_len bytes (a multiple of 4) */
	uint32_t ahs_len;
	uint8_t *data;            /* data segment */
	uint32_t data_len;
	bool data_owned;          /* free data with the PDU */
	struct tt_task *task;     /* a reference on the task whose buffer data points into */
	tt_pdu_sent_fn sent;      /* optional: runs once when the PDU is finished with, whether it
				   * went out or was dropped (tt_pdu_free calls it) */
	void *ctx;
	void *owner;              /* the connection a held request came on */

	/* transport scratch */
	uint8_t hdr_digest[4];
	uint8_t data_digest[4];
	uint32_t xmit_done;       /* bytes of this PDU already written */
};

/* Allocate a zeroed PDU from the calling loop's pool; NULL when out of memory. */
struct tt_pdu *tt_pdu_alloc(void);
/* Give the PDU back: frees owned data and the AHS, drops the task reference. */
void tt_pdu_free(struct tt_pdu *pdu);
/* Allocate an owned data segment of @len bytes (zeroed). Returns 0 or -ENOMEM. */
int tt_pdu_alloc_data(struct tt_pdu *pdu, uint32_t len);
/* Total bytes on the wire (BHS + AHS + digests + data + padding). */
uint32_t tt_pdu_wire_len(const struct tt_pdu *pdu, bool hdig, bool ddig);

/* Frees the calling thread's pool of PDUs. Registered with tt_loops_on_thread_exit() when a
 * thread's pool is first used, so it also runs when the thread's caches are released. */
void tt_pdu_pool_drain(void);

/* Hook for the core: drops the task reference a PDU holds (set by src/target). */
extern void (*tt_pdu_task_put)(struct tt_task *task);

#endif
