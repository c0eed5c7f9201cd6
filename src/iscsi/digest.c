/* SPDX-License-Identifier: BSD-3-Clause */
#include "iscsi/digest.h"

#include <isa-l/crc.h>
#include <limits.h>

/*
 * isa-l's crc32_iscsi() runs the reflected CRC32C register from the value it
 * is given and returns the register without the final inversion, so chaining
 * calls continues the same CRC.
 */
uint32_t tt_crc32c_init(void)
{
	return 0xffffffffu;
}

uint32_t tt_crc32c_update(uint32_t state, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len > 0) {
		int n = len > (size_t)INT_MAX ? INT_MAX : (int)len;
		state = crc32_iscsi((unsigned char *)p, n, state);
		p += n;
		len -= (size_t)n;
	}
	return state;
}

uint32_t tt_crc32c_final(uint32_t state)
{
	return state ^ 0xffffffffu;
}

uint32_t tt_crc32c(const void *buf, size_t len)
{
	return tt_crc32c_final(tt_crc32c_update(tt_crc32c_init(), buf, len));
}

uint32_t tt_crc32c_update_iov(uint32_t state, const struct iovec *iov, int iovcnt)
{
	for (int i = 0; i < iovcnt; i++)
		state = tt_crc32c_update(state, iov[i].iov_base, iov[i].iov_len);
	return state;
}

uint32_t tt_crc32c_update_zeros(uint32_t state, size_t n)
{
	static const unsigned char zeros[64];

	while (n > 0) {
		size_t k = n < sizeof(zeros) ? n : sizeof(zeros);
		state = tt_crc32c_update(state, zeros, k);
		n -= k;
	}
	return state;
}

uint32_t tt_crc32c_data(const struct iovec *iov, int iovcnt, size_t len)
{
	uint32_t state = tt_crc32c_init();
	size_t left = len;

	for (int i = 0; i < iovcnt && left > 0; i++) {
		size_t k = iov[i].iov_len < left ? iov[i].iov_len : left;
		state = tt_crc32c_update(state, iov[i].iov_base, k);
		left -= k;
	}
	state = tt_crc32c_update_zeros(state, (4 - (len & 3)) & 3);
	return tt_crc32c_final(state);
}

void tt_crc32c_put(uint8_t out[TT_DIGEST_LEN], uint32_t digest)
{
	out[0] = (uint8_t)digest;
	out[1] = (uint8_t)(digest >> 8);
	out[2] = (uint8_t)(digest >> 16);
	out[3] = (uint8_t)(digest >> 24);
}

uint32_t tt_crc32c_get(const uint8_t in[TT_DIGEST_LEN])
{
	return (uint32_t)in[0] | (uint32_t)in[1] << 8 | (uint32_t)in[2] << 16 |
	       (uint32_t)in[3] << 24;
}
