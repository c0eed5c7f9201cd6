# SPDX-License-Identifier: BSD-3-Clause
#
# paths.sh - two network paths between an initiator and a target, and the faults of the
# initiator's fail-over tests (tests/fault/initiator_*.sh). Source it after common.sh and
# netns.sh:
#
#     . "$(dirname "$0")/../lib/common.sh"
#     . "$(dirname "$0")/lib/netns.sh"
#     . "$(dirname "$0")/lib/paths.sh"
#     fp_setup failover                # namespaces, two veth pairs, nft and the tether CLI or skip
#     fp_start_tetherd                 # tetherd: one TPG on both addresses, file-backed LUN 0
#     fp_start_tgtd                    # tgtd: one target on both addresses, file-backed LUN 1
#     fp_check_paths tetherd           # iscsi-ls over each address from the initiator's side
#     fp_url tgtd 2                    # iscsi://10.199.2.1:3260/iqn.../1
#     fp_cut 1; fp_uncut 1             # silent cut of path 1 (nft drop both ways, no RST)
#     fp_link_down 1; fp_link_up 1     # carrier loss of path 1
#     fp_kill tgtd; fp_restart tgtd    # SIGKILL, then the same target and LUN on the same file
#     fp_all_down; fp_all_up           # both links down / up
#
# The network (netns.sh): the target's namespace $FT_NST holds $FT_TVETH ($FT_TADDR/24, path 1)
# and ${FT_TVETH}2 ($FT_TADDR2/24, path 2); the initiator's namespace $FT_NSI holds the peers.
# Every fault is made in the target's namespace; the initiator's side is never touched, so what
# the initiator sees is what a switch or cable failure looks like to it.
#
# tetherd and tgtd listen on port $FT_PORT of both addresses at once (one namespace, one port
# each would clash: tetherd binds the two addresses, tgtd port $FP_TGT_PORT on the wildcard).
# Their LUNs are files in $TT_WORK, so data written before a SIGKILL is there after the restart.
#
# Skips (77): not root, no namespace, no nft, tgtd/tgtadm or iscsi-ls missing (fp_start_tgtd /
# fp_check_paths), the tether CLI not built (fp_need_tether).
# shellcheck disable=SC2034

FP_TETHERD_IQN=iqn.2026-11.org.tether:failover
FP_TGT_IQN=iqn.2026-11.org.tether:failover-tgt
FP_TGT_PORT=3261
FP_SIZE=${FP_SIZE:-256M}
FP_TGT_CTL=''  # tgtd's control port (its socket /var/run/tgtd/socket.N is not namespaced)
FP_TGT_PID=''
TETHER=$TT_BUILD/src/cmd/tether

# fp_setup NAME: namespaces and both paths (netns.sh), nft usable in the target's namespace.
fp_setup() {
	ft_setup "$1"
	ft_add_path
	tt_need nft jq
	local err
	err=$(ft_t nft -f - 2>&1 <<EOF
table inet ttfprobe {
	chain input { type filter hook input priority -100; policy accept; }
}
EOF
	) || skip "nft cannot load a table in the target's namespace: $err"
	ft_t nft delete table inet ttfprobe
}

# fp_need_tether: the tether CLI (libtether) is built, with the bench and paths commands.
fp_need_tether() {
	[ -x "$TETHER" ] || skip "the tether CLI is not built ($TETHER)"
	"$TETHER" bench --help >/dev/null 2>&1 || "$TETHER" help bench >/dev/null 2>&1 ||
		skip "this tether CLI has no 'bench' command"
}

# fp_dev N: the target-side interface of path N (1 or 2); fp_addr N: its address.
fp_dev() { [ "$1" = 1 ] && echo "$FT_TVETH" || echo "${FT_TVETH}2"; }
fp_addr() { [ "$1" = 1 ] && echo "$FT_TADDR" || echo "$FT_TADDR2"; }

# fp_url KIND N: the URL of the LUN of KIND (tetherd or tgtd) through path N.
fp_url() {
	case $1 in
	tetherd) echo "iscsi://$(fp_addr "$2"):$FT_PORT/$FP_TETHERD_IQN/0" ;;
	tgtd) echo "iscsi://$(fp_addr "$2"):$FP_TGT_PORT/$FP_TGT_IQN/1" ;;
	*) fail "fp_url: unknown target kind '$1'" ;;
	esac
}

# --- tetherd -----------------------------------------------------------------------------

# fp_start_tetherd [EXTRA LUN SPEC PREFIX]: tetherd 'tetherd' with TPG 1 on both addresses and
# LUN 0 on $TT_WORK/tetherd.img ($FP_SIZE). The optional argument wraps the file backend, e.g.
# "delay:ms=200," for a slow LUN. NOP keepalive from $FP_NOP (seconds "INTERVAL TIMEOUT",
# default tetherd's).
fp_start_tetherd() {
	FP_TETHERD_ARGS=(--target "$FP_TETHERD_IQN" --portal "$FT_TADDR:$FT_PORT"
		--portal "$FT_TADDR2:$FT_PORT" --lun "${1:-}file:$TT_WORK/tetherd.img,size=$FP_SIZE"
		--state-dir none)
	if [ -n "${FP_NOP:-}" ]; then
		read -r a b <<<"$FP_NOP"
		FP_TETHERD_ARGS+=(--nop-interval "$a" --nop-timeout "$b")
	fi
	ft_start tetherd "${FP_TETHERD_ARGS[@]}"
}

# --- tgtd --------------------------------------------------------------------------------

fp_tgtadm() { ft_t timeout -k 2 10 tgtadm -C "$FP_TGT_CTL" "$@"; }

# fp_start_tgtd: tgtd in the target's namespace on port $FP_TGT_PORT of every address, one
# target $FP_TGT_IQN (tid 1) with LUN 1 on $TT_WORK/tgtd.img ($FP_SIZE), any initiator.
fp_start_tgtd() {
	tt_need tgtd tgtadm
	local i
	if [ -z "$FP_TGT_CTL" ]; then
		# a control port no other tgtd uses: its socket lives in the shared /var/run/tgtd
		FP_TGT_CTL=$((1000 + $$ % 30000))
		while [ -e "/var/run/tgtd/socket.$FP_TGT_CTL" ]; do FP_TGT_CTL=$((FP_TGT_CTL + 1)); done
		tt_at_exit "fp_stop_tgtd; rm -f /var/run/tgtd/socket.$FP_TGT_CTL /var/run/tgtd/socket.$FP_TGT_CTL.lock"
		[ -e "$TT_WORK/tgtd.img" ] || truncate -s "$FP_SIZE" "$TT_WORK/tgtd.img"
	fi
	echo "    start tgtd in $FT_NST (control port $FP_TGT_CTL)" >>"$TT_WORK/tgtd.log"
	ip netns exec "$FT_NST" tgtd -f -C "$FP_TGT_CTL" --iscsi "portal=0.0.0.0:$FP_TGT_PORT" \
		>>"$TT_WORK/tgtd.log" 2>&1 &
	FP_TGT_PID=$!
	for i in $(seq 100); do
		kill -0 "$FP_TGT_PID" 2>/dev/null || fail "tgtd exited at start: $(tail -5 "$TT_WORK/tgtd.log")"
		fp_tgtadm --op show --mode sys >/dev/null 2>&1 && break
		sleep 0.1
	done
	fp_tgtadm --op show --mode sys >/dev/null 2>&1 || fail "tgtd does not answer tgtadm after 10 s"
	# a fixed identity (VPD 80h/83h), the same after every restart
	fp_tgtadm --lld iscsi --op new --mode target --tid 1 -T "$FP_TGT_IQN" ||
		fail "tgtadm: cannot create the target"
	fp_tgtadm --lld iscsi --op new --mode logicalunit --tid 1 --lun 1 -b "$TT_WORK/tgtd.img" ||
		fail "tgtadm: cannot create LUN 1"
	fp_tgtadm --lld iscsi --op update --mode logicalunit --tid 1 --lun 1 \
		--params scsi_id=tether-failover-tgt,scsi_sn=tfo0001 ||
		fail "tgtadm: cannot set the LUN's identity"
	fp_tgtadm --lld iscsi --op bind --mode target --tid 1 -I ALL || fail "tgtadm: cannot bind"
	for i in $(seq 50); do
		[ -n "$(ft_t ss -Htln "sport = :$FP_TGT_PORT")" ] && break
		sleep 0.1
	done
	echo "    tgtd running (pid $FP_TGT_PID): $FP_TGT_IQN LUN 1 on port $FP_TGT_PORT of both paths"
}

# fp_stop_tgtd: ends tgtd (it ignores SIGTERM while it has targets: SIGKILL; the data is in
# the file).
fp_stop_tgtd() {
	[ -n "$FP_TGT_PID" ] || return 0
	{
		kill -KILL "$FP_TGT_PID"
		wait "$FP_TGT_PID"
	} 2>/dev/null
	FP_TGT_PID=''
}

# --- target crash ------------------------------------------------------------------------

# fp_kill KIND: SIGKILL to the target (every connection of both paths ends with it).
fp_kill() {
	case $1 in
	tetherd)
		kill -KILL "${TT_PID[tetherd]}"
		wait "${TT_PID[tetherd]}" 2>/dev/null
		unset "TT_PID[tetherd]"
		;;
	tgtd) fp_stop_tgtd ;;
	esac
}

# fp_restart KIND: the same target, LUN and file again.
fp_restart() {
	case $1 in
	tetherd) ft_start tetherd "${FP_TETHERD_ARGS[@]}" ;;
	tgtd) fp_start_tgtd ;;
	esac
}

# fp_start KIND [ARG]: fp_start_tetherd or fp_start_tgtd.
fp_start() { "fp_start_$1" "${@:2}"; }

# fp_stop KIND: SIGTERM for tetherd (must exit 0, common.sh checks), SIGKILL for tgtd.
fp_stop() {
	case $1 in
	tetherd) tt_stop tetherd ;;
	tgtd) fp_stop_tgtd ;;
	esac
}

# --- network faults ----------------------------------------------------------------------

# fp_cut N: every packet in and out of path N's interface dropped in the target's namespace (no
# RST, no ICMP): both ends see silence. fp_uncut N takes it back.
fp_cut() {
	local dev
	dev=$(fp_dev "$1")
	ft_t nft -f - <<EOF || fail "nft: cannot install the drop rules of path $1"
table inet ttfcut$1 {
	chain input { type filter hook input priority -100; iifname "$dev" drop; }
	chain output { type filter hook output priority -100; oifname "$dev" drop; }
}
EOF
}
# fp_cut_out N: only what the target sends on path N is dropped (fp_uncut takes it back).
fp_cut_out() {
	local dev
	dev=$(fp_dev "$1")
	ft_t nft -f - <<EOF || fail "nft: cannot install the drop rule of path $1"
table inet ttfcut$1 {
	chain output { type filter hook output priority -100; oifname "$dev" drop; }
}
EOF
}
fp_uncut() { ft_t nft delete table inet "ttfcut$1" 2>/dev/null; }

# fp_link_down N / fp_link_up N: the target's side of path N down (the initiator's side loses
# its carrier too) / up again.
fp_link_down() { ft_t ip link set "$(fp_dev "$1")" down || fail "link down of path $1"; }
fp_link_up() { ft_t ip link set "$(fp_dev "$1")" up || fail "link up of path $1"; }

fp_all_down() { fp_link_down 1; fp_link_down 2; }
fp_all_up() { fp_link_up 1; fp_link_up 2; }

# --- checks ------------------------------------------------------------------------------

# fp_check_paths KIND: from the initiator's namespace, the LUN answers through each address: a
# login through exactly that portal (libiscsi's iscsi-inq on the path's URL) gets a standard
# INQUIRY answer, and discovery there (iscsi-ls) lists the target.
fp_check_paths() {
	tt_need iscsi-inq iscsi-ls
	local n url
	for n in 1 2; do
		url=$(fp_url "$1" "$n")
		OUT=$(ft_i timeout -k 2 20 iscsi-inq "$url" 2>&1) ||
			fail "$1: iscsi-inq over path $n ($url) failed: $OUT"
		printf '%s\n' "$OUT" | grep -q "Peripheral Device Type" ||
			fail "$1: no INQUIRY answer over path $n ($url): $OUT"
		OUT=$(ft_i timeout -k 2 20 iscsi-ls "${url%/*/*}" 2>&1) ||
			fail "$1: iscsi-ls over path $n failed: $OUT"
		printf '%s\n' "$OUT" | grep -q "$(url=${url%/*}; echo "${url##*/}")" ||
			fail "$1: discovery over path $n does not list the target: $OUT"
	done
	ok "$1: the LUN answers through both paths ($FT_TADDR, $FT_TADDR2)"
}

# --- the initiator: tether bench ---------------------------------------------------------
#
#     fp_bench run1 tetherd 12 [BENCH ARGS...]  # tether bench --verify --json in the background
#     fp_wait_live run1 20                      # both paths live and carrying I/O
#     fp_wait_back run1 1 10                    # path 1 carries I/O again (prints the ms it took)
#     fp_bench_end run1                         # waits; asserts exit 0, 0 errors, 0 verify errors
#
# The bench runs in the initiator's namespace on both paths of the target (fp_url KIND 1 and 2),
# --rw $FP_RW (randrw) --bs $FP_BS (4096) --qd $FP_QD (16), with the library options of the
# array FP_LIBOPTS (-o name=value each). Its JSON goes to $TT_WORK/NAME.json, its progress to
# $TT_WORK/NAME.err, its control socket is $TT_WORK/NAME.ctl.
declare -A FP_BPID=()
FP_LIBOPTS=()
FP_RW=${FP_RW:-randrw}
FP_BS=${FP_BS:-4096}
FP_QD=${FP_QD:-16}

fp_bench() {
	local name=$1 kind=$2 secs=$3 o args=()
	shift 3
	for o in "${FP_LIBOPTS[@]}"; do args+=(-o "$o"); done
	rm -f "$TT_WORK/$name.ctl"
	echo "    tether bench --rw $FP_RW --bs $FP_BS --qd $FP_QD --time $secs --verify --json" \
		"${args[*]} $* $(fp_url "$kind" 1) $(fp_url "$kind" 2)"
	ip netns exec "$FT_NSI" timeout -k 5 $((secs + 120)) "$TETHER" bench --rw "$FP_RW" \
		--bs "$FP_BS" --qd "$FP_QD" --time "$secs" --verify --json \
		--control "$TT_WORK/$name.ctl" "${args[@]}" "$@" \
		"$(fp_url "$kind" 1)" "$(fp_url "$kind" 2)" >"$TT_WORK/$name.json" 2>"$TT_WORK/$name.err" &
	FP_BPID[$name]=$!
	tt_bg "${FP_BPID[$name]}"
}

# fp_paths_out NAME: `tether paths` of the running bench NAME (JSON when the CLI has --json).
fp_paths_out() {
	local s=$TT_WORK/$1.ctl out
	if out=$(ft_i timeout -k 1 5 "$TETHER" paths --json "$s" 2>/dev/null) &&
		jq -e . >/dev/null 2>&1 <<<"$out"; then
		printf '%s\n' "$out"
		return 0
	fi
	ft_i timeout -k 1 5 "$TETHER" paths "$s" 2>/dev/null
}

# fp_path_stat NAME N: "STATE IOS" of path N of bench NAME, from `tether paths` ("? ?" when it
# cannot be read). JSON: the object whose url names the path's address; text: the line naming
# it, its state word and its "ios" figure.
fp_path_stat() {
	local addr out line state ios
	addr=$(fp_addr "$2")
	out=$(fp_paths_out "$1") || { echo "? ?"; return 1; }
	if jq -e . >/dev/null 2>&1 <<<"$out"; then
		jq -r --arg a "//$addr:" '[.. | objects | select(has("url") and has("state")) |
			select(.url | contains($a))][0] // {} | "\(.state // "?") \(.ios // "?")"' <<<"$out"
		return 0
	fi
	line=$(grep -F "//$addr:" <<<"$out" | head -n 1)
	state=$(grep -oE '\b(new|connecting|live|recovering|deleting|dead)\b' <<<"$line" | head -n 1)
	ios=$(grep -oE '\bios[=: ]+[0-9]+' <<<"$line" | grep -oE '[0-9]+$' | head -n 1)
	echo "${state:-?} ${ios:-?}"
}

# fp_bench_alive NAME: fails when bench NAME has ended before its time.
fp_bench_alive() {
	kill -0 "${FP_BPID[$1]}" 2>/dev/null && return 0
	wait "${FP_BPID[$1]}"
	fail "tether bench '$1' ended early (exit $?): $(tail -n 20 "$TT_WORK/$1.err")
$(cat "$TT_WORK/$1.json")"
}

# fp_wait_live NAME SECONDS: waits until both paths of bench NAME are live and have carried I/O.
fp_wait_live() {
	local deadline=$(($(ft_now_ms) + $2 * 1000)) s1 s2
	while :; do
		fp_bench_alive "$1"
		s1=$(fp_path_stat "$1" 1)
		s2=$(fp_path_stat "$1" 2)
		[[ $s1 == live\ [1-9]* && $s2 == live\ [1-9]* ]] && return 0
		[ "$(ft_now_ms)" -ge "$deadline" ] &&
			fail "bench '$1': both paths not live and in use after $2 s (path 1: $s1, path 2: $s2)
$(fp_paths_out "$1")"
		sleep 0.1
	done
}

# fp_wait_back NAME N SECONDS: waits until path N of bench NAME is live and its I/O count grows
# (it carries I/O again); prints the milliseconds it took; returns 1 after SECONDS.
fp_wait_back() {
	local t0 deadline st ios0=''
	t0=$(ft_now_ms)
	deadline=$((t0 + $3 * 1000))
	while :; do
		kill -0 "${FP_BPID[$1]}" 2>/dev/null || { echo "bench-ended"; return 1; }
		st=$(fp_path_stat "$1" "$2")
		if [[ $st == live\ [0-9]* ]]; then
			if [ -z "$ios0" ]; then
				ios0=${st#live }
			elif [ "${st#live }" -gt "$ios0" ]; then
				echo $(($(ft_now_ms) - t0))
				return 0
			fi
		fi
		[ "$(ft_now_ms)" -ge "$deadline" ] && { echo "timeout($st)"; return 1; }
		sleep 0.05
	done
}

# fp_wait_io NAME SECONDS: waits until the bench's total I/O count (both paths) grows; prints
# the ms it took (I/O resumed); returns 1 after SECONDS.
fp_wait_io() {
	local t0 deadline a b n0='' n
	t0=$(ft_now_ms)
	deadline=$((t0 + $2 * 1000))
	while :; do
		kill -0 "${FP_BPID[$1]}" 2>/dev/null || { echo "bench-ended"; return 1; }
		a=$(fp_path_stat "$1" 1)
		b=$(fp_path_stat "$1" 2)
		a=${a#* } b=${b#* }
		if [[ $a =~ ^[0-9]+$ && $b =~ ^[0-9]+$ ]]; then
			n=$((a + b))
			if [ -z "$n0" ]; then
				n0=$n
			elif [ "$n" -gt "$n0" ]; then
				echo $(($(ft_now_ms) - t0))
				return 0
			fi
		fi
		[ "$(ft_now_ms)" -ge "$deadline" ] && { echo timeout; return 1; }
		sleep 0.05
	done
}

# fp_bench_end NAME WHAT: waits for bench NAME; asserts exit status 0, a JSON result with ios > 0,
# errors 0 and verify_errors 0; prints its figures (FIGURE WHAT_...). Sets FP_JSON (the object).
fp_bench_end() {
	local name=$1 what=$2 rc k v
	wait "${FP_BPID[$name]}"
	rc=$?
	FP_JSON=$(sed -n '/^[[:space:]]*{/,$p' "$TT_WORK/$name.json")
	jq -e . >/dev/null 2>&1 <<<"$FP_JSON" ||
		fail "$what: tether bench (exit $rc) printed no JSON result:
$(tail -n 30 "$TT_WORK/$name.err")
$(cat "$TT_WORK/$name.json")"
	for k in ios iops mbps errors verify_errors max_stall_ms p50_us p99_us; do
		v=$(jq -r ".$k // \"-\"" <<<"$FP_JSON")
		ft_figure "${what}_$k" "$v"
	done
	jq -c '[.. | objects | select(has("url")) | {url, ios, errors, retried, failures}] |
		select(length > 0)' <<<"$FP_JSON" 2>/dev/null | sed 's/^/    per path: /'
	[ "$(jq -r '.errors' <<<"$FP_JSON")" = 0 ] ||
		fail "$what: $(jq -r '.errors' <<<"$FP_JSON") I/O errors reached the application
$(tail -n 30 "$TT_WORK/$name.err")"
	[ "$(jq -r '.verify_errors' <<<"$FP_JSON")" = 0 ] ||
		fail "$what: $(jq -r '.verify_errors' <<<"$FP_JSON") verify errors (data read back differs from what was written)
$(tail -n 30 "$TT_WORK/$name.err")"
	[ "$(jq -r '.ios' <<<"$FP_JSON")" -gt 0 ] 2>/dev/null || fail "$what: no I/O done: $FP_JSON"
	[ "$rc" = 0 ] || fail "$what: tether bench exited with status $rc:
$(tail -n 30 "$TT_WORK/$name.err")"
	ok "$what: $(jq -r '.ios' <<<"$FP_JSON") I/Os, 0 errors, 0 verify errors"
}

# --- writes held in the network ----------------------------------------------------------

# fp_hold N: packets the initiator sends on path N queue in a token bucket of 1 kbit/s on the
# initiator's side of the link (a stalled switch port that lets 1 kbit/s through): what is sent from now on
# stays in the network, even after the initiator closes or aborts its connection. fp_held N:
# the bytes held now. fp_release N: the queue is let go at once (the held packets reach the
# target late, in their order), then the token bucket is removed.
fp_idev() { [ "$1" = 1 ] && echo "$FT_IVETH" || echo "${FT_IVETH}2"; }
fp_hold() {
	ft_i tc qdisc add dev "$(fp_idev "$1")" root tbf rate 1kbit burst 1600 limit 100000000 ||
		fail "tc: cannot hold the packets of path $1 (tbf)"
}
fp_held() {
	ft_i tc -s qdisc show dev "$(fp_idev "$1")" |
		sed -nE 's/^ *backlog ([0-9]+)b.*/\1/p' | head -n 1
}
fp_release() {
	ft_i tc qdisc change dev "$(fp_idev "$1")" root tbf rate 10gbit burst 10000000 \
		limit 100000000 || fail "tc: cannot release the packets of path $1"
	local i
	for i in $(seq 100); do
		[ "$(fp_held "$1")" = 0 ] && break
		sleep 0.02
	done
	ft_i tc qdisc del dev "$(fp_idev "$1")" root 2>/dev/null
}
