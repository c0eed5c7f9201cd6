#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Persistent reservations and ALUA over iSCSI, PDU by PDU (built on pdu.py).

Helpers:
  prout(c, sa, key, sark, ...)   PERSISTENT RESERVE OUT with its 24-byte parameter list
  read_keys(c), read_reservation(c), report_caps(c)
  rtpg(c)                        REPORT TARGET PORT GROUPS, decoded
  stpg(c, [(state, group)...])   SET TARGET PORT GROUPS
  expect_sense(r, key, asc, ascq, what)

Cases for tests/interop/aptpl.sh (--opt isid=HEX fixes the ISID of the first initiator, so that
it is the same I_T nexus after a restart):
  aptpl-set      initiator A registers key 0xA1 with APTPL and reserves (Write Exclusive)
  aptpl-check    after a restart: READ KEYS / READ RESERVATION show them to initiator B; B's
                 WRITE conflicts, its READ does not; A (same ISID) still holds and writes
  aptpl-clear    A unregisters (APTPL stays on): no key and no reservation are left
  aptpl-refused  REGISTER with APTPL is refused (no state file) and PTPL_C is 0
Cases for tests/interop/alua.sh (--port: TPG 1's portal, --opt port2=TPG 2's portal,
--opt ctl='tetherctl -s SOCKET'):
  alua-standby   tetherctl puts TPG 1 in standby: through it TEST UNIT READY and READ get NOT
                 READY 04h/0Bh after one ASYMMETRIC ACCESS STATE CHANGED; through TPG 2 the
                 LUN works; REPORT TARGET PORT GROUPS tells both; SET TARGET PORT GROUPS from TPG
                 2 brings TPG 1 back, and only TPG 1's nexus is told
"""

import shlex
import struct
import subprocess
import sys

import pdu
from pdu import CHECK_CONDITION, GOOD, check

PRIN = 0x5E
PROUT = 0x5F
RESERVATION_CONFLICT = 0x18

PRIN_READ_KEYS = 0x00
PRIN_READ_RESERVATION = 0x01
PRIN_REPORT_CAPABILITIES = 0x02

PROUT_REGISTER = 0x00
PROUT_RESERVE = 0x01
PROUT_RELEASE = 0x02

TYPE_WE = 0x1

NOT_READY = 0x02
UNIT_ATTENTION = 0x06

ALUA_AO, ALUA_AN, ALUA_S, ALUA_U, ALUA_T = 0x0, 0x1, 0x2, 0x3, 0xF

INITIATOR_A = "iqn.2026-11.org.tether:pr-a"
INITIATOR_B = "iqn.2026-11.org.tether:pr-b"
KEY_A = 0xA1


def expect_sense(r, key, asc, ascq, what):
    st = r.sense_tuple()
    check(r.status == CHECK_CONDITION and st == (key, asc, ascq),
          "%s: expected sense %02xh/%02xh/%02xh, got %r" % (what, key, asc, ascq, r))


def expect_good(r, what):
    check(r.status == GOOD, "%s: %r" % (what, r))


def prout(c, sa, key=0, sark=0, rtype=0, scope=0, aptpl=False):
    param = struct.pack(">QQ", key, sark) + bytes([0, 0, 0, 0, 0x01 if aptpl else 0, 0, 0, 0])
    cdb = bytes([PROUT, sa, (scope << 4) | rtype, 0, 0]) + struct.pack(">I", len(param)) + b"\0"
    return c.scsi(cdb, write=param)


def prin(c, sa, alloc=1024):
    cdb = bytes([PRIN, sa, 0, 0, 0, 0, 0]) + struct.pack(">H", alloc) + b"\0"
    r = c.scsi(cdb, read_len=alloc)
    expect_good(r, "PERSISTENT RESERVE IN 0x%02x" % sa)
    return r.data


def read_keys(c):
    """(generation, [keys])"""
    d = prin(c, PRIN_READ_KEYS)
    gen, n = struct.unpack(">II", d[:8])
    return gen, [struct.unpack(">Q", d[8 + i:16 + i])[0] for i in range(0, n, 8)]


def read_reservation(c):
    """(generation, key, type) or (generation, None, None)"""
    d = prin(c, PRIN_READ_RESERVATION)
    gen, n = struct.unpack(">II", d[:8])
    if n == 0:
        return gen, None, None
    return gen, struct.unpack(">Q", d[8:16])[0], d[21] & 0x0F


def report_caps(c):
    """(PTPL_C, PTPL_A)"""
    d = prin(c, PRIN_REPORT_CAPABILITIES, 8)
    return bool(d[2] & 0x01), bool(d[3] & 0x01)


def login(args, initiator, port=None, isid=None):
    kw = {"initiator": initiator}
    if isid is not None:
        kw["isid"] = isid
    return pdu.connect_login(args.host, port or args.port, args.target, **kw)


def isid_a(args):
    return bytes.fromhex(args.opts.get("isid", "80a1a2a30000"))


# ---- APTPL ---------------------------------------------------------------------------------

def case_aptpl_set(args):
    a = login(args, INITIATOR_A, isid=isid_a(args))
    check(report_caps(a)[0], "REPORT CAPABILITIES: PTPL_C is 0 with a state directory")
    _, keys = read_keys(a)
    check(keys == [], "READ KEYS before registering: %r (want none)" % keys)
    expect_good(prout(a, PROUT_REGISTER, 0, KEY_A, aptpl=True), "REGISTER with APTPL")
    expect_good(prout(a, PROUT_RESERVE, KEY_A, rtype=TYPE_WE), "RESERVE (Write Exclusive)")
    _, keys = read_keys(a)
    check(keys == [KEY_A], "READ KEYS: %r" % keys)
    check(report_caps(a)[1], "REPORT CAPABILITIES: PTPL_A is 0 after REGISTER with APTPL")
    a.logout()
    a.close()


def case_aptpl_check(args):
    b = login(args, INITIATOR_B)
    gen, keys = read_keys(b)
    check(keys == [KEY_A], "READ KEYS after the restart: %r (want [0x%x])" % (keys, KEY_A))
    _, key, rtype = read_reservation(b)
    check(key == KEY_A and rtype == TYPE_WE,
          "READ RESERVATION after the restart: key %r type %r" % (key, rtype))
    check(report_caps(b)[1], "REPORT CAPABILITIES: PTPL_A is 0 after the restart")
    w = b.write(0, bytes(512))
    check(w.status == RESERVATION_CONFLICT, "WRITE from an unregistered initiator: %r" % w)
    expect_good(b.read(0, 1), "READ from an unregistered initiator (Write Exclusive)")
    a = login(args, INITIATOR_A, isid=isid_a(args))
    expect_good(a.write(0, bytes(512)), "WRITE from the holder after the restart")
    for c in (a, b):
        c.logout()
        c.close()
    print("    generation %d, key 0x%x, reservation type %d restored" % (gen, key, rtype))


def case_aptpl_clear(args):
    a = login(args, INITIATOR_A, isid=isid_a(args))
    expect_good(prout(a, PROUT_REGISTER, KEY_A, 0, aptpl=True), "unregister")
    _, keys = read_keys(a)
    check(keys == [], "READ KEYS after unregistering: %r" % keys)
    _, key, _ = read_reservation(a)
    check(key is None, "a reservation is left after unregistering the holder")
    a.logout()
    a.close()


def case_aptpl_refused(args):
    a = login(args, INITIATOR_A)
    check(report_caps(a) == (False, False), "REPORT CAPABILITIES without a state directory: "
          "PTPL_C/PTPL_A %r" % (report_caps(a),))
    expect_sense(prout(a, PROUT_REGISTER, 0, KEY_A, aptpl=True), 0x05, 0x26, 0x00,
                 "REGISTER with APTPL without a state directory")
    expect_good(prout(a, PROUT_REGISTER, 0, KEY_A), "REGISTER without APTPL")
    expect_good(prout(a, PROUT_REGISTER, KEY_A, 0), "unregister")
    a.logout()
    a.close()


# ---- ALUA ----------------------------------------------------------------------------------

def rtpg(c):
    """{group: (state, status, [relative port ids])}"""
    cdb = bytes([0xA3, 0x0A, 0, 0, 0, 0]) + struct.pack(">I", 1024) + b"\0\0"
    r = c.scsi(cdb, read_len=1024)
    expect_good(r, "REPORT TARGET PORT GROUPS")
    d = r.data
    end = 4 + struct.unpack(">I", d[:4])[0]
    out = {}
    off = 4
    while off < end:
        check((d[off] & 0x80) == 0, "PREF set in %r" % d[off:off + 8])
        check(d[off + 1] == 0x8F, "supported states 0x%02x (want T U S AN AO: 0x8f)" % d[off + 1])
        group = struct.unpack(">H", d[off + 2:off + 4])[0]
        count = d[off + 7]
        ports = [struct.unpack(">H", d[off + 8 + 4 * i + 2:off + 8 + 4 * i + 4])[0]
                 for i in range(count)]
        out[group] = (d[off] & 0x0F, d[off + 5], ports)
        off += 8 + 4 * count
    return out


def stpg(c, descs):
    param = bytes(4) + b"".join(bytes([state, 0]) + struct.pack(">H", g) for state, g in descs)
    cdb = bytes([0xA4, 0x0A, 0, 0, 0, 0]) + struct.pack(">I", len(param)) + b"\0\0"
    return c.scsi(cdb, write=param)


def tur(c):
    return c.scsi(pdu.cdb_tur())


def ctl(args, *words):
    cmd = shlex.split(args.opts["ctl"]) + list(words)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    check(p.returncode == 0, "%s: exit %d: %s" % (" ".join(cmd), p.returncode, p.stderr.strip()))
    return p.stdout


def case_alua_standby(args):
    port2 = int(args.opts["port2"])
    c1 = login(args, INITIATOR_A)
    c2 = login(args, INITIATOR_B, port=port2)
    inq = c1.scsi(pdu.cdb_inquiry(), read_len=96)
    expect_good(inq, "INQUIRY")
    check(inq.data[5] & 0x30 == 0x30, "INQUIRY TPGS is %d, want 3 (implicit and explicit)"
          % ((inq.data[5] >> 4) & 3))
    g = rtpg(c1)
    check(g == {1: (ALUA_AO, 0, [1]), 2: (ALUA_AN, 2, [2])},
          "REPORT TARGET PORT GROUPS at start: %r" % g)

    ctl(args, "alua", "set", args.target, "1", "standby")
    # through TPG 1: the unit attention once, then NOT READY, TARGET PORT IN STANDBY STATE
    expect_sense(tur(c1), UNIT_ATTENTION, 0x2A, 0x06, "TPG 1 after the change")
    expect_sense(c1.read(0, 1), NOT_READY, 0x04, 0x0B, "READ through the standby TPG")
    expect_sense(tur(c1), NOT_READY, 0x04, 0x0B, "TEST UNIT READY through the standby TPG")
    g = rtpg(c1)
    check(g == {1: (ALUA_S, 2, [1]), 2: (ALUA_AN, 2, [2])},
          "REPORT TARGET PORT GROUPS through the standby TPG: %r" % g)
    # through TPG 2: told once too, then the LUN works
    expect_sense(c2.read(0, 1), UNIT_ATTENTION, 0x2A, 0x06, "TPG 2 after the change")
    expect_good(c2.read(0, 1), "READ through TPG 2")
    pdu.write_verify(c2, 8, bytes(range(256)) * 2, what="WRITE through TPG 2")

    # explicit: SET TARGET PORT GROUPS from TPG 2 makes TPG 1 active/optimized again
    expect_good(stpg(c2, [(ALUA_AO, 1)]), "SET TARGET PORT GROUPS")
    expect_good(tur(c2), "TPG 2, which sent SET TARGET PORT GROUPS, has no unit attention")
    expect_sense(tur(c1), UNIT_ATTENTION, 0x2A, 0x06, "TPG 1 after SET TARGET PORT GROUPS")
    expect_good(c1.read(0, 1), "READ through TPG 1 again")
    g = rtpg(c2)
    check(g == {1: (ALUA_AO, 1, [1]), 2: (ALUA_AN, 2, [2])},
          "REPORT TARGET PORT GROUPS after SET TARGET PORT GROUPS: %r" % g)
    expect_sense(stpg(c2, [(ALUA_T, 1)]), 0x05, 0x26, 0x00,
                 "SET TARGET PORT GROUPS to transitioning")
    out = ctl(args, "alua", "list", args.target)
    check("active-optimized" in out.splitlines()[1] and
          "active-non-optimized" in out.splitlines()[2], "tetherctl alua list:\n" + out)
    for c in (c1, c2):
        c.logout()
        c.close()


def case_alua_implicit(args):
    """TPG 2 has alua_explicit false, TPG 1 true (the default)."""
    port2 = int(args.opts["port2"])
    c1 = login(args, INITIATOR_A)
    c2 = login(args, INITIATOR_B, port=port2)
    for c, want, what in ((c1, 3, "TPG 1"), (c2, 1, "TPG 2")):
        inq = c.scsi(pdu.cdb_inquiry(), read_len=96)
        expect_good(inq, "INQUIRY through " + what)
        check((inq.data[5] >> 4) & 3 == want, "INQUIRY TPGS through %s is %d, want %d"
              % (what, (inq.data[5] >> 4) & 3, want))
    before = rtpg(c1)
    expect_sense(stpg(c2, [(ALUA_AO, 1)]), 0x05, 0x20, 0x00,
                 "SET TARGET PORT GROUPS through the implicit-only TPG 2")
    expect_sense(stpg(c1, [(ALUA_AO, 2)]), 0x05, 0x26, 0x00,
                 "SET TARGET PORT GROUPS naming the implicit-only TPG 2")
    check(rtpg(c1) == before, "states changed by refused requests: %r -> %r" % (before, rtpg(c1)))
    for c in (c1, c2):
        c.logout()
        c.close()


CASES = {
    "aptpl-set": case_aptpl_set,
    "aptpl-check": case_aptpl_check,
    "aptpl-clear": case_aptpl_clear,
    "aptpl-refused": case_aptpl_refused,
    "alua-standby": case_alua_standby,
    "alua-implicit": case_alua_implicit,
}

if __name__ == "__main__":
    sys.exit(pdu.run_cases(CASES, description=__doc__))
