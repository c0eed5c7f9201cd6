#!/usr/bin/env bash
# A short smoke of every fuzz harness (make check): each seed of tests/fuzz/corpus/<harness>/ runs
# once, then each harness fuzzes for a few seconds on a scratch copy of its seeds. Any crash,
# leak, sanitizer report or timeout fails. TT_FUZZ_BUILD: the fuzz build (meson -Dfuzz=true,
# default build-fuzz); skipped (77) when it is not there, e.g. without clang or libFuzzer.
set -uo pipefail
top=${TT_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${TT_FUZZ_BUILD:-$top/build-fuzz}
secs=${TT_FUZZ_SMOKE_SECONDS:-5}
harnesses=$(ls "$top/tests/fuzz/corpus")
if ! command -v clang >/dev/null; then
	echo "SKIP: no clang (Debian: clang, libclang-rt-14-dev): the fuzz harnesses are not built"
	exit 77
fi
for h in $harnesses; do
	if [ ! -x "$build/tests/fuzz/${h}_fuzz" ]; then
		echo "SKIP: $build/tests/fuzz/${h}_fuzz not built (make check configures build-fuzz" \
		     "with CC=clang -Dfuzz=true; is libclang-rt-14-dev installed?)"
		exit 77
	fi
done
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$top/tests/lsan.supp}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
fail=0
for h in $harnesses; do
	exe=$build/tests/fuzz/${h}_fuzz
	mkdir -p "$scratch/$h"
	cp "$top/tests/fuzz/corpus/$h/"* "$scratch/$h/"
	# every seed once (-runs=0 executes the corpus and stops)
	if ! (cd "$scratch" && "$exe" -runs=0 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$scratch/$h-" "$top/tests/fuzz/corpus/$h") >"$scratch/$h.seeds.log" 2>&1; then
		echo "FAIL $h: a seed fails"; tail -n 30 "$scratch/$h.seeds.log"; fail=1; continue
	fi
	if ! (cd "$scratch" && "$exe" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$scratch/$h-" "$scratch/$h") >"$scratch/$h.log" 2>&1; then
		echo "FAIL $h: fuzzing found a problem"; grep -A30 -m1 -E 'ERROR:' "$scratch/$h.log"
		for a in "$scratch/$h"-*; do [ -f "$a" ] && echo "input (base64): $(base64 -w0 "$a")"; done
		fail=1; continue
	fi
	echo "ok   $h: $(ls "$top/tests/fuzz/corpus/$h" | wc -l) seeds," \
	     "$(sed -n 's/^stat::number_of_executed_units: *//p' "$scratch/$h.log") executions in ${secs}s"
done
exit $fail
