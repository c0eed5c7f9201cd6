#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# nvme_ana_multipath.sh - native NVMe multipath of the Linux kernel (nvme_core multipath=Y, in a
# QEMU guest) against tetherd configured by a file: one subsystem whose namespace is the LUN of
# an iSCSI target, two nvme-tcp ports, 10.77.1.1:4420 in ANA group 1 (optimized) and
# 10.77.2.1:4420 in ANA group 2 (inaccessible). The guest connects through both ports, checks
# one multipath head with two paths and their ana_state, then runs fio (crc32c verify) on the
# head while it asks the host for `tetherctl ana set` several times, moving optimized and
# inaccessible between the groups: each time the paths' ana_state follows and the writes move to
# the optimized port (tetherctl port list counters), and fio ends without an error.
# Exit 0 pass, 77 skip (reason printed; also with TT_VM_TARGET=tgtd), else fail. See docs/vm.md.
set -euo pipefail

# shellcheck source=lib/host-lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib/host-lib.sh"

NQN=nqn.2026-11.org.tether:ana-mp
vm_prepare_config <<JSON
{
  "targets": [{
    "name": "$VM_TGT_IQN",
    "tpgs": [{ "tag": 1, "portals": ["${VM_PORTALS[0]}:3260", "${VM_PORTALS[1]}:3260"] }],
    "luns": [{ "id": 0, "backend": "ram:${TT_VM_LUN_MB}M" }]
  }],
  "nvmf": {
    "ana_groups": [{ "id": 1, "state": "optimized" }, { "id": 2, "state": "inaccessible" }],
    "ports": [{ "address": "nvme-tcp://${VM_PORTALS[0]}:4420", "ana_group": 1 },
              { "address": "nvme-tcp://${VM_PORTALS[1]}:4420", "ana_group": 2 }],
    "subsystems": [{ "nqn": "$NQN",
                     "namespaces": [{ "nsid": 1, "lun": { "target": "$VM_TGT_IQN", "id": 0 } }] }]
  }
}
JSON

# The guest asks with files ana.N in the control folder, one "GROUP STATE" per line (none: only
# the counters); the host runs tetherctl ana set, writes `tetherctl port list` to ports.N and
# answers ana-ack.N ("ok" or the error).
ana_watch() {
	local f n group state out
	while kill -0 $$ 2>/dev/null; do
		for f in "$VM_RUN"/ctl/ana.[0-9]*; do
			[[ -f $f ]] || continue
			n=${f##*/ana.}
			out=ok
			while read -r group state; do
				[[ -n $group ]] || continue
				[[ $group =~ ^[0-9]+$ && $state =~ ^[a-z-]+$ ]] || { out="error: bad request '$group $state'"; break; }
				vm_log "tetherctl ana set $group $state"
				vm_ctl ana set "$group" "$state" >>"$VM_RUN/ctl.log" 2>&1 ||
					{ out="error: tetherctl ana set $group $state failed"; break; }
			done <"$f"
			rm -f "$f"
			vm_ctl port list >"$VM_RUN/ctl/.ports.$n" 2>&1 || out="error: tetherctl port list failed"
			mv "$VM_RUN/ctl/.ports.$n" "$VM_RUN/ctl/ports.$n"
			echo "$out" >"$VM_RUN/ctl/ana-ack.$n.tmp"
			mv "$VM_RUN/ctl/ana-ack.$n.tmp" "$VM_RUN/ctl/ana-ack.$n"
		done
		sleep 0.1
	done
}
ana_watch &
ANA_WATCH=$!

rc=0
vm_guest guest-nvme-ana.sh "NQN=$NQN" ${TT_NVME_ANA_IO_S:+TT_NVME_ANA_IO_S=$TT_NVME_ANA_IO_S} || rc=$?
kill "$ANA_WATCH" 2>/dev/null || true
wait "$ANA_WATCH" 2>/dev/null || true
echo "--- tetherctl ana list, port list at the end"
vm_ctl ana list || rc=1
vm_ctl port list || rc=1
echo "--- ANA changes logged by tetherd"
grep -E "ANA group" "$VM_RUN/target.log" | sed 's/^/  /' || true
((rc == 0)) || vm_fail "guest checks failed (status $rc)"
echo "PASS"
