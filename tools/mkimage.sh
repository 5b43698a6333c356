#!/bin/sh
# Make a GPT disk image with one EFI system partition (FAT32), without
# root or loop devices: sgdisk writes the partition table into the file,
# mtools formats and fills the partition at its byte offset.
#
#   mkimage.sh OUT.img BOOTX64.EFI kernel.elf initrd.cpio cmdline.txt
#
# Any of the boot/ files may be given as "-" to leave it out (the tests
# use that to check the loader's error messages).
set -eu
out=$1 efi=$2 kernel=$3 initrd=$4 cmdline=$5

size_mib=64
start=2048                          # first sector of the ESP (1 MiB)
tmp=$out.tmp
rm -f "$tmp"
truncate -s ${size_mib}M "$tmp"
sgdisk --clear --new=1:$start:0 --typecode=1:ef00 --change-name=1:"EFI system" \
    "$tmp" >/dev/null
# The partition's size in sectors, as sgdisk placed it.
end=$(sgdisk --info=1 "$tmp" | sed -n 's/^Last sector: \([0-9]*\).*/\1/p')
sectors=$((end - start + 1))
img="$tmp@@$((start * 512))"
export MTOOLS_SKIP_CHECK=1
mformat -i "$img" -F -T $sectors -v MMK ::
mmd -i "$img" ::/EFI ::/EFI/BOOT ::/boot
mcopy -i "$img" "$efi" ::/EFI/BOOT/BOOTX64.EFI
[ "$kernel" = - ] || mcopy -i "$img" "$kernel" ::/boot/kernel.elf
[ "$initrd" = - ] || mcopy -i "$img" "$initrd" ::/boot/initrd.cpio
[ "$cmdline" = - ] || mcopy -i "$img" "$cmdline" ::/boot/cmdline.txt
mv "$tmp" "$out"
