/* SPDX-License-Identifier: BSD-3-Clause */
#include "iscsi/params.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define DSL_MIN 512
#define DSL_MAX ((1u << 24) - 1)

#define I TT_KEY_FROM_INITIATOR
#define T TT_KEY_FROM_TARGET
#define B TT_KEY_FROM_BOTH
#define SW TT_SCOPE_SESSION
#define CO TT_SCOPE_CONNECTION

/*
 * RFC 7143 §13 (and §12.1 for AuthMethod), RFC 7145 §6 (iSER), RFC 7144 §2.1.
 * Columns: name, id, kind, default, default string, min, max, senders, use,
 * scope, relevant in discovery sessions, allowed in the security stage.
 */
static const struct tt_key_desc key_table[TT_KEY__COUNT] = {
	[TT_KEY_HEADER_DIGEST] = { "HeaderDigest", TT_KEY_HEADER_DIGEST, TT_KIND_LIST, 0, "None",
				   0, 0, B, TT_USE_IO, CO, true, false },
	[TT_KEY_DATA_DIGEST] = { "DataDigest", TT_KEY_DATA_DIGEST, TT_KIND_LIST, 0, "None",
				 0, 0, B, TT_USE_IO, CO, true, false },
	[TT_KEY_MAX_CONNECTIONS] = { "MaxConnections", TT_KEY_MAX_CONNECTIONS, TT_KIND_NUM_MIN, 1,
				     NULL, 1, 65535, B, TT_USE_LO, SW, false, false },
	[TT_KEY_SEND_TARGETS] = { "SendTargets", TT_KEY_SEND_TARGETS, TT_KIND_STRING_DECL, 0, NULL,
				  0, 0, I, TT_USE_FFPO, SW, true, false },
	[TT_KEY_TARGET_NAME] = { "TargetName", TT_KEY_TARGET_NAME, TT_KIND_STRING_DECL, 0, NULL,
				 0, 0, B, TT_USE_IO, SW, true, true },
	[TT_KEY_INITIATOR_NAME] = { "InitiatorName", TT_KEY_INITIATOR_NAME, TT_KIND_STRING_DECL, 0,
				    NULL, 0, 0, I, TT_USE_IO, SW, true, true },
	[TT_KEY_TARGET_ALIAS] = { "TargetAlias", TT_KEY_TARGET_ALIAS, TT_KIND_STRING_DECL, 0, NULL,
				  0, 0, T, TT_USE_ALL, SW, true, true },
	[TT_KEY_INITIATOR_ALIAS] = { "InitiatorAlias", TT_KEY_INITIATOR_ALIAS, TT_KIND_STRING_DECL, 0,
				     NULL, 0, 0, I, TT_USE_ALL, SW, true, true },
	[TT_KEY_TARGET_ADDRESS] = { "TargetAddress", TT_KEY_TARGET_ADDRESS, TT_KIND_STRING_DECL, 0,
				    NULL, 0, 0, T, TT_USE_ALL, SW, true, true },
	[TT_KEY_TARGET_PORTAL_GROUP_TAG] = { "TargetPortalGroupTag", TT_KEY_TARGET_PORTAL_GROUP_TAG,
					     TT_KIND_NUM_DECL, 0, NULL, 0, 65535, T, TT_USE_IO, SW,
					     true, true },
	[TT_KEY_INITIAL_R2T] = { "InitialR2T", TT_KEY_INITIAL_R2T, TT_KIND_BOOL_OR, 1, NULL, 0, 1, B,
				 TT_USE_LO, SW, false, false },
	[TT_KEY_IMMEDIATE_DATA] = { "ImmediateData", TT_KEY_IMMEDIATE_DATA, TT_KIND_BOOL_AND, 1, NULL,
				    0, 1, B, TT_USE_LO, SW, false, false },
	[TT_KEY_MAX_RECV_DSL] = { "MaxRecvDataSegmentLength", TT_KEY_MAX_RECV_DSL, TT_KIND_NUM_DECL,
				  8192, NULL, DSL_MIN, DSL_MAX, B, TT_USE_ALL, CO, true, false },
	[TT_KEY_MAX_BURST_LENGTH] = { "MaxBurstLength", TT_KEY_MAX_BURST_LENGTH, TT_KIND_NUM_MIN,
				      262144, NULL, DSL_MIN, DSL_MAX, B, TT_USE_LO, SW, false,
				      false },
	[TT_KEY_FIRST_BURST_LENGTH] = { "FirstBurstLength", TT_KEY_FIRST_BURST_LENGTH,
					TT_KIND_NUM_MIN, 65536, NULL, DSL_MIN, DSL_MAX, B, TT_USE_LO,
					SW, false, false },
	[TT_KEY_DEFAULT_TIME2WAIT] = { "DefaultTime2Wait", TT_KEY_DEFAULT_TIME2WAIT,
				       TT_KIND_NUM_MAX, 2, NULL, 0, 3600, B, TT_USE_LO, SW, true,
				       false },
	[TT_KEY_DEFAULT_TIME2RETAIN] = { "DefaultTime2Retain", TT_KEY_DEFAULT_TIME2RETAIN,
					 TT_KIND_NUM_MIN, 20, NULL, 0, 3600, B, TT_USE_LO, SW, true,
					 false },
	[TT_KEY_MAX_OUTSTANDING_R2T] = { "MaxOutstandingR2T", TT_KEY_MAX_OUTSTANDING_R2T,
					 TT_KIND_NUM_MIN, 1, NULL, 1, 65535, B, TT_USE_LO, SW, false,
					 false },
	[TT_KEY_DATA_PDU_IN_ORDER] = { "DataPDUInOrder", TT_KEY_DATA_PDU_IN_ORDER, TT_KIND_BOOL_OR,
				       1, NULL, 0, 1, B, TT_USE_LO, SW, false, false },
	[TT_KEY_DATA_SEQUENCE_IN_ORDER] = { "DataSequenceInOrder", TT_KEY_DATA_SEQUENCE_IN_ORDER,
					    TT_KIND_BOOL_OR, 1, NULL, 0, 1, B, TT_USE_LO, SW, false,
					    false },
	[TT_KEY_ERROR_RECOVERY_LEVEL] = { "ErrorRecoveryLevel", TT_KEY_ERROR_RECOVERY_LEVEL,
					  TT_KIND_NUM_MIN, 0, NULL, 0, 2, B, TT_USE_LO, SW, true,
					  false },
	[TT_KEY_SESSION_TYPE] = { "SessionType", TT_KEY_SESSION_TYPE, TT_KIND_STRING_DECL, 0,
				  "Normal", 0, 0, I, TT_USE_LO, SW, true, true },
	[TT_KEY_AUTH_METHOD] = { "AuthMethod", TT_KEY_AUTH_METHOD, TT_KIND_LIST, 0, "None", 0, 0, B,
				 TT_USE_SEC, CO, true, true },
	[TT_KEY_RDMA_EXTENSIONS] = { "RDMAExtensions", TT_KEY_RDMA_EXTENSIONS, TT_KIND_BOOL_AND, 0,
				     NULL, 0, 1, B, TT_USE_LO, SW, false, false },
	[TT_KEY_TARGET_RECV_DSL] = { "TargetRecvDataSegmentLength", TT_KEY_TARGET_RECV_DSL,
				     TT_KIND_NUM_MIN, 8192, NULL, DSL_MIN, DSL_MAX, B, TT_USE_IO,
				     CO, false, false },
	[TT_KEY_INITIATOR_RECV_DSL] = { "InitiatorRecvDataSegmentLength",
					TT_KEY_INITIATOR_RECV_DSL, TT_KIND_NUM_MIN, 8192, NULL,
					DSL_MIN, DSL_MAX, B, TT_USE_IO, CO, false, false },
	[TT_KEY_MAX_OUTSTANDING_UNEXPECTED_PDUS] = { "MaxOutstandingUnexpectedPDUs",
						     TT_KEY_MAX_OUTSTANDING_UNEXPECTED_PDUS,
						     TT_KIND_NUM_MIN, 0, NULL, 0, UINT32_MAX, B,
						     TT_USE_LO, SW, false, false },
	[TT_KEY_TASK_REPORTING] = { "TaskReporting", TT_KEY_TASK_REPORTING, TT_KIND_LIST, 0,
				    "RFC3720", 0, 0, B, TT_USE_LO, SW, false, false },
	[TT_KEY_PROTOCOL_LEVEL] = { "iSCSIProtocolLevel", TT_KEY_PROTOCOL_LEVEL, TT_KIND_NUM_MIN, 1,
				    NULL, 0, 31, B, TT_USE_LO, SW, false, false },
	[TT_KEY_OF_MARKER] = { "OFMarker", TT_KEY_OF_MARKER, TT_KIND_OBSOLETE, 0, NULL, 0, 1, B,
			       TT_USE_IO, CO, true, false },
	[TT_KEY_IF_MARKER] = { "IFMarker", TT_KEY_IF_MARKER, TT_KIND_OBSOLETE, 0, NULL, 0, 1, B,
			       TT_USE_IO, CO, true, false },
	[TT_KEY_OF_MARK_INT] = { "OFMarkInt", TT_KEY_OF_MARK_INT, TT_KIND_OBSOLETE, 0, NULL, 0, 0,
				 B, TT_USE_IO, CO, true, false },
	[TT_KEY_IF_MARK_INT] = { "IFMarkInt", TT_KEY_IF_MARK_INT, TT_KIND_OBSOLETE, 0, NULL, 0, 0,
				 B, TT_USE_IO, CO, true, false },
};

#undef I
#undef T
#undef B
#undef SW
#undef CO

#define BIT(id) (1ull << (id))

const struct tt_key_desc *tt_key_lookup(const char *name)
{
	for (int i = 0; i < TT_KEY__COUNT; i++)
		if (strcmp(key_table[i].name, name) == 0)
			return &key_table[i];
	return NULL;
}

const struct tt_key_desc *tt_key_get(enum tt_key_id id)
{
	if ((int)id < 0 || id >= TT_KEY__COUNT)
		return NULL;
	return &key_table[id];
}

void tt_params_init(struct tt_params *p)
{
	memset(p, 0, sizeof(*p));
	p->max_recv_dsl = 8192;
	p->max_xmit_dsl = 8192;
	p->max_burst = 262144;
	p->first_burst = 65536;
	p->initial_r2t = true;
	p->immediate_data = true;
	p->max_outstanding_r2t = 1;
	p->data_pdu_in_order = true;
	p->data_seq_in_order = true;
	p->erl = 0;
	p->time2wait = 2;
	p->time2retain = 20;
	p->max_connections = 1;
	p->session_type = TT_SESSION_NORMAL;
	p->auth_method = TT_AUTH_NONE;
	p->task_reporting = TT_TASK_REPORTING_RFC3720;
	p->protocol_level = 1;
	p->target_recv_dsl = 8192;
	p->initiator_recv_dsl = 8192;
}

void tt_params_policy_defaults(struct tt_params_policy *pol)
{
	memset(pol, 0, sizeof(*pol));
	pol->header_digests = "None,CRC32C";
	pol->data_digests = "None,CRC32C";
	pol->auth_methods = "None";
	pol->max_recv_dsl = 8192;
	pol->max_burst = 262144;
	pol->first_burst = 65536;
	pol->initial_r2t = true;
	pol->immediate_data = true;
	pol->max_outstanding_r2t = 1;
	pol->data_pdu_in_order = true;
	pol->data_seq_in_order = true;
	pol->erl_max = 0;
	pol->max_connections = 1;
	pol->time2wait = 2;
	pol->time2retain = 20;
	pol->protocol_level = 1;
	pol->task_reporting = "RFC3720";
	pol->discovery_allowed = true;
	pol->session_type = TT_SESSION_NORMAL;
}

bool tt_params_auth_required(const struct tt_params_policy *pol)
{
	return !pol->auth_methods || !tt_text_list_contains(pol->auth_methods, "None");
}

void tt_negotiation_init(struct tt_negotiation *n, enum tt_params_role role, bool leading)
{
	memset(n, 0, sizeof(*n));
	n->role = role;
	n->leading = leading;
}

/* ---- values of the policy and of the parameters, by key ---- */

static uint64_t policy_num(const struct tt_params_policy *pol, enum tt_key_id id)
{
	switch (id) {
	case TT_KEY_MAX_CONNECTIONS: return pol->max_connections;
	case TT_KEY_INITIAL_R2T: return pol->initial_r2t;
	case TT_KEY_IMMEDIATE_DATA: return pol->immediate_data;
	case TT_KEY_MAX_RECV_DSL: return pol->max_recv_dsl;
	case TT_KEY_MAX_BURST_LENGTH: return pol->max_burst;
	case TT_KEY_FIRST_BURST_LENGTH: return pol->first_burst;
	case TT_KEY_DEFAULT_TIME2WAIT: return pol->time2wait;
	case TT_KEY_DEFAULT_TIME2RETAIN: return pol->time2retain;
	case TT_KEY_MAX_OUTSTANDING_R2T: return pol->max_outstanding_r2t;
	case TT_KEY_DATA_PDU_IN_ORDER: return pol->data_pdu_in_order;
	case TT_KEY_DATA_SEQUENCE_IN_ORDER: return pol->data_seq_in_order;
	case TT_KEY_ERROR_RECOVERY_LEVEL: return pol->erl_max;
	case TT_KEY_RDMA_EXTENSIONS: return pol->rdma_extensions;
	case TT_KEY_TARGET_RECV_DSL: return pol->max_recv_dsl;
	case TT_KEY_INITIATOR_RECV_DSL: return pol->max_recv_dsl;
	case TT_KEY_MAX_OUTSTANDING_UNEXPECTED_PDUS: return pol->max_outstanding_unexpected_pdus;
	case TT_KEY_PROTOCOL_LEVEL: return pol->protocol_level;
	case TT_KEY_TARGET_PORTAL_GROUP_TAG: return pol->tpgt;
	default: return 0;
	}
}

static const char *policy_list(const struct tt_params_policy *pol, enum tt_key_id id)
{
	const char *s = NULL;

	switch (id) {
	case TT_KEY_HEADER_DIGEST: s = pol->header_digests; break;
	case TT_KEY_DATA_DIGEST: s = pol->data_digests; break;
	case TT_KEY_AUTH_METHOD: s = pol->auth_methods; break;
	case TT_KEY_TASK_REPORTING: s = pol->task_reporting; break;
	default: break;
	}
	return s ? s : key_table[id].def_str;
}

static uint64_t current_num(const struct tt_params *p, enum tt_key_id id)
{
	switch (id) {
	case TT_KEY_MAX_CONNECTIONS: return p->max_connections;
	case TT_KEY_INITIAL_R2T: return p->initial_r2t;
	case TT_KEY_IMMEDIATE_DATA: return p->immediate_data;
	case TT_KEY_MAX_RECV_DSL: return p->max_recv_dsl;
	case TT_KEY_MAX_BURST_LENGTH: return p->max_burst;
	case TT_KEY_FIRST_BURST_LENGTH: return p->first_burst;
	case TT_KEY_DEFAULT_TIME2WAIT: return p->time2wait;
	case TT_KEY_DEFAULT_TIME2RETAIN: return p->time2retain;
	case TT_KEY_MAX_OUTSTANDING_R2T: return p->max_outstanding_r2t;
	case TT_KEY_DATA_PDU_IN_ORDER: return p->data_pdu_in_order;
	case TT_KEY_DATA_SEQUENCE_IN_ORDER: return p->data_seq_in_order;
	case TT_KEY_ERROR_RECOVERY_LEVEL: return p->erl;
	case TT_KEY_RDMA_EXTENSIONS: return p->rdma_extensions;
	case TT_KEY_TARGET_RECV_DSL: return p->target_recv_dsl;
	case TT_KEY_INITIATOR_RECV_DSL: return p->initiator_recv_dsl;
	case TT_KEY_MAX_OUTSTANDING_UNEXPECTED_PDUS: return p->max_outstanding_unexpected_pdus;
	case TT_KEY_PROTOCOL_LEVEL: return p->protocol_level;
	case TT_KEY_TARGET_PORTAL_GROUP_TAG: return p->tpgt;
	default: return 0;
	}
}

/* Record a negotiated numerical or boolean result. */
static void store_num(struct tt_params *p, enum tt_key_id id, uint64_t v)
{
	switch (id) {
	case TT_KEY_MAX_CONNECTIONS: p->max_connections = (uint16_t)v; break;
	case TT_KEY_INITIAL_R2T: p->initial_r2t = v != 0; break;
	case TT_KEY_IMMEDIATE_DATA: p->immediate_data = v != 0; break;
	case TT_KEY_MAX_BURST_LENGTH: p->max_burst = (uint32_t)v; break;
	case TT_KEY_FIRST_BURST_LENGTH: p->first_burst = (uint32_t)v; break;
	case TT_KEY_DEFAULT_TIME2WAIT: p->time2wait = (uint16_t)v; break;
	case TT_KEY_DEFAULT_TIME2RETAIN: p->time2retain = (uint16_t)v; break;
	case TT_KEY_MAX_OUTSTANDING_R2T: p->max_outstanding_r2t = (uint32_t)v; break;
	case TT_KEY_DATA_PDU_IN_ORDER: p->data_pdu_in_order = v != 0; break;
	case TT_KEY_DATA_SEQUENCE_IN_ORDER: p->data_seq_in_order = v != 0; break;
	case TT_KEY_ERROR_RECOVERY_LEVEL: p->erl = (uint8_t)v; break;
	case TT_KEY_RDMA_EXTENSIONS: p->rdma_extensions = v != 0; break;
	case TT_KEY_TARGET_RECV_DSL: p->target_recv_dsl = (uint32_t)v; break;
	case TT_KEY_INITIATOR_RECV_DSL: p->initiator_recv_dsl = (uint32_t)v; break;
	case TT_KEY_MAX_OUTSTANDING_UNEXPECTED_PDUS:
		p->max_outstanding_unexpected_pdus = (uint32_t)v;
		break;
	case TT_KEY_PROTOCOL_LEVEL: p->protocol_level = (uint8_t)v; break;
	default: break;
	}
}

/* Record a list result (the single value chosen). */
static void store_list(struct tt_params *p, enum tt_key_id id, const char *v)
{
	switch (id) {
	case TT_KEY_HEADER_DIGEST: p->header_digest = strcmp(v, "CRC32C") == 0; break;
	case TT_KEY_DATA_DIGEST: p->data_digest = strcmp(v, "CRC32C") == 0; break;
	case TT_KEY_AUTH_METHOD:
		p->auth_method = strcmp(v, "CHAP") == 0 ? TT_AUTH_CHAP : TT_AUTH_NONE;
		break;
	case TT_KEY_TASK_REPORTING:
		if (strcmp(v, "ResponseFence") == 0)
			p->task_reporting = TT_TASK_REPORTING_RESPONSE_FENCE;
		else if (strcmp(v, "FastAbort") == 0)
			p->task_reporting = TT_TASK_REPORTING_FAST_ABORT;
		else
			p->task_reporting = TT_TASK_REPORTING_RFC3720;
		break;
	default: break;
	}
}

/* Values this implementation knows how to use, whatever the policy says. */
static bool list_value_known(enum tt_key_id id, const char *v)
{
	switch (id) {
	case TT_KEY_HEADER_DIGEST:
	case TT_KEY_DATA_DIGEST:
		return strcmp(v, "CRC32C") == 0 || strcmp(v, "None") == 0;
	case TT_KEY_AUTH_METHOD:
		return strcmp(v, "CHAP") == 0 || strcmp(v, "None") == 0;
	case TT_KEY_TASK_REPORTING:
		return strcmp(v, "RFC3720") == 0 || strcmp(v, "ResponseFence") == 0 ||
		       strcmp(v, "FastAbort") == 0;
	default:
		return false;
	}
}

static bool is_reserved(const char *v)
{
	return strcmp(v, TT_TEXT_REJECT) == 0 || strcmp(v, TT_TEXT_IRRELEVANT) == 0 ||
	       strcmp(v, TT_TEXT_NOT_UNDERSTOOD) == 0;
}

static int parse_num(const struct tt_key_desc *d, const char *v, uint64_t *out)
{
	uint64_t x;
	int rc = tt_text_parse_u64(v, d->min, d->max, &x);

	if (rc)
		return rc;
	/* RFC 7145 §6.7: 0 (no limit) or 2..2**32-1 */
	if (d->id == TT_KEY_MAX_OUTSTANDING_UNEXPECTED_PDUS && x == 1)
		return -ERANGE;
	*out = x;
	return 0;
}

static uint64_t num_min(enum tt_key_id id, uint64_t a, uint64_t b)
{
	if (id == TT_KEY_MAX_OUTSTANDING_UNEXPECTED_PDUS) { /* 0 = no limit */
		if (a == 0)
			return b;
		if (b == 0)
			return a;
	}
	return a < b ? a : b;
}

/* Keys irrelevant to this session, answered Irrelevant (RFC 7143 §6.2). */
static bool irrelevant(const struct tt_key_desc *d, const struct tt_params *p)
{
	if (p->session_type == TT_SESSION_DISCOVERY && !d->discovery)
		return true;
	switch (d->id) {
	case TT_KEY_TARGET_RECV_DSL:
	case TT_KEY_INITIATOR_RECV_DSL:
	case TT_KEY_MAX_OUTSTANDING_UNEXPECTED_PDUS:
		return !p->rdma_extensions;
	case TT_KEY_MAX_RECV_DSL:
		return p->rdma_extensions;
	case TT_KEY_FIRST_BURST_LENGTH: /* RFC 7143 §13.14 */
		return p->initial_r2t && !p->immediate_data;
	default:
		return false;
	}
}

static int copy_name(char *dst, size_t size, const char *v)
{
	size_t len = strlen(v);

	if (len == 0 || len >= size)
		return -EINVAL;
	memcpy(dst, v, len + 1);
	return 0;
}

/*
 * Answer an offer of a negotiated key (either role) with our policy: choose the
 * result, record it in p, append key=result to out.  Values that are not valid
 * for the key, and lists with no value we accept, are answered Reject
 * (*rejected set).  Returns 0 or -errno (from out).
 */
static int answer_offer(const struct tt_key_desc *d, const char *v,
			const struct tt_params_policy *pol, struct tt_params *p,
			struct tt_text_out *out, bool *rejected)
{
	uint64_t x, ours, r;
	bool b;
	char item[64];
	const char *cur;
	int rc;

	*rejected = true;
	switch (d->kind) {
	case TT_KIND_BOOL_AND:
	case TT_KIND_BOOL_OR:
		if (tt_text_parse_bool(v, &b))
			return tt_text_add(out, d->name, TT_TEXT_REJECT);
		ours = policy_num(pol, d->id);
		b = d->kind == TT_KIND_BOOL_AND ? (b && ours) : (b || ours);
		store_num(p, d->id, b);
		*rejected = false;
		return tt_text_add_bool(out, d->name, b);
	case TT_KIND_NUM_MIN:
	case TT_KIND_NUM_MAX:
		if (parse_num(d, v, &x))
			return tt_text_add(out, d->name, TT_TEXT_REJECT);
		ours = policy_num(pol, d->id);
		if (d->kind == TT_KIND_NUM_MAX)
			r = x > ours ? x : ours;
		else
			r = num_min(d->id, x, ours);
		if (d->id == TT_KEY_FIRST_BURST_LENGTH && r > p->max_burst)
			r = p->max_burst; /* FirstBurstLength <= MaxBurstLength */
		store_num(p, d->id, r);
		*rejected = false;
		return tt_text_add_u64(out, d->name, r);
	case TT_KIND_LIST:
		cur = v;
		while ((rc = tt_text_list_next(&cur, item, sizeof(item))) != 0) {
			if (rc < 0)
				break;
			if (is_reserved(item))
				break;
			if (list_value_known(d->id, item) &&
			    tt_text_list_contains(policy_list(pol, d->id), item)) {
				store_list(p, d->id, item);
				*rejected = false;
				return tt_text_add(out, d->name, item);
			}
		}
		return tt_text_add(out, d->name, TT_TEXT_REJECT);
	default:
		return tt_text_add(out, d->name, TT_TEXT_REJECT);
	}
}

/*
 * Check the answer to one of our offers and record the result.  Returns 0,
 * -EPROTO (the answer is not a legal result of our offer) or -EACCES (no
 * common authentication method).
 */
static int check_answer(const struct tt_negotiation *n, const struct tt_key_desc *d,
			const char *v, const struct tt_params_policy *pol, struct tt_params *p)
{
	uint64_t offer = n->offer_num[d->id];
	uint64_t x;
	bool b;

	if (strcmp(v, TT_TEXT_REJECT) == 0 || strcmp(v, TT_TEXT_NOT_UNDERSTOOD) == 0)
		return d->id == TT_KEY_AUTH_METHOD ? -EACCES : 0; /* value stays as it is */
	if (strcmp(v, TT_TEXT_IRRELEVANT) == 0)
		return 0;
	switch (d->kind) {
	case TT_KIND_BOOL_AND:
	case TT_KIND_BOOL_OR:
		if (tt_text_parse_bool(v, &b))
			return -EPROTO;
		if (d->kind == TT_KIND_BOOL_AND && !offer && b)
			return -EPROTO;
		if (d->kind == TT_KIND_BOOL_OR && offer && !b)
			return -EPROTO;
		store_num(p, d->id, b);
		return 0;
	case TT_KIND_NUM_MIN:
	case TT_KIND_NUM_MAX:
		if (parse_num(d, v, &x))
			return -EPROTO;
		if (d->kind == TT_KIND_NUM_MAX && x < offer)
			return -EPROTO;
		if (d->kind == TT_KIND_NUM_MIN && num_min(d->id, x, offer) != x)
			return -EPROTO;
		store_num(p, d->id, x);
		return 0;
	case TT_KIND_LIST:
		if (strchr(v, ',') || !list_value_known(d->id, v) ||
		    !tt_text_list_contains(policy_list(pol, d->id), v))
			return -EPROTO;
		store_list(p, d->id, v);
		return 0;
	default:
		return -EPROTO;
	}
}

/* Does the RFC let the responder leave this offer unanswered? (§6.2.2) */
static bool answer_optional(const struct tt_key_desc *d, uint64_t offer)
{
	return (d->kind == TT_KIND_BOOL_AND && !offer) || (d->kind == TT_KIND_BOOL_OR && offer);
}

bool tt_params_offers_answered(const struct tt_negotiation *n)
{
	for (int i = 0; i < TT_KEY__COUNT; i++)
		if ((n->offered & BIT(i)) && !answer_optional(&key_table[i], n->offer_num[i]))
			return false;
	return true;
}

static int offer_num(struct tt_negotiation *n, enum tt_key_id id, uint64_t v,
		     struct tt_text_out *out)
{
	const struct tt_key_desc *d = &key_table[id];
	int rc;

	if (d->kind == TT_KIND_BOOL_AND || d->kind == TT_KIND_BOOL_OR)
		rc = tt_text_add_bool(out, d->name, v != 0);
	else
		rc = tt_text_add_u64(out, d->name, v);
	if (rc)
		return rc;
	n->offer_num[id] = v;
	n->offered |= BIT(id);
	n->sent |= BIT(id);
	return 0;
}

static int offer_list(struct tt_negotiation *n, enum tt_key_id id, const char *v,
		      struct tt_text_out *out)
{
	int rc = tt_text_add(out, key_table[id].name, v);

	if (rc)
		return rc;
	n->offered |= BIT(id);
	n->sent |= BIT(id);
	return 0;
}

static int declare(struct tt_negotiation *n, enum tt_key_id id, const char *v,
		   struct tt_text_out *out)
{
	int rc = tt_text_add(out, key_table[id].name, v);

	if (rc)
		return rc;
	n->sent |= BIT(id);
	return 0;
}

static int declare_num(struct tt_negotiation *n, enum tt_key_id id, uint64_t v,
		       struct tt_text_out *out)
{
	int rc = tt_text_add_u64(out, key_table[id].name, v);

	if (rc)
		return rc;
	n->sent |= BIT(id);
	return 0;
}

/* ---- target ---- */

static int fail(struct tt_negotiation *n, const char *key, int status)
{
	n->error_key = key;
	return status;
}

/* Declarations made by the initiator. */
static int target_take_declaration(struct tt_negotiation *n, const struct tt_key_desc *d,
				   const char *key, const char *v,
				   const struct tt_params_policy *pol, struct tt_params *p,
				   struct tt_text_out *rsp)
{
	uint64_t x;

	switch (d->id) {
	case TT_KEY_INITIATOR_NAME:
		if (copy_name(p->initiator_name, sizeof(p->initiator_name), v))
			return fail(n, key, TT_NEG_STATUS_INITIATOR_ERROR);
		return 0;
	case TT_KEY_TARGET_NAME:
		if (copy_name(p->target_name, sizeof(p->target_name), v))
			return fail(n, key, TT_NEG_STATUS_INITIATOR_ERROR);
		return 0;
	case TT_KEY_INITIATOR_ALIAS:
		if (strlen(v) >= sizeof(p->initiator_alias))
			return tt_text_add(rsp, key, TT_TEXT_REJECT);
		memcpy(p->initiator_alias, v, strlen(v) + 1);
		return 0;
	case TT_KEY_SESSION_TYPE:
		if (strcmp(v, "Normal") == 0) {
			p->session_type = TT_SESSION_NORMAL;
		} else if (strcmp(v, "Discovery") == 0 && pol->discovery_allowed) {
			p->session_type = TT_SESSION_DISCOVERY;
		} else {
			return fail(n, key, TT_NEG_STATUS_SESSION_TYPE);
		}
		return 0;
	case TT_KEY_MAX_RECV_DSL:
		if (parse_num(d, v, &x))
			return tt_text_add(rsp, key, TT_TEXT_REJECT);
		p->max_xmit_dsl = (uint32_t)x;
		return 0;
	default:
		return tt_text_add(rsp, key, TT_TEXT_REJECT);
	}
}

/* Is the key allowed in this stage and login? 0, 1 (answer Irrelevant) or a status. */
static int target_check_use(struct tt_negotiation *n, const struct tt_key_desc *d,
			    const char *key, enum tt_login_stage stage)
{
	switch (stage) {
	case TT_STAGE_SECURITY:
		if (!d->any_stage && d->use != TT_USE_SEC)
			return fail(n, key, TT_NEG_STATUS_INITIATOR_ERROR);
		break;
	case TT_STAGE_OPERATIONAL:
		if (d->use == TT_USE_SEC)
			return fail(n, key, TT_NEG_STATUS_INITIATOR_ERROR);
		break;
	case TT_STAGE_FULL_FEATURE:
		if (d->use != TT_USE_ALL && d->use != TT_USE_FFPO)
			return fail(n, key, TT_NEG_STATUS_INITIATOR_ERROR);
		return 0;
	}
	if (d->use == TT_USE_FFPO)
		return fail(n, key, TT_NEG_STATUS_INITIATOR_ERROR);
	if (d->use == TT_USE_LO && !n->leading)
		return 1;
	return 0;
}

static int target_pair(struct tt_negotiation *n, struct tt_params *p,
		       const struct tt_params_policy *pol, enum tt_login_stage stage,
		       const char *key, const char *v, struct tt_text_out *rsp)
{
	const struct tt_key_desc *d;
	bool rejected;
	int rc;

	if (strncmp(key, "CHAP_", 5) == 0) {
		if (stage != TT_STAGE_SECURITY)
			return fail(n, key, TT_NEG_STATUS_INITIATOR_ERROR);
		return 0; /* chap.h */
	}
	d = tt_key_lookup(key);
	if (!d)
		return tt_text_add(rsp, key, TT_TEXT_NOT_UNDERSTOOD);
	if (n->offered & BIT(d->id)) { /* the answer to our own offer */
		n->offered &= ~BIT(d->id);
		n->received |= BIT(d->id);
		if (check_answer(n, d, v, pol, p))
			return fail(n, key, TT_NEG_STATUS_INITIATOR_ERROR);
		return 0;
	}
	/* RFC 7143 §6.1: the reserved constants are never offered values */
	if (is_reserved(v))
		return fail(n, key, TT_NEG_STATUS_INITIATOR_ERROR);
	/* RFC 7143 §6.3: renegotiation/redeclaration in one login is a protocol error */
	if (n->received & BIT(d->id))
		return fail(n, key, TT_NEG_STATUS_INITIATOR_ERROR);
	n->received |= BIT(d->id);
	if (!(d->senders & TT_KEY_FROM_INITIATOR))
		return fail(n, key, TT_NEG_STATUS_INITIATOR_ERROR);
	rc = target_check_use(n, d, key, stage);
	if (rc == 1)
		return tt_text_add(rsp, key, TT_TEXT_IRRELEVANT);
	if (rc)
		return rc;
	if (d->id == TT_KEY_SEND_TARGETS)
		return 0; /* answered by the discovery code */
	if (d->id != TT_KEY_SESSION_TYPE && irrelevant(d, p))
		return tt_text_add(rsp, key, TT_TEXT_IRRELEVANT);

	switch (d->kind) {
	case TT_KIND_STRING_DECL:
	case TT_KIND_NUM_DECL:
		return target_take_declaration(n, d, key, v, pol, p, rsp);
	case TT_KIND_OBSOLETE: {
		bool b;
		/* RFC 7143 §13.25: markers answered No, marker intervals Reject */
		if ((d->id == TT_KEY_OF_MARKER || d->id == TT_KEY_IF_MARKER) &&
		    tt_text_parse_bool(v, &b) == 0)
			return tt_text_add(rsp, key, "No");
		return tt_text_add(rsp, key, TT_TEXT_REJECT);
	}
	case TT_KIND_LIST:
		rc = answer_offer(d, v, pol, p, rsp, &rejected);
		if (rc)
			return rc;
		if (rejected) {
			if (d->id == TT_KEY_AUTH_METHOD)
				return fail(n, key, TT_NEG_STATUS_AUTH_FAILED);
			/* the value stays at its default: refuse if the policy does */
			if (!tt_text_list_contains(policy_list(pol, d->id), d->def_str))
				return fail(n, key, TT_NEG_STATUS_INITIATOR_ERROR);
		}
		return 0;
	default:
		return answer_offer(d, v, pol, p, rsp, &rejected);
	}
}

/* Keys processed first because others depend on their results. */
static int pass_of(const char *key)
{
	if (strcmp(key, "SessionType") == 0 || strcmp(key, "RDMAExtensions") == 0)
		return 0;
	if (strcmp(key, "InitialR2T") == 0 || strcmp(key, "ImmediateData") == 0 ||
	    strcmp(key, "MaxBurstLength") == 0)
		return 1;
	return 2;
}

int tt_params_respond(struct tt_negotiation *n, struct tt_params *p,
		      const struct tt_params_policy *pol, enum tt_login_stage stage,
		      const struct tt_text *req, struct tt_text_out *rsp)
{
	size_t count = tt_text_count(req);
	int rc;

	n->error_key = NULL;
	for (int pass = 0; pass < 3; pass++) {
		for (size_t i = 0; i < count; i++) {
			struct tt_text_pair kv = tt_text_get(req, i);
			if (pass_of(kv.key) != pass)
				continue;
			rc = target_pair(n, p, pol, stage, kv.key, kv.value, rsp);
			if (rc)
				return rc;
		}
	}
	/* RFC 7143 §6.3: the first request names the initiator and, but for
	 * discovery, the target */
	if (n->steps == 0 && stage != TT_STAGE_FULL_FEATURE) {
		if (!tt_text_find(req, "InitiatorName"))
			return fail(n, "InitiatorName", TT_NEG_STATUS_MISSING_PARAM);
		if (p->session_type == TT_SESSION_NORMAL && !tt_text_find(req, "TargetName"))
			return fail(n, "TargetName", TT_NEG_STATUS_MISSING_PARAM);
	}
	n->steps++;
	return 0;
}

static bool pending(const struct tt_negotiation *n, enum tt_key_id id)
{
	return !((n->received | n->sent) & BIT(id));
}

int tt_params_declare(struct tt_negotiation *n, struct tt_params *p,
		      const struct tt_params_policy *pol, enum tt_login_stage stage,
		      struct tt_text_out *rsp)
{
	static const enum tt_key_id session_keys[] = {
		TT_KEY_MAX_CONNECTIONS,     TT_KEY_INITIAL_R2T,
		TT_KEY_IMMEDIATE_DATA,      TT_KEY_MAX_BURST_LENGTH,
		TT_KEY_FIRST_BURST_LENGTH,  TT_KEY_DEFAULT_TIME2WAIT,
		TT_KEY_DEFAULT_TIME2RETAIN, TT_KEY_MAX_OUTSTANDING_R2T,
		TT_KEY_DATA_PDU_IN_ORDER,   TT_KEY_DATA_SEQUENCE_IN_ORDER,
		TT_KEY_ERROR_RECOVERY_LEVEL,
	};
	static const enum tt_key_id digest_keys[] = { TT_KEY_HEADER_DIGEST, TT_KEY_DATA_DIGEST };
	int rc;

	if (stage == TT_STAGE_FULL_FEATURE)
		return 0;
	if (p->target_name[0] && pending(n, TT_KEY_TARGET_PORTAL_GROUP_TAG)) {
		rc = declare_num(n, TT_KEY_TARGET_PORTAL_GROUP_TAG, pol->tpgt, rsp);
		if (rc)
			return rc;
		p->tpgt = pol->tpgt;
		p->tpgt_known = true;
	}
	/* the alias may come later than the tag: a target gives it only once the initiator has
	 * authenticated (when it must) */
	if (p->target_name[0] && pol->target_alias && pol->target_alias[0] &&
	    pending(n, TT_KEY_TARGET_ALIAS)) {
		rc = declare(n, TT_KEY_TARGET_ALIAS, pol->target_alias, rsp);
		if (rc)
			return rc;
	}
	if (stage != TT_STAGE_OPERATIONAL)
		return 0;

	if (p->rdma_extensions) {
		if (pending(n, TT_KEY_TARGET_RECV_DSL)) {
			rc = offer_num(n, TT_KEY_TARGET_RECV_DSL, pol->max_recv_dsl, rsp);
			if (rc)
				return rc;
		}
	} else if (!(n->sent & BIT(TT_KEY_MAX_RECV_DSL))) {
		rc = declare_num(n, TT_KEY_MAX_RECV_DSL, pol->max_recv_dsl, rsp);
		if (rc)
			return rc;
		p->max_recv_dsl = pol->max_recv_dsl;
	}
	for (size_t i = 0; i < sizeof(digest_keys) / sizeof(digest_keys[0]); i++) {
		enum tt_key_id id = digest_keys[i];
		const char *ours = policy_list(pol, id);
		if (pending(n, id) && !tt_text_list_contains(ours, "None")) {
			rc = offer_list(n, id, ours, rsp);
			if (rc)
				return rc;
		}
	}
	if (!n->leading || p->session_type != TT_SESSION_NORMAL)
		return 0;
	for (size_t i = 0; i < sizeof(session_keys) / sizeof(session_keys[0]); i++) {
		enum tt_key_id id = session_keys[i];
		uint64_t want = policy_num(pol, id);
		if (!pending(n, id))
			continue;
		if (id == TT_KEY_FIRST_BURST_LENGTH) {
			if (irrelevant(&key_table[id], p))
				continue;
			if (want > p->max_burst)
				want = p->max_burst;
		}
		if (want == current_num(p, id))
			continue;
		rc = offer_num(n, id, want, rsp);
		if (rc)
			return rc;
	}
	return 0;
}

int tt_params_finish(struct tt_negotiation *n, struct tt_params *p)
{
	n->error_key = NULL;
	for (int i = 0; i < TT_KEY__COUNT; i++) {
		if ((n->offered & BIT(i)) && !answer_optional(&key_table[i], n->offer_num[i]))
			return fail(n, key_table[i].name, TT_NEG_STATUS_INITIATOR_ERROR);
	}
	if (n->role == TT_ROLE_TARGET) {
		if (!p->initiator_name[0])
			return fail(n, "InitiatorName", TT_NEG_STATUS_MISSING_PARAM);
		if (p->session_type == TT_SESSION_NORMAL && !p->target_name[0])
			return fail(n, "TargetName", TT_NEG_STATUS_MISSING_PARAM);
	}
	if (p->first_burst > p->max_burst)
		p->first_burst = p->max_burst;
	return 0;
}

/* ---- initiator ---- */

int tt_params_offer(struct tt_negotiation *n, struct tt_params *p,
		    const struct tt_params_policy *pol, enum tt_login_stage stage,
		    struct tt_text_out *req)
{
	static const enum tt_key_id session_keys[] = {
		TT_KEY_MAX_CONNECTIONS,     TT_KEY_INITIAL_R2T,
		TT_KEY_IMMEDIATE_DATA,      TT_KEY_MAX_BURST_LENGTH,
		TT_KEY_FIRST_BURST_LENGTH,  TT_KEY_DEFAULT_TIME2WAIT,
		TT_KEY_DEFAULT_TIME2RETAIN, TT_KEY_MAX_OUTSTANDING_R2T,
		TT_KEY_DATA_PDU_IN_ORDER,   TT_KEY_DATA_SEQUENCE_IN_ORDER,
		TT_KEY_ERROR_RECOVERY_LEVEL,
	};
	bool normal = pol->session_type == TT_SESSION_NORMAL;
	int rc;

	if (stage == TT_STAGE_FULL_FEATURE)
		return 0;
	/* the names go into the first request, whatever its stage */
	if (pending(n, TT_KEY_INITIATOR_NAME)) {
		if (!pol->initiator_name || !pol->initiator_name[0])
			return -EINVAL;
		if (!normal && n->leading)
			p->session_type = TT_SESSION_DISCOVERY;
		rc = declare(n, TT_KEY_INITIATOR_NAME, pol->initiator_name, req);
		if (rc)
			return rc;
		copy_name(p->initiator_name, sizeof(p->initiator_name), pol->initiator_name);
		if (pol->initiator_alias && pol->initiator_alias[0]) {
			rc = declare(n, TT_KEY_INITIATOR_ALIAS, pol->initiator_alias, req);
			if (rc)
				return rc;
		}
		if (n->leading) {
			rc = declare(n, TT_KEY_SESSION_TYPE, normal ? "Normal" : "Discovery", req);
			if (rc)
				return rc;
		}
		if (normal) {
			if (!pol->target_name || !pol->target_name[0])
				return -EINVAL;
			rc = declare(n, TT_KEY_TARGET_NAME, pol->target_name, req);
			if (rc)
				return rc;
			copy_name(p->target_name, sizeof(p->target_name), pol->target_name);
		}
	}
	if (stage == TT_STAGE_SECURITY) {
		if (pending(n, TT_KEY_AUTH_METHOD))
			return offer_list(n, TT_KEY_AUTH_METHOD, policy_list(pol, TT_KEY_AUTH_METHOD),
					  req);
		return 0;
	}

	if (pending(n, TT_KEY_HEADER_DIGEST)) {
		rc = offer_list(n, TT_KEY_HEADER_DIGEST, policy_list(pol, TT_KEY_HEADER_DIGEST), req);
		if (rc)
			return rc;
	}
	if (pending(n, TT_KEY_DATA_DIGEST)) {
		rc = offer_list(n, TT_KEY_DATA_DIGEST, policy_list(pol, TT_KEY_DATA_DIGEST), req);
		if (rc)
			return rc;
	}
	if (n->leading && normal && pol->rdma_extensions && pending(n, TT_KEY_RDMA_EXTENSIONS)) {
		rc = offer_num(n, TT_KEY_RDMA_EXTENSIONS, 1, req);
		if (rc)
			return rc;
	}
	if (!pol->rdma_extensions && pending(n, TT_KEY_MAX_RECV_DSL)) {
		rc = declare_num(n, TT_KEY_MAX_RECV_DSL, pol->max_recv_dsl, req);
		if (rc)
			return rc;
		p->max_recv_dsl = pol->max_recv_dsl;
	}
	if (!n->leading)
		return 0;
	for (size_t i = 0; i < sizeof(session_keys) / sizeof(session_keys[0]); i++) {
		enum tt_key_id id = session_keys[i];
		uint64_t v = policy_num(pol, id);
		if (!pending(n, id) || (!normal && !key_table[id].discovery))
			continue;
		if (id == TT_KEY_FIRST_BURST_LENGTH && v > pol->max_burst)
			v = pol->max_burst;
		rc = offer_num(n, id, v, req);
		if (rc)
			return rc;
	}
	if (normal && pol->protocol_level != key_table[TT_KEY_PROTOCOL_LEVEL].def &&
	    pending(n, TT_KEY_PROTOCOL_LEVEL)) {
		rc = offer_num(n, TT_KEY_PROTOCOL_LEVEL, pol->protocol_level, req);
		if (rc)
			return rc;
	}
	if (normal && pol->task_reporting && strcmp(pol->task_reporting, "RFC3720") != 0 &&
	    pending(n, TT_KEY_TASK_REPORTING)) {
		rc = offer_list(n, TT_KEY_TASK_REPORTING, pol->task_reporting, req);
		if (rc)
			return rc;
	}
	return 0;
}

static int initiator_take_declaration(const struct tt_key_desc *d, const char *v,
				      struct tt_params *p)
{
	uint64_t x;

	switch (d->id) {
	case TT_KEY_TARGET_PORTAL_GROUP_TAG:
		if (parse_num(d, v, &x))
			return -EPROTO;
		p->tpgt = (uint16_t)x;
		p->tpgt_known = true;
		return 0;
	case TT_KEY_TARGET_ALIAS:
		if (strlen(v) >= sizeof(p->target_alias))
			return -EPROTO;
		memcpy(p->target_alias, v, strlen(v) + 1);
		return 0;
	case TT_KEY_MAX_RECV_DSL:
		if (parse_num(d, v, &x))
			return -EPROTO;
		p->max_xmit_dsl = (uint32_t)x;
		return 0;
	case TT_KEY_TARGET_ADDRESS:
	case TT_KEY_TARGET_NAME:
		return 0; /* redirection and discovery data: read by the caller */
	default:
		return -EPROTO;
	}
}

static int initiator_pair(struct tt_negotiation *n, struct tt_params *p,
			  const struct tt_params_policy *pol, enum tt_login_stage stage,
			  const char *key, const char *v, struct tt_text_out *req)
{
	const struct tt_key_desc *d;
	bool rejected;
	int rc;

	if (strncmp(key, "CHAP_", 5) == 0) {
		if (stage != TT_STAGE_SECURITY) {
			n->error_key = key;
			return -EPROTO;
		}
		return 0; /* chap.h */
	}
	d = tt_key_lookup(key);
	if (!d)
		return tt_text_add(req, key, TT_TEXT_NOT_UNDERSTOOD);
	n->error_key = key;
	if (n->offered & BIT(d->id)) {
		n->offered &= ~BIT(d->id);
		n->received |= BIT(d->id);
		rc = check_answer(n, d, v, pol, p);
		if (rc)
			return rc;
		n->error_key = NULL;
		return 0;
	}
	if (is_reserved(v))
		return -EPROTO;
	if ((n->received & BIT(d->id)) && d->id != TT_KEY_TARGET_ADDRESS)
		return -EPROTO;
	if ((n->sent & BIT(d->id)) && d->kind != TT_KIND_NUM_DECL &&
	    d->kind != TT_KIND_STRING_DECL)
		return -EPROTO; /* we already answered the target's offer of this key */
	n->received |= BIT(d->id);
	if (!(d->senders & TT_KEY_FROM_TARGET))
		return -EPROTO;
	n->error_key = NULL;
	switch (d->kind) {
	case TT_KIND_NUM_DECL:
	case TT_KIND_STRING_DECL:
		rc = initiator_take_declaration(d, v, p);
		if (rc)
			n->error_key = key;
		return rc;
	case TT_KIND_OBSOLETE:
		return tt_text_add(req, key, TT_TEXT_REJECT);
	default:
		/* the target's own offer: answer it with our policy */
		if (irrelevant(d, p) || (d->use == TT_USE_LO && !n->leading))
			rc = tt_text_add(req, key, TT_TEXT_IRRELEVANT);
		else
			rc = answer_offer(d, v, pol, p, req, &rejected);
		if (rc == 0)
			n->sent |= BIT(d->id);
		return rc;
	}
}

int tt_params_accept(struct tt_negotiation *n, struct tt_params *p,
		     const struct tt_params_policy *pol, enum tt_login_stage stage,
		     const struct tt_text *rsp, struct tt_text_out *req)
{
	size_t count = tt_text_count(rsp);
	int rc;

	n->error_key = NULL;
	for (int pass = 0; pass < 3; pass++) {
		for (size_t i = 0; i < count; i++) {
			struct tt_text_pair kv = tt_text_get(rsp, i);
			if (pass_of(kv.key) != pass)
				continue;
			rc = initiator_pair(n, p, pol, stage, kv.key, kv.value, req);
			if (rc)
				return rc;
		}
	}
	n->steps++;
	return 0;
}
