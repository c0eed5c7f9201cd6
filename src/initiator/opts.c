/* SPDX-License-Identifier: BSD-3-Clause */
/* Options of a device: one table, parsed from strings, each with its default (docs/libtether.md
 * explains the choice of each). */
#include "initiator/initiator.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum opt_kind { OPT_MS, OPT_FENCE, OPT_SELECTOR, OPT_STR, OPT_DIGEST };

struct opt_desc {
	const char *name;
	enum opt_kind kind;
	size_t off;
	size_t size;          /* OPT_STR: buffer size */
	int64_t min, max;     /* OPT_MS */
	bool forever;         /* OPT_MS: -1 allowed */
};

#define MS(n, lo, hi, f) { #n, OPT_MS, offsetof(struct tether_opts, n), 0, lo, hi, f }
#define STR(n) { #n, OPT_STR, offsetof(struct tether_opts, n), \
		 sizeof(((struct tether_opts *)0)->n), 0, 0, false }
#define DAY 86400000

static const struct opt_desc opt_table[] = {
	MS(nop_interval_ms, 0, DAY, false),
	MS(nop_timeout_ms, 1, DAY, false),
	MS(command_timeout_ms, 0, DAY, false),
	MS(tcp_user_timeout_ms, 0, DAY, false),
	MS(connect_timeout_ms, 0, DAY, false),
	MS(login_timeout_ms, 1, DAY, false),
	MS(reconnect_delay_ms, 0, DAY, false),
	MS(reconnect_max_delay_ms, 0, DAY, false),
	MS(path_loss_timeout_ms, 0, 30LL * DAY, true),
	MS(no_path_timeout_ms, 0, 30LL * DAY, true),
	{ "fence", OPT_FENCE, offsetof(struct tether_opts, fence), 0, 0, 0, false },
	MS(quiesce_ms, 0, DAY, false),
	{ "selector", OPT_SELECTOR, offsetof(struct tether_opts, selector), 0, 0, 0, false },
	STR(initiator_name),
	STR(chap_user),
	STR(chap_secret),
	STR(mutual_user),
	STR(mutual_secret),
	{ "header_digest", OPT_DIGEST, offsetof(struct tether_opts, header_digest), 0, 0, 0, false },
	{ "data_digest", OPT_DIGEST, offsetof(struct tether_opts, data_digest), 0, 0, 0, false },
};

static const char *const fence_names[] = { "auto", "reinstate", "lu-reset", "quiesce" };
static const char *const selector_names[] = { "round-robin", "queue-depth", "service-time" };

void ti_opts_defaults(struct tether_opts *o)
{
	char host[128] = "localhost";

	memset(o, 0, sizeof(*o));
	/* a silent cut is noticed within nop_interval + nop_timeout (+ one tick): 0.55-0.6 s */
	o->nop_interval_ms = 250;
	o->nop_timeout_ms = 300;
	o->command_timeout_ms = 10000;
	o->tcp_user_timeout_ms = 1000;
	/* a SYN lost to a dead or cut link is not waited for (the kernel resends it only after
	 * 1 s, then 3 s): a path comes back within connect_timeout + reconnect_delay of its link */
	o->connect_timeout_ms = 500;
	o->login_timeout_ms = 3000;
	o->reconnect_delay_ms = 200;
	o->reconnect_max_delay_ms = 5000;
	o->path_loss_timeout_ms = -1;
	o->no_path_timeout_ms = 60000;
	o->fence = TI_FENCE_AUTO;
	o->quiesce_ms = 30000;
	o->selector = TI_SEL_SERVICE_TIME;
	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = 0;
	for (char *p = host; *p; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
		else if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
			   *p == '.'))
			*p = '-';
	}
	snprintf(o->initiator_name, sizeof(o->initiator_name), "iqn.2026-11.org.tether:%s",
		 host);
	o->log_level = TI_LOG_WARN;
}

int tether_opts_new(struct tether_opts **out)
{
	struct tether_opts *o = malloc(sizeof(*o));

	*out = NULL;
	if (!o)
		return -ENOMEM;
	ti_opts_defaults(o);
	*out = o;
	return 0;
}

void tether_opts_free(struct tether_opts *opts)
{
	if (!opts)
		return;
	/* the secrets do not outlive the options */
	explicit_bzero(opts, sizeof(*opts));
	free(opts);
}

static const struct opt_desc *opt_find(const char *name)
{
	for (size_t i = 0; i < sizeof(opt_table) / sizeof(opt_table[0]); i++)
		if (!strcmp(opt_table[i].name, name))
			return &opt_table[i];
	return NULL;
}

static int pick(const char *const *names, int n, const char *v)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(names[i], v))
			return i;
	return -1;
}

int tether_opts_set(struct tether_opts *o, const char *name, const char *value)
{
	const struct opt_desc *d;
	char *base = (char *)o;

	if (!o)
		return -EINVAL;
	o->errmsg[0] = 0;
	if (!name || !(d = opt_find(name))) {
		snprintf(o->errmsg, sizeof(o->errmsg), "unknown option '%s'", name ? name : "(null)");
		return -EINVAL;
	}
	if (!value) {
		snprintf(o->errmsg, sizeof(o->errmsg), "option '%s': no value", name);
		return -EINVAL;
	}
	switch (d->kind) {
	case OPT_MS: {
		char *end;
		long long v;

		errno = 0;
		v = strtoll(value, &end, 10);
		if (errno || end == value || *end) {
			snprintf(o->errmsg, sizeof(o->errmsg),
				 "option '%s': '%s' is not a number of milliseconds", name, value);
			return -EINVAL;
		}
		if (!(v == -1 && d->forever) && (v < d->min || v > d->max)) {
			snprintf(o->errmsg, sizeof(o->errmsg),
				 "option '%s': %lld out of range [%" PRId64 ", %" PRId64 "]%s", name,
				 v, d->min, d->max, d->forever ? " or -1 (forever)" : "");
			return -EINVAL;
		}
		*(int64_t *)(void *)(base + d->off) = v;
		return 0;
	}
	case OPT_FENCE: {
		int i = pick(fence_names, 4, value);

		if (i < 0) {
			snprintf(o->errmsg, sizeof(o->errmsg), "option 'fence': '%s' is not one of "
				 "auto, reinstate, lu-reset, quiesce", value);
			return -EINVAL;
		}
		o->fence = (enum ti_fence_mode)i;
		return 0;
	}
	case OPT_SELECTOR: {
		int i = pick(selector_names, 3, value);

		if (i < 0) {
			snprintf(o->errmsg, sizeof(o->errmsg), "option 'selector': '%s' is not one "
				 "of round-robin, queue-depth, service-time", value);
			return -EINVAL;
		}
		o->selector = (enum ti_selector)i;
		return 0;
	}
	case OPT_DIGEST:
		if (!strcmp(value, "none") || !strcmp(value, "crc32c")) {
			*(bool *)(void *)(base + d->off) = value[0] == 'c';
			return 0;
		}
		snprintf(o->errmsg, sizeof(o->errmsg), "option '%s': '%s' is not none or crc32c",
			 name, value);
		return -EINVAL;
	case OPT_STR:
		if (strlen(value) >= d->size) {
			snprintf(o->errmsg, sizeof(o->errmsg), "option '%s': longer than %zu bytes",
				 name, d->size - 1);
			return -EINVAL;
		}
		if (!strcmp(name, "initiator_name") && !value[0]) {
			snprintf(o->errmsg, sizeof(o->errmsg), "option 'initiator_name': empty");
			return -EINVAL;
		}
		memcpy(base + d->off, value, strlen(value) + 1);
		return 0;
	}
	return -EINVAL;
}

int tether_opts_get(const struct tether_opts *o, const char *name, char *buf, size_t size)
{
	struct tether_opts def;
	const struct opt_desc *d;
	const char *base;
	int n = 0;

	if (!o) {
		ti_opts_defaults(&def);
		o = &def;
	}
	base = (const char *)o;
	if (!name || !(d = opt_find(name)))
		return -EINVAL;
	switch (d->kind) {
	case OPT_MS:
		n = snprintf(buf, size, "%" PRId64, *(const int64_t *)(const void *)(base + d->off));
		break;
	case OPT_FENCE:
		n = snprintf(buf, size, "%s", fence_names[o->fence]);
		break;
	case OPT_SELECTOR:
		n = snprintf(buf, size, "%s", selector_names[o->selector]);
		break;
	case OPT_DIGEST:
		n = snprintf(buf, size, "%s",
			     *(const bool *)(const void *)(base + d->off) ? "crc32c" : "none");
		break;
	case OPT_STR:
		n = snprintf(buf, size, "%s", base + d->off);
		break;
	}
	return n < 0 || (size_t)n >= size ? -ENOSPC : 0;
}

const char *tether_opts_errmsg(const struct tether_opts *opts)
{
	return opts ? opts->errmsg : "";
}

void tether_opts_set_log(struct tether_opts *opts, int max_level, tether_log_fn fn, void *arg)
{
	if (!opts)
		return;
	opts->log_level = max_level;
	opts->log_fn = fn;
	opts->log_arg = arg;
}
