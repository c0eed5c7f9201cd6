/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The metrics endpoint of tetherd: GET /metrics in the Prometheus text exposition format 0.0.4
 * (docs/stats.md), served by libmicrohttpd on a thread of its own. Each request takes a sample
 * with tt_stats_collect (the model lock, relaxed loads of the counter blocks); no loop is
 * disturbed. Other paths: 404; methods other than GET and HEAD: 405.
 */
#ifndef TT_TARGET_METRICS_H
#define TT_TARGET_METRICS_H

#include <stddef.h>
#include <sys/socket.h>

/* "A.B.C.D:PORT" or "[V6ADDR]:PORT" (the port is required). 0 or -EINVAL with @err set. */
int tt_metrics_addr_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len,
			  char *err, size_t errlen);
/* Starts serving on @addr; 0 or -errno with @err set (-EALREADY when it serves already). */
int tt_metrics_start(const char *addr, char *err, size_t errlen);
/* Stops serving (waits for a request being answered). Safe when not started. */
void tt_metrics_stop(void);
/* The address served ("127.0.0.1:9418"), or NULL. */
const char *tt_metrics_addr(void);

#endif
