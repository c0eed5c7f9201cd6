/* SPDX-License-Identifier: BSD-3-Clause */
#include "iscsi/pdu.h"
#include "base/loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PDU_POOL_MAX 1024

/* A free list per thread (a loop's thread, or the application thread that services a loop):
 * no locks. Released with the thread's other caches (tt_loops_run_thread_exit). */
static __thread struct tt_list pool = { NULL, NULL };
static __thread unsigned pool_count;

struct tt_pdu *tt_pdu_alloc(void)
{
	struct tt_pdu *pdu = NULL;
	struct tt_list *n;

	if (pool.next && (n = tt_list_pop(&pool))) {
		pool_count--;
		pdu = tt_list_entry(n, struct tt_pdu, node);
		memset(pdu, 0, sizeof(*pdu));
	} else {
		pdu = calloc(1, sizeof(*pdu));
		if (!pdu)
			return NULL;
	}
	tt_list_init(&pdu->node);
	return pdu;
}

void tt_pdu_free(struct tt_pdu *pdu)
{
	if (!pdu)
		return;
	if (pdu->sent) {
		tt_pdu_sent_fn fn = pdu->sent;

		pdu->sent = NULL;
		fn(pdu);
	}
	if (tt_list_linked(&pdu->node))
		tt_list_del(&pdu->node);
	if (pdu->data_owned)
		free(pdu->data);
	free(pdu->ahs);
	if (pdu->ref)
		pdu->ref->put(pdu->ref);
	if (!pool.next) {
		tt_list_init(&pool);
		tt_loops_on_thread_exit(tt_pdu_pool_drain);
	}
	if (pool_count < PDU_POOL_MAX) {
		pool_count++;
		tt_list_add(&pool, &pdu->node);
		return;
	}
	free(pdu);
}

int tt_pdu_alloc_data(struct tt_pdu *pdu, uint32_t len)
{
	if (pdu->data_owned)
		free(pdu->data);
	pdu->data = calloc(1, len ? len : 1);
	if (!pdu->data) {
		pdu->data_owned = false;
		pdu->data_len = 0;
		return -ENOMEM;
	}
	pdu->data_owned = true;
	pdu->data_len = len;
	return 0;
}

uint32_t tt_pdu_wire_len(const struct tt_pdu *pdu, bool hdig, bool ddig)
{
	uint32_t len = TT_BHS_LEN + pdu->ahs_len + (hdig ? TT_DIGEST_LEN : 0);

	if (pdu->data_len)
		len += pdu->data_len + tt_pad4(pdu->data_len) + (ddig ? TT_DIGEST_LEN : 0);
	return len;
}

void tt_pdu_pool_drain(void)
{
	struct tt_list *n;

	if (!pool.next)
		return;
	while ((n = tt_list_pop(&pool)))
		free(tt_list_entry(n, struct tt_pdu, node));
	pool_count = 0;
}
