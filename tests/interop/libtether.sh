#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# libtether.sh - the initiator library (libtether.so) against a real tetherd and a real tgtd,
# through tests/tools/libtether_driver.c (linked against the build's libtether.so: the sanitizer
# build's when TT_BUILD is build-san):
#   tetherd (one TPG with two portals, LUNs 0 and 1; a second target requiring mutual CHAP):
#     - 2 paths: 16 MiB of random data written and read back with async writev/readv at QD 16
#       and with the sync calls, flush, unmap, write zeroes, a pass-through INQUIRY
#     - CRC32C header and data digests; an idle path (our NOP-Outs off) answers the target's
#       NOP-Ins (the TPG pings every 0.5 s and would reap it after 1 s)
#     - a path to LUN 1 added to a device of LUN 0 is refused, naming the URL and both units
#     - CHAP + mutual CHAP log in; a wrong secret fails with "authentication failed"; a wrong
#       mutual secret makes the library refuse the target
#     - discovery lists the target with both portals
#     - while I/O runs with verification, one path's connection is killed (ss -K): no error
#       reaches the application, the path fails and comes back (its writes fenced by
#       reinstatement through the other portal)
#     - (with nft) one path cut silently under I/O: found by the NOP-Out timeout, no error;
#       both paths cut: I/O fails with EIO after no_path_timeout_ms with one log line, the
#       device stays open, and once the cut is lifted the paths rejoin and I/O works
#     - ALUA: two TPGs (active/optimized, active/non-optimized); I/O with verification while
#       tetherctl swaps the states (standby / active/optimized): no error, the unit attention
#       makes the library re-read the states (REPORT TARGET PORT GROUPS) and move the I/O
#   tgtd: the same I/O over 2 paths (unmap may be unsupported), discovery, and the same kill (tgtd: a
#     single portal, so the writes are fenced with LOGICAL UNIT RESET)
#
# Exit: 0 pass, 77 skip (reason printed), 1 fail.
# Environment: TT_BUILD, TT_TOP (see tests/lib/common.sh).

# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"

tt_setup libtether
tt_need tgtd tgtadm ss
DRIVER=$TT_BUILD/tests/libtether_driver
[ -x "$DRIVER" ] || skip "the driver is not built ($DRIVER)"

INI=iqn.2026-11.org.tether:libtether-test
CHAP_IQN=iqn.2026-11.org.tether:chap-disk
U=libtether-host S=secret-of-the-host MU=chap-disk MS=secret-of-the-disk
tt_free_port P1
tt_free_port P2
tt_free_port P3
cat >"$TT_WORK/tetherd.json" <<JSON
{
  "targets": [
    {
      "name": "$TT_IQN",
      "tpgs": [{ "tag": 1, "portals": ["127.0.0.1:$P1", "127.0.0.1:$P2"],
                 "nop_interval": 0.5, "nop_timeout": 1 }],
      "luns": [{ "id": 0, "backend": "ram:64M" }, { "id": 1, "backend": "ram:64M" }]
    },
    {
      "name": "$CHAP_IQN",
      "tpgs": [{ "tag": 1, "portals": ["127.0.0.1:$P3"], "auth": "chap" }],
      "luns": [{ "id": 0, "backend": "ram:16M" }],
      "acls": [{ "initiator": "$INI", "chap": { "user": "$U", "secret": "$S",
                 "mutual_user": "$MU", "mutual_secret": "$MS" } }]
    }
  ]
}
JSON
chmod 600 "$TT_WORK/tetherd.json"
TT_WAIT_PORTS="$P1 $P2 $P3" tt_start main --config "$TT_WORK/tetherd.json" --state-dir none

FAILS=()
bad() {
	echo "    FAILED: $*"
	FAILS+=("$*")
}
# drv ARGS...: runs the driver (60 s bound) with our initiator name; output in $OUT
drv() {
	OUT=$(timeout 120 "$DRIVER" -o initiator_name=$INI "$@" 2>&1)
}
U0="iscsi://127.0.0.1:$P1/$TT_IQN/0"
U0b="iscsi://127.0.0.1:$P2/$TT_IQN/0"
U1b="iscsi://127.0.0.1:$P2/$TT_IQN/1"

step "tetherd: I/O over 2 paths"
if drv io "$U0" "$U0b"; then
	printf '%s\n' "$OUT" | grep -E '^(ok|opened|path)' | sed 's/^/    /'
	[ "$(printf '%s\n' "$OUT" | grep -c '^path .* state=live')" = 2 ] ||
		bad "tetherd io: not both paths live: $OUT"
	printf '%s\n' "$OUT" | grep -q '^ok: unmap: done' || bad "tetherd io: unmap did not run"
else
	bad "tetherd io: $OUT"
fi

step "tetherd: CRC32C header and data digests"
if drv -o header_digest=crc32c -o data_digest=crc32c io "$U0"; then
	printf '%s\n' "$OUT" | grep -E '^ok: (async|sync)' | sed 's/^/    /'
else
	bad "digests: $OUT"
fi

step "tetherd: an idle path answers the target's NOP-Ins (ours off)"
# the TPG pings every 0.5 s and reaps after 1 s without an answer
if drv -i 3 -o nop_interval_ms=0 open "$U0"; then
	printf '%s\n' "$OUT" | grep -q "^path 0: .*state=live.*failures=0" ||
		bad "idle path: not live after 3 s of target NOP-Ins: $OUT"
	grep -q "no answer to NOP-In" "${TT_LOG[main]}" && bad "idle path: tetherd reaped a connection"
	ok "$(printf '%s\n' "$OUT" | grep '^path 0')"
else
	bad "idle path: $OUT"
fi

step "tetherd: a path to another LUN is refused by name"
if drv open "$U0" "$U1b"; then
	printf '%s\n' "$OUT" | grep -q "$U1b.*leads to logical unit naa\..*, not to naa\..* path refused" ||
		bad "no refusal naming $U1b and both units: $OUT"
	printf '%s\n' "$OUT" | grep -q "^path 1: $U1b state=dead" || bad "the other LUN's path is not dead: $OUT"
	ok "$(printf '%s\n' "$OUT" | grep -m1 'path refused' | sed 's/^\[libtether [0-9]\] //')"
else
	bad "open with a stray path: $OUT"
fi

step "tetherd: CHAP + mutual CHAP"
CU="iscsi://$U%$S@127.0.0.1:$P3/$CHAP_IQN/0"
if drv -o mutual_user=$MU -o mutual_secret=$MS open "$CU"; then
	ok "$(printf '%s\n' "$OUT" | grep '^opened')"
else
	bad "mutual CHAP login: $OUT"
fi
drv -o mutual_user=$MU -o mutual_secret=$MS open "iscsi://$U%wrong-secret-here@127.0.0.1:$P3/$CHAP_IQN/0"
if printf '%s\n' "$OUT" | grep -q "^open failed: .*authentication failed"; then
	ok "$(printf '%s\n' "$OUT" | grep '^open failed')"
else
	bad "a wrong secret: no clear error: $OUT"
fi
drv -o mutual_user=$MU -o mutual_secret=not-the-disk-secret open "$CU"
if printf '%s\n' "$OUT" | grep -q "^open failed: .*mutual CHAP"; then
	ok "$(printf '%s\n' "$OUT" | grep '^open failed')"
else
	bad "a wrong mutual secret: no clear error: $OUT"
fi

step "tetherd: discovery"
if drv discover "iscsi://127.0.0.1:$P1"; then
	printf '%s\n' "$OUT" | grep -q "^$TT_IQN 127.0.0.1:$P1,1" || bad "discovery: no $TT_IQN at $P1: $OUT"
	printf '%s\n' "$OUT" | grep -q "^$TT_IQN 127.0.0.1:$P2,1" || bad "discovery: no $TT_IQN at $P2: $OUT"
	ok "$(printf '%s\n' "$OUT" | tr '\n' ' ')"
else
	bad "discovery: $OUT"
fi

# kill_cmd PORT: the command that kills the first established connection to PORT
kill_cmd() {
	echo "sp=\$(ss -Htn state established dst 127.0.0.1 dport = :$1 | awk 'NR==1{n=split(\$3,a,\":\"); print a[n]}'); ss -K dst 127.0.0.1 dport = :$1 sport = :\$sp >/dev/null 2>&1"
}
step "tetherd: one path killed while I/O runs"
if drv failover "$(kill_cmd "$P2")" "$U0" "$U0b"; then
	printf '%s\n' "$OUT" | grep -E '^(ok|path)|fenced' | sed 's/^/    /'
	printf '%s\n' "$OUT" | grep -q "^path 1: .*failures=1" || bad "tetherd failover: the killed path did not fail: $OUT"
	printf '%s\n' "$OUT" | grep -q "^path 1: .*state=live" || bad "tetherd failover: the path did not come back: $OUT"
else
	bad "tetherd failover: $OUT"
fi

step "tetherd: one path cut silently (nft drop, no RST) while I/O runs"
NFT_TABLE=tt_libtether_$$
if command -v nft >/dev/null && nft add table inet $NFT_TABLE 2>/dev/null; then
	tt_at_exit "nft delete table inet $NFT_TABLE 2>/dev/null"
	nft delete table inet $NFT_TABLE
	# drop both directions of P2's traffic for 2 s (loopback: the output hook sees both)
	CUT="nft add table inet $NFT_TABLE && nft add chain inet $NFT_TABLE out '{ type filter hook output priority 0; }' && nft add rule inet $NFT_TABLE out tcp dport $P2 drop && nft add rule inet $NFT_TABLE out tcp sport $P2 drop && (sleep 2; nft delete table inet $NFT_TABLE) &"
	if drv failover "$CUT" "$U0" "$U0b"; then
		printf '%s\n' "$OUT" | grep -E '^(ok|path)|fenced|recovering' | sed 's/^/    /'
		printf '%s\n' "$OUT" | grep -q "recovering (no NOP-In within nop_timeout_ms" ||
			bad "silent cut: not detected by the NOP-Out timeout: $OUT"
		printf '%s\n' "$OUT" | grep -q "^path 1: .*state=live.*failures=1" ||
			bad "silent cut: the path did not fail once and come back: $OUT"
	else
		bad "silent cut: $OUT"
	fi

	step "tetherd: no path at all: EIO after no_path_timeout_ms, the device stays and recovers"
	DOWN="nft add table inet $NFT_TABLE && nft add chain inet $NFT_TABLE out '{ type filter hook output priority 0; }' && nft add rule inet $NFT_TABLE out tcp dport { $P1, $P2 } drop && nft add rule inet $NFT_TABLE out tcp sport { $P1, $P2 } drop"
	if drv -o no_path_timeout_ms=1500 nopath "$DOWN" "nft delete table inet $NFT_TABLE" "$U0" "$U0b"; then
		printf '%s\n' "$OUT" | grep -E '^ok|no live path' | sed 's/^/    /'
		[ "$(printf '%s\n' "$OUT" | grep -c 'no live path for 1500 ms')" = 1 ] ||
			bad "no path: not exactly one log line for the timeout: $OUT"
	else
		bad "no path: $OUT"
	fi
else
	echo "    (no nft, or no permission: the silent cut and the no-path case are not tried)"
fi

step "tetherd: ALUA: I/O on the optimized path; states switched under I/O"
CTL=$TT_BUILD/src/cmd/tetherctl
tt_free_port P4
tt_free_port P5
AIQN=iqn.2026-11.org.tether:alua-disk
SOCK=$TT_WORK/alua.sock
cat >"$TT_WORK/alua.json" <<JSON
{
  "targets": [{
    "name": "$AIQN",
    "tpgs": [{ "tag": 1, "portals": ["127.0.0.1:$P4"] },
             { "tag": 2, "portals": ["127.0.0.1:$P5"], "alua_state": "active-non-optimized" }],
    "luns": [{ "id": 0, "backend": "ram:64M" }]
  }]
}
JSON
TT_WAIT_PORTS="$P4 $P5" tt_start alua --config "$TT_WORK/alua.json" --rpc-socket "$SOCK" --state-dir none
A1="iscsi://127.0.0.1:$P4/$AIQN/0" A2="iscsi://127.0.0.1:$P5/$AIQN/0"
SWITCH="$CTL -s $SOCK alua set $AIQN 1 standby >/dev/null && $CTL -s $SOCK alua set $AIQN 2 active-optimized >/dev/null"
if drv -v -o selector=round-robin failover "$SWITCH" "$A1" "$A2"; then
	printf '%s\n' "$OUT" | grep -E '^(ok|path)|ALUA' | sed 's/^/    /'
	printf '%s\n' "$OUT" | grep -q "^path 0: .*alua=standby" || bad "ALUA: path 0 not standby at the end: $OUT"
	printf '%s\n' "$OUT" | grep -q "^path 1: .*alua=active/optimized" ||
		bad "ALUA: path 1 not active/optimized at the end: $OUT"
	printf '%s\n' "$OUT" | grep -q "ALUA active/non-optimized -> active/optimized" ||
		bad "ALUA: the change was not read back (REPORT TARGET PORT GROUPS after the unit attention): $OUT"
else
	bad "ALUA: $OUT"
fi
tt_stop alua

step "tgtd: I/O over 2 paths"
tt_free_port GP
GIQN=iqn.2026-11.org.tether:libtether-tgt
truncate -s 64M "$TT_WORK/tgt.img"
tgtd -f --iscsi portal=127.0.0.1:$GP --control-port "$GP" >"$TT_WORK/tgtd.log" 2>&1 &
TGTD=$!
# tgtd ignores SIGTERM while it has targets: remove them first, and insist
tt_at_exit "tgtadm -C $GP --lld iscsi --op delete --mode target --tid 1 --force >/dev/null 2>&1; kill $TGTD 2>/dev/null; sleep 0.5; kill -9 $TGTD 2>/dev/null; wait $TGTD 2>/dev/null"
for _ in $(seq 50); do tt_listening "$GP" && break; sleep 0.1; done
tgtadm -C "$GP" --lld iscsi --op new --mode target --tid 1 -T $GIQN &&
	tgtadm -C "$GP" --lld iscsi --op new --mode logicalunit --tid 1 --lun 1 -b "$TT_WORK/tgt.img" &&
	tgtadm -C "$GP" --lld iscsi --op bind --mode target --tid 1 -I ALL || fail "tgtd setup failed"
G1="iscsi://127.0.0.1:$GP/$GIQN/1"
if drv io "$G1" "$G1"; then
	printf '%s\n' "$OUT" | grep -E '^(ok|opened|path)' | sed 's/^/    /'
	[ "$(printf '%s\n' "$OUT" | grep -c '^path .* state=live')" = 2 ] || bad "tgtd io: not both paths live: $OUT"
else
	bad "tgtd io: $OUT"
fi

step "tgtd: discovery"
if drv discover "iscsi://127.0.0.1:$GP"; then
	printf '%s\n' "$OUT" | grep -q "^$GIQN 127.0.0.1:$GP,1" || bad "tgtd discovery: no $GIQN: $OUT"
	ok "$(printf '%s\n' "$OUT" | tr '\n' ' ')"
else
	bad "tgtd discovery: $OUT"
fi

step "tgtd: one path killed while I/O runs"
if drv failover "$(kill_cmd "$GP")" "$G1" "$G1"; then
	printf '%s\n' "$OUT" | grep -E '^(ok|path)|fenced' | sed 's/^/    /'
	printf '%s\n' "$OUT" | grep -q "failures=1" || bad "tgtd failover: no path failed: $OUT"
else
	bad "tgtd failover: $OUT"
fi

tt_stop main
if [ ${#FAILS[@]} -gt 0 ]; then
	printf 'FAIL: %s\n' "${FAILS[@]}"
	exit 1
fi
echo "PASS"
