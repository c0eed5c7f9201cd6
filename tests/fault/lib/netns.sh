# SPDX-License-Identifier: BSD-3-Clause
#
# netns.sh - the network of the fault scenarios (tests/fault/*.sh). Source it after
# tests/lib/common.sh:
#
#     . "$(dirname "$0")/../lib/common.sh"
#     . "$(dirname "$0")/lib/netns.sh"
#     ft_setup reap                      # tt_setup + two namespaces joined by a veth pair
#     ft_start main --portal "$FT_TADDR:3260" --lun ram:64M
#     ft_py hold --opt seconds=30 &      # tests/fault/lib/fault.py, run in the initiator's namespace
#     ft_sessions main                   # number of sessions tetherctl lists
#     ft_cut_silent / ft_uncut           # drop every packet on the initiator's side (no RST)
#
# The network: namespace $FT_NST (the target, tetherd) holds $FT_TVETH with $FT_TADDR/24,
# namespace $FT_NSI (the initiator) holds $FT_IVETH with $FT_IADDR/24. Both are removed at exit
# (after tetherd is stopped and the background processes are killed). Every address lives inside
# these namespaces; nothing is changed in the namespace the test started in.
#
# Skips (77) when not root or when a namespace cannot be made.
# Variables set here for the sourcing script: FT_*, TT_PID/TT_LOG entries.
# shellcheck disable=SC2034

FT_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TETHERCTL=$TT_BUILD/src/cmd/tetherctl
FT_TADDR=10.199.1.1
FT_IADDR=10.199.1.2
FT_PORT=3260
FT_NST='' FT_NSI='' FT_TVETH='' FT_IVETH=''
declare -A FT_SOCK=() # tetherd instance name -> control socket

# ft_setup NAME: $TT_WORK, clean-up, the two namespaces and the veth pair between them.
# FT_NO_TADDR=1: the target's side of the veth gets no address (added later by the test).
ft_setup() {
	local tag=$$ err
	tt_setup "$1"
	[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, nftables)"
	tt_need ip "$TT_PYTHON"
	[ -x "$TETHERCTL" ] || skip "tetherctl is not built ($TETHERCTL)"
	FT_NST=ttf-$1-$tag-t
	FT_NSI=ttf-$1-$tag-i
	FT_TVETH=tf${tag}t
	FT_IVETH=tf${tag}i
	err=$(ip netns add "$FT_NST" 2>&1) || skip "ip netns add failed: $err"
	tt_at_exit "ft_ns_remove $FT_NST"
	err=$(ip netns add "$FT_NSI" 2>&1) || skip "ip netns add failed: $err"
	tt_at_exit "ft_ns_remove $FT_NSI"
	ip -n "$FT_NST" link set lo up || fail "lo up in $FT_NST"
	ip -n "$FT_NSI" link set lo up || fail "lo up in $FT_NSI"
	ip link add "$FT_TVETH" netns "$FT_NST" type veth peer name "$FT_IVETH" netns "$FT_NSI" ||
		skip "cannot create a veth pair"
	if [ "${FT_NO_TADDR:-0}" != 1 ]; then
		ip -n "$FT_NST" addr add "$FT_TADDR/24" dev "$FT_TVETH" || fail "address $FT_TADDR"
	fi
	ip -n "$FT_NSI" addr add "$FT_IADDR/24" dev "$FT_IVETH" || fail "address $FT_IADDR"
	ip -n "$FT_NST" link set "$FT_TVETH" up || fail "$FT_TVETH up"
	ip -n "$FT_NSI" link set "$FT_IVETH" up || fail "$FT_IVETH up"
	# many short connections from one address: reuse ports in TIME_WAIT
	ip netns exec "$FT_NSI" sysctl -q -w net.ipv4.tcp_tw_reuse=1 \
		net.ipv4.ip_local_port_range="10000 65000" >/dev/null 2>&1
	echo "    namespaces $FT_NST ($FT_TADDR) <-> $FT_NSI ($FT_IADDR)"
}

# ft_add_path: a second veth pair between the namespaces, $FT_TADDR2 (target) <-> $FT_IADDR2.
ft_add_path() {
	FT_TADDR2=10.199.2.1
	FT_IADDR2=10.199.2.2
	ip link add "${FT_TVETH}2" netns "$FT_NST" type veth peer name "${FT_IVETH}2" \
		netns "$FT_NSI" || fail "cannot create a second veth pair"
	ip -n "$FT_NST" addr add "$FT_TADDR2/24" dev "${FT_TVETH}2" || fail "address $FT_TADDR2"
	ip -n "$FT_NSI" addr add "$FT_IADDR2/24" dev "${FT_IVETH}2" || fail "address $FT_IADDR2"
	ip -n "$FT_NST" link set "${FT_TVETH}2" up || fail "${FT_TVETH}2 up"
	ip -n "$FT_NSI" link set "${FT_IVETH}2" up || fail "${FT_IVETH}2 up"
	echo "    second path $FT_TADDR2 <-> $FT_IADDR2"
}

# ft_ns_remove NS: kills what still runs in NS (only our namespaces hold our processes), then
# deletes it.
ft_ns_remove() {
	local p
	for p in $(ip netns pids "$1" 2>/dev/null); do
		kill -KILL "$p" 2>/dev/null
	done
	ip netns del "$1" 2>/dev/null
}

# ft_t CMD...: CMD in the target's namespace; ft_i CMD...: in the initiator's.
ft_t() { ip netns exec "$FT_NST" "$@"; }
ft_i() { ip netns exec "$FT_NSI" "$@"; }

# ft_py CASE... [--opt K=V]...: tests/fault/lib/fault.py in the initiator's namespace, against
# $FT_TADDR:$FT_PORT (the same process id as the python program: ip netns exec execs it).
ft_py() {
	ip netns exec "$FT_NSI" "$TT_PYTHON" "$FT_LIB_DIR/fault.py" --host "$FT_TADDR" --port "$FT_PORT" "$@"
}

ft_ctl() { # ft_ctl NAME ARGS...: tetherctl on the control socket of tetherd NAME
	local name=$1
	shift
	timeout -k 2 10 "$TETHERCTL" -s "${FT_SOCK[$name]}" "$@"
}

# ft_start NAME ARGS...: tetherd NAME in the target's namespace (log $TT_WORK/tetherd-NAME.log,
# control socket $TT_WORK/NAME.sock); waits until it answers on the socket and, unless
# FT_NO_WAIT_LISTEN=1, until every portal listens. tt_stop/tt_alive/the exit check apply.
ft_start() {
	local name=$1 i pid rc
	shift
	local log=$TT_WORK/tetherd-$name.log sock=$TT_WORK/$name.sock
	local args=(--rpc-socket "$sock" "$@")
	[ "${TT_VERBOSE:-0}" = 1 ] && args+=(--log-level info)
	[ -z "${TT_PID[$name]:-}" ] || fail "tetherd '$name' is already running"
	TT_LOG[$name]=$log
	FT_SOCK[$name]=$sock
	echo "    start tetherd '$name' in $FT_NST: ${args[*]}" >>"$log"
	ip netns exec "$FT_NST" "$TETHERD" "${args[@]}" >>"$log" 2>&1 &
	pid=$!
	TT_PID[$name]=$pid
	for i in $(seq 300); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			rc=$?
			unset "TT_PID[$name]"
			fail "tetherd '$name' exited at start with status $rc ($*)"
		fi
		if OUT=$(ft_ctl "$name" portal list 2>/dev/null); then
			if [ "${FT_NO_WAIT_LISTEN:-0}" = 1 ] || ! printf '%s\n' "$OUT" | grep -q binding; then
				echo "    tetherd '$name' running (pid $pid): $*"
				return 0
			fi
		fi
		sleep 0.1
	done
	fail "tetherd '$name' not ready after 30 s: $OUT"
}

# ft_sessions NAME: the number of sessions tetherctl lists (every state).
ft_sessions() {
	local out
	out=$(ft_ctl "$1" --json session list) || { echo -1; return 1; }
	printf '%s\n' "$out" | grep -c '"tsih"'
}

ft_pid() { echo "${TT_PID[$1]}"; }
# ft_fds NAME: open file descriptors of tetherd NAME
ft_fds() { find "/proc/${TT_PID[$1]}/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
# ft_rss NAME: its resident set in KiB
ft_rss() { awk '/^VmRSS:/ { print $2 }' "/proc/${TT_PID[$1]}/status"; }
ft_now_ms() { date +%s%3N; }

# ft_wait_sessions NAME N SECONDS: waits (polling every 20 ms) until tetherd NAME lists N
# sessions; prints the milliseconds it took; returns 1 on time-out.
ft_wait_sessions() {
	local name=$1 want=$2 t0 deadline n
	t0=$(ft_now_ms)
	deadline=$((t0 + $3 * 1000))
	while :; do
		n=$(ft_sessions "$name")
		[ "$n" = "$want" ] && { echo $(($(ft_now_ms) - t0)); return 0; }
		[ "$(ft_now_ms)" -ge "$deadline" ] && { echo "$n"; return 1; }
		sleep 0.02
	done
}

# ft_wait_line FILE TEXT SECONDS: waits until FILE has a line containing TEXT.
ft_wait_line() {
	local i
	for i in $(seq $(($3 * 20))); do
		grep -qF -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# ft_cut_silent: every packet in and out of the initiator's namespace dropped (no RST, no
# ICMP): the target sees a silent peer. ft_uncut takes it back.
ft_cut_silent() {
	tt_need nft
	ft_i nft -f - <<EOF || fail "nft: cannot install the drop rules"
table inet ttfcut {
	chain input { type filter hook input priority -100; policy drop; }
	chain output { type filter hook output priority -100; policy drop; }
}
EOF
}
ft_uncut() { ft_i nft delete table inet ttfcut 2>/dev/null; }

# ft_figure NAME VALUE: a measured figure, in the form the documentation quotes.
ft_figure() { echo "FIGURE $1=$2"; }

# ft_baseline NAME: records fd count and RSS of tetherd NAME in FT_FD0 / FT_RSS0.
ft_baseline() {
	FT_FD0=$(ft_fds "$1")
	FT_RSS0=$(ft_rss "$1")
	echo "    baseline: $FT_FD0 fds, VmRSS $FT_RSS0 KiB"
}

# ft_check_back NAME WHAT FD_SLACK RSS_SLACK_KB: fd count and RSS back near the baseline
# (fds polled for up to 3 s: a closing socket may take a loop pass).
ft_check_back() {
	local name=$1 what=$2 fds rss
	for _ in $(seq 60); do
		fds=$(ft_fds "$name")
		[ "$fds" -le $((FT_FD0 + $3)) ] && break
		sleep 0.05
	done
	rss=$(ft_rss "$name")
	echo "    after $what: $fds fds (baseline $FT_FD0), VmRSS $rss KiB (baseline $FT_RSS0)"
	[ "$fds" -le $((FT_FD0 + $3)) ] || fail "$what: tetherd holds $fds fds, baseline $FT_FD0 (+$3)
$(ls -l "/proc/${TT_PID[$name]}/fd")"
	[ "$rss" -le $((FT_RSS0 + $4)) ] || fail "$what: tetherd VmRSS $rss KiB, baseline $FT_RSS0 KiB (+$4)"
}

# ft_is_sanitized: true when tetherd was built with AddressSanitizer.
ft_is_sanitized() { grep -q -a -m1 '__asan_init' "$TETHERD" 2>/dev/null; }

# ft_term NAME FIRST_S [SECOND_S]: SIGTERM to tetherd NAME; if it still runs after FIRST_S
# seconds and SECOND_S is given, SIGTERM again and wait SECOND_S more; then SIGKILL. Sets
# FT_EXIT (its exit status), FT_TERM_MS (from the first SIGTERM to its end), FT_TERMS (SIGTERMs
# sent). Returns 0 when it ended by itself. The exit check of common.sh no longer applies to it.
ft_term() {
	local name=$1 pid=${TT_PID[$1]} t0
	unset "TT_PID[$name]"
	t0=$(ft_now_ms)
	kill -TERM "$pid"
	FT_TERMS=1
	ft_wait_exit "$pid" "$2"
	if kill -0 "$pid" 2>/dev/null && [ -n "${3:-}" ]; then
		kill -TERM "$pid"
		FT_TERMS=2
		ft_wait_exit "$pid" "$3"
	fi
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid"
		wait "$pid" 2>/dev/null
		FT_EXIT=$?
		FT_TERM_MS=$(($(ft_now_ms) - t0))
		return 1
	fi
	wait "$pid"
	FT_EXIT=$?
	FT_TERM_MS=$(($(ft_now_ms) - t0))
	return 0
}

# ft_wait_exit PID SECONDS: waits until process PID has ended, at most SECONDS.
ft_wait_exit() {
	local deadline=$(($(ft_now_ms) + $2 * 1000))
	while kill -0 "$1" 2>/dev/null && [ "$(ft_now_ms)" -lt "$deadline" ]; do
		sleep 0.02
	done
}

# ft_rss_slack PLAIN_KB SAN_KB: sets FT_RSS_SLACK, the VmRSS growth a test allows. With a
# sanitizer build, tetherd then runs with a 16 MiB ASan quarantine: freed memory held back to
# catch use-after-free would otherwise grow VmRSS by up to 256 MiB and hide any real growth.
ft_rss_slack() {
	FT_RSS_SLACK=$1
	if ft_is_sanitized; then
		FT_RSS_SLACK=$2
		export ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}quarantine_size_mb=16"
	fi
}
