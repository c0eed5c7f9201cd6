#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# qemu_img_ram.sh - 64 MiB of random data through qemu-img's iSCSI driver to a ram: LUN:
#   convert -n FILE -> iscsi://.../0, then compare: identical; convert back to a second file:
#   the same bytes (cmp); then invert 1 MiB in the middle of the local file: compare reports a
#   difference at exactly that offset; a 4096-byte-block LUN gets the same treatment.
#
# Exit: 0 pass, 77 skip (reason printed), 1 fail.
# Environment: TT_BUILD, TT_TOP (see tests/lib/common.sh).

# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
# shellcheck source=tests/lib/qemu_img.sh
. "$TT_LIB_DIR/qemu_img.sh"

tt_setup qemu-img-ram
qi_need

tt_free_port P
tt_start main --portal "127.0.0.1:$P" --lun ram:64M --lun ram:16M,bs=4096
F=$TT_WORK/data.img

step "LUN 0 (512-byte blocks): write 64 MiB of random data, compare"
qi_random "$F" 64
qi_put "$F" "$(tt_url "$P" 0)"
qi_same "$F" "$(tt_url "$P" 0)" "compare with LUN 0"
qi_get "$(tt_url "$P" 0)" "$TT_WORK/back.img"
cmp "$F" "$TT_WORK/back.img" || fail "the 64 MiB read back from LUN 0 differ from what was written"
ok "read back: the same 64 MiB (cmp)"
rm -f "$TT_WORK/back.img"

step "change 1 MiB in the middle of the local file: compare must see it"
qi_flip "$F" 32
qi_differs_at "$F" "$(tt_url "$P" 0)" $((32 << 20))

step "LUN 1 (4096-byte blocks): 16 MiB"
qi_random "$F" 16
qi_put "$F" "$(tt_url "$P" 1)"
qi_same "$F" "$(tt_url "$P" 1)" "compare with LUN 1"
qi_flip "$F" 15
qi_differs_at "$F" "$(tt_url "$P" 1)" $((15 << 20))

tt_alive main
step "stop"
tt_stop main
echo "PASS"
