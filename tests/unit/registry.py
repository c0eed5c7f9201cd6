#!/usr/bin/env python3
"""Prints the unit tests registered in a configured meson build, one per line, sorted:
<name> TAB <timeout> TAB <command...> (TAB-separated), name being <dir>/<file> of the
executable under <build>/tests/unit. Exits 2 with a message when the build is not usable."""
import json
import os
import subprocess
import sys

build = os.path.abspath(sys.argv[1])
if not os.path.isfile(os.path.join(build, 'meson-info', 'meson-info.json')):
    sys.exit(f'{build}: not a configured meson build directory '
             f'(make build, or meson setup {sys.argv[1]})')
try:
    out = subprocess.run(['meson', 'introspect', '--tests', build], check=True,
                         capture_output=True, text=True).stdout
except (OSError, subprocess.CalledProcessError) as e:
    sys.exit(f'{build}: meson introspect --tests failed: {getattr(e, "stderr", "") or e}')
unit_dir = os.path.join(build, 'tests', 'unit') + os.sep
rows = []
for t in json.loads(out):
    if not any(s.split(':')[-1] == 'unit' for s in t.get('suite', [])):
        continue
    exe = t['cmd'][0]
    name = exe[len(unit_dir):] if exe.startswith(unit_dir) else t['name']
    rows.append('\t'.join([name, str(t.get('timeout') or 300)] + t['cmd']))
for r in sorted(rows):
    print(r)
