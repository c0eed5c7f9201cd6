#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# alua.sh - ALUA target port groups of a real tetherd (SPC-4 5.16), PDU by PDU
# (tests/tools/pr.py alua-standby):
#   a target with two TPGs (each its own portal and target port group; TPG 2 is
#   "active-non-optimized" in the configuration file); `tetherctl alua set` puts TPG 1 in standby;
#   through TPG 1 a READ gets NOT READY 04h/0Bh after one ASYMMETRIC ACCESS STATE CHANGED (2Ah/06h)
#   unit attention, through TPG 2 the LUN works; REPORT TARGET PORT GROUPS reports the states;
#   SET TARGET PORT GROUPS from TPG 2 makes TPG 1 active again. Then the states in
#   `tetherctl alua list`, in the saved configuration, and after a restart from it; bad requests
#   and a bad "alua_state" in a file are refused.
#
# Exit: 0 pass, 77 skip (reason printed), 1 fail.
# Environment: TT_BUILD, TT_TOP (see tests/lib/common.sh).

. "$(dirname "$0")/../lib/common.sh"

tt_setup alua
tt_need "$TT_PYTHON"
CTL=$TT_BUILD/src/cmd/tetherctl
[ -x "$CTL" ] || skip "tetherctl is not built ($CTL)"
SOCK=$TT_WORK/tetherd.sock
ctl() { "$CTL" -s "$SOCK" "$@"; }

tt_free_port P1
tt_free_port P2
cat >"$TT_WORK/tetherd.json" <<EOF
{
  "targets": [{
    "name": "$TT_IQN",
    "tpgs": [
      { "tag": 1, "portals": ["127.0.0.1:$P1"] },
      { "tag": 2, "portals": ["127.0.0.1:$P2"], "alua_state": "active-non-optimized" }
    ],
    "luns": [{ "id": 0, "backend": "ram:16M" }]
  }]
}
EOF

step "two TPGs; TPG 1 goes to standby"
TT_WAIT_PORTS="$P1 $P2" tt_start main --config "$TT_WORK/tetherd.json" --rpc-socket "$SOCK" \
	--state-dir none
tt_capture 10 "$CTL" -s "$SOCK" alua list || fail "tetherctl alua list: $OUT"
tt_contains "active-non-optimized" "tetherctl alua list"
tt_pdu pr.py --port "$P1" --opt port2="$P2" --opt ctl="$CTL -s $SOCK" alua-standby ||
	fail "pr.py alua-standby"
tt_alive main

step "tetherctl and the control socket"
ctl alua set "$TT_IQN" 1 unavailable || fail "tetherctl alua set unavailable"
tt_capture 10 "$CTL" -s "$SOCK" --json alua list "$TT_IQN" || fail "tetherctl --json alua list: $OUT"
tt_contains '"state": "unavailable"' "tetherctl --json alua list"
tt_capture 10 "$CTL" -s "$SOCK" target list || fail "tetherctl target list: $OUT"
tt_contains "tpg 1  auth none  alua unavailable" "tetherctl target list"
tt_capture 10 "$CTL" -s "$SOCK" alua set "$TT_IQN" 1 offline
[ $? = 1 ] || fail "tetherctl alua set ... offline: exit status (want 1): $OUT"
tt_contains 'unknown state "offline"' "tetherctl alua set offline"
tt_capture 10 "$CTL" -s "$SOCK" alua set "$TT_IQN" 9 standby
[ $? = 1 ] || fail "tetherctl alua set on a missing TPG: exit status (want 1): $OUT"
tt_contains "has no TPG 9" "tetherctl alua set on a missing TPG"
ok "bad requests refused"
ctl tpg create "$TT_IQN" 3 --alua-state standby || fail "tetherctl tpg create --alua-state"
tt_capture 10 "$CTL" -s "$SOCK" alua list "$TT_IQN" || fail "tetherctl alua list: $OUT"
printf '%s\n' "$OUT" | grep -qE "^$TT_IQN +3 +3 +3 +standby$" || fail "new TPG 3: $OUT"
ctl tpg delete "$TT_IQN" 3 || fail "tetherctl tpg delete"
ok "tpg create --alua-state"

step "alua_explicit false on TPG 2, applied at run time"
ctl save "$TT_WORK/cur.json" || fail "tetherctl save"
python3 - "$TT_WORK/cur.json" "$TT_WORK/implicit.json" <<'PY' || fail "editing the saved file"
import json, sys
c = json.load(open(sys.argv[1]))
for g in c["targets"][0]["tpgs"]:
    if g["tag"] == 1:
        g["alua_state"] = "active-optimized"
    if g["tag"] == 2:
        g["alua_explicit"] = False
json.dump(c, open(sys.argv[2], "w"))
PY
ctl apply "$TT_WORK/implicit.json" || fail "tetherctl apply alua_explicit false"
tt_pdu pr.py --port "$P1" --opt port2="$P2" alua-implicit || fail "pr.py alua-implicit"
ctl save "$TT_WORK/implicit-saved.json" || fail "tetherctl save"
grep -q '"alua_explicit": false' "$TT_WORK/implicit-saved.json" ||
	fail "the saved configuration lacks alua_explicit false"
ctl apply "$TT_WORK/cur.json" || fail "tetherctl apply alua_explicit true"
tt_alive main
ok "implicit-only TPG: TPGS 01b, SET TARGET PORT GROUPS refused, applied and saved"

step "saved configuration and restart"
ctl save "$TT_WORK/saved.json" || fail "tetherctl save"
grep -q '"alua_state": "unavailable"' "$TT_WORK/saved.json" ||
	fail "the saved configuration lacks TPG 1's state: $(cat "$TT_WORK/saved.json")"
tt_stop main
TT_WAIT_PORTS="$P1 $P2" tt_start main --config "$TT_WORK/saved.json" --rpc-socket "$SOCK"
tt_capture 10 "$CTL" -s "$SOCK" alua list "$TT_IQN" || fail "tetherctl alua list: $OUT"
printf '%s\n' "$OUT" | grep -qE "^$TT_IQN +1 +1 +1 +unavailable$" ||
	fail "TPG 1 after the restart: $OUT"
printf '%s\n' "$OUT" | grep -qE "^$TT_IQN +2 +2 +2 +active-non-optimized$" ||
	fail "TPG 2 after the restart: $OUT"
ctl save "$TT_WORK/saved2.json" || fail "tetherctl save (2)"
cmp -s "$TT_WORK/saved.json" "$TT_WORK/saved2.json" ||
	fail "the configuration did not round-trip: $(diff "$TT_WORK/saved.json" "$TT_WORK/saved2.json")"
ok "states restored from the saved file, which saves to the same bytes"
tt_stop main

step "a bad alua_state in a file"
sed 's/"active-non-optimized"/"offline"/' "$TT_WORK/tetherd.json" >"$TT_WORK/bad.json"
tt_capture 20 "$TETHERD" --config "$TT_WORK/bad.json" --rpc-socket none --state-dir none
rc=$?
[ "$rc" = 1 ] || fail "tetherd with a bad alua_state exited $rc (want 1): $OUT"
tt_contains "targets[0].tpgs[1].alua_state: must be" "tetherd's message"
ok "refused: $OUT"
echo "PASS"
