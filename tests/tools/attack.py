#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Network attack on an iSCSI target: clients that connect and send mutated but well-framed
PDUs in every phase, in parallel, for a bounded time. Used by tests/interop/attack.sh, which
keeps a well-behaved session doing verified I/O on another target of the same portal meanwhile.

  attack.py --port P [--host H] [--seed N] [--workers N] [--seconds S]
            [--target IQN] [--chap-target IQN --chap-initiator IQN --chap-user U
             --chap-secret S [--chap-mutual-user U --chap-mutual-secret S]]
            [--closed-target IQN] [-v]

Every PDU is framed so that the stream stays parseable: the DataSegmentLength is the length of
the data sent, the TotalAHSLength that of the AHS sent (what is inside the AHS may lie). The
rest is fair game: start from a valid PDU of the phase (tests/tools/pdu.py builders), then
change header fields (opcode, immediate bit, flags, reserved bytes, ITT, TTT, CmdSN,
ExpStatSN, DataSN, buffer offset, LUN, Expected Data Transfer Length, CDB bytes), add AHS
(extended CDB, bidirectional read length, unknown types, inner lengths that lie), or change the
key=value text (random keys, huge values, repeated keys, bytes that are no UTF-8, a missing
NUL, values out of range, keys of another phase or stage).

Phases (each worker picks one per connection, seeded):
  login-sec     the security stage of a login to --target: mutated Login Requests (stages,
                versions, ISID/TSIH/CID, C bit chains, ITT changes, keys), other PDUs
  login-op      a valid security stage, then a mutated operational stage
  login-chap    the CHAP exchange with --chap-target: CHAP_A lists, CHAP_N/CHAP_R/CHAP_I/
                CHAP_C mutated (length, encoding, reflected challenge), sometimes right
  login-closed  logins to --closed-target (an ACL admits none of us), with TSIH values that
                may be another session's: must be refused
  ffp           a valid login (sometimes with digests, InitialR2T, ImmediateData varied), then
                a sequence of PDUs, most of them mutated: SCSI commands (odd CDBs, flags,
                lengths, immediate data), Data-Out answering R2Ts or not (wrong offsets,
                DataSN, TTT, F bit), NOP-Out (pings, answers to NOP-In with wrong TTT),
                Text (SendTargets, continuation with wrong TTT), TMF (every function, wrong
                RTT/LUN/RefCmdSN), SNACK (every type), Logout (reasons, CID), unknown
                opcodes, AHS; then perhaps a logout followed by more PDUs
  ffp-chap      the same after a valid CHAP login to --chap-target
  discovery     a discovery login (sometimes mutated), mutated Text/SendTargets, PDUs a
                discovery session may not send, logout
  idle          a connection that sends part of a login or nothing and waits (login timeout),
                or logs in and goes silent (NOP-In timeout)
Connections are sometimes closed with a RST (SO_LINGER 0) instead of a FIN.

Each client copes with the target closing the connection: it starts the next connection.
The target's answers are read (NOP-In pings answered with the right TTT most of the time) and
counted. Exit 1 when the target stops accepting connections (it died) or on an error of this
program; 0 otherwise. Figures printed at the end as FIGURE name=value lines.
The choices of a worker come from --seed and its number: a run is reproduced by its seed
(timing, and so the target's answers, may differ).
"""

import argparse
import hashlib
import os
import random
import socket
import struct
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pdu  # noqa: E402
from pdu import (Closed, Conn, Fail, Pdu, Timeout, RSVD, NOP_IN, R2T, REJECT,  # noqa: E402
                 TEXT_RSP, LOGIN_RSP)

VERBOSE = False

SNACK_REQ = 0x10

# Opcodes an initiator sends, and the others (target opcodes, reserved, vendor specific).
INITIATOR_OPS = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x10]
OTHER_OPS = [0x07, 0x08, 0x0B, 0x0F, 0x11, 0x12, 0x1A, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0x21,
             0x25, 0x31, 0x32, 0x3C, 0x3F]

# SCSI operation codes: common, dangerous to get wrong, and unknown ones
CDB_OPS = [0x00, 0x03, 0x04, 0x12, 0x15, 0x1A, 0x1B, 0x1D, 0x1E, 0x25, 0x28, 0x2A, 0x2E,
           0x2F, 0x35, 0x3B, 0x3C, 0x41, 0x42, 0x48, 0x4D, 0x55, 0x5A, 0x5E, 0x5F, 0x7F,
           0x83, 0x84, 0x88, 0x89, 0x8A, 0x8E, 0x8F, 0x91, 0x93, 0x9E, 0x9F, 0xA0, 0xA3,
           0xA4, 0xA8, 0xAA, 0xC0, 0xEF, 0xFF]

OP_KEYS = ["HeaderDigest", "DataDigest", "MaxConnections", "InitialR2T", "ImmediateData",
           "MaxRecvDataSegmentLength", "MaxBurstLength", "FirstBurstLength",
           "DefaultTime2Wait", "DefaultTime2Retain", "MaxOutstandingR2T", "DataPDUInOrder",
           "DataSequenceInOrder", "ErrorRecoveryLevel", "IFMarker", "OFMarker",
           "OFMarkInt", "IFMarkInt", "TaskReporting", "iSCSIProtocolLevel",
           "X-com.example.test", "X#vendor.key"]
SEC_KEYS = ["InitiatorName", "TargetName", "SessionType", "AuthMethod", "InitiatorAlias",
            "TargetAlias", "TargetAddress", "TargetPortalGroupTag", "SendTargets",
            "CHAP_A", "CHAP_I", "CHAP_C", "CHAP_N", "CHAP_R"]
ODD_VALUES = ["", "Yes", "No", "None", "CRC32C", "CRC32C,None", "None,CRC32C", "Reject",
              "Irrelevant", "NotUnderstood", "0", "1", "-1", "512", "511", "16777215",
              "16777216", "4294967296", "99999999999999999999999999", "0x10", "0x",
              "0b", "0bAAAA", "1e9", " 1", "1 ", "Yes,No", "CHAP,None", "None,CHAP", "KRB5",
              "SRP,SPKM1", "Discovery", "Normal", "Other", "All", "iqn.", "eui.1234",
              "naa.", "a" * 300, ",,,,", "=", "==", "\t", "No,Yes,No"]

KEY_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-+@_"

FIGURE_KEYS = ["pdus", "connections", "closed_by_target", "rst_closes", "logins_ffp",
               "logins_refused", "login_chap_ok", "answers", "rejects", "send_stalls",
               "recv_timeouts", "nop_in_answered"]


def vlog(msg):
    if VERBOSE:
        print("    . " + msg, flush=True)


# ---- mutation of text ---------------------------------------------------------------------

def rand_key(rnd):
    k = rnd.random()
    if k < 0.3:
        return rnd.choice(OP_KEYS + SEC_KEYS)
    if k < 0.5:
        return "X-org.tether.%s" % rnd.randbytes(rnd.randrange(1, 12)).hex()
    if k < 0.7:
        return "".join(rnd.choice(KEY_CHARS) for _ in range(rnd.randrange(1, 80)))
    if k < 0.8:
        return ""
    if k < 0.9:
        return "K" * rnd.choice([63, 64, 65, 255, 256, 4096])
    return rnd.choice(OP_KEYS) + rnd.choice(["", " ", "\x01", "=x"])


def rand_value(rnd, limit=4096):
    k = rnd.random()
    if k < 0.5:
        return rnd.choice(ODD_VALUES)
    if k < 0.65:
        return str(rnd.choice([0, 1, 255, 256, 511, 512, 8192, 65535, 65536, 262144,
                               16777215, 16777216, 1 << 31, 1 << 32, 1 << 63, 1 << 64]))
    if k < 0.8:
        return ",".join(rnd.choice(ODD_VALUES[:20]) for _ in range(rnd.randrange(1, 200)))
    if k < 0.9:
        return "0x" + rnd.randbytes(rnd.randrange(0, min(limit, 2048))).hex()
    return "v" * rnd.randrange(0, limit)


def mutate_text(rnd, keys, limit=8192):
    """keys: [(key, value)...] of a valid PDU -> the bytes of a text segment, mutated. Never
    longer than limit bytes (so that the segment stays within what the target accepts most of
    the time; going beyond is a separate mutation)."""
    keys = list(keys)
    for _ in range(rnd.randrange(1, 5)):
        k = rnd.random()
        if k < 0.2:
            keys.insert(rnd.randrange(len(keys) + 1), (rand_key(rnd), rand_value(rnd)))
        elif k < 0.35 and keys:
            i = rnd.randrange(len(keys))
            keys[i] = (keys[i][0], rand_value(rnd))
        elif k < 0.45 and keys:
            keys.insert(rnd.randrange(len(keys) + 1), rnd.choice(keys))     # repeated key
        elif k < 0.55 and keys:
            del keys[rnd.randrange(len(keys))]
        elif k < 0.6:
            keys += [("X-org.tether.k%d" % i, "x") for i in range(rnd.randrange(1, 400))]
        elif k < 0.65:
            keys.append((rand_key(rnd), "h" * rnd.choice([255, 256, 4095, 4096, 8191, 65535])))
        else:
            pass
    out = b"".join(("%s=%s" % kv).encode() + b"\0" for kv in keys)
    k = rnd.random()
    if k < 0.1 and out:
        out = out[:-1]                                     # the last NUL missing
    elif k < 0.15:
        out = out.replace(b"\0", b"", rnd.randrange(1, 3))  # two pairs run together
    elif k < 0.25:
        bad = rnd.choice([b"\xff\xfe", b"\xc3\x28", b"\xed\xa0\x80", b"\x80",
                          b"\xf8\x88\x80\x80\x80", b"\x00\x00", b"=\x00", b"\x7f"])
        i = rnd.randrange(len(out) + 1)
        out = out[:i] + bad + out[i:]                      # no UTF-8, stray NULs
    elif k < 0.3:
        out = out.replace(b"=", b"", 1)                    # a key without '='
    elif k < 0.35:
        out += b"\0" * rnd.randrange(1, 64)
    elif k < 0.38:
        out = rnd.randbytes(rnd.randrange(1, 512))
    return out[:limit]


# ---- mutation of the header ---------------------------------------------------------------

def rand_lun(rnd):
    k = rnd.random()
    if k < 0.3:
        return pdu.encode_lun(rnd.choice([0, 1, 2, 7, 255, 256, 16383]))
    if k < 0.5:
        return bytes([rnd.choice([0x40, 0x80, 0xC0, 0xE0, 0x3F, 0x7F, 0xFF]), rnd.randrange(256)]) \
            + rnd.randbytes(6)
    if k < 0.6:
        return b"\xff" * 8
    return rnd.randbytes(8)


def rand_sn(rnd, base):
    k = rnd.random()
    if k < 0.4:
        return (base + rnd.randrange(-3, 4)) & 0xFFFFFFFF
    if k < 0.6:
        return (base + rnd.choice([-(1 << 31), (1 << 31) - 1, 1 << 31, 1000, -1000, 64, 65])) \
            & 0xFFFFFFFF
    return rnd.choice([0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, rnd.randrange(1 << 32)])


def rand_tag(rnd, known):
    k = rnd.random()
    if k < 0.4 and known:
        return rnd.choice(known)
    if k < 0.6:
        return RSVD
    if k < 0.7:
        return 0
    return rnd.randrange(1 << 32)


def rand_cdb(rnd, lba_max=1 << 17):
    """A CDB: a known opcode with random (or boundary) fields."""
    op = rnd.choice(CDB_OPS)
    cdb = bytearray(rnd.randbytes(16)) if rnd.random() < 0.5 else bytearray(16)
    cdb[0] = op
    k = rnd.random()
    if k < 0.3:      # lengths at their limits
        for i in rnd.sample(range(1, 16), rnd.randrange(1, 5)):
            cdb[i] = rnd.choice([0x00, 0xFF, 0x80, 0x01])
    elif k < 0.5 and op in (0x28, 0x2A, 0x2E, 0x2F, 0x35, 0x41):
        struct.pack_into(">I", cdb, 2, rnd.choice([0, lba_max - 1, lba_max, 0xFFFFFFFF,
                                                  rnd.randrange(lba_max)]))
        struct.pack_into(">H", cdb, 7, rnd.choice([0, 1, 8, 128, 0xFFFF]))
    elif k < 0.7 and op in (0x88, 0x8A, 0x8E, 0x8F, 0x89, 0x93, 0x9E):
        struct.pack_into(">Q", cdb, 2, rnd.choice([0, lba_max - 1, lba_max, 1 << 63,
                                                  (1 << 64) - 1, rnd.randrange(lba_max)]))
        struct.pack_into(">I", cdb, 10, rnd.choice([0, 1, 8, 2048, 0xFFFFFFFF]))
    return bytes(cdb)


def mutate_bhs(rnd, p, ctx):
    """Changes 1 to 4 fields of p's header (never the TotalAHSLength or DataSegmentLength,
    which Conn.encode() sets from what is sent)."""
    muts = []
    for _ in range(rnd.randrange(1, 5)):
        k = rnd.randrange(17)
        if k == 0:
            p.immediate = not p.immediate
            muts.append("I bit")
        elif k == 1:
            p.opcode = rnd.choice(INITIATOR_OPS + OTHER_OPS)
            muts.append("opcode 0x%02x" % p.opcode)
        elif k == 2:
            p.bhs[0] ^= 0x80                                 # reserved bit
            muts.append("byte 0 bit 7")
        elif k == 3:
            p.flags = rnd.choice([p.flags ^ (1 << rnd.randrange(8)), rnd.randrange(256),
                                  p.flags & 0x7F, p.flags | 0x60, 0])
            muts.append("flags 0x%02x" % p.flags)
        elif k == 4:
            p.bhs[2] = rnd.randrange(256)
            p.bhs[3] = rnd.randrange(256)
            muts.append("bytes 2-3")
        elif k == 5:
            p.bhs[8:16] = rand_lun(rnd)
            muts.append("LUN %s" % p.bhs[8:16].hex())
        elif k == 6:
            p.itt = rand_tag(rnd, ctx.known_itts())
            muts.append("ITT 0x%08x" % p.itt)
        elif k == 7:
            p.ttt = rand_tag(rnd, ctx.known_ttts())
            muts.append("TTT/EDTL 0x%08x" % p.ttt)
        elif k == 8:
            p.cmdsn = rand_sn(rnd, ctx.c.cmdsn)
            muts.append("CmdSN %d" % p.cmdsn)
        elif k == 9:
            p.expstatsn = rand_sn(rnd, ctx.c.expstatsn)
            muts.append("ExpStatSN %d" % p.expstatsn)
        elif k == 10:
            p.bhs[32:36] = struct.pack(">I", rand_sn(rnd, struct.unpack(">I", p.bhs[32:36])[0]))
            muts.append("bytes 32-35")
        elif k == 11:
            p.datasn = rand_sn(rnd, p.datasn)
            muts.append("DataSN/byte 36 %d" % p.datasn)
        elif k == 12:
            p.offset = rnd.choice([0, 1, 511, 512, 4096, 65536, 1 << 24, 0xFFFFFE00, 0xFFFFFFFF,
                                   (p.offset + rnd.randrange(-4096, 4096)) & 0xFFFFFFFF])
            muts.append("offset %d" % p.offset)
        elif k == 13:
            p.bhs[44:48] = rnd.randbytes(4)
            muts.append("bytes 44-47")
        elif k == 14 and p.opcode == pdu.SCSI_CMD:
            cdb = bytearray(p.bhs[32:48])
            for _ in range(rnd.randrange(1, 4)):
                cdb[rnd.randrange(16)] = rnd.randrange(256)
            p.bhs[32:48] = cdb
            muts.append("CDB bytes")
        elif k == 15:
            p.ahs = rand_ahs(rnd, p)
            muts.append("AHS %d bytes" % len(p.ahs))
        else:
            i = rnd.choice([x for x in range(48) if x not in (4, 5, 6, 7)])
            p.bhs[i] = rnd.randrange(256)
            muts.append("byte %d" % i)
    return muts


def rand_ahs(rnd, p):
    """AHS bytes (whole 4-byte words, so TotalAHSLength is exact) whose content may lie:
    extended CDB (type 1), bidirectional read length (type 2), unknown types, inner
    AHSLength fields that do not match."""
    out = b""
    for _ in range(rnd.randrange(1, 4)):
        t = rnd.choice([1, 1, 2, 2, 0, 3, 0x3F, 0x40, 0xFF])
        if t == 1:
            body = rnd.randbytes(rnd.choice([1, 4, 16, 200, 244]))
            inner = len(body) + 1                          # the reserved byte counts
        elif t == 2:
            body = struct.pack(">I", rnd.choice([0, 512, 4096, 1 << 20, 0xFFFFFFFF]))
            inner = 5
        else:
            body = rnd.randbytes(rnd.randrange(0, 64))
            inner = len(body) + 1
        if rnd.random() < 0.3:
            inner = rnd.choice([0, 1, 2, 0xFFFF, inner + 4, max(0, inner - 4)])
        ahs = struct.pack(">HBB", inner & 0xFFFF, t, 0) + body
        ahs += bytes(pdu.pad4(len(ahs)))
        out += ahs
    if len(out) > 255 * 4:
        out = out[:255 * 4]
    return out


# ---- a client ---------------------------------------------------------------------------

class AConn(Conn):
    """A Conn whose recv() gives back what it took when it times out in the middle of a PDU
    (the next recv() starts again at its header), and that polls the socket once even with
    a timeout of 0."""

    def __init__(self, *a, **kw):
        self._taken = None
        super().__init__(*a, **kw)

    def _fill(self, n, deadline):
        super()._fill(n, max(deadline, time.monotonic() + 0.001))

    def _take(self, n, deadline):
        out = super()._take(n, deadline)
        if self._taken is not None:
            self._taken += out
        return out

    def recv(self, timeout=None):
        self._taken = bytearray()
        try:
            return super().recv(timeout)
        except Timeout:
            self.buf[0:0] = self._taken
            raise
        finally:
            self._taken = None


class Ctx:
    """What a client knows about its connection: ITTs of its commands, TTTs the target gave
    (R2T, NOP-In, Text), R2Ts to answer, negotiated values."""

    def __init__(self, c):
        self.c = c
        self.itts = []          # ITTs of commands sent
        self.writes = {}        # ITT -> (edtl, lun)
        self.r2ts = []          # R2T PDUs received, not answered yet
        self.ttts = []          # TTTs seen
        self.text_ttt = None    # TTT of a Text Response with C (continuation)
        self.text_itt = None
        self.nopins = []        # NOP-In pings received, not answered yet

    def known_itts(self):
        return self.itts[-16:]

    def known_ttts(self):
        return self.ttts[-16:]

    def note_itt(self, itt):
        self.itts.append(itt)
        del self.itts[:-64]


class Worker:
    def __init__(self, args, idx, stop_at):
        self.args = args
        self.idx = idx
        self.rnd = random.Random("%d-%d" % (args.seed, idx))
        self.stop_at = stop_at
        self.stats = dict.fromkeys(FIGURE_KEYS, 0)
        self.phases = {}
        self.error = None
        self.refused = 0         # consecutive connection refusals
        self.initiator = "iqn.2026-11.org.tether:attack-w%d" % idx
        self.history = []       # the last PDUs sent, for the report of a failure

    def left(self):
        return self.stop_at - time.monotonic()

    # -- plumbing

    def connect(self):
        for _ in range(50):
            try:
                c = AConn(self.args.host, self.args.port, timeout=self.args.io_timeout)
                self.refused = 0
                break
            except (ConnectionRefusedError, ConnectionResetError, socket.timeout) as e:
                self.refused += 1
                if self.refused >= 20:
                    raise Fail("the target no longer accepts connections: %s" % e)
                time.sleep(0.1)
        self.stats["connections"] += 1
        c._itt = self.rnd.randrange(0x100, 0x10000000)
        c.isid = bytes([0x80]) + self.rnd.randbytes(5)
        c.login_itt = c.next_itt()
        c.auto_nop = True
        return c

    def close(self, c):
        if self.rnd.random() < 0.25:
            try:
                c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.stats["rst_closes"] += 1
            except OSError:
                pass
        c.close()

    def send(self, c, p):
        self.history.append("-> %r hdigest=%s ahs=%s bhs=%s" % (p, c.hdigest, p.ahs.hex(),
                                                             bytes(p.bhs).hex()))
        del self.history[:-(40 if VERBOSE else 8)]
        c.send(p)
        self.stats["pdus"] += 1

    def drain(self, c, ctx, wait=0.0):
        """Reads what the target sent, waiting at most wait seconds for the first PDU.
        Notes R2Ts, TTTs, NOP-In pings; answers most pings right."""
        first = True
        while True:
            try:
                x = c.recv(wait if first else 0.0)
            except Timeout:
                return
            first = False
            self.note(c, ctx, x)

    def note(self, c, ctx, x):
        self.history.append("<- %r bhs=%s" % (x, bytes(x.bhs).hex()))
        del self.history[:-(40 if VERBOSE else 8)]
        self.stats["answers"] += 1
        op = x.opcode
        if op == REJECT:
            self.stats["rejects"] += 1
        if ctx is None:
            return
        if op == R2T:
            ctx.r2ts.append(x)
            ctx.ttts.append(x.ttt)
            del ctx.r2ts[:-32]
        elif op == NOP_IN and x.itt == RSVD and x.ttt != RSVD:
            ctx.ttts.append(x.ttt)
            if self.rnd.random() < 0.9:
                c.answer_nop_in(x)
                self.stats["pdus"] += 1
                self.stats["nop_in_answered"] += 1
            else:
                ctx.nopins.append(x)
        elif op == TEXT_RSP and not x.final:
            ctx.text_ttt = x.ttt
            ctx.text_itt = x.itt
            ctx.ttts.append(x.ttt)
        del ctx.ttts[:-64]

    # -- login helpers

    def login_keys(self, target, session_type="Normal", auth="None", initiator=None):
        keys = [("InitiatorName", initiator or self.initiator)]
        if session_type == "Normal" and target:
            keys.append(("TargetName", target))
        keys.append(("SessionType", session_type))
        keys.append(("AuthMethod", auth))
        return keys

    def login_op_keys(self, c):
        rnd = self.rnd
        ops = {}
        if rnd.random() < 0.3:
            ops["HeaderDigest"] = "CRC32C"
        if rnd.random() < 0.3:
            ops["DataDigest"] = "CRC32C"
        ops["InitialR2T"] = rnd.choice(["Yes", "No"])
        ops["ImmediateData"] = rnd.choice(["Yes", "No"])
        ops["FirstBurstLength"] = str(rnd.choice([512, 4096, 65536]))
        ops["MaxBurstLength"] = str(rnd.choice([4096, 65536, 262144]))
        ops["MaxOutstandingR2T"] = str(rnd.choice([1, 1, 4]))
        return ops

    def chap_response(self, secret, ident, chal_hex):
        chal = bytes.fromhex(chal_hex[2:]) if chal_hex.lower().startswith("0x") else b""
        return "0x" + hashlib.md5(bytes([ident]) + secret + chal).hexdigest()

    def chap_login(self, c, target, mutate=False):
        """A CHAP security stage with the --chap-* credentials (mutated when mutate);
        returns True when the target moved to the operational stage."""
        a = self.args
        rnd = self.rnd
        first = self.login_keys(target, auth="CHAP,None" if rnd.random() < 0.5 else "CHAP",
                                initiator=a.chap_initiator)
        c.tsih = 0
        self.send(c, c.login_pdu(0, 1, False, first))
        r = self.login_rsp(c)
        if r is None or r.login_status:
            return False
        algs = "5"
        if mutate and rnd.random() < 0.5:
            algs = rnd.choice(["5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5",
                               "", "99999999999999999999", "7", "6", "8", "0,1,2,3,4",
                               ",".join(str(rnd.randrange(256)) for _ in range(300)),
                               "5," + "x" * 5000, "abc", "-5", "5\x01"])
        keys = [("CHAP_A", algs)]
        if mutate and rnd.random() < 0.3:
            data = mutate_text(rnd, keys)
        else:
            data = pdu.encode_keys(keys)
        self.send(c, c.login_pdu(0, 1, False, data))
        r = self.login_rsp(c)
        if r is None or r.login_status:
            return False
        got = dict(pdu.decode_keys(r.data))
        if "CHAP_I" not in got or "CHAP_C" not in got:
            return False
        try:
            ident = int(got["CHAP_I"])
        except ValueError:
            return False
        user, secret = a.chap_user, a.chap_secret.encode()
        resp = self.chap_response(secret, ident, got["CHAP_C"])
        keys = [("CHAP_N", user), ("CHAP_R", resp)]
        mutual = a.chap_mutual_user and rnd.random() < 0.4
        if mutual:
            keys += [("CHAP_I", str(rnd.randrange(256))),
                     ("CHAP_C", "0x" + rnd.randbytes(16).hex())]
        if mutate:
            k = rnd.random()
            if k < 0.15:
                keys[1] = ("CHAP_R", resp[:-2])                          # short
            elif k < 0.25:
                keys[1] = ("CHAP_R", resp + "00" * rnd.randrange(1, 600))  # long
            elif k < 0.3:
                keys[1] = ("CHAP_R", resp + "0")                         # odd digits
            elif k < 0.4:
                keys[1] = ("CHAP_R", "0b" + rnd.randbytes(rnd.randrange(40)).hex())  # no base64
            elif k < 0.45:
                keys[0] = ("CHAP_N", "n" * rnd.choice([255, 256, 4000]))
            elif k < 0.55:
                keys += [("CHAP_I", rnd.choice(["256", "-1", "x", "", "255"])),
                         ("CHAP_C", rnd.choice(["0x", "0x" + "ab" * 1025, got["CHAP_C"],
                                                "0b" + "A" * 3000, "0x1"]))]
            elif k < 0.6:
                keys.append(("CHAP_A", "5"))
            elif k < 0.65:
                keys.append(("CHAP_R", resp))                            # repeated
            elif k < 0.8:
                data = mutate_text(rnd, keys)
                self.send(c, c.login_pdu(0, 1, True, data))
                r = self.login_rsp(c)
                return r is not None and not r.login_status and r.transit and r.nsg == 1
            # else: right
        self.send(c, c.login_pdu(0, 1, True, keys))
        r = self.login_rsp(c)
        if r is None or r.login_status:
            return False
        if r.transit and r.nsg == 1:
            self.stats["login_chap_ok"] += 1
            return True
        return False

    def login_rsp(self, c, timeout=None):
        """The next Login Response (None when the target says something else or nothing)."""
        try:
            r = c.recv_until(lambda p: True, timeout, "Login Response")
        except Timeout:
            self.stats["recv_timeouts"] += 1
            return None
        self.stats["answers"] += 1
        if r.opcode != LOGIN_RSP:
            return None
        if r.login_status:
            self.stats["logins_refused"] += 1
        if r.tsih:
            c.tsih = r.tsih
        return r

    def op_stage(self, c, session_type="Normal"):
        """A valid operational stage; True in full feature phase."""
        ops = {"HeaderDigest": "None", "DataDigest": "None", "MaxRecvDataSegmentLength": "65536",
               "ErrorRecoveryLevel": "0", "DefaultTime2Wait": "0", "DefaultTime2Retain": "0"}
        if session_type == "Normal":
            ops.update({"MaxConnections": "1", "DataPDUInOrder": "Yes",
                        "DataSequenceInOrder": "Yes"})
            ops.update(self.login_op_keys(c))
        c.offered = dict(ops)
        c.mrdsl = 65536
        keys = list(ops.items())
        for _ in range(4):
            self.send(c, c.login_pdu(1, 3, True, keys))
            r = self.login_rsp(c)
            if r is None or r.login_status:
                return False
            keys = []
            for k, v in pdu.decode_keys(r.data):
                c.neg[k] = v
                if k not in ops and k not in ("TargetPortalGroupTag", "TargetAlias",
                                              "TargetAddress", "MaxRecvDataSegmentLength"):
                    keys.append((k, v))
            if r.transit and r.nsg == 3:
                c._enter_ffp(r)
                self.stats["logins_ffp"] += 1
                return True
        return False

    def valid_login(self, c, target, session_type="Normal", chap=False):
        if chap:
            if not self.chap_login(c, target):
                return False
        else:
            self.send(c, c.login_pdu(0, 1, True, self.login_keys(target, session_type)))
            r = self.login_rsp(c)
            if r is None or r.login_status or not (r.transit and r.nsg == 1):
                return False
        return self.op_stage(c, session_type)

    # -- phases

    def phase_login_sec(self, c, target=None):
        """Mutated Login Requests in the security stage."""
        rnd = self.rnd
        target = target or self.args.target
        for step in range(rnd.randrange(1, 6)):
            keys = self.login_keys(target, rnd.choice(["Normal", "Normal", "Discovery"]),
                                   auth=rnd.choice(["None", "None", "CHAP", "CHAP,None", "SRP"]))
            csg, nsg, transit = 0, rnd.choice([1, 1, 3, 2, 0]), rnd.random() < 0.7
            if rnd.random() < 0.2:
                csg = rnd.choice([1, 2, 3])
            data = mutate_text(rnd, keys) if rnd.random() < 0.7 else pdu.encode_keys(keys)
            p = c.login_pdu(csg, nsg, transit, data,
                            version_max=rnd.choice([0, 0, 0, 1, 0xFF]),
                            version_min=rnd.choice([0, 0, 0, 1, 0xFF]))
            k = rnd.random()
            if k < 0.15:
                p.flags |= pdu.F_CONTINUE                        # C bit: more text follows
                if rnd.random() < 0.5:
                    p.flags &= ~pdu.F_TRANSIT & 0xFF
            elif k < 0.25:
                p.bhs[14:16] = struct.pack(">H", rnd.choice([1, 2, 3, rnd.randrange(1, 64),
                                                             0xFFFF]))       # another TSIH
            elif k < 0.3:
                p.bhs[20:22] = struct.pack(">H", rnd.randrange(1 << 16))       # CID
            elif k < 0.35:
                p.itt = rnd.randrange(1 << 32)                                 # ITT changes
            elif k < 0.4:
                p.bhs[8:14] = rnd.choice([bytes(6), b"\xff" * 6, rnd.randbytes(6)])  # ISID
            if rnd.random() < 0.3:
                mutate_bhs(rnd, p, Ctx(c))
                if rnd.random() < 0.7:
                    p.opcode = pdu.LOGIN_REQ
            self.send(c, p)
            r = self.login_rsp(c, timeout=rnd.choice([0.05, 0.5, 2.0]))
            if r is None:
                continue
            if r.login_status:
                return
            if r.transit and r.nsg == 1 and rnd.random() < 0.5:
                # on to the operational stage, mutated
                self.phase_login_op_stage(c)
                return

    def phase_login_op_stage(self, c):
        rnd = self.rnd
        for step in range(rnd.randrange(1, 5)):
            keys = [(k, rnd.choice(["None", "CRC32C", "Yes", "No", "65536", "1"]))
                    for k in rnd.sample(OP_KEYS, rnd.randrange(1, 8))]
            if rnd.random() < 0.3:
                keys.append(rnd.choice([("InitiatorName", "iqn.2026-11.org.tether:other"),
                                        ("TargetName", self.args.target),
                                        ("SessionType", "Discovery"), ("AuthMethod", "CHAP"),
                                        ("CHAP_A", "5")]))
            data = mutate_text(rnd, keys) if rnd.random() < 0.8 else pdu.encode_keys(keys)
            transit = rnd.random() < 0.7
            p = c.login_pdu(1, rnd.choice([3, 3, 1, 0, 2]), transit, data)
            if rnd.random() < 0.15:
                p.flags |= pdu.F_CONTINUE
            if rnd.random() < 0.25:
                mutate_bhs(rnd, p, Ctx(c))
                if rnd.random() < 0.7:
                    p.opcode = pdu.LOGIN_REQ
            self.send(c, p)
            r = self.login_rsp(c, timeout=rnd.choice([0.05, 0.5, 2.0]))
            if r is None:
                continue
            if r.login_status:
                return
            if r.transit and r.nsg == 3:
                c._enter_ffp(r)
                self.stats["logins_ffp"] += 1
                if rnd.random() < 0.5:
                    self.ffp_sequence(c, rnd.randrange(1, 20))
                return
        if rnd.random() < 0.3:
            # not a Login Request in the middle of a login
            self.send(c, rnd.choice([pdu.nop_out(c.next_itt(), c.cmdsn, c.expstatsn),
                                     pdu.scsi_cmd(c.next_itt(), c.cmdsn, c.expstatsn, bytes(6)),
                                     pdu.text_req(c.next_itt(), c.cmdsn, c.expstatsn,
                                                  {"SendTargets": "All"}),
                                     pdu.logout_req(c.next_itt(), c.cmdsn, c.expstatsn)]))
            self.drain(c, None, 0.2)

    def phase_login_op(self, c):
        self.send(c, c.login_pdu(0, 1, True, self.login_keys(self.args.target)))
        r = self.login_rsp(c)
        if r is None or r.login_status or not (r.transit and r.nsg == 1):
            return
        self.phase_login_op_stage(c)

    def phase_login_chap(self, c):
        if not self.args.chap_target:
            return self.phase_login_sec(c)
        if self.rnd.random() < 0.2:
            return self.phase_login_sec(c, self.args.chap_target)
        if self.chap_login(c, self.args.chap_target, mutate=True):
            if self.rnd.random() < 0.5:
                self.phase_login_op_stage(c)

    def phase_login_closed(self, c):
        """Logins to a target none of us may use, some naming a TSIH that may be another
        session's: refused, never joined to that session."""
        if not self.args.closed_target:
            return self.phase_login_sec(c)
        rnd = self.rnd
        c.tsih = rnd.choice([0, 0, rnd.randrange(1, 16), rnd.randrange(1, 1 << 16)])
        if rnd.random() < 0.5:
            ok = self.valid_login(c, self.args.closed_target)
        else:
            self.send(c, c.login_pdu(1, 3, True,
                                     self.login_keys(self.args.closed_target) +
                                     [("MaxRecvDataSegmentLength", "8192")]))
            r = self.login_rsp(c)
            ok = r is not None and not r.login_status and r.transit and r.nsg == 3
        if ok:
            raise Fail("a login of %s to %s (TSIH %d) was accepted: its ACL admits nobody "
                       "of ours" % (self.initiator, self.args.closed_target, c.tsih))

    def phase_ffp(self, c, chap=False):
        target = self.args.chap_target if chap else self.args.target
        if not self.valid_login(c, target, chap=chap):
            return
        self.ffp_sequence(c, self.rnd.randrange(5, 120))

    def phase_ffp_chap(self, c):
        if not self.args.chap_target:
            return self.phase_ffp(c)
        return self.phase_ffp(c, chap=True)

    def phase_discovery(self, c):
        rnd = self.rnd
        if rnd.random() < 0.2:
            keys = self.login_keys(None, "Discovery")
            if rnd.random() < 0.5:
                keys.append(("TargetName", self.args.target))
            self.send(c, c.login_pdu(0, 1, True, mutate_text(rnd, keys)))
            r = self.login_rsp(c)
            if r is None or r.login_status:
                return
            if not self.op_stage(c, "Discovery"):
                return
        elif not self.valid_login(c, None, "Discovery"):
            return
        ctx = Ctx(c)
        for _ in range(rnd.randrange(1, 30)):
            k = rnd.random()
            if k < 0.6:
                keys = [("SendTargets", rnd.choice(["All", "All", "", self.args.target,
                                                    self.args.chap_target or "x",
                                                    self.args.closed_target or "y",
                                                    "iqn.2026-11.org.tether:none",
                                                    "a" * 4000]))]
                data = mutate_text(rnd, keys) if rnd.random() < 0.6 else pdu.encode_keys(keys)
                p = pdu.text_req(c.next_itt(), c.cmdsn, c.expstatsn, data,
                                 final=rnd.random() < 0.85, cont=rnd.random() < 0.1)
                if ctx.text_ttt is not None and rnd.random() < 0.5:
                    p.ttt = ctx.text_ttt if rnd.random() < 0.5 else rnd.randrange(1 << 32)
                    p.itt = ctx.text_itt if rnd.random() < 0.7 else p.itt
                    ctx.text_ttt = None
                if rnd.random() < 0.3:
                    mutate_bhs(rnd, p, ctx)
            elif k < 0.85:
                p = self.ffp_pdu(c, ctx)         # a PDU a discovery session may not send
            else:
                p = self.logout_pdu(c, ctx)
            self.send(c, p)
            ctx.note_itt(p.itt)
            self.drain(c, ctx, rnd.choice([0.0, 0.01, 0.2]))
        if rnd.random() < 0.5:
            self.send(c, pdu.logout_req(c.next_itt(), c.cmdsn, c.expstatsn))
            self.drain(c, ctx, 0.5)

    def phase_idle(self, c):
        rnd = self.rnd
        k = rnd.random()
        if k < 0.3:
            pass                                            # nothing at all
        elif k < 0.6:
            p = c.login_pdu(0, 1, False, self.login_keys(self.args.target))
            p.flags |= pdu.F_CONTINUE                       # "more text follows", never
            self.send(c, p)
        else:
            if not self.valid_login(c, self.args.target):
                return
            ctx = Ctx(c)
            c.auto_nop = False
            # a WRITE whose R2T is never answered, or nothing: then silence
            if rnd.random() < 0.5:
                itt = c.next_itt()
                self.send(c, pdu.scsi_cmd(itt, c.cmdsn, c.expstatsn, pdu.cdb_write10(8, 64),
                                          edtl=64 * 512, write=True))
                c.cmdsn += 1
        # stay silent (the target's login or NOP-In timeout must end it) a while
        end = time.monotonic() + min(self.left(), rnd.uniform(0.5, 4.0))
        while time.monotonic() < end:
            try:
                c.recv(max(0.0, end - time.monotonic()))
                self.stats["answers"] += 1
            except Timeout:
                break

    # -- full feature phase

    def logout_pdu(self, c, ctx):
        rnd = self.rnd
        p = pdu.logout_req(c.next_itt(), c.cmdsn, c.expstatsn,
                           reason=rnd.choice([0, 0, 1, 2, 3, 0x7F]),
                           cid=rnd.choice([0, 0, 1, rnd.randrange(1 << 16)]),
                           immediate=rnd.random() < 0.7)
        return p

    def snack_pdu(self, c, ctx):
        rnd = self.rnd
        p = Pdu(SNACK_REQ, pdu.F_FINAL | rnd.choice([0, 1, 2, 3, 4, 0xF]), False)
        p.lun = rnd.choice([0, 1])
        p.itt = rand_tag(rnd, ctx.known_itts())
        p.ttt = rand_tag(rnd, ctx.known_ttts())
        p.expstatsn = c.expstatsn
        p.begrun = rnd.choice([0, 1, 5, 0xFFFFFFFF])
        p.runlength = rnd.choice([0, 1, 100, 0xFFFFFFFF])
        return p

    def scsi_pdu(self, c, ctx):
        rnd = self.rnd
        itt = c.next_itt()
        lun = rnd.choice([0, 0, 0, 1, 1, 5, 16383])
        k = rnd.random()
        seg = min(c.target_mrdsl, 65536)
        if k < 0.4:
            # a WRITE: immediate data or not, F or not, EDTL as the CDB says or not
            blocks = rnd.choice([1, 8, 64, 128, 512])
            lba = rnd.choice([0, 64, 4096, (1 << 17) - blocks, 1 << 17, rnd.randrange(1 << 17)])
            cdb = rnd.choice([pdu.cdb_write10, pdu.cdb_write16])(lba, blocks)
            edtl = rnd.choice([blocks * 512, blocks * 512, 0, 512, blocks * 1024,
                               rnd.randrange(1 << 24)])
            imm = rnd.choice([0, 0, min(edtl, seg), min(edtl, 512), rnd.randrange(seg + 1)])
            p = pdu.scsi_cmd(itt, c.cmdsn, c.expstatsn, cdb, lun=lun, edtl=edtl,
                             write=rnd.random() < 0.9, read=rnd.random() < 0.1,
                             final=rnd.random() < 0.5, data=rnd.randbytes(imm),
                             attr=rnd.choice([0, 1, 1, 2, 3, 4, 7]))
            ctx.writes[itt] = (edtl, lun)
        elif k < 0.65:
            blocks = rnd.choice([1, 8, 128, 2048])
            lba = rnd.choice([0, 1, (1 << 17) - blocks, 1 << 17, rnd.randrange(1 << 17)])
            cdb = rnd.choice([pdu.cdb_read10, pdu.cdb_read16])(lba, blocks)
            p = pdu.scsi_cmd(itt, c.cmdsn, c.expstatsn, cdb, lun=lun,
                             edtl=rnd.choice([blocks * 512, 0, 512, blocks * 512 + 7,
                                              rnd.randrange(1 << 24)]),
                             read=rnd.random() < 0.9, write=rnd.random() < 0.1,
                             final=rnd.random() < 0.9)
        else:
            cdb = rand_cdb(rnd)
            p = pdu.scsi_cmd(itt, c.cmdsn, c.expstatsn, cdb, lun=lun,
                             edtl=rnd.choice([0, 36, 255, 512, 4096, 65536, 0xFFFFFFFF]),
                             read=rnd.random() < 0.5, write=rnd.random() < 0.3,
                             final=rnd.random() < 0.9,
                             data=rnd.randbytes(rnd.choice([0, 0, 0, 8, 24, 512, 4096])))
            if p.bhs[1] & pdu.F_WRITE:
                ctx.writes[itt] = (p.edtl, lun)
        if rnd.random() < 0.15:
            p.ahs = rand_ahs(rnd, p)
        p.immediate = rnd.random() < 0.05
        if not p.immediate:
            c.cmdsn = (c.cmdsn + 1) & 0xFFFFFFFF
        if len(ctx.writes) > 64:
            ctx.writes.pop(next(iter(ctx.writes)))
        return p

    def dataout_pdu(self, c, ctx):
        """Data-Out: for an R2T received (right or wrong), or for a recent WRITE
        (unsolicited), or for nothing."""
        rnd = self.rnd
        seg = min(c.target_mrdsl, 65536)
        if ctx.r2ts and rnd.random() < 0.7:
            r = ctx.r2ts.pop(0) if rnd.random() < 0.8 else rnd.choice(ctx.r2ts)
            off, n, ttt, datasn, final = r.offset, min(r.desired, seg), r.ttt, 0, True
            k = rnd.random()
            if k < 0.4:
                pass                                                    # right
            elif k < 0.5:
                off = (off + rnd.choice([-512, 512, 1, r.desired, 1 << 20])) & 0xFFFFFFFF
            elif k < 0.6:
                datasn = rnd.choice([1, 2, 0xFFFFFFFF])
            elif k < 0.7:
                ttt = rnd.choice([RSVD, ttt + 1, 0, rnd.randrange(1 << 32)])
            elif k < 0.8:
                n = rnd.choice([0, 1, n + 512, min(seg, n * 2), max(0, n - 512)])
            else:
                final = False
            p = pdu.data_out(r.itt, ttt, c.expstatsn, datasn, off, rnd.randbytes(n), final,
                             lun=r.lun)
            if n and final and k < 0.4 and r.desired > n:
                # answer the rest of the R2T right, in more PDUs
                ctx.r2ts.insert(0, _rest_of(r, n))
            return p
        if ctx.writes and rnd.random() < 0.8:
            itt, (edtl, lun) = rnd.choice(list(ctx.writes.items()))
            off = rnd.choice([0, 512, 4096, edtl, max(0, edtl - 512), rnd.randrange(1 << 20)])
            n = rnd.choice([0, 512, 4096, seg])
            return pdu.data_out(itt, RSVD if rnd.random() < 0.8 else rnd.randrange(1 << 32),
                                c.expstatsn, rnd.randrange(4), off, rnd.randbytes(n),
                                rnd.random() < 0.5, lun=lun)
        return pdu.data_out(rnd.randrange(1 << 32), rand_tag(rnd, ctx.known_ttts()),
                            c.expstatsn, rnd.randrange(8), rnd.randrange(1 << 20),
                            rnd.randbytes(rnd.choice([0, 512, 4096])), rnd.random() < 0.5)

    def nop_pdu(self, c, ctx):
        rnd = self.rnd
        if ctx.nopins and rnd.random() < 0.6:
            x = ctx.nopins.pop(0)
            ttt = x.ttt if rnd.random() < 0.5 else rand_tag(rnd, ctx.known_ttts())
            return pdu.nop_out(RSVD if rnd.random() < 0.8 else c.next_itt(), c.cmdsn,
                               c.expstatsn, ttt=ttt, lun=x.lun, data=x.data)
        k = rnd.random()
        itt = c.next_itt() if k < 0.8 else RSVD
        ttt = RSVD if rnd.random() < 0.8 else rand_tag(rnd, ctx.known_ttts())
        imm = rnd.random() < 0.8
        p = pdu.nop_out(itt, c.cmdsn, c.expstatsn,
                        data=rnd.randbytes(rnd.choice([0, 1, 3, 64, 4096,
                                                       min(c.target_mrdsl, 65536)])),
                        ttt=ttt, immediate=imm)
        if not imm and itt != RSVD:
            c.cmdsn = (c.cmdsn + 1) & 0xFFFFFFFF
        return p

    def text_pdu(self, c, ctx):
        rnd = self.rnd
        if ctx.text_ttt is not None and rnd.random() < 0.6:
            p = pdu.text_req(ctx.text_itt if rnd.random() < 0.8 else c.next_itt(), c.cmdsn,
                             c.expstatsn, b"" if rnd.random() < 0.7 else b"x=y\0",
                             ttt=ctx.text_ttt if rnd.random() < 0.7 else rnd.randrange(1 << 32))
            ctx.text_ttt = None
            return p
        keys = rnd.choice([[("SendTargets", "All")], [("SendTargets", self.args.target)],
                           [("MaxRecvDataSegmentLength", "4096")],
                           [("X-org.tether.unknown", "1")],
                           [(rnd.choice(OP_KEYS), rnd.choice(ODD_VALUES))]])
        data = mutate_text(rnd, keys) if rnd.random() < 0.6 else pdu.encode_keys(keys)
        return pdu.text_req(c.next_itt(), c.cmdsn, c.expstatsn, data,
                            final=rnd.random() < 0.8, cont=rnd.random() < 0.15,
                            immediate=rnd.random() < 0.8)

    def tmf_pdu(self, c, ctx):
        rnd = self.rnd
        fn = rnd.choice([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0, 14, 0x7F])
        p = pdu.tmf_req(c.next_itt(), c.cmdsn, c.expstatsn, fn,
                        lun=rnd.choice([0, 0, 1, 9]),
                        rtt=rand_tag(rnd, ctx.known_itts()),
                        refcmdsn=rand_sn(rnd, c.cmdsn), immediate=rnd.random() < 0.8)
        if not p.immediate:
            c.cmdsn = (c.cmdsn + 1) & 0xFFFFFFFF
        return p

    def unknown_pdu(self, c, ctx):
        rnd = self.rnd
        p = Pdu(rnd.choice(OTHER_OPS), rnd.randrange(256), rnd.random() < 0.5,
                rnd.randbytes(rnd.choice([0, 0, 4, 48, 1000])))
        p.bhs[8:48] = rnd.randbytes(40)
        p.itt = c.next_itt()
        p.cmdsn = c.cmdsn
        p.expstatsn = c.expstatsn
        if rnd.random() < 0.2:
            p.ahs = rand_ahs(rnd, p)
        return p

    def ffp_pdu(self, c, ctx):
        """A valid PDU of full feature phase (with state: R2Ts, TTTs, ITTs)."""
        k = self.rnd.random()
        if k < 0.35:
            return self.scsi_pdu(c, ctx)
        if k < 0.6:
            return self.dataout_pdu(c, ctx)
        if k < 0.7:
            return self.nop_pdu(c, ctx)
        if k < 0.77:
            return self.text_pdu(c, ctx)
        if k < 0.85:
            return self.tmf_pdu(c, ctx)
        if k < 0.9:
            return self.snack_pdu(c, ctx)
        if k < 0.96:
            return self.unknown_pdu(c, ctx)
        return self.logout_pdu(c, ctx)

    def ffp_sequence(self, c, count):
        rnd = self.rnd
        ctx = Ctx(c)
        mutate_p = rnd.choice([0.1, 0.4, 0.7, 0.95])
        for _ in range(count):
            if self.left() <= 0:
                return
            p = self.ffp_pdu(c, ctx)
            if rnd.random() < mutate_p:
                muts = mutate_bhs(rnd, p, ctx)
                vlog("w%d %r %s" % (self.idx, p, muts))
            if rnd.random() < 0.02:
                # a data segment above the target's MaxRecvDataSegmentLength
                p.data = rnd.randbytes(min(c.target_mrdsl + rnd.choice([1, 512, 4096]), 1 << 20))
            self.send(c, p)
            ctx.note_itt(p.itt)
            self.drain(c, ctx, rnd.choice([0.0, 0.0, 0.005, 0.05]))
            if p.opcode == pdu.LOGOUT_REQ and rnd.random() < 0.5:
                # the logout phase: more PDUs after the Logout Request
                self.drain(c, ctx, 0.1)
                for _ in range(rnd.randrange(1, 6)):
                    q = self.ffp_pdu(c, ctx)
                    if rnd.random() < 0.5:
                        mutate_bhs(rnd, q, ctx)
                    self.send(c, q)
                self.drain(c, ctx, 0.2)
        if rnd.random() < 0.3:
            self.send(c, self.logout_pdu(c, ctx))
            self.drain(c, ctx, 0.3)

    PHASES = [("login-sec", 3), ("login-op", 3), ("login-chap", 3), ("login-closed", 1),
              ("ffp", 8), ("ffp-chap", 2), ("discovery", 3), ("idle", 1)]

    def run(self):
        names = [n for n, w in self.PHASES for _ in range(w)]
        try:
            while self.left() > 0:
                name = self.rnd.choice(names)
                self.phases[name] = self.phases.get(name, 0) + 1
                c = self.connect()
                try:
                    getattr(self, "phase_" + name.replace("-", "_"))(c)
                    # whatever is left to read, then close (FIN or RST)
                    try:
                        self.drain(c, None, 0.0)
                    except Closed:
                        pass
                except (Closed, ConnectionError) as e:
                    vlog("w%d %s: closed by the target: %s" % (self.idx, name, e))
                    self.stats["closed_by_target"] += 1
                except Timeout as e:
                    # sendall blocked: the target does not read (it may have stopped
                    # reading a misbehaving connection); go on with a new one
                    vlog("w%d %s: %s" % (self.idx, name, e))
                    self.stats["send_stalls"] += 1
                finally:
                    self.close(c)
        except Fail as e:
            self.error = "%s\n    the last PDUs:\n      %s" % (e, "\n      ".join(self.history))
        except Exception:   # a bug of this program: report it with its traceback
            self.error = traceback.format_exc()


def _rest_of(r, n):
    """An R2T for what is left of r after its first n bytes (answered right)."""
    q = Pdu(bhs=r.bhs)
    q.offset = r.offset + n
    q.desired = r.desired - n
    return q


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--target", default=pdu.DEFAULT_TARGET)
    ap.add_argument("--chap-target")
    ap.add_argument("--chap-initiator")
    ap.add_argument("--chap-user")
    ap.add_argument("--chap-secret")
    ap.add_argument("--chap-mutual-user")
    ap.add_argument("--chap-mutual-secret")
    ap.add_argument("--closed-target")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--io-timeout", type=float, default=3.0)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    global VERBOSE
    VERBOSE = args.verbose
    if args.seed is None:
        args.seed = int.from_bytes(os.urandom(4), "big")
    if args.chap_target and not (args.chap_initiator and args.chap_user and args.chap_secret):
        ap.error("--chap-target needs --chap-initiator, --chap-user and --chap-secret")
    args.workers = max(1, min(args.workers, 64))
    args.seconds = max(1.0, min(args.seconds, 600.0))
    print("    attack: seed %d (--seed %d reproduces it), %d workers, %.0f s"
          % (args.seed, args.seed, args.workers, args.seconds), flush=True)
    stop_at = time.monotonic() + args.seconds
    workers = [Worker(args, i, stop_at) for i in range(args.workers)]
    threads = [threading.Thread(target=w.run, name="attack-%d" % w.idx, daemon=True)
               for w in workers]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(args.seconds + 60)
    hung = [t.name for t in threads if t.is_alive()]
    total = dict.fromkeys(FIGURE_KEYS, 0)
    phases = {}
    for w in workers:
        for k, v in w.stats.items():
            total[k] += v
        for k, v in w.phases.items():
            phases[k] = phases.get(k, 0) + v
    print("    %.1f s; connections per phase: %s" % (
        time.monotonic() - t0, ", ".join("%s %d" % kv for kv in sorted(phases.items()))))
    for k in FIGURE_KEYS:
        print("FIGURE attack_%s=%d" % (k, total[k]))
    errors = [(w.idx, w.error) for w in workers if w.error]
    for idx, e in errors:
        print("FAIL  worker %d: %s (seed %d)" % (idx, e, args.seed))
    if hung:
        print("FAIL  workers still running %.0f s after the end: %s (seed %d)"
              % (60, ", ".join(hung), args.seed))
    return 1 if errors or hung else 0


if __name__ == "__main__":
    sys.exit(main())
