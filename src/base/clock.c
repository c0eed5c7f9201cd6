/* SPDX-License-Identifier: BSD-3-Clause */
#include "base/clock.h"

#include <stdbool.h>
#include <time.h>

static bool fake;
static uint64_t fake_ns;

uint64_t tt_now_ns(void)
{
	struct timespec ts;

	if (fake)
		return fake_ns;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * TT_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

void tt_clock_fake(uint64_t ns)
{
	fake = true;
	fake_ns = ns;
}

void tt_clock_advance(uint64_t ns) { fake_ns += ns; }
void tt_clock_real(void) { fake = false; }
