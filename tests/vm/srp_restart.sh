#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# srp_restart.sh - tetherd of TT_BUILD in the guest, a file-backed LUN behind srp://, SIGKILLed
# and started again while fio writes with crc32c verification through ib_srp: the initiator
# reconnects by itself within its reconnect_delay, fio sees no error (the restart is well
# within fast_io_fail_tmo), every block verifies afterwards, the SCSI disk stayed the same
# (tests/vm/lib/guest-srp-restart.sh). Exit 0 pass, 77 skip, else fail.
set -euo pipefail

# shellcheck source=lib/host-lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib/host-lib.sh"

vm_prepare_guest_target
vm_guest guest-srp-restart.sh
