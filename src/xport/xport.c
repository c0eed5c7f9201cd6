/* SPDX-License-Identifier: BSD-3-Clause */
/* The registry of transports, and the stubs for operations a transport does not implement. */
#include "xport/xport.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "base/bufpool.h"
#include "iscsi/pdu.h"
#include "xport/iser.h"

static const struct tt_xport_ops *const transports[] = {
	&tt_xport_tcp,
#ifdef TT_HAVE_RDMA
	&tt_xport_iser,
#endif
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

bool tt_xport_ops_complete(const struct tt_xport_ops *o)
{
	return o && o->name && o->listen && o->unlisten && o->conn_start && o->queue_pdu &&
	       o->queue_data_in && o->get_data_out && o->buf_alloc && o->buf_free &&
	       o->login_policy && o->apply_params && o->shutdown && o->release && o->set_timeout;
}

int tt_xport_nosupp_data_in(struct tt_xconn *xc, struct tt_xtask *t)
{
	(void)xc;
	(void)t;
	return -EOPNOTSUPP;
}

int tt_xport_nosupp_data_out(struct tt_xconn *xc, struct tt_xtask *t)
{
	(void)xc;
	(void)t;
	return -EOPNOTSUPP;
}

int tt_xport_nosupp_timeout(struct tt_xconn *xc, unsigned ms)
{
	(void)xc;
	(void)ms;
	return -EOPNOTSUPP;
}

int tt_xport_nosupp_params(struct tt_xconn *xc, const struct tt_xport_params *p)
{
	(void)xc;
	(void)p;
	return -EOPNOTSUPP;
}

int tt_xport_nosupp_start(struct tt_xconn *xc)
{
	(void)xc;
	return -EOPNOTSUPP;
}

int tt_xport_nosupp_pdu(struct tt_xconn *xc, struct tt_pdu *pdu)
{
	(void)xc;
	tt_pdu_free(pdu); /* queue_pdu takes the PDU, even on error */
	return -EOPNOTSUPP;
}

void tt_xport_nosupp_conn(struct tt_xconn *xc)
{
	(void)xc;
}

void tt_xport_keep_policy(struct tt_xconn *xc, struct tt_params_policy *pol)
{
	(void)xc;
	(void)pol;
}

void *tt_xport_pool_buf_alloc(struct tt_xconn *xc, size_t len, size_t *cap)
{
	(void)xc;
	return tt_buf_alloc(len, cap);
}

void tt_xport_pool_buf_free(struct tt_xconn *xc, void *buf, size_t cap)
{
	(void)xc;
	tt_buf_free(buf, cap);
}
