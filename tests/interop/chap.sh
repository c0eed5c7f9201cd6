#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# chap.sh - CHAP logins to a real tetherd with libiscsi's tools (iscsi-inq, iscsi-ls):
#   a target whose TPG has "auth": "chap" and three ACLs: one-way CHAP, mutual CHAP, and an ACL
#   without credentials (refused: CHAP is required and it has none). The right credentials
#   (URL iscsi://USER%SECRET@...) log in; a wrong secret, a wrong user and no credentials are
#   refused with status 0201h (authentication failure, logged by tetherd); an initiator without
#   an ACL is refused with 0202h (authorization failure) even with valid credentials. Mutual
#   CHAP (URL arguments target_user/target_password): right target credentials log in, a wrong
#   target secret makes the initiator refuse the target. Discovery through a portal of a CHAP
#   TPG is authenticated too: SendTargets without credentials is refused (0201h), an initiator
#   without an ACL gets nothing; iscsi-ls -s (SendTargets, then a CHAP login to the target)
#   with credentials lists LUN 0.
#
# Exit: 0 pass, 77 skip (reason printed), 1 fail.
# Environment: TT_BUILD, TT_TOP (see tests/lib/common.sh).

# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"

tt_setup chap
tt_need iscsi-inq iscsi-ls

I1=iqn.2026-11.org.tether:chap-one
I2=iqn.2026-11.org.tether:chap-mutual
I3=iqn.2026-11.org.tether:chap-nocreds
IX=iqn.2026-11.org.tether:chap-stranger
U1=host-one S1=secret-of-host-one
U2=host-mutual S2=secret-of-host-mutual
MU=disk-mutual MS=secret-of-the-target

tt_free_port P1
cat >"$TT_WORK/tetherd.json" <<EOF
{
  "targets": [{
    "name": "$TT_IQN",
    "tpgs": [{ "tag": 1, "portals": ["127.0.0.1:$P1"], "auth": "chap" }],
    "luns": [{ "id": 0, "backend": "ram:16M" }],
    "acls": [
      { "initiator": "$I1", "chap": { "user": "$U1", "secret": "$S1" } },
      { "initiator": "$I2", "chap": { "user": "$U2", "secret": "$S2",
                                      "mutual_user": "$MU", "mutual_secret": "$MS" } },
      { "initiator": "$I3" }
    ]
  }]
}
EOF
chmod 600 "$TT_WORK/tetherd.json"
TT_WAIT_PORTS=$P1 tt_start main --config "$TT_WORK/tetherd.json" --state-dir none
LOG=$TT_WORK/tetherd-main.log

# Every check runs; the failures are listed at the end.
FAILS=()
bad() {
	echo "    FAILED: $*"
	FAILS+=("$*")
}

# url CRED [ARGS]: the LUN 0 URL with CRED ("user%secret" or "") and URL arguments
url() { echo "iscsi://${1:+$1@}127.0.0.1:$P1/$TT_IQN/0${2:+?$2}"; }

# refused STATUS INITIATOR WHAT: the last login refusal logged for INITIATOR carries STATUS
refused() {
	for _ in $(seq 20); do
		grep -q "login of $2 to $TT_IQN refused: status 0x$1" "$LOG" && return 0
		sleep 0.1
	done
	bad "$3: tetherd did not log a refusal with status 0x$1 for $2"
	return 1
}

# inq_ok INITIATOR URL WHAT: iscsi-inq must log in and get the INQUIRY answer
inq_ok() {
	if ! tt_capture 30 iscsi-inq -i "$1" "$2"; then
		bad "$3: iscsi-inq failed: $OUT"
		return 1
	fi
	printf '%s\n' "$OUT" | grep -q "Vendor:TETHER" || {
		bad "$3: no INQUIRY answer: $OUT"
		return 1
	}
}

# inq_fails INITIATOR URL WHAT: iscsi-inq must fail (not time out)
inq_fails() {
	tt_capture 30 iscsi-inq -i "$1" "$2"
	local rc=$?
	if [ $rc = 124 ]; then
		bad "$3: iscsi-inq timed out"
	elif [ $rc = 0 ] || printf '%s\n' "$OUT" | grep -q "Vendor:"; then
		bad "$3: iscsi-inq logged in: $OUT"
	else
		return 0
	fi
	return 1
}

step "one-way CHAP"
inq_ok "$I1" "$(url "$U1%$S1")" "right user and secret" &&
	ok "right user and secret: logged in, INQUIRY answered"
inq_fails "$I1" "$(url "$U1%wrong-secret-123")" "wrong secret" &&
	refused 0201 "$I1" "wrong secret" && ok "wrong secret refused (0201h, logged)"
n0=$(grep -c "login of $I1 to $TT_IQN refused: status 0x0201" "$LOG")
inq_fails "$I1" "$(url "nobody%$S1")" "wrong user" && ok "wrong user refused"
inq_fails "$I1" "$(url "")" "no credentials" && ok "no credentials refused"
sleep 0.2
n1=$(grep -c "login of $I1 to $TT_IQN refused: status 0x0201" "$LOG")
if [ $((n1 - n0)) = 2 ]; then ok "tetherd logged both authentication failures (0201h)"
else bad "tetherd logged $((n1 - n0)) authentication failures for the wrong user and no credentials, expected 2"; fi
inq_fails "$I2" "$(url "$U1%$S1")" "another initiator's credentials" &&
	refused 0201 "$I2" "another initiator's credentials" && ok "credentials of another ACL refused (0201h)"

step "ACLs"
inq_fails "$IX" "$(url "$U1%$S1")" "initiator without an ACL" &&
	refused 0202 "$IX" "initiator without an ACL" &&
	ok "initiator without an ACL refused (0202h), even with valid credentials"
inq_fails "$I3" "$(url "$U1%$S1")" "ACL without credentials on a CHAP TPG" &&
	refused 0201 "$I3" "ACL without credentials on a CHAP TPG" &&
	if grep -q "$I3 needs CHAP but has no usable credentials" "$LOG"; then
		ok "ACL without credentials refused on a CHAP TPG (0201h, reason logged)"
	else
		bad "tetherd did not say why $I3 was refused"
	fi

step "mutual CHAP"
inq_ok "$I2" "$(url "$U2%$S2" "target_user=$MU&target_password=$MS")" "mutual CHAP, right credentials" &&
	ok "mutual CHAP: both sides authenticated, INQUIRY answered"
inq_ok "$I2" "$(url "$U2%$S2")" "one-way login to an ACL with mutual credentials" &&
	ok "the initiator may skip authenticating the target"
inq_fails "$I2" "$(url "$U2%$S2" "target_user=$MU&target_password=not-the-target-secret")" \
	"wrong target secret" && ok "wrong target secret: the initiator refused the target"
inq_fails "$I2" "$(url "$U2%wrong-secret-123" "target_user=$MU&target_password=$MS")" \
	"wrong initiator secret with mutual CHAP" &&
	refused 0201 "$I2" "wrong initiator secret with mutual CHAP" &&
	ok "wrong initiator secret with mutual CHAP refused (0201h)"

step "discovery"
if ! tt_capture 30 iscsi-ls -i "$I1" "iscsi://127.0.0.1:$P1" && printf '%s\n' "$OUT" | grep -q "Authentication failure"; then
	ok "SendTargets without credentials refused on a CHAP TPG (0201h)"
else
	bad "iscsi-ls (SendTargets) of $I1 without credentials was not refused: $OUT"
fi
if ! tt_capture 30 iscsi-ls -i "$IX" "iscsi://$U1%$S1@127.0.0.1:$P1" || ! printf '%s\n' "$OUT" | grep -qF "$TT_IQN"; then
	ok "SendTargets of an initiator without an ACL lists nothing"
else
	bad "iscsi-ls (SendTargets) of $IX (no ACL) listed the target: $OUT"
fi
if tt_capture 60 iscsi-ls -s -i "$I1" "iscsi://$U1%$S1@127.0.0.1:$P1" && printf '%s\n' "$OUT" | grep -q "Lun:0"; then
	ok "iscsi-ls -s with CHAP credentials lists LUN 0"
else
	bad "iscsi-ls -s with CHAP credentials: $OUT"
fi

tt_alive main
tt_stop main
if [ ${#FAILS[@]} != 0 ]; then
	echo "FAIL: ${#FAILS[@]} check(s) failed:"
	printf '    %s\n' "${FAILS[@]}"
	grep -E "refused|CHAP" "$LOG" | tail -n 20
	exit 1
fi
echo "PASS"
