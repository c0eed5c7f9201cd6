#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# reinstatement.sh - session reinstatement fences the old session (RFC 7143 §6.3.5; the ghost
# write problem of the design notes). The same initiator name and ISID log in again (TSIH 0) on
# a new connection while the old session still has work in the target:
#   wait    a write parked in a slow backend (LUN 0: completions held 3 s): the new login
#           completes only after it has left the backend, its data is on the LUN when the new
#           session reads, the old connection is closed, and no response for the old write
#           arrives on the new connection;
#   fence   the old session writes A to block X (parked), reinstatement, the new session writes
#           B to X after its login: X reads B, also 3 s later (A never lands after B);
#   window  a write held in the old session's command window (its CmdSN one ahead of its turn)
#           never runs: the login does not wait for it, X keeps its content;
#   ghost   the design notes' test: the old path is cut silently (nftables) with a WRITE of A
#           still in the network; the initiator reinstates through a second portal of the same
#           portal group, writes B, and the cut is lifted: the retransmitted A never lands and
#           the old connection ends;
#   drain   a write that never completes (delay:hang): the login waits for the drain bound
#           (10 s), then completes (the LUN with stuck I/O is failed); then SIGTERM must end
#           tetherd within its grace period (exit 0, no sanitizer report).
# After wait, fence, window and ghost no session is left (the new one logs out) and tetherd stops
# cleanly; each variant runs against its own tetherd.
# Figures: reinstate_login_ms, reinstate_after_write_ms, reinstate_window_login_ms,
# reinstate_ghost_login_ms, reinstate_drain_login_ms.
#
# Exit: 0 pass, 77 skip (reason printed), 1 fail.
# Environment: TT_BUILD, TT_TOP (see tests/lib/common.sh); FT_SKIP_DRAIN=1 leaves out the 10 s
# drain variant.

. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib/netns.sh"

ft_setup reinst

DELAY_MS=3000
failed=()

# run_case TETHERD CASE OPTIONS...: one case of lib/fault.py; a failure is recorded and the
# script goes on with the next variant. LEFT=N: sessions expected to stay listed (default 0).
run_case() {
	local name=$1 c=$2 out rc n left=${LEFT:-0}
	shift 2
	out=$TT_WORK/$c.out
	step "$c"
	ft_py "$c" "$@" >"$out" 2>&1
	rc=$?
	grep -v '^FIGURE ' "$out" | sed 's/^/    /'
	grep '^FIGURE ' "$out"
	[ "$rc" = 0 ] || failed+=("$c")
	tt_alive "$name" "$c"
	n=$(ft_wait_sessions "$name" "$left" 5) || {
		echo "    $c: $n session(s) listed 5 s after the case, expected $left:"
		ft_ctl "$name" session list | sed 's/^/    /'
		failed+=("$c: session left")
	}
}

# stop NAME WHAT: SIGTERM must end tetherd within 12 s (exit 0, no sanitizer report)
stop() {
	step "stop tetherd '$1'"
	if ! ft_term "$1" 12; then
		failed+=("$2: tetherd still running 12 s after SIGTERM (killed)")
	elif [ "$FT_EXIT" != 0 ]; then
		failed+=("$2: exit status $FT_EXIT after SIGTERM")
	fi
	tt_log_has_report "${TT_LOG[$1]}" && failed+=("$2: sanitizer report in the log")
	echo "    tetherd '$1' ended with status $FT_EXIT, $FT_TERM_MS ms after SIGTERM"
}

ft_start slow --portal "$FT_TADDR:$FT_PORT" --lun "delay:ms=$DELAY_MS,ram:64M"
run_case slow reinstate-wait --opt delay_ms=$DELAY_MS
run_case slow reinstate-fence --opt delay_ms=$DELAY_MS
[ "$(grep -c "reinstating session" "${TT_LOG[slow]}")" = 2 ] ||
	failed+=("wait/fence: the log does not show 2 reinstatements")
stop slow "wait/fence"

# the login would wait for nothing: a short login timeout makes a hang fail early
cat >"$TT_WORK/window.json" <<EOF
{ "targets": [{ "name": "$TT_IQN",
    "tpgs": [{ "tag": 1, "portals": ["$FT_TADDR:$FT_PORT"], "login_timeout": 6 }],
    "luns": [{ "id": 0, "backend": "ram:64M" }] }] }
EOF
ft_start window --config "$TT_WORK/window.json"
run_case window reinstate-window
stop window "window"

ft_add_path
ft_start ghost --portal "$FT_TADDR:$FT_PORT" --portal "$FT_TADDR2:$FT_PORT" --lun ram:64M
run_case ghost reinstate-ghost --opt host2="$FT_TADDR2"
stop ghost "ghost"

if [ "${FT_SKIP_DRAIN:-0}" != 1 ]; then
	ft_start stuck --portal "$FT_TADDR:$FT_PORT" --lun delay:hang,ram:64M
	# the old session keeps its parked write: it stays listed (ending)
	LEFT=1 run_case stuck reinstate-drain --opt bound_ms=10000
	# a write parked for ever: SIGTERM, and SIGTERM again when the first does not end it
	step "stop with a write parked in the backend: SIGTERM, again after 12 s if needed"
	ft_term stuck 12 5
	echo "    tetherd 'stuck' ended with status $FT_EXIT, $FT_TERM_MS ms after the first of" \
		"$FT_TERMS SIGTERM(s)"
	[ "$FT_TERMS" = 1 ] || failed+=("drain: SIGTERM does not end tetherd with a parked write")
	[ "$FT_EXIT" = 0 ] || failed+=("drain: exit status $FT_EXIT after $FT_TERMS SIGTERM(s)")
	tt_log_has_report "${TT_LOG[stuck]}" && failed+=("drain: sanitizer report in the log")
fi

[ ${#failed[@]} = 0 ] || fail "$(printf '%s\n' "${failed[@]}")"
echo "PASS"
