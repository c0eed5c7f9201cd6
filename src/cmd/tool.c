/* SPDX-License-Identifier: BSD-3-Clause */
/* What the programs built on libtether share (tool.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tool.h"

int tool_set_opt(struct tool_dev_args *a, const char *prog, const char *nv)
{
	const char *eq = strchr(nv, '=');
	char name[64];
	int rc;

	if (!eq || eq == nv || (size_t)(eq - nv) >= sizeof(name)) {
		fprintf(stderr, "%s: option '%s': expected name=value\n", prog, nv);
		return -EINVAL;
	}
	memcpy(name, nv, (size_t)(eq - nv));
	name[eq - nv] = '\0';
	if (!a->opts) {
		rc = tether_opts_new(&a->opts);
		if (rc < 0) {
			fprintf(stderr, "%s: %s\n", prog, strerror(-rc));
			return rc;
		}
	}
	rc = tether_opts_set(a->opts, name, eq + 1);
	if (rc < 0) {
		const char *why = tether_opts_errmsg(a->opts);

		fprintf(stderr, "%s: option %s: %s\n", prog, name,
			why && *why ? why : strerror(-rc));
		return rc;
	}
	return 0;
}

int tool_add_url(struct tool_dev_args *a, const char *prog, const char *url)
{
	if (a->nurls >= TOOL_MAX_URLS) {
		fprintf(stderr, "%s: at most %d URLs\n", prog, TOOL_MAX_URLS);
		return -E2BIG;
	}
	if (strncmp(url, "iscsi://", 8) != 0) {
		fprintf(stderr, "%s: '%s' is not an iscsi:// URL\n", prog, url);
		return -EINVAL;
	}
	a->urls[a->nurls++] = url;
	return 0;
}

int tool_open(struct tool_dev_args *a, const char *prog, struct tether_dev **out)
{
	char err[512] = "";
	int rc;

	rc = tether_open(out, a->urls, a->nurls, a->opts, err, sizeof(err));
	if (rc < 0)
		fprintf(stderr, "%s: cannot open %s%s: %s\n", prog, a->urls[0],
			a->nurls > 1 ? " (and other paths)" : "", *err ? err : strerror(-rc));
	return rc;
}

void tool_args_free(struct tool_dev_args *a)
{
	tether_opts_free(a->opts);
	a->opts = NULL;
}

int tool_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': shift = 10; break;
	case 'm': case 'M': shift = 20; break;
	case 'g': case 'G': shift = 30; break;
	case 't': case 'T': shift = 40; break;
	default: return -EINVAL;
	}
	if (*end && end[1] && strcmp(end + 1, "iB") != 0 && strcmp(end + 1, "B") != 0)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

int tool_parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0) || v > 1e7)
		return -EINVAL;
	*out = v;
	return 0;
}

uint64_t tool_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int tool_ms_until(uint64_t deadline_ns)
{
	uint64_t now = tool_now_ns();

	if (deadline_ns <= now)
		return 0;
	return (int)((deadline_ns - now + 999999) / 1000000);
}

int tool_live_paths(const struct tether_dev *dev)
{
	int n = tether_path_count(dev), live = 0;

	for (int i = 0; i < n; i++) {
		struct tether_path_info pi;

		if (tether_path_info(dev, i, &pi) == 0 && strcmp(pi.state, "live") == 0)
			live++;
	}
	return live;
}
