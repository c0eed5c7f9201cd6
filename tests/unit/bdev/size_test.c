/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include "tt_test.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "bdev/bdev.h"

static void test_parse_good(void **state)
{
	static const struct { const char *s; uint64_t v; } cases[] = {
		{ "0", 0 }, { "512", 512 }, { "4096", 4096 },
		{ "1K", 1024 }, { "1k", 1024 }, { "64K", 65536 }, { "1KiB", 1024 },
		{ "1M", 1 << 20 }, { "3MiB", 3 << 20 }, { "1G", 1ULL << 30 }, { "2GiB", 2ULL << 30 },
		{ "1T", 1ULL << 40 }, { "4TiB", 4ULL << 40 }, { "16777215T", 16777215ULL << 40 },
		{ "18446744073709551615", UINT64_MAX },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 1;

		assert_int_equal(tt_parse_size(cases[i].s, &v), 0);
		assert_true(v == cases[i].v);
	}
}

static void test_parse_bad(void **state)
{
	static const char *const cases[] = {
		"", "Q", "1Q", "-1", " 1", "1 ", "1KB", "1Ki", "1iB", "1.5G", "G", "0x10",
		"16777216T", "18446744073709551616", "1MM", "K1",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 7;

		if (tt_parse_size(cases[i], &v) != -EINVAL)
			fail_msg("'%s' accepted", cases[i]);
		assert_true(v == 7);
	}
	assert_int_equal(tt_parse_size(NULL, NULL), -EINVAL);
}

static void test_format(void **state)
{
	char buf[32];

	(void)state;
	assert_string_equal(tt_format_size(0, buf, sizeof(buf)), "0");
	assert_string_equal(tt_format_size(1000, buf, sizeof(buf)), "1000");
	assert_string_equal(tt_format_size(1024, buf, sizeof(buf)), "1K");
	assert_string_equal(tt_format_size(1536ULL << 20, buf, sizeof(buf)), "1536M");
	assert_string_equal(tt_format_size(1ULL << 30, buf, sizeof(buf)), "1G");
	assert_string_equal(tt_format_size(1ULL << 50, buf, sizeof(buf)), "1024T");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_format),
	};

	return tt_run_group("size_test", tests, NULL, NULL);
}
