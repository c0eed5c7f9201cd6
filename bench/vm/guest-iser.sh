# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# guest-iser.sh - guest half of bench/vm_iser.sh. Serves the same workload from tetherd (run in
# the guest, a RAM LUN, iser://IP:3260) and from the kernel's LIO with ib_isert (targetcli: an
# rd_mcp ramdisk of the same size, an iSCSI target whose portal IP:3261 has iSER enabled, through configfs), both
# reached by the kernel's iSER initiator (open-iscsi iface iser, ib_iser) over soft-RoCE on the
# guest's own address; runs each fio job on A then B, ROUNDS times, and prints the figures and
# the ratio tetherd/LIO.
#
# Variables: TT_VM_GUEST_BUILD (host), BENCH_SECS [5], BENCH_ROUNDS [2], BENCH_MB [128].

# shellcheck source=/dev/null
. /mnt/host/tests/vm/lib/guest-lib.sh

SECS=${BENCH_SECS:-5}
ROUNDS=${BENCH_ROUNDS:-2}
MB=${BENCH_MB:-128}
T_IQN=iqn.2026-11.org.tether:bench-iser
K_IQN=iqn.2026-11.org.tether:lio-iser
dmesg -n 1
IP=$(g_addr eth0)
[ -n "$IP" ] || g_die "eth0 has no address"
g_rxe_up eth0 rxe0
modprobe -a ib_iser iscsi_target_mod ib_isert || g_die "modprobe ib_iser iscsi_target_mod ib_isert"
g_iscsi_start

# login_iser IQN PORT: discovery and login over iSER; prints the sdX
login_iser() {
	local d
	timeout 60 iscsiadm -m discovery -t sendtargets -p "$IP:$2" -I iser >/dev/null || return 1
	timeout 90 iscsiadm -m node -T "$1" -p "$IP:$2" -I iser --login >/dev/null || return 1
	for _ in $(seq 100); do
		d=$(iscsiadm -m session -P 3 2>/dev/null | awk -v t="$1" '
			/^Target: / { tgt = $2 } /Attached scsi disk/ && tgt == t { print $4; exit }')
		[ -n "$d" ] && [ -b "/dev/$d" ] && { echo "$d"; return 0; }
		sleep 0.2
	done
	return 1
}

# ---- A: tetherd in the guest, iSER only
g_tetherd_start --target "$T_IQN" --portal "iser://$IP:3260" --lun "ram:${MB}M"
A=$(login_iser "$T_IQN" 3260) || g_die "iSER login to tetherd"

# ---- B: LIO, rd_mcp ramdisk, iSER portal on 3261
g_lio "$K_IQN" "$MB" "$IP:3261/iser"
B=$(login_iser "$K_IQN" 3261) || { dmesg | tail; g_die "iSER login to LIO"; }
[ "$(cat "/sys/block/$A/size")" = "$(cat "/sys/block/$B/size")" ] || g_die "LUN sizes differ"
for d in "$A" "$B"; do
	s=$(iscsiadm -m session -P 3 | awk -v d="$d" '/Iface Transport:/ { t = $3 } /Attached scsi disk/ && $4 == d { print t }')
	[ "$s" = iser ] || g_die "/dev/$d is not on an iser session ($s)"
done
g_log "tetherd: /dev/$A, LIO isert: /dev/$B ($MB MiB each, both over iser)"
for d in "$A" "$B"; do
	timeout 300 fio --name=fill --filename="/dev/$d" --direct=1 --ioengine=libaio --iodepth=16 \
		--rw=write --bs=128k --size="${MB}M" >/dev/null 2>&1 || g_die "fill /dev/$d"
done

JOBS="randread_4k:randread:4k:32 randwrite_4k:randwrite:4k:32 seqread_128k:read:128k:16"
fio_run() {
	local name rw bs qd out
	IFS=: read -r name rw bs qd <<<"$1"
	out=$(timeout $((SECS + 60)) fio --name="$name" --filename="/dev/$2" --direct=1 --ioengine=libaio \
		--rw="$rw" --bs="$bs" --iodepth="$qd" --runtime="$SECS" --ramp_time=1 --time_based \
		--output-format=terse --terse-version=3 2>/dev/null) || { echo "0 0"; return; }
	case $rw in
	*write) awk -F';' '{ printf "%d %.1f\n", $49, $48 / 1024 }' <<<"$out" ;;
	*) awk -F';' '{ printf "%d %.1f\n", $8, $7 / 1024 }' <<<"$out" ;;
	esac
}

# rxe's own counters (rdma statistic): what a job cost in retransmissions, sequence errors and
# RNR retries, printed for every run that had any: they tell rxe's losses (both targets)
# from a target's own cost
rxe_counts() { rdma statistic show link rxe0/1 2>/dev/null | tr ' ' '\n' | awk 'NF' | paste - - | sort; }
rxe_delta() {
	join <(printf '%s\n' "$1") <(printf '%s\n' "$2") | awk '
		$1 ~ /err|retry|rnr|duplicate|out_of_seq|ack_deferred/ && $3 - $2 > 0 { printf " %s+%d", $1, $3 - $2 }'
}

declare -A sum_a sum_b
printf '%-6s %-14s %22s %22s\n' round job "tetherd IOPS MB/s" "LIO isert IOPS MB/s"
for r in $(seq "$ROUNDS"); do
	for j in $JOBS; do
		c0=$(rxe_counts)
		ra=$(fio_run "$j" "$A")
		c1=$(rxe_counts)
		rb=$(fio_run "$j" "$B")
		c2=$(rxe_counts)
		# shellcheck disable=SC2086 # two numbers
		printf '%-6s %-14s %14s %7s %14s %7s\n' "$r" "${j%%:*}" $ra $rb
		da=$(rxe_delta "$c0" "$c1")
		db=$(rxe_delta "$c1" "$c2")
		[ -z "$da$db" ] || printf '       rxe: tetherd%s; LIO%s\n' "${da:- none}" "${db:- none}"
		sum_a[$j]=$(awk -v s="${sum_a[$j]:-0 0}" -v r="$ra" 'BEGIN { split(s, x, " "); split(r, y, " "); print x[1] + y[1], x[2] + y[2] }')
		sum_b[$j]=$(awk -v s="${sum_b[$j]:-0 0}" -v r="$rb" 'BEGIN { split(s, x, " "); split(r, y, " "); print x[1] + y[1], x[2] + y[2] }')
	done
done
echo
printf '%-21s %22s %22s %7s\n' "mean" "tetherd IOPS MB/s" "LIO isert IOPS MB/s" ratio
for j in $JOBS; do
	awk -v j="${j%%:*}" -v a="${sum_a[$j]}" -v b="${sum_b[$j]}" -v n="$ROUNDS" 'BEGIN {
		split(a, x, " "); split(b, y, " ")
		ratio = "?"
		if (y[1] > 0)
			ratio = sprintf("%.2f", x[1] / y[1])
		printf "%-21s %14d %7.1f %14d %7.1f %7s\n", j, x[1] / n, x[2] / n, y[1] / n, y[2] / n, ratio
		printf "FIGURE %s_tetherd_iops=%d\nFIGURE %s_lio_isert_iops=%d\nFIGURE %s_ratio=%s\n",
			j, x[1] / n, j, y[1] / n, j, ratio >"/dev/stderr"
	}'
done
timeout 90 iscsiadm -m node -T "$T_IQN" -p "$IP:3260" -I iser --logout >/dev/null || g_bad "logout from tetherd"
timeout 90 iscsiadm -m node -T "$K_IQN" -p "$IP:3261" -I iser --logout >/dev/null || g_bad "logout from LIO"
g_tetherd_stop TERM || g_bad "tetherd exit status $?"
g_end
