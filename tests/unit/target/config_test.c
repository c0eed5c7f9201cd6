/* SPDX-License-Identifier: BSD-3-Clause */
/* Configuration file parsing (src/target/config_parse.c): good files, and one bad field of each
 * kind with the JSON path its message must start with. Pure parsing: no model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include "tt_test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nvmf/nvmf.h"
#include "target/config.h"

static const char full_example[] =
	"{"
	" \"global\": {\"loops\": 2, \"rpc_socket\": \"/run/tetherd.sock\","
	"              \"log_level\": \"info\", \"debug\": [\"iscsi\", \"scsi\"]},"
	" \"targets\": ["
	"  {\"name\": \"iqn.2026-11.org.tether:disk0\", \"alias\": \"disk0\","
	"   \"tpgs\": [{\"tag\": 1, \"portals\": [\"127.0.0.1:3260\", \"[::1]:3260\"],"
	"             \"nop_interval\": 5, \"nop_timeout\": 2.5, \"login_timeout\": 15,"
	"             \"auth\": \"none\", \"allow_any_initiator\": true,"
	"             \"params\": {\"MaxRecvDataSegmentLength\": 262144,"
	"                        \"MaxBurstLength\": 1048576, \"FirstBurstLength\": 65536,"
	"                        \"ImmediateData\": true, \"InitialR2T\": false,"
	"                        \"MaxOutstandingR2T\": 1, \"MaxConnections\": 4,"
	"                        \"ErrorRecoveryLevel\": 0,"
	"                        \"HeaderDigest\": [\"CRC32C\", \"None\"],"
	"                        \"DataDigest\": [\"None\"],"
	"                        \"DefaultTime2Wait\": 2, \"DefaultTime2Retain\": 20}},"
	"            {\"tag\": 2, \"portals\": [\"10.0.0.1\"], \"auth\": \"chap\"}],"
	"   \"luns\": [{\"id\": 0, \"backend\": \"ram:1G\", \"vendor\": \"TETHER\","
	"              \"product\": \"VDISK\", \"serial\": \"d0l0\", \"write_protect\": false},"
	"             {\"id\": 7, \"backend\": \"file:/var/lib/tether/disk1.img\"}],"
	"   \"acls\": [{\"initiator\": \"iqn.1994-05.com.redhat:host1\","
	"              \"chap\": {\"user\": \"host1\", \"secret\": \"s3cret-12chars\","
	"                       \"mutual_user\": \"disk0\", \"mutual_secret\": \"other-12chars!\"}},"
	"             {\"initiator\": \"eui.02004567a425678d\"}]},"
	"  {\"name\": \"naa.600140512345678abcdef01234567890\"}"
	" ]"
	"}";

/* Parses @text; returns the parser's result and leaves the message in @err. */
static int parse_text(const char *text, char *err, size_t errlen)
{
	struct tt_config *cfg = NULL;
	json_error_t jerr;
	json_t *root;
	int rc;

	err[0] = '\0';
	root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		fail_msg("test JSON does not load: %s: %s", jerr.text, text);
	rc = tt_config_parse(root, &cfg, err, errlen);
	json_decref(root);
	if (rc == 0)
		assert_non_null(cfg);
	else
		assert_null(cfg);
	tt_config_free(cfg);
	return rc;
}

/* @text must be refused with a message that starts with @prefix. */
static void expect_error(const char *text, const char *prefix)
{
	char err[512];
	int rc = parse_text(text, err, sizeof(err));

	if (rc == 0)
		fail_msg("accepted, expected \"%s...\": %s", prefix, text);
	assert_int_equal(rc, -EINVAL);
	if (strncmp(err, prefix, strlen(prefix)) != 0)
		fail_msg("message \"%s\" does not start with \"%s\"", err, prefix);
}

static void expect_ok(const char *text)
{
	char err[512];

	if (parse_text(text, err, sizeof(err)) != 0)
		fail_msg("refused: %s (%s)", err, text);
}

/* A one-target file around a TPG object. */
static void tpg_error(const char *tpg, const char *prefix)
{
	char text[2048];

	snprintf(text, sizeof(text),
		 "{\"targets\": [{\"name\": \"iqn.2026-11.org.tether:t\", \"tpgs\": [%s]}]}", tpg);
	expect_error(text, prefix);
}

static void tpg_ok(const char *tpg)
{
	char text[2048];

	snprintf(text, sizeof(text),
		 "{\"targets\": [{\"name\": \"iqn.2026-11.org.tether:t\", \"tpgs\": [%s]}]}", tpg);
	expect_ok(text);
}

static void target_error(const char *body, const char *prefix)
{
	char text[2048];

	snprintf(text, sizeof(text), "{\"targets\": [{\"name\": \"iqn.2026-11.org.tether:t\"%s%s}]}",
		 *body ? ", " : "", body);
	expect_error(text, prefix);
}

static void target_ok(const char *body)
{
	char text[2048];

	snprintf(text, sizeof(text), "{\"targets\": [{\"name\": \"iqn.2026-11.org.tether:t\"%s%s}]}",
		 *body ? ", " : "", body);
	expect_ok(text);
}

/* --- good files ------------------------------------------------------------------------------ */

static void test_full_example(void **state)
{
	struct tt_config *cfg = NULL;
	const struct tt_config_target *t;
	const struct tt_config_tpg *g;
	json_t *root = json_loads(full_example, JSON_REJECT_DUPLICATES, NULL);
	char err[512] = "";
	int rc;

	(void)state;
	assert_non_null(root);
	rc = tt_config_parse(root, &cfg, err, sizeof(err));
	json_decref(root);
	if (rc)
		fail_msg("%s", err);
	assert_int_equal(cfg->global.loops, 2);
	assert_string_equal(cfg->global.rpc_socket, "/run/tetherd.sock");
	assert_int_equal(cfg->global.log_level, 6);
	assert_int_equal(cfg->global.ndebug, 2);
	assert_string_equal(cfg->global.debug[1], "scsi");
	assert_int_equal(cfg->ntargets, 2);

	t = &cfg->targets[0];
	assert_string_equal(t->name, "iqn.2026-11.org.tether:disk0");
	assert_string_equal(t->alias, "disk0");
	assert_int_equal(t->ntpgs, 2);
	g = &t->tpgs[0];
	assert_int_equal(g->tag, 1);
	assert_int_equal(g->nportals, 2);
	assert_string_equal(g->portals[1].addr, "[::1]:3260");
	assert_int_equal(g->portals[1].ss.ss_family, AF_INET6);
	assert_int_equal(g->nop_interval_ms, 5000);
	assert_int_equal(g->nop_timeout_ms, 2500);
	assert_int_equal(g->login_timeout_ms, 15000);
	assert_false(g->chap_required);
	assert_true(g->allow_any_initiator);
	assert_int_equal(g->params.first_burst, 65536);
	assert_int_equal(g->params.max_connections, 4);
	assert_true(g->params.header_digest);
	assert_false(g->params.data_digest);
	assert_true(g->set & TT_CFG_P_TIME2RETAIN);
	assert_int_equal(g->params.time2retain, 20);
	/* the second TPG gives only a tag, a portal and auth: the rest keeps the model's defaults */
	g = &t->tpgs[1];
	assert_true(g->chap_required);
	assert_int_equal(g->set, TT_CFG_T_AUTH);
	assert_int_equal(g->nportals, 1);
	assert_int_equal(ntohs(((struct sockaddr_in *)&g->portals[0].ss)->sin_port), 3260);

	assert_int_equal(t->nluns, 2);
	assert_int_equal(t->luns[1].id, 7);
	assert_string_equal(t->luns[1].backend, "file:/var/lib/tether/disk1.img");
	assert_int_equal(t->luns[1].set, 0);
	assert_string_equal(t->luns[0].serial, "d0l0");
	assert_int_equal(t->nacls, 2);
	assert_true(t->acls[0].has_chap);
	assert_string_equal(t->acls[0].chap.mutual_secret, "other-12chars!");
	assert_false(t->acls[1].has_chap);

	assert_int_equal(cfg->targets[1].ntpgs, 0);
	tt_config_free(cfg);
}

static void test_minimal_files(void **state)
{
	(void)state;
	expect_ok("{}");
	expect_ok("{\"targets\": []}");
	expect_ok("{\"global\": {}}");
	expect_ok("{\"global\": {\"loops\": 0, \"debug\": []}}");
	target_ok("");
	target_ok("\"tpgs\": [{\"tag\": 65535, \"portals\": []}]");
	target_ok("\"luns\": [{\"id\": 16383, \"backend\": \"null:1T\"}]");
	tpg_ok("{\"tag\": 1, \"nop_interval\": 0, \"nop_timeout\": 0.001, \"login_timeout\": 3600}");
	tpg_ok("{\"tag\": 1, \"params\": {\"HeaderDigest\": [\"None\", \"CRC32C\"]}}");
	tpg_ok("{\"tag\": 1, \"auth\": \"chap\", \"allow_any_initiator\": false}");
}

/* --- unknown keys ---------------------------------------------------------------------------- */

static void test_unknown_keys(void **state)
{
	(void)state;
	expect_error("{\"target\": []}",
		     "(top level): unknown key \"target\" (did you mean \"targets\"?)");
	expect_error("{\"global\": {\"log-level\": \"info\"}}",
		     "global: unknown key \"log-level\" (did you mean \"log_level\"?)");
	target_error("\"lun\": []", "targets[0]: unknown key \"lun\" (did you mean \"luns\"?)");
	target_error("\"comment\": \"x\"", "targets[0]: unknown key \"comment\"");
	tpg_error("{\"tag\": 1}, {\"tag\": 2, \"portal\": [\"127.0.0.1\"]}",
		  "targets[0].tpgs[1]: unknown key \"portal\" (did you mean \"portals\"?)");
	tpg_error("{\"tag\": 1, \"params\": {\"MaxRecvDataSegmentLenght\": 8192}}",
		  "targets[0].tpgs[0].params: unknown key \"MaxRecvDataSegmentLenght\" "
		  "(did you mean \"MaxRecvDataSegmentLength\"?)");
	tpg_error("{\"tag\": 1, \"params\": {\"maxburstlength\": 8192}}",
		  "targets[0].tpgs[0].params: unknown key \"maxburstlength\" "
		  "(did you mean \"MaxBurstLength\"?)");
	tpg_error("{\"tag\": 1, \"params\": {\"DataPDUInOrder\": true}}",
		  "targets[0].tpgs[0].params: unknown key \"DataPDUInOrder\"");
	target_error("\"luns\": [{\"id\": 0, \"backend\": \"ram:1M\", \"wp\": true}]",
		     "targets[0].luns[0]: unknown key \"wp\"");
	target_error("\"acls\": [{\"initiator\": \"iqn.2026-11.org.x:i\", \"chap\": "
		     "{\"user\": \"u\", \"secret\": \"123456789012\", \"mutual\": \"x\"}}]",
		     "targets[0].acls[0].chap: unknown key \"mutual\"");
}

/* --- types ----------------------------------------------------------------------------------- */

static void test_types(void **state)
{
	(void)state;
	expect_error("[]", "(top level): must be an object, not an array");
	expect_error("{\"global\": {\"loops\": \"2\"}}", "global.loops: must be an integer");
	expect_error("{\"global\": {\"loops\": 2.0}}", "global.loops: must be an integer");
	expect_error("{\"global\": {\"rpc_socket\": \"tetherd.sock\"}}",
		     "global.rpc_socket: \"tetherd.sock\" is not an absolute path");
	expect_error("{\"global\": {\"log_level\": \"verbose\"}}",
		     "global.log_level: unknown level \"verbose\"");
	expect_error("{\"global\": {\"debug\": \"iscsi\"}}", "global.debug: must be an array");
	expect_ok("{\"global\": {\"metrics\": \"127.0.0.1:9418\", \"stats\": false}}");
	expect_ok("{\"global\": {\"metrics\": \"[::1]:9418\"}}");
	expect_error("{\"global\": {\"metrics\": \"127.0.0.1\"}}",
		     "global.metrics: metrics address \"127.0.0.1\": expected ADDR:PORT");
	expect_error("{\"global\": {\"metrics\": \"http://127.0.0.1:80\"}}",
		     "global.metrics: metrics address");
	expect_error("{\"global\": {\"stats\": \"no\"}}", "global.stats: must be");
	expect_error("{\"global\": {\"debug\": [\"iscsi\", 3]}}", "global.debug[1]: must be a string");
	expect_error("{\"global\": {\"debug\": [\"iscsi\", \"iscsi\"]}}",
		     "global.debug[1]: \"iscsi\" is listed twice");
	expect_error("{\"targets\": {}}", "targets: must be an array, not an object");
	expect_error("{\"targets\": [\"iqn.2026-11.org.x:t\"]}",
		     "targets[0]: must be an object, not a string");
	target_error("\"tpgs\": {}", "targets[0].tpgs: must be an array");
	tpg_error("{\"tag\": 1.5}", "targets[0].tpgs[0].tag: must be an integer");
	tpg_error("{\"tag\": 1, \"portals\": \"127.0.0.1\"}",
		  "targets[0].tpgs[0].portals: must be an array of addresses, not a string");
	tpg_error("{\"tag\": 1, \"portals\": [3260]}",
		  "targets[0].tpgs[0].portals[0]: must be a string, not an integer");
	tpg_error("{\"tag\": 1, \"nop_interval\": \"5s\"}",
		  "targets[0].tpgs[0].nop_interval: must be a number of seconds");
	tpg_error("{\"tag\": 1, \"auth\": \"CHAP\"}",
		  "targets[0].tpgs[0].auth: unknown method \"CHAP\"");
	tpg_error("{\"tag\": 1, \"allow_any_initiator\": \"yes\"}",
		  "targets[0].tpgs[0].allow_any_initiator: must be true or false");
	tpg_error("{\"tag\": 1, \"params\": {\"ImmediateData\": \"Yes\"}}",
		  "targets[0].tpgs[0].params.ImmediateData: must be true or false");
	tpg_error("{\"tag\": 1, \"params\": {\"HeaderDigest\": \"CRC32C,None\"}}",
		  "targets[0].tpgs[0].params.HeaderDigest: must be a non-empty array");
	tpg_error("{\"tag\": 1, \"params\": {\"DataDigest\": [\"CRC32C\", \"MD5\"]}}",
		  "targets[0].tpgs[0].params.DataDigest[1]: unknown digest \"MD5\"");
	tpg_error("{\"tag\": 1, \"params\": {\"DataDigest\": [\"None\", \"None\"]}}",
		  "targets[0].tpgs[0].params.DataDigest[1]: \"None\" is listed twice");
	tpg_error("{\"tag\": 1, \"params\": {\"DataDigest\": [\"CRC32C\"]}}",
		  "targets[0].tpgs[0].params.DataDigest: must contain \"None\"");
	target_error("\"luns\": [{\"id\": \"0\", \"backend\": \"ram:1M\"}]",
		     "targets[0].luns[0].id: must be an integer");
	target_error("\"luns\": [{\"id\": 0, \"backend\": \"ram:1M\", \"write_protect\": 1}]",
		     "targets[0].luns[0].write_protect: must be true or false");
	target_error("\"alias\": \"\"", "targets[0].alias: must not be empty");
	target_error("\"alias\": \"a\\nb\"", "targets[0].alias: control character at offset 1");
}

/* --- missing fields -------------------------------------------------------------------------- */

static void test_missing(void **state)
{
	(void)state;
	expect_error("{\"targets\": [{\"alias\": \"x\"}]}", "targets[0].name: missing");
	tpg_error("{\"portals\": []}", "targets[0].tpgs[0].tag: missing");
	target_error("\"luns\": [{\"backend\": \"ram:1M\"}]", "targets[0].luns[0].id: missing");
	target_error("\"luns\": [{\"id\": 0}]", "targets[0].luns[0].backend: missing");
	target_error("\"luns\": [{\"id\": 0, \"backend\": \"1G\"}]",
		     "targets[0].luns[0].backend: \"1G\" is not a backend spec");
	target_error("\"acls\": [{}]", "targets[0].acls[0].initiator: missing");
	/* SRP initiator port identifiers: 0x and 32 lowercase hex digits */
	target_ok("\"acls\": [{\"initiator\": \"0xfe800000000000000200000000000001\"}]");
	target_error("\"acls\": [{\"initiator\": \"0xFE800000000000000200000000000001\"}]",
		     "targets[0].acls[0].initiator: \"0xFE800000000000000200000000000001\": an SRP "
		     "initiator port identifier is 0x and 32 lowercase hex digits");
	target_error("\"acls\": [{\"initiator\": \"0xfe80\"}]",
		     "targets[0].acls[0].initiator: \"0xfe80\": an SRP");
	target_error("\"acls\": [{\"initiator\": \"iqn.2026-11.org.x:i\", \"chap\": "
		     "{\"secret\": \"123456789012\"}}]", "targets[0].acls[0].chap.user: missing");
	target_error("\"acls\": [{\"initiator\": \"iqn.2026-11.org.x:i\", \"chap\": "
		     "{\"user\": \"u\"}}]", "targets[0].acls[0].chap.secret: missing");
	target_error("\"acls\": [{\"initiator\": \"iqn.2026-11.org.x:i\", \"chap\": "
		     "{\"user\": \"u\", \"secret\": \"123456789012\", \"mutual_user\": \"t\"}}]",
		     "targets[0].acls[0].chap.mutual_secret: missing");
}

/* --- ranges ---------------------------------------------------------------------------------- */

static void test_ranges(void **state)
{
	(void)state;
	expect_error("{\"global\": {\"loops\": -1}}", "global.loops: -1 is out of range 0..1024");
	tpg_error("{\"tag\": 0}", "targets[0].tpgs[0].tag: 0 is out of range 1..65535");
	tpg_error("{\"tag\": 65536}", "targets[0].tpgs[0].tag: 65536 is out of range 1..65535");
	tpg_error("{\"tag\": 1, \"params\": {\"MaxRecvDataSegmentLength\": 511}}",
		  "targets[0].tpgs[0].params.MaxRecvDataSegmentLength: 511 is out of range "
		  "512..16777215");
	tpg_error("{\"tag\": 1, \"params\": {\"MaxRecvDataSegmentLength\": 16777216}}",
		  "targets[0].tpgs[0].params.MaxRecvDataSegmentLength: 16777216 is out of range");
	tpg_ok("{\"tag\": 1, \"params\": {\"MaxRecvDataSegmentLength\": 16777215, "
	       "\"MaxBurstLength\": 512, \"FirstBurstLength\": 512}}");
	tpg_error("{\"tag\": 1, \"params\": {\"MaxBurstLength\": 100}}",
		  "targets[0].tpgs[0].params.MaxBurstLength: 100 is out of range 512..16777215");
	tpg_error("{\"tag\": 1, \"params\": {\"MaxBurstLength\": 65536, \"FirstBurstLength\": "
		  "131072}}",
		  "targets[0].tpgs[0].params.FirstBurstLength: 131072 exceeds MaxBurstLength 65536");
	tpg_error("{\"tag\": 1, \"params\": {\"ErrorRecoveryLevel\": 3}}",
		  "targets[0].tpgs[0].params.ErrorRecoveryLevel: 3 is out of range 0..2");
	tpg_error("{\"tag\": 1, \"params\": {\"MaxConnections\": 0}}",
		  "targets[0].tpgs[0].params.MaxConnections: 0 is out of range 1..65535");
	tpg_error("{\"tag\": 1, \"params\": {\"MaxOutstandingR2T\": 65536}}",
		  "targets[0].tpgs[0].params.MaxOutstandingR2T: 65536 is out of range 1..65535");
	tpg_error("{\"tag\": 1, \"params\": {\"DefaultTime2Wait\": 3601}}",
		  "targets[0].tpgs[0].params.DefaultTime2Wait: 3601 is out of range 0..3600");
	tpg_error("{\"tag\": 1, \"nop_interval\": -1}",
		  "targets[0].tpgs[0].nop_interval: -1 seconds is out of range");
	tpg_error("{\"tag\": 1, \"login_timeout\": 0}",
		  "targets[0].tpgs[0].login_timeout: 0 seconds is out of range 0.001..3600");
	tpg_error("{\"tag\": 1, \"nop_timeout\": 3601}",
		  "targets[0].tpgs[0].nop_timeout: 3601 seconds is out of range");
	tpg_error("{\"tag\": 1, \"nop_interval\": 0.0001}",
		  "targets[0].tpgs[0].nop_interval: 0.0001 seconds is below the resolution of 1 ms");
	target_error("\"luns\": [{\"id\": 16384, \"backend\": \"ram:1M\"}]",
		     "targets[0].luns[0].id: 16384 is out of range 0..16383");
	target_error("\"luns\": [{\"id\": 0, \"backend\": \"ram:1M\", \"vendor\": \"TOOLONGVENDOR\"}]",
		     "targets[0].luns[0].vendor: is too long (13 bytes, at most 8)");
	target_error("\"luns\": [{\"id\": 0, \"backend\": \"ram:1M\", \"product\": "
		     "\"A-PRODUCT-NAME-OF-20\"}]",
		     "targets[0].luns[0].product: is too long (20 bytes, at most 16)");
	target_error("\"luns\": [{\"id\": 0, \"backend\": \"ram:1M\", \"serial\": \"s\\u00e9rie\"}]",
		     "targets[0].luns[0].serial: only printable ASCII is allowed");
	target_error("\"acls\": [{\"initiator\": \"iqn.2026-11.org.x:i\", \"chap\": "
		     "{\"user\": \"u\", \"secret\": \"short\"}}]",
		     "targets[0].acls[0].chap.secret: is 5 characters long; CHAP secrets need at "
		     "least 12");
	target_error("\"acls\": [{\"initiator\": \"iqn.2026-11.org.x:i\", \"chap\": "
		     "{\"user\": \"u\", \"secret\": \"123456789012\", \"mutual_user\": \"t\", "
		     "\"mutual_secret\": \"123456789012\"}}]",
		     "targets[0].acls[0].chap.mutual_secret: must differ from secret");
	tpg_error("{\"tag\": 1, \"auth\": \"chap\", \"allow_any_initiator\": true}",
		  "targets[0].tpgs[0].allow_any_initiator: cannot be true with \"auth\": \"chap\"");
}

/* --- iSCSI names ----------------------------------------------------------------------------- */

static void name_bad(const char *name, const char *fragment)
{
	char msg[300] = "";

	if (tt_config_check_iscsi_name(name, msg, sizeof(msg)) == 0)
		fail_msg("name \"%s\" accepted", name);
	if (!strstr(msg, fragment))
		fail_msg("name \"%s\": message \"%s\" lacks \"%s\"", name, msg, fragment);
}

static void name_ok(const char *name)
{
	char msg[300] = "";

	if (tt_config_check_iscsi_name(name, msg, sizeof(msg)) != 0)
		fail_msg("name \"%s\" refused: %s", name, msg);
}

static void test_iscsi_names(void **state)
{
	char longname[300];

	(void)state;
	name_ok("iqn.2026-11.org.tether:disk0");
	name_ok("iqn.1994-05.com.redhat:5f1e3c1d9b2");
	name_ok("iqn.2001-04.com.example");
	name_ok("iqn.2001-04.com.example:storage:diskarrays-sn-a8675309");
	name_ok("iqn.2001-04.com.example:storage.tape1.sys1.xyz");
	name_ok("eui.02004567a425678d");
	name_ok("naa.52004567ba64678d");
	name_ok("naa.62004567ba64678d0123456789abcdef");

	name_bad("", "must not be empty");
	name_bad("IQN.2026-11.org.tether:disk0", "lowercase");
	name_bad("iqn.2026-11.org.Tether:disk0", "iSCSI names are lowercase ('T' at offset 16)");
	name_bad("iqn.2026-11.org.tether:disk_0", "character 0x5f at offset 27 is not allowed");
	name_bad("iqn.2026-11.org.tether:disk 0", "character 0x20 at offset 27 is not allowed");
	name_bad("iqn.26-11.org.tether:disk0", "must be followed by a date yyyy-mm");
	name_bad("iqn.2026-13.org.tether:disk0", "must be followed by a date yyyy-mm");
	name_bad("iqn.2026-00.org.tether", "must be followed by a date yyyy-mm");
	name_bad("iqn.2026-11org.tether", "must be followed by a date yyyy-mm");
	name_bad("iqn.2026-11.:disk0", "naming authority");
	name_bad("iqn.2026-11.", "naming authority");
	name_bad("iqn.2026-11.org..tether:d", "empty label");
	name_bad("iqn.2026-11.org.tether.:d", "empty label");
	name_bad("iqn.2026-11.org.tether:", "nothing follows ':'");
	/* RFC 3720 writes EUI-64 names in uppercase; stringprep folds them, and so do we */
	name_bad("eui.02004567A425678D", "iSCSI names are lowercase ('A' at offset 12)");
	name_bad("EUI.02004567a425678d", "iSCSI names are lowercase ('E' at offset 0)");
	name_bad("eui.02004567a425678", "needs 16 hex digits");
	name_bad("eui.02004567a425678da", "needs 16 hex digits");
	name_bad("eui.02004567a425678g", "'g' at offset 19 is not a hex digit");
	name_bad("naa.5200456", "needs 16 or 32 hex digits");
	name_bad("disk0", "starts with \"iqn.\", \"eui.\" or \"naa.\"");

	/* 223 bytes is the limit */
	memset(longname, 'a', sizeof(longname));
	memcpy(longname, "iqn.2026-11.org.tether:", 23);
	longname[223] = '\0';
	name_ok(longname);
	longname[223] = 'a';
	longname[224] = '\0';
	name_bad(longname, "224 bytes long, at most 223");

	/* in a file: the path of the bad name */
	expect_error("{\"targets\": [{\"name\": \"iqn.2026-11.org.tether:Disk0\"}]}",
		     "targets[0].name: \"iqn.2026-11.org.tether:Disk0\": iSCSI names are lowercase");
	target_error("\"acls\": [{\"initiator\": \"iqn.2026-11.org.x:i\"}, "
		     "{\"initiator\": \"host2\"}]",
		     "targets[0].acls[1].initiator: \"host2\": an iSCSI name starts with");
}

/* --- portals --------------------------------------------------------------------------------- */

static void portal_bad(const char *addr, const char *fragment)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char msg[300] = "";

	if (tt_config_parse_portal(addr, &ss, &len, NULL, msg, sizeof(msg)) == 0)
		fail_msg("portal \"%s\" accepted", addr);
	if (!strstr(msg, fragment))
		fail_msg("portal \"%s\": message \"%s\" lacks \"%s\"", addr, msg, fragment);
}

static void test_portals(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	socklen_t len;
	char msg[200];

	(void)state;
	assert_int_equal(tt_config_parse_portal("127.0.0.1:3261", &ss, &len, NULL, msg, sizeof(msg)), 0);
	assert_int_equal(s4->sin_family, AF_INET);
	assert_int_equal(ntohs(s4->sin_port), 3261);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_int_equal(tt_config_parse_portal("0.0.0.0", &ss, &len, NULL, msg, sizeof(msg)), 0);
	assert_int_equal(ntohs(s4->sin_port), 3260);
	assert_int_equal(tt_config_parse_portal("[::1]", &ss, &len, NULL, msg, sizeof(msg)), 0);
	assert_int_equal(s6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(s6->sin6_port), 3260);
	assert_int_equal(tt_config_parse_portal("[::]:860", &ss, &len, NULL, msg, sizeof(msg)), 0);
	assert_int_equal(ntohs(s6->sin6_port), 860);
	assert_int_equal(tt_config_parse_portal("[fe80::1%eth0]:3260", &ss, &len, NULL, msg,
						sizeof(msg)), 0);

	portal_bad("1.2.3", "cannot parse address \"1.2.3\"");
	portal_bad("localhost:3260", "cannot parse address \"localhost:3260\"");
	portal_bad("::1", "in brackets");
	portal_bad("[::1", "missing ']'");
	portal_bad("[::1]3260", "junk after ']'");
	portal_bad("[1.2.3.4]:3260", "cannot parse address");
	portal_bad("127.0.0.1:0", "bad port \"0\"");
	portal_bad("127.0.0.1:65536", "bad port \"65536\"");
	portal_bad("127.0.0.1:", "bad port \"\"");
	portal_bad("127.0.0.1:-1", "bad port \"-1\"");
	portal_bad("127.0.0.1:32x", "bad port \"32x\"");
	portal_bad("", "empty address");
	portal_bad("foo://1.2.3.4", "unknown scheme 'foo'");
	portal_bad("iscsi://", "empty address");
	{
		enum tt_fabric f = TT_FABRIC_SRP;

		assert_int_equal(tt_config_parse_portal("iscsi://127.0.0.1", &ss, &len, &f, msg,
							sizeof(msg)), 0);
		assert_int_equal(f, TT_FABRIC_ISCSI);
		assert_int_equal(ntohs(s4->sin_port), 3260);
		assert_int_equal(tt_config_parse_portal("nvme-tcp://127.0.0.1", &ss, &len, &f, msg,
							sizeof(msg)), 0);
		assert_int_equal(f, TT_FABRIC_NVME_TCP);
		assert_int_equal(ntohs(s4->sin_port), 4420);
		assert_int_equal(tt_config_parse_portal("127.0.0.1:3262", &ss, &len, &f, msg,
							sizeof(msg)), 0);
		assert_int_equal(f, TT_FABRIC_ISCSI);
	}

	tpg_error("{\"tag\": 1, \"portals\": [\"127.0.0.1\"]}, "
		  "{\"tag\": 2, \"portals\": [\"127.0.0.2\", \"127.0.0.3\", \"1.2.3\"]}",
		  "targets[0].tpgs[1].portals[2]: cannot parse address \"1.2.3\"");
}

/* --- duplicates ------------------------------------------------------------------------------ */

static void test_duplicates(void **state)
{
	(void)state;
	expect_error("{\"targets\": [{\"name\": \"iqn.2026-11.org.x:a\"}, "
		     "{\"name\": \"iqn.2026-11.org.x:b\"}, {\"name\": \"iqn.2026-11.org.x:a\"}]}",
		     "targets[2].name: duplicate target name \"iqn.2026-11.org.x:a\" (also targets[0])");
	tpg_error("{\"tag\": 1}, {\"tag\": 2}, {\"tag\": 1}",
		  "targets[0].tpgs[2].tag: duplicate TPG tag 1 (also tpgs[0])");
	target_error("\"luns\": [{\"id\": 3, \"backend\": \"ram:1M\"}, "
		     "{\"id\": 3, \"backend\": \"ram:2M\"}]",
		     "targets[0].luns[1].id: duplicate LUN id 3 (also luns[0])");
	tpg_error("{\"tag\": 1, \"portals\": [\"127.0.0.1\", \"127.0.0.1:3260\"]}",
		  "targets[0].tpgs[0].portals[1]: duplicate portal \"127.0.0.1:3260\" "
		  "(same as portals[0])");
	tpg_error("{\"tag\": 1, \"portals\": [\"[::1]:3260\"]}, "
		  "{\"tag\": 2, \"portals\": [\"[0:0::1]\"]}",
		  "targets[0].tpgs[1].portals[0]: portal \"[0:0::1]\" is already in tpgs[0]");
	/* targets share addresses: one listener serves them all */
	expect_ok("{\"targets\": [{\"name\": \"iqn.2026-11.org.x:a\", \"tpgs\": [{\"tag\": 1, "
		  "\"portals\": [\"0.0.0.0\"]}]}, {\"name\": \"iqn.2026-11.org.x:b\", \"tpgs\": "
		  "[{\"tag\": 1, \"portals\": [\"iscsi://0.0.0.0:3260\"]}]}]}");
	/* the same address in two TPGs of one target, spelled with and without the scheme */
	tpg_error("{\"tag\": 1, \"portals\": [\"127.0.0.1\"]}, "
		  "{\"tag\": 2, \"portals\": [\"iscsi://127.0.0.1:3260\"]}",
		  "targets[0].tpgs[1].portals[0]: portal \"iscsi://127.0.0.1:3260\" is already in tpgs[0]");
	tpg_error("{\"tag\": 1, \"portals\": [\"foo://127.0.0.1\"]}",
		  "targets[0].tpgs[0].portals[0]: portal 'foo://127.0.0.1': unknown scheme 'foo'");
	/* other ports, other addresses: fine */
	tpg_ok("{\"tag\": 1, \"portals\": [\"127.0.0.1:3260\", \"127.0.0.1:3261\"]}");
	expect_ok("{\"targets\": [{\"name\": \"iqn.2026-11.org.x:a\", \"tpgs\": [{\"tag\": 1, "
		  "\"portals\": [\"0.0.0.0\"]}]}, {\"name\": \"iqn.2026-11.org.x:b\", \"tpgs\": "
		  "[{\"tag\": 1, \"portals\": [\"0.0.0.0:3261\", \"[::]\"]}]}]}");
	target_error("\"acls\": [{\"initiator\": \"iqn.2026-11.org.x:i\"}, "
		     "{\"initiator\": \"iqn.2026-11.org.x:i\"}]",
		     "targets[0].acls[1].initiator: duplicate initiator \"iqn.2026-11.org.x:i\"");
}

/* --- the pieces the control socket uses ------------------------------------------------------ */

static void test_pieces(void **state)
{
	struct tt_config_tpg g;
	struct tt_config_lun l;
	struct tt_config_target t;
	char err[300];
	json_t *o;

	(void)state;
	o = json_pack("{si s[s]}", "tag", 3, "portals", "127.0.0.1:3270");
	assert_int_equal(tt_config_parse_tpg(o, "params", &g, err, sizeof(err)), 0);
	assert_int_equal(g.tag, 3);
	assert_int_equal(g.nportals, 1);
	tt_config_tpg_release(&g);
	json_decref(o);

	o = json_pack("{si ss}", "tag", 3, "bogus", "x");
	assert_int_equal(tt_config_parse_tpg(o, "params", &g, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "params: unknown key \"bogus\"");
	json_decref(o);

	o = json_pack("{ss}", "backend", "ram:1M");
	assert_int_equal(tt_config_parse_lun(o, "params", &l, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "params.id: missing (the LUN number, 0..16383)");
	json_decref(o);

	o = json_pack("{ss s[{si}]}", "name", "iqn.2026-11.org.x:a", "tpgs", "tag", 70000);
	assert_int_equal(tt_config_parse_target(o, "", &t, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "tpgs[0].tag: 70000 is out of range 1..65535");
	json_decref(o);
}

/* --- files ----------------------------------------------------------------------------------- */

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_load(void **state)
{
	char path[] = "/tmp/tt_config_test_XXXXXX";
	struct tt_config *cfg;
	char err[512];
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);

	write_file(path, full_example);
	assert_int_equal(tt_config_load(path, &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg->ntargets, 2);
	tt_config_free(cfg);

	/* a key given twice is a typo too */
	write_file(path, "{\"global\": {\"loops\": 1,\n \"loops\": 2}}");
	assert_int_equal(tt_config_load(path, &cfg, err, sizeof(err)), -EINVAL);
	assert_null(cfg);
	assert_non_null(strstr(err, ":2:"));
	assert_non_null(strstr(err, "duplicate object key"));

	write_file(path, "{\"targets\": [{\"name\": \"iqn.2026-11.org.x:a\", \"lunz\": []}]}");
	assert_int_equal(tt_config_load(path, &cfg, err, sizeof(err)), -EINVAL);
	assert_true(strncmp(err, path, strlen(path)) == 0);
	assert_non_null(strstr(err, ": targets[0]: unknown key \"lunz\" (did you mean \"luns\"?)"));

	write_file(path, "{\"targets\": [}");
	assert_int_equal(tt_config_load(path, &cfg, err, sizeof(err)), -EINVAL);
	unlink(path);

	assert_int_equal(tt_config_load(path, &cfg, err, sizeof(err)), -ENOENT);
	assert_true(strncmp(err, path, strlen(path)) == 0);
}

/* --- the nvmf section --------------------------------------------------------------------- */

#define SUB "nqn.2026-11.org.tether:s1"
#define HST "nqn.2014-08.org.nvmexpress:uuid:h1"

static void nvmf_error(const char *nvmf, const char *prefix)
{
	char text[4096];

	snprintf(text, sizeof(text), "{\"targets\": [{\"name\": \"iqn.2026-11.org.tether:t\", "
		 "\"luns\": [{\"id\": 0, \"backend\": \"ram:1M\"}]}], \"nvmf\": %s}", nvmf);
	expect_error(text, prefix);
}

static void test_nvmf(void **state)
{
	struct tt_config *cfg = NULL;
	char err[512] = "";
	json_t *root;

	(void)state;
	root = json_loads("{\"targets\": [{\"name\": \"iqn.2026-11.org.tether:t\", \"luns\": "
			  "[{\"id\": 0, \"backend\": \"ram:1M\"}]}], \"nvmf\": {"
			  "\"ana_groups\": [{\"id\": 1, \"state\": \"optimized\"}, "
			  "{\"id\": 2, \"state\": \"inaccessible\"}], "
			  "\"ports\": [{\"address\": \"nvme-tcp://127.0.0.1:4420\"}, "
			  "{\"address\": \"nvme-tcp://127.0.0.1:4421\", \"ana_group\": 2}], "
			  "\"subsystems\": [{\"nqn\": \"" SUB "\", \"serial\": \"S1\", \"model\": "
			  "\"M\", \"hosts\": [\"" HST "\"], \"namespaces\": [{\"nsid\": 1, "
			  "\"backend\": \"ram:1M\"}, {\"nsid\": 2, \"lun\": {\"target\": "
			  "\"iqn.2026-11.org.tether:t\", \"id\": 0}}]}, {\"nqn\": "
			  "\"nqn.2026-11.org.tether:s2\"}]}}", 0, NULL);
	assert_non_null(root);
	assert_int_equal(tt_config_parse(root, &cfg, err, sizeof(err)), 0);
	json_decref(root);
	assert_int_equal(cfg->nvmf.ngroups, 2);
	assert_int_equal(cfg->nvmf.groups[1].state, TT_NVMF_ANA_INACCESSIBLE);
	assert_int_equal(cfg->nvmf.nports, 2);
	assert_int_equal(cfg->nvmf.ports[0].ana_group, 1);
	assert_int_equal(cfg->nvmf.ports[1].ana_group, 2);
	assert_int_equal(cfg->nvmf.nsubsys, 2);
	assert_false(cfg->nvmf.subsys[0].allow_any_host); /* a host list: only those */
	assert_true(cfg->nvmf.subsys[1].allow_any_host);  /* none: any */
	assert_int_equal(cfg->nvmf.subsys[0].nns, 2);
	assert_string_equal(cfg->nvmf.subsys[0].ns[1].lun_target, "iqn.2026-11.org.tether:t");
	assert_int_equal(cfg->nvmf.subsys[0].set, TT_CFG_S_SERIAL | TT_CFG_S_MODEL);
	assert_int_equal(tt_config_nvmf_ana_state(&cfg->nvmf, 3), TT_NVMF_ANA_OPTIMIZED);
	tt_config_free(cfg);

	if (tt_nvmf_fabric_served(TT_FABRIC_NVME_RDMA)) {
		/* NVMe/RDMA ports: by scheme, or by "transport" for an address without one */
		root = json_loads("{\"nvmf\": {\"ports\": [{\"address\": \"nvme-rdma://127.0.0.1\"}, "
				  "{\"address\": \"127.0.0.1:4421\", \"transport\": \"rdma\"}, "
				  "{\"address\": \"127.0.0.1:4422\", \"transport\": \"tcp\"}, "
				  "{\"address\": \"nvme-rdma://127.0.0.1:4423\", \"transport\": "
				  "\"rdma\"}]}}", 0, NULL);
		assert_non_null(root);
		assert_int_equal(tt_config_parse(root, &cfg, err, sizeof(err)), 0);
		json_decref(root);
		assert_int_equal(cfg->nvmf.nports, 4);
		assert_int_equal(cfg->nvmf.ports[0].parsed.fabric, TT_FABRIC_NVME_RDMA);
		assert_int_equal(tt_sockaddr_port(&cfg->nvmf.ports[0].parsed.ss), 4420);
		assert_int_equal(cfg->nvmf.ports[1].parsed.fabric, TT_FABRIC_NVME_RDMA);
		assert_string_equal(cfg->nvmf.ports[1].addr, "nvme-rdma://127.0.0.1:4421");
		assert_int_equal(cfg->nvmf.ports[2].parsed.fabric, TT_FABRIC_NVME_TCP);
		assert_int_equal(cfg->nvmf.ports[3].parsed.fabric, TT_FABRIC_NVME_RDMA);
		tt_config_free(cfg);
		cfg = NULL;
	}

	nvmf_error("[]", "nvmf: must be an object");
	nvmf_error("{\"port\": []}", "nvmf: unknown key \"port\"");
	nvmf_error("{\"ana_groups\": [{\"id\": 0, \"state\": \"optimized\"}]}",
		   "nvmf.ana_groups[0].id: 0 is out of range");
	nvmf_error("{\"ana_groups\": [{\"id\": 1, \"state\": \"standby\"}]}",
		   "nvmf.ana_groups[0].state: unknown ANA state \"standby\"");
	nvmf_error("{\"ana_groups\": [{\"id\": 1, \"state\": \"change\"}, {\"id\": 1, \"state\": "
		   "\"optimized\"}]}", "nvmf.ana_groups[1].id: duplicate ANA group 1");
	nvmf_error("{\"ports\": [{\"address\": \"127.0.0.1:3260\"}]}",
		   "nvmf.ports[0].address: \"127.0.0.1:3260\": an NVMe-oF port is nvme-tcp://");
	nvmf_error("{\"ports\": [{\"address\": \"nvme-tcp://127.0.0.1:4420\", \"ana_group\": 129}]}",
		   "nvmf.ports[0].ana_group: 129 is out of range");
	nvmf_error("{\"ports\": [{\"address\": \"127.0.0.1\", \"transport\": \"fc\"}]}",
		   "nvmf.ports[0].transport: unknown transport \"fc\" (tcp, rdma)");
	nvmf_error("{\"ports\": [{\"address\": \"nvme-tcp://127.0.0.1\", \"transport\": \"rdma\"}]}",
		   "nvmf.ports[0].transport: \"rdma\" but the address is nvme-tcp://");
	if (!tt_nvmf_fabric_served(TT_FABRIC_NVME_RDMA))
		nvmf_error("{\"ports\": [{\"address\": \"nvme-rdma://127.0.0.1\"}]}",
			   "nvmf.ports[0].address: \"nvme-rdma://127.0.0.1\": nvme-rdma:// is not "
			   "served by this build");
	nvmf_error("{\"ports\": [{\"address\": \"nvme-tcp://127.0.0.1\"}, {\"address\": "
		   "\"nvme-tcp://127.0.0.1:4420\"}]}", "nvmf.ports[1].address: duplicate port");
	nvmf_error("{\"subsystems\": [{\"nqn\": \"iqn.2026-11.org.x:y\"}]}",
		   "nvmf.subsystems[0].nqn: NQN 'iqn.2026-11.org.x:y'");
	nvmf_error("{\"subsystems\": [{\"nqn\": \"nqn.2014-08.org.nvmexpress.discovery\"}]}",
		   "nvmf.subsystems[0].nqn: the discovery subsystem");
	nvmf_error("{\"subsystems\": [{\"nqn\": \"" SUB "\"}, {\"nqn\": \"" SUB "\"}]}",
		   "nvmf.subsystems[1].nqn: duplicate subsystem");
	nvmf_error("{\"subsystems\": [{\"nqn\": \"" SUB "\", \"hosts\": [\"host1\"]}]}",
		   "nvmf.subsystems[0].hosts[0]: NQN 'host1'");
	nvmf_error("{\"subsystems\": [{\"nqn\": \"" SUB "\", \"hosts\": [\"" HST "\"], "
		   "\"allow_any_host\": true}]}",
		   "nvmf.subsystems[0].allow_any_host: true with a list of hosts");
	nvmf_error("{\"subsystems\": [{\"nqn\": \"" SUB "\", \"serial\": \"012345678901234567890\"}]}",
		   "nvmf.subsystems[0].serial:");
	nvmf_error("{\"subsystems\": [{\"nqn\": \"" SUB "\", \"namespaces\": [{\"nsid\": 0, "
		   "\"backend\": \"ram:1M\"}]}]}", "nvmf.subsystems[0].namespaces[0].nsid: 0 is out");
	nvmf_error("{\"subsystems\": [{\"nqn\": \"" SUB "\", \"namespaces\": [{\"nsid\": 1}]}]}",
		   "nvmf.subsystems[0].namespaces[0]: a namespace needs either");
	nvmf_error("{\"subsystems\": [{\"nqn\": \"" SUB "\", \"namespaces\": [{\"nsid\": 1, "
		   "\"backend\": \"ram\"}]}]}",
		   "nvmf.subsystems[0].namespaces[0].backend: \"ram\" is not a backend spec");
	nvmf_error("{\"subsystems\": [{\"nqn\": \"" SUB "\", \"namespaces\": [{\"nsid\": 1, "
		   "\"backend\": \"ram:1M\"}, {\"nsid\": 1, \"backend\": \"ram:1M\"}]}]}",
		   "nvmf.subsystems[0].namespaces[1].nsid: duplicate namespace id 1");
	nvmf_error("{\"subsystems\": [{\"nqn\": \"" SUB "\", \"namespaces\": [{\"nsid\": 1, "
		   "\"lun\": {\"target\": \"iqn.2026-11.org.tether:t\", \"id\": 3}}]}]}",
		   "nvmf.subsystems[0].namespaces[0].lun: target \"iqn.2026-11.org.tether:t\" has "
		   "no LUN 3");
	nvmf_error("{\"subsystems\": [{\"nqn\": \"" SUB "\", \"namespaces\": [{\"nsid\": 1, "
		   "\"lun\": {\"target\": \"iqn.2026-11.org.tether:t\"}}]}]}",
		   "nvmf.subsystems[0].namespaces[0].lun.id: missing");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nvmf),
		cmocka_unit_test(test_full_example),
		cmocka_unit_test(test_minimal_files),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_iscsi_names),
		cmocka_unit_test(test_portals),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_pieces),
		cmocka_unit_test(test_load),
	};

	return tt_run_group("config_test", tests, NULL, NULL);
}
