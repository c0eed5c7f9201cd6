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
  resv          reservations of namespace 1 with hosts A, B, C (host IDs of their own) and a
                second controller of A through --port2: ONCS, RESCAP; Register, Replace,
                Unregister (keys right and wrong, IEKEY, NRKEY 0); Reservation Report (EDS=0
                refused, host IDs, keys, holders, GEN, truncated); Acquire, Preempt, Preempt
                and Abort, Release, Clear of every type and the I/O each host may do (Reservation
                Conflict with DNR otherwise); notices by AER and log page 80h, two queued, the
                mask (features 82h); a registration shared by a host's controllers and kept
                when they all go
  resv-bad      malformed reservation commands: short or missing data, reserved actions, CPTPL
                without a state file, missing namespaces, NUMD 0, random fields (--seed); 300
                notices never read (a bounded queue keeps the newest)
  resv-preempt  Preempt of a registrant that does not hold, of a key nobody has, and of every
                registrant under All Registrants (PRKEY 0)
  resv-two-ns   two namespaces: a reservation, its conflicts and its notices stay on theirs
  resv-stress   six hosts at once for 2 s, random reservation commands and I/O (--seed): only
                the statuses these commands may have, a consistent report at the end
  resv-zero-hostid
                two hosts with host ID 0: refused at Connect, reservations refused, or two
                registrants; never one shared registration
  resv-empty    no registrant and no reservation (after a restart that must restore nothing)
  resv-ptpl-set, resv-ptpl-check
                with a reservation state file (--ptpl): RESCAP PTPL, Register with CPTPL 3,
                features 83h, PTPLS; after a restart of tetherd the registration of host A and
                its reservation are back
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
        self.hostid = HOST_ID
        self.hostnqn = None     # None: HOST_NQN (--hostnqn)
        self.last_dnr = False   # the Do Not Retry bit of the last command's status
        self.parked = set()     # cids of the Async Event Requests not completed yet
        self.aer_done = {}      # cid -> (status, dword 0) of those that completed meanwhile

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
                if rcid != cid and rcid in self.parked:
                    # a parked Async Event Request completed meanwhile: aer_wait takes it
                    self.parked.discard(rcid)
                    self.aer_done[rcid] = ((st >> 1) & 0x7FF, dw0)
                    continue
                check(rcid == cid, "response for cid %d, expected %d" % (rcid, cid))
                self.last_dnr = bool(st & 0x8000)
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
        hostnqn = self.hostnqn or HOST_NQN
        data[512:512 + len(hostnqn)] = hostnqn.encode()
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
    c.parked.add(cid)
    return cid


def aer_wait(c, cid, timeout=10):
    if cid in c.aer_done:
        return c.aer_done.pop(cid)
    c.parked.discard(cid)
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

# ---- reservations -----------------------------------------------------------------------------

RESV_REGISTER, RESV_REPORT, RESV_ACQUIRE, RESV_RELEASE = 0x0D, 0x0E, 0x11, 0x15
SC_INVALID_FIELD, SC_INVALID_NS, SC_SGL_LENGTH, SC_HOSTID_FORMAT = 0x02, 0x0B, 0x0F, 0x18
SC_CONFLICT = 0x83
WE, EA, WE_RO, EA_RO, WE_AR, EA_AR = 1, 2, 3, 4, 5, 6
NOTICE_REG_PREEMPTED, NOTICE_RELEASED, NOTICE_PREEMPTED = 1, 2, 3
RESV_AEN = 0x06 | 0x00 << 8 | 0x80 << 16   # I/O command specific, info 0, log page 80h
HOSTID_A = bytes.fromhex("a0a1a2a3a4a5a6a7a8a9aaabacadaeaf")
HOSTID_B = bytes.fromhex("b0b1b2b3b4b5b6b7b8b9babbbcbdbebf")
HOSTID_C = bytes.fromhex("c0c1c2c3c4c5c6c7c8c9cacbcccdcecf")
NQN_PREFIX = "nqn.2014-08.org.nvmexpress:uuid:5e5e0000-0000-4000-8000-00000000000"


class Host:
    """One NVMe host: a controller (admin queue c, I/O queue q) connected with a host ID."""

    def __init__(self, a, hostid, name, port=None):
        self.hostid, self.name = hostid, name
        self.nqn = NQN_PREFIX + name.lower()[0]
        port = port or a.port
        self.c = Conn(a.addr, port)
        self.c.hostid, self.c.hostnqn = hostid, self.nqn
        self.c.icreq()
        st, self.cntlid, _, _ = self.c.connect(a.nqn)
        check(st == 0, "%s: Connect: %#x" % (name, st))
        self.c.prop_set(0x14, 0x460001)
        self.q = Conn(a.addr, port)
        self.q.hostid, self.q.hostnqn = hostid, self.nqn
        self.q.icreq()
        st, _, _, _ = self.q.connect(a.nqn, qid=1, cntlid=self.cntlid)
        check(st == 0, "%s: I/O queue Connect: %#x" % (name, st))
        self.aer = None   # the cid of the Async Event Request parked on the admin queue
        self.nsid = 1     # the namespace of the commands that name none

    def close(self):
        self.q.close()
        self.c.close()

    def cmd(self, opc, nsid=None, cdw=None, data=b"", read_len=0, **kw):
        """(status, DNR, data) of an I/O command."""
        nsid = self.nsid if nsid is None else nsid
        st, _, _, d = self.q.command(opc, nsid=nsid, cdw=cdw, data=data, read_len=read_len,
                                     **kw)
        return st, self.q.last_dnr, d

    def register(self, crkey, nrkey, rrega=0, iekey=False, cptpl=0, nsid=None, data=None):
        cdw10 = rrega | (8 if iekey else 0) | cptpl << 30
        return self.cmd(RESV_REGISTER, nsid, {10: cdw10},
                        struct.pack("<QQ", crkey, nrkey) if data is None else data)[:2]

    def acquire(self, crkey, prkey, rtype, racqa=0, iekey=False, nsid=None, data=None):
        cdw10 = racqa | (8 if iekey else 0) | rtype << 8
        return self.cmd(RESV_ACQUIRE, nsid, {10: cdw10},
                        struct.pack("<QQ", crkey, prkey) if data is None else data)[:2]

    def release(self, crkey, rtype, rrela=0, nsid=None, data=None):
        return self.cmd(RESV_RELEASE, nsid, {10: rrela | rtype << 8},
                        struct.pack("<Q", crkey) if data is None else data)[:2]

    def report_raw(self, nbytes=4096, eds=True, nsid=None, numd=None):
        numd = nbytes // 4 - 1 if numd is None else numd
        return self.cmd(RESV_REPORT, nsid, {10: numd, 11: 1 if eds else 0}, read_len=nbytes)

    def report(self, nbytes=4096):
        """The extended Reservation Report: {gen, rtype, regctl, ptpls, regs: {hostid:
        (key, holds, cntlid)}, order: [hostid...]}"""
        st, dnr, d = self.report_raw(nbytes)
        check(st == 0, "%s: Reservation Report (EDS=1): %#x" % (self.name, st))
        gen, rtype, regctl = struct.unpack("<IBH", d[0:7])
        out = {"gen": gen, "rtype": rtype, "regctl": regctl, "ptpls": d[9], "regs": {},
               "order": []}
        for i in range(min(regctl, (len(d) - 64) // 64)):
            e = d[64 + 64 * i:128 + 64 * i]
            cntlid, rcsts = struct.unpack("<HB", e[0:3])
            key = struct.unpack("<Q", e[8:16])[0]
            hid = bytes(e[16:32])
            check(hid not in out["regs"] or hid == bytes(16),
                  "Reservation Report lists host ID %s twice" % hid.hex())
            out["regs"][hid] = (key, rcsts & 1, cntlid)
            out["order"].append(hid)
        return out

    def io(self, op, lba=0, data=None, bs=512):
        """(status, DNR) of one I/O of kind op: read, write, compare, zeroes, flush, dsm."""
        if op == "read":
            st, dnr, _ = self.cmd(0x02, cdw={10: lba, 12: 0}, read_len=bs)
        elif op == "write":
            st, dnr, _ = self.cmd(0x01, cdw={10: lba, 12: 0}, data=data or b"\xee" * bs)
        elif op == "compare":
            st, dnr, _ = self.cmd(0x05, cdw={10: lba, 12: 0}, data=data or bytes(bs))
        elif op == "zeroes":
            st, dnr, _ = self.cmd(0x08, cdw={10: lba, 12: 0})
        elif op == "flush":
            st, dnr, _ = self.cmd(0x00)
        elif op == "dsm":
            st, dnr, _ = self.cmd(0x09, cdw={10: 0, 11: 4},
                                  data=struct.pack("<IIQ", 0, 1, lba))
        return st, dnr

    def read(self, lba, nbytes):
        st, _, d = self.cmd(0x02, cdw={10: lba, 12: nbytes // 512 - 1}, read_len=nbytes)
        check(st == 0, "%s: Read of %d bytes at LBA %d: %#x" % (self.name, nbytes, lba, st))
        return d

    def notice(self):
        """The oldest Reservation Notification log page: (count, type, available, nsid)."""
        st, _, _, d = self.c.command(0x02, nsid=0xFFFFFFFF, cdw={10: 0x80 | (64 // 4 - 1) << 16},
                                     read_len=64)
        check(st == 0, "%s: Get Log Page 80h: %#x" % (self.name, st))
        count = struct.unpack("<Q", d[0:8])[0]
        nsid = struct.unpack("<I", d[12:16])[0]
        if d[8] == 0:
            check(d == bytes(64), "%s: an empty log page 80h that is not all zeroes: %s"
                  % (self.name, d[:16].hex()))
        return count, d[8], d[9], nsid

    def park_aer(self):
        if self.aer is None:
            self.aer = aer_send(self.c)

    def expect_aen(self, what):
        check(self.aer is not None, "no AER parked")
        st, dw0 = aer_wait(self.c, self.aer, 5)
        self.aer = None
        check(st == 0 and dw0 == RESV_AEN, "%s: %s: AER status %#x dword 0 %#x, expected "
              "%#x" % (self.name, what, st, dw0, RESV_AEN))

    def expect_no_aen(self, what, secs=0.4):
        check(self.aer is not None, "no AER parked")
        if self.aer in self.c.aer_done or not no_pdu(self.c, secs):
            raise Fail("%s: %s: an Async Event Request completed" % (self.name, what))

    def expect_notice(self, ntype, what, more=None):
        count, t, avail, nsid = self.notice()
        check(t == ntype and nsid == self.nsid, "%s: %s: log page 80h type %d NSID %d, expected "
              "type %d NSID %d" % (self.name, what, t, nsid, ntype, self.nsid))
        if more is not None:
            check(avail == more, "%s: %s: log page 80h: %d more available, expected %d"
                  % (self.name, what, avail, more))
        return count

    def expect_no_notice(self, what):
        count, t, _, _ = self.notice()
        check(t == 0, "%s: %s: log page 80h type %d, expected an empty page" % (self.name, what, t))


def expect_st(got, sc, what, dnr=None):
    st, d = got
    check(st == sc, "%s: status %#x, expected %#x" % (what, st, sc))
    if dnr is None:
        dnr = sc != 0
    check(d == dnr, "%s: DNR %d, expected %d" % (what, d, dnr))


def expect_io(h, allowed, what):
    """Each kind of I/O of host h succeeds (in allowed) or gets Reservation Conflict with DNR."""
    for op in ("read", "compare", "write", "zeroes", "dsm", "flush"):
        if op == "compare":
            # compare with what is there: success means the same data
            st, _, d = h.cmd(0x02, cdw={10: 4096, 12: 0}, read_len=512)
            got = h.io(op, 4096, data=d if st == 0 else None)
        else:
            got = h.io(op, 4096)
        kind = "read" if op in ("read", "compare") else "write"
        expect_st(got, 0 if kind in allowed else SC_CONFLICT, "%s: %s (%s)" % (what, op, h.name))


def gen_moved(h, before, what, moved=True):
    r = h.report()
    if moved:
        check(r["gen"] > before, "%s: GEN %d -> %d, it must move on" % (what, before, r["gen"]))
    else:
        check(r["gen"] == before, "%s: GEN %d -> %d, it must not change" % (what, before,
                                                                            r["gen"]))
    return r


def resv_identify(h, ptpl):
    st, _, _, idc = h.c.command(0x06, cdw={10: 1}, read_len=4096)
    check(st == 0, "Identify Controller: %#x" % st)
    oncs = struct.unpack("<H", idc[520:522])[0]
    check(oncs & 0x20, "ONCS %#x: bit 5 (reservations) clear" % oncs)
    st, _, _, idn = h.c.command(0x06, nsid=1, cdw={10: 0}, read_len=4096)
    check(st == 0, "Identify Namespace: %#x" % st)
    want = 0xFE | (1 if ptpl else 0)
    check(idn[31] == want, "RESCAP %#x, expected %#x" % (idn[31], want))
    st, dw0, _, _ = h.c.command(0x0A, nsid=1, cdw={10: 0x83})
    check(st == 0, "Get Features 83h (Reservation Persistence): %#x" % st)
    return dw0


def case_resv(a):
    A = Host(a, HOSTID_A, "A")
    B = Host(a, HOSTID_B, "B")
    C = Host(a, HOSTID_C, "C")   # never registers
    check(resv_identify(A, a.ptpl) & 1 == 0, "PTPL set before any registration asked for it")
    st, dnr, _ = A.report_raw(4096, eds=False)
    expect_st((st, dnr), SC_HOSTID_FORMAT, "Reservation Report with EDS=0 (128-bit host IDs)")
    r = A.report()
    check(r["regctl"] == 0 and r["rtype"] == 0, "a fresh namespace has registrants or a "
          "reservation: %r" % r)
    gen = r["gen"]

    # ---- registration
    expect_st(A.register(0, 0xA1), 0, "A registers 0xA1")
    r = gen_moved(A, gen, "A registered")
    check(r["regctl"] == 1 and r["regs"].get(HOSTID_A, (0,))[0] == 0xA1, "after A: %r" % r)
    expect_st(B.register(0, 0xB1), 0, "B registers 0xB1")
    r = gen_moved(B, r["gen"], "B registered")
    check(r["regctl"] == 2, "REGCTL %d after two hosts registered" % r["regctl"])
    check(set(r["regs"]) == {HOSTID_A, HOSTID_B}, "host IDs in the report: %s"
          % [h.hex() for h in r["regs"]])
    check(r["regs"][HOSTID_A][:2] == (0xA1, 0) and r["regs"][HOSTID_B][:2] == (0xB1, 0),
          "keys and holders in the report: %r" % r["regs"])
    check(all(v[2] == 0xFFFF for v in r["regs"].values()), "CNTLID of the entries: %r (0xFFFF "
          "expected: a registrant is a host)" % r["regs"])
    check(B.report() ["regs"] == r["regs"], "the report differs between hosts")
    expect_st(A.register(0, 0xA1), 0, "A registers again with the same key")
    expect_st(A.register(0, 0xA2), SC_CONFLICT, "A registers again with another key")
    expect_st(A.register(0, 0), SC_INVALID_FIELD, "Register with NRKEY 0")
    expect_st(A.register(0xA1, 0, rrega=2), SC_INVALID_FIELD, "Replace with NRKEY 0")
    expect_st(C.register(0x99, 0, rrega=1), SC_CONFLICT, "unregister by a host not registered")
    # the report, truncated: the header and one entry; REGCTL still counts both
    st, _, d = A.report_raw(128)
    check(st == 0 and struct.unpack("<H", d[5:7])[0] == 2, "Report of 128 bytes: %#x %r"
          % (st, d[:8]))
    check(d[80:96] in (HOSTID_A, HOSTID_B), "Report of 128 bytes: the first entry's host ID")
    # replace, with a wrong key, with the right one, with IEKEY
    gen = A.report()["gen"]
    expect_st(A.register(0x77, 0xA2, rrega=2), SC_CONFLICT, "Replace with a wrong CRKEY")
    expect_st(A.register(0xA1, 0xA2, rrega=2), 0, "Replace 0xA1 -> 0xA2")
    r = gen_moved(A, gen, "Replace")
    check(r["regs"][HOSTID_A][0] == 0xA2, "A's key after Replace: %#x" % r["regs"][HOSTID_A][0])
    expect_st(A.register(0x77, 0xA1, rrega=2, iekey=True), 0, "Replace with IEKEY, wrong CRKEY")
    check(A.report()["regs"][HOSTID_A][0] == 0xA1, "A's key after Replace with IEKEY")
    expect_st(A.register(0x77, 0, rrega=1), SC_CONFLICT, "Unregister with a wrong CRKEY")

    # ---- Write Exclusive held by A
    gen = A.report()["gen"]
    for t in (0, 7, 0xFF):
        expect_st(A.acquire(0xA1, 0, t), SC_INVALID_FIELD, "Acquire with RTYPE %d" % t)
    expect_st(A.acquire(0xA2, 0, WE), SC_CONFLICT, "Acquire with a wrong CRKEY")
    expect_st(A.acquire(0xA2, 0, WE, iekey=True), SC_CONFLICT,
              "Acquire with a wrong CRKEY and IEKEY (IEKEY is ignored)")
    expect_st(C.acquire(0, 0, WE), SC_CONFLICT, "Acquire by a host not registered")
    expect_st(A.acquire(0xA1, 0, WE), 0, "A acquires Write Exclusive")
    r = gen_moved(A, gen, "Acquire", moved=False)
    check(r["rtype"] == WE, "RTYPE %d after Acquire WE" % r["rtype"])
    check(r["regs"][HOSTID_A][1] == 1 and r["regs"][HOSTID_B][1] == 0, "RCSTS: %r" % r["regs"])
    expect_st(A.acquire(0xA1, 0, WE), 0, "the holder acquires the same type again")
    expect_st(A.acquire(0xA1, 0, EA), SC_CONFLICT, "the holder acquires another type")
    expect_st(B.acquire(0xB1, 0, WE), SC_CONFLICT, "B acquires while A holds")
    data = os.urandom(4096)
    st, dnr, _ = A.cmd(0x01, cdw={10: 4096, 12: 7}, data=data)
    expect_st((st, dnr), 0, "A (holder) writes")
    check(B.read(4096, 4096) == data, "B reads what A wrote")
    expect_io(B, ("read",), "WE, a registrant")
    expect_io(C, ("read",), "WE, a host not registered")
    check(A.read(4096, 4096) == data, "refused writes changed the data")
    expect_io(A, ("read", "write"), "WE, the holder")
    # release: wrong type, wrong key, by a registrant that does not hold
    expect_st(A.release(0xA1, EA), SC_INVALID_FIELD, "Release with another type")
    expect_st(A.release(0x77, WE), SC_CONFLICT, "Release with a wrong CRKEY")
    expect_st(B.release(0xB1, WE), 0, "Release by a registrant that does not hold it")
    expect_st(C.release(0, WE), SC_CONFLICT, "Release by a host not registered")
    check(A.report()["rtype"] == WE, "the reservation is gone after a refused release")
    expect_st(A.acquire(0xA1, 0, WE, racqa=3), SC_INVALID_FIELD, "Acquire with RACQA 3")
    expect_st(B.acquire(0xB1, 0, WE, racqa=1), SC_INVALID_FIELD,
              "Preempt with PRKEY 0 under Write Exclusive")

    # ---- B preempts A: A's registration is gone, A is told
    for h in (A, B, C):
        h.park_aer()
    gen = A.report()["gen"]
    expect_st(B.acquire(0xB1, 0xA1, WE, racqa=1), 0, "B preempts A")
    A.expect_aen("registration preempted")
    B.expect_no_aen("B preempted A")
    C.expect_no_aen("B preempted A")
    r = gen_moved(B, gen, "Preempt")
    check(r["regctl"] == 1 and set(r["regs"]) == {HOSTID_B} and r["rtype"] == WE and
          r["regs"][HOSTID_B][1] == 1, "after the preemption: %r" % r)
    count = A.expect_notice(NOTICE_REG_PREEMPTED, "B preempted A", more=0)
    A.expect_no_notice("the notice was read")
    B.expect_no_notice("B preempted A")
    expect_io(A, ("read",), "WE held by B, A preempted")
    expect_io(B, ("read", "write"), "WE, B holds after preempting")
    expect_st(A.register(0xA1, 0, rrega=1), SC_CONFLICT, "A unregisters after being preempted")

    # ---- Exclusive Access, A registered again
    expect_st(A.register(0, 0xA1), 0, "A registers again")
    A.park_aer()
    expect_st(B.release(0xB1, WE), 0, "B releases WE")
    A.expect_no_aen("release of a WE reservation (no notice for WE/EA)")
    expect_st(B.acquire(0xB1, 0, EA), 0, "B acquires EA")
    r = B.report()
    check(r["rtype"] == EA and r["regs"][HOSTID_B] [:2] == (0xB1, 1) and
          r["regs"].get(HOSTID_A, (0,))[0] == 0xA1, "after B changed the type to EA: %r" % r)
    expect_io(A, (), "EA, a registrant")
    expect_io(C, (), "EA, a host not registered")
    expect_io(B, ("read", "write"), "EA, the holder")
    A.park_aer()
    expect_st(B.release(0xB1, EA), 0, "B releases EA")
    A.expect_no_aen("release of an EA reservation (no notice for WE/EA)")
    check(B.report()["rtype"] == 0, "a reservation is left after the release")

    # ---- registrants-only types
    expect_st(B.acquire(0xB1, 0, WE_RO), 0, "B acquires WE - Registrants Only")
    r = B.report()
    check(r["rtype"] == WE_RO and r["regs"][HOSTID_B][1] == 1 and r["regs"][HOSTID_A][1] == 0,
          "WE_RO: only the acquiring host holds it: %r" % r)
    expect_io(A, ("read", "write"), "WE_RO, a registrant")
    expect_io(C, ("read",), "WE_RO, a host not registered")
    expect_st(B.release(0xB1, WE_RO), 0, "B releases WE_RO")
    A.expect_aen("release of a registrants-only reservation")
    C.expect_no_aen("release (C is not registered)")
    A.expect_notice(NOTICE_RELEASED, "B released WE_RO", more=0)
    expect_st(B.acquire(0xB1, 0, EA_RO), 0, "B acquires EA - Registrants Only")
    expect_io(A, ("read", "write"), "EA_RO, a registrant")
    expect_io(C, (), "EA_RO, a host not registered")
    # two notices queued: the AER completes once, the second waits in the log
    A.park_aer()
    expect_st(B.release(0xB1, EA_RO), 0, "B releases EA_RO")
    A.expect_aen("release of EA_RO")
    expect_st(B.acquire(0xB1, 0, WE_RO), 0, "B acquires WE_RO again")
    A.park_aer()
    expect_st(B.release(0xB1, WE_RO), 0, "B releases WE_RO again")
    A.expect_no_aen("a second notice before the log page was read")
    c1 = A.expect_notice(NOTICE_RELEASED, "first of two notices", more=1)
    c2 = A.expect_notice(NOTICE_RELEASED, "second of two notices", more=0)
    check(c2 == c1 + 1 and c1 > count, "log page counts %d, %d after %d" % (c1, c2, count))
    A.expect_no_notice("both notices were read")
    if A.aer in A.c.aer_done:
        # completed for the second notice once the first was read: a valid choice
        A.expect_aen("the notice left after the first read")

    # ---- all-registrants types: every registrant holds it
    expect_st(B.acquire(0xB1, 0, WE_AR), 0, "B acquires WE - All Registrants")
    r = B.report()
    check(r["rtype"] == WE_AR and r["regs"][HOSTID_A][1] == 1 and r["regs"][HOSTID_B][1] == 1,
          "WE_AR: every registrant holds it: %r" % r)
    expect_io(A, ("read", "write"), "WE_AR, a registrant")
    expect_io(C, ("read",), "WE_AR, a host not registered")
    expect_st(A.acquire(0xA1, 0, WE_AR), 0, "another registrant acquires the same AR type")
    B.park_aer()
    expect_st(A.release(0xA1, WE_AR), 0, "A (a holder under WE_AR) releases")
    check(A.report()["rtype"] == 0, "the WE_AR reservation is left after A released it")
    B.expect_aen("release of WE_AR by A")
    B.expect_notice(NOTICE_RELEASED, "A released WE_AR", more=0)
    expect_st(A.acquire(0xA1, 0, EA_AR), 0, "A acquires EA - All Registrants")
    check(A.report()["rtype"] == EA_AR, "RTYPE after EA_AR")
    expect_io(B, ("read", "write"), "EA_AR, a registrant")
    expect_io(C, (), "EA_AR, a host not registered")
    expect_st(C.acquire(0, 0, EA_AR), SC_CONFLICT, "a host not registered acquires EA_AR")
    B.park_aer()
    expect_st(A.release(0xA1, EA_AR), 0, "A releases EA_AR")
    B.expect_aen("release of EA_AR")
    B.expect_notice(NOTICE_RELEASED, "A released EA_AR", more=0)

    # ---- Reservation Notification Mask (per namespace)
    st, _, _, _ = A.c.command(0x09, nsid=1, cdw={10: 0x82, 11: 1 << 2})
    check(st == 0, "Set Features 82h (mask reservation released): %#x" % st)
    st, dw0, _, _ = A.c.command(0x0A, nsid=1, cdw={10: 0x82})
    check(st == 0 and dw0 & 0xE == 1 << 2, "Get Features 82h: %#x %#x" % (st, dw0))
    A.park_aer()
    expect_st(B.acquire(0xB1, 0, WE_RO), 0, "B acquires WE_RO (A masks released notices)")
    expect_st(B.release(0xB1, WE_RO), 0, "B releases WE_RO (A masks released notices)")
    A.expect_no_aen("a masked notice type")
    A.expect_no_notice("a masked notice type")
    st, _, _, _ = A.c.command(0x09, nsid=1, cdw={10: 0x82, 11: 0})
    check(st == 0, "Set Features 82h (no mask): %#x" % st)
    st, dw0, _, _ = A.c.command(0x0A, nsid=1, cdw={10: 0x82})
    check(st == 0 and dw0 & 0xE == 0, "Get Features 82h after unmasking: %#x %#x" % (st, dw0))
    st, _, _, _ = A.c.command(0x09, nsid=0xFFFFFFFF, cdw={10: 0x82, 11: 1 << 3})
    check(st == 0, "Set Features 82h on every namespace (NSID FFFFFFFFh): %#x" % st)
    st, dw0, _, _ = A.c.command(0x0A, nsid=1, cdw={10: 0x82})
    check(st == 0 and dw0 & 0xE == 1 << 3, "Get Features 82h of NSID 1 after a mask for all: "
          "%#x %#x" % (st, dw0))
    st, _, _, _ = A.c.command(0x09, nsid=0xFFFFFFFF, cdw={10: 0x82, 11: 0})
    check(st == 0, "Set Features 82h on every namespace, no mask: %#x" % st)
    st, _, _, _ = A.c.command(0x09, nsid=5, cdw={10: 0x82, 11: 0})
    check(st & 0xFF == SC_INVALID_NS or st & 0xFF == SC_INVALID_FIELD,
          "Set Features 82h on a missing namespace: %#x" % st)

    # ---- a second controller of host A (through --port2: tetherd takes a new association of
    # one host through the same port for a reconnection) shares its registration
    check(a.port2, "resv needs a second port of the subsystem (--port2)")
    A2 = Host(a, HOSTID_A, "A'", port=a.port2)
    r = A2.report()
    check(r["regctl"] == 2 and r["regs"][HOSTID_A][0] == 0xA1,
          "A's second controller: the report %r" % r)
    expect_st(A2.register(0, 0xA1), 0, "A's second controller registers A's key")
    expect_st(A2.register(0, 0xA5), SC_CONFLICT, "A's second controller registers another key")
    check(A2.report()["regctl"] == 2, "a second controller of one host made a second registrant")
    expect_st(A.acquire(0xA1, 0, WE), 0, "A acquires WE through its first controller")
    expect_io(A2, ("read", "write"), "WE held by host A, its second controller")
    expect_io(B, ("read",), "WE held by host A, B")
    A.park_aer()
    A2.park_aer()
    expect_st(B.acquire(0xB1, 0xA1, EA, racqa=2), 0, "B preempts and aborts A into EA")
    A.expect_aen("preempted (first controller)")
    A2.expect_aen("preempted (second controller)")
    A.expect_notice(NOTICE_REG_PREEMPTED, "preempted, first controller")
    A2.expect_notice(NOTICE_REG_PREEMPTED, "preempted, second controller")
    expect_io(A2, (), "EA held by B, A's second controller")
    check(B.report()["rtype"] == EA and HOSTID_A not in B.report()["regs"],
          "after preempt and abort: %r" % B.report())

    # ---- a registration belongs to the host: it outlives all the host's controllers
    expect_st(A.acquire(0xA1, 0, WE), SC_CONFLICT, "A acquires, not registered")
    expect_st(A2.register(0, 0xA1), 0, "A registers again (second controller)")
    expect_st(A2.acquire(0xA1, 0xB1, WE, racqa=1), 0, "A preempts B, WE")
    B.park_aer()
    B.expect_aen("preempted by A")
    B.expect_notice(NOTICE_REG_PREEMPTED, "preempted by A")
    expect_st(B.register(0, 0xB1), 0, "B registers again")
    A.close()
    A2.close()
    time.sleep(0.3)
    r = B.report()
    check(r["rtype"] == WE and r["regs"].get(HOSTID_A, (0, 0))[:2] == (0xA1, 1),
          "the registration and reservation of host A after its controllers went: %r" % r)
    expect_io(B, ("read",), "WE held by host A, none of its controllers connected")
    A = Host(a, HOSTID_A, "A")
    expect_io(A, ("read", "write"), "WE, host A connected again")
    A2 = Host(a, HOSTID_A, "A'", port=a.port2)
    expect_st(A.release(0xA1, WE), 0, "A releases")
    expect_st(B.acquire(0xB1, 0, EA), 0, "B acquires EA")

    # ---- clear: every registration and the reservation go, the others are told
    expect_st(A2.register(0, 0xA1), 0, "A registers again (second controller)")
    A.park_aer()
    gen = B.report()["gen"]
    expect_st(B.release(0x77, EA, rrela=1), SC_CONFLICT, "Clear with a wrong CRKEY")
    expect_st(B.release(0xB1, EA, rrela=2), SC_INVALID_FIELD, "Release with RRELA 2")
    expect_st(B.release(0xB1, EA, rrela=1), 0, "B clears")
    A.expect_aen("clear")
    A.expect_notice(NOTICE_PREEMPTED, "B cleared")
    A2.expect_notice(NOTICE_PREEMPTED, "B cleared (second controller)")
    B.expect_no_notice("B cleared")
    r = gen_moved(A, gen, "Clear")
    check(r["regctl"] == 0 and r["rtype"] == 0, "after clear: %r" % r)
    for h in (A, A2, B, C):
        expect_io(h, ("read", "write"), "no reservation after clear")

    # ---- the holder unregisters: the reservation goes with it
    expect_st(A.register(0, 0xA1), 0, "A registers")
    expect_st(A.acquire(0xA1, 0, EA), 0, "A acquires EA")
    expect_st(A2.register(0xA1, 0, rrega=1), 0, "A unregisters (second controller)")
    r = A.report()
    check(r["regctl"] == 0 and r["rtype"] == 0, "after the holder unregistered: %r" % r)
    expect_io(C, ("read", "write"), "the holder unregistered")
    for h in (A, A2, B, C):
        h.close()


def case_resv_bad(a):
    """Malformed reservation commands: statuses, and nothing changes."""
    A = Host(a, HOSTID_A, "A")
    r0 = A.report()
    short = struct.pack("<Q", 0xA1)
    bad_len = (SC_INVALID_FIELD, SC_SGL_LENGTH)

    def refused(got, what, allowed=bad_len):
        st, dnr = got
        check(st in allowed and dnr, "%s: status %#x DNR %d, expected one of %s with DNR"
              % (what, st, dnr, ["%#x" % x for x in allowed]))
    refused(A.register(0, 0, data=short), "Register with 8 bytes of data")
    refused(A.register(0, 0, data=b""), "Register without data")
    refused(A.acquire(0, 0, WE, data=short), "Acquire with 8 bytes of data")
    refused(A.acquire(0, 0, WE, data=b""), "Acquire without data")
    refused(A.release(0, WE, data=b""), "Release without data")
    refused(A.release(0, WE, data=b"\1\2\3\4"), "Release with 4 bytes of data")
    r = A.report()
    check(r["regctl"] == 0 and r["gen"] == r0["gen"], "malformed commands changed the state: "
          "%r -> %r" % (r0, r))
    for v in range(3, 8):
        expect_st(A.register(0, 0xA1, rrega=v), SC_INVALID_FIELD, "Register with RREGA %d" % v)
    expect_st(A.register(0, 0xA1, cptpl=1), SC_INVALID_FIELD, "Register with CPTPL 1 (reserved)")
    if not a.ptpl:
        expect_st(A.register(0, 0xA1, cptpl=3), SC_INVALID_FIELD,
                  "Register with CPTPL 3 without a reservation state file")
    check(A.report()["regctl"] == 0, "a refused Register registered")
    expect_st(A.register(0, 0xA1), 0, "Register")
    for v in range(3, 8):
        expect_st(A.acquire(0xA1, 0, WE, racqa=v), SC_INVALID_FIELD, "Acquire with RACQA %d" % v)
    expect_st(A.acquire(0xA1, 0, WE), 0, "Acquire WE")
    for v in range(2, 8):
        expect_st(A.release(0xA1, WE, rrela=v), SC_INVALID_FIELD, "Release with RRELA %d" % v)
    check(A.report()["rtype"] == WE, "the reservation after refused releases")
    # the report: NUMD 0 is 4 bytes (GEN), a transfer shorter than NUMD says
    gen = A.report()["gen"]
    st, dnr, d = A.report_raw(4)
    check(st == 0 and struct.unpack("<I", d[:4])[0] == gen, "Report with NUMD 0: %#x %r"
          % (st, d))
    st, dnr, d = A.report_raw(64)
    check(st == 0 and d[4] == WE and struct.unpack("<H", d[5:7])[0] == 1,
          "Report of the header alone: %#x %r" % (st, d[:8]))
    st, dnr, _ = A.report_raw(512, numd=0xFFFFFFFF)
    check(st == 0 or dnr, "Report with NUMD past the transfer: %#x without DNR" % st)
    # namespaces that do not exist
    for nsid in (0, 2, 0xFFFFFFFE):
        expect_st(A.register(0, 0xA1, nsid=nsid), SC_INVALID_NS, "Register on NSID %#x" % nsid)
        expect_st(A.acquire(0xA1, 0, WE, nsid=nsid), SC_INVALID_NS, "Acquire on NSID %#x" % nsid)
        expect_st(A.release(0xA1, WE, nsid=nsid), SC_INVALID_NS, "Release on NSID %#x" % nsid)
        st, dnr, _ = A.report_raw(4096, nsid=nsid)
        expect_st((st, dnr), SC_INVALID_NS, "Report on NSID %#x" % nsid)
    # random fields and lengths: any status, no crash, the queue still serves
    rnd = random.Random(a.seed)
    for _ in range(200):
        opc = rnd.choice((RESV_REGISTER, RESV_REPORT, RESV_ACQUIRE, RESV_RELEASE))
        cdw = {10: rnd.getrandbits(32), 11: rnd.getrandbits(32)}
        if opc == RESV_REPORT:
            A.cmd(opc, cdw=cdw, read_len=rnd.choice((4, 64, 100, 4096)))
        else:
            A.cmd(opc, cdw=cdw, data=bytes(rnd.getrandbits(8) for _ in range(
                rnd.choice((0, 1, 8, 16, 17, 512)))))
    expect_st(A.register(0xA1, 0, rrega=1, iekey=True), 0, "Unregister with IEKEY after it all")
    r = A.report()
    check(r["regctl"] == 0 and r["rtype"] == 0, "state left after the random commands: %r" % r)
    A.close()
    # more notices than any queue holds, never read: bounded, the newest kept, the count tells
    A = Host(a, HOSTID_A, "A")
    B = Host(a, HOSTID_B, "B")
    expect_st(A.register(0, 0xA1), 0, "A registers")
    expect_st(B.register(0, 0xB1), 0, "B registers")
    first, _, _, _ = A.notice()
    n = 300
    for _ in range(n):
        expect_st(B.acquire(0xB1, 0, WE_RO), 0, "B acquires WE_RO")
        expect_st(B.release(0xB1, WE_RO), 0, "B releases WE_RO")
    pages = []
    for _ in range(n + 1):
        count, t, avail, nsid = A.notice()
        if t == 0:
            break
        pages.append((count, t, avail, nsid))
    check(0 < len(pages) <= 256 and pages[0][2] <= 255,
          "%d notices kept of %d, %d said available (at most 255)" % (len(pages), n,
                                                                    pages[0][2] if pages else -1))
    check(all(p[1] == NOTICE_RELEASED and p[3] == 1 for p in pages), "notice types/NSIDs")
    check([p[2] for p in pages] == list(range(len(pages) - 1, -1, -1)),
          "available log pages do not count down to 0: %r" % [p[2] for p in pages][:8])
    check([p[0] for p in pages] == list(range(first + n - len(pages) + 1, first + n + 1)),
          "log page counts %d..%d of %d pages, expected up to %d (the newest kept)"
          % (pages[0][0], pages[-1][0], len(pages), first + n))
    for h in (A, B):
        expect_st(h.register(0, 0, rrega=1, iekey=True), 0, "unregister")
        h.close()


def case_resv_preempt(a):
    """Preempt of registrants that do not hold the reservation, and under All Registrants."""
    A = Host(a, HOSTID_A, "A")
    B = Host(a, HOSTID_B, "B")
    C = Host(a, HOSTID_C, "C")
    for h, k in ((A, 0xA1), (B, 0xB1), (C, 0xC1)):
        expect_st(h.register(0, k), 0, "%s registers" % h.name)
    expect_st(A.acquire(0xA1, 0, WE), 0, "A acquires WE")
    for h in (A, B, C):
        h.park_aer()
    gen = A.report()["gen"]
    expect_st(A.acquire(0xA1, 0xC1, WE, racqa=1), 0, "A preempts C, which does not hold")
    C.expect_aen("C's registration preempted")
    A.expect_no_aen("A preempted C")
    B.expect_no_aen("A preempted C")
    C.expect_notice(NOTICE_REG_PREEMPTED, "A preempted C", more=0)
    r = gen_moved(A, gen, "Preempt of a registrant")
    check(r["rtype"] == WE and set(r["regs"]) == {HOSTID_A, HOSTID_B} and
          r["regs"][HOSTID_A][1] == 1, "after preempting C: %r" % r)
    expect_st(A.acquire(0xA1, 0x5555, WE, racqa=1), SC_CONFLICT,
              "Preempt of a key nobody holds (SPC: RESERVATION CONFLICT)")
    # under All Registrants, PRKEY 0 removes every other registrant and the reservation moves
    expect_st(C.register(0, 0xC1), 0, "C registers again")
    expect_st(A.release(0xA1, WE), 0, "A releases WE")
    expect_st(A.acquire(0xA1, 0, WE_AR), 0, "A acquires WE_AR")
    C.park_aer()
    expect_st(B.acquire(0xB1, 0, EA, racqa=1), 0, "B preempts all registrants with PRKEY 0")
    A.expect_aen("preempted under WE_AR")
    C.expect_aen("preempted under WE_AR")
    B.expect_no_aen("B preempted the others")
    r = B.report()
    check(r["rtype"] == EA and set(r["regs"]) == {HOSTID_B} and r["regs"][HOSTID_B][1] == 1,
          "after B preempted all registrants: %r" % r)
    for h in (A, C):
        h.expect_notice(NOTICE_REG_PREEMPTED, "B preempted all registrants")
        expect_io(h, (), "EA held by B after it preempted the others")
    expect_st(B.release(0xB1, EA, rrela=1), 0, "B clears")
    for h in (A, B, C):
        h.close()


def case_resv_two_ns(a):
    """Two namespaces (two LUNs): a reservation of one leaves the other alone."""
    A = Host(a, HOSTID_A, "A")
    B = Host(a, HOSTID_B, "B")
    expect_st(A.register(0, 0xA1), 0, "A registers on NSID 1")
    expect_st(A.acquire(0xA1, 0, EA), 0, "A acquires EA on NSID 1")
    expect_io(B, (), "EA on NSID 1, B on NSID 1")
    st, dnr, d = B.report_raw(4096, nsid=2)
    check(st == 0 and struct.unpack("<H", d[5:7])[0] == 0 and d[4] == 0,
          "Report of NSID 2: %#x, REGCTL %d RTYPE %d" % (st, struct.unpack("<H", d[5:7])[0], d[4]))
    for op, opc, extra in (("write", 0x01, {"data": b"\x5a" * 512}), ("read", 0x02,
                                                                     {"read_len": 512})):
        got = B.cmd(opc, nsid=2, cdw={10: 0, 12: 0}, **extra)[:2]
        expect_st(got, 0, "B's %s on NSID 2 while NSID 1 is reserved" % op)
    expect_st(B.register(0, 0xB2, nsid=2), 0, "B registers on NSID 2")
    expect_st(B.acquire(0xB2, 0, WE, nsid=2), 0, "B acquires WE on NSID 2")
    got = A.cmd(0x01, nsid=2, cdw={10: 0, 12: 0}, data=bytes(512))[:2]
    expect_st(got, SC_CONFLICT, "A's write on NSID 2, reserved by B")
    expect_io(A, ("read", "write"), "A holds EA on NSID 1")
    A.park_aer()
    expect_st(B.acquire(0xB1, 0xA1, WE, racqa=1), SC_CONFLICT,
              "B preempts on NSID 1 without a registration there")
    A.expect_no_aen("a refused preempt")
    expect_st(B.register(0, 0xB1), 0, "B registers on NSID 1")
    expect_st(B.acquire(0xB1, 0xA1, WE, racqa=1), 0, "B preempts A on NSID 1")
    A.expect_aen("preempted on NSID 1")
    A.expect_notice(NOTICE_REG_PREEMPTED, "preempted on NSID 1")   # its NSID is checked: 1
    expect_st(B.release(0xB1, WE, rrela=1), 0, "B clears NSID 1")
    expect_st(B.release(0xB2, WE, rrela=1, nsid=2), 0, "B clears NSID 2")
    A.close()
    B.close()


def case_resv_stress(a):
    """Six hosts at once, each on its own connections, for 2 s: random registrations,
    acquisitions, preemptions, releases, clears, reports, notices and I/O (--seed). Every
    answer is a status these commands may have; at the end the report is consistent."""
    import threading
    errors, seen = [], {}
    lock = threading.Lock()

    def worker(i):
        rnd = random.Random(a.seed * 31 + i)
        try:
            h = Host(a, bytes([0xE0 + i]) * 16, "S%d" % i)
            key = 0x100 + i
            end = time.time() + 2
            while time.time() < end:
                op = rnd.randrange(8)
                if op == 0:
                    got = h.register(0, key)
                elif op == 1:
                    got = h.register(key, 0, rrega=1)
                elif op == 2:
                    got = h.acquire(key, 0, rnd.randint(1, 6))
                elif op == 3:
                    got = h.acquire(key, 0x100 + rnd.randrange(6), rnd.randint(1, 6),
                                    racqa=rnd.randint(1, 2))
                elif op == 4:
                    got = h.release(key, rnd.randint(1, 6), rrela=rnd.randint(0, 1))
                elif op == 5:
                    got = h.io(rnd.choice(("read", "write", "zeroes")), lba=8 * i)
                elif op == 6:
                    got = h.report_raw(4096)[:2]
                else:
                    h.notice()
                    continue
                with lock:
                    seen[got] = seen.get(got, 0) + 1
            h.close()
        except (Fail, Closed, OSError) as e:
            errors.append("host %d: %s" % (i, e))
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(not errors, "; ".join(errors))
    odd = {k: v for k, v in seen.items() if k not in ((0, False), (SC_CONFLICT, True),
                                                      (SC_INVALID_FIELD, True))}
    check(not odd, "statuses other than success, Reservation Conflict and Invalid Field (with "
          "DNR): %r" % odd)
    check(seen.get((0, False), 0) > 100 and seen.get((SC_CONFLICT, True), 0) > 100,
          "too few commands ran: %r" % seen)
    C = Host(a, HOSTID_C, "C")
    r = C.report()
    check(r["regctl"] == len(r["regs"]) and set(r["regs"]) <= {bytes([0xE0 + i]) * 16
                                                               for i in range(6)},
          "report after the storm: %r" % r)
    holders = [h for h, v in r["regs"].items() if v[1]]
    if r["rtype"] in (WE_AR, EA_AR):
        check(len(holders) == r["regctl"], "All Registrants: holders %d of %d" %
              (len(holders), r["regctl"]))
    else:
        check(len(holders) == (1 if r["rtype"] else 0), "RTYPE %d with %d holders"
              % (r["rtype"], len(holders)))
    expect_st(C.register(0, 0xC1), 0, "C registers after the storm")
    expect_st(C.release(0xC1, r["rtype"] or WE, rrela=1), 0, "C clears after the storm")
    r = C.report()
    check(r["regctl"] == 0 and r["rtype"] == 0, "after the clear: %r" % r)
    C.close()


def case_resv_zero_hostid(a):
    """Two hosts (two host NQNs) that both Connect with a Host Identifier of 0 (not specified):
    they must not become one registrant, nor pass for an iSCSI/SRP registrant (whose host ID
    the Report gives as zeros). Connect refused, reservation commands refused, or two
    registrants: any of these is sound."""
    hosts = []
    for name in ("Y", "Z"):
        try:
            hosts.append(Host(a, bytes(16), name))
        except Fail as e:
            print("    %s: Connect with host ID 0 refused (%s)" % (name, e))
    if len(hosts) < 2:
        return
    Y, Z = hosts
    st, dnr = Y.register(0, 0x11)
    if st != 0:
        check(dnr, "Register of a host with host ID 0: %#x without DNR" % st)
        print("    Register of a host with host ID 0 refused: %#x" % st)
    else:
        got = Z.register(0, 0x22)
        r = Y.report()
        check(got == (0, False) and r["regctl"] == 2,
              "a second host with host ID 0 (another host NQN) shares the first one's "
              "registration: its Register got %#x, the report lists %d registrant(s) %r"
              % (got[0], r["regctl"], r["regs"]))
    for h in (Y, Z):
        h.register(0, 0, rrega=1, iekey=True)
        h.close()


def case_resv_empty(a):
    """Nothing registered, nothing reserved (after unregistering with PTPL and a restart)."""
    A = Host(a, HOSTID_A, "A")
    r = A.report()
    check(r["regctl"] == 0 and r["rtype"] == 0, "state restored after it was cleared: %r" % r)
    expect_io(A, ("read", "write"), "no reservation")
    A.close()


def case_resv_ptpl_set(a):
    """With a state file: RESCAP PTPL, CPTPL=3 persists, Get Features 83h, PTPLS."""
    A = Host(a, HOSTID_A, "A")
    check(resv_identify(A, True) & 1 == 0, "PTPL set before any Register asked for it")
    expect_st(A.register(0, 0xA1, cptpl=3), 0, "Register with CPTPL 3 (persist)")
    expect_st(A.acquire(0xA1, 0, WE), 0, "A acquires WE")
    check(resv_identify(A, True) & 1 == 1, "Get Features 83h: PTPL clear after CPTPL 3")
    r = A.report()
    check(r["ptpls"] & 1 == 1, "Report PTPLS %d after CPTPL 3" % r["ptpls"])
    A.close()


def case_resv_ptpl_check(a):
    """After a restart: A's registration (by host ID) and reservation are back."""
    B = Host(a, HOSTID_B, "B")
    r = B.report()
    check(r["regctl"] == 1 and r["rtype"] == WE and r["regs"].get(HOSTID_A) == (0xA1, 1, 0xFFFF),
          "after the restart, the report: %r" % r)
    check(r["ptpls"] & 1 == 1, "PTPLS after the restart")
    expect_io(B, ("read",), "WE restored, another host")
    A = Host(a, HOSTID_A, "A")
    expect_io(A, ("read", "write"), "WE restored, the holder (same host ID)")
    expect_st(A.register(0xA1, 0, rrega=1, cptpl=2), 0, "A unregisters and clears PTPL")
    check(resv_identify(A, True) & 1 == 0, "Get Features 83h: PTPL set after CPTPL 2")
    r = A.report()
    check(r["regctl"] == 0 and r["rtype"] == 0, "after unregistering: %r" % r)
    A.close()
    B.close()


CASES.update({"resv": case_resv, "resv-bad": case_resv_bad, "resv-preempt": case_resv_preempt,
              "resv-two-ns": case_resv_two_ns, "resv-empty": case_resv_empty,
              "resv-stress": case_resv_stress, "resv-zero-hostid": case_resv_zero_hostid,
              "resv-ptpl-set": case_resv_ptpl_set, "resv-ptpl-check": case_resv_ptpl_check})


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
    p.add_argument("--ptpl", action="store_true",
                   help="the LUN keeps a reservation state file (RESCAP PTPL expected)")
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
