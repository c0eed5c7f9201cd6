#!/usr/bin/env bash
# Runs every fuzz harness of a fuzz build (meson -Dfuzz=true, docs/fuzzing.md) for a while, each on
# its own copy of its seed corpus, and prints per harness: executions, corpus size, outcome.
#   tests/fuzz/fuzz.sh BUILD SECONDS [HARNESS...]
# New inputs go to BUILD/fuzz-corpus/<harness>/ (kept from run to run, never the source tree);
# crashes, leaks and timeouts to BUILD/fuzz-artifacts/. Exits 1 when any harness failed.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
[ $# -ge 2 ] || { echo "usage: $0 BUILD SECONDS [HARNESS...]" >&2; exit 2; }
build=$(cd "$1" && pwd) secs=$2; shift 2
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=($(ls "$top/tests/fuzz/corpus"))
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$top/tests/lsan.supp}
fail=0
rows=()
for h in "${harnesses[@]}"; do
	exe=$build/tests/fuzz/${h}_fuzz
	corpus=$build/fuzz-corpus/$h
	arts=$build/fuzz-artifacts
	log=$build/fuzz-logs/$h.log
	mkdir -p "$corpus" "$arts" "$(dirname "$log")"
	if [ ! -x "$exe" ]; then
		rows+=("$(printf '%-14s %12s %8s  %s' "$h" - - "missing: $exe")"); fail=1; continue
	fi
	cp -n "$top/tests/fuzz/corpus/$h/"* "$corpus/" 2>/dev/null
	echo "fuzzing $h for ${secs}s (log: $log)"
	(cd "$build" && "$exe" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$arts/$h-" "$corpus" >"$log" 2>&1)
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	[ -n "$execs" ] || execs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -1)
	size=$(ls "$corpus" | wc -l)
	if [ $rc -eq 0 ]; then
		what=ok
	else
		fail=1
		what="FAILED (exit $rc): $(grep -m1 -E 'ERROR:|SUMMARY:' "$log" | cut -c1-100)"
		art=$(grep -o "Test unit written to .*" "$log" | tail -1 | cut -d' ' -f5)
		[ -n "$art" ] && what="$what; input $art"
	fi
	rows+=("$(printf '%-14s %12s %8s  %s' "$h" "${execs:-?}" "$size" "$what")")
done
echo
printf '%-14s %12s %8s  %s\n' harness executions corpus result
printf '%s\n' "${rows[@]}"
exit $fail
