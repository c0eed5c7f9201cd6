# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# guest-iser-basic.sh - guest side of iser_basic.sh: soft-RoCE on eth0, tetherd started in the
# guest with an iSCSI/TCP and an iSER portal side by side on the guest's own address; the
# kernel's iSER initiator (ib_iser, open-iscsi iface "iser"): SendTargets discovery, login, the
# LUN as /dev/sdX, fio crc32c on the raw device, ext4 with checksummed files, logout, login
# again with the data intact; iscsi-inq over iser:// when libiscsi has iSER.
#
# Variables: TT_VM_GUEST_BUILD (set by the host), TT_VM_LUN_MB.

# shellcheck source=guest-lib.sh source-path=SCRIPTDIR
. /mnt/host/tests/vm/lib/guest-lib.sh

LUN_MB=${TT_VM_LUN_MB:-256}
IQN=iqn.2026-11.org.tether:iser0
FS_MB=96       # ext4 lives in [0, 96 MiB)
FIO_OFF=128M   # fio pattern lives in [128, 192 MiB)
FIO_SIZE=64M
dmesg -n 1
IP=$(g_addr eth0)
[ -n "$IP" ] || g_die "eth0 has no address"

g_rxe_up eth0 rxe0
g_ok "rxe0 on eth0 ($IP) ACTIVE"

t0=$(g_now)
g_tetherd_start --target "$IQN" --portal "$IP:3260" --portal "iser://$IP:3260" \
	--lun "ram:${LUN_MB}M" --loops 2
g_figure iser_tetherd_start_s "$(g_since "$t0")"
g_ok "tetherd started in the guest with iscsi://$IP:3260 and iser://$IP:3260"

modprobe ib_iser || g_die "modprobe ib_iser"
g_iscsi_start
iser() { timeout 90 iscsiadm -m node -T "$IQN" -p "$IP:3260" -I iser "$@"; }

# ---- discovery over iSER
t0=$(g_now)
out=$(timeout 60 iscsiadm -m discovery -t sendtargets -p "$IP:3260" -I iser 2>&1) ||
	g_die "SendTargets over iSER failed: $out"
g_figure iser_discovery_s "$(g_since "$t0")"
echo "  ${out//$'\n'/$'\n'  }"
n=$(grep -c " $IQN\$" <<<"$out" || true)
# the TCP and the iSER portal share an address and a port: one TargetAddress
if [ "$n" = 1 ]; then g_ok "SendTargets over iSER returned $IQN at $IP:3260, once"
else g_bad "SendTargets over iSER returned $n records of $IQN, expected 1"; fi

# ---- login over iSER
t0=$(g_now)
iser --login >/dev/null || { dmesg | tail -20; g_die "login over iSER failed"; }
g_figure iser_login_s "$(g_since "$t0")"
DEV=$(g_disk "$IQN" "$IP") || g_die "no disk attached to the iSER session"
transport=$(iscsiadm -m session -P 1 2>/dev/null | awk '/Iface Transport:/ { print $3; exit }')
if [ "$transport" = iser ]; then g_ok "session transport is iser, LUN is /dev/$DEV"
else g_bad "session transport is '$transport', expected iser"; fi
sectors=$(cat "/sys/block/$DEV/size")
if [ "$sectors" = $((LUN_MB * 2048)) ]; then g_ok "size $LUN_MB MiB"
else g_bad "size is $sectors sectors, expected $((LUN_MB * 2048))"; fi
vendor=$(sed 's/ *$//' "/sys/block/$DEV/device/vendor")
if [ "$vendor" = TETHER ]; then g_ok "vendor '$vendor'"
else g_bad "vendor '$vendor'"; fi
wwid=$(cat "/sys/block/$DEV/device/wwid" 2>/dev/null)

# ---- raw device: fio crc32c (RDMA READ of the writes, RDMA WRITE of the reads)
fio_job() {
	fio --name=raw --filename="/dev/$DEV" --direct=1 --ioengine=libaio --iodepth=8 \
		--rw=randwrite --bsrange=4k-256k --offset=$FIO_OFF --size=$FIO_SIZE \
		--verify=crc32c --verify_fatal=1 "$@" >/tmp/fio.out 2>&1
}
t0=$(g_now)
if fio_job; then g_ok "fio randwrite 4k-256k + crc32c verify on /dev/$DEV over iSER"
else cat /tmp/fio.out; g_bad "fio write/verify over iSER"; fi
g_figure iser_fio_64MiB_write_verify_s "$(g_since "$t0")"

# ---- ext4 with checksummed files
mkfs.ext4 -q -F "/dev/$DEV" "${FS_MB}M" || g_die "mkfs.ext4 failed"
mkdir -p /mnt/lun
mount "/dev/$DEV" /mnt/lun || g_die "mount failed"
for i in 1 2 3 4 5 6 7 8; do
	head -c $((i * 512 * 1024 + i * 7)) /dev/urandom >"/mnt/lun/f.$i"
done
g_sha_files /mnt/lun >/tmp/sums
umount /mnt/lun || g_die "umount failed"
g_ok "ext4 created, 8 files written, sha256 recorded"

# ---- logout, login again
iser --logout >/dev/null || g_die "logout failed"
if [ -b "/dev/$DEV" ]; then g_bad "/dev/$DEV still present after logout"
else g_ok "logout removed /dev/$DEV"; fi
iser --login >/dev/null || g_die "second login over iSER failed"
DEV=$(g_disk "$IQN" "$IP") || g_die "no disk after the second login"
if [ "$(cat "/sys/block/$DEV/device/wwid" 2>/dev/null)" = "$wwid" ]; then g_ok "same wwid after re-login"
else g_bad "wwid changed across re-login"; fi
mount "/dev/$DEV" /mnt/lun || g_die "mount after re-login failed"
if g_sha_files /mnt/lun | cmp -s - /tmp/sums; then g_ok "file checksums intact after re-login"
else g_bad "file checksums differ after re-login"; fi
umount /mnt/lun
if fio_job --verify_only; then g_ok "fio crc32c pattern intact after re-login"
else cat /tmp/fio.out; g_bad "fio pattern corrupted after re-login"; fi
iser --logout >/dev/null || g_bad "final logout failed"

# ---- libiscsi over iSER (only when this libiscsi was built with it)
out=$(timeout 60 iscsi-inq "iser://$IP/$IQN/0" 2>&1) && rc=0 || rc=$?
if [ "$rc" = 0 ] && grep -q TETHER <<<"$out"; then g_ok "iscsi-inq iser://: vendor TETHER"
elif grep -qi 'iser' <<<"$out" && grep -qiE 'not (compiled|supported|built)|unknown|invalid' <<<"$out"; then
	echo "note: this libiscsi has no iSER: ${out%%$'\n'*}"
else echo "$out" | head; g_bad "iscsi-inq iser://"; fi

g_tetherd_finish
g_end
