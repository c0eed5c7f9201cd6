# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# guest-target.sh - guest side of guest_target.sh: rxe up, RDMA loopback, tetherd in the guest
# served to the kernel NVMe/TCP host and to iscsi-inq over the guest's own address.
#
# Variables: TT_VM_GUEST_BUILD (set by the host), TT_VM_LUN_MB.

# shellcheck source=guest-lib.sh source-path=SCRIPTDIR
. /mnt/host/tests/vm/lib/guest-lib.sh

LUN_MB=${TT_VM_LUN_MB:-256}
NQN=nqn.2026-11.org.tether:default
dmesg -n 1
IP=$(g_addr eth0)
[ -n "$IP" ] || g_die "eth0 has no address"

# ---- soft-RoCE
t0=$(g_now)
g_rxe_up eth0 rxe0
g_figure rxe_up_s "$(g_since "$t0")"
g_ok "rxe0 on eth0 ($IP) ACTIVE"
ibv_devinfo -d rxe0 | grep -E 'transport|state|active_mtu|link_layer' | sed 's/^/  /'
timeout 60 rping -s -a "$IP" -C 10 >/tmp/rping-s.log 2>&1 &
sp=$!
sleep 1
if timeout 60 rping -c -a "$IP" -C 10 -v >/tmp/rping-c.log 2>&1 &&
	[ "$(grep -c 'ping data' /tmp/rping-c.log)" = 10 ]; then g_ok "rping -C 10 over rxe0"
else tail -5 /tmp/rping-c.log /tmp/rping-s.log; g_bad "rping over rxe0"; fi
wait "$sp" || g_bad "rping server"
timeout 60 ibv_rc_pingpong -d rxe0 -g 1 -n 200 >/tmp/pp-s.log 2>&1 &
sp=$!
sleep 1
if timeout 60 ibv_rc_pingpong -d rxe0 -g 1 -n 200 "$IP" >/tmp/pp-c.log 2>&1 &&
	grep -q '200 iters' /tmp/pp-c.log; then g_ok "ibv_rc_pingpong: $(grep iters /tmp/pp-c.log)"
else tail -5 /tmp/pp-c.log /tmp/pp-s.log; g_bad "ibv_rc_pingpong over rxe0"; fi
wait "$sp" || g_bad "ibv_rc_pingpong server"

# ---- tetherd in the guest
t0=$(g_now)
IQN=iqn.2026-11.org.tether:guest0
g_tetherd_start --target "$IQN" --portal "$IP:3260" --portal "nvme-tcp://$IP:4420" --lun "ram:${LUN_MB}M" --loops 1
g_figure tetherd_start_s "$(g_since "$t0")"
g_ok "tetherd started in the guest ($G_TETHERD)"

out=$(timeout 60 iscsi-inq "iscsi://$IP/$IQN/0" 2>&1) ||
	{ echo "$out"; g_bad "iscsi-inq"; }
grep -q 'TETHER' <<<"$out" && g_ok "iscsi-inq: vendor TETHER" || { echo "$out" | head; g_bad "iscsi-inq vendor"; }

modprobe nvme_tcp || g_die "modprobe nvme_tcp"
mkdir -p /etc/nvme
nvme gen-hostnqn >/etc/nvme/hostnqn
timeout 60 nvme connect -t tcp -a "$IP" -s 4420 -n "$NQN" || { dmesg | tail -20; g_die "nvme connect to $IP"; }
DEV=
for _ in $(seq 100); do
	for s in /sys/class/nvme-subsystem/*; do
		[ "$(cat "$s/subsysnqn" 2>/dev/null)" = "$NQN" ] || continue
		for d in "$s"/nvme*n1; do [ -e "$d" ] && DEV=$(basename "$d"); done
	done
	[ -n "$DEV" ] && [ -b "/dev/$DEV" ] && break
	sleep 0.2
done
[ -n "$DEV" ] || g_die "no namespace device"
[ "$(cat "/sys/block/$DEV/size")" = $((LUN_MB * 2048)) ] && g_ok "/dev/$DEV is $LUN_MB MiB" || g_bad "/dev/$DEV size"
if fio --name=v --filename="/dev/$DEV" --direct=1 --ioengine=libaio --iodepth=8 --rw=randwrite \
	--bs=16k --size=16M --verify=crc32c --verify_fatal=1 >/tmp/fio.out 2>&1; then
	g_ok "fio 16 MiB randwrite + crc32c verify through the guest's own tetherd"
else cat /tmp/fio.out; g_bad "fio verify"; fi
nvme disconnect -n "$NQN" >/dev/null || g_bad "nvme disconnect"

rc=0
g_tetherd_stop TERM || rc=$?
[ "$rc" = 0 ] && g_ok "tetherd exited with status 0 on SIGTERM" || g_bad "tetherd exit status $rc"
g_tetherd_log_check && g_ok "no sanitizer report"
g_end
