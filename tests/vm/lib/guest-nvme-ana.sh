# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# guest-nvme-ana.sh - guest side of nvme_ana_multipath.sh: native NVMe multipath over two
# nvme-tcp ports in two ANA groups; fio with crc32c verification on the multipath head while
# the host moves optimized and inaccessible between the groups, then moves a port to the other
# group, removes the other port and adds it back (tetherctl apply).
#
# Variables: NQN, TT_NVME_ANA_IO_S [120] (seconds of fio: longer than the four moves and the
# port phase), TT_VM_LUN_MB.

# shellcheck source=guest-lib.sh source-path=SCRIPTDIR
. /mnt/host/tests/vm/lib/guest-lib.sh

NQN=${NQN:?}
IO_S=${TT_NVME_ANA_IO_S:-120}
G_ANA=0
PORTS=

# g_ana "GROUP STATE"|"port-set ADDR GROUP"|"port-remove ADDR"|apply...: ask the host for
# tetherctl ana set, port set, port remove, apply (none: only the counters); the host's
# `tetherctl port list` lands in $PORTS
g_ana() {
	local n ack
	G_ANA=$((G_ANA + 1))
	n=$G_ANA
	printf '%s\n' "$@" >"/mnt/ctl/.ana.$n"
	mv "/mnt/ctl/.ana.$n" "/mnt/ctl/ana.$n"
	for _ in $(seq 300); do
		if [ -f "/mnt/ctl/ana-ack.$n" ]; then
			ack=$(cat "/mnt/ctl/ana-ack.$n")
			rm -f "/mnt/ctl/ana-ack.$n"
			PORTS=$(cat "/mnt/ctl/ports.$n" 2>/dev/null)
			rm -f "/mnt/ctl/ports.$n"
			[ "$ack" = ok ] || g_die "host ANA request '$*': $ack"
			return 0
		fi
		sleep 0.1
	done
	g_die "host did not answer ANA request '$*'"
}
# port_writes ADDR: write commands served through the port of ADDR (from the last $PORTS)
port_writes() { awk -v a="$1:4420" '$1 ~ a { print $6 }' <<<"$PORTS"; }

nvme_diag() {
	echo "--- nvme list-subsys"
	nvme list-subsys 2>&1 | head -20
	echo "--- dmesg (last 30 lines)"
	dmesg | tail -30
}

dmesg -n 1
modprobe nvme_tcp || g_die "modprobe nvme_tcp"
mp=$(cat /sys/module/nvme_core/parameters/multipath 2>/dev/null || echo missing)
[ "$mp" = Y ] || g_die "nvme_core multipath is '$mp' (native NVMe multipath needed)"
g_ok "nvme_core multipath=Y"
mkdir -p /etc/nvme
[ -s /etc/nvme/hostnqn ] || nvme gen-hostnqn >/etc/nvme/hostnqn
[ -s /etc/nvme/hostid ] || cat /proc/sys/kernel/random/uuid >/etc/nvme/hostid

for p in "$PORTAL_A" "$PORTAL_B"; do
	timeout 60 nvme connect -t tcp -a "$p" -s 4420 -n "$NQN" ||
		{ nvme_diag; g_die "nvme connect through $p failed"; }
done

SUBSYS=
for _ in $(seq 100); do
	for s in /sys/class/nvme-subsystem/*; do
		[ "$(cat "$s/subsysnqn" 2>/dev/null)" = "$NQN" ] && SUBSYS=$s
	done
	[ -n "$SUBSYS" ] && ls -d "$SUBSYS"/nvme*n1 >/dev/null 2>&1 && break
	sleep 0.2
done
[ -n "$SUBSYS" ] || { nvme_diag; g_die "no subsystem $NQN"; }
for h in "$SUBSYS"/nvme*n1; do HEAD=$(basename "$h"); break; done
[ -b "/dev/$HEAD" ] || { nvme_diag; g_die "no multipath head device"; }
g_ok "one multipath head /dev/$HEAD for $NQN"
echo "iopolicy $(cat "$SUBSYS/iopolicy" 2>/dev/null)"

# ana_of ADDR: the ana_state of the path through ADDR
ana_of() {
	local c
	for c in "$SUBSYS"/nvme[0-9]*; do
		[[ $(basename "$c") =~ ^nvme[0-9]+$ ]] || continue
		grep -q "traddr=$1," "$c/address" 2>/dev/null || grep -q "traddr=$1\$" "$c/address" 2>/dev/null || continue
		cat "$c"/nvme*c*n1/ana_state 2>/dev/null | head -1
		return 0
	done
}
paths() {
	local c
	for c in "$SUBSYS"/nvme[0-9]*; do
		[[ $(basename "$c") =~ ^nvme[0-9]+$ ]] || continue
		echo "  $(basename "$c"): $(cat "$c/address" 2>/dev/null) state $(cat "$c/state" 2>/dev/null)" \
			"ana $(cat "$c"/nvme*c*n1/ana_state 2>/dev/null)"
	done
}
# wait_ana A_STATE B_STATE: until both paths show them (30 s)
wait_ana() {
	for _ in $(seq 150); do
		[ "$(ana_of "$PORTAL_A")" = "$1" ] && [ "$(ana_of "$PORTAL_B")" = "$2" ] && return 0
		sleep 0.2
	done
	return 1
}
npaths=$(paths | wc -l)
paths
if [ "$npaths" = 2 ]; then g_ok "two paths"; else g_bad "$npaths paths, expected 2"; fi
if wait_ana optimized inaccessible; then g_ok "ana_state: $PORTAL_A optimized, $PORTAL_B inaccessible"
else paths; g_bad "initial ana_state: A $(ana_of "$PORTAL_A"), B $(ana_of "$PORTAL_B")"; fi
out=$(nvme id-ns "/dev/$HEAD" 2>&1) && echo "$out" | grep -E '^(anagrpid|nmic|nguid) ' | sed 's/^/  /'
out=$(nvme ana-log "/dev/$HEAD" 2>&1) && echo "$out" | sed 's/^/  /' | head -30

fio --name=ana --filename="/dev/$HEAD" --direct=1 --ioengine=libaio --iodepth=8 \
	--rw=randwrite --bs=4k --size=64M --time_based --runtime="$IO_S" \
	--verify=crc32c --verify_backlog=256 --verify_fatal=1 >/tmp/fio.ana 2>&1 &
fio_pid=$!
sleep 3
moves=0
for round in 1 2 3 4; do
	if ((round % 2)); then
		opt=$PORTAL_B; inacc=$PORTAL_A; want_a=inaccessible; want_b=optimized
		g_ana "2 optimized" "1 inaccessible"
	else
		opt=$PORTAL_A; inacc=$PORTAL_B; want_a=optimized; want_b=inaccessible
		g_ana "1 optimized" "2 inaccessible"
	fi
	t0=$(g_now)
	if wait_ana "$want_a" "$want_b"; then
		g_ok "round $round: ana_state A $want_a, B $want_b after $(g_since "$t0") s"
		g_figure "nvme_ana_switch_s_$round" "$(g_since "$t0")"
	else
		paths
		g_bad "round $round: ana_state A $(ana_of "$PORTAL_A"), B $(ana_of "$PORTAL_B")"
		continue
	fi
	sleep 2
	g_ana
	wo0=$(port_writes "$opt") wi0=$(port_writes "$inacc")
	sleep 4
	g_ana
	wo1=$(port_writes "$opt") wi1=$(port_writes "$inacc")
	kill -0 "$fio_pid" 2>/dev/null || g_die "fio ended before round $round was measured (raise TT_NVME_ANA_IO_S)"
	echo "round $round: writes through $opt $wo0 -> $wo1, through $inacc $wi0 -> $wi1"
	if [ -n "$wo1" ] && [ -n "$wi1" ] && [ "$wo1" -gt "$wo0" ] && [ "$wi1" = "$wi0" ]; then
		g_ok "round $round: writes go through the optimized port $opt only"
		moves=$((moves + 1))
	else
		g_bad "round $round: writes did not move to $opt"
	fi
done
g_figure nvme_ana_moves "$moves"

# path_state ADDR: the controller state of the path through ADDR (live, connecting, ...; none)
path_state() {
	local c
	for c in "$SUBSYS"/nvme[0-9]*; do
		[[ $(basename "$c") =~ ^nvme[0-9]+$ ]] || continue
		grep -qE "traddr=$1(,|\$)" "$c/address" 2>/dev/null || continue
		cat "$c/state" 2>/dev/null
		return 0
	done
	echo none
}
grp_of() {
	local c
	for c in "$SUBSYS"/nvme[0-9]*; do
		[[ $(basename "$c") =~ ^nvme[0-9]+$ ]] || continue
		grep -qE "traddr=$1(,|\$)" "$c/address" 2>/dev/null || continue
		cat "$c"/nvme*c*n1/ana_grpid 2>/dev/null | head -1
		return 0
	done
}
# writes_grow ADDR: the writes through ADDR grow over 4 s (and fio still runs)
writes_grow() {
	local w0 w1
	g_ana
	w0=$(port_writes "$1")
	sleep 4
	g_ana
	w1=$(port_writes "$1")
	kill -0 "$fio_pid" 2>/dev/null || g_die "fio ended during the port phase (raise TT_NVME_ANA_IO_S)"
	echo "writes through $1: $w0 -> $w1"
	[ -n "$w1" ] && [ -n "$w0" ] && [ "$w1" -gt "$w0" ]
}
# after round 4: A optimized (group 1), B inaccessible (group 2). Port B moves to group 1.
t0=$(g_now)
g_ana "port-set $PORTAL_B 1"
if wait_ana optimized optimized && [ "$(grp_of "$PORTAL_B")" = 1 ]; then
	g_ok "port $PORTAL_B moved to ANA group 1: both paths optimized, its ANA group id 1, after $(g_since "$t0") s"
else
	paths
	g_bad "after the move: ana_state A $(ana_of "$PORTAL_A"), B $(ana_of "$PORTAL_B"), B's group $(grp_of "$PORTAL_B")"
fi
# port A goes: its path leaves live, the writes continue through B
t0=$(g_now)
g_ana "port-remove $PORTAL_A"
for _ in $(seq 150); do
	[ "$(path_state "$PORTAL_A")" != live ] && break
	sleep 0.2
done
if [ "$(path_state "$PORTAL_A")" != live ]; then
	g_ok "port $PORTAL_A removed: its path is $(path_state "$PORTAL_A") after $(g_since "$t0") s"
else
	g_bad "port $PORTAL_A removed: its path is still live"
fi
if writes_grow "$PORTAL_B"; then g_ok "the writes go through $PORTAL_B with $PORTAL_A removed"
else g_bad "no writes through $PORTAL_B with $PORTAL_A removed"; fi
# the original file: port A back in group 1, port B back in group 2; the host reconnects A
t0=$(g_now)
g_ana apply
for _ in $(seq 300); do
	[ "$(path_state "$PORTAL_A")" = live ] && [ "$(ana_of "$PORTAL_A")" = optimized ] &&
		[ "$(ana_of "$PORTAL_B")" = inaccessible ] && break
	sleep 0.2
done
if [ "$(path_state "$PORTAL_A")" = live ] && [ "$(ana_of "$PORTAL_A")" = optimized ] &&
	[ "$(ana_of "$PORTAL_B")" = inaccessible ]; then
	g_ok "port $PORTAL_A added back by tetherctl apply: the host reconnected its path after $(g_since "$t0") s"
	g_figure nvme_port_back_s "$(g_since "$t0")"
else
	paths
	g_bad "after apply: path A $(path_state "$PORTAL_A") ana $(ana_of "$PORTAL_A"), B ana $(ana_of "$PORTAL_B")"
fi
if writes_grow "$PORTAL_A"; then g_ok "the writes are back on $PORTAL_A"
else g_bad "no writes through $PORTAL_A after it came back"; fi
rc=0
wait "$fio_pid" || rc=$?
if [ $rc = 0 ] && grep -q 'err= 0' /tmp/fio.ana && ! grep -qE 'err= *[1-9]|verify:|bad' /tmp/fio.ana; then
	g_ok "fio saw no I/O error and no verify mismatch through $moves ANA moves and the port phase"
else
	cat /tmp/fio.ana
	g_bad "fio failed (status $rc)"
fi
grep -E 'WRITE:|READ:' /tmp/fio.ana | sed 's/^/  /'
echo "--- kernel messages about ANA"
dmesg | grep -iE 'ana|nvme' | tail -n 20
nvme disconnect -n "$NQN" >/dev/null || g_bad "nvme disconnect"
g_end
