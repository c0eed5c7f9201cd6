/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The path lifecycle, modelled on the Linux NVMe host controller (nvme_change_ctrl_state): the
 * table of allowed transitions and the reconnect policy, both pure functions of their inputs.
 * ti_path_set_state (path.c) is the only writer of a path's state and attaches the side effects
 * to the edges.
 *
 *   NEW ──> CONNECTING ──> LIVE ──> RECOVERING ──(reconnect delay)──> CONNECTING ...
 *               └──────(attempt failed)───┘
 *   any but DEAD ──> DELETING ──> DEAD
 */
#include "initiator/initiator.h"

#include "base/clock.h"

static const char *const state_names[TI_PATH__COUNT] = {
	[TI_PATH_NEW] = "new",
	[TI_PATH_CONNECTING] = "connecting",
	[TI_PATH_LIVE] = "live",
	[TI_PATH_RECOVERING] = "recovering",
	[TI_PATH_DELETING] = "deleting",
	[TI_PATH_DEAD] = "dead",
};

const char *ti_path_state_name(enum ti_path_state s)
{
	return (unsigned)s < TI_PATH__COUNT ? state_names[s] : "?";
}

bool ti_path_transition_ok(enum ti_path_state from, enum ti_path_state to)
{
	switch (to) {
	case TI_PATH_CONNECTING:
		/* the first attempt, or the next one after the reconnect delay */
		return from == TI_PATH_NEW || from == TI_PATH_RECOVERING;
	case TI_PATH_LIVE:
		/* logged in and the unit's identity checked */
		return from == TI_PATH_CONNECTING;
	case TI_PATH_RECOVERING:
		/* a live path failed, or an attempt did */
		return from == TI_PATH_LIVE || from == TI_PATH_CONNECTING;
	case TI_PATH_DELETING:
		return from == TI_PATH_NEW || from == TI_PATH_CONNECTING || from == TI_PATH_LIVE ||
		       from == TI_PATH_RECOVERING;
	case TI_PATH_DEAD:
		return from == TI_PATH_DELETING;
	case TI_PATH_NEW:
	case TI_PATH__COUNT:
		break;
	}
	return false;
}

uint64_t ti_reconnect_delay_ms(const struct tether_opts *o, unsigned attempt)
{
	uint64_t d = o->reconnect_delay_ms > 0 ? (uint64_t)o->reconnect_delay_ms : 0;
	uint64_t max = o->reconnect_max_delay_ms > 0 ? (uint64_t)o->reconnect_max_delay_ms : 0;

	if (max < d)
		max = d;
	for (unsigned i = 0; i < attempt && d < max; i++)
		d *= 2;
	return d < max ? d : max;
}

bool ti_should_reconnect(const struct tether_opts *o, uint64_t down_since_ns, uint64_t now_ns,
			 bool auth_failed)
{
	if (auth_failed)
		return false;
	if (o->path_loss_timeout_ms < 0)
		return true;
	return now_ns - down_since_ns < (uint64_t)o->path_loss_timeout_ms * TT_NS_PER_MS;
}
