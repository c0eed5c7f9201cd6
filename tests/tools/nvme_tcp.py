#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A small NVMe/TCP host for tests: well-formed sessions and malformed PDUs against tetherd.

  nvme_tcp.py --port P [--addr A] CASE...

Cases (each exits non-zero with a message when tetherd does not answer as the specification
says):
  io            ICReq, Connect, properties, Identify, an I/O queue: writes in-capsule and with
                R2T/H2CData, reads back, Compare, Write Zeroes, Dataset Management, Flush,
                log pages; with header and data digests when --digests
  discovery     Connect to the discovery subsystem, the discovery log page read in two parts
  kato          a controller whose host stays silent past KATO is ended (its queue closed)
  bad-hlen      a capsule with a wrong header length: C2HTermReq FES 1, field 2, then close
  bad-plen      a capsule whose PDU length is shorter than its header
  bad-type      an unknown PDU type (0x0a)
  before-ic     a command capsule before ICReq: PDU sequence error
  bad-hdgst     a wrong header digest: FES 3
  bad-ddgst     a wrong data digest: only the command fails (Transient Transport Error)
  h2c-range     H2CData past the end of the transfer: FES 4
  h2c-ttag      H2CData for a transfer that does not exist
  overflow      more commands than the queue holds (all waiting for their data)
  truncated     a connection cut inside a PDU
  fuzz          random bytes and mutated capsules after ICReq (--seed)
  ana           two paths (--port, --port2) in ANA groups 1 and 2 (1 optimized, 2
                inaccessible at the start): Identify (CMIC, ANACAP, ANAGRPMAX, NANAGRPID,
                ANAGRPID), the ANA log page of each path, I/O statuses; then `--ctl ana set`
                moves the states: each path's parked Async Event Request completes with the
                ANA change notice, the log pages and the I/O statuses follow (change,
                persistent-loss too), and data written through one path reads back through the
                other
  refused       Connect to --nqn as --hostnqn is refused (Connect Invalid Host, DNR)
  connect       Connect to --nqn as --hostnqn succeeds and an I/O queue reads namespace 1
"""
import argparse
import os
import shlex
import subprocess
import random
import socket
import struct
import sys
import time

DISC_NQN = "nqn.2014-08.org.nvmexpress.discovery"
HOST_NQN = "nqn.2014-08.org.nvmexpress:uuid:0c0e1a8e-5f0b-4d55-9c4b-7465737420"
HOST_ID = bytes(range(16))


def crc32c(data, crc=0):
    # bitwise reflected CRC32C (Castagnoli); small PDUs only
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


_table = []


def crc32c_fast(data):
    global _table
    if not _table:
        for i in range(256):
            c = i
            for _ in range(8):
                c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
            _table.append(c)
    crc = 0xFFFFFFFF
    t = _table
    for b in data:
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


class Fail(Exception):
    pass


class Closed(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


class Conn:
    def __init__(self, addr, port, hdgst=False, ddgst=False, timeout=10):
        self.s = socket.create_connection((addr, port), timeout=timeout)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.hdgst, self.ddgst = hdgst, ddgst
        self.cid = 0
        self.maxh2c = 0

    def close(self):
        self.s.close()

    def send(self, b):
        self.s.sendall(b)

    def recvn(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                raise Closed("connection closed by tetherd")
            buf += chunk
        return buf

    def recv_pdu(self):
        ch = self.recvn(8)
        typ, flags, hlen, pdo, plen = struct.unpack("<BBBBI", ch)
        rest = self.recvn(plen - 8)
        pdu = ch + rest
        if flags & 1:
            check(struct.unpack("<I", pdu[hlen:hlen + 4])[0] == crc32c_fast(pdu[:hlen]),
                  "bad header digest from tetherd")
        data = b""
        if pdo and plen > pdo:
            end = plen - (4 if flags & 2 else 0)
            data = pdu[pdo:end]
            if flags & 2:
                check(struct.unpack("<I", pdu[end:end + 4])[0] == crc32c_fast(data),
                      "bad data digest from tetherd")
        return typ, flags, pdu[:hlen], data

    def icreq(self):
        d = (1 if self.hdgst else 0) | (2 if self.ddgst else 0)
        pdu = struct.pack("<BBBBIHBBI", 0, 0, 128, 0, 128, 0, 0, d, 0).ljust(128, b"\0")
        self.send(pdu)
        typ, flags, hdr, _ = self.recv_pdu()
        check(typ == 1, "ICResp expected, got type %d" % typ)
        pfv, cpda, dgst, maxh2c = struct.unpack("<HBBI", hdr[8:16])
        check(dgst == d, "ICResp digests %d, asked %d" % (dgst, d))
        check(maxh2c >= 4096, "MAXH2CDATA %d" % maxh2c)
        self.maxh2c = maxh2c

    def capsule_bytes(self, sqe, data=b"", in_capsule=True):
        flags = (1 if self.hdgst else 0)
        hlen = 72
        hd = 4 if self.hdgst else 0
        hdr = bytearray(struct.pack("<BBBBI", 4, flags, hlen, 0, 0) + sqe)
        plen = hlen + hd
        pdo = 0
        if data and in_capsule:
            pdo = hlen + hd
            plen = pdo + len(data) + (4 if self.ddgst else 0)
            hdr[1] |= 2 if self.ddgst else 0
        hdr[3] = pdo
        struct.pack_into("<I", hdr, 4, plen)
        out = bytes(hdr)
        if self.hdgst:
            out += struct.pack("<I", crc32c_fast(out))
        if data and in_capsule:
            out += data
            if self.ddgst:
                out += struct.pack("<I", crc32c_fast(data))
        return out

    def next_cid(self):
        self.cid = (self.cid + 1) & 0xFFFF
        return self.cid

    def sqe(self, opc, nsid=0, cdw=None, sgl_len=0, in_capsule=False, fctype=None):
        b = bytearray(64)
        b[0] = opc
        b[1] = 0x40  # PSDT: SGL
        cid = self.next_cid()
        struct.pack_into("<H", b, 2, cid)
        if fctype is not None:
            b[4] = fctype
        else:
            struct.pack_into("<I", b, 4, nsid)
        struct.pack_into("<QI", b, 24, 0, sgl_len)
        b[39] = 0x01 if in_capsule else 0x5A
        for k, v in (cdw or {}).items():
            struct.pack_into("<I", b, 40 + 4 * (k - 10), v & 0xFFFFFFFF)
        return b, cid

    def command(self, opc, nsid=0, cdw=None, data=b"", read_len=0, in_capsule=None, fctype=None,
                raw=None):
        """Sends a command, moves its data, returns (status, dw0, dw1, read data)."""
        out_len = len(data)
        if in_capsule is None:
            in_capsule = 0 < out_len <= 8192
        b, cid = self.sqe(opc, nsid, cdw, out_len or read_len, in_capsule and out_len > 0,
                          fctype)
        if raw:
            raw(b)
        self.send(self.capsule_bytes(bytes(b), data, in_capsule))
        got = bytearray(read_len)
        while True:
            typ, flags, hdr, pdata = self.recv_pdu()
            if typ == 3:
                fes, fei = struct.unpack("<HI", hdr[8:14])
                raise Closed("C2HTermReq FES %d FEI %d" % (fes, fei))
            if typ == 9:  # R2T
                ccid, ttag, off, ln = struct.unpack("<HHII", hdr[8:20])
                check(ccid == cid, "R2T for cid %d, expected %d" % (ccid, cid))
                pos = off
                while pos < off + ln:
                    n = min(self.maxh2c, off + ln - pos)
                    self.send(self.h2c(cid, ttag, pos, data[pos:pos + n], pos + n == off + ln))
                    pos += n
                continue
            if typ == 7:  # C2HData
                ccid, _, off, ln = struct.unpack("<HHII", hdr[8:20])
                check(ccid == cid, "C2HData for cid %d" % ccid)
                check(off + ln <= read_len and ln == len(pdata), "C2HData out of range")
                got[off:off + ln] = pdata
                continue
            if typ == 5:
                dw0, dw1, sqhd, sqid, rcid, st = struct.unpack("<IIHHHH", hdr[8:24])
                check(rcid == cid, "response for cid %d, expected %d" % (rcid, cid))
                return (st >> 1) & 0x7FF, dw0, dw1, bytes(got)
            raise Fail("unexpected PDU type %d" % typ)

    def h2c(self, cid, ttag, off, data, last, bad_ddgst=False):
        hd = 4 if self.hdgst else 0
        flags = (1 if self.hdgst else 0) | (2 if self.ddgst else 0) | (4 if last else 0)
        pdo = 24 + hd
        plen = pdo + len(data) + (4 if self.ddgst else 0)
        hdr = struct.pack("<BBBBIHHIII", 6, flags, 24, pdo, plen, cid, ttag, off, len(data), 0)
        out = hdr + (struct.pack("<I", crc32c_fast(hdr)) if self.hdgst else b"") + data
        if self.ddgst:
            out += struct.pack("<I", crc32c_fast(data) ^ (1 if bad_ddgst else 0))
        return out

    def connect(self, subnqn, qid=0, cntlid=0xFFFF, kato=30000, sqsize=31):
        data = bytearray(1024)
        data[0:16] = HOST_ID
        struct.pack_into("<H", data, 16, cntlid)
        data[256:256 + len(subnqn)] = subnqn.encode()
        data[512:512 + len(HOST_NQN)] = HOST_NQN.encode()
        if getattr(self, "hostid", None):
            data[0:16] = self.hostid

        def fill(b):
            struct.pack_into("<HHHBBI", b, 40, 0, qid, sqsize, 0, 0, kato)
        return self.command(0x7F, data=bytes(data), fctype=1, raw=fill)

    def prop_get(self, ofst, eight=False):
        def fill(b):
            b[40] = 1 if eight else 0
            struct.pack_into("<I", b, 44, ofst)
        st, dw0, dw1, _ = self.command(0x7F, fctype=4, raw=fill)
        check(st == 0, "Property Get %#x: status %#x" % (ofst, st))
        return dw0 | dw1 << 32

    def prop_set(self, ofst, val):
        def fill(b):
            struct.pack_into("<I", b, 44, ofst)
            struct.pack_into("<Q", b, 48, val)
        st, _, _, _ = self.command(0x7F, fctype=0, raw=fill)
        check(st == 0, "Property Set %#x: status %#x" % (ofst, st))


def admin_up(a, subnqn, hdgst=False, ddgst=False, kato=30000):
    c = Conn(a.addr, a.port, hdgst, ddgst)
    c.icreq()
    st, cntlid, _, _ = c.connect(subnqn, kato=kato)
    check(st == 0, "Connect to %s: status %#x" % (subnqn, st))
    cap = c.prop_get(0, True)
    check(cap & 0xFFFF >= 31 and (cap >> 37) & 1, "CAP %#x" % cap)
    check(c.prop_get(8) == 0x10300, "VS")
    check(c.prop_get(0x1C) & 1 == 0, "CSTS.RDY before CC.EN")
    st, _, _, _ = c.command(0x06, cdw={10: 1}, read_len=4096)
    check(st == 0x0C, "Identify before CC.EN: status %#x, expected command sequence error" % st)
    c.prop_set(0x14, 0x460001)
    check(c.prop_get(0x1C) & 1 == 1, "CSTS.RDY after CC.EN")
    return c, cntlid


def case_io(a):
    c, cntlid = admin_up(a, a.nqn, a.digests, a.digests)
    st, _, _, idc = c.command(0x06, cdw={10: 1}, read_len=4096)
    check(st == 0, "Identify controller: %#x" % st)
    check(struct.unpack("<H", idc[78:80])[0] == cntlid, "CNTLID in Identify")
    check(idc[768:768 + len(a.nqn)].decode() == a.nqn, "SUBNQN in Identify")
    check(struct.unpack("<I", idc[1792:1796])[0] >= 4, "IOCCSZ")
    st, dw0, _, _ = c.command(0x09, cdw={10: 0x07, 11: 0x00030003})
    check(st == 0 and dw0 & 0xFFFF >= 1, "Set Features number of queues: %#x %#x" % (st, dw0))
    st, _, _, lst = c.command(0x06, cdw={10: 2}, read_len=4096)
    check(st == 0 and struct.unpack("<I", lst[:4])[0] == 1, "active namespace list")
    st, _, _, idn = c.command(0x06, nsid=1, cdw={10: 0}, read_len=4096)
    nsze = struct.unpack("<Q", idn[:8])[0]
    bs = 1 << idn[130]
    check(st == 0 and nsze * bs == a.size, "namespace size %d x %d" % (nsze, bs))
    st, _, _, desc = c.command(0x06, nsid=1, cdw={10: 3}, read_len=4096)
    check(st == 0 and desc[0] == 2 and desc[1] == 16 and desc[4:20] == idn[104:120],
          "NGUID descriptor matches Identify Namespace")
    st, _, _, _ = c.command(0x06, nsid=99, cdw={10: 3}, read_len=4096)
    check(st & 0xFF == 0x0B, "descriptors of a missing namespace: %#x" % st)
    st, _, _, _ = c.command(0x18)
    check(st == 0, "Keep Alive")
    st, _, _, _ = c.command(0x55)
    check(st & 0xFF == 0x01, "unknown admin opcode: %#x" % st)

    q = Conn(a.addr, a.port, a.digests, a.digests)
    q.icreq()
    st, _, _, _ = q.connect(a.nqn, qid=1, cntlid=cntlid, sqsize=63)
    check(st == 0, "I/O queue Connect: %#x" % st)
    rnd = random.Random(a.seed)
    small = bytes(rnd.getrandbits(8) for _ in range(4096))
    big = os.urandom(65536)
    st, _, _, _ = q.command(0x01, nsid=1, cdw={10: 8, 12: 4096 // bs - 1}, data=small)
    check(st == 0, "in-capsule Write: %#x" % st)
    st, _, _, _ = q.command(0x01, nsid=1, cdw={10: 64, 12: 65536 // bs - 1}, data=big,
                            in_capsule=False)
    check(st == 0, "Write with R2T: %#x" % st)
    st, _, _, back = q.command(0x02, nsid=1, cdw={10: 8, 12: 4096 // bs - 1}, read_len=4096)
    check(st == 0 and back == small, "Read of the in-capsule write")
    st, _, _, back = q.command(0x02, nsid=1, cdw={10: 64, 12: 65536 // bs - 1}, read_len=65536)
    check(st == 0 and back == big, "Read of the R2T write")
    st, _, _, _ = q.command(0x05, nsid=1, cdw={10: 8, 12: 4096 // bs - 1}, data=small)
    check(st == 0, "Compare, same data: %#x" % st)
    st, _, _, _ = q.command(0x05, nsid=1, cdw={10: 8, 12: 4096 // bs - 1},
                            data=bytes(4096))
    check(st == 0x285, "Compare, other data: %#x (expected 285h)" % st)
    st, _, _, _ = q.command(0x08, nsid=1, cdw={10: 64, 12: 8 - 1})
    check(st == 0, "Write Zeroes: %#x" % st)
    st, _, _, back = q.command(0x02, nsid=1, cdw={10: 64, 12: 65536 // bs - 1}, read_len=65536)
    check(back[:8 * bs] == bytes(8 * bs) and back[8 * bs:] == big[8 * bs:],
          "Write Zeroes cleared exactly its blocks")
    rng = struct.pack("<IIQ", 0, 8, 8)
    st, _, _, _ = q.command(0x09, nsid=1, cdw={10: 0, 11: 4}, data=rng.ljust(16, b"\0"))
    check(st == 0, "Dataset Management deallocate: %#x" % st)
    st, _, _, back = q.command(0x02, nsid=1, cdw={10: 8, 12: 4096 // bs - 1}, read_len=4096)
    check(back == bytes(4096), "deallocated blocks read as zeroes (ram backend)")
    st, _, _, _ = q.command(0x00, nsid=1)
    check(st == 0, "Flush: %#x" % st)
    st, _, _, _ = q.command(0x02, nsid=1, cdw={10: nsze, 12: 0}, read_len=bs)
    check(st & 0xFF == 0x80, "Read past the end: %#x (expected LBA out of range)" % st)
    st, _, _, _ = q.command(0x02, nsid=7, cdw={10: 0, 12: 0}, read_len=bs)
    check(st & 0xFF == 0x0B, "Read of a missing namespace: %#x" % st)
    st, _, _, smart = c.command(0x02, nsid=0xFFFFFFFF, cdw={10: 0x02 | (512 // 4 - 1) << 16},
                                read_len=512)
    check(st == 0 and struct.unpack("<Q", smart[80:88])[0] >= 2, "SMART log host writes")
    st, _, _, ana = c.command(0x02, cdw={10: 0x0C | (4096 // 4 - 1) << 16}, read_len=4096)
    check(st == 0 and struct.unpack("<H", ana[8:10])[0] == 1 and ana[32] == 1,
          "ANA log: one optimized group")
    # controller shutdown as nvme disconnect does it
    c.prop_set(0x14, 0x460001 | 1 << 14)
    check((c.prop_get(0x1C) >> 2) & 3 == 2, "CSTS.SHST complete after CC.SHN")
    q.close()
    c.close()


def case_discovery(a):
    c, _ = admin_up(a, DISC_NQN, kato=0)
    st, _, _, hdr = c.command(0x02, cdw={10: 0x70 | (1024 // 4 - 1) << 16}, read_len=1024)
    check(st == 0, "discovery log header: %#x" % st)
    numrec = struct.unpack("<Q", hdr[8:16])[0]
    check(numrec >= 1, "discovery log records: %d" % numrec)
    st, _, _, e = c.command(0x02, cdw={10: 0x70 | (1024 // 4 - 1) << 16, 12: 1024},
                            read_len=1024)
    check(st == 0 and e[0] == 3, "first entry (offset 1024): TCP")
    svc = e[32:64].decode().strip()
    nqn = e[256:512].split(b"\0")[0].decode()
    check(svc == str(a.port) and nqn == a.nqn, "entry %s %s" % (svc, nqn))
    st, _, _, _ = c.command(0x06, nsid=1, cdw={10: 0}, read_len=4096)
    check(st & 0xFF == 0x02, "Identify Namespace on discovery: %#x" % st)
    c.close()


def case_kato(a):
    c, _ = admin_up(a, a.nqn, kato=1000)
    c.s.settimeout(8)
    t0 = time.time()
    try:
        while True:
            c.recv_pdu()
    except Closed:
        pass
    dt = time.time() - t0
    check(dt < 7, "the silent controller was not ended (%.1f s)" % dt)
    # a host that keeps sending Keep Alive stays
    c, _ = admin_up(a, a.nqn, kato=1000)
    for _ in range(6):
        time.sleep(0.4)
        st, _, _, _ = c.command(0x18)
        check(st == 0, "Keep Alive")
    c.close()


def expect_term(c, fes, fei=None, what=""):
    c.s.settimeout(10)
    try:
        while True:
            typ, flags, hdr, data = c.recv_pdu()
            if typ == 3:
                gfes, gfei = struct.unpack("<HI", hdr[8:14])
                check(gfes == fes, "%s: FES %d, expected %d" % (what, gfes, fes))
                if fei is not None:
                    check(gfei == fei, "%s: FEI %d, expected %d" % (what, gfei, fei))
                break
    except Closed:
        raise Fail("%s: closed without C2HTermReq" % what)
    try:
        check(c.s.recv(1) == b"", "%s: connection still open after C2HTermReq" % what)
    except socket.timeout:
        raise Fail("%s: connection still open after C2HTermReq" % what)
    c.close()


def fresh(a, hdgst=False, ddgst=False):
    c = Conn(a.addr, a.port, hdgst, ddgst)
    c.icreq()
    return c


def case_bad_hlen(a):
    c = fresh(a)
    b, _ = c.sqe(0x18)
    pdu = bytearray(c.capsule_bytes(bytes(b)))
    pdu[2] = 70
    c.send(bytes(pdu))
    expect_term(c, 1, 2, "wrong HLEN")


def case_bad_plen(a):
    c = fresh(a)
    b, _ = c.sqe(0x18)
    pdu = bytearray(c.capsule_bytes(bytes(b)))
    struct.pack_into("<I", pdu, 4, 40)
    c.send(bytes(pdu))
    expect_term(c, 1, 4, "PLEN below HLEN")


def case_bad_type(a):
    c = fresh(a)
    c.send(struct.pack("<BBBBI", 0x0A, 0, 24, 0, 24) + bytes(16))
    expect_term(c, 1, 0, "unknown PDU type")


def case_before_ic(a):
    c = Conn(a.addr, a.port)
    b, _ = c.sqe(0x18)
    c.send(c.capsule_bytes(bytes(b)))
    expect_term(c, 2, None, "capsule before ICReq")


def case_bad_hdgst(a):
    c = fresh(a, hdgst=True)
    b, _ = c.sqe(0x18)
    pdu = bytearray(c.capsule_bytes(bytes(b)))
    pdu[72] ^= 0xFF
    c.send(bytes(pdu))
    expect_term(c, 3, None, "bad header digest")


def case_bad_ddgst(a):
    c = fresh(a, ddgst=True)
    st, cntlid, _, _ = c.connect(a.nqn)
    check(st == 0, "Connect with data digests")
    c.prop_set(0x14, 0x460001)
    q = fresh(a, ddgst=True)
    st, _, _, _ = q.connect(a.nqn, qid=1, cntlid=cntlid)
    check(st == 0, "I/O queue Connect with data digests")
    b, cid = q.sqe(0x01, 1, {10: 0, 12: 0}, 512, True)
    pdu = bytearray(q.capsule_bytes(bytes(b), bytes(512)))
    pdu[-1] ^= 0xFF
    q.send(bytes(pdu))
    typ, _, hdr, _ = q.recv_pdu()
    check(typ == 5, "a response, not a termination")
    st = (struct.unpack("<H", hdr[22:24])[0] >> 1) & 0x7FF
    check(st == 0x22, "bad data digest: status %#x, expected 22h" % st)
    st, _, _, _ = q.command(0x00, nsid=1)
    check(st == 0, "the queue still serves after a data digest error")
    q.close()
    c.close()


def io_queue(a):
    c, cntlid = admin_up(a, a.nqn)
    q = fresh(a)
    st, _, _, _ = q.connect(a.nqn, qid=1, cntlid=cntlid, sqsize=127)
    check(st == 0, "I/O queue Connect")
    return c, q


def case_h2c_range(a):
    c, q = io_queue(a)
    b, cid = q.sqe(0x01, 1, {10: 0, 12: 7}, 4096, False)
    q.send(q.capsule_bytes(bytes(b)))
    typ, _, hdr, _ = q.recv_pdu()
    check(typ == 9, "R2T expected")
    ttag = struct.unpack("<H", hdr[10:12])[0]
    q.send(q.h2c(cid, ttag, 4000, bytes(200), True))
    expect_term(q, 4, None, "H2CData out of range")
    c.close()


def case_h2c_ttag(a):
    c, q = io_queue(a)
    q.send(q.h2c(5, 77, 0, bytes(512), True))
    expect_term(q, 1, None, "H2CData for no transfer")
    c.close()


def case_overflow(a):
    c, q = io_queue(a)
    for i in range(200):
        b, _ = q.sqe(0x01, 1, {10: i, 12: 0}, 512, False)
        try:
            q.send(q.capsule_bytes(bytes(b)))
        except (BrokenPipeError, ConnectionResetError):
            break
    expect_term(q, 2, None, "more commands than the queue holds")
    c.close()


def case_truncated(a):
    for cut in (3, 8, 50, 100):
        c = fresh(a)
        b, _ = c.sqe(0x18)
        c.send(c.capsule_bytes(bytes(b))[:cut] if cut < 72 else
               c.capsule_bytes(bytes(b), bytes(64))[:cut])
        c.close()
    c = Conn(a.addr, a.port)
    c.send(bytes(60))
    c.close()


def case_fuzz(a):
    rnd = random.Random(a.seed)
    for i in range(300):
        c = fresh(a, hdgst=rnd.random() < 0.3, ddgst=rnd.random() < 0.3)
        try:
            if rnd.random() < 0.5:
                c.send(bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 300))))
            else:
                b, _ = c.sqe(rnd.randint(0, 255), rnd.choice([0, 1, 2, 0xFFFFFFFF]),
                             {k: rnd.getrandbits(32) for k in range(10, 16)},
                             rnd.choice([0, 512, 4096, 1 << 20]), rnd.random() < 0.5)
                pdu = bytearray(c.capsule_bytes(bytes(b), bytes(rnd.choice([0, 512]))))
                for _ in range(rnd.randint(0, 4)):
                    pdu[rnd.randrange(len(pdu))] = rnd.getrandbits(8)
                c.send(bytes(pdu))
            c.s.settimeout(0.2)
            try:
                c.s.recv(4096)
            except (socket.timeout, ConnectionResetError):
                pass
        except (BrokenPipeError, ConnectionResetError):
            pass
        c.close()


CASES = {
    "io": case_io, "discovery": case_discovery, "kato": case_kato, "bad-hlen": case_bad_hlen,
    "bad-plen": case_bad_plen, "bad-type": case_bad_type, "before-ic": case_before_ic,
    "bad-hdgst": case_bad_hdgst, "bad-ddgst": case_bad_ddgst, "h2c-range": case_h2c_range,
    "h2c-ttag": case_h2c_ttag, "overflow": case_overflow, "truncated": case_truncated,
    "fuzz": case_fuzz,
}


def aer_send(c):
    """Sends an Async Event Request; its completion comes later (aer_wait)."""
    b, cid = c.sqe(0x0C)
    c.send(c.capsule_bytes(bytes(b)))
    return cid


def aer_wait(c, cid, timeout=10):
    c.s.settimeout(timeout)
    typ, _, hdr, _ = c.recv_pdu()
    c.s.settimeout(10)
    check(typ == 5, "AER: PDU type %d" % typ)
    dw0, _, _, _, rcid, st = struct.unpack("<IIHHHH", hdr[8:24])
    check(rcid == cid, "completion of cid %d while the AER (cid %d) was parked" % (rcid, cid))
    return (st >> 1) & 0x7FF, dw0


def no_pdu(c, secs=0.5):
    c.s.settimeout(secs)
    try:
        c.recv_pdu()
    except socket.timeout:
        return True
    finally:
        c.s.settimeout(10)
    return False


def ana_log(c):
    st, _, _, d = c.command(0x02, cdw={10: 0x0C | (4096 // 4 - 1) << 16}, read_len=4096)
    check(st == 0, "ANA log page: %#x" % st)
    check(struct.unpack("<H", d[8:10])[0] == 1, "one group descriptor")
    grp, nns = struct.unpack("<II", d[16:24])
    nsids = [struct.unpack("<I", d[48 + 4 * i:52 + 4 * i])[0] for i in range(nns)]
    return grp, d[32] & 0xF, struct.unpack("<Q", d[0:8])[0], nsids


def ctl(a, *args):
    cmd = shlex.split(a.ctl) + list(args)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=30)
    check(r.returncode == 0, "%s: %s" % (" ".join(cmd), r.stdout.strip()))
    return r.stdout


def path_up(a, port):
    c = Conn(a.addr, port)
    c.icreq()
    st, cntlid, _, _ = c.connect(a.nqn)
    check(st == 0, "Connect through port %d: %#x" % (port, st))
    c.prop_set(0x14, 0x460001)
    st, _, _, _ = c.command(0x09, cdw={10: 0x0B, 11: 1 << 11})
    check(st == 0, "Set Features AEC (ANA change notices): %#x" % st)
    q = Conn(a.addr, port)
    q.icreq()
    st, _, _, _ = q.connect(a.nqn, qid=1, cntlid=cntlid)
    check(st == 0, "I/O queue Connect through port %d: %#x" % (port, st))
    return c, q


ANA_CHANGE_AEN = 0x2 | 0x03 << 8 | 0x0C << 16
PATH_STATUS = {"optimized": 0, "non-optimized": 0, "inaccessible": 0x302,
               "persistent-loss": 0x301, "change": 0x303}
ANA_VALUE = {"optimized": 1, "non-optimized": 2, "inaccessible": 3, "persistent-loss": 4,
             "change": 15}


def case_ana(a):
    c1, q1 = path_up(a, a.port)
    c2, q2 = path_up(a, a.port2)
    lines = [ln for ln in ctl(a, "controller", "list").splitlines() if a.nqn in ln]
    check(len(lines) == 2 and all(" live " in ln and HOST_NQN in ln for ln in lines),
          "tetherctl controller list: two live controllers of the host: %s" % lines)
    check(any(":%d " % a.port in ln and ln.split()[4] == "1" for ln in lines) and
          any(":%d " % a.port2 in ln and ln.split()[4] == "2" for ln in lines),
          "tetherctl controller list: one controller per port, in its ANA group: %s" % lines)
    st, _, _, idc = c1.command(0x06, cdw={10: 1}, read_len=4096)
    check(st == 0, "Identify controller")
    check(idc[76] & 0xA == 0xA, "CMIC %#x: several controllers and ANA reporting" % idc[76])
    check(idc[344] & 0x1F == 0x1F, "ANACAP %#x: every state" % idc[344])
    anagrpmax, nanagrpid = struct.unpack("<II", idc[345:353])
    check(anagrpmax >= 2 and nanagrpid >= 2, "ANAGRPMAX %d NANAGRPID %d" % (anagrpmax, nanagrpid))
    check(struct.unpack("<I", idc[92:96])[0] & (1 << 11), "OAES: ANA change notices")
    for c, g in ((c1, 1), (c2, 2)):
        st, _, _, idn = c.command(0x06, nsid=1, cdw={10: 0}, read_len=4096)
        check(st == 0 and struct.unpack("<I", idn[92:96])[0] == g, "ANAGRPID %d" % g)
        bs = 1 << idn[130]
    g1, s1, _, ns1 = ana_log(c1)
    g2, s2, _, _ = ana_log(c2)
    check((g1, s1, g2, s2) == (1, 1, 2, 3),
          "ANA log pages: group %d state %d, group %d state %d" % (g1, s1, g2, s2))
    check(1 in ns1, "namespace 1 listed in group 1")
    data = os.urandom(4096)

    def io(q, expect, lba):
        st, _, _, _ = q.command(0x01, nsid=1, cdw={10: lba, 12: 4096 // bs - 1}, data=data)
        check(st == expect, "Write: status %#x, expected %#x" % (st, expect))
        st, _, _, back = q.command(0x02, nsid=1, cdw={10: lba, 12: 4096 // bs - 1},
                                   read_len=4096)
        check(st == expect, "Read: status %#x, expected %#x" % (st, expect))
        return back
    check(io(q1, 0, 0) == data, "data through the optimized path")
    io(q2, 0x302, 0)
    states = {1: "optimized", 2: "inaccessible"}
    moves = [(1, "inaccessible", 2, "optimized"), (2, "change", None, None),
             (2, "persistent-loss", None, None), (2, "non-optimized", None, None),
             (1, "optimized", 2, "inaccessible")]
    lba = 0
    _, _, count, _ = ana_log(c1)
    parked = {1: None, 2: None}  # the cid of each path's parked AER
    admin = {1: c1, 2: c2}
    for ga, sa, gb, sb in moves:
        for g in (1, 2):
            if parked[g] is None:
                parked[g] = aer_send(admin[g])
        check(no_pdu(c1, 0.3) and no_pdu(c2, 0.3), "an AER completed with no change")
        changed = {ga} | ({gb} if gb else set())
        ctl(a, "ana", "set", str(ga), sa)
        states[ga] = sa
        if gb:
            ctl(a, "ana", "set", str(gb), sb)
            states[gb] = sb
        for g in (1, 2):
            c = admin[g]
            if g in changed:
                st, dw0 = aer_wait(c, parked[g])
                parked[g] = None
                check(st == 0 and dw0 == ANA_CHANGE_AEN,
                      "AER of group %d: status %#x dword 0 %#x" % (g, st, dw0))
            else:
                # no notice for a group that did not change: its AER stays parked
                check(no_pdu(c, 0.3), "a notice reached the path of unchanged group %d" % g)
            grp, state, cnt, _ = ana_log(c)
            check(grp == g and state == ANA_VALUE[states[g]],
                  "ANA log of group %d: state %d, expected %s" % (g, state, states[g]))
            check(cnt > count, "the change count moved on (%d -> %d)" % (count, cnt))
        _, _, count, _ = ana_log(c1)
        lba += 8
        for g, q in ((1, q1), (2, q2)):
            back = io(q, PATH_STATUS[states[g]], lba)
            if PATH_STATUS[states[g]] == 0:
                check(back == data, "data through group %d (%s)" % (g, states[g]))
    for c in (c1, c2, q1, q2):
        c.close()


def case_refused(a):
    c = Conn(a.addr, a.port)
    c.icreq()
    st, _, _, _ = c.connect(a.nqn)
    check(st == 0x184, "Connect of host %s: status %#x, expected 184h (invalid host)"
          % (HOST_NQN, st))
    c.close()


def case_connect(a):
    c, q = path_up(a, a.port)
    st, _, _, _ = q.command(0x02, nsid=1, cdw={10: 0, 12: 0}, read_len=512)
    check(st == 0, "Read: %#x" % st)
    q.close()
    c.close()


def ctl_fails(a, expect, *args):
    """A tetherctl command that must fail with a message containing @expect."""
    cmd = shlex.split(a.ctl) + list(args)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=30)
    check(r.returncode != 0, "%s succeeded: %s" % (" ".join(cmd), r.stdout.strip()))
    check(expect in r.stdout, "%s: no \"%s\" in: %s" % (" ".join(cmd), expect, r.stdout.strip()))


def ns_group(c):
    st, _, _, idn = c.command(0x06, nsid=1, cdw={10: 0}, read_len=4096)
    check(st == 0, "Identify Namespace: %#x" % st)
    return struct.unpack("<I", idn[92:96])[0], 1 << idn[130]


def port_line(a, port):
    lines = [ln.split() for ln in ctl(a, "port", "list").splitlines()
             if ln.startswith("nvme-tcp://%s:%d " % (a.addr, port))]
    return lines[0] if lines else None


def case_portmove(a):
    """Port 2 (group 2, inaccessible) moves to group 1 (optimized) under a connected host, then
    back: the notice on its path only, the log page, Identify Namespace and I/O follow."""
    addr2 = "nvme-tcp://%s:%d" % (a.addr, a.port2)
    c1, q1 = path_up(a, a.port)
    c2, q2 = path_up(a, a.port2)
    g, bs = ns_group(c2)
    grp, state, count, _ = ana_log(c2)
    check((g, grp, state) == (2, 2, 3), "path 2 before the move: ANAGRPID %d, log group %d "
          "state %d (expected group 2, inaccessible)" % (g, grp, state))
    data = os.urandom(4096)
    st, _, _, _ = q2.command(0x01, nsid=1, cdw={10: 64, 12: 4096 // bs - 1}, data=data)
    check(st == 0x302, "Write through group 2 (inaccessible): %#x" % st)
    p1, p2 = aer_send(c1), aer_send(c2)
    check(no_pdu(c1, 0.3) and no_pdu(c2, 0.3), "an AER completed with no change")
    out = ctl(a, "port", "set", addr2, "--ana-group", "1")
    check(" 1 " in out and "optimized" in out, "port set prints the port in group 1: %s" % out)
    st, dw0 = aer_wait(c2, p2)
    check(st == 0 and dw0 == ANA_CHANGE_AEN, "AER of the moved path: %#x %#x" % (st, dw0))
    check(no_pdu(c1, 0.3), "a notice reached the path whose port did not move")
    grp, state, cnt, nsids = ana_log(c2)
    check((grp, state) == (1, 1) and 1 in nsids,
          "ANA log of the moved path: group %d state %d nsids %s" % (grp, state, nsids))
    check(cnt > count, "the change count moved on (%d -> %d)" % (count, cnt))
    check(ns_group(c2)[0] == 1, "Identify Namespace ANAGRPID after the move")
    check(ns_group(c1)[0] == 1, "Identify Namespace ANAGRPID of the other path")
    st, _, _, _ = q2.command(0x01, nsid=1, cdw={10: 64, 12: 4096 // bs - 1}, data=data)
    check(st == 0, "Write through the moved path (optimized): %#x" % st)
    st, _, _, back = q2.command(0x02, nsid=1, cdw={10: 64, 12: 4096 // bs - 1}, read_len=4096)
    check(st == 0 and back == data, "Read back through the moved path: %#x" % st)
    line = port_line(a, a.port2)
    check(line and line[2] == "1" and line[3] == "optimized", "port list: %s" % line)
    # bad input names the field; nothing moves
    ctl_fails(a, "ana_group", "port", "set", addr2, "--ana-group", "0")
    ctl_fails(a, "ana_group", "port", "set", addr2, "--ana-group", "129")
    ctl_fails(a, "no NVMe-oF port", "port", "set", "nvme-tcp://%s:1" % a.addr, "--ana-group", "2")
    ctl_fails(a, "addr", "port", "set", "nvme-tcp://no-such-host", "--ana-group", "2")
    check(no_pdu(c2, 0.3), "a refused move sent a notice")
    # back to group 2
    p2 = aer_send(c2)
    ctl(a, "port", "set", addr2, "--ana-group", "2")
    st, dw0 = aer_wait(c2, p2)
    check(st == 0 and dw0 == ANA_CHANGE_AEN, "AER after the move back: %#x %#x" % (st, dw0))
    grp, state, _, _ = ana_log(c2)
    check((grp, state) == (2, 3), "ANA log after the move back: group %d state %d" % (grp, state))
    check(ns_group(c2)[0] == 2, "Identify Namespace ANAGRPID after the move back")
    st, _, _, _ = q2.command(0x02, nsid=1, cdw={10: 64, 12: 4096 // bs - 1}, read_len=4096)
    check(st == 0x302, "Read through group 2 again: %#x" % st)
    check(no_pdu(c1, 0.3), "a notice reached the path whose port did not move")
    for c in (c1, c2, q1, q2):
        c.close()


def closed_by_target(c, secs=5):
    c.s.settimeout(secs)
    try:
        return c.s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False
    finally:
        c.s.settimeout(10)


def case_portremove(a):
    """tetherctl port remove of port 2 under a connected host: its queues are closed, a new
    connection to the address is refused, port 1 still serves, the discovery log drops it."""
    addr2 = "nvme-tcp://%s:%d" % (a.addr, a.port2)
    c1, q1 = path_up(a, a.port)
    c2, q2 = path_up(a, a.port2)
    # an I/O queue of the controller of port 1 that came in through port 2
    qx = Conn(a.addr, a.port2)
    qx.icreq()
    ctrls = ctl(a, "controller", "list")
    cntlid = [int(ln.split()[1]) for ln in ctrls.splitlines()
              if a.nqn in ln and ":%d " % a.port in ln]
    check(len(cntlid) == 1, "controller list: the controller of port 1: %s" % ctrls)
    st, _, _, _ = qx.connect(a.nqn, qid=2, cntlid=cntlid[0])
    check(st == 0, "I/O queue 2 of the controller of port 1, through port 2: %#x" % st)
    st, _, _, _ = qx.command(0x02, nsid=1, cdw={10: 0, 12: 0}, read_len=512)
    check(st == 0, "Read on that queue: %#x" % st)
    aer_send(c1)
    ctl(a, "port", "remove", addr2)
    for c, what in ((c2, "admin queue"), (q2, "I/O queue"), (qx, "other controller's queue")):
        check(closed_by_target(c), "the %s through the removed port was not closed" % what)
    try:
        Conn(a.addr, a.port2, timeout=5).close()
        raise Fail("a new connection to the removed port %s was accepted" % addr2)
    except ConnectionRefusedError:
        pass
    # port 1 serves on: its controller lives, no notice, I/O goes
    check(no_pdu(c1, 0.3), "a PDU reached the path of port 1")
    st, _, _, _ = q1.command(0x02, nsid=1, cdw={10: 0, 12: 0}, read_len=512)
    check(st == 0, "Read through port 1 after the removal: %#x" % st)
    st, _, _, _ = c1.command(0x18)  # Keep Alive
    check(st == 0, "Keep Alive through port 1: %#x" % st)
    lines = [ln for ln in ctl(a, "controller", "list").splitlines() if a.nqn in ln]
    check(len(lines) == 1 and ":%d " % a.port in lines[0],
          "controller list after the removal: %s" % lines)
    check(port_line(a, a.port2) is None and port_line(a, a.port) is not None,
          "port list after the removal: %s" % ctl(a, "port", "list"))
    d, _ = admin_up(a, DISC_NQN, kato=0)
    st, _, _, log = d.command(0x02, cdw={10: 0x70 | (4096 // 4 - 1) << 16}, read_len=4096)
    check(st == 0, "discovery log: %#x" % st)
    numrec = struct.unpack("<Q", log[8:16])[0]
    svcs = {log[1024 * (i + 1) + 32:1024 * (i + 1) + 64].decode().strip("\0 ")
            for i in range(min(numrec, 3))}
    check(str(a.port2) not in svcs and str(a.port) in svcs,
          "discovery log services after the removal: %s" % sorted(svcs))
    d.close()
    ctl_fails(a, "no NVMe-oF port", "port", "remove", addr2)
    ctl_fails(a, "not an NVMe-oF address", "port", "remove", "iscsi://%s:%d" % (a.addr, a.port))
    check(no_pdu(c1, 0.3), "the parked AER of port 1 completed")
    for c in (c1, q1, c2, q2, qx):
        c.close()


CASES.update({"ana": case_ana, "refused": case_refused, "connect": case_connect,
              "portmove": case_portmove, "portremove": case_portremove})


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--addr", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--nqn", default="nqn.2026-11.org.tether:default")
    p.add_argument("--size", type=int, default=64 << 20)
    p.add_argument("--digests", action="store_true")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--port2", type=int, default=0)
    p.add_argument("--hostnqn", default=HOST_NQN)
    p.add_argument("--ctl", default="tetherctl")
    p.add_argument("cases", nargs="+")
    a = p.parse_args()
    globals()["HOST_NQN"] = a.hostnqn
    for name in a.cases:
        try:
            CASES[name](a)
            print("ok:", name)
        except (Fail, Closed, OSError) as e:
            print("FAIL: %s: %s" % (name, e))
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
