#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# iscsi_chap.sh - CHAP with the Linux kernel initiator (open-iscsi, in a QEMU
# guest) against tetherd configured by a file: one target whose TPG has
# "auth": "chap" and one ACL, for the guest's initiator name, with one-way and
# mutual credentials. In the guest: SendTargets without credentials (tetherd
# does not authenticate discovery sessions); login with CHAP, LUN appears, a
# 1 MiB write read back with the same checksum; a wrong password is refused
# (and tetherd logs the authentication failure, checked here); mutual CHAP
# logs in and the data is still there; a wrong target secret on the initiator
# side makes the initiator refuse the target.
# TT_VM_TARGET=tgtd runs the guest half against tgtd (CHAP accounts bound to
# its target; tgtd has no ACL by initiator name). Exit 0 pass, 77 skip (reason
# printed), else fail. See docs/vm.md.
set -euo pipefail

# shellcheck source=lib/host-lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib/host-lib.sh"

INITIATOR=iqn.2026-11.org.tether:vm-chap
CHAP_USER=vm-chap CHAP_SECRET=secret-of-vm-chap
MUTUAL_USER=disk0-chap MUTUAL_SECRET=secret-of-the-target

if [[ $TT_VM_TARGET == tgtd ]]; then
	# tgtd proves the guest half: the same accounts, bound to target 1
	vm_prepare
	tgt=(tgtadm -C "$VM_TGT_CP" --lld iscsi)
	{
		"${tgt[@]}" --op new --mode account --user "$CHAP_USER" --password "$CHAP_SECRET" &&
			"${tgt[@]}" --op bind --mode account --tid 1 --user "$CHAP_USER" &&
			"${tgt[@]}" --op new --mode account --user "$MUTUAL_USER" --password "$MUTUAL_SECRET" &&
			"${tgt[@]}" --op bind --mode account --tid 1 --user "$MUTUAL_USER" --outgoing
	} >>"$VM_RUN/target.log" 2>&1 || vm_target_died "tgtadm account setup failed"
else
	vm_prepare_config <<JSON
{
  "targets": [{
    "name": "$VM_TGT_IQN",
    "tpgs": [{ "tag": 1, "portals": ["${VM_PORTALS[0]}:3260", "${VM_PORTALS[1]}:3260"], "auth": "chap" }],
    "luns": [{ "id": 0, "backend": "ram:${TT_VM_LUN_MB}M" }],
    "acls": [{ "initiator": "$INITIATOR",
               "chap": { "user": "$CHAP_USER", "secret": "$CHAP_SECRET",
                         "mutual_user": "$MUTUAL_USER", "mutual_secret": "$MUTUAL_SECRET" } }]
  }]
}
JSON
fi
rc=0
vm_guest guest-chap.sh TT_VM_INITIATOR=$INITIATOR TT_VM_TARGET_IQN=$VM_TGT_IQN \
	DISCOVERY_AUTH=$([[ $TT_VM_TARGET == tgtd ]] && echo 0 || echo 1) \
	CHAP_USER=$CHAP_USER CHAP_SECRET=$CHAP_SECRET \
	MUTUAL_USER=$MUTUAL_USER MUTUAL_SECRET=$MUTUAL_SECRET || rc=$?
grep -E "refused|session [0-9]+ \(tsih|CHAP|closing" "$VM_RUN/target.log" | sed 's/^/  target: /' | tail -n 25
((rc == 0)) || vm_fail "guest checks failed (status $rc)"
if [[ $TT_VM_TARGET == tetherd ]]; then
	n=$(grep -c "login of $INITIATOR to $VM_TGT_IQN refused: status 0x0201" "$VM_RUN/target.log" || true)
	((n >= 1)) || vm_fail "tetherd logged no authentication failure (status 0x0201) for the wrong password"
	echo "ok: tetherd logged $n authentication failure(s) (status 0x0201)"
fi
echo "PASS"
