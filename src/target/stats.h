/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A sample of the I/O counters (docs/stats.md): every LUN of every target (the SCSI core's
 * counters) and every session (the target's), with the gauges of the daemon (sessions,
 * connections, portals). Taken from any thread: tt_model_lock() keeps LUNs and sessions alive
 * while their blocks are summed with relaxed loads. Shown as the control socket's "stats"
 * result (JSON) and as Prometheus text (GET /metrics, target/metrics.h).
 */
#ifndef TT_TARGET_STATS_H
#define TT_TARGET_STATS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/iostat.h"
#include "target/limits.h"
#include "target/model.h"

struct tt_stats_lun {
	char target[TT_ISCSI_NAME_MAX + 1];
	uint64_t lun;
	struct tt_iostat io;
};

struct tt_stats_session {
	uint64_t id;
	char initiator[TT_ISCSI_NAME_MAX + 1];
	char isid[16];
	char target[TT_ISCSI_NAME_MAX + 1];
	uint16_t tpgt;
	struct tt_iostat io;
};

struct tt_stats_portal {
	char target[TT_ISCSI_NAME_MAX + 1];
	uint16_t tpgt;
	char addr[TT_PORTAL_ADDR_MAX];
	bool listening;
};

struct tt_stats {
	uint64_t time_ns;         /* CLOCK_MONOTONIC at the sample */
	bool enabled;             /* counting is on */
	unsigned connections;     /* live connections, every loop */
	struct tt_limits_usage limits; /* what the resource limits count and refused */
	size_t nluns, nsessions, nportals;
	struct tt_stats_lun *luns;
	struct tt_stats_session *sessions;   /* normal sessions (discovery ones have no I/O) */
	struct tt_stats_portal *portals;
};

/* Takes a sample (free it with tt_stats_free). Any thread, without tt_model_lock held.
 * 0 or -ENOMEM. */
int tt_stats_collect(struct tt_stats **out);
void tt_stats_free(struct tt_stats *s);

/* The control socket's "stats" result (a new reference). */
json_t *tt_stats_json(const struct tt_stats *s);

/* Prometheus text exposition format 0.0.4; returns 0 or -errno (a write error). */
int tt_stats_prometheus(const struct tt_stats *s, FILE *f);

/* One histogram as JSON: commands, bytes (read and write only), latency avg/p50/p90/p99/p99.9
 * in microseconds, sum_ns and the non-empty buckets [[index, count], ...]. For tetherctl too. */
json_t *tt_stats_hist_json(const struct tt_iostat_hist *h);

#endif
