#!/usr/bin/env bash
# Runs the whole test suite and ends with one line: "N passed, N failed, N skipped".
# Each test is an executable: exit 0 = pass, 77 = skip (it prints why), anything else = fail.
#   unit tests:   the tests in suite 'unit' registered in the build (meson introspect --tests),
#                 on the normal build and on the sanitizer build, each preceded by
#                 tests/unit/registered.sh (every tests/unit/**/*_test.c is registered)
#   black-box:    tests/{interop,fault,vm}/*.sh     (TT_BUILD points at the build to test)
#   fuzz:         tests/fuzz/*.sh, a short smoke of the libFuzzer harnesses of the fuzz build
#                 (TT_FUZZ_BUILD, default build-fuzz; skipped when it is not built)
# --build and --san-build must be configured meson builds: anything else is an error.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build san="" quick=0 filter=""
usage() { echo "usage: $0 [--build DIR] [--san-build DIR] [--quick] [--filter REGEX]" >&2; exit 2; }
# the absolute path of a configured meson build directory, or exit with why it is not one
build_dir() { # option dir
	if [ ! -d "$2" ]; then
		echo "$0: $1 $2: no such directory (make build, or meson setup $2)" >&2
		exit 2
	fi
	if [ ! -f "$2/meson-info/meson-info.json" ]; then
		echo "$0: $1 $2: not a configured meson build directory (meson setup $2)" >&2
		exit 2
	fi
	(cd "$2" && pwd)
}
while [ $# -gt 0 ]; do
	case $1 in
	--build) [ $# -ge 2 ] || usage; build=$(build_dir "$1" "$2") || exit 2; shift ;;
	--san-build) [ $# -ge 2 ] || usage; san=$(build_dir "$1" "$2") || exit 2; shift ;;
	--quick) quick=1 ;;
	--filter) filter=$2; shift ;;
	*) usage ;;
	esac
	shift
done
build=$(build_dir --build "$build") || exit 2 # the default, when --build was not given
# the unit tests registered in each build, read before anything runs
declare -A registry=()
for b in "$build" $san; do
	registry[$b]=$("$top/tests/unit/registry.py" "$b") || exit 2
done
logs=$build/test-logs
rm -rf "$logs"; mkdir -p "$logs"
pass=0 fail=0 skip=0 failed=()

run_one() { # name timeout env... -- cmd...
	local name=$1 tmo=$2; shift 2
	local envs=()
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	[ -n "$filter" ] && ! [[ $name =~ $filter ]] && return 0
	local log=$logs/$(echo "$name" | tr '/ ' '__').log t0=$SECONDS rc
	env "${envs[@]}" timeout -k 10 "$tmo" "$@" >"$log" 2>&1 </dev/null
	rc=$?
	local dt=$((SECONDS - t0))
	case $rc in
	0) pass=$((pass + 1)); printf 'PASS  %-50s %4ss\n' "$name" "$dt" ;;
	77) skip=$((skip + 1)); printf 'SKIP  %-50s %4ss  %s\n' "$name" "$dt" "$( (grep -m1 '^SKIP' "$log" || grep -i -m1 'skip' "$log") | cut -c1-160)" ;;
	*) fail=$((fail + 1)); failed+=("$name")
	   printf 'FAIL  %-50s %4ss  (exit %s%s)\n' "$name" "$dt" "$rc" "$([ $rc = 124 ] && echo ', timed out')"
	   sed 's/^/    | /' "$log" | tail -n 40 ;;
	esac
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$top/tests/lsan.supp}

for b in "$build" $san; do
	tag=""; [ "$b" = "$san" ] && tag=" [asan]"
	run_one "unit/registered$tag" 60 TT_BUILD="$b" TT_TOP="$top" -- "$top/tests/unit/registered.sh"
	# only registered tests run: an executable left in the build by a deleted test does not
	while IFS=$'\t' read -r -a t; do
		[ ${#t[@]} -ge 3 ] || continue
		run_one "unit/${t[0]}$tag" "${t[1]}" TT_TOP="$top" -- "${t[@]:2}"
	done <<<"${registry[$b]}"
done

blackbox_build=${san:-$build}
fuzz_build=${TT_FUZZ_BUILD:-$top/build-fuzz}
case $fuzz_build in /*) ;; *) fuzz_build=$top/$fuzz_build ;; esac
for dir in interop fault vm fuzz; do
	[ $quick = 1 ] && [ $dir = vm ] && continue
	for t in $(find "$top/tests/$dir" -maxdepth 1 -type f -name '*.sh' -perm -u+x 2>/dev/null | sort); do
		b=$blackbox_build tmo=900
		# the VM tests run the kernel initiator under TCG: they use the optimised build
		[ $dir = vm ] && b=$build tmo=1800
		# the fuzz smoke: the harnesses script (fuzz.sh) is for make fuzz, not a test
		[ $dir = fuzz ] && [ "$(basename "$t")" = fuzz.sh ] && continue
		[ $dir = fuzz ] && tmo=300
		run_one "$dir/$(basename "$t" .sh)" $tmo TT_BUILD="$b" TT_TOP="$top" \
			TT_FUZZ_BUILD="$fuzz_build" -- "$t"
	done
done

echo
[ ${#failed[@]} -gt 0 ] && printf 'failed: %s\n' "${failed[*]}"
echo "logs: $logs"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
