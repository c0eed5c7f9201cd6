#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# bench/rbd.sh - an RBD image served by tetherd (rbd: backend) and by tgtd (Debian's tgt-rbd,
# --bstype rbd), measured in the same go with the same client, beside `rbd bench` straight to
# the cluster (librbd with no SCSI in between: the ceiling). The cluster is the test one
# (tests/lib/ceph.sh: one monitor, one memstore OSD on 127.0.0.1); both targets serve the same
# image (SIZE, default 256M, filled first so that reads find data), with librbd's cache off for
# all three (tetherd always turns it off; the others get `rbd cache = false` in their conf).
# Client: libtether's `tether bench` on one path, the same command line for both targets; each
# workload runs tetherd then tgtd, alternating the order from round to round (ROUNDS, default 1).
# Workloads: 4 KiB random read QD 32, 4 KiB random write QD 32, 128 KiB sequential read QD 16,
# 128 KiB sequential write QD 16. Prints IOPS and MB/s side by side and the ratio tetherd/tgtd.
# Then, when TWO_GW=1 (default): two tetherd gateways on one image, 4 KiB random writes QD 32
# sent round-robin through both (`-o selector=round-robin`), on an image without exclusive-lock
# and on one with it (docs/rbd.md).
#
# Usage: bench/rbd.sh [BUILD_DIR] [SECONDS]     (default build, 5 s per run)
# Environment: SIZE, ROUNDS, TWO_GW.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
export TT_BUILD=${1:-${TT_BUILD:-$top/build}}
secs=${2:-5}
SIZE=${SIZE:-256M}
ROUNDS=${ROUNDS:-1}
TWO_GW=${TWO_GW:-1}
. "$top/tests/lib/common.sh"
tt_setup rbdbench
TETHER=$TT_BUILD/src/cmd/tether
tt_need tgtd tgtadm jq
[ -x "$TETHER" ] || skip "the tether CLI is not built ($TETHER)"
[ -e /usr/lib/tgt/backing-store/bs_rbd.so ] || skip "tgt's rbd backstore is missing (apt-get install tgt-rbd)"
ldd "$TETHERD" 2>/dev/null | grep -q librbd || skip "tetherd was built without librbd (librbd-dev)"
. "$top/tests/lib/ceph.sh"
ceph_start
# the clients' configuration: the cluster's, librbd's cache off
CONF=$TT_WORK/client.conf
{ cat "$CEPH_CONF"; printf '[client]\nrbd cache = false\n'; } >"$CONF"
CEPH_CONF=$CONF

ceph_rbd create --size "$SIZE" --image-feature layering rbd/bench || fail "rbd create"
ceph_rbd bench --io-type write --io-pattern seq --io-size 4M --io-total "$SIZE" rbd/bench \
	>/dev/null 2>&1 || fail "rbd bench: cannot fill the image"

tt_free_port P
tt_free_port G
IQN_TGT=iqn.2026-11.org.tether:bench-tgt-rbd
tt_start t --portal "127.0.0.1:$P" --state-dir none --lun "rbd:rbd/bench,conf=$CONF"
tgtd -f --iscsi "portal=127.0.0.1:$G" --control-port "$G" >"$TT_WORK/tgtd.log" 2>&1 &
TGT_PID=$!
tt_at_exit "kill -KILL $TGT_PID 2>/dev/null; wait $TGT_PID 2>/dev/null; rm -f /var/run/tgtd/socket.$G /var/run/tgtd/socket.$G.lock"
tgt() { timeout 30 tgtadm -C "$G" "$@"; }
for _ in $(seq 50); do tgt --op show --mode sys >/dev/null 2>&1 && break; sleep 0.1; done
tgt --lld iscsi --op new --mode target --tid 1 -T "$IQN_TGT" || fail "tgtadm: target"
tgt --lld iscsi --op new --mode logicalunit --tid 1 --lun 1 --bstype rbd \
	--backing-store rbd/bench --bsopts "conf=$CONF" || fail "tgtadm: rbd LUN: $(tail -3 "$TT_WORK/tgtd.log")"
tgt --lld iscsi --op bind --mode target --tid 1 -I ALL || fail "tgtadm: bind"
for _ in $(seq 50); do tt_listening "$G" && break; sleep 0.1; done

turl=iscsi://127.0.0.1:$P/$TT_IQN/0
gurl=iscsi://127.0.0.1:$G/$IQN_TGT/1

# tbench RW BS QD URL...: "IOPS MBPS" of one tether bench run
tbench() {
	local rw=$1 bs=$2 qd=$3
	shift 3
	timeout $((secs + 60)) "$TETHER" bench --rw "$rw" --bs "$bs" --qd "$qd" --time "$secs" \
		--size "$SIZE" --json --control none "$@" 2>>"$TT_WORK/bench.err" |
		sed -n '/^[[:space:]]*{/,$p' | jq -r '"\(.iops | floor) \(.mbps * 10 | floor / 10) \(.errors)"' 2>/dev/null ||
		echo "? ? ?"
}
# rbench TYPE PATTERN SIZE THREADS: "IOPS MBPS" of rbd bench over the same number of bytes as
# a run of the others would move at the tetherd rate (at least 16 MiB)
rbench() {
	local out ops bps
	out=$(ceph_rbd bench --io-type "$1" --io-pattern "$2" --io-size "$3" --io-threads "$4" \
		--io-total "$5" rbd/bench 2>&1 | tr '\r' '\n' | grep -E '^elapsed' | tail -n 1)
	ops=$(sed -nE 's/.*ops\/sec: *([0-9.]+).*/\1/p' <<<"$out")
	bps=$(sed -nE 's/.*bytes\/sec: *([0-9.]+) *([KMG]?i?B)\/s.*/\1 \2/p' <<<"$out")
	echo "${ops%.*} $(awk -v v="${bps% *}" -v u="${bps#* }" 'BEGIN {
		m = (u == "KiB") ? 1024 : (u == "MiB") ? 1048576 : (u == "GiB") ? 1073741824 : 1
		printf "%.1f", v * m / 1000000 }')"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else print "?" }'; }

echo "image rbd/bench $SIZE; $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg); ${secs} s per run, $ROUNDS round(s)"
printf '%-26s %18s %18s %7s %18s\n' workload "tetherd IOPS MB/s" "tgtd IOPS MB/s" ratio "rbd bench IOPS MB/s"
row() { # NAME RW BS QD RBD_TYPE RBD_PATTERN
	local name=$1 rw=$2 bs=$3 qd=$4 r t g ti=0 tm=0 gi=0 gm=0 n=0 rb total
	for r in $(seq "$ROUNDS"); do
		if [ $((r % 2)) = 1 ]; then
			t=$(tbench "$rw" "$bs" "$qd" "$turl"); g=$(tbench "$rw" "$bs" "$qd" "$gurl")
		else
			g=$(tbench "$rw" "$bs" "$qd" "$gurl"); t=$(tbench "$rw" "$bs" "$qd" "$turl")
		fi
		read -r a b e <<<"$t"; [ "$e" = 0 ] || echo "    tetherd run with errors: $t"
		ti=$((ti + ${a/\?/0})); tm=$(awk -v x="$tm" -v y="${b/\?/0}" 'BEGIN { print x + y }')
		read -r a b e <<<"$g"; [ "$e" = 0 ] || echo "    tgtd run with errors: $g"
		gi=$((gi + ${a/\?/0})); gm=$(awk -v x="$gm" -v y="${b/\?/0}" 'BEGIN { print x + y }')
		n=$((n + 1))
	done
	ti=$((ti / n)); gi=$((gi / n))
	tm=$(awk -v x="$tm" -v n="$n" 'BEGIN { printf "%.1f", x / n }')
	gm=$(awk -v x="$gm" -v n="$n" 'BEGIN { printf "%.1f", x / n }')
	# rbd bench moves as many bytes as tetherd did in one run, at least 16 MiB, at most 1 GiB
	total=$(awk -v m="$tm" -v s="$secs" 'BEGIN { b = m * 1000000 * s; if (b < 16777216) b = 16777216;
		if (b > 1073741824) b = 1073741824; printf "%d", b }')
	rb=$(rbench "$5" "$6" "$bs" "$qd" "$total")
	printf '%-26s %9s %8s %9s %8s %7s %9s %8s\n' "$name" "$ti" "$tm" "$gi" "$gm" \
		"$(ratio "$ti" "$gi")" ${rb}
}
row "4 KiB randread QD 32" randread 4096 32 read rand
row "4 KiB randwrite QD 32" randwrite 4096 32 write rand
row "128 KiB seq read QD 16" read 131072 16 read seq
row "128 KiB seq write QD 16" write 131072 16 write seq

if [ "$TWO_GW" = 1 ]; then
	tt_free_port P2
	ceph_rbd create --size "$SIZE" --image-feature layering,exclusive-lock rbd/bench-xl ||
		fail "rbd create (exclusive-lock)"
	echo
	echo "two tetherd gateways, 4 KiB random writes QD 32 round-robin through both (-o selector=round-robin)"
	printf '%-32s %18s %18s\n' image "2 gateways IOPS" "1 gateway IOPS"
	for img in bench bench-xl; do
		tt_stop t >/dev/null
		tt_start t --portal "127.0.0.1:$P" --state-dir none --lun "rbd:rbd/$img,conf=$CONF" >/dev/null
		tt_start t2 --portal "127.0.0.1:$P2" --state-dir none --lun "rbd:rbd/$img,conf=$CONF" >/dev/null
		two=$(tbench randwrite 4096 32 -o selector=round-robin "$turl" \
			"iscsi://127.0.0.1:$P2/$TT_IQN/0")
		one=$(tbench randwrite 4096 32 "$turl")
		tt_stop t2 >/dev/null
		feat=layering; [ $img = bench-xl ] && feat=layering,exclusive-lock
		read -r a _ e <<<"$two"
		read -r b _ f <<<"$one"
		printf '%-32s %12s (%s err) %12s (%s err)\n' "$feat" "$a" "$e" "$b" "$f"
	done
fi
tt_stop t >/dev/null
