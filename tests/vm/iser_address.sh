#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# iser_address.sh - an iSER portal whose address leaves the guest and comes back: tetherd (inside
# the guest, over soft-RoCE) closes the listener and binds it again by itself, a new login works
# (tests/vm/lib/guest-iser-address.sh). Exit 0 pass, 77 skip, else fail.
set -euo pipefail

# shellcheck source=lib/host-lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib/host-lib.sh"

vm_prepare_guest_target
vm_guest guest-iser-address.sh
