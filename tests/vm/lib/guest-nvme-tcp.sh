# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# guest-nvme-tcp.sh - guest side of nvme_tcp.sh: discovery, connect, identify, fio crc32c
# verify, ext4 with checksummed files, disconnect, connect again, data intact.
#
# Variables: TT_VM_LUN_MB (expected size of namespace 1).

# shellcheck source=guest-lib.sh source-path=SCRIPTDIR
. /mnt/host/tests/vm/lib/guest-lib.sh

LUN_MB=${TT_VM_LUN_MB:-256}
NQN=nqn.2026-11.org.tether:default
FS_MB=96       # ext4 lives in [0, 96 MiB)
FIO_OFF=128M   # fio pattern lives in [128, 192 MiB)
FIO_SIZE=64M

dmesg -n 1
modprobe nvme_tcp || g_die "modprobe nvme_tcp"
mkdir -p /etc/nvme
[ -s /etc/nvme/hostnqn ] || nvme gen-hostnqn >/etc/nvme/hostnqn
[ -s /etc/nvme/hostid ] || cat /proc/sys/kernel/random/uuid >/etc/nvme/hostid

nvme_diag() {
	echo "--- nvme list-subsys"
	nvme list-subsys 2>&1 | head -20
	echo "--- dmesg (last 30 lines)"
	dmesg | tail -30
}

# ---- discovery
t0=$(g_now)
out=$(timeout 60 nvme discover -t tcp -a "$PORTAL_A" -s 4420 2>&1) || { echo "$out"; nvme_diag; g_die "nvme discover failed"; }
g_figure nvme_discover_s "$(g_since "$t0")"
echo "$out" | sed 's/^/  /'
if grep -q "subnqn: *$NQN" <<<"$out"; then g_ok "discovery log names $NQN"
else g_bad "discovery log does not name $NQN"; fi
if grep -q "traddr: *$PORTAL_B" <<<"$out"; then g_ok "discovery log names the second port $PORTAL_B"
else g_bad "discovery log lacks port $PORTAL_B"; fi
if grep -q "trsvcid: *4420" <<<"$out"; then g_ok "trsvcid 4420"; else g_bad "trsvcid 4420 missing"; fi

# ---- connect
t0=$(g_now)
timeout 60 nvme connect -t tcp -a "$PORTAL_A" -s 4420 -n "$NQN" || { nvme_diag; g_die "nvme connect failed"; }
DEV=$(g_nvme_ns "$NQN") || { nvme_diag; g_die "no namespace device after nvme connect"; }
g_figure nvme_connect_s "$(g_since "$t0")"
g_ok "connected, namespace 1 is /dev/$DEV"
CTRL=$(basename "$(ls -d /sys/class/nvme-subsystem/*/nvme[0-9]* 2>/dev/null | grep -v 'n[0-9]*$' | head -1)")
[ -n "$CTRL" ] || CTRL=nvme0

# ---- identity
out=$(nvme id-ctrl "/dev/$CTRL" 2>&1) || { echo "$out"; g_die "nvme id-ctrl failed"; }
echo "$out" | grep -E '^(vid|sn|mn|fr|mdts|cntlid|ver|kas|oncs|vwc|nn|subnqn|ioccsz|iorcsz|cntrltype) ' | sed 's/^/  /'
grep -q "^mn *: tether" <<<"$out" && g_ok "id-ctrl model 'tether'" || g_bad "id-ctrl model"
grep -q "^subnqn *: $NQN" <<<"$out" && g_ok "id-ctrl subnqn" || g_bad "id-ctrl subnqn"
sn=$(sed -n 's/^sn *: *//p' <<<"$out" | sed 's/ *$//')
[ -n "$sn" ] && g_ok "id-ctrl serial '$sn'" || g_bad "id-ctrl serial empty"
out=$(nvme id-ns "/dev/$DEV" 2>&1) || { echo "$out"; g_die "nvme id-ns failed"; }
echo "$out" | grep -E '^(nsze|ncap|nuse|nsfeat|nlbaf|flbas|dlfeat|anagrpid|nguid|lbaf  0) ' | sed 's/^/  /'
nsze=$(sed -n 's/^nsze *: *//p' <<<"$out")
if [ "$((nsze))" = $((LUN_MB * 2048)) ]; then g_ok "id-ns nsze $((nsze)) blocks of 512 bytes ($LUN_MB MiB)"
else g_bad "id-ns nsze $nsze, expected $((LUN_MB * 2048))"; fi
nguid=$(sed -n 's/^nguid *: *//p' <<<"$out")
case $nguid in
6001405*) g_ok "NGUID $nguid (NAA 6 form of the LUN's identity)" ;;
*) g_bad "NGUID '$nguid'" ;;
esac
sectors=$(cat "/sys/block/$DEV/size")
if [ "$sectors" = $((LUN_MB * 2048)) ]; then g_ok "block device size $LUN_MB MiB"
else g_bad "block device size $sectors sectors"; fi
wwid=$(cat "/sys/block/$DEV/wwid" 2>/dev/null || true)
[ -n "$wwid" ] && g_ok "wwid $wwid" || g_bad "no wwid"
out=$(nvme list-subsys 2>&1)
echo "$out" | sed 's/^/  /'
grep -q "$NQN" <<<"$out" && g_ok "list-subsys shows $NQN" || g_bad "list-subsys lacks $NQN"
grep -q "tcp traddr=$PORTAL_A" <<<"$out" && g_ok "list-subsys shows the tcp path to $PORTAL_A" || g_bad "list-subsys path"
grep -q "live" <<<"$out" && g_ok "controller live" || g_bad "controller not live"

# ---- raw device: fio crc32c (write + verify)
fio_job() {
	fio --name=raw --filename="/dev/$DEV" --direct=1 --ioengine=libaio --iodepth=8 \
		--rw=randwrite --bs=64k --offset=$FIO_OFF --size=$FIO_SIZE \
		--verify=crc32c --verify_fatal=1 "$@" >/tmp/fio.out 2>&1
}
t0=$(g_now)
if fio_job; then g_ok "fio randwrite + crc32c verify on /dev/$DEV ($FIO_SIZE at $FIO_OFF)"
else cat /tmp/fio.out; g_bad "fio write/verify"; fi
g_figure nvme_fio_64MiB_write_verify_s "$(g_since "$t0")"
if fio --name=mixed --filename="/dev/$DEV" --direct=1 --ioengine=libaio --iodepth=16 \
	--rw=randrw --bsrange=4k-128k --offset=200M --size=32M --verify=crc32c --verify_fatal=1 \
	>/tmp/fio2.out 2>&1; then g_ok "fio randrw 4k-128k crc32c verify"
else cat /tmp/fio2.out; g_bad "fio randrw verify"; fi

# ---- ext4 with checksummed files (discard exercises Dataset Management)
mkfs.ext4 -q -F -E discard "/dev/$DEV" "${FS_MB}M" || g_die "mkfs.ext4 failed"
mkdir -p /mnt/ns
mount "/dev/$DEV" /mnt/ns || g_die "mount failed"
for i in 1 2 3 4 5 6 7 8; do
	head -c $((i * 512 * 1024 + i * 7)) /dev/urandom >"/mnt/ns/f.$i"
done
sync
fstrim -v /mnt/ns || g_bad "fstrim"
g_sha_files /mnt/ns >/tmp/sums
umount /mnt/ns || g_die "umount failed"
g_ok "ext4 created, 8 files written, sha256 recorded"

# ---- disconnect, connect again
t0=$(g_now)
nvme disconnect -n "$NQN" || g_die "nvme disconnect failed"
for _ in $(seq 50); do [ -b "/dev/$DEV" ] || break; sleep 0.1; done
if [ -b "/dev/$DEV" ]; then g_bad "/dev/$DEV still present after disconnect"
else g_ok "disconnect removed /dev/$DEV"; fi
# this time with header and data digests (CRC32C on every PDU)
timeout 60 nvme connect -t tcp -a "$PORTAL_B" -s 4420 -n "$NQN" --hdr-digest --data-digest ||
	{ nvme_diag; g_die "second nvme connect (digests) failed"; }
DEV=$(g_nvme_ns "$NQN") || { nvme_diag; g_die "no namespace after the second connect"; }
g_figure nvme_reconnect_s "$(g_since "$t0")"
g_ok "connected again through $PORTAL_B with header and data digests, namespace is /dev/$DEV"
[ "$(cat "/sys/block/$DEV/wwid" 2>/dev/null)" = "$wwid" ] && g_ok "same wwid" || g_bad "wwid changed"
mount "/dev/$DEV" /mnt/ns || g_die "mount after reconnect failed"
if g_sha_files /mnt/ns | cmp -s - /tmp/sums; then g_ok "file checksums intact after reconnect"
else g_bad "file checksums differ after reconnect"; fi
umount /mnt/ns
if fio_job --verify_only; then g_ok "fio crc32c pattern intact after reconnect"
else cat /tmp/fio.out; g_bad "fio pattern corrupted after reconnect"; fi
nvme disconnect -n "$NQN" >/dev/null || g_bad "final disconnect failed"
[ "$G_FAILS" = 0 ] || nvme_diag
g_end
