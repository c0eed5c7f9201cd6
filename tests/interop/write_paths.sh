#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# write_paths.sh - the write and read paths of tetherd, PDU by PDU (tests/tools/write_paths.py):
# 1 MiB WRITEs with immediate data, unsolicited Data-Out up to FirstBurstLength and Data-Out
# answering R2Ts, under various ImmediateData / InitialR2T / FirstBurstLength / MaxBurstLength
# (also lengths that are no multiple of 512), each read back and compared; every R2T is
# checked (offsets in order from the end of the unsolicited data, length <= MaxBurstLength,
# R2TSN, outstanding R2Ts <= MaxOutstandingR2T) and every Data-In (DataSN, offsets, length <=
# our MaxRecvDataSegmentLength, sequences <= MaxBurstLength).
# Then a portal group whose own limits are lower than the initiator's offers
# (MaxBurstLength 64 KiB, FirstBurstLength 16 KiB, MaxRecvDataSegmentLength 8 KiB,
# MaxOutstandingR2T 4): the target's limits win, and qemu-img (libiscsi) writes and
# compares 16 MiB under them.
#
# Exit: 0 pass, 77 skip (reason printed), 1 fail.
# Environment: TT_BUILD, TT_TOP (see tests/lib/common.sh).

# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
# shellcheck source=tests/lib/qemu_img.sh
. "$TT_LIB_DIR/qemu_img.sh"

tt_setup write-paths
tt_need "$TT_PYTHON"

tt_free_port P
tt_start main --portal "127.0.0.1:$P" --lun ram:64M
step "negotiated by the initiator"
tt_pdu write_paths.py --port "$P" imm-unsol-r2t imm-whole-first-burst unsol-no-imm r2t-only \
	imm-then-r2t small-bursts odd-bursts end-of-lun read-limits || fail "write_paths.py"
tt_alive main
tt_stop main

step "the target's own limits"
tt_free_port P2
cat >"$TT_WORK/tetherd.json" <<EOF
{
  "targets": [{
    "name": "$TT_IQN",
    "tpgs": [{
      "tag": 1,
      "portals": ["127.0.0.1:$P2"],
      "params": { "MaxBurstLength": 65536, "FirstBurstLength": 16384,
                  "MaxRecvDataSegmentLength": 8192, "MaxOutstandingR2T": 4,
                  "InitialR2T": false, "ImmediateData": true }
    }],
    "luns": [{ "id": 0, "backend": "ram:16M" }]
  }]
}
EOF
TT_WAIT_PORTS=$P2 tt_start limits --config "$TT_WORK/tetherd.json"
tt_pdu write_paths.py --port "$P2" --opt mb=65536 --opt fb=16384 --opt mrdsl=8192 --opt r2t=4 \
	target-limits || fail "write_paths.py target-limits"

if command -v qemu-img >/dev/null && qemu-img --help | grep -q '^Supported formats:.* iscsi'; then
	qi_random "$TT_WORK/data.img" 16
	qi_put "$TT_WORK/data.img" "$(tt_url "$P2" 0)"
	qi_same "$TT_WORK/data.img" "$(tt_url "$P2" 0)" "qemu-img compare under the target's limits"
else
	echo "    (qemu-img with iSCSI is not installed: its part is left out)"
fi
tt_alive limits
tt_stop limits
echo "PASS"
