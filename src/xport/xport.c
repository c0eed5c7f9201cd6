/* SPDX-License-Identifier: BSD-3-Clause */
/* The registry of transports, and the stubs for operations a transport does not implement. */
#include "xport/xport.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

static const struct tt_xport_ops *const transports[] = {
	&tt_xport_tcp,
};

const struct tt_xport_ops *tt_xport_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof(transports) / sizeof(transports[0]); i++)
		if (strcmp(transports[i]->name, name) == 0)
			return transports[i];
	return NULL;
}

int tt_xport_nosupp_data_in(struct tt_conn *conn, struct tt_task *task)
{
	(void)conn;
	(void)task;
	return -EOPNOTSUPP;
}

int tt_xport_nosupp_timeout(struct tt_conn *conn, unsigned ms)
{
	(void)conn;
	(void)ms;
	return -EOPNOTSUPP;
}
