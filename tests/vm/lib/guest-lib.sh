# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# guest-lib.sh - sourced by the guest side of the VM tests (runs inside the
# guest booted by guest.sh, as root, without systemd).
#
# Paths: /mnt/host = repository (read-only), /mnt/ctl = control folder shared
# with the host test (read-write). Times are seconds since guest boot.

set -u
# shellcheck disable=SC2034 # used by the scripts that source this file
PORTAL_A=10.77.1.1 PORTAL_B=10.77.2.1
G_FAILS=0
G_REQ=0

# background jobs of a test end with it
g_reap() {
	local p
	for p in $(jobs -p); do kill "$p" 2>/dev/null; done
}
trap g_reap EXIT

g_now() { cut -d' ' -f1 /proc/uptime; }
g_epoch() { date +%s.%3N; }
g_since() { awk -v a="$1" -v b="$(g_now)" 'BEGIN { printf "%.2f", b - a }'; }
g_log() { echo "[guest $(g_now)] $*"; }
g_ok() { echo "ok: $*"; }
g_bad() {
	echo "FAIL: $*"
	G_FAILS=$((G_FAILS + 1))
}
g_figure() { echo "FIGURE $1=$2"; }

g_diag() {
	echo "--- diagnostics"
	iscsiadm -m session -P 1 2>&1 | head -40
	command -v multipath >/dev/null && multipath -ll 2>&1 | head -20
	echo "--- dmesg (last 40 lines)"
	dmesg | tail -40
}

g_die() {
	echo "FAIL: $*"
	g_diag
	exit 1
}

g_end() {
	if ((G_FAILS)); then
		echo "$G_FAILS check(s) failed"
		g_diag
		exit 1
	fi
	echo "all checks passed"
	exit 0
}

# g_host VERB ADDR: ask the host to cut or restore a portal; waits for the ack.
g_host() {
	local n ack
	G_REQ=$((G_REQ + 1))
	n=$G_REQ
	echo "$*" >"/mnt/ctl/.req.$n"
	mv "/mnt/ctl/.req.$n" "/mnt/ctl/req.$n"
	for _ in $(seq 200); do
		if [ -f "/mnt/ctl/ack.$n" ]; then
			ack=$(cat "/mnt/ctl/ack.$n")
			rm -f "/mnt/ctl/ack.$n"
			[ "$ack" = ok ] || g_die "host request '$*': $ack"
			return 0
		fi
		sleep 0.1
	done
	g_die "host did not answer request '$*'"
}

# systemd-udevd by hand (the guest has no systemd): multipath-tools only
# considers block devices that udev has processed.
g_udev_start() {
	/lib/systemd/systemd-udevd --daemon >/dev/null 2>&1 || g_die "cannot start systemd-udevd"
	udevadm trigger --action=add --subsystem-match=block --subsystem-match=scsi >/dev/null 2>&1
	udevadm settle -t 30
}

g_iscsi_start() {
	modprobe iscsi_tcp || g_die "modprobe iscsi_tcp"
	iscsid || g_die "iscsid did not start"
	local rc
	for _ in $(seq 50); do
		rc=0
		iscsiadm -m session >/dev/null 2>&1 || rc=$?
		# 0 = sessions, 21 = no sessions: both mean iscsid answers
		{ [ $rc = 0 ] || [ $rc = 21 ]; } && return 0
		sleep 0.1
	done
	g_die "iscsid does not answer"
}

# g_discover PORTAL: SendTargets; prints "ADDR:PORT,TPGT IQN" lines
g_discover() { timeout 60 iscsiadm -m discovery -t sendtargets -p "$1:3260" 2>&1; }

g_login() { timeout 90 iscsiadm -m node -T "$1" -p "$2:3260" --login >/dev/null; }
g_logout() { timeout 90 iscsiadm -m node -T "$1" -p "$2:3260" --logout >/dev/null; }

# g_set IQN PORTAL NAME VALUE: change a node record before login
g_set() { iscsiadm -m node -T "$1" -p "$2:3260" -o update -n "$3" -v "$4" >/dev/null; }

# g_disk IQN PORTAL: prints the sdX attached to the session on that portal
# (waits up to 20 s for the LUN scan)
g_disk() {
	local d
	for _ in $(seq 100); do
		d=$(iscsiadm -m session -P 3 2>/dev/null | awk -v t="$1" -v p="$2:3260" '
			/^Target: / { tgt = $2 }
			/Current Portal: / { cur = $3; sub(/,.*/, "", cur) }
			/Attached scsi disk/ && tgt == t && cur == p { print $4; exit }')
		if [ -n "$d" ] && [ -b "/dev/$d" ]; then
			echo "$d"
			return 0
		fi
		sleep 0.2
	done
	return 1
}

# g_session_dir DISK: /sys/class/iscsi_session/sessionN of an sdX
g_session_dir() {
	local s
	s=$(readlink -f "/sys/block/$1/device" | grep -o 'session[0-9]*' | head -1)
	echo "/sys/class/iscsi_session/$s"
}

# g_conn_dir DISK: /sys/class/iscsi_connection/connectionN:0 of an sdX
g_conn_dir() {
	local s
	s=$(readlink -f "/sys/block/$1/device" | grep -o 'session[0-9]*' | head -1)
	echo "/sys/class/iscsi_connection/connection${s#session}:0"
}

g_sha_files() { (cd "$1" && sha256sum f.*); }

# ---- soft-RoCE (rdma_rxe)

# g_rxe_up [NETDEV] [NAME]: an rxe device NAME (rxe0) on NETDEV (eth0); waits until its port is
# ACTIVE. Prints nothing; fails the test when the device does not come up in 20 s.
g_rxe_up() {
	local dev=${1:-eth0} name=${2:-rxe0}
	modprobe rdma_rxe || g_die "modprobe rdma_rxe"
	[ -e "/sys/class/infiniband/$name" ] ||
		timeout 20 rdma link add "$name" type rxe netdev "$dev" || g_die "rdma link add $name type rxe netdev $dev"
	for _ in $(seq 100); do
		[ "$(cat "/sys/class/infiniband/$name/ports/1/state" 2>/dev/null)" = "4: ACTIVE" ] && return 0
		sleep 0.2
	done
	rdma link show 2>&1
	g_die "$name on $dev: port not ACTIVE after 20 s"
}

# g_addr [NETDEV]: the IPv4 address of NETDEV (eth0) without the prefix length
g_addr() { ip -4 -o addr show "${1:-eth0}" | awk '{ split($4, a, "/"); print a[1]; exit }'; }

# ---- tetherd inside the guest
#
# The host test says which build (TT_VM_GUEST_BUILD, a folder of the repository, e.g. build or
# build-san; see vm_prepare_guest_target in host-lib.sh). tetherd runs from the read-only share;
# its log goes to /mnt/ctl/tetherd.N.log (N counts the starts), so the host keeps it.
# An ASan/UBSan build is recognised by its libasan dependency: it runs with the options of
# tests/run.sh and its reports make g_tetherd_stop fail.
G_BUILD=/mnt/host/${TT_VM_GUEST_BUILD:-build}
G_TETHERD=$G_BUILD/src/cmd/tetherd
G_TETHERCTL=$G_BUILD/src/cmd/tetherctl
G_TETHERD_SOCK=/run/tetherd.sock
G_TETHERD_PID=
G_TETHERD_LOG=
G_TETHERD_N=0

g_tetherd_san() { ldd "$G_TETHERD" 2>/dev/null | grep -q libasan; }

# g_tetherd_start ARGS...: tetherd ARGS --rpc-socket /run/tetherd.sock --state-dir none in the
# background; waits until tetherctl answers on the socket (60 s: an ASan build under TCG is slow).
g_tetherd_start() {
	[ -x "$G_TETHERD" ] || g_die "no tetherd at $G_TETHERD"
	[ -z "$G_TETHERD_PID" ] || g_die "g_tetherd_start: tetherd already running (pid $G_TETHERD_PID)"
	G_TETHERD_N=$((G_TETHERD_N + 1))
	G_TETHERD_LOG=/mnt/ctl/tetherd.$G_TETHERD_N.log
	rm -f "$G_TETHERD_SOCK"
	echo "# tetherd $*" >"$G_TETHERD_LOG"
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:halt_on_error=1} \
		UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
		LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=/mnt/host/tests/lsan.supp} \
		"$G_TETHERD" "$@" --rpc-socket "$G_TETHERD_SOCK" --state-dir none >>"$G_TETHERD_LOG" 2>&1 &
	G_TETHERD_PID=$!
	for _ in $(seq 300); do
		if ! kill -0 "$G_TETHERD_PID" 2>/dev/null; then
			tail -20 "$G_TETHERD_LOG"
			G_TETHERD_PID=
			g_die "tetherd exited at start"
		fi
		[ -S "$G_TETHERD_SOCK" ] && g_ctl stats >/dev/null 2>&1 && {
			g_log "tetherd pid $G_TETHERD_PID up ($(g_tetherd_san && echo asan || echo plain) build, log $G_TETHERD_LOG)"
			return 0
		}
		sleep 0.2
	done
	tail -20 "$G_TETHERD_LOG"
	g_die "tetherd does not answer on $G_TETHERD_SOCK after 60 s"
}

# g_ctl ARGS...: tetherctl on the guest's tetherd
g_ctl() { "$G_TETHERCTL" -s "$G_TETHERD_SOCK" "$@"; }

# g_tetherd_stop [SIGNAL]: SIGTERM (default) and wait up to 30 s; returns tetherd's exit
# status (128+N when a signal ended it). With KILL: no wait for a clean exit, returns 0.
g_tetherd_stop() {
	local sig=${1:-TERM} rc=0
	[ -n "$G_TETHERD_PID" ] || return 0
	kill "-$sig" "$G_TETHERD_PID" 2>/dev/null
	if [ "$sig" != KILL ] && [ "$sig" != 9 ]; then
		for _ in $(seq 300); do kill -0 "$G_TETHERD_PID" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$G_TETHERD_PID" 2>/dev/null && {
			g_log "tetherd did not exit 30 s after SIG$sig, killing it"
			kill -9 "$G_TETHERD_PID"
		}
	fi
	wait "$G_TETHERD_PID" 2>/dev/null || rc=$?
	G_TETHERD_PID=
	[ "$sig" = KILL ] || [ "$sig" = 9 ] && return 0
	return "$rc"
}

# g_tetherd_log_check: fails the test on a sanitizer report in any tetherd log of this run
g_tetherd_log_check() {
	if grep -lE 'ERROR: (Address|Leak)Sanitizer|runtime error:' /mnt/ctl/tetherd.*.log 2>/dev/null; then
		g_bad "sanitizer report in the tetherd log"
		grep -hE -A20 'ERROR: (Address|Leak)Sanitizer|runtime error:' /mnt/ctl/tetherd.*.log | head -60
		return 1
	fi
	return 0
}

# tetherd stopped with SIGTERM: it must exit 0 and its log hold no sanitizer report.
g_tetherd_finish() {
	local rc=0
	g_tetherd_stop TERM || rc=$?
	if [ "$rc" = 0 ]; then g_ok "tetherd exited with status 0 on SIGTERM"
	else g_bad "tetherd exit status $rc"; fi
	if g_tetherd_log_check; then g_ok "no sanitizer report"; fi
}

# ---- two guests on a private link (vm_guests2 in host-lib.sh)
#
# TT_VM_LINK_IP (this guest's address/prefix on the link) and TT_VM_PEER_IP come from the host.
# /mnt/link is a folder both guests share: g_link_put NAME [TEXT] raises a flag, g_link_wait
# NAME SECONDS waits for the other guest's (prints its text).
G_LINK=/mnt/link

# g_link_up [NETDEV]: mounts /mnt/link, gives NETDEV (eth1, the socket NIC) TT_VM_LINK_IP and an
# rxe device rxe0 on it
g_link_up() {
	local dev=${1:-eth1}
	mkdir -p "$G_LINK"
	mountpoint -q "$G_LINK" ||
		mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=none ttlink "$G_LINK" ||
		g_die "cannot mount the shared folder ttlink"
	[ -n "${TT_VM_LINK_IP:-}" ] || g_die "no TT_VM_LINK_IP"
	ip addr add "$TT_VM_LINK_IP" dev "$dev" || g_die "ip addr add $TT_VM_LINK_IP dev $dev"
	ip link set "$dev" up || g_die "ip link set $dev up"
	g_rxe_up "$dev" rxe0
}

g_link_put() {
	echo "${2:-}" >"$G_LINK/.$1.tmp"
	mv "$G_LINK/.$1.tmp" "$G_LINK/$1"
}

# g_host_offset: prints "OFFSET RTT": the host's clock minus this guest's (seconds), measured
# with a file created on /mnt/link (the host stamps its mtime), the best of 3 tries; RTT bounds
# the error. Two guests' times compare once each is moved to the host's clock.
g_host_offset() {
	local f=$G_LINK/.clock.$$ a b m
	for _ in 1 2 3; do
		rm -f "$f"
		a=$EPOCHREALTIME
		: >"$f"
		b=$EPOCHREALTIME
		m=$(date -r "$f" +%s.%N)
		echo "$a $b $m"
	done | awk '{ rtt = $2 - $1; off = $3 - ($1 + $2) / 2
		if (best == "" || rtt < best) { best = rtt; o = off } }
		END { printf "%.3f %.3f\n", o, best }'
	rm -f "$f"
}

# g_link_wait NAME SECONDS: 0 and the flag's text once it is there, 1 after SECONDS
g_link_wait() {
	local end=$((SECONDS + $2))
	while :; do
		[ -f "$G_LINK/$1" ] && { cat "$G_LINK/$1"; return 0; }
		[ $SECONDS -lt $end ] || return 1
		sleep 0.1
	done
}

# g_nvme_ns NQN [SECONDS]: the block device (nvmeXnY) of the first namespace of subsystem NQN,
# waiting up to SECONDS (30) for it to appear; fails when it does not
g_nvme_ns() {
	local s d i
	for i in $(seq $((${2:-30} * 5))); do
		for s in /sys/class/nvme-subsystem/*; do
			[ "$(cat "$s/subsysnqn" 2>/dev/null)" = "$1" ] || continue
			for d in "$s"/nvme*n1; do
				[ -e "$d" ] && [ -b "/dev/${d##*/}" ] && { echo "${d##*/}"; return 0; }
			done
		done
		[ "$i" = $((${2:-30} * 5)) ] || sleep 0.2
	done
	return 1
}

# g_lio IQN MB ADDR:PORT[/iser]...: the kernel's LIO as a reference target, written through
# configfs (what targetcli does; targetcli itself fails in the guest): an rd_mcp ramdisk of MB
# MiB as LUN 0 of IQN, open to any initiator, one network portal per argument (with /iser: iSER)
g_lio() {
	local iqn=$1 mb=$2 T=/sys/kernel/config/target G np
	shift 2
	modprobe -a iscsi_target_mod ib_isert || g_die "modprobe iscsi_target_mod ib_isert"
	G=$T/iscsi/$iqn/tpgt_1
	mkdir -p "$T/core/rd_mcp_0/rd0" || g_die "configfs: rd_mcp backstore"
	echo "rd_pages=$((mb * 256))" >"$T/core/rd_mcp_0/rd0/control" || g_die "rd_mcp rd_pages"
	echo 1 >"$T/core/rd_mcp_0/rd0/enable" || g_die "rd_mcp enable"
	mkdir -p "$G/lun/lun_0" || g_die "configfs: iscsi target"
	ln -s "$T/core/rd_mcp_0/rd0" "$G/lun/lun_0/rd0" || g_die "configfs: lun link"
	echo 0 >"$G/attrib/authentication"
	echo 1 >"$G/attrib/generate_node_acls"
	echo 1 >"$G/attrib/cache_dynamic_acls"
	echo 0 >"$G/attrib/demo_mode_write_protect"
	for np in "$@"; do
		mkdir "$G/np/${np%/iser}" || g_die "configfs: portal ${np%/iser}"
		[ "${np%/iser}" = "$np" ] || echo 1 >"$G/np/${np%/iser}/iser" || g_die "configfs: iser on ${np%/iser}"
	done
	echo 1 >"$G/enable" || g_die "configfs: tpg enable"
}
