/* SPDX-License-Identifier: BSD-3-Clause */
/* The SRP channel's lifecycle table, its references per holder and its credits (see channel.h). */
#include "srp/channel.h"

#include <errno.h>
#include <string.h>

static const char *const state_names[TT_SRP_CH_STATE_COUNT] = {
	[TT_SRP_CH_CONNECTING] = "connecting",
	[TT_SRP_CH_LIVE] = "live",
	[TT_SRP_CH_DISCONNECTING] = "disconnecting",
	[TT_SRP_CH_DRAINING] = "draining",
	[TT_SRP_CH_DISCONNECTED] = "disconnected",
};

static const char *const ref_names[TT_SRP_REF_COUNT] = {
	[TT_SRP_REF_OWNER] = "owner",
	[TT_SRP_REF_CM] = "cm",
	[TT_SRP_REF_RECV] = "recv",
	[TT_SRP_REF_SEND] = "send",
	[TT_SRP_REF_RDMA_READ] = "rdma-read",
	[TT_SRP_REF_RDMA_WRITE] = "rdma-write",
	[TT_SRP_REF_TASK] = "task",
	[TT_SRP_REF_TMF] = "tmf",
};

const char *tt_srp_ch_state_name(enum tt_srp_ch_state s)
{
	return (unsigned)s < TT_SRP_CH_STATE_COUNT ? state_names[s] : "?";
}

const char *tt_srp_ch_ref_name(enum tt_srp_ch_ref r)
{
	return (unsigned)r < TT_SRP_REF_COUNT ? ref_names[r] : "?";
}

bool tt_srp_ch_transition_ok(enum tt_srp_ch_state from, enum tt_srp_ch_state to)
{
	switch (to) {
	case TT_SRP_CH_LIVE:
		return from == TT_SRP_CH_CONNECTING;
	case TT_SRP_CH_DISCONNECTING:
		return from == TT_SRP_CH_CONNECTING || from == TT_SRP_CH_LIVE;
	case TT_SRP_CH_DRAINING:
		return from == TT_SRP_CH_DISCONNECTING;
	case TT_SRP_CH_DISCONNECTED:
		return from == TT_SRP_CH_DRAINING;
	default:
		return false;
	}
}

void tt_srp_ch_life_init(struct tt_srp_ch_life *l)
{
	memset(l, 0, sizeof(*l));
	l->state = TT_SRP_CH_CONNECTING;
}

uint32_t tt_srp_ch_busy(const struct tt_srp_ch_life *l)
{
	uint32_t t = 0;

	for (unsigned i = 0; i < TT_SRP_REF_COUNT; i++)
		if (i != TT_SRP_REF_OWNER && i != TT_SRP_REF_CM)
			t += l->n[i];
	return t;
}

int tt_srp_ch_set_state(struct tt_srp_ch_life *l, enum tt_srp_ch_state to)
{
	if (!tt_srp_ch_transition_ok(l->state, to))
		return -EINVAL;
	if (to == TT_SRP_CH_DISCONNECTED && tt_srp_ch_busy(l))
		return -EBUSY;
	l->state = to;
	return 0;
}

void tt_srp_ch_get(struct tt_srp_ch_life *l, enum tt_srp_ch_ref r)
{
	if ((unsigned)r < TT_SRP_REF_COUNT)
		l->n[r]++;
}

bool tt_srp_ch_may_free(const struct tt_srp_ch_life *l)
{
	if (l->state != TT_SRP_CH_DISCONNECTED)
		return false;
	for (unsigned i = 0; i < TT_SRP_REF_COUNT; i++)
		if (l->n[i])
			return false;
	return true;
}

bool tt_srp_ch_put(struct tt_srp_ch_life *l, enum tt_srp_ch_ref r)
{
	if ((unsigned)r >= TT_SRP_REF_COUNT || l->n[r] == 0) {
		l->underflow = true;
		return false;
	}
	l->n[r]--;
	return tt_srp_ch_may_free(l);
}

void tt_srp_credits_init(struct tt_srp_credits *c, uint32_t limit)
{
	c->limit = limit;
	c->held = limit;
	c->in_use = 0;
	c->to_return = 0;
}

int tt_srp_credit_take(struct tt_srp_credits *c)
{
	if (c->held == 0)
		return -EPROTO;
	c->held--;
	c->in_use++;
	return 0;
}

int tt_srp_credit_release(struct tt_srp_credits *c)
{
	if (c->in_use == 0)
		return -EINVAL;
	c->in_use--;
	c->to_return++;
	return 0;
}

uint32_t tt_srp_credit_grant(struct tt_srp_credits *c)
{
	uint32_t d = c->to_return;

	c->held += d;
	c->to_return = 0;
	return d;
}
