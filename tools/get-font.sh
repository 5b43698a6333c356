#!/bin/sh
# Put the console font (a PSF file from Debian's console-setup-linux
# package) decompressed at $1.  Uses the installed copy when the package
# is installed; otherwise downloads the package into build/ with
# `apt-get download` (no root needed, nothing installed) and takes the
# font out of it.
set -eu
out=$1
font=Lat15-Terminus16.psf.gz
sys=/usr/share/consolefonts/$font
dir=$(dirname "$out")/font-pkg
if [ -f "$sys" ]; then
    src=$sys
else
    mkdir -p "$dir"
    if ! ls "$dir"/console-setup-linux_*.deb >/dev/null 2>&1; then
        (cd "$dir" && apt-get download console-setup-linux) || {
            echo "get-font: cannot download console-setup-linux; run tools/install-deps.sh (apt-get update) first" >&2
            exit 1
        }
    fi
    dpkg-deb -x "$dir"/console-setup-linux_*.deb "$dir/root"
    src=$dir/root/usr/share/consolefonts/$font
fi
gzip -dc "$src" > "$out.tmp"
mv "$out.tmp" "$out"
