#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# concurrent_sessions.sh - 256 sessions at once (one initiator name each, one thread each):
# each logs in, writes 4 KiB to its own blocks and reads them back; while all are held (each
# writing and verifying every 0.5 s), `tetherctl session list` must show 256 sessions; then
# each writes and verifies again and logs out. Every session must complete; afterwards no
# session is listed, the fd count is back at its baseline and tetherd stops cleanly.
# Figure: sessions_held.
#
# Exit: 0 pass, 77 skip (reason printed), 1 fail.
# Environment: TT_BUILD, TT_TOP (see tests/lib/common.sh); FT_SESSIONS (256).

. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib/netns.sh"

ft_setup concurrent

N=${FT_SESSIONS:-256}
ft_start main --portal "$FT_TADDR:$FT_PORT" --lun ram:64M

ft_py smoke >"$TT_WORK/warm.out" 2>&1 || fail "warm-up: $(cat "$TT_WORK/warm.out")"
ft_wait_sessions main 0 5 >/dev/null || fail "the warm-up session is still listed"
ft_baseline main

step "$N sessions at once"
out=$TT_WORK/concurrent.out
ft_py concurrent --opt sessions="$N" --opt release="$TT_WORK/release" --opt hold=60 >"$out" 2>&1 &
pid=$!
tt_bg "$pid"
ft_wait_line "$out" READY 60 || fail "the sessions did not all log in within 60 s: $(cat "$out")"
sleep 1 # a round of I/O on every session while all are held
held=$(ft_sessions main)
echo "    tetherctl lists $held sessions, $(ft_fds main) fds open"
ft_figure sessions_held "$held"
touch "$TT_WORK/release"
wait "$pid"
rc=$?
cat "$out"
[ "$rc" = 0 ] || fail "the initiator reported failures (exit $rc)"
[ "$held" = "$N" ] || fail "tetherctl listed $held sessions while $N were logged in"
ok "$N sessions held at once, all completed"

tt_alive main "$N sessions"
n=$(ft_wait_sessions main 0 10) || fail "$n sessions still listed 10 s after the logouts"
ft_check_back main "$N sessions" 2 65536
tt_stop main
echo "PASS"
