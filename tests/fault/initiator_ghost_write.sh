#!/usr/bin/env bash
# shellcheck disable=SC2034 # the FP_* settings are read by lib/paths.sh
# SPDX-License-Identifier: BSD-3-Clause
#
# initiator_ghost_write.sh - no stale write ever lands after libtether failed over (the ghost
# write of the design notes), against tetherd and against tgtd.
#
# tether bench --rw randrw --verify runs on both paths of a 1 MiB LUN (256 blocks of 4 KiB,
# each rewritten about once a second or more). Path 1 goes silent: what the initiator sends on it
# is held in the network (a token bucket of 1 kbit/s on the initiator's side of the link,
# fp_hold) and what the target sends on it is dropped (nft in the target's namespace). Writes
# sent on path 1 from then on stay in transit, in order, however the initiator ends its
# connection (libtether aborts it with a RST, which queues behind them). Against tetherd the
# LUN is also slowed (delay: backend, $DELAY_MS ms per I/O) so that writes are in the target
# too at the cut. The library declares path 1 dead, fences it and retries its writes through
# path 2, and the bench overwrites the same blocks there. Then the cut is lifted and the held
# packets are let go at once: the stale WRITEs reach the target, whose old session is still
# alive unless fencing ended it (tetherd reaps silent connections only after 10 s + 10 s here;
# tgtd sends no NOP-In). Asserted:
#   - the test offered stale writes: the held queue was not empty when it was let go;
#   - the bench (still running $AFTER_S s after the release, reading and verifying every
#     block, then reading back all of them) ends with 0 errors and 0 verify errors (a stale
#     write landing shows as `stale` or `lost`);
#   - the LUN read directly (qemu-img dd through libiscsi, path 2) right after the bench and
#     again 3 s later is identical: nothing landed after the bench's last write.
# Figures: <kind>_ghost_held_bytes (the stale data let go), the bench's figures.
#
# The control: FP_GHOST_CONTROL=1 runs the same scenario with fencing off (fence=quiesce,
# quiesce_ms=0: the dead path's writes are retried at once) and expects stale writes to be
# found, which shows that the test sees a ghost write when one lands. It is not part of the
# default run: whether the bench reads a stale block before rewriting it is a matter of chance
# (measured: 40, 24 and 80 stale blocks against tetherd; 8, 16 and once none against tgtd;
# docs/failover.md).
#
# Exit: 0 pass, 77 skip (reason printed), 1 fail.
# Environment: TT_BUILD, TT_TOP (tests/lib/common.sh); FP_KINDS (default "tetherd tgtd");
# FP_TETHER_OPTS (extra library options, "name=value ..."); FP_GHOST_CONTROL=1 (the control).

. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/paths.sh"

fp_setup ighost
fp_need_tether
tt_need tgtd tgtadm iscsi-inq iscsi-ls qemu-img cmp tc
qemu-img --help | grep -q 'Supported formats:.* iscsi' || skip "qemu-img has no iscsi driver"
ft_i tc qdisc add dev "$FT_IVETH" root tbf rate 1kbit burst 1600 limit 100000 2>/dev/null ||
	skip "no tbf queueing discipline (sch_tbf) in the initiator's namespace"
ft_i tc qdisc del dev "$FT_IVETH" root

CUT_S=5
AFTER_S=10
DELAY_MS=20
FP_SIZE=1M
FP_NOP="10 10"
# shellcheck disable=SC2206
FP_LIBOPTS=(no_path_timeout_ms=60000 ${FP_TETHER_OPTS:-})
[ "${FP_GHOST_CONTROL:-0}" = 1 ] && FP_LIBOPTS+=(fence=quiesce quiesce_ms=0)

# snapshot KIND FILE: the whole LUN through path 2, by libiscsi (qemu-img), not by libtether
snapshot() {
	ft_i timeout -k 2 60 qemu-img dd -f raw -O raw bs=65536 count=16 \
		if="$(fp_url "$1" 2)" of="$2" >"$TT_WORK/qemu-img.out" 2>&1 ||
		fail "$1: qemu-img dd of the LUN failed: $(cat "$TT_WORK/qemu-img.out")"
}

ghost() { # KIND
	local kind=$1 r=$1-ghost q
	if [ "$kind" = tetherd ]; then fp_start tetherd "delay:ms=$DELAY_MS,"; else fp_start tgtd; fi
	fp_check_paths "$kind"
	step "$kind: path 1 cut for $CUT_S s with writes held in the network, overwritten through path 2, then let go"
	fp_bench "$r" "$kind" $((CUT_S + AFTER_S + 2))
	fp_wait_live "$r" 20
	sleep 1
	fp_hold 1
	fp_cut_out 1
	sleep "$CUT_S"
	fp_bench_alive "$r"
	q=$(fp_held 1)
	echo "    at the lift: $q bytes held on path 1; paths: 1 $(fp_path_stat "$r" 1), 2 $(fp_path_stat "$r" 2)"
	ft_figure "${kind}_ghost_held_bytes" "$q"
	fp_uncut 1
	fp_release 1
	[ "${q:-0}" -gt 0 ] || fail "$kind: nothing was held on path 1: the test offered no stale write"
	if [ "${FP_GHOST_CONTROL:-0}" = 1 ]; then
		wait "${FP_BPID[$r]}"
		FP_JSON=$(sed -n '/^[[:space:]]*{/,$p' "$TT_WORK/$r.json")
		ft_figure "${kind}_ghost_control_verify_errors" "$(jq -r '.verify_errors' <<<"$FP_JSON")"
		jq -c '.verify' <<<"$FP_JSON" | sed 's/^/    control: /'
		[ "$(jq -r '.verify_errors' <<<"$FP_JSON")" -gt 0 ] ||
			fail "$kind: control: with fencing off no stale write was found"
		ok "$kind: control: with fencing off the stale writes were found"
		fp_stop "$kind"
		return
	fi
	fp_bench_end "$r" "${kind}_ghost"
	# after the bench: nothing may land any more
	snapshot "$kind" "$TT_WORK/$kind-1.img"
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
if [ "${FP_GHOST_CONTROL:-0}" = 1 ]; then
	echo "PASS: control: stale writes found with fencing off against ${FP_KINDS:-tetherd tgtd}"
else
	echo "PASS: no ghost write after fail-over against ${FP_KINDS:-tetherd tgtd}"
fi
