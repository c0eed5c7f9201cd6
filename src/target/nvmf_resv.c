/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NVMe reservations in the SCSI persistent reservations of a LUN (nvmf_resv.h).
 *
 * Objects (loop 0, like the NVMe-oF core):
 *   - struct resv_ns: a namespace's LUN (a reference). Held by the namespace (until
 *     ns_release), by each controller that sees it (an attachment) and by each command on it.
 *   - struct resv_ctrl: a controller's I_T nexus. Held by the controller (until ctrl_end) and by
 *     each command it runs; it is on each attached LUN's nexus list while attached.
 * A PERSISTENT RESERVE OUT runs on the controller's nexus with the NVMe front end (no unit
 * attentions kept; the core calls pr_notice for reservation events, which become notifications
 * of the controller that owns the nexus).
 */
#include "target/nvmf_resv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/loop.h"
#include "scsi/cdb.h"
#include "scsi/pr.h"

#define NEXUS_IDS_BASE (3ull << 44) /* apart from iSCSI sessions' and SRP channels' ids */

struct resv_ns {
	struct tt_lun *lun;
	int refs;
};

struct resv_att {
	struct tt_list node;            /* in resv_ctrl.atts */
	struct resv_ns *ns;
	uint32_t nsid;
};

struct resv_ctrl {
	struct tt_nexus nexus;
	struct tt_nvmf_ctrl *ctrl;      /* NULL once the controller ended */
	struct tt_list node;            /* in ctrls until the controller ends */
	struct tt_list atts;            /* struct resv_att */
	int refs;
};

struct resv_op {
	struct tt_scsi_task task;
	uint8_t param[24];
	struct tt_nvmf_resv_cmd cmd;
	struct tt_nvmf_req *r;
	struct resv_ns *ns;
	struct resv_ctrl *ch;
};

static struct tt_list ctrls = TT_LIST_INIT(ctrls);
static struct tt_loop *home;            /* the loop the controllers live on */
static uint64_t nexus_ids = NEXUS_IDS_BASE;
static bool keeper_set;

/* ---- pure translation ------------------------------------------------------------------------ */

uint8_t tt_nvmf_resv_type_to_scsi(uint8_t rtype)
{
	static const uint8_t map[] = { 0, TT_PR_WE, TT_PR_EA, TT_PR_WE_RO, TT_PR_EA_RO,
				       TT_PR_WE_AR, TT_PR_EA_AR };

	return rtype < sizeof(map) ? map[rtype] : 0;
}

uint8_t tt_nvmf_resv_type_from_scsi(uint8_t type)
{
	switch (type) {
	case TT_PR_WE: return TT_NVMF_RESV_WE;
	case TT_PR_EA: return TT_NVMF_RESV_EA;
	case TT_PR_WE_RO: return TT_NVMF_RESV_WE_RO;
	case TT_PR_EA_RO: return TT_NVMF_RESV_EA_RO;
	case TT_PR_WE_AR: return TT_NVMF_RESV_WE_AR;
	case TT_PR_EA_AR: return TT_NVMF_RESV_EA_AR;
	default: return TT_NVMF_RESV_NONE;
	}
}

#define INVALID (TT_NVME_SC_INVALID_FIELD | TT_NVME_DNR)

uint16_t tt_nvmf_resv_prout(const struct tt_nvmf_resv_cmd *c, bool aptpl, uint8_t cdb[10],
			    uint8_t param[24])
{
	uint64_t rk = c->crkey, sark = 0;
	uint8_t sa, type = 0, flags = 0;

	memset(cdb, 0, 10);
	memset(param, 0, 24);
	switch (c->op) {
	case TT_NVMF_RESV_REGISTER:
		if (c->action > 2 || c->cptpl == 1 || (c->action != 1 && c->nrkey == 0))
			return INVALID; /* a key of 0 would unregister */
		switch (c->action) {
		case 0: /* a registrant only if it has this key already (checked on conflict) */
			sa = TT_PROUT_REGISTER;
			rk = 0;
			sark = c->nrkey;
			break;
		case 1:
			sa = c->iekey ? TT_PROUT_REGISTER_AND_IGNORE : TT_PROUT_REGISTER;
			break;
		default:
			sa = c->iekey ? TT_PROUT_REGISTER_AND_IGNORE : TT_PROUT_REGISTER;
			sark = c->nrkey;
			break;
		}
		/* a host's registration covers all its controllers, through every port */
		flags = 0x04 | (c->cptpl == 3 || (c->cptpl == 0 && aptpl) ? 0x01 : 0);
		break;
	case TT_NVMF_RESV_ACQUIRE:
		if (c->action > 2 || !(type = tt_nvmf_resv_type_to_scsi(c->type)))
			return INVALID;
		sa = c->action == 0 ? TT_PROUT_RESERVE :
		     c->action == 1 ? TT_PROUT_PREEMPT : TT_PROUT_PREEMPT_AND_ABORT;
		sark = c->action ? c->nrkey : 0;
		break;
	case TT_NVMF_RESV_RELEASE:
		if (c->action > 1)
			return INVALID;
		if (c->action == 0) {
			if (!(type = tt_nvmf_resv_type_to_scsi(c->type)))
				return INVALID;
			sa = TT_PROUT_RELEASE;
		} else {
			sa = TT_PROUT_CLEAR;
		}
		break;
	default:
		return INVALID;
	}
	cdb[0] = 0x5f;
	cdb[1] = sa;
	cdb[2] = type; /* scope 0: the logical unit */
	tt_put_be32(cdb + 5, 24);
	tt_put_be64(param, rk);
	tt_put_be64(param + 8, sark);
	param[20] = flags;
	return 0;
}

uint16_t tt_nvmf_resv_status_of(uint8_t status, const uint8_t *sense, unsigned sense_len)
{
	uint8_t key = 0;

	switch (status) {
	case TT_SAM_GOOD:
		return 0;
	case TT_SAM_RESERVATION_CONFLICT:
		return TT_NVME_SC_RESV_CONFLICT | TT_NVME_DNR;
	case TT_SAM_BUSY:
		return TT_NVME_SC_NS_NOT_READY; /* shared state being read again: retried */
	case TT_SAM_CHECK_CONDITION:
		if (sense_len >= 3 && (sense[0] & 0x7f) <= 0x71)
			key = sense[2] & 0x0f;          /* fixed format */
		else if (sense_len >= 2)
			key = sense[1] & 0x0f;          /* descriptor format */
		/* a bad field (type, APTPL without a state file, release of another type) */
		if (key == TT_SK_ILLEGAL_REQUEST)
			return INVALID;
		return TT_NVME_SC_INTERNAL;
	default:
		return TT_NVME_SC_INTERNAL;
	}
}

/* ---- objects --------------------------------------------------------------------------------- */

static void ns_put(struct resv_ns *ns)
{
	if (--ns->refs)
		return;
	tt_lun_put(ns->lun);
	free(ns);
}

static void ctrl_put(struct resv_ctrl *ch)
{
	if (--ch->refs)
		return;
	free(ch);
}

static int list_no_luns(const struct tt_nexus *nexus, uint64_t *ids, int max)
{
	(void)nexus;
	(void)ids;
	(void)max;
	return 0;
}

/* PREEMPT AND ABORT of an NVMe host: commands of its controllers already in a backend finish
 * (there is no abort of them); every later one meets the new reservation. */
static int fe_abort_nexus(struct tt_lun *lun, uint64_t nexus_id)
{
	(void)lun;
	(void)nexus_id;
	return 0;
}

struct notice_msg {
	struct tt_lun *lun;             /* compared, never followed */
	uint64_t nexus_id;
	unsigned ua;
};

static void notice_run(void *arg)
{
	struct notice_msg *m = arg;
	enum tt_nvmf_resv_notice type;
	struct tt_list *n, *a;

	type = m->ua == TT_UA_REGISTRATIONS_PREEMPTED ? TT_NVMF_RESV_NOTICE_REG_PREEMPTED :
	       m->ua == TT_UA_RESERVATIONS_RELEASED ? TT_NVMF_RESV_NOTICE_RELEASED :
	       TT_NVMF_RESV_NOTICE_PREEMPTED;
	tt_list_for_each(n, &ctrls) {
		struct resv_ctrl *ch = tt_list_entry(n, struct resv_ctrl, node);

		if (ch->nexus.id != m->nexus_id || !ch->ctrl)
			continue;
		tt_list_for_each(a, &ch->atts) {
			struct resv_att *att = tt_list_entry(a, struct resv_att, node);

			if (att->ns->lun == m->lun)
				tt_nvmf_resv_notice(ch->ctrl, att->nsid, type);
		}
	}
	free(m);
}

/* Under lun->lock, any thread: the event goes to the controllers' loop. */
static int fe_pr_notice(struct tt_lun *lun, uint64_t nexus_id, unsigned ua)
{
	struct tt_loop *loop = __atomic_load_n(&home, __ATOMIC_ACQUIRE);
	struct notice_msg *m;
	int rc;

	if (!loop)
		return -ENOENT;
	m = malloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	*m = (struct notice_msg){ .lun = lun, .nexus_id = nexus_id, .ua = ua };
	rc = tt_loop_send(loop, notice_run, m);
	if (rc < 0)
		free(m);
	return rc;
}

static const struct tt_scsi_frontend nvmf_scsi_fe = {
	.name = "nvmf",
	.proto = &tt_scsi_proto_nvme,
	.abort_nexus = fe_abort_nexus,
	.alua_changed = tt_scsi_fe_no_alua_changed,
	.pr_notice = fe_pr_notice,
	.no_ua = true,
};

/* ---- the keeper ------------------------------------------------------------------------------ */

static void *k_ctrl_start(struct tt_nvmf_ctrl *c, const uint8_t hostid[16])
{
	struct resv_ctrl *ch = calloc(1, sizeof(*ch));

	if (!ch)
		return NULL;
	if (!home)
		__atomic_store_n(&home, tt_loop_current(), __ATOMIC_RELEASE);
	ch->nexus.fe = &nvmf_scsi_fe;
	for (int i = 0; i < 16; i++)
		snprintf(ch->nexus.initiator_name + 2 * i, 3, "%02x", hostid[i]);
	snprintf(ch->nexus.initiator_port, sizeof(ch->nexus.initiator_port), "hostid:%s",
		 ch->nexus.initiator_name);
	ch->nexus.list_luns = list_no_luns;
	ch->nexus.owner = ch;
	ch->nexus.id = __atomic_add_fetch(&nexus_ids, 1, __ATOMIC_RELAXED);
	ch->ctrl = c;
	ch->refs = 1;
	tt_list_init(&ch->atts);
	tt_list_add_tail(&ctrls, &ch->node);
	return ch;
}

static void att_drop(struct resv_ctrl *ch, struct resv_att *att)
{
	tt_lun_nexus_del(att->ns->lun, &ch->nexus);
	tt_list_del(&att->node);
	ns_put(att->ns);
	free(att);
}

static void k_ctrl_end(void *p)
{
	struct resv_ctrl *ch = p;
	struct tt_list *n;

	while ((n = ch->atts.next) != &ch->atts)
		att_drop(ch, tt_list_entry(n, struct resv_att, node));
	ch->ctrl = NULL;
	tt_list_del(&ch->node);
	ctrl_put(ch);
}

static void k_ns_attach(void *ns_ctx, void *p, uint32_t nsid)
{
	struct resv_ns *ns = ns_ctx;
	struct resv_ctrl *ch = p;
	struct resv_att *att = calloc(1, sizeof(*att));

	if (!att) {
		tt_err("nvmf", "out of memory: namespace %u sends no reservation notices to a "
		       "controller", nsid);
		return;
	}
	att->ns = ns;
	att->nsid = nsid;
	ns->refs++;
	tt_list_add_tail(&ch->atts, &att->node);
	tt_lun_nexus_add(ns->lun, &ch->nexus);
}

static void k_ns_detach(void *ns_ctx, void *p)
{
	struct resv_ctrl *ch = p;
	struct tt_list *n, *t;

	tt_list_for_each_safe(n, t, &ch->atts) {
		struct resv_att *att = tt_list_entry(n, struct resv_att, node);

		if (att->ns == ns_ctx)
			att_drop(ch, att);
	}
}

static void k_ns_release(void *ns_ctx)
{
	ns_put(ns_ctx);
}

static int k_status(void *ns_ctx, struct tt_nvmf_resv_status *out)
{
	struct resv_ns *ns = ns_ctx;
	struct tt_lun_pr_status st;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = tt_lun_pr_status(ns->lun, &st);
	if (rc < 0)
		return rc;
	if (st.nregs && !(out->regs = calloc(st.nregs, sizeof(*out->regs)))) {
		free(st.regs);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < st.nregs; i++) {
		/* another protocol's registrant has no host identifier: zeros */
		if (st.regs[i].id.proto == &tt_scsi_proto_nvme &&
		    tt_scsi_hex_decode(st.regs[i].id.name, out->regs[i].hostid, 16) < 0)
			memset(out->regs[i].hostid, 0, 16);
		out->regs[i].key = st.regs[i].key;
		out->regs[i].holder = st.regs[i].holder;
	}
	out->nregs = st.nregs;
	out->generation = st.generation;
	out->type = tt_nvmf_resv_type_from_scsi(st.type);
	out->ptpl = st.aptpl;
	out->ptpl_capable = st.aptpl_capable;
	free(st.regs);
	return 0;
}

static int k_io_check(void *ns_ctx, void *p, bool write)
{
	struct resv_ns *ns = ns_ctx;
	struct resv_ctrl *ch = p;

	return tt_lun_pr_check(ns->lun, &ch->nexus, write);
}

/* A Register of a host registered already: success when its key is the new one. */
static bool same_key(struct resv_op *op)
{
	struct tt_nvmf_resv_status st;
	uint8_t me[16];
	bool same = false;

	if (tt_scsi_hex_decode(op->ch->nexus.initiator_name, me, 16) < 0 ||
	    k_status(op->ns, &st) < 0)
		return false;
	for (unsigned i = 0; i < st.nregs; i++)
		if (!memcmp(st.regs[i].hostid, me, 16))
			same = st.regs[i].key == op->cmd.nrkey;
	free(st.regs);
	return same;
}

static void op_end(struct resv_op *op, uint16_t status)
{
	tt_nvmf_resv_done(op->r, status);
	ns_put(op->ns);
	ctrl_put(op->ch);
	free(op);
}

static void op_done(struct tt_scsi_task *task)
{
	struct resv_op *op = task->priv;
	uint16_t status = tt_nvmf_resv_status_of(task->status, task->sense, task->sense_len);

	if (task->status == TT_SAM_RESERVATION_CONFLICT && op->cmd.op == TT_NVMF_RESV_REGISTER &&
	    op->cmd.action == 0 && same_key(op))
		status = 0;
	op_end(op, status);
}

static void k_exec(void *ns_ctx, void *p, const struct tt_nvmf_resv_cmd *cmd,
		   struct tt_nvmf_req *r)
{
	struct resv_ns *ns = ns_ctx;
	struct resv_ctrl *ch = p;
	struct resv_op *op = calloc(1, sizeof(*op));
	bool aptpl = false;
	uint16_t status;

	if (!op) {
		tt_nvmf_resv_done(r, TT_NVME_SC_INTERNAL);
		return;
	}
	op->cmd = *cmd;
	op->r = r;
	op->ns = ns;
	op->ch = ch;
	ns->refs++;
	ch->refs++;
	if (cmd->op == TT_NVMF_RESV_REGISTER && cmd->cptpl == 0) {
		struct tt_lun_pr_status st;

		if (tt_lun_pr_status(ns->lun, &st) == 0) {
			aptpl = st.aptpl;
			free(st.regs);
		}
	}
	status = tt_nvmf_resv_prout(cmd, aptpl, op->task.cdb, op->param);
	if (status) {
		op_end(op, status);
		return;
	}
	op->task.cdb_len = 10;
	op->task.lun = ns->lun;
	op->task.lun_id = ns->lun->id;
	op->task.nexus = &ch->nexus;
	op->task.attr = TT_TASK_SIMPLE;
	op->task.dir_write = true;
	op->task.edtl = sizeof(op->param);
	op->task.buf = op->param;
	op->task.done = op_done;
	op->task.priv = op;
	tt_scsi_exec(&op->task); /* done() runs later, on this loop */
}

static const struct tt_nvmf_resv_keeper keeper = {
	.ctrl_start = k_ctrl_start,
	.ctrl_end = k_ctrl_end,
	.ns_attach = k_ns_attach,
	.ns_detach = k_ns_detach,
	.exec = k_exec,
	.status = k_status,
	.io_check = k_io_check,
	.ns_release = k_ns_release,
};

void tt_nvmf_resv_keeper_init(void)
{
	tt_nvmf_resv_keeper_set(&keeper);
	__atomic_store_n(&keeper_set, true, __ATOMIC_RELEASE);
}

int tt_nvmf_resv_bind_lun(struct tt_nvmf_subsys *s, uint32_t nsid, struct tt_lun *lun)
{
	struct resv_ns *ns = calloc(1, sizeof(*ns));
	int rc;

	if (!ns)
		return -ENOMEM;
	tt_lun_get(lun);
	ns->lun = lun;
	ns->refs = 1; /* the namespace's */
	rc = tt_nvmf_ns_set_resv(s, nsid, ns);
	if (rc)
		ns_put(ns);
	return rc == -EOPNOTSUPP ? 0 : rc; /* no keeper: a namespace without reservations */
}

int tt_nvmf_resv_bind_backend(struct tt_nvmf_subsys *s, uint32_t nsid, struct tt_bdev *bdev,
			      uint64_t naa_id)
{
	struct tt_nvmf_subsys_info si;
	struct tt_lun_opts opts = { .naa_id = naa_id };
	struct tt_lun *lun;
	int rc;

	if (!__atomic_load_n(&keeper_set, __ATOMIC_ACQUIRE))
		return 0; /* no keeper: a namespace without reservations */
	tt_nvmf_subsys_info(s, &si);
	rc = tt_lun_create(si.nqn, nsid, bdev, &opts, &lun);
	if (rc)
		return rc;
	rc = tt_nvmf_resv_bind_lun(s, nsid, lun);
	tt_lun_put(lun); /* the namespace's context holds it */
	return rc;
}
