/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tt_test.h"

#include "iscsi/params.h"

#define LIT(s) (s), (sizeof(s) - 1)
#define NAMES "InitiatorName=iqn.2024-01.org.example:host\0TargetName=iqn.2024-01.org.example:disk\0"

/* One side of a login under test. */
struct side {
	struct tt_negotiation n;
	struct tt_params p;
	struct tt_params_policy pol;
	struct tt_text in;
	struct tt_text_out out;
};

static void side_init(struct side *s, enum tt_params_role role, bool leading)
{
	tt_negotiation_init(&s->n, role, leading);
	tt_params_init(&s->p);
	tt_params_policy_defaults(&s->pol);
	s->pol.initiator_name = "iqn.2024-01.org.example:host";
	s->pol.target_name = "iqn.2024-01.org.example:disk";
	s->pol.tpgt = 7;
	tt_text_init(&s->in, 0);
	tt_text_out_init(&s->out, 0);
}

static void side_fini(struct side *s)
{
	tt_text_fini(&s->in);
	tt_text_out_fini(&s->out);
}

static int setup(void **state)
{
	struct side *s = calloc(1, sizeof(*s));

	side_init(s, TT_ROLE_TARGET, true);
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	side_fini(*state);
	free(*state);
	return 0;
}

/* Target: answer one request text; the response is in s->out (reset first). */
static int respond(struct side *s, enum tt_login_stage stage, const char *text, size_t len)
{
	tt_text_out_reset(&s->out);
	assert_int_equal(tt_text_parse(&s->in, text, len), 0);
	return tt_params_respond(&s->n, &s->p, &s->pol, stage, &s->in, &s->out);
}

/* Value of key in the last response, or NULL. */
static const char *answer(struct side *s, const char *key)
{
	return tt_text_out_find(&s->out, key);
}

static size_t out_pairs(const struct tt_text_out *o)
{
	size_t n = 0;

	for (size_t i = 0; i < o->len; i++)
		n += o->buf[i] == '\0';
	return n;
}

/* ---- the table ---- */

static void test_table(void **state)
{
	struct tt_params p;

	(void)state;
	for (int i = 0; i < TT_KEY__COUNT; i++) {
		const struct tt_key_desc *d = tt_key_get((enum tt_key_id)i);
		assert_non_null(d);
		assert_int_equal(d->id, i);
		assert_ptr_equal(tt_key_lookup(d->name), d);
	}
	assert_null(tt_key_lookup("X-com.example.key"));
	assert_null(tt_key_lookup("maxburstlength"));
	assert_int_equal(tt_key_lookup("MaxBurstLength")->kind, TT_KIND_NUM_MIN);
	assert_int_equal(tt_key_lookup("DefaultTime2Wait")->kind, TT_KIND_NUM_MAX);
	assert_int_equal(tt_key_lookup("InitialR2T")->kind, TT_KIND_BOOL_OR);
	assert_int_equal(tt_key_lookup("ImmediateData")->kind, TT_KIND_BOOL_AND);
	assert_int_equal(tt_key_lookup("MaxRecvDataSegmentLength")->kind, TT_KIND_NUM_DECL);
	assert_int_equal(tt_key_lookup("MaxRecvDataSegmentLength")->scope, TT_SCOPE_CONNECTION);
	assert_int_equal(tt_key_lookup("HeaderDigest")->kind, TT_KIND_LIST);
	assert_int_equal(tt_key_lookup("SessionType")->senders, TT_KEY_FROM_INITIATOR);
	assert_int_equal(tt_key_lookup("TargetPortalGroupTag")->senders, TT_KEY_FROM_TARGET);
	assert_int_equal(tt_key_lookup("MaxConnections")->use, TT_USE_LO);
	assert_false(tt_key_lookup("MaxConnections")->discovery);
	assert_int_equal(tt_key_lookup("iSCSIProtocolLevel")->max, 31);
	assert_int_equal(tt_key_lookup("FirstBurstLength")->max, 16777215);

	tt_params_init(&p);
	assert_int_equal(p.max_burst, tt_key_lookup("MaxBurstLength")->def);
	assert_int_equal(p.first_burst, tt_key_lookup("FirstBurstLength")->def);
	assert_int_equal(p.time2wait, 2);
	assert_int_equal(p.time2retain, 20);
	assert_int_equal(p.max_recv_dsl, 8192);
	assert_int_equal(p.max_xmit_dsl, 8192);
	assert_true(p.initial_r2t);
	assert_true(p.immediate_data);
	assert_false(p.header_digest);
	assert_int_equal(p.erl, 0);
}

/* ---- target: result functions ---- */

static void test_numeric_min_max(void **state)
{
	struct side *s = *state;

	s->pol.max_burst = 262144;
	s->pol.max_connections = 4;
	s->pol.erl_max = 1;
	s->pol.time2wait = 5;
	s->pol.time2retain = 30;
	s->pol.max_outstanding_r2t = 8;
	assert_int_equal(respond(s, TT_STAGE_OPERATIONAL,
				 LIT(NAMES "MaxBurstLength=1048576\0MaxConnections=8\0"
					   "ErrorRecoveryLevel=2\0DefaultTime2Wait=1\0"
					   "DefaultTime2Retain=60\0MaxOutstandingR2T=0x2\0")),
			 0);
	assert_string_equal(answer(s, "MaxBurstLength"), "262144");
	assert_string_equal(answer(s, "MaxConnections"), "4");
	assert_string_equal(answer(s, "ErrorRecoveryLevel"), "1");
	assert_string_equal(answer(s, "DefaultTime2Wait"), "5");  /* max */
	assert_string_equal(answer(s, "DefaultTime2Retain"), "30"); /* min */
	assert_string_equal(answer(s, "MaxOutstandingR2T"), "2"); /* hex offer */
	assert_int_equal(s->p.max_burst, 262144);
	assert_int_equal(s->p.max_connections, 4);
	assert_int_equal(s->p.erl, 1);
	assert_int_equal(s->p.time2wait, 5);
	assert_int_equal(s->p.time2retain, 30);
	assert_int_equal(s->p.max_outstanding_r2t, 2);
	/* names are declarations: no answer */
	assert_null(answer(s, "InitiatorName"));
	assert_string_equal(s->p.initiator_name, "iqn.2024-01.org.example:host");
	assert_string_equal(s->p.target_name, "iqn.2024-01.org.example:disk");
}

static void test_numeric_lower_offer(void **state)
{
	struct side *s = *state;

	assert_int_equal(respond(s, TT_STAGE_OPERATIONAL,
				 LIT(NAMES "MaxBurstLength=4096\0DefaultTime2Wait=3600\0")),
			 0);
	assert_string_equal(answer(s, "MaxBurstLength"), "4096");
	assert_string_equal(answer(s, "DefaultTime2Wait"), "3600");
	assert_int_equal(s->p.max_burst, 4096);
}

static void test_boolean_and_or(void **state)
{
	struct side *s = *state;

	s->pol.immediate_data = false;
	s->pol.initial_r2t = true;
	s->pol.data_pdu_in_order = false;
	s->pol.data_seq_in_order = false;
	assert_int_equal(respond(s, TT_STAGE_OPERATIONAL,
				 LIT(NAMES "ImmediateData=Yes\0InitialR2T=No\0"
					   "DataPDUInOrder=No\0DataSequenceInOrder=Yes\0")),
			 0);
	assert_string_equal(answer(s, "ImmediateData"), "No"); /* Yes AND No */
	assert_string_equal(answer(s, "InitialR2T"), "Yes");   /* No OR Yes */
	assert_string_equal(answer(s, "DataPDUInOrder"), "No"); /* No OR No */
	assert_string_equal(answer(s, "DataSequenceInOrder"), "Yes");
	assert_false(s->p.immediate_data);
	assert_true(s->p.initial_r2t);
	assert_false(s->p.data_pdu_in_order);
	assert_true(s->p.data_seq_in_order);
}

static void test_boolean_and_or_accepting(void **state)
{
	struct side *s = *state;

	s->pol.immediate_data = true;
	s->pol.initial_r2t = false;
	assert_int_equal(respond(s, TT_STAGE_OPERATIONAL,
				 LIT(NAMES "ImmediateData=Yes\0InitialR2T=No\0")), 0);
	assert_string_equal(answer(s, "ImmediateData"), "Yes");
	assert_string_equal(answer(s, "InitialR2T"), "No");
	assert_true(s->p.immediate_data);
	assert_false(s->p.initial_r2t);
}

static void test_list(void **state)
{
	struct side *s = *state;

	s->pol.header_digests = "None,CRC32C";
	s->pol.data_digests = "None";
	assert_int_equal(respond(s, TT_STAGE_OPERATIONAL,
				 LIT(NAMES "HeaderDigest=X-vendor.crc,CRC32C,None\0"
					   "DataDigest=CRC32C,None\0")),
			 0);
	/* the first value of the offer that we accept, in the initiator's order */
	assert_string_equal(answer(s, "HeaderDigest"), "CRC32C");
	assert_string_equal(answer(s, "DataDigest"), "None");
	assert_true(s->p.header_digest);
	assert_false(s->p.data_digest);
}

static void test_list_reject(void **state)
{
	struct side *s = *state;

	assert_int_equal(respond(s, TT_STAGE_OPERATIONAL,
				 LIT(NAMES "HeaderDigest=MD5\0TaskReporting=FastAbort\0")), 0);
	assert_string_equal(answer(s, "HeaderDigest"), "Reject");
	assert_string_equal(answer(s, "TaskReporting"), "Reject");
	assert_false(s->p.header_digest);
}

static void test_list_required_digest(void **state)
{
	struct side *s = *state;

	/* the policy refuses None: an offer of None only cannot end well */
	s->pol.data_digests = "CRC32C";
	assert_int_equal(respond(s, TT_STAGE_OPERATIONAL, LIT(NAMES "DataDigest=None\0")),
			 TT_NEG_STATUS_INITIATOR_ERROR);
	assert_string_equal(s->n.error_key, "DataDigest");
}

static void test_declarative_mrdsl(void **state)
{
	struct side *s = *state;

	assert_int_equal(respond(s, TT_STAGE_OPERATIONAL,
				 LIT(NAMES "MaxRecvDataSegmentLength=65536\0")), 0);
	assert_null(answer(s, "MaxRecvDataSegmentLength")); /* declarations get no answer */
	assert_int_equal(s->p.max_xmit_dsl, 65536);
	assert_int_equal(s->p.max_recv_dsl, 8192);
}

static void test_declarative_mrdsl_out_of_range(void **state)
{
	struct side *s = *state;

	assert_int_equal(respond(s, TT_STAGE_OPERATIONAL,
				 LIT(NAMES "MaxRecvDataSegmentLength=511\0")), 0);
	assert_string_equal(answer(s, "MaxRecvDataSegmentLength"), "Reject");
	assert_int_equal(s->p.max_xmit_dsl, 8192);
}

static void test_not_understood(void **state)
{
	struct side *s = *state;

	assert_int_equal(respond(s, TT_STAGE_OPERATIONAL,
				 LIT(NAMES "X-com.example.Feature=Yes\0X#NodeArchitecture=x\0"
					   "FutureKey=1\0")),
			 0);
	assert_string_equal(answer(s, "X-com.example.Feature"), "NotUnderstood");
	assert_string_equal(answer(s, "X#NodeArchitecture"), "NotUnderstood");
	assert_string_equal(answer(s, "FutureKey"), "NotUnderstood");
	assert_int_equal(out_pairs(&s->out), 3);
}

static void test_reject_out_of_range(void **state)
{
	struct side *s = *state;

	assert_int_equal(respond(s, TT_STAGE_OPERATIONAL,
				 LIT(NAMES "MaxBurstLength=100\0ErrorRecoveryLevel=3\0"
					   "InitialR2T=Maybe\0MaxConnections=0\0"
					   "DefaultTime2Wait=3601\0FirstBurstLength=abc\0")),
			 0);
	assert_string_equal(answer(s, "MaxBurstLength"), "Reject");
	assert_string_equal(answer(s, "ErrorRecoveryLevel"), "Reject");
	assert_string_equal(answer(s, "InitialR2T"), "Reject");
	assert_string_equal(answer(s, "MaxConnections"), "Reject");
	assert_string_equal(answer(s, "DefaultTime2Wait"), "Reject");
	assert_string_equal(answer(s, "FirstBurstLength"), "Reject");
	/* the values stay at their defaults */
	assert_int_equal(s->p.max_burst, 262144);
	assert_int_equal(s->p.first_burst, 65536);
	assert_true(s->p.initial_r2t);
	assert_int_equal(s->p.time2wait, 2);
}

static void test_obsolete_markers(void **state)
{
	struct side *s = *state;

	assert_int_equal(respond(s, TT_STAGE_OPERATIONAL,
				 LIT(NAMES "IFMarker=No\0OFMarker=Yes\0IFMarkInt=2048~8192\0"
					   "OFMarkInt=2048\0")),
			 0);
	assert_string_equal(answer(s, "IFMarker"), "No");
	assert_string_equal(answer(s, "OFMarker"), "No");
	assert_string_equal(answer(s, "IFMarkInt"), "Reject");
	assert_string_equal(answer(s, "OFMarkInt"), "Reject");
}

/* ---- Irrelevant ---- */

static void test_discovery_irrelevant(void **state)
{
	struct side *s = *state;

	assert_int_equal(respond(s, TT_STAGE_OPERATIONAL,
				 LIT("MaxBurstLength=4096\0MaxConnections=2\0"
				     "InitiatorName=iqn.2024-01.org.example:host\0"
				     "SessionType=Discovery\0HeaderDigest=CRC32C,None\0"
				     "DefaultTime2Wait=0\0ImmediateData=No\0")),
			 0);
	assert_int_equal(s->p.session_type, TT_SESSION_DISCOVERY);
	assert_string_equal(answer(s, "MaxBurstLength"), "Irrelevant");
	assert_string_equal(answer(s, "MaxConnections"), "Irrelevant");
	assert_string_equal(answer(s, "ImmediateData"), "Irrelevant");
	assert_string_equal(answer(s, "HeaderDigest"), "CRC32C"); /* relevant in discovery */
	assert_string_equal(answer(s, "DefaultTime2Wait"), "2");
	assert_int_equal(s->p.max_burst, 262144);
	/* no TargetName needed, no TargetPortalGroupTag owed */
	assert_int_equal(tt_params_declare(&s->n, &s->p, &s->pol, TT_STAGE_OPERATIONAL, &s->out), 0);
	assert_null(answer(s, "TargetPortalGroupTag"));
	assert_string_equal(answer(s, "MaxRecvDataSegmentLength"), "8192");
	assert_int_equal(tt_params_finish(&s->n, &s->p), 0);
}

static void test_discovery_refused(void **state)
{
	struct side *s = *state;

	s->pol.discovery_allowed = false;
	assert_int_equal(respond(s, TT_STAGE_SECURITY,
				 LIT("InitiatorName=iqn.2024-01.org.example:host\0"
				     "SessionType=Discovery\0")),
			 TT_NEG_STATUS_SESSION_TYPE);
}

static void test_bad_session_type(void **state)
{
	struct side *s = *state;

	assert_int_equal(respond(s, TT_STAGE_SECURITY, LIT(NAMES "SessionType=Boot\0")),
			 TT_NEG_STATUS_SESSION_TYPE);
	assert_string_equal(s->n.error_key, "SessionType");
}

static void test_first_burst_irrelevant(void **state)
{
	struct side *s = *state;

	/* FirstBurstLength comes first, but InitialR2T/ImmediateData decide */
	s->pol.immediate_data = true;
	assert_int_equal(respond(s, TT_STAGE_OPERATIONAL,
				 LIT(NAMES "FirstBurstLength=8192\0InitialR2T=Yes\0"
					   "ImmediateData=No\0")),
			 0);
	assert_string_equal(answer(s, "FirstBurstLength"), "Irrelevant");
	assert_int_equal(s->p.first_burst, 65536);
}

static void test_first_burst_capped(void **state)
{
	struct side *s = *state;

	s->pol.first_burst = 1048576;
	s->pol.max_burst = 1048576;
	assert_int_equal(respond(s, TT_STAGE_OPERATIONAL,
				 LIT(NAMES "FirstBurstLength=262144\0MaxBurstLength=16384\0"
					   "InitialR2T=No\0")),
			 0);
	assert_string_equal(answer(s, "MaxBurstLength"), "16384");
	assert_string_equal(answer(s, "FirstBurstLength"), "16384");
	assert_int_equal(s->p.first_burst, 16384);
	assert_true(s->p.first_burst <= s->p.max_burst);
}

static void test_iser_keys(void **state)
{
	struct side *s = *state;

	/* without RDMAExtensions=Yes the iSER keys are irrelevant */
	assert_int_equal(respond(s, TT_STAGE_OPERATIONAL,
				 LIT(NAMES "TargetRecvDataSegmentLength=65536\0"
					   "MaxOutstandingUnexpectedPDUs=8\0")),
			 0);
	assert_string_equal(answer(s, "TargetRecvDataSegmentLength"), "Irrelevant");
	assert_string_equal(answer(s, "MaxOutstandingUnexpectedPDUs"), "Irrelevant");
}

static void test_iser_keys_rdma(void **state)
{
	struct side *s = *state;

	s->pol.rdma_extensions = true;
	s->pol.max_recv_dsl = 262144;
	s->pol.max_outstanding_unexpected_pdus = 0; /* no limit */
	assert_int_equal(respond(s, TT_STAGE_OPERATIONAL,
				 LIT(NAMES "InitiatorRecvDataSegmentLength=65536\0"
					   "MaxOutstandingUnexpectedPDUs=8\0"
					   "MaxRecvDataSegmentLength=65536\0RDMAExtensions=Yes\0")),
			 0);
	assert_string_equal(answer(s, "RDMAExtensions"), "Yes");
	assert_string_equal(answer(s, "InitiatorRecvDataSegmentLength"), "65536");
	assert_string_equal(answer(s, "MaxOutstandingUnexpectedPDUs"), "8");
	assert_string_equal(answer(s, "MaxRecvDataSegmentLength"), "Irrelevant");
	assert_true(s->p.rdma_extensions);
	assert_int_equal(s->p.initiator_recv_dsl, 65536);
	assert_int_equal(s->p.max_outstanding_unexpected_pdus, 8);
	/* the target offers TargetRecvDataSegmentLength instead of declaring MRDSL */
	tt_text_out_reset(&s->out);
	assert_int_equal(tt_params_declare(&s->n, &s->p, &s->pol, TT_STAGE_OPERATIONAL, &s->out), 0);
	assert_string_equal(answer(s, "TargetRecvDataSegmentLength"), "262144");
	assert_null(answer(s, "MaxRecvDataSegmentLength"));
	assert_false(tt_params_offers_answered(&s->n));
}

static void test_non_leading_lo_irrelevant(void **state)
{
	struct side *s = *state;

	tt_negotiation_init(&s->n, TT_ROLE_TARGET, false);
	assert_int_equal(respond(s, TT_STAGE_OPERATIONAL,
				 LIT(NAMES "MaxBurstLength=4096\0HeaderDigest=CRC32C\0"
					   "MaxRecvDataSegmentLength=16384\0")),
			 0);
	assert_string_equal(answer(s, "MaxBurstLength"), "Irrelevant");
	assert_string_equal(answer(s, "HeaderDigest"), "CRC32C");
	assert_int_equal(s->p.max_burst, 262144);
	assert_int_equal(s->p.max_xmit_dsl, 16384);
}

/* ---- protocol errors ---- */

static void test_duplicate_in_request(void **state)
{
	struct side *s = *state;

	assert_int_equal(respond(s, TT_STAGE_OPERATIONAL,
				 LIT(NAMES "MaxBurstLength=4096\0MaxBurstLength=8192\0")),
			 TT_NEG_STATUS_INITIATOR_ERROR);
	assert_string_equal(s->n.error_key, "MaxBurstLength");
}

static void test_duplicate_across_requests(void **state)
{
	struct side *s = *state;

	assert_int_equal(respond(s, TT_STAGE_SECURITY, LIT(NAMES "AuthMethod=None\0")), 0);
	assert_string_equal(answer(s, "AuthMethod"), "None");
	assert_int_equal(respond(s, TT_STAGE_OPERATIONAL, LIT("HeaderDigest=None\0")), 0);
	assert_int_equal(respond(s, TT_STAGE_OPERATIONAL, LIT("HeaderDigest=None\0")),
			 TT_NEG_STATUS_INITIATOR_ERROR);
	assert_string_equal(s->n.error_key, "HeaderDigest");
	/* redeclaring a name is renegotiation too */
	struct side t;
	side_init(&t, TT_ROLE_TARGET, true);
	assert_int_equal(respond(&t, TT_STAGE_SECURITY, LIT(NAMES)), 0);
	assert_int_equal(respond(&t, TT_STAGE_SECURITY,
				 LIT("InitiatorName=iqn.2024-01.org.example:other\0")),
			 TT_NEG_STATUS_INITIATOR_ERROR);
	side_fini(&t);
}

static void test_stage_rules(void **state)
{
	struct side *s = *state;
	struct side t;

	/* operational keys are not allowed in the security stage */
	assert_int_equal(respond(s, TT_STAGE_SECURITY, LIT(NAMES "MaxBurstLength=4096\0")),
			 TT_NEG_STATUS_INITIATOR_ERROR);
	assert_string_equal(s->n.error_key, "MaxBurstLength");

	/* security keys are not allowed in the operational stage */
	side_init(&t, TT_ROLE_TARGET, true);
	assert_int_equal(respond(&t, TT_STAGE_OPERATIONAL, LIT(NAMES "AuthMethod=None\0")),
			 TT_NEG_STATUS_INITIATOR_ERROR);
	side_fini(&t);
	side_init(&t, TT_ROLE_TARGET, true);
	assert_int_equal(respond(&t, TT_STAGE_OPERATIONAL, LIT(NAMES "CHAP_A=5\0")),
			 TT_NEG_STATUS_INITIATOR_ERROR);
	side_fini(&t);

	/* CHAP_* keys in the security stage are left to chap.h */
	side_init(&t, TT_ROLE_TARGET, true);
	assert_int_equal(respond(&t, TT_STAGE_SECURITY, LIT(NAMES "CHAP_A=7,5\0")), 0);
	assert_int_equal(t.out.len, 0);
	side_fini(&t);

	/* SendTargets only in full feature phase, where the discovery code answers it */
	side_init(&t, TT_ROLE_TARGET, true);
	assert_int_equal(respond(&t, TT_STAGE_OPERATIONAL, LIT(NAMES "SendTargets=All\0")),
			 TT_NEG_STATUS_INITIATOR_ERROR);
	side_fini(&t);
	side_init(&t, TT_ROLE_TARGET, true);
	assert_int_equal(respond(&t, TT_STAGE_FULL_FEATURE,
				 LIT("SendTargets=All\0MaxRecvDataSegmentLength=32768\0")),
			 0);
	assert_int_equal(t.out.len, 0);
	assert_int_equal(t.p.max_xmit_dsl, 32768);
	/* login-only keys in a Text request */
	assert_int_equal(respond(&t, TT_STAGE_FULL_FEATURE, LIT("MaxBurstLength=4096\0")),
			 TT_NEG_STATUS_INITIATOR_ERROR);
	side_fini(&t);
}

static void test_wrong_sender(void **state)
{
	struct side *s = *state;

	assert_int_equal(respond(s, TT_STAGE_SECURITY, LIT(NAMES "TargetPortalGroupTag=1\0")),
			 TT_NEG_STATUS_INITIATOR_ERROR);
	assert_string_equal(s->n.error_key, "TargetPortalGroupTag");
}

static void test_reserved_value_offered(void **state)
{
	struct side *s = *state;

	assert_int_equal(respond(s, TT_STAGE_OPERATIONAL, LIT(NAMES "MaxBurstLength=Reject\0")),
			 TT_NEG_STATUS_INITIATOR_ERROR);
}

static void test_missing_names(void **state)
{
	struct side *s = *state;
	struct side t;

	assert_int_equal(respond(s, TT_STAGE_SECURITY,
				 LIT("TargetName=iqn.2024-01.org.example:disk\0")),
			 TT_NEG_STATUS_MISSING_PARAM);
	assert_string_equal(s->n.error_key, "InitiatorName");

	side_init(&t, TT_ROLE_TARGET, true);
	assert_int_equal(respond(&t, TT_STAGE_SECURITY,
				 LIT("InitiatorName=iqn.2024-01.org.example:host\0AuthMethod=None\0")),
			 TT_NEG_STATUS_MISSING_PARAM);
	assert_string_equal(t.n.error_key, "TargetName");
	side_fini(&t);

	/* only the first request must carry them */
	side_init(&t, TT_ROLE_TARGET, true);
	assert_int_equal(respond(&t, TT_STAGE_SECURITY, LIT(NAMES)), 0);
	assert_int_equal(respond(&t, TT_STAGE_OPERATIONAL, LIT("HeaderDigest=None\0")), 0);
	side_fini(&t);

	/* a name too long for an iSCSI name */
	char big[300] = "InitiatorName=iqn.";
	memset(big + strlen(big), 'a', 250);
	side_init(&t, TT_ROLE_TARGET, true);
	assert_int_equal(respond(&t, TT_STAGE_SECURITY, big, strlen(big)),
			 TT_NEG_STATUS_INITIATOR_ERROR);
	side_fini(&t);
}

static void test_auth_method(void **state)
{
	struct side *s = *state;
	struct side t;

	s->pol.auth_methods = "CHAP";
	assert_true(tt_params_auth_required(&s->pol));
	assert_int_equal(respond(s, TT_STAGE_SECURITY, LIT(NAMES "AuthMethod=SRP,CHAP,None\0")), 0);
	assert_string_equal(answer(s, "AuthMethod"), "CHAP");
	assert_int_equal(s->p.auth_method, TT_AUTH_CHAP);

	side_init(&t, TT_ROLE_TARGET, true);
	t.pol.auth_methods = "CHAP";
	assert_int_equal(respond(&t, TT_STAGE_SECURITY, LIT(NAMES "AuthMethod=None\0")),
			 TT_NEG_STATUS_AUTH_FAILED);
	side_fini(&t);

	side_init(&t, TT_ROLE_TARGET, true);
	assert_false(tt_params_auth_required(&t.pol));
	assert_int_equal(respond(&t, TT_STAGE_SECURITY, LIT(NAMES "AuthMethod=CHAP,None\0")), 0);
	assert_string_equal(answer(&t, "AuthMethod"), "None");
	assert_int_equal(t.p.auth_method, TT_AUTH_NONE);
	side_fini(&t);
}

/* ---- target declarations and offers ---- */

static void test_declare(void **state)
{
	struct side *s = *state;

	s->pol.target_alias = "disk one";
	s->pol.max_recv_dsl = 262144;
	assert_int_equal(respond(s, TT_STAGE_SECURITY, LIT(NAMES "AuthMethod=None\0")), 0);
	assert_int_equal(tt_params_declare(&s->n, &s->p, &s->pol, TT_STAGE_SECURITY, &s->out), 0);
	assert_string_equal(answer(s, "TargetPortalGroupTag"), "7");
	assert_string_equal(answer(s, "TargetAlias"), "disk one");
	assert_null(answer(s, "MaxRecvDataSegmentLength")); /* not in the security stage */
	assert_true(s->p.tpgt_known);

	assert_int_equal(respond(s, TT_STAGE_OPERATIONAL, LIT("MaxRecvDataSegmentLength=16384\0")), 0);
	assert_int_equal(tt_params_declare(&s->n, &s->p, &s->pol, TT_STAGE_OPERATIONAL, &s->out), 0);
	assert_null(answer(s, "TargetPortalGroupTag")); /* once only */
	assert_string_equal(answer(s, "MaxRecvDataSegmentLength"), "262144");
	assert_int_equal(s->p.max_recv_dsl, 262144);
	assert_int_equal(s->p.max_xmit_dsl, 16384);
	assert_true(tt_params_offers_answered(&s->n));

	assert_int_equal(respond(s, TT_STAGE_OPERATIONAL, LIT("DataDigest=None\0")), 0);
	assert_int_equal(tt_params_declare(&s->n, &s->p, &s->pol, TT_STAGE_OPERATIONAL, &s->out), 0);
	assert_null(answer(s, "MaxRecvDataSegmentLength")); /* once only */
	assert_int_equal(tt_params_finish(&s->n, &s->p), 0);
}

static void test_target_offers(void **state)
{
	struct side *s = *state;

	/* policy values that differ from the RFC defaults, not offered by the initiator */
	s->pol.max_burst = 65536;
	s->pol.immediate_data = false;
	s->pol.header_digests = "CRC32C";
	assert_int_equal(respond(s, TT_STAGE_OPERATIONAL, LIT(NAMES "DataDigest=None\0")), 0);
	assert_int_equal(tt_params_declare(&s->n, &s->p, &s->pol, TT_STAGE_OPERATIONAL, &s->out), 0);
	assert_string_equal(answer(s, "MaxBurstLength"), "65536");
	assert_string_equal(answer(s, "ImmediateData"), "No");
	assert_string_equal(answer(s, "HeaderDigest"), "CRC32C");
	/* FirstBurstLength (default 65536) already fits */
	assert_null(answer(s, "FirstBurstLength"));
	assert_false(tt_params_offers_answered(&s->n));
	assert_int_equal(tt_params_finish(&s->n, &s->p), TT_NEG_STATUS_INITIATOR_ERROR);

	/* the initiator answers; ImmediateData=No needs no answer (AND with No) */
	assert_int_equal(respond(s, TT_STAGE_OPERATIONAL,
				 LIT("MaxBurstLength=32768\0HeaderDigest=CRC32C\0")), 0);
	assert_null(answer(s, "MaxBurstLength")); /* answers are not answered */
	assert_int_equal(s->p.max_burst, 32768);
	assert_true(s->p.header_digest);
	assert_true(tt_params_offers_answered(&s->n));
	assert_int_equal(tt_params_finish(&s->n, &s->p), 0);
	assert_true(s->p.first_burst <= s->p.max_burst);
}

static void test_target_offer_bad_answer(void **state)
{
	struct side *s = *state;

	s->pol.max_burst = 65536;
	assert_int_equal(respond(s, TT_STAGE_OPERATIONAL, LIT(NAMES)), 0);
	assert_int_equal(tt_params_declare(&s->n, &s->p, &s->pol, TT_STAGE_OPERATIONAL, &s->out), 0);
	assert_string_equal(answer(s, "MaxBurstLength"), "65536");
	/* a minimum cannot exceed the offer */
	assert_int_equal(respond(s, TT_STAGE_OPERATIONAL, LIT("MaxBurstLength=131072\0")),
			 TT_NEG_STATUS_INITIATOR_ERROR);
	assert_string_equal(s->n.error_key, "MaxBurstLength");
}

/* ---- initiator ---- */

static void test_initiator_offers(void **state)
{
	struct side i;

	(void)state;
	side_init(&i, TT_ROLE_INITIATOR, true);
	i.pol.auth_methods = "CHAP,None";
	i.pol.initiator_alias = "host one";
	assert_int_equal(tt_params_offer(&i.n, &i.p, &i.pol, TT_STAGE_SECURITY, &i.out), 0);
	assert_string_equal(tt_text_out_find(&i.out, "InitiatorName"), "iqn.2024-01.org.example:host");
	assert_string_equal(tt_text_out_find(&i.out, "InitiatorAlias"), "host one");
	assert_string_equal(tt_text_out_find(&i.out, "TargetName"), "iqn.2024-01.org.example:disk");
	assert_string_equal(tt_text_out_find(&i.out, "SessionType"), "Normal");
	assert_string_equal(tt_text_out_find(&i.out, "AuthMethod"), "CHAP,None");
	assert_null(tt_text_out_find(&i.out, "MaxBurstLength"));

	tt_text_out_reset(&i.out);
	assert_int_equal(tt_params_offer(&i.n, &i.p, &i.pol, TT_STAGE_OPERATIONAL, &i.out), 0);
	assert_null(tt_text_out_find(&i.out, "InitiatorName")); /* once only */
	assert_string_equal(tt_text_out_find(&i.out, "HeaderDigest"), "None,CRC32C");
	assert_string_equal(tt_text_out_find(&i.out, "MaxRecvDataSegmentLength"), "8192");
	assert_string_equal(tt_text_out_find(&i.out, "MaxBurstLength"), "262144");
	assert_string_equal(tt_text_out_find(&i.out, "InitialR2T"), "Yes");
	assert_string_equal(tt_text_out_find(&i.out, "ErrorRecoveryLevel"), "0");
	assert_null(tt_text_out_find(&i.out, "iSCSIProtocolLevel")); /* default 1 */
	assert_null(tt_text_out_find(&i.out, "RDMAExtensions"));
	side_fini(&i);

	/* discovery: no TargetName, no session keys irrelevant to discovery */
	side_init(&i, TT_ROLE_INITIATOR, true);
	i.pol.session_type = TT_SESSION_DISCOVERY;
	assert_int_equal(tt_params_offer(&i.n, &i.p, &i.pol, TT_STAGE_OPERATIONAL, &i.out), 0);
	assert_string_equal(tt_text_out_find(&i.out, "SessionType"), "Discovery");
	assert_null(tt_text_out_find(&i.out, "TargetName"));
	assert_null(tt_text_out_find(&i.out, "MaxBurstLength"));
	assert_string_equal(tt_text_out_find(&i.out, "DefaultTime2Wait"), "2");
	side_fini(&i);

	/* non-leading: names, no session type, no session keys */
	side_init(&i, TT_ROLE_INITIATOR, false);
	assert_int_equal(tt_params_offer(&i.n, &i.p, &i.pol, TT_STAGE_OPERATIONAL, &i.out), 0);
	assert_non_null(tt_text_out_find(&i.out, "InitiatorName"));
	assert_null(tt_text_out_find(&i.out, "SessionType"));
	assert_null(tt_text_out_find(&i.out, "MaxBurstLength"));
	assert_non_null(tt_text_out_find(&i.out, "HeaderDigest"));
	side_fini(&i);
}

/* Feed a response text to the initiator. */
static int accept_text(struct side *i, enum tt_login_stage stage, const char *text, size_t len)
{
	tt_text_out_reset(&i->out);
	assert_int_equal(tt_text_parse(&i->in, text, len), 0);
	return tt_params_accept(&i->n, &i->p, &i->pol, stage, &i->in, &i->out);
}

static void initiator_offered(struct side *i)
{
	side_init(i, TT_ROLE_INITIATOR, true);
	i->pol.header_digests = "CRC32C,None";
	i->pol.max_burst = 524288;
	i->pol.immediate_data = false;
	i->pol.initial_r2t = true;
	i->pol.time2wait = 4;
	assert_int_equal(tt_params_offer(&i->n, &i->p, &i->pol, TT_STAGE_OPERATIONAL, &i->out), 0);
}

static void test_initiator_accepts(void **state)
{
	struct side i;

	(void)state;
	initiator_offered(&i);
	assert_false(tt_params_offers_answered(&i.n));
	assert_int_equal(accept_text(&i, TT_STAGE_OPERATIONAL,
				     LIT("TargetPortalGroupTag=3\0HeaderDigest=CRC32C\0"
					 "DataDigest=None\0MaxBurstLength=262144\0"
					 "FirstBurstLength=65536\0DefaultTime2Wait=10\0"
					 "DefaultTime2Retain=20\0MaxOutstandingR2T=1\0"
					 "DataPDUInOrder=Yes\0DataSequenceInOrder=Yes\0"
					 "ErrorRecoveryLevel=0\0MaxConnections=1\0"
					 "MaxRecvDataSegmentLength=131072\0"
					 "X-com.example.Hello=1\0")),
			 0);
	/* ImmediateData=No and InitialR2T=Yes need no answer */
	assert_true(tt_params_offers_answered(&i.n));
	assert_int_equal(tt_params_finish(&i.n, &i.p), 0);
	assert_true(i.p.header_digest);
	assert_false(i.p.data_digest);
	assert_int_equal(i.p.max_burst, 262144);
	assert_int_equal(i.p.time2wait, 10);
	assert_int_equal(i.p.max_xmit_dsl, 131072);
	assert_int_equal(i.p.tpgt, 3);
	assert_true(i.p.tpgt_known);
	/* an unknown key of the target is answered */
	assert_string_equal(tt_text_out_find(&i.out, "X-com.example.Hello"), "NotUnderstood");
	side_fini(&i);
}

static void test_initiator_illegal_answers(void **state)
{
	static const struct {
		const char *text;
		size_t len;
		const char *key;
	} cases[] = {
		{ LIT("MaxBurstLength=1048576\0"), "MaxBurstLength" },        /* above a minimum */
		{ LIT("DefaultTime2Wait=1\0"), "DefaultTime2Wait" },          /* below a maximum */
		{ LIT("ImmediateData=Yes\0"), "ImmediateData" },              /* No AND x = Yes */
		{ LIT("InitialR2T=No\0"), "InitialR2T" },                     /* Yes OR x = No */
		{ LIT("HeaderDigest=MD5\0"), "HeaderDigest" },                /* not offered */
		{ LIT("HeaderDigest=CRC32C,None\0"), "HeaderDigest" },        /* a list */
		{ LIT("MaxBurstLength=0x\0"), "MaxBurstLength" },             /* not a number */
		{ LIT("TargetPortalGroupTag=1\0TargetPortalGroupTag=2\0"), "TargetPortalGroupTag" },
		{ LIT("SessionType=Normal\0"), "SessionType" },               /* initiator key */
		{ LIT("MaxBurstLength=Rejected\0"), "MaxBurstLength" },
	};

	(void)state;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct side i;
		initiator_offered(&i);
		assert_int_equal(accept_text(&i, TT_STAGE_OPERATIONAL, cases[k].text, cases[k].len),
				 -EPROTO);
		assert_non_null(i.n.error_key);
		assert_string_equal(i.n.error_key, cases[k].key);
		side_fini(&i);
	}
}

static void test_initiator_reject_keeps_value(void **state)
{
	struct side i;

	(void)state;
	initiator_offered(&i);
	assert_int_equal(accept_text(&i, TT_STAGE_OPERATIONAL,
				     LIT("MaxBurstLength=Reject\0HeaderDigest=Irrelevant\0")), 0);
	assert_int_equal(i.p.max_burst, 262144);
	assert_false(i.p.header_digest);
	side_fini(&i);

	side_init(&i, TT_ROLE_INITIATOR, true);
	i.pol.auth_methods = "CHAP";
	assert_int_equal(tt_params_offer(&i.n, &i.p, &i.pol, TT_STAGE_SECURITY, &i.out), 0);
	assert_int_equal(accept_text(&i, TT_STAGE_SECURITY, LIT("AuthMethod=Reject\0")), -EACCES);
	side_fini(&i);
}

static void test_initiator_answers_target_offer(void **state)
{
	struct side i;

	(void)state;
	side_init(&i, TT_ROLE_INITIATOR, false); /* non-leading: no session keys offered */
	i.pol.max_outstanding_r2t = 4;
	assert_int_equal(tt_params_offer(&i.n, &i.p, &i.pol, TT_STAGE_OPERATIONAL, &i.out), 0);
	assert_int_equal(accept_text(&i, TT_STAGE_OPERATIONAL,
				     LIT("HeaderDigest=None\0DataDigest=None\0"
					 "MaxOutstandingR2T=16\0")),
			 0);
	/* LO key on a non-leading connection: Irrelevant */
	assert_string_equal(tt_text_out_find(&i.out, "MaxOutstandingR2T"), "Irrelevant");
	side_fini(&i);

	initiator_offered(&i);
	/* the target offers a key we did not: we answer with our policy */
	i.pol.task_reporting = "ResponseFence,RFC3720";
	assert_int_equal(accept_text(&i, TT_STAGE_OPERATIONAL,
				     LIT("TaskReporting=FastAbort,ResponseFence\0")), 0);
	assert_string_equal(tt_text_out_find(&i.out, "TaskReporting"), "ResponseFence");
	assert_int_equal(i.p.task_reporting, TT_TASK_REPORTING_RESPONSE_FENCE);
	/* and it may not offer it again */
	assert_int_equal(accept_text(&i, TT_STAGE_OPERATIONAL, LIT("TaskReporting=RFC3720\0")),
			 -EPROTO);
	side_fini(&i);
}

/* ---- both sides together ---- */

static int exchange(struct side *ini, struct side *tgt, enum tt_login_stage stage)
{
	int rc;

	tt_text_out_reset(&ini->out);
	rc = tt_params_offer(&ini->n, &ini->p, &ini->pol, stage, &ini->out);
	assert_int_equal(rc, 0);
	for (int round = 0; round < 4; round++) {
		assert_int_equal(tt_text_parse(&tgt->in, ini->out.buf, ini->out.len), 0);
		tt_text_out_reset(&tgt->out);
		rc = tt_params_respond(&tgt->n, &tgt->p, &tgt->pol, stage, &tgt->in, &tgt->out);
		if (rc)
			return rc;
		rc = tt_params_declare(&tgt->n, &tgt->p, &tgt->pol, stage, &tgt->out);
		assert_int_equal(rc, 0);
		assert_int_equal(tt_text_parse(&ini->in, tgt->out.buf, tgt->out.len), 0);
		tt_text_out_reset(&ini->out);
		rc = tt_params_accept(&ini->n, &ini->p, &ini->pol, stage, &ini->in, &ini->out);
		if (rc)
			return rc;
		if (ini->out.len == 0 && tt_params_offers_answered(&tgt->n))
			return 0;
	}
	return -EAGAIN;
}

static void test_both_sides(void **state)
{
	struct side ini, tgt;

	(void)state;
	side_init(&ini, TT_ROLE_INITIATOR, true);
	side_init(&tgt, TT_ROLE_TARGET, true);
	ini.pol.header_digests = "CRC32C,None";
	ini.pol.data_digests = "CRC32C,None";
	ini.pol.max_recv_dsl = 262144;
	ini.pol.max_burst = 16776192;
	ini.pol.first_burst = 262144;
	ini.pol.immediate_data = true;
	ini.pol.initial_r2t = false;
	ini.pol.max_outstanding_r2t = 8;
	ini.pol.erl_max = 2;
	ini.pol.time2wait = 0;
	ini.pol.time2retain = 0;
	tgt.pol.header_digests = "None,CRC32C";
	tgt.pol.data_digests = "None";
	tgt.pol.max_recv_dsl = 131072;
	tgt.pol.max_burst = 1048576;
	tgt.pol.first_burst = 65536;
	tgt.pol.max_outstanding_r2t = 4;
	tgt.pol.erl_max = 1;
	tgt.pol.max_connections = 1;
	tgt.pol.time2wait = 2;
	tgt.pol.time2retain = 20;
	tgt.pol.data_seq_in_order = true;
	tgt.pol.initial_r2t = false;

	assert_int_equal(exchange(&ini, &tgt, TT_STAGE_SECURITY), 0);
	assert_int_equal(exchange(&ini, &tgt, TT_STAGE_OPERATIONAL), 0);
	assert_int_equal(tt_params_finish(&tgt.n, &tgt.p), 0);
	assert_int_equal(tt_params_finish(&ini.n, &ini.p), 0);

	/* both ends agree */
	assert_true(ini.p.header_digest);
	assert_true(tgt.p.header_digest);
	assert_false(ini.p.data_digest);
	assert_false(tgt.p.data_digest);
	assert_int_equal(ini.p.max_burst, 1048576);
	assert_int_equal(tgt.p.max_burst, 1048576);
	assert_int_equal(ini.p.first_burst, 65536);
	assert_int_equal(tgt.p.first_burst, 65536);
	assert_int_equal(ini.p.max_outstanding_r2t, 4);
	assert_int_equal(tgt.p.max_outstanding_r2t, 4);
	assert_int_equal(ini.p.erl, 1);
	assert_int_equal(tgt.p.erl, 1);
	assert_false(ini.p.initial_r2t);
	assert_false(tgt.p.initial_r2t);
	assert_true(ini.p.immediate_data);
	assert_true(tgt.p.immediate_data);
	assert_int_equal(ini.p.time2wait, 2);
	assert_int_equal(tgt.p.time2wait, 2);
	assert_int_equal(ini.p.time2retain, 0);
	assert_int_equal(tgt.p.time2retain, 0);
	/* each side sends at most what the other declared it can receive */
	assert_int_equal(ini.p.max_xmit_dsl, 131072);
	assert_int_equal(tgt.p.max_recv_dsl, 131072);
	assert_int_equal(tgt.p.max_xmit_dsl, 262144);
	assert_int_equal(ini.p.max_recv_dsl, 262144);
	assert_int_equal(ini.p.tpgt, 7);
	assert_string_equal(tgt.p.initiator_name, "iqn.2024-01.org.example:host");
	side_fini(&ini);
	side_fini(&tgt);
}

static void test_both_sides_digest_policies(void **state)
{
	struct side ini, tgt;

	(void)state;
	/* the target requires CRC32C, the initiator only offers None */
	side_init(&ini, TT_ROLE_INITIATOR, false);
	side_init(&tgt, TT_ROLE_TARGET, false);
	ini.pol.header_digests = "None";
	tgt.pol.header_digests = "CRC32C";
	assert_int_equal(exchange(&ini, &tgt, TT_STAGE_OPERATIONAL), TT_NEG_STATUS_INITIATOR_ERROR);
	assert_string_equal(tgt.n.error_key, "HeaderDigest");
	side_fini(&ini);
	side_fini(&tgt);

	/* the initiator prefers None but accepts CRC32C, which the target requires */
	side_init(&ini, TT_ROLE_INITIATOR, true);
	side_init(&tgt, TT_ROLE_TARGET, true);
	ini.pol.header_digests = "None,CRC32C";
	ini.pol.data_digests = NULL; /* RFC default: None */
	tgt.pol.header_digests = "CRC32C";
	tgt.pol.data_digests = "CRC32C,None";
	tgt.pol.immediate_data = false;
	assert_int_equal(exchange(&ini, &tgt, TT_STAGE_OPERATIONAL), 0);
	assert_int_equal(tt_params_finish(&tgt.n, &tgt.p), 0);
	assert_int_equal(tt_params_finish(&ini.n, &ini.p), 0);
	assert_true(tgt.p.header_digest);
	assert_true(ini.p.header_digest);
	assert_false(tgt.p.data_digest);
	assert_false(ini.p.data_digest);
	assert_false(tgt.p.immediate_data);
	assert_false(ini.p.immediate_data);
	side_fini(&ini);
	side_fini(&tgt);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		T(test_numeric_min_max),
		T(test_numeric_lower_offer),
		T(test_boolean_and_or),
		T(test_boolean_and_or_accepting),
		T(test_list),
		T(test_list_reject),
		T(test_list_required_digest),
		T(test_declarative_mrdsl),
		T(test_declarative_mrdsl_out_of_range),
		T(test_not_understood),
		T(test_reject_out_of_range),
		T(test_obsolete_markers),
		T(test_discovery_irrelevant),
		T(test_discovery_refused),
		T(test_bad_session_type),
		T(test_first_burst_irrelevant),
		T(test_first_burst_capped),
		T(test_iser_keys),
		T(test_iser_keys_rdma),
		T(test_non_leading_lo_irrelevant),
		T(test_duplicate_in_request),
		T(test_duplicate_across_requests),
		T(test_stage_rules),
		T(test_wrong_sender),
		T(test_reserved_value_offered),
		T(test_missing_names),
		T(test_auth_method),
		T(test_declare),
		T(test_target_offers),
		T(test_target_offer_bad_answer),
		cmocka_unit_test(test_initiator_offers),
		cmocka_unit_test(test_initiator_accepts),
		cmocka_unit_test(test_initiator_illegal_answers),
		cmocka_unit_test(test_initiator_reject_keeps_value),
		cmocka_unit_test(test_initiator_answers_target_offer),
		cmocka_unit_test(test_both_sides),
		cmocka_unit_test(test_both_sides_digest_policies),
	};
#undef T
	return tt_run_group("params_test", tests, NULL, NULL);
}
