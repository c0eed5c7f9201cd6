# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# guest-nvme-resv.sh - guest side of nvme_resv.sh: one LUN through nvme_tcp (namespace 1) and
# open-iscsi (sdX); NVMe reservations seen, refused and preempted across the two fabrics.

# shellcheck source=guest-lib.sh source-path=SCRIPTDIR
. /mnt/host/tests/vm/lib/guest-lib.sh

NQN=nqn.2026-11.org.tether:default
KEY_N=0xc1   # the NVMe host's key
KEY_I=0xd1   # the iSCSI initiator's key
OFF_N=64     # MiB: written through NVMe, read through iSCSI
OFF_I=80     # MiB: written through iSCSI, read through NVMe

dmesg -n 1
modprobe nvme_tcp || g_die "modprobe nvme_tcp"
mkdir -p /etc/nvme
[ -s /etc/nvme/hostnqn ] || nvme gen-hostnqn >/etc/nvme/hostnqn
[ -s /etc/nvme/hostid ] || cat /proc/sys/kernel/random/uuid >/etc/nvme/hostid
HOSTID=$(tr -d -- '-\n' </etc/nvme/hostid)

resv_diag() {
	echo "--- nvme resv-report"
	nvme resv-report "/dev/$NS" -n 1 --eds -o json 2>&1 | head -40
	echo "--- sg_persist -k -r"
	sg_persist --in -k "/dev/$SD" 2>&1 | tail -4
	sg_persist --in -r "/dev/$SD" 2>&1 | tail -3
	echo "--- dmesg (last 20 lines)"
	dmesg | tail -20
}

# ---- both fabrics
timeout 60 nvme connect -t tcp -a "$PORTAL_A" -s 4420 -n "$NQN" || g_die "nvme connect failed"
NS=$(g_nvme_ns "$NQN") || g_die "no namespace device after nvme connect"
CTRL=$(basename "$(ls -d /sys/class/nvme-subsystem/*/nvme[0-9]* | grep -v 'n[0-9]*$' | head -1)")
g_iscsi_start
out=$(g_discover "$PORTAL_A") || g_die "SendTargets failed: $out"
IQN=$(echo "$out" | awk '{ print $2; exit }')
g_login "$IQN" "$PORTAL_A" || g_die "iSCSI login to $IQN failed"
SD=$(g_disk "$IQN" "$PORTAL_A") || g_die "no disk attached to the iSCSI session"
g_ok "namespace 1 is /dev/$NS ($CTRL), the LUN over iSCSI is /dev/$SD, host ID $HOSTID"

# sgp ARGS...: sg_persist, once more after a unit attention
sgp() { sg_persist "$@" 2>&1 || sg_persist "$@" 2>&1; }
# wr DEV MIB FILE / rd DEV MIB: 1 MiB direct write / read at MIB
wr() { dd if="$3" of="/dev/$1" bs=1M seek="$2" count=1 oflag=direct conv=notrunc 2>&1; }
rd() { dd if="/dev/$1" bs=1M skip="$2" count=1 iflag=direct 2>/dev/null; }
# conflict DD_OUTPUT: the write failed with the block layer's reservation conflict (EBADE)
conflict() { grep -q "Invalid exchange" <<<"$1"; }
# report FIELD...: fields of nvme resv-report --eds -o json, decoded by python3:
# gen rtype regctl, then one "hostid rkey rcsts" line per registrant
report() {
	nvme resv-report "/dev/$NS" -n 1 --eds -o json 2>/tmp/report.err >/tmp/report.json ||
		{ cat /tmp/report.err; return 1; }
	python3 - /tmp/report.json <<'PY'
import json, re, sys
r = json.load(open(sys.argv[1]))
print(r.get("gen"), r.get("rtype"), r.get("regctl"))
for e in r.get("regctlext", r.get("regctl_eds", [])):
    h = e.get("hostid")
    h = ("%032x" % h) if isinstance(h, int) else re.sub("[^0-9a-f]", "", str(h).lower())
    print(h, "%#x" % int(e.get("rkey")), e.get("rcsts"))
PY
}

out=$(nvme id-ctrl "/dev/$CTRL" -o json 2>&1) || g_die "nvme id-ctrl: $out"
oncs=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["oncs"])' <<<"$out")
(((oncs & 0x20) != 0)) && g_ok "id-ctrl ONCS $oncs: reservations" || g_bad "id-ctrl ONCS $oncs lacks reservations"
out=$(nvme id-ns "/dev/$NS" -o json 2>&1) || g_die "nvme id-ns: $out"
rescap=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["rescap"])' <<<"$out")
(((rescap & 0xfe) == 0xfe)) && g_ok "id-ns RESCAP $rescap: every type, IEKEY" || g_bad "id-ns RESCAP $rescap"

# ---- one medium
head -c 1M /dev/urandom >/tmp/a
wr "$NS" "$OFF_N" /tmp/a >/dev/null || g_die "direct write to /dev/$NS"
if rd "$SD" "$OFF_N" | cmp -s - /tmp/a; then g_ok "what NVMe wrote reads back through iSCSI"
else g_bad "the data written through NVMe differs through iSCSI"; fi

# ---- the NVMe host registers and takes Write Exclusive
nvme resv-register "/dev/$NS" -n 1 --nrkey=$KEY_N --rrega=0 || g_die "nvme resv-register"
nvme resv-acquire "/dev/$NS" -n 1 --crkey=$KEY_N --rtype=1 --racqa=0 || g_die "nvme resv-acquire"
rep=$(report) || g_die "nvme resv-report: $rep"
echo "$rep" | sed 's/^/  /'
if [ "$(sed -n 1p <<<"$rep" | cut -d' ' -f2-)" = "1 1" ]; then g_ok "resv-report: Write Exclusive, one registrant"
else g_bad "resv-report header: $(sed -n 1p <<<"$rep")"; fi
if [ "$(sed -n 2p <<<"$rep")" = "$HOSTID $KEY_N 1" ]; then g_ok "resv-report: this host ($HOSTID) holds it with key $KEY_N"
else g_bad "resv-report registrant: '$(sed -n 2p <<<"$rep")', expected '$HOSTID $KEY_N 1'"; fi
out=$(sgp --in -k "/dev/$SD")
echo "$out" | tail -3 | sed 's/^/  /'
grep -qx " *$KEY_N" <<<"$out" && g_ok "sg_persist -k lists the NVMe key $KEY_N" || g_bad "sg_persist -k: no $KEY_N"
out=$(sgp --in -r "/dev/$SD")
echo "$out" | tail -2 | sed 's/^/  /'
if grep -q "Key=$KEY_N" <<<"$out" && grep -q "type: Write Exclusive *$" <<<"$out"; then
	g_ok "sg_persist -r: Write Exclusive held by key $KEY_N"
else g_bad "sg_persist -r does not show the NVMe reservation"; fi
# READ FULL STATUS by hand: the TransportID of the NVMe host (protocol Fh, its host ID)
tid=$(sg_raw -r 1024 -o /tmp/fs.bin "/dev/$SD" 5e 03 00 00 00 00 00 04 00 00 >/dev/null 2>&1 &&
	python3 - <<'PY'
d = open("/tmp/fs.bin", "rb").read()
n = int.from_bytes(d[4:8], "big")
off = 8
while off < 8 + n:
    tl = int.from_bytes(d[off + 20:off + 24], "big")
    t = d[off + 24:off + 24 + tl]
    print("%#x %d %02x %s" % (int.from_bytes(d[off:off + 8], "big"), d[off + 12] & 1, t[0],
                              t[8:24].hex()))
    off += 24 + tl
PY
) || tid="(sg_raw failed)"
echo "  READ FULL STATUS: $tid"
[ "$tid" = "$KEY_N 1 0f $HOSTID" ] && g_ok "READ FULL STATUS: TransportID 0fh with the host ID" ||
	g_bad "READ FULL STATUS: '$tid', expected '$KEY_N 1 0f $HOSTID'"

# ---- iSCSI under the NVMe host's Write Exclusive
head -c 1M /dev/urandom >/tmp/b
if out=$(wr "$SD" "$OFF_I" /tmp/b); then g_bad "a direct write to /dev/$SD succeeded under the NVMe host's WE"
elif conflict "$out"; then g_ok "direct write to /dev/$SD refused: $(grep -m1 'dd:' <<<"$out")"
else g_bad "direct write to /dev/$SD failed, but not with a reservation conflict: $out"; fi
rd "$SD" "$OFF_N" | cmp -s - /tmp/a && g_ok "reads through iSCSI work" || g_bad "read through iSCSI"
wr "$NS" "$OFF_N" /tmp/a >/dev/null && g_ok "the holder writes through NVMe" || g_bad "the NVMe holder's write"

# ---- iSCSI registers and preempts
sgp --out --register --param-sark=$KEY_I "/dev/$SD" >/dev/null || g_bad "sg_persist --register"
if sgp --out --preempt --param-rk=$KEY_I --param-sark=$KEY_N --prout-type=1 "/dev/$SD" >/tmp/o; then
	g_ok "sg_persist --preempt of the NVMe host"
else cat /tmp/o; g_bad "sg_persist --preempt"; fi
if out=$(wr "$NS" "$OFF_N" /tmp/b); then g_bad "a direct write to /dev/$NS succeeded after the preemption"
elif conflict "$out"; then g_ok "direct write to /dev/$NS refused: $(grep -m1 'dd:' <<<"$out")"
else g_bad "direct write to /dev/$NS failed, but not with a reservation conflict: $out"; fi
rd "$NS" "$OFF_N" | cmp -s - /tmp/a && g_ok "reads through NVMe work, the refused write changed nothing" ||
	g_bad "read through NVMe after the preemption"
rep=$(report) || g_bad "nvme resv-report: $rep"
echo "$rep" | sed 's/^/  /'
if [ "$rep" = "$(sed -n 1p <<<"$rep" | cut -d' ' -f1) 1 1
$(printf '%032x' 0) $KEY_I 1" ]; then g_ok "resv-report: the iSCSI initiator holds WE (zero host ID, key $KEY_I)"
else g_bad "resv-report after the iSCSI preemption"; fi
out=$(nvme resv-notif-log "/dev/$CTRL" -o json 2>&1) || g_bad "nvme resv-notif-log: $out"
echo "  $out" | tr -s ' \n' ' '; echo
ntype=$(python3 -c 'import json,sys
d = {k.lower(): v for k, v in json.load(sys.stdin).items()}
print([v for k, v in d.items() if "type" in k][0], d.get("nsid"))' <<<"$out" 2>/dev/null) || ntype=
[ "$ntype" = "1 1" ] && g_ok "log page 80h: registration preempted, NSID 1" || g_bad "log page 80h: '$ntype'"
wr "$SD" "$OFF_I" /tmp/b >/dev/null && g_ok "the iSCSI holder writes" || g_bad "the iSCSI holder's write"

# ---- clear: both write, each reads the other
sgp --out --clear --param-rk=$KEY_I "/dev/$SD" >/dev/null && g_ok "sg_persist --clear" || g_bad "sg_persist --clear"
rep=$(report) || g_bad "nvme resv-report: $rep"
[ "$(sed -n 1p <<<"$rep" | cut -d' ' -f2-)" = "0 0" ] && g_ok "resv-report: nothing left" || g_bad "resv-report after clear: $rep"
head -c 1M /dev/urandom >/tmp/c
wr "$NS" "$OFF_N" /tmp/c >/dev/null && g_ok "NVMe writes after clear" || g_bad "NVMe write after clear"
wr "$SD" "$OFF_I" /tmp/b >/dev/null && g_ok "iSCSI writes after clear" || g_bad "iSCSI write after clear"
rd "$SD" "$OFF_N" | cmp -s - /tmp/c && g_ok "iSCSI reads what NVMe wrote" || g_bad "iSCSI read of the NVMe write"
rd "$NS" "$OFF_I" | cmp -s - /tmp/b && g_ok "NVMe reads what iSCSI wrote" || g_bad "NVMe read of the iSCSI write"

# ---- the kernel's block-layer PR ioctls (pr_ops of the NVMe namespace; Linux asks CPTPL 3)
# pr OP ARGS...: IOC_PR_<OP> on /dev/$NS through ctypes (a positive result is an NVMe status)
pr() {
	python3 - "/dev/$NS" "$@" <<'PY'
import ctypes, os, struct, sys
dev, op, args = sys.argv[1], sys.argv[2], [int(x, 0) for x in sys.argv[3:]]
code, fmt = {"register": (0x401870C8, "<QQII"), "reserve": (0x401070C9, "<QII"),
             "release": (0x401070CA, "<QII"), "clear": (0x401070CD, "<QII")}[op]
vals = args + [0] * (len(fmt) - 1 - len(args))
libc = ctypes.CDLL(None, use_errno=True)
fd = os.open(dev, os.O_RDWR)
r = libc.ioctl(fd, ctypes.c_ulong(code), ctypes.create_string_buffer(struct.pack(fmt, *vals)))
if r:
    sys.exit("IOC_PR_%s: %s" % (op.upper(), os.strerror(ctypes.get_errno()) if r < 0 else
                                "NVMe status %#x" % r))
PY
}
KEY_K=0xe1
out=$(pr register 0 $KEY_K 2>&1) && g_ok "IOC_PR_REGISTER $KEY_K" || g_bad "IOC_PR_REGISTER: $out"
out=$(pr reserve $KEY_K 1 2>&1) && g_ok "IOC_PR_RESERVE Write Exclusive" || g_bad "IOC_PR_RESERVE: $out"
out=$(sgp --in -r "/dev/$SD")
if grep -q "Key=$KEY_K" <<<"$out" && grep -q "type: Write Exclusive *$" <<<"$out"; then
	g_ok "sg_persist -r: the kernel's reservation (key $KEY_K, Write Exclusive)"
else g_bad "sg_persist -r after IOC_PR_RESERVE: $out"; fi
ptpls=$(nvme resv-report "/dev/$NS" -n 1 --eds -o json 2>/dev/null |
	python3 -c 'import json, sys; print(json.load(sys.stdin).get("ptpls"))' 2>/dev/null) || ptpls=
[ "$ptpls" = 1 ] && g_ok "resv-report PTPLS 1 (the kernel registered with CPTPL 3)" || g_bad "resv-report PTPLS '$ptpls'"
if out=$(wr "$SD" "$OFF_I" /tmp/c); then g_bad "a direct write to /dev/$SD succeeded under the kernel's WE"
elif conflict "$out"; then g_ok "direct write to /dev/$SD refused under the kernel's reservation"
else g_bad "direct write to /dev/$SD failed, but not with a reservation conflict: $out"; fi
wr "$NS" "$OFF_N" /tmp/c >/dev/null && g_ok "the holder writes through NVMe" || g_bad "the holder's write"
out=$(pr clear $KEY_K 2>&1) && g_ok "IOC_PR_CLEAR" || g_bad "IOC_PR_CLEAR: $out"
rep=$(report) || g_bad "nvme resv-report: $rep"
[ "$(sed -n 1p <<<"$rep" | cut -d' ' -f2-)" = "0 0" ] && g_ok "resv-report: nothing left" || g_bad "resv-report after IOC_PR_CLEAR: $rep"

nvme disconnect -n "$NQN" >/dev/null || g_bad "nvme disconnect"
g_logout "$IQN" "$PORTAL_A" || g_bad "iSCSI logout"
[ "$G_FAILS" = 0 ] || resv_diag
g_end
