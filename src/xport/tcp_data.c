/* SPDX-License-Identifier: BSD-3-Clause */
/* iSCSI/TCP data movement: Data-In PDUs and R2Ts (pdu_data.c), with the connection's parameters. */
#include "xport/tcp.h"

int tt_tcp_queue_data_in(struct tt_xconn *conn, struct tt_xtask *t)
{
	return tt_xport_pdu_data_in(conn, t, &tt_tcp_conn_of(conn)->params);
}

int tt_tcp_get_data_out(struct tt_xconn *conn, struct tt_xtask *t)
{
	return tt_xport_pdu_r2ts(conn, t, &tt_tcp_conn_of(conn)->params);
}
