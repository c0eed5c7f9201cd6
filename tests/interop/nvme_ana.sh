#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# nvme_ana.sh - NVMe-oF from a configuration file against the test host of tests/tools/nvme_tcp.py
# over real sockets: two subsystems (one with a backend of its own, one over an iSCSI LUN), each
# with a list of allowed hosts; two nvme-tcp ports in ANA groups 1 (optimized) and 2
# (inaccessible). `tetherctl ana set` moves the states several times: the host sees the ANA change
# notice on each path whose group changed, the ANA log pages and the I/O statuses follow. A host
# not in a subsystem's list is refused at Connect; `tetherctl apply` adds it (it connects) and
# takes it out again (refused); `tetherctl save` round-trips; bad files name the field and
# change nothing; tetherctl lists subsystems, controllers, ports (with per-port counters) and ANA
# groups. Ports at run time: `tetherctl port set` moves port 2 to group 1 and back under a
# connected host (the notice on that path only, log page, Identify Namespace and I/O follow);
# `tetherctl port remove` closes the host's queues through it (also an I/O queue of the other
# path's controller), the address refuses connections, port 1 serves on and the discovery log
# drops it; `tetherctl apply` adds it back, moves it to another group, removes it and adds it
# again. tetherd keeps running and stops cleanly.
#
# Exit: 0 pass, 77 skip (reason printed), 1 fail.
# Environment: TT_BUILD, TT_TOP (see tests/lib/common.sh).

# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"

tt_setup nvme-ana
tt_need "$TT_PYTHON"
CTL=$TT_BUILD/src/cmd/tetherctl
[ -x "$CTL" ] || skip "tetherctl is not built ($CTL)"

S1=nqn.2026-11.org.tether:ana-one
S2=nqn.2026-11.org.tether:ana-two
T=iqn.2026-11.org.tether:ana-luns
HOST=nqn.2014-08.org.nvmexpress:uuid:0c0e1a8e-5f0b-4d55-9c4b-7465737420
OTHER=nqn.2014-08.org.nvmexpress:uuid:other-host
SOCK=$TT_WORK/tetherd.sock

tt_free_port P1
tt_free_port P2
cat >"$TT_WORK/conf.json" <<JSON
{
  "targets": [{"name": "$T", "luns": [{"id": 0, "backend": "ram:32M"}]}],
  "nvmf": {
    "ana_groups": [{"id": 1, "state": "optimized"}, {"id": 2, "state": "inaccessible"}],
    "ports": [{"address": "nvme-tcp://127.0.0.1:$P1", "ana_group": 1},
              {"address": "nvme-tcp://127.0.0.1:$P2", "ana_group": 2}],
    "subsystems": [
      {"nqn": "$S1", "serial": "ANA1", "model": "tether ana test", "hosts": ["$HOST"],
       "namespaces": [{"nsid": 1, "backend": "ram:64M"}]},
      {"nqn": "$S2", "hosts": ["$OTHER"],
       "namespaces": [{"nsid": 1, "lun": {"target": "$T", "id": 0}}]}
    ]
  }
}
JSON
TT_WAIT_PORTS="$P1 $P2" tt_start main --config "$TT_WORK/conf.json" --rpc-socket "$SOCK"

ctl() { OUT=$(timeout 30 "$CTL" -s "$SOCK" "$@" 2>&1); }
ctl_ok() { ctl "$@" || fail "tetherctl $*: $OUT"; }
contains() { [[ $OUT == *"$1"* ]] || fail "$2: no \"$1\" in: $OUT"; }
nvme() {
	timeout -k 5 180 "$TT_PYTHON" "$TT_TOOLS/nvme_tcp.py" --port "$P1" --port2 "$P2" \
		--ctl "$CTL -s $SOCK" "$@"
}

step "tetherctl lists the configured objects"
ctl_ok subsystem list
contains "$S1  serial ANA1  model \"tether ana test\"" "subsystem list"
contains "host $OTHER" "subsystem list"
contains "namespace 1" "subsystem list"
ctl_ok ana list
contains "inaccessible" "ana list"
contains "127.0.0.1:$P2" "ana list"
ctl_ok port list
contains "127.0.0.1:$P1" "port list"
ctl_ok controller list
contains "no controllers" "controller list"

step "ANA: notices, log pages and I/O statuses follow tetherctl ana set on both paths"
OUT=$(nvme --nqn "$S1" --size $((64 << 20)) ana 2>&1) || fail "ana: $OUT"
echo "    $OUT"
ctl_ok ana list
contains "inaccessible" "ana list after the moves"
ctl_ok port list
# both paths served I/O and refused some while inaccessible
read -r r1 w1 x1 < <(echo "$OUT" | awk -v p="127.0.0.1:$P1" '$1 ~ p {print $5, $6, $7}')
read -r r2 w2 x2 < <(echo "$OUT" | awk -v p="127.0.0.1:$P2" '$1 ~ p {print $5, $6, $7}')
if ! { [ "${r1:-0}" -gt 0 ] && [ "${w1:-0}" -gt 0 ] && [ "${x1:-0}" -gt 0 ]; }; then
	fail "port 1 counters (reads $r1, writes $w1, refused $x1): $OUT"
fi
if ! { [ "${r2:-0}" -gt 0 ] && [ "${w2:-0}" -gt 0 ] && [ "${x2:-0}" -gt 0 ]; }; then
	fail "port 2 counters (reads $r2, writes $w2, refused $x2): $OUT"
fi
ok "port 1: $r1 reads, $w1 writes, $x1 refused; port 2: $r2 reads, $w2 writes, $x2 refused"

step "bad states are refused"
ctl ana set 2 standby && fail "ana set 2 standby accepted"
contains "unknown ANA state" "ana set 2 standby"
ctl ana set 7 optimized && fail "ana set 7 (no such group) accepted"
contains "no ANA group" "ana set 7"

step "a host not in the list is refused at Connect"
OUT=$(nvme --nqn "$S2" refused 2>&1) || fail "refused: $OUT"

step "save round-trips; apply adds the host live, then takes it out again"
ctl_ok save "$TT_WORK/saved.json"
ctl_ok apply "$TT_WORK/saved.json"
[ "$OUT" = "nothing to do" ] || fail "apply of the saved file: $OUT"
"$TT_PYTHON" - "$TT_WORK/saved.json" "$TT_WORK/add.json" "$HOST" "$S2" <<'PY' || fail "edit"
import json, sys
c = json.load(open(sys.argv[1]))
for s in c["nvmf"]["subsystems"]:
    if s["nqn"] == sys.argv[4]:
        s["hosts"].append(sys.argv[3])
json.dump(c, open(sys.argv[2], "w"), indent=2)
PY
ctl_ok apply "$TT_WORK/add.json"
contains "add host $HOST to $S2" "apply"
OUT=$(nvme --nqn "$S2" --port2 0 connect 2>&1) || fail "connect after apply: $OUT"
ctl_ok apply "$TT_WORK/saved.json"
contains "remove host $HOST from $S2" "apply"
OUT=$(nvme --nqn "$S2" refused 2>&1) || fail "refused after apply: $OUT"
ctl_ok save "$TT_WORK/saved2.json"
cmp -s "$TT_WORK/saved.json" "$TT_WORK/saved2.json" ||
	fail "save after the round trip differs: $(diff "$TT_WORK/saved.json" "$TT_WORK/saved2.json")"

step "bad files name the field and change nothing"
"$TT_PYTHON" - "$TT_WORK/saved.json" "$TT_WORK/bad.json" <<'PY' || fail "edit"
import json, sys
c = json.load(open(sys.argv[1]))
c["nvmf"]["ana_groups"][0]["state"] = "standby"
c["nvmf"]["subsystems"].append({"nqn": "nqn.2026-11.org.tether:new"})
json.dump(c, open(sys.argv[2], "w"))
PY
ctl apply "$TT_WORK/bad.json" && fail "a bad ANA state was applied"
contains "nvmf.ana_groups[0].state: unknown ANA state \"standby\"" "apply of a bad state"
"$TT_PYTHON" - "$TT_WORK/saved.json" "$TT_WORK/bad2.json" <<'PY' || fail "edit"
import json, sys
c = json.load(open(sys.argv[1]))
c["nvmf"]["ports"][1]["ana_group"] = 129
c["nvmf"]["subsystems"].append({"nqn": "nqn.2026-11.org.tether:new"})
json.dump(c, open(sys.argv[2], "w"))
PY
ctl apply "$TT_WORK/bad2.json" && fail "a port in ANA group 129 was applied"
contains "nvmf.ports[1].ana_group" "apply of a group out of range"
ctl_ok save "$TT_WORK/saved3.json"
cmp -s "$TT_WORK/saved.json" "$TT_WORK/saved3.json" || fail "a refused apply changed something"

step "tetherctl port set moves a port between ANA groups under a connected host"
OUT=$(nvme --nqn "$S1" portmove 2>&1) || fail "portmove: $OUT"
ctl_ok ana list
contains "127.0.0.1:$P2" "ana list after the moves"
ctl_ok save "$TT_WORK/saved4.json"
cmp -s "$TT_WORK/saved.json" "$TT_WORK/saved4.json" || fail "port 2 is not back in group 2"

step "tetherctl port remove under a connected host"
OUT=$(nvme --nqn "$S1" portremove 2>&1) || fail "portremove: $OUT"
tt_alive main "the port removal"
ctl_ok port list
[[ $OUT == *"127.0.0.1:$P2"* ]] && fail "port list still shows the removed port: $OUT"
contains "127.0.0.1:$P1" "port list after the removal"
OUT=$(nvme --nqn "$S1" connect 2>&1) || fail "connect through port 1 after the removal: $OUT"
ctl port remove "nvme-tcp://127.0.0.1:$P2" && fail "a removed port was removed again"
contains "no NVMe-oF port" "port remove of a removed port"

step "tetherctl apply adds the port back, moves it, removes it and adds it again"
ctl_ok apply --dry-run "$TT_WORK/saved.json"
contains "add port nvme-tcp://127.0.0.1:$P2 (ANA group 2)" "apply --dry-run"
ctl_ok port list
[[ $OUT == *"127.0.0.1:$P2"* ]] && fail "apply --dry-run added the port: $OUT"
ctl_ok apply "$TT_WORK/saved.json"
contains "add port nvme-tcp://127.0.0.1:$P2 (ANA group 2)" "apply"
(exec 3<>"/dev/tcp/127.0.0.1/$P2") 2>/dev/null || fail "the port added back refuses connections"
"$TT_PYTHON" - "$TT_WORK/saved.json" "$TT_WORK/moved.json" "$TT_WORK/noport.json" <<'PY' ||
import json, sys
c = json.load(open(sys.argv[1]))
c["nvmf"]["ports"][1]["ana_group"] = 1
json.dump(c, open(sys.argv[2], "w"))
c["nvmf"]["ports"].pop()
json.dump(c, open(sys.argv[3], "w"))
PY
	fail "edit"
ctl_ok apply "$TT_WORK/moved.json"
contains "move port nvme-tcp://127.0.0.1:$P2: ANA group 2 -> 1" "apply of a move"
ctl_ok port list
read -r _ _ g st _ < <(echo "$OUT" | grep "127.0.0.1:$P2 ")
{ [ "$g" = 1 ] && [ "$st" = optimized ]; } || fail "port list after the move: $OUT"
OUT=$(nvme --nqn "$S1" --port "$P2" --port2 0 connect 2>&1) ||
	fail "a host through the port added back and moved to group 1 (optimized): $OUT"
ctl_ok apply --dry-run "$TT_WORK/noport.json"
contains "remove port nvme-tcp://127.0.0.1:$P2 (ANA group 1; the controllers through it end)" \
	"apply --dry-run without the port"
ctl_ok apply "$TT_WORK/noport.json"
contains "remove port nvme-tcp://127.0.0.1:$P2" "apply without the port"
if (exec 3<>"/dev/tcp/127.0.0.1/$P2") 2>/dev/null; then
	fail "the port removed by apply still accepts connections"
fi
ctl_ok apply "$TT_WORK/saved.json"
contains "add port nvme-tcp://127.0.0.1:$P2 (ANA group 2)" "apply of the saved file"
ctl_ok save "$TT_WORK/saved5.json"
cmp -s "$TT_WORK/saved.json" "$TT_WORK/saved5.json" ||
	fail "save after the port round trip differs: $(diff "$TT_WORK/saved.json" "$TT_WORK/saved5.json")"

tt_alive main "the NVMe-oF cases"
tt_stop main
ok "ANA states, notices, path statuses, allowed hosts and live apply as specified"
