#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# churn.sh - tetherd through many short lives:
#   - 10,000 login/logout cycles (4 processes, half with the security stage), at most 80 s;
#   - 1,000 logins cut in the middle of a transfer: WRITE with part of its unsolicited data then
#     RST; WRITE cut in the middle of an R2T's Data-Out then RST; a complete WRITE still in a slow
#     backend (20 ms) then RST; a partial WRITE then FIN; a 1 MiB READ then RST before its Data-In;
#   then SIGTERM: exit status 0, no LeakSanitizer/AddressSanitizer report, and the fd count back
#   at its value before the churn. Figures: churn_cycles (the number really done, when the time
#   limit cut it short it says so), abrupt_disconnects, rss_before_kb, rss_after_kb.
#   With a sanitizer build, tetherd runs with a 16 MiB ASan quarantine so that VmRSS means
#   something; the allowed growth is 32 MiB there and 8 MiB otherwise.
#
# Exit: 0 pass, 77 skip (reason printed), 1 fail.
# Environment: TT_BUILD, TT_TOP (see tests/lib/common.sh); FT_CHURN_CYCLES (10000),
# FT_ABRUPT_CYCLES (1000).

. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib/netns.sh"

ft_setup churn

CYCLES=${FT_CHURN_CYCLES:-10000}
ABRUPT=${FT_ABRUPT_CYCLES:-1000}
LIMIT_S=80
ft_rss_slack 8192 32768

ft_start main --portal "$FT_TADDR:$FT_PORT" --lun ram:64M --lun delay:ms=20,ram:64M

step "warm-up, then the baseline"
for lun in 0 1; do
	ft_py smoke --opt lun=$lun >"$TT_WORK/warm.out" 2>&1 || fail "warm-up: $(cat "$TT_WORK/warm.out")"
done
ft_wait_sessions main 0 5 >/dev/null || fail "the warm-up sessions are still listed"
ft_baseline main
RSS_BEFORE=$FT_RSS0

step "$CYCLES login/logout cycles"
ft_py churn --opt cycles="$CYCLES" --opt workers=4 --opt limit=$LIMIT_S >"$TT_WORK/churn.out" 2>&1 ||
	fail "churn: $(cat "$TT_WORK/churn.out")"
cat "$TT_WORK/churn.out"
done_cycles=$(sed -n 's/^FIGURE churn_cycles=//p' "$TT_WORK/churn.out")
[ -n "$done_cycles" ] || fail "churn: no count reported"
if [ "$done_cycles" -lt "$CYCLES" ]; then
	echo "    NOTE: only $done_cycles of $CYCLES cycles fit in $LIMIT_S s"
fi
tt_alive main "the login/logout churn"
n=$(ft_wait_sessions main 0 10) || fail "churn: $n sessions still listed 10 s after the last logout"
ft_check_back main "$done_cycles login/logout cycles" 2 "$FT_RSS_SLACK"

step "$ABRUPT logins cut in the middle of a transfer"
ft_py abrupt --opt cycles="$ABRUPT" --opt workers=4 >"$TT_WORK/abrupt.out" 2>&1 ||
	fail "abrupt: $(cat "$TT_WORK/abrupt.out")"
cat "$TT_WORK/abrupt.out"
tt_alive main "the abrupt disconnects"
n=$(ft_wait_sessions main 0 15) || fail "abrupt: $n sessions still listed 15 s after the last cut
$(ft_ctl main session list)"
ft_check_back main "$ABRUPT abrupt disconnects" 2 "$FT_RSS_SLACK"

step "a fresh session still works"
ft_py smoke >"$TT_WORK/smoke.out" 2>&1 || fail "smoke after the churn: $(cat "$TT_WORK/smoke.out")"
ft_wait_sessions main 0 5 >/dev/null || fail "the last session is still listed"
RSS_AFTER=$(ft_rss main)
ft_figure rss_before_kb "$RSS_BEFORE"
ft_figure rss_after_kb "$RSS_AFTER"

step "SIGTERM"
tt_stop main
grep -q -E 'LeakSanitizer|AddressSanitizer' "${TT_LOG[main]}" && fail "sanitizer report in the log"
echo "PASS"
