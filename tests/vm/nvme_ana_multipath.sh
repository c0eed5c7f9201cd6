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
# the optimized port (tetherctl port list counters). Then, still under fio, `tetherctl port set`
# moves the inaccessible port into the optimized group (both paths optimized, the path's ANA group
# id follows), `tetherctl port remove` removes the other port (its path goes down, the writes go
# through the remaining one), and `tetherctl apply` of the original file adds the port back and
# moves the other one back to its group: the host reconnects the path by itself and the writes
# return to it. fio ends without an error.
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

# The guest asks with files ana.N in the control folder, one request per line (none: only the
# counters): "GROUP STATE" (tetherctl ana set), "port-set ADDR GROUP" (tetherctl port set
# nvme-tcp://ADDR:4420 --ana-group GROUP), "port-remove ADDR" (tetherctl port remove), "apply"
# (tetherctl apply of the test's configuration file); the host runs them, writes `tetherctl port
# list` to ports.N and answers ana-ack.N ("ok" or the error).
ana_watch() {
	local f n group state out
	while kill -0 $$ 2>/dev/null; do
		for f in "$VM_RUN"/ctl/ana.[0-9]*; do
			[[ -f $f ]] || continue
			n=${f##*/ana.}
			out=ok
			while read -r group state arg; do
				[[ -n $group ]] || continue
				if [[ $group == port-set && $state =~ ^[0-9.]+$ && $arg =~ ^[0-9]+$ ]]; then
					set -- port set "nvme-tcp://$state:4420" --ana-group "$arg"
				elif [[ $group == port-remove && $state =~ ^[0-9.]+$ ]]; then
					set -- port remove "nvme-tcp://$state:4420"
				elif [[ $group == apply ]]; then
					set -- apply "$VM_RUN/tetherd.json"
				elif [[ $group =~ ^[0-9]+$ && $state =~ ^[a-z-]+$ ]]; then
					set -- ana set "$group" "$state"
				else
					out="error: bad request '$group $state $arg'"
					break
				fi
				vm_log "tetherctl $*"
				vm_ctl "$@" >>"$VM_RUN/ctl.log" 2>&1 || { out="error: tetherctl $* failed"; break; }
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
grep -E "ANA group|port nvme-tcp" "$VM_RUN/target.log" | sed 's/^/  /' || true
((rc == 0)) || vm_fail "guest checks failed (status $rc)"
echo "PASS"
