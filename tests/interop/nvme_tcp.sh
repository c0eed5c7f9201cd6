#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# nvme_tcp.sh - tetherd --portal nvme-tcp:// against a host written for the test
# (tests/tools/nvme_tcp.py) over real sockets: a whole session (ICReq, Connect, properties,
# Identify, writes in-capsule and with R2T, reads, Compare, Write Zeroes, Dataset Management,
# Flush, log pages), the same with header and data digests, the discovery log, keep-alive
# expiry; then malformed input: wrong header and PDU lengths, an unknown PDU type, a capsule
# before ICReq, bad header and data digests, H2CData out of range or for no transfer, more
# commands than a queue holds, connections cut inside a PDU, random and mutated PDUs. Each
# fatal case must end in a C2HTermReq naming the error and a closed connection; after every
# case a fresh session must work and tetherd must still run; at the end it must stop cleanly.
#
# Exit: 0 pass, 77 skip (reason printed), 1 fail.
# Environment: TT_BUILD, TT_TOP (see tests/lib/common.sh); TT_SEED: the fuzzing seed.

# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"

tt_setup nvme-tcp
tt_need "$TT_PYTHON"

tt_free_port P
tt_start main --portal "nvme-tcp://127.0.0.1:$P" --lun ram:64M
SEED=${TT_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
echo "    seed $SEED (TT_SEED=$SEED reproduces the fuzzing)"
nvme() { timeout -k 5 120 "$TT_PYTHON" "$TT_TOOLS/nvme_tcp.py" --port "$P" --seed "$SEED" "$@"; }

failed=()
step "io"
nvme io || failed+=(io)
step "io with header and data digests"
nvme --digests io || failed+=(io-digests)
for c in discovery kato bad-hlen bad-plen bad-type before-ic bad-hdgst bad-ddgst h2c-range \
	h2c-ttag overflow truncated fuzz; do
	step "$c"
	nvme "$c" || failed+=("$c")
	if ! msg=$(tt_running main "case $c"); then
		echo "FAIL: $msg"
		failed+=("$c (tetherd died)")
		tt_restart main --portal "nvme-tcp://127.0.0.1:$P" --lun ram:64M
		continue
	fi
	nvme io >/dev/null || failed+=("$c (no working session afterwards)")
done
tt_alive main "the malformed cases"
tt_stop main
((${#failed[@]} == 0)) || fail "cases failed: ${failed[*]}"
ok "every case answered as specified; tetherd kept serving"
