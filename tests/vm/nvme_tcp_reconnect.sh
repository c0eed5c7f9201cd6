#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# nvme_tcp_reconnect.sh - the lifecycle of an NVMe/TCP controller of tetherd against the Linux
# kernel host (nvme_tcp in the QEMU guest), tetherd on the host with a file-backed LUN:
#  1. tetherd killed with SIGKILL and started again under fio (random writes, crc32c verify
#     backlog): the host, connected with --ctrl-loss-tmo 120, reconnects and fio ends with no
#     error and no verify mismatch; all the data verifies afterwards.
#  2. a silent host: its path cut with nft on the host side (no FIN, no RST): tetherd must end
#     the controller by its keep-alive timeout (KATO 5 s) within KATO + 5 s of the cut (its log
#     against the host's action log); after the restore the host reconnects and reads its data.
# Exit 0 pass, 77 skip (reason printed), else fail.
set -euo pipefail

# shellcheck source=lib/host-lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib/host-lib.sh"

[[ $TT_VM_TARGET == tetherd ]] || vm_skip "NVMe/TCP is served by tetherd only (TT_VM_TARGET=$TT_VM_TARGET)"
KATO=5
MARGIN=5
TT_VM_TETHERD_ARGS="--portal nvme-tcp://${VM_PORTALS[0]}:4420 --state-dir none ${TT_VM_TETHERD_ARGS}"
# a file: what tetherd acknowledged survives its SIGKILL (page cache), as on a real disk
VM_LUN_SPEC="file:@RUN@/lun0.img,size=${TT_VM_LUN_MB}M,create"
vm_prepare
rc=0
vm_guest guest-nvme-tcp-reconnect.sh KATO=$KATO || rc=$?

# ---- the keep-alive timeout, from the host's records
fails=0
echo "--- host actions"
cat "$VM_RUN/actions.log" 2>/dev/null || true
cut_t=$(awk -v a="${VM_PORTALS[0]}" '$2 == "cut" && $3 == a { print $1; exit }' "$VM_RUN/actions.log" 2>/dev/null || true)
ka=$(grep -E '^[0-9]+\.[0-9]+ .*no Keep Alive for' "$VM_RUN/target.log" || true)
echo "--- tetherd keep-alive log"
echo "${ka:-(none)}"
if [[ -z $cut_t ]]; then
	echo "FAIL: the guest never asked for the cut"
	fails=$((fails + 1))
else
	ka_t=$(awk -v c="$cut_t" '$1 >= c { print $1; exit }' <<<"$ka")
	if [[ -z $ka_t ]]; then
		echo "FAIL: tetherd did not end the silent host's controller by its keep-alive timeout"
		fails=$((fails + 1))
	else
		dt=$(awk -v a="$cut_t" -v b="$ka_t" 'BEGIN { printf "%.2f", b - a }')
		echo "FIGURE kato_controller_ended_after_cut_s=$dt"
		if awk -v d="$dt" -v m=$((KATO + MARGIN)) 'BEGIN { exit !(d > 0 && d <= m) }'; then
			echo "ok: controller ended by keep-alive timeout ${dt} s after the cut (KATO ${KATO} s, limit $((KATO + MARGIN)) s)"
		else
			echo "FAIL: controller ended ${dt} s after the cut (KATO ${KATO} s, limit $((KATO + MARGIN)) s)"
			fails=$((fails + 1))
		fi
		if grep -q "no Keep Alive for $((KATO * 1000)) ms" <<<"$ka"; then echo "ok: KATO ${KATO}000 ms in force"
		else
			echo "FAIL: the ended controller's KATO is not $((KATO * 1000)) ms"
			fails=$((fails + 1))
		fi
	fi
fi
# one kill, one start: the second tetherd ran to the end of the test
if grep -q ' kill$' "$VM_RUN/actions.log" && grep -q ' start$' "$VM_RUN/actions.log"; then
	echo "ok: tetherd was killed and started again"
else
	echo "FAIL: no kill/start"
	fails=$((fails + 1))
fi
if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$VM_RUN/target.log"; then
	echo "FAIL: sanitizer report in tetherd's log"
	fails=$((fails + 1))
fi
((rc == 0 && fails == 0)) || exit 1
echo "nvme_tcp_reconnect: all checks passed"
