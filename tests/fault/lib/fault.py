#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The initiator side of the fault scenarios (tests/fault/*.sh), built on tests/tools/pdu.py.

Each case is run by name (pdu.run_cases: --host, --port, --target, --opt KEY=VALUE):
  hold              log in and stay: answer the target's NOP-Ins (io=none) or keep writes in
                    flight (io=stream, depth=N); prints READY, then runs until seconds=S
  smoke             a fresh session writes 4 KiB, reads them back, logs out
  churn             cycles=N login+logout cycles in workers=W processes (limit=S seconds at most);
                    prints "churn cycles=N seconds=S"
  abrupt            cycles=N logins, each cut in the middle of a transfer (RST or FIN)
  concurrent        sessions=N sessions at once, each writing and reading its own blocks; prints
                    READY N when all are logged in, waits for the file release=PATH, then does I/O
                    again and logs out
  reinstate-wait    a write parked in a slow backend, then the same initiator port logs in again:
                    the login completes after the write left the backend, the data is on the LUN
  reinstate-fence   old session writes A to block X (parked), reinstate, new session writes B:
                    B stays
  reinstate-window  a write held in the old session's command window (CmdSN gap) never runs
  reinstate-ghost   the old path cut silently with a WRITE in the network, reinstatement through
                    a second portal (host2=ADDR), overwrite, cut lifted: the stale write never lands
  reinstate-drain   the old write never completes (hang): the login waits for the drain bound
  shutdown-logout   wait for the Async Message asking to log out, log out
  shutdown-ignore   wait for the Async Message, do not log out; report when the target closes
  portal-write      log in with isid=HEX, write pattern tag=T at LBA 64, stay (seconds=S)
  portal-read       log in with isid=HEX (reinstatement), read LBA 64, compare with tag=T
Lines starting with "FIGURE " are measurements the shell script reports.
"""

import os
import random
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import pdu  # noqa: E402
from pdu import (ASYNC_MSG, GOOD, R2T, REJECT, RSVD, SCSI_RSP, Closed, Conn, Fail,  # noqa: E402
                 Timeout, check)

INITIATOR = "iqn.2026-11.org.tether:fault"
BS = 512


def say(msg):
    print(msg, flush=True)


def opt(args, key, default, conv=str):
    v = args.opts.get(key)
    return default if v is None else conv(v)


def pattern(tag, nbytes):
    """Deterministic bytes for a tag: every 512-byte block names the tag and its index."""
    out = bytearray()
    i = 0
    while len(out) < nbytes:
        head = ("%s:%d:" % (tag, i)).encode()
        blk = (head * (BS // len(head) + 1))[:BS]
        out += blk
        i += 1
    return bytes(out[:nbytes])


def login(args, isid=None, initiator=INITIATOR, timeout=5.0, clear_ua=(0,), security=True):
    c = Conn(args.host, args.port, timeout)
    c.login(initiator=initiator, target=args.target, isid=isid, security=security)
    for lun in clear_ua:
        c.clear_ua(lun)
    return c


def rst_close(c):
    """Close with SO_LINGER 0: the peer gets a RST, not a FIN."""
    try:
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    c.close()


def send_write(c, lun, lba, data, imm=None, final=True):
    """Sends a WRITE(16) of data (Expected Data Transfer Length = its length) with its first
    imm bytes (all by default) as immediate data, and returns its ITT without waiting.
    final=False announces unsolicited Data-Out to follow."""
    itt = c.next_itt()
    imm_data = data if imm is None else data[:imm]
    cmd = pdu.scsi_cmd(itt, c.cmdsn, c.expstatsn, pdu.cdb_write16(lba, len(data) // BS), lun=lun,
                       edtl=len(data), write=True, final=final, data=imm_data)
    c.send(cmd)
    c.cmdsn = (c.cmdsn + 1) & 0xFFFFFFFF
    return itt


def wait_response(c, itt, timeout):
    return c.recv_until(lambda p: p.itt == itt and p.opcode in (SCSI_RSP, REJECT), timeout,
                        "the response to ITT 0x%08x" % itt)


# ---- hold ---------------------------------------------------------------------------------

class Stream:
    """Writes kept in flight: depth commands outstanding at every moment."""

    def __init__(self, c, lun, depth, blocks=8):
        self.c, self.lun, self.depth, self.blocks = c, lun, depth, blocks
        self.out = {}
        self.done = 0
        self.data = pattern("stream", blocks * BS)

    def fill(self):
        while len(self.out) < self.depth:
            lba = random.randrange(0, 4096) * self.blocks
            itt = send_write(self.c, self.lun, lba, self.data)
            self.out[itt] = time.monotonic()

    def step(self, timeout):
        p = self.c.recv_until(lambda p: p.opcode in (SCSI_RSP, REJECT, R2T), timeout, "a response")
        check(p.opcode == SCSI_RSP, "a write got %r" % p)
        check(p.status == GOOD, "a streamed write failed: %r" % p)
        self.out.pop(p.itt, None)
        self.done += 1
        self.fill()


def case_hold(args):
    seconds = opt(args, "seconds", 30.0, float)
    io = opt(args, "io", "none")
    lun = opt(args, "lun", 0, int)
    c = login(args, clear_ua=(lun,))
    stream = None
    if io == "stream":
        stream = Stream(c, lun, opt(args, "depth", 16, int))
        stream.fill()
        stream.step(10)
    say("READY tsih=%d isid=%s" % (c.tsih, c.isid.hex()))
    deadline = time.monotonic() + seconds
    last = time.monotonic()
    while time.monotonic() < deadline:
        try:
            if stream:
                stream.step(0.2)
            else:
                c.recv_until(lambda p: False, 0.2)
            last = time.monotonic()
        except Timeout:
            continue
        except Closed as e:
            say("CLOSED by the target (%s), %.2f s after the last PDU" % (e, time.monotonic() - last))
            return
    if stream:
        say("streamed %d writes" % stream.done)
    say("held %.0f s" % seconds)


def case_smoke(args):
    """A fresh session writes, reads back and logs out."""
    lun = opt(args, "lun", 0, int)
    c = login(args, initiator="%s-smoke" % INITIATOR, clear_ua=(lun,))
    lba = random.randrange(0, 1024) * 8
    pdu.write_verify(c, lba, pattern("smoke-%d" % lba, 8 * BS), lun=lun, what="smoke WRITE")
    c.logout()
    c.close()


# ---- churn --------------------------------------------------------------------------------

def _workers(n, fn):
    """Runs fn(index) in n forked processes; each returns an int; returns their sum (raises
    Fail when one failed)."""
    pipes = []
    for i in range(n):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            code = 0
            try:
                random.seed(os.urandom(8))
                res = fn(i)
                os.write(w, ("ok %d\n" % res).encode())
            except BaseException as e:  # report every failure to the parent
                os.write(w, ("err %s: %s\n" % (type(e).__name__, e)).encode()[:4000])
                code = 1
            os._exit(code)
        os.close(w)
        pipes.append((pid, r))
    total, errors = 0, []
    for pid, r in pipes:
        msg = b""
        while True:
            chunk = os.read(r, 4096)
            if not chunk:
                break
            msg += chunk
        os.close(r)
        os.waitpid(pid, 0)
        text = msg.decode(errors="replace").strip()
        if text.startswith("ok "):
            total += int(text[3:])
        else:
            errors.append(text or "worker died")
    if errors:
        raise Fail("; ".join(errors))
    return total


def case_churn(args):
    cycles = opt(args, "cycles", 10000, int)
    workers = opt(args, "workers", 4, int)
    limit = opt(args, "limit", 80.0, float)
    t0 = time.monotonic()
    stop_at = t0 + limit

    def work(i):
        n = 0
        share = cycles // workers + (1 if i < cycles % workers else 0)
        name = "%s-churn-%d" % (INITIATOR, i)
        while n < share and time.monotonic() < stop_at:
            c = Conn(args.host, args.port, 10.0)
            try:
                c.login(initiator=name, target=args.target, security=n % 2 == 0)
                c.logout()
            finally:
                c.close()
            n += 1
        return n

    done = _workers(workers, work)
    dt = time.monotonic() - t0
    say("churn cycles=%d seconds=%.1f (%.0f per second)" % (done, dt, done / dt))
    say("FIGURE churn_cycles=%d" % done)
    say("FIGURE churn_seconds=%.1f" % dt)


def _abrupt_one(args, k):
    """One login cut in the middle of a transfer; the kind rotates with k."""
    c = Conn(args.host, args.port, 10.0)
    try:
        c.login(initiator="%s-abrupt" % INITIATOR, target=args.target, security=False)
        c.clear_ua(0)
        c.clear_ua(1)
        kind = k % 5
        if kind == 0:
            # WRITE of 64 KiB: 8 KiB immediate, one unsolicited Data-Out of 8 KiB, then RST
            data = pattern("abrupt0", 65536)
            itt = send_write(c, 0, 1024, data, imm=8192, final=False)
            c.send(pdu.data_out(itt, RSVD, c.expstatsn, 0, 8192, data[8192:16384], False))
            rst_close(c)
        elif kind == 1:
            # WRITE of 256 KiB: first burst unsolicited, then half of the first R2T, then RST
            data = pattern("abrupt1", 262144)
            itt = send_write(c, 0, 2048, data, imm=8192, final=False)
            off, sn = 8192, 0
            while off < 65536:
                n = min(8192, 65536 - off)
                c.send(pdu.data_out(itt, RSVD, c.expstatsn, sn, off, data[off:off + n],
                                    off + n >= 65536))
                off += n
                sn += 1
            r = c.recv_until(lambda p: p.opcode in (R2T, SCSI_RSP, REJECT), 5, "R2T")
            check(r.opcode == R2T, "no R2T for a 256 KiB write: %r" % r)
            half = r.desired // 2
            c.send(pdu.data_out(itt, r.ttt, c.expstatsn, 0, r.offset,
                                data[r.offset:r.offset + min(half, 8192)], False))
            rst_close(c)
        elif kind == 2:
            # a complete WRITE to the slow LUN (1), then RST while it is in the backend
            send_write(c, 1, 512 + (k % 64) * 8, pattern("abrupt2", 4096))
            time.sleep(0.002)
            rst_close(c)
        elif kind == 3:
            # a partial unsolicited WRITE, then FIN instead of RST
            data = pattern("abrupt3", 65536)
            send_write(c, 0, 3072, data, imm=4096, final=False)
            c.sock.shutdown(socket.SHUT_WR)
            c.close()
        else:
            # a 1 MiB READ, RST before reading the Data-In
            itt = c.next_itt()
            c.send(pdu.scsi_cmd(itt, c.cmdsn, c.expstatsn, pdu.cdb_read16(0, 2048), lun=0,
                                edtl=2048 * BS, read=True))
            c.cmdsn += 1
            time.sleep(0.001)
            rst_close(c)
    finally:
        c.close()


def case_abrupt(args):
    cycles = opt(args, "cycles", 1000, int)
    workers = opt(args, "workers", 4, int)
    t0 = time.monotonic()

    def work(i):
        n = 0
        for k in range(i, cycles, workers):
            _abrupt_one(args, k)
            n += 1
        return n

    done = _workers(workers, work)
    dt = time.monotonic() - t0
    say("abrupt disconnects=%d seconds=%.1f" % (done, dt))
    say("FIGURE abrupt_disconnects=%d" % done)


# ---- concurrent sessions ------------------------------------------------------------------

def case_concurrent(args):
    n = opt(args, "sessions", 256, int)
    release = opt(args, "release", "")
    hold_max = opt(args, "hold", 60.0, float)
    logins = threading.Semaphore(opt(args, "parallel_logins", 32, int))
    ready = threading.Semaphore(0)
    go = threading.Event()
    errors = []
    done = [0]
    lock = threading.Lock()

    def session(i):
        c = None
        try:
            with logins:
                c = login(args, initiator="%s-c%d" % (INITIATOR, i), timeout=20.0)
            lba = 8192 + i * 16
            pdu.write_verify(c, lba, pattern("c%d-a" % i, 8 * BS), what="session %d WRITE" % i)
            ready.release()
            t_end = time.monotonic() + hold_max
            k = 0
            while not go.wait(0.5):
                # I/O goes on while every session is held
                k += 1
                pdu.write_verify(c, lba, pattern("c%d-%d" % (i, k), 8 * BS),
                                 what="session %d WRITE while held" % i)
                if time.monotonic() > t_end:
                    raise Fail("session %d: never released" % i)
            pdu.write_verify(c, lba, pattern("c%d-b" % i, 8 * BS), what="session %d WRITE 2" % i)
            c.logout()
            with lock:
                done[0] += 1
        except (Fail, Closed, Timeout, OSError) as e:
            with lock:
                errors.append("session %d: %s: %s" % (i, type(e).__name__, e))
            ready.release()
        finally:
            if c:
                c.close()

    t0 = time.monotonic()
    threads = [threading.Thread(target=session, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for _ in range(n):
        ready.acquire()
    say("READY %d sessions logged in and written in %.1f s (%d errors)"
        % (n - len(errors), time.monotonic() - t0, len(errors)))
    if release:
        deadline = time.monotonic() + hold_max
        while not os.path.exists(release) and time.monotonic() < deadline:
            time.sleep(0.05)
    go.set()
    for t in threads:
        t.join(60)
    say("%d sessions completed in %.1f s" % (done[0], time.monotonic() - t0))
    if errors:
        raise Fail("%d sessions failed; first: %s" % (len(errors), "; ".join(errors[:5])))
    check(done[0] == n, "%d of %d sessions completed" % (done[0], n))


# ---- reinstatement ------------------------------------------------------------------------

def _reinstate(args, old, what):
    """A new connection logs in with the old one's initiator name and ISID (TSIH 0). Returns
    (connection, seconds the login took, monotonic time it completed)."""
    new = Conn(args.host, args.port, 60.0)
    t0 = time.monotonic()
    try:
        new.login(initiator=INITIATOR, target=args.target, isid=old.isid)
    except (Closed, Timeout) as e:
        raise Fail("%s: the reinstating login got no final Login Response: %s after %.1f s"
                   % (what, e, time.monotonic() - t0))
    t1 = time.monotonic()
    say("%s: the reinstating login took %.0f ms" % (what, (t1 - t0) * 1000))
    check(new.tsih != old.tsih, "%s: the new session has the old TSIH %d" % (what, old.tsih))
    return new, t1 - t0, t1


def _check_no_old_response(new, old_itts, what):
    stray = [p for p in new.unexpected if p.itt in old_itts]
    check(not stray, "%s: the new connection received a response for the old session's "
          "command(s): %r" % (what, stray))


def case_reinstate_wait(args):
    delay = opt(args, "delay_ms", 3000, int) / 1000.0
    x = 100
    old = login(args)
    data = pattern("old-A", BS)
    t_w = time.monotonic()
    itt = send_write(old, 0, x, data)
    # the write is in the backend once the target answered a later ping on the same connection
    old.ping(timeout=5)
    new, took, t_done = _reinstate(args, old, "reinstate-wait")
    after_write = t_done - t_w
    say("FIGURE reinstate_login_ms=%d" % (took * 1000))
    say("FIGURE reinstate_after_write_ms=%d" % (after_write * 1000))
    check(after_write >= delay - 0.15,
          "the reinstating login completed %.0f ms after the old write was sent, before the "
          "backend's %.0f ms delay ended: the old write was still in the backend"
          % (after_write * 1000, delay * 1000))
    check(old.is_closed(2.0), "the old connection is still open after reinstatement")
    stray = [p for p in old.unexpected if p.itt == itt and p.opcode == SCSI_RSP]
    if stray:
        say("note: the old connection received the old write's response before closing")
    new.clear_ua()
    r = new.read(x, 1)
    check(r.status == GOOD, "READ through the new session: %r" % r)
    check(r.data == data, "the old write's data is not on the LUN after reinstatement")
    _check_no_old_response(new, {itt}, "reinstate-wait")
    new.logout()
    new.close()


def case_reinstate_fence(args):
    delay = opt(args, "delay_ms", 3000, int) / 1000.0
    x = 200
    old = login(args)
    a, b = pattern("stale-A", BS), pattern("new-B", BS)
    t_w = time.monotonic()
    itt = send_write(old, 0, x, a)
    old.ping(timeout=5)
    new, took, t_done = _reinstate(args, old, "reinstate-fence")
    check(t_done - t_w >= delay - 0.15, "the reinstating login completed %.0f ms after the "
          "old write (backend delay %.0f ms)" % ((t_done - t_w) * 1000, delay * 1000))
    new.clear_ua()
    w = new.write(x, b)
    check(w.status == GOOD, "WRITE B through the new session: %r" % w)
    r = new.read(x, 1)
    check(r.status == GOOD, "READ through the new session: %r" % r)
    check(r.data != a, "the stale write A landed after B")
    check(r.data == b, "block %d holds neither A nor B" % x)
    time.sleep(delay)
    r = new.read(x, 1)
    check(r.status == GOOD and r.data == b, "block %d changed %.0f s after B was written (stale "
          "A landed: %s)" % (x, delay, r.data == a))
    _check_no_old_response(new, {itt}, "reinstate-fence")
    new.logout()
    new.close()


def case_reinstate_window(args):
    lun = opt(args, "lun", 0, int)
    x = 300
    old = login(args, clear_ua=(lun,))
    before = pattern("before", BS)
    w = old.write(x, before, lun=lun)
    check(w.status == GOOD, "WRITE before: %r" % w)
    a = pattern("held-A", BS)
    # a WRITE one CmdSN ahead of its turn: the target holds it in the command window
    itt = old.next_itt()
    old.send(pdu.scsi_cmd(itt, (old.cmdsn + 1) & 0xFFFFFFFF, old.expstatsn,
                          pdu.cdb_write16(x, 1), lun=lun, edtl=BS, write=True, data=a))
    old.ping(timeout=5)
    new, took, _ = _reinstate(args, old, "reinstate-window")
    say("FIGURE reinstate_window_login_ms=%d" % (took * 1000))
    check(took < 5.0, "the reinstating login waited %.1f s for a command that never ran" % took)
    new.clear_ua(lun)
    r = new.read(x, 1, lun=lun)
    check(r.status == GOOD, "READ: %r" % r)
    check(r.data != a, "the command held in the old session's window ran after reinstatement")
    check(r.data == before, "block %d changed" % x)
    b = pattern("new-B", BS)
    check(new.write(x, b, lun=lun).status == GOOD, "WRITE B")
    time.sleep(0.5)
    r = new.read(x, 1, lun=lun)
    check(r.status == GOOD and r.data == b, "block %d is not B after a while" % x)
    _check_no_old_response(new, {itt}, "reinstate-window")
    new.logout()
    new.close()


def _nft(rules):
    subprocess.run(["nft", "-f", "-"], input=rules.encode(), check=True, timeout=10)


def case_reinstate_ghost(args):
    """The ghost write of the design notes: the old path is cut silently with a WRITE of A
    still in the network; the initiator reinstates its session through a second portal,
    overwrites with B, and the cut is lifted: the retransmitted A must never land."""
    host2 = opt(args, "host2", "")
    check(host2, "host2 (the second portal's address) is needed")
    x = 500
    old = login(args)
    before, a, b = pattern("before", BS), pattern("ghost-A", BS), pattern("new-B", BS)
    check(old.write(x, before).status == GOOD, "WRITE before")
    _nft("table inet ttfghost {\n"
         " chain input { type filter hook input priority -100; ip saddr %s drop; }\n"
         " chain output { type filter hook output priority -100; ip daddr %s drop; }\n}\n"
         % (args.host, args.host))
    try:
        itt = send_write(old, 0, x, a)    # stays in the initiator's socket, retransmitted
        time.sleep(0.5)
        t0 = time.monotonic()
        new = Conn(host2, args.port, 20.0)
        new.login(initiator=INITIATOR, target=args.target, isid=old.isid)
        took = time.monotonic() - t0
        say("reinstate-ghost: the reinstating login through %s took %.0f ms" % (host2, took * 1000))
        say("FIGURE reinstate_ghost_login_ms=%d" % (took * 1000))
        new.clear_ua()
        check(new.write(x, b).status == GOOD, "WRITE B through the new session")
        r = new.read(x, 1)
        check(r.status == GOOD and r.data == b, "block %d is not B right after writing it" % x)
    finally:
        _nft("delete table inet ttfghost\n")
    t_un = time.monotonic()
    # the old connection's retransmissions now reach the target, which must refuse them
    closed = old.is_closed(10.0)
    say("the old connection %s %.1f s after the cut was lifted"
        % ("ended" if closed else "is still open", time.monotonic() - t_un))
    time.sleep(0.5)
    r = new.read(x, 1)
    check(r.status == GOOD, "READ after the cut was lifted: %r" % r)
    check(r.data != a, "GHOST WRITE: the old session's write A landed after B")
    check(r.data == b, "block %d holds neither B nor A" % x)
    check(closed, "the old connection is still open 10 s after the cut was lifted")
    _check_no_old_response(new, {itt}, "reinstate-ghost")
    new.logout()
    new.close()


def case_reinstate_drain(args):
    bound = opt(args, "bound_ms", 10000, int) / 1000.0
    x = 400
    old = login(args)
    itt = send_write(old, 0, x, pattern("never", BS))
    old.ping(timeout=5)
    new, took, _ = _reinstate(args, old, "reinstate-drain")
    say("FIGURE reinstate_drain_login_ms=%d" % (took * 1000))
    check(took >= bound - 1.0, "the login completed after %.1f s, while the old write was still "
          "parked (drain bound %.0f s)" % (took, bound))
    check(took <= bound + 5.0, "the login took %.1f s (drain bound %.0f s)" % (took, bound))
    # the LUN with stuck I/O is failed: nothing of the old session can land unseen
    r = new.scsi(pdu.cdb_tur())
    for _ in range(3):  # a new nexus first reports its unit attentions
        if not (r.status == 0x02 and r.sense_tuple()[0] == 0x6):
            break
        r = new.scsi(pdu.cdb_tur())
    say("after the drain bound: TEST UNIT READY -> status %s sense %s"
        % (r.status, r.sense_tuple()))
    check(r.status == 0x02 and r.sense_tuple()[:3] == (0x4, 0x3e, 0x01),
          "TEST UNIT READY on a LUN with stuck I/O: expected HARDWARE ERROR / LOGICAL UNIT "
          "FAILURE (4/3e/01), got status %s sense %s" % (r.status, r.sense_tuple()))
    _check_no_old_response(new, {itt}, "reinstate-drain")
    new.close()


# ---- shutdown -----------------------------------------------------------------------------

def _wait_async_logout(c, timeout):
    t0 = time.monotonic()
    p = c.recv_until(lambda p: p.opcode == ASYNC_MSG, timeout, "an Async Message")
    event, param3 = p.bhs[36], struct.unpack(">H", bytes(p.bhs[42:44]))[0]
    say("ASYNC event=%d param3=%d after %.0f ms" % (event, param3, (time.monotonic() - t0) * 1000))
    check(event == 1, "Async Message event %d, expected 1 (logout request)" % event)
    return param3


def case_shutdown_logout(args):
    c = login(args)
    say("READY")
    _wait_async_logout(c, opt(args, "wait", 30.0, float))
    c.logout()
    say("LOGGED_OUT")
    check(c.is_closed(5.0), "the target did not close the connection after the logout")


def case_shutdown_ignore(args):
    c = login(args)
    say("READY")
    _wait_async_logout(c, opt(args, "wait", 30.0, float))
    t0 = time.monotonic()
    deadline = t0 + opt(args, "seconds", 30.0, float)
    while time.monotonic() < deadline:
        try:
            c.recv_until(lambda p: False, 0.2)   # NOP-Ins answered, no logout
        except Timeout:
            continue
        except Closed:
            say("CLOSED by the target %.1f s after the logout request" % (time.monotonic() - t0))
            return
    raise Fail("the target kept the connection %.0f s after asking to log out"
               % (time.monotonic() - t0))


# ---- portal -------------------------------------------------------------------------------

def case_portal_write(args):
    isid = bytes.fromhex(opt(args, "isid", "80aabbcc0000"))
    data = pattern(opt(args, "tag", "portal"), 16 * BS)
    c = login(args, isid=isid)
    pdu.write_verify(c, 64, data, what="portal WRITE")
    say("READY written")
    deadline = time.monotonic() + opt(args, "seconds", 30.0, float)
    while time.monotonic() < deadline:
        try:
            c.recv_until(lambda p: False, 0.2)
        except Timeout:
            continue
        except Closed:
            say("CLOSED by the target")
            return


def case_portal_read(args):
    isid = bytes.fromhex(opt(args, "isid", "80aabbcc0000"))
    data = pattern(opt(args, "tag", "portal"), 16 * BS)
    c = login(args, isid=isid, timeout=10.0)
    r = c.read(64, 16)
    check(r.status == GOOD, "READ: %r" % r)
    check(r.data == data, "the data written before the address went away is not read back")
    say("read back %d bytes" % len(r.data))
    c.logout()
    c.close()


CASES = {
    "hold": case_hold,
    "smoke": case_smoke,
    "churn": case_churn,
    "abrupt": case_abrupt,
    "concurrent": case_concurrent,
    "reinstate-wait": case_reinstate_wait,
    "reinstate-fence": case_reinstate_fence,
    "reinstate-window": case_reinstate_window,
    "reinstate-ghost": case_reinstate_ghost,
    "reinstate-drain": case_reinstate_drain,
    "shutdown-logout": case_shutdown_logout,
    "shutdown-ignore": case_shutdown_ignore,
    "portal-write": case_portal_write,
    "portal-read": case_portal_read,
}

if __name__ == "__main__":
    sys.exit(pdu.run_cases(CASES, description=__doc__))
