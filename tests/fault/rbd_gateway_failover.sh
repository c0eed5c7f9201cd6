#!/usr/bin/env bash
# shellcheck disable=SC2034 # the FP_* settings are read by lib/paths.sh
# SPDX-License-Identifier: BSD-3-Clause
#
# rbd_gateway_failover.sh - two tetherd gateways export the same Ceph RBD image (docs/rbd.md,
# "Gateways and fail-over"); libtether's multipath rides through the loss of one of them.
# Network: the initiator's namespace has one veth link to gateway A's namespace ($FT_TADDR, path
# 1) and one to gateway B's ($FT_TADDR2, path 2); the throw-away cluster (tests/lib/ceph.sh: one
# monitor, one memstore OSD) runs in a third namespace on $CEPH_ADDR, which each gateway reaches
# over a link of its own. Both gateways serve target $FP_TETHERD_IQN, LUN 0 =
# rbd:rbd/img (an image without exclusive-lock), from a configuration file: A with TPG 1, B with
# TPG 2 (so relative port ids 1 and 2), both active/optimized, implicit ALUA only.
#   - libtether takes both paths as the same logical unit (VPD 83h), through port groups 1 and
#     2, both active/optimized (`tether paths --json` of the running bench);
#   - `tether bench --rw randrw --verify` on both paths; gateway A SIGKILLed under load: the I/O
#     goes on through B; A restarted $KILL_S s later: path 1 carries I/O again; the bench ends
#     with exit 0, 0 I/O errors and 0 verify errors;
#   - the same with gateway B killed and restarted.
# Times (longest stall, restart to I/O on the path again) are FIGURE lines, never asserted, as
# in initiator_failover.sh. FIGURE kill_<gw>_{ios,iops,mbps,errors,verify_errors,max_stall_ms,
# p50_us,p99_us}, kill_<gw>_back_ms.
# (qemu-img convert through one gateway and compare through the other: tests/interop/rbd_basic.sh.)
#
# Exit: 0 pass, 77 skip (reason printed), 1 fail.
# Environment: TT_BUILD, TT_TOP (tests/lib/common.sh); KILL_S (2), how long a gateway stays
# down; RBD_FEATURES, the image's features (default layering; with layering,exclusive-lock the
# surviving gateway cannot write while the killed one still holds the lock: docs/rbd.md).

. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/paths.sh"

ft_setup rbdgw
fp_need_tether
tt_need jq
ldd "$TETHERD" 2>/dev/null | grep -q librbd || skip "tetherd was built without librbd (librbd-dev)"

KILL_S=${KILL_S:-2}
RBD_FEATURES=${RBD_FEATURES:-layering}
FP_LIBOPTS=(no_path_timeout_ms=60000)

# --- the network: gateway B's namespace and the cluster's ----------------------------------
NSA=$FT_NST
NSB=ttf-rbdgw-$$-b
NSC=ttf-rbdgw-$$-c
FT_TADDR2=10.199.2.1
FT_IADDR2=10.199.2.2
CEPH_ADDR=10.199.9.1
CEPH_NETNS=$NSC
for ns in $NSB $NSC; do
	err=$(ip netns add "$ns" 2>&1) || skip "ip netns add failed: $err"
	tt_at_exit "ft_ns_remove $ns"
	ip -n "$ns" link set lo up || fail "lo up in $ns"
done
# link NAME NS1 ADDR1 NS2 ADDR2: a veth pair with a /24 on each side
link() {
	ip link add "$1a" netns "$2" type veth peer name "$1b" netns "$4" || fail "veth $1"
	ip -n "$2" addr add "$3/24" dev "$1a" || fail "address $3"
	ip -n "$4" addr add "$5/24" dev "$1b" || fail "address $5"
	ip -n "$2" link set "$1a" up || fail "$1a up"
	ip -n "$4" link set "$1b" up || fail "$1b up"
}
link "${FT_TVETH}2" "$NSB" "$FT_TADDR2" "$FT_NSI" "$FT_IADDR2"
link "tc$$a" "$NSC" 10.199.3.1 "$NSA" 10.199.3.2
link "tc$$b" "$NSC" 10.199.4.1 "$NSB" 10.199.4.2
ip -n "$NSC" addr add "$CEPH_ADDR/32" dev lo || fail "address $CEPH_ADDR"
ip -n "$NSA" route add "$CEPH_ADDR/32" via 10.199.3.1 || fail "route A -> cluster"
ip -n "$NSB" route add "$CEPH_ADDR/32" via 10.199.4.1 || fail "route B -> cluster"
echo "    gateway A $NSA ($FT_TADDR), gateway B $NSB ($FT_TADDR2), initiator $FT_NSI," \
	"cluster $NSC ($CEPH_ADDR)"

# shellcheck source=tests/lib/ceph.sh
. "$(dirname "$0")/../lib/ceph.sh"
ceph_start
ceph_rbd create --size "$FP_SIZE" --image-feature "$RBD_FEATURES" rbd/img || fail "rbd create rbd/img"

# --- the gateways --------------------------------------------------------------------------
# gw_conf NAME TAG ADDR: the configuration of one gateway
gw_conf() {
	cat >"$TT_WORK/$1.json" <<EOF
{
  "targets": [{
    "name": "$FP_TETHERD_IQN",
    "tpgs": [{ "tag": $2, "portals": ["$3:$FT_PORT"], "alua_state": "active-optimized",
               "alua_explicit": false }],
    "luns": [{ "id": 0, "backend": "rbd:rbd/img,conf=$CEPH_CONF,timeout=10" }]
  }]
}
EOF
}
gw_conf a 1 "$FT_TADDR"
gw_conf b 2 "$FT_TADDR2"
declare -A GW_NS=([a]=$NSA [b]=$NSB)
gw_start() { FT_NST=${GW_NS[$1]} ft_start "$1" --config "$TT_WORK/$1.json" --state-dir none; }
gw_kill() {
	kill -KILL "${TT_PID[$1]}"
	wait "${TT_PID[$1]}" 2>/dev/null
	unset "TT_PID[$1]"
}
gw_start a
gw_start b

# check_ports BENCH: libtether took both paths as one logical unit (it refuses a path whose VPD 83h
# designator differs: state dead), reached through target port groups 1 and 2, both
# active/optimized
check_ports() {
	local out t1 t2
	out=$(fp_paths_out "$1")
	jq -e . >/dev/null 2>&1 <<<"$out" || fail "tether paths --json: $out"
	t1=$(jq -r --arg a "//$FT_TADDR:" '[.. | objects | select(has("url") and has("tpg")) |
		select(.url | contains($a))][0] | "\(.state) \(.tpg) \(.alua)"' <<<"$out")
	t2=$(jq -r --arg a "//$FT_TADDR2:" '[.. | objects | select(has("url") and has("tpg")) |
		select(.url | contains($a))][0] | "\(.state) \(.tpg) \(.alua)"' <<<"$out")
	echo "    lu $(jq -r '.. | objects | select(has("lu_id")) | .lu_id' <<<"$out" | head -n 1)"
	echo "    path 1 (gateway A): $t1; path 2 (gateway B): $t2"
	[[ $t1 == "live 1 active"*optimized && $t2 == "live 2 active"*optimized ]] ||
		fail "the paths are not one unit through port groups 1 and 2, active/optimized:
$out"
	ok "one logical unit through port groups 1 (A) and 2 (B), both active/optimized"
}

step "tether bench on both gateways; each one SIGKILLed under load and restarted"
scenario_kill() { # GW N (its path)
	local gw=$1 n=$2 other=$((3 - $2)) r=kill-$1 a b back
	fp_bench "$r" tetherd $((KILL_S + 20))
	fp_wait_live "$r" 30
	[ "$gw" = a ] && check_ports "$r"
	gw_kill "$gw"
	echo "    gateway $gw SIGKILLed"
	sleep 1
	a=$(fp_path_stat "$r" "$other")
	sleep $((KILL_S - 1))
	b=$(fp_path_stat "$r" "$other")
	echo "    path $other while $gw is down: $a -> $b; path $n: $(fp_path_stat "$r" "$n")"
	[[ $a == live\ * && $b == live\ * && ${b#* } -gt ${a#* } ]] ||
		fail "kill $gw: path $other carried no I/O while gateway $gw was down ($a -> $b)"
	ok "kill $gw: I/O went on through path $other"
	gw_start "$gw"
	back=$(fp_wait_back "$r" "$n" 30) ||
		fail "kill $gw: path $n does not carry I/O again after the restart ($back)
$(fp_paths_out "$r")"
	ok "kill $gw: path $n carries I/O again, $back ms after the restart"
	ft_figure "kill_${gw}_back_ms" "$back"
	fp_bench_end "$r" "kill_$gw"
}
scenario_kill a 1
scenario_kill b 2
tt_alive a
tt_alive b
tt_stop a
tt_stop b
echo "PASS: rbd gateway fail-over: either gateway killed under verify load, 0 errors"
