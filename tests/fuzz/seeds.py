#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Writes the seed corpora of the fuzz harnesses: tests/fuzz/corpus/<harness>/<name>.

  seeds.py [OUTDIR]     (default: the corpus/ folder next to this file)

The seeds are real inputs in each harness's format (see the comment at the top of each
tests/fuzz/<harness>_fuzz.c): login key sets, CHAP exchanges with correct responses for the
harness's fixed challenges, PDU streams built with tests/tools/pdu.py, CDBs with their parameter
lists, the configuration example of docs/configuration.md, control socket requests of
docs/cli.md, and a target's answers to libtether (logins, identity data, I/O, events). Files are named after what they hold; running it again rewrites them.
"""
import hashlib
import json
import os
import re
import struct
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "tests", "tools"))
import pdu as P  # noqa: E402

INI = "iqn.1994-05.com.redhat:host1"
TGT = "iqn.2026-11.org.tether:default"
SEP = b"\xff"


def keys(*pairs):
    return b"".join(("%s=%s" % kv).encode() + b"\0" for kv in pairs)


# ---- text_keys: flags, chunk, stages (2 bits per request), requests separated by 0xff ----
SEC = [("InitiatorName", INI), ("TargetName", TGT), ("SessionType", "Normal"),
       ("AuthMethod", "None")]
OPS = [("HeaderDigest", "None,CRC32C"), ("DataDigest", "CRC32C,None"),
       ("MaxRecvDataSegmentLength", "262144"), ("MaxBurstLength", "1048576"),
       ("FirstBurstLength", "262144"), ("InitialR2T", "No"), ("ImmediateData", "Yes"),
       ("MaxOutstandingR2T", "1"), ("MaxConnections", "1"), ("ErrorRecoveryLevel", "0"),
       ("DefaultTime2Wait", "2"), ("DefaultTime2Retain", "0"), ("DataPDUInOrder", "Yes"),
       ("DataSequenceInOrder", "Yes")]


def text_keys():
    def st(*stages):  # stage codes 0 security, 1 operational, 3 full feature
        v = 0
        for i, s in enumerate(stages):
            v |= s << (2 * i)
        return bytes([v])
    c = {}
    c["leading_sec_then_op"] = b"\x04\x00" + st(0, 1) + keys(*SEC) + SEP + keys(*OPS)
    c["leading_all_in_op"] = b"\x04\x00" + st(1) + keys(*SEC, *OPS)
    c["chunked_7"] = b"\x04\x07" + st(0, 1) + keys(*SEC) + SEP + keys(*OPS)
    c["discovery"] = b"\x0c\x00" + st(0, 1) + keys(
        ("InitiatorName", INI), ("SessionType", "Discovery"), ("AuthMethod", "None")) + SEP + keys(
        ("HeaderDigest", "None"), ("DataDigest", "None"), ("MaxRecvDataSegmentLength", "65536"))
    c["chap_offer"] = b"\x14\x00" + st(0) + keys(
        ("InitiatorName", INI), ("TargetName", TGT), ("AuthMethod", "CHAP,None"))
    c["policy_offers"] = b"\x84\x00" + st(0, 1, 1) + keys(*SEC) + SEP + keys(
        ("HeaderDigest", "CRC32C")) + SEP + keys(("MaxBurstLength", "65536"),
                                                  ("FirstBurstLength", "8192"))
    c["iser"] = b"\x24\x00" + st(1) + keys(*SEC, ("RDMAExtensions", "Yes"),
                                           ("TargetRecvDataSegmentLength", "262144"),
                                           ("InitiatorRecvDataSegmentLength", "262144"),
                                           ("MaxOutstandingUnexpectedPDUs", "0"))
    c["non_leading"] = b"\x00\x00" + st(1) + keys(("InitiatorName", INI), ("TargetName", TGT),
                                                  ("HeaderDigest", "None"),
                                                  ("MaxRecvDataSegmentLength", "8192"),
                                                  ("MaxBurstLength", "262144"))
    c["ffp_sendtargets"] = b"\x00\x00" + st(3) + keys(("SendTargets", "All"))
    c["ffp_renegotiate"] = b"\x00\x00" + st(3) + keys(("MaxRecvDataSegmentLength", "16384"))
    c["markers_and_x"] = b"\x04\x00" + st(1) + keys(*SEC, ("OFMarker", "No"), ("IFMarker", "No"),
                                                    ("OFMarkInt", "2048~8192"),
                                                    ("X-com.example.foo", "bar"),
                                                    ("X#vendor", "1"), ("Unknown", "x"))
    c["values"] = b"\x04\x00" + st(1) + keys(*SEC, ("MaxBurstLength", "0x10000"),
                                             ("FirstBurstLength", "0b AAEAAA=="),
                                             ("DefaultTime2Wait", "0b"),
                                             ("MaxConnections", "Reject"),
                                             ("TaskReporting", "ResponseFence,RFC3720"),
                                             ("iSCSIProtocolLevel", "2"),
                                             ("TargetAlias", "x"))
    c["duplicate"] = b"\x04\x00" + st(0) + keys(*SEC, ("InitiatorName", INI))
    c["continued_pair"] = b"\x04\x05" + st(0) + b"InitiatorName=" + INI.encode() + \
        b"\0TargetName=" + TGT.encode() + b"\0\0\0"
    c["initiator_answers"] = b"\x44\x00" + st(0, 1) + keys(
        ("TargetPortalGroupTag", "1"), ("AuthMethod", "None")) + SEP + keys(
        ("HeaderDigest", "None"), ("DataDigest", "None"), ("MaxRecvDataSegmentLength", "262144"),
        ("MaxBurstLength", "262144"), ("FirstBurstLength", "65536"), ("InitialR2T", "Yes"),
        ("ImmediateData", "Yes"), ("MaxConnections", "1"), ("ErrorRecoveryLevel", "0"))
    c["initiator_target_offer"] = b"\xc4\x00" + st(1) + keys(
        ("HeaderDigest", "CRC32C"), ("MaxRecvDataSegmentLength", "4096"),
        ("MaxOutstandingR2T", "4"), ("DefaultTime2Retain", "0"), ("TargetAlias", "disk0"))
    return c


# ---- chap: flags, messages separated by 0xff; challenges are 0, 1, 2, ... -------------------
INI_SECRET = b"initiatorsecret1"
TGT_SECRET = b"targetsecret123"
HASH = {5: hashlib.md5, 6: hashlib.sha1, 7: hashlib.sha256, 8: hashlib.sha3_256}


def chap_resp(alg, ident, secret, challenge):
    return HASH[alg](bytes([ident]) + secret + challenge).hexdigest()


def our_challenge(alg):
    """What the harness's RAND_bytes gives the first challenge: CHAP_I 0, then 1, 2, ..."""
    n = max(16, HASH[alg]().digest_size)
    return 0, bytes(range(1, n + 1))


def chap():
    c = {}
    for alg, flag in ((5, 0x04), (7, 0x10), (6, 0x08), (8, 0x20)):
        i, ch = our_challenge(alg)
        r = chap_resp(alg, i, INI_SECRET, ch)
        name = {5: "md5", 6: "sha1", 7: "sha256", 8: "sha3"}[alg]
        c["target_" + name] = bytes([flag]) + keys(("CHAP_A", str(alg))) + SEP + keys(
            ("CHAP_N", INI), ("CHAP_R", "0x" + r))
        # mutual: the initiator's challenge to the target as well
        c["target_mutual_" + name] = bytes([flag | 2]) + keys(("CHAP_A", str(alg))) + SEP + keys(
            ("CHAP_N", INI), ("CHAP_R", "0x" + r), ("CHAP_I", "7"),
            ("CHAP_C", "0x" + "a5" * 16))
    c["target_default_algs"] = b"\x00" + keys(("CHAP_A", "8,7,6,5"))
    c["target_wrong_response"] = b"\x04" + keys(("CHAP_A", "5")) + SEP + keys(
        ("CHAP_N", INI), ("CHAP_R", "0x" + "00" * 16))
    c["target_base64"] = b"\x04" + keys(("CHAP_A", "5")) + SEP + keys(
        ("CHAP_N", INI), ("CHAP_R", "0bAAAAAAAAAAAAAAAAAAAAAA=="))
    c["target_reflected"] = b"\x06" + keys(("CHAP_A", "5")) + SEP + keys(
        ("CHAP_N", INI), ("CHAP_R", "0x" + "00" * 16), ("CHAP_I", "0"),
        ("CHAP_C", "0x" + bytes(range(1, 17)).hex()))
    # initiator role: the target chooses, challenges, and (mutual) answers ours
    for alg, flag in ((5, 0x04), (7, 0x10)):
        name = {5: "md5", 7: "sha256"}[alg]
        c["initiator_" + name] = bytes([flag | 1]) + keys(
            ("CHAP_A", str(alg)), ("CHAP_I", "3"), ("CHAP_C", "0x" + "5a" * 16))
        i, ch = our_challenge(alg)
        c["initiator_mutual_" + name] = bytes([flag | 3]) + keys(
            ("CHAP_A", str(alg)), ("CHAP_I", "3"), ("CHAP_C", "0x" + "5a" * 16)) + SEP + keys(
            ("CHAP_N", TGT), ("CHAP_R", "0x" + chap_resp(alg, i, TGT_SECRET, ch)))
    return c


# ---- pdu_stream: piece size, then the initiator's bytes ------------------------------------
ISID = bytes([0x80, 0x00, 0x02, 0x3d, 0x00, 0x01])
WIRE = types.SimpleNamespace(hdigest=False, ddigest=False)


def enc(*pdus):
    return b"".join(P.Conn.encode(WIRE, p) for p in pdus)


# what the harness's target would otherwise offer itself (and wait for the answers)
SESSION_KEYS = [("ImmediateData", "Yes"), ("InitialR2T", "No"), ("MaxBurstLength", "65536"),
                ("FirstBurstLength", "16384"), ("MaxOutstandingR2T", "2")]


def login_normal(cmdsn=1, digest="None"):
    return P.login_req(ISID, 0, 0, 0, cmdsn, 0, 1, 3, True, [
        ("InitiatorName", INI), ("TargetName", TGT), ("SessionType", "Normal"),
        ("HeaderDigest", digest), ("DataDigest", digest),
        ("MaxRecvDataSegmentLength", "65536"), *SESSION_KEYS])


def cdb10(op, lba, n, flags=0):
    return bytes([op, flags]) + struct.pack(">IBHB", lba, 0, n, 0)


def pdu_stream():
    c = {}
    sec = P.login_req(ISID, 0, 0, 0, 1, 0, 0, 1, True, [
        ("InitiatorName", INI), ("TargetName", TGT), ("SessionType", "Normal"),
        ("AuthMethod", "None")])
    op = P.login_req(ISID, 0, 1, 0, 1, 1, 1, 3, True, [
        ("HeaderDigest", "None"), ("DataDigest", "None"), ("MaxRecvDataSegmentLength", "65536"),
        *SESSION_KEYS])
    c["login_two_steps"] = b"\x00" + enc(sec, op, P.logout_req(2, 1, 2))
    c["login_logout"] = b"\x00" + enc(login_normal(), P.logout_req(1, 1, 1))
    io = [login_normal(),
          P.scsi_cmd(1, 1, 1, P.cdb_inquiry(96), edtl=96, read=True),
          P.scsi_cmd(2, 2, 1, P.cdb_read_capacity16(32), edtl=32, read=True),
          P.scsi_cmd(3, 3, 1, cdb10(0x2a, 0, 1), edtl=512, write=True, data=b"\xab" * 512),
          P.scsi_cmd(4, 4, 1, cdb10(0x28, 0, 1), edtl=512, read=True),
          P.scsi_cmd(5, 5, 1, bytes([0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 64, 0, 0]), edtl=64,
                     read=True),
          P.nop_out(6, 6, 1, data=b"ping"),
          P.logout_req(7, 6, 1)]
    c["login_io_logout"] = b"\x00" + enc(*io)
    c["login_io_pieces_32"] = b"\x02" + enc(*io)
    # a write past the first burst: the rest comes with Data-Out after an R2T (TTT: conn 1 ^ itt)
    ttt = (1 << 16) ^ 5
    c["write_r2t"] = b"\x00" + enc(
        login_normal(),
        P.scsi_cmd(5, 1, 1, cdb10(0x2a, 8, 64), edtl=32768, write=True, data=b"\x11" * 8192),
        P.data_out(5, P.RSVD, 1, 0, 8192, b"\x22" * 8192, True),
        P.data_out(5, ttt, 1, 0, 16384, b"\x33" * 8192, False),
        P.data_out(5, ttt, 1, 1, 24576, b"\x44" * 8192, True),
        P.logout_req(6, 2, 1))
    c["text_sendtargets"] = b"\x00" + enc(login_normal(), P.text_req(1, 1, 1, [("SendTargets", "All")]),
                                          P.logout_req(2, 1, 2))
    disc = P.login_req(ISID, 0, 0, 0, 1, 0, 1, 3, True, [
        ("InitiatorName", INI), ("SessionType", "Discovery"),
        ("HeaderDigest", "None"), ("DataDigest", "None")])
    c["discovery"] = b"\x00" + enc(disc, P.text_req(1, 1, 1, [("SendTargets", "All")]),
                                   P.logout_req(2, 1, 2))
    c["tmf"] = b"\x00" + enc(login_normal(),
                             P.scsi_cmd(1, 1, 1, cdb10(0x28, 0, 8), edtl=4096, read=True),
                             P.tmf_req(2, 2, 1, 1, rtt=1, refcmdsn=1),
                             P.tmf_req(3, 2, 1, 5),
                             P.logout_req(4, 2, 1))
    c["bad_opcode_before_login"] = b"\x00" + enc(P.nop_out(1, 1, 0))
    c["reject_snack"] = b"\x00" + enc(login_normal(), P.Pdu(P.SNACK_REQ, 0x80, False))
    # header digests on: every PDU after the login carries a CRC32C
    hd = login_normal(digest="CRC32C")
    dig = types.SimpleNamespace(hdigest=True, ddigest=True)
    c["digests"] = b"\x00" + enc(hd) + P.Conn.encode(
        dig, P.scsi_cmd(1, 1, 1, P.cdb_inquiry(36), edtl=36, read=True)) + P.Conn.encode(
        dig, P.nop_out(2, 2, 1, data=b"abcd")) + P.Conn.encode(dig, P.logout_req(3, 2, 1))
    return c


# ---- scsi_cdb: header, then [flags, len-6, CDB, edtl (be16), Data-Out] ---------------------
R, W = 1, 2


def cmd(cdb, edtl=0, flags=None, data=b"", nexus2=False):
    if flags is None:
        flags = W if data else (R if edtl else 0)
    if nexus2:
        flags |= 4
    data = data + bytes(max(0, edtl - len(data))) if flags & W else b""
    return bytes([flags, len(cdb) - 6]) + cdb + struct.pack(">H", edtl) + data


def cdb16(op, lba, n, flags=0, b14=0):
    return bytes([op, flags]) + struct.pack(">QIBB", lba, n, b14, 0)


def scsi_cdb():
    c = {}
    inq = lambda evpd, page, n=255: bytes([0x12, evpd, page]) + struct.pack(">HB", n, 0)
    c["inquiry_std"] = b"\x00" + cmd(inq(0, 0), 255)
    c["inquiry_vpd"] = b"\x00" + b"".join(cmd(inq(1, p), 255)
                                          for p in (0x00, 0x80, 0x83, 0x86, 0xb0, 0xb1, 0xb2))
    c["ua_first"] = b"\x01" + cmd(bytes(6)) + cmd(bytes([0x03, 0, 0, 0, 252, 0]), 252)
    c["read_capacity"] = b"\x00" + cmd(bytes([0x25]) + bytes(9), 8) + \
        cmd(bytes([0x9e, 0x10]) + bytes(8) + struct.pack(">I", 32) + bytes(2), 32)
    c["write_read_10"] = b"\x00" + cmd(cdb10(0x2a, 0, 2), 1024, data=b"\x5a" * 1024) + \
        cmd(cdb10(0x28, 0, 2), 1024)
    c["write_read_16_4k"] = b"\x04" + cmd(cdb16(0x8a, 1, 1), 4096, data=b"\x11" * 4096) + \
        cmd(cdb16(0x88, 1, 1), 4096)
    c["read_overflow"] = b"\x00" + cmd(cdb10(0x28, 0, 8), 512)
    c["read_past_end"] = b"\x00" + cmd(cdb10(0x28, 2047, 2), 1024)
    c["mode_sense"] = b"\x00" + cmd(bytes([0x1a, 0, 0x3f, 0, 255, 0]), 255) + \
        cmd(bytes([0x5a, 0, 0x3f, 0xff, 0, 0, 0, 0x10, 0, 0]), 4096) + \
        cmd(bytes([0x1a, 0x08, 0x08, 0, 255, 0]), 255)
    caching = bytes([0x08, 0x12, 0x04]) + bytes(17)  # WCE off
    control = bytes([0x0a, 0x0a, 0x04]) + bytes(9)   # D_SENSE on
    sel = bytes(8) + caching + control
    c["mode_select_10"] = b"\x00" + cmd(bytes([0x55, 0x10, 0, 0, 0, 0, 0, 0, len(sel), 0]),
                                        len(sel), data=sel) + cmd(cdb10(0x28, 0, 300), 512)
    sel6 = bytes(4) + caching
    c["mode_select_6"] = b"\x00" + cmd(bytes([0x15, 0x10, 0, 0, len(sel6), 0]), len(sel6),
                                       data=sel6)
    unmap = struct.pack(">HH4x", 22, 16) + struct.pack(">QI4x", 0, 8)
    c["unmap"] = b"\x00" + cmd(bytes([0x42, 0, 0, 0, 0, 0, 0]) + struct.pack(">H", len(unmap))
                               + b"\0", len(unmap), data=unmap) + \
        cmd(bytes([0x9e, 0x12]) + struct.pack(">Q", 0) + struct.pack(">I", 64) + bytes(2), 64)
    c["write_same"] = b"\x00" + cmd(cdb16(0x93, 0, 16, flags=0x08), 512, data=b"\0" * 512) + \
        cmd(cdb10(0x41, 16, 4), 512, data=b"\x77" * 512)
    caw = b"\0" * 512 + b"\x99" * 512
    c["compare_and_write"] = b"\x00" + cmd(bytes([0x89, 0]) + struct.pack(">Q", 0) +
                                           bytes([0, 0, 0, 1, 0, 0]), 1024, data=caw)
    c["verify_and_write_verify"] = b"\x00" + cmd(cdb10(0x2e, 0, 1, flags=0x02), 512,
                                                 data=b"\x01" * 512) + \
        cmd(cdb10(0x2f, 0, 1, flags=0x02), 512, data=b"\x01" * 512, flags=W)
    c["sync_cache_tur_start_stop"] = b"\x00" + cmd(cdb10(0x35, 0, 0)) + cmd(bytes(6)) + \
        cmd(bytes([0x1b, 0, 0, 0, 1, 0])) + cmd(bytes([0x1e, 0, 0, 0, 1, 0]))
    c["report_luns_and_opcodes"] = b"\x00" + cmd(bytes([0xa0, 0, 0, 0, 0, 0]) +
                                                 struct.pack(">I", 256) + bytes(2), 256) + \
        cmd(bytes([0xa3, 0x0c, 0, 0, 0, 0]) + struct.pack(">I", 4096) + bytes(2), 4096) + \
        cmd(bytes([0xa3, 0x0c, 0x01, 0x28, 0, 0]) + struct.pack(">I", 64) + bytes(2), 64) + \
        cmd(bytes([0xa3, 0x0d, 0, 0, 0, 0]) + struct.pack(">I", 16) + bytes(2), 16) + \
        cmd(bytes([0xa3, 0x0a, 0, 0, 0, 0]) + struct.pack(">I", 1024) + bytes(2), 1024)

    def prout(sa, typ, key, sakey, flags=0, nexus2=False):
        pl = struct.pack(">QQ4xB3x", key, sakey, flags)
        return cmd(bytes([0x5f, sa, typ, 0, 0]) + struct.pack(">I", len(pl)) + b"\0", len(pl),
                   data=pl, nexus2=nexus2)

    def prin(sa):
        return cmd(bytes([0x5e, sa, 0, 0, 0, 0, 0, 0x04, 0, 0]), 1024)
    c["persistent_reservations"] = b"\x00" + prout(0, 0, 0, 0xabc) + prout(1, 3, 0xabc, 0) + \
        prin(0) + prin(1) + prin(2) + prin(3) + \
        cmd(cdb10(0x2a, 0, 1), 512, data=b"\1" * 512, nexus2=True) + \
        prout(0, 0, 0, 0xdef, nexus2=True) + prout(2, 3, 0xabc, 0)
    c["pr_preempt"] = b"\x00" + prout(0, 0, 0, 1) + prout(1, 5, 1, 0) + \
        prout(0, 0, 0, 2, nexus2=True) + prout(4, 5, 2, 1, nexus2=True) + prin(1)
    c["reserve_release_6"] = b"\x00" + cmd(bytes([0x16, 0, 0, 0, 0, 0])) + \
        cmd(cdb10(0x28, 0, 1), 512, nexus2=True) + cmd(bytes([0x17, 0, 0, 0, 0, 0]))
    # EXTENDED COPY (LID1): two NAA designators, one block-to-block segment
    tdesc = bytes([0xe4, 0, 0, 0, 0x01, 0x03, 0, 0x10]) + bytes([0x60]) + bytes(15) + bytes(
        [0, 0, 0, 0, 0, 0, 0x02, 0])
    seg = bytes([0x02, 0, 0, 0x18, 0, 0, 0, 1]) + struct.pack(">HxxQQ", 4, 0, 100)
    xpl = bytes([0, 0, 0, 0, 0, 0]) + struct.pack(">H", 2 * len(tdesc)) + bytes(4) + \
        struct.pack(">I", len(seg)) + tdesc + tdesc + seg
    c["extended_copy"] = b"\x00" + cmd(bytes([0x83, 0, 0, 0, 0, 0, 0, 0, 0, 0]) +
                                       struct.pack(">I", len(xpl)) + bytes(2), len(xpl),
                                       data=xpl) + \
        cmd(bytes([0x84, 0x03]) + bytes(8) + struct.pack(">I", 64) + bytes(2), 64)
    c["report_set_tpg"] = b"\x00" + cmd(bytes([0xa3, 0x0a, 0, 0, 0, 0]) +
                                        struct.pack(">I", 256) + bytes(2), 256) + \
        cmd(bytes([0xa4, 0x0a, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0]), 8,
            data=bytes([0, 0, 0, 0, 0x01, 0, 0, 1]))
    c["get_lba_status_sanitize"] = b"\x00" + cmd(bytes([0x9e, 0x12]) + struct.pack(">Q", 0) +
                                                 struct.pack(">I", 32) + bytes(2), 32) + \
        cmd(bytes([0x48, 0x03, 0, 0, 0, 0, 0, 0, 0, 0]))
    c["format_unit"] = b"\x00" + cmd(bytes([0x04, 0, 0, 0, 0, 0]))
    c["request_sense_log_sense"] = b"\x00" + cmd(bytes([0x03, 0x01, 0, 0, 252, 0]), 252) + \
        cmd(bytes([0x4d, 0, 0x40, 0, 0, 0, 0, 1, 0, 0]), 256)
    c["write_protected"] = b"\x02" + cmd(cdb10(0x2a, 0, 1), 512, data=b"\1" * 512)
    c["no_such_lun"] = b"\x00" + bytes([0x08 | R, 0]) + inq(0, 0) + struct.pack(">H", 255) + \
        bytes([0x08, 4]) + cdb10(0x28, 0, 1) + struct.pack(">H", 512)
    c["direction_mismatch"] = b"\x00" + cmd(cdb10(0x28, 0, 1), 512, flags=W) + \
        cmd(cdb10(0x2a, 0, 1), 512, flags=R)
    return c


# ---- config_json: the file ------------------------------------------------------------------
def config_json():
    c = {}
    doc = open(os.path.join(TOP, "docs", "configuration.md"), encoding="utf-8").read()
    for i, block in enumerate(re.findall(r"```json\n(.*?)```", doc, re.S)):
        c["docs_example_%d" % i] = block.encode()
    c["minimal"] = json.dumps({"targets": [{"name": TGT, "tpgs": [{"tag": 1, "portals": [
        "127.0.0.1:3260"]}], "luns": [{"id": 0, "backend": "ram:1G"}]}]}).encode()
    c["acls_chap"] = json.dumps({"targets": [{"name": TGT, "tpgs": [{"tag": 1, "auth": "chap",
        "portals": ["[::1]:3260", "iser://10.0.0.1"]}], "luns": [
        {"id": 0, "backend": "file:/tmp/x.img,size=1G", "vendor": "V", "product": "P",
         "serial": "s1", "write_protect": True}],
        "acls": [{"initiator": INI, "chap": {"user": "u", "secret": "0123456789ab"},
                  "mutual_chap": {"user": "t", "secret": "ba9876543210"}}]}]}).encode()
    c["global_only"] = json.dumps({"global": {"loops": 2, "log_level": "debug",
                                              "debug": ["iscsi", "scsi"]}}).encode()
    c["errors"] = b'{"targets": [{"name": "bad name", "tpgs": [{"tag": 0}], "luns": [{"id": -1}]}]}'
    return c


# ---- rpc_json: one request line -------------------------------------------------------------
def rpc_json():
    def req(i, method, params=None, **kw):
        r = {"jsonrpc": "2.0", "id": i, "method": method}
        if params is not None:
            r["params"] = params
        r.update(kw)
        return r
    T = "iqn.2026-11.org.tether:disk1"
    c = {}
    doc = open(os.path.join(TOP, "docs", "cli.md"), encoding="utf-8").read()
    for i, line in enumerate(re.findall(r"'(\{\"jsonrpc\".*?\})'", doc)):
        c["docs_example_%d" % i] = line.encode()
    setup = [req(1, "target_create", {"name": T, "alias": "disk1"}),
             req(2, "tpg_create", {"target": T, "tag": 1, "nop_interval": 2,
                                   "allow_any_initiator": False}),
             req(3, "lun_add", {"target": T, "id": 0, "backend": "ram:1M"}),
             req(4, "acl_add", {"target": T, "initiator": INI,
                                "chap": {"user": "u", "secret": "0123456789ab"}}),
             req(5, "alua_set", {"target": T, "tag": 1, "state": "standby"}),
             req(6, "target_list"), req(7, "alua_list", {"target": T}),
             req(8, "session_list"), req(9, "config_dump"), req(10, "portal_list", {"target": T}),
             req(11, "lun_remove", {"target": T, "id": 0}),
             req(12, "acl_remove", {"target": T, "initiator": INI}),
             req(13, "tpg_delete", {"target": T, "tag": 1}),
             req(14, "target_delete", {"name": T})]
    c["batch_lifecycle"] = json.dumps(setup).encode()
    c["target_create_full"] = json.dumps(req(1, "target_create", {
        "name": T, "tpgs": [{"tag": 1, "portals": []}],
        "luns": [{"id": 0, "backend": "null:1G"}], "acls": [{"initiator": INI}]})).encode()
    c["rpc_methods"] = json.dumps(req("a", "rpc_methods")).encode()
    c["notification"] = json.dumps({"jsonrpc": "2.0", "method": "target_list"}).encode()
    c["unknown_method"] = json.dumps(req(1, "no_such_method")).encode()
    c["bad_params"] = json.dumps(req(1, "lun_add", {"target": T, "id": "zero"})).encode()
    c["positional_params"] = b'{"jsonrpc":"2.0","id":1,"method":"target_list","params":[1]}'
    c["bad_envelope"] = b'{"jsonrpc":"1.0","id":[],"method":3,"extra":true}'
    c["empty_batch"] = b"[]"
    c["refused_method"] = json.dumps(req(1, "portal_add", {"target": T, "tag": 1,
                                                           "addr": "127.0.0.1:3260"})).encode()
    return c


# ---- initiator_rsp: setup bytes (two for a device), then records (0x00 + a PDU to path 0, 0x01 to path 1, 0x6N an
# I/O, 0x9N the target drops a connection); discovery: the target's byte stream --------------
class Tgt:
    """A target's side of one session: target PDUs with StatSN counted and a wide window."""

    def __init__(self):
        self.statsn = 0

    def pdu(self, op, flags, b2=0, b3=0, data=b"", itt=0xffffffff, f20=0xffffffff, f36=0,
            f40=0, f44=0, lun=0, isid=None, tsih=0, sn=True):
        h = bytearray(48)
        h[0], h[1], h[2], h[3] = op, flags, b2, b3
        h[5:8] = len(data).to_bytes(3, "big")
        h[8:16] = (isid + tsih.to_bytes(2, "big")) if isid is not None else P.encode_lun(lun)
        struct.pack_into(">IIIIIIII", h, 16, itt, f20, self.statsn, 1, 1000, f36, f40, f44)
        if sn:
            self.statsn += 1
        return bytes(h) + data + bytes(P.pad4(len(data)))

    def login(self, itt, csg, nsg, transit, kv, status=0, cont=False):
        flags = (0x80 if transit else 0) | (0x40 if cont else 0) | csg << 2 | (nsg if transit else 0)
        return self.pdu(0x23, flags, data=keys(*kv), itt=itt, f20=0, f36=status << 16,
                        isid=ISID, tsih=0x10 if transit and nsg == 3 else 0)

    def data_in(self, itt, data, offset=0, status=None, resid=0, datasn=0):
        flags = 0x80 | (0x01 if status is not None else 0) | (0x02 if resid > 0 else 0) | \
            (0x04 if resid < 0 else 0)
        return self.pdu(0x25, flags, b3=status or 0, data=data, itt=itt, f36=datasn, f40=offset,
                        f44=abs(resid), sn=status is not None)

    def rsp(self, itt, status=0, sense=b"", resid=0, response=0):
        data = struct.pack(">H", len(sense)) + sense if sense else b""
        flags = 0x80 | (0x02 if resid > 0 else 0) | (0x04 if resid < 0 else 0)
        return self.pdu(0x21, flags, b2=response, b3=status, data=data, itt=itt, f20=0,
                        f44=abs(resid))

    def r2t(self, itt, ttt, offset, length, r2tsn=0):
        return self.pdu(0x31, 0x80, itt=itt, f20=ttt, f36=r2tsn, f40=offset, f44=length,
                        sn=False)

    def nop_in(self, itt=0xffffffff, ttt=0xffffffff, data=b""):
        return self.pdu(0x20, 0x80, data=data, itt=itt, f20=ttt, sn=itt != 0xffffffff)

    def async_msg(self, event, data=b"", param=0):
        return self.pdu(0x32, 0x80, data=data, f36=event << 24, f40=param << 16)

    def reject(self, reason, bhs):
        return self.pdu(0x3f, 0x80, b2=reason, data=bhs)

    def logout(self, itt, response=0):
        return self.pdu(0x26, 0x80, b2=response, itt=itt, f20=0)

    def tmf(self, itt, response=0):
        return self.pdu(0x22, 0x80, b2=response, itt=itt, f20=0)

    def text(self, itt, kv, final=True, ttt=0xffffffff):
        return self.pdu(0x24, 0x80 if final else 0x40, data=kv, itt=itt, f20=ttt)


IRSP_TGT = "iqn.2026-11.org.tether:fuzz"
IRSP_OPS = [("HeaderDigest", "None"), ("DataDigest", "None"),
            ("MaxRecvDataSegmentLength", "8192"), ("MaxConnections", "1"),
            ("InitialR2T", "No"), ("ImmediateData", "Yes"), ("MaxBurstLength", "65536"),
            ("FirstBurstLength", "4096"), ("DefaultTime2Wait", "2"),
            ("DefaultTime2Retain", "0"), ("MaxOutstandingR2T", "1"),
            ("DataPDUInOrder", "Yes"), ("DataSequenceInOrder", "Yes"),
            ("ErrorRecoveryLevel", "0")]
NAA = bytes([0x60, 0x01, 0x40, 0x5e, 0xaa, 0xbb, 0xcc, 0xdd, 0, 0, 0, 0, 0, 0, 0, 1])


def std_inquiry(tpgs=True, vendor=b"TETHER  "):
    return bytes([0, 0, 6, 2, 31, 0x10 if tpgs else 0, 0, 0x02]) + vendor + \
        b"fuzz disk       " + b"0001"


def vpd83(naa=NAA, rel_port=1, tpg=1):
    d = bytes([0x01, 0x03, 0, len(naa)]) + naa + \
        bytes([0x61, 0x94, 0, 4, 0, 0]) + struct.pack(">H", rel_port) + \
        bytes([0x61, 0x95, 0, 4, 0, 0]) + struct.pack(">H", tpg) + \
        bytes([0x03, 0x08, 0, 12]) + b"iqn.fuzz.lu\0"
    return bytes([0, 0x83]) + struct.pack(">H", len(d)) + d


def capacity16(blocks=2048, bs=512, lbpme=True):
    return struct.pack(">QI", blocks - 1, bs) + bytes([0, 0x80 if lbpme else 0]) + bytes(16)


def block_limits(max_xfer=128):
    """VPD B0h: MAXIMUM TRANSFER LENGTH in blocks at byte 8."""
    d = bytes(4) + struct.pack(">I", max_xfer) + bytes(48)
    return bytes([0, 0xb0]) + struct.pack(">H", len(d)) + d


def rtpg(groups=((0, 1, (1,)),)):
    d = b""
    for state, tpg, ports in groups:
        d += bytes([0x80 | state, 0x8f]) + struct.pack(">H", tpg) + bytes([0, 0, 0, len(ports)])
        d += b"".join(struct.pack(">HH", 0, p) for p in ports)
    return struct.pack(">I", len(d)) + d


def rec(slot, *pdus):
    return b"".join(bytes([slot]) + p for p in pdus)


def io(kind, blocks=1, lba=0, iovs=1):
    return bytes([0x60 | kind | (iovs - 1) << 3, blocks - 1, lba])


def irsp_login(t, slot=0, auth=0, ops=IRSP_OPS, tpgs=True, rtpg_data=None, vpd=None):
    """A whole login and identity check; returns (records, next ITT)."""
    out = b""
    itt = 1
    if auth:
        out += rec(slot, t.login(itt, 0, 0, False, [("AuthMethod", "CHAP"),
                                                    ("TargetPortalGroupTag", "1")]))
        itt += 1
        kv = [("CHAP_A", "5"), ("CHAP_I", "7"), ("CHAP_C", "0x" + "5a" * 16)]
        out += rec(slot, t.login(itt, 0, 0, False, kv))
        itt += 1
        kv = []
        if auth == 2:   # the initiator's challenge is CHAP_I 0, CHAP_C 1..16 (fixed RAND)
            ch = bytes(range(1, 17))
            kv = [("CHAP_N", IRSP_TGT),
                  ("CHAP_R", "0x" + hashlib.md5(b"\0" + b"targetsecret123" + ch).hexdigest())]
        out += rec(slot, t.login(itt, 0, 1, True, kv))
        itt += 1
    else:
        out += rec(slot, t.login(itt, 0, 1, True, [("AuthMethod", "None"),
                                                   ("TargetPortalGroupTag", "1")]))
        itt += 1
    out += rec(slot, t.login(itt, 1, 3, True, ops + [("TargetAlias", "fuzz")]))
    itt += 1
    out += rec(slot, t.data_in(itt, std_inquiry(tpgs), status=0, resid=96 - 36))
    itt += 1
    v = vpd or vpd83()
    out += rec(slot, t.data_in(itt, v, status=0, resid=1024 - len(v)))
    itt += 1
    out += rec(slot, t.data_in(itt, capacity16(), status=0))
    itt += 1
    out += rec(slot, t.data_in(itt, block_limits(), status=0))
    itt += 1
    if tpgs:
        r = rtpg_data or rtpg()
        out += rec(slot, t.data_in(itt, r, status=0, resid=1024 - len(r)))
        itt += 1
    return out, itt


def sense_fixed(key, asc, ascq):
    return bytes([0x70, 0, key, 0, 0, 0, 0, 10, 0, 0, 0, 0, asc, ascq, 0, 0, 0, 0])


def initiator_rsp():
    c = {}
    t = Tgt()
    login, itt = irsp_login(t)
    c["login_only"] = b"\x00" + login
    # a read (two Data-In), a write past FirstBurstLength (an R2T), a flush, NOP-Ins, logout
    t = Tgt()
    login, itt = irsp_login(t)
    rd, wr, fl = itt, itt + 1, itt + 2
    c["login_read_write_flush"] = b"\x00" + login + io(0, 8, 0) + \
        rec(0, t.data_in(rd, b"\x11" * 2048, 0, datasn=0),
            t.data_in(rd, b"\x22" * 2048, 2048, status=0, datasn=1)) + \
        io(1, 16, 8, iovs=3) + rec(0, t.r2t(wr, 0x100, 4096, 4096)) + rec(0, t.rsp(wr)) + \
        io(2) + rec(0, t.rsp(fl)) + \
        rec(0, t.nop_in(ttt=0x2222, data=b"ping"), t.nop_in(), t.async_msg(1), t.logout(fl + 1))
    # check conditions: a unit attention (retried on a new ITT), ALUA transitioning, a
    # medium error, a data-in with the status and an underflow, a residual overflow
    t = Tgt()
    login, itt = irsp_login(t)
    c["sense_retry"] = b"\x00" + login + io(0, 1, 0) + \
        rec(0, t.rsp(itt, 2, sense_fixed(6, 0x29, 0))) + \
        rec(0, t.data_in(itt + 1, b"\x33" * 512, status=0)) + \
        io(0, 2, 4) + rec(0, t.rsp(itt + 2, 2, bytes([0x72, 3, 0x11, 0, 0, 0, 0, 0]))) + \
        io(5, 96, 1) + rec(0, t.data_in(itt + 3, vpd83(), status=0, resid=96 - len(vpd83()))) + \
        io(0, 1, 9) + rec(0, t.rsp(itt + 4, 2, sense_fixed(6, 0x2a, 0x06)))
    # hostile: Data-In for an unknown ITT, beyond the buffer, an R2T past the end
    t = Tgt()
    login, itt = irsp_login(t)
    c["data_in_wrong_offset"] = b"\x00" + login + io(0, 1, 0) + \
        rec(0, t.data_in(itt, b"\x44" * 512, 4096, status=0))
    t = Tgt()
    login, itt = irsp_login(t)
    c["data_in_unknown_itt"] = b"\x00" + login + io(0, 1, 0) + \
        rec(0, t.data_in(itt + 40, b"\x44" * 512, status=0))
    t = Tgt()
    login, itt = irsp_login(t)
    c["r2t_huge"] = b"\x00" + login + io(1, 16, 0) + \
        rec(0, t.r2t(itt, 0x100, 4096, 0xfffff000))
    t = Tgt()
    login, itt = irsp_login(t)
    c["reject_then_async_drop"] = b"\x00" + login + io(7) + \
        rec(0, t.reject(9, bytes(48)), t.async_msg(2, param=1))
    # target events: an asynchronous unit attention (ALUA changed: RTPG is sent again), a
    # transitioning unit, a request to log out
    t = Tgt()
    login, itt = irsp_login(t)
    c["async_alua_change"] = b"\x00" + login + \
        rec(0, t.async_msg(0, struct.pack(">H", 18) + sense_fixed(6, 0x2a, 0x06))) + \
        rec(0, t.data_in(itt, rtpg(((2, 1, (1,)),)), status=0)) + io(0, 1, 0) + \
        rec(0, t.rsp(itt + 1, 2, sense_fixed(2, 0x04, 0x0a))) + \
        rec(0, t.async_msg(1))
    # login variants: CHAP, mutual CHAP, digests, redirection, refusals, a continued response
    t = Tgt()
    c["chap"] = b"\x01" + irsp_login(t, auth=1)[0]
    t = Tgt()
    login, itt = irsp_login(t, auth=2)
    c["chap_mutual"] = b"\x02" + login + io(0, 1, 1) + rec(0, t.data_in(itt, bytes(512), status=0))
    t = Tgt()
    dig = [kv for kv in IRSP_OPS if kv[0] not in ("HeaderDigest", "DataDigest")]
    login, itt = irsp_login(t, ops=[("HeaderDigest", "CRC32C"), ("DataDigest", "CRC32C")] + dig)
    c["digests"] = b"\x0c" + login + io(0, 1, 0) + rec(0, t.data_in(itt, b"\x55" * 512, status=0))
    t = Tgt()
    c["redirect"] = b"\x00" + rec(0, t.login(1, 0, 1, True, [("TargetAddress", "127.0.0.1:3260,1")],
                                              status=0x0101))
    t = Tgt()
    c["auth_failed"] = b"\x01" + rec(0, t.login(1, 0, 0, False, [], status=0x0201))
    for name, st in (("not_found", 0x0203), ("service_unavailable", 0x0301)):
        t = Tgt()
        c["login_" + name] = b"\x00" + rec(0, t.login(1, 0, 1, True, [], status=st))
    t = Tgt()
    c["login_continued"] = b"\x00" + rec(0, t.login(1, 0, 1, False, [("AuthMethod", "None")],
                                                    cont=True)) + \
        rec(0, t.login(2, 0, 1, True, [("TargetPortalGroupTag", "1")]))
    t = Tgt()
    c["no_tpgs_unit"] = b"\x00" + irsp_login(t, tpgs=False)[0]
    # two paths to the same unit; path 1 dies with a write in flight: fenced by a LOGICAL UNIT
    # RESET through path 0, then the write goes out again there
    t0, t1 = Tgt(), Tgt()
    l0, itt0 = irsp_login(t0, 0)
    l1, itt1 = irsp_login(t1, 1)
    c["two_paths_lu_reset"] = b"\x60" + l0 + l1 + io(1, 1, 0) + bytes([0x91]) + bytes([0x80]) + \
        rec(0, t0.tmf(itt0, 0)) + rec(0, t0.rsp(itt0 + 1))
    t0, t1 = Tgt(), Tgt()
    l0, _ = irsp_login(t0, 0)
    l1, _ = irsp_login(t1, 1, vpd=vpd83(naa=bytes(16)))
    c["two_paths_other_unit"] = b"\x40" + l0 + l1
    # discovery: a login, SendTargets in two text responses, a logout
    t = Tgt()
    disc = t.login(1, 0, 1, True, [("AuthMethod", "None")]) + \
        t.login(2, 1, 3, True, [("HeaderDigest", "None"), ("DataDigest", "None"),
                                ("MaxRecvDataSegmentLength", "8192"), ("DefaultTime2Wait", "2"),
                                ("DefaultTime2Retain", "0"), ("ErrorRecoveryLevel", "0")])
    st = keys(("TargetName", IRSP_TGT), ("TargetAddress", "127.0.0.1:3260,1"),
              ("TargetAddress", "[::1]:3260,1"))
    c["discovery"] = b"\x80" + disc + t.text(3, st[:40], final=False, ttt=5) + \
        t.text(4, st[40:]) + t.logout(5)
    c["discovery_bad_text"] = b"\x80" + disc + t.text(3, b"TargetName") + t.logout(4)
    # the parsers: VPD 83h, RTPG (flags, id), sense (status first), URL, options
    c["parsers"] = b"\xc0" + vpd83() + SEP + b"\x03\x00\x01" + rtpg(((1, 1, (1, 2)), (0, 2, (3,)))) + \
        SEP + b"\x02" + sense_fixed(6, 0x2a, 0x06) + SEP + \
        b"iscsi://user%secretsecret1@[::1]:3261/iqn.2026-11.org.tether:fuzz/7" + SEP + \
        b"nop_interval_ms=100\nfence=lu-reset\nselector=queue-depth\npath_loss_timeout_ms=-1\n" \
        b"header_digest=crc32c\nbogus=1\nchap_secret"
    # a device's second setup byte: bit 0, a failed path reconnects (and is never given up)
    reconnect = {"two_paths_lu_reset"}
    return {k: v[:1] + bytes([k in reconnect]) + v[1:] if v[0] >> 6 < 2 else v
            for k, v in c.items()}


# ---- srp_iu: a control byte, then one SRP information unit ----------------------------------
def srp_iu():
    tag = b"\x01\x02\x03\x04\x05\x06\x07\x08"
    ini = bytes(range(0xa0, 0xb0))
    tgt = bytes(range(0x10, 0x20))
    all_fmt = 0x01 | 0x02 | 0x04 | 0x20  # direct, indirect, immediate at 68, 16 descriptors

    def cmd(fmt, out_cnt, in_cnt, add_cdb=b"", cdb=b"\x28" + bytes(15)):
        return (bytes([0x02, 0, 0, 0, 0, fmt, out_cnt, in_cnt]) + tag + bytes(4) +
                b"\x00\x01" + bytes(6) + bytes([0, 0, 0, len(add_cdb)]) + cdb + add_cdb)

    def desc(va, key, n):
        return struct.pack(">QII", va, key, n)

    def indirect(descs):
        return desc(0xdead0000, 9, 16 * len(descs)) + struct.pack(">I", sum(d[2] for d in descs)) + \
            b"".join(desc(*d) for d in descs)

    login = (b"\x00" + bytes(7) + tag + struct.pack(">I", 8260) + bytes(4) +
             struct.pack(">H", 6) + b"\x80\x00" + struct.pack(">H", 68) + bytes(2) + ini + tgt)
    login_rdma = (tag + struct.pack(">H", 6) + b"\x80\x00" + struct.pack(">I", 8260) + ini + tgt +
                  struct.pack(">H", 68) + bytes(6))
    imm = cmd(0x30, 0, 0) + struct.pack(">I", 64)
    imm = imm + bytes(68 - len(imm)) + bytes(range(64))
    c = {
        "login_req": bytes([all_fmt]) + login,
        "login_req_rdma_cm": bytes([0x80 | all_fmt]) + login_rdma,
        "login_req_too_large": bytes([all_fmt]) + login[:16] + struct.pack(">I", 1 << 20) + login[20:],
        "cmd_read_direct": bytes([all_fmt]) + cmd(0x01, 0, 0) + desc(0x1000, 1, 4096),
        "cmd_write_direct_add_cdb": bytes([all_fmt]) + cmd(0x10, 0, 0, add_cdb=bytes(16),
                                                           cdb=b"\x7f" + bytes(15)) +
        desc(0x2000, 2, 512),
        "cmd_read_indirect": bytes([all_fmt]) + cmd(0x02, 0, 3) +
        indirect([(0x1000, 1, 4096), (0x3000, 2, 512), (0x5000, 3, 8192)]),
        "cmd_bidi": bytes([all_fmt]) + cmd(0x12, 0, 2) + desc(0x10, 1, 100) +
        indirect([(0x20, 2, 100), (0x40, 3, 100)]),
        "cmd_write_immediate": bytes([all_fmt]) + imm,
        "cmd_external_table": bytes([all_fmt]) + cmd(0x20, 1, 0) +
        desc(0xdead0000, 9, 64) + struct.pack(">I", 4096) + desc(0x1000, 1, 4096),
        "cmd_no_indirect_granted": bytes([0x01]) + cmd(0x02, 0, 1) + indirect([(0x1000, 1, 512)]),
        "tsk_mgmt_abort_task": bytes([all_fmt]) + b"\x01" + bytes(7) + tag + bytes(4) +
        b"\x00\x01" + bytes(6) + b"\x00\x00\x01\x00" + b"abcdefgh" + bytes(8),
        "tsk_mgmt_lun_reset": bytes([all_fmt]) + b"\x01" + bytes(7) + tag + bytes(4) +
        b"\x00\x01" + bytes(6) + b"\x00\x00\x08\x00" + bytes(16),
        "i_logout": bytes([all_fmt]) + b"\x03" + bytes(7) + tag,
        "cred_rsp": bytes([all_fmt]) + b"\x41" + bytes(7) + tag,
        "aer_rsp": bytes([all_fmt]) + b"\x42" + bytes(7) + tag,
        "unknown_type": bytes([all_fmt]) + b"\x55" + bytes(47),
    }
    return c


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus")
    for name, fn in (("text_keys", text_keys), ("chap", chap), ("pdu_stream", pdu_stream),
                     ("scsi_cdb", scsi_cdb), ("config_json", config_json),
                     ("rpc_json", rpc_json), ("initiator_rsp", initiator_rsp),
                     ("srp_iu", srp_iu)):
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        for f, data in fn().items():
            with open(os.path.join(d, f), "wb") as fh:
                fh.write(data)
        print("%-12s %3d seeds" % (name, len(os.listdir(d))))


if __name__ == "__main__":
    main()
