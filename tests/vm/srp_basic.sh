#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# srp_basic.sh - SRP end to end in one guest: soft-RoCE (rdma_rxe) on eth0, tetherd of TT_BUILD
# inside the guest with an srp:// portal on the guest's address, the kernel's SRP initiator
# (ib_srp) given the add_target line of tetherctl portal list: the LUN with vendor TETHER, fio
# crc32c, ext4 + checksums, the host removed and the target added again with the data intact
# (tests/vm/lib/guest-srp-basic.sh). Exit 0 pass, 77 skip, else fail.
set -euo pipefail

# shellcheck source=lib/host-lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib/host-lib.sh"

vm_prepare_guest_target
vm_guest guest-srp-basic.sh
