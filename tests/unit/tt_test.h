/* SPDX-License-Identifier: BSD-3-Clause */
/* What every unit test includes instead of <cmocka.h>.
 *
 * cmocka's run functions return only the number of failed tests: a program whose tests all
 * skipped would exit 0 and pass. Here a skip always carries a reason and is reported:
 *
 *   tt_skip("no /dev/shm");                 // instead of skip(): records why, then skips
 *   return tt_run_group("loop_test", tests, setup, teardown);
 *
 * tt_run_group() returns 1 when a test failed, else 77 (the "skipped" exit status of
 * tests/run.sh and meson test) after printing "SKIP: ..." with every reason when a test
 * called tt_skip(), else 0. A bare skip() does not compile. Include this header once per test
 * program (each unit test is a single .c file). */
#ifndef TT_TEST_H
#define TT_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

/* Every skip must say why: use tt_skip(reason). */
#undef skip
#define skip() _Static_assert(0, "skip() without a reason: use tt_skip(\"why\")")

struct tt_test_skips {
	int count;
	char reasons[1024];
};

static inline struct tt_test_skips *tt_test_skips(void)
{
	static struct tt_test_skips s;

	return &s;
}

/* Records one skip: "where: reason", printed now and again in the summary. */
__attribute__((format(printf, 2, 3)))
static inline void tt_test_note_skip(const char *where, const char *fmt, ...)
{
	struct tt_test_skips *s = tt_test_skips();
	char reason[256];
	size_t len = strlen(s->reasons);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	print_message("skipped: %s: %s\n", where, reason);
	if (len < sizeof(s->reasons) - 1)
		snprintf(s->reasons + len, sizeof(s->reasons) - len, "%s%s: %s",
			 s->count ? "; " : "", where, reason);
	s->count++;
}

/* Skips the running test (a printf-style reason is required); does not return. */
#define tt_skip(...)                                              \
	do {                                                      \
		tt_test_note_skip(__func__, __VA_ARGS__);         \
		_skip(__FILE__, __LINE__);                        \
	} while (0)

/* The exit status of a test program from cmocka's failure count and the skips recorded. */
static inline int tt_test_status(const char *name, int failed, size_t ntests)
{
	struct tt_test_skips *s = tt_test_skips();

	if (failed != 0)
		return 1;
	if (s->count == 0)
		return 0;
	printf("SKIP: %s: %d of %zu tests skipped: %s\n", name, s->count, ntests, s->reasons);
	fflush(stdout);
	return 77;
}

/* Runs a group of tests; the result is the program's exit status (0, 1 or 77). */
#define tt_run_group(name, tests, setup, teardown)                                       \
	tt_test_status(name,                                                             \
		       _cmocka_run_group_tests(name, tests, sizeof(tests) / sizeof((tests)[0]), \
					       setup, teardown),                         \
		       sizeof(tests) / sizeof((tests)[0]))

#endif
