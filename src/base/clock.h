/* SPDX-License-Identifier: BSD-3-Clause */
/* Monotonic clock, replaceable by a fake clock in unit tests. */
#ifndef TT_BASE_CLOCK_H
#define TT_BASE_CLOCK_H

#include <stdint.h>

#define TT_NS_PER_MS 1000000ULL
#define TT_NS_PER_SEC 1000000000ULL

/* Nanoseconds of CLOCK_MONOTONIC (or of the fake clock when one is set). */
uint64_t tt_now_ns(void);
static inline uint64_t tt_now_ms(void) { return tt_now_ns() / TT_NS_PER_MS; }

/* Unit tests: freeze time at @ns; tt_clock_advance moves it; tt_clock_real returns to the real clock. */
void tt_clock_fake(uint64_t ns);
void tt_clock_advance(uint64_t ns);
void tt_clock_real(void);

#endif
