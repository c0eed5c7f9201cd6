#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# One Ceph RBD image served by two tetherd gateways (docs/rbd.md), on a throw-away cluster of
# one monitor and one memstore OSD (tests/lib/ceph.sh):
#   - gateway A from the command line (--lun rbd:...), gateway B from a JSON file with another
#     target name and the image at another LUN number; A's LUNs of the same conf, id and
#     timeout share one cluster connection;
#   - qemu-img convert writes a random 64 MiB file through A, qemu-img compare reads it back
#     through B;
#   - the same NAA (VPD 83h) and serial (VPD 80h) through both, unlike a RAM LUN (rbd.py ident;
#     and iscsi-inq's VPD 83h page);
#   - COMPARE AND WRITE (match, miscompare with its offset, across an object boundary), WRITE
#     SAME, WRITE SAME with UNMAP and UNMAP, each done through one gateway and seen through the
#     other (rbd.py caw, samezero);
#   - `rbd resize` gives CAPACITY DATA HAS CHANGED and the new READ CAPACITY through both
#     (rbd.py resize);
#   - the OSD stopped (SIGSTOP) under a LUN with timeout=3: WRITE and READ end with CHECK
#     CONDITION within 20 s, the daemon lives on and the LUN works again when the OSD continues
#     (rbd.py stall);
#   - bad specs are refused with a message naming the part at fault: a missing image, pool, or
#     conf file, an unreachable monitor (within the timeout), an unknown option.
# Skipped (77) when tetherd was built without librbd, or ceph is missing or does not come up.
#
# Exit: 0 pass, 77 skip (reason printed), 1 fail.
# Environment: TT_BUILD, TT_TOP (see tests/lib/common.sh).

# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
tt_setup rbd_basic
tt_need "$TT_PYTHON" qemu-img iscsi-inq
ldd "$TETHERD" 2>/dev/null | grep -q librbd || skip "tetherd was built without librbd (librbd-dev)"
# shellcheck source=tests/lib/ceph.sh
. "$(dirname "$0")/../lib/ceph.sh"
ceph_start

ceph_rbd create --size 64M --image-feature layering rbd/img || fail "rbd create rbd/img"
ceph_rbd create --size 16M --image-feature layering rbd/short || fail "rbd create rbd/short"
tt_free_port PA
tt_free_port PB
TB=iqn.2026-11.org.tether:gateway-b
IMG="rbd:rbd/img,conf=$CEPH_CONF"

step "gateway A (--lun) and gateway B (JSON, another target name and LUN number)"
tt_start a --portal "127.0.0.1:$PA" --state-dir none --lun "$IMG" --lun ram:16M \
	--lun "rbd:rbd/short,conf=$CEPH_CONF,timeout=3" --lun "rbd:rbd/short,conf=$CEPH_CONF,ro"
cat >"$TT_WORK/b.json" <<EOF
{
  "targets": [{
    "name": "$TB",
    "tpgs": [{ "tag": 1, "portals": ["127.0.0.1:$PB"] }],
    "luns": [{ "id": 0, "backend": "ram:8M" }, { "id": 1, "backend": "$IMG" }]
  }]
}
EOF
TT_WAIT_PORTS=$PB tt_start b --config "$TT_WORK/b.json" --state-dir none
grep -q "rbd rbd/img: 67108864 bytes" "$TT_WORK/tetherd-a.log" ||
	fail "gateway A did not log the image it opened"
# LUNs 0 and 3 (same conf, id and timeout) share one connection; LUN 2 (timeout=3) has its own
n=$(grep -c "rbd: connected to the cluster" "$TT_WORK/tetherd-a.log")
[ "$n" = 2 ] || fail "gateway A made $n connections to the cluster for its 3 rbd LUNs (want 2)"
ok "both gateways serve rbd/img"

rbd_py() { tt_pdu rbd.py --port "$PA" --opt port2="$PB" --opt target2="$TB" --opt lun2=1 "$@"; }

step "qemu-img convert through A, qemu-img compare through B"
head -c 64M /dev/urandom >"$TT_WORK/random.img"
tt_capture 120 qemu-img convert -n -f raw -O raw "$TT_WORK/random.img" "$(tt_url "$PA" 0)" ||
	fail "qemu-img convert through A: $OUT"
tt_capture 120 qemu-img compare -f raw -F raw "$TT_WORK/random.img" \
	"$(tt_url "$PB" 1 127.0.0.1 "$TB")" || fail "qemu-img compare through B: $OUT"
tt_contains "Images are identical" "qemu-img compare through B"
ok "64 MiB written through A read back identical through B"

step "identity: VPD 80h and 83h from the image, not the gateway"
rbd_py --opt other_lun=1 ident || fail "rbd.py ident"
# the designators of the logical unit (association 0) in iscsi-inq's listing of VPD 83h
lu_designators() {
	printf '%s\n' "$OUT" | awk '/^DEVICE DESIGNATOR/ { lu = 0 } /^Association:\(0\)/ { lu = 1 }
		/^Designator:/ && lu { print }' | cat -v
}
tt_capture 30 iscsi-inq -e 1 -c 131 "$(tt_url "$PA" 0)" || fail "iscsi-inq VPD 83h (A): $OUT"
ida=$(lu_designators)
tt_capture 30 iscsi-inq -e 1 -c 131 "$(tt_url "$PB" 1 127.0.0.1 "$TB")" ||
	fail "iscsi-inq VPD 83h (B): $OUT"
idb=$(lu_designators)
if [ "$(printf '%s\n' "$ida" | wc -l)" != 2 ] || [ "$ida" != "$idb" ]; then
	fail "iscsi-inq VPD 83h: the logical unit designators differ: A '$ida' B '$idb'"
fi
ok "iscsi-inq: the same logical unit designators through A and B"

step "COMPARE AND WRITE, WRITE SAME, UNMAP across the gateways"
rbd_py caw || fail "rbd.py caw"
rbd_py samezero || fail "rbd.py samezero"

step "rbd resize: capacity data has changed"
rbd_py --opt size=$((96 << 20)) \
	--opt resize="timeout 60 rbd --conf $CEPH_CONF resize --size 96M rbd/img" resize ||
	fail "rbd.py resize"

step "a stalled OSD: timely errors, then service again"
rbd_py --opt lun=2 --opt bound=20 --opt pause="kill -STOP $CEPH_OSD_PID" \
	--opt resume="kill -CONT $CEPH_OSD_PID" stall || fail "rbd.py stall"
tt_alive a
tt_alive b

step "bad specs name the part at fault"
bad() {
	local spec=$1 want=$2 t0=$SECONDS
	tt_capture 60 "$TETHERD" --portal 127.0.0.1:1 --rpc-socket none --state-dir none --lun "$spec"
	[ $? = 1 ] || fail "tetherd --lun '$spec' did not exit with status 1: $OUT"
	tt_contains "$want" "tetherd --lun '$spec'"
	echo "    refused in $((SECONDS - t0)) s: $(printf '%s\n' "$OUT" | grep -F -- "$want" | head -n 1)"
}
bad "rbd:rbd/none,conf=$CEPH_CONF" "rbd: image 'rbd/none': no such image"
bad "rbd:nopool/img,conf=$CEPH_CONF" "rbd: pool 'nopool': no such pool"
bad "rbd:rbd/img,conf=$TT_WORK/missing.conf" "rbd: conf '$TT_WORK/missing.conf': cannot read it"
bad "rbd:rbd/img,conf=$CEPH_CONF,cache=on" "rbd: unknown option 'cache'"
bad "rbd:img,conf=$CEPH_CONF" "rbd: 'img' is not POOL/IMAGE"
tt_free_port PDEAD
sed "s/^mon host = .*/mon host = v2:127.0.0.1:$PDEAD/" "$CEPH_CONF" >"$TT_WORK/dead.conf"
t0=$SECONDS
bad "rbd:rbd/img,conf=$TT_WORK/dead.conf,timeout=2" "cannot connect to the cluster within 2 s"
[ $((SECONDS - t0)) -le 15 ] || fail "an unreachable monitor took $((SECONDS - t0)) s to refuse"

tt_stop a
tt_stop b
echo "rbd_basic: passed"
