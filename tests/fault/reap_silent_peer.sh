#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# reap_silent_peer.sh - tetherd finds dead peers by itself (NOP-In keepalive, 1 s interval and
# 1 s timeout) and frees everything they held:
#   (a) an idle session whose peer goes silent (nftables drops every packet on the initiator's
#       side: no FIN, no RST) is gone from `tetherctl session list` within 3 s;
#   (b) the same with writes in flight (16 outstanding on a LUN whose completions take 400 ms);
#   (c) the initiator's link goes down (ip link set ... down).
# Before each cut a healthy idle session must survive several keepalive rounds. After each:
# tetherd's fd count is back at the baseline (+2), VmRSS within 4 MiB of it (16 MiB with a
# sanitizer build, whose ASan quarantine is then limited to 16 MiB), and a fresh session writes
# and reads back.
# Figures: reap_idle_ms, reap_io_ms, reap_linkdown_ms (from the cut to the session's removal).
#
# Exit: 0 pass, 77 skip (reason printed), 1 fail.
# Environment: TT_BUILD, TT_TOP (see tests/lib/common.sh).

. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib/netns.sh"

ft_setup reap
tt_need nft

LIMIT_MS=3000          # interval + timeout + 1 s of slack
IO_DELAY_MS=400        # backend completion delay of LUN 1
FD_SLACK=2
ft_rss_slack 4096 16384

ft_start main --portal "$FT_TADDR:$FT_PORT" --nop-interval 1 --nop-timeout 1 \
	--lun ram:64M --lun "delay:ms=$IO_DELAY_MS,ram:64M"

step "warm-up: a session on each LUN, then the baseline"
ft_py smoke --opt lun=0 >"$TT_WORK/warm0.out" 2>&1 || fail "warm-up on LUN 0: $(cat "$TT_WORK/warm0.out")"
ft_py smoke --opt lun=1 >"$TT_WORK/warm1.out" 2>&1 || fail "warm-up on LUN 1: $(cat "$TT_WORK/warm1.out")"
ft_wait_sessions main 0 5 >/dev/null || fail "the warm-up sessions are still listed"
ft_baseline main

# variant NAME FIGURE LIMIT_MS CUT UNCUT HOLD-OPTIONS...
variant() {
	local name=$1 figure=$2 limit=$3 cut=$4 uncut=$5 out pid ms n
	shift 5
	out=$TT_WORK/hold-$name.out
	step "$name: a session, then $cut"
	ft_py hold --opt seconds=60 "$@" >"$out" 2>&1 &
	pid=$!
	tt_bg "$pid"
	ft_wait_line "$out" READY 20 || fail "$name: the initiator did not log in: $(cat "$out")"
	n=$(ft_sessions main)
	[ "$n" = 1 ] || fail "$name: $n sessions listed, expected 1"
	# a live peer that answers is never reaped: several keepalive rounds go by
	sleep 3.5
	n=$(ft_sessions main)
	[ "$n" = 1 ] || fail "$name: a healthy session was reaped ($n sessions listed): $(cat "$out")"
	kill -0 "$pid" 2>/dev/null || fail "$name: the initiator ended early: $(cat "$out")"
	ok "a peer that answers the NOP-Ins stays (3.5 s)"

	$cut
	if ! ms=$(ft_wait_sessions main 0 15); then
		$uncut
		fail "$name: the session is still listed 15 s after the cut ($ms sessions)
$(ft_ctl main session list)"
	fi
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	$uncut
	ft_figure "$figure" "$ms"
	[ "$ms" -le "$limit" ] || fail "$name: reaped after $ms ms, expected at most $limit ms"
	ok "reaped after $ms ms (at most $limit ms)"
	tt_alive main "$name"
	ft_check_back main "$name" "$FD_SLACK" "$FT_RSS_SLACK"
	ft_py smoke --opt lun=0 >"$TT_WORK/smoke-$name.out" 2>&1 ||
		fail "$name: a fresh session fails afterwards: $(cat "$TT_WORK/smoke-$name.out")"
	ft_wait_sessions main 0 5 >/dev/null || fail "$name: the fresh session is still listed"
	ok "a fresh session writes and reads back"
}

link_down() { ft_i ip link set "$FT_IVETH" down; }
link_up() { ft_i ip link set "$FT_IVETH" up; }

variant idle reap_idle_ms "$LIMIT_MS" ft_cut_silent ft_uncut
grep -q "no answer to NOP-In" "${TT_LOG[main]}" ||
	fail "idle: the log does not say why the connection was reaped"
variant io reap_io_ms $((LIMIT_MS + IO_DELAY_MS)) ft_cut_silent ft_uncut --opt io=stream \
	--opt lun=1 --opt depth=16
variant linkdown reap_linkdown_ms "$LIMIT_MS" link_down link_up

step "stop"
tt_stop main
echo "PASS"
