#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# limits.sh - resource limits against a hostile peer (docs/security.md), on a real tetherd
# whose global section sets small limits (tests/tools/limits.py does the talking, and keeps a
# well-behaved session doing verified I/O in every case):
#   - max_prelogin_per_address: connections from one address that do not log in; the next from
#     it is closed at once (another address is not), the refusals are logged rate-limited;
#   - max_connections: the next connection is closed at once whatever its address;
#   - max_connections_per_initiator: the next login of the name gets 0302h, no text;
#   - max_login_pdus, max_login_text: a login that goes on is refused with 0200h;
#   - max_session_buffer: commands beyond it get TASK SET FULL; a window-full of 64 MiB writes
#     leaves tetherd's memory where it was; max_buffer: beyond it, BUSY;
#   - cmd_window: the window after login, and as commands stay outstanding;
#   - the defaults in the saved configuration; a limit changed live by `tetherctl apply`
#     (max_prelogin_per_address 4 -> 2) holds for the next connections.
# tetherd is alive, answers iscsi-inq and stops cleanly at the end.
#
# Exit: 0 pass, 77 skip (reason printed), 1 fail.
# Environment: TT_BUILD, TT_TOP (see tests/lib/common.sh).

# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"

tt_setup limits
tt_need "$TT_PYTHON" iscsi-inq
CTL=$TT_BUILD/src/cmd/tetherctl
[ -x "$CTL" ] || skip "tetherctl is not built ($CTL)"

tt_free_port P
SOCK=$TT_WORK/tetherd.sock
ctl() { "$CTL" -s "$SOCK" "$@"; }

step "the defaults are in the saved configuration"
tt_start defaults --portal "127.0.0.1:$P" --lun ram:16M --rpc-socket "$SOCK" --state-dir none
OUT=$(ctl save -) || fail "tetherctl save -: $OUT"
for kv in '"max_connections": 4096' '"max_prelogin_per_address": 64' \
	'"max_connections_per_initiator": 64' '"max_login_pdus": 64' '"max_login_text": 65536' \
	'"cmd_window": 128' '"max_session_buffer": 268435456' '"max_buffer": 2147483648'; do
	tt_contains "$kv" "tetherctl save"
done
ok "defaults: max_connections 4096, max_prelogin_per_address 64, per initiator 64, login 64 PDUs / 64 KiB, window 128, 256 MiB per session, 2 GiB in all"
tt_stop defaults

cfg() {
	cat <<JSON
{
  "global": {"max_connections": 12, "max_prelogin_per_address": $1,
             "max_connections_per_initiator": 3, "max_login_pdus": 8, "max_login_text": 4096,
             "cmd_window": 16, "max_session_buffer": 1048576, "max_buffer": 4194304},
  "targets": [{
    "name": "$TT_IQN",
    "tpgs": [{"tag": 1, "portals": ["127.0.0.1:$P"]}],
    "luns": [{"id": 0, "backend": "ram:64M"}]
  }]
}
JSON
}
cfg 4 >"$TT_WORK/limits.json"
TT_WAIT_PORTS=$P tt_start main --config "$TT_WORK/limits.json" --rpc-socket "$SOCK" \
	--state-dir none
LOG=${TT_LOG[main]}
PID=${TT_PID[main]}
lim() {
	"$TT_PYTHON" "$TT_TOOLS/limits.py" --port "$P" --target "$TT_IQN" --opt prelogin=4 \
		--opt connections=12 --opt initiator=3 --opt login_pdus=8 --opt login_text=4096 \
		--opt session_buffer=1048576 --opt buffer=4194304 --opt window=16 --opt "pid=$PID" "$@"
}

step "max_prelogin_per_address 4"
lim --opt flood=100 prelogin || fail "limits.py prelogin"
n=$(grep -c "max_prelogin_per_address reached" "$LOG")
[ "$n" -ge 1 ] || fail "the refusals are not logged"
[ "$n" -le 40 ] || fail "$n log lines for 101 refused connections: not rate-limited"
ok "101 refusals, $n log lines (rate-limited)"
tt_alive main "the pre-login cap"
tt_inq_ok "$P" "the pre-login cap"

sleep 1 # connections closed by the last case are released
step "max_connections 12"
lim connections || fail "limits.py connections"
grep -q "max_connections reached" "$LOG" || fail "the refusal is not logged"
tt_alive main "the connection cap"

step "max_connections_per_initiator 3"
lim initiator || fail "limits.py initiator"
grep -q "max_connections_per_initiator reached" "$LOG" || fail "the refusal is not logged"

step "max_login_pdus 8, max_login_text 4096"
lim login-pdus || fail "limits.py login-pdus"

step "max_session_buffer 1 MiB"
lim buffer || fail "limits.py buffer"
tt_alive main "the buffer cap"
tt_inq_ok "$P" "the buffer cap"

step "max_buffer 4 MiB"
lim busy || fail "limits.py busy"
tt_alive main "the daemon's buffer cap"

step "cmd_window 16"
lim window || fail "limits.py window"

step "tetherctl apply: max_prelogin_per_address 4 -> 2, live"
cfg 2 >"$TT_WORK/limits2.json"
OUT=$(ctl apply --dry-run "$TT_WORK/limits2.json" 2>&1) || fail "apply --dry-run: $OUT"
tt_contains "change global max_prelogin_per_address 4 -> 2" "apply --dry-run"
OUT=$(ctl apply "$TT_WORK/limits2.json" 2>&1) || fail "apply: $OUT"
OUT=$(ctl save -) || fail "tetherctl save -: $OUT"
tt_contains '"max_prelogin_per_address": 2' "tetherctl save after apply"
lim --opt prelogin=2 prelogin || fail "limits.py prelogin after apply"
OUT=$(ctl apply "$TT_WORK/limits2.json" 2>&1) || fail "apply again: $OUT"
[ "$OUT" = "nothing to do" ] || fail "the same file again: $OUT"
ok "applied live; the same file again: nothing to do"
step "a limit out of range is refused with its path"
sed 's/"max_connections": 12/"max_connections": 0/' "$TT_WORK/limits2.json" >"$TT_WORK/bad.json"
if OUT=$(ctl apply "$TT_WORK/bad.json" 2>&1); then fail "max_connections 0 applied"; fi
tt_contains "global.max_connections: 0 is out of range 1..1048576" "apply of a bad limit"
ok "$OUT"

step "the refusals are counted (tetherctl stats --json, the stats method)"
OUT=$(ctl call stats) || fail "stats: $OUT"
printf '%s\n' "$OUT" | "$TT_PYTHON" -c '
import json, sys
r = json.load(sys.stdin)["limits"]["refused"]
want = {"max_prelogin_per_address": 101 + 1, "max_connections": 1,
        "max_connections_per_initiator": 1, "max_session_buffer": 1 + 16, "max_buffer": 1}
low = {k: (r.get(k), v) for k, v in want.items() if not r.get(k, 0) >= v}
sys.exit("refusals counted below what the cases did: %r (all: %r)" % (low, r) if low else 0)
' || fail "refusal counters"
ok "$(printf '%s\n' "$OUT" | "$TT_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["limits"])')"

tt_alive main "every limit"
tt_inq_ok "$P" "every limit"
tt_stop main
echo "PASS"
