# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# guest-srp-restart.sh - guest side of srp_restart.sh: tetherd with srp://ADDR and a file-backed
# LUN; ib_srp logged in with reconnect_delay 2 s, fast_io_fail_tmo 30 s and dev_loss_tmo 60 s
# (written to /sys/class/srp_remote_ports/port-*/ and read back). fio writes 32 MiB, each block
# once, paced at 1.5 MiB/s (about 21 s) so that the job spans the kill and the restart on any
# machine; 4 s in, tetherd is SIGKILLed, 2 s later started again with the same arguments (the
# same target port identifier). ib_srp must log in again by itself (FIGURE srp_reconnect_s: from
# the kill to the channel live again), fio must end without an error or a verify mismatch, the
# same /dev/sdX must still be there, and --verify_only must read every block back. The file
# keeps what tetherd acknowledged: a write is in the page cache before its SRP_RSP. Then
# SIGTERM with the channel live: it is logged out and drained, tetherd exits 0.
#
# Variables: TT_VM_GUEST_BUILD (set by the host).

# shellcheck source=guest-lib.sh source-path=SCRIPTDIR
. /mnt/host/tests/vm/lib/guest-lib.sh

IQN=iqn.2026-11.org.tether:srprs
SRP_SYS=/sys/class/infiniband_srp/srp-rxe0-1
IMG=/var/tmp/srp-restart.img
RECONNECT_DELAY=2
FAST_IO_FAIL=30
DEV_LOSS=60
dmesg -n 1
IP=$(g_addr eth0)
[ -n "$IP" ] || g_die "eth0 has no address"
g_rxe_up eth0 rxe0
rm -f "$IMG"
ARGS=(--target "$IQN" --portal "srp://$IP" --lun "file:$IMG,size=64M,create" --loops 2)
g_tetherd_start "${ARGS[@]}"
out=$(g_ctl --json portal list 2>&1) || g_die "tetherctl portal list: $out"
LINE=$(sed -n 's/.*"add_target": *"\([^"]*\)".*/\1/p' <<<"$out" | head -1)
[ -n "$LINE" ] || { echo "$out"; g_die "no add_target line"; }
modprobe ib_srp || g_die "modprobe ib_srp"
for _ in $(seq 50); do [ -e "$SRP_SYS/add_target" ] && break; sleep 0.2; done
[ -e "$SRP_SYS/add_target" ] || g_die "no $SRP_SYS/add_target"
echo "$LINE" >"$SRP_SYS/add_target" || { dmesg | tail; g_die "add_target refused"; }

DEV=
for _ in $(seq 150); do
	for h in /sys/class/scsi_host/host*; do
		[ "$(cat "$h/proc_name" 2>/dev/null)" = ib_srp ] || continue
		for d in "$h"/device/target*/*/block/*; do [ -e "$d" ] && DEV=$(basename "$d"); done
	done
	[ -n "$DEV" ] && break
	sleep 0.2
done
[ -n "$DEV" ] || { dmesg | tail -20; g_die "no disk of ib_srp"; }
udevadm settle 2>/dev/null || true
for _ in $(seq 50); do [ -b "/dev/$DEV" ] && break; sleep 0.2; done
PORT=$(ls -d /sys/class/srp_remote_ports/port-* 2>/dev/null | head -1)
[ -n "$PORT" ] || g_die "no srp_remote_ports entry"
# dev_loss first: fast_io_fail_tmo must stay below it at every step
echo $DEV_LOSS >"$PORT/dev_loss_tmo" && echo $FAST_IO_FAIL >"$PORT/fast_io_fail_tmo" &&
	echo $RECONNECT_DELAY >"$PORT/reconnect_delay" || g_die "cannot set the timeouts of $PORT"
got="$(cat "$PORT/reconnect_delay") $(cat "$PORT/fast_io_fail_tmo") $(cat "$PORT/dev_loss_tmo")"
[ "$got" = "$RECONNECT_DELAY $FAST_IO_FAIL $DEV_LOSS" ] || g_die "$PORT timeouts read back as $got"
g_ok "ib_srp logged in (/dev/$DEV); $PORT: reconnect_delay $RECONNECT_DELAY s, fast_io_fail_tmo $FAST_IO_FAIL s, dev_loss_tmo $DEV_LOSS s"

live_channels() { g_ctl --json srp list 2>/dev/null | grep -c '"state": *"live"'; }

fio_job() {
	fio --name=rs --filename="/dev/$DEV" --direct=1 --ioengine=libaio --iodepth=8 \
		--rw=randwrite --bsrange=4k-64k --size=32M --verify=crc32c --verify_fatal=1 \
		--verify_backlog=64 --randseed=4343 --rate=,1536k "$@"
}
fio_job >/tmp/fio1.out 2>&1 &
fpid=$!
sleep 4
kill -0 "$fpid" 2>/dev/null || { cat /tmp/fio1.out; g_die "fio ended before the kill: nothing was in flight"; }
t0=$(g_now)
g_tetherd_stop KILL
g_log "tetherd SIGKILLed under fio"
sleep 2
g_tetherd_start "${ARGS[@]}"
tup=$(g_now)
g_figure srp_restart_tetherd_up_s "$(g_since "$t0")"
live=""
for _ in $(seq 300); do
	[ "$(live_channels)" -ge 1 ] && { live=1; break; }
	sleep 0.2
done
if [ -n "$live" ]; then
	g_figure srp_reconnect_s "$(g_since "$t0")"
	g_figure srp_reconnect_after_start_s "$(g_since "$tup")"
	g_ok "ib_srp logged in again by itself after the restart"
else
	dmesg | tail -20; tail -20 "$G_TETHERD_LOG"; g_bad "no live channel 60 s after the restart"
fi
kill -0 "$fpid" 2>/dev/null && g_ok "fio still running across the restart" ||
	g_bad "fio ended before the channel came back (not a test of the restart)"
rc=0
wait "$fpid" || rc=$?
if [ "$rc" = 0 ] && ! grep -qiE 'err= *[1-9]|verify failed|bad magic|bad header' /tmp/fio1.out; then
	g_ok "fio randwrite + crc32c verify across SIGKILL and restart: no error"
else
	tail -30 /tmp/fio1.out; dmesg | tail -20
	g_bad "fio failed across the restart (status $rc)"
fi
grep -E 'WRITE:' /tmp/fio1.out | sed 's/^/  /'
dmesg | grep -E 'ib_srp|srp' | grep -iE 'reconnect|DREQ|failed|logout' | tail -6 | sed 's/^/  dmesg: /'
if [ -b "/dev/$DEV" ] && [ -e "$PORT" ]; then g_ok "/dev/$DEV and $PORT stayed through the restart"
else g_bad "/dev/$DEV or $PORT went away"; fi
if fio_job --verify_only >/tmp/fio2.out 2>&1; then g_ok "all 32 MiB verify after the restart"
else tail -20 /tmp/fio2.out; g_bad "data does not verify after the restart"; fi

# ---- SIGTERM with the channel live: tetherd logs it out (SRP_T_LOGOUT, disconnect), waits for
# it to drain, refuses ib_srp's reconnects meanwhile and exits 0
# (ib_srp opens one channel per completion vector it uses: one or two here)
nch=$(live_channels)
[ "$nch" -ge 1 ] || g_bad "no live channel before SIGTERM"
log=$G_TETHERD_LOG
t0=$(g_now)
g_tetherd_finish
g_figure srp_sigterm_exit_s "$(g_since "$t0")"
if grep -q "shutting down: logging $nch channel(s) out" "$log" &&
	[ "$(grep -c "target logout, reason 0" "$log")" -ge "$nch" ] &&
	! grep -q "still draining" "$log"; then
	g_ok "SIGTERM: the $nch live channel(s) logged out and drained before the exit"
else
	tail -8 "$log"; g_bad "SIGTERM did not log the $nch channel(s) out"
fi
dmesg | grep -iE 'target logout' | tail -1 | sed 's/^/  dmesg: /'
echo 1 >"$PORT/delete"
for _ in $(seq 150); do [ -e "$PORT" ] || break; sleep 0.2; done
rm -f "$IMG"
g_end
