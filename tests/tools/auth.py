#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Authentication and authorization hygiene of a running tetherd (docs/security.md), for
tests/interop/auth_hygiene.sh.

  auth.py --port P --opt KEY=VALUE... CASE...

Options: open=IQN (a target anyone may log in to), chap=IQN (its TPG requires CHAP; ACLs:
ini1 with user1/secret1 and mutual muser/msecret, ini3 without credentials, ini4 with
user4/secret4), acl=IQN (ACL for ini2 only), chap2=IQN (CHAP; ini4 with user4 and another
secret), alias=ALIAS (of the chap target), ini0 (no ACL anywhere), ini1..ini4, user1, secret1,
muser, msecret, user4, secret4.

Cases:
  sendtargets  SendTargets=All lists exactly what each initiator may log in to: ini0
               (unauthenticated) the open target; ini2 the open and the ACL targets; ini3 (an
               ACL on the CHAP target, no credentials: its discovery does not authenticate)
               the open target only; ini1 (CHAP) the open and the CHAP targets; ini4 (CHAP
               with the credentials of the chap target) not chap2, whose credentials differ
  refusals     a refused login carries its status and no text: 0202h (no ACL), 0203h (no such
               target), 0201h (CHAP required, no credentials; a wrong CHAP response; a
               reflected challenge); the first answer of a CHAP login gives no TargetAlias,
               the alias comes once CHAP has succeeded
"""

import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pdu  # noqa: E402
from pdu import Conn, check  # noqa: E402

CASES = {}


def case(fn):
    CASES[fn.__name__.replace("_", "-")] = fn
    return fn


def say(msg):
    print("    " + msg, flush=True)


def chap_md5(ident, secret, chal_hex):
    chal = bytes.fromhex(chal_hex[2:])
    return "0x" + hashlib.md5(bytes([ident]) + secret.encode() + chal).hexdigest()


def security_chap(c, initiator, target, user, secret, session_type="Normal", reflect=False,
                  wrong=False):
    """A CHAP security stage. Returns (status, every key the target sent, in order)."""
    seen = []
    first = [("InitiatorName", initiator), ("SessionType", session_type)]
    if session_type == "Normal":
        first.insert(1, ("TargetName", target))
    c.login_itt = c.next_itt()
    c.send(c.login_pdu(0, 1, False, first + [("AuthMethod", "CHAP")]))
    r = c.recv_until(lambda p: p.opcode == pdu.LOGIN_RSP, None, "Login Response")
    seen += pdu.decode_keys(r.data)
    if r.login_status:
        check(not r.data, "refusal 0x%04x carries text %r" % (r.login_status, r.data))
        return r.login_status, seen
    c.send(c.login_pdu(0, 1, False, [("CHAP_A", "5")]))
    r = c.recv_until(lambda p: p.opcode == pdu.LOGIN_RSP, None, "Login Response")
    got = dict(pdu.decode_keys(r.data))
    seen += pdu.decode_keys(r.data)
    if r.login_status:
        check(not r.data, "refusal 0x%04x carries text %r" % (r.login_status, r.data))
        return r.login_status, seen
    ident, chal = int(got["CHAP_I"]), got["CHAP_C"]
    keys = [("CHAP_N", user), ("CHAP_R", chap_md5(ident, secret + ("x" if wrong else ""), chal))]
    if reflect:
        # mutual CHAP with the target's own challenge: a reflection attack
        keys += [("CHAP_I", str(ident)), ("CHAP_C", chal)]
    c.send(c.login_pdu(0, 1, True, keys))
    r = c.recv_until(lambda p: p.opcode == pdu.LOGIN_RSP, None, "Login Response")
    seen += pdu.decode_keys(r.data)
    if r.login_status:
        check(not r.data, "refusal 0x%04x carries text %r" % (r.login_status, r.data))
    return r.login_status, seen


def finish_login(c, session_type="Normal"):
    """The operational stage after a security stage; returns the keys the target sent."""
    ops = {"HeaderDigest": "None", "DataDigest": "None", "MaxRecvDataSegmentLength": "65536",
           "ErrorRecoveryLevel": "0", "DefaultTime2Wait": "2", "DefaultTime2Retain": "0"}
    if session_type == "Normal":
        ops.update({"InitialR2T": "Yes", "ImmediateData": "No", "MaxBurstLength": "262144",
                    "FirstBurstLength": "65536", "MaxOutstandingR2T": "1",
                    "MaxConnections": "1", "DataPDUInOrder": "Yes",
                    "DataSequenceInOrder": "Yes"})
    seen = []
    rsp = None
    for _ in range(4):
        c.send(c.login_pdu(1, 3, True, ops))
        rsp = c.recv_until(lambda p: p.opcode == pdu.LOGIN_RSP, None, "Login Response")
        check(rsp.login_status == 0, "operational stage: 0x%04x" % rsp.login_status)
        seen += pdu.decode_keys(rsp.data)
        if rsp.transit and rsp.nsg == 3:
            break
        ops = {}
    check(rsp.transit and rsp.nsg == 3, "the target did not go to full feature phase")
    c._enter_ffp(rsp)
    return seen


def targets_seen(c):
    keys, _ = c.text({"SendTargets": "All"})
    return sorted(n for n, _ in pdu.sendtargets_records(keys))


def discover(args, initiator, user=None, secret=None):
    c = Conn(args.host, args.port)
    if user:
        st, _ = security_chap(c, initiator, None, user, secret, session_type="Discovery")
        check(st == 0, "CHAP discovery login of %s: 0x%04x" % (initiator, st))
        finish_login(c, "Discovery")
    else:
        r = c.login(initiator=initiator, session_type="Discovery", check_status=False)
        check(r.login_status == 0, "discovery login of %s: 0x%04x" % (initiator, r.login_status))
    names = targets_seen(c)
    c.logout()
    c.close()
    return names


@case
def sendtargets(args):
    o = args.opts
    want = {
        "ini0": [o["open"]],
        "ini2": sorted([o["open"], o["acl"]]),
        "ini3": [o["open"]],
    }
    for ini, names in want.items():
        got = discover(args, o[ini])
        check(got == names, "SendTargets of %s (%s): %r, expected %r" % (ini, o[ini], got, names))
        say("%s, unauthenticated: %s" % (ini, ", ".join(got)))
    got = discover(args, o["ini1"], o["user1"], o["secret1"])
    check(got == sorted([o["open"], o["chap"]]), "SendTargets of ini1 after CHAP: %r" % got)
    say("ini1, CHAP: %s" % ", ".join(got))
    got = discover(args, o["ini4"], o["user4"], o["secret4"])
    check(got == sorted([o["open"], o["chap"]]), "SendTargets of ini4 after CHAP with the chap "
          "target's credentials: %r (chap2's credentials differ)" % got)
    say("ini4, CHAP with the chap target's credentials: %s (not chap2)" % ", ".join(got))


def refused(args, initiator, target, status, what):
    c = Conn(args.host, args.port)
    r = c.login(initiator=initiator, target=target, check_status=False)
    check(r.login_status == status, "%s: status 0x%04x, expected 0x%04x"
          % (what, r.login_status, status))
    check(not r.data, "%s: the refusal carries text %r" % (what, r.data))
    check(c.is_closed(2.0), "%s: the connection stays open" % what)
    c.close()
    say("%s: 0x%04x, no text, closed" % (what, status))


@case
def refusals(args):
    o = args.opts
    refused(args, o["ini0"], o["acl"], 0x0202, "no ACL on the ACL target")
    refused(args, o["ini0"], o["chap"], 0x0202, "no ACL on the CHAP target")
    refused(args, o["ini0"], "iqn.2026-11.org.tether:no-such-target", 0x0203, "no such target")
    refused(args, o["ini3"], o["chap"], 0x0201, "CHAP required, the ACL has no credentials")

    c = Conn(args.host, args.port)
    st, seen = security_chap(c, o["ini1"], o["chap"], o["user1"], o["secret1"], wrong=True)
    check(st == 0x0201, "a wrong CHAP response: 0x%04x" % st)
    check("TargetAlias" not in dict(seen), "TargetAlias before authentication: %r" % seen)
    c.close()
    say("wrong CHAP response: 0x0201, no text, no TargetAlias before it")

    c = Conn(args.host, args.port)
    st, seen = security_chap(c, o["ini1"], o["chap"], o["user1"], o["secret1"], reflect=True)
    check(st == 0x0201, "a reflected CHAP challenge: 0x%04x" % st)
    c.close()
    say("reflected CHAP challenge (mutual): 0x0201")

    c = Conn(args.host, args.port)
    st, seen = security_chap(c, o["ini1"], o["chap"], o["user1"], o["secret1"])
    check(st == 0, "right CHAP credentials: 0x%04x" % st)
    seen += finish_login(c)
    aliases = [v for k, v in seen if k == "TargetAlias"]
    check(aliases == [o["alias"]], "TargetAlias after authentication: %r" % aliases)
    c.logout()
    c.close()
    say("right credentials: logged in, TargetAlias=%s only after CHAP" % aliases[0])


if __name__ == "__main__":
    sys.exit(pdu.run_cases(CASES, description=__doc__))
