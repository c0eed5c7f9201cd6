#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# stats.sh - I/O counters (docs/stats.md): tests/tools/stats.py issues a known number of READ
# and WRITE commands of known sizes from two sessions, a read beyond the capacity and TEST UNIT
# READYs, then checks `tetherctl stats --json` per LUN and per session (exact counts and bytes,
# errors by class, ordered percentiles), GET /metrics (strict Prometheus text 0.0.4, the same
# numbers; 404, 405, HEAD) and the table. Then tetherd --no-stats counts nothing.
#
# Exit: 0 pass, 77 skip (reason printed), 1 fail.
# Environment: TT_BUILD, TT_TOP (see tests/lib/common.sh).

# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"

tt_setup stats
tt_need "$TT_PYTHON"
CTL=$TT_BUILD/src/cmd/tetherctl
[ -x "$CTL" ] || skip "tetherctl is not built ($CTL)"

tt_free_port P
tt_free_port PM
SOCK=$TT_WORK/tetherd.sock
stats_py() {
	"$TT_PYTHON" "$TT_TOOLS/stats.py" --port "$P" --opt "ctl=$CTL" --opt "sock=$SOCK" \
		--opt "metrics=127.0.0.1:$PM" "$@"
}

step "counters on: exact counts per LUN and per session, the same in /metrics"
TT_WAIT_PORTS=$PM tt_start main --portal "127.0.0.1:$P" --lun ram:16M --rpc-socket "$SOCK" \
	--metrics "127.0.0.1:$PM" --loops 2 --state-dir none
stats_py exact || fail "stats.py exact"
tt_stop main

step "tetherd --no-stats: nothing is counted"
TT_WAIT_PORTS=$PM tt_start off --portal "127.0.0.1:$P" --lun ram:16M --rpc-socket "$SOCK" \
	--metrics "127.0.0.1:$PM" --no-stats --state-dir none
stats_py off || fail "stats.py off"
tt_stop off

step "a bad --metrics address is refused"
if "$TETHERD" --metrics 127.0.0.1 --rpc-socket none >"$TT_WORK/bad.log" 2>&1; then
	fail "tetherd --metrics 127.0.0.1 (no port) started"
fi
grep -q "expected ADDR:PORT" "$TT_WORK/bad.log" || fail "no message: $(cat "$TT_WORK/bad.log")"
ok "--metrics 127.0.0.1: $(head -n 1 "$TT_WORK/bad.log")"
echo "PASS"
