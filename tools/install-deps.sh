#!/bin/sh
# Install every Debian package the build, the tests and `make run` need.
# Safe to run again: apt-get skips what is already there.
# Run as root, or as a user with sudo (the Makefile does this for you
# when a tool is missing).
set -eu

SUDO=
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
        echo "install-deps: need root or sudo to install packages" >&2; exit 1
    fi
fi

# 32-bit user programs (compat32) link against musl's i386 build.
if ! dpkg --print-foreign-architectures | grep -qx i386; then
    $SUDO dpkg --add-architecture i386
fi

PKGS="
  make clang lld llvm libclang-rt-14-dev
  gnu-efi ovmf qemu-system-x86 qemu-utils
  mtools gdisk cpio util-linux
  musl-tools musl-dev musl-dev:i386 lib32gcc-s1 libgcc-12-dev:i386
  kbd busybox-static
  python3
  gdb
"

export DEBIAN_FRONTEND=noninteractive
# A mirror in mid-sync can make one index fail; that is not fatal as long
# as the packages below can still be found, so retry once and go on.
$SUDO apt-get update -q || { sleep 5; $SUDO apt-get update -q || \
    echo "install-deps: apt-get update reported errors, trying anyway" >&2; }
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $PKGS

# The i386 busybox (32-bit programs run in compatibility mode): busybox-static
# for amd64 and for i386 both own /bin/busybox, so the i386 one is only
# unpacked, into BUSYBOX32_DIR, where the Makefile takes it for the initrd.
BUSYBOX32_DIR=/usr/local/lib/mmk/i386
if [ ! -x "$BUSYBOX32_DIR/busybox" ]; then
    tmp=$(mktemp -d)
    chmod 777 "$tmp"   # apt's download user must be able to write there
    (cd "$tmp" && $SUDO apt-get download -q busybox-static:i386)
    $SUDO dpkg-deb -x "$tmp"/busybox-static_*_i386.deb "$tmp/x"
    $SUDO mkdir -p "$BUSYBOX32_DIR"
    $SUDO cp "$tmp/x/bin/busybox" "$BUSYBOX32_DIR/busybox"
    $SUDO rm -rf "$tmp"
fi
echo "install-deps: done"
