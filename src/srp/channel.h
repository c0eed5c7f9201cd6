/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The SRP channel's lifecycle, its references counted per holder and its credits (request
 * limit). No verbs here: the rules are unit tested on any host; the target port drives them.
 *
 * Lifecycle (enum tt_srp_ch_state; tt_srp_ch_set_state() is the only writer):
 *
 *   CONNECTING --login accepted, connection established--> LIVE
 *   CONNECTING --login rejected, peer gone--> DISCONNECTING
 *   LIVE --SRP_I_LOGOUT, SRP_T_LOGOUT sent, CM disconnect, transport error--> DISCONNECTING
 *   DISCONNECTING --disconnect issued, queue pair drained (flush starts)--> DRAINING
 *   DRAINING --every posted work request completed or flushed, no SCSI task held--> DISCONNECTED
 *
 * DISCONNECTED is final; the channel is freed when it is DISCONNECTED and the last reference of
 * every holder is put. SRP_CMD and SRP_TSK_MGMT are accepted in LIVE only.
 *
 * References (enum tt_srp_ch_ref): the port's channel list (OWNER), the RDMA connection until
 * its close (CM), each posted receive, send, RDMA READ and RDMA WRITE, and each SCSI task or task
 * management function in the SCSI core.
 *
 * Credits: the login grants req_lim; each SRP_CMD and SRP_TSK_MGMT spends one; a credit comes
 * back when the request is answered (or ends without an answer: aborted, the channel going),
 * and travels to the initiator in the REQUEST LIMIT DELTA of that answer or of the next SRP_RSP
 * or SRP_CRED_REQ. So the requests in the target never exceed req_lim. held + in use + to
 * return is always the request limit.
 */
#ifndef TT_SRP_CHANNEL_H
#define TT_SRP_CHANNEL_H

#include <stdbool.h>
#include <stdint.h>

enum tt_srp_ch_state {
	TT_SRP_CH_CONNECTING,
	TT_SRP_CH_LIVE,
	TT_SRP_CH_DISCONNECTING,
	TT_SRP_CH_DRAINING,
	TT_SRP_CH_DISCONNECTED,
	TT_SRP_CH_STATE_COUNT
};

enum tt_srp_ch_ref {
	TT_SRP_REF_OWNER,
	TT_SRP_REF_CM,
	TT_SRP_REF_RECV,
	TT_SRP_REF_SEND,
	TT_SRP_REF_RDMA_READ,
	TT_SRP_REF_RDMA_WRITE,
	TT_SRP_REF_TASK,
	TT_SRP_REF_TMF,
	TT_SRP_REF_COUNT
};

struct tt_srp_ch_life {
	enum tt_srp_ch_state state;
	uint32_t n[TT_SRP_REF_COUNT];
	bool underflow; /* a put without its get happened: a bug, reported by the owner */
};

const char *tt_srp_ch_state_name(enum tt_srp_ch_state s);
const char *tt_srp_ch_ref_name(enum tt_srp_ch_ref r);
bool tt_srp_ch_transition_ok(enum tt_srp_ch_state from, enum tt_srp_ch_state to);

void tt_srp_ch_life_init(struct tt_srp_ch_life *l);
/* 0; -EINVAL for an edge the table does not have; -EBUSY for DRAINING -> DISCONNECTED while a
 * work request is posted or a SCSI task is held. */
int tt_srp_ch_set_state(struct tt_srp_ch_life *l, enum tt_srp_ch_state to);

void tt_srp_ch_get(struct tt_srp_ch_life *l, enum tt_srp_ch_ref r);
/* true when the channel may now be freed: DISCONNECTED and no reference left. */
bool tt_srp_ch_put(struct tt_srp_ch_life *l, enum tt_srp_ch_ref r);
/* Posted work requests and SCSI tasks: what DRAINING waits for. */
uint32_t tt_srp_ch_busy(const struct tt_srp_ch_life *l);
bool tt_srp_ch_may_free(const struct tt_srp_ch_life *l);

struct tt_srp_credits {
	uint32_t limit;     /* granted at login */
	uint32_t held;      /* the initiator may send this many requests */
	uint32_t in_use;    /* requests received and not yet answered or ended */
	uint32_t to_return; /* freed, not yet sent back in a REQUEST LIMIT DELTA */
};

void tt_srp_credits_init(struct tt_srp_credits *c, uint32_t limit);
/* A request arrived: 0, or -EPROTO when the initiator had no credit (it overran the limit). */
int tt_srp_credit_take(struct tt_srp_credits *c);
/* The request is answered or ended. -EINVAL when nothing was in use. */
int tt_srp_credit_release(struct tt_srp_credits *c);
/* The REQUEST LIMIT DELTA for the IU being sent: every credit freed since the last one. */
uint32_t tt_srp_credit_grant(struct tt_srp_credits *c);

#endif
