#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# nvme_tcp.sh - the Linux kernel NVMe/TCP host (nvme_tcp and nvme-cli, in a QEMU guest) against
# tetherd --portal nvme-tcp://: nvme discover, nvme connect -t tcp, nvme id-ctrl, nvme id-ns,
# nvme list-subsys, fio crc32c write + verify on the namespace, ext4 with checksummed files,
# disconnect, connect again through the other port with header and data digests, data intact.
# Exit 0 pass, 77 skip (reason printed), else fail.
set -euo pipefail

# shellcheck source=lib/host-lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib/host-lib.sh"

[[ $TT_VM_TARGET == tetherd ]] || vm_skip "NVMe/TCP is served by tetherd only (TT_VM_TARGET=$TT_VM_TARGET)"
# the quick-flag LUN on the iSCSI portals of the harness, and as namespace 1 on two NVMe/TCP ports
TT_VM_TETHERD_ARGS="--portal nvme-tcp://${VM_PORTALS[0]}:4420 --portal nvme-tcp://${VM_PORTALS[1]}:4420 ${TT_VM_TETHERD_ARGS}"
vm_prepare
vm_guest guest-nvme-tcp.sh
