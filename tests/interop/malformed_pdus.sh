#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# malformed_pdus.sh - tetherd against PDUs built by hand (tests/tools/malformed.py): garbage
# instead of a login, an unsupported version, PDUs before login, failed logins (0x0203,
# 0x0207), an unknown opcode (Reject 04h/05h with the header), a data segment above
# MaxRecvDataSegmentLength, data without the W bit, Text Requests with keys refused in full
# feature phase, SCSI commands whose R/W/F bits disagree with the rest, Data-Out for no task, Data-Out sequences
# that break the rules (DataSN gap or repeat: the command fails; offsets out of order, data past
# the transfer length, unsolicited data ending early: a response, the right data or a failure,
# nothing written outside the command's blocks), ABORT TASK and LUN RESET of a command held
# back by a CmdSN gap, SCSI errors (sense 5/21h, 5/20h), connections cut inside a PDU, and
# 1,000 PDUs (random, well-formed, mutated). After every case a fresh iscsi-inq must work and
# tetherd must still run; at the end it must stop cleanly. A connection closed with commands
# held back by a CmdSN gap runs on its own tetherd, which must then stop cleanly at once.
#
# Exit: 0 pass, 77 skip (reason printed), 1 fail.
# Environment: TT_BUILD, TT_TOP (see tests/lib/common.sh); TT_SEED: the fuzzing seed.

# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"

tt_setup malformed
tt_need "$TT_PYTHON" iscsi-inq

tt_free_port P
LOGIN_TIMEOUT=3
cat >"$TT_WORK/tetherd.json" <<EOF
{
  "targets": [{
    "name": "$TT_IQN",
    "tpgs": [{ "tag": 1, "portals": ["127.0.0.1:$P"], "login_timeout": $LOGIN_TIMEOUT }],
    "luns": [{ "id": 0, "backend": "ram:64M" }, { "id": 1, "backend": "ram:16M,bs=4096" }]
  }]
}
EOF
TT_WAIT_PORTS=$P tt_start main --config "$TT_WORK/tetherd.json"
tt_inq_ok "$P" "start"

SEED=${TT_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
echo "    seed $SEED (TT_SEED=$SEED reproduces the fuzzing)"

failed=()
for c in garbage version-min no-login-first login-errors unknown-opcode oversized-segment \
	data-without-w text-refused-key command-flags dataout-unknown-itt dataout-errors abort-queued scsi-errors truncated fuzz; do
	step "$c"
	if ! tt_pdu malformed.py --port "$P" --seed "$SEED" --opt login_timeout=$LOGIN_TIMEOUT "$c"; then
		failed+=("$c")
	fi
	if ! msg=$(tt_running main "case $c"); then
		# go on with the other cases on a new tetherd; the crash stays in the report
		echo "FAIL: $msg"
		failed+=("$c (tetherd died)")
		TT_WAIT_PORTS=$P tt_restart main --config "$TT_WORK/tetherd.json"
		continue
	fi
	if ! tt_capture 30 iscsi-inq "$(tt_url "$P" 0)" || ! [[ $OUT == *Vendor:TETHER* ]]; then
		echo "FAIL: a fresh iscsi-inq after case $c: $OUT"
		failed+=("$c (no fresh login afterwards)")
		continue
	fi
	ok "tetherd alive, a fresh iscsi-inq works"
done

step "held-back-close (its own tetherd, stopped right after)"
tt_free_port P2
tt_start held --portal "127.0.0.1:$P2" --lun ram:16M
tt_pdu malformed.py --port "$P2" held-back-close || failed+=(held-back-close)
tt_inq_ok "$P2" "case held-back-close"
# no connection is left: SIGTERM must end tetherd at once (12 s allowed)
tt_stop_check held 12 || failed+=("held-back-close (stop)")

step "stop"
tt_stop_check main 12 || failed+=("stop")
if [ ${#failed[@]} != 0 ]; then
	printf -v msg '\n    %s' "${failed[@]}"
	fail "failed:$msg"
fi
echo "PASS"
