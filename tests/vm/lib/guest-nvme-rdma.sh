# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# guest-nvme-rdma.sh - guest side of nvme_rdma.sh: soft-RoCE on eth0, tetherd started in the guest
# with nvme-rdma://ADDR:4420 on the guest's own address; the kernel's NVMe/RDMA host: discovery
# (TRTYPE rdma, the RDMA transport subtype), connect, id-ctrl (keyed SGLs, IOCCSZ), id-ns,
# list-subsys, fio crc32c with 4k-256k writes (in-capsule data up to 8 KiB, RDMA READ of keyed
# SGLs above, RDMA WRITE of the reads), ext4 with checksummed files, disconnect, connect again
# with the data intact; the RDMA device deleted under the connected host (tetherd lets go of it
# at once) and added again (tetherd listens again by itself, a new connect finds the data); the
# port removed under the connected host (tetherctl port remove: the host's queues go down, its
# reconnects and a discovery are refused) and added back by tetherctl apply of the saved
# configuration (the host reconnects by itself, the data intact); then SIGTERM of tetherd while
# the host is connected: exit 0, no sanitizer report.
#
# Variables: TT_VM_GUEST_BUILD (set by the host), TT_VM_LUN_MB.

# shellcheck source=guest-lib.sh source-path=SCRIPTDIR
. /mnt/host/tests/vm/lib/guest-lib.sh

LUN_MB=${TT_VM_LUN_MB:-128}
NQN=nqn.2026-11.org.tether:default
FS_MB=48       # ext4 lives in [0, 48 MiB)
FIO_OFF=64M    # fio pattern lives in [64, 96 MiB)
FIO_SIZE=32M
dmesg -n 1
IP=$(g_addr eth0)
[ -n "$IP" ] || g_die "eth0 has no address"

g_rxe_up eth0 rxe0
g_ok "rxe0 on eth0 ($IP) ACTIVE"

t0=$(g_now)
# every command of the transport in the log (which data path it took); TT_VM_NVMF_DEBUG=1 adds
# the RDMA layer and the core
g_tetherd_start --portal "nvme-rdma://$IP" --lun "ram:${LUN_MB}M" --log-level info \
	--debug nvme-rdma ${TT_VM_NVMF_DEBUG:+--debug rdma --debug nvmf}
g_figure nvme_rdma_tetherd_start_s "$(g_since "$t0")"
g_ok "tetherd started in the guest with nvme-rdma://$IP:4420"

modprobe nvme_rdma || g_die "modprobe nvme_rdma"
mkdir -p /etc/nvme
[ -s /etc/nvme/hostnqn ] || nvme gen-hostnqn >/etc/nvme/hostnqn
[ -s /etc/nvme/hostid ] || cat /proc/sys/kernel/random/uuid >/etc/nvme/hostid

nvme_diag() {
	echo "--- nvme list-subsys"
	nvme list-subsys 2>&1 | head -20
	echo "--- dmesg (last 30 lines)"
	dmesg | tail -30
	echo "--- tetherd log (last 30 lines)"
	tail -30 /mnt/ctl/tetherd.*.log 2>/dev/null
}

# ---- discovery over RDMA
t0=$(g_now)
out=$(timeout 60 nvme discover -t rdma -a "$IP" -s 4420 2>&1) || { echo "$out"; nvme_diag; g_die "nvme discover -t rdma failed"; }
g_figure nvme_rdma_discover_s "$(g_since "$t0")"
echo "$out" | sed 's/^/  /'
grep -q "subnqn: *$NQN" <<<"$out" && g_ok "discovery log names $NQN" || g_bad "discovery log lacks $NQN"
grep -q "trtype: *rdma" <<<"$out" && g_ok "trtype rdma" || g_bad "trtype is not rdma"
grep -q "traddr: *$IP" <<<"$out" && g_ok "traddr $IP" || g_bad "traddr missing"
grep -q "trsvcid: *4420" <<<"$out" && g_ok "trsvcid 4420" || g_bad "trsvcid 4420 missing"
grep -q "rdma_qptype: *connected" <<<"$out" && g_ok "rdma_qptype connected" || g_bad "rdma_qptype"
grep -q "rdma_cms: *rdma-cm" <<<"$out" && g_ok "rdma_cms rdma-cm" || g_bad "rdma_cms"
grep -q "rdma_prtype: *not specified" <<<"$out" && g_ok "rdma_prtype not specified" || g_bad "rdma_prtype"

# ---- connect over RDMA
t0=$(g_now)
timeout 60 nvme connect -t rdma -a "$IP" -s 4420 -n "$NQN" || { nvme_diag; g_die "nvme connect -t rdma failed"; }
DEV=$(g_nvme_ns "$NQN") || { nvme_diag; g_die "no namespace device after nvme connect"; }
g_figure nvme_rdma_connect_s "$(g_since "$t0")"
g_ok "connected over RDMA, namespace 1 is /dev/$DEV"
CTRL=nvme0
for d in /sys/class/nvme-subsystem/*/nvme[0-9]*; do
	case ${d##*/} in *n[0-9]*) continue ;; esac   # a namespace, not a controller
	CTRL=${d##*/}
	break
done
[ "$(cat "/sys/class/nvme/$CTRL/transport" 2>/dev/null)" = rdma ] && g_ok "$CTRL transport rdma" ||
	g_bad "$CTRL transport is '$(cat "/sys/class/nvme/$CTRL/transport" 2>/dev/null)'"

# ---- identity
out=$(nvme id-ctrl "/dev/$CTRL" 2>&1) || { echo "$out"; g_die "nvme id-ctrl failed"; }
echo "$out" | grep -E '^(sn|mn|mdts|cntlid|ver|sgls|subnqn|ioccsz|iorcsz|icdoff|msdbd) ' | sed 's/^/  /'
grep -q "^mn *: tether" <<<"$out" && g_ok "id-ctrl model 'tether'" || g_bad "id-ctrl model"
grep -q "^subnqn *: $NQN" <<<"$out" && g_ok "id-ctrl subnqn" || g_bad "id-ctrl subnqn"
ioccsz=$(sed -n 's/^ioccsz *: *//p' <<<"$out")
[ "$ioccsz" = 516 ] && g_ok "ioccsz 516 (8 KiB of in-capsule data)" || g_bad "ioccsz '$ioccsz'"
sgls=$(sed -n 's/^sgls *: *//p' <<<"$out")
if [ $((sgls & 0x4)) != 0 ] && [ $((sgls & 0x100000)) != 0 ]; then g_ok "sgls $sgls: keyed SGL data blocks, offsets"
else g_bad "sgls '$sgls' lacks keyed SGLs or offsets"; fi
icdoff=$(sed -n 's/^icdoff *: *//p' <<<"$out")
[ "$icdoff" = 0 ] && g_ok "icdoff 0" || g_bad "icdoff '$icdoff'"
out=$(nvme id-ns "/dev/$DEV" 2>&1) || { echo "$out"; g_die "nvme id-ns failed"; }
nsze=$(sed -n 's/^nsze *: *//p' <<<"$out")
if [ "$((nsze))" = $((LUN_MB * 2048)) ]; then g_ok "id-ns nsze $((nsze)) blocks ($LUN_MB MiB)"
else g_bad "id-ns nsze $nsze, expected $((LUN_MB * 2048))"; fi
wwid=$(cat "/sys/block/$DEV/wwid" 2>/dev/null || true)
[ -n "$wwid" ] && g_ok "wwid $wwid" || g_bad "no wwid"
out=$(nvme list-subsys 2>&1)
echo "$out" | sed 's/^/  /'
grep -q "rdma traddr=$IP" <<<"$out" && g_ok "list-subsys shows the rdma path to $IP" || g_bad "list-subsys path"
grep -q "live" <<<"$out" && g_ok "controller live" || g_bad "controller not live"

# ---- raw device: fio crc32c, 4k-256k: in-capsule (<= 8 KiB) and keyed SGL (RDMA READ) writes
fio_job() {
	fio --name=raw --filename="/dev/$DEV" --direct=1 --ioengine=libaio --iodepth=8 \
		--rw=randwrite --bsrange=4k-256k --offset=$FIO_OFF --size=$FIO_SIZE \
		--verify=crc32c --verify_fatal=1 "$@" >/tmp/fio.out 2>&1
}
t0=$(g_now)
if fio_job; then g_ok "fio randwrite 4k-256k + crc32c verify on /dev/$DEV over RDMA"
else cat /tmp/fio.out; g_bad "fio write/verify over RDMA"; fi
g_figure nvme_rdma_fio_32MiB_write_verify_s "$(g_since "$t0")"
# both write paths and the read path were taken (tetherd's per-command debug lines)
TLOG=$(ls /mnt/ctl/tetherd.*.log | tail -1)
n_icd=$(grep -c 'opcode 01 .* bytes in the capsule, SGL 01: status 000' "$TLOG" || true)
n_rd=$(grep -c 'opcode 01 .* bytes by RDMA, SGL 4[0f]: status 000' "$TLOG" || true)
n_wr=$(grep -c 'opcode 02 .* bytes by RDMA, SGL 4[0f]: status 000' "$TLOG" || true)
echo "  writes in the capsule: $n_icd, writes by RDMA READ: $n_rd, reads by RDMA WRITE: $n_wr"
[ "$n_icd" -gt 0 ] && g_ok "writes of up to 8 KiB came in the capsule" || g_bad "no in-capsule write"
[ "$n_rd" -gt 0 ] && g_ok "larger writes came by keyed SGL (RDMA READ)" || g_bad "no keyed SGL write"
[ "$n_wr" -gt 0 ] && g_ok "reads went by keyed SGL (RDMA WRITE)" || g_bad "no keyed SGL read"

# ---- ext4 with checksummed files
mkfs.ext4 -q -F "/dev/$DEV" "${FS_MB}M" || g_die "mkfs.ext4 failed"
mkdir -p /mnt/ns
mount "/dev/$DEV" /mnt/ns || g_die "mount failed"
for i in 1 2 3 4 5 6; do
	head -c $((i * 512 * 1024 + i * 7)) /dev/urandom >"/mnt/ns/f.$i"
done
g_sha_files /mnt/ns >/tmp/sums
umount /mnt/ns || g_die "umount failed"
g_ok "ext4 created, 6 files written, sha256 recorded"

# ---- disconnect, connect again
t0=$(g_now)
nvme disconnect -n "$NQN" >/dev/null || g_die "nvme disconnect failed"
for _ in $(seq 50); do [ -b "/dev/$DEV" ] || break; sleep 0.1; done
if [ -b "/dev/$DEV" ]; then g_bad "/dev/$DEV still present after disconnect"
else g_ok "disconnect removed /dev/$DEV"; fi
timeout 60 nvme connect -t rdma -a "$IP" -s 4420 -n "$NQN" || { nvme_diag; g_die "second nvme connect failed"; }
DEV=$(g_nvme_ns "$NQN") || { nvme_diag; g_die "no namespace after the second connect"; }
g_figure nvme_rdma_reconnect_s "$(g_since "$t0")"
[ "$(cat "/sys/block/$DEV/wwid" 2>/dev/null)" = "$wwid" ] && g_ok "same wwid after reconnect" || g_bad "wwid changed"
mount "/dev/$DEV" /mnt/ns || g_die "mount after reconnect failed"
if g_sha_files /mnt/ns | cmp -s - /tmp/sums; then g_ok "file checksums intact after reconnect"
else g_bad "file checksums differ after reconnect"; fi
umount /mnt/ns
if fio_job --verify_only; then g_ok "fio crc32c pattern intact after reconnect"
else cat /tmp/fio.out; g_bad "fio pattern corrupted after reconnect"; fi

# ---- the RDMA device deleted under the connected host, then added again: the kernel's host
# deletes its controllers on a device that goes; tetherd lets go of the device at once, keeps
# running, listens again by itself when the device returns, and a new connect finds the data
listening() { grep -cE "portal nvme-rdma://$IP:4420: listening" "$G_TETHERD_LOG"; }
nl=$(listening)
t0=$(g_now)
if timeout 10 rdma link delete rxe0; then
	dt=$(g_since "$t0")
	g_figure nvme_rdma_link_delete_s "$dt"
	g_ok "rdma link delete rxe0 returned in $dt s with the host connected"
else
	tail -20 "$G_TETHERD_LOG"
	g_die "rdma link delete rxe0 did not return in 10 s"
fi
kill -0 "$G_TETHERD_PID" 2>/dev/null || g_die "tetherd exited on the device removal"
if grep -q "device removed" "$G_TETHERD_LOG"; then g_ok "tetherd logged the device removal"
else g_bad "no device removal in tetherd's log"; fi
nvme disconnect -n "$NQN" >/dev/null 2>&1 || true   # whatever the host kept of it
g_rxe_up eth0 rxe0
t0=$(g_now)
for _ in $(seq 150); do [ "$(listening)" -gt "$nl" ] && break; sleep 0.1; done
if [ "$(listening)" -gt "$nl" ]; then
	g_figure nvme_rdma_rebind_s "$(g_since "$t0")"
	g_ok "nvme-rdma://$IP:4420 listens again $(g_since "$t0") s after rdma link add"
else
	tail -20 "$G_TETHERD_LOG"
	g_die "nvme-rdma://$IP:4420 did not listen again after rdma link add"
fi
t0=$(g_now)
timeout 60 nvme connect -t rdma -a "$IP" -s 4420 -n "$NQN" || { nvme_diag; g_die "nvme connect after the device came back failed"; }
DEV=$(g_nvme_ns "$NQN") || { nvme_diag; g_die "no namespace after the device came back"; }
g_figure nvme_rdma_connect_after_rebind_s "$(g_since "$t0")"
if fio_job --verify_only; then g_ok "connected again over the new device, fio pattern intact"
else cat /tmp/fio.out; g_bad "fio pattern corrupted after the device came back"; fi

# ---- the port removed under the connected host, then added back by tetherctl apply
# ctrl_state: the state of the host's controller of $NQN (live, connecting, ...; none)
ctrl_state() {
	local s d
	for s in /sys/class/nvme-subsystem/*; do
		[ "$(cat "$s/subsysnqn" 2>/dev/null)" = "$NQN" ] || continue
		for d in "$s"/nvme[0-9]*; do
			case ${d##*/} in *n[0-9]*) continue ;; esac
			cat "$d/state" 2>/dev/null && return 0
		done
	done
	echo none
}
g_ctl save /tmp/tetherd-saved.json >/dev/null || g_bad "tetherctl save"
t0=$(g_now)
g_ctl port remove "nvme-rdma://$IP:4420" || g_bad "tetherctl port remove nvme-rdma://$IP:4420"
for _ in $(seq 150); do [ "$(ctrl_state)" != live ] && break; sleep 0.2; done
if [ "$(ctrl_state)" != live ]; then
	g_ok "port removed: the host's controller is $(ctrl_state) after $(g_since "$t0") s"
else
	nvme_diag
	g_bad "port removed: the host's controller is still live"
fi
kill -0 "$G_TETHERD_PID" 2>/dev/null || g_die "tetherd exited on the port removal"
if g_ctl port list | grep -q "nvme-rdma://$IP:4420"; then g_bad "port list still has the removed port"
else g_ok "port list no longer has nvme-rdma://$IP:4420"; fi
if timeout 30 nvme discover -t rdma -a "$IP" -s 4420 >/dev/null 2>&1; then
	g_bad "a discovery through the removed port succeeded"
else
	g_ok "a discovery through the removed port is refused"
fi
t0=$(g_now)
out=$(g_ctl apply /tmp/tetherd-saved.json 2>&1) || g_bad "tetherctl apply: $out"
echo "$out" | sed 's/^/  /'
grep -q "add port nvme-rdma://$IP:4420" <<<"$out" && g_ok "tetherctl apply adds the port back" ||
	g_bad "tetherctl apply did not add the port back"
for _ in $(seq 300); do [ "$(ctrl_state)" = live ] && break; sleep 0.2; done
if [ "$(ctrl_state)" = live ]; then
	g_figure nvme_rdma_port_back_s "$(g_since "$t0")"
	g_ok "the host reconnected by itself $(g_since "$t0") s after the port came back"
else
	nvme_diag
	g_bad "the host did not reconnect after the port came back (controller $(ctrl_state))"
fi
if fio_job --verify_only; then g_ok "fio pattern intact through the port removal"
else cat /tmp/fio.out; g_bad "fio pattern corrupted after the port came back"; fi

# ---- SIGTERM with the host connected: tetherd drains its RDMA queues and exits 0
[ "$G_FAILS" = 0 ] || nvme_diag
g_tetherd_finish
nvme disconnect -n "$NQN" >/dev/null 2>&1 || true
g_end
