#!/bin/sh
# Write the disk image to a USB stick, refusing anything that could be
# the wrong disk:
#
#   make usb DEV=/dev/sdX        (runs: sh tools/usb.sh /dev/sdX build/esp.img)
#
# Refused, each with one sentence and a non-zero exit status: no DEV
# (the removable disks are listed instead), a missing image, a path that
# is not a block device, a partition or anything else that is not a
# whole disk, a disk that another device is stacked on (LVM, RAID,
# dm-crypt), a disk with a partition mounted or used as swap, a disk that
# is neither removable nor on USB, a disk smaller than the image.  Then
# the disk is shown and the user must type its name on the terminal
# (/dev/tty; MMK_USB_YES=1 skips that for scripted use).  Only then dd.
#
# tests/usb_refusals.sh runs this script against things it must refuse.
set -u

prog=usb

refuse() {
    echo "$prog: $*" >&2
    exit 1
}

# The whole disks that may be USB sticks: removable or on the USB bus.
removable_disks() {
    # NAME TYPE RM TRAN; TRAN comes last because it may be empty.
    lsblk -d -n -r -o NAME,TYPE,RM,TRAN 2>/dev/null |
        awk '$2 == "disk" && ($3 == "1" || $4 == "usb") { print "/dev/" $1 }'
}

usage() {
    echo "usage: make usb DEV=/dev/sdX   (or: sh tools/usb.sh /dev/sdX IMAGE)" >&2
    list=$(removable_disks)
    if [ -n "$list" ]; then
        echo "Removable or USB disks on this machine:" >&2
        # shellcheck disable=SC2086 # one argument per disk
        lsblk -d -o NAME,SIZE,RM,TRAN,MODEL $list >&2
    else
        echo "No removable or USB disk is plugged in (see lsblk)." >&2
    fi
    echo "$prog: no device given; name the USB stick with DEV=/dev/sdX." >&2
    exit 2
}

dev=${1-}
img=${2-build/esp.img}

command -v lsblk >/dev/null 2>&1 ||
    refuse "lsblk is missing (Debian package util-linux), so the device cannot be checked."

[ -n "$dev" ] || usage

[ -f "$img" ] || refuse "the image $img does not exist; run make first."

# ---- what kind of file is DEV? ---------------------------------------------

if [ ! -e "$dev" ]; then
    case $dev in
    /*) ;;
    *) [ -b "/dev/$dev" ] && refuse "give the full path of the device: DEV=/dev/$dev." ;;
    esac
    refuse "$dev does not exist; plug the stick in and check its name with lsblk."
fi
if [ ! -b "$dev" ]; then
    refuse "$dev is not a block device, so it cannot be a USB stick."
fi
# Follow symlinks such as /dev/disk/by-id/usb-...: the checks below and dd
# all use the kernel's own name.
real=$(readlink -f -- "$dev")
name=${real##*/}
sys=/sys/class/block/$name
[ -d "$sys" ] ||
    refuse "$dev ($real) is not described in /sys/class/block, so it cannot be checked."

if [ -e "$sys/partition" ]; then
    parent=$(lsblk -n -d -o PKNAME "$real" 2>/dev/null)
    refuse "$dev is a partition${parent:+ of /dev/$parent}; give the whole disk${parent:+ (/dev/$parent)}, not a partition."
fi
type=$(lsblk -n -d -o TYPE "$real" 2>/dev/null)
if [ "$type" != disk ]; then
    refuse "$dev is not a whole disk (lsblk type: ${type:-none}); give the disk of a USB stick."
fi

# ---- is it in use? --------------------------------------------------------------

# The disk and its partitions, by kernel name.
parts=$name
for p in "$sys"/"$name"*; do
    [ -e "$p/partition" ] && parts="$parts ${p##*/}"
done

for n in $parts; do
    for h in "/sys/class/block/$n/holders"/*; do
        [ -e "$h" ] &&
            refuse "$dev is in use: /dev/$n carries ${h##*/} (LVM, RAID or dm-crypt); stop that first."
    done
done

# /proc/mounts and /proc/swaps name devices as they were given (maybe a
# symlink), so compare canonical paths.
in_parts() {
    r=$(readlink -f -- "$1" 2>/dev/null) || return 1
    case $r in /dev/*) ;; *) return 1 ;; esac
    for n in $parts; do
        [ "$r" = "/dev/$n" ] && return 0
    done
    return 1
}

while read -r src mnt _rest; do
    case $src in /*) ;; *) continue ;; esac
    if in_parts "$src"; then
        refuse "$dev is in use: $src is mounted on $mnt; unmount it first (this script never erases a mounted disk)."
    fi
done </proc/mounts

if [ -r /proc/swaps ]; then
    while read -r src _rest; do
        case $src in /*) ;; *) continue ;; esac
        if in_parts "$src"; then
            refuse "$dev is in use: $src is swap space; run swapoff $src first."
        fi
    done </proc/swaps
fi

# lsblk knows mounts in other namespaces too.  MOUNTPOINTS (util-linux
# 2.37+) lists them all; older versions only have MOUNTPOINT.
mounts=$(lsblk -n -l -o MOUNTPOINTS "$real" 2>/dev/null) ||
    mounts=$(lsblk -n -l -o MOUNTPOINT "$real" 2>/dev/null)
mounts=$(printf '%s\n' "$mounts" | sed '/^[[:space:]]*$/d')
case $mounts in
*'[SWAP]'*) refuse "$dev is in use: one of its partitions is swap space; run swapoff first." ;;
?*) refuse "$dev is in use: mounted on $(printf '%s' "$mounts" | head -n 1); unmount it first." ;;
esac

# ---- is it a stick, and big enough? ----------------------------------------------

removable=$(cat "$sys/removable" 2>/dev/null)
tran=$(lsblk -n -d -o TRAN "$real" 2>/dev/null)
if [ "$removable" != 1 ] && [ "$tran" != usb ]; then
    refuse "$dev is neither removable nor on USB (removable=${removable:-?}, transport=${tran:-none}); it looks like an internal disk, so it is left alone."
fi

disk_bytes=$(lsblk -n -d -b -o SIZE "$real" 2>/dev/null | tr -d ' ')
img_bytes=$(wc -c <"$img" | tr -d ' ')
case $disk_bytes in
'' | *[!0-9]*) refuse "the size of $dev cannot be read (lsblk said '$disk_bytes')." ;;
0) refuse "$dev has a size of 0: is there a medium in the reader?" ;;
esac
if [ "$disk_bytes" -lt "$img_bytes" ]; then
    refuse "$dev holds $disk_bytes bytes, less than the $img_bytes bytes of $img."
fi

# ---- last word from the user ---------------------------------------------------

echo "About to write $img ($img_bytes bytes) to $dev:"
lsblk -o NAME,SIZE,TYPE,FSTYPE,LABEL,MODEL "$real"
size=$(lsblk -n -d -o SIZE "$real" | tr -d ' ')
model=$(lsblk -n -d -o VENDOR,MODEL "$real" | sed 's/^ *//; s/ *$//; s/  */ /g')
echo "Everything on $real (${size}, ${model:-unknown model}, ${tran:-removable}) will be erased."

if [ "${MMK_USB_YES-}" = 1 ]; then
    echo "MMK_USB_YES=1: not asking for confirmation."
else
    # No terminal (a pipe, a cron job, a test): no confirmation possible.
    if ! (: </dev/tty) 2>/dev/null; then
        refuse "there is no terminal to confirm on; set MMK_USB_YES=1 to write without asking."
    fi
    printf 'Type the device name (%s) to erase it, anything else to stop: ' "$name" >/dev/tty
    answer=
    read -r answer </dev/tty || answer=
    case $answer in
    "$name" | "$real" | "$dev") ;;
    *) refuse "you typed '$answer', not '$name'; nothing was written." ;;
    esac
fi

# ---- write ---------------------------------------------------------------------------

sudo=
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 ||
        refuse "writing to $real needs root, and sudo is not installed."
    sudo=sudo
fi
$sudo dd if="$img" of="$real" bs=4M conv=fsync status=progress ||
    refuse "dd failed while writing $real; the stick may hold a partial image, run make usb again."
sync
echo "Done: $real holds the mmk image.  Boot the PC from it with Secure Boot off."
