/* SPDX-License-Identifier: BSD-3-Clause */
/* NVMe/RDMA CM private data: the request's checks and reject statuses, accept and reject
 * layouts. */
#include "tt_test.h"

#include "nvmf/nvme.h"
#include "nvmf/rdma_cm.h"

/* A CM Request as a Linux host sends it, in a buffer of @room bytes (RDMA_CM over InfiniBand
 * hands up the whole private data area, zero-filled past what the host wrote). */
static void req(uint8_t *b, size_t room, uint16_t recfmt, uint16_t qid, uint16_t hrqsize,
		uint16_t hsqsize)
{
	memset(b, 0, room);
	tt_put_le16(b + 0, recfmt);
	tt_put_le16(b + 2, qid);
	tt_put_le16(b + 4, hrqsize);
	tt_put_le16(b + 6, hsqsize);
	tt_put_le16(b + 8, 0xffff);
}

static uint16_t parse(const uint8_t *b, size_t len, struct tt_nvrdma_cm_req *out)
{
	return tt_nvrdma_cm_req_parse(b, len, 64, 128, out);
}

static void test_request_ok(void **state)
{
	struct tt_nvrdma_cm_req r;
	uint8_t b[56];

	(void)state;
	/* admin queue: 32 entries (HSQSIZE 31), host receive queue 32 */
	req(b, sizeof(b), 0, 0, 32, 31);
	assert_int_equal(parse(b, 32, &r), TT_NVRDMA_CM_OK);
	assert_int_equal(r.qid, 0);
	assert_int_equal(r.hrqsize, 32);
	assert_int_equal(r.hsqsize, 31);
	assert_int_equal(r.cntlid, 0xffff);
	/* I/O queue 3 of 128 entries; more bytes than a request (the rest of the CM message) */
	req(b, sizeof(b), 0, 3, 128, 127);
	assert_int_equal(parse(b, sizeof(b), &r), TT_NVRDMA_CM_OK);
	assert_int_equal(r.qid, 3);
	assert_int_equal(r.hsqsize, 127);
	/* the highest queue id and the smallest queue */
	req(b, sizeof(b), 0, 64, 2, 1);
	assert_int_equal(parse(b, 32, &r), TT_NVRDMA_CM_OK);
}

static void test_request_refused(void **state)
{
	struct tt_nvrdma_cm_req r;
	uint8_t b[56];

	(void)state;
	req(b, sizeof(b), 0, 1, 128, 127);
	/* shorter than a CM Request, or none at all */
	assert_int_equal(parse(b, 31, &r), TT_NVRDMA_CM_INVALID_LEN);
	assert_int_equal(parse(b, 0, &r), TT_NVRDMA_CM_INVALID_LEN);
	assert_int_equal(parse(NULL, 32, &r), TT_NVRDMA_CM_INVALID_LEN);
	/* record format other than 0 */
	req(b, sizeof(b), 1, 1, 128, 127);
	assert_int_equal(parse(b, 32, &r), TT_NVRDMA_CM_INVALID_RECFMT);
	/* queue id beyond the I/O queues */
	req(b, sizeof(b), 0, 65, 128, 127);
	assert_int_equal(parse(b, 32, &r), TT_NVRDMA_CM_INVALID_QID);
	req(b, sizeof(b), 0, 0xffff, 128, 127);
	assert_int_equal(parse(b, 32, &r), TT_NVRDMA_CM_INVALID_QID);
	/* send queue: 1 entry (0's based 0), beyond the depth, an admin queue beyond 32 */
	req(b, sizeof(b), 0, 1, 128, 0);
	assert_int_equal(parse(b, 32, &r), TT_NVRDMA_CM_INVALID_HSQSIZE);
	req(b, sizeof(b), 0, 1, 128, 128);
	assert_int_equal(parse(b, 32, &r), TT_NVRDMA_CM_INVALID_HSQSIZE);
	req(b, sizeof(b), 0, 1, 128, 0xffff);
	assert_int_equal(parse(b, 32, &r), TT_NVRDMA_CM_INVALID_HSQSIZE);
	req(b, sizeof(b), 0, 0, 32, 32);
	assert_int_equal(parse(b, 32, &r), TT_NVRDMA_CM_INVALID_HSQSIZE);
	/* receive queue: none, or beyond the depth */
	req(b, sizeof(b), 0, 1, 0, 127);
	assert_int_equal(parse(b, 32, &r), TT_NVRDMA_CM_INVALID_HRQSIZE);
	req(b, sizeof(b), 0, 1, 129, 127);
	assert_int_equal(parse(b, 32, &r), TT_NVRDMA_CM_INVALID_HRQSIZE);
	/* every status has a name for the log */
	for (uint16_t s = TT_NVRDMA_CM_INVALID_LEN; s <= TT_NVRDMA_CM_INVALID_ORD; s++)
		assert_string_not_equal(tt_nvrdma_cm_status_name(s), "?");
}

static void test_accept_reject(void **state)
{
	uint8_t b[TT_NVRDMA_CM_ACCEPT_LEN];

	(void)state;
	memset(b, 0xee, sizeof(b));
	tt_nvrdma_cm_accept(b, 128);
	assert_int_equal(tt_le16(b + 0), 0);
	assert_int_equal(tt_le16(b + 2), 128);
	for (size_t i = 4; i < sizeof(b); i++)
		assert_int_equal(b[i], 0);
	memset(b, 0xee, sizeof(b));
	tt_nvrdma_cm_reject(b, TT_NVRDMA_CM_INVALID_HSQSIZE);
	assert_int_equal(tt_le16(b + 0), 0);
	assert_int_equal(tt_le16(b + 2), 0x04);
	assert_int_equal(b[4], 0xee); /* 4 bytes only */
	tt_nvrdma_cm_reject(b, TT_NVRDMA_CM_NO_RESOURCES);
	assert_int_equal(tt_le16(b + 2), 0x06);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_ok),
		cmocka_unit_test(test_request_refused),
		cmocka_unit_test(test_accept_reject),
	};

	return tt_run_group("rdma_cm_test", tests, NULL, NULL);
}
