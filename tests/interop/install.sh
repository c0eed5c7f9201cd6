#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# install.sh - `meson install` of the build under test into a temporary DESTDIR:
#   every file of the layout of docs/install.md is there (programs, manual pages, systemd unit,
#   default configuration, docs); each manual page renders with man(1) without a warning; the
#   unit's ExecStart names the installed tetherd and the installed configuration; the unit
#   passes `systemd-analyze verify` (with its ExecStart pointed at the DESTDIR copy of tetherd,
#   and the DESTDIR manual pages on MANPATH for its Documentation=); the installed tetherd
#   starts from the installed configuration and stops cleanly; libtether (the .so, its header
#   and libtether.pc) builds a program with pkg-config that runs, with soname libtether.so.0
#   and only tether_* exported; a second install keeps a configuration that was changed.
#
# Exit: 0 pass, 77 skip (reason printed), 1 fail.
# Environment: TT_BUILD (the build directory to install from), TT_TOP.
. "$(dirname "$0")/../lib/common.sh"

tt_setup install
tt_need meson python3 man scdoc
DEST=$TT_WORK/dest

# the build's directories: name=value lines of its options (sysconfdir may be absolute)
opts=$(meson introspect "$TT_BUILD" --buildoptions | "$TT_PYTHON" -c '
import json, sys
o = {x["name"]: x["value"] for x in json.load(sys.stdin)}
for k in ("prefix", "bindir", "sbindir", "mandir", "sysconfdir", "datadir", "systemdsystemunitdir",
          "libdir", "includedir", "b_sanitize"):
    print("%s=%s" % (k, o.get(k, "")))') || fail "meson introspect $TT_BUILD failed"
opt() { printf '%s\n' "$opts" | sed -n "s/^$1=//p"; }
prefix=$(opt prefix)
under() { case $1 in /*) echo "$1" ;; *) echo "$prefix/$1" ;; esac; }
sbindir=$(under "$(opt sbindir)")
bindir=$(under "$(opt bindir)")
mandir=$(under "$(opt mandir)")
sysconfdir=$(under "$(opt sysconfdir)")
docdir=$(under "$(opt datadir)")/doc/tether
libdir=$(under "$(opt libdir)")
includedir=$(under "$(opt includedir)")
[ "$(opt systemdsystemunitdir)" = no ] && skip "the build installs no unit (-Dsystemdsystemunitdir=no)"

step "meson install --destdir (prefix $prefix, sysconfdir $sysconfdir)"
tt_capture 300 meson install -C "$TT_BUILD" --no-rebuild --destdir "$DEST" ||
	fail "meson install failed: $OUT"
printf '%s\n' "$OUT" | tail -n 3

step "every file of the layout"
expect=(
	"$sbindir/tetherd" "$sbindir/tetherctl"
	"$mandir/man8/tetherd.8" "$mandir/man8/tetherctl.8" "$mandir/man5/tetherd.json.5"
	"$mandir/man1/tether.1"
	"$sysconfdir/tether/tetherd.json"
	"$docdir/README.md" "$docdir/LICENSE" "$docdir/install.md" "$docdir/cli.md"
	"$docdir/configuration.md" "$docdir/examples/tetherd.json"
	"$libdir/libtether.so.0" "$libdir/libtether.so" "$libdir/pkgconfig/libtether.pc"
	"$includedir/tether/tether.h"
)
for f in "${expect[@]}"; do
	[ -f "$DEST$f" ] || fail "$f is not installed (DESTDIR $DEST:
$(cd "$DEST" && find . -type f | sort))"
done
for f in "$sbindir/tetherd" "$sbindir/tetherctl"; do
	[ -x "$DEST$f" ] || fail "$f is not executable"
done
# the programs on libtether (built when the library is in the tree)
TOOLS=0
if [ -x "$TT_BUILD/src/cmd/tether" ]; then
	TOOLS=1
	[ -x "$DEST$bindir/tether" ] || fail "$bindir/tether is not installed"
	plugin=$(cd "$DEST" && find . -path '*/nbdkit/plugins/nbdkit-tether-plugin.so' | sed 's/^\.//')
	[ -n "$plugin" ] || fail "nbdkit-tether-plugin.so is not installed in an nbdkit/plugins directory"
	case $plugin in "$prefix"/*) ;; *) fail "the plugin is installed outside the prefix: $plugin" ;; esac
	ok "tether in $bindir, the nbdkit plugin in $(dirname "$plugin")"
fi
mode=$(stat -c %a "$DEST$sysconfdir/tether/tetherd.json")
[ "$mode" = 600 ] || fail "$sysconfdir/tether/tetherd.json has mode $mode, expected 600"
units=$(cd "$DEST" && find . -path '*/systemd/system/tetherd.service' | sed 's/^\.//')
[ "$(printf '%s\n' "$units" | grep -c .)" = 1 ] ||
	fail "expected one tetherd.service below a systemd/system directory, found: '$units'"
UNIT=$units
[ -z "$(cd "$DEST" && find . -name '*.scd')" ] || fail "scdoc sources were installed"
ok "${#expect[@]} files and the unit $UNIT"

step "the manual pages render without warnings"
for page in man8/tetherd.8 man8/tetherctl.8 man5/tetherd.json.5 man1/tether.1; do
	f=$DEST$mandir/$page
	txt=$(MANWIDTH=80 LC_ALL=C.UTF-8 man -l "$f" 2>"$TT_WORK/man.err") ||
		fail "man -l $page failed: $(cat "$TT_WORK/man.err")"
	[ ! -s "$TT_WORK/man.err" ] || fail "man -l $page warns: $(cat "$TT_WORK/man.err")"
	name=${page#*/}; name=${name%.*}
	printf '%s\n' "$txt" | grep -q "^NAME" || fail "$page has no NAME section"
	printf '%s\n' "$txt" | grep -q "$name - " || fail "$page does not name $name"
	# groff's own checks: no warning at all at the strictest level
	if command -v groff >/dev/null; then
		w=$(groff -man -Tutf8 -ww -z "$f" 2>&1) || fail "groff -ww $page failed: $w"
		[ -z "$w" ] || fail "groff -ww $page warns: $w"
	fi
done
# the pages say what the programs do: every option of tetherd --help is in tetherd(8), every
# command of tetherctl --help in tetherctl(8), every global key in tetherd.json(5)
t8=$(MANWIDTH=200 man -l "$DEST$mandir/man8/tetherd.8" 2>/dev/null)
for o in $("$DEST$sbindir/tetherd" --help | grep -o -- '--[a-z-]*' | sort -u); do
	printf '%s\n' "$t8" | grep -q -- "$o" || fail "tetherd(8) does not document $o"
done
c8=$(MANWIDTH=200 man -l "$DEST$mandir/man8/tetherctl.8" 2>/dev/null)
while read -r w1 w2 _; do
	case $w2 in [a-z]*) cmd="$w1 $w2" ;; *) cmd=$w1 ;; esac
	printf '%s\n' "$c8" | grep -q -- "$cmd" || fail "tetherctl(8) does not document '$cmd'"
done < <("$DEST$sbindir/tetherctl" --help | sed -n '/^Commands:/,/^$/p' | grep '^  [a-z]')
# every command and option of tether in tether(1)
t1=$(MANWIDTH=200 man -l "$DEST$mandir/man1/tether.1" 2>/dev/null)
if [ $TOOLS = 1 ]; then
	# the installed tether, with the installed libtether
	tlibdir=$(dirname "$(cd "$DEST" && find . -name 'libtether.so.0' | head -1)")
	tether() { LD_LIBRARY_PATH="$DEST${tlibdir#.}" "$DEST$bindir/tether" "$@"; }
	cmds=$(tether --help | sed -n 's/^  \([a-z]*\) .*/\1/p') || fail "the installed tether --help failed"
	[ "$(printf '%s\n' "$cmds" | wc -w)" -ge 4 ] || fail "tether --help lists too few commands: $cmds"
	for c in $cmds; do
		printf '%s\n' "$t1" | grep -q -- "tether $c" || fail "tether(1) does not document $c"
	done
	opts=$(tether bench --help | grep -o -- '--[a-z-]*' | sort -u) || fail "tether bench --help failed"
	[ "$(printf '%s\n' "$opts" | wc -w)" -ge 10 ] || fail "tether bench --help lists too few options: $opts"
	for o in $opts; do
		printf '%s\n' "$t1" | grep -q -- "$o" || fail "tether(1) does not document bench $o"
	done
fi
j5=$(MANWIDTH=200 man -l "$DEST$mandir/man5/tetherd.json.5" 2>/dev/null)
for k in loops rpc_socket log_level debug state_dir name alias tpgs luns acls tag portals \
	 nop_interval nop_timeout login_timeout auth allow_any_initiator alua_state alua_explicit params id \
	 backend vendor product serial write_protect initiator chap mutual_user mutual_secret \
	 MaxRecvDataSegmentLength MaxBurstLength FirstBurstLength ImmediateData InitialR2T \
	 MaxOutstandingR2T MaxConnections ErrorRecoveryLevel HeaderDigest DataDigest \
	 DefaultTime2Wait DefaultTime2Retain metrics stats max_connections \
	 max_prelogin_per_address max_connections_per_initiator max_login_pdus max_login_text \
	 cmd_window max_session_buffer max_buffer; do
	printf '%s\n' "$j5" | grep -qw -- "$k" || fail "tetherd.json(5) does not document $k"
done
ok "4 pages render; they cover tetherd --help, tetherctl --help, tether --help and the configuration keys"

step "the unit"
u=$DEST$UNIT
if command -v ldd >/dev/null && ! ldd "$DEST$sbindir/tetherd" | grep -q libsystemd; then
	grep -qx "Type=exec" "$u" || fail "tetherd has no libsystemd, but the unit is not Type=exec"
else
	grep -qx "Type=notify" "$u" || fail "the unit is not Type=notify"
fi
grep -q "^ExecStart=$sbindir/tetherd --config $sysconfdir/tether/tetherd.json" "$u" ||
	fail "ExecStart does not run $sbindir/tetherd with $sysconfdir/tether/tetherd.json: $(grep ExecStart "$u")"
for k in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
	 ProtectKernelTunables=yes ProtectKernelModules=yes ProtectControlGroups=yes \
	 'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK' \
	 CapabilityBoundingSet=CAP_NET_BIND_SERVICE Restart=on-failure RuntimeDirectory=tether \
	 StateDirectory=tether; do
	grep -qx -- "$k" "$u" || fail "the unit lacks $k"
done
# the daemon's 10 s graceful shutdown fits in TimeoutStopSec
stop=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s\{0,1\}$/\1/p' "$u")
[ -n "$stop" ] && [ "$stop" -gt 10 ] || fail "TimeoutStopSec must be above 10 s: '$stop'"
if command -v systemd-analyze >/dev/null; then
	mkdir -p "$TT_WORK/unit"
	sed "s|^ExecStart=$sbindir/tetherd|ExecStart=$DEST$sbindir/tetherd|" "$u" \
		>"$TT_WORK/unit/tetherd.service"
	tt_capture 60 env MANPATH="$DEST$mandir" systemd-analyze verify \
		"$TT_WORK/unit/tetherd.service" || fail "systemd-analyze verify: $OUT"
	[ -z "$OUT" ] || fail "systemd-analyze verify complains: $OUT"
	ok "systemd-analyze verify: no complaint (ExecStart pointed at the DESTDIR tetherd)"
else
	echo "    note: systemd-analyze is not installed: the unit is not verified"
fi

step "the installed tetherd runs the installed configuration"
TETHERD=$DEST$sbindir/tetherd
tt_start installed --config "$DEST$sysconfdir/tether/tetherd.json" --state-dir none
sleep 1
tt_alive installed "start-up from the installed configuration"
tt_stop installed
grep -i -E 'error|warn' "${TT_LOG[installed]}" && fail "warnings at start-up (above)"

step "libtether: a program built with pkg-config against the installed library"
if command -v pkg-config >/dev/null && command -v cc >/dev/null; then
	cat >"$TT_WORK/use.c" <<'EOF'
#include <stdio.h>
#include <tether/tether.h>
int main(void)
{
	struct tether_opts *o;
	char v[32];

	if (tether_opts_new(&o) || tether_opts_get(o, "nop_interval_ms", v, sizeof(v)))
		return 1;
	printf("nop_interval_ms=%s\n", v);
	tether_opts_free(o);
	return 0;
}
EOF
	pc() { PKG_CONFIG_PATH=$DEST$libdir/pkgconfig pkg-config --define-variable=prefix="$DEST$prefix" "$@" libtether; }
	# a sanitizer build's library needs the program built with the same runtime
	san=(); [ "$(opt b_sanitize)" != none ] && [ -n "$(opt b_sanitize)" ] && san=(-fsanitize="$(opt b_sanitize)")
	# shellcheck disable=SC2046
	tt_capture 60 cc "${san[@]}" -o "$TT_WORK/use" "$TT_WORK/use.c" $(pc --cflags) $(pc --libs) \
		-Wl,-rpath,"$DEST$libdir" || fail "building against the installed libtether: $OUT"
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 tt_capture 10 "$TT_WORK/use" ||
		fail "the program linked to libtether failed: $OUT"
	tt_contains "nop_interval_ms=250" "the library's default"
	readelf -d "$DEST$libdir/libtether.so.0" | grep -q 'SONAME.*\[libtether.so.0\]' ||
		fail "libtether.so.0 has no soname libtether.so.0"
	others=$(nm -D --defined-only "$DEST$libdir/libtether.so.0" | awk '$2 ~ /^[TDBRW]$/ && $3 !~ /^tether_/')
	[ -z "$others" ] || fail "libtether exports more than tether_*: $others"
	ok "built, ran, soname libtether.so.0, only tether_* exported"
else
	echo "    (no pkg-config or cc: not tried)"
fi

step "a second install keeps a changed configuration"
echo '{}' >"$DEST$sysconfdir/tether/tetherd.json"
tt_capture 300 meson install -C "$TT_BUILD" --no-rebuild --destdir "$DEST" ||
	fail "second meson install failed: $OUT"
[ "$(cat "$DEST$sysconfdir/tether/tetherd.json")" = '{}' ] ||
	fail "the second install overwrote $sysconfdir/tether/tetherd.json"
ok "kept"
echo "PASS"
