# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# guest-srp-basic.sh - guest side of srp_basic.sh: soft-RoCE on eth0, tetherd started in the
# guest with an srp:// portal on the guest's own address; the kernel's SRP initiator (ib_srp)
# given the add_target line tetherctl lists: the LUN as /dev/sdX with vendor TETHER, fio crc32c
# on the raw device, ext4 with checksummed files, the SCSI host removed and the target added
# again with the data intact.
#
# Variables: TT_VM_GUEST_BUILD (set by the host), TT_VM_LUN_MB.

# shellcheck source=guest-lib.sh source-path=SCRIPTDIR
. /mnt/host/tests/vm/lib/guest-lib.sh

LUN_MB=${TT_VM_LUN_MB:-256}
IQN=iqn.2026-11.org.tether:srp0
FS_MB=96       # ext4 lives in [0, 96 MiB)
FIO_OFF=128M   # fio pattern lives in [128, 192 MiB)
FIO_SIZE=64M
SRP_SYS=/sys/class/infiniband_srp/srp-rxe0-1
dmesg -n 1
IP=$(g_addr eth0)
[ -n "$IP" ] || g_die "eth0 has no address"

g_rxe_up eth0 rxe0
g_ok "rxe0 on eth0 ($IP) ACTIVE"

t0=$(g_now)
g_tetherd_start --target "$IQN" --portal "srp://$IP" --lun "ram:${LUN_MB}M" --loops 2 --debug srp
g_figure srp_tetherd_start_s "$(g_since "$t0")"
g_ok "tetherd started in the guest with srp://$IP:5555"

out=$(g_ctl --json portal list 2>&1) || g_die "tetherctl portal list: $out"
LINE=$(sed -n 's/.*"add_target": *"\([^"]*\)".*/\1/p' <<<"$out" | head -1)
case "$LINE" in
id_ext=*,ioc_guid=*,dest=$IP:5555) g_ok "portal list: add_target $LINE" ;;
*) echo "$out"; g_die "no add_target line for srp://$IP:5555 in the portal list" ;;
esac

modprobe ib_srp || g_die "modprobe ib_srp"
for _ in $(seq 50); do [ -e "$SRP_SYS/add_target" ] && break; sleep 0.2; done
[ -e "$SRP_SYS/add_target" ] || { ls /sys/class/infiniband_srp 2>&1; g_die "no $SRP_SYS/add_target"; }

# srp_host_disk: the sdX of the SCSI host ib_srp made (prints the name), waiting up to 30 s
srp_host_disk() {
	local h d
	for _ in $(seq 150); do
		for h in /sys/class/scsi_host/host*; do
			[ "$(cat "$h/device/../proc_name" 2>/dev/null || cat "$h/proc_name" 2>/dev/null)" = ib_srp ] || continue
			for d in "$h"/device/target*/*/block/*; do
				[ -e "$d" ] && { basename "$d"; return 0; }
			done
		done
		sleep 0.2
	done
	return 1
}
# srp_add: writes the add_target line; ib_srp answers EEXIST while a removed target of the same
# identifier is still being torn down: tried again for up to 30 s
srp_add() {
	for _ in $(seq 60); do
		echo "$LINE" >"$SRP_SYS/add_target" 2>/tmp/add.err && return 0
		grep -q "File exists" /tmp/add.err || break
		sleep 0.5
	done
	cat /tmp/add.err; dmesg | tail -20; tail -20 "$G_TETHERD_LOG"; g_die "add_target refused"
}

# ---- a login naming another target port: SRP_LOGIN_REJ in the CM reject, reason 00010003h
BAD_LINE="id_ext=00000000000000ff,${LINE#*,}"
if echo "$BAD_LINE" >"$SRP_SYS/add_target" 2>/dev/null; then
	g_bad "add_target with id_ext ff accepted (expected a rejected login)"
elif grep -q "rejected, reason 0x00010003" "$G_TETHERD_LOG"; then
	g_ok "login to another target port rejected (SRP_LOGIN_REJ 0x00010003): $(dmesg | grep -o 'REJECTED, reason 0x[0-9a-f]*' | tail -1)"
else
	tail -5 "$G_TETHERD_LOG"; dmesg | tail -5; g_bad "no rejected login for id_ext ff"
fi

# ---- ACLs: a second TPG (portal port 5556) lets only initiators with an ACL in. A login of the
# guest's initiator port before its ACL exists: SRP_LOGIN_REJ 00010006h, logged with the port
# identifier; with the ACL: a channel, listed by tetherctl srp list
g_ctl tpg create "$IQN" 2 --allow-any-initiator no --portal "srp://$IP:5556" >/dev/null ||
	g_die "tpg create $IQN 2"
g_ctl acl add "$IQN" 0x0123456789abcdef0123456789abcdef >/dev/null || g_die "acl add (another port)"
out=$(g_ctl --json portal list 2>&1)
LINE2=$(sed -n 's/.*"add_target": *"\([^"]*\)".*/\1/p' <<<"$out" | grep -vxF "$LINE" | head -1)
[ -n "$LINE2" ] || { echo "$out"; g_die "no add_target line for tpg 2"; }
if echo "$LINE2" >"$SRP_SYS/add_target" 2>/dev/null; then
	g_bad "login to tpg 2 without an ACL accepted"
fi
INI=$(sed -n 's/.*login of initiator port \(0x[0-9a-f]\{32\}\) rejected, reason 0x00010006.*/\1/p' \
	"$G_TETHERD_LOG" | tail -1)
if [ -n "$INI" ]; then g_ok "login without an ACL rejected (SRP_LOGIN_REJ 0x00010006) for initiator port $INI"
else tail -5 "$G_TETHERD_LOG"; dmesg | tail -5; g_die "no rejected login with reason 0x00010006"; fi
g_ctl acl add "$IQN" "$INI" >/dev/null || g_die "acl add $INI"
ok=""
for _ in $(seq 60); do
	echo "$LINE2" >"$SRP_SYS/add_target" 2>/tmp/add.err && { ok=1; break; }
	grep -q "File exists" /tmp/add.err || break
	sleep 0.5
done
if [ -n "$ok" ]; then g_ok "login to tpg 2 accepted once $INI has an ACL"
else cat /tmp/add.err; tail -5 "$G_TETHERD_LOG"; g_bad "login with an ACL refused"; fi
out=$(g_ctl --json srp list 2>&1)
if grep -q "\"initiator\": *\"$INI\"" <<<"$out" && grep -q '"state": *"live"' <<<"$out" &&
	grep -q '"tpgt": *2' <<<"$out" && grep -q '"req_limit": *32' <<<"$out"; then
	g_ok "srp list: channel of $INI to tpg 2, live, request limit 32"
else echo "$out"; g_bad "srp list does not show the channel"; fi
g_ctl srp list | sed 's/^/  /'
for p in /sys/class/srp_remote_ports/port-*; do [ -e "$p" ] && echo 1 >"$p/delete"; done
for _ in $(seq 150); do
	ls /sys/class/srp_remote_ports/ 2>/dev/null | grep -q . || break
	sleep 0.2
done
for _ in $(seq 50); do
	[ "$(g_ctl --json srp list 2>/dev/null | tr -d ' \n')" = "[]" ] && break
	sleep 0.2
done
if [ "$(g_ctl --json srp list 2>/dev/null | tr -d ' \n')" = "[]" ]; then g_ok "srp list empty after the port was removed"
else g_ctl srp list; g_bad "channels left after the port was removed"; fi
g_ctl tpg delete "$IQN" 2 >/dev/null || g_bad "tpg delete $IQN 2"

t0=$(g_now)
srp_add
DEV=$(srp_host_disk) || { dmesg | tail -20; tail -20 "$G_TETHERD_LOG"; g_die "no disk of ib_srp"; }
g_figure srp_login_s "$(g_since "$t0")"
g_ok "ib_srp logged in, LUN is /dev/$DEV"
udevadm settle 2>/dev/null || true
for _ in $(seq 50); do [ -b "/dev/$DEV" ] && break; sleep 0.2; done
sectors=$(cat "/sys/block/$DEV/size")
if [ "$sectors" = $((LUN_MB * 2048)) ]; then g_ok "size $LUN_MB MiB"
else g_bad "size is $sectors sectors, expected $((LUN_MB * 2048))"; fi
vendor=$(sed 's/ *$//' "/sys/block/$DEV/device/vendor")
if [ "$vendor" = TETHER ]; then g_ok "vendor '$vendor'"
else g_bad "vendor '$vendor'"; fi
if command -v sg_inq >/dev/null; then
	if sg_inq "/dev/$DEV" 2>&1 | grep -q "Vendor identification: TETHER"; then g_ok "sg_inq: TETHER"
	else sg_inq "/dev/$DEV" 2>&1 | head; g_bad "sg_inq vendor"; fi
fi
command -v lsscsi >/dev/null && lsscsi 2>&1 | sed 's/^/  /'
wwid=$(cat "/sys/block/$DEV/device/wwid" 2>/dev/null)

fio_job() {
	fio --name=raw --filename="/dev/$DEV" --direct=1 --ioengine=libaio --iodepth=8 \
		--rw=randwrite --bsrange=4k-256k --offset=$FIO_OFF --size=$FIO_SIZE \
		--verify=crc32c --verify_fatal=1 "$@" >/tmp/fio.out 2>&1
}
t0=$(g_now)
if fio_job; then g_ok "fio randwrite 4k-256k + crc32c verify on /dev/$DEV over SRP"
else cat /tmp/fio.out; dmesg | tail -20; g_bad "fio write/verify over SRP"; fi
g_figure srp_fio_64MiB_write_verify_s "$(g_since "$t0")"

mkfs.ext4 -q -F "/dev/$DEV" "${FS_MB}M" || g_die "mkfs.ext4 failed"
mkdir -p /mnt/lun
mount "/dev/$DEV" /mnt/lun || g_die "mount failed"
for i in 1 2 3 4 5 6 7 8; do
	head -c $((i * 512 * 1024 + i * 7)) /dev/urandom >"/mnt/lun/f.$i"
done
g_sha_files /mnt/lun >/tmp/sums
umount /mnt/lun || g_die "umount failed"
g_ok "ext4 created, 8 files written, sha256 recorded"

# srp_port: the first remote port of ib_srp (its sysfs folder), or nothing
srp_port() {
	local p
	for p in /sys/class/srp_remote_ports/port-*; do [ -e "$p" ] && { echo "$p"; return 0; }; done
	return 0
}

# ---- the SCSI host removed (SRP_I_LOGOUT / CM disconnect), the target added again
port=$(srp_port)
[ -n "$port" ] || g_die "no srp_remote_ports entry"
echo 1 >"$port/delete" || g_die "delete $port"
# the removal finishes in the background: the remote port goes last
for _ in $(seq 150); do [ -e "$port" ] || break; sleep 0.2; done
if [ -b "/dev/$DEV" ] || [ -e "$port" ]; then g_bad "/dev/$DEV or $port still present after the host was removed"
else g_ok "host removed, /dev/$DEV gone"; fi
srp_add
DEV=$(srp_host_disk) || { dmesg | tail -20; g_die "no disk after adding the target again"; }
udevadm settle 2>/dev/null || true
for _ in $(seq 50); do [ -b "/dev/$DEV" ] && break; sleep 0.2; done
if [ "$(cat "/sys/block/$DEV/device/wwid" 2>/dev/null)" = "$wwid" ]; then g_ok "same wwid after adding the target again"
else g_bad "wwid changed"; fi
mount "/dev/$DEV" /mnt/lun || g_die "mount after re-add failed"
if g_sha_files /mnt/lun | cmp -s - /tmp/sums; then g_ok "file checksums intact after re-add"
else g_bad "file checksums differ after re-add"; fi
umount /mnt/lun
if fio_job --verify_only; then g_ok "fio crc32c pattern intact after re-add"
else cat /tmp/fio.out; g_bad "fio pattern corrupted after re-add"; fi
port=$(srp_port)
[ -n "$port" ] && echo 1 >"$port/delete"
sleep 1

rc=0
g_tetherd_stop TERM || rc=$?
if [ "$rc" = 0 ]; then g_ok "tetherd exited with status 0 on SIGTERM"
else g_bad "tetherd exit status $rc"; fi
grep -E '"?srp"?|srp:' "$G_TETHERD_LOG" | tail -8 | sed 's/^/  log: /'
g_tetherd_log_check && g_ok "no sanitizer report"
g_end
