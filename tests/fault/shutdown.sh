#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# shutdown.sh - SIGTERM with sessions open (each variant against its own tetherd):
#   logout    the initiator receives an Async Message asking it to log out (event 1), logs out;
#             tetherd exits 0 within 5 s;
#   ignore    the initiator reads the request and does not log out (it keeps answering
#             NOP-Ins): tetherd ends the session after its grace period and exits 0 within 15 s;
#   double    two SIGTERMs in a row (0.1 s apart) with an initiator that ignores the request:
#             tetherd exits 0 at once (within 2 s);
#   inflight  16 writes in flight on a LUN whose completions take 500 ms and an initiator that
#             ignores the request: tetherd exits 0 within 15 s, after the writes left the backend.
# Every exit must be status 0 with no sanitizer report in the log. Figures: shutdown_logout_ms,
# shutdown_ignored_ms, shutdown_double_ms, shutdown_inflight_ms (SIGTERM to exit).
#
# Exit: 0 pass, 77 skip (reason printed), 1 fail.
# Environment: TT_BUILD, TT_TOP (see tests/lib/common.sh).

. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib/netns.sh"

ft_setup shutdown
failed=()

# variant NAME LIMIT_S FIGURE SECOND_SIGTERM(0|1) LUN CASE OPTIONS...
variant() {
	local name=$1 limit=$2 figure=$3 twice=$4 lun=$5 c=$6 out pid rc
	shift 6
	step "$name"
	ft_start "$name" --portal "$FT_TADDR:$FT_PORT" --lun "$lun"
	out=$TT_WORK/$name.out
	ft_py "$c" "$@" >"$out" 2>&1 &
	pid=$!
	tt_bg "$pid"
	ft_wait_line "$out" READY 20 || fail "$name: the initiator did not log in: $(cat "$out")"
	if [ "$twice" = 1 ]; then
		kill -TERM "${TT_PID[$name]}"
		sleep 0.1
	fi
	# ft_term sends the (next) SIGTERM and waits; the limit counts from the first one
	if ! ft_term "$name" "$limit"; then
		failed+=("$name: tetherd still running $limit s after SIGTERM (killed)")
	fi
	[ "$twice" = 1 ] && FT_TERM_MS=$((FT_TERM_MS + 100))
	ft_figure "$figure" "$FT_TERM_MS"
	echo "    tetherd ended with status $FT_EXIT, $FT_TERM_MS ms after SIGTERM"
	[ "$FT_EXIT" = 0 ] || failed+=("$name: exit status $FT_EXIT")
	tt_log_has_report "${TT_LOG[$name]}" && failed+=("$name: sanitizer report in the log")
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill "$pid" 2>/dev/null
	wait "$pid"
	rc=$?
	sed 's/^/    initiator: /' "$out"
	# (the streaming initiator may see its last writes fail: it only keeps I/O in flight)
	[ "$rc" = 0 ] || [ "$c" = hold ] || failed+=("$name: initiator: $(grep -m1 FAIL "$out")")
	grep -q "ASYNC event=1" "$out" || [ "$c" = hold ] ||
		failed+=("$name: no Async Message asking to log out reached the initiator")
}

variant logout 5 shutdown_logout_ms 0 ram:64M shutdown-logout
variant ignore 15 shutdown_ignored_ms 0 ram:64M shutdown-ignore
variant double 2 shutdown_double_ms 1 ram:64M shutdown-ignore
variant inflight 15 shutdown_inflight_ms 0 delay:ms=500,ram:64M hold --opt io=stream \
	--opt depth=16 --opt seconds=30

[ ${#failed[@]} = 0 ] || fail "$(printf '%s\n' "${failed[@]}")"
echo "PASS"
