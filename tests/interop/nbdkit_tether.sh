#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# nbdkit_tether.sh - the nbdkit plugin (nbdkit-tether-plugin.so) serving a tetherd LUN reached
# through two paths, over NBD:
#   1. qemu-img convert of 64 MiB of random data to nbd://, qemu-img compare: identical, and
#      both paths carried I/O (tether paths on the plugin's control socket);
#   2. zeroing (qemu-io write -z, with and without unmap) reads back as zeroes; an unaligned
#      write (1000 bytes at 3000) and an unaligned zeroing (10000 bytes at 20000) are merged
#      into their blocks; a discard succeeds; everything else is unchanged (whole image
#      compared with the expected bytes);
#   3. a bad libtether option is refused by name at start.
# Under a sanitizer build the plugin runs with the sanitizer runtime preloaded into nbdkit.
#
# Exit: 0 pass, 77 skip (reason printed), 1 fail.
# Environment: TT_BUILD, TT_TOP (see tests/lib/common.sh).

# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
# shellcheck source=tests/lib/qemu_img.sh
. "$TT_LIB_DIR/qemu_img.sh"

tt_setup nbdkit-tether
PLUGIN=$TT_BUILD/src/cmd/nbdkit-tether-plugin.so
TETHER=$TT_BUILD/src/cmd/tether
[ -f "$PLUGIN" ] || skip "the plugin is not built ($PLUGIN)"
tt_need nbdkit qemu-img qemu-io "$TT_PYTHON"
qemu-img --help | grep -q '^Supported formats:.* nbd' || skip "qemu-img has no nbd driver"

# a sanitized plugin needs its runtime loaded first in (unsanitized) nbdkit
PRELOAD=""
for lib in asan ubsan; do
	if ldd "$PLUGIN" | grep -q "lib$lib"; then
		p=$(ldd "$PLUGIN" | sed -n "s/.*\(lib$lib\.so[.0-9]*\) => \([^ ]*\).*/\2/p" | head -1)
		[ -n "$p" ] && PRELOAD="$PRELOAD${PRELOAD:+:}$p"
	fi
done
NBD_ENV=()
[ -n "$PRELOAD" ] && NBD_ENV=(env LD_PRELOAD="$PRELOAD" ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0")

tt_free_port P1
tt_free_port P2
tt_free_port NP
tt_start main --portal "127.0.0.1:$P1" --portal "127.0.0.1:$P2" --lun ram:64M
U1=$(tt_url "$P1" 0)
U2=$(tt_url "$P2" 0)
NBD=nbd://127.0.0.1:$NP
SOCK=$TT_WORK/nbdkit.sock

step "a bad option is refused by name"
tt_capture 30 "${NBD_ENV[@]}" nbdkit -f -p "$NP" -i 127.0.0.1 "$PLUGIN" url="$U1" no_such_option=1
[ $? != 0 ] || fail "nbdkit started with no_such_option=1: $OUT"
tt_contains "no_such_option" "nbdkit with no_such_option=1"
ok "no_such_option is named"

step "nbdkit tether url=$U1 url=$U2"
"${NBD_ENV[@]}" nbdkit -f -v -p "$NP" -i 127.0.0.1 "$PLUGIN" url="$U1" url="$U2" \
	selector=round-robin control="$SOCK" >"$TT_WORK/nbdkit.log" 2>&1 &
NPID=$!
tt_bg $NPID
for i in $(seq 300); do
	tt_listening "$NP" && break
	kill -0 $NPID 2>/dev/null || fail "nbdkit exited: $(tail -20 "$TT_WORK/nbdkit.log")"
	sleep 0.1
done
tt_listening "$NP" || fail "nbdkit does not listen on $NP: $(tail -20 "$TT_WORK/nbdkit.log")"

F=$TT_WORK/data.img
qi_random "$F" 64
tt_capture 300 qemu-img convert -n -f raw "$F" -O raw "$NBD" || fail "qemu-img convert -> $NBD: $OUT"
tt_capture 300 qemu-img compare -f raw -F raw "$F" "$NBD" || fail "qemu-img compare: $OUT"
ok "64 MiB written and compared through NBD"
if [ -x "$TETHER" ]; then
	tt_capture 10 "$TETHER" paths --json "$SOCK" || fail "tether paths $SOCK: $OUT"
	printf '%s\n' "$OUT" >"$TT_WORK/paths.json"
	"$TT_PYTHON" - "$TT_WORK/paths.json" <<'EOF' || fail "the plugin's paths: $OUT"
import json, sys
j = json.load(open(sys.argv[1]))[0]
assert j["program"] == "nbdkit", j
live = [p for p in j["paths"] if p["state"] == "live"]
assert len(live) == 2, j
assert all(p["ios"] > 0 for p in j["paths"]), j
EOF
	ok "tether paths: 2 live paths, both carried I/O"
fi

step "zeroes, an unaligned write, a discard"
io() { tt_capture 60 qemu-io -f raw "$@" "$NBD" || fail "qemu-io $*: $OUT"
       ! printf '%s\n' "$OUT" | grep -qi 'error\|failed' || fail "qemu-io $*: $OUT"; }
io -c "write -z 1M 1M"
io -c "write -z -u 8M 2M"
io -c "write -P 0xab 3000 1000"
io -c "write -z 20000 10000"
io -c "read -P 0 1M 1M" -c "read -P 0 8M 2M" -c "read -P 0xab 3000 1000" -c "read -P 0 20000 10000"
io -c "discard 32M 1M"
"$TT_PYTHON" - "$F" <<'EOF' || fail "cannot build the expected image"
import sys
f = open(sys.argv[1], "r+b")
for off, ln, b in ((1 << 20, 1 << 20, 0), (8 << 20, 2 << 20, 0), (3000, 1000, 0xab),
                   (20000, 10000, 0)):
    f.seek(off); f.write(bytes([b]) * ln)
EOF
# the discarded MiB may read as anything: copy it from the image into the expected file
qemu-img convert -f raw "$NBD" -O raw "$TT_WORK/back.img" || fail "qemu-img convert $NBD -> file"
dd if="$TT_WORK/back.img" of="$F" bs=1M skip=32 seek=32 count=1 conv=notrunc status=none
cmp "$F" "$TT_WORK/back.img" || fail "the image differs from the expected bytes"
ok "zeroed ranges read as zeroes, unaligned write and zeroing merged, the rest unchanged"

kill -TERM $NPID
for i in $(seq 100); do kill -0 $NPID 2>/dev/null || break; sleep 0.1; done
wait $NPID
rc=$?
[ $rc = 0 ] || fail "nbdkit exited $rc after SIGTERM: $(tail -20 "$TT_WORK/nbdkit.log")"
! tt_log_has_report "$TT_WORK/nbdkit.log" || fail "sanitizer report: $(grep -A20 Sanitizer "$TT_WORK/nbdkit.log")"
[ ! -e "$SOCK" ] || fail "the control socket is left after nbdkit ended"
ok "nbdkit ended cleanly (exit 0), control socket removed"
tt_alive main
tt_stop main
echo "PASS"
