#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""One RBD image served by two tetherd gateways, PDU by PDU (built on pdu.py).

--port is gateway A's portal; --opt port2=P gateway B's, --opt target2=IQN its target name,
--opt lun=N / --opt lun2=N the image's LUN on each (default 0), --opt ... as each case says.

Cases for tests/interop/rbd_basic.sh:
  ident      VPD 80h (serial) and the NAA designator of VPD 83h are the same through A and B
             (B's target name and LUN number differ from A's), and differ from those of a LUN
             of another backend (--opt other_lun=N on A)
  caw        MAXIMUM COMPARE AND WRITE LENGTH is 1; COMPARE AND WRITE through B on a block
             written through A: a match writes (A reads the new data), a stale compare through
             A is MISCOMPARE with the offset of the first differing byte and writes nothing;
             then a counter block incremented with COMPARE AND WRITE (retried on miscompare)
             through both gateways at once, --opt increments=N each, ends at exactly 2 x N
  samezero   WRITE SAME (16) of a pattern through A over 300 blocks read back through B; WRITE
             SAME with UNMAP and UNMAP through B read back as zeroes through A
  resize     --opt resize='COMMAND' grows the image: both gateways' existing sessions get
             CAPACITY DATA HAS CHANGED (2Ah/09h), then READ CAPACITY (16) tells the new size
             (--opt size=BYTES)
Cases for tests/interop/rbd_pr_gateways.sh (persistent reservations shared by the gateways):
  pr         initiator A through gateway A, initiator B through gateway B: A registers and
             reserves (Write Exclusive); B reads A's key and reservation and conflicts on WRITE;
             B registers and PREEMPTs A: A gets REGISTRATIONS PREEMPTED and then conflicts;
             RELEASE of a Registrants Only reservation through B gives A RESERVATIONS RELEASED;
             CLEAR through A gives B RESERVATIONS PREEMPTED and leaves no key; each change is
             seen through the other gateway as soon as the command that made it returned
  pr-race    --opt initiators=N initiators REGISTER at once, alternately through A and B:
             every key is there through both gateways, with the same generation
  pr-stall   --opt pause / resume as for stall: REGISTER during the stall ends with CHECK
             CONDITION (HARDWARE ERROR, 08h/01h or 08h/00h) within --opt bound=SECONDS, and
             works once the OSD continues
Case for tests/interop/rbd_pr_watch.sh (a gateway whose watch of the record broke):
  pr-watch   A registers and reserves (Write Exclusive - Registrants Only) through gateway A;
             --opt pause='COMMAND' stops gateway A, --opt stop=SECONDS later (longer than the
             cluster's watch timeout) B registers and PREEMPTs A's key through B, then
             --opt resume='COMMAND' continues A; A's WRITEs through A (answered GOOD from the
             stale copy, BUSY while A reads the record again, UNIT ATTENTION REGISTRATIONS
             PREEMPTED) must reach RESERVATION CONFLICT within --opt bound=SECONDS
  stall      --opt pause='COMMAND' stops the cluster's OSD, --opt resume='COMMAND' continues
             it; the LUN (--opt lun=N) has a short timeout: a WRITE and a READ during the stall
             end with CHECK CONDITION within the bound (--opt bound=SECONDS), the session and
             the daemon stay, and I/O works again once the OSD continues
"""

import os
import struct
import subprocess
import sys
import threading
import time

import pdu
from pdu import CHECK_CONDITION, GOOD, check

UNIT_ATTENTION = 0x06
ILLEGAL_REQUEST = 0x05
MISCOMPARE = 0x0E


def opt_int(args, key, default):
    return int(str(args.opts.get(key, default)), 0)


def login_a(args, clear=None):
    lun = opt_int(args, "lun", 0)
    return pdu.connect_login(args.host, args.port, args.target, clear_ua=clear or (lun,)), lun


def login_b(args, clear=None):
    lun = opt_int(args, "lun2", 0)
    return pdu.connect_login(args.host, opt_int(args, "port2", 0),
                             args.opts.get("target2", args.target),
                             clear_ua=clear or (lun,)), lun


def expect_good(r, what):
    check(r.status == GOOD, "%s: %r" % (what, r))


def vpd(c, lun, page):
    r = c.scsi(pdu.cdb_inquiry(alloc=255, evpd=True, page=page), lun=lun, read_len=255)
    expect_good(r, "INQUIRY VPD %02xh" % page)
    return r.data


def naa(c, lun):
    d = vpd(c, lun, 0x83)
    n = struct.unpack(">H", d[2:4])[0]
    p = 4
    while p + 4 <= 4 + n:
        assoc = (d[p + 1] >> 4) & 3
        dtype = d[p + 1] & 0x0F
        dlen = d[p + 3]
        if dtype == 3 and assoc == 0:  # NAA, of the logical unit
            return d[p + 4:p + 4 + dlen].hex()
        p += 4 + dlen
    raise pdu.Fail("VPD 83h has no NAA designator of the logical unit: %s" % d.hex())


def serial(c, lun):
    d = vpd(c, lun, 0x80)
    return d[4:4 + d[3]].decode()


def case_ident(args):
    a, la = login_a(args)
    b, lb = login_b(args)
    na, nb = naa(a, la), naa(b, lb)
    sa, sb = serial(a, la), serial(b, lb)
    pdu.log("NAA A %s B %s, serial A %s B %s" % (na, nb, sa, sb))
    check(na == nb, "NAA designators differ: A %s, B %s" % (na, nb))
    check(sa == sb, "serial numbers differ: A %s, B %s" % (sa, sb))
    if "other_lun" in args.opts:
        other = opt_int(args, "other_lun", 1)
        a.clear_ua(other)
        no = naa(a, other)
        check(no != na, "a LUN of another backend has the image's NAA %s" % no)
    print("    same identity through both gateways: NAA %s, serial %s" % (na, sa))
    for c in (a, b):
        c.logout()
        c.close()


def caw_cdb(lba, blocks):
    return bytes([0x89, 0]) + struct.pack(">Q", lba) + bytes([0, 0, 0, blocks, 0, 0])


def caw(c, lun, lba, compare, write, bs=512):
    check(len(compare) == len(write) and len(compare) % bs == 0, "CAW buffers")
    return c.scsi(caw_cdb(lba, len(compare) // bs), lun=lun, write=compare + write)


def read(c, lun, lba, blocks):
    r = c.read(lba, blocks, lun=lun)
    expect_good(r, "READ %d blocks at LBA %d" % (blocks, lba))
    return r.data


def case_caw(args):
    a, la = login_a(args)
    b, lb = login_b(args)
    # librbd compares and writes one 512-byte sector atomically: the LUN says so
    mcawl = vpd(a, la, 0xB0)[5]
    check(mcawl == 1, "VPD B0h MAXIMUM COMPARE AND WRITE LENGTH is %d, want 1" % mcawl)
    lba = 64
    old = os.urandom(512)
    new = os.urandom(512)
    expect_good(a.write(lba, old, lun=la), "WRITE through A")
    # a match through B writes
    expect_good(caw(b, lb, lba, old, new), "COMPARE AND WRITE through B (match)")
    check(read(a, la, lba, 1) == new, "A does not read what B's COMPARE AND WRITE wrote")
    # a stale compare through A: MISCOMPARE, the first differing byte, nothing written
    stale = bytearray(new)
    stale[123] ^= 0xFF
    stale[300] ^= 0xFF
    r = caw(a, la, lba, bytes(stale), os.urandom(512))
    st = r.sense_tuple()
    check(r.status == CHECK_CONDITION and st == (MISCOMPARE, 0x1D, 0x00),
          "COMPARE AND WRITE with a stale compare: %r" % r)
    s = r.sense
    info = struct.unpack(">I", s[3:7])[0] if s and (s[0] & 0x7F) == 0x70 else None
    check(s and s[0] & 0x80 and info == 123,
          "MISCOMPARE's INFORMATION is %r, want 123 (sense %s)" % (info, s.hex() if s else s))
    check(read(b, lb, lba, 1) == new, "a miscompared COMPARE AND WRITE changed the block")
    r = caw(a, la, lba, new * 2, old * 2)
    check(r.status == CHECK_CONDITION and r.sense_tuple() == (0x05, 0x24, 0x00),
          "COMPARE AND WRITE of 2 blocks (above the maximum): %r" % r)
    for c in (a, b):
        c.logout()
        c.close()
    # a counter incremented by COMPARE AND WRITE through both gateways at once: no lost update
    per = opt_int(args, "increments", 40)
    lba = 72
    expect_good(pdu.connect_login(args.host, args.port, args.target, clear_ua=(la,))
                .write(lba, bytes(512), lun=la), "WRITE of the counter")
    errors, retries = [], [0, 0]

    def incr(i, login):
        try:
            c, lun = login(args)
            done = 0
            while done < per:
                cur = read(c, lun, lba, 1)
                n = struct.unpack(">Q", cur[:8])[0]
                r = caw(c, lun, lba, cur, struct.pack(">Q", n + 1) + bytes(504))
                if r.status == GOOD:
                    done += 1
                    continue
                check(r.sense_tuple() == (MISCOMPARE, 0x1D, 0x00), "increment: %r" % r)
                retries[i] += 1
            c.logout()
            c.close()
        except Exception as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=incr, args=(0, login_a)),
               threading.Thread(target=incr, args=(1, login_b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(not errors, "increments: %r" % errors)
    c, lun = login_a(args)
    n = struct.unpack(">Q", read(c, lun, lba, 1)[:8])[0]
    c.logout()
    c.close()
    check(n == 2 * per, "counter is %d after 2 x %d increments (%r miscompares)"
          % (n, per, retries))
    print("    COMPARE AND WRITE: match, miscompare at byte 123, a counter incremented %d times "
          "through both gateways at once (%d miscompares retried)" % (n, sum(retries)))


def write_same16(lba, blocks, unmap=False, ndob=False):
    return bytes([0x93, (0x08 if unmap else 0) | (0x01 if ndob else 0)]) + \
        struct.pack(">QI", lba, blocks) + b"\0\0"


def unmap_cdb(plen):
    return bytes([0x42, 0, 0, 0, 0, 0, 0]) + struct.pack(">H", plen) + b"\0"


def case_samezero(args):
    a, la = login_a(args)
    b, lb = login_b(args)
    lba, n = 1000, 300
    block = os.urandom(512)
    expect_good(a.scsi(write_same16(lba, n), lun=la, write=block), "WRITE SAME (16) through A")
    check(read(b, lb, lba, n) == block * n, "B does not read the WRITE SAME pattern")
    # WRITE SAME with UNMAP through B: A reads zeroes (LBPRZ)
    expect_good(b.scsi(write_same16(lba, 100, unmap=True), lun=lb, write=block),
                "WRITE SAME (16) with UNMAP through B")
    check(read(a, la, lba, 100) == bytes(512 * 100), "after WRITE SAME with UNMAP: not zeroes")
    check(read(a, la, lba + 100, 200) == block * 200, "WRITE SAME with UNMAP went too far")
    # UNMAP of an odd range (partial objects) through B
    param = struct.pack(">HH4x", 22, 16) + struct.pack(">QI4x", lba + 101, 7)
    expect_good(b.scsi(unmap_cdb(len(param)), lun=lb, write=param), "UNMAP through B")
    d = read(a, la, lba + 100, 10)
    check(d[:512] == block and d[512:512 * 8] == bytes(512 * 7) and d[512 * 8:] == block * 2,
          "UNMAP of LBA %d+7: A reads the wrong blocks" % (lba + 101))
    print("    WRITE SAME, WRITE SAME with UNMAP, UNMAP seen through the other gateway")
    for c in (a, b):
        c.logout()
        c.close()


def capacity(c, lun):
    r = c.scsi(pdu.cdb_read_capacity16(), lun=lun, read_len=32)
    expect_good(r, "READ CAPACITY (16)")
    last, bs = struct.unpack(">QI", r.data[:12])
    return (last + 1) * bs


def tur(c, lun):
    return c.scsi(pdu.cdb_tur(), lun=lun)


def case_resize(args):
    a, la = login_a(args)
    b, lb = login_b(args)
    want = opt_int(args, "size", 0)
    before = capacity(a, la)
    check(capacity(b, lb) == before, "the gateways tell different sizes before the resize")
    check(want > before, "--opt size=%d is not larger than %d" % (want, before))
    subprocess.run(args.opts["resize"], shell=True, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    for c, lun, name in ((a, la, "A"), (b, lb, "B")):
        deadline = time.monotonic() + 15
        while True:
            r = tur(c, lun)
            if r.status == CHECK_CONDITION:
                check(r.sense_tuple() == (UNIT_ATTENTION, 0x2A, 0x09),
                      "%s: TEST UNIT READY after the resize: %r" % (name, r))
                break
            expect_good(r, "%s: TEST UNIT READY" % name)
            check(time.monotonic() < deadline,
                  "%s: no CAPACITY DATA HAS CHANGED within 15 s of the resize" % name)
            time.sleep(0.1)
        expect_good(tur(c, lun), "%s: TEST UNIT READY after the unit attention" % name)
        got = capacity(c, lun)
        check(got == want, "%s: READ CAPACITY (16) says %d bytes, want %d" % (name, got, want))
        # the new blocks can be used
        data = os.urandom(4096)
        expect_good(c.write(want // 512 - 8, data, lun=lun), "%s: WRITE at the new end" % name)
        check(read(c, lun, want // 512 - 8, 8) == data, "%s: READ at the new end" % name)
    print("    resize %d -> %d: CAPACITY DATA HAS CHANGED through both gateways" % (before, want))
    for c in (a, b):
        c.logout()
        c.close()


def case_stall(args):
    a, la = login_a(args)
    bound = float(args.opts.get("bound", "20"))
    data = os.urandom(4096)
    expect_good(a.write(0, data, lun=la), "WRITE before the stall")
    subprocess.run(args.opts["pause"], shell=True, check=True)
    try:
        for what, fn in (("WRITE", lambda: a.write(8, data, lun=la, timeout=bound + 30)),
                         ("READ", lambda: a.read(0, 8, lun=la, timeout=bound + 30))):
            t0 = time.monotonic()
            r = fn()
            dt = time.monotonic() - t0
            check(r.status == CHECK_CONDITION, "%s during the stall: %r" % (what, r))
            check(dt < bound, "%s during the stall took %.1f s (bound %.0f s)" % (what, dt, bound))
            print("    %s during the stall: %r after %.1f s" % (what, r.sense_tuple(), dt))
            print("FIGURE rbd_stall_%s_s=%.1f" % (what.lower(), dt))
    finally:
        subprocess.run(args.opts["resume"], shell=True, check=True)
    deadline = time.monotonic() + 60
    while True:
        r = a.read(0, 8, lun=la, timeout=40)
        if r.status == GOOD:
            break
        check(time.monotonic() < deadline, "READ after the stall still fails: %r" % r)
        time.sleep(0.5)
    check(r.data == data, "after the stall: the data written before it is gone")
    expect_good(a.write(8, data, lun=la), "WRITE after the stall")
    check(read(a, la, 8, 8) == data, "READ after the stall")
    print("    the session and the LUN work again after the stall")
    a.logout()
    a.close()


# ---- persistent reservations through both gateways -------------------------------------------

PRIN, PROUT = 0x5E, 0x5F
RESERVATION_CONFLICT = 0x18
KEY_A, KEY_B = 0xA1A1, 0xB2B2
TYPE_WE, TYPE_WE_RO = 0x1, 0x5
INITIATOR_A = "iqn.2026-11.org.tether:rbd-pr-a"
INITIATOR_B = "iqn.2026-11.org.tether:rbd-pr-b"


def prout(c, lun, sa, key=0, sark=0, rtype=0):
    param = struct.pack(">QQ", key, sark) + bytes(8)
    cdb = bytes([PROUT, sa, rtype, 0, 0]) + struct.pack(">I", len(param)) + b"\0"
    return c.scsi(cdb, lun=lun, write=param)


def prin(c, lun, sa):
    cdb = bytes([PRIN, sa, 0, 0, 0, 0, 0]) + struct.pack(">H", 4096) + b"\0"
    r = c.scsi(cdb, lun=lun, read_len=4096)
    expect_good(r, "PERSISTENT RESERVE IN 0x%02x" % sa)
    return r.data


def read_keys(c, lun):
    d = prin(c, lun, 0)
    gen, n = struct.unpack(">II", d[:8])
    return gen, sorted(struct.unpack(">Q", d[8 + i:16 + i])[0] for i in range(0, n, 8))


def read_resv(c, lun):
    d = prin(c, lun, 1)
    gen, n = struct.unpack(">II", d[:8])
    if n == 0:
        return gen, None, None
    return gen, struct.unpack(">Q", d[8:16])[0], d[21] & 0x0F


def pr_login(args, gw, initiator):
    lun = opt_int(args, "lun" if gw == "a" else "lun2", 0)
    port = args.port if gw == "a" else opt_int(args, "port2", 0)
    target = args.target if gw == "a" else args.opts.get("target2", args.target)
    return pdu.connect_login(args.host, port, target, initiator=initiator,
                             clear_ua=(lun,)), lun


def expect_ua(c, lun, ascq, what):
    r = c.scsi(pdu.cdb_tur(), lun=lun)
    check(r.status == CHECK_CONDITION and r.sense_tuple() == (UNIT_ATTENTION, 0x2A, ascq),
          "%s: TEST UNIT READY gave %r, want UNIT ATTENTION 2Ah/%02xh" % (what, r, ascq))
    expect_good(c.scsi(pdu.cdb_tur(), lun=lun), "%s: TEST UNIT READY after it" % what)


def expect_conflict(r, what):
    check(r.status == RESERVATION_CONFLICT, "%s: %r (want RESERVATION CONFLICT)" % (what, r))


def case_pr(args):
    a, la = pr_login(args, "a", INITIATOR_A)
    b, lb = pr_login(args, "b", INITIATOR_B)
    block = bytes(512)
    check(read_keys(a, la)[1] == [] and read_keys(b, lb)[1] == [],
          "keys registered before the test: %r %r" % (read_keys(a, la), read_keys(b, lb)))

    expect_good(prout(a, la, 0, 0, KEY_A), "REGISTER through A")
    expect_good(prout(a, la, 1, KEY_A, 0, TYPE_WE), "RESERVE (Write Exclusive) through A")
    gen_a, keys_a = read_keys(a, la)
    gen_b, keys_b = read_keys(b, lb)
    check(keys_b == [KEY_A] and gen_b == gen_a,
          "READ KEYS through B: %r generation %d (A: %r generation %d)"
          % (keys_b, gen_b, keys_a, gen_a))
    _, key, rtype = read_resv(b, lb)
    check((key, rtype) == (KEY_A, TYPE_WE), "READ RESERVATION through B: key %r type %r"
          % (key, rtype))
    expect_conflict(b.write(8, block, lun=lb), "WRITE from B through B under A's reservation")
    expect_good(b.read(8, 1, lun=lb), "READ from B through B (Write Exclusive)")
    expect_good(a.write(8, block, lun=la), "WRITE from the holder through A")
    print("    A's registration and reservation enforced and reported through B")

    expect_good(prout(b, lb, 0, 0, KEY_B), "REGISTER through B")
    check(read_keys(a, la)[1] == sorted([KEY_A, KEY_B]), "READ KEYS through A after B "
          "registered: %r" % (read_keys(a, la),))
    expect_good(prout(b, lb, 4, KEY_B, KEY_A, TYPE_WE), "PREEMPT of A's key through B")
    expect_ua(a, la, 0x05, "A after the PREEMPT through B")
    expect_conflict(a.write(8, block, lun=la), "WRITE from A after the PREEMPT through B")
    _, key, rtype = read_resv(a, la)
    check((key, rtype) == (KEY_B, TYPE_WE), "READ RESERVATION through A after the PREEMPT: "
          "key %r type %r" % (key, rtype))
    check(read_keys(a, la)[1] == [KEY_B], "READ KEYS through A after the PREEMPT: %r"
          % (read_keys(a, la),))
    expect_good(b.write(8, block, lun=lb), "WRITE from the new holder through B")
    print("    PREEMPT through B: A told REGISTRATIONS PREEMPTED and refused at once")

    expect_good(prout(a, la, 0, 0, KEY_A), "REGISTER again through A")
    expect_good(prout(b, lb, 2, KEY_B, 0, TYPE_WE), "RELEASE through B")
    expect_good(a.write(8, block, lun=la), "WRITE from A after the RELEASE through B")
    expect_good(prout(b, lb, 1, KEY_B, 0, TYPE_WE_RO), "RESERVE (Registrants Only) through B")
    expect_good(a.write(8, block, lun=la), "WRITE from registrant A (Registrants Only)")
    expect_good(prout(b, lb, 2, KEY_B, 0, TYPE_WE_RO), "RELEASE (Registrants Only) through B")
    expect_ua(a, la, 0x04, "A after the RELEASE of a Registrants Only reservation through B")
    print("    RELEASE through B seen by A (RESERVATIONS RELEASED for Registrants Only)")

    expect_good(prout(b, lb, 1, KEY_B, 0, TYPE_WE), "RESERVE (Write Exclusive) through B")
    expect_conflict(a.write(8, block, lun=la), "WRITE from registrant A (Write Exclusive)")
    expect_good(prout(a, la, 3, KEY_A), "CLEAR through A")
    expect_ua(b, lb, 0x03, "B after the CLEAR through A")
    check(read_keys(b, lb)[1] == [] and read_resv(b, lb)[1] is None,
          "after CLEAR through A, B reads %r %r" % (read_keys(b, lb), read_resv(b, lb)))
    expect_good(b.write(8, block, lun=lb), "WRITE from B after the CLEAR")
    expect_good(a.write(8, block, lun=la), "WRITE from A after the CLEAR")
    print("    CLEAR through A: B told RESERVATIONS PREEMPTED, no key left on either gateway")

    # SPC-2 RESERVE/RELEASE would hold on one gateway only: refused on a shared LUN
    for name, cdb in (("RESERVE(6)", bytes([0x16, 0, 0, 0, 0, 0])),
                      ("RESERVE(10)", bytes([0x56] + [0] * 9)),
                      ("RELEASE(6)", bytes([0x17, 0, 0, 0, 0, 0]))):
        r = a.scsi(cdb, lun=la)
        check(r.status == CHECK_CONDITION and r.sense_tuple()[:2] == (ILLEGAL_REQUEST, 0x20),
              "%s through A: %r (want ILLEGAL REQUEST, INVALID COMMAND OPERATION CODE)"
              % (name, r))
    expect_good(b.write(8, block, lun=lb), "WRITE from B after A's refused RESERVE")
    print("    RESERVE/RELEASE (SPC-2) refused on the shared LUN")
    for c in (a, b):
        c.logout()
        c.close()


def case_pr_race(args):
    n = opt_int(args, "initiators", 8)
    errors, keys = [], [0x1000 + i for i in range(n)]

    def reg(i):
        try:
            c, lun = pr_login(args, "a" if i % 2 == 0 else "b",
                              "iqn.2026-11.org.tether:rbd-race-%d" % i)
            for _ in range(3):  # register, unregister, register: more changes racing
                expect_good(prout(c, lun, 0, 0, keys[i]), "REGISTER %d" % i)
                expect_good(prout(c, lun, 0, keys[i], 0), "unregister %d" % i)
            expect_good(prout(c, lun, 0, 0, keys[i]), "REGISTER %d" % i)
            c.logout()
            c.close()
        except Exception as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)

    a, la = pr_login(args, "a", INITIATOR_A)
    gen0 = read_keys(a, la)[0]
    a.logout()
    a.close()
    threads = [threading.Thread(target=reg, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(not errors, "registrations: %r" % errors)
    a, la = pr_login(args, "a", INITIATOR_A)
    b, lb = pr_login(args, "b", INITIATOR_B)
    ka, kb = read_keys(a, la), read_keys(b, lb)
    check(ka == kb and ka[1] == keys, "READ KEYS: through A %r, through B %r, want %r"
          % (ka, kb, keys))
    # 7 changes per initiator: the generation counts every one of them
    check(ka[0] == gen0 + 7 * n, "PRGENERATION %d after %d changes from %d"
          % (ka[0], 7 * n, gen0))
    expect_good(prout(a, la, 6, 0, KEY_A), "REGISTER AND IGNORE EXISTING KEY through A")
    expect_good(prout(a, la, 3, KEY_A), "CLEAR through A")
    check(read_keys(b, lb)[1] == [], "READ KEYS through B after the CLEAR: %r"
          % (read_keys(b, lb),))
    for c in (a, b):
        c.logout()
        c.close()
    print("    %d initiators registered through both gateways at once: %d keys, generation %d"
          " through both" % (n, len(ka[1]), ka[0]))


def case_pr_stall(args):
    bound = opt_int(args, "bound", 30)
    a, la = pr_login(args, "a", INITIATOR_A)
    subprocess.run(args.opts["pause"], shell=True, check=True)
    try:
        t0 = time.monotonic()
        r = prout(a, la, 0, 0, KEY_A)
        took = time.monotonic() - t0
    finally:
        subprocess.run(args.opts["resume"], shell=True, check=True)
    st = r.sense_tuple()
    check(r.status == CHECK_CONDITION and st in ((0x04, 0x08, 0x01), (0x04, 0x08, 0x00)),
          "REGISTER during the stall: %r (want HARDWARE ERROR 08h/01h or 08h/00h)" % r)
    check(took < bound, "REGISTER during the stall took %.1f s (bound %d s)" % (took, bound))
    deadline = time.monotonic() + 60
    while True:
        # REGISTER AND IGNORE EXISTING KEY: the stalled write may have landed or not
        r = prout(a, la, 6, 0, KEY_A)
        if r.status == GOOD or time.monotonic() > deadline:
            break
        time.sleep(1)
    expect_good(r, "REGISTER once the OSD continued")
    check(read_keys(a, la)[1] == [KEY_A], "READ KEYS after the stall: %r" % (read_keys(a, la),))
    expect_good(prout(a, la, 0, KEY_A, 0), "unregister")
    a.logout()
    a.close()
    print("    REGISTER during the stall: CHECK CONDITION %02xh/%02xh/%02xh after %.1f s"
          % (st + (took,)))


BUSY = 0x08


def case_pr_watch(args):
    bound = opt_int(args, "bound", 30)
    stop = opt_int(args, "stop", 10)
    block = bytes(512)
    a, la = pr_login(args, "a", INITIATOR_A)
    b, lb = pr_login(args, "b", INITIATOR_B)
    expect_good(prout(a, la, 0, 0, KEY_A), "REGISTER through A")
    expect_good(prout(a, la, 1, KEY_A, 0, TYPE_WE_RO), "RESERVE (Registrants Only) through A")
    expect_good(prout(b, lb, 0, 0, KEY_B), "REGISTER through B")
    expect_good(a.write(8, block, lun=la), "WRITE from the holder through A")
    subprocess.run(args.opts["pause"], shell=True, check=True)
    try:
        until = time.monotonic() + stop  # gateway A's watch times out meanwhile
        while time.monotonic() < until:  # B's session kept busy (no NOP-In timeout)
            expect_good(b.scsi(pdu.cdb_tur(), lun=lb), "TEST UNIT READY through B")
            time.sleep(0.5)
        t0 = time.monotonic()
        expect_good(prout(b, lb, 4, KEY_B, KEY_A, TYPE_WE_RO),
                    "PREEMPT of A's key through B while A is stopped")
        took = time.monotonic() - t0
    finally:
        subprocess.run(args.opts["resume"], shell=True, check=True)
    print("    gateway A stopped %d s; PREEMPT through B took %.1f s" % (stop, took))
    t0 = time.monotonic()
    seen = {}
    while True:
        r = a.write(8, block, lun=la)
        if r.status == RESERVATION_CONFLICT:
            break
        if r.status == CHECK_CONDITION:
            key = "CHECK CONDITION %02xh/%02xh/%02xh" % r.sense_tuple()
        else:
            key = {GOOD: "GOOD", BUSY: "BUSY"}.get(r.status, "status %02xh" % r.status)
        seen[key] = seen.get(key, 0) + 1
        check(r.status in (GOOD, BUSY) or (r.status == CHECK_CONDITION and
                                           r.sense_tuple() == (UNIT_ATTENTION, 0x2A, 0x05)),
              "WRITE from A through A after the resume: %r" % r)
        check(time.monotonic() - t0 < bound,
              "WRITE from preempted A through A still not RESERVATION CONFLICT %d s after A "
              "continued (answers: %r)" % (bound, seen))
        time.sleep(0.2)
    took = time.monotonic() - t0
    check(read_keys(a, la)[1] == [KEY_B], "READ KEYS through A: %r" % (read_keys(a, la),))
    _, key, rtype = read_resv(a, la)
    check((key, rtype) == (KEY_B, TYPE_WE_RO), "READ RESERVATION through A: key %r type %r"
          % (key, rtype))
    expect_good(prout(b, lb, 3, KEY_B), "CLEAR through B")
    for c in (a, b):
        c.logout()
        c.close()
    print("    WRITE from preempted A through A: RESERVATION CONFLICT %.1f s after A continued "
          "(before: %s)" % (took, ", ".join("%s x%d" % kv for kv in sorted(seen.items()))
                            or "none"))


CASES = {
    "pr-watch": case_pr_watch,
    "pr": case_pr,
    "pr-race": case_pr_race,
    "pr-stall": case_pr_stall,
    "ident": case_ident,
    "caw": case_caw,
    "samezero": case_samezero,
    "resize": case_resize,
    "stall": case_stall,
}

if __name__ == "__main__":
    sys.exit(pdu.run_cases(CASES, description=__doc__))
