/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Samples of the counters shown (src/target/stats.c): the Prometheus text (HELP and TYPE before
 * the samples, escaped label values, cumulative buckets ending with +Inf equal to _count, exact
 * _sum) and the control socket's JSON (counts, bytes, errors by class, percentiles, buckets).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include "tt_test.h"

#include <stdlib.h>
#include <string.h>

#include "target/stats.h"

static struct tt_stats *sample(void)
{
	struct tt_stats *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	s->enabled = true;
	s->connections = 3;
	s->nluns = 1;
	s->luns = calloc(1, sizeof(*s->luns));
	s->nsessions = 1;
	s->sessions = calloc(1, sizeof(*s->sessions));
	s->nportals = 1;
	s->portals = calloc(1, sizeof(*s->portals));
	assert_non_null(s->luns);
	assert_non_null(s->sessions);
	assert_non_null(s->portals);
	snprintf(s->luns[0].target, sizeof(s->luns[0].target), "iqn.2026-11.org.tether:a\"b\\c");
	s->luns[0].lun = 7;
	tt_iostat_account(&s->luns[0].io, TT_IO_READ, 4096, TT_IO_ERR_NONE, 1500);
	tt_iostat_account(&s->luns[0].io, TT_IO_READ, 0, TT_IO_ERR_ILLEGAL_REQUEST, 900);
	tt_iostat_account(&s->luns[0].io, TT_IO_WRITE, 512, TT_IO_ERR_NONE, 3000000001ull);
	s->sessions[0].id = 42;
	snprintf(s->sessions[0].initiator, sizeof(s->sessions[0].initiator), "iqn.x:line\nfeed");
	snprintf(s->sessions[0].isid, sizeof(s->sessions[0].isid), "800000000001");
	snprintf(s->sessions[0].target, sizeof(s->sessions[0].target), "iqn.t");
	tt_iostat_account(&s->sessions[0].io, TT_IO_OTHER, 0, TT_IO_ERR_NONE, 20000);
	snprintf(s->portals[0].target, sizeof(s->portals[0].target), "iqn.t");
	s->portals[0].tpgt = 1;
	snprintf(s->portals[0].addr, sizeof(s->portals[0].addr), "127.0.0.1:3260");
	s->portals[0].listening = true;
	s->limits.buffer = 1048576;
	s->limits.refused_prelogin = 7;
	s->limits.refused_session_buffer = 2;
	return s;
}

static char *prometheus(const struct tt_stats *s)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(tt_stats_prometheus(s, f), 0);
	assert_int_equal(fclose(f), 0);
	return text;
}

static void test_prometheus(void **state)
{
	struct tt_stats *s = sample();
	char *text = prometheus(s), *line, *save = NULL, typed[128] = "";
	unsigned long long last_cum = 0, nbuckets = 0;
	bool inf_seen = false;

	(void)state;
	assert_non_null(strstr(text, "tether_connections 3\n"));
	assert_non_null(strstr(text, "tether_buffer_bytes 1048576\n"));
	assert_non_null(strstr(text, "tether_limit_refusals_total{limit=\"max_prelogin_per_address\"} "
				     "7\n"));
	assert_non_null(strstr(text, "tether_limit_refusals_total{limit=\"max_session_buffer\"} 2\n"));
	assert_non_null(strstr(text, "tether_limit_refusals_total{limit=\"max_buffer\"} 0\n"));
	assert_non_null(strstr(text, "tether_sessions 1\n"));
	assert_non_null(strstr(text, "tether_portal_listening{target=\"iqn.t\",tpg=\"1\","
				     "addr=\"127.0.0.1:3260\"} 1\n"));
	/* escaped: a double quote, a backslash, a line feed */
	assert_non_null(strstr(text, "tether_lun_read_commands_total{target="
				     "\"iqn.2026-11.org.tether:a\\\"b\\\\c\",lun=\"7\"} 2\n"));
	assert_non_null(strstr(text, "initiator=\"iqn.x:line\\nfeed\""));
	assert_non_null(strstr(text, "tether_lun_read_bytes_total{target="
				     "\"iqn.2026-11.org.tether:a\\\"b\\\\c\",lun=\"7\"} 4096\n"));
	assert_non_null(strstr(text, "lun=\"7\",class=\"illegal_request\"} 1\n"));
	assert_non_null(strstr(text, "# TYPE tether_lun_latency_seconds histogram\n"));
	assert_non_null(strstr(text, "tether_session_other_commands_total{session=\"42\""));
	/* the write took 3.000000001 s: the sum is exact */
	assert_non_null(strstr(text, "lun=\"7\",op=\"write\"} 3.000000001\n"));

	/* every sample's family was typed before it; the read histogram's buckets are cumulative
	 * and end with +Inf equal to _count */
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "# TYPE ", 7)) {
			snprintf(typed, sizeof(typed), "%.*s", (int)strcspn(line + 7, " "), line + 7);
			continue;
		}
		if (line[0] == '#')
			continue;
		assert_int_equal(strncmp(line, typed, strlen(typed)), 0);
		if (strstr(line, "tether_lun_latency_seconds_bucket{") == line &&
		    strstr(line, "op=\"read\"")) {
			unsigned long long v = strtoull(strrchr(line, ' ') + 1, NULL, 10);

			assert_true(v >= last_cum);
			last_cum = v;
			nbuckets++;
			if (strstr(line, "le=\"+Inf\""))
				inf_seen = true;
			if (strstr(line, "le=\"0.000001000\""))
				assert_int_equal(v, 1); /* the 900 ns one */
			if (strstr(line, "le=\"0.000002000\""))
				assert_int_equal(v, 2);
		}
		if (strstr(line, "tether_lun_latency_seconds_count{") == line &&
		    strstr(line, "op=\"read\""))
			assert_int_equal(strtoull(strrchr(line, ' ') + 1, NULL, 10), last_cum);
	}
	assert_true(inf_seen);
	assert_int_equal(nbuckets, 33); /* 1 us .. 2^31 us, and +Inf */
	assert_int_equal(last_cum, 2);
	free(text);
	tt_stats_free(s);
}

static void test_json(void **state)
{
	struct tt_stats *s = sample();
	json_t *j = tt_stats_json(s), *lun, *rd, *lat;

	(void)state;
	assert_non_null(j);
	assert_true(json_is_true(json_object_get(j, "enabled")));
	assert_int_equal(json_integer_value(json_object_get(j, "connections")), 3);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "limits"),
							    "buffer_bytes")), 1048576);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(j,
				"limits"), "refused"), "max_prelogin_per_address")), 7);
	lun = json_array_get(json_object_get(j, "luns"), 0);
	assert_int_equal(json_integer_value(json_object_get(lun, "lun")), 7);
	assert_int_equal(json_integer_value(json_object_get(lun, "errors")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(lun, "errors_by_class"),
							    "illegal_request")), 1);
	rd = json_object_get(lun, "read");
	assert_int_equal(json_integer_value(json_object_get(rd, "commands")), 2);
	assert_int_equal(json_integer_value(json_object_get(rd, "bytes")), 4096);
	assert_int_equal(json_integer_value(json_object_get(rd, "sum_ns")), 2400);
	assert_int_equal(json_array_size(json_object_get(rd, "buckets")), 2);
	lat = json_object_get(rd, "latency_us");
	assert_true(json_real_value(json_object_get(lat, "p50")) <= 1.0);
	assert_true(json_real_value(json_object_get(lat, "p99")) > 1.0);
	assert_true(json_real_value(json_object_get(lat, "p99")) <= 1.5);
	assert_true(json_real_value(json_object_get(lat, "avg")) == 1.2);
	assert_null(json_object_get(json_object_get(lun, "other"), "bytes"));
	assert_int_equal(json_integer_value(json_object_get(
		json_object_get(json_array_get(json_object_get(j, "sessions"), 0), "other"),
		"commands")), 1);
	json_decref(j);
	tt_stats_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prometheus),
		cmocka_unit_test(test_json),
	};

	return tt_run_group("stats_test", tests, NULL, NULL);
}
