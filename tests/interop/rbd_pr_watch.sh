#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A gateway whose watch of the shared reservation record broke (docs/rbd.md, "Several
# gateways"): a throw-away cluster (tests/lib/ceph.sh) with a short watch timeout
# (osd client watch timeout = 4 s, clients pinging every second), two gateways A and B on one rbd image. Initiator A registers
# and reserves through A; gateway A is stopped (SIGSTOP) longer than the watch timeout, so its
# watch is timed out and it misses the message; B PREEMPTs A's key meanwhile; once A continues,
# A watches again and reads the record: A's WRITEs through A reach RESERVATION CONFLICT within
# 30 s (rbd.py pr-watch). Without the re-watch, A kept answering them GOOD from its stale copy.
# Skipped (77) when tetherd was built without librbd, or ceph is missing or does not come up.
#
# Exit: 0 pass, 77 skip (reason printed), 1 fail.
# Environment: TT_BUILD, TT_TOP (see tests/lib/common.sh).

# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
tt_setup rbd_pr_watch
tt_need "$TT_PYTHON"
ldd "$TETHERD" 2>/dev/null | grep -q librbd || skip "tetherd was built without librbd (librbd-dev)"
# shellcheck source=tests/lib/ceph.sh
. "$(dirname "$0")/../lib/ceph.sh"
WATCH_TIMEOUT=4
CEPH_OSD_CONF="osd client watch timeout = $WATCH_TIMEOUT"
# librados pings its watches every objecter tick (5 s by default): more often than they time out
CEPH_CLIENT_CONF="objecter tick interval = 1"
ceph_start

ceph_rbd create --size 16M --image-feature layering rbd/watched || fail "rbd create rbd/watched"
tt_free_port PA
tt_free_port PB
TA=iqn.2026-11.org.tether:gateway-a
TB=iqn.2026-11.org.tether:gateway-b

gateway() { # NAME TARGET TAG PORT
	cat >"$TT_WORK/$1.json" <<JSON
{
  "targets": [{
    "name": "$2",
    "tpgs": [{ "tag": $3, "portals": ["127.0.0.1:$4"] }],
    "luns": [{ "id": 0, "backend": "rbd:rbd/watched,conf=$CEPH_CONF" }]
  }]
}
JSON
	TT_WAIT_PORTS=$4 tt_start "$1" --config "$TT_WORK/$1.json" --state-dir none
}

step "gateway A (TPG 1) and gateway B (TPG 2) export rbd/watched"
gateway a "$TA" 1 "$PA"
gateway b "$TB" 2 "$PB"
ok "both gateways up"

step "gateway A stopped past the watch timeout while B preempts A's key"
tt_pdu rbd.py --port "$PA" --target "$TA" --opt port2="$PB" --opt target2="$TB" \
	--opt stop=$((WATCH_TIMEOUT * 2 + 1)) --opt bound=30 \
	--opt pause="kill -STOP ${TT_PID[a]}" --opt resume="kill -CONT ${TT_PID[a]}" \
	pr-watch || fail "rbd.py pr-watch"
grep -q "the watch broke" "${TT_LOG[a]}" || fail "gateway A never logged a broken watch"
grep -q "watched again" "${TT_LOG[a]}" || fail "gateway A never logged watching again"
ok "gateway A watched again and enforced B's PREEMPT"

tt_alive a
tt_alive b
tt_stop a
tt_stop b
echo "rbd_pr_watch: passed"
