#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# aptpl.sh - persistent reservations survive a restart of tetherd (APTPL, SPC-4 5.13.5), PDU by
# PDU (tests/tools/pr.py):
#   tetherd --state-dir DIR (made by tetherd); initiator A registers a key with APTPL=1 and
#   reserves (Write Exclusive); the state file appears in DIR; tetherd is stopped and started
#   again; initiator B sees the key and the reservation (READ KEYS, READ RESERVATION), its WRITE
#   conflicts; A, with the same ISID, still holds it. A unregisters, and a second restart finds
#   nothing. The same with global.state_dir of a configuration file.
#   Without a state directory (--state-dir none) APTPL is refused; a state directory that cannot
#   be made stops tetherd at start.
#
# Exit: 0 pass, 77 skip (reason printed), 1 fail.
# Environment: TT_BUILD, TT_TOP (see tests/lib/common.sh).

. "$(dirname "$0")/../lib/common.sh"

tt_setup aptpl
tt_need "$TT_PYTHON"

STATE=$TT_WORK/state/tether
FILE=$STATE/iqn.2026-11.org.tether_default-lun0.pr
tt_free_port P
ARGS=(--portal "127.0.0.1:$P" --lun ram:16M --state-dir "$STATE")

step "register and reserve with APTPL"
tt_start main "${ARGS[@]}"
[ -d "$STATE" ] || fail "tetherd did not make the state directory $STATE"
tt_pdu pr.py --port "$P" aptpl-set || fail "pr.py aptpl-set"
[ -s "$FILE" ] || fail "no state file $FILE after REGISTER with APTPL: $(ls -la "$STATE")"
ok "state file $(basename "$FILE") written"
tt_stop main

step "restart: the registration and the reservation are back"
tt_start main "${ARGS[@]}"
tt_pdu pr.py --port "$P" aptpl-check || fail "pr.py aptpl-check"
tt_pdu pr.py --port "$P" aptpl-clear || fail "pr.py aptpl-clear"
tt_stop main

step "restart after unregistering: nothing is restored"
tt_start main "${ARGS[@]}"
tt_pdu pr.py --port "$P" aptpl-set || fail "pr.py aptpl-set after clearing (no key may be left)"
tt_pdu pr.py --port "$P" aptpl-clear || fail "pr.py aptpl-clear"
tt_stop main

step "global.state_dir of a configuration file"
STATE2=$TT_WORK/state2
tt_free_port P2
cat >"$TT_WORK/tetherd.json" <<EOF
{
  "global": { "state_dir": "$STATE2" },
  "targets": [{
    "name": "$TT_IQN",
    "tpgs": [{ "tag": 1, "portals": ["127.0.0.1:$P2"] }],
    "luns": [{ "id": 0, "backend": "ram:16M" }]
  }]
}
EOF
TT_WAIT_PORTS=$P2 tt_start conf --config "$TT_WORK/tetherd.json"
tt_pdu pr.py --port "$P2" aptpl-set || fail "pr.py aptpl-set (configuration file)"
[ -s "$STATE2/$(basename "$FILE")" ] || fail "no state file in global.state_dir $STATE2"
tt_stop conf
TT_WAIT_PORTS=$P2 tt_start conf --config "$TT_WORK/tetherd.json"
tt_pdu pr.py --port "$P2" aptpl-check aptpl-clear || fail "pr.py after a restart (configuration file)"
tt_stop conf

step "no state directory: APTPL is refused"
tt_start none --portal "127.0.0.1:$P" --lun ram:16M --state-dir none
tt_pdu pr.py --port "$P" aptpl-refused || fail "pr.py aptpl-refused"
tt_stop none

step "a state directory that cannot be made is an error at start"
tt_capture 20 "$TETHERD" --rpc-socket none --portal "127.0.0.1:$P" --lun ram:1M \
	--state-dir /proc/tether-no-such-dir
rc=$?
[ "$rc" = 1 ] || fail "tetherd with an unusable --state-dir exited $rc (want 1): $OUT"
tt_contains "state directory /proc/tether-no-such-dir" "tetherd's message"
ok "exit 1: $OUT"
echo "PASS"
