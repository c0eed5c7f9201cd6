#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# libiscsi's iscsi-test-cu --dataloss against tetherd, with two initiator names and two portal
# URLs of the same LUN (so that the MultipathIO suite runs): the whole suite on a thin RAM LUN
# and on a thin sparse file LUN; the read-only suite (ReadOnlySBC:
# every medium write refused) on a write-protected LUN; and, on a LUN of 512-byte logical blocks
# in 4096-byte physical blocks, the tests that skip on a LUN with one logical block per physical
# block. Fails on any failed test; prints every skip reason.
#
# The Sanitize suite runs on its own on LUNs 0 and 1, over one portal URL: with two, the RESERVE
# (6) that Sanitize.Reservations takes through the second path is still held when Sanitize.Reset
# runs, and its SANITIZE gets RESERVATION CONFLICT. LUNs 0 and 1 pace SANITIZE OVERWRITE at
# 16 MiB/s (sanitize_rate=16M: 8 s for 128 MiB): Sanitize.Reset expects an overwrite it started
# still in progress after 3 s of sleep, task management and a new login (unpaced, 128 MiB of RAM
# is overwritten in a fraction of a second); it then sleeps 60 s without answering NOP-Ins, hence
# --nop-timeout 120.
#
# Not run on the 4096-physical LUN: GetLBAStatus.UnmapSingle (libiscsi 1.19) asks for the status
# of LBA i+1 after unmapping LBA i and expects the reply to start at i+8, which holds only when
# a physical block holds one logical block; it runs (and passes) on LUNs 0 and 1.
. "$(dirname "$0")/../lib/common.sh"
tt_setup conformance
tt_need iscsi-test-cu
tt_free_port P1
tt_free_port P2
tt_start main --portal 127.0.0.1:$P1 --portal 127.0.0.1:$P2 --nop-timeout 120 \
	--lun ram:128M,sanitize_rate=16M \
	--lun "file:$TT_WORK/sparse.img,size=128M,create,sanitize_rate=16M" --lun ram:64M,ro \
	--lun ram:64M,pbs=4096

I1=iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-test
I2=iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-test-2
total_ran=0 total_failed=0 rc=0
# the tests that need more than one logical block per physical block (LBPPB >= 2)
lbppb_tests="ALL.CompareAndWrite.InvalidDataOutSize ALL.WriteSame10.InvalidDataOutSize
	ALL.WriteSame10.UnmapUnaligned ALL.WriteSame16.InvalidDataOutSize ALL.WriteSame16.UnmapUnaligned"
runs="0:all 1:all 0:ALL.Sanitize 1:ALL.Sanitize 2:ALL.ReadOnly"
for t in $lbppb_tests; do runs="$runs 3:$t"; done
for run in $runs; do
	lun=${run%%:*} which=${run#*:}
	suite=()
	[ "$which" = all ] || suite=(-t "$which")
	urls=("iscsi://127.0.0.1:$P1/$TT_IQN/$lun" "iscsi://127.0.0.1:$P2/$TT_IQN/$lun")
	paths="two portals"
	if [ "$which" = ALL.Sanitize ]; then
		suite+=(--allow-sanitize)
		urls=("${urls[0]}")
		paths="one portal"
	fi
	step "iscsi-test-cu --dataloss ${suite[*]} on LUN $lun over $paths"
	log=$TT_WORK/cu-lun$lun-$which.log
	timeout 300 iscsi-test-cu --dataloss "${suite[@]}" -i $I1 -I $I2 "${urls[@]}" >"$log" 2>&1
	summary=$(awk '/^ +tests /{print $2, $3, $4, $5}' "$log")
	read -r total ran passed failed <<<"${summary:-0 0 0 0}"
	skipped=$(grep -c '\[SKIPPED\]' "$log")
	echo "    LUN $lun ($which): $ran ran, $failed failed, $skipped skip messages"
	grep -oE '\[SKIPPED\].*' "$log" | sed -E 's/\. Skipping test//' | sort | uniq -c | sort -rn | sed 's/^/      /'
	if [ -z "$summary" ]; then
		tail -20 "$log"
		fail "iscsi-test-cu printed no summary for LUN $lun"
	fi
	if [ "$failed" != 0 ]; then
		grep -E 'FAILED|CU_ASSERT' "$log" | head -40
		rc=1
	fi
	total_ran=$((total_ran + ran))
	total_failed=$((total_failed + failed))
done
echo "FIGURE conformance_ran=$total_ran conformance_failed=$total_failed"
[ $rc = 0 ] || fail "iscsi-test-cu reported $total_failed failed tests"
tt_stop main
echo "iscsi-test-cu: $total_ran tests ran, 0 failed"
