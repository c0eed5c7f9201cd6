#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# initiator_ghost_write.sh - no stale write ever lands after libtether failed over (the ghost
# write of the design notes), against tetherd and against tgtd.
#
# tether bench --rw randrw --verify runs on both paths of a 1 MiB LUN (256 blocks of 4 KiB,
# each rewritten many times a second). Path 1 is cut silently (nft drop both ways in the target's
# namespace, no RST) while writes are in flight on it: those sent after the cut sit in the
# initiator's TCP send queue, and against tetherd the LUN is slowed (delay: backend, $DELAY_MS ms
# per I/O) so that writes are also parked in the target at the cut. The library fails over and
# the bench overwrites the same blocks through path 2. Then the cut is lifted: the old
# connection's retransmissions reach the target again, whose old session is still alive (tetherd
# reaps silent connections only after 10 s + 10 s here; tgtd sends no NOP-In), so a stale WRITE
# could land over newer data. Asserted:
#   - the bench (still running $AFTER_S s after the lift, reading and verifying every block)
#     ends with 0 errors and 0 verify errors;
#   - the LUN read directly (qemu-img dd through libiscsi, path 2) right after the bench and
#     again once no connection of the initiator's namespace to path 1 has data queued (plus
#     a margin): both reads are identical - nothing landed after the bench's last write.
# The bytes queued to path 1 when the cut is lifted are printed (FIGURE <kind>_ghost_queued_bytes):
# they are the stale writes the test offers the target.
#
# Exit: 0 pass, 77 skip (reason printed), 1 fail.
# Environment: TT_BUILD, TT_TOP (tests/lib/common.sh); FP_KINDS (default "tetherd tgtd");
# FP_TETHER_OPTS (extra library options, "name=value ...").

. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/paths.sh"

fp_setup ighost
fp_need_tether
tt_need tgtd tgtadm iscsi-inq iscsi-ls qemu-img cmp
qemu-img --help | grep -q 'Supported formats:.* iscsi' || skip "qemu-img has no iscsi driver"

CUT_S=5
AFTER_S=10
DELAY_MS=20
FP_SIZE=1M
FP_NOP="10 10"
# shellcheck disable=SC2206
FP_LIBOPTS=(no_path_timeout_ms=60000 ${FP_TETHER_OPTS:-})

# queued KIND: bytes in the send queues of the initiator's connections to path 1's portal
queued() {
	local port=$FT_PORT
	[ "$1" = tgtd ] && port=$FP_TGT_PORT
	ft_i ss -Htn state all "dst $FT_TADDR:$port" 2>/dev/null | awk '{ q += $3 } END { print q + 0 }'
}

# snapshot KIND FILE: the whole LUN through path 2, by libiscsi (qemu-img), not by libtether
snapshot() {
	ft_i timeout -k 2 60 qemu-img dd -f raw -O raw bs=65536 count=16 \
		if="$(fp_url "$1" 2)" of="$2" >"$TT_WORK/qemu-img.out" 2>&1 ||
		fail "$1: qemu-img dd of the LUN failed: $(cat "$TT_WORK/qemu-img.out")"
}

ghost() { # KIND
	local kind=$1 r=$1-ghost q t left
	if [ "$kind" = tetherd ]; then fp_start tetherd "delay:ms=$DELAY_MS,"; else fp_start tgtd; fi
	fp_check_paths "$kind"
	step "$kind: path 1 cut for $CUT_S s with writes in flight, overwritten through path 2, then lifted"
	fp_bench "$r" "$kind" $((CUT_S + AFTER_S + 2))
	fp_wait_live "$r" 20
	sleep 1
	fp_cut 1
	sleep "$CUT_S"
	fp_bench_alive "$r"
	q=$(queued "$kind")
	echo "    at the lift: $q bytes queued to path 1; paths: 1 $(fp_path_stat "$r" 1), 2 $(fp_path_stat "$r" 2)"
	ft_figure "${kind}_ghost_queued_bytes" "$q"
	fp_uncut 1
	fp_bench_end "$r" "${kind}_ghost"
	# after the bench: nothing may land any more
	snapshot "$kind" "$TT_WORK/$kind-1.img"
	t=$(ft_now_ms)
	while left=$(queued "$kind") && [ "$left" -gt 0 ] && [ $(($(ft_now_ms) - t)) -lt 20000 ]; do
		sleep 0.2
	done
	echo "    $left bytes still queued to path 1 $(($(ft_now_ms) - t)) ms after the bench"
	sleep 3
	snapshot "$kind" "$TT_WORK/$kind-2.img"
	cmp "$TT_WORK/$kind-1.img" "$TT_WORK/$kind-2.img" >"$TT_WORK/cmp.out" 2>&1 ||
		fail "$kind: GHOST WRITE: the LUN changed after the bench had ended: $(cat "$TT_WORK/cmp.out")"
	ok "$kind: no stale write landed (bench verify clean, LUN unchanged after the bench)"
	fp_stop "$kind"
}

for kind in ${FP_KINDS:-tetherd tgtd}; do
	ghost "$kind"
done
echo "PASS: no ghost write after fail-over against ${FP_KINDS:-tetherd tgtd}"
