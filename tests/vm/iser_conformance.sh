#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# iser_conformance.sh - libiscsi's iscsi-test-cu over iser:// (its own iSER initiator, soft-RoCE)
# against tetherd inside the guest, compared test by test with the same families over iscsi://
# to the same tetherd (tests/vm/lib/guest-iser-conformance.sh); TT_ICU_REF=lio runs them against
# the kernel's LIO (ib_isert) too, to tell libiscsi's failures from ours. Exit 0 pass, 77 skip, else fail.
set -euo pipefail

# shellcheck source=lib/host-lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib/host-lib.sh"

vm_prepare_guest_target
vm_guest guest-iser-conformance.sh ${TT_ICU_TESTS:+TT_ICU_TESTS=$TT_ICU_TESTS} ${TT_ICU_REF:+TT_ICU_REF=$TT_ICU_REF} \
	${TT_ICU_TIMEOUT:+TT_ICU_TIMEOUT=$TT_ICU_TIMEOUT}
