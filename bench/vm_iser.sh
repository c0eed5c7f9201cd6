#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# iSER throughput of tetherd against the Linux kernel's target (LIO with ib_isert), in one boot of
# the QEMU guest of tests/vm/: tetherd runs in the guest (a RAM LUN, iser://), LIO serves an rd_mcp
# ramdisk of the same size from an iSER-enabled portal, and the kernel's iSER initiator reaches
# both over soft-RoCE on the guest's own address. fio jobs (4 KiB random read and random write at
# QD 32, 128 KiB sequential read at QD 16) run on tetherd then on LIO, alternating, ROUNDS times;
# prints each run, the means and the ratio tetherd/LIO.
# Needs root (see docs/vm.md); the guest is TCG-emulated, so only the ratios mean something.
# Usage: bench/vm_iser.sh [BUILD_DIR] [SECONDS] [ROUNDS]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
export TT_BUILD=${1:-${TT_BUILD:-$top/build}}
secs=${2:-5}
rounds=${3:-2}
export TT_VM_MEM=${TT_VM_MEM:-1536} TT_VM_TIMEOUT=${TT_VM_TIMEOUT:-900}

# shellcheck source=tests/vm/lib/host-lib.sh source-path=SCRIPTDIR/..
. "$top/tests/vm/lib/host-lib.sh"
vm_prepare_guest_target
vm_guest bench/vm/guest-iser.sh BENCH_SECS="$secs" BENCH_ROUNDS="$rounds" BENCH_MB=128
