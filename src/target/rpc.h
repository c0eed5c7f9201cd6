/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket of tetherd: JSON-RPC 2.0 over a Unix stream socket, one JSON request per
 * line (a last request without newline is accepted at end of input), named params. It runs on
 * loop 0, the loop that owns the model. Methods and their params: docs/cli.md.
 *
 * rpc.c holds the socket, the framing and the JSON-RPC envelope; rpc_methods.c the methods.
 */
#ifndef TT_TARGET_RPC_H
#define TT_TARGET_RPC_H

#include <jansson.h>
#include <stddef.h>

#include "base/loop.h"

#define TT_RPC_DEFAULT_SOCKET "/run/tetherd.sock"
#define TT_RPC_REQUEST_MAX (1u << 20) /* bytes per request line; longer: error, then close */

/* JSON-RPC 2.0 error codes */
#define TT_RPC_PARSE_ERROR -32700
#define TT_RPC_INVALID_REQUEST -32600
#define TT_RPC_METHOD_NOT_FOUND -32601
#define TT_RPC_INVALID_PARAMS -32602
#define TT_RPC_INTERNAL_ERROR -32603
#define TT_RPC_FAILED -32000 /* the operation failed: the model's message; data.errno */

/*
 * Listens on @path (mode 0600). A stale socket file (nobody answers) is replaced; a live one is
 * -EADDRINUSE. Call on @loop's thread; @loop must be loop 0.
 */
int tt_rpc_start(struct tt_loop *loop, const char *path, char *err, size_t errlen);
/* Closes the socket and every client, removes the socket file. Call on loop 0 from outside the
 * socket callbacks (after tt_loop_run returned, or from deferred work). */
void tt_rpc_stop(void);
/* The "shutdown" method calls @cb on loop 0 after its reply was queued. */
void tt_rpc_set_shutdown_cb(void (*cb)(void));
/* The path we listen on, or NULL. */
const char *tt_rpc_socket_path(void);

/* One decoded request (object) or batch (array): the response to send, or NULL for none
 * (notifications). Socket-free, for tests. */
json_t *tt_rpc_handle(json_t *request);

/* --- methods (rpc_methods.c) ---------------------------------------------------------------- */
struct tt_rpc_error {
	int code;            /* TT_RPC_* */
	int errnum;          /* TT_RPC_FAILED: the positive errno, or 0 */
	char message[1024];
	json_t *data;        /* optional: members added to the error's "data" (stolen) */
};

/* Returns 0 with *result set (a new reference), or -errno with @e filled. */
typedef int (*tt_rpc_method_fn)(json_t *params, json_t **result, struct tt_rpc_error *e);

tt_rpc_method_fn tt_rpc_method_find(const char *name);
/* The names of every method (a new array). */
json_t *tt_rpc_method_names(void);
/* Asks for the shutdown callback to run once the current request has been answered. */
void tt_rpc_request_shutdown(void);

#endif
