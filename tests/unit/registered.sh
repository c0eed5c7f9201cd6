#!/usr/bin/env bash
# Every unit test source is a registered test, and every registered unit test has a source:
# tests/unit/<dir>/<name>_test.c <-> test() in tests/unit/<dir>/meson.build, as seen by
# `meson introspect --tests` on the build TT_BUILD. Also: every test program reports its
# skips (runs its tests with tt_run_group() from tt_test.h, never with cmocka's runners).
set -uo pipefail
top=${TT_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${TT_BUILD:?TT_BUILD: the build directory to check}
registry=$("$top/tests/unit/registry.py" "$build") || exit 1
bad=0

registered=$(cut -f1 <<<"$registry" | sort)
sources=$(cd "$top/tests/unit" && find . -name '*_test.c' | sed 's|^\./||; s|\.c$||' | sort)
while read -r s; do
	[ -n "$s" ] || continue
	echo "not registered: tests/unit/$s.c (add it to tests/unit/$(dirname "$s")/meson.build)"
	bad=1
done < <(comm -23 <(echo "$sources") <(echo "$registered"))
while read -r r; do
	[ -n "$r" ] || continue
	echo "registered without a source: $r (no tests/unit/$r.c)"
	bad=1
done < <(comm -13 <(echo "$sources") <(echo "$registered"))

for s in $sources; do
	f=$top/tests/unit/$s.c
	grep -q 'tt_run_group(' "$f" || { echo "tests/unit/$s.c: main does not use tt_run_group()"; bad=1; }
done
if grep -rn --include='*.c' --include='*.h' -e 'cmocka_run_group_tests\|run_tests(' \
	"$top/tests/unit" | grep -v '/tt_test\.h:'; then
	echo "^ cmocka's runners do not report skips: use tt_run_group() from tt_test.h"
	bad=1
fi

n_src=$(grep -c . <<<"$sources") n_reg=$(grep -c . <<<"$registered")
if [ $bad = 0 ]; then
	echo "ok: $n_src unit test sources, $n_reg registered in $build"
fi
exit $bad
