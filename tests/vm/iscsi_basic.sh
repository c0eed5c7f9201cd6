#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# iscsi_basic.sh - the Linux kernel initiator (iscsi_tcp, in a QEMU guest)
# against the target: SendTargets discovery, login over TCP, LUN size and
# identity (vendor, product, VPD 80h serial, VPD 83h WWID), ext4 with
# checksummed files, fio crc32c verify on the raw device, logout, login again,
# data intact. Exit 0 pass, 77 skip (reason printed), else fail.
#
# TT_VM_TARGET=tgtd runs the same test against tgtd; see docs/vm.md.
set -euo pipefail

# shellcheck source=lib/host-lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib/host-lib.sh"

vm_prepare
vm_guest guest-iscsi-basic.sh ${TT_VM_EXPECT_PRODUCT:+TT_VM_EXPECT_PRODUCT=$TT_VM_EXPECT_PRODUCT}
