/* SPDX-License-Identifier: BSD-3-Clause */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tt_test.h"

#include "iscsi/digest.h"

/* Bitwise CRC32C (reflected polynomial 0x82f63b78), independent of isa-l. */
static uint32_t crc32c_bitwise(const uint8_t *p, size_t len)
{
	uint32_t crc = 0xffffffffu;

	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1)));
	}
	return ~crc;
}

/* RFC 3720 Appendix B.4 vectors (kept in RFC 7143 §13.1's reference). */
static void test_rfc_vectors(void **state)
{
	uint8_t buf[32];

	(void)state;
	memset(buf, 0, sizeof(buf));
	assert_int_equal(tt_crc32c(buf, sizeof(buf)), 0x8a9136aa);
	memset(buf, 0xff, sizeof(buf));
	assert_int_equal(tt_crc32c(buf, sizeof(buf)), 0x62a8ab43);
	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)i;
	assert_int_equal(tt_crc32c(buf, sizeof(buf)), 0x46dd794e);
	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)(31 - i);
	assert_int_equal(tt_crc32c(buf, sizeof(buf)), 0x113fdb5c);
}

/*
 * RFC 3720 B.4 lists the 48-byte iSCSI Read (10) command PDU with
 * "CRC: 56 3a 96 d9", the bytes in the order the zero vector prints
 * "aa 36 91 8a" for 0x8a9136aa: least significant first.
 */
static void test_rfc_read10_pdu(void **state)
{
	static const uint8_t pdu[48] = {
		0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
		0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	uint8_t wire[4];

	(void)state;
	assert_int_equal(tt_crc32c(pdu, sizeof(pdu)), 0xd9963a56);
	tt_crc32c_put(wire, tt_crc32c(pdu, sizeof(pdu)));
	assert_int_equal(wire[0], 0x56);
	assert_int_equal(wire[1], 0x3a);
	assert_int_equal(wire[2], 0x96);
	assert_int_equal(wire[3], 0xd9);
}

/* The digest goes on the wire least significant byte first: zeros -> aa 36 91 8a. */
static void test_wire_order(void **state)
{
	uint8_t buf[32] = { 0 };
	uint8_t wire[4];

	(void)state;
	tt_crc32c_put(wire, tt_crc32c(buf, sizeof(buf)));
	assert_int_equal(wire[0], 0xaa);
	assert_int_equal(wire[1], 0x36);
	assert_int_equal(wire[2], 0x91);
	assert_int_equal(wire[3], 0x8a);
	assert_int_equal(tt_crc32c_get(wire), 0x8a9136aa);
}

static void test_matches_bitwise(void **state)
{
	uint8_t buf[1000];

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	for (size_t len = 0; len <= sizeof(buf); len += 37)
		assert_int_equal(tt_crc32c(buf, len), crc32c_bitwise(buf, len));
	assert_int_equal(tt_crc32c(buf, 0), 0);
}

static void test_streaming_and_iov(void **state)
{
	uint8_t buf[300];
	uint32_t s;

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i ^ 0x5a);
	s = tt_crc32c_init();
	s = tt_crc32c_update(s, buf, 1);
	s = tt_crc32c_update(s, buf + 1, 100);
	s = tt_crc32c_update(s, buf + 101, 199);
	assert_int_equal(tt_crc32c_final(s), tt_crc32c(buf, sizeof(buf)));

	struct iovec iov[3] = {
		{ buf, 7 }, { buf + 7, 0 }, { buf + 7, sizeof(buf) - 7 },
	};
	s = tt_crc32c_update_iov(tt_crc32c_init(), iov, 3);
	assert_int_equal(tt_crc32c_final(s), tt_crc32c(buf, sizeof(buf)));
}

/* Data digest covers the pad bytes (zeros) up to a multiple of 4. */
static void test_data_padding(void **state)
{
	uint8_t buf[16];
	uint8_t padded[16] = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(0xa0 + i);
	for (size_t len = 1; len <= 12; len++) {
		size_t plen = (len + 3) & ~(size_t)3;
		memcpy(padded, buf, len);
		memset(padded + len, 0, sizeof(padded) - len);
		struct iovec iov[2] = { { buf, len / 2 }, { buf + len / 2, sizeof(buf) } };
		uint32_t d = tt_crc32c_data(iov, 2, len);
		assert_int_equal(d, tt_crc32c(padded, plen));
		if (len % 4)
			assert_int_not_equal(d, tt_crc32c(buf, len));
	}
	/* zeros helper equals explicit zeros */
	uint8_t z[200] = { 0 };
	uint32_t s = tt_crc32c_update_zeros(tt_crc32c_init(), sizeof(z));
	assert_int_equal(tt_crc32c_final(s), tt_crc32c(z, sizeof(z)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_vectors),
		cmocka_unit_test(test_rfc_read10_pdu),
		cmocka_unit_test(test_wire_order),
		cmocka_unit_test(test_matches_bitwise),
		cmocka_unit_test(test_streaming_and_iov),
		cmocka_unit_test(test_data_padding),
	};
	return tt_run_group("digest_test", tests, NULL, NULL);
}
