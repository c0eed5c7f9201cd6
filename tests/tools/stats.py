#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""I/O counters of tetherd, for tests/interop/stats.sh (built on pdu.py).

  stats.py --port P --opt ctl=TETHERCTL --opt sock=SOCKET --opt metrics=HOST:PORT CASE...

Cases:
  exact    two sessions issue a known number of READ(16)/WRITE(16) commands of known sizes,
           a read beyond the capacity and TEST UNIT READYs; `tetherctl stats --json` must
           count them exactly per LUN and per session (commands, bytes, errors by class),
           with sane percentiles; GET /metrics must parse strictly as Prometheus text 0.0.4
           (promtool check metrics too, when installed) and hold the same numbers; other
           paths are 404, other methods 405, HEAD has no body; the table prints.
  off      tetherd runs with --no-stats: I/O leaves every counter at zero.
"""

import json
import math
import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pdu  # noqa: E402
from pdu import CHECK_CONDITION, GOOD, Fail, check  # noqa: E402

CASES = {}


def case(fn):
    CASES[fn.__name__.replace("_", "-")] = fn
    return fn


def say(msg):
    print("    " + msg, flush=True)


def ctl(args, *argv):
    out = subprocess.run([args.opts["ctl"], "-s", args.opts["sock"]] + list(argv),
                         capture_output=True, text=True, timeout=30)
    check(out.returncode == 0, "tetherctl %s: exit %d: %s" % (" ".join(argv), out.returncode,
                                                              out.stderr.strip()))
    return out.stdout


def stats(args):
    return json.loads(ctl(args, "--json", "stats"))


def login(args):
    """A session; TEST UNIT READY until GOOD. Returns (conn, unit attentions seen, TURs sent)."""
    c = pdu.Conn(args.host, args.port)
    c.login(target=args.target)
    uas = turs = 0
    for _ in range(8):
        r = c.scsi(pdu.cdb_tur())
        turs += 1
        if r.status == GOOD:
            return c, uas, turs
        check(r.status == CHECK_CONDITION and r.sense_tuple()[0] == 6, "TUR: %r" % r)
        uas += 1
    raise Fail("unit attentions do not stop")


def isid_hex(c):
    return c.isid.hex()


# ---- a strict reader of the Prometheus text format 0.0.4 -------------------------------------

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\\\|\\"|\\n)*)"'
SAMPLE = re.compile(r"^(%s)(\{(%s(,%s)*)?\})? (\S+)( -?\d+)?$" % (NAME, LABEL, LABEL))
VALUE = re.compile(r"^([+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]Inf|NaN)$")


def unescape(v):
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "\\": "\\", '"': '"'}[m.group(1)], v)


def parse_metrics(text):
    """{family: {"type", "help", "samples": [(name, {labels}, value)]}}; raises Fail on any
    departure from the format."""
    check(text.endswith("\n"), "the text does not end with a line feed")
    fams, order, current = {}, [], None

    def family_of(name):
        for suffix in ("_bucket", "_sum", "_count"):
            base = name[:-len(suffix)]
            if name.endswith(suffix) and base in fams and fams[base]["type"] == "histogram":
                return base
        return name

    for n, line in enumerate(text[:-1].split("\n"), 1):
        where = "line %d %r" % (n, line)
        if line.startswith("#"):
            m = re.match(r"^# (HELP|TYPE) (%s) (.*)$" % NAME, line)
            if not m:
                check(not line.startswith("# HELP") and not line.startswith("# TYPE"),
                      "malformed " + where)
                continue
            kind, name, rest = m.groups()
            f = fams.setdefault(name, {"type": None, "help": None, "samples": []})
            check(not f["samples"], "%s after the family's samples: %s" % (kind, where))
            if kind == "TYPE":
                check(f["type"] is None, "second TYPE: " + where)
                check(rest in ("counter", "gauge", "histogram", "summary", "untyped"),
                      "unknown type: " + where)
                f["type"] = rest
            else:
                check(f["help"] is None, "second HELP: " + where)
                f["help"] = rest
            if name not in order:
                order.append(name)
            current = name
            continue
        check(line != "", "empty " + where)
        m = SAMPLE.match(line)
        check(m, "not a sample: " + where)
        # the regular expression checked the line; split it: labels in braces, then the value
        name = m.group(1)
        body = line[len(name):]
        labels = {}
        if body.startswith("{"):
            inner = body[1:body.rindex("}")]
            for lm in re.finditer(LABEL, inner):
                check(lm.group(1) not in labels, "label twice: " + where)
                labels[lm.group(1)] = unescape(lm.group(2))
            body = body[body.rindex("}") + 1:]
        parts = body.split(" ")
        check(len(parts) in (2, 3) and parts[0] == "", "bad value part: " + where)
        check(VALUE.match(parts[1]), "bad value: " + where)
        value = float(parts[1])
        fam = family_of(name)
        check(fam in fams and fams[fam]["type"], "sample before its TYPE: " + where)
        check(fam == current, "family %s interleaved with %s: %s" % (fam, current, where))
        fams[fam]["samples"].append((name, labels, value))
    for name, f in fams.items():
        if f["type"] == "counter":
            check(name.endswith("_total"), "counter %s does not end with _total" % name)
            for s in f["samples"]:
                check(s[2] >= 0, "negative counter %r" % (s,))
        if f["type"] == "histogram":
            check_histogram(name, f["samples"])
    return fams


def check_histogram(name, samples):
    series = {}
    for sname, labels, value in samples:
        key = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
        s = series.setdefault(key, {"buckets": [], "sum": None, "count": None})
        if sname == name + "_bucket":
            check("le" in labels, "bucket without le: %s %r" % (sname, labels))
            s["buckets"].append((float(labels["le"]), value))
        elif sname == name + "_sum":
            s["sum"] = value
        elif sname == name + "_count":
            s["count"] = value
        else:
            raise Fail("sample %s in histogram %s" % (sname, name))
    for key, s in series.items():
        b = s["buckets"]
        check(b, "histogram %s %r without buckets" % (name, key))
        check(all(b[i][0] < b[i + 1][0] for i in range(len(b) - 1)),
              "histogram %s %r: le not increasing" % (name, key))
        check(all(b[i][1] <= b[i + 1][1] for i in range(len(b) - 1)),
              "histogram %s %r: buckets not cumulative" % (name, key))
        check(math.isinf(b[-1][0]), "histogram %s %r: no +Inf bucket last" % (name, key))
        check(s["count"] is not None and s["sum"] is not None,
              "histogram %s %r: _sum or _count missing" % (name, key))
        check(b[-1][1] == s["count"], "histogram %s %r: +Inf %s != _count %s"
              % (name, key, b[-1][1], s["count"]))


def value(fams, name, **labels):
    want = {k: str(v) for k, v in labels.items()}
    fam = fams.get(name) or fams.get(re.sub(r"_(bucket|sum|count)$", "", name))
    check(fam, "no family for %s" % name)
    got = [s[2] for s in fam["samples"]
           if s[0] == name and all(s[1].get(k) == v for k, v in want.items())]
    check(len(got) == 1, "%s%r: %d samples" % (name, want, len(got)))
    return got[0]


def http(url, method="GET"):
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


# ---- cases -------------------------------------------------------------------------------

def hist_ok(h, what):
    lat = h["latency_us"]
    check(h["commands"] == 0 or 0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p999"],
          "%s: percentiles not ordered or zero: %r" % (what, lat))
    check(sum(b[1] for b in h["buckets"]) == h["commands"],
          "%s: buckets %r do not add up to %d" % (what, h["buckets"], h["commands"]))


@case
def exact(args):
    nw, wsize, nr, rsize, nr2, r2size = 37, 8192, 53, 4096, 5, 512
    c1, ua1, tur1 = login(args)
    c2, ua2, tur2 = login(args)
    blocks, bs = c1.capacity()
    for i in range(nw):
        r = c1.write(i * (wsize // bs), bytes([i]) * wsize, bs)
        check(r.status == GOOD, "WRITE %d: %r" % (i, r))
    for i in range(nr):
        r = c1.read(i * (rsize // bs), rsize // bs, bs)
        check(r.status == GOOD and len(r.data) == rsize, "READ %d: %r" % (i, r))
    r = c1.read(blocks, 8, bs)
    check(r.status == CHECK_CONDITION and r.sense_tuple()[0] == 5,
          "READ beyond the capacity: %r" % r)
    for i in range(nr2):
        r = c2.read(i, r2size // bs, bs)
        check(r.status == GOOD, "READ (session 2) %d: %r" % (i, r))
    say("session 1: %d TUR (%d unit attentions), READ CAPACITY, %d WRITE x %d, %d READ x %d, "
        "1 READ beyond the capacity; session 2: %d TUR, %d READ x %d"
        % (tur1, ua1, nw, wsize, nr, rsize, tur2, nr2, r2size))

    s = stats(args)
    check(s["enabled"] is True, "counting is off: %r" % s["enabled"])
    luns = [x for x in s["luns"] if x["target"] == args.target and x["lun"] == 0]
    check(len(luns) == 1, "LUN 0 of %s not in %r" % (args.target, s["luns"]))
    lun = luns[0]
    want_lun = {
        ("read", "commands"): nr + 1 + nr2, ("read", "bytes"): nr * rsize + nr2 * r2size,
        ("write", "commands"): nw, ("write", "bytes"): nw * wsize,
        ("other", "commands"): tur1 + tur2 + 1,
    }
    for (op, key), want in want_lun.items():
        check(lun[op][key] == want, "LUN %s %s: %s, expected %s" % (op, key, lun[op][key], want))
    check(lun["errors"] == 1 + ua1 + ua2, "LUN errors %r" % lun["errors"])
    check(lun["errors_by_class"].get("illegal_request") == 1 and
          lun["errors_by_class"].get("unit_attention", 0) == ua1 + ua2,
          "LUN errors by class %r" % lun["errors_by_class"])
    for op in ("read", "write", "other"):
        hist_ok(lun[op], "LUN " + op)
    say("LUN 0: %d reads (%d bytes), %d writes (%d bytes), %d other, %d errors: exact; read "
        "p50 %.1f us p99 %.1f us" % (lun["read"]["commands"], lun["read"]["bytes"],
                                     lun["write"]["commands"], lun["write"]["bytes"],
                                     lun["other"]["commands"], lun["errors"],
                                     lun["read"]["latency_us"]["p50"],
                                     lun["read"]["latency_us"]["p99"]))

    sess = {x["isid"]: x for x in s["sessions"]}
    s1, s2 = sess.get(isid_hex(c1)), sess.get(isid_hex(c2))
    check(s1 and s2, "sessions %s, %s not in %r" % (isid_hex(c1), isid_hex(c2), list(sess)))
    for se, want in ((s1, {("read", "commands"): nr + 1, ("read", "bytes"): nr * rsize,
                           ("write", "commands"): nw, ("write", "bytes"): nw * wsize,
                           ("other", "commands"): tur1 + 1}),
                     (s2, {("read", "commands"): nr2, ("read", "bytes"): nr2 * r2size,
                           ("write", "commands"): 0, ("write", "bytes"): 0,
                           ("other", "commands"): tur2})):
        for (op, key), w in want.items():
            check(se[op][key] == w, "session %s %s %s: %s, expected %s"
                  % (se["id"], op, key, se[op][key], w))
        for op in ("read", "write", "other"):
            hist_ok(se[op], "session %s %s" % (se["id"], op))
        check(se["target"] == args.target and se["initiator"] == pdu.DEFAULT_INITIATOR,
              "session names: %r" % ((se["target"], se["initiator"]),))
    check(s1["errors"] == 1 + ua1 and s2["errors"] == ua2,
          "session errors %r %r" % (s1["errors"], s2["errors"]))
    say("sessions %d and %d: exact" % (s1["id"], s2["id"]))

    base = "http://%s" % args.opts["metrics"]
    code, headers, body = http(base + "/metrics")
    check(code == 200, "GET /metrics: %d" % code)
    check(headers.get("Content-Type", "").startswith("text/plain; version=0.0.4"),
          "Content-Type %r" % headers.get("Content-Type"))
    text = body.decode()
    fams = parse_metrics(text)
    say("GET /metrics: %d lines, %d families, strictly well-formed" % (text.count("\n"), len(fams)))
    promtool = shutil.which("promtool")
    if promtool:
        p = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                           text=True, timeout=30)
        check(p.returncode == 0, "promtool check metrics: %s %s" % (p.stdout, p.stderr))
        say("promtool check metrics: ok")
    else:
        say("promtool is not installed: the strict reader above only")
    t, ln = args.target, "0"
    for op in ("read", "write", "other"):
        check(value(fams, "tether_lun_%s_commands_total" % op, target=t, lun=ln) ==
              lun[op]["commands"], "tether_lun_%s_commands_total differs" % op)
        check(value(fams, "tether_lun_latency_seconds_count", target=t, lun=ln, op=op) ==
              lun[op]["commands"], "tether_lun_latency_seconds_count{op=%s} differs" % op)
        for se in (s1, s2):
            check(value(fams, "tether_session_%s_commands_total" % op, session=se["id"]) ==
                  se[op]["commands"], "tether_session_%s_commands_total differs" % op)
    for op in ("read", "write"):
        check(value(fams, "tether_lun_%s_bytes_total" % op, target=t, lun=ln) ==
              lun[op]["bytes"], "tether_lun_%s_bytes_total differs" % op)
        check(value(fams, "tether_session_%s_bytes_total" % op, session=s1["id"]) ==
              s1[op]["bytes"], "tether_session_%s_bytes_total differs" % op)
    check(value(fams, "tether_lun_errors_total", target=t, lun=ln, **{"class": "illegal_request"})
          == 1, "tether_lun_errors_total{class=illegal_request}")
    check(sum(x[2] for x in fams["tether_lun_errors_total"]["samples"]
              if x[1]["target"] == t and x[1]["lun"] == ln) == lun["errors"],
          "tether_lun_errors_total does not add up")
    sum_ns = lun["read"]["sum_ns"]
    check(abs(value(fams, "tether_lun_latency_seconds_sum", target=t, lun=ln, op="read") -
              sum_ns / 1e9) < 1e-9, "tether_lun_latency_seconds_sum differs")
    check(value(fams, "tether_sessions") >= 2, "tether_sessions")
    check(value(fams, "tether_connections") >= 2, "tether_connections")
    check(any(x[2] == 1 and x[1]["addr"].endswith(":%d" % args.port)
              for x in fams["tether_portal_listening"]["samples"]), "tether_portal_listening")
    say("the metrics equal the control socket's counters")

    code, _, _ = http(base + "/other")
    check(code == 404, "GET /other: %d, expected 404" % code)
    code, _, _ = http(base + "/metrics", "POST")
    check(code == 405, "POST /metrics: %d, expected 405" % code)
    code, _, body = http(base + "/metrics", "HEAD")
    check(code == 200 and body == b"", "HEAD /metrics: %d, %d bytes" % (code, len(body)))
    say("404 for another path, 405 for POST, HEAD without a body")

    out = ctl(args, "stats")
    check("lun %s/0" % t in out and "(since start)" in out, "tetherctl stats:\n" + out)
    out = ctl(args, "stats", "--watch", "0.2", "--count", "2")
    check(out.count("DEVICE") == 2 and "r/s" in out, "tetherctl stats --watch:\n" + out)
    say("tetherctl stats prints the table, and rates with --watch")
    c1.logout()
    c2.logout()


@case
def off(args):
    c, _, _ = login(args)
    for i in range(10):
        check(c.read(i, 1).status == GOOD, "READ")
        check(c.write(i, b"z" * 512).status == GOOD, "WRITE")
    s = stats(args)
    check(s["enabled"] is False, "enabled: %r" % s["enabled"])
    for x in s["luns"] + s["sessions"]:
        for op in ("read", "write", "other"):
            check(x[op]["commands"] == 0, "%s counted with --no-stats: %r" % (op, x[op]))
    text = http("http://%s/metrics" % args.opts["metrics"])[2].decode()
    fams = parse_metrics(text)
    check(value(fams, "tether_stats_enabled") == 0, "tether_stats_enabled")
    say("--no-stats: 20 commands, every counter 0; tether_stats_enabled 0")
    c.logout()


if __name__ == "__main__":
    sys.exit(pdu.run_cases(CASES, description=__doc__))
