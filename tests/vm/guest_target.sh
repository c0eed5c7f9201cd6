#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# guest_target.sh - the harness for tests whose tetherd runs inside the guest, over soft-RoCE:
# rdma_rxe on eth0 must come up (port ACTIVE), rping and ibv_rc_pingpong must work over it to the
# guest's own address; tetherd of TT_BUILD (build-san: the ASan/UBSan build) started in the guest
# from /mnt/host with an NVMe/TCP and an iSCSI portal on the guest's address; the kernel's NVMe/TCP
# host connects to it, fio writes and verifies, iscsi-inq reads the LUN's identity; tetherd then
# ends on SIGTERM with status 0 and no sanitizer report. Exit 0 pass, 77 skip, else fail.
set -euo pipefail

# shellcheck source=lib/host-lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib/host-lib.sh"

vm_prepare_guest_target
vm_guest guest-target.sh
