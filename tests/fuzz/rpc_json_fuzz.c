/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket's requests (src/target/rpc.c, rpc_methods.c): the input is one request
 * line, decoded as the socket does (jansson, duplicate keys refused), answered by tt_rpc_handle
 * (the JSON-RPC envelope, batches, the methods and their params) and the answer encoded.
 *
 * The methods run against the real model on loop 0, emptied after each input. Methods that
 * reach outside the process are replaced before the request runs: portal_add/portal_remove
 * (sockets), log_set (the process's log settings) and shutdown become an unknown method, and a
 * LUN backend other than ram: or null: (files) becomes "null:1M".
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/loop.h"
#include "fuzz_util.h"
#include "target/iscsi_target.h"
#include "target/model.h"
#include "target/rpc.h"

static const char *const allowed[] = {
	"target_create", "target_delete", "target_list", "tpg_create", "tpg_delete",
	"portal_list", "alua_set", "alua_list", "lun_add", "lun_remove", "acl_add", "acl_remove",
	"session_list", "config_dump", "rpc_methods", NULL
};

static struct tt_loop *loop0;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_log();
	if (tt_loops_start(1) != 0 || tt_iscsi_target_init() != 0)
		abort();
	loop0 = tt_loops_get(0);
	tt_loop_run_once(loop0, 0);
	return 0;
}

static void restrict_one(json_t *req)
{
	json_t *m = json_object_get(req, "method"), *params, *backend;
	const char *name;
	bool ok = false;

	if (!json_is_string(m))
		return;
	name = json_string_value(m);
	for (const char *const *a = allowed; *a; a++)
		ok |= strcmp(name, *a) == 0;
	if (!ok) {
		/* unknown methods are still answered, as the socket would */
		if (tt_rpc_method_find(name))
			json_object_set_new(req, "method", json_string("fuzz_refused"));
		return;
	}
	params = json_object_get(req, "params");
	backend = json_object_get(params, "backend");
	if (json_is_string(backend) && strncmp(json_string_value(backend), "ram:", 4) != 0 &&
	    strncmp(json_string_value(backend), "null:", 5) != 0)
		json_object_set_new(params, "backend", json_string("null:1M"));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	json_t *req, *resp, *elem;
	size_t i;

	req = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	if (!req)
		return 0;
	if (json_is_array(req))
		json_array_foreach(req, i, elem)
			restrict_one(elem);
	else
		restrict_one(req);
	resp = tt_rpc_handle(req);
	json_decref(req);
	if (resp) {
		char *s = json_dumps(resp, JSON_COMPACT | JSON_REAL_PRECISION(12));

		if (!s)
			__builtin_trap(); /* every answer encodes */
		free(s);
		json_decref(resp);
	}
	tt_model_clear();
	for (int k = 0; k < 4; k++) /* deferred frees */
		tt_loop_run_once(loop0, 0);
	return 0;
}
