#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# iser_basic.sh - iSER end to end in one guest: soft-RoCE (rdma_rxe) on eth0, tetherd of TT_BUILD
# inside the guest with iSCSI/TCP and iSER portals on the guest's address, the kernel's iSER
# initiator through open-iscsi: discovery, login, fio crc32c, ext4 + checksums, logout and login
# again with the data intact (tests/vm/lib/guest-iser-basic.sh). Exit 0 pass, 77 skip, else fail.
set -euo pipefail

# shellcheck source=lib/host-lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib/host-lib.sh"

vm_prepare_guest_target
vm_guest guest-iser-basic.sh
