# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# guest-iser-lifecycle-b.sh - guest B of iser_lifecycle.sh, the initiator (ib_iser, open-iscsi
# iface iser) of the tetherd in guest A over soft-RoCE on the private link (eth1); see
# guest-iser-lifecycle-a.sh for the sequence. Here: (a) fio with crc32c verification on the LUN,
# the link cut (ip link set eth1 down: nothing reaches A, not even a disconnect) while it writes;
# (c) the link back once A reaped the connection: iscsid recovers the session, fio ends without
# an error and its data verifies; (d) fio again while A's tetherd is stopped with SIGTERM and
# started again: recovery, no error, data verified; (b) fio writing when the host powers this
# guest off.
#
# Variables: TT_VM_LINK_IP, TT_VM_PEER_IP (from the host).

# shellcheck source=guest-lib.sh source-path=SCRIPTDIR
. /mnt/host/tests/vm/lib/guest-lib.sh

IQN=iqn.2026-11.org.tether:iserlc
PEER=${TT_VM_PEER_IP:?}
dmesg -n 1
# a failure that ends this guest's part tells guest A at once
b_die() {
	g_link_put cut "FAILED: $*"
	g_link_put io-d "FAILED: $*"
	g_link_put io-b "FAILED: $*"
	timeout 10 iscsiadm -m session -P 1 2>&1 | head -20
	ip neigh
	echo "--- rxe0 counters"
	grep -H . /sys/class/infiniband/rxe0/ports/1/hw_counters/* 2>/dev/null | sed 's|.*/||'
	echo "--- dmesg (last 60 lines)"
	dmesg | tail -60
	g_die "$*"
}
g_link_up eth1
g_ok "rxe0 on eth1 (${TT_VM_LINK_IP%/*}) ACTIVE"
modprobe ib_iser || g_die "modprobe ib_iser"
g_iscsi_start
g_link_wait target-up 400 >/dev/null || b_die "tetherd in guest A did not come up"
out=$(timeout 60 iscsiadm -m discovery -t sendtargets -p "$PEER:3260" -I iser 2>&1) ||
	b_die "SendTargets over iSER failed: $out"
iser() { timeout 90 iscsiadm -m node -T "$IQN" -p "$PEER:3260" -I iser "$@"; }
# the initiator notices the cut soon, and keeps the I/O queued while it recovers
iser -o update -n node.conn[0].timeo.noop_out_interval -v 2 >/dev/null
iser -o update -n node.conn[0].timeo.noop_out_timeout -v 2 >/dev/null
iser -o update -n node.session.timeo.replacement_timeout -v 120 >/dev/null
iser --login >/dev/null || b_die "login over iSER failed"
DEV=$(g_disk "$IQN" "$PEER") || b_die "no disk attached to the iSER session"
g_ok "logged in over iSER, LUN is /dev/$DEV"

state() { timeout 10 iscsiadm -m session -P 1 2>/dev/null | awk '/iSCSI Session State:/ { print $4; exit }'; }
# wait_logged_in SECONDS: 0 once the session is LOGGED_IN again
wait_logged_in() {
	local end=$((SECONDS + $1))
	while [ $SECONDS -lt $end ]; do
		[ "$(state)" = LOGGED_IN ] && return 0
		sleep 0.2
	done
	return 1
}
# fio_job NAME OFFSET SIZE [ARGS...]: random writes of 4-64 KiB, crc32c verified
fio_job() {
	local name=$1 off=$2 size=$3
	shift 3
	fio --name="$name" --filename="/dev/$DEV" --direct=1 --ioengine=libaio --iodepth=8 \
		--rw=randwrite --bsrange=4k-64k --offset="$off" --size="$size" --randseed=7 \
		--verify=crc32c --verify_fatal=1 --verify_backlog=64 "$@" >"/tmp/fio.$name" 2>&1
}
fio_check() { # NAME RC LABEL
	if [ "$2" = 0 ] && grep -q 'err= 0' "/tmp/fio.$1"; then
		g_ok "$3: fio ended without an error or a verify mismatch"
	else
		tail -20 "/tmp/fio.$1"
		g_bad "$3: fio status $2"
	fi
}

# The cut: TT_ISER_LC_CUT=nft (default) drops RoCEv2 (UDP 4791) both ways in this guest, the
# link stays up; =link takes eth1 down. Either way nothing reaches guest A, not even a
# disconnect.
CUT=${TT_ISER_LC_CUT:-nft}
cut_on() {
	case $CUT in
	link) ip link set eth1 down ;;
	*)
		nft -f - <<'NFT' || b_die "nft failed"
table inet tt_roce_cut {
	chain in { type filter hook input priority -10; policy accept; udp dport 4791 drop; }
	chain out { type filter hook output priority -10; policy accept; udp dport 4791 drop; }
}
NFT
		;;
	esac
}
cut_off() {
	case $CUT in
	link) ip link set eth1 up ;;
	*) nft delete table inet tt_roce_cut ;;
	esac
}

# ---- (a) link cut with writes in flight, (c) recovery
fio_job cut 0 16M --rate=2m &
fio_pid=$!
sleep 3
kill -0 "$fio_pid" 2>/dev/null || g_bad "fio ended before the cut"
read -r off rtt < <(g_host_offset)
echo "  clock: host - guest B = $off s (measured within $rtt s)"
t0=$EPOCHREALTIME
cut_on
# in force by the time the command returns (nft commits its rules at its end; under TCG loading
# them takes a second or more)
t=$EPOCHREALTIME
g_log "RoCE cut ($CUT)"
g_figure iser_lc_cut_cmd_s "$(awk -v a="$t0" -v b="$t" 'BEGIN { printf "%.2f", b - a }')"
g_link_put cut "host=$(awk -v t="$t" -v o="$off" 'BEGIN { printf "%.3f", t + o }')"
g_link_wait reaped 60 >/dev/null || g_bad "guest A did not report the connection reaped"
sleep 1
cut_off
t0=$(g_now)
g_log "RoCE back"
if wait_logged_in 90; then
	g_ok "session recovered after the link came back"
	g_figure iser_lc_recovery_s "$(g_since "$t0")"
else
	b_die "session not LOGGED_IN 90 s after the link came back"
fi
rc=0
wait "$fio_pid" || rc=$?
fio_check cut "$rc" "link cut"
rc=0
fio_job cut 0 16M --verify_only || rc=$?
if [ "$rc" = 0 ]; then g_ok "link cut: data written across the cut verifies"
else tail /tmp/fio.cut; g_bad "link cut: verify_only"; fi

# ---- (d) tetherd stopped with SIGTERM and started again while fio writes
rm -f /mnt/link/target-up-2
fio_job term 24M 8M --rate=1m &
fio_pid=$!
sleep 2
g_link_put io-d "fio writing to /dev/$DEV"
g_link_wait target-up-2 200 >/dev/null || b_die "tetherd in guest A did not come back"
t0=$(g_now)
if wait_logged_in 90; then
	g_ok "session recovered after tetherd's restart"
	g_figure iser_lc_restart_recovery_s "$(g_since "$t0")"
else
	b_die "session not LOGGED_IN 90 s after tetherd's restart"
fi
rc=0
wait "$fio_pid" || rc=$?
fio_check term "$rc" "SIGTERM and restart"
rc=0
fio_job cut 0 16M --verify_only || rc=$?
if [ "$rc" = 0 ]; then g_ok "the data of the link-cut phase still verifies after the restart"
else g_bad "verify_only after the restart"; fi

# ---- (b) powered off with writes in flight
fio_job off 40M 16M --rate=1m --time_based --runtime=120 &
sleep 2
g_ok "B done (checks before the power-off)"
g_link_put io-b "fio writing to /dev/$DEV, G_FAILS=$G_FAILS"
sleep 120
g_bad "not powered off"
g_end
