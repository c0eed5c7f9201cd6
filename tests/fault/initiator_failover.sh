#!/usr/bin/env bash
# shellcheck disable=SC2034 # the FP_* settings are read by lib/paths.sh
# SPDX-License-Identifier: BSD-3-Clause
#
# initiator_failover.sh - libtether's multipath keeps a LUN alive and correct through path and
# target failures, against tetherd and against tgtd (Debian's tgt). The target sits in its own
# network namespace with two veth links to the initiator's (tests/fault/lib/paths.sh); each
# scenario runs under `tether bench --rw randrw --verify --json` on both paths:
#   cut      path 1 silently cut (nft drop both ways, no RST) for $CUT_S s, then restored:
#            I/O goes on through path 2 during the cut, and path 1 carries I/O again after
#            the restore (`tether paths` on the bench's control socket);
#   link     path 2's link down for $CUT_S s, then up: the same;
#   kill     the target SIGKILLed, restarted $KILL_S s later (same target, LUN and file): I/O
#            resumes and both paths carry I/O again;
#   alldown  both links down for $ALLDOWN_S s (30), then up: I/O resumes (no_path_timeout_ms
#            long enough to queue through it).
# Every run must end with exit 0, 0 I/O errors and 0 verify errors. Times (stall, latency, until
# the path is back) are printed as FIGURE lines, never asserted.
# Figures: <kind>_<scenario>_{ios,iops,mbps,errors,verify_errors,max_stall_ms,p50_us,p99_us},
# <kind>_<scenario>_back_ms (restored path carries I/O), <kind>_<scenario>_resume_ms.
#
# Exit: 0 pass, 77 skip (reason printed), 1 fail.
# Environment: TT_BUILD, TT_TOP (tests/lib/common.sh); FP_KINDS (default "tetherd tgtd");
# FP_SCENARIOS (default "cut link kill alldown"); ALLDOWN_S (30); FP_TETHER_OPTS (extra
# library options, "name=value ...").

. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/paths.sh"

fp_setup ifail
fp_need_tether
tt_need tgtd tgtadm iscsi-inq iscsi-ls

CUT_S=3
KILL_S=2
ALLDOWN_S=${ALLDOWN_S:-30}
# I/O queues while no path is live for longer than any scenario keeps them all down
# shellcheck disable=SC2206
FP_LIBOPTS=(no_path_timeout_ms=$(((ALLDOWN_S + 30) * 1000)) ${FP_TETHER_OPTS:-})

# A path away from the bench for a moment, then back (cut: nft drop; link: link down).
scenario_path() { # KIND SCENARIO PATH
	local kind=$1 sc=$2 n=$3 other=$((3 - $3)) r a b back
	r=$kind-$sc
	step "$kind: $sc of path $n for $CUT_S s"
	fp_bench "$r" "$kind" $((CUT_S + 9))
	fp_wait_live "$r" 20
	if [ "$sc" = cut ]; then fp_cut "$n"; else fp_link_down "$n"; fi
	sleep 1
	a=$(fp_path_stat "$r" "$other")
	sleep $((CUT_S - 1))
	b=$(fp_path_stat "$r" "$other")
	echo "    path $other during the fault: $a -> $b; path $n: $(fp_path_stat "$r" "$n")"
	if [ "$sc" = cut ]; then fp_uncut "$n"; else fp_link_up "$n"; fi
	[[ $a == live\ * && $b == live\ * && ${b#* } -gt ${a#* } ]] ||
		fail "$kind/$sc: path $other carried no I/O while path $n was away ($a -> $b)"
	ok "$kind/$sc: I/O went on through path $other"
	back=$(fp_wait_back "$r" "$n" 30) ||
		fail "$kind/$sc: path $n does not carry I/O again after the restore ($back)
$(fp_paths_out "$r")"
	ok "$kind/$sc: path $n carries I/O again, $back ms after the restore"
	ft_figure "${kind}_${sc}_back_ms" "$back"
	fp_bench_end "$r" "${kind}_$sc"
}

scenario_kill() { # KIND
	local kind=$1 r=$1-kill t resume back1 back2
	step "$kind: SIGKILL, restart after $KILL_S s"
	fp_bench "$r" "$kind" $((KILL_S + 12))
	fp_wait_live "$r" 20
	fp_kill "$kind"
	sleep "$KILL_S"
	fp_restart "$kind"
	t=$(ft_now_ms)
	resume=$(fp_wait_io "$r" 30) || fail "$kind/kill: no I/O completes after the restart ($resume)"
	resume=$(($(ft_now_ms) - t))
	back1=$(fp_wait_back "$r" 1 30) || fail "$kind/kill: path 1 not back in use ($back1)"
	back2=$(fp_wait_back "$r" 2 30) || fail "$kind/kill: path 2 not back in use ($back2)"
	ok "$kind/kill: I/O resumed and both paths carry I/O again"
	ft_figure "${kind}_kill_resume_ms" "$resume"
	fp_bench_end "$r" "${kind}_kill"
}

scenario_alldown() { # KIND
	local kind=$1 r=$1-alldown t resume
	step "$kind: both paths down for $ALLDOWN_S s"
	fp_bench "$r" "$kind" $((ALLDOWN_S + 10))
	fp_wait_live "$r" 20
	fp_all_down
	sleep "$ALLDOWN_S"
	fp_all_up
	t=$(ft_now_ms)
	resume=$(fp_wait_io "$r" 30) || fail "$kind/alldown: no I/O completes after the links came up ($resume)"
	resume=$(($(ft_now_ms) - t))
	ok "$kind/alldown: I/O resumed $resume ms after the links came up"
	ft_figure "${kind}_alldown_resume_ms" "$resume"
	fp_wait_back "$r" 1 20 >/dev/null || fail "$kind/alldown: path 1 not back in use"
	fp_wait_back "$r" 2 20 >/dev/null || fail "$kind/alldown: path 2 not back in use"
	fp_bench_end "$r" "${kind}_alldown"
}

for kind in ${FP_KINDS:-tetherd tgtd}; do
	fp_start "$kind"
	fp_check_paths "$kind"
	for sc in ${FP_SCENARIOS:-cut link kill alldown}; do
		case $sc in
		cut) scenario_path "$kind" cut 1 ;;
		link) scenario_path "$kind" link 2 ;;
		kill) scenario_kill "$kind" ;;
		alldown) scenario_alldown "$kind" ;;
		*) fail "unknown scenario '$sc'" ;;
		esac
	done
	fp_stop "$kind"
done
echo "PASS: initiator fail-over against ${FP_KINDS:-tetherd tgtd}: ${FP_SCENARIOS:-cut link kill alldown}"
