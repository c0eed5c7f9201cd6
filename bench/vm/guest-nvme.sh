# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# guest-nvme.sh - guest half of bench/vm_nvme_tcp.sh and bench/vm_nvme_rdma.sh. Over one
# transport (BENCH_TRANSPORT: tcp, or rdma over soft-RoCE on eth0), serves the same workload
# from tetherd (run in the guest, a RAM LUN, nvme-<transport>://IP:4420) and from the kernel's
# nvmet (configfs, a brd RAM disk of the same size, IP:4421), both reached by the kernel's NVMe
# host over the guest's own address; runs each fio job on A then B, ROUNDS times, and prints
# the figures and the ratio tetherd/kernel.
#
# Variables: TT_VM_GUEST_BUILD (host), BENCH_TRANSPORT [tcp], BENCH_SECS [5], BENCH_ROUNDS [2],
# BENCH_MB [256].

# shellcheck source=/dev/null
. /mnt/host/tests/vm/lib/guest-lib.sh

SECS=${BENCH_SECS:-5}
ROUNDS=${BENCH_ROUNDS:-2}
MB=${BENCH_MB:-256}
TR=${BENCH_TRANSPORT:-tcp}
case $TR in tcp | rdma) ;; *) g_die "BENCH_TRANSPORT: tcp or rdma, not $TR" ;; esac
T_NQN=nqn.2026-11.org.tether:default
K_NQN=nqn.2026-11.org.tether:kernel-ref
N=/sys/kernel/config/nvmet
dmesg -n 1
IP=$(g_addr eth0)
[ -n "$IP" ] || g_die "eth0 has no address"
[ "$TR" = tcp ] || g_rxe_up eth0 rxe0
modprobe -a "nvme_$TR" nvmet "nvmet_$TR" || g_die "modprobe nvme_$TR nvmet nvmet_$TR"
mkdir -p /etc/nvme
nvme gen-hostnqn >/etc/nvme/hostnqn

# ---- A: tetherd in the guest
g_tetherd_start --portal "nvme-$TR://$IP:4420" --lun "ram:${MB}M"
timeout 60 nvme connect -t "$TR" -a "$IP" -s 4420 -n "$T_NQN" >/dev/null || g_die "nvme connect to tetherd"
A=$(g_nvme_ns "$T_NQN") || g_die "no tetherd namespace"

# ---- B: the kernel's nvmet on a brd RAM disk of the same size
modprobe brd rd_nr=1 rd_size=$((MB * 1024)) max_part=0 || g_die "modprobe brd"
[ "$(cat /sys/block/ram0/size)" = $((MB * 2048)) ] || g_die "brd ram0 is not $MB MiB"
mkdir -p "$N/subsystems/$K_NQN/namespaces/1" "$N/ports/1"
echo 1 >"$N/subsystems/$K_NQN/attr_allow_any_host"
echo /dev/ram0 >"$N/subsystems/$K_NQN/namespaces/1/device_path"
echo 1 >"$N/subsystems/$K_NQN/namespaces/1/enable" || g_die "nvmet namespace enable"
echo "$TR" >"$N/ports/1/addr_trtype"
echo ipv4 >"$N/ports/1/addr_adrfam"
echo "$IP" >"$N/ports/1/addr_traddr"
echo 4421 >"$N/ports/1/addr_trsvcid"
ln -s "$N/subsystems/$K_NQN" "$N/ports/1/subsystems/$K_NQN" || g_die "nvmet port link"
timeout 60 nvme connect -t "$TR" -a "$IP" -s 4421 -n "$K_NQN" >/dev/null || g_die "nvme connect to nvmet-$TR"
B=$(g_nvme_ns "$K_NQN") || g_die "no nvmet namespace"
[ "$(cat "/sys/block/$A/size")" = "$(cat "/sys/block/$B/size")" ] || g_die "namespace sizes differ"
g_log "tetherd: /dev/$A, nvmet-$TR: /dev/$B ($MB MiB each, over $TR)"
# fill both, so that reads return data that was written
for d in "$A" "$B"; do
	# 128 KiB (tetherd's MDTS): 1 MiB writes at QD 16 from the guest to its own tetherd stalled
	timeout 300 fio --name=fill --filename="/dev/$d" --direct=1 --ioengine=libaio --iodepth=16 \
		--rw=write --bs=128k --size="${MB}M" >/dev/null 2>&1 || g_die "fill /dev/$d"
done

# fio_run NAME:RW:BS:QD DEV: prints "IOPS MB/s" of the job's direction (terse v3: read 7/8,
# write 48/49)
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

declare -A sum_a sum_b
printf '%-6s %-14s %22s %22s\n' round job "tetherd IOPS MB/s" "nvmet-$TR IOPS MB/s"
for r in $(seq "$ROUNDS"); do
	for j in $JOBS; do
		ra=$(fio_run "$j" "$A")
		rb=$(fio_run "$j" "$B")
		# shellcheck disable=SC2086 # two numbers
		printf '%-6s %-14s %14s %7s %14s %7s\n' "$r" "${j%%:*}" $ra $rb
		sum_a[$j]=$(awk -v s="${sum_a[$j]:-0 0}" -v r="$ra" 'BEGIN { split(s, x, " "); split(r, y, " "); print x[1] + y[1], x[2] + y[2] }')
		sum_b[$j]=$(awk -v s="${sum_b[$j]:-0 0}" -v r="$rb" 'BEGIN { split(s, x, " "); split(r, y, " "); print x[1] + y[1], x[2] + y[2] }')
	done
done
echo
printf '%-21s %22s %22s %7s\n' "mean" "tetherd IOPS MB/s" "nvmet-$TR IOPS MB/s" ratio
: >/tmp/figures
for j in $JOBS; do
	awk -v j="${j%%:*}" -v a="${sum_a[$j]}" -v b="${sum_b[$j]}" -v n="$ROUNDS" -v tr="$TR" -v f=/tmp/figures 'BEGIN {
		split(a, x, " "); split(b, y, " ")
		ratio = "?"
		if (y[1] > 0)
			ratio = sprintf("%.2f", x[1] / y[1])
		printf "%-21s %14d %7.1f %14d %7.1f %7s\n", j, x[1] / n, x[2] / n, y[1] / n, y[2] / n, ratio
		printf "FIGURE %s_tetherd_iops=%d\nFIGURE %s_nvmet_" tr "_iops=%d\nFIGURE %s_ratio=%s\n",
			j, x[1] / n, j, y[1] / n, j, ratio >>f
	}'
done
cat /tmp/figures
nvme disconnect -n "$T_NQN" >/dev/null
nvme disconnect -n "$K_NQN" >/dev/null
g_tetherd_stop TERM || g_bad "tetherd exit status $?"

g_end
