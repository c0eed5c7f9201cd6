/* SPDX-License-Identifier: BSD-3-Clause */
/* Admin commands: Identify, Get Log Page, Set/Get Features, Keep Alive, Async Event Request. */
#include <stdio.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "nvmf/internal.h"
#include "tether/version.h"

#define ERROR_LOG_ENTRIES 64

/* Copies [offset, offset + r->len) of the @len bytes at @src into the request's buffer; what
 * lies beyond @len reads as zeroes. */
static void copy_out(struct tt_nvmf_req *r, const uint8_t *src, size_t len, uint64_t offset)
{
	memset(r->buf, 0, r->len);
	if (offset < len) {
		size_t n = len - offset < r->len ? (size_t)(len - offset) : r->len;

		memcpy(r->buf, src + offset, n);
	}
	r->xfer_len = r->len;
}

static void done(struct tt_nvmf_req *r, uint16_t status)
{
	tt_nvmf_req_done(r, status, 0);
}

/* ---- Identify -------------------------------------------------------------------------------- */

static uint64_t mix64(uint64_t x)
{
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* The NGUID is the NAA 6 identifier that the SCSI LUN with the same id reports (VPD page 83h:
 * company id, 36 bits derived from the id, the 64-bit id); the UUID is a version 4 layout of
 * two further mixes of the id. Both stay the same across restarts. */
void tt_nvmf_ns_ids(uint64_t naa_id, uint8_t nguid[16], uint8_t uuid[16])
{
	const uint32_t cid = 0x001405; /* TT_SCSI_NAA_COMPANY_ID of the SCSI core */
	uint64_t vsid = mix64(naa_id) & 0xfffffffffull, a = mix64(naa_id ^ 0x6e766d65ull),
		 b = mix64(a);

	nguid[0] = (uint8_t)(0x60 | ((cid >> 20) & 0x0f));
	nguid[1] = (uint8_t)(cid >> 12);
	nguid[2] = (uint8_t)(cid >> 4);
	nguid[3] = (uint8_t)((cid & 0x0f) << 4 | (uint8_t)(vsid >> 32));
	for (int i = 0; i < 4; i++)
		nguid[4 + i] = (uint8_t)(vsid >> (24 - 8 * i));
	for (int i = 0; i < 8; i++) {
		nguid[8 + i] = (uint8_t)(naa_id >> (56 - 8 * i));
		uuid[i] = (uint8_t)(a >> (56 - 8 * i));
		uuid[8 + i] = (uint8_t)(b >> (56 - 8 * i));
	}
	uuid[6] = (uint8_t)((uuid[6] & 0x0f) | 0x40);
	uuid[8] = (uint8_t)((uuid[8] & 0x3f) | 0x80);
}

static void identify_ctrl(struct tt_nvmf_req *r, struct tt_nvmf_ctrl *c)
{
	const struct tt_nvmf_xport_caps *caps = r->qp->ops->caps;
	struct tt_nvmf_subsys *s = c->subsys;
	uint8_t *d = r->buf;
	bool vwc = false;
	struct tt_list *n;

	tt_list_for_each(n, &s->namespaces)
		vwc |= tt_list_entry(n, struct tt_nvmf_ns, node)->bdev->volatile_cache;
	tt_put_ascii(d + 4, 20, s->serial);
	tt_put_ascii(d + 24, 40, s->model);
	tt_put_ascii(d + 64, 8, TETHER_VERSION);
	d[72] = 6;                                  /* RAB */
	if (!s->discovery)
		d[76] = 0x2 | 0x8;                  /* CMIC: several controllers, ANA reporting */
	d[77] = 5;                                  /* MDTS: 2^5 pages of 4 KiB */
	tt_put_le16(d + 78, c->cntlid);
	tt_put_le32(d + 80, TT_NVME_VS_1_3);
	if (!s->discovery)
		tt_put_le32(d + 92, 1u << 8 | 1u << 11); /* OAES: namespace and ANA notices */
	else
		tt_put_le32(d + 92, 1u << 31);     /* OAES: discovery log page change notices */
	tt_put_le32(d + 96, 0x1 | 0x40);            /* CTRATT: 128-bit host id, TBKAS */
	d[111] = s->discovery ? 2 : 1;              /* CNTRLTYPE */
	d[258] = 3;                                 /* ACL */
	d[259] = TT_NVMF_AER_MAX - 1;               /* AERL */
	d[260] = 0x3;                               /* FRMW: one slot, read only */
	d[261] = 0x4;                               /* LPA: extended data (offsets) */
	d[262] = ERROR_LOG_ENTRIES - 1;             /* ELPE */
	tt_put_le16(d + 266, 0x157);                /* WCTEMP 343 K */
	tt_put_le16(d + 268, 0x175);                /* CCTEMP 373 K */
	tt_put_le16(d + 320, 10);                   /* KAS: 1 s granularity */
	if (!s->discovery) {
		d[343] = 10;                        /* ANATT */
		/* ANACAP: every state reported; the group id of a path changes when its port
		 * moves to another group (so not bit 6) */
		d[344] = 0x1 | 0x2 | 0x4 | 0x8 | 0x10;
		tt_put_le32(d + 345, TT_NVMF_ANA_GROUP_MAX);     /* ANAGRPMAX */
		tt_put_le32(d + 349, tt_nvmf_ana_group_count()); /* NANAGRPID */
	}
	d[512] = 0x66;                              /* SQES */
	d[513] = 0x44;                              /* CQES */
	tt_put_le16(d + 514, TT_NVMF_MAX_QUEUE_DEPTH); /* MAXCMD */
	if (!s->discovery) {
		tt_put_le32(d + 516, TT_NVMF_MAX_NAMESPACES);   /* NN */
		/* ONCS: compare, DSM, write zeroes; reservations when a keeper holds them */
		tt_put_le16(d + 520, (uint16_t)(0x1 | 0x4 | 0x8 | (tt_nvmf_resv_enabled() ? 0x20 : 0)));
		d[525] = vwc ? 0x5 : 0x4;          /* VWC: present?; no broadcast flush */
		tt_put_le32(d + 540, TT_NVMF_MAX_NAMESPACES);   /* MNAN */
	}
	/* SGLS, IOCCSZ: what the transport of this queue takes (NVMe/RDMA: keyed SGLs) */
	tt_put_le32(d + 536, caps->sgls);
	snprintf((char *)d + 768, 256, "%s", s->nqn);
	/* fabrics */
	tt_put_le32(d + 1792, (TT_NVME_SQE_SIZE + caps->icd_max) / 16); /* IOCCSZ */
	tt_put_le32(d + 1796, 1);                   /* IORCSZ */
	tt_put_le16(d + 1800, 0);                   /* ICDOFF: in-capsule data after the SQE */
	d[1802] = 0;                                /* FCATT: dynamic controllers */
	d[1803] = 1;                                /* MSDBD */
	r->xfer_len = 4096;
	done(r, 0);
}

static void identify_ns(struct tt_nvmf_req *r, struct tt_nvmf_ctrl *c, uint32_t nsid)
{
	struct tt_nvmf_ns *ns = tt_nvmf_ns_find(c->subsys, nsid);
	uint8_t *d = r->buf;
	uint64_t blocks;
	uint8_t lbads;

	if (!ns) {
		/* an inactive id within NN reads as zeroes */
		if (nsid == 0 || nsid > TT_NVMF_MAX_NAMESPACES) {
			done(r, TT_NVME_SC_INVALID_NS | TT_NVME_DNR);
			return;
		}
		r->xfer_len = 4096;
		done(r, 0);
		return;
	}
	blocks = ns->bdev->size / ns->bdev->block_size;
	lbads = ns->bdev->block_size == 4096 ? 12 : 9;
	tt_put_le64(d + 0, blocks);                 /* NSZE */
	tt_put_le64(d + 8, blocks);                 /* NCAP */
	tt_put_le64(d + 16, blocks);                /* NUSE */
	d[24] = ns->bdev->thin ? 0x1 : 0;           /* NSFEAT: thin provisioning */
	d[25] = 0;                                  /* NLBAF */
	d[26] = 0;                                  /* FLBAS */
	d[30] = 0x1;                                /* NMIC: may be shared */
	d[31] = tt_nvmf_resv_rescap(ns);            /* RESCAP */
	d[33] = ns->bdev->thin ? 0x9 : 0;           /* DLFEAT: zeroes after deallocate */
	tt_put_le32(d + 92, tt_nvmf_ctrl_ana_group(c)); /* ANAGRPID: the path's group */
	d[99] = ns->bdev->readonly ? 0x1 : 0;       /* NSATTR: write protected */
	memcpy(d + 104, ns->nguid, 16);
	d[128 + 2] = lbads;                         /* LBAF0 */
	r->xfer_len = 4096;
	done(r, 0);
}

static void active_ns_list(struct tt_nvmf_req *r, struct tt_nvmf_ctrl *c, uint32_t after)
{
	unsigned i = 0;
	struct tt_list *n;

	if (after >= 0xfffffffe) {
		done(r, TT_NVME_SC_INVALID_NS | TT_NVME_DNR);
		return;
	}
	tt_list_for_each(n, &c->subsys->namespaces) {
		struct tt_nvmf_ns *ns = tt_list_entry(n, struct tt_nvmf_ns, node);

		if (ns->nsid > after && i < 1024)
			tt_put_le32(r->buf + 4 * i++, ns->nsid);
	}
	r->xfer_len = 4096;
	done(r, 0);
}

static void ns_descriptors(struct tt_nvmf_req *r, struct tt_nvmf_ctrl *c, uint32_t nsid)
{
	struct tt_nvmf_ns *ns = tt_nvmf_ns_find(c->subsys, nsid);
	uint8_t *d = r->buf;

	if (!ns) {
		done(r, TT_NVME_SC_INVALID_NS | TT_NVME_DNR);
		return;
	}
	d[0] = 0x2;                                 /* NGUID */
	d[1] = 16;
	memcpy(d + 4, ns->nguid, 16);
	d[20] = 0x3;                                /* UUID */
	d[21] = 16;
	memcpy(d + 24, ns->uuid, 16);
	d[40] = 0x4;                                /* command set: NVM */
	d[41] = 1;
	d[44] = 0;
	r->xfer_len = 4096;
	done(r, 0);
}

static void identify(struct tt_nvmf_req *r, struct tt_nvmf_ctrl *c)
{
	uint8_t cns = r->sqe[TT_SQE_CDW10];
	uint32_t nsid = tt_le32(r->sqe + TT_SQE_NSID);

	if (r->dir != TT_NVMF_DIR_C2H || r->len < 4096) {
		done(r, TT_NVME_SC_SGL_INVALID_DATA | TT_NVME_DNR);
		return;
	}
	memset(r->buf, 0, r->len);
	if (c->subsys->discovery && cns != 0x01) {
		done(r, TT_NVME_SC_INVALID_FIELD | TT_NVME_DNR);
		return;
	}
	switch (cns) {
	case 0x00:
		identify_ns(r, c, nsid);
		return;
	case 0x01:
		identify_ctrl(r, c);
		return;
	case 0x02:
		active_ns_list(r, c, nsid);
		return;
	case 0x03:
		ns_descriptors(r, c, nsid);
		return;
	case 0x06:
		/* I/O command set specific controller data (NVM): no extra limits */
		if (r->sqe[TT_SQE_CDW(11) + 3] != 0) {
			done(r, TT_NVME_SC_INVALID_FIELD | TT_NVME_DNR);
			return;
		}
		r->xfer_len = 4096;
		done(r, 0);
		return;
	default:
		done(r, TT_NVME_SC_INVALID_FIELD | TT_NVME_DNR);
		return;
	}
}

/* ---- Get Log Page ---------------------------------------------------------------------------- */

static size_t discovery_log(struct tt_nvmf_ctrl *c, uint8_t **out)
{
	struct tt_list *pn, *sn;
	size_t nrec = 0, len;
	uint8_t *d;

	tt_list_for_each(pn, tt_nvmf_ports())
		tt_list_for_each(sn, tt_nvmf_subsystems())
			nrec += tt_nvmf_host_allowed(tt_list_entry(sn, struct tt_nvmf_subsys, node),
						     c->hostnqn);
	len = 1024 * (nrec + 1);
	d = calloc(1, len);
	if (!d)
		return 0;
	tt_put_le64(d + 0, tt_nvmf_discovery_genctr()); /* GENCTR */
	tt_put_le64(d + 8, nrec);
	nrec = 0;
	tt_list_for_each(pn, tt_nvmf_ports()) {
		struct tt_nvmf_port *p = tt_list_entry(pn, struct tt_nvmf_port, node);
		char host[TT_PORTAL_ADDR_MAX], svc[8];

		tt_sockaddr_format(&p->addr.ss, host, sizeof(host));
		/* "addr:port" or "[v6]:port": split */
		{
			char *colon = strrchr(host, ':');

			if (colon)
				*colon = '\0';
			if (host[0] == '[') {
				memmove(host, host + 1, strlen(host));
				host[strlen(host) - 1] = '\0';
			}
		}
		snprintf(svc, sizeof(svc), "%u", tt_sockaddr_port(&p->addr.ss));
		tt_list_for_each(sn, tt_nvmf_subsystems()) {
			struct tt_nvmf_subsys *s = tt_list_entry(sn, struct tt_nvmf_subsys, node);
			uint8_t *e;

			if (!tt_nvmf_host_allowed(s, c->hostnqn))
				continue;
			e = d + 1024 * (++nrec);
			e[0] = p->xp->trtype;                       /* TRTYPE */
			e[1] = p->addr.ss.ss_family == AF_INET6 ? 2 : 1; /* ADRFAM */
			e[2] = 2;                                   /* SUBTYPE: NVM subsystem */
			e[3] = 0x2;                                 /* TREQ: secure channel not required */
			tt_put_le16(e + 4, p->portid);
			tt_put_le16(e + 6, 0xffff);                 /* CNTLID: dynamic */
			tt_put_le16(e + 8, p->xp->admin_depth);    /* ASQSZ */
			tt_put_ascii(e + 32, 32, svc);
			snprintf((char *)e + 256, 256, "%s", s->nqn);
			tt_put_ascii(e + 512, 256, host);
			p->xp->tsas(p, e + 768);                    /* TSAS */
		}
	}
	*out = d;
	return len;
}

static void get_log_page(struct tt_nvmf_req *r, struct tt_nvmf_ctrl *c)
{
	uint8_t lid = r->sqe[TT_SQE_CDW10];
	bool rae = r->sqe[TT_SQE_CDW10 + 1] & 0x80;
	uint64_t offset = tt_le64(r->sqe + TT_SQE_CDW(12));
	uint32_t numd = ((uint32_t)tt_le16(r->sqe + TT_SQE_CDW(11)) << 16 |
			 tt_le16(r->sqe + TT_SQE_CDW10 + 2)) + 1;
	struct tt_nvmf_subsys *s = c->subsys;
	uint8_t page[4096], *big = NULL;
	size_t len = 0;

	if (r->dir != TT_NVMF_DIR_C2H || (uint64_t)numd * 4 != r->len || (offset & 3)) {
		done(r, TT_NVME_SC_INVALID_FIELD | TT_NVME_DNR);
		return;
	}
	memset(page, 0, sizeof(page));
	if (s->discovery != (lid == TT_NVME_LOG_DISCOVERY)) {
		done(r, TT_NVME_SCT_CMD | TT_NVME_SC_INVALID_LOG_PAGE | TT_NVME_DNR);
		return;
	}
	switch (lid) {
	case TT_NVME_LOG_ERROR:
		len = 64 * ERROR_LOG_ENTRIES; /* no error kept: entries of zeroes */
		break;
	case TT_NVME_LOG_SMART: {
		uint64_t ur = (s->units_read + 999) / 1000, uw = (s->units_written + 999) / 1000;

		page[1] = 0x41;                             /* 321 K */
		page[2] = 0x01;
		page[3] = 100;                              /* available spare */
		page[4] = 10;                               /* threshold */
		tt_put_le64(page + 32, ur);
		tt_put_le64(page + 48, uw);
		tt_put_le64(page + 64, s->read_cmds);
		tt_put_le64(page + 80, s->write_cmds);
		tt_put_le64(page + 176, c->errors);         /* error information entries */
		len = 512;
		break;
	}
	case TT_NVME_LOG_FW_SLOT:
		page[0] = 1;                                /* AFI: slot 1 */
		memcpy(page + 8, "        ", 8);
		memcpy(page + 8, TETHER_VERSION, strlen(TETHER_VERSION) < 8 ? strlen(TETHER_VERSION) : 8);
		len = 512;
		break;
	case TT_NVME_LOG_CHANGED_NS:
		if (c->nchanged > TT_NVMF_MAX_NAMESPACES)
			tt_put_le32(page, 0xffffffff);
		else
			for (unsigned i = 0; i < c->nchanged; i++)
				tt_put_le32(page + 4 * i, c->changed_ns[i]);
		len = 4096;
		if (!rae) {
			c->nchanged = 0;
			c->aen_ns_masked = false;
		}
		break;
	case TT_NVME_LOG_RESV_NOTICE:
		tt_nvmf_resv_log_take(c, page); /* the oldest entry, taken */
		len = 64;
		break;
	case TT_NVME_LOG_ANA: {
		unsigned nns = 0;
		struct tt_list *n;
		bool rgo = r->sqe[TT_SQE_CDW10 + 1] & 0x1; /* LSP bit 0: groups only */

		uint32_t grp = tt_nvmf_ctrl_ana_group(c);

		/* one descriptor: the group of the controller's port, every namespace in it */
		tt_put_le64(page, tt_nvmf_ana_change_count());
		tt_put_le16(page + 8, 1);
		tt_put_le32(page + 16, grp);
		tt_put_le64(page + 24, tt_nvmf_ana_change_count());
		page[32] = (uint8_t)tt_nvmf_ana_get(grp);
		if (!rgo)
			tt_list_for_each(n, &s->namespaces)
				if (nns < (sizeof(page) - 48) / 4)
					tt_put_le32(page + 48 + 4 * nns++,
						    tt_list_entry(n, struct tt_nvmf_ns, node)->nsid);
		tt_put_le32(page + 20, nns);
		len = 48 + 4 * (size_t)nns;
		if (!rae)
			c->aen_ana_masked = false;
		break;
	}
	case TT_NVME_LOG_DISCOVERY:
		len = discovery_log(c, &big);
		if (!big) {
			done(r, TT_NVME_SC_INTERNAL);
			return;
		}
		if (!rae)
			c->aen_disc_masked = false;
		break;
	default:
		done(r, TT_NVME_SCT_CMD | TT_NVME_SC_INVALID_LOG_PAGE | TT_NVME_DNR);
		return;
	}
	copy_out(r, big ? big : page, len, offset);
	free(big);
	done(r, 0);
}

/* ---- features -------------------------------------------------------------------------------- */

static void set_features(struct tt_nvmf_req *r, struct tt_nvmf_ctrl *c)
{
	uint8_t fid = r->sqe[TT_SQE_CDW10];
	uint32_t dw11 = tt_le32(r->sqe + TT_SQE_CDW(11));

	if (r->sqe[TT_SQE_CDW10 + 3] & 0x80) { /* SV: nothing is saved across restarts */
		done(r, TT_NVME_SCT_CMD | TT_NVME_SC_FEATURE_NOT_SAVEABLE | TT_NVME_DNR);
		return;
	}
	switch (fid) {
	case TT_NVME_FEAT_NUM_QUEUES: {
		uint32_t nsq = (dw11 & 0xffff) + 1, ncq = (dw11 >> 16) + 1, n;

		if ((dw11 & 0xffff) == 0xffff || (dw11 >> 16) == 0xffff) {
			done(r, TT_NVME_SC_INVALID_FIELD | TT_NVME_DNR);
			return;
		}
		n = nsq < ncq ? nsq : ncq;
		if (n > TT_NVMF_MAX_IO_QUEUES)
			n = TT_NVMF_MAX_IO_QUEUES;
		c->io_queues = (uint16_t)n;
		tt_nvmf_req_done(r, 0, (n - 1) | (n - 1) << 16);
		return;
	}
	case TT_NVME_FEAT_ASYNC_EVENT:
		c->aec = dw11;
		break;
	case TT_NVME_FEAT_KATO:
		c->kato_ms = dw11;
		tt_nvmf_ctrl_keep_alive(c);
		if (c->kato_ms)
			tt_timer_arm_ms(&c->ka_timer, c->kato_ms);
		else
			tt_timer_cancel(&c->ka_timer);
		break;
	case TT_NVME_FEAT_VOLATILE_WC:
		c->wce = dw11 & 0x1;
		break;
	case TT_NVME_FEAT_RESV_MASK:
	case TT_NVME_FEAT_RESV_PERSIST: {
		uint32_t v = 0;
		uint16_t st = tt_nvmf_resv_feature(r, c, true, &v);

		tt_nvmf_req_done(r, st, v);
		return;
	}
	default:
		done(r, TT_NVME_SC_INVALID_FIELD | TT_NVME_DNR);
		return;
	}
	done(r, 0);
}

static void get_features(struct tt_nvmf_req *r, struct tt_nvmf_ctrl *c)
{
	uint8_t fid = r->sqe[TT_SQE_CDW10], sel = (r->sqe[TT_SQE_CDW10 + 1] >> 0) & 0x7;
	uint32_t v;

	if (sel == 3) { /* supported capabilities: changeable, not saveable */
		tt_nvmf_req_done(r, 0, 0x4);
		return;
	}
	switch (fid) {
	case TT_NVME_FEAT_NUM_QUEUES: {
		uint32_t n = c->io_queues ? c->io_queues : TT_NVMF_MAX_IO_QUEUES;

		v = (n - 1) | (n - 1) << 16;
		break;
	}
	case TT_NVME_FEAT_ASYNC_EVENT:
		v = sel == 1 ? 0 : c->aec;
		break;
	case TT_NVME_FEAT_KATO:
		v = c->kato_ms;
		break;
	case TT_NVME_FEAT_VOLATILE_WC:
		v = sel == 1 ? 1 : c->wce;
		break;
	case TT_NVME_FEAT_RESV_MASK:
	case TT_NVME_FEAT_RESV_PERSIST: {
		uint16_t st = tt_nvmf_resv_feature(r, c, false, &v);

		if (st) {
			done(r, st);
			return;
		}
		break;
	}
	default:
		done(r, TT_NVME_SC_INVALID_FIELD | TT_NVME_DNR);
		return;
	}
	tt_nvmf_req_done(r, 0, v);
}

void tt_nvmf_admin_exec(struct tt_nvmf_req *r)
{
	struct tt_nvmf_ctrl *c = r->ctrl;

	switch (r->sqe[TT_SQE_OPC]) {
	case TT_NVME_ADM_IDENTIFY:
		identify(r, c);
		return;
	case TT_NVME_ADM_GET_LOG_PAGE:
		get_log_page(r, c);
		return;
	case TT_NVME_ADM_SET_FEATURES:
		if (c->subsys->discovery && r->sqe[TT_SQE_CDW10] != TT_NVME_FEAT_KATO &&
		    r->sqe[TT_SQE_CDW10] != TT_NVME_FEAT_ASYNC_EVENT) {
			done(r, TT_NVME_SC_INVALID_FIELD | TT_NVME_DNR);
			return;
		}
		set_features(r, c);
		return;
	case TT_NVME_ADM_GET_FEATURES:
		get_features(r, c);
		return;
	case TT_NVME_ADM_KEEP_ALIVE:
		tt_nvmf_ctrl_keep_alive(c);
		done(r, 0);
		return;
	case TT_NVME_ADM_ASYNC_EVENT:
		tt_nvmf_ctrl_aer(r);
		return;
	case TT_NVME_ADM_ABORT:
		/* commands are not aborted one by one: dword 0 bit 0 set = not aborted */
		tt_nvmf_req_done(r, 0, 1);
		return;
	default:
		done(r, TT_NVME_SC_INVALID_OPCODE | TT_NVME_DNR);
		return;
	}
}
