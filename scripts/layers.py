#!/usr/bin/env python3
"""The build's layer rules: which src/ folder may include which.

  layers.py farm BUILDDIR SRCDIR   make BUILDDIR/layers/<layer>/ with a link to each folder the
                                   layer may include (itself and the layers below it): a layer
                                   compiles with only its own farm on the include path, so an
                                   upward include does not build
  layers.py check SRCDIR STAMP     read every #include "x/y.h" under src/ and fail on an include
                                   the rules do not allow (a relative "../" path included), then
                                   write STAMP
"""
import os
import re
import sys

# Lowest first; each layer may include itself and the ones it names (transitively closed).
LAYERS = {
    "base": [],
    "bdev": ["base"],
    "iscsi": ["base"],
    # RDMA devices, registered memory, rdma_cm listeners and connections (rdma-core)
    "rdma": ["base"],
    "scsi": ["base", "bdev"],
    # SRP information units and the SRP channel's lifecycle (no verbs)
    "srp": ["base"],
    "xport": ["base", "iscsi", "rdma", "srp"],
    # NVMe-oF controller core and NVMe/TCP; its listeners are the shared ones of xport
    "nvmf": ["base", "bdev", "iscsi", "rdma", "srp", "xport"],
    # the configuration model, its file and control socket: iSCSI targets and NVMe-oF subsystems
    "target": ["base", "bdev", "iscsi", "rdma", "scsi", "srp", "xport", "nvmf"],
    "initiator": ["base", "iscsi"],
}
# Programs sit above every layer.
TOP = {"cmd"}


def allowed(layer):
    return set(LAYERS[layer]) | {layer}


def farm(build, src):
    for layer in LAYERS:
        d = os.path.join(build, "layers", layer)
        os.makedirs(d, exist_ok=True)
        want = allowed(layer)
        for name in os.listdir(d):
            if name not in want:
                os.unlink(os.path.join(d, name))
        for dep in want:
            link = os.path.join(d, dep)
            target = os.path.join(src, "src", dep)
            if os.path.islink(link) and os.readlink(link) == target:
                continue
            if os.path.lexists(link):
                os.unlink(link)
            os.symlink(target, link)


INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def check(src, stamp):
    errors = []
    for layer in sorted(os.listdir(os.path.join(src, "src"))):
        d = os.path.join(src, "src", layer)
        if not os.path.isdir(d) or layer in TOP:
            continue
        if layer not in LAYERS:
            errors.append(f"src/{layer}: a folder that is not a layer (add it to scripts/layers.py)")
            continue
        for name in sorted(os.listdir(d)):
            if not name.endswith((".c", ".h")):
                continue
            text = open(os.path.join(d, name), encoding="utf-8", errors="replace").read()
            for inc in INCLUDE.findall(text):
                if ".." in inc.split("/"):
                    errors.append(f"src/{layer}/{name}: #include \"{inc}\": no relative paths")
                    continue
                top = inc.split("/")[0] if "/" in inc else layer
                if top == "tether":  # include/tether: the public headers
                    continue
                if top not in allowed(layer):
                    errors.append(f"src/{layer}/{name}: #include \"{inc}\": {layer} may not "
                                  f"include {top} (it may include {', '.join(sorted(allowed(layer)))})")
    if errors:
        print("layer rules broken:\n  " + "\n  ".join(errors), file=sys.stderr)
        return 1
    with open(stamp, "w") as f:
        f.write("ok\n")
    return 0


def main(argv):
    if len(argv) == 4 and argv[1] == "farm":
        farm(argv[2], argv[3])
        return 0
    if len(argv) == 4 and argv[1] == "check":
        return check(argv[2], argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
