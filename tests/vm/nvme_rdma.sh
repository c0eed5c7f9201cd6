#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# nvme_rdma.sh - NVMe/RDMA end to end in one guest: soft-RoCE (rdma_rxe) on eth0, tetherd of
# TT_BUILD inside the guest with an nvme-rdma:// port on the guest's address, the kernel's NVMe/RDMA
# host (nvme-cli): discovery, connect, identify, fio crc32c with in-capsule and keyed-SGL writes,
# ext4 + checksums, disconnect and connect again with the data intact, SIGTERM of tetherd with the
# host connected (tests/vm/lib/guest-nvme-rdma.sh). Exit 0 pass, 77 skip, else fail.
set -euo pipefail

# shellcheck source=lib/host-lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib/host-lib.sh"

vm_prepare_guest_target
vm_guest guest-nvme-rdma.sh ${TT_VM_NVMF_DEBUG:+TT_VM_NVMF_DEBUG=1}
