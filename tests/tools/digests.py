#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""CRC32C header and data digests (RFC 7143 §13.1, §7.8), for tests/interop/digests.sh.

  digests.py --port P [--host H] [--target IQN] CASE...   (--list)

Every PDU the target sends after the login is checked against its digests by pdu.Conn.recv().
"""

import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pdu  # noqa: E402
from pdu import (Closed, Fail, Timeout, check, connect_login, write_verify,  # noqa: E402
                 GOOD, REJECT, RSVD, SCSI_RSP)

CASES = {}


def case(fn):
    CASES[fn.__name__.replace("_", "-")] = fn
    return fn


def say(msg):
    print("    " + msg, flush=True)


def login(args, hd="CRC32C", dd="CRC32C", **keys):
    keys.update(HeaderDigest=hd, DataDigest=dd)
    return connect_login(args.host, args.port, args.target, op_keys=keys)


@case
def negotiate(args):
    """The target answers the first digest of the initiator's list that it supports."""
    for offer, want in (("CRC32C", "CRC32C"), ("CRC32C,None", "CRC32C"),
                        ("None,CRC32C", "None"), ("None", "None")):
        c = login(args, hd=offer, dd=offer)
        for k in ("HeaderDigest", "DataDigest"):
            got = c.neg.get(k)
            check(got == want, "%s=%s offered: the target answered %s, expected %s"
                  % (k, offer, got, want))
        c.ping(b"x" * 100)
        c.logout()
        c.close()
        say("offered %s: %s, and a ping works" % (offer, want))


@case
def io(args):
    """With both digests: INQUIRY, NOP-Out with data, a 1 MiB write through immediate data,
    unsolicited Data-Out and R2T, read back and compared; every PDU's digests right."""
    c = login(args, InitialR2T="No", ImmediateData="Yes", FirstBurstLength=65536)
    check(c.hdigest and c.ddigest, "digests not negotiated: %r" % c.neg)
    r = c.scsi(pdu.cdb_inquiry(96), read_len=96)
    check(r.status == GOOD and r.data[8:14] == b"TETHER", "INQUIRY with digests: %r" % r)
    c.ping(random.randbytes(3001))      # data needing padding
    data = random.randbytes(1 << 20)
    w = write_verify(c, 4096, data, what="1 MiB WRITE with digests", seg=16384)
    say("INQUIRY, ping, 1 MiB write (%d R2Ts) and read back, all digests right"
        % len(w.r2ts))
    c.logout()
    c.close()


@case
def bad_data_digest(args):
    """A NOP-Out whose data digest is wrong: Reject reason 0x02 (data digest error) with the
    header; the connection goes on (a good ping gets its NOP-In)."""
    c = login(args)
    for n in (512, 1001):
        p = pdu.nop_out(c.next_itt(), c.cmdsn, c.expstatsn, data=random.randbytes(n))
        c.send(p, bad_ddigest=True)
        try:
            r = c.recv_until(lambda x: True, 5.0, "Reject")
        except (Closed, Timeout) as e:
            raise Fail("a NOP-Out with a bad data digest: no Reject (%s)" % e)
        check(r.opcode == REJECT, "a NOP-Out with a bad data digest got %r" % r)
        check(r.reason == 0x02, "Reject reason 0x%02x, expected 0x02 (data digest error)"
              % r.reason)
        check(r.data[:48] == c.encode(p)[:48], "the Reject does not carry the header")
        say("NOP-Out with %d bytes and a bad data digest: Reject 0x02 with the header" % n)
        c.ping(b"after the digest error")
        say("a good ping afterwards: NOP-In")
    c.logout()
    c.close()


@case
def bad_dataout_digest(args):
    """A WRITE whose second unsolicited Data-Out has a wrong data digest. The target rejects
    that PDU (0x02) and must not report GOOD for data it did not take: CHECK CONDITION (or it
    closes the connection). Then the blocks are written correctly and read back."""
    c = login(args, InitialR2T="No", ImmediateData="No", FirstBurstLength=32768)
    data = random.randbytes(32768)
    itt = c.next_itt()
    c.send(pdu.scsi_cmd(itt, c.cmdsn, c.expstatsn, pdu.cdb_write16(8192, 64), edtl=32768,
                        write=True, final=False))
    c.cmdsn += 1
    for i in range(4):
        off = i * 8192
        d = pdu.data_out(itt, RSVD, c.expstatsn, i, off, data[off:off + 8192], i == 3)
        c.send(d, bad_ddigest=(i == 1))
    got = []
    try:
        while True:
            p = c.recv_until(lambda x: True, 5.0, "SCSI Response")
            got.append(p)
            if p.opcode == SCSI_RSP:
                break
    except Closed:
        say("connection closed after %r" % got)
        return
    except Timeout:
        raise Fail("no SCSI Response within 5 s after a Data-Out with a bad digest (got %r)"
                   % got)
    rej = [p for p in got if p.opcode == REJECT]
    check(rej and rej[0].reason == 0x02, "no Reject 0x02 for the bad Data-Out (got %r)" % got)
    rsp = got[-1]
    check(rsp.status != GOOD or rsp.response != 0,
          "GOOD for a WRITE whose Data-Out was rejected for its digest (silent data loss)")
    sl = int.from_bytes(rsp.data[:2], "big") if len(rsp.data) >= 2 else 0
    say("Reject 0x02, then SCSI Response: response 0x%02x status 0x%02x sense %r"
        % (rsp.response, rsp.status, pdu.parse_sense(rsp.data[2:2 + sl])))
    c.clear_ua()
    write_verify(c, 8192, data, what="the WRITE again")
    say("written again without error and read back")
    c.logout()
    c.close()


@case
def bad_header_digest(args):
    """A NOP-Out whose header digest is wrong: the target cannot trust its length and must
    close the connection (no sync layer); it must not answer the ping."""
    c = login(args, dd="None")
    p = pdu.nop_out(c.next_itt(), c.cmdsn, c.expstatsn, data=b"ping")
    c.send(p, bad_hdigest=True)
    try:
        got = c.expect_closed(5.0)
    except Timeout as e:
        raise Fail("a PDU with a bad header digest: %s" % e)
    check(not any(x.opcode == pdu.NOP_IN and x.itt == p.itt for x in got),
          "the target answered a ping whose header digest is wrong")
    say("connection closed%s" % (" after %r" % got if got else ""))


if __name__ == "__main__":
    sys.exit(pdu.run_cases(CASES, description=__doc__))
