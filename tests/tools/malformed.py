#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Malformed and unexpected PDUs sent to an iSCSI target, one case per name; what the target
must answer (RFC 7143). Used by tests/interop/malformed_pdus.sh, which checks after each case
that the target still serves a fresh, well-behaved initiator.

  malformed.py --port P [--host H] [--target IQN] [--seed N] [-v] CASE...   (--list)
"""

import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pdu  # noqa: E402
from pdu import (Closed, Conn, Fail, Pdu, Timeout, check, connect_login, GOOD,  # noqa: E402
                 CHECK_CONDITION, ILLEGAL_REQUEST, LOGIN_RSP, NOP_IN, REJECT, RSVD,
                 SCSI_RSP, REJECT_REASONS)

CASES = {}


def case(fn):
    CASES[fn.__name__.replace("_", "-")] = fn
    return fn


def say(msg):
    print("    " + msg, flush=True)


def reject_name(r):
    return "0x%02x (%s)" % (r, REJECT_REASONS.get(r, "?"))


def expect_drop(c, what, allow_login_reject=False, timeout=5.0):
    """The target must close the connection within timeout; before that it may send only a
    Login Response with a non-zero status class (when allow_login_reject)."""
    try:
        got = c.expect_closed(timeout)
    except Timeout as e:
        raise Fail("%s: %s" % (what, e))
    for p in got:
        ok = allow_login_reject and p.opcode == LOGIN_RSP and p.status_class != 0
        check(ok, "%s: the target sent %r before closing" % (what, p))
    say("%s: connection closed%s" % (what, " after %r" % got if got else ""))
    return got


def login_ffp(args, **kw):
    return connect_login(args.host, args.port, args.target, **kw)


def still_usable(c, what):
    """A NOP-Out ping on the same connection gets its NOP-In."""
    try:
        c.ping(b"still there")
    except (Closed, Timeout) as e:
        raise Fail("after %s the connection no longer answers a NOP-Out: %s" % (what, e))
    say("after %s: the same connection still answers a NOP-Out" % what)


def expect_reject(c, sent, reasons, what, timeout=5.0):
    """The next PDU (target NOP-In pings aside) must be a Reject with one of reasons whose
    data starts with the rejected BHS."""
    try:
        r = c.recv_until(lambda p: True, timeout, "Reject")
    except (Closed, Timeout) as e:
        raise Fail("%s: no Reject (%s)" % (what, e))
    check(r.opcode == REJECT, "%s: %r instead of a Reject" % (what, r))
    check(r.reason in reasons, "%s: Reject reason %s, expected %s"
          % (what, reject_name(r.reason), " or ".join(reject_name(x) for x in reasons)))
    check(r.itt == RSVD, "%s: Reject with ITT 0x%08x (must be 0xffffffff)" % (what, r.itt))
    check(len(r.data) >= 48, "%s: the Reject carries %d bytes, not the rejected header"
          % (what, len(r.data)))
    wire = c.encode(sent)[:48]
    check(r.data[:48] == wire, "%s: the Reject data is not the rejected header:\n"
          "  sent %s\n  got  %s" % (what, wire.hex(), r.data[:48].hex()))
    say("%s: Reject reason %s with the rejected header" % (what, reject_name(r.reason)))
    return r


# ---- before login -------------------------------------------------------------------------

@case
def garbage(args):
    """Bytes that are no login. A BHS whose opcode is not Login: closed at once (2 s). Bytes
    whose BHS claims an AHS or data that never come (an HTTP request, a TLS ClientHello):
    closed at the latest by the login timeout (--opt login_timeout=SECONDS, default 15)."""
    rnd = bytearray(random.randbytes(48 + random.randrange(200)))
    rnd[0] = (rnd[0] & 0xC0) | random.choice([0x07, 0x0A, 0x1F, 0x3E, 0x15])  # not Login
    rnd[4] = 0                                                           # no AHS
    rnd[5:8] = random.randrange(len(rnd) - 48 + 1).to_bytes(3, "big")    # data all there
    at_once = [
        ("random bytes", bytes(rnd)),
        ("all ones, no AHS", b"\xff\xff\xff\xff\x00" + b"\xff" * 95),
        ("a BHS of zeros (a NOP-Out)", bytes(48)),
    ]
    for what, data in at_once:
        c = Conn(args.host, args.port)
        c.send_raw(data)
        expect_drop(c, what, allow_login_reject=True, timeout=2.0)
        c.close()
    login_timeout = float(args.opts.get("login_timeout", 15))
    later = [
        ("an HTTP request", b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
        ("a TLS ClientHello", bytes.fromhex("16030100f4010000f00303") + random.randbytes(60)),
        ("nothing at all", b""),
    ]
    conns = []
    t0 = time.monotonic()
    for what, data in later:
        c = Conn(args.host, args.port)
        c.send_raw(data)
        conns.append((what, c))
    for what, c in conns:
        left = max(0.1, login_timeout + 3 - (time.monotonic() - t0))
        expect_drop(c, what, allow_login_reject=True, timeout=left)
        say("  (after %.1f s)" % (time.monotonic() - t0))
        c.close()


@case
def version_min(args):
    """A Login Request asking for versions 1..2 only: status 0x0205, then close."""
    c = Conn(args.host, args.port)
    keys = [("InitiatorName", pdu.DEFAULT_INITIATOR), ("TargetName", args.target),
            ("SessionType", "Normal"), ("AuthMethod", "None")]
    c.send(c.login_pdu(0, 1, True, keys, version_max=2, version_min=1))
    r = c.recv_until(lambda p: True, what="Login Response")
    check(r.opcode == LOGIN_RSP, "%r instead of a Login Response" % r)
    check(r.login_status == 0x0205, "Login Response status 0x%04x, expected 0x0205 "
          "(unsupported version)" % r.login_status)
    check(r.b2 == 0, "Version-max %d in the Login Response (the only version is 0)" % r.b2)
    say("Login Response 0x0205, Version-max 0")
    expect_drop(c, "after the unsupported version")
    c.close()


@case
def no_login_first(args):
    """A NOP-Out, a SCSI command, a Text Request or a Logout as the first PDU: dropped."""
    samples = [
        ("NOP-Out", pdu.nop_out(1, 1, 0, data=b"ping")),
        ("SCSI Command", pdu.scsi_cmd(2, 1, 0, pdu.cdb_tur())),
        ("Text Request", pdu.text_req(3, 1, 0, {"SendTargets": "All"})),
        ("Logout Request", pdu.logout_req(4, 1, 0)),
    ]
    for what, p in samples:
        c = Conn(args.host, args.port)
        c.send(p)
        expect_drop(c, "%s before login" % what, allow_login_reject=True)
        c.close()


@case
def login_errors(args):
    """Unknown TargetName: 0x0203; no InitiatorName: 0x0207; both with and without the
    security stage; the connection is closed after the failed login."""
    for security in (True, False):
        st = "security stage" if security else "operational stage"
        c = Conn(args.host, args.port)
        r = c.login(target="iqn.2026-11.org.tether:no-such-target", security=security,
                    check_status=False)
        check(r.login_status == 0x0203, "login to an unknown target (%s): status 0x%04x, "
              "expected 0x0203 (not found)" % (st, r.login_status))
        check(r.tsih == 0, "failed login with TSIH %d" % r.tsih)
        say("unknown TargetName (%s): 0x0203" % st)
        expect_drop(c, "after 0x0203")
        c.close()

        c = Conn(args.host, args.port)
        r = c.login(initiator=None, target=args.target, security=security, check_status=False)
        check(r.login_status == 0x0207, "login without InitiatorName (%s): status 0x%04x, "
              "expected 0x0207 (missing parameter)" % (st, r.login_status))
        say("no InitiatorName (%s): 0x0207" % st)
        expect_drop(c, "after 0x0207")
        c.close()


# ---- full feature phase -------------------------------------------------------------------

@case
def unknown_opcode(args):
    """Opcodes no initiator may send (0x1f, 0x0b, 0x1d) in full feature phase: Reject
    (reason 0x04 or 0x05) carrying the header; the connection stays usable."""
    c = login_ffp(args)
    for op, dsl in ((0x1F, 0), (0x0B, 0), (0x1D, 100)):
        p = Pdu(op, 0x80, True, bytes(dsl))
        p.itt = c.next_itt()
        p.cmdsn = c.cmdsn
        p.expstatsn = c.expstatsn
        c.send(p)
        expect_reject(c, p, (0x04, 0x05), "opcode 0x%02x" % op)
        still_usable(c, "opcode 0x%02x" % op)
    c.logout()
    c.close()


@case
def oversized_segment(args):
    """A NOP-Out whose data segment exceeds the MaxRecvDataSegmentLength the target
    declared: Reject with reason 0x04 (the connection stays in sync and usable), or the
    connection is closed. Never an echo of the data."""
    c = login_ffp(args)
    limit = c.target_mrdsl
    size = max(300 * 1024, limit + 4096)
    say("target MaxRecvDataSegmentLength %d; sending %d bytes" % (limit, size))
    p = pdu.nop_out(c.next_itt(), c.cmdsn, c.expstatsn, data=random.randbytes(size))
    try:
        c.send(p)
    except Closed:
        say("the target closed the connection while the segment was sent")
        return
    try:
        r = c.recv_until(lambda x: True, 5.0, "answer")
    except Closed:
        say("connection closed (no Reject)")
        return
    except Timeout:
        raise Fail("no answer to a %d-byte NOP-Out within 5 s and the connection is open"
                   % size)
    check(r.opcode == REJECT, "%r answers a %d-byte NOP-Out (limit %d)" % (r, size, limit))
    check(r.reason == 0x04, "Reject reason %s, expected 0x04" % reject_name(r.reason))
    say("Reject reason 0x04")
    if c.is_closed(0.5):
        say("then the connection was closed")
        return
    still_usable(c, "an oversized segment")
    c.close()


@case
def data_without_w(args):
    """A SCSI command carrying immediate data without the W bit: Reject. The rejected CmdSN
    is not consumed (RFC 7143 §7.3): the next command reuses it and succeeds."""
    c = login_ffp(args)
    cmdsn = c.cmdsn
    p = pdu.scsi_cmd(c.next_itt(), cmdsn, c.expstatsn, pdu.cdb_tur(), edtl=0, data=bytes(512))
    c.send(p)
    r = expect_reject(c, p, (0x04, 0x09), "immediate data without W")
    check(r.expcmdsn == cmdsn, "ExpCmdSN %d in the Reject: the rejected CmdSN %d must not be "
          "considered received (RFC 7143 §7.3)" % (r.expcmdsn, cmdsn))
    still_usable(c, "data without W")
    res = c.scsi(pdu.cdb_tur(), timeout=5)     # CmdSN == cmdsn again: plugs the gap
    check(res.status == GOOD, "TEST UNIT READY with the rejected CmdSN: %r" % res)
    say("TEST UNIT READY with the rejected CmdSN %d: GOOD" % cmdsn)
    # a read command with a data segment too
    p = pdu.scsi_cmd(c.next_itt(), c.cmdsn, c.expstatsn, pdu.cdb_read10(0, 1), edtl=512,
                     read=True, data=bytes(512))
    c.send(p)
    expect_reject(c, p, (0x04, 0x09), "READ(10) with a data segment")
    still_usable(c, "READ with data")
    c.logout()
    c.close()


@case
def text_refused_key(args):
    """Text Requests in full feature phase whose keys the target refuses there (a key of
    the login only, a leading-only key, a digest key, a bad value beside SendTargets): each
    is answered with a Text Response (or a Reject) and the connection stays usable. The key
    refused is logged; it must still be there when it is logged."""
    c = login_ffp(args)
    for keys in ([("InitiatorName", "iqn.2026-11.org.tether:other")],
                 [("MaxConnections", "2")], [("HeaderDigest", "CRC32C")],
                 [("SendTargets", "All"), ("MaxBurstLength", "x" * 200)]):
        what = "Text Request %s" % ", ".join("%s=%s" % (k, v[:20]) for k, v in keys)
        c.send(pdu.text_req(c.next_itt(), c.cmdsn, c.expstatsn, keys))
        try:
            r = c.recv_until(lambda p: p.opcode in (pdu.TEXT_RSP, REJECT), 5.0, "Text Response")
        except (Closed, Timeout) as e:
            raise Fail("%s: no answer (%s)" % (what, e))
        say("%s: %r" % (what, r))
        still_usable(c, what)
    c.logout()
    c.close()


def command_answer(c, p, what, answer_r2t=None):
    """Sends SCSI command p; answers R2Ts with answer_r2t bytes; returns the SCSI Response."""
    c.send(p)
    c.cmdsn = (c.cmdsn + 1) & 0xFFFFFFFF
    r2ts = 0
    while True:
        try:
            r = c.recv_until(lambda x: x.itt == p.itt and x.opcode in (SCSI_RSP, pdu.R2T), 5.0,
                             "SCSI Response")
        except (Closed, Timeout) as e:
            raise Fail("%s: no SCSI Response (%s)" % (what, e))
        if r.opcode == SCSI_RSP:
            return r, r2ts
        check(answer_r2t is not None, "%s: an R2T for a command without the W bit" % what)
        r2ts += 1
        c.send(pdu.data_out(p.itt, r.ttt, c.expstatsn, 0, r.offset,
                            answer_r2t[r.offset:r.offset + r.desired], True))


@case
def command_flags(args):
    """SCSI commands whose R, W and F bits disagree with the rest: a transfer length with
    neither R nor W (READ, WRITE, MODE SELECT): CHECK CONDITION 5/24h/00h, no data; MODE SELECT
    with a parameter list length but no data (W, transfer length 0): CHECK CONDITION; a WRITE
    with F set, no immediate data and InitialR2T=No: no unsolicited data follows, so the
    target asks for all of it with R2T, and the data is written."""
    c = login_ffp(args, op_keys={"InitialR2T": "No", "ImmediateData": "No"})
    mode_select10 = bytes([0x55, 0x10, 0, 0, 0, 0, 0, 0, 24, 0])
    for what, cdb, edtl in (("READ(10) without R or W", pdu.cdb_read10(0, 8), 4096),
                            ("WRITE(10) without R or W", pdu.cdb_write10(0, 8), 4096),
                            ("MODE SELECT(10) without R or W", mode_select10, 24)):
        p = pdu.scsi_cmd(c.next_itt(), c.cmdsn, c.expstatsn, cdb, edtl=edtl)
        r, _ = command_answer(c, p, what)
        sl = int.from_bytes(r.data[:2], "big") if len(r.data) >= 2 else 0
        sense = pdu.parse_sense(r.data[2:2 + sl])
        check(r.status == CHECK_CONDITION and sense == (ILLEGAL_REQUEST, 0x24, 0x00),
              "%s: %r sense %s, expected CHECK CONDITION 5/24h/00h" % (what, r, sense))
        say("%s: CHECK CONDITION 5/24h/00h" % what)
        still_usable(c, what)
    what = "MODE SELECT(10) of 24 bytes with a transfer length of 0"
    p = pdu.scsi_cmd(c.next_itt(), c.cmdsn, c.expstatsn, mode_select10, edtl=0, write=True)
    r, _ = command_answer(c, p, what)
    check(r.status == CHECK_CONDITION, "%s: %r, expected CHECK CONDITION" % (what, r))
    say("%s: CHECK CONDITION" % what)
    still_usable(c, what)
    what = "WRITE(10) with F, no immediate data, InitialR2T=No"
    data = random.randbytes(4096)
    p = pdu.scsi_cmd(c.next_itt(), c.cmdsn, c.expstatsn, pdu.cdb_write10(96, 8), edtl=4096,
                     write=True, final=True)
    r, r2ts = command_answer(c, p, what, answer_r2t=data)
    check(r.status == GOOD and r2ts >= 1, "%s: %r after %d R2T, expected GOOD after R2T"
          % (what, r, r2ts))
    rd = c.read(96, 8)
    check(rd.data == data, "%s: the blocks do not hold the data sent" % what)
    say("%s: %d R2T, GOOD, the data read back" % (what, r2ts))
    c.logout()
    c.close()


@case
def dataout_unknown_itt(args):
    """Data-Out for a task that does not exist (unknown ITT, unknown TTT): discarded or
    rejected, never a crash; the connection still answers a NOP-Out."""
    c = login_ffp(args)
    for itt, ttt in ((0x7A5A5A5A, RSVD), (0x7A5A5A5B, 0x12345678), (c.next_itt() + 5000, 7)):
        p = pdu.data_out(itt, ttt, c.expstatsn, 0, 0, random.randbytes(512), True)
        c.send(p)
        got_before = len(c.unexpected)
        still_usable(c, "Data-Out for ITT 0x%08x TTT 0x%08x" % (itt, ttt))
        for x in c.unexpected[got_before:]:
            check(x.opcode == REJECT, "Data-Out for an unknown task got %r" % x)
            say("(it was answered with Reject reason %s)" % reject_name(x.reason))
    c.logout()
    c.close()


def write_pattern(c, lba, blocks, byte):
    data = bytes([byte]) * (blocks * 512)
    w = c.write(lba, data)
    check(w.status == GOOD, "WRITE of a pattern: %r" % w)
    return data


def bad_write(c, what, lba, data, chunks, expect_fail):
    """A WRITE(16) of data at lba, InitialR2T=No, ImmediateData=No (negotiated by the caller):
    the unsolicited Data-Out PDUs are chunks = [(datasn, offset, bytes, final)...], wrong on
    purpose. R2Ts are answered with the right data. The target must end the command with a
    SCSI Response (perhaps after Rejects) and keep the connection; GOOD is allowed only when
    not expect_fail, and then the blocks must hold the data. Returns the response PDU."""
    itt = c.next_itt()
    c.send(pdu.scsi_cmd(itt, c.cmdsn, c.expstatsn, pdu.cdb_write16(lba, len(data) // 512),
                        edtl=len(data), write=True, final=False))
    c.cmdsn += 1
    for datasn, off, chunk, final in chunks:
        c.send(pdu.data_out(itt, RSVD, c.expstatsn, datasn, off, chunk, final))
    r2ts = []
    while True:
        try:
            rsp = c.recv_until(lambda p: p.opcode in (SCSI_RSP, pdu.R2T) and p.itt == itt, 5.0,
                               "SCSI Response")
        except (Closed, Timeout) as e:
            raise Fail("%s: no SCSI Response (%s)" % (what, e))
        if rsp.opcode == SCSI_RSP:
            break
        r2ts.append((rsp.offset, rsp.desired))
        end = min(rsp.offset + rsp.desired, len(data))
        c.send(pdu.data_out(itt, rsp.ttt, c.expstatsn, 0, rsp.offset, data[rsp.offset:end], True))
    rejects = [p for p in c.unexpected if p.opcode == REJECT]
    c.unexpected.clear()
    sl = int.from_bytes(rsp.data[:2], "big") if len(rsp.data) >= 2 else 0
    sense = pdu.parse_sense(rsp.data[2:2 + sl])
    good = rsp.response == 0 and rsp.status == GOOD
    say("%s: %s%s%s, sense %s" % (
        what, "Reject %s, then " % [reject_name(r.reason) for r in rejects] if rejects else "",
        "R2Ts %s, then " % r2ts if r2ts else "",
        "GOOD" if good else "response 0x%02x status 0x%02x" % (rsp.response, rsp.status),
        sense))
    if expect_fail:
        check(not good, "%s: GOOD, although the data did not arrive as announced" % what)
    elif good:
        r = c.read(lba, len(data) // 512)
        check(r.data == data, "%s: GOOD, but the blocks do not hold the data sent" % what)
    still_usable(c, what)
    return rsp


@case
def dataout_errors(args):
    """Unsolicited Data-Out sequences that break the rules: a DataSN gap, a DataSN repeated
    (must fail), offsets out of order, data past the Expected Data Transfer Length, an F bit
    too early (may succeed, then with the right data). Never a write outside the command's
    blocks; the connection goes on."""
    c = login_ffp(args, op_keys={"InitialR2T": "No", "ImmediateData": "No",
                                 "FirstBurstLength": 65536})
    lba, n = 4096, 16                    # 8 KiB written, guard blocks around
    before = write_pattern(c, lba - 4, 4, 0xAA)
    after = write_pattern(c, lba + n, 4, 0xBB)
    d = random.randbytes(n * 512)
    q = len(d) // 4
    parts = [d[i * q:(i + 1) * q] for i in range(4)]
    bad_write(c, "DataSN gap (0, 1, 3, 4)", lba, d,
              [(0, 0, parts[0], False), (1, q, parts[1], False), (3, 2 * q, parts[2], False),
               (4, 3 * q, parts[3], True)], expect_fail=True)
    bad_write(c, "DataSN repeated (0, 1, 1, 2)", lba, d,
              [(0, 0, parts[0], False), (1, q, parts[1], False), (1, 2 * q, parts[2], False),
               (2, 3 * q, parts[3], True)], expect_fail=True)
    bad_write(c, "offsets out of order (0, 2q, q, 3q)", lba, d,
              [(0, 0, parts[0], False), (1, 2 * q, parts[2], False), (2, q, parts[1], False),
               (3, 3 * q, parts[3], True)], expect_fail=False)
    # 4 KiB more than announced: a protocol error the target may reject (0x04) or ignore,
    # but those bytes must not reach the blocks after the command's
    bad_write(c, "data past the transfer length", lba, d,
              [(0, 0, parts[0] + parts[1], False), (1, 2 * q, parts[2] + parts[3], False),
               (2, 4 * q, random.randbytes(4096), True)], expect_fail=False)
    r = c.read(lba + n, 4)
    check(r.data == after, "the 4 KiB sent past the transfer length reached the next blocks")
    # unsolicited data ending (F) before FirstBurstLength and the transfer length: the target
    # fails the command or asks for the rest with R2T
    rsp = bad_write(c, "unsolicited data ending after 2 of 8 KiB", lba, d,
                    [(0, 0, parts[0], True)], expect_fail=False)
    # the rest of that sequence, sent anyway after the response: not for any command
    for i in (1, 2, 3):
        c.send(pdu.data_out(rsp.itt, RSVD, c.expstatsn, i, i * q, parts[i], i == 3))
    still_usable(c, "Data-Out after the command ended")
    r = c.read(lba - 4, 4)
    check(r.data == before, "the 4 blocks before the command's blocks changed")
    r = c.read(lba + n, 4)
    check(r.data == after, "the 4 blocks after the command's blocks changed")
    say("the blocks around were not touched")
    c.logout()
    c.close()


@case
def abort_queued(args):
    """ABORT TASK for a command held back by a CmdSN gap (CmdSN N+1 sent, N missing), then
    the gap plugged: the TMF is answered (function complete or task does not exist), the
    plugging command completes GOOD, the aborted one gets no response, and the connection
    goes on. The same with a LOGICAL UNIT RESET."""
    for fn, name in ((1, "ABORT TASK"), (5, "LOGICAL UNIT RESET")):
        c = login_ffp(args)
        n = c.cmdsn
        held = c.next_itt()
        c.send(pdu.scsi_cmd(held, (n + 1) & 0xFFFFFFFF, c.expstatsn, pdu.cdb_read16(0, 8),
                            edtl=4096, read=True))
        tmf = c.next_itt()
        c.send(pdu.tmf_req(tmf, n, c.expstatsn, fn, rtt=held if fn == 1 else RSVD,
                           refcmdsn=(n + 1) & 0xFFFFFFFF))
        try:
            r = c.recv_until(lambda p: p.opcode == pdu.TMF_RSP and p.itt == tmf, 5.0,
                             "TMF response")
        except (Closed, Timeout) as e:
            raise Fail("%s of a held-back command: no answer (%s)" % (name, e))
        check(r.response in (0, 1), "%s of a held-back command: response %d" % (name, r.response))
        say("%s of the command held back by the CmdSN gap: response %d" % (name, r.response))
        # plug the gap with CmdSN n; n+1 was taken by the aborted command, so the next
        # command is n+2
        res = c.scsi(pdu.cdb_tur(), timeout=5)
        c.cmdsn = (n + 2) & 0xFFFFFFFF
        if fn == 5:
            check(res.status == CHECK_CONDITION and res.sense_tuple()[:2] == (0x06, 0x29),
                  "the first command after a LUN RESET: %r, expected a unit attention 6/29h"
                  % res)
            res = c.scsi(pdu.cdb_tur(), timeout=5)
        check(res.status == GOOD, "TEST UNIT READY plugging the gap: %r" % res)
        late = [p for p in c.unexpected if p.itt == held and p.opcode in (SCSI_RSP, pdu.DATA_IN)]
        check(not late, "the aborted command was executed: %r" % late)
        still_usable(c, name)
        res = c.scsi(pdu.cdb_tur(), timeout=5)
        check(res.status == GOOD, "TEST UNIT READY after the gap: %r" % res)
        c.logout()
        c.close()


@case
def held_back_close(args):
    """A connection closed while commands wait for a CmdSN that never comes (N+1..N+5 sent,
    N missing): the session must end and free them (malformed_pdus.sh then checks that
    tetherd still stops at once on SIGTERM)."""
    c = login_ffp(args)
    for i in range(1, 6):
        c.send(pdu.scsi_cmd(c.next_itt(), (c.cmdsn + i) & 0xFFFFFFFF, c.expstatsn,
                            pdu.cdb_write16(64 * i, 8), edtl=4096, write=True,
                            data=bytes(4096)))
    c.ping()
    c.close()
    say("a connection closed with 5 commands held back by a CmdSN gap")
    time.sleep(0.2)


@case
def scsi_errors(args):
    """READ(10) beyond the capacity: CHECK CONDITION, ILLEGAL REQUEST, LBA OUT OF RANGE
    (21h/00h); an unsupported operation code (EFh): INVALID COMMAND OPERATION CODE (20h/00h)."""
    c = login_ffp(args)
    blocks, bs = c.capacity()
    say("capacity %d blocks of %d bytes" % (blocks, bs))
    for what, cdb, n in (("READ(10) at the first LBA past the end", pdu.cdb_read10(blocks, 1), 1),
                         ("READ(10) across the end", pdu.cdb_read10(blocks - 1, 2), 2),
                         ("READ(16) at LBA 2^63", pdu.cdb_read16(1 << 63, 1), 1)):
        r = c.scsi(cdb, read_len=n * bs)
        check(r.status == CHECK_CONDITION, "%s: status %r, expected CHECK CONDITION (%r)"
              % (what, r.status, r))
        check(r.sense_tuple() == (ILLEGAL_REQUEST, 0x21, 0x00),
              "%s: sense %r, expected (5, 0x21, 0x00)" % (what, r.sense_tuple()))
        check(not r.data, "%s: %d bytes of data returned" % (what, len(r.data)))
        say("%s: CHECK CONDITION 5/21h/00h" % what)
    r = c.scsi(bytes([0xEF]) + bytes(9))
    check(r.status == CHECK_CONDITION and r.sense_tuple() == (ILLEGAL_REQUEST, 0x20, 0x00),
          "opcode EFh: %r, expected CHECK CONDITION 5/20h/00h" % r)
    say("opcode EFh: CHECK CONDITION 5/20h/00h")
    # the last block is readable
    r = c.read(blocks - 1, 1, bs)
    check(r.status == GOOD and len(r.data) == bs, "READ of the last block: %r" % r)
    check(not r.violations, "READ of the last block: %s" % r.violations)
    c.logout()
    c.close()


@case
def truncated(args):
    """Connections closed in the middle of a PDU: during login (mid-BHS, mid-data), in full
    feature phase (mid-BHS, mid-data of a NOP-Out, inside a WRITE's data)."""
    # login request cut in its BHS, then in its data
    c = Conn(args.host, args.port)
    lp = c.login_pdu(0, 1, True, [("InitiatorName", pdu.DEFAULT_INITIATOR),
                                  ("TargetName", args.target)])
    raw = c.encode(lp)
    c.send_raw(raw[:30])
    c.close()
    c = Conn(args.host, args.port)
    c.send_raw(raw[:48 + 10])
    c.close()
    say("login request cut mid-BHS and mid-data")
    # full feature phase
    c = login_ffp(args)
    c.send_raw(c.encode(pdu.nop_out(c.next_itt(), c.cmdsn, c.expstatsn))[:20])
    c.close()
    c = login_ffp(args)
    raw = c.encode(pdu.nop_out(c.next_itt(), c.cmdsn, c.expstatsn, data=bytes(4096)))
    c.send_raw(raw[:48 + 1000])
    c.close()
    say("NOP-Out cut mid-BHS and mid-data")
    # a WRITE of 256 KiB: the command, some immediate data, part of one Data-Out
    c = login_ffp(args, op_keys={"InitialR2T": "No", "FirstBurstLength": 131072})
    data = random.randbytes(256 * 1024)
    itt = c.next_itt()
    c.send(pdu.scsi_cmd(itt, c.cmdsn, c.expstatsn, pdu.cdb_write10(64, 512), edtl=len(data),
                        write=True, final=False, data=data[:8192]))
    raw = c.encode(pdu.data_out(itt, RSVD, c.expstatsn, 0, 8192, data[8192:16384], False))
    c.send_raw(raw + raw[:48 + 100])
    c.close()
    say("WRITE cut inside its unsolicited data")
    # a WRITE whose R2T is never answered
    c = login_ffp(args, op_keys={"InitialR2T": "Yes", "ImmediateData": "No"})
    itt = c.next_itt()
    c.send(pdu.scsi_cmd(itt, c.cmdsn, c.expstatsn, pdu.cdb_write10(64, 512), edtl=len(data),
                        write=True))
    r = c.recv_until(lambda p: True, 5.0, "R2T")
    check(r.opcode == pdu.R2T, "a WRITE without immediate data got %r, expected an R2T" % r)
    c.close()
    say("WRITE closed with its R2T unanswered")
    time.sleep(0.3)


def random_pdu(rnd, c):
    """A PDU with valid framing (DataSegmentLength and AHS length match what follows) and
    random contents."""
    ops = [0x00, 0x01, 0x02, 0x04, 0x05, 0x10, 0x01, 0x05, 0x00, 0x03, 0x06]
    op = rnd.choice(ops) if rnd.random() < 0.85 else rnd.randrange(0x40)
    p = Pdu(op, rnd.randrange(256), rnd.random() < 0.5)
    p.bhs[2:4] = rnd.randbytes(2)
    p.bhs[8:48] = rnd.randbytes(40)
    if rnd.random() < 0.5:
        p.lun = rnd.choice([0, 0, 1, 2, 255])
    if rnd.random() < 0.6:
        p.cmdsn = (c.cmdsn + rnd.randrange(-2, 3)) & 0xFFFFFFFF
        p.expstatsn = c.expstatsn
    if op == 0x01 and rnd.random() < 0.7:
        p.bhs[32] = rnd.choice(CDB_OPS)
        if rnd.random() < 0.5:
            p.edtl = rnd.choice([0, 512, 4096, 65536, 1 << 20, rnd.randrange(1 << 32)])
    if rnd.random() < 0.4:
        p.itt = RSVD if rnd.random() < 0.3 else rnd.randrange(1 << 32)
    if rnd.random() < 0.1:
        p.ahs = rnd.randbytes(4 * rnd.randrange(1, 4))
    r = rnd.random()
    if r < 0.5:
        n = 0
    elif r < 0.9:
        n = rnd.randrange(1, 1024)
    else:
        n = rnd.randrange(1, min(c.target_mrdsl, 65536))
    p.data = rnd.randbytes(n)
    return p


CDB_OPS = [0x00, 0x03, 0x12, 0x1A, 0x25, 0x28, 0x2A, 0x35, 0x88, 0x8A, 0x9E, 0xA0, 0x5A,
           0x55, 0x41, 0x93, 0x42, 0x2F, 0x8F, 0x89, 0x5E, 0x5F, 0xA3, 0x4D, 0x15, 0x5A,
           0x1B, 0x1E, 0x2E, 0x3C, 0x3B, 0x83, 0x84, 0x9F, 0xA4]


def valid_pdu(rnd, c, recent):
    """A well-formed PDU of a kind the target serves: a ping, a READ or WRITE (with immediate
    data), a Data-Out for a recent WRITE, a TMF, a SendTargets; recent: ITTs of WRITEs."""
    k = rnd.random()
    itt = c.next_itt()
    lun = rnd.choice([0, 0, 0, 1, 7])
    blocks = rnd.choice([1, 8, 128, 2048])
    lba = rnd.choice([0, 1, rnd.randrange(1 << 17), (1 << 17) - blocks, 1 << 17])
    if k < 0.15:
        return pdu.nop_out(itt, c.cmdsn, c.expstatsn, data=rnd.randbytes(rnd.randrange(64)))
    if k < 0.40:
        p = pdu.scsi_cmd(itt, c.cmdsn, c.expstatsn, pdu.cdb_read16(lba, blocks), lun=lun,
                         edtl=blocks * 512, read=True)
    elif k < 0.65:
        n = min(blocks * 512, 65536, c.target_mrdsl)
        n = rnd.choice([0, n, n // 2])
        p = pdu.scsi_cmd(itt, c.cmdsn, c.expstatsn, pdu.cdb_write16(lba, blocks), lun=lun,
                         edtl=blocks * 512, write=True, final=rnd.random() < 0.5,
                         data=rnd.randbytes(n))
        recent.append((itt, blocks * 512))
        del recent[:-8]
    elif k < 0.80 and recent:
        witt, total = rnd.choice(recent)
        off = rnd.choice([0, 512, 4096, total - 512, total])
        n = rnd.choice([512, 4096, 8192])
        return pdu.data_out(witt, rnd.choice([RSVD, RSVD, rnd.randrange(1 << 32)]),
                            c.expstatsn, rnd.randrange(4), off, rnd.randbytes(n),
                            rnd.random() < 0.5, lun=lun)
    elif k < 0.90:
        fn = rnd.choice([1, 2, 3, 4, 5, 6, 7, 8, 14])
        rtt = rnd.choice(recent)[0] if recent and rnd.random() < 0.6 else rnd.randrange(1 << 32)
        return pdu.tmf_req(itt, c.cmdsn, c.expstatsn, fn, lun=lun, rtt=rtt, refcmdsn=c.cmdsn - 1)
    elif k < 0.95:
        p = pdu.scsi_cmd(itt, c.cmdsn, c.expstatsn, bytes([rnd.choice(CDB_OPS)]) +
                         rnd.randbytes(15), lun=lun, edtl=rnd.choice([0, 36, 512, 4096]),
                         read=True)
    else:
        return pdu.text_req(itt, c.cmdsn, c.expstatsn, {"SendTargets": "All"})
    c.cmdsn = (c.cmdsn + 1) & 0xFFFFFFFF
    return p


def mutate(rnd, p):
    """Changes 1 to 3 random bytes of the BHS, leaving the framing (bytes 4-7) alone."""
    for _ in range(rnd.randrange(1, 4)):
        i = rnd.choice([x for x in range(48) if x not in (4, 5, 6, 7)])
        p.bhs[i] = rnd.randrange(256)
    return p


@case
def fuzz(args):
    """1,000 PDUs with valid framing on logged-in connections (a new one whenever the target
    drops it): a third random, a third well-formed (pings, READ, WRITE with immediate data,
    Data-Out, TMF, SendTargets), a third well-formed with 1 to 3 BHS bytes changed. Answers
    are read and dropped. The target must survive, and keep reading."""
    rnd = random.Random(args.seed)
    total = int(args.opts.get("count", 1000))
    say("seed %d, %d PDUs" % (args.seed, total))
    sent = drops = answers = 0
    c = None
    recent = []
    t0 = time.monotonic()
    while sent < total:
        if c is None:
            c = login_ffp(args, clear_ua=(), op_keys={"InitialR2T": "No"})
            c.sock.settimeout(10)
            recent = []
        k = rnd.random()
        if k < 1 / 3:
            p = random_pdu(rnd, c)
        elif k < 2 / 3:
            p = valid_pdu(rnd, c, recent)
        else:
            p = mutate(rnd, valid_pdu(rnd, c, recent))
        try:
            c.send(p)
            sent += 1
            while True:     # drain without waiting
                try:
                    x = c.recv(0.0 if rnd.random() < 0.9 else 0.02)
                    answers += 1
                    if x.opcode == NOP_IN and x.itt == RSVD and x.ttt != RSVD:
                        c.answer_nop_in(x)
                except Timeout:
                    break
        except (Closed, Fail):
            drops += 1
            c.close()
            c = None
            sent += 1
        except Timeout as e:
            raise Fail("the target stopped reading after %d PDUs: %s" % (sent, e))
        check(time.monotonic() - t0 < 40, "fuzzing takes too long (%d PDUs in 40 s)" % sent)
    if c is not None:
        c.close()
    say("%d PDUs sent, %d PDUs received, the target closed %d connections" % (sent, answers,
                                                                                 drops))


if __name__ == "__main__":
    sys.exit(pdu.run_cases(CASES, description=__doc__))
