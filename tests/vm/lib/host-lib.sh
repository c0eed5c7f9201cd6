# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# host-lib.sh - host side of the VM tests, sourced by tests/vm/*.sh.
#
# Layout of one test run (everything lives in a private network namespace,
# removed at exit together with its taps and nft rules):
#
#   netns tt-vm-PID                                   guest (QEMU, TCG)
#     tt0 10.77.1.1/24  <-- tap / virtio-net -->  eth0 10.77.1.2/24
#     tt1 10.77.2.1/24  <-- tap / virtio-net -->  eth1 10.77.2.2/24
#     target: tetherd (or tgtd) listening on 10.77.1.1:3260 and 10.77.2.1:3260
#
# The guest asks the host to cut or restore a portal by writing a request file
# into the shared control folder (/mnt/ctl in the guest); the host answers with
# an ack file. A cut is an nft drop of all IPv4 traffic to and from the portal
# address inside the namespace: silent, no RST, no FIN.
#
# Environment [default]:
#   TT_BUILD      [<repo>/build]  where tetherd is built (src/cmd/tetherd)
#   TT_VM_TARGET  [tetherd]       tetherd | tgtd (Debian tgt, to prove the harness)
#   TT_VM_LUN_MB  [256]           LUN size
#   TT_VM_KEEP    [0]             1 = keep the run folder (logs) after the test
#   TT_VM_TETHERD_ARGS [""]       more tetherd options (word-split), e.g. --debug all
#   (a test whose tetherd runs inside the guest calls vm_prepare_guest_target instead of
#   vm_prepare: no target on the host; the guest runs $TT_BUILD's tetherd from /mnt/host)
#   and those of guest.sh (TT_VM_DIR, TT_VM_TIMEOUT, ...).
#
# Hooks: a test that runs its own targets (several gateways, tests/vm/rbd_multipath.sh)
# defines the shell functions vm_hook_target_start, vm_hook_target_stop, vm_hook_target_alive
# and vm_hook_target_action VERB NAME (the guest's "kill NAME" / "start NAME"; prints ok or
# error: ...) before vm_prepare; each replaces the built-in behaviour when defined.

VM_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TT_ROOT=$(cd "$VM_HOME/../.." && pwd)
TT_BUILD=${TT_BUILD:-$TT_ROOT/build}
TT_VM_TARGET=${TT_VM_TARGET:-tetherd}
TT_VM_DIR=${TT_VM_DIR:-/var/tmp/tether-vm}
TT_VM_LUN_MB=${TT_VM_LUN_MB:-256}
TT_VM_KEEP=${TT_VM_KEEP:-0}
TT_VM_TETHERD_ARGS=${TT_VM_TETHERD_ARGS:-}
export TT_VM_DIR

VM_NS=tt-vm-$$
VM_PORTALS=(10.77.1.1 10.77.2.1)
VM_GUEST_IPS="10.77.1.2/24 10.77.2.2/24"
VM_TGT_IQN=iqn.2026-11.org.tether:disk0
VM_TGT_CP=$((1000 + $$ % 30000)) # tgtd control port (its socket name), <= 32767
VM_RUN=
VM_TARGET_PID=
VM_WATCH_PID=
VM_GUEST_PID=
VM_GUEST2_PIDS= # guest.sh of the two guests of vm_guests2
VM_NAME=$(basename "$0" .sh)
VM_LUN_SPEC=    # tetherd's --lun (default ram:${TT_VM_LUN_MB}M); @RUN@ stands for the run folder
VM_TARGET_CMD=() # how vm_target_start started tetherd (the "start" request runs it again)
VM_IN_GUEST=0   # 1: tetherd runs in the guest (vm_prepare_guest_target)
VM_GUEST_BUILD= # TT_BUILD as a folder of the repository (what the guest finds under /mnt/host)

vm_log() { printf '[%s %s] %s\n' "$VM_NAME" "$(date +%T)" "$*" >&2; }
vm_skip() {
	echo "SKIP: $*"
	exit 77
}
vm_fail() {
	echo "FAIL: $*"
	exit 1
}

vm_require() {
	[[ $(id -u) == 0 ]] || vm_skip "not root (network namespaces, taps and nft need root)"
	[[ -c /dev/net/tun ]] || vm_skip "no /dev/net/tun"
	command -v ip >/dev/null || vm_skip "no ip (iproute2)"
	command -v nft >/dev/null || vm_skip "no nft (nftables)"
	ip netns add "$VM_NS-probe" 2>/dev/null || vm_skip "cannot create a network namespace"
	ip netns del "$VM_NS-probe"
	case $TT_VM_TARGET in
	tetherd)
		[[ -x $TT_BUILD/src/cmd/tetherd ]] || vm_skip "tetherd not built ($TT_BUILD/src/cmd/tetherd)"
		;;
	tgtd)
		if ! command -v tgtd >/dev/null || ! command -v tgtadm >/dev/null; then
			vm_skip "tgtd/tgtadm not installed (Debian package tgt)"
		fi
		;;
	*) vm_fail "TT_VM_TARGET must be tetherd or tgtd, not '$TT_VM_TARGET'" ;;
	esac
}

vm_build_guest() {
	local t0=$SECONDS rc=0
	"$VM_HOME/guest.sh" build || rc=$?
	((rc == 77)) && exit 77
	((rc == 0)) || vm_fail "guest build failed (status $rc)"
	vm_log "guest image ready ($((SECONDS - t0)) s)"
}

vm_target_stop() {
	local i
	if declare -F vm_hook_target_stop >/dev/null; then
		vm_hook_target_stop
		return 0
	fi
	[[ -n $VM_RUN && -s $VM_RUN/target.pid ]] && VM_TARGET_PID=$(cat "$VM_RUN/target.pid")
	[[ -n $VM_TARGET_PID ]] || return 0
	if [[ $TT_VM_TARGET == tgtd ]]; then
		# tgtd ignores SIGTERM while it has targets
		tgtadm -C "$VM_TGT_CP" --lld iscsi --op delete --mode target --tid 1 --force >/dev/null 2>&1
		tgtadm -C "$VM_TGT_CP" --op delete --mode system >/dev/null 2>&1
	fi
	kill "$VM_TARGET_PID" 2>/dev/null
	for i in $(seq 50); do
		kill -0 "$VM_TARGET_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$VM_TARGET_PID" 2>/dev/null
	wait "$VM_TARGET_PID" 2>/dev/null
	VM_TARGET_PID=
}

vm_cleanup() {
	local rc=$? pid
	set +e
	trap - EXIT INT TERM HUP
	for pid in $VM_WATCH_PID; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	for pid in $VM_GUEST_PID $VM_GUEST2_PIDS; do
		kill "$pid" 2>/dev/null # guest.sh stops its QEMU
		wait "$pid" 2>/dev/null
	done
	vm_target_stop
	if ip netns list 2>/dev/null | grep -qw "$VM_NS"; then
		# anything still running in our namespace was started by this test
		for pid in $(ip netns pids "$VM_NS" 2>/dev/null); do kill "$pid" 2>/dev/null; done
		sleep 0.2
		for pid in $(ip netns pids "$VM_NS" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
		ip netns del "$VM_NS"
	fi
	if [[ -n $VM_RUN && -d $VM_RUN ]]; then
		if ((TT_VM_KEEP)) || ((rc != 0 && rc != 77)); then
			vm_log "logs kept in $VM_RUN"
		else
			rm -rf "$VM_RUN"
		fi
	fi
	exit "$rc"
}

vm_netns_up() {
	local i
	ip netns add "$VM_NS"
	ip -n "$VM_NS" link set lo up
	for i in 0 1; do
		ip -n "$VM_NS" tuntap add dev "tt$i" mode tap
		ip -n "$VM_NS" addr add "${VM_PORTALS[$i]}/24" dev "tt$i"
		ip -n "$VM_NS" link set "tt$i" up
	done
}

vm_ns() { ip netns exec "$VM_NS" "$@"; }

vm_target_listening() {
	local p s
	s=$(vm_ns ss -Htln 2>/dev/null) || return 1
	for p in "${VM_PORTALS[@]}"; do grep -q "$p:3260 " <<<"$s" || return 1; done
}

vm_tgtd_setup() {
	local c=(tgtadm -C "$VM_TGT_CP" --lld iscsi)
	truncate -s "${TT_VM_LUN_MB}M" "$VM_RUN/lun0.img"
	"${c[@]}" --op new --mode portal --param "portal=${VM_PORTALS[1]}:3260" &&
		"${c[@]}" --op new --mode target --tid 1 -T "$VM_TGT_IQN" &&
		"${c[@]}" --op new --mode logicalunit --tid 1 --lun 1 -b "$VM_RUN/lun0.img" &&
		"${c[@]}" --op update --mode logicalunit --tid 1 --lun 1 \
			--params vendor_id=TETHER,product_id=VDISK,scsi_sn=tgt0001 &&
		"${c[@]}" --op bind --mode target --tid 1 -I ALL
}

vm_target_start() {
	local i
	if declare -F vm_hook_target_start >/dev/null; then
		vm_hook_target_start
		return
	fi
	case $TT_VM_TARGET in
	tetherd)
		local lun=${VM_LUN_SPEC:-ram:${TT_VM_LUN_MB}M}
		# not through vm_ns: $! must be the target itself (ip execs it)
		# shellcheck disable=SC2206 # TT_VM_TETHERD_ARGS holds several words
		VM_TARGET_CMD=(ip netns exec "$VM_NS" "$TT_BUILD/src/cmd/tetherd" --portal "${VM_PORTALS[0]}:3260"
			--portal "${VM_PORTALS[1]}:3260" --lun "${lun//@RUN@/$VM_RUN}" --rpc-socket "$VM_RUN/tetherd.sock"
			${TT_VM_TETHERD_ARGS})
		"${VM_TARGET_CMD[@]}" >>"$VM_RUN/target.log" 2>&1 &
		VM_TARGET_PID=$!
		echo "$VM_TARGET_PID" >"$VM_RUN/target.pid"
		;;
	tgtd)
		ip netns exec "$VM_NS" tgtd -f -C "$VM_TGT_CP" --iscsi "portal=${VM_PORTALS[0]}:3260" >"$VM_RUN/target.log" 2>&1 &
		VM_TARGET_PID=$!
		for i in $(seq 50); do
			tgtadm -C "$VM_TGT_CP" --lld iscsi --op show --mode portal >/dev/null 2>&1 && break
			sleep 0.1
		done
		vm_tgtd_setup >>"$VM_RUN/target.log" 2>&1 || vm_target_died "tgtadm setup failed"
		;;
	esac
	for i in $(seq 100); do
		vm_target_listening && break
		kill -0 "$VM_TARGET_PID" 2>/dev/null || vm_target_died "exited at start"
		sleep 0.1
	done
	vm_target_listening || vm_target_died "not listening on both portals after 10 s"
	vm_log "$TT_VM_TARGET (pid $VM_TARGET_PID) listening on ${VM_PORTALS[*]}:3260 in netns $VM_NS"
}

vm_target_died() {
	echo "--- $TT_VM_TARGET log (last 30 lines)"
	tail -30 "$VM_RUN/target.log" 2>/dev/null || true
	vm_fail "$TT_VM_TARGET: $*"
}

# the "kill" and "start" requests of the guest run in the watcher: the pid is in a file
vm_target_pid() {
	if [[ -s $VM_RUN/target.pid ]]; then cat "$VM_RUN/target.pid"; else echo "$VM_TARGET_PID"; fi
}
vm_target_alive() {
	local p
	if declare -F vm_hook_target_alive >/dev/null; then
		vm_hook_target_alive
		return
	fi
	p=$(vm_target_pid)
	[[ -n $p ]] && kill -0 "$p" 2>/dev/null
}

vm_cut_table() { echo "tt_cut_${1//./_}"; }

# Host actions the guest may ask for: cut or restore one of our portal addresses; kill
# (SIGKILL) or start again the tetherd of vm_target_start. Each is logged with the host's
# epoch time in RUN/actions.log ("EPOCH VERB [ADDR]"), which tests compare with tetherd's log.
vm_host_action() {
	local verb=$1 addr=${2:-} p ok=0 table
	case $verb in
	kill | start)
		if declare -F vm_hook_target_action >/dev/null; then
			vm_hook_target_action "$verb" "$addr"
			return 0
		fi
		[[ $TT_VM_TARGET == tetherd && ${#VM_TARGET_CMD[@]} -gt 0 ]] || {
			echo "error: $verb: no tetherd of vm_target_start"
			return 0
		}
		p=$(vm_target_pid)
		if [[ $verb == kill ]]; then
			kill -9 "$p" 2>/dev/null || {
				echo "error: tetherd (pid $p) not running"
				return 0
			}
			for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
			echo "$(date +%s.%N) kill" >>"$VM_RUN/actions.log"
			vm_log "tetherd (pid $p) killed with SIGKILL"
		else
			kill -0 "$p" 2>/dev/null && {
				echo "error: tetherd (pid $p) still running"
				return 0
			}
			echo "# restarted $(date +%s.%N)" >>"$VM_RUN/target.log"
			"${VM_TARGET_CMD[@]}" >>"$VM_RUN/target.log" 2>&1 &
			p=$!
			echo "$p" >"$VM_RUN/target.pid"
			for _ in $(seq 100); do vm_target_listening && break; sleep 0.1; done
			vm_target_listening || {
				echo "error: tetherd not listening 10 s after the restart"
				return 0
			}
			echo "$(date +%s.%N) start" >>"$VM_RUN/actions.log"
			vm_log "tetherd restarted (pid $p)"
		fi
		echo ok
		return 0
		;;
	poweroff)
		vm_guest2_poweroff "$addr"
		return 0
		;;
	esac
	for p in "${VM_PORTALS[@]}"; do [[ $addr == "$p" ]] && ok=1; done
	((ok)) || {
		echo "error: not a portal address: $addr"
		return 0
	}
	table=$(vm_cut_table "$addr")
	case $verb in
	cut)
		vm_ns nft -f - <<EOF 2>&1 || echo "error: nft failed"
table inet $table {
	chain in { type filter hook input priority -10; policy accept; ip daddr $addr drop; }
	chain out { type filter hook output priority -10; policy accept; ip saddr $addr drop; }
}
EOF
		echo "$(date +%s.%N) cut $addr" >>"$VM_RUN/actions.log"
		vm_log "portal $addr cut (nft drop)"
		echo ok
		;;
	restore)
		vm_ns nft delete table inet "$table" 2>/dev/null || echo "error: $addr was not cut"
		echo "$(date +%s.%N) restore $addr" >>"$VM_RUN/actions.log"
		vm_log "portal $addr restored"
		echo ok
		;;
	*) echo "error: unknown request $verb" ;;
	esac
}

# vm_watch [DIR]: answers the requests a guest writes into DIR (RUN/ctl)
vm_watch() {
	local f n verb addr dir=${1:-$VM_RUN/ctl}
	while :; do
		for f in "$dir"/req.[0-9]*; do
			[[ -f $f ]] || continue
			n=${f##*/req.}
			read -r verb addr <"$f" || true
			rm -f "$f"
			vm_host_action "$verb" "$addr" >"$dir/ack.$n.tmp"
			mv "$dir/ack.$n.tmp" "$dir/ack.$n"
		done
		sleep 0.1
	done
}

# Everything a test needs before it boots the guest.
vm_prepare() {
	vm_require
	vm_build_guest
	mkdir -p "$TT_VM_DIR/run"
	VM_RUN=$(mktemp -d "$TT_VM_DIR/run/$VM_NAME.XXXXXX")
	mkdir -p "$VM_RUN/ctl"
	trap vm_cleanup EXIT
	trap 'exit 143' INT TERM HUP
	vm_netns_up
	vm_target_start
	vm_watch &
	VM_WATCH_PID=$!
}

# vm_guest SCRIPT [VAR=value ...]: run tests/vm/lib/SCRIPT (or SCRIPT, a path in the
# repository, when it has a slash) in the guest with
# the given variables; returns the guest's status.
vm_guest() {
	local script=$1 t0=$SECONDS rc=0 cmd
	shift
	cmd="cd /root && env TT_VM_TARGET=$TT_VM_TARGET TT_VM_LUN_MB=$TT_VM_LUN_MB"
	((VM_IN_GUEST)) && cmd+=" TT_VM_GUEST_BUILD=$VM_GUEST_BUILD"
	# a name with a slash is a path in the repository (bench/vm/...)
	[[ $script == */* ]] || script=tests/vm/lib/$script
	cmd+=" $* bash /mnt/host/$script"
	# in the background: a signal to this script is handled at once (wait returns)
	vm_ns env TT_VM_TAPS="tt0 tt1" TT_VM_IPS="$VM_GUEST_IPS" TT_VM_CTL="$VM_RUN/ctl" \
		TT_VM_SHARE="$TT_ROOT" "$VM_HOME/guest.sh" run "$cmd" &
	VM_GUEST_PID=$!
	wait "$VM_GUEST_PID" || rc=$?
	VM_GUEST_PID=
	vm_log "guest finished with status $rc after $((SECONDS - t0)) s"
	if ((VM_IN_GUEST)); then
		# tetherd ran in the guest: its logs are in the control folder
		if ((rc != 0)); then
			local f
			for f in "$VM_RUN"/ctl/tetherd.*.log; do
				[[ -f $f ]] || continue
				echo "--- guest $(basename "$f") (last 20 lines)"
				tail -20 "$f"
			done
		fi
		return "$rc"
	fi
	if ! vm_target_alive; then
		echo "--- $TT_VM_TARGET log (last 30 lines)"
		tail -30 "$VM_RUN/target.log"
		vm_fail "$TT_VM_TARGET died during the test"
	fi
	if ((rc != 0)); then
		echo "--- $TT_VM_TARGET log (last 20 lines)"
		tail -20 "$VM_RUN/target.log"
	fi
	return "$rc"
}

# ---- tetherd from a configuration file (tests that need ACLs, CHAP, several TPGs)

# vm_tetherd_config_start FILE: tetherd --config FILE in the namespace, with
# its control socket in the run folder; waits until both portals listen.
vm_tetherd_config_start() {
	local i
	# shellcheck disable=SC2086 # TT_VM_TETHERD_ARGS holds several words
	ip netns exec "$VM_NS" "$TT_BUILD/src/cmd/tetherd" --config "$1" --rpc-socket "$VM_RUN/tetherd.sock" \
		--state-dir none ${TT_VM_TETHERD_ARGS} >"$VM_RUN/target.log" 2>&1 &
	VM_TARGET_PID=$!
	for i in $(seq 100); do
		vm_target_listening && break
		kill -0 "$VM_TARGET_PID" 2>/dev/null || vm_target_died "exited at start"
		sleep 0.1
	done
	vm_target_listening || vm_target_died "not listening on both portals after 10 s"
	vm_log "tetherd (pid $VM_TARGET_PID, --config) listening on ${VM_PORTALS[*]}:3260 in netns $VM_NS"
}

# vm_prepare_config < JSON: vm_prepare for a tetherd configured by the JSON on
# stdin (kept as RUN/tetherd.json, mode 0600). Skips with TT_VM_TARGET=tgtd.
vm_prepare_config() {
	[[ $TT_VM_TARGET == tetherd ]] || vm_skip "this test configures tetherd itself (TT_VM_TARGET=$TT_VM_TARGET)"
	vm_require
	[[ -x $TT_BUILD/src/cmd/tetherctl ]] || vm_skip "tetherctl not built ($TT_BUILD/src/cmd/tetherctl)"
	vm_build_guest
	mkdir -p "$TT_VM_DIR/run"
	VM_RUN=$(mktemp -d "$TT_VM_DIR/run/$VM_NAME.XXXXXX")
	mkdir -p "$VM_RUN/ctl"
	(umask 077 && cat >"$VM_RUN/tetherd.json")
	trap vm_cleanup EXIT
	trap 'exit 143' INT TERM HUP
	vm_netns_up
	vm_tetherd_config_start "$VM_RUN/tetherd.json"
	vm_watch &
	VM_WATCH_PID=$!
}

# vm_ctl ARGS...: tetherctl on the test's tetherd
vm_ctl() { "$TT_BUILD/src/cmd/tetherctl" -s "$VM_RUN/tetherd.sock" "$@"; }

# ---- tetherd inside the guest

# vm_prepare_guest_target: vm_prepare for a test whose tetherd runs inside the guest (started
# there with g_tetherd_start of guest-lib.sh): no target on the host. The guest runs the
# tetherd of TT_BUILD (build-san: the ASan/UBSan build), which must be a folder of the
# repository since the guest sees the repository only. Skips with TT_VM_TARGET=tgtd.
vm_prepare_guest_target() {
	[[ $TT_VM_TARGET == tetherd ]] || vm_skip "tetherd runs in the guest in this test (TT_VM_TARGET=$TT_VM_TARGET)"
	vm_require
	local b r
	b=$(cd "$TT_BUILD" && pwd -P) r=$(cd "$TT_ROOT" && pwd -P)
	[[ $b == "$r"/* ]] || vm_skip "TT_BUILD $TT_BUILD is not inside the repository $TT_ROOT (the guest sees only that)"
	VM_GUEST_BUILD=${b#"$r"/}
	[[ -x $TT_BUILD/src/cmd/tetherctl ]] || vm_skip "tetherctl not built ($TT_BUILD/src/cmd/tetherctl)"
	VM_IN_GUEST=1
	vm_build_guest
	mkdir -p "$TT_VM_DIR/run"
	VM_RUN=$(mktemp -d "$TT_VM_DIR/run/$VM_NAME.XXXXXX")
	mkdir -p "$VM_RUN/ctl"
	trap vm_cleanup EXIT
	trap 'exit 143' INT TERM HUP
	vm_netns_up
	vm_watch &
	VM_WATCH_PID=$!
	vm_log "tetherd runs in the guest (/mnt/host/$VM_GUEST_BUILD/src/cmd/tetherd)"
}

# ---- two guests on a private L2 link (tetherd in guest A, the initiator in guest B)
#
#   netns tt-vm-PID (QEMU of both guests; 127.0.0.1:VM_LINK_PORT is private to it)
#     guest A  eth0 QEMU user net   eth1 -netdev socket,listen=127.0.0.1:PORT   192.168.77.1/24
#     guest B  eth0 QEMU user net   eth1 -netdev socket,connect=127.0.0.1:PORT  192.168.77.2/24
#
# Each guest has its own control folder (A: RUN/ctl, B: RUN/ctl-b; each may ask the host for
# actions with g_host) and both mount RUN/link at /mnt/link (g_link_* in guest-lib.sh: named
# flag files, the way the two guests wait for each other). The guests configure eth1 and rxe on
# it themselves (g_link_up). The host action "poweroff b" (asked by guest A) kills guest B's
# QEMU with SIGKILL: nothing is sent on the link, the guest is gone as in a power cut.
VM_LINK_PORT=
VM_LINK_IPS=(192.168.77.1/24 192.168.77.2/24)
VM_TWO_MEM=${TT_VM_TWO_MEM:-768}

# vm_free_port: a TCP port nothing listens on in the namespace (prints it)
vm_free_port() {
	local p
	for p in $(seq $((20000 + $$ % 20000)) $((20100 + $$ % 20000))); do
		[[ -z $(vm_ns ss -Htln "sport = :$p" 2>/dev/null) ]] && {
			echo "$p"
			return 0
		}
	done
	return 1
}

# vm_prepare_two_guests: vm_prepare_guest_target for a test with two guests (tetherd of
# TT_BUILD in guest A); makes RUN/ctl-b, RUN/link, picks the link's port and watches both
# control folders.
vm_prepare_two_guests() {
	vm_prepare_guest_target
	mkdir -p "$VM_RUN/ctl-b" "$VM_RUN/link"
	VM_LINK_PORT=$(vm_free_port) || vm_fail "no free port for the guests' link"
	vm_watch "$VM_RUN/ctl-b" &
	VM_WATCH_PID+=" $!"
	vm_log "two guests, private link on 127.0.0.1:$VM_LINK_PORT (netns $VM_NS)"
}

# vm_qemu_under PID: the pid of the QEMU among PID's descendants (guest.sh under a subshell and
# ip netns exec, under timeout)
vm_qemu_under() {
	local p c
	for c in $(pgrep -P "$1" || true); do
		if [[ $(cat "/proc/$c/comm" 2>/dev/null) == qemu-system-* ]]; then
			echo "$c"
			return 0
		fi
		p=$(vm_qemu_under "$c") && {
			echo "$p"
			return 0
		}
	done
	return 1
}

# vm_guest2_poweroff NAME: SIGKILL of the QEMU of guest NAME (b); prints ok or error: ...
vm_guest2_poweroff() {
	local name=${1:-b} g t q=
	[[ $name == b && -s $VM_RUN/guest-b.pid ]] || {
		echo "error: poweroff: no guest '$name'"
		return 0
	}
	g=$(cat "$VM_RUN/guest-b.pid")
	q=$(vm_qemu_under "$g") || true
	[[ -n ${q:-} ]] || {
		echo "error: poweroff: no QEMU under guest.sh $g"
		return 0
	}
	t=$(date +%s.%N)
	kill -9 "$q"
	echo "$t poweroff $name" >>"$VM_RUN/actions.log"
	# the host's time of the kill, for the other guest (its clock differs: g_host_offset)
	echo "host=$t" >"$VM_RUN/link/.poweroff-$name" && mv "$VM_RUN/link/.poweroff-$name" "$VM_RUN/link/poweroff-$name"
	vm_log "guest $name powered off (QEMU pid $q killed with SIGKILL)"
	echo ok
}

# vm_guests2 SCRIPT_A SCRIPT_B [VAR=value ...]: boots guest A (tests/vm/lib/SCRIPT_A, the
# socket link's listening side), then guest B (SCRIPT_B) once A's QEMU listens, each with the
# variables and TT_VM_LINK_IP (its address on the link) and TT_VM_PEER_IP. Returns A's status;
# B's is in VM_GUEST_B_RC (99 or 137 when it was powered off), its output in RUN/ctl-b/out.log.
# shellcheck disable=SC2034 # for the test that sources this file
VM_GUEST_B_RC=
vm_guests2() {
	local sa=$1 sb=$2 t0=$SECONDS rca=0 rcb=0 pa pb base i
	shift 2
	base="cd /root && env TT_VM_TARGET=$TT_VM_TARGET TT_VM_GUEST_BUILD=$VM_GUEST_BUILD $*"
	vm_ns env TT_VM_TAPS= TT_VM_CTL="$VM_RUN/ctl" TT_VM_SHARE="$TT_ROOT" TT_VM_MEM="$VM_TWO_MEM" \
		TT_VM_SMP=1 TT_VM_SOCKNET="listen=127.0.0.1:$VM_LINK_PORT" TT_VM_SOCKMAC=0a \
		TT_VM_LINKDIR="$VM_RUN/link" "$VM_HOME/guest.sh" run \
		"$base TT_VM_LINK_IP=${VM_LINK_IPS[0]} TT_VM_PEER_IP=${VM_LINK_IPS[1]%/*} bash /mnt/host/tests/vm/lib/$sa" \
		>"$VM_RUN/guest-a.console" 2>&1 &
	pa=$!
	VM_GUEST2_PIDS="$pa"
	for i in $(seq 300); do
		[[ -n $(vm_ns ss -Htln "sport = :$VM_LINK_PORT" 2>/dev/null) ]] && break
		kill -0 "$pa" 2>/dev/null || break
		sleep 0.1
	done
	[[ -n $(vm_ns ss -Htln "sport = :$VM_LINK_PORT" 2>/dev/null) ]] || {
		tail -20 "$VM_RUN/guest-a.console"
		vm_fail "guest A's QEMU does not listen on 127.0.0.1:$VM_LINK_PORT"
	}
	vm_ns env TT_VM_TAPS= TT_VM_CTL="$VM_RUN/ctl-b" TT_VM_SHARE="$TT_ROOT" TT_VM_MEM="$VM_TWO_MEM" \
		TT_VM_SMP=1 TT_VM_SOCKNET="connect=127.0.0.1:$VM_LINK_PORT" TT_VM_SOCKMAC=0b \
		TT_VM_LINKDIR="$VM_RUN/link" "$VM_HOME/guest.sh" run \
		"$base TT_VM_LINK_IP=${VM_LINK_IPS[1]} TT_VM_PEER_IP=${VM_LINK_IPS[0]%/*} bash /mnt/host/tests/vm/lib/$sb" \
		>"$VM_RUN/guest-b.console" 2>&1 &
	pb=$!
	echo "$pb" >"$VM_RUN/guest-b.pid"
	VM_GUEST2_PIDS="$pa $pb"
	wait "$pa" || rca=$?
	# B ends by itself, or was powered off; give it a little time, then stop it
	for i in $(seq 100); do kill -0 "$pb" 2>/dev/null || break; sleep 0.1; done
	kill "$pb" 2>/dev/null
	wait "$pb" || rcb=$?
	VM_GUEST2_PIDS=
	# shellcheck disable=SC2034 # for the test that sources this file
	VM_GUEST_B_RC=$rcb
	vm_log "guest A finished with status $rca, guest B with $rcb, after $((SECONDS - t0)) s"
	echo "--- guest B (initiator) output"
	cat "$VM_RUN/ctl-b/out.log" 2>/dev/null || tail -30 "$VM_RUN/guest-b.console"
	echo "--- guest A (target) output"
	cat "$VM_RUN/ctl/out.log" 2>/dev/null || tail -30 "$VM_RUN/guest-a.console"
	if ((rca != 0)); then
		local f
		for f in "$VM_RUN"/ctl/tetherd.*.log; do
			[[ -f $f ]] || continue
			echo "--- guest A $(basename "$f") (last 20 lines)"
			tail -20 "$f"
		done
	fi
	return "$rca"
}
