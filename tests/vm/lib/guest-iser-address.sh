# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# guest-iser-address.sh - guest side of iser_address.sh: the address of an iSER portal leaves the
# guest and comes back: the listener closes and binds again by itself, and a new login works.
#
# Variables: TT_VM_GUEST_BUILD (set by the host).

# shellcheck source=guest-lib.sh source-path=SCRIPTDIR
. /mnt/host/tests/vm/lib/guest-lib.sh

IQN=iqn.2026-11.org.tether:iser0
dmesg -n 1
IP=$(g_addr eth0)
[ -n "$IP" ] || g_die "eth0 has no address"
g_rxe_up eth0 rxe0
g_tetherd_start --target "$IQN" --portal "iser://$IP:3260" --lun ram:64M --loops 2 --debug rdma
modprobe ib_iser || g_die "modprobe ib_iser"
g_iscsi_start
iser() { timeout 90 iscsiadm -m node -T "$IQN" -p "$IP:3260" -I iser "$@"; }
timeout 60 iscsiadm -m discovery -t sendtargets -p "$IP:3260" -I iser >/dev/null ||
	g_die "SendTargets over iSER failed"
iser --login >/dev/null || g_die "login over iSER failed"
DEV=$(g_disk "$IQN" "$IP") || g_die "no disk"
g_ok "logged in over iSER, /dev/$DEV"
dd if="/dev/$DEV" of=/dev/null bs=1M count=8 iflag=direct 2>/dev/null || g_bad "read before the removal"

# (the kernel's initiator keeps its own hold on the device while its session is up)
iser --logout >/dev/null || g_bad "logout before the removal"

# ---- the address goes away (the device itself goes in rdma_rebind.sh)
CIDR=$(ip -o -4 addr show dev eth0 | awk '{ print $4; exit }')
ip addr del "$CIDR" dev eth0 || g_die "ip addr del $CIDR"
for _ in $(seq 100); do
	grep -q 'listener closed until it comes back' "$G_TETHERD_LOG" && break
	sleep 0.2
done
if grep -q 'listener closed until it comes back' "$G_TETHERD_LOG"; then g_ok "tetherd closed the iSER listener when $IP left eth0"
else tail -20 "$G_TETHERD_LOG"; g_bad "tetherd did not close the listener"; fi

# ---- it comes back: the listener binds again by itself
ip addr add "$CIDR" dev eth0 || g_die "ip addr add $CIDR"
t0=$(g_now)
for _ in $(seq 150); do
	[ "$(grep -cE "portal iser://$IP:3260: listening" "$G_TETHERD_LOG")" -ge 2 ] && break
	sleep 0.2
done
if [ "$(grep -cE "portal iser://$IP:3260: listening" "$G_TETHERD_LOG")" -ge 2 ]; then
	g_ok "the iSER listener listens again ($(g_since "$t0") s after $IP came back)"
else tail -20 "$G_TETHERD_LOG"; g_die "the iSER listener did not come back"; fi
iser --login >/dev/null || g_die "login after the address came back failed"
DEV=$(g_disk "$IQN" "$IP") || g_die "no disk after the address came back"
if dd if="/dev/$DEV" of=/dev/null bs=1M count=8 iflag=direct 2>/dev/null; then g_ok "logged in again, /dev/$DEV reads"
else g_bad "read after the address came back"; fi
iser --logout >/dev/null || g_bad "logout"

g_tetherd_finish
g_end
