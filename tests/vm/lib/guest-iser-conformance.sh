# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# guest-iser-conformance.sh - guest side of iser_conformance.sh: libiscsi's iscsi-test-cu
# --dataloss over iser:// (libiscsi's own iSER initiator, soft-RoCE) against tetherd in the guest,
# and the same families over iscsi:// (TCP) to the same tetherd; the pass/fail set of each test
# must be the same over both transports. The logs stay in /mnt/ctl (cu-tcp.log, cu-iser.log).
#
# With TT_ICU_REF=lio the same families run again over iser:// and iscsi:// against the kernel's
# target (LIO with ib_isert, an rd_mcp ramdisk of the same size, written through configfs): a
# test that fails over iser:// against both targets but passes over iscsi:// fails in libiscsi's
# iSER initiator, not in tetherd: then the check is that nothing passes against LIO and fails
# against tetherd over iser://.
#
# Variables: TT_VM_GUEST_BUILD (set by the host), TT_ICU_TESTS (comma-separated iscsi-test-cu
# test specifications; default below), TT_ICU_REF (lio: also run against LIO), TT_ICU_TIMEOUT
# (seconds per specification, 600: libiscsi's iSER initiator can spin until it crashes).

# shellcheck source=guest-lib.sh source-path=SCRIPTDIR
. /mnt/host/tests/vm/lib/guest-lib.sh

TESTS=${TT_ICU_TESTS:-ALL.Inquiry,ALL.TestUnitReady,ALL.ReadCapacity10,ALL.ReadCapacity16,ALL.Read10,ALL.Read16,ALL.Write10,ALL.Write16}
IQN=iqn.2026-11.org.tether:iser-cu
K_IQN=iqn.2026-11.org.tether:lio-iser-cu
I1=iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-test
I2=iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-test-2
dmesg -n 1
IP=$(g_addr eth0)
[ -n "$IP" ] || g_die "eth0 has no address"
g_rxe_up eth0 rxe0
g_tetherd_start --target "$IQN" --portal "$IP:3260" --portal "iser://$IP:3260" --lun ram:64M --loops 2
iscsi-test-cu --help 2>&1 | head -40 >/mnt/ctl/cu-help.txt

# run SCHEME [IQN PORT TAG]: iscsi-test-cu over SCHEME:// to IQN on PORT, per-test results in
# /tmp/res.SCHEME[TAG] ("SUITE.TEST RESULT"), its log in /mnt/ctl/cu-SCHEME[TAG].log
run() {
	local s=$1 iqn=${2:-$IQN} port=${3:-3260} tag=${4:-} t0 rc=0 spec
	t0=$(g_now)
	for spec in ${TESTS//,/ }; do
		timeout "${TT_ICU_TIMEOUT:-600}" iscsi-test-cu --dataloss -i $I1 -I $I2 -t "$spec" "$s://$IP:$port/$iqn/0" \
			>>"/mnt/ctl/cu-$s$tag.log" 2>&1 || rc=$?
	done
	g_figure "cu_${s}${tag}_s" "$(g_since "$t0")"
	awk '/^Suite: / { suite = $2 } /Test: .*\.\.\./ {
		t = $0; sub(/.*Test: /, "", t); r = t; sub(/ \.\.\..*/, "", t); sub(/.*\.\.\./, "", r)
		print suite "." t, r }' "/mnt/ctl/cu-$s$tag.log" | sort >"/tmp/res.$s$tag"
	echo "$s$tag: $(wc -l <"/tmp/res.$s$tag") tests, $(grep -vc ' passed$' "/tmp/res.$s$tag") not passed (last status $rc)"
	grep -v ' passed$' "/tmp/res.$s$tag" | sed 's/^/  /'
}
run iscsi
run iser
[ -s /tmp/res.iscsi ] || g_bad "no test ran over TCP"
if [ "${TT_ICU_REF:-}" = lio ]; then
	g_lio "$K_IQN" 64 "$IP:3261/iser" "$IP:3262"
	run iscsi "$K_IQN" 3262 -lio
	run iser "$K_IQN" 3261 -lio
	# over iser://, a test that does not pass against tetherd is ours only if it passes against
	# LIO (or ran there and not here); one that fails against both is libiscsi's
	join -a 2 -e missing -o 0,1.2,2.2 /tmp/res.iser /tmp/res.iser-lio >/tmp/res.both
	echo "--- over iser://, not passed against tetherd or LIO (test, tetherd, LIO)"
	awk '$2 != "passed" || $3 != "passed"' /tmp/res.both | sed 's/^/  /'
	ours=$(awk '$3 == "passed" && $2 != "passed"' /tmp/res.both | wc -l)
	theirs=$(awk '$3 != "passed" && $2 != "passed"' /tmp/res.both | wc -l)
	if [ "$ours" = 0 ]; then
		g_ok "iscsi-test-cu over iser://: nothing fails against tetherd that passes against LIO ($(wc -l </tmp/res.both) tests; $theirs fail against both)"
	else
		g_bad "iscsi-test-cu over iser://: $ours test(s) pass against LIO and not against tetherd"
	fi
else
	if [ "$(wc -l </tmp/res.iser)" -lt "$(wc -l </tmp/res.iscsi)" ]; then
		g_bad "fewer tests ran over iSER ($(wc -l </tmp/res.iser)) than over TCP ($(wc -l </tmp/res.iscsi))"
	fi
	if diff /tmp/res.iscsi /tmp/res.iser >/tmp/res.diff; then
		g_ok "iscsi-test-cu: the same results over iser:// as over iscsi:// ($(wc -l </tmp/res.iser) tests)"
	else
		cat /tmp/res.diff
		g_bad "iscsi-test-cu results differ between iscsi:// and iser://"
	fi
fi
rc=0
g_tetherd_stop TERM || rc=$?
if [ "$rc" = 0 ]; then g_ok "tetherd exited with status 0"; else g_bad "tetherd exit status $rc"; fi
g_tetherd_log_check && g_ok "no sanitizer report"
g_end
