/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The SRP target port (docs/srp.md): srp:// portals of a target portal group, served by an
 * rdma_cm listener of the shared listener. A login arrives in the CM connect private data; the
 * port it names (identifier extension and I/O controller GUID, src/srp/ident.h) picks the TPG
 * among those with a portal on the listener; SRP_LOGIN_RSP goes back in the accept private
 * data, SRP_LOGIN_REJ in the reject private data. Each channel is an I_T nexus of the SCSI core
 * with the initiator port identifier as its name, on one loop: SRP_CMD runs through
 * tt_scsi_exec with the data moved by RDMA READ (writes) and RDMA WRITE (reads) over the
 * initiator's descriptors, then SRP_RSP as a SEND; SRP_TSK_MGMT marks the channel's tasks
 * aborted and answers once they are out of the core; SRP_I_LOGOUT takes the channel down.
 *
 * The channel's lifecycle, references and credits are src/srp/channel.h's: the memory (it
 * embeds the RDMA connection) goes when the RDMA layer says freed, which is after the channel
 * is DISCONNECTED: every work request back and no task left in the SCSI core.
 */
#include "target/srp_port.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/loop.h"
#include "target/internal.h"
#include "target/model.h"
#include "xport/xport.h"

#ifdef TT_HAVE_RDMA
#include "rdma/rdma.h"
#include "srp/channel.h"
#include "srp/ident.h"
#include "srp/iu.h"

#define SRP_REQ_LIM    32            /* credits granted at login */
#define SRP_MAX_DESC   16            /* descriptors per direction */
#define SRP_MAX_IT_IU  (8192 + 512)  /* immediate data of 8 KiB and the command before it */
#define SRP_TX_LEN     256           /* SRP_RSP with sense data, SRP_T_LOGOUT */
#define SRP_TX_DEPTH   (SRP_REQ_LIM + 8)
#define SRP_SQ_DEPTH   (SRP_REQ_LIM * (SRP_MAX_DESC + 1) + 16)
#define SRP_MAX_XFER   TT_SCSI_MAX_XFER_DEFAULT

struct srp_ch;

struct srp_rx {
	struct tt_rdma_wr wr;
	struct srp_ch *ch;
	uint8_t *buf;
};

struct srp_tx {
	struct tt_rdma_wr wr;
	struct tt_list node;          /* ch->tx_free */
	struct srp_ch *ch;
	uint8_t *buf;
	bool then_down;               /* an SRP_T_LOGOUT: the channel goes once it is sent */
};

struct srp_tmf;

enum srp_task_phase {
	SRP_TASK_FETCH,               /* RDMA READs of write data posted */
	SRP_TASK_CORE,                /* in tt_scsi_exec */
	SRP_TASK_REPLY,               /* RDMA WRITEs of read data posted, SRP_RSP sent */
};

struct srp_task {
	struct tt_scsi_task st;
	struct tt_list node;          /* ch->tasks */
	struct srp_ch *ch;
	enum srp_task_phase phase;
	uint64_t tag;
	uint8_t sol_not;
	bool write;
	bool aborted;
	int rdma_err;
	uint32_t ndesc;
	struct tt_srp_desc desc[SRP_MAX_DESC];
	struct srp_rdma_op {
		struct tt_rdma_wr wr;
		struct srp_task *t;
	} rdma_op[SRP_MAX_DESC];
	uint32_t rdma_pending;
	uint8_t *buf;
	size_t cap;
	struct srp_tmf *tmf;          /* a task management function waits for it */
	bool credit;                  /* holds its request's credit until answered or freed */
};

struct srp_tmf {
	struct srp_ch *ch;
	uint64_t tag;
	uint8_t sol_not;
	uint32_t waiting;             /* aborted tasks still in the core */
	bool credit;                  /* holds its request's credit until answered */
};

struct srp_ch {
	struct tt_rdma_conn rc;       /* the RDMA connection; freed with it */
	struct tt_srp_ch_life life;
	struct tt_srp_credits cred;
	struct tt_nexus nexus;
	struct tt_target *target;
	struct tt_tpg *tpg;
	struct tt_listener *listener;
	struct tt_lun **luns;
	uint64_t *lun_ids;
	unsigned nluns;
	struct tt_rdma_request req;
	struct tt_srp_login_rsp login;
	struct tt_srp_cmd_limits cmd_lim;
	uint8_t *rx_ring, *tx_ring;
	size_t rx_cap, tx_cap;
	struct srp_rx rx[SRP_REQ_LIM];
	struct srp_tx tx[SRP_TX_DEPTH];
	struct tt_list tx_free;
	struct tt_list tasks;
	bool rx_credit;               /* the request being parsed holds a credit no task took yet */
	struct tt_list reg_node;      /* in chs, from the hand-over until freed */
	uint16_t tpgt;                /* the TPG's tag at login */
	uint8_t tport_id[16];         /* the target port identifier logged in to */
	uint64_t id;
	char peer[80];
};

/*
 * Every channel from its hand-over to its loop until it is freed: what PREEMPT AND ABORT and
 * LOGICAL UNIT RESET look nexuses up in, and what the control socket lists. A channel is freed
 * on its own loop only, so a message run on that loop that still finds it here may use it.
 */
static pthread_mutex_t chs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tt_list chs = TT_LIST_INIT(chs);

static uint64_t ch_ids = 1ull << 44; /* apart from the TCP and iSER connections' ids */

static unsigned long long chid(const struct srp_ch *ch)
{
	return (unsigned long long)ch->id;
}

static int srp_abort_nexus(struct tt_lun *lun, uint64_t nexus_id);

static const struct tt_scsi_frontend tt_srp_scsi_fe = {
	.name = "srp",
	.proto = &tt_scsi_proto_srp,
	.abort_nexus = srp_abort_nexus,
	.alua_changed = tt_scsi_fe_no_alua_changed,
	.pr_notice = tt_scsi_fe_no_pr_notice,
};

/* ---- tasks of other nexuses (PREEMPT AND ABORT, LOGICAL UNIT RESET) ---- */

/* The channel with id @id, or NULL when it is gone. */
static struct srp_ch *ch_lookup(uint64_t id)
{
	struct srp_ch *ch = NULL;
	struct tt_list *n;

	pthread_mutex_lock(&chs_lock);
	tt_list_for_each(n, &chs) {
		struct srp_ch *c = tt_list_entry(n, struct srp_ch, reg_node);

		if (c->id == id) {
			ch = c;
			break;
		}
	}
	pthread_mutex_unlock(&chs_lock);
	return ch;
}

struct srp_abort_msg {
	uint64_t ch_id;
	struct tt_lun *lun;           /* a reference */
};

/* On @ch's loop: its tasks on @lun not yet answering are aborted (they get no SRP_RSP). */
static unsigned ch_abort_lun(struct srp_ch *ch, struct tt_lun *lun)
{
	struct tt_list *n;
	unsigned k = 0;

	tt_list_for_each(n, &ch->tasks) {
		struct srp_task *t = tt_list_entry(n, struct srp_task, node);

		if (t->st.lun != lun || t->phase == SRP_TASK_REPLY || t->aborted)
			continue;
		t->aborted = true;
		t->st.aborted = true;
		k++;
	}
	return k;
}

static void abort_msg_run(void *arg)
{
	struct srp_abort_msg *m = arg;
	struct srp_ch *ch = ch_lookup(m->ch_id);

	if (ch) {
		unsigned k = ch_abort_lun(ch, m->lun);
		unsigned long long id = 0;

		for (unsigned i = 0; i < ch->nluns; i++)
			if (ch->luns[i] == m->lun)
				id = ch->lun_ids[i];
		if (k)
			tt_info("srp", "channel %llu %s: %u task%s on LUN %llu aborted by another nexus",
				chid(ch), ch->peer, k, k == 1 ? "" : "s", id);
	}
	tt_lun_put(m->lun);
	free(m);
}

/* Sends the abort of @lun's tasks to the loop of every channel mapping @lun whose nexus is
 * @nexus_id (0: any), @except's aside. Returns how many channels were asked. */
static int abort_lun_channels(struct tt_lun *lun, uint64_t nexus_id, const struct srp_ch *except)
{
	struct tt_list *n;
	int k = 0;

	pthread_mutex_lock(&chs_lock);
	tt_list_for_each(n, &chs) {
		struct srp_ch *c = tt_list_entry(n, struct srp_ch, reg_node);
		struct srp_abort_msg *m;
		bool maps = false;

		if (c == except || (nexus_id && c->id != nexus_id))
			continue;
		for (unsigned i = 0; i < c->nluns && !maps; i++)
			maps = c->luns[i] == lun;
		if (!maps || !(m = calloc(1, sizeof(*m))))
			continue;
		m->ch_id = c->id;
		m->lun = lun;
		tt_lun_get(lun);
		if (tt_loop_send(c->rc.loop, abort_msg_run, m) < 0) {
			tt_lun_put(lun);
			free(m);
			continue;
		}
		k++;
	}
	pthread_mutex_unlock(&chs_lock);
	return k;
}

/* PREEMPT AND ABORT: the SCSI core asks for the tasks of nexus @nexus_id on @lun to go. */
static int srp_abort_nexus(struct tt_lun *lun, uint64_t nexus_id)
{
	if (nexus_id)
		abort_lun_channels(lun, nexus_id, NULL);
	return 0;
}

void tt_srp_port_abort_lun(struct tt_lun *lun)
{
	abort_lun_channels(lun, 0, NULL);
}

/* ---- access withdrawn (ACL removed, TPG or target deleted) ---- */

struct srp_access_msg {
	uint64_t ch_id;
};

/* Whether @ch's initiator may still use its target port: the target not deleted, its TPG still
 * there and letting the initiator in. Model lock held. */
static bool ch_access_ok(const struct srp_ch *ch)
{
	struct tt_list *n;

	if (ch->target->deleted)
		return false;
	tt_list_for_each(n, &ch->target->tpgs) {
		const struct tt_tpg *g = tt_list_entry(n, struct tt_tpg, node);

		if (g->tag == ch->tpgt)
			return tt_tpg_initiator_allowed(g, ch->nexus.initiator_port);
	}
	return false;
}

static void send_t_logout(struct srp_ch *ch, uint32_t reason);

/* On the channel's loop (a channel is freed on its own loop only, so finding it here makes it
 * safe to use): a live channel whose access is gone is logged out (SRP_T_LOGOUT, then the
 * disconnect). A login of the initiator after that is refused by the same rules. */
static void access_msg_run(void *arg)
{
	struct srp_access_msg *m = arg;
	struct srp_ch *ch = ch_lookup(m->ch_id);
	bool ok;

	free(m);
	if (!ch || ch->life.state != TT_SRP_CH_LIVE)
		return;
	tt_model_lock();
	ok = ch_access_ok(ch);
	tt_model_unlock();
	if (ok)
		return;
	tt_notice("srp", "channel %llu %s: initiator port %s no longer has access to target %s tpg %u:"
		  " logging it out", chid(ch), ch->peer, ch->nexus.initiator_port, ch->target->name,
		  ch->tpgt);
	send_t_logout(ch, TT_SRP_TLO_NO_REASON);
}

/* Sends @fn, with the channel's id, to the loop of every channel; returns how many there are. */
static size_t ch_broadcast(void (*fn)(void *arg))
{
	struct tt_list *n;
	size_t k = 0;

	pthread_mutex_lock(&chs_lock);
	tt_list_for_each(n, &chs) {
		struct srp_ch *c = tt_list_entry(n, struct srp_ch, reg_node);
		struct srp_access_msg *m = calloc(1, sizeof(*m));

		k++;
		if (!m)
			continue;
		m->ch_id = c->id;
		if (tt_loop_send(c->rc.loop, fn, m) < 0)
			free(m);
	}
	pthread_mutex_unlock(&chs_lock);
	return k;
}

void tt_srp_port_check_access(void)
{
	ch_broadcast(access_msg_run);
}

/* ---- shutdown ---- */

static bool srp_stopping; /* no new login from now on */

static void shutdown_msg_run(void *arg)
{
	struct srp_access_msg *m = arg;
	struct srp_ch *ch = ch_lookup(m->ch_id);

	free(m);
	if (ch && ch->life.state == TT_SRP_CH_LIVE)
		send_t_logout(ch, TT_SRP_TLO_NO_REASON);
}

unsigned tt_srp_port_channels(void)
{
	unsigned k;

	pthread_mutex_lock(&chs_lock);
	k = tt_list_count(&chs);
	pthread_mutex_unlock(&chs_lock);
	return k;
}

unsigned tt_srp_port_shutdown(void)
{
	size_t k;

	__atomic_store_n(&srp_stopping, true, __ATOMIC_RELAXED);
	k = ch_broadcast(shutdown_msg_run);
	if (k)
		tt_notice("srp", "shutting down: logging %zu channel(s) out", k);
	return (unsigned)k;
}

/* ---- the control socket's listing ---- */

static void hex_id(char out[35], const uint8_t id[16])
{
	out[0] = '0';
	out[1] = 'x';
	for (unsigned i = 0; i < 16; i++)
		snprintf(out + 2 + 2 * i, 3, "%02x", id[i]);
}

int tt_srp_channels_snapshot(struct tt_srp_channel_info **out, size_t *count)
{
	struct tt_srp_channel_info *v = NULL;
	struct tt_list *n;
	size_t k = 0, cap = 0;
	int rc = 0;

	pthread_mutex_lock(&chs_lock);
	tt_list_for_each(n, &chs)
		cap++;
	if (cap && !(v = calloc(cap, sizeof(*v))))
		rc = -ENOMEM;
	tt_list_for_each(n, &chs) {
		const struct srp_ch *ch = tt_list_entry(n, struct srp_ch, reg_node);
		struct tt_srp_channel_info *i;
		const struct tt_list *tn;

		if (rc)
			break;
		i = &v[k++];
		i->id = ch->id;
		snprintf(i->initiator, sizeof(i->initiator), "0x%.32s", ch->nexus.initiator_name);
		hex_id(i->target_port, ch->tport_id);
		snprintf(i->target, sizeof(i->target), "%s", ch->target->name);
		i->tpgt = ch->tpgt;
		snprintf(i->peer, sizeof(i->peer), "%s", ch->peer);
		i->state = tt_srp_ch_state_name(ch->life.state);
		i->req_limit = ch->cred.limit;
		i->credits_held = ch->cred.held;
		i->credits_in_use = ch->cred.in_use;
		i->credits_to_return = ch->cred.to_return;
		tt_list_for_each(tn, &ch->tasks)
			i->tasks++;
		if (ch->nluns) {
			i->luns = calloc(ch->nluns, sizeof(*i->luns));
			if (!i->luns) {
				rc = -ENOMEM;
				break;
			}
			memcpy(i->luns, ch->lun_ids, ch->nluns * sizeof(*i->luns));
			i->nluns = ch->nluns;
		}
	}
	pthread_mutex_unlock(&chs_lock);
	if (rc) {
		tt_srp_channels_free(v, k);
		return rc;
	}
	*out = v;
	*count = k;
	return 0;
}

void tt_srp_channels_free(struct tt_srp_channel_info *info, size_t count)
{
	for (size_t i = 0; info && i < count; i++)
		free(info[i].luns);
	free(info);
}

/* ---- lifecycle ---- */

static void ch_set(struct srp_ch *ch, enum tt_srp_ch_state to)
{
	if (ch->life.state == to)
		return;
	if (tt_srp_ch_set_state(&ch->life, to) == 0)
		tt_debug("srp", "channel %llu %s: %s", chid(ch), ch->peer, tt_srp_ch_state_name(to));
}

static void ch_down(struct srp_ch *ch, int err, const char *why)
{
	if (ch->life.state == TT_SRP_CH_CONNECTING || ch->life.state == TT_SRP_CH_LIVE)
		ch_set(ch, TT_SRP_CH_DISCONNECTING);
	tt_rdma_conn_down(&ch->rc, err, why);
}

/* DRAINING with nothing posted and no task in the core: DISCONNECTED, the connection's upper
 * reference goes (the memory with the RDMA layer's freed). */
static void ch_maybe_finish(struct srp_ch *ch)
{
	if (ch->life.state != TT_SRP_CH_DRAINING || tt_srp_ch_busy(&ch->life))
		return;
	if (tt_srp_ch_set_state(&ch->life, TT_SRP_CH_DISCONNECTED) < 0)
		return;
	tt_debug("srp", "channel %llu %s: disconnected", chid(ch), ch->peer);
	tt_srp_ch_put(&ch->life, TT_SRP_REF_CM);
	tt_srp_ch_put(&ch->life, TT_SRP_REF_OWNER);
	tt_rdma_conn_put(&ch->rc);
}

static void ch_put(struct srp_ch *ch, enum tt_srp_ch_ref r)
{
	tt_srp_ch_put(&ch->life, r);
	if (ch->life.underflow) {
		tt_err("srp", "channel %llu %s: reference %s put without a get", chid(ch), ch->peer,
		       tt_srp_ch_ref_name(r));
		ch->life.underflow = false;
	}
	ch_maybe_finish(ch);
}

/* ---- sending ---- */

static void tx_done(struct tt_rdma_conn *c, struct tt_rdma_wr *wr, const struct ibv_wc *wc)
{
	struct srp_tx *tx = tt_container_of(wr, struct srp_tx, wr);
	struct srp_ch *ch = tx->ch;
	bool down = tx->then_down;

	(void)c;
	tx->then_down = false;
	tt_list_add(&ch->tx_free, &tx->node);
	if (wc->status != IBV_WC_SUCCESS && wc->status != IBV_WC_WR_FLUSH_ERR)
		tt_log_ratelimited(TT_LOG_NOTICE, "srp", "channel %llu %s: SEND: %s", chid(ch),
				   ch->peer, ibv_wc_status_str(wc->status));
	if (down)
		ch_down(ch, 0, "target logout sent");
	ch_put(ch, TT_SRP_REF_SEND);
}

/* A free send buffer, or NULL (the channel is then taken down: the credits bound what is sent). */
static struct srp_tx *tx_get(struct srp_ch *ch)
{
	struct tt_list *n = tt_list_pop(&ch->tx_free);

	if (!n) {
		ch_down(ch, -ENOBUFS, "no send buffer left");
		return NULL;
	}
	return tt_container_of(n, struct srp_tx, node);
}

static void tx_post(struct srp_ch *ch, struct srp_tx *tx, int len)
{
	int rc;

	if (len < 0) {
		tt_list_add(&ch->tx_free, &tx->node);
		ch_down(ch, len, "cannot encode a response");
		return;
	}
	tx->wr.done = tx_done;
	tt_srp_ch_get(&ch->life, TT_SRP_REF_SEND);
	rc = tt_rdma_post_send(&ch->rc, &tx->wr, tx->buf, (uint32_t)len,
			       tt_rdma_buf_lkey(ch->tx_ring));
	if (rc < 0) {
		tt_list_add(&ch->tx_free, &tx->node);
		ch_put(ch, TT_SRP_REF_SEND);
		ch_down(ch, rc, "cannot post a SEND");
	}
}

/* A request is answered, or ends without an answer: its credit is free again and goes back to
 * the initiator in the REQUEST LIMIT DELTA of the next SRP_RSP. Once per request: *@held says
 * whether this holder still has it. */
static void credit_back(struct srp_ch *ch, bool *held)
{
	if (!*held)
		return;
	*held = false;
	if (tt_srp_credit_release(&ch->cred) < 0)
		tt_err("srp", "channel %llu %s: credit returned twice", chid(ch), ch->peer);
}

static void send_rsp(struct srp_ch *ch, struct tt_srp_rsp *r)
{
	struct srp_tx *tx = tx_get(ch);

	if (!tx)
		return;
	credit_back(ch, &ch->rx_credit); /* an answer to the request being parsed */
	r->req_lim_delta = tt_srp_credit_grant(&ch->cred);
	tx_post(ch, tx, tt_srp_rsp_encode(r, tx->buf, SRP_TX_LEN));
}

/* SRP_T_LOGOUT: from now on nothing more is taken from the initiator (DISCONNECTING: requests
 * that still arrive are dropped, tasks in the core end without a response); the connection is
 * taken down once the logout has been sent (tx_done), so that it is not flushed unsent. */
static void send_t_logout(struct srp_ch *ch, uint32_t reason)
{
	struct srp_tx *tx;

	if (ch->life.state != TT_SRP_CH_LIVE)
		return;
	tt_log_ratelimited(TT_LOG_NOTICE, "srp", "channel %llu %s: target logout, reason %u",
			   chid(ch), ch->peer, reason);
	tx = tx_get(ch);
	if (!tx)
		return;
	ch_set(ch, TT_SRP_CH_DISCONNECTING);
	tx->then_down = true;
	tx_post(ch, tx, tt_srp_t_logout_encode(0, reason, 0, tx->buf, SRP_TX_LEN));
}

/* ---- tasks ---- */

static void tmf_task_gone(struct srp_ch *ch, struct srp_tmf *tmf);

static void task_free(struct srp_task *t)
{
	struct srp_ch *ch = t->ch;

	if (t->tmf)
		tmf_task_gone(ch, t->tmf);
	credit_back(ch, &t->credit); /* ended without an answer (aborted, channel going) */
	tt_list_del(&t->node);
	if (t->buf)
		tt_rdma_buf_put(t->buf);
	free(t);
	ch_put(ch, TT_SRP_REF_TASK);
}

/* The SRP_RSP of a task: status, residuals, sense. */
static void task_respond(struct srp_task *t)
{
	struct tt_scsi_task *st = &t->st;
	struct tt_srp_rsp r = {
		.tag = t->tag,
		.sol_not = t->sol_not,
		.status = st->status,
		.sense = st->sense_len ? st->sense : NULL,
		.sense_len = st->sense_len,
	};
	bool over = false;
	uint32_t resid = tt_scsi_task_residual(st, &over);
	int64_t v = over ? -(int64_t)resid : (int64_t)resid;

	if (t->write)
		r.out_resid = v;
	else if (st->dir_read)
		r.in_resid = v;
	credit_back(t->ch, &t->credit); /* it travels in this very response */
	send_rsp(t->ch, &r);
}

static void task_rdma_done(struct tt_rdma_conn *c, struct tt_rdma_wr *wr, const struct ibv_wc *wc);

/* RDMA over the task's descriptors for @len bytes of its buffer: READ (@write false) fetches
 * write data, WRITE sends read data. Returns the number posted, or -errno. */
static int task_rdma(struct srp_task *t, bool write, uint32_t len)
{
	struct srp_ch *ch = t->ch;
	uint32_t off = 0;
	int n = 0;

	for (uint32_t i = 0; i < t->ndesc && off < len; i++) {
		uint32_t l = t->desc[i].len < len - off ? t->desc[i].len : len - off;
		int rc;

		if (!l)
			continue;
		t->rdma_op[i].t = t;
		t->rdma_op[i].wr.done = task_rdma_done;
		tt_srp_ch_get(&ch->life, write ? TT_SRP_REF_RDMA_WRITE : TT_SRP_REF_RDMA_READ);
		rc = tt_rdma_post_rdma(&ch->rc, &t->rdma_op[i].wr, write, t->buf + off, l,
				       tt_rdma_buf_lkey(t->buf), t->desc[i].va, t->desc[i].key);
		if (rc < 0) {
			ch_put(ch, write ? TT_SRP_REF_RDMA_WRITE : TT_SRP_REF_RDMA_READ);
			ch_down(ch, rc, "cannot post an RDMA operation");
			return n ? n : rc;
		}
		t->rdma_pending++;
		off += l;
		n++;
	}
	return n;
}

static void task_exec(struct srp_task *t);

static void task_rdma_done(struct tt_rdma_conn *c, struct tt_rdma_wr *wr, const struct ibv_wc *wc)
{
	struct srp_rdma_op *op = tt_container_of(wr, struct srp_rdma_op, wr);
	struct srp_task *t = op->t;
	struct srp_ch *ch = t->ch;
	bool write = t->phase == SRP_TASK_REPLY;
	enum tt_srp_ch_ref ref = write ? TT_SRP_REF_RDMA_WRITE : TT_SRP_REF_RDMA_READ;

	(void)c;
	if (wc->status != IBV_WC_SUCCESS) {
		t->rdma_err = -EIO;
		if (wc->status != IBV_WC_WR_FLUSH_ERR)
			tt_log_ratelimited(TT_LOG_NOTICE, "srp", "channel %llu %s: RDMA %s of tag "
					   "0x%llx: %s", chid(ch), ch->peer, write ? "WRITE" : "READ",
					   (unsigned long long)t->tag, ibv_wc_status_str(wc->status));
	}
	if (--t->rdma_pending == 0) {
		if (!write && !t->rdma_err && !t->aborted && ch->life.state == TT_SRP_CH_LIVE)
			task_exec(t);
		else
			task_free(t); /* the data is fetched or sent; or the channel is going */
	}
	ch_put(ch, ref);
}

static void task_done(struct tt_scsi_task *st)
{
	struct srp_task *t = st->priv;
	struct srp_ch *ch = t->ch;
	int n;

	if (st->aborted || t->aborted || ch->life.state != TT_SRP_CH_LIVE) {
		task_free(t); /* an aborted task gets no response */
		return;
	}
	t->phase = SRP_TASK_REPLY;
	n = 0;
	if (!t->write && st->dir_read && st->data_len) {
		n = task_rdma(t, true, st->data_len);
		if (n < 0) {
			task_free(t);
			return;
		}
	}
	/* the SEND follows the WRITEs on the same queue pair: the data arrives first */
	task_respond(t);
	if (!n)
		task_free(t);
}

static void task_exec(struct srp_task *t)
{
	t->phase = SRP_TASK_CORE;
	tt_scsi_exec(&t->st);
}

static struct tt_lun *ch_lun(struct srp_ch *ch, uint64_t id)
{
	for (unsigned i = 0; i < ch->nluns; i++)
		if (ch->lun_ids[i] == id)
			return ch->luns[i];
	return NULL;
}

static void cmd_check(struct srp_ch *ch, uint64_t tag, uint8_t sol_not, uint8_t key, uint8_t asc,
		      uint8_t ascq)
{
	const struct tt_srp_fault f = { .sense_key = key, .asc = asc, .ascq = ascq };
	uint8_t sense[18];
	struct tt_srp_rsp r = {
		.tag = tag,
		.sol_not = sol_not,
		.status = TT_SAM_CHECK_CONDITION,
		.sense = sense,
	};

	r.sense_len = tt_srp_fault_sense(&f, sense);
	send_rsp(ch, &r);
}

/* An SRP_CMD in @iu (the receive buffer, reposted by the caller after this returns). */
static void rx_cmd(struct srp_ch *ch, const uint8_t *iu, uint32_t len)
{
	struct tt_srp_cmd cmd;
	struct tt_srp_fault f = { 0 };
	const struct tt_srp_data *d;
	struct srp_task *t;
	int rc;

	rc = tt_srp_cmd_parse(iu, len, &ch->cmd_lim, &cmd, &f);
	if (rc == -EPROTO) {
		tt_log_ratelimited(TT_LOG_NOTICE, "srp", "channel %llu %s: SRP_CMD: %s", chid(ch),
				   ch->peer, f.what ? f.what : "malformed");
		send_t_logout(ch, f.logout_reason);
		return;
	}
	if (rc < 0) {
		uint8_t sense[18];
		struct tt_srp_rsp r = {
			.tag = cmd.tag, .sol_not = cmd.sol_not, .status = TT_SAM_CHECK_CONDITION,
			.sense = sense,
		};

		tt_log_ratelimited(TT_LOG_NOTICE, "srp", "channel %llu %s: SRP_CMD tag 0x%llx: %s",
				   chid(ch), ch->peer, (unsigned long long)cmd.tag,
				   f.what ? f.what : "invalid");
		r.sense_len = tt_srp_fault_sense(&f, sense);
		send_rsp(ch, &r);
		return;
	}
	if (cmd.out.fmt != TT_SRP_DESC_NONE && cmd.in.fmt != TT_SRP_DESC_NONE) {
		/* bidirectional commands: none of the commands the core runs */
		cmd_check(ch, cmd.tag, cmd.sol_not, TT_SK_ILLEGAL_REQUEST, 0x24, 0);
		return;
	}
	if (cmd.cdb_len > sizeof(t->st.cdb)) {
		cmd_check(ch, cmd.tag, cmd.sol_not, TT_SK_ILLEGAL_REQUEST, 0x24, 0);
		return;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		struct tt_srp_rsp r = { .tag = cmd.tag, .sol_not = cmd.sol_not,
					.status = TT_SAM_TASK_SET_FULL };

		send_rsp(ch, &r);
		return;
	}
	t->ch = ch;
	t->credit = ch->rx_credit; /* the task answers the request from now on */
	ch->rx_credit = false;
	t->tag = cmd.tag;
	t->sol_not = cmd.sol_not;
	t->write = cmd.out.fmt != TT_SRP_DESC_NONE;
	d = t->write ? &cmd.out : &cmd.in;
	t->st.lun_id = tt_scsi_lun_decode(cmd.lun);
	t->st.lun = ch_lun(ch, t->st.lun_id);
	t->st.nexus = &ch->nexus;
	memcpy(t->st.cdb, cmd.cdb, cmd.cdb_len);
	t->st.cdb_len = (uint16_t)cmd.cdb_len;
	t->st.attr = (enum tt_task_attr)(cmd.task_attr & 7);
	t->st.tag = cmd.tag;
	t->st.dir_write = t->write;
	t->st.dir_read = cmd.in.fmt != TT_SRP_DESC_NONE;
	t->st.edtl = (uint32_t)d->total;
	t->st.done = task_done;
	t->st.priv = t;
	tt_list_init(&t->node);
	tt_list_add_tail(&ch->tasks, &t->node);
	tt_srp_ch_get(&ch->life, TT_SRP_REF_TASK);
	if (d->fmt != TT_SRP_DESC_NONE && d->fmt != TT_SRP_DESC_IMM) {
		t->ndesc = d->count < SRP_MAX_DESC ? d->count : SRP_MAX_DESC;
		for (uint32_t i = 0; i < t->ndesc; i++)
			tt_srp_data_desc(d, i, &t->desc[i]);
	}
	if (t->st.edtl) {
		t->buf = tt_rdma_buf_get(ch->rc.dev, t->st.edtl, &t->cap);
		if (!t->buf) {
			t->phase = SRP_TASK_REPLY;
			t->st.status = TT_SAM_TASK_SET_FULL;
			task_respond(t);
			task_free(t);
			return;
		}
		t->st.buf = t->buf;
	}
	if (t->write && d->fmt == TT_SRP_DESC_IMM) {
		if (t->st.edtl)
			memcpy(t->buf, d->imm, t->st.edtl);
	} else if (t->write && t->st.edtl) {
		t->phase = SRP_TASK_FETCH;
		rc = task_rdma(t, false, t->st.edtl);
		if (rc <= 0) {
			if (rc == 0)
				ch_down(ch, -EPROTO, "write without data descriptors");
			if (!t->rdma_pending)
				task_free(t);
		}
		return;
	}
	task_exec(t);
}

/* ---- task management ---- */

static void tmf_respond(struct srp_ch *ch, struct srp_tmf *tmf, uint8_t code)
{
	struct tt_srp_rsp r = {
		.tag = tmf->tag,
		.sol_not = tmf->sol_not,
		.has_rsp_code = true,
		.rsp_code = code,
	};

	credit_back(ch, &tmf->credit);
	if (ch->life.state == TT_SRP_CH_LIVE)
		send_rsp(ch, &r);
	free(tmf);
	ch_put(ch, TT_SRP_REF_TMF);
}

static void tmf_task_gone(struct srp_ch *ch, struct srp_tmf *tmf)
{
	if (--tmf->waiting == 0)
		tmf_respond(ch, tmf, TT_SRP_TMR_COMPLETE);
}

static void rx_tsk_mgmt(struct srp_ch *ch, const uint8_t *iu, uint32_t len)
{
	struct tt_srp_tsk_mgmt tm;
	struct srp_tmf *tmf;
	struct tt_lun *lun;
	struct tt_list *n;
	uint64_t lun_id;

	if (tt_srp_tsk_mgmt_parse(iu, len, &tm) < 0) {
		send_t_logout(ch, TT_SRP_TLO_INVALID_IU_LEN);
		return;
	}
	tmf = calloc(1, sizeof(*tmf));
	if (!tmf) {
		struct tt_srp_rsp r = { .tag = tm.tag, .sol_not = tm.sol_not, .has_rsp_code = true,
					.rsp_code = TT_SRP_TMR_FAILED };

		send_rsp(ch, &r);
		return;
	}
	tmf->ch = ch;
	tmf->credit = ch->rx_credit;
	ch->rx_credit = false;
	tmf->tag = tm.tag;
	tmf->sol_not = tm.sol_not;
	tmf->waiting = 1; /* this function's own, dropped below */
	tt_srp_ch_get(&ch->life, TT_SRP_REF_TMF);
	lun_id = tt_scsi_lun_decode(tm.lun);
	lun = ch_lun(ch, lun_id);
	tt_info("srp", "channel %llu %s: task management function 0x%02x, LUN %llu, task 0x%llx",
		chid(ch), ch->peer, tm.func, (unsigned long long)lun_id,
		(unsigned long long)tm.task_tag);
	switch (tm.func) {
	case TT_SRP_TSK_ABORT_TASK:
	case TT_SRP_TSK_ABORT_TASK_SET:
	case TT_SRP_TSK_CLEAR_TASK_SET:
	case TT_SRP_TSK_LUN_RESET:
		if (!lun) {
			tmf->waiting = 0;
			tmf_respond(ch, tmf, TT_SRP_TMR_INVALID_FIELD);
			return;
		}
		tt_list_for_each(n, &ch->tasks) {
			struct srp_task *t = tt_list_entry(n, struct srp_task, node);

			if (t->st.lun_id != lun_id || t->phase == SRP_TASK_REPLY || t->tmf)
				continue;
			if (tm.func == TT_SRP_TSK_ABORT_TASK && t->tag != tm.task_tag)
				continue;
			t->aborted = true;
			t->st.aborted = true;
			t->tmf = tmf;
			tmf->waiting++;
		}
		if (tm.func == TT_SRP_TSK_LUN_RESET) {
			/* a reset ends every nexus's tasks on the LUN, SPC-2 reservations, and
			 * tells the others: the other channels', the iSCSI sessions' */
			abort_lun_channels(lun, 0, ch);
			tt_tmf_abort_lun(lun);
			tt_lun_pr_reset(lun);
			tt_lun_ua_raise(lun, TT_UA_LUN_RESET, NULL);
		}
		tmf_task_gone(ch, tmf);
		return;
	default:
		tmf->waiting = 0;
		tmf_respond(ch, tmf, TT_SRP_TMR_NOT_SUPPORTED);
		return;
	}
}

/* ---- receiving ---- */

static void rx_done(struct tt_rdma_conn *c, struct tt_rdma_wr *wr, const struct ibv_wc *wc);

static void rx_post(struct srp_ch *ch, struct srp_rx *rx)
{
	int rc;

	rx->wr.done = rx_done;
	tt_srp_ch_get(&ch->life, TT_SRP_REF_RECV);
	rc = tt_rdma_post_recv(&ch->rc, &rx->wr, rx->buf, SRP_MAX_IT_IU,
			       tt_rdma_buf_lkey(ch->rx_ring));
	if (rc < 0) {
		ch_put(ch, TT_SRP_REF_RECV);
		if (rc != -ENOTCONN)
			ch_down(ch, rc, "cannot post a receive");
	}
}

static void rx_done(struct tt_rdma_conn *c, struct tt_rdma_wr *wr, const struct ibv_wc *wc)
{
	struct srp_rx *rx = tt_container_of(wr, struct srp_rx, wr);
	struct srp_ch *ch = rx->ch;
	int type;

	(void)c;
	if (wc->status != IBV_WC_SUCCESS || ch->life.state != TT_SRP_CH_LIVE) {
		ch_put(ch, TT_SRP_REF_RECV);
		return;
	}
	type = tt_srp_iu_type(rx->buf, wc->byte_len);
	switch (type) {
	case TT_SRP_CMD:
	case TT_SRP_TSK_MGMT:
		if (tt_srp_credit_take(&ch->cred) < 0) {
			tt_log_ratelimited(TT_LOG_NOTICE, "srp", "channel %llu %s: request beyond the "
					   "request limit", chid(ch), ch->peer);
			ch_down(ch, -EPROTO, NULL);
			break;
		}
		ch->rx_credit = true;
		if (type == TT_SRP_CMD)
			rx_cmd(ch, rx->buf, wc->byte_len);
		else
			rx_tsk_mgmt(ch, rx->buf, wc->byte_len);
		/* not answered and no task took it (a target logout, the channel going) */
		credit_back(ch, &ch->rx_credit);
		break;
	case TT_SRP_I_LOGOUT:
		tt_info("srp", "channel %llu %s: initiator logout", chid(ch), ch->peer);
		ch_down(ch, 0, NULL);
		break;
	case TT_SRP_CRED_RSP:
	case TT_SRP_AER_RSP:
		break;
	default:
		tt_log_ratelimited(TT_LOG_NOTICE, "srp", "channel %llu %s: unexpected IU type %d (%s)",
				   chid(ch), ch->peer, type, tt_srp_iu_name(type));
		send_t_logout(ch, TT_SRP_TLO_INVALID_IU_TYPE);
		break;
	}
	/* the buffer's content was copied out: it takes the next request. The request's credit
	 * stays with its task until the answer: requests in the target never exceed the limit,
	 * so every answer finds a send buffer */
	if (ch->life.state == TT_SRP_CH_LIVE)
		rx_post(ch, rx);
	ch_put(ch, TT_SRP_REF_RECV);
}

/* ---- the RDMA connection ---- */

static void ch_unmap(struct srp_ch *ch)
{
	for (unsigned i = 0; i < ch->nluns; i++) {
		tt_lun_nexus_del(ch->luns[i], &ch->nexus);
		tt_lun_put(ch->luns[i]);
	}
	free(ch->luns);
	free(ch->lun_ids);
	ch->luns = NULL;
	ch->nluns = 0;
}

static void srp_rdma_closed(struct tt_rdma_conn *c, int err)
{
	struct srp_ch *ch = tt_container_of(c, struct srp_ch, rc);

	tt_info("srp", "channel %llu %s: closed%s%s", chid(ch), ch->peer, err ? ": " : "",
		err ? strerror(-err) : "");
	if (ch->life.state == TT_SRP_CH_CONNECTING || ch->life.state == TT_SRP_CH_LIVE)
		ch_set(ch, TT_SRP_CH_DISCONNECTING);
	ch_set(ch, TT_SRP_CH_DRAINING);
	ch_maybe_finish(ch);
}

static void srp_rdma_established(struct tt_rdma_conn *c)
{
	struct srp_ch *ch = tt_container_of(c, struct srp_ch, rc);

	tt_debug("srp", "channel %llu %s: established", chid(ch), ch->peer);
}

static void srp_rdma_freed(struct tt_rdma_conn *c)
{
	struct srp_ch *ch = tt_container_of(c, struct srp_ch, rc);

	if (!tt_srp_ch_may_free(&ch->life))
		tt_err("srp", "channel %llu %s: freed while %s", chid(ch), ch->peer,
		       tt_srp_ch_state_name(ch->life.state));
	pthread_mutex_lock(&chs_lock);
	tt_list_del(&ch->reg_node);
	pthread_mutex_unlock(&chs_lock);
	ch_unmap(ch);
	if (ch->rx_ring)
		tt_rdma_buf_put(ch->rx_ring);
	if (ch->tx_ring)
		tt_rdma_buf_put(ch->tx_ring);
	if (ch->target)
		tt_target_put(ch->target);
	if (ch->listener)
		tt_listener_put(ch->listener);
	tt_debug("srp", "channel %llu %s: freed", chid(ch), ch->peer);
	free(ch);
}

static const struct tt_rdma_conn_ops srp_rdma_ops = {
	.closed = srp_rdma_closed,
	.established = srp_rdma_established,
	.freed = srp_rdma_freed,
};

static int ch_list_luns(const struct tt_nexus *nexus, uint64_t *ids, int max)
{
	const struct srp_ch *ch = nexus->owner;

	for (unsigned i = 0; i < ch->nluns && (int)i < max; i++)
		ids[i] = ch->lun_ids[i];
	return (int)ch->nluns;
}

/* On the channel's loop: QP, rings, receives posted, then the accept with SRP_LOGIN_RSP. */
static void srp_ch_handoff(void *arg)
{
	struct srp_ch *ch = arg;
	struct ibv_device_attr da;
	struct tt_rdma_conn_params p = {
		.sq_depth = SRP_SQ_DEPTH,
		.rq_depth = SRP_REQ_LIM,
		.max_sge = 1,
	};
	uint8_t rsp[TT_SRP_LOGIN_RSP_LEN];
	int rc;

	if (ibv_query_device(ch->rc.id->verbs, &da) == 0) {
		/* the target issues the RDMA READs: without an initiator depth none would go out.
		 * The request's depths are already from this side's point of view (rdma.h): its
		 * initiator_depth is the initiator's responder resources. An initiator announcing
		 * none gets the device's: its QP takes what the accept says. */
		unsigned want = ch->req.initiator_depth ? ch->req.initiator_depth : 16;

		p.initiator_depth = (uint8_t)(want < (unsigned)da.max_qp_init_rd_atom ?
					      want : (unsigned)da.max_qp_init_rd_atom);
		p.responder_resources = (uint8_t)(ch->req.responder_resources < da.max_qp_rd_atom ?
						  ch->req.responder_resources : da.max_qp_rd_atom);
	}
	tt_debug("srp", "channel %llu %s: RDMA READs the initiator serves %u, it may issue %u; "
		 "ours: initiator depth %u", chid(ch), ch->peer, ch->req.initiator_depth,
		 ch->req.responder_resources, p.initiator_depth);
	rc = tt_rdma_conn_setup(&ch->rc, &p);
	if (rc == 0) {
		ch->rx_ring = tt_rdma_buf_get(ch->rc.dev, (size_t)SRP_MAX_IT_IU * SRP_REQ_LIM,
					      &ch->rx_cap);
		ch->tx_ring = tt_rdma_buf_get(ch->rc.dev, (size_t)SRP_TX_LEN * SRP_TX_DEPTH,
					      &ch->tx_cap);
		if (!ch->rx_ring || !ch->tx_ring)
			rc = -ENOMEM;
	}
	if (rc < 0) {
		tt_log_ratelimited(TT_LOG_WARN, "srp", "channel %llu %s: login refused: %s", chid(ch),
				   ch->peer, strerror(-rc));
		goto refuse;
	}
	for (unsigned i = 0; i < SRP_TX_DEPTH; i++) {
		ch->tx[i].ch = ch;
		ch->tx[i].buf = ch->tx_ring + (size_t)i * SRP_TX_LEN;
		tt_list_add_tail(&ch->tx_free, &ch->tx[i].node);
	}
	/* LIVE once the login is accepted: the initiator may send before ESTABLISHED reaches us */
	ch_set(ch, TT_SRP_CH_LIVE);
	for (unsigned i = 0; i < SRP_REQ_LIM; i++) {
		ch->rx[i].ch = ch;
		ch->rx[i].buf = ch->rx_ring + (size_t)i * SRP_MAX_IT_IU;
		rx_post(ch, &ch->rx[i]);
	}
	if (ch->rc.state != TT_RDMA_CONN_NEW)
		goto refuse;
	tt_srp_login_rsp_encode(&ch->login, rsp, sizeof(rsp));
	rc = tt_rdma_conn_accept(&ch->rc, rsp, sizeof(rsp));
	if (rc < 0) {
		tt_err("srp", "channel %llu %s: rdma_accept: %s", chid(ch), ch->peer, strerror(-rc));
		goto refuse;
	}
	tt_info("srp", "channel %llu %s: login of initiator port %s to target %s tpg %u accepted "
		"(request limit %u, IU %u bytes%s)", chid(ch), ch->peer, ch->nexus.initiator_name,
		ch->target->name, ch->tpg->tag, ch->login.req_lim_delta, ch->login.max_it_iu_len,
		ch->login.imm_data_offset ? ", immediate data" : "");
	return;
refuse:
	ch_down(ch, -ECONNREFUSED, NULL); /* closed follows, then the upper reference goes */
}

/* The TPG of @l whose port identifier is @port_id, with the target referenced; model lock held. */
static struct tt_tpg *tpg_for(struct tt_listener *l, const uint8_t port_id[16])
{
	struct tt_list *tn, *gn, *pn;

	tt_list_for_each(tn, tt_model_targets()) {
		struct tt_target *t = tt_list_entry(tn, struct tt_target, node);

		if (t->deleted)
			continue;
		tt_list_for_each(gn, &t->tpgs) {
			struct tt_tpg *g = tt_list_entry(gn, struct tt_tpg, node);

			if (memcmp(g->scsi_port.srp_port_id, port_id, 16))
				continue;
			tt_list_for_each(pn, &g->portals) {
				struct tt_portal *p = tt_list_entry(pn, struct tt_portal, node);

				if (p->listener == l)
					return g;
			}
		}
	}
	return NULL;
}

static int ch_map_luns(struct srp_ch *ch, struct tt_target *t)
{
	struct tt_list *pos;
	unsigned n = 0;

	tt_list_for_each(pos, &t->luns)
		n++;
	if (!n)
		return 0;
	ch->luns = calloc(n, sizeof(*ch->luns));
	ch->lun_ids = calloc(n, sizeof(*ch->lun_ids));
	if (!ch->luns || !ch->lun_ids)
		return -ENOMEM;
	tt_list_for_each(pos, &t->luns) {
		struct tt_target_lun *tl = tt_list_entry(pos, struct tt_target_lun, node);

		tt_lun_get(tl->lun);
		ch->luns[ch->nluns] = tl->lun;
		ch->lun_ids[ch->nluns] = tl->id;
		ch->nluns++;
	}
	return 0;
}

static void login_reject(struct rdma_cm_id *id, struct rdma_event_channel *ch,
			 const struct tt_srp_login_req *req, uint32_t reason, const char *peer,
			 const char *ini, const char *why)
{
	uint8_t rej[TT_SRP_LOGIN_REJ_LEN];
	int n;

	tt_log_ratelimited(TT_LOG_NOTICE, "srp", "%s: login of initiator port %s rejected, reason "
			   "0x%08x: %s", peer, ini ? ini : "(none)", reason, why);
	n = tt_srp_login_rej_encode(req ? req->tag : 0, reason, TT_SRP_BUF_DIRECT |
				    TT_SRP_BUF_INDIRECT, rej, sizeof(rej));
	tt_rdma_request_reject(id, ch, rej, n > 0 ? (uint8_t)n : 0);
}

static void srp_request(void *arg, struct rdma_cm_id *id, struct rdma_event_channel *cm_ch,
			const struct tt_rdma_request *req)
{
	struct tt_listener *l = arg;
	struct tt_srp_login_req login;
	struct tt_srp_login_limits lim = {
		.max_it_iu_len = SRP_MAX_IT_IU,
		.max_ti_iu_len = SRP_TX_LEN,
		.req_lim = SRP_REQ_LIM,
		.buf_fmt = TT_SRP_BUF_DIRECT | TT_SRP_BUF_INDIRECT,
		.immed = true,
		.multichan = false,
	};
	struct sockaddr *sa;
	struct srp_ch *ch;
	struct tt_tpg *g;
	char peer[80], ini[35];
	const char *why = "login parameters";
	uint32_t reason;
	int rc;

	sa = rdma_get_peer_addr(id);
	{
		struct sockaddr_storage ss = { 0 };

		memcpy(&ss, sa, sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
		       sizeof(struct sockaddr_in));
		tt_sockaddr_format(&ss, peer, sizeof(peer));
	}
	if (tt_srp_login_req_rdma_parse(req->priv, req->priv_len, &login) < 0) {
		login_reject(id, cm_ch, NULL, TT_SRP_REJ_UNABLE_ESTABLISH, peer, NULL,
			     "no SRP_LOGIN_REQ in the connect private data");
		return;
	}
	ch = calloc(1, sizeof(*ch));
	if (!ch) {
		login_reject(id, cm_ch, &login, TT_SRP_REJ_INSUFFICIENT_RES, peer, NULL,
			     "out of memory");
		return;
	}
	ini[0] = '0';
	ini[1] = 'x';
	for (unsigned i = 0; i < 16; i++)
		snprintf(ini + 2 + 2 * i, 3, "%02x", login.initiator_port_id[i]);
	tt_model_lock();
	g = tpg_for(l, login.target_port_id);
	if (__atomic_load_n(&srp_stopping, __ATOMIC_RELAXED)) {
		reason = TT_SRP_REJ_UNABLE_ESTABLISH;
		why = "shutting down";
	} else if (!g) {
		reason = TT_SRP_REJ_UNABLE_ASSOCIATE;
		why = "no target port with that identifier on this portal";
	} else if (!tt_tpg_initiator_allowed(g, ini)) {
		/* SRP has no "not authorized" reason; the initiator may open no channel to this
		 * port, so: one RDMA channel limit reached for this initiator (00010006h), as
		 * other SRP targets answer an initiator outside their ACLs. 00010003h (unable to
		 * associate) stays for a target port identifier that is not here. */
		reason = TT_SRP_REJ_CHANNEL_LIMIT;
		why = "initiator port not in the target's ACLs";
	} else {
		lim.port_id = g->scsi_port.srp_port_id;
		reason = tt_srp_login_negotiate(&login, &lim, &ch->login);
	}
	if (!reason) {
		ch->target = g->target;
		tt_target_get(g->target);
		ch->tpg = g;
		ch->tpgt = g->tag;
		memcpy(ch->tport_id, g->scsi_port.srp_port_id, sizeof(ch->tport_id));
		rc = ch_map_luns(ch, g->target);
		if (rc < 0)
			reason = TT_SRP_REJ_INSUFFICIENT_RES;
	}
	tt_model_unlock();
	if (reason) {
		login_reject(id, cm_ch, &login, reason, peer, ini, why);
		ch_unmap(ch);
		if (ch->target)
			tt_target_put(ch->target);
		free(ch);
		return;
	}
	ch->id = __atomic_add_fetch(&ch_ids, 1, __ATOMIC_RELAXED);
	snprintf(ch->peer, sizeof(ch->peer), "%s", peer);
	ch->req = *req;
	ch->listener = l;
	tt_listener_get(l);
	tt_srp_ch_life_init(&ch->life);
	tt_srp_ch_get(&ch->life, TT_SRP_REF_OWNER);
	tt_srp_ch_get(&ch->life, TT_SRP_REF_CM);
	tt_srp_credits_init(&ch->cred, SRP_REQ_LIM);
	ch->cmd_lim = (struct tt_srp_cmd_limits){
		.buf_fmt = ch->login.buf_fmt,
		.imm_data_offset = ch->login.imm_data_offset,
		.max_desc = SRP_MAX_DESC,
		.max_xfer = SRP_MAX_XFER,
	};
	tt_list_init(&ch->tx_free);
	tt_list_init(&ch->tasks);
	ch->nexus.fe = &tt_srp_scsi_fe;
	ch->nexus.owner = ch;
	ch->nexus.id = ch->id;
	ch->nexus.list_luns = ch_list_luns;
	ch->nexus.tport = &g->scsi_port;
	for (unsigned i = 0; i < 16; i++)
		snprintf(ch->nexus.initiator_name + 2 * i, 3, "%02x", login.initiator_port_id[i]);
	snprintf(ch->nexus.initiator_port, sizeof(ch->nexus.initiator_port), "0x%s",
		 ch->nexus.initiator_name);
	for (unsigned i = 0; i < ch->nluns; i++)
		tt_lun_nexus_add(ch->luns[i], &ch->nexus);
	ch->rc.id = id;
	ch->rc.cm_ch = cm_ch;
	ch->rc.state = TT_RDMA_CONN_NEW;
	ch->rc.ops = &srp_rdma_ops;
	ch->rc.id_log = ch->id;
	snprintf(ch->rc.peer, sizeof(ch->rc.peer), "%s", peer);
	tt_rdma_refs_get(&ch->rc.refs, TT_RDMA_REF_UPPER); /* the channel's, until DISCONNECTED */
	ch->rc.loop = tt_loops_next();
	pthread_mutex_lock(&chs_lock);
	tt_list_add_tail(&chs, &ch->reg_node);
	pthread_mutex_unlock(&chs_lock);
	rc = tt_loop_send(ch->rc.loop, srp_ch_handoff, ch);
	if (rc < 0) {
		pthread_mutex_lock(&chs_lock);
		tt_list_del(&ch->reg_node);
		pthread_mutex_unlock(&chs_lock);
		tt_log_ratelimited(TT_LOG_WARN, "srp", "%s: cannot hand the channel over: %s", peer,
				   strerror(-rc));
		login_reject(id, cm_ch, &login, TT_SRP_REJ_INSUFFICIENT_RES, peer,
			     ch->nexus.initiator_port, "no loop");
		ch_unmap(ch);
		tt_target_put(ch->target);
		tt_listener_put(l);
		free(ch);
	}
}

static void srp_lost(void *arg, int err)
{
	tt_listener_lost(arg, err);
}

static int srp_listen(struct tt_listener *l)
{
	struct tt_rdma_listener *rl;
	int rc;

	rc = tt_rdma_listen((const struct sockaddr *)&l->addr.ss, l->name, srp_request, srp_lost, l,
			    &rl);
	if (rc < 0)
		return rc;
	l->xport_priv = rl;
	return 0;
}

static void srp_unlisten(struct tt_listener *l)
{
	struct tt_rdma_listener *rl = l ? l->xport_priv : NULL;

	if (!rl)
		return;
	l->xport_priv = NULL;
	tt_rdma_unlisten(rl);
}

/* The listeners of srp:// portals: listen and unlisten only (no iSCSI connection comes in). */
static const struct tt_xport_ops srp_xport =
	TT_XPORT_LISTEN_ONLY("srp", srp_listen, srp_unlisten);

void tt_srp_port_register(void)
{
	tt_xport_register_fabric(TT_FABRIC_SRP, &srp_xport);
}

bool tt_srp_port_supported(void)
{
	return true;
}

#else

void tt_srp_port_abort_lun(struct tt_lun *lun)
{
	(void)lun;
}

void tt_srp_port_check_access(void)
{
}

unsigned tt_srp_port_shutdown(void)
{
	return 0;
}

unsigned tt_srp_port_channels(void)
{
	return 0;
}

int tt_srp_channels_snapshot(struct tt_srp_channel_info **out, size_t *count)
{
	*out = NULL;
	*count = 0;
	return 0;
}

void tt_srp_channels_free(struct tt_srp_channel_info *info, size_t count)
{
	(void)count;
	free(info);
}

void tt_srp_port_register(void)
{
}

bool tt_srp_port_supported(void)
{
	return false;
}

#endif

int tt_srp_portal_add_target(const struct tt_portal *p, char *buf, size_t cap)
{
#ifdef TT_HAVE_RDMA
	char host[TT_PORTAL_ADDR_MAX], *colon;
	const char *h = host;
	size_t n;

	if (p->addr.fabric != TT_FABRIC_SRP)
		return -EINVAL;
	tt_sockaddr_format(&p->addr.ss, host, sizeof(host));
	/* "a.b.c.d:port" or "[v6]:port": the address alone */
	colon = strrchr(host, ':');
	if (colon)
		*colon = '\0';
	if (host[0] == '[') {
		h = host + 1;
		n = strlen(h);
		if (n && host[n] == ']')
			host[n] = '\0';
	}
	return tt_srp_add_target_line(p->tpg->scsi_port.srp_port_id, h,
				      tt_sockaddr_port(&p->addr.ss), buf, cap);
#else
	(void)p;
	(void)buf;
	(void)cap;
	return -EOPNOTSUPP;
#endif
}
