/* SPDX-License-Identifier: BSD-3-Clause */
/* iscsi:// URLs of paths and portals: user%secret, IPv6, ports, errors naming the problem. */
#include "tt_test.h"

#include <errno.h>

#include "initiator/initiator.h"

static void test_full(void **state)
{
	struct ti_url u;
	char err[256] = "", out[512];

	(void)state;
	assert_int_equal(ti_url_parse("iscsi://alice%s3cret%x@10.0.0.1:3261/iqn.2026-11.org.x:t/7",
				      &u, true, err, sizeof(err)), 0);
	assert_string_equal(u.user, "alice");
	assert_string_equal(u.secret, "s3cret%x");   /* the first % separates */
	assert_string_equal(u.host, "10.0.0.1");
	assert_int_equal(u.port, 3261);
	assert_string_equal(u.target, "iqn.2026-11.org.x:t");
	assert_int_equal(u.lun, 7);
	ti_url_format(&u, out, sizeof(out));
	assert_string_equal(out, "iscsi://alice@10.0.0.1:3261/iqn.2026-11.org.x:t/7");
	assert_null(strstr(out, "s3cret"));

	assert_int_equal(ti_url_parse("iscsi://[::1]/iqn.x:y/0", &u, true, err, sizeof(err)), 0);
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.port, 3260);
	ti_url_format(&u, out, sizeof(out));
	assert_string_equal(out, "iscsi://[::1]:3260/iqn.x:y/0");

	/* a portal (discovery) */
	assert_int_equal(ti_url_parse("iscsi://bob@host.example", &u, false, err, sizeof(err)), 0);
	assert_string_equal(u.user, "bob");
	assert_string_equal(u.secret, "");
	assert_false(u.has_lun);
}

static void expect_bad(const char *url, bool need, const char *word)
{
	struct ti_url u;
	char err[256] = "";

	assert_int_equal(ti_url_parse(url, &u, need, err, sizeof(err)), -EINVAL);
	if (!strstr(err, word))
		fail_msg("%s: error '%s' does not say '%s'", url, err, word);
}

static void test_errors(void **state)
{
	(void)state;
	expect_bad("http://h/t/0", true, "not an iscsi:// URL");
	expect_bad("iscsi:///t/0", true, "no host");
	expect_bad("iscsi://h:0/t/0", true, "bad port");
	expect_bad("iscsi://h:99999/t/0", true, "bad port");
	expect_bad("iscsi://h/t", true, "no LUN");
	expect_bad("iscsi://h/t/x", true, "bad LUN");
	expect_bad("iscsi://h/t/16384", true, "bad LUN");
	expect_bad("iscsi://h", true, "no target and LUN");
	expect_bad("iscsi://%pw@h/t/0", true, "empty user");
	expect_bad("iscsi://[::1/t/0", true, "unterminated");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_errors),
	};

	return tt_run_group("url_test", tests, NULL, NULL);
}
