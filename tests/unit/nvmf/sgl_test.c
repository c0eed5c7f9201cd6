/* SPDX-License-Identifier: BSD-3-Clause */
/* The data descriptor of a command (sgl.c) on the caps of NVMe/RDMA and of NVMe/TCP: keyed SGL
 * data blocks (address and invalidate subtypes, 24-bit length), in-capsule data at an offset,
 * and the statuses of every descriptor a transport does not take. */
#include "tt_test.h"

#include "nvmf/nvmf.h"

static const struct tt_nvmf_xport_caps rdma_caps = {
	.icd_max = 8192, .icd_offset = true, .keyed = true, .sgls = 0x100005,
};
static const struct tt_nvmf_xport_caps tcp_caps = {
	.icd_max = 8192, .icd_offset = false, .transport_sgl = TT_SGL_TRANSPORT_BLOCK,
	.sgls = 0x100001,
};
static const struct tt_nvmf_qpair_ops rdma_ops = { .caps = &rdma_caps };
static const struct tt_nvmf_qpair_ops tcp_ops = { .caps = &tcp_caps };
static struct tt_nvmf_qpair rdma_qp = { .ops = &rdma_ops };
static struct tt_nvmf_qpair tcp_qp = { .ops = &tcp_ops };

#define BAD(sc) ((uint16_t)((sc) | TT_NVME_DNR))

/* A command @opc whose SGL1 is (@addr, @len, @id); keyed descriptors take @key. */
static void cmd(struct tt_nvmf_req *r, struct tt_nvmf_qpair *qp, uint8_t opc, uint64_t addr,
		uint32_t len, uint32_t key, uint8_t id)
{
	uint8_t *sgl = r->sqe + TT_SQE_SGL;

	memset(r, 0, sizeof(*r));
	r->qp = qp;
	r->sqe[TT_SQE_OPC] = opc;
	r->sqe[TT_SQE_FLAGS] = 0x40; /* PSDT: SGL */
	tt_put_le64(sgl, addr);
	if ((id >> 4) == 0x4) {
		sgl[8] = (uint8_t)len;
		sgl[9] = (uint8_t)(len >> 8);
		sgl[10] = (uint8_t)(len >> 16);
		tt_put_le32(sgl + 11, key);
	} else {
		tt_put_le32(sgl + 8, len);
	}
	sgl[15] = id;
}

static uint16_t layout(struct tt_nvmf_req *r, bool *inc)
{
	*inc = true; /* must be set false unless in the capsule */
	return tt_nvmf_req_layout(r, inc);
}

static void test_keyed(void **state)
{
	struct tt_nvmf_req r;
	bool inc;

	(void)state;
	/* a write of 128 KiB by keyed SGL, address subtype: the length is 24 bits, the key next */
	cmd(&r, &rdma_qp, TT_NVME_CMD_WRITE, 0x7f0012345000ull, 128 * 1024, 0xa1b2c3d4, 0x40);
	assert_int_equal(layout(&r, &inc), 0);
	assert_false(inc);
	assert_int_equal(r.dir, TT_NVMF_DIR_H2C);
	assert_int_equal(r.len, 128 * 1024);
	assert_int_equal(r.sgl.kind, TT_NVMF_SGL_KEYED);
	assert_true(r.sgl.addr == 0x7f0012345000ull);
	assert_int_equal(r.sgl.key, 0xa1b2c3d4);
	assert_false(r.sgl.invalidate);
	/* a read with the invalidate subtype */
	cmd(&r, &rdma_qp, TT_NVME_CMD_READ, 0x1000, 4096, 0x11, 0x4f);
	assert_int_equal(layout(&r, &inc), 0);
	assert_int_equal(r.dir, TT_NVMF_DIR_C2H);
	assert_int_equal(r.len, 4096);
	assert_true(r.sgl.invalidate);
	assert_int_equal(r.sgl.key, 0x11);
	/* a key whose low byte would make a 32-bit length huge does not change the length */
	cmd(&r, &rdma_qp, TT_NVME_CMD_READ, 0x1000, 512, 0xffffffff, 0x40);
	assert_int_equal(layout(&r, &inc), 0);
	assert_int_equal(r.len, 512);
	/* beyond MDTS (128 KiB): Data SGL Length Invalid */
	cmd(&r, &rdma_qp, TT_NVME_CMD_WRITE, 0x1000, 128 * 1024 + 512, 1, 0x40);
	assert_int_equal(layout(&r, &inc), BAD(TT_NVME_SC_SGL_INVALID_DATA));
	cmd(&r, &rdma_qp, TT_NVME_CMD_READ, 0x1000, 0xffffff, 1, 0x4f);
	assert_int_equal(layout(&r, &inc), BAD(TT_NVME_SC_SGL_INVALID_DATA));
	/* subtypes other than address (0) and invalidate (Fh): SGL Descriptor Type Invalid */
	for (uint8_t sub = 1; sub < 0xf; sub++) {
		cmd(&r, &rdma_qp, TT_NVME_CMD_WRITE, 0x1000, 4096, 1, (uint8_t)(0x40 | sub));
		assert_int_equal(layout(&r, &inc), BAD(TT_NVME_SC_SGL_INVALID_TYPE));
	}
	/* a zero length: no data, whatever the key */
	cmd(&r, &rdma_qp, TT_NVME_CMD_WRITE, 0x1000, 0, 1, 0x40);
	assert_int_equal(layout(&r, &inc), 0);
	assert_int_equal(r.dir, TT_NVMF_DIR_NONE);
	assert_int_equal(r.sgl.kind, TT_NVMF_SGL_NONE);
	/* NVMe/TCP takes no keyed descriptor */
	cmd(&r, &tcp_qp, TT_NVME_CMD_WRITE, 0x1000, 4096, 1, 0x40);
	assert_int_equal(layout(&r, &inc), BAD(TT_NVME_SC_SGL_INVALID_TYPE));
}

static void test_in_capsule(void **state)
{
	struct tt_nvmf_req r;
	bool inc;

	(void)state;
	cmd(&r, &rdma_qp, TT_NVME_CMD_WRITE, 0, 4096, 0, TT_SGL_DATA_BLOCK_OFFSET);
	assert_int_equal(layout(&r, &inc), 0);
	assert_true(inc);
	assert_int_equal(r.sgl.kind, TT_NVMF_SGL_IN_CAPSULE);
	assert_int_equal(r.len, 4096);
	/* at an offset inside the 8 KiB (RDMA), up to its end */
	cmd(&r, &rdma_qp, TT_NVME_CMD_WRITE, 4096, 4096, 0, TT_SGL_DATA_BLOCK_OFFSET);
	assert_int_equal(layout(&r, &inc), 0);
	assert_true(r.sgl.addr == 4096);
	/* past the end of the in-capsule data: Invalid SGL Offset */
	cmd(&r, &rdma_qp, TT_NVME_CMD_WRITE, 4097, 4096, 0, TT_SGL_DATA_BLOCK_OFFSET);
	assert_int_equal(layout(&r, &inc), BAD(TT_NVME_SC_SGL_INVALID_OFFSET));
	cmd(&r, &rdma_qp, TT_NVME_CMD_WRITE, 0xffffffffffffff00ull, 512, 0, TT_SGL_DATA_BLOCK_OFFSET);
	assert_int_equal(layout(&r, &inc), BAD(TT_NVME_SC_SGL_INVALID_OFFSET));
	/* more than the capsule holds: Data SGL Length Invalid */
	cmd(&r, &rdma_qp, TT_NVME_CMD_WRITE, 0, 8192 + 512, 0, TT_SGL_DATA_BLOCK_OFFSET);
	assert_int_equal(layout(&r, &inc), BAD(TT_NVME_SC_SGL_INVALID_DATA));
	/* in-capsule data of a read: SGL Descriptor Type Invalid */
	cmd(&r, &rdma_qp, TT_NVME_CMD_READ, 0, 4096, 0, TT_SGL_DATA_BLOCK_OFFSET);
	assert_int_equal(layout(&r, &inc), BAD(TT_NVME_SC_SGL_INVALID_TYPE));
	/* a Fabrics Connect (command type 01h: host to controller) with its data in the capsule */
	cmd(&r, &rdma_qp, TT_NVME_FABRICS, 0, 1024, 0, TT_SGL_DATA_BLOCK_OFFSET);
	r.sqe[TT_SQE_FCTYPE] = TT_NVMF_CONNECT;
	assert_int_equal(layout(&r, &inc), 0);
	assert_true(inc);
	assert_int_equal(r.dir, TT_NVMF_DIR_H2C);
	/* NVMe/TCP: in-capsule data starts right after the SQE */
	cmd(&r, &tcp_qp, TT_NVME_CMD_WRITE, 16, 4096, 0, TT_SGL_DATA_BLOCK_OFFSET);
	assert_int_equal(layout(&r, &inc), BAD(TT_NVME_SC_SGL_INVALID_OFFSET));
	cmd(&r, &tcp_qp, TT_NVME_CMD_WRITE, 0, 4096, 0, TT_SGL_DATA_BLOCK_OFFSET);
	assert_int_equal(layout(&r, &inc), 0);
	assert_true(inc);
}

static void test_other_descriptors(void **state)
{
	static const uint8_t refused[] = {
		0x00,   /* data block, address subtype: no host memory to address on a fabric */
		0x02, 0x0f,
		0x10,   /* bit bucket */
		0x20,   /* segment */
		0x30,   /* last segment */
		0x5a,   /* NVMe/TCP's transport data block, on RDMA */
		0x60, 0xe0, 0xf0,
	};
	struct tt_nvmf_req r;
	bool inc;

	(void)state;
	for (size_t i = 0; i < sizeof(refused); i++) {
		cmd(&r, &rdma_qp, TT_NVME_CMD_WRITE, 0, 4096, 0, refused[i]);
		assert_int_equal(layout(&r, &inc), BAD(TT_NVME_SC_SGL_INVALID_TYPE));
		assert_false(inc);
	}
	/* NVMe/TCP takes its own transport data block, for reads and writes */
	cmd(&r, &tcp_qp, TT_NVME_CMD_READ, 0, 65536, 0, TT_SGL_TRANSPORT_BLOCK);
	assert_int_equal(layout(&r, &inc), 0);
	assert_int_equal(r.sgl.kind, TT_NVMF_SGL_TRANSPORT);
	assert_int_equal(r.dir, TT_NVMF_DIR_C2H);
	/* a transport data block of another subtype */
	cmd(&r, &tcp_qp, TT_NVME_CMD_READ, 0, 65536, 0, 0x5b);
	assert_int_equal(layout(&r, &inc), BAD(TT_NVME_SC_SGL_INVALID_TYPE));
	/* PRPs (PSDT 0) for a command with data: Invalid Field */
	cmd(&r, &rdma_qp, TT_NVME_CMD_WRITE, 0x1000, 4096, 1, 0x40);
	r.sqe[TT_SQE_FLAGS] = 0;
	assert_int_equal(layout(&r, &inc), BAD(TT_NVME_SC_INVALID_FIELD));
	/* no data transfer (Flush): the descriptor is not read */
	cmd(&r, &rdma_qp, TT_NVME_CMD_FLUSH, 0, 4096, 0, 0xf0);
	assert_int_equal(layout(&r, &inc), 0);
	assert_int_equal(r.dir, TT_NVMF_DIR_NONE);
	assert_int_equal(r.len, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keyed),
		cmocka_unit_test(test_in_capsule),
		cmocka_unit_test(test_other_descriptors),
	};

	return tt_run_group("sgl_test", tests, NULL, NULL);
}
