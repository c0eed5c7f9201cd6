/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CHAP (src/iscsi/chap.c), both roles: up to four messages from the peer, each a key=value data
 * segment, through tt_chap_target_step (or, with the role bit, tt_chap_initiator_step after
 * tt_chap_initiator_start), until the exchange fails or is done.
 *
 * The challenges come from RAND_bytes, replaced here by a fixed sequence that restarts with each
 * input: a run is deterministic and the seeds can carry correct responses (tests/fuzz/seeds.py),
 * so that mutual CHAP is reached.
 *
 * Input: flags, then the messages separated by 0xff.
 *   flags bit 0 initiator role, 1 mutual CHAP configured, 2-5 the algorithms allowed (MD5,
 *         SHA-1, SHA-256, SHA3-256; none: the default set)
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "iscsi/chap.h"
#include "iscsi/text.h"

#define INITIATOR_NAME "iqn.1994-05.com.redhat:host1"
#define INITIATOR_SECRET "initiatorsecret1"
#define TARGET_NAME "iqn.2026-11.org.tether:default"
#define TARGET_SECRET "targetsecret123"

static uint8_t rand_next;

/* OpenSSL's, replaced: 0, 1, 2, ... from the start of each input. */
int RAND_bytes(unsigned char *buf, int num);
int RAND_bytes(unsigned char *buf, int num)
{
	for (int i = 0; i < num; i++)
		buf[i] = rand_next++;
	return 1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_log();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t flags = fuzz_u8(&in);
	bool initiator = flags & 1, mutual = flags & 2;
	unsigned mask = 0;
	struct tt_chap_cred ini = { INITIATOR_NAME, (const uint8_t *)INITIATOR_SECRET,
				    sizeof(INITIATOR_SECRET) - 1 };
	struct tt_chap_cred tgt = { TARGET_NAME, (const uint8_t *)TARGET_SECRET,
				    sizeof(TARGET_SECRET) - 1 };
	struct tt_chap c;
	struct tt_text msg;
	struct tt_text_out out;
	const uint8_t *seg;
	size_t seglen;
	int rc;

	rand_next = 0;
	for (int a = 0; a < 4; a++)
		if (flags & (4u << a))
			mask |= TT_CHAP_ALG_MASK(TT_CHAP_MD5 + a);
	memset(&c, 0, sizeof(c));
	if (initiator)
		rc = tt_chap_initiator_init(&c, &ini, mutual ? &tgt : NULL, mask);
	else
		rc = tt_chap_target_init(&c, &ini, mutual ? &tgt : NULL, mask);
	if (rc)
		__builtin_trap(); /* the credentials above are valid */
	tt_text_init(&msg, 0);
	tt_text_out_init(&out, 0);
	if (initiator)
		rc = tt_chap_initiator_start(&c, &out);
	for (int step = 0; step < 4 && rc == 0 && fuzz_part(&in, 0xff, &seg, &seglen); step++) {
		if (tt_text_parse(&msg, seg, seglen) < 0)
			break;
		tt_text_out_reset(&out);
		if (initiator)
			rc = tt_chap_initiator_step(&c, &msg, &out);
		else
			rc = tt_chap_target_step(&c, &msg, &out);
		if (tt_chap_done(&c))
			break;
	}
	(void)tt_chap_done(&c);
	tt_chap_fini(&c);
	tt_text_out_fini(&out);
	tt_text_fini(&msg);
	return 0;
}
