/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The configuration file loader (src/target/config_parse.c): the input is decoded as tetherd
 * reads its file (jansson, duplicate keys refused) and checked by tt_config_parse, which has no
 * side effect. A configuration that parses is released again; nothing is applied.
 */
#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "target/config.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_log();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tt_config *cfg = NULL;
	json_error_t jerr;
	json_t *root;
	char err[1024];
	int rc;

	root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return 0;
	err[0] = '\0';
	rc = tt_config_parse(root, &cfg, err, sizeof(err));
	if (rc == 0) {
		if (!cfg)
			__builtin_trap(); /* success without a configuration */
		tt_config_free(cfg);
	} else if (!err[0] || memchr(err, '\0', sizeof(err)) == NULL) {
		__builtin_trap(); /* every failure says why */
	}
	json_decref(root);
	return 0;
}
