#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# meson install script: installs the default configuration SRC as DEST (mode 0600: the file may
# come to hold CHAP secrets) unless DEST exists already, so that a new install never overwrites a
# configuration in use. DEST is absolute; $DESTDIR, when set, goes before it.
# Usage: install-config.sh SRC DEST
set -eu
src=$1 dest=${DESTDIR:-}$2
if [ -e "$dest" ]; then
	echo "keeping $dest (the default is $src)"
	exit 0
fi
mkdir -p "$(dirname "$dest")"
cp "$src" "$dest.tmp.$$"
chmod 0600 "$dest.tmp.$$"
mv "$dest.tmp.$$" "$dest"
echo "installed $dest"
