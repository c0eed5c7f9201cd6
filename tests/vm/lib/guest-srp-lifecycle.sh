# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# guest-srp-lifecycle.sh - guest side of srp_lifecycle.sh: tetherd with an srp:// portal, ib_srp
# adding the target and deleting its remote port CYCLES times (default 20). Each cycle: the disk
# appears and answers a read, the port goes, tetherctl srp list ends empty. Open file
# descriptors and VmRSS of tetherd after the first cycle and after the last: the descriptors
# equal, the memory grown by less than 16 MiB (an ASan build with a 4 MiB quarantine); no
# sanitizer report.
#
# Variables: TT_VM_GUEST_BUILD (set by the host), TT_VM_SRP_CYCLES.

# shellcheck source=guest-lib.sh source-path=SCRIPTDIR
. /mnt/host/tests/vm/lib/guest-lib.sh

CYCLES=${TT_VM_SRP_CYCLES:-20}
IQN=iqn.2026-11.org.tether:srplc
SRP_SYS=/sys/class/infiniband_srp/srp-rxe0-1
dmesg -n 1
IP=$(g_addr eth0)
[ -n "$IP" ] || g_die "eth0 has no address"
g_rxe_up eth0 rxe0
# ASan keeps freed memory in its quarantine (256 MiB by default): with a small one the resident
# memory measures what tetherd holds, and recent frees are still checked
if g_tetherd_san; then
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1:quarantine_size_mb=4
fi
# each I/O held 5 ms: requests pile up in the target under a deep queue (the credit check below)
g_tetherd_start --target "$IQN" --portal "srp://$IP" --lun delay:ms=5,ram:16M --loops 2
out=$(g_ctl --json portal list 2>&1) || g_die "tetherctl portal list: $out"
LINE=$(sed -n 's/.*"add_target": *"\([^"]*\)".*/\1/p' <<<"$out" | head -1)
[ -n "$LINE" ] || { echo "$out"; g_die "no add_target line"; }
modprobe ib_srp || g_die "modprobe ib_srp"
for _ in $(seq 50); do [ -e "$SRP_SYS/add_target" ] && break; sleep 0.2; done
[ -e "$SRP_SYS/add_target" ] || g_die "no $SRP_SYS/add_target"

srp_disk() {
	local h d
	for _ in $(seq 150); do
		for h in /sys/class/scsi_host/host*; do
			[ "$(cat "$h/proc_name" 2>/dev/null)" = ib_srp ] || continue
			for d in "$h"/device/target*/*/block/*; do
				[ -e "$d" ] && { basename "$d"; return 0; }
			done
		done
		sleep 0.2
	done
	return 1
}
fds() { ls "/proc/$G_TETHERD_PID/fd" | wc -l; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$G_TETHERD_PID/status"; }

# one cycle: add, disk, a read, delete, gone; 0 or 1
cycle() {
	local ok="" dev p
	for _ in $(seq 60); do
		echo "$LINE" >"$SRP_SYS/add_target" 2>/tmp/add.err && { ok=1; break; }
		grep -q "File exists" /tmp/add.err || break
		sleep 0.5
	done
	[ -n "$ok" ] || { cat /tmp/add.err; return 1; }
	dev=$(srp_disk) || { echo "no disk"; return 1; }
	udevadm settle 2>/dev/null || true
	for _ in $(seq 50); do [ -b "/dev/$dev" ] && break; sleep 0.2; done
	dd if="/dev/$dev" of=/dev/null bs=64k count=16 iflag=direct 2>/dev/null ||
		{ echo "read of /dev/$dev failed"; return 1; }
	for p in /sys/class/srp_remote_ports/port-*; do [ -e "$p" ] && echo 1 >"$p/delete"; done
	for _ in $(seq 150); do
		ls /sys/class/srp_remote_ports/ 2>/dev/null | grep -q . || break
		sleep 0.2
	done
	for _ in $(seq 100); do
		[ "$(g_ctl --json srp list 2>/dev/null | tr -d ' \n')" = "[]" ] && return 0
		sleep 0.2
	done
	g_ctl srp list; echo "channels left"; return 1
}

t0=$(g_now)
cycle || g_die "first cycle"
fd0=$(fds); rss0=$(rss_kb)
bad=0
for i in $(seq 2 "$CYCLES"); do
	cycle || { bad=$i; break; }
done
if [ "$bad" = 0 ]; then g_ok "$CYCLES logins and port removals, every channel gone after each"
else dmesg | tail -20; g_bad "cycle $bad failed"; fi
g_figure srp_lifecycle_cycles_s "$(g_since "$t0")"
fd1=$(fds); rss1=$(rss_kb)
if [ "$fd1" = "$fd0" ]; then g_ok "open descriptors level: $fd0 after the first cycle, $fd1 after the last"
else ls -l "/proc/$G_TETHERD_PID/fd"; g_bad "open descriptors $fd0 -> $fd1"; fi
if [ $((rss1 - rss0)) -lt 16384 ]; then g_ok "VmRSS $rss0 kB -> $rss1 kB"
else g_bad "VmRSS grew from $rss0 kB to $rss1 kB"; fi
g_figure srp_lifecycle_rss_growth_kb $((rss1 - rss0))

# ---- disconnects with I/O in flight: fio writes at queue depth 32 (64) (RDMA READs, commands in the
# SCSI core, SRP_RSPs posted) while (a) ib_srp's host reset reconnects the channel (the SCSI error
# handler's path: srp_reset_host disconnects and logs in again) and (b) the remote port is
# deleted. tetherd frees nothing still posted (an ASan build says so), the channels go, and a new
# login is served.
srp_add() {
	for _ in $(seq 60); do
		echo "$1" >"$SRP_SYS/add_target" 2>/tmp/add.err && return 0
		grep -q "File exists" /tmp/add.err || break
		sleep 0.5
	done
	cat /tmp/add.err; return 1
}
srp_ports_gone() {
	for _ in $(seq 150); do
		ls /sys/class/srp_remote_ports/ 2>/dev/null | grep -q . || return 0
		sleep 0.2
	done
	return 1
}
# live_channels [TPGT]: the live channels (of that TPG)
live_channels() {
	g_ctl --json srp list 2>/dev/null | tr -d ' \n' | grep -o '{[^}]*}' |
		grep '"state":"live"' | { if [ -n "${1:-}" ]; then grep "\"tpgt\":$1,"; else cat; fi; } |
		wc -l
}
no_channels() {
	for _ in $(seq 100); do
		[ "$(g_ctl --json srp list 2>/dev/null | tr -d ' \n')" = "[]" ] && return 0
		sleep 0.2
	done
	g_ctl srp list; return 1
}
deep_fio() {
	fio --name=deep --filename="/dev/$1" --direct=1 --ioengine=libaio --iodepth="${4:-32}" \
		--rw=randwrite --bsrange=4k-128k --size=16M --time_based --runtime="$2" \
		>"/tmp/deep.$3.out" 2>&1
}
# live_ids: the ids of the live channels, one a line
live_ids() {
	g_ctl --json srp list 2>/dev/null | tr -d ' \n' | grep -o '{[^}]*}' | grep '"state":"live"' |
		sed -n 's/.*"id":\([0-9]*\).*/\1/p' | sort
}

srp_add "$LINE" || g_die "add_target before the disconnects"
dev=$(srp_disk) || g_die "no disk before the disconnects"
udevadm settle 2>/dev/null || true
for _ in $(seq 50); do [ -b "/dev/$dev" ] && break; sleep 0.2; done
if command -v sg_reset >/dev/null; then
	ids0=$(live_ids)
	[ -n "$ids0" ] || { g_ctl srp list; g_die "no live channel before the host reset"; }
	deep_fio "$dev" 8 reset &
	fpid=$!
	sleep 2
	sg_reset -H "/dev/$dev" >/tmp/sg_reset.out 2>&1 || { cat /tmp/sg_reset.out; g_log "sg_reset -H: status $?"; }
	wait "$fpid"; frc=$?
	ok=""
	for _ in $(seq 100); do
		ids=$(live_ids)
		[ -n "$ids" ] && [ -z "$(comm -12 <(echo "$ids0") <(echo "$ids"))" ] && { ok=1; break; }
		sleep 0.2
	done
	if [ -n "$ok" ]; then g_ok "host reset under fio at queue depth 32: channel disconnected and logged in again (fio status $frc)"
	else dmesg | tail -20; g_ctl srp list; g_bad "no new login after the host reset"; fi
	grep -E 'err=|IOPS' "/tmp/deep.reset.out" | head -3 | sed 's/^/  /'
	dd if="/dev/$dev" of=/dev/null bs=64k count=16 iflag=direct 2>/dev/null &&
		g_ok "the disk reads after the host reset" || g_bad "read after the host reset failed"
else
	g_log "no sg_reset: host reset under I/O not tried"
fi
# queue depth 64 against a request limit of 32: a credit comes back with its answer, so the
# SRP_CMDs inside the target (tasks) never exceed 32; before, a credit came back when the receive
# buffer was reposted and ib_srp could have its whole queue (62) in the target, more answers than
# the 40 send buffers
deep_fio "$dev" 30 delete 64 &
fpid=$!
sleep 1
maxt=0
for _ in $(seq 8); do
	for n in $(g_ctl --json srp list 2>/dev/null | tr -d ' \n' | grep -o '"tasks":[0-9]*' | cut -d: -f2); do
		[ "$n" -gt "$maxt" ] && maxt=$n
	done
	sleep 0.2
done
g_figure srp_tasks_max_qd64 "$maxt"
if [ "$maxt" -le 32 ] && [ "$maxt" -ge 8 ]; then g_ok "fio at queue depth 64: at most $maxt requests inside the target (request limit 32)"
else g_bad "fio at queue depth 64: $maxt requests inside the target (request limit 32; expected 8..32)"; fi
kill -0 "$fpid" 2>/dev/null || { cat /tmp/deep.delete.out; g_die "fio ended before the port was deleted"; }
for p in /sys/class/srp_remote_ports/port-*; do [ -e "$p" ] && echo 1 >"$p/delete"; done
wait "$fpid" || true   # it loses its disk: errors expected
if srp_ports_gone && no_channels; then g_ok "remote port deleted under fio at queue depth 32: every channel gone"
else g_bad "channels left after the port was deleted under I/O"; fi
kill -0 "$G_TETHERD_PID" 2>/dev/null || g_die "tetherd died"
if cycle; then g_ok "a new login is served after the disconnects under I/O"
else g_bad "no new login after the disconnects under I/O"; fi

# ---- access withdrawn: a TPG with allow_any_initiator off (portal port 5556), the guest's
# initiator port given an ACL, logged in, under I/O; `tetherctl acl remove` must log its channels
# out (SRP_T_LOGOUT, then the disconnect); ib_srp's reconnects are then refused (SRP_LOGIN_REJ
# 00010006h) until the ACL is back, when ib_srp gets in again by itself.
g_ctl tpg create "$IQN" 2 --allow-any-initiator no --portal "srp://$IP:5556" >/dev/null ||
	g_die "tpg create $IQN 2"
out=$(g_ctl --json portal list 2>&1)
LINE2=$(sed -n 's/.*"add_target": *"\([^"]*\)".*/\1/p' <<<"$out" | grep -vxF "$LINE" | head -1)
[ -n "$LINE2" ] || { echo "$out"; g_die "no add_target line for tpg 2"; }
echo "$LINE2" >"$SRP_SYS/add_target" 2>/dev/null && g_die "login to tpg 2 without an ACL accepted"
INI=$(sed -n 's/.*login of initiator port \(0x[0-9a-f]\{32\}\) rejected, reason 0x00010006.*/\1/p' \
	"$G_TETHERD_LOG" | tail -1)
[ -n "$INI" ] || { tail -5 "$G_TETHERD_LOG"; g_die "no rejected login with reason 0x00010006"; }
g_ctl acl add "$IQN" "$INI" >/dev/null || g_die "acl add $INI"
srp_add "$LINE2" || g_die "login to tpg 2 with an ACL refused"
dev=$(srp_disk) || g_die "no disk of tpg 2"
port=$(ls -d /sys/class/srp_remote_ports/port-* | head -1)
echo 60 >"$port/dev_loss_tmo" && echo 30 >"$port/fast_io_fail_tmo" && echo 2 >"$port/reconnect_delay" ||
	g_die "cannot set the timeouts of $port"
udevadm settle 2>/dev/null || true
for _ in $(seq 50); do [ -b "/dev/$dev" ] && break; sleep 0.2; done
[ "$(live_channels 2)" -ge 1 ] || { g_ctl srp list; g_die "no live channel of tpg 2"; }
deep_fio "$dev" 6 acl &
fpid=$!
sleep 2
rej0=$(grep -c "rejected, reason 0x00010006" "$G_TETHERD_LOG")
t0=$(g_now)
g_ctl acl remove "$IQN" "$INI" >/dev/null || g_die "acl remove $INI"
gone=""
for _ in $(seq 100); do
	[ "$(live_channels 2)" = 0 ] && { gone=1; break; }
	sleep 0.2
done
if [ -n "$gone" ] && grep -q "no longer has access" "$G_TETHERD_LOG" &&
	grep -q "target logout, reason 0" "$G_TETHERD_LOG"; then
	g_ok "acl remove: the initiator's channels logged out (SRP_T_LOGOUT, disconnect) after $(g_since "$t0") s"
else
	g_ctl srp list; grep -E "access|logout" "$G_TETHERD_LOG" | tail -5; g_bad "channels of $INI still live after its ACL was removed"
fi
g_figure srp_acl_remove_logout_s "$(g_since "$t0")"
dmesg | grep -iE 'target logout|DREQ' | tail -2 | sed 's/^/  dmesg: /'
wait "$fpid" || true
# ib_srp tries again every reconnect_delay: refused while the ACL is gone
for _ in $(seq 50); do
	[ "$(grep -c "rejected, reason 0x00010006" "$G_TETHERD_LOG")" -gt "$rej0" ] && break
	sleep 0.2
done
if [ "$(grep -c "rejected, reason 0x00010006" "$G_TETHERD_LOG")" -gt "$rej0" ] && [ "$(live_channels 2)" = 0 ]; then
	g_ok "ib_srp's reconnect refused without the ACL (SRP_LOGIN_REJ 0x00010006)"
else g_bad "no refused reconnect after the ACL was removed"; fi
g_ctl acl add "$IQN" "$INI" >/dev/null || g_die "acl add $INI again"
back=""
for _ in $(seq 100); do
	[ "$(live_channels 2)" -ge 1 ] && { back=1; break; }
	sleep 0.2
done
if [ -n "$back" ]; then g_ok "ACL back: ib_srp logged in again by itself"
else g_bad "no channel after the ACL was added again"; fi
for p in /sys/class/srp_remote_ports/port-*; do [ -e "$p" ] && echo 1 >"$p/delete"; done
srp_ports_gone && no_channels || g_bad "channels left at the end"

g_tetherd_finish
g_end
