#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# portal_rebind.sh - a portal follows its address without an administrator:
#   tetherd starts with a portal on an address its namespace does not have: `tetherctl portal
#   list` shows it binding; the address is added: listening within 1 s; an initiator logs in and
#   writes 8 KiB; the address is removed: binding again (within 1 s); added back: listening
#   within 1 s; the initiator logs in again with the same ISID (reinstating its session) and
#   reads its data back. Figures: portal_listen_ms, portal_unbind_ms, portal_relisten_ms.
#
# Exit: 0 pass, 77 skip (reason printed), 1 fail.
# Environment: TT_BUILD, TT_TOP (see tests/lib/common.sh).

. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib/netns.sh"

FT_NO_TADDR=1 ft_setup rebind
LIMIT_MS=1000
ISID=80c0ffee0001
TAG=rebind-$$

portal_state() {
	ft_ctl main --json portal list | sed -n 's/.*"state": *"\([a-z]*\)".*/\1/p' | head -n 1
}

# wait_state STATE SECONDS: prints the milliseconds until the portal is in STATE
wait_state() {
	local t0 st
	t0=$(ft_now_ms)
	while :; do
		st=$(portal_state)
		[ "$st" = "$1" ] && { echo $(($(ft_now_ms) - t0)); return 0; }
		[ $(($(ft_now_ms) - t0)) -ge $(($2 * 1000)) ] && { echo "$st"; return 1; }
		sleep 0.01
	done
}

addr_add() { ft_t ip addr add "$FT_TADDR/24" dev "$FT_TVETH"; }
addr_del() { ft_t ip addr del "$FT_TADDR/24" dev "$FT_TVETH"; }

FT_NO_WAIT_LISTEN=1 ft_start main --portal "$FT_TADDR:$FT_PORT" --lun ram:64M

step "the portal's address is missing"
sleep 1
st=$(portal_state)
[ "$st" = binding ] || fail "portal state '$st' without its address, expected binding"
ok "binding: $(ft_ctl main portal list | tail -n 1)"

step "the address comes"
addr_add || fail "ip addr add"
ms=$(wait_state listening 10) || fail "the portal is '$ms' 10 s after its address came"
ft_figure portal_listen_ms "$ms"
[ "$ms" -le $LIMIT_MS ] || fail "listening after $ms ms, expected at most $LIMIT_MS ms"
ok "listening after $ms ms"

step "an initiator logs in and writes"
out=$TT_WORK/write.out
ft_py portal-write --opt isid=$ISID --opt tag="$TAG" --opt seconds=60 >"$out" 2>&1 &
pid=$!
tt_bg "$pid"
ft_wait_line "$out" READY 20 || fail "the initiator could not log in and write: $(cat "$out")"
ok "written"

step "the address goes"
addr_del || fail "ip addr del"
ms=$(wait_state binding 10) || fail "the portal is '$ms' 10 s after its address went"
ft_figure portal_unbind_ms "$ms"
[ "$ms" -le $LIMIT_MS ] || fail "binding after $ms ms, expected at most $LIMIT_MS ms"
ok "binding after $ms ms"
tt_alive main "the address went"

step "the address comes back"
sleep 0.5
addr_add || fail "ip addr add"
ms=$(wait_state listening 10) || fail "the portal is '$ms' 10 s after its address came back"
ft_figure portal_relisten_ms "$ms"
[ "$ms" -le $LIMIT_MS ] || fail "listening again after $ms ms, expected at most $LIMIT_MS ms"
ok "listening again after $ms ms"

step "the initiator logs in again (same ISID) and reads its data back"
ft_py portal-read --opt isid=$ISID --opt tag="$TAG" >"$TT_WORK/read.out" 2>&1 ||
	fail "read back: $(cat "$TT_WORK/read.out")"
sed 's/^/    /' "$TT_WORK/read.out"
grep -q "reinstating session" "${TT_LOG[main]}" ||
	fail "the second login did not reinstate the first session"
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
sed 's/^/    first connection: /' "$out"
n=$(ft_wait_sessions main 0 5) || fail "$n sessions still listed at the end"
tt_stop main
echo "PASS"
