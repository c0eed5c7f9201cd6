# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# ceph.sh - a throw-away Ceph cluster for the rbd tests: one ceph-mon and one ceph-osd on
# 127.0.0.1, the OSD keeping its objects in memory (memstore), cephx off, one pool "rbd" of
# size 1 with the rbd application enabled. Source it after common.sh and tt_setup:
#
#     . "$(dirname "$0")/../lib/ceph.sh"
#     ceph_start                       # skip (77) when ceph is missing or does not come up in 60 s
#     ceph_rbd create --size 64M rbd/img
#     tt_start a --portal ... --lun "rbd:rbd/img,conf=$CEPH_CONF"
#
# Everything lives in $TT_WORK/ceph; the daemons are killed at exit (tt_at_exit).
# CEPH_CONF is the configuration file clients use (rbd, rados, tetherd's conf=).
# Set before ceph_start, CEPH_NETNS=NS runs the daemons (and ceph_cmd, ceph_rbd, ceph_rados) in
# network namespace NS, on the address CEPH_ADDR (default 127.0.0.1) that NS must hold; clients
# in other namespaces need a route to it (tests/fault/rbd_gateway_failover.sh).
# Set before ceph_start, CEPH_OSD_CONF and CEPH_CLIENT_CONF add their lines to the [osd] and
# [client] sections of ceph.conf (e.g. "osd client watch timeout = 4" and "objecter tick
# interval = 1" for a short watch timeout that clients still ping in time;
# tests/interop/rbd_pr_watch.sh).

CEPH_DIR='' CEPH_CONF='' CEPH_MON_PID='' CEPH_OSD_PID=''
CEPH_NETNS=${CEPH_NETNS:-} CEPH_ADDR=${CEPH_ADDR:-127.0.0.1} CEPH_OSD_CONF=${CEPH_OSD_CONF:-}
CEPH_CLIENT_CONF=${CEPH_CLIENT_CONF:-}
CEPH_NS=() # the command prefix that enters $CEPH_NETNS (empty: this namespace)

ceph_cmd() { timeout 30 "${CEPH_NS[@]}" ceph --conf "$CEPH_CONF" "$@"; }
ceph_rbd() { timeout 60 "${CEPH_NS[@]}" rbd --conf "$CEPH_CONF" "$@"; }
ceph_rados() { timeout 30 "${CEPH_NS[@]}" rados --conf "$CEPH_CONF" "$@"; }

# ceph_stop: kills the daemons (SIGKILL: memstore keeps nothing worth a clean stop).
ceph_stop() {
	local p
	for p in $CEPH_OSD_PID $CEPH_MON_PID; do
		kill -KILL "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	CEPH_OSD_PID='' CEPH_MON_PID=''
}

# ceph_osd_pause / ceph_osd_resume: stop and continue the OSD (a stalled cluster).
ceph_osd_pause() { kill -STOP "$CEPH_OSD_PID"; }
ceph_osd_resume() { kill -CONT "$CEPH_OSD_PID"; }

ceph_fail() {
	local f
	for f in "$CEPH_DIR"/log/*.log; do
		[ -s "$f" ] && { echo "--- last lines of $f"; tail -n 15 "$f"; }
	done
	ceph_stop
	skip "the test Ceph cluster did not come up: $*"
}

ceph_start() {
	local port fsid uuid i t0=$SECONDS
	tt_need ceph ceph-mon ceph-osd monmaptool ceph-authtool rbd rados uuidgen
	CEPH_DIR=$TT_WORK/ceph
	CEPH_CONF=$CEPH_DIR/ceph.conf
	local net=127.0.0.0/8
	CEPH_NS=()
	if [ -n "$CEPH_NETNS" ]; then
		CEPH_NS=(ip netns exec "$CEPH_NETNS")
		net=$CEPH_ADDR/32
	fi
	mkdir -p "$CEPH_DIR"/{mon,osd,run,log} || fail "mkdir $CEPH_DIR"
	tt_at_exit ceph_stop
	if [ -n "$CEPH_NETNS" ]; then port=6789; else tt_free_port port; fi
	fsid=$(uuidgen)
	cat >"$CEPH_CONF" <<CONF
[global]
fsid = $fsid
mon host = v2:$CEPH_ADDR:$port
mon initial members = a
public network = $net
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = false
ms bind ipv6 = false
ms bind msgr1 = false
run dir = $CEPH_DIR/run
log file = $CEPH_DIR/log/\$name.log
pid file = $CEPH_DIR/run/\$name.pid
keyring = $CEPH_DIR/keyring
osd pool default size = 1
osd pool default min size = 1
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 0
mon osd full ratio = .99
mon osd backfillfull ratio = .98
mon osd nearfull ratio = .97
mgr initial modules =
[client]
admin socket =
log file = $CEPH_DIR/log/client.\$pid.log
$CEPH_CLIENT_CONF
[mon]
admin socket = $CEPH_DIR/run/\$name.asok
mon data = $CEPH_DIR/mon
mon cluster log file = $CEPH_DIR/log/cluster.log
[osd]
admin socket = $CEPH_DIR/run/\$name.asok
osd data = $CEPH_DIR/osd
osd objectstore = memstore
memstore device bytes = 1073741824
osd max object name len = 256
osd max object namespace len = 64
osd op num shards = 1
osd op num threads per shard = 1
osd heartbeat grace = 600
$CEPH_OSD_CONF
CONF
	ceph-authtool --create-keyring "$CEPH_DIR/keyring" --gen-key -n mon. --cap mon 'allow *' \
		>/dev/null 2>&1 || ceph_fail "ceph-authtool failed"
	monmaptool --create --addv a "[v2:$CEPH_ADDR:$port]" --fsid "$fsid" "$CEPH_DIR/monmap" \
		>/dev/null 2>&1 || ceph_fail "monmaptool failed"
	"${CEPH_NS[@]}" ceph-mon --conf "$CEPH_CONF" --mkfs -i a --monmap "$CEPH_DIR/monmap" \
		>"$CEPH_DIR/log/mkfs-mon.out" 2>&1 || ceph_fail "ceph-mon --mkfs: $(tail -n 3 "$CEPH_DIR/log/mkfs-mon.out")"
	"${CEPH_NS[@]}" ceph-mon --conf "$CEPH_CONF" -i a -f >"$CEPH_DIR/log/mon.out" 2>&1 &
	CEPH_MON_PID=$!
	uuid=$(uuidgen)
	i=$(ceph_cmd osd create "$uuid" 2>&1) || ceph_fail "ceph osd create: $i"
	[ "$i" = 0 ] || ceph_fail "ceph osd create gave id '$i'"
	"${CEPH_NS[@]}" ceph-osd --conf "$CEPH_CONF" -i 0 --mkfs --osd-uuid "$uuid" \
		>"$CEPH_DIR/log/mkfs-osd.out" 2>&1 || ceph_fail "ceph-osd --mkfs: $(tail -n 3 "$CEPH_DIR/log/mkfs-osd.out")"
	"${CEPH_NS[@]}" ceph-osd --conf "$CEPH_CONF" -i 0 -f >"$CEPH_DIR/log/osd.out" 2>&1 &
	CEPH_OSD_PID=$!
	ceph_cmd osd pool create rbd 8 8 >/dev/null 2>&1 || ceph_fail "ceph osd pool create failed"
	ceph_cmd osd pool application enable rbd rbd >/dev/null 2>&1 ||
		ceph_fail "ceph osd pool application enable failed"
	# up when an object can be written and read back
	while ! echo ok | timeout 5 "${CEPH_NS[@]}" rados --conf "$CEPH_CONF" -p rbd put probe - 2>/dev/null; do
		[ $((SECONDS - t0)) -lt 60 ] || ceph_fail "no object written within 60 s"
		kill -0 "$CEPH_OSD_PID" 2>/dev/null || ceph_fail "ceph-osd exited"
		sleep 0.5
	done
	ceph_rados -p rbd rm probe >/dev/null 2>&1
	echo "    ceph: one monitor, one memstore OSD up in $((SECONDS - t0)) s ($CEPH_CONF)"
}
