# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# guest-iser-multipath.sh - guest side of iser_multipath.sh: tetherd in the guest with an
# iSCSI/TCP and an iSER portal on the guest's own address for one target and LUN; open-iscsi logs
# in over both (iface default: tcp, iface iser: ib_iser over soft-RoCE); dm-multipath makes one
# map with the two paths, both in use (multibus). Under fio with crc32c verification:
#   1. the TCP path is cut inside the guest (nft drop of 3260/tcp on tetherd's side), then restored;
#   2. an nft drop of RoCEv2 (udp 4791) is tried on the iSER path: rxe loops its own traffic back
#      without the IP stack, so this may not cut anything; what happened is printed, not asserted;
#   3. the iSER path is taken down with `echo offline > /sys/block/sdX/device/state`, then
#      `running` again.
# Each time: fio sees no error and no verify mismatch, and the path is active ready again after
# the restore.
#
# Variables: TT_VM_GUEST_BUILD (set by the host), TT_IMP_CUT_S [30], TT_IMP_PRE_S [3],
# TT_IMP_POST_S [5].

# shellcheck source=guest-lib.sh source-path=SCRIPTDIR
. /mnt/host/tests/vm/lib/guest-lib.sh

CUT_S=${TT_IMP_CUT_S:-30}
PRE_S=${TT_IMP_PRE_S:-3}
POST_S=${TT_IMP_POST_S:-5}
IQN=iqn.2026-11.org.tether:iser-mp
dmesg -n 1
IP=$(g_addr eth0)
[ -n "$IP" ] || g_die "eth0 has no address"

g_rxe_up eth0 rxe0
g_tetherd_start --target "$IQN" --portal "$IP:3260" --portal "iser://$IP:3260" \
	--lun ram:128M --loops 2
g_ok "tetherd with iscsi://$IP:3260 and iser://$IP:3260 for $IQN"

g_udev_start
modprobe -a dm_multipath dm_round_robin ib_iser || g_die "dm-multipath or ib_iser modules"
g_iscsi_start

node() { local i=$1; shift; timeout 90 iscsiadm -m node -T "$IQN" -p "$IP:3260" -I "$i" "$@"; }
timeout 60 iscsiadm -m discovery -t sendtargets -p "$IP:3260" -I default >/dev/null ||
	g_die "SendTargets over TCP failed"
# -o new: keep the records of iface default (a discovery replaces the portal's other records)
timeout 60 iscsiadm -m discovery -t sendtargets -p "$IP:3260" -I iser -o new >/dev/null ||
	g_die "SendTargets over iSER failed"
for i in default iser; do
	node "$i" -o update -n 'node.conn[0].timeo.noop_out_interval' -v 5 >/dev/null ||
		g_die "no node record for iface $i"
	node "$i" -o update -n 'node.conn[0].timeo.noop_out_timeout' -v 5 >/dev/null
done

# disk_of TRANSPORT: the sdX of this target's session over tcp or iser
disk_of() {
	local d
	for _ in $(seq 100); do
		d=$(iscsiadm -m session -P 3 2>/dev/null | awk -v t="$IQN" -v x="$1" '
			/^Target: / { tgt = $2 }
			/Iface Transport:/ { tr = $3 }
			/Attached scsi disk/ && tgt == t && tr == x { print $4; exit }')
		[ -n "$d" ] && [ -b "/dev/$d" ] && { echo "$d"; return 0; }
		sleep 0.2
	done
	return 1
}

node default --login >/dev/null || g_die "login over TCP"
node iser --login >/dev/null || { dmesg | tail -20; g_die "login over iSER"; }
DT=$(disk_of tcp) || g_die "no disk on the TCP session"
DI=$(disk_of iser) || g_die "no disk on the iSER session"
udevadm settle -t 30
[ "$(cat "/sys/block/$DT/device/wwid")" = "$(cat "/sys/block/$DI/device/wwid")" ] ||
	g_die "$DT (tcp) and $DI (iser) have different WWIDs"
g_ok "logged in over TCP (/dev/$DT) and iSER (/dev/$DI), same WWID"

cat >/etc/multipath.conf <<'MP'
defaults {
	user_friendly_names yes
	find_multipaths no
	path_grouping_policy multibus
	polling_interval 2
	no_path_retry queue
}
MP
multipathd || g_die "multipathd did not start"
nready() { multipath -ll "$MAP" 2>/dev/null | grep -c 'active ready'; }
MAP=
for i in $(seq 60); do
	MAP=$(dmsetup ls --target multipath 2>/dev/null | awk '$1 != "No" { print $1 }')
	[ -n "$MAP" ] && [ "$(nready)" = 2 ] && break
	[ "$i" = 20 ] && multipath >/dev/null 2>&1
	sleep 0.5
done
multipath -ll
[ "$(echo "$MAP" | wc -w)" = 1 ] || g_die "expected one multipath map, got '$MAP'"
[ "$(nready)" = 2 ] || g_die "map $MAP has not two active paths"
dmsetup mknodes "$MAP"
[ -b "/dev/mapper/$MAP" ] || g_die "no /dev/mapper/$MAP"
g_ok "map $MAP over $DT (tcp) and $DI (iser), both active"

# dm state of a path: "failed", "active"...
dmstate() { multipathd show paths format "%d %t %T" 2>/dev/null | awk -v d="$1" '$1 == d { print $2 "/" $3 }'; }

# phase NAME DISK CUT RESTORE: fio on the map; CUT after PRE_S, RESTORE CUT_S later; prints
# whether DISK was failed during the cut. Sets FAILED (1 when dm failed the path).
phase() {
	local name=$1 dev=$2 cut=$3 restore=$4 pid rc=0 t0
	g_log "=== $name"
	fio --name=mp --filename="/dev/mapper/$MAP" --direct=1 --ioengine=libaio --iodepth=4 \
		--rw=randwrite --bs=4k --size=64M --time_based --runtime=$((PRE_S + CUT_S + POST_S)) \
		--verify=crc32c --verify_backlog=256 --verify_fatal=1 >"/tmp/fio.$name" 2>&1 &
	pid=$!
	sleep "$PRE_S"
	t0=$(g_now)
	eval "$cut" || g_bad "$name: the cut command failed"
	FAILED=0
	while awk -v a="$t0" -v b="$(g_now)" -v c="$CUT_S" 'BEGIN { exit !(b - a < c) }'; do
		case $(dmstate "$dev") in
		failed/*)
			[ $FAILED = 1 ] || g_figure "${name}_path_failed_after_s" "$(g_since "$t0")"
			FAILED=1
			;;
		esac
		sleep 0.5
	done
	t0=$(g_now)
	eval "$restore" || g_bad "$name: the restore command failed"
	wait "$pid" || rc=$?
	if [ $rc = 0 ] && grep -q 'err= 0' "/tmp/fio.$name" && ! grep -qE 'err= *[1-9]|verify:|bad' "/tmp/fio.$name"; then
		g_ok "$name: fio saw no I/O error and no verify mismatch"
	else
		cat "/tmp/fio.$name"
		g_bad "$name: fio failed (status $rc)"
	fi
	for i in $(seq 120); do [ "$(nready)" = 2 ] && break; sleep 0.5; done
	if [ "$(nready)" = 2 ]; then
		g_ok "$name: both paths active ready again"
		g_figure "${name}_paths_back_after_restore_s" "$(g_since "$t0")"
	else
		multipath -ll "$MAP"
		g_bad "$name: $dev did not come back into $MAP"
	fi
}

# shellcheck disable=SC2317 # called through eval in phase
nft_cut() {
	nft -f - <<NFT
table inet tt_imp {
	chain in { type filter hook input priority -10; policy accept; $1 drop; }
	chain out { type filter hook output priority -10; policy accept; $2 drop; }
}
NFT
}
# shellcheck disable=SC2317
nft_restore() { nft delete table inet tt_imp; }

# 1. the TCP path: tetherd's side of 3260/tcp (the iSER path is RoCEv2 over UDP, untouched)
phase tcp_cut "$DT" 'nft_cut "tcp dport 3260" "tcp sport 3260"' nft_restore
if [ "$FAILED" = 1 ]; then g_ok "tcp_cut: dm-multipath failed the TCP path $DT during the cut"
else g_bad "tcp_cut: the TCP path $DT was never failed: the cut did not cut"; fi

# 2. the iSER path with nft (RoCEv2 is udp 4791): reported, not asserted
phase iser_nft "$DI" 'nft_cut "udp dport 4791" "udp sport 4791"' nft_restore
if [ "$FAILED" = 1 ]; then echo "note: an nft drop of udp 4791 cut the iSER path"
else echo "note: an nft drop of udp 4791 did not cut the iSER path (rxe loops back below netfilter)"; fi
g_figure iser_nft_cut_effective "$FAILED"

# 3. the iSER path taken offline at the SCSI device
phase iser_offline "$DI" "echo offline >/sys/block/$DI/device/state" "echo running >/sys/block/$DI/device/state"
if [ "$FAILED" = 1 ]; then g_ok "iser_offline: dm-multipath failed the iSER path $DI while offline"
else g_bad "iser_offline: the iSER path $DI was never failed"; fi

multipath -ll "$MAP"
multipathd shutdown >/dev/null 2>&1
for _ in $(seq 50); do pidof multipathd >/dev/null || break; sleep 0.1; done
multipath -F >/dev/null 2>&1 || g_bad "multipath -F"
node default --logout >/dev/null || g_bad "logout over TCP"
node iser --logout >/dev/null || g_bad "logout over iSER"
g_tetherd_finish
g_end
