#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""One session doing verified I/O without pause, for tests that change the target around it
(tests/interop/apply.sh): logs in, then writes random blocks and reads them back until the file
--stop exists. Any error (a failed command, different data, the connection dropped) ends it
with exit status 1 and a message; else it prints the number of write+read rounds and exits 0.

  io_loop.py --port P --target IQN [--initiator IQN] [--lun N] --stop FILE [--ready FILE]
"""

import argparse
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pdu  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--target", required=True)
    ap.add_argument("--initiator", default=pdu.DEFAULT_INITIATOR)
    ap.add_argument("--lun", type=int, default=0)
    ap.add_argument("--stop", required=True)
    ap.add_argument("--ready", help="created once the first round passed")
    args = ap.parse_args()
    rng = random.Random(os.getpid())
    rounds = 0
    try:
        c = pdu.connect_login(args.host, args.port, args.target, initiator=args.initiator,
                              clear_ua=(args.lun,))
        while not os.path.exists(args.stop):
            blocks = rng.randint(1, 64)
            lba = rng.randint(0, 4096 - blocks)
            data = bytes(rng.getrandbits(8) for _ in range(blocks * 512))
            pdu.write_verify(c, lba, data, lun=args.lun, what="WRITE round %d" % rounds)
            rounds += 1
            if rounds == 1 and args.ready:
                open(args.ready, "w").close()
        c.logout()
    except (pdu.Fail, pdu.Closed, pdu.Timeout, OSError) as e:
        print("io_loop: after %d rounds: %s: %s" % (rounds, type(e).__name__, e), flush=True)
        return 1
    print("io_loop: %d rounds" % rounds, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
