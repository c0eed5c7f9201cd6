#!/usr/bin/env bash
# Installs the Debian packages tether needs to build, run and test. Idempotent: only missing
# packages are installed. Usage: scripts/deps.sh [build|run|check|fuzz]
set -euo pipefail
what=${1:-check}
build=(build-essential meson ninja-build pkg-config liburing-dev libisal-dev libjansson-dev
       libssl-dev libcmocka-dev libsystemd-dev scdoc libmicrohttpd-dev libfuse3-dev
       nbdkit-plugin-dev librbd-dev librados-dev)
run=(libiscsi-bin fuse3 nbdkit)
# tgt-rbd: the rbd backstore of tgtd, the peer of bench/rbd.sh
check=(libiscsi-bin qemu-utils qemu-block-extra tgt tgt-rbd nftables iproute2 python3 procps psmisc
       man-db fuse3 nbdkit e2fsprogs util-linux uuid-runtime ceph-mon ceph-osd ceph-common)
# the fuzz harnesses (tests/fuzz): clang and its libFuzzer runtime (libclang_rt.fuzzer)
fuzz=(clang libclang-rt-14-dev)
pkgs=("${build[@]}")
case $what in
	build) ;;
	run) pkgs+=("${run[@]}") ;;
	check) pkgs+=("${check[@]}") ;;
	fuzz) pkgs=("${fuzz[@]}") ;;
	*) echo "usage: $0 [build|run|check|fuzz]" >&2; exit 2 ;;
esac
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || {
	$sudo apt-get update >/dev/null
	$sudo apt-get install -y --no-install-recommends "${missing[@]}"
}
