#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# rpc_tetherctl.sh - the control socket of a real tetherd, driven by tetherctl:
#   build a target at run time (ACLs, LUNs, TPG, portal), see it with libiscsi's iscsi-ls,
#   check that bad requests are refused with a message and leave the daemon alive, save the
#   running configuration, restart tetherd from the saved file and find everything back
#   (and save it again to the same bytes).
#
# Exit: 0 pass, 77 skip (reason printed), 1 fail.
# Environment: TT_BUILD [tests/interop/../../build]  build directory with src/cmd/tetherd
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TT_BUILD=${TT_BUILD:-$HERE/../../build}
TETHERD=$TT_BUILD/src/cmd/tetherd
CTL=$TT_BUILD/src/cmd/tetherctl

T=iqn.2026-11.org.tether:rpc-test
I1=iqn.2026-11.org.tether:rpc-client
I2=iqn.2026-11.org.tether:rpc-chap
IX=iqn.2026-11.org.tether:stranger

skip() { echo "SKIP: $*"; exit 77; }
[ -x "$TETHERD" ] || skip "tetherd not built ($TETHERD)"
[ -x "$CTL" ] || skip "tetherctl not built ($CTL)"
command -v iscsi-ls >/dev/null && command -v iscsi-inq >/dev/null ||
	skip "iscsi-ls/iscsi-inq not installed (apt-get install libiscsi-bin)"
command -v ss >/dev/null || skip "ss not installed (iproute2)"

WORK=$(mktemp -d /tmp/tt-rpc-test.XXXXXX)
SOCK=$WORK/tetherd.sock
LOG=$WORK/tetherd.log
PID=

cleanup() {
	if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
		kill "$PID" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$PID" 2>/dev/null
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: $*"
	if [ -f "$LOG" ]; then
		echo "--- last lines of the tetherd log:"
		tail -n 30 "$LOG"
	fi
	exit 1
}
step() { echo "--- $*"; }
ctl() { "$CTL" -s "$SOCK" "$@"; }

# ctl_ok ARGS...: must succeed; its stdout is in $OUT
ctl_ok() {
	OUT=$(ctl "$@" 2>"$WORK/err") || fail "tetherctl $*: exit $? ($(cat "$WORK/err"))"
}

# ctl_fails STATUS TEXT ARGS...: must exit with STATUS and say TEXT on stderr
ctl_fails() {
	local want=$1 text=$2 rc
	shift 2
	ctl "$@" >/dev/null 2>"$WORK/err"
	rc=$?
	[ "$rc" = "$want" ] || fail "tetherctl $*: exit $rc, expected $want ($(cat "$WORK/err"))"
	grep -qF -- "$text" "$WORK/err" ||
		fail "tetherctl $*: message lacks \"$text\": $(cat "$WORK/err")"
	echo "    refused as expected: $(head -n 1 "$WORK/err")"
}

contains() { # contains TEXT WHAT: $OUT must contain TEXT
	printf '%s\n' "$OUT" | grep -qF -- "$1" || fail "$2: \"$1\" missing in:
$OUT"
}

# TCP ports nobody listens on, from a per-process starting point.
port_free() { [ -z "$(ss -Htln "sport = :$1" 2>/dev/null)" ]; }
free_port_from() {
	local p=$1
	while ! port_free "$p"; do p=$((p + 1)); done
	echo "$p"
}
P1=$(free_port_from $((20000 + ($$ % 20000))))
P2=$(free_port_from $((P1 + 1)))

start_tetherd() {
	"$TETHERD" --rpc-socket "$SOCK" "$@" >>"$LOG" 2>&1 &
	PID=$!
	for _ in $(seq 100); do
		kill -0 "$PID" 2>/dev/null || fail "tetherd $* exited at start"
		ctl target list >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	fail "tetherd $* does not answer on $SOCK"
}

stop_tetherd() {
	local rc
	ctl_ok shutdown
	for _ in $(seq 150); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$PID" 2>/dev/null && fail "tetherd still running 15 s after shutdown"
	wait "$PID"
	rc=$?
	PID=
	[ "$rc" = 0 ] || fail "tetherd exited with status $rc after shutdown"
	[ ! -e "$SOCK" ] || fail "the socket file $SOCK is left behind"
}

# Waits until every portal of target $T listens.
wait_listening() {
	for _ in $(seq 50); do
		OUT=$(ctl portal list "$T" 2>&1)
		printf '%s\n' "$OUT" | grep -F "$T" | grep -qv listening || return 0
		sleep 0.1
	done
	fail "portals of $T are not listening: $OUT"
}

check_target() { # the target as built below, whoever built it
	ctl_ok target list "$T"
	contains "$T  (alias rpctest)" "target list"
	contains "tpg 1  auth none" "target list"
	contains "portal 127.0.0.1:$P2" "target list"
	contains "lun 0    ram:32M" "target list"
	contains "lun 3    ram:16M" "target list"
	contains "write-protected" "target list"
	contains "acl $I1" "target list"
	contains "acl $I2  (mutual CHAP)" "target list"
	wait_listening

	OUT=$(timeout 30 iscsi-ls -s -i "$I1" "iscsi://127.0.0.1:$P2" 2>&1) || fail "iscsi-ls: $OUT"
	contains "Target:$T Portal:127.0.0.1:$P2,1" "iscsi-ls"
	contains "Lun:0" "iscsi-ls"
	contains "Lun:3" "iscsi-ls"
	OUT=$(timeout 30 iscsi-inq -i "$I1" "iscsi://127.0.0.1:$P2/$T/3" 2>&1) || fail "iscsi-inq as $I1: $OUT"
	contains "RPCDISK" "standard INQUIRY data of LUN 3 (product)"
	OUT=$(timeout 30 iscsi-inq -e 1 -c 128 -i "$I1" "iscsi://127.0.0.1:$P2/$T/0" 2>&1) ||
		fail "iscsi-inq serial page: $OUT"
	contains "RPCTEST0" "unit serial number of LUN 0"
	if timeout 30 iscsi-inq -i "$IX" "iscsi://127.0.0.1:$P2/$T/0" >"$WORK/inq" 2>&1; then
		fail "$IX logged in to $T although the TPG admits only its ACLs: $(cat "$WORK/inq")"
	fi
}

: >"$LOG"

step "start tetherd (portal 127.0.0.1:$P1, control socket $SOCK)"
start_tetherd --portal "127.0.0.1:$P1" --lun ram:64M
ctl_ok target list
contains "iqn.2026-11.org.tether:default" "target list of a fresh tetherd"

step "build $T through the control socket"
ctl_ok target create "$T" --alias rpctest
ctl_ok acl add "$T" "$I1"
ctl_ok acl add "$T" "$I2" --chap-user rpc-chap --chap-secret secret-of-rpc-chap \
	--mutual-user rpc-test --mutual-secret secret-of-rpc-test
ctl_ok lun add "$T" 0 ram:32M --serial RPCTEST0
ctl_ok lun add "$T" 3 ram:16M --write-protect --product RPCDISK
ctl_ok tpg create "$T" 1 --allow-any-initiator no --nop-interval 2.5 \
	--param MaxBurstLength=131072 --param HeaderDigest=None
ctl_ok portal add "$T" 1 "127.0.0.1:$P2"
ctl_ok portal list
contains "127.0.0.1:$P1" "portal list"
ctl_ok --json target list "$T"
contains "\"block_size\": 512" "target list --json"
contains "\"size\": 33554432" "target list --json"
ctl_ok session list
check_target

step "a target made and deleted"
ctl_ok target create iqn.2026-11.org.tether:short-lived
ctl_ok target delete iqn.2026-11.org.tether:short-lived
ctl_ok target list
printf '%s\n' "$OUT" | grep -q short-lived && fail "deleted target still listed"

step "logging switches"
ctl_ok log --level info --debug rpc
contains "level info, debug rpc" "log"
ctl_ok log --level notice --no-debug rpc
contains "level notice" "log"

step "bad requests"
ctl_fails 1 'params.name: "iqn.2026-11.org.tether:Bad": iSCSI names are lowercase' \
	target create iqn.2026-11.org.tether:Bad
ctl_fails 1 "already exists" target create "$T"
ctl_fails 1 "already exists" lun add "$T" 0 ram:1M
ctl_fails 1 "params.id: 20000 is out of range 0..16383" lun add "$T" 20000 ram:1M
ctl_fails 1 "LUN 5" lun add "$T" 5 ram:lots
ctl_fails 1 'cannot parse address "1.2.3"' portal add "$T" 1 1.2.3
ctl_fails 1 "has no TPG 9" portal add "$T" 9 "127.0.0.1:$P2"
ctl_fails 1 'target "iqn.2026-11.org.tether:nobody" not found' \
	lun add iqn.2026-11.org.tether:nobody 0 ram:1M
ctl_fails 1 "secret" acl add "$T" "$IX" --chap-user x --chap-secret short
ctl_fails 1 'method not found: "no_such_method"' call no_such_method
ctl_fails 1 'unknown key "nam" (did you mean "name"?)' call target_create '{"nam": "x"}'
ctl_fails 1 'unknown param "bogus"' call target_delete '{"name": "x", "bogus": 1}'
ctl_fails 2 "ID must be a non-negative integer" lun add "$T" x ram:1M
ctl_fails 2 "unknown command" frobnicate
ctl_fails 2 "unknown option" target create "$T" --bogus
if command -v python3 >/dev/null; then
	python3 - "$SOCK" <<'EOF' || fail "raw JSON-RPC checks"
import json, socket, sys

def talk(data, shut=True):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    try:
        s.sendall(data)
        if shut:
            s.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    out = b""
    while True:
        try:
            d = s.recv(65536)
        except ConnectionResetError:
            break
        if not d:
            break
        out += d
    s.close()
    return [json.loads(l) for l in out.decode().splitlines()]

def code(r):
    return r["error"]["code"] if "error" in r else 0

r = talk(b'{not json\n{"jsonrpc":"2.0","method":"portal_list","id":7}\n[]\n'
         b'{"jsonrpc":"2.0","method":"target_list","params":[1],"id":8}\n'
         b'{"jsonrpc":"2.0","method":"target_list"}\n'
         b'{"jsonrpc":"2.0","method":"rpc_methods","id":"last"}')  # no newline at the end
assert [code(x) for x in r] == [-32700, 0, -32600, -32602, 0], r
assert r[1]["id"] == 7 and r[4]["id"] == "last", r
big = b'{"jsonrpc":"2.0","method":"x","params":{"a":"' + b"a" * (2 << 20) + b'"}}\n'
r = talk(big)
assert len(r) == 1 and code(r[0]) == -32600 and "longer than" in r[0]["error"]["message"], r
print("    raw JSON-RPC: parse error, batch, params, notification, no final newline, size limit")
EOF
else
	echo "    (python3 missing: raw JSON-RPC checks skipped)"
fi
kill -0 "$PID" 2>/dev/null || fail "tetherd died after the bad requests"
ctl_ok target list "$T"

step "save, shut down, start again from the saved file"
ctl_ok save "$WORK/saved.json"
[ "$(stat -c %a "$WORK/saved.json")" = 600 ] || fail "saved file is not mode 0600"
grep -qF "secret-of-rpc-chap" "$WORK/saved.json" || fail "CHAP secret missing in the saved file"
stop_tetherd
start_tetherd --config "$WORK/saved.json"
check_target
ctl_ok save "$WORK/saved2.json"
cmp -s "$WORK/saved.json" "$WORK/saved2.json" ||
	fail "the configuration did not round-trip: $(diff "$WORK/saved.json" "$WORK/saved2.json")"
ctl_ok target list iqn.2026-11.org.tether:default
contains "portal 127.0.0.1:$P1" "default target after the restart"
stop_tetherd

echo "PASS"
exit 0
