#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# sendtargets.sh - SendTargets discovery with several portals:
#   1. --portal 127.0.0.1:P1 --portal 127.0.0.1:P2 [--portal [::1]:P3 when lo has ::1]:
#      iscsi-ls through each portal lists every portal with TPGT 1; iscsi-ls -s logs in
#      through each of them and finds the LUN; tests/tools/discovery.py checks the raw
#      answer (exact TargetAddress set, SendTargets=<name>, unknown name, no SCSI in a
#      discovery session, SendTargets= in a normal session).
#   2. a configuration with two portal groups (tag 1: P1, P2; tag 7: P4): every portal is
#      listed with the tag of its group, through a portal of either group.
#
# Exit: 0 pass, 77 skip (reason printed), 1 fail.
# Environment: TT_BUILD, TT_TOP (see tests/lib/common.sh).

# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"

tt_setup sendtargets
tt_need iscsi-ls "$TT_PYTHON" ip

tt_free_port P1
tt_free_port P2
tt_free_port P3
tt_free_port P4
V6=0
if ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/128'; then
	V6=1
else
	echo "    (::1 is not configured on lo: the IPv6 portal is left out)"
fi

# check_ls VIA-URL PORTAL,TAG...: iscsi-ls through VIA lists exactly these portals
check_ls() {
	local via=$1 line n=0
	shift
	tt_capture 30 iscsi-ls "$via" || fail "iscsi-ls $via: exit $?: $OUT"
	for line in "$@"; do
		tt_contains "Target:$TT_IQN Portal:$line" "iscsi-ls $via"
		n=$((n + 1))
	done
	[ "$(printf '%s\n' "$OUT" | grep -c '^Target:')" = $n ] ||
		fail "iscsi-ls $via lists other than $n portals: $OUT"
	ok "iscsi-ls $via: $*"
}

step "one portal group, portals 127.0.0.1:$P1, 127.0.0.1:$P2$([ $V6 = 1 ] && echo ", [::1]:$P3")"
args=(--portal "127.0.0.1:$P1" --portal "127.0.0.1:$P2")
want=("127.0.0.1:$P1,1" "127.0.0.1:$P2,1")
vias=("iscsi://127.0.0.1:$P1" "iscsi://127.0.0.1:$P2")
if [ $V6 = 1 ]; then
	args+=(--portal "[::1]:$P3")
	want+=("[::1]:$P3,1")
	vias+=("iscsi://[::1]:$P3")
fi
tt_start main "${args[@]}" --lun ram:16M
for via in "${vias[@]}"; do
	check_ls "$via" "${want[@]}"
done

tt_capture 60 iscsi-ls -s "iscsi://127.0.0.1:$P1" || fail "iscsi-ls -s: exit $?: $OUT"
n=$(printf '%s\n' "$OUT" | grep -c '^Lun:0 ')
[ "$n" = ${#want[@]} ] || fail "iscsi-ls -s logged in through $n of ${#want[@]} portals: $OUT"
ok "iscsi-ls -s: logged in through each portal and found LUN 0"

portals=$(IFS=';'; echo "${want[*]}")
tt_pdu discovery.py --port "$P1" --opt "portals=$portals" --opt tpgt=1 sendtargets in-session ||
	fail "raw SendTargets through 127.0.0.1:$P1"
if [ $V6 = 1 ]; then
	tt_pdu discovery.py --host ::1 --port "$P3" --opt "portals=$portals" sendtargets ||
		fail "raw SendTargets through [::1]:$P3"
fi
tt_alive main
tt_stop main

step "two portal groups: tag 1 (127.0.0.1:$P1, 127.0.0.1:$P2), tag 7 (127.0.0.1:$P4)"
cat >"$TT_WORK/tetherd.json" <<EOF
{
  "targets": [{
    "name": "$TT_IQN",
    "tpgs": [
      { "tag": 1, "portals": ["127.0.0.1:$P1", "127.0.0.1:$P2"] },
      { "tag": 7, "portals": ["127.0.0.1:$P4"] }
    ],
    "luns": [{ "id": 0, "backend": "ram:16M" }]
  }]
}
EOF
TT_WAIT_PORTS="$P1 $P2 $P4" tt_start groups --config "$TT_WORK/tetherd.json"
want=("127.0.0.1:$P1,1" "127.0.0.1:$P2,1" "127.0.0.1:$P4,7")
check_ls "iscsi://127.0.0.1:$P1" "${want[@]}"
check_ls "iscsi://127.0.0.1:$P4" "${want[@]}"
tt_capture 60 iscsi-ls -s "iscsi://127.0.0.1:$P4" || fail "iscsi-ls -s: exit $?: $OUT"
n=$(printf '%s\n' "$OUT" | grep -c '^Lun:0 ')
[ "$n" = 3 ] || fail "iscsi-ls -s logged in through $n of 3 portals: $OUT"
ok "iscsi-ls -s: logged in through each portal of both groups"
portals=$(IFS=';'; echo "${want[*]}")
tt_pdu discovery.py --port "$P4" --opt "portals=$portals" --opt tpgt=7 sendtargets in-session ||
	fail "raw SendTargets through 127.0.0.1:$P4 (tag 7)"
tt_alive groups
tt_stop groups
echo "PASS"
