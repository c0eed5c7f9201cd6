#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# shared_portal.sh - one portal (address:port) shared by several targets, each with its own TPG
# on it; the TPG of a connection is chosen at login from the TargetName and the portal the
# connection arrived on. One tetherd (control socket), portal P = 127.0.0.1:<free port>:
#   1. the default target (LUN of 16 MiB) on P; with tetherctl two more targets on P: B (12 MiB,
#      TPG 1 --allow-any-initiator no, one ACL) and C (8 MiB, open). `tetherctl portal list`
#      shows the three TPGs on P listening; iscsi-inq and iscsi-readcapacity16 reach each
#      target through P (each its own size); qemu-img writes different data to each LUN 0 and
#      compares: each holds its own (no write shows through another target).
#   2. SendTargets through P (tests/tools/shared_portal.py): as B's ACL initiator: the three
#      targets, each with exactly P; as another initiator: the default target and C only
#      (SendTargets=B: nothing); iscsi-ls -i the same. Logins to B of an initiator without an
#      ACL are refused (0202h).
#   3. target D with TPG 1 on a second portal P2 only: a login naming D through P is refused
#      with 0203h (not found); through P2 it succeeds; the default target through P2: 0203h.
#   4. while a session of the default target writes and verifies without a pause, target E
#      (4 MiB) is made on P, used (iscsi-inq, qemu-img), its portal removed (logins to E
#      through P: 0203h) and added back, its TPG deleted, E deleted; SendTargets follows each
#      change; P listens all along; afterwards the busy session is still in `tetherctl session
#      list` with the same id and TSIH and all its writes were verified.
# tetherd must exit 0 with no sanitizer report. Every check runs; the failures are listed at
# the end.
#
# Exit: 0 pass, 77 skip (reason printed), 1 fail.
# Environment: TT_BUILD, TT_TOP (see tests/lib/common.sh).

# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
# shellcheck source=tests/lib/qemu_img.sh
. "$TT_LIB_DIR/qemu_img.sh"

tt_setup shared-portal
tt_need iscsi-inq iscsi-ls iscsi-readcapacity16 "$TT_PYTHON"
qi_need
CTL=$TT_BUILD/src/cmd/tetherctl
[ -x "$CTL" ] || skip "tetherctl is not built ($CTL)"
SOCK=$TT_WORK/tetherd.sock

T0=$TT_IQN
TB=iqn.2026-11.org.tether:shared-b
TC=iqn.2026-11.org.tether:shared-c
TD=iqn.2026-11.org.tether:shared-d
TE=iqn.2026-11.org.tether:shared-e
IB=iqn.2026-11.org.tether:shared-allowed
IX=iqn.2026-11.org.tether:shared-stranger
IH=iqn.2026-11.org.tether:shared-holder
# LUN 0 sizes in 512-byte blocks: a login that reaches the wrong target shows in the size
declare -A BLOCKS=([$T0]=32768 [$TB]=24576 [$TC]=16384 [$TD]=8192 [$TE]=8192)

tt_free_port P
tt_free_port P2

# Every check runs; the failures are listed at the end.
FAILS=()
bad() {
	echo "    FAILED: $*"
	FAILS+=("$*")
}

# ctl ARGS...: tetherctl with a time limit; output in $OUT
ctl() { tt_capture 30 "$CTL" -s "$SOCK" "$@"; }

# ctl_ok ARGS...: tetherctl must succeed
ctl_ok() {
	ctl "$@" && return 0
	bad "tetherctl $*: expected success, got exit $?: $OUT"
	return 1
}

# json EXPR: evaluates the Python expression EXPR with j = the JSON in $OUT; prints the result
json() {
	printf '%s' "$OUT" | "$TT_PYTHON" -c '
import json, sys
j = json.load(sys.stdin)
r = eval(sys.argv[1])
print(r if not isinstance(r, (list, dict)) else json.dumps(r))' "$1"
}

# portal_state TARGET TAG ADDR: the state of that portal in `tetherctl portal list` ("" if none)
portal_state() {
	ctl --json portal list "$1" || { echo "tetherctl portal list: $OUT"; return; }
	json "next((p['state'] for p in j if p['tag'] == $2 and
	            p['addr'].split('://')[-1] == '$3'), '')"
}

# wait_listening TARGET TAG ADDR: waits (5 s at most) until that portal is listening
wait_listening() {
	local st
	for _ in $(seq 50); do
		st=$(portal_state "$@")
		[ "$st" = listening ] && return 0
		sleep 0.1
	done
	bad "portal $3 of $1 TPG $2: expected state listening, got \"$st\""
	return 1
}

# port_listens WHAT: P must accept connections
port_listens() {
	if tt_listening "$P"; then
		ok "127.0.0.1:$P is listening $1"
	else
		bad "127.0.0.1:$P is not listening $1 (expected a listener)"
	fi
}

# reach TARGET [INITIATOR]: iscsi-inq and iscsi-readcapacity16 through P; LUN 0 has its size
reach() {
	local t=$1 i=${2:-iqn.2026-11.org.tether:shared-any} url="iscsi://127.0.0.1:$P/$1/0" want
	want=$((BLOCKS[$t] - 1))
	if ! tt_capture 30 iscsi-inq -i "$i" "$url" || ! printf '%s\n' "$OUT" | grep -q "Vendor:TETHER"; then
		bad "iscsi-inq -i $i $url: expected a standard INQUIRY answer from TETHER, got: $OUT"
		return 1
	fi
	if ! tt_capture 30 iscsi-readcapacity16 -i "$i" "$url" ||
		! printf '%s\n' "$OUT" | grep -qxF "RETURNED LOGICAL BLOCK ADDRESS:$want"; then
		bad "iscsi-readcapacity16 -i $i $url: expected last LBA $want (LUN 0 of $t), got: $OUT"
		return 1
	fi
	ok "$t through 127.0.0.1:$P: INQUIRY answered, last LBA $want"
}

# opts TARGET [INITIATOR]: the qemu-img --image-opts string of LUN 0 of TARGET through P
opts() {
	echo "driver=iscsi,transport=tcp,portal=127.0.0.1:$P,target=$1,lun=0${2:+,initiator-name=$2}"
}

# st INITIATOR EXPECT [HIDDEN]: SendTargets through P as INITIATOR (shared_portal.py sendtargets)
st() {
	local out
	if out=$(tt_pdu shared_portal.py --port "$P" --opt "initiator=$1" --opt "expect=$2" \
		--opt "hidden=${3:-}" sendtargets 2>&1); then
		printf '%s\n' "$out" | grep -v '^ok '
	else
		bad "SendTargets through 127.0.0.1:$P as $1: $out"
	fi
}

# login TARGET STATUS [PORT] [INITIATOR]: a raw login to TARGET through PORT ends with STATUS
login() {
	local out
	if out=$(tt_pdu shared_portal.py --port "${3:-$P}" --target "$1" --opt "status=$2" \
		--opt "initiator=${4:-iqn.2026-11.org.tether:shared-any}" --opt "blocks=${BLOCKS[$1]}" \
		login-status 2>&1); then
		printf '%s\n' "$out" | grep -v '^ok '
	else
		bad "$out"
	fi
}

A="127.0.0.1:$P,1"
A2="127.0.0.1:$P2,1"

step "1. three targets on one portal 127.0.0.1:$P"
tt_start main --portal "127.0.0.1:$P" --lun ram:16M --rpc-socket "$SOCK" --state-dir none
ctl_ok target create "$TB" --alias shared-b
ctl_ok lun add "$TB" 0 ram:12M
ctl_ok acl add "$TB" "$IB"
ctl_ok tpg create "$TB" 1 --allow-any-initiator no --portal "127.0.0.1:$P" &&
	ok "tpg create $TB 1 --portal 127.0.0.1:$P (the default target's portal) accepted"
ctl_ok target create "$TC" --alias shared-c
ctl_ok lun add "$TC" 0 ram:8M
ctl_ok tpg create "$TC" 1 --portal "127.0.0.1:$P" &&
	ok "tpg create $TC 1 --portal 127.0.0.1:$P accepted"
for t in "$T0" "$TB" "$TC"; do
	wait_listening "$t" 1 "127.0.0.1:$P" && ok "portal list: $t TPG 1 127.0.0.1:$P listening"
done
if ctl portal list; then
	n=$(printf '%s\n' "$OUT" | grep -F "127.0.0.1:$P " | grep -c listening)
	if [ "$n" = 3 ]; then
		ok "portal list: 3 TPGs listening on 127.0.0.1:$P"
	else
		bad "portal list: expected 3 lines with 127.0.0.1:$P listening, got $n: $OUT"
	fi
else
	bad "tetherctl portal list: $OUT"
fi
REACHED=1
reach "$T0" || REACHED=0
reach "$TB" "$IB" || REACHED=0
reach "$TC" || REACHED=0

FB=$TT_WORK/b.img FC=$TT_WORK/c.img F0=$TT_WORK/0.img
qi_random "$F0" 4
qi_random "$FB" 4
qi_random "$FC" 4
export QI_IMAGE_OPTS=1
if [ $REACHED = 1 ]; then
	qi_put "$F0" "$(opts "$T0")"
	qi_put "$FB" "$(opts "$TB" "$IB")"
	qi_put "$FC" "$(opts "$TC")"
	qi_same "$F0" "$(opts "$T0")" "compare LUN 0 of $T0 with what was written to it"
	qi_same "$FB" "$(opts "$TB" "$IB")" "compare LUN 0 of $TB with what was written to it"
	qi_same "$FC" "$(opts "$TC")" "compare LUN 0 of $TC with what was written to it"
	ok "each target kept its own data: no write through one showed through another"
else
	bad "qemu-img data checks not run: the targets are not all reachable"
fi
unset QI_IMAGE_OPTS

step "2. SendTargets through 127.0.0.1:$P filtered by ACL ($TB admits only $IB)"
st "$IB" "$T0=$A;$TB=$A;$TC=$A"
st "$IX" "$T0=$A;$TC=$A" "$TB"
if tt_capture 30 iscsi-ls -i "$IX" "iscsi://127.0.0.1:$P"; then
	n=$(printf '%s\n' "$OUT" | grep -c '^Target:')
	if [ "$n" = 2 ] && printf '%s\n' "$OUT" | grep -qxF "Target:$T0 Portal:$A" &&
		printf '%s\n' "$OUT" | grep -qxF "Target:$TC Portal:$A"; then
		ok "iscsi-ls -i $IX: $T0 and $TC, not $TB"
	else
		bad "iscsi-ls -i $IX: expected exactly Target:$T0 and Target:$TC on Portal:$A, got: $OUT"
	fi
else
	bad "iscsi-ls -i $IX iscsi://127.0.0.1:$P: exit $?: $OUT"
fi
if tt_capture 30 iscsi-ls -i "$IB" "iscsi://127.0.0.1:$P" &&
	[ "$(printf '%s\n' "$OUT" | grep -c '^Target:.* Portal:'"$A"'$')" = 3 ]; then
	ok "iscsi-ls -i $IB: three targets on $A"
else
	bad "iscsi-ls -i $IB: expected three targets on Portal:$A, got: $OUT"
fi
login "$TB" 0202 "$P" "$IX"
login "$TB" 0000 "$P" "$IB"

step "3. $TD on 127.0.0.1:$P2 only: a login to it through 127.0.0.1:$P is refused"
ctl_ok target create "$TD"
ctl_ok lun add "$TD" 0 ram:4M
ctl_ok tpg create "$TD" 1 --portal "127.0.0.1:$P2" && wait_listening "$TD" 1 "127.0.0.1:$P2"
login "$TD" 0203 "$P"
login "$TD" 0000 "$P2"
login "$T0" 0203 "$P2"
st "$IX" "$T0=$A;$TC=$A;$TD=$A2" "$TB"

step "4. $TE made, used and removed on 127.0.0.1:$P while a session of $T0 is busy"
READY=$TT_WORK/hold.ready STOP=$TT_WORK/hold.stop
timeout -k 5 240 "$TT_PYTHON" "$TT_TOOLS/shared_portal.py" --port "$P" --target "$T0" \
	--opt "initiator=$IH" --opt "ready=$READY" --opt "stop=$STOP" --opt max=200 hold \
	>"$TT_WORK/hold.out" 2>&1 &
HOLD=$!
tt_bg $HOLD
for _ in $(seq 300); do
	[ -s "$READY" ] && break
	kill -0 $HOLD 2>/dev/null || break
	sleep 0.1
done
[ -s "$READY" ] || fail "the session of $IH to $T0 did not start within 30 s: $(cat "$TT_WORK/hold.out")"
# session_of INITIATOR: "ID TSIH" of its session in `tetherctl session list`, "" if none
session_of() {
	ctl --json session list || { echo "tetherctl session list: $OUT"; return; }
	json "' '.join(next(([str(s['id']), str(s['tsih'])] for s in j
	                     if s['initiator'] == '$1' and s['target'] == '$T0'), []))"
}
S0=$(session_of "$IH")
[ -n "$S0" ] || fail "tetherctl session list does not show the session of $IH: $OUT"
[ "${S0#* }" = "$(cat "$READY")" ] ||
	bad "session list: the session of $IH has TSIH ${S0#* }, the initiator was given $(cat "$READY")"
ok "busy session of $IH to $T0: id ${S0% *}, TSIH ${S0#* }"

# still_busy WHAT: the busy session is alive and unchanged, P listens
still_busy() {
	local s
	kill -0 $HOLD 2>/dev/null || bad "the busy session of $T0 ended $1: $(cat "$TT_WORK/hold.out")"
	s=$(session_of "$IH")
	[ "$s" = "$S0" ] || bad "session list $1: expected the session of $IH with id/TSIH $S0, got \"$s\""
	port_listens "$1"
}

ctl_ok target create "$TE" --alias shared-e
ctl_ok lun add "$TE" 0 ram:4M
ctl_ok tpg create "$TE" 1 --portal "127.0.0.1:$P" && wait_listening "$TE" 1 "127.0.0.1:$P"
if reach "$TE"; then
	FE=$TT_WORK/e.img
	qi_random "$FE" 4
	export QI_IMAGE_OPTS=1
	qi_put "$FE" "$(opts "$TE")"
	qi_same "$FE" "$(opts "$TE")" "compare LUN 0 of $TE"
	qi_same "$FC" "$(opts "$TC")" "compare LUN 0 of $TC (untouched)"
	unset QI_IMAGE_OPTS
fi
st "$IX" "$T0=$A;$TC=$A;$TD=$A2;$TE=$A" "$TB"
still_busy "after $TE was made and used"

ctl_ok portal remove "$TE" 1 "127.0.0.1:$P" && ok "portal remove $TE 1 127.0.0.1:$P"
login "$TE" 0203 "$P"
st "$IX" "$T0=$A;$TC=$A;$TD=$A2" "$TB;$TE"
s=$(portal_state "$T0" 1 "127.0.0.1:$P")
if [ "$s" = listening ]; then
	ok "portal list: $T0 TPG 1 127.0.0.1:$P still listening"
else
	bad "portal list after removing $TE's portal: $T0 TPG 1 127.0.0.1:$P: expected listening, got \"$s\""
fi
still_busy "after $TE's portal was removed"
reach "$TC"

ctl_ok portal add "$TE" 1 "127.0.0.1:$P" && wait_listening "$TE" 1 "127.0.0.1:$P" &&
	login "$TE" 0000 "$P"
ctl_ok tpg delete "$TE" 1 && ok "tpg delete $TE 1"
login "$TE" 0203 "$P"
still_busy "after $TE's TPG was deleted"

ctl_ok tpg create "$TE" 1 --portal "127.0.0.1:$P" && wait_listening "$TE" 1 "127.0.0.1:$P" &&
	login "$TE" 0000 "$P"
ctl_ok target delete "$TE" && ok "target delete $TE"
login "$TE" 0203 "$P"
st "$IX" "$T0=$A;$TC=$A;$TD=$A2" "$TB;$TE"
still_busy "after $TE was deleted"
reach "$TC"
reach "$TB" "$IB"

touch "$STOP"
rc=0
for _ in $(seq 300); do kill -0 $HOLD 2>/dev/null || break; sleep 0.1; done
if kill -0 $HOLD 2>/dev/null; then
	bad "the busy session did not end within 30 s of being asked to"
else
	wait $HOLD
	rc=$?
	sed 's/^/  /' "$TT_WORK/hold.out"
	if [ $rc = 0 ]; then
		ok "the busy session of $T0 completed every write without error"
	else
		bad "the busy session of $T0: exit $rc, expected 0: $(cat "$TT_WORK/hold.out")"
	fi
fi
port_listens "at the end"

tt_alive main
tt_stop main
if [ ${#FAILS[@]} != 0 ]; then
	echo "FAIL: ${#FAILS[@]} check(s) failed:"
	printf '    %s\n' "${FAILS[@]}"
	exit 1
fi
echo "PASS"
