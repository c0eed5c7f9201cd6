#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""SendTargets by hand (RFC 7143 §13.3, Appendix C), for tests/interop/sendtargets.sh.

  discovery.py --port P [--host H] [--target IQN] --opt portals=ADDR,TAG;ADDR,TAG... CASE...

Cases:
  sendtargets   a discovery session: SendTargets=All lists the target with exactly the
                expected TargetAddress values (in any order); SendTargets=<the target> the
                same; SendTargets=<unknown name> nothing; a SCSI command is not executed
                in a discovery session; logout.
  in-session    a normal session: the login answers TargetPortalGroupTag (--opt tpgt=N, when
                given); SendTargets (empty value) lists the session's target.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pdu  # noqa: E402
from pdu import Closed, Conn, Fail, Timeout, check, sendtargets_records  # noqa: E402

CASES = {}


def case(fn):
    CASES[fn.__name__.replace("_", "-")] = fn
    return fn


def say(msg):
    print("    " + msg, flush=True)


def expected(args):
    return sorted(p for p in args.opts.get("portals", "").split(";") if p)


def check_target_record(recs, args, what):
    names = [n for n, _ in recs]
    check(names == [args.target], "%s: targets %r, expected [%s]" % (what, names, args.target))
    got = sorted(recs[0][1])
    check(got == expected(args), "%s: TargetAddress values\n      %s\n    expected\n      %s"
          % (what, got, expected(args)))
    say("%s: %s with %s" % (what, args.target, ", ".join(got)))


@case
def sendtargets(args):
    c = Conn(args.host, args.port)
    r = c.login(session_type="Discovery")
    check(r.login_status == 0, "discovery login: 0x%04x" % r.login_status)
    keys, _ = c.text({"SendTargets": "All"})
    check_target_record(sendtargets_records(keys), args, "SendTargets=All")
    keys, _ = c.text({"SendTargets": args.target})
    check_target_record(sendtargets_records(keys), args, "SendTargets=%s" % args.target)
    keys, _ = c.text({"SendTargets": "iqn.2026-11.org.tether:nobody"})
    check(sendtargets_records(keys) == [], "SendTargets of an unknown name: %r" % keys)
    say("SendTargets=<unknown name>: nothing")
    # a discovery session carries only Text, Logout and NOP-Out (RFC 7143)
    itt = c.next_itt()
    c.send(pdu.scsi_cmd(itt, c.cmdsn, c.expstatsn, pdu.cdb_inquiry(), edtl=96, read=True))
    try:
        p = c.recv_until(lambda x: True, 5.0, "answer")
        check(p.opcode == pdu.REJECT, "a SCSI command in a discovery session got %r" % p)
        say("SCSI command in a discovery session: Reject reason 0x%02x" % p.reason)
        c.logout()
    except Closed:
        say("SCSI command in a discovery session: connection closed")
    except Timeout:
        raise Fail("a SCSI command in a discovery session: no answer and no close in 5 s")
    c.close()


@case
def in_session(args):
    c = pdu.connect_login(args.host, args.port, args.target)
    tag = args.opts.get("tpgt")
    if tag is not None:
        got = c.neg.get("TargetPortalGroupTag")
        check(got == tag, "TargetPortalGroupTag=%s in the login, expected %s" % (got, tag))
        say("login: TargetPortalGroupTag=%s" % got)
    keys, _ = c.text({"SendTargets": ""})
    check_target_record(sendtargets_records(keys), args, "SendTargets= in a normal session")
    c.logout()
    c.close()


if __name__ == "__main__":
    sys.exit(pdu.run_cases(CASES, description=__doc__))
