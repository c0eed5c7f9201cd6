#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# guest.sh - build, cache and boot the Debian 12 QEMU guest in which the Linux
# kernel iSCSI initiator (iscsi_tcp, dm-multipath) is run against tetherd.
#
# Usage:
#   guest.sh build         fetch the kernel package, build root image + initramfs
#   guest.sh run 'CMDS'    boot, run CMDS (bash) in the guest, power off;
#                          the exit status is the status of CMDS
#   guest.sh shell         boot to an interactive serial console (Ctrl-A x quits)
#   guest.sh check         build if needed, boot once, check the guest (a test:
#                          exit 0 pass, 77 skip); also what no argument does
#   guest.sh clean         remove $TT_VM_DIR
#   guest.sh help
#
# Exit status 77 from any command: this host cannot build or boot the guest
# (not root, no QEMU, no disk space, no package archive); the reason is printed.
#
# Environment [default]:
#   TT_VM_DIR      [/var/tmp/tether-vm]  cache: kernel, root image, initramfs
#   TT_VM_SHARE    [repository root]     host folder, read-only at /mnt/host
#   TT_VM_CTL      [fresh dir]           host folder, read-write at /mnt/ctl; holds
#                                        cmd.sh, out.log and rc of a run
#   TT_VM_TAPS     [""]  "TAP0 TAP1": NICs eth0/eth1 on these existing tap devices
#                        (current network namespace); empty = QEMU user network
#   TT_VM_IPS      ["10.77.1.2/24 10.77.2.2/24"]  guest addresses on the taps
#   TT_VM_SOCKNET  [""]  "listen=127.0.0.1:PORT" or "connect=127.0.0.1:PORT": one more NIC
#                        (after the tap or user ones, eth1 with user networking) on a QEMU
#                        socket L2 link to another guest; the guest job configures it
#   TT_VM_SOCKMAC  [01]  last byte of that NIC's MAC (52:54:00:78:00:XX), one per guest
#   TT_VM_LINKDIR  [""]  host folder, read-write, exported with mount tag ttlink (the job
#                        mounts it, e.g. at /mnt/link): a folder two guests share
#   TT_VM_MEM [1024]  TT_VM_SMP [2]  TT_VM_TIMEOUT [600] (seconds per boot)
#   TT_VM_LOGLEVEL [3]  guest kernel console log level
#   TT_VM_BOOT     [pvh]  pvh = boot the uncompressed vmlinux (PVH entry),
#                         bzimage = boot the package's vmlinuz as is
#
# The guest has no systemd; udev is installed but not started (a test starts
# systemd-udevd when it needs it). PID 1 is /sbin/tt-init (written below): it
# mounts the basics, configures eth0/eth1, mounts the two 9p shares, runs
# /mnt/ctl/cmd.sh and powers off; with TT_VM_LOGLEVEL=5 its steps show on the
# console. QEMU runs under TCG (KVM does not work on the hosts this is made
# for): -accel tcg,thread=multi -cpu max. docs/vm.md describes the whole harness.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TT_VM_DIR=${TT_VM_DIR:-/var/tmp/tether-vm}
TT_VM_SHARE=${TT_VM_SHARE:-$(cd "$HERE/../.." && pwd)}
TT_VM_CTL=${TT_VM_CTL:-}
TT_VM_TAPS=${TT_VM_TAPS:-}
TT_VM_IPS=${TT_VM_IPS:-10.77.1.2/24 10.77.2.2/24}
TT_VM_SOCKNET=${TT_VM_SOCKNET:-}
TT_VM_SOCKMAC=${TT_VM_SOCKMAC:-01}
TT_VM_LINKDIR=${TT_VM_LINKDIR:-}
TT_VM_MEM=${TT_VM_MEM:-1024}
TT_VM_SMP=${TT_VM_SMP:-2}
TT_VM_TIMEOUT=${TT_VM_TIMEOUT:-600}
TT_VM_LOGLEVEL=${TT_VM_LOGLEVEL:-3}
TT_VM_BOOT=${TT_VM_BOOT:-pvh}

SUITE=bookworm
HOST_PKGS=(qemu-system-x86 mmdebstrap cpio e2fsprogs)
GUEST_PKGS=open-iscsi,nvme-cli,multipath-tools,fio,e2fsprogs,sg3-utils,lsscsi,nftables,iproute2,kmod,\
util-linux,mount,procps,busybox,iputils-ping,\
rdma-core,ibverbs-providers,ibverbs-utils,rdmacm-utils,targetcli-fb,libiscsi-bin,\
liburing2,libisal2,libjansson4,libmicrohttpd12,libsystemd0,libssl3,librbd1,librados2,librdmacm1,\
libibverbs1,libfuse3-3,libasan8,libubsan1
INITIATOR_IQN=iqn.2026-11.org.tether:vm-guest
MIN_FREE_MB=3072

log() { printf '[vm %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }

# ------------------------------------------------------------------ host side
need_root() { [[ $(id -u) == 0 ]] || skip "not root (mmdebstrap, mke2fs -d and tap devices need root)"; }

host_deps() {
	local missing=() p
	for p in "${HOST_PKGS[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
	((${#missing[@]} == 0)) && return 0
	log "installing host packages: ${missing[*]}"
	if ! timeout 600 apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
		timeout 300 apt-get update -q >/dev/null 2>&1 || true
		timeout 900 apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
			skip "cannot install host packages: ${missing[*]}"
	fi
}

check_space() {
	mkdir -p "$TT_VM_DIR" || skip "cannot create $TT_VM_DIR"
	local free; free=$(df -Pm "$TT_VM_DIR" | awk 'NR==2{print $4}')
	((free >= MIN_FREE_MB)) || skip "only ${free} MiB free in $TT_VM_DIR (need $MIN_FREE_MB)"
}

# Sets KPKG, KVER, KDIR and KERNEL (what QEMU boots): the kernel package that
# linux-image-amd64 depends on, downloaded with apt-get download and extracted
# (never installed on the host).
kernel_fetch() {
	# shellcheck disable=SC2016 # an awk program
	local q='/Depends: linux-image-[0-9]/{print $2; exit}'
	# apt-cache is slow on a busy host: reuse the answer until the lists change
	local memo=$TT_VM_DIR/kernel.pkg
	KPKG=
	if [[ -s $memo ]] && [[ -z $(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -newer "$memo" 2>/dev/null) ]]; then
		KPKG=$(cat "$memo")
	fi
	[[ -n $KPKG ]] || KPKG=$(apt-cache depends linux-image-amd64 2>/dev/null | awk "$q")
	if [[ -z $KPKG ]]; then
		timeout 300 apt-get update -q >/dev/null 2>&1 || true
		KPKG=$(apt-cache depends linux-image-amd64 2>/dev/null | awk "$q")
	fi
	[[ -n $KPKG ]] || skip "no package archive: cannot resolve linux-image-amd64"
	echo "$KPKG" >"$memo"
	KVER=${KPKG#linux-image-}
	KDIR=$TT_VM_DIR/kernel-$KVER
	local vmlinuz=$KDIR/boot/vmlinuz-$KVER
	if [[ ! -f $KDIR/.done ]]; then
		log "downloading $KPKG"
		mkdir -p "$TT_VM_DIR/debs"
		rm -rf "$KDIR" "$TT_VM_DIR/debs/${KPKG}"_*.deb
		(cd "$TT_VM_DIR/debs" && timeout 900 apt-get download -q "$KPKG" >/dev/null 2>&1) ||
			skip "no package archive: apt-get download $KPKG failed"
		local deb
		deb=$(find "$TT_VM_DIR/debs" -name "${KPKG}_*.deb" | sort | tail -1)
		[[ -n $deb ]] || skip "apt-get download $KPKG left no .deb"
		mkdir -p "$KDIR"
		dpkg-deb -x "$deb" "$KDIR"
		rm -rf "${KDIR:?}/usr" "$deb"
		[[ -f $vmlinuz && -d $KDIR/lib/modules/$KVER ]] || die "unexpected layout in $deb"
		touch "$KDIR/.done"
	fi
	if [[ ! -f $KDIR/vmlinux && ! -f $KDIR/vmlinux.none ]]; then
		extract_vmlinux "$vmlinuz" "$KDIR/vmlinux" || {
			log "cannot extract vmlinux from $vmlinuz, booting the bzImage"
			touch "$KDIR/vmlinux.none"
		}
	fi
	KERNEL=$vmlinuz
	[[ -f $KDIR/vmlinux && $TT_VM_BOOT == pvh ]] && KERNEL=$KDIR/vmlinux
	return 0
}

# The bzImage's payload (xz) decompressed on the host: QEMU boots the ELF
# through its PVH entry, which saves the guest ~10 s of decompression under TCG.
extract_vmlinux() {
	local bz=$1 out=$2 setup off len
	setup=$(od -An -tu1 -j $((0x1f1)) -N1 "$bz" | tr -d ' ')
	read -r off len < <(od -An -tu4 -j $((0x248)) -N8 "$bz")
	off=$(((setup + 1) * 512 + off))
	# tail gets SIGPIPE once head has the payload: not an error
	{ tail -c +$((off + 1)) "$bz" | head -c "$len" || true; } | xz -dc --single-stream >"$out.tmp" 2>/dev/null || {
		rm -f "$out.tmp"
		return 1
	}
	[[ $(head -c 4 "$out.tmp" | od -An -tx1 | tr -d ' ') == 7f454c46 ]] || {
		rm -f "$out.tmp"
		return 1
	}
	mv "$out.tmp" "$out"
}

# ------------------------------------------------------------------ guest PID 1
write_guest_init() {
	cat >"$1" <<'GUESTINIT'
#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# PID 1 of the tether test guest: no systemd, no udev.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=${TERM:-vt100} TT_VM_GUEST=1
mountpoint -q /proc || mount -t proc proc /proc
mountpoint -q /sys || mount -t sysfs sys /sys
mountpoint -q /dev || mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm /run /tmp /mnt/host /mnt/ctl
ln -sfn /proc/self/fd /dev/fd
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mkdir -p /run/lock /run/lock/iscsi
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mark() { echo "tt-init: $*" >/dev/kmsg; }
mark start
# no udev: load what uevents would have loaded
modprobe -a -q configfs virtio_net virtio_rng 9pnet_virtio 9p sd_mod sg
mark modules loaded
mount -t configfs configfs /sys/kernel/config 2>/dev/null
hostname tt-vm
arg() { tr ' ' '\n' </proc/cmdline | sed -n "s/^$1=//p" | tail -1; }
ip link set lo up
for _ in $(seq 100); do [ -e /sys/class/net/eth0 ] && break; sleep 0.1; done
if [ "$(arg tt.net)" = tap ]; then
	for i in 0 1; do
		a=$(arg "tt.ip$i")
		[ -n "$a" ] && [ -e "/sys/class/net/eth$i" ] || continue
		ip addr add "$a" dev "eth$i" && ip link set "eth$i" up
	done
else
	ip addr add 10.0.2.15/24 dev eth0 && ip link set eth0 up && ip route add default via 10.0.2.2
fi
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=none ttctl /mnt/ctl || echo "tt-init: 9p ctl mount failed"
mount -t 9p -o ro,trans=virtio,version=9p2000.L,msize=512000,cache=none tthost /mnt/host || echo "tt-init: 9p host mount failed"
mark up
echo "TT-VM-UP uptime=$(cut -d' ' -f1 /proc/uptime)s kernel=$(uname -r)"
if [ "$(arg tt.job)" = 1 ] && [ -f /mnt/ctl/cmd.sh ]; then
	cd /root
	mkfifo /run/job.out
	tee /mnt/ctl/out.log </run/job.out &
	tee_pid=$!
	bash /mnt/ctl/cmd.sh </dev/null >/run/job.out 2>&1
	echo $? >/mnt/ctl/rc
	mark "job done"
	# what the job left running holds tee's input open: end it (a process
	# stuck in D state may survive; then give up after 5 s)
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		read -r _ _ _ ppid _ 2>/dev/null <"/proc/$p/stat" || continue
		# not init, not tee, not kernel threads (kthreadd is 2)
		[ "$p" = 1 ] || [ "$p" = 2 ] || [ "$ppid" = 2 ] || [ "$p" = "$tee_pid" ] || kill -9 "$p" 2>/dev/null
	done
	for _ in $(seq 50); do [ -d "/proc/$tee_pid" ] || break; sleep 0.1; done
	mark "job reaped"
else
	echo "tt-init: interactive shell; 'poweroff' or Ctrl-D to stop"
	printf '#!/bin/sh\nsync; echo o >/proc/sysrq-trigger\n' >/run/poweroff
	chmod +x /run/poweroff
	ln -sf /run/poweroff /usr/local/sbin/poweroff
	setsid -c /bin/bash -l </dev/ttyS0 >/dev/ttyS0 2>&1
fi
sync
umount /mnt/ctl /mnt/host 2>/dev/null
echo o >/proc/sysrq-trigger
sleep 5
echo b >/proc/sysrq-trigger
GUESTINIT
	chmod 755 "$1"
}

# Baseline configuration baked into the image. Tests may rewrite it: the image
# is booted with snapshot=on, so nothing a guest does persists.
write_guest_config() {
	local r=$1
	echo "InitiatorName=$INITIATOR_IQN" >"$r/etc/iscsi/initiatorname.iscsi"
	# uid_attribute "": no udev, so multipath reads the WWID from sysfs (VPD 83h)
	cat >"$r/etc/multipath.conf" <<'EOF'
defaults {
	user_friendly_names yes
	find_multipaths no
	uid_attribute ""
}
EOF
	echo tt-vm >"$r/etc/hostname"
	echo "127.0.0.1 localhost tt-vm" >"$r/etc/hosts"
	sed -i 's/^root:[^:]*:/root::/' "$r/etc/shadow"
	rm -f "$r"/etc/apt/sources.list "$r"/etc/apt/sources.list.d/*
}

apt_sources() {
	local f
	for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[[ -s $f ]] && grep -qsE '^(URIs:|deb ).*debian' "$f" && echo "$f"
	done
	return 0
}

# Two cache levels: the root tree (mmdebstrap + kernel modules, slow, keyed by
# kernel and package list) and the image made from it (init + configuration,
# seconds, keyed by the tree and the functions that write them).
tree_spec() { { echo "$KVER $SUITE $GUEST_PKGS"; declare -f rootfs_tree; } | sha256sum | cut -c1-16; }
image_spec() {
	{ tree_spec; echo "$INITIATOR_IQN"; declare -f write_guest_init write_guest_config rootfs_image; } |
		sha256sum | cut -c1-16
}

# Sets ROOT: $TT_VM_DIR/rootfs, a Debian tree with the kernel's modules.
rootfs_tree() {
	local spec; spec=$(tree_spec)
	ROOT=$TT_VM_DIR/rootfs
	[[ -d $ROOT && $(cat "$ROOT.spec" 2>/dev/null) == "$spec" ]] && return 0
	local src=()
	mapfile -t src < <(apt_sources)
	((${#src[@]})) || skip "no Debian apt sources configured on the host"
	rm -rf "$ROOT" "$ROOT.tmp" "$ROOT.spec"
	log "mmdebstrap $SUITE -> $ROOT (${GUEST_PKGS//,/ })"
	if ! timeout 1500 mmdebstrap --variant=essential --include="$GUEST_PKGS" \
		--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
		--dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
		"$SUITE" "$ROOT.tmp" "${src[@]}" >"$TT_VM_DIR/mmdebstrap.log" 2>&1; then
		tail -15 "$TT_VM_DIR/mmdebstrap.log" >&2
		rm -rf "$ROOT.tmp"
		skip "mmdebstrap failed, no usable package archive? (log: $TT_VM_DIR/mmdebstrap.log)"
	fi
	log "adding kernel modules $KVER"
	mkdir -p "$ROOT.tmp/lib/modules"
	cp -a "$KDIR/lib/modules/$KVER" "$ROOT.tmp/lib/modules/"
	chroot "$ROOT.tmp" depmod -a "$KVER"
	mv "$ROOT.tmp" "$ROOT"
	echo "$spec" >"$ROOT.spec"
}

# Sets IMG: the ext4 image QEMU boots (with snapshot=on: never modified).
rootfs_image() {
	local spec; spec=$(image_spec)
	IMG=$TT_VM_DIR/root-$KVER.img
	[[ -f $IMG && $(cat "$IMG.spec" 2>/dev/null) == "$spec" ]] && return 0
	write_guest_init "$ROOT/sbin/tt-init"
	write_guest_config "$ROOT"
	local mb; mb=$(($(du -sm "$ROOT" | cut -f1) + 768))
	log "mke2fs ${mb} MiB image"
	# a new file, renamed over the old one: guests still running keep theirs
	rm -f "$IMG.tmp"
	mke2fs -q -t ext4 -L ttroot -O ^metadata_csum -E root_owner=0:0 -d "$ROOT" "$IMG.tmp" "${mb}M" >/dev/null
	mv "$IMG.tmp" "$IMG"
	echo "$spec" >"$IMG.spec"
}

# Sets INITRD: busybox + the modules needed to mount /dev/vda, then switch_root.
initrd_build() {
	INITRD=$TT_VM_DIR/initrd-$KVER.cpio.gz
	local spec; spec="$(cat "$ROOT.spec")-$(declare -f initrd_build | sha256sum | cut -c1-16)"
	[[ -f $INITRD && $(cat "$INITRD.spec" 2>/dev/null) == "$spec" ]] && return 0
	local r=$ROOT t=$TT_VM_DIR/initrd.tmp
	local m=$r/lib/modules/$KVER
	[[ -f $m/modules.dep ]] || die "root tree $r is missing; run: $0 clean; $0 build"
	rm -rf "$t"
	mkdir -p "$t"/{bin,dev,proc,sys,newroot,mods}
	cp "$r/usr/bin/busybox" "$t/bin/busybox"
	local lib
	for lib in $(chroot "$r" ldd /usr/bin/busybox | grep -o '/[^ ]*'); do
		mkdir -p "$t$(dirname "$lib")"
		cp -L "$r$lib" "$t$lib"
	done
	local -A seen=()
	local order=() mod path dep
	add_mod() {
		local p=$1 d
		[[ -n ${seen[$p]:-} ]] && return 0
		seen[$p]=1
		# shellcheck disable=SC2013 # module paths have no blanks
		for d in $(awk -v k="$p:" '$1 == k { for (i = 2; i <= NF; i++) print $i }' "$m/modules.dep"); do
			add_mod "$d"
		done
		order+=("$p")
	}
	for mod in virtio_pci virtio_blk ext4 crc32c_generic; do
		path=$(grep -m1 -oE "^[^:]*/${mod}\.ko(\.[a-z]+)?:" "$m/modules.dep" | tr -d :) || continue
		add_mod "$path"
	done
	: >"$t/mods/order"
	for dep in "${order[@]}"; do
		cp "$m/$dep" "$t/mods/"
		basename "$dep" >>"$t/mods/order"
	done
	cat >"$t/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /mods/order); do insmod "/mods/$m" 2>/dev/null; done
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if mount -t ext4 -o rw /dev/vda /newroot; then
	umount /proc /sys
	mount --move /dev /newroot/dev
	exec switch_root /newroot /sbin/tt-init
fi
echo "tt-initrd: cannot mount root"
exec sh
EOF
	chmod 755 "$t/init"
	(cd "$t" && find . | cpio -o -H newc --quiet | gzip -1) >"$INITRD.tmp"
	mv "$INITRD.tmp" "$INITRD"
	echo "$spec" >"$INITRD.spec"
	rm -rf "$t"
}

# The cache is shared by concurrent runs: building holds an exclusive lock.
build() {
	need_root
	check_space
	exec 9>"$TT_VM_DIR/.lock"
	flock 9
	host_deps
	kernel_fetch
	rootfs_tree
	rootfs_image
	initrd_build
	flock -u 9
	exec 9>&-
	log "guest ready: kernel $KVER, $IMG"
}

# ------------------------------------------------------------------ boot
QPID=
stop_qemu() { [[ -n $QPID ]] && kill "$QPID" 2>/dev/null; QPID=; }

# boot CTLDIR JOB(0|1): QEMU in the foreground (job) or on the terminal (shell)
boot() {
	local ctl=$1 job=$2 net=user
	local append="console=ttyS0 loglevel=$TT_VM_LOGLEVEL panic=-1 net.ifnames=0 mitigations=off cryptomgr.notests tt.job=$job"
	# shellcheck disable=SC2054 # commas belong to QEMU option values
	local q=(qemu-system-x86_64 -name tt-vm -m "$TT_VM_MEM" -smp "$TT_VM_SMP" -no-reboot -nodefaults
		-display none -accel tcg,thread=multi,tb-size=256 -cpu max
		-kernel "$KERNEL" -initrd "$INITRD"
		-drive "file=$IMG,if=virtio,format=raw,snapshot=on,cache=unsafe"
		-virtfs "local,path=$ctl,mount_tag=ttctl,security_model=none,id=ttctl"
		-virtfs "local,path=$TT_VM_SHARE,mount_tag=tthost,security_model=none,readonly=on,id=tthost"
		-device virtio-rng-pci)
	if [[ -n $TT_VM_TAPS ]]; then
		local taps ips i
		read -r -a taps <<<"$TT_VM_TAPS"
		read -r -a ips <<<"$TT_VM_IPS"
		net=tap
		for i in "${!taps[@]}"; do
			q+=(-netdev "tap,id=n$i,ifname=${taps[$i]},script=no,downscript=no"
				-device "virtio-net-pci,netdev=n$i,mac=52:54:00:77:0$((i + 1)):02")
			append+=" tt.ip$i=${ips[$i]:-}"
		done
	else
		# shellcheck disable=SC2054
		q+=(-netdev user,id=n0 -device virtio-net-pci,netdev=n0)
	fi
	if [[ -n $TT_VM_SOCKNET ]]; then
		# shellcheck disable=SC2054
		q+=(-netdev "socket,id=ns,$TT_VM_SOCKNET" -device "virtio-net-pci,netdev=ns,mac=52:54:00:78:00:$TT_VM_SOCKMAC")
	fi
	if [[ -n $TT_VM_LINKDIR ]]; then
		mkdir -p "$TT_VM_LINKDIR"
		q+=(-virtfs "local,path=$TT_VM_LINKDIR,mount_tag=ttlink,security_model=none,id=ttlink")
	fi
	append+=" tt.net=$net"
	q+=(-append "$append")
	log "booting (tcg, ${TT_VM_MEM} MiB, ${TT_VM_SMP} cpu, net=$net)"
	if ((job)); then
		trap stop_qemu EXIT
		trap 'stop_qemu; exit 143' TERM INT HUP
		timeout "$TT_VM_TIMEOUT" "${q[@]}" -serial stdio </dev/null &
		QPID=$!
		local rc=0
		wait "$QPID" || rc=$?
		QPID=
		return "$rc"
	fi
	timeout --foreground "$TT_VM_TIMEOUT" "${q[@]}" -serial mon:stdio
}

ctl_dir() {
	if [[ -n $TT_VM_CTL ]]; then
		mkdir -p "$TT_VM_CTL"
		CTL=$TT_VM_CTL
		OWN_CTL=0
	else
		mkdir -p "$TT_VM_DIR/run"
		CTL=$(mktemp -d "$TT_VM_DIR/run/ctl.XXXXXX")
		OWN_CTL=1
	fi
	rm -f "$CTL/cmd.sh" "$CTL/rc" "$CTL/out.log"
}

run_in_guest() {
	ctl_dir
	printf '%s\n' "$1" >"$CTL/cmd.sh"
	local t0=$SECONDS rc=0
	boot "$CTL" 1 || rc=$?
	log "qemu exited (status $rc) after $((SECONDS - t0)) s"
	if [[ -f $CTL/rc ]]; then
		rc=$(cat "$CTL/rc")
	else
		log "the guest did not report a status (124 = timeout ${TT_VM_TIMEOUT}s)"
		((rc == 0)) && rc=99
	fi
	cp "$CTL/out.log" "$TT_VM_DIR/last-run.log" 2>/dev/null || true
	((OWN_CTL)) && rm -rf "$CTL"
	return "$rc"
}

# ------------------------------------------------------------------ check
# shellcheck disable=SC2016 # expanded in the guest
CHECK='
set -u
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
[ -r /mnt/host/tests/vm/guest.sh ] && ok "host share at /mnt/host" || bad "host share not mounted"
echo probe >/mnt/ctl/probe && ok "ctl share writable" || bad "ctl share not writable"
for m in iscsi_tcp dm_multipath dm_service_time dm_round_robin rdma_rxe ib_iser nvme_tcp nvme_rdma \
	nvmet nvmet_tcp nvmet_rdma null_blk; do
	modprobe "$m" && ok "modprobe $m" || bad "modprobe $m"
done
for c in iscsiadm iscsid multipath multipathd fio mkfs.ext4 sg_inq lsscsi nft dmsetup rdma \
	ibv_devinfo rping ibv_rc_pingpong targetcli iscsi-inq; do
	command -v "$c" >/dev/null && ok "$c present" || bad "$c missing"
done
grep -q "^InitiatorName=" /etc/iscsi/initiatorname.iscsi && ok "initiator name set" || bad "no initiator name"
[ -d /sys/kernel/config/nvmet ] && ok "configfs: nvmet" || bad "no /sys/kernel/config/nvmet"
# soft-RoCE on eth0, and RDMA loopback to the own address of the guest through it
IP=$(ip -4 -o addr show eth0 | awk "{ split(\$4, a, \"/\"); print a[1]; exit }")
if timeout 20 rdma link add rxe0 type rxe netdev eth0; then
	for _ in $(seq 100); do
		[ "$(cat /sys/class/infiniband/rxe0/ports/1/state 2>/dev/null)" = "4: ACTIVE" ] && break
		sleep 0.2
	done
fi
[ "$(cat /sys/class/infiniband/rxe0/ports/1/state 2>/dev/null)" = "4: ACTIVE" ] &&
	ok "rxe0 on eth0 ($IP): port ACTIVE" || bad "rxe0 did not come up"
timeout 60 rping -s -a "$IP" -C 10 >/tmp/rping-s.log 2>&1 &
sleep 1
if timeout 60 rping -c -a "$IP" -C 10 -v >/tmp/rping-c.log 2>&1 && [ "$(grep -c "ping data" /tmp/rping-c.log)" = 10 ]; then
	ok "rping -C 10 to $IP over rxe0"
else
	bad "rping"; tail -5 /tmp/rping-c.log /tmp/rping-s.log
fi
wait
timeout 60 ibv_rc_pingpong -d rxe0 -g 1 -n 100 >/tmp/pp-s.log 2>&1 &
sleep 1
if timeout 60 ibv_rc_pingpong -d rxe0 -g 1 -n 100 "$IP" >/tmp/pp-c.log 2>&1 && grep -q "100 iters" /tmp/pp-c.log; then
	ok "ibv_rc_pingpong over rxe0: $(grep iters /tmp/pp-c.log)"
else
	bad "ibv_rc_pingpong"; tail -5 /tmp/pp-c.log /tmp/pp-s.log
fi
wait
echo "uptime $(cut -d" " -f1 /proc/uptime)s"
exit $fail
'

check() {
	build
	run_in_guest "$CHECK" || {
		local rc=$?
		echo "guest check failed (status $rc)"
		exit 1
	}
	[[ $(cat "$TT_VM_DIR/last-run.log" 2>/dev/null) == *"ctl share writable"* ]] || die "no output from the guest"
	echo "guest check passed"
}

usage() { sed -n '3,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }

case ${1:-check} in
build) build ;;
run)
	[[ $# -ge 2 ]] || die "usage: $0 run 'CMDS'"
	build
	run_in_guest "$2"
	;;
shell)
	build
	ctl_dir
	boot "$CTL" 0
	((OWN_CTL)) && rm -rf "$CTL"
	;;
check) check ;;
clean)
	# only a folder this script made
	[[ ! -e $TT_VM_DIR || -f $TT_VM_DIR/kernel.pkg ]] || die "$TT_VM_DIR does not look like a guest cache"
	rm -rf "$TT_VM_DIR"
	;;
help | -h | --help) usage ;;
*)
	usage >&2
	exit 2
	;;
esac
