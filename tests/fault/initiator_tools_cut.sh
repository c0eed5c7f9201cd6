#!/usr/bin/env bash
# shellcheck disable=SC2034 # the FP_* settings are read by lib/paths.sh
# SPDX-License-Identifier: BSD-3-Clause
#
# initiator_tools_cut.sh - the programs built on libtether keep their data through a silent cut
# of one of two paths, against tetherd and against tgtd (Debian's tgt), each target in its own
# network namespace with two veth links to the initiator's (tests/fault/lib/paths.sh):
#   nbdkit  nbdkit-tether-plugin.so (selector=round-robin, url= for both paths) on a unix
#           socket in the initiator's namespace; qemu-img convert of 64 MiB of random data into
#           it, rate-limited so that it lasts a few seconds; path 1 cut silently (nft drop both
#           ways, no RST) once the convert reports half of it done. The convert exits 0 without
#           an error; qemu-img compare through NBD finds the image identical, and so does cmp of
#           the LUN's backing file; the cut is lifted, path 1 comes back and carries the reads of
#           a second compare; nbdkit ends with exit 0 on SIGTERM.
#   attach  tether attach (two paths, round-robin) in the initiator's namespace, a loop device
#           with direct I/O on MOUNTPOINT/disk, ext4 on it, 20 MiB of random files written; then
#           10 more files of 2 MiB each written with O_DIRECT and fsync, path 1 cut silently after
#           the third. The writer exits 0; after sync and umount, fsck.ext4 -fn is clean; after
#           a remount every file's sha256 matches; the cut is lifted and path 1 carries I/O
#           again; fusermount3 -u ends tether attach with exit 0; fsck of the LUN's backing file
#           is clean too.
# In both, path 1 must be seen leaving the live state after the cut (else the cut hit nothing).
# Times are printed as FIGURE lines (<kind>_<part>_{detect,back,run}_ms), never asserted.
#
# Exit: 0 pass, 77 skip (reason printed: not root, no namespace or nft, no nbdkit, qemu-img,
# tether, plugin, tgtd), 1 fail. The attach part is skipped (reason printed, the test still
# passes on the nbdkit part) without /dev/fuse, fusermount3, losetup, mkfs.ext4 or a loop device.
# Environment: TT_BUILD, TT_TOP (tests/lib/common.sh); FP_KINDS (default "tetherd tgtd");
# TC_PARTS (default "nbdkit attach").

FP_SIZE=128M
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/paths.sh"

fp_setup itcut
fp_need_tether
tt_need tgtd tgtadm iscsi-inq iscsi-ls nbdkit qemu-img cmp sha256sum
PLUGIN=$TT_BUILD/src/cmd/nbdkit-tether-plugin.so
[ -f "$PLUGIN" ] || skip "the nbdkit plugin is not built ($PLUGIN)"
qemu-img --help | grep -q '^Supported formats:.* nbd' || skip "qemu-img has no nbd driver"

# a sanitized plugin needs its runtime loaded first in (unsanitized) nbdkit
PRELOAD=""
for lib in asan ubsan; do
	p=$(ldd "$PLUGIN" | sed -n "s/.*\(lib$lib\.so[.0-9]*\) => \([^ ]*\).*/\2/p" | head -1)
	[ -n "$p" ] && PRELOAD="$PRELOAD${PRELOAD:+:}$p"
done
NBD_ENV=()
[ -n "$PRELOAD" ] && NBD_ENV=(env LD_PRELOAD="$PRELOAD" ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0")

MNT=$TT_WORK/mnt
FS=$TT_WORK/fs
LOOP='' APID='' NPID='' WPID='' CPID=''
mkdir -p "$MNT" "$FS" "$TT_WORK/src"

# Before common.sh's clean-up (which stops tetherd first): the cut lifted, the file system,
# the loop device and the FUSE mount gone, nbdkit and tether attach ended.
tc_cleanup() {
	local p
	for p in $WPID $CPID; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	[ -n "$FT_NST" ] && fp_uncut 1
	if mountpoint -q "$FS"; then umount "$FS" 2>/dev/null || umount -l "$FS"; fi
	[ -n "$LOOP" ] && losetup -d "$LOOP"
	if mountpoint -q "$MNT"; then fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -u -z "$MNT"; fi
	for p in $APID $NPID; do
		kill -TERM "$p" 2>/dev/null || continue
		ft_wait_exit "$p" 10
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	LOOP='' APID='' NPID='' WPID='' CPID=''
}
# shellcheck disable=SC2154 # tc_rc is set by the trap itself
trap 'tc_rc=$?; tc_cleanup; (exit $tc_rc); tt_cleanup' EXIT

# tc_state NAME N: the state word of path N of the program whose control socket is
# $TT_WORK/NAME.ctl; tc_ios NAME N: its I/O count.
tc_state() { local s; s=$(fp_path_stat "$1" "$2"); echo "${s%% *}"; }
tc_ios() { local s; s=$(fp_path_stat "$1" "$2"); echo "${s#* }"; }

# tc_wait_both_live NAME SECONDS: both paths of NAME live.
tc_wait_both_live() {
	local i
	for i in $(seq $(($2 * 10))); do
		[ "$(tc_state "$1" 1)" = live ] && [ "$(tc_state "$1" 2)" = live ] && return 0
		sleep 0.1
	done
	fail "$1: both paths not live after $2 s: $(fp_paths_out "$1")"
}

# tc_wait_state NAME N live|gone SECONDS: waits until path N is (live) or is not (gone) live;
# prints the milliseconds it took; returns 1 after SECONDS (prints the state).
tc_wait_state() {
	local t0 st
	t0=$(ft_now_ms)
	while :; do
		st=$(tc_state "$1" "$2")
		if { [ "$3" = live ] && [ "$st" = live ]; } ||
			{ [ "$3" = gone ] && [ "$st" != live ] && [ "$st" != '?' ]; }; then
			echo $(($(ft_now_ms) - t0))
			return 0
		fi
		[ $(($(ft_now_ms) - t0)) -ge $(($4 * 1000)) ] && { echo "$st"; return 1; }
		sleep 0.05
	done
}

# tc_end PID WHAT LOG: sends SIGTERM unless WHAT is "unmounted"; PID must end within 20 s with
# exit 0 and no sanitizer report in LOG.
tc_end() {
	local rc
	[ "$2" = unmounted ] || kill -TERM "$1"
	ft_wait_exit "$1" 20
	kill -0 "$1" 2>/dev/null && fail "$2: still running 20 s after it was asked to end"
	wait "$1"
	rc=$?
	[ "$rc" = 0 ] || fail "$2: exit status $rc: $(tail -n 20 "$3")"
	! tt_log_has_report "$3" || fail "$2: sanitizer report: $(grep -A30 -m1 'Sanitizer\|runtime error' "$3")"
}

# --- nbdkit ------------------------------------------------------------------------------

SRC=$TT_WORK/src/data.img
qi_ok=0
part_nbdkit() { # KIND
	local kind=$1 n=nbd-$1 sock=$TT_WORK/nbd-$1.sock url pct='' i t0 detect rc ios1 ios2 back
	step "$kind: nbdkit plugin, qemu-img convert of 64 MiB, path 1 cut half-way"
	[ $qi_ok = 1 ] || { head -c $((64 << 20)) /dev/urandom >"$SRC" || fail "random data"; qi_ok=1; }
	rm -f "$TT_WORK/$n.ctl" "$sock"
	# not ft_i: $! must be nbdkit itself (ip netns exec execs it), not a subshell
	ip netns exec "$FT_NSI" "${NBD_ENV[@]}" nbdkit -f -U "$sock" "$PLUGIN" url="$(fp_url "$kind" 1)" \
		url="$(fp_url "$kind" 2)" selector=round-robin control="$TT_WORK/$n.ctl" \
		>"$TT_WORK/$n.log" 2>&1 &
	NPID=$!
	for i in $(seq 300); do
		[ -S "$sock" ] && [ -S "$TT_WORK/$n.ctl" ] && break
		kill -0 "$NPID" 2>/dev/null || fail "$kind: nbdkit exited: $(tail -n 20 "$TT_WORK/$n.log")"
		sleep 0.1
	done
	[ -S "$sock" ] || fail "$kind: nbdkit has no socket after 30 s: $(tail -n 20 "$TT_WORK/$n.log")"
	tc_wait_both_live "$n" 20
	url="nbd+unix:///?socket=$sock"

	# -r: 32 MiB/s at most, so that the convert lasts about 2 s and the cut falls inside it
	t0=$(ft_now_ms)
	qemu-img convert -p -n -r 32M -f raw "$SRC" -O raw "$url" >"$TT_WORK/$n.convert" \
		2>"$TT_WORK/$n.convert.err" &
	CPID=$!
	while kill -0 "$CPID" 2>/dev/null; do
		pct=$(tr '\r' '\n' <"$TT_WORK/$n.convert" | grep -oE '[0-9]+\.[0-9]+/100' | tail -n 1)
		pct=${pct%%.*}
		[ -n "$pct" ] && [ "$pct" -ge 50 ] && break
		sleep 0.02
	done
	kill -0 "$CPID" 2>/dev/null || fail "$kind: the convert ended before the cut (at ${pct:-?} %)"
	fp_cut 1
	ios1=$(tc_ios "$n" 1)
	ios2=$(tc_ios "$n" 2)
	echo "    path 1 cut at ${pct} % of the convert (path 1: $ios1 I/Os, path 2: $ios2)"
	detect=$(tc_wait_state "$n" 1 gone 20) ||
		fail "$kind: path 1 still '$detect' 20 s after the cut: $(fp_paths_out "$n")"
	ft_figure "${kind}_nbdkit_detect_ms" "$detect"
	ft_wait_exit "$CPID" 120
	kill -0 "$CPID" 2>/dev/null && fail "$kind: qemu-img convert still runs 120 s after the cut"
	wait "$CPID"
	rc=$?
	CPID=''
	ft_figure "${kind}_nbdkit_convert_ms" $(($(ft_now_ms) - t0))
	[ "$rc" = 0 ] || fail "$kind: qemu-img convert exited $rc: $(cat "$TT_WORK/$n.convert.err")"
	[ ! -s "$TT_WORK/$n.convert.err" ] ||
		fail "$kind: qemu-img convert reported: $(cat "$TT_WORK/$n.convert.err")"
	[ "$(tc_ios "$n" 2)" -gt "$ios2" ] || fail "$kind: path 2 carried no I/O after the cut: $(fp_paths_out "$n")"
	ok "$kind: convert exited 0, path 1 left the live state $detect ms after the cut, path 2 carried the rest"
	tt_capture 120 qemu-img compare -f raw -F raw "$SRC" "$url" ||
		fail "$kind: qemu-img compare through NBD (path 1 cut): $OUT"
	cmp -n $((64 << 20)) "$SRC" "$TT_WORK/$kind.img" ||
		fail "$kind: the LUN's backing file differs from the source"
	ok "$kind: identical through NBD and in the LUN's backing file"

	fp_uncut 1
	back=$(tc_wait_state "$n" 1 live 30) ||
		fail "$kind: path 1 not live 30 s after the cut was lifted ($back): $(fp_paths_out "$n")"
	ft_figure "${kind}_nbdkit_back_ms" "$back"
	ios1=$(tc_ios "$n" 1)
	tt_capture 120 qemu-img compare -f raw -F raw "$SRC" "$url" ||
		fail "$kind: qemu-img compare through NBD (both paths): $OUT"
	[ "$(tc_ios "$n" 1)" -gt "$ios1" ] || fail "$kind: path 1 carried no I/O after the repair: $(fp_paths_out "$n")"
	ok "$kind: path 1 live again $back ms after the repair, carries I/O, image identical"
	tc_end "$NPID" "$kind: nbdkit" "$TT_WORK/$n.log"
	NPID=''
	ok "$kind: nbdkit ended with exit 0"
}

# --- tether attach -----------------------------------------------------------------------

ATTACH_SKIP=''
if [ ! -c /dev/fuse ]; then
	ATTACH_SKIP="no /dev/fuse"
else
	for p in fusermount3 losetup mkfs.ext4 fsck.ext4 mountpoint nsenter; do
		command -v "$p" >/dev/null 2>&1 || { ATTACH_SKIP="$p is not installed"; break; }
	done
fi
[ -n "$ATTACH_SKIP" ] || [ -e "/var/run/netns/$FT_NSI" ] ||
	ATTACH_SKIP="no /var/run/netns/$FT_NSI to enter"

# tc_unmount KIND: fusermount3 -u MNT; a loop device just detached lets go of MNT/disk a moment
# later (busy until then): retried for up to 5 s.
tc_unmount() {
	local i err
	for i in $(seq 50); do
		err=$(fusermount3 -u "$MNT" 2>&1) && return 0
		sleep 0.1
	done
	fail "$1: fusermount3 -u $MNT: $err"
}

# the files of the two batches and their checksums, made once
make_files() {
	[ -s "$TT_WORK/src/SHA256SUMS" ] && return 0
	local i
	for i in 1 2 3 4 5; do head -c $((4 << 20)) /dev/urandom >"$TT_WORK/src/a$i"; done
	for i in $(seq 10); do head -c $((2 << 20)) /dev/urandom >"$TT_WORK/src/b$i"; done
	(cd "$TT_WORK/src" && sha256sum a* b* >SHA256SUMS) || fail "sha256sum of the source files"
}

part_attach() { # KIND
	local kind=$1 n=att-$1 i t0 detect rc back ios1 wn=''
	step "$kind: tether attach, ext4 on a loop device, path 1 cut while writing"
	make_files
	rm -f "$TT_WORK/$n.ctl"
	# nsenter: the initiator's network namespace only; the FUSE mount must be seen here
	nsenter --net="/var/run/netns/$FT_NSI" "$TETHER" attach -o selector=round-robin \
		--control "$TT_WORK/$n.ctl" "$MNT" "$(fp_url "$kind" 1)" "$(fp_url "$kind" 2)" \
		>"$TT_WORK/$n.log" 2>&1 &
	APID=$!
	for i in $(seq 300); do
		[ -f "$MNT/disk" ] && break
		kill -0 "$APID" 2>/dev/null || fail "$kind: tether attach exited: $(tail -n 20 "$TT_WORK/$n.log")"
		sleep 0.1
	done
	[ -f "$MNT/disk" ] || fail "$kind: no $MNT/disk after 30 s: $(tail -n 20 "$TT_WORK/$n.log")"
	tc_wait_both_live "$n" 20
	if ! LOOP=$(losetup --direct-io=on -f --show "$MNT/disk" 2>"$TT_WORK/losetup.err"); then
		LOOP=''
		ATTACH_SKIP="no loop device: $(cat "$TT_WORK/losetup.err")"
		tc_unmount "$kind"
		tc_end "$APID" unmounted "$TT_WORK/$n.log"
		APID=''
		echo "    skipped: $kind attach part: $ATTACH_SKIP"
		return 0
	fi
	losetup --list -n -O DIO "$LOOP" | grep -q 1 || fail "$kind: $LOOP does not use direct I/O"
	tt_capture 120 mkfs.ext4 -q -F "$LOOP" || fail "$kind: mkfs.ext4 $LOOP: $OUT"
	mount "$LOOP" "$FS" || fail "$kind: mount $LOOP"
	for i in 1 2 3 4 5; do cp "$TT_WORK/src/a$i" "$FS/" || fail "$kind: cp a$i"; done
	sync -f "$FS" || fail "$kind: sync"
	ok "$kind: ext4 on $LOOP, 20 MiB written"

	# the second batch with O_DIRECT and fsync, one file after the other
	rm -f "$TT_WORK/written"
	t0=$(ft_now_ms)
	(
		for i in $(seq 10); do
			dd if="$TT_WORK/src/b$i" of="$FS/b$i" bs=1M oflag=direct conv=fsync status=none ||
				exit 1
			echo "$i" >"$TT_WORK/written"
		done
	) 2>"$TT_WORK/writer.err" &
	WPID=$!
	while kill -0 "$WPID" 2>/dev/null; do
		wn=$(cat "$TT_WORK/written" 2>/dev/null)
		[ -n "$wn" ] && [ "$wn" -ge 3 ] && break
		sleep 0.02
	done
	kill -0 "$WPID" 2>/dev/null || fail "$kind: the writer ended before the cut ($wn files written)"
	fp_cut 1
	echo "    path 1 cut after $wn of 10 files (path 1: $(tc_ios "$n" 1) I/Os, path 2: $(tc_ios "$n" 2))"
	detect=$(tc_wait_state "$n" 1 gone 20) ||
		fail "$kind: path 1 still '$detect' 20 s after the cut: $(fp_paths_out "$n")"
	ft_figure "${kind}_attach_detect_ms" "$detect"
	ft_wait_exit "$WPID" 120
	kill -0 "$WPID" 2>/dev/null && fail "$kind: the writer still runs 120 s after the cut"
	wait "$WPID"
	rc=$?
	WPID=''
	ft_figure "${kind}_attach_run_ms" $(($(ft_now_ms) - t0))
	[ "$rc" = 0 ] || fail "$kind: writing on ext4 failed after the cut: $(cat "$TT_WORK/writer.err")"
	sync -f "$FS" || fail "$kind: sync after the cut"
	umount "$FS" || fail "$kind: umount $FS"
	tt_capture 120 fsck.ext4 -fn "$LOOP" || fail "$kind: fsck.ext4 -fn $LOOP (exit $?): $OUT"
	mount "$LOOP" "$FS" || fail "$kind: mount $LOOP again"
	OUT=$(cd "$FS" && sha256sum --quiet -c "$TT_WORK/src/SHA256SUMS" 2>&1) ||
		fail "$kind: checksums after the remount: $OUT"
	ok "$kind: writes went on through the cut (path 1 left the live state after $detect ms), fsck clean, 15 files intact"

	fp_uncut 1
	back=$(tc_wait_state "$n" 1 live 30) ||
		fail "$kind: path 1 not live 30 s after the cut was lifted ($back): $(fp_paths_out "$n")"
	ft_figure "${kind}_attach_back_ms" "$back"
	ios1=$(tc_ios "$n" 1)
	dd if="$LOOP" of=/dev/null bs=1M iflag=direct status=none || fail "$kind: reading $LOOP"
	[ "$(tc_ios "$n" 1)" -gt "$ios1" ] || fail "$kind: path 1 carried no I/O after the repair: $(fp_paths_out "$n")"
	ok "$kind: path 1 live again $back ms after the repair and carries I/O"
	umount "$FS" || fail "$kind: umount $FS"
	losetup -d "$LOOP" || fail "$kind: losetup -d $LOOP"
	LOOP=''
	tc_unmount "$kind"
	tc_end "$APID" unmounted "$TT_WORK/$n.log"
	APID=''
	tt_capture 120 fsck.ext4 -fn "$TT_WORK/$kind.img" ||
		fail "$kind: fsck.ext4 -fn of the LUN's backing file (exit $?): $OUT"
	ok "$kind: tether attach ended with exit 0; the LUN's backing file is a clean ext4"
}

ran=''
for kind in ${FP_KINDS:-tetherd tgtd}; do
	fp_start "$kind"
	fp_check_paths "$kind"
	for part in ${TC_PARTS:-nbdkit attach}; do
		case $part in
		nbdkit) part_nbdkit "$kind"; ran="$ran $kind/nbdkit" ;;
		attach)
			if [ -n "$ATTACH_SKIP" ]; then
				echo "    skipped: $kind attach part: $ATTACH_SKIP"
				continue
			fi
			part_attach "$kind"
			[ -n "$ATTACH_SKIP" ] || ran="$ran $kind/attach"
			;;
		*) fail "unknown part '$part'" ;;
		esac
	done
	fp_stop "$kind"
done
[ -n "$ran" ] || skip "nothing could run: $ATTACH_SKIP"
echo "PASS: the nbdkit plugin and tether attach through a silent path cut:$ran${ATTACH_SKIP:+ (attach skipped: $ATTACH_SKIP)}"
