#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""iSCSI PDUs built by hand, for black-box tests of an iSCSI target (RFC 7143).

A small library (standard library only):
  Pdu                 a PDU: 48-byte BHS, AHS, data; named fields by byte offset
  nop_out(), scsi_cmd(), data_out(), text_req(), login_req(), logout_req(), tmf_req()
                      builders of initiator PDUs
  Conn                a TCP connection to a target: send() (with optional lies: wrong
                      DataSegmentLength, bad digests), recv() with a timeout, login(),
                      ping(), scsi() (Data-In, immediate/unsolicited data, R2T answered
                      with Data-Out, and checks of what the target sends), text(), logout()
  write_verify()      a WRITE, then a READ of the same blocks, compared
  crc32c(), parse_sense(), cdb_read10(), cdb_write10(), ...
Errors: Closed (the target closed the connection), Timeout, Fail (an assertion).

Run as a program it logs in, pings and reads the capacity of LUN 0 (TT_PDU_VERBOSE=1 or -v
prints every PDU):
  pdu.py --port 3260 [--host 127.0.0.1] [--target IQN] [-v] selftest
Test scripts build their cases on it and use run_cases() as their command line.
"""

import argparse
import os
import random
import select
import socket
import struct
import sys
import time

# ---- opcodes (RFC 7143 §11.2.1.2) --------------------------------------------------------

NOP_OUT = 0x00
SCSI_CMD = 0x01
TMF_REQ = 0x02
LOGIN_REQ = 0x03
TEXT_REQ = 0x04
DATA_OUT = 0x05
LOGOUT_REQ = 0x06
SNACK_REQ = 0x10
NOP_IN = 0x20
SCSI_RSP = 0x21
TMF_RSP = 0x22
LOGIN_RSP = 0x23
TEXT_RSP = 0x24
DATA_IN = 0x25
LOGOUT_RSP = 0x26
R2T = 0x31
ASYNC_MSG = 0x32
REJECT = 0x3F

OPNAMES = {
    NOP_OUT: "NOP-Out", SCSI_CMD: "SCSI Command", TMF_REQ: "Task Management Request",
    LOGIN_REQ: "Login Request", TEXT_REQ: "Text Request", DATA_OUT: "Data-Out",
    LOGOUT_REQ: "Logout Request", SNACK_REQ: "SNACK", NOP_IN: "NOP-In",
    SCSI_RSP: "SCSI Response", TMF_RSP: "Task Management Response", LOGIN_RSP: "Login Response",
    TEXT_RSP: "Text Response", DATA_IN: "Data-In", LOGOUT_RSP: "Logout Response", R2T: "R2T",
    ASYNC_MSG: "Async Message", REJECT: "Reject",
}

# byte 1 flags
F_FINAL = 0x80
F_READ = 0x40       # SCSI Command
F_WRITE = 0x20      # SCSI Command
ATTR_SIMPLE = 0x01
F_CONTINUE = 0x40   # Login/Text
F_TRANSIT = 0x80    # Login
F_ACK = 0x40        # Data-In
F_OVERFLOW = 0x04   # Data-In, SCSI Response (residual overflow)
F_UNDERFLOW = 0x02
F_STATUS = 0x01     # Data-In

RSVD = 0xFFFFFFFF   # reserved tag value

# login stages
STAGE_SECURITY = 0
STAGE_OPERATIONAL = 1
STAGE_FFP = 3

# Reject reasons (RFC 7143 §11.17.1)
REJECT_REASONS = {
    0x02: "data digest error", 0x03: "SNACK reject", 0x04: "protocol error",
    0x05: "command not supported", 0x06: "immediate command reject", 0x07: "task in progress",
    0x08: "invalid data ack", 0x09: "invalid PDU field", 0x0A: "long op reject",
    0x0B: "deprecated", 0x0C: "waiting for logout",
}

# SCSI status and sense keys
GOOD = 0x00
CHECK_CONDITION = 0x02
ILLEGAL_REQUEST = 0x05

DEFAULT_INITIATOR = "iqn.2026-11.org.tether:pdu-test"
DEFAULT_TARGET = "iqn.2026-11.org.tether:default"

VERBOSE = bool(os.environ.get("TT_PDU_VERBOSE"))


class Fail(Exception):
    """A check failed."""


class Closed(Exception):
    """The peer closed the connection (or reset it)."""


class Timeout(Exception):
    """Nothing (or not enough) arrived in time."""


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def log(msg):
    if VERBOSE:
        print("    . " + msg, flush=True)


# ---- CRC32C (Castagnoli), as iSCSI digests use it ----------------------------------------

def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE = _crc32c_table()


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    t = _CRC_TABLE
    for b in data:
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def digest_bytes(data):
    """The 4 bytes of a header or data digest on the wire (least significant byte first)."""
    return struct.pack("<I", crc32c(data))


assert crc32c(b"123456789") == 0xE3069283
assert digest_bytes(bytes(32)) == bytes.fromhex("aa36918a")  # RFC 7143 §B.4


def pad4(n):
    return (4 - n % 4) % 4


# ---- PDUs ---------------------------------------------------------------------------------

# Named 32-bit fields of the BHS: name -> byte offset. The meaning depends on the opcode;
# the names are those of RFC 7143 §11.
FIELDS32 = {
    "itt": 16, "ttt": 20, "edtl": 20, "rtt": 20, "snack_tag": 20,
    "cmdsn": 24, "statsn": 24, "expstatsn": 28, "expcmdsn": 28, "maxcmdsn": 32,
    "refcmdsn": 32, "expdatasn": 36, "datasn": 36, "r2tsn": 36, "begrun": 36,
    "offset": 40, "bidi_residual": 40, "runlength": 40, "residual": 44, "desired": 44,
}


class Pdu:
    """A PDU. bhs is a 48-byte bytearray; ahs and data are bytes."""

    def __init__(self, opcode=0, flags=0, immediate=False, data=b"", ahs=b"", bhs=None):
        if bhs is not None:
            self.bhs = bytearray(bhs)
        else:
            self.bhs = bytearray(48)
            self.bhs[0] = (opcode & 0x3F) | (0x40 if immediate else 0)
            self.bhs[1] = flags
        self.ahs = bytes(ahs)
        self.data = bytes(data)

    # fixed places
    @property
    def opcode(self):
        return self.bhs[0] & 0x3F

    @opcode.setter
    def opcode(self, v):
        self.bhs[0] = (self.bhs[0] & 0xC0) | (v & 0x3F)

    @property
    def immediate(self):
        return bool(self.bhs[0] & 0x40)

    @immediate.setter
    def immediate(self, v):
        self.bhs[0] = (self.bhs[0] & ~0x40 & 0xFF) | (0x40 if v else 0)

    @property
    def flags(self):
        return self.bhs[1]

    @flags.setter
    def flags(self, v):
        self.bhs[1] = v & 0xFF

    @property
    def final(self):
        return bool(self.bhs[1] & F_FINAL)

    @property
    def b2(self):
        return self.bhs[2]

    @b2.setter
    def b2(self, v):
        self.bhs[2] = v & 0xFF

    @property
    def b3(self):
        return self.bhs[3]

    @b3.setter
    def b3(self, v):
        self.bhs[3] = v & 0xFF

    @property
    def ahs_words(self):
        return self.bhs[4]

    @property
    def dsl(self):
        return int.from_bytes(self.bhs[5:8], "big")

    @dsl.setter
    def dsl(self, v):
        self.bhs[5:8] = (v & 0xFFFFFF).to_bytes(3, "big")

    @property
    def lun(self):
        """The LUN field as a LUN number (single-level addressing) for LUNs below 16384."""
        raw = bytes(self.bhs[8:16])
        return ((raw[0] & 0x3F) << 8) | raw[1]

    @lun.setter
    def lun(self, n):
        self.bhs[8:16] = encode_lun(n)

    @property
    def lun_raw(self):
        return bytes(self.bhs[8:16])

    @property
    def cdb(self):
        return bytes(self.bhs[32:48])

    @cdb.setter
    def cdb(self, v):
        v = bytes(v)
        check(len(v) <= 16, "CDB longer than 16 bytes needs an AHS")
        self.bhs[32:48] = v + bytes(16 - len(v))

    # Login
    @property
    def isid(self):
        return bytes(self.bhs[8:14])

    @property
    def tsih(self):
        return struct.unpack(">H", self.bhs[14:16])[0]

    @property
    def status_class(self):
        return self.bhs[36]

    @property
    def status_detail(self):
        return self.bhs[37]

    @property
    def login_status(self):
        return (self.bhs[36] << 8) | self.bhs[37]

    @property
    def csg(self):
        return (self.bhs[1] >> 2) & 3

    @property
    def nsg(self):
        return self.bhs[1] & 3

    @property
    def transit(self):
        return bool(self.bhs[1] & F_TRANSIT)

    # responses
    @property
    def reason(self):       # Reject
        return self.bhs[2]

    @property
    def response(self):     # SCSI/TMF/Logout response
        return self.bhs[2]

    @property
    def status(self):       # SCSI Response, Data-In with S
        return self.bhs[3]

    def __getattr__(self, name):
        off = FIELDS32.get(name)
        if off is None:
            raise AttributeError(name)
        return struct.unpack(">I", self.bhs[off:off + 4])[0]

    def __setattr__(self, name, value):
        off = FIELDS32.get(name)
        if off is None:
            object.__setattr__(self, name, value)
        else:
            self.bhs[off:off + 4] = struct.pack(">I", value & 0xFFFFFFFF)

    def name(self):
        return OPNAMES.get(self.opcode, "opcode 0x%02x" % self.opcode)

    def __repr__(self):
        s = "<%s flags=0x%02x itt=0x%08x dsl=%d" % (self.name(), self.flags, self.itt, self.dsl)
        if self.opcode == REJECT:
            s += " reason=0x%02x" % self.reason
        elif self.opcode == LOGIN_RSP:
            s += " status=0x%04x" % self.login_status
        elif self.opcode == SCSI_RSP:
            s += " status=0x%02x response=0x%02x" % (self.status, self.response)
        elif self.opcode in (DATA_IN, R2T):
            s += " offset=%d" % self.offset
            if self.opcode == R2T:
                s += " desired=%d r2tsn=%d" % (self.desired, self.r2tsn)
        return s + ">"


def sendtargets_records(keys):
    """[(TargetName, [TargetAddress...])...] from SendTargets answer keys, in their order."""
    out = []
    for k, v in keys:
        if k == "TargetName":
            out.append((v, []))
        elif k == "TargetAddress":
            check(out, "TargetAddress=%s before any TargetName" % v)
            out[-1][1].append(v)
        elif k != "TargetAlias":
            raise Fail("unexpected key %s=%s in a SendTargets answer" % (k, v))
    return out


def encode_lun(n):
    """Single-level LUN structure (SAM): peripheral addressing below 256, flat above."""
    if n < 256:
        return bytes([0, n]) + bytes(6)
    return bytes([0x40 | (n >> 8), n & 0xFF]) + bytes(6)


# ---- text keys ----------------------------------------------------------------------------

def encode_keys(keys):
    """keys: a list of (key, value) pairs or a dict -> "key=value\\0..." bytes."""
    items = keys.items() if isinstance(keys, dict) else keys
    return b"".join(("%s=%s" % (k, v)).encode() + b"\0" for k, v in items)


def decode_keys(data):
    """"k=v\\0..." -> list of (key, value) pairs, in order."""
    out = []
    for item in bytes(data).split(b"\0"):
        if not item:
            continue
        k, _, v = item.decode(errors="replace").partition("=")
        out.append((k, v))
    return out


# ---- builders of initiator PDUs -----------------------------------------------------------

def nop_out(itt, cmdsn, expstatsn, data=b"", ttt=RSVD, lun=0, immediate=True):
    p = Pdu(NOP_OUT, F_FINAL, immediate, data)
    p.lun = lun
    p.itt = itt
    p.ttt = ttt
    p.cmdsn = cmdsn
    p.expstatsn = expstatsn
    return p


def scsi_cmd(itt, cmdsn, expstatsn, cdb, lun=0, edtl=0, read=False, write=False, final=True,
             data=b"", attr=ATTR_SIMPLE, immediate=False):
    flags = (F_FINAL if final else 0) | (F_READ if read else 0) | (F_WRITE if write else 0) | attr
    p = Pdu(SCSI_CMD, flags, immediate, data)
    p.lun = lun
    p.itt = itt
    p.edtl = edtl
    p.cmdsn = cmdsn
    p.expstatsn = expstatsn
    p.cdb = cdb
    return p


def data_out(itt, ttt, expstatsn, datasn, offset, data, final, lun=0):
    p = Pdu(DATA_OUT, F_FINAL if final else 0, False, data)
    p.lun = lun
    p.itt = itt
    p.ttt = ttt
    p.expstatsn = expstatsn
    p.datasn = datasn
    p.offset = offset
    return p


def text_req(itt, cmdsn, expstatsn, keys, final=True, cont=False, ttt=RSVD, immediate=True):
    flags = (F_FINAL if final else 0) | (F_CONTINUE if cont else 0)
    p = Pdu(TEXT_REQ, flags, immediate, encode_keys(keys) if not isinstance(keys, bytes) else keys)
    p.itt = itt
    p.ttt = ttt
    p.cmdsn = cmdsn
    p.expstatsn = expstatsn
    return p


def login_req(isid, tsih, itt, cid, cmdsn, expstatsn, csg, nsg, transit, keys,
              version_max=0, version_min=0, cont=False):
    flags = (F_TRANSIT if transit else 0) | (F_CONTINUE if cont else 0) | (csg << 2) | nsg
    data = encode_keys(keys) if not isinstance(keys, bytes) else keys
    p = Pdu(LOGIN_REQ, flags, True, data)
    p.b2 = version_max
    p.b3 = version_min
    p.bhs[8:14] = isid
    p.bhs[14:16] = struct.pack(">H", tsih)
    p.itt = itt
    p.bhs[20:22] = struct.pack(">H", cid)
    p.cmdsn = cmdsn
    p.expstatsn = expstatsn
    return p


def logout_req(itt, cmdsn, expstatsn, reason=0, cid=0, immediate=True):
    p = Pdu(LOGOUT_REQ, F_FINAL | reason, immediate)
    p.itt = itt
    p.bhs[20:22] = struct.pack(">H", cid)
    p.cmdsn = cmdsn
    p.expstatsn = expstatsn
    return p


def tmf_req(itt, cmdsn, expstatsn, function, lun=0, rtt=RSVD, refcmdsn=0, immediate=True):
    p = Pdu(TMF_REQ, F_FINAL | function, immediate)
    p.lun = lun
    p.itt = itt
    p.rtt = rtt
    p.cmdsn = cmdsn
    p.expstatsn = expstatsn
    p.refcmdsn = refcmdsn
    return p


# ---- CDBs and sense ---------------------------------------------------------------------

def cdb_tur():
    return bytes(6)


def cdb_inquiry(alloc=96, evpd=False, page=0):
    return bytes([0x12, 1 if evpd else 0, page]) + struct.pack(">H", alloc) + b"\0"


def cdb_read_capacity10():
    return bytes([0x25]) + bytes(9)


def cdb_read_capacity16(alloc=32):
    return bytes([0x9E, 0x10]) + bytes(8) + struct.pack(">I", alloc) + bytes(2)


def cdb_read10(lba, blocks):
    return bytes([0x28, 0]) + struct.pack(">IBHB", lba, 0, blocks, 0)


def cdb_write10(lba, blocks, fua=False):
    return bytes([0x2A, 0x08 if fua else 0]) + struct.pack(">IBHB", lba, 0, blocks, 0)


def cdb_read16(lba, blocks):
    return bytes([0x88, 0]) + struct.pack(">QIBB", lba, blocks, 0, 0)


def cdb_write16(lba, blocks):
    return bytes([0x8A, 0]) + struct.pack(">QIBB", lba, blocks, 0, 0)


def parse_sense(sense):
    """Fixed (70h/71h) or descriptor (72h/73h) sense data -> (key, asc, ascq)."""
    if len(sense) < 2:
        return None
    code = sense[0] & 0x7F
    if code in (0x70, 0x71) and len(sense) >= 14:
        return sense[2] & 0x0F, sense[12], sense[13]
    if code in (0x72, 0x73) and len(sense) >= 4:
        return sense[1] & 0x0F, sense[2], sense[3]
    return None


class ScsiResult:
    """What a SCSI command produced. violations: protocol breaches seen by Conn.scsi()."""

    def __init__(self):
        self.status = None
        self.response = None
        self.sense = b""
        self.data = b""
        self.residual = 0
        self.res_flags = 0
        self.reject = None      # a Reject PDU instead of a response
        self.r2ts = []          # (offset, desired length, r2tsn, outstanding when received)
        self.datain = []        # (offset, length, datasn, flags)
        self.dataout = []       # (offset, length, ttt) of every Data-Out sent
        self.immediate = 0      # bytes of immediate data sent
        self.violations = []

    def sense_tuple(self):
        return parse_sense(self.sense)

    def __repr__(self):
        return "<status=%s response=%s sense=%s data=%d bytes reject=%r>" % (
            self.status, self.response, self.sense_tuple(), len(self.data), self.reject)


# ---- connection ---------------------------------------------------------------------------

class Conn:
    """An initiator connection. After login(): cmdsn is the CmdSN of the next non-immediate
    command, expstatsn the next StatSN expected, neg the negotiated keys (strings),
    target_mrdsl the largest data segment the target accepts, mrdsl ours."""

    def __init__(self, host="127.0.0.1", port=3260, timeout=5.0, family=None):
        if family is None:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.buf = bytearray()
        self.hdigest = False
        self.ddigest = False
        self.cmdsn = 1
        self.expstatsn = 0
        self.expcmdsn = None
        self.maxcmdsn = None
        self._itt = random.randrange(0x100, 0x10000000)
        self.neg = {}
        self.mrdsl = 8192
        self.target_mrdsl = 8192
        self.isid = bytes([0x80]) + os.urandom(3) + bytes(2)   # random format
        self.tsih = 0
        self.ffp = False
        self.login_itt = self.next_itt()
        self.offered = {}
        self.auto_nop = True    # answer the target's NOP-In pings in recv_until()
        self.unexpected = []    # PDUs that recv_until() set aside

    # -- plumbing

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def next_itt(self):
        self._itt = (self._itt + 1) & 0x7FFFFFFF
        return self._itt

    def send_raw(self, data):
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError) as e:
            raise Closed("send: %s" % e)
        except socket.timeout:
            raise Timeout("send: the target does not read (%d bytes pending)" % len(data))

    def encode(self, pdu, dsl=None, bad_hdigest=False, bad_ddigest=False, ahs_words=None):
        """The bytes of pdu on the wire. dsl: a DataSegmentLength to claim instead of the
        real one; ahs_words: a TotalAHSLength to claim."""
        bhs = bytearray(pdu.bhs)
        bhs[4] = (len(pdu.ahs) + 3) // 4 if ahs_words is None else ahs_words
        n = len(pdu.data) if dsl is None else dsl
        bhs[5:8] = (n & 0xFFFFFF).to_bytes(3, "big")
        hdr = bytes(bhs) + pdu.ahs + bytes(pad4(len(pdu.ahs)))
        out = bytearray(hdr)
        if self.hdigest:
            d = digest_bytes(hdr)
            if bad_hdigest:
                d = bytes([d[0] ^ 0xFF]) + d[1:]
            out += d
        if pdu.data:
            seg = pdu.data + bytes(pad4(len(pdu.data)))
            out += seg
            if self.ddigest:
                d = digest_bytes(seg)
                if bad_ddigest:
                    d = bytes([d[0] ^ 0xFF]) + d[1:]
                out += d
        return bytes(out)

    def send(self, pdu, **kw):
        log("-> %r" % pdu)
        self.send_raw(self.encode(pdu, **kw))

    def _fill(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout("timed out with %d of %d bytes" % (len(self.buf), n))
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                continue
            try:
                chunk = self.sock.recv(max(65536, n - len(self.buf)))
            except ConnectionResetError:
                raise Closed("connection reset")
            except socket.timeout:
                continue
            if not chunk:
                raise Closed("connection closed (%d bytes of a PDU read)" % len(self.buf))
            self.buf += chunk

    def _take(self, n, deadline):
        self._fill(n, deadline)
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def recv(self, timeout=None):
        """The next PDU from the target; checks its digests. Raises Closed or Timeout."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        bhs = self._take(48, deadline)
        ahs_len = bhs[4] * 4
        ahs = self._take(ahs_len, deadline) if ahs_len else b""
        if self.hdigest:
            d = self._take(4, deadline)
            if d != digest_bytes(bhs + ahs):
                raise Fail("header digest error in a PDU from the target (opcode 0x%02x)"
                           % (bhs[0] & 0x3F))
        dsl = int.from_bytes(bhs[5:8], "big")
        data = b""
        if dsl:
            seg = self._take(dsl + pad4(dsl), deadline)
            if self.ddigest:
                d = self._take(4, deadline)
                if d != digest_bytes(seg):
                    raise Fail("data digest error in a PDU from the target (opcode 0x%02x)"
                               % (bhs[0] & 0x3F))
            data = seg[:dsl]
        pdu = Pdu(bhs=bhs, ahs=ahs, data=data)
        self._note_sn(pdu)
        log("<- %r" % pdu)
        return pdu

    def _note_sn(self, pdu):
        op = pdu.opcode
        if op in (NOP_IN, SCSI_RSP, TMF_RSP, LOGIN_RSP, TEXT_RSP, DATA_IN, LOGOUT_RSP, R2T,
                  ASYNC_MSG, REJECT):
            statsn = pdu.statsn
            advances = op not in (R2T, ASYNC_MSG, DATA_IN, NOP_IN) or \
                (op == DATA_IN and pdu.flags & F_STATUS) or (op == NOP_IN and pdu.itt != RSVD)
            if op == DATA_IN and not pdu.flags & F_STATUS:
                return
            if advances:
                self.expstatsn = (statsn + 1) & 0xFFFFFFFF
            if op != LOGIN_RSP:
                self.expcmdsn = pdu.expcmdsn
                self.maxcmdsn = pdu.maxcmdsn

    def answer_nop_in(self, pdu):
        """Answers a NOP-In ping of the target (TTT not reserved)."""
        self.send(nop_out(RSVD, self.cmdsn, self.expstatsn, ttt=pdu.ttt, lun=pdu.lun,
                          data=pdu.data))

    def recv_until(self, match, timeout=None, what="a PDU"):
        """PDUs until match(pdu) is true; returns that PDU. The target's NOP-In pings are
        answered (auto_nop); other PDUs are kept in self.unexpected."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout("no %s in time" % what)
            pdu = self.recv(left)
            if match(pdu):
                return pdu
            if self.auto_nop and pdu.opcode == NOP_IN and pdu.itt == RSVD and pdu.ttt != RSVD:
                self.answer_nop_in(pdu)
                continue
            self.unexpected.append(pdu)

    def expect_closed(self, timeout=5.0):
        """Reads until the target closes the connection; returns the PDUs read before.
        Raises Timeout when it stays open."""
        got = []
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout("the target did not close the connection within %.1f s "
                              "(PDUs read: %r)" % (timeout, got))
            try:
                got.append(self.recv(left))
            except Closed:
                return got
            except Timeout:
                continue

    def is_closed(self, wait=0.0):
        """True when the target has closed the connection (within wait seconds), reading
        and dropping whatever comes first."""
        try:
            self.expect_closed(wait)
            return True
        except Timeout:
            return False

    # -- login

    def login_pdu(self, csg, nsg, transit, keys, version_max=0, version_min=0, itt=None,
                  cid=0):
        return login_req(self.isid, self.tsih, self.login_itt if itt is None else itt, cid,
                         self.cmdsn, self.expstatsn, csg, nsg, transit, keys,
                         version_max, version_min)

    def login(self, initiator=DEFAULT_INITIATOR, target=DEFAULT_TARGET, session_type="Normal",
              security=True, op_keys=None, extra_keys=None, names=True, mrdsl=262144,
              tsih=0, isid=None, check_status=True, cid=0):
        """Logs in. security: go through the security stage with AuthMethod=None first.
        op_keys: operational keys to offer instead of the defaults (a dict, merged over them;
        a value None removes a key). names: send InitiatorName/TargetName/SessionType
        (initiator=None or target=None leaves that one out).
        Returns the last Login Response; raises Fail on a non-zero status when check_status."""
        self.tsih = tsih
        if isid is not None:
            self.isid = isid
        self.login_itt = self.next_itt()
        self.mrdsl = mrdsl
        first = []
        if names:
            if initiator is not None:
                first.append(("InitiatorName", initiator))
            if target is not None and session_type == "Normal":
                first.append(("TargetName", target))
            if session_type is not None:
                first.append(("SessionType", session_type))
        first += list((extra_keys or {}).items())
        ops = {
            "HeaderDigest": "None", "DataDigest": "None",
            "MaxRecvDataSegmentLength": str(mrdsl),
            "DefaultTime2Wait": "2", "DefaultTime2Retain": "0",
            "IFMarker": "No", "OFMarker": "No", "ErrorRecoveryLevel": "0",
        }
        if session_type == "Normal":
            ops.update({
                "InitialR2T": "No", "ImmediateData": "Yes", "MaxBurstLength": "262144",
                "FirstBurstLength": "65536", "MaxOutstandingR2T": "1", "MaxConnections": "1",
                "DataPDUInOrder": "Yes", "DataSequenceInOrder": "Yes",
            })
        for k, v in (op_keys or {}).items():
            if v is None:
                ops.pop(k, None)
            else:
                ops[k] = str(v)
        self.offered = dict(ops)
        rsp = None
        if security:
            keys = first + [("AuthMethod", "None")]
            rsp = self._login_exchange(STAGE_SECURITY, STAGE_OPERATIONAL, keys, check_status)
            if rsp.login_status:
                return rsp
            keys = list(ops.items())
        else:
            keys = first + list(ops.items())
        rsp = self._login_exchange(STAGE_OPERATIONAL, STAGE_FFP, keys, check_status)
        if rsp.login_status:
            return rsp
        self._enter_ffp(rsp)
        return rsp

    def _login_exchange(self, csg, nsg, keys, check_status):
        """Sends keys in stage csg asking to go to nsg, until the target agrees (T=1 with
        NSG=nsg) or fails the login. Answers keys the target offers on its own."""
        for _ in range(8):
            self.send(self.login_pdu(csg, nsg, True, keys))
            rsp = self.recv_until(lambda p: p.opcode in (LOGIN_RSP, REJECT), what="Login Response")
            check(rsp.opcode == LOGIN_RSP, "a %r answers a Login Request" % rsp)
            if rsp.login_status:
                if check_status:
                    raise Fail("login failed: status 0x%04x" % rsp.login_status)
                return rsp
            check(rsp.itt == self.login_itt, "Login Response ITT 0x%08x != 0x%08x"
                  % (rsp.itt, self.login_itt))
            got = decode_keys(rsp.data)
            sent = {k for k, _ in keys}
            keys = []
            for k, v in got:
                self.neg[k] = v
                if k not in sent and k not in ("TargetPortalGroupTag", "TargetAlias",
                                               "TargetAddress", "MaxRecvDataSegmentLength"):
                    keys.append((k, v))   # the target offers: accept its value
            if rsp.tsih:
                self.tsih = rsp.tsih
            if rsp.transit and rsp.nsg == nsg:
                return rsp
        raise Fail("login does not progress from stage %d" % csg)

    def _enter_ffp(self, rsp):
        self.ffp = True
        self.tsih = rsp.tsih
        self.target_mrdsl = int(self.neg.get("MaxRecvDataSegmentLength", "8192"))
        self.hdigest = self.neg.get("HeaderDigest") == "CRC32C"
        self.ddigest = self.neg.get("DataDigest") == "CRC32C"

    def param(self, key, default=None):
        """A negotiated value: the target's answer or, when it did not answer, what we
        offered (its default otherwise)."""
        return self.neg.get(key, self.offered.get(key, default))

    def param_int(self, key, default):
        """A negotiated number; default when the key is Irrelevant or missing."""
        v = self.param(key, default)
        return int(v) if str(v).isdigit() else default

    def param_bool(self, key, default):
        return self.param(key, "Yes" if default else "No") == "Yes"

    # -- full feature phase

    def ping(self, data=b"", timeout=None):
        """NOP-Out ping (immediate); waits for the NOP-In echo and checks it."""
        itt = self.next_itt()
        self.send(nop_out(itt, self.cmdsn, self.expstatsn, data=data))
        rsp = self.recv_until(lambda p: p.opcode in (NOP_IN, REJECT) and p.itt == itt
                              or p.opcode == REJECT, timeout, "NOP-In for the ping")
        check(rsp.opcode == NOP_IN, "a ping got %r instead of a NOP-In" % rsp)
        check(rsp.data == data, "the NOP-In does not echo the ping data (%d bytes sent, %d "
              "received)" % (len(data), len(rsp.data)))
        check(rsp.ttt == RSVD, "NOP-In answering a ping has TTT 0x%08x" % rsp.ttt)
        return rsp

    def scsi(self, cdb, lun=0, read_len=0, write=None, timeout=None, immediate_data=None,
             unsolicited=None, seg=None, hold_r2t=0.02, immediate_cmd=False):
        """Runs one SCSI command to the end and returns a ScsiResult.
        write: the data to write (Expected Data Transfer Length = its length); it goes as
        immediate data (if negotiated), then unsolicited Data-Out up to FirstBurstLength (if
        InitialR2T=No), then in Data-Out answering each R2T. immediate_data/unsolicited:
        override the use of what was negotiated (False: do not use). seg: the largest data
        segment to send (default the target's MaxRecvDataSegmentLength).
        Checks what the target sends: R2T and Data-In offsets, lengths, DataSN, R2TSN,
        MaxBurstLength, MaxOutstandingR2T, our MaxRecvDataSegmentLength; breaches go to
        result.violations."""
        res = ScsiResult()
        itt = self.next_itt()
        wdata = bytes(write or b"")
        edtl = len(wdata) if write is not None else read_len
        seg = min(seg or self.target_mrdsl, self.target_mrdsl)
        first_burst = self.param_int("FirstBurstLength", 65536)
        max_burst = self.param_int("MaxBurstLength", 262144)
        max_r2t = self.param_int("MaxOutstandingR2T", 1)
        imm_ok = self.param_bool("ImmediateData", True) if immediate_data is None else immediate_data
        unsol_ok = (not self.param_bool("InitialR2T", True)) if unsolicited is None else unsolicited
        imm = b""
        unsol_end = 0
        if write is not None:
            if imm_ok:
                imm = wdata[:min(first_burst, seg, len(wdata))]
            unsol_end = min(first_burst, len(wdata)) if unsol_ok else len(imm)
        res.immediate = len(imm)
        cmdsn = self.cmdsn
        cmd = scsi_cmd(itt, cmdsn, self.expstatsn, cdb, lun=lun, edtl=edtl,
                       read=read_len > 0 and write is None, write=write is not None,
                       final=unsol_end <= len(imm), data=imm, immediate=immediate_cmd)
        self.send(cmd)
        if not immediate_cmd:
            self.cmdsn = (self.cmdsn + 1) & 0xFFFFFFFF
        sent = len(imm)
        # unsolicited Data-Out
        datasn = 0
        off = len(imm)
        while off < unsol_end:
            n = min(seg, unsol_end - off)
            d = data_out(itt, RSVD, self.expstatsn, datasn, off, wdata[off:off + n],
                         off + n >= unsol_end, lun=lun)
            self.send(d)
            res.dataout.append((off, n, RSVD))
            datasn += 1
            off += n
        sent = max(sent, unsol_end)
        next_r2t_off = unsol_end
        r2tsn = 0
        inbuf = bytearray()
        datain_sn = 0
        seq_bytes = 0   # Data-In bytes since the last F bit
        pending = []    # R2Ts not answered yet
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout) * 4

        def mine(p):
            return p.itt == itt and p.opcode in (R2T, DATA_IN, SCSI_RSP) or \
                p.opcode == REJECT and p.data[16:20] == cmd.bhs[16:20]

        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout("SCSI command %02x: no response in time (%d bytes sent, %d "
                              "received)" % (cdb[0], sent, len(inbuf)))
            try:
                p = self.recv_until(mine, hold_r2t if pending else left, "response")
            except Timeout:
                if not pending:
                    raise
                p = None
            if p is None or (pending and p.opcode != R2T):
                # answer the R2Ts held so far (held briefly to see how many are outstanding)
                for r in pending:
                    self._answer_r2t(r, wdata, seg, lun, res)
                pending = []
                if p is None:
                    continue
            if p.opcode == REJECT:
                res.reject = p
                return res
            if p.opcode == R2T:
                v = res.violations
                outstanding = len(pending) + 1
                res.r2ts.append((p.offset, p.desired, p.r2tsn, outstanding))
                if write is None:
                    v.append("R2T for a command without the W bit")
                    continue
                if p.r2tsn != r2tsn:
                    v.append("R2TSN %d, expected %d" % (p.r2tsn, r2tsn))
                r2tsn = p.r2tsn + 1
                if p.offset != next_r2t_off:
                    v.append("R2T offset %d, expected %d (DataSequenceInOrder)"
                             % (p.offset, next_r2t_off))
                if p.desired == 0:
                    v.append("R2T with a desired length of 0")
                if p.desired > max_burst:
                    v.append("R2T desired length %d > MaxBurstLength %d" % (p.desired, max_burst))
                if p.offset + p.desired > len(wdata):
                    v.append("R2T asks for bytes %d..%d beyond the %d to write"
                             % (p.offset, p.offset + p.desired, len(wdata)))
                if p.offset < unsol_end:
                    v.append("R2T offset %d asks again for unsolicited data (up to %d)"
                             % (p.offset, unsol_end))
                if outstanding > max_r2t:
                    v.append("%d R2Ts outstanding, MaxOutstandingR2T %d" % (outstanding, max_r2t))
                if p.ttt == RSVD:
                    v.append("R2T with the reserved TTT 0xffffffff")
                next_r2t_off = p.offset + p.desired
                pending.append(p)
                continue
            if p.opcode == DATA_IN:
                v = res.violations
                n = len(p.data)
                res.datain.append((p.offset, n, p.datasn, p.flags))
                if p.datasn != datain_sn:
                    v.append("Data-In DataSN %d, expected %d" % (p.datasn, datain_sn))
                datain_sn = p.datasn + 1
                if p.offset != len(inbuf):
                    v.append("Data-In offset %d, expected %d (DataPDUInOrder)"
                             % (p.offset, len(inbuf)))
                if n > self.mrdsl:
                    v.append("Data-In segment %d > our MaxRecvDataSegmentLength %d"
                             % (n, self.mrdsl))
                if p.offset + n > edtl:
                    v.append("Data-In beyond the Expected Data Transfer Length (%d+%d > %d)"
                             % (p.offset, n, edtl))
                inbuf[p.offset:p.offset + n] = p.data
                seq_bytes += n
                if seq_bytes > max_burst:
                    v.append("Data-In sequence of %d bytes > MaxBurstLength %d (no F bit)"
                             % (seq_bytes, max_burst))
                    seq_bytes = 0
                if p.flags & F_FINAL:
                    seq_bytes = 0
                if p.flags & F_STATUS:
                    check(p.flags & F_FINAL, "Data-In with S but without F")
                    res.status = p.status
                    res.response = 0
                    res.residual = p.residual
                    res.res_flags = p.flags & (F_OVERFLOW | F_UNDERFLOW)
                    res.data = bytes(inbuf)
                    return res
                continue
            # SCSI Response
            for r in pending:
                self._answer_r2t(r, wdata, seg, lun, res)
            res.status = p.status
            res.response = p.response
            res.residual = p.residual
            res.res_flags = p.flags & (F_OVERFLOW | F_UNDERFLOW)
            if len(p.data) >= 2:
                sl = struct.unpack(">H", p.data[:2])[0]
                res.sense = p.data[2:2 + sl]
            res.data = bytes(inbuf)
            if write is not None and p.status == GOOD and p.response == 0:
                got = sum(n for _, n, _ in res.dataout) + res.immediate
                if got < len(wdata) and not res.res_flags:
                    res.violations.append("GOOD status after %d of %d bytes were sent"
                                          % (got, len(wdata)))
            return res

    def _answer_r2t(self, r2t, wdata, seg, lun, res):
        off, end = r2t.offset, min(r2t.offset + r2t.desired, len(wdata))
        datasn = 0
        while off < end:
            n = min(seg, end - off)
            self.send(data_out(r2t.itt, r2t.ttt, self.expstatsn, datasn, off,
                               wdata[off:off + n], off + n >= end, lun=lun))
            res.dataout.append((off, n, r2t.ttt))
            datasn += 1
            off += n

    def text(self, keys, timeout=None):
        """A Text Request (immediate, one PDU) and its whole answer (Continue handled)."""
        itt = self.next_itt()
        self.send(text_req(itt, self.cmdsn, self.expstatsn, keys))
        data = b""
        while True:
            rsp = self.recv_until(lambda p: p.opcode in (TEXT_RSP, REJECT), timeout,
                                  "Text Response")
            check(rsp.opcode == TEXT_RSP, "a Text Request got %r" % rsp)
            data += rsp.data
            if rsp.final:
                return decode_keys(data), rsp
            self.send(text_req(itt, self.cmdsn, self.expstatsn, b"", ttt=rsp.ttt))

    def logout(self, reason=0):
        itt = self.next_itt()
        self.send(logout_req(itt, self.cmdsn, self.expstatsn, reason))
        rsp = self.recv_until(lambda p: p.opcode == LOGOUT_RSP, what="Logout Response")
        check(rsp.response == 0, "Logout Response %d" % rsp.response)
        return rsp

    # -- SCSI conveniences

    def clear_ua(self, lun=0, tries=8):
        """TEST UNIT READY until no unit attention is reported (the first command of a new
        I_T nexus gets POWER ON OCCURRED); checks the last answer is GOOD."""
        for _ in range(tries):
            r = self.scsi(cdb_tur(), lun=lun)
            if r.status == GOOD:
                return
            st = r.sense_tuple()
            check(r.status == CHECK_CONDITION and st and st[0] == 0x06,
                  "TEST UNIT READY: %r" % r)
        raise Fail("unit attentions do not stop after %d TEST UNIT READY" % tries)

    def capacity(self, lun=0):
        """(number of blocks, block length) from READ CAPACITY(16)."""
        r = self.scsi(cdb_read_capacity16(), lun=lun, read_len=32)
        check(r.status == GOOD, "READ CAPACITY(16): %r" % r)
        lba, bl = struct.unpack(">QI", r.data[:12])
        return lba + 1, bl

    def read(self, lba, blocks, bs=512, lun=0, **kw):
        return self.scsi(cdb_read16(lba, blocks), lun=lun, read_len=blocks * bs, **kw)

    def write(self, lba, data, bs=512, lun=0, **kw):
        return self.scsi(cdb_write16(lba, len(data) // bs), lun=lun, write=data, **kw)


def write_verify(c, lba, data, bs=512, lun=0, what="WRITE", **kw):
    """Writes data at lba (Conn.scsi keywords: seg, immediate_data, unsolicited...), checks
    GOOD and no protocol breach, reads it back and compares. Returns the write's ScsiResult."""
    w = c.write(lba, data, bs, lun, **kw)
    check(w.status == GOOD, "%s of %d bytes at LBA %d: %r" % (what, len(data), lba, w))
    check(not w.violations, "%s: the target broke the protocol:\n      %s"
          % (what, "\n      ".join(w.violations)))
    r = c.read(lba, len(data) // bs, bs, lun)
    check(r.status == GOOD, "READ back after %s: %r" % (what, r))
    check(not r.violations, "READ back after %s: the target broke the protocol:\n      %s"
          % (what, "\n      ".join(r.violations)))
    if r.data != data:
        first = next(i for i in range(min(len(r.data), len(data))) if r.data[i] != data[i]) \
            if len(r.data) == len(data) else min(len(r.data), len(data))
        raise Fail("%s: the data read back differs from byte %d (of %d; %d read)"
                   % (what, first, len(data), len(r.data)))
    return w


def connect_login(host, port, target=DEFAULT_TARGET, **kw):
    """A new connection logged in to target (keywords as Conn.login, and timeout, clear_ua:
    the LUNs whose unit attentions are cleared, default (0,))."""
    timeout = kw.pop("timeout", 5.0)
    ua_luns = kw.pop("clear_ua", (0,))
    c = Conn(host, port, timeout)
    c.login(target=target, **kw)
    for lun in ua_luns:
        c.clear_ua(lun)
    return c


# ---- command line: runs named cases -------------------------------------------------------

def run_cases(cases, argv=None, description=None):
    """Command line of a test script: [--host H] --port P [--target IQN] [--seed N] [-v]
    CASE...  (or --list). cases: an ordered dict name -> function(args). Each case raises
    Fail, Closed or Timeout when something is wrong. Exit 0 when every case passed."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int)
    ap.add_argument("--target", default=DEFAULT_TARGET)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--list", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--opt", action="append", default=[],
                    help="KEY=VALUE passed to the cases in args.opts")
    ap.add_argument("cases", nargs="*")
    args = ap.parse_args(argv)
    if args.list:
        print("\n".join(cases))
        return 0
    global VERBOSE
    VERBOSE = VERBOSE or args.verbose
    args.opts = dict(o.split("=", 1) for o in args.opt)
    if args.port is None or not args.cases:
        ap.error("--port and at least one CASE are needed (--list shows them)")
    if args.seed is None:
        args.seed = int.from_bytes(os.urandom(4), "big")
    failed = 0
    for name in args.cases:
        fn = cases.get(name)
        if fn is None:
            print("unknown case %s (--list shows them)" % name)
            return 2
        random.seed("%s-%d" % (name, args.seed))
        t0 = time.monotonic()
        try:
            fn(args)
            print("ok    %s (%.2f s)" % (name, time.monotonic() - t0), flush=True)
        except (Fail, Closed, Timeout, OSError) as e:
            failed += 1
            print("FAIL  %s: %s: %s (seed %d)" % (name, type(e).__name__, e, args.seed),
                  flush=True)
    return 1 if failed else 0


def _selftest(args):
    c = connect_login(args.host, args.port, args.target)
    print("logged in: TSIH %d, keys %s" % (c.tsih, c.neg))
    c.ping(b"hello")
    blocks, bs = c.capacity()
    print("LUN 0: %d blocks of %d bytes" % (blocks, bs))
    c.logout()
    c.close()


if __name__ == "__main__":
    sys.exit(run_cases({"selftest": _selftest}, description=__doc__))
