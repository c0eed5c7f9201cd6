#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# libiscsi's iscsi-test-cu --dataloss on an rbd LUN (docs/rbd.md), on a throw-away cluster of one
# monitor and one memstore OSD (tests/lib/ceph.sh): the whole suite over two portal URLs of the
# same LUN with two initiator names (so that the MultipathIO suite runs), then the Sanitize
# suite alone over one portal (see conformance.sh for why). Fails on any failed test; prints
# every skip reason and the time each run took.
#
# Not run: Sanitize.BlockErase. It checks that GET LBA STATUS reports every block deallocated
# after SANITIZE BLOCK ERASE; the rbd backend reports every block mapped (the allocation of an
# image can only be read with librbd's synchronous calls, which a loop thread must not make),
# although BLOCK ERASE does discard the whole image (its blocks read back as zeroes, which
# Sanitize.BlockEraseReserved and rbd_basic's UNMAP checks see).
# Skipped (77) when tetherd was built without librbd, or ceph is missing or does not come up.
#
# Exit: 0 pass, 77 skip (reason printed), 1 fail.
# Environment: TT_BUILD, TT_TOP (see tests/lib/common.sh).

# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
tt_setup rbd_conformance
tt_need iscsi-test-cu
ldd "$TETHERD" 2>/dev/null | grep -q librbd || skip "tetherd was built without librbd (librbd-dev)"
# shellcheck source=tests/lib/ceph.sh
. "$(dirname "$0")/../lib/ceph.sh"
ceph_start
ceph_rbd create --size 128M --image-feature layering rbd/cu || fail "rbd create rbd/cu"

tt_free_port P1
tt_free_port P2
tt_start main --portal "127.0.0.1:$P1" --portal "127.0.0.1:$P2" --nop-timeout 120 --state-dir none \
	--lun "rbd:rbd/cu,conf=$CEPH_CONF,sanitize_rate=16M"

I1=iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-test
I2=iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-test-2
total_ran=0 total_failed=0 rc=0
sanitize_tests=$(printf 'ALL.Sanitize.%s,' BlockEraseReserved CryptoErase CryptoEraseReserved \
	ExitFailureMode InvalidServiceAction Overwrite OverwriteReserved Readonly Reservations Reset)
sanitize_tests=${sanitize_tests%,}
for which in all ALL.Sanitize; do
	suite=()
	urls=("iscsi://127.0.0.1:$P1/$TT_IQN/0" "iscsi://127.0.0.1:$P2/$TT_IQN/0")
	paths="two portals"
	if [ "$which" = ALL.Sanitize ]; then
		suite=(-t "$sanitize_tests" --allow-sanitize)
		urls=("${urls[0]}")
		paths="one portal"
	fi
	step "iscsi-test-cu --dataloss ${suite[*]} on the rbd LUN over $paths"
	log=$TT_WORK/cu-$which.log
	t0=$SECONDS
	timeout 600 iscsi-test-cu --dataloss "${suite[@]}" -i $I1 -I $I2 "${urls[@]}" >"$log" 2>&1
	dt=$((SECONDS - t0))
	summary=$(awk '/^ +tests /{print $2, $3, $4, $5}' "$log")
	read -r _ ran _ failed <<<"${summary:-0 0 0 0}"
	skipped=$(grep -c '\[SKIPPED\]' "$log")
	echo "    $which: $ran ran, $failed failed, $skipped skip messages, $dt s"
	echo "FIGURE rbd_conformance_${which//./_}_s=$dt"
	grep -oE '\[SKIPPED\].*' "$log" | sed -E 's/\. Skipping test//' | sort | uniq -c | sort -rn | sed 's/^/      /'
	if [ -z "$summary" ]; then
		tail -20 "$log"
		fail "iscsi-test-cu printed no summary ($which)"
	fi
	if [ "$which" = ALL.Sanitize ] && [ "$ran" != 10 ]; then
		fail "the Sanitize subset ran $ran tests, not 10"
	fi
	if [ "$failed" != 0 ]; then
		grep -E 'FAILED|CU_ASSERT' "$log" | head -40
		rc=1
	fi
	total_ran=$((total_ran + ran))
	total_failed=$((total_failed + failed))
done
echo "FIGURE rbd_conformance_ran=$total_ran rbd_conformance_failed=$total_failed"
[ $rc = 0 ] || fail "iscsi-test-cu reported $total_failed failed tests on the rbd LUN"
tt_stop main
echo "iscsi-test-cu on rbd: $total_ran tests ran, 0 failed"
