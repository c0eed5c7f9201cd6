/* SPDX-License-Identifier: BSD-3-Clause */
/* Path selection: among the live paths of the best ALUA state (active/optimized before
 * active/non-optimized; standby, unavailable, offline and transitioning carry no I/O), by
 * round-robin, least queue depth, or least expected service time. */
#include "initiator/initiator.h"

int ti_alua_rank(enum ti_alua a)
{
	switch (a) {
	case TI_ALUA_OPTIMIZED:
	case TI_ALUA_NONE:
		return 0;
	case TI_ALUA_NON_OPTIMIZED:
	case TI_ALUA_LBA_DEPENDENT:
		return 1;
	default:
		return -1;
	}
}

/* Expected time to serve one more command: (inflight + 1) x the path's latency estimate. */
static uint64_t service_cost(const struct ti_path *p)
{
	uint64_t lat = p->svc_ns ? p->svc_ns : 1;

	return (uint64_t)(p->inflight + 1) * lat;
}

struct ti_path *ti_select_path(struct ti_path *const *paths, int n, enum ti_selector sel,
			       unsigned *rr)
{
	int best_rank = -1, count = 0;
	struct ti_path *best = NULL;

	for (int i = 0; i < n; i++) {
		int r;

		if (!ti_path_usable(paths[i]))
			continue;
		r = ti_alua_rank(paths[i]->alua);
		if (r >= 0 && (best_rank < 0 || r < best_rank))
			best_rank = r;
	}
	if (best_rank < 0)
		return NULL;
	for (int k = 0; k < n; k++) {
		/* start after the cursor so that ties rotate */
		int i = (int)((*rr + 1 + (unsigned)k) % (unsigned)n);
		struct ti_path *p = paths[i];

		if (!ti_path_usable(p) || ti_alua_rank(p->alua) != best_rank)
			continue;
		count++;
		if (!best) {
			best = p;
			if (sel == TI_SEL_ROUND_ROBIN)
				break;
			continue;
		}
		if (sel == TI_SEL_QUEUE_DEPTH && p->inflight < best->inflight)
			best = p;
		else if (sel == TI_SEL_SERVICE_TIME && service_cost(p) < service_cost(best))
			best = p;
	}
	if (best)
		*rr = (unsigned)best->index;
	(void)count;
	return best;
}
