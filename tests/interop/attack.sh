#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# attack.sh - tetherd under a network attack while a well-behaved session does verified I/O.
# One portal 127.0.0.1:P shared by three targets:
#   attack-open  no authentication, two RAM LUNs (64 MiB; 16 MiB with 4096-byte blocks)
#   attack-chap  CHAP (one ACL with one-way and mutual credentials), one RAM LUN
#   attack-good  an ACL that admits only the well-behaved initiator, one RAM LUN
# The attack TPGs have a 2 s login timeout and 1 s + 1 s NOP-In keepalive so that what the
# attackers leave behind is reaped quickly. Discovery sessions go through the same portal.
#   1. the good session (tests/tools/shared_portal.py hold) logs in to attack-good and writes
#      and reads back its blocks without a pause for the whole test;
#   2. warm-up: tests/tools/attack.py for a few seconds (allocator caches, ASan quarantine),
#      then the baseline: fd count and VmRSS of tetherd once only the good session is left;
#   3. the attack: attack.py, N clients for S seconds, mutated but well-framed PDUs in every
#      phase (login security and operational stages, CHAP, logins to attack-good that must be
#      refused, full feature phase, logout, discovery, idle connections);
#   4. checks: tetherd alive, a fresh iscsi-inq answered, only the good session left within
#      the reap time, fds back to the baseline (+2), VmRSS within the margin of the baseline,
#      the good session still listed with the same id and TSIH, every one of its writes
#      verified (exit 0), SIGTERM -> exit 0 with no sanitizer report.
# With a sanitizer build tetherd runs with a 16 MiB ASan quarantine (as tests/fault/churn.sh);
# the VmRSS margin is 32 MiB there and 8 MiB on a plain build.
# Figures: FIGURE attack_* (from attack.py), good_writes, rss_start_kb, rss_before_kb,
# rss_after_kb, fds_before, fds_after, reap_ms.
#
# Exit: 0 pass, 77 skip (reason printed), 1 fail.
# Environment: TT_BUILD, TT_TOP (see tests/lib/common.sh); TT_SEED: the attack seed;
# TT_ATTACK_SECONDS (60), TT_ATTACK_WORKERS (8), TT_ATTACK_WARMUP (8).

# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"

tt_setup attack
tt_need "$TT_PYTHON" iscsi-inq
CTL=$TT_BUILD/src/cmd/tetherctl
[ -x "$CTL" ] || skip "tetherctl is not built ($CTL)"
SOCK=$TT_WORK/tetherd.sock

SECS=${TT_ATTACK_SECONDS:-60}
WORKERS=${TT_ATTACK_WORKERS:-8}
WARMUP=${TT_ATTACK_WARMUP:-8}
SEED=${TT_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}

TA=iqn.2026-11.org.tether:attack-open
TC=iqn.2026-11.org.tether:attack-chap
TG=iqn.2026-11.org.tether:attack-good
IC=iqn.2026-11.org.tether:attack-chap-initiator
IH=iqn.2026-11.org.tether:attack-holder
CU=attacker CS=attack-secret-one MU=attacked MS=attack-secret-two

if grep -q -a -m1 '__asan_init' "$TETHERD" 2>/dev/null; then
	RSS_SLACK=32768
	export ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}quarantine_size_mb=16"
else
	RSS_SLACK=8192
fi

tt_free_port P
ATT='"login_timeout": 2, "nop_interval": 1, "nop_timeout": 1'
cat >"$TT_WORK/tetherd.json" <<EOF
{
  "targets": [
    { "name": "$TA",
      "tpgs": [{ "tag": 1, "portals": ["127.0.0.1:$P"], $ATT }],
      "luns": [{ "id": 0, "backend": "ram:64M" }, { "id": 1, "backend": "ram:16M,bs=4096" }] },
    { "name": "$TC",
      "tpgs": [{ "tag": 1, "portals": ["127.0.0.1:$P"], "auth": "chap", $ATT }],
      "luns": [{ "id": 0, "backend": "ram:16M" }],
      "acls": [{ "initiator": "$IC",
                 "chap": { "user": "$CU", "secret": "$CS",
                           "mutual_user": "$MU", "mutual_secret": "$MS" } }] },
    { "name": "$TG",
      "tpgs": [{ "tag": 1, "portals": ["127.0.0.1:$P"], "allow_any_initiator": false,
                 "login_timeout": 5, "nop_interval": 2, "nop_timeout": 5 }],
      "luns": [{ "id": 0, "backend": "ram:64M" }],
      "acls": [{ "initiator": "$IH" }] }
  ]
}
EOF
chmod 600 "$TT_WORK/tetherd.json"
TT_WAIT_PORTS=$P tt_start main --config "$TT_WORK/tetherd.json" --rpc-socket "$SOCK" --state-dir none
PID=${TT_PID[main]}
# inq WHAT: a fresh iscsi-inq of LUN 0 of attack-open is answered
inq() {
	tt_capture 30 iscsi-inq "$(tt_url "$P" 0 127.0.0.1 "$TA")" ||
		fail "a fresh iscsi-inq failed after $1 (exit $?): $OUT"
	tt_contains "Vendor:TETHER" "iscsi-inq after $1"
}
inq "the start"

fds() { find "/proc/$PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$PID/status"; }
figure() { echo "FIGURE $1=$2"; }
now_ms() { date +%s%3N; }
ctl() { tt_capture 30 "$CTL" -s "$SOCK" "$@"; }

# sessions: "COUNT ID TSIH" (all sessions; id and TSIH of the good initiator's, "-" if none)
sessions() {
	ctl --json session list || { echo "-1 - -"; return; }
	printf '%s' "$OUT" | "$TT_PYTHON" -c '
import json, sys
j = json.load(sys.stdin)
g = [s for s in j if s["initiator"] == sys.argv[1]]
print(len(j), g[0]["id"] if g else "-", g[0]["tsih"] if g else "-")' "$IH"
}

# settle WHAT: waits (20 s at most) until the good session is the only one and the fd count is
# at most FD_LIMIT; sets SETTLE_MS
settle() {
	local t0 n
	t0=$(now_ms)
	while :; do
		read -r n _ _ < <(sessions)
		[ "$n" = 1 ] && [ "$(fds)" -le "$FD_LIMIT" ] && break
		if [ $(($(now_ms) - t0)) -ge 20000 ]; then
			fail "$1: 20 s later, $n sessions listed (only the good one expected) and $(fds) fds (at most $FD_LIMIT expected):
$(ctl session list; echo "$OUT")
$(ls -l "/proc/$PID/fd")"
		fi
		sleep 0.1
	done
	SETTLE_MS=$(($(now_ms) - t0))
}

attack() { # SECONDS OUTFILE
	timeout -k 5 $(($1 + 90)) "$TT_PYTHON" "$TT_TOOLS/attack.py" --port "$P" --seed "$SEED" \
		--workers "$WORKERS" --seconds "$1" --target "$TA" --chap-target "$TC" \
		--chap-initiator "$IC" --chap-user "$CU" --chap-secret "$CS" \
		--chap-mutual-user "$MU" --chap-mutual-secret "$MS" --closed-target "$TG" >"$2" 2>&1
}

step "1. the good session: $IH to $TG, verified writes without a pause"
READY=$TT_WORK/hold.ready STOP=$TT_WORK/hold.stop
timeout -k 5 300 "$TT_PYTHON" "$TT_TOOLS/shared_portal.py" --port "$P" --target "$TG" \
	--opt "initiator=$IH" --opt "ready=$READY" --opt "stop=$STOP" --opt max=280 hold \
	>"$TT_WORK/hold.out" 2>&1 &
HOLD=$!
tt_bg $HOLD
for _ in $(seq 300); do
	[ -s "$READY" ] && break
	kill -0 $HOLD 2>/dev/null || break
	sleep 0.1
done
[ -s "$READY" ] || fail "the good session did not start within 30 s: $(cat "$TT_WORK/hold.out")"
for _ in $(seq 50); do
	read -r n SID STSIH < <(sessions)
	[ "$n" = 1 ] && [ "$SID" != - ] && break
	sleep 0.1
done
[ "$n" = 1 ] && [ "$SID" != - ] || fail "session list: expected the good session alone, got $n sessions"
[ "$STSIH" = "$(cat "$READY")" ] ||
	fail "session list: the good session has TSIH $STSIH, the initiator was given $(cat "$READY")"
ok "good session: id $SID, TSIH $STSIH"
RSS_START=$(rss)
FD_START=$(fds)

step "2. warm-up attack ($WARMUP s), then the baseline"
echo "    seed $SEED (TT_SEED=$SEED reproduces the attack)"
attack "$WARMUP" "$TT_WORK/warmup.out" || fail "warm-up attack: $(cat "$TT_WORK/warmup.out")"
tt_alive main "the warm-up attack"
FD_LIMIT=$((FD_START + 2))
settle "after the warm-up"
FD0=$(fds)
RSS0=$(rss)
echo "    baseline: $FD0 fds, VmRSS $RSS0 KiB (at the start: $FD_START fds, $RSS_START KiB)"

step "3. the attack: $WORKERS clients, $SECS s"
t0=$SECONDS
arc=0
attack "$SECS" "$TT_WORK/attack.out" || arc=$?
cat "$TT_WORK/attack.out"
echo "    the attack took $((SECONDS - t0)) s"
tt_alive main "the attack"
kill -0 $HOLD 2>/dev/null || fail "the good session ended during the attack: $(cat "$TT_WORK/hold.out")"
[ $arc = 0 ] || fail "attack.py failed (exit $arc), see above"

step "4. after the attack"
inq "the attack"
ok "a fresh iscsi-inq is answered"
FD_LIMIT=$((FD0 + 2))
settle "after the attack"
ok "only the good session is left, $SETTLE_MS ms after the attackers stopped"
FD1=$(fds)
RSS1=$(rss)
figure reap_ms "$SETTLE_MS"
figure rss_start_kb "$RSS_START"
figure rss_before_kb "$RSS0"
figure rss_after_kb "$RSS1"
figure fds_before "$FD0"
figure fds_after "$FD1"
[ "$FD1" -le $((FD0 + 2)) ] || fail "tetherd holds $FD1 fds after the attack, $FD0 before (+2 allowed)"
[ "$RSS1" -le $((RSS0 + RSS_SLACK)) ] ||
	fail "tetherd VmRSS $RSS1 KiB after the attack, $RSS0 KiB before (+$RSS_SLACK KiB allowed)"
ok "fds $FD0 -> $FD1, VmRSS $RSS0 -> $RSS1 KiB (margin $RSS_SLACK KiB)"
read -r n SID1 STSIH1 < <(sessions)
[ "$SID1 $STSIH1" = "$SID $STSIH" ] ||
	fail "the good session is now id $SID1 TSIH $STSIH1, it was id $SID TSIH $STSIH"
ok "the good session kept its id $SID and TSIH $STSIH"

touch "$STOP"
for _ in $(seq 300); do kill -0 $HOLD 2>/dev/null || break; sleep 0.1; done
kill -0 $HOLD 2>/dev/null && fail "the good session did not end within 30 s of being asked to"
wait $HOLD
hrc=$?
sed 's/^/  /' "$TT_WORK/hold.out"
[ $hrc = 0 ] || fail "the good session: exit $hrc (an error or a wrong byte), see above"
writes=$(sed -n 's/.*: \([0-9]*\) writes verified.*/\1/p' "$TT_WORK/hold.out")
figure good_writes "${writes:-0}"
ok "the good session: ${writes:-0} writes verified, no error, no wrong byte"

step "SIGTERM"
tt_stop main
echo "PASS"
