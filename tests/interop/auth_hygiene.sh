#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# auth_hygiene.sh - authentication and authorization hygiene of a real tetherd
# (docs/security.md). Four targets on one portal: open (anyone), chap (CHAP required; ACLs with
# one-way and mutual credentials, and one without), acl (one initiator only), chap2 (CHAP,
# other credentials). tests/tools/auth.py checks:
#   - SendTargets lists only what the initiator may log in to (hidden: CHAP targets to an
#     unauthenticated discovery session, targets whose ACLs exclude the initiator, CHAP targets
#     whose credentials differ from those the session authenticated with);
#   - refusals carry their status and no text (0201h, 0202h, 0203h); TargetAlias only after
#     CHAP; a reflected CHAP challenge is refused.
# Then, with every debug message on: no secret in tetherd's log (CHAP logins right and wrong, an
# ACL added by tetherctl, dumps); config_dump leaves secrets out unless asked ("secrets": true);
# `tetherctl save` writes mode 0600 even with umask 000, with the secrets (the file loads);
# the control socket is mode 0600 from its creation, and a client of another uid is refused
# (by the mode, and by SO_PEERCRED when the mode is opened up); secrets shorter than 12 bytes
# are refused with the field named.
#
# Exit: 0 pass, 77 skip (reason printed), 1 fail.
# Environment: TT_BUILD, TT_TOP (see tests/lib/common.sh).

# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"

tt_setup auth-hygiene
tt_need "$TT_PYTHON" stat
CTL=$TT_BUILD/src/cmd/tetherctl
[ -x "$CTL" ] || skip "tetherctl is not built ($CTL)"

PFX=iqn.2026-11.org.tether
T_OPEN=$PFX:hy-open T_CHAP=$PFX:hy-chap T_ACL=$PFX:hy-acl T_CHAP2=$PFX:hy-chap2
I0=$PFX:hy-nobody I1=$PFX:hy-one I2=$PFX:hy-two I3=$PFX:hy-three I4=$PFX:hy-four
U1=hy-user-one S1=Sec1-one-aaaaaaaa MU=hy-target MS=Sec1-mutual-bbbbbbbb
U4=hy-user-four S4=Sec1-four-cccccccc S4B=Sec1-four-other-dddd
S5=Sec1-added-by-ctl-eeee
ALIAS=hy-alias-of-chap
SECRETS=("$S1" "$MS" "$S4" "$S4B" "$S5")

tt_free_port P
mkdir -m 0755 "$TT_WORK/run"
SOCK=$TT_WORK/run/tetherd.sock
cat >"$TT_WORK/tetherd.json" <<JSON
{
  "global": {"log_level": "debug", "debug": ["all"]},
  "targets": [
    {"name": "$T_OPEN", "tpgs": [{"tag": 1, "portals": ["127.0.0.1:$P"]}],
     "luns": [{"id": 0, "backend": "ram:4M"}]},
    {"name": "$T_CHAP", "alias": "$ALIAS",
     "tpgs": [{"tag": 1, "portals": ["127.0.0.1:$P"], "auth": "chap"}],
     "luns": [{"id": 0, "backend": "ram:4M"}],
     "acls": [{"initiator": "$I1", "chap": {"user": "$U1", "secret": "$S1",
                                           "mutual_user": "$MU", "mutual_secret": "$MS"}},
              {"initiator": "$I3"},
              {"initiator": "$I4", "chap": {"user": "$U4", "secret": "$S4"}}]},
    {"name": "$T_ACL", "tpgs": [{"tag": 1, "portals": ["127.0.0.1:$P"]}],
     "luns": [{"id": 0, "backend": "ram:4M"}], "acls": [{"initiator": "$I2"}]},
    {"name": "$T_CHAP2", "tpgs": [{"tag": 1, "portals": ["127.0.0.1:$P"], "auth": "chap"}],
     "luns": [{"id": 0, "backend": "ram:4M"}],
     "acls": [{"initiator": "$I4", "chap": {"user": "$U4", "secret": "$S4B"}}]}
  ]
}
JSON
chmod 600 "$TT_WORK/tetherd.json"
TT_WAIT_PORTS=$P tt_start main --config "$TT_WORK/tetherd.json" --rpc-socket "$SOCK" \
	--state-dir none
LOG=${TT_LOG[main]}
ctl() { "$CTL" -s "$SOCK" "$@"; }

auth_py() {
	"$TT_PYTHON" "$TT_TOOLS/auth.py" --port "$P" --opt "open=$T_OPEN" --opt "chap=$T_CHAP" \
		--opt "acl=$T_ACL" --opt "chap2=$T_CHAP2" --opt "alias=$ALIAS" --opt "ini0=$I0" \
		--opt "ini1=$I1" --opt "ini2=$I2" --opt "ini3=$I3" --opt "ini4=$I4" \
		--opt "user1=$U1" --opt "secret1=$S1" --opt "muser=$MU" --opt "msecret=$MS" \
		--opt "user4=$U4" --opt "secret4=$S4" "$@"
}

step "SendTargets lists only what the initiator may log in to"
auth_py sendtargets || fail "auth.py sendtargets"

step "refusals: the status and nothing more"
auth_py refusals || fail "auth.py refusals"

step "secrets never returned by the control socket unless asked for"
OUT=$(ctl acl add "$T_OPEN" "$PFX:hy-five" --chap-user hy-five --chap-secret "$S5" 2>&1) ||
	fail "acl add: $OUT"
OUT=$(ctl call config_dump 2>&1) || fail "config_dump: $OUT"
for s in "${SECRETS[@]}"; do
	printf '%s\n' "$OUT" | grep -qF -- "$s" && fail "config_dump returned a secret: $s"
done
printf '%s\n' "$OUT" | grep -q '"secret"\|"mutual_secret"' && fail "config_dump has secret keys"
tt_contains '"user": "hy-five"' "config_dump"
ok "config_dump: CHAP users, no secret"
OUT=$(ctl call config_dump '{"secrets": true}' 2>&1) || fail "config_dump with secrets: $OUT"
for s in "${SECRETS[@]}"; do tt_contains "$s" 'config_dump {"secrets": true}'; done
ok 'config_dump {"secrets": true}: every secret'
for cmd in "target list" "acl list" "session list" "portal list"; do
	# shellcheck disable=SC2086
	OUT=$(ctl $cmd 2>&1) || continue
	for s in "${SECRETS[@]}"; do
		printf '%s\n' "$OUT" | grep -qF -- "$s" && fail "tetherctl $cmd shows a secret"
	done
done
ok "target/acl/session/portal lists: no secret"

step "tetherctl save: owner-only from creation, with the secrets"
OUT=$( (umask 000 && ctl save "$TT_WORK/saved.json") 2>&1) || fail "save: $OUT"
[ "$(stat -c %a "$TT_WORK/saved.json")" = 600 ] ||
	fail "saved with umask 000: mode $(stat -c %a "$TT_WORK/saved.json")"
for s in "${SECRETS[@]}"; do grep -qF -- "$s" "$TT_WORK/saved.json" || fail "$s not saved"; done
ok "mode 600 with umask 000; every secret in it"
OUT=$(ctl apply "$TT_WORK/saved.json" 2>&1) || fail "apply of the saved file: $OUT"
[ "$OUT" = "nothing to do" ] || fail "apply of the saved file: $OUT"
ok "apply of the saved file: nothing to do"

step "no secret in the log (every debug message on)"
for s in "${SECRETS[@]}"; do
	grep -qF -- "$s" "$LOG" && fail "the log holds a secret: $(grep -F -- "$s" "$LOG" | head -n 3)"
done
[ "$(grep -c . "$LOG")" -gt 100 ] || fail "the log is too short to tell ($(grep -c . "$LOG") lines)"
ok "$(grep -c . "$LOG") log lines, none with a secret"

step "the control socket is owner-only and refuses other users"
[ "$(stat -c '%a %u' "$SOCK")" = "600 $(id -u)" ] ||
	fail "socket mode/owner: $(stat -c '%a %u' "$SOCK")"
ok "socket mode 600, owned by uid $(id -u)"
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
	as_nobody() { setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups "$@"; }
	chmod 0711 "$TT_WORK"
	if OUT=$(as_nobody "$CTL" -s "$SOCK" target list 2>&1); then
		fail "uid nobody used the socket: $OUT"
	fi
	ok "uid nobody: refused by the mode ($OUT)"
	chmod 0666 "$SOCK"
	if OUT=$(as_nobody "$CTL" -s "$SOCK" target list 2>&1); then
		fail "uid nobody used the socket opened to everyone: $OUT"
	fi
	chmod 0600 "$SOCK"
	for _ in $(seq 20); do
		grep -q "client refused: uid $(id -u nobody)" "$LOG" && break
		sleep 0.1
	done
	grep -q "client refused: uid $(id -u nobody)" "$LOG" ||
		fail "no SO_PEERCRED refusal logged for uid nobody ($OUT)"
	ok "uid nobody with the socket opened up: refused by SO_PEERCRED ($OUT)"
	OUT=$(ctl target list 2>&1) || fail "root after that: $OUT"
	ok "root still served"
else
	echo "    (not root, or no user nobody or setpriv: the other-uid checks are left out)"
fi

step "a configuration file with secrets readable by others is pointed out"
cp "$TT_WORK/tetherd.json" "$TT_WORK/open.json"
chmod 644 "$TT_WORK/open.json"
tt_free_port P2
sed -i "s/127.0.0.1:$P/127.0.0.1:$P2/" "$TT_WORK/open.json"
timeout 10 "$TETHERD" --config "$TT_WORK/open.json" --rpc-socket none --state-dir none \
	>"$TT_WORK/open.log" 2>&1 &
opid=$!
for _ in $(seq 50); do
	grep -q "is readable by others (mode 0644)" "$TT_WORK/open.log" && break
	sleep 0.1
done
kill -TERM "$opid" 2>/dev/null
wait "$opid" 2>/dev/null
grep -q "holds CHAP secrets and is readable by others (mode 0644)" "$TT_WORK/open.log" ||
	fail "no warning for a mode 0644 file with secrets: $(head -n 5 "$TT_WORK/open.log")"
for s in "${SECRETS[@]}"; do
	grep -qF -- "$s" "$TT_WORK/open.log" && fail "the log of that run holds a secret"
done
if grep -q "readable by others" "$LOG"; then fail "a warning for the mode 0600 file"; fi
ok "$(grep -o "holds CHAP secrets.*" "$TT_WORK/open.log")"

step "secrets shorter than 12 bytes are refused with the field named"
if OUT=$(ctl acl add "$T_OPEN" "$PFX:hy-short" --chap-user u --chap-secret short 2>&1); then
	fail "a 5-byte secret was accepted"
fi
printf '%s\n' "$OUT" | grep -q "secret" || fail "the message does not name the secret: $OUT"
ok "tetherctl acl add: $OUT"
sed "s/\"secret\": \"$S4B\"/\"secret\": \"short\"/" "$TT_WORK/tetherd.json" >"$TT_WORK/short.json"
if OUT=$("$TETHERD" --config "$TT_WORK/short.json" --rpc-socket none --state-dir none 2>&1); then
	fail "tetherd started with a 5-byte secret"
fi
printf '%s\n' "$OUT" | grep -q "targets\[3\].acls\[0\].chap.secret" ||
	fail "the message does not name targets[3].acls[0].chap.secret: $OUT"
ok "config file: $(printf '%s\n' "$OUT" | head -n 1)"

tt_alive main
tt_stop main
echo "PASS"
