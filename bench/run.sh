#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Throughput of tetherd against tgtd (Debian's tgt), both serving a 1 GiB RAM-backed LUN on
# loopback, measured in the same go with libiscsi's iscsi-perf: 4 KiB random reads at QD 32 and
# 128 KiB sequential reads at QD 16. Prints each figure and the ratio tetherd/tgtd.
# Usage: bench/run.sh [BUILD_DIR] [SECONDS]
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
secs=${2:-10}
tetherd=$build/src/cmd/tetherd
for p in iscsi-perf tgtd tgtadm; do
	command -v $p >/dev/null || { echo "bench: $p is not installed (apt-get install libiscsi-bin tgt)"; exit 77; }
done
[ -x "$tetherd" ] || { echo "bench: $tetherd is not built"; exit 77; }
work=$(mktemp -d /dev/shm/tt-bench.XXXXXX)
pids=()
cleanup() {
	# tgtd ignores SIGTERM while it has targets: remove them first, and insist if needed
	tgtadm --lld iscsi --op delete --mode target --tid 1 --force >/dev/null 2>&1
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	sleep 1
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

TPORT=3290 GPORT=3291
"$tetherd" --portal 127.0.0.1:$TPORT --lun ram:1G --rpc-socket none >"$work/tetherd.log" 2>&1 &
pids+=($!)
truncate -s 1G "$work/tgt.img"
tgtd -f --iscsi portal=127.0.0.1:$GPORT --control-port $GPORT >"$work/tgtd.log" 2>&1 &
pids+=($!)
sleep 1
tgtadm() { command tgtadm -C "$GPORT" "$@"; }
tgtadm --lld iscsi --op new --mode target --tid 1 -T iqn.2026-11.org.tether:bench-tgt
tgtadm --lld iscsi --op new --mode logicalunit --tid 1 --lun 1 -b "$work/tgt.img"
tgtadm --lld iscsi --op bind --mode target --tid 1 -I ALL

# iscsi-perf ends with "iops average N (M MB/s)" over the whole run.
perf() { # url blocks qd extra...
	local url=$1 blocks=$2 qd=$3; shift 3
	timeout $((secs + 20)) iscsi-perf -t "$secs" -m "$qd" -b "$blocks" "$@" "$url" 2>&1 |
		tr '\r' '\n' | grep -E '^iops average' | tail -1
}
num() { sed -nE 's/^iops average ([0-9]+).*/\1/p' <<<"$1"; }
mbs() { sed -nE 's/^iops average [0-9]+ \(([0-9]+) MB\/s\).*/\1/p' <<<"$1"; }

turl=iscsi://127.0.0.1:$TPORT/iqn.2026-11.org.tether:default/0
gurl=iscsi://127.0.0.1:$GPORT/iqn.2026-11.org.tether:bench-tgt/1
printf '%-34s %14s %14s %8s\n' "workload" "tetherd" "tgtd" "ratio"
t=$(perf "$turl" 8 32 -r); g=$(perf "$gurl" 8 32 -r)
ti=$(num "$t"); gi=$(num "$g")
printf '%-34s %10s IOPS %10s IOPS %8s\n' "4 KiB random read, QD 32" "${ti:-?}" "${gi:-?}" \
	"$(awk -v a="${ti:-0}" -v b="${gi:-0}" 'BEGIN{ if (b > 0) printf "%.2f", a / b; else print "?" }')"
t=$(perf "$turl" 256 16); g=$(perf "$gurl" 256 16)
tm=$(mbs "$t"); gm=$(mbs "$g")
printf '%-34s %10s MB/s %10s MB/s %8s\n' "128 KiB sequential read, QD 16" "${tm:-?}" "${gm:-?}" \
	"$(awk -v a="${tm:-0}" -v b="${gm:-0}" 'BEGIN{ if (b > 0) printf "%.2f", a / b; else print "?" }')"
hwm() { awk '/VmHWM/{print $2, $3}' "/proc/$1/status" 2>/dev/null || echo "?"; }
echo "peak RSS: tetherd $(hwm "${pids[0]}"), tgtd $(hwm "$(pgrep -x -n tgtd)")"
