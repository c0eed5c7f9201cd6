/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared by the libFuzzer harnesses: quiet logging (TT_FUZZ_LOG=1 keeps it), and a reader that
 * cuts one input into a few control bytes and the rest.
 */
#ifndef TT_TESTS_FUZZ_UTIL_H
#define TT_TESTS_FUZZ_UTIL_H

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Messages are still formatted (their code runs) but go to /dev/null. */
static inline void fuzz_quiet_log(void)
{
	const char *keep = getenv("TT_FUZZ_LOG");

	if (keep && *keep && strcmp(keep, "0") != 0) {
		tt_log_set_level(TT_LOG_DEBUG);
		return;
	}
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

	if (fd >= 0)
		tt_log_set_fd(fd); /* kept for the life of the process */
	tt_log_set_level(TT_LOG_ERR);
}

/* Consumes bytes from the front of an input. */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
	uint8_t v = 0;

	if (in->n) {
		v = *in->p++;
		in->n--;
	}
	return v;
}

static inline uint32_t fuzz_u32(struct fuzz_in *in)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v = v << 8 | fuzz_u8(in);
	return v;
}

/*
 * The next part of the input up to @sep (not included; the separator is consumed), or the rest.
 * Returns false when the input is exhausted.
 */
static inline bool fuzz_part(struct fuzz_in *in, uint8_t sep, const uint8_t **p, size_t *n)
{
	const uint8_t *end;

	if (!in->n)
		return false;
	end = memchr(in->p, sep, in->n);
	*p = in->p;
	*n = end ? (size_t)(end - in->p) : in->n;
	in->p += *n + (end ? 1 : 0);
	in->n -= *n + (end ? 1 : 0);
	return true;
}

#endif
