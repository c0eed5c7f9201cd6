/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The block pattern of `tether bench --verify` and the map of what each block must hold.
 *
 * Every logical block written carries a 40-byte header, then filler:
 *
 *	 0  magic "TTHRVFY1"
 *	 8  LBA (little endian, in logical blocks of the unit)
 *	16  generation: run id << 32 | write number within the run
 *	24  seed of the filler (derived from run id, LBA and write number)
 *	32  CRC32C of the whole block, computed with these 4 bytes zero
 *	36  zero
 *	40  filler: xorshift64* stream of the seed
 *
 * The map holds, per I/O unit ("chunk", --bs bytes), the write number of the last acknowledged
 * write (gen), the one before it (prev), and a write whose outcome is unknown because it failed
 * (alt: the unit may hold either). A chunk is never read and written at once (busy), so a read
 * is judged against a settled state:
 *	gen or alt found           right
 *	prev found                 lost write (the acknowledged write is not there)
 *	older than prev            stale write (a superseded write landed later)
 *	newer than gen             unexpected (a write never acknowledged)
 *	LBA differs (CRC right)    misplaced write
 *	bad magic or CRC           corruption
 * A block of a previous run counts as write number 0 (before this run). Chunks not written in
 * this run are checked for the format only (all-zero blocks count as unwritten), and only when
 * the map is told to (a read-only verification of an earlier run).
 */
#ifndef TT_CMD_VERIFY_H
#define TT_CMD_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#define VFY_HDR_BYTES 40

enum vfy_kind { VFY_LOST, VFY_STALE, VFY_MISPLACED, VFY_CORRUPT, VFY_UNEXPECTED, VFY_KINDS };
extern const char *const vfy_kind_name[VFY_KINDS];

struct vfy_counts {
	uint64_t blocks_checked;
	uint64_t blocks_unwritten;  /* all-zero blocks not written in this run */
	uint64_t errors;            /* blocks found wrong */
	uint64_t kind[VFY_KINDS];
};

struct vfy;

/* @first_lba: LBA of chunk 0; @chunk_bytes a multiple of @lbsize (>= 64). */
int vfy_new(struct vfy **out, uint64_t first_lba, uint64_t nchunks, uint32_t chunk_bytes,
	    uint32_t lbsize, uint32_t run_id, bool check_unwritten);
void vfy_free(struct vfy *v);

bool vfy_busy(const struct vfy *v, uint64_t chunk);
bool vfy_written(const struct vfy *v, uint64_t chunk); /* by this run */
/* A write of the chunk: fills @buf (chunk_bytes) with the next generation; marks it busy. */
void vfy_write_begin(struct vfy *v, uint64_t chunk, void *buf);
void vfy_write_end(struct vfy *v, uint64_t chunk, int status);
void vfy_read_begin(struct vfy *v, uint64_t chunk);
/* Judges the chunk's blocks in @buf (when @status is 0) and frees the chunk. Returns the
 * number of wrong blocks. */
uint64_t vfy_read_end(struct vfy *v, uint64_t chunk, const void *buf, int status);
const struct vfy_counts *vfy_counts(const struct vfy *v);

#endif
