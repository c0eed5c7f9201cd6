# SPDX-License-Identifier: BSD-3-Clause
#
# qemu_img.sh - data checks through qemu-img's iSCSI driver (libiscsi). Source after common.sh.
#
#   qi_need                        skips unless qemu-img has the iscsi protocol
#   qi_random FILE MIB             MIB MiB of random data
#   qi_put FILE URL                qemu-img convert -n -O raw FILE URL (writes the LUN)
#   qi_same FILE URL WHAT          qemu-img compare: identical, else fail
#   qi_differs_at FILE URL OFFSET  qemu-img compare: a difference, first at byte OFFSET
#   qi_get URL FILE                qemu-img convert URL -> FILE (reads the LUN)
#   qi_flip FILE MIB_OFFSET        inverts every byte of 1 MiB of FILE at MIB_OFFSET MiB
# Each fails the test on a qemu-img error, including SCSI errors it reports and works around.
# URL may be a libiscsi URL or, with QI_IMAGE_OPTS=1, a --image-opts string.

qi_need() {
	tt_need qemu-img
	qemu-img --help 2>/dev/null | grep -q '^Supported formats:.* iscsi' ||
		skip "qemu-img has no iscsi protocol driver"
}

qi_opts() { # FORMAT-OPTION URL -> the arguments naming URL for qemu-img
	if [ "${QI_IMAGE_OPTS:-0}" = 1 ]; then
		echo "--image-opts"
		echo "$2"
	else
		echo "$1"
		echo raw
		echo "$2"
	fi
}

qi_random() {
	head -c "$(($2 << 20))" /dev/urandom >"$1" || fail "cannot write $1"
}

qi_put() {
	local t0=$SECONDS args
	if [ "${QI_IMAGE_OPTS:-0}" = 1 ]; then
		args=(--target-image-opts "$2")
	else
		args=(-O raw "$2")
	fi
	tt_capture 300 qemu-img convert -n -f raw "$1" "${args[@]}" ||
		fail "qemu-img convert -n $1 -> $2: exit $?: $OUT"
	qi_no_errors "qemu-img convert -n $1 -> $2"
	ok "qemu-img convert wrote $(($(stat -c %s "$1") >> 20)) MiB to $2 ($((SECONDS - t0)) s)"
}

qi_get() {
	local t0=$SECONDS
	if [ "${QI_IMAGE_OPTS:-0}" = 1 ]; then
		tt_capture 300 qemu-img convert --image-opts "$1" -O raw "$2"
	else
		tt_capture 300 qemu-img convert -f raw "$1" -O raw "$2"
	fi || fail "qemu-img convert $1 -> $2: exit $?: $OUT"
	qi_no_errors "qemu-img convert $1 -> $2"
	ok "qemu-img convert read $1 into $2 ($((SECONDS - t0)) s)"
}

qi_compare() { # FILE URL: $OUT, returns qemu-img compare's status
	if [ "${QI_IMAGE_OPTS:-0}" = 1 ]; then
		# with --image-opts both images are option strings
		tt_capture 300 qemu-img compare --image-opts "driver=raw,file.driver=file,file.filename=$1" "$2"
	else
		tt_capture 300 qemu-img compare -f raw -F raw "$1" "$2"
	fi
}

qi_same() {
	local rc
	qi_compare "$1" "$2"
	rc=$?
	[ $rc = 0 ] || fail "${3:-qemu-img compare}: $1 and $2 differ (exit $rc): $OUT"
	qi_no_errors "${3:-qemu-img compare}"
	ok "${3:-qemu-img compare}: identical"
}

qi_differs_at() {
	local rc
	qi_compare "$1" "$2"
	rc=$?
	[ $rc = 1 ] || fail "qemu-img compare after changing $1: exit $rc, expected 1 (a difference): $OUT"
	tt_contains "Content mismatch at offset $3!" "qemu-img compare after changing $1"
	qi_no_errors "qemu-img compare after changing $1"
	ok "qemu-img compare: differs, first at offset $3"
}

qi_flip() {
	local chunk=$TT_WORK/qi-flip.$$
	if ! dd if="$1" of="$chunk" bs=1M skip="$2" count=1 status=none ||
		! perl -0777 -pi -e '$_ = ~$_' "$chunk" ||
		[ "$(stat -c %s "$chunk")" != 1048576 ] ||
		! dd if="$chunk" of="$1" bs=1M seek="$2" count=1 conv=notrunc status=none; then
		fail "cannot change $1"
	fi
	rm -f "$chunk"
}

# qemu-img goes on after some SCSI errors (it prints them and falls back): none is allowed.
qi_no_errors() {
	if printf '%s\n' "$OUT" | grep -q 'iSCSI.*failed\|SENSE KEY'; then
		fail "$1: qemu-img reports a SCSI error: $OUT"
	fi
}
