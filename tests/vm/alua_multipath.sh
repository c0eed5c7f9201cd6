#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# alua_multipath.sh - dm-multipath with the ALUA prioritizer (QEMU guest, Linux
# kernel initiator, scsi_dh_alua) against tetherd configured by a file with two
# TPGs: tag 1 on 10.77.1.1 active/optimized, tag 2 on 10.77.2.1
# active/non-optimized, one LUN. The guest builds one map with two path groups
# (group_by_prio, prio alua) and checks that the optimized one is active; under
# fio with crc32c verification it asks the host for `tetherctl alua set TARGET
# 1 standby` and `... 2 active-optimized`, then checks that the priorities
# change, the active group switches to the other path, I/O flows through it
# and fio sees no error. Both TPGs have "alua_explicit": false: the states are
# the administrator's alone (with explicit ALUA, scsi_dh_alua may send SET
# TARGET PORT GROUPS for the standby group when dm-multipath activates it in a
# race with multipathd's priority refresh, and undo the change under test). The host prints the ALUA states at the end and every
# SET TARGET PORT GROUPS the kernel sent (tetherd logs those).
# Exit 0 pass, 77 skip (reason printed; also with TT_VM_TARGET=tgtd), else
# fail. See docs/vm.md.
set -euo pipefail

# shellcheck source=lib/host-lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib/host-lib.sh"

vm_prepare_config <<JSON
{
  "targets": [{
    "name": "$VM_TGT_IQN",
    "tpgs": [
      { "tag": 1, "portals": ["${VM_PORTALS[0]}:3260"], "alua_state": "active-optimized",
        "alua_explicit": false },
      { "tag": 2, "portals": ["${VM_PORTALS[1]}:3260"], "alua_state": "active-non-optimized",
        "alua_explicit": false }
    ],
    "luns": [{ "id": 0, "backend": "ram:${TT_VM_LUN_MB}M" }]
  }]
}
JSON

# The guest asks for ALUA changes with files alua.N in the control folder, one
# "TAG STATE" per line; the answer is alua-ack.N ("ok" or the error).
alua_watch() {
	local f n tag state out
	while kill -0 $$ 2>/dev/null; do
		for f in "$VM_RUN"/ctl/alua.[0-9]*; do
			[[ -f $f ]] || continue
			n=${f##*/alua.}
			out=ok
			while read -r tag state; do
				[[ $tag =~ ^[0-9]+$ && $state =~ ^[a-z-]+$ ]] || { out="error: bad request '$tag $state'"; break; }
				vm_log "tetherctl alua set $VM_TGT_IQN $tag $state"
				vm_ctl alua set "$VM_TGT_IQN" "$tag" "$state" >>"$VM_RUN/ctl.log" 2>&1 ||
					{ out="error: tetherctl alua set $tag $state failed"; break; }
			done <"$f"
			rm -f "$f"
			echo "$out" >"$VM_RUN/ctl/alua-ack.$n.tmp"
			mv "$VM_RUN/ctl/alua-ack.$n.tmp" "$VM_RUN/ctl/alua-ack.$n"
		done
		sleep 0.1
	done
}
alua_watch &
ALUA_WATCH=$!

rc=0
vm_guest guest-alua.sh TT_VM_TARGET_IQN=$VM_TGT_IQN ${TT_ALUA_IO_S:+TT_ALUA_IO_S=$TT_ALUA_IO_S} || rc=$?
kill "$ALUA_WATCH" 2>/dev/null || true
wait "$ALUA_WATCH" 2>/dev/null || true
echo "--- tetherctl alua list at the end"
vm_ctl alua list "$VM_TGT_IQN" || rc=1
echo "--- ALUA changes logged by tetherd"
grep -E "target port group" "$VM_RUN/target.log" | sed 's/^/  /' || true
stpg=$(grep -c "target port group .* set to .* by " "$VM_RUN/target.log" || true)
echo "FIGURE alua_stpg_from_kernel=$stpg"
[ "$stpg" = 0 ] || { echo "FAIL: a host changed an implicit-only group"; rc=1; }
((rc == 0)) || vm_fail "guest checks failed (status $rc)"
echo "PASS"
