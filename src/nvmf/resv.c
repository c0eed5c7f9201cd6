/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reservations (NVMe 2.0 8.1.22, 7.x Reservation Register / Report / Acquire / Release): the
 * commands decoded and handed to the keeper that holds the state (nvmf.h), the I/O check under
 * a reservation, the Reservation Report data, and the notifications: a queue of Reservation
 * Notification log page entries per controller, announced by an asynchronous event (type 6,
 * information 0, log page 80h) that is not repeated until the host has read the page.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "nvmf/internal.h"

#define RESV_LOG_MAX 32
#define AEN_RESV_LOG (0x6u | 0x00u << 8 | (uint32_t)TT_NVME_LOG_RESV_NOTICE << 16)

struct tt_nvmf_resv_log {
	struct {
		uint64_t count;
		uint8_t type;
		uint32_t nsid;
	} e[RESV_LOG_MAX];
	unsigned head, n;
	uint64_t count;                 /* of the last entry queued */
};

static const struct tt_nvmf_resv_keeper *keeper;

void tt_nvmf_resv_keeper_set(const struct tt_nvmf_resv_keeper *k)
{
	keeper = k;
}

bool tt_nvmf_resv_enabled(void)
{
	return keeper != NULL;
}

/* ---- controllers and namespaces -------------------------------------------------------------- */

void tt_nvmf_resv_ctrl_start(struct tt_nvmf_ctrl *c)
{
	struct tt_list *n;

	if (!keeper || c->subsys->discovery)
		return;
	c->resv = keeper->ctrl_start(c, c->hostid);
	if (!c->resv) {
		tt_err("nvmf", "controller %u: out of memory: no reservations", c->cntlid);
		return;
	}
	tt_list_for_each(n, &c->subsys->namespaces) {
		struct tt_nvmf_ns *ns = tt_list_entry(n, struct tt_nvmf_ns, node);

		if (ns->resv)
			keeper->ns_attach(ns->resv, c->resv, ns->nsid);
	}
}

void tt_nvmf_resv_ctrl_end(struct tt_nvmf_ctrl *c)
{
	if (c->resv)
		keeper->ctrl_end(c->resv); /* detaches it from every namespace */
	c->resv = NULL;
	free(c->resv_log);
	c->resv_log = NULL;
	free(c->resv_mask);
	c->resv_mask = NULL;
}

int tt_nvmf_ns_set_resv(struct tt_nvmf_subsys *s, uint32_t nsid, void *ns_ctx)
{
	struct tt_nvmf_ns *ns = tt_nvmf_ns_find(s, nsid);
	struct tt_list *n;

	if (!keeper)
		return -EOPNOTSUPP;
	if (!ns)
		return -ENOENT;
	if (ns->resv)
		keeper->ns_release(ns->resv);
	ns->resv = ns_ctx;
	/* controllers that are not ENDING; an ending one is detached by its end */
	tt_list_for_each(n, &s->ctrls) {
		struct tt_nvmf_ctrl *c = tt_list_entry(n, struct tt_nvmf_ctrl, node);

		if (c->resv)
			keeper->ns_attach(ns_ctx, c->resv, nsid);
	}
	return 0;
}

void tt_nvmf_resv_ns_gone(struct tt_nvmf_subsys *s, struct tt_nvmf_ns *ns)
{
	struct tt_list *n;

	if (!ns->resv)
		return;
	tt_list_for_each(n, &s->ctrls) {
		struct tt_nvmf_ctrl *c = tt_list_entry(n, struct tt_nvmf_ctrl, node);

		if (c->resv)
			keeper->ns_detach(ns->resv, c->resv);
	}
	keeper->ns_release(ns->resv);
	ns->resv = NULL;
}

/* ---- commands -------------------------------------------------------------------------------- */

void tt_nvmf_resv_done(struct tt_nvmf_req *r, uint16_t status)
{
	tt_nvmf_req_done(r, status, 0);
}

void tt_nvmf_resv_report_build(const struct tt_nvmf_resv_status *st, uint8_t *buf, size_t len)
{
	uint8_t hdr[64] = { 0 };
	size_t off;

	memset(buf, 0, len);
	tt_put_le32(hdr, st->generation);
	hdr[4] = st->type;
	tt_put_le16(hdr + 5, (uint16_t)(st->nregs > 0xffff ? 0xffff : st->nregs)); /* REGCTL */
	hdr[9] = st->ptpl ? 1 : 0;                                                  /* PTPLS */
	memcpy(buf, hdr, len < sizeof(hdr) ? len : sizeof(hdr));
	off = sizeof(hdr);
	for (unsigned i = 0; i < st->nregs && off < len; i++, off += 64) {
		uint8_t e[64] = { 0 };

		tt_put_le16(e, 0xffff);  /* CNTLID: dynamic controllers, the host is the registrant */
		e[2] = st->regs[i].holder ? 1 : 0;                                  /* RCSTS */
		tt_put_le64(e + 8, st->regs[i].key);
		memcpy(e + 16, st->regs[i].hostid, 16);
		memcpy(buf + off, e, len - off < sizeof(e) ? len - off : sizeof(e));
	}
}

static void report(struct tt_nvmf_req *r, struct tt_nvmf_ns *ns)
{
	uint32_t numd = tt_le32(r->sqe + TT_SQE_CDW10), cdw11 = tt_le32(r->sqe + TT_SQE_CDW(11));
	uint64_t want = ((uint64_t)numd + 1) * 4;
	struct tt_nvmf_resv_status st;
	uint32_t len;

	if (!(cdw11 & 1)) {
		/* every host identifier here is 128 bits: only the extended data structure holds it */
		tt_nvmf_req_done(r, TT_NVME_SC_HOSTID_FORMAT | TT_NVME_DNR, 0);
		return;
	}
	if (r->dir != TT_NVMF_DIR_C2H || r->len < want) {
		tt_nvmf_req_done(r, TT_NVME_SC_SGL_INVALID_DATA | TT_NVME_DNR, 0);
		return;
	}
	len = (uint32_t)want;
	if (keeper->status(ns->resv, &st) < 0) {
		tt_nvmf_req_done(r, TT_NVME_SC_INTERNAL, 0);
		return;
	}
	tt_nvmf_resv_report_build(&st, r->buf, len);
	free(st.regs);
	r->xfer_len = len;
	tt_nvmf_req_done(r, 0, 0);
}

void tt_nvmf_resv_exec(struct tt_nvmf_req *r, struct tt_nvmf_ns *ns)
{
	struct tt_nvmf_ctrl *c = r->ctrl;
	uint8_t opc = r->sqe[TT_SQE_OPC];
	uint32_t cdw10 = tt_le32(r->sqe + TT_SQE_CDW10);
	struct tt_nvmf_resv_cmd cmd = { 0 };
	uint32_t need = 16;

	if (!ns->resv || !keeper) {
		tt_nvmf_req_done(r, TT_NVME_SC_INVALID_OPCODE | TT_NVME_DNR, 0);
		return;
	}
	if (!c->resv) {
		tt_nvmf_req_done(r, TT_NVME_SC_INTERNAL, 0);
		return;
	}
	if (opc == TT_NVME_CMD_RESV_REPORT) {
		report(r, ns);
		return;
	}
	cmd.action = cdw10 & 0x7;
	cmd.iekey = (cdw10 >> 3) & 1;
	cmd.type = (uint8_t)(cdw10 >> 8);
	switch (opc) {
	case TT_NVME_CMD_RESV_REGISTER:
		cmd.op = TT_NVMF_RESV_REGISTER;
		cmd.cptpl = (uint8_t)(cdw10 >> 30);
		cmd.type = 0;
		break;
	case TT_NVME_CMD_RESV_ACQUIRE:
		cmd.op = TT_NVMF_RESV_ACQUIRE;
		break;
	default:
		cmd.op = TT_NVMF_RESV_RELEASE;
		need = 8;
		break;
	}
	if (r->dir != TT_NVMF_DIR_H2C || r->len < need) {
		tt_nvmf_req_done(r, TT_NVME_SC_SGL_INVALID_DATA | TT_NVME_DNR, 0);
		return;
	}
	cmd.crkey = tt_le64(r->buf);
	if (need == 16)
		cmd.nrkey = tt_le64(r->buf + 8);
	keeper->exec(ns->resv, c->resv, &cmd, r);
}

uint16_t tt_nvmf_resv_io_check(struct tt_nvmf_req *r, struct tt_nvmf_ns *ns, bool write)
{
	int rc;

	if (!ns->resv)
		return 0;
	if (!r->ctrl->resv)
		return TT_NVME_SC_INTERNAL;
	rc = keeper->io_check(ns->resv, r->ctrl->resv, write);
	if (rc == 0)
		return 0;
	if (rc == -EBUSY)
		return TT_NVME_SC_NS_NOT_READY; /* retried: the state is being read again */
	/* retrying the same command cannot succeed until the reservation changes */
	return TT_NVME_SC_RESV_CONFLICT | TT_NVME_DNR;
}

uint8_t tt_nvmf_resv_rescap(struct tt_nvmf_ns *ns)
{
	struct tt_nvmf_resv_status st;
	uint8_t cap;

	if (!ns->resv || !keeper)
		return 0;
	/* WE, EA, both registrants only, both all registrants; IEKEY as NVMe 1.3 defines it */
	cap = 0x02 | 0x04 | 0x08 | 0x10 | 0x20 | 0x40 | 0x80;
	if (keeper->status(ns->resv, &st) == 0) {
		if (st.ptpl_capable)
			cap |= 0x01;
		free(st.regs);
	}
	return cap;
}

/* ---- notifications --------------------------------------------------------------------------- */

static bool masked(const struct tt_nvmf_ctrl *c, uint32_t nsid, uint8_t type)
{
	return c->resv_mask && nsid <= TT_NVMF_MAX_NAMESPACES && (c->resv_mask[nsid] >> type) & 1;
}

void tt_nvmf_resv_notice(struct tt_nvmf_ctrl *c, uint32_t nsid, enum tt_nvmf_resv_notice type)
{
	struct tt_nvmf_resv_log *l;
	unsigned slot;

	if (c->state == TT_NVMF_CTRL_ENDING || masked(c, nsid, (uint8_t)type))
		return;
	if (!c->resv_log && !(c->resv_log = calloc(1, sizeof(*c->resv_log)))) {
		tt_err("nvmf", "controller %u: out of memory: reservation notice lost", c->cntlid);
		return;
	}
	l = c->resv_log;
	if (l->n == RESV_LOG_MAX) {
		/* the oldest goes: the counts of the others tell the host entries were lost */
		l->head = (l->head + 1) % RESV_LOG_MAX;
		l->n--;
	}
	if (++l->count == 0)
		l->count = 1; /* 0 is never a count */
	slot = (l->head + l->n++) % RESV_LOG_MAX;
	l->e[slot].count = l->count;
	l->e[slot].type = (uint8_t)type;
	l->e[slot].nsid = nsid;
	tt_debug("nvmf", "controller %u: reservation notice %d for namespace %u", c->cntlid,
		 (int)type, nsid);
	if (!c->aen_resv_masked) {
		c->aen_resv_masked = true; /* until the host reads the log page */
		tt_nvmf_ctrl_event(c, AEN_RESV_LOG);
	}
}

void tt_nvmf_resv_log_take(struct tt_nvmf_ctrl *c, uint8_t *buf)
{
	struct tt_nvmf_resv_log *l = c->resv_log;

	memset(buf, 0, 64);
	c->aen_resv_masked = false;
	if (!l || !l->n)
		return; /* an empty page: type 0 */
	tt_put_le64(buf, l->e[l->head].count);
	buf[8] = l->e[l->head].type;
	buf[9] = (uint8_t)(l->n - 1 > 255 ? 255 : l->n - 1); /* available log pages after this one */
	tt_put_le32(buf + 12, l->e[l->head].nsid);
	l->head = (l->head + 1) % RESV_LOG_MAX;
	l->n--;
	if (l->n) {
		/* more waiting: announced again */
		c->aen_resv_masked = true;
		tt_nvmf_ctrl_event(c, AEN_RESV_LOG);
	}
}

uint16_t tt_nvmf_resv_feature(struct tt_nvmf_req *r, struct tt_nvmf_ctrl *c, bool set,
			      uint32_t *dw0)
{
	uint8_t fid = r->sqe[TT_SQE_CDW10];
	uint32_t nsid = tt_le32(r->sqe + TT_SQE_NSID);
	uint32_t dw11 = tt_le32(r->sqe + TT_SQE_CDW(11));
	struct tt_nvmf_ns *ns = NULL;

	if (!keeper || c->subsys->discovery)
		return TT_NVME_SC_INVALID_FIELD | TT_NVME_DNR;
	if (nsid != 0xffffffffu) {
		ns = tt_nvmf_ns_find(c->subsys, nsid);
		if (!ns)
			return TT_NVME_SC_INVALID_NS | TT_NVME_DNR;
	}
	if (fid == TT_NVME_FEAT_RESV_MASK) {
		uint8_t mask = (uint8_t)(dw11 & 0x0e);

		if (!set) {
			if (!ns)
				return TT_NVME_SC_INVALID_NS | TT_NVME_DNR;
			*dw0 = c->resv_mask ? c->resv_mask[nsid] : 0;
			return 0;
		}
		if (!c->resv_mask && !(c->resv_mask = calloc(TT_NVMF_MAX_NAMESPACES + 1, 1)))
			return TT_NVME_SC_INTERNAL;
		if (ns)
			c->resv_mask[nsid] = mask;
		else
			memset(c->resv_mask, mask, TT_NVMF_MAX_NAMESPACES + 1);
		*dw0 = 0;
		return 0;
	}
	/* Reservation Persistence: changed through Reservation Register's CPTPL */
	if (set)
		return TT_NVME_SCT_CMD | TT_NVME_SC_FEATURE_NOT_CHANGEABLE | TT_NVME_DNR;
	if (!ns)
		return TT_NVME_SC_INVALID_NS | TT_NVME_DNR;
	*dw0 = 0;
	if (ns->resv) {
		struct tt_nvmf_resv_status st;

		if (keeper->status(ns->resv, &st) < 0)
			return TT_NVME_SC_INTERNAL;
		*dw0 = st.ptpl ? 1 : 0;
		free(st.regs);
	}
	return 0;
}
