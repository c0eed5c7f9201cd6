/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * iSCSI header and data digests: CRC32C (Castagnoli, RFC 7143 §13.1, RFC 3720
 * Appendix B.4), computed with isa-l.  The digest of a buffer is the CRC with
 * initial value 0xffffffff and final XOR 0xffffffff; on the wire it is sent
 * least significant byte first (tt_crc32c_put): for 32 zero bytes the digest is
 * 0x8a9136aa and the bytes sent are aa 36 91 8a.
 */
#ifndef TT_ISCSI_DIGEST_H
#define TT_ISCSI_DIGEST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define TT_DIGEST_LEN 4

/* One-shot digest of a buffer. */
uint32_t tt_crc32c(const void *buf, size_t len);

/* Streaming: state = init(); state = update(state, ...)...; digest = final(state). */
uint32_t tt_crc32c_init(void);
uint32_t tt_crc32c_update(uint32_t state, const void *buf, size_t len);
uint32_t tt_crc32c_final(uint32_t state);

/* Continue over an iovec array. */
uint32_t tt_crc32c_update_iov(uint32_t state, const struct iovec *iov, int iovcnt);
/* Continue over n zero bytes (padding). */
uint32_t tt_crc32c_update_zeros(uint32_t state, size_t n);

/*
 * Data digest of a data segment of total length len held in iov, including the
 * zero padding up to a multiple of 4 bytes that RFC 7143 §11.1 covers.
 * The iov may hold more than len bytes; only len are used.
 */
uint32_t tt_crc32c_data(const struct iovec *iov, int iovcnt, size_t len);

/* Wire encoding of a digest (4 bytes, least significant first). */
void tt_crc32c_put(uint8_t out[TT_DIGEST_LEN], uint32_t digest);
uint32_t tt_crc32c_get(const uint8_t in[TT_DIGEST_LEN]);

#endif
