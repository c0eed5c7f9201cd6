#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# rdma_rebind.sh - the RDMA device under tetherd's iSER and SRP portals is deleted and added
# again, then the portal address leaves and comes back: `rdma link delete` is not held by
# tetherd, the listeners bind again by themselves, the iSER initiator logs in again and reads
# what it wrote before (tests/vm/lib/guest-rdma-rebind.sh). Exit 0 pass, 77 skip, else fail.
set -euo pipefail

# shellcheck source=lib/host-lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib/host-lib.sh"

vm_prepare_guest_target
vm_guest guest-rdma-rebind.sh
