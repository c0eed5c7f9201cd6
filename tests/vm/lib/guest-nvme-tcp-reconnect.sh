# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# guest-nvme-tcp-reconnect.sh - guest side of nvme_tcp_reconnect.sh: tetherd killed and
# restarted under fio verify load; a silent cut reaped by tetherd's keep-alive timeout, then
# restored: the host reconnects each time, data intact.
#
# Variables: KATO (keep-alive timeout the host asks for, seconds), TT_VM_LUN_MB.

# shellcheck source=guest-lib.sh source-path=SCRIPTDIR
. /mnt/host/tests/vm/lib/guest-lib.sh

KATO=${KATO:-5}
NQN=nqn.2026-11.org.tether:default
FIO_SIZE=48M
dmesg -n 1
modprobe nvme_tcp || g_die "modprobe nvme_tcp"
mkdir -p /etc/nvme
nvme gen-hostnqn >/etc/nvme/hostnqn

diag() {
	echo "--- nvme list-subsys"
	nvme list-subsys 2>&1 | head -20
	echo "--- dmesg (last 30 lines)"
	dmesg | tail -30
}

# ctrl_state: state of the controller of $NQN (live, connecting, ...)
ctrl_state() {
	local c
	for c in /sys/class/nvme/nvme*; do
		[ "$(cat "$c/subsysnqn" 2>/dev/null)" = "$NQN" ] && { cat "$c/state"; return 0; }
	done
	echo none
}

# wait_live SECONDS: until the controller is live again
wait_live() {
	local _
	for _ in $(seq $(($1 * 5))); do
		[ "$(ctrl_state)" = live ] && return 0
		sleep 0.2
	done
	return 1
}

# fio_job: 48 MiB, each block written once, at a paced 2.5 MiB/s of writes (about 19 s) so the
# job spans the kill and the restart whatever the machine's speed; --verify_only replays it
fio_job() {
	fio --name=rc --filename="/dev/$DEV" --direct=1 --ioengine=libaio --iodepth=8 \
		--rw=randwrite --bsrange=4k-64k --size=$FIO_SIZE --offset=16M \
		--verify=crc32c --verify_fatal=1 --verify_backlog=64 --randseed=4242 --rate=,2560k "$@"
}

timeout 60 nvme connect -t tcp -a "$PORTAL_A" -s 4420 -n "$NQN" --ctrl-loss-tmo=120 \
	--reconnect-delay=1 --keep-alive-tmo="$KATO" || { diag; g_die "nvme connect failed"; }
DEV=$(g_nvme_ns "$NQN") || { diag; g_die "no namespace device"; }
g_ok "connected (ctrl-loss-tmo 120, reconnect-delay 1, keep-alive-tmo $KATO), namespace /dev/$DEV"
kato=$(nvme get-feature "/dev/$DEV" -f 0x0f -H 2>/dev/null | grep -o 'Keep Alive Timer (KATO): [0-9]*' || true)
echo "  $kato"

# ---- 1. tetherd SIGKILL + restart under fio verify load
fio_job >/tmp/fio1.out 2>&1 &
fpid=$!
sleep 4
kill -0 "$fpid" 2>/dev/null || { cat /tmp/fio1.out; g_die "fio ended before the kill: nothing was in flight"; }
t0=$(g_now)
g_host kill
g_log "tetherd killed"
sleep 2
g_host start
g_log "tetherd started again"
if wait_live 60; then
	g_figure reconnect_after_kill_s "$(g_since "$t0")"
	g_ok "controller live again after the restart"
else
	g_bad "controller not live 60 s after the restart (state $(ctrl_state))"
fi
kill -0 "$fpid" 2>/dev/null && g_ok "fio still running across the restart" ||
	g_bad "fio ended before the controller came back"
rc=0
wait "$fpid" || rc=$?
if [ "$rc" = 0 ] && ! grep -qiE 'err= *[1-9]|verify failed|bad magic|bad header' /tmp/fio1.out; then
	g_ok "fio randwrite + crc32c verify backlog across SIGKILL/restart: no error"
else
	tail -30 /tmp/fio1.out
	g_bad "fio failed across the restart (status $rc)"
fi
grep -E 'WRITE:|READ:' /tmp/fio1.out | sed 's/^/  /'
if fio_job --verify_only >/tmp/fio2.out 2>&1; then g_ok "all $FIO_SIZE verify after the restart"
else tail -20 /tmp/fio2.out; g_bad "data does not verify after the restart"; fi
dmesg | grep -E 'nvme[0-9]+: (Reconnecting|Successfully reconnected|failed to connect)' | tail -5 | sed 's/^/  /'

# ---- 2. silent host: cut (host side, nft drop); tetherd's keep-alive timer must end it
[ "$(ctrl_state)" = live ] || g_die "controller not live before the cut"
g_host cut "$PORTAL_A"
g_log "path to $PORTAL_A cut; waiting $((KATO + 15)) s"
sleep $((KATO + 15))
g_host restore "$PORTAL_A"
t0=$(g_now)
if wait_live 90; then
	g_figure reconnect_after_restore_s "$(g_since "$t0")"
	g_ok "host reconnected after the restore"
else
	g_bad "controller not live 90 s after the restore (state $(ctrl_state))"
fi
if fio_job --verify_only >/tmp/fio3.out 2>&1; then g_ok "data verifies after the cut and reconnect"
else tail -20 /tmp/fio3.out; g_bad "data does not verify after the cut"; fi
nvme disconnect -n "$NQN" >/dev/null || g_bad "nvme disconnect"
[ "$G_FAILS" = 0 ] || diag
g_end
