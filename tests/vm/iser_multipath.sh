#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# iser_multipath.sh - dm-multipath over two paths to one LUN of tetherd inside the guest: one over
# iSCSI/TCP, one over iSER (soft-RoCE), both to the guest's own address. fio with crc32c
# verification runs on the map while the TCP path is cut (nft, inside the guest) and the iSER path
# is taken offline; no error may reach fio and each path must come back
# (tests/vm/lib/guest-iser-multipath.sh). Exit 0 pass, 77 skip, else fail.
set -euo pipefail

# shellcheck source=lib/host-lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib/host-lib.sh"

vm_prepare_guest_target
vm_guest guest-iser-multipath.sh ${TT_IMP_CUT_S:+TT_IMP_CUT_S=$TT_IMP_CUT_S}
