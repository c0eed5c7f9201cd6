#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Several targets behind one portal, PDU by PDU, for tests/interop/shared_portal*.sh.

  shared_portal.py --port P [--host H] [--target IQN] [--opt KEY=VALUE]... CASE...

Cases:
  sendtargets   a discovery session as --opt initiator=IQN: SendTargets=All must list exactly
                the targets of --opt expect (in any order), each with exactly its TargetAddress
                values in the order given; SendTargets=<name> of each of them lists that one
                alone; SendTargets=<name> of each target of --opt hidden lists nothing.
                expect: TARGET=ADDR,TAG|ADDR,TAG;TARGET=...   hidden: TARGET;TARGET...
  login-status  a login to --target as --opt initiator=IQN must end with the status
                --opt status=XXXX (hex, class and detail; 0000: the login succeeds, then
                LUN 0 answers READ CAPACITY(16) with --opt blocks=N blocks when given).
  hold          a session to --target as --opt initiator=IQN that writes and reads back its
                own blocks of LUN 0 without a pause until the file --opt stop=FILE appears
                (at most --opt max=SECONDS, default 120); writes its TSIH to the file
                --opt ready=FILE after the first verified write. Every command must end
                GOOD with the data read back as written; then logout.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pdu  # noqa: E402
from pdu import Conn, Fail, check, sendtargets_records  # noqa: E402

CASES = {}


def case(fn):
    CASES[fn.__name__.replace("_", "-")] = fn
    return fn


def say(msg):
    print("    " + msg, flush=True)


def show(recs):
    if not recs:
        return "(nothing)"
    return "; ".join("%s=%s" % (n, "|".join(a) if a else "(no address)") for n, a in recs)


def parse_expect(text):
    """TARGET=ADDR,TAG|ADDR,TAG;TARGET=... -> {target: [addr...]}"""
    want = {}
    for item in (text or "").split(";"):
        if not item:
            continue
        name, _, addrs = item.partition("=")
        want[name] = [a for a in addrs.split("|") if a]
    return want


def compare(recs, want, what):
    got = {}
    for name, addrs in recs:
        check(name not in got, "%s: %s is listed twice: %s" % (what, name, show(recs)))
        got[name] = addrs
    check(sorted(got) == sorted(want), "%s as %s: targets\n      %s\n    expected\n      %s"
          "\n    (whole answer: %s)" % (what[0], what[1], sorted(got), sorted(want), show(recs)))
    for name, addrs in want.items():
        check(got[name] == addrs, "%s as %s: TargetAddress values of %s, in order:\n      %s\n"
              "    expected\n      %s" % (what[0], what[1], name, got[name], addrs))


@case
def sendtargets(args):
    initiator = args.opts.get("initiator", pdu.DEFAULT_INITIATOR)
    want = parse_expect(args.opts.get("expect"))
    hidden = [h for h in args.opts.get("hidden", "").split(";") if h]
    c = Conn(args.host, args.port)
    r = c.login(initiator=initiator, session_type="Discovery", check_status=False)
    check(r.login_status == 0, "discovery login as %s: status 0x%04x, expected 0x0000"
          % (initiator, r.login_status))
    keys, _ = c.text({"SendTargets": "All"})
    recs = sendtargets_records(keys)
    compare(recs, want, ("SendTargets=All", initiator))
    say("SendTargets=All as %s: %s" % (initiator, show(recs)))
    for name in want:
        keys, _ = c.text({"SendTargets": name})
        compare(sendtargets_records(keys), {name: want[name]}, ("SendTargets=%s" % name, initiator))
    if want:
        say("SendTargets=<name> of each: that target alone, with the same addresses")
    for name in hidden:
        keys, _ = c.text({"SendTargets": name})
        recs = sendtargets_records(keys)
        check(recs == [], "SendTargets=%s as %s: expected nothing, got %s"
              % (name, initiator, show(recs)))
    if hidden:
        say("SendTargets=<name> as %s lists nothing for %s" % (initiator, ", ".join(hidden)))
    c.logout()
    c.close()


@case
def login_status(args):
    initiator = args.opts.get("initiator", pdu.DEFAULT_INITIATOR)
    want = int(args.opts.get("status", "0000"), 16)
    c = Conn(args.host, args.port)
    r = c.login(initiator=initiator, target=args.target, check_status=False)
    got = r.login_status
    check(got == want, "login of %s to %s through %s:%d: status 0x%04x (class %d, detail %d), "
          "expected 0x%04x (class %d, detail %d)" % (initiator, args.target, args.host, args.port,
                                                     got, got >> 8, got & 0xFF, want, want >> 8,
                                                     want & 0xFF))
    if got == 0:
        c.clear_ua()
        blocks, bs = c.capacity()
        if "blocks" in args.opts:
            check(blocks == int(args.opts["blocks"]), "LUN 0 of %s: %d blocks, expected %s"
                  % (args.target, blocks, args.opts["blocks"]))
        c.logout()
        say("login of %s to %s through %s:%d: status 0x0000, LUN 0 has %d blocks of %d bytes"
            % (initiator, args.target, args.host, args.port, blocks, bs))
    else:
        say("login of %s to %s through %s:%d: status 0x%04x (class %d, detail %d), as expected"
            % (initiator, args.target, args.host, args.port, got, got >> 8, got & 0xFF))
    c.close()


@case
def hold(args):
    initiator = args.opts.get("initiator", pdu.DEFAULT_INITIATOR)
    stop = args.opts["stop"]
    ready = args.opts.get("ready")
    limit = time.monotonic() + float(args.opts.get("max", "120"))
    c = pdu.connect_login(args.host, args.port, args.target, initiator=initiator, timeout=10.0)
    blocks, bs = c.capacity()
    span = min(blocks, 8192) // 16     # 16 slots of the first 4 MiB (at 512-byte blocks)
    check(span >= 8, "LUN 0 of %s is too small (%d blocks)" % (args.target, blocks))
    n = 0
    t0 = time.monotonic()
    while True:
        slot = n % 16
        data = bytes([(n * 7 + 1) & 0xFF]) * 16 + os.urandom(8 * bs - 16)
        pdu.write_verify(c, slot * span, data, bs, what="write %d (slot %d)" % (n + 1, slot))
        n += 1
        if n == 1 and ready:
            with open(ready + ".tmp", "w") as f:
                f.write("%d\n" % c.tsih)
            os.rename(ready + ".tmp", ready)
        if os.path.exists(stop):
            break
        check(time.monotonic() < limit, "%s never appeared" % stop)
        if n % 4 == 0:
            c.ping(b"hold")
    # the last write of every slot is still there
    for slot in range(min(n, 16)):
        r = c.read(slot * span, 8, bs)
        check(r.status == pdu.GOOD, "final READ of slot %d: %r" % (slot, r))
    c.logout()
    c.close()
    say("session of %s to %s (TSIH %d): %d writes verified in %.1f s, no error"
        % (initiator, args.target, c.tsih, n, time.monotonic() - t0))


if __name__ == "__main__":
    sys.exit(pdu.run_cases(CASES, description=__doc__))
