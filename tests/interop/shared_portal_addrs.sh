#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# shared_portal_addrs.sh - what SendTargets advertises, and portal addresses with a scheme:
#   1. TargetAddress order is the configuration order: a target whose TPG 1 gets 127.0.0.1:QH,
#      [::1]:Q6 (when lo has ::1), 127.0.0.1:QL (QH > QL, so neither a sort by address nor by
#      port gives this order) and whose TPG 2 gets 127.0.0.1:R: SendTargets (through
#      127.0.0.1:P, 127.0.0.1:QL, [::1]:Q6) lists 127.0.0.1:QH,1 [::1]:Q6,1 127.0.0.1:QL,1
#      127.0.0.1:R,2 in this order, and the default target with 127.0.0.1:P,1.
#   2. a portal that cannot listen is not advertised: the default target's TPG 1 gets
#      192.0.2.1:P, the other target's TPG 1 192.0.2.1:QH (TEST-NET-1, never on a host: only
#      listen() is tried, nothing is sent); `tetherctl portal list` shows them "binding" (still
#      1 s later) and SendTargets lists the same as before; a portal 127.0.0.1:Q2X added after
#      the binding one comes after 127.0.0.1:QL.
#   3. a binding portal shared by two targets: a second target with TPG 1 on 127.0.0.1:P and
#      192.0.2.1:P: both TPGs show 192.0.2.1:P binding, both targets are listed with
#      127.0.0.1:P only.
#   4. schemes: `--portal iscsi://127.0.0.1:S` serves (iscsi-inq; TargetAddress without the
#      scheme); `tetherctl portal add ... iscsi://ADDR` listens; "foo://" (unknown) and
#      "iser://", "srp://" and "nvme-rdma://" (in a build without rdma-core) are
#      refused by tetherd's command line (with rdma-core, --portal nvme-rdma://127.0.0.1 runs, its
#      port binding)
#      (exit 1 or 2, the message names the scheme, nothing listens) and by tetherctl (exit 1,
#      the message names the scheme; in a build with rdma-core, "iser://127.0.0.1" and
#      "srp://127.0.0.1" are accepted and stay binding: no RDMA device serves them), "nvme-tcp://" by tetherctl as a portal of a target
#      portal group (tetherd --portal serves it: tests/interop/nvme_tcp.sh); a configuration file with two
#      targets on one portal, one written "iscsi://127.0.0.1:J", the other "127.0.0.1:J":
#      both served; with "foo://127.0.0.1:J" the file is refused naming the scheme.
# tetherd must exit 0 with no sanitizer report. Every check runs; the failures are listed at
# the end.
#
# Exit: 0 pass, 77 skip (reason printed), 1 fail.
# Environment: TT_BUILD, TT_TOP (see tests/lib/common.sh).

# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"

tt_setup shared-portal-addrs
tt_need iscsi-inq "$TT_PYTHON" ip
CTL=$TT_BUILD/src/cmd/tetherctl
[ -x "$CTL" ] || skip "tetherctl is not built ($CTL)"
SOCK=$TT_WORK/tetherd.sock
NOWHERE=192.0.2.1
if ip -4 addr show 2>/dev/null | grep -q "inet $NOWHERE/"; then
	skip "$NOWHERE (TEST-NET-1) is configured on this host: a portal on it would listen"
fi
V6=0
if ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/128'; then
	V6=1
else
	echo "    (::1 is not configured on lo: the IPv6 portal is left out)"
fi

T0=$TT_IQN
TF=iqn.2026-11.org.tether:ordered
TG=iqn.2026-11.org.tether:shared-g
TJ=iqn.2026-11.org.tether:file-j

tt_free_port P
tt_free_port Q1
tt_free_port Q2
tt_free_port Q6
tt_free_port R
tt_free_port Q2X
tt_free_port S
tt_free_port S2
tt_free_port S3
tt_free_port J
QH=$((Q1 > Q2 ? Q1 : Q2)) QL=$((Q1 > Q2 ? Q2 : Q1))

FAILS=()
bad() {
	echo "    FAILED: $*"
	FAILS+=("$*")
}

ctl() { tt_capture 30 "$CTL" -s "$SOCK" "$@"; }
ctl_ok() {
	ctl "$@" && return 0
	bad "tetherctl $*: expected success, got exit $?: $OUT"
	return 1
}

# portal_state TARGET TAG ADDR: the state of that portal in `tetherctl portal list` ("" if none)
portal_state() {
	ctl --json portal list "$1" || { echo "tetherctl portal list: $OUT"; return; }
	printf '%s' "$OUT" | "$TT_PYTHON" -c '
import json, sys
j = json.load(sys.stdin)
print(next((p["state"] for p in j if p["tag"] == int(sys.argv[1])
            and p["addr"].split("://")[-1] == sys.argv[2]), ""))' "$2" "$3"
}

# expect_state TARGET TAG ADDR STATE: the portal reaches STATE within 5 s (and, for binding,
# is still binding 1 s later)
# iser:// and srp:// are served by a build with the RDMA layer (tetherd linked with librdmacm,
# docs/iser.md, docs/srp.md), refused by name by a build without it
REFUSED_ISER="iser srp"
REFUSED_NVRDMA=nvme-rdma  # by tetherd --portal: only without rdma-core
if ldd "$TETHERD" 2>/dev/null | grep -q librdmacm; then REFUSED_ISER=; REFUSED_NVRDMA=; fi

expect_state() {
	local st
	for _ in $(seq 50); do
		st=$(portal_state "$1" "$2" "$3")
		[ "$st" = "$4" ] && break
		sleep 0.1
	done
	if [ "$st" = "$4" ] && [ "$4" = binding ]; then
		sleep 1
		st=$(portal_state "$1" "$2" "$3")
	fi
	if [ "$st" = "$4" ]; then
		ok "portal list: $1 TPG $2 $3 $4"
	else
		bad "portal list: $1 TPG $2 $3: expected state $4, got \"$st\""
	fi
}

# addr HOST PORT: HOST:PORT, IPv6 in brackets
addr() { case $1 in *:*) echo "[$1]:$2" ;; *) echo "$1:$2" ;; esac; }

# st PORT EXPECT [HOST]: SendTargets through HOST:PORT (tests/tools/shared_portal.py)
st() {
	local out
	if out=$(tt_pdu shared_portal.py --host "${3:-127.0.0.1}" --port "$1" --opt "expect=$2" \
		sendtargets 2>&1); then
		printf '%s\n' "$out" | grep -v '^ok '
	else
		bad "SendTargets through $(addr "${3:-127.0.0.1}" "$1"): $out"
	fi
}

# refused_cli SCHEME: tetherd --portal SCHEME://127.0.0.1:S3 exits 1 or 2 naming SCHEME
refused_cli() {
	local rc
	tt_capture 20 "$TETHERD" --portal "$1://127.0.0.1:$S3" --lun ram:1M --rpc-socket none \
		--state-dir none
	rc=$?
	if [ $rc != 1 ] && [ $rc != 2 ]; then
		bad "tetherd --portal $1://127.0.0.1:$S3: expected exit 1 or 2, got $rc: $OUT"
	elif ! printf '%s\n' "$OUT" | grep -qF -- "$1"; then
		bad "tetherd --portal $1://127.0.0.1:$S3: exit $rc, but the message does not name \"$1\": $OUT"
	else
		ok "tetherd --portal $1://127.0.0.1:$S3 refused (exit $rc): $(printf '%s\n' "$OUT" | head -n 1)"
	fi
}

# refused_ctl SCHEME: tetherctl portal add ... SCHEME://127.0.0.1:S3 exits 1 naming SCHEME
refused_ctl() {
	local rc
	ctl portal add "$T0" 1 "$1://127.0.0.1:$S3"
	rc=$?
	if [ $rc != 1 ]; then
		bad "tetherctl portal add $T0 1 $1://127.0.0.1:$S3: expected exit 1, got $rc: $OUT"
	elif ! printf '%s\n' "$OUT" | grep -qF -- "$1"; then
		bad "tetherctl portal add ... $1://127.0.0.1:$S3: the message does not name \"$1\": $OUT"
	else
		ok "tetherctl portal add ... $1://127.0.0.1:$S3 refused: $OUT"
	fi
}

# start_soft NAME PORT TETHERD-ARGS...: like tt_start, but a tetherd that exits or does not
# listen on PORT within 10 s is a failed check (listed at the end), not the end of the script
start_soft() {
	local name=$1 port=$2 log=$TT_WORK/tetherd-$1.log
	shift 2
	"$TETHERD" "$@" --rpc-socket none --state-dir none >>"$log" 2>&1 &
	TT_PID[$name]=$!
	TT_LOG[$name]=$log
	for _ in $(seq 100); do
		tt_listening "$port" && { ok "tetherd $* listens on 127.0.0.1:$port"; return 0; }
		kill -0 "${TT_PID[$name]}" 2>/dev/null || break
		sleep 0.1
	done
	if tt_running "$name" >/dev/null; then
		tt_stop_check "$name" 5 >/dev/null
	fi
	bad "tetherd $*: expected to serve 127.0.0.1:$port, but: $(tail -n 3 "$log")"
	return 1
}

tt_start main --portal "127.0.0.1:$P" --lun ram:16M --rpc-socket "$SOCK" --state-dir none

step "1. TargetAddress values in configuration order"
ctl_ok target create "$TF"
ctl_ok lun add "$TF" 0 ram:4M
ctl_ok tpg create "$TF" 1 --portal "127.0.0.1:$QH"
want="127.0.0.1:$QH,1"
if [ $V6 = 1 ]; then
	ctl_ok portal add "$TF" 1 "[::1]:$Q6"
	want+="|[::1]:$Q6,1"
fi
ctl_ok portal add "$TF" 1 "127.0.0.1:$QL"
ctl_ok tpg create "$TF" 2 --portal "127.0.0.1:$R"
want+="|127.0.0.1:$QL,1|127.0.0.1:$R,2"
expect_state "$TF" 1 "127.0.0.1:$QH" listening
expect_state "$TF" 1 "127.0.0.1:$QL" listening
[ $V6 = 1 ] && expect_state "$TF" 1 "[::1]:$Q6" listening
expect_state "$TF" 2 "127.0.0.1:$R" listening
st "$P" "$T0=127.0.0.1:$P,1;$TF=$want"
st "$QL" "$T0=127.0.0.1:$P,1;$TF=$want"
[ $V6 = 1 ] && st "$Q6" "$T0=127.0.0.1:$P,1;$TF=$want" ::1

step "2. portals on $NOWHERE (not on this host) are not advertised"
ctl_ok portal add "$T0" 1 "$NOWHERE:$P"
expect_state "$T0" 1 "$NOWHERE:$P" binding
expect_state "$T0" 1 "127.0.0.1:$P" listening
ctl_ok portal add "$TF" 1 "$NOWHERE:$QH"
expect_state "$TF" 1 "$NOWHERE:$QH" binding
st "$P" "$T0=127.0.0.1:$P,1;$TF=$want"
ctl_ok portal add "$TF" 1 "127.0.0.1:$Q2X"
want=${want/|127.0.0.1:$R,2/|127.0.0.1:$Q2X,1|127.0.0.1:$R,2}
expect_state "$TF" 1 "127.0.0.1:$Q2X" listening
st "$P" "$T0=127.0.0.1:$P,1;$TF=$want"

step "3. $NOWHERE:$P binding in two targets' TPGs; 127.0.0.1:$P shared"
ctl_ok target create "$TG"
ctl_ok lun add "$TG" 0 ram:4M
ctl_ok tpg create "$TG" 1 --portal "127.0.0.1:$P" --portal "$NOWHERE:$P"
expect_state "$TG" 1 "127.0.0.1:$P" listening
expect_state "$TG" 1 "$NOWHERE:$P" binding
expect_state "$T0" 1 "$NOWHERE:$P" binding
st "$P" "$T0=127.0.0.1:$P,1;$TF=$want;$TG=127.0.0.1:$P,1"
ctl_ok portal remove "$T0" 1 "$NOWHERE:$P"
expect_state "$TG" 1 "$NOWHERE:$P" binding
st "$P" "$T0=127.0.0.1:$P,1;$TF=$want;$TG=127.0.0.1:$P,1"
ctl_ok target delete "$TG"
ctl_ok target delete "$TF"
st "$P" "$T0=127.0.0.1:$P,1"

step "4. schemes: tetherctl"
if ctl_ok portal add "$T0" 1 "iscsi://127.0.0.1:$S2"; then
	expect_state "$T0" 1 "127.0.0.1:$S2" listening
	st "$P" "$T0=127.0.0.1:$P,1|127.0.0.1:$S2,1"
fi
for scheme in foo $REFUSED_ISER nvme-tcp nvme-rdma; do
	refused_ctl $scheme
done
if [ -z "$REFUSED_ISER" ]; then
	# served, but no RDMA device serves 127.0.0.1 here: the portal waits for one
	if ctl_ok portal add "$T0" 1 "iser://127.0.0.1:$S3"; then
		expect_state "$T0" 1 "127.0.0.1:$S3" binding
		st "$P" "$T0=127.0.0.1:$P,1|127.0.0.1:$S2,1"
		ctl_ok portal remove "$T0" 1 "iser://127.0.0.1:$S3"
	fi
	if ctl_ok portal add "$T0" 1 "srp://127.0.0.1:$S3"; then
		expect_state "$T0" 1 "127.0.0.1:$S3" binding
		ctl_ok portal remove "$T0" 1 "srp://127.0.0.1:$S3"
	fi
fi
tt_listening "$S3" && bad "127.0.0.1:$S3 listens after the refused portal_add requests (expected nothing)"
tt_alive main "the refused requests"
tt_stop main

step "4. schemes: tetherd --portal"
if start_soft schemed "$S" --portal "iscsi://127.0.0.1:$S" --lun ram:16M; then
	if tt_capture 30 iscsi-inq "iscsi://127.0.0.1:$S/$T0/0" &&
		printf '%s\n' "$OUT" | grep -q "Vendor:TETHER"; then
		ok "--portal iscsi://127.0.0.1:$S: iscsi-inq answered"
	else
		bad "--portal iscsi://127.0.0.1:$S: iscsi-inq expected a standard INQUIRY answer, got: $OUT"
	fi
	st "$S" "$T0=127.0.0.1:$S,1"
	tt_stop schemed
fi
# (nvme-tcp:// is served by tetherd --portal: tests/interop/nvme_tcp.sh; nvme-rdma:// too in a
# build with rdma-core: tests/vm/nvme_rdma.sh)
for scheme in foo $REFUSED_ISER $REFUSED_NVRDMA; do
	refused_cli $scheme
done
if [ -z "$REFUSED_NVRDMA" ]; then
	# served, but no RDMA device serves 127.0.0.1 here: tetherd runs, its port waits for one
	"$TETHERD" --portal "nvme-rdma://127.0.0.1:$S3" --lun ram:1M --rpc-socket none \
		--state-dir none >"$TT_WORK/tetherd-nvrdma.log" 2>&1 &
	nvr_pid=$!
	sleep 2
	if kill -0 "$nvr_pid" 2>/dev/null; then
		ok "tetherd --portal nvme-rdma://127.0.0.1:$S3 runs (its port binding: no RDMA device here)"
		kill -TERM "$nvr_pid"
		if wait "$nvr_pid"; then ok "it exits 0 on SIGTERM"
		else bad "tetherd --portal nvme-rdma:// exit status $? on SIGTERM"; fi
	else
		wait "$nvr_pid"
		bad "tetherd --portal nvme-rdma://127.0.0.1:$S3 exited ($?): $(head -3 "$TT_WORK/tetherd-nvrdma.log")"
	fi
fi
tt_listening "$S3" && bad "127.0.0.1:$S3 listens after the refused starts (expected nothing)"

step "4. schemes: a configuration file, two targets on 127.0.0.1:$J"
cat >"$TT_WORK/tetherd.json" <<EOF
{
  "targets": [
    { "name": "$T0",
      "tpgs": [{ "tag": 1, "portals": ["iscsi://127.0.0.1:$J"] }],
      "luns": [{ "id": 0, "backend": "ram:16M" }] },
    { "name": "$TJ",
      "tpgs": [{ "tag": 1, "portals": ["127.0.0.1:$J"] }],
      "luns": [{ "id": 0, "backend": "ram:8M" }] }
  ]
}
EOF
if start_soft file "$J" --config "$TT_WORK/tetherd.json"; then
	for t in "$T0:32767" "$TJ:16383"; do
		if tt_capture 30 iscsi-readcapacity16 "iscsi://127.0.0.1:$J/${t%:*}/0" &&
			printf '%s\n' "$OUT" | grep -qxF "RETURNED LOGICAL BLOCK ADDRESS:${t##*:}"; then
			ok "${t%:*} through 127.0.0.1:$J: last LBA ${t##*:}"
		else
			bad "iscsi-readcapacity16 ${t%:*} through 127.0.0.1:$J: expected last LBA ${t##*:}, got: $OUT"
		fi
	done
	st "$J" "$T0=127.0.0.1:$J,1;$TJ=127.0.0.1:$J,1"
	tt_stop file
fi
sed -i "s|iscsi://127.0.0.1:$J|foo://127.0.0.1:$J|" "$TT_WORK/tetherd.json"
tt_capture 20 "$TETHERD" --config "$TT_WORK/tetherd.json" --rpc-socket none --state-dir none
rc=$?
if [ $rc = 1 ] && printf '%s\n' "$OUT" | grep -qF "foo"; then
	ok "a file with foo://127.0.0.1:$J refused (exit 1): $(printf '%s\n' "$OUT" | head -n 1)"
else
	bad "tetherd --config with foo://127.0.0.1:$J: expected exit 1 and a message naming \"foo\", got exit $rc: $OUT"
fi

if [ ${#FAILS[@]} != 0 ]; then
	echo "FAIL: ${#FAILS[@]} check(s) failed:"
	printf '    %s\n' "${FAILS[@]}"
	exit 1
fi
echo "PASS"
