#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write and read paths of an iSCSI target driven PDU by PDU, for
tests/interop/write_paths.sh. Each case logs in with its own operational keys, writes with
WRITE(16) (immediate data, unsolicited Data-Out, Data-Out answering R2Ts, as negotiated),
reads the blocks back and compares. Conn.scsi() checks every R2T (offset in order, length
<= MaxBurstLength, R2TSN, outstanding <= MaxOutstandingR2T) and every Data-In (DataSN,
offset, length <= our MaxRecvDataSegmentLength, sequences <= MaxBurstLength).

  write_paths.py --port P [--host H] [--target IQN] [--opt KEY=VALUE] CASE...   (--list)

target-limits needs a target whose portal group sets MaxBurstLength, FirstBurstLength,
MaxRecvDataSegmentLength and MaxOutstandingR2T: --opt mb=, fb=, mrdsl=, r2t= give them.
"""

import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pdu  # noqa: E402
from pdu import check, write_verify, RSVD  # noqa: E402

CASES = {}
MIB = 1 << 20


def case(fn):
    CASES[fn.__name__.replace("_", "-")] = fn
    return fn


def say(msg):
    print("    " + msg, flush=True)


def login(args, mrdsl=262144, **keys):
    c = pdu.connect_login(args.host, args.port, args.target, mrdsl=mrdsl, op_keys=keys)
    neg = ("ImmediateData", "InitialR2T", "FirstBurstLength", "MaxBurstLength",
           "MaxOutstandingR2T", "MaxRecvDataSegmentLength")
    say("negotiated: " + ", ".join("%s=%s" % (k, c.param(k)) for k in neg))
    return c


def expect_params(c, **want):
    for k, v in want.items():
        got = c.param(k)
        check(str(got) == str(v), "negotiated %s=%s, expected %s" % (k, got, v))


def describe(w, total):
    unsol = [(o, n) for o, n, t in w.dataout if t == RSVD]
    lens = sorted({n for _, n, _, _ in w.r2ts})
    return ("immediate %d, unsolicited %d in %d Data-Out, %d R2Ts (lengths %s%s), %d bytes"
            % (w.immediate, sum(n for _, n in unsol), len(unsol), len(w.r2ts),
               ", ".join(map(str, lens[:4])), "..." if len(lens) > 4 else "", total))


def check_split(w, total, imm, unsol_end):
    """The data went as expected: imm bytes immediate, unsolicited Data-Out up to unsol_end,
    R2Ts for exactly the rest."""
    check(w.immediate == imm, "%d bytes of immediate data sent, expected %d" % (w.immediate, imm))
    unsol = sum(n for _, n, t in w.dataout if t == RSVD)
    check(imm + unsol == unsol_end, "unsolicited data ends at %d, expected %d"
          % (imm + unsol, unsol_end))
    asked = sum(n for _, n, _, _ in w.r2ts)
    check(asked == total - unsol_end, "the R2Ts ask for %d bytes, expected %d (%d..%d)"
          % (asked, total - unsol_end, unsol_end, total))
    if total > unsol_end:
        check(w.r2ts and w.r2ts[0][0] == unsol_end, "the first R2T asks for offset %s, "
              "expected %d" % (w.r2ts[0][0] if w.r2ts else None, unsol_end))


def run_write(c, lba, total, imm, unsol_end, what, **kw):
    data = random.randbytes(total)
    w = write_verify(c, lba, data, what=what, **kw)
    check_split(w, total, imm, unsol_end)
    say("%s: %s; read back identical" % (what, describe(w, total)))
    return w


@case
def imm_unsol_r2t(args):
    """ImmediateData=Yes, InitialR2T=No, FirstBurstLength 64 KiB, 8 KiB PDUs: 8 KiB immediate,
    56 KiB in unsolicited Data-Out, the other 960 KiB solicited by R2Ts of <= 256 KiB."""
    c = login(args, InitialR2T="No", ImmediateData="Yes", FirstBurstLength=65536,
              MaxBurstLength=262144)
    expect_params(c, InitialR2T="No", ImmediateData="Yes", FirstBurstLength=65536,
                  MaxBurstLength=262144)
    run_write(c, 2048, MIB, 8192, 65536, "1 MiB WRITE", seg=8192)
    c.logout()


@case
def imm_whole_first_burst(args):
    """ImmediateData=Yes, InitialR2T=No, segments up to the target's limit: the whole first
    burst (64 KiB) goes as immediate data, no unsolicited Data-Out, R2Ts for the rest."""
    c = login(args, InitialR2T="No", ImmediateData="Yes", FirstBurstLength=65536)
    imm = min(65536, c.target_mrdsl)
    run_write(c, 8192, MIB, imm, 65536, "1 MiB WRITE")
    c.logout()


@case
def unsol_no_imm(args):
    """ImmediateData=No, InitialR2T=No: unsolicited Data-Out from offset 0 up to
    FirstBurstLength (32 KiB), R2Ts for the rest."""
    c = login(args, InitialR2T="No", ImmediateData="No", FirstBurstLength=32768)
    expect_params(c, ImmediateData="No", FirstBurstLength=32768)
    run_write(c, 12288, MIB, 0, 32768, "1 MiB WRITE", seg=8192)
    c.logout()


@case
def r2t_only(args):
    """ImmediateData=No, InitialR2T=Yes: every byte solicited by an R2T."""
    c = login(args, InitialR2T="Yes", ImmediateData="No", MaxBurstLength=131072)
    expect_params(c, InitialR2T="Yes", ImmediateData="No", MaxBurstLength=131072)
    run_write(c, 16384, MIB, 0, 0, "1 MiB WRITE")
    c.logout()


@case
def imm_then_r2t(args):
    """ImmediateData=Yes, InitialR2T=Yes: 16 KiB immediate, then R2Ts from 16 KiB on."""
    c = login(args, InitialR2T="Yes", ImmediateData="Yes", FirstBurstLength=65536)
    run_write(c, 20480, MIB, 16384, 16384, "1 MiB WRITE", seg=16384)
    c.logout()


@case
def small_bursts(args):
    """MaxBurstLength 16 KiB, FirstBurstLength 8 KiB: 1 MiB takes 63 R2Ts of 16 KiB."""
    c = login(args, InitialR2T="No", ImmediateData="Yes", FirstBurstLength=8192,
              MaxBurstLength=16384)
    expect_params(c, FirstBurstLength=8192, MaxBurstLength=16384)
    w = run_write(c, 24576, MIB, 4096, 8192, "1 MiB WRITE", seg=4096)
    check(len(w.r2ts) >= (MIB - 8192) // 16384, "%d R2Ts for %d bytes with MaxBurstLength "
          "16384" % (len(w.r2ts), MIB - 8192))
    c.logout()


@case
def odd_bursts(args):
    """Burst lengths that are no multiple of the block size (RFC 7143 allows any value from
    512): FirstBurstLength 12345, MaxBurstLength 66001, 5000-byte PDUs. The R2T offsets
    are then not block-aligned."""
    c = login(args, InitialR2T="No", ImmediateData="Yes", FirstBurstLength=12345,
              MaxBurstLength=66001)
    expect_params(c, FirstBurstLength=12345, MaxBurstLength=66001)
    run_write(c, 28672, MIB, 5000, 12345, "1 MiB WRITE", seg=5000)
    c.logout()


@case
def end_of_lun(args):
    """A write of 1 MiB + 1.5 KiB ending on the last block of the LUN."""
    c = login(args, InitialR2T="No", ImmediateData="Yes", FirstBurstLength=65536)
    blocks, bs = c.capacity()
    total = MIB + 3 * bs
    run_write(c, blocks - total // bs, total, min(65536, c.target_mrdsl), 65536,
              "WRITE up to the last block", bs=bs)
    c.logout()


@case
def read_limits(args):
    """A READ of 1 MiB with our MaxRecvDataSegmentLength 4096 and MaxBurstLength 65536:
    Data-In segments <= 4096, a Data-In sequence (F bit) at most every 64 KiB."""
    c = login(args, mrdsl=4096, MaxBurstLength=65536, FirstBurstLength=65536)
    data = random.randbytes(MIB)
    w = write_verify(c, 32768, data, what="1 MiB WRITE")
    r = c.read(32768, MIB // 512)
    sizes = {n for _, n, _, _ in r.datain}
    finals = sum(1 for _, _, _, f in r.datain if f & pdu.F_FINAL)
    say("READ 1 MiB: %d Data-In PDUs (sizes %s), %d with F; the write: %s"
        % (len(r.datain), sorted(sizes)[:4], finals, describe(w, MIB)))
    check(max(sizes) <= 4096, "Data-In of %d bytes" % max(sizes))
    check(finals >= MIB // 65536, "%d Data-In sequences for 1 MiB with MaxBurstLength 65536"
          % finals)
    c.logout()


@case
def target_limits(args):
    """The target's own limits win (--opt mb, fb, mrdsl, r2t): the initiator offers 1 MiB
    bursts, 256 KiB segments and 16 outstanding R2Ts."""
    mb, fb = int(args.opts["mb"]), int(args.opts["fb"])
    mrdsl, r2t = int(args.opts["mrdsl"]), int(args.opts["r2t"])
    c = login(args, InitialR2T="No", ImmediateData="Yes", FirstBurstLength=MIB,
              MaxBurstLength=MIB, MaxOutstandingR2T=16)
    expect_params(c, FirstBurstLength=fb, MaxBurstLength=mb, MaxOutstandingR2T=r2t,
                  MaxRecvDataSegmentLength=mrdsl)
    check(c.target_mrdsl == mrdsl, "the target declared MaxRecvDataSegmentLength=%d, "
          "expected %d" % (c.target_mrdsl, mrdsl))
    w = run_write(c, 1024, MIB, min(fb, mrdsl), fb, "1 MiB WRITE")
    most = max(o for _, _, _, o in w.r2ts)
    say("at most %d R2Ts outstanding at once (MaxOutstandingR2T %d)" % (most, r2t))
    c.logout()


if __name__ == "__main__":
    sys.exit(pdu.run_cases(CASES, description=__doc__))
