# SPDX-License-Identifier: BSD-3-Clause
#
# common.sh - shell functions of the black-box tests (tests/interop, tests/fault). Source it:
#
#     . "$(dirname "$0")/../lib/common.sh"
#     tt_setup my-test                 # temp dir $TT_WORK, clean-up at exit, tetherd found or skip
#     tt_need iscsi-inq qemu-img       # skip (exit 77) when a program is missing
#     tt_free_port P1                  # P1=<a TCP port nobody uses>
#     tt_start main --portal 127.0.0.1:$P1 --lun ram:64M
#     tt_capture 30 iscsi-inq "$(tt_url "$P1" 0)" || fail "iscsi-inq: $OUT"
#     tt_contains "Vendor:TETHER" "standard INQUIRY"
#     tt_stop main                     # SIGTERM; must exit 0 with no sanitizer report
#
# At exit every tetherd still running is stopped and checked the same way (a bad exit turns a
# passing test into a failure), background processes started with tt_bg are killed and $TT_WORK
# is removed (kept when TT_KEEP=1).
#
# Environment: TT_BUILD (build directory, default <repo>/build), TT_TOP (repository),
# TT_KEEP=1 (keep the temporary directory), TT_VERBOSE=1 (tetherd --log-level info).

set -u

TT_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TT_TOP=${TT_TOP:-$(cd "$TT_LIB_DIR/../.." && pwd)}
TT_BUILD=${TT_BUILD:-$TT_TOP/build}
TETHERD=$TT_BUILD/src/cmd/tetherd
TT_TOOLS=$TT_TOP/tests/tools
TT_IQN=iqn.2026-11.org.tether:default
# the distribution's Python 3 (quick to start) unless another is asked for
TT_PYTHON=${TT_PYTHON:-$(command -v /usr/bin/python3 || command -v python3 || echo python3)}
TT_WORK=
OUT=

declare -A TT_PID=()   # tetherd instance name -> pid
declare -A TT_LOG=()   # tetherd instance name -> log file
TT_BG=()               # other background processes of the test
TT_AT_EXIT=()          # commands (strings) run at exit, after tetherd is stopped
TT_PORTS_TAKEN=" "     # ports handed out by tt_free_port and not yet bound

skip() {
	echo "SKIP: $*"
	exit 77
}

fail() {
	echo "FAIL: $*"
	tt_dump_logs
	TT_DUMPED=1
	exit 1
}

step() { echo "--- $*"; }
ok() { echo "    ok: $*"; }

# tt_need PROGRAM...: skips the test when one is missing.
tt_need() {
	local p
	for p in "$@"; do
		command -v "$p" >/dev/null 2>&1 || skip "$p is not installed"
	done
}

# tt_setup NAME: checks that tetherd is built, makes $TT_WORK and installs the clean-up.
tt_setup() {
	[ -x "$TETHERD" ] || skip "tetherd is not built ($TETHERD)"
	tt_need ss timeout
	TT_WORK=$(mktemp -d "${TMPDIR:-/tmp}/tt-$1.XXXXXX") || fail "mktemp failed"
	trap tt_cleanup EXIT
	trap 'exit 1' INT TERM HUP
}

# A sanitizer or assertion report in a log file.
tt_log_has_report() {
	grep -E -q 'ERROR: [A-Za-z]+Sanitizer|SUMMARY: [A-Za-z]+Sanitizer|runtime error:|Assertion .* failed' "$1" 2>/dev/null
}

# tt_dump_logs: the end of every tetherd log of the test (also of instances restarted after a
# crash), or, where there is one, the sanitizer report without its shadow-byte table.
tt_dump_logs() {
	local f
	[ -n "$TT_WORK" ] || return 0
	for f in "$TT_WORK"/tetherd-*.log*; do
		[ -s "$f" ] || continue
		if tt_log_has_report "$f"; then
			echo "--- sanitizer report in $(basename "$f"):"
			sed -n '/ERROR: [A-Za-z]*Sanitizer\|runtime error:/,/SUMMARY:/p' "$f" |
				grep -v '^ *$' | head -n 60
		else
			echo "--- last lines of $(basename "$f"):"
			tail -n 25 "$f"
		fi
	done
}

# tt_stop_check NAME [SECONDS]: SIGTERM, wait (20 s by default), check. Prints a message and
# returns 1 on a problem. Never calls fail (it also runs from the exit trap).
tt_stop_check() {
	local name=$1 pid=${TT_PID[$1]:-} log=${TT_LOG[$1]} rc i secs=${2:-20}
	[ -n "$pid" ] || return 0
	if ! kill -0 "$pid" 2>/dev/null; then
		wait "$pid" 2>/dev/null
		rc=$?
		unset "TT_PID[$name]"
		echo "tetherd '$name' (pid $pid) was no longer running (exit status $rc)"
		return 1
	fi
	kill -TERM "$pid" 2>/dev/null
	# SIGTERM logs initiators out for at most 10 s; a sanitizer build writes its report after.
	for i in $(seq $((secs * 10))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "tetherd '$name' (pid $pid) still running $secs s after SIGTERM: killed"
		echo "    its last log lines:"
		tail -n 5 "$log" | sed 's/^/    | /'
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		unset "TT_PID[$name]"
		return 1
	fi
	wait "$pid"
	rc=$?
	unset "TT_PID[$name]"
	if [ "$rc" != 0 ]; then
		echo "tetherd '$name' exited with status $rc after SIGTERM (expected 0)"
		return 1
	fi
	if tt_log_has_report "$log"; then
		echo "tetherd '$name': sanitizer or assertion report in $log"
		return 1
	fi
	return 0
}

tt_cleanup() {
	local rc=$? name p
	trap - EXIT
	for name in "${!TT_PID[@]}"; do
		if ! tt_stop_check "$name"; then
			echo "FAIL: tetherd '$name' did not stop cleanly at the end of the test"
			rc=1
		fi
	done
	for p in "${TT_BG[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	for p in "${TT_AT_EXIT[@]}"; do
		eval "$p"
	done
	if [ "$rc" != 0 ] && [ "$rc" != 77 ] && [ -z "${TT_DUMPED:-}" ]; then
		tt_dump_logs
	fi
	if [ -n "$TT_WORK" ] && [ "${TT_KEEP:-0}" != 1 ]; then
		rm -rf "$TT_WORK"
	elif [ -n "$TT_WORK" ]; then
		echo "kept $TT_WORK"
	fi
	exit "$rc"
}

# tt_bg PID: a background process to kill at exit.
tt_bg() { TT_BG+=("$1"); }

# tt_at_exit COMMAND: a shell command (one string) to run at exit, e.g. removing a directory
# made outside $TT_WORK.
tt_at_exit() { TT_AT_EXIT+=("$1"); }

tt_port_used() { [ -n "$(ss -Htan "sport = :$1" 2>/dev/null)" ]; }

# tt_free_port VAR: sets VAR to a TCP port with no socket on it, below the ephemeral range,
# different from the ports given out before in this test.
tt_free_port() {
	local p=$((20000 + (RANDOM * 32768 + RANDOM + $$) % 12000)) n
	for n in $(seq 2000); do
		if ! tt_port_used "$p" && [[ $TT_PORTS_TAKEN != *" $p "* ]]; then
			TT_PORTS_TAKEN+="$p "
			printf -v "$1" '%s' "$p"
			return 0
		fi
		p=$((p + 1))
		[ "$p" -ge 32000 ] && p=20000
	done
	fail "no free TCP port found"
}

tt_listening() { [ -n "$(ss -Htln "sport = :$1" 2>/dev/null)" ]; }

# tt_start NAME [TETHERD ARGS...]: starts tetherd in the background (log in
# $TT_WORK/tetherd-NAME.log, appended to on a restart) and waits until the port of every
# --portal (and every port in $TT_WAIT_PORTS, for --config) accepts connections.
# Adds --rpc-socket none unless an --rpc-socket is given.
tt_start() {
	local name=$1 i p pid
	shift
	local args=("$@") ports=() rpc=0
	local log=$TT_WORK/tetherd-$name.log
	for ((i = 0; i < ${#args[@]}; i++)); do
		case ${args[i]} in
		--portal) ports+=("${args[i + 1]##*:}") ;;
		--rpc-socket) rpc=1 ;;
		esac
	done
	# shellcheck disable=SC2206
	ports+=(${TT_WAIT_PORTS:-})
	[ $rpc = 1 ] || args+=(--rpc-socket none)
	[ "${TT_VERBOSE:-0}" = 1 ] && args+=(--log-level info)
	[ -z "${TT_PID[$name]:-}" ] || fail "tetherd '$name' is already running"
	TT_LOG[$name]=$log
	echo "    start tetherd '$name': ${args[*]}" >>"$log"
	"$TETHERD" "${args[@]}" >>"$log" 2>&1 &
	pid=$!
	TT_PID[$name]=$pid
	for p in "${ports[@]}"; do
		for i in $(seq 300); do
			tt_listening "$p" && break
			if ! kill -0 "$pid" 2>/dev/null; then
				wait "$pid"
				local rc=$?
				unset "TT_PID[$name]"
				fail "tetherd '$name' exited at start with status $rc ($*)"
			fi
			sleep 0.1
		done
		tt_listening "$p" || fail "tetherd '$name' does not listen on port $p after 30 s"
		TT_PORTS_TAKEN=${TT_PORTS_TAKEN/ $p / }
	done
	echo "    tetherd '$name' running (pid $pid): $*"
}

# tt_stop NAME [SECONDS]: SIGTERM; tetherd must exit 0 within SECONDS (20) with no sanitizer
# report in its log.
tt_stop() {
	tt_stop_check "$1" "${2:-20}" || fail "tetherd '$1' did not stop cleanly"
	ok "tetherd '$1' stopped cleanly (exit 0, no sanitizer report)"
}

# tt_running NAME [WHAT]: 0 when tetherd NAME runs and its log has no sanitizer report;
# otherwise prints why and returns 1 (a dead instance is forgotten: tt_restart starts it again).
tt_running() {
	local pid=${TT_PID[$1]:-} rc
	if [ -z "$pid" ]; then
		echo "tetherd '$1' is not running"
		return 1
	fi
	if ! kill -0 "$pid" 2>/dev/null; then
		wait "$pid" 2>/dev/null
		rc=$?
		unset "TT_PID[$1]"
		echo "tetherd '$1' died${2:+ after $2} (exit status $rc)"
		return 1
	fi
	if tt_log_has_report "${TT_LOG[$1]}"; then
		echo "tetherd '$1': sanitizer report in its log${2:+ after $2}"
		return 1
	fi
	return 0
}

# tt_alive NAME [WHAT]: fails unless tt_running.
tt_alive() {
	local msg
	msg=$(tt_running "$@") || fail "$msg"
}

# tt_restart NAME [TETHERD ARGS...]: after a crash: keeps the old log aside (it stays in the
# report) and starts tetherd NAME again.
tt_restart() {
	local name=$1 n=1
	shift
	[ -n "${TT_PID[$name]:-}" ] && kill -KILL "${TT_PID[$name]}" 2>/dev/null &&
		wait "${TT_PID[$name]}" 2>/dev/null
	unset "TT_PID[$name]"
	while [ -e "${TT_LOG[$name]}.crash$n" ]; do n=$((n + 1)); done
	mv "${TT_LOG[$name]}" "${TT_LOG[$name]}.crash$n"
	tt_start "$name" "$@"
}

# tt_capture SECONDS CMD...: runs CMD with a time limit; stdout and stderr in $OUT;
# returns its exit status (124: timed out).
tt_capture() {
	local tmo=$1
	shift
	OUT=$(timeout -k 5 "$tmo" "$@" 2>&1)
}

# tt_contains TEXT WHAT: $OUT must contain TEXT (a fixed string).
tt_contains() {
	printf '%s\n' "$OUT" | grep -qF -- "$1" || fail "$2: \"$1\" missing in:
$OUT"
}

# tt_url PORT LUN [HOST] [TARGET]: a libiscsi URL.
tt_url() {
	echo "iscsi://${3:-127.0.0.1}:$1/${4:-$TT_IQN}/$2"
}

# tt_pdu SCRIPT ARGS...: runs tests/tools/SCRIPT with $TT_PYTHON and a 60 s limit.
tt_pdu() {
	local script=$1
	shift
	timeout -k 5 60 "$TT_PYTHON" "$TT_TOOLS/$script" "$@"
}

# tt_inq_ok PORT [WHAT]: a fresh, well-behaved initiator gets a standard INQUIRY answer.
tt_inq_ok() {
	tt_capture 30 iscsi-inq "$(tt_url "$1" 0)" ||
		fail "a fresh iscsi-inq failed${2:+ after $2} (exit $?): $OUT"
	tt_contains "Vendor:TETHER" "iscsi-inq${2:+ after $2}"
}

# tt_elapsed: seconds since the test started, for its own messages.
tt_elapsed() { echo "$SECONDS s"; }
