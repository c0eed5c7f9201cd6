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
g_tetherd_start --target "$IQN" --portal "srp://$IP" --lun ram:16M --loops 2
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

g_tetherd_finish
g_end
