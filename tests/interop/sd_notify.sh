#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# sd_notify.sh - tetherd's notifications to the service manager ($NOTIFY_SOCKET, Type=notify),
# received on a Unix datagram socket of our own as systemd would:
#   1. a configuration with a portal on a free 127.0.0.1 port: READY=1 comes, and a connection
#      to the portal succeeds right when it has come; it carries a STATUS= line naming what is
#      served; SIGTERM brings STOPPING=1, and tetherd exits 0;
#   2. a portal whose address is not on the host (192.0.2.1, TEST-NET-1) beside one that
#      listens: READY=1 still comes, after the bounded wait (about 5 s, not before 4 s), with a
#      STATUS= that names the portal still binding;
#   3. without $NOTIFY_SOCKET nothing is sent and nothing breaks (covered by every other test).
#
# Exit: 0 pass, 77 skip (reason printed), 1 fail.
# Environment: TT_BUILD (build directory), TT_TOP.
. "$(dirname "$0")/../lib/common.sh"

tt_setup sd-notify
tt_need python3
# a tetherd built without libsystemd sends nothing (docs/install.md): nothing to test then
if command -v ldd >/dev/null && ! ldd "$TETHERD" 2>/dev/null | grep -q libsystemd; then
	skip "tetherd is built without libsystemd (apt-get install libsystemd-dev, then reconfigure)"
fi

# listen.py SOCKET PORT OUT: binds the datagram socket, then prints each message received as one
# line of JSON; at READY=1 it connects to 127.0.0.1:PORT at once and prints whether that worked.
cat >"$TT_WORK/listen.py" <<'EOF'
import json, socket, sys, time
path, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
t0 = time.monotonic()
with open(out, "w", buffering=1) as f:
    f.write(json.dumps({"bound": True}) + "\n")
    while True:
        msg = s.recv(65536).decode()
        rec = {"t": round(time.monotonic() - t0, 3), "msg": msg}
        if "READY=1" in msg.split("\n"):
            c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            c.settimeout(2)
            try:
                c.connect(("127.0.0.1", port))
                rec["connect"] = "ok"
            except OSError as e:
                rec["connect"] = str(e)
            c.close()
        f.write(json.dumps(rec) + "\n")
        if "STOPPING=1" in msg.split("\n"):
            break
EOF

# start_listener NAME PORT: the socket $TT_WORK/NAME.sock, messages in $TT_WORK/NAME.msgs
start_listener() {
	rm -f "$TT_WORK/$1.sock"
	"$TT_PYTHON" "$TT_WORK/listen.py" "$TT_WORK/$1.sock" "$2" "$TT_WORK/$1.msgs" &
	tt_bg $!
	for _ in $(seq 100); do
		grep -q bound "$TT_WORK/$1.msgs" 2>/dev/null && return 0
		sleep 0.05
	done
	fail "the notification socket listener did not start"
}

# wait_msg NAME FIELD SECONDS: waits for a message with the line FIELD (READY=1, STOPPING=1)
wait_msg() {
	for _ in $(seq $(($3 * 10))); do
		grep -q "\"msg\": \"[^\"]*$2" "$TT_WORK/$1.msgs" && return 0
		sleep 0.1
	done
	fail "no $2 within $3 s; received:
$(cat "$TT_WORK/$1.msgs")"
}

# ready_rec NAME: the first message received with READY=1, as its JSON line
ready_rec() {
	"$TT_PYTHON" -c '
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if "READY=1" in r.get("msg", "").split("\n"):
        print(json.dumps(r)); break' "$TT_WORK/$1.msgs"
}

# start NAME CONFIG: tetherd in the background with $NOTIFY_SOCKET (not through tt_start: that
# one waits for the ports itself, which would hide a READY=1 sent too early)
start() {
	NOTIFY_SOCKET=$TT_WORK/$1.sock "$TETHERD" --config "$2" --rpc-socket none --state-dir none \
		>"$TT_WORK/tetherd-$1.log" 2>&1 &
	TT_PID[$1]=$!
	TT_LOG[$1]=$TT_WORK/tetherd-$1.log
}

step "1. READY=1 once the portal accepts connections, STATUS=, STOPPING=1 at SIGTERM"
tt_free_port P1
cat >"$TT_WORK/one.json" <<EOF
{"targets": [{"name": "iqn.2026-11.org.tether:notify", "tpgs": [{"tag": 1,
  "portals": ["127.0.0.1:$P1"]}], "luns": [{"id": 0, "backend": "ram:16M"}]}]}
EOF
start_listener one "$P1"
start one "$TT_WORK/one.json"
wait_msg one READY=1 30
rec=$(ready_rec one)
echo "    READY: $rec"
case $rec in *'"connect": "ok"'*) ;; *) fail "READY=1 came before the portal accepted connections: $rec" ;; esac
case $rec in *'STATUS=serving 1 target on 1 portal, 0 sessions'*) ;;
	*) fail "READY=1 without the expected STATUS= line: $rec" ;; esac
tt_alive one "READY=1"
tt_stop one
wait_msg one STOPPING=1 5
grep -q 'STOPPING=1\\nSTATUS=stopping' "$TT_WORK/one.msgs" || fail "STOPPING=1 without a STATUS=: $(cat "$TT_WORK/one.msgs")"
n=$(grep -c 'READY=1' "$TT_WORK/one.msgs")
[ "$n" = 1 ] || fail "READY=1 sent $n times: $(cat "$TT_WORK/one.msgs")"
ok "READY=1 with a connectable portal, STATUS=serving..., STOPPING=1, exit 0"

step "2. a portal whose address is not on the host does not hold READY=1 for ever"
tt_free_port P2
cat >"$TT_WORK/two.json" <<EOF
{"targets": [{"name": "iqn.2026-11.org.tether:notify", "tpgs": [{"tag": 1,
  "portals": ["127.0.0.1:$P2", "192.0.2.1:$P2"]}], "luns": [{"id": 0, "backend": "ram:16M"}]}]}
EOF
start_listener two "$P2"
start two "$TT_WORK/two.json"
wait_msg two READY=1 30
rec=$(ready_rec two)
echo "    READY: $rec"
t=$(printf '%s\n' "$rec" | "$TT_PYTHON" -c 'import json,sys; print(int(json.load(sys.stdin)["t"] * 1000))')
[ "$t" -ge 4000 ] || fail "READY=1 after $t ms, while a portal was still binding (expected ~5 s)"
case $rec in *'"connect": "ok"'*) ;; *) fail "the listening portal did not accept a connection at READY=1: $rec" ;; esac
case $rec in *'1 not listening yet: 192.0.2.1:'"$P2"*) ;;
	*) fail "STATUS= at READY=1 does not name the binding portal: $rec" ;; esac
grep -q 'STATUS=starting: 1 of 2 portals listening; binding: 192.0.2.1' "$TT_WORK/two.msgs" ||
	fail "no STATUS=starting... while waiting: $(cat "$TT_WORK/two.msgs")"
grep -q 'ready after 5000 ms with 1 of 2 portals listening; still binding: 192.0.2.1' \
	"$TT_WORK/tetherd-two.log" || fail "the log does not say which portal was still binding"
tt_stop two
wait_msg two STOPPING=1 5
ok "READY=1 after $t ms with 192.0.2.1:$P2 still binding, named in STATUS= and in the log"
echo "PASS"
