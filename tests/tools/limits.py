#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Resource limits of a running tetherd (docs/security.md), for tests/interop/limits.sh.

  limits.py --port P [--target IQN] --opt KEY=VALUE... CASE...

Options (the limits the daemon was configured with): prelogin=N (max_prelogin_per_address),
connections=N (max_connections), initiator=N (max_connections_per_initiator), login_pdus=N
(max_login_pdus), login_text=N (max_login_text), session_buffer=BYTES, pid=PID (tetherd's, for
its memory), window=N (cmd_window).

Every case logs in a well-behaved session first, and checks at its end that it still reads and
writes what it wrote (the limits hit the hostile peer, not the others).

Cases:
  prelogin    N connections from 127.0.0.1 that never log in: the next one from that address
              is closed at once, one from 127.0.0.2 is not; when one of the N goes, the
              address may connect (and log in) again
  connections connections from many addresses up to max_connections: the next one is closed
              at once, whatever its address; one going makes room
  initiator   N sessions of one initiator name: the next login gets status 0302h with no data
              segment; another initiator name logs in; one session logging out makes room
  login-pdus  a login that continues its text PDU after PDU: refused with 0200h after
              max_login_pdus requests; one whose text exceeds max_login_text: refused too
  buffer      writes waiting for their data hold the session's buffer allowance: the next
              command gets TASK SET FULL, nothing else; a command without data still runs;
              the daemon's memory does not grow with the commands sent (checked with a
              flood of window-full of 64 MiB writes); the session goes on once they are gone
  busy        sessions of other initiators hold the daemon's buffer allowance (max_buffer, opt
              buffer=BYTES): a read of a session holding nothing gets BUSY; once they go, it
              reads and writes again
  window      MaxCmdSN - ExpCmdSN + 1 starts at cmd_window and shrinks with each command
              left outstanding
"""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pdu  # noqa: E402
from pdu import Closed, Conn, Fail, Timeout, check  # noqa: E402

CASES = {}
GOOD_INI = "iqn.2026-11.org.tether:limits-good"


def case(fn):
    CASES[fn.__name__.replace("_", "-")] = fn
    return fn


def say(msg):
    print("    " + msg, flush=True)


def opt(args, key):
    return int(args.opts[key])


def raw_connect(args, src=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if src:
        s.bind((src, 0))
    s.settimeout(5.0)
    s.connect((args.host, args.port))
    return s


def closed_at_once(s, secs=3.0):
    """True when the target closes @s without a word within secs."""
    s.settimeout(secs)
    try:
        data = s.recv(1)
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True
    return data == b""


def still_open(s, secs=0.5):
    s.settimeout(secs)
    try:
        data = s.recv(1)
    except socket.timeout:
        return True
    except OSError:
        return False
    return data != b""


def good_session(args):
    c = pdu.connect_login(args.host, args.port, args.target, initiator=GOOD_INI)
    return c


def good_io(c, what):
    data = os.urandom(4096)
    pdu.write_verify(c, 8, data, what="good session " + what)
    c.ping(b"still here")


def retry(fn, what, secs=5.0):
    deadline = time.monotonic() + secs
    while True:
        try:
            return fn()
        except (Fail, Closed, Timeout, OSError) as e:
            if time.monotonic() > deadline:
                raise Fail("%s: %s" % (what, e))
            time.sleep(0.1)


@case
def prelogin(args):
    n = opt(args, "prelogin")
    good = good_session(args)
    held = [raw_connect(args, "127.0.0.1") for _ in range(n)]
    time.sleep(1.0)  # each is handed to its loop and counted there
    for s in held:
        check(still_open(s, 0.05), "a connection within max_prelogin_per_address was closed")
    extra = raw_connect(args, "127.0.0.1")
    check(closed_at_once(extra), "connection %d from 127.0.0.1 (max_prelogin_per_address %d) "
          "was not closed at once" % (n + 1, n))
    extra.close()
    say("connection %d from 127.0.0.1 before login: closed at once" % (n + 1))
    flood = int(args.opts.get("flood", "0"))
    for _ in range(flood):
        s = raw_connect(args, "127.0.0.1")
        check(closed_at_once(s), "a connection of the flood was not closed at once")
        s.close()
    if flood:
        say("%d more from 127.0.0.1: all closed at once" % flood)
    other = raw_connect(args, "127.0.0.2")
    check(still_open(other), "a connection from 127.0.0.2 was closed while 127.0.0.1 was at "
          "its cap")
    other.close()
    say("a connection from 127.0.0.2 meanwhile: accepted")
    good_io(good, "with 127.0.0.1 at its pre-login cap")
    held.pop().close()

    def again():
        c = Conn(args.host, args.port)
        try:
            c.login(target=args.target, initiator="iqn.2026-11.org.tether:limits-again")
        except Exception:
            c.close()
            raise
        return c
    c = retry(again, "a login from 127.0.0.1 after one pre-login connection went")
    say("one of them closed: 127.0.0.1 logs in again")
    c.logout()
    c.close()
    for s in held:
        s.close()
    good_io(good, "at the end")
    good.logout()
    good.close()


@case
def connections(args):
    n = opt(args, "connections")
    good = good_session(args)      # one of the n
    held = []
    # one address per connection: the per-address cap does not come into it
    for i in range(n - 1):
        held.append(raw_connect(args, "127.0.1.%d" % (i + 1)))
    time.sleep(1.0)
    check(all(still_open(s, 0.05) for s in held), "a connection within max_connections closed")
    extra = raw_connect(args, "127.0.2.1")
    check(closed_at_once(extra), "connection %d (max_connections %d) was not closed at once"
          % (n + 1, n))
    extra.close()
    say("connection %d: closed at once (max_connections %d)" % (n + 1, n))
    good_io(good, "with the daemon at max_connections")
    held.pop().close()

    def room():
        s = raw_connect(args, "127.0.2.2")
        if not still_open(s, 0.3):
            s.close()
            raise Fail("closed")
        return s
    s = retry(room, "a connection after one of max_connections went")
    say("one closed: a new connection is accepted")
    s.close()
    for h in held:
        h.close()
    good_io(good, "at the end")
    good.logout()
    good.close()


@case
def initiator(args):
    n = opt(args, "initiator")
    ini = "iqn.2026-11.org.tether:limits-many"
    good = good_session(args)
    sessions = [pdu.connect_login(args.host, args.port, args.target, initiator=ini)
                for _ in range(n)]
    c = Conn(args.host, args.port)
    r = c.login(target=args.target, initiator=ini, check_status=False)
    check(r.login_status == 0x0302, "login %d of one initiator (max_connections_per_initiator "
          "%d): status 0x%04x, expected 0x0302" % (n + 1, n, r.login_status))
    check(len(r.data) == 0, "the refusal carries %d bytes of text: %r" % (len(r.data), r.data))
    check(c.is_closed(2.0), "the refused connection stays open")
    c.close()
    say("login %d of %s: 0x0302 (out of resources), no text, closed" % (n + 1, ini))
    other = pdu.connect_login(args.host, args.port, args.target,
                              initiator="iqn.2026-11.org.tether:limits-other")
    say("another initiator logs in meanwhile")
    good_io(good, "with an initiator at its cap")
    sessions.pop().logout()

    def again():
        c = pdu.connect_login(args.host, args.port, args.target, initiator=ini)
        return c
    c = retry(again, "a login after one session of the initiator logged out")
    say("one session logged out: the initiator logs in again")
    for s in sessions + [c, other]:
        s.logout()
        s.close()
    good_io(good, "at the end")
    good.logout()
    good.close()


def login_stream(args, pieces):
    """A login whose operational text goes on with the C bit, one piece per PDU; returns
    (number of PDUs answered with an empty continue response, the final status or None)."""
    c = Conn(args.host, args.port)
    first = pdu.encode_keys([("InitiatorName", "iqn.2026-11.org.tether:limits-talker"),
                             ("TargetName", args.target), ("SessionType", "Normal")])
    answered = 0
    for i, piece in enumerate(pieces):
        data = first + piece if i == 0 else piece
        p = c.login_pdu(pdu.STAGE_OPERATIONAL, pdu.STAGE_OPERATIONAL, False, data)
        p.flags |= pdu.F_CONTINUE
        try:
            c.send(p)
            r = c.recv_until(lambda x: True, 5.0, "Login Response")
        except Closed:
            return answered, None, c
        check(r.opcode == pdu.LOGIN_RSP, "a %r answers a Login Request" % r)
        if r.login_status:
            check(len(r.data) == 0, "the refusal carries text: %r" % r.data)
            return answered, r.login_status, c
        answered += 1
    return answered, 0, c


@case
def login_pdus(args):
    n = opt(args, "login_pdus")
    good = good_session(args)
    # "X-a=" then "b" ... : a key that never ends, one byte per PDU
    answered, status, c = login_stream(args, [b"X-key="] + [b"b"] * (n + 5))
    check(status == 0x0200, "a login of more than %d PDUs: status %r after %d answers, "
          "expected 0x0200" % (n, status, answered))
    check(answered == n, "%d PDUs answered before the refusal, expected %d" % (answered, n))
    check(c.is_closed(2.0), "the connection stays open after the refusal")
    c.close()
    say("a login of more than %d PDUs: refused with 0x0200 after %d" % (n, answered))
    t = opt(args, "login_text")
    chunk = b"b" * 1000
    answered, status, c = login_stream(args, [b"X-key="] + [chunk] * (t // 1000 + 2))
    check(status == 0x0200, "a login with more than %d bytes of text: status %r" % (t, status))
    check(answered * 1000 <= t + 1000, "%d PDUs of 1000 bytes answered (max_login_text %d)"
          % (answered, t))
    c.close()
    say("a login with more than %d bytes of text: refused with 0x0200 after %d PDUs"
        % (t, answered))
    good_io(good, "after the long logins")
    good.logout()
    good.close()


def vm_kib(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise Fail("no %s in /proc/%d/status" % (field, pid))


def hold_write(c, blocks, lba=0):
    """A WRITE whose data is not sent (InitialR2T=Yes, no immediate data): the target allocates
    its buffer and waits. Returns its ITT."""
    itt = c.next_itt()
    c.send(pdu.scsi_cmd(itt, c.cmdsn, c.expstatsn, pdu.cdb_write16(lba, blocks), edtl=blocks * 512,
                        write=True, final=True))
    c.cmdsn = (c.cmdsn + 1) & 0xFFFFFFFF
    return itt


def wait_r2ts(c, n, secs=20.0):
    """Reads until the target has sent n R2Ts: the writes that asked for them hold their
    buffers now."""
    for _ in range(n):
        c.recv_until(lambda x: x.opcode == pdu.R2T, secs, "R2T")


def statuses(c, itts, secs=20.0):
    """The SCSI status of each ITT in itts (SCSI Response or Data-In with status); R2Ts and
    other PDUs are set aside."""
    got = {}
    deadline = time.monotonic() + secs
    while len(got) < len(itts):
        left = deadline - time.monotonic()
        if left <= 0:
            raise Timeout("%d of %d statuses after %.0f s" % (len(got), len(itts), secs))
        p = c.recv_until(lambda x: True, left, "SCSI Response")
        if p.opcode == pdu.SCSI_RSP and p.itt in itts:
            got[p.itt] = p.status
        elif p.opcode == pdu.DATA_IN and (p.flags & pdu.F_STATUS) and p.itt in itts:
            got[p.itt] = p.status
    return got


@case
def buffer(args):
    limit = opt(args, "session_buffer")
    pid = opt(args, "pid")
    good = good_session(args)
    ops = {"InitialR2T": "Yes", "ImmediateData": "No"}
    hog = pdu.connect_login(args.host, args.port, args.target,
                            initiator="iqn.2026-11.org.tether:limits-hog", op_keys=ops)
    # writes of 256 KiB without their data: limit / 256 KiB of them fit
    fit = limit // (256 * 1024)
    for i in range(fit):
        hold_write(hog, 512, lba=i * 512)
    wait_r2ts(hog, fit)
    itt = hog.next_itt()
    hog.send(pdu.scsi_cmd(itt, hog.cmdsn, hog.expstatsn, pdu.cdb_read10(0, 8), edtl=4096,
                          read=True))
    hog.cmdsn = (hog.cmdsn + 1) & 0xFFFFFFFF
    st = statuses(hog, {itt})
    check(st[itt] == 0x28, "a read with the session's buffers held: status 0x%02x, expected "
          "TASK SET FULL (0x28)" % st[itt])
    say("%d writes of 256 KiB hold max_session_buffer (%d): the next read gets TASK SET FULL"
        % (fit, limit))
    r = hog.scsi(pdu.cdb_tur())
    check(r.status == 0, "TEST UNIT READY (no data) meanwhile: status 0x%02x" % r.status)
    good_io(good, "while another session holds its whole buffer allowance")
    hog.close()

    # a flood: a window-full of 64 MiB writes whose data never comes, each more than the
    # session may hold: every one refused, none allocated
    rss0, vm0 = vm_kib(pid, "VmRSS"), vm_kib(pid, "VmSize")
    flood = pdu.connect_login(args.host, args.port, args.target,
                              initiator="iqn.2026-11.org.tether:limits-flood", op_keys=ops)
    flood.ping()
    window = (flood.maxcmdsn - flood.cmdsn + 1) & 0xFFFFFFFF
    itts = [hold_write(flood, 131072, lba=0) for _ in range(window)]
    got = statuses(flood, set(itts))
    full = sum(1 for s in got.values() if s == 0x28)
    check(full == len(got), "%d of %d writes of 64 MiB got TASK SET FULL: statuses %r"
          % (full, len(got), sorted(set(got.values()))))
    rss1, vm1 = vm_kib(pid, "VmRSS"), vm_kib(pid, "VmSize")
    say("a window of %d writes of 64 MiB: all TASK SET FULL; tetherd RSS %+d MiB, virtual "
        "%+d MiB" % (window, (rss1 - rss0) // 1024, (vm1 - vm0) // 1024))
    check(rss1 - rss0 < 256 * 1024, "tetherd's RSS grew by %d MiB" % ((rss1 - rss0) // 1024))
    check(vm1 - vm0 < 1024 * 1024, "tetherd's virtual size grew by %d MiB"
          % ((vm1 - vm0) // 1024))
    flood.close()
    good_io(good, "after the flood")
    good.logout()
    good.close()


@case
def busy(args):
    limit = opt(args, "session_buffer")
    total = opt(args, "buffer")
    good = good_session(args)
    ops = {"InitialR2T": "Yes", "ImmediateData": "No"}
    hogs = []
    for h in range(total // limit):
        hog = pdu.connect_login(args.host, args.port, args.target,
                                initiator="iqn.2026-11.org.tether:limits-hog%d" % h, op_keys=ops)
        for i in range(limit // (256 * 1024)):
            hold_write(hog, 512, lba=i * 512)
        wait_r2ts(hog, limit // (256 * 1024))
        hogs.append(hog)
    r = good.scsi(pdu.cdb_read10(0, 8), read_len=4096)
    check(r.status == 0x08, "a read with the daemon's buffers held: status 0x%02x, expected BUSY "
          "(0x08)" % r.status)
    say("%d sessions hold max_buffer (%d): another session's read gets BUSY" % (len(hogs), total))
    r = good.scsi(pdu.cdb_tur())
    check(r.status == 0, "TEST UNIT READY meanwhile: status 0x%02x" % r.status)
    for hog in hogs:
        hog.close()

    def works():
        good_io(good, "once the other sessions went")
    retry(works, "I/O once the buffers are free")
    say("they go: the session reads and writes again")
    good.logout()
    good.close()


@case
def window(args):
    w = opt(args, "window")
    ops = {"InitialR2T": "Yes", "ImmediateData": "No"}
    c = pdu.connect_login(args.host, args.port, args.target,
                          initiator="iqn.2026-11.org.tether:limits-window", op_keys=ops)
    c.ping()
    span = (c.maxcmdsn - c.cmdsn + 1) & 0xFFFFFFFF
    check(span == w, "MaxCmdSN - ExpCmdSN + 1 = %d after login, expected cmd_window %d"
          % (span, w))
    for i in range(3):
        hold_write(c, 8, lba=i * 8)
    time.sleep(0.2)
    c.ping()
    span = (c.maxcmdsn - c.cmdsn + 1) & 0xFFFFFFFF
    check(span == w - 3, "with 3 commands outstanding the window is %d, expected %d"
          % (span, w - 3))
    say("window %d after login, %d with 3 writes outstanding" % (w, span))
    c.close()


if __name__ == "__main__":
    sys.exit(pdu.run_cases(CASES, description=__doc__))
