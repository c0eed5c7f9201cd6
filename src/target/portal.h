/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Portal addresses and their listeners (portal.c), and what the model (model.c) asks of them.
 *
 * A portal lives in its TPG's list from tt_portal_add() to tt_portal_remove(). Connections
 * accepted on it keep pointers to it and to its TPG, so a removed portal is not freed at once:
 * it is retired (no listener, no timer) and freed with its TPG, which itself lives as long as
 * its target (the last tt_target_put()).
 */
#ifndef TT_TARGET_PORTAL_H
#define TT_TARGET_PORTAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "target/model.h"

#define TT_PORTAL_DEFAULT_PORT 3260
#define TT_PORTAL_RETRY_MS 250

/*
 * Parses "A.B.C.D[:PORT]", "[V6ADDR][:PORT]", "[fe80::1%eth0]:PORT" (a link-local address needs
 * its interface) or a bare "V6ADDR" (no port then). Only numeric addresses; the port defaults to
 * 3260 and must be 1..65535. Returns 0 or -EINVAL with a message naming @s in @err.
 */
int tt_portal_parse(const char *s, struct sockaddr_storage *ss, socklen_t *sslen,
		    char *err, size_t errlen);
/* Canonical text of an address: "127.0.0.1:3260", "[::1]:3260", "[fe80::1%eth0]:3260". */
void tt_portal_format(const struct sockaddr_storage *ss, char *buf, size_t len);
/* Same address, port and (IPv6) scope. */
bool tt_portal_addr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b);
/* 0.0.0.0 or [::]. */
bool tt_portal_addr_is_wildcard(const struct sockaddr_storage *ss);

/* Stops and retires every portal of @tpg (on loop 0, model lock not held). */
void tt_portal_remove_all(struct tt_tpg *tpg);
/* Frees the retired portals of @tpg (any thread; the TPG is being freed). */
void tt_portal_free_retired(struct tt_tpg *tpg);

#endif
