#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# qemu_img_file.sh - 64 MiB of random data through qemu-img's iSCSI driver to a file: LUN
# (created by tetherd), then:
#   compare: identical; SIGTERM: tetherd exits 0 and the backing file holds exactly the data
#   (cmp); tetherd started again on the same file (without create, size from the file):
#   compare: identical; 1 MiB changed locally: compare sees it at that offset;
# and the same with O_DIRECT (direct) in /var/tmp (tmpfs refuses O_DIRECT), when the file
# system there accepts O_DIRECT.
#
# Exit: 0 pass, 77 skip (reason printed), 1 fail.
# Environment: TT_BUILD, TT_TOP (see tests/lib/common.sh).

# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
# shellcheck source=tests/lib/qemu_img.sh
. "$TT_LIB_DIR/qemu_img.sh"

tt_setup qemu-img-file
qi_need

F=$TT_WORK/data.img
qi_random "$F" 64

# round DIR OPTIONS: one life cycle of a file: LUN in DIR
round() {
	local opts=$2 disk=$1/disk.img
	tt_free_port P
	URL=$(tt_url "$P" 0)

	step "file:$disk,size=64M,create$opts: write 64 MiB, compare"
	tt_start main --portal "127.0.0.1:$P" --lun "file:$disk,size=64M,create$opts"
	[ "$(stat -c %s "$disk")" = $((64 << 20)) ] ||
		fail "tetherd did not create $disk with 64 MiB: $(stat -c %s "$disk" 2>&1)"
	ok "tetherd created $disk (64 MiB)"
	qi_put "$F" "$URL"
	qi_same "$F" "$URL" "compare with the file LUN"

	step "SIGTERM, then the backing file itself"
	tt_stop main
	cmp "$F" "$disk" || fail "after tetherd stopped, $disk does not hold the data written"
	ok "$disk holds exactly the 64 MiB written"

	step "tetherd again on the same file (no create, size from the file)"
	tt_start main --portal "127.0.0.1:$P" --lun "file:$disk$opts"
	qi_same "$F" "$URL" "compare after the restart"
	tt_capture 30 iscsi-readcapacity16 -s "$URL" 2>/dev/null &&
		{ [ "$OUT" = $((64 << 20)) ] || fail "the restarted LUN has $OUT bytes, expected 64 MiB"; }

	step "change 1 MiB locally: compare must see it"
	cp "$F" "$TT_WORK/changed.img"
	qi_flip "$TT_WORK/changed.img" 40
	qi_differs_at "$TT_WORK/changed.img" "$URL" $((40 << 20))
	rm -f "$TT_WORK/changed.img"

	tt_alive main
	tt_stop main
	cmp "$F" "$disk" || fail "$disk changed although nothing was written"
	rm -f "$disk"
}

round "$TT_WORK" ""

# O_DIRECT: not on tmpfs; /var/tmp is normally on a disk.
DIRECT_DIR=$(mktemp -d /var/tmp/tt-qemu-img-direct.XXXXXX) || fail "mktemp in /var/tmp failed"
tt_at_exit "rm -rf '$DIRECT_DIR'"
if dd if=/dev/zero of="$DIRECT_DIR/probe" bs=4096 count=1 oflag=direct status=none 2>/dev/null; then
	rm -f "$DIRECT_DIR/probe"
	round "$DIRECT_DIR" ",direct"
else
	echo "    (O_DIRECT is refused in /var/tmp ($(stat -f -c %T /var/tmp)): the direct round is left out)"
fi

echo "PASS"
