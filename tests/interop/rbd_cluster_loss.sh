#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A lost Ceph cluster turns into timely SCSI errors, never a hung daemon (docs/rbd.md, "Cluster
# loss"). One tetherd serves a RAM LUN (0) and an rbd LUN with timeout=3 (1) of a throw-away
# cluster (tests/lib/ceph.sh); under load on both LUNs (tests/tools/rbd_loss.py: one WRITE+READ
# loop per LUN, each on its own session), the cluster is taken away for $HOLD_S s and brought
# back:
#   mon_stop   the monitor SIGSTOPped, then SIGCONT;
#   all_stop   the monitor and the OSD SIGSTOPped, then SIGCONT: every rbd command ends with
#              CHECK CONDITION (the OSD does not answer);
#   mon_kill   the monitor SIGKILLed, then started again on its data; meanwhile `tetherctl lun
#              add` of an image that needs a new cluster connection is refused within its
#              timeout, and succeeds once the monitor is back.
# Each time: every rbd command in flight ends within $BOUND_S s (timeout + margin), GOOD or CHECK
# CONDITION; the RAM LUN keeps serving with no error; `tetherctl session list` answers during the
# fault (mon_kill: `tetherctl lun add`, above); once the cluster is back an rbd READ is GOOD again and returns the data written before.
# FIGURE lines: <scenario>_rbd_{longest_s,first_error_s,errors,good}, <scenario>_recover_s,
# <scenario>_ram_{ios,longest_ms}, <scenario>_ctl_ms.
# Skipped (77) when tetherd was built without librbd, or ceph is missing or does not come up.
#
# Exit: 0 pass, 77 skip (reason printed), 1 fail.
# Environment: TT_BUILD, TT_TOP (see tests/lib/common.sh).

# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
tt_setup rbd_cluster_loss
tt_need "$TT_PYTHON"
TETHERCTL=$TT_BUILD/src/cmd/tetherctl
[ -x "$TETHERCTL" ] || skip "tetherctl is not built ($TETHERCTL)"
ldd "$TETHERD" 2>/dev/null | grep -q librbd || skip "tetherd was built without librbd (librbd-dev)"
# shellcheck source=tests/lib/ceph.sh
. "$(dirname "$0")/../lib/ceph.sh"
ceph_start

TIMEOUT_S=3
BOUND_S=$((TIMEOUT_S + 7))
HOLD_S=8
ceph_rbd create --size 64M --image-feature layering rbd/img || fail "rbd create rbd/img"
tt_free_port P
SOCK=$TT_WORK/a.sock

step "tetherd: LUN 0 ram:16M, LUN 1 rbd:rbd/img,timeout=$TIMEOUT_S"
tt_start a --portal "127.0.0.1:$P" --state-dir none --rpc-socket "$SOCK" --lun ram:16M \
	--lun "rbd:rbd/img,conf=$CEPH_CONF,timeout=$TIMEOUT_S"

# ceph_mon_start: the monitor again on its data (after a SIGKILL); its pid in $TT_WORK/mon.pid
MON_RESTART="ceph-mon --conf $CEPH_CONF -i a -f >>$CEPH_DIR/log/mon.out 2>&1 </dev/null & echo \$! >$TT_WORK/mon.pid"

CTL="timeout 30 $TETHERCTL -s $SOCK"
loss() { # NAME FAULT RESTORE EXPECT [CTL [CTL_FAILS]]
	step "$1: $2; $3 after $HOLD_S s"
	tt_pdu rbd_loss.py --port "$P" --opt name="$1" --opt ram_lun=0 --opt rbd_lun=1 \
		--opt bound="$BOUND_S" --opt hold="$HOLD_S" --opt expect="$4" \
		--opt fault="$2" --opt restore="$3" \
		--opt ctl="${5:-$CTL session list >/dev/null}" ${6:+--opt ctl_fails="$6"} loss ||
		fail "$1: rbd_loss.py loss"
	tt_alive a "$1"
	ok "$1: timely answers from the rbd LUN, the RAM LUN unaffected, rbd I/O back"
}

loss mon_stop "kill -STOP $CEPH_MON_PID" "kill -CONT $CEPH_MON_PID" any
loss all_stop "kill -STOP $CEPH_MON_PID $CEPH_OSD_PID" "kill -CONT $CEPH_OSD_PID $CEPH_MON_PID" error
rm -f "$TT_WORK/mon.pid"
# with no monitor, an image that needs a new cluster connection (another timeout) cannot be
# opened: `tetherctl lun add` is refused within that timeout while the other LUNs serve
ceph_rbd create --size 16M --image-feature layering rbd/img2 || fail "rbd create rbd/img2"
loss mon_kill "kill -KILL $CEPH_MON_PID" "$MON_RESTART" any \
	"$CTL lun add $TT_IQN 2 rbd:rbd/img2,conf=$CEPH_CONF,timeout=2" \
	"cannot connect to the cluster within 2 s"
[ -s "$TT_WORK/mon.pid" ] && CEPH_MON_PID=$(cat "$TT_WORK/mon.pid")
step "the monitor is back: the same LUN is added"
t0=$SECONDS
# shellcheck disable=SC2086 # $CTL is a command line
until tt_capture 30 $CTL lun add "$TT_IQN" 2 "rbd:rbd/img2,conf=$CEPH_CONF,timeout=2"; do
	[ $((SECONDS - t0)) -lt 60 ] || fail "tetherctl lun add after the monitor's restart: $OUT"
	sleep 1
done
ok "LUN 2 (rbd/img2) added once the monitor is back ($((SECONDS - t0)) s after the first try)"

tt_stop a
echo "rbd_cluster_loss: passed"
