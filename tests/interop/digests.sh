#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# digests.sh - CRC32C digests. Initiators reach tetherd through tests/tools/tap.py, a relay
# that logs the digests negotiated and checks every header and data digest on the wire.
#   qemu-img (libiscsi) with header-digest=crc32c: convert 8 MiB, compare (identical), then
#     a changed copy (a difference at the right offset); the relay sees HeaderDigest=CRC32C
#     on every connection and only correct digests.
#   iscsi-inq with ?header_digest=crc32c works. (libiscsi's tools replace the URL's choice
#     by "None,CRC32C" after parsing it, so the target rightly answers None: the relay must
#     see None there.)
#   tests/tools/digests.py: the target's answers to digest lists; INQUIRY, ping and a 1 MiB
#     write/read with header and data digests; a bad data digest on a NOP-Out (Reject 0x02,
#     the connection goes on) and on a Data-Out (Reject 0x02, then no GOOD); a bad header
#     digest (connection closed).
# libiscsi never offers DataDigest=CRC32C: data digests are covered by digests.py only.
#
# Exit: 0 pass, 77 skip (reason printed), 1 fail.
# Environment: TT_BUILD, TT_TOP (see tests/lib/common.sh).

# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
# shellcheck source=tests/lib/qemu_img.sh
. "$TT_LIB_DIR/qemu_img.sh"

tt_setup digests
tt_need "$TT_PYTHON" iscsi-inq
qi_need

tt_free_port P
tt_free_port PT
tt_start main --portal "127.0.0.1:$P" --lun ram:8M
TAPLOG=$TT_WORK/tap.log
: >"$TAPLOG"
"$TT_PYTHON" "$TT_TOOLS/tap.py" --listen "$PT" --to "127.0.0.1:$P" --log "$TAPLOG" &
tt_bg $!
for _ in $(seq 50); do tt_listening "$PT" && break; sleep 0.1; done
tt_listening "$PT" || fail "the relay does not listen on $PT"

# tap_wait N: waits until the relay has logged the end of N connections (2 lines each)
tap_wait() {
	for _ in $(seq 50); do
		[ "$(grep -c ' [it]->[it] ' "$TAPLOG")" -ge $(($1 * 2)) ] && return 0
		sleep 0.1
	done
	fail "the relay logged $(grep -c ' [it]->[it] ' "$TAPLOG") of $(($1 * 2)) connection ends: $(cat "$TAPLOG")"
}
tap_clean() {
	! grep -q ERROR "$TAPLOG" || fail "the relay saw errors: $(grep ERROR "$TAPLOG")"
}
conns=0

step "qemu-img with header-digest=crc32c: 8 MiB convert and compare"
F=$TT_WORK/data.img
qi_random "$F" 8
OPTS="driver=iscsi,transport=tcp,portal=127.0.0.1:$PT,target=$TT_IQN,lun=0,header-digest=crc32c"
export QI_IMAGE_OPTS=1
qi_put "$F" "$OPTS"
qi_same "$F" "$OPTS" "compare with header digests"
cp "$F" "$TT_WORK/changed.img"
qi_flip "$TT_WORK/changed.img" 5
qi_differs_at "$TT_WORK/changed.img" "$OPTS" $((5 << 20))
unset QI_IMAGE_OPTS
conns=3
tap_wait $conns
tap_clean
n=$(grep -c 'keys HeaderDigest=CRC32C ' "$TAPLOG")
[ "$n" = 3 ] || fail "HeaderDigest=CRC32C on $n of the 3 qemu-img connections: $(cat "$TAPLOG")"
ok "the relay: HeaderDigest=CRC32C on the 3 qemu-img connections"
hd=$(grep -o 'header digests [0-9]* ok' "$TAPLOG" | awk '{s += $3} END {print s + 0}')
[ "$hd" -gt 100 ] || fail "only $hd header digests seen: $(cat "$TAPLOG")"
grep -q ' [1-9][0-9]* bad' "$TAPLOG" && fail "wrong digests on the wire: $(cat "$TAPLOG")"
ok "the relay: $hd header digests checked, none wrong"

step "iscsi-inq ?header_digest=crc32c"
tt_capture 30 iscsi-inq "iscsi://127.0.0.1:$PT/$TT_IQN/0?header_digest=crc32c" ||
	fail "iscsi-inq: exit $?: $OUT"
tt_contains "Vendor:TETHER" "iscsi-inq through the relay"
conns=$((conns + 1))
tap_wait $conns
tap_clean
line=$(grep ' keys ' "$TAPLOG" | tail -n 1)
case $line in
*"HeaderDigest=None DataDigest=None (offered None,CRC32C, None)"*)
	ok "iscsi-inq offered None,CRC32C; the target chose None, the first it supports" ;;
*"HeaderDigest=CRC32C DataDigest=None (offered CRC32C"*)
	ok "iscsi-inq offered CRC32C first and got it" ;;
*) fail "iscsi-inq digest negotiation: $line" ;;
esac

step "digests by hand (tests/tools/digests.py)"
tt_pdu digests.py --port "$P" negotiate io bad-data-digest bad-dataout-digest bad-header-digest ||
	fail "digests.py"
tt_alive main
tt_inq_ok "$P" "the digest errors"
tt_stop main
echo "PASS"
