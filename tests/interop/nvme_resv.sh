#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# nvme_resv.sh - NVMe reservations of tetherd over real sockets, against the Python NVMe/TCP host
# (tests/tools/nvme_tcp.py) and, for the state shared with SCSI, an iSCSI initiator
# (tests/tools/resv_xfabric.py); one LUN served as iSCSI LUN 0 and NVMe namespace 1:
#   resv            ONCS and RESCAP; Register / Replace / Unregister with right and wrong keys,
#                   IEKEY; Reservation Report (EDS=0 refused, host IDs, keys, holders, GEN,
#                   truncation); Acquire, Preempt, Preempt and Abort, Release, Clear for each of
#                   the six types, with the reads and writes each host may or may not do; the
#                   Reservation Notification log page and its Async Event, two notices queued,
#                   the notification mask; a second controller of one host shares its
#                   registration, which outlives all the host's controllers
#   resv-stress     six hosts at once for 2 s, random reservation commands and I/O: only
#                   statuses these commands may have, a consistent report after
#   resv-zero-hostid two hosts with host ID 0 (not specified) never share one registration
#   resv-preempt    Preempt of a registrant that does not hold, of a key nobody has, and of all
#                   registrants under an All Registrants reservation
#   resv-bad        wrong data lengths, reserved action values, missing namespaces, random
#                   fields: statuses as specified, nothing changed, tetherd still serving;
#                   300 notices never read: a bounded queue, the newest kept, counts that tell
#   xfabric         the NVMe host's key and reservation seen from iSCSI (READ KEYS, READ
#                   RESERVATION, READ FULL STATUS with its host ID), the types mapped, iSCSI
#                   writes refused, PREEMPT and CLEAR from iSCSI told to the NVMe host, data
#                   written on one fabric read back on the other
#   xfabric-spec-i-pt, xfabric-move
#                   iSCSI SPEC_I_PT and REGISTER AND MOVE naming NVMe hosts by TransportID:
#                   refused, or registrations (and a reservation) the NVMe hosts can use
#   resv-two-ns     two LUNs, NSIDs 1 and 2: a reservation, its conflicts and notices stay on
#                   their namespace
#   configuration   a subsystem of the file: resv on a namespace with a backend of its own,
#                   xfabric on a namespace over the LUN of an iSCSI target
#   PTPL            with a state directory: RESCAP PTPL, Register with CPTPL 3, and after a
#                   restart of tetherd the registration (by host ID) and the reservation are back;
#                   unregistered with CPTPL 2, a second restart restores nothing
# Each case runs on a fresh tetherd, which must still serve after it and stop cleanly.
#
# Exit: 0 pass, 77 skip (reason printed), 1 fail.
# Environment: TT_BUILD, TT_TOP (see tests/lib/common.sh); TT_SEED: the seed of resv-bad and resv-stress.

# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"

tt_setup nvme-resv
tt_need "$TT_PYTHON"

tt_free_port P
tt_free_port N
tt_free_port N2
ARGS=(--portal "127.0.0.1:$P" --portal "nvme-tcp://127.0.0.1:$N" --portal "nvme-tcp://127.0.0.1:$N2"
	--lun ram:64M --state-dir none)
SEED=${TT_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
echo "    seed $SEED (TT_SEED=$SEED reproduces resv-bad, resv-stress)"
nvme() { timeout -k 5 60 "$TT_PYTHON" "$TT_TOOLS/nvme_tcp.py" --port "$N" --seed "$SEED" "$@"; }

failed=()
# each case on a fresh tetherd: a case that fails half-way leaves registrations behind
for c in resv resv-preempt resv-bad resv-stress resv-zero-hostid xfabric xfabric-spec-i-pt \
	xfabric-move; do
	step "$c"
	tt_start main "${ARGS[@]}"
	passed=1
	case $c in
	xfabric*) tt_pdu resv_xfabric.py --port "$P" --opt "nvme=$N" "$c" || passed=0 ;;
	*) nvme --port2 "$N2" "$c" || passed=0 ;;
	esac
	((passed)) || failed+=("$c")
	if ! msg=$(tt_running main "case $c"); then
		echo "FAIL: $msg"
		failed+=("$c (tetherd died)")
		continue
	fi
	# (a case that failed half-way may leave a reservation that refuses the writes of io)
	if ((passed)); then nvme io >/dev/null || failed+=("$c (no working session afterwards)"); fi
	tt_alive main "case $c"
	tt_stop main
done

step "two namespaces: a reservation stays on its own"
tt_start two "${ARGS[@]}" --lun ram:16M
nvme resv-two-ns || failed+=(resv-two-ns)
tt_alive two "resv-two-ns"
tt_stop two

step "a configuration file: a namespace over an iSCSI LUN, a namespace with a backend of its own"
DISKS=iqn.2026-11.org.tether:disks
DB=nqn.2026-11.org.tether:db
cat >"$TT_WORK/tetherd.json" <<EOF
{
  "targets": [{ "name": "$DISKS", "tpgs": [{ "tag": 1, "portals": ["127.0.0.1:$P"] }],
                "luns": [{ "id": 0, "backend": "ram:32M" }] }],
  "nvmf": {
    "ports": [{ "address": "nvme-tcp://127.0.0.1:$N" }, { "address": "nvme-tcp://127.0.0.1:$N2" }],
    "subsystems": [{ "nqn": "$DB",
                     "namespaces": [{ "nsid": 1, "backend": "ram:32M" },
                                    { "nsid": 2, "lun": { "target": "$DISKS", "id": 0 } }] }]
  }
}
EOF
TT_WAIT_PORTS="$P $N $N2" tt_start conf --config "$TT_WORK/tetherd.json" --state-dir none
nvme --nqn "$DB" --port2 "$N2" resv || failed+=("resv (namespace with a backend of its own)")
tt_pdu resv_xfabric.py --port "$P" --target "$DISKS" --opt "nvme=$N" --opt "nqn=$DB" \
	--opt nsid=2 xfabric || failed+=("xfabric (namespace 2 over $DISKS LUN 0)")
tt_alive conf "the configuration file's cases"
tt_stop conf

step "PTPL: a reservation of an NVMe host survives a restart"
STATE=$TT_WORK/state
PARGS=(--portal "127.0.0.1:$P" --portal "nvme-tcp://127.0.0.1:$N" --lun ram:16M
	--state-dir "$STATE")
tt_start ptpl "${PARGS[@]}"
if nvme --ptpl resv-ptpl-set; then
	[ -n "$(ls -A "$STATE" 2>/dev/null)" ] || failed+=("no state file after CPTPL 3")
	tt_stop ptpl
	tt_start ptpl "${PARGS[@]}"
	nvme --ptpl resv-ptpl-check || failed+=(resv-ptpl-check)
	tt_stop ptpl
	tt_start ptpl "${PARGS[@]}"
	nvme --ptpl resv-empty || failed+=("resv-empty after unregistering with CPTPL 2")
else
	failed+=(resv-ptpl-set)
fi
tt_alive ptpl "the PTPL cases"
tt_stop ptpl
((${#failed[@]} == 0)) || fail "cases failed: ${failed[*]}"
ok "NVMe reservations as specified, one state with iSCSI; tetherd kept serving"
