#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# nvme_resv.sh - NVMe reservations of tetherd with the Linux kernel hosts of a QEMU guest: one
# LUN reached at once through nvme_tcp (nvme-cli) as namespace 1 and through open-iscsi as sdX.
# nvme resv-register / resv-acquire / resv-report; sg_persist on sdX sees the NVMe host's key
# and Write Exclusive reservation, READ FULL STATUS its host ID; a direct write to sdX gets
# RESERVATION CONFLICT, reads work; sg_persist registers and preempts: direct writes to the
# namespace then fail, reads work, the NVMe host finds a registration-preempted notice in log
# page 80h and its report lists the iSCSI holder; sg_persist --clear: both fabrics write again,
# and what one writes the other reads. Then the kernel's block-layer PR ioctls on the namespace
# (IOC_PR_REGISTER, IOC_PR_RESERVE, IOC_PR_CLEAR: Linux sends them with CPTPL 3): sg_persist
# sees the key and the reservation, PTPLS is set, iSCSI writes are refused.
# Exit 0 pass, 77 skip (reason printed), else fail. See docs/vm.md.
set -euo pipefail

# shellcheck source=lib/host-lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib/host-lib.sh"

[[ $TT_VM_TARGET == tetherd ]] || vm_skip "NVMe/TCP is served by tetherd only (TT_VM_TARGET=$TT_VM_TARGET)"
# the quick-flag LUN on the iSCSI portals of the harness, and as namespace 1 on one NVMe/TCP port
TT_VM_TETHERD_ARGS="--portal nvme-tcp://${VM_PORTALS[0]}:4420 ${TT_VM_TETHERD_ARGS}"
# a reservation state directory in the run folder: the kernel's own PR calls ask for persistence
# through power loss (CPTPL 3), which needs one
vm_hook_target_start() {
	unset -f vm_hook_target_start
	TT_VM_TETHERD_ARGS="--state-dir $VM_RUN/state ${TT_VM_TETHERD_ARGS}"
	vm_target_start
}
vm_prepare
vm_guest guest-nvme-resv.sh || vm_fail "guest checks failed"
echo "PASS"
