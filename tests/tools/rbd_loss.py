#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A Ceph cluster lost under a tetherd that serves a RAM LUN and an rbd LUN (built on pdu.py).

--port is tetherd's portal; --opt ram_lun=N, --opt rbd_lun=N the two LUNs (default 0 and 1).

Case for tests/interop/rbd_cluster_loss.sh:
  loss   a writer keeps one WRITE (4 KiB, then a READ of it) in flight on the rbd LUN and a second
         session writes and reads back the RAM LUN, both in a loop; --opt fault='COMMAND' takes
         the cluster away (or part of it), --opt hold=SECONDS later --opt restore='COMMAND'
         brings it back. Meanwhile --opt ctl='COMMAND' (tetherctl) must answer within the
         bound: succeed, or with --opt ctl_fails=TEXT fail with TEXT in its output.
         Checked: every rbd command in flight after the fault ends within --opt bound=SECONDS
         (GOOD or CHECK CONDITION, never a hang, the session stays); with --opt expect=error at
         least one of them ends with CHECK CONDITION and none issued after the first error is
         GOOD before the restore; the RAM LUN gets no error, its data reads back and it completes
         commands during the fault; after the restore an rbd READ is GOOD again within
         --opt recover=SECONDS (default 90) and the data written before the fault is there.
         Prints FIGURE lines: <name>_rbd_{longest_s,first_error_s,errors,good}, <name>_recover_s,
         <name>_ram_{ios,longest_ms}, <name>_ctl_ms (--opt name=NAME).
"""

import os
import subprocess
import sys
import threading
import time

import pdu
from pdu import CHECK_CONDITION, GOOD, check


def opt_int(args, key, default):
    return int(str(args.opts.get(key, default)), 0)


def login(args, lun):
    return pdu.connect_login(args.host, args.port, args.target, clear_ua=(lun,))


class RbdLoader(threading.Thread):
    """WRITE then READ of 8 blocks at a rotating LBA of the rbd LUN, one command at a time, each
    recorded as (start, end, status, sense)."""

    def __init__(self, conn, lun, bound):
        super().__init__(daemon=True)
        self.c, self.lun, self.bound = conn, lun, bound
        self.log = []
        self.stop = threading.Event()
        self.exc = None

    def run(self):
        try:
            i = 0
            while not self.stop.is_set():
                lba = 64 + (i % 256) * 8
                data = os.urandom(4096)
                for kind in ("W", "R"):
                    t0 = time.monotonic()
                    if kind == "W":
                        r = self.c.write(lba, data, lun=self.lun, timeout=self.bound + 60)
                    else:
                        r = self.c.read(lba, 8, lun=self.lun, timeout=self.bound + 60)
                    t1 = time.monotonic()
                    sense = r.sense_tuple() if r.status == CHECK_CONDITION else None
                    self.log.append((t0, t1, r.status, sense, kind))
                    if r.status == GOOD and kind == "R" and r.data != data:
                        # a READ after a GOOD WRITE of the same blocks
                        if self.log[-2][2] == GOOD:
                            raise pdu.Fail("rbd: READ at %d does not return the data just written"
                                           % lba)
                    if r.status != GOOD:
                        time.sleep(0.05)
                i += 1
        except Exception as e:  # reported by the main thread
            self.exc = e


class RamLoader(threading.Thread):
    """WRITE and READ back of random blocks of the RAM LUN in a loop; any error is kept."""

    def __init__(self, conn, lun):
        super().__init__(daemon=True)
        self.c, self.lun = conn, lun
        self.done = []  # (end time, latency)
        self.errors = []
        self.stop = threading.Event()

    def run(self):
        i = 0
        try:
            while not self.stop.is_set():
                lba = (i % 1024) * 8
                data = os.urandom(4096)
                t0 = time.monotonic()
                w = self.c.write(lba, data, lun=self.lun, timeout=30)
                r = self.c.read(lba, 8, lun=self.lun, timeout=30)
                t1 = time.monotonic()
                if w.status != GOOD or r.status != GOOD or r.data != data:
                    self.errors.append("RAM LUN at LBA %d: WRITE %r READ %r same=%s"
                                       % (lba, w, r, r.data == data))
                self.done.append((t1, t1 - t0))
                i += 1
        except Exception as e:
            self.errors.append("RAM LUN: %r" % e)


def run_shell(cmd, what, tmo=30, fails=None):
    """Runs cmd; it must succeed, or with fails=TEXT fail with TEXT in its output. Returns the
    seconds it took."""
    t0 = time.monotonic()
    p = subprocess.run(cmd, shell=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=tmo)
    dt = time.monotonic() - t0
    out = p.stdout.decode(errors="replace").strip()
    if fails is None:
        check(p.returncode == 0, "%s (%s) failed with %d: %s" % (what, cmd, p.returncode, out))
    else:
        check(p.returncode != 0 and fails in out,
              "%s (%s) should fail with '%s': exit %d: %s" % (what, cmd, fails, p.returncode, out))
        print("    %s refused after %.1f s: %s" % (what, dt, out.splitlines()[-1]))
    return dt


def case_loss(args):
    name = args.opts.get("name", "loss")
    ram_lun, rbd_lun = opt_int(args, "ram_lun", 0), opt_int(args, "rbd_lun", 1)
    bound = float(args.opts.get("bound", "10"))
    hold = float(args.opts.get("hold", "8"))
    recover = float(args.opts.get("recover", "90"))
    expect_error = args.opts.get("expect", "any") == "error"

    probe = login(args, rbd_lun)
    keep = os.urandom(4096)
    r = probe.write(0, keep, lun=rbd_lun, timeout=30)
    check(r.status == GOOD, "WRITE to the rbd LUN before the fault: %r" % r)

    rbd = RbdLoader(login(args, rbd_lun), rbd_lun, bound)
    ram = RamLoader(login(args, ram_lun), ram_lun)
    rbd.start()
    ram.start()
    time.sleep(1.0)
    check(rbd.exc is None, "rbd load before the fault: %r" % rbd.exc)
    n_before = sum(1 for e in rbd.log if e[2] == GOOD)
    check(n_before > 0, "no rbd command completed in the second before the fault")

    t_fault = time.monotonic()
    run_shell(args.opts["fault"], "the fault")
    print("    %s: fault made (%s); rbd load had %d good commands"
          % (name, args.opts["fault"], n_before))
    ctl_ms = None
    try:
        time.sleep(min(1.5, hold / 2))
        if "ctl" in args.opts:
            ctl_ms = run_shell(args.opts["ctl"], "tetherctl during the fault", tmo=bound + 10,
                               fails=args.opts.get("ctl_fails")) * 1000
            check(ctl_ms < bound * 1000, "%s: tetherctl took %.1f s (bound %.0f s)"
                  % (name, ctl_ms / 1000, bound))
            print("    %s: tetherctl answered during the fault in %.0f ms" % (name, ctl_ms))
        rest = hold - (time.monotonic() - t_fault)
        if rest > 0:
            time.sleep(rest)
        # a command in flight now must end within the bound, whatever happens next
        t_restore = time.monotonic()
    finally:
        run_shell(args.opts["restore"], "the restore", tmo=60)
    print("    %s: cluster restored (%s) after %.1f s" % (name, args.opts["restore"],
                                                         t_restore - t_fault))
    ram_fault = sum(1 for t, _ in ram.done if t_fault < t <= t_restore)

    # recovery: a READ on the probe session is GOOD again, the data written before is there
    while True:
        t0 = time.monotonic()
        r = probe.read(0, 8, lun=rbd_lun, timeout=bound + 60)
        if r.status == GOOD:
            break
        check(time.monotonic() - t_restore < recover,
              "%s: rbd READ still fails %.0f s after the restore: %r"
              % (name, time.monotonic() - t_restore, r))
        time.sleep(max(0.0, 0.2 - (time.monotonic() - t0)))
    t_back = time.monotonic()
    check(r.data == keep, "%s: the data written before the fault is not read back" % name)
    # the loader gets GOOD again too
    deadline = time.monotonic() + recover
    while not any(e[0] >= t_back and e[2] == GOOD for e in rbd.log):
        check(rbd.exc is None, "rbd load: %r" % rbd.exc)
        check(time.monotonic() < deadline, "%s: the loading session gets no GOOD after the restore"
              % name)
        time.sleep(0.1)
    rbd.stop.set()
    ram.stop.set()
    rbd.join(bound + 90)
    ram.join(60)
    check(rbd.exc is None, "rbd load: %r" % rbd.exc)
    check(not ram.errors, "%s: the RAM LUN failed: %s" % (name, "; ".join(ram.errors[:3])))
    check(ram_fault > 0, "%s: the RAM LUN completed nothing during the fault" % name)

    # every rbd command that was in flight at or after the fault, up to the restore
    during = [e for e in rbd.log if e[1] > t_fault and e[0] < t_restore]
    check(during, "%s: no rbd command ran during the fault" % name)
    longest = max(e[1] - e[0] for e in during)
    errors = [e for e in during if e[2] != GOOD]
    good = [e for e in during if e[2] == GOOD]
    for e in errors:
        check(e[2] == CHECK_CONDITION, "%s: rbd command ended with status %#x" % (name, e[2]))
    check(longest < bound, "%s: an rbd command took %.1f s during the fault (bound %.0f s)"
          % (name, longest, bound))
    first_err = None
    if errors:
        first_err = errors[0][1] - t_fault
        print("    %s: first rbd error %.1f s after the fault, sense %r; %d errors, %d good"
              % (name, first_err, errors[0][3], len(errors), len(good)))
    else:
        print("    %s: every rbd command during the fault was GOOD (%d)" % (name, len(good)))
    if expect_error:
        check(errors, "%s: no rbd command ended with CHECK CONDITION during the fault" % name)
        late_good = [e for e in good if e[0] > errors[0][1] and e[1] < t_restore]
        check(not late_good, "%s: %d rbd commands issued after the first error were GOOD before "
              "the restore" % (name, len(late_good)))
    ram_longest = max(l for t, l in ram.done if t > t_fault)
    print("    %s: the RAM LUN completed %d WRITE+READ pairs during the fault, longest %.0f ms"
          % (name, ram_fault, ram_longest * 1000))
    print("    %s: rbd READ GOOD again %.1f s after the restore" % (name, t_back - t_restore))
    print("FIGURE %s_rbd_longest_s=%.1f" % (name, longest))
    print("FIGURE %s_rbd_first_error_s=%s" % (name, "-" if first_err is None else "%.1f" % first_err))
    print("FIGURE %s_rbd_errors=%d" % (name, len(errors)))
    print("FIGURE %s_rbd_good=%d" % (name, len(good)))
    print("FIGURE %s_recover_s=%.1f" % (name, t_back - t_restore))
    print("FIGURE %s_ram_ios=%d" % (name, ram_fault))
    print("FIGURE %s_ram_longest_ms=%.0f" % (name, ram_longest * 1000))
    if ctl_ms is not None:
        print("FIGURE %s_ctl_ms=%.0f" % (name, ctl_ms))
    for c in (probe, rbd.c, ram.c):
        c.logout()
        c.close()


CASES = {"loss": case_loss}

if __name__ == "__main__":
    sys.exit(pdu.run_cases(CASES, description=__doc__))
