/* SPDX-License-Identifier: BSD-3-Clause */
/* The plan of tetherctl apply (src/target/apply.c): a pure comparison of two parsed
 * configurations, checked line by line. No model, no daemon. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include "tt_test.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target/apply.h"
#include "target/config.h"

static struct tt_config *parse(const char *text)
{
	struct tt_config *cfg = NULL;
	json_error_t jerr;
	char err[512] = "";
	json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);

	if (!root)
		fail_msg("test JSON does not load: %s: %s", jerr.text, text);
	if (tt_config_parse(root, &cfg, err, sizeof(err)))
		fail_msg("test configuration does not parse: %s", err);
	json_decref(root);
	return cfg;
}

/* The plan from @cur to @want as lines joined by '\n' (static buffer), or "ERR: message". */
static const char *plan_text(const char *cur, const char *want)
{
	static char out[8192];
	struct tt_config *c = parse(cur), *w = parse(want);
	struct tt_apply_plan plan;
	char err[512] = "";
	size_t used = 0;

	out[0] = '\0';
	if (tt_apply_plan(c, w, &plan, err, sizeof(err))) {
		snprintf(out, sizeof(out), "ERR: %s", err);
	} else {
		for (size_t i = 0; i < plan.n; i++)
			used += (size_t)snprintf(out + used, sizeof(out) - used, "%s\n",
						 plan.steps[i].text);
		tt_apply_plan_free(&plan);
	}
	tt_config_free(c);
	tt_config_free(w);
	return out;
}

#define T "iqn.2026-11.org.tether:t"
#define I "iqn.1994-05.com.redhat:h"

/* What `tetherctl save` writes for one target: every field spelled out. */
static const char saved[] =
	"{\"global\": {\"loops\": 2, \"rpc_socket\": \"/run/t.sock\", \"log_level\": \"notice\","
	"             \"state_dir\": \"none\"},"
	" \"targets\": [{\"name\": \"" T "\", \"alias\": \"a\","
	"  \"tpgs\": [{\"tag\": 1, \"portals\": [\"127.0.0.1:3260\"], \"nop_interval\": 5,"
	"     \"nop_timeout\": 5, \"login_timeout\": 15, \"auth\": \"none\","
	"     \"allow_any_initiator\": false, \"alua_state\": \"active-optimized\","
	"     \"params\": {\"MaxRecvDataSegmentLength\": 262144, \"MaxBurstLength\": 1048576,"
	"       \"FirstBurstLength\": 262144, \"ImmediateData\": true, \"InitialR2T\": false,"
	"       \"MaxOutstandingR2T\": 1, \"MaxConnections\": 1, \"ErrorRecoveryLevel\": 0,"
	"       \"HeaderDigest\": [\"CRC32C\", \"None\"], \"DataDigest\": [\"CRC32C\", \"None\"],"
	"       \"DefaultTime2Wait\": 2, \"DefaultTime2Retain\": 20}}],"
	"  \"luns\": [{\"id\": 0, \"backend\": \"ram:1G\", \"write_protect\": false},"
	"            {\"id\": 3, \"backend\": \"ram:2G\", \"serial\": \"s3\", \"write_protect\": false}],"
	"  \"acls\": [{\"initiator\": \"" I "\","
	"             \"chap\": {\"user\": \"h\", \"secret\": \"old-secret-123\"}}]}]}";

/* The same configuration written by hand with the defaults left out. */
static const char terse[] =
	"{\"targets\": [{\"name\": \"" T "\", \"alias\": \"a\","
	"  \"tpgs\": [{\"tag\": 1, \"portals\": [\"iscsi://127.0.0.1\"]}],"
	"  \"luns\": [{\"id\": 0, \"backend\": \"ram:1G\"},"
	"            {\"id\": 3, \"backend\": \"ram:2G\", \"serial\": \"s3\"}],"
	"  \"acls\": [{\"initiator\": \"" I "\","
	"             \"chap\": {\"user\": \"h\", \"secret\": \"old-secret-123\"}}]}]}";

static void identical_is_empty(void **state)
{
	(void)state;
	assert_string_equal(plan_text(saved, saved), "");
	/* defaults left out, another spelling of the portal: the same objects */
	assert_string_equal(plan_text(saved, terse), "");
	assert_string_equal(plan_text("{}", "{}"), "");
}

static void new_and_removed_targets(void **state)
{
	const char *p;

	(void)state;
	p = plan_text(saved, "{\"targets\": [{\"name\": \"iqn.2026-11.org.tether:n\","
			     " \"tpgs\": [{\"tag\": 2, \"portals\": [\"[::1]:3261\"]}],"
			     " \"luns\": [{\"id\": 1, \"backend\": \"null:1G\"}],"
			     " \"acls\": [{\"initiator\": \"" I "\"}]}]}");
	/* removals first; a new target in the order it is built */
	assert_string_equal(p, "remove target " T " (its sessions end)\n"
			       "create target iqn.2026-11.org.tether:n\n"
			       "add acl iqn.2026-11.org.tether:n/" I "\n"
			       "add lun iqn.2026-11.org.tether:n/1: null:1G\n"
			       "create tpg iqn.2026-11.org.tether:n/2\n"
			       "add portal iqn.2026-11.org.tether:n/2 [::1]:3261\n");
}

static void changed_objects(void **state)
{
	struct tt_config *c, *w;
	struct tt_apply_plan plan;
	char err[256];
	const char *p;

	(void)state;
	p = plan_text(terse,
		      "{\"targets\": [{\"name\": \"" T "\", \"alias\": \"b\","
		      "  \"tpgs\": [{\"tag\": 1, \"portals\": [\"127.0.0.2\"], \"nop_interval\": 0.5,"
		      "             \"alua_state\": \"standby\","
		      "             \"params\": {\"MaxBurstLength\": 65536}},"
		      "            {\"tag\": 2, \"portals\": [\"127.0.0.1:3260\"]}],"
		      "  \"luns\": [{\"id\": 0, \"backend\": \"ram:2G\"},"
		      "            {\"id\": 3, \"backend\": \"ram:2G\", \"serial\": \"s3\","
		      "             \"write_protect\": true}, {\"id\": 4, \"backend\": \"ram:1M\"}],"
		      "  \"acls\": [{\"initiator\": \"" I "\","
		      "             \"chap\": {\"user\": \"h2\", \"secret\": \"new-secret-123\"}}]}]}");
	assert_string_equal(p,
		"remove portal " T "/1 127.0.0.1:3260\n"
		"change target " T ": alias \"a\" -> \"b\"\n"
		"change acl " T "/" I ": CHAP user h -> h2, CHAP secret changed\n"
		"replace lun " T "/0: backend ram:1G -> ram:2G (removed and added again; the "
		"sessions of " T " end)\n"
		"replace lun " T "/3: write_protect false -> true (removed and added again; the "
		"sessions of " T " end)\n"
		"add lun " T "/4: ram:1M\n"
		"change tpg " T "/1: nop_interval 5 -> 0.5\n"
		"change tpg " T "/1: alua_state active-optimized -> standby\n"
		"change tpg " T "/1: MaxBurstLength 1048576 -> 65536\n"
		"change tpg " T "/1: FirstBurstLength 262144 -> 65536\n"
		"add portal " T "/1 127.0.0.2:3260\n"
		"create tpg " T "/2\n"
		"add portal " T "/2 127.0.0.1:3260\n");
	assert_null(strstr(p, "secret-123"));

	/* the steps carry what the run needs */
	c = parse(terse);
	w = parse("{\"targets\": [{\"name\": \"" T "\", \"alias\": \"a\","
		  "  \"tpgs\": [{\"tag\": 1, \"portals\": [\"127.0.0.1\"], \"auth\": \"chap\"}]}]}");
	assert_int_equal(tt_apply_plan(c, w, &plan, err, sizeof(err)), 0);
	assert_int_equal(plan.n, 4);
	assert_int_equal(plan.steps[0].op, TT_APPLY_LUN_REMOVE);
	assert_int_equal(plan.steps[0].lun, 0);
	assert_int_equal(plan.steps[1].op, TT_APPLY_LUN_REMOVE);
	assert_int_equal(plan.steps[2].op, TT_APPLY_ACL_REMOVE);
	assert_string_equal(plan.steps[2].initiator, I);
	assert_int_equal(plan.steps[3].op, TT_APPLY_TPG_CHANGE);
	assert_int_equal(plan.steps[3].field, TT_CFG_T_AUTH);
	assert_true(plan.steps[3].values.chap_required);
	assert_string_equal(plan.steps[3].path, "targets[0].tpgs[0].auth");
	tt_apply_plan_free(&plan);
	tt_config_free(c);
	tt_config_free(w);
}

static void acl_credentials(void **state)
{
	(void)state;
	assert_string_equal(plan_text(terse,
		"{\"targets\": [{\"name\": \"" T "\", \"alias\": \"a\","
		"  \"tpgs\": [{\"tag\": 1, \"portals\": [\"127.0.0.1\"]}],"
		"  \"luns\": [{\"id\": 0, \"backend\": \"ram:1G\"},"
		"            {\"id\": 3, \"backend\": \"ram:2G\", \"serial\": \"s3\"}],"
		"  \"acls\": [{\"initiator\": \"" I "\", \"chap\": {\"user\": \"h\","
		"    \"secret\": \"old-secret-123\", \"mutual_user\": \"t\","
		"    \"mutual_secret\": \"mutual-secret-1\"}}]}]}"),
		"change acl " T "/" I ": mutual CHAP user t set\n");
	assert_string_equal(plan_text(terse,
		"{\"targets\": [{\"name\": \"" T "\", \"alias\": \"a\","
		"  \"tpgs\": [{\"tag\": 1, \"portals\": [\"127.0.0.1\"]}],"
		"  \"luns\": [{\"id\": 0, \"backend\": \"ram:1G\"},"
		"            {\"id\": 3, \"backend\": \"ram:2G\", \"serial\": \"s3\"}],"
		"  \"acls\": [{\"initiator\": \"" I "\"}]}]}"),
		"change acl " T "/" I ": CHAP removed\n");
}

static void global_settings(void **state)
{
	(void)state;
	/* what can change at run time */
	assert_string_equal(plan_text(saved, "{\"global\": {\"log_level\": \"debug\","
					     " \"debug\": [\"iscsi\"]}}"),
			    "remove target " T " (its sessions end)\n"
			    "change global log_level notice -> debug\n"
			    "change global debug: +iscsi\n");
	/* what cannot: refused when different, accepted when identical */
	assert_string_equal(plan_text(saved, "{\"global\": {\"loops\": 4}}"),
			    "ERR: global.loops: 4 differs from the 2 loops tetherd runs with; it "
			    "cannot change at run time (restart tetherd)");
	assert_string_equal(plan_text(saved, "{\"global\": {\"loops\": 0}, \"targets\": []}"),
			    "remove target " T " (its sessions end)\n");
	assert_non_null(strstr(plan_text(saved, "{\"global\": {\"rpc_socket\": \"/x.sock\"}}"),
			       "ERR: global.rpc_socket: \"/x.sock\" differs"));
	assert_non_null(strstr(plan_text(saved, "{\"global\": {\"state_dir\": \"/var/x\"}}"),
			       "ERR: global.state_dir: \"/var/x\" differs"));
	assert_string_equal(plan_text(saved, saved), "");
}

static void refused_values(void **state)
{
	(void)state;
	/* FirstBurstLength alone above the default MaxBurstLength (parses, cannot be made) */
	assert_string_equal(plan_text(terse,
		"{\"targets\": [{\"name\": \"" T "\", \"alias\": \"a\","
		"  \"tpgs\": [{\"tag\": 1, \"params\": {\"FirstBurstLength\": 2000000}}]}]}"),
		"ERR: targets[0].tpgs[0]: params.FirstBurstLength: 2000000 exceeds MaxBurstLength "
		"1048576");
	/* an interface that does not exist */
	assert_non_null(strstr(plan_text("{}",
		"{\"targets\": [{\"name\": \"" T "\","
		"  \"tpgs\": [{\"tag\": 1, \"portals\": [\"[fe80::1%no-such-if0]:3260\"]}]}]}"),
		"ERR: targets[0].tpgs[0].portals[0]: "));
}

#define NV(x) "{\"targets\": [{\"name\": \"" T "\", \"luns\": [{\"id\": 0, \"backend\": " \
	"\"ram:1M\"}]}], \"nvmf\": " x "}"
#define P1 "{\"address\": \"nvme-tcp://127.0.0.1:4420\", \"ana_group\": 1}"
#define P2 "{\"address\": \"nvme-tcp://127.0.0.1:4421\", \"ana_group\": 2}"
#define S1 "nqn.2026-11.org.tether:s1"
#define H1 "nqn.2014-08.org.nvmexpress:uuid:h1"
#define H2 "nqn.2014-08.org.nvmexpress:uuid:h2"

/* NVMe-oF: ANA states, ports (added, removed, moved between groups), subsystems, hosts and
 * namespaces. */
static void nvmf_changes(void **state)
{
	const char *cur = NV("{\"ana_groups\": [{\"id\": 1, \"state\": \"optimized\"}, "
			     "{\"id\": 2, \"state\": \"inaccessible\"}], \"ports\": [" P1 ", " P2 "], "
			     "\"subsystems\": [{\"nqn\": \"" S1 "\", \"hosts\": [\"" H1 "\"], "
			     "\"namespaces\": [{\"nsid\": 1, \"backend\": \"ram:1M\"}]}]}");

	(void)state;
	assert_string_equal(plan_text(cur, cur), "");
	assert_string_equal(
		plan_text(cur, NV("{\"ana_groups\": [{\"id\": 1, \"state\": \"inaccessible\"}, "
				  "{\"id\": 2, \"state\": \"optimized\"}], \"ports\": [" P1 ", " P2
				  "], \"subsystems\": [{\"nqn\": \"" S1 "\", \"hosts\": [\"" H1
				  "\"], \"namespaces\": [{\"nsid\": 1, \"backend\": \"ram:1M\"}]}]}")),
		"ANA group 1: optimized -> inaccessible\nANA group 2: inaccessible -> optimized\n");
	assert_string_equal(
		plan_text(cur, NV("{\"ana_groups\": [{\"id\": 1, \"state\": \"optimized\"}, "
				  "{\"id\": 2, \"state\": \"inaccessible\"}], \"ports\": [" P1 ", " P2
				  ", {\"address\": \"nvme-tcp://127.0.0.1:4422\"}], \"subsystems\": "
				  "[{\"nqn\": \"" S1 "\", \"serial\": \"X\", \"hosts\": [\"" H2 "\"], "
				  "\"namespaces\": [{\"nsid\": 1, \"lun\": {\"target\": \"" T "\", "
				  "\"id\": 0}}, {\"nsid\": 2, \"backend\": \"ram:2M\"}]}, "
				  "{\"nqn\": \"nqn.2026-11.org.tether:s2\"}]}")),
		"remove host " H1 " from " S1 " (its controllers end)\n"
		"add port nvme-tcp://127.0.0.1:4422 (ANA group 1)\n"
		"change subsystem " S1 ": serial \"X\", model \"\"\n"
		"add host " H2 " to " S1 "\n"
		"replace namespace " S1 "/1: ram:1M -> lun " T "/0\n"
		"add namespace " S1 "/2: ram:2M\n"
		"create subsystem nqn.2026-11.org.tether:s2 (0 namespaces, any host)\n");
	assert_string_equal(
		plan_text(cur, NV("{\"ana_groups\": [{\"id\": 1, \"state\": \"optimized\"}, "
				  "{\"id\": 2, \"state\": \"inaccessible\"}], \"ports\": [" P1 ", " P2
				  "], \"subsystems\": [{\"nqn\": \"" S1 "\", \"allow_any_host\": "
				  "true}]}")),
		"remove namespace " S1 "/1\n"
		"change subsystem " S1 ": allow_any_host false -> true\n"
		"remove host " H1 " from " S1 "\n");
	/* closing a subsystem to listed hosts: after the hosts are in */
	assert_string_equal(
		plan_text(NV("{\"subsystems\": [{\"nqn\": \"" S1 "\"}]}"),
			  NV("{\"subsystems\": [{\"nqn\": \"" S1 "\", \"hosts\": [\"" H1 "\"]}]}")),
		"add host " H1 " to " S1 "\n"
		"change subsystem " S1 ": allow_any_host true -> false (the controllers of hosts "
		"not listed end)\n");
	assert_string_equal(plan_text(cur, NV("{\"ports\": [" P1 ", " P2 "]}")),
			    "remove subsystem " S1 " (its controllers end)\n");
	/* a port that goes: removed before the subsystems that go */
	assert_string_equal(plan_text(cur, NV("{\"ports\": [" P1 "]}")),
			    "remove port nvme-tcp://127.0.0.1:4421 (ANA group 2; the controllers "
			    "through it end)\n"
			    "remove subsystem " S1 " (its controllers end)\n");
	assert_string_equal(plan_text(cur, NV("{\"ana_groups\": [{\"id\": 1, \"state\": "
					      "\"optimized\"}, {\"id\": 2, \"state\": "
					      "\"inaccessible\"}], \"ports\": [], \"subsystems\": "
					      "[{\"nqn\": \"" S1 "\", \"hosts\": [\"" H1 "\"], "
					      "\"namespaces\": [{\"nsid\": 1, \"backend\": "
					      "\"ram:1M\"}]}]}")),
			    "remove port nvme-tcp://127.0.0.1:4420 (ANA group 1; the controllers "
			    "through it end)\n"
			    "remove port nvme-tcp://127.0.0.1:4421 (ANA group 2; the controllers "
			    "through it end)\n");
	/* a port that moves to another group: after the groups' states, before new ports */
	assert_string_equal(plan_text(cur, NV("{\"ana_groups\": [{\"id\": 1, \"state\": "
					      "\"optimized\"}, {\"id\": 2, \"state\": "
					      "\"inaccessible\"}, {\"id\": 3, \"state\": "
					      "\"non-optimized\"}], \"ports\": [" P1 ", {\"address\": "
					      "\"nvme-tcp://127.0.0.1:4421\", \"ana_group\": 3}, "
					      "{\"address\": \"nvme-tcp://127.0.0.1:4423\", "
					      "\"ana_group\": 2}], \"subsystems\": [{\"nqn\": \"" S1
					      "\", \"hosts\": [\"" H1 "\"], \"namespaces\": "
					      "[{\"nsid\": 1, \"backend\": \"ram:1M\"}]}]}")),
			    "ANA group 3: optimized -> non-optimized\n"
			    "move port nvme-tcp://127.0.0.1:4421: ANA group 2 -> 3\n"
			    "add port nvme-tcp://127.0.0.1:4423 (ANA group 2)\n");
	/* the group's default (1) when the file leaves it out */
	assert_string_equal(plan_text(cur, NV("{\"ports\": [{\"address\": "
					      "\"nvme-tcp://127.0.0.1:4420\"}, {\"address\": "
					      "\"nvme-tcp://127.0.0.1:4421\"}]}")),
			    "remove subsystem " S1 " (its controllers end)\n"
			    "move port nvme-tcp://127.0.0.1:4421: ANA group 2 -> 1\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(identical_is_empty),
		cmocka_unit_test(new_and_removed_targets),
		cmocka_unit_test(changed_objects),
		cmocka_unit_test(acl_credentials),
		cmocka_unit_test(global_settings),
		cmocka_unit_test(refused_values),
		cmocka_unit_test(nvmf_changes),
	};

	return tt_run_group("apply_test", tests, NULL, NULL);
}
