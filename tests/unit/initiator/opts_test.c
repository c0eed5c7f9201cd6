/* SPDX-License-Identifier: BSD-3-Clause */
/* Options: defaults, parsing, and errors that name the offending option. */
#include "tt_test.h"

#include <errno.h>

#include "initiator/initiator.h"

static void test_defaults(void **state)
{
	struct tether_opts *o;
	char buf[256];

	(void)state;
	assert_int_equal(tether_opts_new(&o), 0);
	assert_int_equal(tether_opts_get(o, "nop_interval_ms", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "250");
	assert_int_equal(tether_opts_get(o, "nop_timeout_ms", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "300");
	assert_int_equal(tether_opts_get(o, "no_path_timeout_ms", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "60000");
	assert_int_equal(tether_opts_get(o, "path_loss_timeout_ms", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "-1");
	assert_int_equal(tether_opts_get(o, "fence", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "auto");
	assert_int_equal(tether_opts_get(o, "selector", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "service-time");
	assert_int_equal(tether_opts_get(o, "header_digest", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "none");
	assert_int_equal(tether_opts_get(o, "initiator_name", buf, sizeof(buf)), 0);
	assert_memory_equal(buf, "iqn.2026-11.org.tether:", 23);
	assert_int_equal(tether_opts_get(o, "bogus", buf, sizeof(buf)), -EINVAL);
	/* NULL options read as the defaults */
	assert_int_equal(tether_opts_get(NULL, "reconnect_delay_ms", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "200");
	tether_opts_free(o);
}

static void expect_err(struct tether_opts *o, const char *name, const char *value,
		       const char *word)
{
	assert_int_equal(tether_opts_set(o, name, value), -EINVAL);
	if (!strstr(tether_opts_errmsg(o), word))
		fail_msg("%s=%s: error '%s' does not say '%s'", name, value, tether_opts_errmsg(o),
			 word);
}

static void test_set(void **state)
{
	struct tether_opts *o;
	char buf[64];

	(void)state;
	assert_int_equal(tether_opts_new(&o), 0);
	assert_int_equal(tether_opts_set(o, "no_path_timeout_ms", "-1"), 0);
	assert_string_equal(tether_opts_errmsg(o), "");
	assert_int_equal(tether_opts_set(o, "fence", "lu-reset"), 0);
	assert_int_equal(tether_opts_set(o, "selector", "queue-depth"), 0);
	assert_int_equal(tether_opts_set(o, "data_digest", "crc32c"), 0);
	assert_int_equal(tether_opts_get(o, "fence", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "lu-reset");
	assert_int_equal(tether_opts_get(o, "data_digest", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "crc32c");

	expect_err(o, "nop_intervall_ms", "5", "'nop_intervall_ms'");
	expect_err(o, "nop_timeout_ms", "abc", "'nop_timeout_ms'");
	expect_err(o, "nop_timeout_ms", "-1", "out of range");    /* -1 only where documented */
	expect_err(o, "login_timeout_ms", "0", "'login_timeout_ms'");
	expect_err(o, "fence", "pray", "'fence'");
	expect_err(o, "selector", "random", "'selector'");
	expect_err(o, "header_digest", "md5", "'header_digest'");
	expect_err(o, "initiator_name", "", "'initiator_name'");
	/* a failed set leaves the value alone */
	assert_int_equal(tether_opts_get(o, "nop_timeout_ms", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "300");
	tether_opts_free(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_set),
	};

	return tt_run_group("opts_test", tests, NULL, NULL);
}
