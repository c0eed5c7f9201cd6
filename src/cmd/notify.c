/* SPDX-License-Identifier: BSD-3-Clause */
/* tetherd's notifications to the service manager: see notify.h. */
#include "notify.h"

#ifdef TT_HAVE_LIBSYSTEMD

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "base/clock.h"
#include "base/log.h"
#include "target/model.h"

#define POLL_MS 100            /* portals checked this often until READY=1 */
#define STATUS_EVERY_MS 5000   /* then the status is refreshed this often */

static struct {
	bool active;           /* $NOTIFY_SOCKET was set at start */
	bool ready, stopping;
	bool warned;           /* a failed notification was logged */
	struct tt_timer timer;
	uint64_t start_ms;
	char status[512];      /* the last STATUS= sent */
} ns;

struct portal_counts {
	unsigned targets, portals, listening;
	char binding[256];     /* the addresses not listening, comma-separated (may be cut short) */
};

static void count_portals(struct portal_counts *c)
{
	struct tt_list *tn, *gn, *pn;
	size_t len = 0;

	memset(c, 0, sizeof(*c));
	tt_model_lock();
	tt_list_for_each(tn, tt_model_targets()) {
		struct tt_target *t = tt_list_entry(tn, struct tt_target, node);

		c->targets++;
		tt_list_for_each(gn, &t->tpgs) {
			struct tt_tpg *g = tt_list_entry(gn, struct tt_tpg, node);

			tt_list_for_each(pn, &g->portals) {
				struct tt_portal *p = tt_list_entry(pn, struct tt_portal, node);
				int n;

				c->portals++;
				if (tt_portal_listening(p)) {
					c->listening++;
					continue;
				}
				/* a shared address is named once */
				if (len >= sizeof(c->binding) - 1 || strstr(c->binding, p->addr_str))
					continue;
				n = snprintf(c->binding + len, sizeof(c->binding) - len, "%s%s",
					     len ? ", " : "", p->addr_str);
				if (n > 0)
					len += (size_t)n;
			}
		}
	}
	tt_model_unlock();
}

static unsigned count_sessions(void)
{
	struct tt_session_info *s = NULL;
	size_t n = 0;

	if (tt_sessions_snapshot(&s, &n))
		return 0;
	free(s);
	return (unsigned)n;
}

/* Sends @prefix (READY=1, or nothing) with STATUS=@status unless the same status was sent last. */
static void notify_failed(int rc)
{
	if (ns.warned)
		return;
	ns.warned = true;
	tt_warn("tetherd", "cannot notify the service manager at $NOTIFY_SOCKET: %s",
		strerror(-rc));
}

static void send_status(const char *prefix, const char *status)
{
	int rc;

	if (!*prefix && !strcmp(status, ns.status))
		return;
	snprintf(ns.status, sizeof(ns.status), "%s", status);
	rc = sd_notifyf(0, "%sSTATUS=%s", prefix, status);
	if (rc < 0)
		notify_failed(rc);
}

static void tick(struct tt_timer *t)
{
	struct portal_counts c;
	char status[512];
	unsigned nsessions;
	bool all;

	(void)t;
	if (ns.stopping)
		return;
	count_portals(&c);
	all = c.listening == c.portals;
	if (!ns.ready && !all && tt_now_ms() - ns.start_ms < NOTIFY_READY_WAIT_MS) {
		snprintf(status, sizeof(status), "starting: %u of %u portals listening; binding: %s",
			 c.listening, c.portals, c.binding);
		send_status("", status);
		tt_timer_arm_ms(&ns.timer, POLL_MS);
		return;
	}
	nsessions = count_sessions();
	snprintf(status, sizeof(status), "serving %u target%s on %u portal%s, %u session%s",
		 c.targets, c.targets == 1 ? "" : "s", c.portals, c.portals == 1 ? "" : "s",
		 nsessions, nsessions == 1 ? "" : "s");
	if (!all)
		snprintf(status + strlen(status), sizeof(status) - strlen(status),
			 "; %u not listening yet: %s", c.portals - c.listening, c.binding);
	if (!ns.ready) {
		ns.ready = true;
		if (!all)
			tt_notice("tetherd", "ready after %u ms with %u of %u portals listening; "
				  "still binding: %s", NOTIFY_READY_WAIT_MS, c.listening, c.portals,
				  c.binding);
		send_status("READY=1\n", status);
	} else {
		send_status("", status);
	}
	tt_timer_arm_ms(&ns.timer, STATUS_EVERY_MS);
}

void tetherd_notify_start(struct tt_loop *loop0)
{
	const char *sock = getenv("NOTIFY_SOCKET");

	if (!sock || !*sock)
		return;
	ns.active = true;
	ns.start_ms = tt_now_ms();
	tt_timer_init(&ns.timer, loop0, tick);
	tick(&ns.timer);
}

void tetherd_notify_stopping(const char *status)
{
	int rc;

	if (!ns.active)
		return;
	ns.stopping = true;
	tt_timer_cancel(&ns.timer);
	rc = sd_notifyf(0, "STOPPING=1\nSTATUS=%s", status);
	if (rc < 0)
		notify_failed(rc);
}

void tetherd_notify_stop(void)
{
	if (ns.active)
		tt_timer_cancel(&ns.timer);
}

#else /* !TT_HAVE_LIBSYSTEMD: built without libsystemd, no notification */

void tetherd_notify_start(struct tt_loop *loop0)
{
	(void)loop0;
}

void tetherd_notify_stopping(const char *status)
{
	(void)status;
}

void tetherd_notify_stop(void)
{
}

#endif
