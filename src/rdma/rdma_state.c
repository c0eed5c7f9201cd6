/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The RDMA connection's lifecycle table and its references counted per holder (see rdma.h).
 * No verbs here: the rules are unit tested on any host.
 */
#include "rdma/rdma.h"

static const char *const state_names[TT_RDMA_CONN_STATE_COUNT] = {
	[TT_RDMA_CONN_NEW] = "new",
	[TT_RDMA_CONN_ACCEPTING] = "accepting",
	[TT_RDMA_CONN_ESTABLISHED] = "established",
	[TT_RDMA_CONN_DRAINING] = "draining",
	[TT_RDMA_CONN_CLOSED] = "closed",
};

static const char *const ref_names[TT_RDMA_REF_COUNT] = {
	[TT_RDMA_REF_UPPER] = "upper",
	[TT_RDMA_REF_RECV] = "recv",
	[TT_RDMA_REF_SEND] = "send",
	[TT_RDMA_REF_READ] = "rdma-read",
	[TT_RDMA_REF_WRITE] = "rdma-write",
	[TT_RDMA_REF_DRAIN] = "drain",
};

const char *tt_rdma_conn_state_name(enum tt_rdma_conn_state s)
{
	return (unsigned)s < TT_RDMA_CONN_STATE_COUNT ? state_names[s] : "?";
}

const char *tt_rdma_ref_name(enum tt_rdma_ref h)
{
	return (unsigned)h < TT_RDMA_REF_COUNT ? ref_names[h] : "?";
}

bool tt_rdma_conn_transition_ok(enum tt_rdma_conn_state from, enum tt_rdma_conn_state to)
{
	switch (to) {
	case TT_RDMA_CONN_ACCEPTING:
		return from == TT_RDMA_CONN_NEW;
	case TT_RDMA_CONN_ESTABLISHED:
		return from == TT_RDMA_CONN_ACCEPTING;
	case TT_RDMA_CONN_DRAINING:
		return from == TT_RDMA_CONN_NEW || from == TT_RDMA_CONN_ACCEPTING ||
		       from == TT_RDMA_CONN_ESTABLISHED;
	case TT_RDMA_CONN_CLOSED:
		return from == TT_RDMA_CONN_DRAINING;
	default:
		return false;
	}
}

void tt_rdma_refs_get(struct tt_rdma_refs *r, enum tt_rdma_ref h)
{
	if ((unsigned)h < TT_RDMA_REF_COUNT)
		r->n[h]++;
}

uint32_t tt_rdma_refs_total(const struct tt_rdma_refs *r)
{
	uint32_t t = 0;

	for (unsigned i = 0; i < TT_RDMA_REF_COUNT; i++)
		t += r->n[i];
	return t;
}

uint32_t tt_rdma_refs_posted(const struct tt_rdma_refs *r)
{
	return tt_rdma_refs_total(r) - r->n[TT_RDMA_REF_UPPER];
}

bool tt_rdma_refs_put(struct tt_rdma_refs *r, enum tt_rdma_ref h, bool *underflow)
{
	if ((unsigned)h >= TT_RDMA_REF_COUNT || r->n[h] == 0) {
		if (underflow)
			*underflow = true;
		return false;
	}
	r->n[h]--;
	return tt_rdma_refs_total(r) == 0;
}
