/* SPDX-License-Identifier: BSD-3-Clause */
/* ANA groups: the state of each group, the change count, and the notices a change sends. */
#include <errno.h>
#include <string.h>

#include "base/errmsg.h"
#include "base/log.h"
#include "nvmf/internal.h"

static uint8_t states[TT_NVMF_ANA_GROUP_MAX + 1];  /* 0: never set (optimized) */
static uint64_t change_count;

static const struct {
	enum tt_nvmf_ana_state state;
	const char *name;
} names[] = {
	{ TT_NVMF_ANA_OPTIMIZED, "optimized" },
	{ TT_NVMF_ANA_NON_OPTIMIZED, "non-optimized" },
	{ TT_NVMF_ANA_INACCESSIBLE, "inaccessible" },
	{ TT_NVMF_ANA_PERSISTENT_LOSS, "persistent-loss" },
	{ TT_NVMF_ANA_CHANGE, "change" },
};

const char *tt_nvmf_ana_state_name(enum tt_nvmf_ana_state s)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].state == s)
			return names[i].name;
	return "?";
}

int tt_nvmf_ana_state_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(names[i].name, name))
			return (int)names[i].state;
	return -EINVAL;
}

enum tt_nvmf_ana_state tt_nvmf_ana_get(uint32_t group)
{
	if (group == 0 || group > TT_NVMF_ANA_GROUP_MAX || !states[group])
		return TT_NVMF_ANA_OPTIMIZED;
	return (enum tt_nvmf_ana_state)states[group];
}

bool tt_nvmf_ana_group_exists(uint32_t group)
{
	struct tt_list *n;

	if (group == 0 || group > TT_NVMF_ANA_GROUP_MAX)
		return false;
	if (states[group])
		return true;
	tt_list_for_each(n, tt_nvmf_ports())
		if (tt_list_entry(n, struct tt_nvmf_port, node)->ana_group == group)
			return true;
	return false;
}

uint32_t tt_nvmf_ana_group_count(void)
{
	uint32_t c = 0;

	for (uint32_t g = 1; g <= TT_NVMF_ANA_GROUP_MAX; g++)
		c += tt_nvmf_ana_group_exists(g);
	return c ? c : 1;
}

uint64_t tt_nvmf_ana_change_count(void)
{
	return change_count;
}

int tt_nvmf_ana_set(uint32_t group, enum tt_nvmf_ana_state state, char *err, size_t errlen)
{
	enum tt_nvmf_ana_state old = tt_nvmf_ana_get(group);
	bool existed = group >= 1 && group <= TT_NVMF_ANA_GROUP_MAX && states[group];
	struct tt_list *sn, *cn;

	if (group == 0 || group > TT_NVMF_ANA_GROUP_MAX) {
		tt_errmsg(err, errlen, 0, "ANA group %u out of range (1..%d)", group,
			  TT_NVMF_ANA_GROUP_MAX);
		return -EINVAL;
	}
	if (!strcmp(tt_nvmf_ana_state_name(state), "?")) {
		tt_errmsg(err, errlen, 0, "ANA group %u: unknown state %d", group, (int)state);
		return -EINVAL;
	}
	states[group] = (uint8_t)state;
	if (old == state && existed)
		return 0;
	change_count++;
	if (existed)
		tt_notice("nvmf", "ANA group %u: %s -> %s", group, tt_nvmf_ana_state_name(old),
			  tt_nvmf_ana_state_name(state));
	else
		tt_notice("nvmf", "ANA group %u: %s", group, tt_nvmf_ana_state_name(state));
	tt_list_for_each(sn, tt_nvmf_subsystems()) {
		struct tt_nvmf_subsys *s = tt_list_entry(sn, struct tt_nvmf_subsys, node);

		tt_list_for_each(cn, &s->ctrls) {
			struct tt_nvmf_ctrl *c = tt_list_entry(cn, struct tt_nvmf_ctrl, node);

			if (tt_nvmf_ctrl_ana_group(c) == group)
				tt_nvmf_ctrl_ana_changed(c);
		}
	}
	return 0;
}

/* Forgets every state (tt_nvmf_fini). */
void tt_nvmf_ana_reset(void)
{
	memset(states, 0, sizeof(states));
	change_count = 0;
}

void tt_nvmf_ana_port_moved(struct tt_nvmf_port *p)
{
	struct tt_list *sn, *cn;

	change_count++;
	/* the ports of a group are its paths: the controllers through @p see the new group's
	 * state and, in the log page and Identify Namespace, the new group id */
	tt_list_for_each(sn, tt_nvmf_subsystems()) {
		struct tt_nvmf_subsys *s = tt_list_entry(sn, struct tt_nvmf_subsys, node);

		tt_list_for_each(cn, &s->ctrls) {
			struct tt_nvmf_ctrl *c = tt_list_entry(cn, struct tt_nvmf_ctrl, node);

			if (c->port == p)
				tt_nvmf_ctrl_ana_changed(c);
		}
	}
}
