# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# guest-rbd-multipath.sh - guest side of rbd_multipath.sh.
#
# Two gateways (A on PORTAL_A, B on PORTAL_B) export one RBD image under one target name; one
# iSCSI session to each, one dm-multipath map. Settings as the "recommended" scenario of
# guest-multipath.sh: NOP-Out every 5 s with a 5 s timeout, replacement_timeout 15,
# no_path_retry queue. Under fio with crc32c verification the host SIGKILLs gateway A, starts
# it again DOWN seconds later, fio goes on POST seconds; once A's path is active again, the
# same for gateway B (a fio run of its own).
# Checks: fio sees no I/O error and no verify mismatch; each killed path fails and comes back;
# both paths active at the end.
#
# Variables: TT_RBDMP_DOWN_S [5] (seconds a gateway stays down), TT_RBDMP_POST_S [10] (seconds
# of fio after the restart), TT_RBDMP_BACK_S [60] (how long a restarted gateway's path may take
# to be active again).

# shellcheck source=guest-lib.sh source-path=SCRIPTDIR
. /mnt/host/tests/vm/lib/guest-lib.sh

DOWN_S=${TT_RBDMP_DOWN_S:-5}
BACK_S=${TT_RBDMP_BACK_S:-60}
PRE_S=3
POST_S=${TT_RBDMP_POST_S:-10}

dmesg -n 1
g_udev_start
modprobe -a dm_multipath dm_service_time dm_round_robin || g_die "dm-multipath modules"
g_iscsi_start

out=$(g_discover "$PORTAL_A") || g_die "SendTargets on $PORTAL_A failed: $out"
echo "SendTargets on $PORTAL_A: $out"
IQN=$(echo "$out" | awk '{ print $2; exit }')
[ -n "$IQN" ] || g_die "SendTargets returned no target"
outb=$(g_discover "$PORTAL_B") || g_die "SendTargets on $PORTAL_B failed: $outb"
echo "SendTargets on $PORTAL_B: $outb"
echo "$outb" | awk '{ print $2 }' | grep -qx "$IQN" || g_die "$IQN is not offered on $PORTAL_B"

cat >/etc/multipath.conf <<'CONF'
defaults {
	user_friendly_names yes
	find_multipaths no
	no_path_retry queue
}
CONF
for p in "$PORTAL_A" "$PORTAL_B"; do
	g_set "$IQN" "$p" 'node.conn[0].timeo.noop_out_interval' 5
	g_set "$IQN" "$p" 'node.conn[0].timeo.noop_out_timeout' 5
	g_set "$IQN" "$p" node.session.timeo.replacement_timeout 15
done
g_login "$IQN" "$PORTAL_A" || g_die "login on $PORTAL_A (gateway A)"
g_login "$IQN" "$PORTAL_B" || g_die "login on $PORTAL_B (gateway B)"
DA=$(g_disk "$IQN" "$PORTAL_A") || g_die "no disk on $PORTAL_A"
DB=$(g_disk "$IQN" "$PORTAL_B") || g_die "no disk on $PORTAL_B"
udevadm settle -t 30
WA=$(cat "/sys/block/$DA/device/wwid") WB=$(cat "/sys/block/$DB/device/wwid")
echo "WWID via A ($DA): $WA"
echo "WWID via B ($DB): $WB"
[ "$WA" = "$WB" ] || g_die "the gateways give different WWIDs for the image"
g_ok "both gateways give the image the same WWID"
multipathd || g_die "multipathd did not start"
active2() { [ "$(multipath -ll "$MAP" 2>/dev/null | grep -c 'active ready')" = 2 ]; }
for i in $(seq 60); do
	MAP=$(dmsetup ls --target multipath 2>/dev/null | awk '$1 != "No" { print $1 }')
	[ -n "$MAP" ] && active2 && break
	[ "$i" = 20 ] && multipath >/dev/null 2>&1
	sleep 0.5
done
multipath -ll
[ "$(echo "$MAP" | wc -w)" = 1 ] || g_die "expected one multipath map, got '$MAP'"
active2 || g_die "map $MAP has not two active paths"
dmsetup mknodes "$MAP"
[ -b "/dev/mapper/$MAP" ] || g_die "no /dev/mapper/$MAP"
g_ok "map $MAP over $DA (gateway A, $PORTAL_A) and $DB (gateway B, $PORTAL_B)"

while :; do
	multipathd show paths format "%d %t %T" 2>/dev/null | awk -v t="$(g_epoch)" 'NR > 1 { print t, $0 }'
	sleep 0.5
done >/tmp/paths 2>/dev/null &
wp=$!

# first time (epoch) >= FROM at which DISK has dm state STATE (and checker CHK)
first_state() {
	awk -v from="$1" -v d="$2" -v st="$3" -v chk="${4:-}" \
		'$1 >= from && $2 == d && $3 == st && (chk == "" || $4 == chk) { print $1; exit }' /tmp/paths
}
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a - b }'; }

# down GW DISK: fio with crc32c verification on the map; gateway GW SIGKILLed PRE_S s in, started
# again DOWN_S s later; fio goes on POST_S s more. Then DISK must be active again in the map.
down() {
	local gw=$1 dev=$2 t_kill t_start failed back i fp rc=0
	fio --name=rbdmp --filename="/dev/mapper/$MAP" --direct=1 --ioengine=libaio --iodepth=4 \
		--rw=randwrite --bs=4k --size=64M --time_based --runtime=$((PRE_S + DOWN_S + POST_S)) \
		--verify=crc32c --verify_backlog=256 --verify_fatal=1 \
		--write_lat_log="/tmp/lat.$gw" --log_unix_epoch=1 >"/tmp/fio.$gw" 2>&1 &
	fp=$!
	sleep "$PRE_S"
	kill -0 "$fp" 2>/dev/null || g_die "fio ended before gateway $gw was killed: $(tail -5 "/tmp/fio.$gw")"
	g_log "SIGKILL gateway $gw ($dev) under fio"
	t_kill=$(g_epoch)
	g_host kill "$gw"
	sleep "$DOWN_S"
	t_start=$(g_epoch)
	g_host start "$gw"
	g_log "gateway $gw restarted"
	wait "$fp" || rc=$?
	sed -n '/rbdmp: (groupid/,/^Run status/p' "/tmp/fio.$gw" | head -12
	if [ $rc = 0 ] && grep -q 'err= 0' "/tmp/fio.$gw" && ! grep -qE 'err= *[1-9]|verify:|bad' "/tmp/fio.$gw"; then
		g_ok "kill $gw: fio saw no I/O error and no verify mismatch"
	else
		cat "/tmp/fio.$gw"
		g_bad "kill $gw: fio failed (status $rc)"
	fi
	for i in $(seq $((BACK_S * 2))); do
		back=$(first_state "$t_start" "$dev" active ready)
		[ -n "$back" ] && active2 && break
		sleep 0.5
	done
	failed=$(first_state "$t_kill" "$dev" failed)
	multipath -ll "$MAP"
	if [ -n "$failed" ]; then
		g_ok "kill $gw: dm failed path $dev $(secs "$failed" "$t_kill") s after the kill"
	else
		g_bad "kill $gw: path $dev was never seen failed"
	fi
	if [ -n "$back" ] && active2; then
		g_ok "kill $gw: path $dev active again, both paths active"
	else
		g_bad "kill $gw: path $dev not active again ${BACK_S} s after the restart"
	fi
	g_figure "kill_${gw}_path_failed_after_kill_s" "$([ -n "$failed" ] && secs "$failed" "$t_kill" || echo never)"
	g_figure "kill_${gw}_path_back_after_restart_s" "$([ -n "$back" ] && secs "$back" "$t_start" || echo never)"
	# fio's wall clock is ms since the epoch
	sort -t, -k1,1n /tmp/lat."$gw"_clat.*.log | awk -F', *' -v k="$t_kill" -v g="$gw" '
		{ if (n && $1 - p > gap) { gap = $1 - p; at = p } p = $1; n++ }
		END {
			printf "FIGURE kill_%s_max_completion_gap_s=%.2f\n", g, gap / 1000
			printf "FIGURE kill_%s_gap_began_after_kill_s=%.2f\n", g, at / 1000 - k
			printf "FIGURE kill_%s_ios_completed=%d\n", g, n
		}'
	awk -F', *' -v g="$gw" '$2 > m { m = $2 } END { printf "FIGURE kill_%s_max_io_latency_s=%.2f\n", g, m / 1e9 }' \
		/tmp/lat."$gw"_lat.*.log
}
down a "$DA"
down b "$DB"
kill "$wp" 2>/dev/null
wait "$wp" 2>/dev/null
if active2; then g_ok "both paths active at the end"; else g_bad "not both paths active at the end"; fi
g_end
