#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The cost of the I/O counters (docs/stats.md): 4 KiB random reads at QD 32 (libiscsi's
# iscsi-perf, as bench/run.sh) against a 1 GiB RAM LUN of tetherd with the counters on and with
# --no-stats, alternating on/off for ROUNDS rounds so that both see the same machine load.
# Prints each run and the mean of each side.
# Usage: bench/stats_cost.sh [BUILD_DIR] [SECONDS] [ROUNDS]
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
secs=${2:-5}
rounds=${3:-3}
tetherd=$build/src/cmd/tetherd
command -v iscsi-perf >/dev/null || { echo "bench: iscsi-perf is not installed (apt-get install libiscsi-bin)"; exit 77; }
[ -x "$tetherd" ] || { echo "bench: $tetherd is not built"; exit 77; }
PORT=${PORT:-3292}
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; }
trap cleanup EXIT

run() { # extra tetherd args...
	"$tetherd" --portal 127.0.0.1:$PORT --lun ram:1G --rpc-socket none --state-dir none "$@" \
		>/dev/null 2>&1 &
	pid=$!
	sleep 0.5
	timeout $((secs + 20)) iscsi-perf -t "$secs" -m 32 -b 8 -r \
		"iscsi://127.0.0.1:$PORT/iqn.2026-11.org.tether:default/0" 2>&1 |
		tr '\r' '\n' | sed -nE 's/^iops average ([0-9]+).*/\1/p' | tail -1
	kill "$pid"
	wait "$pid" 2>/dev/null
	pid=
}

on=() off=()
printf '%-6s %12s %12s\n' round "on (IOPS)" "off (IOPS)"
for r in $(seq "$rounds"); do
	a=$(run); b=$(run --no-stats)
	on+=("${a:-0}"); off+=("${b:-0}")
	printf '%-6s %12s %12s\n' "$r" "${a:-?}" "${b:-?}"
done
mean() { printf '%s\n' "$@" | awk '{ s += $1 } END { printf "%.0f", s / NR }'; }
m_on=$(mean "${on[@]}"); m_off=$(mean "${off[@]}")
printf '%-6s %12s %12s   on/off %s\n' mean "$m_on" "$m_off" \
	"$(awk -v a="$m_on" -v b="$m_off" 'BEGIN{ if (b > 0) printf "%.3f", a / b; else print "?" }')"
