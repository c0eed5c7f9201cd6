/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Asymmetric logical unit access (SPC-4 5.16), implicit only: REPORT TARGET PORT GROUPS. Every
 * target port group is active/optimized. The target ports of a target are known from the ports its
 * transport registers (tt_scsi_port_register); a port that was never registered still reports its
 * own group.
 */
#include "scsi/core.h"
#include "scsi/cdb.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define ALUA_ACTIVE_OPTIMIZED 0x0
#define ALUA_AO_SUP           0x01
#define ALUA_MAX_PORTS        256u

static pthread_mutex_t ports_lock = PTHREAD_MUTEX_INITIALIZER;
static const struct tt_scsi_port *ports[ALUA_MAX_PORTS]; /* under ports_lock */
static unsigned nports;

int tt_scsi_port_register(const struct tt_scsi_port *port)
{
	int rc = -ENOSPC;

	pthread_mutex_lock(&ports_lock);
	if (nports < ALUA_MAX_PORTS) {
		ports[nports++] = port;
		rc = 0;
	}
	pthread_mutex_unlock(&ports_lock);
	return rc;
}

void tt_scsi_port_unregister(const struct tt_scsi_port *port)
{
	pthread_mutex_lock(&ports_lock);
	for (unsigned i = 0; i < nports; i++) {
		if (ports[i] == port) {
			ports[i] = ports[--nports];
			break;
		}
	}
	pthread_mutex_unlock(&ports_lock);
}

struct port_id {
	uint16_t group, rel;
};

static int cmp_port(const void *a, const void *b)
{
	const struct port_id *x = a, *y = b;

	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	return x->rel < y->rel ? -1 : x->rel > y->rel;
}

/* The ports of the target @self belongs to, sorted by group then relative port; returns the count. */
static unsigned target_ports(const struct tt_scsi_port *self, struct port_id *out)
{
	unsigned n = 0;
	bool seen_self = false;

	pthread_mutex_lock(&ports_lock);
	for (unsigned i = 0; i < nports; i++) {
		const struct tt_scsi_port *p = ports[i];

		if (!p->target_name || strcmp(p->target_name, self->target_name))
			continue;
		out[n++] = (struct port_id){ p->port_group_id, p->rel_port_id };
		seen_self |= p->rel_port_id == self->rel_port_id;
	}
	pthread_mutex_unlock(&ports_lock);
	if (!seen_self && n < ALUA_MAX_PORTS)
		out[n++] = (struct port_id){ self->port_group_id, self->rel_port_id };
	qsort(out, n, sizeof(*out), cmp_port);
	return n;
}

enum tt_exec_rc tt_spc_report_target_port_groups(struct tt_scsi_task *task)
{
	uint8_t format = task->cdb[1] >> 5;
	uint32_t alloc = tt_get_be32(task->cdb + 6);
	const struct tt_scsi_port *self = task->nexus ? task->nexus->tport : NULL;
	struct port_id ids[ALUA_MAX_PORTS];
	unsigned n = 0, i = 0;
	size_t hdr = format == 1 ? 8 : 4, len;
	uint8_t *b;

	task->cmd_len = alloc;
	if (format > 1) {
		tt_scsi_invalid_cdb(task, 1, 7);
		return TT_EXEC_DONE;
	}
	if (self && self->target_name)
		n = target_ports(self, ids);
	b = calloc(1, hdr + n * (8 + 4));
	if (!b) {
		tt_scsi_fail_errno(task, -ENOMEM, false);
		return TT_EXEC_DONE;
	}
	len = hdr;
	if (format == 1)
		b[4] = 0x10; /* FORMAT TYPE 001b; IMPLICIT TRANSITION TIME 0 */
	while (i < n) {
		uint8_t *g = b + len;
		unsigned count = 0;

		g[0] = 0x80 | ALUA_ACTIVE_OPTIMIZED; /* PREF */
		g[1] = ALUA_AO_SUP;
		tt_put_be16(g + 2, ids[i].group);
		len += 8;
		for (uint16_t group = ids[i].group; i < n && ids[i].group == group; i++, count++) {
			tt_put_be16(b + len + 2, ids[i].rel);
			len += 4;
		}
		g[7] = (uint8_t)count;
	}
	tt_put_be32(b, (uint32_t)(len - 4));
	tt_task_data_in(task, b, (uint32_t)len, alloc);
	free(b);
	return TT_EXEC_DONE;
}
