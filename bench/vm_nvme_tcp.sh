#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# NVMe/TCP throughput of tetherd against the Linux kernel's target (nvmet-tcp), in one boot of the
# QEMU guest of tests/vm/: tetherd runs in the guest (a RAM LUN), nvmet-tcp serves a brd RAM disk
# of the same size, and the kernel's NVMe/TCP host reaches both over the guest's own address. fio
# jobs (4 KiB random read and random write at QD 32, 128 KiB sequential read at QD 16) run on
# tetherd then on the kernel, alternating, ROUNDS times; prints each run, the means and the ratio
# tetherd/kernel. bench/vm_nvme_rdma.sh runs the same over NVMe/RDMA.
# Needs root (see docs/vm.md); the guest is TCG-emulated, so only the ratios mean something.
# Usage: bench/vm_nvme_tcp.sh [BUILD_DIR] [SECONDS] [ROUNDS]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
export TT_BUILD=${1:-${TT_BUILD:-$top/build}}
secs=${2:-5}
rounds=${3:-2}
export TT_VM_MEM=${TT_VM_MEM:-1536} TT_VM_TIMEOUT=${TT_VM_TIMEOUT:-900}

# shellcheck source=tests/vm/lib/host-lib.sh source-path=SCRIPTDIR/..
. "$top/tests/vm/lib/host-lib.sh"
vm_prepare_guest_target
vm_guest bench/vm/guest-nvme.sh BENCH_TRANSPORT=tcp BENCH_SECS="$secs" BENCH_ROUNDS="$rounds" BENCH_MB=128
