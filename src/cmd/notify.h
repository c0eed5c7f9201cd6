/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tetherd's notifications to the service manager (systemd's sd_notify protocol, Type=notify).
 *
 * Only when tetherd is built with libsystemd and started with $NOTIFY_SOCKET set; otherwise
 * every function here does nothing.
 *
 *   READY=1     once every portal of the model listens, or NOTIFY_READY_WAIT_MS after
 *               tetherd_notify_start() with some still binding (their addresses in STATUS=
 *               and in the log): a portal whose address is not on the host yet must not hold
 *               the service in "activating" for ever.
 *   STATUS=     "serving N targets on M portals, K sessions", refreshed every few seconds
 *               while the text changes, with the portals still binding.
 *   STOPPING=1  at the first shutdown request, with STATUS= saying what the shutdown does.
 *
 * Loop 0 only.
 */
#ifndef TT_CMD_NOTIFY_H
#define TT_CMD_NOTIFY_H

#include "base/loop.h"

#define NOTIFY_READY_WAIT_MS 5000

/* After the objects exist and the control socket listens: readiness, then status updates. */
void tetherd_notify_start(struct tt_loop *loop0);
/* A shutdown request: STOPPING=1 with @status; status updates end. */
void tetherd_notify_stopping(const char *status);
/* Before loop 0 goes away: cancels the timer. */
void tetherd_notify_stop(void);

#endif
