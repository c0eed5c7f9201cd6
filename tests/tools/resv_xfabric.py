#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""One reservation state for a LUN served over iSCSI and NVMe/TCP at once: an NVMe host
(nvme_tcp.py's Host) and iSCSI initiators (pdu.py, pr.py) on the same LUN.

  resv_xfabric.py --port ISCSI_PORT --opt nvme=NVME_TCP_PORT [--opt nqn=SUBNQN]
                  [--opt nsid=NSID] [--target IQN] CASE...

The LUN is LUN 0 of --target; NSID (1 by default) is its namespace in subsystem SUBNQN.

Cases:
  xfabric   the NVMe host registers and takes Write Exclusive: READ KEYS, READ RESERVATION and
            READ FULL STATUS (TransportID protocol Fh with the host ID) show it to iSCSI; an
            iSCSI WRITE conflicts, a READ does not; the NVMe types map onto the SCSI types; an
            NVMe Replace moves the reservation key; an iSCSI initiator registers (the NVMe
            report lists it with a zero host ID) and preempts: the NVMe host is told (AER, log
            page 80h), its writes conflict; the NVMe host preempts the iSCSI initiator back
            (unit attention REGISTRATIONS PREEMPTED); an iSCSI WE_RO reservation lets the NVMe
            registrant write, its release is told to it; an iSCSI CLEAR tells the NVMe host
            and both write again; the data written through one fabric reads back through the
            other
  xfabric-spec-i-pt, xfabric-move
            iSCSI REGISTER with SPEC_I_PT, REGISTER AND MOVE naming an NVMe host by its
            TransportID: refused, or the NVMe host can use the registration (and reservation)
            it was given
"""

import argparse
import os
import struct
import sys

import pdu
import pr
import nvme_tcp as nt
from pdu import GOOD, check

PRIN_READ_FULL_STATUS = 0x03
PROUT_CLEAR, PROUT_PREEMPT = 0x03, 0x04
SCSI_TYPE = {nt.WE: 1, nt.EA: 3, nt.WE_RO: 5, nt.EA_RO: 6, nt.WE_AR: 7, nt.EA_AR: 8}
KEY_N, KEY_I = 0xC1, 0xD1
HOSTID_N = bytes.fromhex("4e0e1a8e5f0b4d559c4b746573740001")


def nvme_host(args, hostid=HOSTID_N, name="N"):
    a = argparse.Namespace(addr=args.host, port=int(args.opts["nvme"]),
                           nqn=args.opts.get("nqn", "nqn.2026-11.org.tether:default"))
    h = nt.Host(a, hostid, name)
    h.nsid = int(args.opts.get("nsid", "1"))
    return h


def full_status(c):
    """[(key, holder, scsi type, TransportID)] of READ FULL STATUS."""
    d = pr.prin(c, PRIN_READ_FULL_STATUS, 4096)
    n = struct.unpack(">I", d[4:8])[0]
    out, off = [], 8
    while off < 8 + n:
        key = struct.unpack(">Q", d[off:off + 8])[0]
        holder = d[off + 12] & 1
        rtype = d[off + 13] & 0x0F
        tlen = struct.unpack(">I", d[off + 20:off + 24])[0]
        out.append((key, holder, rtype, bytes(d[off + 24:off + 24 + tlen])))
        off += 24 + tlen
    return out


def nvme_write(h, lba, data):
    st, dnr, _ = h.cmd(0x01, cdw={10: lba, 12: len(data) // 512 - 1}, data=data)
    return st, dnr


def case_xfabric(args):
    N = nvme_host(args)
    i1 = pr.login(args, pr.INITIATOR_A)
    i2 = pr.login(args, pr.INITIATOR_B)
    _, keys = pr.read_keys(i1)
    check(keys == [], "READ KEYS at the start: %r" % keys)

    # ---- the NVMe host registers and holds Write Exclusive
    nt.expect_st(N.register(0, KEY_N), 0, "NVMe Register")
    gen, keys = pr.read_keys(i1)
    check(keys == [KEY_N], "READ KEYS after the NVMe Register: %r" % [hex(k) for k in keys])
    check(gen == N.report()["gen"], "PRgeneration %d, NVMe GEN %d: one state, one counter"
          % (gen, N.report()["gen"]))
    data_n = os.urandom(8192)
    nt.expect_st(nvme_write(N, 100, data_n), 0, "NVMe Write before the reservation")
    nt.expect_st(N.acquire(KEY_N, 0, nt.WE), 0, "NVMe Acquire Write Exclusive")
    _, key, rtype = pr.read_reservation(i1)
    check(key == KEY_N and rtype == 1, "READ RESERVATION: key %r type %r (want 0x%x, 1)"
          % (key, rtype, KEY_N))
    fs = full_status(i1)
    check(len(fs) == 1, "READ FULL STATUS: %d descriptors (want 1)" % len(fs))
    k, holder, t, tid = fs[0]
    check(k == KEY_N and holder == 1 and t == 1, "READ FULL STATUS: key 0x%x holder %d type %d"
          % (k, holder, t))
    check(len(tid) == 24 and tid[0] == 0x0F and tid[8:24] == HOSTID_N,
          "READ FULL STATUS: the NVMe host's TransportID %s (want 24 bytes, 0fh, host ID %s "
          "at 8)" % (tid.hex(), HOSTID_N.hex()))
    w = i1.write(100, bytes(512))
    check(w.status == pr.RESERVATION_CONFLICT, "iSCSI WRITE under the NVMe host's WE: %r" % w)
    r = i1.read(100, 16)
    check(r.status == GOOD and r.data == data_n, "iSCSI READ under the NVMe host's WE: %r" % r)
    check(N.read(100, 8192) == data_n, "the refused iSCSI WRITE changed the data")

    # ---- each NVMe type is a SCSI type
    nt.expect_st(N.release(KEY_N, nt.WE), 0, "NVMe Release WE")
    for t, st in SCSI_TYPE.items():
        nt.expect_st(N.acquire(KEY_N, 0, t), 0, "NVMe Acquire type %d" % t)
        _, key, rtype = pr.read_reservation(i1)
        want_key = 0 if t in (nt.WE_AR, nt.EA_AR) else KEY_N
        check(rtype == st and key == want_key, "NVMe type %d: READ RESERVATION type %r key %r "
              "(want %d, 0x%x)" % (t, rtype, key, st, want_key))
        nt.expect_st(N.release(KEY_N, t), 0, "NVMe Release type %d" % t)
    expect_sense_free = pr.read_reservation(i1)
    check(expect_sense_free[1] is None, "a reservation is left: %r" % (expect_sense_free,))
    nt.expect_st(N.acquire(KEY_N, 0, nt.WE), 0, "NVMe Acquire WE again")
    # Replace while holding: the reservation key follows
    nt.expect_st(N.register(KEY_N, KEY_N + 1, rrega=2), 0, "NVMe Replace while holding")
    _, key, rtype = pr.read_reservation(i1)
    check(key == KEY_N + 1 and rtype == 1, "READ RESERVATION after the NVMe Replace: %r %r"
          % (key, rtype))
    nt.expect_st(N.register(KEY_N + 1, KEY_N, rrega=2), 0, "NVMe Replace back")

    # ---- an iSCSI initiator registers: the NVMe report lists it
    pr.expect_good(pr.prout(i1, pr.PROUT_REGISTER, 0, KEY_I), "iSCSI REGISTER")
    r = N.report()
    check(r["regctl"] == 2 and r["rtype"] == nt.WE, "NVMe report with an iSCSI registrant: %r"
          % r)
    check(r["regs"].get(HOSTID_N, (0,))[:2] == (KEY_N, 1), "NVMe report: the NVMe host %r"
          % r["regs"])
    check(r["regs"].get(bytes(16), (0,))[:2] == (KEY_I, 0),
          "NVMe report: the iSCSI registrant with a zero host ID: %r" % r["regs"])
    w = i1.write(100, bytes(512))
    check(w.status == pr.RESERVATION_CONFLICT, "iSCSI WRITE of a registrant under WE: %r" % w)

    # ---- the iSCSI initiator preempts the NVMe host
    N.park_aer()
    pr.expect_good(pr.prout(i1, PROUT_PREEMPT, KEY_I, KEY_N, rtype=1), "iSCSI PREEMPT")
    N.expect_aen("preempted from iSCSI")
    N.expect_notice(nt.NOTICE_REG_PREEMPTED, "preempted from iSCSI", more=0)
    _, key, rtype = pr.read_reservation(i2)
    check(key == KEY_I and rtype == 1, "READ RESERVATION after PREEMPT: %r %r" % (key, rtype))
    _, keys = pr.read_keys(i2)
    check(keys == [KEY_I], "READ KEYS after PREEMPT: %r" % keys)
    r = N.report()
    check(r["regctl"] == 1 and r["rtype"] == nt.WE and r["regs"].get(bytes(16), (0, 0))[:2] ==
          (KEY_I, 1), "NVMe report after the iSCSI PREEMPT: %r" % r)
    nt.expect_io(N, ("read",), "WE held by an iSCSI initiator, the NVMe host")
    w = i2.write(100, bytes(512))
    check(w.status == pr.RESERVATION_CONFLICT, "WRITE of another iSCSI initiator: %r" % w)
    data_i = os.urandom(8192)
    pdu.write_verify(i1, 200, data_i, what="iSCSI WRITE of the holder")
    check(N.read(200, 8192) == data_i, "the NVMe host reads what the iSCSI holder wrote")

    # ---- the NVMe host registers again and preempts the iSCSI initiator back
    nt.expect_st(N.register(0, KEY_N), 0, "NVMe Register again")
    nt.expect_st(N.acquire(KEY_N, KEY_I, nt.EA, racqa=1), 0, "NVMe Preempt of the iSCSI holder")
    _, key, rtype = pr.read_reservation(i2)
    check(key == KEY_N and rtype == 3, "READ RESERVATION after the NVMe preempt: %r %r (want "
          "0x%x, 3)" % (key, rtype, KEY_N))
    r = i1.read(100, 1)
    pr.expect_sense(r, pr.UNIT_ATTENTION, 0x2A, 0x05,
                    "the preempted iSCSI initiator's next command (REGISTRATIONS PREEMPTED)")
    r = i1.read(100, 1)
    check(r.status == pr.RESERVATION_CONFLICT, "iSCSI READ under the NVMe host's EA: %r" % r)

    # ---- an iSCSI registrants-only reservation: the NVMe registrant writes, and is told of
    # its release
    pr.expect_good(pr.prout(i2, pr.PROUT_REGISTER, 0, KEY_I), "iSCSI REGISTER (second)")
    nt.expect_st(N.release(KEY_N, nt.EA), 0, "NVMe Release EA")
    pr.expect_good(pr.prout(i2, pr.PROUT_RESERVE, KEY_I, rtype=5), "iSCSI RESERVE WE_RO")
    r = N.report()
    check(r["rtype"] == nt.WE_RO and r["regs"].get(bytes(16), (0, 0))[:2] == (KEY_I, 1),
          "NVMe report of the iSCSI WE_RO reservation: %r" % r)
    nt.expect_io(N, ("read", "write"), "WE_RO held by an iSCSI initiator, an NVMe registrant")
    N.park_aer()
    pr.expect_good(pr.prout(i2, pr.PROUT_RELEASE, KEY_I, rtype=5), "iSCSI RELEASE WE_RO")
    N.expect_aen("iSCSI release of WE_RO")
    N.expect_notice(nt.NOTICE_RELEASED, "iSCSI release of WE_RO", more=0)
    pr.expect_good(pr.prout(i2, pr.PROUT_RESERVE, KEY_I, rtype=1), "iSCSI RESERVE WE")

    # ---- an iSCSI CLEAR: the NVMe host is told, both fabrics write again
    N.park_aer()
    pr.expect_good(pr.prout(i2, PROUT_CLEAR, KEY_I), "iSCSI CLEAR")
    N.expect_aen("iSCSI CLEAR")
    N.expect_notice(nt.NOTICE_PREEMPTED, "iSCSI CLEAR", more=0)
    r = N.report()
    check(r["regctl"] == 0 and r["rtype"] == 0, "NVMe report after the iSCSI CLEAR: %r" % r)
    data_n2 = os.urandom(4096)
    nt.expect_st(nvme_write(N, 300, data_n2), 0, "NVMe Write after CLEAR")
    r = i2.read(300, 8)
    check(r.status == GOOD and r.data == data_n2, "iSCSI READ of the NVMe write: %r" % r)
    pdu.write_verify(i1, 300, data_i[:4096], what="iSCSI WRITE after CLEAR")
    check(N.read(300, 4096) == data_i[:4096], "NVMe READ of the iSCSI write after CLEAR")
    for c in (i1, i2):
        c.logout()
        c.close()
    N.close()


def prout_tid(c, sa, key, sark, tid, rtype=0, rel_port=0, spec_i_pt=False):
    """PERSISTENT RESERVE OUT with a TransportID: REGISTER with SPEC_I_PT, or REGISTER AND
    MOVE (sa 07h) to relative target port rel_port."""
    if sa == 0x07:
        param = struct.pack(">QQBBHI", key, sark, 0, 0, rel_port, len(tid)) + tid
    else:
        param = struct.pack(">QQ", key, sark) + bytes([0, 0, 0, 0, 0x08 if spec_i_pt else 0,
                                                       0, 0, 0])
        param += struct.pack(">I", len(tid)) + tid
    cdb = bytes([pr.PROUT, sa, rtype, 0, 0]) + struct.pack(">I", len(param)) + b"\0"
    return c.scsi(cdb, write=param)


def nvme_tid(hostid):
    return bytes([0x0F]) + bytes(7) + hostid


def refused_or_usable(r, h, key, what, holds=False):
    """An NVMe host named in an iSCSI TransportID: the PROUT is refused (ILLEGAL REQUEST) or the
    host has a registration it can use (and, with holds, the reservation it can write under)."""
    if r.status != GOOD:
        check(r.status == pdu.CHECK_CONDITION and r.sense_tuple()[0] == 0x05,
              "%s: %r (GOOD, or ILLEGAL REQUEST when NVMe hosts cannot be named)" % (what, r))
        return False
    rep = h.report()
    check(rep["regs"].get(h.hostid, (None,))[0] == key,
          "%s: the NVMe host's key in its report: %r" % (what, rep["regs"]))
    if holds:
        nt.expect_io(h, ("read", "write"), "%s: the NVMe host holds the reservation" % what)
        nt.expect_st(h.release(key, nt.WE), 0, "%s: the NVMe host releases" % what)
    nt.expect_st(h.register(0, key), 0, "%s: the NVMe host registers its key again" % what)
    nt.expect_st(h.register(key, 0, rrega=1), 0, "%s: the NVMe host unregisters" % what)
    return True


def case_xfabric_spec_i_pt(args):
    """iSCSI REGISTER with SPEC_I_PT naming an NVMe host by TransportID (protocol Fh)."""
    A = nvme_host(args, nt.HOSTID_A, "A")
    i1 = pr.login(args, pr.INITIATOR_A)
    r = prout_tid(i1, pr.PROUT_REGISTER, 0, 0xE1, nvme_tid(nt.HOSTID_A), spec_i_pt=True)
    refused_or_usable(r, A, 0xE1, "REGISTER with SPEC_I_PT naming NVMe host A")
    A.close()
    i1.logout()
    i1.close()


def case_xfabric_move(args):
    """iSCSI REGISTER AND MOVE of a reservation to an NVMe host named by TransportID."""
    B = nvme_host(args, nt.HOSTID_B, "B")
    i1 = pr.login(args, pr.INITIATOR_A)
    pr.expect_good(pr.prout(i1, pr.PROUT_REGISTER, 0, KEY_I), "iSCSI REGISTER")
    pr.expect_good(pr.prout(i1, pr.PROUT_RESERVE, KEY_I, rtype=1), "iSCSI RESERVE WE")
    r = prout_tid(i1, 0x07, KEY_I, 0xF1, nvme_tid(nt.HOSTID_B), rtype=1, rel_port=1)
    refused_or_usable(r, B, 0xF1, "REGISTER AND MOVE to NVMe host B", holds=True)
    B.close()
    i1.logout()
    i1.close()


CASES = {"xfabric": case_xfabric, "xfabric-spec-i-pt": case_xfabric_spec_i_pt,
         "xfabric-move": case_xfabric_move}


def main():
    cases = {}
    for name, fn in CASES.items():
        def run(args, fn=fn):
            try:
                fn(args)
            except (nt.Fail, nt.Closed) as e:
                raise pdu.Fail("NVMe host: %s" % e)
        cases[name] = run
    return pdu.run_cases(cases, description=__doc__)


if __name__ == "__main__":
    sys.exit(main())
