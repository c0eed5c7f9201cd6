/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the programs built on libtether share: the -o name=value options, opening a device from
 * URLs with a message that says why not, numbers with size suffixes, and clocks.
 */
#ifndef TT_CMD_TOOL_H
#define TT_CMD_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tether/tether.h"

#define TOOL_MAX_URLS 32

struct tool_dev_args {
	const char *urls[TOOL_MAX_URLS];
	size_t nurls;
	struct tether_opts *opts;
	const char *control;   /* --control PATH, "none", or NULL for the default */
};

/* Sets one "name=value" libtether option; on failure prints why (naming the option) with
 * @prog and returns a negative errno. */
int tool_set_opt(struct tool_dev_args *a, const char *prog, const char *name_value);
/* Adds a URL (at most TOOL_MAX_URLS). */
int tool_add_url(struct tool_dev_args *a, const char *prog, const char *url);
/* Opens the device; on failure prints why with @prog. */
int tool_open(struct tool_dev_args *a, const char *prog, struct tether_dev **out);
void tool_args_free(struct tool_dev_args *a);

/* "4096", "4k", "1M", "2G", "1T" (powers of 1024); -EINVAL when malformed or out of range. */
int tool_parse_size(const char *s, uint64_t *out);
/* A decimal number of seconds, fractions allowed ("2", "0.5"). */
int tool_parse_seconds(const char *s, double *out);

uint64_t tool_now_ns(void);              /* CLOCK_MONOTONIC */
int tool_ms_until(uint64_t deadline_ns); /* >= 0, rounded up */

/* Number of paths in the state "live". */
int tool_live_paths(const struct tether_dev *dev);

#endif
