#!/bin/sh
# tools/usb.sh must refuse every device that is not a USB stick the user
# confirmed.  This runs it against such devices on this machine (an empty
# DEV, a file, /dev/null, the disk holding /, a partition, internal disks)
# and checks the exit status and the sentence it prints.  Cases whose
# device does not exist here are skipped with a "# skip" comment.
#
# Nothing is ever written to a device:
#   - only devices that must be refused are named;
#   - `dd` and `sudo` are shadowed in PATH by stubs that write nothing and
#     make the case fail if they are ever reached;
#   - MMK_USB_YES is removed from the environment and the script runs in
#     a new session (setsid) without a terminal, so no confirmation can
#     happen even if a check were broken.
# A few cases also put a fake `lsblk` in PATH that calls every device a
# USB stick, to show that the checks lsblk does not drive (/proc/mounts,
# the image size, the terminal) still refuse.
#
# Output: "ok - name" / "not ok - name: reason" per case, then
# "N passed, N failed"; exit status 1 when a case failed.
set -u

here=$(cd "$(dirname "$0")/.." && pwd)
usb=$here/tools/usb.sh
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mmk-usbtest.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

pass=0
fail=0

# ---- stubs ------------------------------------------------------------------

mkdir -p "$tmp/bin" "$tmp/fakebin"
for tool in dd sudo; do
    cat >"$tmp/bin/$tool" <<EOF
#!/bin/sh
echo "$tool \$*" >>"$tmp/reached-$tool"
echo "usb_refusals: $tool was reached; refusing to run it" >&2
exit 97
EOF
    chmod +x "$tmp/bin/$tool"
done

# A fake lsblk: every device is a whole USB disk, unmounted, of
# $FAKE_SIZE bytes.
cat >"$tmp/fakebin/lsblk" <<'EOF'
#!/bin/sh
cols= bytes=0 dev=
while [ $# -gt 0 ]; do
    case $1 in
    -o) cols=$2; shift ;;
    -b) bytes=1 ;;
    -*) ;;
    *) dev=$1 ;;
    esac
    shift
done
size=$FAKE_SIZE
out=
IFS=,
for c in $cols; do
    case $c in
    NAME) v=${dev##*/} ;;
    TYPE) v=disk ;;
    RM) v=1 ;;
    TRAN) v=usb ;;
    SIZE) if [ $bytes = 1 ]; then v=$size; else v=1G; fi ;;
    VENDOR) v=Fake ;;
    MODEL) v=Stick ;;
    *) v= ;;
    esac
    out="$out${out:+ }$v"
done
echo "$out"
EOF
chmod +x "$tmp/fakebin/lsblk"

# A small stand-in for build/esp.img, so the test needs no build.
img=$tmp/esp.img
dd if=/dev/zero of="$img" bs=1024 count=2048 2>/dev/null
# (that was the real dd, writing a file in our temporary directory)

# ---- running one case ---------------------------------------------------------

# run_case NAME EXPECTED-STATUS PATTERN DEV [IMG] [fake]
# Runs tools/usb.sh DEV IMG; the case passes when the status is the one
# expected (or any non-zero status for "nz"), stderr matches the
# extended regular expression PATTERN, and no stub was reached.
# With "fake", the fake lsblk answers, with a disk of $fake_size bytes.
fake_size=1073741824
run_case() {
    name=$1 want=$2 pattern=$3 dev=$4 image=${5-$img} fake=${6-}
    path=$tmp/bin:$PATH
    [ "$fake" = fake ] && path=$tmp/fakebin:$path
    rm -f "$tmp"/reached-*
    set -- env -u MMK_USB_YES PATH="$path" FAKE_SIZE="$fake_size"
    command -v setsid >/dev/null 2>&1 && set -- "$@" setsid -w
    "$@" sh "$usb" "$dev" "$image" </dev/null >"$tmp/out" 2>"$tmp/err"
    status=$?
    msg=$(grep '^usb: ' "$tmp/err" | tail -n 1)
    why=
    if ls "$tmp"/reached-* >/dev/null 2>&1; then
        why="reached $(cat "$tmp"/reached-* | head -n 1)"
    elif [ "$status" -eq 0 ]; then
        why="exit status 0: the device was not refused"
    elif [ "$want" != nz ] && [ "$status" -ne "$want" ]; then
        why="exit status $status, expected $want"
    elif ! grep -Eq "$pattern" "$tmp/err"; then
        why="message '$(tr '\n' ' ' <"$tmp/err")' does not match /$pattern/"
    fi
    if [ -z "$why" ]; then
        pass=$((pass + 1))
        echo "ok - $name"
        echo "#   $msg"
    else
        fail=$((fail + 1))
        echo "not ok - $name: $why"
    fi
}

skip() {
    echo "# skip $1: $2"
}

# ---- the cases ---------------------------------------------------------------------

run_case no-device 2 'no device given' ''
run_case missing-image 1 'does not exist; run make first' /dev/null "$tmp/no-such.img"
echo "not a disk" >"$tmp/file"
run_case regular-file 1 'is not a block device' "$tmp/file"
run_case dev-null 1 'is not a block device' /dev/null
run_case missing-device 1 'does not exist' /dev/mmk-no-such-disk

# The whole disk under /: mounted, so refused whatever lsblk says.
root_src=$(findmnt -n -o SOURCE / 2>/dev/null)
root_disk=
if [ -n "$root_src" ] && [ -b "$root_src" ]; then
    root_disk=$(lsblk -l -n -s -p -o NAME,TYPE "$root_src" 2>/dev/null |
        awk '$2 == "disk" { print $1; exit }')
fi
if [ -n "$root_disk" ]; then
    run_case root-disk 1 'is in use' "$root_disk"
    run_case root-disk-fake-usb 1 'is in use: .* mounted on' "$root_disk" "$img" fake
else
    skip root-disk "/ is on '${root_src:-?}', not on a block device"
    skip root-disk-fake-usb "/ is not on a block device"
fi

# A partition, the root one when / is on a partition.
part=
case $root_src in /dev/*)
    [ -e "/sys/class/block/${root_src##*/}/partition" ] && part=$root_src ;;
esac
[ -n "$part" ] || part=$(lsblk -l -n -p -o NAME,TYPE 2>/dev/null |
    awk '$2 == "part" { print $1; exit }')
if [ -n "$part" ]; then
    run_case partition 1 'is a partition' "$part"
else
    skip partition "no partition on this machine"
fi

# A block device that is not a disk (an unused loop device, a CD drive).
notdisk=
for d in /dev/loop0 /dev/sr0; do
    if [ -b "$d" ]; then notdisk=$d; break; fi
done
if [ -n "$notdisk" ]; then
    run_case "not-a-disk-${notdisk##*/}" 1 'is not a whole disk' "$notdisk"
else
    skip not-a-disk "no /dev/loop0 or /dev/sr0 here"
fi

# Every internal disk: neither removable nor on USB (and maybe in use).
# One that is not in use serves for the fake-lsblk cases below.
idle_internal=
for d in $(lsblk -d -n -r -o NAME,TYPE,RM,TRAN 2>/dev/null |
    awk '$2 == "disk" && $3 != "1" && $4 != "usb" { print "/dev/" $1 }'); do
    [ -b "$d" ] || continue
    run_case "internal-disk-${d##*/}" 1 'neither removable nor on USB|is in use' "$d"
    if grep -q 'neither removable nor on USB' "$tmp/err"; then
        [ -n "$idle_internal" ] || idle_internal=$d
    fi
done

if [ -n "$idle_internal" ]; then
    fake_size=1048576
    run_case fake-usb-too-small 1 'less than the' "$idle_internal" "$img" fake
    fake_size=1073741824
    run_case fake-usb-no-terminal 1 'no terminal to confirm' \
        "$idle_internal" "$img" fake
else
    skip fake-usb-too-small "no internal disk that is not in use"
    skip fake-usb-no-terminal "no internal disk that is not in use"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
