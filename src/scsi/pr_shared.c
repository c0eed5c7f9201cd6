/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Persistent reservations shared by every host that serves one medium (an rbd image exported by
 * several gateways): the registrations and the reservation live in the backend's shared record
 * (bdev.h, tt_bdev_shared_ops), each host keeps a copy in lun->state->pr for the RESERVATION
 * CONFLICT check and PERSISTENT RESERVE IN, and a change is made by one host with a
 * compare-and-swap of the record followed by a message to the others (pr.c, tt_pr_out).
 *
 * This file: the message (format and parse), taking a newer record into the copy, and the
 * watch of the record: the backend calls shared_notified() on its own thread for every
 * message; the copy is replaced under lun->lock (when the message's version is newer) and the
 * unit attentions it names are raised for this host's I_T nexuses before the backend
 * acknowledges it, so that the host that made the change returns GOOD only once every host
 * enforces it. A host's own messages are recognised by their token: its PERSISTENT RESERVE OUT
 * already raised their unit attentions.
 *
 * A broken watch (the cluster timed it out while this host was paused or cut off) means
 * messages may have been missed: shared_resync() marks the copy stale (tt_pr_conflict answers
 * BUSY to the commands a reservation governs, and to PERSISTENT RESERVE IN/OUT) until the
 * backend has watched again and read the record; the record read is then taken, and the
 * nexuses whose registration vanished get REGISTRATIONS PREEMPTED.
 */
#include "scsi/pr.h"
#include "bdev/bdev.h"
#include "base/log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define MSG_MAGIC "tether-prn 1"
#define SHARED_NAME "pr"

/* --- events ------------------------------------------------------------------------------------ */

int tt_pr_events_add(struct tt_pr_events *ev, const struct tt_pr_id *id, uint8_t ua, bool abort)
{
	for (unsigned i = 0; i < ev->n; i++) {
		struct tt_pr_event *e = &ev->v[i];

		if (e->ua == ua && e->id.proto == id->proto && e->id.all_ports == id->all_ports &&
		    e->id.port == id->port && e->id.any_isid == id->any_isid &&
		    !memcmp(e->id.isid, id->isid, sizeof(id->isid)) && !strcmp(e->id.name, id->name)) {
			e->abort |= abort;
			return 0;
		}
	}
	if (ev->n == ev->cap) {
		unsigned cap = ev->cap ? ev->cap * 2 : 8;
		struct tt_pr_event *v = realloc(ev->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		ev->v = v;
		ev->cap = cap;
	}
	ev->v[ev->n++] = (struct tt_pr_event){ .id = *id, .ua = ua, .abort = abort };
	return 0;
}

void tt_pr_events_free(struct tt_pr_events *ev)
{
	free(ev->v);
	*ev = (struct tt_pr_events){ 0 };
}

static const struct {
	enum tt_ua ua;
	const char *name;
} ua_names[] = {
	{ TT_UA_RESERVATIONS_PREEMPTED, "reservations-preempted" },
	{ TT_UA_RESERVATIONS_RELEASED, "reservations-released" },
	{ TT_UA_REGISTRATIONS_PREEMPTED, "registrations-preempted" },
};

static const char *ua_name(uint8_t ua)
{
	for (size_t i = 0; i < sizeof(ua_names) / sizeof(ua_names[0]); i++)
		if (ua_names[i].ua == ua)
			return ua_names[i].name;
	return NULL;
}

static int ua_parse(const char *s, uint8_t *ua)
{
	for (size_t i = 0; i < sizeof(ua_names) / sizeof(ua_names[0]); i++) {
		if (!strcmp(ua_names[i].name, s)) {
			*ua = (uint8_t)ua_names[i].ua;
			return 0;
		}
	}
	return -EBADMSG;
}

/* --- the message ------------------------------------------------------------------------------- */

char *tt_pr_msg_format(uint64_t token, const struct tt_pr_events *ev, const char *state)
{
	size_t cap = 64 + strlen(state) + (size_t)ev->n * (TT_PR_NAME_MAX + 96), n = 0;
	char *s = malloc(cap);

	if (!s)
		return NULL;
	n += (size_t)snprintf(s, cap, "%s\nfrom %016" PRIx64 "\n", MSG_MAGIC, token);
	for (unsigned i = 0; i < ev->n; i++) {
		const struct tt_pr_event *e = &ev->v[i];
		const char *name = ua_name(e->ua);
		char port[8], ident[TT_PR_NAME_MAX + 32];

		if (!name || e->id.proto->ident_format(&e->id, ident, sizeof(ident)) < 0) {
			free(s);
			return NULL;
		}
		if (e->id.all_ports)
			snprintf(port, sizeof(port), "all");
		else
			snprintf(port, sizeof(port), "%u", e->id.port);
		n += (size_t)snprintf(s + n, cap - n, "ev %s %d %s %s %s\n", name, e->abort ? 1 : 0,
				      port, e->id.proto->name, ident);
	}
	snprintf(s + n, cap - n, "state\n%s", state);
	return s;
}

/* "ev" fields after the keyword: unit attention, abort, port, protocol, initiator port. */
static int parse_event(char *line, struct tt_pr_events *ev)
{
	char *f[6], *save = NULL, *end;
	struct tt_pr_id id;
	uint8_t ua;
	unsigned long v;
	int nf = 0;

	for (char *t = strtok_r(line, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		if (nf == 6)
			return -EBADMSG;
		f[nf++] = t;
	}
	if (nf != 6 || strcmp(f[0], "ev") || ua_parse(f[1], &ua) < 0 ||
	    (strcmp(f[2], "0") && strcmp(f[2], "1")))
		return -EBADMSG;
	memset(&id, 0, sizeof(id));
	const struct tt_scsi_proto *proto = tt_scsi_proto_by_name(f[4]);

	if (!proto || proto->ident_parse(f[5], &id) < 0 || id.proto != proto)
		return -EBADMSG;
	if (!strcmp(f[3], "all")) {
		id.all_ports = true;
	} else {
		if (!*f[3] || *f[3] == '-' || *f[3] == '+')
			return -EBADMSG;
		v = strtoul(f[3], &end, 10);
		if (*end || v > UINT16_MAX)
			return -EBADMSG;
		id.port = (uint16_t)v;
	}
	return tt_pr_events_add(ev, &id, ua, f[2][0] == '1') < 0 ? -ENOMEM : 0;
}

int tt_pr_msg_parse(const char *msg, size_t len, uint64_t *token, struct tt_pr_events *ev,
		    char **state)
{
	char *copy = malloc(len + 1), *p, *nl, *end;
	bool from = false;
	int rc = -EBADMSG;

	tt_pr_events_free(ev);
	*state = NULL;
	if (!copy)
		return -ENOMEM;
	memcpy(copy, msg, len);
	copy[len] = '\0';
	if (strlen(copy) != len)
		goto out; /* a NUL inside */
	p = copy;
	nl = strchr(p, '\n');
	if (!nl || (size_t)(nl - p) != strlen(MSG_MAGIC) || strncmp(p, MSG_MAGIC, strlen(MSG_MAGIC)))
		goto out;
	for (p = nl + 1; (nl = strchr(p, '\n')); p = nl + 1) {
		*nl = '\0';
		if (!strcmp(p, "state")) {
			if (!from)
				goto out;
			*state = strdup(nl + 1);
			rc = *state ? 0 : -ENOMEM;
			goto out;
		}
		if (!strncmp(p, "from ", 5) && !from) {
			if (strlen(p + 5) != 16)
				goto out;
			*token = strtoull(p + 5, &end, 16);
			if (*end)
				goto out;
			from = true;
		} else if (!strncmp(p, "ev ", 3) && from) {
			rc = parse_event(p, ev);
			if (rc < 0)
				goto out;
			rc = -EBADMSG;
		} else {
			goto out;
		}
	}
out:
	free(copy);
	if (rc < 0)
		tt_pr_events_free(ev);
	return rc;
}

/* --- the copy ---------------------------------------------------------------------------------- */

int tt_pr_shared_take(struct tt_pr *pr, uint64_t version, const char *text, size_t len)
{
	struct tt_pr tmp = { 0 };
	struct tt_list *pos;
	char *copy;
	int rc = 0;

	if (version <= pr->shared_version)
		return 0;
	tt_list_init(&tmp.regs);
	if (len) {
		copy = malloc(len + 1);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, text, len);
		copy[len] = '\0';
		rc = strlen(copy) == len ? tt_pr_store_parse(&tmp, copy) : -EBADMSG;
		free(copy);
		if (rc < 0)
			return rc;
	}
	tt_pr_regs_clear(pr);
	while ((pos = tt_list_pop(&tmp.regs)))
		tt_list_add_tail(&pr->regs, pos);
	pr->nregs = tmp.nregs;
	pr->type = tmp.type;
	pr->holder = tmp.holder;
	pr->generation = tmp.generation;
	pr->aptpl = tmp.aptpl;
	pr->shared_version = version;
	__atomic_store_n(&pr->active, pr->type != TT_PR_NONE || pr->spc2_reserved,
			 __ATOMIC_RELEASE);
	return 1;
}

static bool registered(const struct tt_pr *pr, const struct tt_pr_id *id)
{
	struct tt_list *pos;

	tt_list_for_each(pos, &pr->regs) {
		const struct tt_pr_reg *r = tt_list_entry(pos, struct tt_pr_reg, node);

		if (tt_pr_id_overlap(&r->id, id))
			return true;
	}
	return false;
}

int tt_pr_shared_retake(struct tt_pr *pr, uint64_t version, const char *text, size_t len,
			uint64_t **gone, unsigned *ngone)
{
	struct tt_list *pos;
	unsigned n = 0, i = 0;
	bool *had = NULL;
	int rc;

	*gone = NULL;
	*ngone = 0;
	tt_list_for_each(pos, &pr->nexuses)
		n++;
	if (n) {
		had = calloc(n, sizeof(*had));
		if (!had)
			return -ENOMEM;
		tt_list_for_each(pos, &pr->nexuses)
			had[i++] = registered(pr, &tt_list_entry(pos, struct tt_pr_nexus, node)->id);
	}
	rc = tt_pr_shared_take(pr, version, text, len);
	if (rc < 0) {
		free(had);
		return rc;
	}
	__atomic_store_n(&pr->shared_stale, false, __ATOMIC_RELEASE);
	if (rc == 1 && n) {
		*gone = malloc(n * sizeof(**gone));
		i = 0;
		tt_list_for_each(pos, &pr->nexuses) {
			const struct tt_pr_nexus *x = tt_list_entry(pos, struct tt_pr_nexus, node);

			if (had[i++] && *gone && !registered(pr, &x->id))
				(*gone)[(*ngone)++] = x->nexus_id;
		}
		if (!*ngone) {
			free(*gone);
			*gone = NULL;
		}
	}
	free(had);
	return rc;
}

/* --- the watch --------------------------------------------------------------------------------- */

struct abort_req {
	const struct tt_scsi_frontend *fe;
	uint64_t nexus_id;
};

/* The backend's thread: a change announced by a host (maybe this one). */
static void shared_notified(void *arg, uint64_t version, const char *msg, size_t len)
{
	struct tt_lun *lun = arg;
	struct tt_pr *pr = lun->state->pr;
	struct tt_pr_events ev = { 0 };
	struct abort_req *aborts = NULL;
	unsigned naborts = 0, cap = 0;
	uint64_t token = 0;
	char *state = NULL;
	int rc;

	rc = tt_pr_msg_parse(msg, len, &token, &ev, &state);
	if (rc < 0) {
		tt_err("scsi", "LUN %llu: a malformed reservation message ignored: %s",
		       (unsigned long long)lun->id, strerror(-rc));
		return;
	}
	pthread_mutex_lock(&lun->lock);
	rc = tt_pr_shared_take(pr, version, state, strlen(state));
	if (rc < 0)
		tt_err("scsi", "LUN %llu: reservations from another host not taken: %s",
		       (unsigned long long)lun->id, strerror(-rc));
	for (unsigned i = 0; token != pr->shared_token && i < ev.n; i++) {
		struct tt_list *pos;

		tt_list_for_each(pos, &pr->nexuses) {
			struct tt_pr_nexus *n = tt_list_entry(pos, struct tt_pr_nexus, node);

			if (!tt_pr_id_overlap(&ev.v[i].id, &n->id))
				continue;
			tt_ua_raise_locked(lun, n->nexus_id, (enum tt_ua)ev.v[i].ua);
			if (!ev.v[i].abort)
				continue;
			if (naborts == cap) {
				unsigned c = cap ? cap * 2 : 4;
				struct abort_req *v = realloc(aborts, c * sizeof(*v));

				if (!v)
					continue;
				aborts = v;
				cap = c;
			}
			aborts[naborts++] = (struct abort_req){ n->fe, n->nexus_id };
		}
	}
	pthread_mutex_unlock(&lun->lock);
	for (unsigned i = 0; i < naborts; i++) {
		rc = aborts[i].fe->abort_nexus(lun, aborts[i].nexus_id);
		if (rc < 0)
			tt_warn("scsi", "LUN %llu: PREEMPT AND ABORT through another host: tasks of "
				"nexus %llu not aborted: %s", (unsigned long long)lun->id,
				(unsigned long long)aborts[i].nexus_id, strerror(-rc));
	}
	free(aborts);
	free(state);
	tt_pr_events_free(&ev);
}

/* The backend's thread: the watch broke (@status < 0: the copy is stale until the record is
 * read again) or was re-established and the record read again (@status 0). */
static void shared_resync(void *arg, int status, const char *text, size_t len, uint64_t version)
{
	struct tt_lun *lun = arg;
	struct tt_pr *pr = lun->state->pr;
	uint64_t *gone = NULL;
	unsigned ngone = 0;
	int rc;

	pthread_mutex_lock(&lun->lock);
	if (status < 0) {
		__atomic_store_n(&pr->shared_stale, true, __ATOMIC_RELEASE);
		pthread_mutex_unlock(&lun->lock);
		tt_warn("scsi", "LUN %llu: reservations may have changed through other hosts: "
			"commands they govern are answered BUSY until the record is read again",
			(unsigned long long)lun->id);
		return;
	}
	rc = tt_pr_shared_retake(pr, version, text, len, &gone, &ngone);
	for (unsigned i = 0; i < ngone; i++)
		tt_ua_raise_locked(lun, gone[i], TT_UA_REGISTRATIONS_PREEMPTED);
	pthread_mutex_unlock(&lun->lock);
	free(gone);
	if (rc < 0)
		tt_err("scsi", "LUN %llu: the record read again is not taken (%s): commands it "
		       "governs stay BUSY", (unsigned long long)lun->id, strerror(-rc));
	else
		tt_notice("scsi", "LUN %llu: reservations read again from the shared record%s",
			(unsigned long long)lun->id, rc == 1 ? " (changed)" : "");
}

int tt_pr_shared_attach(struct tt_lun *lun)
{
	struct tt_pr *pr = lun->state->pr;
	struct tt_bdev *b = lun->bdev ? tt_bdev_shared_supported(lun->bdev) : NULL;
	char *text = NULL;
	size_t len = 0;
	uint64_t version = 0;
	int rc;

	if (!b)
		return 0;
	if (getrandom(&pr->shared_token, sizeof(pr->shared_token), 0) != sizeof(pr->shared_token))
		pr->shared_token = (uint64_t)(uintptr_t)lun ^ lun->naa_id;
	rc = b->ops->shared->watch(b, SHARED_NAME, shared_notified, shared_resync, lun, &pr->shared_watch, &text,
				   &len, &version);
	if (rc == -EPERM || rc == -EACCES) {
		/* a user that may read the image but not make the record (a read-only export) */
		tt_warn("scsi", "LUN %llu: not allowed to keep reservations in the cluster: they stay "
			"this host's", (unsigned long long)lun->id);
		return 0;
	}
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&lun->lock);
	rc = version ? tt_pr_shared_take(pr, version, text, len) : 0;
	pthread_mutex_unlock(&lun->lock);
	free(text);
	if (rc < 0) {
		b->ops->shared->unwatch(b, pr->shared_watch);
		return rc;
	}
	pr->shared = b;
	if (pr->nregs)
		tt_info("scsi", "LUN %llu: %u registration(s)%s in the shared record",
			(unsigned long long)lun->id, pr->nregs,
			pr->type != TT_PR_NONE ? " and a reservation" : "");
	return 0;
}

void tt_pr_shared_detach(struct tt_lun *lun)
{
	struct tt_pr *pr = lun->state->pr;

	if (!pr || !pr->shared)
		return;
	pr->shared->ops->shared->unwatch(pr->shared, pr->shared_watch);
	pr->shared = NULL;
}

int tt_pr_shared_store(struct tt_pr *pr, uint64_t version, const char *text, const char *msg,
		       tt_bdev_shared_store_fn done, void *arg)
{
	return pr->shared->ops->shared->store(pr->shared, SHARED_NAME, version, text, strlen(text),
					      msg, strlen(msg), done, arg);
}

int tt_pr_shared_load(struct tt_pr *pr, tt_bdev_shared_load_fn done, void *arg)
{
	return pr->shared->ops->shared->load(pr->shared, SHARED_NAME, done, arg);
}
