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
