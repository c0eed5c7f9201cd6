/* SPDX-License-Identifier: BSD-3-Clause */
/* A sample of the I/O counters, as JSON (control socket) and Prometheus text (target/stats.h). */
#include "target/stats.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "target/iscsi_target.h"

/* --- the sample ------------------------------------------------------------------------------ */

int tt_stats_collect(struct tt_stats **out)
{
	struct tt_stats *s = calloc(1, sizeof(*s));
	struct tt_list *tn, *n, *m;
	size_t nl = 0, ns = 0, np = 0;

	if (!s)
		return -ENOMEM;
	s->enabled = tt_iostat_enabled();
	s->connections = tt_iscsi_conn_count();
	tt_limits_usage(&s->limits);
	tt_model_lock();
	tt_list_for_each(tn, tt_model_targets()) {
		struct tt_target *t = tt_list_entry(tn, struct tt_target, node);

		tt_list_for_each(n, &t->luns)
			nl++;
		tt_list_for_each(n, &t->sessions)
			ns++;
		tt_list_for_each(n, &t->tpgs)
			tt_list_for_each(m, &tt_list_entry(n, struct tt_tpg, node)->portals)
				np++;
	}
	s->luns = calloc(nl ? nl : 1, sizeof(*s->luns));
	s->sessions = calloc(ns ? ns : 1, sizeof(*s->sessions));
	s->portals = calloc(np ? np : 1, sizeof(*s->portals));
	if (!s->luns || !s->sessions || !s->portals) {
		tt_model_unlock();
		tt_stats_free(s);
		return -ENOMEM;
	}
	s->time_ns = tt_now_ns();
	tt_list_for_each(tn, tt_model_targets()) {
		struct tt_target *t = tt_list_entry(tn, struct tt_target, node);

		tt_list_for_each(n, &t->luns) {
			struct tt_target_lun *tl = tt_list_entry(n, struct tt_target_lun, node);
			struct tt_stats_lun *l = &s->luns[s->nluns++];

			snprintf(l->target, sizeof(l->target), "%s", t->name);
			l->lun = tl->id;
			tt_lun_iostat(tl->lun, &l->io);
		}
		tt_list_for_each(n, &t->sessions) {
			struct tt_session *se = tt_list_entry(n, struct tt_session, model_node);
			struct tt_stats_session *o = &s->sessions[s->nsessions++];

			o->id = se->id;
			snprintf(o->initiator, sizeof(o->initiator), "%s", se->initiator);
			for (unsigned i = 0; i < 6; i++)
				snprintf(o->isid + 2 * i, 3, "%02x", se->isid[i]);
			snprintf(o->target, sizeof(o->target), "%s", t->name);
			o->tpgt = se->tpgt;
			tt_iostat_add(&o->io, &se->io);
		}
		tt_list_for_each(n, &t->tpgs) {
			struct tt_tpg *g = tt_list_entry(n, struct tt_tpg, node);

			tt_list_for_each(m, &g->portals) {
				struct tt_portal *pt = tt_list_entry(m, struct tt_portal, node);
				struct tt_stats_portal *p = &s->portals[s->nportals++];

				snprintf(p->target, sizeof(p->target), "%s", t->name);
				p->tpgt = g->tag;
				snprintf(p->addr, sizeof(p->addr), "%s", pt->addr_str);
				p->listening = tt_portal_listening(pt);
			}
		}
	}
	tt_model_unlock();
	*out = s;
	return 0;
}

void tt_stats_free(struct tt_stats *s)
{
	if (!s)
		return;
	free(s->luns);
	free(s->sessions);
	free(s->portals);
	free(s);
}

/* --- JSON ------------------------------------------------------------------------------------ */

static double us(uint64_t ns) { return (double)ns / 1000.0; }

json_t *tt_stats_hist_json(const struct tt_iostat_hist *h)
{
	json_t *b = json_array();

	for (unsigned i = 0; i < TT_IOSTAT_BUCKETS; i++)
		if (h->buckets[i])
			json_array_append_new(b, json_pack("[I I]", (json_int_t)i,
							   (json_int_t)h->buckets[i]));
	return json_pack("{sI s{sf sf sf sf sf} sI so}",
			 "commands", (json_int_t)h->count,
			 "latency_us",
			 "avg", h->count ? us(h->sum_ns) / (double)h->count : 0.0,
			 "p50", us(tt_iostat_percentile(h, 0.50)),
			 "p90", us(tt_iostat_percentile(h, 0.90)),
			 "p99", us(tt_iostat_percentile(h, 0.99)),
			 "p999", us(tt_iostat_percentile(h, 0.999)),
			 "sum_ns", (json_int_t)h->sum_ns,
			 "buckets", b);
}

static void io_json(json_t *o, const struct tt_iostat *io)
{
	json_t *by = json_object();

	for (unsigned op = 0; op < TT_IO_OPS; op++) {
		json_t *h = tt_stats_hist_json(&io->lat[op]);

		if (op != TT_IO_OTHER)
			json_object_set_new(h, "bytes", json_integer((json_int_t)io->bytes[op]));
		json_object_set_new(o, tt_io_op_name(op), h);
	}
	for (unsigned e = 0; e < TT_IO_ERRS; e++)
		if (io->errors[e])
			json_object_set_new(by, tt_io_err_name(e), json_integer((json_int_t)io->errors[e]));
	json_object_set_new(o, "errors", json_integer((json_int_t)tt_iostat_errors(io)));
	json_object_set_new(o, "errors_by_class", by);
}

json_t *tt_stats_json(const struct tt_stats *s)
{
	json_t *luns = json_array(), *sessions = json_array(), *portals = json_array();

	for (size_t i = 0; i < s->nluns; i++) {
		const struct tt_stats_lun *l = &s->luns[i];
		json_t *o = json_pack("{ss sI}", "target", l->target, "lun", (json_int_t)l->lun);

		io_json(o, &l->io);
		json_array_append_new(luns, o);
	}
	for (size_t i = 0; i < s->nsessions; i++) {
		const struct tt_stats_session *se = &s->sessions[i];
		json_t *o = json_pack("{sI ss ss ss si}", "id", (json_int_t)se->id,
				      "initiator", se->initiator, "isid", se->isid,
				      "target", se->target, "tpgt", se->tpgt);

		io_json(o, &se->io);
		json_array_append_new(sessions, o);
	}
	for (size_t i = 0; i < s->nportals; i++)
		json_array_append_new(portals, json_pack("{ss si ss sb}", "target", s->portals[i].target,
							 "tpgt", s->portals[i].tpgt,
							 "addr", s->portals[i].addr,
							 "listening", s->portals[i].listening));
	return json_pack("{sf sb si si so so so s{sI sI sI sI s{sI sI sI sI sI}}}",
			 "time", (double)s->time_ns / 1e9,
			 "enabled", s->enabled,
			 "sessions_count", (int)s->nsessions,
			 "connections", (int)s->connections,
			 "luns", luns, "sessions", sessions, "portals", portals,
			 "limits",
			 "admitted", (json_int_t)s->limits.connections,
			 "prelogin_addresses", (json_int_t)s->limits.addresses,
			 "initiators", (json_int_t)s->limits.initiators,
			 "buffer_bytes", (json_int_t)s->limits.buffer,
			 "refused",
			 "max_connections", (json_int_t)s->limits.refused_connections,
			 "max_prelogin_per_address", (json_int_t)s->limits.refused_prelogin,
			 "max_connections_per_initiator", (json_int_t)s->limits.refused_initiator,
			 "max_session_buffer", (json_int_t)s->limits.refused_session_buffer,
			 "max_buffer", (json_int_t)s->limits.refused_buffer);
}

/* --- Prometheus text format 0.0.4 -------------------------------------------------------------- */

/* A label value: backslash, double quote and line feed escaped. */
static void put_label(FILE *f, const char *name, const char *val, bool first)
{
	fprintf(f, "%s%s=\"", first ? "" : ",", name);
	for (const char *p = val; *p; p++) {
		if (*p == '\\')
			fputs("\\\\", f);
		else if (*p == '"')
			fputs("\\\"", f);
		else if (*p == '\n')
			fputs("\\n", f);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

enum kind { K_LUN, K_SESSION };

/* The labels that name a LUN or a session (no braces). */
static void put_owner(FILE *f, enum kind k, const void *o)
{
	char num[24];

	if (k == K_LUN) {
		const struct tt_stats_lun *l = o;

		put_label(f, "target", l->target, true);
		snprintf(num, sizeof(num), "%" PRIu64, l->lun);
		put_label(f, "lun", num, false);
	} else {
		const struct tt_stats_session *s = o;

		snprintf(num, sizeof(num), "%" PRIu64, s->id);
		put_label(f, "session", num, true);
		put_label(f, "initiator", s->initiator, false);
		put_label(f, "isid", s->isid, false);
		put_label(f, "target", s->target, false);
	}
}

static void header(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static const struct tt_iostat *io_of(enum kind k, const struct tt_stats *s, size_t i)
{
	return k == K_LUN ? &s->luns[i].io : &s->sessions[i].io;
}

static const void *owner_of(enum kind k, const struct tt_stats *s, size_t i)
{
	return k == K_LUN ? (const void *)&s->luns[i] : (const void *)&s->sessions[i];
}

/* Seconds from nanoseconds, exactly. */
static void put_seconds(FILE *f, uint64_t ns)
{
	fprintf(f, "%" PRIu64 ".%09" PRIu64, ns / 1000000000u, ns % 1000000000u);
}

static void put_family(FILE *f, const struct tt_stats *s, enum kind k)
{
	const char *what = k == K_LUN ? "lun" : "session";
	const char *whom = k == K_LUN ? "on the logical unit" : "in the session";
	size_t n = k == K_LUN ? s->nluns : s->nsessions;
	char name[64], help[160];

	for (unsigned op = 0; op < TT_IO_OPS; op++) {
		snprintf(name, sizeof(name), "tether_%s_%s_commands_total", what, tt_io_op_name(op));
		snprintf(help, sizeof(help), "%s commands completed %s.",
			 op == TT_IO_READ ? "READ" : op == TT_IO_WRITE ? "WRITE" : "Other SCSI", whom);
		header(f, name, "counter", help);
		for (size_t i = 0; i < n; i++) {
			fprintf(f, "%s{", name);
			put_owner(f, k, owner_of(k, s, i));
			fprintf(f, "} %" PRIu64 "\n", io_of(k, s, i)->lat[op].count);
		}
	}
	for (unsigned op = 0; op < 2; op++) {
		snprintf(name, sizeof(name), "tether_%s_%s_bytes_total", what, tt_io_op_name(op));
		snprintf(help, sizeof(help), "Bytes %s by commands %s.",
			 op == TT_IO_READ ? "read" : "written", whom);
		header(f, name, "counter", help);
		for (size_t i = 0; i < n; i++) {
			fprintf(f, "%s{", name);
			put_owner(f, k, owner_of(k, s, i));
			fprintf(f, "} %" PRIu64 "\n", io_of(k, s, i)->bytes[op]);
		}
	}
	snprintf(name, sizeof(name), "tether_%s_errors_total", what);
	snprintf(help, sizeof(help), "Commands %s that ended with a status other than GOOD, by "
		 "class (sense key, or status).", whom);
	header(f, name, "counter", help);
	for (size_t i = 0; i < n; i++)
		for (unsigned e = 0; e < TT_IO_ERRS; e++) {
			fprintf(f, "%s{", name);
			put_owner(f, k, owner_of(k, s, i));
			put_label(f, "class", tt_io_err_name(e), false);
			fprintf(f, "} %" PRIu64 "\n", io_of(k, s, i)->errors[e]);
		}
	snprintf(name, sizeof(name), "tether_%s_latency_seconds", what);
	snprintf(help, sizeof(help), "Latency of commands %s, by operation (%s).", whom,
		 k == K_LUN ? "from execution to completion in the SCSI core"
			    : "from the command's arrival to its status");
	header(f, name, "histogram", help);
	for (size_t i = 0; i < n; i++)
		for (unsigned op = 0; op < TT_IO_OPS; op++) {
			const struct tt_iostat_hist *h = &io_of(k, s, i)->lat[op];
			uint64_t cum = 0;
			unsigned b = 0;

			/* one bucket per power of two of microseconds: 1 us .. 2^31 us, then +Inf */
			for (unsigned le = 0; le < TT_IOSTAT_BUCKETS - 1; le += 4) {
				for (; b <= le; b++)
					cum += h->buckets[b];
				fprintf(f, "%s_bucket{", name);
				put_owner(f, k, owner_of(k, s, i));
				put_label(f, "op", tt_io_op_name(op), false);
				fputs(",le=\"", f);
				put_seconds(f, tt_iostat_bound_ns(le));
				fprintf(f, "\"} %" PRIu64 "\n", cum);
			}
			for (; b < TT_IOSTAT_BUCKETS; b++)
				cum += h->buckets[b];
			fprintf(f, "%s_bucket{", name);
			put_owner(f, k, owner_of(k, s, i));
			put_label(f, "op", tt_io_op_name(op), false);
			fprintf(f, ",le=\"+Inf\"} %" PRIu64 "\n", cum);
			fprintf(f, "%s_sum{", name);
			put_owner(f, k, owner_of(k, s, i));
			put_label(f, "op", tt_io_op_name(op), false);
			fputs("} ", f);
			put_seconds(f, h->sum_ns);
			fprintf(f, "\n%s_count{", name);
			put_owner(f, k, owner_of(k, s, i));
			put_label(f, "op", tt_io_op_name(op), false);
			/* the count is the buckets' total: a reader between the two stores of one
			 * command sees them agree */
			fprintf(f, "} %" PRIu64 "\n", cum);
		}
}

int tt_stats_prometheus(const struct tt_stats *s, FILE *f)
{
	header(f, "tether_stats_enabled", "gauge", "1 when I/O counters are on (tetherd --no-stats).");
	fprintf(f, "tether_stats_enabled %d\n", s->enabled ? 1 : 0);
	header(f, "tether_sessions", "gauge", "iSCSI sessions (not discovery sessions).");
	fprintf(f, "tether_sessions %zu\n", s->nsessions);
	header(f, "tether_connections", "gauge", "iSCSI connections, every loop.");
	fprintf(f, "tether_connections %u\n", s->connections);
	header(f, "tether_portal_listening", "gauge", "1 when the portal's address is listening.");
	for (size_t i = 0; i < s->nportals; i++) {
		char tag[8];

		snprintf(tag, sizeof(tag), "%u", (unsigned)s->portals[i].tpgt);
		fputs("tether_portal_listening{", f);
		put_label(f, "target", s->portals[i].target, true);
		put_label(f, "tpg", tag, false);
		put_label(f, "addr", s->portals[i].addr, false);
		fprintf(f, "} %d\n", s->portals[i].listening ? 1 : 0);
	}
	header(f, "tether_buffer_bytes", "gauge",
	       "Bytes of command data buffers held (global.max_buffer bounds them).");
	fprintf(f, "tether_buffer_bytes %" PRIu64 "\n", s->limits.buffer);
	header(f, "tether_limit_refusals_total", "counter",
	       "Connections, logins and commands refused by a resource limit (docs/security.md).");
	fprintf(f, "tether_limit_refusals_total{limit=\"max_connections\"} %" PRIu64 "\n",
		s->limits.refused_connections);
	fprintf(f, "tether_limit_refusals_total{limit=\"max_prelogin_per_address\"} %" PRIu64 "\n",
		s->limits.refused_prelogin);
	fprintf(f, "tether_limit_refusals_total{limit=\"max_connections_per_initiator\"} %" PRIu64
		"\n", s->limits.refused_initiator);
	fprintf(f, "tether_limit_refusals_total{limit=\"max_session_buffer\"} %" PRIu64 "\n",
		s->limits.refused_session_buffer);
	fprintf(f, "tether_limit_refusals_total{limit=\"max_buffer\"} %" PRIu64 "\n",
		s->limits.refused_buffer);
	put_family(f, s, K_LUN);
	put_family(f, s, K_SESSION);
	return ferror(f) ? -EIO : 0;
}
