#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# tether_cli.sh - the tether command line (libtether) against tetherd with two portals:
#   1. tether discover lists the target on both portals;
#   2. tether bench --verify --json --rw randrw for a few seconds over both paths
#      (selector=round-robin): 0 I/O errors, 0 verify errors, every key of the JSON, I/O on
#      both paths, every written block read back; while it runs, tether paths (its socket, and
#      the default directory) shows its 2 live paths;
#   3. a corrupted block is found: a --verify sequential write run covers a 1 MiB region, a
#      block is overwritten behind its back (qemu-io), and a --verify read run reports
#      verify_errors >= 1 (corrupt) with a non-zero exit; a clean region passes the same run;
#   4. usage errors name the option and exit 2.
#
# Exit: 0 pass, 77 skip (reason printed), 1 fail.
# Environment: TT_BUILD, TT_TOP (see tests/lib/common.sh).

# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"

tt_setup tether-cli
TETHER=$TT_BUILD/src/cmd/tether
[ -x "$TETHER" ] || skip "tether is not built ($TETHER)"
tt_need "$TT_PYTHON" qemu-io

tt_free_port P1
tt_free_port P2
tt_start main --portal "127.0.0.1:$P1" --portal "127.0.0.1:$P2" --lun ram:64M
U1=$(tt_url "$P1" 0)
U2=$(tt_url "$P2" 0)

# json FILE PYTHON-EXPR: evaluates EXPR with j = the JSON of FILE; prints the result
json() {
	"$TT_PYTHON" -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

step "tether discover"
tt_capture 30 "$TETHER" discover "iscsi://127.0.0.1:$P1" || fail "tether discover: exit $?: $OUT"
tt_contains "$TT_IQN 127.0.0.1:$P1" "tether discover"
tt_contains "$TT_IQN 127.0.0.1:$P2" "tether discover"
ok "both portals of $TT_IQN listed"

step "tether bench --verify --json --rw randrw, 2 paths, 5 s"
SOCK=$TT_WORK/bench.sock
"$TETHER" bench --rw randrw --bs 4k --qd 16 --time 5 --size 32M --verify --json \
	-o selector=round-robin --control "$SOCK" "$U1" "$U2" >"$TT_WORK/bench.json" \
	2>"$TT_WORK/bench.err" &
BPID=$!
tt_bg $BPID
for i in $(seq 100); do
	[ -S "$SOCK" ] && break
	kill -0 $BPID 2>/dev/null || break
	sleep 0.1
done
[ -S "$SOCK" ] || fail "tether bench made no control socket $SOCK: $(cat "$TT_WORK/bench.err")"
sleep 1
tt_capture 10 "$TETHER" paths "$SOCK" || fail "tether paths $SOCK: exit $?: $OUT"
tt_contains "2 of 2 paths live" "tether paths $SOCK"
tt_contains "127.0.0.1:$P1" "tether paths $SOCK"
tt_contains "127.0.0.1:$P2" "tether paths $SOCK"
tt_capture 10 "$TETHER" paths --json "$SOCK" || fail "tether paths --json: exit $?: $OUT"
printf '%s\n' "$OUT" >"$TT_WORK/paths.json"
[ "$(json "$TT_WORK/paths.json" 'sum(p["state"] == "live" for p in j[0]["paths"])')" = 2 ] ||
	fail "tether paths --json does not show 2 live paths: $OUT"
[ "$(json "$TT_WORK/paths.json" 'j[0]["pid"]')" = $BPID ] || fail "tether paths: not the bench's pid: $OUT"
ok "tether paths $SOCK: 2 live paths of pid $BPID"
# a second bench with the default socket, seen by tether paths without an argument
"$TETHER" bench --rw randread --time 3 --size 1M "$U1" >/dev/null 2>&1 &
B2=$!
tt_bg $B2
sleep 1.5
tt_capture 10 "$TETHER" paths || fail "tether paths: exit $?: $OUT"
tt_contains "bench pid $B2" "tether paths (default directory)"
ok "tether paths (no argument) lists the bench with the default socket"
wait $B2 || fail "the second bench failed"
wait $BPID
rc=$?
[ $rc = 0 ] || fail "tether bench exited $rc: $(cat "$TT_WORK/bench.err") $(cat "$TT_WORK/bench.json")"
for k in ios iops mbps errors verify_errors max_stall_ms p50_us p99_us p999_us max_us paths; do
	[ "$(json "$TT_WORK/bench.json" "'$k' in j")" = True ] || fail "the JSON has no $k: $(cat "$TT_WORK/bench.json")"
done
[ "$(json "$TT_WORK/bench.json" 'j["errors"] == 0 and j["verify_errors"] == 0')" = True ] ||
	fail "errors in: $(cat "$TT_WORK/bench.json")"
[ "$(json "$TT_WORK/bench.json" 'j["ios"] > 1000 and j["reads"] > 0 and j["writes"] > 0')" = True ] ||
	fail "too little I/O: $(cat "$TT_WORK/bench.json")"
[ "$(json "$TT_WORK/bench.json" 'len(j["paths"]) == 2 and all(p["ios"] > 0 for p in j["paths"])')" = True ] ||
	fail "not both paths carried I/O: $(cat "$TT_WORK/bench.json")"
[ "$(json "$TT_WORK/bench.json" 'j["verify"]["readback_ios"] > 0 and j["verify"]["blocks_checked"] >= 8 * j["verify"]["readback_ios"]')" = True ] ||
	fail "the written blocks were not read back: $(cat "$TT_WORK/bench.json")"
grep -q 'IOPS.*paths 2/2 live' "$TT_WORK/bench.err" || fail "no progress line: $(cat "$TT_WORK/bench.err")"
ok "$(json "$TT_WORK/bench.json" '"%d I/Os, %.0f IOPS, p99 %d us, max stall %.1f ms, %d blocks read back" % (j["ios"], j["iops"], j["p99_us"], j["max_stall_ms"], j["verify"]["readback_ios"])')"

step "a corrupted block is found"
tt_capture 60 "$TETHER" bench --rw write --bs 4k --qd 8 --time 2 --size 1M --verify --json "$U1" ||
	fail "the verified write run failed: $OUT"
tt_capture 60 "$TETHER" bench --rw read --bs 4k --qd 8 --time 1 --size 1M --verify --json "$U2" ||
	fail "a verify read of the intact region failed: $OUT"
ok "the written region verifies through the other path"
# LBA 27 (byte 13824), written behind the bench's back
tt_capture 60 qemu-io -f raw -c "write -P 0x5a 13824 512" "$U1" || fail "qemu-io write: $OUT"
"$TETHER" bench --rw read --bs 4k --qd 8 --time 1 --size 1M --verify --json "$U2" \
	>"$TT_WORK/bad.json" 2>"$TT_WORK/bad.err"
rc=$?
[ $rc = 1 ] || fail "the verify run over a corrupted block exited $rc (expected 1): $(cat "$TT_WORK/bad.json" "$TT_WORK/bad.err")"
[ "$(json "$TT_WORK/bad.json" 'j["verify_errors"] >= 1 and j["verify"]["corrupt"] >= 1 and j["errors"] == 0')" = True ] ||
	fail "the corrupted block was not reported: $(cat "$TT_WORK/bad.json")"
grep -q "verify: LBA 27: corrupt" "$TT_WORK/bad.err" || fail "LBA 27 is not named: $(cat "$TT_WORK/bad.err")"
ok "verify_errors $(json "$TT_WORK/bad.json" 'j["verify_errors"]'), exit 1, LBA 27 named"

step "usage errors"
tt_capture 10 "$TETHER" bench --rw sideways "$U1"
[ $? = 2 ] || fail "tether bench --rw sideways: expected exit 2: $OUT"
tt_contains "--rw sideways" "tether bench --rw sideways"
tt_capture 10 "$TETHER" bench -o no_such_option=1 "$U1"
[ $? = 2 ] || fail "tether bench -o no_such_option=1: expected exit 2: $OUT"
tt_contains "no_such_option" "tether bench -o no_such_option=1"
tt_capture 10 "$TETHER" bench --bs 1000 --time 1 "$U1"
[ $? = 2 ] || fail "tether bench --bs 1000: expected exit 2: $OUT"
tt_contains "not a multiple" "tether bench --bs 1000"
ok "the option is named, exit 2"

tt_alive main
tt_stop main
echo "PASS"
