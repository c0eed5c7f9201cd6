#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# iser_lifecycle.sh - the iSER target's lifecycle under a real cut, with two guests on a private
# L2 link (QEMU socket netdev) and soft-RoCE on it: tetherd of TT_BUILD (the ASan build when the
# suite runs with build-san) in guest A with an iser:// portal and a 2 s NOP-In keepalive, the
# kernel's iSER initiator in guest B. The initiator's link cut with writes in flight (tetherd
# reaps the connection by NOP-In within interval + timeout + margin; the link back, the session
# recovers, the data verifies), tetherd stopped with SIGTERM with a live session (exit 0) and
# started again, the initiator powered off with writes in flight (reaped the same way); no
# sanitizer report (tests/vm/lib/guest-iser-lifecycle-{a,b}.sh). Exit 0 pass, 77 skip, else fail.
set -euo pipefail

# shellcheck source=lib/host-lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib/host-lib.sh"

vm_prepare_two_guests
rc=0
vars=()
for v in TT_ISER_LC_NOP_INTERVAL TT_ISER_LC_NOP_TIMEOUT TT_ISER_LC_MARGIN TT_ISER_LC_TETHERD_ARGS TT_ISER_LC_CUT; do
	[[ -n ${!v:-} ]] && vars+=("$v='${!v}'")
done
vm_guests2 guest-iser-lifecycle-a.sh guest-iser-lifecycle-b.sh "${vars[@]}" || rc=$?
if grep -q '^FAIL' "$VM_RUN/ctl-b/out.log" 2>/dev/null; then
	echo "FAIL: guest B (initiator) reported failures"
	rc=1
fi
grep -q '^ok: B done' "$VM_RUN/ctl-b/out.log" 2>/dev/null || {
	echo "FAIL: guest B did not reach the power-off phase"
	rc=1
}
grep -q ' poweroff b$' "$VM_RUN/actions.log" 2>/dev/null || {
	echo "FAIL: guest B was not powered off by the host"
	rc=1
}
exit "$rc"
