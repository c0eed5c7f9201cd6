#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# apply.sh - tetherctl apply against a running tetherd with a session doing verified I/O:
#   a file that adds a target C, changes the CHAP secret of an ACL of target B and removes a
#   LUN of B leaves target A's session alone (no I/O error, same session id), makes C
#   reachable, puts B's new secret in force and takes B's LUN away; the same file again, and
#   the output of `tetherctl save`, are "nothing to do"; --dry-run and bad files (a bad portal
#   address, an unknown key, a loop count that differs, a backend that cannot be opened)
#   change nothing.
#
# Exit: 0 pass, 77 skip (reason printed), 1 fail.
# Environment: TT_BUILD [tests/interop/../../build]  build directory with src/cmd/tetherd
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TT_BUILD=${TT_BUILD:-$HERE/../../build}
TETHERD=$TT_BUILD/src/cmd/tetherd
CTL=$TT_BUILD/src/cmd/tetherctl
IO_LOOP=$HERE/../tools/io_loop.py

A=iqn.2026-11.org.tether:apply-a
B=iqn.2026-11.org.tether:apply-b
C=iqn.2026-11.org.tether:apply-c
IA=iqn.2026-11.org.tether:apply-io
I1=iqn.2026-11.org.tether:apply-host1

skip() { echo "SKIP: $*"; exit 77; }
[ -x "$TETHERD" ] || skip "tetherd not built ($TETHERD)"
[ -x "$CTL" ] || skip "tetherctl not built ($CTL)"
command -v python3 >/dev/null || skip "python3 not installed"
command -v iscsi-inq >/dev/null || skip "iscsi-inq not installed (apt-get install libiscsi-bin)"
command -v ss >/dev/null || skip "ss not installed (iproute2)"

WORK=$(mktemp -d /tmp/tt-apply-test.XXXXXX)
SOCK=$WORK/tetherd.sock
LOG=$WORK/tetherd.log
PID=
IO_PID=

cleanup() {
	[ -n "$IO_PID" ] && kill "$IO_PID" 2>/dev/null
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
	if [ -f "$WORK/io.out" ]; then
		echo "--- I/O session:"
		cat "$WORK/io.out"
	fi
	if [ -f "$LOG" ]; then
		echo "--- last lines of the tetherd log:"
		tail -n 30 "$LOG"
	fi
	exit 1
}
step() { echo "--- $*"; }
ctl() { "$CTL" -s "$SOCK" "$@"; }
ctl_ok() {
	OUT=$(ctl "$@" 2>"$WORK/err") || fail "tetherctl $*: exit $? ($(cat "$WORK/err"))"
}
# ctl_fails STATUS TEXT ARGS...: must exit with STATUS and say TEXT on stderr
ctl_fails() {
	local want=$1 text=$2 rc
	shift 2
	ctl "$@" >"$WORK/out" 2>"$WORK/err"
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
lacks() {
	printf '%s\n' "$OUT" | grep -qF -- "$1" && fail "$2: \"$1\" present in:
$OUT"
	return 0
}

port_free() { [ -z "$(ss -Htln "sport = :$1" 2>/dev/null)" ]; }
free_port_from() {
	local p=$1
	while ! port_free "$p"; do p=$((p + 1)); done
	echo "$p"
}
P=$(free_port_from $((20000 + ($$ % 20000))))

# session_id TARGET: the id of the session with TARGET (exactly one)
session_id() {
	ctl_ok session list
	printf '%s\n' "$OUT" | awk -v t="-> $1 " '$0 ~ t { print $1 }'
}

# the configuration: $1 = B's CHAP secret, $2 = "with-c" to add target C, $3 = B's LUNs
write_config() {
	local secret=$1 with_c=$2 luns=$3
	cat <<JSON
{
  "global": {"log_level": "info", "state_dir": "$WORK/state"},
  "targets": [
    {"name": "$A",
     "tpgs": [{"tag": 1, "portals": ["127.0.0.1:$P"], "nop_interval": 1}],
     "luns": [{"id": 0, "backend": "ram:8M"}]},
    {"name": "$B", "alias": "bee",
     "tpgs": [{"tag": 1, "portals": ["127.0.0.1:$P"], "auth": "chap"}],
     "luns": [$luns],
     "acls": [{"initiator": "$I1", "chap": {"user": "host1", "secret": "$secret"}}]}
JSON
	if [ "$with_c" = with-c ]; then
		cat <<JSON
    ,{"name": "$C",
     "tpgs": [{"tag": 1, "portals": ["iscsi://127.0.0.1:$P"], "nop_interval": 2}],
     "luns": [{"id": 0, "backend": "ram:4M", "serial": "APPLYC0"}]}
JSON
	fi
	echo '  ]'
	echo '}'
}

B_LUNS_OLD='{"id": 0, "backend": "ram:8M"}, {"id": 1, "backend": "ram:4M"}'
B_LUNS_NEW='{"id": 0, "backend": "ram:8M"}'
write_config old-secret-12chars no "$B_LUNS_OLD" >"$WORK/start.json"
write_config new-secret-12chars with-c "$B_LUNS_NEW" >"$WORK/next.json"

step "start tetherd from a file with targets A and B (portal 127.0.0.1:$P)"
"$TETHERD" --rpc-socket "$SOCK" --config "$WORK/start.json" >>"$LOG" 2>&1 &
PID=$!
for _ in $(seq 100); do
	kill -0 "$PID" 2>/dev/null || fail "tetherd exited at start"
	ctl target list >/dev/null 2>&1 && break
	sleep 0.1
done
ctl_ok target list
contains "$A" "target list"
for _ in $(seq 50); do port_free "$P" || break; sleep 0.1; done

step "a session doing verified I/O on A"
python3 "$IO_LOOP" --port "$P" --target "$A" --initiator "$IA" --stop "$WORK/stop" \
	--ready "$WORK/ready" >"$WORK/io.out" 2>&1 &
IO_PID=$!
for _ in $(seq 100); do [ -e "$WORK/ready" ] && break; sleep 0.1; done
[ -e "$WORK/ready" ] || fail "the I/O session on A did not start"
SID=$(session_id "$A")
[ -n "$SID" ] || fail "no session with $A: $OUT"
echo "    session $SID on $A"
timeout 30 iscsi-inq -i "$I1" "iscsi://host1%old-secret-12chars@127.0.0.1:$P/$B/1" >/dev/null 2>&1 ||
	fail "B's LUN 1 is not reachable with the first secret"

step "--dry-run lists the changes and makes none"
ctl_ok save -
BEFORE=$OUT
ctl_ok apply --dry-run "$WORK/next.json"
echo "$OUT" | sed 's/^/    /'
contains "create target $C" "dry run"
contains "add lun $C/0: ram:4M" "dry run"
contains "add portal $C/1 127.0.0.1:$P" "dry run"
contains "change acl $B/$I1: CHAP secret changed" "dry run"
contains "remove lun $B/1" "dry run"
lacks "new-secret" "dry run (secrets are never printed)"
lacks "$A" "dry run (A does not change)"
ctl_ok save -
[ "$OUT" = "$BEFORE" ] || fail "--dry-run changed the configuration"

step "apply: C added, B's secret changed, B's LUN 1 removed"
ctl_ok apply "$WORK/next.json"
echo "$OUT" | sed 's/^/    /'
contains "create target $C" "apply"
contains "remove lun $B/1" "apply"
lacks "new-secret" "apply (secrets are never printed)"
sleep 1
kill -0 "$IO_PID" 2>/dev/null || fail "the I/O session on A ended: $(cat "$WORK/io.out")"
[ "$(session_id "$A")" = "$SID" ] || fail "the session with A changed: $OUT"
echo "    session $SID on $A still there"

OUT=$(timeout 30 iscsi-inq -e 1 -c 128 "iscsi://127.0.0.1:$P/$C/0" 2>&1) || fail "C: $OUT"
contains "APPLYC0" "serial number of C's LUN 0"
timeout 30 iscsi-inq -i "$I1" "iscsi://host1%old-secret-12chars@127.0.0.1:$P/$B/0" >/dev/null 2>&1 &&
	fail "B still takes the old secret"
OUT=$(timeout 30 iscsi-inq -i "$I1" "iscsi://host1%new-secret-12chars@127.0.0.1:$P/$B/0" 2>&1) ||
	fail "B refuses the new secret: $OUT"
ctl_ok target list "$B"
contains "lun 0" "target list $B"
lacks "lun 1 " "target list $B (LUN 1 removed)"

step "the same file again, and the saved configuration: nothing to do"
ctl_ok apply "$WORK/next.json"
[ "$OUT" = "nothing to do" ] || fail "second apply: $OUT"
ctl_ok save "$WORK/saved.json"
ctl_ok apply "$WORK/saved.json"
[ "$OUT" = "nothing to do" ] || fail "apply of the saved file: $OUT"
ctl_ok save -
AFTER=$OUT

step "bad files change nothing and name the field"
python3 - "$WORK/next.json" "$WORK" <<'PY'
import json, sys
cfg = json.load(open(sys.argv[1]))
bad = json.loads(json.dumps(cfg))
bad["targets"][2]["tpgs"][0]["portals"] = ["1.2.3"]
bad["targets"][1]["luns"] = []          # would remove a LUN if the file were taken
json.dump(bad, open(sys.argv[2] + "/bad-portal.json", "w"))
bad = json.loads(json.dumps(cfg))
bad["targets"][0]["tpgs"][0]["nop_intervall"] = 3
json.dump(bad, open(sys.argv[2] + "/bad-key.json", "w"))
bad = json.loads(json.dumps(cfg))
bad["global"]["loops"] = 999
json.dump(bad, open(sys.argv[2] + "/bad-loops.json", "w"))
bad = json.loads(json.dumps(cfg))
bad["targets"][1]["luns"] = []
bad["targets"].append({"name": "iqn.2026-11.org.tether:apply-d",
                       "luns": [{"id": 0, "backend": "file:" + sys.argv[2] + "/missing.img"}]})
json.dump(bad, open(sys.argv[2] + "/bad-backend.json", "w"))
PY
ctl_fails 1 'targets[2].tpgs[0].portals[0]: cannot parse address "1.2.3"' apply "$WORK/bad-portal.json"
ctl_fails 1 'targets[0].tpgs[0]: unknown key "nop_intervall" (did you mean "nop_interval"?)' \
	apply "$WORK/bad-key.json"
ctl_fails 1 'global.loops: 999 differs' apply "$WORK/bad-loops.json"
# a backend that cannot be opened: found before anything changes (B keeps its LUN 0)
ctl_fails 1 'targets[3].luns[0]: ' apply "$WORK/bad-backend.json"
grep -qF "not done: remove lun $B/0" "$WORK/err" || fail "bad backend: $(cat "$WORK/err")"
[ ! -s "$WORK/out" ] || fail "bad backend: changes reported as made: $(cat "$WORK/out")"
printf '{"targets": [' >"$WORK/bad-json.json"
ctl_fails 1 "bad-json.json:1:" apply "$WORK/bad-json.json"
ctl_ok save -
[ "$OUT" = "$AFTER" ] || fail "a bad file changed the configuration"

step "A's session did I/O throughout without an error"
[ "$(session_id "$A")" = "$SID" ] || fail "the session with A changed: $OUT"
touch "$WORK/stop"
wait "$IO_PID"
rc=$?
IO_PID=
[ "$rc" = 0 ] || fail "the I/O session on A failed: $(cat "$WORK/io.out")"
echo "    $(cat "$WORK/io.out")"

step "shutdown"
ctl_ok shutdown
for _ in $(seq 150); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$PID" 2>/dev/null && fail "tetherd still running 15 s after shutdown"
wait "$PID"
rc=$?
PID=
[ "$rc" = 0 ] || fail "tetherd exited with status $rc"
echo "PASS"
