# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# guest-rdma-rebind.sh - guest side of rdma_rebind.sh: tetherd on soft-RoCE with an iSCSI/TCP,
# an iSER and an SRP portal on the guest's own address, an idle iSER session of the guest's
# initiator. `rdma link delete rxe0` must return promptly (tetherd lets go of every verbs object
# of the device), tetherd keeps running and its TCP portal answers; `rdma link add` brings the
# iSER and SRP listeners back by themselves, the initiator's session recovers (or logs in anew)
# and the data written before reads back; then the address leaves eth0 and comes back, and the
# listeners bind again; then the device goes once more while fio writes (paced to span the
# removal), comes back, and fio's writes complete and verify.
#
# Variables: TT_VM_GUEST_BUILD (set by the host).

# shellcheck source=guest-lib.sh source-path=SCRIPTDIR
. /mnt/host/tests/vm/lib/guest-lib.sh

IQN=iqn.2026-11.org.tether:rebind0
dmesg -n 1
IP=$(g_addr eth0)
[ -n "$IP" ] || g_die "eth0 has no address"
CIDR=$(ip -o -4 addr show dev eth0 | awk '{ print $4; exit }')

g_rxe_up eth0 rxe0
g_tetherd_start --target "$IQN" --portal "$IP:3260" --portal "iser://$IP:3260" \
	--portal "srp://$IP" --lun ram:64M --loops 2 --debug rdma
modprobe ib_iser || g_die "modprobe ib_iser"
g_iscsi_start
iser() { timeout 60 iscsiadm -m node -T "$IQN" -p "$IP:3260" -I iser "$@"; }
timeout 60 iscsiadm -m discovery -t sendtargets -p "$IP:3260" -I iser >/dev/null ||
	g_die "SendTargets over iSER failed"
# a quick recovery: the initiator retries its connection every few seconds, and gives up late
iscsiadm -m node -T "$IQN" -p "$IP:3260" -I iser -o update \
	-n node.session.timeo.replacement_timeout -v 60 >/dev/null
iser --login >/dev/null || g_die "login over iSER failed"
DEV=$(g_disk "$IQN" "$IP") || g_die "no disk"
head -c $((4 << 20)) /dev/urandom >/tmp/pattern
dd if=/tmp/pattern of="/dev/$DEV" bs=1M oflag=direct 2>/dev/null || g_die "write over iSER"
SUM=$(sha256sum </tmp/pattern | cut -d' ' -f1)
g_ok "logged in over iSER (/dev/$DEV), 4 MiB written"

# listening COUNT: the number of "portal ...: listening" lines of @1 in the log
listening() { grep -cE "portal $1: listening" "$G_TETHERD_LOG"; }
# wait_for SECONDS CMD...: CMD until it succeeds, every 0.1 s
wait_for() {
	local n=$(($1 * 10)); shift
	for _ in $(seq "$n"); do "$@" && return 0; sleep 0.1; done
	return 1
}
portal_state() { g_ctl --json portal list 2>/dev/null | tr -d ' \n' | grep -o "\"$1\"[^}]*" ; }
# shellcheck disable=SC2317 # (called through wait_for)
listens_again() { # PORTAL COUNT-BEFORE
	[ "$(listening "$1")" -gt "$2" ]
}
PI="iser://$IP:3260" PS="srp://$IP:5555"
ni=$(listening "$PI") ns=$(listening "$PS")

# ---- the device goes
t0=$(g_now)
timeout 30 rdma link delete rxe0 &
del=$!
# shellcheck disable=SC2317 # (called through wait_for)
delete_done() { ! kill -0 "$del" 2>/dev/null; }
if wait_for 5 delete_done; then
	dt=$(g_since "$t0")
	wait "$del" || g_bad "rdma link delete rxe0 failed"
	g_figure rdma_link_delete_s "$dt"
	g_ok "rdma link delete rxe0 returned in $dt s"
else
	g_figure rdma_link_delete_s timeout
	echo "--- tetherd's descriptors"
	for f in "/proc/$G_TETHERD_PID/fd/"*; do
		l=$(readlink "$f")
		case $l in *infiniband* | *uverbs* | *rdma* | anon_inode:*) echo "  $f -> $l" ;; esac
	done
	echo "--- rdma link delete's stack"
	cat "/proc/$del/task/"*/stack 2>/dev/null; for p in $(pgrep -x rdma); do cat "/proc/$p/stack"; done
	echo "--- modules"; grep -E '^(ib_|rdma_|iw_)' /proc/modules
	tail -40 "$G_TETHERD_LOG"
	g_die "rdma link delete rxe0 did not return in 5 s"
fi
grep -E "device removed|let go|device released|not flushed" "$G_TETHERD_LOG" | sed 's/^/  /'
if grep -q "device removed" "$G_TETHERD_LOG"; then g_ok "tetherd logged the device removal"
else g_bad "no device removal in tetherd's log"; fi
kill -0 "$G_TETHERD_PID" || g_die "tetherd exited"
if timeout 5 bash -c "exec 3<>/dev/tcp/$IP/3260"; then g_ok "the TCP portal still answers"
else g_bad "the TCP portal does not answer"; fi

# ---- the device comes back
g_rxe_up eth0 rxe0
t0=$(g_now)
if wait_for 15 listens_again "$PI" "$ni" && wait_for 5 listens_again "$PS" "$ns"; then
	dt=$(g_since "$t0")
	g_ok "iSER and SRP portals listen again ($dt s after rdma link add)"
	g_figure rdma_rebind_s "$dt"
else tail -30 "$G_TETHERD_LOG"; g_die "the RDMA portals did not listen again"; fi
for p in "$PI" "$PS"; do
	st=$(portal_state "$p")
	case "$st" in *'"state":"listening"'*) g_ok "portal list: $p listening" ;;
	*) g_bad "portal list: $p: $st" ;; esac
done

# ---- the initiator's session comes back (recovery), else a new login
t0=$(g_now)
state() { iscsiadm -m session -P 1 2>/dev/null | awk '/iSCSI Session State:/ { print $4; exit }'; }
# shellcheck disable=SC2317 # (called through wait_for)
logged_in() { [ "$(state)" = LOGGED_IN ]; }
if wait_for 30 logged_in; then
	g_ok "the iSER session recovered ($(g_since "$t0") s after the listener)"
else
	echo "session state: $(state)"
	iser --logout >/dev/null 2>&1
	iser --login >/dev/null || g_die "no recovery, and a new login failed"
	g_ok "logged in again after the recovery timed out"
fi
g_figure iser_relogin_s "$(g_since "$t0")"
DEV=$(g_disk "$IQN" "$IP") || g_die "no disk after the device came back"
got=$(dd if="/dev/$DEV" bs=1M count=4 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)
if [ "$got" = "$SUM" ]; then g_ok "the 4 MiB written before read back intact"
else g_bad "data read back differs"; fi

# ---- the address leaves and comes back
ni=$(listening "$PI") ns=$(listening "$PS")
ip addr del "$CIDR" dev eth0 || g_die "ip addr del $CIDR"
if wait_for 10 grep -qE "portal $PI: (address changed|the address left)" "$G_TETHERD_LOG"; then
	g_ok "the iSER listener closed when $IP left"
else g_bad "the iSER listener did not close when $IP left"; fi
ip addr add "$CIDR" dev eth0 || g_die "ip addr add $CIDR"
t0=$(g_now)
if wait_for 15 listens_again "$PI" "$ni" && wait_for 5 listens_again "$PS" "$ns"; then
	dt=$(g_since "$t0")
	g_ok "iSER and SRP portals listen again ($dt s after the address came back)"
	g_figure rdma_addr_rebind_s "$dt"
else tail -30 "$G_TETHERD_LOG"; g_bad "the RDMA portals did not listen again after the address"; fi
t0=$(g_now)
if wait_for 30 logged_in && DEV=$(g_disk "$IQN" "$IP") &&
	[ "$(dd if="/dev/$DEV" bs=1M count=4 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)" = "$SUM" ]; then
	g_ok "the iSER session reads the data after the address came back ($(g_since "$t0") s)"
else g_bad "the iSER session after the address change"; fi
# ---- the device goes again, this time under writes (fio, paced to span the removal)
ni=$(listening "$PI") ns=$(listening "$PS")
fio --name=busy --filename="/dev/$DEV" --direct=1 --ioengine=libaio --iodepth=8 --rw=randwrite \
	--bs=64k --offset=16M --size=16M --rate=2m --verify=crc32c --verify_fatal=1 \
	>/tmp/fio.busy 2>&1 &
fio_pid=$!
sleep 3
kill -0 "$fio_pid" 2>/dev/null || { cat /tmp/fio.busy; g_die "fio ended before the removal"; }
t0=$(g_now)
timeout 30 rdma link delete rxe0 &
del=$!
if wait_for 5 delete_done; then
	dt=$(g_since "$t0")
	wait "$del" || g_bad "rdma link delete rxe0 (under writes) failed"
	g_figure rdma_link_delete_busy_s "$dt"
	g_ok "rdma link delete rxe0 under writes returned in $dt s"
else
	g_figure rdma_link_delete_busy_s timeout
	tail -40 "$G_TETHERD_LOG"
	g_die "rdma link delete rxe0 under writes did not return in 5 s"
fi
g_rxe_up eth0 rxe0
if wait_for 15 listens_again "$PI" "$ni" && wait_for 5 listens_again "$PS" "$ns"; then
	g_ok "iSER and SRP portals listen again after the second removal"
else tail -30 "$G_TETHERD_LOG"; g_die "the RDMA portals did not listen again after the second removal"; fi
t0=$(g_now)
if timeout 90 tail --pid="$fio_pid" -f /dev/null && wait "$fio_pid"; then
	g_ok "fio's writes across the removal completed and verify ($(g_since "$t0") s after the device came back)"
else cat /tmp/fio.busy; g_bad "fio across the removal"; fi
got=$(dd if="/dev/$DEV" bs=1M count=4 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)
if [ "$got" = "$SUM" ]; then g_ok "the first 4 MiB still read back intact"
else g_bad "the first 4 MiB differ after the second removal"; fi
iser --logout >/dev/null || g_bad "logout"

g_tetherd_finish
g_end
