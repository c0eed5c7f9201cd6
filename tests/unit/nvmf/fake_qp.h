/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A transport of the NVMe-oF unit tests: queue pairs whose completions land in a table (the
 * caps of NVMe/TCP), commands built with a transport SGL, executed and waited for on the loop
 * the core runs on (fq_loop, set by the test).
 */
#ifndef TT_TESTS_NVMF_FAKE_QP_H
#define TT_TESTS_NVMF_FAKE_QP_H

#include <stdlib.h>
#include <string.h>

#include "base/loop.h"
#include "nvmf/nvmf.h"

struct fake_qp {
	struct tt_nvmf_qpair qp;
	unsigned completions, disconnects;
	uint8_t last_cqe[16];
	struct tt_nvmf_req *last;
};

struct fake_req {
	struct tt_nvmf_req req;
	bool done;
	uint8_t data[8192];
};

static struct tt_loop *fq_loop;

static inline void fq_complete(struct tt_nvmf_req *r)
{
	struct fake_qp *f = tt_container_of(r->qp, struct fake_qp, qp);

	f->completions++;
	memcpy(f->last_cqe, r->cqe, 16);
	f->last = r;
	tt_container_of(r, struct fake_req, req)->done = true;
}

static inline void fq_disconnect(struct tt_nvmf_qpair *qp)
{
	tt_container_of(qp, struct fake_qp, qp)->disconnects++;
}

/* the caps of NVMe/TCP: in-capsule data at offset 0, transport SGL data blocks */
static const struct tt_nvmf_xport_caps fq_caps = {
	.icd_max = TT_NVMF_IN_CAPSULE,
	.transport_sgl = TT_SGL_TRANSPORT_BLOCK,
	.sgls = 0x1 | 1u << 20,
};

static const struct tt_nvmf_qpair_ops fq_ops = { .caps = &fq_caps,
						 .complete = fq_complete,
						 .disconnect = fq_disconnect };

static inline uint16_t status_of(const struct tt_nvmf_req *r)
{
	return (uint16_t)((tt_le16(r->cqe + 14) >> 1) & 0x7ff);
}

static inline void run_until(bool *flag)
{
	for (int i = 0; i < 2000 && !*flag; i++)
		tt_loop_run_once(fq_loop, 1);
	assert_true(*flag);
}

/* A command with SGL length @len (transport data block), data in r->data. */
static inline struct fake_req *cmd(struct fake_qp *q, uint8_t opc, uint32_t nsid, uint32_t len,
				   bool h2c)
{
	struct fake_req *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	r->req.qp = &q->qp;
	r->req.sqe[0] = opc;
	r->req.sqe[1] = 0x40;
	tt_put_le16(r->req.sqe + 2, (uint16_t)(q->completions + 1));
	tt_put_le32(r->req.sqe + 4, nsid);
	tt_put_le32(r->req.sqe + 32, len);
	r->req.sqe[39] = h2c ? TT_SGL_DATA_BLOCK_OFFSET : TT_SGL_TRANSPORT_BLOCK;
	r->req.buf = r->data;
	return r;
}

/* Lays out and executes @r, runs the loop until it completes; returns its status. */
static inline uint16_t exec(struct fake_req *r)
{
	bool inc;

	assert_int_equal(tt_nvmf_req_layout(&r->req, &inc), 0);
	r->req.buf = r->data;
	tt_nvmf_req_exec(&r->req);
	run_until(&r->done);
	return status_of(&r->req);
}

#endif
