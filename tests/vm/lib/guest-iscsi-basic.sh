# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# guest-iscsi-basic.sh - guest side of iscsi_basic.sh: SendTargets discovery,
# login over TCP, identity of the LUN, ext4 with checksummed files, fio crc32c
# verify on the raw device, logout, login again, data intact.
#
# Variables: TT_VM_LUN_MB (expected size), TT_VM_EXPECT_VENDOR [TETHER],
# TT_VM_EXPECT_PRODUCT [any non-empty].

# shellcheck source=guest-lib.sh source-path=SCRIPTDIR
. /mnt/host/tests/vm/lib/guest-lib.sh

LUN_MB=${TT_VM_LUN_MB:-256}
EXPECT_VENDOR=${TT_VM_EXPECT_VENDOR:-TETHER}
EXPECT_PRODUCT=${TT_VM_EXPECT_PRODUCT:-}
FS_MB=96       # ext4 lives in [0, 96 MiB)
FIO_OFF=128M   # fio pattern lives in [128, 192 MiB)
FIO_SIZE=64M

dmesg -n 1
g_iscsi_start

# ---- discovery
t0=$(g_now)
out=$(g_discover "$PORTAL_A") || g_die "SendTargets on $PORTAL_A failed: $out"
g_figure basic_discovery_s "$(g_since "$t0")"
echo "SendTargets on $PORTAL_A:"
echo "  ${out//$'\n'/$'\n'  }"
IQN=$(echo "$out" | awk '{ print $2; exit }')
[ -n "$IQN" ] || g_die "SendTargets returned no target"
g_ok "SendTargets returned target $IQN"
addrs=$(echo "$out" | awk -v t="$IQN" '$2 == t { sub(/:.*/, "", $1); print $1 }' | sort -u)
for a in $addrs; do
	case $a in
	"$PORTAL_A" | "$PORTAL_B") g_ok "TargetAddress $a is a portal the guest reaches" ;;
	*) g_bad "TargetAddress $a is not reachable from the guest" ;;
	esac
done

# ---- login
t0=$(g_now)
g_login "$IQN" "$PORTAL_A" || g_die "login to $IQN on $PORTAL_A failed"
g_figure basic_login_s "$(g_since "$t0")"
DEV=$(g_disk "$IQN" "$PORTAL_A") || g_die "no disk attached to the session"
g_ok "logged in, LUN is /dev/$DEV"
lsscsi

# ---- identity
sectors=$(cat "/sys/block/$DEV/size")
if [ "$sectors" = $((LUN_MB * 2048)) ]; then g_ok "size $LUN_MB MiB"
else g_bad "size is $sectors sectors, expected $((LUN_MB * 2048))"; fi
vendor=$(sed 's/ *$//' "/sys/block/$DEV/device/vendor")
product=$(sed 's/ *$//' "/sys/block/$DEV/device/model")
if [ "$vendor" = "$EXPECT_VENDOR" ]; then g_ok "vendor '$vendor'"
else g_bad "vendor '$vendor', expected '$EXPECT_VENDOR'"; fi
if [ -n "$product" ] && { [ -z "$EXPECT_PRODUCT" ] || [ "$product" = "$EXPECT_PRODUCT" ]; }; then
	g_ok "product '$product'"
else
	g_bad "product '$product', expected '${EXPECT_PRODUCT:-non-empty}'"
fi
serial=$(sg_inq -p 0x80 "/dev/$DEV" 2>/dev/null | sed -n 's/^ *Unit serial number: *//p' | sed 's/ *$//')
if [ -n "$serial" ]; then g_ok "unit serial number (VPD 80h) '$serial'"
else g_bad "no unit serial number (VPD 80h)"; fi
wwid=$(cat "/sys/block/$DEV/device/wwid" 2>/dev/null)
scsi_id=$(/lib/udev/scsi_id -g -u -d "/dev/$DEV" 2>/dev/null)
echo "VPD 83h:"
sg_vpd -p di "/dev/$DEV" 2>&1 | sed 's/^/  /'
case $wwid in
naa.* | eui.* | t10.* | "") ;;
*) g_bad "unexpected wwid form '$wwid'" ;;
esac
if [ -n "$wwid" ]; then g_ok "wwid (sysfs, from VPD 83h) '$wwid'"
else g_bad "no wwid in sysfs (VPD 83h)"; fi
if [ -n "$scsi_id" ]; then g_ok "scsi_id '$scsi_id'"
else g_bad "scsi_id returned nothing"; fi
case $wwid in
naa.*)
	if [ "${scsi_id#3}" = "${wwid#naa.}" ]; then g_ok "scsi_id and sysfs wwid agree (NAA)"
	else g_bad "scsi_id '$scsi_id' does not match wwid '$wwid'"; fi
	;;
esac

# ---- raw device: fio crc32c (write + verify)
fio_job() {
	fio --name=raw --filename="/dev/$DEV" --direct=1 --ioengine=libaio --iodepth=8 \
		--rw=randwrite --bs=64k --offset=$FIO_OFF --size=$FIO_SIZE \
		--verify=crc32c --verify_fatal=1 "$@" >/tmp/fio.out 2>&1
}
t0=$(g_now)
if fio_job; then
	g_ok "fio randwrite + crc32c verify on raw /dev/$DEV ($FIO_SIZE at $FIO_OFF)"
else
	cat /tmp/fio.out
	g_bad "fio write/verify on raw device"
fi
g_figure basic_fio_64MiB_write_verify_s "$(g_since "$t0")"

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
t0=$(g_now)
g_logout "$IQN" "$PORTAL_A" || g_die "logout failed"
if [ -b "/dev/$DEV" ]; then g_bad "/dev/$DEV still present after logout"
else g_ok "logout removed /dev/$DEV"; fi
g_login "$IQN" "$PORTAL_A" || g_die "second login failed"
DEV=$(g_disk "$IQN" "$PORTAL_A") || g_die "no disk after second login"
g_figure basic_relogin_s "$(g_since "$t0")"
g_ok "logged in again, LUN is /dev/$DEV"
if [ "$(cat "/sys/block/$DEV/device/wwid" 2>/dev/null)" = "$wwid" ]; then g_ok "same wwid after re-login"
else g_bad "wwid changed across re-login"; fi

mount "/dev/$DEV" /mnt/lun || g_die "mount after re-login failed"
if g_sha_files /mnt/lun | cmp -s - /tmp/sums; then
	g_ok "file checksums intact after re-login"
else
	g_bad "file checksums differ after re-login"
	g_sha_files /mnt/lun | diff /tmp/sums - || true
fi
umount /mnt/lun
if fio_job --verify_only; then
	g_ok "fio crc32c pattern intact after re-login"
else
	cat /tmp/fio.out
	g_bad "fio pattern corrupted after re-login"
fi
g_logout "$IQN" "$PORTAL_A" || g_bad "final logout failed"
g_end
