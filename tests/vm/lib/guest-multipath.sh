# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# guest-multipath.sh - guest side of multipath_failover.sh.
#
# One LUN, two portals, two iSCSI sessions, one dm-multipath map. For each
# scenario: fio with crc32c verification runs on the map; the host silently
# drops all traffic of the portal that carries the I/O (the active path) for
# CUT seconds, then restores it. Checks: fio sees no error, the restored path
# is active in the map again. Measures: longest single I/O, longest gap
# between I/O completions, when dm failed the path, when it came back.
#
# Scenarios:
#   stock        the settings Debian ships (iscsid.conf, multipath-tools
#                built-in defaults). multipathd sets each iSCSI session's
#                recovery_tmo to its fast_io_fail_tmo (5 s), whatever
#                node.session.timeo.replacement_timeout says.
#   recommended  node.conn[0].timeo.noop_out_interval=5, noop_out_timeout=5,
#                node.session.timeo.replacement_timeout=15, no_path_retry queue
#   untuned      as stock, but fast_io_fail_tmo off: the session keeps
#                iscsid's replacement_timeout (120 s), I/O waits for the path
#                (not run unless asked for)
#
# Variables: TT_MP_SCENARIOS ["stock recommended"], TT_MP_CUT_S [30],
# TT_MP_PRE_S [3], TT_MP_POST_S [10] (seconds of fio before/after the cut).

# shellcheck source=guest-lib.sh source-path=SCRIPTDIR
. /mnt/host/tests/vm/lib/guest-lib.sh

SCENARIOS=${TT_MP_SCENARIOS:-stock recommended}
CUT_S=${TT_MP_CUT_S:-30}
PRE_S=${TT_MP_PRE_S:-3}
POST_S=${TT_MP_POST_S:-10}

dmesg -n 1
g_udev_start
modprobe -a dm_multipath dm_service_time dm_round_robin || g_die "dm-multipath modules"
g_iscsi_start

# ---- discovery on both portals (a target may announce only the portal asked)
out=$(g_discover "$PORTAL_A") || g_die "SendTargets on $PORTAL_A failed: $out"
echo "SendTargets on $PORTAL_A:"
echo "  ${out//$'\n'/$'\n'  }"
IQN=$(echo "$out" | awk '{ print $2; exit }')
[ -n "$IQN" ] || g_die "SendTargets returned no target"
outb=$(g_discover "$PORTAL_B") || g_die "SendTargets on $PORTAL_B failed: $outb"
echo "SendTargets on $PORTAL_B:"
echo "  ${outb//$'\n'/$'\n'  }"
echo "$outb" | awk '{ print $2 }' | grep -qx "$IQN" || g_die "$IQN is not offered on $PORTAL_B"

mp_conf() {
	{
		echo "defaults {"
		echo "	user_friendly_names yes"
		echo "	find_multipaths no"
		[ "$1" = recommended ] && echo "	no_path_retry queue"
		[ "$1" = untuned ] && echo "	fast_io_fail_tmo off"
		echo "}"
	} >/etc/multipath.conf
}

node_settings() {
	local p
	[ "$1" = recommended ] || return 0
	for p in "$PORTAL_A" "$PORTAL_B"; do
		g_set "$IQN" "$p" 'node.conn[0].timeo.noop_out_interval' 5
		g_set "$IQN" "$p" 'node.conn[0].timeo.noop_out_timeout' 5
		g_set "$IQN" "$p" node.session.timeo.replacement_timeout 15
	done
}

# up SCENARIO: log in on both portals, start multipathd, wait for the map
up() {
	local i
	node_settings "$1"
	mp_conf "$1"
	g_login "$IQN" "$PORTAL_A" || g_die "login on $PORTAL_A"
	g_login "$IQN" "$PORTAL_B" || g_die "login on $PORTAL_B"
	DA=$(g_disk "$IQN" "$PORTAL_A") || g_die "no disk on $PORTAL_A"
	DB=$(g_disk "$IQN" "$PORTAL_B") || g_die "no disk on $PORTAL_B"
	udevadm settle -t 30
	[ "$(cat "/sys/block/$DA/device/wwid")" = "$(cat "/sys/block/$DB/device/wwid")" ] ||
		g_die "$DA and $DB have different WWIDs"
	multipathd || g_die "multipathd did not start"
	for i in $(seq 60); do
		MAP=$(dmsetup ls --target multipath 2>/dev/null | awk '$1 != "No" { print $1 }')
		[ -n "$MAP" ] && [ "$(multipath -ll "$MAP" 2>/dev/null | grep -c 'active ready')" = 2 ] && break
		[ "$i" = 20 ] && multipath >/dev/null 2>&1 # no map from uevents yet: build it
		sleep 0.5
	done
	multipath -ll
	[ "$(echo "$MAP" | wc -w)" = 1 ] || g_die "expected one multipath map, got '$MAP'"
	[ "$(multipath -ll "$MAP" | grep -c 'active ready')" = 2 ] || g_die "map $MAP has not two active paths"
	dmsetup mknodes "$MAP"
	[ -b "/dev/mapper/$MAP" ] || g_die "no /dev/mapper/$MAP"
	g_ok "map $MAP over $DA ($PORTAL_A) and $DB ($PORTAL_B)"
}

down() {
	multipathd shutdown >/dev/null 2>&1
	for _ in $(seq 50); do pidof multipathd >/dev/null || break; sleep 0.1; done
	multipath -F >/dev/null 2>&1 || g_bad "multipath -F"
	g_logout "$IQN" "$PORTAL_A" || g_bad "logout on $PORTAL_A"
	g_logout "$IQN" "$PORTAL_B" || g_bad "logout on $PORTAL_B"
}

# the sdX of the active path group
active_disk() {
	multipath -ll "$MAP" | awk '
		/status=active/ { g = 1; next }
		/status=/ { g = 0 }
		g { for (i = 1; i <= NF; i++) if ($i ~ /^sd[a-z]+$/) { print $i; exit } }'
}

watch_paths() {
	while :; do
		multipathd show paths format "%d %t %T" 2>/dev/null | awk -v t="$(g_epoch)" 'NR > 1 { print t, $0 }'
		sleep 0.5
	done >"/tmp/paths.$1" 2>/dev/null
}

# first time (epoch) >= FROM at which DISK has dm state STATE (and checker CHK)
first_state() {
	awk -v from="$1" -v d="$2" -v st="$3" -v chk="${4:-}" \
		'$1 >= from && $2 == d && $3 == st && (chk == "" || $4 == chk) { print $1; exit }' "$5"
}

scenario() {
	local s=$1 cut dev portal sess conn t_cut t_rest rc=0 wp i
	g_log "=== scenario $s"
	up "$s"
	dev=$(active_disk)
	case $dev in
	"$DA") portal=$PORTAL_A ;;
	"$DB") portal=$PORTAL_B ;;
	*) g_die "cannot tell the active path ('$dev')" ;;
	esac
	sess=$(g_session_dir "$dev")
	conn=$(g_conn_dir "$dev")
	g_figure "${s}_replacement_timeout_s" "$(cat "$sess/recovery_tmo")"
	g_figure "${s}_noop_out_interval_s" "$(cat "$conn/ping_tmo" 2>/dev/null || echo ?)"
	g_figure "${s}_noop_out_timeout_s" "$(cat "$conn/recv_tmo" 2>/dev/null || echo ?)"
	g_figure "${s}_map_features" "\"$(dmsetup table "$MAP" | awk '{ n = $4; f = ""; for (i = 5; i < 5 + n; i++) f = f (f ? " " : "") $i; print f }')\""
	g_log "active path $dev on $portal: cutting it for ${CUT_S}s under fio"

	watch_paths "$s" &
	wp=$!
	fio --name=mp --filename="/dev/mapper/$MAP" --direct=1 --ioengine=libaio --iodepth=4 \
		--rw=randwrite --bs=4k --size=64M --time_based --runtime=$((PRE_S + CUT_S + POST_S)) \
		--verify=crc32c --verify_backlog=256 --verify_fatal=1 \
		--write_lat_log="/tmp/lat.$s" --log_unix_epoch=1 >"/tmp/fio.$s" 2>&1 &
	cut=$!
	sleep "$PRE_S"
	t_cut=$(g_epoch)
	g_host cut "$portal"
	g_figure "${s}_cut_request_to_ack_s" "$(awk -v a="$t_cut" -v b="$(g_epoch)" 'BEGIN { printf "%.2f", b - a }')"
	sleep "$CUT_S"
	t_rest=$(g_epoch)
	g_host restore "$portal"
	wait "$cut" || rc=$?
	if [ $rc = 0 ] && grep -q 'err= 0' "/tmp/fio.$s" && ! grep -qE 'err= *[1-9]|verify:|bad' "/tmp/fio.$s"; then
		g_ok "$s: fio saw no I/O error and no verify mismatch through the cut"
	else
		cat "/tmp/fio.$s"
		g_bad "$s: fio failed (status $rc)"
	fi
	# the restored path must come back into the map
	for i in $(seq 120); do
		[ "$(multipath -ll "$MAP" | grep -c 'active ready')" = 2 ] && break
		sleep 0.5
	done
	kill "$wp" 2>/dev/null
	wait "$wp" 2>/dev/null
	multipath -ll "$MAP"
	if [ "$(multipath -ll "$MAP" | grep -c 'active ready')" = 2 ]; then
		g_ok "$s: $dev is active again in $MAP"
	else
		g_bad "$s: $dev did not come back into $MAP"
	fi

	# figures (wall clock in ms since the epoch, as fio logs it)
	cat /tmp/lat."$s"_clat.*.log | sort -t, -k1,1n | awk -F', *' -v c="$t_cut" -v r="$t_rest" -v s="$s" '
		{ if (NR > 1 && $1 - p > gap) { gap = $1 - p; at = p } p = $1; n++ }
		END {
			printf "FIGURE %s_max_completion_gap_s=%.2f\n", s, gap / 1000
			printf "FIGURE %s_gap_began_after_cut_s=%.2f\n", s, at / 1000 - c
			printf "FIGURE %s_io_resumed_after_restore_s=%.2f\n", s, (at + gap) / 1000 - r
			printf "FIGURE %s_ios_completed=%d\n", s, n
		}'
	cat /tmp/lat."$s"_lat.*.log | awk -F', *' -v s="$s" '
		$2 > m { m = $2 } END { printf "FIGURE %s_max_io_latency_s=%.2f\n", s, m / 1e9 }'
	failed=$(first_state "$t_cut" "$dev" failed "" "/tmp/paths.$s")
	back=
	[ -n "$failed" ] && back=$(first_state "$t_rest" "$dev" active ready "/tmp/paths.$s")
	g_figure "${s}_path_failed_after_cut_s" \
		"$([ -n "$failed" ] && awk -v a="$failed" -v b="$t_cut" 'BEGIN { printf "%.1f", a - b }' || echo never)"
	g_figure "${s}_path_back_after_restore_s" \
		"$([ -n "$back" ] && awk -v a="$back" -v b="$t_rest" 'BEGIN { printf "%.1f", a - b }' || echo n/a)"
	down
}

for s in $SCENARIOS; do
	case $s in
	stock | recommended | untuned) scenario "$s" ;;
	*) g_die "unknown scenario $s" ;;
	esac
done
g_end
