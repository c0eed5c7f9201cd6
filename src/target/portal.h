/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TPGs' portals (portal.c): which addresses each TPG is reachable at, on top of the shared
 * listeners (xport/listener.h), and what the model (model.c) asks of them.
 *
 * A portal lives in its TPG's list from tt_portal_add() to tt_portal_remove(). Connections that
 * logged in through it keep pointers to it and to its TPG, so a removed portal is not freed at
 * once: it is retired (no listener) and freed with its TPG, which itself lives as long as its
 * target (the last tt_target_put()).
 */
#ifndef TT_TARGET_PORTAL_H
#define TT_TARGET_PORTAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "target/model.h"

/* Stops and retires every portal of @tpg (on loop 0, model lock not held). */
void tt_portal_remove_all(struct tt_tpg *tpg);
/* Frees the retired portals of @tpg (any thread; the TPG is being freed). */
void tt_portal_free_retired(struct tt_tpg *tpg);

#endif
