#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# multipath_failover.sh - dm-multipath in a QEMU guest over the target's two
# portals (one LUN, two iSCSI sessions). Under fio with crc32c verification
# the portal carrying the I/O is cut silently on the host (nft drop, no RST or
# FIN) for TT_MP_CUT_S seconds, then restored. Passes when fio sees no error
# and the restored path is active again; prints the I/O stall with Debian's
# stock settings and with the recommended ones as "FIGURE name=value" lines.
# Exit 0 pass, 77 skip (reason printed), else fail. See docs/vm.md.
set -euo pipefail

# shellcheck source=lib/host-lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib/host-lib.sh"

vm_prepare
vm_guest guest-multipath.sh ${TT_MP_SCENARIOS:+"TT_MP_SCENARIOS='$TT_MP_SCENARIOS'"} \
	${TT_MP_CUT_S:+TT_MP_CUT_S=$TT_MP_CUT_S} ${TT_MP_PRE_S:+TT_MP_PRE_S=$TT_MP_PRE_S} \
	${TT_MP_POST_S:+TT_MP_POST_S=$TT_MP_POST_S}
