#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# tether_attach.sh - tether attach: a tetherd LUN (two paths) as MOUNTPOINT/disk through FUSE:
#   1. the file has the LUN's size; 16 MiB written with O_DIRECT read back the same (cmp);
#      an unaligned write (1000 bytes at 3000, buffered) lands merged into its blocks; the
#      data is also on the LUN (qemu-img through the target directly);
#   2. a block device on the file (losetup --direct-io=on), mkfs.ext4, mount, files written,
#      umount, fsck -fn clean, files read back after a remount;
#   3. fusermount3 -u ends tether attach with exit 0; SIGTERM does too and unmounts.
# Needs /dev/fuse and fusermount3 (else exit 77); part 2 needs root and a loop device (else
# exit 77 with the reason, after parts 1 and 3 passed).
#
# Exit: 0 pass, 77 skip (reason printed), 1 fail.
# Environment: TT_BUILD, TT_TOP (see tests/lib/common.sh).

# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
# shellcheck source=tests/lib/qemu_img.sh
. "$TT_LIB_DIR/qemu_img.sh"

tt_setup tether-attach
TETHER=$TT_BUILD/src/cmd/tether
[ -x "$TETHER" ] || skip "tether is not built ($TETHER)"
[ -c /dev/fuse ] || skip "no /dev/fuse"
tt_need fusermount3 "$TT_PYTHON" mountpoint
qi_need

tt_free_port P1
tt_free_port P2
tt_start main --portal "127.0.0.1:$P1" --portal "127.0.0.1:$P2" --lun ram:64M
U1=$(tt_url "$P1" 0)
U2=$(tt_url "$P2" 0)
MNT=$TT_WORK/mnt
mkdir -p "$MNT"
LOOP=""
FS=$TT_WORK/fs
tt_at_exit 'mountpoint -q "$FS" && umount "$FS"; [ -n "$LOOP" ] && losetup -d "$LOOP"; mountpoint -q "$MNT" && fusermount3 -u "$MNT"'

APID=
# attach: starts tether attach and waits for MNT/disk
attach() {
	"$TETHER" attach --control "$TT_WORK/attach.sock" "$MNT" "$U1" "$U2" \
		>>"$TT_WORK/attach.log" 2>&1 &
	APID=$!
	tt_bg $APID
	for i in $(seq 300); do
		[ -f "$MNT/disk" ] && break
		kill -0 $APID 2>/dev/null || fail "tether attach exited: $(cat "$TT_WORK/attach.log")"
		sleep 0.1
	done
	[ -f "$MNT/disk" ] || fail "no $MNT/disk after 30 s: $(cat "$TT_WORK/attach.log")"
}

# ended: tether attach $APID must end with exit 0 within 20 s, unmounted, no sanitizer report
ended() {
	local i rc
	for i in $(seq 200); do kill -0 $APID 2>/dev/null || break; sleep 0.1; done
	kill -0 $APID 2>/dev/null && fail "tether attach still runs 20 s after $1"
	wait $APID
	rc=$?
	[ $rc = 0 ] || fail "tether attach exited $rc after $1: $(cat "$TT_WORK/attach.log")"
	! tt_log_has_report "$TT_WORK/attach.log" || fail "sanitizer report: $(cat "$TT_WORK/attach.log")"
	! mountpoint -q "$MNT" || fail "$MNT is still mounted after $1"
}

step "tether attach $MNT (2 paths): the file and its data"
attach
size=$(stat -c %s "$MNT/disk")
[ "$size" = 67108864 ] || fail "$MNT/disk has $size bytes, expected 67108864"
F=$TT_WORK/data.img
qi_random "$F" 16
dd if="$F" of="$MNT/disk" bs=1M oflag=direct conv=notrunc status=none || fail "dd to $MNT/disk"
dd if="$MNT/disk" of="$TT_WORK/back.img" bs=1M count=16 iflag=direct status=none || fail "dd from $MNT/disk"
cmp "$F" "$TT_WORK/back.img" || fail "16 MiB read back through FUSE differ"
ok "16 MiB written and read back with O_DIRECT"
"$TT_PYTHON" - "$MNT/disk" "$F" <<'EOF' || fail "unaligned write through FUSE"
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
os.pwrite(fd, b"\xab" * 1000, 3000)
os.close(fd)
f = open(sys.argv[2], "r+b"); f.seek(3000); f.write(b"\xab" * 1000); f.close()
EOF
dd if="$MNT/disk" of="$TT_WORK/back.img" bs=1M count=16 iflag=direct status=none || fail "dd from $MNT/disk"
cmp "$F" "$TT_WORK/back.img" || fail "after an unaligned write: the data differ"
head -c $((48 << 20)) /dev/zero >>"$F"
qi_same "$F" "$U1" "the LUN (read by qemu-img through the target)"
tt_capture 10 "$TETHER" paths "$TT_WORK/attach.sock" || fail "tether paths: $OUT"
tt_contains "2 of 2 paths live" "tether paths of tether attach"
ok "unaligned write merged; the data are on the LUN; tether paths: 2 live"

step "fusermount3 -u ends tether attach"
fusermount3 -u "$MNT" || fail "fusermount3 -u $MNT"
ended "fusermount3 -u"
ok "exit 0, unmounted"

step "SIGTERM ends tether attach"
attach
kill -TERM $APID
ended SIGTERM
ok "exit 0, unmounted"

why=""
if [ "$(id -u)" != 0 ]; then
	why="not root: no loop device"
elif ! command -v losetup >/dev/null || ! command -v mkfs.ext4 >/dev/null || ! command -v fsck.ext4 >/dev/null; then
	why="losetup, mkfs.ext4 or fsck.ext4 is not installed"
fi
[ -z "$why" ] || skip "$why (the FUSE parts passed)"

step "a loop device with direct I/O on $MNT/disk: ext4"
attach
LOOP=$(losetup --direct-io=on -f --show "$MNT/disk" 2>"$TT_WORK/losetup.err") ||
	skip "no loop device: $(cat "$TT_WORK/losetup.err") (the FUSE parts passed)"
losetup --list -n -O DIO "$LOOP" | grep -q 1 || fail "$LOOP does not use direct I/O"
tt_capture 120 mkfs.ext4 -q -F "$LOOP" || fail "mkfs.ext4 $LOOP: $OUT"
mkdir -p "$FS"
mount "$LOOP" "$FS" || fail "mount $LOOP"
for i in 1 2 3; do
	head -c $((3 << 20)) /dev/urandom >"$TT_WORK/file$i" || fail "random file"
	cp "$TT_WORK/file$i" "$FS/file$i" || fail "cp to ext4"
done
mkdir "$FS/dir" && echo hello >"$FS/dir/hello" || fail "mkdir on ext4"
umount "$FS" || fail "umount $FS"
tt_capture 120 fsck.ext4 -fn "$LOOP" || fail "fsck.ext4 -fn $LOOP (exit $?): $OUT"
mount "$LOOP" "$FS" || fail "mount $LOOP again"
for i in 1 2 3; do
	cmp "$TT_WORK/file$i" "$FS/file$i" || fail "file$i differs after the remount"
done
umount "$FS" || fail "umount $FS"
losetup -d "$LOOP" || fail "losetup -d $LOOP"
LOOP=""
ok "mkfs.ext4, 3 files and a directory, fsck -fn clean, files intact after a remount"
fusermount3 -u "$MNT" || fail "fusermount3 -u $MNT"
ended "fusermount3 -u"

tt_alive main
tt_stop main
echo "PASS"
