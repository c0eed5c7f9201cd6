#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A TCP relay between an iSCSI initiator and a target that reads the PDUs going through:
it logs the keys of the login, then follows every PDU in both directions with the digests
negotiated, checking each header and data digest. It proves what was negotiated and used on
the wire by initiators that do not say (libiscsi tools, qemu-img).

  tap.py --listen PORT --to HOST:PORT --log FILE

The log gets one line per connection and direction at its end, e.g.
  conn 1 keys HeaderDigest=CRC32C DataDigest=None (offered CRC32C,None, None)
  conn 1 i->t 37 PDUs, 12 with data, header digests 37 ok, data digests 0 ok, 0 bad
  conn 1 t->i 40 PDUs, ...
and "conn N ERROR ..." when a stream cannot be parsed or a digest is wrong. Ends on SIGTERM.
"""

import argparse
import os
import select
import signal
import socket
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pdu import decode_keys, digest_bytes, pad4  # noqa: E402


class Stream:
    """One direction of one connection: parses PDUs out of the bytes relayed."""

    def __init__(self, name, conn):
        self.name = name
        self.conn = conn
        self.buf = bytearray()
        self.pdus = self.with_data = self.hd_ok = self.dd_ok = self.bad = 0
        self.error = None

    def feed(self, data):
        if self.error:
            return
        self.buf += data
        try:
            while self._one():
                pass
        except ValueError as e:
            self.error = str(e)

    def _one(self):
        c = self.conn
        b = self.buf
        if len(b) < 48:
            return False
        hd = c.hdigest if c.ffp else False
        dd = c.ddigest if c.ffp else False
        ahs = b[4] * 4
        dsl = int.from_bytes(b[5:8], "big")
        hlen = 48 + ahs
        total = hlen + (4 if hd else 0) + dsl + pad4(dsl) + (4 if dd and dsl else 0)
        if len(b) < total:
            return False
        pos = hlen
        if hd:
            if b[pos:pos + 4] == digest_bytes(bytes(b[:hlen])):
                self.hd_ok += 1
            else:
                self.bad += 1
            pos += 4
        seg = bytes(b[pos:pos + dsl + pad4(dsl)])
        pos += len(seg)
        if dsl and dd:
            if b[pos:pos + 4] == digest_bytes(seg):
                self.dd_ok += 1
            else:
                self.bad += 1
            pos += 4
        op = b[0] & 0x3F
        self.pdus += 1
        if dsl:
            self.with_data += 1
        if not c.ffp and op in (0x03, 0x23):
            c.login_pdu(op, bytes(b[:48]), seg[:dsl])
        del b[:total]
        return True

    def summary(self):
        return ("%s %d PDUs, %d with data, header digests %d ok, data digests %d ok, %d bad"
                % (self.name, self.pdus, self.with_data, self.hd_ok, self.dd_ok, self.bad))


class Conn:
    def __init__(self, n, log):
        self.n = n
        self.log = log
        self.ffp = False
        self.hdigest = self.ddigest = False
        self.keys = {}
        self.offered = {}
        self.i2t = Stream("i->t", self)
        self.t2i = Stream("t->i", self)

    def login_pdu(self, op, bhs, data):
        for k, v in decode_keys(data):
            if op == 0x23 or k not in self.keys:
                self.keys[k] = v
            if op == 0x03:
                self.offered.setdefault(k, v)
        # a Login Response with T=1, NSG=3 and status 0 ends the login phase
        if op == 0x23 and bhs[1] & 0x80 and bhs[1] & 3 == 3 and bhs[36] == 0:
            self.ffp = True
            self.hdigest = self.keys.get("HeaderDigest") == "CRC32C"
            self.ddigest = self.keys.get("DataDigest") == "CRC32C"
            self.log("conn %d keys HeaderDigest=%s DataDigest=%s (offered %s, %s)" % (
                self.n, self.keys.get("HeaderDigest", "None"),
                self.keys.get("DataDigest", "None"), self.offered.get("HeaderDigest", "-"),
                self.offered.get("DataDigest", "-")))

    def finish(self):
        for s in (self.i2t, self.t2i):
            self.log("conn %d %s" % (self.n, s.summary()))
            if s.error:
                self.log("conn %d ERROR %s: %s" % (self.n, s.name, s.error))
            if s.bad:
                self.log("conn %d ERROR %s: %d digest errors" % (self.n, s.name, s.bad))


def relay(n, client, target, log):
    c = Conn(n, log)
    try:
        server = socket.create_connection(target)
    except OSError as e:
        log("conn %d ERROR cannot reach the target: %s" % (n, e))
        client.close()
        return
    pairs = {client: (server, c.i2t), server: (client, c.t2i)}
    try:
        while True:
            r, _, _ = select.select(list(pairs), [], [])
            for s in r:
                try:
                    data = s.recv(1 << 20)
                except OSError:
                    data = b""
                if not data:
                    return
                other, stream = pairs[s]
                stream.feed(data)
                other.sendall(data)
    except OSError:
        pass
    finally:
        c.finish()
        client.close()
        server.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--listen", type=int, required=True)
    ap.add_argument("--to", required=True)
    ap.add_argument("--log", required=True)
    a = ap.parse_args()
    host, _, port = a.to.rpartition(":")
    target = (host.strip("[]"), int(port))
    lock = threading.Lock()
    logf = open(a.log, "a", buffering=1)

    def log(line):
        with lock:
            logf.write(line + "\n")

    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", a.listen))
    ls.listen(16)
    n = 0
    while True:
        client, _ = ls.accept()
        n += 1
        threading.Thread(target=relay, args=(n, client, target, log), daemon=True).start()


if __name__ == "__main__":
    main()
