# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# guest-chap.sh - guest side of iscsi_chap.sh: open-iscsi with CHAP against a
# target whose TPG requires it.
#
#   1. the initiator name is set before iscsid starts (the ACL names it)
#   2. discovery: with DISCOVERY_AUTH=1 (tetherd: a CHAP TPG authenticates
#      discovery too) SendTargets without credentials must be refused and
#      SendTargets with the CHAP credentials must return the target; with
#      DISCOVERY_AUTH=0 (tgtd) SendTargets without credentials returns it
#   3. one-way CHAP: login, LUN appears, 1 MiB written and read back (sha256)
#   4. a wrong password: login must fail
#   5. mutual CHAP (username_in/password_in): login, the 1 MiB is still there
#   6. a wrong target secret on the initiator side: login must fail
#
# Variables: TT_VM_INITIATOR, TT_VM_TARGET_IQN, CHAP_USER, CHAP_SECRET,
# MUTUAL_USER, MUTUAL_SECRET, DISCOVERY_AUTH.

# shellcheck source=guest-lib.sh source-path=SCRIPTDIR
. /mnt/host/tests/vm/lib/guest-lib.sh

INI=${TT_VM_INITIATOR:?} IQN=${TT_VM_TARGET_IQN:?}
USER_=${CHAP_USER:?} SECRET=${CHAP_SECRET:?}
MUSER=${MUTUAL_USER:?} MSECRET=${MUTUAL_SECRET:?}
P=$PORTAL_A
OFF_MB=32

dmesg -n 1
echo "InitiatorName=$INI" >/etc/iscsi/initiatorname.iscsi
g_iscsi_start

# ---- discovery
if [ "${DISCOVERY_AUTH:-1}" = 1 ]; then
	if out=$(g_discover "$P" 2>&1); then
		g_die "SendTargets on $P without credentials was not refused: $out"
	fi
	g_ok "SendTargets without credentials refused (the TPG requires CHAP)"
	d=(iscsiadm -m discoverydb -t sendtargets -p "$P:3260")
	"${d[@]}" -o new >/dev/null 2>&1
	"${d[@]}" -o update -n discovery.sendtargets.auth.authmethod -v CHAP >/dev/null
	"${d[@]}" -o update -n discovery.sendtargets.auth.username -v "$USER_" >/dev/null
	"${d[@]}" -o update -n discovery.sendtargets.auth.password -v "$SECRET" >/dev/null
	out=$(timeout 60 "${d[@]}" --discover 2>&1) || g_die "SendTargets with CHAP credentials failed: $out"
	echo "SendTargets on $P (CHAP):"
	echo "  ${out//$'\n'/$'\n'  }"
	echo "$out" | awk '{ print $2 }' | grep -qx "$IQN" || g_die "SendTargets with CHAP did not return $IQN"
	g_ok "SendTargets with CHAP credentials returns $IQN"
else
	out=$(g_discover "$P") || g_die "SendTargets on $P without credentials failed: $out"
	echo "$out" | awk '{ print $2 }' | grep -qx "$IQN" || g_die "SendTargets did not return $IQN"
	g_ok "SendTargets without credentials returns $IQN"
fi

# auth METHOD USER PASS [USER_IN PASS_IN]: the node record's CHAP settings
auth() {
	g_set "$IQN" "$P" node.session.auth.authmethod "$1"
	g_set "$IQN" "$P" node.session.auth.username "$2"
	g_set "$IQN" "$P" node.session.auth.password "$3"
	g_set "$IQN" "$P" node.session.auth.username_in "${4:-}"
	g_set "$IQN" "$P" node.session.auth.password_in "${5:-}"
}

# login_fails WHAT: the login must fail, and leave no session
login_fails() {
	local t0 rc=0
	t0=$(g_now)
	timeout 120 iscsiadm -m node -T "$IQN" -p "$P:3260" --login >/tmp/login.out 2>&1 || rc=$?
	if [ $rc = 0 ]; then
		g_bad "$1: login succeeded"
		g_logout "$IQN" "$P"
	elif [ $rc = 124 ]; then
		g_bad "$1: login still trying after 120 s"
	else
		g_ok "$1: login refused (iscsiadm status $rc, $(g_since "$t0") s)"
		sed 's/^/    /' /tmp/login.out
	fi
	if iscsiadm -m session 2>/dev/null | grep -q "$IQN"; then g_bad "$1: a session exists"; fi
}

# one attempt per login: a refused login is not retried
g_set "$IQN" "$P" node.session.initial_login_retry_max 1

# login_ok WHAT: the login must succeed and show the LUN; sets DEV
login_ok() {
	local t0
	t0=$(g_now)
	DEV=
	if ! timeout 120 iscsiadm -m node -T "$IQN" -p "$P:3260" --login >/tmp/login.out 2>&1; then
		g_bad "$1: login failed"
		sed 's/^/    /' /tmp/login.out
		return 1
	fi
	g_figure "chap_login_s" "$(g_since "$t0")"
	DEV=$(g_disk "$IQN" "$P") || { g_bad "$1: no disk after login"; return 1; }
	g_ok "$1: logged in, LUN is /dev/$DEV"
}

# ---- one-way CHAP
head -c 1048576 /dev/urandom >/tmp/pattern
want=$(sha256sum </tmp/pattern | cut -d' ' -f1)
written=0
auth CHAP "$USER_" "$SECRET"
if login_ok "one-way CHAP"; then
	dd if=/tmp/pattern of="/dev/$DEV" bs=1M seek=$OFF_MB count=1 oflag=direct status=none || g_bad "dd write"
	got=$(dd if="/dev/$DEV" bs=1M skip=$OFF_MB count=1 iflag=direct status=none | sha256sum | cut -d' ' -f1)
	if [ "$got" = "$want" ]; then
		g_ok "1 MiB written at ${OFF_MB} MiB and read back, same sha256"
		written=1
	else
		g_bad "read back sha256 $got, wrote $want"
	fi
	g_logout "$IQN" "$P" || g_bad "logout"
fi

# ---- wrong password
auth CHAP "$USER_" "not-the-right-secret"
login_fails "wrong password"

# ---- mutual CHAP
auth CHAP "$USER_" "$SECRET" "$MUSER" "$MSECRET"
if login_ok "mutual CHAP"; then
	if [ $written = 0 ]; then
		dd if=/tmp/pattern of="/dev/$DEV" bs=1M seek=$OFF_MB count=1 oflag=direct status=none || g_bad "dd write"
	fi
	got=$(dd if="/dev/$DEV" bs=1M skip=$OFF_MB count=1 iflag=direct status=none | sha256sum | cut -d' ' -f1)
	if [ "$got" = "$want" ]; then g_ok "mutual CHAP: the 1 MiB pattern reads back with the same sha256"
	else g_bad "after the mutual CHAP login: sha256 $got, wrote $want"; fi
	g_logout "$IQN" "$P" || g_bad "logout"
fi

# ---- wrong target secret on the initiator side
auth CHAP "$USER_" "$SECRET" "$MUSER" "not-the-target-secret"
login_fails "wrong target secret (mutual)"
auth CHAP "$USER_" "$SECRET" "not-the-target" "$MSECRET"
login_fails "wrong target name (mutual)"
g_end
