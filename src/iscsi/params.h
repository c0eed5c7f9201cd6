/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Login/text parameter negotiation (RFC 7143 §6.2, §12, §13; iSER keys of
 * RFC 7145; iSCSIProtocolLevel of RFC 7144).  One table row per key; both sides
 * use it: the target answers the initiator's offers (tt_params_respond), the
 * initiator offers (tt_params_offer) and checks the answers (tt_params_accept).
 * Authentication keys (CHAP_*) are left to chap.h.
 */
#ifndef TT_ISCSI_PARAMS_H
#define TT_ISCSI_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iscsi/text.h"

enum tt_key_id {
	TT_KEY_HEADER_DIGEST,
	TT_KEY_DATA_DIGEST,
	TT_KEY_MAX_CONNECTIONS,
	TT_KEY_SEND_TARGETS,
	TT_KEY_TARGET_NAME,
	TT_KEY_INITIATOR_NAME,
	TT_KEY_TARGET_ALIAS,
	TT_KEY_INITIATOR_ALIAS,
	TT_KEY_TARGET_ADDRESS,
	TT_KEY_TARGET_PORTAL_GROUP_TAG,
	TT_KEY_INITIAL_R2T,
	TT_KEY_IMMEDIATE_DATA,
	TT_KEY_MAX_RECV_DSL,
	TT_KEY_MAX_BURST_LENGTH,
	TT_KEY_FIRST_BURST_LENGTH,
	TT_KEY_DEFAULT_TIME2WAIT,
	TT_KEY_DEFAULT_TIME2RETAIN,
	TT_KEY_MAX_OUTSTANDING_R2T,
	TT_KEY_DATA_PDU_IN_ORDER,
	TT_KEY_DATA_SEQUENCE_IN_ORDER,
	TT_KEY_ERROR_RECOVERY_LEVEL,
	TT_KEY_SESSION_TYPE,
	TT_KEY_AUTH_METHOD,
	TT_KEY_RDMA_EXTENSIONS,
	TT_KEY_TARGET_RECV_DSL,
	TT_KEY_INITIATOR_RECV_DSL,
	TT_KEY_MAX_OUTSTANDING_UNEXPECTED_PDUS,
	TT_KEY_TASK_REPORTING,
	TT_KEY_PROTOCOL_LEVEL,
	/* RFC 3720 markers, obsoleted by RFC 7143: IFMarker/OFMarker are answered
	 * No, IFMarkInt/OFMarkInt Reject. */
	TT_KEY_OF_MARKER,
	TT_KEY_IF_MARKER,
	TT_KEY_OF_MARK_INT,
	TT_KEY_IF_MARK_INT,
	TT_KEY__COUNT
};
_Static_assert(TT_KEY__COUNT <= 64, "key sets are 64-bit masks");

enum tt_key_kind {
	TT_KIND_BOOL_AND,     /* result = offer AND answer */
	TT_KIND_BOOL_OR,      /* result = offer OR answer */
	TT_KIND_NUM_MIN,      /* result = min(offer, answer) */
	TT_KIND_NUM_MAX,      /* result = max(offer, answer) */
	TT_KIND_NUM_DECL,     /* numerical declaration, no answer */
	TT_KIND_LIST,         /* answer = first value of the offer's list the responder accepts */
	TT_KIND_STRING_DECL,  /* string declaration, no answer */
	TT_KIND_OBSOLETE,     /* markers, obsoleted by RFC 7143 */
};

/* Who may send a key (bit mask). */
#define TT_KEY_FROM_INITIATOR 1u
#define TT_KEY_FROM_TARGET 2u
#define TT_KEY_FROM_BOTH 3u

enum tt_key_use {
	TT_USE_LO,    /* leading login only */
	TT_USE_IO,    /* any login (initialize only) */
	TT_USE_ALL,   /* login and full feature phase */
	TT_USE_FFPO,  /* full feature phase only (SendTargets) */
	TT_USE_SEC,   /* security stage of a login only (AuthMethod) */
};

enum tt_key_scope {
	TT_SCOPE_SESSION,
	TT_SCOPE_CONNECTION,
};

struct tt_key_desc {
	const char *name;
	enum tt_key_id id;
	enum tt_key_kind kind;
	uint64_t def;          /* RFC default for numbers and booleans (1 = Yes) */
	const char *def_str;   /* RFC default for lists and strings, or NULL */
	uint64_t min, max;     /* range of numerical values */
	unsigned senders;      /* TT_KEY_FROM_* */
	enum tt_key_use use;
	enum tt_key_scope scope;
	bool discovery;        /* relevant in a discovery session */
	bool any_stage;        /* allowed in the security stage too */
};

/* Table access. NULL when the key is not one of ours. */
const struct tt_key_desc *tt_key_lookup(const char *name);
const struct tt_key_desc *tt_key_get(enum tt_key_id id);

enum tt_session_type {
	TT_SESSION_NORMAL,
	TT_SESSION_DISCOVERY,
};

enum tt_auth_method {
	TT_AUTH_NONE,
	TT_AUTH_CHAP,
};

/* TaskReporting results (RFC 7143 §13.23). */
enum tt_task_reporting {
	TT_TASK_REPORTING_RFC3720,
	TT_TASK_REPORTING_RESPONSE_FENCE,
	TT_TASK_REPORTING_FAST_ABORT,
};

#define TT_ISCSI_NAME_MAX 223   /* RFC 7143 §4.2.7.1 */
#define TT_ISCSI_ALIAS_MAX 255

/* Values in effect for a session and one of its connections. */
struct tt_params {
	/* connection */
	bool header_digest;
	bool data_digest;
	uint32_t max_recv_dsl;   /* we declared it: the peer sends us at most this */
	uint32_t max_xmit_dsl;   /* the peer declared it: we send at most this */
	/* session */
	uint32_t max_burst;
	uint32_t first_burst;
	bool initial_r2t;
	bool immediate_data;
	uint32_t max_outstanding_r2t;
	bool data_pdu_in_order;
	bool data_seq_in_order;
	uint8_t erl;
	uint16_t time2wait;
	uint16_t time2retain;
	uint16_t max_connections;
	enum tt_session_type session_type;
	enum tt_auth_method auth_method;
	enum tt_task_reporting task_reporting;
	uint8_t protocol_level;
	uint16_t tpgt;
	bool tpgt_known;
	/* iSER (RFC 7145) */
	bool rdma_extensions;
	uint32_t target_recv_dsl;
	uint32_t initiator_recv_dsl;
	uint32_t max_outstanding_unexpected_pdus;
	/* names ("" when not sent) */
	char initiator_name[TT_ISCSI_NAME_MAX + 1];
	char target_name[TT_ISCSI_NAME_MAX + 1];
	char initiator_alias[TT_ISCSI_ALIAS_MAX + 1];
	char target_alias[TT_ISCSI_ALIAS_MAX + 1];
};

/* RFC defaults; max_recv_dsl/max_xmit_dsl = 8192. */
void tt_params_init(struct tt_params *p);

/* What one side accepts and prefers. Both roles use it. */
struct tt_params_policy {
	const char *header_digests;    /* preference order, e.g. "CRC32C,None" */
	const char *data_digests;
	const char *auth_methods;      /* e.g. "CHAP" or "CHAP,None" or "None" */
	uint32_t max_recv_dsl;         /* what we declare we can receive */
	uint32_t max_burst;
	uint32_t first_burst;
	bool initial_r2t;
	bool immediate_data;
	uint32_t max_outstanding_r2t;
	bool data_pdu_in_order;
	bool data_seq_in_order;
	uint8_t erl_max;
	uint16_t max_connections;
	uint16_t time2wait;
	uint16_t time2retain;
	bool rdma_extensions;          /* iSER: accept/offer RDMAExtensions=Yes */
	uint32_t max_outstanding_unexpected_pdus;
	uint8_t protocol_level;        /* highest iSCSIProtocolLevel we support (1) */
	const char *task_reporting;    /* TaskReporting values we support, e.g. "RFC3720" */
	bool discovery_allowed;        /* target: accept SessionType=Discovery */
	/* target declarations */
	uint16_t tpgt;
	const char *target_alias;      /* NULL: not declared */
	/* initiator offers */
	const char *initiator_name;
	const char *initiator_alias;   /* NULL: not declared */
	const char *target_name;       /* NULL for a discovery session */
	enum tt_session_type session_type;
};

/* Our defaults: digests "None,CRC32C", auth "None", RFC values elsewhere. */
void tt_params_policy_defaults(struct tt_params_policy *pol);
/* True when the policy does not accept AuthMethod=None. */
bool tt_params_auth_required(const struct tt_params_policy *pol);

enum tt_login_stage {
	TT_STAGE_SECURITY = 0,     /* CSG values of the Login PDU */
	TT_STAGE_OPERATIONAL = 1,
	TT_STAGE_FULL_FEATURE = 3, /* Text requests */
};

enum tt_params_role {
	TT_ROLE_TARGET,
	TT_ROLE_INITIATOR,
};

/*
 * State of the negotiation of one login (one connection), or of one Text
 * negotiation in full feature phase (start a new one for each).  Key sets are
 * masks of 1ull << enum tt_key_id.
 */
struct tt_negotiation {
	enum tt_params_role role;
	bool leading;              /* leading login of its session (TSIH was 0) */
	unsigned steps;            /* requests (target) / responses (initiator) handled */
	uint64_t received;         /* keys the peer sent */
	uint64_t sent;             /* keys we sent (offers, answers or declarations) */
	uint64_t offered;          /* keys we offered and await the answer to */
	uint64_t offer_num[TT_KEY__COUNT]; /* numerical/boolean offers awaiting answers */
	const char *error_key;     /* key that made the last call fail (for logs) */
};

void tt_negotiation_init(struct tt_negotiation *n, enum tt_params_role role, bool leading);

/*
 * Target: answer the initiator's pairs of one Login (or Text) request, once the
 * request is complete (C=0).  Appends the answers to rsp and records the
 * results in p.  Keys we do not know and X-/X# keys are answered NotUnderstood;
 * keys irrelevant to this session (discovery, iSER keys without
 * RDMAExtensions=Yes, FirstBurstLength with InitialR2T=Yes and ImmediateData=No,
 * LO keys on a non-leading login) Irrelevant; bad or out-of-range values Reject
 * (the value keeps its current value).  Answers to our own offers (made by
 * tt_params_declare) are checked, not answered.  CHAP_* keys are skipped in the
 * security stage (chap.h); SendTargets is skipped in full feature phase.
 * Returns 0, a positive TT_NEG_STATUS_* when the login must fail with that
 * status: INITIATOR_ERROR (a key sent twice, a key not allowed in this stage or
 * from an initiator, a reserved word offered as a value, a digest list without a
 * value the policy accepts), MISSING_PARAM (no InitiatorName, or no TargetName
 * for a normal session, in the first request), SESSION_TYPE (unknown, or
 * Discovery not allowed), AUTH_FAILED (no AuthMethod in common); or a negative
 * errno (-ENOMEM, -EMSGSIZE from rsp).  n->error_key names the key (it points
 * into req or is a literal).
 */
int tt_params_respond(struct tt_negotiation *n, struct tt_params *p,
		      const struct tt_params_policy *pol, enum tt_login_stage stage,
		      const struct tt_text *req, struct tt_text_out *rsp);

/*
 * Target: add what the target owes and has not sent yet: TargetPortalGroupTag
 * (and TargetAlias if configured) in the first response once TargetName is
 * known (RFC 7143 §6.3.1), MaxRecvDataSegmentLength in the operational stage
 * (TargetRecvDataSegmentLength instead with iSER), and, on a leading login of
 * a normal session, offers of the session keys whose policy value differs from
 * the RFC default and that the initiator did not offer (and the digests when
 * the policy refuses None).  When it made offers, tt_params_offers_answered()
 * is false until the initiator answers: the response must then not carry T=1.
 * Call after tt_params_respond() for each response.  Returns 0 or -errno.
 */
int tt_params_declare(struct tt_negotiation *n, struct tt_params *p,
		      const struct tt_params_policy *pol, enum tt_login_stage stage,
		      struct tt_text_out *rsp);

/*
 * Either side, before moving to full feature phase: settle dependent values
 * (FirstBurstLength <= MaxBurstLength) and check that the login is complete:
 * every offer answered (TT_NEG_STATUS_INITIATOR_ERROR), and on the target
 * InitiatorName and, for a normal session, TargetName known
 * (TT_NEG_STATUS_MISSING_PARAM).  Returns 0 or a positive TT_NEG_STATUS_*.
 */
int tt_params_finish(struct tt_negotiation *n, struct tt_params *p);

/*
 * Initiator: offer our keys for this stage that we have not sent yet (security:
 * InitiatorName, InitiatorAlias, SessionType, TargetName, AuthMethod;
 * operational: digests, MaxRecvDataSegmentLength, and the session keys on a
 * leading login of a normal session).  Returns 0 or -errno.
 */
int tt_params_offer(struct tt_negotiation *n, struct tt_params *p,
		    const struct tt_params_policy *pol, enum tt_login_stage stage,
		    struct tt_text_out *req);

/*
 * Initiator: process the target's pairs of one response: check each answer
 * against our offer (a result outside what was offered, an answer to a key not
 * offered, a declaration sent twice are protocol errors), record the results in
 * p, and answer the target's own offers into req (may stay empty).
 * Returns 0, -EPROTO (drop the connection; n->error_key names the key),
 * -EACCES (the target rejected every AuthMethod we offered), or -ENOMEM/-EMSGSIZE.
 */
int tt_params_accept(struct tt_negotiation *n, struct tt_params *p,
		     const struct tt_params_policy *pol, enum tt_login_stage stage,
		     const struct tt_text *rsp, struct tt_text_out *req);

/* True when every key we offered has been answered (answers the RFC makes
 * optional, to an AND offered No or an OR offered Yes, are not waited for). */
bool tt_params_offers_answered(const struct tt_negotiation *n);

#endif
