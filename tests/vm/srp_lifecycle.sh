#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# srp_lifecycle.sh - SRP channels coming and going: tetherd of TT_BUILD (the ASan build when the
# suite runs with build-san) in the guest over soft-RoCE, ib_srp adding the target and removing
# its port 20 times; every login gives the disk, every removal frees the channels (tetherctl
# srp list empty), tetherd's open files and resident memory stay level, no sanitizer report
# (tests/vm/lib/guest-srp-lifecycle.sh). Exit 0 pass, 77 skip, else fail.
set -euo pipefail

# shellcheck source=lib/host-lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib/host-lib.sh"

vm_prepare_guest_target
vm_guest guest-srp-lifecycle.sh
