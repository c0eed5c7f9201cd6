#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# malformed_pdus.sh - tetherd against PDUs built by hand (tests/tools/malformed.py): garbage
# instead of a login, an unsupported version, PDUs before login, failed logins (0x0203,
# 0x0207), an unknown opcode (Reject 04h/05h with the header), a data segment above
# MaxRecvDataSegmentLength, data without the W bit, Data-Out for no task, Data-Out sequences
# that break the rules (DataSN gap or repeat: the command fails; offsets out of order, data past
# the transfer length, unsolicited data ending early: a response, the right data or a failure,
# nothing written outside the command's blocks), SCSI errors (sense 5/21h, 5/20h),
# connections cut inside a PDU, and 1,000 random PDUs. After every case a
# fresh iscsi-inq must work and tetherd must still run; at the end it must stop cleanly.
#
# Exit: 0 pass, 77 skip (reason printed), 1 fail.
# Environment: TT_BUILD, TT_TOP (see tests/lib/common.sh); TT_SEED: the fuzzing seed.

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
	data-without-w dataout-unknown-itt dataout-errors scsi-errors truncated fuzz; do
	step "$c"
	if ! tt_pdu malformed.py --port "$P" --seed "$SEED" --opt login_timeout=$LOGIN_TIMEOUT "$c"; then
		failed+=("$c")
	fi
	tt_alive main "case $c"
	tt_inq_ok "$P" "case $c"
	ok "tetherd alive, a fresh iscsi-inq works"
done

[ ${#failed[@]} = 0 ] || fail "cases failed: ${failed[*]}"
step "stop"
tt_stop main
echo "PASS"
