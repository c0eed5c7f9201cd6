# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# guest-iser-conformance.sh - guest side of iser_conformance.sh: libiscsi's iscsi-test-cu
# --dataloss over iser:// (libiscsi's own iSER initiator, soft-RoCE) against tetherd in the guest,
# and the same families over iscsi:// (TCP) to the same tetherd; the pass/fail set of each test
# must be the same over both transports. The logs stay in /mnt/ctl (cu-tcp.log, cu-iser.log).
#
# Variables: TT_VM_GUEST_BUILD (set by the host), TT_ICU_TESTS (comma-separated iscsi-test-cu
# test specifications; default below).

# shellcheck source=guest-lib.sh source-path=SCRIPTDIR
. /mnt/host/tests/vm/lib/guest-lib.sh

TESTS=${TT_ICU_TESTS:-ALL.Inquiry,ALL.TestUnitReady,ALL.ReadCapacity10,ALL.ReadCapacity16,ALL.Read10,ALL.Read16,ALL.Write10,ALL.Write16}
IQN=iqn.2026-11.org.tether:iser-cu
I1=iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-test
I2=iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-test-2
dmesg -n 1
IP=$(g_addr eth0)
[ -n "$IP" ] || g_die "eth0 has no address"
g_rxe_up eth0 rxe0
g_tetherd_start --target "$IQN" --portal "$IP:3260" --portal "iser://$IP:3260" --lun ram:64M --loops 2
iscsi-test-cu --help 2>&1 | head -40 >/mnt/ctl/cu-help.txt

# run SCHEME: iscsi-test-cu over SCHEME://, per-test results in /tmp/res.SCHEME ("SUITE.TEST RESULT")
run() {
	local s=$1 t0 rc=0 spec
	t0=$(g_now)
	for spec in ${TESTS//,/ }; do
		timeout 600 iscsi-test-cu --dataloss -i $I1 -I $I2 -t "$spec" "$s://$IP/$IQN/0" \
			>>"/mnt/ctl/cu-$s.log" 2>&1 || rc=$?
	done
	g_figure "cu_${s}_s" "$(g_since "$t0")"
	awk '/^Suite: / { suite = $2 } /Test: .*\.\.\./ {
		t = $0; sub(/.*Test: /, "", t); r = t; sub(/ \.\.\..*/, "", t); sub(/.*\.\.\./, "", r)
		print suite "." t, r }' "/mnt/ctl/cu-$s.log" | sort >"/tmp/res.$s"
	echo "$s: $(wc -l <"/tmp/res.$s") tests, $(grep -vc ' passed$' "/tmp/res.$s") not passed (last status $rc)"
	grep -v ' passed$' "/tmp/res.$s" | sed 's/^/  /'
}
run iscsi
run iser
[ -s /tmp/res.iscsi ] || g_bad "no test ran over TCP"
if [ "$(wc -l </tmp/res.iser)" -lt "$(wc -l </tmp/res.iscsi)" ]; then
	g_bad "fewer tests ran over iSER ($(wc -l </tmp/res.iser)) than over TCP ($(wc -l </tmp/res.iscsi))"
fi
if diff /tmp/res.iscsi /tmp/res.iser >/tmp/res.diff; then
	g_ok "iscsi-test-cu: the same results over iser:// as over iscsi:// ($(wc -l </tmp/res.iser) tests)"
else
	cat /tmp/res.diff
	g_bad "iscsi-test-cu results differ between iscsi:// and iser://"
fi
rc=0
g_tetherd_stop TERM || rc=$?
if [ "$rc" = 0 ]; then g_ok "tetherd exited with status 0"; else g_bad "tetherd exit status $rc"; fi
g_tetherd_log_check && g_ok "no sanitizer report"
g_end
