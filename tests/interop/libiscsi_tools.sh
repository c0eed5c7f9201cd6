#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# libiscsi_tools.sh - libiscsi's command-line tools against tetherd with two LUNs (64 MiB of
# 512-byte blocks, 16 MiB of 4096-byte blocks):
#   iscsi-ls -s             the target, its portal with TPGT 1, both LUNs with their sizes
#   iscsi-inq               vendor TETHER, direct-access device, SPC-4
#   iscsi-inq -e 1 -c 0     the supported VPD pages include 80h and 83h
#   iscsi-inq -e 1 -c 128   a unit serial number, different for each LUN
#   iscsi-inq -e 1 -c 131   designators: the target name, the target port, a T10 vendor ID with
#                           vendor TETHER and the serial, an NAA name
#   iscsi-readcapacity16    the last LBA and the block length of each LUN
#   a LUN that does not exist is refused.
#
# Exit: 0 pass, 77 skip (reason printed), 1 fail.
# Environment: TT_BUILD, TT_TOP (see tests/lib/common.sh).

# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"

tt_setup libiscsi-tools
tt_need iscsi-ls iscsi-inq iscsi-readcapacity16

tt_free_port P
SIZE0=$((64 << 20)) BS0=512
SIZE1=$((16 << 20)) BS1=4096
tt_start main --portal "127.0.0.1:$P" --lun ram:64M --lun ram:16M,bs=4096

step "iscsi-ls -s iscsi://127.0.0.1:$P"
tt_capture 30 iscsi-ls -s "iscsi://127.0.0.1:$P" || fail "iscsi-ls -s: exit $?: $OUT"
printf '%s\n' "$OUT" | sed 's/^/    | /'
tt_contains "Target:$TT_IQN Portal:127.0.0.1:$P,1" "iscsi-ls"
# iscsi-ls prints READ CAPACITY(10)'s last LBA times the block length (not LBA + 1),
# in units of 1024 rounded down.
tt_contains "Lun:0    Type:DIRECT_ACCESS (Size:$(((SIZE0 - BS0) >> 20))M)" "iscsi-ls, LUN 0"
tt_contains "Lun:1    Type:DIRECT_ACCESS (Size:$(((SIZE1 - BS1) >> 20))M)" "iscsi-ls, LUN 1"
[ "$(printf '%s\n' "$OUT" | grep -c '^Lun:')" = 2 ] || fail "iscsi-ls lists other than 2 LUNs"
[ "$(printf '%s\n' "$OUT" | grep -c '^Target:')" = 1 ] || fail "iscsi-ls lists other than 1 target portal"
ok "one target portal (TPGT 1), LUNs 0 and 1 with their sizes"

declare -A SERIAL
for lun in 0 1; do
	url=$(tt_url "$P" $lun)
	step "LUN $lun: iscsi-inq"
	tt_capture 30 iscsi-inq "$url" || fail "iscsi-inq $url: exit $?: $OUT"
	tt_contains "Peripheral Device Type:DIRECT_ACCESS" "standard INQUIRY of LUN $lun"
	tt_contains "Peripheral Qualifier:CONNECTED" "standard INQUIRY of LUN $lun"
	printf '%s\n' "$OUT" | grep -qE '^Vendor:TETHER +$' ||
		fail "standard INQUIRY of LUN $lun: vendor is not \"TETHER\" (8 characters, blank padded): $OUT"
	tt_contains "Version Descriptor:0460 SPC-4" "standard INQUIRY of LUN $lun"
	tt_contains "CmdQue:1" "standard INQUIRY of LUN $lun"
	ok "direct access, vendor TETHER, SPC-4, command queueing"

	step "LUN $lun: VPD pages"
	tt_capture 30 iscsi-inq -e 1 -c 0 "$url" || fail "iscsi-inq -e 1 -c 0: exit $?: $OUT"
	tt_contains "Page:0x80 UNIT_SERIAL_NUMBER" "supported VPD pages of LUN $lun"
	tt_contains "Page:0x83 DEVICE_IDENTIFICATION" "supported VPD pages of LUN $lun"

	tt_capture 30 iscsi-inq -e 1 -c 128 "$url" || fail "iscsi-inq -e 1 -c 128: exit $?: $OUT"
	SERIAL[$lun]=$(printf '%s\n' "$OUT" | sed -n 's/^Unit Serial Number:\[\(.*\)\]$/\1/p')
	[ -n "${SERIAL[$lun]}" ] || fail "no unit serial number for LUN $lun: $OUT"
	if ! [[ ${SERIAL[$lun]} =~ ^[[:graph:]]+$ ]]; then
		fail "the serial number of LUN $lun is not printable ASCII without blanks: \"${SERIAL[$lun]}\""
	fi
	ok "serial number ${SERIAL[$lun]}"

	tt_capture 30 iscsi-inq -e 1 -c 131 "$url" || fail "iscsi-inq -e 1 -c 131: exit $?: $OUT"
	tt_contains "Page Code:(0x83) DEVICE_IDENTIFICATION" "device identification of LUN $lun"
	tt_contains "Designator:[$TT_IQN]" "device identification of LUN $lun (target name)"
	tt_contains "Designator:[$TT_IQN,t,0x0001]" "device identification of LUN $lun (target port)"
	tt_contains "Designator Type:(3) NAA" "device identification of LUN $lun"
	tt_contains "Designator Type:(4) RELATIVE_TARGET_PORT" "device identification of LUN $lun"
	printf '%s\n' "$OUT" | grep -qE "^Designator:\[TETHER +${SERIAL[$lun]}\]$" ||
		fail "device identification of LUN $lun: no T10 vendor ID \"TETHER   ${SERIAL[$lun]}\": $OUT"
	ok "designators: target name, target port, relative port, T10 vendor ID, NAA"
done
[ "${SERIAL[0]}" != "${SERIAL[1]}" ] || fail "LUNs 0 and 1 have the same serial number ${SERIAL[0]}"
ok "the serial numbers differ"

check_rc16() { # LUN SIZE BS
	local url
	url=$(tt_url "$P" "$1")
	step "LUN $1: iscsi-readcapacity16"
	tt_capture 30 iscsi-readcapacity16 "$url" || fail "iscsi-readcapacity16 $url: exit $?: $OUT"
	tt_contains "RETURNED LOGICAL BLOCK ADDRESS:$(($2 / $3 - 1))" "READ CAPACITY(16) of LUN $1"
	tt_contains "LOGICAL BLOCK LENGTH IN BYTES:$3" "READ CAPACITY(16) of LUN $1"
	tt_contains "Total size:$2" "READ CAPACITY(16) of LUN $1"
	tt_capture 30 iscsi-readcapacity16 -s "$url" || fail "iscsi-readcapacity16 -s: exit $?: $OUT"
	[ "$OUT" = "$2" ] || fail "iscsi-readcapacity16 -s of LUN $1: \"$OUT\", expected $2"
	ok "last LBA $(($2 / $3 - 1)), blocks of $3 bytes, $2 bytes"
}
check_rc16 0 $SIZE0 $BS0
check_rc16 1 $SIZE1 $BS1

step "a LUN that does not exist"
if tt_capture 30 iscsi-readcapacity16 "$(tt_url "$P" 5)"; then
	fail "READ CAPACITY(16) of LUN 5 (not configured) succeeded: $OUT"
fi
ok "refused: $(printf '%s\n' "$OUT" | head -n 1)"
tt_inq_ok "$P" "LUN 5"

step "stop"
tt_stop main
echo "PASS"
