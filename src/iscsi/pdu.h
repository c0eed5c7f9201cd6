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
typedef void (*tt_pdu_sent_fn)(struct tt_pdu *pdu);

/*
 * A reference a PDU holds on the owner of the memory its data segment points into (a task and
 * its buffer): put() runs when the PDU is freed. The owner embeds it and takes its own count.
 */
struct tt_pdu_ref {
	void (*put)(struct tt_pdu_ref *ref);
};

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
	struct tt_pdu_ref *ref;   /* held on the owner of the buffer data points into, or NULL */
	tt_pdu_sent_fn sent;      /* optional: runs once when the PDU is finished with, whether it
				   * went out or was dropped (tt_pdu_free calls it) */
	void *ctx;
	void *owner;              /* the connection a held request came on */

	/* transport scratch */
	uint8_t hdr_digest[4];
	uint8_t data_digest[4];
	uint32_t xmit_done;       /* bytes of this PDU already written */
	uint64_t xport_area[4];   /* what the transport received with a command and keeps in its
				   * task (struct tt_xtask.area; iSER: the remote keys) */
};

/* Allocate a zeroed PDU from the calling loop's pool; NULL when out of memory. */
struct tt_pdu *tt_pdu_alloc(void);
/* Give the PDU back: runs the sent hook, frees owned data and the AHS, drops pdu->ref. */
void tt_pdu_free(struct tt_pdu *pdu);
/* Allocate an owned data segment of @len bytes (zeroed). Returns 0 or -ENOMEM. */
int tt_pdu_alloc_data(struct tt_pdu *pdu, uint32_t len);
/* Total bytes on the wire (BHS + AHS + digests + data + padding). */
uint32_t tt_pdu_wire_len(const struct tt_pdu *pdu, bool hdig, bool ddig);

/* Frees the calling thread's pool of PDUs. Registered with tt_loops_on_thread_exit() when a
 * thread's pool is first used, so it also runs when the thread's caches are released. */
void tt_pdu_pool_drain(void);

#endif
