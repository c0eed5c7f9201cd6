# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# guest-iser-lifecycle-a.sh - guest A of iser_lifecycle.sh, the target: soft-RoCE on the private
# link (eth1), tetherd of TT_VM_GUEST_BUILD with an iser:// portal on the link's address, a
# file-backed LUN (kept across a restart) and a short NOP-In keepalive. Guest B is the initiator
# (guest-iser-lifecycle-b.sh); the two wait for each other through flags in /mnt/link.
#
#   (a) B cuts its link (ip link set eth1 down) with writes in flight: tetherd must end the
#       connection by its NOP-In keepalive within interval + timeout + margin of the cut, and
#       the session must be gone; (c) B's link comes back and B recovers (checked in B).
#   (d) SIGTERM of tetherd while the recovered session is live and writing: exit status 0, no
#       sanitizer report; tetherd is started again and B recovers once more (checked in B).
#   (b) the host kills B's QEMU with writes in flight: the same reaping, the session gone.
#   In the end tetherd exits 0 on SIGTERM and no tetherd log holds a sanitizer report or an
#   error-level line.
#
# Figures: iser_lc_cut_reap_s and iser_lc_poweroff_reap_s, seconds from the cut (B's clock when
# its cut command returned; the host's just before it killed B's QEMU) to tetherd's log line
# that ended the connection, the times compared on the host's clock (g_host_offset: each guest's
# offset to the host measured through a file on the shared folder); iser_lc_sigterm_exit_s.
#
# Variables: TT_VM_GUEST_BUILD, TT_VM_LINK_IP (from the host), TT_ISER_LC_NOP_INTERVAL (2),
# TT_ISER_LC_NOP_TIMEOUT (2), TT_ISER_LC_MARGIN (2 s: TCG, the clock comparison),
# TT_ISER_LC_TETHERD_ARGS (more tetherd options, e.g. --debug rdma).

# shellcheck source=guest-lib.sh source-path=SCRIPTDIR
. /mnt/host/tests/vm/lib/guest-lib.sh

IQN=iqn.2026-11.org.tether:iserlc
NOP_I=${TT_ISER_LC_NOP_INTERVAL:-2}
NOP_T=${TT_ISER_LC_NOP_TIMEOUT:-2}
MARGIN=${TT_ISER_LC_MARGIN:-2}
BOUND=$(awk -v a="$NOP_I" -v b="$NOP_T" -v c="$MARGIN" 'BEGIN { print a + b + c }')
dmesg -n 1
g_link_up eth1
IP=${TT_VM_LINK_IP%/*}
g_ok "rxe0 on eth1 ($IP) ACTIVE"
ARGS=(--target "$IQN" --portal "iser://$IP:3260" --lun "file:/tmp/lun0.img,size=64M,create"
	--loops 1 --nop-interval "$NOP_I" --nop-timeout "$NOP_T")
# shellcheck disable=SC2206 # several words
ARGS+=(${TT_ISER_LC_TETHERD_ARGS:-})
g_tetherd_start "${ARGS[@]}"
g_link_put target-up

# closing_after LOG T0: the first "closing:" line of an iSCSI connection logged at or after
# T0 - 1 (epoch; 1 s for the clock comparison's error): prints "EPOCH REASON"
closing_after() {
	awk -v t0="$2" '$3 == "iscsi:" && / closing: / && $1 + 0 >= t0 - 1 {
		r = $0; sub(/.* closing: /, "", r); print $1, r; exit }' "$1"
}

# sessions: how many sessions tetherd lists
sessions() { g_ctl --json session list 2>/dev/null | grep -c '"id"' || true; }

# reaped LABEL T0 FIGURE: waits up to 30 s for the connection's end after T0, checks the reason
# and the bound, then that the session is gone
reaped() {
	local label=$1 t0=$2 fig=$3 line="" at why dt
	for _ in $(seq 300); do
		line=$(closing_after "$G_TETHERD_LOG" "$t0")
		[ -n "$line" ] && break
		sleep 0.1
	done
	if [ -z "$line" ]; then
		tail -20 "$G_TETHERD_LOG"
		g_bad "$label: tetherd did not end the connection within 30 s"
		return 1
	fi
	at=${line%% *} why=${line#* }
	dt=$(awk -v a="$at" -v b="$t0" 'BEGIN { printf "%.2f", a - b }')
	g_figure "$fig" "$dt"
	echo "  tetherd: closing: $why"
	case $why in
	*NOP-In*) g_ok "$label: connection ended by the NOP-In keepalive" ;;
	*) g_bad "$label: connection ended by '$why', not by the NOP-In keepalive" ;;
	esac
	if awk -v d="$dt" -v b="$BOUND" 'BEGIN { exit !(d <= b) }'; then
		g_ok "$label: ended ${dt} s after the cut (bound ${BOUND} s = interval $NOP_I + timeout $NOP_T + margin $MARGIN)"
	else
		g_bad "$label: ended ${dt} s after the cut, more than ${BOUND} s"
	fi
	for _ in $(seq 100); do
		[ "$(sessions)" = 0 ] && break
		sleep 0.2
	done
	if [ "$(sessions)" = 0 ]; then g_ok "$label: no session left in tetherd"
	else g_ctl session list; g_bad "$label: a session is left in tetherd"; fi
}

# host_to_local HOST_EPOCH: the same instant on this guest's clock
host_to_local() {
	local off
	read -r off rtt < <(g_host_offset)
	echo "  clock: host - guest A = $off s (measured within $rtt s)" >&2
	awk -v h="$1" -v o="$off" 'BEGIN { printf "%.3f", h - o }'
}
# flag_host TEXT: the host=EPOCH of a flag's text
flag_host() { sed -n 's/.*host=\([0-9.]*\).*/\1/p' <<<"$1"; }

# ---- (a) the initiator's link cut with writes in flight
r=$(g_link_wait cut 400) || g_die "guest B never cut its link"
case $r in FAILED*) g_die "guest B: $r" ;; esac
echo "  guest B: $r"
h=$(flag_host "$r")
[ -n "$h" ] || g_die "no time in guest B's cut flag"
t_cut=$(host_to_local "$h")
g_log "guest B cut its link"
reaped "link cut" "$t_cut" iser_lc_cut_reap_s
g_link_put reaped

# ---- (c) is checked in B; (d) SIGTERM with the recovered session live and writing
r=$(g_link_wait io-d 300) || g_die "guest B did not recover and start writing again"
echo "  guest B: $r"
case $r in FAILED*) g_die "guest B: $r" ;; esac
sleep 2
if [ "$(sessions)" -ge 1 ]; then g_ok "a live session before SIGTERM"
else g_bad "no session before SIGTERM"; fi
t0=$(g_now)
rc=0
g_tetherd_stop TERM || rc=$?
g_figure iser_lc_sigterm_exit_s "$(g_since "$t0")"
if [ "$rc" = 0 ]; then g_ok "tetherd exited with status 0 on SIGTERM with a live iSER session"
else g_bad "tetherd exit status $rc on SIGTERM with a live iSER session"; fi
g_tetherd_log_check && g_ok "no sanitizer report after SIGTERM"
g_tetherd_start "${ARGS[@]}"
g_link_put target-up-2

# ---- (b) the initiator powered off with writes in flight
r=$(g_link_wait io-b 300) || g_die "guest B did not start writing for the power-off"
echo "  guest B: $r"
case $r in FAILED*) g_die "guest B: $r" ;; esac
case $r in *G_FAILS=0*) g_ok "guest B passed its checks (recovery after the cut and the restart)" ;;
*) g_bad "guest B failed checks: $r" ;; esac
sleep 2
g_host poweroff b
g_log "guest B powered off"
r=$(g_link_wait poweroff-b 10) || g_die "no time of the power-off from the host"
t_off=$(host_to_local "$(flag_host "$r")")
reaped "power-off" "$t_off" iser_lc_poweroff_reap_s

g_tetherd_finish
# an error tetherd logged (a refused state change, a reference dropped twice) fails the test
if grep -h ' err ' /mnt/ctl/tetherd.*.log; then g_bad "tetherd logged errors"
else g_ok "no error in tetherd's logs"; fi
g_end
